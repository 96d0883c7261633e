//! Outbound webhooks: staff register endpoint URLs for events, and each event of those kinds
//! is POSTed to them as JSON, signed, retried with backoff through the outbox, and logged.
//!
//! **Delivery.** When the outbox hands an event of a kind in [`EVENTS`] to [`Webhooks`], it
//! writes one delivery per endpoint that wants it (the body frozen then) and, in the same
//! transaction, one outbox event [`DELIVER`] per delivery. Each of those is one POST: a 2xx
//! answer delivers it; anything else (another status, a timeout, a refused connection, a
//! redirect) is retried by the outbox with exponential backoff, and after the outbox's last
//! attempt the delivery is marked failed. Every attempt's status code, error and duration
//! are in the delivery log. A receiver may get an event twice (at-least-once): the body's
//! `id` is the event's, the same on every attempt.
//!
//! **Signature.** Each request carries `Shop-Signature: t=<unix seconds>,v1=<hex>`, where the
//! hex is HMAC-SHA256 under the endpoint's secret of `<t>.<raw body>`. A receiver recomputes
//! it over the raw body, compares in constant time, and refuses a `t` more than five minutes
//! old ([`verify`] does exactly that).
//!
//! **Where requests may go.** Only `http` and `https` URLs. The shop refuses to deliver to
//! addresses inside its own network: loopback, private (RFC 1918, unique local), link-local
//! (cloud metadata services among them), shared, multicast, unspecified and reserved
//! addresses, whether the URL names one or a host name resolves to one; the check is made
//! when the connection is opened, so a name cannot be re-pointed between check and use. A
//! redirect is never followed. [`Policy::allow_loopback`] lets tests deliver to 127.0.0.1.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::outbox::{self, Event, Handler, HandlerError};
use shop_core::{Clock, Db, Timestamp};

/// The events an endpoint may subscribe to.
pub const EVENTS: [&str; 6] = [
    checkout::ORDER_PLACED,
    checkout::ORDER_PAID,
    checkout::ORDER_SHIPPED,
    checkout::ORDER_REFUNDED,
    catalog::PRODUCT_UPDATED,
    catalog::stock::STOCK_LOW,
];

/// The outbox event of one delivery (its payload names the delivery).
pub const DELIVER: &str = "webhook.deliver";
/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "Shop-Signature";
/// How old a signature's timestamp a receiver should accept.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Longest URL accepted.
pub const MAX_URL: usize = 2000;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 200;
/// Most endpoints a shop may have.
pub const MAX_ENDPOINTS: i64 = 50;
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer's body the log keeps.
const KEPT_ANSWER: usize = 500;

/// Why an endpoint cannot be saved, or a delivery not made.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("We could not find that endpoint.")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl WebhookError {
    fn invalid(field: &'static str, message: impl Into<String>) -> WebhookError {
        WebhookError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Where the shop may deliver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Also 127.0.0.0/8 and ::1 (`WEBHOOK_ALLOW_LOOPBACK`, for tests and local receivers).
    pub allow_loopback: bool,
}

impl Policy {
    /// Whether a request may go to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                !(v4.is_private()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.is_multicast()
                    || v4.is_documentation()
                    || a == 0
                    // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                    || (a == 100 && (64..128).contains(&b))
                    // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
                    || (a == 192 && b == 0 && v4.octets()[2] == 0)
                    || (a == 198 && (18..20).contains(&b))
                    // Reserved, 240.0.0.0/4.
                    || a >= 240)
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                let segments = v6.segments();
                !(v6.is_unspecified()
                    || v6.is_multicast()
                    // IPv4-compatible ::a.b.c.d (deprecated), 6to4 2002::/16 and Teredo
                    // 2001::/32 all carry an IPv4 address that may be inside.
                    || segments[..6].iter().all(|s| *s == 0)
                    || first == 0x2002
                    || (first == 0x2001 && segments[1] == 0)
                    // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || (first & 0xffc0) == 0xfec0
                    // Documentation 2001:db8::/32; NAT64 64:ff9b::/96 can reach IPv4 inside.
                    || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                    || (first == 0x0064 && v6.segments()[1] == 0xff9b))
            }
        }
    }

    /// `raw` as a URL the shop may deliver to: http or https, a host, no user name or
    /// password, and not an address inside the shop's network (a host name is checked
    /// again when it is resolved for each delivery).
    pub fn check_url(&self, raw: &str) -> Result<reqwest::Url, WebhookError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(WebhookError::invalid("url", "Enter the endpoint's URL."));
        }
        if raw.len() > MAX_URL {
            return Err(WebhookError::invalid(
                "url",
                format!("A URL can be at most {MAX_URL} characters."),
            ));
        }
        let url = reqwest::Url::parse(raw).map_err(|_| {
            WebhookError::invalid("url", "Enter a full URL, like https://example.com/hooks.")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookError::invalid(
                "url",
                "Only http and https URLs can receive webhooks.",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookError::invalid(
                "url",
                "Put no user name or password in the URL; check the signature instead.",
            ));
        }
        let refused = || {
            WebhookError::invalid(
                "url",
                "That address is inside the shop's own network; webhooks go to outside addresses only.",
            )
        };
        let Some(host) = url.host_str() else {
            return Err(WebhookError::invalid("url", "The URL needs a host."));
        };
        // The URL parser writes every form of an IPv4 address (decimal, hex) dotted, and an
        // IPv6 address in brackets.
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) if !self.allows(ip) => return Err(refused()),
            Ok(_) => {}
            Err(_) => {
                let name = host.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !self.allow_loopback {
                    return Err(refused());
                }
            }
        }
        Ok(url)
    }
}

