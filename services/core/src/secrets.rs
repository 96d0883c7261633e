//! The server's own secrets (signing keys), generated on the very first start and kept in
//! the database (`server_secrets`), so every instance shares them. None ever leaves the
//! server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Clock, Db};

/// 32 random bytes, URL-safe base64 without padding.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The secret called `name`, made on first use.
pub async fn get_or_create(db: &Db, clock: &Clock, name: &str) -> Result<String, sqlx::Error> {
    let select = "SELECT secret FROM server_secrets WHERE name = $1";
    // Read first: after the very first start the key exists, and a read takes no write lock
    // (order mails load the keys each time).
    if let Some(secret) = sqlx::query_scalar(select)
        .bind(name)
        .fetch_optional(db.reader())
        .await?
    {
        return Ok(secret);
    }
    let mut tx = db.begin().await?;
    // Several instances starting at once: one insert wins, all read the same secret.
    sqlx::query(
        "INSERT INTO server_secrets (name, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(random_secret())
    .bind(clock.now().millis())
    .execute(&mut *tx)
    .await?;
    let secret: String = sqlx::query_scalar(select)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(secret)
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
