//! Reacts to domain events from the outbox, mostly by sending email, keeps the notification
//! log, and owns the newsletter sign-up list.
//!
//! Each mail goes through [`EventHandler::deliver`]: it is rendered from its template,
//! written to the log as queued, sent, and the attempt recorded. When sending fails the
//! handler asks the outbox to retry the event (with backoff); the retry finds the logged
//! copy and sends that, so an SMTP outage delays mail but never loses or doubles it.

pub mod log;
pub mod newsletter;
pub mod orders;
pub mod samples;
pub mod templates;
pub mod webhooks;

use std::future::Future;

use auth::events as account;
use auth::tokens::Purpose;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shop_core::mail::{Mailer, OutgoingEmail};
use shop_core::outbox::{Event, Handler, HandlerError};
use shop_core::{Clock, Db, Email};

pub use log::{Notification, NotificationId, Status};
pub use templates::Template;

/// Settings the messages need.
#[derive(Clone, Debug, Serialize)]
pub struct ShopInfo {
    /// The shop's name, as shown in subjects, headers and signatures.
    pub name: String,
    /// The public base URL, without a trailing slash (links in mails).
    pub base_url: String,
    /// The brand colour of the mail header and buttons, `#rrggbb`.
    pub colour: String,
    /// Where staff mails go (new order, low stock, payment flagged); none: not sent.
    #[serde(skip)]
    pub staff_email: Option<Email>,
}

/// The outbox handler: dispatches each event kind to its mails. Kinds nobody reacts to are
/// acknowledged.
#[derive(Clone, Debug)]
pub struct EventHandler {
    db: Db,
    clock: Clock,
    mailer: Mailer,
    shop: ShopInfo,
    /// The outbox's attempts per event: after the last, a mail is logged as failed.
    max_attempts: i64,
}

/// A rendered mail, and the one-time secret its stored copy must not hold.
struct Composed {
    mail: OutgoingEmail,
    secret: Option<String>,
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

#[derive(Serialize)]
struct Person<'a> {
    name: &'a str,
    new_email: &'a str,
    link: &'a str,
}

#[derive(serde::Deserialize)]
struct OrderEvent {
    order_id: checkout::OrderId,
    #[serde(default)]
    shipment_id: Option<String>,
    #[serde(default)]
    refund_id: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl EventHandler {
    pub fn new(db: Db, clock: Clock, mailer: Mailer, shop: ShopInfo, max_attempts: i64) -> Self {
        Self {
            db,
            clock,
            mailer,
            shop,
            max_attempts,
        }
    }

    fn render(
        &self,
        template: Template,
        to: Email,
        data: &impl Serialize,
    ) -> Result<OutgoingEmail, HandlerError> {
        templates::render(&self.shop, template, to, data)
            .map_err(|e| HandlerError::Permanent(e.to_string()))
    }

    /// Sends `template` for `event` once: skipped when the log shows it sent, the logged
    /// copy when an earlier attempt wrote one, otherwise `compose`d now (`None`: the mail is
    /// no longer needed).
    async fn deliver(
        &self,
        event: &Event,
        template: Template,
        compose: impl Future<Output = Result<Option<Composed>, HandlerError>>,
    ) -> Result<(), HandlerError> {
        let logged = log::for_event(&self.db, &event.id, template)
            .await
            .map_err(retry)?;
        let (entry, mail) = match logged {
            Some(entry) if entry.status == Status::Sent => return Ok(()),
            Some(entry) if !entry.secret => match entry.outgoing() {
                Some(mail) => (entry, mail),
                None => return Err(HandlerError::Permanent("bad address".to_owned())),
            },
            _ => {
                // First attempt, or a mail whose one-time link was masked in the log: a
                // fresh one is issued.
                let Some(composed) = compose.await? else {
                    tracing::info!(template = template.name(), "mail no longer needed; skipped");
                    return Ok(());
                };
                let entry = log::queue(
                    &self.db,
                    &self.clock,
                    &event.id,
                    template,
                    &composed.mail,
                    composed.secret.as_deref(),
                )
                .await
                .map_err(retry)?;
                (entry, composed.mail)
            }
        };
        self.send_logged(event, &entry, &mail).await
    }

    async fn send_logged(
        &self,
        event: &Event,
        entry: &Notification,
        mail: &OutgoingEmail,
    ) -> Result<(), HandlerError> {
        let outcome = self.mailer.send(mail).await.map(|_| ());
        let error = outcome.as_ref().err().map(ToString::to_string);
        let last = event.attempt >= self.max_attempts;
        log::attempted(
            &self.db,
            &self.clock,
            &entry.id,
            error.as_deref().map_or(Ok(()), Err),
            last,
        )
        .await
        .map_err(retry)?;
        match error {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(template = %entry.template, attempt = event.attempt, error = %e, "mail not sent");
                Err(HandlerError::Retry(e))
            }
        }
    }

