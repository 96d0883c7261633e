//! Changing the category tree: create, edit (including moving a category under another
//! parent) and delete. Shop staff only; every change is one transaction with its audit entry.

use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::{Clock, Db};

use crate::editor::unique_error;
use crate::{Catalog, CatalogError, CategoryId};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2_000;
/// Deepest allowed tree (levels below the top).
const MAX_DEPTH: usize = 8;

/// A category's fields, as the form sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryInput {
    pub name: String,
    /// Empty: made from the name.
    pub slug: String,
    pub description: String,
    /// Empty: a top-level category.
    pub parent_id: String,
    pub position: i64,
}

struct Clean {
    name: String,
    slug: String,
    description: String,
    parent_id: Option<String>,
    position: i64,
}

fn clean(input: &CategoryInput) -> Result<Clean, CatalogError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(CatalogError::invalid("name", "Enter the category's name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(crate::editor::too_long("name", "The name", MAX_NAME));
    }
    let slug = crate::slug::requested(&input.slug, &name, MAX_NAME, "kitchen-knives")?;
    let description = input.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(crate::editor::too_long(
            "description",
            "The description",
            MAX_DESCRIPTION,
        ));
    }
    if !(0..=1_000_000).contains(&input.position) {
        return Err(CatalogError::invalid(
            "position",
            "The position is a number from 0 to 1,000,000.",
        ));
    }
    Ok(Clean {
        name,
        slug,
        description,
        parent_id: Some(input.parent_id.trim().to_owned()).filter(|p| !p.is_empty()),
        position: input.position,
    })
}

/// Serialises changes to the tree's shape. Two moves checked at the same time could each
/// pass the cycle check and together make a cycle; SQLite already runs one writer at a time,
/// PostgreSQL needs the lock (tree changes are rare, so it costs nothing noticeable).
async fn lock_tree(conn: &mut Conn) -> Result<(), sqlx::Error> {
    if shop_core::db::Backend::of(conn) == shop_core::db::Backend::Postgres {
        sqlx::query("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The chain of ancestors of `id`, nearest first; not found if `id` does not exist.
async fn ancestors(conn: &mut Conn, id: &str) -> Result<Vec<String>, CatalogError> {
    let mut out = Vec::new();
    let mut current = id.to_owned();
    loop {
        let parent: Option<Option<String>> =
            sqlx::query_scalar("SELECT parent_id FROM categories WHERE id = $1")
                .bind(&current)
                .fetch_optional(&mut *conn)
                .await?;
        match parent {
            None if out.is_empty() && current == id => return Err(CatalogError::NotFound),
            Some(Some(p)) if !out.contains(&p) && out.len() <= 64 => {
                out.push(p.clone());
                current = p;
            }
            _ => return Ok(out),
        }
    }
}

/// Checks that `parent` exists, is not `id` or below it, and keeps the tree shallow.
async fn check_parent(conn: &mut Conn, id: Option<&str>, parent: &str) -> Result<(), CatalogError> {
    let chain = match ancestors(conn, parent).await {
        Ok(chain) => chain,
        Err(CatalogError::NotFound) => {
            return Err(CatalogError::invalid(
                "parent_id",
                "The parent category does not exist.",
            ));
        }
        Err(e) => return Err(e),
    };
    if let Some(id) = id
        && (parent == id || chain.iter().any(|a| a == id))
    {
        return Err(CatalogError::invalid(
            "parent_id",
            "A category cannot be moved under itself or one of its own subcategories.",
        ));
    }
    if chain.len() + 1 >= MAX_DEPTH {
        return Err(CatalogError::invalid(
            "parent_id",
            format!("Categories can be nested at most {MAX_DEPTH} levels deep."),
        ));
    }
    Ok(())
}

/// A category's audited fields as the database holds them.
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    name: String,
    slug: String,
    description: String,
    parent_id: Option<String>,
    position: i64,
}

async fn snapshot(conn: &mut Conn, id: &str) -> Result<serde_json::Value, sqlx::Error> {
    let row: SnapshotRow = sqlx::query_as(
        "SELECT name, slug, description, parent_id, position FROM categories WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(json!({
        "name": row.name, "slug": row.slug, "description": row.description,
        "parent_id": row.parent_id, "position": row.position,
    }))
}

