//! Catalog export: JSONL in the import format (so an export can be edited and imported
//! again), and CSV for spreadsheets.

use serde_json::{Map, Value, json};
use shop_core::{Db, Timestamp};

use crate::CatalogError;
use crate::categories::CategoryTree;

/// One variant with its product's fields, as both formats need them.
struct Line {
    sku: String,
    name: String,
    slug: String,
    description: String,
    category: String,
    price_minor: i64,
    compare_at_minor: Option<i64>,
    currency: String,
    on_hand: i64,
    reserved: i64,
    brand: String,
    attributes: Map<String, Value>,
    options: Map<String, Value>,
    weight_grams: Option<i64>,
    featured: bool,
    status: String,
    variant_status: String,
    created_at: Timestamp,
}

/// A variant with its product's fields, as the database holds them.
#[derive(sqlx::FromRow)]
struct Row {
    sku: String,
    name: String,
    slug: String,
    description: String,
    category_id: String,
    price_minor: i64,
    compare_at_minor: Option<i64>,
    currency: String,
    on_hand: i64,
    reserved: i64,
    brand: String,
    attributes: String,
    options: String,
    weight_grams: Option<i64>,
    featured: i64,
    status: String,
    variant_status: String,
    created_at: i64,
}

async fn lines(db: &Db) -> Result<Vec<Line>, CatalogError> {
    let tree = CategoryTree::load(db).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.sku, p.name, p.slug, p.description, p.category_id, v.price_minor,
                v.compare_at_minor, v.currency, v.on_hand, v.reserved, p.brand, p.attributes,
                v.options, v.weight_grams, p.featured, p.status, v.status AS variant_status,
                p.created_at
         FROM product_variants v JOIN products p ON p.id = v.product_id
         ORDER BY p.created_at, p.id, v.position, v.id",
    )
    .fetch_all(db.reader())
    .await?;
    let object = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    Ok(rows
        .into_iter()
        .map(|r| Line {
            category: tree
                .path(&crate::CategoryId::from_db(r.category_id.clone()))
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(" > "),
            attributes: object(&r.attributes),
            options: object(&r.options),
            featured: r.featured != 0,
            created_at: Timestamp(r.created_at),
            sku: r.sku,
            name: r.name,
            slug: r.slug,
            description: r.description,
            price_minor: r.price_minor,
            compare_at_minor: r.compare_at_minor,
            currency: r.currency,
            on_hand: r.on_hand,
            reserved: r.reserved,
            brand: r.brand,
            weight_grams: r.weight_grams,
            status: r.status,
            variant_status: r.variant_status,
        })
        .collect())
}

fn date(t: Timestamp) -> String {
    t.to_rfc3339().chars().take(10).collect()
}

/// Every product variant as one JSON object per line, in the format
/// [`crate::import::import_jsonl`] reads (`stock` is the stock on hand).
pub async fn jsonl(db: &Db) -> Result<Vec<u8>, CatalogError> {
    let mut out = Vec::new();
    for l in lines(db).await? {
        let mut obj = json!({
            "sku": l.sku,
            "name": l.name,
            "slug": l.slug,
            "description": l.description,
            "category": l.category,
            "price_minor": l.price_minor,
            "currency": l.currency,
            "stock": l.on_hand,
            "brand": l.brand,
            "attributes": l.attributes,
            "created_at": date(l.created_at),
            "status": l.status,
        });
        if !l.options.is_empty() {
            obj["options"] = Value::Object(l.options);
        }
        if let Some(c) = l.compare_at_minor {
            obj["compare_at_minor"] = json!(c);
        }
        if let Some(w) = l.weight_grams {
            obj["weight_grams"] = json!(w);
        }
        if l.featured {
            obj["featured"] = json!(true);
        }
        if l.variant_status != "active" {
            obj["variant_status"] = json!(l.variant_status);
        }
        serde_json::to_writer(&mut out, &obj).map_err(std::io::Error::from)?;
        out.push(b'\n');
    }
    Ok(out)
}

use shop_core::spreadsheet::cell;

fn pairs(map: &Map<String, Value>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

/// Every product variant as a CSV row with a header, for spreadsheets.
pub async fn csv(db: &Db) -> Result<Vec<u8>, CatalogError> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header = [
        "sku",
        "name",
        "slug",
        "status",
        "variant_status",
        "category",
        "brand",
        "options",
        "attributes",
        "price",
        "compare_at_price",
        "currency",
        "on_hand",
        "reserved",
        "available",
        "weight_grams",
        "featured",
        "created_at",
    ];
    let io = |e: ::csv::Error| CatalogError::from(std::io::Error::other(e));
    w.write_record(header).map_err(io)?;
    for l in lines(db).await? {
        w.write_record([
            cell(&l.sku),
            cell(&l.name),
            l.slug,
            l.status,
            l.variant_status,
            cell(&l.category),
            cell(&l.brand),
            cell(&pairs(&l.options)),
            cell(&pairs(&l.attributes)),
            decimal(l.price_minor),
            l.compare_at_minor.map(decimal).unwrap_or_default(),
            l.currency,
            l.on_hand.to_string(),
            l.reserved.to_string(),
            (l.on_hand - l.reserved).max(0).to_string(),
            l.weight_grams.map(|g| g.to_string()).unwrap_or_default(),
            if l.featured { "yes" } else { "no" }.to_owned(),
            date(l.created_at),
        ])
        .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| CatalogError::from(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_written_with_two_decimals() {
        assert_eq!(decimal(4595), "45.95");
        assert_eq!(decimal(7), "0.07");
    }
}
