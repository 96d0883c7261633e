//! Provider events at the webhook: duplicates, events out of order, amounts that do not
//! match, and signatures that are missing, stale, wrong or over a changed body.

use checkout::OrderStatus;
use checkout::payment::{OfflineChoice, OfflineProvider};
use checkout::webhook::{Receipt, WebhookError, offline_event, signature_header};
use shop_testkit::count;

use crate::common::{BASE, cart_with, on_hand, pay, place, reserved, session_of, setup, status};

async fn session(
    shop: &crate::common::Shop,
    placed: &checkout::Placed,
    choice: OfflineChoice,
) -> checkout::payment::OfflineSession {
    OfflineProvider::new(shop.db.clone(), shop.clock.clone(), BASE)
        .choose(&session_of(placed), choice, false)
        .await
        .unwrap()
        .expect("an open session")
}

fn now(shop: &crate::common::Shop) -> i64 {
    shop.clock.now().millis() / 1000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_event_delivered_a_hundred_times_pays_once() {
    let shop = setup().await;
    let cart = cart_with(&shop, &[("TEE-S", 2)]).await;
    let placed = place(&shop, &cart).await;
    let s = session(&shop, &placed, OfflineChoice::Pay).await;
    let body = offline_event("checkout.session.completed", &s, now(&shop));
    let secret = shop.checkout.keys().offline_webhook.clone();
    // 50 at once, then 50 one after another.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let checkout = shop.checkout.clone();
        let header = signature_header(&body, &secret, now(&shop));
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            checkout.receive(Some(&header), &body).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        match t.await.unwrap().expect("accepted") {
            Receipt::Applied { outcome } => {
                assert_eq!(outcome, "paid");
                applied += 1;
            }
            Receipt::Duplicate => {}
        }
    }
    for _ in 0..50 {
        let header = signature_header(&body, &secret, now(&shop));
        assert_eq!(
            shop.checkout.receive(Some(&header), &body).await.unwrap(),
            Receipt::Duplicate
        );
    }
    assert_eq!(applied, 1);
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, 3, "sold once");
    assert_eq!(reserved(&shop.db, "TEE-S").await, 0);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM outbox_events WHERE kind = 'order.paid'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM payment_events").await,
        1
    );
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM stock_adjustments WHERE reason = 'order' AND note = 'HS-10001'"
        )
        .await,
        1
    );
    // The bought units left the cart, which can be used again.
    assert_eq!(cart::units(&shop.db, &cart).await.unwrap(), 0);
    assert_eq!(
        cart::checkout::pending_order(&shop.db, &cart)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn completed_then_expired_stays_paid() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    pay(&shop, &placed).await;
    let s = session(
        &shop,
        &place(&shop, &cart_with(&shop, &[("TEE-M", 1)]).await).await,
        OfflineChoice::Cancel,
    )
    .await;
    // An expired event for the paid order's session (late, out of order).
    let mut expired = s.clone();
    expired.id = session_of(&placed);
    expired.order_id = placed.order_id.to_string();
    let r = shop
        .checkout
        .deliver_offline("checkout.session.expired", &expired)
        .await
        .unwrap();
    assert_eq!(
        r,
        Receipt::Applied {
            outcome: "unchanged"
        }
    );
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, 4);
    assert_eq!(reserved(&shop.db, "TEE-S").await, 0);
}

