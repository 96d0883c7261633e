//! Guests' cart tokens, for clients without cookies (the JSON API): the cart's id with an
//! HMAC of it under a server secret, so a token cannot be guessed, and a cart id alone (seen
//! in a log, or another shopper's) is not enough to reach the cart.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shop_core::{CartId, Clock, Db};

/// The name of the key in `server_secrets`.
const KEY_NAME: &str = "api_cart_tokens";

/// Signs and checks guests' cart tokens.
#[derive(Clone)]
pub struct CartTokens {
    key: std::sync::Arc<Vec<u8>>,
}

impl std::fmt::Debug for CartTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CartTokens(***)")
    }
}

impl CartTokens {
    /// Reads the key, creating it on the very first start.
    pub async fn load(db: &Db, clock: &Clock) -> Result<Self, sqlx::Error> {
        let key = shop_core::secrets::get_or_create(db, clock, KEY_NAME).await?;
        Ok(CartTokens {
            key: std::sync::Arc::new(key.into_bytes()),
        })
    }

    fn mac(&self, cart: &str) -> String {
        let mac = shop_core::secrets::hmac_sha256(&self.key, format!("cart:{cart}").as_bytes());
        URL_SAFE_NO_PAD.encode(&mac[..24])
    }

    /// The token of guest cart `cart`.
    pub fn token(&self, cart: &CartId) -> String {
        format!("{}.{}", cart.as_str(), self.mac(cart.as_str()))
    }

    /// The cart a token names, if the token is genuine.
    pub fn cart_of(&self, token: &str) -> Option<CartId> {
        let (id, mac) = token.split_once('.')?;
        let id = CartId::parse(id).ok()?;
        shop_core::secrets::constant_time_eq(mac.as_bytes(), self.mac(id.as_str()).as_bytes())
            .then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_cart_and_no_other() {
        let tokens = CartTokens {
            key: std::sync::Arc::new(b"k".to_vec()),
        };
        let cart = CartId::new();
        let token = tokens.token(&cart);
        assert_eq!(tokens.cart_of(&token), Some(cart.clone()));
        let other = CartId::new();
        let (_, mac) = token.split_once('.').unwrap();
        assert_eq!(tokens.cart_of(&format!("{}.{mac}", other.as_str())), None);
        assert_eq!(tokens.cart_of(cart.as_str()), None);
        assert_eq!(tokens.cart_of("not.a-token"), None);
        let stranger = CartTokens {
            key: std::sync::Arc::new(b"other".to_vec()),
        };
        assert_eq!(stranger.cart_of(&token), None);
    }
}
