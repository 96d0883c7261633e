//! The dashboards' figures for a period: the roll-ups of the days already rolled up, plus the
//! same sums over the raw events of the days that are not (today, usually), in one query
//! each. Everything can be asked for the whole shop or for one vendor's products.

use jiff::civil::Date;
use shop_core::Db;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, FromRow};

use crate::rollup::{PRODUCTS, SALES, SEARCHES, TRAFFIC};
use crate::zone;

/// Days from `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The period, if `from` is not after `to` and it spans at most `max_days`.
    pub fn new(from: Date, to: Date, max_days: i64) -> Option<Period> {
        let p = Period { from, to };
        (from <= to && p.days() <= max_days).then_some(p)
    }

    /// How many days it spans.
    pub fn days(&self) -> i64 {
        i64::from((self.to - self.from).get_days()) + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        Period {
            from: zone::shift(self.from, -self.days()),
            to: zone::shift(self.from, -1),
        }
    }

    /// Every day of it, in order.
    pub fn each_day(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.from;
        while d <= self.to {
            out.push(d);
            d = zone::next(d);
        }
        out
    }
}

/// Whose figures: the whole shop's, or one vendor's products'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    Shop,
    Vendor(String),
}

impl Audience {
    /// The roll-ups' `vendor_id` for it ('' is the whole shop).
    pub(crate) fn key(&self) -> String {
        match self {
            Audience::Shop => String::new(),
            Audience::Vendor(id) => id.clone(),
        }
    }
}

/// Visitors at each step of the funnel, and page counts, summed over days (visitors are
/// distinct per day: the same person on two days counts twice).
#[derive(Clone, Debug, Default, PartialEq, Eq, FromRow)]
pub struct Traffic {
    pub visitors: i64,
    pub viewers: i64,
    pub adders: i64,
    pub checkouts: i64,
    pub buyers: i64,
    pub product_views: i64,
    pub listing_views: i64,
    pub searches: i64,
    pub adds: i64,
    pub cart_views: i64,
}

/// Sales in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, FromRow)]
pub struct Sales {
    pub currency: String,
    pub order_count: i64,
    pub units: i64,
    pub revenue_minor: i64,
    pub refunds_minor: i64,
}

impl Sales {
    /// Revenue less refunds.
    pub fn net_minor(&self) -> i64 {
        self.revenue_minor.saturating_sub(self.refunds_minor)
    }

    /// Average paid order value (before refunds), in minor units; 0 without orders.
    pub fn average_order_minor(&self) -> i64 {
        if self.order_count == 0 {
            0
        } else {
            self.revenue_minor / self.order_count
        }
    }
}

/// One day's sales in one currency.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DaySales {
    pub day: String,
    pub currency: String,
    pub order_count: i64,
    pub revenue_minor: i64,
    pub refunds_minor: i64,
}

/// One product's figures over a period.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ProductFigures {
    pub product_id: String,
    pub views: i64,
    pub adds: i64,
    pub units: i64,
    pub revenue_minor: i64,
}

/// What to rank products by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductMetric {
    Views,
    Adds,
    Units,
    Revenue,
}

/// A search term's figures over a period (and the one before, for trends).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TermFigures {
    pub term: String,
    pub searches: i64,
    pub zero_results: i64,
    /// Searches in the previous period of the same length.
    pub before: i64,
}

/// The first day whose figures come from raw events (the day after the last rolled up).
async fn live_from(db: &Db) -> Result<Option<Date>, sqlx::Error> {
    let last: Option<String> = sqlx::query_scalar("SELECT MAX(day) FROM analytics_days")
        .fetch_one(db.reader())
        .await?;
    Ok(last.as_deref().and_then(zone::parse_day).map(zone::next))
}

/// The binds for [`union`]: the rolled-up part of `period` (`$1`, `$2`) and the live part
/// (`$3`, `$4`); an empty part gets a range no day is in.
async fn parts(db: &Db, period: Period) -> Result<[String; 4], sqlx::Error> {
    const NONE: [&str; 2] = ["9999-12-31", "0000-01-01"];
    let split = live_from(db).await?;
    let (from, to) = (period.from.to_string(), period.to.to_string());
    Ok(match split {
        // Nothing rolled up yet: all live.
        None => [NONE[0].into(), NONE[1].into(), from, to],
        Some(s) if s > period.to => [from, to, NONE[0].into(), NONE[1].into()],
        Some(s) if s <= period.from => [NONE[0].into(), NONE[1].into(), from, to],
        Some(s) => [from, zone::shift(s, -1).to_string(), s.to_string(), to],
    })
}

