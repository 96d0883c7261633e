//! After payment: shipping (all or part), delivery, refunds and cancellations through the
//! provider, the state machine's legal and illegal moves, restocking exactly once, refunds
//! made in the provider's dashboard, vendors' isolation and customers' own cancellations.

use checkout::fulfil::{Operator, ShipItems};
use checkout::refund::{RefundItems, RefundLine};
use checkout::webhook::signature_header;
use checkout::{CheckoutError, Fulfilment, Order, OrderStatus, Placed, RefundStatus};
use shop_core::audit::Actor;
use shop_testkit::count;

use crate::common::{
    Refunds, Shop, cart_with, flaky, on_hand, order_form, pay, place, setup, status,
};

fn staff() -> Operator {
    Operator::Staff(Actor::system("boss@example.com"))
}

fn dhl() -> ShipItems {
    ShipItems {
        lines: Vec::new(),
        carrier: "DHL".to_owned(),
        tracking_number: "JD0146000033".to_owned(),
    }
}

async fn paid(shop: &Shop, items: &[(&str, i64)]) -> Placed {
    let cart = cart_with(shop, items).await;
    let placed = place(shop, &cart).await;
    pay(shop, &placed).await;
    placed
}

async fn order(shop: &Shop, placed: &Placed) -> Order {
    checkout::orders::load(&shop.db, &placed.order_id)
        .await
        .unwrap()
}

async fn events(shop: &Shop, kind: &str) -> i64 {
    count(
        &shop.db,
        &format!("SELECT COUNT(*) FROM outbox_events WHERE kind = '{kind}'"),
    )
    .await
}

fn line_of(o: &Order, sku: &str) -> String {
    o.lines.iter().find(|l| l.sku == sku).unwrap().id.clone()
}

fn refund_of(line: String, quantity: i64, restock: bool) -> RefundItems {
    RefundItems {
        lines: vec![RefundLine {
            line_id: line,
            quantity,
            sent: 0,
            restock,
        }],
        extra_minor: 0,
        reason: String::new(),
        id: None,
    }
}

fn extra(minor: i64) -> RefundItems {
    RefundItems {
        lines: Vec::new(),
        extra_minor: minor,
        reason: "shipping".to_owned(),
        id: None,
    }
}

/// A signed Stripe-shaped `refund.updated` event about `refund` (the shop's id in metadata,
/// when given) on the order's payment.
fn refund_event(
    shop: &Shop,
    o: &Order,
    provider_id: &str,
    refund: Option<&str>,
    amount: i64,
    state: &str,
) -> (String, Vec<u8>) {
    let mut metadata = serde_json::json!({ "order_id": o.id });
    if let Some(r) = refund {
        metadata["refund_id"] = serde_json::json!(r);
    }
    let body = serde_json::to_vec(&serde_json::json!({
        "id": format!("evt_{}", shop_core::id::new_uuid_v7().replace('-', "")),
        "object": "event",
        "type": "refund.updated",
        "data": { "object": {
            "id": provider_id, "object": "refund", "amount": amount, "currency": "eur",
            "status": state, "payment_intent": o.payment_intent_id, "metadata": metadata,
        }},
    }))
    .unwrap();
    let now = shop.clock.now().millis() / 1000;
    (
        signature_header(&body, &shop.checkout.keys().offline_webhook, now),
        body,
    )
}

#[tokio::test]
async fn shipping_everything_fulfils_the_order_and_delivery_follows() {
    let shop = setup().await;
    let placed = paid(&shop, &[("TEE-S", 2), ("LAMP-1", 1)]).await;
    shop.checkout
        .ship(&staff(), &placed.order_id, &dhl())
        .await
        .expect("ship");
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Fulfilled);
    assert_eq!(o.fulfilment, Fulfilment::Shipped);
    assert_eq!(o.units_to_ship(), 0);
    assert_eq!(o.shipments.len(), 1);
    assert_eq!(o.shipments[0].lines.len(), 2);
    assert!(
        o.shipments[0]
            .tracking_url
            .as_deref()
            .is_some_and(|u| u.contains("JD0146000033")),
        "{:?}",
        o.shipments[0]
    );
    let shipped = o.history.iter().find(|e| e.kind == "shipped").unwrap();
    assert!(shipped.note.contains("3 units by DHL"), "{}", shipped.note);
    assert_eq!(shipped.actor, "staff: boss@example.com");
    assert_eq!(events(&shop, "order.shipped").await, 1);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'order.shipped'"
        )
        .await,
        1
    );

    shop.checkout
        .deliver(&staff(), &placed.order_id)
        .await
        .expect("deliver");
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Delivered);
    assert_eq!(o.fulfilment, Fulfilment::Delivered);
    assert!(o.shipments[0].delivered_at.is_some());
    assert_eq!(events(&shop, "order.delivered").await, 1);
    // Neither happens twice.
    assert!(matches!(
        shop.checkout.deliver(&staff(), &placed.order_id).await,
        Err(CheckoutError::Invalid { .. })
    ));
    assert!(matches!(
        shop.checkout.ship(&staff(), &placed.order_id, &dhl()).await,
        Err(CheckoutError::IllegalTransition {
            from: OrderStatus::Delivered,
            ..
        })
    ));
    assert_eq!(events(&shop, "order.delivered").await, 1);
}

