//! Checkout: details (contact, shipping and billing address), shipping method, review and
//! "Place order and pay", then the payment page (Stripe's, or the offline provider's
//! `/pay/offline/...`) and the confirmation page that waits for the payment to be confirmed.
//!
//! Each step is a plain HTML form posting to a server function that keeps what was entered
//! in the session and sends the browser to the next step, so the whole flow works with
//! JavaScript off. The browser sends only ids, addresses, the chosen method and the review's
//! fingerprint: every amount is computed on the server, and a request carrying any other
//! field (a price, a total) is refused with 422.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{Field, FormError, PageTitle, Submit};
use crate::error::AppError;
use crate::error_pages::PageError;
use crate::image::{ImageView, NoImage, ProductImage};

#[cfg(feature = "ssr")]
pub(crate) mod server;

/// An address's fields as the forms show them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFields {
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
}

/// A saved address the customer may ship to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAddress {
    pub id: String,
    pub lines: Vec<String>,
}

/// A line of the order as the checkout shows it. Amounts are formatted on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    pub name: String,
    pub options: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: String,
    pub line_total: String,
    pub image: Option<ImageView>,
}

/// The cart beside the first two steps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryView {
    pub lines: Vec<LineView>,
    pub subtotal: String,
}

/// Step 1: contact and addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsView {
    pub signed_in: bool,
    pub email: String,
    pub saved: Vec<SavedAddress>,
    /// The saved address chosen before (or the default one).
    pub chosen: Option<String>,
    pub ship: AddressFields,
    /// `None`: billing is the same as shipping.
    pub bill: Option<AddressFields>,
    pub countries: Vec<(String, String)>,
    pub summary: SummaryView,
}

/// A shipping method the shopper may choose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodView {
    pub id: String,
    pub name: String,
    pub price: String,
    pub days: String,
    /// "Free on orders over €50.00", when it applies.
    pub note: Option<String>,
    pub chosen: bool,
}

/// Step 2: the shipping method.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingView {
    pub email: String,
    pub ship_to: Vec<String>,
    pub methods: Vec<MethodView>,
    pub summary: SummaryView,
}

/// Step 3: everything, recomputed now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewView {
    pub email: String,
    pub ship_to: Vec<String>,
    pub bill_to: Vec<String>,
    pub method: String,
    pub days: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub shipping: String,
    pub vat_label: String,
    pub vat: String,
    pub total: String,
    /// What the place-order form sends back: the quote the shopper saw.
    pub reviewed: String,
    /// One per visit of the review page: a double click or a replay places one order.
    pub idempotency_key: String,
    /// Prices that changed since the items went into the cart.
    pub notices: Vec<String>,
}

/// Where a checkout step sends the shopper instead, when an earlier step is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step<T> {
    Show(T),
    GoTo(String),
}

/// The confirmation page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteView {
    pub number: String,
    pub status: String,
    pub paid: bool,
    /// Still waiting for the provider's event.
    pub confirming: bool,
    pub email: String,
    pub total: String,
    /// The order's page (the account's, or the signed link for a guest).
    pub order_href: String,
}

/// The offline provider's payment page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflinePayView {
    pub session: String,
    pub number: String,
    pub email: String,
    pub amount: String,
    pub open: bool,
    /// The session is a signed-in shopper's: paying may save the card, as on Stripe's page.
    pub can_save: bool,
}

/// Step 1's data.
#[server(endpoint = "checkout/details")]
pub async fn checkout_details() -> Result<Step<DetailsView>, AppError> {
    server::details().await
}

/// Saves step 1 (contact, shipping address, billing address; for a guest optionally an
/// account) and goes to step 2. Any field the form does not have is refused.
#[server(endpoint = "checkout/save-details")]
pub async fn save_checkout_details(
    #[server(flatten)] form: HashMap<String, String>,
) -> Result<(), AppError> {
    server::save_details(form).await
}

/// Step 2's data.
#[server(endpoint = "checkout/shipping")]
pub async fn checkout_shipping() -> Result<Step<ShippingView>, AppError> {
    server::shipping().await
}

