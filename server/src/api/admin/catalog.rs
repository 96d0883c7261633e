//! The catalog through the admin API: products (drafts and archived ones included), their
//! variants, stock (each change with its reason, in the stock history), images and
//! categories. Every change goes through the catalog service with the caller as editor, so
//! validation, vendor scoping, the audit log and re-indexing are the admin pages' own.

use auth::api_keys::Scope;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, id_of, kept_query, page_of, pagination, per_page_of};
use crate::api::catalog::{CategoryBody, query_error};
use crate::api::error::{ApiError, ErrorBody, Json};
use crate::api::{Money, Pagination, page_links, rfc3339};
use crate::state::AppState;

/// A name and a value: a product attribute (`material`: `cast iron`) or a variant option
/// (`size`: `M`). Order is kept.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    pub name: String,
    pub value: String,
}

fn pairs(p: &[Pair]) -> Vec<(String, String)> {
    p.iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect()
}

fn pairs_body(p: &[(String, String)]) -> Vec<Pair> {
    p.iter()
        .map(|(name, value)| Pair {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// An amount in a request: integer minor units and the currency, which must be the
/// product's.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    pub amount_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    #[schema(value_type = String)]
    pub currency: shop_core::Currency,
}

fn money_in(
    m: MoneyInput,
    currency: shop_core::Currency,
    field: &str,
) -> Result<shop_core::Money, ApiError> {
    if m.currency != currency {
        return Err(ApiError::invalid(
            field,
            format!("Prices of this product are in {}.", currency.code()),
        ));
    }
    Ok(shop_core::Money::new(m.amount_minor, currency))
}

/// A product's own fields. `PUT` replaces them all: a field left out takes its default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductWrite {
    pub name: String,
    /// Left out or empty: made from the name.
    #[serde(default)]
    pub slug: String,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub brand: String,
    pub category_id: String,
    /// Further categories it appears in.
    #[serde(default)]
    pub extra_category_ids: Vec<String>,
    /// `draft`, `active` or `archived`. Left out: a draft when created, unchanged when
    /// replaced.
    pub status: Option<String>,
    #[serde(default)]
    pub attributes: Vec<Pair>,
    #[serde(default)]
    pub seo_title: String,
    #[serde(default)]
    pub seo_description: String,
    /// Shown on the home page (staff only; ignored for vendors).
    #[serde(default)]
    pub featured: bool,
    /// Creating only: its variants (at least one). Change variants later through
    /// `/admin/products/{id}/variants` and `/admin/variants/{id}`.
    pub variants: Option<Vec<VariantWrite>>,
}

/// A variant's fields. `PUT` replaces them all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantWrite {
    pub sku: String,
    #[serde(default)]
    pub options: Vec<Pair>,
    pub price: MoneyInput,
    /// Shown struck through when above the price.
    pub compare_at: Option<MoneyInput>,
    pub weight_grams: Option<i64>,
    /// "Only a few left" at or below this many units (5 when left out).
    pub low_stock_threshold: Option<i64>,
    /// Creating only: units on hand to start with (0 when left out). Later changes go
    /// through `/admin/variants/{id}/stock`, with a reason.
    pub initial_stock: Option<i64>,
    /// An archived variant is no longer sold.
    #[serde(default)]
    pub archived: bool,
}

fn status_of(s: Option<&str>) -> Result<Option<::catalog::ProductStatus>, ApiError> {
    s.map(|s| {
        ::catalog::ProductStatus::parse(s)
            .ok_or_else(|| ApiError::invalid("status", "Use draft, active or archived."))
    })
    .transpose()
}

fn product_input(p: &ProductWrite) -> Result<::catalog::products::ProductInput, ApiError> {
    Ok(::catalog::products::ProductInput {
        name: p.name.clone(),
        slug: p.slug.clone(),
        description: p.description.clone(),
        brand: p.brand.clone(),
        category_id: p.category_id.clone(),
        extra_category_ids: p.extra_category_ids.clone(),
        status: status_of(p.status.as_deref())?,
        attributes: pairs(&p.attributes),
        seo_title: p.seo_title.clone(),
        seo_description: p.seo_description.clone(),
        featured: p.featured,
        vendor_id: None,
    })
}

