//! Product images: upload (verified, resized, stored under content-hashed names), alt text,
//! ordering and removal, and the URLs pages use.
//!
//! An upload is decoded in full before anything is kept, so a file that only claims to be an
//! image is refused. It is stored as JPEG at each of [`WIDTHS`] (never enlarged) under
//! `<data>/images/<hash>-<width>.jpg`, where the hash is of the uploaded bytes: a URL never
//! changes meaning, so the server can let browsers cache it for a year. A product's first
//! image is its cover (`products.cover_image`), which listings show.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};
use serde_json::json;
use sha2::{Digest, Sha256};
use shop_core::db::Conn;
use shop_core::{Clock, Db};

use crate::CatalogError;
use crate::manage::{Editor, audit_product, check_access};

/// Widths every image is stored at, in pixels.
pub const WIDTHS: [u32; 3] = [320, 640, 1280];

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted side, and the smallest.
const MAX_SIDE: u32 = 8_000;
/// At most 24 million pixels (6000 × 4000, a large camera photo): decoded, that is under
/// 100 MB, so uploads cannot run the server out of memory.
const MAX_PIXELS: u64 = 24_000_000;

/// Image processing runs one upload at a time: each takes a core and up to a few hundred MB
/// at its peak, so several at once would only compete for both.
static PROCESSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
const MIN_SIDE: u32 = 200;
/// Most images one product may have.
const MAX_IMAGES: i64 = 20;
const MAX_ALT: usize = 250;
const JPEG_QUALITY: u8 = 82;

/// An image as pages reference it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Hex SHA-256 prefix of the uploaded bytes; names the stored files.
    pub hash: String,
    pub alt: String,
}

impl ImageRef {
    /// URL of the stored file at `width` (one of [`WIDTHS`]).
    pub fn url(&self, width: u32) -> String {
        url(&self.hash, width)
    }

    /// A `srcset` attribute value over every stored width.
    pub fn srcset(&self) -> String {
        WIDTHS
            .iter()
            .map(|w| format!("{} {w}w", self.url(*w)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// URL of an image file.
pub fn url(hash: &str, width: u32) -> String {
    format!("/images/{hash}-{width}.jpg")
}

/// Where image files live: `<data>/images`.
#[derive(Clone, Debug)]
pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    pub fn new(dir: impl Into<PathBuf>) -> ImageStore {
        ImageStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, hash: &str, width: u32) -> PathBuf {
        self.dir.join(format!("{hash}-{width}.jpg"))
    }

    /// Writes each file unless it is already there (same hash, same bytes). Each file is
    /// written under a temporary name and renamed, so a reader never sees half a file.
    async fn save(&self, processed: &Processed) -> std::io::Result<()> {
        tokio::fs::create_dir_all(&self.dir).await?;
        for (width, bytes) in &processed.files {
            let path = self.path(&processed.hash, *width);
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                continue;
            }
            let tmp = self.dir.join(format!(
                ".{}-{width}.{}.tmp",
                processed.hash,
                shop_core::id::new_uuid_v7()
            ));
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await?;
        }
        Ok(())
    }

    async fn remove(&self, hash: &str) {
        for width in WIDTHS {
            let path = self.path(hash, width);
            if let Err(e) = tokio::fs::remove_file(&path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %e, "could not remove an image file");
            }
        }
    }
}

/// An upload after verification: its hash, size and the JPEG file for each width.
#[derive(Debug)]
pub struct Processed {
    pub hash: String,
    pub width: u32,
    pub height: u32,
    pub files: Vec<(u32, Vec<u8>)>,
}

fn too_many_pixels() -> CatalogError {
    CatalogError::invalid(
        "image",
        format!(
            "The image is too large: at most {MAX_SIDE} pixels a side and {} million pixels in all.",
            MAX_PIXELS / 1_000_000
        ),
    )
}

fn not_an_image() -> CatalogError {
    CatalogError::invalid("image", "Upload a JPEG, PNG or WebP image.")
}

/// Verifies and resizes an upload. CPU-bound: call it off the async runtime.
pub fn process(bytes: &[u8]) -> Result<Processed, CatalogError> {
    if bytes.is_empty() {
        return Err(CatalogError::invalid("image", "Choose an image to upload."));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(CatalogError::invalid(
            "image",
            format!(
                "The image is larger than {} MB.",
                MAX_UPLOAD_BYTES / 1024 / 1024
            ),
        ));
    }
    // The format comes from the bytes, never from the file name or the browser's claim.
    let format = image::guess_format(bytes).map_err(|_| not_an_image())?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(not_an_image());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A small file can claim enormous dimensions (a decompression bomb): refuse before
    // allocating.
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let unreadable = |_| {
        CatalogError::invalid(
            "image",
            "The file could not be read as an image; it may be damaged.",
        )
    };
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_many_pixels(),
        e => unreadable(e),
    })?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_many_pixels());
    }
    let decoded = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_many_pixels(),
        e => unreadable(e),
    })?;
    let (width, height) = (decoded.width(), decoded.height());
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(CatalogError::invalid(
            "image",
            format!("The image must be at least {MIN_SIDE} × {MIN_SIDE} pixels."),
        ));
    }
    // Largest first, each smaller size from the one before: every step reads fewer pixels
    // than resizing the original again (a phone photo has 12 million of them).
    let mut current = flatten(decoded);
    let mut files = Vec::with_capacity(WIDTHS.len());
    for target in WIDTHS.iter().rev().copied() {
        if current.width() > target {
            let h = scaled_height(current.width(), current.height(), target);
            current =
                image::imageops::resize(&current, target, h, image::imageops::FilterType::Triangle);
        }
        files.push((target, encode_jpeg(&current)?));
    }
    files.reverse();
    Ok(Processed {
        hash: hash_of(bytes),
        width,
        height,
        files,
    })
}

