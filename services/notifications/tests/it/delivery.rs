use std::collections::BTreeSet;
use std::time::Duration;

use notifications::log::{self, Filter, ResendError};
use notifications::{EventHandler, ShopInfo, Status, newsletter};
use shop_core::audit::Actor;
use shop_core::mail::Mailer;
use shop_core::outbox::{Outcome, Worker, WorkerConfig};
use shop_core::{Clock, Db, Email};

use crate::smtp_sink::Sink;

pub fn shop() -> ShopInfo {
    ShopInfo {
        name: "Harbour Street".to_owned(),
        base_url: "http://shop.test".to_owned(),
        colour: "#0f766e".to_owned(),
        staff_email: Some(Email::parse("staff@shop.test").unwrap()),
    }
}

fn config() -> WorkerConfig {
    WorkerConfig {
        batch_size: 50,
        max_attempts: 8,
        base_backoff: Duration::from_secs(5),
        max_backoff: Duration::from_secs(60),
        lease: Duration::from_secs(60),
        idle_poll: Duration::from_millis(10),
        kinds: shop_core::outbox::Kinds::All,
    }
}

fn worker(db: &Db, clock: &Clock, mailer: Mailer) -> Worker<EventHandler> {
    let config = config();
    let handler = EventHandler::new(
        db.clone(),
        clock.clone(),
        mailer,
        shop(),
        config.max_attempts,
    );
    Worker::new(db.clone(), clock.clone(), handler, config)
}

fn from() -> lettre::message::Mailbox {
    Mailer::parse_from("Harbour Street <shop@shop.test>").unwrap()
}

async fn all(db: &Db) -> Vec<notifications::Notification> {
    log::list(db, &Filter::default(), 0, 200).await.unwrap().0
}

/// Runs the worker until nothing is due, moving the clock past every backoff.
async fn drain(worker: &Worker<EventHandler>, clock: &Clock) {
    for _ in 0..10 {
        clock.advance(Duration::from_secs(120));
        if worker.run_once().await.unwrap().is_empty() {
            return;
        }
    }
    panic!("the outbox did not drain");
}

#[tokio::test]
async fn an_smtp_outage_delays_twenty_mails_and_each_goes_out_exactly_once() {
    let (db, _scratch) = shop_testkit::fresh_db().await;
    let clock = Clock::shifted();
    let mut sink = Sink::stopped().await;
    let worker = worker(&db, &clock, Mailer::smtp(&sink.url(), from()).unwrap());
    let readers: BTreeSet<String> = (0..20)
        .map(|i| format!("reader{i:02}@example.com"))
        .collect();
    for r in &readers {
        newsletter::subscribe(&db, &clock, &Email::parse(r).unwrap())
            .await
            .unwrap();
    }

    // The server is down: every attempt fails, twice, and the log says so.
    for attempt in 1..=2 {
        let outcomes = worker.run_once().await.unwrap();
        assert_eq!(outcomes.len(), 20, "attempt {attempt}");
        assert!(
            outcomes
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Retrying { .. }))
        );
        let logged = all(&db).await;
        assert_eq!(logged.len(), 20);
        for n in &logged {
            assert_eq!(n.status, Status::Retrying);
            assert_eq!(n.attempts, attempt);
            assert!(n.last_error.as_deref().is_some_and(|e| !e.is_empty()));
            assert!(n.sent_at.is_none());
        }
        clock.advance(Duration::from_secs(120));
    }
    assert!(sink.messages().is_empty());

    // It comes back: every mail goes out once.
    sink.start().await;
    drain(&worker, &clock).await;
    let got = sink.messages();
    assert_eq!(got.len(), 20, "every queued mail arrives, none twice");
    let recipients: BTreeSet<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(recipients, readers);
    assert!(got.iter().all(|m| {
        m.data
            .contains("Subject: Welcome to the Harbour Street newsletter")
    }));
    let logged = all(&db).await;
    for n in &logged {
        assert_eq!(n.status, Status::Sent);
        assert_eq!(n.attempts, 3, "two failures, then the send");
        assert!(n.last_error.is_some(), "the log keeps the last failure");
        assert!(n.sent_at.is_some());
    }
    let failed = Filter {
        status: Some(Status::Retrying),
        ..Filter::default()
    };
    assert_eq!(log::list(&db, &failed, 0, 10).await.unwrap().1, 0);

    // Every event delivered again (a worker that died before acknowledging): nothing resent.
    shop_testkit::exec(
        &db,
        "UPDATE outbox_events SET status = 'pending', available_at = 0",
    )
    .await;
    drain(&worker, &clock).await;
    assert_eq!(sink.messages().len(), 20);
    sink.stop().await;
}

