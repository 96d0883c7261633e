//! Payment providers: one trait; [`crate::stripe::StripeProvider`] (Stripe Checkout
//! Sessions) when Stripe keys are configured, [`OfflineProvider`] (the shop's own payment page, for development, demos and tests)
//! otherwise. Either way the shopper pays on a hosted page and the order becomes paid only
//! through a signed event at the webhook.

use shop_core::db::Conn;
use shop_core::{Batch, Clock, Currency, Db, Money, OrderId};
use sqlx::Row;

/// What the shop asks the provider to collect.
#[derive(Clone, Debug)]
pub struct SessionRequest {
    pub order_id: OrderId,
    /// "HS-10042", shown on the payment page.
    pub order_number: String,
    pub email: String,
    pub currency: Currency,
    /// Name, unit price and quantity of each line, then shipping as a line of its own.
    pub lines: Vec<(String, Money, i64)>,
    /// The order's total; the lines add up to it.
    pub total: Money,
    /// Seconds since the epoch when the session stops accepting payment.
    pub expires_at: i64,
    pub success_url: String,
    pub cancel_url: String,
    /// The same key for every attempt for one order: a retry never opens a second session.
    pub idempotency_key: String,
    /// The signed-in shopper's customer at the provider: the payment page then offers to
    /// save the card for next time. `None` for a guest.
    pub customer: Option<String>,
}

/// A card the provider keeps for a customer, as the shop may show it: never the number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedCard {
    /// The provider's payment method id (`pm_...`).
    pub id: String,
    /// `visa`, `mastercard`, ... as the provider names it.
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// A session the provider opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSession {
    pub id: String,
    /// Where to send the shopper.
    pub url: String,
}

/// A session's state as the provider reports it (Stripe's `status` and `payment_status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub id: String,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: String,
    pub amount_total: Option<i64>,
    /// Lower-case ISO code, as Stripe writes it.
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
}

/// Money the shop asks the provider to give back.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    /// The payment to refund (Stripe's PaymentIntent id).
    pub payment_intent: String,
    pub amount: Money,
    pub order_id: OrderId,
    /// The shop's own id for the refund, sent as metadata so its events find it.
    pub refund_id: String,
    /// The same key for every attempt at one refund: a retry never refunds twice.
    pub idempotency_key: String,
}

/// Where a refund stands at the provider (Stripe's `status`: `pending`, `requires_action`
/// and `succeeded`, `failed`, `canceled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderRefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl ProviderRefundStatus {
    /// Stripe's word for it.
    pub fn parse(s: &str) -> ProviderRefundStatus {
        match s {
            "succeeded" => ProviderRefundStatus::Succeeded,
            "failed" | "canceled" => ProviderRefundStatus::Failed,
            _ => ProviderRefundStatus::Pending,
        }
    }
}

/// A refund the provider accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRefund {
    pub id: String,
    pub status: ProviderRefundStatus,
    /// Why it failed, when it did.
    pub failure: Option<String>,
}

/// The provider could not be reached or refused the request.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("payment provider unreachable: {0}")]
    Unavailable(String),
    #[error("payment provider refused the request: {0}")]
    Refused(String),
    #[error("no such payment session")]
    UnknownSession,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A payment provider.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// `stripe` or `offline`.
    fn name(&self) -> &'static str;

    /// Opens a hosted payment session (the same one again for the same idempotency key).
    async fn create_session(&self, req: &SessionRequest) -> Result<PaymentSession, ProviderError>;

    /// Opens the session as a statement of the caller's [`Batch`] (inside its transaction,
    /// changing one row) when the provider keeps its sessions in the shop's own database
    /// (the offline provider): an order and its session are then written in one commit.
    /// `None` for a provider behind an API (Stripe), whose session the shop opens once the
    /// order has committed.
    fn create_session_into(
        &self,
        _batch: &mut Batch,
        _req: &SessionRequest,
    ) -> Option<PaymentSession> {
        None
    }

    /// A session's current state.
    async fn session_state(&self, id: &str) -> Result<SessionState, ProviderError>;

    /// Closes an open session so it can no longer be paid; returns its state afterwards (a
    /// session already completed stays complete: the shopper has paid).
    async fn expire_session(&self, id: &str) -> Result<SessionState, ProviderError>;

    /// Gives money back on a payment (the same refund again for the same idempotency key).
    /// The refund may still be pending: its events confirm it.
    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, ProviderError>;

    /// A refund's current state (for one whose events were lost).
    async fn refund_state(&self, id: &str) -> Result<ProviderRefund, ProviderError>;

    /// Creates the provider's customer for a shop account (the same one again for the same
    /// idempotency key); returns its id.
    async fn create_customer(
        &self,
        email: &str,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ProviderError>;

    /// The cards `customer` saved, newest first.
    async fn cards(&self, customer: &str) -> Result<Vec<SavedCard>, ProviderError>;

    /// Removes card `card` from `customer`; false when `customer` has no such card.
    async fn remove_card(&self, customer: &str, card: &str) -> Result<bool, ProviderError>;
}

