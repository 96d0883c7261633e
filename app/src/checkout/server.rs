//! The server side of checkout: the details the shopper entered, kept in the session between
//! steps; the cart priced by the checkout service at every step; and placing the order.

use std::collections::HashMap;

use checkout::orders::PostalAddress;
use checkout::payment::OfflineChoice;
use checkout::pricing::{Quote, QuoteLine, rate_label};
use checkout::shipping::{self, ShippingMethodId};
use serde::{Deserialize, Serialize};
use shop_core::{CartId, Email, Money, OrderId};

use super::{
    AddressFields, CompleteView, DetailsView, LineView, MethodView, OfflinePayView, ReviewView,
    SavedAddress, ShippingView, Step, SummaryView,
};
use crate::cart::server::{existing_cart, options_label, refuse_extra_fields};
use crate::error::AppError;
use crate::ssr::{client_ip, current_user, internal, redirect_with_flash, server_context, session};

/// Session key of what the shopper entered in the checkout so far.
const DRAFT_KEY: &str = "checkout.draft";

/// What the shopper entered, kept between steps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Draft {
    email: String,
    /// The saved address chosen, if any (the customer's own: checked at every use).
    address_id: Option<String>,
    ship: PostalAddress,
    bill: Option<PostalAddress>,
    method: Option<String>,
}

async fn load_draft() -> Result<Option<Draft>, AppError> {
    session()?.get::<Draft>(DRAFT_KEY).await.map_err(internal)
}

async fn store_draft(draft: &Draft) -> Result<(), AppError> {
    session()?.insert(DRAFT_KEY, draft).await.map_err(internal)
}

fn fields_of(a: &PostalAddress) -> AddressFields {
    AddressFields {
        full_name: a.full_name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
    }
}

/// A saved address as an order keeps it.
fn saved_postal(a: auth::addresses::Address) -> PostalAddress {
    PostalAddress {
        full_name: a.full_name,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
        phone: a.phone,
    }
}

/// An order's address as the address book takes it.
fn address_input(a: &PostalAddress) -> auth::addresses::AddressInput {
    auth::addresses::AddressInput {
        full_name: a.full_name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
    }
}

/// "Free", or the amount.
pub(crate) fn shipping_label(amount: Money) -> String {
    if amount.minor() == 0 {
        "Free".to_owned()
    } else {
        amount.to_string()
    }
}

fn postal(a: auth::addresses::AddressInput) -> PostalAddress {
    PostalAddress {
        full_name: a.full_name,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
        phone: a.phone,
    }
}

/// An address as printed on a label, with the country's name.
pub(crate) fn label_lines(a: &PostalAddress) -> Vec<String> {
    let mut lines = a.lines();
    if let Some(country) = lines.iter_mut().find(|l| **l == a.country)
        && let Some((_, name)) = auth::addresses::COUNTRIES
            .iter()
            .find(|(code, _)| *code == a.country)
    {
        *country = (*name).to_owned();
    }
    lines
}

fn countries() -> Vec<(String, String)> {
    auth::addresses::COUNTRIES
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect()
}

pub(crate) fn line_view(
    name: &str,
    options: &[(String, String)],
    sku: &str,
    quantity: i64,
    unit_price: Money,
    line_total: Money,
    image: Option<&str>,
) -> LineView {
    LineView {
        name: name.to_owned(),
        options: options_label(options),
        sku: sku.to_owned(),
        quantity,
        unit_price: unit_price.to_string(),
        line_total: line_total.to_string(),
        image: image.map(|hash| {
            crate::image::from_catalog(&catalog::ImageRef {
                hash: hash.to_owned(),
                alt: name.to_owned(),
            })
        }),
    }
}

fn quote_lines(lines: &[QuoteLine]) -> Vec<LineView> {
    lines
        .iter()
        .map(|l| {
            line_view(
                &l.product_name,
                &l.options,
                &l.sku,
                l.quantity,
                l.unit_price,
                l.line_total,
                l.image.as_deref(),
            )
        })
        .collect()
}

