//! Orders as they are stored and read: the state machine every change goes through, the
//! append-only history, and the lists the shopper and the staff see.

use serde::{Deserialize, Serialize};
use shop_core::db::Conn;
use shop_core::{Batch, CartId, Clock, Currency, Db, Money, OrderId, Timestamp, UserId, VariantId};

use crate::CheckoutError;

/// Where an order stands. Every change of status goes through [`OrderStatus::may_become`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Expired,
    Cancelled,
    Fulfilled,
    Delivered,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Expired,
        OrderStatus::Cancelled,
        OrderStatus::Fulfilled,
        OrderStatus::Delivered,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Expired => "expired",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Delivered => "delivered",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// What the shopper and the staff read.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "Awaiting payment",
            OrderStatus::Paid => "Paid",
            OrderStatus::Expired => "Expired (not paid)",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::Fulfilled => "Shipped",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::PartiallyRefunded => "Partially refunded",
            OrderStatus::Refunded => "Refunded",
        }
    }

    /// The legal moves. A payment that arrives after the order expired or was cancelled
    /// unpaid is still the shopper's money: the order becomes paid (and is flagged when its
    /// units are gone).
    pub fn may_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (PendingPayment, Paid | Expired | Cancelled)
                | (Expired | Cancelled, Paid)
                | (Paid, Fulfilled | Cancelled | PartiallyRefunded | Refunded)
                | (Fulfilled, Delivered | PartiallyRefunded | Refunded)
                | (Delivered, PartiallyRefunded | Refunded)
                | (PartiallyRefunded, PartiallyRefunded | Refunded | Cancelled)
        )
    }

    /// A paid order: money was taken (some of it may have been given back since).
    pub fn is_paid(self) -> bool {
        use OrderStatus::*;
        matches!(
            self,
            Paid | Fulfilled | Delivered | PartiallyRefunded | Refunded
        )
    }
}

/// How far an order's goods have gone, beside its status (a partially refunded order may
/// still be shipped, for example).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fulfilment {
    /// Nothing sent yet.
    Unshipped,
    /// Some units sent, some still to send.
    Partial,
    /// Every unit still owed has been sent.
    Shipped,
    Delivered,
}

impl Fulfilment {
    pub const ALL: [Fulfilment; 4] = [
        Fulfilment::Unshipped,
        Fulfilment::Partial,
        Fulfilment::Shipped,
        Fulfilment::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fulfilment::Unshipped => "unshipped",
            Fulfilment::Partial => "partial",
            Fulfilment::Shipped => "shipped",
            Fulfilment::Delivered => "delivered",
        }
    }

    pub fn parse(s: &str) -> Option<Fulfilment> {
        Fulfilment::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Fulfilment::Unshipped => "Not shipped",
            Fulfilment::Partial => "Partially shipped",
            Fulfilment::Shipped => "Shipped",
            Fulfilment::Delivered => "Delivered",
        }
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label().to_lowercase())
    }
}

/// "HS-10042".
pub fn number_label(number: i64) -> String {
    format!("HS-{number}")
}

/// Reads "HS-10042" (or "10042") back.
pub fn parse_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("HS-")
        .or_else(|| s.strip_prefix("hs-"))
        .unwrap_or(s);
    digits.parse().ok().filter(|n: &i64| *n > 0)
}

/// A postal address as the order keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: String,
}

impl PostalAddress {
    /// The address as lines for a label: name, street, town, country.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.full_name.clone(), self.line1.clone()];
        if !self.line2.is_empty() {
            out.push(self.line2.clone());
        }
        let town = [self.postal_code.as_str(), self.city.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(if self.region.is_empty() {
            town
        } else {
            format!("{town}, {}", self.region)
        });
        out.push(self.country.clone());
        if !self.phone.is_empty() {
            out.push(self.phone.clone());
        }
        out
    }
}

/// A line of an order, as bought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLine {
    pub id: String,
    pub variant_id: VariantId,
    pub product_id: String,
    /// The product's vendor when the order was placed.
    pub vendor_id: Option<UserId>,
    pub product_name: String,
    pub slug: String,
    pub sku: String,
    pub options: Vec<(String, String)>,
    pub image: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub vat: Money,
    /// Units sent so far.
    pub shipped: i64,
    /// Units refunded or being refunded.
    pub refunded: i64,
    /// Of the refunded units, those that had already been shipped (returned, or kept by
    /// the customer); the others will not be sent.
    pub refunded_sent: i64,
    /// Units put back on the shelf by refunds.
    pub restocked: i64,
    /// Units paid for that were never taken from stock (a late payment found them gone).
    pub unsold: i64,
}

