//! A product's gallery: adding an upload, alt text, order and removal. The first image is
//! the product's cover, copied to the product row where listings read it.

use serde_json::json;
use shop_core::db::Conn;
use shop_core::{Clock, Db};

use super::processing::process;
use super::{ImageStore, url};
use crate::editor::{Editor, audit_product, check_access, too_long};
use crate::{Catalog, CatalogError, ImageId, ProductId};

/// Image processing runs one upload at a time: each takes a core and up to a few hundred MB
/// at its peak, so several at once would only compete for both.
static PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// Most images one product may have.
const MAX_IMAGES: i64 = 20;
const MAX_ALT: usize = 250;

fn clean_alt(alt: &str) -> Result<String, CatalogError> {
    let alt = alt.trim();
    if alt.is_empty() {
        return Err(CatalogError::invalid(
            "alt",
            "Describe the image for shoppers who cannot see it (alt text).",
        ));
    }
    if alt.chars().count() > MAX_ALT {
        return Err(too_long("alt", "The alt text", MAX_ALT));
    }
    Ok(alt.to_owned())
}

/// One stored image of a product, for the admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductImage {
    pub id: ImageId,
    pub hash: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

impl ProductImage {
    pub fn url(&self, width: u32) -> String {
        url(&self.hash, width)
    }
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: String,
    hash: String,
    alt: String,
    width: i64,
    height: i64,
}

/// A product's images in display order (access already checked by the caller).
pub(crate) async fn of_product(
    conn: &mut Conn,
    product_id: &str,
) -> Result<Vec<ProductImage>, sqlx::Error> {
    let rows: Vec<ImageRow> = sqlx::query_as(
        "SELECT id, hash, alt, width, height FROM product_images
         WHERE product_id = $1 ORDER BY position, created_at",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ProductImage {
            id: ImageId::from_db(r.id),
            hash: r.hash,
            alt: r.alt,
            width: u32::try_from(r.width).unwrap_or(0),
            height: u32::try_from(r.height).unwrap_or(0),
        })
        .collect())
}

/// How many images a product has, and the position after its last one.
#[derive(sqlx::FromRow)]
struct ImageSlots {
    count: i64,
    next: i64,
}

