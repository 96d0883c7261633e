//! Request ids, security headers and cross-origin (CSRF) protection.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, StatusCode};

/// The request id header: taken from a trusted proxy if present, else generated.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an id (in the request headers, so handlers and error pages can show
/// it) and echoes it on the response. A span carries it into every log line of the request.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID.clone(), value.clone());
    let span = tracing::info_span!("request", request.id = %id, method = %req.method(), path = %req.uri().path());
    let start = std::time::Instant::now();
    span.in_scope(|| tracing::debug!("request started"));
    let mut response = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let status = response.status();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), ms, "request finished");
        } else {
            tracing::debug!(status = status.as_u16(), ms, "request finished");
        }
    });
    response.headers_mut().insert(REQUEST_ID.clone(), value);
    response
}

/// Works out the client's address (the TCP peer, or with `TRUST_PROXY` the last address a
/// proxy appended to `X-Forwarded-For`) and puts it in the request as [`app::ssr::ClientIp`].
pub async fn client_ip(State(trust_proxy): State<bool>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                .map(|ip| ip.to_string())
        })
        .flatten();
    let ip = forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned());
    req.extensions_mut().insert(app::ssr::ClientIp(ip));
    next.run(req).await
}

/// Settings for [`security_headers`].
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    pub hsts: bool,
}

/// Adds the baseline security headers to every response. Pages set their own CSP (with the
/// script nonce); anything else gets a CSP that allows nothing.
pub async fn security_headers(
    State(policy): State<Arc<HeaderPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    if policy.hsts {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

/// Which origins may send state-changing requests.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// Full origins (`https://shop.example.com`) trusted besides the request's own host.
    pub trusted: Vec<String>,
}

impl OriginPolicy {
    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/');
        if self.trusted.iter().any(|t| t.eq_ignore_ascii_case(origin)) {
            return true;
        }
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
    }
}

/// Refuses state-changing requests that a browser sent on behalf of another site.
///
/// Browsers label every request with `Sec-Fetch-Site` and/or `Origin`; a request without
/// either did not come from a browser page and so cannot carry a victim's cookies by
/// forgery. A same-origin form post (with JavaScript on or off) passes; a post from any other
/// origin gets 403 unless that origin is trusted. Safe methods never change state here, so
/// they pass.
pub async fn cross_origin_guard(
    State(policy): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = get("origin").filter(|o| *o != "null");
    let host = get("host");
    let allowed = match get("sec-fetch-site") {
        Some("same-origin") | Some("none") => true,
        Some(_) => origin.is_some_and(|o| policy.allows(o, None)),
        None => match (origin, get("origin")) {
            (Some(o), _) => policy.allows(o, host),
            // `Origin: null` comes from sandboxed frames and privacy-stripped redirects.
            (None, Some(_)) => false,
            (None, None) => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(origin = origin.unwrap_or("null"), path = %req.uri().path(), "cross-origin request refused");
        (StatusCode::FORBIDDEN, "Cross-origin request refused.\n").into_response()
    }
}

/// Pages are rendered for one shopper (the header shows who is signed in and their cart):
/// a page that sets no caching of its own is marked `private, no-cache`, so no shared cache
/// keeps one shopper's page for another and the browser asks again before reusing it.
pub async fn private_pages(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    response
}

/// Long-lived caching for the hashed build output under /pkg; a missing file is not cached.
pub async fn immutable_cache(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

/// Server functions answer every error with 500; this gives each the status its
/// [`app::AppError`] stands for (422 for bad input, 401, 403, 404, 429), so clients and logs
/// see a correct status. Plain form posts are redirects and pass untouched.
pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    };
    if let Ok(error) = serde_json::from_slice::<app::AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.status())
    {
        parts.status = status;
        if let app::AppError::TooManyRequests {
            retry_after_secs, ..
        } = error
        {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_by_host_or_trust_list() {
        let p = OriginPolicy {
            trusted: vec!["https://admin.example.com".into()],
        };
        assert!(p.allows("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(p.allows("https://admin.example.com/", Some("shop.example.com")));
        assert!(!p.allows("https://evil.example", Some("shop.example.com")));
        assert!(!p.allows(
            "https://shop.example.com.evil.example",
            Some("shop.example.com")
        ));
        assert!(!p.allows("garbage", Some("garbage")));
    }
}
