//! Products: a product as its page shows it and the cards shown beside it (here), the back
//! office's product list ([`list`]), and creating and changing products ([`edit`]).

pub mod edit;
pub mod list;

pub use edit::ProductInput;

use shop_core::{Currency, Db, Money, Timestamp};

use crate::images::ImageRef;
use crate::listing::{CARD_COLUMNS, CardRow, card};
use crate::{CatalogError, CategoryId, ProductCard, ProductId, ProductStatus, VariantId};

/// A sellable variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub id: VariantId,
    pub sku: String,
    /// Option values in a stable order, e.g. `[("size", "M"), ("color", "Red")]`.
    pub options: Vec<(String, String)>,
    pub price: Money,
    /// Shown struck through when above the price.
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub on_hand: i64,
    pub reserved: i64,
    pub low_stock_threshold: i64,
    pub active: bool,
}

impl Variant {
    /// Units that can still be sold.
    pub fn available(&self) -> i64 {
        (self.on_hand - self.reserved).max(0)
    }

    /// "Size M · Colour Red", or the SKU when the variant has no options.
    pub fn label(&self) -> String {
        if self.options.is_empty() {
            return self.sku.clone();
        }
        self.options
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The stock line a shopper sees.
    pub fn stock_status(&self) -> StockStatus {
        match self.available() {
            0 => StockStatus::OutOfStock,
            n if n <= self.low_stock_threshold => StockStatus::Low(n),
            _ => StockStatus::InStock,
        }
    }
}

/// Stock as a shopper sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockStatus {
    InStock,
    /// Only this many left.
    Low(i64),
    OutOfStock,
}

/// A product with everything its page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetail {
    pub id: ProductId,
    pub slug: String,
    pub name: String,
    pub brand: String,
    /// As the merchant wrote it (Markdown).
    pub description: String,
    /// Rendered and sanitised.
    pub description_html: String,
    pub status: ProductStatus,
    pub category_id: CategoryId,
    pub extra_category_ids: Vec<CategoryId>,
    pub vendor_id: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub featured: bool,
    pub variants: Vec<Variant>,
    pub images: Vec<ImageRef>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProductDetail {
    /// Active variants, in display order.
    pub fn active_variants(&self) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(|v| v.active)
    }
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: String,
    slug: String,
    name: String,
    brand: String,
    description: String,
    description_html: String,
    status: String,
    category_id: String,
    vendor_id: Option<String>,
    attributes: String,
    seo_title: Option<String>,
    seo_description: Option<String>,
    featured: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct VariantRow {
    id: String,
    sku: String,
    options: String,
    price_minor: i64,
    compare_at_minor: Option<i64>,
    currency: String,
    weight_grams: Option<i64>,
    on_hand: i64,
    reserved: i64,
    low_stock_threshold: i64,
    status: String,
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    hash: String,
    alt: String,
}

/// Reads a product by slug, whatever its status (callers decide who may see it).
pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<ProductDetail>, CatalogError> {
    load(db, "p.slug = $1", slug).await
}

/// Reads a product by id, whatever its status.
pub async fn by_id(db: &Db, id: &ProductId) -> Result<Option<ProductDetail>, CatalogError> {
    load(db, "p.id = $1", id.as_str()).await
}

