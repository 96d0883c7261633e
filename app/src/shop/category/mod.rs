//! `/c/{slug}`: a category's products with filters, sorting and pagination.

use leptos::prelude::*;
use leptos_meta::{Link, Meta};
use leptos_router::hooks::{use_location, use_params_map};
use serde::{Deserialize, Serialize};

use super::listing::{ListingBody, ListingView};
use super::{Breadcrumbs, Crumb};
use crate::error::AppError;
use crate::error_pages::PageError;

#[cfg(feature = "ssr")]
mod server;

/// A sub-category link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubCategory {
    pub name: String,
    pub href: String,
    pub count: i64,
}

/// Everything a category page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryPage {
    pub name: String,
    pub description: String,
    pub canonical: String,
    pub crumbs: Vec<Crumb>,
    pub children: Vec<SubCategory>,
    pub listing: ListingView,
}

/// Loads a category page; `query` is the page's query string (filters, sort, page).
#[server(endpoint = "catalog/category")]
pub async fn get_category(slug: String, query: String) -> Result<CategoryPage, AppError> {
    server::get_category(slug, query).await
}

/// `/c/{slug}`
#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let page = Resource::new(
        move || {
            (
                params.read().get("slug").unwrap_or_default(),
                location.search.get(),
            )
        },
        |(slug, query)| get_category(slug, query),
    );
    view! {
        <Transition fallback=|| view! { <p class="text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <CategoryView data /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CategoryView(data: CategoryPage) -> impl IntoView {
    let description = if data.description.is_empty() {
        format!(
            "Shop {} online: {} products.",
            data.name, data.listing.total
        )
    } else {
        data.description.clone()
    };
    view! {
        <crate::components::PageTitle text=data.name.clone() />
        <Meta name="description" content=description />
        <Link rel="canonical" href=data.canonical.clone() />
        <Meta property="og:title" content=data.name.clone() />
        <Meta property="og:url" content=data.canonical />
        <Breadcrumbs crumbs=data.crumbs />
        <h1 class="mt-4 text-3xl font-bold tracking-tight" data-testid="page-title">{data.name}</h1>
        {(!data.description.is_empty()).then(|| view! { <p class="mt-2 max-w-2xl text-stone-600">{data.description}</p> })}
        {(!data.children.is_empty()).then(|| view! {
            <nav aria-label="Sub-categories" class="mt-4">
                <ul class="flex flex-wrap gap-2">
                    {data.children.into_iter().map(|c| view! {
                        <li>
                            <a href=c.href class="inline-block rounded-full border border-stone-300 px-3 py-1 text-sm hover:border-stone-500 focus-ring">
                                {c.name} <span class="text-stone-500">{format!(" ({})", c.count)}</span>
                            </a>
                        </li>
                    }).collect_view()}
                </ul>
            </nav>
        })}
        <ListingBody listing=data.listing />
    }
}
