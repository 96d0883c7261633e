//! The server side of the analytics pages: who may see what (staff the shop, a vendor their
//! products), the period from the range picker, and the figures from `analytics::report`.

use analytics::report::{self, Audience, Period};
use analytics::zone;
use shop_core::{Currency, Money};

use super::{Bar, Figure, Overview, RangeView, Tick};
use crate::error::AppError;
use crate::ssr::{internal, require_user, server_context};

/// The longest custom period, in days.
const MAX_DAYS: i64 = 366;

/// Whose figures the asker may see: the shop's for an admin, their products' for a vendor.
async fn audience() -> Result<(bool, Audience), AppError> {
    let account = require_user().await?;
    if account.may_act_as(auth::Role::Admin) {
        Ok((true, Audience::Shop))
    } else if account.may_act_as(auth::Role::Vendor) {
        Ok((false, Audience::Vendor(account.id.as_str().to_owned())))
    } else {
        Err(AppError::Forbidden)
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

/// The overview's figures for `range`, against the period before.
pub(super) async fn overview(
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<Overview, AppError> {
    let ctx = server_context()?;
    let (staff, who) = audience().await?;
    let today = ctx.analytics.zone().date_of(ctx.clock.now().millis());
    let (period, key) = period(range.as_deref(), from.as_deref(), to.as_deref(), today)?;
    let before = period.previous();
    let db = &ctx.db;
    let currency = ctx.shop.currency;
    let (traffic, traffic_before) = (
        report::traffic(db, period, &who).await.map_err(internal)?,
        report::traffic(db, before, &who).await.map_err(internal)?,
    );
    let in_currency = |sales: Vec<report::Sales>| {
        sales
            .into_iter()
            .find(|s| s.currency == currency.code())
            .unwrap_or_default()
    };
    let sales = in_currency(report::sales(db, period, &who).await.map_err(internal)?);
    let sales_before = in_currency(report::sales(db, before, &who).await.map_err(internal)?);
    let money = |minor: i64| (minor, Money::new(minor, currency).to_string());
    let count = |n: i64| (n, n.to_string());
    // Conversion in hundredths of a percent, so the change compares like with like.
    let conversion = |buyers: i64, visitors: i64| {
        let bp = if visitors > 0 {
            buyers * 10_000 / visitors
        } else {
            0
        };
        (bp, percent(buyers, visitors))
    };
    let figures = vec![
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
    let by_day = report::sales_by_day(db, period, &who)
        .await
        .map_err(internal)?;
    let revenue_by_day: Vec<Bar> = period
        .each_day()
        .into_iter()
        .map(|day| {
            let key = day.to_string();
            let net = by_day
                .iter()
                .filter(|d| d.day == key && d.currency == currency.code())
                .map(|d| d.revenue_minor - d.refunds_minor)
                .sum::<i64>();
            Bar {
                label: zone::short_label(day),
                long_label: zone::long_label(day),
                value: net,
                text: Money::new(net, currency).to_string(),
            }
        })
        .collect();
    let revenue_ticks = ticks(&revenue_by_day, currency);
    Ok(Overview {
        staff,
        range: range_view(period, key),
        figures,
        revenue_by_day,
        revenue_ticks,
    })
}

/// Zero, half and a round top above the highest bar.
fn ticks(bars: &[Bar], currency: Currency) -> Vec<Tick> {
    let top = round_up(bars.iter().map(|b| b.value).max().unwrap_or(0).max(100));
    [0, top / 2, top]
        .into_iter()
        .map(|value| Tick {
            value,
            text: Money::new(value, currency).to_string(),
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
