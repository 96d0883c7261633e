//! Carts left with items: what the analytics' abandoned-cart report snapshots.

use shop_core::{Db, VariantId};

/// One line of a cart untouched for a while.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdleLine {
    pub cart_id: String,
    /// The customer's account (`None`: a guest's cart).
    pub user_id: Option<String>,
    /// When the cart last changed (milliseconds).
    pub last_activity: i64,
    pub variant_id: VariantId,
    pub quantity: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    cart_id: String,
    user_id: Option<String>,
    last_activity: i64,
    variant_id: String,
    quantity: i64,
}

impl Row {
    fn line(self) -> IdleLine {
        IdleLine {
            cart_id: self.cart_id,
            user_id: self.user_id,
            last_activity: self.last_activity,
            variant_id: VariantId::from_db(self.variant_id),
            quantity: self.quantity,
        }
    }
}

/// The lines of cart `cart_id` as it is now (none: the cart is empty or gone), in the order
/// they were added.
pub async fn lines_of(db: &Db, cart_id: &str) -> Result<Vec<IdleLine>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id AS cart_id, c.user_id, c.updated_at AS last_activity, l.variant_id,
                CAST(l.quantity AS BIGINT) AS quantity
         FROM carts c JOIN cart_lines l ON l.cart_id = c.id
         WHERE c.id = $1
         ORDER BY l.id",
    )
    .bind(cart_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().map(Row::line).collect())
}

/// The lines of carts that last changed at or after `since` and before `before`
/// (milliseconds), oldest cart first, at most `limit` lines (whole carts: a cart is never
/// cut in two, so the next call can start at the last cart's time).
pub async fn idle_lines(
    db: &Db,
    since: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<IdleLine>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id AS cart_id, c.user_id, c.updated_at AS last_activity, l.variant_id,
                CAST(l.quantity AS BIGINT) AS quantity
         FROM carts c JOIN cart_lines l ON l.cart_id = c.id
         WHERE c.updated_at >= $1 AND c.updated_at < $2
         ORDER BY c.updated_at, c.id, l.id
         LIMIT $3",
    )
    .bind(since)
    .bind(before)
    .bind(limit.saturating_add(1))
    .fetch_all(db.reader())
    .await?;
    let mut lines: Vec<IdleLine> = rows.into_iter().map(Row::line).collect();
    if i64::try_from(lines.len()).unwrap_or(i64::MAX) > limit {
        // Drop the last cart, which may be cut short, unless it is the only one.
        let last = lines.last().map(|l| l.cart_id.clone());
        let kept = lines
            .iter()
            .filter(|l| Some(&l.cart_id) != last.as_ref())
            .count();
        if kept > 0 {
            lines.truncate(kept);
        }
    }
    Ok(lines)
}
