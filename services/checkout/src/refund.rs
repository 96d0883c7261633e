//! Refunds and cancellations of paid orders.
//!
//! A refund is computed on the server: the chosen units at the price they were bought for,
//! plus an optional extra amount (shipping, a gesture), never more than was paid less every
//! refund that went through or is under way. It is written as `pending` first (so two
//! refunds at once cannot both take the same money), then asked of the provider with the
//! refund's id as idempotency key. It takes effect once the provider confirms it, by its
//! answer or by a `refund.updated` / `charge.refunded` event through the inbox: exactly once
//! the refund becomes `succeeded`, the units marked "restock" go back on the shelf, the
//! order's refunded amount rises and its status moves (partially refunded, refunded, or
//! cancelled for a cancellation's refund). A refund the provider refuses becomes `failed`
//! and changes nothing. The offline provider confirms its refunds with its own signed
//! events, through the same webhook code. A refund made in the provider's dashboard arrives
//! as an event and is recorded too.

use serde_json::json;
use shop_core::db::Conn;
use shop_core::{Money, OrderId, outbox};

use crate::fulfil::{Operator, audit_order, refresh_fulfilment, text};
use crate::orders::{self, Fulfilment, OrderLine, OrderRow, OrderStatus, RefundStatus, locked_row};
use crate::payment::{ProviderError, ProviderRefund, ProviderRefundStatus, RefundRequest};
use crate::webhook::{Receipt, RefundObject, WebhookError, signature_header};
use crate::{Checkout, CheckoutError, ORDER_CANCELLED, ORDER_REFUNDED};

/// One line of a refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundLine {
    pub line_id: String,
    /// Units not shipped yet: refunded, they will not be sent.
    pub quantity: i64,
    /// Units already shipped (returned, or kept by the customer).
    pub sent: i64,
    /// Put the units back on the shelf when the refund goes through (at most as many as
    /// were taken from stock for the line and not restocked yet).
    pub restock: bool,
}

/// What staff choose to refund.
#[derive(Clone, Debug, Default)]
pub struct RefundItems {
    pub lines: Vec<RefundLine>,
    /// An amount beyond the lines, in minor units (shipping, a gesture).
    pub extra_minor: i64,
    pub reason: String,
    /// The refund's id, chosen by the caller (a UUID) to make the request idempotent: when
    /// this order already has a refund with this id, that refund is the answer and nothing
    /// else happens. `None`: a new id.
    pub id: Option<String>,
}

impl RefundItems {
    /// SHA-256 of what is asked (lines, extra amount, reason), to tell a retry of this
    /// request from another request with the same idempotency key.
    fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut lines: Vec<String> = self
            .lines
            .iter()
            .map(|l| format!("{}:{}:{}:{}", l.line_id, l.quantity, l.sent, l.restock))
            .collect();
        lines.sort();
        let text = format!(
            "{}|{}|{}",
            lines.join(","),
            self.extra_minor,
            self.reason.trim()
        );
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

pub const MAX_REASON: usize = 500;

/// One line of a refund as planned.
struct PlannedLine {
    line_id: String,
    /// Every unit refunded, sent or not.
    quantity: i64,
    sent: i64,
    restock: i64,
    amount: i64,
}

/// A refund as planned, before it is written.
struct Plan {
    lines: Vec<PlannedLine>,
    extra: i64,
    amount: i64,
    cancels: bool,
    reason: String,
}

/// What is left to refund on an order: what was paid less the refunds that went through or
/// are under way.
async fn refundable(conn: &mut Conn, row: &OrderRow) -> Result<i64, sqlx::Error> {
    let taken: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds
         WHERE order_id = $1 AND status <> 'failed'",
    )
    .bind(&row.id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.paid_minor.unwrap_or(0) - taken).max(0))
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    order_id: String,
    request_digest: Option<String>,
    amount_minor: i64,
    status: String,
    cancels: i64,
    provider_refund_id: Option<String>,
}

/// The columns of a [`RefundRow`].
const REFUND_COLUMNS: &str =
    "id, order_id, request_digest, amount_minor, status, cancels, provider_refund_id";