#[tokio::test]
async fn a_partial_shipment_leaves_the_rest_to_ship() {
    let shop = setup().await;
    let placed = paid(&shop, &[("TEE-M", 5), ("LAMP-1", 1)]).await;
    let o = order(&shop, &placed).await;
    let tee = line_of(&o, "TEE-M");
    let some = |q: i64| ShipItems {
        lines: vec![(tee.clone(), q)],
        ..dhl()
    };
    shop.checkout
        .ship(&staff(), &placed.order_id, &some(2))
        .await
        .expect("ship two");
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(o.fulfilment, Fulfilment::Partial);
    assert_eq!(o.units_to_ship(), 4);
    // More than is left, nothing, a line twice, a line of another order: refused.
    for bad in [
        some(4),
        some(0),
        some(-1),
        ShipItems {
            lines: vec![(tee.clone(), 1), (tee.clone(), 1)],
            ..dhl()
        },
        ShipItems {
            lines: vec![("not-a-line".to_owned(), 1)],
            ..dhl()
        },
        ShipItems {
            carrier: "   ".to_owned(),
            ..dhl()
        },
        ShipItems {
            carrier: "D".repeat(101),
            ..dhl()
        },
        ShipItems {
            tracking_number: "12\u{0}34".to_owned(),
            ..dhl()
        },
    ] {
        assert!(
            matches!(
                shop.checkout.ship(&staff(), &placed.order_id, &bad).await,
                Err(CheckoutError::Invalid { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        shop.checkout.deliver(&staff(), &placed.order_id).await,
        Err(CheckoutError::Invalid { .. })
    ));
    // The rest.
    shop.checkout
        .ship(&staff(), &placed.order_id, &dhl())
        .await
        .expect("ship the rest");
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Fulfilled);
    assert_eq!(o.fulfilment, Fulfilment::Shipped);
    assert_eq!(o.shipments.len(), 2);
    assert_eq!(o.lines.iter().map(|l| l.shipped).sum::<i64>(), 6);
    assert!(matches!(
        shop.checkout.ship(&staff(), &placed.order_id, &dhl()).await,
        Err(CheckoutError::IllegalTransition { .. })
    ));
}

#[tokio::test]
async fn illegal_moves_are_refused_with_a_clear_error_and_change_nothing() {
    let shop = setup().await;
    // Unpaid.
    let cart = cart_with(&shop, &[("TEE-S", 1)]).await;
    let unpaid = place(&shop, &cart).await;
    let err = shop
        .checkout
        .ship(&staff(), &unpaid.order_id, &dhl())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "An order that is awaiting payment cannot become shipped."
    );
    assert!(matches!(
        shop.checkout
            .refund(&staff(), &unpaid.order_id, &extra(100))
            .await,
        Err(CheckoutError::IllegalTransition { .. })
    ));
    assert!(matches!(
        shop.checkout.cancel(&staff(), &unpaid.order_id, "").await,
        Err(CheckoutError::IllegalTransition { .. })
    ));
    assert!(
        shop.checkout
            .deliver(&staff(), &unpaid.order_id)
            .await
            .is_err()
    );
    assert_eq!(status(&shop, &unpaid).await, OrderStatus::PendingPayment);

    // Cancelled.
    let placed = paid(&shop, &[("TEE-M", 1)]).await;
    shop.checkout
        .cancel(&staff(), &placed.order_id, "customer asked")
        .await
        .expect("cancel");
    assert_eq!(status(&shop, &placed).await, OrderStatus::Cancelled);
    for result in [
        shop.checkout
            .ship(&staff(), &placed.order_id, &dhl())
            .await
            .map(|_| ()),
        shop.checkout
            .refund(&staff(), &placed.order_id, &extra(1))
            .await
            .map(|_| ()),
        shop.checkout
            .cancel(&staff(), &placed.order_id, "")
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(CheckoutError::IllegalTransition { .. })),
            "{result:?}"
        );
    }

    // Shipped: no cancelling, refunds only.
    let shipped = paid(&shop, &[("TEE-M", 1)]).await;
    shop.checkout
        .ship(&staff(), &shipped.order_id, &dhl())
        .await
        .unwrap();
    let err = shop
        .checkout
        .cancel(&staff(), &shipped.order_id, "")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "An order that is shipped cannot become cancelled."
    );
    assert_eq!(status(&shop, &shipped).await, OrderStatus::Fulfilled);
    // Partly shipped: still no cancelling.
    let partly = paid(&shop, &[("TEE-M", 2)]).await;
    let line = line_of(&order(&shop, &partly).await, "TEE-M");
    shop.checkout
        .ship(
            &staff(),
            &partly.order_id,
            &ShipItems {
                lines: vec![(line, 1)],
                ..dhl()
            },
        )
        .await
        .unwrap();
    let err = shop
        .checkout
        .cancel(&staff(), &partly.order_id, "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already shipped"), "{err}");
    assert_eq!(status(&shop, &partly).await, OrderStatus::Paid);
    // Unknown orders.
    let nobody = checkout::OrderId::new();
    assert!(matches!(
        shop.checkout.ship(&staff(), &nobody, &dhl()).await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.refund(&staff(), &nobody, &extra(1)).await,
        Err(CheckoutError::NotFound)
    ));
}