/// Names resolved without asking DNS (a test's stand-in for DNS answers).
pub type Hosts = std::collections::HashMap<String, Vec<IpAddr>>;

/// Resolves host names for deliveries, keeping only the addresses [`Policy`] allows: the
/// check happens at connection time, for the addresses actually used.
struct GuardedResolver {
    policy: Policy,
    hosts: Arc<Hosts>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let known = self.hosts.get(name.as_str()).cloned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match known {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => tokio::net::lookup_host((name.as_str(), 0)).await?.collect(),
            };
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{} resolves only to addresses inside the shop's network",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends deliveries: one HTTP client (connections reused) behind the address guard.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Policy,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sender {
    pub fn new(policy: Policy) -> Result<Sender, String> {
        Sender::with_hosts(policy, Hosts::new())
    }

    /// A sender that resolves the names in `hosts` itself (tests), and asks DNS for others;
    /// the addresses go through the same guard either way.
    pub fn with_hosts(policy: Policy, hosts: Hosts) -> Result<Sender, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent("Shop-Webhooks/1")
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy,
                hosts: Arc::new(hosts),
            }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sender { client, policy })
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// POSTs `body` to `url`, signed with `secret` at `now`.
    async fn post(
        &self,
        url: &str,
        secret: &str,
        event_type: &str,
        delivery: &str,
        body: &str,
        now: Timestamp,
    ) -> Attempt {
        let started = Instant::now();
        let outcome = match self.policy.check_url(url) {
            Err(e) => Err(e.to_string()),
            Ok(url) => {
                let signature = sign(secret, now.millis() / 1000, body);
                let sent = self
                    .client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, signature)
                    .header("Shop-Event", event_type)
                    .header("Shop-Delivery", delivery)
                    .body(body.to_owned())
                    .send()
                    .await;
                match sent {
                    Ok(mut res) => {
                        let code = res.status().as_u16();
                        // Only the start of the answer is kept: a receiver answering with a
                        // huge body is not read to its end.
                        let mut kept = Vec::new();
                        while kept.len() < KEPT_ANSWER {
                            match res.chunk().await {
                                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                                Ok(None) | Err(_) => break,
                            }
                        }
                        kept.truncate(KEPT_ANSWER);
                        let text = String::from_utf8_lossy(&kept);
                        Ok((code, text.chars().take(KEPT_ANSWER).collect::<String>()))
                    }
                    Err(e) => Err(describe(&e)),
                }
            }
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok((code, answer)) => Attempt {
                code: Some(i64::from(code)),
                error: (!(200..300).contains(&code)).then(|| {
                    if (300..400).contains(&code) {
                        format!("answered {code}: redirects are not followed")
                    } else if answer.trim().is_empty() {
                        format!("answered {code}")
                    } else {
                        format!("answered {code}: {}", answer.trim())
                    }
                }),
                duration_ms,
            },
            Err(error) => Attempt {
                code: None,
                error: Some(error),
                duration_ms,
            },
        }
    }
}

