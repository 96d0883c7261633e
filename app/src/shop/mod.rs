//! The shop's browsing pages: category listings, search and product pages, and the parts
//! they share (product cards, the filter sidebar, sorting and pagination).
//!
//! Listings keep their whole state in the URL (`?brand=..&attr=colour:Red&min=10&sort=..&page=2`)
//! so every view is shareable and works as plain links and GET forms with JavaScript off.
//! With JavaScript on, the router turns the same links and forms into client-side
//! navigation, so filtering and paging update the page without a full reload.

pub mod category;
pub mod listing;
pub mod product;
pub mod search;
#[cfg(feature = "ssr")]
pub(crate) mod views;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::image::{ImageView, NoImage, ProductImage};

/// Stock as the shopper sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockView {
    InStock,
    Low(i64),
    OutOfStock,
}

impl StockView {
    pub fn label(self) -> String {
        match self {
            StockView::InStock => "In stock".to_owned(),
            StockView::Low(n) => format!("Only {n} left"),
            StockView::OutOfStock => "Out of stock".to_owned(),
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            StockView::InStock => "text-sm text-emerald-700",
            StockView::Low(_) => "text-sm font-medium text-amber-700",
            StockView::OutOfStock => "text-sm text-stone-500",
        }
    }
}

/// A product card. Prices are formatted on the server from integer minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardView {
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub price: String,
    /// True when variants differ in price: "from €12.00".
    pub from: bool,
    pub compare_at: Option<String>,
    pub stock: StockView,
    pub image: Option<ImageView>,
    /// The variant an "Add to cart" button on the card adds: set for an in-stock product
    /// with a single variant (others need options chosen on the product page).
    pub quick_add: Option<String>,
}

/// A link in a breadcrumb trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crumb {
    pub name: String,
    pub href: String,
}

/// A product card in a grid.
#[component]
pub fn ProductCard(product: CardView, #[prop(optional)] eager: bool) -> impl IntoView {
    let href = format!("/p/{}", product.slug);
    // Every card ends the same way: price, stock, then one action. A product with a single
    // variant in stock is added from the card; one with options is chosen on its page.
    let in_stock = !matches!(product.stock, StockView::OutOfStock);
    let action = match product.quick_add {
        Some(variant_id) => view! {
            <crate::cart::AddToCartForm variant_id compact=true product_name=product.name.clone() />
        }
        .into_any(),
        None => {
            let (label, testid) = if in_stock {
                ("Choose options", "choose-options")
            } else {
                ("View product", "view-product")
            };
            view! {
                <div class="relative z-10 mt-2">
                    <a
                        href=href.clone()
                        class="btn btn-secondary w-full py-1.5"
                        data-testid=testid
                        aria-label=format!("{label}: {}", product.name)
                    >
                        {label}
                    </a>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <li class="card group relative flex flex-col p-3" data-testid="product-card">
            {match product.image {
                Some(img) => view! {
                    <ProductImage
                        img
                        sizes="(min-width: 1024px) 220px, (min-width: 640px) 30vw, 45vw"
                        width=320
                        lazy=!eager
                    />
                }.into_any(),
                None => view! { <NoImage name=product.name.clone() /> }.into_any(),
            }}
            <p class="mt-3 text-xs uppercase tracking-wide text-stone-500">{product.brand}</p>
            <h3 class="mt-1 text-sm font-medium leading-snug">
                <a href=href class="focus-ring after:absolute after:inset-0 hover:underline">
                    {product.name}
                </a>
            </h3>
            <div class="mt-auto pt-2">
                <p>
                    {product.from.then_some(view! { <span class="text-sm text-stone-500">"from "</span> })}
                    <span class="font-semibold">{product.price}</span>
                    {product.compare_at.map(|c| view! {
                        " " <s class="text-sm text-stone-500"><span class="sr-only">"was "</span>{c}</s>
                    })}
                </p>
                <p class=product.stock.class()>{product.stock.label()}</p>
                {action}
            </div>
        </li>
    }
}

/// A grid of product cards.
#[component]
pub fn ProductGrid(
    products: Vec<CardView>,
    #[prop(optional, into)] testid: String,
) -> impl IntoView {
    let testid = if testid.is_empty() {
        "product-grid".to_owned()
    } else {
        testid
    };
    view! {
        <ul class="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4" data-testid=testid>
            {products
                .into_iter()
                .enumerate()
                .map(|(i, p)| view! { <ProductCard product=p eager=i < 4 /> })
                .collect_view()}
        </ul>
    }
}

/// A breadcrumb trail; the last entry is the current page.
#[component]
pub fn Breadcrumbs(crumbs: Vec<Crumb>) -> impl IntoView {
    let last = crumbs.len().saturating_sub(1);
    view! {
        <nav aria-label="Breadcrumb" class="text-sm text-stone-600">
            <ol class="flex flex-wrap items-center gap-1">
                <li><a href="/" class="hover:underline focus-ring">"Home"</a></li>
                {crumbs
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| view! {
                        <li aria-hidden="true">"/"</li>
                        <li>
                            {if i == last {
                                view! { <span aria-current="page" class="text-stone-900">{c.name}</span> }.into_any()
                            } else {
                                view! { <a href=c.href class="hover:underline focus-ring">{c.name}</a> }.into_any()
                            }}
                        </li>
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
