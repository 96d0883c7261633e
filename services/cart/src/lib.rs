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

use shop_core::{Clock, Db, Money};

use catalog::VariantId;
use catalog::products::SellableVariant;

pub use shop_core::{CartId, LineId};

/// Most units of one variant in a cart.
pub const MAX_QUANTITY: i64 = 99;
/// Most lines in one cart.
pub const MAX_LINES: i64 = 100;

/// What went wrong, in words fit for the shopper.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("Choose a quantity from 1 to {MAX_QUANTITY}.")]
    BadQuantity,
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

fn check_quantity(quantity: i64) -> Result<i64, CartError> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(CartError::BadQuantity)
    }
}

/// The customer's cart, if they have one (reads only: pages that just show the cart never
/// create one).
pub async fn find_for_user(db: &Db, user_id: &str) -> Result<Option<CartId>, CartError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM carts WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(id.map(CartId::from_db))
}

/// The customer's cart, created on first use.
pub async fn for_user(db: &Db, clock: &Clock, user_id: &str) -> Result<CartId, CartError> {
    if let Some(id) = find_for_user(db, user_id).await? {
        return Ok(id);
    }
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    // Two first requests at once: the unique user_id lets one insert win, both read it.
    sqlx::query(
        "INSERT INTO carts (id, user_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(CartId::new().as_str())
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let id: String = sqlx::query_scalar("SELECT id FROM carts WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(CartId::from_db(id))
}

/// A new guest cart (its id goes into the guest's session).
pub async fn create_guest(db: &Db, clock: &Clock) -> Result<CartId, CartError> {
    let id = CartId::new();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO carts (id, created_at, updated_at) VALUES ($1, $2, $2)")
        .bind(id.as_str())
        .bind(clock.now().millis())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Whether a guest cart id from a session still names a guest cart.
pub async fn guest_exists(db: &Db, id: &CartId) -> Result<bool, CartError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM carts WHERE id = $1 AND user_id IS NULL")
            .bind(id.as_str())
            .fetch_optional(db.reader())
            .await?;
    Ok(found.is_some())
}

async fn variant(db: &Db, id: &VariantId) -> Result<SellableVariant, CartError> {
    catalog::products::sellable(db, std::slice::from_ref(id))
        .await?
        .into_iter()
        .next()
        .ok_or(CartError::UnknownVariant)
}

/// What an add did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    pub line_id: LineId,
    /// Units of the variant now in the cart.
    pub quantity: i64,
    /// Fewer units than asked for are in the cart: no more are available.
    pub capped: bool,
}

/// Adds `quantity` units of a variant (to its line if the cart has one), never beyond the
/// units available or [`MAX_QUANTITY`].
pub async fn add(
    db: &Db,
    clock: &Clock,
    cart: &CartId,
    variant_id: &VariantId,
    quantity: i64,
) -> Result<Added, CartError> {
    let quantity = check_quantity(quantity)?;
    let v = variant(db, variant_id).await?;
    let mut tx = db.begin().await?;
    let added = add_on(&mut tx, clock.now().millis(), cart, &v, quantity).await?;
    tx.commit().await?;
    Ok(added)
}

/// [`add`] inside the caller's transaction, for a variant already looked up.
async fn add_on(
    conn: &mut shop_core::db::Conn,
    now: i64,
    cart: &CartId,
    v: &SellableVariant,
    quantity: i64,
) -> Result<Added, CartError> {
    if !v.on_sale {
        return Err(CartError::NotOnSale);
    }
    if v.available < 1 {
        return Err(CartError::OutOfStock);
    }
    let limit = v.available.min(MAX_QUANTITY);
    // The cart's other lines (for the line limit) and this variant's units so far, in one read.
    let (others, before): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN variant_id <> $2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(MAX(CASE WHEN variant_id = $2 THEN quantity END), 0) AS BIGINT)
         FROM cart_lines WHERE cart_id = $1",
    )
    .bind(cart.as_str())
    .bind(v.id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    if others >= MAX_LINES {
        return Err(CartError::Full);
    }
    // One statement: a concurrent add of the same variant adds up on the same line.
    let (line_id, total): (String, i64) = sqlx::query_as(
        "INSERT INTO cart_lines (id, cart_id, variant_id, quantity, unit_price_minor, currency,
                                 created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET
             quantity = CASE WHEN cart_lines.quantity + $4 > $8 THEN $8
                             ELSE cart_lines.quantity + $4 END,
             updated_at = $7
         RETURNING id, quantity",
    )
    .bind(LineId::new().as_str())
    .bind(cart.as_str())
    .bind(v.id.as_str())
    .bind(quantity.min(limit))
    .bind(v.price.minor())
    .bind(v.price.currency().code())
    .bind(now)
    .bind(limit)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| foreign_key(e, CartError::UnknownVariant))?;
    touch(conn, cart, now).await?;
    Ok(Added {
        line_id: LineId::from_db(line_id),
        quantity: total,
        capped: before + quantity > limit,
    })
}