fn variant_input(
    v: &VariantWrite,
    currency: shop_core::Currency,
    field: &str,
) -> Result<::catalog::variants::VariantInput, ApiError> {
    let sku = shop_core::Sku::parse(&v.sku)
        .map_err(|e| ApiError::invalid(&format!("{field}sku"), e.to_string()))?;
    Ok(::catalog::variants::VariantInput {
        sku,
        options: pairs(&v.options),
        price: money_in(v.price, currency, &format!("{field}price"))?,
        compare_at: v
            .compare_at
            .map(|c| money_in(c, currency, &format!("{field}compare_at")))
            .transpose()?,
        weight_grams: v.weight_grams,
        low_stock_threshold: v.low_stock_threshold.unwrap_or(5),
        initial_stock: v.initial_stock.unwrap_or(0),
        archived: v.archived,
    })
}

/// A variant as staff see it: stock on hand and held included.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminVariantBody {
    pub id: String,
    pub sku: String,
    pub options: Vec<Pair>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub on_hand: i64,
    /// Held for orders awaiting payment.
    pub reserved: i64,
    pub available: i64,
    pub low_stock_threshold: i64,
    pub archived: bool,
}

/// An image of a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageBody {
    pub id: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    /// The largest stored size.
    pub url: String,
}

/// A product as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminProductBody {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub brand: String,
    /// Markdown.
    pub description: String,
    /// `draft`, `active` or `archived`.
    pub status: String,
    pub category_id: String,
    pub extra_category_ids: Vec<String>,
    pub attributes: Vec<Pair>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub featured: bool,
    /// The owning vendor's account id, if a vendor owns it.
    pub vendor_id: Option<String>,
    pub variants: Vec<AdminVariantBody>,
    pub images: Vec<ImageBody>,
    pub created_at: String,
    pub updated_at: String,
}