async fn load(
    db: &Db,
    condition: &str,
    value: &str,
) -> Result<Option<ProductDetail>, CatalogError> {
    let pool = db.reader();
    let row: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT p.id, p.slug, p.name, p.brand, p.description, p.description_html, p.status,
                p.category_id, p.vendor_id, p.attributes, p.seo_title, p.seo_description,
                p.featured, p.created_at, p.updated_at
         FROM products p WHERE {condition}"
    ))
    .bind(value)
    .fetch_optional(pool)
    .await?;
    let Some(p) = row else {
        return Ok(None);
    };
    let id = p.id;
    let variants: Vec<VariantRow> = sqlx::query_as(
        "SELECT id, sku, options, price_minor, compare_at_minor, currency, weight_grams,
                    on_hand, reserved, low_stock_threshold, status
             FROM product_variants WHERE product_id = $1 ORDER BY position, created_at, id",
    )
    .bind(&id)
    .fetch_all(pool)
    .await?;
    let images: Vec<ImageRow> = sqlx::query_as(
        "SELECT hash, alt FROM product_images WHERE product_id = $1 ORDER BY position, created_at",
    )
    .bind(&id)
    .fetch_all(pool)
    .await?;
    let extra: Vec<String> = sqlx::query_scalar(
        "SELECT category_id FROM product_categories WHERE product_id = $1 ORDER BY category_id",
    )
    .bind(&id)
    .fetch_all(pool)
    .await?;
    let variants = variants
        .into_iter()
        .filter_map(|v| {
            let currency: Currency = v.currency.parse().ok()?;
            let price = v.price_minor;
            Some(Variant {
                id: VariantId::from_db(v.id),
                sku: v.sku,
                options: crate::index::string_pairs(&v.options),
                price: Money::new(price, currency),
                compare_at: v
                    .compare_at_minor
                    .filter(|c| *c > price)
                    .map(|c| Money::new(c, currency)),
                weight_grams: v.weight_grams,
                on_hand: v.on_hand,
                reserved: v.reserved,
                low_stock_threshold: v.low_stock_threshold,
                active: v.status == "active",
            })
        })
        .collect();
    Ok(Some(ProductDetail {
        id: ProductId::from_db(id),
        slug: p.slug,
        name: p.name,
        brand: p.brand,
        description: p.description,
        description_html: p.description_html,
        status: ProductStatus::from_db(&p.status),
        category_id: CategoryId::from_db(p.category_id),
        extra_category_ids: extra.into_iter().map(CategoryId::from_db).collect(),
        vendor_id: p.vendor_id,
        attributes: crate::index::string_pairs(&p.attributes),
        seo_title: p.seo_title,
        seo_description: p.seo_description,
        featured: p.featured != 0,
        variants,
        images: images
            .into_iter()
            .map(|i| ImageRef {
                hash: i.hash,
                alt: i.alt,
            })
            .collect(),
        created_at: Timestamp(p.created_at),
        updated_at: Timestamp(p.updated_at),
    }))
}

/// Other active products from the same category, in stock and popular first.
pub async fn related(
    db: &Db,
    product: &ProductDetail,
    limit: i64,
) -> Result<Vec<ProductCard>, CatalogError> {
    let rows: Vec<CardRow> = sqlx::query_as(&format!(
        "SELECT {CARD_COLUMNS} FROM products p
         WHERE p.category_id = $1 AND p.status = 'active' AND p.id <> $2
         ORDER BY CASE WHEN p.available > 0 THEN 0 ELSE 1 END, p.popularity DESC, p.created_at DESC, p.id
         LIMIT $3"
    ))
    .bind(product.category_id.as_str())
    .bind(product.id.as_str())
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().filter_map(card).collect())
}

/// Featured active products (newest first), for the home page.
pub async fn featured(db: &Db, limit: i64) -> Result<Vec<ProductCard>, CatalogError> {
    // Featured products are few and sit in a partial index. SQLite's planner prefers walking
    // every active product by date when that index is empty (0 rows in its statistics), so
    // it is named; the order is the index's own.
    let table = match db.backend() {
        shop_core::Backend::Sqlite => "products p INDEXED BY products_featured_active",
        shop_core::Backend::Postgres => "products p",
    };
    cards(
        db,
        table,
        "p.featured = 1",
        "p.created_at DESC, p.id DESC",
        limit,
    )
    .await
}

/// The newest active products.
pub async fn newest(db: &Db, limit: i64) -> Result<Vec<ProductCard>, CatalogError> {
    cards(db, "products p", "1 = 1", "p.created_at DESC, p.id", limit).await
}

async fn cards(
    db: &Db,
    table: &str,
    condition: &str,
    order: &str,
    limit: i64,
) -> Result<Vec<ProductCard>, CatalogError> {
    let rows: Vec<CardRow> = sqlx::query_as(&format!(
        "SELECT {CARD_COLUMNS} FROM {table}
         WHERE p.status = 'active' AND {condition} ORDER BY {order} LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().filter_map(card).collect())
}

/// A product's slug and last change (in milliseconds), for the sitemap.
#[derive(sqlx::FromRow)]
struct SitemapRow {
    slug: String,
    updated_at: i64,
}

/// Every active product's slug and last change, for `sitemap.xml`.
pub async fn sitemap_entries(db: &Db) -> Result<Vec<(String, Timestamp)>, CatalogError> {
    let rows: Vec<SitemapRow> = sqlx::query_as(
        "SELECT slug, updated_at FROM products WHERE status = 'active' ORDER BY slug",
    )
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.slug, Timestamp(r.updated_at)))
        .collect())
}

/// A product's name and slug, for reports that count products by id.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductLabel {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// The names and slugs of the products `ids` that still exist, by id.
pub async fn labels(
    db: &Db,
    ids: &[String],
) -> Result<std::collections::HashMap<String, ProductLabel>, CatalogError> {
    let mut out = std::collections::HashMap::new();
    // In chunks: a statement takes a bounded number of parameters.
    for chunk in ids.chunks(100) {
        let sql = format!(
            "SELECT id, name, slug FROM products WHERE id IN ({})",
            shop_core::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, ProductLabel>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.reader()).await? {
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}