/// A failed request in words, with its cause (reqwest's own message is terse).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        text = format!("timed out after {} s ({text})", TIMEOUT.as_secs());
    }
    text.chars().take(KEPT_ANSWER).collect()
}

/// One POST's outcome.
struct Attempt {
    code: Option<i64>,
    /// `None`: delivered (a 2xx answer).
    error: Option<String>,
    duration_ms: i64,
}

/// The signature header's value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = shop_core::secrets::hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp}.{body}").as_bytes(),
    );
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// What a receiver does: `header` (the `Shop-Signature` value) is a valid signature of
/// `body` under `secret`, made at most [`TOLERANCE`] before `now_secs`.
pub fn verify(secret: &str, header: &str, body: &str, now_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = timestamp else {
        return false;
    };
    if now_secs.abs_diff(t) > TOLERANCE.as_secs() {
        return false;
    }
    let expected = sign(secret, t, body);
    let expected = expected.rsplit_once("v1=").map_or("", |(_, h)| h);
    signatures
        .iter()
        .any(|s| shop_core::secrets::constant_time_eq(s.as_bytes(), expected.as_bytes()))
}

/// A registered endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    /// Signs every delivery; shown to staff so the receiver can check signatures.
    pub secret: String,
    pub active: bool,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    description: String,
    events: String,
    secret: String,
    active: i64,
    created_at: i64,
}

impl EndpointRow {
    fn into_endpoint(self) -> Endpoint {
        Endpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            events: self.events.split_whitespace().map(str::to_owned).collect(),
            secret: self.secret,
            active: self.active != 0,
            created_at: Timestamp(self.created_at),
        }
    }
}

const ENDPOINT_COLUMNS: &str = "id, url, description, events, secret, active, created_at";

/// An endpoint as the form sends it.
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub active: bool,
}

struct Clean {
    url: String,
    description: String,
    events: String,
}

fn clean(input: &EndpointInput, policy: Policy) -> Result<Clean, WebhookError> {
    let url = policy.check_url(&input.url)?.to_string();
    let description = input.description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(WebhookError::invalid(
            "description",
            format!("Use at most {MAX_DESCRIPTION} characters."),
        ));
    }
    if description.chars().any(char::is_control) {
        return Err(WebhookError::invalid(
            "description",
            "The description holds characters that are not allowed.",
        ));
    }
    let mut events: Vec<&str> = Vec::new();
    for e in &input.events {
        let known = EVENTS
            .iter()
            .find(|k| **k == e.as_str())
            .ok_or_else(|| WebhookError::invalid("events", format!("{e} is not an event.")))?;
        if !events.contains(known) {
            events.push(known);
        }
    }
    if events.is_empty() {
        return Err(WebhookError::invalid(
            "events",
            "Choose at least one event.",
        ));
    }
    events.sort_by_key(|e| EVENTS.iter().position(|k| k == e));
    Ok(Clean {
        url,
        description: description.to_owned(),
        events: events.join(" "),
    })
}

fn snapshot(c: &Clean, active: bool) -> serde_json::Value {
    json!({ "url": c.url, "description": c.description, "events": c.events, "active": active })
}

/// Registers an endpoint; its signing secret is made here.
pub async fn create(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    policy: Policy,
    input: &EndpointInput,
) -> Result<Endpoint, WebhookError> {
    let c = clean(input, policy)?;
    let id = shop_core::id::new_uuid_v7();
    let secret = format!("whsec_{}", shop_core::secrets::random_secret());
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints")
        .fetch_one(&mut *tx)
        .await?;
    if n >= MAX_ENDPOINTS {
        return Err(WebhookError::invalid(
            "url",
            format!("The shop has {MAX_ENDPOINTS} endpoints; delete one first."),
        ));
    }
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, events, secret, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&c.url)
    .bind(&c.description)
    .bind(&c.events)
    .bind(&secret)
    .bind(i64::from(input.active))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "webhook.created",
            target_type: "webhook",
            target_id: &id,
            before: None,
            after: Some(snapshot(&c, input.active)),
        },
    )
    .await?;
    tx.commit().await?;
    find(db, &id).await?.ok_or(WebhookError::NotFound)
}

