//! A cart's quote: every line at the catalog's current price, shipping by the chosen
//! method, the VAT included, and the total, all computed here with checked arithmetic.
//! The review page shows a quote and carries its fingerprint; placing the order recomputes
//! it and refuses when anything changed in between.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use shop_core::{CartId, Currency, Db, Money, OrderId, ProductId, UserId, VariantId};

use crate::CheckoutError;
use crate::shipping::ShippingMethod;

/// A line of a quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteLine {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub product_name: String,
    pub slug: String,
    pub sku: String,
    pub options: Vec<(String, String)>,
    /// The cover image's content hash.
    pub image: Option<String>,
    /// The product's vendor (copied onto the order line).
    pub vendor_id: Option<UserId>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    /// The VAT included in the line total.
    pub vat: Money,
    /// The price when the shopper put it in the cart, if it has changed since.
    pub was: Option<Money>,
}

/// What an order for a cart would cost now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    pub subtotal: Money,
    /// `None` until a method is chosen.
    pub shipping: Option<Money>,
    /// The VAT included in the total (lines and shipping).
    pub vat: Money,
    pub total: Money,
    pub vat_rate_bp: i64,
    /// Lines whose price changed since they went into the cart.
    pub price_changes: Vec<String>,
}

/// The VAT included in a gross amount at `rate_bp` basis points, rounded half up to the
/// minor unit: `gross × rate / (1 + rate)`.
pub fn vat_included(gross: i64, rate_bp: i64) -> i64 {
    if gross <= 0 || rate_bp <= 0 {
        return 0;
    }
    let gross = i128::from(gross);
    let rate = i128::from(rate_bp);
    let denominator = 10_000 + rate;
    let vat = (gross * rate * 2 + denominator) / (denominator * 2);
    i64::try_from(vat).unwrap_or(i64::MAX)
}

/// "20%", "7.7%".
pub fn rate_label(rate_bp: i64) -> String {
    let whole = rate_bp / 100;
    let frac = rate_bp % 100;
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:02}").trim_end_matches('0'))
    }
}

fn too_large(_: shop_core::MoneyError) -> CheckoutError {
    CheckoutError::TotalTooLarge
}

/// Prices `cart` as it is now, with `method` for shipping when one is chosen. Refuses an
/// empty cart, a cart with lines that cannot be bought as they are (naming them) and mixed
/// currencies.
pub async fn quote(
    db: &Db,
    cart: &CartId,
    method: Option<&ShippingMethod>,
    vat_rate_bp: i64,
) -> Result<Quote, CheckoutError> {
    let pending = cart::checkout::pending_order(db, cart).await?;
    quote_pending(db, cart, pending.as_ref(), method, vat_rate_bp).await
}

/// [`quote`] for a cart whose unpaid order (if any) the caller has looked up already.
pub(crate) async fn quote_pending(
    db: &Db,
    cart: &CartId,
    pending: Option<&OrderId>,
    method: Option<&ShippingMethod>,
    vat_rate_bp: i64,
) -> Result<Quote, CheckoutError> {
    let held = crate::orders::held_by(db, pending).await?;
    let cart = cart::load_holding(db, cart, &held).await?;
    if cart.lines.is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    if let Some(gone) = cart
        .lines
        .iter()
        .find(|l| l.problem == Some(cart::Problem::OutOfStock))
    {
        return Err(CheckoutError::SoldOut(gone.item.product_name.clone()));
    }
    if !cart.ready_for_checkout {
        let names: Vec<&str> = cart
            .lines
            .iter()
            .filter(|l| l.problem.is_some())
            .map(|l| l.item.product_name.as_str())
            .collect();
        return Err(CheckoutError::CartNotReady(format!(
            "Some items in your cart cannot be bought as they are ({}). Check your cart first.",
            names.join(", ")
        )));
    }
    let currency = cart.lines[0].unit_price.currency();
    if cart
        .lines
        .iter()
        .any(|l| l.unit_price.currency() != currency)
    {
        return Err(CheckoutError::MixedCurrencies);
    }
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut price_changes = Vec::new();
    for l in cart.lines {
        if l.was.is_some() {
            price_changes.push(l.item.product_name.clone());
        }
        lines.push(QuoteLine {
            variant_id: l.item.variant_id,
            product_id: l.item.product_id,
            product_name: l.item.product_name,
            slug: l.item.slug,
            sku: l.item.sku,
            options: l.item.options,
            image: l.item.image.map(|i| i.hash),
            vendor_id: l.item.vendor_id,
            quantity: l.quantity,
            unit_price: l.unit_price,
            line_total: l.line_total,
            vat: Money::new(vat_included(l.line_total.minor(), vat_rate_bp), currency),
            was: l.was,
        });
    }
    let subtotal = Money::sum(currency, lines.iter().map(|l| l.line_total)).map_err(too_large)?;
    let shipping = match method {
        Some(m) if m.price.currency() != currency => {
            return Err(CheckoutError::invalid(
                "shipping_method",
                "That shipping method is not offered for this order.",
            ));
        }
        Some(m) => Some(m.price_for(subtotal)),
        None => None,
    };
    let shipping_amount = shipping.unwrap_or(Money::zero(currency));
    let total = subtotal.checked_add(shipping_amount).map_err(too_large)?;
    let vat = Money::sum(
        currency,
        lines
            .iter()
            .map(|l| l.vat)
            .chain(std::iter::once(Money::new(
                vat_included(shipping_amount.minor(), vat_rate_bp),
                currency,
            ))),
    )
    .map_err(too_large)?;
    Ok(Quote {
        currency,
        lines,
        subtotal,
        shipping,
        vat,
        total,
        vat_rate_bp,
        price_changes,
    })
}

impl Quote {
    /// A digest of everything the shopper agreed to on the review page: each line's variant,
    /// quantity and price, the shipping method and price, and `extra` (the addresses and the
    /// email). Placing the order recomputes it; any difference means something changed.
    pub fn fingerprint(&self, method: Option<&ShippingMethod>, extra: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.currency.code().as_bytes());
        for l in &self.lines {
            h.update(
                format!("|{}:{}:{}", l.variant_id, l.quantity, l.unit_price.minor()).as_bytes(),
            );
        }
        if let (Some(m), Some(price)) = (method, self.shipping) {
            h.update(format!("|ship:{}:{}", m.id, price.minor()).as_bytes());
        }
        h.update(format!("|vat:{}|", self.vat_rate_bp).as_bytes());
        h.update(extra.as_bytes());
        URL_SAFE_NO_PAD.encode(&h.finalize()[..18])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_the_included_share_rounded_half_up() {
        assert_eq!(vat_included(12_000, 2000), 2000);
        assert_eq!(vat_included(1999, 2000), 333); // 333.17
        assert_eq!(vat_included(1000, 1900), 160); // 159.66
        assert_eq!(vat_included(0, 2000), 0);
        assert_eq!(vat_included(5000, 0), 0);
        assert_eq!(vat_included(i64::MAX, 2000), 1_537_228_672_809_129_301);
    }

    #[test]
    fn rate_labels() {
        assert_eq!(rate_label(2000), "20%");
        assert_eq!(rate_label(770), "7.7%");
        assert_eq!(rate_label(825), "8.25%");
        assert_eq!(rate_label(0), "0%");
    }
}
