//! Reminder mails about abandoned carts: staff ask for one from the abandoned-cart report
//! for a customer's cart ([`request`]: once per cart, never for a guest, a cart bought
//! since, or a customer who opted out); the outbox carries [`REMINDER_REQUESTED`] to the
//! notifications, which mail what is in the cart by then ([`contents`]) with a link that
//! opts the customer out of every later reminder ([`opt_out`]).

use serde::{Deserialize, Serialize};
use shop_core::money::Money;
use shop_core::{Clock, Db, outbox};

/// Event kind written when staff ask for a reminder.
pub const REMINDER_REQUESTED: &str = "analytics.cart_reminder_requested";

/// Payload of [`REMINDER_REQUESTED`]: the abandonment it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRequested {
    pub cart_id: String,
    pub last_activity: i64,
    pub user_id: String,
}

/// Why no reminder is sent.
#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error("No such abandoned cart.")]
    NotFound,
    #[error("This cart is a guest's: there is no address to write to.")]
    Guest,
    #[error("This cart was bought since; no reminder is needed.")]
    Bought,
    #[error("A reminder about this cart was already sent.")]
    AlreadySent,
    #[error("This customer asked not to get reminders.")]
    OptedOut,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Left {
    user_id: Option<String>,
    order_id: Option<String>,
    reminded: i64,
}

/// The customer a reminder about the abandonment of `cart_id` at `last_activity` would go
/// to, or why none may be sent.
pub async fn customer(db: &Db, cart_id: &str, last_activity: i64) -> Result<String, ReminderError> {
    let mut conn = db.reader().acquire().await?;
    check(&mut conn, cart_id, last_activity).await
}

async fn check(
    conn: &mut shop_core::db::Conn,
    cart_id: &str,
    last_activity: i64,
) -> Result<String, ReminderError> {
    let left: Option<Left> = sqlx::query_as(
        "SELECT user_id, order_id,
                (SELECT CAST(COUNT(*) AS BIGINT) FROM analytics_abandoned_carts r
                 WHERE r.cart_id = a.cart_id AND r.reminded_at IS NOT NULL) AS reminded
         FROM analytics_abandoned_carts a
         WHERE cart_id = $1 AND last_activity = $2 AND vendor_id = ''",
    )
    .bind(cart_id)
    .bind(last_activity)
    .fetch_optional(&mut *conn)
    .await?;
    let left = left.ok_or(ReminderError::NotFound)?;
    let user_id = left.user_id.ok_or(ReminderError::Guest)?;
    if left.order_id.is_some() {
        return Err(ReminderError::Bought);
    }
    if left.reminded > 0 {
        return Err(ReminderError::AlreadySent);
    }
    let opted_out: Option<i64> = sqlx::query_scalar(
        "SELECT opted_out_at FROM analytics_reminder_optouts WHERE user_id = $1",
    )
    .bind(&user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if opted_out.is_some() {
        return Err(ReminderError::OptedOut);
    }
    Ok(user_id)
}

/// Asks for a reminder about the abandonment of `cart_id` at `last_activity`, for the
/// customer whose cart it is; returns who that is. Marks the cart reminded and queues the
/// mail in one transaction, so two clicks (or two staff) send one mail.
pub async fn request(
    db: &Db,
    clock: &Clock,
    cart_id: &str,
    last_activity: i64,
) -> Result<String, ReminderError> {
    let mut tx = db.begin().await?;
    let user_id = check(&mut tx, cart_id, last_activity).await?;
    // Two staff at once (PostgreSQL lets both read the row): the second update finds it
    // marked and changes nothing.
    let marked = sqlx::query(
        "UPDATE analytics_abandoned_carts SET reminded_at = $3
         WHERE cart_id = $1 AND last_activity = $2 AND vendor_id = '' AND reminded_at IS NULL",
    )
    .bind(cart_id)
    .bind(last_activity)
    .bind(clock.now().millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Err(ReminderError::AlreadySent);
    }
    outbox::enqueue(
        &mut tx,
        clock,
        REMINDER_REQUESTED,
        &ReminderRequested {
            cart_id: cart_id.to_owned(),
            last_activity,
            user_id: user_id.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// Never reminds `user_id` again (asking twice changes nothing).
pub async fn opt_out(db: &Db, clock: &Clock, user_id: &str) -> Result<(), sqlx::Error> {
    let mut batch = shop_core::Batch::for_db(db);
    batch
        .add(
            "INSERT INTO analytics_reminder_optouts (user_id, opted_out_at) VALUES ($1, $2)
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id.to_owned())
        .bind(clock.now().millis());
    db.write_batch(batch).await
}

/// Which of `user_ids` opted out of reminders.
pub async fn opted_out(
    db: &Db,
    user_ids: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut out = std::collections::HashSet::new();
    for chunk in user_ids.chunks(500) {
        let sql = format!(
            "SELECT user_id FROM analytics_reminder_optouts WHERE user_id IN ({})",
            shop_core::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        out.extend(query.fetch_all(db.reader()).await?);
    }
    Ok(out)
}

/// A line of a cart as a reminder shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderLine {
    pub product_name: String,
    /// "Size: M, Colour: Blue", or empty.
    pub options: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub total: Money,
}

/// What a reminder about an abandonment would show, if it is still worth sending: the
/// cart's lines still on sale, at today's prices. `None`: bought since, the customer opted
/// out, or nothing left in the cart to buy.
pub async fn contents(
    db: &Db,
    request: &ReminderRequested,
) -> Result<Option<Vec<ReminderLine>>, sqlx::Error> {
    let bought: Option<Option<String>> = sqlx::query_scalar(
        "SELECT order_id FROM analytics_abandoned_carts
         WHERE cart_id = $1 AND last_activity = $2 AND vendor_id = ''",
    )
    .bind(&request.cart_id)
    .bind(request.last_activity)
    .fetch_optional(db.reader())
    .await?;
    let still_left = matches!(bought, Some(None));
    if !still_left
        || !opted_out(db, std::slice::from_ref(&request.user_id))
            .await?
            .is_empty()
    {
        return Ok(None);
    }
    let lines = cart::idle::lines_of(db, &request.cart_id).await?;
    if lines
        .iter()
        .any(|l| l.user_id.as_deref() != Some(&request.user_id))
    {
        // The cart is someone else's now (it cannot be, but a reminder must never show one
        // customer's cart to another).
        return Ok(None);
    }
    let ids: Vec<shop_core::VariantId> = lines.iter().map(|l| l.variant_id.clone()).collect();
    let variants = catalog::variants::sellable(db, &ids)
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let shown: Vec<ReminderLine> = lines
        .iter()
        .filter_map(|line| {
            let v = variants
                .iter()
                .find(|v| v.id == line.variant_id && v.on_sale)?;
            Some(ReminderLine {
                product_name: v.product_name.clone(),
                options: v
                    .options
                    .iter()
                    .map(|(k, o)| format!("{k}: {o}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                quantity: line.quantity,
                unit_price: v.price,
                total: v.price.checked_mul(line.quantity).ok()?,
            })
        })
        .collect();
    Ok((!shown.is_empty()).then_some(shown))
}
