//! The end of a payment window: orders still unpaid some minutes after their session
//! should have ended are checked with the provider (the reconciler: a lost webhook never
//! loses a paid order) and otherwise expired, releasing their units exactly once.

use std::time::Duration;

use shop_core::OrderId;
use tokio::sync::watch;

use crate::orders::OrderStatus;
use crate::{Checkout, CheckoutError};

/// How often [`run`] sweeps.
const EVERY: Duration = Duration::from_secs(30);

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub paid: usize,
    pub expired: usize,
    /// Still open or processing at the provider: left for the next sweep.
    pub waiting: usize,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    payment_provider: String,
    payment_session_id: Option<String>,
}

impl Checkout {
    /// Checks every unpaid order whose payment window closed more than the grace period
    /// ago: paid at the provider → paid here; otherwise the session is closed and the
    /// order expires. An order that fails (the provider is down) is logged and tried again
    /// at the next sweep; it never holds up the others. Orders flagged for staff (a payment
    /// that does not match) are left to them.
    pub async fn sweep(&self) -> Result<Swept, CheckoutError> {
        let due_before = self.clock.now().minus(self.settings.grace).millis();
        let due: Vec<Due> = sqlx::query_as(
            "SELECT id, payment_provider, payment_session_id FROM orders
             WHERE status = 'pending_payment' AND hold_until <= $1 AND review_reason IS NULL
             ORDER BY hold_until LIMIT 500",
        )
        .bind(due_before)
        .fetch_all(self.db.reader())
        .await?;
        let mut swept = Swept::default();
        for order in due {
            let id = OrderId::from_db(order.id);
            let outcome = match self
                .settle(
                    &id,
                    &order.payment_provider,
                    order.payment_session_id.as_deref(),
                )
                .await
            {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::warn!(order.id = %id, error = %e, "could not settle an unpaid order; will retry");
                    "failed"
                }
            };
            match outcome {
                "paid" | "paid_flagged" => swept.paid += 1,
                "expired" => swept.expired += 1,
                _ => swept.waiting += 1,
            }
        }
        if swept != Swept::default() {
            tracing::info!(?swept, "payment windows swept");
        }
        Ok(swept)
    }

    /// One unpaid order past its window: asks its provider, then pays or expires it.
    async fn settle(
        &self,
        id: &OrderId,
        provider: &str,
        session: Option<&str>,
    ) -> Result<&'static str, CheckoutError> {
        let closed = "the payment window closed";
        // Never got a session (the provider was down, or a crash), or it was opened with a
        // provider the shop no longer uses: there is nobody to ask.
        let Some(session) = session.filter(|_| provider == self.provider.name()) else {
            return self
                .lapse(id, OrderStatus::Expired, closed, "sweeper")
                .await;
        };
        let state = match self.provider.session_state(session).await {
            Ok(state) if state.status == "open" => self.provider.expire_session(session).await,
            other => other,
        };
        match state {
            Ok(state) => self.apply_session(id, &state, "reconciler").await,
            Err(crate::ProviderError::UnknownSession) => {
                self.lapse(id, OrderStatus::Expired, closed, "sweeper")
                    .await
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Sweeps every 30 seconds until `stop` turns true.
pub async fn run(checkout: Checkout, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = checkout.sweep().await {
            tracing::warn!(error = %e, "payment sweep failed; will retry");
        }
        // Refunds whose provider could not be reached are asked again (same key).
        if let Err(e) = checkout
            .retry_refunds(i64::try_from(EVERY.as_millis()).unwrap_or(30_000))
            .await
        {
            tracing::warn!(error = %e, "refund retry failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
