//! The cart service on a real database: adding, changing, removing and clearing lines; caps
//! by stock and the 99 limit; price-change detection; lines that can no longer be bought;
//! merging a guest cart at sign-in; another cart's line ids; concurrent updates.

use cart::{CartError, LineId, Problem, Quantity};
use catalog::VariantId;
use shop_core::{Clock, Db};

use crate::common::{fresh_db, import_catalog};

const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":200,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Kitchen > Pans","price_minor":3000,"currency":"EUR","stock":0,"brand":"Nordhavn","attributes":{}}
"#;

/// A quantity the test knows is valid.
fn q(units: i64) -> Quantity {
    Quantity::new(units).expect("1 to 99")
}

async fn setup() -> (Db, Clock, tempfile::TempDir) {
    let (db, dir) = fresh_db().await;
    let clock = Clock::system();
    import_catalog(&db, &clock, CATALOG).await;
    (db, clock, dir)
}

async fn variant(db: &Db, sku: &str) -> VariantId {
    let id: String = sqlx::query_scalar("SELECT id FROM product_variants WHERE sku = $1")
        .bind(sku)
        .fetch_one(db.reader())
        .await
        .expect("variant");
    VariantId::from_db(id)
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn lines_are_added_changed_removed_and_cleared_at_current_prices() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant(&db, "TEE-S").await;
    let m = variant(&db, "TEE-M").await;

    let first = cart::add(&db, &clock, &cart, &s, q(2)).await.unwrap();
    assert_eq!((first.quantity, first.capped), (2, false));
    let again = cart::add(&db, &clock, &cart, &s, q(1)).await.unwrap();
    assert_eq!(again.line_id, first.line_id, "the same line");
    assert_eq!(again.quantity, 3);
    let medium = cart::add(&db, &clock, &cart, &m, q(1)).await.unwrap();

    let c = cart::load(&db, &cart).await.unwrap();
    assert_eq!(c.lines.len(), 2);
    assert_eq!(c.items, 4);
    assert_eq!(c.subtotal.unwrap().minor(), 3 * 1500 + 1700);
    assert!(c.ready_for_checkout);

    assert_eq!(
        cart::set_quantity(&db, &clock, &cart, &medium.line_id, q(10))
            .await
            .unwrap(),
        10
    );
    cart::remove(&db, &clock, &cart, &first.line_id)
        .await
        .unwrap();
    let c = cart::load(&db, &cart).await.unwrap();
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.subtotal.unwrap().minor(), 17_000);
    cart::clear(&db, &clock, &cart).await.unwrap();
    let c = cart::load(&db, &cart).await.unwrap();
    assert!(c.lines.is_empty() && c.subtotal.is_none() && !c.ready_for_checkout);
}

#[tokio::test]
async fn quantities_are_capped_by_stock_and_99_and_bad_ones_refused() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant(&db, "TEE-S").await;
    let m = variant(&db, "TEE-M").await;
    let pan = variant(&db, "PAN-1").await;

    let added = cart::add(&db, &clock, &cart, &s, q(7)).await.unwrap();
    assert_eq!((added.quantity, added.capped), (5, true), "only 5 in stock");
    let added = cart::add(&db, &clock, &cart, &m, q(99)).await.unwrap();
    assert_eq!(added.quantity, 99);
    let added = cart::add(&db, &clock, &cart, &m, q(5)).await.unwrap();
    assert_eq!((added.quantity, added.capped), (99, true), "never above 99");
    // A bad quantity cannot reach the cart: it is refused where it is parsed.
    for bad in [0, -1, 100, i64::MAX, i64::MIN] {
        assert_eq!(Quantity::new(bad), Err(shop_core::BadQuantity));
    }
    assert!(matches!(
        cart::add(&db, &clock, &cart, &pan, q(1)).await,
        Err(CartError::OutOfStock)
    ));
    let unknown = VariantId::new();
    assert!(matches!(
        cart::add(&db, &clock, &cart, &unknown, q(1)).await,
        Err(CartError::UnknownVariant)
    ));
    let c = cart::load(&db, &cart).await.unwrap();
    assert_eq!(
        c.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
        [5, 99]
    );
}

