//! First-party analytics: what shoppers do in the shop, counted on the server (so with
//! JavaScript off too), without a third party, a cookie or a stored address.
//!
//! - [`carts`]: abandoned carts, snapshotted when left and marked when bought later.
//! - [`event`]: the kinds of events and an event as a page or server function notes it.
//! - [`visitor`]: who is counted (no bots, no opted-out browsers) and the daily visitor hash.
//! - [`orders`]: payments and refunds, recorded from the outbox.
//! - [`recorder`]: the in-memory buffer, written in batches.
//! - [`report`]: the dashboards' figures for a period, from roll-ups and live events.
//! - [`rollup`]: the daily roll-ups and the retention of raw events.
//! - [`zone`]: the shop's time zone, which decides an event's day.

pub mod carts;
pub mod event;
pub mod orders;
pub mod recorder;
pub mod reminders;
pub mod report;
pub mod rollup;
pub mod visitor;
pub mod zone;

use shop_core::{Clock, Db};

pub use event::{Kind, Noted};
pub use orders::OrderEvents;
pub use recorder::Recorder;
pub use rollup::RolledUp;
pub use visitor::Visit;
pub use zone::Zone;

/// Analytics settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Record events at all (`ANALYTICS_ENABLED`).
    pub enabled: bool,
    /// Raw events older than this many days are deleted (`ANALYTICS_RETENTION_DAYS`).
    pub retention_days: i64,
    /// The shop's time zone (`SHOP_TIMEZONE`).
    pub zone: Zone,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            retention_days: 90,
            zone: Zone::utc(),
        }
    }
}

/// The analytics service: records events and answers the dashboards. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Analytics {
    db: Db,
    clock: Clock,
    settings: Settings,
    recorder: Recorder,
}

impl Analytics {
    pub fn new(db: Db, clock: Clock, settings: Settings) -> Analytics {
        Analytics {
            db,
            clock,
            settings,
            recorder: Recorder::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn zone(&self) -> &Zone {
        &self.settings.zone
    }

    /// Notes an event of a request by `visit` (`None`: the request is not counted, and
    /// nothing is recorded). Cheap: the event waits in memory for [`Analytics::flush`].
    pub fn record(&self, noted: Noted, visit: Option<Visit>) {
        if !self.settings.enabled || visit.is_none() {
            return;
        }
        self.recorder
            .record(noted, self.clock.now().millis(), visit);
    }

    /// Writes the buffered events; how many.
    pub async fn flush(&self) -> Result<usize, sqlx::Error> {
        self.recorder.flush(&self.db, &self.settings.zone).await
    }

    /// Events waiting in memory.
    pub fn pending(&self) -> usize {
        self.recorder.pending()
    }

    /// Writes events the server records on its own (a payment, a refund), each with a key
    /// that makes writing it again a no-op (the outbox may deliver an event twice).
    pub async fn record_keyed(&self, events: Vec<(Noted, i64, String)>) -> Result<(), sqlx::Error> {
        if !self.settings.enabled || events.is_empty() {
            return Ok(());
        }
        recorder::write_keyed(&self.db, &self.settings.zone, events).await
    }

    /// Writes events of the past as they are, each with its time and an opaque visitor id
    /// (made-up history for a demo or a benchmark: `shop demo-history`).
    pub async fn import(
        &self,
        events: Vec<(Noted, i64, Option<String>)>,
    ) -> Result<(), sqlx::Error> {
        recorder::write_imported(&self.db, &self.settings.zone, events).await
    }

    /// Keeps abandoned carts of the past (made-up history), with their vendors' parts.
    pub async fn import_abandoned(
        &self,
        carts: Vec<(String, carts::AbandonedCart)>,
    ) -> Result<(), sqlx::Error> {
        carts::insert(
            &self.db,
            &self.settings.zone,
            &carts,
            self.clock.now().millis(),
        )
        .await
    }

    /// Rolls up the past days not final yet, snapshots the carts left since the last run
    /// and deletes what is past retention (the housekeeping job's part).
    pub async fn roll_up(&self) -> Result<RolledUp, sqlx::Error> {
        let (zone, now) = (&self.settings.zone, self.clock.now().millis());
        let mut done = rollup::run(&self.db, zone, now, self.settings.retention_days).await?;
        if self.settings.enabled {
            done.abandoned_carts = carts::find(&self.db, zone, now).await?;
        }
        let before = zone::shift(zone.date_of(now), -self.settings.retention_days);
        carts::expire(&self.db, before.to_string()).await?;
        Ok(done)
    }
}
