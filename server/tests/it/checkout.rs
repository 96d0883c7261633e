//! Checkout through the real router: a guest's whole flow with plain form posts (JavaScript
//! off) and the offline provider, the mails and the signed order link; a customer with a
//! saved address; tampered requests; the webhook endpoint; and Stripe Checkout against a
//! fake Stripe (create with an idempotency key, webhook signed as Stripe signs, replays).

use scraper::{Html, Selector};

use crate::common::fake_stripe::{self, FakeStripe};
use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"LAMP-1","name":"Harbour Lamp","slug":"harbour-lamp","description":"Brass.","category":"Home > Lighting","price_minor":8900,"currency":"EUR","stock":1,"brand":"Nordhavn","attributes":{}}
"#;

const PASSWORD: &str = "correct horse battery";

pub(crate) async fn shop(env: Vec<(&'static str, String)>) -> TestApp {
    TestApp::with_catalog(
        TestOptions {
            env,
            ..TestOptions::default()
        },
        CATALOG,
    )
    .await
}

pub(crate) async fn add(app: &TestApp, client: &reqwest::Client, sku: &str, quantity: &str) {
    let id = shop_testkit::variant_id(&app.db, sku).await.to_string();
    let res = app
        .call(
            client,
            "cart/add",
            &[("variant_id", &id), ("quantity", quantity)],
        )
        .await;
    assert_eq!(res.status(), 200, "add {sku}");
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The path of a redirect target on this site (form posts redirect to paths).
fn local(app: &TestApp, target: &str) -> String {
    target
        .strip_prefix(&app.address)
        .unwrap_or(target)
        .to_owned()
}

/// Posts a checkout form as a browser without JavaScript does; expects a redirect and
/// returns where to.
pub(crate) async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    from: &str,
    form: &[(&str, &str)],
) -> String {
    let res = app.post_form(client, endpoint, from, form).await;
    assert!(
        res.status().is_redirection(),
        "{endpoint}: {} {:?}",
        res.status(),
        res.text().await
    );
    location(&res)
}

/// Presses "Place order and pay" on a review page (JavaScript off); returns the payment URL.
pub(crate) async fn place_reviewed(
    app: &TestApp,
    client: &reqwest::Client,
    review: &str,
) -> String {
    post(
        app,
        client,
        "checkout/place",
        "/checkout/review",
        &[
            ("reviewed", &hidden(review, "reviewed")),
            ("idempotency_key", &hidden(review, "idempotency_key")),
        ],
    )
    .await
}

pub(crate) fn hidden(html: &str, name: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("input[name={name}]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no {name} field"))
        .to_owned()
}

const GUEST_ADDRESS: &[(&str, &str)] = &[
    ("email", "guest@example.com"),
    ("full_name", "Grace Hopper"),
    ("line1", "1 Harbour Street"),
    ("line2", ""),
    ("city", "Hamburg"),
    ("region", ""),
    ("postal_code", "20095"),
    ("country", "DE"),
    ("phone", ""),
    ("billing", "same"),
];

/// Details, shipping and review as a guest without JavaScript; returns the review page.
pub(crate) async fn to_review(app: &TestApp, guest: &reqwest::Client, method: &str) -> String {
    assert!(
        app.get_with(guest, "/checkout")
            .await
            .contains("Shipping address")
    );
    let next = post(
        app,
        guest,
        "checkout/save-details",
        "/checkout",
        GUEST_ADDRESS,
    )
    .await;
    assert_eq!(next, "/checkout/shipping");
    let page = app.get_with(guest, "/checkout/shipping").await;
    assert!(
        page.contains("Standard") && page.contains("Express"),
        "{page}"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM shipping_methods WHERE name = $1")
        .bind(method)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let next = post(
        app,
        guest,
        "checkout/choose-shipping",
        "/checkout/shipping",
        &[("shipping_method", &id)],
    )
    .await;
    assert_eq!(next, "/checkout/review");
    app.get_with(guest, "/checkout/review").await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    shop_testkit::count(&app.db, sql).await
}

async fn stock(app: &TestApp, column: &str, sku: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT {column} FROM product_variants WHERE sku = $1"
    ))
    .bind(sku)
    .fetch_one(app.db.reader())
    .await
    .unwrap()
}

async fn reserved(app: &TestApp, sku: &str) -> i64 {
    stock(app, "reserved", sku).await
}

async fn on_hand(app: &TestApp, sku: &str) -> i64 {
    stock(app, "on_hand", sku).await
}

