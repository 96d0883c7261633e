//! Abandoned carts: carts left with items for over an hour, snapshotted by the roll-up job
//! (their value at the catalog's price then, the customer or a guest, the last change), and
//! marked converted when an order from the cart is paid after it was left.
//!
//! A snapshot is kept for the whole cart (`vendor_id` '') and for each vendor's part, so a
//! vendor sees their products' share only. It outlives the cart (a guest's goes with their
//! session), and goes with the raw events after the retention period.

use std::collections::BTreeMap;

use shop_core::{Batch, Db};
use sqlx::FromRow;

use crate::report::{Audience, Period};
use crate::zone::Zone;

/// A cart counts as abandoned once untouched this long (milliseconds).
pub const IDLE_MS: i64 = 3_600_000;
/// How far back the first search looks (milliseconds).
const LOOKBACK_MS: i64 = 30 * 86_400_000;
/// Most cart lines read per run; the next run goes on from there.
const LINES_PER_RUN: i64 = 10_000;
/// Snapshot rows per write.
const ROWS_PER_WRITE: usize = 500;
/// Variants looked up in the catalog at once.
const VARIANTS_PER_READ: usize = 500;

/// One abandoned cart (or a vendor's part of it).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AbandonedCart {
    pub cart_id: String,
    /// When the cart last changed (milliseconds).
    pub last_activity: i64,
    /// The customer (`None`: a guest).
    pub user_id: Option<String>,
    pub units: i64,
    pub value_minor: i64,
    pub currency: String,
    /// The order paid from the cart after it was left.
    pub order_id: Option<String>,
    pub order_number: Option<i64>,
    pub converted_at: Option<i64>,
    /// When staff asked for a reminder about the cart (any of its abandonments).
    pub reminded_at: Option<i64>,
}

/// Abandoned carts over a period, and how many came back.
#[derive(Clone, Debug, Default, PartialEq, Eq, FromRow)]
pub struct Summary {
    pub abandoned: i64,
    pub value_minor: i64,
    pub converted: i64,
    pub converted_value_minor: i64,
}

/// Snapshots the carts left with items since the last run (up to an hour ago); how many.
pub async fn find(db: &Db, zone: &Zone, now: i64) -> Result<usize, sqlx::Error> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(last_activity) FROM analytics_abandoned_carts")
            .fetch_one(db.reader())
            .await?;
    let since = last.unwrap_or(i64::MIN).max(now - LOOKBACK_MS);
    let lines = cart::idle::idle_lines(db, since, now - IDLE_MS, LINES_PER_RUN).await?;
    // The carts left at the very moment of the last one found are read again: skip those
    // already kept.
    let seen: Vec<String> = sqlx::query_scalar(
        "SELECT cart_id FROM analytics_abandoned_carts WHERE last_activity = $1 AND vendor_id = ''",
    )
    .bind(since)
    .fetch_all(db.reader())
    .await?;
    let lines: Vec<cart::idle::IdleLine> = lines
        .into_iter()
        .filter(|l| !(l.last_activity == since && seen.contains(&l.cart_id)))
        .collect();
    // Each line's product, vendor and price now, from the catalog (a variant gone since is
    // left out).
    let mut ids: Vec<shop_core::VariantId> = lines.iter().map(|l| l.variant_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut variants = std::collections::HashMap::new();
    for chunk in ids.chunks(VARIANTS_PER_READ) {
        for v in catalog::variants::sellable(db, chunk)
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?
        {
            variants.insert(v.id.clone(), v);
        }
    }
    // (cart, vendor) → the snapshot; vendor '' is the whole cart.
    let mut rows: BTreeMap<(String, String), AbandonedCart> = BTreeMap::new();
    for line in lines {
        let Some(variant) = variants.get(&line.variant_id) else {
            continue;
        };
        let value = variant.price.minor().saturating_mul(line.quantity);
        let vendor_id = variant.vendor_id.as_ref().map(|v| v.as_str().to_owned());
        for vendor in std::iter::once(String::new()).chain(vendor_id) {
            let row = rows
                .entry((line.cart_id.clone(), vendor))
                .or_insert_with(|| AbandonedCart {
                    cart_id: line.cart_id.clone(),
                    last_activity: line.last_activity,
                    user_id: line.user_id.clone(),
                    units: 0,
                    value_minor: 0,
                    currency: variant.price.currency().code().to_owned(),
                    order_id: None,
                    order_number: None,
                    converted_at: None,
                    reminded_at: None,
                });
            row.units = row.units.saturating_add(line.quantity);
            row.value_minor = row.value_minor.saturating_add(value);
        }
    }
    let carts = rows.keys().filter(|(_, vendor)| vendor.is_empty()).count();
    let rows: Vec<(String, AbandonedCart)> = rows
        .into_iter()
        .map(|((_, vendor), cart)| (vendor, cart))
        .collect();
    insert(db, zone, &rows, now).await?;
    Ok(carts)
}

