//! Verifying and resizing an upload: the format from the bytes, limits before decoding,
//! and a JPEG at each of [`WIDTHS`].

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

use super::WIDTHS;
use crate::CatalogError;

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted side, and the smallest.
const MAX_SIDE: u32 = 8_000;
/// At most 24 million pixels (6000 × 4000, a large camera photo): decoded, that is under
/// 100 MB, so uploads cannot run the server out of memory.
const MAX_PIXELS: u64 = 24_000_000;

const MIN_SIDE: u32 = 200;
const JPEG_QUALITY: u8 = 82;

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
