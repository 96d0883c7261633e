//! The server side of the order pages: the customer's orders from the checkout service, and
//! one order for whoever may see it.

use super::{HistoryRow, OrderHistory, OrderRow, OrderView};
use crate::checkout::server::{label_lines, line_view, shipping_label, visible_order};
use crate::components::Tone;
use crate::error::AppError;
use crate::ssr::{require_user, server_context};

const PER_PAGE: u32 = 20;

pub(super) async fn my_orders(page: Option<u32>) -> Result<OrderHistory, AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let page = page.unwrap_or(1).clamp(1, 10_000);
    let verified = user.is_verified().then(|| user.email.as_str().to_owned());
    let (orders, more) =
        checkout::orders::for_customer(&ctx.db, &user.id, verified.as_deref(), page, PER_PAGE)
            .await?;
    Ok(OrderHistory {
        orders: orders
            .into_iter()
            .map(|o| OrderRow {
                id: o.id.to_string(),
                number: checkout::orders::number_label(o.number),
                placed: o.placed_at.to_human(),
                status: o.status.label().to_owned(),
                tone: Tone::of_order(o.status.as_str()),
                total: o.total.to_string(),
                items: o.units,
            })
            .collect(),
        page,
        more,
    })
}

/// What a history entry's kind means to the shopper.
fn event_label(kind: &str) -> String {
    match kind {
        "placed" => "Order placed",
        "payment_started" => "Payment started",
        "payment_processing" => "Payment processing",
        "paid" => "Paid",
        "expired" => "Expired unpaid",
        "cancelled" => "Cancelled",
        "payment_mismatch" => "Payment under review",
        other => return crate::components::humanize(other),
    }
    .to_owned()
}

pub(super) async fn order_detail(id: String, t: Option<String>) -> Result<OrderView, AppError> {
    let ctx = server_context()?;
    let token = t.unwrap_or_default();
    let order = visible_order(&id, &token).await?;
    let pending = order.status == checkout::OrderStatus::PendingPayment
        && order.hold_until.millis() > ctx.clock.now().millis();
    Ok(OrderView {
        number: order.number_label(),
        placed: order.placed_at.to_human(),
        status: order.status.label().to_owned(),
        tone: Tone::of_order(order.status.as_str()),
        email: order.email.clone(),
        lines: order
            .lines
            .iter()
            .map(|l| {
                line_view(
                    &l.product_name,
                    &l.options,
                    &l.sku,
                    l.quantity,
                    l.unit_price,
                    l.line_total,
                    l.image.as_deref(),
                )
            })
            .collect(),
        subtotal: order.subtotal.to_string(),
        shipping: shipping_label(order.shipping),
        method: order.shipping_method.clone(),
        days: order.shipping_days.clone(),
        vat_label: checkout::pricing::rate_label(order.vat_rate_bp),
        vat: order.vat.to_string(),
        total: order.total.to_string(),
        ship_to: label_lines(&order.shipping_address),
        bill_to: label_lines(&order.billing_address),
        history: order
            .history
            .iter()
            .map(|h| HistoryRow {
                when: h.at.to_human(),
                what: event_label(&h.kind),
                // Notes for staff (amounts under review) are not the shopper's business.
                note: if h.kind == "payment_mismatch" {
                    String::new()
                } else {
                    h.note.clone()
                },
            })
            .collect(),
        pay_href: pending.then(|| order.payment_url.clone()).flatten(),
    })
}
