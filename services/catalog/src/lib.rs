//! Categories, products, variants and stock.

pub mod import;
pub mod slug;

use shop_core::{Currency, Db, Money};

shop_core::define_id!(
    /// Identifies a category.
    CategoryId
);
shop_core::define_id!(
    /// Identifies a product.
    ProductId
);
shop_core::define_id!(
    /// Identifies a sellable variant (one SKU).
    VariantId
);

/// A category as the navigation shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CategoryLink {
    pub name: String,
    pub slug: String,
    /// Active products in this category and all categories below it.
    pub product_count: i64,
}

/// Top-level categories in display order, for the header navigation.
pub async fn top_categories(db: &Db) -> Result<Vec<CategoryLink>, sqlx::Error> {
    // Products sit in leaf categories; count them through up to three levels.
    sqlx::query_as(
        "SELECT c.name, c.slug,
                (SELECT COUNT(*) FROM products p
                 WHERE p.status = 'active' AND p.category_id IN (
                     SELECT c.id
                     UNION SELECT c2.id FROM categories c2 WHERE c2.parent_id = c.id
                     UNION SELECT c3.id FROM categories c3 JOIN categories c2 ON c3.parent_id = c2.id
                           WHERE c2.parent_id = c.id)) AS product_count
         FROM categories c
         WHERE c.parent_id IS NULL
         ORDER BY c.position, c.name",
    )
    .fetch_all(db.reader())
    .await
}

/// A product as a listing card shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductCard {
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub price: Money,
    pub in_stock: bool,
}

/// The newest active products, for the home page.
pub async fn newest_products(db: &Db, limit: i64) -> Result<Vec<ProductCard>, sqlx::Error> {
    let rows: Vec<(String, String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT p.name, p.slug, p.brand, v.price_minor, v.currency, v.on_hand - v.reserved
         FROM products p
         JOIN product_variants v ON v.product_id = p.id AND v.position = 0
         WHERE p.status = 'active'
         ORDER BY p.created_at DESC, p.id DESC
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, slug, brand, minor, currency, available)| {
            let currency: Currency = currency.parse().ok()?;
            Some(ProductCard {
                name,
                slug,
                brand,
                price: Money::new(minor, currency),
                in_stock: available > 0,
            })
        })
        .collect())
}
