//! The JSON API through the real router: accounts and tokens (refresh rotation, reuse,
//! tampering, expiry, sign-out), catalog reads (pages, `Link`, `ETag`), the one error shape for
//! every refusal, and the OpenAPI document against the router.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::{TestApp, TestOptions, contract};

pub(crate) const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A **seasoned** pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron"}}
{"sku":"PAN-2","name":"Enamelled Frying Pan","description":"Enamelled cast iron.","category":"Home & Kitchen > Cookware > Pans","price_minor":5000,"currency":"EUR","stock":0,"brand":"Nordhavn","attributes":{}}
{"sku":"KET-1","name":"Copperleaf Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4000,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{}}
{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":0,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":30,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
"#;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// An API client: no cookies, no redirects.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends a request to the API; the answer's status and body are checked against the
/// OpenAPI document ([`contract::check`]).
pub(crate) async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let (client, req) = req.build_split();
    let req = req.unwrap();
    let (method, path) = (req.method().to_string(), req.url().path().to_owned());
    let res = client.execute(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
    };
    contract::check(&method, &path, status, &body);
    (status, headers, body)
}

pub(crate) fn api(app: &TestApp, path: &str) -> String {
    app.url(&format!("/api/v1{path}"))
}

pub(crate) async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(client().post(api(app, path)).json(&body)).await;
    (status, body)
}

pub(crate) async fn get_as(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let (status, _, body) = send(client().get(api(app, path)).bearer_auth(token)).await;
    (status, body)
}

/// Asserts `body` is the one error shape with `code`, and that its request id is the one
/// the response header carries.
pub(crate) fn assert_error(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    code: &str,
) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{status}: {body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(error["request_id"], id, "{body}");
    assert_eq!(headers["content-type"], "application/json");
}

