//! The connections reads go through, outside a transaction.
//!
//! On PostgreSQL that is sqlx's pool. On SQLite it is a small pool of its own: sqlx's pool
//! pings every connection it takes back, which on SQLite is one more hand-off to the
//! connection's thread and back for every read (a page that makes six reads made twelve
//! round trips). A connection to a local file does not go stale, and its thread runs
//! commands one after another, so whatever an abandoned read left running is finished
//! before the next read on that connection starts: the ping protects nothing here. The most
//! recently returned connection is reused first, while its thread and pages are warm.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::any::{AnyConnectOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Either, Execute, Executor};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where reads go: `&Readers` runs a query like `&AnyPool` does, and
/// [`Readers::acquire`] lends one connection for several reads.
#[derive(Clone, Debug)]
pub struct Readers(Inner);

#[derive(Clone, Debug)]
enum Inner {
    Pool(AnyPool),
    Local(Arc<Local>),
}

/// SQLite's readers: up to `max` connections, opened as needed and kept.
struct Local {
    idle: Mutex<Vec<AnyConnection>>,
    permits: Arc<Semaphore>,
    max: u32,
    options: AnyConnectOptions,
    setup: &'static [&'static str],
    timeout: Duration,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("max", &self.max)
            .field("idle", &self.idle().len())
            .finish_non_exhaustive()
    }
}

impl Local {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<AnyConnection>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Readers {
    /// sqlx's pool (PostgreSQL: a connection over the network can go stale, and the ping
    /// finds out before the next caller does).
    pub(crate) fn pool(pool: AnyPool) -> Readers {
        Readers(Inner::Pool(pool))
    }

    /// Up to `max` SQLite connections, each set up with `setup` when it opens; the first
    /// opens now, so a bad URL fails at start.
    pub(crate) async fn local(
        options: AnyConnectOptions,
        setup: &'static [&'static str],
        max: u32,
        timeout: Duration,
    ) -> Result<Readers, sqlx::Error> {
        let max = max.max(1);
        let local = Local {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
            options,
            setup,
            timeout,
        };
        let first = open(&local.options, local.setup).await?;
        local.idle().push(first);
        Ok(Readers(Inner::Local(Arc::new(local))))
    }

    /// One connection for several reads in a row (returned when dropped). Waits up to the
    /// acquire timeout for a free one.
    pub async fn acquire(&self) -> Result<ReaderConn, sqlx::Error> {
        match &self.0 {
            Inner::Pool(pool) => Ok(ReaderConn(Lent::Pooled(pool.acquire().await?))),
            Inner::Local(local) => {
                let permit =
                    tokio::time::timeout(local.timeout, Arc::clone(&local.permits).acquire_owned())
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)?
                        .map_err(|_| sqlx::Error::PoolClosed)?;
                let kept = local.idle().pop();
                let conn = match kept {
                    Some(conn) => conn,
                    None => open(&local.options, local.setup).await?,
                };
                Ok(ReaderConn(Lent::Local {
                    conn: Some(conn),
                    home: Arc::clone(local),
                    _permit: permit,
                }))
            }
        }
    }

    /// Closes every connection, waiting for those in use to be returned; later reads fail
    /// with [`sqlx::Error::PoolClosed`].
    pub async fn close(&self) {
        match &self.0 {
            Inner::Pool(pool) => pool.close().await,
            Inner::Local(local) => {
                // Every permit back means every connection is back.
                let all = local.permits.acquire_many(local.max).await;
                local.permits.close();
                drop(all);
                let idle = std::mem::take(&mut *local.idle());
                for conn in idle {
                    if let Err(e) = conn.close().await {
                        tracing::warn!(error = %e, "closing a reader connection failed");
                    }
                }
            }
        }
    }
}

async fn open(
    options: &AnyConnectOptions,
    setup: &'static [&'static str],
) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = options.connect().await?;
    for statement in setup {
        conn.execute(*statement).await?;
    }
    Ok(conn)
}

/// A reader connection lent by [`Readers::acquire`]; it goes back when dropped.
#[derive(Debug)]
pub struct ReaderConn(Lent);

#[derive(Debug)]
enum Lent {
    Pooled(PoolConnection<Any>),
    Local {
        conn: Option<AnyConnection>,
        home: Arc<Local>,
        _permit: OwnedSemaphorePermit,
    },
}

impl std::ops::Deref for ReaderConn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.0 {
            Lent::Pooled(conn) => conn,
            Lent::Local { conn, .. } => conn.as_ref().expect("a lent connection until dropped"),
        }
    }
}

impl std::ops::DerefMut for ReaderConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.0 {
            Lent::Pooled(conn) => conn,
            Lent::Local { conn, .. } => conn.as_mut().expect("a lent connection until dropped"),
        }
    }
}

impl Drop for ReaderConn {
    fn drop(&mut self) {
        if let Lent::Local { conn, home, .. } = &mut self.0
            && let Some(conn) = conn.take()
            && !home.permits.is_closed()
        {
            // Before the permit goes back (it is dropped after this), so the next caller
            // finds the connection idle.
            home.idle().push(conn);
        }
    }
}

impl<'p> Executor<'p> for &Readers {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        let readers = self.clone();
        Box::pin(async_stream::try_stream! {
            let mut conn = readers.acquire().await?;
            let mut rows = conn.fetch_many(query);
            while let Some(row) = rows.try_next().await? {
                yield row;
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        let readers = self.clone();
        Box::pin(async move { readers.acquire().await?.fetch_optional(query).await })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>> {
        let readers = self.clone();
        Box::pin(async move { readers.acquire().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>> {
        let readers = self.clone();
        Box::pin(async move { readers.acquire().await?.describe(sql).await })
    }
}
