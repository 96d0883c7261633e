//! The catalog's write side seen from the shop: a product an admin creates (with its stock
//! history and audit entries) shows on the shop's pages and leaves them when archived. The
//! service-level tests (vendor isolation, validation, the stock ledger) are in
//! `services/catalog/tests/`.

use catalog::ProductStatus;
use shop_testkit::catalog::{catalog, people, product, variant};
use shop_testkit::{category_id, variant_id};

use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron"}}
"#;

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