/// The rows of roll-up `table` for days `$1`..`$2`, and those `live` (one of the roll-up
/// selects) makes of the raw events of days `$3`..`$4`, as one `FROM` source.
fn union(table: &str, columns: &str, live: &str) -> String {
    let live = live.replace("$1", "$3").replace("$2", "$4");
    format!(
        "(SELECT {columns} FROM {table} WHERE day >= $1 AND day <= $2
          UNION ALL
          SELECT {columns} FROM ({live}) l) u"
    )
}

/// `sql` with the rolled-up and live parts of `period` bound as `$1`..`$4` (see [`union`])
/// and `fifth` as `$5`.
async fn bound<'q, T>(
    db: &Db,
    sql: &'q str,
    period: Period,
    fifth: String,
) -> Result<QueryAs<'q, Any, T, AnyArguments<'q>>, sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow>,
{
    let [a, b, c, d] = parts(db, period).await?;
    Ok(sqlx::query_as(sql)
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(d)
        .bind(fifth))
}

const TRAFFIC_COLUMNS: &str = "day, vendor_id, visitors, viewers, adders, checkouts, buyers, \
     product_views, listing_views, searches, adds, cart_views";
const SALES_COLUMNS: &str =
    "day, vendor_id, currency, order_count, units, revenue_minor, refunds_minor";
const SEARCH_COLUMNS: &str = "day, term, searches, zero_results";

/// The funnel and page counts over `period`.
pub async fn traffic(db: &Db, period: Period, who: &Audience) -> Result<Traffic, sqlx::Error> {
    let sql = format!(
        "SELECT {sums} FROM {from} WHERE vendor_id = $5",
        sums = [
            "visitors",
            "viewers",
            "adders",
            "checkouts",
            "buyers",
            "product_views",
            "listing_views",
            "searches",
            "adds",
            "cart_views",
        ]
        .map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}"))
        .join(", "),
        from = union("analytics_daily", TRAFFIC_COLUMNS, TRAFFIC),
    );
    bound(db, &sql, period, who.key())
        .await?
        .fetch_one(db.reader())
        .await
}

/// Sales per day and currency over `period` (days without sales are left out).
pub async fn sales_by_day(
    db: &Db,
    period: Period,
    who: &Audience,
) -> Result<Vec<DaySales>, sqlx::Error> {
    let sql = format!(
        "SELECT day, currency,
                CAST(SUM(order_count) AS BIGINT) AS order_count,
                CAST(SUM(revenue_minor) AS BIGINT) AS revenue_minor,
                CAST(SUM(refunds_minor) AS BIGINT) AS refunds_minor
         FROM {from} WHERE vendor_id = $5
         GROUP BY day, currency ORDER BY day, currency",
        from = union("analytics_daily_sales", SALES_COLUMNS, SALES),
    );
    bound(db, &sql, period, who.key())
        .await?
        .fetch_all(db.reader())
        .await
}

/// Sales per currency over `period`.
pub async fn sales(db: &Db, period: Period, who: &Audience) -> Result<Vec<Sales>, sqlx::Error> {
    let sql = format!(
        "SELECT currency,
                CAST(SUM(order_count) AS BIGINT) AS order_count,
                CAST(SUM(units) AS BIGINT) AS units,
                CAST(SUM(revenue_minor) AS BIGINT) AS revenue_minor,
                CAST(SUM(refunds_minor) AS BIGINT) AS refunds_minor
         FROM {from} WHERE vendor_id = $5
         GROUP BY currency ORDER BY currency",
        from = union("analytics_daily_sales", SALES_COLUMNS, SALES),
    );
    bound(db, &sql, period, who.key())
        .await?
        .fetch_all(db.reader())
        .await
}

/// A product's figures over a period and its place in each ranking (1 is first).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct RankedProduct {
    pub product_id: String,
    pub views: i64,
    pub adds: i64,
    pub units: i64,
    pub revenue_minor: i64,
    pub by_views: i64,
    pub by_adds: i64,
    pub by_units: i64,
    pub by_revenue: i64,
    /// Among products viewed often but rarely bought (see [`rarely_bought`]).
    pub by_rarely: i64,
}