impl OrderLine {
    /// Units still to send: bought, not sent, not refunded before they went.
    pub fn to_ship(&self) -> i64 {
        (self.quantity - self.shipped - (self.refunded - self.refunded_sent)).max(0)
    }

    /// Units that may still be refunded.
    pub fn refundable(&self) -> i64 {
        (self.quantity - self.refunded).max(0)
    }

    /// Shipped units that may still be refunded (a return, or a parcel that arrived
    /// damaged).
    pub fn refundable_sent(&self) -> i64 {
        (self.shipped - self.refunded_sent).max(0)
    }

    /// Units a refund may still put back on the shelf: those taken from stock for this
    /// line and not restocked yet.
    pub fn restockable(&self) -> i64 {
        (self.quantity - self.unsold - self.restocked).max(0)
    }
}

/// A parcel sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// The carrier's tracking page, for carriers the shop knows.
    pub tracking_url: Option<String>,
    /// (line id, units) in the parcel.
    pub lines: Vec<(String, i64)>,
    pub actor: String,
    pub at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// Asked of the provider, not confirmed yet.
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RefundStatus> {
        [
            RefundStatus::Pending,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Money given back on an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    pub status: RefundStatus,
    pub provider_refund_id: Option<String>,
    /// `shop` (asked here) or `provider` (made in the provider's dashboard).
    pub source: String,
    /// The refund of a cancellation.
    pub cancels: bool,
    /// The units refunded, line by line.
    pub lines: Vec<RefundedUnits>,
    /// An amount beyond the lines (shipping, a goodwill gesture).
    pub extra: Money,
    pub reason: String,
    pub failure: Option<String>,
    pub actor: String,
    pub at: Timestamp,
}

/// The units of one order line a refund gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundedUnits {
    pub line_id: String,
    pub quantity: i64,
    /// Of those, units that had already been shipped.
    pub sent: i64,
    /// Units put back on the shelf.
    pub restocked: i64,
    /// The money given back for these units.
    pub amount: Money,
}

/// One entry of an order's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub kind: String,
    pub status: OrderStatus,
    pub note: String,
    pub actor: String,
    pub at: Timestamp,
}

/// An order with its lines and history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub number: i64,
    pub status: OrderStatus,
    pub user_id: Option<UserId>,
    pub email: String,
    /// The cart it was placed from.
    pub cart_id: Option<CartId>,
    pub currency: Currency,
    pub subtotal: Money,
    pub shipping: Money,
    pub vat: Money,
    pub total: Money,
    pub vat_rate_bp: i64,
    pub shipping_method: String,
    pub shipping_days: String,
    pub shipping_address: PostalAddress,
    pub billing_address: PostalAddress,
    pub payment_provider: String,
    pub payment_session_id: Option<String>,
    pub payment_url: Option<String>,
    /// Why staff should look at this order (an amount mismatch, a payment after expiry).
    pub review_reason: Option<String>,
    pub hold_until: Timestamp,
    pub placed_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    /// What the provider took (`None` while unpaid).
    pub paid: Option<Money>,
    pub payment_intent_id: Option<String>,
    /// Refunds that went through.
    pub refunded: Money,
    pub fulfilment: Fulfilment,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    pub refunds: Vec<Refund>,
    pub history: Vec<OrderEvent>,
}

impl Order {
    pub fn number_label(&self) -> String {
        number_label(self.number)
    }

    /// The order is the customer's: placed signed in as `user`, or as a guest with the
    /// address `verified_email` the customer has confirmed (as [`for_customer`] lists them).
    pub fn is_customers(&self, user: &UserId, verified_email: Option<&str>) -> bool {
        self.user_id.as_ref() == Some(user)
            || (self.user_id.is_none() && verified_email == Some(self.email.as_str()))
    }

    /// What may still be refunded: what was paid less the refunds that went through or are
    /// under way.
    pub fn refundable(&self) -> Money {
        let paid = self.paid.map_or(0, Money::minor);
        let taken: i64 = self
            .refunds
            .iter()
            .filter(|r| r.status != RefundStatus::Failed)
            .map(|r| r.amount.minor())
            .sum();
        Money::new((paid - taken).max(0), self.currency)
    }

    /// Units still to send, over every line.
    pub fn units_to_ship(&self) -> i64 {
        self.lines.iter().map(OrderLine::to_ship).sum()
    }
}

