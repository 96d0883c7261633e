//! Daily roll-ups: raw events summed per day into small tables, so the dashboards read a row
//! per day (per product, per search term) rather than millions of events.
//!
//! Each summary is one `SELECT` over a range of days of raw events ([`TRAFFIC`], [`SALES`],
//! [`PRODUCTS`], [`SEARCHES`]): the roll-up inserts its rows for a past day, and the
//! dashboards run the same `SELECT` on the days not rolled up yet (today). A day is rolled up
//! again on every run until a day after it ended (a payment for an order placed that day
//! may come later), then it is final. Raw events older than the retention period, and the
//! salts of days gone by, are deleted.

use jiff::civil::Date;
use shop_core::{Batch, Db};

use crate::zone::{self, Zone};

/// Distinct visitors at each step of the funnel and page counts, per day, for the whole shop
/// (`vendor_id` ''). `$1`, `$2`: the first and last day.
pub(crate) const TRAFFIC: &str = "
SELECT e.day, '' AS vendor_id,
       COUNT(DISTINCT e.visitor) AS visitors,
       COUNT(DISTINCT CASE WHEN e.kind = 'product_view' THEN e.visitor END) AS viewers,
       COUNT(DISTINCT CASE WHEN e.kind = 'add_to_cart' THEN e.visitor END) AS adders,
       COUNT(DISTINCT CASE WHEN e.kind = 'checkout_started' THEN e.visitor END) AS checkouts,
       COUNT(DISTINCT CASE WHEN e.kind = 'order_placed' AND EXISTS (
           SELECT 1 FROM analytics_events p WHERE p.order_id = e.order_id AND p.kind = 'order_paid'
       ) THEN e.visitor END) AS buyers,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'product_view' THEN e.n ELSE 0 END), 0) AS BIGINT) AS product_views,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'listing_view' THEN e.n ELSE 0 END), 0) AS BIGINT) AS listing_views,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'search' THEN e.n ELSE 0 END), 0) AS BIGINT) AS searches,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'add_to_cart' THEN e.n ELSE 0 END), 0) AS BIGINT) AS adds,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'cart_view' THEN e.n ELSE 0 END), 0) AS BIGINT) AS cart_views
FROM analytics_events e
WHERE e.day >= $1 AND e.day <= $2 AND e.visitor IS NOT NULL
GROUP BY e.day
UNION ALL
SELECT e.day, e.vendor_id,
       COUNT(DISTINCT e.visitor) AS visitors,
       COUNT(DISTINCT CASE WHEN e.kind = 'product_view' THEN e.visitor END) AS viewers,
       COUNT(DISTINCT CASE WHEN e.kind = 'add_to_cart' THEN e.visitor END) AS adders,
       COUNT(DISTINCT CASE WHEN e.kind = 'add_to_cart' AND EXISTS (
           SELECT 1 FROM analytics_events c
           WHERE c.day = e.day AND c.visitor = e.visitor AND c.kind = 'checkout_started'
       ) THEN e.visitor END) AS checkouts,
       COUNT(DISTINCT CASE WHEN e.kind = 'add_to_cart' AND EXISTS (
           SELECT 1 FROM analytics_events o JOIN analytics_events s ON s.order_id = o.order_id
           WHERE o.day = e.day AND o.visitor = e.visitor AND o.kind = 'order_placed'
             AND s.kind = 'sale' AND s.vendor_id = e.vendor_id
       ) THEN e.visitor END) AS buyers,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'product_view' THEN e.n ELSE 0 END), 0) AS BIGINT) AS product_views,
       CAST(0 AS BIGINT) AS listing_views,
       CAST(0 AS BIGINT) AS searches,
       CAST(COALESCE(SUM(CASE WHEN e.kind = 'add_to_cart' THEN e.n ELSE 0 END), 0) AS BIGINT) AS adds,
       CAST(0 AS BIGINT) AS cart_views
FROM analytics_events e
WHERE e.day >= $1 AND e.day <= $2 AND e.visitor IS NOT NULL AND e.vendor_id IS NOT NULL
  AND e.kind IN ('product_view', 'add_to_cart')
GROUP BY e.day, e.vendor_id";

