//! The stock ledger: stock on hand per variant, changed only with a reason that is written
//! beside the change (`stock_adjustments`), and the history an editor reads.

use serde_json::json;
use shop_core::db::Conn;
use shop_core::{Batch, Clock, Db, UserId};

use crate::editor::{Editor, audit_product, check_access, too_long, variant_product};
use crate::{Catalog, CatalogError, MAX_STOCK, ProductId, VariantId, index};

/// Why stock changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockReason {
    Import,
    Admin,
    Order,
    Cancellation,
    Refund,
}

impl StockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StockReason::Import => "import",
            StockReason::Admin => "admin",
            StockReason::Order => "order",
            StockReason::Cancellation => "cancellation",
            StockReason::Refund => "refund",
        }
    }
}

/// One line of the stock ledger, written in the same transaction as the change to
/// `on_hand` it explains.
pub(crate) struct Adjustment<'a> {
    pub variant_id: &'a str,
    pub delta: i64,
    pub reason: StockReason,
    pub note: &'a str,
    pub actor_id: Option<&'a UserId>,
    pub on_hand_after: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
}

pub(crate) async fn record_adjustment(
    conn: &mut Conn,
    a: Adjustment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_adjustments (id, variant_id, delta, reason, note, actor_id, created_at,
                on_hand_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(shop_core::id::new_uuid_v7())
    .bind(a.variant_id)
    .bind(a.delta)
    .bind(a.reason.as_str())
    .bind(a.note)
    .bind(a.actor_id.map(UserId::as_str))
    .bind(a.at)
    .bind(a.on_hand_after)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `delta` (negative to remove) to a variant's stock on hand, recording the reason and
/// a note. Stock on hand never drops below what is reserved for open orders. Returns the new
/// stock on hand.
async fn adjust_stock(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    variant_id: &str,
    delta: i64,
    note: &str,
) -> Result<i64, CatalogError> {
    if delta == 0 {
        return Err(CatalogError::invalid(
            "delta",
            "Enter how many units to add, or a negative number to remove.",
        ));
    }
    if delta.abs() > MAX_STOCK {
        return Err(CatalogError::invalid(
            "delta",
            "That is more than 10,000,000 units.",
        ));
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(CatalogError::invalid(
            "note",
            "Say why the stock changes (for example \"stock count\" or \"damaged\").",
        ));
    }
    if note.chars().count() > 200 {
        return Err(too_long("note", "The reason", 200));
    }
    let mut tx = db.begin().await?;
    let product_id = variant_product(&mut tx, editor, variant_id).await?;
    // One conditional update: never below the reserved units, never above the maximum.
    let on_hand: Option<i64> = sqlx::query_scalar(
        "UPDATE product_variants SET on_hand = on_hand + $1, updated_at = $2
         WHERE id = $3 AND on_hand + $1 >= reserved AND on_hand + $1 <= $4
         RETURNING on_hand",
    )
    .bind(delta)
    .bind(clock.now().millis())
    .bind(variant_id)
    .bind(MAX_STOCK)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(on_hand) = on_hand else {
        return Err(CatalogError::invalid(
            "delta",
            "Stock cannot go below the units reserved for open orders (or above 10,000,000).",
        ));
    };
    record_adjustment(
        &mut tx,
        Adjustment {
            variant_id,
            delta,
            reason: StockReason::Admin,
            note,
            actor_id: editor.actor.user_id.as_ref(),
            on_hand_after: on_hand,
            at: clock.now().millis(),
        },
    )
    .await?;
    index::refresh_summary(&mut tx, &product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "stock.adjusted",
        &product_id,
        Some(json!({ "variant_id": variant_id, "on_hand": on_hand - delta })),
        Some(json!({ "variant_id": variant_id, "on_hand": on_hand, "note": note })),
    )
    .await?;
    tx.commit().await?;
    Ok(on_hand)
}

/// One line of a variant's stock history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockEntry {
    pub variant_id: VariantId,
    pub delta: i64,
    pub reason: String,
    pub note: String,
    pub on_hand_after: Option<i64>,
    /// Who made the change (auth knows their email); `None` for the system (imports).
    pub actor_id: Option<UserId>,
    pub at: shop_core::Timestamp,
}

#[derive(sqlx::FromRow)]
struct StockRow {
    variant_id: String,
    delta: i64,
    reason: String,
    note: String,
    on_hand_after: Option<i64>,
    actor_id: Option<String>,
    created_at: i64,
}

/// The stock changes of every variant of a product, newest first: at most `limit` per
/// variant, in one query (not one per variant).
pub async fn stock_history(
    db: &Db,
    editor: &Editor,
    product: &ProductId,
    limit: i64,
) -> Result<Vec<StockEntry>, CatalogError> {
    let mut conn = db.reader().acquire().await?;
    check_access(&mut conn, editor, product.as_str()).await?;
    let rows: Vec<StockRow> = sqlx::query_as(
        "SELECT variant_id, delta, reason, note, on_hand_after, actor_id, created_at FROM (
             SELECT a.variant_id, a.delta, a.reason, a.note, a.on_hand_after, a.actor_id,
                    a.created_at, a.id,
                    ROW_NUMBER() OVER (PARTITION BY a.variant_id
                                       ORDER BY a.created_at DESC, a.id DESC) AS n
             FROM stock_adjustments a JOIN product_variants v ON v.id = a.variant_id
             WHERE v.product_id = $1
         ) latest WHERE n <= $2 ORDER BY created_at DESC, id DESC",
    )
    .bind(product.as_str())
    .bind(limit.clamp(1, 500))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StockEntry {
            variant_id: VariantId::from_db(r.variant_id),
            delta: r.delta,
            reason: r.reason,
            note: r.note,
            on_hand_after: r.on_hand_after,
            actor_id: r.actor_id.map(UserId::from_db),
            at: shop_core::Timestamp(r.created_at),
        })
        .collect())
}

