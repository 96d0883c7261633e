//! Orders as they are stored and read: the state machine every change goes through, the
//! append-only history, and the lists the shopper and the staff see.

use serde::{Deserialize, Serialize};
use shop_core::db::Conn;
use shop_core::{CartId, Currency, Db, Money, OrderId, Timestamp, UserId, VariantId};

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
                | (PartiallyRefunded, PartiallyRefunded | Refunded)
        )
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
    pub variant_id: VariantId,
    pub product_name: String,
    pub slug: String,
    pub sku: String,
    pub options: Vec<(String, String)>,
    pub image: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub vat: Money,
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
    pub lines: Vec<OrderLine>,
    pub history: Vec<OrderEvent>,
}

impl Order {
    pub fn number_label(&self) -> String {
        number_label(self.number)
    }
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
}

pub(crate) const ORDER_COLUMNS: &str = "id, number, status, stock, user_id, email, cart_id,
    currency, subtotal_minor, shipping_minor, vat_minor, total_minor, vat_rate_bp,
    shipping_method_name, shipping_days, shipping_address, billing_address, fingerprint,
    hold_until, payment_provider, payment_session_id, payment_url, review_reason, placed_at,
    paid_at";

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
    variant_id: String,
    product_name: String,
    slug: String,
    sku: String,
    options: String,
    image: Option<String>,
    quantity: i64,
    unit_price_minor: i64,
    line_total_minor: i64,
    vat_minor: i64,
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
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT variant_id, product_name, slug, sku, options, image, quantity, unit_price_minor,
                line_total_minor, vat_minor
         FROM order_lines WHERE order_id = $1 ORDER BY position",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
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
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                variant_id: VariantId::from_db(l.variant_id),
                product_name: l.product_name,
                slug: l.slug,
                sku: l.sku,
                options: serde_json::from_str(&l.options).unwrap_or_default(),
                image: l.image,
                quantity: l.quantity,
                unit_price: money(l.unit_price_minor),
                line_total: money(l.line_total_minor),
                vat: money(l.vat_minor),
            })
            .collect(),
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
        }
    }
}

const SUMMARY: &str = "SELECT o.id, o.number, o.status, o.email, o.currency, o.total_minor,
        CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l WHERE l.order_id = o.id), 0)
             AS BIGINT) AS units,
        o.placed_at, o.review_reason
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

/// Which orders the staff's list shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    /// An order number ("HS-10042") or part of an email address.
    pub query: Option<String>,
}

/// The staff's list of orders, newest first.
pub async fn list(
    db: &Db,
    filter: &Filter,
    page: u32,
    per_page: u32,
) -> Result<(Vec<OrderSummary>, bool), CheckoutError> {
    let (per_page, offset) = window(page, per_page, 200);
    let query = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let number = query.and_then(parse_number);
    let email = query
        .filter(|_| number.is_none())
        .map(|q| format!("%{}%", shop_core::audit::escape_like(&q.to_lowercase())));
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY}
         WHERE ($1 IS NULL OR o.status = $1)
           AND ($2 IS NULL OR o.number = $2)
           AND ($3 IS NULL OR o.email LIKE $3 ESCAPE '\\')
         ORDER BY o.placed_at DESC, o.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(filter.status.map(OrderStatus::as_str))
    .bind(number)
    .bind(email)
    .bind(per_page + 1)
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    Ok(paged(rows, per_page))
}

/// Appends to an order's history, in the caller's transaction.
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
    if entries.is_empty() {
        return Ok(());
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
    let mut query = sqlx::query(&sql)
        .bind(order.as_str())
        .bind(status.as_str())
        .bind(at);
    for (kind, note, actor) in entries {
        query = query
            .bind(shop_core::id::new_uuid_v7())
            .bind(*kind)
            .bind(*note)
            .bind(*actor);
    }
    query.execute(&mut *conn).await?;
    Ok(())
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
