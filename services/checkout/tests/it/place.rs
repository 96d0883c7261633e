//! Placing orders: holds, totals, copies of the lines, one order per attempt and per cart,
//! refusals that write nothing, and 50 buyers racing for the last 5 units.

use checkout::{CheckoutError, OrderStatus};
use shop_testkit::count;

use crate::common::{self, cart_with, order_form, place, reserved, setup};

#[tokio::test]
async fn placing_holds_the_units_copies_the_lines_and_converts_the_cart() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 2), ("LAMP-1", 1)]).await;
    let placed = place(&shop, &cart).await;
    assert_eq!(placed.number, 10001);
    assert!(
        placed
            .payment_url
            .starts_with("http://shop.test/pay/offline/cs_offline_")
    );

    let order = checkout::orders::load(&shop.db, &placed.order_id)
        .await
        .unwrap();
    assert_eq!(order.number_label(), "HS-10001");
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.subtotal.minor(), 2 * 1500 + 8900);
    // 119.00 is over the 50.00 threshold: Standard ships free.
    assert_eq!(order.shipping.minor(), 0);
    assert_eq!(order.total.minor(), 11_900);
    // 20% included: 119.00 × 20/120.
    assert_eq!(order.vat.minor(), 500 + 1483);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].product_name, "Fernhill Tee");
    assert_eq!(order.lines[0].sku, "TEE-S");
    assert_eq!(
        order.lines[0].options,
        vec![("size".to_owned(), "S".to_owned())]
    );
    assert_eq!(order.lines[0].unit_price.minor(), 1500);
    assert_eq!(order.shipping_address.city, "Berlin");
    assert_eq!(order.billing_address, order.shipping_address);
    assert_eq!(order.email, "ada@example.com");
    let kinds: Vec<&str> = order.history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["placed", "payment_started"]);

    assert_eq!(reserved(&shop.db, "TEE-S").await, 2);
    assert_eq!(reserved(&shop.db, "LAMP-1").await, 1);
    assert_eq!(
        cart::checkout::pending_order(&shop.db, &cart)
            .await
            .unwrap(),
        Some(placed.order_id.clone())
    );
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM outbox_events WHERE kind = 'order.placed'"
        )
        .await,
        1
    );
    // The cart keeps its lines until the order is paid.
    assert_eq!(cart::units(&shop.db, &cart).await.unwrap(), 3);
}

#[tokio::test]
async fn a_small_order_pays_for_shipping_and_numbers_follow_on() {
    let shop = setup().await;
    let first = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let second = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    assert_eq!((first.number, second.number), (10001, 10002));
    let order = checkout::orders::load(&shop.db, &first.order_id)
        .await
        .unwrap();
    assert_eq!(order.shipping.minor(), 490);
    assert_eq!(order.total.minor(), 1990);
    assert_eq!(order.vat.minor(), 250 + 82);
    // Express has no free-shipping threshold.
    let big = cart_with(&shop, &[("LAMP-1", 1)]).await;
    let express = shop
        .checkout
        .review(
            &big,
            &common::email(),
            &common::address(),
            None,
            &shop.express,
        )
        .await
        .unwrap();
    assert_eq!(express.quote.shipping.unwrap().minor(), 1290);
    assert_eq!(express.quote.total.minor(), 8900 + 1290);
    assert_eq!(express.method.days_label(), "1–2 business days");
}

/// On SQLite an order guesses its number from the last one this process gave out; orders
/// numbered meanwhile by another process (or a restored counter) make the guess wrong, and
/// the order is numbered afresh instead of failing or taking a number twice.
#[tokio::test]
async fn numbers_follow_on_after_orders_numbered_elsewhere() {
    let shop = setup().await;
    let first = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let second = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    assert_eq!((first.number, second.number), (10001, 10002));
    // Another process numbers eight orders.
    let mut tx = shop.db.begin().await.unwrap();
    sqlx::query("UPDATE order_numbers SET last = last + 8 WHERE id = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let third = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let fourth = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    assert_eq!((third.number, fourth.number), (10011, 10012));
    // And a fresh process (nothing guessed yet) continues from there.
    let restarted = common::restart(&shop.db, &shop.clock).await;
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let fifth = restarted
        .place(&order_form(&shop, &cart).await)
        .await
        .unwrap();
    assert_eq!(fifth.number, 10013);
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 5);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM outbox_events WHERE kind = 'order.placed'"
        )
        .await,
        5
    );
}

