//! Changing the catalog: products, variants and stock, for the admin dashboard.
//!
//! Every function takes an [`Editor`]: who is acting (for the audit log) and what they may
//! touch. The shop's staff may change any product; a vendor only products they own, and a
//! product of someone else's is reported as not found, so a vendor cannot even learn that it
//! exists. Input is validated before anything is written; each change is one transaction
//! that also re-indexes the product and writes the audit entry, so a failure changes nothing.
//! After a successful change the caller drops its caches ([`crate::Catalog::changed`]).

use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::{Clock, Currency, Db, Money, UserId};

use crate::{CatalogError, MAX_PRICE_MINOR, MAX_STOCK, ProductId, ProductStatus, VariantId, index};

/// Who is changing the catalog and what they may change.
#[derive(Clone, Debug)]
pub struct Editor {
    pub actor: Actor,
    pub access: Access,
}

/// The products an editor may see and change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Shop staff (admins): every product.
    Shop,
    /// A vendor: only products whose owner is this user id.
    Vendor(String),
}

impl Editor {
    pub(crate) fn vendor(&self) -> Option<&str> {
        match &self.access {
            Access::Shop => None,
            Access::Vendor(id) => Some(id),
        }
    }
}

/// Longest accepted values.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_SEO_TITLE: usize = 70;
const MAX_SEO_DESCRIPTION: usize = 320;
const MAX_ATTRIBUTES: usize = 30;

/// A product's own fields, as the edit form sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductInput {
    pub name: String,
    /// Empty: made from the name.
    pub slug: String,
    /// Markdown.
    pub description: String,
    pub brand: String,
    pub category_id: String,
    /// Further categories the product appears in.
    pub extra_category_ids: Vec<String>,
    /// `None`: a draft when created, unchanged when updated.
    pub status: Option<ProductStatus>,
    /// Name/value pairs such as ("material", "cast iron").
    pub attributes: Vec<(String, String)>,
    pub seo_title: String,
    pub seo_description: String,
    /// Shown on the home page. Staff only; ignored for vendors.
    pub featured: bool,
    /// The owning vendor's user id. Staff only; a vendor's products are always their own.
    /// `None` on update keeps the current owner.
    pub vendor_id: Option<String>,
}

/// A variant's fields, as the edit form sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantInput {
    pub sku: String,
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

/// A product's fields after validation.
struct CleanProduct {
    name: String,
    slug: String,
    description: String,
    description_html: String,
    brand: String,
    category_id: String,
    extra_category_ids: Vec<String>,
    status: ProductStatus,
    attributes: String,
    seo_title: Option<String>,
    seo_description: Option<String>,
    featured: bool,
    vendor_id: Option<String>,
}

pub(crate) fn too_long(field: &'static str, label: &str, max: usize) -> CatalogError {
    CatalogError::invalid(field, format!("{label} can be at most {max} characters."))
}

fn pairs_json(
    field: &'static str,
    label: &str,
    pairs: &[(String, String)],
) -> Result<String, CatalogError> {
    if pairs.len() > MAX_ATTRIBUTES {
        return Err(CatalogError::invalid(
            field,
            format!("At most {MAX_ATTRIBUTES} {label}s."),
        ));
    }
    let mut map = serde_json::Map::new();
    for (name, value) in pairs {
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() && value.is_empty() {
            continue;
        }
        if name.is_empty() || value.is_empty() {
            return Err(CatalogError::invalid(
                field,
                format!("Each {label} needs both a name and a value."),
            ));
        }
        if name.chars().count() > 40 || value.chars().count() > 100 {
            return Err(CatalogError::invalid(
                field,
                format!("{label} names are at most 40 characters, values at most 100."),
            ));
        }
        let key = name.to_lowercase();
        if map.contains_key(&key) {
            return Err(CatalogError::invalid(
                field,
                format!("The {label} {name:?} is given twice."),
            ));
        }
        map.insert(key, json!(value));
    }
    Ok(serde_json::Value::Object(map).to_string())
}

