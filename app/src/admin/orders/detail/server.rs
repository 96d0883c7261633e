//! The server side of the staff's order page: who is asking (staff, or a vendor for their
//! own lines), the order as the checkout service gives it to them, and each action as one
//! call to the service.

use std::collections::HashMap;

use checkout::fulfil::{Operator, ShipItems};
use checkout::refund::{RefundItems, RefundLine};
use checkout::{Fulfilment, Order, OrderId, OrderStatus, RefundStatus};
use shop_core::Money;
use shop_core::audit::Actor;

use super::{
    AdminHistoryRow, AdminLine, AdminOrderView, DocumentView, NoteView, PaymentView, RefundView,
    ShipmentView,
};
use crate::account::orders::server::event_label;
use crate::cart::server::refuse_extra_fields;
use crate::components::{Tone, humanize};
use crate::error::AppError;
use crate::ssr::{
    ServerContext, confirmed, parse_id, redirect_back_with_flash, require_user, server_context,
};

/// The signed-in staff member or vendor as the checkout knows them: 401 for nobody, 403
/// for anyone else.
async fn operator() -> Result<Operator, AppError> {
    let account = require_user().await?;
    let actor = Actor::user(&account.id, account.email.as_str());
    if account.may_act_as(auth::Role::Admin) {
        Ok(Operator::Staff(actor))
    } else if account.may_act_as(auth::Role::Vendor) {
        Ok(Operator::Vendor(actor))
    } else {
        tracing::warn!(user.id = %account.id, "refused: orders are for staff and vendors");
        Err(AppError::Forbidden)
    }
}

/// The units chosen for one line of a shipment or a refund.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct LineField {
    line: String,
    /// `qty_<line id>`: units not shipped yet.
    quantity: i64,
    /// `sent_<line id>` (refunds): units already shipped.
    sent: i64,
    /// `restock_<line id>` ticked (refunds).
    restock: bool,
}

fn units_field(fields: &HashMap<String, String>, key: &str) -> Result<i64, AppError> {
    let value = fields.get(key).map_or("", |v| v.trim());
    if value.is_empty() {
        return Ok(0);
    }
    let units: i64 = value
        .parse()
        .map_err(|_| AppError::field("lines", "Quantities must be whole numbers."))?;
    if units < 0 {
        return Err(AppError::field("lines", "Quantities cannot be negative."));
    }
    Ok(units)
}

/// The lines with a positive `qty_<line id>` (and, for a refund, `sent_<line id>`, with
/// `restock_<line id>` ticked or not); any other field is refused.
fn line_fields(fields: &HashMap<String, String>, refund: bool) -> Result<Vec<LineField>, AppError> {
    let mut other = HashMap::new();
    let mut lines = Vec::new();
    for key in fields.keys() {
        let line = key
            .strip_prefix("qty_")
            .or_else(|| refund.then(|| key.strip_prefix("sent_")).flatten());
        if let Some(line) = line {
            if lines.iter().any(|l: &LineField| l.line == line) {
                continue;
            }
            let quantity = units_field(fields, &format!("qty_{line}"))?;
            let sent = units_field(fields, &format!("sent_{line}"))?;
            if quantity > 0 || sent > 0 {
                let restock = fields
                    .get(&format!("restock_{line}"))
                    .is_some_and(|v| v == "on");
                lines.push(LineField {
                    line: line.to_owned(),
                    quantity,
                    sent,
                    restock,
                });
            }
        } else if !(refund && key.starts_with("restock_")) {
            other.insert(key.clone(), fields[key].clone());
        }
    }
    refuse_extra_fields(&other)?;
    lines.sort();
    Ok(lines)
}

