//! The admin catalog: the products list, the new-product form and the product editor (its
//! fields, status, variants, stock with its history, and images). Admins manage every
//! product; a vendor only their own — the catalog service enforces that, and another's
//! product is simply "not found".

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::catalog_io::{OutcomeBanner, UploadOutcome};
use super::categories::CategoryOption;
use super::{AdminFrame, AuditRow, AuditTable, page_href};
use crate::components::{FieldError, FormError};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
use crate::ssr::{
    catalog_error, internal, redirect_with_flash, require_catalog_editor, server_context,
};

#[cfg(feature = "ssr")]
const PER_PAGE: i64 = 25;

/// A row of the products list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductListRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub brand: String,
    pub category: String,
    pub vendor: Option<String>,
    pub variants: i64,
    pub price: String,
    pub available: i64,
    pub cover: Option<String>,
    pub updated: String,
}

/// A page of the products list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductList {
    pub rows: Vec<ProductListRow>,
    pub total: i64,
    pub page: u32,
    pub pages: u32,
    /// Shop staff (not a vendor).
    pub staff: bool,
    pub categories: Vec<CategoryOption>,
}

#[cfg(feature = "ssr")]
fn is_staff(editor: &catalog::manage::Editor) -> bool {
    editor.access == catalog::manage::Access::Shop
}

/// Searches the products the signed-in admin or vendor may manage.
#[server(endpoint = "admin/products")]
pub async fn list_admin_products(
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    low: Option<String>,
    page: Option<String>,
) -> Result<ProductList, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let page = crate::admin::page_number(page.as_deref());
    let query = catalog::admin::ProductQuery {
        text: q,
        status: status.as_deref().and_then(catalog::ProductStatus::parse),
        category_id: category,
        low_stock: low.as_deref() == Some("1"),
        page: i64::from(page),
        per_page: PER_PAGE,
    };
    let (rows, total) = catalog::admin::list_products(&ctx.db, &editor, &query)
        .await
        .map_err(catalog_error)?;
    let tree = ctx.catalog.tree().await.map_err(catalog_error)?;
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
        categories: super::categories::category_options(&tree),
    })
}

/// A variant as its edit form shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantView {
    pub id: String,
    pub sku: String,
    pub options: String,
    pub price: String,
    pub compare_at: String,
    pub weight: String,
    pub threshold: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub archived: bool,
    pub history: Vec<StockLine>,
}

/// One line of a variant's stock history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    pub when: String,
    pub delta: i64,
    pub reason: String,
    pub note: String,
    pub after: Option<i64>,
    pub actor: String,
}

/// An image in the product's gallery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageView {
    pub id: String,
    pub url: String,
    pub alt: String,
    pub size: String,
}

/// Everything the product editor shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductEditor {
    pub id: String,
    pub fields: ProductFields,
    pub status: String,
    pub currency: String,
    pub vendor: Option<String>,
    pub shop_url: String,
    pub variants: Vec<VariantView>,
    pub images: Vec<ImageView>,
    pub categories: Vec<CategoryOption>,
    pub staff: bool,
    pub history: Vec<AuditRow>,
    pub outcome: Option<UploadOutcome>,
}

/// A product's own fields as the form sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFields {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub category_id: String,
    /// Further categories (checkboxes).
    #[serde(default)]
    pub extra: Option<Vec<String>>,
    /// "name: value" per line.
    #[serde(default)]
    pub attributes: String,
    #[serde(default)]
    pub seo_title: String,
    #[serde(default)]
    pub seo_description: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub featured: Option<String>,
}

/// A variant's fields as the form sends them (all text, parsed on the server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantFields {
    #[serde(default)]
    pub sku: String,
    /// "Size: M; Colour: Red"
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub compare_at: String,
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub threshold: String,
    /// Stock on hand for a new variant.
    #[serde(default)]
    pub stock: String,
    #[serde(default)]
    pub archived: Option<String>,
}

#[cfg(feature = "ssr")]
impl VariantFields {
    fn is_blank(&self) -> bool {
        [
            &self.sku,
            &self.options,
            &self.price,
            &self.compare_at,
            &self.weight,
            &self.stock,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }
}

/// Parses "name: value" pairs separated by new lines or `;`.
#[cfg(feature = "ssr")]
fn parse_pairs(field: &str, text: &str) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for part in text.split(['\n', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once(':') else {
            return Err(AppError::field(
                field,
                format!("Write each as name: value (\"{part}\" has no colon)."),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(AppError::field(
                field,
                format!("\"{part}\" needs both a name and a value."),
            ));
        }
        out.push((name.to_owned(), value.to_owned()));
    }
    Ok(out)
}

#[cfg(feature = "ssr")]
fn pairs_text(pairs: &[(String, String)], separator: &str) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(feature = "ssr")]
fn whole_number(field: &str, text: &str, label: &str) -> Result<Option<i64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::field(field, format!("{label} is a whole number, like 12."))),
    }
}

