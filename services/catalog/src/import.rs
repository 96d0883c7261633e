//! Catalog import from JSONL, one product per line, in the format of
//! `shared/datasets/catalog-10k.jsonl`.
//!
//! All or nothing: every line is validated first and any bad line is reported (line number,
//! SKU, reason) with nothing written. A valid file is applied in one transaction: categories
//! are created from the `A > B > C` paths, products are matched by SKU (created or updated),
//! and each stock change is recorded as an `import` adjustment.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use serde::Deserialize;
use shop_core::db::Conn;
use shop_core::{Clock, Currency, Db, Timestamp};

use crate::slug::slugify;
use crate::{CategoryId, ProductId, VariantId};

/// One line of the file.
#[derive(Debug, Deserialize)]
struct Line {
    sku: String,
    name: String,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    description: String,
    category: String,
    price_minor: i64,
    currency: String,
    stock: i64,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    created_at: Option<String>,
}

/// A validated product, ready to write.
#[derive(Debug)]
struct Row {
    line: usize,
    sku: String,
    name: String,
    slug: String,
    description: String,
    category_path: Vec<String>,
    price_minor: i64,
    currency: Currency,
    stock: i64,
    brand: String,
    attributes: String,
    created_at: Option<Timestamp>,
}

/// A line that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: usize,
    pub sku: Option<String>,
    pub message: String,
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} line(s) cannot be imported; nothing was changed", .0.len())]
    InvalidRows(Vec<RowError>),
    #[error("the file has no products")]
    Empty,
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub categories_created: usize,
}

/// Longest accepted line, so a broken file cannot make the server buffer gigabytes.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Imports a JSONL catalog; see the module docs.
#[tracing::instrument(skip_all)]
pub async fn import_jsonl(
    db: &Db,
    clock: &Clock,
    input: impl BufRead,
) -> Result<ImportReport, ImportError> {
    let rows = parse(input)?;
    let mut tx = db.begin().await?;
    let report = apply(&mut tx, clock, &rows).await?;
    tx.commit().await?;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        categories = report.categories_created,
        "catalog imported"
    );
    Ok(report)
}

fn parse(input: impl BufRead) -> Result<Vec<Row>, ImportError> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut skus = HashSet::new();
    let mut slugs = HashSet::new();
    for (index, line) in input.lines().enumerate() {
        let line_no = index + 1;
        let text = line?;
        if text.trim().is_empty() {
            continue;
        }
        if text.len() > MAX_LINE_BYTES {
            errors.push(RowError {
                line: line_no,
                sku: None,
                message: format!("line is longer than {MAX_LINE_BYTES} bytes"),
            });
            continue;
        }
        let parsed: Line = match serde_json::from_str(&text) {
            Ok(l) => l,
            Err(e) => {
                errors.push(RowError {
                    line: line_no,
                    sku: None,
                    message: format!("not a valid product object: {e}"),
                });
                continue;
            }
        };
        match validate(line_no, parsed) {
            Ok(row) => {
                if !skus.insert(row.sku.clone()) {
                    errors.push(RowError {
                        line: line_no,
                        sku: Some(row.sku.clone()),
                        message: "SKU appears more than once in the file".into(),
                    });
                } else if !slugs.insert(row.slug.clone()) {
                    errors.push(RowError {
                        line: line_no,
                        sku: Some(row.sku.clone()),
                        message: format!("slug {:?} appears more than once in the file", row.slug),
                    });
                } else {
                    rows.push(row);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::InvalidRows(errors));
    }
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(rows)
}

fn validate(line: usize, l: Line) -> Result<Row, RowError> {
    let sku = l.sku.trim().to_owned();
    let err = |message: String| RowError {
        line,
        sku: (!sku.is_empty()).then(|| sku.clone()),
        message,
    };
    if sku.is_empty()
        || sku.len() > 64
        || !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(err(
            "SKU must be 1-64 letters, digits, '-', '_' or '.'".into()
        ));
    }
    let name = l.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(err("name must be 1-200 characters".into()));
    }
    let slug = match l.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s == slugify(s) => s.to_owned(),
        Some(s) => {
            return Err(err(format!(
                "slug {s:?} must be lower-case ASCII words joined by '-'"
            )));
        }
        None => slugify(&name),
    };
    if slug.is_empty() || slug.len() > 200 {
        return Err(err("slug must be 1-200 characters".into()));
    }
    let category_path: Vec<String> = l.category.split('>').map(|p| p.trim().to_owned()).collect();
    if category_path
        .iter()
        .any(|p| p.is_empty() || slugify(p).is_empty())
        || category_path.len() > 5
    {
        return Err(err(
            "category must be a path like \"Home & Kitchen > Cookware > Pans\" (1-5 levels)".into(),
        ));
    }
    if !(0..=100_000_000).contains(&l.price_minor) {
        return Err(err("price_minor must be between 0 and 100000000".into()));
    }
    let currency: Currency = l
        .currency
        .parse()
        .map_err(|e: shop_core::MoneyError| err(e.to_string()))?;
    if !(0..=10_000_000).contains(&l.stock) {
        return Err(err("stock must be between 0 and 10000000".into()));
    }
    if let Some((key, _)) = l.attributes.iter().find(|(_, v)| !v.is_string()) {
        return Err(err(format!("attribute {key:?} must be a string")));
    }
    let created_at = match l.created_at.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            Timestamp::parse(s)
                .ok_or_else(|| err(format!("created_at {s:?} is not a date like 2024-12-31")))?,
        ),
    };
    if l.description.len() > 20_000 {
        return Err(err("description is longer than 20000 bytes".into()));
    }
    Ok(Row {
        line,
        sku,
        name,
        slug,
        description: l.description.trim().to_owned(),
        category_path,
        price_minor: l.price_minor,
        currency,
        stock: l.stock,
        brand: l.brand.trim().to_owned(),
        attributes: serde_json::Value::Object(l.attributes).to_string(),
        created_at,
    })
}