#[tokio::test]
async fn refunding_shipped_units_leaves_the_unshipped_ones_to_ship() {
    let shop = setup().await;
    let before = on_hand(&shop.db, "TEE-M").await;
    let placed = paid(&shop, &[("TEE-M", 4)]).await;
    let tee = line_of(&order(&shop, &placed).await, "TEE-M");
    shop.checkout
        .ship(
            &staff(),
            &placed.order_id,
            &ShipItems {
                lines: vec![(tee.clone(), 2)],
                ..dhl()
            },
        )
        .await
        .expect("ship two");
    let units = |quantity: i64, sent: i64, restock: bool| RefundItems {
        lines: vec![RefundLine {
            line_id: tee.clone(),
            quantity,
            sent,
            restock,
        }],
        extra_minor: 0,
        reason: "returned".to_owned(),
        id: None,
    };
    // One shipped unit comes back: the two not shipped are still owed.
    shop.checkout
        .refund(&staff(), &placed.order_id, &units(0, 1, true))
        .await
        .expect("refund a returned unit");
    let o = order(&shop, &placed).await;
    let line = o.lines[0].clone();
    assert_eq!(
        (line.refunded, line.refunded_sent, line.to_ship()),
        (1, 1, 2)
    );
    assert_eq!(o.fulfilment, Fulfilment::Partial);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, before - 4 + 1);
    // More shipped units than are left, or more unshipped units than are owed: refused.
    for bad in [units(0, 2, false), units(3, 0, false), units(-1, 1, false)] {
        assert!(matches!(
            shop.checkout.refund(&staff(), &placed.order_id, &bad).await,
            Err(CheckoutError::Invalid { .. })
        ));
    }
    // One unshipped unit will not be sent, and the other shipped one is kept by the
    // customer (damaged): one left to ship, one restocked.
    let r = shop
        .checkout
        .refund(&staff(), &placed.order_id, &units(1, 1, false))
        .await
        .expect("refund one of each");
    assert_eq!((r.lines[0].quantity, r.lines[0].sent), (2, 1));
    assert_eq!(r.amount.minor(), 2 * 1700);
    let o = order(&shop, &placed).await;
    assert_eq!(o.lines[0].to_ship(), 1);
    assert_eq!(o.units_to_ship(), 1);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, before - 3);
    // The last unit ships: the order is fulfilled.
    shop.checkout
        .ship(&staff(), &placed.order_id, &dhl())
        .await
        .expect("ship the last one");
    let o = order(&shop, &placed).await;
    assert_eq!(o.fulfilment, Fulfilment::Shipped);
    assert_eq!(o.lines[0].shipped, 3);
    assert_eq!(o.lines[0].refundable(), 1);
    assert_eq!(o.lines[0].refundable_sent(), 1);
}

