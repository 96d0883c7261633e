//! The home page: departments and the newest products.

use leptos::prelude::*;
use leptos_meta::Meta;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::error_pages::PageError;
use crate::shop::{CardView, ProductGrid};

#[cfg(feature = "ssr")]
mod server;

/// A department tile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentTile {
    pub name: String,
    pub slug: String,
    pub product_count: i64,
}

/// Everything the home page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub shop_name: String,
    pub departments: Vec<DepartmentTile>,
    pub featured: Vec<CardView>,
    pub new_arrivals: Vec<CardView>,
}

/// Loads the home page.
#[server(endpoint = "home")]
pub async fn get_home() -> Result<HomeData, AppError> {
    server::get_home().await
}

/// `/`
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_home());
    view! {
        <crate::components::PageTitle text="" />
        <Meta name="description" content="Everyday goods for home, garden, work and play, delivered fast." />
        <Suspense fallback=|| view! { <p class="text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(data) => view! { <HomeView data /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HomeView(data: HomeData) -> impl IntoView {
    view! {
        <section class="rounded-2xl bg-stone-900 px-6 py-12 text-white sm:px-12" aria-labelledby="hero-title">
            <h1 id="hero-title" class="text-3xl font-bold tracking-tight sm:text-4xl">
                {format!("Welcome to {}", data.shop_name)}
            </h1>
            <p class="mt-3 max-w-xl text-stone-300">
                "Well-made things for the kitchen, the garden, the desk and the trail. Free returns within 30 days."
            </p>
        </section>

        <section class="mt-12" aria-labelledby="departments-title">
            <h2 id="departments-title" class="text-xl font-semibold tracking-tight">"Shop by department"</h2>
            <ul class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
                {data
                    .departments
                    .into_iter()
                    .map(|d| {
                        view! {
                            <li>
                                <a
                                    href=format!("/c/{}", d.slug)
                                    class="card block p-4 hover:border-stone-400 focus-ring"
                                >
                                    <span class="block font-medium">{d.name}</span>
                                    <span class="mt-1 block text-sm text-stone-500">
                                        {format!("{} products", d.product_count)}
                                    </span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>

        {(!data.featured.is_empty()).then(|| view! {
            <section class="mt-12" aria-labelledby="featured-title">
                <h2 id="featured-title" class="text-xl font-semibold tracking-tight">"Featured"</h2>
                <div class="mt-4"><ProductGrid products=data.featured testid="featured" /></div>
            </section>
        })}

        <section class="mt-12" aria-labelledby="new-title">
            <h2 id="new-title" class="text-xl font-semibold tracking-tight">"New arrivals"</h2>
            {if data.new_arrivals.is_empty() {
                view! { <p class="mt-4 text-stone-600">"New products are on their way."</p> }.into_any()
            } else {
                view! { <div class="mt-4"><ProductGrid products=data.new_arrivals testid="new-arrivals" /></div> }
                    .into_any()
            }}
        </section>
    }
}
