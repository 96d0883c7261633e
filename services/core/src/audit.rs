//! The audit log: who changed what, when, with the state before and after.
//!
//! Every admin (and vendor) change writes an entry in the same transaction as the change,
//! so the log holds exactly the changes that happened. Entries are never updated; only
//! records of use (each call made with an API key) are deleted after a while
//! ([`purge_action`]).

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Timestamp};
use crate::db::{Conn, Db};
use crate::id::UserId;

crate::define_id!(
    /// Identifies an audit log entry.
    AuditId
);

/// Who made a change: a signed-in user (by id, with a label that survives the account's
/// deletion) or the system itself (a CLI command, a background job).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub label: String,
}

impl Actor {
    /// A signed-in user; `label` is what the log shows (their email).
    pub fn user(id: &UserId, label: &str) -> Self {
        Self {
            user_id: Some(id.clone()),
            label: label.to_owned(),
        }
    }

    /// The system, e.g. `cli:create-admin`.
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.to_owned(),
        }
    }
}

/// One change to record.
#[derive(Clone, Debug)]
pub struct Change<'a> {
    /// Dotted verb, e.g. `user.role_granted`.
    pub action: &'a str,
    /// The kind of thing changed, e.g. `user`, `product`.
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Writes an entry in the caller's transaction.
pub async fn record(
    conn: &mut Conn,
    clock: &Clock,
    actor: &Actor,
    change: Change<'_>,
) -> Result<AuditId, sqlx::Error> {
    let mut batch = crate::Batch::new(conn);
    let id = record_into(&mut batch, clock, actor, change);
    batch.execute(conn).await?;
    Ok(id)
}

/// [`record`] as one statement of a [`crate::Batch`].
pub fn record_into(
    batch: &mut crate::Batch,
    clock: &Clock,
    actor: &Actor,
    change: Change<'_>,
) -> AuditId {
    let id = AuditId::new();
    batch
        .add(
            "INSERT INTO audit_log (id, actor_id, actor_label, action, target_type, target_id, before_json, after_json, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.as_str().to_owned())
        .bind(actor.user_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(actor.label.clone())
        .bind(change.action.to_owned())
        .bind(change.target_type.to_owned())
        .bind(change.target_id.to_owned())
        .bind(change.before.map(|v| v.to_string()))
        .bind(change.after.map(|v| v.to_string()))
        .bind(clock.now().millis());
    id
}

/// Deletes the entries of `action` written before `before` (milliseconds): for actions the
/// log keeps for a while only, such as each call made with an API key. Changes are never
/// deleted this way.
pub async fn purge_action(conn: &mut Conn, action: &str, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM audit_log WHERE action = $1 AND created_at < $2")
        .bind(action)
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// An entry as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// JSON text of the state before, if there was one.
    pub before: Option<String>,
    /// JSON text of the state after, if there is one.
    pub after: Option<String>,
    pub created_at: Timestamp,
}

/// Which entries to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Entries about this target only (`target_type`, `target_id`).
    pub target: Option<(String, String)>,
    /// Actions starting with this prefix, e.g. `user.`.
    pub action_prefix: Option<String>,
    /// Entries made by this user only.
    pub actor_id: Option<String>,
}

/// An entry as the `audit_log` table holds it.
#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    actor_id: Option<String>,
    actor_label: String,
    action: String,
    target_type: String,
    target_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    created_at: i64,
}

/// A page of entries, newest first, and whether there are more.
pub async fn list(
    db: &Db,
    filter: &Filter,
    page: u32,
    per_page: u32,
) -> Result<(Vec<Entry>, bool), sqlx::Error> {
    let per_page = per_page.clamp(1, 200);
    let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
    let (target_type, target_id) = filter
        .target
        .clone()
        .map_or((None, None), |(t, i)| (Some(t), Some(i)));
    let prefix = filter
        .action_prefix
        .as_ref()
        .map(|p| format!("{}%", escape_like(p)));
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, actor_id, actor_label, action, target_type, target_id, before_json, after_json, created_at
         FROM audit_log
         WHERE ($1 IS NULL OR target_type = $1)
           AND ($2 IS NULL OR target_id = $2)
           AND ($3 IS NULL OR action LIKE $3 ESCAPE '\\')
           AND ($4 IS NULL OR actor_id = $4)
         ORDER BY created_at DESC, id DESC
         LIMIT $5 OFFSET $6",
    )
    .bind(target_type)
    .bind(target_id)
    .bind(prefix)
    .bind(filter.actor_id.clone())
    .bind(i64::from(per_page) + 1)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    let more = rows.len() > per_page as usize;
    let entries = rows
        .into_iter()
        .take(per_page as usize)
        .map(|r| Entry {
            id: r.id,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: r.before_json,
            after: r.after_json,
            created_at: Timestamp(r.created_at),
        })
        .collect();
    Ok((entries, more))
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE ... ESCAPE '\'` pattern.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("plain"), "plain");
    }
}
