//! Single-use tokens sent by email: verify an address, reset a password, confirm a new
//! address.
//!
//! A token is 32 random bytes (base64url in the link). Only its SHA-256 is stored, so a
//! copy of the database is no use for taking over accounts. Consuming a token is one
//! conditional update (`... WHERE used_at IS NULL AND expires_at > now`), so a token works
//! once even when the link is opened twice at the same moment.

use std::time::Duration;

use sha2::{Digest, Sha256};
use shop_core::db::Conn;
use shop_core::{Clock, Email};

use crate::UserId;

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
        }
    }

    /// How long a token stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail | Purpose::ChangeEmail => Duration::from_secs(24 * 3600),
            Purpose::ResetPassword => Duration::from_secs(3600),
        }
    }
}

/// SHA-256 of a token, hex: what the database stores.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn generate() -> String {
    shop_core::secrets::random_secret()
}

/// Creates a token for `user`. `email` is the address the token is about (the address to
/// verify, or the new address for an email change): the token only works while that still
/// makes sense. A new reset or email-change token cancels the user's older ones.
pub async fn issue(
    conn: &mut Conn,
    clock: &Clock,
    user: &UserId,
    purpose: Purpose,
    email: &Email,
) -> Result<String, sqlx::Error> {
    let now = clock.now();
    if purpose != Purpose::VerifyEmail {
        sqlx::query(
            "UPDATE user_tokens SET used_at = $1
             WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(now.millis())
        .bind(user.as_str())
        .bind(purpose.as_str())
        .execute(&mut *conn)
        .await?;
    }
    let token = generate();
    sqlx::query(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, new_email, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(digest(&token))
    .bind(user.as_str())
    .bind(purpose.as_str())
    .bind(email.as_str())
    .bind(now.plus(purpose.lifetime()).millis())
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// A used-up token's user and address.
#[derive(sqlx::FromRow)]
struct ConsumedToken {
    user_id: String,
    new_email: String,
}

/// Uses up a token: returns its user and address, or `None` when the token is unknown, used,
/// expired or for another purpose.
pub async fn consume(
    conn: &mut Conn,
    clock: &Clock,
    token: &str,
    purpose: Purpose,
) -> Result<Option<(UserId, String)>, sqlx::Error> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let now = clock.now().millis();
    let row: Option<ConsumedToken> = sqlx::query_as(
        "UPDATE user_tokens SET used_at = $1
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(digest(token))
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (UserId::from_db(r.user_id), r.new_email)))
}

/// True when the token would be accepted now (without using it up): lets the reset page
/// say "this link has expired" before the shopper types a new password.
pub async fn is_valid(
    db: &shop_core::Db,
    clock: &Clock,
    token: &str,
    purpose: Purpose,
) -> Result<bool, sqlx::Error> {
    if token.is_empty() || token.len() > 100 {
        return Ok(false);
    }
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM user_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(digest(token))
    .bind(purpose.as_str())
    .bind(clock.now().millis())
    .fetch_optional(db.reader())
    .await?;
    Ok(found.is_some())
}

/// Deletes tokens that can no longer be used (a periodic job calls this).
pub async fn purge(db: &shop_core::Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let cutoff = clock
        .now()
        .minus(Duration::from_secs(7 * 24 * 3600))
        .millis();
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_a_digest() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let d = digest(&a);
        assert_eq!(d.len(), 64);
        assert!(!d.contains(&a));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
