//! A product's gallery through the catalog's write API: uploads stored at every width under
//! their content hash, the first image as the cover, reordering, alt text, removal (files
//! go when no product uses them), and another vendor's product out of reach.

use std::io::Cursor;

use catalog::{CatalogError, ImageStore};
use shop_core::Clock;
use shop_testkit::catalog::{catalog, import, people, product, variant};
use shop_testkit::{category_id, count, fresh_db};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
"#;

/// A PNG of `width` × `height` whose pixels depend on `seed`, so two seeds are two images.
fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([seed, (x % 256) as u8, (y % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

#[tokio::test]
async fn a_gallery_keeps_its_cover_order_and_files_in_step() {
    let (db, scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
    let people = people(&db, &clock).await;
    let catalog = catalog(&db, &clock);
    let store = ImageStore::new(scratch.path().join("images"));
    let pans = category_id(&db, "pans").await;
    let mug = catalog
        .create_product(
            &people.vendor_a,
            &product("Mug", &pans),
            &[variant("MUG-1", 1200, 3)],
        )
        .await
        .unwrap();
    let cover = || {
        let db = db.clone();
        let id = mug.to_string();
        async move {
            sqlx::query_scalar::<_, Option<String>>("SELECT cover_alt FROM products WHERE id = $1")
                .bind(id)
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };

    let front = catalog
        .add_image(
            &people.vendor_a,
            &store,
            &mug,
            png(900, 600, 1),
            "Mug, front",
        )
        .await
        .unwrap();
    let side = catalog
        .add_image(
            &people.vendor_a,
            &store,
            &mug,
            png(400, 400, 2),
            "Mug, side",
        )
        .await
        .unwrap();
    assert_eq!(
        cover().await.as_deref(),
        Some("Mug, front"),
        "the first is the cover"
    );
    let files = || {
        std::fs::read_dir(store.dir().unwrap())
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(files(), 6, "two images at three widths");

    // Another vendor can neither add to nor change this gallery.
    let refused = catalog
        .add_image(&people.vendor_b, &store, &mug, png(300, 300, 3), "Not mine")
        .await;
    assert!(
        matches!(refused, Err(CatalogError::NotFound)),
        "{refused:?}"
    );
    let refused = catalog.delete_image(&people.vendor_b, &store, &front).await;
    assert!(
        matches!(refused, Err(CatalogError::NotFound)),
        "{refused:?}"
    );
    assert_eq!(files(), 6);

    // The side view moves first and becomes the cover; its alt text changes with it.
    catalog
        .move_image(&people.vendor_a, &side, true)
        .await
        .unwrap();
    assert_eq!(cover().await.as_deref(), Some("Mug, side"));
    catalog
        .set_image_alt(&people.vendor_a, &side, "Mug from the side")
        .await
        .unwrap();
    assert_eq!(cover().await.as_deref(), Some("Mug from the side"));
    let blank = catalog.set_image_alt(&people.vendor_a, &side, "  ").await;
    assert!(
        matches!(blank, Err(CatalogError::Invalid { field: "alt", .. })),
        "{blank:?}"
    );

    // Deleting the cover: the front view is the cover again and the side's files are gone.
    catalog
        .delete_image(&people.vendor_a, &store, &side)
        .await
        .unwrap();
    assert_eq!(cover().await.as_deref(), Some("Mug, front"));
    assert_eq!(files(), 3);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'image.%'"
        )
        .await,
        5,
        "added twice, reordered, relabelled, deleted"
    );
}
