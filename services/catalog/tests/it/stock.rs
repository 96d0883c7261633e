//! The stock ledger: every change to stock on hand is written with its reason, the history
//! reads newest first per variant, and stock never drops below what open orders reserve.

use catalog::CatalogError;
use shop_core::Clock;
use shop_testkit::catalog::{catalog, import, people};
use shop_testkit::{count, exec, fresh_db, product_id, variant_id};

const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":20,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
"#;

#[tokio::test]
async fn each_change_is_recorded_with_its_reason_and_read_back_newest_first_per_variant() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
    let people = people(&db, &clock).await;
    let catalog = catalog(&db, &clock);
    let small = variant_id(&db, "TEE-S").await;
    let medium = variant_id(&db, "TEE-M").await;

    assert_eq!(
        catalog
            .adjust_stock(&people.admin, &small, 3, "delivery")
            .await
            .unwrap(),
        8
    );
    assert_eq!(
        catalog
            .adjust_stock(&people.admin, &small, -2, "  damaged  ")
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        catalog
            .adjust_stock(&people.admin, &medium, -20, "stock count")
            .await
            .unwrap(),
        0
    );

    let tee = product_id(&db, "fernhill-tee").await;
    let history = catalog::stock::stock_history(&db, &people.admin, &tee, 2)
        .await
        .unwrap();
    let lines: Vec<(bool, i64, &str, &str, Option<i64>)> = history
        .iter()
        .map(|h| {
            (
                h.variant_id == small,
                h.delta,
                h.reason.as_str(),
                h.note.as_str(),
                h.on_hand_after,
            )
        })
        .collect();
    // At most two per variant, newest first across the product; the note is trimmed; the
    // import's own line for the medium size is the older of its two.
    assert_eq!(
        lines,
        vec![
            (false, -20, "admin", "stock count", Some(0)),
            (true, -2, "admin", "damaged", Some(6)),
            (true, 3, "admin", "delivery", Some(8)),
            (false, 20, "import", "catalog import", Some(20)),
        ]
    );
    assert!(history[..3].iter().all(|h| h.actor_id.is_some()));
    assert_eq!(history[3].actor_id, None, "the import is the system's");

    // The product's summary follows: 6 + 0 available.
    assert_eq!(
        count(
            &db,
            &format!("SELECT available FROM products WHERE id = '{tee}'")
        )
        .await,
        6
    );
}

#[tokio::test]
async fn stock_never_drops_below_the_units_reserved_for_open_orders() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
    let people = people(&db, &clock).await;
    let catalog = catalog(&db, &clock);
    let small = variant_id(&db, "TEE-S").await;
    exec(
        &db,
        "UPDATE product_variants SET reserved = 3 WHERE sku = 'TEE-S'",
    )
    .await;
    let ledger = "SELECT COUNT(*) FROM stock_adjustments";
    let before = count(&db, ledger).await;

    let refused = catalog
        .adjust_stock(&people.admin, &small, -3, "count")
        .await;
    assert!(
        matches!(refused, Err(CatalogError::Invalid { field: "delta", .. })),
        "{refused:?}"
    );
    assert_eq!(count(&db, ledger).await, before, "nothing recorded");
    assert_eq!(
        count(
            &db,
            "SELECT on_hand FROM product_variants WHERE sku = 'TEE-S'"
        )
        .await,
        5
    );
    // Down to the reserved units is fine.
    assert_eq!(
        catalog
            .adjust_stock(&people.admin, &small, -2, "count")
            .await
            .unwrap(),
        3
    );
    assert_eq!(count(&db, ledger).await, before + 1);
}
