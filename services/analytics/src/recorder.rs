//! Recording events without slowing a page: [`Recorder::record`] only pushes onto an
//! in-memory buffer; [`Recorder::flush`] (every second, and at shutdown) writes what has
//! gathered in a few multi-row inserts, hashing each visit with its day's salt on the way.
//! The same event by the same visitor on the same day, gathered more than once before a
//! flush (a page reloaded, a flood of requests), is written once with its count (`n`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::Rng;
use shop_core::{Batch, Db};

use crate::event::Noted;
use crate::visitor::{self, Visit};
use crate::zone::Zone;

/// Most events held in memory (if the database stays unwritable, newer ones are dropped).
const MAX_BUFFERED: usize = 100_000;
/// Events per insert statement (16 parameters each). Few: SQLite finds each `$N` parameter's
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
    /// How many times it happened (identical events gathered in one flush are written once).
    pub(crate) n: i64,
}

impl Pending {
    fn once(noted: Noted, at: i64) -> Pending {
        Pending {
            noted,
            at,
            visit: None,
            visitor: None,
            dedupe: None,
            n: 1,
        }
    }
}

/// An event with its local day (`YYYY-MM-DD`), worked out once.
type Dated = (Pending, String);

/// `events` with their local days.
fn dated(events: Vec<Pending>, zone: &Zone) -> Vec<Dated> {
    events
        .into_iter()
        .map(|e| {
            let day = zone.day_of(e.at);
            (e, day)
        })
        .collect()
}

/// `events` with the same event by the same visit on the same local day folded into the
/// first of them, counted in its `n` (keyed events stay as they are: each has its own key).
fn collapse(events: Vec<Pending>, zone: &Zone) -> Vec<Dated> {
    let mut out: Vec<Dated> = Vec::with_capacity(events.len());
    let mut seen: HashMap<(String, Noted, Option<Visit>), usize> = HashMap::new();
    for (event, day) in dated(events, zone) {
        if event.dedupe.is_some() || event.visitor.is_some() {
            out.push((event, day));
            continue;
        }
        let key = (day.clone(), event.noted.clone(), event.visit.clone());
        match seen.get(&key) {
            Some(&i) => out[i].0.n += event.n,
            None => {
                seen.insert(key, out.len());
                out.push((event, day));
            }
        }
    }
    out
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
            visit,
            ..Pending::once(noted, at)
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

    /// Writes every buffered event. Returns how many were written (identical ones counted in
    /// one row each); on error the unwritten ones go back to the buffer for the next try.
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
        let taken = collapse(taken, zone);
        let mut written = 0;
        let mut rest = taken.as_slice();
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(rest.len().min(PER_WRITE));
            if let Err(e) = write(db, chunk).await {
                let mut buffer = self
                    .buffer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let mut restored: Vec<Pending> = rest.iter().map(|(e, _)| e.clone()).collect();
                restored.append(&mut buffer);
                restored.truncate(MAX_BUFFERED);
                *buffer = restored;
                return Err(e);
            }
            written += chunk.iter().map(|(e, _)| e.n as usize).sum::<usize>();
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
            dedupe: Some(dedupe),
            ..Pending::once(noted, at)
        })
        .collect();
    for chunk in dated(pending, zone).chunks(PER_WRITE) {
        write(db, chunk).await?;
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
            visitor,
            ..Pending::once(noted, at)
        })
        .collect();
    for chunk in dated(pending, zone).chunks(PER_WRITE) {
        write(db, chunk).await?;
    }
    Ok(())
}

/// Writes `events` in one write: the salts of their days first, then the rows.
async fn write(db: &Db, events: &[Dated]) -> Result<(), sqlx::Error> {
    let mut salts = HashMap::new();
    for (event, day) in events {
        if event.visit.is_some() && !salts.contains_key(day) {
            salts.insert(day.clone(), salt(db, day).await?);
        }
    }
    let mut batch = Batch::for_db(db);
    for events in events.chunks(PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO analytics_events (at, day, kind, visitor, product_id, vendor_id,
                 category_id, term, results, quantity, order_id, cart_id, amount_minor,
                 currency, dedupe, n) VALUES ",
        );
        for i in 0..events.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&shop_core::db::placeholders(i * 16 + 1, 16));
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT (dedupe) DO NOTHING");
        batch.add(&sql);
        for (e, day) in events {
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
                .bind(e.dedupe.clone())
                .bind(e.n);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;

    fn visit(ip: &str) -> Option<Visit> {
        Some(Visit {
            ip: ip.to_owned(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0".to_owned(),
        })
    }

    #[test]
    fn the_same_event_by_the_same_visit_on_the_same_day_is_one_row_with_its_count() {
        let zone = Zone::named("Europe/Berlin").unwrap();
        // 2026-03-02 09:00 Berlin, and 16 hours later (the next day there).
        let (monday, tuesday) = (1_772_438_400_000, 1_772_438_400_000 + 16 * 3_600_000);
        let view = Noted::product_view("p1", None);
        let event = |noted: &Noted, at, ip| Pending {
            visit: visit(ip),
            ..Pending::once(noted.clone(), at)
        };
        let keyed = Pending {
            dedupe: Some("paid:o1".to_owned()),
            ..Pending::once(Noted::new(Kind::OrderPaid), monday)
        };
        let collapsed = collapse(
            vec![
                event(&view, monday, "192.0.2.1"),
                event(&view, monday + 5, "192.0.2.2"),
                event(&view, monday + 10, "192.0.2.1"),
                event(&Noted::product_view("p2", None), monday, "192.0.2.1"),
                event(&view, tuesday, "192.0.2.1"),
                keyed.clone(),
                keyed,
                event(&view, monday + 20, "192.0.2.1"),
            ],
            &zone,
        );
        let rows: Vec<(Option<&str>, i64, i64)> = collapsed
            .iter()
            .map(|(e, _)| (e.noted.product_id.as_deref(), e.at, e.n))
            .collect();
        assert_eq!(
            rows,
            vec![
                (Some("p1"), monday, 3),
                (Some("p1"), monday + 5, 1),
                (Some("p2"), monday, 1),
                (Some("p1"), tuesday, 1),
                (None, monday, 1),
                (None, monday, 1),
            ]
        );
        assert_eq!(collapsed.iter().map(|(e, _)| e.n).sum::<i64>(), 8);
    }
}