/// Orders, units, revenue and refunds per day and currency: the whole shop (order totals,
/// refunds of orders) and each vendor (their lines, and refunds of their lines).
pub(crate) const SALES: &str = "
SELECT day, '' AS vendor_id, currency,
       CAST(COALESCE(SUM(CASE WHEN kind = 'order_paid' THEN n ELSE 0 END), 0) AS BIGINT) AS order_count,
       CAST(COALESCE(SUM(CASE WHEN kind = 'sale' THEN quantity * n ELSE 0 END), 0) AS BIGINT) AS units,
       CAST(COALESCE(SUM(CASE WHEN kind = 'order_paid' THEN amount_minor * n ELSE 0 END), 0) AS BIGINT) AS revenue_minor,
       CAST(COALESCE(SUM(CASE WHEN kind = 'refund' AND product_id IS NULL THEN amount_minor * n ELSE 0 END), 0) AS BIGINT)
           AS refunds_minor
FROM analytics_events
WHERE day >= $1 AND day <= $2 AND kind IN ('order_paid', 'sale', 'refund') AND currency IS NOT NULL
GROUP BY day, currency
UNION ALL
SELECT day, vendor_id, currency,
       COUNT(DISTINCT CASE WHEN kind = 'sale' THEN order_id END) AS order_count,
       CAST(COALESCE(SUM(CASE WHEN kind = 'sale' THEN quantity * n ELSE 0 END), 0) AS BIGINT) AS units,
       CAST(COALESCE(SUM(CASE WHEN kind = 'sale' THEN amount_minor * n ELSE 0 END), 0) AS BIGINT) AS revenue_minor,
       CAST(COALESCE(SUM(CASE WHEN kind = 'refund' THEN amount_minor * n ELSE 0 END), 0) AS BIGINT) AS refunds_minor
FROM analytics_events
WHERE day >= $1 AND day <= $2 AND kind IN ('sale', 'refund') AND vendor_id IS NOT NULL
  AND product_id IS NOT NULL AND currency IS NOT NULL
GROUP BY day, vendor_id, currency";

/// Views, adds to cart, units sold and revenue per product and day.
pub(crate) const PRODUCTS: &str = "
SELECT day, product_id, COALESCE(MAX(vendor_id), '') AS vendor_id,
       CAST(COALESCE(SUM(CASE WHEN kind = 'product_view' THEN n ELSE 0 END), 0) AS BIGINT) AS views,
       CAST(COALESCE(SUM(CASE WHEN kind = 'add_to_cart' THEN n ELSE 0 END), 0) AS BIGINT) AS adds,
       CAST(COALESCE(SUM(CASE WHEN kind = 'sale' THEN quantity * n ELSE 0 END), 0) AS BIGINT) AS units,
       CAST(COALESCE(SUM(CASE WHEN kind = 'sale' THEN amount_minor * n ELSE 0 END), 0) AS BIGINT) AS revenue_minor
FROM analytics_events
WHERE day >= $1 AND day <= $2 AND product_id IS NOT NULL
  AND kind IN ('product_view', 'add_to_cart', 'sale')
GROUP BY day, product_id";

/// Searches and searches without results per term and day.
pub(crate) const SEARCHES: &str = "
SELECT day, term,
       CAST(SUM(n) AS BIGINT) AS searches,
       CAST(COALESCE(SUM(CASE WHEN results = 0 THEN n ELSE 0 END), 0) AS BIGINT) AS zero_results
FROM analytics_events
WHERE day >= $1 AND day <= $2 AND kind = 'search' AND term IS NOT NULL
GROUP BY day, term";

/// Each roll-up table with the `SELECT` that fills it.
const TABLES: [(&str, &str, &str); 4] = [
    (
        "analytics_daily",
        "day, vendor_id, visitors, viewers, adders, checkouts, buyers, product_views,
         listing_views, searches, adds, cart_views",
        TRAFFIC,
    ),
    (
        "analytics_daily_sales",
        "day, vendor_id, currency, order_count, units, revenue_minor, refunds_minor",
        SALES,
    ),
    (
        "analytics_daily_products",
        "day, product_id, vendor_id, views, adds, units, revenue_minor",
        PRODUCTS,
    ),
    (
        "analytics_daily_searches",
        "day, term, searches, zero_results",
        SEARCHES,
    ),
];

/// What a roll-up run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolledUp {
    /// The days rolled up (again).
    pub days: Vec<String>,
    /// Raw events deleted for being older than the retention period.
    pub expired: u64,
    /// Carts newly found abandoned.
    pub abandoned_carts: usize,
}

