//! A cart at current prices: price changes, and lines that can no longer be bought.

use cart::Problem;

use crate::common::{q, setup};
use shop_testkit::{exec, variant_id};

#[tokio::test]
async fn a_price_change_is_shown_and_archived_or_sold_out_lines_block_checkout() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
    cart::add(&db, &clock, &cart, &s, q(2)).await.unwrap();
    cart::add(&db, &clock, &cart, &m, q(1)).await.unwrap();

    exec(
        &db,
        "UPDATE product_variants SET price_minor = 1900 WHERE sku = 'TEE-M'",
    )
    .await;
    let c = cart::load(&db, &cart).await.unwrap();
    let line = c.lines.iter().find(|l| l.item.sku == "TEE-M").unwrap();
    assert_eq!(line.unit_price.minor(), 1900, "the current price counts");
    assert_eq!(line.was.unwrap().minor(), 1700, "and the shopper is told");
    assert_eq!(c.subtotal.unwrap().minor(), 2 * 1500 + 1900);

    exec(
        &db,
        "UPDATE product_variants SET status = 'archived' WHERE sku = 'TEE-M'",
    )
    .await;
    exec(
        &db,
        "UPDATE product_variants SET on_hand = 1 WHERE sku = 'TEE-S'",
    )
    .await;
    let c = cart::load(&db, &cart).await.unwrap();
    let problems: Vec<_> = c.lines.iter().map(|l| l.problem.clone()).collect();
    assert_eq!(
        problems,
        [Some(Problem::NotEnough(1)), Some(Problem::NotOnSale)]
    );
    assert!(!c.ready_for_checkout);
    assert_eq!(c.subtotal, None, "nothing that can be bought as it is");
}

#[tokio::test]
async fn the_headers_cart_is_as_current_as_the_catalogs_pages_and_the_cart_page_is_current() {
    let (db, clock, _dir) = setup().await;
    let catalog = catalog::Catalog::new(db.clone(), clock.clone(), catalog::READ_TTL);
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let empty = cart::load_for_display(&db, &catalog, &cart).await.unwrap();
    assert_eq!(
        (empty.items, empty.lines.len(), empty.subtotal),
        (0, 0, None)
    );
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
    cart::add(&db, &clock, &cart, &s, q(2)).await.unwrap();
    cart::add(&db, &clock, &cart, &m, q(1)).await.unwrap();
    let shown = cart::load_for_display(&db, &catalog, &cart).await.unwrap();
    assert_eq!(shown, cart::load(&db, &cart).await.unwrap());

    // Another instance changes a price: the header may show the old one for the catalog's
    // cache time, as the catalog's pages do; the cart page shows the new one at once. The
    // lines themselves (what is in the cart, how many) are always read.
    exec(
        &db,
        "UPDATE product_variants SET price_minor = 1900 WHERE sku = 'TEE-M'",
    )
    .await;
    cart::add(&db, &clock, &cart, &m, q(1)).await.unwrap();
    let shown = cart::load_for_display(&db, &catalog, &cart).await.unwrap();
    assert_eq!(shown.items, 4);
    assert_eq!(shown.subtotal.unwrap().minor(), 2 * 1500 + 2 * 1700);
    let current = cart::load(&db, &cart).await.unwrap();
    assert_eq!(current.subtotal.unwrap().minor(), 2 * 1500 + 2 * 1900);

    // A change through this instance's catalog shows in the header at once.
    let editor = catalog::Editor {
        actor: shop_core::audit::Actor::system("test"),
        access: catalog::Access::Shop,
    };
    catalog
        .adjust_stock(&editor, &s, -4, "count")
        .await
        .unwrap();
    let shown = cart::load_for_display(&db, &catalog, &cart).await.unwrap();
    assert_eq!(shown, cart::load(&db, &cart).await.unwrap());
    assert_eq!(shown.lines[0].problem, Some(Problem::NotEnough(1)));
}