impl RankedProduct {
    fn figures(&self) -> ProductFigures {
        ProductFigures {
            product_id: self.product_id.clone(),
            views: self.views,
            adds: self.adds,
            units: self.units,
            revenue_minor: self.revenue_minor,
        }
    }

    /// Viewed often (20 times) and bought for fewer than one in 50 views.
    fn rarely_bought(&self) -> bool {
        self.views >= 20 && self.units.saturating_mul(50) < self.views
    }
}

/// The products in the first `limit` of any ranking over `period` (by views, adds, units,
/// sales, or viewed often but rarely bought), for the whole shop or a vendor: one query
/// ranks them all, and only those rows leave the database. Whole months already rolled up
/// come from the monthly roll-up, the other rolled-up days from the daily one, the days not
/// rolled up yet from the raw events: a year is about twelve rows per product.
pub async fn product_rankings(
    db: &Db,
    period: Period,
    who: &Audience,
    limit: i64,
) -> Result<Vec<RankedProduct>, sqlx::Error> {
    let [a, b, c, d] = parts(db, period).await?;
    let split = months_within(&a, &b);
    let live = PRODUCTS.replace("$1", "$3").replace("$2", "$4");
    let rank = |order: &str| {
        format!("CAST(ROW_NUMBER() OVER (ORDER BY {order} DESC, product_id) AS BIGINT)")
    };
    let sql = format!(
        "SELECT * FROM (
             SELECT t.*, {by_views} AS by_views, {by_adds} AS by_adds, {by_units} AS by_units,
                    {by_revenue} AS by_revenue, {by_rarely} AS by_rarely
             FROM (SELECT product_id,
                          CAST(SUM(views) AS BIGINT) AS views,
                          CAST(SUM(adds) AS BIGINT) AS adds,
                          CAST(SUM(units) AS BIGINT) AS units,
                          CAST(SUM(revenue_minor) AS BIGINT) AS revenue_minor
                   FROM (SELECT product_id, vendor_id, views, adds, units, revenue_minor
                         FROM analytics_monthly_products WHERE month >= $5 AND month <= $6
                         UNION ALL
                         SELECT product_id, vendor_id, views, adds, units, revenue_minor
                         FROM analytics_daily_products
                         WHERE (day >= $1 AND day <= $2) OR (day >= $7 AND day <= $8)
                         UNION ALL
                         SELECT product_id, vendor_id, views, adds, units, revenue_minor
                         FROM ({live}) l) u
                   WHERE ($9 = '' OR vendor_id = $9)
                   GROUP BY product_id) t
         ) r
         WHERE by_views <= $10 OR by_adds <= $10 OR by_units <= $10 OR by_revenue <= $10
            OR by_rarely <= $10",
        by_views = rank("views"),
        by_adds = rank("adds"),
        by_units = rank("units"),
        by_revenue = rank("revenue_minor"),
        by_rarely = rank("CASE WHEN views >= 20 AND units * 50 < views THEN views ELSE -1 END"),
    );
    sqlx::query_as(&sql)
        .bind(split.head.0)
        .bind(split.head.1)
        .bind(c)
        .bind(d)
        .bind(split.months.0)
        .bind(split.months.1)
        .bind(split.tail.0)
        .bind(split.tail.1)
        .bind(who.key())
        .bind(limit)
        .fetch_all(db.reader())
        .await
}

/// The rolled-up days `from`..`to` as whole months (`YYYY-MM`) and the days before and
/// after them; an empty part is a range nothing is in.
struct MonthSplit {
    head: (String, String),
    months: (String, String),
    tail: (String, String),
}

fn months_within(from: &str, to: &str) -> MonthSplit {
    let none = || ("9999-12-31".to_owned(), "0000-01-01".to_owned());
    let days_only = || MonthSplit {
        head: (from.to_owned(), to.to_owned()),
        months: none(),
        tail: none(),
    };
    let (Some(a), Some(b)) = (zone::parse_day(from), zone::parse_day(to)) else {
        return days_only();
    };
    if a > b {
        return days_only();
    }
    let first = if a.day() == 1 {
        a
    } else {
        zone::next(a.last_of_month())
    };
    let last = if b == b.last_of_month() {
        b
    } else {
        zone::shift(b.first_of_month(), -1)
    };
    if first > last {
        return days_only();
    }
    let month = |d: Date| d.to_string()[..7].to_owned();
    MonthSplit {
        head: (a.to_string(), zone::shift(first, -1).to_string()),
        months: (month(first), month(last)),
        tail: (zone::next(last).to_string(), b.to_string()),
    }
}

