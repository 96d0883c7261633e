//! Product images: references and URLs. (Upload and resizing live with the admin tools.)

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