#[tokio::test]
async fn partial_refunds_add_up_to_what_was_paid_and_never_more() {
    let shop = setup().await;
    let before = on_hand(&shop.db, "TEE-M").await;
    // Two units: under the free-shipping threshold, so the order has a shipping charge.
    let placed = paid(&shop, &[("TEE-M", 2)]).await;
    let o = order(&shop, &placed).await;
    let total = o.total.minor();
    assert_eq!(o.paid.map(|m| m.minor()), Some(total));
    let tee = line_of(&o, "TEE-M");

    let r = shop
        .checkout
        .refund(&staff(), &placed.order_id, &refund_of(tee.clone(), 1, true))
        .await
        .expect("refund one unit");
    assert_eq!(r.status, RefundStatus::Succeeded);
    assert_eq!(r.amount.minor(), 1700);
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::PartiallyRefunded);
    assert_eq!(o.refunded.minor(), 1700);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, before - 1);

    // More units than remain, or more money than remains: refused, nothing changes.
    assert!(matches!(
        shop.checkout
            .refund(&staff(), &placed.order_id, &refund_of(tee.clone(), 2, true))
            .await,
        Err(CheckoutError::Invalid { .. })
    ));
    let left = total - 1700;
    let err = shop
        .checkout
        .refund(&staff(), &placed.order_id, &extra(left + 1))
        .await
        .unwrap_err();
    assert!(matches!(err, CheckoutError::RefundTooLarge { .. }), "{err}");
    for bad in [extra(0), extra(-5)] {
        assert!(matches!(
            shop.checkout.refund(&staff(), &placed.order_id, &bad).await,
            Err(CheckoutError::Invalid { .. })
        ));
    }
    assert_eq!(order(&shop, &placed).await.refunded.minor(), 1700);

    // The other unit without restock, and the shipping: exactly the total.
    let mut rest = refund_of(tee, 1, false);
    rest.extra_minor = left - 1700;
    assert!(rest.extra_minor > 0, "the order has a shipping charge");
    shop.checkout
        .refund(&staff(), &placed.order_id, &rest)
        .await
        .expect("refund the rest");
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Refunded);
    assert_eq!(o.refunded.minor(), total);
    assert_eq!(o.refundable().minor(), 0);
    assert_eq!(on_hand(&shop.db, "TEE-M").await, before - 1, "no restock");
    assert_eq!(events(&shop, "order.refunded").await, 2);
    assert!(
        shop.checkout
            .refund(&staff(), &placed.order_id, &extra(1))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_event_delivered_fifty_times_refunds_and_restocks_once() {
    let shop = setup().await;
    let (checkout, provider) = flaky(&shop).await;
    let before = on_hand(&shop.db, "TEE-S").await;
    let placed = paid(&shop, &[("TEE-S", 3)]).await;
    let o = order(&shop, &placed).await;
    // The provider is down: the refund waits, pending, with nothing changed yet.
    *provider.mode.lock().unwrap() = Refunds::Unreachable;
    let r = checkout
        .refund(
            &staff(),
            &placed.order_id,
            &refund_of(line_of(&o, "TEE-S"), 2, true),
        )
        .await
        .expect("accepted, pending");
    assert_eq!(r.status, RefundStatus::Pending);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 3);
    // Its confirmation arrives 50 times at once (each a distinct event) and once more as a
    // replay of the same event.
    let mut tasks = Vec::new();
    let mut last = None;
    for _ in 0..50 {
        let (header, body) = refund_event(&shop, &o, "re_123", Some(&r.id), 3000, "succeeded");
        last = Some((header.clone(), body.clone()));
        let checkout = checkout.clone();
        tasks.push(tokio::spawn(async move {
            checkout.receive(Some(&header), &body).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("accepted");
    }
    let (header, body) = last.unwrap();
    assert_eq!(
        checkout.receive(Some(&header), &body).await.unwrap(),
        checkout::webhook::Receipt::Duplicate
    );
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].status, RefundStatus::Succeeded);
    assert_eq!(o.refunds[0].provider_refund_id.as_deref(), Some("re_123"));
    assert_eq!(o.refunded.minor(), 3000);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 1);
    assert_eq!(events(&shop, "order.refunded").await, 1);
    assert_eq!(
        count(
            &shop.db,
            "SELECT COUNT(*) FROM stock_adjustments WHERE reason = 'refund'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_refund_the_provider_declines_or_refuses_changes_nothing() {
    let shop = setup().await;
    let (checkout, provider) = flaky(&shop).await;
    let before = on_hand(&shop.db, "TEE-S").await;
    let placed = paid(&shop, &[("TEE-S", 2)]).await;
    let o = order(&shop, &placed).await;
    let tee = line_of(&o, "TEE-S");
    for mode in [Refunds::Decline, Refunds::Refuse] {
        *provider.mode.lock().unwrap() = mode;
        let err = checkout
            .refund(&staff(), &placed.order_id, &refund_of(tee.clone(), 1, true))
            .await
            .unwrap_err();
        assert!(matches!(err, CheckoutError::RefundFailed(_)), "{err}");
        assert!(err.to_string().contains("Nothing was changed"), "{err}");
        let err = checkout
            .cancel(&staff(), &placed.order_id, "")
            .await
            .unwrap_err();
        assert!(matches!(err, CheckoutError::RefundFailed(_)), "{err}");
    }
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(o.refunded.minor(), 0);
    assert_eq!(o.refundable(), o.total);
    assert_eq!(o.refunds.len(), 4);
    assert!(
        o.refunds
            .iter()
            .all(|r| r.status == RefundStatus::Failed && r.failure.is_some())
    );
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 2);
    assert_eq!(events(&shop, "order.refunded").await, 0);
    assert_eq!(events(&shop, "order.cancelled").await, 0);

    // Unreachable: pending; the reconciler asks again with the same key once it is back.
    *provider.mode.lock().unwrap() = Refunds::Unreachable;
    let r = checkout
        .refund(&staff(), &placed.order_id, &refund_of(tee, 1, true))
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Pending);
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    assert_eq!(
        order(&shop, &placed).await.refunds.last().unwrap().status,
        RefundStatus::Pending
    );
    *provider.mode.lock().unwrap() = Refunds::Work;
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds.last().unwrap().status, RefundStatus::Succeeded);
    assert_eq!(o.status, OrderStatus::PartiallyRefunded);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 1);
    let keys: Vec<String> = provider
        .asked
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.refund_id == r.id)
        .map(|a| a.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 0);
}