/// A cart deleted under us (cleaned up) or a variant deleted: the row it points to is gone.
fn foreign_key(e: sqlx::Error, instead: CartError) -> CartError {
    let violation = e
        .as_database_error()
        .is_some_and(|d| d.is_foreign_key_violation());
    if violation { instead } else { e.into() }
}

async fn touch(conn: &mut shop_core::db::Conn, cart: &CartId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE carts SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(cart.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets a line's quantity (1 to 99, at most the units available). The line must be in
/// `cart`: another shopper's line id is "not in your cart".
pub async fn set_quantity(
    db: &Db,
    clock: &Clock,
    cart: &CartId,
    line_id: &LineId,
    quantity: i64,
) -> Result<i64, CartError> {
    let quantity = check_quantity(quantity)?;
    let variant_id: String =
        sqlx::query_scalar("SELECT variant_id FROM cart_lines WHERE id = $1 AND cart_id = $2")
            .bind(line_id.as_str())
            .bind(cart.as_str())
            .fetch_optional(db.reader())
            .await?
            .ok_or(CartError::UnknownLine)?;
    let v = variant(db, &VariantId::from_db(variant_id)).await?;
    if !v.on_sale {
        return Err(CartError::NotOnSale);
    }
    if v.available < 1 {
        return Err(CartError::OutOfStock);
    }
    let quantity = quantity.min(v.available);
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE cart_lines SET quantity = $1, updated_at = $2 WHERE id = $3 AND cart_id = $4",
    )
    .bind(quantity)
    .bind(now)
    .bind(line_id.as_str())
    .bind(cart.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(CartError::UnknownLine);
    }
    touch(&mut tx, cart, now).await?;
    tx.commit().await?;
    Ok(quantity)
}

/// Removes a line from `cart`.
pub async fn remove(
    db: &Db,
    clock: &Clock,
    cart: &CartId,
    line_id: &LineId,
) -> Result<(), CartError> {
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM cart_lines WHERE id = $1 AND cart_id = $2")
        .bind(line_id.as_str())
        .bind(cart.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(CartError::UnknownLine);
    }
    touch(&mut tx, cart, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Empties `cart`.
pub async fn clear(db: &Db, clock: &Clock, cart: &CartId) -> Result<(), CartError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM cart_lines WHERE cart_id = $1")
        .bind(cart.as_str())
        .execute(&mut *tx)
        .await?;
    touch(&mut tx, cart, clock.now().millis()).await?;
    tx.commit().await?;
    Ok(())
}

/// Why a line cannot go to checkout as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Archived, unpublished or deleted.
    NotOnSale,
    OutOfStock,
    /// Only this many are available now.
    NotEnough(i64),
}

/// A line as the cart page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: LineId,
    pub variant: SellableVariant,
    pub quantity: i64,
    /// The current price (what the total uses).
    pub unit_price: Money,
    /// The price when the line was added, if it differs from the current one.
    pub was: Option<Money>,
    pub line_total: Money,
    pub problem: Option<Problem>,
}

/// A cart with its lines at current prices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    pub id: CartId,
    pub lines: Vec<Line>,
    /// Sum of the line totals of lines without a problem; `None` when no line can be bought
    /// as it is (or the cart is empty).
    pub subtotal: Option<Money>,
    /// Units in the cart, flagged lines included (the header's count).
    pub items: i64,
    /// Every line can be bought as it is.
    pub ready_for_checkout: bool,
}

/// Units in a cart (what the header counts).
pub async fn units(db: &Db, cart: &CartId) -> Result<i64, CartError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM cart_lines WHERE cart_id = $1",
    )
    .bind(cart.as_str())
    .fetch_one(db.reader())
    .await?;
    Ok(n)
}

