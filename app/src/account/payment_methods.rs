//! `/account/payment-methods`: the cards the shopper saved on the payment page (brand, last
//! four digits, expiry, read from the payment provider each time; the shop keeps no card
//! data), each removable.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AccountFrame;
use crate::components::FormError;
use crate::error::AppError;
use crate::error_pages::Denied;

/// A saved card as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRow {
    pub id: String,
    /// "Visa"
    pub brand: String,
    pub last4: String,
    /// "12/2029"
    pub expires: String,
}

/// The signed-in shopper's saved cards.
#[server(endpoint = "account/payment-methods")]
pub async fn payment_methods() -> Result<Vec<CardRow>, AppError> {
    server::list().await
}

/// Removes one of the shopper's saved cards.
#[server(endpoint = "account/payment-method-remove")]
pub async fn remove_payment_method(id: String, confirm: Option<String>) -> Result<(), AppError> {
    server::remove(id, confirm).await
}

/// `/account/payment-methods`
#[component]
pub fn PaymentMethodsPage() -> impl IntoView {
    let remove = ServerAction::<RemovePaymentMethod>::new();
    let data = Resource::new(move || remove.version().get(), |_| payment_methods());
    let error = Signal::derive(move || remove.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(cards) => view! {
                        <AccountFrame title="Payment methods">
                            <p class="max-w-prose text-sm text-stone-700">"Cards you chose to save when paying. They are kept by our payment provider, not by this shop; we only see the brand, the last four digits and the expiry."</p>
                            <FormError error />
                            {if cards.is_empty() {
                                view! { <p class="text-stone-600" data-testid="no-cards">"No saved cards. Tick \u{201c}Save this card\u{201d} on the payment page next time you pay."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="divide-y divide-stone-200 rounded-lg border border-stone-200 bg-white" data-testid="cards">
                                        {cards.into_iter().map(|c| {
                                            let label = format!("{} ending in {}", c.brand, c.last4);
                                            let confirm_id = format!("remove-{}", c.id);
                                            let confirm_for = confirm_id.clone();
                                            let remove_label = format!("Remove the {label}");
                                            view! {
                                                <li class="flex flex-wrap items-center justify-between gap-3 p-4" data-testid="card">
                                                    <div>
                                                        <p class="font-medium">{label.clone()}</p>
                                                        <p class="text-sm text-stone-600">{format!("Expires {}", c.expires)}</p>
                                                    </div>
                                                    <ActionForm action=remove attr:class="flex flex-wrap items-center gap-3">
                                                        <input type="hidden" name="id" value=c.id.clone() />
                                                        <label class="flex items-center gap-2 text-sm" for=confirm_for>
                                                            <input id=confirm_id type="checkbox" name="confirm" value="yes" required />
                                                            {remove_label}
                                                        </label>
                                                        <button type="submit" class="btn btn-secondary">"Remove"</button>
                                                    </ActionForm>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::CardRow;
    use crate::error::AppError;
    use crate::ssr::{confirmed, redirect_with_flash, require_user, server_context};

    fn brand(name: &str) -> String {
        match name {
            "amex" => "American Express".to_owned(),
            "diners" => "Diners Club".to_owned(),
            "jcb" => "JCB".to_owned(),
            "unionpay" => "UnionPay".to_owned(),
            other => {
                let mut chars = other.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            }
        }
    }

    pub(super) async fn list() -> Result<Vec<CardRow>, AppError> {
        let ctx = server_context()?;
        let user = require_user().await?;
        let cards = ctx.checkout.saved_cards(&user.id).await?;
        Ok(cards
            .into_iter()
            .map(|c| CardRow {
                id: c.id,
                brand: brand(&c.brand),
                last4: c.last4,
                expires: format!("{:02}/{}", c.exp_month, c.exp_year),
            })
            .collect())
    }

    pub(super) async fn remove(id: String, confirm: Option<String>) -> Result<(), AppError> {
        let ctx = server_context()?;
        let user = require_user().await?;
        confirmed(confirm)?;
        ctx.checkout.remove_card(&user.id, &id).await?;
        redirect_with_flash("/account/payment-methods", "card_removed");
        Ok(())
    }
}
