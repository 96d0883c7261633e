//! The checkout's own secrets (kept as [`shop_core::secrets`] keeps them): one signs guests'
//! order links, one signs the offline provider's events, and one signs the links in mails
//! that act for a customer without signing in (stopping cart reminders).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shop_core::{Clock, Db, OrderId};

const ORDER_LINKS: &str = "order_links";
const OFFLINE_WEBHOOK: &str = "offline_webhook";
const MAIL_LINKS: &str = "mail_links";

/// The checkout's secrets.
#[derive(Clone)]
pub struct Keys {
    order_links: Vec<u8>,
    mail_links: Vec<u8>,
    /// The signing secret of the offline provider's events (`whsec_...`, as Stripe's look).
    pub offline_webhook: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

pub(crate) use shop_core::secrets::{constant_time_eq, hmac_sha256};

impl Keys {
    /// Reads the secrets, creating them on the very first start.
    pub async fn load(db: &Db, clock: &Clock) -> Result<Keys, sqlx::Error> {
        Ok(Keys {
            order_links: shop_core::secrets::get_or_create(db, clock, ORDER_LINKS)
                .await?
                .into_bytes(),
            mail_links: shop_core::secrets::get_or_create(db, clock, MAIL_LINKS)
                .await?
                .into_bytes(),
            offline_webhook: format!(
                "whsec_{}",
                shop_core::secrets::get_or_create(db, clock, OFFLINE_WEBHOOK).await?
            ),
        })
    }

    /// The token in a guest's link to their order: whoever has the link may see the order
    /// (it is in their confirmation mail), nobody can make one up.
    pub fn order_token(&self, order: &OrderId) -> String {
        let mac = hmac_sha256(&self.order_links, format!("order:{order}").as_bytes());
        URL_SAFE_NO_PAD.encode(&mac[..24])
    }

    /// Whether `token` is the link token of `order`.
    pub fn check_order_token(&self, order: &OrderId, token: &str) -> bool {
        constant_time_eq(self.order_token(order).as_bytes(), token.trim().as_bytes())
    }

    /// The token in a mail's link that stops cart reminders for `user` (whoever has the
    /// mail may stop them; nobody can stop another customer's).
    pub fn reminders_token(&self, user: &str) -> String {
        let mac = hmac_sha256(
            &self.mail_links,
            format!("stop-reminders:{user}").as_bytes(),
        );
        URL_SAFE_NO_PAD.encode(&mac[..24])
    }

    /// Whether `token` is the stop-reminders token of `user`.
    pub fn check_reminders_token(&self, user: &str, token: &str) -> bool {
        constant_time_eq(
            self.reminders_token(user).as_bytes(),
            token.trim().as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_tokens_belong_to_one_order() {
        let keys = Keys {
            order_links: b"secret".to_vec(),
            mail_links: b"mail".to_vec(),
            offline_webhook: String::new(),
        };
        let a = OrderId::new();
        let b = OrderId::new();
        let token = keys.order_token(&a);
        assert_eq!(token.len(), 32);
        assert!(keys.check_order_token(&a, &token));
        assert!(!keys.check_order_token(&b, &token));
        assert!(!keys.check_order_token(&a, ""));
        let other = Keys {
            order_links: b"other".to_vec(),
            mail_links: b"other".to_vec(),
            offline_webhook: String::new(),
        };
        assert!(!other.check_order_token(&a, &token));
        // Stop-reminder links: one customer's, and not an order's.
        let stop = keys.reminders_token("u1");
        assert!(keys.check_reminders_token("u1", &stop));
        assert!(!keys.check_reminders_token("u2", &stop));
        assert!(!other.check_reminders_token("u1", &stop));
        assert_ne!(stop, keys.reminders_token(a.as_str()));
        assert!(!keys.check_order_token(&a, &keys.reminders_token(a.as_str())));
    }
}
