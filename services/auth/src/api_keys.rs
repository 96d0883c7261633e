//! API keys: how programs (an ERP, a marketplace feed, a stock sync) call the JSON API's
//! admin routes on behalf of the staff member or vendor who made the key.
//!
//! A key is `shk_` and 256 random bits (43 characters). It is shown once, when it is made;
//! the database keeps only its SHA-256 (the key is random, so a fast hash is enough, and
//! the key is looked up by it) and its first characters, to tell keys apart in a list. A
//! key works only:
//! - within its scopes, and within what its owner's roles allow *now* (a vendor's key never
//!   reaches another vendor's products; a key of someone who lost the admin role loses the
//!   admin scopes with it; a disabled owner's keys stop working);
//! - until it expires or is revoked.
//!
//! Making and revoking a key are in the audit log, and so is every call made with one
//! ([`record_use`]).

use serde::{Deserialize, Serialize};
use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::{Clock, Db, Timestamp, UserId};

use crate::tokens::digest;
use crate::{Account, AuthError, Role};

/// What every key starts with.
pub const PREFIX: &str = "shk_";
/// Longest key name.
pub const MAX_NAME: usize = 100;
/// Most keys one account may hold that still work.
pub const MAX_KEYS: i64 = 50;
/// Furthest a key's expiry may be set.
pub const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(2 * 366 * 86_400);
/// Characters of the key kept to tell keys apart (`shk_` and 8 random ones).
const SHOWN: usize = 12;
/// Characters after the prefix: 32 random bytes, URL-safe base64 without padding.
const SECRET_LEN: usize = 43;
/// A key's last-used time moves at most this often (every call is in the audit log anyway).
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "products:read")]
    ProductsRead,
    #[serde(rename = "products:write")]
    ProductsWrite,
    #[serde(rename = "categories:write")]
    CategoriesWrite,
    #[serde(rename = "orders:read")]
    OrdersRead,
    #[serde(rename = "orders:write")]
    OrdersWrite,
    #[serde(rename = "customers:read")]
    CustomersRead,
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::ProductsRead,
        Scope::ProductsWrite,
        Scope::CategoriesWrite,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::CustomersRead,
        Scope::AnalyticsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ProductsRead => "products:read",
            Scope::ProductsWrite => "products:write",
            Scope::CategoriesWrite => "categories:write",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::CustomersRead => "customers:read",
            Scope::AnalyticsRead => "analytics:read",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What it allows, for the admin's form.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::ProductsRead => "Read products, variants and stock",
            Scope::ProductsWrite => "Create and change products, variants, stock and images",
            Scope::CategoriesWrite => "Create, change and delete categories",
            Scope::OrdersRead => "Read orders",
            Scope::OrdersWrite => "Ship orders; admins also cancel and refund",
            Scope::CustomersRead => "Read the customer list",
            Scope::AnalyticsRead => "Read the analytics summary",
        }
    }

    /// Whether `account` may use this scope now: the product, order and analytics scopes
    /// need an admin or a vendor (a vendor: their own products, the orders holding them,
    /// their figures), categories and customers an admin.
    pub fn allowed_to(self, account: &Account) -> bool {
        let admin = account.may_act_as(Role::Admin);
        match self {
            Scope::ProductsRead
            | Scope::ProductsWrite
            | Scope::OrdersRead
            | Scope::OrdersWrite
            | Scope::AnalyticsRead => admin || account.may_act_as(Role::Vendor),
            Scope::CategoriesWrite | Scope::CustomersRead => admin,
        }
    }

    /// Every scope `account` may use now.
    pub fn all_allowed_to(account: &Account) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|s| s.allowed_to(account))
            .collect()
    }
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split_whitespace().filter_map(Scope::parse).collect()
}