async fn refund_row(conn: &mut Conn, id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

impl Checkout {
    /// Refunds some units and/or an extra amount of a paid order (staff only). Returns the
    /// refund as it stands once the provider answered: `succeeded`, `pending` (its event
    /// will confirm it) or `failed` (nothing changed; the error says why).
    pub async fn refund(
        &self,
        who: &Operator,
        order: &OrderId,
        items: &RefundItems,
    ) -> Result<orders::Refund, CheckoutError> {
        if !matches!(who, Operator::Staff(_)) {
            return Err(CheckoutError::NotFound);
        }
        let reason = text(&items.reason, MAX_REASON, "reason", "The reason")?;
        if items.extra_minor < 0 {
            return Err(CheckoutError::invalid(
                "extra",
                "The extra amount cannot be negative.",
            ));
        }
        let items = items.clone();
        let chosen = items.id.clone().map(|id| (id, items.digest()));
        self.request_refund(who, order, false, chosen, move |row, lines, left| {
            let status = row.status();
            if !matches!(
                status,
                OrderStatus::Paid
                    | OrderStatus::Fulfilled
                    | OrderStatus::Delivered
                    | OrderStatus::PartiallyRefunded
            ) {
                return Err(CheckoutError::IllegalTransition {
                    from: status,
                    to: OrderStatus::Refunded,
                });
            }
            let mut planned: Vec<PlannedLine> = Vec::new();
            for l in items
                .lines
                .iter()
                .filter(|l| l.quantity != 0 || l.sent != 0)
            {
                let line = lines.iter().find(|x| x.id == l.line_id).ok_or_else(|| {
                    CheckoutError::invalid("lines", "That line is not part of this order.")
                })?;
                if planned.iter().any(|p| p.line_id == line.id) {
                    return Err(CheckoutError::invalid(
                        "lines",
                        "Each line may appear once in a refund.",
                    ));
                }
                for (units, most, which) in [
                    (l.quantity, line.to_ship(), "not yet shipped"),
                    (l.sent, line.refundable_sent(), "shipped"),
                ] {
                    if units < 0 || units > most {
                        return Err(CheckoutError::invalid(
                            "lines",
                            format!(
                                "{}: at most {most} {which} unit(s) can be refunded.",
                                line.product_name
                            ),
                        ));
                    }
                }
                let quantity = l.quantity + l.sent;
                let amount = line
                    .unit_price
                    .minor()
                    .checked_mul(quantity)
                    .ok_or(CheckoutError::TotalTooLarge)?;
                planned.push(PlannedLine {
                    line_id: line.id.clone(),
                    quantity,
                    sent: l.sent,
                    restock: if l.restock {
                        quantity.min(line.restockable())
                    } else {
                        0
                    },
                    amount,
                });
            }
            let amount = planned
                .iter()
                .try_fold(items.extra_minor, |sum, p| sum.checked_add(p.amount))
                .ok_or(CheckoutError::TotalTooLarge)?;
            if amount <= 0 {
                return Err(CheckoutError::invalid(
                    "lines",
                    "Choose units to refund or an amount.",
                ));
            }
            if amount > left {
                return Err(CheckoutError::RefundTooLarge {
                    asked: Money::new(amount, row.currency()),
                    left: Money::new(left, row.currency()),
                });
            }
            Ok(Plan {
                lines: planned,
                extra: items.extra_minor,
                amount,
                cancels: false,
                reason,
            })
        })
        .await
    }

    /// Cancels an order wherever its payment stands: one awaiting payment is withdrawn
    /// (nothing was charged); a paid one, including one whose payment arrived while it was
    /// being withdrawn, is cancelled with a full refund ([`Checkout::cancel`]). The caller
    /// has checked that `who` may cancel it.
    pub async fn cancel_or_withdraw(
        &self,
        who: &Operator,
        order: &OrderId,
        reason: &str,
    ) -> Result<(), CheckoutError> {
        if crate::place::status(&self.db, order).await? == OrderStatus::PendingPayment {
            match self.withdraw(order).await {
                // Paid a moment ago: cancelled with a refund below.
                Ok(()) | Err(CheckoutError::AlreadyPaid) => {}
                Err(e) => return Err(e),
            }
            if matches!(
                crate::place::status(&self.db, order).await?,
                OrderStatus::Cancelled | OrderStatus::Expired
            ) {
                return Ok(());
            }
        }
        self.cancel(who, order, reason).await.map(|_| ())
    }

    /// Cancels a paid order none of whose units has shipped: everything still paid is
    /// refunded through the provider and every unit goes back on the shelf; the order
    /// becomes cancelled when the refund goes through. Staff, or the customer whose order it
    /// is (by account, or holding its signed link).
    pub async fn cancel(
        &self,
        who: &Operator,
        order: &OrderId,
        reason: &str,
    ) -> Result<orders::Refund, CheckoutError> {
        if matches!(who, Operator::Vendor(_)) {
            return Err(CheckoutError::NotFound);
        }
        let reason = text(reason, MAX_REASON, "reason", "The reason")?;
        // A customer acting by account may cancel only their own order; one without an
        // account id holds the order's signed link, which the caller has checked.
        let customer = match who {
            Operator::Customer(a) => a.user_id.clone(),
            _ => None,
        };
        self.request_refund(who, order, true, None, move |row, lines, left| {
            if let Some(customer) = &customer
                && row.user_id.as_deref() != Some(customer.as_str())
            {
                return Err(CheckoutError::NotFound);
            }
            let status = row.status();
            if !matches!(status, OrderStatus::Paid | OrderStatus::PartiallyRefunded) {
                return Err(CheckoutError::IllegalTransition {
                    from: status,
                    to: OrderStatus::Cancelled,
                });
            }
            if row.fulfilment() != Fulfilment::Unshipped {
                return Err(CheckoutError::invalid(
                    "order",
                    "This order has already shipped, so it can no longer be cancelled; it can be returned and refunded instead.",
                ));
            }
            let planned: Vec<PlannedLine> = lines
                .iter()
                .filter(|l| l.refundable() > 0)
                .map(|l| PlannedLine {
                    line_id: l.id.clone(),
                    quantity: l.refundable(),
                    sent: 0,
                    restock: l.refundable().min(l.restockable()),
                    amount: l.unit_price.minor().saturating_mul(l.refundable()),
                })
                .collect();
            let for_lines: i64 = planned.iter().map(|p| p.amount).sum();
            let amount = left;
            if amount == 0 && row.paid_minor.unwrap_or(0) > 0 {
                return Err(CheckoutError::invalid(
                    "order",
                    "Everything paid for this order has been refunded already.",
                ));
            }
            Ok(Plan {
                extra: (amount - for_lines).max(0),
                lines: planned,
                amount,
                cancels: true,
                reason,
            })
        })
        .await
    }

    /// Writes a planned refund as pending, asks the provider for it, and applies its answer.
    /// With `chosen` (the refund's id and the request's digest), a refund of that id already
    /// on the order is the answer when it was asked the same (a retried request); another
    /// request with the same id, or one on another order, is refused. The order's row lock
    /// makes two such requests at once take turns, so only the first plans and writes.
    async fn request_refund(
        &self,
        who: &Operator,
        order: &OrderId,
        cancels: bool,
        chosen: Option<(String, String)>,
        plan: impl FnOnce(&OrderRow, &[OrderLine], i64) -> Result<Plan, CheckoutError>,
    ) -> Result<orders::Refund, CheckoutError> {
        let mut tx = self.db.begin().await?;
        let row = locked_row(&mut tx, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        let (chosen_id, digest) =
            match chosen {
                Some((id, digest)) => (
                    Some(shop_core::id::parse_uuid(&id).map_err(|_| {
                        CheckoutError::invalid("idempotency_key", "Not a refund id.")
                    })?),
                    Some(digest),
                ),
                None => (None, None),
            };
        if let Some(chosen) = &chosen_id
            && let Some(earlier) = refund_row(&mut tx, chosen).await?
        {
            drop(tx);
            if earlier.order_id != order.as_str() || earlier.request_digest != digest {
                return Err(CheckoutError::invalid(
                    "idempotency_key",
                    "This idempotency key was used for a different refund.",
                ));
            }
            return self.refund_view(order, chosen).await;
        }
        let lines = orders::lines(&mut tx, order, row.currency()).await?;
        let left = refundable(&mut tx, &row).await?;
        let under_way: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM refunds WHERE order_id = $1 AND status = 'pending'",
        )
        .bind(order.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if under_way > 0 && cancels {
            return Err(CheckoutError::invalid(
                "order",
                "A refund on this order is still being confirmed by the payment provider; cancel once it has gone through.",
            ));
        }
        let plan = plan(&row, &lines, left)?;
        let at = self.clock.now().millis();
        let id = chosen_id.unwrap_or_else(shop_core::id::new_uuid_v7);
        let actor = who.label();
        sqlx::query(
            "INSERT INTO refunds (id, order_id, amount_minor, currency, status, source, cancels,
                    extra_minor, reason, actor, created_at, updated_at, request_digest)
             VALUES ($1, $2, $3, $4, 'pending', 'shop', $5, $6, $7, $8, $9, $9, $10)",
        )
        .bind(&id)
        .bind(order.as_str())
        .bind(plan.amount)
        .bind(&row.currency)
        .bind(i64::from(plan.cancels))
        .bind(plan.extra)
        .bind(&plan.reason)
        .bind(&actor)
        .bind(at)
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        for l in &plan.lines {
            sqlx::query(
                "INSERT INTO refund_lines (refund_id, line_id, quantity, sent, restock,
                        amount_minor)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(&l.line_id)
            .bind(l.quantity)
            .bind(l.sent)
            .bind(l.restock)
            .bind(l.amount)
            .execute(&mut *tx)
            .await?;
        }
        if !plan.lines.is_empty() {
            refresh_fulfilment(&mut tx, &row).await?;
        }
        let money = Money::new(plan.amount, row.currency());
        let kind = if plan.cancels {
            "cancellation_requested"
        } else {
            "refund_requested"
        };
        let mut note = format!("{money}");
        if !plan.reason.is_empty() {
            note.push_str(&format!(": {}", plan.reason));
        }
        orders::record(&mut tx, order, kind, row.status(), &note, &actor, at).await?;
        audit_order(
            &mut tx,
            self,
            who,
            if plan.cancels {
                "order.cancel_requested"
            } else {
                "order.refund_requested"
            },
            order,
            json!({ "refund": id, "amount_minor": plan.amount, "extra_minor": plan.extra,
                    "lines": plan.lines.iter().map(|l| json!({
                        "line": l.line_id, "quantity": l.quantity, "sent": l.sent,
                        "restock": l.restock, "amount_minor": l.amount
                    })).collect::<Vec<_>>() }),
        )
        .await?;
        if plan.amount == 0 {
            // Nothing was paid (a free order): nothing to ask of the provider.
            self.settle_on(&mut tx, &id, None, "system").await?;
            tx.commit().await?;
            return self.refund_view(order, &id).await;
        }
        tx.commit().await?;
        self.ask_provider(&row, &id, plan.amount).await?;
        self.refund_view(order, &id).await
    }

    /// Asks the provider for a refund written as pending, and applies its answer. A provider
    /// that cannot be reached leaves the refund pending: [`Checkout::retry_refunds`] asks
    /// again with the same idempotency key.
    async fn ask_provider(
        &self,
        row: &OrderRow,
        refund: &str,
        amount: i64,
    ) -> Result<(), CheckoutError> {
        let Some(intent) = row.payment_intent_id.clone() else {
            let mut tx = self.db.begin().await?;
            self.fail_on(
                &mut tx,
                refund,
                "The payment has no provider reference to refund.",
                false,
            )
            .await?;
            tx.commit().await?;
            return Err(CheckoutError::RefundFailed(
                "the payment has no provider reference to refund".to_owned(),
            ));
        };
        let request = RefundRequest {
            payment_intent: intent,
            amount: Money::new(amount, row.currency()),
            order_id: row.order_id(),
            refund_id: refund.to_owned(),
            idempotency_key: format!("refund-{refund}"),
        };
        match self.provider.refund(&request).await {
            Ok(answer) => {
                self.apply_answer(refund, &answer).await?;
                if answer.status == ProviderRefundStatus::Failed {
                    return Err(CheckoutError::RefundFailed(
                        answer
                            .failure
                            .unwrap_or_else(|| "the provider declined it".to_owned()),
                    ));
                }
                if self.provider.name() == "offline"
                    && answer.status == ProviderRefundStatus::Pending
                    && answer.id.starts_with(crate::payment::OFFLINE_REFUND_PREFIX)
                {
                    self.confirm_offline_refund(row, refund, &answer.id, amount)
                        .await?;
                }
                Ok(())
            }
            Err(ProviderError::Unavailable(e)) => {
                tracing::warn!(refund, error = %e, "refund provider unreachable; will retry");
                Ok(())
            }
            Err(e) => {
                let mut tx = self.db.begin().await?;
                self.fail_on(&mut tx, refund, &e.to_string(), false).await?;
                tx.commit().await?;
                Err(CheckoutError::RefundFailed(e.to_string()))
            }
        }
    }

    /// Applies the provider's direct answer to a refund request.
    async fn apply_answer(
        &self,
        refund: &str,
        answer: &ProviderRefund,
    ) -> Result<(), CheckoutError> {
        let mut tx = self.db.begin().await?;
        // The order first, as every writer does, so that this and the refund's event (which
        // may arrive at the same moment) take turns instead of deadlocking on PostgreSQL.
        let Some(r) = refund_row(&mut tx, refund).await? else {
            return Ok(());
        };
        locked_row(&mut tx, &OrderId::from_db(r.order_id)).await?;
        sqlx::query(
            "UPDATE refunds SET provider_refund_id = $1, updated_at = $2
             WHERE id = $3 AND provider_refund_id IS NULL",
        )
        .bind(&answer.id)
        .bind(self.clock.now().millis())
        .bind(refund)
        .execute(&mut *tx)
        .await?;
        match answer.status {
            ProviderRefundStatus::Succeeded => {
                self.settle_on(&mut tx, refund, Some(&answer.id), "provider")
                    .await?;
            }
            ProviderRefundStatus::Failed => {
                let why = answer
                    .failure
                    .clone()
                    .unwrap_or_else(|| "The provider declined the refund.".to_owned());
                self.fail_on(&mut tx, refund, &why, false).await?;
            }
            ProviderRefundStatus::Pending => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// The offline provider's confirmation: a signed `refund.updated` event (succeeded)
    /// delivered to the webhook's own code, as Stripe would send it.
    async fn confirm_offline_refund(
        &self,
        row: &OrderRow,
        refund: &str,
        provider_id: &str,
        amount: i64,
    ) -> Result<Receipt, CheckoutError> {
        let now = self.clock.now().millis() / 1000;
        let body = offline_refund_event(row, refund, provider_id, amount, "succeeded", now);
        let header = signature_header(&body, &self.keys.offline_webhook, now);
        self.receive(Some(&header), &body)
            .await
            .map_err(|e| match e {
                WebhookError::Failed(e) => e,
                WebhookError::Rejected(reason) => {
                    CheckoutError::Provider(ProviderError::Refused(reason))
                }
            })
    }

    /// A refund as the order now shows it.
    async fn refund_view(
        &self,
        order: &OrderId,
        refund: &str,
    ) -> Result<orders::Refund, CheckoutError> {
        let mut conn = self.db.reader().acquire().await?;
        let row = orders::row(&mut conn, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        orders::refunds(&mut conn, order, row.currency())
            .await?
            .into_iter()
            .find(|r| r.id == refund)
            .ok_or(CheckoutError::NotFound)
    }

    /// A refund goes through, exactly once: its restocked units go back on the shelf, the
    /// order's refunded amount rises, its status moves and its outbox event is written.
    /// Only a pending refund goes through: one that went through already, or was recorded
    /// as failed, never restocks again (see [`Checkout::apply_refund_object`]).
    pub(crate) async fn settle_on(
        &self,
        conn: &mut Conn,
        refund: &str,
        provider_id: Option<&str>,
        actor: &str,
    ) -> Result<&'static str, CheckoutError> {
        let Some(r) = refund_row(conn, refund).await? else {
            return Ok("unknown_refund");
        };
        let order = OrderId::from_db(r.order_id.clone());
        // The order first, so that on PostgreSQL every writer locks order, then refund.
        let Some(row) = locked_row(conn, &order).await? else {
            return Ok("unknown_order");
        };
        let at = self.clock.now().millis();
        let moved = sqlx::query(
            "UPDATE refunds SET status = 'succeeded', failure = NULL,
                    provider_refund_id = COALESCE(provider_refund_id, $1), updated_at = $2
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(provider_id)
        .bind(at)
        .bind(refund)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !moved {
            return Ok("already_refunded");
        }
        let cancels = r.cancels != 0;
        let label = orders::number_label(row.number);
        #[derive(sqlx::FromRow)]
        struct Back {
            variant_id: String,
            quantity: i64,
        }
        let back: Vec<Back> = sqlx::query_as(
            "SELECT l.variant_id, rl.restock AS quantity FROM refund_lines rl
             JOIN order_lines l ON l.id = rl.line_id
             WHERE rl.refund_id = $1 AND rl.restock > 0 ORDER BY l.variant_id",
        )
        .bind(refund)
        .fetch_all(&mut *conn)
        .await?;
        let reason = if cancels {
            catalog::stock::StockReason::Cancellation
        } else {
            catalog::stock::StockReason::Refund
        };
        let mut restocked = 0;
        let mut variants = Vec::new();
        for b in back {
            let variant = shop_core::VariantId::from_db(b.variant_id);
            if catalog::stock::restock(conn, &variant, b.quantity, reason, &label, at).await? {
                restocked += b.quantity;
                variants.push(variant);
            }
        }
        if !variants.is_empty() {
            catalog::stock::refresh_availability(conn, &variants).await?;
        }
        let refunded = row.refunded_minor + r.amount_minor;
        sqlx::query("UPDATE orders SET refunded_minor = $1, updated_at = $2 WHERE id = $3")
            .bind(refunded)
            .bind(at)
            .bind(order.as_str())
            .execute(&mut *conn)
            .await?;
        let paid = row.paid_minor.unwrap_or(0);
        let from = row.status();
        let wanted = if cancels {
            OrderStatus::Cancelled
        } else if refunded >= paid {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        // A refund the order's state does not fit (made in the dashboard after a
        // cancellation, say) is recorded without moving the order.
        let to = if from.may_become(wanted) {
            wanted
        } else if cancels && from.may_become(OrderStatus::Refunded) {
            OrderStatus::Refunded
        } else {
            from
        };
        if to != from && !orders::transition(conn, &order, from, to, at).await? {
            return Err(CheckoutError::Changed);
        }
        if refunded > paid {
            let reason = format!(
                "Refunded {} in all, more than the {} paid.",
                Money::new(refunded, row.currency()),
                Money::new(paid, row.currency())
            );
            orders::flag(conn, &self.clock, &order, &reason).await?;
        }
        let money = Money::new(r.amount_minor, row.currency());
        let mut note = format!("{money} refunded");
        if restocked > 0 {
            note.push_str(&format!(
                "; {restocked} unit{} restocked",
                if restocked == 1 { "" } else { "s" }
            ));
        }
        let kind = if to == OrderStatus::Cancelled {
            "cancelled"
        } else {
            "refunded"
        };
        orders::record(conn, &order, kind, to, &note, actor, at).await?;
        let event = if to == OrderStatus::Cancelled {
            ORDER_CANCELLED
        } else {
            ORDER_REFUNDED
        };
        outbox::enqueue(
            conn,
            &self.clock,
            event,
            &json!({ "order_id": order, "number": row.number, "refund_id": refund }),
        )
        .await?;
        tracing::info!(order.id = %order, refund, amount = %money, status = to.as_str(), "refund went through");
        Ok(kind)
    }

    /// A pending refund fails: nothing changes but the refund's status and the history. A
    /// refund that had gone through and is reported failed afterwards (the bank sent the
    /// money back) no longer counts as refunded, and the order is flagged for review.
    pub(crate) async fn fail_on(
        &self,
        conn: &mut Conn,
        refund: &str,
        why: &str,
        after_success: bool,
    ) -> Result<&'static str, CheckoutError> {
        let Some(r) = refund_row(conn, refund).await? else {
            return Ok("unknown_refund");
        };
        let order = OrderId::from_db(r.order_id.clone());
        let Some(row) = locked_row(conn, &order).await? else {
            return Ok("unknown_order");
        };
        let why: String = why.chars().take(500).collect();
        let at = self.clock.now().millis();
        let was = RefundStatus::parse(&r.status);
        // Only the provider's own event may say that a refund which went through failed
        // afterwards; an error answering a request never undoes a refund.
        if was == Some(RefundStatus::Succeeded) && !after_success {
            return Ok("already_refunded");
        }
        let moved = sqlx::query(
            "UPDATE refunds SET status = 'failed', failure = $1, updated_at = $2
             WHERE id = $3 AND status = $4",
        )
        .bind(&why)
        .bind(at)
        .bind(refund)
        .bind(&r.status)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !moved || was == Some(RefundStatus::Failed) {
            return Ok("already_failed");
        }
        let money = Money::new(r.amount_minor, row.currency());
        if was == Some(RefundStatus::Succeeded) {
            let reason = format!(
                "A refund of {money} that had gone through failed afterwards ({why}); the money is back with the shop."
            );
            sqlx::query(
                "UPDATE orders SET refunded_minor = refunded_minor - $1, updated_at = $2
                 WHERE id = $3",
            )
            .bind(r.amount_minor)
            .bind(at)
            .bind(order.as_str())
            .execute(&mut *conn)
            .await?;
            orders::flag(conn, &self.clock, &order, &reason).await?;
        }
        // Units of a failed refund are owed again.
        refresh_fulfilment(conn, &row).await?;
        let note = format!("{money} not refunded: {why}");
        orders::record(
            conn,
            &order,
            "refund_failed",
            row.status(),
            &note,
            "provider",
            at,
        )
        .await?;
        tracing::warn!(order.id = %order, refund, %why, "refund failed");
        Ok("refund_failed")
    }

    /// A refund event from the provider (`refund.created`, `refund.updated`,
    /// `charge.refund.updated`, or each refund of a `charge.refunded`), in the inbox's
    /// transaction.
    pub(crate) async fn apply_refund_object(
        &self,
        conn: &mut Conn,
        object: &RefundObject,
    ) -> Result<&'static str, CheckoutError> {
        let mut local: Option<RefundRow> = sqlx::query_as(&format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider_refund_id = $1"
        ))
        .bind(&object.id)
        .fetch_optional(&mut *conn)
        .await?;
        if local.is_none()
            && let Some(id) = object.metadata.get("refund_id")
        {
            local = refund_row(conn, id).await?;
        }
        let order = match &local {
            Some(r) => Some(OrderId::from_db(r.order_id.clone())),
            None => match object.payment_intent() {
                Some(intent) => sqlx::query_scalar::<_, String>(
                    "SELECT id FROM orders WHERE payment_intent_id = $1",
                )
                .bind(intent)
                .fetch_optional(&mut *conn)
                .await?
                .map(OrderId::from_db),
                None => None,
            },
        };
        let Some(order) = order else {
            tracing::warn!(refund = %object.id, "refund event for no known order");
            return Ok("unknown_order");
        };
        let Some(row) = locked_row(conn, &order).await? else {
            return Ok("unknown_order");
        };
        if !object.currency.eq_ignore_ascii_case(&row.currency) {
            tracing::error!(order.id = %order, refund = %object.id, "refund in another currency than the order");
            return Ok("ignored_currency");
        }
        let status = ProviderRefundStatus::parse(&object.status);
        if local.is_none() {
            // Another event about the same refund may have recorded it while this one
            // waited for the order's lock.
            local = sqlx::query_as(&format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider_refund_id = $1"
            ))
            .bind(&object.id)
            .fetch_optional(&mut *conn)
            .await?;
        }
        let Some(local) = local else {
            if status != ProviderRefundStatus::Succeeded {
                return Ok("noted");
            }
            // Made in the provider's dashboard: recorded as it is, nothing restocked.
            let id = shop_core::id::new_uuid_v7();
            let at = self.clock.now().millis();
            sqlx::query(
                "INSERT INTO refunds (id, order_id, amount_minor, currency, status,
                        provider_refund_id, source, cancels, extra_minor, reason, actor,
                        created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, 'provider', 0, $3,
                         'Refunded in the payment provider''s dashboard', 'provider', $6, $6)
                 ON CONFLICT (provider_refund_id) DO NOTHING",
            )
            .bind(&id)
            .bind(order.as_str())
            .bind(object.amount.max(0))
            .bind(&row.currency)
            .bind(&object.id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            return self
                .settle_on(conn, &id, Some(&object.id), "provider")
                .await;
        };
        if local.provider_refund_id.is_none() {
            sqlx::query("UPDATE refunds SET provider_refund_id = $1 WHERE id = $2")
                .bind(&object.id)
                .bind(&local.id)
                .execute(&mut *conn)
                .await?;
        }
        if status == ProviderRefundStatus::Succeeded && object.amount != local.amount_minor {
            tracing::error!(order.id = %order, refund = %object.id, "provider refunded another amount than asked");
        }
        if status == ProviderRefundStatus::Succeeded && local.status == "failed" {
            let reason = format!(
                "The payment provider reports refund {} as made, but the shop had recorded it as failed: check what the customer got back before refunding again.",
                object.id
            );
            tracing::error!(order.id = %order, refund = %object.id, "a refund recorded as failed was made after all; flagged");
            orders::flag(conn, &self.clock, &order, &reason).await?;
            return Ok("flagged");
        }
        match status {
            ProviderRefundStatus::Succeeded => {
                self.settle_on(conn, &local.id, Some(&object.id), "webhook")
                    .await
            }
            ProviderRefundStatus::Failed => {
                let why = object
                    .failure_reason
                    .clone()
                    .unwrap_or_else(|| "the provider could not refund it".to_owned());
                self.fail_on(conn, &local.id, &why, true).await
            }
            ProviderRefundStatus::Pending => Ok("pending"),
        }
    }

    /// Asks the provider again about refunds left pending without its answer (it could not
    /// be reached), with the same idempotency key: a refund the provider did make is not
    /// made twice; and asks how refunds it accepted as pending stand, when their outcome
    /// never arrived. Run by the reconciler. Returns how many were asked.
    pub async fn retry_refunds(&self, older_than_ms: i64) -> Result<usize, CheckoutError> {
        let before = self.clock.now().millis() - older_than_ms;
        let polled = self.poll_refunds(before).await?;
        #[derive(sqlx::FromRow)]
        struct Stuck {
            id: String,
            order_id: String,
            amount_minor: i64,
        }
        let stuck: Vec<Stuck> = sqlx::query_as(
            "SELECT id, order_id, amount_minor FROM refunds
             WHERE status = 'pending' AND provider_refund_id IS NULL AND source = 'shop'
               AND updated_at <= $1
             ORDER BY created_at LIMIT 50",
        )
        .bind(before)
        .fetch_all(self.db.reader())
        .await?;
        let mut asked = polled;
        for Stuck {
            id: refund,
            order_id: order,
            amount_minor: amount,
        } in stuck
        {
            let order = OrderId::from_db(order);
            let mut conn = self.db.reader().acquire().await?;
            let Some(row) = orders::row(&mut conn, &order).await? else {
                continue;
            };
            drop(conn);
            if !self.claim_pending(&refund, before).await? {
                continue;
            }
            asked += 1;
            if let Err(e) = self.ask_provider(&row, &refund, amount).await {
                tracing::warn!(%refund, error = %e, "refund retry did not go through");
            }
        }
        Ok(asked)
    }

    /// Touches pending refund `refund` if nobody has since `before`, so that two reconcilers
    /// do not ask about it at the same moment; false when another got there first.
    async fn claim_pending(&self, refund: &str, before: i64) -> Result<bool, CheckoutError> {
        let mut tx = self.db.begin().await?;
        let claimed = sqlx::query(
            "UPDATE refunds SET updated_at = $1
             WHERE id = $2 AND status = 'pending' AND updated_at <= $3",
        )
        .bind(self.clock.now().millis())
        .bind(refund)
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Asks the provider how refunds it accepted but whose outcome never arrived (a lost
    /// `refund.updated`) stand now, and applies the answer as if the event had come.
    async fn poll_refunds(&self, before: i64) -> Result<usize, CheckoutError> {
        #[derive(sqlx::FromRow)]
        struct Waiting {
            id: String,
            provider_refund_id: String,
        }
        let waiting: Vec<Waiting> = sqlx::query_as(
            "SELECT id, provider_refund_id FROM refunds
             WHERE status = 'pending' AND provider_refund_id IS NOT NULL AND updated_at <= $1
             ORDER BY created_at LIMIT 50",
        )
        .bind(before)
        .fetch_all(self.db.reader())
        .await?;
        let mut asked = 0;
        for w in waiting {
            if !self.claim_pending(&w.id, before).await? {
                continue;
            }
            asked += 1;
            match self.provider.refund_state(&w.provider_refund_id).await {
                Ok(answer) if answer.id == w.provider_refund_id => {
                    self.apply_answer(&w.id, &answer).await?;
                }
                Ok(answer) => {
                    tracing::error!(refund = %w.id, asked = %w.provider_refund_id, got = %answer.id, "the provider answered about another refund");
                }
                Err(e) => {
                    tracing::warn!(refund = %w.id, error = %e, "could not ask the provider about a pending refund");
                }
            }
        }
        Ok(asked)
    }
}

/// A Stripe-shaped `refund.updated` event for an offline refund.
pub(crate) fn offline_refund_event(
    row: &OrderRow,
    refund: &str,
    provider_id: &str,
    amount: i64,
    status: &str,
    created: i64,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": format!("evt_offline_{}", shop_core::id::new_uuid_v7().replace('-', "")),
        "object": "event",
        "type": "refund.updated",
        "created": created,
        "livemode": false,
        "data": { "object": {
            "id": provider_id,
            "object": "refund",
            "amount": amount,
            "currency": row.currency.to_lowercase(),
            "status": status,
            "payment_intent": row.payment_intent_id,
            "metadata": { "order_id": row.id, "refund_id": refund },
        }},
    }))
    .unwrap_or_default()
}
