//! Server-side sessions: a tower-sessions store in the shop's database, what a session
//! records about its signed-in user, and the user's list of sessions. Reading and writing a
//! request's own session (signing in and out) is the HTTP side's work (`app::signed_in`).
//!
//! The browser holds only a random session id in an HttpOnly cookie. The database holds the
//! session under the SHA-256 of that id (a copy of the table cannot be replayed as cookies),
//! with the signed-in user's id copied into its own column so that all of a user's sessions
//! can be listed and ended at once: on "sign out everywhere else", password change and
//! reset, and when an admin disables the account. Every instance behind a load balancer
//! reads the same table, so a session ended on one is ended on all.
//!
//! Timeouts depend on the roles: an idle timeout (no request for that long) and an absolute
//! one (time since sign-in), shorter for staff than for customers.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use shop_core::db::Conn;
use shop_core::{Batch, Clock, Db, Timestamp};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::{AuthError, Role, UserId};

/// The session key holding [`SignedIn`].
pub const AUTH_KEY: &str = "auth";

/// What a session knows about its signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: UserId,
    /// When the user signed in (for the absolute timeout).
    pub at: i64,
    /// When the session was last used, to within a minute (for the idle timeout).
    pub seen: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Idle and absolute session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Admins: 30 minutes idle, 12 hours in all. Vendors: 12 hours idle, 7 days. Customers:
/// 30 days idle, 90 days.
pub fn timeouts(roles: &[Role]) -> Timeouts {
    const HOUR: u64 = 3600;
    if roles.contains(&Role::Admin) {
        Timeouts {
            idle: Duration::from_secs(HOUR / 2),
            absolute: Duration::from_secs(12 * HOUR),
        }
    } else if roles.contains(&Role::Vendor) {
        Timeouts {
            idle: Duration::from_secs(12 * HOUR),
            absolute: Duration::from_secs(7 * 24 * HOUR),
        }
    } else {
        Timeouts {
            idle: Duration::from_secs(30 * 24 * HOUR),
            absolute: Duration::from_secs(90 * 24 * HOUR),
        }
    }
}

/// The key under which the store keeps a session: SHA-256 of its id.
pub fn storage_key(id: &Id) -> String {
    crate::tokens::digest(&id.to_string())
}

/// One of a user's sessions, for the "where you're signed in" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The storage key (not the cookie value): safe to show and to post back.
    pub key: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub signed_in_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// A live session as the `sessions` table holds it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// The user's live sessions, most recently used first.
pub async fn list(db: &Db, clock: &Clock, user: &UserId) -> Result<Vec<SessionInfo>, AuthError> {
    let rows: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, user_agent, ip, created_at, updated_at FROM sessions
         WHERE user_id = $1 AND expires_at > $2
         ORDER BY updated_at DESC, id",
    )
    .bind(user.as_str())
    .bind(clock.now().millis())
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionInfo {
            key: r.id,
            user_agent: r.user_agent,
            ip: r.ip,
            signed_in_at: Timestamp(r.created_at),
            last_seen_at: Timestamp(r.updated_at),
        })
        .collect())
}

/// Ends one of the user's sessions.
pub async fn end_one(db: &Db, user: &UserId, key: &str) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(key)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    if n == 0 {
        Err(AuthError::SessionNotFound)
    } else {
        Ok(())
    }
}

/// Ends every session of the user except `keep` (a storage key). Returns how many ended.
pub async fn end_all(db: &Db, user: &UserId, keep: Option<&str>) -> Result<u64, AuthError> {
    let mut tx = db.begin().await?;
    let n = end_all_on(&mut tx, user, keep).await?;
    tx.commit().await?;
    Ok(n)
}

