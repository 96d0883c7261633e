//! Group commit for SQLite: write jobs that arrive together share one transaction and one
//! `fsync`.
//!
//! SQLite has a single writer, and with `synchronous=FULL` every commit waits for the disk
//! (about a millisecond here). A write that takes a tenth of that in statements is then
//! bounded by the disk at a few hundred commits a second, however many shoppers wait. So
//! `Db::write` queues its job here; one task at a time (a "leader", started by the
//! first job that finds none running) takes every job queued so far, runs them one after
//! another in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint, and commits
//! once. A job that fails is rolled back to its savepoint and alone gets its error; the others
//! still commit. A job's success is reported only after the commit: if the commit fails,
//! every job in the batch gets the error and none of their changes exist.
//!
//! The savepoint statements cost no round trip of their own: what the batch owes before a
//! job writes (releasing the previous job's savepoint and opening this one's) goes in front of
//! the job's first statement ([`Writer`]). A job that succeeded ran its prefix in full (a
//! failing statement fails the job). A job that failed after sending is undone at once, in a
//! round trip of its own, to its own savepoint; if that savepoint does not exist (its prefix
//! failed half-way), the whole batch fails, so an older job's writes can never be undone
//! while that job is told they committed.
//!
//! While jobs keep coming, the leader keeps the write connection from one batch to the next
//! (for 50 ms at most, then it queues for it again behind any other writer).
//!
//! The leader is a spawned task, so a caller that gives up (a closed connection drops its
//! request) never leaves a batch half-run. If the leader itself dies (a job panics, the
//! runtime shuts down), its transaction rolls back and every job it had not answered gets an
//! error instead of waiting forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use std::time::{Duration, Instant};

use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection as Conn, AnyPool, Connection, Executor};

use crate::Batch;

/// A boxed future borrowing the connection it writes on.
pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// The connection a [`crate::Db::write`] job writes on. Inside a group commit it carries the
/// savepoint statements the batch owes before the job's first write, and sends them with it.
pub struct Writer<'c> {
    conn: &'c mut Conn,
    owed: &'c mut Owed,
}

/// What a batch owes before the next write: the savepoint statements, and whether the job
/// has sent them (it wrote, or tried to).
#[derive(Debug, Default)]
pub(crate) struct Owed {
    sql: String,
    sent: bool,
}

impl<'c> Writer<'c> {
    /// A writer that owes nothing: a transaction of the job's own (PostgreSQL).
    pub(crate) fn new(conn: &'c mut Conn, owed: &'c mut Owed) -> Writer<'c> {
        Writer { conn, owed }
    }

    /// The connection, for statements of the job's own, once what is owed has been sent
    /// (a round trip of its own: prefer [`Writer::execute`] and [`Writer::fetch_all`]).
    pub async fn conn(&mut self) -> Result<&mut Conn, sqlx::Error> {
        if let Some(sql) = self.owed.take() {
            self.conn.execute(sql.as_str()).await?;
        }
        Ok(&mut *self.conn)
    }

    /// Runs `batch` after what is owed, in the same round trip. It does not count the rows
    /// changed (SQLite reports the last count again for a savepoint statement): a job that
    /// needs to know uses `RETURNING` and [`Writer::fetch_all`].
    pub async fn execute(&mut self, mut batch: Batch) -> Result<(), sqlx::Error> {
        if let Some(e) = batch.take_error() {
            return Err(sqlx::Error::Encode(e));
        }
        if let Some(sql) = self.owed.take() {
            batch.prepend(&sql);
        }
        batch.execute(self.conn).await.map(|_| ())
    }

    /// Runs `batch` after what is owed, in the same round trip; every row it returned.
    pub async fn fetch_all(&mut self, mut batch: Batch) -> Result<Vec<AnyRow>, sqlx::Error> {
        if let Some(e) = batch.take_error() {
            return Err(sqlx::Error::Encode(e));
        }
        if let Some(sql) = self.owed.take() {
            batch.prepend(&sql);
        }
        batch.fetch_all(self.conn).await
    }

    /// An empty batch for this connection's database.
    pub fn batch(&self) -> Batch {
        Batch::new(self.conn)
    }
}

impl Owed {
    /// The statements to send now, if any; from here on they count as sent (if sending fails,
    /// the savepoint they open may not exist, and undoing the job fails the whole batch).
    fn take(&mut self) -> Option<String> {
        if self.sent || self.sql.is_empty() {
            return None;
        }
        self.sent = true;
        Some(self.sql.clone())
    }
}

/// Called once the batch's fate is known: `Ok` when it committed, else why it did not.
pub(crate) type Outcome = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A type-erased job: runs on the batch's connection, says whether it succeeded and how to
/// answer its caller once the batch has committed (or not).
pub(crate) type Job =
    Box<dyn for<'c> FnOnce(Writer<'c>) -> WriteFuture<'c, (bool, Outcome)> + Send>;

/// The most jobs one transaction takes: the write lock is held for the whole batch, and
/// other writers (a cart, a sign-in) wait behind it.
const MAX_BATCH: usize = 32;

#[derive(Default)]
struct State {
    queue: Vec<Job>,
    leading: bool,
}

/// The queue of write jobs waiting for the next batch.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    lane: OnceLock<Option<Lane>>,
}