/// Changes an endpoint (its secret stays).
pub async fn update(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    policy: Policy,
    id: &str,
    input: &EndpointInput,
) -> Result<Endpoint, WebhookError> {
    let c = clean(input, policy)?;
    let before = find(db, id).await?.ok_or(WebhookError::NotFound)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, active = $5,
                updated_at = $6 WHERE id = $1",
    )
    .bind(&before.id)
    .bind(&c.url)
    .bind(&c.description)
    .bind(&c.events)
    .bind(i64::from(input.active))
    .bind(clock.now().millis())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "webhook.updated",
            target_type: "webhook",
            target_id: &before.id,
            before: Some(
                json!({ "url": before.url, "description": before.description,
                                 "events": before.events.join(" "), "active": before.active }),
            ),
            after: Some(snapshot(&c, input.active)),
        },
    )
    .await?;
    tx.commit().await?;
    find(db, id).await?.ok_or(WebhookError::NotFound)
}

/// Deletes an endpoint and its delivery log.
pub async fn delete(db: &Db, clock: &Clock, actor: &Actor, id: &str) -> Result<(), WebhookError> {
    let before = find(db, id).await?.ok_or(WebhookError::NotFound)?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
        .bind(&before.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(&before.id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "webhook.deleted",
            target_type: "webhook",
            target_id: &before.id,
            before: Some(json!({ "url": before.url, "events": before.events.join(" ") })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every endpoint, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Endpoint>, sqlx::Error> {
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
    ))
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().map(EndpointRow::into_endpoint).collect())
}

/// One endpoint (an id that is not one is not found).
pub async fn find(db: &Db, id: &str) -> Result<Option<Endpoint>, sqlx::Error> {
    let Ok(id) = shop_core::id::parse_uuid(id) else {
        return Ok(None);
    };
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(EndpointRow::into_endpoint))
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not delivered yet; the outbox tries again.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// One event for one endpoint, and its latest attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The last answer's HTTP status, if there was an answer.
    pub response_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub created_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    response_code: Option<i64>,
    error: Option<String>,
    duration_ms: Option<i64>,
    created_at: i64,
    last_attempt_at: Option<i64>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Delivery {
        Delivery {
            id: self.id,
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: self.event_type,
            status: DeliveryStatus::parse(&self.status),
            attempts: self.attempts,
            response_code: self.response_code,
            error: self.error,
            duration_ms: self.duration_ms,
            created_at: Timestamp(self.created_at),
            last_attempt_at: self.last_attempt_at.map(Timestamp),
        }
    }
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_type, status, attempts, response_code, error, duration_ms, created_at, last_attempt_at";

/// An endpoint's latest deliveries, newest first.
pub async fn deliveries(db: &Db, endpoint: &str, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(endpoint)
    .bind(limit.clamp(1, 500))
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().map(DeliveryRow::into_delivery).collect())
}