/// The tracking page of a parcel, for the carriers the shop knows (matched on the name
/// staff typed, case-insensitively).
pub fn tracking_url(carrier: &str, tracking: &str) -> Option<String> {
    let number: String = tracking
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if number.is_empty() {
        return None;
    }
    let carrier = carrier.trim().to_ascii_lowercase();
    let base = match carrier.as_str() {
        "dhl" | "dhl express" => "https://www.dhl.com/global-en/home/tracking.html?tracking-id=",
        "ups" => "https://www.ups.com/track?tracknum=",
        "fedex" => "https://www.fedex.com/fedextrack/?trknbr=",
        "usps" => "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
        "royal mail" => "https://www.royalmail.com/track-your-item#/tracking-results/",
        "dpd" => "https://track.dpd.co.uk/search?reference=",
        "gls" => "https://gls-group.com/track/",
        "postnl" => "https://jouw.postnl.nl/track-and-trace/",
        "la poste" | "colissimo" => "https://www.laposte.fr/outils/suivre-vos-envois?code=",
        _ => return None,
    };
    Some(format!("{base}{number}"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub(crate) id: String,
    pub(crate) number: i64,
    pub(crate) status: String,
    pub(crate) stock: String,
    pub(crate) user_id: Option<String>,
    pub(crate) email: String,
    pub(crate) cart_id: Option<String>,
    pub(crate) currency: String,
    pub(crate) subtotal_minor: i64,
    pub(crate) shipping_minor: i64,
    pub(crate) vat_minor: i64,
    pub(crate) total_minor: i64,
    pub(crate) vat_rate_bp: i64,
    pub(crate) shipping_method_name: String,
    pub(crate) shipping_days: String,
    pub(crate) shipping_address: String,
    pub(crate) billing_address: String,
    pub(crate) fingerprint: String,
    pub(crate) hold_until: i64,
    pub(crate) payment_provider: String,
    pub(crate) payment_session_id: Option<String>,
    pub(crate) payment_url: Option<String>,
    pub(crate) review_reason: Option<String>,
    pub(crate) placed_at: i64,
    pub(crate) paid_at: Option<i64>,
    pub(crate) paid_minor: Option<i64>,
    pub(crate) payment_intent_id: Option<String>,
    pub(crate) fulfilment: String,
    pub(crate) refunded_minor: i64,
}

pub(crate) const ORDER_COLUMNS: &str = "id, number, status, stock, user_id, email, cart_id,
    currency, subtotal_minor, shipping_minor, vat_minor, total_minor, vat_rate_bp,
    shipping_method_name, shipping_days, shipping_address, billing_address, fingerprint,
    hold_until, payment_provider, payment_session_id, payment_url, review_reason, placed_at,
    paid_at, paid_minor, payment_intent_id, fulfilment, refunded_minor";

impl OrderRow {
    pub(crate) fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::PendingPayment)
    }

    pub(crate) fn currency(&self) -> Currency {
        self.currency.parse().unwrap_or(Currency::Eur)
    }

    pub(crate) fn order_id(&self) -> OrderId {
        OrderId::from_db(self.id.clone())
    }

    pub(crate) fn fulfilment(&self) -> Fulfilment {
        Fulfilment::parse(&self.fulfilment).unwrap_or(Fulfilment::Unshipped)
    }
}

/// Reads an order's row and, on PostgreSQL, locks it for the rest of the transaction, so
/// that two changes to one order (two staff members, an event and the sweeper) take turns.
/// SQLite's write transactions already do.
pub(crate) async fn locked_row(
    conn: &mut Conn,
    order: &OrderId,
) -> Result<Option<OrderRow>, sqlx::Error> {
    let lock = match shop_core::Backend::of(conn) {
        shop_core::Backend::Postgres => " FOR UPDATE",
        shop_core::Backend::Sqlite => "",
    };
    sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{lock}"
    ))
    .bind(order.as_str())
    .fetch_optional(&mut *conn)
    .await
}

/// Reads an order's row in the caller's transaction (or on a pooled connection).
pub(crate) async fn row(conn: &mut Conn, id: &OrderId) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: String,
    variant_id: String,
    product_id: String,
    vendor_id: Option<String>,
    product_name: String,
    slug: String,
    sku: String,
    options: String,
    image: Option<String>,
    quantity: i64,
    unit_price_minor: i64,
    line_total_minor: i64,
    vat_minor: i64,
    shipped: i64,
    refunded: i64,
    refunded_sent: i64,
    restocked: i64,
    unsold: i64,
}

