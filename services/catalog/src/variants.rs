//! A product's variants (one SKU each): adding and changing them, their prices and
//! currency, and what the cart reads of them ([`sellable`]).

use serde_json::json;
use shop_core::db::Conn;
use shop_core::{Clock, Currency, Db, Money, Sku, UserId};

use crate::editor::{
    Editor, audit_product, check_access, pairs_json, unique_error, variant_product,
};
use crate::images::ImageRef;
use crate::stock::{Adjustment, StockReason, record_adjustment};
use crate::{Catalog, CatalogError, MAX_PRICE_MINOR, MAX_STOCK, ProductId, VariantId, index};

/// A variant's fields, as the edit form sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantInput {
    pub sku: Sku,
    /// Option values such as ("size", "M").
    pub options: Vec<(String, String)>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub low_stock_threshold: i64,
    /// Stock on hand when the variant is created (later changes go through
    /// [`adjust_stock`]).
    pub initial_stock: i64,
    pub archived: bool,
}

/// A variant's fields after validation.
pub(crate) struct CleanVariant {
    pub(crate) sku: String,
    options: String,
    pub(crate) price: Money,
    compare_at: Option<i64>,
    weight_grams: Option<i64>,
    low_stock_threshold: i64,
    initial_stock: i64,
    archived: bool,
}

pub(crate) fn clean_variant(input: &VariantInput) -> Result<CleanVariant, CatalogError> {
    let sku = input.sku.as_str().to_owned();
    if input.price.is_negative() {
        return Err(CatalogError::invalid(
            "price",
            "A price cannot be negative.",
        ));
    }
    if input.price.minor() > MAX_PRICE_MINOR {
        return Err(CatalogError::invalid("price", "That price is too high."));
    }
    let compare_at = match input.compare_at {
        None => None,
        Some(c) if c.currency() != input.price.currency() => {
            return Err(CatalogError::invalid(
                "compare_at",
                "The compare-at price must be in the same currency as the price.",
            ));
        }
        Some(c) if c.minor() <= input.price.minor() => {
            return Err(CatalogError::invalid(
                "compare_at",
                "The compare-at price must be higher than the price.",
            ));
        }
        Some(c) if c.minor() > MAX_PRICE_MINOR => {
            return Err(CatalogError::invalid(
                "compare_at",
                "That price is too high.",
            ));
        }
        Some(c) => Some(c.minor()),
    };
    if input
        .weight_grams
        .is_some_and(|w| !(0..=1_000_000).contains(&w))
    {
        return Err(CatalogError::invalid(
            "weight_grams",
            "The weight must be between 0 and 1,000,000 grams.",
        ));
    }
    if !(0..=MAX_STOCK).contains(&input.low_stock_threshold) {
        return Err(CatalogError::invalid(
            "low_stock_threshold",
            "The low-stock threshold must be 0 or more.",
        ));
    }
    if !(0..=MAX_STOCK).contains(&input.initial_stock) {
        return Err(CatalogError::invalid(
            "stock",
            "Stock must be between 0 and 10,000,000.",
        ));
    }
    Ok(CleanVariant {
        sku,
        options: pairs_json("options", "option", &input.options)?,
        price: input.price,
        compare_at,
        weight_grams: input.weight_grams,
        low_stock_threshold: input.low_stock_threshold,
        initial_stock: input.initial_stock,
        archived: input.archived,
    })
}

/// A variant's audited fields as the database holds them.
#[derive(sqlx::FromRow)]
struct VariantSnapshotRow {
    sku: String,
    options: String,
    price_minor: i64,
    compare_at_minor: Option<i64>,
    currency: String,
    on_hand: i64,
    low_stock_threshold: i64,
    status: String,
}

/// The audit view of a variant.
async fn variant_snapshot(
    conn: &mut Conn,
    variant_id: &str,
) -> Result<serde_json::Value, sqlx::Error> {
    let row: VariantSnapshotRow = sqlx::query_as(
        "SELECT sku, options, price_minor, compare_at_minor, currency, on_hand,
                low_stock_threshold, status
         FROM product_variants WHERE id = $1",
    )
    .bind(variant_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "sku": row.sku,
        "options": serde_json::from_str::<serde_json::Value>(&row.options).unwrap_or_default(),
        "price_minor": row.price_minor, "compare_at_minor": row.compare_at_minor,
        "currency": row.currency,
        "on_hand": row.on_hand, "low_stock_threshold": row.low_stock_threshold,
        "status": row.status,
    }))
}