#[tokio::test]
async fn cancelling_refunds_everything_and_puts_every_unit_back() {
    let shop = setup().await;
    let before = (
        on_hand(&shop.db, "TEE-S").await,
        on_hand(&shop.db, "LAMP-1").await,
    );
    let placed = paid(&shop, &[("TEE-S", 2), ("LAMP-1", 1)]).await;
    let r = shop
        .checkout
        .cancel(&staff(), &placed.order_id, "out of stock at the warehouse")
        .await
        .expect("cancel");
    let o = order(&shop, &placed).await;
    assert_eq!(r.status, RefundStatus::Succeeded);
    assert!(r.cancels);
    assert_eq!(r.amount, o.total);
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.refunded, o.total);
    assert_eq!(
        (
            on_hand(&shop.db, "TEE-S").await,
            on_hand(&shop.db, "LAMP-1").await
        ),
        before
    );
    assert_eq!(events(&shop, "order.cancelled").await, 1);
    assert_eq!(events(&shop, "order.refunded").await, 0);
    assert!(
        o.history.iter().any(|e| e.kind == "cancellation_requested"
            && e.note.contains("out of stock at the warehouse"))
    );
    assert!(
        o.history
            .iter()
            .any(|e| e.kind == "cancelled" && e.note.contains("3 units restocked"))
    );
}

#[tokio::test]
async fn customers_cancel_their_own_unshipped_orders_and_nobody_else_s() {
    let shop = setup().await;
    let ada = shop_testkit::catalog::customer(&shop.db, &shop.clock, "ada@example.com").await;
    let bob = shop_testkit::catalog::customer(&shop.db, &shop.clock, "bob@example.com").await;
    let as_customer = |id: &shop_core::UserId| Operator::Customer(Actor::user(id, "customer"));
    let mut placed = Vec::new();
    for _ in 0..2 {
        let cart = cart_with(&shop, &[("TEE-M", 1)]).await;
        let mut form = order_form(&shop, &cart).await;
        form.customer = Some(ada.clone());
        let p = shop.checkout.place(&form).await.unwrap();
        pay(&shop, &p).await;
        placed.push(p);
    }
    // Bob sees neither and cannot cancel.
    assert!(matches!(
        shop.checkout
            .order_for(&as_customer(&bob), &placed[0].order_id)
            .await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout
            .cancel(&as_customer(&bob), &placed[0].order_id, "")
            .await,
        Err(CheckoutError::NotFound)
    ));
    // Customers ship nothing.
    assert!(matches!(
        shop.checkout
            .ship(&as_customer(&ada), &placed[0].order_id, &dhl())
            .await,
        Err(CheckoutError::NotFound)
    ));
    assert_eq!(status(&shop, &placed[0]).await, OrderStatus::Paid);
    // Ada cancels the first; the second ships and can no longer be cancelled.
    shop.checkout
        .cancel(&as_customer(&ada), &placed[0].order_id, "")
        .await
        .expect("Ada cancels her order");
    assert_eq!(status(&shop, &placed[0]).await, OrderStatus::Cancelled);
    let o = order(&shop, &placed[0]).await;
    assert!(o.history.iter().any(|e| e.actor == "customer"));
    shop.checkout
        .ship(&staff(), &placed[1].order_id, &dhl())
        .await
        .unwrap();
    assert!(matches!(
        shop.checkout
            .cancel(&as_customer(&ada), &placed[1].order_id, "")
            .await,
        Err(CheckoutError::IllegalTransition { .. })
    ));
    assert_eq!(status(&shop, &placed[1]).await, OrderStatus::Fulfilled);
    let seen = shop
        .checkout
        .order_for(&as_customer(&ada), &placed[1].order_id)
        .await
        .unwrap();
    assert_eq!(seen.shipments.len(), 1);
}

