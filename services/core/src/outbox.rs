//! The transactional outbox.
//!
//! A domain event (`order.paid`, `user.registered`, ...) is a row written in the same
//! transaction as the change it describes, so it exists if and only if the change committed.
//! A [`Worker`] claims pending rows, hands each to a [`Handler`], and records the outcome:
//! delivered, retried later with exponential backoff, or failed after the last attempt.
//! Delivery is at least once (a worker that dies mid-event leaves a lease that expires and
//! the event is claimed again), so handlers must be idempotent; the event id is the key.
//!
//! Several workers (in-process or `shop worker` processes) can run against one PostgreSQL
//! database: claiming uses `FOR UPDATE SKIP LOCKED`, so no event is handed to two at once.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::batch::Batch;
use crate::clock::{Clock, Timestamp};
use crate::db::{Backend, Conn, Db};

crate::define_id!(
    /// Identifies one outbox event.
    EventId
);

/// A claimed event, as a handler sees it.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: EventId,
    pub kind: String,
    pub payload: serde_json::Value,
    /// 1 on the first delivery attempt.
    pub attempt: i64,
    pub created_at: Timestamp,
}

/// Why a handler did not finish an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again later (SMTP down, a timeout).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (malformed payload); marked failed at once.
    #[error("{0}")]
    Permanent(String),
}

/// Reacts to events. Implementations must be idempotent: the same event may arrive twice.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, event: &Event) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Two handlers for one worker: each event goes to both, whatever the first answered, so
/// one handler's trouble (an SMTP outage, a mail that cannot be made) never holds up the
/// other's work. The event is retried when either asks for it (a retry runs both again, so
/// both must be idempotent, as every handler is), and fails when either fails for good.
#[derive(Clone, Debug)]
pub struct Both<A, B>(pub A, pub B);

impl<A: Handler, B: Handler> Handler for Both<A, B> {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let first = self.0.handle(event).await;
        let second = self.1.handle(event).await;
        match (first, second) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(HandlerError::Retry(e)), _) | (_, Err(HandlerError::Retry(e))) => {
                Err(HandlerError::Retry(e))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

/// Writes an event in the caller's transaction.
pub async fn enqueue(
    conn: &mut Conn,
    clock: &Clock,
    kind: &str,
    payload: &impl Serialize,
) -> Result<EventId, sqlx::Error> {
    let mut batch = Batch::new(conn);
    let id = enqueue_into(&mut batch, clock, kind, payload)?;
    batch.execute(conn).await?;
    Ok(id)
}

/// [`enqueue`] as one statement of a [`Batch`] (it changes one row).
pub fn enqueue_into(
    batch: &mut Batch,
    clock: &Clock,
    kind: &str,
    payload: &impl Serialize,
) -> Result<EventId, sqlx::Error> {
    let id = EventId::new();
    let payload = serde_json::to_string(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let now = clock.now().millis();
    batch
        .add(
            "INSERT INTO outbox_events (id, kind, payload, status, attempts, available_at, created_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
        )
        .bind(id.as_str().to_owned())
        .bind(kind.to_owned())
        .bind(payload)
        .bind(now);
    Ok(id)
}

/// How a worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Events claimed per round trip.
    pub batch_size: i64,
    /// Attempts before an event is marked failed.
    pub max_attempts: i64,
    /// Delay before the second attempt; doubles each time.
    pub base_backoff: Duration,
    /// Longest delay between attempts.
    pub max_backoff: Duration,
    /// How long a claim lasts before another worker may take the event over.
    pub lease: Duration,
    /// Sleep between polls when there is nothing to do.
    pub idle_poll: Duration,
    /// Which events this worker claims (several workers can split the kinds between them).
    pub kinds: Kinds,
}

/// The event kinds a worker claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kinds {
    #[default]
    All,
    Only(&'static [&'static str]),
    Except(&'static [&'static str]),
}

impl Kinds {
    /// The claim's condition on `kind`. The kinds are the program's own constants, written
    /// into the SQL: a list that is empty or holds anything but lowercase letters, digits,
    /// `.` and `_` is a programming error.
    fn condition(self) -> String {
        let list = |kinds: &[&str]| {
            assert!(!kinds.is_empty(), "a worker's list of kinds is empty");
            kinds
                .iter()
                .map(|k| {
                    assert!(
                        !k.is_empty()
                            && k.bytes().all(|b| b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || b == b'.'
                                || b == b'_'),
                        "not an event kind: {k:?}"
                    );
                    format!("'{k}'")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Kinds::All => String::new(),
            Kinds::Only(kinds) => format!(" AND kind IN ({})", list(kinds)),
            Kinds::Except(kinds) => format!(" AND kind NOT IN ({})", list(kinds)),
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch_size: 20,
            max_attempts: 8,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60 * 60),
            lease: Duration::from_secs(5 * 60),
            idle_poll: Duration::from_millis(500),
            kinds: Kinds::All,
        }
    }
}

impl WorkerConfig {
    /// The delay after failed attempt number `attempt` (1-based), before jitter:
    /// `base × 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.base_backoff
            .checked_mul(1_u32 << exp)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What happened to one event in [`Worker::run_once`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retrying { next_attempt_at: Timestamp },
    Failed,
}

/// Claims and delivers outbox events.
pub struct Worker<H> {
    db: Db,
    clock: Clock,
    handler: H,
    config: WorkerConfig,
}

/// A just-claimed event as the `outbox_events` table holds it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    kind: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

impl<H: Handler> Worker<H> {
    pub fn new(db: Db, clock: Clock, handler: H, config: WorkerConfig) -> Self {
        Self {
            db,
            clock,
            handler,
            config,
        }
    }