/// Rolls up every past day that is not final yet, and deletes what is past retention.
/// `now`: milliseconds since the epoch.
pub async fn run(
    db: &Db,
    zone: &Zone,
    now: i64,
    retention_days: i64,
) -> Result<RolledUp, sqlx::Error> {
    let today = zone.date_of(now);
    let mut done = RolledUp::default();
    let Some(first) = first_open_day(db, today).await? else {
        return Ok(done);
    };
    let mut day = first;
    let mut months = Vec::new();
    while day < today {
        // Final once a whole day has passed since it ended.
        let final_ = now >= zone.end_of(day) + 86_400_000;
        roll_day(db, day, final_, now).await?;
        done.days.push(day.to_string());
        if months.last() != Some(&day.first_of_month()) {
            months.push(day.first_of_month());
        }
        day = zone::next(day);
    }
    for month in months {
        roll_month(db, month).await?;
    }
    done.expired = expire(db, zone::shift(today, -retention_days), today).await?;
    Ok(done)
}

/// The first day that has events and is not final (before `today`).
async fn first_open_day(db: &Db, today: Date) -> Result<Option<Date>, sqlx::Error> {
    let last_final: Option<String> =
        sqlx::query_scalar("SELECT MAX(day) FROM analytics_days WHERE final = 1")
            .fetch_one(db.reader())
            .await?;
    let first_event: Option<String> = match &last_final {
        Some(d) => {
            sqlx::query_scalar("SELECT MIN(day) FROM analytics_events WHERE day > $1")
                .bind(d)
                .fetch_one(db.reader())
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT MIN(day) FROM analytics_events")
                .fetch_one(db.reader())
                .await?
        }
    };
    Ok(first_event
        .as_deref()
        .and_then(zone::parse_day)
        .filter(|d| *d < today))
}

/// Replaces day `day`'s roll-ups with fresh sums, in one write.
async fn roll_day(db: &Db, day: Date, final_: bool, now: i64) -> Result<(), sqlx::Error> {
    let day = day.to_string();
    let mut batch = Batch::for_db(db);
    for (table, columns, select) in TABLES {
        batch
            .add(&format!("DELETE FROM {table} WHERE day = $1"))
            .bind(day.clone());
        batch
            .add(&format!("INSERT INTO {table} ({columns}) {select}"))
            .bind(day.clone())
            .bind(day.clone());
    }
    batch
        .add(
            "INSERT INTO analytics_days (day, final, rolled_at) VALUES ($1, $2, $3)
             ON CONFLICT (day) DO UPDATE SET final = $2, rolled_at = $3",
        )
        .bind(day.clone())
        .bind(i64::from(final_))
        .bind(now);
    db.write_batch(batch).await
}

/// Replaces the monthly product figures of the month that starts on `first` with the sums
/// of its daily rows, in one write.
async fn roll_month(db: &Db, first: Date) -> Result<(), sqlx::Error> {
    let month = first.to_string()[..7].to_owned();
    let mut batch = Batch::for_db(db);
    batch
        .add("DELETE FROM analytics_monthly_products WHERE month = $1")
        .bind(month.clone());
    batch
        .add(
            "INSERT INTO analytics_monthly_products
                 (month, product_id, vendor_id, views, adds, units, revenue_minor)
             SELECT $1, product_id, MAX(vendor_id), SUM(views), SUM(adds), SUM(units),
                    SUM(revenue_minor)
             FROM analytics_daily_products WHERE day >= $2 AND day <= $3
             GROUP BY product_id",
        )
        .bind(month)
        .bind(first.to_string())
        .bind(first.last_of_month().to_string());
    db.write_batch(batch).await
}

/// Deletes raw events of days before `before`, and the salts of days before yesterday.
async fn expire(db: &Db, before: Date, today: Date) -> Result<u64, sqlx::Error> {
    let (before, yesterday) = (before.to_string(), zone::shift(today, -1).to_string());
    db.write(move |mut w| {
        Box::pin(async move {
            let conn = w.conn().await?;
            let expired = sqlx::query("DELETE FROM analytics_events WHERE day < $1")
                .bind(before)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            // Yesterday's salt stays a day: events noted before midnight may be written after.
            sqlx::query("DELETE FROM analytics_salts WHERE day < $1")
                .bind(yesterday)
                .execute(&mut *conn)
                .await?;
            Ok(expired)
        })
    })
    .await
}
