//! The shop's time zone (`SHOP_TIMEZONE`): which local day a moment belongs to, and where a
//! local day starts and ends. Days are `YYYY-MM-DD` text, which sorts as dates do.

pub use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The shop's time zone.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// The zone named `name` (an IANA name such as `Europe/Berlin`, or `UTC`).
    pub fn named(name: &str) -> Result<Zone, String> {
        let tz = if name == "UTC" {
            TimeZone::UTC
        } else {
            TimeZone::get(name)
                .map_err(|e| format!("not a time zone known to this machine's tz database ({e})"))?
        };
        Ok(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local day of `millis` (milliseconds since the epoch).
    pub fn day_of(&self, millis: i64) -> String {
        self.date_of(millis).to_string()
    }

    /// The local date of `millis`.
    pub fn date_of(&self, millis: i64) -> Date {
        let at = Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH);
        at.to_zoned(self.tz.clone()).date()
    }

    /// When local day `date` starts, in milliseconds since the epoch (its first moment, even
    /// on a day that starts at 01:00 because of a clock change).
    pub fn start_of(&self, date: Date) -> i64 {
        date.to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    }

    /// "3 Mar 2026 14:05" of `millis`, local time.
    pub fn time_label(&self, millis: i64) -> String {
        let at = Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH);
        let local = at.to_zoned(self.tz.clone());
        format!(
            "{} {:02}:{:02}",
            label(local.date()),
            local.hour(),
            local.minute()
        )
    }

    /// When local day `date` ends (the next day's start).
    pub fn end_of(&self, date: Date) -> i64 {
        self.start_of(next(date))
    }
}

/// The day after `date`.
pub fn next(date: Date) -> Date {
    date.checked_add(1.day()).unwrap_or(date)
}

/// `date` moved by `days` (negative: earlier).
pub fn shift(date: Date, days: i64) -> Date {
    date.checked_add(days.days()).unwrap_or(date)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn month_name(date: Date) -> &'static str {
    MONTHS[usize::try_from(date.month() - 1).unwrap_or(0) % 12]
}

/// "3 Mar", for a chart's axis.
pub fn short_label(date: Date) -> String {
    format!("{} {}", date.day(), month_name(date))
}

/// "3 Mar 2026".
pub fn label(date: Date) -> String {
    format!("{} {} {}", date.day(), month_name(date), date.year())
}

/// "Tue 3 Mar 2026".
pub fn long_label(date: Date) -> String {
    let weekday =
        WEEKDAYS[usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0) % 7];
    format!("{weekday} {}", label(date))
}

/// A `YYYY-MM-DD` day.
pub fn parse_day(text: &str) -> Option<Date> {
    let date: Date = text.trim().parse().ok()?;
    (date.to_string() == text.trim()).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_falls_on_the_shops_local_day() {
        // 2026-03-01 23:30 UTC is already 2026-03-02 in Berlin (UTC+1).
        let at = 1_772_407_800_000;
        assert_eq!(Zone::utc().day_of(at), "2026-03-01");
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(berlin.day_of(at), "2026-03-02");
        let day = parse_day("2026-03-02").unwrap();
        assert!(berlin.start_of(day) <= at && at < berlin.end_of(day));
        assert_eq!(berlin.end_of(day) - berlin.start_of(day), 86_400_000);
    }

    #[test]
    fn a_day_with_a_clock_change_is_as_long_as_it_is() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let spring = parse_day("2026-03-29").unwrap();
        assert_eq!(
            berlin.end_of(spring) - berlin.start_of(spring),
            23 * 3_600_000
        );
    }

    #[test]
    fn unknown_zones_and_malformed_days_are_refused() {
        assert!(Zone::named("Mars/Olympus").is_err());
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("2026-2-3"), None);
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(
            parse_day("2026-02-03").map(|d| d.to_string()),
            Some("2026-02-03".into())
        );
    }
}
