//! Finding a cart: a customer's (one per account, created on first use) or a guest's.

use shop_core::db::Conn;
use shop_core::{Batch, CartId, Clock, Db, UserId};
use sqlx::Row;

use crate::CartError;

/// The customer's cart, if they have one (reads only: pages that just show the cart never
/// create one).
pub async fn find_for_user(db: &Db, user: &UserId) -> Result<Option<CartId>, CartError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM carts WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_optional(db.reader())
        .await?;
    Ok(id.map(CartId::from_db))
}

/// The customer's cart, created on first use.
pub async fn for_user(db: &Db, clock: &Clock, user: &UserId) -> Result<CartId, CartError> {
    if let Some(id) = find_for_user(db, user).await? {
        return Ok(id);
    }
    let now = clock.now().millis();
    // Two first requests at once: the unique user_id lets one insert win, both read it.
    let mut batch = Batch::for_db(db);
    batch
        .add(
            "INSERT INTO carts (id, user_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(CartId::new().as_str().to_owned())
        .bind(user.as_str().to_owned())
        .bind(now);
    batch
        .add("SELECT id FROM carts WHERE user_id = $1")
        .bind(user.as_str().to_owned());
    let rows = db
        .write(move |mut w| Box::pin(async move { w.fetch_all(batch).await }))
        .await?;
    let id: String = rows
        .first()
        .ok_or(sqlx::Error::RowNotFound)?
        .try_get("id")?;
    Ok(CartId::from_db(id))
}

/// A new guest cart (its id goes into the guest's session).
pub async fn create_guest(db: &Db, clock: &Clock) -> Result<CartId, CartError> {
    let id = CartId::new();
    let mut batch = Batch::for_db(db);
    batch
        .add("INSERT INTO carts (id, created_at, updated_at) VALUES ($1, $2, $2)")
        .bind(id.as_str().to_owned())
        .bind(clock.now().millis());
    db.write_batch(batch).await?;
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

pub(crate) async fn delete_guest(conn: &mut Conn, guest: &CartId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM carts WHERE id = $1 AND user_id IS NULL")
        .bind(guest.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
