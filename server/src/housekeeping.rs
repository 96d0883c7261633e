//! Periodic clean-up that runs beside the outbox worker: expired sessions (the browsers' and
//! the JSON API's), used and expired tokens, stale throttle counters, stale guest carts and
//! their sessions, and fresh query planner statistics; and the analytics roll-ups. One
//! process of a cluster runs them at a time (see `startup::PeriodicJobs`); every step is
//! idempotent anyway, so a round cut short and run again does no harm.

use std::time::Duration;

use shop_core::{Clock, Db};
use tokio::sync::watch;

/// How often the clean-up runs.
const EVERY: Duration = Duration::from_secs(10 * 60);

/// Runs one round of clean-up; returns how many rows went.
pub async fn run_once(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let sessions = auth::sessions::purge_expired(db, clock).await?
        + auth::api_sessions::purge(db, clock).await?
        + auth::api_keys::purge(db, clock).await?;
    let tokens =
        auth::tokens::purge(db, clock).await? + notifications::webhooks::purge(db, clock).await?;
    let counters = auth::throttle::purge(db, clock).await?;
    // Guest carts: empty ones after a day, any after the 30 idle days a guest session lives;
    // the guest sessions that held them go with them.
    let now = clock.now();
    let deleted = cart::delete_stale_guest_carts(
        db,
        now.minus(Duration::from_secs(24 * 3600)).millis(),
        now.minus(Duration::from_secs(30 * 24 * 3600)).millis(),
    )
    .await?;
    let ids: Vec<&str> = deleted.iter().map(cart::CartId::as_str).collect();
    let guest_sessions = auth::sessions::end_anchored_guest_sessions(db, &ids).await?;
    let sessions = sessions + guest_sessions;
    let carts = u64::try_from(deleted.len()).unwrap_or(u64::MAX);
    // Keeps the query planner's statistics current as the catalog grows.
    db.optimize().await?;
    if sessions + tokens + counters + carts > 0 {
        tracing::info!(
            sessions,
            tokens,
            counters,
            carts,
            "housekeeping removed expired rows"
        );
    }
    Ok(sessions + tokens + counters + carts)
}

/// Runs [`run_once`] every ten minutes until `stop` turns true.
pub async fn run(db: Db, clock: Clock, stop: watch::Receiver<bool>) {
    every_ten_minutes(stop, || async {
        if let Err(e) = run_once(&db, &clock).await {
            tracing::warn!(error = %e, "housekeeping failed; will retry");
        }
    })
    .await;
}

/// Runs `round` now and then every ten minutes until `stop` turns true.
async fn every_ten_minutes<F, Fut>(mut stop: watch::Receiver<bool>, round: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        round().await;
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Writes the analytics events this process noted in memory, every second and once more
/// when `stop` turns true (after the last request). Every instance runs this for itself.
pub async fn analytics_flush(analytics: analytics::Analytics, mut stop: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => false,
            _ = stop.changed() => true,
        } || *stop.borrow();
        if let Err(e) = analytics.flush().await {
            tracing::warn!(error = %e, "could not write analytics events; will retry");
        }
        if stopping {
            return;
        }
    }
}

/// Rolls up past days and deletes expired events, at start and every ten minutes until
/// `stop` turns true. A periodic job: one process of a cluster runs it.
pub async fn analytics_roll_up(analytics: analytics::Analytics, stop: watch::Receiver<bool>) {
    every_ten_minutes(stop, || async {
        match analytics.roll_up().await {
            Ok(done) if !done.days.is_empty() || done.expired > 0 => tracing::info!(
                days = done.days.len(),
                expired = done.expired,
                "analytics rolled up"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "analytics roll-up failed; will retry"),
        }
    })
    .await;
}
