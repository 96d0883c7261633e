//! After payment: who may act on an order, shipping (all of it or some units of some lines),
//! delivery, and staff's internal notes. Refunds and cancellations are in [`crate::refund`].
//!
//! Every change locks the order's row, goes through the one state machine
//! ([`OrderStatus::may_become`]), appends to the order's history, writes the audit log and
//! enqueues its outbox event, all in one transaction.

use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::{OrderId, Timestamp, UserId, outbox};

use crate::orders::{self, Fulfilment, OrderLine, OrderRow, OrderStatus, locked_row};
use crate::{Checkout, CheckoutError, ORDER_DELIVERED, ORDER_SHIPPED};

/// Who acts on an order after it is paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operator {
    /// A staff member (admin): every line, every action.
    Staff(Actor),
    /// A vendor: sees and ships only the lines of their own products.
    Vendor(Actor),
    /// The customer the order belongs to (cancelling it): by account (`user_id`), or, with
    /// no user id, whoever holds the order's signed link (the caller checks the link).
    Customer(Actor),
}

impl Operator {
    pub fn actor(&self) -> &Actor {
        match self {
            Operator::Staff(a) | Operator::Vendor(a) | Operator::Customer(a) => a,
        }
    }

    /// What the order's history shows as "who".
    pub fn label(&self) -> String {
        match self {
            Operator::Staff(a) => format!("staff: {}", a.label),
            Operator::Vendor(a) => format!("vendor: {}", a.label),
            Operator::Customer(_) => "customer".to_owned(),
        }
    }

    /// The vendor whose lines alone this operator may touch.
    pub fn vendor(&self) -> Option<&UserId> {
        match self {
            Operator::Vendor(a) => a.user_id.as_ref(),
            _ => None,
        }
    }

    fn is_staff(&self) -> bool {
        matches!(self, Operator::Staff(_))
    }

    /// A vendor with no user id may touch nothing.
    fn owns(&self, line: &OrderLine) -> bool {
        match self {
            Operator::Vendor(a) => a.user_id.is_some() && line.vendor_id == a.user_id,
            _ => true,
        }
    }
}

/// What a shipment sends.
#[derive(Clone, Debug, Default)]
pub struct ShipItems {
    /// (line id, units). Empty: every unit still to send (a vendor: of their own lines).
    pub lines: Vec<(String, i64)>,
    pub carrier: String,
    /// May be empty (a letter without tracking).
    pub tracking_number: String,
}

/// A staff member's internal note on an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub author: String,
    pub body: String,
    pub at: Timestamp,
}

pub const MAX_CARRIER: usize = 100;
pub const MAX_TRACKING: usize = 100;
pub const MAX_NOTE: usize = 2000;

/// `s` trimmed, refused when longer than `max` characters or holding control characters.
pub(crate) fn text(
    s: &str,
    max: usize,
    field: &'static str,
    what: &str,
) -> Result<String, CheckoutError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(CheckoutError::invalid(
            field,
            format!("{what} is too long (at most {max} characters)."),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(CheckoutError::invalid(
            field,
            format!("{what} holds characters that are not allowed."),
        ));
    }
    Ok(s.to_owned())
}

