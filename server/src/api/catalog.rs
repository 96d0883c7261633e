//! The catalog through the API: categories, product lists with filters, sorts and pages,
//! product details with their variants and stock, and search. Only what the shop shows
//! visitors: drafts and archived products are not found.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, Json};
use super::{Money, Pagination};
use crate::state::AppState;

/// One category; `parent_id` links the tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryBody {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i64,
    /// Active products in it and every category below it.
    pub product_count: i64,
}

impl From<&catalog::Category> for CategoryBody {
    fn from(c: &catalog::Category) -> CategoryBody {
        CategoryBody {
            id: c.id.as_str().to_owned(),
            parent_id: c.parent_id.as_ref().map(|p| p.as_str().to_owned()),
            name: c.name.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            position: c.position,
            product_count: c.product_count,
        }
    }
}

/// The category list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    pub data: Vec<CategoryBody>,
}

/// Every category, parents before their children.
#[utoipa::path(
    get, path = "/categories", tag = "catalog",
    responses((status = 200, description = "Every category", body = CategoryList))
)]
pub async fn categories(State(state): State<AppState>) -> Result<Json<CategoryList>, ApiError> {
    let tree = state.ctx.catalog.tree().await?;
    let mut data = Vec::new();
    let mut stack: Vec<&catalog::Category> = tree.roots().into_iter().rev().collect();
    while let Some(c) = stack.pop() {
        data.push(CategoryBody::from(c));
        stack.extend(tree.children(&c.id).into_iter().rev());
    }
    Ok(Json(CategoryList { data }))
}

/// A product as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub brand: String,
    /// The lowest price of its variants.
    pub price: Money,
    /// The highest.
    pub max_price: Money,
    /// The cheapest variant's former price, when above its price.
    pub compare_at: Option<Money>,
    pub in_stock: bool,
    /// The picture's URL (640 px wide), if it has one.
    pub image_url: Option<String>,
    /// Its only variant, when it has one: it goes into a cart without choosing options.
    pub sole_variant_id: Option<String>,
}

impl From<&catalog::ProductCard> for ProductSummary {
    fn from(c: &catalog::ProductCard) -> ProductSummary {
        ProductSummary {
            id: c.id.as_str().to_owned(),
            slug: c.slug.clone(),
            name: c.name.clone(),
            brand: c.brand.clone(),
            price: Money::from(c.price),
            max_price: Money::from(c.max_price),
            compare_at: c.compare_at.map(Money::from),
            in_stock: c.available > 0,
            image_url: c.image.as_ref().map(|i| i.url(640)),
            sole_variant_id: c.sole_variant.as_ref().map(|v| v.as_str().to_owned()),
        }
    }
}

/// Filters, sort and page of a product list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// A category's slug: its products and those of every category below it.
    pub category: Option<String>,
    /// `relevance` (default), `newest`, `price-asc`, `price-desc`, `popular`.
    pub sort: Option<String>,
    /// 1-based; 20 products a page.
    pub page: Option<i64>,
    /// Only this brand (one).
    pub brand: Option<String>,
    /// In minor units.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with units to sell.
    pub in_stock: Option<bool>,
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub data: Vec<ProductSummary>,
    pub pagination: Pagination,
}

fn sort_of(key: Option<&str>) -> Result<catalog::Sort, ApiError> {
    match key {
        None => Ok(catalog::Sort::default()),
        Some(k) => catalog::Sort::ALL
            .into_iter()
            .find(|s| s.key() == k)
            .ok_or_else(|| {
                ApiError::invalid(
                    "sort",
                    "Use relevance, newest, price-asc, price-desc or popular.",
                )
            }),
    }
}

fn page_of(page: Option<i64>) -> Result<i64, ApiError> {
    match page {
        None => Ok(1),
        Some(p) if (1..=10_000).contains(&p) => Ok(p),
        Some(_) => Err(ApiError::invalid("page", "Pages run from 1 to 10000.")),
    }
}

fn filters_of(p: &ListParams) -> catalog::Filters {
    catalog::Filters {
        brands: p.brand.iter().cloned().collect(),
        min_price: p.min_price,
        max_price: p.max_price,
        in_stock: p.in_stock.unwrap_or(false),
        attributes: Vec::new(),
    }
}

pub(super) fn query_error(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_query",
        e.body_text(),
    )
}

/// Active products, optionally of one category, filtered, sorted and paged. The total and
/// the neighbouring pages are in the body, `X-Total-Count` and `Link`.
#[utoipa::path(
    get, path = "/products", tag = "catalog",
    params(ListParams),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn products(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let catalog = &state.ctx.catalog;
    let tree = catalog.tree().await?;
    let category = match &params.category {
        Some(slug) => Some(
            tree.by_slug(slug)
                .ok_or_else(|| ApiError::not_found("There is no such category."))?,
        ),
        None => None,
    };
    let sort = sort_of(params.sort.as_deref())?;
    let page = page_of(params.page)?;
    let listing = catalog
        .listing(category, filters_of(&params), sort, page)
        .await?;
    Ok(super::paginated(
        "/api/v1/products",
        &params_query(&params),
        &listing,
    ))
}