#[tokio::test]
async fn vendors_see_and_ship_only_their_own_lines() {
    let shop = setup().await;
    let people = shop_testkit::catalog::people(&shop.db, &shop.clock).await;
    let vendor_id = |e: &catalog::Editor| e.actor.user_id.clone().unwrap();
    shop_testkit::exec(
        &shop.db,
        &format!(
            "UPDATE products SET vendor_id = '{}' WHERE slug = 'fernhill-tee'",
            vendor_id(&people.vendor_a)
        ),
    )
    .await;
    shop_testkit::exec(
        &shop.db,
        &format!(
            "UPDATE products SET vendor_id = '{}' WHERE slug = 'harbour-lamp'",
            vendor_id(&people.vendor_b)
        ),
    )
    .await;
    let a = Operator::Vendor(people.vendor_a.actor.clone());
    let b = Operator::Vendor(people.vendor_b.actor.clone());
    let placed = paid(&shop, &[("TEE-S", 2), ("LAMP-1", 1)]).await;
    let full = order(&shop, &placed).await;
    let lamp = line_of(&full, "LAMP-1");

    let seen = shop.checkout.order_for(&a, &placed.order_id).await.unwrap();
    assert_eq!(seen.lines.len(), 1);
    assert_eq!(seen.lines[0].sku, "TEE-S");
    assert_eq!(seen.total.minor(), 0);
    assert_eq!(seen.paid, None);
    assert!(seen.payment_intent_id.is_none() && seen.payment_session_id.is_none());
    assert!(seen.refunds.is_empty() && seen.history.is_empty());

    // A's "everything" is A's lines; B's line is not A's to ship.
    assert!(matches!(
        shop.checkout
            .ship(
                &a,
                &placed.order_id,
                &ShipItems {
                    lines: vec![(lamp.clone(), 1)],
                    ..dhl()
                }
            )
            .await,
        Err(CheckoutError::Invalid { .. })
    ));
    shop.checkout
        .ship(&a, &placed.order_id, &dhl())
        .await
        .unwrap();
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(o.fulfilment, Fulfilment::Partial);
    assert_eq!(
        o.lines.iter().find(|l| l.sku == "LAMP-1").unwrap().shipped,
        0
    );
    // B sees only the lamp, and no parcel of A's.
    let seen = shop.checkout.order_for(&b, &placed.order_id).await.unwrap();
    assert_eq!(seen.lines.len(), 1);
    assert!(seen.shipments.is_empty());
    shop.checkout
        .ship(&b, &placed.order_id, &dhl())
        .await
        .unwrap();
    assert_eq!(status(&shop, &placed).await, OrderStatus::Fulfilled);

    // Vendors neither refund, cancel, deliver nor read or write notes.
    assert!(matches!(
        shop.checkout
            .refund(&a, &placed.order_id, &extra(100))
            .await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.cancel(&a, &placed.order_id, "").await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.deliver(&a, &placed.order_id).await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.add_note(&a, &placed.order_id, "hi").await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.notes(&a, &placed.order_id).await,
        Err(CheckoutError::NotFound)
    ));
    // An order with none of A's products is not A's to see.
    let other = paid(&shop, &[("LAMP-1", 1)]).await;
    assert!(matches!(
        shop.checkout.order_for(&a, &other.order_id).await,
        Err(CheckoutError::NotFound)
    ));
    assert!(matches!(
        shop.checkout.ship(&a, &other.order_id, &dhl()).await,
        Err(CheckoutError::NotFound)
    ));
    assert_eq!(status(&shop, &other).await, OrderStatus::Paid);
}

