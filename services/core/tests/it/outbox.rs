//! The outbox worker on the real database: delivery exactly once, retries with backoff,
//! permanent failures, leases, and events rolled back with their transaction.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shop_core::outbox::{self, Event, Handler, HandlerError, Outcome, Worker, WorkerConfig};
use shop_core::{Clock, Timestamp};

use shop_testkit::fresh_db;

/// Records what it was given; fails the first `fail_times` calls.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<(String, i64)>>>,
    fail_times: usize,
    permanent: bool,
}

impl Handler for Recorder {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push((event.kind.clone(), event.attempt));
        if seen.len() <= self.fail_times {
            if self.permanent {
                return Err(HandlerError::Permanent("cannot ever work".into()));
            }
            return Err(HandlerError::Retry(format!(
                "smtp down (call {})",
                seen.len()
            )));
        }
        Ok(())
    }
}

fn config(max_attempts: i64) -> WorkerConfig {
    WorkerConfig {
        max_attempts,
        base_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(60),
        ..WorkerConfig::default()
    }
}

async fn enqueue(db: &shop_core::Db, clock: &Clock, kind: &str) -> outbox::EventId {
    let mut tx = db.begin().await.unwrap();
    let id = outbox::enqueue(&mut tx, clock, kind, &serde_json::json!({ "n": 1 }))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn an_event_is_delivered_exactly_once() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    let id = enqueue(&db, &clock, "test.happened").await;
    let handler = Recorder::default();
    let worker = Worker::new(db.clone(), clock.clone(), handler.clone(), config(5));
    let second = Worker::new(db.clone(), clock.clone(), handler.clone(), config(5));

    let (a, b) = tokio::join!(worker.run_once(), second.run_once());
    let delivered: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(delivered, vec![(id.clone(), Outcome::Delivered)]);
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "nothing left to deliver"
    );
    clock.advance(Duration::from_secs(3600));
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "delivered events never come back"
    );

    assert_eq!(
        *handler.seen.lock().unwrap(),
        vec![("test.happened".to_owned(), 1)]
    );
    let record = outbox::find(&db, &id).await.unwrap().unwrap();
    assert_eq!(record.status, "delivered");
    assert_eq!(record.attempts, 1);
}

#[tokio::test]
async fn a_failing_handler_is_retried_with_backoff_then_marked_failed() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    let id = enqueue(&db, &clock, "mail.send").await;
    let handler = Recorder {
        fail_times: usize::MAX,
        ..Recorder::default()
    };
    let worker = Worker::new(db.clone(), clock.clone(), handler.clone(), config(3));

    let first = worker.run_once().await.unwrap();
    let Outcome::Retrying { next_attempt_at } = first[0].1.clone() else {
        panic!("expected a retry, got {first:?}");
    };
    let delay = next_attempt_at.millis() - clock.now().millis();
    assert!(
        (10_000..=12_000).contains(&delay),
        "first backoff ~10 s, was {delay} ms"
    );
    assert!(worker.run_once().await.unwrap().is_empty(), "not due yet");

    clock.advance(Duration::from_secs(13));
    let second = worker.run_once().await.unwrap();
    assert!(matches!(second[0].1, Outcome::Retrying { .. }));
    clock.advance(Duration::from_secs(25));
    let third = worker.run_once().await.unwrap();
    assert_eq!(third, vec![(id.clone(), Outcome::Failed)]);
    clock.advance(Duration::from_secs(3600));
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "failed events stay failed"
    );

    let attempts: Vec<i64> = handler
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, a)| *a)
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    let record = outbox::find(&db, &id).await.unwrap().unwrap();
    assert_eq!(record.status, "failed");
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("smtp down (call 3)"));
}

#[tokio::test]
async fn a_retried_event_succeeds_on_a_later_attempt() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    let id = enqueue(&db, &clock, "mail.send").await;
    let handler = Recorder {
        fail_times: 1,
        ..Recorder::default()
    };
    let worker = Worker::new(db.clone(), clock.clone(), handler, config(5));
    assert!(matches!(
        worker.run_once().await.unwrap()[0].1,
        Outcome::Retrying { .. }
    ));
    clock.advance(Duration::from_secs(15));
    assert_eq!(
        worker.run_once().await.unwrap(),
        vec![(id.clone(), Outcome::Delivered)]
    );
    assert_eq!(
        outbox::find(&db, &id).await.unwrap().unwrap().last_error,
        None
    );
}

#[tokio::test]
async fn a_permanent_failure_is_not_retried() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    let id = enqueue(&db, &clock, "bad.payload").await;
    let handler = Recorder {
        fail_times: 1,
        permanent: true,
        ..Recorder::default()
    };
    let worker = Worker::new(db.clone(), clock.clone(), handler, config(5));
    assert_eq!(
        worker.run_once().await.unwrap(),
        vec![(id, Outcome::Failed)]
    );
}

#[tokio::test]
async fn an_event_whose_worker_died_is_claimed_again_after_the_lease() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    let id = enqueue(&db, &clock, "test.happened").await;
    // A worker claims the event and dies before recording the outcome.
    sqlx::query("UPDATE outbox_events SET status = 'processing', attempts = 1, locked_until = $1 WHERE id = $2")
        .bind(clock.now().plus(Duration::from_secs(300)).millis())
        .bind(id.as_str())
        .execute(db.reader())
        .await
        .unwrap();
    let worker = Worker::new(db.clone(), clock.clone(), Recorder::default(), config(5));
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "lease still held"
    );
    clock.advance(Duration::from_secs(301));
    assert_eq!(
        worker.run_once().await.unwrap(),
        vec![(id, Outcome::Delivered)]
    );
}

#[tokio::test]
async fn an_event_rolled_back_with_its_transaction_is_never_delivered() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    let mut tx = db.begin().await.unwrap();
    outbox::enqueue(&mut tx, &clock, "order.paid", &serde_json::json!({}))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let worker = Worker::new(db.clone(), clock, Recorder::default(), config(5));
    assert!(worker.run_once().await.unwrap().is_empty());
}

#[tokio::test]
async fn workers_split_the_kinds_and_both_handlers_see_every_event() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(1_800_000_000_000));
    enqueue(&db, &clock, "mail.wanted").await;
    let hook = enqueue(&db, &clock, "webhook.deliver").await;
    // One handler failing for good does not keep the event from the other.
    let failing = Recorder {
        fail_times: 1,
        permanent: true,
        ..Recorder::default()
    };
    let other = Recorder::default();
    let events = Worker::new(
        db.clone(),
        clock.clone(),
        outbox::Both(failing.clone(), other.clone()),
        WorkerConfig {
            kinds: outbox::Kinds::Except(&["webhook.deliver"]),
            ..config(5)
        },
    );
    let deliveries_seen = Recorder::default();
    let deliveries = Worker::new(
        db.clone(),
        clock.clone(),
        deliveries_seen.clone(),
        WorkerConfig {
            kinds: outbox::Kinds::Only(&["webhook.deliver"]),
            ..config(5)
        },
    );
    let done = events.run_once().await.unwrap();
    assert_eq!(done.len(), 1, "only its kinds");
    assert_eq!(done[0].1, Outcome::Failed);
    assert_eq!(
        *other.seen.lock().unwrap(),
        vec![("mail.wanted".to_owned(), 1)],
        "the second handler saw the event the first failed"
    );
    assert_eq!(
        deliveries.run_once().await.unwrap(),
        vec![(hook, Outcome::Delivered)]
    );
    assert!(events.run_once().await.unwrap().is_empty());
    assert_eq!(deliveries_seen.seen.lock().unwrap().len(), 1);
}
