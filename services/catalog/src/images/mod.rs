//! Product images: what pages show (an [`ImageRef`] and its URLs), where the files live
//! ([`store`]), how an upload is verified and resized ([`processing`]), and a product's
//! gallery: adding, ordering, describing and removing its images ([`gallery`]).
//!
//! An upload is decoded in full before anything is kept, so a file that only claims to be an
//! image is refused. It is stored as JPEG at each of [`WIDTHS`] (never enlarged) under
//! `<data>/images/<hash>-<width>.jpg`, where the hash is of the uploaded bytes: a URL never
//! changes meaning, so the server can let browsers cache it for a year. A product's first
//! image is its cover (`products.cover_image`), which listings show.

pub mod gallery;
pub mod processing;
pub mod store;

pub use gallery::ProductImage;
pub use processing::{MAX_UPLOAD_BYTES, Processed, process};
pub use store::{BucketConfig, ImageStore};

/// Widths every image is stored at, in pixels.
pub const WIDTHS: [u32; 3] = [320, 640, 1280];

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
