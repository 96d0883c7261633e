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

/// The events written so far, in order, once `n` are there (the recorder writes every
/// second; a row that counts the same event more than once stands for each of them).
async fn events(app: &TestApp, n: usize) -> Vec<(String, Option<String>, Option<String>)> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = sqlx::query_as::<_, (String, Option<String>, Option<String>, i64)>(
            "SELECT kind, term, visitor, n FROM analytics_events ORDER BY id",
        )
        .fetch_all(app.db.reader())
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(kind, term, visitor, n)| std::iter::repeat_n((kind, term, visitor), n as usize))
        .collect();
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
        .call(
            &admin,
            "admin/analytics/report",
            &[("view", "overview"), ("range", "today")],
        )
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
    assert_eq!(data["chart"]["bars"].as_array().unwrap().len(), 1);

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
        vec![("view", "everything")],
    ] {
        let mut form = form;
        if !form.iter().any(|(k, _)| *k == "view") {
            form.push(("view", "overview"));
        }
        let res = app.call(&admin, "admin/analytics/report", &form).await;
        assert_eq!(res.status(), 422, "{form:?}");
    }
    // A shopper may not look; nobody signed in is sent to sign in.
    let shopper = app.browser();
    app.register(&shopper, "Cy", "cy@example.com", "correct horse battery")
        .await;
    let overview = [("view", "overview")];
    let res = app
        .call(&shopper, "admin/analytics/report", &overview)
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .call(&app.browser(), "admin/analytics/report", &overview)
        .await;
    assert_eq!(res.status(), 401);
}

const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

/// A browser with a user agent of its own (the visitor hash is of the address and the user
/// agent, and every test client comes from 127.0.0.1).
fn other_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(SAFARI)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Waits until `sql` counts at least `n` (events are written every second).
async fn wait_for(app: &TestApp, sql: &str, n: i64) {
    for _ in 0..100 {
        let count: i64 = sqlx::query_scalar(sql)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
        if count >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql}: fewer than {n}");
}

/// The analytics view `view` of the last 7 days, as `client` gets it.
async fn view_data(app: &TestApp, client: &reqwest::Client, view: &str) -> serde_json::Value {
    view_in(app, client, view, "7d").await
}

/// The analytics view `view` for `range`, as `client` gets it.
async fn view_in(
    app: &TestApp,
    client: &reqwest::Client,
    view: &str,
    range: &str,
) -> serde_json::Value {
    let res = app
        .call(
            client,
            "admin/analytics/report",
            &[("view", view), ("range", range)],
        )
        .await;
    assert_eq!(res.status(), 200, "{view}");
    res.json().await.unwrap()
}

