//! Checkout: shipping methods, orders, stock holds and payment.
//!
//! Placing an order is one transaction: the order and its lines (copies of what was bought,
//! at the price the shop computed), a hold on every unit (one conditional update per line,
//! so no unit is sold twice), the cart marked as being checked out, and an `order.placed`
//! event. Payment happens on the provider's hosted page ([`payment::PaymentProvider`]:
//! Stripe Checkout, or the shop's own offline page); an order becomes paid only from a
//! provider event ([`webhook`]), verified, recorded once in an inbox and applied through the
//! one state machine ([`orders::OrderStatus`]). Holds end when the payment window closes
//! ([`lapse`]), exactly once, and a reconciler asks the provider about orders whose event
//! never came.
//!
//! Modules: [`shipping`] (the methods staff manage), [`pricing`] (a cart's quote: lines,
//! shipping, VAT, total), [`place`] (placing an order and starting its payment),
//! [`orders`] (reading orders, the state machine and history), [`payment`] (the provider
//! trait and its offline implementation), [`stripe`] (Stripe Checkout), [`webhook`]
//! (signatures and provider events), [`lapse`] (expiry and reconciliation), [`keys`] (the
//! checkout's own secrets, and guests' signed order links).

pub mod cards;
pub mod fulfil;
pub mod history;
pub mod keys;
pub mod lapse;
pub mod orders;
pub mod payment;
pub mod place;
pub mod pricing;
pub mod refund;
pub mod shipping;
pub mod stripe;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use shop_core::{Clock, Db, Money};

pub use fulfil::{Operator, ShipItems};
pub use keys::Keys;
pub use orders::{
    Fulfilment, Order, OrderLine, OrderStatus, OrderSummary, PostalAddress, Refund, RefundStatus,
    Shipment,
};
pub use payment::{PaymentProvider, ProviderError};
pub use place::{PlaceOrder, Placed};
pub use pricing::Quote;
pub use refund::{RefundItems, RefundLine};
pub use shipping::{ShippingMethod, ShippingMethodId};
pub use shop_core::OrderId;

/// Events this crate writes to the outbox.
pub const ORDER_PLACED: &str = "order.placed";
pub const ORDER_PAID: &str = "order.paid";
pub const ORDER_SHIPPED: &str = "order.shipped";
pub const ORDER_DELIVERED: &str = "order.delivered";
pub const ORDER_CANCELLED: &str = "order.cancelled";
pub const ORDER_REFUNDED: &str = "order.refunded";
/// Staff should look at an order (a payment that does not match, a refund gone wrong).
pub const ORDER_FLAGGED: &str = "order.flagged";

/// Shop-wide checkout settings from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// VAT included in every price, in basis points (2000 = 20%).
    pub vat_rate_bp: i64,
    /// How long a placed order holds its units while the shopper pays
    /// (`CHECKOUT_HOLD_MINUTES`); also the payment session's lifetime.
    pub hold: Duration,
    /// How long after its payment window closes an unpaid order is checked with the provider
    /// and, if still unpaid, expired.
    pub grace: Duration,
    /// Public base URL without a trailing slash (return URLs, links in mail).
    pub base_url: String,
    /// Webhook signing secrets accepted besides the offline provider's own
    /// (`STRIPE_WEBHOOK_SECRETS`, several while rotating).
    pub webhook_secrets: Vec<String>,
}

impl Settings {
    /// Settings with the documented defaults: 20% VAT, a 30-minute hold, 2 minutes' grace.
    pub fn new(base_url: impl Into<String>) -> Settings {
        Settings {
            vat_rate_bp: 2000,
            hold: Duration::from_secs(30 * 60),
            grace: Duration::from_secs(2 * 60),
            base_url: base_url.into(),
            webhook_secrets: Vec::new(),
        }
    }
}

/// Where a test may stop the checkout as if the process had died there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPoint {
    /// The order committed; no payment session was asked for yet.
    AfterOrderCommitted,
    /// The provider created the session; its id is not saved on the order yet.
    AfterSessionCreated,
}

/// The checkout service. Cheap to clone.
#[derive(Clone)]
pub struct Checkout {
    db: Db,
    clock: Clock,
    provider: Arc<dyn PaymentProvider>,
    settings: Arc<Settings>,
    keys: Arc<Keys>,
    fail_at: Option<FailPoint>,
    /// The last order number given out (SQLite), to number the next one without a round
    /// trip of its own.
    numbers: Arc<place::LastNumber>,
}

impl std::fmt::Debug for Checkout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout")
            .field("provider", &self.provider.name())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Checkout {
    /// The checkout over `db`, paying through `provider`. `keys` come from [`Keys::load`].
    pub fn new(
        db: Db,
        clock: Clock,
        provider: Arc<dyn PaymentProvider>,
        settings: Settings,
        keys: Keys,
    ) -> Checkout {
        Checkout {
            db,
            clock,
            provider,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            fail_at: None,
            numbers: Arc::default(),
        }
    }

    /// Tests only: stops every placing at `point` as if the process had died there.
    pub fn failing_at(mut self, point: FailPoint) -> Checkout {
        self.fail_at = Some(point);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The payment provider orders are paid through.
    pub fn provider(&self) -> &dyn PaymentProvider {
        self.provider.as_ref()
    }

    fn trip(&self, point: FailPoint) -> Result<(), CheckoutError> {
        if self.fail_at == Some(point) {
            return Err(CheckoutError::Interrupted(point));
        }
        Ok(())
    }
}

/// What went wrong, in words fit for the shopper (or the staff member).
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("Your cart is empty.")]
    EmptyCart,
    #[error("{0}")]
    CartNotReady(String),
    #[error("Sorry, {0} has just sold out. Nothing was charged; your cart is as you left it.")]
    SoldOut(String),
    #[error(
        "Prices or availability changed since you reviewed your order. Check the new total and place the order again."
    )]
    Changed,
    #[error(
        "Your cart holds items priced in different currencies; check out one currency at a time."
    )]
    MixedCurrencies,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("The total is too large.")]
    TotalTooLarge,
    #[error("We could not find that order.")]
    NotFound,
    #[error("An order that is {from} cannot become {to}.")]
    IllegalTransition { from: OrderStatus, to: OrderStatus },
    #[error("A refund of {asked} is more than the {left} that can still be refunded.")]
    RefundTooLarge { asked: Money, left: Money },
    #[error("The refund did not go through: {0}. Nothing was changed.")]
    RefundFailed(String),
    #[error(
        "This order has already been paid, or its payment is being confirmed; see your order page."
    )]
    AlreadyPaid,
    #[error("Payment is not available right now; please try again in a moment.")]
    Provider(#[from] ProviderError),
    #[error("interrupted at {0:?}")]
    Interrupted(FailPoint),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    #[error(transparent)]
    Cart(#[from] cart::CartError),
}

impl CheckoutError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CheckoutError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// True for failures of the system rather than of the request.
    pub fn is_internal(&self) -> bool {
        match self {
            CheckoutError::Db(_) | CheckoutError::Catalog(_) | CheckoutError::Interrupted(_) => {
                true
            }
            CheckoutError::Cart(e) => e.is_internal(),
            _ => false,
        }
    }
}
