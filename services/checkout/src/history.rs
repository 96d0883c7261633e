//! Orders of the past, made up for a demo shop or the dashboards' benchmark (`shop
//! demo-history`): written as paid (delivered once old enough, or refunded in full), with
//! their lines, history and refunds, the way the checkout leaves a real order. Nothing here
//! takes stock or sends mail.

use shop_core::{Batch, Currency, Db};

use crate::orders::PostalAddress;
use crate::pricing::vat_included;

/// Orders per write.
const PER_WRITE: usize = 200;

/// A line of a past order, at its price then.
#[derive(Clone, Debug)]
pub struct PastLine {
    pub variant_id: String,
    pub product_id: String,
    pub name: String,
    pub slug: String,
    /// The variant's options as JSON (`{"size":"M"}`).
    pub options: String,
    pub sku: String,
    pub vendor_id: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
}

/// A past order: who, when placed and paid, what, and whether it was refunded (when).
#[derive(Clone, Debug)]
pub struct PastOrder {
    pub email: String,
    pub cart_id: String,
    pub shipping_minor: i64,
    pub placed_at: i64,
    pub paid_at: i64,
    /// Delivered (else paid and not shipped yet).
    pub delivered: bool,
    pub refunded_at: Option<i64>,
    pub lines: Vec<PastLine>,
    pub address: PostalAddress,
}

impl PastOrder {
    pub fn subtotal_minor(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.quantity * l.unit_price_minor)
            .sum()
    }

    pub fn total_minor(&self) -> i64 {
        self.subtotal_minor() + self.shipping_minor
    }
}

/// An order as written: its id and number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub id: String,
    pub number: i64,
    /// Its lines' ids, in order.
    pub line_ids: Vec<String>,
}

/// Writes `orders` in `currency` with VAT at `vat_rate_bp` included, numbered after the
/// last order number (which moves on, so the next real order follows them).
pub async fn import(
    db: &Db,
    currency: Currency,
    vat_rate_bp: i64,
    orders: &[PastOrder],
) -> Result<Vec<Written>, sqlx::Error> {
    let mut written = Vec::with_capacity(orders.len());
    for chunk in orders.chunks(PER_WRITE) {
        let last: i64 = sqlx::query_scalar("SELECT last FROM order_numbers WHERE id = 1")
            .fetch_one(db.reader())
            .await?;
        let mut batch = Batch::for_db(db);
        let mut number = last;
        for o in chunk {
            number += 1;
            let id = shop_core::id::new_uuid_v7();
            let line_ids: Vec<String> = o
                .lines
                .iter()
                .map(|_| shop_core::id::new_uuid_v7())
                .collect();
            add_order(&mut batch, &id, number, o, currency, vat_rate_bp, &line_ids);
            written.push(Written {
                id,
                number,
                line_ids,
            });
        }
        batch
            .add("UPDATE order_numbers SET last = $1 WHERE id = 1")
            .bind(number);
        db.write_batch(batch).await?;
    }
    Ok(written)
}

fn add_order(
    batch: &mut Batch,
    id: &str,
    number: i64,
    o: &PastOrder,
    currency: Currency,
    vat_rate_bp: i64,
    line_ids: &[String],
) {
    let total = o.total_minor();
    let refunded = o.refunded_at.map_or(0, |_| total);
    let (status, fulfilment) = match (o.refunded_at, o.delivered) {
        (Some(_), _) => ("refunded", "unshipped"),
        (None, true) => ("delivered", "delivered"),
        (None, false) => ("paid", "unshipped"),
    };
    let address = serde_json::to_string(&o.address).unwrap_or_else(|_| "{}".to_owned());
    let updated = o.refunded_at.unwrap_or(o.paid_at);
    batch
        .add(
            "INSERT INTO orders (id, number, status, stock, user_id, email, cart_id, currency,
                    subtotal_minor, shipping_minor, vat_minor, total_minor, vat_rate_bp,
                    shipping_method_id, shipping_method_name, shipping_days, shipping_address,
                    billing_address, fingerprint, hold_until, payment_provider, paid_minor,
                    placed_at, paid_at, updated_at, fulfilment, refunded_minor)
             VALUES ($1, $2, $3, 'sold', NULL, $4, $5, $6, $7, $8, $9, $10, $11, NULL,
                    'Standard', '2-4', $12, $12, $13, $14, 'offline', $10, $15, $16, $17, $18,
                    $19)",
        )
        .bind(id.to_owned())
        .bind(number)
        .bind(status)
        .bind(o.email.clone())
        .bind(o.cart_id.clone())
        .bind(currency.code().to_owned())
        .bind(o.subtotal_minor())
        .bind(o.shipping_minor)
        .bind(vat_included(total, vat_rate_bp))
        .bind(total)
        .bind(vat_rate_bp)
        .bind(address)
        .bind(format!("demo-{number}"))
        .bind(o.placed_at + 900_000)
        .bind(o.placed_at)
        .bind(o.paid_at)
        .bind(updated)
        .bind(fulfilment)
        .bind(refunded);
    for (position, (l, line_id)) in o.lines.iter().zip(line_ids).enumerate() {
        let line_total = l.quantity * l.unit_price_minor;
        let shipped = if o.delivered { l.quantity } else { 0 };
        batch
            .add(
                "INSERT INTO order_lines (id, order_id, position, variant_id, product_id,
                        product_name, slug, options, sku, image, quantity, unit_price_minor,
                        line_total_minor, vat_minor, vendor_id, shipped)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13, $14,
                        $15)",
            )
            .bind(line_id.clone())
            .bind(id.to_owned())
            .bind(i64::try_from(position).unwrap_or(0))
            .bind(l.variant_id.clone())
            .bind(l.product_id.clone())
            .bind(l.name.clone())
            .bind(l.slug.clone())
            .bind(l.options.clone())
            .bind(l.sku.clone())
            .bind(l.quantity)
            .bind(l.unit_price_minor)
            .bind(line_total)
            .bind(vat_included(line_total, vat_rate_bp))
            .bind(l.vendor_id.clone())
            .bind(shipped);
    }
    let mut history = vec![
        ("placed", "pending_payment", o.placed_at),
        ("paid", "paid", o.paid_at),
    ];
    if o.delivered && o.refunded_at.is_none() {
        history.push(("delivered", "delivered", o.paid_at + 3 * 86_400_000));
    }
    if let Some(at) = o.refunded_at {
        history.push(("refunded", "refunded", at));
        batch
            .add(
                "INSERT INTO refunds (id, order_id, amount_minor, currency, status, source,
                        cancels, extra_minor, reason, actor, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'succeeded', 'shop', 0, $3, 'Returned', 'demo', $5,
                        $5)",
            )
            .bind(shop_core::id::new_uuid_v7())
            .bind(id.to_owned())
            .bind(total)
            .bind(currency.code().to_owned())
            .bind(at);
    }
    for (kind, status, at) in history {
        batch
            .add(
                "INSERT INTO order_events (id, order_id, kind, status, note, actor, created_at)
                 VALUES ($1, $2, $3, $4, '', 'demo', $5)",
            )
            .bind(shop_core::id::new_uuid_v7())
            .bind(id.to_owned())
            .bind(kind)
            .bind(status)
            .bind(at);
    }
}