fn product_body(e: &::catalog::products::list::EditableProduct) -> AdminProductBody {
    let p = &e.product;
    AdminProductBody {
        id: p.id.as_str().to_owned(),
        slug: p.slug.clone(),
        name: p.name.clone(),
        brand: p.brand.clone(),
        description: p.description.clone(),
        status: p.status.as_str().to_owned(),
        category_id: p.category_id.as_str().to_owned(),
        extra_category_ids: p
            .extra_category_ids
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        attributes: pairs_body(&p.attributes),
        seo_title: p.seo_title.clone(),
        seo_description: p.seo_description.clone(),
        featured: p.featured,
        vendor_id: e.vendor_id.as_ref().map(|v| v.as_str().to_owned()),
        variants: p
            .variants
            .iter()
            .map(|v| AdminVariantBody {
                id: v.id.as_str().to_owned(),
                sku: v.sku.clone(),
                options: pairs_body(&v.options),
                price: Money::from(v.price),
                compare_at: v.compare_at.map(Money::from),
                weight_grams: v.weight_grams,
                on_hand: v.on_hand,
                reserved: v.reserved,
                available: v.available(),
                low_stock_threshold: v.low_stock_threshold,
                archived: !v.active,
            })
            .collect(),
        images: e
            .images
            .iter()
            .map(|i| ImageBody {
                id: i.id.as_str().to_owned(),
                alt: i.alt.clone(),
                width: i.width,
                height: i.height,
                url: i.url(::catalog::images::WIDTHS[::catalog::images::WIDTHS.len() - 1]),
            })
            .collect(),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

/// The product as it now stands, for `editor`.
async fn current(
    state: &AppState,
    editor: &::catalog::Editor,
    id: &::catalog::ProductId,
) -> Result<AdminProductBody, ApiError> {
    let found = ::catalog::products::list::product_for_edit(&state.ctx.db, editor, id).await?;
    Ok(product_body(&found))
}

/// `201 Created` with `Location` and the body.
fn created<T: Serialize>(location: &str, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Which products to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductListParams {
    /// Part of the name, brand or a SKU.
    pub q: Option<String>,
    /// `draft`, `active` or `archived`.
    pub status: Option<String>,
    /// Only products whose primary category is this one.
    pub category_id: Option<String>,
    /// Only products with few units left.
    pub low_stock: Option<bool>,
    /// 1-based.
    pub page: Option<u32>,
    /// 1 to 100; 25 when left out.
    pub per_page: Option<u32>,
}

/// A product as the staff's list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminProductSummary {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub status: String,
    pub category_id: String,
    pub vendor_id: Option<String>,
    pub variants: i64,
    /// The lowest and highest variant price.
    pub price: Money,
    pub max_price: Money,
    /// Units available across its variants.
    pub available: i64,
    pub updated_at: String,
}

/// A page of the staff's product list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminProductPage {
    pub data: Vec<AdminProductSummary>,
    pub pagination: Pagination,
}

/// Every product the caller may manage (a vendor: their own), drafts and archived ones
/// included, newest change first; the total in the body, `X-Total-Count` and `Link`.
#[utoipa::path(
    get, path = "/admin/products", tag = "admin",
    params(ProductListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of products", body = AdminProductPage),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:read", body = ErrorBody),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list_products(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<ProductListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let editor = staff.editor(Scope::ProductsRead)?;
    let Query(p) = params.map_err(query_error)?;
    let page = page_of(p.page)?;
    let per_page = per_page_of(p.per_page, 25, 100)?;
    let query = ::catalog::products::list::ProductQuery {
        text: p.q.clone().filter(|q| !q.trim().is_empty()),
        status: status_of(p.status.as_deref())?,
        category_id: p.category_id.clone(),
        low_stock: p.low_stock.unwrap_or(false),
        page: i64::from(page),
        per_page: i64::from(per_page),
    };
    let (rows, total) =
        ::catalog::products::list::list_products(&state.ctx.db, &editor, &query).await?;
    let kept = kept_query(
        &[
            ("q", p.q.clone()),
            ("status", p.status.clone()),
            ("category_id", p.category_id.clone()),
            ("low_stock", p.low_stock.map(|l| l.to_string())),
        ],
        per_page,
    );
    let pagination = pagination(page, per_page, total);
    let pages = pagination.pages;
    let body = AdminProductPage {
        data: rows
            .into_iter()
            .map(|r| AdminProductSummary {
                id: r.id.as_str().to_owned(),
                name: r.name,
                slug: r.slug,
                brand: r.brand,
                status: r.status.as_str().to_owned(),
                category_id: r.category_id.as_str().to_owned(),
                vendor_id: r.vendor_id.map(|v| v.as_str().to_owned()),
                variants: r.variants,
                price: Money::from(r.price),
                max_price: Money::from(r.max_price),
                available: r.available,
                updated_at: rfc3339(r.updated_at),
            })
            .collect(),
        pagination,
    };
    Ok(page_links(
        Json(body).into_response(),
        "/api/v1/admin/products",
        &kept,
        i64::from(page),
        pages,
        total,
    ))
}

/// Creates a product with its variants, as a draft unless `status` says otherwise. A
/// vendor's products are their own.
#[utoipa::path(
    post, path = "/admin/products", tag = "admin",
    request_body = ProductWrite,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The product", body = AdminProductBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 422, description = "A field is invalid (the field is named)", body = ErrorBody),
    )
)]
pub async fn create_product(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<ProductWrite>,
) -> Result<Response, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let ctx = &state.ctx;
    let input = product_input(&body)?;
    let variants = body
        .variants
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, v)| variant_input(v, ctx.shop.currency, &format!("variants[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let id = ctx
        .catalog
        .create_product(&editor, &input, &variants)
        .await?;
    let product = current(&state, &editor, &id).await?;
    Ok(created(
        &format!("/api/v1/admin/products/{}", id.as_str()),
        product,
    ))
}

/// One product the caller may manage, with its variants' stock and its images.
#[utoipa::path(
    get, path = "/admin/products/{id}", tag = "admin",
    params(("id" = String, Path, description = "The product's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product", body = AdminProductBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:read", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
    )
)]
pub async fn show_product(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<AdminProductBody>, ApiError> {
    let editor = staff.editor(Scope::ProductsRead)?;
    Ok(Json(current(&state, &editor, &id_of(&id)?).await?))
}

/// Replaces a product's own fields (not its variants). A `status` left out keeps the
/// product's.
#[utoipa::path(
    put, path = "/admin/products/{id}", tag = "admin",
    params(("id" = String, Path, description = "The product's id")),
    request_body = ProductWrite,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product", body = AdminProductBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
        (status = 422, description = "A field is invalid (the field is named)", body = ErrorBody),
    )
)]
pub async fn update_product(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<ProductWrite>,
) -> Result<Json<AdminProductBody>, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let id = id_of(&id)?;
    if body.variants.is_some() {
        return Err(ApiError::invalid(
            "variants",
            "Change variants through /admin/products/{id}/variants and /admin/variants/{id}.",
        ));
    }
    state
        .ctx
        .catalog
        .update_product(&editor, &id, &product_input(&body)?)
        .await?;
    Ok(Json(current(&state, &editor, &id).await?))
}

