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

/// A per-client request rate limit (by [`app::ssr::ClientIp`], so `TRUST_PROXY` is
/// honoured): a steady rate per minute, with bursts of a sixth of it.
pub struct RateLimit {
    limiter: governor::DefaultKeyedRateLimiter<String>,
    checks: std::sync::atomic::AtomicU64,
}

impl RateLimit {
    /// `None` for 0: no limit.
    pub fn per_minute(requests: u32) -> Option<Arc<RateLimit>> {
        let rate = std::num::NonZeroU32::new(requests)?;
        let burst = std::num::NonZeroU32::new(requests / 6).unwrap_or(rate);
        let quota = governor::Quota::per_minute(rate).allow_burst(burst);
        Some(Arc::new(RateLimit {
            limiter: governor::RateLimiter::keyed(quota),
            checks: std::sync::atomic::AtomicU64::new(0),
        }))
    }
}

impl RateLimit {
    /// Counts a request of `key`: `Err` with the seconds to wait (at least 1) when it is
    /// over its allowance.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let verdict = self.limiter.check_key(&key.to_owned());
        // One entry per key seen: now and then, forget those back at their full allowance.
        let checks = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if checks % 10_000 == 9_999 {
            self.limiter.retain_recent();
        }
        verdict.map_err(|not_until| {
            use governor::clock::Clock as _;
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

/// Answers 429 with `Retry-After` to a client over its [`RateLimit`].
pub async fn rate_limit(
    State(limit): State<Option<Arc<RateLimit>>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limit) = limit else {
        return next.run(req).await;
    };
    let client = req
        .extensions()
        .get::<app::ssr::ClientIp>()
        .map(|ip| auth::throttle::address_group(&ip.0))
        .unwrap_or_else(|| "unknown".to_owned());
    match limit.check(&client) {
        Ok(()) => next.run(req).await,
        Err(seconds) => {
            tracing::info!(client = %client, "rate limit reached");
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                "Too many requests. Please wait a moment and try again.\n",
            )
                .into_response()
        }
    }
}

/// Runs each page render and server function in a task of its own, so that it always runs
/// to its end, and turns a panic in it into a 500 with the request id.
///
/// Dropping a Leptos render halfway (the client went away, or the request timed out) tears
/// down its reactive owner tree on whichever thread lets go last, while the Suspense
/// boundaries' effects of the same render may still be walking that tree on other worker
/// threads: that is what left a worker thread blocked for good in `reactive_graph`'s
/// context lookup, and what made effects read already disposed resources. A request whose
/// client leaves now only drops the task's handle; the render finishes and cleans up in order.
pub async fn own_task(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    // The task carries the request's span, so its log lines keep the request id.
    let handler = tracing::Instrument::in_current_span(next.run(req));
    match tokio::spawn(handler).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(request.id = %request_id, error = %e, "the request handler panicked");
            let body = format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head>\
                 <body><main><h1>Something went wrong on our side</h1>\
                 <p>Please try again. If it keeps happening, quote reference {request_id}.</p></main></body></html>"
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response()
        }
    }
}

/// Settings for [`security_headers`].
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    pub hsts: bool,
}

/// Adds the baseline security headers to every response. Pages have their own CSP (naming
/// their inline scripts, from [`page_policy`]); anything else gets a CSP that allows nothing.
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
    /// Hosts of payment pages a form post may send the browser to (Stripe Checkout's, when
    /// Stripe is configured). Every other redirect stays on this site.
    pub payment_pages: Vec<String>,
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

/// Whether a response is an HTML document.
pub fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Pages are rendered for one shopper (the header shows who is signed in and their cart):
/// a page that sets no caching of its own is marked `private, no-cache`, so no shared cache
/// keeps one shopper's page for another and the browser asks again before reusing it.
pub async fn private_pages(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if is_html(&response) && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    response
}