/// An order's lines, with the units refunded or being refunded (failed refunds do not
/// count), how many of those had shipped, and how many went back on the shelf.
const LINES: &str = "SELECT l.id, l.variant_id, l.product_id, l.vendor_id, l.product_name,
        l.slug, l.sku, l.options, l.image, l.quantity, l.unit_price_minor,
        l.line_total_minor, l.vat_minor, l.shipped, l.unsold,
        CAST(COALESCE(r.refunded, 0) AS BIGINT) AS refunded,
        CAST(COALESCE(r.sent, 0) AS BIGINT) AS refunded_sent,
        CAST(COALESCE(r.restocked, 0) AS BIGINT) AS restocked
    FROM order_lines l
    LEFT JOIN (SELECT rl.line_id, SUM(rl.quantity) AS refunded, SUM(rl.sent) AS sent,
                      SUM(rl.restock) AS restocked
               FROM refund_lines rl JOIN refunds f ON f.id = rl.refund_id
               WHERE f.order_id = $1 AND f.status <> 'failed'
               GROUP BY rl.line_id) r ON r.line_id = l.id
    WHERE l.order_id = $1 ORDER BY l.position";

impl LineRow {
    fn into_line(self, currency: Currency) -> OrderLine {
        let money = |m: i64| Money::new(m, currency);
        OrderLine {
            id: self.id,
            variant_id: VariantId::from_db(self.variant_id),
            product_id: self.product_id,
            vendor_id: self.vendor_id.map(UserId::from_db),
            product_name: self.product_name,
            slug: self.slug,
            sku: self.sku,
            options: serde_json::from_str(&self.options).unwrap_or_default(),
            image: self.image,
            quantity: self.quantity,
            unit_price: money(self.unit_price_minor),
            line_total: money(self.line_total_minor),
            vat: money(self.vat_minor),
            shipped: self.shipped,
            refunded: self.refunded,
            refunded_sent: self.refunded_sent,
            restocked: self.restocked,
            unsold: self.unsold,
        }
    }
}

/// An order's lines, on the caller's connection (inside a transaction: as it sees them).
pub(crate) async fn lines(
    conn: &mut Conn,
    order: &OrderId,
    currency: Currency,
) -> Result<Vec<OrderLine>, sqlx::Error> {
    let rows: Vec<LineRow> = sqlx::query_as(LINES)
        .bind(order.as_str())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.into_line(currency)).collect())
}