#[cfg(feature = "ssr")]
fn product_input(f: &ProductFields) -> Result<catalog::manage::ProductInput, AppError> {
    Ok(catalog::manage::ProductInput {
        name: f.name.clone(),
        slug: f.slug.clone(),
        description: f.description.clone(),
        brand: f.brand.clone(),
        category_id: f.category_id.clone(),
        extra_category_ids: f.extra.clone().unwrap_or_default(),
        status: None,
        attributes: parse_pairs("attributes", &f.attributes)?,
        seo_title: f.seo_title.clone(),
        seo_description: f.seo_description.clone(),
        featured: f.featured.is_some(),
        vendor_id: None,
    })
}

#[cfg(feature = "ssr")]
fn variant_input(
    v: &VariantFields,
    currency: shop_core::Currency,
) -> Result<catalog::manage::VariantInput, AppError> {
    let price = catalog::manage::parse_price("price", &v.price, currency).map_err(catalog_error)?;
    let compare_at = match v.compare_at.trim() {
        "" => None,
        c => Some(catalog::manage::parse_price("compare_at", c, currency).map_err(catalog_error)?),
    };
    Ok(catalog::manage::VariantInput {
        sku: v.sku.clone(),
        options: parse_pairs("options", &v.options)?,
        price,
        compare_at,
        weight_grams: whole_number("weight", &v.weight, "The weight in grams")?,
        low_stock_threshold: whole_number("threshold", &v.threshold, "The low-stock level")?
            .unwrap_or(5),
        initial_stock: whole_number("stock", &v.stock, "Stock")?.unwrap_or(0),
        archived: v.archived.is_some(),
    })
}

/// Loads a product for its editor.
#[server(endpoint = "admin/product")]
pub async fn get_product_editor(id: String) -> Result<ProductEditor, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let found = catalog::admin::product_for_edit(&ctx.db, &editor, &id)
        .await
        .map_err(catalog_error)?;
    let p = found.product;
    // Every variant's latest stock changes in one read, and their authors' emails in another.
    let history = catalog::manage::stock_history(&ctx.db, &editor, &id, 20)
        .await
        .map_err(catalog_error)?;
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
    let tree = ctx.catalog.tree().await.map_err(catalog_error)?;
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
                id: i.id,
                alt: i.alt,
            })
            .collect(),
        categories: super::categories::category_options(&tree),
        staff: is_staff(&editor),
        history: history.into_iter().map(super::audit_row).collect(),
        outcome: super::catalog_io::take_outcome(&path).await,
    })
}

/// What the new-product form needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProductData {
    pub categories: Vec<CategoryOption>,
    pub currency: String,
    pub staff: bool,
}

#[server(endpoint = "admin/product-new")]
pub async fn get_new_product() -> Result<NewProductData, AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let tree = ctx.catalog.tree().await.map_err(catalog_error)?;
    Ok(NewProductData {
        categories: super::categories::category_options(&tree),
        currency: ctx.shop.currency.code().to_owned(),
        staff: is_staff(&editor),
    })
}

/// Creates a draft product with its variants (rows left blank are ignored), then opens its
/// editor.
#[server(endpoint = "admin/product-create")]
pub async fn create_product(
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
    let id = catalog::manage::create_product(&ctx.db, &ctx.clock, &editor, &input, &variants)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(
        &format!("/admin/products/{}", id.as_str()),
        "product_created",
    );
    Ok(())
}

#[cfg(feature = "ssr")]
fn editor_path(id: &str) -> String {
    format!("/admin/products/{}", crate::url::urlencode(id))
}

/// Saves a product's own fields.
#[server(endpoint = "admin/product-save")]
pub async fn save_product(id: String, product: ProductFields) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let input = product_input(&product)?;
    catalog::manage::update_product(&ctx.db, &ctx.clock, &editor, &id, &input)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&id), "product_saved");
    Ok(())
}

/// Publishes, unpublishes or archives a product.
#[server(endpoint = "admin/product-status")]
pub async fn set_product_status(id: String, status: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let status =
        catalog::ProductStatus::parse(&status).ok_or_else(|| AppError::form("Unknown status."))?;
    catalog::manage::set_product_status(&ctx.db, &ctx.clock, &editor, &id, status)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&id), "product_saved");
    Ok(())
}

/// Saves a variant.
#[server(endpoint = "admin/variant-save")]
pub async fn save_variant(
    product_id: String,
    variant_id: String,
    variant: VariantFields,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let currency = catalog::manage::variant_currency(&ctx.db, &variant_id)
        .await
        .map_err(catalog_error)?
        .ok_or(AppError::NotFound)?;
    let input = variant_input(&variant, currency)?;
    catalog::manage::update_variant(&ctx.db, &ctx.clock, &editor, &variant_id, &input)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&product_id), "variant_saved");
    Ok(())
}