impl Catalog {
    /// Adds `delta` (negative to remove) to a variant's stock on hand with the reason in
    /// `note`; never below the units reserved for open orders. Returns the new stock on hand.
    pub async fn adjust_stock(
        &self,
        editor: &Editor,
        variant: &VariantId,
        delta: i64,
        note: &str,
    ) -> Result<i64, CatalogError> {
        let on_hand = adjust_stock(
            self.db(),
            self.clock(),
            editor,
            variant.as_str(),
            delta,
            note,
        )
        .await?;
        self.changed();
        Ok(on_hand)
    }
}

/// Brings the listed availability of the products of `variants` (the summary the listings
/// filter and sort on) in line with their variants, after holds, releases or sales in the
/// caller's transaction. Call it once after all of them: it locks each product row once, in
/// id order, so two transactions over the same products never wait on each other in a
/// circle.
pub async fn refresh_availability(
    conn: &mut Conn,
    variants: &[VariantId],
) -> Result<(), sqlx::Error> {
    let mut products: Vec<String> = Vec::with_capacity(variants.len());
    for v in variants {
        let product: Option<String> =
            sqlx::query_scalar("SELECT product_id FROM product_variants WHERE id = $1")
                .bind(v.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        products.extend(product);
    }
    let products: Vec<ProductId> = products.into_iter().map(ProductId::from_db).collect();
    refresh_products(conn, &products).await
}

/// [`refresh_availability`] for callers that know the variants' products already.
pub async fn refresh_products(conn: &mut Conn, products: &[ProductId]) -> Result<(), sqlx::Error> {
    let mut batch = Batch::new(conn);
    refresh_products_into(&mut batch, products);
    batch.execute(conn).await?;
    Ok(())
}

/// [`refresh_products`] as statements of a [`Batch`] (one per product, each changing its
/// product's row).
pub fn refresh_products_into(batch: &mut Batch, products: &[ProductId]) {
    let mut products: Vec<&ProductId> = products.iter().collect();
    // Product id order, so two writers on PostgreSQL lock them in the same order.
    products.sort();
    products.dedup();
    for product in products {
        batch
            .add(
                "UPDATE products SET available = COALESCE((
                     SELECT SUM(v.on_hand - v.reserved) FROM product_variants v
                     WHERE v.product_id = products.id AND v.status = 'active'), 0)
                 WHERE id = $1",
            )
            .bind(product.as_str().to_owned());
    }
}

/// Holds `quantity` units of a variant for an order, as one statement of the caller's
/// [`Batch`] (in its transaction): one conditional update, so two buyers can never hold the
/// same unit. It returns the variant's id (column `held`) when the units are held, and no row when fewer
/// than `quantity` are available or the variant is not on sale (archived, unpublished,
/// deleted). Hold in variant id order and refresh the products' availability after
/// ([`refresh_products_into`]).
pub fn reserve_into(batch: &mut Batch, variant: &VariantId, quantity: i64, at: i64) {
    batch
        .add(
            "UPDATE product_variants SET reserved = reserved + $1, updated_at = $3
             WHERE id = $2 AND status = 'active' AND on_hand - reserved >= $1
               AND EXISTS (SELECT 1 FROM products p
                           WHERE p.id = product_variants.product_id AND p.status = 'active')
             RETURNING id AS held",
        )
        .bind(quantity)
        .bind(variant.as_str().to_owned())
        .bind(at);
}

