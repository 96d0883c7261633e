//! The notification log: every mail the shop sends, as it was sent, with its delivery state.
//!
//! The outbox handler writes one row per (event, template) before the first attempt and
//! updates it after each: a retried event finds its row, resends the stored copy, and never
//! sends a mail that already went out. Staff read the log and resend a mail from it; a resend
//! is a new row answering its own outbox event, so it goes through the same retries.

use serde::{Deserialize, Serialize};
use shop_core::audit::{self, Actor, Change};
use shop_core::mail::OutgoingEmail;
use shop_core::outbox::{self, EventId};
use shop_core::{Clock, Db, Timestamp};

use crate::templates::Template;

shop_core::define_id!(
    /// Identifies one message in the log.
    NotificationId
);

/// The outbox event that sends a message again from the log.
pub const RESEND: &str = "notification.resend";

/// Payload of [`RESEND`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Resend {
    pub notification_id: NotificationId,
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Written, not tried yet.
    Queued,
    Sent,
    /// The last attempt failed; the outbox tries again later.
    Retrying,
    /// Every attempt failed.
    Failed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Queued,
        Status::Sent,
        Status::Retrying,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Retrying => "retrying",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One message of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub event_id: String,
    /// The template's name (see [`Template::parse`]).
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Holds a one-time link, masked in the stored bodies; never resent.
    pub secret: bool,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub resend_of: Option<NotificationId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl Notification {
    /// The message as stored, ready to send again.
    pub(crate) fn outgoing(&self) -> Option<OutgoingEmail> {
        Some(OutgoingEmail {
            to: shop_core::Email::parse(&self.recipient).ok()?,
            subject: self.subject.clone(),
            text: self.text_body.clone(),
            html: Some(self.html_body.clone()),
        })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    event_id: String,
    template: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    secret: i64,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    resend_of: Option<String>,
    created_at: i64,
    updated_at: i64,
    sent_at: Option<i64>,
}

const COLUMNS: &str = "id, event_id, template, recipient, subject, text_body, html_body, secret,
    status, attempts, last_error, resend_of, created_at, updated_at, sent_at";

impl Row {
    fn into_notification(self) -> Notification {
        Notification {
            id: NotificationId::from_db(self.id),
            event_id: self.event_id,
            template: self.template,
            recipient: self.recipient,
            subject: self.subject,
            text_body: self.text_body,
            html_body: self.html_body,
            secret: self.secret != 0,
            status: Status::parse(&self.status).unwrap_or(Status::Failed),
            attempts: self.attempts,
            last_error: self.last_error,
            resend_of: self.resend_of.map(NotificationId::from_db),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            sent_at: self.sent_at.map(Timestamp),
        }
    }
}

/// The message `template` written for `event`, if any.
pub(crate) async fn for_event(
    db: &Db,
    event: &EventId,
    template: Template,
) -> Result<Option<Notification>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE event_id = $1 AND template = $2"
    ))
    .bind(event.as_str())
    .bind(template.name())
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(Row::into_notification))
}

/// One message by id.
pub async fn find(db: &Db, id: &NotificationId) -> Result<Option<Notification>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(Row::into_notification))
}

/// Writes `mail` (with `mask` replaced in both bodies) as queued for `event`. When a row for
/// the event and template exists already (a retried event), that row is returned as it is.
pub(crate) async fn queue(
    db: &Db,
    clock: &Clock,
    event: &EventId,
    template: Template,
    mail: &OutgoingEmail,
    mask: Option<&str>,
) -> Result<Notification, sqlx::Error> {
    let masked = |s: &str| match mask {
        Some(secret) if !secret.is_empty() => s.replace(secret, "[one-time link removed]"),
        _ => s.to_owned(),
    };
    let id = NotificationId::new();
    let now = clock.now().millis();
    let mut batch = shop_core::Batch::for_db(db);
    batch
        .add(
            "INSERT INTO notifications (id, event_id, template, recipient, subject, text_body,
                    html_body, secret, status, attempts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9)
             ON CONFLICT (event_id, template) DO NOTHING",
        )
        .bind(id.as_str().to_owned())
        .bind(event.as_str().to_owned())
        .bind(template.name())
        .bind(mail.to.as_str().to_owned())
        .bind(mail.subject.clone())
        .bind(masked(&mail.text))
        .bind(masked(mail.html.as_deref().unwrap_or_default()))
        .bind(i64::from(template.secret()))
        .bind(now);
    db.write_batch(batch).await?;
    for_event(db, event, template)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Records one delivery attempt: sent, or failed with `error` (for good when `last`).
