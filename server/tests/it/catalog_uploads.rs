//! The admin catalog over HTTP: image uploads (verified, resized, refused when not an image
//! or too large), vendor isolation on every catalog endpoint, categories with re-parenting,
//! the product form as the browser sends it, and import/export with the per-line report.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use shop_testkit::fresh_db;

use crate::common::{BROWSER_ACCEPT, TestApp, TestOptions};

const PASSWORD: &str = "vendor-password-1";

const TWO_GOOD_ONE_BAD: &str = r#"{"sku":"MUG-1","name":"Stoneware Mug","description":"A mug.","category":"Home & Kitchen > Tableware","price_minor":1200,"currency":"EUR","stock":10,"brand":"Fernhill","attributes":{}}
{"sku":"MUG-2","name":"Stoneware Mug Large","description":"A big mug.","category":"Home & Kitchen > Tableware","price_minor":-5,"currency":"EUR","stock":10,"brand":"Fernhill","attributes":{}}
{"sku":"BOWL-1","name":"Stoneware Bowl","description":"A bowl.","category":"Home & Kitchen > Tableware","price_minor":1800,"currency":"EUR","stock":3,"brand":"Fernhill","attributes":{}}
"#;

async fn count(app: &TestApp, sql: &str) -> i64 {
    shop_testkit::count(&app.db, sql).await
}

async fn product_id(app: &TestApp, slug: &str) -> String {
    shop_testkit::product_id(&app.db, slug).await.to_string()
}

fn png() -> Vec<u8> {
    shop::seed::picture::paint("Home & Kitchen", "Test pan", None)
}

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    product_id: &str,
    bytes: Vec<u8>,
    file_name: &str,
    alt: &str,
) -> reqwest::Response {
    let form = Form::new().text("alt", alt.to_owned()).part(
        "image",
        Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("image/png")
            .unwrap(),
    );
    client
        .post(app.url(&format!("/admin/uploads/products/{product_id}/images")))
        .header("origin", &app.address)
        .header("accept", BROWSER_ACCEPT)
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let res = client
        .get(app.url(path))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("page");
    (res.status().as_u16(), res.text().await.expect("body"))
}

