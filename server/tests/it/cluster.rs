//! Several instances on one database, as behind a load balancer: a catalog change on one
//! shows on the other within a second (PostgreSQL LISTEN/NOTIFY, not the cache's expiry);
//! fifty buyers split across two instances race for five units; periodic jobs run in one
//! process at a time and pass to another when their holder dies or stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use shop_core::leases::Leases;
use tokio::sync::watch;

use crate::api::{api, client, send};
use crate::api_admin::admin_token;
use crate::checkout::{add, hidden, to_review};
use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"LAMP-1","name":"Harbour Lamp","slug":"harbour-lamp","description":"Brass.","category":"Home > Lighting","price_minor":8900,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
"#;

fn postgres() -> bool {
    std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.trim().is_empty())
}

/// Two instances on one database, `first` with the catalog. Their caches would keep a page
/// for a minute: whatever shows sooner on the other was signalled.
async fn two_instances(run_worker: bool) -> (TestApp, TestApp) {
    let first = TestApp::with_catalog(instance(None, run_worker), CATALOG).await;
    let url = first.config.database_url.expose().to_owned();
    let second = TestApp::spawn_with(instance(Some(url), run_worker)).await;
    (first, second)
}

/// The options of an instance: on the database at `url` (a new one when `None`).
fn instance(url: Option<String>, run_worker: bool) -> TestOptions {
    let mut env = vec![
        ("CATALOG_CACHE_SECS", "120".to_owned()),
        ("JOB_LEASE_SECS", "1".to_owned()),
    ];
    if let Some(url) = url {
        env.push(("DATABASE_URL", url));
    }
    TestOptions { env, run_worker }
}

