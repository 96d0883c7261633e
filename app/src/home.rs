//! The home page: departments and the newest products.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::layout::PageError;

/// A department tile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentTile {
    pub name: String,
    pub slug: String,
    pub product_count: i64,
}

/// A product card; the price is formatted on the server from integer minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTile {
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub price: String,
    pub in_stock: bool,
}

/// Everything the home page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub shop_name: String,
    pub departments: Vec<DepartmentTile>,
    pub new_arrivals: Vec<ProductTile>,
}

/// Loads the home page.
#[server(endpoint = "home")]
pub async fn get_home() -> Result<HomeData, AppError> {
    use crate::ssr::{internal, server_context};
    let ctx = server_context()?;
    let departments = catalog::top_categories(&ctx.db)
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|c| c.product_count > 0)
        .map(|c| DepartmentTile {
            name: c.name,
            slug: c.slug,
            product_count: c.product_count,
        })
        .collect();
    let new_arrivals = catalog::newest_products(&ctx.db, 8)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|p| ProductTile {
            name: p.name,
            slug: p.slug,
            brand: p.brand,
            price: p.price.to_string(),
            in_stock: p.in_stock,
        })
        .collect();
    Ok(HomeData {
        shop_name: ctx.shop.name.clone(),
        departments,
        new_arrivals,
    })
}

/// `/`
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="" />
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

        <section class="mt-12" aria-labelledby="new-title">
            <h2 id="new-title" class="text-xl font-semibold tracking-tight">"New arrivals"</h2>
            {if data.new_arrivals.is_empty() {
                view! { <p class="mt-4 text-stone-600">"New products are on their way."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-4 grid grid-cols-2 gap-4 md:grid-cols-4" data-testid="new-arrivals">
                        {data.new_arrivals.into_iter().map(|p| view! { <ProductCard product=p /> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn ProductCard(product: ProductTile) -> impl IntoView {
    view! {
        <li class="card flex flex-col p-4">
            <p class="text-xs uppercase tracking-wide text-stone-500">{product.brand}</p>
            <a href=format!("/p/{}", product.slug) class="mt-1 font-medium hover:underline focus-ring">
                {product.name}
            </a>
            <p class="mt-auto pt-3 font-semibold">{product.price}</p>
            <p class=if product.in_stock { "text-sm text-emerald-700" } else { "text-sm text-stone-500" }>
                {if product.in_stock { "In stock" } else { "Out of stock" }}
            </p>
        </li>
    }
}
