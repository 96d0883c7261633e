//! Hashed build output under /pkg: long-lived caching and compression.

use crate::common::{TestApp, TestOptions};

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_compressed() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let js = "export function hydrate() { console.log('hello'); }\n".repeat(200);
    std::fs::write(pkg.join("shop.AbC123.js"), &js).unwrap();
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("LEPTOS_SITE_ROOT", site.path().display().to_string())],
        ..TestOptions::default()
    })
    .await;

    let res = app
        .client
        .get(app.url("/pkg/shop.AbC123.js"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.headers()["content-encoding"], "br");
    let compressed = res.bytes().await.unwrap();
    assert!(
        compressed.len() < js.len() / 10,
        "{} bytes for {}",
        compressed.len(),
        js.len()
    );

    let missing = app.get("/pkg/shop.Nope.js").await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers().get("cache-control").is_none(),
        "a missing asset is never cached"
    );
}
