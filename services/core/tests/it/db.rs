//! The database handle under load: concurrent read-then-write transactions on one writer.

use shop_core::Clock;
use shop_core::outbox;
use shop_testkit::fresh_db;

#[tokio::test]
async fn concurrent_writers_never_hit_database_is_locked() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = db.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await?;
            // Read, then write, in one transaction: the pattern that deadlocks plain
            // deferred SQLite transactions.
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events")
                .fetch_one(&mut *tx)
                .await?;
            outbox::enqueue(
                &mut tx,
                &clock,
                "load.test",
                &serde_json::json!({ "i": i, "seen": n }),
            )
            .await?;
            tx.commit().await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("no write fails");
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(total, 40);
}

#[derive(Debug)]
enum JobError {
    Db(#[allow(dead_code)] sqlx::Error),
    Refused(i64),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Db(e)
    }
}

/// How job `i` behaves, covering each way a job meets the savepoint statements its batch
/// owes: sent in front of its batch, sent on their own before a statement of its own, never
/// sent (it wrote nothing), or sent in front of a batch that then fails.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Writes event `i` in a batch, then refuses: its write must be undone.
    WritesThenRefuses,
    /// Refuses before writing anything.
    RefusesFirst,
    /// A batch whose second statement fails (a duplicate id): its first must be undone.
    FailsMidBatch,
    /// Writes through the connection itself (the owed statements go on their own first).
    WritesOnConnection,
    /// Succeeds without writing.
    WritesNothing,
    /// Writes event `i` in a batch.
    Writes,
}

fn kind(i: i64) -> Kind {
    match i {
        _ if i % 3 == 0 => Kind::WritesThenRefuses,
        _ if i % 5 == 0 => Kind::RefusesFirst,
        _ if i % 7 == 0 => Kind::FailsMidBatch,
        _ if i % 4 == 0 => Kind::WritesOnConnection,
        _ if i % 11 == 0 => Kind::WritesNothing,
        _ => Kind::Writes,
    }
}

/// Whether job `i` leaves its event behind.
fn kept(i: i64) -> bool {
    matches!(kind(i), Kind::Writes | Kind::WritesOnConnection)
}

/// Write job `i` (see [`Kind`]).
async fn job(db: &shop_core::Db, clock: &Clock, i: i64) -> Result<i64, JobError> {
    let clock = clock.clone();
    db.write(move |mut w| {
        Box::pin(async move {
            let payload = serde_json::json!({ "i": i });
            match kind(i) {
                Kind::RefusesFirst => return Err(JobError::Refused(i)),
                Kind::WritesNothing => return Ok(i),
                Kind::WritesOnConnection => {
                    outbox::enqueue(w.conn().await?, &clock, "group.test", &payload).await?;
                }
                Kind::FailsMidBatch => {
                    let mut batch = w.batch();
                    let id = outbox::enqueue_into(&mut batch, &clock, "group.test", &payload)?;
                    batch
                        .add(
                            "INSERT INTO outbox_events (id, kind, payload, status, attempts,
                                    available_at, created_at)
                             VALUES ($1, 'dup', '{}', 'pending', 0, 0, 0)",
                        )
                        .bind(id.to_string());
                    w.execute(batch).await?;
                    unreachable!("a duplicate id is refused");
                }
                Kind::Writes | Kind::WritesThenRefuses => {
                    let mut batch = w.batch();
                    outbox::enqueue_into(&mut batch, &clock, "group.test", &payload)?;
                    w.execute(batch).await?;
                }
            }
            if kind(i) == Kind::WritesThenRefuses {
                return Err(JobError::Refused(i));
            }
            Ok(i)
        })
    })
    .await
}

/// The `i` of each `group.test` event kept, in order.
async fn kept_events(db: &shop_core::Db) -> Vec<i64> {
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM outbox_events WHERE kind = 'group.test'")
            .fetch_all(db.reader())
            .await
            .unwrap();
    let mut kept: Vec<i64> = kept
        .iter()
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(p).unwrap()["i"]
                .as_i64()
                .unwrap()
        })
        .collect();
    kept.sort_unstable();
    kept
}

