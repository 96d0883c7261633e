//! The back office's product list (drafts and archived products included, filtered and
//! paged) and one product as its editor loads it. Vendors see only their own products.

use shop_core::{Currency, Db, Money, Timestamp, UserId};

use crate::editor::{Editor, check_access};
use crate::images::{self, ProductImage, gallery};
use crate::sql::Sql;
use crate::{CatalogError, CategoryId, ProductDetail, ProductId, ProductStatus};

/// What the products list is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Part of the name, brand or a SKU.
    pub text: Option<String>,
    pub status: Option<ProductStatus>,
    /// Only products whose primary category is this one.
    pub category_id: Option<String>,
    /// Only products with at most this many units available in total.
    pub low_stock: bool,
    pub page: i64,
    pub per_page: i64,
}

/// A row of the products list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRow {
    pub id: ProductId,
    pub name: String,
    pub slug: String,
    pub brand: String,
    pub status: ProductStatus,
    pub category_id: CategoryId,
    /// The owning vendor (auth knows their name and email), if a vendor owns it.
    pub vendor_id: Option<UserId>,
    pub variants: i64,
    pub price: Money,
    pub max_price: Money,
    pub available: i64,
    pub cover: Option<String>,
    pub updated_at: Timestamp,
}

/// A products-list row as the database holds it.
#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    name: String,
    slug: String,
    brand: String,
    status: String,
    category_id: String,
    vendor_id: Option<String>,
    currency: String,
    price_minor: i64,
    max_price_minor: i64,
    available: i64,
    cover_image: Option<String>,
    updated_at: i64,
    variants: i64,
}

/// A page of the products list and how many products match in all.
pub async fn list_products(
    db: &Db,
    editor: &Editor,
    query: &ProductQuery,
) -> Result<(Vec<ProductRow>, i64), CatalogError> {
    let per_page = query.per_page.clamp(1, 200);
    let page = query.page.max(1);
    let mut filter = Sql::new(" WHERE 1 = 1");
    if let Some(vendor) = editor.vendor() {
        filter.push(" AND p.vendor_id = ").bind(vendor);
    }
    if let Some(status) = query.status {
        filter.push(" AND p.status = ").bind(status.as_str());
    }
    if let Some(category) = query.category_id.as_deref().filter(|c| !c.is_empty()) {
        filter.push(" AND p.category_id = ").bind(category);
    }
    if query.low_stock {
        filter.push(
            " AND EXISTS (SELECT 1 FROM product_variants lv WHERE lv.product_id = p.id
               AND lv.status = 'active' AND lv.on_hand - lv.reserved <= lv.low_stock_threshold)",
        );
    }
    let text = shop_core::search::search_text(query.text.as_deref())
        .map_err(|e| CatalogError::invalid("q", e.to_string()))?;
    if let Some(text) = text {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        filter
            .push(" AND (LOWER(p.name) LIKE ")
            .bind(pattern.as_str())
            .push(" ESCAPE '\\' OR LOWER(p.brand) LIKE ")
            .bind(pattern.as_str())
            .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM product_variants sv WHERE sv.product_id = p.id AND LOWER(sv.sku) LIKE ")
            .bind(pattern.as_str())
            .push(" ESCAPE '\\'))");
    }
    let mut count = Sql::new("SELECT COUNT(*) FROM products p");
    count.append(&filter);
    let total: i64 = sqlx::query_scalar_with(count.text(), count.arguments())
        .fetch_one(db.reader())
        .await?;
    let mut rows = Sql::new(
        "SELECT p.id, p.name, p.slug, p.brand, p.status, p.category_id, p.vendor_id, p.currency,
                p.price_minor, p.max_price_minor, p.available, p.cover_image, p.updated_at,
                (SELECT COUNT(*) FROM product_variants v WHERE v.product_id = p.id) AS variants
         FROM products p",
    );
    rows.append(&filter)
        .push(" ORDER BY p.updated_at DESC, p.id LIMIT ")
        .bind(per_page)
        .push(" OFFSET ")
        .bind((page - 1).saturating_mul(per_page));
    let found: Vec<ListRow> = sqlx::query_as_with(rows.text(), rows.arguments())
        .fetch_all(db.reader())
        .await?;
    let out = found
        .into_iter()
        .map(|r| {
            let currency: Currency = r.currency.parse().unwrap_or(Currency::Eur);
            ProductRow {
                id: ProductId::from_db(r.id),
                name: r.name,
                slug: r.slug,
                brand: r.brand,
                status: ProductStatus::from_db(&r.status),
                category_id: CategoryId::from_db(r.category_id),
                vendor_id: r.vendor_id.map(UserId::from_db),
                price: Money::new(r.price_minor, currency),
                max_price: Money::new(r.max_price_minor, currency),
                available: r.available,
                cover: r.cover_image.map(|hash| images::url(&hash, 320)),
                updated_at: Timestamp(r.updated_at),
                variants: r.variants,
            }
        })
        .collect();
    Ok((out, total))
}

/// How many products and variants the catalog has, whatever their status.
pub async fn counts(db: &Db) -> Result<(i64, i64), CatalogError> {
    let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(db.reader())
        .await?;
    let variants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product_variants")
        .fetch_one(db.reader())
        .await?;
    Ok((products, variants))
}

/// `%`, `_` and `\` match literally in a LIKE pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A product with its images, for its edit page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditableProduct {
    pub product: ProductDetail,
    pub images: Vec<ProductImage>,
    /// The owning vendor, if a vendor owns it.
    pub vendor_id: Option<UserId>,
}

/// Loads a product for editing, or not found (also when a vendor asks for another's).
pub async fn product_for_edit(
    db: &Db,
    editor: &Editor,
    product: &ProductId,
) -> Result<EditableProduct, CatalogError> {
    let product_id = product.as_str();
    let mut conn = db.reader().acquire().await?;
    check_access(&mut conn, editor, product_id).await?;
    let images = gallery::of_product(&mut conn, product_id).await?;
    let vendor_id: Option<String> =
        sqlx::query_scalar("SELECT vendor_id FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    drop(conn);
    let product = crate::products::by_id(db, product)
        .await?
        .ok_or(CatalogError::NotFound)?;
    Ok(EditableProduct {
        product,
        images,
        vendor_id: vendor_id.map(UserId::from_db),
    })
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }
}
