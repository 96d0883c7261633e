//! The cart through the real router, as browsers use it: server functions called the way the
//! hydrated page calls them (JavaScript on) and plain form posts (JavaScript off); the header
//! count; tampered requests; the merge at sign-in; one customer's cart on two instances;
//! concurrent changes; flagged lines; the clean-up of stale guest carts and their sessions.

use serde_json::Value;

use crate::common::{TestApp, TestOptions};

/// A T-shirt in two sizes (S: 5 in stock, M: 10), a kettle (2 in stock) and a draft lamp.
const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":10,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
{"sku":"KET-1","name":"Copperleaf Kettle","slug":"copperleaf-kettle","description":"A stovetop kettle.","category":"Kitchen > Kettles","price_minor":4000,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{}}
{"sku":"LAMP-1","name":"Unreleased Lamp","slug":"unreleased-lamp","description":"Not yet.","category":"Home > Lamps","price_minor":9000,"currency":"EUR","stock":4,"brand":"Lumen","attributes":{},"status":"draft"}
"#;

const PASSWORD: &str = "correct horse battery";

async fn shop() -> TestApp {
    TestApp::with_catalog(TestOptions::default(), CATALOG).await
}

async fn variant(app: &TestApp, sku: &str) -> String {
    shop_testkit::variant_id(&app.db, sku).await.to_string()
}

async fn json(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

/// Calls a cart server function (JavaScript on); returns status and body.
async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = app.call(client, endpoint, form).await;
    let status = res.status().as_u16();
    (status, json(res).await)
}

async fn add(app: &TestApp, client: &reqwest::Client, sku: &str, quantity: &str) -> Value {
    let id = variant(app, sku).await;
    let (status, body) = call(
        app,
        client,
        "cart/add",
        &[("variant_id", &id), ("quantity", quantity)],
    )
    .await;
    assert_eq!(status, 200, "add {sku}: {body}");
    body
}

