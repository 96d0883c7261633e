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
    let mut lines: Vec<IdleLine> = rows
        .into_iter()
        .map(|r| IdleLine {
            cart_id: r.cart_id,
            user_id: r.user_id,
            last_activity: r.last_activity,
            variant_id: VariantId::from_db(r.variant_id),
            quantity: r.quantity,
        })
        .collect();
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