#[derive(sqlx::FromRow)]
struct ShipmentRow {
    id: String,
    carrier: String,
    tracking_number: String,
    actor: String,
    created_at: i64,
    delivered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PartRow {
    parent: String,
    line_id: String,
    quantity: i64,
    sent: i64,
    restock: i64,
    /// A refund's part: the money it gave back for the line (shipments have none).
    #[sqlx(default)]
    amount_minor: i64,
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    amount_minor: i64,
    status: String,
    provider_refund_id: Option<String>,
    source: String,
    cancels: i64,
    extra_minor: i64,
    reason: String,
    failure: Option<String>,
    actor: String,
    created_at: i64,
}

/// An order's parcels, oldest first.
async fn shipments(conn: &mut Conn, order: &OrderId) -> Result<Vec<Shipment>, sqlx::Error> {
    let rows: Vec<ShipmentRow> = sqlx::query_as(
        "SELECT id, carrier, tracking_number, actor, created_at, delivered_at FROM shipments
         WHERE order_id = $1 ORDER BY created_at, id",
    )
    .bind(order.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let parts: Vec<PartRow> = sqlx::query_as(
        "SELECT sl.shipment_id AS parent, sl.line_id, sl.quantity, CAST(0 AS BIGINT) AS sent,
                CAST(0 AS BIGINT) AS restock
         FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
         WHERE s.order_id = $1",
    )
    .bind(order.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Shipment {
            tracking_url: tracking_url(&r.carrier, &r.tracking_number),
            lines: parts
                .iter()
                .filter(|p| p.parent == r.id)
                .map(|p| (p.line_id.clone(), p.quantity))
                .collect(),
            id: r.id,
            carrier: r.carrier,
            tracking_number: r.tracking_number,
            actor: r.actor,
            at: Timestamp(r.created_at),
            delivered_at: r.delivered_at.map(Timestamp),
        })
        .collect())
}

/// An order's refunds, oldest first.
pub(crate) async fn refunds(
    conn: &mut Conn,
    order: &OrderId,
    currency: Currency,
) -> Result<Vec<Refund>, sqlx::Error> {
    let rows: Vec<RefundRow> = sqlx::query_as(
        "SELECT id, amount_minor, status, provider_refund_id, source, cancels, extra_minor,
                reason, failure, actor, created_at
         FROM refunds WHERE order_id = $1 ORDER BY created_at, id",
    )
    .bind(order.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let parts: Vec<PartRow> = sqlx::query_as(
        "SELECT rl.refund_id AS parent, rl.line_id, rl.quantity, rl.sent, rl.restock,
                rl.amount_minor
         FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
         WHERE r.order_id = $1",
    )
    .bind(order.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Refund {
            amount: Money::new(r.amount_minor, currency),
            status: RefundStatus::parse(&r.status).unwrap_or(RefundStatus::Pending),
            lines: parts
                .iter()
                .filter(|p| p.parent == r.id)
                .map(|p| RefundedUnits {
                    line_id: p.line_id.clone(),
                    quantity: p.quantity,
                    sent: p.sent,
                    restocked: p.restock,
                    amount: Money::new(p.amount_minor, currency),
                })
                .collect(),
            id: r.id,
            provider_refund_id: r.provider_refund_id,
            source: r.source,
            cancels: r.cancels != 0,
            extra: Money::new(r.extra_minor, currency),
            reason: r.reason,
            failure: r.failure,
            actor: r.actor,
            at: Timestamp(r.created_at),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    kind: String,
    status: String,
    note: String,
    actor: String,
    created_at: i64,
}

/// The units an order holds, per variant.
pub(crate) async fn units(
    conn: &mut Conn,
    order: &OrderId,
) -> Result<Vec<(VariantId, i64)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Units {
        variant_id: String,
        quantity: i64,
    }
    let rows: Vec<Units> = sqlx::query_as(
        "SELECT variant_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY variant_id",
    )
    .bind(order.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|u| (VariantId::from_db(u.variant_id), u.quantity))
        .collect())
}

fn address(json: &str) -> PostalAddress {
    serde_json::from_str(json).unwrap_or_default()
}

/// The units the cart's own unpaid order holds, per variant (none when it has no such
/// order): they count as available to that cart.
pub async fn held_for_cart(db: &Db, cart: &CartId) -> Result<Vec<(VariantId, i64)>, CheckoutError> {
    let pending = cart::checkout::pending_order(db, cart).await?;
    held_by(db, pending.as_ref()).await
}

/// The units `order` holds while it awaits payment (none for `None`).
pub(crate) async fn held_by(
    db: &Db,
    order: Option<&OrderId>,
) -> Result<Vec<(VariantId, i64)>, CheckoutError> {
    let Some(order) = order else {
        return Ok(Vec::new());
    };
    let mut conn = db.reader().acquire().await?;
    let holds = match row(&mut conn, order).await? {
        Some(r) if r.status() == OrderStatus::PendingPayment && r.stock == "held" => {
            units(&mut conn, order).await?
        }
        _ => Vec::new(),
    };
    Ok(holds)
}

/// An order with its lines and history.
pub async fn load(db: &Db, id: &OrderId) -> Result<Order, CheckoutError> {
    let mut conn = db.reader().acquire().await?;
    let r = row(&mut conn, id).await?.ok_or(CheckoutError::NotFound)?;
    let currency = r.currency();
    let money = |m: i64| Money::new(m, currency);
    let lines = lines(&mut conn, id, currency).await?;
    let shipments = shipments(&mut conn, id).await?;
    let refunds = refunds(&mut conn, id, currency).await?;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT kind, status, note, actor, created_at FROM order_events
         WHERE order_id = $1 ORDER BY created_at, id",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Order {
        id: r.order_id(),
        number: r.number,
        status: r.status(),
        user_id: r.user_id.clone().map(UserId::from_db),
        email: r.email.clone(),
        cart_id: r.cart_id.clone().map(CartId::from_db),
        currency,
        subtotal: money(r.subtotal_minor),
        shipping: money(r.shipping_minor),
        vat: money(r.vat_minor),
        total: money(r.total_minor),
        vat_rate_bp: r.vat_rate_bp,
        shipping_method: r.shipping_method_name.clone(),
        shipping_days: r.shipping_days.clone(),
        shipping_address: address(&r.shipping_address),
        billing_address: address(&r.billing_address),
        payment_provider: r.payment_provider.clone(),
        payment_session_id: r.payment_session_id.clone(),
        payment_url: r.payment_url.clone(),
        review_reason: r.review_reason.clone(),
        hold_until: Timestamp(r.hold_until),
        placed_at: Timestamp(r.placed_at),
        paid_at: r.paid_at.map(Timestamp),
        paid: r.paid_minor.map(money),
        payment_intent_id: r.payment_intent_id.clone(),
        refunded: money(r.refunded_minor),
        fulfilment: r.fulfilment(),
        lines,
        shipments,
        refunds,
        history: events
            .into_iter()
            .map(|e| OrderEvent {
                kind: e.kind,
                status: OrderStatus::parse(&e.status).unwrap_or(OrderStatus::PendingPayment),
                note: e.note,
                actor: e.actor,
                at: Timestamp(e.created_at),
            })
            .collect(),
    })
}

