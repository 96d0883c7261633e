//! Adding, changing, removing and clearing lines: caps by stock and the 99 limit, another
//! cart's line ids, concurrent updates.

use cart::{CartError, LineId, Quantity};
use shop_core::VariantId;

use crate::common::{q, setup};
use shop_testkit::variant_id;

#[tokio::test]
async fn lines_are_added_changed_removed_and_cleared_at_current_prices() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;

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
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
    let pan = variant_id(&db, "PAN-1").await;

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
async fn another_carts_line_is_not_yours() {
    let (db, clock, _dir) = setup().await;
    let mine = cart::create_guest(&db, &clock).await.unwrap();
    let theirs = cart::create_guest(&db, &clock).await.unwrap();
    let s = variant_id(&db, "TEE-S").await;
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
async fn twenty_concurrent_updates_leave_one_consistent_line() {
    let (db, clock, _dir) = setup().await;
    let cart = cart::create_guest(&db, &clock).await.unwrap();
    let m = variant_id(&db, "TEE-M").await;
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
async fn a_shoppers_add_finds_or_makes_their_cart_and_counts_it() {
    let (db, clock, _dir) = setup().await;
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
    let guest = |id: Option<&cart::CartId>| cart::CartOf::Guest(id.cloned());

    // A guest's first add makes their cart.
    let first = cart::add_to(&db, &clock, &guest(None), &s, q(2))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!((first.added.quantity, first.units), (2, 2));
    assert!(cart::guest_exists(&db, &first.cart).await.unwrap());
    // Then adds to it, counting every line.
    let again = cart::add_to(&db, &clock, &guest(Some(&first.cart)), &m, q(3))
        .await
        .unwrap();
    assert_eq!(
        (again.cart.clone(), again.created),
        (first.cart.clone(), false)
    );
    assert_eq!((again.added.quantity, again.units), (3, 5));
    let capped = cart::add_to(&db, &clock, &guest(Some(&first.cart)), &s, q(9))
        .await
        .unwrap();
    assert_eq!(
        (capped.added.quantity, capped.added.capped, capped.units),
        (5, true, 8)
    );

    // A session naming a cart that is gone, or a customer's cart, gets a new guest cart: a
    // guest never adds to someone's account.
    let user = shop_testkit::catalog::customer(&db, &clock, "ada@example.com").await;
    let theirs = cart::for_user(&db, &clock, &user).await.unwrap();
    for named in [cart::CartId::new(), theirs.clone()] {
        let added = cart::add_to(&db, &clock, &guest(Some(&named)), &m, q(1))
            .await
            .unwrap();
        assert!(added.created && added.cart != named);
        assert_eq!(added.units, 1);
    }
    assert_eq!(cart::units(&db, &theirs).await.unwrap(), 0);
    let mine = cart::add_to(&db, &clock, &cart::CartOf::User(theirs.clone()), &m, q(4))
        .await
        .unwrap();
    assert_eq!((mine.cart, mine.created, mine.units), (theirs, false, 4));

    // Nothing that cannot be sold, and nothing made for it.
    let pan = variant_id(&db, "PAN-1").await;
    assert!(matches!(
        cart::add_to(&db, &clock, &guest(None), &pan, q(1)).await,
        Err(CartError::OutOfStock)
    ));
}

#[tokio::test]
async fn an_add_to_a_cart_being_checked_out_names_the_order_and_writes_nothing() {
    let (db, clock, _dir) = setup().await;
    let s = variant_id(&db, "TEE-S").await;
    let first = cart::add_to(&db, &clock, &cart::CartOf::Guest(None), &s, q(1))
        .await
        .unwrap();
    let order = shop_core::OrderId::new();
    let mut batch = shop_core::Batch::for_db(&db);
    cart::checkout::start_checkout_into(&mut batch, &first.cart, &order, 1);
    db.write_batch(batch).await.unwrap();
    let to = cart::CartOf::Guest(Some(first.cart.clone()));
    match cart::add_to(&db, &clock, &to, &s, q(2)).await {
        Err(CartError::CheckingOut(named)) => assert_eq!(named, order),
        other => panic!("{other:?}"),
    }
    assert_eq!(cart::units(&db, &first.cart).await.unwrap(), 1, "unchanged");
}

#[tokio::test]
async fn a_carts_last_activity_moves_at_most_once_a_minute_and_counts_stay_exact() {
    let (db, _, _dir) = setup().await;
    let start = 1_800_000_000_000;
    let clock = shop_core::Clock::fixed(shop_core::Timestamp(start));
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
    let touched = |cart: cart::CartId| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT updated_at FROM carts WHERE id = $1")
                .bind(cart.as_str())
                .fetch_one(db.reader())
                .await
                .unwrap()
        }
    };
    let first = cart::add_to(&db, &clock, &cart::CartOf::Guest(None), &s, q(1))
        .await
        .unwrap();
    let cart = first.cart.clone();
    let to = cart::CartOf::Guest(Some(cart.clone()));
    assert_eq!(touched(cart.clone()).await, start);

    // Changes within the minute leave the time as it was, and the counts exact.
    clock.advance(std::time::Duration::from_secs(59));
    let again = cart::add_to(&db, &clock, &to, &m, q(2)).await.unwrap();
    assert_eq!(again.units, 3);
    let line = again.added.line_id.clone();
    cart::set_quantity(&db, &clock, &cart, &line, q(4))
        .await
        .unwrap();
    assert_eq!(touched(cart.clone()).await, start);
    assert_eq!(cart::units(&db, &cart).await.unwrap(), 5);

    // A minute on, each kind of change moves it.
    clock.advance(std::time::Duration::from_secs(1));
    let more = cart::add_to(&db, &clock, &to, &s, q(1)).await.unwrap();
    assert_eq!((more.added.quantity, more.units), (2, 6));
    assert_eq!(touched(cart.clone()).await, start + 60_000);
    clock.advance(std::time::Duration::from_secs(60));
    cart::set_quantity(&db, &clock, &cart, &line, q(1))
        .await
        .unwrap();
    assert_eq!(touched(cart.clone()).await, start + 120_000);
    clock.advance(std::time::Duration::from_secs(60));
    cart::remove(&db, &clock, &cart, &line).await.unwrap();
    assert_eq!(touched(cart.clone()).await, start + 180_000);
    assert_eq!(cart::units(&db, &cart).await.unwrap(), 2);
}