/// Hex SHA-256 prefix of the bytes: 128 bits, plenty to tell images apart.
fn hash_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn scaled_height(width: u32, height: u32, target: u32) -> u32 {
    let h = u64::from(height) * u64::from(target) / u64::from(width.max(1));
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

/// JPEG has no transparency: transparent pixels become white, as on the shop's pages.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let over_white = |c: u8| {
            let v = (u16::from(c) * a + 255 * (255 - a)) / 255;
            u8::try_from(v).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(p[0]), over_white(p[1]), over_white(p[2])])
    })
}

fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, CatalogError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(image)
        .map_err(|e| {
            CatalogError::invalid("image", format!("The image could not be stored: {e}"))
        })?;
    Ok(out)
}

fn clean_alt(alt: &str) -> Result<String, CatalogError> {
    let alt = alt.trim();
    if alt.is_empty() {
        return Err(CatalogError::invalid(
            "alt",
            "Describe the image for shoppers who cannot see it (alt text).",
        ));
    }
    if alt.chars().count() > MAX_ALT {
        return Err(crate::manage::too_long("alt", "The alt text", MAX_ALT));
    }
    Ok(alt.to_owned())
}

/// One stored image of a product, for the admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductImage {
    pub id: String,
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

/// A product's images in display order (access already checked by the caller).
pub(crate) async fn of_product(
    conn: &mut Conn,
    product_id: &str,
) -> Result<Vec<ProductImage>, sqlx::Error> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, hash, alt, width, height FROM product_images
         WHERE product_id = $1 ORDER BY position, created_at",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash, alt, width, height)| ProductImage {
            id,
            hash,
            alt,
            width: u32::try_from(width).unwrap_or(0),
            height: u32::try_from(height).unwrap_or(0),
        })
        .collect())
}

