//! Changing a cart's lines: add (one upsert per variant, so concurrent adds add up), set a
//! quantity, remove a line, empty the cart. A line id only counts within the caller's cart.

use shop_core::db::Conn;
use shop_core::group_commit::Writer;
use shop_core::{Batch, CartId, Clock, Db, LineId, OrderId, Quantity, VariantId};
use sqlx::FromRow;
use sqlx::any::AnyRow;

use crate::contents::Item;
use crate::{CartError, MAX_LINES, MAX_QUANTITY};

async fn item(db: &Db, id: &VariantId) -> Result<Item, CartError> {
    crate::contents::items(db, std::slice::from_ref(id))
        .await?
        .into_iter()
        .next()
        .ok_or(CartError::UnknownVariant)
}

/// How often at most a cart's last-activity time (`carts.updated_at`) moves: once a minute.
/// A cart counts as left after an hour, so a minute's precision changes nothing a shopper or
/// the merchant sees; and a cart a shopper changes many times a minute is written once, not
/// at every change. On PostgreSQL such a write is never a cheap in-place (HOT) update: the
/// column is indexed (for the idle-cart and clean-up scans), so every change added an entry
/// to each of the table's indexes.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A cart's other lines (for the line limit) and this variant's units so far.
#[derive(sqlx::FromRow)]
struct Occupancy {
    others: i64,
    before: i64,
}

/// The line an add wrote.
#[derive(sqlx::FromRow)]
struct Upserted {
    id: String,
    quantity: i64,
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
    quantity: Quantity,
) -> Result<Added, CartError> {
    let v = item(db, variant_id).await?;
    let (now, cart) = (clock.now().millis(), cart.clone());
    // Through the group commit: on SQLite adds at the same moment share one commit.
    db.write(move |mut w| {
        Box::pin(async move { add_on(w.conn().await?, now, &cart, &v, quantity.get()).await })
    })
    .await
}

/// Whose cart a shopper's add goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartOf {
    /// A guest's: the one their session names, if it still is a guest cart; else a new one.
    Guest(Option<CartId>),
    /// A customer's own cart (see [`crate::for_user`]).
    User(CartId),
}

/// What [`add_to`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedTo {
    pub added: Added,
    /// The cart added to.
    pub cart: CartId,
    /// The cart is a new guest cart (its id goes into the guest's session).
    pub created: bool,
    /// Units in the cart now (the header's count).
    pub units: i64,
    /// The item added (as the catalog had it).
    pub item: Item,
}

/// The cart as an add finds it, in one read: whether it is a guest's, the order it is being
/// checked out as, its lines' occupancy (as [`Occupancy`]), the units on its other lines and
/// when it was last marked changed.
#[derive(sqlx::FromRow)]
struct Found {
    guest: i64,
    order_id: Option<String>,
    others: i64,
    before: i64,
    other_units: i64,
    touched: i64,
}

/// A shopper's add to cart in one write and one read (of the variant): finds the cart (for a
/// guest, makes one if theirs is gone), refuses a cart being checked out (with the order, for
/// the caller to withdraw first: [`CartError::CheckingOut`]), adds as [`add`] does and counts
/// the cart's units (its other lines' as found, plus the line's as written), all in one job of
/// the group commit. The job costs the writer two round trips on SQLite (finding the cart,
/// then writing), and one for a new cart.
pub async fn add_to(
    db: &Db,
    clock: &Clock,
    to: &CartOf,
    variant_id: &VariantId,
    quantity: Quantity,
) -> Result<AddedTo, CartError> {
    let v = item(db, variant_id).await?;
    sellable(&v)?;
    let (now, to) = (clock.now().millis(), to.clone());
    db.write(move |mut w| {
        Box::pin(async move {
            let existing = match &to {
                CartOf::Guest(None) => None,
                CartOf::Guest(Some(id)) => find(&mut w, id, &v.variant_id)
                    .await?
                    .filter(|f| f.guest == 1)
                    .map(|f| (id.clone(), f)),
                CartOf::User(id) => Some((
                    id.clone(),
                    find(&mut w, id, &v.variant_id)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?,
                )),
            };
            let mut batch = w.batch();
            let (cart, created, found) = match existing {
                Some((cart, found)) => (cart, false, found),
                None => {
                    let cart = CartId::new();
                    batch
                        .add("INSERT INTO carts (id, created_at, updated_at) VALUES ($1, $2, $2)")
                        .bind(cart.as_str().to_owned())
                        .bind(now);
                    let found = Found {
                        guest: 1,
                        order_id: None,
                        others: 0,
                        before: 0,
                        other_units: 0,
                        touched: now,
                    };
                    (cart, true, found)
                }
            };
            if let Some(order) = found.order_id {
                return Err(CartError::CheckingOut(OrderId::from_db(order)));
            }
            let occupancy = Occupancy {
                others: found.others,
                before: found.before,
            };
            let put = put_into(&mut batch, now, &cart, &v, quantity.get(), occupancy)?;
            // What the touch's condition would find, known already: skip its round trip.
            if found.touched <= now.saturating_sub(TOUCH_EVERY_MS) {
                touch_into(&mut batch, &cart, now);
            }
            let rows = w.fetch_all(batch).await.map_err(Put::error)?;
            let added = put.added(&rows)?;
            let units = found.other_units.saturating_add(added.quantity);
            Ok(AddedTo {
                added,
                cart,
                created,
                units,
                item: v,
            })
        })
    })
    .await
}