/// Archives a product: it leaves the shop (its orders keep it). Set `status` back with
/// `PUT` to sell it again.
#[utoipa::path(
    delete, path = "/admin/products/{id}", tag = "admin",
    params(("id" = String, Path, description = "The product's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product, archived", body = AdminProductBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
    )
)]
pub async fn archive_product(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<AdminProductBody>, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let id = id_of(&id)?;
    state
        .ctx
        .catalog
        .set_product_status(&editor, &id, ::catalog::ProductStatus::Archived)
        .await?;
    Ok(Json(current(&state, &editor, &id).await?))
}

/// Adds a variant to a product.
#[utoipa::path(
    post, path = "/admin/products/{id}/variants", tag = "admin",
    params(("id" = String, Path, description = "The product's id")),
    request_body = VariantWrite,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The product with its new variant", body = AdminProductBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the SKU is taken", body = ErrorBody),
    )
)]
pub async fn add_variant(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<VariantWrite>,
) -> Result<Response, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let ctx = &state.ctx;
    let id: ::catalog::ProductId = id_of(&id)?;
    // Not the caller's product: not found, before anything about the body is said.
    ::catalog::products::list::product_for_edit(&ctx.db, &editor, &id).await?;
    let currency = ::catalog::variants::product_currency(&ctx.db, &id)
        .await?
        .unwrap_or(ctx.shop.currency);
    let input = variant_input(&body, currency, "")?;
    ctx.catalog.add_variant(&editor, &id, &input).await?;
    let product = current(&state, &editor, &id).await?;
    Ok(created(
        &format!("/api/v1/admin/products/{}", id.as_str()),
        product,
    ))
}

/// Replaces a variant's fields (not its stock: see `/admin/variants/{id}/stock`).
#[utoipa::path(
    put, path = "/admin/variants/{id}", tag = "admin",
    params(("id" = String, Path, description = "The variant's id")),
    request_body = VariantWrite,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The variant's product", body = AdminProductBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such variant, or another vendor's", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the SKU is taken", body = ErrorBody),
    )
)]
pub async fn update_variant(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<VariantWrite>,
) -> Result<Json<AdminProductBody>, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let ctx = &state.ctx;
    let variant: ::catalog::VariantId = id_of(&id)?;
    let product = ::catalog::editor::product_of_variant(&ctx.db, &editor, &variant).await?;
    if body.initial_stock.is_some() {
        return Err(ApiError::invalid(
            "initial_stock",
            "Change stock through /admin/variants/{id}/stock, with a reason.",
        ));
    }
    let currency = ::catalog::variants::variant_currency(&ctx.db, &variant)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no such item."))?;
    let input = variant_input(&body, currency, "")?;
    ctx.catalog
        .update_variant(&editor, &variant, &input)
        .await?;
    Ok(Json(current(&state, &editor, &product).await?))
}

