//! Creating and changing products: their own fields, categories, status (variants are in
//! [`crate::variants`], stock in [`crate::stock`]). The [`crate::Catalog`] methods at the
//! bottom are the API: each drops the catalog's read caches after its change.

use serde_json::json;
use shop_core::db::Conn;
use shop_core::{Clock, Db, UserId};

use crate::editor::{Editor, audit_product, check_access, pairs_json, too_long, unique_error};
use crate::variants::{VariantInput, clean_variant, insert_variant};
use crate::{Catalog, CatalogError, ProductId, ProductStatus, index};

/// Longest accepted values.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_SEO_TITLE: usize = 70;
const MAX_SEO_DESCRIPTION: usize = 320;

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
    /// The owning vendor. Staff only (the caller checks the account is a vendor); a vendor's
    /// products are always their own.
    /// `None` on update keeps the current owner.
    pub vendor_id: Option<UserId>,
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
    // Staff may name the owning vendor (whether that account is a vendor is the caller's
    // check: roles belong to auth); a vendor's products are always their own.
    let (featured, vendor_id) = match editor.vendor() {
        Some(me) => (false, Some(me.to_owned())),
        None => (
            input.featured,
            input.vendor_id.as_ref().map(|v| v.as_str().to_owned()),
        ),
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

/// A product's audited own fields as the database holds them.
#[derive(sqlx::FromRow)]
struct ProductSnapshotRow {
    name: String,
    slug: String,
    status: String,
    brand: String,
    category_id: String,
    vendor_id: Option<String>,
    attributes: String,
    featured: i64,
}

/// The audit view of a product's own fields.
async fn product_snapshot(
    conn: &mut Conn,
    product_id: &str,
) -> Result<serde_json::Value, sqlx::Error> {
    let row: ProductSnapshotRow = sqlx::query_as(
        "SELECT name, slug, status, brand, category_id, vendor_id, attributes, featured
         FROM products WHERE id = $1",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "name": row.name, "slug": row.slug, "status": row.status, "brand": row.brand,
        "category_id": row.category_id, "vendor_id": row.vendor_id,
        "attributes":
            serde_json::from_str::<serde_json::Value>(&row.attributes).unwrap_or_default(),
        "featured": row.featured != 0,
    }))
}

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
    .map_err(unique_error)?;
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

/// Creates a product with its variants (at least one; SKUs unique). Returns its id.
async fn create_product(
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
    .map_err(unique_error)?;
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
async fn update_product(
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
async fn set_product_status(
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

impl Catalog {
    /// Creates a product with its variants (at least one; SKUs unique). Returns its id.
    pub async fn create_product(
        &self,
        editor: &Editor,
        input: &ProductInput,
        variants: &[VariantInput],
    ) -> Result<ProductId, CatalogError> {
        let id = create_product(self.db(), self.clock(), editor, input, variants).await?;
        self.changed();
        Ok(id)
    }

    /// Changes a product's own fields (not its variants). A `status` or `vendor_id` of
    /// `None` keeps the product's current one.
    pub async fn update_product(
        &self,
        editor: &Editor,
        product: &ProductId,
        input: &ProductInput,
    ) -> Result<(), CatalogError> {
        update_product(self.db(), self.clock(), editor, product.as_str(), input).await?;
        self.changed();
        Ok(())
    }

    /// Publishes, unpublishes (draft) or archives a product.
    pub async fn set_product_status(
        &self,
        editor: &Editor,
        product: &ProductId,
        status: ProductStatus,
    ) -> Result<(), CatalogError> {
        set_product_status(self.db(), self.clock(), editor, product.as_str(), status).await?;
        self.changed();
        Ok(())
    }
}
