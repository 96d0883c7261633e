//! Recording events without slowing a page: [`Recorder::record`] only pushes onto an
//! in-memory buffer; [`Recorder::flush`] (every second, and at shutdown) writes what has
//! gathered in a few multi-row inserts, hashing each visit with its day's salt on the way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::Rng;
use shop_core::{Batch, Db};

use crate::event::Noted;
use crate::visitor::{self, Visit};
use crate::zone::Zone;

/// Most events held in memory (if the database stays unwritable, newer ones are dropped).
const MAX_BUFFERED: usize = 100_000;
/// Events per insert statement (15 parameters each). Few: SQLite finds each `$N` parameter's
/// slot by walking the statement's list of names, so binding costs the square of the
/// parameters; at 100 events (1,500 parameters) binding took 28% of the server's time under
/// the catalog benchmark.
const PER_STATEMENT: usize = 20;
/// Events per write (one job of the group commit on SQLite).
const PER_WRITE: usize = 1_000;

/// An event waiting to be written.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) noted: Noted,
    pub(crate) at: i64,
    pub(crate) visit: Option<Visit>,
    /// A visitor hash made elsewhere (imported history), used instead of hashing `visit`.
    pub(crate) visitor: Option<String>,
    pub(crate) dedupe: Option<String>,
}

/// The buffer of events not yet written.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    buffer: Arc<Mutex<Vec<Pending>>>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl Recorder {
    /// Notes `noted` for `visit` at `at` (milliseconds): cheap, no I/O.
    pub fn record(&self, noted: Noted, at: i64, visit: Option<Visit>) {
        self.push(Pending {
            noted,
            at,
            visit,
            visitor: None,
            dedupe: None,
        });
    }

    fn push(&self, pending: Pending) {
        let mut buffer = self
            .buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buffer.len() < MAX_BUFFERED {
            buffer.push(pending);
        } else {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Events waiting to be written.
    pub fn pending(&self) -> usize {
        self.buffer.lock().map(|b| b.len()).unwrap_or_default()
    }

    /// Writes every buffered event. Returns how many were written; on error the unwritten
    /// ones go back to the buffer for the next try.
    pub async fn flush(&self, db: &Db, zone: &Zone) -> Result<usize, sqlx::Error> {
        let taken = {
            let mut buffer = self
                .buffer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::take(&mut *buffer)
        };
        let dropped = self.dropped.swap(0, std::sync::atomic::Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                events.dropped = dropped,
                "analytics buffer full; events were dropped"
            );
        }
        let mut written = 0;
        let mut rest = taken.as_slice();
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(rest.len().min(PER_WRITE));
            if let Err(e) = write(db, zone, chunk).await {
                let mut buffer = self
                    .buffer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let mut restored = rest.to_vec();
                restored.append(&mut buffer);
                restored.truncate(MAX_BUFFERED);
                *buffer = restored;
                return Err(e);
            }
            written += chunk.len();
            rest = after;
        }
        Ok(written)
    }
}

/// Writes `events` at once (events from the outbox: `dedupe` keys them, and one written
/// before is skipped).
pub(crate) async fn write_keyed(
    db: &Db,
    zone: &Zone,
    events: Vec<(Noted, i64, String)>,
) -> Result<(), sqlx::Error> {
    let pending: Vec<Pending> = events
        .into_iter()
        .map(|(noted, at, dedupe)| Pending {
            noted,
            at,
            visit: None,
            visitor: None,
            dedupe: Some(dedupe),
        })
        .collect();
    for chunk in pending.chunks(PER_WRITE) {
        write(db, zone, chunk).await?;
    }
    Ok(())
}

/// Writes events of the past as they are (`visitor`: an opaque id, such as made-up
/// history has), in writes of [`PER_WRITE`].
pub(crate) async fn write_imported(
    db: &Db,
    zone: &Zone,
    events: Vec<(Noted, i64, Option<String>)>,
) -> Result<(), sqlx::Error> {
    let pending: Vec<Pending> = events
        .into_iter()
        .map(|(noted, at, visitor)| Pending {
            noted,
            at,
            visit: None,
            visitor,
            dedupe: None,
        })
        .collect();
    for chunk in pending.chunks(PER_WRITE) {
        write(db, zone, chunk).await?;
    }
    Ok(())
}

/// Writes `events` in one write: the salts of their days first, then the rows.
async fn write(db: &Db, zone: &Zone, events: &[Pending]) -> Result<(), sqlx::Error> {
    let days: Vec<String> = events.iter().map(|e| zone.day_of(e.at)).collect();
    let mut salts = HashMap::new();
    for (event, day) in events.iter().zip(&days) {
        if event.visit.is_some() && !salts.contains_key(day) {
            salts.insert(day.clone(), salt(db, day).await?);
        }
    }
    let mut batch = Batch::for_db(db);
    for (events, days) in events.chunks(PER_STATEMENT).zip(days.chunks(PER_STATEMENT)) {
        let mut sql = String::from(
            "INSERT INTO analytics_events (at, day, kind, visitor, product_id, vendor_id,
                 category_id, term, results, quantity, order_id, cart_id, amount_minor,
                 currency, dedupe) VALUES ",
        );
        for i in 0..events.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = i * 15;
            let params: Vec<String> = (1..=15).map(|k| format!("${}", n + k)).collect();
            sql.push('(');
            sql.push_str(&params.join(", "));
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT (dedupe) DO NOTHING");
        batch.add(&sql);
        for (e, day) in events.iter().zip(days) {
            let visitor = e.visitor.clone().or_else(|| {
                e.visit
                    .as_ref()
                    .and_then(|v| salts.get(day).map(|salt| visitor::hash(salt, v)))
            });
            let n = &e.noted;
            batch
                .bind(e.at)
                .bind(day.clone())
                .bind(n.kind.as_str().to_owned())
                .bind(visitor)
                .bind(n.product_id.clone())
                .bind(n.vendor_id.clone())
                .bind(n.category_id.clone())
                .bind(n.term.clone())
                .bind(n.results)
                .bind(n.quantity)
                .bind(n.order_id.clone())
                .bind(n.cart_id.clone())
                .bind(n.amount_minor)
                .bind(n.currency.clone())
                .bind(e.dedupe.clone());
        }
    }
    db.write_batch(batch).await
}

/// The salt of local day `day`, made (once, for every instance) if it has none yet.
async fn salt(db: &Db, day: &str) -> Result<String, sqlx::Error> {
    if let Some(salt) = read_salt(db, day).await? {
        return Ok(salt);
    }
    let fresh: String = {
        let mut rng = rand::rng();
        (0..32)
            .map(|_| format!("{:02x}", rng.random::<u8>()))
            .collect()
    };
    let mut batch = Batch::for_db(db);
    batch
        .add("INSERT INTO analytics_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
        .bind(day.to_owned())
        .bind(fresh);
    db.write_batch(batch).await?;
    read_salt(db, day).await?.ok_or(sqlx::Error::RowNotFound)
}

async fn read_salt(db: &Db, day: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT salt FROM analytics_salts WHERE day = $1")
        .bind(day)
        .fetch_optional(db.reader())
        .await
}