/// An order as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: i64,
    pub status: OrderStatus,
    pub email: String,
    pub total: Money,
    pub units: i64,
    pub placed_at: Timestamp,
    pub review_reason: Option<String>,
    pub fulfilment: Fulfilment,
    pub refunded: Money,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    number: i64,
    status: String,
    email: String,
    currency: String,
    total_minor: i64,
    units: i64,
    placed_at: i64,
    review_reason: Option<String>,
    fulfilment: String,
    refunded_minor: i64,
}

impl SummaryRow {
    fn into_summary(self) -> OrderSummary {
        let currency = self.currency.parse().unwrap_or(Currency::Eur);
        OrderSummary {
            id: OrderId::from_db(self.id),
            number: self.number,
            status: OrderStatus::parse(&self.status).unwrap_or(OrderStatus::PendingPayment),
            email: self.email,
            total: Money::new(self.total_minor, currency),
            units: self.units,
            placed_at: Timestamp(self.placed_at),
            review_reason: self.review_reason,
            fulfilment: Fulfilment::parse(&self.fulfilment).unwrap_or(Fulfilment::Unshipped),
            refunded: Money::new(self.refunded_minor, currency),
        }
    }
}

const SUMMARY: &str = "SELECT o.id, o.number, o.status, o.email, o.currency, o.total_minor,
        CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l WHERE l.order_id = o.id), 0)
             AS BIGINT) AS units,
        o.placed_at, o.review_reason, o.fulfilment, o.refunded_minor
    FROM orders o";

/// A customer's orders, newest first (a page of `per_page`, and whether there are more):
/// those placed signed in, and, once the customer has confirmed `verified_email`, those
/// placed as a guest with that address.
pub async fn for_customer(
    db: &Db,
    user: &UserId,
    verified_email: Option<&str>,
    page: u32,
    per_page: u32,
) -> Result<(Vec<OrderSummary>, bool), CheckoutError> {
    let (per_page, offset) = window(page, per_page, 100);
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE o.user_id = $1 OR (o.user_id IS NULL AND o.email = $2)
         ORDER BY o.placed_at DESC, o.id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(user.as_str())
    .bind(verified_email)
    .bind(per_page + 1)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    Ok(paged(rows, per_page))
}

/// The page size (at most `max`) and the offset of page `page` (1-based).
fn window(page: u32, per_page: u32, max: u32) -> (i64, i64) {
    let per_page = i64::from(per_page.clamp(1, max));
    (per_page, i64::from(page.max(1) - 1) * per_page)
}

/// A page of summaries from rows fetched with one extra, and whether there are more.
fn paged(rows: Vec<SummaryRow>, per_page: i64) -> (Vec<OrderSummary>, bool) {
    let per_page = usize::try_from(per_page).unwrap_or(usize::MAX);
    let more = rows.len() > per_page;
    (
        rows.into_iter()
            .take(per_page)
            .map(SummaryRow::into_summary)
            .collect(),
        more,
    )
}

/// Where an order's money stands, as the staff's list filters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentState {
    Unpaid,
    /// Paid, nothing refunded.
    Paid,
    PartiallyRefunded,
    Refunded,
    /// Flagged for a person to look at.
    Flagged,
}

impl PaymentState {
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Unpaid,
        PaymentState::Paid,
        PaymentState::PartiallyRefunded,
        PaymentState::Refunded,
        PaymentState::Flagged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Unpaid => "unpaid",
            PaymentState::Paid => "paid",
            PaymentState::PartiallyRefunded => "partially_refunded",
            PaymentState::Refunded => "refunded",
            PaymentState::Flagged => "flagged",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentState::Unpaid => "Not paid",
            PaymentState::Paid => "Paid",
            PaymentState::PartiallyRefunded => "Partially refunded",
            PaymentState::Refunded => "Refunded",
            PaymentState::Flagged => "Needs review",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|p| p.as_str() == s)
    }

    fn condition(self) -> &'static str {
        match self {
            PaymentState::Unpaid => "o.paid_at IS NULL",
            PaymentState::Paid => "o.paid_at IS NOT NULL AND o.refunded_minor = 0",
            PaymentState::PartiallyRefunded => {
                "o.refunded_minor > 0 AND o.refunded_minor < COALESCE(o.paid_minor, 0)"
            }
            PaymentState::Refunded => {
                "o.refunded_minor > 0 AND o.refunded_minor >= COALESCE(o.paid_minor, 0)"
            }
            PaymentState::Flagged => "o.review_reason IS NOT NULL",
        }
    }
}