pub(crate) async fn insert_variant(
    conn: &mut Conn,
    clock: &Clock,
    editor: &Editor,
    product_id: &str,
    position: i64,
    v: &CleanVariant,
) -> Result<VariantId, CatalogError> {
    let id = VariantId::new();
    let now = clock.now().millis();
    sqlx::query(
        "INSERT INTO product_variants (id, product_id, sku, options, price_minor, compare_at_minor,
                currency, weight_grams, on_hand, reserved, low_stock_threshold, position, status,
                created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $13)",
    )
    .bind(id.as_str())
    .bind(product_id)
    .bind(&v.sku)
    .bind(&v.options)
    .bind(v.price.minor())
    .bind(v.compare_at)
    .bind(v.price.currency().code())
    .bind(v.weight_grams)
    .bind(v.initial_stock)
    .bind(v.low_stock_threshold)
    .bind(position)
    .bind(if v.archived { "archived" } else { "active" })
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(unique_error)?;
    if v.initial_stock != 0 {
        record_adjustment(
            conn,
            Adjustment {
                variant_id: id.as_str(),
                delta: v.initial_stock,
                reason: StockReason::Admin,
                note: "initial stock",
                actor_id: editor.actor.user_id.as_ref(),
                on_hand_after: v.initial_stock,
                at: now,
            },
        )
        .await?;
    }
    Ok(id)
}

/// The currency a product's variants are priced in (its first variant's; the catalog keeps
/// one currency per product), or `None` when it has none yet. Editors' prices are read in
/// it: the browser never chooses the currency.
pub async fn product_currency(
    db: &Db,
    product: &ProductId,
) -> Result<Option<Currency>, CatalogError> {
    let code: Option<String> = sqlx::query_scalar(
        "SELECT currency FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1",
    )
    .bind(product.as_str())
    .fetch_optional(db.reader())
    .await?;
    Ok(code.and_then(|c| c.parse().ok()))
}

/// The currency a variant is priced in, or `None` when there is no such variant.
pub async fn variant_currency(
    db: &Db,
    variant: &VariantId,
) -> Result<Option<Currency>, CatalogError> {
    let code: Option<String> =
        sqlx::query_scalar("SELECT currency FROM product_variants WHERE id = $1")
            .bind(variant.as_str())
            .fetch_optional(db.reader())
            .await?;
    Ok(code.and_then(|c| c.parse().ok()))
}

/// Adds a variant to a product.
async fn add_variant(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    product_id: &str,
    input: &VariantInput,
) -> Result<VariantId, CatalogError> {
    let v = clean_variant(input)?;
    let mut tx = db.begin().await?;
    check_access(&mut tx, editor, product_id).await?;
    let currency: Option<String> = sqlx::query_scalar(
        "SELECT currency FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1",
    )
    .bind(product_id)
    .fetch_optional(&mut *tx)
    .await?;
    if currency.is_some_and(|c| c != v.price.currency().code()) {
        return Err(CatalogError::invalid(
            "price",
            "All variants of a product must be priced in the same currency.",
        ));
    }
    let position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM product_variants WHERE product_id = $1",
    )
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    let id = insert_variant(&mut tx, clock, editor, product_id, position, &v).await?;
    index::reindex(&mut tx, product_id).await?;
    let after = variant_snapshot(&mut tx, id.as_str()).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "variant.created",
        product_id,
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a variant's SKU, options, prices, weight, threshold or archived flag. Stock is
/// not changed here (see [`adjust_stock`]).
async fn update_variant(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    variant_id: &str,
    input: &VariantInput,
) -> Result<(), CatalogError> {
    let v = clean_variant(input)?;
    let mut tx = db.begin().await?;
    let product_id = variant_product(&mut tx, editor, variant_id).await?;
    // The variant itself included: a product's only variant cannot change currency either.
    let other_currency: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM product_variants WHERE product_id = $1 AND currency <> $2",
    )
    .bind(&product_id)
    .bind(v.price.currency().code())
    .fetch_one(&mut *tx)
    .await?;
    if other_currency > 0 {
        return Err(CatalogError::invalid(
            "price",
            "All variants of a product must be priced in the same currency.",
        ));
    }
    if v.archived {
        let active_others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM product_variants
             WHERE product_id = $1 AND id <> $2 AND status = 'active'",
        )
        .bind(&product_id)
        .bind(variant_id)
        .fetch_one(&mut *tx)
        .await?;
        if active_others == 0 {
            return Err(CatalogError::invalid(
                "archived",
                "A product needs at least one active variant; archive the product instead.",
            ));
        }
    }
    let before = variant_snapshot(&mut tx, variant_id).await?;
    sqlx::query(
        "UPDATE product_variants SET sku = $1, options = $2, price_minor = $3,
                compare_at_minor = $4, currency = $5, weight_grams = $6,
                low_stock_threshold = $7, status = $8, updated_at = $9
         WHERE id = $10",
    )
    .bind(&v.sku)
    .bind(&v.options)
    .bind(v.price.minor())
    .bind(v.compare_at)
    .bind(v.price.currency().code())
    .bind(v.weight_grams)
    .bind(v.low_stock_threshold)
    .bind(if v.archived { "archived" } else { "active" })
    .bind(clock.now().millis())
    .bind(variant_id)
    .execute(&mut *tx)
    .await
    .map_err(unique_error)?;
    index::reindex(&mut tx, &product_id).await?;
    let after = variant_snapshot(&mut tx, variant_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "variant.updated",
        &product_id,
        Some(before),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Parses a price typed in a form ("12.50") in the shop's currency, for the admin forms.
pub fn parse_price(
    field: &'static str,
    input: &str,
    currency: Currency,
) -> Result<Money, CatalogError> {
    Money::parse_decimal(input.trim(), currency)
        .map_err(|_| CatalogError::invalid(field, "Enter a price like 25 or 12.50 (not negative)."))
}

/// A variant as the cart and checkout see it: what it is, what it costs now and how many
/// can be sold. Read from the database (never from a cache), so stock and price are current.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellableVariant {
    pub id: VariantId,
    pub product_id: ProductId,
    pub product_name: String,
    pub slug: String,
    pub sku: String,
    pub options: Vec<(String, String)>,
    pub price: Money,
    /// Units that can still be sold (`on_hand - reserved`, never negative).
    pub available: i64,
    /// The product is published and the variant not archived.
    pub on_sale: bool,
    pub image: Option<ImageRef>,
    /// The vendor who sells the product, if a vendor does.
    pub vendor_id: Option<UserId>,
}

