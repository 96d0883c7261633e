//! Derived data kept beside each product: its listing summary (lowest price, stock), its
//! filter values, and its full-text search entry. Every write path that changes a product or
//! its variants calls [`reindex`] in the same transaction, so the derived data is never out
//! of step with what it is derived from.

use shop_core::Backend;
use shop_core::db::Conn;

use crate::markdown;

/// Recomputes the summary, filter values and search entry of one product.
pub(crate) async fn reindex(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    refresh_summary(conn, product_id).await?;
    refresh_facets(conn, product_id).await?;
    refresh_search(conn, product_id).await
}

/// Lowest and highest active variant price, the compare-at price of the cheapest variant,
/// the currency, the units available across active variants, and the only active variant
/// when there is exactly one (listings add it to the cart from the product card).
pub(crate) async fn refresh_summary(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET
            price_minor = COALESCE((SELECT MIN(v.price_minor) FROM product_variants v
                                    WHERE v.product_id = $1 AND v.status = 'active'), 0),
            max_price_minor = COALESCE((SELECT MAX(v.price_minor) FROM product_variants v
                                        WHERE v.product_id = $1 AND v.status = 'active'), 0),
            compare_at_minor = (SELECT v.compare_at_minor FROM product_variants v
                                WHERE v.product_id = $1 AND v.status = 'active'
                                ORDER BY v.price_minor, v.position LIMIT 1),
            currency = COALESCE((SELECT v.currency FROM product_variants v
                                 WHERE v.product_id = $1 ORDER BY v.position LIMIT 1), currency),
            available = COALESCE((SELECT SUM(v.on_hand - v.reserved) FROM product_variants v
                                  WHERE v.product_id = $1 AND v.status = 'active'), 0),
            sole_variant_id = (SELECT MIN(v.id) FROM product_variants v
                               WHERE v.product_id = $1 AND v.status = 'active'
                               HAVING COUNT(*) = 1),
            cover_image = (SELECT i.hash FROM product_images i WHERE i.product_id = $1
                           ORDER BY i.position, i.created_at LIMIT 1),
            cover_alt = (SELECT i.alt FROM product_images i WHERE i.product_id = $1
                         ORDER BY i.position, i.created_at LIMIT 1)
         WHERE id = $1",
    )
    .bind(product_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Filter values: the product's attributes plus its active variants' options.
async fn refresh_facets(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_facets WHERE product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    let attributes: Option<String> =
        sqlx::query_scalar("SELECT attributes FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?;
    let options: Vec<String> = sqlx::query_scalar(
        "SELECT options FROM product_variants WHERE product_id = $1 AND status = 'active'",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut pairs = std::collections::BTreeSet::new();
    for json in attributes.iter().chain(options.iter()) {
        for (name, value) in string_pairs(json) {
            pairs.insert((name, value));
        }
    }
    for (name, value) in pairs {
        // With the product's category and status, which facet counts read beside the value.
        sqlx::query(
            "INSERT INTO product_facets (product_id, name, value, category_id, status)
             SELECT p.id, $2, $3, p.category_id, p.status FROM products p WHERE p.id = $1",
        )
        .bind(product_id)
        .bind(name)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The `(name, value)` string pairs of a JSON object; anything else yields nothing.
pub(crate) fn string_pairs(json: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(map) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => {
                    Some((k, s.trim().to_owned()))
                }
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A product's searchable text fields.
#[derive(sqlx::FromRow)]
struct SearchText {
    name: String,
    brand: String,
    description: String,
}

/// The search entry (backend-specific: FTS5 on SQLite, a weighted tsvector on PostgreSQL).
async fn refresh_search(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    let Some(SearchText {
        name,
        brand,
        description,
    }): Option<SearchText> =
        sqlx::query_as("SELECT name, brand, description FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(());
    };
    let skus: Vec<String> = sqlx::query_scalar(
        "SELECT sku FROM product_variants WHERE product_id = $1 ORDER BY position",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    // SKUs like "HK01-205058" are searchable whole and by their parts.
    let skus = skus
        .iter()
        .map(|s| format!("{s} {}", s.replace(['-', '_', '.'], " ")))
        .collect::<Vec<_>>()
        .join(" ");
    let description = markdown::plain_text(&description);
    match Backend::of(conn) {
        Backend::Sqlite => {
            sqlx::query("INSERT INTO product_search_ids (product_id) VALUES ($1) ON CONFLICT (product_id) DO NOTHING")
                .bind(product_id)
                .execute(&mut *conn)
                .await?;
            let search_id: i64 = sqlx::query_scalar(
                "SELECT search_id FROM product_search_ids WHERE product_id = $1",
            )
            .bind(product_id)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM products_fts WHERE rowid = $1")
                .bind(search_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO products_fts (rowid, name, brand, description, skus) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(search_id)
            .bind(&name)
            .bind(&brand)
            .bind(&description)
            .bind(&skus)
            .execute(&mut *conn)
            .await?;
        }
        Backend::Postgres => {
            sqlx::query(
                "UPDATE products SET search_vector =
                    setweight(to_tsvector('english', $2), 'A') ||
                    setweight(to_tsvector('simple', $5), 'A') ||
                    setweight(to_tsvector('english', $3), 'B') ||
                    setweight(to_tsvector('english', $4), 'D')
                 WHERE id = $1",
            )
            .bind(product_id)
            .bind(&name)
            .bind(&brand)
            .bind(&description)
            .bind(&skus)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
