//! What every checkout test starts from: a catalog with a tee (S: 5 units, M: 200) and a
//! lamp with its last 5 units, the default shipping methods, and the checkout paying
//! through the offline provider.

use std::sync::Arc;

use cart::{CartId, Quantity};
use checkout::payment::{
    OfflineProvider, PaymentSession, ProviderError, ProviderRefund, ProviderRefundStatus,
    RefundRequest, SavedCard, SessionRequest, SessionState,
};
use checkout::shipping::{self, ShippingMethodId};
use checkout::{Checkout, Keys, PaymentProvider, PlaceOrder, Placed, PostalAddress, Settings};
use shop_core::{Clock, Db, Email};
use shop_testkit::Scratch;

const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":200,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
{"sku":"LAMP-1","name":"Harbour Lamp","slug":"harbour-lamp","description":"Brass.","category":"Home > Lighting","price_minor":8900,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
"#;

pub const BASE: &str = "http://shop.test";
pub const COUNTRIES: &[&str] = &["DE", "FR", "GB", "US"];

pub struct Shop {
    pub db: Db,
    pub clock: Clock,
    pub checkout: Checkout,
    pub standard: ShippingMethodId,
    pub express: ShippingMethodId,
    pub _scratch: Scratch,
}

pub async fn setup() -> Shop {
    let (db, scratch) = shop_testkit::fresh_db().await;
    let clock = Clock::shifted();
    shop_testkit::catalog::import(&db, &clock, CATALOG).await;
    shipping::ensure_defaults(&db, &clock, shop_core::Currency::Eur, COUNTRIES)
        .await
        .expect("shipping defaults");
    let methods = shipping::all(&db).await.unwrap();
    let checkout = restart(&db, &clock).await;
    Shop {
        standard: methods[0].id.clone(),
        express: methods[1].id.clone(),
        db,
        clock,
        checkout,
        _scratch: scratch,
    }
}

/// The checkout as a fresh process builds it over the same database.
pub async fn restart(db: &Db, clock: &Clock) -> Checkout {
    let provider = Arc::new(OfflineProvider::new(db.clone(), clock.clone(), BASE));
    with_provider(db, clock, provider).await
}

/// The same, with the offline provider acting as a remote one (as Stripe is): a session is
/// opened only after its order has committed, in a step of its own.
pub async fn restart_remote(db: &Db, clock: &Clock) -> Checkout {
    let provider = Arc::new(Remote(OfflineProvider::new(
        db.clone(),
        clock.clone(),
        BASE,
    )));
    with_provider(db, clock, provider).await
}

async fn with_provider(db: &Db, clock: &Clock, provider: Arc<dyn PaymentProvider>) -> Checkout {
    let keys = Keys::load(db, clock).await.expect("keys");
    Checkout::new(
        db.clone(),
        clock.clone(),
        provider,
        Settings::new(BASE),
        keys,
    )
}

/// The offline provider without [`PaymentProvider::create_session_into`]: it opens its
/// sessions the way a provider behind an API does.
pub struct Remote(OfflineProvider);

#[async_trait::async_trait]
impl PaymentProvider for Remote {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<PaymentSession, ProviderError> {
        self.0.create_session(req).await
    }

    async fn session_state(&self, id: &str) -> Result<SessionState, ProviderError> {
        self.0.session_state(id).await
    }

    async fn expire_session(&self, id: &str) -> Result<SessionState, ProviderError> {
        self.0.expire_session(id).await
    }

    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        self.0.refund(req).await
    }

    async fn refund_state(&self, id: &str) -> Result<ProviderRefund, ProviderError> {
        self.0.refund_state(id).await
    }

    async fn create_customer(
        &self,
        email: &str,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        self.0
            .create_customer(email, user_id, idempotency_key)
            .await
    }

    async fn cards(&self, customer: &str) -> Result<Vec<SavedCard>, ProviderError> {
        self.0.cards(customer).await
    }

    async fn remove_card(&self, customer: &str, card: &str) -> Result<bool, ProviderError> {
        self.0.remove_card(customer, card).await
    }
}

/// How [`Flaky`] answers refund requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refunds {
    /// As the offline provider does (accepted, confirmed by its event).
    Work,
    /// Accepted, then declined (Stripe's `status: failed`).
    Decline,
    /// Refused outright (Stripe answers 400).
    Refuse,
    /// The provider cannot be reached.
    Unreachable,
    /// Accepted as pending, and its outcome never sent (a lost event).
    Silent,
}

/// The offline provider whose refunds can be made to fail; counts the refund requests.
pub struct Flaky {
    inner: OfflineProvider,
    pub mode: std::sync::Mutex<Refunds>,
    pub asked: std::sync::Mutex<Vec<RefundRequest>>,
}

#[async_trait::async_trait]
impl PaymentProvider for Flaky {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<PaymentSession, ProviderError> {
        self.inner.create_session(req).await
    }

    async fn session_state(&self, id: &str) -> Result<SessionState, ProviderError> {
        self.inner.session_state(id).await
    }