/// The offline provider: its sessions live in the shop's database and its page is
/// `/pay/offline/{session}`, where "Pay", "Decline" and "Cancel" send Stripe-shaped signed
/// events to the shop's own webhook (see [`crate::webhook::offline_event`]).
#[derive(Clone, Debug)]
pub struct OfflineProvider {
    db: Db,
    clock: Clock,
    base_url: String,
}

impl OfflineProvider {
    pub fn new(db: Db, clock: Clock, base_url: impl Into<String>) -> Self {
        Self {
            db,
            clock,
            base_url: base_url.into(),
        }
    }
}

/// An offline session, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OfflineSession {
    pub id: String,
    pub order_id: String,
    pub order_number: String,
    pub email: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub payment_status: String,
    pub success_url: String,
    pub cancel_url: String,
    pub expires_at: i64,
    /// Set for a signed-in shopper: the page offers to save the card.
    pub customer_id: Option<String>,
}

impl OfflineSession {
    pub fn amount(&self) -> Option<Money> {
        self.currency
            .parse::<Currency>()
            .ok()
            .map(|c| Money::new(self.amount_minor, c))
    }

    fn state(&self) -> SessionState {
        SessionState {
            id: self.id.clone(),
            status: self.status.clone(),
            payment_status: self.payment_status.clone(),
            amount_total: Some(self.amount_minor),
            currency: Some(self.currency.to_lowercase()),
            payment_intent: (self.payment_status == "paid").then(|| format!("pi_{}", self.id)),
        }
    }
}

const OFFLINE_COLUMNS: &str = "id, order_id, order_number, email, amount_minor, currency, status,
    payment_status, success_url, cancel_url, expires_at, customer_id";

