//! `/p/{slug}`: the product page. Variants are picked with a plain GET form
//! (`?variant=SKU`), so the page works without JavaScript and each variant has its own URL.

use leptos::prelude::*;
use leptos_meta::{Link, Meta};
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_params_map};
use serde::{Deserialize, Serialize};

use super::{Breadcrumbs, CardView, Crumb, ProductGrid, StockView};
use crate::error::AppError;
use crate::error_pages::PageError;
use crate::image::{ImageView, NoImage, ProductImage};

#[cfg(feature = "ssr")]
mod server;

/// A variant choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantChoice {
    pub id: String,
    pub sku: String,
    pub label: String,
    pub price: String,
    pub stock: StockView,
    pub selected: bool,
}

/// Everything a product page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPage {
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub description_html: String,
    pub meta_description: String,
    pub canonical: String,
    pub crumbs: Vec<Crumb>,
    pub images: Vec<ImageView>,
    /// Absolute URL of the first image, for link previews.
    pub og_image: Option<String>,
    pub variants: Vec<VariantChoice>,
    /// The selected variant.
    pub variant_id: String,
    pub sku: String,
    pub price: String,
    pub compare_at: Option<String>,
    pub stock: StockView,
    pub max_quantity: i64,
    pub attributes: Vec<(String, String)>,
    pub related: Vec<CardView>,
    /// schema.org `Product` as JSON (already safe to place in a script element).
    pub json_ld: String,
}

/// Loads a product page. `variant` is a SKU from the URL; unknown ones fall back to the
/// first variant in stock.
#[server(endpoint = "catalog/product")]
pub async fn get_product(slug: String, variant: Option<String>) -> Result<ProductPage, AppError> {
    server::get_product(slug, variant).await
}

/// `/p/{slug}`
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let page = Resource::new(
        move || {
            let variant = crate::url::query_value(&location.search.get(), "variant");
            (params.read().get("slug").unwrap_or_default(), variant)
        },
        |(slug, variant)| get_product(slug, variant),
    );
    view! {
        <Transition fallback=|| view! { <p class="text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <ProductView data /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ProductView(data: ProductPage) -> impl IntoView {
    let ProductPage {
        name,
        slug,
        brand,
        description_html,
        meta_description,
        canonical,
        crumbs,
        images,
        og_image,
        variants,
        variant_id,
        sku,
        price,
        compare_at,
        stock,
        max_quantity,
        attributes,
        related,
        json_ld,
    } = data;
    let purchasable = !matches!(stock, StockView::OutOfStock);
    let show_picker = variants.len() > 1;
    view! {
        <crate::components::PageTitle text=name.clone() />
        <Meta name="description" content=meta_description.clone() />
        <Link rel="canonical" href=canonical.clone() />
        <Meta property="og:type" content="product" />
        <Meta property="og:title" content=name.clone() />
        <Meta property="og:description" content=meta_description />
        <Meta property="og:url" content=canonical />
        {og_image.map(|src| view! { <Meta property="og:image" content=src /> })}
        <script type="application/ld+json" inner_html=json_ld></script>
        <Breadcrumbs crumbs />
        <article class="mt-6 grid gap-10 lg:grid-cols-2" data-testid="product">
            <Gallery images name=name.clone() />
            <div>
                <p class="text-sm uppercase tracking-wide text-stone-500">{brand}</p>
                <h1 class="mt-1 text-3xl font-bold tracking-tight" data-testid="product-name">{name}</h1>
                <p class="mt-4 text-2xl font-semibold" data-testid="price">
                    {price}
                    {compare_at.map(|c| view! {
                        " " <s class="text-lg font-normal text-stone-500"><span class="sr-only">"was "</span>{c}</s>
                    })}
                </p>
                <p class=stock.class() data-testid="stock">{stock.label()}</p>
                <p class="mt-1 text-xs text-stone-500">"SKU " <span data-testid="sku">{sku}</span></p>
                {show_picker.then(|| view! {
                    <Form method="GET" action=format!("/p/{slug}") noscroll=true replace=true attr:class="mt-6" attr:data-testid="variant-form">
                        <crate::components::SubmitOnChange>
                        <fieldset>
                            <legend class="text-sm font-semibold">"Choose an option"</legend>
                            <div class="mt-2 flex flex-wrap gap-2">
                                {variants.into_iter().map(|v| {
                                    let id = format!("variant-{}", v.sku);
                                    view! {
                                        <div>
                                            <input type="radio" name="variant" id=id.clone() value=v.sku checked=v.selected class="peer sr-only" />
                                            <label
                                                for=id
                                                class="block cursor-pointer rounded-lg border border-stone-300 px-3 py-2 text-sm peer-checked:border-stone-900 peer-checked:ring-2 peer-checked:ring-stone-900 peer-focus-visible:ring-2 peer-focus-visible:ring-amber-500"
                                            >
                                                <span class="font-medium">{v.label}</span>
                                                <span class="block text-xs text-stone-500">
                                                    {format!("{} · {}", v.price, v.stock.label())}
                                                </span>
                                            </label>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                        </fieldset>
                        </crate::components::SubmitOnChange>
                        <noscript><button type="submit" class="btn btn-secondary mt-3">"Show this option"</button></noscript>
                    </Form>
                })}
                <crate::cart::AddToCartForm variant_id max_quantity purchasable />
                <div class="prose prose-stone mt-8 max-w-none" data-testid="description" inner_html=description_html></div>
                {(!attributes.is_empty()).then(|| view! {
                    <h2 class="mt-8 text-lg font-semibold">"Details"</h2>
                    <dl class="mt-2 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1 text-sm">
                        {attributes.into_iter().map(|(k, v)| view! {
                            <dt class="text-stone-500">{k}</dt>
                            <dd>{v}</dd>
                        }).collect_view()}
                    </dl>
                })}
            </div>
        </article>
        {(!related.is_empty()).then(|| view! {
            <section class="mt-16" aria-labelledby="related-title">
                <h2 id="related-title" class="text-xl font-semibold tracking-tight">"You may also like"</h2>
                <div class="mt-4"><ProductGrid products=related testid="related" /></div>
            </section>
        })}
    }
}

#[component]
fn Gallery(images: Vec<ImageView>, name: String) -> impl IntoView {
    let mut images = images.into_iter();
    let Some(main) = images.next() else {
        return view! { <div class="aspect-square"><NoImage name /></div> }.into_any();
    };
    let rest: Vec<ImageView> = images.collect();
    view! {
        <div data-testid="gallery">
            <ProductImage img=main sizes="(min-width: 1024px) 560px, 100vw" width=640 high_priority=true rounded="rounded-xl" />
            {(!rest.is_empty()).then(|| view! {
                <ul class="mt-3 grid grid-cols-4 gap-3">
                    {rest.into_iter().map(|img| view! {
                        <li><ProductImage img sizes="140px" width=320 lazy=true /></li>
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}