#[tokio::test]
async fn a_price_change_is_shown_and_archived_or_sold_out_lines_block_checkout() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant(&db, "TEE-S").await;
    let m = variant(&db, "TEE-M").await;
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
async fn another_carts_line_is_not_yours() {
    let (db, clock, _dir) = setup().await;
    let mine = cart::create_guest(&db, &clock).await.unwrap();
    let theirs = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant(&db, "TEE-S").await;
    let their_line = cart::add(&db, &clock, &theirs, &s, q(2))
        .await
        .unwrap()
        .line_id;
    assert!(matches!(
        cart::set_quantity(&db, &clock, &mine, &their_line, q(1)).await,
        Err(CartError::UnknownLine)
    ));
    assert!(matches!(
        cart::remove(&db, &clock, &mine, &their_line).await,
        Err(CartError::UnknownLine)
    ));
    assert!(matches!(
        cart::remove(&db, &clock, &mine, &LineId::new()).await,
        Err(CartError::UnknownLine)
    ));
    assert_eq!(cart::load(&db, &theirs).await.unwrap().lines[0].quantity, 2);
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_customers_cart_at_sign_in_capped_by_stock() {
    let (db, clock, _dir) = setup().await;
    let (user, _) = auth::create_or_promote_admin(
        &db,
        &clock,
        &shop_core::Email::parse("ada@example.com").unwrap(),
        "Ada",
        "a long password 1",
    )
    .await
    .unwrap();
    let s = variant(&db, "TEE-S").await;
    let m = variant(&db, "TEE-M").await;
    let customer = cart::for_user(&db, &clock, &user).await.unwrap();
    assert_eq!(cart::for_user(&db, &clock, &user).await.unwrap(), customer);
    cart::add(&db, &clock, &customer, &s, q(4)).await.unwrap();

    let guest = cart::create_guest(&db, &clock).await.unwrap();
    cart::add(&db, &clock, &guest, &s, q(3)).await.unwrap();
    cart::add(&db, &clock, &guest, &m, q(2)).await.unwrap();
    let (merged_into, merged) = cart::merge_into_user(&db, &clock, &guest, &user)
        .await
        .unwrap();
    assert_eq!(merged_into, Some(customer.clone()));
    assert_eq!(merged.capped, ["Fernhill Tee"], "4 + 3 > 5 in stock");
    assert!(merged.unavailable.is_empty());
    let c = cart::load(&db, &customer).await.unwrap();
    let quantities: Vec<(String, i64)> = c
        .lines
        .iter()
        .map(|l| (l.item.sku.clone(), l.quantity))
        .collect();
    assert_eq!(
        quantities,
        [("TEE-S".to_owned(), 5), ("TEE-M".to_owned(), 2)]
    );
    assert!(
        !cart::guest_exists(&db, &guest).await.unwrap(),
        "the guest cart is gone"
    );
    // The customer's own cart is no guest cart: "merging" it changes nothing.
    let (same, merged) = cart::merge_into_user(&db, &clock, &customer, &user)
        .await
        .unwrap();
    assert_eq!(
        (same, merged),
        (Some(customer.clone()), cart::Merged::default())
    );
    assert_eq!(cart::load(&db, &customer).await.unwrap().items, 7);

    // An empty guest cart goes without creating a cart for a customer who has none.
    let (newcomer, _) = auth::create_or_promote_admin(
        &db,
        &clock,
        &shop_core::Email::parse("bo@example.com").unwrap(),
        "Bo",
        "a long password 2",
    )
    .await
    .unwrap();
    let empty = cart::create_guest(&db, &clock).await.unwrap();
    let (none, _) = cart::merge_into_user(&db, &clock, &empty, &newcomer)
        .await
        .unwrap();
    assert_eq!(none, None);
    assert!(!cart::guest_exists(&db, &empty).await.unwrap());
    assert_eq!(cart::find_for_user(&db, &newcomer).await.unwrap(), None);
}

#[tokio::test]
async fn twenty_concurrent_updates_leave_one_consistent_line() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let m = variant(&db, "TEE-M").await;
    // 20 tabs add one unit each at the same moment: one line, 20 units.
    let adds = (0..20).map(|_| {
        let (db, clock, cart, m) = (db.clone(), clock.clone(), cart.clone(), m.clone());
        tokio::spawn(async move { cart::add(&db, &clock, &cart, &m, q(1)).await })
    });
    for handle in adds {
        handle.await.unwrap().unwrap();
    }
    let c = cart::load(&db, &cart).await.unwrap();
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.lines[0].quantity, 20);
    // 20 tabs set different quantities at once: the line ends at one of them.
    let line = c.lines[0].id.clone();
    let sets = (1..=20).map(|n| {
        let (db, clock, cart, line) = (db.clone(), clock.clone(), cart.clone(), line.clone());
        tokio::spawn(async move { cart::set_quantity(&db, &clock, &cart, &line, q(n)).await })
    });
    for handle in sets {
        handle.await.unwrap().unwrap();
    }
    let c = cart::load(&db, &cart).await.unwrap();
    assert_eq!(c.lines.len(), 1);
    assert!((1..=20).contains(&c.lines[0].quantity));
}

#[tokio::test]
async fn stale_guest_carts_are_deleted_and_customer_carts_kept() {
    let (db, clock, _dir) = setup().await;
    let empty = cart::create_guest(&db, &clock).await.unwrap();
    let full = cart::create_guest(&db, &clock).await.unwrap();
    cart::add(&db, &clock, &full, &variant(&db, "TEE-S").await, q(1))
        .await
        .unwrap();
    let now = clock.now().millis();
    // Empty carts older than now go; a cart with lines stays until it is idle too long.
    assert_eq!(
        cart::delete_stale_guest_carts(&db, now + 1, 0)
            .await
            .unwrap(),
        std::slice::from_ref(&empty)
    );
    assert!(!cart::guest_exists(&db, &empty).await.unwrap());
    assert!(cart::guest_exists(&db, &full).await.unwrap());
    assert_eq!(
        cart::delete_stale_guest_carts(&db, 0, now + 1)
            .await
            .unwrap(),
        std::slice::from_ref(&full)
    );
    assert!(!cart::guest_exists(&db, &full).await.unwrap());
}