/// The query string of a list, without its page (for the `Link` header).
fn params_query(p: &ListParams) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    let mut push = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            q.push((k, v));
        }
    };
    push("category", p.category.clone());
    push("sort", p.sort.clone());
    push("brand", p.brand.clone());
    push("min_price", p.min_price.map(|v| v.to_string()));
    push("max_price", p.max_price.map(|v| v.to_string()));
    push("in_stock", p.in_stock.map(|v| v.to_string()));
    q
}

/// A search's words, filters, sort and page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// What to look for: every word must match.
    pub q: String,
    /// `relevance` (default), `newest`, `price-asc`, `price-desc`, `popular`.
    pub sort: Option<String>,
    /// 1-based; 20 products a page.
    pub page: Option<i64>,
    pub brand: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
}

/// Products matching every word; when none does, the last word as a prefix. The page has
/// the total; `Link` and `X-Total-Count` as for lists.
#[utoipa::path(
    get, path = "/search", tag = "catalog",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of matching products", body = ProductPage),
        (status = 422, description = "No words to look for, or a parameter is invalid", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(query_error)?;
    let terms = catalog::SearchTerms::parse(&p.q)
        .ok_or_else(|| ApiError::invalid("q", "Enter words to look for."))?;
    let list = ListParams {
        category: None,
        sort: p.sort,
        page: p.page,
        brand: p.brand,
        min_price: p.min_price,
        max_price: p.max_price,
        in_stock: p.in_stock,
    };
    let sort = sort_of(list.sort.as_deref())?;
    let page = page_of(list.page)?;
    let found = state
        .ctx
        .catalog
        .search(&terms, filters_of(&list), sort, page)
        .await?;
    let mut query = vec![("q", terms.raw.clone())];
    query.extend(params_query(&list));
    Ok(super::paginated("/api/v1/search", &query, &found.listing))
}

/// One variant: its options, price and stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantBody {
    pub id: String,
    pub sku: String,
    /// Option name → value, e.g. `{"size": "M"}`.
    pub options: std::collections::BTreeMap<String, String>,
    pub price: Money,
    pub compare_at: Option<Money>,
    /// `in_stock`, `low_stock` or `out_of_stock`.
    pub stock_status: String,
    /// Units left, given only when few are.
    pub low_stock_units: Option<i64>,
}

/// A product with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductBody {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub brand: String,
    /// As the merchant wrote it (Markdown).
    pub description: String,
    /// Rendered and sanitised HTML.
    pub description_html: String,
    pub category_id: String,
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Active variants, in display order.
    pub variants: Vec<VariantBody>,
    /// Picture URLs (1280 px wide), in order.
    pub images: Vec<String>,
    pub updated_at: String,
}

fn product_body(p: &catalog::ProductDetail) -> ProductBody {
    ProductBody {
        id: p.id.as_str().to_owned(),
        slug: p.slug.clone(),
        name: p.name.clone(),
        brand: p.brand.clone(),
        description: p.description.clone(),
        description_html: p.description_html.clone(),
        category_id: p.category_id.as_str().to_owned(),
        attributes: p.attributes.iter().cloned().collect(),
        variants: p
            .active_variants()
            .map(|v| {
                let (stock_status, low_stock_units) = match v.stock_status() {
                    catalog::StockStatus::InStock => ("in_stock", None),
                    catalog::StockStatus::Low(n) => ("low_stock", Some(n)),
                    catalog::StockStatus::OutOfStock => ("out_of_stock", None),
                };
                VariantBody {
                    id: v.id.as_str().to_owned(),
                    sku: v.sku.clone(),
                    options: v.options.iter().cloned().collect(),
                    price: Money::from(v.price),
                    compare_at: v
                        .compare_at
                        .filter(|c| c.minor() > v.price.minor())
                        .map(Money::from),
                    stock_status: stock_status.to_owned(),
                    low_stock_units,
                }
            })
            .collect(),
        images: p.images.iter().map(|i| i.url(1280)).collect(),
        updated_at: super::rfc3339(p.updated_at),
    }
}

/// A product by its slug, with its active variants and their stock. Answers carry an
/// `ETag`: send it back in `If-None-Match` to get 304 while nothing changed.
#[utoipa::path(
    get, path = "/products/{slug}", tag = "catalog",
    params(("slug" = String, Path, description = "The product's slug")),
    responses(
        (status = 200, description = "The product", body = ProductBody,
         headers(("ETag" = String, description = "Changes whenever the answer would"))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 404, description = "No such product for sale", body = ErrorBody),
    )
)]
pub async fn product(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let product = state
        .ctx
        .catalog
        .product_by_slug(&slug)
        .await?
        .filter(|p| p.status == catalog::ProductStatus::Active)
        .ok_or_else(|| ApiError::not_found("There is no such product."))?;
    let body = serde_json::to_vec(&product_body(&product)).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&body);
    let etag = format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let cache = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// `If-None-Match` lists `etag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}
