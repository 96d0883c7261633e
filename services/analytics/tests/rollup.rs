//! Events from a scripted set of visits and orders roll up into exactly the expected daily
//! rows, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use std::time::Duration;

use analytics::{Analytics, Noted, Settings, Visit, Zone};
use shop_core::{Clock, Timestamp};
use shop_testkit::{count, fresh_db};
use sqlx::Row;

/// 2026-03-02 09:00 in Berlin (08:00 UTC).
const MONDAY_9AM: i64 = 1_772_438_400_000;
const HOUR: u64 = 3_600_000;

fn visit(n: u8) -> Option<Visit> {
    Some(Visit {
        ip: format!("192.0.2.{n}"),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
            .to_owned(),
    })
}

fn with(kind: analytics::Kind, f: impl FnOnce(&mut Noted)) -> Noted {
    let mut n = Noted::new(kind);
    f(&mut n);
    n
}

fn add(product: &str, vendor: Option<&str>) -> Noted {
    with(analytics::Kind::AddToCart, |n| {
        n.product_id = Some(product.to_owned());
        n.vendor_id = vendor.map(str::to_owned);
        n.quantity = Some(1);
    })
}

fn placed(order: &str) -> Noted {
    with(analytics::Kind::OrderPlaced, |n| {
        n.order_id = Some(order.to_owned())
    })
}

fn paid(order: &str, amount: i64) -> Noted {
    with(analytics::Kind::OrderPaid, |n| {
        n.order_id = Some(order.to_owned());
        n.amount_minor = Some(amount);
        n.currency = Some("EUR".to_owned());
    })
}

fn sale(order: &str, product: &str, vendor: Option<&str>, units: i64, amount: i64) -> Noted {
    with(analytics::Kind::Sale, |n| {
        n.order_id = Some(order.to_owned());
        n.product_id = Some(product.to_owned());
        n.vendor_id = vendor.map(str::to_owned);
        n.quantity = Some(units);
        n.amount_minor = Some(amount);
        n.currency = Some("EUR".to_owned());
    })
}

fn refund(order: &str, amount: i64, line: Option<(&str, &str)>) -> Noted {
    with(analytics::Kind::Refund, |n| {
        n.order_id = Some(order.to_owned());
        n.amount_minor = Some(amount);
        n.currency = Some("EUR".to_owned());
        if let Some((product, vendor)) = line {
            n.product_id = Some(product.to_owned());
            n.vendor_id = Some(vendor.to_owned());
        }
    })
}

async fn row(db: &shop_core::Db, sql: &str) -> Vec<i64> {
    let r = sqlx::query(sql).fetch_one(db.reader()).await.unwrap();
    (0..r.len())
        .map(|i| r.try_get::<i64, _>(i).unwrap())
        .collect()
}

