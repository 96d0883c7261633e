//! The server side of the analytics views: who may see what (staff the shop, a vendor their
//! products), the period from the range picker, each view's figures, charts and tables from
//! `analytics::report`, and a table as CSV. The pages' server function and the CSV download
//! both go through [`report`], so an export is exactly the table on the page, longer.

use std::collections::HashMap;

use analytics::report::{self, Audience, Period, ProductMetric, TermRanking};
use analytics::zone;
use shop_core::money::count_text;
use shop_core::{Currency, Money};

use super::{Bar, Cell, Chart, Figure, RangeView, Remind, Report, Table, Tick, VIEWS};
use crate::error::AppError;
use crate::ssr::{Services, internal};
use crate::url::urlencode;

/// Asks for a reminder mail about an abandoned cart (`left_at`: when it was left, as the
/// report lists it), for an admin; back to the report with JavaScript off.
pub async fn remind(cart_id: String, left_at: String) -> Result<(), AppError> {
    use analytics::reminders::{self, ReminderError};
    let account = crate::ssr::require_role(auth::Role::Admin).await?;
    let ctx = crate::ssr::server_context()?;
    let left_at: i64 = left_at
        .trim()
        .parse()
        .map_err(|_| AppError::form("No such abandoned cart."))?;
    let refused = |e: ReminderError| match e {
        ReminderError::Db(e) => internal(e),
        // Shown above the report (the form has no field to show it at).
        e => AppError::form(e.to_string()),
    };
    if cart_id.len() > 64 {
        return Err(refused(ReminderError::NotFound));
    }
    // Only to an address the customer confirmed, of an account still open.
    let customer = reminders::customer(&ctx.db, &cart_id, left_at)
        .await
        .map_err(refused)?;
    let reachable = auth::find(&ctx.db, &auth::UserId::from_db(customer))
        .await
        .map_err(internal)?
        .is_some_and(|u| u.status == auth::Status::Active && u.is_verified());
    if !reachable {
        return Err(AppError::form(
            "This customer's account is closed or their address unconfirmed: no reminder can be sent.",
        ));
    }
    let customer = reminders::request(&ctx.db, &ctx.clock, &cart_id, left_at)
        .await
        .map_err(refused)?;
    tracing::info!(user.id = %account.id, customer, cart_id, "cart reminder requested");
    crate::ssr::redirect_back_with_flash("reminder_queued");
    Ok(())
}

/// Rows of a table on the page.
pub const PAGE_ROWS: i64 = 10;
/// Rows of a table in its CSV export.
pub const EXPORT_ROWS: i64 = 10_000;

/// The longest custom period, in days.
const MAX_DAYS: i64 = 366;

/// Whose figures `account` may see: the shop's for an admin, their products' for a vendor;
/// `true` with the shop's.
pub fn audience(account: &auth::Account) -> Result<(bool, Audience), AppError> {
    if account.may_act_as(auth::Role::Admin) {
        Ok((true, Audience::Shop))
    } else if account.may_act_as(auth::Role::Vendor) {
        Ok((false, Audience::Vendor(account.id.as_str().to_owned())))
    } else {
        Err(AppError::Forbidden)
    }
}

/// What a page or an export asks for: a view and a period as the picker sends it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    view: &'static str,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl Request {
    /// The request, if `view` is one of [`VIEWS`].
    pub fn new(
        view: &str,
        range: Option<String>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Request, AppError> {
        let view = VIEWS
            .iter()
            .map(|(key, ..)| *key)
            .find(|key| *key == view)
            .ok_or_else(|| AppError::field("view", "No such analytics view."))?;
        Ok(Request {
            view,
            range,
            from,
            to,
        })
    }
}