/// The products of `rows` in the first `limit` by `by`, in order (those with none left out).
pub fn top(rows: &[RankedProduct], by: ProductMetric, limit: i64) -> Vec<ProductFigures> {
    let key = |p: &RankedProduct| match by {
        ProductMetric::Views => (p.views, p.by_views),
        ProductMetric::Adds => (p.adds, p.by_adds),
        ProductMetric::Units => (p.units, p.by_units),
        ProductMetric::Revenue => (p.revenue_minor, p.by_revenue),
    };
    let mut ranked: Vec<&RankedProduct> = rows
        .iter()
        .filter(|p| key(p).0 > 0 && key(p).1 <= limit)
        .collect();
    ranked.sort_by_key(|p| key(p).1);
    ranked.into_iter().map(RankedProduct::figures).collect()
}

/// Products viewed often but rarely bought: the most viewed of those whose units sold are
/// under 2% of their views (at least 20 views), the first `limit`.
pub fn rarely_bought(rows: &[RankedProduct], limit: i64) -> Vec<ProductFigures> {
    let mut ranked: Vec<&RankedProduct> = rows
        .iter()
        .filter(|p| p.rarely_bought() && p.by_rarely <= limit)
        .collect();
    ranked.sort_by_key(|p| p.by_rarely);
    ranked.into_iter().map(RankedProduct::figures).collect()
}

/// The `limit` products ranked highest by `by` over `period` (those with none left out).
pub async fn top_products(
    db: &Db,
    period: Period,
    who: &Audience,
    by: ProductMetric,
    limit: i64,
) -> Result<Vec<ProductFigures>, sqlx::Error> {
    Ok(top(
        &product_rankings(db, period, who, limit).await?,
        by,
        limit,
    ))
}

/// How to rank search terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermRanking {
    /// Most searched.
    Top,
    /// Rising most against the previous period (searched at least twice now).
    Trending,
    /// Most searches that found nothing.
    ZeroResults,
}

/// The `limit` search terms of `period` ranked by `by`, with the previous period's counts.
pub async fn terms(
    db: &Db,
    period: Period,
    by: TermRanking,
    limit: i64,
) -> Result<Vec<TermFigures>, sqlx::Error> {
    let (having, order) = match by {
        TermRanking::Top => ("searches > 0", "searches DESC"),
        TermRanking::Trending => (
            "searches >= 2 AND searches > before",
            "searches - before DESC",
        ),
        TermRanking::ZeroResults => ("zero_results > 0", "zero_results DESC"),
    };
    let whole = Period {
        from: period.previous().from,
        to: period.to,
    };
    let sql = format!(
        "SELECT term, searches, zero_results, before FROM (
             SELECT term,
                    CAST(COALESCE(SUM(CASE WHEN day >= $5 THEN searches END), 0) AS BIGINT)
                        AS searches,
                    CAST(COALESCE(SUM(CASE WHEN day >= $5 THEN zero_results END), 0) AS BIGINT)
                        AS zero_results,
                    CAST(COALESCE(SUM(CASE WHEN day < $5 THEN searches END), 0) AS BIGINT)
                        AS before
             FROM {from} GROUP BY term
         ) t WHERE {having} ORDER BY {order}, term LIMIT $6",
        from = union("analytics_daily_searches", SEARCH_COLUMNS, SEARCHES),
    );
    bound(db, &sql, whole, period.from.to_string())
        .await?
        .bind(limit)
        .fetch_all(db.reader())
        .await
}

/// A period the dashboards offer, relative to today in the shop's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    Today,
    Last7,
    Last30,
    ThisMonth,
}

impl Range {
    /// The period it names on the day `today`.
    pub fn period(self, today: Date) -> Period {
        let from = match self {
            Range::Today => today,
            Range::Last7 => zone::shift(today, -6),
            Range::Last30 => zone::shift(today, -29),
            Range::ThisMonth => today.first_of_month(),
        };
        Period { from, to: today }
    }
}