/// [`end_all`] inside the caller's transaction. The user's sign-ins through the JSON API
/// (see [`crate::api_sessions`]) end too: their tokens stop working at once.
pub async fn end_all_on(
    conn: &mut Conn,
    user: &UserId,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
        .bind(user.as_str())
        .bind(keep)
        .execute(&mut *conn)
        .await?;
    let api = sqlx::query("DELETE FROM api_sessions WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() + api.rows_affected())
}

/// Deletes expired sessions (a periodic job calls this).
pub async fn purge_expired(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(clock.now().millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// Ends the guests' sessions anchored to one of these values (see [`DbStore::anchored_by`]):
/// what anchored them is gone, and such a session holds nothing else worth keeping. Signed-in
/// sessions are left alone. Returns how many ended.
pub async fn end_anchored_guest_sessions(db: &Db, anchors: &[&str]) -> Result<u64, sqlx::Error> {
    if anchors.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mut n = 0;
    for id in anchors {
        n += sqlx::query("DELETE FROM sessions WHERE anchor = $1 AND user_id IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

/// The tower-sessions store over the shop's database.
#[derive(Clone, Debug)]
pub struct DbStore {
    db: Db,
    clock: Clock,
    anchor_key: Option<&'static str>,
}

impl DbStore {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            anchor_key: None,
        }
    }

    /// Copies the text value under `key` (the HTTP side's choice: a guest's cart id) into the
    /// session's `anchor` column, so that whoever deletes what it names can end those guest
    /// sessions with [`end_anchored_guest_sessions`]. The store does not know what it is.
    pub fn anchored_by(mut self, key: &'static str) -> Self {
        self.anchor_key = Some(key);
        self
    }

    /// The record's expiry on the shop's clock. tower-sessions computes expiry dates from
    /// the wall clock; the store keeps the same distance from "now" on its own clock, so
    /// tests that move the clock forward see sessions expire.
    fn expires_at(&self, record: &Record) -> i64 {
        let left = record.expiry_date - time::OffsetDateTime::now_utc();
        let left_ms = i64::try_from(left.whole_milliseconds()).unwrap_or(i64::MAX);
        self.clock.now().millis().saturating_add(left_ms)
    }

    fn columns(&self, record: &Record) -> session_store::Result<Columns> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let signed_in = record
            .data
            .get(AUTH_KEY)
            .and_then(|v| serde_json::from_value::<SignedIn>(v.clone()).ok());
        let anchor = self
            .anchor_key
            .and_then(|key| record.data.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(Columns {
            data,
            signed_in,
            anchor,
        })
    }
}

/// What the store keeps of a session besides its id and expiry.
struct Columns {
    data: String,
    signed_in: Option<SignedIn>,
    anchor: Option<String>,
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// A stored session's data (JSON) and expiry (in milliseconds).
#[derive(sqlx::FromRow)]
struct StoredSession {
    data: String,
    expires_at: i64,
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let Columns {
            data,
            signed_in,
            anchor,
        } = self.columns(record)?;
        let now = self.clock.now().millis();
        for _ in 0..3 {
            // Through the group commit: on SQLite a new session shares its commit with the
            // other writes of the same moment.
            let mut batch = Batch::for_db(&self.db);
            batch
                .add(
                    "INSERT INTO sessions (id, user_id, data, expires_at, user_agent, ip,
                            created_at, updated_at, anchor)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
                     ON CONFLICT (id) DO NOTHING
                     RETURNING id",
                )
                .bind(storage_key(&record.id))
                .bind(signed_in.as_ref().map(|s| s.user_id.as_str().to_owned()))
                .bind(data.clone())
                .bind(self.expires_at(record))
                .bind(signed_in.as_ref().and_then(|s| s.user_agent.clone()))
                .bind(signed_in.as_ref().and_then(|s| s.ip.clone()))
                .bind(now)
                .bind(anchor.clone());
            let inserted = self
                .db
                .write(move |mut w| Box::pin(async move { w.fetch_all(batch).await }))
                .await
                .map_err(backend)?;
            if !inserted.is_empty() {
                return Ok(());
            }
            // A 128-bit random id collided: astronomically unlikely, but pick another.
            record.id = Id::default();
        }
        Err(session_store::Error::Backend(
            "could not find a free session id".to_owned(),
        ))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let Columns {
            data,
            signed_in,
            anchor,
        } = self.columns(record)?;
        // Update only: a session deleted meanwhile (signed out elsewhere, password changed)
        // must stay deleted, even if a request that loaded it earlier finishes now. Through
        // the group commit: on SQLite saves share commits with the other writes of the moment.
        let mut batch = Batch::for_db(&self.db);
        batch
            .add(
                "UPDATE sessions SET user_id = $1, data = $2, expires_at = $3,
                        user_agent = COALESCE($4, user_agent), ip = COALESCE($5, ip),
                        updated_at = $6, anchor = $8
                 WHERE id = $7",
            )
            .bind(signed_in.as_ref().map(|s| s.user_id.as_str().to_owned()))
            .bind(data)
            .bind(self.expires_at(record))
            .bind(signed_in.as_ref().and_then(|s| s.user_agent.clone()))
            .bind(signed_in.as_ref().and_then(|s| s.ip.clone()))
            .bind(self.clock.now().millis())
            .bind(storage_key(&record.id))
            .bind(anchor);
        self.db.write_batch(batch).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<StoredSession> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(storage_key(id))
        .bind(self.clock.now().millis())
        .fetch_optional(self.db.reader())
        .await
        .map_err(backend)?;
        let Some(StoredSession { data, expires_at }) = row else {
            return Ok(None);
        };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let left = time::Duration::milliseconds(expires_at - self.clock.now().millis());
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: time::OffsetDateTime::now_utc() + left,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut batch = Batch::for_db(&self.db);
        batch
            .add("DELETE FROM sessions WHERE id = $1")
            .bind(storage_key(id));
        self.db.write_batch(batch).await.map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_sessions_are_shorter_than_customers() {
        let admin = timeouts(&[Role::Customer, Role::Admin]);
        let vendor = timeouts(&[Role::Customer, Role::Vendor]);
        let customer = timeouts(&[Role::Customer]);
        assert!(admin.idle < vendor.idle && vendor.idle < customer.idle);
        assert!(admin.absolute < vendor.absolute && vendor.absolute < customer.absolute);
        assert_eq!(admin.idle, Duration::from_secs(1800));
    }
}
