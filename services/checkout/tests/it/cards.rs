//! Saved cards through the offline provider (it keeps them as Stripe would): a signed-in
//! shopper's payment page may save the card, the shopper lists and removes their own, and
//! nobody else's.

use checkout::payment::{OfflineChoice, OfflineProvider, offline_session};

use crate::common::*;

#[tokio::test]
async fn a_customer_saves_a_card_when_paying_and_only_they_can_remove_it() {
    let shop = setup().await;
    let ada = shop_testkit::catalog::customer(&shop.db, &shop.clock, "ada@example.com").await;
    let bob = shop_testkit::catalog::customer(&shop.db, &shop.clock, "bob@example.com").await;
    assert!(shop.checkout.saved_cards(&ada).await.unwrap().is_empty());

    // A guest's session has no customer: nothing can be saved.
    let guest = place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    let session = offline_session(&shop.db, &session_of(&guest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.customer_id, None);

    // Ada's order: her session names her customer, made once however often she checks out.
    let mut form = order_form(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await;
    form.customer = Some(ada.clone());
    let placed = shop.checkout.place(&form).await.unwrap();
    let customer = offline_session(&shop.db, &session_of(&placed))
        .await
        .unwrap()
        .unwrap()
        .customer_id
        .expect("a customer for a signed-in shopper");
    assert_eq!(
        shop.checkout
            .payment_customer(&ada, "ada@example.com")
            .await
            .unwrap(),
        customer
    );
    assert_eq!(
        shop_testkit::count(&shop.db, "SELECT COUNT(*) FROM payment_customers").await,
        1
    );

    // She pays and ticks "save this card".
    let provider = OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE);
    provider
        .choose(&session_of(&placed), OfflineChoice::Pay, true)
        .await
        .unwrap()
        .expect("open");
    let cards = shop.checkout.saved_cards(&ada).await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].brand.as_str(), cards[0].last4.as_str()),
        ("visa", "4242")
    );
    assert!(cards[0].exp_year > 2026 && (1..=12).contains(&cards[0].exp_month));

    // Paying a guest's session with the box ticked (a tampered form) saves nothing.
    provider
        .choose(&session_of(&guest), OfflineChoice::Pay, true)
        .await
        .unwrap();
    assert_eq!(
        shop_testkit::count(&shop.db, "SELECT COUNT(*) FROM offline_payment_methods").await,
        1
    );

    // Bob sees none of it and cannot remove it; unknown and absurd ids are not found.
    assert!(shop.checkout.saved_cards(&bob).await.unwrap().is_empty());
    for (who, card) in [
        (&bob, cards[0].id.clone()),
        (&ada, "pm_offline_nope".to_owned()),
        (&ada, "x".repeat(5000)),
    ] {
        assert!(matches!(
            shop.checkout.remove_card(who, &card).await,
            Err(checkout::CheckoutError::NotFound)
        ));
    }
    assert_eq!(shop.checkout.saved_cards(&ada).await.unwrap().len(), 1);

    // Ada removes it, once.
    shop.checkout.remove_card(&ada, &cards[0].id).await.unwrap();
    assert!(shop.checkout.saved_cards(&ada).await.unwrap().is_empty());
    assert!(matches!(
        shop.checkout.remove_card(&ada, &cards[0].id).await,
        Err(checkout::CheckoutError::NotFound)
    ));
}
