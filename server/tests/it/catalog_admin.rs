//! The catalog's write side (the `Catalog` write methods): creating and editing products and
//! variants, stock adjustments, vendor isolation, validation and the audit log.

use catalog::products::ProductInput;
use catalog::variants::VariantInput;
use catalog::{Access, Catalog, CatalogError, Editor, ProductId, ProductStatus, VariantId};
use shop_core::audit::Actor;
use shop_core::{Clock, Currency, Db, Email, Money, Sku};

use crate::common::{TestApp, TestOptions, fresh_db, import_catalog};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron"}}
"#;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::Eur)
}

/// The catalog as the admin's server functions use it (no read cache).
fn catalog(db: &Db, clock: &Clock) -> Catalog {
    Catalog::new(db.clone(), clock.clone(), std::time::Duration::ZERO)
}

async fn variant_id(db: &Db, sku: &str) -> VariantId {
    let id: String = sqlx::query_scalar("SELECT id FROM product_variants WHERE sku = $1")
        .bind(sku)
        .fetch_one(db.reader())
        .await
        .expect("variant");
    VariantId::from_db(id)
}

fn variant(sku: &str, price: i64, stock: i64) -> VariantInput {
    VariantInput {
        sku: Sku::parse(sku).expect("a valid SKU"),
        options: vec![("size".to_owned(), sku.to_owned())],
        price: eur(price),
        compare_at: None,
        weight_grams: Some(500),
        low_stock_threshold: 3,
        initial_stock: stock,
        archived: false,
    }
}

async fn category_id(db: &Db, slug: &str) -> String {
    sqlx::query_scalar("SELECT id FROM categories WHERE slug = $1")
        .bind(slug)
        .fetch_one(db.reader())
        .await
        .expect("category")
}

fn product(name: &str, category_id: &str) -> ProductInput {
    ProductInput {
        name: name.to_owned(),
        description: "Made to **last**.".to_owned(),
        brand: "Fernhill".to_owned(),
        category_id: category_id.to_owned(),
        status: Some(ProductStatus::Active),
        attributes: vec![("material".to_owned(), "Linen".to_owned())],
        ..ProductInput::default()
    }
}

/// The shop's admin and two vendors.
struct People {
    admin: Editor,
    vendor_a: Editor,
    vendor_b: Editor,
}

