//! The server side of a product page: the product, its variants and stock, and related
//! products, from the catalog.

use super::{ProductPage, VariantChoice};
use crate::components::humanize;
use crate::error::AppError;
use crate::image::from_catalog;
use crate::shop::Crumb;
use crate::shop::views::{card, stock};
use crate::ssr::server_context;

pub(super) async fn get_product(
    slug: String,
    variant: Option<String>,
) -> Result<ProductPage, AppError> {
    let ctx = server_context()?;
    let product = ctx
        .catalog
        .product_by_slug(&slug)
        .await?
        .filter(|p| p.status == catalog::ProductStatus::Active)
        .ok_or(AppError::NotFound)?;
    let active: Vec<&catalog::Variant> = product.active_variants().collect();
    let selected = variant
        .as_deref()
        .and_then(|sku| active.iter().find(|v| v.sku == sku))
        .or_else(|| active.iter().find(|v| v.available() > 0))
        .or_else(|| active.first())
        .copied()
        .ok_or(AppError::NotFound)?;
    let mut viewed =
        analytics::Noted::product_view(product.id.as_str(), product.vendor_id.as_deref());
    viewed.category_id = Some(product.category_id.as_str().to_owned());
    crate::ssr::note_event(&viewed);
    let tree = ctx.catalog.tree().await?;
    let mut crumbs: Vec<Crumb> = tree
        .path(&product.category_id)
        .into_iter()
        .map(|c| Crumb {
            name: c.name.clone(),
            href: format!("/c/{}", c.slug),
        })
        .collect();
    crumbs.push(Crumb {
        name: product.name.clone(),
        href: format!("/p/{}", product.slug),
    });
    let related = ctx
        .catalog
        .related(&product, 4)
        .await?
        .into_iter()
        .map(card)
        .collect();
    let base = &ctx.shop.base_url;
    let canonical = format!("{base}/p/{}", product.slug);
    let plain = catalog::markdown::plain_text(&product.description);
    let meta_description = product
        .seo_description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| catalog::markdown::excerpt(&plain, 160));
    let og_image = product
        .images
        .first()
        .map(|i| format!("{base}{}", i.url(1280)));
    let in_stock = selected.available() > 0;
    let json_ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "sku": selected.sku,
        "description": plain,
        "brand": { "@type": "Brand", "name": product.brand },
        "image": product.images.iter().map(|i| format!("{base}{}", i.url(1280))).collect::<Vec<_>>(),
        "offers": active.iter().map(|v| serde_json::json!({
            "@type": "Offer",
            "sku": v.sku,
            "price": v.price.to_decimal_string(),
            "priceCurrency": v.price.currency().code(),
            "availability": if v.available() > 0 { "https://schema.org/InStock" } else { "https://schema.org/OutOfStock" },
            "url": format!("{canonical}?variant={}", crate::url::urlencode(&v.sku)),
        })).collect::<Vec<_>>(),
    })
    .to_string()
    // Never let the data close the script element it sits in.
    .replace('<', "\\u003c")
    .replace('>', "\\u003e")
    .replace('&', "\\u0026");
    Ok(ProductPage {
        variants: active
            .iter()
            .map(|v| VariantChoice {
                id: v.id.as_str().to_owned(),
                sku: v.sku.clone(),
                label: v.label(),
                price: v.price.to_string(),
                stock: stock(v.available(), v.low_stock_threshold),
                selected: v.id == selected.id,
            })
            .collect(),
        variant_id: selected.id.as_str().to_owned(),
        sku: selected.sku.clone(),
        price: selected.price.to_string(),
        compare_at: selected.compare_at.map(|c| c.to_string()),
        stock: stock(selected.available(), selected.low_stock_threshold),
        max_quantity: selected.available().clamp(if in_stock { 1 } else { 0 }, 99),
        attributes: product
            .attributes
            .iter()
            .chain(selected.options.iter())
            .map(|(k, v)| (humanize(k), v.clone()))
            .collect(),
        images: product.images.iter().map(from_catalog).collect(),
        name: product.name,
        slug: product.slug,
        brand: product.brand,
        description_html: product.description_html,
        meta_description,
        canonical,
        crumbs,
        og_image,
        related,
        json_ld,
    })
}
