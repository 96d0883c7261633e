//! The server side of the order pages: the customer's orders from the checkout service, and
//! one order for whoever may see it.

use super::{HistoryRow, OrderHistory, OrderRow, OrderView, ParcelRow, RefundRow};
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

/// What a history entry's kind means to the shopper and the staff.
pub(crate) fn event_label(kind: &str) -> String {
    match kind {
        "placed" => "Order placed",
        "payment_started" => "Payment started",
        "payment_processing" => "Payment processing",
        "paid" => "Paid",
        "expired" => "Expired unpaid",
        "cancelled" => "Cancelled",
        "payment_mismatch" => "Payment under review",
        "shipped" => "Shipped",
        "delivered" => "Delivered",
        "refund_requested" => "Refund requested",
        "cancellation_requested" => "Cancellation requested",
        "refunded" => "Refunded",
        "refund_failed" => "Refund failed",
        other => return crate::components::humanize(other),
    }
    .to_owned()
}

/// Whether the shopper reads an entry's note: the staff's reasons, amounts under review and
/// the provider's errors are for the staff.
fn note_for_shopper(kind: &str) -> bool {
    matches!(
        kind,
        "shipped" | "refunded" | "cancelled" | "expired" | "paid"
    )
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
                note: if note_for_shopper(&h.kind) {
                    h.note.clone()
                } else {
                    String::new()
                },
            })
            .collect(),
        pay_href: pending.then(|| order.payment_url.clone()).flatten(),
        shipments: order
            .shipments
            .iter()
            .map(|s| ParcelRow {
                when: s.at.to_human(),
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
                tracking_url: s.tracking_url.clone(),
                units: s.lines.iter().map(|(_, q)| q).sum(),
                delivered: s.delivered_at.map(|t| t.to_human()),
            })
            .collect(),
        refunds: order
            .refunds
            .iter()
            .filter(|r| r.status != checkout::RefundStatus::Failed)
            .map(|r| RefundRow {
                when: r.at.to_human(),
                amount: r.amount.to_string(),
                pending: r.status == checkout::RefundStatus::Pending,
            })
            .collect(),
        can_cancel: matches!(
            order.status,
            checkout::OrderStatus::Paid | checkout::OrderStatus::PartiallyRefunded
        ) && order.fulfilment == checkout::Fulfilment::Unshipped
            && !order
                .refunds
                .iter()
                .any(|r| r.status == checkout::RefundStatus::Pending),
        id: order.id.to_string(),
        token,
    })
}

/// The shopper cancels their paid, unshipped order: a full refund, every unit back in
/// stock. Signed in as its customer, or holding its signed link (`t`).
pub(super) async fn cancel_my_order(
    id: String,
    t: Option<String>,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let token = t.unwrap_or_default();
    let order = visible_order(&id, &token).await?;
    if confirm.as_deref() != Some("yes") {
        return Err(AppError::field(
            "confirm",
            "Tick the box to confirm that you want to cancel.",
        ));
    }
    let actor = match crate::ssr::current_user().await? {
        Some(a) if order.user_id.as_ref() == Some(&a.id) => {
            shop_core::audit::Actor::user(&a.id, a.email.as_str())
        }
        // A verified customer's guest order, or the signed link: the link's holder.
        _ => shop_core::audit::Actor::system("customer (order link)"),
    };
    let refund = ctx
        .checkout
        .cancel(
            &checkout::fulfil::Operator::Customer(actor),
            &order.id,
            "cancelled by the customer",
        )
        .await?;
    crate::ssr::redirect_back_with_flash(if refund.status == checkout::RefundStatus::Succeeded {
        "my_order_cancelled"
    } else {
        "my_order_cancel_pending"
    });
    Ok(())
}
