//! The demo catalog's product pictures, painted rather than shipped: a studio-style backdrop
//! in the department's colours with a simple object shape, in the product's colour when it
//! names one.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use sha2::{Digest, Sha256};

/// A generated product picture (PNG bytes): a studio-style backdrop in the colours of
/// `palette_key` (e.g. the department) with a simple object shape picked by `shape_key` (e.g.
/// the product name), so demo listings look like a shop without shipping photographs. The
/// object has the product's `colour` when it names one the painter knows ("Forest Green",
/// "Navy"), so a blue screwdriver set is never shown magenta.
pub fn paint(palette_key: &str, shape_key: &str, colour: Option<&str>) -> Vec<u8> {
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

    #[test]
    fn demo_pictures_pass_the_upload_checks() {
        let a = paint("Kitchen", "Cast iron pan", None);
        let b = paint("Kitchen", "Chef's knife", None);
        assert_ne!(a, b);
        let p = catalog::images::process(&a).unwrap();
        assert_eq!((p.width, p.height), (800, 800));
    }

    #[test]
    fn demo_pictures_show_the_products_colour() {
        // The object's centre pixel, decoded back.
        let centre = |colour: Option<&str>| {
            let png = paint("Garden & DIY", "Screwdriver set", colour);
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
}