#[tokio::test]
async fn a_double_click_a_replay_and_a_second_tab_place_one_order() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-M", 3)]).await;
    let form = order_form(&shop, &cart).await;
    // Ten copies of one request at once (a double click, a replay).
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let checkout = shop.checkout.clone();
        let form = form.clone();
        tasks.push(tokio::spawn(async move { checkout.place(&form).await }));
    }
    let mut urls = Vec::new();
    for t in tasks {
        urls.push(
            t.await
                .unwrap()
                .expect("every copy gets the order")
                .payment_url,
        );
    }
    urls.dedup();
    assert_eq!(urls.len(), 1, "one order, one payment page");
    // A second tab: a new attempt with the same details.
    let tab = order_form(&shop, &cart).await;
    let again = shop.checkout.place(&tab).await.unwrap();
    assert_eq!(again.payment_url, urls[0]);
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM offline_payment_sessions").await,
        1
    );
    assert_eq!(reserved(&shop.db, "TEE-M").await, 3);
}

#[tokio::test]
async fn a_changed_cart_withdraws_the_unpaid_order_and_places_a_new_one() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-M", 3)]).await;
    let first = place(&shop, &cart).await;
    common::add_to(&shop, &cart, "TEE-S", 1).await;
    let second = place(&shop, &cart).await;
    assert_ne!(first.order_id, second.order_id);
    assert_eq!(common::status(&shop, &first).await, OrderStatus::Cancelled);
    assert_eq!(
        reserved(&shop.db, "TEE-M").await,
        3,
        "only the new order holds"
    );
    assert_eq!(reserved(&shop.db, "TEE-S").await, 1);
}

#[tokio::test]
async fn a_price_change_after_review_is_refused_and_nothing_is_written() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let form = order_form(&shop, &cart).await;
    shop_testkit::exec(
        &shop.db,
        "UPDATE product_variants SET price_minor = 1600 WHERE sku = 'TEE-S'",
    )
    .await;
    let err = shop.checkout.place(&form).await.unwrap_err();
    assert!(matches!(err, CheckoutError::Changed), "{err:?}");
    // A fingerprint made up by the browser is no better.
    let mut forged = order_form(&shop, &cart).await;
    forged.reviewed = "price=1".to_owned();
    assert!(matches!(
        shop.checkout.place(&forged).await.unwrap_err(),
        CheckoutError::Changed
    ));
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM checkout_attempts").await,
        0
    );
    assert_eq!(reserved(&shop.db, "TEE-S").await, 0);
}

#[tokio::test]
async fn shipping_methods_serve_only_their_countries_and_keys_only_their_cart() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let mut far = common::address();
    far.country = "JP".to_owned();
    let err = shop
        .checkout
        .review(&cart, &common::email(), &far, None, &shop.standard)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CheckoutError::Invalid {
                field: "shipping_method",
                ..
            }
        ),
        "{err:?}"
    );
    let unknown = checkout::ShippingMethodId::new();
    assert!(
        shop.checkout
            .review(&cart, &common::email(), &common::address(), None, &unknown)
            .await
            .is_err()
    );

    let placed = place(&shop, &cart).await;
    let key: String = sqlx::query_scalar("SELECT idempotency_key FROM checkout_attempts")
        .fetch_one(shop.db.reader())
        .await
        .unwrap();
    // Another shopper replaying that key with their own cart gets nothing of this order.
    let other = cart_with(&shop, &[("TEE-M", 1)]).await;
    let mut form = order_form(&shop, &other).await;
    form.idempotency_key = key;
    let err = shop.checkout.place(&form).await.unwrap_err();
    assert!(
        matches!(
            err,
            CheckoutError::Invalid {
                field: "idempotency_key",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(common::status(&shop, &placed).await == OrderStatus::PendingPayment);
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_buyers_for_the_last_five_units_make_exactly_five_orders() {
    let shop = setup().await;
    let mut forms = Vec::new();
    for _ in 0..50 {
        let cart = cart_with(&shop, &[("LAMP-1", 1)]).await;
        forms.push(order_form(&shop, &cart).await);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for form in forms {
        let checkout = shop.checkout.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            checkout.place(&form).await
        }));
    }
    let (mut numbers, mut sold_out) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(placed) => numbers.push(placed.number),
            Err(CheckoutError::SoldOut(name)) => {
                assert_eq!(name, "Harbour Lamp");
                sold_out += 1;
            }
            Err(e) => panic!("unexpected: {e:?}"),
        }
    }
    assert_eq!((numbers.len(), sold_out), (5, 45));
    // The refused orders used up no number: the five follow on from the first.
    numbers.sort_unstable();
    assert_eq!(numbers, (10001..=10005).collect::<Vec<_>>());
    assert_eq!(reserved(&shop.db, "LAMP-1").await, 5);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM product_variants WHERE on_hand - reserved < 0"
        )
        .await,
        0
    );
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 5);
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM order_lines").await, 5);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM carts WHERE order_id IS NOT NULL"
        )
        .await,
        5,
        "the sold-out carts are untouched"
    );
}