fn image_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.path().join("images"))
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_uploaded_image_is_stored_at_every_width_and_shown_in_the_shop() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let id = product_id(&app, "nordhavn-cast-iron-pan").await;

    let res = upload(&app, &admin, &id, png(), "pan.png", "The pan from above").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/admin/products/{id}"));
    let (status, html) = page(&app, &admin, &format!("/admin/products/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Image added."), "the outcome is shown once");
    let (_, again) = page(&app, &admin, &format!("/admin/products/{id}")).await;
    assert!(!again.contains("Image added."), "and only once");

    let (hash, alt): (String, String) =
        sqlx::query_as("SELECT hash, alt FROM product_images WHERE product_id = $1")
            .bind(&id)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(alt, "The pan from above");
    assert_eq!(image_files(&app), 3);
    for width in [320, 640, 1280] {
        let res = app.get(&format!("/images/{hash}-{width}.jpg")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let bytes = res.bytes().await.unwrap();
        assert_eq!(&bytes[..2], &[0xff, 0xd8], "a JPEG");
    }
    let shop = app.get_with(&app.client, "/p/nordhavn-cast-iron-pan").await;
    assert!(
        shop.contains(&format!("/images/{hash}-1280.jpg 1280w")),
        "srcset"
    );
    assert!(shop.contains("The pan from above"));
    let listing = app.get_with(&app.client, "/c/pans").await;
    assert!(
        listing.contains(&format!("/images/{hash}-")),
        "the cover in listings"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'image.added'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn uploads_that_are_not_images_too_large_or_unlabelled_are_refused_and_change_nothing() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("MAX_UPLOAD_BYTES", (12 * 1024 * 1024).to_string())],
        ..TestOptions::default()
    })
    .await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let id = product_id(&app, "nordhavn-cast-iron-pan").await;
    let path = format!("/admin/products/{id}");

    let mut fake_png = b"\x89PNG\r\n\x1a\n".to_vec();
    fake_png.extend_from_slice(&[7u8; 4096]);
    let mut huge = png();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let cases: Vec<(Vec<u8>, &str, &str, &str)> = vec![
        (
            b"just some text".to_vec(),
            "notes.png",
            "alt",
            "Upload a JPEG, PNG or WebP image.",
        ),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            "x.svg",
            "alt",
            "Upload a JPEG, PNG or WebP image.",
        ),
        (
            fake_png,
            "broken.png",
            "alt",
            "could not be read as an image",
        ),
        (huge, "huge.png", "alt", "larger than 10 MB"),
        (png(), "pan.png", "   ", "Describe the image"),
    ];
    for (bytes, name, alt, message) in cases {
        let res = upload(&app, &admin, &id, bytes, name, alt).await;
        assert_eq!(res.status(), 303, "{name}");
        let (_, html) = page(&app, &admin, &path).await;
        assert!(html.contains(message), "{name}: expected {message:?}");
    }
    // Over the whole-upload limit: refused before the body is read.
    let mut over = png();
    over.resize(13 * 1024 * 1024, 0);
    let res = upload(&app, &admin, &id, over, "over.png", "alt").await;
    assert_eq!(res.status(), 413);

    // Nobody signed in; a form posted from another site.
    let res = upload(&app, &app.browser(), &id, png(), "pan.png", "alt").await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    let res = admin
        .post(app.url(&format!("/admin/uploads/products/{id}/images")))
        .header("origin", "https://evil.example")
        .multipart(
            Form::new()
                .text("alt", "x")
                .part("image", Part::bytes(png())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    assert_eq!(count(&app, "SELECT COUNT(*) FROM product_images").await, 0);
    assert_eq!(image_files(&app), 0, "no file was kept");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'image.%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_vendor_can_neither_see_nor_change_another_vendors_product_through_any_endpoint() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin_client = app.browser();
    let (admin_id, _) = app.admin(&admin_client).await;
    let admin = auth::find(&app.db, &admin_id).await.unwrap().unwrap();
    let (alice, alice_id) = app.vendor(&admin, "alice@vendor.test").await;
    let (bob, _) = app.vendor(&admin, "bob@vendor.test").await;

    // Alice creates her product through the form, as her browser would send it.
    let pans: String = sqlx::query_scalar("SELECT id FROM categories WHERE slug = 'pans'")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let res = app
        .call(
            &alice,
            "admin/product-create",
            &[
                ("product[name]", "Alice's Copper Pan"),
                ("product[category_id]", &pans),
                ("product[description]", "Hammered **copper**."),
                ("product[attributes]", "material: copper"),
                ("product[featured]", "on"),
                ("variants[0][sku]", "ALICE-20"),
                ("variants[0][options]", "Size: 20 cm"),
                ("variants[0][price]", "89.00"),
                ("variants[0][stock]", "4"),
                ("variants[1][sku]", "ALICE-28"),
                ("variants[1][options]", "Size: 28 cm"),
                ("variants[1][price]", "119.50"),
                ("variants[1][compare_at]", "139"),
                ("variants[1][stock]", "2"),
                ("variants[2][sku]", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let id = product_id(&app, "alice-s-copper-pan").await;
    let (owner, featured, status): (Option<String>, i64, String) =
        sqlx::query_as("SELECT vendor_id, featured, status FROM products WHERE id = $1")
            .bind(&id)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(
        owner.as_deref(),
        Some(alice_id.as_str()),
        "a vendor's product is theirs"
    );
    assert_eq!(featured, 0, "vendors cannot feature products");
    assert_eq!(status, "draft");
    let prices: Vec<(String, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT sku, price_minor, compare_at_minor, on_hand FROM product_variants
         WHERE product_id = $1 ORDER BY position",
    )
    .bind(&id)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        prices,
        vec![
            ("ALICE-20".to_owned(), 8900, None, 4),
            ("ALICE-28".to_owned(), 11950, Some(13900), 2)
        ]
    );
    let variant: String =
        sqlx::query_scalar("SELECT id FROM product_variants WHERE sku = 'ALICE-20'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();

    // Alice lists and opens it; Bob sees neither.
    let (_, list) = page(&app, &alice, "/admin/products").await;
    assert!(list.contains("Alice&#x27;s Copper Pan") || list.contains("Alice's Copper Pan"));
    assert!(list.contains("1 product<"), "only her own");
    // Search by name, SKU or brand (a `%` is matched literally), filter by status.
    for query in ["copper", "ALICE-28", "?status=draft&q=alice"] {
        let path = if query.starts_with('?') {
            format!("/admin/products{query}")
        } else {
            format!("/admin/products?q={query}")
        };
        let (_, found) = page(&app, &alice, &path).await;
        assert!(found.contains("1 product<"), "{path}");
    }
    for path in [
        "/admin/products?q=100%25",
        "/admin/products?status=archived",
    ] {
        let (_, found) = page(&app, &alice, path).await;
        assert!(found.contains("0 products<"), "{path}");
    }
    let (_, list) = page(&app, &admin_client, "/admin/products?q=ALICE-20").await;
    assert!(
        list.contains("Copper Pan") && list.contains("alice@vendor.test"),
        "staff see the vendor"
    );
    let (_, list) = page(&app, &bob, "/admin/products").await;
    assert!(!list.contains("Copper Pan"));
    assert_eq!(
        page(&app, &bob, &format!("/admin/products/{id}")).await.0,
        404
    );

    let before: i64 = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("admin/product", vec![("id", &id)]),
        (
            "admin/product-save",
            vec![
                ("id", &id),
                ("product[name]", "Stolen"),
                ("product[category_id]", &pans),
            ],
        ),
        (
            "admin/product-status",
            vec![("id", &id), ("status", "archived")],
        ),
        (
            "admin/variant-save",
            vec![
                ("product_id", &id),
                ("variant_id", &variant),
                ("variant[sku]", "BOB-1"),
                ("variant[price]", "1"),
            ],
        ),
        (
            "admin/variant-add",
            vec![
                ("product_id", &id),
                ("variant[sku]", "BOB-2"),
                ("variant[price]", "1"),
            ],
        ),
        (
            "admin/stock-adjust",
            vec![
                ("product_id", &id),
                ("variant_id", &variant),
                ("delta", "-4"),
                ("note", "mine now"),
            ],
        ),
    ];
    for (endpoint, form) in &calls {
        let res = app.call(&bob, endpoint, form).await;
        assert_eq!(res.status(), 404, "{endpoint}");
    }
    let res = upload(&app, &bob, &id, png(), "pan.png", "alt").await;
    assert_eq!(res.status(), 404);
    // Catalog-wide tools are for the shop's staff only.
    for path in ["/admin/export/catalog.jsonl", "/admin/export/catalog.csv"] {
        assert_eq!(
            bob.get(app.url(path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    let res = app
        .call(
            &bob,
            "admin/category-create",
            &[
                ("name", "Bob's"),
                ("slug", ""),
                ("description", ""),
                ("parent_id", ""),
                ("position", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        before,
        "nothing changed"
    );
    let name: String = sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
        .bind(&id)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(name, "Alice's Copper Pan");

    // Customers get 403 from the catalog endpoints, visitors 401.
    let customer = app.browser();
    app.register(&customer, "Carol", "carol@example.com", PASSWORD)
        .await;
    for (endpoint, form) in &calls {
        assert_eq!(
            app.call(&customer, endpoint, form).await.status(),
            403,
            "{endpoint}"
        );
        assert_eq!(
            app.call(&app.browser(), endpoint, form).await.status(),
            401,
            "{endpoint}"
        );
    }
}

/// The variant forms used to send the currency in a hidden field: the prices are now read in
/// the product's own currency on the server, whatever the browser adds.
#[tokio::test]
async fn a_variant_is_priced_in_its_products_currency_whatever_the_form_says() {
    let mug_only = TWO_GOOD_ONE_BAD.lines().next().unwrap();
    let app = TestApp::with_catalog(TestOptions::default(), mug_only).await;
    let admin = app.browser();
    app.admin(&admin).await;
    let mug = product_id(&app, "stoneware-mug").await;
    let mug_variant: String =
        sqlx::query_scalar("SELECT id FROM product_variants WHERE sku = 'MUG-1'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    let forms: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "admin/variant-add",
            vec![
                ("variant[sku]", "MUG-1-RED"),
                ("variant[price]", "12.50"),
                ("currency", "USD"),
            ],
        ),
        (
            "admin/variant-save",
            vec![
                ("variant_id", &mug_variant),
                ("variant[sku]", "MUG-1"),
                ("variant[price]", "13"),
                ("currency", "JPY"),
            ],
        ),
    ];
    for (endpoint, mut form) in forms {
        form.push(("product_id", &mug));
        let res = app.call(&admin, endpoint, &form).await;
        assert_eq!(res.status(), 200, "{endpoint}: {:?}", res.text().await);
    }
    let prices: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT sku, price_minor, currency FROM product_variants WHERE product_id = $1 ORDER BY sku",
    )
    .bind(&mug)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        prices,
        vec![
            ("MUG-1".to_owned(), 1300, "EUR".to_owned()),
            ("MUG-1-RED".to_owned(), 1250, "EUR".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_product_form_reports_bad_input_on_its_field_and_creates_nothing() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let pans: String = sqlx::query_scalar("SELECT id FROM categories WHERE slug = 'pans'")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let products = count(&app, "SELECT COUNT(*) FROM products").await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("variants[0][sku]", "X-1"), ("variants[0][price]", "-3")],
            "price",
        ),
        (
            vec![
                ("variants[0][sku]", "X-1"),
                ("variants[0][price]", "3"),
                ("variants[0][stock]", "lots"),
            ],
            "stock",
        ),
        (
            vec![
                ("variants[0][sku]", "X-1"),
                ("variants[0][price]", "3"),
                ("variants[0][options]", "just words"),
            ],
            "options",
        ),
        (
            vec![
                ("variants[0][sku]", "NO-LI-23"),
                ("variants[0][price]", "3"),
            ],
            "sku",
        ),
        (vec![], "variants"),
    ];
    // An existing SKU from the demo catalog.
    let taken: String = sqlx::query_scalar("SELECT sku FROM product_variants LIMIT 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    for (variant, field) in cases {
        let mut form = vec![
            ("product[name]", "Form Pan"),
            ("product[category_id]", pans.as_str()),
        ];
        let variant: Vec<(&str, &str)> = variant
            .into_iter()
            .map(|(k, v)| (k, if v == "NO-LI-23" { taken.as_str() } else { v }))
            .collect();
        form.extend(variant);
        let res = app.call(&admin, "admin/product-create", &form).await;
        assert_eq!(res.status(), 422, "{field}");
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{body}");
    }
    let res = app
        .call(
            &admin,
            "admin/product-create",
            &[
                ("product[name]", "Form Pan"),
                ("product[category_id]", &pans),
                ("product[description]", "<script>alert(1)</script>"),
                ("variants[0][sku]", "FORM-1"),
                ("variants[0][price]", "3"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "HTML in the description");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM products").await,
        products,
        "nothing created"
    );
}

#[tokio::test]
async fn categories_are_created_moved_and_deleted_but_never_moved_into_themselves() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let create = |name: &'static str, parent: String| {
        let app = &app;
        let admin = &admin;
        async move {
            let res = app
                .call(
                    admin,
                    "admin/category-create",
                    &[
                        ("name", name),
                        ("slug", ""),
                        ("description", "Good things."),
                        ("parent_id", &parent),
                        ("position", "3"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200, "{name}: {:?}", res.text().await);
            let id: String = sqlx::query_scalar("SELECT id FROM categories WHERE name = $1")
                .bind(name)
                .fetch_one(app.db.reader())
                .await
                .unwrap();
            id
        }
    };
    let tableware = create("Tableware", String::new()).await;
    let mugs = create("Mugs", tableware.clone()).await;
    let (_, html) = page(&app, &admin, "/admin/categories").await;
    assert!(html.contains("Tableware") && html.contains("/c/mugs"));

    // Into its own child: refused, nothing moved.
    let res = app
        .call(
            &admin,
            "admin/category-update",
            &[
                ("id", &tableware),
                ("name", "Tableware"),
                ("slug", "tableware"),
                ("description", ""),
                ("parent_id", &mugs),
                ("position", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("under itself"));
    let parent: Option<String> =
        sqlx::query_scalar("SELECT parent_id FROM categories WHERE id = $1")
            .bind(&tableware)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(parent, None);

    // Re-parent an existing category with products: the shop follows at once.
    let pans: String = sqlx::query_scalar("SELECT id FROM categories WHERE slug = 'pans'")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let res = app
        .call(
            &admin,
            "admin/category-update",
            &[
                ("id", &pans),
                ("name", "Pans"),
                ("slug", "pans"),
                ("description", ""),
                ("parent_id", &tableware),
                ("position", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let category_page = app.get_with(&app.client, "/c/tableware").await;
    assert!(
        category_page.contains("Cast Iron Pan"),
        "products follow their category"
    );

    // A category with products or subcategories cannot be deleted.
    for id in [&pans, &tableware] {
        let res = app
            .call(&admin, "admin/category-delete", &[("id", id)])
            .await;
        assert_eq!(res.status(), 422);
    }
    let res = app
        .call(&admin, "admin/category-delete", &[("id", &mugs)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM categories WHERE name = 'Mugs'").await,
        0
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE target_type = 'category' ORDER BY created_at, id",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "category.created",
            "category.created",
            "category.updated",
            "category.deleted"
        ]
    );
}

#[tokio::test]
async fn an_import_with_a_bad_line_lists_it_and_changes_nothing_then_a_good_one_applies() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let post = |body: String| {
        let form = Form::new().part(
            "file",
            Part::bytes(body.into_bytes()).file_name("catalog.jsonl"),
        );
        admin
            .post(app.url("/admin/uploads/catalog"))
            .header("origin", &app.address)
            .multipart(form)
            .send()
    };
    let res = post(TWO_GOOD_ONE_BAD.to_owned()).await.unwrap();
    assert_eq!(res.status(), 303);
    let (_, html) = page(&app, &admin, "/admin/catalog").await;
    assert!(html.contains("1 line cannot be imported, so nothing was changed"));
    assert!(html.contains("data-testid=\"import-errors\""));
    assert!(
        html.contains("MUG-2") && html.contains("price_minor"),
        "line 2 and why"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM products").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM categories").await, 0);

    let good: String = TWO_GOOD_ONE_BAD
        .lines()
        .filter(|l| !l.contains("MUG-2"))
        .map(|l| format!("{l}\n"))
        .collect();
    let res = post(good).await.unwrap();
    assert_eq!(res.status(), 303);
    let (_, html) = page(&app, &admin, "/admin/catalog").await;
    assert!(
        html.contains("2 products created, 0 updated, 2 new categories."),
        "{html}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM products").await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'catalog.imported'"
        )
        .await,
        1
    );
    let actor: Option<String> =
        sqlx::query_scalar("SELECT actor_id FROM stock_adjustments LIMIT 1")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert!(actor.is_some(), "stock changes name who imported them");
}

#[tokio::test]
async fn an_export_imports_back_into_the_same_catalog() {
    let app = TestApp::spawn().await;
    app.seed().await;
    sqlx::query("UPDATE products SET status = 'draft' WHERE slug = 'nordhavn-cast-iron-pan'")
        .execute(app.db.reader())
        .await
        .unwrap();
    let admin = app.browser();
    app.admin(&admin).await;
    let res = admin
        .get(app.url("/admin/export/catalog.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"catalog-")
    );
    let exported = res.text().await.unwrap();
    let variants = count(&app, "SELECT COUNT(*) FROM product_variants").await;
    assert_eq!(exported.lines().count() as i64, variants);

    let (db, _dir) = fresh_db().await;
    let clock = shop_core::Clock::system();
    catalog::Catalog::new(db.clone(), clock.clone(), std::time::Duration::ZERO)
        .import_jsonl(
            &shop_core::audit::Actor::system("test"),
            exported.as_bytes(),
        )
        .await
        .expect("the export imports");
    let again = String::from_utf8(catalog::export::jsonl(&db).await.unwrap()).unwrap();
    assert_eq!(again, exported, "the same catalog, line for line");

    let csv = admin
        .get(app.url("/admin/export/catalog.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("sku,name,slug,status,"));
    assert_eq!(csv.lines().count() as i64, variants + 1);
    assert!(csv.contains(",draft,"));
}

#[tokio::test]
async fn images_are_reordered_relabelled_and_deleted_and_the_cover_follows() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    let (admin_id, _) = app.admin(&admin).await;
    let id = product_id(&app, "nordhavn-cast-iron-pan").await;
    for (key, alt) in [("first", "From above"), ("second", "From the side")] {
        let picture = shop::seed::picture::paint("Home & Kitchen", key, None);
        let res = upload(&app, &admin, &id, picture, "pan.png", alt).await;
        assert_eq!(res.status(), 303);
    }
    let images = |app: &TestApp| {
        let db = app.db.clone();
        let id = id.clone();
        async move {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, hash, alt FROM product_images WHERE product_id = $1
                 ORDER BY position, created_at",
            )
            .bind(&id)
            .fetch_all(db.reader())
            .await
            .unwrap();
            rows
        }
    };
    let cover = |app: &TestApp| {
        let db = app.db.clone();
        let id = id.clone();
        async move {
            let cover: Option<String> =
                sqlx::query_scalar("SELECT cover_image FROM products WHERE id = $1")
                    .bind(&id)
                    .fetch_one(db.reader())
                    .await
                    .unwrap();
            cover
        }
    };
    let before = images(&app).await;
    assert_eq!(before.len(), 2);
    assert_eq!(cover(&app).await.as_deref(), Some(before[0].1.as_str()));

    // The second picture moves first and becomes the cover, in listings too.
    let res = app
        .call(
            &admin,
            "admin/image",
            &[
                ("product_id", &id),
                ("image_id", &before[1].0),
                ("move_to", "earlier"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let after = images(&app).await;
    assert_eq!(after[0].0, before[1].0);
    assert_eq!(cover(&app).await.as_deref(), Some(before[1].1.as_str()));
    let listing = app.get_with(&app.client, "/c/pans").await;
    assert!(listing.contains(&format!("/images/{}-", before[1].1)));

    // Alt text is required; a good one is saved.
    let res = app
        .call(
            &admin,
            "admin/image",
            &[("product_id", &id), ("image_id", &after[0].0), ("alt", " ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .call(
            &admin,
            "admin/image",
            &[
                ("product_id", &id),
                ("image_id", &after[0].0),
                ("alt", "Side view, 28 cm"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(images(&app).await[0].2, "Side view, 28 cm");

    // Another vendor cannot touch them.
    let admin_account = auth::find(&app.db, &admin_id).await.unwrap().unwrap();
    let (mallory, _) = app.vendor(&admin_account, "mallory@vendor.test").await;
    for form in [
        vec![
            ("product_id", id.as_str()),
            ("image_id", after[0].0.as_str()),
            ("move_to", "delete"),
        ],
        vec![
            ("product_id", id.as_str()),
            ("image_id", after[0].0.as_str()),
            ("alt", "mine"),
        ],
    ] {
        assert_eq!(app.call(&mallory, "admin/image", &form).await.status(), 404);
    }
    assert_eq!(images(&app).await.len(), 2);

    // Deleting removes the row and its files; the other picture is the cover again.
    let res = app
        .call(
            &admin,
            "admin/image",
            &[
                ("product_id", &id),
                ("image_id", &after[0].0),
                ("move_to", "delete"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let left = images(&app).await;
    assert_eq!(left.len(), 1);
    assert_eq!(cover(&app).await.as_deref(), Some(left[0].1.as_str()));
    assert_eq!(image_files(&app), 3, "only the remaining picture's files");
    assert_eq!(
        app.get(&format!("/images/{}-320.jpg", before[1].1))
            .await
            .status(),
        404
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'image.%' ORDER BY created_at, id",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "image.added",
            "image.added",
            "image.reordered",
            "image.updated",
            "image.deleted"
        ]
    );
}