/// The period the picker asks for, on the shop's `today` (the last 7 days by default).
pub(crate) fn period(
    range: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: zone::Date,
) -> Result<(Period, String), AppError> {
    let preset = |r: report::Range| r.period(today);
    let (period, key) = match range.unwrap_or("").trim() {
        "today" => (preset(report::Range::Today), "today"),
        "" | "7d" => (preset(report::Range::Last7), "7d"),
        "30d" => (preset(report::Range::Last30), "30d"),
        "month" => (preset(report::Range::ThisMonth), "month"),
        "custom" => {
            let day = |v: Option<&str>| v.and_then(zone::parse_day);
            let bad = || {
                AppError::field(
                    "from",
                    format!(
                        "Enter both days as YYYY-MM-DD, the first not after the last, at most \
                         {MAX_DAYS} days apart."
                    ),
                )
            };
            let (from, to) = (day(from).ok_or_else(bad)?, day(to).ok_or_else(bad)?);
            (Period::new(from, to, MAX_DAYS).ok_or_else(bad)?, "custom")
        }
        _ => return Err(AppError::field("range", "Choose a period from the list.")),
    };
    Ok((period, key.to_owned()))
}

fn range_view(period: Period, key: String) -> RangeView {
    let label = |p: Period| {
        if p.from == p.to {
            zone::label(p.from)
        } else {
            format!("{} – {}", zone::label(p.from), zone::label(p.to))
        }
    };
    RangeView {
        key,
        from: period.from.to_string(),
        to: period.to.to_string(),
        label: label(period),
        previous_label: label(period.previous()),
    }
}

/// The change from `before` to `now`: "+12.5%" (to a tenth of a percent, rounded toward
/// zero), and which way; `None` when there was nothing before.
pub(crate) fn change(now: i64, before: i64) -> (Option<String>, i8) {
    let direction = match now.cmp(&before) {
        std::cmp::Ordering::Greater => 1,
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
    };
    if before == 0 {
        return (
            if now == 0 {
                Some("±0%".to_owned())
            } else {
                None
            },
            direction,
        );
    }
    let tenths = i128::from(now - before) * 1000 / i128::from(before.abs());
    let sign = match direction {
        1 => "+",
        -1 => "−",
        _ => "±",
    };
    let tenths = tenths.unsigned_abs();
    (
        Some(format!("{sign}{}.{}%", tenths / 10, tenths % 10)),
        direction,
    )
}

/// `part` of `whole` as a percentage to two decimals ("2.50%"); "0.00%" of nothing.
pub(crate) fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "0.00%".to_owned();
    }
    let hundredths = i128::from(part.max(0)) * 10_000 / i128::from(whole);
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

fn figure(label: &str, now: (i64, String), before: (i64, String)) -> Figure {
    let (change, direction) = change(now.0, before.0);
    Figure {
        label: label.to_owned(),
        value: now.1,
        previous: before.1,
        change,
        direction,
    }
}

