//! Who changes the catalog and what they may touch, and the checks every change shares.
//!
//! Every change takes an [`Editor`]: who is acting (for the audit log) and what they may
//! touch. The shop's staff may change any product; a vendor only products they own, and a
//! product of someone else's is reported as not found, so a vendor cannot even learn that it
//! exists. Input is validated before anything is written; each change is one transaction
//! that also re-indexes the product and writes the audit entry, so a failure changes nothing.

use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::db::Conn;
use shop_core::{Clock, UniqueField, UserId};

use crate::CatalogError;

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
    /// A vendor: only products whose owner is this user.
    Vendor(UserId),
}

impl Editor {
    pub(crate) fn vendor(&self) -> Option<&str> {
        match &self.access {
            Access::Shop => None,
            Access::Vendor(id) => Some(id.as_str()),
        }
    }
}

/// Most name/value pairs (attributes, options) one product or variant may have.
const MAX_PAIRS: usize = 30;

pub(crate) fn too_long(field: &'static str, label: &str, max: usize) -> CatalogError {
    CatalogError::invalid(field, format!("{label} can be at most {max} characters."))
}

pub(crate) fn pairs_json(
    field: &'static str,
    label: &str,
    pairs: &[(String, String)],
) -> Result<String, CatalogError> {
    if pairs.len() > MAX_PAIRS {
        return Err(CatalogError::invalid(
            field,
            format!("At most {MAX_PAIRS} {label}s."),
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

/// The catalog's unique values and the form field each stands for.
const UNIQUE_FIELDS: &[UniqueField] = &[
    UniqueField {
        constraints: &["products_slug_key", "products.slug"],
        field: "slug",
        message: "Another product already has that web address.",
    },
    UniqueField {
        constraints: &["product_variants_sku_key", "product_variants.sku"],
        field: "sku",
        message: "That SKU is already in use.",
    },
    UniqueField {
        constraints: &["categories_slug_key", "categories.slug"],
        field: "slug",
        message: "Another category already has that web address.",
    },
];

/// A write's error: a taken slug or SKU becomes the message its form field shows (by the
/// constraint's name); anything else stays a database error.
pub(crate) fn unique_error(e: sqlx::Error) -> CatalogError {
    match shop_core::error::unique_field(&e, UNIQUE_FIELDS) {
        Some(taken) => CatalogError::invalid(taken.field, taken.message),
        None => e.into(),
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

/// The product a variant belongs to, if `editor` may manage it (else not found).
pub async fn product_of_variant(
    db: &shop_core::Db,
    editor: &Editor,
    variant: &crate::VariantId,
) -> Result<crate::ProductId, CatalogError> {
    let mut conn = db.reader().acquire().await?;
    variant_product(&mut conn, editor, variant.as_str())
        .await
        .map(crate::ProductId::from_db)
}

/// Writes the audit entry for a change to a product (its variants and stock included), and
/// its [`crate::PRODUCT_UPDATED`] event for the outbound webhooks.
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
    shop_core::outbox::enqueue(
        conn,
        clock,
        crate::PRODUCT_UPDATED,
        &json!({ "product_id": product_id, "change": action }),
    )
    .await?;
    Ok(())
}