    async fn expire_session(&self, id: &str) -> Result<SessionState, ProviderError> {
        self.inner.expire_session(id).await
    }

    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        self.asked.lock().unwrap().push(req.clone());
        let mode = *self.mode.lock().unwrap();
        match mode {
            Refunds::Work => self.inner.refund(req).await,
            Refunds::Decline => Ok(ProviderRefund {
                id: format!("re_declined_{}", req.refund_id.replace('-', "")),
                status: ProviderRefundStatus::Failed,
                failure: Some("expired_or_canceled_card".to_owned()),
            }),
            Refunds::Refuse => Err(ProviderError::Refused(
                "Charge has already been refunded (400)".to_owned(),
            )),
            Refunds::Unreachable => Err(ProviderError::Unavailable("connection reset".to_owned())),
            Refunds::Silent => Ok(ProviderRefund {
                id: format!("re_silent_{}", req.refund_id.replace('-', "")),
                status: ProviderRefundStatus::Pending,
                failure: None,
            }),
        }
    }

    /// A silent refund stands as the mode now says: pending while silent, then made or
    /// declined.
    async fn refund_state(&self, id: &str) -> Result<ProviderRefund, ProviderError> {
        if !id.starts_with("re_silent_") {
            return self.inner.refund_state(id).await;
        }
        let status = match *self.mode.lock().unwrap() {
            Refunds::Silent => ProviderRefundStatus::Pending,
            Refunds::Decline => ProviderRefundStatus::Failed,
            _ => ProviderRefundStatus::Succeeded,
        };
        Ok(ProviderRefund {
            id: id.to_owned(),
            status,
            failure: (status == ProviderRefundStatus::Failed)
                .then(|| "expired_or_canceled_card".to_owned()),
        })
    }

    async fn create_customer(
        &self,
        email: &str,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        self.inner
            .create_customer(email, user_id, idempotency_key)
            .await
    }

    async fn cards(&self, customer: &str) -> Result<Vec<SavedCard>, ProviderError> {
        self.inner.cards(customer).await
    }

    async fn remove_card(&self, customer: &str, card: &str) -> Result<bool, ProviderError> {
        self.inner.remove_card(customer, card).await
    }
}

/// The checkout over `shop`'s database with a [`Flaky`] provider.
pub async fn flaky(shop: &Shop) -> (Checkout, Arc<Flaky>) {
    let provider = Arc::new(Flaky {
        inner: OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE),
        mode: std::sync::Mutex::new(Refunds::Work),
        asked: std::sync::Mutex::new(Vec::new()),
    });
    (
        with_provider(&shop.db, &shop.clock, provider.clone()).await,
        provider,
    )
}

pub fn address() -> PostalAddress {
    PostalAddress {
        full_name: "Ada Lovelace".to_owned(),
        line1: "12 Harbour Street".to_owned(),
        city: "Berlin".to_owned(),
        postal_code: "10115".to_owned(),
        country: "DE".to_owned(),
        ..PostalAddress::default()
    }
}

pub fn email() -> Email {
    Email::parse("ada@example.com").unwrap()
}

/// A guest cart holding these SKUs and quantities.
pub async fn cart_with(shop: &Shop, items: &[(&str, i64)]) -> CartId {
    let cart = cart::create_guest(&shop.db, &shop.clock).await.unwrap();
    for (sku, n) in items {
        add_to(shop, &cart, sku, *n).await;
    }
    cart
}

/// Adds `n` units of `sku` to `cart`.
pub async fn add_to(shop: &Shop, cart: &CartId, sku: &str, n: i64) {
    let v = shop_testkit::variant_id(&shop.db, sku).await;
    cart::add(&shop.db, &shop.clock, cart, &v, Quantity::new(n).unwrap())
        .await
        .unwrap();
}

/// What the review page would submit for `cart` with Standard shipping.
pub async fn order_form(shop: &Shop, cart: &CartId) -> PlaceOrder {
    let review = shop
        .checkout
        .review(cart, &email(), &address(), None, &shop.standard)
        .await
        .expect("review");
    PlaceOrder {
        cart: cart.clone(),
        customer: None,
        email: email(),
        shipping_address: address(),
        billing_address: None,
        shipping_method: shop.standard.clone(),
        reviewed: review.fingerprint,
        idempotency_key: shop_core::id::new_uuid_v7(),
    }
}

/// Reviews and places an order for `cart`.
pub async fn place(shop: &Shop, cart: &CartId) -> Placed {
    let form = order_form(shop, cart).await;
    shop.checkout.place(&form).await.expect("place the order")
}

/// The offline session id in a payment URL.
pub fn session_of(placed: &Placed) -> String {
    placed.payment_url.rsplit('/').next().unwrap().to_owned()
}

/// Pays an order on the offline page (the event reaches the webhook code).
pub async fn pay(shop: &Shop, placed: &Placed) {
    let provider = OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE);
    let session = provider
        .choose(
            &session_of(placed),
            checkout::payment::OfflineChoice::Pay,
            false,
        )
        .await
        .unwrap()
        .expect("an open session");
    shop.checkout
        .deliver_offline("checkout.session.completed", &session)
        .await
        .expect("the webhook takes it");
}

pub async fn reserved(db: &Db, sku: &str) -> i64 {
    shop_testkit::count(
        db,
        &format!("SELECT reserved FROM product_variants WHERE sku = '{sku}'"),
    )
    .await
}

pub async fn on_hand(db: &Db, sku: &str) -> i64 {
    shop_testkit::count(
        db,
        &format!("SELECT on_hand FROM product_variants WHERE sku = '{sku}'"),
    )
    .await
}

pub async fn status(shop: &Shop, placed: &Placed) -> checkout::OrderStatus {
    checkout::place::status(&shop.db, &placed.order_id)
        .await
        .unwrap()
}