/// A round number at least `max` (1, 2 or 5 times a power of ten), for a chart's top.
pub(crate) fn round_up(max: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            let candidate = step.saturating_mul(m);
            if candidate >= max {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The view `request` asks for, for `who`, with at most `rows` rows per table.
pub async fn report(
    ctx: &Services,
    staff: bool,
    who: Audience,
    request: &Request,
    rows: i64,
) -> Result<Report, AppError> {
    let today = ctx.analytics.zone().date_of(ctx.clock.now().millis());
    let (period, key) = period(
        request.range.as_deref(),
        request.from.as_deref(),
        request.to.as_deref(),
        today,
    )?;
    let mut out = Report {
        staff,
        view: request.view.to_owned(),
        range: range_view(period, key),
        figures: Vec::new(),
        chart: None,
        tables: Vec::new(),
    };
    let on = On {
        ctx,
        who: &who,
        period,
        rows,
        currency: ctx.shop.currency,
    };
    match request.view {
        "products" => on.products(&mut out).await,
        "searches" => on.searches(&mut out).await,
        "funnel" => on.funnel(&mut out).await,
        "carts" => on.carts(&mut out).await,
        _ => on.overview(&mut out).await,
    }?;
    Ok(out)
}

/// What a view is built for.
struct On<'a> {
    ctx: &'a Services,
    who: &'a Audience,
    period: Period,
    rows: i64,
    currency: Currency,
}

impl On<'_> {
    fn money(&self, minor: i64) -> String {
        Money::new(minor, self.currency).to_string()
    }

    /// An amount: shown with its currency, exported as a decimal number.
    fn money_cell(&self, minor: i64) -> Cell {
        let m = Money::new(minor, self.currency);
        Cell::number(m.to_string(), m.to_decimal_string())
    }

    /// The sales in the shop's currency (a vendor's or the shop's).
    async fn sales(&self, period: Period) -> Result<report::Sales, AppError> {
        Ok(report::sales(&self.ctx.db, period, self.who)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|s| s.currency == self.currency.code())
            .unwrap_or_default())
    }

    async fn overview(&self, out: &mut Report) -> Result<(), AppError> {
        let db = &self.ctx.db;
        let before = self.period.previous();
        let traffic = report::traffic(db, self.period, self.who)
            .await
            .map_err(internal)?;
        let traffic_before = report::traffic(db, before, self.who)
            .await
            .map_err(internal)?;
        let (sales, sales_before) = (
            self.sales(self.period).await.map_err(internal)?,
            self.sales(before).await.map_err(internal)?,
        );
        let money = |minor: i64| (minor, self.money(minor));
        let count = |n: i64| (n, count_text(n));
        // Conversion in hundredths of a percent, so the change compares like with like.
        let conversion = |buyers: i64, visitors: i64| {
            let bp = if visitors > 0 {
                buyers * 10_000 / visitors
            } else {
                0
            };
            (bp, percent(buyers, visitors))
        };
        out.figures = vec![
            figure(
                "Revenue",
                money(sales.net_minor()),
                money(sales_before.net_minor()),
            ),
            figure(
                "Orders",
                count(sales.order_count),
                count(sales_before.order_count),
            ),
            figure(
                "Average order",
                money(sales.average_order_minor()),
                money(sales_before.average_order_minor()),
            ),
            figure(
                "Conversion",
                conversion(traffic.buyers, traffic.visitors),
                conversion(traffic_before.buyers, traffic_before.visitors),
            ),
            figure(
                "Visitors",
                count(traffic.visitors),
                count(traffic_before.visitors),
            ),
        ];
        let by_day = report::sales_by_day(db, self.period, self.who)
            .await
            .map_err(internal)?;
        let code = self.currency.code();
        let days: Vec<(zone::Date, report::DaySales)> = self
            .period
            .each_day()
            .into_iter()
            .map(|day| {
                let key = day.to_string();
                let mut sum = report::DaySales {
                    day: key.clone(),
                    currency: code.to_owned(),
                    order_count: 0,
                    revenue_minor: 0,
                    refunds_minor: 0,
                };
                for d in by_day.iter().filter(|d| d.day == key && d.currency == code) {
                    sum.order_count += d.order_count;
                    sum.revenue_minor += d.revenue_minor;
                    sum.refunds_minor += d.refunds_minor;
                }
                (day, sum)
            })
            .collect();
        let bars: Vec<Bar> = days
            .iter()
            .map(|(day, d)| {
                let net = d.revenue_minor - d.refunds_minor;
                Bar {
                    label: zone::short_label(*day),
                    long_label: zone::long_label(*day),
                    value: net,
                    text: self.money(net),
                }
            })
            .collect();
        let ticks = ticks(&bars, 100, |v| self.money(v));
        out.chart = Some(Chart {
            id: "revenue-chart".to_owned(),
            title: "Revenue by day".to_owned(),
            note: "Paid orders less refunds, by the day paid or refunded.".to_owned(),
            key_label: "Day".to_owned(),
            value_label: "Revenue".to_owned(),
            bars,
            ticks,
        });
        out.tables.push(Table {
            key: "revenue-by-day".to_owned(),
            title: "Revenue by day".to_owned(),
            note: "Orders paid, their value, refunds made and what is left, day by day.".to_owned(),
            columns: ["Day", "Orders", "Paid", "Refunded", "Revenue"]
                .map(String::from)
                .to_vec(),
            rows: days
                .into_iter()
                .rev()
                .map(|(day, d)| {
                    vec![
                        Cell {
                            csv: d.day.clone(),
                            ..Cell::text(zone::long_label(day))
                        },
                        count_cell(d.order_count),
                        self.money_cell(d.revenue_minor),
                        self.money_cell(d.refunds_minor),
                        self.money_cell(d.revenue_minor - d.refunds_minor),
                    ]
                })
                .collect(),
            empty: "No days in this period.".to_owned(),
        });
        Ok(())
    }

    async fn products(&self, out: &mut Report) -> Result<(), AppError> {
        let db = &self.ctx.db;
        let ranked = [
            (
                ProductMetric::Views,
                "top-views",
                "Most viewed",
                "Product pages seen.",
            ),
            (
                ProductMetric::Adds,
                "top-adds",
                "Most added to cart",
                "Times added to a cart.",
            ),
            (
                ProductMetric::Units,
                "top-units",
                "Most units sold",
                "Units in paid orders.",
            ),
            (
                ProductMetric::Revenue,
                "top-revenue",
                "Highest sales",
                "The value of paid order lines, before refunds.",
            ),
        ];
        // One query ranks the products five ways.
        let rankings = report::product_rankings(db, self.period, self.who, self.rows)
            .await
            .map_err(internal)?;
        let mut lists = Vec::new();
        for (metric, key, title, note) in ranked {
            let top = report::top(&rankings, metric, self.rows);
            lists.push((key, title, note.to_owned(), top));
        }
        let rarely = report::rarely_bought(&rankings, self.rows);
        lists.push((
            "viewed-not-bought",
            "Viewed often, rarely bought",
            "At least 20 views, and fewer units sold than one for every 50 views: worth a \
             look at the price, the photos or the stock."
                .to_owned(),
            rarely,
        ));
        let mut ids: Vec<String> = lists
            .iter()
            .flat_map(|(.., rows)| rows.iter().map(|r| r.product_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let labels = catalog::products::labels(db, &ids)
            .await
            .map_err(internal)?;
        for (key, title, note, rows) in lists {
            out.tables
                .push(self.product_table(key, title, note, rows, &labels));
        }
        Ok(())
    }

    fn product_table(
        &self,
        key: &str,
        title: &str,
        note: String,
        rows: Vec<report::ProductFigures>,
        labels: &HashMap<String, catalog::products::ProductLabel>,
    ) -> Table {
        Table {
            key: key.to_owned(),
            title: title.to_owned(),
            note,
            columns: [
                "Product",
                "Views",
                "Adds to cart",
                "Units sold",
                "Sales",
                "Bought per view",
            ]
            .map(String::from)
            .to_vec(),
            rows: rows
                .into_iter()
                .map(|p| {
                    let name = match labels.get(&p.product_id) {
                        Some(l) => Cell::text(l.name.clone()).link(format!("/p/{}", l.slug)),
                        None => Cell::text(format!("Deleted product {}", p.product_id)),
                    };
                    vec![
                        name,
                        count_cell(p.views),
                        count_cell(p.adds),
                        count_cell(p.units),
                        self.money_cell(p.revenue_minor),
                        percent_cell(p.units, p.views),
                    ]
                })
                .collect(),
            empty: "No product had any in this period.".to_owned(),
        }
    }

    async fn searches(&self, out: &mut Report) -> Result<(), AppError> {
        let db = &self.ctx.db;
        if *self.who != Audience::Shop {
            // Searches are the shop's, not a vendor's: they name no product.
            out.tables.push(Table {
                key: "top-searches".to_owned(),
                title: "Searches".to_owned(),
                note: "What shoppers search for is the shop's to see; ask the shop for it."
                    .to_owned(),
                columns: Vec::new(),
                rows: Vec::new(),
                empty: "Not shown to vendors.".to_owned(),
            });
            return Ok(());
        }
        let term = |t: &str| Cell::text(t).link(format!("/search?q={}", urlencode(t)));
        let top = report::terms(db, self.period, TermRanking::Top, self.rows)
            .await
            .map_err(internal)?;
        out.tables.push(Table {
            key: "top-searches".to_owned(),
            title: "Top searches".to_owned(),
            note: "The most searched terms (in lower case, letters and digits only).".to_owned(),
            columns: ["Search", "Searches", "Previous period", "Found nothing"]
                .map(String::from)
                .to_vec(),
            rows: top
                .into_iter()
                .map(|t| {
                    vec![
                        term(&t.term),
                        count_cell(t.searches),
                        count_cell(t.before),
                        count_cell(t.zero_results),
                    ]
                })
                .collect(),
            empty: "No searches in this period.".to_owned(),
        });
        let trending = report::terms(db, self.period, TermRanking::Trending, self.rows)
            .await
            .map_err(internal)?;
        out.tables.push(Table {
            key: "trending-searches".to_owned(),
            title: "Trending searches".to_owned(),
            note: "Rising most against the period before (searched at least twice now).".to_owned(),
            columns: ["Search", "Searches", "Previous period", "Change"]
                .map(String::from)
                .to_vec(),
            rows: trending
                .into_iter()
                .map(|t| {
                    let rise = t.searches - t.before;
                    vec![
                        term(&t.term),
                        count_cell(t.searches),
                        count_cell(t.before),
                        Cell::number(format!("+{}", count_text(rise)), rise.to_string()),
                    ]
                })
                .collect(),
            empty: "Nothing is rising in this period.".to_owned(),
        });
        let zero = report::terms(db, self.period, TermRanking::ZeroResults, self.rows)
            .await
            .map_err(internal)?;
        out.tables.push(Table {
            key: "zero-result-searches".to_owned(),
            title: "Searches that found nothing".to_owned(),
            note: "What shoppers looked for and did not find: products to add, or words to \
                   add to a product's description."
                .to_owned(),
            columns: ["Search", "Found nothing", "Searches"]
                .map(String::from)
                .to_vec(),
            rows: zero
                .into_iter()
                .map(|t| {
                    vec![
                        term(&t.term),
                        count_cell(t.zero_results),
                        count_cell(t.searches),
                    ]
                })
                .collect(),
            empty: "Every search found something in this period.".to_owned(),
        });
        Ok(())
    }

    async fn funnel(&self, out: &mut Report) -> Result<(), AppError> {
        let t = report::traffic(&self.ctx.db, self.period, self.who)
            .await
            .map_err(internal)?;
        let steps = [
            ("Visitors", "Visited the shop", t.visitors),
            ("Product view", "Viewed a product", t.viewers),
            ("Add to cart", "Added to the cart", t.adders),
            ("Checkout", "Started the checkout", t.checkouts),
            ("Paid", "Paid for an order", t.buyers),
        ];
        let bars: Vec<Bar> = steps
            .iter()
            .map(|(label, long, n)| Bar {
                label: (*label).to_owned(),
                long_label: (*long).to_owned(),
                value: *n,
                text: format!("{} visitors", count_text(*n)),
            })
            .collect();
        let ticks = ticks(&bars, 10, count_text);
        out.chart = Some(Chart {
            id: "funnel-chart".to_owned(),
            title: "Funnel".to_owned(),
            note: "Visitors who reached each step, counted once a day each.".to_owned(),
            key_label: "Step".to_owned(),
            value_label: "Visitors".to_owned(),
            bars,
            ticks,
        });
        let mut rows = Vec::new();
        let mut previous: Option<i64> = None;
        for (label, long, n) in steps {
            let (from_before, dropped) = match previous {
                Some(p) => (percent_cell(n, p), count_cell((p - n).max(0))),
                None => (Cell::text("—"), Cell::text("—")),
            };
            rows.push(vec![
                Cell::text(label),
                Cell::text(long),
                count_cell(n),
                percent_cell(n, t.visitors),
                from_before,
                dropped,
            ]);
            previous = Some(n);
        }
        out.tables.push(Table {
            key: "funnel".to_owned(),
            title: "Steps and drop-off".to_owned(),
            note: "Each step as a share of all visitors and of the step before, and how many \
                   did not go on."
                .to_owned(),
            columns: [
                "Step",
                "What they did",
                "Visitors",
                "Of all visitors",
                "Of the step before",
                "Dropped off",
            ]
            .map(String::from)
            .to_vec(),
            rows,
            empty: String::new(),
        });
        Ok(())
    }

    async fn carts(&self, out: &mut Report) -> Result<(), AppError> {
        let db = &self.ctx.db;
        let code = self.currency.code();
        let now = analytics::carts::summary(db, self.period, self.who, code)
            .await
            .map_err(internal)?;
        let before = analytics::carts::summary(db, self.period.previous(), self.who, code)
            .await
            .map_err(internal)?;
        let count = |n: i64| (n, count_text(n));
        let money = |minor: i64| (minor, self.money(minor));
        let rate = |s: &analytics::carts::Summary| {
            let bp = if s.abandoned > 0 {
                s.converted * 10_000 / s.abandoned
            } else {
                0
            };
            (bp, percent(s.converted, s.abandoned))
        };
        out.figures = vec![
            figure(
                "Abandoned carts",
                count(now.abandoned),
                count(before.abandoned),
            ),
            figure(
                "Value left",
                money(now.value_minor),
                money(before.value_minor),
            ),
            figure(
                "Bought later",
                count(now.converted),
                count(before.converted),
            ),
            figure("Recovery rate", rate(&now), rate(&before)),
            figure(
                "Value recovered",
                money(now.converted_value_minor),
                money(before.converted_value_minor),
            ),
        ];
        let carts = analytics::carts::list(db, self.period, self.who, code, self.rows)
            .await
            .map_err(internal)?;
        let emails = if self.who == &Audience::Shop {
            let ids: Vec<auth::UserId> = carts
                .iter()
                .filter_map(|c| c.user_id.clone().map(auth::UserId::from_db))
                .collect();
            auth::users::emails(db, &ids).await.map_err(internal)?
        } else {
            HashMap::new()
        };
        let zone = self.ctx.analytics.zone();
        let staff = self.who == &Audience::Shop;
        // Staff may send a customer one reminder per cart, unless they opted out.
        let opted_out = if staff {
            let ids: Vec<String> = carts.iter().filter_map(|c| c.user_id.clone()).collect();
            analytics::reminders::opted_out(db, &ids)
                .await
                .map_err(internal)?
        } else {
            Default::default()
        };
        let reminder = |c: &analytics::carts::AbandonedCart| match (&c.user_id, c.reminded_at) {
            (None, _) => Cell::text("—"),
            (_, Some(at)) => Cell {
                csv: format!("sent {}", zone.time_label(at)),
                ..Cell::text(format!("Sent {}", zone.time_label(at)))
            },
            _ if c.order_id.is_some() => Cell::text("Not needed"),
            (Some(user), None) if opted_out.contains(user) => Cell::text("Opted out"),
            _ => Cell {
                csv: "not sent".to_owned(),
                remind: Some(Remind {
                    cart_id: c.cart_id.clone(),
                    left_at: c.last_activity,
                }),
                ..Cell::text("Send reminder")
            },
        };
        let mut columns = vec!["Left at", "Customer", "Items", "Value", "Bought later"];
        if staff {
            columns.push("Reminder");
        }
        out.tables.push(Table {
            key: "abandoned-carts".to_owned(),
            title: "Abandoned carts".to_owned(),
            note: if staff {
                "Carts left with items for over an hour, latest first, at the prices when they \
                 were left; bought later means an order from the cart was paid after. A \
                 customer can be sent one reminder per cart, with what is in it by then."
            } else {
                "Carts left with items for over an hour, latest first, at the prices when they \
                 were left; bought later means an order from the cart was paid after."
            }
            .to_owned(),
            columns: columns.into_iter().map(String::from).collect(),
            rows: carts
                .into_iter()
                .map(|c| {
                    let reminder = staff.then(|| reminder(&c));
                    let who = match &c.user_id {
                        None => "Guest".to_owned(),
                        Some(id) => emails
                            .get(&auth::UserId::from_db(id.clone()))
                            .cloned()
                            .unwrap_or_else(|| "Customer".to_owned()),
                    };
                    let bought = match (c.order_id, c.order_number) {
                        (Some(id), Some(number)) => {
                            let label = checkout::orders::number_label(number);
                            let cell = Cell::text(label);
                            if staff {
                                cell.link(format!("/admin/orders/{id}"))
                            } else {
                                cell
                            }
                        }
                        _ => Cell::text("No"),
                    };
                    vec![
                        Cell {
                            csv: zone.time_label(c.last_activity),
                            ..Cell::text(zone.time_label(c.last_activity))
                        },
                        Cell::text(who),
                        count_cell(c.units),
                        self.money_cell(c.value_minor),
                        bought,
                    ]
                    .into_iter()
                    .chain(reminder)
                    .collect()
                })
                .collect(),
            empty: "No carts were left with items in this period.".to_owned(),
        });
        Ok(())
    }
}

/// A count: grouped in thousands on the page, plain in the CSV.
fn count_cell(n: i64) -> Cell {
    Cell::number(count_text(n), n.to_string())
}

/// `part` of `whole` as a percentage cell.
fn percent_cell(part: i64, whole: i64) -> Cell {
    let text = percent(part, whole);
    Cell::number(text.clone(), text.trim_end_matches('%').to_owned())
}

/// `table` as CSV: its headings, then its rows (text a spreadsheet would run as a formula
/// defused; numbers plain, without currency signs).
pub fn csv(table: &Table) -> Result<Vec<u8>, AppError> {
    use shop_core::spreadsheet::cell;
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns).map_err(internal)?;
    for row in &table.rows {
        // Numbers are the shop's own (a negative one is no formula); text is defused.
        w.write_record(row.iter().map(|c| {
            if c.numeric {
                c.csv.clone()
            } else {
                cell(&c.csv)
            }
        }))
        .map_err(internal)?;
    }
    w.into_inner().map_err(internal)
}

