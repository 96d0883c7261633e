//! The readers: a read abandoned half-way leaves nothing behind, callers wait for a free
//! connection up to the acquire timeout, and closing waits for lent connections.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use shop_core::{Clock, Db, DbConfig, outbox};
use shop_testkit::{count, fresh_db};

async fn events(db: &Db, n: usize) {
    let clock = Clock::system();
    let mut tx = db.begin().await.expect("begin");
    for i in 0..n {
        outbox::enqueue(
            &mut tx,
            &clock,
            "readers.test",
            &serde_json::json!({ "i": i }),
        )
        .await
        .expect("enqueue");
    }
    tx.commit().await.expect("commit");
}

/// A connection whose read was dropped after its first row goes back to the readers and
/// serves the next read with what has been committed since (an unfinished statement would
/// keep SQLite's read snapshot of the moment it started).
#[tokio::test]
async fn an_abandoned_read_leaves_the_connection_reading_fresh_data() {
    let (db, _dir) = fresh_db().await;
    events(&db, 50).await;
    {
        let mut conn = db.reader().acquire().await.expect("acquire");
        let mut rows = sqlx::query("SELECT id FROM outbox_events ORDER BY id").fetch(&mut *conn);
        assert!(rows.try_next().await.expect("first row").is_some());
        // Dropped here, 49 rows unread, and the connection with it.
    }
    events(&db, 1).await;
    // The same connection (the last one returned is lent first) sees the new event.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox_events").await, 51);
    // And so does a read abandoned before its first row was asked for.
    {
        let mut conn = db.reader().acquire().await.expect("acquire");
        let rows = sqlx::query("SELECT id FROM outbox_events").fetch(&mut *conn);
        drop(rows);
    }
    events(&db, 1).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM outbox_events").await, 52);
}

async fn small_sqlite(dir: &std::path::Path, max: u32, timeout: Duration) -> Db {
    let url = format!("sqlite://{}", dir.join("readers.db").display());
    let db = Db::connect(&DbConfig {
        url,
        max_connections: max,
        acquire_timeout: timeout,
    })
    .await
    .expect("connect");
    db.migrate().await.expect("migrate");
    db
}

#[tokio::test]
async fn sqlite_readers_wait_for_a_free_connection_up_to_the_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = small_sqlite(dir.path(), 2, Duration::from_millis(300)).await;
    let first = db.reader().acquire().await.expect("first");
    let second = db.reader().acquire().await.expect("second");
    let started = Instant::now();
    let third = db.reader().acquire().await;
    assert!(matches!(third, Err(sqlx::Error::PoolTimedOut)), "{third:?}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // A reader waiting when a connection comes back gets it.
    let waiting = tokio::spawn({
        let db = db.clone();
        async move { count(&db, "SELECT COUNT(*) FROM outbox_events").await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "both connections are lent");
    drop(first);
    assert_eq!(waiting.await.expect("join"), 0);
    drop(second);
}

#[tokio::test]
async fn closing_the_sqlite_readers_waits_for_lent_connections_then_refuses_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = small_sqlite(dir.path(), 4, Duration::from_secs(5)).await;
    let lent = db.reader().acquire().await.expect("acquire");
    let closing = tokio::spawn({
        let db = db.clone();
        async move { db.close().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!closing.is_finished(), "a lent connection is still out");
    drop(lent);
    tokio::time::timeout(Duration::from_secs(5), closing)
        .await
        .expect("closed once the connection came back")
        .expect("join");
    let after = sqlx::query("SELECT 1").execute(db.reader()).await;
    assert!(matches!(after, Err(sqlx::Error::PoolClosed)), "{after:?}");
}