/// Reads a cart at the catalog's current prices and stock.
pub async fn load(db: &Db, cart: &CartId) -> Result<Cart, CartError> {
    let rows: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT id, variant_id, quantity, unit_price_minor, currency FROM cart_lines
         WHERE cart_id = $1 ORDER BY created_at, id",
    )
    .bind(cart.as_str())
    .fetch_all(db.reader())
    .await?;
    let ids: Vec<VariantId> = rows
        .iter()
        .map(|r| VariantId::from_db(r.1.clone()))
        .collect();
    let variants = catalog::products::sellable(db, &ids).await?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut subtotal: Option<Money> = None;
    let mut items = 0_i64;
    for (id, variant_id, quantity, snapshot, currency) in rows {
        // A variant deleted from the catalog takes its lines with it (ON DELETE CASCADE),
        // so a missing one was deleted a moment ago: leave it out.
        let Some(v) = variants
            .iter()
            .find(|v| v.id.as_str() == variant_id)
            .cloned()
        else {
            continue;
        };
        let unit_price = v.price;
        let was = (snapshot != unit_price.minor() || currency != unit_price.currency().code())
            .then(|| currency.parse().ok().map(|c| Money::new(snapshot, c)))
            .flatten();
        let problem = if !v.on_sale {
            Some(Problem::NotOnSale)
        } else if v.available < 1 {
            Some(Problem::OutOfStock)
        } else if quantity > v.available {
            Some(Problem::NotEnough(v.available))
        } else {
            None
        };
        let line_total = unit_price
            .checked_mul(quantity)
            .map_err(|_| CartError::TotalTooLarge)?;
        items += quantity;
        if problem.is_none() {
            subtotal = Some(match subtotal {
                None => line_total,
                Some(s) => s
                    .checked_add(line_total)
                    .map_err(|_| CartError::TotalTooLarge)?,
            });
        }
        lines.push(Line {
            id: LineId::from_db(id),
            variant: v,
            quantity,
            unit_price,
            was,
            line_total,
            problem,
        });
    }
    let ready_for_checkout = !lines.is_empty() && lines.iter().all(|l| l.problem.is_none());
    Ok(Cart {
        id: cart.clone(),
        lines,
        subtotal,
        items,
        ready_for_checkout,
    })
}

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
/// by the units available and [`MAX_QUANTITY`]) and deletes the guest cart, in one
/// transaction: a failure leaves both carts as they were, so nothing is added twice. Returns
/// the customer's cart (`None` when the guest cart was empty and the customer has none).
pub async fn merge_into_user(
    db: &Db,
    clock: &Clock,
    guest: &CartId,
    user_id: &str,
) -> Result<(Option<CartId>, Merged), CartError> {
    // Only a guest cart merges (a customer's own cart merged into itself would double).
    if !guest_exists(db, guest).await? {
        return Ok((find_for_user(db, user_id).await?, Merged::default()));
    }
    let from = load(db, guest).await?;
    if from.lines.is_empty() {
        // Nothing to move: no customer cart is created for it, the empty guest cart goes.
        let mut tx = db.begin().await?;
        delete_guest(&mut tx, guest).await?;
        tx.commit().await?;
        return Ok((find_for_user(db, user_id).await?, Merged::default()));
    }
    let target = for_user(db, clock, user_id).await?;
    let now = clock.now().millis();
    let mut merged = Merged::default();
    let mut tx = db.begin().await?;
    for line in &from.lines {
        let name = || line.variant.product_name.clone();
        match add_on(&mut tx, now, &target, &line.variant, line.quantity).await {
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

async fn delete_guest(conn: &mut shop_core::db::Conn, guest: &CartId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM carts WHERE id = $1 AND user_id IS NULL")
        .bind(guest.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes guest carts left empty since `empty_before`, and every guest cart untouched since
/// `idle_before` (milliseconds; the guest's session has expired by then). Returns the ids of
/// the carts deleted, so their sessions can be ended too. Customers' carts are kept.
pub async fn delete_stale_guest_carts(
    db: &Db,
    empty_before: i64,
    idle_before: i64,
) -> Result<Vec<CartId>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let deleted: Vec<String> = sqlx::query_scalar(
        "DELETE FROM carts WHERE user_id IS NULL AND (updated_at < $1 OR (updated_at < $2
             AND NOT EXISTS (SELECT 1 FROM cart_lines l WHERE l.cart_id = carts.id)))
         RETURNING id",
    )
    .bind(idle_before)
    .bind(empty_before)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(deleted.into_iter().map(CartId::from_db).collect())
}