/// Zero, half and a round top above the highest bar (at least `least`), with `text` for
/// their labels.
fn ticks(bars: &[Bar], least: i64, text: impl Fn(i64) -> String) -> Vec<Tick> {
    let top = round_up(bars.iter().map(|b| b.value).max().unwrap_or(0).max(least));
    [0, top / 2, top]
        .into_iter()
        .map(|value| Tick {
            value,
            text: text(value),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_a_merchant_expects() {
        assert_eq!(change(150, 100), (Some("+50.0%".to_owned()), 1));
        assert_eq!(change(97, 100), (Some("−3.0%".to_owned()), -1));
        assert_eq!(change(5, 0), (None, 1));
        assert_eq!(change(0, 0), (Some("±0%".to_owned()), 0));
        assert_eq!(change(-50, 100), (Some("−150.0%".to_owned()), -1));
        assert_eq!(percent(1, 40), "2.50%");
        assert_eq!(percent(3, 0), "0.00%");
        assert_eq!(round_up(1), 1);
        assert_eq!(round_up(130), 200);
        assert_eq!(round_up(12_345), 20_000);
        assert_eq!(round_up(50_000), 50_000);
    }

    #[test]
    fn the_picker_names_a_period_or_a_clear_error() {
        let today = zone::parse_day("2026-03-18").unwrap();
        let (p, key) = period(None, None, None, today).unwrap();
        assert_eq!(
            (p.from.to_string(), key.as_str()),
            ("2026-03-12".to_owned(), "7d")
        );
        let (p, _) = period(Some("month"), None, None, today).unwrap();
        assert_eq!(p.from.to_string(), "2026-03-01");
        let (p, _) = period(
            Some("custom"),
            Some("2026-01-01"),
            Some("2026-01-31"),
            today,
        )
        .unwrap();
        assert_eq!(p.days(), 31);
        for (from, to) in [
            ("2026-02-01", "2026-01-01"),
            ("x", "2026-01-01"),
            ("2020-01-01", "2026-01-01"),
        ] {
            assert!(
                period(Some("custom"), Some(from), Some(to), today).is_err(),
                "{from} {to}"
            );
        }
        assert!(period(Some("forever"), None, None, today).is_err());
    }
}