/// An offline session by id (`None` for an unknown or malformed id).
pub async fn offline_session(db: &Db, id: &str) -> Result<Option<OfflineSession>, sqlx::Error> {
    if id.len() > 100 || !id.starts_with("cs_offline_") {
        return Ok(None);
    }
    sqlx::query_as(&format!(
        "SELECT {OFFLINE_COLUMNS} FROM offline_payment_sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await
}

/// The ids of the offline provider's refunds start with this.
pub const OFFLINE_REFUND_PREFIX: &str = "re_offline_";

/// What the shopper chose on the offline page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfflineChoice {
    Pay,
    Decline,
    Cancel,
}

impl OfflineProvider {
    /// Opens a session on `conn` (the one already opened for the same idempotency key, if
    /// any).
    async fn open(
        &self,
        conn: &mut Conn,
        req: &SessionRequest,
    ) -> Result<PaymentSession, ProviderError> {
        // The first request with this key made the session; a retry gets that one.
        let mut batch = Batch::new(conn);
        self.open_into(
            &mut batch,
            req,
            " ON CONFLICT (idempotency_key)
                 DO UPDATE SET idempotency_key = excluded.idempotency_key
              RETURNING id",
        );
        let id: String = batch
            .fetch_all(conn)
            .await?
            .first()
            .ok_or(sqlx::Error::RowNotFound)?
            .try_get("id")?;
        Ok(PaymentSession {
            url: self.session_url(&id),
            id,
        })
    }

    fn session_url(&self, id: &str) -> String {
        format!("{}/pay/offline/{id}", self.base_url)
    }

    /// Adds the insert of a new session for `req` to `batch`, followed by `tail` (a conflict
    /// clause); the session it would be.
    fn open_into(&self, batch: &mut Batch, req: &SessionRequest, tail: &str) -> PaymentSession {
        let id = format!(
            "cs_offline_{}",
            shop_core::id::new_uuid_v7().replace('-', "")
        );
        batch
            .add(&format!(
                "INSERT INTO offline_payment_sessions (id, idempotency_key, order_id, order_number,
                        email, amount_minor, currency, status, payment_status, success_url,
                        cancel_url, expires_at, created_at, customer_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 'unpaid', $8, $9, $10, $11, $12){tail}"
            ))
            .bind(id.clone())
            .bind(req.idempotency_key.clone())
            .bind(req.order_id.as_str().to_owned())
            .bind(req.order_number.clone())
            .bind(req.email.clone())
            .bind(req.total.minor())
            .bind(req.currency.code())
            .bind(req.success_url.clone())
            .bind(req.cancel_url.clone())
            .bind(req.expires_at)
            .bind(self.clock.now().millis())
            .bind(req.customer.clone());
        PaymentSession {
            url: self.session_url(&id),
            id,
        }
    }

    /// Applies the shopper's choice to an open session: paying completes it (if it has not
    /// expired), declining or cancelling expires it. Paying with `save_card` on a session
    /// for a customer keeps a (simulated) card for that customer, as Stripe would. Returns
    /// the session afterwards, or `None` when it was no longer open (paid in another tab,
    /// expired).
    pub async fn choose(
        &self,
        id: &str,
        choice: OfflineChoice,
        save_card: bool,
    ) -> Result<Option<OfflineSession>, ProviderError> {
        let now = self.clock.now().millis() / 1000;
        let query = match choice {
            OfflineChoice::Pay => sqlx::query(
                "UPDATE offline_payment_sessions SET status = 'complete', payment_status = 'paid'
                 WHERE id = $1 AND status = 'open' AND expires_at > $2",
            )
            .bind(id)
            .bind(now),
            OfflineChoice::Decline | OfflineChoice::Cancel => sqlx::query(
                "UPDATE offline_payment_sessions SET status = 'expired'
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(id),
        };
        let mut tx = self.db.begin().await?;
        let changed = query.execute(&mut *tx).await?.rows_affected();
        if changed == 1 && choice == OfflineChoice::Pay && save_card {
            // The test card every offline payment uses, expiring in three years.
            let year = self.clock.now().to_rfc3339()[..4]
                .parse::<i64>()
                .unwrap_or(2026)
                + 3;
            sqlx::query(
                "INSERT INTO offline_payment_methods (id, customer_id, brand, last4, exp_month,
                        exp_year, created_at)
                 SELECT $1, customer_id, 'visa', '4242', 12, $2, $3
                 FROM offline_payment_sessions WHERE id = $4 AND customer_id IS NOT NULL",
            )
            .bind(format!(
                "pm_offline_{}",
                shop_core::id::new_uuid_v7().replace('-', "")
            ))
            .bind(year)
            .bind(self.clock.now().millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(offline_session(&self.db, id).await?)
    }
}

#[async_trait::async_trait]
impl PaymentProvider for OfflineProvider {
    fn name(&self) -> &'static str {
        "offline"
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<PaymentSession, ProviderError> {
        let mut tx = self.db.begin().await?;
        let session = self.open(&mut tx, req).await?;
        tx.commit().await?;
        Ok(session)
    }

    fn create_session_into(
        &self,
        batch: &mut Batch,
        req: &SessionRequest,
    ) -> Option<PaymentSession> {
        // A new order's key: no session has it yet.
        Some(self.open_into(batch, req, ""))
    }

    async fn session_state(&self, id: &str) -> Result<SessionState, ProviderError> {
        let s = offline_session(&self.db, id)
            .await?
            .ok_or(ProviderError::UnknownSession)?;
        // Past its end an open session no longer takes payment, as at Stripe.
        if s.status == "open" && s.expires_at <= self.clock.now().millis() / 1000 {
            return self.expire_session(id).await;
        }
        Ok(s.state())
    }

    /// Offline refunds are accepted as pending; the checkout then confirms them with a
    /// signed `refund.updated` event through its webhook, as Stripe would
    /// ([`crate::Checkout::refund`]). The id follows from the idempotency key, so a retry
    /// names the same refund.
    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        if !req.payment_intent.starts_with("pi_cs_offline_") {
            return Err(ProviderError::Refused(format!(
                "no such offline payment: {}",
                req.payment_intent
            )));
        }
        if req.amount.minor() <= 0 {
            return Err(ProviderError::Refused(
                "a refund must be a positive amount".to_owned(),
            ));
        }
        let key: String = req
            .idempotency_key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Ok(ProviderRefund {
            id: format!("{OFFLINE_REFUND_PREFIX}{key}"),
            status: ProviderRefundStatus::Pending,
            failure: None,
        })
    }

    /// Offline refunds always go through (their confirming event is the shop's own).
    async fn refund_state(&self, id: &str) -> Result<ProviderRefund, ProviderError> {
        if !id.starts_with(OFFLINE_REFUND_PREFIX) {
            return Err(ProviderError::Refused(format!(
                "no such offline refund: {id}"
            )));
        }
        Ok(ProviderRefund {
            id: id.to_owned(),
            status: ProviderRefundStatus::Succeeded,
            failure: None,
        })
    }

    async fn create_customer(
        &self,
        _email: &str,
        _user_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let key: String = idempotency_key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Ok(format!("cus_offline_{key}"))
    }

    async fn cards(&self, customer: &str) -> Result<Vec<SavedCard>, ProviderError> {
        #[derive(sqlx::FromRow)]
        struct Card {
            id: String,
            brand: String,
            last4: String,
            exp_month: i64,
            exp_year: i64,
        }
        let cards: Vec<Card> = sqlx::query_as(
            "SELECT id, brand, last4, exp_month, exp_year FROM offline_payment_methods
             WHERE customer_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(customer)
        .fetch_all(self.db.reader())
        .await?;
        Ok(cards
            .into_iter()
            .map(|c| SavedCard {
                id: c.id,
                brand: c.brand,
                last4: c.last4,
                exp_month: c.exp_month,
                exp_year: c.exp_year,
            })
            .collect())
    }

    async fn remove_card(&self, customer: &str, card: &str) -> Result<bool, ProviderError> {
        let mut tx = self.db.begin().await?;
        let removed =
            sqlx::query("DELETE FROM offline_payment_methods WHERE id = $1 AND customer_id = $2")
                .bind(card)
                .bind(customer)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(removed == 1)
    }

    async fn expire_session(&self, id: &str) -> Result<SessionState, ProviderError> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE offline_payment_sessions SET status = 'expired' WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        offline_session(&self.db, id)
            .await?
            .map(|s| s.state())
            .ok_or(ProviderError::UnknownSession)
    }
}