/// Resolves category paths to ids, creating what is missing.
struct Categories {
    /// (parent id or "", name) → id
    by_parent_and_name: HashMap<(String, String), String>,
    slug_by_id: HashMap<String, String>,
    created: usize,
}

impl Categories {
    async fn load(conn: &mut Conn) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, Option<String>, String, String)> =
            sqlx::query_as("SELECT id, parent_id, name, slug FROM categories")
                .fetch_all(&mut *conn)
                .await?;
        let mut by_parent_and_name = HashMap::new();
        let mut slug_by_id = HashMap::new();
        for (id, parent, name, slug) in rows {
            by_parent_and_name.insert((parent.unwrap_or_default(), name), id.clone());
            slug_by_id.insert(id, slug);
        }
        Ok(Self {
            by_parent_and_name,
            slug_by_id,
            created: 0,
        })
    }

    async fn resolve(
        &mut self,
        conn: &mut Conn,
        clock: &Clock,
        path: &[String],
    ) -> Result<String, sqlx::Error> {
        let mut parent = String::new();
        let mut parent_slug = String::new();
        for name in path {
            let key = (parent.clone(), name.clone());
            let id = match self.by_parent_and_name.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let id = CategoryId::new();
                    let mut slug = slugify(name);
                    if self.slug_by_id.values().any(|s| *s == slug) {
                        slug = format!("{parent_slug}-{slug}");
                    }
                    let position = i64::try_from(
                        self.by_parent_and_name
                            .keys()
                            .filter(|(p, _)| *p == parent)
                            .count(),
                    )
                    .unwrap_or(0);
                    let now = clock.now().millis();
                    sqlx::query(
                        "INSERT INTO categories (id, parent_id, name, slug, position, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(id.as_str())
                    .bind((!parent.is_empty()).then(|| parent.clone()))
                    .bind(name)
                    .bind(&slug)
                    .bind(position)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                    self.slug_by_id.insert(id.as_str().to_owned(), slug);
                    self.by_parent_and_name.insert(key, id.as_str().to_owned());
                    self.created += 1;
                    id.as_str().to_owned()
                }
            };
            parent_slug = self.slug_by_id.get(&id).cloned().unwrap_or_default();
            parent = id;
        }
        Ok(parent)
    }
}

