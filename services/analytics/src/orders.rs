//! Payments and refunds, recorded from the outbox (`order.paid`, `order.refunded`,
//! `order.cancelled` with a refund): the money comes from the order as the checkout service
//! has it, never from the browser, on the day it was paid or refunded. Each event has a key
//! (the order's or refund's id), so a repeated delivery writes nothing twice.

use checkout::{ORDER_CANCELLED, ORDER_PAID, ORDER_REFUNDED, Order, OrderId, RefundStatus};
use shop_core::outbox::{Event, Handler, HandlerError};

use crate::Analytics;
use crate::event::{Kind, Noted};

/// The outbox handler that records payments and refunds.
#[derive(Clone, Debug)]
pub struct OrderEvents(pub Analytics);

impl Handler for OrderEvents {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        if ![ORDER_PAID, ORDER_REFUNDED, ORDER_CANCELLED].contains(&event.kind.as_str()) {
            return Ok(());
        }
        let field = |name: &str| event.payload.get(name).and_then(|v| v.as_str());
        let Some(id) = field("order_id").and_then(|id| OrderId::parse(id).ok()) else {
            return Err(HandlerError::Permanent(format!(
                "{}: no order id in the payload",
                event.kind
            )));
        };
        let a = &self.0;
        let order = match checkout::orders::load(&a.db, &id).await {
            Ok(order) => order,
            Err(checkout::CheckoutError::NotFound) => {
                return Err(HandlerError::Permanent(format!(
                    "{}: no order {id}",
                    event.kind
                )));
            }
            Err(e) => return Err(HandlerError::Retry(e.to_string())),
        };
        if let (ORDER_PAID, Some(cart), Some(paid_at)) =
            (event.kind.as_str(), &order.cart_id, order.paid_at)
        {
            crate::carts::converted(
                &a.db,
                cart.as_str(),
                order.id.as_str(),
                order.number,
                paid_at.millis(),
            )
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))?;
        }
        let events = match (event.kind.as_str(), field("refund_id")) {
            (ORDER_PAID, _) => paid(&order),
            (_, Some(refund)) => refunded(&order, refund),
            // A cancellation before payment gives nothing back.
            _ => Vec::new(),
        };
        a.record_keyed(events)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}

/// An order's payment and its lines' sales, at the time it was paid.
fn paid(order: &Order) -> Vec<(Noted, i64, String)> {
    let Some(at) = order.paid_at.map(|t| t.millis()) else {
        return Vec::new();
    };
    let currency = order.currency.code().to_owned();
    let amount = order.paid.unwrap_or(order.total).minor();
    let mut events = vec![(
        Noted {
            order_id: Some(order.id.as_str().to_owned()),
            amount_minor: Some(amount),
            currency: Some(currency.clone()),
            ..Noted::new(Kind::OrderPaid)
        },
        at,
        format!("paid:{}", order.id),
    )];
    for line in &order.lines {
        events.push((
            Noted {
                order_id: Some(order.id.as_str().to_owned()),
                product_id: Some(line.product_id.clone()),
                vendor_id: line.vendor_id.as_ref().map(|v| v.as_str().to_owned()),
                quantity: Some(line.quantity),
                amount_minor: Some(line.line_total.minor()),
                currency: Some(currency.clone()),
                ..Noted::new(Kind::Sale)
            },
            at,
            format!("sale:{}", line.id),
        ));
    }
    events
}

/// A refund of `order` (the whole amount, and each refunded line's part for its product and
/// vendor), at the time it was made; nothing for a refund that failed.
fn refunded(order: &Order, refund_id: &str) -> Vec<(Noted, i64, String)> {
    let Some(refund) = order
        .refunds
        .iter()
        .find(|r| r.id == refund_id && r.status != RefundStatus::Failed)
    else {
        return Vec::new();
    };
    let currency = order.currency.code().to_owned();
    let at = refund.at.millis();
    let base = Noted {
        order_id: Some(order.id.as_str().to_owned()),
        currency: Some(currency),
        ..Noted::new(Kind::Refund)
    };
    let mut events = vec![(
        Noted {
            amount_minor: Some(refund.amount.minor()),
            ..base.clone()
        },
        at,
        format!("refund:{}", refund.id),
    )];
    for part in &refund.lines {
        let Some(line) = order.lines.iter().find(|l| l.id == part.line_id) else {
            continue;
        };
        events.push((
            Noted {
                product_id: Some(line.product_id.clone()),
                vendor_id: line.vendor_id.as_ref().map(|v| v.as_str().to_owned()),
                quantity: Some(part.quantity),
                amount_minor: Some(part.amount.minor()),
                ..base.clone()
            },
            at,
            format!("refund:{}:{}", refund.id, line.id),
        ));
    }
    events
}