/// The cart page's data as the page loads it.
async fn cart(app: &TestApp, client: &reqwest::Client) -> Value {
    let (status, body) = call(app, client, "cart", &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// (SKU, quantity) of each line.
fn lines(cart: &Value) -> Vec<(String, i64)> {
    cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn line_id(cart: &Value, sku: &str) -> String {
    cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == sku)
        .unwrap_or_else(|| panic!("no {sku} line in {cart}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The page's HTML with Leptos's hydration comments taken out, so text can be matched.
fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out.replace("<!>", "")
}

/// The number the header shows beside "Cart".
fn header_count(html: &str) -> i64 {
    let html = visible(html);
    let marker = "data-testid=\"cart-count\"";
    let at = html.find(marker).expect("cart count in the header") + marker.len();
    let text = &html[at..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find('<').unwrap()].trim().parse().unwrap()
}

fn error_message(body: &Value) -> String {
    body["Invalid"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not a form error: {body}"))
        .to_owned()
}

async fn cart_lines_in_db(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT v.sku, l.quantity FROM cart_lines l JOIN product_variants v ON v.id = l.variant_id
         ORDER BY v.sku",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_guest_adds_changes_removes_and_clears_and_the_header_counts_along() {
    let app = shop().await;
    let guest = app.browser();
    let res = app.get("/cart").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let empty = visible(&app.get_with(&guest, "/cart").await);
    assert!(empty.contains("Your cart is empty."), "{empty}");
    assert_eq!(header_count(&empty), 0);
    let carts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM carts")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(carts, 0, "looking at the cart creates none");

    let added = add(&app, &guest, "TEE-M", "2").await;
    assert_eq!(added["items"], 2);
    assert_eq!(added["message"], "Added to your cart.");
    add(&app, &guest, "TEE-S", "1").await;
    // The hydrated page's ActionForm appends the (nameless) submit button as `=`.
    let m = variant(&app, "TEE-M").await;
    let (status, body) = call(
        &app,
        &guest,
        "cart/add",
        &[("variant_id", &m), ("quantity", "1"), ("", "")],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let c = cart(&app, &guest).await;
    assert_eq!(lines(&c), [("TEE-M".into(), 3), ("TEE-S".into(), 1)]);
    assert_eq!(c["items"], 4);
    assert_eq!(c["subtotal"], "€66.00", "3 × 17.00 + 15.00");
    assert_eq!(c["ready_for_checkout"], true);
    let m = &c["lines"][0];
    assert_eq!(m["options"], "Size: M");
    assert_eq!(m["unit_price"], "€17.00");
    assert_eq!(m["line_total"], "€51.00");
    assert_eq!(m["href"], "/p/fernhill-tee?variant=TEE-M");

    // Looking at the cart writes nothing, not even the session.
    let touched = || async {
        sqlx::query_scalar::<_, i64>("SELECT MAX(updated_at) FROM sessions")
            .fetch_one(app.db.reader())
            .await
            .unwrap()
    };
    let before = touched().await;
    app.clock.advance(std::time::Duration::from_secs(5));
    let page = app.get_with(&guest, "/cart").await;
    cart(&app, &guest).await;
    assert_eq!(touched().await, before, "a view saves no session");
    assert_eq!(header_count(&page), 4);
    let page = visible(&page);
    assert!(page.contains("data-sku=\"TEE-M\""), "{page}");
    assert!(page.contains("€66.00"));
    assert!(page.contains("href=\"/checkout\""), "checkout is open");
    assert_eq!(header_count(&app.get_with(&guest, "/").await), 4);

    let m_line = line_id(&c, "TEE-M");
    let (status, body) = call(
        &app,
        &guest,
        "cart/update",
        &[("line_id", &m_line), ("quantity", "7")],
    )
    .await;
    assert_eq!((status, body), (200, Value::Null));
    let (status, body) = call(
        &app,
        &guest,
        "cart/update",
        &[("line_id", &m_line), ("quantity", "12")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, "Only 10 available, so the quantity is now 10.");
    assert_eq!(lines(&cart(&app, &guest).await)[0], ("TEE-M".into(), 10));

    let (status, _) = call(&app, &guest, "cart/remove", &[("line_id", &m_line)]).await;
    assert_eq!(status, 200);
    assert_eq!(lines(&cart(&app, &guest).await), [("TEE-S".into(), 1)]);
    let (status, _) = call(&app, &guest, "cart/clear", &[]).await;
    assert_eq!(status, 200);
    let c = cart(&app, &guest).await;
    assert!(lines(&c).is_empty());
    assert_eq!(c["subtotal"], Value::Null);
    assert_eq!(header_count(&app.get_with(&guest, "/").await), 0);
}

#[tokio::test]
async fn without_javascript_each_action_is_a_form_post_that_returns_to_the_cart() {
    let app = shop().await;
    let guest = app.browser();
    let m = variant(&app, "TEE-M").await;
    let res = app
        .post_form(
            &guest,
            "cart/add",
            "/p/fernhill-tee?variant=TEE-M",
            &[("variant_id", &m), ("quantity", "2")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/cart");
    let page = visible(&app.get_with(&guest, "/cart").await);
    assert!(page.contains("data-testid=\"cart-notice\""), "{page}");
    assert!(page.contains("Added to your cart."));
    assert!(page.contains("value=\"2\""), "the quantity input shows 2");
    let again = visible(&app.get_with(&guest, "/cart").await);
    assert!(
        !again.contains("Added to your cart."),
        "a notice shows once"
    );

    // More than in stock: capped, and the cart page says so.
    let res = app
        .post_form(
            &guest,
            "cart/add",
            "/p/fernhill-tee?variant=TEE-M",
            &[("variant_id", &m), ("quantity", "9")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/cart");
    let page = visible(&app.get_with(&guest, "/cart").await);
    assert!(
        page.contains("Only 10 available, so your cart now has 10."),
        "{page}"
    );

    let line = line_id(&cart(&app, &guest).await, "TEE-M");
    let res = app
        .post_form(
            &guest,
            "cart/update",
            "/cart",
            &[("line_id", &line), ("quantity", "4")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/cart");
    assert_eq!(lines(&cart(&app, &guest).await), [("TEE-M".into(), 4)]);

    // A bad quantity comes back to the cart page with the message, and changes nothing.
    let res = app
        .post_form(
            &guest,
            "cart/update",
            "/cart",
            &[("line_id", &line), ("quantity", "0")],
        )
        .await;
    assert!(res.status().is_redirection());
    // Back to the page the form was on (its Referer); the error waits in the session, not
    // in the URL, and is shown once.
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/cart");
    let page = visible(&app.get_with(&guest, &location).await);
    assert!(page.contains("Choose a quantity from 1 to 99."), "{page}");
    let again = visible(&app.get_with(&guest, &location).await);
    assert!(
        !again.contains("Choose a quantity from 1 to 99."),
        "{again}"
    );
    assert_eq!(lines(&cart(&app, &guest).await), [("TEE-M".into(), 4)]);

    let res = app
        .post_form(&guest, "cart/remove", "/cart", &[("line_id", &line)])
        .await;
    assert_eq!(res.headers()["location"], "/cart");
    assert!(lines(&cart(&app, &guest).await).is_empty());
    add(&app, &guest, "KET-1", "1").await;
    let res = app.post_form(&guest, "cart/clear", "/cart", &[]).await;
    assert_eq!(res.headers()["location"], "/cart");
    assert!(lines(&cart(&app, &guest).await).is_empty());
}

#[tokio::test]
async fn tampered_cart_requests_are_refused_with_a_clear_error_and_change_nothing() {
    let app = shop().await;
    let shopper = app.browser();
    let other = app.browser();
    add(&app, &shopper, "TEE-M", "2").await;
    add(&app, &other, "TEE-S", "3").await;
    let their_line = line_id(&cart(&app, &other).await, "TEE-S");
    let my_line = line_id(&cart(&app, &shopper).await, "TEE-M");
    let before = cart_lines_in_db(&app).await;
    let m = variant(&app, "TEE-M").await;

    for quantity in ["0", "-1", "100", "99999999999999999999", "1.5", "abc", ""] {
        let (status, body) = call(
            &app,
            &shopper,
            "cart/add",
            &[("variant_id", &m), ("quantity", quantity)],
        )
        .await;
        assert_eq!(status, 422, "add quantity {quantity:?}: {body}");
        assert_eq!(error_message(&body), "Choose a quantity from 1 to 99.");
        let (status, body) = call(
            &app,
            &shopper,
            "cart/update",
            &[("line_id", &my_line), ("quantity", quantity)],
        )
        .await;
        assert_eq!(status, 422, "update quantity {quantity:?}: {body}");
        assert_eq!(error_message(&body), "Choose a quantity from 1 to 99.");
    }

    let unknown = uuid::Uuid::now_v7().to_string();
    let lamp = variant(&app, "LAMP-1").await;
    for (id, expected) in [
        (unknown.as_str(), "We could not find that product."),
        ("' OR 1=1 --", "We could not find that product."),
        (lamp.as_str(), "That item is no longer on sale."),
    ] {
        let (status, body) = call(
            &app,
            &shopper,
            "cart/add",
            &[("variant_id", id), ("quantity", "1")],
        )
        .await;
        assert_eq!(status, 422, "{id}: {body}");
        assert_eq!(error_message(&body), expected);
    }

    // A price (or any field the form does not have) is never taken from the browser.
    for extra in ["price", "unit_price_minor", "total"] {
        let (status, body) = call(
            &app,
            &shopper,
            "cart/add",
            &[("variant_id", &m), ("quantity", "1"), (extra, "1")],
        )
        .await;
        assert_eq!(status, 422, "{extra}: {body}");
        let message = error_message(&body);
        assert!(
            message.contains(extra) && message.contains("Prices and totals"),
            "{message}"
        );
        let (status, _) = call(
            &app,
            &shopper,
            "cart/update",
            &[("line_id", &my_line), ("quantity", "1"), (extra, "0")],
        )
        .await;
        assert_eq!(status, 422);
    }

    // Another shopper's line is not in this cart, whatever is done with it.
    let (status, body) = call(
        &app,
        &shopper,
        "cart/update",
        &[("line_id", &their_line), ("quantity", "1")],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_message(&body), "That line is not in your cart.");
    let (status, body) = call(&app, &shopper, "cart/remove", &[("line_id", &their_line)]).await;
    assert_eq!(status, 422);
    assert_eq!(error_message(&body), "That line is not in your cart.");
    let (status, _) = call(&app, &shopper, "cart/remove", &[("line_id", "not-an-id")]).await;
    assert_eq!(status, 422);
    // A visitor without any cart cannot reach a line either.
    let stranger = app.browser();
    let (status, _) = call(&app, &stranger, "cart/remove", &[("line_id", &their_line)]).await;
    assert_eq!(status, 422);

    // A post from another site is refused before it reaches the cart.
    let res = shopper
        .post(app.url("/api/cart/add"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("variant_id", m.as_str()), ("quantity", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    assert_eq!(cart_lines_in_db(&app).await, before, "nothing changed");
    let stray: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM carts")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(stray, 2, "no cart was created for the stranger");
}

#[tokio::test]
async fn listings_offer_add_to_cart_for_single_variant_products_only() {
    let app = shop().await;
    let kettle = variant(&app, "KET-1").await;
    let kettles = visible(&app.get_with(&app.browser(), "/c/kettles").await);
    assert!(
        kettles.contains(&format!("name=\"variant_id\" value=\"{kettle}\"")),
        "{kettles}"
    );
    assert!(kettles.contains("Add to cart: Copperleaf Kettle"));
    let tees = visible(&app.get_with(&app.browser(), "/c/t-shirts").await);
    assert!(tees.contains("Fernhill Tee"));
    assert!(
        !tees.contains("name=\"variant_id\""),
        "a product with sizes is added from its page"
    );
    // The product page adds the chosen variant.
    let m = variant(&app, "TEE-M").await;
    let page = visible(
        &app.get_with(&app.browser(), "/p/fernhill-tee?variant=TEE-M")
            .await,
    );
    assert!(page.contains(&format!("name=\"variant_id\" value=\"{m}\"")));
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_customers_at_sign_in_capped_by_stock_with_a_notice() {
    let app = shop().await;
    let phone = app.browser();
    app.register(&phone, "Ada", "ada@example.com", PASSWORD)
        .await;
    add(&app, &phone, "TEE-S", "4").await;

    // On a laptop, before signing in: 3 more of the 5 in stock, and a kettle.
    let laptop = app.browser();
    add(&app, &laptop, "TEE-S", "3").await;
    add(&app, &laptop, "KET-1", "1").await;
    let res = app
        .post_form(
            &laptop,
            "account/login",
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "/cart"),
            ],
        )
        .await;
    assert!(res.status().is_redirection());
    assert_eq!(
        res.headers()["location"],
        "/cart?flash=signed_in_cart_changed"
    );
    let page = visible(
        &app.get_with(&laptop, "/cart?flash=signed_in_cart_changed")
            .await,
    );
    assert!(page.contains("some items changed"), "{page}");
    assert!(
        page.contains("Fewer of these are in it than the two carts held together"),
        "{page}"
    );
    assert!(page.contains("Fernhill Tee"));
    let c = cart(&app, &laptop).await;
    assert_eq!(lines(&c), [("TEE-S".into(), 5), ("KET-1".into(), 1)]);
    // The same cart on the phone.
    assert_eq!(lines(&cart(&app, &phone).await), lines(&c));

    let guests: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM carts WHERE user_id IS NULL")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(guests, 0, "the guest cart is gone");
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE anchor IS NOT NULL")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(held, 0, "no session holds a guest cart any more");

    // Signing out leaves the customer's cart with the account; the browser is a new guest.
    let res = app.call(&laptop, "account/logout", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(lines(&cart(&app, &laptop).await).is_empty());
    assert_eq!(lines(&cart(&app, &phone).await).len(), 2);

    // A guest cart that fits merges without a notice.
    add(&app, &laptop, "TEE-M", "1").await;
    let res = app.login(&laptop, "ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        lines(&cart(&app, &laptop).await),
        [
            ("TEE-S".into(), 5),
            ("KET-1".into(), 1),
            ("TEE-M".into(), 1)
        ]
    );
}

#[tokio::test]
async fn a_customers_cart_follows_them_to_another_instance_and_device() {
    let first = shop().await;
    let url = first.config.database_url.expose().to_owned();
    // A second instance on the same database, as behind a load balancer.
    let second = TestApp::spawn_with(TestOptions {
        env: vec![("DATABASE_URL", url)],
        ..TestOptions::default()
    })
    .await;
    let phone = first.browser();
    first
        .register(&phone, "Grace", "grace@example.com", PASSWORD)
        .await;
    add(&first, &phone, "KET-1", "2").await;

    let desktop = second.browser();
    let res = second.login(&desktop, "grace@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let c = cart(&second, &desktop).await;
    assert_eq!(lines(&c), [("KET-1".into(), 2)]);
    assert_eq!(header_count(&second.get_with(&desktop, "/").await), 2);
    let line = line_id(&c, "KET-1");
    let (status, _) = call(
        &second,
        &desktop,
        "cart/update",
        &[("line_id", &line), ("quantity", "1")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(lines(&cart(&first, &phone).await), [("KET-1".into(), 1)]);
}

#[tokio::test]
async fn twenty_concurrent_quantity_changes_and_ten_adds_end_in_a_consistent_state() {
    let app = shop().await;
    let shopper = app.browser();
    add(&app, &shopper, "TEE-M", "1").await;
    let line = line_id(&cart(&app, &shopper).await, "TEE-M");
    // Thirty tabs of one browser (one session) at once: twenty set quantities from 1 to 20
    // (10 are in stock), ten add a unit.
    let m = variant(&app, "TEE-M").await;
    let mut tasks = Vec::new();
    for i in 1..=30_i64 {
        let (client, base, line, m) = (
            shopper.clone(),
            app.address.clone(),
            line.clone(),
            m.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (endpoint, form) = if i <= 20 {
                (
                    "cart/update",
                    vec![("line_id", line), ("quantity", i.to_string())],
                )
            } else {
                (
                    "cart/add",
                    vec![("variant_id", m), ("quantity", "1".to_owned())],
                )
            };
            client
                .post(format!("{base}/api/{endpoint}"))
                .header("origin", &base)
                .header("sec-fetch-site", "same-origin")
                .header("accept", "application/json")
                .form(&form)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let rows = cart_lines_in_db(&app).await;
    assert_eq!(rows.len(), 1, "one line, never a duplicate: {rows:?}");
    let (sku, quantity) = &rows[0];
    assert_eq!(sku, "TEE-M");
    assert!(
        (1..=10).contains(quantity),
        "within what was asked and in stock: {quantity}"
    );
    let c = cart(&app, &shopper).await;
    assert_eq!(c["items"].as_i64(), Some(*quantity));
    assert_eq!(
        c["lines"][0]["line_total"],
        format!("€{}.00", 17 * quantity)
    );
}

#[tokio::test]
async fn price_changes_and_lines_that_cannot_be_bought_are_flagged_and_block_checkout() {
    let app = shop().await;
    let shopper = app.browser();
    add(&app, &shopper, "TEE-M", "2").await;
    add(&app, &shopper, "KET-1", "2").await;
    let mut tx = app.db.begin().await.unwrap();
    for sql in [
        "UPDATE product_variants SET price_minor = 1900 WHERE sku = 'TEE-M'",
        "UPDATE product_variants SET on_hand = 1 WHERE sku = 'KET-1'",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();

    let c = cart(&app, &shopper).await;
    let tee = &c["lines"][0];
    assert_eq!(tee["unit_price"], "€19.00", "the current price counts");
    assert_eq!(
        tee["price_change"],
        "The price has gone up from €17.00 to €19.00 since you added this."
    );
    assert_eq!(
        c["lines"][1]["problem"],
        "Only 1 left. Lower the quantity to 1 to go to checkout."
    );
    assert_eq!(c["ready_for_checkout"], false);
    assert_eq!(c["subtotal"], "€38.00", "only what can be bought as it is");
    assert_eq!(c["items"], 4);
    let page = visible(&app.get_with(&shopper, "/cart").await);
    assert!(page.contains("data-testid=\"price-changed\""));
    assert!(page.contains("data-testid=\"line-problem\""));
    assert!(!page.contains("href=\"/checkout\""), "checkout is closed");
    assert!(page.contains("Change or remove the flagged items"));

    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("UPDATE product_variants SET status = 'archived' WHERE sku = 'TEE-M'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = cart(&app, &shopper).await;
    assert_eq!(
        c["lines"][0]["problem"],
        "No longer available. Remove it to go to checkout."
    );
    // Lowering the kettle to what is left opens checkout again once the tee is removed.
    let kettle = line_id(&c, "KET-1");
    let tee = line_id(&c, "TEE-M");
    let (status, body) = call(
        &app,
        &shopper,
        "cart/update",
        &[("line_id", &tee), ("quantity", "1")],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_message(&body), "That item is no longer on sale.");
    call(
        &app,
        &shopper,
        "cart/update",
        &[("line_id", &kettle), ("quantity", "1")],
    )
    .await;
    call(&app, &shopper, "cart/remove", &[("line_id", &tee)]).await;
    let c = cart(&app, &shopper).await;
    assert_eq!(c["ready_for_checkout"], true);
    assert_eq!(c["subtotal"], "€40.00");
}

#[tokio::test]
async fn stale_guest_carts_and_their_sessions_are_cleaned_up() {
    let app = shop().await;
    let left_empty = app.browser();
    add(&app, &left_empty, "TEE-M", "1").await;
    call(&app, &left_empty, "cart/clear", &[]).await;
    let kept = app.browser();
    add(&app, &kept, "KET-1", "1").await;
    let customer = app.browser();
    app.register(&customer, "Lin", "lin@example.com", PASSWORD)
        .await;
    add(&app, &customer, "KET-1", "1").await;
    call(&app, &customer, "cart/clear", &[]).await;

    let sessions = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    assert_eq!(
        sessions("SELECT COUNT(*) FROM sessions WHERE anchor IS NOT NULL").await,
        2
    );

    app.clock.advance(std::time::Duration::from_secs(25 * 3600));
    shop::housekeeping::run_once(&app.db, &app.clock)
        .await
        .unwrap();
    let carts: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT c.user_id, (SELECT COUNT(*) FROM cart_lines l WHERE l.cart_id = c.id)
         FROM carts c ORDER BY c.user_id",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(carts.len(), 2, "the empty guest cart went: {carts:?}");
    assert!(
        carts
            .iter()
            .any(|(user, lines)| user.is_none() && *lines == 1),
        "the guest cart with a line stays"
    );
    assert!(
        carts.iter().any(|(user, _)| user.is_some()),
        "the customer's empty cart stays"
    );
    assert_eq!(
        sessions("SELECT COUNT(*) FROM sessions WHERE anchor IS NOT NULL").await,
        1,
        "the emptied cart's session ended with it"
    );
    assert_eq!(
        sessions("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await,
        1,
        "the customer stays signed in"
    );
    // The guest whose session ended simply starts again.
    assert!(lines(&cart(&app, &left_empty).await).is_empty());
    add(&app, &left_empty, "TEE-M", "1").await;
    assert_eq!(lines(&cart(&app, &left_empty).await), [("TEE-M".into(), 1)]);
    assert_eq!(lines(&cart(&app, &kept).await), [("KET-1".into(), 1)]);
}
