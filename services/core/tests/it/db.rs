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