/// The script nonce of one page render, made by [`page_policy`]; the render takes it from
/// the request, so the inline scripts it writes carry it.
#[derive(Clone, Debug)]
pub struct PageNonce(pub leptos::nonce::Nonce);

/// Pages: a fresh nonce per render, handed to it in the request's extensions, then the page's
/// Content-Security-Policy on every HTML response of the page router (pages, the 404 and error
/// pages) that has none yet, allowing by hash exactly the inline scripts that carry that
/// nonce, the ones the render wrote (see [`crate::csp`]). The body is read whole for that
/// (every page is rendered whole before it is sent) and passed on unchanged, except that a
/// page without islands loses the scripts it would not run ([`crate::csp::page_scripts`]).
pub async fn page_policy(
    State(settings): State<Arc<app::ssr::ShopSettings>>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let response = next.run(req).await;
    if !is_html(&response)
        || response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a page could not be read for its policy");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // A page with nothing interactive loads no wasm and runs no script.
    let scripts = crate::csp::page_scripts(&body, &nonce);
    let body = if scripts.cut.is_empty() {
        body
    } else {
        axum::body::Bytes::from(crate::csp::without(&body, &scripts.cut))
    };
    let hashes = scripts.hashes;
    let policy = app::shell::content_security_policy(&hashes, &settings);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The largest page the server renders (far above any real one: a listing page is ~100 KB).
pub const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// Static files: a path with a name no file system can hold (over 255 bytes) is not a file
/// here, 404, where the file server would fail with a 500.
pub async fn file_names(req: Request, next: Next) -> Response {
    if req
        .uri()
        .path()
        .split('/')
        .any(|segment| segment.len() > 255)
    {
        return (StatusCode::NOT_FOUND, "Not found.\n").into_response();
    }
    next.run(req).await
}

/// Pages and server functions: a URL that encodes a NUL character gets 400 (no field takes
/// one, and PostgreSQL cannot store it); a path with a name over 255 bytes names no page and
/// no public file, so it gets the shop's 404 page (the public-file lookup behind the page
/// routes would fail with a 500).
pub async fn long_page_paths(mut req: Request, next: Next) -> Response {
    if has_encoded_nul(req.uri().path().as_bytes())
        || has_encoded_nul(req.uri().query().unwrap_or_default().as_bytes())
    {
        return nul_refused();
    }
    if req
        .uri()
        .path()
        .split('/')
        .any(|segment| segment.len() > 255)
    {
        *req.uri_mut() = http::Uri::from_static("/not-found");
    }
    next.run(req).await
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

/// What a server function's body must be before Leptos reads it: at most `limit` bytes
/// (413 otherwise, also for chunked bodies, which carry no length up front) and UTF-8 text
/// (400 otherwise; forms and JSON are always UTF-8). Leptos would answer either with a 500.
/// File uploads go through their own routes and never reach this.
pub async fn server_fn_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => return too_large(),
        Err(e) => {
            tracing::debug!(error = %e, "request body could not be read");
            return (
                StatusCode::BAD_REQUEST,
                "The request body could not be read.\n",
            )
                .into_response();
        }
    };
    // Forms and JSON never carry a raw NUL (UTF-16 text is full of them).
    if std::str::from_utf8(&bytes).is_err() || bytes.contains(&0) {
        return (
            StatusCode::BAD_REQUEST,
            "The request body is not UTF-8 text. Forms are sent as UTF-8.\n",
        )
            .into_response();
    }
    if has_encoded_nul(&bytes) {
        return nul_refused();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Whether form or JSON text encodes a NUL character (`%00`, `\u0000`): no form field
/// holds one, and PostgreSQL refuses to store text with it.
fn has_encoded_nul(bytes: &[u8]) -> bool {
    bytes.windows(3).any(|w| w == b"%00")
        || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

fn nul_refused() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "The request contains a NUL character, which no field of this shop accepts.\n",
    )
        .into_response()
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.\n").into_response()
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Where a failed plain form post's error waits in the session for the next page.
const FORM_ERROR_KEY: &str = "form_error";

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredFormError {
    path: String,
    error: String,
}

/// Plain form posts (JavaScript off) and the redirects after them.
///
/// Leptos answers such a post with a redirect to its `Referer` as sent, with a failed call's
/// error and typed values appended to the URL. Here the target becomes a path on this site
/// (any other origin, `//host` or `javascript:` gives `/`), and the error moves into the
/// session, bounded in size, for the next page render to show once: URLs stay short, and
/// nobody can make the shop show a message of their own by sending a link.
pub async fn form_posts(
    State(policy): State<Arc<OriginPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let session = req.extensions().get::<tower_sessions::Session>().cloned();
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/") {
        if req.method() == Method::GET
            && !req.uri().path().starts_with("/api/")
            && let Some(session) = &session
            && let Some(found) = take_form_error(session).await
        {
            req.extensions_mut().insert(found);
        }
        return next.run(req).await;
    }
    // This site's own hosts: the one asked for, and those of PUBLIC_URL and the trusted
    // origins (a proxy may rewrite the Host header).
    let mut hosts: Vec<String> = policy
        .trusted
        .iter()
        .filter_map(|o| o.split_once("://").map(|(_, h)| h.to_owned()))
        .collect();
    hosts.extend(
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .map(str::to_owned),
    );
    let mut response = next.run(req).await;
    let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    if is_payment_page(location, &policy.payment_pages) {
        return response;
    }
    let (target, error) = local_redirect(location, &hosts);
    if let (Some(error), Some(session)) = (error, &session)
        && let Err(e) = session.insert(FORM_ERROR_KEY, &error).await
    {
        tracing::warn!(error = %e, "could not keep a form error in the session");
    }
    match HeaderValue::from_str(&target) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Err(_) => {
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    response
}

async fn take_form_error(session: &tower_sessions::Session) -> Option<app::layout::FormErrorFlash> {
    let stored: StoredFormError = session.get(FORM_ERROR_KEY).await.ok().flatten()?;
    let _ = session.remove_value(FORM_ERROR_KEY).await;
    Some(app::layout::FormErrorFlash {
        path: stored.path,
        error: stored.error,
    })
}

/// Whether `location` is an https page on one of the payment providers' hosts.
fn is_payment_page(location: &str, hosts: &[String]) -> bool {
    location.strip_prefix("https://").is_some_and(|rest| {
        rest.split_once('/').is_some_and(|(authority, path)| {
            hosts.iter().any(|h| authority.eq_ignore_ascii_case(h))
                && !path.contains('\\')
                && !path.starts_with('/')
        })
    })
}

/// The local path (and query) a redirect after a form post may go to, without Leptos's error
/// parameters, and the error they carried (re-encoded from a size-bounded [`app::AppError`]).
fn local_redirect(location: &str, hosts: &[String]) -> (String, Option<StoredFormError>) {
    let local = if let Some(rest) = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
    {
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        if hosts.iter().any(|h| authority.eq_ignore_ascii_case(h)) {
            path
        } else {
            "/"
        }
    } else {
        location
    };
    let local = if local.starts_with('/') && !local.starts_with("//") && !local.contains('\\') {
        local
    } else {
        "/"
    };
    let local = local.split('#').next().unwrap_or("/");
    let (path, query) = local.split_once('?').unwrap_or((local, ""));
    let mut kept = form_urlencoded::Serializer::new(String::new());
    let (mut fn_path, mut encoded) = (None, None);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "__path" => fn_path = Some(v.into_owned()),
            "__err" => encoded = Some(v.into_owned()),
            _ => {
                kept.append_pair(&k, &v);
            }
        }
    }
    let kept = kept.finish();
    let target = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{kept}")
    };
    let error = match (fn_path, encoded) {
        (Some(path), Some(encoded)) if path.starts_with("/api/") && path.len() <= 200 => {
            bounded_error(&encoded).map(|error| StoredFormError { path, error })
        }
        _ => None,
    };
    (target, error)
}