/// How long until `page` on `app` satisfies `shows` (polled every 20 ms, up to 5 s).
async fn shows_within(app: &TestApp, page: &str, shows: impl Fn(&str) -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if shows(&app.get(page).await.text().await.unwrap()) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn a_price_or_stock_change_on_one_instance_shows_on_the_other_within_a_second() {
    if !postgres() {
        // One SQLite file is one process's: there is no other instance to tell.
        eprintln!("skipped: signals between instances need PostgreSQL (TEST_POSTGRES_URL)");
        return;
    }
    let (a, b) = two_instances(false).await;
    let page = "/p/harbour-lamp";
    // Both have the page cached, and the product's data.
    for app in [&a, &b] {
        for _ in 0..2 {
            let html = app.get(page).await.text().await.unwrap();
            assert!(html.contains("89.00"), "{html}");
        }
    }
    let (_, token) = admin_token(&a).await;
    let variant = shop_testkit::variant_id(&a.db, "LAMP-1").await.to_string();
    let (status, _, body) = send(
        client()
            .put(api(&a, &format!("/admin/variants/{variant}")))
            .bearer_auth(&token)
            .json(&json!({
                "sku": "LAMP-1",
                "price": {"amount_minor": 7450, "currency": "EUR"}
            })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let took = shows_within(&b, page, |html| html.contains("74.50")).await;
    println!("price change on A seen on B after {took:?}");
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(1)),
        "B showed the new price after {took:?}"
    );
    // A stock change: sold out everywhere.
    let (status, _, body) = send(
        client()
            .post(api(&a, &format!("/admin/variants/{variant}/stock")))
            .bearer_auth(&token)
            .json(&json!({"delta": -5, "reason": "Damaged in the storeroom"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let took = shows_within(&b, page, |html| html.contains("Out of stock")).await;
    println!("stock change on A seen on B after {took:?}");
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(1)),
        "B showed the product sold out after {took:?}"
    );
    // And the other way round.
    let (_, token_b) = admin_token(&b).await;
    let (status, _, body) = send(
        client()
            .post(api(&b, &format!("/admin/variants/{variant}/stock")))
            .bearer_auth(&token_b)
            .json(&json!({"delta": 3, "reason": "Found in the back"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let took = shows_within(&a, page, |html| !html.contains("Out of stock")).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_secs(1)),
        "A showed the restock after {took:?}"
    );
}

#[tokio::test]
async fn fifty_buyers_on_two_instances_race_for_five_units_and_five_orders_hold_them() {
    let (a, b) = two_instances(false).await;
    let apps = [&a, &b];
    // Each buyer fills a cart and reaches the review page on one of the two instances.
    let mut buyers = Vec::new();
    for i in 0..50 {
        let app = apps[i % 2];
        let browser = app.browser();
        add(app, &browser, "LAMP-1", "1").await;
        let review = to_review(app, &browser, "Standard").await;
        buyers.push((app, browser, review));
    }
    // All press "Place order" at once.
    let places = buyers.iter().map(|(app, browser, review)| async move {
        let res = app
            .call(
                browser,
                "checkout/place",
                &[
                    ("reviewed", &hidden(review, "reviewed")),
                    ("idempotency_key", &hidden(review, "idempotency_key")),
                ],
            )
            .await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, text)
    });
    let answers = futures_util::future::join_all(places).await;
    let placed = answers.iter().filter(|(s, _)| *s == 200).count();
    let sold_out = answers
        .iter()
        .filter(|(s, t)| *s == 422 && t.contains("Harbour Lamp has just sold out"))
        .count();
    let others: Vec<_> = answers
        .iter()
        .filter(|(s, t)| *s != 200 && !(*s == 422 && t.contains("sold out")))
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:?}");
    assert_eq!((placed, sold_out), (5, 45), "{answers:?}");
    let db = a.db.clone();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, 5);
    assert_eq!(
        count(
            "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id"
        )
        .await,
        5
    );
    assert_eq!(
        count("SELECT reserved FROM product_variants WHERE sku = 'LAMP-1'").await,
        5
    );
    assert_eq!(
        count("SELECT on_hand FROM product_variants WHERE sku = 'LAMP-1'").await,
        5
    );
    // A sixth buyer, on either instance, cannot even put one in the cart now.
    let variant = shop_testkit::variant_id(&a.db, "LAMP-1").await.to_string();
    for app in apps {
        let res = app
            .call(
                &app.browser(),
                "cart/add",
                &[("variant_id", &variant), ("quantity", "1")],
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, 5);
}

/// A probe job: counts how many processes run it at once, and which ran it.
#[derive(Clone, Default)]
struct Probe {
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    runs: Arc<std::sync::Mutex<Vec<String>>>,
    /// Never returns by itself (a job stuck in a query): ends only when dropped.
    stubborn: bool,
}

/// Counts a running probe until dropped (a job that returns, or one dropped with its
/// process).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Probe {
    async fn run(self, who: String, mut stop: watch::Receiver<bool>) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = Running(self.running.clone());
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        self.runs.lock().unwrap().push(who);
        if self.stubborn {
            std::future::pending::<()>().await;
        }
        let _ = stop.wait_for(|s| *s).await;
    }

    fn runs(&self) -> Vec<String> {
        self.runs.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_job_runs_in_one_process_at_a_time_and_passes_on_when_its_holder_dies() {
    let app = TestApp::spawn().await;
    let probe = Probe::default();
    let lease = |name: &str| {
        Leases::new(
            app.db.clone(),
            shop_core::Clock::system(),
            name,
            Duration::from_millis(600),
        )
    };
    let (stop_tx, stop) = watch::channel(false);
    let start = |name: &'static str| {
        let probe = probe.clone();
        tokio::spawn(lease(name).run("probe", stop.clone(), move |s| {
            probe.clone().run(name.to_owned(), s)
        }))
    };
    let first = start("first");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = start("second");
    // Several lease lengths: the holder renews, the other keeps waiting.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(probe.runs(), ["first"]);
    assert_eq!(probe.running.load(Ordering::SeqCst), 1);
    // The holder dies without giving the lease back: the job passes on once it expires.
    first.abort();
    let died = Instant::now();
    while probe.runs().len() < 2 && died.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(probe.runs(), ["first", "second"]);
    println!(
        "the job passed on {:?} after its holder died",
        died.elapsed()
    );
    assert!(died.elapsed() < Duration::from_secs(2));
    // A third process joins; the job stays where it is.
    let third = start("third");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(probe.runs(), ["first", "second"]);
    // A clean stop gives the lease back at once.
    let _ = stop_tx.send(true);
    second.await.unwrap();
    third.await.unwrap();
    let holder: Option<String> =
        sqlx::query_scalar("SELECT holder FROM job_leases WHERE job = 'probe'")
            .fetch_optional(app.db.reader())
            .await
            .unwrap();
    assert_eq!(holder, None, "the lease was given back");
    assert_eq!(probe.most_at_once.load(Ordering::SeqCst), 1);
    assert_eq!(probe.running.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_holder_that_cannot_renew_stops_its_job_before_another_may_start_it() {
    let app = TestApp::spawn().await;
    let probe = Probe {
        stubborn: true,
        ..Probe::default()
    };
    let ttl = Duration::from_millis(1500);
    // The stalled holder reaches the database through a handle of its own, which is then
    // closed: every renewal fails from that moment, as when its database link is cut.
    let url = app.config.database_url.expose().to_owned();
    let own = shop_core::Db::connect(&shop_core::DbConfig::new(url))
        .await
        .unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let stalled = {
        let probe = probe.clone();
        let leases = Leases::new(own.clone(), shop_core::Clock::system(), "stalled", ttl);
        tokio::spawn(leases.run("probe", stop.clone(), move |s| {
            probe.clone().run("stalled".to_owned(), s)
        }))
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(probe.runs(), ["stalled"]);
    own.close().await;
    let cut = Instant::now();
    let other = {
        let probe = probe.clone();
        let leases = Leases::new(app.db.clone(), shop_core::Clock::system(), "other", ttl);
        tokio::spawn(leases.run("probe", stop.clone(), move |s| {
            probe.clone().run("other".to_owned(), s)
        }))
    };
    while probe.runs().len() < 2 && cut.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "the job moved {:?} after the holder lost its database",
        cut.elapsed()
    );
    assert_eq!(probe.runs(), ["stalled", "other"]);
    assert_eq!(
        probe.most_at_once.load(Ordering::SeqCst),
        1,
        "the stalled holder stopped its job before the other started it"
    );
    assert!(
        cut.elapsed() >= ttl - ttl / 3,
        "not before the lease ran out"
    );
    let _ = stop_tx.send(true);
    other.abort();
    stalled.await.unwrap();
}

#[tokio::test]
async fn two_instances_running_workers_share_the_periodic_jobs_and_hand_them_over_on_stop() {
    // The database's owner (it drops the database at the end) runs no jobs; two instances
    // beside it do.
    let owner = TestApp::spawn().await;
    let url = owner.config.database_url.expose().to_owned();
    let (db, clock) = (owner.db.clone(), owner.clock.clone());
    let holders = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT job, holder FROM job_leases WHERE expires_at > $1 ORDER BY job",
        )
        .bind(clock.now().millis())
        .fetch_all(db.reader())
        .await
        .unwrap()
    };
    // Polls until every job is held by one process other than `not` (5 s at most).
    let all_held_by_one = |not: Option<String>| async move {
        let started = Instant::now();
        loop {
            let held = holders().await;
            let one = held.len() == shop::startup::JOBS.len()
                && held.iter().all(|(_, h)| *h == held[0].1)
                && not.as_ref() != Some(&held[0].1);
            if one || started.elapsed() > Duration::from_secs(5) {
                return (held, started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // The first instance takes every job.
    let a = TestApp::spawn_with(instance(Some(url.clone()), true)).await;
    let (held, _) = all_held_by_one(None).await;
    let jobs: Vec<&str> = held.iter().map(|(j, _)| j.as_str()).collect();
    let mut expected = shop::startup::JOBS.to_vec();
    expected.sort_unstable();
    assert_eq!(jobs, expected, "{held:?}");
    assert!(
        held.iter().all(|(_, h)| h.starts_with("serve@")),
        "{held:?}"
    );
    let first = held[0].1.clone();
    // A second instance starts: through several renewals (leases of 1 s) it takes nothing.
    let b = TestApp::spawn_with(instance(Some(url), true)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(holders().await, held);
    // The first stops: it gives its leases back, and the second takes every job at its next
    // try (a third of a lease).
    a.stop().await;
    let (now_held, took) = all_held_by_one(Some(first.clone())).await;
    println!("jobs handed over {took:?} after the holder stopped: {now_held:?}");
    assert_eq!(now_held.len(), held.len(), "{now_held:?}");
    assert!(now_held.iter().all(|(_, h)| *h != first), "{now_held:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(b);
}

#[tokio::test]
async fn instances_starting_together_on_a_new_database_apply_each_migration_once() {
    if !postgres() {
        eprintln!("skipped: one SQLite file has one instance; several share only PostgreSQL");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let database = shop_testkit::TestDatabase::create(scratch.path()).await;
    // Three instances connect and migrate at the same moment (sqlx's advisory lock: one
    // applies, the others wait and then find nothing to do).
    let connect = || async {
        shop_core::Db::connect(&shop_core::DbConfig::new(database.url.clone()))
            .await
            .unwrap()
    };
    let dbs = [connect().await, connect().await, connect().await];
    let results = futures_util::future::join_all(dbs.iter().map(|db| db.migrate())).await;
    for r in &results {
        assert!(r.is_ok(), "{results:?}");
    }
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/postgres"
    ))
    .unwrap()
    .filter(|e| {
        e.as_ref()
            .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
    })
    .count();
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, COUNT(*) FROM _sqlx_migrations WHERE success GROUP BY version",
    )
    .fetch_all(dbs[0].reader())
    .await
    .unwrap();
    assert_eq!(applied.len(), files);
    assert!(applied.iter().all(|(_, n)| *n == 1), "{applied:?}");
    for db in &dbs {
        db.close().await;
    }
}