/// Saves the chosen shipping method and goes to the review.
#[server(endpoint = "checkout/choose-shipping")]
pub async fn choose_shipping(
    shipping_method: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<(), AppError> {
    server::choose_shipping(shipping_method, extra).await
}

/// Step 3's data, priced now.
#[server(endpoint = "checkout/review")]
pub async fn checkout_review() -> Result<Step<ReviewView>, AppError> {
    server::review().await
}

/// Places the order and sends the shopper to the payment page.
#[server(endpoint = "checkout/place")]
pub async fn place_order(
    reviewed: String,
    idempotency_key: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<(), AppError> {
    server::place(reviewed, idempotency_key, extra).await
}

/// The confirmation page's data: the order, if the asker may see it (its customer, or
/// whoever holds the signed link).
#[server(endpoint = "checkout/complete")]
pub async fn checkout_complete(order: String, t: String) -> Result<CompleteView, AppError> {
    server::complete(order, t).await
}

/// The offline payment page's data.
#[server(endpoint = "pay/offline")]
pub async fn offline_payment(session: String) -> Result<OfflinePayView, AppError> {
    server::offline_payment(session).await
}

/// The shopper's choice on the offline payment page: `pay`, `decline` or `cancel`.
#[server(endpoint = "pay/offline/choose")]
pub async fn offline_choose(
    session: String,
    choice: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<(), AppError> {
    server::offline_choose(session, choice, extra).await
}

/// The steps, with the current one marked.
#[component]
fn Steps(current: usize) -> impl IntoView {
    let steps = [
        ("Details", "/checkout"),
        ("Shipping", "/checkout/shipping"),
        ("Review and pay", "/checkout/review"),
    ];
    view! {
        <nav aria-label="Checkout steps" class="mt-4">
            <ol class="flex flex-wrap gap-2 text-sm">
                {steps.into_iter().enumerate().map(|(i, (name, href))| {
                    let label = format!("{}. {name}", i + 1);
                    if i == current {
                        view! { <li aria-current="step" class="rounded-full bg-stone-900 px-3 py-1 font-medium text-white">{label}</li> }.into_any()
                    } else if i < current {
                        view! { <li><a href=href class="link rounded-full px-3 py-1">{label}</a></li> }.into_any()
                    } else {
                        view! { <li class="rounded-full px-3 py-1 text-stone-500">{label}</li> }.into_any()
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

#[component]
fn LineItem(line: LineView) -> impl IntoView {
    view! {
        <li class="flex gap-3 py-3" data-testid="checkout-line">
            <div class="w-14 shrink-0">
                {match line.image {
                    Some(img) => view! { <ProductImage img sizes="56px" width=56 lazy=true /> }.into_any(),
                    None => view! { <NoImage name=line.name.clone() /> }.into_any(),
                }}
            </div>
            <div class="min-w-0 flex-1 text-sm">
                <p class="font-medium">{line.name}</p>
                {(!line.options.is_empty()).then(|| view! { <p class="text-stone-600">{line.options}</p> })}
                <p class="text-stone-600">{format!("{} × {}", line.quantity, line.unit_price)}</p>
            </div>
            <p class="text-sm font-medium" data-testid="line-total">{line.line_total}</p>
        </li>
    }
}

/// The order summary beside the first steps.
#[component]
fn Summary(summary: SummaryView) -> impl IntoView {
    view! {
        <aside class="card h-fit p-5" aria-labelledby="summary-title">
            <h2 id="summary-title" class="text-lg font-semibold">"Your order"</h2>
            <ul class="mt-2 divide-y divide-stone-200">
                {summary.lines.into_iter().map(|line| view! { <LineItem line /> }).collect_view()}
            </ul>
            <div class="mt-3 flex justify-between border-t border-stone-200 pt-3 font-semibold">
                <span>"Subtotal"</span>
                <span data-testid="summary-subtotal">{summary.subtotal}</span>
            </div>
            <p class="mt-1 text-xs text-stone-500">"Prices include VAT. Shipping is chosen in the next step."</p>
            <a href="/cart" class="link mt-3 inline-block text-sm">"Edit cart"</a>
        </aside>
    }
}

/// The fields of one address. `prefix` is "" for shipping and "bill_" for billing.
#[component]
fn AddressForm(
    prefix: &'static str,
    fields: AddressFields,
    countries: Vec<(String, String)>,
    error: Signal<Option<AppError>>,
    /// Billing fields are needed only when "a different billing address" is chosen.
    #[prop(optional)]
    optional: bool,
) -> impl IntoView {
    // Field names are static strings: one set per prefix.
    let names: [&'static str; 8] = if prefix.is_empty() {
        [
            "full_name",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
        ]
    } else {
        [
            "bill_full_name",
            "bill_line1",
            "bill_line2",
            "bill_city",
            "bill_region",
            "bill_postal_code",
            "bill_country",
            "bill_phone",
        ]
    };
    let [
        full_name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
    ] = names;
    let chosen = error
        .get_untracked()
        .and_then(|e| e.kept(country))
        .unwrap_or_else(|| {
            if fields.country.is_empty() {
                "DE".to_owned()
            } else {
                fields.country.clone()
            }
        });
    let country_error = move || error.get().and_then(|e| e.message_for(country));
    let country_error_id = format!("{country}-error");
    view! {
        <div class="space-y-4">
            <Field label="Full name" name=full_name autocomplete="name" value=fields.full_name error required=!optional />
            <Field label="Address line 1" name=line1 autocomplete="address-line1" value=fields.line1 error required=!optional />
            <Field label="Address line 2 (optional)" name=line2 autocomplete="address-line2" value=fields.line2 error required=false />
            <div class="grid gap-4 sm:grid-cols-2">
                <Field label="Town or city" name=city autocomplete="address-level2" value=fields.city error required=!optional />
                <Field label="Postcode" name=postal_code autocomplete="postal-code" value=fields.postal_code error required=!optional />
            </div>
            <Field label="County, state or region (optional)" name=region autocomplete="address-level1" value=fields.region error required=false />
            <div>
                <label for=country class="block text-sm font-medium text-stone-800">"Country"</label>
                <select id=country name=country autocomplete="country" class="input mt-1 w-full" aria-describedby=country_error_id.clone()>
                    {countries.into_iter().map(|(code, name)| {
                        let selected = code == chosen;
                        view! { <option value=code selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
                {move || view! { <crate::components::FieldError id=country_error_id.clone() message=country_error() /> }}
            </div>
            <Field label="Phone (optional, for the courier)" name=phone kind="tel" autocomplete="tel" value=fields.phone error required=false />
        </div>
    }
}

/// `/checkout`: contact and addresses.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| checkout_details());
    let action = ServerAction::<SaveCheckoutDetails>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <PageTitle text="Checkout" />
        <h1 class="text-3xl font-bold tracking-tight">"Checkout"</h1>
        <Steps current=0 />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(Step::GoTo(path)) => view! { <Redirect path /> }.into_any(),
                    Ok(Step::Show(d)) => {
                        let billing_other = d.bill.is_some();
                        let email_value = error.get_untracked().and_then(|e| e.kept("email")).unwrap_or(d.email.clone());
                        let chosen = d.chosen.clone();
                        view! {
                            <div class="mt-6 grid gap-8 lg:grid-cols-[1fr_22rem]">
                                <ActionForm action attr:class="space-y-8" attr:novalidate="true" attr:data-testid="details-form">
                                    <FormError error />
                                    <section class="card space-y-4 p-6" aria-labelledby="contact-title">
                                        <h2 id="contact-title" class="text-lg font-semibold">"Contact"</h2>
                                        {if d.signed_in {
                                            view! {
                                                <p class="text-sm">"We'll send the confirmation to " <strong data-testid="contact-email">{d.email.clone()}</strong> "."</p>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <Field label="Email address" name="email" kind="email" autocomplete="email" value=email_value error hint="For your order confirmation." />
                                                <fieldset class="rounded-md border border-stone-200 p-4">
                                                    <legend class="px-1 text-sm font-medium">"Create an account (optional)"</legend>
                                                    <label class="flex items-center gap-2 text-sm">
                                                        <input type="checkbox" name="create_account" value="on" class="focus-ring" data-testid="create-account" />
                                                        "Create an account with this email, to see your orders any time"
                                                    </label>
                                                    <div class="mt-3">
                                                        <Field label="Password for the account" name="password" kind="password" autocomplete="new-password" error required=false hint="At least 10 characters. Only needed if you create an account." />
                                                    </div>
                                                </fieldset>
                                            }.into_any()
                                        }}
                                    </section>
                                    <section class="card space-y-4 p-6" aria-labelledby="ship-title">
                                        <h2 id="ship-title" class="text-lg font-semibold">"Shipping address"</h2>
                                        {(!d.saved.is_empty()).then(|| {
                                            let new_chosen = chosen.is_none();
                                            let address_error = move || error.get().and_then(|e| e.message_for("address_id"));
                                            view! {
                                                <fieldset>
                                                    <legend class="text-sm font-medium">"Ship to"</legend>
                                                    <ul class="mt-2 space-y-2">
                                                        {d.saved.iter().map(|a| {
                                                            let checked = chosen.as_deref() == Some(a.id.as_str());
                                                            let id = format!("address-{}", a.id);
                                                            let label_for = id.clone();
                                                            view! {
                                                                <li>
                                                                    <label for=label_for class="flex gap-3 rounded-md border border-stone-200 p-3 text-sm has-[:checked]:border-stone-900">
                                                                        <input id=id type="radio" name="address_id" value=a.id.clone() checked=checked class="focus-ring mt-1" data-testid="saved-address" />
                                                                        <span>{a.lines.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</span>
                                                                    </label>
                                                                </li>
                                                            }
                                                        }).collect_view()}
                                                        <li>
                                                            <label for="address-new" class="flex gap-3 rounded-md border border-stone-200 p-3 text-sm has-[:checked]:border-stone-900">
                                                                <input id="address-new" type="radio" name="address_id" value="new" checked=new_chosen class="focus-ring mt-1" />
                                                                <span>"A new address (below)"</span>
                                                            </label>
                                                        </li>
                                                    </ul>
                                                    {move || view! { <crate::components::FieldError id="address_id-error" message=address_error() /> }}
                                                </fieldset>
                                            }
                                        })}
                                        <AddressForm prefix="" fields=d.ship.clone() countries=d.countries.clone() error optional=!d.saved.is_empty() />
                                        {d.signed_in.then(|| view! {
                                            <label class="flex items-center gap-2 text-sm">
                                                <input type="checkbox" name="save_address" value="on" class="focus-ring" />
                                                "Save a new address to my address book"
                                            </label>
                                        })}
                                    </section>
                                    <section class="card space-y-4 p-6" aria-labelledby="bill-title">
                                        <h2 id="bill-title" class="text-lg font-semibold">"Billing address"</h2>
                                        <fieldset class="space-y-2 text-sm">
                                            <legend class="sr-only">"Billing address"</legend>
                                            <label class="flex items-center gap-2">
                                                <input type="radio" name="billing" value="same" checked=!billing_other class="focus-ring" />
                                                "Same as the shipping address"
                                            </label>
                                            <label class="flex items-center gap-2">
                                                <input type="radio" name="billing" value="other" checked=billing_other class="focus-ring" data-testid="billing-other" />
                                                "A different billing address:"
                                            </label>
                                        </fieldset>
                                        <AddressForm prefix="bill_" fields=d.bill.clone().unwrap_or_default() countries=d.countries.clone() error optional=true />
                                    </section>
                                    <Submit label="Continue to shipping" busy_label="Saving…" pending=action.pending() />
                                </ActionForm>
                                <Summary summary=d.summary.clone() />
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/checkout/shipping`: the shipping method.
#[component]
pub fn CheckoutShippingPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| checkout_shipping());
    let action = ServerAction::<ChooseShipping>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <PageTitle text="Checkout: shipping" />
        <h1 class="text-3xl font-bold tracking-tight">"Checkout"</h1>
        <Steps current=1 />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(Step::GoTo(path)) => view! { <Redirect path /> }.into_any(),
                    Ok(Step::Show(s)) => {
                        let method_error = move || error.get().and_then(|e| e.message_for("shipping_method"));
                        let none = s.methods.is_empty();
                        view! {
                            <div class="mt-6 grid gap-8 lg:grid-cols-[1fr_22rem]">
                                <div class="space-y-6">
                                    <section class="card p-6 text-sm" aria-label="Contact and address">
                                        <p><span class="text-stone-600">"Contact: "</span>{s.email.clone()}</p>
                                        <p class="mt-2 text-stone-600">"Ship to:"</p>
                                        <address class="not-italic">{s.ship_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                        <a href="/checkout" class="link mt-2 inline-block">"Change"</a>
                                    </section>
                                    <ActionForm action attr:class="card space-y-4 p-6" attr:data-testid="shipping-form">
                                        <FormError error />
                                        <fieldset>
                                            <legend class="text-lg font-semibold">"Shipping method"</legend>
                                            {none.then(|| view! {
                                                <p class="mt-2 text-sm text-red-800" role="alert">"We don't ship to this country yet. Choose another address."</p>
                                            })}
                                            <ul class="mt-3 space-y-2">
                                                {s.methods.into_iter().map(|m| {
                                                    let id = format!("method-{}", m.id);
                                                    let label_for = id.clone();
                                                    view! {
                                                        <li>
                                                            <label for=label_for class="flex items-start gap-3 rounded-md border border-stone-200 p-3 text-sm has-[:checked]:border-stone-900">
                                                                <input id=id type="radio" name="shipping_method" value=m.id checked=m.chosen class="focus-ring mt-1" data-testid="shipping-method" />
                                                                <span class="flex-1">
                                                                    <span class="block font-medium">{m.name}</span>
                                                                    <span class="block text-stone-600">{m.days}</span>
                                                                    {m.note.map(|n| view! { <span class="block text-emerald-800">{n}</span> })}
                                                                </span>
                                                                <span class="font-medium">{m.price}</span>
                                                            </label>
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                            {move || view! { <crate::components::FieldError id="shipping_method-error" message=method_error() /> }}
                                        </fieldset>
                                        {(!none).then(|| view! { <Submit label="Continue to review" busy_label="Saving…" pending=action.pending() /> })}
                                    </ActionForm>
                                </div>
                                <Summary summary=s.summary.clone() />
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/checkout/review`: every line, shipping, VAT and the total, then "Place order and pay".
#[component]
pub fn CheckoutReviewPage() -> impl IntoView {
    let action = ServerAction::<PlaceOrder>::new();
    // Priced again after a refused attempt: the page shows what changed.
    let data = Resource::new(move || action.version().get(), |_| checkout_review());
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <PageTitle text="Checkout: review and pay" />
        <h1 class="text-3xl font-bold tracking-tight">"Checkout"</h1>
        <Steps current=2 />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(Step::GoTo(path)) => view! { <Redirect path /> }.into_any(),
                    Ok(Step::Show(r)) => view! {
                        <div class="mt-6 grid gap-8 lg:grid-cols-[1fr_22rem]">
                            <div class="space-y-6">
                                {(!r.notices.is_empty()).then(|| view! {
                                    <div role="status" class="rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-950" data-testid="review-notice">
                                        {r.notices.iter().map(|n| view! { <p>{n.clone()}</p> }).collect_view()}
                                    </div>
                                })}
                                <section class="card grid gap-4 p-6 text-sm sm:grid-cols-3" aria-label="Contact, addresses and shipping">
                                    <div>
                                        <h2 class="font-semibold">"Contact"</h2>
                                        <p class="mt-1 break-all">{r.email.clone()}</p>
                                        <a href="/checkout" class="link mt-1 inline-block">"Change"</a>
                                    </div>
                                    <div>
                                        <h2 class="font-semibold">"Ship to"</h2>
                                        <address class="mt-1 not-italic">{r.ship_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                    </div>
                                    <div>
                                        <h2 class="font-semibold">"Bill to"</h2>
                                        <address class="mt-1 not-italic">{r.bill_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                    </div>
                                    <div class="sm:col-span-3">
                                        <h2 class="font-semibold">"Shipping"</h2>
                                        <p class="mt-1">{format!("{} · {}", r.method, r.days)}</p>
                                        <a href="/checkout/shipping" class="link mt-1 inline-block">"Change"</a>
                                    </div>
                                </section>
                                <section class="card p-6" aria-labelledby="items-title">
                                    <h2 id="items-title" class="text-lg font-semibold">"Items"</h2>
                                    <ul class="mt-2 divide-y divide-stone-200">
                                        {r.lines.clone().into_iter().map(|line| view! { <LineItem line /> }).collect_view()}
                                    </ul>
                                </section>
                            </div>
                            <aside class="card h-fit p-5" aria-labelledby="total-title">
                                <h2 id="total-title" class="text-lg font-semibold">"Total"</h2>
                                <dl class="mt-4 space-y-2 text-sm">
                                    <div class="flex justify-between"><dt class="text-stone-600">"Subtotal"</dt><dd data-testid="review-subtotal">{r.subtotal.clone()}</dd></div>
                                    <div class="flex justify-between"><dt class="text-stone-600">"Shipping"</dt><dd data-testid="review-shipping">{r.shipping.clone()}</dd></div>
                                    <div class="flex justify-between border-t border-stone-200 pt-2 text-base font-semibold"><dt>"Total"</dt><dd data-testid="review-total">{r.total.clone()}</dd></div>
                                    <div class="flex justify-between text-xs text-stone-500"><dt>{format!("Including VAT ({})", r.vat_label)}</dt><dd data-testid="review-vat">{r.vat.clone()}</dd></div>
                                </dl>
                                <ActionForm action attr:class="mt-5" attr:data-testid="place-order-form">
                                    <input type="hidden" name="reviewed" value=r.reviewed.clone() />
                                    <input type="hidden" name="idempotency_key" value=r.idempotency_key.clone() />
                                    <FormError error />
                                    <Submit label="Place order and pay" busy_label="Placing your order…" pending=action.pending() class="btn btn-primary mt-3 w-full" />
                                </ActionForm>
                                <p class="mt-3 text-xs text-stone-500">"You pay on the next page. Your items are held for you while you pay."</p>
                            </aside>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/checkout/complete/:order?t=...`: the order number, and "paid" once the payment is
/// confirmed (with JavaScript on the page checks every two seconds; off, a refresh link).
#[component]
pub fn CheckoutCompletePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            (
                params.read().get("order").unwrap_or_default(),
                query.read().get("t").unwrap_or_default(),
            )
        },
        |(order, t)| checkout_complete(order, t),
    );
    view! {
        <PageTitle text="Thank you" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(c) => {
                        let here = format!(
                            "/checkout/complete/{}?t={}",
                            params.read_untracked().get("order").unwrap_or_default(),
                            crate::url::urlencode(&query.read_untracked().get("t").unwrap_or_default())
                        );
                        view! {
                            <section class="mx-auto max-w-xl py-10 text-center" data-testid="order-complete">
                                <h1 class="text-3xl font-bold tracking-tight">"Thank you for your order"</h1>
                                <p class="mt-4 text-lg">"Order " <strong data-testid="order-number">{c.number.clone()}</strong></p>
                                {if c.paid {
                                    view! {
                                        <p class="mt-4 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-emerald-900" role="status" data-testid="payment-status">
                                            "Paid. We've sent a confirmation to " {c.email.clone()} "."
                                        </p>
                                    }.into_any()
                                } else if c.confirming {
                                    view! {
                                        <ReloadOnceConfirmed
                                            order=params.read_untracked().get("order").unwrap_or_default()
                                            t=query.read_untracked().get("t").unwrap_or_default()
                                        >
                                            <p class="mt-4 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-amber-950" role="status" aria-live="polite" data-testid="payment-status">
                                                "Payment being confirmed… This takes a few seconds. "
                                                <a href=here class="link">"Refresh"</a>
                                            </p>
                                        </ReloadOnceConfirmed>
                                    }.into_any()
                                } else {
                                    view! {
                                        <p class="mt-4 rounded-md border border-stone-200 bg-stone-50 px-4 py-3" role="status" data-testid="payment-status">
                                            {format!("This order is {}.", c.status.to_lowercase())}
                                        </p>
                                    }.into_any()
                                }}
                                <p class="mt-4 text-stone-600">{format!("Total {}", c.total)}</p>
                                <div class="mt-8 flex justify-center gap-3">
                                    <a href=c.order_href.clone() class="btn btn-secondary" data-testid="view-order">"View your order"</a>
                                    <a href="/" class="btn btn-primary">"Continue shopping"</a>
                                </div>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// While a payment is being confirmed (JavaScript on, an island): asks every two seconds, for
/// at most a minute, and reloads the page once the order is no longer waiting; the refresh
/// link in `children` stays for longer waits and for JavaScript off.
#[island]
fn ReloadOnceConfirmed(order: String, t: String, children: Children) -> impl IntoView {
    // Effects run only in the browser; this one tracks nothing, so it runs once.
    Effect::new(move || {
        let asked = std::cell::Cell::new(0u32);
        let handle = std::rc::Rc::new(std::cell::Cell::new(None::<IntervalHandle>));
        let (order, t, stop) = (order.clone(), t.clone(), handle.clone());
        let started = set_interval_with_handle(
            move || {
                asked.set(asked.get() + 1);
                if asked.get() >= 30
                    && let Some(h) = stop.get()
                {
                    h.clear();
                }
                let (order, t) = (order.clone(), t.clone());
                leptos::task::spawn_local(async move {
                    if checkout_complete(order, t)
                        .await
                        .is_ok_and(|c| !c.confirming)
                    {
                        let _ = window().location().reload();
                    }
                });
            },
            std::time::Duration::from_secs(2),
        );
        handle.set(started.ok());
    });
    children()
}

/// `/pay/offline/:session`: the offline provider's payment page (no card is asked for: it
/// stands in for Stripe's page when no Stripe key is configured).
#[component]
pub fn OfflinePayPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("session").unwrap_or_default(),
        offline_payment,
    );
    let action = ServerAction::<OfflineChoose>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <PageTitle text="Payment" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(p) => view! {
                        <section class="mx-auto max-w-md py-10" data-testid="offline-payment">
                            <p class="text-xs font-semibold uppercase tracking-wide text-amber-700">"Test payment page"</p>
                            <h1 class="mt-2 text-2xl font-bold tracking-tight">{format!("Pay for order {}", p.number)}</h1>
                            <p class="mt-2 text-stone-600">"This shop takes payments offline: no card is needed and nothing is charged. Stripe's page takes this place when Stripe keys are configured."</p>
                            <p class="mt-6 text-3xl font-semibold" data-testid="offline-amount">{p.amount.clone()}</p>
                            <p class="text-sm text-stone-600">{p.email.clone()}</p>
                            {if p.open {
                                let session = p.session.clone();
                                let can_save = p.can_save;
                                view! {
                                    <FormError error />
                                    <div class="mt-6 grid gap-3">
                                        {[("pay", "Pay", "btn btn-primary"), ("decline", "Decline (simulate a refused card)", "btn btn-secondary"), ("cancel", "Cancel and return to the shop", "btn btn-secondary")]
                                            .into_iter()
                                            .map(|(choice, label, class)| {
                                                let session = session.clone();
                                                view! {
                                                <ActionForm action>
                                                    <input type="hidden" name="session" value=session />
                                                    <input type="hidden" name="choice" value=choice />
                                                    {(choice == "pay" && can_save).then(|| view! {
                                                        <label class="mb-2 flex items-center gap-2 text-sm" for="save-card">
                                                            <input id="save-card" type="checkbox" name="save_card" value="yes" data-testid="save-card" />
                                                            "Save this card for next time"
                                                        </label>
                                                    })}
                                                    <button type="submit" class=format!("{class} w-full") data-testid=format!("offline-{choice}")>{label}</button>
                                                </ActionForm>
                                            }})
                                            .collect_view()}
                                    </div>
                                }.into_any()
                            } else {
                                view! { <p class="mt-6 rounded-md border border-stone-200 bg-stone-50 px-4 py-3" role="status">"This payment is no longer open."</p> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