/// The texts of table `key`'s rows.
fn rows(data: &serde_json::Value, key: &str) -> Vec<Vec<String>> {
    let table = data["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no table {key}: {data}"));
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c["text"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

fn figure(data: &serde_json::Value, label: &str) -> String {
    data["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .unwrap_or_else(|| panic!("no figure {label}"))["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /admin/analytics/export?...` as `client`.
async fn export(app: &TestApp, client: &reqwest::Client, query: &str) -> reqwest::Response {
    client
        .get(app.url(&format!("/admin/analytics/export?{query}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_view_lists_what_happened_exports_it_as_csv_and_keeps_a_vendor_to_theirs() {
    let app = crate::checkout::shop(Vec::new()).await;
    let admin = app.browser();
    let (admin_id, _) = app.admin(&admin).await;
    let admin_account = auth::find(&app.db, &admin_id).await.unwrap().unwrap();
    // A vendor owns the lamp.
    let (vendor, vera) = app.vendor(&admin_account, "vera@vendor.test").await;
    sqlx::query("UPDATE products SET vendor_id = $1 WHERE slug = 'harbour-lamp'")
        .bind(&vera)
        .execute(app.db.reader())
        .await
        .unwrap();

    // A buyer looks at both products, searches three times and buys two tees.
    let buyer = app.browser();
    get(&app, &buyer, "/p/fernhill-tee", &[]).await;
    get(&app, &buyer, "/p/harbour-lamp", &[]).await;
    get(&app, &buyer, "/search?q=Fernhill", &[]).await;
    get(&app, &buyer, "/search?q=zeppelin", &[]).await;
    get(&app, &buyer, "/search?q=ZEPPELIN", &[]).await;
    crate::checkout::paid_order_by(&app, &buyer, &[("TEE-S", "2")]).await;
    app.deliver_outbox().await;
    // A guest (another browser) puts the lamp and a tee in their cart and leaves.
    let guest = other_browser();
    get(&app, &guest, "/p/harbour-lamp", &[("user-agent", SAFARI)]).await;
    for sku in ["LAMP-1", "TEE-S"] {
        let id = shop_testkit::variant_id(&app.db, sku).await.to_string();
        let res = app
            .call(
                &guest,
                "cart/add",
                &[("variant_id", &id), ("quantity", "1")],
            )
            .await;
        assert_eq!(res.status(), 200, "{sku}");
    }
    wait_for(
        &app,
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM analytics_events WHERE kind = 'add_to_cart'",
        3,
    )
    .await;
    wait_for(
        &app,
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM analytics_events WHERE kind = 'search'",
        3,
    )
    .await;
    // Two hours later the roll-up job finds the guest's cart abandoned (once, however often
    // it runs). Its clock runs ahead; the shop's stays, so staff stay signed in.
    let later = shop_core::Clock::fixed(shop_core::Timestamp(
        app.clock.now().millis() + 2 * 3_600_000,
    ));
    let analytics =
        analytics::Analytics::new(app.db.clone(), later, analytics::Settings::default());
    assert_eq!(analytics.roll_up().await.unwrap().abandoned_carts, 1);
    assert_eq!(analytics.roll_up().await.unwrap().abandoned_carts, 0);

    // Products: ranked by each measure, named and linked.
    let products = view_data(&app, &admin, "products").await;
    let names = |key: &str| -> Vec<String> {
        rows(&products, key)
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    };
    assert_eq!(names("top-views"), ["Harbour Lamp", "Fernhill Tee"]);
    assert_eq!(names("top-adds"), ["Fernhill Tee", "Harbour Lamp"]);
    assert_eq!(names("top-units"), ["Fernhill Tee"]);
    assert_eq!(
        rows(&products, "top-revenue")[0],
        ["Fernhill Tee", "1", "2", "2", "€30.00", "200.00%"]
    );
    let page = app
        .get_with(&admin, "/admin/analytics/products?range=7d")
        .await;
    assert!(page.contains(r#"href="/p/harbour-lamp""#), "{page}");
    assert!(
        page.contains(r#"href="/admin/analytics/funnel?range=7d""#),
        "the tabs keep the period"
    );

    // Searches: counted in lower case, linked to the shop's search.
    let searches = view_data(&app, &admin, "searches").await;
    assert_eq!(
        rows(&searches, "top-searches"),
        [["zeppelin", "2", "0", "2"], ["fernhill", "1", "0", "0"]]
    );
    assert_eq!(
        rows(&searches, "trending-searches"),
        [["zeppelin", "2", "0", "+2"]]
    );
    assert_eq!(
        rows(&searches, "zero-result-searches"),
        [["zeppelin", "2", "2"]]
    );
    let page = app
        .get_with(&admin, "/admin/analytics/searches?range=7d")
        .await;
    assert!(page.contains(r#"href="/search?q=zeppelin""#), "{page}");

    // The funnel: two visitors, both viewed and added, one checked out and paid.
    let funnel = view_data(&app, &admin, "funnel").await;
    let steps: Vec<(String, String, String)> = rows(&funnel, "funnel")
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[5].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            ("Visitors".into(), "2".into(), "—".into()),
            ("Product view".into(), "2".into(), "0".into()),
            ("Add to cart".into(), "2".into(), "0".into()),
            ("Checkout".into(), "1".into(), "1".into()),
            ("Paid".into(), "1".into(), "0".into()),
        ]
    );
    assert_eq!(funnel["chart"]["bars"].as_array().unwrap().len(), 5);
    let page = app.get_with(&admin, "/admin/analytics/funnel").await;
    assert!(page.contains(r#"id="funnel-chart""#));

    // Abandoned carts: the guest's, at today's prices, not bought (yet).
    let carts = view_data(&app, &admin, "carts").await;
    assert_eq!(figure(&carts, "Abandoned carts"), "1");
    assert_eq!(figure(&carts, "Value left"), "€104.00");
    let left = rows(&carts, "abandoned-carts");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0][1..], ["Guest", "2", "€104.00", "No", "—"]);

    // CSV: the same table, numbers plain, named after the view, table and period.
    let res = export(&app, &admin, "view=products&table=top-revenue&range=7d").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("analytics-products-top-revenue-"),
        "{disposition}"
    );
    let csv = res.text().await.unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "Product,Views,Adds to cart,Units sold,Sales,Bought per view",
            "Fernhill Tee,1,2,2,30.00,200.00",
        ]
    );
    let csv = export(
        &app,
        &admin,
        "view=searches&table=zero-result-searches&range=today",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(csv, "Search,Found nothing,Searches\nzeppelin,2,2\n");
    // Not a table of the view, not a view, nobody signed in, a shopper: refused.
    let res = export(&app, &admin, "view=products&table=abandoned-carts").await;
    assert_eq!(res.status(), 422);
    let res = export(&app, &admin, "view=everything&table=x").await;
    assert_eq!(res.status(), 422);
    let res = export(&app, &app.browser(), "view=products&table=top-views").await;
    assert_eq!(res.status(), 303);
    let res = export(&app, &buyer, "view=products&table=top-views").await;
    assert!(
        res.status() == 403 || res.status() == 303,
        "{}",
        res.status()
    );

    // The vendor sees their lamp only: its views, its part of the cart; no searches.
    let theirs = view_data(&app, &vendor, "products").await;
    assert_eq!(theirs["staff"], false);
    for key in ["top-views", "top-adds"] {
        let names: Vec<String> = rows(&theirs, key)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(names, ["Harbour Lamp"], "{key}");
    }
    assert!(rows(&theirs, "top-units").is_empty());
    let their_carts = view_data(&app, &vendor, "carts").await;
    assert_eq!(figure(&their_carts, "Value left"), "€89.00");
    assert_eq!(
        rows(&their_carts, "abandoned-carts")[0][1..],
        ["Guest", "1", "€89.00", "No"]
    );
    assert!(rows(&view_data(&app, &vendor, "searches").await, "top-searches").is_empty());
    let csv = export(&app, &vendor, "view=products&table=top-views&range=7d")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains("Harbour Lamp") && !csv.contains("Fernhill"),
        "{csv}"
    );

    // The guest comes back and buys: the abandoned cart shows the order.
    crate::checkout::paid_order_by(&app, &guest, &[]).await;
    app.deliver_outbox().await;
    let carts = view_data(&app, &admin, "carts").await;
    assert_eq!(figure(&carts, "Bought later"), "1");
    assert_eq!(figure(&carts, "Recovery rate"), "100.00%");
    let left = rows(&carts, "abandoned-carts");
    assert!(left[0][4].starts_with("HS-"), "{left:?}");
    let page = app
        .get_with(&admin, "/admin/analytics/carts?range=7d")
        .await;
    assert!(page.contains(r#"href="/admin/orders/"#), "links the order");
}

/// The first abandoned cart kept with (or without) a customer: its id and when it was left.
async fn left_cart(app: &TestApp, customer: bool) -> (String, String) {
    let sql = if customer {
        "SELECT cart_id, last_activity FROM analytics_abandoned_carts
         WHERE vendor_id = '' AND user_id IS NOT NULL ORDER BY last_activity"
    } else {
        "SELECT cart_id, last_activity FROM analytics_abandoned_carts
         WHERE vendor_id = '' AND user_id IS NULL ORDER BY last_activity"
    };
    let (id, at): (String, i64) = sqlx::query_as(sql)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    (id, at.to_string())
}

/// The row of the abandoned-carts table whose customer column is `who`.
async fn cart_row(app: &TestApp, admin: &reqwest::Client, who: &str) -> Vec<String> {
    let carts = view_data(app, admin, "carts").await;
    rows(&carts, "abandoned-carts")
        .into_iter()
        .find(|r| r[1] == who)
        .unwrap_or_else(|| panic!("no cart of {who}: {carts}"))
}

#[tokio::test]
async fn a_customer_gets_one_reminder_of_what_is_in_their_left_cart_and_can_stop_them() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let admin = app.browser();
    app.admin(&admin).await;
    let ada = app.browser();
    app.register(&ada, "Ada", "ada@example.com", "correct horse battery")
        .await;
    let pan = shop_testkit::variant_id(&app.db, "PAN-1").await.to_string();
    let kettle = shop_testkit::variant_id(&app.db, "KET-1").await.to_string();
    let res = app
        .call(&ada, "cart/add", &[("variant_id", &pan), ("quantity", "2")])
        .await;
    assert_eq!(res.status(), 200);
    let guest = other_browser();
    let res = app
        .call(
            &guest,
            "cart/add",
            &[("variant_id", &kettle), ("quantity", "1")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let later = shop_core::Clock::fixed(shop_core::Timestamp(
        app.clock.now().millis() + 2 * 3_600_000,
    ));
    let analytics = analytics::Analytics::new(
        app.db.clone(),
        later.clone(),
        analytics::Settings::default(),
    );
    assert_eq!(analytics.roll_up().await.unwrap().abandoned_carts, 2);

    // Staff see a button for the customer's cart; a guest has no address.
    assert_eq!(
        cart_row(&app, &admin, "ada@example.com").await[5],
        "Send reminder"
    );
    assert_eq!(cart_row(&app, &admin, "Guest").await[5], "—");
    let page = app
        .get_with(&admin, "/admin/analytics/carts?range=today")
        .await;
    assert!(
        page.contains(r#"action="/api/admin/analytics/remind""#),
        "a form that works with JavaScript off"
    );
    let (cart, left_at) = left_cart(&app, true).await;
    let (guest_cart, guest_left_at) = left_cart(&app, false).await;
    let remind = |client: &reqwest::Client, cart: &str, at: &str| {
        let (client, cart, at) = (client.clone(), cart.to_owned(), at.to_owned());
        let app = &app;
        async move {
            app.call(
                &client,
                "admin/analytics/remind",
                &[("cart_id", cart.as_str()), ("left_at", at.as_str())],
            )
            .await
        }
    };
    // Not for a shopper, not for a guest's cart, not for a cart that was never left.
    let res = remind(&ada, &cart, &left_at).await;
    assert_eq!(res.status(), 403);
    let res = remind(&admin, &guest_cart, &guest_left_at).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res.text().await.unwrap().contains("a guest's"));
    let res = remind(&admin, &cart, "12").await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res.text().await.unwrap().contains("No such abandoned cart"));

    // A plain form post (JavaScript off) goes back to the report with the outcome.
    let back = "/admin/analytics/carts?range=today";
    let reminded = [("cart_id", cart.as_str()), ("left_at", left_at.as_str())];
    let res = app
        .post_form(&admin, "admin/analytics/remind", back, &reminded)
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/admin/analytics/carts?range=today")
            && location.contains("flash=reminder_queued"),
        "{location}"
    );
    // Once per cart: a second click is refused, and with JavaScript off the report says so.
    let res = remind(&admin, &cart, &left_at).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res.text().await.unwrap().contains("already sent"));
    let res = app
        .post_form(&admin, "admin/analytics/remind", back, &reminded)
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = app.get_with(&admin, back).await;
    assert!(
        page.contains("A reminder about this cart was already sent."),
        "{page}"
    );
    assert!(cart_row(&app, &admin, "ada@example.com").await[5].starts_with("Sent "));

    // The mail: what is in the cart now, at today's prices, a link to the cart and one to
    // stop reminders.
    app.deliver_outbox().await;
    let subject = "You left something in your cart";
    let sent: Vec<String> = app
        .mails()
        .into_iter()
        .filter(|m| m.contains(subject))
        .collect();
    assert_eq!(sent.len(), 1, "one mail");
    let mail = &sent[0];
    assert!(mail.contains("To: ada@example.com"), "{mail}");
    for part in ["2 × Cast Iron Pan", "€60.00", "/cart", "/reminders/stop?u="] {
        assert!(mail.contains(part), "{part} in {mail}");
    }
    let start = mail.find("/reminders/stop?u=").unwrap();
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect::<String>()
        .replace("&amp;", "&");
    let query: std::collections::HashMap<String, String> =
        form_urlencoded::parse(link.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let (user, token) = (query["u"].clone(), query["t"].clone());

    // The link opens a page with a button (a mail scanner opening it stops nothing).
    let page = app.get_with(&app.browser(), &link).await;
    assert!(page.contains("Stop these emails"), "{page}");
    let stopped: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analytics_reminder_optouts")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(stopped, 0);
    // A forged or borrowed token stops nothing (and the page says so, with JavaScript off).
    let stranger = app.browser();
    let res = app
        .post_form(
            &stranger,
            "reminders/stop",
            &link,
            &[("user", user.as_str()), ("token", "forged")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = app.get_with(&stranger, &link).await;
    assert!(page.contains("This link is not valid."), "{page}");
    for (u, t) in [(user.as_str(), "forged"), ("someone-else", token.as_str())] {
        let res = app
            .call(&stranger, "reminders/stop", &[("user", u), ("token", t)])
            .await;
        assert!(res.status().is_client_error(), "{}", res.status());
        assert!(res.text().await.unwrap().contains("not valid"));
    }
    // The button, with JavaScript off: stopped, and told so on the home page.
    for _ in 0..2 {
        let res = app
            .post_form(
                &stranger,
                "reminders/stop",
                &link,
                &[("user", user.as_str()), ("token", token.as_str())],
            )
            .await;
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(res.headers()["location"], "/?flash=reminders_stopped");
    }
    let stopped: Vec<String> = sqlx::query_scalar("SELECT user_id FROM analytics_reminder_optouts")
        .fetch_all(app.db.reader())
        .await
        .unwrap();
    assert_eq!(stopped, std::slice::from_ref(&user));

    // Another cart of hers left later: no reminder, she opted out.
    let other = analytics::carts::AbandonedCart {
        cart_id: "another-cart".to_owned(),
        last_activity: app.clock.now().millis() - 60_000,
        user_id: Some(user.clone()),
        units: 1,
        value_minor: 9_000,
        currency: "EUR".to_owned(),
        order_id: None,
        order_number: None,
        converted_at: None,
        reminded_at: None,
    };
    analytics
        .import_abandoned(vec![(String::new(), other.clone())])
        .await
        .unwrap();
    let row = rows(&view_data(&app, &admin, "carts").await, "abandoned-carts")
        .into_iter()
        .find(|r| r[3] == "€90.00")
        .expect("the other cart");
    assert_eq!(row[5], "Opted out");
    let res = remind(&admin, "another-cart", &other.last_activity.to_string()).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res.text().await.unwrap().contains("asked not to"));
    assert_eq!(
        app.mails().iter().filter(|m| m.contains(subject)).count(),
        1,
        "still one mail"
    );

    // A customer who empties their cart before the mail goes out gets none.
    let bob = app.browser();
    app.register(&bob, "Bob", "bob@example.com", "correct horse battery")
        .await;
    let res = app
        .call(
            &bob,
            "cart/add",
            &[("variant_id", &kettle), ("quantity", "1")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let much_later = shop_core::Clock::fixed(shop_core::Timestamp(
        app.clock.now().millis() + 4 * 3_600_000,
    ));
    let analytics =
        analytics::Analytics::new(app.db.clone(), much_later, analytics::Settings::default());
    assert_eq!(analytics.roll_up().await.unwrap().abandoned_carts, 1);
    let (bob_cart, bob_left_at): (String, i64) = sqlx::query_as(
        "SELECT cart_id, last_activity FROM analytics_abandoned_carts
         WHERE vendor_id = '' AND user_id = (SELECT id FROM users WHERE email = 'bob@example.com')",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    let res = remind(&admin, &bob_cart, &bob_left_at.to_string()).await;
    assert_eq!(res.status(), 200);
    let res = app.call(&bob, "cart/clear", &[]).await;
    assert_eq!(res.status(), 200);
    app.deliver_outbox().await;
    assert!(
        app.last_mail("bob@example.com", subject).is_none(),
        "nothing to remind Bob of"
    );
}

#[tokio::test]
async fn made_up_history_adds_up_in_the_dashboards_and_only_goes_into_a_shop_without_orders() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let settings = analytics::Settings::default();
    let shop = shop::seed::history::Shop {
        db: &app.db,
        clock: &app.clock,
        analytics: &settings,
        currency: shop_core::Currency::Eur,
        vat_rate_bp: 2_100,
    };
    let options = shop::seed::history::HistoryOptions {
        days: 20,
        orders: 300,
    };
    let made = shop::seed::history::generate(&shop, options).await.unwrap();
    assert!((250..=350).contains(&made.orders), "{made:?}");
    assert!(made.events > made.orders * 20, "{made:?}");
    let (orders, kept, refunded): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(total_minor) AS BIGINT), CAST(SUM(refunded_minor) AS BIGINT)
         FROM orders",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(orders, made.orders);
    assert!(refunded > 0, "a few orders are refunded");
    // Every day but today is rolled up; the dashboards add the roll-ups and today alike.
    let days: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analytics_days")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(days, 19);
    let admin = app.browser();
    app.admin(&admin).await;
    let data = view_in(&app, &admin, "overview", "30d").await;
    let revenue = data["figures"][0]["value"].as_str().unwrap().to_owned();
    let net = kept - refunded;
    assert_eq!(
        revenue,
        shop_core::Money::new(net, shop_core::Currency::Eur).to_string()
    );
    assert_eq!(
        data["figures"][1]["value"],
        shop_core::money::count_text(orders)
    );
    let carts = view_in(&app, &admin, "carts", "30d").await;
    assert_eq!(
        figure(&carts, "Abandoned carts"),
        shop_core::money::count_text(made.abandoned_carts)
    );
    // The next real order is numbered after the made-up ones.
    let last: i64 = sqlx::query_scalar("SELECT last FROM order_numbers WHERE id = 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let highest: i64 = sqlx::query_scalar("SELECT MAX(number) FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(last, highest);
    // A shop with orders is left alone.
    let again = shop::seed::history::generate(&shop, options).await;
    assert!(again.is_err());
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(after, orders);
}
