//! The server side of the cart's server functions: which cart a request means, the checks on
//! what the browser sent, and the cart service's answers turned into what the pages show.
//!
//! A signed-in customer's cart is stored against the account, so it follows them to every
//! device and every instance. A guest's cart id lives in their session (the sessions table
//! is shared by all instances too); the cart is created on the first add, never by merely
//! looking at a page.

use std::collections::HashMap;

use super::GUEST_CART_KEY;
use cart::{CartError, CartId, LineId, MAX_QUANTITY, Problem, Quantity};
use catalog::VariantId;

use super::{AddOutcome, CartLineView, CartView, MiniCart, MiniLine, line_field, variant_field};
use crate::components::humanize;
use crate::error::AppError;
use crate::image::from_catalog;
use crate::ssr::{current_user, internal, is_plain_form_post, server_context, session};

/// Session key for the outcomes the cart page shows once (after a plain form post, or what
/// a merge at sign-in changed).
const NOTICES_KEY: &str = "cart.notices";

/// Notices kept for the cart page at most.
const MAX_NOTICES: usize = 3;

/// Lines the header's mini-cart lists.
const MINI_LINES: usize = 3;

/// Refuses a request that carries fields the form does not have (a price, a total): the
/// shop computes those itself, and a request that tries to set them is not one our pages
/// send.
pub(crate) fn refuse_extra_fields(extra: &HashMap<String, String>) -> Result<(), AppError> {
    // With JavaScript on, Leptos's ActionForm appends the submit button's name and value,
    // and our buttons have neither: that empty pair arrives as `=` (serde_qs reads `&=` as
    // the key "="). It carries nothing, so it is not an extra field.
    let mut names: Vec<&str> = extra
        .iter()
        .filter(|(k, v)| !(v.is_empty() && (k.is_empty() || k.as_str() == "=")))
        .map(|(k, _)| k.as_str())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort_unstable();
    let shown: Vec<String> = names
        .iter()
        .take(5)
        .map(|n| n.chars().take(40).collect())
        .collect();
    Err(AppError::form(format!(
        "The request had fields the cart does not take ({}). Prices and totals are always the shop's own.",
        shown.join(", ")
    )))
}

/// A quantity as typed: a whole number from 1 to 99.
fn parse_quantity(raw: &str, field: &str) -> Result<Quantity, AppError> {
    Quantity::parse(raw).map_err(|e| AppError::field(field, e.to_string()))
}

/// The cart of the asker, if they have one: the account's, or the guest's from the session.
pub(crate) async fn existing_cart(
    account: Option<&auth::Account>,
) -> Result<Option<CartId>, AppError> {
    let ctx = server_context()?;
    match account {
        Some(a) => cart::find_for_user(&ctx.db, &a.id).await.map_err(internal),
        None => session()?
            .get::<CartId>(GUEST_CART_KEY)
            .await
            .map_err(internal),
    }
}

/// The cart a line action works on. Without one, no line can be the asker's.
async fn cart_to_change(field: &str) -> Result<CartId, AppError> {
    let account = current_user().await?;
    existing_cart(account.as_ref())
        .await?
        .ok_or_else(|| AppError::field(field, CartError::UnknownLine.to_string()))
}

/// Leaves a message for the cart page to show once.
async fn leave_notice(message: String) -> Result<(), AppError> {
    let session = session()?;
    let mut notices: Vec<String> = session
        .get(NOTICES_KEY)
        .await
        .map_err(internal)?
        .unwrap_or_default();
    notices.push(message);
    // Posts without a look at the cart in between (JavaScript off) keep only the latest.
    let excess = notices.len().saturating_sub(MAX_NOTICES);
    notices.drain(..excess);
    session.insert(NOTICES_KEY, notices).await.map_err(internal)
}