/// Adds an uploaded image after the product's others. Returns the new image's id.
async fn add_image(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    store: &ImageStore,
    product_id: &str,
    bytes: Vec<u8>,
    alt: &str,
) -> Result<ImageId, CatalogError> {
    let alt = clean_alt(alt)?;
    // Refuse someone else's product before spending CPU on the upload.
    {
        let mut conn = db.reader().acquire().await?;
        check_access(&mut conn, editor, product_id).await?;
    }
    let turn = PROCESSING.acquire().await.map_err(|_| {
        CatalogError::invalid("image", "The server is shutting down; please try again.")
    })?;
    // The turn goes with the work: it ends when processing ends, even if the request that
    // asked for it is gone by then.
    let processed = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        process(&bytes)
    })
    .await
    .map_err(|e| {
        CatalogError::invalid("image", format!("The image could not be processed ({e})."))
    })??;
    store.save(&processed).await.map_err(|e| {
        tracing::error!(error = %e, store = %store.describe(), "could not write image files");
        CatalogError::invalid("image", "The image could not be stored; please try again.")
    })?;
    let mut tx = db.begin().await?;
    check_access(&mut tx, editor, product_id).await?;
    let ImageSlots { count, next }: ImageSlots = sqlx::query_as(
        "SELECT COUNT(*) AS count, COALESCE(MAX(position) + 1, 0) AS next
         FROM product_images WHERE product_id = $1",
    )
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_IMAGES {
        return Err(CatalogError::invalid(
            "image",
            format!("A product can have at most {MAX_IMAGES} images."),
        ));
    }
    let id = ImageId::new();
    sqlx::query(
        "INSERT INTO product_images (id, product_id, hash, alt, width, height, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.as_str())
    .bind(product_id)
    .bind(&processed.hash)
    .bind(&alt)
    .bind(i64::from(processed.width))
    .bind(i64::from(processed.height))
    .bind(next)
    .bind(clock.now().millis())
    .execute(&mut *tx)
    .await?;
    refresh_cover(&mut tx, product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "image.added",
        product_id,
        None,
        Some(json!({ "image_id": id, "hash": processed.hash, "alt": alt })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An image's product, file hash and alt text.
#[derive(sqlx::FromRow)]
struct ImageOwner {
    product_id: String,
    hash: String,
    alt: String,
}

/// The product an image belongs to, after checking the editor may change it.
async fn image_product(
    conn: &mut Conn,
    editor: &Editor,
    image_id: &str,
) -> Result<(String, String, String), CatalogError> {
    let ImageOwner {
        product_id,
        hash,
        alt,
    }: ImageOwner =
        sqlx::query_as("SELECT product_id, hash, alt FROM product_images WHERE id = $1")
            .bind(image_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(CatalogError::NotFound)?;
    check_access(conn, editor, &product_id).await?;
    Ok((product_id, hash, alt))
}

/// Changes an image's alt text.
async fn set_alt(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    image_id: &str,
    alt: &str,
) -> Result<(), CatalogError> {
    let alt = clean_alt(alt)?;
    let mut tx = db.begin().await?;
    let (product_id, _, before) = image_product(&mut tx, editor, image_id).await?;
    sqlx::query("UPDATE product_images SET alt = $1 WHERE id = $2")
        .bind(&alt)
        .bind(image_id)
        .execute(&mut *tx)
        .await?;
    refresh_cover(&mut tx, &product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "image.updated",
        &product_id,
        Some(json!({ "image_id": image_id, "alt": before })),
        Some(json!({ "image_id": image_id, "alt": alt })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an image one place earlier (`earlier = true`) or later in the product's gallery.
async fn move_image(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    image_id: &str,
    earlier: bool,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    let (product_id, _, _) = image_product(&mut tx, editor, image_id).await?;
    let mut ids: Vec<String> = of_product(&mut tx, &product_id)
        .await?
        .into_iter()
        .map(|i| i.id.as_str().to_owned())
        .collect();
    let before = ids.clone();
    let Some(at) = ids.iter().position(|id| id == image_id) else {
        return Err(CatalogError::NotFound);
    };
    let other = if earlier {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|i| *i < ids.len())
    };
    let Some(other) = other else {
        // Already first (or last): nothing to do.
        return Ok(());
    };
    ids.swap(at, other);
    // Positions are rewritten densely, so ties left by older data cannot stall a move.
    for (position, id) in ids.iter().enumerate() {
        sqlx::query("UPDATE product_images SET position = $1 WHERE id = $2")
            .bind(i64::try_from(position).unwrap_or(0))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    refresh_cover(&mut tx, &product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "image.reordered",
        &product_id,
        Some(json!({ "order": before })),
        Some(json!({ "order": ids })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an image from its product; its files go too unless another product uses the same
/// picture.
async fn delete_image(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    store: &ImageStore,
    image_id: &str,
) -> Result<(), CatalogError> {
    let mut tx = db.begin().await?;
    let (product_id, hash, alt) = image_product(&mut tx, editor, image_id).await?;
    sqlx::query("DELETE FROM product_images WHERE id = $1")
        .bind(image_id)
        .execute(&mut *tx)
        .await?;
    let still_used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product_images WHERE hash = $1")
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await?;
    refresh_cover(&mut tx, &product_id).await?;
    audit_product(
        &mut tx,
        clock,
        editor,
        "image.deleted",
        &product_id,
        Some(json!({ "image_id": image_id, "hash": hash, "alt": alt })),
        None,
    )
    .await?;
    tx.commit().await?;
    if still_used == 0 {
        store.remove(&hash).await;
    }
    Ok(())
}

/// An image's file hash and alt text.
#[derive(sqlx::FromRow)]
struct Cover {
    hash: String,
    alt: String,
}

/// Copies the first image to the product row, where listings read it.
async fn refresh_cover(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    let first: Option<Cover> = sqlx::query_as(
        "SELECT hash, alt FROM product_images WHERE product_id = $1
         ORDER BY position, created_at LIMIT 1",
    )
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (hash, alt) = first.map(|c| (c.hash, c.alt)).unzip();
    sqlx::query("UPDATE products SET cover_image = $1, cover_alt = $2 WHERE id = $3")
        .bind(hash)
        .bind(alt)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Catalog {
    /// Verifies, resizes and stores an upload, and adds it after the product's other images.
    /// Returns the new image's id.
    pub async fn add_image(
        &self,
        editor: &Editor,
        store: &ImageStore,
        product: &ProductId,
        bytes: Vec<u8>,
        alt: &str,
    ) -> Result<ImageId, CatalogError> {
        let id = add_image(
            self.db(),
            self.clock(),
            editor,
            store,
            product.as_str(),
            bytes,
            alt,
        )
        .await?;
        self.changed();
        Ok(id)
    }

    /// Changes an image's alt text.
    pub async fn set_image_alt(
        &self,
        editor: &Editor,
        image: &ImageId,
        alt: &str,
    ) -> Result<(), CatalogError> {
        set_alt(self.db(), self.clock(), editor, image.as_str(), alt).await?;
        self.changed();
        Ok(())
    }

    /// Moves an image one place earlier (`earlier = true`) or later in its gallery.
    pub async fn move_image(
        &self,
        editor: &Editor,
        image: &ImageId,
        earlier: bool,
    ) -> Result<(), CatalogError> {
        move_image(self.db(), self.clock(), editor, image.as_str(), earlier).await?;
        self.changed();
        Ok(())
    }

    /// Removes an image; its files go too unless another product uses the same picture.
    pub async fn delete_image(
        &self,
        editor: &Editor,
        store: &ImageStore,
        image: &ImageId,
    ) -> Result<(), CatalogError> {
        delete_image(self.db(), self.clock(), editor, store, image.as_str()).await?;
        self.changed();
        Ok(())
    }
}
