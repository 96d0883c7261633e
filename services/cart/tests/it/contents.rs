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