/// Adds a variant.
#[server(endpoint = "admin/variant-add")]
pub async fn add_variant(product_id: String, variant: VariantFields) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let currency = catalog::manage::product_currency(&ctx.db, &product_id)
        .await
        .map_err(catalog_error)?
        .unwrap_or(ctx.shop.currency);
    let input = variant_input(&variant, currency)?;
    catalog::manage::add_variant(&ctx.db, &ctx.clock, &editor, &product_id, &input)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&product_id), "variant_saved");
    Ok(())
}

/// Adds or removes stock with a reason.
#[server(endpoint = "admin/stock-adjust")]
pub async fn adjust_stock(
    product_id: String,
    variant_id: String,
    delta: String,
    note: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let delta =
        whole_number("delta", delta.trim().trim_start_matches('+'), "The change")?.unwrap_or(0);
    catalog::manage::adjust_stock(&ctx.db, &ctx.clock, &editor, &variant_id, delta, &note)
        .await
        .map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&product_id), "stock_adjusted");
    Ok(())
}

/// Changes an image's alt text, moves it (`move_to = "earlier" | "later"`) or deletes it
/// (`move_to = "delete"`).
#[server(endpoint = "admin/image")]
pub async fn change_image(
    product_id: String,
    image_id: String,
    alt: Option<String>,
    move_to: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let editor = require_catalog_editor().await?;
    let result = match move_to.as_deref() {
        Some("earlier") => {
            catalog::images::move_image(&ctx.db, &ctx.clock, &editor, &image_id, true).await
        }
        Some("later") => {
            catalog::images::move_image(&ctx.db, &ctx.clock, &editor, &image_id, false).await
        }
        Some("delete") => {
            catalog::images::delete_image(&ctx.db, &ctx.clock, &editor, &ctx.images, &image_id)
                .await
        }
        _ => {
            catalog::images::set_alt(
                &ctx.db,
                &ctx.clock,
                &editor,
                &image_id,
                alt.as_deref().unwrap_or_default(),
            )
            .await
        }
    };
    result.map_err(catalog_error)?;
    ctx.catalog.changed();
    redirect_with_flash(&editor_path(&product_id), "image_saved");
    Ok(())
}

fn status_badge(status: &str) -> &'static str {
    match status {
        "active" => "rounded bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-900",
        "draft" => "rounded bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900",
        _ => "rounded bg-stone-200 px-2 py-0.5 text-xs font-medium text-stone-700",
    }
}