/// How long the delivery log keeps a delivery that went through or failed for good (its
/// body holds customer data).
pub const LOG_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Deletes deliveries done (delivered or failed) more than [`LOG_RETENTION`] ago (a periodic
/// job calls this).
pub async fn purge(db: &Db, clock: &Clock) -> Result<u64, sqlx::Error> {
    let before = clock.now().minus(LOG_RETENTION).millis();
    let mut tx = db.begin().await?;
    let n =
        sqlx::query("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// The body of a delivery: the event's id and type, when it happened, and its data.
fn body(id: &str, kind: &str, at: Timestamp, data: serde_json::Value) -> String {
    json!({
        "id": id,
        "type": kind,
        "created_at": at.to_rfc3339(),
        "data": data,
    })
    .to_string()
}

/// The outbox handler: writes the deliveries of each event endpoints want, and makes each
/// delivery ([`DELIVER`]).
#[derive(Clone, Debug)]
pub struct Webhooks {
    db: Db,
    clock: Clock,
    sender: Sender,
    /// The outbox's attempts per event: after the last, a delivery is marked failed.
    max_attempts: i64,
}

#[derive(serde::Deserialize)]
struct DeliverPayload {
    delivery_id: String,
}

#[derive(sqlx::FromRow)]
struct Target {
    body: String,
    status: String,
    event_type: String,
    url: String,
    secret: String,
    active: i64,
}

impl Webhooks {
    pub fn new(db: Db, clock: Clock, sender: Sender, max_attempts: i64) -> Webhooks {
        Webhooks {
            db,
            clock,
            sender,
            max_attempts,
        }
    }

    /// The data an event's deliveries carry: the outbox payload and, for an order's event,
    /// the order as it stands now.
    async fn data(&self, event: &Event) -> Result<serde_json::Value, HandlerError> {
        let mut data = event.payload.clone();
        if event.kind.starts_with("order.")
            && let Some(id) = event.payload.get("order_id").and_then(|v| v.as_str())
            && let Ok(id) = checkout::OrderId::parse(id)
        {
            match checkout::orders::load(&self.db, &id).await {
                Ok(o) => {
                    data["order"] = json!({
                        "id": o.id.as_str(),
                        "number": o.number,
                        "status": o.status.as_str(),
                        "fulfilment": o.fulfilment.as_str(),
                        "email": o.email,
                        "total": { "amount_minor": o.total.minor(), "currency": o.total.currency().code() },
                        "refunded": { "amount_minor": o.refunded.minor(), "currency": o.refunded.currency().code() },
                        "placed_at": o.placed_at.to_rfc3339(),
                        "paid_at": o.paid_at.map(Timestamp::to_rfc3339),
                    });
                }
                Err(checkout::CheckoutError::NotFound) => {}
                Err(e) => return Err(HandlerError::Retry(e.to_string())),
            }
        }
        Ok(data)
    }

    /// Writes one delivery per endpoint that wants `event`, and its outbox event, once:
    /// a retried event finds its deliveries written.
    async fn fan_out(&self, event: &Event) -> Result<(), HandlerError> {
        let retry = |e: sqlx::Error| HandlerError::Retry(e.to_string());
        let wanting: Vec<String> = list(&self.db)
            .await
            .map_err(retry)?
            .into_iter()
            .filter(|e| e.active && e.events.contains(&event.kind))
            .map(|e| e.id)
            .collect();
        if wanting.is_empty() {
            return Ok(());
        }
        let body = body(
            event.id.as_str(),
            &event.kind,
            event.created_at,
            self.data(event).await?,
        );
        let now = self.clock.now().millis();
        let mut tx = self.db.begin().await.map_err(retry)?;
        for endpoint in wanting {
            let id = shop_core::id::new_uuid_v7();
            let written = sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, status,
                        attempts, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6)
                 ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            )
            .bind(&id)
            .bind(&endpoint)
            .bind(event.id.as_str())
            .bind(&event.kind)
            .bind(&body)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(retry)?
            .rows_affected();
            if written == 1 {
                outbox::enqueue(&mut tx, &self.clock, DELIVER, &json!({ "delivery_id": id }))
                    .await
                    .map_err(retry)?;
            }
        }
        tx.commit().await.map_err(retry)
    }

    /// Makes one attempt at delivery `id` and records it. `Err(Retry)` when it failed and
    /// the outbox has attempts left.
    async fn deliver(&self, event: &Event) -> Result<(), HandlerError> {
        let p: DeliverPayload = serde_json::from_value(event.payload.clone())
            .map_err(|e| HandlerError::Permanent(format!("bad payload: {e}")))?;
        let retry = |e: sqlx::Error| HandlerError::Retry(e.to_string());
        let target: Option<Target> = sqlx::query_as(
            "SELECT d.body, d.status, d.event_type, e.url, e.secret, e.active
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.id = $1",
        )
        .bind(&p.delivery_id)
        .fetch_optional(self.db.reader())
        .await
        .map_err(retry)?;
        // The endpoint was deleted, or it went through before: nothing to do.
        let Some(t) = target.filter(|t| t.status == "pending") else {
            return Ok(());
        };
        if t.active == 0 {
            self.record(&p.delivery_id, None, DeliveryStatus::Failed)
                .await?;
            return Ok(());
        }
        let attempt = self
            .sender
            .post(
                &t.url,
                &t.secret,
                &t.event_type,
                &p.delivery_id,
                &t.body,
                self.clock.now(),
            )
            .await;
        let last = event.attempt >= self.max_attempts;
        let status = match (&attempt.error, last) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), true) => DeliveryStatus::Failed,
            (Some(_), false) => DeliveryStatus::Pending,
        };
        let error = attempt.error.clone();
        self.record(&p.delivery_id, Some(attempt), status).await?;
        match error {
            Some(e) if !last => Err(HandlerError::Retry(e)),
            _ => Ok(()),
        }
    }

    async fn record(
        &self,
        delivery: &str,
        attempt: Option<Attempt>,
        status: DeliveryStatus,
    ) -> Result<(), HandlerError> {
        record(&self.db, &self.clock, delivery, attempt, status)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}