async fn people(db: &Db, clock: &Clock) -> People {
    let (admin_id, _) = auth::create_or_promote_admin(
        db,
        clock,
        &Email::parse("boss@example.com").unwrap(),
        "Boss",
        "admin-password-1",
    )
    .await
    .expect("admin");
    let admin = auth::users::find(db, &admin_id)
        .await
        .expect("load admin")
        .expect("admin exists");
    let mut vendors = Vec::new();
    for (i, email) in ["a@vendor.test", "b@vendor.test"].into_iter().enumerate() {
        let auth::users::Registered::New(account) = auth::users::register(
            db,
            clock,
            auth::users::Registration {
                email: Email::parse(email).unwrap(),
                display_name: format!("Vendor {i}"),
                password: "vendor-password-1".to_owned(),
                ip: format!("10.0.0.{i}"),
            },
        )
        .await
        .expect("register vendor") else {
            panic!("a new address registers a new account");
        };
        auth::admin::grant_role(db, clock, &admin, &account.id, auth::Role::Vendor)
            .await
            .expect("grant vendor");
        vendors.push(Editor {
            actor: Actor::user(account.id.as_str(), email),
            access: Access::Vendor(account.id.as_str().to_owned()),
        });
    }
    let vendor_b = vendors.pop().unwrap();
    let vendor_a = vendors.pop().unwrap();
    People {
        admin: Editor {
            actor: Actor::user(admin_id.as_str(), "boss@example.com"),
            access: Access::Shop,
        },
        vendor_a,
        vendor_b,
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .expect("count")
}

fn invalid_field(result: Result<impl std::fmt::Debug, CatalogError>) -> &'static str {
    match result {
        Err(CatalogError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_admin_creates_a_product_with_two_variants_and_shoppers_see_it() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let people = people(&app.db, &app.clock).await;
    let pans = category_id(&app.db, "pans").await;
    let catalog = catalog(&app.db, &app.clock);
    let id = catalog
        .create_product(
            &people.admin,
            &product("Linen Apron", &pans),
            &[variant("APRON-S", 2400, 4), variant("APRON-L", 2600, 0)],
        )
        .await
        .expect("create");

    let html = app.get_with(&app.client, "/p/linen-apron").await;
    assert!(html.contains("Linen Apron"));
    assert!(html.contains("€24.00"), "the lowest price: {html}");
    assert!(html.contains("APRON-S"), "the variant options: {html}");
    let listing = app.get_with(&app.client, "/c/pans").await;
    assert!(listing.contains("/p/linen-apron"));

    // Stock: the initial stock is the first line of the history; the summary follows.
    let variant_id = variant_id(&app.db, "APRON-L").await;
    let on_hand = catalog
        .adjust_stock(&people.admin, &variant_id, 6, "delivery")
        .await
        .expect("adjust");
    assert_eq!(on_hand, 6);
    let available: i64 = sqlx::query_scalar("SELECT available FROM products WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(available, 10);
    // The whole product's history in one read: APRON-S's initial stock, APRON-L's delivery.
    let history = catalog::stock::stock_history(&app.db, &people.admin, &id, 10)
        .await
        .unwrap();
    let lines: Vec<(&str, i64, &str)> = history
        .iter()
        .map(|h| {
            let sku = if h.variant_id == variant_id {
                "APRON-L"
            } else {
                "APRON-S"
            };
            (sku, h.delta, h.note.as_str())
        })
        .collect();
    assert_eq!(lines[0], ("APRON-L", 6, "delivery"), "newest first");
    assert_eq!(lines.iter().filter(|l| l.0 == "APRON-L").count(), 1);
    assert!(lines.iter().any(|l| l.0 == "APRON-S" && l.1 == 4));
    assert_eq!(history[0].on_hand_after, Some(6));
    let actor = history[0].actor_id.clone().expect("made by the admin");
    let emails = auth::users::emails(&app.db, std::slice::from_ref(&actor))
        .await
        .unwrap();
    assert_eq!(emails[&actor], "boss@example.com");

    // Every change is in the audit log.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY created_at, id",
    )
    .bind(id.as_str())
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(actions, vec!["product.created", "stock.adjusted"]);

    // Archived: gone from the shop.
    catalog
        .set_product_status(&people.admin, &id, ProductStatus::Archived)
        .await
        .unwrap();
    // This test changed the catalog behind the app's back: its cached pages show the old
    // product for up to READ_TTL; a fresh slug lookup goes to the database.
    let row: String = sqlx::query_scalar("SELECT status FROM products WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(row, "archived");
}

#[tokio::test]
async fn a_vendor_cannot_read_or_change_another_vendors_product() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    import_catalog(&db, &clock, CATALOG).await;
    let people = people(&db, &clock).await;
    let pans = category_id(&db, "pans").await;
    let mut input = product("Vendor A Mug", &pans);
    // A vendor cannot make someone else the owner or feature their product.
    input.vendor_id = Some(shop_core::UserId::new());
    input.featured = true;
    let catalog = catalog(&db, &clock);
    let id = catalog
        .create_product(&people.vendor_a, &input, &[variant("MUG-A", 1200, 3)])
        .await
        .expect("vendor creates");
    let (owner, featured): (Option<String>, i64) =
        sqlx::query_as("SELECT vendor_id, featured FROM products WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(db.reader())
            .await
            .unwrap();
    assert_eq!(
        owner.as_deref(),
        Some(match &people.vendor_a.access {
            Access::Vendor(v) => v.as_str(),
            Access::Shop => unreachable!(),
        })
    );
    assert_eq!(featured, 0);
    let variant_id = variant_id(&db, "MUG-A").await;
    let before = count(&db, "SELECT COUNT(*) FROM audit_log").await;

    let b = &people.vendor_b;
    let not_found =
        |r: Result<(), CatalogError>| assert!(matches!(r, Err(CatalogError::NotFound)), "{r:?}");
    not_found(
        catalog
            .update_product(b, &id, &product("Stolen", &pans))
            .await,
    );
    not_found(
        catalog
            .set_product_status(b, &id, ProductStatus::Archived)
            .await,
    );
    not_found(
        catalog
            .add_variant(b, &id, &variant("MUG-B", 1, 1))
            .await
            .map(|_| ()),
    );
    not_found(
        catalog
            .update_variant(b, &variant_id, &variant("MUG-A", 1, 0))
            .await,
    );
    not_found(
        catalog
            .adjust_stock(b, &variant_id, -3, "theft")
            .await
            .map(|_| ()),
    );
    not_found(
        catalog::stock::stock_history(&db, b, &id, 10)
            .await
            .map(|_| ()),
    );
    // Nor any product of the shop's own.
    let shop_product = ProductId::from_db(
        sqlx::query_scalar("SELECT id FROM products WHERE slug = 'cast-iron-pan'")
            .fetch_one(db.reader())
            .await
            .unwrap(),
    );
    not_found(
        catalog
            .set_product_status(b, &shop_product, ProductStatus::Draft)
            .await,
    );

    // Nothing changed.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log").await, before);
    let (name, status, on_hand): (String, String, i64) = sqlx::query_as(
        "SELECT p.name, p.status, v.on_hand FROM products p JOIN product_variants v ON v.product_id = p.id
         WHERE v.id = $1",
    )
    .bind(variant_id.as_str())
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), status.as_str(), on_hand),
        ("Vendor A Mug", "active", 3)
    );

    // The owner and the shop's staff can.
    catalog
        .adjust_stock(&people.vendor_a, &variant_id, 2, "restock")
        .await
        .unwrap();
    catalog
        .update_product(&people.admin, &id, &product("Mug", &pans))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_and_changes_nothing() {
    let (db, _dir) = fresh_db().await;
    let clock = Clock::system();
    import_catalog(&db, &clock, CATALOG).await;
    let people = people(&db, &clock).await;
    let admin = &people.admin;
    let pans = category_id(&db, "pans").await;
    let products_before = count(&db, "SELECT COUNT(*) FROM products").await;
    let variants_before = count(&db, "SELECT COUNT(*) FROM product_variants").await;
    let catalog = catalog(&db, &clock);
    let create = |input: ProductInput, variants: Vec<VariantInput>| {
        let catalog = catalog.clone();
        let admin = admin.clone();
        async move { catalog.create_product(&admin, &input, &variants).await }
    };

    assert_eq!(
        invalid_field(create(product("Pan", &pans), vec![variant("NEG", -1, 1)]).await),
        "price"
    );
    // A SKU already in the catalog, and one given twice.
    assert_eq!(
        invalid_field(create(product("Pan two", &pans), vec![variant("PAN-1", 100, 1)]).await),
        "sku"
    );
    assert_eq!(
        invalid_field(
            create(
                product("Pan three", &pans),
                vec![variant("DUP", 100, 1), variant("DUP", 200, 1)]
            )
            .await
        ),
        "sku"
    );
    let mut html = product("Pan four", &pans);
    html.description = "<script>alert(1)</script>".to_owned();
    assert_eq!(
        invalid_field(create(html, vec![variant("OK-1", 100, 1)]).await),
        "description"
    );
    let mut link = product("Pan five", &pans);
    link.description = "[click](javascript:alert(1))".to_owned();
    assert_eq!(
        invalid_field(create(link, vec![variant("OK-2", 100, 1)]).await),
        "description"
    );
    let mut cheap = variant("OK-3", 1000, 1);
    cheap.compare_at = Some(eur(900));
    assert_eq!(
        invalid_field(create(product("Pan six", &pans), vec![cheap]).await),
        "compare_at"
    );
    assert_eq!(
        invalid_field(
            create(
                product("Pan seven", "no-such-category"),
                vec![variant("OK-4", 1, 1)]
            )
            .await
        ),
        "category_id"
    );
    assert_eq!(
        invalid_field(create(product("", &pans), vec![variant("OK-5", 1, 1)]).await),
        "name"
    );
    assert_eq!(
        invalid_field(create(product("Cast Iron Pan", &pans), vec![variant("OK-6", 1, 1)]).await),
        "slug",
        "the slug made from the name is taken"
    );
    assert_eq!(
        invalid_field(create(product("Pan eight", &pans), vec![]).await),
        "variants"
    );
    // Stock cannot go below zero (nothing reserved), and needs a reason.
    let pan_variant = variant_id(&db, "PAN-1").await;
    assert_eq!(
        invalid_field(catalog.adjust_stock(admin, &pan_variant, -6, "count").await),
        "delta"
    );
    assert_eq!(
        invalid_field(catalog.adjust_stock(admin, &pan_variant, 1, "  ").await),
        "note"
    );
    // A product's only variant cannot change currency either: one currency per product.
    let mut dollars = variant("PAN-1", 3000, 0);
    dollars.price = Money::new(3000, Currency::Usd);
    assert_eq!(
        invalid_field(catalog.update_variant(admin, &pan_variant, &dollars).await),
        "price"
    );
    assert_eq!(
        catalog::variants::variant_currency(&db, &pan_variant)
            .await
            .unwrap(),
        Some(Currency::Eur)
    );

    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM products").await,
        products_before
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM product_variants").await,
        variants_before
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE target_type = 'product'"
        )
        .await,
        0
    );
    let on_hand: i64 =
        sqlx::query_scalar("SELECT on_hand FROM product_variants WHERE sku = 'PAN-1'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    assert_eq!(on_hand, 5);
}
