//! The server side of the admin catalog: loading the list and the editor, and every save.
//! Each function checks the signed-in editor first; the catalog service decides what that
//! editor may touch.

use super::form::{pairs_text, product_input, variant_input, whole_number};
use super::{
    ImageView, NewProductData, ProductEditor, ProductFields, ProductList, ProductListRow,
    StockLine, VariantFields, VariantView,
};
use crate::error::AppError;
use crate::ssr::{internal, parse_id, redirect_with_flash, require_catalog_editor, server_context};

const PER_PAGE: i64 = 25;

fn is_staff(editor: &catalog::Editor) -> bool {
    editor.access == catalog::Access::Shop
}

fn editor_path(id: &str) -> String {
    format!("/admin/products/{}", crate::url::urlencode(id))
}

pub(super) async fn list_admin_products(
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    low: Option<String>,
    page: Option<String>,
) -> Result<ProductList, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let page = crate::admin::page_number(page.as_deref());
    let query = catalog::products::list::ProductQuery {
        text: q,
        status: status.as_deref().and_then(catalog::ProductStatus::parse),
        category_id: category,
        low_stock: low.as_deref() == Some("1"),
        page: i64::from(page),
        per_page: PER_PAGE,
    };
    let (rows, total) = catalog::products::list::list_products(&ctx.db, &editor, &query).await?;
    let tree = ctx.catalog.tree().await?;
    let vendor_ids: Vec<auth::UserId> = rows.iter().filter_map(|r| r.vendor_id.clone()).collect();
    let vendors = auth::users::emails(&ctx.db, &vendor_ids)
        .await
        .map_err(internal)?;
    let pages = u32::try_from((total.max(1) + PER_PAGE - 1) / PER_PAGE).unwrap_or(1);
    Ok(ProductList {
        rows: rows
            .into_iter()
            .map(|r| ProductListRow {
                id: r.id.as_str().to_owned(),
                category: tree
                    .get(&r.category_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                price: if r.price == r.max_price {
                    r.price.to_string()
                } else {
                    format!("{} – {}", r.price, r.max_price)
                },
                name: r.name,
                slug: r.slug,
                status: r.status.as_str().to_owned(),
                brand: r.brand,
                vendor: r.vendor_id.as_ref().and_then(|v| vendors.get(v).cloned()),
                variants: r.variants,
                available: r.available,
                cover: r.cover,
                updated: r.updated_at.to_human(),
            })
            .collect(),
        total,
        page,
        pages,
        staff: is_staff(&editor),
        categories: crate::admin::categories::category_options(&tree),
    })
}

#[tracing::instrument(skip_all, fields(product.id = %id))]
pub(super) async fn get_product_editor(id: String) -> Result<ProductEditor, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let product: catalog::ProductId = parse_id(&id)?;
    let found = catalog::products::list::product_for_edit(&ctx.db, &editor, &product).await?;
    let p = found.product;
    // Every variant's latest stock changes in one read, and their authors' emails in another.
    let history = catalog::stock::stock_history(&ctx.db, &editor, &product, 20).await?;
    let people: Vec<auth::UserId> = history
        .iter()
        .filter_map(|h| h.actor_id.clone())
        .chain(found.vendor_id.clone())
        .collect();
    let emails = auth::users::emails(&ctx.db, &people)
        .await
        .map_err(internal)?;
    let mut variants = Vec::with_capacity(p.variants.len());
    for v in &p.variants {
        variants.push(VariantView {
            id: v.id.as_str().to_owned(),
            sku: v.sku.clone(),
            options: pairs_text(&v.options, "; "),
            price: v.price.to_decimal_string(),
            compare_at: v
                .compare_at
                .map(|c| c.to_decimal_string())
                .unwrap_or_default(),
            weight: v.weight_grams.map(|w| w.to_string()).unwrap_or_default(),
            threshold: v.low_stock_threshold,
            on_hand: v.on_hand,
            reserved: v.reserved,
            archived: !v.active,
            history: history
                .iter()
                .filter(|h| h.variant_id == v.id)
                .map(|h| StockLine {
                    when: h.at.to_human(),
                    delta: h.delta,
                    reason: h.reason.clone(),
                    note: h.note.clone(),
                    after: h.on_hand_after,
                    actor: h
                        .actor_id
                        .as_ref()
                        .and_then(|a| emails.get(a).cloned())
                        .unwrap_or_else(|| "system".to_owned()),
                })
                .collect(),
        });
    }
    let (history, _) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            target: Some(("product".to_owned(), id.clone())),
            ..Default::default()
        },
        1,
        30,
    )
    .await
    .map_err(internal)?;
    let tree = ctx.catalog.tree().await?;
    let path = format!("/admin/products/{}", crate::url::urlencode(&id));
    let currency = p
        .variants
        .first()
        .map_or(ctx.shop.currency, |v| v.price.currency());
    Ok(ProductEditor {
        id: p.id.as_str().to_owned(),
        fields: ProductFields {
            name: p.name.clone(),
            slug: p.slug.clone(),
            description: p.description.clone(),
            brand: p.brand.clone(),
            category_id: p.category_id.as_str().to_owned(),
            extra: Some(
                p.extra_category_ids
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            ),
            attributes: pairs_text(&p.attributes, "\n"),
            seo_title: p.seo_title.clone().unwrap_or_default(),
            seo_description: p.seo_description.clone().unwrap_or_default(),
            featured: p.featured.then(|| "on".to_owned()),
        },
        status: p.status.as_str().to_owned(),
        currency: currency.code().to_owned(),
        vendor: found
            .vendor_id
            .as_ref()
            .and_then(|v| emails.get(v).cloned()),
        shop_url: format!("/p/{}", p.slug),
        variants,
        images: found
            .images
            .into_iter()
            .map(|i| ImageView {
                url: i.url(320),
                size: format!("{} × {} px", i.width, i.height),
                id: i.id.as_str().to_owned(),
                alt: i.alt,
            })
            .collect(),
        categories: crate::admin::categories::category_options(&tree),
        staff: is_staff(&editor),
        history: history.into_iter().map(crate::admin::audit_row).collect(),
        outcome: crate::admin::catalog_io::take_outcome(&path).await,
    })
}