#[tokio::test]
async fn a_guest_checks_out_pays_offline_and_opens_the_order_by_its_link() {
    let app = shop(Vec::new()).await;
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "2").await;
    let review = to_review(&app, &guest, "Standard").await;
    // 2 × €15.00 + €4.90 shipping; 20% VAT included.
    assert!(
        review.contains("€30.00") && review.contains("€4.90") && review.contains("€34.90"),
        "{review}"
    );
    assert!(review.contains("Including VAT (20%)"));

    let pay_url = place_reviewed(&app, &guest, &review).await;
    let pay_path = &local(&app, &pay_url);
    assert!(
        pay_path.starts_with("/pay/offline/cs_offline_"),
        "{pay_url}"
    );
    assert_eq!(reserved(&app, "TEE-S").await, 2);
    let page = app.get_with(&guest, pay_path).await;
    assert!(
        page.contains("€34.90") && page.contains("HS-10001"),
        "{page}"
    );

    let session = pay_path.rsplit('/').next().unwrap();
    let done = post(
        &app,
        &guest,
        "pay/offline/choose",
        pay_path,
        &[("session", session), ("choice", "pay")],
    )
    .await;
    let done_path = local(&app, &done);
    assert!(done_path.starts_with("/checkout/complete/"), "{done}");
    let page = app.get_with(&guest, &done_path).await;
    assert!(
        page.contains("HS-10001") && page.contains("Paid."),
        "{page}"
    );
    assert_eq!(on_hand(&app, "TEE-S").await, 3);
    // The bought units left the cart.
    assert!(
        app.get_with(&guest, "/cart")
            .await
            .contains("Your cart is empty")
    );

    app.deliver_outbox().await;
    let received = app
        .last_mail("guest@example.com", "Order HS-10001 received")
        .expect("order received mail");
    assert!(
        received.contains("2 × Fernhill Tee (size: S)") && received.contains("Total: €34.90"),
        "{received}"
    );
    let paid = app
        .last_mail("guest@example.com", "Payment confirmed for order HS-10001")
        .expect("payment confirmed mail");
    let start = paid.find("/orders/").expect("a link");
    let link: String = paid[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"')
        .collect();
    let page = app.get_with(&app.browser(), &link).await;
    assert!(
        page.contains("Grace Hopper") && page.contains("€34.90") && page.contains("Paid"),
        "{page}"
    );
    // A made-up token, or none, finds nothing.
    let (path, _) = link.split_once("?t=").unwrap();
    for wrong in [format!("{path}?t=AAAA"), path.to_owned()] {
        let res = app
            .browser()
            .get(app.url(&wrong))
            .header("accept", crate::common::BROWSER_ACCEPT)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{wrong}");
    }
    // The admin's list shows it.
    let admin = app.browser();
    app.admin(&admin).await;
    let list = app.get_with(&admin, "/admin/orders").await;
    assert!(
        list.contains("HS-10001") && list.contains("guest@example.com"),
        "{list}"
    );
}

/// Changing the cart while its order awaits payment withdraws that order first: its units
/// go back, and the add goes into the cart as usual.
#[tokio::test]
async fn adding_to_a_cart_whose_order_awaits_payment_withdraws_the_order() {
    let app = shop(Vec::new()).await;
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "2").await;
    let review = to_review(&app, &guest, "Standard").await;
    let pay = place_reviewed(&app, &guest, &review).await;
    assert!(pay.starts_with("/pay/offline/"), "{pay}");
    assert_eq!(reserved(&app, "TEE-S").await, 2);
    add(&app, &guest, "LAMP-1", "1").await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'"
        )
        .await,
        1,
        "the unpaid order is withdrawn"
    );
    assert_eq!(reserved(&app, "TEE-S").await, 0, "its units are back");
    let cart = app.get_with(&guest, "/cart").await;
    assert!(cart.contains("Fernhill Tee") && cart.contains("Harbour Lamp"));
    // The same cart, checked out again.
    let review = to_review(&app, &guest, "Standard").await;
    assert!(
        place_reviewed(&app, &guest, &review)
            .await
            .starts_with("/pay/offline/")
    );
    assert_eq!(reserved(&app, "TEE-S").await, 2);
    assert_eq!(reserved(&app, "LAMP-1").await, 1);
}

#[tokio::test]
async fn a_declined_payment_returns_to_checkout_with_the_cart_intact() {
    let app = shop(Vec::new()).await;
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "1").await;
    let review = to_review(&app, &guest, "Express").await;
    let pay_url = place_reviewed(&app, &guest, &review).await;
    let pay_path = local(&app, &pay_url);
    let session = pay_path.rsplit('/').next().unwrap().to_owned();
    let back = post(
        &app,
        &guest,
        "pay/offline/choose",
        &pay_path,
        &[("session", &session), ("choice", "decline")],
    )
    .await;
    assert!(
        back.ends_with("/checkout/review?flash=payment_declined"),
        "{back}"
    );
    let page = app
        .get_with(&guest, "/checkout/review?flash=payment_declined")
        .await;
    assert!(page.contains("Your payment was declined"), "{page}");
    assert_eq!(reserved(&app, "TEE-S").await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'"
        )
        .await,
        1
    );
    // The cart is intact and can be placed again.
    let review = app.get_with(&guest, "/checkout/review").await;
    let pay_url = place_reviewed(&app, &guest, &review).await;
    assert!(pay_url.contains("/pay/offline/"), "{pay_url}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM orders").await, 2);
}

