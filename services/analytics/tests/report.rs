//! The dashboards' figures for a period add the rolled-up days and the live ones (not rolled
//! up yet) the same way, compare with the period before, and keep a vendor to their products.

use std::time::Duration;

use analytics::report::{self, Audience, Period, ProductMetric, TermRanking};
use analytics::{Analytics, Kind, Noted, Settings, Visit, Zone};
use shop_core::{Clock, Timestamp};
use shop_testkit::fresh_db;

/// 2026-03-02 09:00 UTC, a Monday.
const MONDAY_9AM: i64 = 1_772_442_000_000;
const DAY: Duration = Duration::from_secs(86_400);

fn visit(n: u8) -> Option<Visit> {
    Some(Visit {
        ip: format!("198.51.100.{n}"),
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15".to_owned(),
    })
}

fn view(product: &str, vendor: Option<&str>) -> Noted {
    Noted::product_view(product, vendor)
}

fn sale(order: &str, product: &str, vendor: Option<&str>, amount: i64) -> Vec<(Noted, String)> {
    let paid = Noted {
        order_id: Some(order.to_owned()),
        amount_minor: Some(amount),
        currency: Some("EUR".to_owned()),
        ..Noted::new(Kind::OrderPaid)
    };
    let line = Noted {
        order_id: Some(order.to_owned()),
        product_id: Some(product.to_owned()),
        vendor_id: vendor.map(str::to_owned),
        quantity: Some(1),
        amount_minor: Some(amount),
        currency: Some("EUR".to_owned()),
        ..Noted::new(Kind::Sale)
    };
    vec![
        (paid, format!("paid:{order}")),
        (line, format!("sale:{order}")),
    ]
}

fn date(s: &str) -> jiff::civil::Date {
    analytics::zone::parse_day(s).unwrap()
}

#[tokio::test]
async fn figures_add_rolled_up_and_live_days_alike_and_a_vendor_sees_only_theirs() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::fixed(Timestamp(MONDAY_9AM));
    let a = Analytics::new(
        db.clone(),
        clock.clone(),
        Settings {
            zone: Zone::utc(),
            ..Settings::default()
        },
    );
    let pay = |events: Vec<(Noted, String)>| {
        let at = clock.now().millis();
        events
            .into_iter()
            .map(|(n, k)| (n, at, k))
            .collect::<Vec<_>>()
    };

    // Monday: "kettle" searched once; p1 (vendor V) viewed by two visitors and sold once.
    a.record(Noted::search("kettle", 3), visit(1));
    a.record(view("p1", Some("V")), visit(1));
    a.record(view("p1", Some("V")), visit(2));
    a.flush().await.unwrap();
    a.record_keyed(pay(sale("o1", "p1", Some("V"), 2_000)))
        .await
        .unwrap();
    // Tuesday: rolled up on Wednesday... (see below). "kettle" three times, "zeppelin" twice
    // with nothing found; p2 (the shop's own) viewed and sold twice.
    clock.advance(DAY);
    for n in 1..=3 {
        a.record(Noted::search("kettle", 3), visit(n));
    }
    for n in 1..=2 {
        a.record(Noted::search("zeppelin", 0), visit(n));
    }
    a.record(view("p2", None), visit(3));
    a.flush().await.unwrap();
    a.record_keyed(pay(sale("o2", "p2", None, 5_000)))
        .await
        .unwrap();
    a.record_keyed(pay(sale("o3", "p2", None, 5_000)))
        .await
        .unwrap();

    // Wednesday: Monday and Tuesday are rolled up; Wednesday's events stay live.
    clock.advance(DAY);
    assert_eq!(a.roll_up().await.unwrap().days.len(), 2);
    a.record(view("p1", Some("V")), visit(4));
    a.flush().await.unwrap();
    a.record_keyed(pay(sale("o4", "p1", Some("V"), 2_000)))
        .await
        .unwrap();

    let week = Period::new(date("2026-03-02"), date("2026-03-04"), 400).unwrap();
    assert_eq!(week.days(), 3);
    assert_eq!(
        week.previous(),
        Period::new(date("2026-02-27"), date("2026-03-01"), 400).unwrap()
    );
    let t = report::traffic(&db, week, &Audience::Shop).await.unwrap();
    // Visitors are distinct per day: 2 on Monday, 3 on Tuesday, 1 on Wednesday.
    assert_eq!((t.visitors, t.product_views, t.searches), (6, 4, 6));
    let sales = report::sales(&db, week, &Audience::Shop).await.unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(
        (
            sales[0].order_count,
            sales[0].revenue_minor,
            sales[0].net_minor()
        ),
        (4, 14_000, 14_000)
    );
    assert_eq!(sales[0].average_order_minor(), 3_500);
    let by_day = report::sales_by_day(&db, week, &Audience::Shop)
        .await
        .unwrap();
    let revenue: Vec<(&str, i64)> = by_day
        .iter()
        .map(|d| (d.day.as_str(), d.revenue_minor))
        .collect();
    assert_eq!(
        revenue,
        [
            ("2026-03-02", 2_000),
            ("2026-03-03", 10_000),
            ("2026-03-04", 2_000)
        ]
    );

    // The vendor's view: their product only, its views and sales on both sides of the split.
    let vendor = Audience::Vendor("V".to_owned());
    let vt = report::traffic(&db, week, &vendor).await.unwrap();
    assert_eq!(vt.product_views, 3);
    let vs = report::sales(&db, week, &vendor).await.unwrap();
    assert_eq!((vs[0].order_count, vs[0].revenue_minor), (2, 4_000));
    let theirs = report::top_products(&db, week, &vendor, ProductMetric::Revenue, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = theirs.iter().map(|p| p.product_id.as_str()).collect();
    assert_eq!(ids, ["p1"]);
    let all = report::top_products(&db, week, &Audience::Shop, ProductMetric::Revenue, 10)
        .await
        .unwrap();
    let ranked: Vec<(&str, i64, i64)> = all
        .iter()
        .map(|p| (p.product_id.as_str(), p.revenue_minor, p.views))
        .collect();
    assert_eq!(ranked, [("p2", 10_000, 1), ("p1", 4_000, 3)]);

    // Searches: Tuesday against Monday.
    let tuesday = Period::new(date("2026-03-03"), date("2026-03-03"), 400).unwrap();
    let top = report::terms(&db, tuesday, TermRanking::Top, 10)
        .await
        .unwrap();
    let top: Vec<(&str, i64, i64)> = top
        .iter()
        .map(|t| (t.term.as_str(), t.searches, t.before))
        .collect();
    assert_eq!(top, [("kettle", 3, 1), ("zeppelin", 2, 0)]);
    let trending = report::terms(&db, tuesday, TermRanking::Trending, 10)
        .await
        .unwrap();
    assert_eq!(trending[0].term, "kettle");
    assert_eq!(trending.len(), 2);
    let zero = report::terms(&db, tuesday, TermRanking::ZeroResults, 10)
        .await
        .unwrap();
    let zero: Vec<(&str, i64)> = zero
        .iter()
        .map(|t| (t.term.as_str(), t.zero_results))
        .collect();
    assert_eq!(zero, [("zeppelin", 2)]);

    // A period of nothing is all zeros, not an error.
    let empty = Period::new(date("2025-01-01"), date("2025-01-31"), 400).unwrap();
    assert_eq!(
        report::traffic(&db, empty, &Audience::Shop).await.unwrap(),
        report::Traffic::default()
    );
    assert!(
        report::sales(&db, empty, &Audience::Shop)
            .await
            .unwrap()
            .is_empty()
    );
    // Backwards or too long a period is refused.
    assert!(Period::new(date("2026-03-04"), date("2026-03-02"), 400).is_none());
    assert!(Period::new(date("2024-01-01"), date("2026-03-02"), 400).is_none());
}