/// The order of the staff's list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    TotalHighest,
    TotalLowest,
}

impl Sort {
    pub const ALL: [Sort; 4] = [
        Sort::Newest,
        Sort::Oldest,
        Sort::TotalHighest,
        Sort::TotalLowest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::TotalHighest => "total_desc",
            Sort::TotalLowest => "total_asc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Newest => "Newest first",
            Sort::Oldest => "Oldest first",
            Sort::TotalHighest => "Highest total",
            Sort::TotalLowest => "Lowest total",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Newest => "o.placed_at DESC, o.id DESC",
            Sort::Oldest => "o.placed_at ASC, o.id ASC",
            Sort::TotalHighest => "o.total_minor DESC, o.placed_at DESC, o.id DESC",
            Sort::TotalLowest => "o.total_minor ASC, o.placed_at DESC, o.id DESC",
        }
    }
}

/// Which orders the staff's list shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    /// An order number ("HS-10042") or part of an email address.
    pub query: Option<String>,
    pub payment: Option<PaymentState>,
    /// Placed at or after (milliseconds since the epoch).
    pub from: Option<i64>,
    /// Placed before.
    pub to: Option<i64>,
    pub sort: Sort,
    /// Only paid orders holding a line of this vendor's, counting only their units.
    pub vendor: Option<UserId>,
}

/// The staff's list of orders (a page of `per_page`, and whether there are more).
pub async fn list(
    db: &Db,
    filter: &Filter,
    page: u32,
    per_page: u32,
) -> Result<(Vec<OrderSummary>, bool), CheckoutError> {
    let (per_page, offset) = window(page, per_page, 200);
    let rows = select(db, filter, per_page + 1, offset).await?;
    Ok(paged(rows, per_page))
}

/// Every order the filter matches, at most `limit`, for an export.
pub async fn export(
    db: &Db,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<OrderSummary>, CheckoutError> {
    Ok(select(db, filter, limit, 0)
        .await?
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect())
}

/// The most orders one CSV export holds.
pub const EXPORT_LIMIT: i64 = 100_000;

/// The orders the filter matches as CSV with a header, for spreadsheets (text a
/// spreadsheet would run as a formula is defused).
pub async fn csv(db: &Db, filter: &Filter) -> Result<Vec<u8>, CheckoutError> {
    use shop_core::spreadsheet::cell;
    let io = |e: ::csv::Error| CheckoutError::Db(sqlx::Error::Io(std::io::Error::other(e)));
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "number",
        "placed_at",
        "status",
        "fulfilment",
        "email",
        "units",
        "currency",
        "total",
        "refunded",
        "needs_review",
    ])
    .map_err(io)?;
    for o in export(db, filter, EXPORT_LIMIT).await? {
        w.write_record([
            number_label(o.number),
            o.placed_at.to_rfc3339(),
            o.status.as_str().to_owned(),
            o.fulfilment.as_str().to_owned(),
            cell(&o.email),
            o.units.to_string(),
            o.total.currency().code().to_owned(),
            o.total.to_decimal_string(),
            o.refunded.to_decimal_string(),
            cell(o.review_reason.as_deref().unwrap_or_default()),
        ])
        .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| CheckoutError::Db(sqlx::Error::Io(std::io::Error::other(e.to_string()))))
}

async fn select(
    db: &Db,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<SummaryRow>, CheckoutError> {
    let query = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let number = query.and_then(parse_number);
    let email = query
        .filter(|_| number.is_none())
        .map(|q| format!("%{}%", shop_core::audit::escape_like(&q.to_lowercase())));
    let payment = filter
        .payment
        .map_or(String::new(), |p| format!(" AND {}", p.condition()));
    let vendor = filter.vendor.as_ref().map(UserId::as_str);
    // A vendor counts only their own units, and sees only orders that were paid.
    let units = if vendor.is_some() {
        "CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l
               WHERE l.order_id = o.id AND l.vendor_id = $6), 0) AS BIGINT) AS units"
    } else {
        "CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l WHERE l.order_id = o.id), 0)
             AS BIGINT) AS units"
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT o.id, o.number, o.status, o.email, o.currency, o.total_minor, {units},
                o.placed_at, o.review_reason, o.fulfilment, o.refunded_minor
         FROM orders o
         WHERE ($1 IS NULL OR o.status = $1)
           AND ($2 IS NULL OR o.number = $2)
           AND ($3 IS NULL OR o.email LIKE $3 ESCAPE '\\')
           AND ($4 IS NULL OR o.placed_at >= $4)
           AND ($5 IS NULL OR o.placed_at < $5)
           AND ($6 IS NULL OR (o.status IN ('paid', 'fulfilled', 'delivered',
                                             'partially_refunded', 'refunded') AND EXISTS (
                 SELECT 1 FROM order_lines vl WHERE vl.order_id = o.id AND vl.vendor_id = $6)))
           {payment}
         ORDER BY {} LIMIT $7 OFFSET $8",
        filter.sort.order_by()
    ))
    .bind(filter.status.map(OrderStatus::as_str))
    .bind(number)
    .bind(email)
    .bind(filter.from)
    .bind(filter.to)
    .bind(vendor)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    Ok(rows)
}