/// The asker's cart, priced now without shipping, or the cart page to go back to: plain
/// when the cart is empty, with a message when something in it can no longer be bought as
/// it is (sold out meanwhile, no longer on sale).
async fn priced_cart() -> Result<Result<(CartId, Quote), String>, AppError> {
    let ctx = server_context()?;
    let account = current_user().await?;
    let Some(cart) = existing_cart(account.as_ref()).await? else {
        return Ok(Err("/cart".to_owned()));
    };
    match checkout::pricing::quote(&ctx.db, &cart, None, ctx.checkout.settings().vat_rate_bp).await
    {
        Ok(quote) => Ok(Ok((cart, quote))),
        Err(checkout::CheckoutError::EmptyCart) => Ok(Err("/cart".to_owned())),
        // The cart page says what changed and what to do.
        Err(e) if !e.is_internal() => Ok(Err("/cart?flash=cart_changed".to_owned())),
        Err(e) => Err(e.into()),
    }
}

fn summary(quote: &Quote) -> SummaryView {
    SummaryView {
        lines: quote_lines(&quote.lines),
        subtotal: quote.subtotal.to_string(),
    }
}

pub(super) async fn details() -> Result<Step<DetailsView>, AppError> {
    let ctx = server_context()?;
    let (cart, quote) = match priced_cart().await? {
        Ok(priced) => priced,
        Err(path) => return Ok(Step::GoTo(path)),
    };
    let account = current_user().await?;
    if crate::ssr::rendering_page("/checkout") {
        crate::ssr::note_event(&analytics::Noted {
            cart_id: Some(cart.as_str().to_owned()),
            ..analytics::Noted::new(analytics::Kind::CheckoutStarted)
        });
    }
    let draft = load_draft().await?.unwrap_or_default();
    let (saved, default) = match &account {
        Some(a) => {
            let list = auth::addresses::list(&ctx.db, &a.id).await?;
            let default = list.iter().find(|x| x.is_default).map(|x| x.id.to_string());
            let saved = list
                .iter()
                .map(|x| SavedAddress {
                    id: x.id.to_string(),
                    lines: crate::account::addresses::address_lines(x),
                })
                .collect();
            (saved, default)
        }
        None => (Vec::new(), None),
    };
    // A draft's new address is shown in the form; a saved one is ticked instead.
    let chosen = match (&draft.address_id, draft.ship.line1.is_empty()) {
        (Some(id), _) => Some(id.clone()),
        (None, true) => default,
        (None, false) => None,
    };
    Ok(Step::Show(DetailsView {
        signed_in: account.is_some(),
        email: match &account {
            Some(a) => a.email.as_str().to_owned(),
            None => draft.email.clone(),
        },
        saved,
        chosen: chosen.clone(),
        ship: if chosen.is_some() {
            AddressFields::default()
        } else {
            fields_of(&draft.ship)
        },
        bill: draft.bill.as_ref().map(fields_of),
        countries: countries(),
        summary: summary(&quote),
    }))
}

/// The fields the details form has; anything else is refused.
const DETAILS_FIELDS: &[&str] = &[
    "email",
    "create_account",
    "password",
    "address_id",
    "full_name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "save_address",
    "billing",
    "bill_full_name",
    "bill_line1",
    "bill_line2",
    "bill_city",
    "bill_region",
    "bill_postal_code",
    "bill_country",
    "bill_phone",
];