#[tokio::test]
async fn a_refund_made_in_the_provider_dashboard_is_recorded_once() {
    let shop = setup().await;
    let placed = paid(&shop, &[("TEE-M", 2)]).await;
    let o = order(&shop, &placed).await;
    for _ in 0..3 {
        let (header, body) = refund_event(&shop, &o, "re_dashboard_1", None, 500, "succeeded");
        shop.checkout.receive(Some(&header), &body).await.unwrap();
    }
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::PartiallyRefunded);
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].source, "provider");
    assert_eq!(o.refunds[0].amount.minor(), 500);
    assert_eq!(o.refunded.minor(), 500);
    assert_eq!(events(&shop, "order.refunded").await, 1);
    // A pending dashboard refund records nothing until it succeeds; one in another currency
    // is ignored.
    let (header, body) = refund_event(&shop, &o, "re_dashboard_2", None, 100, "pending");
    shop.checkout.receive(Some(&header), &body).await.unwrap();
    assert_eq!(order(&shop, &placed).await.refunds.len(), 1);
}

#[tokio::test]
async fn two_refunds_at_once_never_take_more_than_was_paid() {
    let shop = setup().await;
    let placed = paid(&shop, &[("TEE-M", 2)]).await;
    let total = order(&shop, &placed).await.total.minor();
    let half = total / 2;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let checkout = shop.checkout.clone();
        let id = placed.order_id.clone();
        tasks.push(tokio::spawn(async move {
            checkout.refund(&staff(), &id, &extra(half)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 2);
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunded.minor(), 2 * half);
    assert!(o.refunded.minor() <= total);
}

#[tokio::test]
async fn stock_low_is_announced_once_when_a_sale_crosses_the_threshold() {
    let shop = setup().await;
    // The lamp has 5 on hand and the default threshold of 5: the first sale crosses it.
    paid(&shop, &[("LAMP-1", 1)]).await;
    assert_eq!(events(&shop, "stock.low").await, 1);
    paid(&shop, &[("LAMP-1", 1)]).await;
    paid(&shop, &[("TEE-M", 3)]).await;
    assert_eq!(events(&shop, "stock.low").await, 1);
    let payload: String =
        sqlx::query_scalar("SELECT payload FROM outbox_events WHERE kind = 'stock.low'")
            .fetch_one(shop.db.reader())
            .await
            .unwrap();
    assert!(
        payload.contains("LAMP-1") && payload.contains("\"on_hand\":4"),
        "{payload}"
    );
}

#[tokio::test]
async fn staff_keep_internal_notes_on_an_order() {
    let shop = setup().await;
    let placed = paid(&shop, &[("TEE-M", 1)]).await;
    shop.checkout
        .add_note(
            &staff(),
            &placed.order_id,
            "Customer called: gift wrap please.",
        )
        .await
        .unwrap();
    for bad in ["", "   ", &"x".repeat(2001)] {
        assert!(matches!(
            shop.checkout
                .add_note(&staff(), &placed.order_id, bad)
                .await,
            Err(CheckoutError::Invalid { .. })
        ));
    }
    let notes = shop
        .checkout
        .notes(&staff(), &placed.order_id)
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].author, "boss@example.com");
    assert_eq!(notes[0].body, "Customer called: gift wrap please.");
    // Notes are not part of the history the customer reads.
    assert!(
        order(&shop, &placed)
            .await
            .history
            .iter()
            .all(|e| !e.note.contains("gift wrap"))
    );
}

#[tokio::test]
async fn a_second_cancel_while_the_first_refund_is_pending_is_refused() {
    let shop = setup().await;
    let (checkout, provider) = flaky(&shop).await;
    let before = on_hand(&shop.db, "TEE-S").await;
    let placed = paid(&shop, &[("TEE-S", 1)]).await;
    *provider.mode.lock().unwrap() = Refunds::Unreachable;
    let first = checkout
        .cancel(&staff(), &placed.order_id, "")
        .await
        .expect("accepted, pending");
    assert_eq!(first.status, RefundStatus::Pending);
    for _ in 0..2 {
        let err = checkout
            .cancel(&staff(), &placed.order_id, "")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("still being confirmed"), "{err}");
    }
    let o = order(&shop, &placed).await;
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(events(&shop, "order.cancelled").await, 0);
    // The provider is back: the one cancellation goes through, once.
    *provider.mode.lock().unwrap() = Refunds::Work;
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    assert_eq!(status(&shop, &placed).await, OrderStatus::Cancelled);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before);
    assert_eq!(events(&shop, "order.cancelled").await, 1);
}