/// Registers and confirms `email` through the API; its first tokens.
pub(crate) async fn account(app: &TestApp, email: &str) -> Value {
    let (status, body) = post(
        app,
        "/auth/register",
        json!({"email": email, "password": PASSWORD, "display_name": "Ada"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    app.deliver_outbox().await;
    let token = app.token_from_mail(email, "/verify-email");
    let (status, me) = post(app, "/auth/verify", json!({ "token": token })).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email_verified"], true);
    let (status, tokens) = post(
        app,
        "/auth/token",
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// Trades `token` at the refresh endpoint.
async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    post(app, "/auth/refresh", json!({ "refresh_token": token })).await
}

pub(crate) fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn refresh_of(tokens: &Value) -> String {
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn register_confirm_sign_in_refresh_with_reuse_detection_and_sign_out() {
    let app = TestApp::spawn().await;
    let tokens = account(&app, "ada@example.com").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["refresh_expires_in"], 7 * 24 * 3600);

    let (status, me) = get_as(&app, "/me", &access(&tokens)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["email"].as_str(), me["roles"].clone()),
        (Some("ada@example.com"), json!(["customer"]))
    );

    // Registering an address that has an account answers the same.
    let (status, again) = post(
        &app,
        "/auth/register",
        json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "Eve"}),
    )
    .await;
    assert_eq!(status, 202, "{again}");

    // A refresh gives a new pair; both old and new access tokens work until the family ends.
    let (status, second) = refresh(&app, &refresh_of(&tokens)).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(refresh_of(&second), refresh_of(&tokens));
    assert_eq!(get_as(&app, "/me", &access(&second)).await.0, 200);

    // The first refresh token again: it was copied. The whole sign-in ends.
    let (status, reused) = refresh(&app, &refresh_of(&tokens)).await;
    assert_eq!(status, 401, "{reused}");
    assert_eq!(reused["error"]["code"], "refresh_token_reused");
    let (status, ended) = get_as(&app, "/me", &access(&second)).await;
    assert_eq!(
        (status, ended["error"]["code"].as_str()),
        (401, Some("session_ended"))
    );
    let (status, _) = refresh(&app, &refresh_of(&second)).await;
    assert_eq!(status, 401);

    // A new sign-in, signed out: its tokens stop at once.
    let (_, third) = post(
        &app,
        "/auth/token",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    let (status, _, body) = send(
        client()
            .post(api(&app, "/auth/sign-out"))
            .bearer_auth(access(&third)),
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(get_as(&app, "/me", &access(&third)).await.0, 401);
    let (status, _) = refresh(&app, &refresh_of(&third)).await;
    assert_eq!(status, 401);

    // Wrong password: 401, the sign-in page's message; unknown refresh tokens: 401.
    let (status, wrong) = post(
        &app,
        "/auth/token",
        json!({"email": "ada@example.com", "password": "not the password"}),
    )
    .await;
    assert_eq!(
        (status, wrong["error"]["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, unknown) = refresh(&app, "nope").await;
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (401, Some("invalid_token"))
    );
    app.stop().await;
}

#[tokio::test]
async fn tampered_forged_expired_and_missing_access_tokens_get_401() {
    let app = TestApp::spawn().await;
    let tokens = account(&app, "ada@example.com").await;
    let token = access(&tokens);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // Another user's id in the claims, the signature kept.
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("someone-else");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    // "alg": "none" with no signature.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    for bad in [tampered.as_str(), none.as_str(), "garbage", "a.b.c"] {
        let (status, headers, body) = send(client().get(api(&app, "/me")).bearer_auth(bad)).await;
        assert_eq!(status, 401, "{bad}: {body}");
        assert_error(status, &headers, &body, "invalid_token");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    let (status, headers, body) = send(client().get(api(&app, "/me"))).await;
    assert_eq!(status, 401);
    assert_error(status, &headers, &body, "unauthorized");
    let (status, headers, body) = send(
        client()
            .get(api(&app, "/me"))
            .header("authorization", format!("Basic {token}")),
    )
    .await;
    assert_eq!(status, 401);
    assert_error(status, &headers, &body, "invalid_token");

    // Fifteen minutes on, the access token has expired; the refresh token still works.
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    let (status, expired) = get_as(&app, "/me", &token).await;
    assert_eq!(
        (status, expired["error"]["code"].as_str()),
        (401, Some("token_expired"))
    );
    let (status, fresh) = refresh(&app, &refresh_of(&tokens)).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(get_as(&app, "/me", &access(&fresh)).await.0, 200);

    // A week on, the refresh token has expired too.
    app.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let (status, late) = refresh(&app, &refresh_of(&fresh)).await;
    assert_eq!(
        (status, late["error"]["code"].as_str()),
        (401, Some("token_expired"))
    );

    // Housekeeping then removes the dead sign-in and its tokens.
    let count = |table: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    assert_eq!(count("api_sessions").await, 1);
    assert_eq!(count("api_refresh_tokens").await, 2);
    shop::housekeeping::run_once(&app.db, &app.clock)
        .await
        .unwrap();
    assert_eq!(count("api_sessions").await, 0);
    assert_eq!(count("api_refresh_tokens").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn products_are_listed_paged_filtered_and_read_with_an_etag() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let c = client();

    let (status, _, cats) = send(c.get(api(&app, "/categories"))).await;
    assert_eq!(status, 200, "{cats}");
    let slugs: Vec<&str> = cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert!(
        slugs.contains(&"pans") && slugs.contains(&"kettles"),
        "{slugs:?}"
    );

    let (status, headers, all) = send(c.get(api(&app, "/products?sort=price-asc"))).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["pagination"]["total"], 4);
    assert_eq!(headers["x-total-count"], "4");
    let prices: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(prices, vec![1500, 3000, 4000, 5000]);
    assert_eq!(all["data"][0]["price"]["currency"], "EUR");
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"first\"") && link.contains("rel=\"last\""),
        "{link}"
    );
    assert!(link.contains("sort=price-asc"), "{link}");

    let (status, _, pans) = send(c.get(api(&app, "/products?category=pans&in_stock=true"))).await;
    assert_eq!(status, 200, "{pans}");
    assert_eq!(pans["pagination"]["total"], 1);
    assert_eq!(pans["data"][0]["slug"], "cast-iron-pan");
    let (status, headers, body) = send(c.get(api(&app, "/products?category=nope"))).await;
    assert_eq!(status, 404);
    assert_error(status, &headers, &body, "not_found");
    for bad in [
        "sort=cheapest",
        "page=0",
        "page=x",
        "in_stock=maybe",
        "colour=red",
    ] {
        let (status, headers, body) = send(c.get(api(&app, &format!("/products?{bad}")))).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
        assert_eq!(
            body["error"]["request_id"],
            headers["x-request-id"].to_str().unwrap()
        );
    }

    let (status, _, found) = send(c.get(api(&app, "/search?q=kettle"))).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"][0]["slug"], "copperleaf-kettle");
    let (status, _, _) = send(c.get(api(&app, "/search?q=%20"))).await;
    assert_eq!(status, 422);

    // A product with variants, their stock and an ETag that answers 304 until it changes.
    let (status, headers, tee) = send(c.get(api(&app, "/products/fernhill-tee"))).await;
    assert_eq!(status, 200, "{tee}");
    let variants = tee["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["options"]["size"], "S");
    assert_eq!(variants[0]["stock_status"], "out_of_stock");
    assert_eq!(variants[1]["stock_status"], "in_stock");
    assert_eq!(
        variants[1]["price"],
        json!({"amount_minor": 1700, "currency": "EUR"})
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let res = c
        .get(api(&app, "/products/fernhill-tee"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    sqlx::query("UPDATE product_variants SET price_minor = 1800 WHERE sku = 'TEE-M'")
        .execute(app.db.reader())
        .await
        .unwrap();
    let changed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let res = c
                .get(api(&app, "/products/fernhill-tee"))
                .header("if-none-match", &etag)
                .send()
                .await
                .unwrap();
            if res.status() == 200 {
                return res.headers()["etag"].to_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await
    .expect("the change shows within the catalog's read cache time");
    assert_ne!(changed, etag);

    // Not for sale: a draft is not found.
    sqlx::query("UPDATE products SET status = 'draft' WHERE slug = 'copperleaf-kettle'")
        .execute(app.db.reader())
        .await
        .unwrap();
    let gone = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let (status, headers, body) =
                send(c.get(api(&app, "/products/copperleaf-kettle"))).await;
            if status == 404 {
                return (status, headers, body);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await
    .expect("a draft is hidden within the read cache time");
    assert_error(gone.0, &gone.1, &gone.2, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn malformed_and_misdirected_requests_get_the_one_error_shape_never_a_500() {
    let app = TestApp::spawn().await;
    let c = client();
    let url = api(&app, "/auth/token");
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "malformed JSON",
            c.post(&url)
                .header("content-type", "application/json")
                .body("{\"email\":"),
            400,
            "malformed_json",
        ),
        (
            "not JSON",
            c.post(&url)
                .header("content-type", "text/plain")
                .body("email=a"),
            400,
            "invalid_content_type",
        ),
        (
            "wrong type",
            c.post(&url).json(&json!({"email": 5, "password": "x"})),
            422,
            "invalid_body",
        ),
        (
            "unknown field",
            c.post(&url)
                .json(&json!({"email": "a@b.co", "password": "x", "admin": true})),
            422,
            "invalid_body",
        ),
        (
            "missing field",
            c.post(&url).json(&json!({"email": "a@b.co"})),
            422,
            "invalid_body",
        ),
        (
            "oversized",
            c.post(&url)
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"email\":\"{}\",\"password\":\"x\"}}",
                    "a".repeat(200_000)
                )),
            400,
            "body_too_large",
        ),
        ("unknown path", c.get(api(&app, "/nope")), 404, "not_found"),
        (
            "wrong method",
            c.delete(api(&app, "/categories")),
            405,
            "method_not_allowed",
        ),
        (
            "register, bad address",
            c.post(api(&app, "/auth/register")).json(
                &json!({"email": "not an address", "password": PASSWORD, "display_name": "A"}),
            ),
            422,
            "validation_failed",
        ),
        (
            "register, weak password",
            c.post(api(&app, "/auth/register"))
                .json(&json!({"email": "b@example.com", "password": "short", "display_name": "B"})),
            422,
            "validation_failed",
        ),
        (
            "verify, forged token",
            c.post(api(&app, "/auth/verify"))
                .json(&json!({"token": "forged"})),
            422,
            "validation_failed",
        ),
    ];
    for (what, req, want, code) in cases {
        let (status, headers, body) = send(req).await;
        assert_eq!(status, want, "{what}: {body}");
        assert_error(status, &headers, &body, code);
    }
    let (_, _, weak) = send(
        c.post(api(&app, "/auth/register"))
            .json(&json!({"email": "b@example.com", "password": "short", "display_name": "B"})),
    )
    .await;
    assert!(weak["error"]["fields"]["password"].is_string(), "{weak}");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_names_exactly_the_routes_that_answer() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let (status, _, doc) = send(client().get(api(&app, "/openapi.json"))).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
            // Every operation documents its answers, errors in the one shape.
            let responses = op["responses"].as_object().unwrap();
            for common in ["401", "429", "500", "503"] {
                assert!(responses.contains_key(common), "{method} {path} {common}");
            }
            for (code, response) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
    let expected: BTreeSet<String> = [
        "POST /auth/register",
        "POST /auth/verify",
        "POST /auth/token",
        "POST /auth/refresh",
        "POST /auth/sign-out",
        "GET /me",
        "GET /categories",
        "GET /products",
        "GET /products/{slug}",
        "GET /search",
        "GET /cart",
        "DELETE /cart",
        "POST /cart/items",
        "PATCH /cart/items/{line_id}",
        "DELETE /cart/items/{line_id}",
        "GET /checkout/shipping-methods",
        "POST /checkout",
        "GET /orders",
        "GET /orders/{id}",
        "POST /orders/{id}/cancel",
        "GET /admin/products",
        "POST /admin/products",
        "GET /admin/products/{id}",
        "PUT /admin/products/{id}",
        "DELETE /admin/products/{id}",
        "POST /admin/products/{id}/variants",
        "PUT /admin/variants/{id}",
        "POST /admin/variants/{id}/stock",
        "GET /admin/products/{id}/stock",
        "POST /admin/products/{id}/images",
        "DELETE /admin/images/{id}",
        "POST /admin/categories",
        "PUT /admin/categories/{id}",
        "DELETE /admin/categories/{id}",
        "GET /admin/orders",
        "GET /admin/orders/{id}",
        "POST /admin/orders/{id}/shipments",
        "POST /admin/orders/{id}/cancel",
        "POST /admin/orders/{id}/refunds",
        "GET /admin/customers",
        "GET /admin/analytics/summary",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);
    // Each is routed: none answers the router's own "no such endpoint" or 405.
    for op in &operations {
        let (method, path) = op.split_once(' ').unwrap();
        let path = path
            .replace("{slug}", "cast-iron-pan")
            .replace("{line_id}", "01890a5d-ac96-774b-bcce-b302099a8057")
            .replace("{id}", "01890a5d-ac96-774b-bcce-b302099a8057");
        let req = client().request(method.parse().unwrap(), api(&app, &path));
        let (status, _, body) = send(req.json(&json!({}))).await;
        assert_ne!(status, 405, "{op}");
        assert_ne!(
            body["error"]["message"], "There is no such endpoint.",
            "{op}: {status} {body}"
        );
        assert!(status < 500, "{op}: {status} {body}");
    }
    // The same document as the code builds.
    assert_eq!(doc, serde_json::to_value(shop::api::document()).unwrap());
    // No server function lives under the API's prefix.
    let clashing: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with("/api/v1"))
        .collect();
    assert!(clashing.is_empty(), "{clashing:?}");
    assert!(leptos::server_fn::axum::server_fn_paths().count() > 40);
    app.stop().await;
}

/// The variant id of `sku` as the API shows it on its product.
pub(crate) async fn variant_of(app: &TestApp, slug: &str, sku: &str) -> String {
    let (status, _, product) = send(client().get(api(app, &format!("/products/{slug}")))).await;
    assert_eq!(status, 200, "{product}");
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == sku)
        .unwrap_or_else(|| panic!("{sku} in {product}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn cart_call(
    req: reqwest::RequestBuilder,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    match token {
        Some(t) => send(req.header("x-cart-token", t)).await,
        None => send(req).await,
    }
}

#[tokio::test]
async fn a_guest_fills_a_cart_by_its_token_and_nobody_else_can_touch_it() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let c = client();
    let tee_m = variant_of(&app, "fernhill-tee", "TEE-M").await;
    let pan = variant_of(&app, "cast-iron-pan", "PAN-1").await;

    // No cart yet: an empty one, no token.
    let (status, _, empty) = cart_call(c.get(api(&app, "/cart")), None).await;
    assert_eq!((status, empty["units"].as_i64()), (200, Some(0)), "{empty}");
    assert!(empty["cart_token"].is_null());

    // The first add makes the cart and names its token.
    let (status, _, first) = cart_call(
        c.post(api(&app, "/cart/items"))
            .json(&json!({"variant_id": tee_m, "quantity": 2})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let token = first["cart_token"].as_str().unwrap().to_owned();
    assert_eq!(first["units"], 2);
    assert_eq!(
        first["subtotal"],
        json!({"amount_minor": 3400, "currency": "EUR"})
    );
    let (status, _, second) = cart_call(
        c.post(api(&app, "/cart/items"))
            .json(&json!({"variant_id": pan, "quantity": 99})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["cart_token"], token.as_str());
    assert_eq!(second["lines"].as_array().unwrap().len(), 2);
    // Capped at the 5 in stock; the price is the catalog's, whatever the client thinks.
    let pan_line = &second["lines"][1];
    assert_eq!(
        (
            pan_line["quantity"].as_i64(),
            pan_line["line_total"]["amount_minor"].as_i64()
        ),
        (Some(5), Some(15_000))
    );
    assert_eq!(second["subtotal"]["amount_minor"], 18_400);
    let line = pan_line["id"].as_str().unwrap().to_owned();

    // A forged token, another cart's line, bad quantities and unknown variants are refused.
    let forged = format!("{}.AAAA", token.split('.').next().unwrap());
    let (status, headers, body) = cart_call(c.get(api(&app, "/cart")), Some(&forged)).await;
    assert_eq!(status, 401);
    assert_error(status, &headers, &body, "invalid_cart_token");
    let (_, _, other) = cart_call(
        c.post(api(&app, "/cart/items"))
            .json(&json!({"variant_id": tee_m, "quantity": 1})),
        None,
    )
    .await;
    let other_token = other["cart_token"].as_str().unwrap();
    let (status, headers, body) = cart_call(
        c.patch(api(&app, &format!("/cart/items/{line}")))
            .json(&json!({"quantity": 1})),
        Some(other_token),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_error(status, &headers, &body, "not_found");
    let (status, _, _) = cart_call(
        c.delete(api(&app, &format!("/cart/items/{line}"))),
        Some(other_token),
    )
    .await;
    assert_eq!(status, 404);
    for (payload, code) in [
        (
            json!({"variant_id": tee_m, "quantity": 0}),
            "validation_failed",
        ),
        (
            json!({"variant_id": tee_m, "quantity": 100}),
            "validation_failed",
        ),
        (
            json!({"variant_id": "nope", "quantity": 1}),
            "validation_failed",
        ),
        (
            json!({"variant_id": tee_m, "quantity": "1"}),
            "invalid_body",
        ),
        (
            json!({"variant_id": tee_m, "quantity": 1, "price_minor": 1}),
            "invalid_body",
        ),
    ] {
        let (status, headers, body) = cart_call(
            c.post(api(&app, "/cart/items")).json(&payload),
            Some(&token),
        )
        .await;
        assert_eq!(status, 422, "{payload}: {body}");
        assert_error(status, &headers, &body, code);
    }
    let tee_s = variant_of(&app, "fernhill-tee", "TEE-S").await;
    let (status, headers, body) = cart_call(
        c.post(api(&app, "/cart/items"))
            .json(&json!({"variant_id": tee_s, "quantity": 1})),
        Some(&token),
    )
    .await;
    assert_eq!(status, 409);
    assert_error(status, &headers, &body, "out_of_stock");

    // The owner changes and removes lines, then empties the cart.
    let (status, _, changed) = cart_call(
        c.patch(api(&app, &format!("/cart/items/{line}")))
            .json(&json!({"quantity": 1})),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, changed["units"].as_i64()),
        (200, Some(3)),
        "{changed}"
    );
    let (status, _, removed) = cart_call(
        c.delete(api(&app, &format!("/cart/items/{line}"))),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, removed["units"].as_i64()),
        (200, Some(2)),
        "{removed}"
    );
    let (status, _, cleared) = cart_call(c.delete(api(&app, "/cart")), Some(&token)).await;
    assert_eq!(
        (status, cleared["units"].as_i64()),
        (200, Some(0)),
        "{cleared}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_customers_api_cart_is_their_account_cart() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let tokens = account(&app, "ada@example.com").await;
    let bearer = access(&tokens);
    let kettle = variant_of(&app, "copperleaf-kettle", "KET-1").await;
    let (status, _, added) = send(
        client()
            .post(api(&app, "/cart/items"))
            .bearer_auth(&bearer)
            .json(&json!({"variant_id": kettle, "quantity": 1})),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert!(
        added["cart_token"].is_null(),
        "a customer's cart needs no token"
    );
    // The same cart from a second sign-in (another device).
    let (_, second) = post(
        &app,
        "/auth/token",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    let (status, _, seen) = send(
        client()
            .get(api(&app, "/cart"))
            .bearer_auth(access(&second)),
    )
    .await;
    assert_eq!((status, seen["units"].as_i64()), (200, Some(1)), "{seen}");
    assert_eq!(seen["lines"][0]["variant_id"], kettle.as_str());
    // A bad bearer token is refused, not taken for a guest.
    let (status, _, _) = send(client().get(api(&app, "/cart")).bearer_auth("nope")).await;
    assert_eq!(status, 401);
    app.stop().await;
}

pub(crate) fn address() -> Value {
    json!({
        "full_name": "Ada Lovelace",
        "line1": "12 Byron Street",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE"
    })
}

/// Pays on the offline provider's page, as the shopper's browser would.
pub(crate) async fn pay_offline(app: &TestApp, payment_url: &str) {
    let start = payment_url
        .find("/pay/offline/")
        .unwrap_or_else(|| panic!("not the offline provider's page: {payment_url}"));
    let path = payment_url[start..].to_owned();
    let session = path.rsplit('/').next().unwrap().to_owned();
    crate::checkout::post(
        app,
        &app.browser(),
        "pay/offline/choose",
        &path,
        &[("session", &session), ("choice", "pay")],
    )
    .await;
}

#[tokio::test]
async fn the_api_journey_from_sign_up_to_a_paid_order_with_one_order_per_idempotency_key() {
    let app = TestApp::with_catalog(
        TestOptions {
            env: vec![("WEBHOOK_ALLOW_LOOPBACK", "true".to_owned())],
            ..TestOptions::default()
        },
        CATALOG,
    )
    .await;
    // The shop's ERP listens for paid orders.
    let erp = crate::webhooks::Receiver::start(200).await;
    let endpoint = notifications::webhooks::create(
        &app.db,
        &app.clock,
        &shop_core::audit::Actor::system("test"),
        notifications::webhooks::Policy {
            allow_loopback: true,
        },
        &notifications::webhooks::EndpointInput {
            url: erp.url.clone(),
            description: "ERP".to_owned(),
            events: vec!["order.paid".to_owned()],
            active: true,
        },
    )
    .await
    .unwrap();
    let tokens = account(&app, "ada@example.com").await;
    let bearer = access(&tokens);
    let c = client();

    // Search, then add the first hit's only variant.
    let (_, _, found) = send(c.get(api(&app, "/search?q=cast%20iron%20pan"))).await;
    let variant = found["data"][0]["sole_variant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, cart) = send(
        c.post(api(&app, "/cart/items"))
            .bearer_auth(&bearer)
            .json(&json!({"variant_id": variant, "quantity": 2})),
    )
    .await;
    assert_eq!(status, 200, "{cart}");

    let (status, _, methods) =
        send(c.get(api(&app, "/checkout/shipping-methods?country=DE"))).await;
    assert_eq!(status, 200, "{methods}");
    let standard = methods["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Standard")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Place the order twice with one key (a retry): one order. A price in the body is refused.
    let body = json!({"shipping_address": address(), "shipping_method_id": standard});
    let place = || {
        c.post(api(&app, "/checkout"))
            .bearer_auth(&bearer)
            .header("idempotency-key", "order-attempt-1")
            .json(&body)
    };
    let (status, _, first) = send(place()).await;
    assert_eq!(status, 201, "{first}");
    let (status, _, again) = send(place()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(first["order"]["id"], again["order"]["id"]);
    let order = &first["order"];
    assert_eq!(order["status"], "pending_payment");
    // 2 × 30.00, free shipping over 50.00: the server's figures.
    assert_eq!(
        order["subtotal"],
        json!({"amount_minor": 6000, "currency": "EUR"})
    );
    assert_eq!(order["total"]["amount_minor"], 6000);
    assert!(first["order_token"].is_null());
    let (status, _, tampered) = send(c.post(api(&app, "/checkout")).bearer_auth(&bearer).json(
        &json!({"shipping_address": address(), "shipping_method_id": standard, "total_minor": 1}),
    ))
    .await;
    assert_eq!(status, 422, "{tampered}");
    let id = order["id"].as_str().unwrap().to_owned();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(count, 1);

    pay_offline(&app, first["payment_url"].as_str().unwrap()).await;
    let (status, paid) = get_as(&app, &format!("/orders/{id}"), &bearer).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("paid")),
        "{paid}"
    );
    // The ERP got `order.paid` once, signed with the endpoint's secret, about this order.
    app.deliver_outbox().await;
    let got = erp.requests();
    assert_eq!(got.len(), 1, "only the subscribed event: {got:?}");
    let (headers, raw) = &got[0];
    assert_eq!(headers["shop-event"], "order.paid");
    let signature = headers["shop-signature"].to_str().unwrap();
    let now = app.clock.now().millis() / 1000;
    assert!(notifications::webhooks::verify(
        &endpoint.secret,
        signature,
        raw,
        now
    ));
    assert!(!notifications::webhooks::verify(
        "whsec_other",
        signature,
        raw,
        now
    ));
    let event: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(event["type"], "order.paid");
    assert_eq!(event["data"]["order"]["id"], id.as_str());
    assert_eq!(event["data"]["order"]["status"], "paid");
    assert_eq!(event["data"]["order"]["total"]["amount_minor"], 6000);
    assert!(paid["payment_url"].is_null());
    // The same key after paying (the cart is empty now): still the first order, nothing to pay.
    let (status, _, late) = send(place()).await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["order"]["id"], id.as_str());
    assert_eq!(late["order"]["status"], "paid");
    assert!(late["payment_url"].is_null(), "{late}");
    // A new key with the empty cart: nothing to order.
    let (status, headers, empty) = send(
        c.post(api(&app, "/checkout"))
            .bearer_auth(&bearer)
            .header("idempotency-key", "order-attempt-2")
            .json(&body),
    )
    .await;
    assert_eq!(status, 409, "{empty}");
    assert_error(status, &headers, &empty, "empty_cart");
    let (status, list) = get_as(&app, "/orders", &bearer).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert_eq!(list["has_more"], false);

    // Another customer sees neither the order nor can cancel it.
    let eve = access(&account(&app, "eve@example.com").await);
    let (status, _) = get_as(&app, &format!("/orders/{id}"), &eve).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(
        c.post(api(&app, &format!("/orders/{id}/cancel")))
            .bearer_auth(&eve),
    )
    .await;
    assert_eq!(status, 404);
    let (status, eve_list) = get_as(&app, "/orders", &eve).await;
    assert_eq!(
        (status, eve_list["data"].as_array().unwrap().len()),
        (200, 0)
    );

    // Its customer cancels it: refunded in full, the units back.
    let (status, _, cancelled) = send(
        c.post(api(&app, &format!("/orders/{id}/cancel")))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert!(
        ["cancelled", "refunded"].contains(&cancelled["status"].as_str().unwrap()),
        "{cancelled}"
    );
    let (status, headers, twice) = send(
        c.post(api(&app, &format!("/orders/{id}/cancel")))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, 409, "{twice}");
    assert_error(status, &headers, &twice, "illegal_transition");
    app.stop().await;
}

#[tokio::test]
async fn a_guest_checks_out_by_cart_token_and_reads_the_order_by_its_token() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let c = client();
    let kettle = variant_of(&app, "copperleaf-kettle", "KET-1").await;
    let (_, _, cart) = send(
        c.post(api(&app, "/cart/items"))
            .json(&json!({"variant_id": kettle, "quantity": 1})),
    )
    .await;
    let token = cart["cart_token"].as_str().unwrap().to_owned();
    let (_, _, methods) = send(c.get(api(&app, "/checkout/shipping-methods?country=DE"))).await;
    let method = methods["data"][0]["id"].as_str().unwrap().to_owned();

    // A guest names the address for the mails; bad addresses name their field.
    let (status, headers, missing) = send(
        c.post(api(&app, "/checkout"))
            .header("x-cart-token", &token)
            .json(&json!({"shipping_address": address(), "shipping_method_id": method})),
    )
    .await;
    assert_eq!(status, 422);
    assert_error(status, &headers, &missing, "validation_failed");
    assert!(missing["error"]["fields"]["email"].is_string(), "{missing}");
    let mut bad = address();
    bad["postal_code"] = json!("");
    let (status, _, bad) = send(
        c.post(api(&app, "/checkout"))
            .header("x-cart-token", &token)
            .json(&json!({"email": "guest@example.com", "shipping_address": bad, "shipping_method_id": method})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad["error"]["fields"]["shipping_address.postal_code"].is_string(),
        "{bad}"
    );
    // No cart: nothing to place.
    let (status, _, empty) = send(
        c.post(api(&app, "/checkout"))
            .json(&json!({"email": "guest@example.com", "shipping_address": address(), "shipping_method_id": method})),
    )
    .await;
    assert_eq!(
        (status, empty["error"]["code"].as_str()),
        (409, Some("empty_cart"))
    );

    let (status, _, placed) = send(
        c.post(api(&app, "/checkout"))
            .header("x-cart-token", &token)
            .json(&json!({"email": "guest@example.com", "shipping_address": address(), "shipping_method_id": method})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let order_token = placed["order_token"].as_str().unwrap().to_owned();
    let path = format!("/orders/{id}");
    let (status, _, seen) = send(
        c.get(api(&app, &path))
            .header("x-order-token", &order_token),
    )
    .await;
    assert_eq!(
        (status, seen["email"].as_str()),
        (200, Some("guest@example.com")),
        "{seen}"
    );
    let (status, _, _) = send(c.get(api(&app, &path))).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(c.get(api(&app, &path)).header("x-order-token", "forged")).await;
    assert_eq!(status, 404);
    // Withdrawn before paying: nothing charged, the units free again.
    let (status, _, withdrawn) = send(
        c.post(api(&app, &format!("/orders/{id}/cancel")))
            .header("x-order-token", &order_token),
    )
    .await;
    assert_eq!(
        (status, withdrawn["status"].as_str()),
        (200, Some("cancelled")),
        "{withdrawn}"
    );
    app.stop().await;
}

#[tokio::test]
async fn cors_lets_configured_origins_call_the_api_and_no_one_else() {
    let options = TestOptions {
        env: vec![(
            "API_CORS_ORIGINS",
            "https://app.example.com, https://partner.example.org".to_owned(),
        )],
        ..TestOptions::default()
    };
    let app = TestApp::with_catalog(options, CATALOG).await;
    let c = client();
    let preflight = |origin: &str| {
        c.request(reqwest::Method::OPTIONS, api(&app, "/cart/items"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{method} in {methods}");
    }
    let headers = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("idempotency-key"),
        "{headers}"
    );

    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        refused.headers()
    );

    // A real call from an allowed page can read the list's headers.
    let res = c
        .get(api(&app, "/products"))
        .header("origin", "https://partner.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://partner.example.org"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("x-total-count") && exposed.contains("link"),
        "{exposed}"
    );
    let res = c
        .get(api(&app, "/products"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn without_configured_origins_the_api_answers_no_preflight() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = send(
        client()
            .request(reqwest::Method::OPTIONS, api(&app, "/products"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "GET"),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());
    assert_eq!(status, 405, "{body}");
    assert_error(status, &headers, &body, "method_not_allowed");
    app.stop().await;
}

#[tokio::test]
async fn the_reference_page_loads_swagger_ui_from_this_site_only() {
    let app = TestApp::spawn().await;
    let res = client().get(api(&app, "/docs")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("http"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    for src in [
        "/api-docs/swagger-ui.css",
        "/api-docs/swagger-ui-bundle.js",
        "/api-docs/init.js",
    ] {
        assert!(page.contains(src), "{src}");
    }
    assert!(!page.contains("://"), "nothing from another site: {page}");
    app.stop().await;
}
