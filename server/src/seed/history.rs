//! `shop demo-history`: made-up shop activity over the past days, for a demo shop whose
//! dashboards have something to show and for the dashboards' benchmark: visitors who browse,
//! search, fill carts and leave or buy; paid orders (delivered once old enough, a few
//! refunded); abandoned carts, some bought later. Busier at weekends and growing over the
//! period, with a few products far more popular than the rest, a search that trends at the
//! end and searches that find nothing.
//!
//! It writes through the services' own import functions (orders through the checkout's,
//! events and carts through the analytics'), then rolls the days up as the housekeeping job
//! does. It only goes into a shop without orders, and is the same for the same catalog and
//! options (a fixed random seed).

use analytics::{Analytics, Kind, Noted};
use anyhow::Context as _;
use checkout::history::{PastLine, PastOrder};
use checkout::orders::PostalAddress;
use shop_core::{Clock, Currency, Db};

const DAY_MS: i64 = 86_400_000;
/// Visitors for every order (a conversion of one in ten).
const VISITORS_PER_ORDER: i64 = 10;
/// Searches that find nothing in any catalog of ours.
const MISSES: [&str; 8] = [
    "gift card",
    "zeppelin",
    "lightsaber",
    "hoverboard",
    "jetpack",
    "time machine",
    "unicorn saddle",
    "moon boots",
];

/// How much history to make.
#[derive(Clone, Copy, Debug)]
pub struct HistoryOptions {
    /// Days up to today.
    pub days: i64,
    /// Orders over those days (about: rounded day by day).
    pub orders: i64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            days: 365,
            orders: 52_000,
        }
    }
}

/// What was made.
#[derive(Clone, Copy, Debug, Default)]
pub struct Made {
    pub visitors: i64,
    pub events: i64,
    pub orders: i64,
    pub abandoned_carts: i64,
}

/// The shop's settings the history needs.
pub struct Shop<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub analytics: &'a analytics::Settings,
    pub currency: Currency,
    pub vat_rate_bp: i64,
}

/// A product to sell: its first variant.
#[derive(sqlx::FromRow)]
struct Product {
    product_id: String,
    name: String,
    slug: String,
    vendor_id: Option<String>,
    variant_id: String,
    sku: String,
    options: String,
    price_minor: i64,
}

