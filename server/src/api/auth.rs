//! Accounts through the API: register, confirm the address, sign in for tokens, refresh,
//! sign out, and who the token belongs to.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;

/// The signed-in caller of a request with `Authorization: Bearer <access token>`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: auth::Account,
    /// The API session the token belongs to.
    pub session: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Err(ApiError::unauthorized(
                "unauthorized",
                "Sign in: send Authorization: Bearer <access token>.",
            ));
        }
        let token = super::access::bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "The Authorization header must be: Bearer <access token>.",
            )
        })?;
        let ctx = &state.ctx;
        let claims = state
            .api
            .tokens
            .verify(token, ctx.clock.now())
            .map_err(token_error)?;
        let user = state
            .api
            .tokens
            .user_of(&ctx.db, &claims)
            .await
            .map_err(token_error)?;
        let account = auth::users::find(&ctx.db, &user)
            .await?
            .filter(|a| a.status == auth::Status::Active)
            .ok_or_else(|| {
                ApiError::unauthorized("account_disabled", "This account cannot sign in.")
            })?;
        Ok(Caller {
            account,
            session: claims.sid,
        })
    }
}

fn token_error(e: auth::api_sessions::TokenError) -> ApiError {
    use auth::api_sessions::TokenError;
    match e {
        TokenError::Invalid => ApiError::unauthorized("invalid_token", e.to_string()),
        TokenError::Expired => ApiError::unauthorized("token_expired", e.to_string()),
        TokenError::Revoked => ApiError::unauthorized("session_ended", e.to_string()),
        TokenError::Reused => ApiError::unauthorized("refresh_token_reused", e.to_string()),
        TokenError::Db(e) => ApiError::internal(e),
    }
}

/// An account error as the API answers it.
pub(super) fn auth_error(e: auth::AuthError) -> ApiError {
    use auth::AuthError;
    if e.is_internal() {
        return ApiError::internal(e);
    }
    let message = e.to_string();
    match &e {
        AuthError::InvalidCredentials => ApiError::unauthorized("invalid_credentials", message),
        AuthError::AccountDisabled => ApiError::forbidden(message),
        AuthError::InvalidToken => ApiError::invalid("token", message),
        AuthError::KeyNotFound => ApiError::not_found(message),
        AuthError::AlreadyVerified => {
            ApiError::new(StatusCode::CONFLICT, "already_verified", message)
        }
        AuthError::Throttled { retry_after_secs } => {
            ApiError::rate_limited(message, *retry_after_secs)
        }
        _ => match e.field() {
            Some(field) => ApiError::invalid(field, message),
            None => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
        },
    }
}

/// The client's address, as the server's middleware determined it.
fn client_ip(parts_ip: Option<&app::ssr::ClientIp>) -> String {
    parts_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.0.clone())
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    /// At least 10 characters, not a common password, not the address.
    pub password: String,
    pub display_name: String,
}

/// A plain acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

/// Creates an account and sends the mail that confirms the address. The answer is the same
/// whether or not the address already had an account.
#[utoipa::path(
    post, path = "/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "If the address is new, the account is made and a confirmation mail is on its way", body = Message),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "A field is invalid (see `fields`)", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address", body = ErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ip: Option<axum::Extension<app::ssr::ClientIp>>,
    Json(body): Json<RegisterRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let ctx = &state.ctx;
    let email = shop_core::Email::parse(&body.email)
        .map_err(|e| ApiError::invalid("email", e.to_string()))?;
    auth::register(
        &ctx.db,
        &ctx.clock,
        auth::users::Registration {
            email,
            display_name: body.display_name,
            password: body.password,
            ip: client_ip(ip.as_deref()),
        },
    )
    .await
    .map_err(auth_error)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Message {
            message: "Check your inbox: the mail has a link that confirms the address.".to_owned(),
        }),
    ))
}

/// The token from the confirmation mail's link (`/verify?token=...`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub token: String,
}

