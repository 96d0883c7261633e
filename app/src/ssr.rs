//! Server-only glue between the server functions and the rest of the server: the context the
//! server provides to every render and server-function call, the request id, and helpers that
//! turn service errors into [`AppError`]s.

use std::sync::Arc;

use http::request::Parts;
use leptos::prelude::*;

use crate::error::AppError;

/// What the server hands to every render and every server function.
#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: shop_core::Db,
    pub clock: shop_core::Clock,
    pub shop: Arc<ShopSettings>,
}

/// Shop-wide settings from the configuration.
#[derive(Clone, Debug)]
pub struct ShopSettings {
    /// Shown in the header, titles and mails.
    pub name: String,
    /// Public base URL without a trailing slash, e.g. `https://shop.example.com`.
    pub base_url: String,
    /// True when the public URL is https: adds HSTS and upgrade-insecure-requests.
    pub behind_tls: bool,
    /// Set while `cargo leptos watch` serves the site: lets its reload socket through the CSP.
    pub live_reload_port: Option<u16>,
}

/// The server context, or an internal error if it is missing (a wiring bug).
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| internal("server context missing"))
}

/// The id of the request being served (set by the request-id middleware).
pub fn request_id() -> String {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// Logs an infrastructure failure with the request id and returns the error the browser gets.
pub fn internal(error: impl std::fmt::Display) -> AppError {
    let request_id = request_id();
    tracing::error!(request.id = %request_id, error = %error, "request failed");
    AppError::Internal { request_id }
}

/// True when the browser posted a plain HTML form (JavaScript off): it expects a page back,
/// not data, so outcomes travel in the redirect URL.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// After a plain form post succeeded, sends the browser back to the page it came from with
/// `flash=<value>` in the query, so the page can say what happened. With JavaScript on this
/// does nothing: the page updates in place.
pub fn redirect_back_with_flash(flash: &str) {
    if !is_plain_form_post() {
        return;
    }
    let referer = use_context::<Parts>().and_then(|p| {
        p.headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let target = same_site_path(referer.as_deref()).unwrap_or_else(|| "/".to_owned());
    leptos_axum::redirect(&with_flash(&target, flash));
}

/// The path and query of a Referer, refusing anything that is not a plain local path, so a
/// forged header cannot turn the redirect into an open redirect.
fn same_site_path(referer: Option<&str>) -> Option<String> {
    let referer = referer?;
    let after_scheme = referer.split_once("://").map_or(referer, |(_, rest)| rest);
    let path = match after_scheme.find('/') {
        Some(i) if referer.contains("://") => &after_scheme[i..],
        _ if referer.starts_with('/') => referer,
        _ => return None,
    };
    let path = path.split('#').next().unwrap_or("/");
    (path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'))
        .then(|| path.to_owned())
}

fn with_flash(path: &str, flash: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !p.starts_with("flash=")
                && !p.starts_with("__err=")
                && !p.starts_with("__path=")
        })
        .collect();
    let flash_pair = format!("flash={flash}");
    pairs.push(&flash_pair);
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_redirects_stay_on_this_site() {
        assert_eq!(
            same_site_path(Some("http://127.0.0.1:3000/c/pans?page=2#x")).as_deref(),
            Some("/c/pans?page=2")
        );
        assert_eq!(
            same_site_path(Some("/account")).as_deref(),
            Some("/account")
        );
        assert_eq!(same_site_path(Some("https://evil.example")), None);
        assert_eq!(same_site_path(Some("//evil.example/x")), None);
        assert_eq!(same_site_path(None), None);
    }

    #[test]
    fn flash_replaces_older_outcomes() {
        assert_eq!(with_flash("/", "subscribed"), "/?flash=subscribed");
        assert_eq!(
            with_flash("/c/x?page=2&flash=old&__err=abc&__path=p", "subscribed"),
            "/c/x?page=2&flash=subscribed"
        );
    }
}
