//! The admin API through the real router: staff tokens and API keys (scopes, revocation,
//! expiry, the audit entry of every call), the catalog (products, variants, stock, images,
//! categories) with vendor scoping, orders (ship, cancel, refunds with `Idempotency-Key`),
//! customers, the analytics summary, and the per-credential rate limit. Every response is
//! checked against the OpenAPI document (see `api::send`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::{
    CATALOG, PASSWORD, access, account, address, api, assert_error, client, get_as, pay_offline,
    post, send,
};
use crate::common::{TestApp, TestOptions};

const ADMIN: &str = "boss@example.com";
const ADMIN_PASSWORD: &str = "admin-password-1";

/// Makes the shop's admin and signs them in through the API: their access token.
pub(crate) async fn admin_token(app: &TestApp) -> (auth::Account, String) {
    let email = shop_core::Email::parse(ADMIN).unwrap();
    auth::create_or_promote_admin(&app.db, &app.clock, &email, "Boss", ADMIN_PASSWORD)
        .await
        .unwrap();
    let account = auth::find_by_email(&app.db, &email).await.unwrap().unwrap();
    let (status, tokens) = post(
        app,
        "/auth/token",
        json!({"email": ADMIN, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    (account, access(&tokens))
}

/// A vendor account (made by `admin`) and its access token.
async fn vendor_token(app: &TestApp, admin: &auth::Account, email: &str) -> (String, String) {
    let tokens = account(app, email).await;
    let vendor = auth::find_by_email(&app.db, &shop_core::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    auth::admin::grant_role(&app.db, &app.clock, admin, &vendor.id, auth::Role::Vendor)
        .await
        .unwrap();
    (vendor.id.as_str().to_owned(), access(&tokens))
}

/// Makes an API key for `owner` (the service the admin page calls); its text.
async fn key_for(
    app: &TestApp,
    owner: &auth::Account,
    scopes: &[&str],
    expires_in: Option<Duration>,
) -> String {
    let input = auth::api_keys::KeyInput {
        name: format!("Sync {}", scopes.join("+")),
        scopes: scopes
            .iter()
            .map(|s| auth::api_keys::Scope::parse(s).unwrap())
            .collect(),
        expires_at: expires_in.map(|d| app.clock.now().plus(d)),
    };
    auth::api_keys::create(&app.db, &app.clock, owner, &input)
        .await
        .unwrap()
        .secret
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client()
        .request(method.parse().unwrap(), api(app, path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

fn new_product(category: &str, sku: &str) -> Value {
    json!({
        "name": format!("Harbour Lamp {sku}"),
        "description": "A **brass** lamp.",
        "brand": "Harbour",
        "category_id": category,
        "attributes": [{"name": "material", "value": "brass"}],
        "variants": [{
            "sku": sku,
            "options": [{"name": "colour", "value": "brass"}],
            "price": {"amount_minor": 8900, "currency": "EUR"},
            "initial_stock": 4
        }]
    })
}

async fn a_category(app: &TestApp) -> String {
    let (_, _, categories) = send(client().get(api(app, "/categories"))).await;
    categories["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn staff_manage_products_variants_stock_images_and_categories() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (_, admin) = admin_token(&app).await;
    let customer = access(&account(&app, "ada@example.com").await);
    let category = a_category(&app).await;

    // A customer's token is not staff; no token at all is 401.
    let (status, headers, body) = call(&app, "GET", "/admin/products", &customer, None).await;
    assert_eq!(status, 403);
    assert_error(status, &headers, &body, "forbidden");
    let (status, _, _) = send(client().get(api(&app, "/admin/products"))).await;
    assert_eq!(status, 401);

    // Create: a draft with its variant; the Location names it.
    let (status, headers, product) = call(
        &app,
        "POST",
        "/admin/products",
        &admin,
        Some(new_product(&category, "LAMP-1")),
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_str().unwrap().to_owned();
    assert_eq!(
        headers["location"].to_str().unwrap(),
        format!("/api/v1/admin/products/{id}")
    );
    assert_eq!(product["status"], "draft");
    assert_eq!(product["variants"][0]["on_hand"], 4);
    assert_eq!(product["attributes"][0]["value"], "brass");
    // A draft is not in the shop.
    let slug = product["slug"].as_str().unwrap().to_owned();
    let (status, _, _) = send(client().get(api(&app, &format!("/products/{slug}")))).await;
    assert_eq!(status, 404);

    // Invalid input names its field; a price in another currency is refused.
    let mut bad = new_product(&category, "LAMP-2");
    bad["variants"][0]["price"]["currency"] = json!("USD");
    let (status, _, body) = call(&app, "POST", "/admin/products", &admin, Some(bad)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["variants[0].price"].is_string(),
        "{body}"
    );
    let mut bad = new_product(&category, "LAMP-1");
    bad["name"] = json!("Another lamp");
    let (status, _, body) = call(&app, "POST", "/admin/products", &admin, Some(bad)).await;
    assert_eq!(status, 422, "a taken SKU: {body}");
    let (status, _, body) = call(
        &app,
        "POST",
        "/admin/products",
        &admin,
        Some(json!({"name": "x", "category_id": category, "price_minor": 1})),
    )
    .await;
    assert_eq!(status, 422, "an unknown field: {body}");

    // Publish with PUT; the shop now shows it.
    let mut fields = new_product(&category, "LAMP-1");
    fields.as_object_mut().unwrap().remove("variants");
    fields["status"] = json!("active");
    fields["name"] = json!("Harbour Lamp");
    fields["slug"] = json!(slug);
    let (status, _, product) = call(
        &app,
        "PUT",
        &format!("/admin/products/{id}"),
        &admin,
        Some(fields.clone()),
    )
    .await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product["status"], "active");
    let (status, _, shown) = send(client().get(api(&app, &format!("/products/{slug}")))).await;
    assert_eq!(status, 200);
    assert_eq!(shown["name"], "Harbour Lamp");

    // A second variant, then a change to it; stock moves only with a reason.
    let (status, _, product) = call(
        &app,
        "POST",
        &format!("/admin/products/{id}/variants"),
        &admin,
        Some(
            json!({"sku": "LAMP-1-BLK", "options": [{"name": "colour", "value": "black"}],
                    "price": {"amount_minor": 9900, "currency": "EUR"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let black = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "LAMP-1-BLK")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, product) = call(
        &app,
        "PUT",
        &format!("/admin/variants/{black}"),
        &admin,
        Some(
            json!({"sku": "LAMP-1-BLK", "options": [{"name": "colour", "value": "black"}],
                    "price": {"amount_minor": 9500, "currency": "EUR"}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{product}");
    let (status, _, body) = call(
        &app,
        "PUT",
        &format!("/admin/variants/{black}"),
        &admin,
        Some(
            json!({"sku": "LAMP-1-BLK", "price": {"amount_minor": 9500, "currency": "EUR"},
                    "initial_stock": 50}),
        ),
    )
    .await;
    assert_eq!(status, 422, "stock is not set by PUT: {body}");
    let stock = format!("/admin/variants/{black}/stock");
    let (status, _, body) = call(
        &app,
        "POST",
        &stock,
        &admin,
        Some(json!({"delta": 12, "reason": ""})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["reason"].is_string());
    let (status, _, body) = call(
        &app,
        "POST",
        &stock,
        &admin,
        Some(json!({"delta": 12, "reason": "delivery 4711"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["on_hand"], 12);
    let (status, _, body) = call(
        &app,
        "POST",
        &stock,
        &admin,
        Some(json!({"delta": -13, "reason": "count"})),
    )
    .await;
    assert_eq!(status, 422, "below zero: {body}");
    let (status, _, history) = call(
        &app,
        "GET",
        &format!("/admin/products/{id}/stock"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        history["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "delivery 4711" && e["delta"] == 12),
        "{history}"
    );

    // An image: the body is the file.
    let upload = |bytes: Vec<u8>, content_type: &'static str| {
        client()
            .post(api(
                &app,
                &format!("/admin/products/{id}/images?alt=The%20lamp"),
            ))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(bytes)
    };
    let picture = shop::seed::picture::paint("Home & Kitchen", "Lamp", None);
    let (status, _, product) = send(upload(picture.clone(), "image/png")).await;
    assert_eq!(status, 201, "{product}");
    assert_eq!(product["images"][0]["alt"], "The lamp");
    let image = product["images"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = send(upload(picture, "application/json")).await;
    assert_eq!(status, 415);
    let (status, _, body) = send(upload(b"not an image".to_vec(), "image/png")).await;
    assert_eq!(status, 422, "{body}");
    let (status, _, _) = call(
        &app,
        "DELETE",
        &format!("/admin/images/{image}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);

    // The list: drafts and archived products included, with its total.
    let (status, headers, list) =
        call(&app, "GET", "/admin/products?q=harbour", &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["pagination"]["total"], 1, "{list}");
    assert_eq!(headers["x-total-count"], "1");

    // DELETE archives: the shop no longer shows it, its record stays.
    let (status, _, product) = call(
        &app,
        "DELETE",
        &format!("/admin/products/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(product["status"], "archived");
    let (status, _, _) = send(client().get(api(&app, &format!("/products/{slug}")))).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&app, "GET", "/admin/products/not-an-id", &admin, None).await;
    assert_eq!(status, 404);

    // Categories: create, rename, refuse a loop, delete once empty.
    let (status, _, lamps) = call(
        &app,
        "POST",
        "/admin/categories",
        &admin,
        Some(json!({"name": "Lamps", "parent_id": category})),
    )
    .await;
    assert_eq!(status, 201, "{lamps}");
    let lamps_id = lamps["id"].as_str().unwrap().to_owned();
    assert_eq!(lamps["parent_id"], category.as_str());
    let (status, _, renamed) = call(
        &app,
        "PUT",
        &format!("/admin/categories/{lamps_id}"),
        &admin,
        Some(json!({"name": "Lights", "parent_id": category})),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Lights");
    let (status, _, body) = call(
        &app,
        "PUT",
        &format!("/admin/categories/{category}"),
        &admin,
        Some(json!({"name": "Loop", "parent_id": lamps_id})),
    )
    .await;
    assert_eq!(status, 422, "a category under its own child: {body}");
    let (status, _, _) = call(
        &app,
        "DELETE",
        &format!("/admin/categories/{lamps_id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);
    // Every change is in the audit log, by the admin through the API.
    let n = shop_testkit::count(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE actor_label = 'boss@example.com (API)'",
    )
    .await;
    assert!(n >= 8, "{n} audit entries");
    app.stop().await;
}

#[tokio::test]
async fn api_keys_work_within_their_scopes_until_revoked_or_expired_and_every_call_is_audited() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (admin, _) = admin_token(&app).await;
    let reader = key_for(&app, &admin, &["products:read"], None).await;

    let (status, _, list) = call(&app, "GET", "/admin/products", &reader, None).await;
    assert_eq!(status, 200, "{list}");
    let category = a_category(&app).await;
    let (status, headers, body) = call(
        &app,
        "POST",
        "/admin/products",
        &reader,
        Some(new_product(&category, "K-1")),
    )
    .await;
    assert_eq!(status, 403);
    assert_error(status, &headers, &body, "insufficient_scope");
    let (status, _, _) = call(&app, "GET", "/admin/orders", &reader, None).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(&app, "GET", "/admin/customers", &reader, None).await;
    assert_eq!(status, 403);
    // A key is not an access token for the store's routes.
    let (status, _, _) = call(&app, "GET", "/me", &reader, None).await;
    assert_eq!(status, 401);

    // Every call made with the key is in the audit log, with its answer; the key's last use
    // is recorded.
    let calls = shop_testkit::count(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'api_key.used'",
    )
    .await;
    assert_eq!(calls, 5);
    let refused = shop_testkit::count(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'api_key.used'
         AND after_json LIKE '%POST /api/v1/admin/products%' AND after_json LIKE '%403%'",
    )
    .await;
    assert_eq!(refused, 1);
    let used = shop_testkit::count(
        &app.db,
        "SELECT COUNT(*) FROM api_keys WHERE last_used_at IS NOT NULL",
    )
    .await;
    assert_eq!(used, 1);

    // A tampered key, a made-up one: 401.
    let mut tampered = reader.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let made_up = format!("shk_{}", "A".repeat(43));
    for bad in [
        tampered.as_str(),
        made_up.as_str(),
        "shk_notakey",
        "shk_0123456789abcdef0123456789abcdef_xx",
    ] {
        let (status, headers, body) = call(&app, "GET", "/admin/products", bad, None).await;
        assert_eq!(status, 401, "{bad}");
        assert_error(status, &headers, &body, "invalid_key");
    }

    // Revoked: 401 at once.
    let keys = auth::api_keys::list(&app.db, Some(&admin.id))
        .await
        .unwrap();
    auth::api_keys::revoke(&app.db, &app.clock, &admin, &keys[0].id)
        .await
        .unwrap();
    let (status, headers, body) = call(&app, "GET", "/admin/products", &reader, None).await;
    assert_eq!(status, 401);
    assert_error(status, &headers, &body, "key_revoked");

    // Expired: 401 once its time has passed.
    let short = key_for(
        &app,
        &admin,
        &["products:read"],
        Some(Duration::from_secs(30 * 86_400)),
    )
    .await;
    let (status, _, _) = call(&app, "GET", "/admin/products", &short, None).await;
    assert_eq!(status, 200);
    app.clock.advance(Duration::from_secs(31 * 86_400));
    let (status, headers, body) = call(&app, "GET", "/admin/products", &short, None).await;
    assert_eq!(status, 401);
    assert_error(status, &headers, &body, "key_expired");

    // A key of an owner who loses the admin role loses the admin scopes with it, at once.
    let email = shop_core::Email::parse("second@example.com").unwrap();
    auth::create_or_promote_admin(&app.db, &app.clock, &email, "Second", ADMIN_PASSWORD)
        .await
        .unwrap();
    let second = auth::find_by_email(&app.db, &email).await.unwrap().unwrap();
    let reports = key_for(&app, &second, &["customers:read"], None).await;
    let (status, _, _) = call(&app, "GET", "/admin/customers", &reports, None).await;
    assert_eq!(status, 200);
    auth::admin::revoke_role(&app.db, &app.clock, &admin, &second.id, auth::Role::Admin)
        .await
        .unwrap();
    let (status, _, body) = call(&app, "GET", "/admin/customers", &reports, None).await;
    assert_eq!(status, 403, "{body}");

    let (vendor_id, _) = vendor_token(&app, &admin, "vera@example.com").await;
    let vendor = auth::find(&app.db, &auth::UserId::parse(&vendor_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = auth::api_keys::create(
        &app.db,
        &app.clock,
        &vendor,
        &auth::api_keys::KeyInput {
            name: "Too much".to_owned(),
            scopes: vec![auth::api_keys::Scope::CustomersRead],
            expires_at: None,
        },
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(auth::AuthError::InvalidField {
                field: "scopes",
                ..
            })
        ),
        "{refused:?}"
    );

    // A disabled owner's keys stop working.
    let vendor_key = key_for(&app, &vendor, &["products:read"], None).await;
    let (status, _, _) = call(&app, "GET", "/admin/products", &vendor_key, None).await;
    assert_eq!(status, 200);
    auth::admin::set_status(
        &app.db,
        &app.clock,
        &admin,
        &vendor.id,
        auth::Status::Disabled,
    )
    .await
    .unwrap();
    let (status, _, _) = call(&app, "GET", "/admin/products", &vendor_key, None).await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn the_api_keys_page_shows_a_new_key_once_and_revokes_keys() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let browser = app.browser();
    app.admin(&browser).await;
    let res = app
        .post_form(
            &browser,
            "admin/api-key-create",
            "/admin/api-keys",
            &[
                ("name", "ERP <sync>"),
                ("scope_orders_read", "on"),
                ("scope_products_write", "on"),
                ("expires", "90"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = app.get_with(&browser, "/admin/api-keys").await;
    let doc = scraper::Html::parse_document(&page);
    let selector = scraper::Selector::parse("[data-testid=fresh-key-value]").unwrap();
    let key = doc
        .select(&selector)
        .next()
        .expect("the new key is shown")
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    assert!(key.starts_with("shk_"), "{key}");
    assert!(page.contains("ERP &lt;sync&gt;"), "the name is escaped");
    // Once: the next view no longer has it, and the database never had it.
    let again = app.get_with(&browser, "/admin/api-keys").await;
    assert!(!again.contains(&key));
    assert!(
        again.contains(&key[..12]),
        "its first characters tell it apart"
    );
    // Stored only as its hash and first characters: no table holds its secret part, the
    // maker's session included once the page has shown it.
    let secret_part = &key[12..];
    for table in ["api_keys", "audit_log", "sessions"] {
        let columns = match table {
            "api_keys" => "digest || prefix || name",
            "audit_log" => "COALESCE(after_json, '') || COALESCE(before_json, '')",
            _ => "data",
        };
        let found = shop_testkit::count(
            &app.db,
            &format!("SELECT COUNT(*) FROM {table} WHERE {columns} LIKE '%{secret_part}%'"),
        )
        .await;
        assert_eq!(found, 0, "{table} holds the key");
    }
    // It works with its scopes.
    let (status, _, _) = call(&app, "GET", "/admin/orders", &key, None).await;
    assert_eq!(status, 200);
    // A form with a field it should not have, no scope, or no name: refused.
    for form in [
        vec![("name", "x"), ("scope_root", "on")],
        vec![("name", "x"), ("expires", "90")],
        vec![("name", ""), ("scope_orders_read", "on")],
        vec![("name", "x"), ("scope_orders_read", "on"), ("expires", "7")],
    ] {
        let res = app.call(&browser, "admin/api-key-create", &form).await;
        assert!(
            res.status() == 400 || res.status() == 422,
            "{form:?}: {}",
            res.status()
        );
    }
    // Revoke through the page.
    let id = auth::api_keys::list(&app.db, None).await.unwrap()[0]
        .id
        .clone();
    let res = app
        .post_form(
            &browser,
            "admin/api-key-revoke",
            "/admin/api-keys",
            &[("id", &id)],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let (status, _, _) = call(&app, "GET", "/admin/orders", &key, None).await;
    assert_eq!(status, 401);
    // A customer cannot reach the page or make keys.
    let shopper = app.browser();
    app.register(&shopper, "Ada", "ada@example.com", PASSWORD)
        .await;
    let res = app
        .call(
            &shopper,
            "admin/api-key-create",
            &[("name", "x"), ("scope_orders_read", "on")],
        )
        .await;
    assert_eq!(res.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn a_vendor_reaches_only_their_own_products_by_token_or_key() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (admin, _) = admin_token(&app).await;
    let (_, vera) = vendor_token(&app, &admin, "vera@example.com").await;
    let (walt_id, walt) = vendor_token(&app, &admin, "walt@example.com").await;
    let category = a_category(&app).await;
    let (status, _, product) = call(
        &app,
        "POST",
        "/admin/products",
        &vera,
        Some(new_product(&category, "VERA-1")),
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_str().unwrap().to_owned();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();

    let walt_account = auth::find(&app.db, &auth::UserId::parse(&walt_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let walt_key = key_for(
        &app,
        &walt_account,
        &["products:read", "products:write"],
        None,
    )
    .await;
    for token in [&walt, &walt_key] {
        for (method, path, body) in [
            ("GET", format!("/admin/products/{id}"), None),
            (
                "PUT",
                format!("/admin/products/{id}"),
                Some(json!({"name": "Mine now", "category_id": category})),
            ),
            ("DELETE", format!("/admin/products/{id}"), None),
            (
                "POST",
                format!("/admin/variants/{variant}/stock"),
                Some(json!({"delta": -4, "reason": "gone"})),
            ),
            ("GET", format!("/admin/products/{id}/stock"), None),
        ] {
            let (status, headers, err) = call(&app, method, &path, token, body).await;
            assert_eq!(status, 404, "{method} {path}: {err}");
            assert_error(status, &headers, &err, "not_found");
        }
        // Their list does not have it; the admin-only scopes are refused.
        let (_, _, list) = call(&app, "GET", "/admin/products", token, None).await;
        assert_eq!(list["pagination"]["total"], 0, "{list}");
        let (status, _, _) = call(&app, "GET", "/admin/customers", token, None).await;
        assert_eq!(status, 403);
        let (status, _, _) = call(
            &app,
            "POST",
            "/admin/categories",
            token,
            Some(json!({"name": "Mine"})),
        )
        .await;
        assert_eq!(status, 403);
    }
    // Nothing changed; the vendor's own product is theirs to read.
    let (status, _, mine) = call(&app, "GET", &format!("/admin/products/{id}"), &vera, None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["variants"][0]["on_hand"], 4);
    assert_eq!(mine["status"], "draft");
    app.stop().await;
}

/// Places and pays an order for `sku` (of the product `slug`) × `quantity` as a new
/// customer `email`: its id.
async fn paid_order(app: &TestApp, email: &str, slug: &str, sku: &str, quantity: i64) -> String {
    let bearer = access(&account(app, email).await);
    let variant = crate::api::variant_of(app, slug, sku).await;
    let (status, _, cart) = send(
        client()
            .post(api(app, "/cart/items"))
            .bearer_auth(&bearer)
            .json(&json!({"variant_id": variant, "quantity": quantity})),
    )
    .await;
    assert_eq!(status, 200, "{cart}");
    let (_, _, methods) =
        send(client().get(api(app, "/checkout/shipping-methods?country=DE"))).await;
    let method = methods["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, placed) = send(
        client()
            .post(api(app, "/checkout"))
            .bearer_auth(&bearer)
            .json(&json!({"shipping_address": address(), "shipping_method_id": method})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    pay_offline(app, placed["payment_url"].as_str().unwrap()).await;
    placed["order"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn staff_ship_cancel_and_refund_orders_and_a_refund_key_refunds_once() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (admin_account, admin) = admin_token(&app).await;
    let first = paid_order(&app, "ada@example.com", "cast-iron-pan", "PAN-1", 3).await;
    let second = paid_order(&app, "bea@example.com", "cast-iron-pan", "PAN-1", 1).await;

    let (status, _, list) = call(&app, "GET", "/admin/orders?payment=paid", &admin, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list}");
    let (status, _, _) = call(&app, "GET", "/admin/orders?status=lost", &admin, None).await;
    assert_eq!(status, 422);

    let (status, _, order) =
        call(&app, "GET", &format!("/admin/orders/{first}"), &admin, None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["order"]["status"], "paid");
    let line = order["order"]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ship one of three units, then refund one unsent unit twice with one key: one refund.
    let (status, _, shipped) = call(
        &app,
        "POST",
        &format!("/admin/orders/{first}/shipments"),
        &admin,
        Some(json!({"carrier": "DHL", "tracking_number": "JD0001",
                    "lines": [{"line_id": line, "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{shipped}");
    assert_eq!(shipped["order"]["order"]["fulfilment"], "partial");
    let refund = || {
        client()
            .post(api(&app, &format!("/admin/orders/{first}/refunds")))
            .bearer_auth(&admin)
            .header("idempotency-key", "refund-42")
            .json(
                &json!({"lines": [{"line_id": line, "quantity": 1, "restock": true}],
                          "reason": "changed mind"}),
            )
    };
    // Sent twice at once (a client retrying a slow answer), then once more.
    let ((status_a, _, a), (status_b, _, b)) = tokio::join!(send(refund()), send(refund()));
    assert_eq!((status_a, status_b), (201, 201), "{a} {b}");
    assert_eq!(a["refund"]["id"], b["refund"]["id"]);
    let (status, _, c) = send(refund()).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(a["refund"]["id"], c["refund"]["id"]);
    // The same key asking for something else is refused, not answered with the first.
    let (status, _, other) = send(
        client()
            .post(api(&app, &format!("/admin/orders/{first}/refunds")))
            .bearer_auth(&admin)
            .header("idempotency-key", "refund-42")
            .json(&json!({"extra_minor": 500, "reason": "changed mind"})),
    )
    .await;
    assert_eq!(status, 422, "{other}");
    assert_eq!(
        a["refund"]["amount"],
        json!({"amount_minor": 3000, "currency": "EUR"})
    );
    let refunds = shop_testkit::count(&app.db, "SELECT COUNT(*) FROM refunds").await;
    assert_eq!(refunds, 1);
    // More than is left is refused.
    let (status, _, body) = send(
        client()
            .post(api(&app, &format!("/admin/orders/{first}/refunds")))
            .bearer_auth(&admin)
            .json(&json!({"extra_minor": 1_000_000})),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // Cancel the second order (unshipped): refunded in full.
    let (status, _, cancelled) = call(
        &app,
        "POST",
        &format!("/admin/orders/{second}/cancel"),
        &admin,
        Some(json!({"reason": "customer asked"})),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert!(
        ["cancelled", "refunded"].contains(&cancelled["order"]["status"].as_str().unwrap()),
        "{cancelled}"
    );
    // A shipped order cannot be cancelled.
    let (status, _, body) = call(
        &app,
        "POST",
        &format!("/admin/orders/{first}/cancel"),
        &admin,
        Some(json!({})),
    )
    .await;
    assert!(status == 409 || status == 422, "{status} {body}");

    // A key that may ship but not read gets the order it changed in the answer.
    let shipper = key_for(&app, &admin_account, &["orders:write"], None).await;
    let (status, _, shipped) = call(
        &app,
        "POST",
        &format!("/admin/orders/{first}/shipments"),
        &shipper,
        Some(json!({"carrier": "UPS", "lines": [{"line_id": line, "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{shipped}");
    assert_eq!(shipped["order"]["order"]["id"], first.as_str());
    let (status, _, _) = call(
        &app,
        "GET",
        &format!("/admin/orders/{first}"),
        &shipper,
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Orders scopes on keys: read-only cannot ship.
    let reader = key_for(&app, &admin_account, &["orders:read"], None).await;
    let (status, _, _) = call(
        &app,
        "GET",
        &format!("/admin/orders/{first}"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &app,
        "POST",
        &format!("/admin/orders/{first}/shipments"),
        &reader,
        Some(json!({"carrier": "DHL"})),
    )
    .await;
    assert_eq!(status, 403);
    // A vendor with no line in the order does not see it.
    let (_, vera) = vendor_token(&app, &admin_account, "vera@example.com").await;
    let (status, _, _) = call(&app, "GET", &format!("/admin/orders/{first}"), &vera, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &app,
        "POST",
        &format!("/admin/orders/{first}/refunds"),
        &vera,
        Some(json!({"extra_minor": 100})),
    )
    .await;
    assert_eq!(status, 404);

    // Customers and the analytics summary, for admins.
    let (status, headers, customers) =
        call(&app, "GET", "/admin/customers?q=example", &admin, None).await;
    assert_eq!(status, 200, "{customers}");
    assert!(customers["pagination"]["total"].as_i64().unwrap() >= 3);
    assert!(headers.contains_key("x-total-count"));
    let (status, _, summary) = call(
        &app,
        "GET",
        "/admin/analytics/summary?range=7d",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["orders"], 2, "{summary}");
    assert_eq!(summary["top_products"][0]["name"], "Cast Iron Pan");
    let (status, _, _) = call(
        &app,
        "GET",
        "/admin/analytics/summary?range=forever",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test]
async fn each_token_and_key_has_its_own_allowance_and_gets_429_with_retry_after() {
    let app = TestApp::with_catalog(
        TestOptions {
            env: vec![("API_RATE_LIMIT_PER_MINUTE", "6".to_owned())],
            ..TestOptions::default()
        },
        CATALOG,
    )
    .await;
    // Bursts of a sixth of the rate: one request, then 429 until the next is due.
    let ada = access(&account(&app, "ada@example.com").await);
    let bea = access(&account(&app, "bea@example.com").await);
    let (status, _) = get_as(&app, "/me", &ada).await;
    assert_eq!(status, 200);
    let (status, headers, body) = call(&app, "GET", "/me", &ada, None).await;
    assert_eq!(status, 429, "{body}");
    assert_error(status, &headers, &body, "rate_limited");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Signing in again does not buy more: the allowance is the user's.
    let (status, again) = post(
        &app,
        "/auth/token",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    let (status, _, _) = call(&app, "GET", "/me", &access(&again), None).await;
    assert_eq!(status, 429);
    // Another user has their own allowance, and so does a key; requests without a
    // credential count per client address (unlimited here).
    let (status, _) = get_as(&app, "/me", &bea).await;
    assert_eq!(status, 200);
    let email = shop_core::Email::parse("boss@example.com").unwrap();
    auth::create_or_promote_admin(&app.db, &app.clock, &email, "Boss", ADMIN_PASSWORD)
        .await
        .unwrap();
    let boss = auth::find_by_email(&app.db, &email).await.unwrap().unwrap();
    let key = key_for(&app, &boss, &["products:read"], None).await;
    let (status, _, _) = call(&app, "GET", "/admin/products", &key, None).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(&app, "GET", "/admin/products", &key, None).await;
    assert_eq!(status, 429);
    for _ in 0..5 {
        let (status, _, _) = send(client().get(api(&app, "/categories"))).await;
        assert_eq!(status, 200);
    }
    app.stop().await;

    // Per client address, for requests without a working credential (a made-up token too).
    let app = TestApp::with_catalog(
        TestOptions {
            env: vec![("RATE_LIMIT_PER_MINUTE", "6".to_owned())],
            ..TestOptions::default()
        },
        CATALOG,
    )
    .await;
    let (status, _, _) = send(client().get(api(&app, "/categories"))).await;
    assert_eq!(status, 200);
    let (status, headers, body) = send(
        client()
            .get(api(&app, "/categories"))
            .bearer_auth("made-up"),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert!(headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn a_vendor_lists_their_orders_without_the_customers_address_or_the_orders_money() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (admin, _) = admin_token(&app).await;
    let (_, vera) = vendor_token(&app, &admin, "vera@example.com").await;
    let category = a_category(&app).await;
    let mut lamp = new_product(&category, "VERA-LAMP");
    lamp["status"] = json!("active");
    lamp["slug"] = json!("vera-lamp");
    let (status, _, product) = call(&app, "POST", "/admin/products", &vera, Some(lamp)).await;
    assert_eq!(status, 201, "{product}");
    let order = paid_order(&app, "ada@example.com", "vera-lamp", "VERA-LAMP", 1).await;

    let (status, _, list) = call(&app, "GET", "/admin/orders", &vera, None).await;
    assert_eq!(status, 200, "{list}");
    let row = &list["data"][0];
    assert_eq!(row["id"], order.as_str());
    assert!(row["email"].is_null() && row["total"].is_null(), "{row}");
    assert!(
        row["refunded"].is_null() && row["review_reason"].is_null(),
        "{row}"
    );
    // Searching by the customer's address or sorting by money is not theirs to do.
    for query in ["?q=ada", "?payment=paid", "?sort=total_desc"] {
        let (status, _, body) =
            call(&app, "GET", &format!("/admin/orders{query}"), &vera, None).await;
        assert_eq!(status, 422, "{query}: {body}");
    }
    let (status, _, detail) =
        call(&app, "GET", &format!("/admin/orders/{order}"), &vera, None).await;
    assert_eq!(status, 200, "{detail}");
    assert!(detail["customer_id"].is_null(), "{detail}");
    assert_eq!(
        detail["order"]["total"]["amount_minor"], 0,
        "no order totals"
    );
    assert_eq!(detail["order"]["lines"].as_array().unwrap().len(), 1);
    // The admin sees it all.
    let (_, admin_token_text) = {
        let (status, tokens) = post(
            &app,
            "/auth/token",
            json!({"email": ADMIN, "password": ADMIN_PASSWORD}),
        )
        .await;
        assert_eq!(status, 200);
        (status, access(&tokens))
    };
    let (_, _, list) = call(&app, "GET", "/admin/orders", &admin_token_text, None).await;
    assert_eq!(list["data"][0]["email"], "ada@example.com");
    assert_eq!(list["data"][0]["total"]["amount_minor"], 8900);
    app.stop().await;
}