/// A thread of its own for the leader: the write lock is held while a batch runs, so the
/// batch must not wait its turn behind the requests on the server's runtime between
/// statements. Stops when the queue (the last `Db` clone) is dropped.
struct Lane {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Lane {
    fn start() -> Option<Lane> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tell, told) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("group-commit".to_owned())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let _ = tell.send(runtime.handle().clone());
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread for group commits; they run on the caller's runtime");
            return None;
        }
        let handle = told.recv().ok()?;
        Some(Lane {
            handle,
            _stop: stop,
        })
    }
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves only a queue and a flag behind: still valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `job` and starts a leader if none is running.
    pub(crate) fn submit(self: &Arc<Self>, job: Job, writer: &AnyPool) {
        let start = {
            let mut state = self.state();
            state.queue.push(job);
            !std::mem::replace(&mut state.leading, true)
        };
        if start {
            let this = Arc::clone(self);
            let writer = writer.clone();
            let lead = async move { this.lead(writer).await };
            match self.lane.get_or_init(Lane::start) {
                Some(lane) => drop(lane.handle.spawn(lead)),
                None => drop(tokio::spawn(lead)),
            }
        }
    }

    /// Runs batches until the queue is empty.
    async fn lead(self: Arc<Self>, writer: AnyPool) {
        let mut leader = Leader {
            queue: &self,
            done: false,
        };
        // The write connection, kept from one batch to the next while jobs keep coming (the
        // pool tests a connection handed back with a round trip of its own), for `HOLD` at
        // most, so writers outside the queue (`Db::begin`) still get their turn.
        let mut held: Option<(PoolConnection<Any>, Instant)> = None;
        loop {
            let batch = {
                let mut state = self.state();
                if state.queue.is_empty() {
                    state.leading = false;
                    leader.done = true;
                    return;
                }
                let take = state.queue.len().min(MAX_BATCH);
                state.queue.drain(..take).collect::<Vec<_>>()
            };
            if held
                .as_ref()
                .is_some_and(|(_, since)| since.elapsed() > HOLD)
            {
                held = None;
            }
            let conn = match &mut held {
                Some((conn, _)) => conn,
                None => match writer.acquire().await {
                    Ok(conn) => &mut held.insert((conn, Instant::now())).0,
                    Err(e) => {
                        // Dropping the jobs answers each caller with an error.
                        tracing::error!(error = %e, jobs = batch.len(), "no write connection for a group commit");
                        continue;
                    }
                },
            };
            if !run(conn, batch).await {
                // Back to the pool, which tests it before it is used again.
                held = None;
            }
        }
    }
}

/// How long a leader keeps the write connection across batches.
const HOLD: Duration = Duration::from_millis(50);

/// Hands leadership back if the leading task ends early (a panic, a runtime shutting
/// down): the jobs still queued are dropped, so their callers get an error at once.
struct Leader<'a> {
    queue: &'a GroupCommit,
    done: bool,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.queue.state();
            state.leading = false;
            state.queue.clear();
        }
    }
}

/// The two savepoint names, taken in turn.
const SAVEPOINTS: [&str; 2] = ["job_a", "job_b"];

/// One batch on `conn`: one transaction, a savepoint per job (none for a job alone), one
/// commit. The savepoint statements travel in front of each job's first write; only a job
/// that failed after writing costs a round trip of its own. Whether it committed.
async fn run(conn: &mut Conn, jobs: Vec<Job>) -> bool {
    let alone = jobs.len() == 1;
    let count = jobs.len();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(count);
    let started = std::time::Instant::now();
    // Time inside the jobs (their statements and savepoints) and in the commit, for the
    // debug line.
    let mut in_jobs = std::time::Duration::ZERO;
    let mut committing = std::time::Duration::ZERO;
    let fate: Result<(), sqlx::Error> = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        // The savepoint the next job writes in (its name's index), and the release of the one
        // before it, owed until the next job writes.
        let mut next = 0;
        let mut close = String::new();
        for job in jobs {
            let mut owed = Owed::default();
            if !alone {
                owed.sql = format!("{close}SAVEPOINT {}", SAVEPOINTS[next]);
            }
            let job_started = std::time::Instant::now();
            let (ok, outcome) = job(Writer::new(&mut tx, &mut owed)).await;
            in_jobs += job_started.elapsed();
            outcomes.push(outcome);
            if alone {
                if !ok {
                    return tx.rollback().await;
                }
                continue;
            }
            if owed.sent {
                let name = SAVEPOINTS[next];
                if ok {
                    // Released in front of the next job's statements, or by the commit.
                    close = format!("RELEASE {name}; ");
                } else {
                    // Undone now (a failed job is rare). Were its savepoint missing because
                    // its prefix failed half-way, this fails and so does the whole batch.
                    tx.execute(format!("ROLLBACK TO {name}; RELEASE {name}").as_str())
                        .await?;
                    close = String::new();
                }
                next = 1 - next;
            }
            // A job that wrote nothing leaves the prefix as it was, for the next one.
        }
        // The commit releases the last savepoint.
        let commit_started = std::time::Instant::now();
        let committed = tx.commit().await;
        committing = commit_started.elapsed();
        committed
    }
    .await;
    if let Err(e) = &fate {
        tracing::error!(error = %e, jobs = outcomes.len(), "a group commit failed; its writes were rolled back");
    } else {
        let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        tracing::debug!(
            jobs = count,
            micros = micros(started.elapsed()),
            in_jobs = micros(in_jobs),
            commit = micros(committing),
            "group commit"
        );
    }
    let fate = fate.map_err(|e| e.to_string());
    let committed = fate.is_ok();
    for outcome in outcomes {
        outcome(fate.clone());
    }
    committed
}
