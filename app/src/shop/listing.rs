//! What category and search pages share: the filter sidebar, the sort control, the result
//! grid and pagination. Every link and form here is a plain GET with the full listing state
//! in the URL; the server computes the hrefs, so the browser adds nothing of its own.

use leptos::prelude::*;
use leptos_router::components::Form;
use serde::{Deserialize, Serialize};

use super::{CardView, ProductGrid};
use crate::components::SubmitOnChange;

/// One selectable value of a filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetOption {
    /// The form value (`Nordhavn`, `color:Red`).
    pub value: String,
    pub label: String,
    pub count: i64,
    pub selected: bool,
}

/// An attribute filter group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetGroup {
    pub label: String,
    pub options: Vec<FacetOption>,
}

/// An active filter with a link that removes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveFilter {
    pub label: String,
    pub remove_href: String,
}

/// A page link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageLink {
    pub page: i64,
    pub href: String,
    pub current: bool,
}

/// A listing, ready to render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    /// The path the filter and sort forms submit to.
    pub action: String,
    /// Query parameters that are not filters but must survive a filter change (`q`).
    pub keep: Vec<(String, String)>,
    pub items: Vec<CardView>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Current sort key and every (key, label).
    pub sort: String,
    pub sorts: Vec<(String, String)>,
    pub brands: Vec<FacetOption>,
    pub attributes: Vec<FacetGroup>,
    pub in_stock: bool,
    pub in_stock_count: i64,
    /// The price inputs as the shopper typed them.
    pub min: String,
    pub max: String,
    /// Cheapest and dearest price in the listing, as placeholders.
    pub price_hint: Option<(String, String)>,
    pub currency_symbol: String,
    pub active: Vec<ActiveFilter>,
    pub clear_href: Option<String>,
    /// Hidden inputs for the sort form: the current filters.
    pub filter_params: Vec<(String, String)>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub page_links: Vec<PageLink>,
}