/// A key as the shop knows it (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters, e.g. `shk_0192abcd`.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Whether the key works at `now` (its owner's account is checked separately).
    pub fn works(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && !self.is_expired(now)
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    user_id: String,
    name: String,
    scopes: String,
    prefix: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl KeyRow {
    fn into_key(self) -> ApiKey {
        ApiKey {
            id: self.id,
            user_id: UserId::from_db(self.user_id),
            name: self.name,
            scopes: parse_scopes(&self.scopes),
            prefix: self.prefix,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            last_used_at: self.last_used_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
        }
    }
}

const COLUMNS: &str =
    "id, user_id, name, scopes, prefix, created_at, expires_at, last_used_at, revoked_at";

/// A key to make.
#[derive(Clone, Debug, Default)]
pub struct KeyInput {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `None`: until revoked.
    pub expires_at: Option<Timestamp>,
}

/// A key just made: the only time its text exists outside the caller's hands.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub key: ApiKey,
    /// The whole key, to show once.
    pub secret: String,
}

/// Why a presented key does not work.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("This API key is not valid.")]
    Invalid,
    #[error("This API key has expired.")]
    Expired,
    #[error("This API key has been revoked.")]
    Revoked,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
    AuthError::InvalidField {
        field,
        message: message.into(),
    }
}

/// Whether `token` is shaped like an API key (rather than an access token).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// Whether `key` is shaped like a key this shop makes (checked before any database read).
fn well_formed(key: &str) -> bool {
    key.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The audit log's name for what `key` does: its owner's address and the key's name.
pub fn actor_label(owner_email: &str, key: &ApiKey) -> String {
    format!("{owner_email} (API key “{}”)", key.name)
}

/// Makes a key for `owner`: the name (1 to [`MAX_NAME`] characters), at least one scope the
/// owner may use, and an expiry in the future (at most [`MAX_LIFETIME`] away), if any.
pub async fn create(
    db: &Db,
    clock: &Clock,
    owner: &Account,
    input: &KeyInput,
) -> Result<NewKey, AuthError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(invalid("name", "Name the key (what uses it)."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("Use at most {MAX_NAME} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "The name holds characters that are not allowed.",
        ));
    }
    let mut scopes = input.scopes.clone();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(invalid("scopes", "Choose at least one scope."));
    }
    if let Some(s) = scopes.iter().find(|s| !s.allowed_to(owner)) {
        return Err(invalid(
            "scopes",
            format!("Your roles do not allow the scope {}.", s.as_str()),
        ));
    }
    let now = clock.now();
    if let Some(e) = input.expires_at {
        if e <= now {
            return Err(invalid("expires_at", "Choose an expiry in the future."));
        }
        if e > now.plus(MAX_LIFETIME) {
            return Err(invalid(
                "expires_at",
                "A key can last at most two years; make a new one then.",
            ));
        }
    }
    let id = shop_core::id::new_uuid_v7();
    let secret = format!("{PREFIX}{}", shop_core::secrets::random_secret());
    let prefix: String = secret.chars().take(SHOWN).collect();
    let mut tx = db.begin().await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(owner.id.as_str())
    .bind(now.millis())
    .fetch_one(&mut *tx)
    .await?;
    if live >= MAX_KEYS {
        return Err(invalid(
            "name",
            format!("You have {MAX_KEYS} keys that work; revoke one you no longer use first."),
        ));
    }
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, scopes, digest, prefix, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(owner.id.as_str())
    .bind(name)
    .bind(scopes_text(&scopes))
    .bind(digest(&secret))
    .bind(&prefix)
    .bind(now.millis())
    .bind(input.expires_at.map(Timestamp::millis))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        &Actor::user(&owner.id, owner.email.as_str()),
        Change {
            action: "api_key.created",
            target_type: "api_key",
            target_id: &id,
            before: None,
            after: Some(json!({
                "name": name,
                "scopes": scopes_text(&scopes),
                "prefix": prefix,
                "expires_at": input.expires_at.map(Timestamp::to_human),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewKey {
        key: ApiKey {
            id,
            user_id: owner.id.clone(),
            name: name.to_owned(),
            scopes,
            prefix,
            created_at: now,
            expires_at: input.expires_at,
            last_used_at: None,
            revoked_at: None,
        },
        secret,
    })
}

/// Keys, newest first: every key for `None` (the shop's admins), else one account's.
pub async fn list(db: &Db, owner: Option<&UserId>) -> Result<Vec<ApiKey>, sqlx::Error> {
    let rows: Vec<KeyRow> = match owner {
        None => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC LIMIT 500"
            ))
            .fetch_all(db.reader())
            .await?
        }
        Some(user) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM api_keys WHERE user_id = $1
                 ORDER BY created_at DESC, id DESC LIMIT 500"
            ))
            .bind(user.as_str())
            .fetch_all(db.reader())
            .await?
        }
    };
    Ok(rows.into_iter().map(KeyRow::into_key).collect())
}