/// Adds an uploaded image after the product's others. Returns the new image's id.
pub async fn add_image(
    db: &Db,
    clock: &Clock,
    editor: &Editor,
    store: &ImageStore,
    product_id: &str,
    bytes: Vec<u8>,
    alt: &str,
) -> Result<String, CatalogError> {
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
        tracing::error!(error = %e, dir = %store.dir().display(), "could not write image files");
        CatalogError::invalid("image", "The image could not be stored; please try again.")
    })?;
    let mut tx = db.begin().await?;
    check_access(&mut tx, editor, product_id).await?;
    let (count, next): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MAX(position) + 1, 0) FROM product_images WHERE product_id = $1",
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
    let id = shop_core::id::new_uuid_v7();
    sqlx::query(
        "INSERT INTO product_images (id, product_id, hash, alt, width, height, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
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

/// The product an image belongs to, after checking the editor may change it.
async fn image_product(
    conn: &mut Conn,
    editor: &Editor,
    image_id: &str,
) -> Result<(String, String, String), CatalogError> {
    let (product_id, hash, alt): (String, String, String) =
        sqlx::query_as("SELECT product_id, hash, alt FROM product_images WHERE id = $1")
            .bind(image_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(CatalogError::NotFound)?;
    check_access(conn, editor, &product_id).await?;
    Ok((product_id, hash, alt))
}

/// Changes an image's alt text.
pub async fn set_alt(
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
pub async fn move_image(
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
        .map(|i| i.id)
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
pub async fn delete_image(
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

/// Copies the first image to the product row, where listings read it.
async fn refresh_cover(conn: &mut Conn, product_id: &str) -> Result<(), sqlx::Error> {
    let first: Option<(String, String)> = sqlx::query_as(
        "SELECT hash, alt FROM product_images WHERE product_id = $1
         ORDER BY position, created_at LIMIT 1",
    )
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (hash, alt) = first.unzip();
    sqlx::query("UPDATE products SET cover_image = $1, cover_alt = $2 WHERE id = $3")
        .bind(hash)
        .bind(alt)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A generated product picture for the demo catalog (PNG bytes): a studio-style backdrop in
/// the colours of `palette_key` (e.g. the department) with a simple object shape picked by
/// `shape_key` (e.g. the product name), so demo listings look like a shop without shipping
/// photographs. The object has the product's `colour` when it names one the painter knows
/// ("Forest Green", "Navy"), so a blue screwdriver set is never shown magenta.
pub fn demo_picture(palette_key: &str, shape_key: &str, colour: Option<&str>) -> Vec<u8> {
    const SIZE: u32 = 800;
    let palette = Sha256::digest(palette_key.as_bytes());
    let shape = Sha256::digest(shape_key.as_bytes());
    let hue = f32::from(palette[0]) / 255.0 * 360.0;
    let accent_hue = (hue + 20.0 + f32::from(shape[1]) / 255.0 * 60.0) % 360.0;
    let top = hsl(hue, 0.35, 0.93);
    let bottom = hsl(hue, 0.30, 0.82);
    let (body, highlight) = match colour.and_then(named_colour) {
        Some(rgb) => (rgb, mix(rgb, [1.0, 1.0, 1.0], 0.35)),
        None => (
            hsl(accent_hue, 0.45 + f32::from(shape[2]) / 255.0 * 0.3, 0.45),
            hsl(accent_hue, 0.5, 0.65),
        ),
    };
    let kind = shape[0] % 3;
    let size = SIZE as f32;
    let image = RgbImage::from_fn(SIZE, SIZE, |x, y| {
        let (fx, fy) = (x as f32 / size, y as f32 / size);
        let mut c = mix(top, bottom, fy);
        // A soft shadow on the "floor".
        let shadow = ((fx - 0.5) / 0.32).powi(2) + ((fy - 0.80) / 0.05).powi(2);
        if shadow < 1.0 {
            c = mix(c, [0.0, 0.0, 0.0], 0.18 * (1.0 - shadow));
        }
        // Signed distance to the object: negative inside.
        let d = match kind {
            // A round object (a plate, a pan seen from above).
            0 => ((fx - 0.5).powi(2) + (fy - 0.48).powi(2)).sqrt() - 0.28,
            // A box.
            1 => rounded_box(fx - 0.5, fy - 0.5, 0.24, 0.27, 0.04),
            // A bottle or a tall item.
            _ => rounded_box(fx - 0.5, fy - 0.47, 0.13, 0.31, 0.12),
        };
        let edge = 1.5 / size;
        if d < edge {
            let cover = ((edge - d) / (2.0 * edge)).clamp(0.0, 1.0);
            // Light from the top left.
            let light = (0.6 - (fx - 0.4) * 0.8 - (fy - 0.35) * 0.8).clamp(0.0, 1.0);
            let surface = mix(body, highlight, light * 0.6);
            c = mix(c, surface, cover);
        }
        image::Rgb(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    });
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB image as PNG cannot fail.
    let _ = image.write_to(&mut out, ImageFormat::Png);
    out.into_inner()
}

/// The RGB (0..1) of a colour as catalogues name it: the last word that names a colour
/// decides its family ("Forest Green" is green), and a few words shade it.
fn named_colour(name: &str) -> Option<[f32; 3]> {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let base = words.iter().rev().find_map(|w| {
        Some(match *w {
            "black" | "charcoal" | "graphite" => [0.12, 0.12, 0.13],
            "white" | "cream" | "ivory" => [0.94, 0.93, 0.90],
            "grey" | "gray" | "slate" | "silver" | "stone" => [0.58, 0.59, 0.60],
            "red" | "cherry" => [0.75, 0.13, 0.14],
            "burgundy" | "wine" | "maroon" => [0.45, 0.09, 0.16],
            "pink" | "rose" => [0.92, 0.55, 0.65],
            "orange" | "copper" => [0.87, 0.45, 0.15],
            "yellow" | "mustard" => [0.93, 0.79, 0.20],
            "gold" => [0.80, 0.65, 0.25],
            "green" | "sage" => [0.25, 0.55, 0.30],
            "olive" => [0.45, 0.47, 0.20],
            "blue" => [0.18, 0.38, 0.75],
            "navy" => [0.10, 0.15, 0.38],
            "teal" => [0.10, 0.50, 0.50],
            "purple" | "violet" | "lilac" => [0.50, 0.30, 0.65],
            "brown" | "walnut" | "chocolate" => [0.42, 0.27, 0.15],
            "sand" | "beige" | "natural" | "tan" => [0.82, 0.73, 0.56],
            _ => return None,
        })
    })?;
    let shade = |c: [f32; 3], toward: [f32; 3], t: f32| mix(c, toward, t);
    Some(words.iter().fold(base, |c, w| match *w {
        "forest" | "dark" | "midnight" | "space" | "deep" => shade(c, [0.0, 0.0, 0.0], 0.35),
        "sky" | "light" | "pale" | "sage" => shade(c, [1.0, 1.0, 1.0], 0.35),
        _ => c,
    }))
}

fn rounded_box(x: f32, y: f32, half_w: f32, half_h: f32, radius: f32) -> f32 {
    let qx = x.abs() - half_w + radius;
    let qy = y.abs() - half_h + radius;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - radius
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn hsl(h: f32, s: f32, l: f32) -> [f32; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r + m, g + m, b + m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([
                (x % 256) as u8,
                (y % 256) as u8,
                128,
                if x < 10 { 0 } else { 255 },
            ])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn an_upload_is_stored_at_every_width_without_enlarging() {
        let p = process(&png(900, 600)).unwrap();
        assert_eq!((p.width, p.height), (900, 600));
        assert_eq!(p.hash.len(), 32);
        let sizes: Vec<(u32, u32)> = p
            .files
            .iter()
            .map(|(_, bytes)| {
                let img = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
                (img.width(), img.height())
            })
            .collect();
        assert_eq!(sizes, vec![(320, 213), (640, 426), (900, 600)]);
    }

    #[test]
    fn files_that_are_not_images_are_refused() {
        for bytes in [
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            b"\x89PNG\r\n\x1a\n but then not a png at all".to_vec(),
            Vec::new(),
        ] {
            assert!(
                matches!(
                    process(&bytes),
                    Err(CatalogError::Invalid { field: "image", .. })
                ),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn demo_pictures_pass_the_upload_checks() {
        let a = demo_picture("Kitchen", "Cast iron pan", None);
        let b = demo_picture("Kitchen", "Chef's knife", None);
        assert_ne!(a, b);
        let p = process(&a).unwrap();
        assert_eq!((p.width, p.height), (800, 800));
    }

    #[test]
    fn demo_pictures_show_the_products_colour() {
        // The object's centre pixel, decoded back.
        let centre = |colour: Option<&str>| {
            let png = demo_picture("Garden & DIY", "Screwdriver set", colour);
            let img = image::load_from_memory(&png).unwrap().into_rgb8();
            img.get_pixel(400, 400).0
        };
        let [r, g, b] = centre(Some("Blue"));
        assert!(b > r && b > g, "blue: {r} {g} {b}");
        let [r, g, b] = centre(Some("Forest Green"));
        assert!(g > r && g > b, "green: {r} {g} {b}");
        let [r, g, b] = centre(Some("Cherry Red"));
        assert!(r > g && r > b, "red: {r} {g} {b}");
        let [r, g, b] = centre(Some("Black"));
        assert!(r < 90 && g < 90 && b < 90, "black: {r} {g} {b}");
        assert_eq!(named_colour("Iridescent"), None);
        assert_ne!(named_colour("Navy"), named_colour("Sky Blue"));
    }

    #[test]
    fn tiny_and_huge_images_are_refused() {
        assert!(process(&png(100, 400)).is_err());
        let too_big = vec![0u8; MAX_UPLOAD_BYTES + 1];
        let err = process(&too_big).unwrap_err().to_string();
        assert!(err.contains("larger than 10 MB"), "{err}");
    }

    #[test]
    fn a_png_claiming_huge_dimensions_is_refused_before_decoding() {
        // A valid PNG header that claims 60000 × 60000 pixels.
        let mut bytes = png(200, 200);
        bytes[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let err = process(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("larger than") || err.contains("could not be read"),
            "{err}"
        );
    }
}
