//! Endpoints outside the Leptos app: liveness, readiness, metrics, and the files crawlers
//! read (`robots.txt`, `sitemap.xml`).

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;

use crate::state::AppState;

/// `/health`: the process is up and serving.
pub async fn health() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

/// `/images/{name}` when product images are kept in a bucket (`S3_BUCKET`): read through
/// the instance asked, at the same URLs as from local disk (the asset layers add the
/// year-long cache headers).
pub async fn image(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    match state.ctx.images.read(&name).await {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "no such image\n",
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, file = %name, "could not read an image from its bucket");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::CACHE_CONTROL, "no-store"),
                    (header::RETRY_AFTER, "5"),
                ],
                "image storage unavailable\n",
            )
                .into_response()
        }
    }
}

/// `/ready`: the database answers and the instance is not shutting down. 503 otherwise, so
/// a load balancer stops sending traffic here.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            "shutting down\n",
        );
    }
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.ctx.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ready\n",
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CACHE_CONTROL, "no-store")],
                "database unavailable\n",
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            "database timed out\n",
        ),
    }
}

/// `POST /webhooks/stripe`: a payment provider's event. 200 once it is recorded (or was
/// before), 400 when it is not a genuine, well-formed event (nothing changes), 500 when the
/// shop could not record it (the provider delivers it again later).
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let json = [(header::CONTENT_TYPE, "application/json")];
    match state.ctx.checkout.receive(signature, &body).await {
        Ok(_) => (StatusCode::OK, json, "{\"received\":true}\n").into_response(),
        Err(checkout::webhook::WebhookError::Rejected(reason)) => (
            StatusCode::BAD_REQUEST,
            json,
            format!("{}\n", serde_json::json!({ "error": reason })),
        )
            .into_response(),
        Err(checkout::webhook::WebhookError::Failed(e)) => {
            tracing::error!(error = %e, "could not record a webhook event; the provider will retry");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json,
                "{\"error\":\"the event could not be recorded; retry later\"}\n",
            )
                .into_response()
        }
    }
}

/// Whether this request may read `/metrics`: with `METRICS_TOKEN` set, only with
/// `Authorization: Bearer <token>`; without, only from this machine and not through a proxy
/// (which would make every visitor look local).
fn may_read_metrics(
    token: Option<&crate::config::Secret>,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> Result<(), StatusCode> {
    match token {
        Some(token) => {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if constant_time_eq(sent.as_bytes(), token.expose().as_bytes()) {
                Ok(())
            } else {
                Err(StatusCode::UNAUTHORIZED)
            }
        }
        None if peer.ip().is_loopback() && !headers.contains_key("x-forwarded-for") => Ok(()),
        None => Err(StatusCode::FORBIDDEN),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/metrics`: Prometheus text format. Request series plus the outbox backlog.
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> axum::response::Response {
    if let Err(status) = may_read_metrics(state.metrics_token.as_ref(), peer, &headers) {
        let message = if status == StatusCode::UNAUTHORIZED {
            "Metrics need the METRICS_TOKEN bearer token.\n"
        } else {
            "Metrics are served to this machine only (set METRICS_TOKEN to read them from elsewhere).\n"
        };
        return (
            status,
            [
                (header::WWW_AUTHENTICATE, "Bearer"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            message,
        )
            .into_response();
    }
    let mut body = state.metrics.render();
    match shop_core::outbox::counts_by_status(&state.ctx.db).await {
        Ok(counts) => {
            body.push_str("# HELP shop_outbox_events Outbox events by status.\n# TYPE shop_outbox_events gauge\n");
            for (status, n) in counts {
                body.push_str(&format!("shop_outbox_events{{status=\"{status}\"}} {n}\n"));
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count outbox events for /metrics"),
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `/robots.txt`: keeps crawlers out of private and transactional pages and points them at
/// the sitemap.
pub async fn robots(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /admin\nDisallow: /account\nDisallow: /cart\nDisallow: /checkout\nDisallow: /search\n\nSitemap: {}/sitemap.xml\n",
        state.ctx.shop.base_url
    );
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// `/sitemap.xml`: the home page, every category with products and every active product.
pub async fn sitemap(State(state): State<AppState>) -> axum::response::Response {
    let base = &state.ctx.shop.base_url;
    let catalog = &state.ctx.catalog;
    let (tree, products) = match (
        catalog.tree().await,
        catalog::products::sitemap_entries(catalog.db()).await,
    ) {
        (Ok(tree), Ok(products)) => (tree, products),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "could not build the sitemap");
            return (StatusCode::SERVICE_UNAVAILABLE, "sitemap unavailable\n").into_response();
        }
    };
    let mut xml = String::with_capacity(200 + products.len() * 120);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    xml.push_str(&format!("<url><loc>{}/</loc></url>\n", escape_xml(base)));
    for c in tree.all().iter().filter(|c| c.product_count > 0) {
        xml.push_str(&format!(
            "<url><loc>{}/c/{}</loc></url>\n",
            escape_xml(base),
            escape_xml(&c.slug)
        ));
    }
    for (slug, updated) in products {
        xml.push_str(&format!(
            "<url><loc>{}/p/{}</loc><lastmod>{}</lastmod></url>\n",
            escape_xml(base),
            escape_xml(&slug),
            updated.to_rfc3339().get(..10).unwrap_or_default()
        ));
    }
    xml.push_str("</urlset>\n");
    (
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        xml,
    )
        .into_response()
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
