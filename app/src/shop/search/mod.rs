//! `/search?q=...`: full-text search with the same filters and sorts as category pages, a
//! helpful page when nothing matches, and type-ahead suggestions for the header search box.

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

use super::listing::{ListingBody, ListingView};
use crate::error::AppError;
use crate::error_pages::PageError;

#[cfg(feature = "ssr")]
mod server;

/// A suggested search or category when nothing matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub label: String,
    pub href: String,
}

/// What the search page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// What the shopper typed.
    pub query: String,
    /// None when the query had no searchable words.
    pub listing: Option<ListingView>,
    /// The results match the last word as a prefix, not as typed.
    pub used_prefix: bool,
    /// Shorter searches that find something.
    pub fewer_words: Vec<Suggestion>,
    /// Departments to browse instead.
    pub departments: Vec<Suggestion>,
}

/// Runs a search; `query` is the page's query string (`q`, filters, sort, page).
#[server(endpoint = "catalog/search")]
pub async fn search_products(query: String) -> Result<SearchPage, AppError> {
    server::search_products(query).await
}

/// A type-ahead suggestion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeAhead {
    pub name: String,
    pub href: String,
}

/// Product names matching what has been typed so far (words as prefixes).
#[server(endpoint = "catalog/suggest")]
pub async fn suggest(q: String) -> Result<Vec<TypeAhead>, AppError> {
    server::suggest(q).await
}

/// `/search`
#[component]
pub fn SearchPage() -> impl IntoView {
    let location = use_location();
    let page = Resource::new(move || location.search.get(), search_products);
    view! {
        <Transition fallback=|| view! { <p class="text-stone-500">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <SearchView data /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SearchView(data: SearchPage) -> impl IntoView {
    let SearchPage {
        query,
        listing,
        used_prefix,
        fewer_words,
        departments,
    } = data;
    let title = if query.is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {query}")
    };
    let found = listing
        .as_ref()
        .is_some_and(|l| l.total > 0 || !l.active.is_empty());
    view! {
        <crate::components::PageTitle text=title />
        <Meta name="robots" content="noindex, follow" />
        <h1 class="text-3xl font-bold tracking-tight" data-testid="page-title">
            {if query.is_empty() {
                "Search".to_owned()
            } else {
                format!("Results for “{query}”")
            }}
        </h1>
        {used_prefix.then(|| view! {
            <p class="mt-2 text-sm text-stone-600">"Showing products with words that start with what you typed."</p>
        })}
        {match (listing, found) {
            (Some(listing), true) => view! { <ListingBody listing /> }.into_any(),
            _ => view! { <NoResults query fewer_words departments /> }.into_any(),
        }}
    }
}

#[component]
fn NoResults(
    query: String,
    fewer_words: Vec<Suggestion>,
    departments: Vec<Suggestion>,
) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-xl border border-stone-200 bg-white p-6" data-testid="no-results">
            {if query.is_empty() {
                view! { <p class="text-stone-700">"Type what you are looking for: a product, a brand or a SKU."</p> }.into_any()
            } else {
                view! {
                    <p class="text-stone-700">{format!("Nothing matched “{query}”.")}</p>
                    <p class="mt-1 text-sm text-stone-600">"Check the spelling, use fewer words, or try a more general term."</p>
                }.into_any()
            }}
            {(!fewer_words.is_empty()).then(|| view! {
                <h2 class="mt-6 text-sm font-semibold">"Try a shorter search"</h2>
                <ul class="mt-2 flex flex-wrap gap-2" data-testid="search-suggestions">
                    {fewer_words.into_iter().map(|s| view! {
                        <li><a href=s.href class="inline-block rounded-full border border-stone-300 px-3 py-1 text-sm hover:border-stone-500 focus-ring">{s.label}</a></li>
                    }).collect_view()}
                </ul>
            })}
            <h2 class="mt-6 text-sm font-semibold">"Or browse a department"</h2>
            <ul class="mt-2 flex flex-wrap gap-2">
                {departments.into_iter().map(|s| view! {
                    <li><a href=s.href class="inline-block rounded-full bg-stone-100 px-3 py-1 text-sm hover:bg-stone-200 focus-ring">{s.label}</a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}
