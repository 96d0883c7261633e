//! The JSON API through the real router: accounts and tokens (refresh rotation, reuse,
//! tampering, expiry, sign-out), catalog reads (pages, `Link`, `ETag`), the one error shape for
//! every refusal, and the OpenAPI document against the router.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A **seasoned** pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron"}}
{"sku":"PAN-2","name":"Enamelled Frying Pan","description":"Enamelled cast iron.","category":"Home & Kitchen > Cookware > Pans","price_minor":5000,"currency":"EUR","stock":0,"brand":"Nordhavn","attributes":{}}
{"sku":"KET-1","name":"Copperleaf Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4000,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{}}
{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":0,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":30,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
"#;

const PASSWORD: &str = "correct horse battery";

/// An API client: no cookies, no redirects.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
    };
    (status, headers, body)
}

fn api(app: &TestApp, path: &str) -> String {
    app.url(&format!("/api/v1{path}"))
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(client().post(api(app, path)).json(&body)).await;
    (status, body)
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let (status, _, body) = send(client().get(api(app, path)).bearer_auth(token)).await;
    (status, body)
}

/// Asserts `body` is the one error shape with `code`, and that its request id is the one
/// the response header carries.
fn assert_error(status: u16, headers: &reqwest::header::HeaderMap, body: &Value, code: &str) {
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
async fn account(app: &TestApp, email: &str) -> Value {
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

fn access(tokens: &Value) -> String {
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
            assert!(!responses.is_empty(), "{method} {path}");
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
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);
    // Each is routed: none answers the router's own "no such endpoint" or 405.
    for op in &operations {
        let (method, path) = op.split_once(' ').unwrap();
        let path = path.replace("{slug}", "cast-iron-pan");
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
    app.stop().await;
}