#[tokio::test]
async fn a_scripted_day_rolls_up_into_exact_counts_and_revenue_net_of_refunds() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(MONDAY_9AM));
    let settings = Settings {
        enabled: true,
        retention_days: 30,
        zone: Zone::named("Europe/Berlin").unwrap(),
    };
    let a = Analytics::new(db.clone(), clock.clone(), settings);

    // Monday. Visitor 1 browses, searches, adds two products (one of vendor V), checks out
    // and pays; visitor 2 views the same product twice and adds it, then leaves; visitor 3
    // searches for something the shop lacks. A request that is not counted records nothing.
    a.record(Noted::product_view("p1", Some("V")), visit(1));
    a.record(
        with(analytics::Kind::ListingView, |n| {
            n.category_id = Some("c1".into())
        }),
        visit(1),
    );
    a.record(Noted::search("cast iron", 4), visit(1));
    a.record(add("p1", Some("V")), visit(1));
    a.record(add("p2", None), visit(1));
    a.record(Noted::new(analytics::Kind::CartView), visit(1));
    a.record(Noted::new(analytics::Kind::CheckoutStarted), visit(1));
    a.record(placed("o1"), visit(1));
    a.record(Noted::product_view("p1", Some("V")), visit(2));
    a.record(Noted::product_view("p1", Some("V")), visit(2));
    a.record(add("p1", Some("V")), visit(2));
    a.record(Noted::search("zeppelin", 0), visit(3));
    a.record(Noted::search("Zeppelin", 0), None);
    assert_eq!(a.pending(), 12);
    assert_eq!(a.flush().await.unwrap(), 12);
    assert_eq!(a.pending(), 0);

    // The payment (from the outbox, possibly twice), at 10:00.
    clock.advance(Duration::from_millis(HOUR));
    let at = clock.now().millis();
    let payment = vec![
        (paid("o1", 5_500), at, "paid:o1".to_owned()),
        (
            sale("o1", "p1", Some("V"), 1, 3_000),
            at,
            "paid:o1:l1".to_owned(),
        ),
        (
            sale("o1", "p2", None, 2, 2_000),
            at,
            "paid:o1:l2".to_owned(),
        ),
    ];
    a.record_keyed(payment.clone()).await.unwrap();
    a.record_keyed(payment).await.unwrap();
    // Tuesday 11:00: p1's line is refunded (its 3,000, no shipping).
    clock.advance(Duration::from_millis(25 * HOUR));
    let at = clock.now().millis();
    a.record_keyed(vec![
        (refund("o1", 3_000, None), at, "refund:r1".to_owned()),
        (
            refund("o1", 3_000, Some(("p1", "V"))),
            at,
            "refund:r1:l1".to_owned(),
        ),
    ])
    .await
    .unwrap();
    // Visitor 2's two views of p1 are one row that counts two.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM analytics_events").await,
        16
    );
    assert_eq!(
        count(
            &db,
            "SELECT CAST(SUM(n) AS BIGINT) FROM analytics_events WHERE kind = 'product_view'"
        )
        .await,
        3
    );
    let hashes = count(
        &db,
        "SELECT COUNT(DISTINCT visitor) FROM analytics_events WHERE visitor IS NOT NULL",
    )
    .await;
    assert_eq!(hashes, 3);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM analytics_events WHERE visitor LIKE '%192.0.2%'"
        )
        .await,
        0
    );

    // Wednesday 12:00: Monday is final, Tuesday is rolled up but not final yet.
    clock.advance(Duration::from_millis(25 * HOUR));
    let rolled = a.roll_up().await.unwrap();
    assert_eq!(rolled.days, vec!["2026-03-02", "2026-03-03"]);
    assert_eq!(
        row(
            &db,
            "SELECT visitors, viewers, adders, checkouts, buyers, product_views, listing_views,
                    searches, adds, cart_views
             FROM analytics_daily WHERE day = '2026-03-02' AND vendor_id = ''"
        )
        .await,
        vec![3, 2, 2, 1, 1, 3, 1, 2, 3, 1]
    );
    // Vendor V: its product's viewers and adders, and visitor 1, who bought it.
    assert_eq!(
        row(
            &db,
            "SELECT visitors, viewers, adders, checkouts, buyers, product_views, adds
             FROM analytics_daily WHERE day = '2026-03-02' AND vendor_id = 'V'"
        )
        .await,
        vec![2, 2, 2, 1, 1, 3, 2]
    );
    assert_eq!(
        row(
            &db,
            "SELECT order_count, units, revenue_minor, refunds_minor FROM analytics_daily_sales
             WHERE day = '2026-03-02' AND vendor_id = '' AND currency = 'EUR'"
        )
        .await,
        vec![1, 3, 5_500, 0]
    );
    assert_eq!(
        row(
            &db,
            "SELECT order_count, units, revenue_minor, refunds_minor FROM analytics_daily_sales
             WHERE day = '2026-03-03' AND vendor_id = ''"
        )
        .await,
        vec![0, 0, 0, 3_000]
    );
    assert_eq!(
        row(
            &db,
            "SELECT revenue_minor, refunds_minor FROM analytics_daily_sales
             WHERE day = '2026-03-03' AND vendor_id = 'V'"
        )
        .await,
        vec![0, 3_000]
    );
    assert_eq!(
        row(
            &db,
            "SELECT views, adds, units, revenue_minor FROM analytics_daily_products
             WHERE day = '2026-03-02' AND product_id = 'p1' AND vendor_id = 'V'"
        )
        .await,
        vec![3, 2, 1, 3_000]
    );
    assert_eq!(
        row(
            &db,
            "SELECT searches, zero_results FROM analytics_daily_searches
             WHERE day = '2026-03-02' AND term = 'zeppelin'"
        )
        .await,
        vec![1, 1]
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM analytics_days WHERE final = 1").await,
        1
    );

    // Rolling up again changes nothing but the days not final.
    let again = a.roll_up().await.unwrap();
    assert_eq!(again.days, vec!["2026-03-03"]);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM analytics_daily").await, 2);

    // 32 days later the raw events are gone (the roll-ups stay), and so are old salts.
    clock.advance(Duration::from_millis(32 * 24 * HOUR));
    let late = a.roll_up().await.unwrap();
    assert_eq!(late.expired, 16, "rows");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM analytics_events").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM analytics_salts").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM analytics_daily").await, 2);
}

#[tokio::test]
async fn nothing_is_recorded_when_analytics_is_off() {
    let (db, _scratch) = fresh_db().await;
    let a = Analytics::new(
        db.clone(),
        Clock::system(),
        Settings {
            enabled: false,
            ..Settings::default()
        },
    );
    a.record(Noted::product_view("p1", None), visit(1));
    a.record_keyed(vec![(paid("o", 1), 0, "k".to_owned())])
        .await
        .unwrap();
    assert_eq!(a.flush().await.unwrap(), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM analytics_events").await, 0);
}