fn options_label(options: &[(String, String)]) -> String {
    options
        .iter()
        .map(|(k, v)| format!("{}: {v}", humanize(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn view(o: Order, who: &Operator, notes: Vec<NoteView>) -> AdminOrderView {
    let staff = matches!(who, Operator::Staff(_));
    let name_of = |line: &str| {
        o.lines.iter().find(|l| l.id == line).map_or_else(
            || "a line".to_owned(),
            |l| format!("{} ({})", l.product_name, l.sku),
        )
    };
    let refundable = o.refundable();
    let to_ship = o.units_to_ship();
    let paid_like = matches!(o.status, OrderStatus::Paid | OrderStatus::PartiallyRefunded);
    AdminOrderView {
        id: o.id.to_string(),
        number: o.number_label(),
        status: o.status.label().to_owned(),
        tone: Tone::of_order(o.status.as_str()),
        fulfilment: o.fulfilment.label().to_owned(),
        placed: o.placed_at.to_human(),
        email: if staff {
            o.email.clone()
        } else {
            String::new()
        },
        review_reason: if staff { o.review_reason.clone() } else { None },
        lines: o
            .lines
            .iter()
            .map(|l| AdminLine {
                id: l.id.clone(),
                name: l.product_name.clone(),
                options: options_label(&l.options),
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.to_string(),
                line_total: l.line_total.to_string(),
                shipped: l.shipped,
                refunded: l.refunded,
                to_ship: l.to_ship(),
                refundable: l.refundable(),
                refundable_sent: l.refundable_sent(),
                restockable: l.restockable(),
            })
            .collect(),
        subtotal: o.subtotal.to_string(),
        shipping: crate::checkout::server::shipping_label(o.shipping),
        vat_label: checkout::pricing::rate_label(o.vat_rate_bp),
        vat: o.vat.to_string(),
        total: o.total.to_string(),
        method: o.shipping_method.clone(),
        days: o.shipping_days.clone(),
        ship_to: crate::checkout::server::label_lines(&o.shipping_address),
        bill_to: crate::checkout::server::label_lines(&o.billing_address),
        payment: staff.then(|| PaymentView {
            provider: o.payment_provider.clone(),
            session_id: o.payment_session_id.clone(),
            payment_intent_id: o.payment_intent_id.clone(),
            paid: o.paid.map(|m| m.to_string()),
            paid_at: o.paid_at.map(|t| t.to_human()),
            refunded: o.refunded.to_string(),
            has_refunds: o.refunded.minor() > 0,
            refundable: refundable.to_string(),
            currency: o.currency.code().to_owned(),
        }),
        shipments: o
            .shipments
            .iter()
            .map(|s| ShipmentView {
                when: s.at.to_human(),
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
                tracking_url: s.tracking_url.clone(),
                contents: s
                    .lines
                    .iter()
                    .map(|(line, q)| format!("{q} × {}", name_of(line)))
                    .collect(),
                delivered: s.delivered_at.map(|t| t.to_human()),
            })
            .collect(),
        refunds: o
            .refunds
            .iter()
            .map(|r| RefundView {
                when: r.at.to_human(),
                amount: r.amount.to_string(),
                status: humanize(r.status.as_str()),
                tone: match r.status {
                    RefundStatus::Succeeded => Tone::Good,
                    RefundStatus::Pending => Tone::Warning,
                    RefundStatus::Failed => Tone::Neutral,
                },
                contents: r
                    .lines
                    .iter()
                    .map(|u| {
                        let mut notes = Vec::new();
                        if u.sent > 0 {
                            notes.push(format!("{} shipped", u.sent));
                        }
                        if u.restocked > 0 {
                            notes.push(format!("{} restocked", u.restocked));
                        }
                        if notes.is_empty() {
                            format!("{} × {}", u.quantity, name_of(&u.line_id))
                        } else {
                            format!(
                                "{} × {} ({})",
                                u.quantity,
                                name_of(&u.line_id),
                                notes.join(", ")
                            )
                        }
                    })
                    .collect(),
                extra: (r.extra.minor() > 0).then(|| r.extra.to_string()),
                reason: r.reason.clone(),
                failure: r.failure.clone(),
                actor: r.actor.clone(),
                provider_refund_id: r.provider_refund_id.clone(),
                cancels: r.cancels,
            })
            .collect(),
        history: o
            .history
            .iter()
            .map(|h| AdminHistoryRow {
                when: h.at.to_human(),
                what: event_label(&h.kind),
                note: h.note.clone(),
                actor: h.actor.clone(),
            })
            .collect(),
        notes,
        staff,
        can_ship: paid_like && to_ship > 0,
        can_deliver: staff && o.fulfilment == Fulfilment::Shipped,
        can_cancel: staff
            && paid_like
            && o.fulfilment == Fulfilment::Unshipped
            && !o.refunds.iter().any(|r| r.status == RefundStatus::Pending),
        can_refund: staff
            && refundable.minor() > 0
            && matches!(
                o.status,
                OrderStatus::Paid
                    | OrderStatus::Fulfilled
                    | OrderStatus::Delivered
                    | OrderStatus::PartiallyRefunded
            ),
    }
}

pub(crate) async fn admin_order(id: String) -> Result<AdminOrderView, AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    let id: OrderId = parse_id(&id)?;
    let order = ctx.checkout.order_for(&who, &id).await?;
    let notes = match who {
        Operator::Staff(_) => ctx
            .checkout
            .notes(&who, &id)
            .await?
            .into_iter()
            .map(|n| NoteView {
                when: n.at.to_human(),
                author: n.author,
                body: n.body,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(view(order, &who, notes))
}

/// What an action on some lines starts from: who asks, which order, the lines' fields
/// (refused when malformed), and the confirmation box ticked.
async fn line_action(
    order_id: &str,
    fields: &HashMap<String, String>,
    refund: bool,
    confirm: Option<String>,
) -> Result<(ServerContext, Operator, OrderId, Vec<LineField>), AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    let id: OrderId = parse_id(order_id)?;
    let lines = line_fields(fields, refund)?;
    confirmed(confirm)?;
    Ok((ctx, who, id, lines))
}

pub(crate) async fn ship_order(
    order_id: String,
    carrier: String,
    tracking_number: String,
    confirm: Option<String>,
    fields: HashMap<String, String>,
) -> Result<(), AppError> {
    let (ctx, who, id, lines) = line_action(&order_id, &fields, false, confirm).await?;
    if lines.is_empty() {
        return Err(AppError::field(
            "lines",
            "Choose at least one unit to ship.",
        ));
    }
    ctx.checkout
        .ship(
            &who,
            &id,
            &ShipItems {
                lines: lines.into_iter().map(|l| (l.line, l.quantity)).collect(),
                carrier,
                tracking_number,
            },
        )
        .await?;
    redirect_back_with_flash("order_shipped");
    Ok(())
}

pub(crate) async fn deliver_order(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    let id: OrderId = parse_id(&order_id)?;
    confirmed(confirm)?;
    ctx.checkout.deliver(&who, &id).await?;
    redirect_back_with_flash("order_delivered");
    Ok(())
}

pub(crate) async fn cancel_order(
    order_id: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    let id: OrderId = parse_id(&order_id)?;
    confirmed(confirm)?;
    let refund = ctx.checkout.cancel(&who, &id, &reason).await?;
    redirect_back_with_flash(if refund.status == RefundStatus::Succeeded {
        "order_cancelled"
    } else {
        "order_cancel_pending"
    });
    Ok(())
}

pub(crate) async fn refund_order(
    order_id: String,
    extra: String,
    reason: String,
    confirm: Option<String>,
    fields: HashMap<String, String>,
) -> Result<(), AppError> {
    let (ctx, who, id, lines) = line_action(&order_id, &fields, true, confirm).await?;
    let extra = extra.trim();
    let extra_minor = if extra.is_empty() {
        0
    } else {
        // The order's currency decides the decimals; the browser sends only the number.
        let currency = checkout::orders::load(&ctx.db, &id).await?.currency;
        Money::parse_decimal(extra, currency)
            .map_err(|_| {
                AppError::field("extra", "Enter the extra amount as a number, e.g. 4.90.")
            })?
            .minor()
    };
    let refund = ctx
        .checkout
        .refund(
            &who,
            &id,
            &RefundItems {
                lines: lines
                    .into_iter()
                    .map(|l| RefundLine {
                        line_id: l.line,
                        quantity: l.quantity,
                        sent: l.sent,
                        restock: l.restock,
                    })
                    .collect(),
                extra_minor,
                reason,
                id: None,
            },
        )
        .await?;
    redirect_back_with_flash(if refund.status == RefundStatus::Succeeded {
        "order_refunded"
    } else {
        "order_refund_pending"
    });
    Ok(())
}

pub(crate) async fn note_order(order_id: String, note: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    let id: OrderId = parse_id(&order_id)?;
    ctx.checkout.add_note(&who, &id, &note).await?;
    redirect_back_with_flash("order_noted");
    Ok(())
}

pub(crate) async fn order_document(id: String) -> Result<DocumentView, AppError> {
    let ctx = server_context()?;
    let who = operator().await?;
    if !matches!(who, Operator::Staff(_)) {
        return Err(AppError::Forbidden);
    }
    let id: OrderId = parse_id(&id)?;
    let order = ctx.checkout.order_for(&who, &id).await?;
    let issued: String = ctx.clock.now().to_human();
    Ok(DocumentView {
        order: view(order, &who, Vec::new()),
        shop_name: ctx.shop.name.clone(),
        issued,
    })
}