async fn category_exists(conn: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM categories WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

async fn clean_product(
    conn: &mut Conn,
    editor: &Editor,
    input: &ProductInput,
) -> Result<CleanProduct, CatalogError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(CatalogError::invalid("name", "Enter the product's name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(too_long("name", "The name", MAX_NAME));
    }
    let slug = crate::slug::requested(&input.slug, &name, MAX_NAME, "cast-iron-pan")?;
    let description = input.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(too_long("description", "The description", MAX_DESCRIPTION));
    }
    let description_html = crate::markdown::render(&description)
        .map_err(|e| CatalogError::invalid("description", e.to_string()))?;
    let brand = input.brand.trim().to_owned();
    if brand.chars().count() > 100 {
        return Err(too_long("brand", "The brand", 100));
    }
    let category_id = input.category_id.trim().to_owned();
    if category_id.is_empty() || !category_exists(conn, &category_id).await? {
        return Err(CatalogError::invalid("category_id", "Choose a category."));
    }
    let mut extra_category_ids: Vec<String> = Vec::new();
    for id in &input.extra_category_ids {
        let id = id.trim();
        if id.is_empty() || id == category_id || extra_category_ids.iter().any(|e| e == id) {
            continue;
        }
        extra_category_ids.push(id.to_owned());
    }
    if extra_category_ids.len() > 10 {
        return Err(CatalogError::invalid(
            "extra_category_ids",
            "A product can appear in at most 10 further categories.",
        ));
    }
    for id in &extra_category_ids {
        if !category_exists(conn, id).await? {
            return Err(CatalogError::invalid(
                "extra_category_ids",
                "One of the further categories does not exist.",
            ));
        }
    }
    let attributes = pairs_json("attributes", "attribute", &input.attributes)?;
    let optional = |s: &str, field: &'static str, label: &str, max: usize| {
        let s = s.trim();
        if s.chars().count() > max {
            Err(too_long(field, label, max))
        } else {
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
    };
    let seo_title = optional(
        &input.seo_title,
        "seo_title",
        "The SEO title",
        MAX_SEO_TITLE,
    )?;
    let seo_description = optional(
        &input.seo_description,
        "seo_description",
        "The SEO description",
        MAX_SEO_DESCRIPTION,
    )?;
    let (featured, vendor_id) = match editor.vendor() {
        Some(me) => (false, Some(me.to_owned())),
        None => {
            let vendor_id = input
                .vendor_id
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            if let Some(v) = &vendor_id {
                let is_vendor: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM user_roles WHERE user_id = $1 AND role = 'vendor'",
                )
                .bind(v)
                .fetch_one(&mut *conn)
                .await?;
                if is_vendor == 0 {
                    return Err(CatalogError::invalid(
                        "vendor_id",
                        "That account is not a vendor.",
                    ));
                }
            }
            (input.featured, vendor_id)
        }
    };
    Ok(CleanProduct {
        name,
        slug,
        description,
        description_html,
        brand,
        category_id,
        extra_category_ids,
        status: input.status.unwrap_or(ProductStatus::Draft),
        attributes,
        seo_title,
        seo_description,
        featured,
        vendor_id,
    })
}

/// A variant's fields after validation.
struct CleanVariant {
    sku: String,
    options: String,
    price: Money,
    compare_at: Option<i64>,
    weight_grams: Option<i64>,
    low_stock_threshold: i64,
    initial_stock: i64,
    archived: bool,
}