/// Keeps `rows` (vendor '' for a whole cart, else that vendor's part); one kept before is
/// left as it is.
pub(crate) async fn insert(
    db: &Db,
    zone: &Zone,
    rows: &[(String, AbandonedCart)],
    now: i64,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_WRITE) {
        let mut batch = Batch::for_db(db);
        for (vendor, c) in chunk {
            batch
                .add(
                    "INSERT INTO analytics_abandoned_carts
                         (cart_id, last_activity, vendor_id, day, user_id, units, value_minor,
                          currency, found_at, order_id, order_number, converted_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (cart_id, last_activity, vendor_id) DO NOTHING",
                )
                .bind(c.cart_id.clone())
                .bind(c.last_activity)
                .bind(vendor.clone())
                .bind(zone.day_of(c.last_activity))
                .bind(c.user_id.clone())
                .bind(c.units)
                .bind(c.value_minor)
                .bind(c.currency.clone())
                .bind(now)
                .bind(c.order_id.clone())
                .bind(c.order_number)
                .bind(c.converted_at);
        }
        db.write_batch(batch).await?;
    }
    Ok(())
}

/// Marks the abandonments of cart `cart_id` left before `paid_at` as converted by the order
/// (the outbox's `order.paid`; a repeated delivery changes nothing).
pub async fn converted(
    db: &Db,
    cart_id: &str,
    order_id: &str,
    order_number: i64,
    paid_at: i64,
) -> Result<(), sqlx::Error> {
    let mut batch = Batch::for_db(db);
    batch
        .add(
            "UPDATE analytics_abandoned_carts
             SET order_id = $2, order_number = $3, converted_at = $4
             WHERE cart_id = $1 AND order_id IS NULL AND last_activity <= $4",
        )
        .bind(cart_id.to_owned())
        .bind(order_id.to_owned())
        .bind(order_number)
        .bind(paid_at);
    db.write_batch(batch).await
}

/// The carts left on the days of `period` in `currency`, latest first.
pub async fn list(
    db: &Db,
    period: Period,
    who: &Audience,
    currency: &str,
    limit: i64,
) -> Result<Vec<AbandonedCart>, sqlx::Error> {
    sqlx::query_as(
        "SELECT cart_id, last_activity, user_id, units, value_minor, currency, order_id,
                order_number, converted_at,
                (SELECT MAX(r.reminded_at) FROM analytics_abandoned_carts r
                 WHERE r.cart_id = a.cart_id AND r.vendor_id = '') AS reminded_at
         FROM analytics_abandoned_carts a
         WHERE vendor_id = $1 AND day >= $2 AND day <= $3 AND currency = $4
         ORDER BY last_activity DESC, cart_id LIMIT $5",
    )
    .bind(who.key())
    .bind(period.from.to_string())
    .bind(period.to.to_string())
    .bind(currency.to_owned())
    .bind(limit)
    .fetch_all(db.reader())
    .await
}

/// How many carts were left on the days of `period`, their value, and how many of them were
/// later bought.
pub async fn summary(
    db: &Db,
    period: Period,
    who: &Audience,
    currency: &str,
) -> Result<Summary, sqlx::Error> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) AS abandoned,
                CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) AS value_minor,
                CAST(COUNT(order_id) AS BIGINT) AS converted,
                CAST(COALESCE(SUM(CASE WHEN order_id IS NOT NULL THEN value_minor END), 0)
                     AS BIGINT) AS converted_value_minor
         FROM analytics_abandoned_carts
         WHERE vendor_id = $1 AND day >= $2 AND day <= $3 AND currency = $4",
    )
    .bind(who.key())
    .bind(period.from.to_string())
    .bind(period.to.to_string())
    .bind(currency.to_owned())
    .fetch_one(db.reader())
    .await
}

/// Deletes snapshots of days before `before` (`YYYY-MM-DD`), with the raw events.
pub(crate) async fn expire(db: &Db, before: String) -> Result<(), sqlx::Error> {
    let mut batch = Batch::for_db(db);
    batch
        .add("DELETE FROM analytics_abandoned_carts WHERE day < $1")
        .bind(before);
    db.write_batch(batch).await
}
