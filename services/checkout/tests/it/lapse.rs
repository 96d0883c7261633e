//! The end of a payment window: the sweeper and an expired event racing release the units
//! once; the reconciler finds a payment whose event never came.

use std::time::Duration;

use checkout::OrderStatus;
use checkout::payment::{OfflineChoice, OfflineProvider};

use crate::common::{BASE, cart_with, on_hand, place, reserved, session_of, setup, status};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sweeper_and_an_expired_event_release_the_units_once() {
    let shop = setup().await;
    // Another order holds 2 units of the same variant: a double release would eat its hold.
    let other = place(&shop, &cart_with(&shop, &[("TEE-M", 2)]).await).await;
    let cart = cart_with(&shop, &[("TEE-M", 3)]).await;
    let placed = place(&shop, &cart).await;
    assert_eq!(reserved(&shop.db, "TEE-M").await, 5);
    shop.clock.advance(Duration::from_secs(35 * 60));
    let provider = OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE);
    let session = provider
        .choose(&session_of(&placed), OfflineChoice::Cancel, false)
        .await
        .unwrap()
        .unwrap();
    let (sweep, event) = tokio::join!(
        shop.checkout.sweep(),
        shop.checkout
            .deliver_offline("checkout.session.expired", &session)
    );
    let swept = sweep.unwrap();
    event.unwrap();
    assert_eq!(status(&shop, &placed).await, OrderStatus::Expired);
    assert_eq!(
        status(&shop, &other).await,
        OrderStatus::Expired,
        "its window closed too"
    );
    assert_eq!(swept.paid, 0);
    assert_eq!(reserved(&shop.db, "TEE-M").await, 0);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, 200);
    // Released once: the order says so, and the cart is usable again with its lines.
    assert_eq!(
        shop_testkit::count(
            &shop.db,
            "SELECT COUNT(*) FROM orders WHERE stock = 'released'"
        )
        .await,
        2
    );
    assert_eq!(
        cart::checkout::pending_order(&shop.db, &cart)
            .await
            .unwrap(),
        None
    );
    assert_eq!(cart::units(&shop.db, &cart).await.unwrap(), 3);
    // A second sweep finds nothing.
    assert_eq!(
        shop.checkout.sweep().await.unwrap(),
        checkout::lapse::Swept::default()
    );
}

#[tokio::test]
async fn the_sweeper_leaves_open_windows_alone() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    shop.clock.advance(Duration::from_secs(31 * 60));
    // Closed a minute ago: still within the grace period.
    assert_eq!(
        shop.checkout.sweep().await.unwrap(),
        checkout::lapse::Swept::default()
    );
    assert_eq!(status(&shop, &placed).await, OrderStatus::PendingPayment);
    assert_eq!(reserved(&shop.db, "TEE-S").await, 1);
}

#[tokio::test]
async fn the_reconciler_finds_a_payment_whose_event_was_lost() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 2)]).await).await;
    // Paid on the provider's page; the event never reaches the shop.
    OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE)
        .choose(&session_of(&placed), OfflineChoice::Pay, false)
        .await
        .unwrap()
        .unwrap();
    shop.clock.advance(Duration::from_secs(35 * 60));
    let swept = shop.checkout.sweep().await.unwrap();
    assert_eq!(swept.paid, 1);
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, 3);
    assert_eq!(reserved(&shop.db, "TEE-S").await, 0);
    let order = checkout::orders::load(&shop.db, &placed.order_id)
        .await
        .unwrap();
    assert_eq!(order.history.last().unwrap().actor, "reconciler");
}

#[tokio::test]
async fn an_order_the_provider_cannot_answer_for_does_not_hold_up_the_others() {
    let shop = setup().await;
    let lost = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let other = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    // The first order's session is unknown to the provider (it was opened elsewhere).
    shop_testkit::exec(
        &shop.db,
        &format!(
            "UPDATE orders SET payment_session_id = 'cs_offline_gone' WHERE id = '{}'",
            lost.order_id
        ),
    )
    .await;
    shop.clock.advance(Duration::from_secs(35 * 60));
    let swept = shop.checkout.sweep().await.unwrap();
    assert_eq!(swept.expired, 2);
    assert_eq!(status(&shop, &lost).await, OrderStatus::Expired);
    assert_eq!(status(&shop, &other).await, OrderStatus::Expired);
    assert_eq!(reserved(&shop.db, "TEE-S").await, 0);
}

#[tokio::test]
async fn a_flagged_order_is_left_to_staff_and_flagged_once() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let mut session = OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE)
        .choose(&session_of(&placed), OfflineChoice::Pay, false)
        .await
        .unwrap()
        .unwrap();
    session.amount_minor += 100;
    for _ in 0..3 {
        shop.checkout
            .deliver_offline("checkout.session.completed", &session)
            .await
            .unwrap();
    }
    shop.clock.advance(Duration::from_secs(35 * 60));
    assert_eq!(
        shop.checkout.sweep().await.unwrap(),
        checkout::lapse::Swept::default()
    );
    let order = checkout::orders::load(&shop.db, &placed.order_id)
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::PendingPayment);
    let flags = order
        .history
        .iter()
        .filter(|e| e.kind == "payment_mismatch")
        .count();
    assert_eq!(flags, 1);
}