#[tokio::test]
async fn a_mail_that_never_goes_out_is_logged_failed_after_the_last_attempt() {
    let (db, _scratch) = shop_testkit::fresh_db().await;
    let clock = Clock::shifted();
    let sink = Sink::stopped().await;
    let worker = worker(&db, &clock, Mailer::smtp(&sink.url(), from()).unwrap());
    newsletter::subscribe(&db, &clock, &Email::parse("gone@example.com").unwrap())
        .await
        .unwrap();
    for _ in 0..config().max_attempts {
        worker.run_once().await.unwrap();
        clock.advance(Duration::from_secs(120));
    }
    let logged = all(&db).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].status, Status::Failed);
    assert_eq!(logged[0].attempts, config().max_attempts);
}

#[tokio::test]
async fn staff_resend_a_logged_mail_and_one_time_links_are_masked_and_never_resent() {
    let (db, scratch) = shop_testkit::fresh_db().await;
    let clock = Clock::shifted();
    let dir = scratch.path().join("mail");
    let worker = worker(&db, &clock, Mailer::file(&dir, from()).unwrap());
    newsletter::subscribe(&db, &clock, &Email::parse("reader@example.com").unwrap())
        .await
        .unwrap();
    // Registering queues the welcome mail with its verification link.
    shop_testkit::catalog::customer(&db, &clock, "ada@example.com").await;
    drain(&worker, &clock).await;
    let files = || std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files(), 2);

    let logged = all(&db).await;
    let welcome = logged.iter().find(|n| n.template == "welcome").unwrap();
    assert!(welcome.secret);
    assert!(welcome.text_body.contains("[one-time link removed]"));
    assert!(
        !welcome.text_body.contains("token=")
            || welcome.text_body.contains("token=[one-time link removed]")
    );
    let sent: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert!(
        sent.contains("/verify-email?token="),
        "the real mail has the link"
    );
    let staff = Actor::system("test");
    assert!(matches!(
        log::resend(&db, &clock, &staff, &welcome.id).await,
        Err(ResendError::Secret)
    ));

    let newsletter = logged
        .iter()
        .find(|n| n.template == "newsletter_welcome")
        .unwrap();
    let copy = log::resend(&db, &clock, &staff, &newsletter.id)
        .await
        .unwrap();
    let queued = log::find(&db, &copy).await.unwrap().unwrap();
    assert_eq!(queued.status, Status::Queued);
    assert_eq!(queued.resend_of.as_ref(), Some(&newsletter.id));
    drain(&worker, &clock).await;
    assert_eq!(files(), 3);
    let resent = log::find(&db, &copy).await.unwrap().unwrap();
    assert_eq!(resent.status, Status::Sent);
    assert_eq!(
        resent.html_body, newsletter.html_body,
        "the copy as it was sent"
    );
    // Its event delivered again sends nothing more.
    shop_testkit::exec(
        &db,
        "UPDATE outbox_events SET status = 'pending', available_at = 0",
    )
    .await;
    drain(&worker, &clock).await;
    assert_eq!(files(), 3);
    assert!(matches!(
        log::resend(&db, &clock, &staff, &notifications::NotificationId::new()).await,
        Err(ResendError::NotFound)
    ));
}