    /// A mail that carries a link with a fresh single-use token. Nothing is sent when the
    /// mail no longer makes sense (account gone or disabled, address already verified).
    async fn link_mail(
        &self,
        event: &Event,
        template: Template,
        user: &auth::UserId,
        purpose: Purpose,
        new_email: Option<&Email>,
        path: &str,
    ) -> Result<(), HandlerError> {
        self.deliver(event, template, async {
            let prepared = auth::users::mail_token(&self.db, &self.clock, user, purpose, new_email)
                .await
                .map_err(retry)?;
            let Some(token) = prepared else {
                return Ok(None);
            };
            let link = format!("{}{path}?token={}", self.shop.base_url, token.token);
            let mail = self.render(
                template,
                token.to.clone(),
                &Person {
                    name: &token.display_name,
                    new_email: new_email.map_or("", Email::as_str),
                    link: &link,
                },
            )?;
            Ok(Some(Composed {
                mail,
                secret: Some(token.token),
            }))
        })
        .await
    }

    /// A mail to a user about their account, without a link.
    async fn account_mail(
        &self,
        event: &Event,
        template: Template,
        user: &auth::UserId,
        to: Option<Email>,
        new_email: &str,
    ) -> Result<(), HandlerError> {
        self.deliver(event, template, async {
            let found = auth::find(&self.db, user).await.map_err(retry)?;
            let (to, name) = match (to, found) {
                (Some(to), found) => (to, found.map_or_else(String::new, |u| u.display_name)),
                (None, Some(u)) => (u.email, u.display_name),
                (None, None) => return Ok(None),
            };
            let name = if name.trim().is_empty() {
                "there".to_owned()
            } else {
                name
            };
            let mail = self.render(
                template,
                to,
                &Person {
                    name: &name,
                    new_email,
                    link: "",
                },
            )?;
            Ok(Some(Composed { mail, secret: None }))
        })
        .await
    }

    async fn load_order(&self, id: &checkout::OrderId) -> Result<checkout::Order, HandlerError> {
        match checkout::orders::load(&self.db, id).await {
            Ok(order) => Ok(order),
            Err(checkout::CheckoutError::NotFound) => {
                Err(HandlerError::Permanent("no such order".to_owned()))
            }
            Err(e) => Err(retry(e)),
        }
    }