/// A change of stock on hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    /// Units to add (negative to remove); never below the units held for orders.
    pub delta: i64,
    /// Why, for the stock history (a delivery, a count, breakage).
    pub reason: String,
}

/// A variant's stock after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockBody {
    pub variant_id: String,
    pub on_hand: i64,
}

/// Adds or removes units of a variant, with the reason written in its stock history.
#[utoipa::path(
    post, path = "/admin/variants/{id}/stock", tag = "admin",
    params(("id" = String, Path, description = "The variant's id")),
    request_body = StockChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stock on hand now", body = StockBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such variant, or another vendor's", body = ErrorBody),
        (status = 422, description = "No reason, or the change goes below what is held", body = ErrorBody),
    )
)]
pub async fn adjust_stock(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<StockChange>,
) -> Result<Json<StockBody>, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let variant: ::catalog::VariantId = id_of(&id)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid(
            "reason",
            "Say why the stock changes (a delivery, a count, breakage).",
        ));
    }
    if body.delta == 0 {
        return Err(ApiError::invalid(
            "delta",
            "Add or remove at least one unit.",
        ));
    }
    let on_hand = state
        .ctx
        .catalog
        .adjust_stock(&editor, &variant, body.delta, body.reason.trim())
        .await?;
    Ok(Json(StockBody {
        variant_id: variant.as_str().to_owned(),
        on_hand,
    }))
}

/// One change in a product's stock history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockEntryBody {
    pub variant_id: String,
    pub delta: i64,
    /// `admin`, `import`, `order`, `cancellation` or `refund`.
    pub kind: String,
    pub reason: String,
    pub on_hand_after: Option<i64>,
    pub at: String,
}

/// A product's stock history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockHistory {
    pub data: Vec<StockEntryBody>,
}