/// Leptos's URL encoding of a server function error (base64 of its JSON), re-made from the
/// error with its echoed values cut to size. Anything that does not decode is dropped.
fn bounded_error(encoded: &str) -> Option<String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE;
    let json = engine.decode(encoded).ok()?;
    let error: app::AppError = serde_json::from_slice(&json).ok()?;
    let json = serde_json::to_vec(&error.bounded()).ok()?;
    Some(engine.encode(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_by_host_or_trust_list() {
        let p = OriginPolicy {
            trusted: vec!["https://admin.example.com".into()],
            payment_pages: Vec::new(),
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

    #[tokio::test]
    async fn a_panic_while_handling_a_request_answers_a_500_page_with_the_request_id() {
        use tower::ServiceExt as _;
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if true {
                        panic!("a bug in a page");
                    }
                    "unreachable"
                }),
            )
            .layer(axum::middleware::from_fn(own_task))
            .layer(axum::middleware::from_fn(request_id));
        let req = Request::builder()
            .uri("/boom")
            .header(&REQUEST_ID, "abc-123")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[&REQUEST_ID], "abc-123");
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("quote reference abc-123"), "{body}");
        assert!(
            !body.contains("a bug in a page"),
            "no panic text for the client"
        );
    }

    #[test]
    fn form_redirects_may_go_to_a_configured_payment_page_only() {
        let stripe = ["checkout.stripe.com".to_owned()];
        assert!(is_payment_page(
            "https://checkout.stripe.com/c/pay/cs_test_1",
            &stripe
        ));
        for other in [
            "http://checkout.stripe.com/c/pay/cs_test_1",
            "https://checkout.stripe.com.evil.example/c/pay",
            "https://evil.example/checkout.stripe.com/",
            "https://checkout.stripe.com",
            "https://checkout.stripe.com//evil.example",
        ] {
            assert!(!is_payment_page(other, &stripe), "{other}");
        }
        assert!(!is_payment_page(
            "https://checkout.stripe.com/c/pay/cs_test_1",
            &[]
        ));
    }

    #[test]
    fn form_redirects_stay_on_this_site_and_drop_the_error_parameters() {
        let hosts = ["shop.test".to_owned()];
        let cases = [
            ("http://shop.test/c/pans?page=2", "/c/pans?page=2"),
            ("https://SHOP.test", "/"),
            ("http://evil.example/x", "/"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/"),
            ("javascript:alert(1)", "/"),
            ("/cart#top", "/cart"),
            (
                "/account?__path=%2Fapi%2Fx&__err=%3D%3D&tab=1",
                "/account?tab=1",
            ),
        ];
        for (location, want) in cases {
            assert_eq!(local_redirect(location, &hosts).0, want, "{location}");
        }
    }

    #[test]
    fn a_form_error_moves_out_of_the_url_bounded_in_size() {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE;
        let long = "x".repeat(100_000);
        let error = app::AppError::field("email", "Enter an email address.")
            .keeping(&[("email", long.as_str())]);
        let encoded = engine.encode(serde_json::to_vec(&error).unwrap());
        let location =
            format!("http://shop.test/register?__path=%2Fapi%2Faccount%2Fregister&__err={encoded}");
        let (target, stored) = local_redirect(&location, &["shop.test".to_owned()]);
        assert_eq!(target, "/register");
        let stored = stored.expect("the error is kept");
        assert_eq!(stored.path, "/api/account/register");
        assert!(stored.error.len() < 4096, "{} bytes", stored.error.len());
        let back: app::AppError =
            serde_json::from_slice(&engine.decode(&stored.error).unwrap()).unwrap();
        assert_eq!(
            back.message_for("email").as_deref(),
            Some("Enter an email address.")
        );
        // A forged error that is not one of ours is dropped, not shown.
        let forged = "/register?__path=%2Fapi%2Fx&__err=bm90IGpzb24";
        assert!(local_redirect(forged, &[]).1.is_none());
    }
}