async fn record(
    conn: &mut Conn,
    clock: &Clock,
    actor: &Actor,
    action: &str,
    id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        clock,
        actor,
        Change {
            action,
            target_type: "category",
            target_id: id,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

/// Creates a category. Returns its id.
async fn create_category(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    input: &CategoryInput,
) -> Result<CategoryId, CatalogError> {
    let c = clean(input)?;
    let mut tx = db.begin().await?;
    lock_tree(&mut tx).await?;
    if let Some(parent) = &c.parent_id {
        check_parent(&mut tx, None, parent).await?;
    }
    let id = CategoryId::new();
    let now = clock.now().millis();
    sqlx::query(
        "INSERT INTO categories (id, parent_id, name, slug, description, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id.as_str())
    .bind(c.parent_id.as_deref())
    .bind(&c.name)
    .bind(&c.slug)
    .bind(&c.description)
    .bind(c.position)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(unique_error)?;
    let after = snapshot(&mut tx, id.as_str()).await?;
    record(
        &mut tx,
        clock,
        actor,
        "category.created",
        id.as_str(),
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a category, possibly moving it (with everything below it) under another parent.
async fn update_category(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    id: &str,
    input: &CategoryInput,
) -> Result<(), CatalogError> {
    let c = clean(input)?;
    let mut tx = db.begin().await?;
    lock_tree(&mut tx).await?;
    let before = match snapshot(&mut tx, id).await {
        Ok(v) => v,
        Err(sqlx::Error::RowNotFound) => return Err(CatalogError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if let Some(parent) = &c.parent_id {
        check_parent(&mut tx, Some(id), parent).await?;
    }
    sqlx::query(
        "UPDATE categories SET parent_id = $1, name = $2, slug = $3, description = $4,
                position = $5, updated_at = $6
         WHERE id = $7",
    )
    .bind(c.parent_id.as_deref())
    .bind(&c.name)
    .bind(&c.slug)
    .bind(&c.description)
    .bind(c.position)
    .bind(clock.now().millis())
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(unique_error)?;
    let after = snapshot(&mut tx, id).await?;
    record(
        &mut tx,
        clock,
        actor,
        "category.updated",
        id,
        Some(before),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an empty category: one with no subcategories and no product filed under it
/// first (products listed there only as a further category lose that listing).
async fn delete_category(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    id: &str,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    lock_tree(&mut tx).await?;
    let before = match snapshot(&mut tx, id).await {
        Ok(v) => v,
        Err(sqlx::Error::RowNotFound) => return Err(CatalogError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let children: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM categories WHERE parent_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if children > 0 {
        return Err(CatalogError::invalid(
            "category",
            format!(
                "This category has {children} subcategor{}; move or delete them first.",
                if children == 1 { "y" } else { "ies" }
            ),
        ));
    }
    let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE category_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if products > 0 {
        return Err(CatalogError::invalid(
            "category",
            format!(
                "{products} product{} filed under this category; move {} to another category first.",
                if products == 1 { " is" } else { "s are" },
                if products == 1 { "it" } else { "them" }
            ),
        ));
    }
    sqlx::query("DELETE FROM product_categories WHERE category_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM categories WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        clock,
        actor,
        "category.deleted",
        id,
        Some(before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

impl Catalog {
    /// Creates a category. Returns its id.
    pub async fn create_category(
        &self,
        actor: &Actor,
        input: &CategoryInput,
    ) -> Result<CategoryId, CatalogError> {
        let id = create_category(self.db(), self.clock(), actor, input).await?;
        self.changed();
        Ok(id)
    }

    /// Changes a category, possibly moving it (with everything below it) under another
    /// parent.
    pub async fn update_category(
        &self,
        actor: &Actor,
        category: &CategoryId,
        input: &CategoryInput,
    ) -> Result<(), CatalogError> {
        update_category(self.db(), self.clock(), actor, category.as_str(), input).await?;
        self.changed();
        Ok(())
    }

    /// Deletes an empty category (no subcategories, no product filed under it first).
    pub async fn delete_category(
        &self,
        actor: &Actor,
        category: &CategoryId,
    ) -> Result<(), CatalogError> {
        delete_category(self.db(), self.clock(), actor, category.as_str()).await?;
        self.changed();
        Ok(())
    }
}
