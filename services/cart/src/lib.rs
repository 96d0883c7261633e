//! Carts: a guest's (tied to their session) or a customer's (stored against the account, so
//! it follows them across devices and instances).
//!
//! A line is a variant and a quantity (1 to 99, never above the units available), plus the
//! price when it was added. The cart is always shown and totalled at the catalog's current
//! price, on the server, with checked arithmetic; the snapshot only tells the shopper that a
//! price changed. Nothing from the browser is trusted but a variant id, a line id and a
//! quantity, and a line id only counts within the caller's own cart.
//!
//! Concurrency: a cart has at most one line per variant (a unique key), adding is a single
//! upsert and changing a quantity a single update, so two tabs changing the same cart at
//! once never lose an update or create a duplicate line.

//!
//! Modules: [`carts`] (finding and creating a cart), [`lines`] (adding, changing and removing
//! lines), [`contents`] (a cart at current prices, its problems and totals), [`merge`] (the
//! guest cart joining the customer's at sign-in), [`checkout`] (the order a cart is being
//! checked out as), [`cleanup`] (stale guest carts), [`idle`] (carts left with items) and
//! [`tokens`] (guests' cart tokens for clients without cookies).

pub mod carts;
pub mod checkout;
pub mod cleanup;
pub mod contents;
pub mod idle;
pub mod lines;
pub mod merge;
pub mod tokens;

pub use carts::{create_guest, find_for_user, for_user, guest_exists};
pub use cleanup::delete_stale_guest_carts;
pub use contents::{Cart, Item, Line, Problem, load, load_for_display, load_holding, units};
pub use lines::{Added, AddedTo, CartOf, add, add_to, clear, remove, set_quantity};
pub use merge::{Merged, merge_into_user};
pub use shop_core::{CartId, LineId, Quantity};

/// Most units of one variant in a cart.
pub const MAX_QUANTITY: i64 = Quantity::MAX;
/// Most lines in one cart.
pub const MAX_LINES: i64 = 100;

/// What went wrong, in words fit for the shopper.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("We could not find that product.")]
    UnknownVariant,
    #[error("That item is no longer on sale.")]
    NotOnSale,
    #[error("That item is out of stock.")]
    OutOfStock,
    #[error("That line is not in your cart.")]
    UnknownLine,
    #[error("Your cart is full ({MAX_LINES} different items).")]
    Full,
    #[error("The cart total is too large.")]
    TotalTooLarge,
    /// The cart is being checked out as this order (still unpaid): the caller withdraws it
    /// and tries again.
    #[error("This cart is being checked out.")]
    CheckingOut(shop_core::OrderId),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
}

impl CartError {
    /// True for failures of the system rather than of the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, CartError::Db(_) | CartError::Catalog(_))
    }
}
