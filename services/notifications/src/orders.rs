//! What the order mails show: the data handed to the order templates, built from an order
//! as it stands when the mail is written, and the sample the admin previews.

use checkout::{Order, OrderLine, OrderStatus};
use serde::Serialize;
use shop_core::Money;

/// A line of a mail's table.
#[derive(Clone, Debug, Serialize)]
pub struct LineView {
    pub quantity: i64,
    pub name: String,
    /// "Size: M, Colour: Blue", or empty.
    pub options: String,
    /// Empty where the table does not show it (a parcel's contents).
    pub sku: String,
    pub unit_price: String,
    pub total: String,
}

/// The order as the mails show it.
#[derive(Clone, Debug, Serialize)]
pub struct OrderView {
    /// `HS-10042`.
    pub number: String,
    /// The name on the shipping address.
    pub name: String,
    pub email: String,
    pub status: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub shipping: String,
    pub shipping_method: String,
    pub shipping_days: String,
    pub total: String,
    pub vat: String,
    pub vat_rate: String,
    pub shipping_address: Vec<String>,
    /// Refunds that went through.
    pub refunded: String,
}

/// A parcel in the "shipped" mail.
#[derive(Clone, Debug, Serialize)]
pub struct ParcelView {
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub lines: Vec<LineView>,
}

/// A refund in the "refund issued" and "cancelled" mails.
#[derive(Clone, Debug, Serialize)]
pub struct RefundView {
    pub amount: String,
    pub lines: Vec<LineView>,
    /// An amount beyond the lines (shipping, a goodwill gesture).
    pub extra: Option<String>,
    pub reason: Option<String>,
}

/// Everything an order template may name. Fields a template does not use are simply there.
#[derive(Clone, Debug, Serialize)]
pub struct OrderMail {
    pub order: OrderView,
    /// The order's page for the shopper (signed link, works for guests).
    pub link: String,
    /// The order's page in the admin.
    pub admin_link: String,
    pub parcel: Option<ParcelView>,
    /// Lines still to ship after this parcel.
    pub remaining: Vec<LineView>,
    pub refund: Option<RefundView>,
    /// Why staff should look at the order.
    pub reason: Option<String>,
}

/// The `stock.low` mail's data.
#[derive(Clone, Debug, Serialize)]
pub struct LowStockMail {
    pub product: String,
    pub sku: String,
    pub on_hand: i64,
    pub threshold: i64,
    pub admin_link: String,
}

/// A reminder about a cart left with items: what is in it now, and the links to the cart and
/// to stop reminders.
#[derive(Clone, Debug, Serialize)]
pub struct ReminderMail {
    pub name: String,
    pub lines: Vec<LineView>,
    pub total: String,
    pub cart_link: String,
    pub stop_link: String,
}

impl ReminderMail {
    pub fn of(
        name: String,
        lines: &[analytics::reminders::ReminderLine],
        cart_link: String,
        stop_link: String,
    ) -> ReminderMail {
        let total = lines
            .iter()
            .map(|l| l.total)
            .try_fold(None::<Money>, |sum, t| match sum {
                None => Ok(Some(t)),
                Some(s) => s.checked_add(t).map(Some),
            })
            .ok()
            .flatten()
            .map(|m| m.to_string())
            .unwrap_or_default();
        ReminderMail {
            name,
            lines: lines
                .iter()
                .map(|l| LineView {
                    quantity: l.quantity,
                    name: l.product_name.clone(),
                    options: l.options.clone(),
                    sku: String::new(),
                    unit_price: l.unit_price.to_string(),
                    total: l.total.to_string(),
                })
                .collect(),
            total,
            cart_link,
            stop_link,
        }
    }
}

fn options(line: &OrderLine) -> String {
    line.options
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn line_view(line: &OrderLine, quantity: i64, priced: bool) -> LineView {
    let total = if quantity == line.quantity {
        line.line_total.to_string()
    } else {
        line.unit_price
            .checked_mul(quantity)
            .map(|m| m.to_string())
            .unwrap_or_default()
    };
    LineView {
        quantity,
        name: line.product_name.clone(),
        options: options(line),
        sku: if priced {
            line.sku.clone()
        } else {
            String::new()
        },
        unit_price: if priced {
            line.unit_price.to_string()
        } else {
            String::new()
        },
        total: if priced { total } else { String::new() },
    }
}

fn money_or_free(m: Money) -> String {
    if m.minor() == 0 {
        "Free".to_owned()
    } else {
        m.to_string()
    }
}

impl OrderView {
    pub fn of(order: &Order) -> OrderView {
        OrderView {
            number: order.number_label(),
            name: order.shipping_address.full_name.clone(),
            email: order.email.clone(),
            status: order.status.label().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|l| line_view(l, l.quantity, true))
                .collect(),
            subtotal: order.subtotal.to_string(),
            shipping: money_or_free(order.shipping),
            shipping_method: order.shipping_method.clone(),
            shipping_days: order.shipping_days.clone(),
            total: order.total.to_string(),
            vat: order.vat.to_string(),
            vat_rate: checkout::pricing::rate_label(order.vat_rate_bp),
            shipping_address: order.shipping_address.lines(),
            refunded: order.refunded.to_string(),
        }
    }
}

impl OrderMail {
    /// The data for any order mail; the parcel and refund are filled in by the mails that
    /// show them.
    pub fn of(order: &Order, link: String, base_url: &str) -> OrderMail {
        OrderMail {
            order: OrderView::of(order),
            link,
            admin_link: format!("{base_url}/admin/orders/{}", order.id),
            parcel: None,
            remaining: order
                .lines
                .iter()
                .filter(|l| l.to_ship() > 0)
                .map(|l| line_view(l, l.to_ship(), false))
                .collect(),
            refund: None,
            reason: order.review_reason.clone(),
        }
    }

    /// Adds parcel `shipment`; false when the order has no such parcel.
    pub fn with_parcel(&mut self, order: &Order, shipment: &str) -> bool {
        let Some(s) = order.shipments.iter().find(|s| s.id == shipment) else {
            return false;
        };
        self.parcel = Some(ParcelView {
            carrier: s.carrier.clone(),
            tracking_number: s.tracking_number.clone(),
            tracking_url: s.tracking_url.clone(),
            lines: s
                .lines
                .iter()
                .filter_map(|(id, units)| {
                    let line = order.lines.iter().find(|l| &l.id == id)?;
                    Some(line_view(line, *units, false))
                })
                .collect(),
        });
        true
    }

    /// Adds refund `refund`; false when the order has no such refund.
    pub fn with_refund(&mut self, order: &Order, refund: &str) -> bool {
        let Some(r) = order.refunds.iter().find(|r| r.id == refund) else {
            return false;
        };
        self.refund = Some(RefundView {
            amount: r.amount.to_string(),
            lines: r
                .lines
                .iter()
                .filter_map(|u| {
                    let line = order.lines.iter().find(|l| l.id == u.line_id)?;
                    Some(line_view(line, u.quantity, true))
                })
                .collect(),
            extra: (r.extra.minor() > 0).then(|| r.extra.to_string()),
            reason: (!r.reason.trim().is_empty()).then(|| r.reason.clone()),
        });
        true
    }
}

/// Whether the "payment confirmed" mail still makes sense for the order as it stands now
/// (a "received" mail for an order already paid is still sent: it is the first the shopper
/// hears).
pub fn paid(order: &Order) -> bool {
    !matches!(
        order.status,
        OrderStatus::PendingPayment | OrderStatus::Expired
    )
}