fn clean_variant(input: &VariantInput) -> Result<CleanVariant, CatalogError> {
    let sku = input.sku.trim().to_owned();
    if !crate::is_valid_sku(&sku) {
        return Err(CatalogError::invalid(
            "sku",
            "The SKU needs 1-64 letters, digits, '-', '_' or '.'.",
        ));
    }
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

/// Turns a unique-constraint failure into the message the form shows.
fn unique_error(e: sqlx::Error, field: &'static str, message: &str) -> CatalogError {
    if shop_core::error::is_unique_violation(&e) {
        CatalogError::invalid(field, message)
    } else {
        e.into()
    }
}

/// The owner of a product, or not found (also for a vendor asking about someone else's).
pub(crate) async fn check_access(
    conn: &mut Conn,
    editor: &Editor,
    product_id: &str,
) -> Result<(), CatalogError> {
    let owner: Option<Option<String>> =
        sqlx::query_scalar("SELECT vendor_id FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?;
    match (owner, editor.vendor()) {
        (None, _) => Err(CatalogError::NotFound),
        (Some(_), None) => Ok(()),
        (Some(Some(owner)), Some(me)) if owner == me => Ok(()),
        (Some(_), Some(_)) => Err(CatalogError::NotFound),
    }
}

/// The product a variant belongs to, after checking the editor may change it.
pub(crate) async fn variant_product(
    conn: &mut Conn,
    editor: &Editor,
    variant_id: &str,
) -> Result<String, CatalogError> {
    let product_id: String =
        sqlx::query_scalar("SELECT product_id FROM product_variants WHERE id = $1")
            .bind(variant_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(CatalogError::NotFound)?;
    check_access(conn, editor, &product_id).await?;
    Ok(product_id)
}

/// The audit view of a product's own fields.
async fn product_snapshot(
    conn: &mut Conn,
    product_id: &str,
) -> Result<serde_json::Value, sqlx::Error> {
    #[allow(clippy::type_complexity)]
    let row: (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        i64,
    ) = sqlx::query_as(
        "SELECT name, slug, status, brand, category_id, vendor_id, attributes, featured
         FROM products WHERE id = $1",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "name": row.0, "slug": row.1, "status": row.2, "brand": row.3,
        "category_id": row.4, "vendor_id": row.5,
        "attributes": serde_json::from_str::<serde_json::Value>(&row.6).unwrap_or_default(),
        "featured": row.7 != 0,
    }))
}

/// The audit view of a variant.
async fn variant_snapshot(
    conn: &mut Conn,
    variant_id: &str,
) -> Result<serde_json::Value, sqlx::Error> {
    #[allow(clippy::type_complexity)]
    let row: (String, String, i64, Option<i64>, String, i64, i64, String) = sqlx::query_as(
        "SELECT sku, options, price_minor, compare_at_minor, currency, on_hand,
                low_stock_threshold, status
         FROM product_variants WHERE id = $1",
    )
    .bind(variant_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "sku": row.0,
        "options": serde_json::from_str::<serde_json::Value>(&row.1).unwrap_or_default(),
        "price_minor": row.2, "compare_at_minor": row.3, "currency": row.4,
        "on_hand": row.5, "low_stock_threshold": row.6, "status": row.7,
    }))
}

const SLUG_TAKEN: &str = "Another product already has that web address.";

/// Writes a product's own fields and its further categories.
async fn write_product(
    conn: &mut Conn,
    product_id: &str,
    p: &CleanProduct,
    now: i64,
) -> Result<(), CatalogError> {
    sqlx::query(
        "UPDATE products SET slug = $1, name = $2, description = $3, description_html = $4,
                brand = $5, category_id = $6, status = $7, vendor_id = $8, attributes = $9,
                seo_title = $10, seo_description = $11, featured = $12, updated_at = $13
         WHERE id = $14",
    )
    .bind(&p.slug)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.description_html)
    .bind(&p.brand)
    .bind(&p.category_id)
    .bind(p.status.as_str())
    .bind(p.vendor_id.as_deref())
    .bind(&p.attributes)
    .bind(p.seo_title.as_deref())
    .bind(p.seo_description.as_deref())
    .bind(i64::from(p.featured))
    .bind(now)
    .bind(product_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| unique_error(e, "slug", SLUG_TAKEN))?;
    write_extra_categories(conn, product_id, &p.extra_category_ids).await?;
    Ok(())
}

