//! Reacts to domain events from the outbox, mostly by sending email, and owns the
//! newsletter sign-up list.

pub mod newsletter;
pub mod orders;
mod templates;

use auth::events as account;
use auth::tokens::Purpose;
use serde::de::DeserializeOwned;
use shop_core::mail::{Mailer, OutgoingEmail};
use shop_core::outbox::{Event, Handler, HandlerError};
use shop_core::{Clock, Db, Email};

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
    db: Db,
    clock: Clock,
    mailer: Mailer,
    shop: ShopInfo,
}

fn payload<T: DeserializeOwned>(event: &Event) -> Result<T, HandlerError> {
    serde_json::from_value(event.payload.clone())
        .map_err(|e| HandlerError::Permanent(format!("bad payload: {e}")))
}

fn address(s: &str) -> Result<Email, HandlerError> {
    Email::parse(s).map_err(|e| HandlerError::Permanent(format!("bad address: {e}")))
}

fn retry(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Retry(e.to_string())
}

impl EventHandler {
    pub fn new(db: Db, clock: Clock, mailer: Mailer, shop: ShopInfo) -> Self {
        Self {
            db,
            clock,
            mailer,
            shop,
        }
    }

    /// Sends a mail that carries a link with a fresh single-use token. Nothing is sent when
    /// the mail no longer makes sense (account gone or disabled, address already verified).
    async fn send_link(
        &self,
        user: &auth::UserId,
        purpose: Purpose,
        new_email: Option<&Email>,
        compose: impl FnOnce(&ShopInfo, &auth::users::MailToken) -> OutgoingEmail,
    ) -> Result<(), HandlerError> {
        let prepared = auth::users::mail_token(&self.db, &self.clock, user, purpose, new_email)
            .await
            .map_err(retry)?;
        match prepared {
            Some(token) => self.send(compose(&self.shop, &token)).await,
            None => {
                tracing::info!(user.id = %user, ?purpose, "mail no longer needed; skipped");
                Ok(())
            }
        }
    }

    /// An order mail, with the order's signed link.
    async fn order_mail(&self, event: &Event, kind: orders::OrderMail) -> Result<(), HandlerError> {
        #[derive(serde::Deserialize)]
        struct OrderEvent {
            order_id: checkout::OrderId,
        }
        let p: OrderEvent = payload(event)?;
        let order = match checkout::orders::load(&self.db, &p.order_id).await {
            Ok(order) => order,
            Err(checkout::CheckoutError::NotFound) => {
                return Err(HandlerError::Permanent("no such order".to_owned()));
            }
            Err(e) => return Err(retry(e)),
        };
        if !orders::still_relevant(kind, &order) {
            return Ok(());
        }
        let keys = checkout::Keys::load(&self.db, &self.clock)
            .await
            .map_err(retry)?;
        let link = format!(
            "{}/orders/{}?t={}",
            self.shop.base_url,
            order.id,
            keys.order_token(&order.id)
        );
        match orders::order_mail(&self.shop, kind, &order, &link) {
            Some(mail) => self.send(mail).await,
            None => Err(HandlerError::Permanent(
                "the order's address is not valid".to_owned(),
            )),
        }
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
                let p: newsletter::Subscribed = payload(event)?;
                self.send(templates::newsletter_welcome(
                    &self.shop,
                    address(&p.email)?,
                ))
                .await
            }
            account::USER_REGISTERED => {
                let p: account::UserEvent = payload(event)?;
                self.send_link(&p.user_id, Purpose::VerifyEmail, None, |shop, t| {
                    templates::welcome_verify(shop, t, true)
                })
                .await
            }
            account::REGISTRATION_ATTEMPTED => {
                let p: account::UserEvent = payload(event)?;
                let Some(user) = auth::find(&self.db, &p.user_id).await.map_err(retry)? else {
                    return Ok(());
                };
                self.send(templates::registration_attempted(
                    &self.shop,
                    user.email,
                    &user.display_name,
                ))
                .await
            }
            account::VERIFICATION_REQUESTED => {
                let p: account::UserEvent = payload(event)?;
                self.send_link(&p.user_id, Purpose::VerifyEmail, None, |shop, t| {
                    templates::welcome_verify(shop, t, false)
                })
                .await
            }
            account::PASSWORD_RESET_REQUESTED => {
                let p: account::UserEvent = payload(event)?;
                self.send_link(
                    &p.user_id,
                    Purpose::ResetPassword,
                    None,
                    templates::password_reset,
                )
                .await
            }
            account::EMAIL_CHANGE_REQUESTED => {
                let p: account::EmailChangeRequested = payload(event)?;
                let new_email = address(&p.new_email)?;
                self.send_link(
                    &p.user_id,
                    Purpose::ChangeEmail,
                    Some(&new_email),
                    templates::confirm_new_email,
                )
                .await
            }
            account::EMAIL_CHANGED => {
                let p: account::EmailChanged = payload(event)?;
                self.send(templates::email_changed(
                    &self.shop,
                    address(&p.old_email)?,
                    &p.new_email,
                ))
                .await
            }
            account::PASSWORD_CHANGED => {
                let p: account::UserEvent = payload(event)?;
                let Some(user) = auth::find(&self.db, &p.user_id).await.map_err(retry)? else {
                    return Ok(());
                };
                self.send(templates::password_changed(
                    &self.shop,
                    user.email,
                    &user.display_name,
                ))
                .await
            }
            checkout::ORDER_PLACED => self.order_mail(event, orders::OrderMail::Received).await,
            checkout::ORDER_PAID => {
                self.order_mail(event, orders::OrderMail::PaymentConfirmed)
                    .await
            }
            other => {
                tracing::debug!(event.kind = other, "no reaction to this event kind");
                Ok(())
            }
        }
    }
}
