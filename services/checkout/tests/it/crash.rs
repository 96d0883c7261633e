//! Crash safety. With a provider behind an API (Stripe; here the offline provider acting as
//! one), the process may stop after the order commits but before the payment session
//! exists, or after the session exists but before its id is saved. After a restart there is
//! one order, at most one session, and the shopper can still pay, or the order expires.
//! With the offline provider, the order and its session commit together.

use std::time::Duration;

use checkout::{CheckoutError, FailPoint, OrderStatus};
use shop_testkit::count;

use crate::common::{cart_with, order_form, pay, reserved, restart, restart_remote, setup, status};

#[tokio::test]
async fn a_crash_before_the_session_is_created_leaves_an_order_that_can_be_paid() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 2)]).await;
    let form = order_form(&shop, &cart).await;
    let crashing = restart_remote(&shop.db, &shop.clock)
        .await
        .failing_at(FailPoint::AfterOrderCommitted);
    let err = crashing.place(&form).await.unwrap_err();
    assert!(matches!(err, CheckoutError::Interrupted(_)));
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM offline_payment_sessions").await,
        0
    );

    // Restarted, the shopper's browser sends the form again.
    let checkout = restart_remote(&shop.db, &shop.clock).await;
    let placed = checkout.place(&form).await.unwrap();
    assert_eq!(count(&shop.db, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM offline_payment_sessions").await,
        1
    );
    pay(&shop, &placed).await;
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
}

#[tokio::test]
async fn a_crash_after_the_session_is_created_reuses_that_session() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let form = order_form(&shop, &cart).await;
    let crashing = restart_remote(&shop.db, &shop.clock)
        .await
        .failing_at(FailPoint::AfterSessionCreated);
    assert!(crashing.place(&form).await.is_err());
    let session: String = sqlx::query_scalar("SELECT id FROM offline_payment_sessions")
        .fetch_one(shop.db.reader())
        .await
        .unwrap();
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM orders WHERE payment_session_id IS NULL"
        )
        .await,
        1,
        "the id was never saved"
    );
    let checkout = restart_remote(&shop.db, &shop.clock).await;
    let placed = checkout.place(&form).await.unwrap();
    assert!(
        placed.payment_url.ends_with(&session),
        "the same session, not a second one"
    );
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM offline_payment_sessions").await,
        1
    );
    pay(&shop, &placed).await;
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
}

#[tokio::test]
async fn an_order_abandoned_by_a_crash_expires_and_releases_its_units() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("LAMP-1", 2)]).await;
    let form = order_form(&shop, &cart).await;
    let crashing = restart_remote(&shop.db, &shop.clock)
        .await
        .failing_at(FailPoint::AfterOrderCommitted);
    assert!(crashing.place(&form).await.is_err());
    assert_eq!(reserved(&shop.db, "LAMP-1").await, 2);
    shop.clock.advance(Duration::from_secs(40 * 60));
    let checkout = restart_remote(&shop.db, &shop.clock).await;
    let swept = checkout.sweep().await.unwrap();
    assert_eq!(swept.expired, 1);
    assert_eq!(reserved(&shop.db, "LAMP-1").await, 0);
    assert_eq!(
        cart::checkout::pending_order(&shop.db, &cart)
            .await
            .unwrap(),
        None
    );
    // The old form now says the time ran out; a new review places a new order.
    assert!(matches!(
        checkout.place(&form).await,
        Err(CheckoutError::Invalid { .. })
    ));
    let again = checkout
        .place(&order_form(&shop, &cart).await)
        .await
        .unwrap();
    assert_eq!(status(&shop, &again).await, OrderStatus::PendingPayment);
}

#[tokio::test]
async fn with_the_offline_provider_the_order_and_its_session_commit_together() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let form = order_form(&shop, &cart).await;
    let crashing = shop
        .checkout
        .clone()
        .failing_at(FailPoint::AfterOrderCommitted);
    assert!(matches!(
        crashing.place(&form).await,
        Err(CheckoutError::Interrupted(_))
    ));
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM orders o JOIN offline_payment_sessions s
             ON s.id = o.payment_session_id AND s.order_id = o.id"
        )
        .await,
        1,
        "the order committed with its session"
    );
    let checkout = restart(&shop.db, &shop.clock).await;
    let placed = checkout.place(&form).await.unwrap();
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM offline_payment_sessions").await,
        1
    );
    pay(&shop, &placed).await;
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
}