pub(crate) async fn attempted(
    db: &Db,
    clock: &Clock,
    id: &NotificationId,
    outcome: Result<(), &str>,
    last: bool,
) -> Result<(), sqlx::Error> {
    let now = clock.now().millis();
    let (status, error, sent_at) = match outcome {
        Ok(()) => (Status::Sent, None, Some(now)),
        Err(e) if last => (Status::Failed, Some(e), None),
        Err(e) => (Status::Retrying, Some(e), None),
    };
    let mut batch = shop_core::Batch::for_db(db);
    batch
        .add(
            "UPDATE notifications SET status = $1, attempts = attempts + 1,
                    last_error = COALESCE($2, last_error), sent_at = COALESCE($3, sent_at),
                    updated_at = $4
             WHERE id = $5 AND status <> 'sent'",
        )
        .bind(status.as_str())
        .bind(error.map(|e| e.chars().take(500).collect::<String>()))
        .bind(sent_at)
        .bind(now)
        .bind(id.as_str().to_owned());
    db.write_batch(batch).await
}

/// Why a message cannot be resent.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("no such message")]
    NotFound,
    #[error(
        "this message held a one-time link and is not resent; the customer can ask for a new link"
    )]
    Secret,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Queues `id` to be sent again, as a new message of the log; returns the new message's id.
pub async fn resend(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    id: &NotificationId,
) -> Result<NotificationId, ResendError> {
    let original = find(db, id).await?.ok_or(ResendError::NotFound)?;
    if original.secret || Template::parse(&original.template).is_some_and(Template::secret) {
        return Err(ResendError::Secret);
    }
    let copy = NotificationId::new();
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let event = outbox::enqueue(
        &mut tx,
        clock,
        RESEND,
        &Resend {
            notification_id: copy.clone(),
        },
    )
    .await?;
    sqlx::query(
        "INSERT INTO notifications (id, event_id, template, recipient, subject, text_body,
                html_body, secret, status, attempts, resend_of, created_at, updated_at)
         SELECT $1, $2, template, recipient, subject, text_body, html_body, 0, 'queued', 0,
                id, $3, $3
         FROM notifications WHERE id = $4",
    )
    .bind(copy.as_str())
    .bind(event.as_str())
    .bind(now)
    .bind(original.id.as_str())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "notification.resend",
            target_type: "notification",
            target_id: original.id.as_str(),
            before: None,
            after: Some(serde_json::json!({
                "template": original.template,
                "recipient": original.recipient,
                "copy": copy.as_str(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(copy)
}

/// What the log lists.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<Status>,
    /// Part of the recipient's address.
    pub recipient: String,
    pub template: Option<Template>,
}

/// Newest first, `per_page` from `offset`; with the number of matches.
pub async fn list(
    db: &Db,
    filter: &Filter,
    offset: i64,
    per_page: i64,
) -> Result<(Vec<Notification>, i64), sqlx::Error> {
    let mut clauses = vec!["1 = 1".to_owned()];
    let mut binds: Vec<String> = Vec::new();
    if let Some(s) = filter.status {
        binds.push(s.as_str().to_owned());
        clauses.push(format!("status = ${}", binds.len()));
    }
    if let Some(t) = filter.template {
        binds.push(t.name().to_owned());
        clauses.push(format!("template = ${}", binds.len()));
    }
    let recipient = filter.recipient.trim().to_lowercase();
    if !recipient.is_empty() {
        binds.push(format!("%{}%", audit::escape_like(&recipient)));
        clauses.push(format!("recipient LIKE ${} ESCAPE '\\'", binds.len()));
    }
    let filter_sql = clauses.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM notifications WHERE {filter_sql}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
    for b in &binds {
        count = count.bind(b.as_str());
    }
    let total = count.fetch_one(db.reader()).await?;
    let page_sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE {filter_sql}
         ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
        per_page.clamp(1, 200),
        offset.max(0)
    );
    let mut page = sqlx::query_as::<_, Row>(&page_sql);
    for b in &binds {
        page = page.bind(b.as_str());
    }
    let rows = page.fetch_all(db.reader()).await?;
    Ok((
        rows.into_iter().map(Row::into_notification).collect(),
        total,
    ))
}
