//! The database handle: SQLite (default, embedded) or PostgreSQL behind one API.
//!
//! Services write portable SQL (numbered `$1` parameters, `RETURNING`, `ON CONFLICT`,
//! integers and text only) and run it through sqlx's `Any` driver, so one code path serves
//! both backends. Where SQL must differ, the function that needs it matches on
//! [`Db::backend`] in one place.
//!
//! SQLite specifics: WAL journal, `synchronous=FULL`, foreign keys on and a busy timeout on
//! every connection. All writes go through a single-connection writer pool and start with
//! `BEGIN IMMEDIATE`, so concurrent writers queue in the pool instead of failing with
//! "database is locked" when a read transaction tries to upgrade; readers use their own pool
//! and are never blocked by the writer (WAL).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

use crate::error::DbError;
use crate::group_commit::{GroupCommit, Job, Outcome, Owed, WriteFuture, Writer};
use crate::readers::Readers;

/// A write transaction. Commit it, or drop it to roll back.
pub type Tx = sqlx::Transaction<'static, Any>;

/// A connection (pooled or inside a transaction) that service functions run queries on.
pub type Conn = sqlx::AnyConnection;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database engine is behind the handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection (or transaction) talks to, for the few queries that must
    /// differ.
    pub fn of(conn: &Conn) -> Backend {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Detects the backend from a `DATABASE_URL`.
    pub fn from_url(url: &str) -> Result<Backend, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::Url(
                "must start with sqlite:// or postgres://".to_owned(),
            ))
        }
    }
}

/// How to connect.
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    pub url: String,
    /// Upper bound on pooled connections (readers, for SQLite).
    pub max_connections: u32,
    /// How long a caller waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl DbConfig {
    /// Defaults suited to a 2-core machine.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The database handle every service takes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    reader: Readers,
    writer: AnyPool,
    backend: Backend,
    group: Arc<GroupCommit>,
}

impl Db {
    /// Connects (creating the SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(config: &DbConfig) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&config.url)?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(&config.url)?;
                let options = AnyConnectOptions::from_str(&url)
                    .map_err(|e| DbError::Url(e.to_string()))?
                    .log_slow_statements(
                        tracing::log::LevelFilter::Warn,
                        Duration::from_millis(500),
                    );
                let pool = |max: u32, extra: &'static [&'static str]| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        .acquire_timeout(config.acquire_timeout)
                        // A connection to a local file does not go stale the way a network
                        // one does; pinging it before each use would double the round trips
                        // to its thread.
                        .test_before_acquire(false)
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                for pragma in SQLITE_PRAGMAS.iter().chain(extra) {
                                    conn.execute(*pragma).await?;
                                }
                                Ok(())
                            })
                        })
                        .connect_with(options.clone())
                };
                // The writer first: it switches the file to WAL before readers open it.
                let writer = pool(1, SQLITE_WRITER_PRAGMAS).await?;
                let reader = Readers::local(
                    options,
                    SQLITE_PRAGMAS,
                    config.max_connections,
                    config.acquire_timeout,
                )
                .await?;
                Ok(Db {
                    reader,
                    writer,
                    backend,
                    group: Arc::default(),
                })
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(&config.url)
                    .map_err(|e| DbError::Url(redact_url_error(&e.to_string(), &config.url)))?
                    .log_slow_statements(
                        tracing::log::LevelFilter::Warn,
                        Duration::from_millis(500),
                    );
                let pool = AnyPoolOptions::new()
                    .max_connections(config.max_connections.max(1))
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Db {
                    reader: Readers::pool(pool.clone()),
                    writer: pool,
                    backend,
                    group: Arc::default(),
                })
            }
        }
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where reads outside a transaction go (`&Readers` runs queries like a pool).
    pub fn reader(&self) -> &Readers {
        &self.reader
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so it never fails half-way with "database is locked".
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// Runs `job` in a write transaction and commits it; an `Err` from the job rolls its
    /// writes back. For a hot write path many shoppers take at once (placing an order): on
    /// SQLite, jobs that arrive together share one transaction and one `fsync` (see
    /// [`crate::group_commit`]), each in its own savepoint, so one job's failure never
    /// touches another's writes. On PostgreSQL each job is a transaction of its own (the
    /// server commits concurrent transactions together by itself).
    ///
    /// The job must write only through the [`Writer`] it is given (never [`Db::begin`]
    /// or another `write` from inside: the batch holds SQLite's only write connection), and
    /// should read what it can before, outside the write lock. Sending its statements as one
    /// [`crate::Batch`] through [`Writer::fetch_all`] or [`Writer::execute`] costs one round
    /// trip, savepoints included.
    pub async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: for<'c> FnOnce(Writer<'c>) -> WriteFuture<'c, Result<T, E>> + Send + 'static,
    {
        if self.backend == Backend::Postgres {
            let mut tx = self.begin().await?;
            let mut owed = Owed::default();
            let value = job(Writer::new(&mut tx, &mut owed)).await?;
            tx.commit().await?;
            return Ok(value);
        }
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let erased: Job = Box::new(move |writer: Writer<'_>| {
            Box::pin(async move {
                let result = job(writer).await;
                let ok = result.is_ok();
                let outcome: Outcome = Box::new(move |fate: Result<(), String>| {
                    let reply = match (result, fate) {
                        (Err(e), _) => Err(e),
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(why)) => Err(E::from(not_committed(why))),
                    };
                    // The caller may have gone (a closed connection): nothing to tell.
                    let _ = answer.send(reply);
                });
                (ok, outcome)
            }) as WriteFuture<'_, (bool, Outcome)>
        });
        self.group.submit(erased, &self.writer);
        answered.await.unwrap_or_else(|_| {
            Err(E::from(not_committed(
                "the write was interrupted before it committed".to_owned(),
            )))
        })
    }

    /// Runs `batch` as a [`Db::write`] job of its own: a small write that needs no answer
    /// but success, sharing a commit with the writes of the same moment on SQLite.
    pub async fn write_batch(&self, batch: crate::Batch) -> Result<(), sqlx::Error> {
        self.write(move |mut w| Box::pin(async move { w.execute(batch).await }))
            .await
    }

    /// Applies pending migrations. Safe to run from several instances at once on
    /// PostgreSQL (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        self.optimize().await?;
        Ok(())
    }

    /// Brings the query planner's statistics up to date where they are missing or stale
    /// (SQLite's `PRAGMA optimize`, which analyses only the tables that need it). Run after
    /// migrations and hourly. PostgreSQL's autovacuum does this by itself.
    ///
    /// Without statistics SQLite takes `status = 'active'` for a selective index lookup and
    /// walks every product for a listing of a few hundred.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        match self.backend {
            // 0x10002: also analyse tables never analysed before (SQLite 3.46+).
            Backend::Sqlite => sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&self.writer)
                .await
                .map(|_| ()),
            Backend::Postgres => Ok(()),
        }
    }

    /// Re-reads the planner's statistics for every table, after a bulk change such as an
    /// import (both engines).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        sqlx::query("ANALYZE")
            .execute(&self.writer)
            .await
            .map(|_| ())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
    // No `mmap_size`: a reader whose next transaction sees a changed WAL unmaps the whole
    // file, and under a stream of writes (adds to cart) that unmapping, the remapping and
    // the page faults took a sixth of the SQLite threads' time. Read through each
    // connection's page cache instead (an uncached category page got faster too).
];