/// A small, fast, seeded random number generator (SplitMix64): the same history every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `0..n` (`n` > 0).
    fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next() % n.max(1).unsigned_abs()).unwrap_or(0)
    }

    /// True `per_mille` times in a thousand.
    fn chance(&mut self, per_mille: i64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index into `n` items, the first ones far more often (popular products).
    fn popular(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        // Not money: a skew for picking products.
        ((u * u * u) * n as f64) as usize % n.max(1)
    }

    fn hex(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

/// Makes the history and rolls it up.
pub async fn generate(shop: &Shop<'_>, options: HistoryOptions) -> anyhow::Result<Made> {
    anyhow::ensure!(
        (1..=3_660).contains(&options.days),
        "--days must be 1 to 3660"
    );
    anyhow::ensure!(
        (0..=10_000_000).contains(&options.orders),
        "--orders must be 0 to 10000000"
    );
    let db = shop.db;
    let existing = orders(db).await?;
    anyhow::ensure!(
        existing == 0,
        "this shop has {existing} orders: made-up history only goes into a shop without any"
    );
    let products: Vec<Product> = sqlx::query_as(
        "SELECT p.id AS product_id, p.name, p.slug, p.vendor_id, v.id AS variant_id, v.sku,
                v.options, v.price_minor
         FROM products p JOIN product_variants v ON v.product_id = p.id
         WHERE p.status = 'active' AND v.currency = $1 AND v.price_minor > 0
           AND v.position = (SELECT MIN(w.position) FROM product_variants w
                             WHERE w.product_id = p.id)
         ORDER BY p.id LIMIT 20000",
    )
    .bind(shop.currency.code())
    .fetch_all(db.reader())
    .await
    .context("reading the catalog")?;
    anyhow::ensure!(
        !products.is_empty(),
        "no active products priced in {}: load a catalog first (shop seed)",
        shop.currency.code()
    );
    let words = vocabulary(&products);
    let analytics = Analytics::new(db.clone(), shop.clock.clone(), shop.analytics.clone());
    let zone = analytics.zone().clone();
    let now = shop.clock.now().millis();
    let today = zone.date_of(now);
    let first = analytics::zone::shift(today, 1 - options.days);

    // Each day's share of the orders: growing over the period, busier at weekends.
    let weights: Vec<f64> = (0..options.days)
        .map(|d| {
            let day = analytics::zone::shift(first, d);
            let growth = 0.7 + 0.6 * d as f64 / options.days as f64;
            let weekday = [0.9, 0.95, 1.0, 1.0, 1.05, 1.2, 1.15]
                [usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0) % 7];
            growth * weekday
        })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let mut rng = Rng(0x5EED_2026);
    let mut made = Made::default();
    let mut carry = 0.0;
    for (d, weight) in weights.iter().enumerate() {
        let day = analytics::zone::shift(first, i64::try_from(d).unwrap_or(0));
        let start = zone.start_of(day);
        // Today only up to now.
        let length = (zone.end_of(day).min(now) - start).max(1);
        let share = options.orders as f64 * weight / total_weight
            * (length as f64 / DAY_MS as f64)
            * (0.85 + 0.3 * rng.below(1000) as f64 / 1000.0)
            + carry;
        let orders = share.floor() as i64;
        carry = share - orders as f64;
        let trending = d + 14 >= weights.len();
        let day_made = make_day(
            shop,
            &analytics,
            &products,
            &words,
            &mut rng,
            DayPlan {
                start,
                length,
                orders,
                now,
                trending,
            },
        )
        .await
        .with_context(|| format!("writing {day}"))?;
        made.visitors += day_made.visitors;
        made.events += day_made.events;
        made.orders += day_made.orders;
        made.abandoned_carts += day_made.abandoned_carts;
    }
    analytics.roll_up().await.context("rolling the days up")?;
    Ok(made)
}

/// How many orders the shop has (made-up history only goes into a shop without any).
pub async fn orders(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(db.reader())
        .await
}

/// The most common words of the products' names: what shoppers search for.
fn vocabulary(products: &[Product]) -> Vec<String> {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for p in products.iter().take(2_000) {
        for w in p.name.split(|c: char| !c.is_alphanumeric()) {
            if w.chars().count() >= 4 && w.chars().all(char::is_alphabetic) {
                *counts.entry(w.to_lowercase()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<String> = words.into_iter().take(60).map(|(w, _)| w).collect();
    if out.is_empty() {
        out.push("gift".to_owned());
    }
    out
}

struct DayPlan {
    start: i64,
    length: i64,
    orders: i64,
    now: i64,
    /// The last two weeks: one word is searched far more.
    trending: bool,
}

/// What a visitor did: what they put in their cart, and whether they bought it.
struct Visit {
    visitor: String,
    /// Their last step.
    at: i64,
    added: Vec<(usize, i64)>,
    bought: bool,
}

async fn make_day(
    shop: &Shop<'_>,
    analytics: &Analytics,
    products: &[Product],
    words: &[String],
    rng: &mut Rng,
    plan: DayPlan,
) -> anyhow::Result<Made> {
    let currency = shop.currency.code().to_owned();
    let visitors = plan.orders * VISITORS_PER_ORDER + rng.below(VISITORS_PER_ORDER * 3);
    let mut events: Vec<(Noted, i64, Option<String>)> = Vec::new();
    let mut visits = Vec::new();
    for i in 0..visitors {
        let visitor = rng.hex();
        let at = plan.start + rng.below(plan.length);
        let bought = i < plan.orders;
        let roll = rng.below(1000);
        // Buyers, and 1.5% who reach the checkout and leave; 6% who leave a cart; half who
        // only look; the rest leave at once.
        let (views, adds, checkout) = if bought || roll < 15 {
            (1 + rng.below(3), 1 + rng.below(2), true)
        } else if roll < 75 {
            (1 + rng.below(4), 1 + rng.below(2), false)
        } else if roll < 560 {
            (1 + rng.below(4), 0, false)
        } else {
            (0, 0, false)
        };
        let mut t = at;
        let mut step = |rng: &mut Rng| {
            t = (t + 10_000 + rng.below(90_000)).min(plan.now - 1);
            t
        };
        let mut note = |noted: Noted, at: i64| events.push((noted, at, Some(visitor.clone())));
        if rng.chance(700) {
            note(Noted::new(Kind::ListingView), at);
        }
        if rng.chance(350) {
            let (term, results) = if rng.chance(120) {
                (
                    MISSES[usize::try_from(rng.below(8)).unwrap_or(0)].to_owned(),
                    0,
                )
            } else if plan.trending && rng.chance(250) {
                (words[words.len() / 2].clone(), 12)
            } else {
                let w = rng.popular(words.len());
                (words[w].clone(), 1 + rng.below(40))
            };
            note(Noted::search(&term, results), step(rng));
        }
        let viewed: Vec<usize> = (0..views).map(|_| rng.popular(products.len())).collect();
        for p in &viewed {
            let p = &products[*p];
            note(
                Noted::product_view(&p.product_id, p.vendor_id.as_deref()),
                step(rng),
            );
        }
        let mut added = Vec::new();
        for a in 0..adds {
            let index = viewed[usize::try_from(a).unwrap_or(0) % viewed.len()];
            if added.iter().any(|(i, _)| *i == index) {
                continue;
            }
            let quantity = if rng.chance(200) { 2 } else { 1 };
            let p = &products[index];
            note(
                Noted {
                    product_id: Some(p.product_id.clone()),
                    vendor_id: p.vendor_id.clone(),
                    quantity: Some(quantity),
                    ..Noted::new(Kind::AddToCart)
                },
                step(rng),
            );
            added.push((index, quantity));
        }
        if !added.is_empty() && (checkout || rng.chance(600)) {
            note(Noted::new(Kind::CartView), step(rng));
        }
        if checkout {
            note(Noted::new(Kind::CheckoutStarted), step(rng));
        }
        visits.push(Visit {
            visitor,
            at: step(rng),
            added,
            bought,
        });
    }

    // The buyers' orders, paid a couple of minutes after they were placed.
    let buyers: Vec<&Visit> = visits.iter().filter(|v| v.bought).collect();
    let past: Vec<PastOrder> = buyers
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let lines: Vec<PastLine> = v
                .added
                .iter()
                .map(|(i, quantity)| {
                    let p = &products[*i];
                    PastLine {
                        variant_id: p.variant_id.clone(),
                        product_id: p.product_id.clone(),
                        name: p.name.clone(),
                        slug: p.slug.clone(),
                        options: p.options.clone(),
                        sku: p.sku.clone(),
                        vendor_id: p.vendor_id.clone(),
                        quantity: *quantity,
                        unit_price_minor: p.price_minor,
                    }
                })
                .collect();
            let subtotal: i64 = lines.iter().map(|l| l.quantity * l.unit_price_minor).sum();
            let paid_at = (v.at + 120_000).min(plan.now - 1);
            let refund_at = paid_at + 5 * DAY_MS;
            PastOrder {
                email: format!(
                    "shopper{}@example.com",
                    (plan.start / DAY_MS) * 1_000 + n as i64
                ),
                cart_id: shop_core::id::new_uuid_v7(),
                shipping_minor: if subtotal >= 5_000 { 0 } else { 495 },
                placed_at: v.at,
                paid_at,
                delivered: paid_at < plan.now - 10 * DAY_MS,
                refunded_at: (refund_at < plan.now && rng.chance(30)).then_some(refund_at),
                lines,
                address: PostalAddress {
                    full_name: "Demo Shopper".to_owned(),
                    line1: "1 Harbour Street".to_owned(),
                    line2: String::new(),
                    city: "Amsterdam".to_owned(),
                    region: String::new(),
                    postal_code: "1011 AB".to_owned(),
                    country: "NL".to_owned(),
                    phone: String::new(),
                },
            }
        })
        .collect();
    let written = checkout::history::import(shop.db, shop.currency, shop.vat_rate_bp, &past)
        .await
        .context("writing orders")?;
    for ((v, o), w) in buyers.iter().zip(&past).zip(&written) {
        let order = Some(w.id.clone());
        events.push((
            Noted {
                order_id: order.clone(),
                ..Noted::new(Kind::OrderPlaced)
            },
            o.placed_at,
            Some(v.visitor.clone()),
        ));
        events.push((
            Noted {
                order_id: order.clone(),
                amount_minor: Some(o.total_minor()),
                currency: Some(currency.clone()),
                ..Noted::new(Kind::OrderPaid)
            },
            o.paid_at,
            None,
        ));
        for l in &o.lines {
            events.push((
                Noted {
                    order_id: order.clone(),
                    product_id: Some(l.product_id.clone()),
                    vendor_id: l.vendor_id.clone(),
                    quantity: Some(l.quantity),
                    amount_minor: Some(l.quantity * l.unit_price_minor),
                    currency: Some(currency.clone()),
                    ..Noted::new(Kind::Sale)
                },
                o.paid_at,
                None,
            ));
        }
        if let Some(at) = o.refunded_at {
            events.push((
                Noted {
                    order_id: order.clone(),
                    amount_minor: Some(o.total_minor()),
                    currency: Some(currency.clone()),
                    ..Noted::new(Kind::Refund)
                },
                at,
                None,
            ));
        }
    }
    // Carts left with items: some of their shoppers came back and bought.
    let mut carts = Vec::new();
    for v in visits
        .iter()
        .filter(|v| !v.bought && !v.added.is_empty() && v.at < plan.now - 3_600_000)
    {
        let mut by_vendor: Vec<(String, analytics::carts::AbandonedCart)> = Vec::new();
        let later = (!written.is_empty() && rng.chance(80)).then(|| {
            let k = usize::try_from(rng.below(written.len() as i64)).unwrap_or(0);
            (&written[k], past[k].paid_at)
        });
        let cart_id = shop_core::id::new_uuid_v7();
        for (i, quantity) in &v.added {
            let p = &products[*i];
            let keys = std::iter::once(String::new()).chain(p.vendor_id.clone());
            for vendor in keys {
                let at = match by_vendor.iter().position(|(k, _)| *k == vendor) {
                    Some(at) => at,
                    None => {
                        by_vendor.push((
                            vendor.clone(),
                            analytics::carts::AbandonedCart {
                                cart_id: cart_id.clone(),
                                last_activity: v.at,
                                user_id: None,
                                units: 0,
                                value_minor: 0,
                                currency: currency.clone(),
                                order_id: later.map(|(w, _)| w.id.clone()),
                                order_number: later.map(|(w, _)| w.number),
                                converted_at: later
                                    .map(|(_, paid)| paid.max(v.at + 3_600_000).min(plan.now)),
                                reminded_at: None,
                            },
                        ));
                        by_vendor.len() - 1
                    }
                };
                let row = &mut by_vendor[at].1;
                row.units += quantity;
                row.value_minor += quantity * p.price_minor;
            }
        }
        carts.extend(by_vendor);
    }
    let made = Made {
        visitors,
        events: i64::try_from(events.len()).unwrap_or(0),
        orders: i64::try_from(written.len()).unwrap_or(0),
        abandoned_carts: i64::try_from(carts.iter().filter(|(k, _)| k.is_empty()).count())
            .unwrap_or(0),
    };
    analytics.import(events).await.context("writing events")?;
    analytics
        .import_abandoned(carts)
        .await
        .context("writing abandoned carts")?;
    Ok(made)
}
