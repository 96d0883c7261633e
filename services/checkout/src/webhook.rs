//! Provider events: Stripe's webhook signature, the inbox that makes every event count
//! once, and what each event does to an order. The offline provider's events take the same
//! path, signed with the shop's own key.

use std::fmt::Write as _;

use serde::Deserialize;
use shop_core::db::Conn;
use shop_core::{OrderId, outbox};

use crate::keys::{constant_time_eq, hmac_sha256};
use crate::orders::{self, OrderStatus, locked_row};
use crate::payment::{
    OfflineChoice, OfflineProvider, OfflineSession, ProviderError, SessionState, offline_session,
};
use crate::{Checkout, CheckoutError, ORDER_PAID};

/// How old a signed event may be (Stripe's default tolerance): older ones are replays.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook request was refused (400: nothing changed).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("signature timestamp outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// The `Stripe-Signature` header for `body` signed with `secret` at `timestamp` (seconds),
/// as Stripe computes it: `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature_header(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "t={timestamp},v1={}",
        hex(&hmac_sha256(secret.as_bytes(), &signed))
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Checks a `Stripe-Signature` header over the raw body: every `v1` signature against
/// every secret (several while a secret is being rotated), and a timestamp within
/// [`TOLERANCE_SECS`] of `now` (seconds).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" => timestamp = v.parse::<i64>().ok(),
            "v1" => signatures.push(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let matches = secrets.iter().any(|secret| {
        let expected = hex(&hmac_sha256(secret.as_bytes(), &signed));
        signatures
            .iter()
            .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()))
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// What the webhook endpoint answers.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 400: the request is not a genuine, well-formed event.
    #[error("{0}")]
    Rejected(String),
    /// 500: the shop could not record it; the provider will deliver it again.
    #[error(transparent)]
    Failed(#[from] CheckoutError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(e: sqlx::Error) -> Self {
        WebhookError::Failed(e.into())
    }
}