#[tokio::test]
async fn a_long_period_adds_whole_months_the_days_around_them_and_today_exactly_once() {
    let (db, _scratch) = fresh_db().await;
    // 2026-01-25 09:00 UTC.
    let clock = Clock::fixed(Timestamp(MONDAY_9AM - 36 * 86_400_000));
    let a = Analytics::new(
        db.clone(),
        clock.clone(),
        Settings {
            zone: Zone::utc(),
            ..Settings::default()
        },
    );
    // One view of p1 (vendor V) a day from 25 January to 6 March, and a sale on 10 February.
    for day in 0..41 {
        a.record(view("p1", Some("V")), visit(1));
        a.flush().await.unwrap();
        if day == 16 {
            let at = clock.now().millis();
            let events = sale("o1", "p1", Some("V"), 1_500)
                .into_iter()
                .map(|(n, k)| (n, at, k))
                .collect();
            a.record_keyed(events).await.unwrap();
        }
        if day < 40 {
            clock.advance(DAY);
        }
    }
    assert_eq!(
        analytics::zone::Zone::utc().day_of(clock.now().millis()),
        "2026-03-06"
    );
    a.roll_up().await.unwrap();
    // Today, p2 is viewed 25 times and not bought.
    for n in 1..=25 {
        a.record(view("p2", None), visit(n));
    }
    a.flush().await.unwrap();
    let months: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analytics_monthly_products")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(months, 3, "January, February and March so far");
    // 28 January to today: four days of January, all of February, five rolled-up days of
    // March and today's live view.
    let period = Period::new(date("2026-01-28"), date("2026-03-06"), 400).unwrap();
    let vendor = report::product_rankings(&db, period, &Audience::Vendor("V".to_owned()), 10)
        .await
        .unwrap();
    assert_eq!(vendor.len(), 1);
    assert_eq!(
        (vendor[0].views, vendor[0].units, vendor[0].revenue_minor),
        (4 + 28 + 5 + 1, 1, 1_500)
    );
    let shop = report::product_rankings(&db, period, &Audience::Shop, 10)
        .await
        .unwrap();
    let ids = |list: Vec<report::ProductFigures>| -> Vec<String> {
        list.into_iter().map(|p| p.product_id).collect()
    };
    assert_eq!(
        ids(report::top(&shop, ProductMetric::Views, 10)),
        ["p1", "p2"]
    );
    assert_eq!(ids(report::top(&shop, ProductMetric::Units, 10)), ["p1"]);
    assert_eq!(ids(report::rarely_bought(&shop, 10)), ["p2"]);
    // Only the first of each ranking leaves the database when one is asked for.
    let first = report::product_rankings(&db, period, &Audience::Shop, 1)
        .await
        .unwrap();
    assert_eq!(ids(report::top(&first, ProductMetric::Views, 1)), ["p1"]);
    assert_eq!(ids(report::rarely_bought(&first, 1)), ["p2"]);
    // Exactly February, and a period inside one month.
    let february = Period::new(date("2026-02-01"), date("2026-02-28"), 400).unwrap();
    let feb = report::product_rankings(&db, february, &Audience::Shop, 10)
        .await
        .unwrap();
    assert_eq!((feb.len(), feb[0].views), (1, 28));
    let mid = Period::new(date("2026-02-09"), date("2026-02-11"), 400).unwrap();
    let mid = report::product_rankings(&db, mid, &Audience::Shop, 10)
        .await
        .unwrap();
    assert_eq!((mid[0].views, mid[0].units), (3, 1));
    let other = report::product_rankings(&db, period, &Audience::Vendor("W".to_owned()), 10)
        .await
        .unwrap();
    assert!(other.is_empty());
}
