//! Reacts to domain events from the outbox, mostly by sending email, and owns the
//! newsletter sign-up list.

pub mod newsletter;
mod templates;

use shop_core::Email;
use shop_core::mail::{Mailer, OutgoingEmail};
use shop_core::outbox::{Event, Handler, HandlerError};

/// Settings the messages need.
#[derive(Clone, Debug)]
pub struct ShopInfo {
    /// The shop's name, as shown in subjects and signatures.
    pub name: String,
    /// The public base URL, without a trailing slash (links in mails).
    pub base_url: String,
}

/// The outbox handler: dispatches each event kind to its reaction. Kinds nobody reacts to
/// are acknowledged.
#[derive(Clone, Debug)]
pub struct EventHandler {
    mailer: Mailer,
    shop: ShopInfo,
}

impl EventHandler {
    pub fn new(mailer: Mailer, shop: ShopInfo) -> Self {
        Self { mailer, shop }
    }

    async fn send(&self, email: OutgoingEmail) -> Result<(), HandlerError> {
        self.mailer
            .send(&email)
            .await
            .map(|_| ())
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}

impl Handler for EventHandler {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        match event.kind.as_str() {
            newsletter::SUBSCRIBED => {
                let payload: newsletter::Subscribed = serde_json::from_value(event.payload.clone())
                    .map_err(|e| HandlerError::Permanent(format!("bad payload: {e}")))?;
                let to = Email::parse(&payload.email)
                    .map_err(|e| HandlerError::Permanent(format!("bad address: {e}")))?;
                self.send(templates::newsletter_welcome(&self.shop, to))
                    .await
            }
            other => {
                tracing::debug!(event.kind = other, "no reaction to this event kind");
                Ok(())
            }
        }
    }
}