async fn apply(conn: &mut Conn, clock: &Clock, rows: &[Row]) -> Result<ImportReport, ImportError> {
    let mut categories = Categories::load(conn).await?;
    let mut report = ImportReport::default();
    let mut category_ids: HashMap<&[String], String> = HashMap::new();
    for row in rows {
        let category_id = match category_ids.get(row.category_path.as_slice()) {
            Some(id) => id.clone(),
            None => {
                let id = categories.resolve(conn, clock, &row.category_path).await?;
                category_ids.insert(row.category_path.as_slice(), id.clone());
                id
            }
        };
        let outcome = upsert(conn, clock, row, &category_id).await;
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(e) if shop_core::error::is_unique_violation(&e) => {
                return Err(ImportError::InvalidRows(vec![RowError {
                    line: row.line,
                    sku: Some(row.sku.clone()),
                    message: format!("slug {:?} already belongs to another product", row.slug),
                }]));
            }
            Err(e) => return Err(e.into()),
        }
    }
    report.categories_created = categories.created;
    Ok(report)
}

/// Creates or updates one product; true when created.
async fn upsert(
    conn: &mut Conn,
    clock: &Clock,
    row: &Row,
    category_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = clock.now().millis();
    let created_at = row.created_at.map_or(now, Timestamp::millis);
    let existing: Option<(String, String, i64)> =
        sqlx::query_as("SELECT id, product_id, on_hand FROM product_variants WHERE sku = $1")
            .bind(&row.sku)
            .fetch_optional(&mut *conn)
            .await?;
    let (variant_id, delta, created) = match existing {
        Some((variant_id, product_id, on_hand)) => {
            sqlx::query(
                "UPDATE products SET slug = $1, name = $2, description = $3, brand = $4, category_id = $5,
                        attributes = $6, status = 'active', updated_at = $7
                 WHERE id = $8",
            )
            .bind(&row.slug)
            .bind(&row.name)
            .bind(&row.description)
            .bind(&row.brand)
            .bind(category_id)
            .bind(&row.attributes)
            .bind(now)
            .bind(&product_id)
            .execute(&mut *conn)
            .await?;
            // Reserved units stay reserved: on_hand may not drop below them.
            sqlx::query(
                "UPDATE product_variants SET price_minor = $1, currency = $2,
                        on_hand = CASE WHEN $3 < reserved THEN reserved ELSE $3 END, updated_at = $4
                 WHERE id = $5",
            )
            .bind(row.price_minor)
            .bind(row.currency.code())
            .bind(row.stock)
            .bind(now)
            .bind(&variant_id)
            .execute(&mut *conn)
            .await?;
            let new_on_hand: i64 =
                sqlx::query_scalar("SELECT on_hand FROM product_variants WHERE id = $1")
                    .bind(&variant_id)
                    .fetch_one(&mut *conn)
                    .await?;
            (variant_id, new_on_hand - on_hand, false)
        }
        None => {
            let product_id = ProductId::new();
            let variant_id = VariantId::new();
            sqlx::query(
                "INSERT INTO products (id, slug, name, description, brand, category_id, status, attributes, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9)",
            )
            .bind(product_id.as_str())
            .bind(&row.slug)
            .bind(&row.name)
            .bind(&row.description)
            .bind(&row.brand)
            .bind(category_id)
            .bind(&row.attributes)
            .bind(created_at)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO product_variants (id, product_id, sku, price_minor, currency, on_hand, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(variant_id.as_str())
            .bind(product_id.as_str())
            .bind(&row.sku)
            .bind(row.price_minor)
            .bind(row.currency.code())
            .bind(row.stock)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            (variant_id.as_str().to_owned(), row.stock, true)
        }
    };
    if delta != 0 {
        sqlx::query(
            "INSERT INTO stock_adjustments (id, variant_id, delta, reason, note, created_at)
             VALUES ($1, $2, $3, 'import', 'catalog import', $4)",
        )
        .bind(shop_core::id::new_uuid_v7())
        .bind(&variant_id)
        .bind(delta)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(created)
}