/// The cart as an add finds it (`None`: there is no such cart), in the job's first round trip.
async fn find(
    w: &mut Writer<'_>,
    cart: &CartId,
    variant: &VariantId,
) -> Result<Option<Found>, sqlx::Error> {
    let mut batch = w.batch();
    batch
        .add(
            "SELECT CAST(CASE WHEN c.user_id IS NULL THEN 1 ELSE 0 END AS BIGINT) AS guest,
                    c.order_id,
                    CAST(COALESCE(SUM(CASE WHEN l.variant_id <> $2 THEN 1 ELSE 0 END), 0)
                         AS BIGINT) AS others,
                    CAST(COALESCE(MAX(CASE WHEN l.variant_id = $2 THEN l.quantity END), 0)
                         AS BIGINT) AS before,
                    CAST(COALESCE(SUM(CASE WHEN l.variant_id <> $2 THEN l.quantity ELSE 0 END), 0)
                         AS BIGINT) AS other_units,
                    c.updated_at AS touched
             FROM carts c LEFT JOIN cart_lines l ON l.cart_id = c.id
             WHERE c.id = $1
             GROUP BY c.id, c.user_id, c.order_id, c.updated_at",
        )
        .bind(cart.as_str().to_owned())
        .bind(variant.as_str().to_owned());
    w.fetch_all(batch)
        .await?
        .first()
        .map(Found::from_row)
        .transpose()
}

/// An item can go into a cart.
fn sellable(v: &Item) -> Result<(), CartError> {
    if !v.on_sale {
        return Err(CartError::NotOnSale);
    }
    if v.available < 1 {
        return Err(CartError::OutOfStock);
    }
    Ok(())
}

/// [`add`] inside the caller's transaction, for an item already looked up.
pub(crate) async fn add_on(
    conn: &mut Conn,
    now: i64,
    cart: &CartId,
    v: &Item,
    quantity: i64,
) -> Result<Added, CartError> {
    sellable(v)?;
    // The cart's other lines (for the line limit) and this variant's units so far, in one read.
    let occupancy: Occupancy = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN variant_id <> $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
                    AS others,
                CAST(COALESCE(MAX(CASE WHEN variant_id = $2 THEN quantity END), 0) AS BIGINT)
                    AS before
         FROM cart_lines WHERE cart_id = $1",
    )
    .bind(cart.as_str())
    .bind(v.variant_id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let mut batch = Batch::new(conn);
    let put = put_into(&mut batch, now, cart, v, quantity, occupancy)?;
    touch_into(&mut batch, cart, now);
    let rows = batch.fetch_all(conn).await.map_err(Put::error)?;
    put.added(&rows)
}

/// How to read what [`put_into`]'s statements return.
struct Put {
    /// More units were asked for than the line may hold.
    capped: bool,
}

impl Put {
    /// The add, from the rows the batch returned (the line's first).
    fn added(&self, rows: &[AnyRow]) -> Result<Added, CartError> {
        let line = Upserted::from_row(rows.first().ok_or(sqlx::Error::RowNotFound)?)?;
        Ok(Added {
            line_id: LineId::from_db(line.id),
            quantity: line.quantity,
            capped: self.capped,
        })
    }

    /// The batch's error as the add's: a cart deleted under us (cleaned up) or a variant
    /// deleted leaves the line pointing at nothing.
    fn error(e: sqlx::Error) -> CartError {
        foreign_key(e, CartError::UnknownVariant)
    }
}

