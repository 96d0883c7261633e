//! Periodic jobs that run once across a cluster, not once per process.
//!
//! Several `shop serve` instances and `shop worker`s may share one database. A periodic job
//! (housekeeping, the payment sweeper, analytics roll-ups) runs only in the process holding
//! its lease, a row of `job_leases`. The holder renews the lease every third of its length;
//! a holder that dies, hangs or loses the database stops renewing, and once the lease has
//! expired the next process to ask takes the job over. A process that shuts down cleanly
//! gives its leases back, so a rolling restart hands jobs over at once.
//!
//! Lease times come from each process's [`Clock`]: the machines' clocks must agree to well
//! within a lease's length (NTP does).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::{Clock, Db};

/// How long a lease lasts unless renewed, by default (`JOB_LEASE_SECS`).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// This process's claim on jobs: who it is and how long its leases last.
#[derive(Clone, Debug)]
pub struct Leases {
    db: Db,
    clock: Clock,
    holder: String,
    ttl: Duration,
}

impl Leases {
    /// Leases held as `holder` (unique per process: see [`Leases::process_name`]) lasting
    /// `ttl` unless renewed.
    pub fn new(db: Db, clock: Clock, holder: impl Into<String>, ttl: Duration) -> Leases {
        Leases {
            db,
            clock,
            holder: holder.into(),
            ttl: ttl.max(Duration::from_millis(300)),
        }
    }

    /// A name for this process that no other shares: its host, its pid and a random part
    /// (a restarted container may get the same pid).
    pub fn process_name(role: &str) -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let random = crate::id::new_uuid_v7();
        let tail = random.get(random.len().saturating_sub(8)..).unwrap_or("");
        format!("{role}@{host}:{}:{tail}", std::process::id())
    }

    /// Takes or renews the lease on `job`: true when this process holds it now (until
    /// `ttl` from now), false when another process holds an unexpired lease.
    pub async fn acquire(&self, job: &str) -> Result<bool, sqlx::Error> {
        let now = self.clock.now();
        let expires = now.plus(self.ttl);
        let mut tx = self.db.begin().await?;
        // One statement: a new job's row, a renewal of our own lease, or a takeover of an
        // expired one; anything else leaves the row alone and returns nothing. Two processes
        // asking at once are serialised on the row (or SQLite's write lock).
        let holder: Option<String> = sqlx::query_scalar(
            "INSERT INTO job_leases (job, holder, acquired_at, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (job) DO UPDATE SET
                 holder = excluded.holder,
                 expires_at = excluded.expires_at,
                 acquired_at = CASE WHEN job_leases.holder = excluded.holder
                                    THEN job_leases.acquired_at
                                    ELSE excluded.acquired_at END
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= $3
             RETURNING holder",
        )
        .bind(job)
        .bind(&self.holder)
        .bind(now.millis())
        .bind(expires.millis())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(holder.as_deref() == Some(self.holder.as_str()))
    }

    /// Gives the lease on `job` back, if this process holds it, so another can take the job
    /// at once.
    pub async fn release(&self, job: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
            .bind(job)
            .bind(&self.holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Runs the job `start` makes, in this process, only while holding the lease on `job`,
    /// until `stop` turns true.
    ///
    /// `start` gets a stop signal of its own and should return soon after it turns true (the
    /// shop's job loops do). The lease is asked for every third of its length; once held,
    /// the job starts and the lease is renewed at that pace, each renewal given only what is
    /// left of the lease. When another process holds the lease (this one stalled past its
    /// expiry), or renewals keep failing until less than a third of it is left (the database
    /// cannot be reached), the job is told to stop, and dropped (its open transaction rolled
    /// back) if it is still running when the lease expires, so it never runs beyond its
    /// lease, in two processes at once. At `stop` the job finishes its round within the
    /// lease and the lease is given back.
    pub async fn run<F, Fut>(self, job: &'static str, mut stop: watch::Receiver<bool>, start: F)
    where
        F: Fn(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()>,
    {
        use tokio::time::Instant;
        let pace = self.ttl / 3;
        loop {
            if *stop.borrow() {
                return;
            }
            // The lease runs from when it was asked for (the database's expiry is later).
            let asked = Instant::now();
            match self.acquire(job).await {
                Ok(true) => {
                    tracing::info!(job, holder = %self.holder, "took the job's lease");
                    let mut held_until = asked + self.ttl;
                    let (job_stop, job_stopped) = watch::channel(false);
                    let task = start(job_stopped);
                    tokio::pin!(task);
                    let mut renew = tokio::time::interval_at(asked + pace, pace);
                    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let ended = loop {
                        tokio::select! {
                            () = &mut task => break Ended::Finished,
                            _ = renew.tick() => {
                                let asked = Instant::now();
                                let left = held_until.saturating_duration_since(asked);
                                match tokio::time::timeout(left, self.acquire(job)).await {
                                    Ok(Ok(true)) => held_until = asked + self.ttl,
                                    Ok(Ok(false)) => {
                                        tracing::warn!(job, "another process holds the job's lease; stopping the job here");
                                        break Ended::LeaseLost;
                                    }
                                    Ok(Err(e)) => {
                                        tracing::warn!(job, error = %e, "could not renew the job's lease; will retry while it lasts");
                                    }
                                    Err(_) => tracing::warn!(job, "renewing the job's lease took too long"),
                                }
                                if held_until.saturating_duration_since(Instant::now()) < pace {
                                    tracing::warn!(job, "the job's lease is about to expire unrenewed; stopping the job here");
                                    break Ended::LeaseLost;
                                }
                            },
                            _ = stop.changed() => break Ended::Stopping,
                        }
                    };
                    let _ = job_stop.send(true);
                    if ended != Ended::Finished {
                        // Cut off a little before the lease expires: this task may be woken
                        // late, and another process may take the lease the moment it does.
                        let cut_off = held_until.checked_sub(self.ttl / 10).unwrap_or(held_until);
                        tokio::select! {
                            () = &mut task => {}
                            () = tokio::time::sleep_until(cut_off) => {
                                tracing::warn!(job, "the job did not stop before its lease expired; cut off");
                            }
                        }
                    }
                    if ended == Ended::Stopping || *stop.borrow() {
                        if let Err(e) = self.release(job).await {
                            tracing::warn!(job, error = %e, "could not give the job's lease back; it expires by itself");
                        }
                        return;
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(job, error = %e, "could not ask for the job's lease; will retry")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(pace) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Why a leased job stopped running here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// It returned by itself.
    Finished,
    /// Another process holds its lease, or it could not be renewed in time.
    LeaseLost,
    /// The process is shutting down.
    Stopping,
}
