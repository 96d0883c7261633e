//! A cart going through checkout: the order it is being checked out as (one at a time, so a
//! cart converts once), and what happens to the cart when that order is paid or lapses.
//! Each runs in the checkout's own transaction.

use shop_core::db::Conn;
use shop_core::{Batch, CartId, Db, OrderId, VariantId};

/// The order a cart is being checked out as, if one awaits payment.
pub async fn pending_order(db: &Db, cart: &CartId) -> Result<Option<OrderId>, sqlx::Error> {
    let id: Option<Option<String>> = sqlx::query_scalar("SELECT order_id FROM carts WHERE id = $1")
        .bind(cart.as_str())
        .fetch_optional(db.reader())
        .await?;
    Ok(id.flatten().map(OrderId::from_db))
}

/// Marks `cart` as being checked out as `order`, as one statement of the caller's
/// [`Batch`]: it returns the cart's id (column `checkout_started`), or no row when the cart
/// is already being checked out as another order (or is gone; then the caller's transaction
/// must roll back).
pub fn start_checkout_into(batch: &mut Batch, cart: &CartId, order: &OrderId, now: i64) {
    batch
        .add(
            "UPDATE carts SET order_id = $1, updated_at = $3 WHERE id = $2 AND order_id IS NULL
             RETURNING id AS checkout_started",
        )
        .bind(order.as_str().to_owned())
        .bind(cart.as_str().to_owned())
        .bind(now);
}

/// The order lapsed (expired, cancelled, declined): the cart is as the shopper left it and
/// can be checked out again.
pub async fn checkout_ended(
    conn: &mut Conn,
    cart: &CartId,
    order: &OrderId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE carts SET order_id = NULL WHERE id = $1 AND order_id = $2")
        .bind(cart.as_str())
        .bind(order.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The order was paid: the units bought leave the cart (anything the shopper added since
/// stays) and the cart can be used again.
pub async fn checkout_paid(
    conn: &mut Conn,
    cart: &CartId,
    order: &OrderId,
    bought: &[(VariantId, i64)],
    now: i64,
) -> Result<(), sqlx::Error> {
    for (variant, quantity) in bought {
        sqlx::query(
            "DELETE FROM cart_lines WHERE cart_id = $1 AND variant_id = $2 AND quantity <= $3",
        )
        .bind(cart.as_str())
        .bind(variant.as_str())
        .bind(quantity)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE cart_lines SET quantity = quantity - $3, updated_at = $4
             WHERE cart_id = $1 AND variant_id = $2 AND quantity > $3",
        )
        .bind(cart.as_str())
        .bind(variant.as_str())
        .bind(quantity)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE carts SET order_id = NULL, updated_at = $3 WHERE id = $1 AND order_id = $2",
    )
    .bind(cart.as_str())
    .bind(order.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
