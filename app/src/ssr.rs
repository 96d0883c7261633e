//! Server-only glue between the server functions and the rest of the server: the context the
//! server provides to every render and server-function call, the request id, and helpers that
//! turn service errors into [`AppError`]s.

use std::sync::Arc;

use http::request::Parts;
use leptos::prelude::*;

use crate::error::AppError;

/// What the server hands to every render and every server function: one shared allocation,
/// so the many lookups of a request (each takes a copy from the render's context) cost one
/// reference count each, not one per service handle inside.
#[derive(Clone, Debug)]
pub struct ServerContext(Arc<Services>);

impl ServerContext {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for ServerContext {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The shop's services and settings, as [`ServerContext`] holds them.
#[derive(Debug)]
pub struct Services {
    pub db: shop_core::Db,
    /// The catalog (the same database, plus its caches).
    pub catalog: catalog::Catalog,
    pub clock: shop_core::Clock,
    pub shop: Arc<ShopSettings>,
    /// Where product image files are stored.
    pub images: catalog::ImageStore,
    /// Orders and payment.
    pub checkout: checkout::Checkout,
    /// Sends outbound webhooks (the admin's test button), with the address policy.
    pub webhooks: notifications::webhooks::Sender,
    /// First-party analytics: events noted while serving, the dashboards' figures.
    pub analytics: analytics::Analytics,
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
    /// The currency new products are priced in.
    pub currency: shop_core::Currency,
    /// What the mails show (name, colour, staff address), for the template previews.
    pub mail: notifications::ShopInfo,
}

/// The client's address as the server determined it (the peer address, or the proxy's
/// `X-Forwarded-For` when configured to trust it). Put in the request extensions by the
/// server's middleware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

/// The client address of this request, for throttling and the sessions list.
pub fn client_ip() -> String {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<ClientIp>().map(|ip| ip.0.clone()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The browser's User-Agent, for the sessions list.
pub fn user_agent() -> Option<String> {
    use_context::<Parts>().and_then(|p| {
        p.headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// This request's session (the session layer wraps every page and server function).
pub fn session() -> Result<tower_sessions::Session, AppError> {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned())
        .ok_or_else(|| internal("session layer missing"))
}

/// The internal response header in which a page or server function notes the analytics event
/// it served (an [`analytics::Noted`] in its header form). The server records it for the
/// visit that asked and takes it off the response; the page cache keeps it with a page, so a
/// page served again from the cache counts again.
pub const EVENT_HEADER: &str = "x-shop-event";

/// Put in a response's extensions when the page went to the shop's staff (its frame shows
/// an admin or a vendor): their visits are not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staff;

/// Notes on this response the analytics event it serves (see [`EVENT_HEADER`]).
pub fn note_event(noted: &analytics::Noted) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&noted.to_header()),
    ) {
        response.insert_header(http::HeaderName::from_static(EVENT_HEADER), value);
    }
}

/// [`note_event`] for a request by `account`, unless the account is the shop's staff (an
/// admin or a vendor trying the shop): for server functions, whose answers carry no frame.
pub fn note_event_by(account: Option<&auth::Account>, noted: &analytics::Noted) {
    let staff =
        account.is_some_and(|a| a.has_role(auth::Role::Admin) || a.has_role(auth::Role::Vendor));
    if !staff {
        note_event(noted);
    }
}

/// Whether this render is the page at `path` (not a server function called from a page).
pub fn rendering_page(path: &str) -> bool {
    use_context::<Parts>().is_some_and(|p| p.uri.path() == path)
}

/// The signed-in account, if any. Checked against the database on every call: a disabled
/// account or an ended session is signed out at once.
pub async fn current_user() -> Result<Option<auth::Account>, AppError> {
    let ctx = server_context()?;
    let session = session()?;
    crate::signed_in::current(&session, &ctx.db, &ctx.clock)
        .await
        .map(|found| found.map(|(account, _)| account))
        .map_err(AppError::from)
}

/// The signed-in account, or [`AppError::Unauthorized`] (401; pages send the browser to the
/// sign-in page).
pub async fn require_user() -> Result<auth::Account, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

/// The signed-in account if it may act as `role` (the admin role also needs a verified
/// address): 401 when nobody is signed in, 403 for anyone else.
pub async fn require_role(role: auth::Role) -> Result<auth::Account, AppError> {
    let account = require_user().await?;
    if account.may_act_as(role) {
        Ok(account)
    } else {
        tracing::warn!(user.id = %account.id, role = role.as_str(), "refused: missing role");
        Err(AppError::Forbidden)
    }
}

/// What `account` may change in the catalog: everything for the shop's admins, their own
/// products for vendors, nothing for anyone else.
pub fn catalog_editor_for(account: &auth::Account) -> Option<catalog::Editor> {
    let access = if account.may_act_as(auth::Role::Admin) {
        catalog::Access::Shop
    } else if account.may_act_as(auth::Role::Vendor) {
        catalog::Access::Vendor(account.id.clone())
    } else {
        return None;
    };
    Some(catalog::Editor {
        actor: shop_core::audit::Actor::user(&account.id, account.email.as_str()),
        access,
    })
}

/// The guard of every catalog endpoint (server functions and the upload routes alike): the
/// account as a catalog editor, 401 when nobody is signed in, 403 for anyone but an admin or
/// a vendor.
pub fn catalog_editor(account: Option<&auth::Account>) -> Result<catalog::Editor, AppError> {
    let account = account.ok_or(AppError::Unauthorized)?;
    catalog_editor_for(account).ok_or_else(|| {
        tracing::warn!(user.id = %account.id, "refused: not an admin or vendor");
        AppError::Forbidden
    })
}

/// The signed-in admin or vendor as a catalog editor (see [`catalog_editor`]).
pub async fn require_catalog_editor() -> Result<catalog::Editor, AppError> {
    catalog_editor(current_user().await?.as_ref())
}

/// An id from the browser (a URL, a form field). Anything that is not an id is a thing that
/// does not exist: 404, like an id nobody has.
/// The confirmation box of a form that changes something for good (`confirm=yes`); a
/// clear field error when it was not ticked.
pub fn confirmed(confirm: Option<String>) -> Result<(), AppError> {
    if confirm.as_deref() == Some("yes") {
        Ok(())
    } else {
        Err(AppError::field(
            "confirm",
            "Tick the box to confirm, then send the form again.",
        ))
    }
}

pub fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T, AppError> {
    text.parse().map_err(|_| AppError::NotFound)
}

// One conversion per service error: what the shopper may see becomes a message (beside its
// field where it has one), and what broke on our side is logged with the request id and
// shown only as that id.

impl From<auth::AuthError> for AppError {
    fn from(e: auth::AuthError) -> Self {
        use auth::AuthError as E;
        if e.is_internal() {
            return internal(e);
        }
        match e {
            E::Throttled { retry_after_secs } => AppError::TooManyRequests {
                message: e.to_string(),
                retry_after_secs,
            },
            E::UserNotFound | E::AddressNotFound | E::SessionNotFound | E::KeyNotFound => {
                AppError::NotFound
            }
            other => match other.field() {
                Some(field) => AppError::field(field, other.to_string()),
                None => AppError::form(other.to_string()),
            },
        }
    }
}

impl From<catalog::CatalogError> for AppError {
    fn from(e: catalog::CatalogError) -> Self {
        match e {
            catalog::CatalogError::Invalid { field, message } => AppError::field(field, message),
            catalog::CatalogError::NotFound => AppError::NotFound,
            catalog::CatalogError::Db(e) => internal(e),
            catalog::CatalogError::Io(e) => internal(e),
        }
    }
}

impl From<cart::CartError> for AppError {
    /// A cart outcome is about the form as a whole; [`AppError::on_field`] puts it beside the
    /// line or product it concerns.
    fn from(e: cart::CartError) -> Self {
        if e.is_internal() {
            internal(e)
        } else {
            AppError::form(e.to_string())
        }
    }
}

impl From<checkout::CheckoutError> for AppError {
    fn from(e: checkout::CheckoutError) -> Self {
        use checkout::CheckoutError as E;
        if e.is_internal() {
            return internal(e);
        }
        match e {
            E::NotFound => AppError::NotFound,
            E::Invalid { field, message } => AppError::field(field, message),
            E::Provider(inner) => {
                tracing::error!(request.id = %request_id(), error = %inner, "payment provider failed");
                AppError::form(E::Provider(inner).to_string())
            }
            other => AppError::form(other.to_string()),
        }
    }
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

/// Sends the browser to `path` with `flash=<code>` added (with JavaScript on, the router
/// follows it without a full page load). Use after an action succeeded.
pub fn redirect_with_flash(path: &str, flash: &str) {
    leptos_axum::redirect(&with_flash(path, flash));
}

/// Like [`redirect_with_flash`] to the page the request came from (its Referer, if it is a
/// page of this site), or `fallback`.
pub fn redirect_back_always(flash: &str, fallback: &str) {
    let referer = use_context::<Parts>().and_then(|p| {
        p.headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let target = same_site_path(referer.as_deref()).unwrap_or_else(|| fallback.to_owned());
    redirect_with_flash(&target, flash);
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
    crate::url::safe_next(Some(path))
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