/// Confirms an account's address with the token from its mail.
#[utoipa::path(
    post, path = "/auth/verify", tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The address is confirmed", body = Me),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The token is invalid, used or expired", body = ErrorBody),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    Json(body): Json<VerifyRequest>,
) -> Result<Json<Me>, ApiError> {
    let ctx = &state.ctx;
    let account = auth::users::verify_email(&ctx.db, &ctx.clock, &body.token)
        .await
        .map_err(auth_error)?;
    Ok(Json(Me::from(&account)))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// A refresh token to trade.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens for a sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT (HS256): send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token works (900).
    pub expires_in: i64,
    /// Opaque; works once, for [`refresh`]'s endpoint, within `refresh_expires_in` seconds.
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

impl TokenPair {
    fn from_issued(issued: auth::api_sessions::Issued) -> TokenPair {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        TokenPair {
            expires_in: secs(auth::api_sessions::ACCESS_TTL),
            refresh_expires_in: secs(auth::api_sessions::REFRESH_TTL),
            access_token: issued.access_token,
            token_type: "Bearer".to_owned(),
            refresh_token: issued.refresh_token,
        }
    }
}

/// Signs in with email and password: an access token (15 minutes) and a refresh token
/// (7 days, one use). Failed attempts are throttled as on the sign-in page.
#[utoipa::path(
    post, path = "/auth/token", tag = "auth",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The account is disabled", body = ErrorBody),
        (status = 422, description = "A field has the wrong type", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    ip: Option<axum::Extension<app::ssr::ClientIp>>,
    Json(body): Json<SignInRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let ctx = &state.ctx;
    let ip = client_ip(ip.as_deref());
    let account = auth::login(
        &ctx.db,
        &ctx.clock,
        auth::users::Login {
            email: &body.email,
            password: &body.password,
            ip: &ip,
        },
    )
    .await
    .map_err(auth_error)?;
    let issued = state
        .api
        .tokens
        .sign_in(&ctx.db, &ctx.clock, &account.id)
        .await?;
    Ok(Json(TokenPair::from_issued(issued)))
}

/// Trades a refresh token for a new pair. Each refresh token works once: presenting one
/// again ends the sign-in (every token of it stops working).
#[utoipa::path(
    post, path = "/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the old refresh token is used up", body = TokenPair),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Unknown, expired, ended or reused refresh token", body = ErrorBody),
        (status = 422, description = "A field has the wrong type", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let ctx = &state.ctx;
    let issued = state
        .api
        .tokens
        .refresh(&ctx.db, &ctx.clock, &body.refresh_token)
        .await
        .map_err(token_error)?;
    let active = auth::users::find(&ctx.db, &issued.user)
        .await?
        .is_some_and(|a| a.status == auth::Status::Active);
    if !active {
        state
            .api
            .tokens
            .sign_out(&ctx.db, &ctx.clock, &issued.user, &issued.session)
            .await?;
        return Err(ApiError::unauthorized(
            "account_disabled",
            "This account cannot sign in.",
        ));
    }
    Ok(Json(TokenPair::from_issued(issued)))
}

/// Ends the sign-in the access token belongs to: it and every token of the sign-in stop
/// working at once.
#[utoipa::path(
    post, path = "/auth/sign-out", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let ctx = &state.ctx;
    state
        .api
        .tokens
        .sign_out(&ctx.db, &ctx.clock, &caller.account.id, &caller.session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// `customer`, `vendor`, `staff`, `admin`.
    pub roles: Vec<String>,
    pub email_verified: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&auth::Account> for Me {
    fn from(a: &auth::Account) -> Me {
        Me {
            id: a.id.as_str().to_owned(),
            email: a.email.as_str().to_owned(),
            display_name: a.display_name.clone(),
            roles: a.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            email_verified: a.is_verified(),
            created_at: super::rfc3339(a.created_at),
        }
    }
}

/// Who the access token belongs to.
#[utoipa::path(
    get, path = "/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = Me),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me::from(&caller.account))
}
