//! Analytics events are recorded on the server as pages and server functions are served
//! (pages from the page cache too), for counted visits only: not bots, not browsers that ask
//! not to be tracked, not the shop's staff. The event header never reaches the browser.

use std::time::Duration;

use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","slug":"cast-iron-pan","description":"A seasoned pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"color":"Black"}}
{"sku":"KET-1","name":"Copperleaf Kettle","slug":"copperleaf-kettle","description":"Whistles.","category":"Home & Kitchen > Cookware > Kettles","price_minor":4500,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{"color":"Copper"}}"#;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client.get(app.url(path)).header("accept", "text/html");
    if !headers.iter().any(|(name, _)| *name == "user-agent") {
        req = req.header("user-agent", FIREFOX);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.expect("GET");
    assert_eq!(res.status(), 200, "{path}");
    assert!(res.headers().get("x-shop-event").is_none(), "{path}");
    res
}

/// The events written so far, as `kind` rows in order, once `n` are there (the recorder
/// writes every second).
async fn events(app: &TestApp, n: usize) -> Vec<(String, Option<String>, Option<String>)> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = sqlx::query_as("SELECT kind, term, visitor FROM analytics_events ORDER BY id")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} analytics events were written: {rows:?}");
}

#[tokio::test]
async fn a_visitors_views_searches_and_adds_are_counted_once_each_cached_pages_included() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let visitor = app.browser();
    let first = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(first.headers()["x-cache"], "miss");
    let again = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(again.headers()["x-cache"], "hit");
    get(&app, &visitor, "/c/pans", &[]).await;
    get(&app, &visitor, "/search?q=Cast+Iron", &[]).await;
    get(&app, &visitor, "/search?q=zeppelin", &[]).await;
    let variant = shop_testkit::variant_id(&app.db, "PAN-1").await;
    let added = visitor
        .post(app.url("/api/cart/add"))
        .header("origin", app.url(""))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .header("user-agent", FIREFOX)
        .form(&[("variant_id", variant.as_str()), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    assert!(added.headers().get("x-shop-event").is_none());

    // Not counted: a crawler, a browser with Global Privacy Control or Do Not Track, a HEAD.
    let other = app.browser();
    get(
        &app,
        &other,
        "/p/cast-iron-pan",
        &[("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")],
    )
    .await;
    get(&app, &other, "/p/cast-iron-pan", &[("sec-gpc", "1")]).await;
    get(&app, &other, "/c/pans", &[("dnt", "1")]).await;
    other
        .head(app.url("/p/cast-iron-pan"))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();

    let rows = events(&app, 6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows_later = events(&app, 6).await;
    assert_eq!(rows, rows_later, "nothing else is counted");
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "product_view",
            "product_view",
            "listing_view",
            "search",
            "search",
            "add_to_cart"
        ]
    );
    let terms: Vec<Option<&str>> = rows.iter().map(|r| r.1.as_deref()).collect();
    assert_eq!(terms[3..5], [Some("cast iron"), Some("zeppelin")]);
    let first_visitor = rows[0].2.clone().expect("a visitor hash");
    assert!(
        rows.iter().all(|r| r.2.as_ref() == Some(&first_visitor)),
        "one visitor"
    );
    let (results, quantity): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT results FROM analytics_events WHERE term = 'zeppelin'),
                (SELECT quantity FROM analytics_events WHERE kind = 'add_to_cart')",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!((results, quantity), (Some(0), Some(2)));
}

#[tokio::test]
async fn the_shops_staff_are_not_counted_even_on_cached_pages() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let staff = app.browser();
    app.admin(&staff).await;
    // The first renders (and keeps) the page; the second is served from the cache.
    get(&app, &staff, "/p/cast-iron-pan", &[]).await;
    get(&app, &staff, "/p/cast-iron-pan", &[]).await;
    // A visitor's view of the same page is counted, so the recorder is at work.
    get(&app, &app.browser(), "/p/cast-iron-pan", &[]).await;
    let rows = events(&app, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(events(&app, 1).await.len(), 1, "{rows:?}");
}