/// Writes the audit log entry of a change to an order.
pub(crate) async fn audit_order(
    conn: &mut Conn,
    checkout: &Checkout,
    who: &Operator,
    action: &str,
    order: &OrderId,
    after: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        checkout.clock(),
        who.actor(),
        Change {
            action,
            target_type: "order",
            target_id: order.as_str(),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    Ok(())
}

/// Where an order's goods stand, from its lines.
pub(crate) fn fulfilment_of(lines: &[OrderLine], was: Fulfilment) -> Fulfilment {
    if was == Fulfilment::Delivered {
        return was;
    }
    let shipped: i64 = lines.iter().map(|l| l.shipped).sum();
    let to_ship: i64 = lines.iter().map(OrderLine::to_ship).sum();
    match (shipped, to_ship) {
        (0, _) => Fulfilment::Unshipped,
        (_, 0) => Fulfilment::Shipped,
        _ => Fulfilment::Partial,
    }
}

/// Recomputes where an order's goods stand after units stopped (or started again) being
/// owed: a refund under way, or one that failed. Never moves the status.
pub(crate) async fn refresh_fulfilment(conn: &mut Conn, row: &OrderRow) -> Result<(), sqlx::Error> {
    let lines = orders::lines(conn, &row.order_id(), row.currency()).await?;
    let now = fulfilment_of(&lines, row.fulfilment());
    if now != row.fulfilment() {
        sqlx::query("UPDATE orders SET fulfilment = $1 WHERE id = $2")
            .bind(now.as_str())
            .bind(&row.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Saves a changed fulfilment and, when every unit has gone out, moves a paid order to
/// fulfilled. Returns the order's status afterwards.
pub(crate) async fn settle_fulfilment(
    conn: &mut Conn,
    row: &OrderRow,
    fulfilment: Fulfilment,
    at: i64,
) -> Result<OrderStatus, CheckoutError> {
    let order = row.order_id();
    if fulfilment != row.fulfilment() {
        sqlx::query("UPDATE orders SET fulfilment = $1, updated_at = $2 WHERE id = $3")
            .bind(fulfilment.as_str())
            .bind(at)
            .bind(order.as_str())
            .execute(&mut *conn)
            .await?;
    }
    let status = row.status();
    if status == OrderStatus::Paid
        && fulfilment == Fulfilment::Shipped
        && orders::transition(conn, &order, status, OrderStatus::Fulfilled, at).await?
    {
        return Ok(OrderStatus::Fulfilled);
    }
    Ok(status)
}

impl Checkout {
    /// An order as `who` may see it: a vendor only one that holds a line of theirs, and then
    /// only those lines (no totals, no payment, no refunds); anyone else as it is.
    pub async fn order_for(
        &self,
        who: &Operator,
        order: &OrderId,
    ) -> Result<orders::Order, CheckoutError> {
        let mut found = orders::load(&self.db, order).await?;
        match who {
            Operator::Staff(_) => Ok(found),
            Operator::Customer(a) => {
                if a.user_id.is_some() && found.user_id == a.user_id {
                    Ok(found)
                } else {
                    Err(CheckoutError::NotFound)
                }
            }
            Operator::Vendor(_) => {
                found.lines.retain(|l| who.owns(l));
                if found.lines.is_empty() || !found.status.is_paid() {
                    return Err(CheckoutError::NotFound);
                }
                let own: std::collections::HashSet<String> =
                    found.lines.iter().map(|l| l.id.clone()).collect();
                let zero = shop_core::Money::zero(found.currency);
                found.subtotal = zero;
                found.shipping = zero;
                found.vat = zero;
                found.total = zero;
                found.paid = None;
                found.refunded = zero;
                found.payment_session_id = None;
                found.payment_url = None;
                found.payment_intent_id = None;
                found.billing_address = orders::PostalAddress::default();
                found.review_reason = None;
                found.refunds.clear();
                found.history.clear();
                for s in &mut found.shipments {
                    s.lines.retain(|(line, _)| own.contains(line));
                }
                found.shipments.retain(|s| !s.lines.is_empty());
                Ok(found)
            }
        }
    }

    /// Sends some or all of an order's units still to send, by `carrier` with
    /// `tracking_number`. A paid order all of whose units have gone becomes fulfilled; one
    /// with units still to send stays paid (partially shipped). Returns the shipment's id.
    pub async fn ship(
        &self,
        who: &Operator,
        order: &OrderId,
        items: &ShipItems,
    ) -> Result<String, CheckoutError> {
        if matches!(who, Operator::Customer(_)) {
            return Err(CheckoutError::NotFound);
        }
        let carrier = text(&items.carrier, MAX_CARRIER, "carrier", "The carrier")?;
        if carrier.is_empty() {
            return Err(CheckoutError::invalid(
                "carrier",
                "Name the carrier (for example DHL or UPS).",
            ));
        }
        let tracking = text(
            &items.tracking_number,
            MAX_TRACKING,
            "tracking_number",
            "The tracking number",
        )?;
        let mut tx = self.db.begin().await?;
        let row = locked_row(&mut tx, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        let lines = orders::lines(&mut tx, order, row.currency()).await?;
        if who.vendor().is_some() && !lines.iter().any(|l| who.owns(l)) {
            return Err(CheckoutError::NotFound);
        }
        let status = row.status();
        if !matches!(status, OrderStatus::Paid | OrderStatus::PartiallyRefunded) {
            return Err(CheckoutError::IllegalTransition {
                from: status,
                to: OrderStatus::Fulfilled,
            });
        }
        let mut sending: Vec<(&OrderLine, i64)> = Vec::new();
        if items.lines.is_empty() {
            sending.extend(
                lines
                    .iter()
                    .filter(|l| who.owns(l) && l.to_ship() > 0)
                    .map(|l| (l, l.to_ship())),
            );
        } else {
            for (id, quantity) in &items.lines {
                let line = lines
                    .iter()
                    .find(|l| &l.id == id && who.owns(l))
                    .ok_or_else(|| {
                        CheckoutError::invalid("lines", "That line is not part of this order.")
                    })?;
                if sending.iter().any(|(l, _)| l.id == line.id) {
                    return Err(CheckoutError::invalid(
                        "lines",
                        "Each line may appear once in a shipment.",
                    ));
                }
                if *quantity < 1 || *quantity > line.to_ship() {
                    return Err(CheckoutError::invalid(
                        "lines",
                        format!(
                            "{}: between 1 and {} units are still to ship.",
                            line.product_name,
                            line.to_ship()
                        ),
                    ));
                }
                sending.push((line, *quantity));
            }
        }
        if sending.is_empty() {
            return Err(CheckoutError::invalid("lines", "Nothing is left to ship."));
        }
        let at = self.clock.now().millis();
        let shipment = shop_core::id::new_uuid_v7();
        sqlx::query(
            "INSERT INTO shipments (id, order_id, carrier, tracking_number, actor, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&shipment)
        .bind(order.as_str())
        .bind(&carrier)
        .bind(&tracking)
        .bind(who.label())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for (line, quantity) in &sending {
            sqlx::query(
                "INSERT INTO shipment_lines (shipment_id, line_id, quantity) VALUES ($1, $2, $3)",
            )
            .bind(&shipment)
            .bind(&line.id)
            .bind(quantity)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE order_lines SET shipped = shipped + $1 WHERE id = $2")
                .bind(quantity)
                .bind(&line.id)
                .execute(&mut *tx)
                .await?;
        }
        let after = orders::lines(&mut tx, order, row.currency()).await?;
        let fulfilment = fulfilment_of(&after, row.fulfilment());
        let status = settle_fulfilment(&mut tx, &row, fulfilment, at).await?;
        let units: i64 = sending.iter().map(|(_, q)| q).sum();
        let mut note = format!(
            "{units} unit{} by {carrier}",
            if units == 1 { "" } else { "s" }
        );
        if !tracking.is_empty() {
            note.push_str(&format!(", tracking {tracking}"));
        }
        let still: i64 = after.iter().map(OrderLine::to_ship).sum();
        if still > 0 {
            note.push_str(&format!("; {still} still to ship"));
        }
        orders::record(&mut tx, order, "shipped", status, &note, &who.label(), at).await?;
        audit_order(
            &mut tx,
            self,
            who,
            "order.shipped",
            order,
            json!({ "shipment": shipment, "carrier": carrier, "tracking_number": tracking,
                    "units": units, "fulfilment": fulfilment.as_str() }),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            &self.clock,
            ORDER_SHIPPED,
            &json!({ "order_id": order, "number": row.number, "shipment_id": shipment }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(order.id = %order, %shipment, units, "order shipped");
        Ok(shipment)
    }

    /// Records that everything sent has arrived: a fulfilled order becomes delivered (a
    /// partially refunded one keeps its status and shows delivered). Staff only.
    pub async fn deliver(&self, who: &Operator, order: &OrderId) -> Result<(), CheckoutError> {
        if !who.is_staff() {
            return Err(CheckoutError::NotFound);
        }
        let mut tx = self.db.begin().await?;
        let row = locked_row(&mut tx, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        let status = row.status();
        if row.fulfilment() != Fulfilment::Shipped {
            return Err(match row.fulfilment() {
                Fulfilment::Delivered => {
                    CheckoutError::invalid("order", "This order is already marked delivered.")
                }
                _ => CheckoutError::invalid(
                    "order",
                    "Only an order whose every unit has shipped can be marked delivered.",
                ),
            });
        }
        let at = self.clock.now().millis();
        let next = match status {
            OrderStatus::Fulfilled => OrderStatus::Delivered,
            OrderStatus::PartiallyRefunded => OrderStatus::PartiallyRefunded,
            other => {
                return Err(CheckoutError::IllegalTransition {
                    from: other,
                    to: OrderStatus::Delivered,
                });
            }
        };
        if next != status && !orders::transition(&mut tx, order, status, next, at).await? {
            return Err(CheckoutError::Changed);
        }
        sqlx::query("UPDATE orders SET fulfilment = 'delivered', updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(order.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE shipments SET delivered_at = $1 WHERE order_id = $2 AND delivered_at IS NULL",
        )
        .bind(at)
        .bind(order.as_str())
        .execute(&mut *tx)
        .await?;
        orders::record(&mut tx, order, "delivered", next, "", &who.label(), at).await?;
        audit_order(
            &mut tx,
            self,
            who,
            "order.delivered",
            order,
            json!({ "status": next.as_str() }),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            &self.clock,
            ORDER_DELIVERED,
            &json!({ "order_id": order, "number": row.number }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a staff member's internal note to an order.
    pub async fn add_note(
        &self,
        who: &Operator,
        order: &OrderId,
        body: &str,
    ) -> Result<(), CheckoutError> {
        if !who.is_staff() {
            return Err(CheckoutError::NotFound);
        }
        let body = text(body, MAX_NOTE, "note", "The note")?;
        if body.is_empty() {
            return Err(CheckoutError::invalid("note", "Write the note first."));
        }
        let mut tx = self.db.begin().await?;
        if orders::row(&mut tx, order).await?.is_none() {
            return Err(CheckoutError::NotFound);
        }
        let at = self.clock.now().millis();
        sqlx::query(
            "INSERT INTO order_notes (id, order_id, author, body, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(shop_core::id::new_uuid_v7())
        .bind(order.as_str())
        .bind(&who.actor().label)
        .bind(&body)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        audit_order(
            &mut tx,
            self,
            who,
            "order.noted",
            order,
            json!({ "note": body }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An order's internal notes, oldest first. Staff only.
    pub async fn notes(&self, who: &Operator, order: &OrderId) -> Result<Vec<Note>, CheckoutError> {
        if !who.is_staff() {
            return Err(CheckoutError::NotFound);
        }
        #[derive(sqlx::FromRow)]
        struct Row {
            author: String,
            body: String,
            created_at: i64,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT author, body, created_at FROM order_notes WHERE order_id = $1
             ORDER BY created_at, id",
        )
        .bind(order.as_str())
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Note {
                author: r.author,
                body: r.body,
                at: Timestamp(r.created_at),
            })
            .collect())
    }
}
