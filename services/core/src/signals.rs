//! Signals between the processes of a cluster: "something changed, drop what you cached".
//!
//! On PostgreSQL a signal is a `NOTIFY` on a channel, delivered to every process that
//! `LISTEN`s on it when the sending transaction commits (here: at once, the sender is not in
//! a transaction). The payload names the sending process, which ignores its own signals. On
//! SQLite there is one process and nothing to tell.
//!
//! A listener that loses its connection may miss signals: it reports a reconnection as a
//! signal too, and callers drop everything they cached. Caches keep their own short expiry
//! as a safety net.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::{Backend, Db};

/// How long a listening connection may stay quiet before it is checked with a query.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// One process's end of the signals: where to send them, and its own name.
#[derive(Clone)]
pub struct Signals {
    db: Db,
    /// The PostgreSQL URL for the listening connection (none on SQLite).
    url: Option<Arc<str>>,
    origin: Arc<str>,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("Signals")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Signals {
    /// Signals through `db`, whose `DATABASE_URL` is `url`.
    pub fn new(db: Db, url: &str) -> Signals {
        let origin = crate::id::new_uuid_v7();
        Signals {
            url: (db.backend() == Backend::Postgres).then(|| Arc::from(url)),
            db,
            origin: Arc::from(origin.as_str()),
        }
    }

    /// Whether other processes can hear this one (PostgreSQL).
    pub fn shared(&self) -> bool {
        self.url.is_some()
    }

    /// Tells every other process listening on `channel` (lowercase letters and `_`).
    pub async fn send(&self, channel: &str) -> Result<(), sqlx::Error> {
        if !self.shared() {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(&*self.origin)
            .execute(self.db.reader())
            .await
            .map(|_| ())
    }

    /// Calls `on_signal` whenever another process signals on `channel`, and each time the
    /// listening connection is (re)established (signals may have been missed before), until
    /// `stop` turns true. A quiet connection is checked every 30 s. Returns at once on
    /// SQLite.
    pub async fn listen(
        &self,
        channel: &'static str,
        on_signal: impl Fn(),
        mut stop: watch::Receiver<bool>,
    ) {
        let Some(url) = self.url.clone() else {
            return;
        };
        let mut pause = Duration::from_millis(100);
        while !*stop.borrow() {
            let listener = async {
                let mut l = sqlx::postgres::PgListener::connect(&url).await?;
                l.listen(channel).await?;
                Ok::<_, sqlx::Error>(l)
            };
            let listener = tokio::select! {
                l = listener => l,
                _ = stop.changed() => return,
            };
            match listener {
                Ok(mut listener) => {
                    // Whatever was cached before this moment may have missed a signal: the
                    // first connection too (an instance serves while it connects).
                    on_signal();
                    pause = Duration::from_millis(100);
                    loop {
                        let next = tokio::select! {
                            n = tokio::time::timeout(IDLE_CHECK, listener.try_recv()) => n,
                            _ = stop.changed() => return,
                        };
                        match next {
                            Ok(Ok(Some(n))) if n.payload() == &*self.origin => {}
                            Ok(Ok(Some(_))) => on_signal(),
                            // The connection dropped; the next receive reconnects.
                            Ok(Ok(None)) => {
                                tracing::warn!(
                                    channel,
                                    "lost the connection for change signals; reconnecting"
                                );
                                on_signal();
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(channel, error = %e, "change signals failed; reconnecting");
                                on_signal();
                                break;
                            }
                            // Quiet for a while: make sure the connection is still there (a
                            // connection a firewall dropped silently would never say so).
                            Err(_) => {
                                if let Err(e) = sqlx::query("SELECT 1").execute(&mut listener).await
                                {
                                    tracing::warn!(channel, error = %e, "the connection for change signals is gone; reconnecting");
                                    on_signal();
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(channel, error = %e, "cannot listen for change signals; will retry");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => return,
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