#[tokio::test]
async fn a_customer_checks_out_with_a_saved_address_and_finds_the_order() {
    let app = shop(Vec::new()).await;
    let customer = app.browser();
    app.register(&customer, "Ada", "ada@example.com", PASSWORD)
        .await;
    let res = app
        .call(
            &customer,
            "account/save-address",
            &[
                ("full_name", "Ada Lovelace"),
                ("line1", "12 St James's Square"),
                ("line2", ""),
                ("city", "London"),
                ("region", ""),
                ("postal_code", "SW1Y 4JH"),
                ("country", "GB"),
                ("phone", ""),
                ("make_default", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let address_id: String = sqlx::query_scalar("SELECT id FROM addresses")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    add(&app, &customer, "LAMP-1", "1").await;
    let page = app.get_with(&customer, "/checkout").await;
    assert!(
        page.contains("ada@example.com") && page.contains("12 St James"),
        "{page}"
    );
    let next = post(
        &app,
        &customer,
        "checkout/save-details",
        "/checkout",
        &[("address_id", &address_id), ("billing", "same")],
    )
    .await;
    assert_eq!(next, "/checkout/shipping");
    let page = app.get_with(&customer, "/checkout/shipping").await;
    let method = hidden_radio(&page, "shipping_method");
    post(
        &app,
        &customer,
        "checkout/choose-shipping",
        "/checkout/shipping",
        &[("shipping_method", &method)],
    )
    .await;
    let review = app.get_with(&customer, "/checkout/review").await;
    assert!(
        review.contains("London") && review.contains("United Kingdom"),
        "{review}"
    );
    let pay_url = place_reviewed(&app, &customer, &review).await;
    assert!(pay_url.contains("/pay/offline/"));
    let owner: Option<String> = sqlx::query_scalar("SELECT user_id FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert!(owner.is_some(), "placed by the signed-in customer");
    let history = app.get_with(&customer, "/account/orders").await;
    assert!(
        history.contains("HS-10001") && history.contains("Awaiting payment"),
        "{history}"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let page = app
        .get_with(&customer, &format!("/account/orders/{id}"))
        .await;
    assert!(
        page.contains("Harbour Lamp") && page.contains("Pay now"),
        "{page}"
    );
    // Another customer gets "not found", not "forbidden".
    let other = app.browser();
    app.register(&other, "Eve", "eve@example.com", PASSWORD)
        .await;
    let res = other
        .get(app.url(&format!("/account/orders/{id}")))
        .header("accept", crate::common::BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        !app.get_with(&other, "/account/orders")
            .await
            .contains("HS-10001")
    );
    // Eve cannot ship her order to Ada's saved address.
    add(&app, &other, "TEE-S", "1").await;
    let res = app
        .call(
            &other,
            "checkout/save-details",
            &[("address_id", &address_id), ("billing", "same")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("address_id"));
}

fn hidden_radio(html: &str, name: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("input[type=radio][name={name}]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no {name} radio"))
        .to_owned()
}

#[tokio::test]
async fn tampered_checkout_requests_get_422_and_write_nothing() {
    let app = shop(Vec::new()).await;
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "1").await;
    let mut details: Vec<(&str, &str)> = GUEST_ADDRESS.to_vec();
    details.push(("total", "0"));
    let res = app.call(&guest, "checkout/save-details", &details).await;
    assert_eq!(res.status(), 422, "a total in the details");
    let review = to_review(&app, &guest, "Standard").await;
    let method: String =
        sqlx::query_scalar("SELECT id FROM shipping_methods WHERE name = 'Standard'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let res = app
        .call(
            &guest,
            "checkout/choose-shipping",
            &[("shipping_method", &method), ("shipping_price", "0")],
        )
        .await;
    assert_eq!(res.status(), 422, "a shipping price");
    let reviewed = hidden(&review, "reviewed");
    let key = hidden(&review, "idempotency_key");
    for field in ["price", "total", "unit_price_minor", "shipping_price"] {
        let res = app
            .call(
                &guest,
                "checkout/place",
                &[
                    ("reviewed", &reviewed),
                    ("idempotency_key", &key),
                    (field, "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{field}");
    }
    // A fingerprint made up by the browser is refused too.
    let res = app
        .call(
            &guest,
            "checkout/place",
            &[("reviewed", "cheap"), ("idempotency_key", &key)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM checkout_attempts").await,
        0
    );
    assert_eq!(reserved(&app, "TEE-S").await, 0);
}

#[tokio::test]
async fn two_shoppers_race_for_the_last_unit_and_the_second_is_told_before_paying() {
    let app = shop(Vec::new()).await;
    let (first, second) = (app.browser(), app.browser());
    add(&app, &first, "LAMP-1", "1").await;
    add(&app, &second, "LAMP-1", "1").await;
    let review_1 = to_review(&app, &first, "Standard").await;
    let review_2 = to_review(&app, &second, "Standard").await;
    let pay = place_reviewed(&app, &first, &review_1).await;
    assert!(pay.contains("/pay/offline/"));
    let res = app
        .call(
            &second,
            "checkout/place",
            &[
                ("reviewed", &hidden(&review_2, "reviewed")),
                ("idempotency_key", &hidden(&review_2, "idempotency_key")),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Harbour Lamp has just sold out")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM orders").await, 1);
}

#[tokio::test]
async fn the_webhook_endpoint_refuses_forgeries_and_acknowledges_duplicates() {
    let app = shop(Vec::new()).await;
    let url = app.url("/webhooks/stripe");
    let body = r#"{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_x"}}}"#;
    let client = reqwest::Client::new();
    let res = client.post(&url).body(body).send().await.unwrap();
    assert_eq!(res.status(), 400, "no signature");
    let now = app.clock.now().millis() / 1000;
    let forged = checkout::webhook::signature_header(body.as_bytes(), "whsec_guess", now);
    let res = client
        .post(&url)
        .header("stripe-signature", forged)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a wrong secret");
    let secret: String =
        sqlx::query_scalar("SELECT secret FROM server_secrets WHERE name = 'offline_webhook'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let genuine =
        checkout::webhook::signature_header(body.as_bytes(), &format!("whsec_{secret}"), now);
    for _ in 0..2 {
        let res = client
            .post(&url)
            .header("stripe-signature", &genuine)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payment_events").await, 1);
    let stale =
        checkout::webhook::signature_header(body.as_bytes(), &format!("whsec_{secret}"), now - 600);
    let res = client
        .post(&url)
        .header("stripe-signature", stale)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a stale timestamp");
}

#[tokio::test]
async fn stripe_checkout_against_a_fake_stripe() {
    let fake = FakeStripe::start().await;
    let app = shop(vec![
        ("STRIPE_SECRET_KEY", fake_stripe::SECRET_KEY.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRETS",
            format!("whsec_old_one,{}", fake_stripe::WEBHOOK_SECRET),
        ),
        ("STRIPE_API_BASE", fake.base.clone()),
    ])
    .await;
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "2").await;
    let review = to_review(&app, &guest, "Standard").await;
    let form = [
        ("reviewed", hidden(&review, "reviewed")),
        ("idempotency_key", hidden(&review, "idempotency_key")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pay_url = post(&app, &guest, "checkout/place", "/checkout/review", &form).await;
    assert!(
        pay_url.starts_with("https://checkout.stripe.com/c/pay/cs_test_"),
        "{pay_url}"
    );
    // A replay of the same form: the same session, no second one at Stripe.
    assert_eq!(
        post(&app, &guest, "checkout/place", "/checkout/review", &form).await,
        pay_url
    );
    assert_eq!(fake.session_count(), 1);

    let create = &fake.creates()[0];
    let order_id: String = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(
        create.idempotency_key.as_deref(),
        Some(format!("checkout-session-{order_id}").as_str())
    );
    let p = &create.params;
    assert_eq!(p["mode"], "payment");
    assert_eq!(p["client_reference_id"], order_id);
    assert_eq!(p["metadata[order_id]"], order_id);
    assert_eq!(p["customer_email"], "guest@example.com");
    assert_eq!(p["line_items[0][price_data][currency]"], "eur");
    assert_eq!(p["line_items[0][price_data][unit_amount]"], "1500");
    assert_eq!(p["line_items[0][quantity]"], "2");
    assert_eq!(
        p["line_items[1][price_data][unit_amount]"], "490",
        "shipping as a line"
    );
    let hold_until: i64 = sqlx::query_scalar("SELECT hold_until FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(p["expires_at"], (hold_until / 1000).to_string());
    assert!(p["success_url"].contains("/checkout/complete/"));

    // The success page before the webhook: "being confirmed".
    let session_id = pay_url.rsplit('/').next().unwrap().to_owned();
    let success =
        p["success_url"][p["success_url"].find("/checkout/complete/").unwrap()..].to_owned();
    assert!(
        app.get_with(&guest, &success)
            .await
            .contains("Payment being confirmed")
    );

    // Stripe's page takes the payment and posts the signed event, twice.
    let session = fake.pay(&session_id);
    let body = FakeStripe::event("checkout.session.completed", &session);
    let now = app.clock.now().millis() / 1000;
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let res = client
            .post(app.url("/webhooks/stripe"))
            .header("stripe-signature", FakeStripe::sign(&body, now))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert!(app.get_with(&guest, &success).await.contains("Paid."));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox_events WHERE kind = 'order.paid'"
        )
        .await,
        1
    );
    assert_eq!(on_hand(&app, "TEE-S").await, 3);
}

#[tokio::test]
async fn stripe_reconciler_pays_an_order_whose_webhook_was_lost_and_expires_the_rest() {
    let fake = FakeStripe::start().await;
    let app = shop(vec![
        ("STRIPE_SECRET_KEY", fake_stripe::SECRET_KEY.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRETS",
            fake_stripe::WEBHOOK_SECRET.to_owned(),
        ),
        ("STRIPE_API_BASE", fake.base.clone()),
    ])
    .await;
    let (paying, leaving) = (app.browser(), app.browser());
    let mut sessions = Vec::new();
    for client in [&paying, &leaving] {
        add(&app, client, "TEE-S", "1").await;
        let review = to_review(&app, client, "Standard").await;
        let url = place_reviewed(&app, client, &review).await;
        sessions.push(url.rsplit('/').next().unwrap().to_owned());
    }
    fake.pay(&sessions[0]);
    app.clock.advance(std::time::Duration::from_secs(35 * 60));
    let checkout = shop::startup::checkout_service(&app.config, &app.db, &app.clock)
        .await
        .unwrap();
    let swept = checkout.sweep().await.unwrap();
    assert_eq!((swept.paid, swept.expired), (1, 1));
    assert_eq!(
        fake.session(&sessions[1])["status"],
        "expired",
        "closed at Stripe first"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM orders WHERE status = 'paid'").await,
        1
    );
    assert_eq!(reserved(&app, "TEE-S").await, 0);
    assert_eq!(on_hand(&app, "TEE-S").await, 4);
}

/// A guest's paid order of `items` (sku, quantity), placed and paid with plain forms;
/// returns the order's id.
async fn paid_order(app: &TestApp, items: &[(&str, &str)]) -> String {
    paid_order_by(app, &app.browser(), items).await
}

/// A guest order placed and paid by `guest` (a browser client), through the pages and forms.
pub(crate) async fn paid_order_by(
    app: &TestApp,
    guest: &reqwest::Client,
    items: &[(&str, &str)],
) -> String {
    for (sku, n) in items {
        add(app, guest, sku, n).await;
    }
    let review = to_review(app, guest, "Standard").await;
    let pay_path = local(app, &place_reviewed(app, guest, &review).await);
    let session = pay_path.rsplit('/').next().unwrap().to_owned();
    post(
        app,
        guest,
        "pay/offline/choose",
        &pay_path,
        &[("session", &session), ("choice", "pay")],
    )
    .await;
    sqlx::query_scalar("SELECT order_id FROM offline_payment_sessions WHERE id = $1")
        .bind(&session)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn staff_ship_refund_and_export_orders_with_plain_forms() {
    let app = shop(Vec::new()).await;
    let order = paid_order(&app, &[("TEE-S", "2")]).await;
    let line: String = sqlx::query_scalar("SELECT id FROM order_lines WHERE order_id = $1")
        .bind(&order)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let qty = format!("qty_{line}");
    let restock = format!("restock_{line}");
    let page_path = format!("/admin/orders/{order}");

    // Neither a guest nor a customer may act on it.
    let stranger = app.browser();
    app.register(&stranger, "Eve", "eve@example.com", PASSWORD)
        .await;
    for client in [app.browser(), stranger] {
        let res = app
            .call(
                &client,
                "admin/order-ship",
                &[
                    ("order_id", order.as_str()),
                    ("carrier", "DHL"),
                    ("tracking_number", "1"),
                    ("confirm", "yes"),
                    (qty.as_str(), "1"),
                ],
            )
            .await;
        assert!(
            matches!(res.status().as_u16(), 401 | 403),
            "{}",
            res.status()
        );
    }

    let admin = app.browser();
    app.admin(&admin).await;
    let page = app.get_with(&admin, &page_path).await;
    assert!(
        page.contains("Mark shipped") && page.contains("Cancel and refund"),
        "{page}"
    );
    // Unconfirmed: refused, nothing shipped.
    let res = app
        .post_form(
            &admin,
            "admin/order-ship",
            &page_path,
            &[
                ("order_id", &order),
                ("carrier", "DHL"),
                ("tracking_number", "JD014600003"),
                (&qty, "1"),
            ],
        )
        .await;
    assert!(res.status().is_redirection());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM shipments").await, 0);
    // One of the two units, by DHL.
    let back = post(
        &app,
        &admin,
        "admin/order-ship",
        &page_path,
        &[
            ("order_id", &order),
            ("carrier", "DHL"),
            ("tracking_number", "JD014600003"),
            ("confirm", "yes"),
            (&qty, "1"),
        ],
    )
    .await;
    assert!(back.contains("flash=order_shipped"), "{back}");
    let page = app.get_with(&admin, &page_path).await;
    assert!(
        page.contains("Partially shipped") && page.contains("JD014600003"),
        "{page}"
    );
    // Refund the unit still here, with restock, plus 1.50 of shipping.
    let before = on_hand(&app, "TEE-S").await;
    let back = post(
        &app,
        &admin,
        "admin/order-refund",
        &page_path,
        &[
            ("order_id", &order),
            ("extra", "1.50"),
            ("reason", "one unit damaged"),
            ("confirm", "yes"),
            (&qty, "1"),
            (&restock, "on"),
        ],
    )
    .await;
    assert!(back.contains("flash=order_refunded"), "{back}");
    assert_eq!(on_hand(&app, "TEE-S").await, before + 1);
    let refunded: i64 = sqlx::query_scalar("SELECT refunded_minor FROM orders WHERE id = $1")
        .bind(&order)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(refunded, 1500 + 150);
    // A refund beyond what is left: refused with the cap in words, nothing changes.
    let res = app
        .call(
            &admin,
            "admin/order-refund",
            &[
                ("order_id", order.as_str()),
                ("extra", "10000.00"),
                ("reason", ""),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("can still be refunded"));
    // Garbage in the quantity and extra fields: 422, not 500.
    for (field, value) in [(qty.as_str(), "lots"), ("extra", "1,2,3")] {
        let mut form = vec![
            ("order_id", order.as_str()),
            ("extra", ""),
            ("reason", ""),
            ("confirm", "yes"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let res = app.call(&admin, "admin/order-refund", &form).await;
        assert_eq!(res.status(), 422, "{field}={value}");
    }

    // The list shows it, filtered; the CSV holds it and nothing a spreadsheet would run.
    let list = app
        .get_with(
            &admin,
            "/admin/orders?payment=partially_refunded&sort=oldest",
        )
        .await;
    assert!(
        list.contains("HS-10001") && list.contains("refunded"),
        "{list}"
    );
    let none = app.get_with(&admin, "/admin/orders?payment=unpaid").await;
    assert!(!none.contains("HS-10001"));
    let csv = admin
        .get(app.url("/admin/export/orders.csv?status=partially_refunded"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("number,placed_at,status"), "{body}");
    assert!(
        body.contains("HS-10001") && body.contains("partially_refunded") && body.contains("16.50"),
        "{body}"
    );
    let res = app
        .browser()
        .get(app.url("/admin/export/orders.csv"))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection() || res.status() == 401,
        "{}",
        res.status()
    );
    // The printable documents.
    let invoice = app.get_with(&admin, &format!("{page_path}/invoice")).await;
    assert!(
        invoice.contains("Invoice HS-10001") && invoice.contains("VAT"),
        "{invoice}"
    );
    let slip = app
        .get_with(&admin, &format!("{page_path}/packing-slip"))
        .await;
    // No prices on the packing slip (the page shows no price column).
    assert!(
        slip.contains("Packing slip HS-10001") && !slip.contains(">Unit price<"),
        "{slip}"
    );

    // The shipped unit comes back: refunded as a return (`sent_`), restocked; nothing is
    // left to ship and the form offers no more units of the line.
    let sent = format!("sent_{line}");
    for bad in ["lots", "-1", "2"] {
        let res = app
            .call(
                &admin,
                "admin/order-refund",
                &[
                    ("order_id", order.as_str()),
                    ("extra", ""),
                    ("reason", ""),
                    ("confirm", "yes"),
                    (sent.as_str(), bad),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{sent}={bad}");
    }
    let before = on_hand(&app, "TEE-S").await;
    let back = post(
        &app,
        &admin,
        "admin/order-refund",
        &page_path,
        &[
            ("order_id", &order),
            ("extra", ""),
            ("reason", "returned"),
            ("confirm", "yes"),
            (&sent, "1"),
            (&restock, "on"),
        ],
    )
    .await;
    assert!(back.contains("flash=order_refunded"), "{back}");
    assert_eq!(on_hand(&app, "TEE-S").await, before + 1);
    let page = app.get_with(&admin, &page_path).await;
    assert!(page.contains("(1 shipped, 1 restocked)"), "{page}");
    assert!(!page.contains(&format!("name=\"{sent}\"")), "{page}");
}

#[tokio::test]
async fn a_customer_cancels_an_unshipped_order_and_strangers_cannot() {
    let app = shop(Vec::new()).await;
    let customer = app.browser();
    app.register(&customer, "Ada", "ada@example.com", PASSWORD)
        .await;
    add(&app, &customer, "TEE-S", "1").await;
    let review = to_review(&app, &customer, "Standard").await;
    let pay_path = local(&app, &place_reviewed(&app, &customer, &review).await);
    let session = pay_path.rsplit('/').next().unwrap().to_owned();
    post(
        &app,
        &customer,
        "pay/offline/choose",
        &pay_path,
        &[("session", &session), ("choice", "pay")],
    )
    .await;
    let order: String =
        sqlx::query_scalar("SELECT order_id FROM offline_payment_sessions WHERE id = $1")
            .bind(&session)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let page_path = format!("/account/orders/{order}");
    assert!(
        app.get_with(&customer, &page_path)
            .await
            .contains("Cancel order")
    );
    // Somebody else, signed in or holding a forged link: not found; nothing changes.
    let stranger = app.browser();
    app.register(&stranger, "Eve", "eve@example.com", PASSWORD)
        .await;
    for (client, t) in [(&stranger, ""), (&app.browser(), "forged")] {
        let res = app
            .call(
                client,
                "account/order-cancel",
                &[("id", order.as_str()), ("t", t), ("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    let before = on_hand(&app, "TEE-S").await;
    let back = post(
        &app,
        &customer,
        "account/order-cancel",
        &page_path,
        &[("id", &order), ("t", ""), ("confirm", "yes")],
    )
    .await;
    assert!(back.contains("flash=my_order_cancelled"), "{back}");
    assert_eq!(on_hand(&app, "TEE-S").await, before + 1);
    let page = app.get_with(&customer, &page_path).await;
    assert!(
        page.contains("Cancelled") && page.contains("refunded"),
        "{page}"
    );
    assert!(!page.contains("Cancel order"));
}

/// The mails of an order's life reach the customer and the staff address, and the
/// notification log shows each, opens it as sent, previews every template and resends.
#[tokio::test]
async fn order_mails_reach_the_customer_and_the_log_shows_opens_and_resends_them() {
    let app = shop(vec![("STAFF_EMAIL", "orders@shop.test".to_owned())]).await;
    let order = paid_order(&app, &[("TEE-S", "2")]).await;
    let line: String = sqlx::query_scalar("SELECT id FROM order_lines WHERE order_id = $1")
        .bind(&order)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let qty = format!("qty_{line}");
    let page_path = format!("/admin/orders/{order}");
    let admin = app.browser();
    app.admin(&admin).await;
    post(
        &app,
        &admin,
        "admin/order-ship",
        &page_path,
        &[
            ("order_id", &order),
            ("carrier", "DHL"),
            ("tracking_number", "JD014600003"),
            ("confirm", "yes"),
            (&qty, "1"),
        ],
    )
    .await;
    // The shipped mail goes out before anything else changes the order.
    app.deliver_outbox().await;
    post(
        &app,
        &admin,
        "admin/order-refund",
        &page_path,
        &[
            ("order_id", &order),
            ("confirm", "yes"),
            (&qty, "1"),
            (&format!("restock_{line}"), "yes"),
            ("extra", ""),
            ("reason", "Arrived <b>damaged</b>"),
        ],
    )
    .await;
    app.deliver_outbox().await;
    let mails = app.mails();
    let find = |subject: &str| {
        mails
            .iter()
            .find(|m| m.contains(subject))
            .unwrap_or_else(|| panic!("no mail with {subject:?} in {mails:#?}"))
    };
    let shipped = find("is on its way");
    assert!(shipped.contains("To: guest@example.com"), "{shipped}");
    assert!(
        shipped.contains("Tracking number: JD014600003"),
        "{shipped}"
    );
    assert!(shipped.contains("https://www.dhl.com/"), "{shipped}");
    assert!(
        shipped.contains("Still to come"),
        "one unit is still to ship: {shipped}"
    );
    let refund = find("Subject: Refund of");
    assert!(
        refund.contains("Arrived <b>damaged</b>"),
        "text part as written"
    );
    assert!(
        refund.contains("Arrived &lt;b&gt;damaged&lt;&#x2f;b&gt;"),
        "HTML part escaped"
    );
    let staff = find("Subject: New order HS-");
    assert!(staff.contains("To: orders@shop.test"), "{staff}");
    for subject in ["Order HS-", "Payment confirmed for order"] {
        find(subject);
    }

    // The log lists them, sent, and filters by template and recipient.
    let log = app
        .get_with(&admin, "/admin/notifications?status=sent")
        .await;
    for label in [
        "Order shipped",
        "Refund issued",
        "Staff: new order",
        "Payment confirmed",
    ] {
        assert!(log.contains(label), "{label} in {log}");
    }
    let only = app
        .get_with(&admin, "/admin/notifications?template=order_shipped&to=%40")
        .await;
    assert!(
        only.contains("is on its way") && !only.contains("Refund of "),
        "{only}"
    );
    let id: String =
        sqlx::query_scalar("SELECT id FROM notifications WHERE template = 'order_shipped'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let detail = app
        .get_with(&admin, &format!("/admin/notifications/{id}"))
        .await;
    assert!(
        detail.contains("Tracking number: JD014600003"),
        "text part shown"
    );
    assert!(detail.contains(&format!("/admin/notifications/{id}/html")));
    let frame = admin
        .get(app.url(&format!("/admin/notifications/{id}/html")))
        .send()
        .await
        .unwrap();
    assert_eq!(frame.status(), 200);
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    assert_eq!(frame.headers()["x-frame-options"], "SAMEORIGIN");
    assert!(frame.text().await.unwrap().contains("JD014600003"));

    // Resend, plain form: a new message, sent once more.
    let before = app.mails().len();
    let res = app
        .post_form(
            &admin,
            "admin/notification-resend",
            &format!("/admin/notifications/{id}"),
            &[("id", id.as_str()), ("confirm", "yes")],
        )
        .await;
    assert!(res.status().is_redirection());
    let to = location(&res);
    assert!(
        to.contains("/admin/notifications/") && to.contains("flash=notification_resent"),
        "{to}"
    );
    app.deliver_outbox().await;
    assert_eq!(app.mails().len(), before + 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE resend_of IS NOT NULL AND status = 'sent'"
        )
        .await,
        1
    );

    // Every template previews, page and frame.
    for t in notifications::Template::ALL {
        let page = app
            .get_with(&admin, &format!("/admin/mail-templates?t={}", t.name()))
            .await;
        assert!(page.contains("template-preview"), "{}", t.name());
        let frame = admin
            .get(app.url(&format!("/admin/mail-templates/{}/html", t.name())))
            .send()
            .await
            .unwrap();
        assert_eq!(frame.status(), 200, "{}", t.name());
    }

    // Nobody else reads the log, its messages or the previews.
    let customer = app.browser();
    app.register(&customer, "Eve", "eve@example.com", PASSWORD)
        .await;
    for client in [app.browser(), customer] {
        for path in [
            format!("/admin/notifications/{id}/html"),
            "/admin/mail-templates/order_shipped/html".to_owned(),
        ] {
            let res = client.get(app.url(&path)).send().await.unwrap();
            assert!(
                matches!(res.status().as_u16(), 303 | 403),
                "{path}: {}",
                res.status()
            );
        }
        let res = app
            .call(
                &client,
                "admin/notification-resend",
                &[("id", id.as_str()), ("confirm", "yes")],
            )
            .await;
        assert!(
            matches!(res.status().as_u16(), 401 | 403),
            "{}",
            res.status()
        );
        let res = app.call(&client, "admin/notifications", &[]).await;
        assert!(
            matches!(res.status().as_u16(), 401 | 403),
            "{}",
            res.status()
        );
    }
}

/// A signed-in shopper's way to the review page: an address saved in the account book,
/// chosen at checkout, then the first shipping method. Returns the review page.
async fn customer_to_review(app: &TestApp, client: &reqwest::Client, sku: &str) -> String {
    let res = app
        .call(
            client,
            "account/save-address",
            &[
                ("full_name", "Ada Lovelace"),
                ("line1", "12 St James's Square"),
                ("line2", ""),
                ("city", "London"),
                ("region", ""),
                ("postal_code", "SW1Y 4JH"),
                ("country", "GB"),
                ("phone", ""),
                ("make_default", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    add(app, client, sku, "1").await;
    let page = app.get_with(client, "/checkout").await;
    let address_id = hidden_radio(&page, "address_id");
    let next = post(
        app,
        client,
        "checkout/save-details",
        "/checkout",
        &[("address_id", &address_id), ("billing", "same")],
    )
    .await;
    assert_eq!(next, "/checkout/shipping");
    let page = app.get_with(client, "/checkout/shipping").await;
    let method = hidden_radio(&page, "shipping_method");
    post(
        app,
        client,
        "checkout/choose-shipping",
        "/checkout/shipping",
        &[("shipping_method", &method)],
    )
    .await;
    app.get_with(client, "/checkout/review").await
}

/// With the offline provider and plain forms: a signed-in shopper ticks "save this card"
/// when paying, finds it under Payment methods and removes it; a guest is not offered to
/// save, and nobody else sees or removes the card.
#[tokio::test]
async fn a_customer_saves_a_card_when_paying_and_removes_it_and_nobody_else_can() {
    let app = shop(Vec::new()).await;
    let ada = app.browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let review = customer_to_review(&app, &ada, "LAMP-1").await;
    let pay_path = local(&app, &place_reviewed(&app, &ada, &review).await);
    assert!(
        app.get_with(&ada, &pay_path)
            .await
            .contains("Save this card for next time")
    );
    let session = pay_path.rsplit('/').next().unwrap().to_owned();
    post(
        &app,
        &ada,
        "pay/offline/choose",
        &pay_path,
        &[
            ("session", &session),
            ("choice", "pay"),
            ("save_card", "yes"),
        ],
    )
    .await;
    let page = app.get_with(&ada, "/account/payment-methods").await;
    assert!(page.contains("Visa ending in 4242"), "{page}");
    let card: String = sqlx::query_scalar("SELECT id FROM offline_payment_methods")
        .fetch_one(app.db.reader())
        .await
        .unwrap();

    // A guest's payment page offers nothing to save.
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "1").await;
    let review = to_review(&app, &guest, "Standard").await;
    let guest_pay = local(&app, &place_reviewed(&app, &guest, &review).await);
    assert!(
        !app.get_with(&guest, &guest_pay)
            .await
            .contains("Save this card")
    );

    // Nobody else sees or removes it.
    let res = app
        .call(&app.browser(), "account/payment-methods", &[])
        .await;
    assert_eq!(res.status(), 401);
    let eve = app.browser();
    app.register(&eve, "Eve", "eve@example.com", PASSWORD).await;
    assert!(
        app.get_with(&eve, "/account/payment-methods")
            .await
            .contains("No saved cards")
    );
    let res = app
        .call(
            &eve,
            "account/payment-method-remove",
            &[("id", card.as_str()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 404);
    // Unconfirmed: refused. Confirmed: gone.
    let res = app
        .call(
            &ada,
            "account/payment-method-remove",
            &[("id", card.as_str())],
        )
        .await;
    assert_eq!(res.status(), 422);
    let back = post(
        &app,
        &ada,
        "account/payment-method-remove",
        "/account/payment-methods",
        &[("id", &card), ("confirm", "yes")],
    )
    .await;
    assert!(back.contains("flash=card_removed"), "{back}");
    assert!(
        app.get_with(&ada, "/account/payment-methods")
            .await
            .contains("No saved cards")
    );
}

/// With Stripe: a signed-in shopper pays as a Stripe Customer (made once) on a session that
/// offers to save the card; the saved card is read from Stripe and detached from it; a guest
/// pays by email without saving; another customer cannot detach someone else's card.
#[tokio::test]
async fn stripe_customers_save_cards_on_stripes_page_and_detach_them() {
    let fake = FakeStripe::start().await;
    let app = shop(vec![
        ("STRIPE_SECRET_KEY", fake_stripe::SECRET_KEY.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRETS",
            fake_stripe::WEBHOOK_SECRET.to_owned(),
        ),
        ("STRIPE_API_BASE", fake.base.clone()),
    ])
    .await;
    let ada = app.browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let review = customer_to_review(&app, &ada, "LAMP-1").await;
    let pay_url = place_reviewed(&app, &ada, &review).await;
    assert!(
        pay_url.starts_with("https://checkout.stripe.com/"),
        "{pay_url}"
    );
    assert_eq!(fake.customer_count(), 1);
    let p = fake.creates()[0].params.clone();
    assert!(p["customer"].starts_with("cus_fake"), "{p:?}");
    assert!(
        !p.contains_key("customer_email"),
        "Stripe takes a customer or an email"
    );
    assert_eq!(
        p["saved_payment_method_options[payment_method_save]"],
        "enabled"
    );
    let customer = p["customer"].clone();
    let stored: String = sqlx::query_scalar("SELECT customer_id FROM payment_customers")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(
        stored, customer,
        "the shop keeps the customer id, and nothing of the card"
    );

    // Ada ticks "save" on Stripe's page; her account lists the card as Stripe reports it.
    let session = pay_url.rsplit('/').next().unwrap().to_owned();
    let card = fake.save_card(&session, "4444");
    let page = app.get_with(&ada, "/account/payment-methods").await;
    assert!(
        page.contains("Mastercard ending in 4444") && page.contains("08/2031"),
        "{page}"
    );

    // A guest pays by email, without a customer or saving.
    let guest = app.browser();
    add(&app, &guest, "TEE-S", "1").await;
    let review = to_review(&app, &guest, "Standard").await;
    place_reviewed(&app, &guest, &review).await;
    let p = fake.creates().last().unwrap().params.clone();
    assert_eq!(p["customer_email"], "guest@example.com");
    assert!(
        !p.contains_key("customer")
            && !p.contains_key("saved_payment_method_options[payment_method_save]")
    );

    // Eve, a customer of her own at Stripe, cannot detach Ada's card.
    let eve = app.browser();
    app.register(&eve, "Eve", "eve@example.com", PASSWORD).await;
    let review = customer_to_review(&app, &eve, "TEE-S").await;
    place_reviewed(&app, &eve, &review).await;
    assert_eq!(fake.customer_count(), 2);
    let res = app
        .call(
            &eve,
            "account/payment-method-remove",
            &[("id", card.as_str()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert!(
        app.get_with(&ada, "/account/payment-methods")
            .await
            .contains("ending in 4444")
    );

    // Ada detaches it.
    let back = post(
        &app,
        &ada,
        "account/payment-method-remove",
        "/account/payment-methods",
        &[("id", &card), ("confirm", "yes")],
    )
    .await;
    assert!(back.contains("flash=card_removed"), "{back}");
    assert!(
        app.get_with(&ada, "/account/payment-methods")
            .await
            .contains("No saved cards")
    );
}