/// The one writer keeps up to 64 MiB of pages, so a large transaction (a catalog import)
/// does not spill to the file and read its own pages back.
/// The writer's page cache: 64 MiB.
const SQLITE_WRITER_CACHE: &str = "PRAGMA cache_size = -65536";
/// The writer's statement and savepoint journals (the page images a savepoint or a failing
/// statement rolls back to) in memory: in a temporary file, every job of a group commit
/// wrote a dozen or more pages there, two system calls each.
const SQLITE_WRITER_PRAGMAS: &[&str] = &[SQLITE_WRITER_CACHE, "PRAGMA temp_store = MEMORY"];
/// The writer's page cache during one bulk transaction: up to 512 MiB, taken only as pages
/// are touched.
const SQLITE_BULK_CACHE: &str = "PRAGMA cache_size = -524288";

/// Sizes the SQLite writer's page cache for one bulk transaction (`bulk`: a catalog import
/// of 100,000 products touches far more index pages than the usual cache holds, and evicting
/// dirty pages mid-transaction made it grow faster than its size) or back to the usual size.
/// Call it on the transaction's connection, back to the usual size on every path. Nothing on
/// PostgreSQL, whose server manages its own buffers.
pub async fn size_cache_for_bulk(conn: &mut Conn, bulk: bool) -> Result<(), sqlx::Error> {
    if Backend::of(conn) != Backend::Sqlite {
        return Ok(());
    }
    let pragma = if bulk {
        SQLITE_BULK_CACHE
    } else {
        SQLITE_WRITER_CACHE
    };
    conn.execute(pragma).await.map(|_| ())
}

/// `count` numbered parameters from `$first`, comma-separated (`$3, $4, $5`): an `IN (…)`
/// list or a row of a multi-row insert.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error a job gets when its batch did not commit.
fn not_committed(why: String) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("not committed: {why}")))
}

/// Adds `mode=rwc` (create the file if missing) unless the URL chose a mode, and creates the
/// file's folder, so `sqlite://data/shop.db` works on a fresh checkout.
fn sqlite_url_with_create(url: &str) -> Result<String, DbError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| DbError::Url("must start with sqlite://".to_owned()))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(DbError::Url(
            "give a file path, e.g. sqlite://data/shop.db (an in-memory database is not shared between connections)".to_owned(),
        ));
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbError::Url(format!("cannot create folder {}: {e}", parent.display())))?;
    }
    if rest.contains("mode=") {
        Ok(url.to_owned())
    } else if rest.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}

/// sqlx may echo the URL in its error; never let a password through.
fn redact_url_error(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, pw)| pw)
        .filter(|pw| !pw.is_empty());
    match password {
        Some(pw) => message.replace(pw, "***"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(17, 2), "$17, $18");
        assert_eq!(placeholders(5, 0), "");
    }

    #[test]
    fn detects_backend_from_url() {
        assert_eq!(
            Backend::from_url("sqlite://data/shop.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn sqlite_urls_create_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/shop.db", dir.path().display());
        assert_eq!(
            sqlite_url_with_create(&url).unwrap(),
            format!("{url}?mode=rwc")
        );
        assert!(dir.path().join("sub").is_dir());
        let ro = format!("sqlite://{}/x.db?mode=ro", dir.path().display());
        assert_eq!(sqlite_url_with_create(&ro).unwrap(), ro);
        assert!(sqlite_url_with_create("sqlite::memory:").is_err());
    }

    #[test]
    fn url_errors_never_show_the_password() {
        let url = "postgres://shop:s3cret@db/shop";
        assert_eq!(
            redact_url_error("bad url postgres://shop:s3cret@db/shop", url),
            "bad url postgres://shop:***@db/shop"
        );
    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&DbConfig::new(format!(
            "sqlite://{}/t.db",
            dir.path().display()
        )))
        .await
        .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let mut tx = db.begin().await.unwrap();
        let temp: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(temp, 2, "the writer keeps its journals in memory");
        tx.rollback().await.unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
    }
}
