//! Image uploads cannot run the server out of memory. A test binary of its own, so that the
//! process's peak memory is this test's alone.

#[allow(dead_code)]
#[path = "it/common/mod.rs"]
mod common;

use common::{BROWSER_ACCEPT, TestApp, TestOptions};
use reqwest::multipart::{Form, Part};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
"#;

/// The process's peak resident memory so far (Linux), in MB.
fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb / 1024
}

/// The largest picture an upload may be: 6000 × 4000 pixels (24 million), as a PNG; each
/// `seed` gives another picture.
fn largest_allowed_png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(6000, 4000, |x, y| {
        image::Rgb([
            (x / 24) as u8,
            (y / 16) as u8,
            seed.wrapping_add(((x + y) / 40) as u8),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

/// A tiny PNG whose header claims `width` × `height` pixels (a decompression bomb).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(1, 1, image::Rgb([200, 100, 50]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    let mut bytes = out.into_inner();
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height; the chunk's CRC
    // covers "IHDR" and its 13 data bytes.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn upload(app: &TestApp, client: &reqwest::Client, product: &str, bytes: Vec<u8>) -> u16 {
    let form = Form::new().text("alt", "A pan").part(
        "image",
        Part::bytes(bytes)
            .file_name("pan.png")
            .mime_str("image/png")
            .expect("mime"),
    );
    client
        .post(app.url(&format!("/admin/uploads/products/{product}/images")))
        .header("origin", &app.address)
        .header("accept", BROWSER_ACCEPT)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_uploads_of_the_largest_image_allowed_keep_the_server_under_500_mb() {
    // Four large images one after another take a while in a debug build.
    let app = TestApp::with_catalog(
        TestOptions {
            env: vec![("REQUEST_TIMEOUT_SECS", "120".to_owned())],
            ..Default::default()
        },
        CATALOG,
    )
    .await;
    let admin = app.browser();
    app.admin(&admin).await;
    let product: String =
        sqlx::query_scalar("SELECT id FROM products WHERE slug = 'cast-iron-pan'")
            .fetch_one(app.db.reader())
            .await
            .expect("product");

    let images = || async {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM product_images WHERE product_id = $1")
                .bind(&product)
                .fetch_one(app.db.reader())
                .await
                .expect("count");
        n
    };

    // A bomb: a few hundred bytes that claim 7999 × 7999 pixels are refused before any
    // decoding (the page says why; the form answers with a redirect either way).
    let before = peak_rss_mb();
    let status = upload(&app, &admin, &product, png_claiming(7999, 7999)).await;
    assert!(status < 500, "{status}");
    assert_eq!(images().await, 0, "the bomb is refused");
    let bomb_growth = peak_rss_mb().saturating_sub(before);
    assert!(
        bomb_growth < 50,
        "a refused bomb grew the process by {bomb_growth} MB"
    );

    let pngs: Vec<Vec<u8>> = (0..4).map(largest_allowed_png).collect();
    assert!(pngs.iter().all(|p| p.len() < 10 * 1024 * 1024));
    let uploads = pngs
        .into_iter()
        .map(|png| upload(&app, &admin, &product, png));
    let statuses = futures_util::future::join_all(uploads).await;
    assert!(statuses.iter().all(|s| *s < 400), "{statuses:?}");
    assert_eq!(images().await, 4, "each upload is taken");
    let peak = peak_rss_mb();
    println!("peak memory with four concurrent 24-megapixel uploads: {peak} MB");
    assert!(peak < 500, "peak {peak} MB");
}
