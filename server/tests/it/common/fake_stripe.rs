//! A fake Stripe for the tests: an HTTP server on port 0 with the endpoints the shop uses
//! (Checkout Sessions: create, retrieve, expire; Customers: create; PaymentMethods: list,
//! retrieve, detach), answering with Stripe's documented JSON shapes,
//! honouring `Idempotency-Key` as Stripe does, and signing webhook events the way Stripe
//! does (`Stripe-Signature: t=...,v1=HMAC-SHA256("t.body")`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The webhook signing secret the fake signs with (configure the shop with it).
pub const WEBHOOK_SECRET: &str = "whsec_fake_stripe_test";
/// The secret key the shop must send.
pub const SECRET_KEY: &str = "sk_test_fake";

/// One create request as the fake received it.
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub idempotency_key: Option<String>,
    pub params: HashMap<String, String>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Value>,
    by_key: HashMap<String, String>,
    creates: Vec<CreateRequest>,
    next: u64,
    customers: HashMap<String, Value>,
    customers_by_key: HashMap<String, String>,
    payment_methods: Vec<Value>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "type": "invalid_request_error", "message": message } })),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {SECRET_KEY}"))
}

async fn create(State(fake): State<FakeStripe>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let params: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = fake.inner.lock().unwrap();
    inner.creates.push(CreateRequest {
        idempotency_key: key.clone(),
        params: params.clone(),
    });
    if let Some(id) = key.as_ref().and_then(|k| inner.by_key.get(k)) {
        return axum::Json(inner.sessions[id].clone()).into_response();
    }
    // Stripe refuses a session that would end less than 30 minutes after it is created.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let expires_at = params.get("expires_at").and_then(|e| e.parse::<i64>().ok());
    if expires_at.is_some_and(|e| e < now + 30 * 60) {
        return error(
            StatusCode::BAD_REQUEST,
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        );
    }
    let mut amount = 0_i64;
    let mut i = 0;
    while let Some(unit) = params.get(&format!("line_items[{i}][price_data][unit_amount]")) {
        let quantity: i64 = params
            .get(&format!("line_items[{i}][quantity]"))
            .and_then(|q| q.parse().ok())
            .unwrap_or(1);
        amount += unit.parse::<i64>().unwrap_or(0) * quantity;
        i += 1;
    }
    inner.next += 1;
    let id = format!("cs_test_fake{:06}", inner.next);
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": { "enabled": false, "liability": null, "status": null },
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "created": 1_700_000_000,
        "currency": params.get("line_items[0][price_data][currency]"),
        "custom_fields": [],
        "custom_text": {
            "after_submit": null, "shipping_address": null, "submit": null,
            "terms_of_service_acceptance": null
        },
        "customer": params.get("customer"),
        "customer_email": params.get("customer_email"),
        "expires_at": params.get("expires_at").and_then(|e| e.parse::<i64>().ok()),
        "livemode": false,
        "metadata": {
            "order_id": params.get("metadata[order_id]"),
            "order_number": params.get("metadata[order_number]"),
        },
        "mode": params.get("mode"),
        "payment_intent": null,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "shipping_options": [],
        "status": "open",
        "success_url": params.get("success_url"),
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    });
    inner.sessions.insert(id.clone(), session.clone());
    if let Some(k) = key {
        inner.by_key.insert(k, id);
    }
    axum::Json(session).into_response()
}

async fn retrieve(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    match fake.inner.lock().unwrap().sessions.get(&id) {
        Some(s) => axum::Json(s.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "No such checkout.session"),
    }
}

async fn expire(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let mut inner = fake.inner.lock().unwrap();
    let Some(s) = inner.sessions.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "No such checkout.session");
    };
    if s["status"] != "open" {
        return error(
            StatusCode::BAD_REQUEST,
            "Only Checkout Sessions with a status in [\"open\"] can be expired.",
        );
    }
    s["status"] = json!("expired");
    s["url"] = Value::Null;
    axum::Json(s.clone()).into_response()
}

fn form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// `POST /v1/customers`, honouring `Idempotency-Key`.
async fn create_customer(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let params = form(&body);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = fake.inner.lock().unwrap();
    if let Some(id) = key.as_ref().and_then(|k| inner.customers_by_key.get(k)) {
        return axum::Json(inner.customers[id].clone()).into_response();
    }
    inner.next += 1;
    let id = format!("cus_fake{:06}", inner.next);
    let customer = json!({
        "id": id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": 1_700_000_000,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": params.get("email"),
        "invoice_prefix": "FAKE0001",
        "invoice_settings": {
            "custom_fields": null, "default_payment_method": null, "footer": null,
            "rendering_options": null
        },
        "livemode": false,
        "metadata": { "user_id": params.get("metadata[user_id]") },
        "name": null,
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    });
    inner.customers.insert(id.clone(), customer.clone());
    if let Some(k) = key {
        inner.customers_by_key.insert(k, id);
    }
    axum::Json(customer).into_response()
}

