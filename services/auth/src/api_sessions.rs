//! Sign-ins through the JSON API: a short-lived access token (a JWT signed with HMAC-SHA256,
//! [`ACCESS_TTL`]) and an opaque refresh token ([`REFRESH_TTL`], stored only as its SHA-256)
//! that is rotated at every use.
//!
//! Each sign-in is an API session, the family of its refresh tokens. Presenting a refresh
//! token that was already used means it was copied: the whole family is revoked, so neither
//! the thief's nor the owner's tokens work any more, and the owner signs in again. Signing
//! out revokes the family too, and every access token checks its family on use, so a
//! signed-out token stops working at once rather than when it expires.
//!
//! The JWT is the compact form of RFC 7519 with one algorithm, `HS256`: a token whose header
//! names any other (`none`, an asymmetric one) is refused before its signature is looked at.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shop_core::{Clock, Db, Timestamp, UserId};

use crate::tokens::digest;

/// How long an access token works.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a refresh token works if unused.
pub const REFRESH_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// The name of the signing key in `server_secrets`.
const SIGNING_KEY: &str = "api_access_tokens";
/// The `iss` of every access token.
const ISSUER: &str = "shop";
/// Longest token looked at: anything longer is not one of ours.
const MAX_TOKEN_LEN: usize = 2048;

/// The only header an access token may have (after decoding).
#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// What an access token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The API session (refresh family) it belongs to.
    pub sid: String,
    /// Issued and expires, seconds since the epoch.
    pub iat: i64,
    pub exp: i64,
}

/// Tokens of one sign-in, as handed to the client (they last [`ACCESS_TTL`] and
/// [`REFRESH_TTL`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub session: String,
    pub user: UserId,
}

/// Why a token was refused. Callers answer all of them with 401; the reason is for the
/// message and the log.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("The token is not valid.")]
    Invalid,
    #[error("The token has expired.")]
    Expired,
    #[error("The sign-in was ended. Sign in again.")]
    Revoked,
    /// A refresh token used a second time: its family is now revoked.
    #[error("This refresh token was already used; the sign-in is ended for safety. Sign in again.")]
    Reused,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The key that signs access tokens.
#[derive(Clone)]
pub struct ApiTokens {
    key: std::sync::Arc<Vec<u8>>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiTokens(***)")
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

impl ApiTokens {
    /// Reads the signing key, creating it on the very first start.
    pub async fn load(db: &Db, clock: &Clock) -> Result<ApiTokens, sqlx::Error> {
        let key = shop_core::secrets::get_or_create(db, clock, SIGNING_KEY).await?;
        Ok(ApiTokens {
            key: std::sync::Arc::new(key.into_bytes()),
        })
    }

    /// An access token for `user` in API session `session`, issued now.
    fn access_token(&self, user: &UserId, session: &str, now: Timestamp) -> String {
        let iat = now.millis().div_euclid(1000);
        let exp = iat + i64::try_from(ACCESS_TTL.as_secs()).unwrap_or(900);
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user.as_str().to_owned(),
            sid: session.to_owned(),
            iat,
            exp,
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims).unwrap_or_else(|_| unreachable!("plain strings")));
        let signed = format!("{header}.{body}");
        let mut m = mac(&self.key);
        m.update(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        format!("{signed}.{signature}")
    }

