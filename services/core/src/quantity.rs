//! Values parsed once at the edge: a [`Quantity`] of one item and a [`Sku`]. Code past the
//! edge takes these types, so it never re-checks (or forgets to check) the rules.

use std::fmt;

/// How many units of one item a cart line or an order line holds: 1 to [`Quantity::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// A number that is not a quantity of 1 to 99.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Choose a quantity from 1 to {}.", Quantity::MAX)]
pub struct BadQuantity;

impl Quantity {
    /// Most units of one item in a cart or an order.
    pub const MAX: i64 = 99;

    /// A quantity from a number (1 to [`Quantity::MAX`]).
    pub fn new(units: i64) -> Result<Quantity, BadQuantity> {
        if (1..=Self::MAX).contains(&units) {
            Ok(Quantity(units))
        } else {
            Err(BadQuantity)
        }
    }

    /// A quantity as typed in a form: a whole number from 1 to [`Quantity::MAX`].
    pub fn parse(text: &str) -> Result<Quantity, BadQuantity> {
        text.trim()
            .parse::<i64>()
            .map_err(|_| BadQuantity)
            .and_then(Quantity::new)
    }

    /// The number of units.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stock-keeping unit: 1-64 ASCII letters, digits, '-', '_' or '.', as typed without the
/// surrounding spaces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);

/// Text that is not a SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The SKU needs 1-64 letters, digits, '-', '_' or '.'.")]
pub struct BadSku;

impl Sku {
    /// Longest SKU.
    pub const MAX_LEN: usize = 64;

    pub fn parse(text: &str) -> Result<Sku, BadSku> {
        let sku = text.trim();
        let valid = !sku.is_empty()
            && sku.len() <= Self::MAX_LEN
            && sku
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(Sku(sku.to_owned()))
        } else {
            Err(BadSku)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_one_to_ninety_nine() {
        assert_eq!(Quantity::parse(" 3 ").map(Quantity::get), Ok(3));
        assert_eq!(Quantity::parse("99").map(Quantity::get), Ok(99));
        for bad in ["0", "100", "-1", "", "2.5", "1e3", "9999999999999999999999"] {
            assert_eq!(Quantity::parse(bad), Err(BadQuantity), "{bad:?}");
        }
    }

    #[test]
    fn skus_are_short_plain_ascii() {
        assert_eq!(
            Sku::parse("  PAN-28.cast_iron ").unwrap().as_str(),
            "PAN-28.cast_iron"
        );
        assert!(Sku::parse(&"A".repeat(64)).is_ok());
        for bad in ["", " ", "PAN 28", "PAN/28", "pän", &"A".repeat(65), "<b>"] {
            assert_eq!(Sku::parse(bad), Err(BadSku), "{bad:?}");
        }
    }
}
