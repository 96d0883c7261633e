//! Creating and changing products and variants through the catalog's write API: vendor
//! isolation, validation, and nothing written when a change is refused.

use catalog::products::ProductInput;
use catalog::variants::VariantInput;
use catalog::{Access, CatalogError, ProductId, ProductStatus};
use shop_core::{CategoryId, Clock, Currency, Money};
use shop_testkit::catalog::{catalog, eur, import, people, product, variant};
use shop_testkit::{category_id, count, fresh_db, variant_id};

pub const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron"}}
"#;

pub fn invalid_field(result: Result<impl std::fmt::Debug, CatalogError>) -> &'static str {
    match result {
        Err(CatalogError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_vendor_cannot_read_or_change_another_vendors_product() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
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
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
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
                product(
                    "Pan seven",
                    &CategoryId::from_db("no-such-category".to_owned())
                ),
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
