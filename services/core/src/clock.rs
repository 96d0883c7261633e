//! Time as the services see it.
//!
//! Timestamps are integer milliseconds since the Unix epoch (UTC): one representation that
//! SQLite and PostgreSQL store, index and compare identically. The [`Clock`] is injected so
//! tests can move time forward (token expiry, retry backoff) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The raw millisecond value, as stored.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant moved forward by `d` (saturating, never wraps).
    pub fn plus(self, d: Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }

    /// This instant moved back by `d` (saturating).
    pub fn minus(self, d: Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(ms))
    }

    /// A short reading for people, e.g. `22 Nov 2026, 10:15 UTC`.
    pub fn to_human(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        let format = time::macros::format_description!(
            "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
        );
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }

    /// RFC 3339 in UTC, e.g. `2026-11-22T10:15:00Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.replace_nanosecond(0).ok().and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
            })
            .unwrap_or_default()
    }
}

/// The source of "now" for every service.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    mode: Mode,
}

#[derive(Clone, Debug, Default)]
enum Mode {
    /// The real wall clock.
    #[default]
    System,
    /// Stands still at the stored instant until advanced.
    Fixed(Arc<AtomicI64>),
    /// The wall clock plus a stored offset that only grows: time flows normally and tests
    /// can jump ahead (past a token's expiry, a session's idle timeout, a throttle delay).
    Shifted(Arc<AtomicI64>),
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Self {
        Self { mode: Mode::System }
    }

    /// A clock that stands still at `at` until [`Clock::advance`] moves it.
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            mode: Mode::Fixed(Arc::new(AtomicI64::new(at.0))),
        }
    }

    /// The wall clock, movable forward with [`Clock::advance`]. For tests.
    pub fn shifted() -> Self {
        Self {
            mode: Mode::Shifted(Arc::new(AtomicI64::new(0))),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match &self.mode {
            Mode::System => system_now(),
            Mode::Fixed(ms) => Timestamp(ms.load(Ordering::SeqCst)),
            Mode::Shifted(offset) => {
                Timestamp(system_now().0.saturating_add(offset.load(Ordering::SeqCst)))
            }
        }
    }

    /// Moves a fixed or shifted clock forward; the system clock cannot be moved and ignores
    /// this.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        match &self.mode {
            Mode::System => {}
            Mode::Fixed(ms) | Mode::Shifted(ms) => {
                ms.fetch_add(by, Ordering::SeqCst);
            }
        }
    }
}

fn system_now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let clock = Clock::fixed(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now(), Timestamp(3_000));
    }

    #[test]
    fn shifted_clock_follows_the_wall_clock_plus_the_jumps() {
        let clock = Clock::shifted();
        let before = Clock::system().now();
        clock.advance(Duration::from_secs(3600));
        let shifted = clock.now();
        let after = Clock::system().now();
        assert!(shifted.0 >= before.0 + 3_600_000);
        assert!(shifted.0 <= after.0 + 3_600_000);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(Clock::system().now().millis() > 1_704_067_200_000);
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(
            Timestamp(1_795_000_000_123).to_human(),
            "18 Nov 2026, 11:06 UTC"
        );
    }

    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_795_000_000_123).to_rfc3339(),
            "2026-11-18T11:06:40Z"
        );
    }
}

impl Timestamp {
    /// Parses a calendar date (`2024-12-31`, midnight UTC) or an RFC 3339 instant.
    pub fn parse(input: &str) -> Option<Timestamp> {
        use time::format_description::well_known::Rfc3339;
        let s = input.trim();
        let nanos = if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
            t.unix_timestamp_nanos()
        } else {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = time::Date::parse(s, &format).ok()?;
            date.midnight().assume_utc().unix_timestamp_nanos()
        };
        i64::try_from(nanos / 1_000_000).ok().map(Timestamp)
    }
}

#[cfg(test)]
mod parse_tests {
    use super::Timestamp;

    #[test]
    fn parses_dates_and_instants() {
        assert_eq!(Timestamp::parse("1970-01-02"), Some(Timestamp(86_400_000)));
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:01Z"),
            Some(Timestamp(1_000))
        );
        assert_eq!(Timestamp::parse("2024-02-30"), None);
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}