#[tokio::test]
async fn expired_then_completed_keeps_the_payment_and_flags_missing_stock() {
    let shop = setup().await;
    // In stock again: the late payment takes its units.
    let a = place(&shop, &cart_with(&shop, &[("TEE-M", 2)]).await).await;
    let s = session(&shop, &a, OfflineChoice::Pay).await;
    let mut expired = s.clone();
    expired.status = "expired".to_owned();
    expired.payment_status = "unpaid".to_owned();
    shop.checkout
        .deliver_offline("checkout.session.expired", &expired)
        .await
        .unwrap();
    assert_eq!(status(&shop, &a).await, OrderStatus::Expired);
    assert_eq!(reserved(&shop.db, "TEE-M").await, 0);
    shop.checkout
        .deliver_offline("checkout.session.completed", &s)
        .await
        .unwrap();
    assert_eq!(status(&shop, &a).await, OrderStatus::Paid);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, 198);
    let order = checkout::orders::load(&shop.db, &a.order_id).await.unwrap();
    assert_eq!(order.review_reason, None);

    // Gone meanwhile: the payment is kept, the order flagged for staff.
    let b = place(&shop, &cart_with(&shop, &[("LAMP-1", 5)]).await).await;
    let s = session(&shop, &b, OfflineChoice::Pay).await;
    let mut expired = s.clone();
    expired.status = "expired".to_owned();
    shop.checkout
        .deliver_offline("checkout.session.expired", &expired)
        .await
        .unwrap();
    place(&shop, &cart_with(&shop, &[("LAMP-1", 5)]).await).await;
    let r = shop
        .checkout
        .deliver_offline("checkout.session.completed", &s)
        .await
        .unwrap();
    assert_eq!(
        r,
        Receipt::Applied {
            outcome: "paid_flagged"
        }
    );
    let order = checkout::orders::load(&shop.db, &b.order_id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert!(order.review_reason.unwrap().contains("no longer in stock"));
    assert_eq!(
        reserved(&shop.db, "LAMP-1").await,
        5,
        "the other buyer's hold is intact"
    );
    assert_eq!(on_hand(&shop.db, "LAMP-1").await, 5);

    // Staff refund the units that were never there, ticking "restock": the money goes
    // back, but no lamp that was never taken from the shelf is put back on it.
    let line = order.lines[0].clone();
    assert_eq!((line.unsold, line.restockable()), (5, 0));
    let refund = shop
        .checkout
        .refund(
            &checkout::fulfil::Operator::Staff(shop_core::audit::Actor::system("boss@example.com")),
            &b.order_id,
            &checkout::refund::RefundItems {
                lines: vec![checkout::refund::RefundLine {
                    line_id: line.id.clone(),
                    quantity: 5,
                    sent: 0,
                    restock: true,
                }],
                extra_minor: 0,
                reason: "out of stock".to_owned(),
                id: None,
            },
        )
        .await
        .expect("refund the missing lamps");
    assert_eq!(refund.status, checkout::RefundStatus::Succeeded);
    assert_eq!(refund.lines[0].restocked, 0);
    assert_eq!(on_hand(&shop.db, "LAMP-1").await, 5, "nothing restocked");
    assert_eq!(reserved(&shop.db, "LAMP-1").await, 5);
}

#[tokio::test]
async fn a_payment_that_does_not_match_the_order_is_flagged_not_paid() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let mut s = session(&shop, &placed, OfflineChoice::Pay).await;
    s.amount_minor -= 1;
    let r = shop
        .checkout
        .deliver_offline("checkout.session.completed", &s)
        .await
        .unwrap();
    assert_eq!(r, Receipt::Applied { outcome: "flagged" });
    s.amount_minor += 1;
    s.currency = "USD".to_owned();
    shop.checkout
        .deliver_offline("checkout.session.completed", &s)
        .await
        .unwrap();
    let order = checkout::orders::load(&shop.db, &placed.order_id)
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert!(order.review_reason.unwrap().contains("does not match"));
    assert_eq!(reserved(&shop.db, "TEE-S").await, 1);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM outbox_events WHERE kind = 'order.paid'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn bad_signatures_are_refused_and_change_nothing() {
    let shop = setup().await;
    let placed = place(&shop, &cart_with(&shop, &[("TEE-S", 1)]).await).await;
    let s = session(&shop, &placed, OfflineChoice::Pay).await;
    let t = now(&shop);
    let body = offline_event("checkout.session.completed", &s, t);
    let secret = shop.checkout.keys().offline_webhook.clone();
    let mut changed = body.clone();
    let at = changed.iter().position(|b| *b == b'7').unwrap_or(10);
    changed[at] = b'8';
    for (header, body) in [
        (None, body.clone()),
        (
            Some(signature_header(&body, &secret, t - 301)),
            body.clone(),
        ),
        (
            Some(signature_header(&body, "whsec_wrong", t)),
            body.clone(),
        ),
        (Some(signature_header(&body, &secret, t)), changed),
        (Some("t=1,v1=zz".to_owned()), body.clone()),
        (
            Some(signature_header(b"not json", &secret, t)),
            b"not json".to_vec(),
        ),
    ] {
        let r = shop.checkout.receive(header.as_deref(), &body).await;
        assert!(
            matches!(r, Err(WebhookError::Rejected(_))),
            "{header:?}: {r:?}"
        );
    }
    assert_eq!(status(&shop, &placed).await, OrderStatus::PendingPayment);
    assert_eq!(
        count(&shop.db, "SELECT COUNT(*) FROM payment_events").await,
        0
    );
    // The genuine one still works afterwards.
    let header = signature_header(&body, &secret, t);
    shop.checkout.receive(Some(&header), &body).await.unwrap();
    assert_eq!(status(&shop, &placed).await, OrderStatus::Paid);
}