async fn write_extra_categories(
    conn: &mut Conn,
    product_id: &str,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_categories WHERE product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    for id in ids {
        sqlx::query("INSERT INTO product_categories (product_id, category_id) VALUES ($1, $2)")
            .bind(product_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn insert_variant(
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
    .map_err(|e| unique_error(e, "sku", "That SKU is already in use."))?;
    if v.initial_stock != 0 {
        record_adjustment(
            conn,
            Adjustment {
                variant_id: id.as_str(),
                delta: v.initial_stock,
                reason: StockReason::Admin,
                note: "initial stock",
                actor_id: editor.actor.user_id.as_deref(),
                on_hand_after: v.initial_stock,
                at: now,
            },
        )
        .await?;
    }
    Ok(id)
}

/// Creates a product with its variants (at least one; SKUs unique). Returns its id.
pub async fn create_product(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    input: &ProductInput,
    variants: &[VariantInput],
) -> Result<ProductId, CatalogError> {
    if variants.is_empty() {
        return Err(CatalogError::invalid(
            "variants",
            "A product needs at least one variant (its SKU, price and stock).",
        ));
    }
    let variants = variants
        .iter()
        .map(clean_variant)
        .collect::<Result<Vec<_>, _>>()?;
    let currency = variants[0].price.currency();
    if variants.iter().any(|v| v.price.currency() != currency) {
        return Err(CatalogError::invalid(
            "price",
            "All variants of a product must be priced in the same currency.",
        ));
    }
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].iter().any(|w| w.sku == v.sku) {
            return Err(CatalogError::invalid(
                "sku",
                format!("The SKU {} is given twice.", v.sku),
            ));
        }
    }
    let mut tx = db.begin().await?;
    let p = clean_product(&mut tx, editor, input).await?;
    let id = ProductId::new();
    let now = clock.now().millis();
    // The row with what the table requires, then every field through the same write as an edit.
    sqlx::query(
        "INSERT INTO products (id, slug, name, category_id, currency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id.as_str())
    .bind(&p.slug)
    .bind(&p.name)
    .bind(&p.category_id)
    .bind(currency.code())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_error(e, "slug", SLUG_TAKEN))?;
    write_product(&mut tx, id.as_str(), &p, now).await?;
    for (position, v) in variants.iter().enumerate() {
        insert_variant(
            &mut tx,
            clock,
            editor,
            id.as_str(),
            i64::try_from(position).unwrap_or(0),
            v,
        )
        .await?;
    }
    index::reindex(&mut tx, id.as_str()).await?;
    let mut after = product_snapshot(&mut tx, id.as_str()).await?;
    after["skus"] = json!(variants.iter().map(|v| v.sku.as_str()).collect::<Vec<_>>());
    audit_product(
        &mut tx,
        clock,
        editor,
        "product.created",
        id.as_str(),
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The fields of a product that its edit form leaves alone.
#[derive(sqlx::FromRow)]
struct CurrentOwnership {
    status: String,
    vendor_id: Option<String>,
    featured: i64,
}

/// Changes a product's own fields (not its variants). A `status` or `vendor_id` of `None`
/// keeps the product's current one.
pub async fn update_product(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    product_id: &str,
    input: &ProductInput,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    check_access(&mut tx, editor, product_id).await?;
    let mut p = clean_product(&mut tx, editor, input).await?;
    // What the form does not set stays as it is: the status (changed on its own), the owning
    // vendor when none is named, and for vendors the shop's "featured" choice.
    let current: CurrentOwnership =
        sqlx::query_as("SELECT status, vendor_id, featured FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_one(&mut *tx)
            .await?;
    if input.status.is_none() {
        p.status = ProductStatus::parse(&current.status).unwrap_or(ProductStatus::Draft);
    }
    if input.vendor_id.is_none() {
        p.vendor_id = current.vendor_id;
    }
    if editor.vendor().is_some() {
        p.featured = current.featured != 0;
    }
    let before = product_snapshot(&mut tx, product_id).await?;
    write_product(&mut tx, product_id, &p, clock.now().millis()).await?;
    index::reindex(&mut tx, product_id).await?;
    let after = product_snapshot(&mut tx, product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "product.updated",
        product_id,
        Some(before),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes, unpublishes (draft) or archives a product.
pub async fn set_product_status(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    product_id: &str,
    status: ProductStatus,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    check_access(&mut tx, editor, product_id).await?;
    let before: String = sqlx::query_scalar("SELECT status FROM products WHERE id = $1")
        .bind(product_id)
        .fetch_one(&mut *tx)
        .await?;
    if before == status.as_str() {
        return Ok(());
    }
    sqlx::query("UPDATE products SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(clock.now().millis())
        .bind(product_id)
        .execute(&mut *tx)
        .await?;
    index::reindex(&mut tx, product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "product.status_changed",
        product_id,
        Some(json!({ "status": before })),
        Some(json!({ "status": status.as_str() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The currency a product's variants are priced in (its first variant's; the catalog keeps
/// one currency per product), or `None` when it has none yet. Editors' prices are read in
/// it: the browser never chooses the currency.
pub async fn product_currency(db: &Db, product_id: &str) -> Result<Option<Currency>, CatalogError> {
    let code: Option<String> = sqlx::query_scalar(
        "SELECT currency FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1",
    )
    .bind(product_id)
    .fetch_optional(db.reader())
    .await?;
    Ok(code.and_then(|c| c.parse().ok()))
}

/// The currency a variant is priced in, or `None` when there is no such variant.
pub async fn variant_currency(db: &Db, variant_id: &str) -> Result<Option<Currency>, CatalogError> {
    let code: Option<String> =
        sqlx::query_scalar("SELECT currency FROM product_variants WHERE id = $1")
            .bind(variant_id)
            .fetch_optional(db.reader())
            .await?;
    Ok(code.and_then(|c| c.parse().ok()))
}

/// Adds a variant to a product.
pub async fn add_variant(
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
pub async fn update_variant(
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
    .map_err(|e| unique_error(e, "sku", "That SKU is already in use."))?;
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

/// Writes the audit entry for a change to a product (its variants and stock included).
pub(crate) async fn audit_product(
    conn: &mut Conn,
    clock: &Clock,
    editor: &Editor,
    action: &str,
    product_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    let change = Change {
        action,
        target_type: "product",
        target_id: product_id,
        before,
        after,
    };
    audit::record(conn, clock, &editor.actor, change).await?;
    Ok(())
}

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
    pub actor_id: Option<&'a str>,
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
    .bind(a.actor_id)
    .bind(a.at)
    .bind(a.on_hand_after)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `delta` (negative to remove) to a variant's stock on hand, recording the reason and
/// a note. Stock on hand never drops below what is reserved for open orders. Returns the new
/// stock on hand.
pub async fn adjust_stock(
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
            actor_id: editor.actor.user_id.as_deref(),
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
    product_id: &str,
    limit: i64,
) -> Result<Vec<StockEntry>, CatalogError> {
    let mut conn = db.reader().acquire().await?;
    check_access(&mut conn, editor, product_id).await?;
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
    .bind(product_id)
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

/// Parses a price typed in a form ("12.50") in the shop's currency, for the admin forms.
pub fn parse_price(
    field: &'static str,
    input: &str,
    currency: Currency,
) -> Result<Money, CatalogError> {
    Money::parse_decimal(input.trim(), currency)
        .map_err(|_| CatalogError::invalid(field, "Enter a price like 25 or 12.50 (not negative)."))
}