/// The sidebar, toolbar, grid and pagination of a listing.
#[component]
pub fn ListingBody(listing: ListingView) -> impl IntoView {
    let ListingView {
        action,
        keep,
        items,
        total,
        page,
        pages,
        sort,
        sorts,
        brands,
        attributes,
        in_stock,
        in_stock_count,
        min,
        max,
        price_hint,
        currency_symbol,
        active,
        clear_href,
        filter_params,
        prev_href,
        next_href,
        page_links,
    } = listing;
    let sort_action = action.clone();
    let sort_for_filters = sort.clone();
    let keep_for_sort = keep.clone();
    // The listing's price range as a note under the fields, not as placeholder numbers that
    // look like values already entered.
    let range_note = price_hint.map(|(low, high)| {
        format!("Prices here: {currency_symbol}{low} to {currency_symbol}{high}")
    });
    view! {
        <div class="mt-6 grid gap-8 lg:grid-cols-[15rem_1fr]">
            <aside aria-labelledby="filters-title">
                <h2 id="filters-title" class="sr-only">"Filters"</h2>
                <Form method="GET" action=action noscroll=true attr:data-testid="filters">
                    <SubmitOnChange>
                    <div class="space-y-6">
                        {keep
                            .into_iter()
                            .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
                            .collect_view()}
                        <input type="hidden" name="sort" value=sort_for_filters />
                        <fieldset>
                            <legend class="text-sm font-semibold">"Availability"</legend>
                            <label class="mt-2 flex items-center gap-2 text-sm">
                                <input type="checkbox" name="stock" value="1" checked=in_stock class="checkbox" />
                                {format!("In stock only ({in_stock_count})")}
                            </label>
                        </fieldset>
                        <fieldset>
                            <legend class="text-sm font-semibold">"Price"</legend>
                            <div class="mt-2 flex items-center gap-2 text-sm">
                                <label class="sr-only" for="price-min">"Minimum price"</label>
                                <span aria-hidden="true">{currency_symbol.clone()}</span>
                                <input id="price-min" name="min" inputmode="decimal" value=min placeholder="Min" aria-describedby="price-range" class="input w-20 py-1" />
                                <span aria-hidden="true">"–"</span>
                                <label class="sr-only" for="price-max">"Maximum price"</label>
                                <span aria-hidden="true">{currency_symbol}</span>
                                <input id="price-max" name="max" inputmode="decimal" value=max placeholder="Max" aria-describedby="price-range" class="input w-20 py-1" />
                            </div>
                            {range_note.map(|note| view! {
                                <p id="price-range" class="mt-1 text-xs text-stone-500">{note}</p>
                            })}
                        </fieldset>
                        {(!brands.is_empty()).then(|| view! {
                            <FacetFieldset legend="Brand".to_owned() name="brand" options=brands />
                        })}
                        {attributes
                            .into_iter()
                            .map(|g| view! { <FacetFieldset legend=g.label name="attr" options=g.options /> })
                            .collect_view()}
                        <button type="submit" class="btn btn-secondary w-full">"Apply filters"</button>
                    </div>
                    </SubmitOnChange>
                </Form>
            </aside>
            <section aria-labelledby="results-title">
                <div class="flex flex-wrap items-center justify-between gap-3">
                    <h2 id="results-title" class="text-sm text-stone-600" data-testid="result-count">
                        {match total {
                            1 => "1 product".to_owned(),
                            n => format!("{n} products"),
                        }}
                    </h2>
                    <Form method="GET" action=sort_action noscroll=true attr:class="flex items-center gap-2" attr:data-testid="sort-form">
                        {keep_for_sort
                            .into_iter()
                            .chain(filter_params)
                            .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
                            .collect_view()}
                        <label for="sort" class="text-sm text-stone-600">"Sort by"</label>
                        <SubmitOnChange>
                        <select id="sort" name="sort" class="input py-1">
                            {sorts
                                .into_iter()
                                .map(|(key, label)| {
                                    let selected = key == sort;
                                    view! { <option value=key selected=selected>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                        </SubmitOnChange>
                        <noscript><button type="submit" class="btn btn-secondary py-1">"Sort"</button></noscript>
                    </Form>
                </div>
                {(!active.is_empty()).then(|| view! {
                    <ul class="mt-3 flex flex-wrap gap-2" aria-label="Active filters">
                        {active
                            .into_iter()
                            .map(|f| view! {
                                <li>
                                    <a href=f.remove_href class="inline-flex items-center gap-1 rounded-full bg-stone-100 px-3 py-1 text-sm hover:bg-stone-200 focus-ring">
                                        {f.label}
                                        <span aria-hidden="true">"×"</span>
                                        <span class="sr-only">" (remove filter)"</span>
                                    </a>
                                </li>
                            })
                            .collect_view()}
                        {clear_href.map(|href| view! {
                            <li><a href=href class="text-sm text-stone-600 underline focus-ring">"Clear all"</a></li>
                        })}
                    </ul>
                })}
                <div class="mt-4">
                    {if items.is_empty() {
                        view! {
                            <p class="rounded-lg border border-dashed border-stone-300 p-8 text-center text-stone-600" data-testid="no-results">
                                "No products match these filters. Try removing one."
                            </p>
                        }.into_any()
                    } else {
                        view! { <ProductGrid products=items /> }.into_any()
                    }}
                </div>
                {(pages > 1).then(|| view! {
                    <nav aria-label="Pagination" class="mt-8 flex flex-wrap items-center justify-center gap-1 text-sm" data-testid="pagination">
                        {prev_href.map(|h| view! { <a href=h rel="prev" class="btn btn-secondary py-1">"Previous"</a> })}
                        {page_links
                            .into_iter()
                            .map(|l| if l.current {
                                view! { <span aria-current="page" class="rounded bg-stone-900 px-3 py-1 font-semibold text-white">{l.page}</span> }.into_any()
                            } else {
                                view! { <a href=l.href class="rounded px-3 py-1 hover:bg-stone-100 focus-ring">{l.page}</a> }.into_any()
                            })
                            .collect_view()}
                        {next_href.map(|h| view! { <a href=h rel="next" class="btn btn-secondary py-1">"Next"</a> })}
                        <span class="sr-only">{format!("Page {page} of {pages}")}</span>
                    </nav>
                })}
            </section>
        </div>
    }
}

#[component]
fn FacetFieldset(legend: String, name: &'static str, options: Vec<FacetOption>) -> impl IntoView {
    view! {
        <fieldset>
            <legend class="text-sm font-semibold">{legend}</legend>
            <ul class="mt-2 max-h-56 space-y-1 overflow-y-auto pr-1">
                {options
                    .into_iter()
                    .map(|o| view! {
                        <li>
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name=name value=o.value checked=o.selected class="checkbox" />
                                <span class="flex-1">{o.label}</span>
                                <span class="text-xs text-stone-500">{o.count}</span>
                            </label>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
}