#[tokio::test]
async fn a_failed_refund_reported_made_afterwards_is_flagged_not_applied() {
    let shop = setup().await;
    let (checkout, provider) = flaky(&shop).await;
    let placed = paid(&shop, &[("TEE-S", 2)]).await;
    let o = order(&shop, &placed).await;
    let tee = line_of(&o, "TEE-S");
    let before = on_hand(&shop.db, "TEE-S").await;
    *provider.mode.lock().unwrap() = Refunds::Decline;
    assert!(
        checkout
            .refund(&staff(), &placed.order_id, &refund_of(tee.clone(), 1, true))
            .await
            .is_err()
    );
    let failed = order(&shop, &placed).await.refunds[0].clone();
    assert_eq!(failed.status, RefundStatus::Failed);
    let provider_id = failed.provider_refund_id.clone().unwrap();
    // The provider later says it did make that refund: nothing is restocked or counted
    // twice; the order is flagged for a person.
    let (header, body) = refund_event(&shop, &o, &provider_id, None, 1500, "succeeded");
    checkout.receive(Some(&header), &body).await.unwrap();
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds[0].status, RefundStatus::Failed);
    assert_eq!(o.refunded.minor(), 0);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before);
    assert!(
        o.review_reason
            .as_deref()
            .is_some_and(|r| r.contains(&provider_id))
    );

    // A refund that went through and is reported failed afterwards no longer counts.
    *provider.mode.lock().unwrap() = Refunds::Work;
    let done = checkout
        .refund(&staff(), &placed.order_id, &refund_of(tee, 1, false))
        .await
        .unwrap();
    assert_eq!(done.status, RefundStatus::Succeeded);
    let done_id = order(&shop, &placed).await.refunds[1]
        .provider_refund_id
        .clone()
        .unwrap();
    let (header, body) = refund_event(&shop, &o, &done_id, None, 1500, "failed");
    checkout.receive(Some(&header), &body).await.unwrap();
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds[1].status, RefundStatus::Failed);
    assert_eq!(o.refunded.minor(), 0);
}

#[tokio::test]
async fn a_pending_refund_whose_outcome_never_arrives_is_settled_by_asking_the_provider() {
    let shop = setup().await;
    let (checkout, provider) = flaky(&shop).await;
    let before = on_hand(&shop.db, "TEE-S").await;
    let placed = paid(&shop, &[("TEE-S", 2)]).await;
    let tee = line_of(&order(&shop, &placed).await, "TEE-S");
    *provider.mode.lock().unwrap() = Refunds::Silent;
    let r = checkout
        .refund(&staff(), &placed.order_id, &refund_of(tee.clone(), 1, true))
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Pending);
    assert!(
        r.provider_refund_id
            .as_deref()
            .is_some_and(|p| p.starts_with("re_silent_"))
    );

    // Still pending at the provider: nothing changes.
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds[0].status, RefundStatus::Pending);
    assert_eq!(o.refunded.minor(), 0);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 2);

    // The provider made it: the next round applies it, once, restocking once.
    *provider.mode.lock().unwrap() = Refunds::Work;
    shop.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    shop.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 0);
    let o = order(&shop, &placed).await;
    assert_eq!(o.refunds[0].status, RefundStatus::Succeeded);
    assert_eq!(o.status, OrderStatus::PartiallyRefunded);
    assert_eq!(o.refunded.minor(), 1500);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 1);
    assert_eq!(events(&shop, "order.refunded").await, 1);
    assert_eq!(
        provider
            .asked
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.refund_id == r.id)
            .count(),
        1,
        "polling asks for the state, it never refunds again"
    );

    // One the provider declined later: failed, nothing restocked.
    *provider.mode.lock().unwrap() = Refunds::Silent;
    let r = checkout
        .refund(&staff(), &placed.order_id, &refund_of(tee, 1, true))
        .await
        .unwrap();
    *provider.mode.lock().unwrap() = Refunds::Decline;
    shop.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(checkout.retry_refunds(0).await.unwrap(), 1);
    let o = order(&shop, &placed).await;
    let second = o.refunds.iter().find(|x| x.id == r.id).unwrap();
    assert_eq!(second.status, RefundStatus::Failed);
    assert_eq!(on_hand(&shop.db, "TEE-S").await, before - 1);
}
