//! Newsletter sign-ups.

use shop_core::{Clock, Db, Email, outbox};

/// Event kind written when an address joins the list.
pub const SUBSCRIBED: &str = "newsletter.subscribed";

/// Payload of [`SUBSCRIBED`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Subscribed {
    pub email: String,
}

/// What a sign-up did. The shopper is told the same thing either way, so the form does not
/// reveal who is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    New,
    AlreadySubscribed,
}

/// Adds an address to the list and queues the welcome mail, in one transaction.
pub async fn subscribe(db: &Db, clock: &Clock, email: &Email) -> Result<Subscription, sqlx::Error> {
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO newsletter_subscribers (id, email, subscribed_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(shop_core::id::new_uuid_v7())
    .bind(email.as_str())
    .bind(clock.now().millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Subscription::AlreadySubscribed);
    }
    outbox::enqueue(
        &mut tx,
        clock,
        SUBSCRIBED,
        &Subscribed {
            email: email.as_str().to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Subscription::New)
}

/// Number of subscribers.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM newsletter_subscribers")
        .fetch_one(db.reader())
        .await
}
