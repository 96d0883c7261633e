//! The public JSON API, version 1, under `/api/v1` (the server functions live at
//! `/api/<name>` and none is named `v1`). Thin handlers over the same service crates as the
//! pages: they read the request, check who is asking, call a service, and answer in JSON.
//!
//! Conventions: `Authorization: Bearer <token>`; one error shape ([`error`]); money as
//! integer minor units plus currency; lists paged with the total in the body,
//! `X-Total-Count` and `Link`; `ETag` on product reads. The OpenAPI 3.1 document is built from
//! the handlers' annotations and served at `/api/v1/openapi.json`.

pub mod access;
pub mod admin;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod error;
pub mod orders;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Where the API is mounted.
pub const BASE: &str = "/api/v1";
/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An amount of money: integer minor units (cents) and an ISO 4217 currency.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Money {
    /// Minor units: 1999 is 19.99 in a currency with cents.
    pub amount_minor: i64,
    pub currency: &'static str,
}

impl From<shop_core::Money> for Money {
    fn from(m: shop_core::Money) -> Money {
        Money {
            amount_minor: m.minor(),
            currency: m.currency().code(),
        }
    }
}

/// Where a page sits in its list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pagination {
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
    /// Items in the whole list.
    pub total: i64,
    pub pages: i64,
}

/// A time as RFC 3339 (UTC).
pub fn rfc3339(t: shop_core::Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.millis()) * 1_000_000)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The URL of page `page` of the list at `path` with the list's `query` (without its page).
fn page_url(path: &str, query: &[(&str, String)], page: i64) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        q.append_pair(k, v);
    }
    q.append_pair("page", &page.to_string());
    format!("{path}?{}", q.finish())
}

fn with_link(mut response: Response, links: &[String]) -> Response {
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}

/// A page of a list whose size is known: `X-Total-Count` and `Link` (first, prev, next,
/// last) on `response`, built from `path` and the list's `query` without its page.
pub fn page_links(
    mut response: Response,
    path: &str,
    query: &[(&str, String)],
    page: i64,
    pages: i64,
    total: i64,
) -> Response {
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(total));
    let link = |page: i64, rel: &str| format!("<{}>; rel=\"{rel}\"", page_url(path, query, page));
    let mut links = Vec::new();
    if pages > 0 {
        links.push(link(1, "first"));
        if page > 1 {
            links.push(link((page - 1).min(pages), "prev"));
        }
        if page < pages {
            links.push(link(page + 1, "next"));
        }
        links.push(link(pages, "last"));
    }
    with_link(response, &links)
}

/// A page of a list read a page at a time: `Link` to the previous page and, when there is
/// more, the next.
pub fn more_links(
    response: Response,
    path: &str,
    query: &[(&str, String)],
    page: u32,
    has_more: bool,
) -> Response {
    let page = i64::from(page);
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            page_url(path, query, page - 1)
        ));
    }
    if has_more {
        links.push(format!(
            "<{}>; rel=\"next\"",
            page_url(path, query, page + 1)
        ));
    }
    with_link(response, &links)
}

/// A page of products as the answer to a list: body, `X-Total-Count` and `Link`.
fn paginated(path: &str, query: &[(&str, String)], listing: &::catalog::Listing) -> Response {
    let pagination = Pagination {
        page: listing.page,
        per_page: ::catalog::listing::PER_PAGE,
        total: listing.total,
        pages: listing.pages,
    };
    let body = catalog::ProductPage {
        data: listing
            .items
            .iter()
            .map(catalog::ProductSummary::from)
            .collect(),
        pagination,
    };
    page_links(
        error::Json(body).into_response(),
        path,
        query,
        listing.page,
        listing.pages,
        listing.total,
    )
}

/// The API's OpenAPI document (the paths come from [`router`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        version = "1",
        description = "The shop's public JSON API: accounts and tokens, the catalog, carts, orders, and for staff and vendors the admin routes (by access token or API key).\n\nErrors all have one shape: `{\"error\":{\"code\",\"message\",\"fields\",\"request_id\"}}`. Money is integer minor units plus an ISO currency. Lists carry their total in the body, `X-Total-Count` and `Link`. Each access-token sign-in and API key has its own rate limit; other requests are limited per client address (429 with `Retry-After`).\n\nOutbound webhooks (set up at /admin/webhooks) are POSTed with `Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" under the endpoint's secret>`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "catalog", description = "Categories, products and search"),
        (name = "cart", description = "A customer's or a guest's cart"),
        (name = "orders", description = "Checkout, and the orders a shopper placed"),
        (name = "admin", description = "For the shop's staff and vendors (an admin's or vendor's access token, or an API key with the scope named)"),
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail))
)]
pub struct ApiDoc;

