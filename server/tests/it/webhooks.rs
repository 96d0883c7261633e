//! Outbound webhooks through the real router and outbox: endpoints registered on the admin
//! pages (without JavaScript), the address guard, the test button, signed deliveries of the
//! subscribed events only, retries with backoff and the delivery log, and deleting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::common::{TestApp, TestOptions, import_catalog};

/// A webhook receiver on a free loopback port, answering every POST with `status`.
pub(crate) struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    status: Arc<Mutex<(u16, String)>>,
}

impl Receiver {
    pub(crate) async fn start(status: u16) -> Receiver {
        let got: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
        let status = Arc::new(Mutex::new((status, "thanks".to_owned())));
        let (kept, answer) = (got.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (kept, answer) = (kept.clone(), answer.clone());
                async move {
                    kept.lock().unwrap().push((headers, body));
                    let (code, text) = answer.lock().unwrap().clone();
                    (axum::http::StatusCode::from_u16(code).unwrap(), text)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hooks",
            listener.local_addr().unwrap().port()
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, got, status }
    }

    pub(crate) fn requests(&self) -> Vec<(HeaderMap, String)> {
        self.got.lock().unwrap().clone()
    }

    fn answer(&self, code: u16, text: &str) {
        *self.status.lock().unwrap() = (code, text.to_owned());
    }
}

const CATALOG: &str = r#"{"sku":"LAMP-1","name":"Harbour Lamp","description":"Brass.","category":"Home & Kitchen > Lighting","price_minor":8900,"currency":"EUR","stock":6,"brand":"Harbour","attributes":{}}
"#;

/// Changes a variant's stock on the admin's product page (no JavaScript).
async fn adjust_stock(
    app: &TestApp,
    admin: &reqwest::Client,
    product: &str,
    variant: &str,
    delta: &str,
    note: &str,
) -> reqwest::Response {
    app.post_form(
        admin,
        "admin/stock-adjust",
        &format!("/admin/products/{product}"),
        &[
            ("product_id", product),
            ("variant_id", variant),
            ("delta", delta),
            ("note", note),
        ],
    )
    .await
}

async fn endpoint_id(app: &TestApp, url: &str) -> String {
    sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE url = $1")
        .bind(url)
        .fetch_one(app.db.reader())
        .await
        .unwrap()
}

async fn delivery(app: &TestApp, endpoint: &str) -> (String, i64, Option<i64>) {
    #[derive(sqlx::FromRow)]
    struct Row {
        status: String,
        attempts: i64,
        response_code: Option<i64>,
    }
    let r: Row = sqlx::query_as(
        "SELECT status, attempts, response_code FROM webhook_deliveries
         WHERE endpoint_id = $1 AND event_type <> 'ping' ORDER BY created_at DESC LIMIT 1",
    )
    .bind(endpoint)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    (r.status, r.attempts, r.response_code)
}

#[tokio::test]
async fn staff_register_endpoints_that_get_signed_events_retried_until_delivered() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("WEBHOOK_ALLOW_LOOPBACK", "true".to_owned())],
        ..TestOptions::default()
    })
    .await;
    import_catalog(&app.db, &app.clock, CATALOG).await;
    let admin = app.browser();
    app.admin(&admin).await;
    let erp = Receiver::start(200).await;

    // Addresses inside the network, other schemes and unknown events are refused.
    for (url, event) in [
        ("http://169.254.169.254/latest/meta-data", "event_stock.low"),
        ("http://10.1.2.3/hooks", "event_stock.low"),
        ("file:///etc/passwd", "event_stock.low"),
        (erp.url.as_str(), "event_user.registered"),
    ] {
        let res = app
            .call(
                &admin,
                "admin/webhook-save",
                &[("id", ""), ("url", url), (event, "on"), ("active", "on")],
            )
            .await;
        assert!(
            res.status() == 400 || res.status() == 422,
            "{url} {event}: {}",
            res.status()
        );
    }
    assert_eq!(
        shop_testkit::count(&app.db, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );

    // Registered without JavaScript: the form posts and lands on the endpoint's page.
    let res = app
        .post_form(
            &admin,
            "admin/webhook-save",
            "/admin/webhooks",
            &[
                ("id", ""),
                ("url", erp.url.as_str()),
                ("description", "Stock sync"),
                ("event_product.updated", "on"),
                ("event_stock.low", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let id = endpoint_id(&app, &erp.url).await;
    let endpoint = notifications::webhooks::find(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    let page = app.get_with(&admin, &format!("/admin/webhooks/{id}")).await;
    assert!(page.contains(&endpoint.secret), "the page shows the secret");

    // The test button: a signed ping, in the log.
    let res = app
        .post_form(
            &admin,
            "admin/webhook-test",
            &format!("/admin/webhooks/{id}"),
            &[("id", id.as_str())],
        )
        .await;
    assert!(res.status().is_redirection());
    let got = erp.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["shop-event"], "ping");
    let now = app.clock.now().millis() / 1000;
    assert!(notifications::webhooks::verify(
        &endpoint.secret,
        got[0].0["shop-signature"].to_str().unwrap(),
        &got[0].1,
        now
    ));
    let page = app.get_with(&admin, &format!("/admin/webhooks/{id}")).await;
    assert!(page.contains("Delivered"), "the log shows the ping");

    // A product change made in the admin: one product.updated delivery, signed.
    let product: String = sqlx::query_scalar("SELECT id FROM products")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let variant: String = sqlx::query_scalar("SELECT id FROM product_variants")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let res = adjust_stock(&app, &admin, &product, &variant, "3", "delivery").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    // The receiver is down for a while: the delivery is retried later, with the answer logged.
    // Its answer is hostile text: the log shows it as text.
    erp.answer(503, "</textarea></script><b data-injected>x</b>");
    app.deliver_outbox().await;
    assert_eq!(erp.requests().len(), 2);
    assert_eq!(
        delivery(&app, &id).await,
        ("pending".to_owned(), 1, Some(503))
    );
    // Back up: the retry (once due) delivers the same event, same body.
    let page = app.get_with(&admin, &format!("/admin/webhooks/{id}")).await;
    let doc = scraper::Html::parse_document(&page);
    assert!(
        doc.select(&scraper::Selector::parse("[data-injected]").unwrap())
            .next()
            .is_none(),
        "the logged answer injects nothing"
    );
    assert!(page.contains("answered 503"), "the log shows the answer");
    erp.answer(200, "ok");
    app.clock.advance(Duration::from_secs(60));
    app.deliver_outbox().await;
    let got = erp.requests();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].1, got[2].1, "a retry sends the same body");
    let event: Value = serde_json::from_str(&got[2].1).unwrap();
    assert_eq!(event["type"], "product.updated");
    assert_eq!(event["data"]["product_id"], product.as_str());
    assert_eq!(
        delivery(&app, &id).await,
        ("delivered".to_owned(), 2, Some(200))
    );
    // Delivered once: nothing more goes out.
    app.clock.advance(Duration::from_secs(600));
    app.deliver_outbox().await;
    assert_eq!(erp.requests().len(), 3);

    // Switched off: a new event is not sent.
    let res = app
        .post_form(
            &admin,
            "admin/webhook-save",
            &format!("/admin/webhooks/{id}"),
            &[
                ("id", id.as_str()),
                ("url", erp.url.as_str()),
                ("description", "Stock sync"),
                ("event_product.updated", "on"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let res = adjust_stock(&app, &admin, &product, &variant, "1", "count").await;
    assert!(res.status().is_redirection());
    app.deliver_outbox().await;
    assert_eq!(
        erp.requests().len(),
        3,
        "an endpoint switched off gets nothing"
    );
    // Deleted (confirmed): gone with its log.
    let res = app
        .call(&admin, "admin/webhook-delete", &[("id", id.as_str())])
        .await;
    assert_eq!(res.status(), 422, "deleting needs the confirmation");
    let res = app
        .call(
            &admin,
            "admin/webhook-delete",
            &[("id", id.as_str()), ("confirm", "yes")],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        shop_testkit::count(&app.db, "SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );
    // Customers cannot reach the pages.
    let shopper = app.browser();
    app.register(&shopper, "Ada", "ada@example.com", "correct horse battery")
        .await;
    let res = app.call(&shopper, "admin/webhooks", &[]).await;
    assert_eq!(res.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn without_the_loopback_setting_the_shop_never_posts_to_itself() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let erp = Receiver::start(200).await;
    let res = app
        .call(
            &admin,
            "admin/webhook-save",
            &[
                ("id", ""),
                ("url", erp.url.as_str()),
                ("event_stock.low", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    // A host name that passes the URL check but resolves to this machine is refused when
    // the connection is made (the resolver's guard), and only then.
    let port = erp.url.rsplit(':').next().unwrap().to_owned();
    let endpoint = notifications::webhooks::create(
        &app.db,
        &app.clock,
        &shop_core::audit::Actor::system("test"),
        notifications::webhooks::Policy::default(),
        &notifications::webhooks::EndpointInput {
            url: format!("http://erp.test:{port}"),
            description: String::new(),
            events: vec!["stock.low".to_owned()],
            active: true,
        },
    )
    .await
    .unwrap();
    let hosts = notifications::webhooks::Hosts::from([(
        "erp.test".to_owned(),
        vec!["127.0.0.1".parse().unwrap(), "10.0.0.7".parse().unwrap()],
    )]);
    let strict = notifications::webhooks::Sender::with_hosts(
        notifications::webhooks::Policy::default(),
        hosts.clone(),
    )
    .unwrap();
    let sent = notifications::webhooks::send_test(&app.db, &app.clock, &strict, &endpoint.id)
        .await
        .unwrap();
    assert_eq!(sent.status, notifications::webhooks::DeliveryStatus::Failed);
    assert!(sent.response_code.is_none());
    assert!(
        sent.error
            .as_deref()
            .is_some_and(|e| e.contains("inside the shop's network")),
        "{:?}",
        sent.error
    );
    assert!(erp.requests().is_empty(), "nothing reached the receiver");
    // The same name, loopback allowed: delivered (so it was the guard that refused).
    let loose = notifications::webhooks::Sender::with_hosts(
        notifications::webhooks::Policy {
            allow_loopback: true,
        },
        hosts,
    )
    .unwrap();
    let sent = notifications::webhooks::send_test(&app.db, &app.clock, &loose, &endpoint.id)
        .await
        .unwrap();
    assert_eq!(
        sent.status,
        notifications::webhooks::DeliveryStatus::Delivered
    );
    assert_eq!(erp.requests().len(), 1);
    app.stop().await;
}