/// Appends to an order's history, in the caller's transaction.
/// Flags `order` for staff with `reason` and announces it (`order.flagged`), in the
/// caller's transaction.
pub(crate) async fn flag(
    conn: &mut Conn,
    clock: &Clock,
    order: &OrderId,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET review_reason = $1, updated_at = $2 WHERE id = $3")
        .bind(reason)
        .bind(clock.now().millis())
        .bind(order.as_str())
        .execute(&mut *conn)
        .await?;
    shop_core::outbox::enqueue(
        conn,
        clock,
        crate::ORDER_FLAGGED,
        &serde_json::json!({ "order_id": order, "reason": reason }),
    )
    .await?;
    Ok(())
}

pub(crate) async fn record(
    conn: &mut Conn,
    order: &OrderId,
    kind: &str,
    status: OrderStatus,
    note: &str,
    actor: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    record_all(conn, order, status, &[(kind, note, actor)], at).await
}

/// Appends several entries (kind, note, actor) at once, all with `status`, in one statement.
pub(crate) async fn record_all(
    conn: &mut Conn,
    order: &OrderId,
    status: OrderStatus,
    entries: &[(&str, &str, &str)],
    at: i64,
) -> Result<(), sqlx::Error> {
    let mut batch = Batch::new(conn);
    record_all_into(&mut batch, order, status, entries, at);
    batch.execute(conn).await?;
    Ok(())
}

/// [`record_all`] as one statement of a [`Batch`] (it changes a row per entry; none and
/// no statement for no entries).
pub(crate) fn record_all_into(
    batch: &mut Batch,
    order: &OrderId,
    status: OrderStatus,
    entries: &[(&str, &str, &str)],
    at: i64,
) {
    if entries.is_empty() {
        return;
    }
    let rows: Vec<String> = (0..entries.len())
        .map(|i| {
            let p = i * 4;
            format!(
                "(${}, $1, ${}, $2, ${}, ${}, $3)",
                p + 4,
                p + 5,
                p + 6,
                p + 7
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO order_events (id, order_id, kind, status, note, actor, created_at) VALUES {}",
        rows.join(", ")
    );
    batch
        .add(&sql)
        .bind(order.as_str().to_owned())
        .bind(status.as_str())
        .bind(at);
    for (kind, note, actor) in entries {
        batch
            .bind(shop_core::id::new_uuid_v7())
            .bind((*kind).to_owned())
            .bind((*note).to_owned())
            .bind((*actor).to_owned());
    }
}

/// Moves an order from `from` to `to` if it is still `from` (one conditional update, so of
/// two concurrent moves exactly one happens). Refuses a move the state machine does not
/// allow. `false` when the order was no longer `from`.
pub(crate) async fn transition(
    conn: &mut Conn,
    order: &OrderId,
    from: OrderStatus,
    to: OrderStatus,
    at: i64,
) -> Result<bool, CheckoutError> {
    if !from.may_become(to) {
        return Err(CheckoutError::IllegalTransition { from, to });
    }
    let moved =
        sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(at)
            .bind(order.as_str())
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok(moved == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_allows_only_the_documented_moves() {
        use OrderStatus::*;
        assert!(PendingPayment.may_become(Paid));
        assert!(PendingPayment.may_become(Expired));
        assert!(PendingPayment.may_become(Cancelled));
        assert!(Expired.may_become(Paid));
        assert!(!Paid.may_become(PendingPayment));
        assert!(!Paid.may_become(Expired));
        assert!(!Expired.may_become(Cancelled));
        assert!(!Refunded.may_become(Paid));
        assert!(!PendingPayment.may_become(Fulfilled));
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert!(!s.may_become(PendingPayment), "{s:?} back to pending");
        }
    }

    #[test]
    fn order_numbers_read_back() {
        assert_eq!(number_label(10042), "HS-10042");
        assert_eq!(parse_number("HS-10042"), Some(10042));
        assert_eq!(parse_number(" 10042 "), Some(10042));
        assert_eq!(parse_number("HS-x"), None);
        assert_eq!(parse_number("-5"), None);
    }
}