async fn record(
    db: &Db,
    clock: &Clock,
    delivery: &str,
    attempt: Option<Attempt>,
    status: DeliveryStatus,
) -> Result<(), sqlx::Error> {
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    match attempt {
        Some(a) => {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1,
                        response_code = $3, error = $4, duration_ms = $5, last_attempt_at = $6,
                        delivered_at = CASE WHEN $2 = 'delivered' THEN $6 ELSE delivered_at END
                 WHERE id = $1",
            )
            .bind(delivery)
            .bind(status.as_str())
            .bind(a.code)
            .bind(a.error)
            .bind(a.duration_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2,
                        error = 'the endpoint is disabled' WHERE id = $1",
            )
            .bind(delivery)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

impl Handler for Webhooks {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        if event.kind == DELIVER {
            self.deliver(event).await
        } else if EVENTS.contains(&event.kind.as_str()) {
            self.fan_out(event).await
        } else {
            Ok(())
        }
    }
}

/// Sends endpoint `id` a `ping` event now (the admin's test button), once, and logs it
/// like any delivery. Returns the delivery as it stands.
pub async fn send_test(
    db: &Db,
    clock: &Clock,
    sender: &Sender,
    id: &str,
) -> Result<Delivery, WebhookError> {
    let endpoint = find(db, id).await?.ok_or(WebhookError::NotFound)?;
    let event_id = shop_core::id::new_uuid_v7();
    let delivery = shop_core::id::new_uuid_v7();
    let now = clock.now();
    let body = body(
        &event_id,
        "ping",
        now,
        json!({ "message": "A test from the shop's admin." }),
    );
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, status,
                attempts, created_at)
         VALUES ($1, $2, $3, 'ping', $4, 'pending', 0, $5)",
    )
    .bind(&delivery)
    .bind(&endpoint.id)
    .bind(&event_id)
    .bind(&body)
    .bind(now.millis())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let attempt = sender
        .post(
            &endpoint.url,
            &endpoint.secret,
            "ping",
            &delivery,
            &body,
            now,
        )
        .await;
    let status = if attempt.error.is_none() {
        DeliveryStatus::Delivered
    } else {
        DeliveryStatus::Failed
    };
    record(db, clock, &delivery, Some(attempt), status).await?;
    let row: DeliveryRow = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"
    ))
    .bind(&delivery)
    .fetch_one(db.reader())
    .await?;
    Ok(row.into_delivery())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_unchanged_and_fresh() {
        let header = sign("whsec_x", 1_700_000_000, r#"{"a":1}"#);
        assert!(verify("whsec_x", &header, r#"{"a":1}"#, 1_700_000_010));
        assert!(!verify("whsec_x", &header, r#"{"a":2}"#, 1_700_000_010));
        assert!(!verify("whsec_y", &header, r#"{"a":1}"#, 1_700_000_010));
        assert!(!verify(
            "whsec_x",
            &header,
            r#"{"a":1}"#,
            1_700_000_000 + 301
        ));
        assert!(!verify(
            "whsec_x",
            "t=1700000000",
            r#"{"a":1}"#,
            1_700_000_010
        ));
        assert!(!verify("whsec_x", "garbage", r#"{"a":1}"#, 1_700_000_010));
        let extreme = format!("t={},v1=00", i64::MIN);
        assert!(!verify("whsec_x", &extreme, r#"{"a":1}"#, i64::MAX));
    }

    #[test]
    fn only_outside_http_urls_are_accepted() {
        let strict = Policy::default();
        let loose = Policy {
            allow_loopback: true,
        };
        for ok in [
            "https://example.com/hooks",
            "http://93.184.216.34:8080/x",
            "https://[2606:2800:220:1::]/x",
        ] {
            assert!(strict.check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com",
            "https://user:pw@example.com/",
            "http://127.0.0.1:3000/",
            "http://localhost/",
            "http://api.localhost/",
            "http://10.0.0.5/",
            "http://172.16.3.4/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::127.0.0.1]/",
            "http://[::10.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[2001:0:4136:e378::]/",
            "http://0177.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "not a url",
        ] {
            assert!(strict.check_url(bad).is_err(), "{bad}");
        }
        assert!(loose.check_url("http://127.0.0.1:3000/hook").is_ok());
        assert!(loose.check_url("http://10.0.0.5/").is_err());
    }
}