#[tokio::test]
async fn a_customers_history_holds_their_orders_and_guest_orders_of_their_confirmed_address() {
    let shop = setup().await;
    let people = shop_testkit::catalog::people(&shop.db, &shop.clock).await;
    let customer = people.admin.actor.user_id.clone().unwrap();
    // As a guest with the customer's address, then signed in, then someone else's order.
    let guest = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    let mut form = order_form(&shop, &cart_with(&shop, &[("TEE-M", 2)]).await).await;
    form.customer = Some(customer.clone());
    let own = shop.checkout.place(&form).await.unwrap();
    let mut other = order_form(&shop, &cart_with(&shop, &[("TEE-M", 3)]).await).await;
    other.email = shop_core::Email::parse("someone@example.com").unwrap();
    other.reviewed = shop
        .checkout
        .review(
            &other.cart,
            &other.email,
            &common::address(),
            None,
            &shop.standard,
        )
        .await
        .unwrap()
        .fingerprint;
    shop.checkout.place(&other).await.unwrap();

    let numbers = |list: Vec<checkout::OrderSummary>| -> Vec<i64> {
        list.into_iter().map(|o| o.number).collect()
    };
    // Before the address is confirmed: only the order placed signed in.
    let (list, more) = checkout::orders::for_customer(&shop.db, &customer, None, 1, 20)
        .await
        .unwrap();
    assert_eq!((numbers(list), more), (vec![own.number], false));
    // Confirmed: the guest order with that address joins, newest first.
    let (list, _) =
        checkout::orders::for_customer(&shop.db, &customer, Some("ada@example.com"), 1, 20)
            .await
            .unwrap();
    assert_eq!(numbers(list), vec![own.number, guest.number]);
    // Pages.
    let (list, more) =
        checkout::orders::for_customer(&shop.db, &customer, Some("ada@example.com"), 1, 1)
            .await
            .unwrap();
    assert_eq!((numbers(list), more), (vec![own.number], true));
}

#[tokio::test]
async fn a_shoppers_own_hold_never_makes_their_cart_look_sold_out() {
    let shop = setup().await;
    // Every unit of the small tee, held by the shopper's own unpaid order.
    let cart = cart_with(&shop, &[("TEE-S", 5)]).await;
    let first = place(&shop, &cart).await;
    assert_eq!(reserved(&shop.db, "TEE-S").await, 5);
    // Back from the payment page (cancelled there): the cart is whole and can be placed
    // again, which finds the same order.
    let held = checkout::orders::held_for_cart(&shop.db, &cart)
        .await
        .unwrap();
    let seen = cart::load_holding(&shop.db, &cart, &held).await.unwrap();
    assert!(seen.ready_for_checkout, "{seen:?}");
    assert_eq!(place(&shop, &cart).await.order_id, first.order_id);
    // Nobody else can have them meanwhile.
    let other = cart::create_guest(&shop.db, &shop.clock).await.unwrap();
    let tee = shop_testkit::variant_id(&shop.db, "TEE-S").await;
    assert!(matches!(
        cart::add(
            &shop.db,
            &shop.clock,
            &other,
            &tee,
            cart::Quantity::new(1).unwrap()
        )
        .await,
        Err(cart::CartError::OutOfStock)
    ));
    // One fewer: changing the cart withdraws the old order; a new one holds 4.
    let line = seen.lines[0].id.clone();
    shop.checkout.cart_changing(&cart).await.unwrap();
    assert_eq!(common::status(&shop, &first).await, OrderStatus::Cancelled);
    cart::set_quantity(
        &shop.db,
        &shop.clock,
        &cart,
        &line,
        cart::Quantity::new(4).unwrap(),
    )
    .await
    .unwrap();
    let second = place(&shop, &cart).await;
    assert_ne!(second.order_id, first.order_id);
    assert_eq!(common::status(&shop, &first).await, OrderStatus::Cancelled);
    assert_eq!(reserved(&shop.db, "TEE-S").await, 4);
}

#[tokio::test]
async fn a_stale_tab_withdraws_nothing() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-M", 1)]).await;
    let stale = order_form(&shop, &cart).await;
    common::add_to(&shop, &cart, "TEE-M", 1).await;
    let placed = place(&shop, &cart).await;
    // The older tab's form, for the cart as it was, is refused and leaves the order alone.
    assert!(matches!(
        shop.checkout.place(&stale).await,
        Err(CheckoutError::Changed)
    ));
    assert_eq!(
        common::status(&shop, &placed).await,
        OrderStatus::PendingPayment
    );
}