/// Gives back units held by [`reserve_into`] (an order expired or was cancelled unpaid), in the
/// caller's transaction. The caller makes sure it happens once per hold.
pub async fn release(
    conn: &mut Conn,
    variant: &VariantId,
    quantity: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE product_variants
         SET reserved = CASE WHEN reserved >= $1 THEN reserved - $1 ELSE 0 END, updated_at = $3
         WHERE id = $2",
    )
    .bind(quantity)
    .bind(variant.as_str())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sells `quantity` units of a variant when an order is paid, in the caller's transaction:
/// stock on hand goes down, and so does the hold when the units were `held` by [`reserve_into`];
/// units not held (a payment that arrived after the hold was released) sell only if that
/// many are still free. The stock ledger records the sale with `note` (the order number).
/// `false` when the units were not there: nothing changed. The caller makes sure it happens
/// once per order.
pub async fn sell(
    conn: &mut Conn,
    variant: &VariantId,
    quantity: i64,
    held: bool,
    note: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let sql = if held {
        "UPDATE product_variants
         SET on_hand = on_hand - $1,
             reserved = CASE WHEN reserved >= $1 THEN reserved - $1 ELSE 0 END,
             updated_at = $3
         WHERE id = $2 AND on_hand >= $1
         RETURNING on_hand"
    } else {
        "UPDATE product_variants SET on_hand = on_hand - $1, updated_at = $3
         WHERE id = $2 AND on_hand - reserved >= $1
         RETURNING on_hand"
    };
    move_units(
        conn,
        sql,
        variant,
        quantity,
        -quantity,
        StockReason::Order,
        note,
        at,
    )
    .await
}

/// Runs `sql` (an update of `quantity` units of `variant` at `at`, returning `on_hand`) and,
/// when it changed a row, writes the ledger line for `delta`. `false` when nothing changed.
#[allow(clippy::too_many_arguments)]
async fn move_units(
    conn: &mut Conn,
    sql: &str,
    variant: &VariantId,
    quantity: i64,
    delta: i64,
    reason: StockReason,
    note: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let on_hand: Option<i64> = sqlx::query_scalar(sql)
        .bind(quantity)
        .bind(variant.as_str())
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(on_hand) = on_hand else {
        return Ok(false);
    };
    record_adjustment(
        conn,
        Adjustment {
            variant_id: variant.as_str(),
            delta,
            reason,
            note,
            actor_id: None,
            on_hand_after: on_hand,
            at,
        },
    )
    .await?;
    Ok(true)
}

/// Puts `quantity` units back on hand (a refund or a cancellation whose goods are back on
/// the shelf), in the caller's transaction, with `reason` and `note` (the order number) in
/// the ledger. The caller makes sure it happens once per refund. `false` when the variant no
/// longer exists: nothing changed.
pub async fn restock(
    conn: &mut Conn,
    variant: &VariantId,
    quantity: i64,
    reason: StockReason,
    note: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    move_units(
        conn,
        "UPDATE product_variants SET on_hand = on_hand + $1, updated_at = $3 WHERE id = $2
         RETURNING on_hand",
        variant,
        quantity,
        quantity,
        reason,
        note,
        at,
    )
    .await
}

/// The `stock.low` event: a sale took a variant's stock on hand below its threshold.
pub const STOCK_LOW: &str = "stock.low";

/// A variant whose stock on hand a sale took below its low-stock threshold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LowStock {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub product_name: String,
    pub sku: String,
    pub on_hand: i64,
    pub threshold: i64,
}

/// Of the variants just sold (variant, units), those the sale took from at or above their
/// threshold to below it, read in the caller's transaction: each crossing is reported once,
/// not at every later sale.
pub async fn crossed_low_stock(
    conn: &mut Conn,
    sold: &[(VariantId, i64)],
) -> Result<Vec<LowStock>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        product_id: String,
        name: String,
        sku: String,
        on_hand: i64,
        low_stock_threshold: i64,
    }
    let mut low = Vec::new();
    for (variant, quantity) in sold {
        let row: Option<Row> = sqlx::query_as(
            "SELECT v.id, v.product_id, p.name, v.sku, v.on_hand, v.low_stock_threshold
             FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1",
        )
        .bind(variant.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row
            && r.on_hand < r.low_stock_threshold
            && r.on_hand + quantity >= r.low_stock_threshold
        {
            low.push(LowStock {
                variant_id: VariantId::from_db(r.id),
                product_id: ProductId::from_db(r.product_id),
                product_name: r.name,
                sku: r.sku,
                on_hand: r.on_hand,
                threshold: r.low_stock_threshold,
            });
        }
    }
    Ok(low)
}
