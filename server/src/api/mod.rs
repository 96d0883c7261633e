//! The public JSON API, version 1, under `/api/v1` (the server functions live at
//! `/api/<name>` and none is named `v1`). Thin handlers over the same service crates as the
//! pages: they read the request, check who is asking, call a service, and answer in JSON.
//!
//! Conventions: `Authorization: Bearer <token>`; one error shape ([`error`]); money as
//! integer minor units plus currency; lists paged with the total in the body,
//! `X-Total-Count` and `Link`; `ETag` on product reads. The OpenAPI 3.1 document is built from
//! the handlers' annotations and served at `/api/v1/openapi.json`.

pub mod auth;
pub mod catalog;
pub mod error;

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

/// A page of products as the answer to a list: body, `X-Total-Count` and `Link` (first,
/// prev, next, last) built from `path` and the list's `query` without its page.
fn paginated(path: &str, query: &[(&str, String)], listing: &::catalog::Listing) -> Response {
    let pagination = Pagination {
        page: listing.page,
        per_page: ::catalog::listing::PER_PAGE,
        total: listing.total,
        pages: listing.pages,
    };
    let link = |page: i64, rel: &str| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in query {
            q.append_pair(k, v);
        }
        q.append_pair("page", &page.to_string());
        format!("<{path}?{}>; rel=\"{rel}\"", q.finish())
    };
    let mut links = Vec::new();
    if listing.pages > 0 {
        links.push(link(1, "first"));
        if listing.page > 1 {
            links.push(link((listing.page - 1).min(listing.pages), "prev"));
        }
        if listing.page < listing.pages {
            links.push(link(listing.page + 1, "next"));
        }
        links.push(link(listing.pages, "last"));
    }
    let body = catalog::ProductPage {
        data: listing
            .items
            .iter()
            .map(catalog::ProductSummary::from)
            .collect(),
        pagination,
    };
    let mut response = error::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(listing.total));
    if let Ok(v) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        headers.insert(header::LINK, v);
    }
    response
}

/// The API's OpenAPI document (the paths come from [`router`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        version = "1",
        description = "The shop's public JSON API: accounts and tokens, the catalog, carts, orders.\n\nErrors all have one shape: `{\"error\":{\"code\",\"message\",\"fields\",\"request_id\"}}`. Money is integer minor units plus an ISO currency. Lists carry their total in the body, `X-Total-Count` and `Link`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "catalog", description = "Categories, products and search"),
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
                    .bearer_format("JWT")
                    .build(),
            ),
        );
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
}

/// The OpenAPI document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The API router, to nest at [`BASE`]: the routes, the document at `/openapi.json`, the
/// per-client rate limit, and the error shape for everything.
pub fn router(
    limit: Option<std::sync::Arc<crate::middleware::RateLimit>>,
) -> axum::Router<AppState> {
    let (router, doc) = routes().split_for_parts();
    let json = serde_json::to_string(&doc).unwrap_or_default();
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            limit,
            crate::middleware::rate_limit,
        ))
        .layer(axum::middleware::from_fn(error::finish))
}
