//! Saved payment methods: the provider's customer for a shop account, created the first
//! time a signed-in shopper checks out, and the cards the provider keeps under it (which
//! the shopper chose to save on the payment page). The shop stores only the customer id;
//! brand, last four digits and expiry are read from the provider each time.

use shop_core::UserId;

use crate::payment::SavedCard;
use crate::{Checkout, CheckoutError};

impl Checkout {
    /// The provider's customer of `user`, if one was made.
    pub(crate) async fn customer_of(&self, user: &UserId) -> Result<Option<String>, CheckoutError> {
        Ok(sqlx::query_scalar(
            "SELECT customer_id FROM payment_customers WHERE user_id = $1 AND provider = $2",
        )
        .bind(user.as_str())
        .bind(self.provider.name())
        .fetch_optional(self.db.reader())
        .await?)
    }

    /// The provider's customer of `user`, made now if there is none. Two checkouts at once
    /// ask the provider with the same idempotency key and keep one answer.
    pub async fn payment_customer(
        &self,
        user: &UserId,
        email: &str,
    ) -> Result<String, CheckoutError> {
        if let Some(found) = self.customer_of(user).await? {
            return Ok(found);
        }
        let made = self
            .provider
            .create_customer(email, user.as_str(), &format!("customer-{user}"))
            .await?;
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO payment_customers (user_id, provider, customer_id, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, provider) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(self.provider.name())
        .bind(&made)
        .bind(self.clock.now().millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(self.customer_of(user).await?.unwrap_or(made))
    }

    /// The cards `user` saved with the provider, newest first (none before their first
    /// checkout as a signed-in shopper).
    pub async fn saved_cards(&self, user: &UserId) -> Result<Vec<SavedCard>, CheckoutError> {
        match self.customer_of(user).await? {
            Some(customer) => Ok(self.provider.cards(&customer).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Removes `card` from `user`'s saved cards; not found when it is not theirs.
    pub async fn remove_card(&self, user: &UserId, card: &str) -> Result<(), CheckoutError> {
        let Some(customer) = self.customer_of(user).await? else {
            return Err(CheckoutError::NotFound);
        };
        if card.len() > 100 || !self.provider.remove_card(&customer, card).await? {
            return Err(CheckoutError::NotFound);
        }
        tracing::info!(user.id = %user, "saved card removed");
        Ok(())
    }
}