/// Starts a job that holds the write connection until the returned sender fires, so the jobs
/// submitted meanwhile queue behind it and run as one batch (on SQLite).
async fn hold_writer(
    db: &shop_core::Db,
    clock: &Clock,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<i64, JobError>>,
) {
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (db, clock) = (db.clone(), clock.clone());
        tokio::spawn(async move {
            db.write(move |mut w| {
                Box::pin(async move {
                    let payload = serde_json::json!({ "i": 100 });
                    let mut batch = w.batch();
                    outbox::enqueue_into(&mut batch, &clock, "group.test", &payload)?;
                    w.execute(batch).await?;
                    let _ = released.await;
                    Ok::<i64, JobError>(100)
                })
            })
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    (release, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_writes_commit_together_and_a_failing_job_rolls_back_alone() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    let (release, first) = hold_writer(&db, &clock).await;
    let mut tasks = Vec::new();
    for i in 1..=30 {
        let (db, clock) = (db.clone(), clock.clone());
        tasks.push(tokio::spawn(async move { job(&db, &clock, i).await }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), 100);
    for (i, task) in (1..=30).zip(tasks) {
        match (kind(i), task.await.unwrap()) {
            (Kind::Writes | Kind::WritesOnConnection | Kind::WritesNothing, Ok(n)) => {
                assert_eq!(n, i)
            }
            (Kind::WritesThenRefuses | Kind::RefusesFirst, Err(JobError::Refused(n))) => {
                assert_eq!(n, i)
            }
            (Kind::FailsMidBatch, Err(JobError::Db(_))) => {}
            (k, other) => panic!("job {i} ({k:?}) answered {other:?}"),
        }
    }
    let expected: Vec<i64> = (1..=30).filter(|i| kept(*i)).chain([100]).collect();
    assert_eq!(
        kept_events(&db).await,
        expected,
        "each failed job's write is gone, every other is there"
    );
}

/// The last job of a batch fails after writing: its write is undone before the commit, and
/// the jobs before it (including one that refused without writing) keep theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_last_job_fails_keeps_the_others() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    for last in [3, 7] {
        let (release, first) = hold_writer(&db, &clock).await;
        // One at a time, so they queue in this order.
        let mut tasks = Vec::new();
        for i in [1 + last * 10, 5, last] {
            let (db, clock) = (db.clone(), clock.clone());
            tasks.push(tokio::spawn(async move { job(&db, &clock, i).await }));
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 100);
        let answers: Vec<_> = futures_join(tasks).await;
        assert!(
            matches!(answers[0], Ok(n) if n == 1 + last * 10),
            "{answers:?}"
        );
        assert!(
            matches!(answers[1], Err(JobError::Refused(5))),
            "{answers:?}"
        );
        assert!(answers[2].is_err(), "{answers:?}");
    }
    assert_eq!(kept_events(&db).await, [31, 71, 100, 100]);
}

async fn futures_join<T: std::fmt::Debug>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_job_that_fails_alone_leaves_nothing_and_the_next_one_commits() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    assert!(matches!(
        job(&db, &clock, 3).await,
        Err(JobError::Refused(3))
    ));
    assert_eq!(job(&db, &clock, 4).await.unwrap(), 4);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events WHERE kind = 'group.test'")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// A batch runs its statements in order on the caller's connection, with each statement's
/// own `$N` parameters (repeated ones too), adds up the rows they change, returns their rows
/// in order, and stops at the first failing statement (the transaction then rolls back).
#[tokio::test]
async fn a_batch_runs_its_statements_in_order_with_their_own_parameters() {
    use shop_core::Batch;
    use sqlx::Row;

    let (db, _dir) = fresh_db().await;
    let mut tx = db.begin().await.unwrap();
    let mut batch = Batch::new(&tx);
    for (id, kind) in [("b1", "one"), ("b2", "two"), ("b3", "it's $1")] {
        batch
            .add(
                "INSERT INTO outbox_events (id, kind, payload, status, attempts, available_at, created_at)
                 VALUES ($1, $2, '{}', 'pending', 0, $3, $3)",
            )
            .bind(id.to_owned())
            .bind(kind.to_owned())
            .bind(7_i64);
    }
    batch
        .add("UPDATE outbox_events SET attempts = attempts + $1 WHERE id <> $2")
        .bind(2_i64)
        .bind("b1".to_owned());
    assert_eq!(batch.execute(&mut tx).await.unwrap(), 3 + 2);

    let mut batch = Batch::new(&tx);
    batch
        .add("UPDATE outbox_events SET attempts = attempts + 1 WHERE id = $1 RETURNING kind")
        .bind("b3".to_owned());
    batch
        .add("UPDATE outbox_events SET attempts = attempts + 1 WHERE id = $1 RETURNING kind")
        .bind("nope".to_owned());
    batch
        .add("SELECT id FROM outbox_events WHERE created_at = $1 AND id < $2 ORDER BY id")
        .bind(7_i64)
        .bind("b3".to_owned());
    let rows = batch.fetch_all(&mut tx).await.unwrap();
    let got: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
    assert_eq!(got, ["it's $1", "b1", "b2"]);
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM outbox_events WHERE id = 'b3'")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(attempts, 3);

    // A failing statement (a duplicate id) fails the batch; nothing after it runs.
    let mut batch = Batch::new(&tx);
    batch
        .add("UPDATE outbox_events SET attempts = 100 WHERE id = $1")
        .bind("b1".to_owned());
    batch
        .add(
            "INSERT INTO outbox_events (id, kind, payload, status, attempts, available_at, created_at)
             VALUES ($1, 'dup', '{}', 'pending', 0, 0, 0)",
        )
        .bind("b2".to_owned());
    batch
        .add("UPDATE outbox_events SET attempts = 200 WHERE id = $1")
        .bind("b3".to_owned());
    assert!(batch.execute(&mut tx).await.is_err());
    drop(tx);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(left, 0, "rolled back with the transaction");
}