/// The latest stock changes of a product's variants (up to 100 each), newest first.
#[utoipa::path(
    get, path = "/admin/products/{id}/stock", tag = "admin",
    params(("id" = String, Path, description = "The product's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stock history", body = StockHistory),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:read", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
    )
)]
pub async fn stock_history(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<StockHistory>, ApiError> {
    let editor = staff.editor(Scope::ProductsRead)?;
    let entries =
        ::catalog::stock::stock_history(&state.ctx.db, &editor, &id_of(&id)?, 100).await?;
    Ok(Json(StockHistory {
        data: entries
            .into_iter()
            .map(|e| StockEntryBody {
                variant_id: e.variant_id.as_str().to_owned(),
                delta: e.delta,
                kind: e.reason,
                reason: e.note,
                on_hand_after: e.on_hand_after,
                at: rfc3339(e.at),
            })
            .collect(),
    }))
}

/// An image file: JPEG, PNG, WebP or GIF (the raw bytes as the request body).
pub struct ImageFile;

impl utoipa::PartialSchema for ImageFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some(
                "The image file: JPEG, PNG, WebP or GIF, at most 10 MiB",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ImageFile {}

/// The image's description.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImageParams {
    /// What the image shows, for people who cannot see it.
    pub alt: Option<String>,
}

/// Adds an image to a product: the request body is the file itself (`Content-Type:
/// image/jpeg`, `image/png`, `image/webp` or `image/gif`, at most 10 MiB). It is checked,
/// stored at the shop's sizes and added last in the product's gallery.
#[utoipa::path(
    post, path = "/admin/products/{id}/images", tag = "admin",
    params(("id" = String, Path, description = "The product's id"), ImageParams),
    request_body(content = ImageFile, content_type = "image/*", description = "The image file"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The product with its new image", body = AdminProductBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such product, or another vendor's", body = ErrorBody),
        (status = 413, description = "The file is over 10 MiB", body = ErrorBody),
        (status = 415, description = "Not an image type", body = ErrorBody),
        (status = 422, description = "The file is not an image the shop can read", body = ErrorBody),
    )
)]
pub async fn upload_image(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    params: Result<Query<ImageParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let Query(p) = params.map_err(query_error)?;
    let id: ::catalog::ProductId = id_of(&id)?;
    let ctx = &state.ctx;
    ::catalog::products::list::product_for_edit(&ctx.db, &editor, &id).await?;
    let image_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("image/"));
    if !image_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the image file as the body, with its image/* Content-Type.",
        ));
    }
    let bytes = axum::body::to_bytes(body, ::catalog::images::MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The image is larger than 10 MiB.",
            )
        })?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(
            "image",
            "The body is empty: send the image file.",
        ));
    }
    ctx.catalog
        .add_image(
            &editor,
            &ctx.images,
            &id,
            bytes.to_vec(),
            p.alt.as_deref().unwrap_or_default(),
        )
        .await?;
    let product = current(&state, &editor, &id).await?;
    Ok(created(
        &format!("/api/v1/admin/products/{}", id.as_str()),
        product,
    ))
}

/// Removes an image from its product's gallery.
#[utoipa::path(
    delete, path = "/admin/images/{id}", tag = "admin",
    params(("id" = String, Path, description = "The image's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without products:write", body = ErrorBody),
        (status = 404, description = "No such image, or another vendor's", body = ErrorBody),
    )
)]
pub async fn delete_image(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let editor = staff.editor(Scope::ProductsWrite)?;
    let ctx = &state.ctx;
    ctx.catalog
        .delete_image(&editor, &ctx.images, &id_of(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A category's fields. `PUT` replaces them all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryWrite {
    pub name: String,
    /// Left out or empty: made from the name.
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub description: String,
    /// Left out: a top-level category.
    pub parent_id: Option<String>,
    /// Its place among its siblings (lower first).
    #[serde(default)]
    pub position: i64,
}

fn category_input(c: &CategoryWrite) -> ::catalog::categories::CategoryInput {
    ::catalog::categories::CategoryInput {
        name: c.name.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        parent_id: c.parent_id.clone().unwrap_or_default(),
        position: c.position,
    }
}

async fn category_now(
    state: &AppState,
    id: &::catalog::CategoryId,
) -> Result<CategoryBody, ApiError> {
    let tree = state.ctx.catalog.tree().await?;
    tree.get(id)
        .map(CategoryBody::from)
        .ok_or_else(|| ApiError::not_found("There is no such category."))
}

/// Creates a category (admins).
#[utoipa::path(
    post, path = "/admin/categories", tag = "admin",
    request_body = CategoryWrite,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The category", body = CategoryBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without categories:write", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the slug is taken", body = ErrorBody),
    )
)]
pub async fn create_category(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<CategoryWrite>,
) -> Result<Response, ApiError> {
    staff.require(Scope::CategoriesWrite)?;
    let id = state
        .ctx
        .catalog
        .create_category(&staff.actor(), &category_input(&body))
        .await?;
    let category = category_now(&state, &id).await?;
    Ok(created("/api/v1/categories", category))
}

/// Replaces a category's fields; a new `parent_id` moves it with everything below it.
#[utoipa::path(
    put, path = "/admin/categories/{id}", tag = "admin",
    params(("id" = String, Path, description = "The category's id")),
    request_body = CategoryWrite,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The category", body = CategoryBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without categories:write", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the move makes a loop", body = ErrorBody),
    )
)]
pub async fn update_category(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<CategoryWrite>,
) -> Result<Json<CategoryBody>, ApiError> {
    staff.require(Scope::CategoriesWrite)?;
    let id = id_of(&id)?;
    state
        .ctx
        .catalog
        .update_category(&staff.actor(), &id, &category_input(&body))
        .await?;
    Ok(Json(category_now(&state, &id).await?))
}

/// Deletes an empty category (no subcategories, no products filed under it).
#[utoipa::path(
    delete, path = "/admin/categories/{id}", tag = "admin",
    params(("id" = String, Path, description = "The category's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without categories:write", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 422, description = "The category is not empty", body = ErrorBody),
    )
)]
pub async fn delete_category(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    staff.require(Scope::CategoriesWrite)?;
    state
        .ctx
        .catalog
        .delete_category(&staff.actor(), &id_of(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
