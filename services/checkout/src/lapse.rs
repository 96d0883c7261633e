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
    payment_session_id: Option<String>,
}

impl Checkout {
    /// Checks every unpaid order whose payment window closed more than the grace period
    /// ago: paid at the provider → paid here; otherwise the session is closed and the
    /// order expires.
    pub async fn sweep(&self) -> Result<Swept, CheckoutError> {
        let due_before = self.clock.now().minus(self.settings.grace).millis();
        let due: Vec<Due> = sqlx::query_as(
            "SELECT id, payment_session_id FROM orders
             WHERE status = 'pending_payment' AND hold_until <= $1
             ORDER BY hold_until LIMIT 200",
        )
        .bind(due_before)
        .fetch_all(self.db.reader())
        .await?;
        let mut swept = Swept::default();
        for order in due {
            let id = OrderId::from_db(order.id);
            let outcome = match order.payment_session_id.as_deref() {
                // Never got a session (the provider was down, or a crash): nothing to ask.
                None => {
                    self.lapse(
                        &id,
                        OrderStatus::Expired,
                        "the payment window closed",
                        "sweeper",
                    )
                    .await?
                }
                Some(session) => {
                    let mut state = self.provider.session_state(session).await?;
                    if state.status == "open" {
                        state = self.provider.expire_session(session).await?;
                    }
                    self.apply_session(&id, &state, "reconciler").await?
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
}

/// Sweeps every 30 seconds until `stop` turns true.
pub async fn run(checkout: Checkout, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = checkout.sweep().await {
            tracing::warn!(error = %e, "payment sweep failed; will retry");
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
