//! A guest cart merging into the customer's cart at sign-in.

use crate::common::{q, setup};
use shop_testkit::variant_id;

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
    let s = variant_id(&db, "TEE-S").await;
    let m = variant_id(&db, "TEE-M").await;
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
