//! Signing in with a guest cart: its lines join the customer's cart in one transaction.

use shop_core::{CartId, Clock, Db, UserId};

use crate::CartError;
use crate::carts::{delete_guest, find_for_user, for_user, guest_exists};
use crate::contents::load;
use crate::lines::add_on;

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Products of which fewer units than the two carts held together are now in the cart
    /// (no more are available, or the 99 limit).
    pub capped: Vec<String>,
    /// Products of the guest cart that can no longer be bought (not on sale, sold out), left
    /// out.
    pub unavailable: Vec<String>,
}

impl Merged {
    /// Nothing had to change: every guest line went in whole.
    pub fn is_clean(&self) -> bool {
        self.capped.is_empty() && self.unavailable.is_empty()
    }
}

/// At sign-in: moves a guest cart's lines into the customer's cart (quantities added, capped
/// by the units available and [`crate::MAX_QUANTITY`]) and deletes the guest cart, in one
/// transaction: a failure leaves both carts as they were, so nothing is added twice. Returns
/// the customer's cart (`None` when the guest cart was empty and the customer has none).
pub async fn merge_into_user(
    db: &Db,
    clock: &Clock,
    guest: &CartId,
    user: &UserId,
) -> Result<(Option<CartId>, Merged), CartError> {
    // Only a guest cart merges (a customer's own cart merged into itself would double).
    if !guest_exists(db, guest).await? {
        return Ok((find_for_user(db, user).await?, Merged::default()));
    }
    let from = load(db, guest).await?;
    if from.lines.is_empty() {
        // Nothing to move: no customer cart is created for it, the empty guest cart goes.
        let mut tx = db.begin().await?;
        delete_guest(&mut tx, guest).await?;
        tx.commit().await?;
        return Ok((find_for_user(db, user).await?, Merged::default()));
    }
    let target = for_user(db, clock, user).await?;
    let now = clock.now().millis();
    let mut merged = Merged::default();
    let mut tx = db.begin().await?;
    for line in &from.lines {
        let name = || line.item.product_name.clone();
        match add_on(&mut tx, now, &target, &line.item, line.quantity).await {
            Ok(added) if added.capped => merged.capped.push(name()),
            Ok(_) => {}
            Err(CartError::NotOnSale | CartError::OutOfStock | CartError::UnknownVariant) => {
                merged.unavailable.push(name());
            }
            // A full cart keeps what it has; the rest of the guest cart stays out.
            Err(CartError::Full) => merged.unavailable.push(name()),
            Err(e) => return Err(e),
        }
    }
    delete_guest(&mut tx, guest).await?;
    tx.commit().await?;
    Ok((Some(target), merged))
}