    /// Claims one batch and processes it. Returns each event's outcome.
    #[tracing::instrument(skip(self), level = "debug")]
    pub async fn run_once(&self) -> Result<Vec<(EventId, Outcome)>, sqlx::Error> {
        let events = self.claim().await?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let result = self.handler.handle(&event).await;
            let outcome = self.record(&event, result).await?;
            outcomes.push((event.id, outcome));
        }
        Ok(outcomes)
    }

    /// Runs until `shutdown` turns true, finishing the event in hand first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("outbox worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match self.run_once().await {
                Ok(done) => !done.is_empty(),
                Err(e) => {
                    tracing::error!(error = %e, "outbox worker could not claim events");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!("outbox worker stopped");
    }

    async fn claim(&self) -> Result<Vec<Event>, sqlx::Error> {
        let now = self.clock.now();
        let lease_until = now.plus(self.config.lease);
        // Pending and due, or claimed by a worker whose lease ran out (it died).
        let candidates = format!(
            "SELECT id FROM outbox_events
             WHERE ((status = 'pending' AND available_at <= $2)
                OR (status = 'processing' AND locked_until <= $2)){}
             ORDER BY available_at, id
             LIMIT $3",
            self.config.kinds.condition()
        );
        let lock = match self.db.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            // One writer at a time on SQLite: the claim is already exclusive.
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox_events
             SET status = 'processing', attempts = attempts + 1, locked_until = $1
             WHERE id IN ({candidates}{lock})
             RETURNING id, kind, payload, attempts, created_at"
        );
        let batch_size = self.config.batch_size;
        // Through the group commit: on SQLite the claim shares a commit with the orders
        // placed at the same moment instead of taking the writer for a commit of its own.
        let rows = self
            .db
            .write(move |mut w| {
                Box::pin(async move {
                    let mut batch = w.batch();
                    batch
                        .add(&sql)
                        .bind(lease_until.millis())
                        .bind(now.millis())
                        .bind(batch_size);
                    w.fetch_all(batch).await
                })
            })
            .await?;
        let rows = rows
            .iter()
            .map(<ClaimedRow as sqlx::FromRow<'_, sqlx::any::AnyRow>>::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let mut events: Vec<Event> = rows
            .into_iter()
            .map(|r| Event {
                id: EventId(r.id),
                kind: r.kind,
                payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
                attempt: r.attempts,
                created_at: Timestamp(r.created_at),
            })
            .collect();
        events.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(events)
    }

    async fn record(
        &self,
        event: &Event,
        result: Result<(), HandlerError>,
    ) -> Result<Outcome, sqlx::Error> {
        let now = self.clock.now();
        let (outcome, status, available_at, error) = match result {
            Ok(()) => (Outcome::Delivered, "delivered", now, None),
            Err(e) => {
                let permanent = matches!(e, HandlerError::Permanent(_));
                if permanent || event.attempt >= self.config.max_attempts {
                    tracing::error!(event.id = %event.id, event.kind = %event.kind, attempt = event.attempt, error = %e, "outbox event failed for good");
                    (Outcome::Failed, "failed", now, Some(e.to_string()))
                } else {
                    let next = now.plus(with_jitter(self.config.backoff(event.attempt)));
                    tracing::warn!(event.id = %event.id, event.kind = %event.kind, attempt = event.attempt, error = %e, "outbox event will be retried");
                    (
                        Outcome::Retrying {
                            next_attempt_at: next,
                        },
                        "pending",
                        next,
                        Some(e.to_string()),
                    )
                }
            }
        };
        let mut batch = Batch::for_db(&self.db);
        batch
            .add(
                "UPDATE outbox_events
                 SET status = $1, available_at = $2, last_error = $3, locked_until = NULL,
                     processed_at = $4
                 WHERE id = $5",
            )
            .bind(status)
            .bind(available_at.millis())
            .bind(error.map(|e| truncate(&e, 2000)))
            .bind(now.millis())
            .bind(event.id.as_str().to_owned());
        self.db.write_batch(batch).await?;
        Ok(outcome)
    }
}

/// Adds up to 20% random delay so that events failing together do not retry in lockstep.
fn with_jitter(d: Duration) -> Duration {
    let extra = rand::random_range(0.0..0.2);
    d + d.mul_f64(extra)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// An event's stored state, for the admin's notification log and for tests.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRecord {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub available_at: i64,
    pub created_at: i64,
}

/// Reads one event's stored state.
pub async fn find(db: &Db, id: &EventId) -> Result<Option<EventRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, status, attempts, last_error, available_at, created_at
         FROM outbox_events WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(db.reader())
    .await
}

/// A status and how many events have it.
#[derive(sqlx::FromRow)]
struct StatusCount {
    status: String,
    count: i64,
}

/// Number of events in each status, every status listed (zero when none).
pub async fn counts_by_status(db: &Db) -> Result<Vec<(&'static str, i64)>, sqlx::Error> {
    let rows: Vec<StatusCount> =
        sqlx::query_as("SELECT status, COUNT(*) AS count FROM outbox_events GROUP BY status")
            .fetch_all(db.reader())
            .await?;
    Ok(["pending", "processing", "delivered", "failed"]
        .into_iter()
        .map(|s| {
            (
                s,
                rows.iter().find(|r| r.status == s).map_or(0, |r| r.count),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = WorkerConfig {
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            ..WorkerConfig::default()
        };
        let secs: Vec<u64> = (1..=6).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 60, 60]);
        assert_eq!(c.backoff(1_000).as_secs(), 60);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth() {
        for _ in 0..100 {
            let d = with_jitter(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(10) && d <= Duration::from_secs(12));
        }
    }
}
