//! Housekeeping of stale guest carts.

use crate::common::{q, setup};
use shop_testkit::variant_id;

#[tokio::test]
async fn stale_guest_carts_are_deleted_and_customer_carts_kept() {
    let (db, clock, _dir) = setup().await;
    let empty = cart::create_guest(&db, &clock).await.unwrap();
    let full = cart::create_guest(&db, &clock).await.unwrap();
    cart::add(&db, &clock, &full, &variant_id(&db, "TEE-S").await, q(1))
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