/// Revokes key `id`: the shop's admins any key, anyone else only their own (another's is
/// "not found"). Revoking a revoked key changes nothing.
pub async fn revoke(db: &Db, clock: &Clock, by: &Account, id: &str) -> Result<(), AuthError> {
    let Ok(id) = shop_core::id::parse_uuid(id) else {
        return Err(AuthError::KeyNotFound);
    };
    let mut tx = db.begin().await?;
    let found: Option<KeyRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
    let key = match found {
        Some(k) if by.may_act_as(Role::Admin) || k.user_id == by.id.as_str() => k.into_key(),
        _ => return Err(AuthError::KeyNotFound),
    };
    if key.revoked_at.is_some() {
        return Ok(());
    }
    sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(&id)
        .bind(clock.now().millis())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        &Actor::user(&by.id, by.email.as_str()),
        Change {
            action: "api_key.revoked",
            target_type: "api_key",
            target_id: &id,
            before: Some(json!({ "name": key.name, "prefix": key.prefix, "revoked": false })),
            after: Some(json!({ "name": key.name, "prefix": key.prefix, "revoked": true })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The key `presented` is, if it works at `now`. The owner's account is the caller's to
/// check (roles and status belong to the account, read fresh on every call).
pub async fn authenticate(db: &Db, now: Timestamp, presented: &str) -> Result<ApiKey, KeyError> {
    if !well_formed(presented) {
        return Err(KeyError::Invalid);
    }
    // Looked up by its SHA-256: the key is 256 random bits, so the lookup's timing tells an
    // attacker nothing about any key.
    let found: Option<KeyRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE digest = $1"))
            .bind(digest(presented))
            .fetch_optional(db.reader())
            .await?;
    let key = found.ok_or(KeyError::Invalid)?.into_key();
    if key.revoked_at.is_some() {
        return Err(KeyError::Revoked);
    }
    if key.is_expired(now) {
        return Err(KeyError::Expired);
    }
    Ok(key)
}

/// Records a call made with `key` (by `owner_email`): an audit entry naming the call and
/// the answer's status, and the key's last-used time (moved at most once a minute). Written
/// through the group commit (on SQLite it shares a commit with the writes of the moment).
pub async fn record_use(
    db: &Db,
    clock: &Clock,
    key: &ApiKey,
    owner_email: &str,
    call: &str,
    status: u16,
) -> Result<(), sqlx::Error> {
    let now = clock.now();
    let mut batch = shop_core::Batch::for_db(db);
    if key
        .last_used_at
        .is_none_or(|t| now.millis() - t.millis() >= TOUCH_EVERY_MS)
    {
        batch
            .add("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(key.id.clone())
            .bind(now.millis());
    }
    audit::record_into(
        &mut batch,
        clock,
        &Actor::user(&key.user_id, &actor_label(owner_email, key)),
        Change {
            action: USED,
            target_type: "api_key",
            target_id: &key.id,
            before: None,
            after: Some(json!({ "name": key.name, "call": call, "status": status })),
        },
    );
    db.write_batch(batch).await
}

/// The audit action of a call made with a key.
pub const USED: &str = "api_key.used";

/// How long the audit log keeps the entries of calls made with keys (changes made through a
/// key have their own entries, kept like every other).
pub const USE_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);

/// Deletes keys revoked or expired more than 90 days ago, and the audit entries of calls
/// made with keys older than [`USE_RETENTION`] (a periodic job calls this).
pub async fn purge(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let before = clock.now().minus(USE_RETENTION).millis();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "DELETE FROM api_keys WHERE revoked_at < $1 OR (expires_at IS NOT NULL AND expires_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    shop_core::audit::purge_action(&mut tx, USED, before).await?;
    tx.commit().await?;
    Ok(n)
}
