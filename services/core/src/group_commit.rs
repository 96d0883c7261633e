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
//! The leader is a spawned task, so a caller that gives up (a closed connection drops its
//! request) never leaves a batch half-run. If the leader itself dies (a job panics, the
//! runtime shuts down), its transaction rolls back and every job it had not answered gets an
//! error instead of waiting forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use sqlx::{AnyConnection as Conn, AnyPool, Executor};

/// A boxed future borrowing the connection it writes on.
pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Called once the batch's fate is known: `Ok` when it committed, else why it did not.
pub(crate) type Outcome = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A type-erased job: runs on the batch's connection, says whether it succeeded and how to
/// answer its caller once the batch has committed (or not).
pub(crate) type Job =
    Box<dyn for<'c> FnOnce(&'c mut Conn) -> WriteFuture<'c, (bool, Outcome)> + Send>;

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
            run(&writer, batch).await;
        }
    }
}

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

/// One batch: one transaction, a savepoint per job (none for a job alone), one commit.
/// Between two jobs, ending one job's savepoint (undoing the job if it failed) and opening
/// the next one's is a single round trip to the connection's thread; the commit releases
/// the last one.
async fn run(writer: &AnyPool, jobs: Vec<Job>) {
    let alone = jobs.len() == 1;
    let count = jobs.len();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(count);
    let started = std::time::Instant::now();
    let fate: Result<(), sqlx::Error> = async {
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        // Apart from the BEGIN: were the savepoint to fail in the same call, sqlx would not
        // know the transaction had begun and would hand the connection back still in it.
        if !alone {
            tx.execute("SAVEPOINT job").await?;
        }
        for (n, job) in jobs.into_iter().enumerate() {
            let (ok, outcome) = job(&mut tx).await;
            outcomes.push(outcome);
            let last = n + 1 == count;
            let between = match (alone, ok, last) {
                (true, false, _) => return tx.rollback().await,
                (true, true, _) | (false, true, true) => None,
                (false, true, false) => Some("RELEASE job; SAVEPOINT job"),
                (false, false, false) => Some("ROLLBACK TO job; RELEASE job; SAVEPOINT job"),
                (false, false, true) => Some("ROLLBACK TO job; RELEASE job"),
            };
            if let Some(sql) = between {
                tx.execute(sql).await?;
            }
        }
        tx.commit().await
    }
    .await;
    if let Err(e) = &fate {
        tracing::error!(error = %e, jobs = outcomes.len(), "a group commit failed; its writes were rolled back");
    } else {
        tracing::debug!(
            jobs = count,
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "group commit"
        );
    }
    let fate = fate.map_err(|e| e.to_string());
    for outcome in outcomes {
        outcome(fate.clone());
    }
}