/// Declares the bearer scheme the secured operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or API key")
                    .description(Some(
                        "An access token from POST /auth/token (a JWT, 15 minutes), or for the admin \
                         routes an API key (shk_...) made at /admin/api-keys",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers any operation can give: 401 for a credential that does not work (checked at
/// the front door whatever the operation), 429 from the rate limit, 500, and 503 when the
/// shop (or the payment provider behind it) cannot answer in time.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut op.responses.responses;
                for (code, description) in [
                    (
                        "401",
                        "A credential was sent and does not work (a bad, expired or revoked token or API key)",
                    ),
                    ("429", "Too many requests from this client; see Retry-After"),
                    (
                        "500",
                        "Something went wrong on the shop's side; quote the request id",
                    ),
                    (
                        "503",
                        "The shop or its payment provider could not answer in time",
                    ),
                ] {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

/// Every route of the API with its part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::verify))
        .routes(routes!(auth::token))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::me))
        .routes(routes!(catalog::categories))
        .routes(routes!(catalog::products))
        .routes(routes!(catalog::product))
        .routes(routes!(catalog::search))
        .routes(routes!(cart::show, cart::clear))
        .routes(routes!(cart::add))
        .routes(routes!(cart::set, cart::remove))
        .routes(routes!(orders::shipping_methods))
        .routes(routes!(orders::place))
        .routes(routes!(orders::list))
        .routes(routes!(orders::show))
        .routes(routes!(orders::cancel))
        .routes(routes!(
            admin::catalog::list_products,
            admin::catalog::create_product
        ))
        .routes(routes!(
            admin::catalog::show_product,
            admin::catalog::update_product,
            admin::catalog::archive_product
        ))
        .routes(routes!(admin::catalog::add_variant))
        .routes(routes!(admin::catalog::update_variant))
        .routes(routes!(admin::catalog::adjust_stock))
        .routes(routes!(admin::catalog::stock_history))
        .routes(routes!(admin::catalog::upload_image))
        .routes(routes!(admin::catalog::delete_image))
        .routes(routes!(admin::catalog::create_category))
        .routes(routes!(
            admin::catalog::update_category,
            admin::catalog::delete_category
        ))
        .routes(routes!(admin::orders::list))
        .routes(routes!(admin::orders::show))
        .routes(routes!(admin::orders::ship))
        .routes(routes!(admin::orders::cancel))
        .routes(routes!(admin::orders::refund))
        .routes(routes!(admin::reports::customers))
        .routes(routes!(admin::reports::analytics_summary))
}

/// The router and the OpenAPI document as served (with [`CommonResponses`] on every
/// operation, which exist only once the routes are in).
fn parts() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = routes().split_for_parts();
    CommonResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    parts().1
}

/// The API router, to nest at [`BASE`]: the routes, the document at `/openapi.json`, the
/// front door (credentials, rate limits, API key audit: [`access`]), the time limit, the
/// error shape for everything (timeouts included), and CORS for `cors_origins` (on error
/// answers too).
pub fn router(
    state: &AppState,
    limits: access::Limits,
    cors_origins: &[String],
    timeout: std::time::Duration,
) -> axum::Router<AppState> {
    let (router, doc) = parts();
    let json = serde_json::to_string(&doc).unwrap_or_default();
    let router = router
        .route("/docs", axum::routing::get(docs))
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), limits),
            access::front_door,
        ))
        .layer(axum::middleware::from_fn(error::finish));
    if cors_origins.is_empty() {
        router
    } else {
        router.layer(cors(cors_origins))
    }
}

/// The reference page: Swagger UI (its files come with the site's assets, from the
/// swagger-ui-dist npm package) rendering `/api/v1/openapi.json`.
async fn docs() -> Response {
    const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop API reference</title>
<link rel="stylesheet" href="/api-docs/swagger-ui.css">
</head>
<body>
<noscript><p>This reference needs JavaScript. The API's OpenAPI document is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></noscript>
<div id="docs"></div>
<script src="/api-docs/swagger-ui-bundle.js"></script>
<script src="/api-docs/init.js"></script>
</body>
</html>
"#;
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ],
        PAGE,
    )
        .into_response()
}

/// CORS for the API: pages on `origins` may call it from a browser, sending a token and the
/// API's own headers, and read the headers it answers with. Preflights from any other
/// origin get no CORS headers, so the browser refuses the call.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(cart::CART_TOKEN),
            HeaderName::from_static(orders::ORDER_TOKEN),
        ])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("x-total-count"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}
