//! Housekeeping of guest carts: the empty ones after a day, any after the guest's session
//! has expired. The caller ends the sessions that held them.

use shop_core::{CartId, Db};

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