/// What became of an accepted event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// First delivery; `outcome` says what it did (`paid`, `expired`, `ignored`, ...).
    Applied { outcome: &'static str },
    /// Seen before: acknowledged, nothing done.
    Duplicate,
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The checkout session inside an event.
fn session_state(object: &serde_json::Value) -> Option<(SessionState, Option<String>)> {
    let s = |k: &str| object.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let order = object
        .get("metadata")
        .and_then(|m| m.get("order_id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .or_else(|| s("client_reference_id"));
    Some((
        SessionState {
            id: s("id")?,
            status: s("status").unwrap_or_default(),
            payment_status: s("payment_status").unwrap_or_default(),
            amount_total: object.get("amount_total").and_then(|v| v.as_i64()),
            currency: s("currency"),
            payment_intent: object.get("payment_intent").and_then(|v| match v {
                serde_json::Value::String(id) => Some(id.clone()),
                other => other.get("id").and_then(|i| i.as_str()).map(str::to_owned),
            }),
        },
        order,
    ))
}

/// The refund inside a `refund.*` event (Stripe's Refund object).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RefundObject {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub payment_intent: Option<serde_json::Value>,
    #[serde(default)]
    pub metadata: std::collections::HashMap<String, String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl RefundObject {
    pub(crate) fn payment_intent(&self) -> Option<String> {
        match self.payment_intent.as_ref()? {
            serde_json::Value::String(id) => Some(id.clone()),
            other => other.get("id")?.as_str().map(str::to_owned),
        }
    }
}

/// The refunds listed inside a `charge.refunded` event (Stripe's Charge object), when the
/// event carries them.
pub(crate) fn charge_refunds(object: &serde_json::Value) -> Vec<RefundObject> {
    object
        .get("refunds")
        .and_then(|r| r.get("data"))
        .and_then(|d| d.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| serde_json::from_value(i.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A Stripe-shaped event about an offline session, as the offline page sends it.
pub fn offline_event(kind: &str, session: &OfflineSession, created: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": format!("evt_offline_{}", shop_core::id::new_uuid_v7().replace('-', "")),
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": false,
        "data": { "object": {
            "id": session.id,
            "object": "checkout.session",
            "status": session.status,
            "payment_status": session.payment_status,
            "amount_total": session.amount_minor,
            "currency": session.currency.to_lowercase(),
            "client_reference_id": session.order_id,
            "customer_email": session.email,
            "metadata": { "order_id": session.order_id },
            "payment_intent": (session.payment_status == "paid")
                .then(|| format!("pi_{}", session.id)),
        }},
    }))
    .unwrap_or_default()
}

impl Checkout {
    /// The secrets a webhook signature may be made with.
    fn webhook_secrets(&self) -> Vec<String> {
        let mut secrets = self.settings.webhook_secrets.clone();
        if self.provider.name() == "offline" {
            secrets.push(self.keys.offline_webhook.clone());
        }
        secrets
    }

    /// `POST /webhooks/stripe`: verifies the signature over the raw body, records the event
    /// in the inbox (a duplicate is acknowledged and ignored) and applies it, all in one
    /// transaction: if applying fails nothing is recorded and the provider retries.
    pub async fn receive(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt, WebhookError> {
        let now = self.clock.now().millis() / 1000;
        verify(signature, body, &self.webhook_secrets(), now).map_err(|e| {
            tracing::warn!(error = %e, "webhook refused");
            WebhookError::Rejected(e.to_string())
        })?;
        let event: Event = serde_json::from_slice(body)
            .map_err(|_| WebhookError::Rejected("not a Stripe event".to_owned()))?;
        if event.id.is_empty() || event.id.len() > 255 {
            return Err(WebhookError::Rejected("bad event id".to_owned()));
        }
        let object = &event.data.object;
        let is_session = event.kind.starts_with("checkout.session.");
        let session = is_session.then(|| session_state(object)).flatten();
        let order = session
            .as_ref()
            .and_then(|(_, o)| o.clone())
            .or_else(|| {
                object
                    .get("metadata")
                    .and_then(|m| m.get("order_id"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .and_then(|o| OrderId::parse(&o).ok());
        let mut tx = self.db.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO payment_events (event_id, type, order_id, outcome, received_at)
             VALUES ($1, $2, $3, 'received', $4) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&event.id)
        .bind(event.kind.chars().take(100).collect::<String>())
        .bind(order.as_ref().map(OrderId::as_str))
        .bind(self.clock.now().millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            tracing::info!(event.id = %event.id, "duplicate webhook event ignored");
            return Ok(Receipt::Duplicate);
        }
        let outcome = match (event.kind.as_str(), session, order) {
            (_, Some((state, _)), Some(order)) => {
                self.apply_event(&mut tx, &event.kind, &order, &state)
                    .await?
            }
            (
                "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated",
                ..,
            ) => match serde_json::from_value::<RefundObject>(object.clone()) {
                Ok(refund) => self.apply_refund_object(&mut tx, &refund).await?,
                Err(_) => "ignored",
            },
            ("charge.refunded", ..) => {
                // The charge lists its refunds (when the event carries them); each counts once
                // whichever event brings it first.
                let mut outcome = "noted";
                for refund in charge_refunds(object) {
                    outcome = self.apply_refund_object(&mut tx, &refund).await?;
                }
                outcome
            }
            _ => "ignored",
        };
        sqlx::query("UPDATE payment_events SET outcome = $1 WHERE event_id = $2")
            .bind(outcome)
            .bind(&event.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(event.id = %event.id, event.kind = %event.kind, outcome, "webhook event applied");
        Ok(Receipt::Applied { outcome })
    }

    async fn apply_event(
        &self,
        conn: &mut Conn,
        kind: &str,
        order: &OrderId,
        state: &SessionState,
    ) -> Result<&'static str, CheckoutError> {
        Ok(match kind {
            "checkout.session.completed" if state.payment_status == "paid" => {
                self.pay_on(conn, order, state, "webhook").await?
            }
            "checkout.session.completed" => {
                // Paid by a method that settles later (a bank debit): the order waits for
                // async_payment_succeeded or _failed, and keeps its units meanwhile.
                self.note_on(
                    conn,
                    order,
                    "payment_processing",
                    "The payment is being processed.",
                )
                .await?
            }
            "checkout.session.async_payment_succeeded" => {
                self.pay_on(conn, order, state, "webhook").await?
            }
            "checkout.session.async_payment_failed" => {
                self.lapse_on(
                    conn,
                    order,
                    OrderStatus::Cancelled,
                    "the payment failed",
                    "webhook",
                )
                .await?
            }
            "checkout.session.expired" => {
                self.lapse_on(
                    conn,
                    order,
                    OrderStatus::Expired,
                    "the payment window closed",
                    "webhook",
                )
                .await?
            }
            _ => "ignored",
        })
    }

    async fn note_on(
        &self,
        conn: &mut Conn,
        order: &OrderId,
        kind: &str,
        note: &str,
    ) -> Result<&'static str, CheckoutError> {
        let Some(row) = locked_row(conn, order).await? else {
            return Ok("unknown_order");
        };
        orders::record(
            conn,
            order,
            kind,
            row.status(),
            note,
            "webhook",
            self.clock.now().millis(),
        )
        .await?;
        Ok("noted")
    }

    /// Applies a session state the provider reported (the reconciler's path).
    pub(crate) async fn apply_session(
        &self,
        order: &OrderId,
        state: &SessionState,
        actor: &str,
    ) -> Result<&'static str, CheckoutError> {
        let mut tx = self.db.begin().await?;
        let outcome = match (state.status.as_str(), state.payment_status.as_str()) {
            ("complete", "paid" | "no_payment_required") => {
                self.pay_on(&mut tx, order, state, actor).await?
            }
            ("expired", _) => {
                self.lapse_on(
                    &mut tx,
                    order,
                    OrderStatus::Expired,
                    "the payment window closed",
                    actor,
                )
                .await?
            }
            _ => "unchanged",
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// An order is paid: checks the amount and currency, moves it to paid, turns its held
    /// units into sold ones, takes the bought units out of the cart and enqueues
    /// `order.paid`. Exactly once, whatever the order of events.
    async fn pay_on(
        &self,
        conn: &mut Conn,
        order: &OrderId,
        state: &SessionState,
        actor: &str,
    ) -> Result<&'static str, CheckoutError> {
        let Some(row) = locked_row(conn, order).await? else {
            tracing::error!(order.id = %order, session = %state.id, "payment for an unknown order");
            return Ok("unknown_order");
        };
        let at = self.clock.now().millis();
        let from = row.status();
        if !matches!(
            from,
            OrderStatus::PendingPayment | OrderStatus::Expired | OrderStatus::Cancelled
        ) {
            return Ok("already_paid");
        }
        let currency_ok = state
            .currency
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(row.currency.as_str()));
        if state.amount_total != Some(row.total_minor) || !currency_ok {
            let reason = format!(
                "Payment does not match the order: {} {} paid, {} {} due.",
                state
                    .amount_total
                    .map_or("no".to_owned(), |a| a.to_string()),
                state.currency.as_deref().unwrap_or("?").to_uppercase(),
                row.total_minor,
                row.currency
            );
            if row.review_reason.as_deref() == Some(reason.as_str()) {
                // Flagged before (a retried event, the reconciler): nothing new to record.
                return Ok("flagged");
            }
            tracing::error!(order.id = %order, session = %state.id, %reason, "payment amount mismatch; flagged for review");
            orders::flag(conn, &self.clock, order, &reason).await?;
            orders::record(conn, order, "payment_mismatch", from, &reason, actor, at).await?;
            return Ok("flagged");
        }
        if !orders::transition(conn, order, from, OrderStatus::Paid, at).await? {
            return Ok("unchanged");
        }
        let held = row.stock == "held";
        let label = orders::number_label(row.number);
        let mut missing = Vec::new();
        let mut sold = Vec::new();
        let units = orders::units(conn, order).await?;
        for (variant, quantity) in &units {
            if catalog::stock::sell(conn, variant, *quantity, held, &label, at).await? {
                sold.push((variant.clone(), *quantity));
            } else {
                // Never taken from stock: a refund must not put these units back.
                sqlx::query(
                    "UPDATE order_lines SET unsold = quantity WHERE order_id = $1 AND variant_id = $2",
                )
                .bind(order.as_str())
                .bind(variant.as_str())
                .execute(&mut *conn)
                .await?;
                missing.push(format!("{quantity} × {variant}"));
            }
        }
        let variants: Vec<_> = units.iter().map(|(v, _)| v.clone()).collect();
        catalog::stock::refresh_availability(conn, &variants).await?;
        for low in catalog::stock::crossed_low_stock(conn, &sold).await? {
            outbox::enqueue(conn, &self.clock, catalog::stock::STOCK_LOW, &low).await?;
        }
        let review = (!missing.is_empty()).then(|| {
            format!(
                "Paid after the order had {}, and these units were no longer in stock: {}. Refund or restock.",
                from.label().to_lowercase(),
                missing.join(", ")
            )
        });
        if let Some(reason) = &review {
            tracing::error!(order.id = %order, %reason, "late payment without stock; flagged for review");
        }
        sqlx::query(
            "UPDATE orders SET stock = 'sold', paid_at = $1, paid_minor = $2,
                    payment_intent_id = $3,
                    payment_session_id = COALESCE(payment_session_id, $4), updated_at = $1
             WHERE id = $5",
        )
        .bind(at)
        .bind(state.amount_total)
        .bind(state.payment_intent.as_deref())
        .bind(&state.id)
        .bind(order.as_str())
        .execute(&mut *conn)
        .await?;
        if let Some(reason) = &review {
            orders::flag(conn, &self.clock, order, reason).await?;
        }
        if let Some(cart) = row.cart_id.clone().map(shop_core::CartId::from_db) {
            cart::checkout::checkout_paid(conn, &cart, order, &units, at).await?;
        }
        let note = review.unwrap_or_default();
        orders::record(conn, order, "paid", OrderStatus::Paid, &note, actor, at).await?;
        outbox::enqueue(
            conn,
            &self.clock,
            ORDER_PAID,
            &serde_json::json!({ "order_id": order, "number": row.number }),
        )
        .await?;
        tracing::info!(order.id = %order, order.number = row.number, "order paid");
        Ok(if note.is_empty() {
            "paid"
        } else {
            "paid_flagged"
        })
    }

    /// An unpaid order lapses (`Expired` or `Cancelled`): its units are released and the cart
    /// can be checked out again. Exactly once: of a sweeper and an event racing, one moves it.
    pub(crate) async fn lapse_on(
        &self,
        conn: &mut Conn,
        order: &OrderId,
        to: OrderStatus,
        note: &str,
        actor: &str,
    ) -> Result<&'static str, CheckoutError> {
        let Some(row) = locked_row(conn, order).await? else {
            return Ok("unknown_order");
        };
        if row.status() != OrderStatus::PendingPayment {
            return Ok("unchanged");
        }
        let at = self.clock.now().millis();
        if !orders::transition(conn, order, OrderStatus::PendingPayment, to, at).await? {
            return Ok("unchanged");
        }
        let released = sqlx::query(
            "UPDATE orders SET stock = 'released', updated_at = $1 WHERE id = $2 AND stock = 'held'",
        )
        .bind(at)
        .bind(order.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if released {
            let units = orders::units(conn, order).await?;
            for (variant, quantity) in &units {
                catalog::stock::release(conn, variant, *quantity, at).await?;
            }
            let variants: Vec<_> = units.iter().map(|(v, _)| v.clone()).collect();
            catalog::stock::refresh_availability(conn, &variants).await?;
        }
        if let Some(cart) = row.cart_id.clone().map(shop_core::CartId::from_db) {
            cart::checkout::checkout_ended(conn, &cart, order).await?;
        }
        let kind = if to == OrderStatus::Expired {
            "expired"
        } else {
            "cancelled"
        };
        orders::record(conn, order, kind, to, note, actor, at).await?;
        tracing::info!(order.id = %order, status = to.as_str(), "unpaid order lapsed; units released");
        Ok(kind)
    }

    /// [`Checkout::lapse_on`] in a transaction of its own.
    pub async fn lapse(
        &self,
        order: &OrderId,
        to: OrderStatus,
        note: &str,
        actor: &str,
    ) -> Result<&'static str, CheckoutError> {
        let mut tx = self.db.begin().await?;
        let outcome = self.lapse_on(&mut tx, order, to, note, actor).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The shopper's choice on the offline payment page: "Pay" completes the session,
    /// "Decline" fails it (the order is cancelled, the cart free again) and "Cancel" closes
    /// it; each is delivered as a signed event to the webhook's code. Returns where to send
    /// the shopper. Only while the offline provider is the shop's provider.
    pub async fn offline_choice(
        &self,
        session_id: &str,
        choice: OfflineChoice,
        save_card: bool,
    ) -> Result<String, CheckoutError> {
        if self.provider.name() != "offline" {
            return Err(CheckoutError::NotFound);
        }
        let provider = OfflineProvider::new(
            self.db.clone(),
            self.clock.clone(),
            self.settings.base_url.clone(),
        );
        let declined = format!(
            "{}/checkout/review?flash=payment_declined",
            self.settings.base_url
        );
        let Some(session) = provider.choose(session_id, choice, save_card).await? else {
            // No longer open (paid in another tab, or its window closed): say where it stands.
            let session = offline_session(&self.db, session_id)
                .await?
                .ok_or(CheckoutError::NotFound)?;
            return Ok(if session.status == "complete" {
                session.success_url
            } else {
                session.cancel_url
            });
        };
        let (kind, target) = match choice {
            OfflineChoice::Pay => ("checkout.session.completed", session.success_url.clone()),
            OfflineChoice::Decline => ("checkout.session.async_payment_failed", declined),
            OfflineChoice::Cancel => ("checkout.session.expired", session.cancel_url.clone()),
        };
        self.deliver_offline(kind, &session)
            .await
            .map_err(|e| match e {
                WebhookError::Failed(e) => e,
                WebhookError::Rejected(reason) => {
                    CheckoutError::Provider(ProviderError::Refused(reason))
                }
            })?;
        Ok(target)
    }

    /// The offline page's choice, delivered as a signed event to the webhook's own code.
    pub async fn deliver_offline(
        &self,
        kind: &str,
        session: &OfflineSession,
    ) -> Result<Receipt, WebhookError> {
        let now = self.clock.now().millis() / 1000;
        let body = offline_event(kind, session, now);
        let header = signature_header(&body, &self.keys.offline_webhook, now);
        self.receive(Some(&header), &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn a_signed_body_verifies_with_any_configured_secret() {
        let body = br#"{"id":"evt_1"}"#;
        let header = signature_header(body, SECRET, 1_000);
        let secrets = vec!["whsec_old".to_owned(), SECRET.to_owned()];
        assert_eq!(verify(Some(&header), body, &secrets, 1_000), Ok(()));
        assert_eq!(verify(Some(&header), body, &secrets, 1_299), Ok(()));
        // Stripe sends several v1 signatures while a secret rolls over.
        let two = format!("{header},v1=00ff,v0=abc");
        assert_eq!(verify(Some(&two), body, &secrets, 1_000), Ok(()));
    }

    #[test]
    fn tampering_staleness_and_garbage_are_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let header = signature_header(body, SECRET, 1_000);
        let secrets = vec![SECRET.to_owned()];
        assert_eq!(
            verify(Some(&header), br#"{"id":"evt_2"}"#, &secrets, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), body, &["whsec_other".to_owned()], 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), body, &secrets, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(None, body, &secrets, 1_000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some("garbage"), body, &secrets, 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=1000"), body, &secrets, 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&header), body, &[], 1_000),
            Err(SignatureError::Mismatch)
        );
    }
}