/// The notices left for the cart page, taken (they show once). Looks before it takes:
/// removing a key marks the session changed, and a view of the cart should write nothing.
async fn take_notices() -> Result<Vec<String>, AppError> {
    let session = session()?;
    let notices: Option<Vec<String>> = session.get(NOTICES_KEY).await.map_err(internal)?;
    if notices.is_some() {
        session
            .remove::<Vec<String>>(NOTICES_KEY)
            .await
            .map_err(internal)?;
    }
    Ok(notices.unwrap_or_default())
}

/// After a plain form post (JavaScript off) the browser goes to the cart page, which shows
/// `notice`; with JavaScript on the form shows what happened in place.
async fn back_to_cart(notice: Option<String>) -> Result<(), AppError> {
    if is_plain_form_post() {
        if let Some(n) = notice {
            leave_notice(n).await?;
        }
        leptos_axum::redirect("/cart");
    }
    Ok(())
}

pub(crate) fn options_label(options: &[(String, String)]) -> String {
    options
        .iter()
        .map(|(k, v)| format!("{}: {v}", humanize(k)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn problem_text(problem: &Problem) -> String {
    match problem {
        Problem::NotOnSale => "No longer available. Remove it to go to checkout.".to_owned(),
        Problem::OutOfStock => "Out of stock. Remove it to go to checkout.".to_owned(),
        Problem::NotEnough(1) => {
            "Only 1 left. Lower the quantity to 1 to go to checkout.".to_owned()
        }
        Problem::NotEnough(n) => {
            format!("Only {n} left. Lower the quantity to {n} or fewer to go to checkout.")
        }
    }
}

fn price_change_text(line: &cart::Line) -> Option<String> {
    let was = line.was?;
    let now = line.unit_price;
    let direction = if was.currency() != now.currency() {
        "changed"
    } else if now.minor() > was.minor() {
        "gone up"
    } else {
        "gone down"
    };
    Some(format!(
        "The price has {direction} from {was} to {now} since you added this."
    ))
}

fn line_view(line: cart::Line) -> CartLineView {
    let v = &line.item;
    CartLineView {
        id: line.id.as_str().to_owned(),
        name: v.product_name.clone(),
        href: format!("/p/{}?variant={}", v.slug, crate::url::urlencode(&v.sku)),
        sku: v.sku.clone(),
        options: options_label(&v.options),
        image: v.image.as_ref().map(from_catalog),
        unit_price: line.unit_price.to_string(),
        price_change: price_change_text(&line),
        quantity: line.quantity,
        max_quantity: v.available.clamp(1, MAX_QUANTITY),
        line_total: line.line_total.to_string(),
        problem: line.problem.as_ref().map(problem_text),
    }
}

/// The cart page's data, with the notices left for it (taken: they show once).
pub(crate) async fn cart_page() -> Result<CartView, AppError> {
    let account = current_user().await?;
    let notices = take_notices().await?;
    let signed_in = account.is_some();
    let Some(id) = existing_cart(account.as_ref()).await? else {
        return Ok(CartView {
            notices,
            signed_in,
            ..CartView::default()
        });
    };
    let c = load_for_shopper(&id).await?;
    if crate::ssr::rendering_page("/cart") {
        crate::ssr::note_event(&analytics::Noted {
            cart_id: Some(id.as_str().to_owned()),
            quantity: Some(c.items),
            ..analytics::Noted::new(analytics::Kind::CartView)
        });
    }
    Ok(CartView {
        items: c.items,
        subtotal: c.subtotal.map(|s| s.to_string()),
        ready_for_checkout: c.ready_for_checkout,
        lines: c.lines.into_iter().map(line_view).collect(),
        notices,
        signed_in,
    })
}

/// The header's cart for `account` (or the guest): count, first lines, subtotal.
pub(crate) async fn mini_cart(account: Option<&auth::Account>) -> Result<MiniCart, AppError> {
    let ctx = server_context()?;
    let Some(id) = existing_cart(account).await? else {
        return Ok(MiniCart::default());
    };
    // Shown beside a page that may itself be up to the catalog's cache time behind: at the
    // same cached prices and stock, for one query.
    let c = cart::load_for_display(&ctx.db, &ctx.catalog, &id)
        .await
        .map_err(internal)?;
    let more = c.lines.len().saturating_sub(MINI_LINES);
    Ok(MiniCart {
        items: c.items,
        subtotal: c.subtotal.map(|s| s.to_string()),
        lines: c
            .lines
            .into_iter()
            .take(MINI_LINES)
            .map(|l| MiniLine {
                options: options_label(&l.item.options),
                image: l.item.image.as_ref().map(from_catalog),
                name: l.item.product_name,
                quantity: l.quantity,
                line_total: l.line_total.to_string(),
            })
            .collect(),
        more,
    })
}

#[tracing::instrument(skip_all, fields(variant.id = %variant_id))]
pub(crate) async fn add(
    variant_id: &str,
    quantity: &str,
    extra: &HashMap<String, String>,
) -> Result<AddOutcome, AppError> {
    let field = variant_field(variant_id);
    refuse_extra_fields(extra)?;
    let quantity = parse_quantity(quantity, &field)?;
    let variant = VariantId::parse(variant_id)
        .map_err(|_| AppError::field(&field, CartError::UnknownVariant.to_string()))?;
    let ctx = server_context()?;
    let account = current_user().await?;
    let to = match &account {
        Some(account) => cart::CartOf::User(
            cart::for_user(&ctx.db, &ctx.clock, &account.id)
                .await
                .map_err(internal)?,
        ),
        None => cart::CartOf::Guest(
            session()?
                .get::<CartId>(GUEST_CART_KEY)
                .await
                .map_err(internal)?,
        ),
    };
    // A cart being checked out is changing: its unpaid order is withdrawn first (see
    // `changing`), then the add goes ahead.
    let mut done = cart::add_to(&ctx.db, &ctx.clock, &to, &variant, quantity).await;
    if let Err(CartError::CheckingOut(order)) = &done {
        ctx.checkout.cart_changing_from(order).await?;
        done = cart::add_to(&ctx.db, &ctx.clock, &to, &variant, quantity).await;
    }
    let done = done.map_err(|e| AppError::from(e).on_field(&field))?;
    if done.created {
        session()?
            .insert(GUEST_CART_KEY, &done.cart)
            .await
            .map_err(internal)?;
    }
    crate::ssr::note_event_by(
        account.as_ref(),
        &analytics::Noted {
            product_id: Some(done.item.product_id.as_str().to_owned()),
            vendor_id: done.item.vendor_id.as_ref().map(|v| v.as_str().to_owned()),
            quantity: Some(quantity.get()),
            cart_id: Some(done.cart.as_str().to_owned()),
            ..analytics::Noted::new(analytics::Kind::AddToCart)
        },
    );
    let (added, items) = (done.added, done.units);
    let message = if !added.capped {
        "Added to your cart.".to_owned()
    } else if added.quantity >= MAX_QUANTITY {
        format!("Your cart now has {MAX_QUANTITY} of these, the most one order can take.")
    } else {
        format!(
            "Only {n} available, so your cart now has {n}.",
            n = added.quantity
        )
    };
    back_to_cart(Some(message.clone())).await?;
    Ok(AddOutcome { message, items })
}

#[tracing::instrument(skip_all, fields(line.id = %line_id))]
pub(crate) async fn update(
    line_id: &str,
    quantity: &str,
    extra: &HashMap<String, String>,
) -> Result<Option<String>, AppError> {
    let field = line_field(line_id);
    refuse_extra_fields(extra)?;
    let asked = parse_quantity(quantity, &field)?;
    let line = LineId::parse(line_id)
        .map_err(|_| AppError::field(&field, CartError::UnknownLine.to_string()))?;
    let cart_id = cart_to_change(&field).await?;
    changing(&cart_id).await?;
    let ctx = server_context()?;
    let set = cart::set_quantity(&ctx.db, &ctx.clock, &cart_id, &line, asked)
        .await
        .map_err(|e| AppError::from(e).on_field(&field))?;
    let capped =
        (set < asked.get()).then(|| format!("Only {set} available, so the quantity is now {set}."));
    back_to_cart(capped.clone()).await?;
    Ok(capped)
}

#[tracing::instrument(skip_all, fields(line.id = %line_id))]
pub(crate) async fn remove(line_id: &str, extra: &HashMap<String, String>) -> Result<(), AppError> {
    let field = line_field(line_id);
    refuse_extra_fields(extra)?;
    let line = LineId::parse(line_id)
        .map_err(|_| AppError::field(&field, CartError::UnknownLine.to_string()))?;
    let cart_id = cart_to_change(&field).await?;
    changing(&cart_id).await?;
    let ctx = server_context()?;
    cart::remove(&ctx.db, &ctx.clock, &cart_id, &line)
        .await
        .map_err(|e| AppError::from(e).on_field(&field))?;
    back_to_cart(None).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn clear(extra: &HashMap<String, String>) -> Result<(), AppError> {
    refuse_extra_fields(extra)?;
    let account = current_user().await?;
    if let Some(cart_id) = existing_cart(account.as_ref()).await? {
        changing(&cart_id).await?;
        let ctx = server_context()?;
        cart::clear(&ctx.db, &ctx.clock, &cart_id)
            .await
            .map_err(|e| AppError::from(e).on_field("cart"))?;
    }
    back_to_cart(None).await
}

/// At sign-in (the session now belongs to `account`): moves the guest cart the session held
/// into the account's cart. Returns true when quantities had to change on the way (the cart
/// page then says which). A failure is logged and leaves the guest cart where it was: it
/// never stops the sign-in.
pub(crate) async fn merge_guest_cart(account: &auth::Account) -> bool {
    // The error was logged where it arose (with the request id).
    try_merge(account).await.unwrap_or(false)
}

/// Before a change to the cart: an order placed from it and still unpaid is withdrawn (it
/// no longer matches the cart), freeing the units it held for this very change.
async fn changing(cart: &CartId) -> Result<(), AppError> {
    Ok(server_context()?.checkout.cart_changing(cart).await?)
}

/// A cart as its shopper sees it: the units their own unpaid order holds count as theirs.
async fn load_for_shopper(id: &CartId) -> Result<cart::Cart, AppError> {
    let ctx = server_context()?;
    let held = checkout::orders::held_for_cart(&ctx.db, id).await?;
    cart::load_holding(&ctx.db, id, &held)
        .await
        .map_err(internal)
}

async fn try_merge(account: &auth::Account) -> Result<bool, AppError> {
    let ctx = server_context()?;
    let session = session()?;
    let Some(guest) = session
        .get::<CartId>(GUEST_CART_KEY)
        .await
        .map_err(internal)?
    else {
        return Ok(false);
    };
    // A guest order still awaiting payment is withdrawn first: its lines join the account's
    // cart, which must not be checked out a second time beside it. Paid meanwhile, it stays.
    if let Some(order) = cart::checkout::pending_order(&ctx.db, &guest)
        .await
        .map_err(internal)?
    {
        match ctx.checkout.withdraw(&order).await {
            Ok(()) | Err(checkout::CheckoutError::AlreadyPaid) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (_, merged) = cart::merge_into_user(&ctx.db, &ctx.clock, &guest, &account.id)
        .await
        .map_err(internal)?;
    session
        .remove::<CartId>(GUEST_CART_KEY)
        .await
        .map_err(internal)?;
    if !merged.capped.is_empty() {
        leave_notice(format!(
            "We added the cart from before you signed in to your account's cart. Fewer of these are in it than the two carts held together, as that is all we can sell you: {}.",
            merged.capped.join(", ")
        ))
        .await?;
    }
    if !merged.unavailable.is_empty() {
        leave_notice(format!(
            "These items from the cart before you signed in are no longer available and were left out: {}.",
            merged.unavailable.join(", ")
        ))
        .await?;
    }
    Ok(!merged.is_clean())
}
