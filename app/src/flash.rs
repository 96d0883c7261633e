//! One-line outcomes shown at the top of the page after an action ("You're signed in.").
//! The action redirects with `?flash=<code>`; the code is looked up here, so nothing typed
//! into a URL is ever shown as a message.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The message for a flash code.
pub fn message(code: &str) -> Option<&'static str> {
    Some(match code {
        "welcome" => "Welcome! Your address is confirmed and your account is ready.",
        "registration_sent" => {
            "Check your inbox: we've sent a link to the address you gave. Open it to finish creating your account; it works for 24 hours. Already have an account? Sign in below."
        }
        "signed_in" => "You're signed in.",
        "signed_in_cart_changed" => {
            "You're signed in. We added your earlier cart to your account's cart, but some items changed: see your cart for what and why."
        }
        "signed_out" => "You've signed out.",
        "verified" => "Thanks, your email address is confirmed.",
        "verification_sent" => "We've sent a new confirmation link. It works for 24 hours.",
        "reset_sent" => {
            "If an account exists for that address, we've sent it a link to choose a new password. The link works for 1 hour."
        }
        "password_reset" => {
            "Your password has been changed and every session signed out. Sign in with your new password."
        }
        "password_changed" => {
            "Your password has been changed. Your other sessions have been signed out."
        }
        "email_change_sent" => {
            "Check the inbox of your new address: we've sent a link to confirm it. Until then your account keeps its current address."
        }
        "email_changed" => "Your email address has been changed.",
        "profile_saved" => "Your name has been saved.",
        "address_saved" => "Address saved.",
        "address_deleted" => "Address deleted.",
        "default_address" => "Default shipping address updated.",
        "sessions_ended" => "You've been signed out everywhere else.",
        "session_ended" => "That session has been signed out.",
        "user_updated" => "Saved. The change is in the audit log.",
        "product_created" => {
            "Product created as a draft. Add images, then publish it when it is ready."
        }
        "product_saved" => "Product saved.",
        "variant_saved" => "Variant saved.",
        "stock_adjusted" => "Stock adjusted; the change is in the stock history.",
        "image_saved" => "Images updated.",
        "category_saved" => "Category saved.",
        "category_deleted" => "Category deleted.",
        "payment_cancelled" => {
            "Payment cancelled: nothing was charged, and your cart is as you left it."
        }
        "payment_declined" => {
            "Your payment was declined and nothing was charged. Your cart is as you left it: check the details and try again."
        }
        "account_requested" => {
            "We've sent a link to your email address to finish creating your account. Your order will appear in it once you sign in."
        }
        "shipping_method_saved" => "Shipping method saved.",
        "order_shipped" => "Marked shipped. The customer gets a mail with the tracking link.",
        "order_delivered" => "Marked delivered.",
        "order_cancelled" => "Order cancelled, refunded in full, and its units are back in stock.",
        "order_cancel_pending" => {
            "Cancellation requested: the refund is with the payment provider, and the order is cancelled as soon as it confirms."
        }
        "order_refunded" => "Refund done. The customer gets a mail with the amount.",
        "order_refund_pending" => {
            "Refund requested: the payment provider has not confirmed it yet; this page shows it once it does."
        }
        "order_noted" => "Note added.",
        "api_key_created" => "Key made. The change is in the audit log.",
        "api_key_revoked" => "Key revoked: it no longer works.",
        "webhook_saved" => "Endpoint saved. The change is in the audit log.",
        "webhook_deleted" => "Endpoint deleted: no more events go there.",
        "webhook_test_delivered" => "Test event delivered: the endpoint answered 2xx.",
        "webhook_test_failed" => {
            "The test event was not delivered: see the first row of the delivery log for why."
        }
        "card_removed" => "Card removed. It can no longer be used to pay at this shop.",
        "reminder_queued" => {
            "Reminder queued: the customer gets a mail with what is in their cart now."
        }
        "reminders_stopped" => "Done: we won't send you reminders about carts you leave any more.",
        "notification_resent" => "Queued to be sent again: this is the new message.",
        "my_order_cancelled" => {
            "Your order is cancelled and refunded in full; the money is on its way back to how you paid."
        }
        "my_order_cancel_pending" => {
            "Your cancellation is with the payment provider; the refund follows as soon as it confirms."
        }
        "cart_changed" => {
            "Something in your cart has sold out or is no longer available, so checkout stopped before you paid. Nothing was charged: see below what changed."
        }
        _ => return None,
    })
}

/// Shows the message for the `flash` query parameter, if it names one.
#[component]
pub fn FlashBanner() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("flash")
            .and_then(|code| message(&code))
            .map(|text| {
                view! {
                    <div
                        role="status"
                        class="mb-6 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm font-medium text-emerald-900"
                        data-testid="flash"
                    >
                        {text}
                    </div>
                }
            })
    }
}