/// `GET /v1/payment_methods?customer=...&type=card`
async fn list_payment_methods(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let Some(customer) = q.get("customer") else {
        return error(StatusCode::BAD_REQUEST, "Missing required param: customer.");
    };
    let inner = fake.inner.lock().unwrap();
    let data: Vec<Value> = inner
        .payment_methods
        .iter()
        .rev()
        .filter(|pm| pm["customer"] == json!(customer))
        .filter(|pm| q.get("type").is_none_or(|t| pm["type"] == json!(t)))
        .cloned()
        .collect();
    axum::Json(json!({
        "object": "list",
        "url": "/v1/payment_methods",
        "has_more": false,
        "data": data,
    }))
    .into_response()
}

/// `GET /v1/payment_methods/{id}`
async fn retrieve_payment_method(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let inner = fake.inner.lock().unwrap();
    match inner
        .payment_methods
        .iter()
        .find(|pm| pm["id"] == json!(id))
    {
        Some(pm) => axum::Json(pm.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("No such PaymentMethod: '{id}'"),
        ),
    }
}

/// `POST /v1/payment_methods/{id}/detach`
async fn detach_payment_method(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let mut inner = fake.inner.lock().unwrap();
    let Some(pm) = inner
        .payment_methods
        .iter_mut()
        .find(|pm| pm["id"] == json!(id))
    else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No such PaymentMethod: '{id}'"),
        );
    };
    if pm["customer"].is_null() {
        return error(
            StatusCode::BAD_REQUEST,
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        );
    }
    pm["customer"] = Value::Null;
    axum::Json(pm.clone()).into_response()
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake stripe");
        let fake = FakeStripe {
            base: format!("http://{}", listener.local_addr().unwrap()),
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create))
            .route("/v1/checkout/sessions/{id}", get(retrieve))
            .route("/v1/checkout/sessions/{id}/expire", post(expire))
            .route("/v1/customers", post(create_customer))
            .route("/v1/payment_methods", get(list_payment_methods))
            .route("/v1/payment_methods/{id}", get(retrieve_payment_method))
            .route(
                "/v1/payment_methods/{id}/detach",
                post(detach_payment_method),
            )
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// Every create request so far.
    pub fn creates(&self) -> Vec<CreateRequest> {
        self.inner.lock().unwrap().creates.clone()
    }

    /// The number of distinct sessions created.
    pub fn session_count(&self) -> usize {
        self.inner.lock().unwrap().sessions.len()
    }

    pub fn session(&self, id: &str) -> Value {
        self.inner.lock().unwrap().sessions[id].clone()
    }

    /// The shopper pays on Stripe's page: the session completes, paid.
    pub fn pay(&self, id: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let s = inner.sessions.get_mut(id).expect("session");
        s["status"] = json!("complete");
        s["payment_status"] = json!("paid");
        s["payment_intent"] = json!(format!("pi_{id}"));
        s["url"] = Value::Null;
        s.clone()
    }

    /// The shopper ticked "save my payment details" on Stripe's page for `session`: a card
    /// payment method attached to the session's customer. Returns its id.
    pub fn save_card(&self, session: &str, last4: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let customer = inner.sessions[session]["customer"].clone();
        assert!(
            !customer.is_null(),
            "a session without a customer saves no card"
        );
        inner.next += 1;
        let id = format!("pm_fake{:06}", inner.next);
        inner.payment_methods.push(json!({
            "id": id,
            "object": "payment_method",
            "billing_details": {
                "address": {
                    "city": null, "country": null, "line1": null, "line2": null,
                    "postal_code": null, "state": null
                },
                "email": null, "name": null, "phone": null
            },
            "card": {
                "brand": "mastercard",
                "checks": {
                    "address_line1_check": null, "address_postal_code_check": null,
                    "cvc_check": "pass"
                },
                "country": "DE",
                "display_brand": "mastercard",
                "exp_month": 8,
                "exp_year": 2031,
                "fingerprint": "Xt5EWLLDS7FJjR1c",
                "funding": "credit",
                "generated_from": null,
                "last4": last4,
                "networks": { "available": ["mastercard"], "preferred": null },
                "three_d_secure_usage": { "supported": true },
                "wallet": null
            },
            "created": 1_700_000_200,
            "customer": customer,
            "livemode": false,
            "metadata": {},
            "type": "card",
        }));
        id
    }

    /// The customers created so far.
    pub fn customer_count(&self) -> usize {
        self.inner.lock().unwrap().customers.len()
    }

    /// An event about `session` as Stripe posts it to a webhook endpoint.
    pub fn event(kind: &str, session: &Value) -> String {
        json!({
            "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
            "object": "event",
            "api_version": "2024-06-20",
            "created": 1_700_000_100,
            "livemode": false,
            "pending_webhooks": 1,
            "type": kind,
            "data": { "object": session },
        })
        .to_string()
    }

    /// The `Stripe-Signature` header for `body` at `timestamp`, made as Stripe documents
    /// it (independently of the shop's own code): HMAC-SHA256 keyed with the endpoint's
    /// secret over `"{timestamp}.{body}"`, hex-encoded, as `t=...,v1=...`.
    pub fn sign(body: &str, timestamp: i64) -> String {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())
            .expect("any key length");
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("t={timestamp},v1={hex}")
    }
}
