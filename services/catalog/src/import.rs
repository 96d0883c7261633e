//! Catalog import from JSONL, one product per line, in the format of
//! `shared/datasets/catalog-10k.jsonl`.
//!
//! Each line is one variant. In the shared dataset every line has its own slug, so every
//! line is a product with one variant; lines that share a `slug` are the variants of one
//! product (told apart by their `options`, e.g. `{"size": "M"}`), and the product's fields
//! come from the first of them. Optional fields beyond the dataset's: `options`,
//! `compare_at_minor`, `weight_grams`, `featured`, `status` (`draft`, `active` (the default)
//! or `archived`) and `variant_status` (`active` or `archived`), which the export writes.
//!
//! All or nothing: every line is validated first and any bad line is reported (line number,
//! SKU, reason) with nothing written. A valid file is applied in one transaction: categories
//! are created from the `A > B > C` paths, variants are matched by SKU (created or updated),
//! each stock change is recorded as an `import` adjustment, each product is re-indexed for
//! listings and search, and one audit entry records who imported what.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use serde::Deserialize;
use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::{Clock, Currency, Db, Timestamp};

use crate::slug::slugify;
use crate::stock::{Adjustment, StockReason, record_adjustment};
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
    #[serde(default)]
    options: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    compare_at_minor: Option<i64>,
    #[serde(default)]
    weight_grams: Option<i64>,
    #[serde(default)]
    featured: bool,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    variant_status: Option<String>,
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
    options: String,
    compare_at_minor: Option<i64>,
    weight_grams: Option<i64>,
    featured: bool,
    status: crate::ProductStatus,
    variant_archived: bool,
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
async fn import_jsonl(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    input: impl BufRead,
) -> Result<ImportReport, ImportError> {
    let rows = parse(input)?;
    let mut tx = db.begin().await?;
    shop_core::db::size_cache_for_bulk(&mut tx, true).await?;
    let applied = apply(&mut tx, clock, actor, &rows).await;
    shop_core::db::size_cache_for_bulk(&mut tx, false).await?;
    let report = applied?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "catalog.imported",
            target_type: "catalog",
            target_id: "import",
            before: None,
            after: Some(serde_json::json!({
                "lines": rows.len(),
                "products_created": report.created,
                "products_updated": report.updated,
                "categories_created": report.categories_created,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    // Thousands of new rows: let the query planner see them.
    db.analyze().await?;
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
                } else {
                    rows.push(row);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    check_groups(&rows, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::InvalidRows(errors));
    }
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(rows)
}

/// Lines sharing a slug are one product's variants: each needs options that tell it apart,
/// and they must share a currency.
fn check_groups(rows: &[Row], errors: &mut Vec<RowError>) {
    let mut first_by_slug: HashMap<&str, &Row> = HashMap::new();
    let mut options_by_slug: HashMap<&str, HashSet<&str>> = HashMap::new();
    for row in rows {
        let first = *first_by_slug.entry(row.slug.as_str()).or_insert(row);
        if std::ptr::eq(first, row) {
            options_by_slug
                .entry(row.slug.as_str())
                .or_default()
                .insert(row.options.as_str());
            continue;
        }
        let err = |message: String| RowError {
            line: row.line,
            sku: Some(row.sku.clone()),
            message,
        };
        if row.options == "{}" || first.options == "{}" {
            errors.push(err(format!(
                "slug {:?} is used by line {} too; lines of one product need \"options\" that tell the variants apart",
                row.slug, first.line
            )));
        } else if !options_by_slug
            .entry(row.slug.as_str())
            .or_default()
            .insert(row.options.as_str())
        {
            errors.push(err(format!(
                "another variant of {:?} has the same options",
                row.slug
            )));
        } else if row.currency != first.currency {
            errors.push(err(format!(
                "all variants of {:?} must use {}",
                row.slug, first.currency
            )));
        }
    }
}

fn validate(line: usize, l: Line) -> Result<Row, RowError> {
    let sku = l.sku.trim().to_owned();
    let err = |message: String| RowError {
        line,
        sku: (!sku.is_empty()).then(|| sku.clone()),
        message,
    };
    if shop_core::Sku::parse(&sku).is_err() {
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
    if !(0..=crate::MAX_PRICE_MINOR).contains(&l.price_minor) {
        return Err(err("price_minor must be between 0 and 100000000".into()));
    }
    let currency: Currency = l
        .currency
        .parse()
        .map_err(|e: shop_core::MoneyError| err(e.to_string()))?;
    if !(0..=crate::MAX_STOCK).contains(&l.stock) {
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
    crate::markdown::render(&l.description).map_err(|e| err(e.to_string()))?;
    if let Some((key, _)) = l.options.iter().find(|(_, v)| !v.is_string()) {
        return Err(err(format!("option {key:?} must be a string")));
    }
    if l.compare_at_minor
        .is_some_and(|c| !(0..=crate::MAX_PRICE_MINOR).contains(&c))
    {
        return Err(err(
            "compare_at_minor must be between 0 and 100000000".into()
        ));
    }
    if l.weight_grams
        .is_some_and(|w| !(0..=1_000_000).contains(&w))
    {
        return Err(err("weight_grams must be between 0 and 1000000".into()));
    }
    let status = match l.status.as_deref() {
        None | Some("") => crate::ProductStatus::Active,
        Some(s) => crate::ProductStatus::parse(s)
            .ok_or_else(|| err(format!("status {s:?} must be draft, active or archived")))?,
    };
    let variant_archived = match l.variant_status.as_deref() {
        None | Some("") | Some("active") => false,
        Some("archived") => true,
        Some(s) => {
            return Err(err(format!(
                "variant_status {s:?} must be active or archived"
            )));
        }
    };
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
        options: serde_json::Value::Object(l.options).to_string(),
        compare_at_minor: l.compare_at_minor,
        weight_grams: l.weight_grams,
        featured: l.featured,
        status,
        variant_archived,
    })
}

/// Resolves category paths to ids, creating what is missing.
struct Categories {
    /// (parent id or "", name) → id
    by_parent_and_name: HashMap<(String, String), String>,
    slug_by_id: HashMap<String, String>,
    created: usize,
}

/// A category's place in the tree, name and slug.
#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: String,
    parent_id: Option<String>,
    name: String,
    slug: String,
}

impl Categories {
    async fn load(conn: &mut Conn) -> Result<Self, sqlx::Error> {
        let rows: Vec<CategoryRow> =
            sqlx::query_as("SELECT id, parent_id, name, slug FROM categories")
                .fetch_all(&mut *conn)
                .await?;
        let mut by_parent_and_name = HashMap::new();
        let mut slug_by_id = HashMap::new();
        for CategoryRow {
            id,
            parent_id: parent,
            name,
            slug,
        } in rows
        {
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

async fn apply(
    conn: &mut Conn,
    clock: &Clock,
    actor: &Actor,
    rows: &[Row],
) -> Result<ImportReport, ImportError> {
    let mut categories = Categories::load(conn).await?;
    let mut report = ImportReport::default();
    let mut category_ids: HashMap<&[String], String> = HashMap::new();
    // Products in file order, each with its variants in file order.
    let mut groups: Vec<Vec<&Row>> = Vec::new();
    let mut group_of_slug: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        match group_of_slug.get(row.slug.as_str()) {
            Some(&g) => groups[g].push(row),
            None => {
                group_of_slug.insert(row.slug.as_str(), groups.len());
                groups.push(vec![row]);
            }
        }
    }
    for group in &groups {
        let first = group[0];
        let category_id = match category_ids.get(first.category_path.as_slice()) {
            Some(id) => id.clone(),
            None => {
                let id = categories
                    .resolve(conn, clock, &first.category_path)
                    .await?;
                category_ids.insert(first.category_path.as_slice(), id.clone());
                id
            }
        };
        match upsert_product(conn, clock, actor, group, &category_id).await {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(e) if shop_core::error::is_unique_violation(&e) => {
                return Err(ImportError::InvalidRows(vec![RowError {
                    line: first.line,
                    sku: Some(first.sku.clone()),
                    message: format!("slug {:?} already belongs to another product", first.slug),
                }]));
            }
            Err(e) => return Err(e.into()),
        }
    }
    report.categories_created = categories.created;
    Ok(report)
}

/// Creates or updates one product and its variants; true when the product was created.
async fn upsert_product(
    conn: &mut Conn,
    clock: &Clock,
    actor: &Actor,
    group: &[&Row],
    category_id: &str,
) -> Result<bool, sqlx::Error> {
    let first = group[0];
    let now = clock.now().millis();
    let mut existing: Option<String> = None;
    for row in group {
        existing = sqlx::query_scalar("SELECT product_id FROM product_variants WHERE sku = $1")
            .bind(&row.sku)
            .fetch_optional(&mut *conn)
            .await?;
        if existing.is_some() {
            break;
        }
    }
    if existing.is_none() {
        existing = sqlx::query_scalar("SELECT id FROM products WHERE slug = $1")
            .bind(&first.slug)
            .fetch_optional(&mut *conn)
            .await?;
    }
    let description_html = crate::markdown::render(&first.description).unwrap_or_default();
    let (product_id, created) = match existing {
        Some(product_id) => {
            sqlx::query(
                "UPDATE products SET slug = $1, name = $2, description = $3, description_html = $4,
                        brand = $5, category_id = $6, attributes = $7, featured = $8,
                        status = $9, updated_at = $10
                 WHERE id = $11",
            )
            .bind(&first.slug)
            .bind(&first.name)
            .bind(&first.description)
            .bind(&description_html)
            .bind(&first.brand)
            .bind(category_id)
            .bind(&first.attributes)
            .bind(i64::from(first.featured))
            .bind(first.status.as_str())
            .bind(now)
            .bind(&product_id)
            .execute(&mut *conn)
            .await?;
            (product_id, false)
        }
        None => {
            let product_id = ProductId::new();
            sqlx::query(
                "INSERT INTO products (id, slug, name, description, description_html, brand, category_id,
                                       status, attributes, featured, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(product_id.as_str())
            .bind(&first.slug)
            .bind(&first.name)
            .bind(&first.description)
            .bind(&description_html)
            .bind(&first.brand)
            .bind(category_id)
            .bind(first.status.as_str())
            .bind(&first.attributes)
            .bind(i64::from(first.featured))
            .bind(first.created_at.map_or(now, Timestamp::millis))
            .bind(now)
            .execute(&mut *conn)
            .await?;
            (product_id.as_str().to_owned(), true)
        }
    };
    for (position, row) in group.iter().enumerate() {
        upsert_variant(conn, now, actor, &product_id, row, position).await?;
    }
    crate::index::reindex(conn, &product_id).await?;
    Ok(created)
}

/// A variant already stored under an imported SKU, with its stock on hand.
#[derive(sqlx::FromRow)]
struct ExistingVariant {
    id: String,
    on_hand: i64,
}

/// Creates or updates one variant by SKU and records any stock change.
async fn upsert_variant(
    conn: &mut Conn,
    now: i64,
    actor: &Actor,
    product_id: &str,
    row: &Row,
    position: usize,
) -> Result<(), sqlx::Error> {
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    let existing: Option<ExistingVariant> =
        sqlx::query_as("SELECT id, on_hand FROM product_variants WHERE sku = $1")
            .bind(&row.sku)
            .fetch_optional(&mut *conn)
            .await?;
    let (variant_id, before) = match existing {
        Some(ExistingVariant {
            id: variant_id,
            on_hand,
        }) => {
            // Reserved units stay reserved: on_hand may not drop below them.
            sqlx::query(
                "UPDATE product_variants SET product_id = $1, options = $2, price_minor = $3,
                        compare_at_minor = $4, currency = $5, weight_grams = $6,
                        on_hand = CASE WHEN $7 < reserved THEN reserved ELSE $7 END,
                        position = $8, status = $9, updated_at = $10
                 WHERE id = $11",
            )
            .bind(product_id)
            .bind(&row.options)
            .bind(row.price_minor)
            .bind(row.compare_at_minor)
            .bind(row.currency.code())
            .bind(row.weight_grams)
            .bind(row.stock)
            .bind(position)
            .bind(if row.variant_archived {
                "archived"
            } else {
                "active"
            })
            .bind(now)
            .bind(&variant_id)
            .execute(&mut *conn)
            .await?;
            (variant_id, on_hand)
        }
        None => {
            let variant_id = VariantId::new();
            sqlx::query(
                "INSERT INTO product_variants (id, product_id, sku, options, price_minor, compare_at_minor,
                                               currency, weight_grams, on_hand, position, status,
                                               created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
            )
            .bind(variant_id.as_str())
            .bind(product_id)
            .bind(&row.sku)
            .bind(&row.options)
            .bind(row.price_minor)
            .bind(row.compare_at_minor)
            .bind(row.currency.code())
            .bind(row.weight_grams)
            .bind(row.stock)
            .bind(position)
            .bind(if row.variant_archived { "archived" } else { "active" })
            .bind(now)
            .execute(&mut *conn)
            .await?;
            (variant_id.as_str().to_owned(), 0)
        }
    };
    let after: i64 = sqlx::query_scalar("SELECT on_hand FROM product_variants WHERE id = $1")
        .bind(&variant_id)
        .fetch_one(&mut *conn)
        .await?;
    if after != before {
        record_adjustment(
            conn,
            Adjustment {
                variant_id: &variant_id,
                delta: after - before,
                reason: StockReason::Import,
                note: "catalog import",
                actor_id: actor.user_id.as_ref(),
                on_hand_after: after,
                at: now,
            },
        )
        .await?;
    }
    Ok(())
}

impl crate::Catalog {
    /// Imports a JSONL catalog (see the module docs) in one transaction.
    pub async fn import_jsonl(
        &self,
        actor: &Actor,
        input: impl BufRead,
    ) -> Result<ImportReport, ImportError> {
        let report = import_jsonl(self.db(), self.clock(), actor, input).await?;
        self.changed();
        Ok(report)
    }
}
