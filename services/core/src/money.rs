//! Money: integer minor units plus an ISO 4217 currency. Never a float.
//!
//! Arithmetic is checked: an overflow or a currency mismatch is an error the caller must
//! handle, not a wrapped number on an invoice.

use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code the shop knows how to format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    Eur,
    Usd,
    Gbp,
    Chf,
    Sek,
    Jpy,
}

impl Currency {
    /// Every supported currency.
    pub const ALL: [Currency; 6] = [
        Currency::Eur,
        Currency::Usd,
        Currency::Gbp,
        Currency::Chf,
        Currency::Sek,
        Currency::Jpy,
    ];

    /// The three-letter code, e.g. `EUR`.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Usd => "USD",
            Currency::Gbp => "GBP",
            Currency::Chf => "CHF",
            Currency::Sek => "SEK",
            Currency::Jpy => "JPY",
        }
    }

    /// Number of minor-unit digits (2 for cents, 0 for yen).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// The sign shown before amounts (`€`), if the currency has one.
    pub fn symbol(self) -> Option<&'static str> {
        match self {
            Currency::Eur => Some("€"),
            Currency::Usd => Some("$"),
            Currency::Gbp => Some("£"),
            Currency::Jpy => Some("¥"),
            Currency::Chf | Currency::Sek => None,
        }
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MoneyError::UnknownCurrency(s.chars().take(8).collect()))
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What can go wrong with money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amounts in {0} and {1} cannot be combined")]
    CurrencyMismatch(Currency, Currency),
    #[error("the amount is too large")]
    Overflow,
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("{0:?} is not a valid amount")]
    InvalidAmount(String),
}

/// An amount of money in minor units (cents) of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` units of `currency` (e.g. `Money::new(1999, Currency::Eur)` is €19.99).
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// True when the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `self × quantity`, refusing overflow (a line total).
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(quantity)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum(
        currency: Currency,
        items: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Parses a decimal amount typed by a person (`"19.99"`, `"19,99"`, `"20"`) in `currency`.
    /// More fraction digits than the currency has are refused rather than rounded.
    pub fn parse_decimal(input: &str, currency: Currency) -> Result<Money, MoneyError> {
        let invalid = || MoneyError::InvalidAmount(input.chars().take(32).collect());
        let s = input.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let digits = digits.replace(',', ".");
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits.as_str(), ""),
        };
        let exp = currency.exponent() as usize;
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > exp {
            return Err(invalid());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(invalid());
        }
        let scale = 10_i64
            .checked_pow(currency.exponent())
            .ok_or(MoneyError::Overflow)?;
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let frac_padded = format!("{frac:0<exp$}");
        let frac: i64 = if exp == 0 {
            0
        } else {
            frac_padded.parse().map_err(|_| invalid())?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|m| m.checked_add(frac))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    /// The amount as a plain decimal without symbol, e.g. `19.99` (what a form field shows).
    pub fn to_decimal_string(self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// Digits with a comma between each group of three (`1234567` → `1,234,567`).
pub fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}

/// A count for people to read: `-1,234,567`.
pub fn count_text(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(&n.unsigned_abs().to_string()))
}

impl fmt::Display for Money {
    /// `€19.99`, `$1,234.50`, `CHF 12.00`: the symbol first, thousands grouped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.to_decimal_string();
        let (sign, unsigned) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (whole, frac) = match unsigned.split_once('.') {
            Some((w, fr)) => (w, Some(fr)),
            None => (unsigned, None),
        };
        let grouped = group_thousands(whole);
        let prefix = match self.currency.symbol() {
            Some(sym) => sym.to_owned(),
            None => format!("{} ", self.currency.code()),
        };
        match frac {
            Some(fr) => write!(f, "{sign}{prefix}{grouped}.{fr}"),
            None => write!(f, "{sign}{prefix}{grouped}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EUR: Currency = Currency::Eur;

    #[test]
    fn displays_with_symbol_and_grouping() {
        assert_eq!(Money::new(1999, EUR).to_string(), "€19.99");
        assert_eq!(
            Money::new(123_456_789, Currency::Usd).to_string(),
            "$1,234,567.89"
        );
        assert_eq!(Money::new(5, EUR).to_string(), "€0.05");
        assert_eq!(count_text(37_611), "37,611");
        assert_eq!(count_text(-1_000), "-1,000");
        assert_eq!(count_text(999), "999");
        assert_eq!(Money::new(-1050, EUR).to_string(), "-€10.50");
        assert_eq!(Money::new(1200, Currency::Chf).to_string(), "CHF 12.00");
        assert_eq!(Money::new(1500, Currency::Jpy).to_string(), "¥1,500");
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(
            Money::parse_decimal("19.99", EUR),
            Ok(Money::new(1999, EUR))
        );
        assert_eq!(
            Money::parse_decimal(" 19,9 ", EUR),
            Ok(Money::new(1990, EUR))
        );
        assert_eq!(Money::parse_decimal("20", EUR), Ok(Money::new(2000, EUR)));
        assert_eq!(
            Money::parse_decimal("1500", Currency::Jpy),
            Ok(Money::new(1500, Currency::Jpy))
        );
        for bad in ["", "abc", "1.999", "1.", ".5", "1e3", "--1", "1.2.3", "١٢"] {
            assert!(
                Money::parse_decimal(bad, EUR).is_err(),
                "{bad:?} must be refused"
            );
        }
        assert_eq!(
            Money::parse_decimal("99999999999999999999", EUR),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        let eur = Money::new(100, EUR);
        let usd = Money::new(100, Currency::Usd);
        assert_eq!(
            eur.checked_add(usd),
            Err(MoneyError::CurrencyMismatch(EUR, Currency::Usd))
        );
        assert_eq!(
            Money::new(i64::MAX, EUR).checked_add(eur),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::new(i64::MAX / 2 + 1, EUR).checked_mul(2),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Money::sum(EUR, [eur, eur, eur]), Ok(Money::new(300, EUR)));
    }

    #[test]
    fn currency_codes_round_trip_through_serde() {
        let json = serde_json::to_string(&Money::new(1, Currency::Gbp)).unwrap();
        assert_eq!(json, r#"{"minor":1,"currency":"GBP"}"#);
        assert_eq!(
            serde_json::from_str::<Money>(&json).unwrap(),
            Money::new(1, Currency::Gbp)
        );
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"XXX"}"#).is_err());
    }

    proptest! {
        #[test]
        fn decimal_string_round_trips(minor in -1_000_000_000_000_i64..1_000_000_000_000, c in 0usize..6) {
            let currency = Currency::ALL[c];
            let m = Money::new(minor, currency);
            prop_assert_eq!(Money::parse_decimal(&m.to_decimal_string(), currency), Ok(m));
        }

        #[test]
        fn addition_is_commutative_and_subtraction_undoes_it(a in -1_000_000_000_i64..1_000_000_000, b in -1_000_000_000_i64..1_000_000_000) {
            let (x, y) = (Money::new(a, EUR), Money::new(b, EUR));
            prop_assert_eq!(x.checked_add(y), y.checked_add(x));
            prop_assert_eq!(x.checked_add(y).and_then(|s| s.checked_sub(y)), Ok(x));
        }

        #[test]
        fn multiplication_never_wraps(a in any::<i64>(), q in any::<i64>()) {
            let r = Money::new(a, EUR).checked_mul(q);
            match a.checked_mul(q) {
                Some(v) => prop_assert_eq!(r, Ok(Money::new(v, EUR))),
                None => prop_assert_eq!(r, Err(MoneyError::Overflow)),
            }
        }
    }
}
