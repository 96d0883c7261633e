//! The API's front door: who is calling (an access token, an API key, or nobody), the rate
//! limit that applies to them, and the audit entry of every call made with an API key.
//!
//! Every request counts against its client address (`RATE_LIMIT_PER_MINUTE`), checked
//! before anything is read; a request with a working credential also counts against that
//! credential's own allowance (`API_RATE_LIMIT_PER_MINUTE`: per API key, or per signed-in
//! user across their sign-ins). An access token is checked here only by its signature and
//! expiry (no database); the handler's extractor checks its sign-in is still live. An API
//! key is checked in full here, owner included, and travels to the handler as a
//! [`Credential::Key`].

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::middleware::RateLimit;
use crate::state::AppState;

/// The API's two allowances.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Per client address (every request).
    pub per_client: Option<Arc<RateLimit>>,
    /// Per API key, or per user signed in with access tokens.
    pub per_credential: Option<Arc<RateLimit>>,
}

/// What the front door found, for the handlers (in the request's extensions).
#[derive(Clone, Debug)]
pub enum Credential {
    /// A working API key and its owner's account (active).
    Key(Box<KeyHolder>),
    /// Anything else: an access token (checked by the handler), or nothing.
    Other,
}

/// A working API key and its owner.
#[derive(Clone, Debug)]
pub struct KeyHolder {
    pub key: auth::api_keys::ApiKey,
    pub owner: auth::Account,
}

/// The bearer token of a request, if it sent one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn too_many(seconds: u64) -> Response {
    ApiError::rate_limited(
        "Too many requests. Wait for the time in Retry-After.",
        seconds,
    )
    .into_response()
}

/// A key that does not work, as the API answers it.
fn key_error(e: auth::api_keys::KeyError) -> ApiError {
    use auth::api_keys::KeyError;
    match e {
        KeyError::Invalid => ApiError::unauthorized("invalid_key", e.to_string()),
        KeyError::Expired => ApiError::unauthorized("key_expired", e.to_string()),
        KeyError::Revoked => ApiError::unauthorized("key_revoked", e.to_string()),
        KeyError::Db(e) => ApiError::internal(e),
    }
}

/// The key `token` names, with its owner, if both still work.
async fn working_key(state: &AppState, token: &str) -> Result<Credential, ApiError> {
    let ctx = &state.ctx;
    let key = auth::api_keys::authenticate(&ctx.db, ctx.clock.now(), token)
        .await
        .map_err(key_error)?;
    let owner = auth::users::find(&ctx.db, &key.user_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|a| a.status == auth::Status::Active)
        .ok_or_else(|| {
            ApiError::unauthorized("key_owner_disabled", "This API key's owner cannot sign in.")
        })?;
    Ok(Credential::Key(Box::new(KeyHolder { key, owner })))
}

/// Wraps the API router (inside the error shape): finds the credential, applies its rate
/// limit, and records calls made with a key.
pub async fn front_door(
    State((state, limits)): State<(AppState, Limits)>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = bearer(req.headers()).map(str::to_owned);
    // Every request counts against its client address first, before any database read, so
    // a flood of made-up keys is turned away as cheaply as any other flood.
    if let Some(limit) = &limits.per_client {
        let client = req
            .extensions()
            .get::<app::ssr::ClientIp>()
            .map(|ip| auth::throttle::address_group(&ip.0))
            .unwrap_or_else(|| "unknown".to_owned());
        if let Err(seconds) = limit.check(&client) {
            return too_many(seconds);
        }
    }
    let mut refused = None;
    let mut credential = Credential::Other;
    // A working credential's own allowance: an API key's, or a signed-in user's (all their
    // sign-ins together, so more sign-ins do not buy more requests).
    let mut bucket = None;
    match token.as_deref() {
        Some(t) if auth::api_keys::looks_like_key(t) => match working_key(&state, t).await {
            Ok(found) => {
                if let Credential::Key(holder) = &found {
                    bucket = Some(format!("key:{}", holder.key.id));
                }
                credential = found;
            }
            Err(e) => refused = Some(e),
        },
        Some(t) => {
            if let Ok(claims) = state.api.tokens.verify(t, state.ctx.clock.now()) {
                bucket = Some(format!("user:{}", claims.sub));
            }
        }
        None => {}
    }
    if let (Some(bucket), Some(limit)) = (bucket, &limits.per_credential)
        && let Err(seconds) = limit.check(&bucket)
    {
        return too_many(seconds);
    }
    if let Some(e) = refused {
        return e.into_response();
    }
    let Credential::Key(holder) = credential else {
        req.extensions_mut().insert(Credential::Other);
        return next.run(req).await;
    };
    // A call made with a key: recorded with what it asked and how it was answered.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let call = format!("{} {path}", req.method());
    req.extensions_mut().insert(Credential::Key(holder.clone()));
    let response = next.run(req).await;
    let (key, ctx) = (&holder.key, &state.ctx);
    if let Err(e) = auth::api_keys::record_use(
        &ctx.db,
        &ctx.clock,
        key,
        holder.owner.email.as_str(),
        &call,
        response.status().as_u16(),
    )
    .await
    {
        tracing::error!(error = %e, key.id = %key.id, "could not record an API key's call");
    }
    response
}