    /// Checks an access token's form, algorithm, signature, issuer and expiry (not whether
    /// its sign-in was ended since: [`ApiTokens::user_of`] does that).
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(body), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| TokenError::Invalid);
        let parsed: Header =
            serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Invalid)?;
        if parsed.alg != "HS256" {
            return Err(TokenError::Invalid);
        }
        let mut m = mac(&self.key);
        m.update(header.as_bytes());
        m.update(b".");
        m.update(body.as_bytes());
        m.verify_slice(&decode(signature)?)
            .map_err(|_| TokenError::Invalid)?;
        let claims: Claims =
            serde_json::from_slice(&decode(body)?).map_err(|_| TokenError::Invalid)?;
        if claims.iss != ISSUER {
            return Err(TokenError::Invalid);
        }
        if claims.exp.saturating_mul(1000) <= now.millis() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The user a verified token acts for, if its sign-in is still on.
    pub async fn user_of(&self, db: &Db, claims: &Claims) -> Result<UserId, TokenError> {
        let open: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM api_sessions WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(&claims.sid)
        .fetch_optional(db.reader())
        .await?;
        match open {
            Some(user) if user == claims.sub => Ok(UserId::from_db(user)),
            _ => Err(TokenError::Revoked),
        }
    }

    /// Starts an API session for `user` (whose credentials the caller checked): its first
    /// access and refresh tokens.
    pub async fn sign_in(
        &self,
        db: &Db,
        clock: &Clock,
        user: &UserId,
    ) -> Result<Issued, sqlx::Error> {
        let now = clock.now();
        let session = shop_core::id::new_uuid_v7();
        let refresh = shop_core::secrets::random_secret();
        let refresh_expires = now.plus(REFRESH_TTL).millis();
        let mut tx = db.begin().await?;
        sqlx::query(
            "INSERT INTO api_sessions (id, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(&session)
        .bind(user.as_str())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        insert_refresh(&mut tx, &refresh, &session, now.millis(), refresh_expires).await?;
        tx.commit().await?;
        Ok(Issued {
            access_token: self.access_token(user, &session, now),
            refresh_token: refresh,
            session,
            user: user.clone(),
        })
    }

    /// Trades a refresh token for a new pair. The old one is used up; presenting a used one
    /// again revokes its whole session ([`TokenError::Reused`]).
    pub async fn refresh(
        &self,
        db: &Db,
        clock: &Clock,
        presented: &str,
    ) -> Result<Issued, TokenError> {
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let now = clock.now();
        let hashed = digest(presented);
        let mut tx = db.begin().await?;
        // One statement claims the token: of two refreshes racing with it, one wins.
        let claimed: Option<String> = sqlx::query_scalar(
            "UPDATE api_refresh_tokens SET used_at = $2
             WHERE digest = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING session_id",
        )
        .bind(&hashed)
        .bind(now.millis())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(session) = claimed else {
            let known: Option<Known> = sqlx::query_as(
                "SELECT session_id, used_at FROM api_refresh_tokens WHERE digest = $1",
            )
            .bind(&hashed)
            .fetch_optional(&mut *tx)
            .await?;
            return match known.map(|k| (k.session_id, k.used_at)) {
                Some((session, Some(_))) => {
                    revoke_on(&mut tx, &session, now.millis(), "reused").await?;
                    tx.commit().await?;
                    tracing::warn!(api.session = %session, "a used refresh token came back; the API session is revoked");
                    Err(TokenError::Reused)
                }
                Some((_, None)) => Err(TokenError::Expired),
                None => Err(TokenError::Invalid),
            };
        };
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE api_sessions SET last_used_at = $2 WHERE id = $1 AND revoked_at IS NULL
             RETURNING user_id",
        )
        .bind(&session)
        .bind(now.millis())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = user.map(UserId::from_db) else {
            return Err(TokenError::Revoked);
        };
        let refresh = shop_core::secrets::random_secret();
        let refresh_expires = now.plus(REFRESH_TTL).millis();
        insert_refresh(&mut tx, &refresh, &session, now.millis(), refresh_expires).await?;
        tx.commit().await?;
        Ok(Issued {
            access_token: self.access_token(&user, &session, now),
            refresh_token: refresh,
            session,
            user,
        })
    }

    /// Ends API session `session` of `user` (signing out): its access tokens stop working
    /// and its refresh tokens no longer refresh. Ending one already ended changes nothing.
    pub async fn sign_out(
        &self,
        db: &Db,
        clock: &Clock,
        user: &UserId,
        session: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = db.begin().await?;
        sqlx::query(
            "UPDATE api_sessions SET revoked_at = $3, revoked_why = 'signed_out'
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(session)
        .bind(user.as_str())
        .bind(clock.now().millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

/// A refresh token the claim did not take: used before, or expired.
#[derive(sqlx::FromRow)]
struct Known {
    session_id: String,
    used_at: Option<i64>,
}

async fn insert_refresh(
    conn: &mut shop_core::db::Conn,
    token: &str,
    session: &str,
    now: i64,
    expires: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_refresh_tokens (digest, session_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(digest(token))
    .bind(session)
    .bind(now)
    .bind(expires)
    .execute(conn)
    .await?;
    Ok(())
}

async fn revoke_on(
    conn: &mut shop_core::db::Conn,
    session: &str,
    now: i64,
    why: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_sessions SET revoked_at = $2, revoked_why = $3
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .bind(now)
    .bind(why)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes API sessions that can no longer be used: revoked, or with no refresh token left
/// unexpired, and older than a refresh token lives (a periodic job calls this).
pub async fn purge(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let now = clock.now();
    let stale = now.minus(REFRESH_TTL).millis();
    let now = now.millis();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "DELETE FROM api_sessions
         WHERE last_used_at < $2
           AND (revoked_at IS NOT NULL
                OR NOT EXISTS (SELECT 1 FROM api_refresh_tokens t
                               WHERE t.session_id = api_sessions.id AND t.expires_at > $1))",
    )
    .bind(now)
    .bind(stale)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM api_refresh_tokens WHERE expires_at <= $1 OR used_at < $2")
        .bind(now)
        .bind(stale)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}