/// `/admin/products`
#[component]
pub fn AdminProductsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("q"),
            q.get("status"),
            q.get("category"),
            q.get("low"),
            q.get("page"),
        )
    };
    let data = Resource::new(params, |(q, status, category, low, page)| {
        list_admin_products(q, status, category, low, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (q, status, category, low, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filters = [("q", q.clone()), ("status", status.clone()), ("category", category.clone()), ("low", low.clone())];
                        let prev = (p.page > 1).then(|| page_href("/admin/products", &filters, p.page - 1));
                        let next = (p.page < p.pages).then(|| page_href("/admin/products", &filters, p.page + 1));
                        let selected = |current: &Option<String>, v: &str| current.as_deref() == Some(v);
                        let title = if p.staff { "Products" } else { "Your products" };
                        view! {
                            <AdminFrame title=title staff=p.staff>
                                <div class="flex flex-wrap items-end justify-between gap-3">
                                    <form method="get" action="/admin/products" class="flex flex-wrap items-end gap-3" role="search">
                                        <div>
                                            <label for="products-q" class="block text-sm font-medium">"Name, brand or SKU"</label>
                                            <input id="products-q" type="search" name="q" value=q.clone().unwrap_or_default() class="input mt-1 w-56" />
                                        </div>
                                        <div>
                                            <label for="products-status" class="block text-sm font-medium">"Status"</label>
                                            <select id="products-status" name="status" class="input mt-1">
                                                <option value="">"Any"</option>
                                                <option value="active" selected=selected(&status, "active")>"Active"</option>
                                                <option value="draft" selected=selected(&status, "draft")>"Draft"</option>
                                                <option value="archived" selected=selected(&status, "archived")>"Archived"</option>
                                            </select>
                                        </div>
                                        <div>
                                            <label for="products-category" class="block text-sm font-medium">"Category"</label>
                                            <select id="products-category" name="category" class="input mt-1 max-w-xs">
                                                <option value="">"Any"</option>
                                                {p.categories.iter().map(|c| view! {
                                                    <option value=c.id.clone() selected=selected(&category, &c.id)>{c.path.clone()}</option>
                                                }).collect_view()}
                                            </select>
                                        </div>
                                        <label class="flex items-center gap-2 pb-2 text-sm">
                                            <input type="checkbox" name="low" value="1" checked=selected(&low, "1") />
                                            "Low on stock"
                                        </label>
                                        <button type="submit" class="btn btn-secondary">"Filter"</button>
                                    </form>
                                    <a href="/admin/products/new" class="btn btn-primary" data-testid="new-product">"New product"</a>
                                </div>
                                <p class="text-sm text-stone-600" data-testid="products-total">{format!("{} product{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                                <div class="overflow-x-auto rounded-lg border border-stone-200 bg-white">
                                    <table class="min-w-full text-left text-sm" data-testid="admin-products">
                                        <thead class="bg-stone-50 text-xs uppercase tracking-wide text-stone-600">
                                            <tr>
                                                <th scope="col" class="px-3 py-2"><span class="sr-only">"Image"</span></th>
                                                <th scope="col" class="px-3 py-2">"Product"</th>
                                                <th scope="col" class="px-3 py-2">"Status"</th>
                                                <th scope="col" class="px-3 py-2">"Category"</th>
                                                <th scope="col" class="px-3 py-2">"Price"</th>
                                                <th scope="col" class="px-3 py-2">"Available"</th>
                                                {p.staff.then(|| view! { <th scope="col" class="px-3 py-2">"Vendor"</th> })}
                                                <th scope="col" class="px-3 py-2">"Updated"</th>
                                            </tr>
                                        </thead>
                                        <tbody class="divide-y divide-stone-100">
                                            {p.rows.into_iter().map(|r| {
                                                let badge = status_badge(&r.status);
                                                view! {
                                                    <tr>
                                                        <td class="px-3 py-2">
                                                            {match r.cover {
                                                                Some(src) => view! { <img src=src alt="" width="40" height="40" loading="lazy" class="h-10 w-10 rounded object-cover" /> }.into_any(),
                                                                None => view! { <span class="block h-10 w-10 rounded bg-stone-100"></span> }.into_any(),
                                                            }}
                                                        </td>
                                                        <td class="px-3 py-2">
                                                            <a class="link font-medium" href=format!("/admin/products/{}", r.id)>{r.name}</a>
                                                            <span class="block text-xs text-stone-500">{format!("{} · {} variant{}", r.brand, r.variants, if r.variants == 1 { "" } else { "s" })}</span>
                                                        </td>
                                                        <td class="px-3 py-2"><span class=badge>{r.status}</span></td>
                                                        <td class="px-3 py-2">{r.category}</td>
                                                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{r.price}</td>
                                                        <td class="px-3 py-2 tabular-nums">{r.available}</td>
                                                        {p.staff.then(|| view! { <td class="px-3 py-2 text-xs">{r.vendor.clone().unwrap_or_else(|| "Shop".to_owned())}</td> })}
                                                        <td class="whitespace-nowrap px-3 py-2">{r.updated}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav aria-label="Pages" class="flex items-center gap-3 text-sm">
                                    {prev.map(|href| view! { <a class="btn btn-secondary" href=href rel="prev">"Previous"</a> })}
                                    <span>{format!("Page {} of {}", p.page, p.pages)}</span>
                                    {next.map(|href| view! { <a class="btn btn-secondary" href=href rel="next">"Next"</a> })}
                                </nav>
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// An error message under a field of a larger form.
fn field_message(
    error: Signal<Option<AppError>>,
    name: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    move || error.get().and_then(|e| e.message_for(name))
}

/// The product's own fields, for the new and edit forms.
#[component]
fn ProductFieldsForm(
    fields: ProductFields,
    categories: Vec<CategoryOption>,
    staff: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let extra = fields.extra.clone().unwrap_or_default();
    let category = fields.category_id.clone();
    let msg = move |name: &'static str| field_message(error, name);
    view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <div class="sm:col-span-2">
                <label for="product-name" class="block text-sm font-medium">"Name"</label>
                <input id="product-name" name="product[name]" required value=fields.name.clone() class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-name-error" message=msg("name")() /> }}
            </div>
            <div>
                <label for="product-slug" class="block text-sm font-medium">"Web address"</label>
                <input id="product-slug" name="product[slug]" value=fields.slug.clone() placeholder="made from the name" class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-slug-error" message=msg("slug")() /> }}
            </div>
            <div>
                <label for="product-brand" class="block text-sm font-medium">"Brand"</label>
                <input id="product-brand" name="product[brand]" value=fields.brand.clone() class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-brand-error" message=msg("brand")() /> }}
            </div>
            <div class="sm:col-span-2">
                <label for="product-category" class="block text-sm font-medium">"Category"</label>
                <select id="product-category" name="product[category_id]" required class="input mt-1 w-full">
                    <option value="">"Choose…"</option>
                    {categories.iter().map(|c| view! {
                        <option value=c.id.clone() selected=c.id == category>{c.path.clone()}</option>
                    }).collect_view()}
                </select>
                {move || view! { <FieldError id="product-category-error" message=msg("category_id")() /> }}
            </div>
            <details class="sm:col-span-2">
                <summary class="cursor-pointer text-sm font-medium">{format!("Also listed in ({} further categor{})", extra.len(), if extra.len() == 1 { "y" } else { "ies" })}</summary>
                <div class="mt-2 grid max-h-64 gap-1 overflow-y-auto rounded border border-stone-200 p-3 sm:grid-cols-2">
                    {categories.iter().enumerate().map(|(i, c)| view! {
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" name=format!("product[extra][{i}]") value=c.id.clone() checked=extra.contains(&c.id) />
                            {c.path.clone()}
                        </label>
                    }).collect_view()}
                </div>
                {move || view! { <FieldError id="product-extra-error" message=msg("extra_category_ids")() /> }}
            </details>
            <div class="sm:col-span-2">
                <label for="product-description" class="block text-sm font-medium">"Description"</label>
                <textarea id="product-description" name="product[description]" rows="6" class="input mt-1 w-full font-mono text-sm">{crate::components::rcdata_text(&fields.description)}</textarea>
                <p class="mt-1 text-xs text-stone-500">"Markdown: **bold**, *italic*, lists and links. HTML is not allowed."</p>
                {move || view! { <FieldError id="product-description-error" message=msg("description")() /> }}
            </div>
            <div>
                <label for="product-attributes" class="block text-sm font-medium">"Attributes"</label>
                <textarea id="product-attributes" name="product[attributes]" rows="4" placeholder="material: cast iron" class="input mt-1 w-full text-sm">{crate::components::rcdata_text(&fields.attributes)}</textarea>
                <p class="mt-1 text-xs text-stone-500">"One per line, as name: value. Shoppers can filter by them."</p>
                {move || view! { <FieldError id="product-attributes-error" message=msg("attributes")() /> }}
            </div>
            <div class="space-y-3">
                <div>
                    <label for="product-seo-title" class="block text-sm font-medium">"Search engine title"</label>
                    <input id="product-seo-title" name="product[seo_title]" value=fields.seo_title.clone() maxlength="70" class="input mt-1 w-full" />
                    {move || view! { <FieldError id="product-seo-title-error" message=msg("seo_title")() /> }}
                </div>
                <div>
                    <label for="product-seo-description" class="block text-sm font-medium">"Search engine description"</label>
                    <input id="product-seo-description" name="product[seo_description]" value=fields.seo_description.clone() maxlength="320" class="input mt-1 w-full" />
                    {move || view! { <FieldError id="product-seo-description-error" message=msg("seo_description")() /> }}
                </div>
                {staff.then(|| view! {
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="product[featured]" value="on" checked=fields.featured.is_some() />
                        "Feature on the home page"
                    </label>
                })}
            </div>
        </div>
    }
}

/// The inputs of one variant; `prefix` names them (`variants[0]` or `variant`).
#[component]
fn VariantInputs(
    prefix: String,
    v: VariantView,
    currency: String,
    #[prop(default = false)] new: bool,
    #[prop(into)] id_prefix: String,
) -> impl IntoView {
    let name = |field: &str| format!("{prefix}[{field}]");
    let id = |field: &str| format!("{id_prefix}-{field}");
    view! {
        <div class="grid gap-3 sm:grid-cols-6">
            <div class="sm:col-span-2">
                <label for=id("sku") class="block text-xs font-medium">"SKU"</label>
                <input id=id("sku") name=name("sku") value=v.sku class="input mt-1 w-full font-mono text-sm" />
            </div>
            <div class="sm:col-span-2">
                <label for=id("options") class="block text-xs font-medium">"Options"</label>
                <input id=id("options") name=name("options") value=v.options placeholder="Size: M; Colour: Red" class="input mt-1 w-full text-sm" />
            </div>
            <div>
                <label for=id("price") class="block text-xs font-medium">{format!("Price ({currency})")}</label>
                <input id=id("price") name=name("price") value=v.price inputmode="decimal" placeholder="12.50" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("compare_at") class="block text-xs font-medium">"Was (optional)"</label>
                <input id=id("compare_at") name=name("compare_at") value=v.compare_at inputmode="decimal" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("weight") class="block text-xs font-medium">"Weight (g)"</label>
                <input id=id("weight") name=name("weight") value=v.weight inputmode="numeric" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("threshold") class="block text-xs font-medium">"Low-stock level"</label>
                <input id=id("threshold") name=name("threshold") value=v.threshold.to_string() inputmode="numeric" class="input mt-1 w-full tabular-nums" />
            </div>
            {if new {
                view! {
                    <div>
                        <label for=id("stock") class="block text-xs font-medium">"Stock on hand"</label>
                        <input id=id("stock") name=name("stock") inputmode="numeric" placeholder="0" class="input mt-1 w-full tabular-nums" />
                    </div>
                }.into_any()
            } else {
                view! {
                    <label class="flex items-center gap-2 self-end pb-2 text-sm">
                        <input type="checkbox" name=name("archived") value="on" checked=v.archived />
                        "Archived"
                    </label>
                }.into_any()
            }}
        </div>
    }
}

/// The field errors of a variant form, in one line (its fields are many and small).
#[component]
fn VariantErrors(error: Signal<Option<AppError>>) -> impl IntoView {
    const VARIANT_FIELDS: [&str; 11] = [
        "sku",
        "options",
        "price",
        "compare_at",
        "weight",
        "threshold",
        "stock",
        "archived",
        "variants",
        "delta",
        "note",
    ];
    move || {
        error.get().and_then(|e| match &e {
            AppError::Invalid { field: Some(f), message, .. } if VARIANT_FIELDS.contains(&f.as_str()) => Some(view! {
                <p role="alert" class="text-sm text-red-700" data-testid="variant-error">{message.clone()}</p>
            }),
            _ => None,
        })
    }
}

/// `/admin/products/new`
#[component]
pub fn AdminNewProductPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_new_product());
    let create = ServerAction::<CreateProduct>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => view! {
                        <AdminFrame title="New product" staff=d.staff>
                            <p class="text-sm text-stone-600">"The product starts as a draft: shoppers see it once you publish it."</p>
                            <FormError error />
                            <ActionForm action=create attr:class="space-y-6">
                                <section class="card space-y-4 p-6">
                                    <ProductFieldsForm fields=ProductFields::default() categories=d.categories.clone() staff=d.staff error />
                                </section>
                                <section class="card space-y-4 p-6">
                                    <h2 class="text-lg font-semibold">"Variants"</h2>
                                    <p class="text-sm text-stone-600">"At least one. Give each variant its own SKU and options (e.g. Size: M). Rows left empty are ignored; more variants can be added later."</p>
                                    <VariantErrors error />
                                    {(0..3).map(|i| view! {
                                        <fieldset class="rounded border border-stone-200 p-3" data-testid=format!("new-variant-{i}")>
                                            <legend class="px-1 text-sm font-medium">{format!("Variant {}", i + 1)}</legend>
                                            <VariantInputs prefix=format!("variants[{i}]") v=VariantView { threshold: 5, ..Default::default() } currency=d.currency.clone() new=true id_prefix=format!("new-variant-{i}") />
                                        </fieldset>
                                    }).collect_view()}
                                </section>
                                <button type="submit" class="btn btn-primary" data-testid="create-product">"Create product"</button>
                            </ActionForm>
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/products/:id`
#[component]
pub fn AdminProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<SaveProduct>::new();
    let status = ServerAction::<SetProductStatus>::new();
    let variant = ServerAction::<SaveVariant>::new();
    let add = ServerAction::<AddVariant>::new();
    let stock = ServerAction::<AdjustStock>::new();
    let image = ServerAction::<ChangeImage>::new();
    let versions = move || {
        save.version().get()
            + status.version().get()
            + variant.version().get()
            + add.version().get()
            + stock.version().get()
            + image.version().get()
    };
    let data = Resource::new(
        move || (id.get(), versions()),
        |(id, _)| get_product_editor(id),
    );
    let product_error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| status.value().get().and_then(Result::err))
    });
    let variant_error = Signal::derive(move || {
        variant
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| add.value().get().and_then(Result::err))
            .or_else(|| stock.value().get().and_then(Result::err))
    });
    let image_error = Signal::derive(move || image.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let status_buttons = status_buttons(&p, status);
                        let variants_view = variant_rows(&p, variant, stock);
                        let images_view = image_items(&p, image);
                        let pid = p.id.clone();
                        let badge = status_badge(&p.status);
                        let live = (p.status == "active").then(|| p.shop_url.clone());
                        let currency2 = p.currency.clone();
                        let upload_action = format!("/admin/uploads/products/{}/images", p.id);
                        let (pid1, pid2) = (pid.clone(), pid.clone());
                        view! {
                            <AdminFrame title=p.fields.name.clone() staff=p.staff>
                                <div class="flex flex-wrap items-center gap-3 text-sm">
                                    <span class=badge data-testid="product-status">{p.status.clone()}</span>
                                    {p.vendor.clone().map(|v| view! { <span class="text-stone-600">{format!("Vendor: {v}")}</span> })}
                                    {live.map(|href| view! { <a class="link" href=href data-testid="view-in-shop">"View in shop"</a> })}
                                    <a class="link" href="/admin/products">"All products"</a>
                                </div>
                                <OutcomeBanner outcome=p.outcome.clone() />
                                <section class="card flex flex-wrap items-center gap-3 p-4" aria-label="Status">
                                    {status_buttons}
                                </section>
                                <FormError error=product_error />
                                <section class="card space-y-4 p-6" aria-labelledby="details-heading">
                                    <h2 id="details-heading" class="text-lg font-semibold">"Details"</h2>
                                    <ActionForm action=save attr:class="space-y-4">
                                        <input type="hidden" name="id" value=pid1 />
                                        <ProductFieldsForm fields=p.fields.clone() categories=p.categories.clone() staff=p.staff error=product_error />
                                        <button type="submit" class="btn btn-primary" data-testid="save-product">"Save details"</button>
                                    </ActionForm>
                                </section>
                                <section class="card space-y-4 p-6" aria-labelledby="variants-heading">
                                    <h2 id="variants-heading" class="text-lg font-semibold">"Variants and stock"</h2>
                                    <FormError error=variant_error />
                                    <VariantErrors error=variant_error />
                                    {variants_view}
                                    <details class="rounded border border-dashed border-stone-300 p-4">
                                        <summary class="cursor-pointer text-sm font-medium" data-testid="add-variant-toggle">"Add a variant"</summary>
                                        <ActionForm action=add attr:class="mt-3 space-y-3">
                                            <input type="hidden" name="product_id" value=pid2 />
                                            <VariantInputs prefix="variant".to_owned() v=VariantView { threshold: 5, ..Default::default() } currency=currency2 new=true id_prefix="add-variant" />
                                            <button type="submit" class="btn btn-secondary" data-testid="add-variant">"Add variant"</button>
                                        </ActionForm>
                                    </details>
                                </section>
                                <section class="card space-y-4 p-6" aria-labelledby="images-heading">
                                    <h2 id="images-heading" class="text-lg font-semibold">"Images"</h2>
                                    <FormError error=image_error />
                                    {move || image_error.get().and_then(|e| e.field_name().map(|_| e.to_string())).map(|m| view! { <p role="alert" class="text-sm text-red-700">{m}</p> })}
                                    <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="product-images">
                                        {images_view}
                                    </ul>
                                    <form method="post" action=upload_action enctype="multipart/form-data" class="flex flex-wrap items-end gap-3 border-t border-stone-100 pt-4">
                                        <div>
                                            <label for="image-file" class="block text-sm font-medium">"Image (JPEG, PNG or WebP, up to 10 MB)"</label>
                                            <input id="image-file" type="file" name="image" accept="image/jpeg,image/png,image/webp" required class="mt-1 block text-sm" />
                                        </div>
                                        <div>
                                            <label for="image-alt" class="block text-sm font-medium">"Alt text for the new image"</label>
                                            <input id="image-alt" name="alt" required placeholder="What the picture shows" class="input mt-1 w-64" />
                                        </div>
                                        <button type="submit" class="btn btn-primary" data-testid="upload-image">"Upload image"</button>
                                    </form>
                                </section>
                                <h2 class="text-lg font-semibold">"History"</h2>
                                <AuditTable rows=p.history.clone() />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn status_buttons(
    p: &ProductEditor,
    action: ServerAction<SetProductStatus>,
) -> impl IntoView + use<> {
    [
        ("active", "Publish"),
        ("draft", "Unpublish (draft)"),
        ("archived", "Archive"),
    ]
    .into_iter()
    .filter(|(s, _)| *s != p.status)
    .map(|(s, label)| {
        let pid = p.id.clone();
        view! {
            <ActionForm action>
                <input type="hidden" name="id" value=pid />
                <input type="hidden" name="status" value=s />
                <button type="submit" class=if s == "archived" { "btn btn-danger" } else { "btn btn-secondary" } data-testid=format!("status-{s}")>{label}</button>
            </ActionForm>
        }
    })
    .collect_view()
}

fn variant_rows(
    p: &ProductEditor,
    save: ServerAction<SaveVariant>,
    stock: ServerAction<AdjustStock>,
) -> impl IntoView + use<> {
    p.variants
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, v)| {
            let (pid1, pid2) = (p.id.clone(), p.id.clone());
            let (vid1, vid2) = (v.id.clone(), v.id.clone());
            let currency2 = p.currency.clone();
            let history = v.history.clone();
            let count = history.len();
            let summary = format!(
                "{} on hand · {} reserved · {} available",
                v.on_hand,
                v.reserved,
                (v.on_hand - v.reserved).max(0)
            );
            view! {
                <div class="space-y-3 rounded border border-stone-200 p-4" data-testid="variant">
                    <ActionForm action=save attr:class="space-y-3">
                        <input type="hidden" name="product_id" value=pid1 />
                        <input type="hidden" name="variant_id" value=vid1 />
                        <VariantInputs prefix="variant".to_owned() v=v currency=currency2 id_prefix=format!("variant-{i}") />
                        <button type="submit" class="btn btn-secondary" data-testid="save-variant">"Save variant"</button>
                    </ActionForm>
                    <div class="flex flex-wrap items-end gap-3 border-t border-stone-100 pt-3">
                        <p class="text-sm tabular-nums" data-testid="stock-summary">{summary}</p>
                        <ActionForm action=stock attr:class="flex flex-wrap items-end gap-2">
                            <input type="hidden" name="product_id" value=pid2 />
                            <input type="hidden" name="variant_id" value=vid2 />
                            <div>
                                <label for=format!("stock-delta-{i}") class="block text-xs font-medium">"Add (or −remove)"</label>
                                <input id=format!("stock-delta-{i}") name="delta" inputmode="numeric" placeholder="+10" required class="input mt-1 w-24 tabular-nums" />
                            </div>
                            <div>
                                <label for=format!("stock-note-{i}") class="block text-xs font-medium">"Reason"</label>
                                <input id=format!("stock-note-{i}") name="note" placeholder="stock count" required class="input mt-1 w-48" />
                            </div>
                            <button type="submit" class="btn btn-secondary" data-testid="adjust-stock">"Adjust stock"</button>
                        </ActionForm>
                    </div>
                    <details>
                        <summary class="cursor-pointer text-sm font-medium">{format!("Stock history ({count})")}</summary>
                        <table class="mt-2 min-w-full text-left text-xs" data-testid="stock-history">
                            <thead class="text-stone-600"><tr>
                                <th scope="col" class="px-2 py-1">"When"</th>
                                <th scope="col" class="px-2 py-1">"Change"</th>
                                <th scope="col" class="px-2 py-1">"On hand after"</th>
                                <th scope="col" class="px-2 py-1">"Reason"</th>
                                <th scope="col" class="px-2 py-1">"By"</th>
                            </tr></thead>
                            <tbody>
                                {history.into_iter().map(|h| view! {
                                    <tr>
                                        <td class="px-2 py-1 whitespace-nowrap">{h.when}</td>
                                        <td class="px-2 py-1 tabular-nums">{if h.delta > 0 { format!("+{}", h.delta) } else { h.delta.to_string() }}</td>
                                        <td class="px-2 py-1 tabular-nums">{h.after.map(|a| a.to_string()).unwrap_or_default()}</td>
                                        <td class="px-2 py-1">{format!("{}: {}", h.reason, h.note)}</td>
                                        <td class="px-2 py-1">{h.actor}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                </div>
            }
        })
        .collect_view()
}

fn image_items(p: &ProductEditor, action: ServerAction<ChangeImage>) -> impl IntoView + use<> {
    let count = p.images.len();
    p.images
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, img)| {
            let (pid, iid) = (p.id.clone(), img.id.clone());
            let caption = if i == 0 {
                format!("Cover · {}", img.size)
            } else {
                img.size.clone()
            };
            let buttons = [
                ("earlier", "Move earlier", i == 0),
                ("later", "Move later", i + 1 == count),
                ("delete", "Delete", false),
            ]
            .into_iter()
            .filter(|(_, _, hidden)| !hidden)
            .map(|(m, label, _)| {
                let (pid, iid) = (p.id.clone(), img.id.clone());
                view! {
                    <ActionForm action>
                        <input type="hidden" name="product_id" value=pid />
                        <input type="hidden" name="image_id" value=iid />
                        <input type="hidden" name="move_to" value=m />
                        <button type="submit" class=if m == "delete" { "btn btn-danger" } else { "btn btn-secondary" } data-testid=format!("image-{m}")>{label}</button>
                    </ActionForm>
                }
            })
            .collect_view();
            view! {
                <li class="space-y-2 rounded border border-stone-200 p-3" data-testid="product-image">
                    <img src=img.url alt=img.alt.clone() width="320" loading="lazy" class="aspect-square w-full rounded object-cover" />
                    <p class="text-xs text-stone-500">{caption}</p>
                    <ActionForm action attr:class="flex items-end gap-2">
                        <input type="hidden" name="product_id" value=pid />
                        <input type="hidden" name="image_id" value=iid />
                        <div class="flex-1">
                            <label for=format!("image-alt-{i}") class="block text-xs font-medium">"Alt text"</label>
                            <input id=format!("image-alt-{i}") name="alt" value=img.alt required class="input mt-1 w-full text-sm" />
                        </div>
                        <button type="submit" class="btn btn-secondary">"Save"</button>
                    </ActionForm>
                    <div class="flex flex-wrap gap-2">{buttons}</div>
                </li>
            }
        })
        .collect_view()
}