#[tokio::test]
async fn a_paid_and_partly_refunded_order_counts_through_the_funnel_and_net_revenue() {
    let app = crate::checkout::shop(Vec::new()).await;
    let buyer = reqwest::Client::builder()
        .user_agent(FIREFOX)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    get(&app, &buyer, "/p/fernhill-tee", &[]).await;
    let tee = shop_testkit::variant_id(&app.db, "TEE-S").await.to_string();
    let added = app
        .call(
            &buyer,
            "cart/add",
            &[("variant_id", &tee), ("quantity", "2")],
        )
        .await;
    assert_eq!(added.status(), 200);
    get(&app, &buyer, "/cart", &[]).await;
    // The checkout's pages (its first step counts), placing the order and paying for it.
    let order = crate::checkout::paid_order_by(&app, &buyer, &[]).await;
    app.deliver_outbox().await;

    let (total, line): (i64, String) = sqlx::query_as(
        "SELECT o.paid_minor, l.id FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.id = $1",
    )
    .bind(&order)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    let admin = app.browser();
    app.admin(&admin).await;
    let qty = format!("qty_{line}");
    crate::checkout::post(
        &app,
        &admin,
        "admin/order-refund",
        &format!("/admin/orders/{order}"),
        &[
            ("order_id", &order),
            ("extra", ""),
            ("reason", "damaged"),
            ("confirm", "yes"),
            (&qty, "1"),
        ],
    )
    .await;
    app.deliver_outbox().await;
    // Delivered again (as a retry would): nothing is counted twice.
    app.deliver_outbox().await;

    let rows = events(&app, 9).await;
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for kind in [
        "product_view",
        "add_to_cart",
        "cart_view",
        "checkout_started",
        "order_placed",
        "order_paid",
        "sale",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            1,
            "{kind}: {kinds:?}"
        );
    }
    assert_eq!(
        kinds.iter().filter(|k| **k == "refund").count(),
        2,
        "{kinds:?}"
    );
    let visitors: Vec<&String> = rows.iter().filter_map(|r| r.2.as_ref()).collect();
    assert_eq!(
        visitors.len(),
        5,
        "the buyer's own actions carry their hash"
    );
    assert!(visitors.iter().all(|v| *v == visitors[0]));

    // Two days later the day is rolled up (as the housekeeping job does).
    app.clock.advance(Duration::from_secs(2 * 86_400));
    let analytics = analytics::Analytics::new(
        app.db.clone(),
        app.clock.clone(),
        analytics::Settings::default(),
    );
    let rolled = analytics.roll_up().await.unwrap();
    assert!(!rolled.days.is_empty(), "{rolled:?}");
    let funnel: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT visitors, viewers, adders, checkouts, buyers FROM analytics_daily
         WHERE vendor_id = ''",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(funnel, (1, 1, 1, 1, 1));
    let sales: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT order_count, units, revenue_minor, refunds_minor FROM analytics_daily_sales
         WHERE vendor_id = ''",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(sales, (1, 2, total, 1_500));
}

#[tokio::test]
async fn the_overview_shows_staff_revenue_orders_conversion_and_visitors_and_refuses_others() {
    let app = crate::checkout::shop(Vec::new()).await;
    let buyer = app.browser();
    get(&app, &buyer, "/p/fernhill-tee", &[]).await;
    let order = crate::checkout::paid_order_by(&app, &buyer, &[("TEE-S", "2")]).await;
    app.deliver_outbox().await;
    let paid: i64 = sqlx::query_scalar("SELECT paid_minor FROM orders WHERE id = $1")
        .bind(&order)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    events(&app, 5).await;

    let admin = app.browser();
    app.admin(&admin).await;
    let page = app.get_with(&admin, "/admin/analytics?range=today").await;
    let money = format!("€{}.{:02}", paid / 100, paid % 100);
    assert!(page.contains("Revenue by day"), "{page}");
    assert!(page.contains(&money), "the day's revenue, {money}");
    assert!(
        page.contains(r#"role="img""#) && page.contains("<title"),
        "a named chart"
    );
    assert!(
        page.contains(r#"<table class="sr-only">"#),
        "the numbers as a table"
    );
    let data: serde_json::Value = app
        .call(&admin, "admin/analytics/overview", &[("range", "today")])
        .await
        .json()
        .await
        .unwrap();
    let figure = |label: &str| {
        data["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["label"] == label)
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(figure("Revenue"), money);
    assert_eq!(figure("Orders"), "1");
    assert_eq!(figure("Visitors"), "1");
    assert_eq!(figure("Conversion"), "100.00%");
    assert_eq!(data["revenue_by_day"].as_array().unwrap().len(), 1);

    // A period that is not one: a clear 422, not a 500.
    for form in [
        vec![
            ("range", "custom"),
            ("from", "2026-13-01"),
            ("to", "2026-12-31"),
        ],
        vec![
            ("range", "custom"),
            ("from", "2026-02-01"),
            ("to", "2026-01-01"),
        ],
        vec![("range", "forever")],
    ] {
        let res = app.call(&admin, "admin/analytics/overview", &form).await;
        assert_eq!(res.status(), 422, "{form:?}");
    }
    // A shopper may not look; nobody signed in is sent to sign in.
    let shopper = app.browser();
    app.register(&shopper, "Cy", "cy@example.com", "correct horse battery")
        .await;
    let res = app.call(&shopper, "admin/analytics/overview", &[]).await;
    assert_eq!(res.status(), 403);
    let res = app
        .call(&app.browser(), "admin/analytics/overview", &[])
        .await;
    assert_eq!(res.status(), 401);
}