/// Adds to `batch` what puts `quantity` units of `v` on the cart's line for it (made if
/// missing), within the limits given what the cart holds (the caller marks the cart changed,
/// with [`touch_into`]). The line's id and quantity are the first row the batch returns from
/// here.
fn put_into(
    batch: &mut Batch,
    now: i64,
    cart: &CartId,
    v: &Item,
    quantity: i64,
    Occupancy { others, before }: Occupancy,
) -> Result<Put, CartError> {
    sellable(v)?;
    let limit = v.available.min(MAX_QUANTITY);
    if others >= MAX_LINES {
        return Err(CartError::Full);
    }
    // One statement: a concurrent add of the same variant adds up on the same line.
    batch
        .add(
            "INSERT INTO cart_lines (id, cart_id, variant_id, quantity, unit_price_minor,
                                     currency, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (cart_id, variant_id) DO UPDATE SET
                 quantity = CASE WHEN cart_lines.quantity + $4 > $8 THEN $8
                                 ELSE cart_lines.quantity + $4 END,
                 updated_at = $7
             RETURNING id, quantity",
        )
        .bind(LineId::new().as_str().to_owned())
        .bind(cart.as_str().to_owned())
        .bind(v.variant_id.as_str().to_owned())
        .bind(quantity.min(limit))
        .bind(v.price.minor())
        .bind(v.price.currency().code().to_owned())
        .bind(now)
        .bind(limit);
    Ok(Put {
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

/// Marks `cart` changed at `now`, as one statement of a [`Batch`]: unless it already was in
/// the last [`TOUCH_EVERY_MS`], when it writes nothing.
fn touch_into(batch: &mut Batch, cart: &CartId, now: i64) {
    batch
        .add("UPDATE carts SET updated_at = $1 WHERE id = $2 AND updated_at <= $3")
        .bind(now)
        .bind(cart.as_str().to_owned())
        .bind(now.saturating_sub(TOUCH_EVERY_MS));
}

/// Sets a line's quantity (1 to 99, at most the units available). The line must be in
/// `cart`: another shopper's line id is "not in your cart".
pub async fn set_quantity(
    db: &Db,
    clock: &Clock,
    cart: &CartId,
    line_id: &LineId,
    quantity: Quantity,
) -> Result<i64, CartError> {
    let variant_id: String =
        sqlx::query_scalar("SELECT variant_id FROM cart_lines WHERE id = $1 AND cart_id = $2")
            .bind(line_id.as_str())
            .bind(cart.as_str())
            .fetch_optional(db.reader())
            .await?
            .ok_or(CartError::UnknownLine)?;
    let v = item(db, &VariantId::from_db(variant_id)).await?;
    if !v.on_sale {
        return Err(CartError::NotOnSale);
    }
    if v.available < 1 {
        return Err(CartError::OutOfStock);
    }
    let quantity = quantity.get().min(v.available);
    let now = clock.now().millis();
    let mut batch = Batch::for_db(db);
    batch
        .add(
            "UPDATE cart_lines SET quantity = $1, updated_at = $2 WHERE id = $3 AND cart_id = $4
             RETURNING id",
        )
        .bind(quantity)
        .bind(now)
        .bind(line_id.as_str().to_owned())
        .bind(cart.as_str().to_owned());
    change_line(db, cart, now, batch).await?;
    Ok(quantity)
}

/// Removes a line from `cart`.
pub async fn remove(
    db: &Db,
    clock: &Clock,
    cart: &CartId,
    line_id: &LineId,
) -> Result<(), CartError> {
    let mut batch = Batch::for_db(db);
    batch
        .add("DELETE FROM cart_lines WHERE id = $1 AND cart_id = $2 RETURNING id")
        .bind(line_id.as_str().to_owned())
        .bind(cart.as_str().to_owned());
    change_line(db, cart, clock.now().millis(), batch).await
}

/// Runs `change`, a statement on one line of `cart` that returns the line's id, and marks the
/// cart changed, in one round trip. A line that is not in `cart` changes nothing.
async fn change_line(db: &Db, cart: &CartId, now: i64, mut change: Batch) -> Result<(), CartError> {
    touch_into(&mut change, cart, now);
    db.write(move |mut w| {
        Box::pin(async move {
            // Only the change returns a row; without one its job (the touch) rolls back.
            if w.fetch_all(change).await?.is_empty() {
                return Err(CartError::UnknownLine);
            }
            Ok(())
        })
    })
    .await
}

/// Empties `cart`.
pub async fn clear(db: &Db, clock: &Clock, cart: &CartId) -> Result<(), CartError> {
    let mut batch = Batch::for_db(db);
    batch
        .add("DELETE FROM cart_lines WHERE cart_id = $1")
        .bind(cart.as_str().to_owned());
    touch_into(&mut batch, cart, clock.now().millis());
    db.write_batch(batch).await?;
    Ok(())
}