pub(super) async fn get_new_product() -> Result<NewProductData, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let tree = ctx.catalog.tree().await?;
    Ok(NewProductData {
        categories: crate::admin::categories::category_options(&tree),
        currency: ctx.shop.currency.code().to_owned(),
        staff: is_staff(&editor),
    })
}

#[tracing::instrument(skip_all)]
pub(super) async fn create_product(
    product: ProductFields,
    variants: Option<Vec<VariantFields>>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let input = product_input(&product)?;
    let variants = variants
        .unwrap_or_default()
        .iter()
        .filter(|v| !v.is_blank())
        .map(|v| variant_input(v, ctx.shop.currency))
        .collect::<Result<Vec<_>, _>>()?;
    let id = ctx
        .catalog
        .create_product(&editor, &input, &variants)
        .await?;
    redirect_with_flash(
        &format!("/admin/products/{}", id.as_str()),
        "product_created",
    );
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %id))]
pub(super) async fn save_product(id: String, product: ProductFields) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let input = product_input(&product)?;
    ctx.catalog
        .update_product(&editor, &parse_id(&id)?, &input)
        .await?;
    redirect_with_flash(&editor_path(&id), "product_saved");
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %id, status = %status))]
pub(super) async fn set_product_status(id: String, status: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let status =
        catalog::ProductStatus::parse(&status).ok_or_else(|| AppError::form("Unknown status."))?;
    ctx.catalog
        .set_product_status(&editor, &parse_id(&id)?, status)
        .await?;
    redirect_with_flash(&editor_path(&id), "product_saved");
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %product_id, variant.id = %variant_id))]
pub(super) async fn save_variant(
    product_id: String,
    variant_id: String,
    variant: VariantFields,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let variant_id = parse_id(&variant_id)?;
    let currency = catalog::variants::variant_currency(&ctx.db, &variant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = variant_input(&variant, currency)?;
    ctx.catalog
        .update_variant(&editor, &variant_id, &input)
        .await?;
    redirect_with_flash(&editor_path(&product_id), "variant_saved");
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %product_id))]
pub(super) async fn add_variant(
    product_id: String,
    variant: VariantFields,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let product = parse_id(&product_id)?;
    let currency = catalog::variants::product_currency(&ctx.db, &product)
        .await?
        .unwrap_or(ctx.shop.currency);
    let input = variant_input(&variant, currency)?;
    ctx.catalog.add_variant(&editor, &product, &input).await?;
    redirect_with_flash(&editor_path(&product_id), "variant_saved");
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %product_id, variant.id = %variant_id))]
pub(super) async fn adjust_stock(
    product_id: String,
    variant_id: String,
    delta: String,
    note: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let delta =
        whole_number("delta", delta.trim().trim_start_matches('+'), "The change")?.unwrap_or(0);
    ctx.catalog
        .adjust_stock(&editor, &parse_id(&variant_id)?, delta, &note)
        .await?;
    redirect_with_flash(&editor_path(&product_id), "stock_adjusted");
    Ok(())
}

#[tracing::instrument(skip_all, fields(product.id = %product_id, image.id = %image_id))]
pub(super) async fn change_image(
    product_id: String,
    image_id: String,
    alt: Option<String>,
    move_to: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let image: catalog::ImageId = parse_id(&image_id)?;
    let catalog = &ctx.catalog;
    let result = match move_to.as_deref() {
        Some("earlier") => catalog.move_image(&editor, &image, true).await,
        Some("later") => catalog.move_image(&editor, &image, false).await,
        Some("delete") => catalog.delete_image(&editor, &ctx.images, &image).await,
        _ => {
            let alt = alt.as_deref().unwrap_or_default();
            catalog.set_image_alt(&editor, &image, alt).await
        }
    };
    result?;
    redirect_with_flash(&editor_path(&product_id), "image_saved");
    Ok(())
}