/// An address from the form's fields (`prefix` "" or "bill_"), validated as the address
/// book does; an error names the form's own field.
fn address_from(form: &HashMap<String, String>, prefix: &str) -> Result<PostalAddress, AppError> {
    let get = |name: &str| {
        form.get(&format!("{prefix}{name}"))
            .cloned()
            .unwrap_or_default()
    };
    let input = address_input(&PostalAddress {
        full_name: get("full_name"),
        line1: get("line1"),
        line2: get("line2"),
        city: get("city"),
        region: get("region"),
        postal_code: get("postal_code"),
        country: get("country"),
        phone: get("phone"),
    });
    match input.validate() {
        Ok(clean) => Ok(postal(clean)),
        Err(auth::AuthError::InvalidField { field, message }) => {
            Err(AppError::field(&format!("{prefix}{field}"), message))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn save_details(form: HashMap<String, String>) -> Result<(), AppError> {
    let unknown: HashMap<String, String> = form
        .iter()
        .filter(|(k, _)| !DETAILS_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    refuse_extra_fields(&unknown)?;
    let keep: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| k.as_str() != "password")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    save_details_checked(&form)
        .await
        .map_err(|e| e.keeping(&keep))
}

async fn save_details_checked(form: &HashMap<String, String>) -> Result<(), AppError> {
    let ctx = server_context()?;
    if priced_cart().await?.is_err() {
        return Err(AppError::form(
            "Your cart is empty or has items that can't be bought as they are; check your cart.",
        ));
    }
    let account = current_user().await?;
    let value = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
    let ticked = |name: &str| !value(name).is_empty();
    let email = match &account {
        Some(a) => a.email.clone(),
        None => {
            Email::parse(value("email")).map_err(|e| AppError::field("email", e.to_string()))?
        }
    };
    let chosen = value("address_id");
    let (address_id, ship) = if !chosen.is_empty() && chosen != "new" {
        // A saved address must be the asker's own: another shopper's id is not found.
        let not_yours = || AppError::field("address_id", "Choose one of your saved addresses.");
        let account = account.as_ref().ok_or_else(not_yours)?;
        let id = auth::addresses::AddressId::parse(chosen).map_err(|_| not_yours())?;
        let a = auth::addresses::get(&ctx.db, &account.id, &id)
            .await
            .map_err(|_| not_yours())?;
        (Some(a.id.to_string()), saved_postal(a))
    } else {
        (None, address_from(form, "")?)
    };
    let bill = match value("billing") {
        "other" => Some(address_from(form, "bill_")?),
        "" | "same" => None,
        _ => return Err(AppError::field("billing", "Choose a billing address.")),
    };
    if let (Some(account), None, true) = (&account, &address_id, ticked("save_address")) {
        auth::addresses::add(
            &ctx.db,
            &ctx.clock,
            &account.id,
            &address_input(&ship),
            false,
        )
        .await?;
    }
    let mut flash = None;
    if account.is_none() && ticked("create_account") {
        // The same answer whether or not the address has an account: a link by mail. The
        // order is a guest order; it joins the account once the address is confirmed.
        auth::register(
            &ctx.db,
            &ctx.clock,
            auth::users::Registration {
                email: email.clone(),
                display_name: ship.full_name.clone(),
                password: form.get("password").cloned().unwrap_or_default(),
                ip: client_ip(),
            },
        )
        .await
        .map_err(|e| AppError::from(e).on_field("password"))?;
        flash = Some("account_requested");
    }
    let previous = load_draft().await?.unwrap_or_default();
    store_draft(&Draft {
        email: email.as_str().to_owned(),
        address_id,
        // A method chosen before stays if it still serves the new address (checked at the
        // next step).
        method: previous.method,
        ship,
        bill,
    })
    .await?;
    match flash {
        Some(code) => redirect_with_flash("/checkout/shipping", code),
        None => leptos_axum::redirect("/checkout/shipping"),
    }
    Ok(())
}

/// Where the order's mail goes: the account's address when signed in (whatever a draft
/// entered as a guest held), else the one entered.
fn order_email(account: Option<&auth::Account>, draft: &Draft) -> Result<Email, AppError> {
    match account {
        Some(a) => Ok(a.email.clone()),
        None => Email::parse(&draft.email).map_err(|_| AppError::form("Enter your email again.")),
    }
}

/// The draft with a valid email and address, or where to go instead.
async fn ready_draft() -> Result<Result<Draft, String>, AppError> {
    match load_draft().await? {
        Some(d) if !d.email.is_empty() && !d.ship.country.is_empty() => Ok(Ok(d)),
        _ => Ok(Err("/checkout".to_owned())),
    }
}

pub(super) async fn shipping() -> Result<Step<ShippingView>, AppError> {
    let ctx = server_context()?;
    let (_, quote) = match priced_cart().await? {
        Ok(priced) => priced,
        Err(path) => return Ok(Step::GoTo(path)),
    };
    let draft = match ready_draft().await? {
        Ok(d) => d,
        Err(path) => return Ok(Step::GoTo(path)),
    };
    let offered = shipping::offered(&ctx.db, &draft.ship.country, quote.currency).await?;
    let chosen = draft
        .method
        .clone()
        .filter(|m| offered.iter().any(|o| o.id.as_str() == m))
        .or_else(|| offered.first().map(|m| m.id.to_string()));
    let methods = offered
        .iter()
        .map(|m| {
            let price = m.price_for(quote.subtotal);
            MethodView {
                id: m.id.to_string(),
                name: m.name.clone(),
                price: shipping_label(price),
                days: m.days_label(),
                note: m
                    .free_over
                    .filter(|_| price.minor() != 0)
                    .map(|f| format!("Free on orders of {f} or more")),
                chosen: chosen.as_deref() == Some(m.id.as_str()),
            }
        })
        .collect();
    Ok(Step::Show(ShippingView {
        email: draft.email.clone(),
        ship_to: label_lines(&draft.ship),
        methods,
        summary: summary(&quote),
    }))
}

pub(super) async fn choose_shipping(
    shipping_method: String,
    extra: HashMap<String, String>,
) -> Result<(), AppError> {
    refuse_extra_fields(&extra)?;
    let ctx = server_context()?;
    let Ok((_, quote)) = priced_cart().await? else {
        return Err(AppError::form(
            "Your cart is empty or has changed; check your cart.",
        ));
    };
    let mut draft = match ready_draft().await? {
        Ok(d) => d,
        Err(_) => return Err(AppError::form("Enter your address first.")),
    };
    let not_offered = || {
        AppError::field(
            "shipping_method",
            "Choose one of the shipping methods shown.",
        )
    };
    let id = ShippingMethodId::parse(&shipping_method).map_err(|_| not_offered())?;
    let offered = shipping::offered(&ctx.db, &draft.ship.country, quote.currency).await?;
    if !offered.iter().any(|m| m.id == id) {
        return Err(not_offered());
    }
    draft.method = Some(id.to_string());
    store_draft(&draft).await?;
    leptos_axum::redirect("/checkout/review");
    Ok(())
}

pub(super) async fn review() -> Result<Step<ReviewView>, AppError> {
    let ctx = server_context()?;
    let cart = match priced_cart().await? {
        Ok((cart, _)) => cart,
        Err(path) => return Ok(Step::GoTo(path)),
    };
    let draft = match ready_draft().await? {
        Ok(d) => d,
        Err(path) => return Ok(Step::GoTo(path)),
    };
    let Some(method) = draft
        .method
        .as_deref()
        .and_then(|m| ShippingMethodId::parse(m).ok())
    else {
        return Ok(Step::GoTo("/checkout/shipping".to_owned()));
    };
    let email = order_email(current_user().await?.as_ref(), &draft)?;
    let review = match ctx
        .checkout
        .review(&cart, &email, &draft.ship, draft.bill.as_ref(), &method)
        .await
    {
        Ok(r) => r,
        // The method no longer serves this address (disabled meanwhile): choose again.
        Err(checkout::CheckoutError::Invalid {
            field: "shipping_method",
            ..
        }) => {
            return Ok(Step::GoTo("/checkout/shipping".to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    let q = &review.quote;
    let notices = q
        .lines
        .iter()
        .filter_map(|l| {
            l.was.map(|was| {
                format!(
                    "The price of {} has changed from {was} to {} since you added it.",
                    l.product_name, l.unit_price
                )
            })
        })
        .collect();
    let shipping = q.shipping.unwrap_or(Money::zero(q.currency));
    Ok(Step::Show(ReviewView {
        email: email.as_str().to_owned(),
        ship_to: label_lines(&draft.ship),
        bill_to: label_lines(draft.bill.as_ref().unwrap_or(&draft.ship)),
        method: review.method.name.clone(),
        days: review.method.days_label(),
        lines: quote_lines(&q.lines),
        subtotal: q.subtotal.to_string(),
        shipping: shipping_label(shipping),
        vat_label: rate_label(q.vat_rate_bp),
        vat: q.vat.to_string(),
        total: q.total.to_string(),
        reviewed: review.fingerprint.clone(),
        idempotency_key: shop_core::id::new_uuid_v7(),
        notices,
    }))
}

pub(super) async fn place(
    reviewed: String,
    idempotency_key: String,
    extra: HashMap<String, String>,
) -> Result<(), AppError> {
    refuse_extra_fields(&extra)?;
    let ctx = server_context()?;
    let account = current_user().await?;
    let Some(cart) = existing_cart(account.as_ref()).await? else {
        return Err(AppError::form("Your cart is empty."));
    };
    let draft = match ready_draft().await? {
        Ok(d) => d,
        Err(_) => return Err(AppError::form("Enter your details first.")),
    };
    let method = draft
        .method
        .as_deref()
        .and_then(|m| ShippingMethodId::parse(m).ok())
        .ok_or_else(|| AppError::form("Choose a shipping method first."))?;
    let email = order_email(account.as_ref(), &draft)?;
    let placed = ctx
        .checkout
        .place(&checkout::PlaceOrder {
            cart: cart.clone(),
            customer: account.as_ref().map(|a| a.id.clone()),
            email,
            shipping_address: draft.ship.clone(),
            billing_address: draft.bill.clone(),
            shipping_method: method,
            reviewed,
            idempotency_key,
        })
        .await?;
    crate::ssr::note_event_by(
        account.as_ref(),
        &analytics::Noted {
            order_id: Some(placed.order_id.as_str().to_owned()),
            cart_id: Some(cart.as_str().to_owned()),
            ..analytics::Noted::new(analytics::Kind::OrderPlaced)
        },
    );
    leptos_axum::redirect(&placed.payment_url);
    Ok(())
}

/// Whether the asker may see `order`: its customer, a customer whose confirmed address it
/// was placed with, or whoever holds its signed link.
pub(crate) async fn may_see(order: &checkout::Order, token: &str) -> Result<bool, AppError> {
    let ctx = server_context()?;
    if !token.is_empty() && ctx.checkout.keys().check_order_token(&order.id, token) {
        return Ok(true);
    }
    Ok(match current_user().await? {
        Some(a) => order.is_customers(&a.id, a.is_verified().then(|| a.email.as_str())),
        None => false,
    })
}

/// An order the asker may see; anybody else's is "not found" (404), not "forbidden".
pub(crate) async fn visible_order(id: &str, token: &str) -> Result<checkout::Order, AppError> {
    let ctx = server_context()?;
    let id = OrderId::parse(id).map_err(|_| AppError::NotFound)?;
    let order = checkout::orders::load(&ctx.db, &id).await?;
    if may_see(&order, token).await? {
        Ok(order)
    } else {
        Err(AppError::NotFound)
    }
}

pub(super) async fn complete(order: String, t: String) -> Result<CompleteView, AppError> {
    let ctx = server_context()?;
    let order = visible_order(&order, &t).await?;
    let token = ctx.checkout.keys().order_token(&order.id);
    let signed_in = current_user().await?.is_some();
    Ok(CompleteView {
        number: order.number_label(),
        status: order.status.label().to_owned(),
        paid: !matches!(
            order.status,
            checkout::OrderStatus::PendingPayment
                | checkout::OrderStatus::Expired
                | checkout::OrderStatus::Cancelled
        ),
        confirming: order.status == checkout::OrderStatus::PendingPayment,
        email: order.email.clone(),
        total: order.total.to_string(),
        order_href: if signed_in && order.user_id.is_some() {
            format!("/account/orders/{}", order.id)
        } else {
            format!("/orders/{}?t={token}", order.id)
        },
    })
}

pub(super) async fn offline_payment(session: String) -> Result<OfflinePayView, AppError> {
    let ctx = server_context()?;
    if ctx.checkout.provider().name() != "offline" {
        return Err(AppError::NotFound);
    }
    let s = checkout::payment::offline_session(&ctx.db, &session)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let open = s.status == "open" && s.expires_at > ctx.clock.now().millis() / 1000;
    Ok(OfflinePayView {
        session: s.id.clone(),
        number: s.order_number.clone(),
        email: s.email.clone(),
        amount: s
            .amount()
            .map(|m| m.to_string())
            .unwrap_or_else(|| format!("{} {}", s.amount_minor, s.currency)),
        open,
        can_save: s.customer_id.is_some(),
    })
}

pub(super) async fn offline_choose(
    session: String,
    choice: String,
    mut extra: HashMap<String, String>,
) -> Result<(), AppError> {
    let save_card = match extra.remove("save_card").as_deref() {
        None => false,
        Some("yes") => true,
        Some(_) => return Err(AppError::field("save_card", "Tick the box or leave it.")),
    };
    refuse_extra_fields(&extra)?;
    let ctx = server_context()?;
    let choice = match choice.as_str() {
        "pay" => OfflineChoice::Pay,
        "decline" => OfflineChoice::Decline,
        "cancel" => OfflineChoice::Cancel,
        _ => return Err(AppError::field("choice", "Choose pay, decline or cancel.")),
    };
    if session.len() > 100 {
        return Err(AppError::NotFound);
    }
    let target = ctx
        .checkout
        .offline_choice(&session, choice, save_card)
        .await?;
    leptos_axum::redirect(&target);
    Ok(())
}