#[derive(sqlx::FromRow)]
struct SellableRow {
    id: String,
    product_id: String,
    product_name: String,
    slug: String,
    sku: String,
    options: String,
    price_minor: i64,
    currency: String,
    available: i64,
    product_status: String,
    variant_status: String,
    cover_image: Option<String>,
    cover_alt: Option<String>,
    vendor_id: Option<String>,
}

/// The variants with these ids that exist (unknown ids are left out).
pub async fn sellable(db: &Db, ids: &[VariantId]) -> Result<Vec<SellableVariant>, CatalogError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = crate::sql::Sql::new(
        "SELECT v.id, v.product_id, p.name AS product_name, p.slug, v.sku, v.options,
                v.price_minor, v.currency, v.on_hand - v.reserved AS available,
                p.status AS product_status, v.status AS variant_status, p.cover_image,
                p.cover_alt, p.vendor_id
         FROM product_variants v JOIN products p ON p.id = v.product_id
         WHERE v.id IN ",
    );
    let ids: Vec<&str> = ids.iter().map(VariantId::as_str).collect();
    sql.bind_list(&ids);
    let rows: Vec<SellableRow> = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_all(db.reader())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Ok(currency) = r.currency.parse::<Currency>() else {
            continue;
        };
        out.push(SellableVariant {
            id: VariantId::from_db(r.id),
            product_id: ProductId::from_db(r.product_id),
            product_name: r.product_name,
            slug: r.slug,
            sku: r.sku,
            options: crate::index::string_pairs(&r.options),
            price: Money::new(r.price_minor, currency),
            available: r.available.max(0),
            on_sale: r.product_status == "active" && r.variant_status == "active",
            image: r.cover_image.map(|hash| ImageRef {
                hash,
                alt: r.cover_alt.unwrap_or_default(),
            }),
            vendor_id: r.vendor_id.map(UserId::from_db),
        });
    }
    Ok(out)
}

impl Catalog {
    /// Adds a variant to a product. Returns its id.
    pub async fn add_variant(
        &self,
        editor: &Editor,
        product: &ProductId,
        input: &VariantInput,
    ) -> Result<VariantId, CatalogError> {
        let id = add_variant(self.db(), self.clock(), editor, product.as_str(), input).await?;
        self.changed();
        Ok(id)
    }

    /// Changes a variant's SKU, options, prices, weight, threshold or archived flag (not its
    /// stock: see [`Catalog::adjust_stock`]).
    pub async fn update_variant(
        &self,
        editor: &Editor,
        variant: &VariantId,
        input: &VariantInput,
    ) -> Result<(), CatalogError> {
        update_variant(self.db(), self.clock(), editor, variant.as_str(), input).await?;
        self.changed();
        Ok(())
    }
}