    /// An order mail: to the shopper with the order's signed link, or to the staff address.
    async fn order_mail(&self, event: &Event, template: Template) -> Result<(), HandlerError> {
        let p: OrderEvent = payload(event)?;
        self.deliver(event, template, async {
            let order = self.load_order(&p.order_id).await?;
            let to = if template.for_staff() {
                match &self.shop.staff_email {
                    Some(staff) => staff.clone(),
                    None => return Ok(None),
                }
            } else {
                address(&order.email)?
            };
            if template == Template::PaymentConfirmed && !orders::paid(&order) {
                return Ok(None);
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
            let mut data = orders::OrderMail::of(&order, link, &self.shop.base_url);
            if let Some(reason) = &p.reason {
                data.reason = Some(reason.clone());
            }
            let complete = match template {
                Template::OrderShipped => p
                    .shipment_id
                    .as_deref()
                    .is_some_and(|s| data.with_parcel(&order, s)),
                Template::RefundIssued => p
                    .refund_id
                    .as_deref()
                    .is_some_and(|r| data.with_refund(&order, r)),
                Template::OrderCancelled => {
                    if let Some(r) = p.refund_id.as_deref() {
                        data.with_refund(&order, r);
                    }
                    true
                }
                _ => true,
            };
            if !complete {
                return Err(HandlerError::Permanent(
                    "the event names a parcel or refund the order does not have".to_owned(),
                ));
            }
            let mail = self.render(template, to, &data)?;
            Ok(Some(Composed { mail, secret: None }))
        })
        .await
    }

    async fn low_stock(&self, event: &Event) -> Result<(), HandlerError> {
        let p: catalog::stock::LowStock = payload(event)?;
        self.deliver(event, Template::StaffLowStock, async {
            let Some(to) = self.shop.staff_email.clone() else {
                return Ok(None);
            };
            let data = orders::LowStockMail {
                product: p.product_name.clone(),
                sku: p.sku.clone(),
                on_hand: p.on_hand,
                threshold: p.threshold,
                admin_link: format!("{}/admin/products/{}", self.shop.base_url, p.product_id),
            };
            let mail = self.render(Template::StaffLowStock, to, &data)?;
            Ok(Some(Composed { mail, secret: None }))
        })
        .await
    }

    /// A reminder about an abandoned cart, to its customer: what is in the cart now. Nothing
    /// is sent once the cart is bought or empty, the customer opted out, or their account
    /// is disabled or its address unconfirmed.
    async fn cart_reminder(&self, event: &Event) -> Result<(), HandlerError> {
        let p: analytics::reminders::ReminderRequested = payload(event)?;
        self.deliver(event, Template::CartReminder, async {
            let user = auth::find(&self.db, &auth::UserId::from_db(p.user_id.clone()))
                .await
                .map_err(retry)?;
            let Some(user) = user.filter(|u| u.status == auth::Status::Active && u.is_verified())
            else {
                return Ok(None);
            };
            let Some(lines) = analytics::reminders::contents(&self.db, &p)
                .await
                .map_err(retry)?
            else {
                return Ok(None);
            };
            let keys = checkout::Keys::load(&self.db, &self.clock)
                .await
                .map_err(retry)?;
            let base = &self.shop.base_url;
            let stop_link = format!(
                "{base}/reminders/stop?u={}&t={}",
                p.user_id,
                keys.reminders_token(&p.user_id)
            );
            let name = if user.display_name.trim().is_empty() {
                "there".to_owned()
            } else {
                user.display_name.clone()
            };
            let data = orders::ReminderMail::of(name, &lines, format!("{base}/cart"), stop_link);
            let mail = self.render(Template::CartReminder, user.email, &data)?;
            Ok(Some(Composed { mail, secret: None }))
        })
        .await
    }

    /// A message staff resent from the log: its stored copy, once.
    async fn resend(&self, event: &Event) -> Result<(), HandlerError> {
        let p: log::Resend = payload(event)?;
        let entry = log::find(&self.db, &p.notification_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| HandlerError::Permanent("no such message".to_owned()))?;
        if entry.status == Status::Sent {
            return Ok(());
        }
        let mail = entry
            .outgoing()
            .ok_or_else(|| HandlerError::Permanent("bad address".to_owned()))?;
        self.send_logged(event, &entry, &mail).await
    }
}

impl Handler for EventHandler {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        match event.kind.as_str() {
            newsletter::SUBSCRIBED => {
                let p: newsletter::Subscribed = payload(event)?;
                let to = address(&p.email)?;
                self.deliver(event, Template::NewsletterWelcome, async {
                    let mail =
                        self.render(Template::NewsletterWelcome, to, &serde_json::json!({}))?;
                    Ok(Some(Composed { mail, secret: None }))
                })
                .await
            }
            account::USER_REGISTERED => {
                let p: account::UserEvent = payload(event)?;
                self.link_mail(
                    event,
                    Template::Welcome,
                    &p.user_id,
                    Purpose::VerifyEmail,
                    None,
                    "/verify-email",
                )
                .await
            }
            account::VERIFICATION_REQUESTED => {
                let p: account::UserEvent = payload(event)?;
                self.link_mail(
                    event,
                    Template::VerifyEmail,
                    &p.user_id,
                    Purpose::VerifyEmail,
                    None,
                    "/verify-email",
                )
                .await
            }
            account::PASSWORD_RESET_REQUESTED => {
                let p: account::UserEvent = payload(event)?;
                self.link_mail(
                    event,
                    Template::PasswordReset,
                    &p.user_id,
                    Purpose::ResetPassword,
                    None,
                    "/reset-password",
                )
                .await
            }
            account::EMAIL_CHANGE_REQUESTED => {
                let p: account::EmailChangeRequested = payload(event)?;
                let new_email = address(&p.new_email)?;
                self.link_mail(
                    event,
                    Template::ConfirmNewEmail,
                    &p.user_id,
                    Purpose::ChangeEmail,
                    Some(&new_email),
                    "/confirm-email",
                )
                .await
            }
            account::REGISTRATION_ATTEMPTED => {
                let p: account::UserEvent = payload(event)?;
                self.account_mail(event, Template::RegistrationAttempted, &p.user_id, None, "")
                    .await
            }
            account::EMAIL_CHANGED => {
                let p: account::EmailChanged = payload(event)?;
                let old = address(&p.old_email)?;
                self.account_mail(
                    event,
                    Template::EmailChanged,
                    &p.user_id,
                    Some(old),
                    &p.new_email,
                )
                .await
            }
            account::PASSWORD_CHANGED => {
                let p: account::UserEvent = payload(event)?;
                self.account_mail(event, Template::PasswordChanged, &p.user_id, None, "")
                    .await
            }
            checkout::ORDER_PLACED => self.order_mail(event, Template::OrderReceived).await,
            checkout::ORDER_PAID => {
                self.order_mail(event, Template::PaymentConfirmed).await?;
                self.order_mail(event, Template::StaffNewOrder).await
            }
            checkout::ORDER_SHIPPED => self.order_mail(event, Template::OrderShipped).await,
            checkout::ORDER_DELIVERED => self.order_mail(event, Template::OrderDelivered).await,
            checkout::ORDER_CANCELLED => self.order_mail(event, Template::OrderCancelled).await,
            checkout::ORDER_REFUNDED => self.order_mail(event, Template::RefundIssued).await,
            checkout::ORDER_FLAGGED => self.order_mail(event, Template::StaffPaymentFlagged).await,
            catalog::stock::STOCK_LOW => self.low_stock(event).await,
            analytics::reminders::REMINDER_REQUESTED => self.cart_reminder(event).await,
            log::RESEND => self.resend(event).await,
            other => {
                tracing::debug!(event.kind = other, "no reaction to this event kind");
                Ok(())
            }
        }
    }
}
