//! Carts through the API. A signed-in caller (`Authorization: Bearer`) uses their account's
//! cart, the same one the shop's pages show them. A guest's first add makes a cart and
//! answers its `cart_token`, which later requests send as `X-Cart-Token`: the cart's id with
//! an HMAC of it, so a token cannot be guessed or made for another cart.
//!
//! Prices and totals are always the catalog's current ones, worked out on the server; the
//! client sends only variant ids, line ids and quantities.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use cart::{CartError, CartId, LineId, Quantity};
use serde::{Deserialize, Serialize};
use shop_core::VariantId;
use utoipa::ToSchema;

use super::Money;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody, Json, cart_error};
use crate::state::AppState;

/// The header a guest's cart token travels in.
pub const CART_TOKEN: &str = "x-cart-token";
/// Whose cart a request means.
#[derive(Debug, Clone)]
pub enum Shopper {
    /// A signed-in caller.
    Customer(Caller),
    /// A guest, with the cart their token names (if they sent one).
    Guest(Option<CartId>),
}

impl FromRequestParts<AppState> for Shopper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Ok(Shopper::Customer(
                Caller::from_request_parts(parts, state).await?,
            ));
        }
        match parts.headers.get(CART_TOKEN) {
            None => Ok(Shopper::Guest(None)),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|t| state.api.carts.cart_of(t.trim()))
                .map(|id| Shopper::Guest(Some(id)))
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "invalid_cart_token",
                        "The X-Cart-Token is not one this shop gave out.",
                    )
                }),
        }
    }
}

/// A cart line at the current price.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartLine {
    pub id: String,
    pub variant_id: String,
    pub product_slug: String,
    pub product_name: String,
    pub sku: String,
    pub options: std::collections::BTreeMap<String, String>,
    pub quantity: i64,
    /// The current price: what the total uses.
    pub unit_price: Money,
    /// The price when the line was added, when it differs.
    pub previous_unit_price: Option<Money>,
    pub line_total: Money,
    /// What stops the line from being bought as it is: `not_on_sale`, `out_of_stock` or
    /// `not_enough` (then `available` says how many are).
    pub problem: Option<String>,
    pub available: Option<i64>,
}

/// A cart at current prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartBody {
    /// For a guest's cart: send it as `X-Cart-Token` to use the cart again.
    pub cart_token: Option<String>,
    pub lines: Vec<CartLine>,
    /// Units, flagged lines included.
    pub units: i64,
    /// The lines that can be bought, totalled; absent when none can.
    pub subtotal: Option<Money>,
    /// Every line can be bought as it is.
    pub ready_for_checkout: bool,
}

fn body_of(c: cart::Cart, token: Option<String>) -> CartBody {
    CartBody {
        cart_token: token,
        lines: c
            .lines
            .into_iter()
            .map(|l| {
                let (problem, available) = match l.problem {
                    None => (None, None),
                    Some(cart::Problem::NotOnSale) => (Some("not_on_sale"), None),
                    Some(cart::Problem::OutOfStock) => (Some("out_of_stock"), Some(0)),
                    Some(cart::Problem::NotEnough(n)) => (Some("not_enough"), Some(n)),
                };
                CartLine {
                    id: l.id.as_str().to_owned(),
                    variant_id: l.item.variant_id.as_str().to_owned(),
                    product_slug: l.item.slug,
                    product_name: l.item.product_name,
                    sku: l.item.sku,
                    options: l.item.options.into_iter().collect(),
                    quantity: l.quantity,
                    unit_price: Money::from(l.unit_price),
                    previous_unit_price: l.was.map(Money::from),
                    line_total: Money::from(l.line_total),
                    problem: problem.map(str::to_owned),
                    available,
                }
            })
            .collect(),
        units: c.items,
        subtotal: c.subtotal.map(Money::from),
        ready_for_checkout: c.ready_for_checkout,
    }
}

fn quantity(units: i64) -> Result<Quantity, ApiError> {
    Quantity::new(units).map_err(|_| {
        ApiError::invalid(
            "quantity",
            format!("Choose from 1 to {}.", cart::MAX_QUANTITY),
        )
    })
}

/// The cart a shopper already has, if any (looking makes none).
async fn existing(state: &AppState, shopper: &Shopper) -> Result<Option<CartId>, ApiError> {
    let ctx = &state.ctx;
    match shopper {
        Shopper::Customer(caller) => cart::find_for_user(&ctx.db, &caller.account.id)
            .await
            .map_err(|e| cart_error(e, "cart")),
        Shopper::Guest(Some(id)) => Ok(cart::guest_exists(&ctx.db, id)
            .await
            .map_err(|e| cart_error(e, "cart"))?
            .then(|| id.clone())),
        Shopper::Guest(None) => Ok(None),
    }
}

/// The cart as its shopper sees it (the units their own unpaid order holds count as
/// theirs), with a guest's token.
async fn answer(
    state: &AppState,
    shopper: &Shopper,
    id: Option<CartId>,
) -> Result<Json<CartBody>, ApiError> {
    let ctx = &state.ctx;
    let Some(id) = id else {
        return Ok(Json(CartBody {
            cart_token: None,
            lines: Vec::new(),
            units: 0,
            subtotal: None,
            ready_for_checkout: false,
        }));
    };
    let held = checkout::orders::held_for_cart(&ctx.db, &id)
        .await
        .map_err(ApiError::from)?;
    let c = cart::load_holding(&ctx.db, &id, &held)
        .await
        .map_err(|e| cart_error(e, "cart"))?;
    let token = matches!(shopper, Shopper::Guest(_)).then(|| state.api.carts.token(&id));
    Ok(Json(body_of(c, token)))
}

/// The cart: a customer's (with a bearer token), a guest's (with `X-Cart-Token`), or an
/// empty one for a guest without a cart yet.
#[utoipa::path(
    get, path = "/cart", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The cart at current prices", body = CartBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<Json<CartBody>, ApiError> {
    let id = existing(&state, &shopper).await?;
    answer(&state, &shopper, id).await
}

/// What to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    pub variant_id: String,
    /// 1 to 99; never more than are available (the line is capped).
    pub quantity: i64,
}

/// Adds units of a variant (to its line, if the cart has one). A guest without a cart gets
/// one: the answer's `cart_token` names it.
#[utoipa::path(
    post, path = "/cart/items", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token")),
    security((), ("bearer" = [])),
    request_body = AddRequest,
    responses(
        (status = 200, description = "The cart after the add", body = CartBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
        (status = 409, description = "Out of stock, not on sale, or the cart is full", body = ErrorBody),
        (status = 422, description = "Unknown variant or a quantity out of range", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<AppState>,
    shopper: Shopper,
    Json(body): Json<AddRequest>,
) -> Result<Json<CartBody>, ApiError> {
    let ctx = &state.ctx;
    let units = quantity(body.quantity)?;
    let variant = VariantId::parse(&body.variant_id)
        .map_err(|_| ApiError::invalid("variant_id", CartError::UnknownVariant.to_string()))?;
    let to = match &shopper {
        Shopper::Customer(caller) => cart::CartOf::User(
            cart::for_user(&ctx.db, &ctx.clock, &caller.account.id)
                .await
                .map_err(|e| cart_error(e, "cart"))?,
        ),
        Shopper::Guest(id) => cart::CartOf::Guest(id.clone()),
    };
    // A cart being checked out is changing: its unpaid order is withdrawn first.
    let mut done = cart::add_to(&ctx.db, &ctx.clock, &to, &variant, units).await;
    if let Err(CartError::CheckingOut(order)) = &done {
        ctx.checkout
            .cart_changing_from(order)
            .await
            .map_err(ApiError::from)?;
        done = cart::add_to(&ctx.db, &ctx.clock, &to, &variant, units).await;
    }
    let done = done.map_err(|e| cart_error(e, "variant_id"))?;
    answer(&state, &shopper, Some(done.cart)).await
}

/// A line's new quantity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRequest {
    /// 1 to 99; capped at the units available.
    pub quantity: i64,
}

/// The shopper's cart for a change to one of its lines: none → the line is not theirs.
async fn to_change(state: &AppState, shopper: &Shopper) -> Result<CartId, ApiError> {
    let id = existing(state, shopper)
        .await?
        .ok_or_else(|| ApiError::not_found(CartError::UnknownLine.to_string()))?;
    state
        .ctx
        .checkout
        .cart_changing(&id)
        .await
        .map_err(ApiError::from)?;
    Ok(id)
}

fn line_of(line_id: &str) -> Result<LineId, ApiError> {
    LineId::parse(line_id).map_err(|_| ApiError::not_found(CartError::UnknownLine.to_string()))
}

/// Sets a line's quantity. A line of another cart is not found.
#[utoipa::path(
    patch, path = "/cart/items/{line_id}", tag = "cart",
    params(
        ("line_id" = String, Path, description = "The line's id"),
        ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token"),
    ),
    security((), ("bearer" = [])),
    request_body = SetRequest,
    responses(
        (status = 200, description = "The cart after the change", body = CartBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
        (status = 404, description = "No such line in this cart", body = ErrorBody),
        (status = 409, description = "Out of stock or not on sale", body = ErrorBody),
        (status = 422, description = "A quantity out of range", body = ErrorBody),
    )
)]
pub async fn set(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(line_id): Path<String>,
    Json(body): Json<SetRequest>,
) -> Result<Json<CartBody>, ApiError> {
    let units = quantity(body.quantity)?;
    let line = line_of(&line_id)?;
    let id = to_change(&state, &shopper).await?;
    let ctx = &state.ctx;
    cart::set_quantity(&ctx.db, &ctx.clock, &id, &line, units)
        .await
        .map_err(|e| cart_error(e, "quantity"))?;
    answer(&state, &shopper, Some(id)).await
}

/// Removes a line. A line of another cart is not found.
#[utoipa::path(
    delete, path = "/cart/items/{line_id}", tag = "cart",
    params(
        ("line_id" = String, Path, description = "The line's id"),
        ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The cart after the change", body = CartBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
        (status = 404, description = "No such line in this cart", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(line_id): Path<String>,
) -> Result<Json<CartBody>, ApiError> {
    let line = line_of(&line_id)?;
    let id = to_change(&state, &shopper).await?;
    let ctx = &state.ctx;
    cart::remove(&ctx.db, &ctx.clock, &id, &line)
        .await
        .map_err(|e| cart_error(e, "line_id"))?;
    answer(&state, &shopper, Some(id)).await
}

/// Empties the cart.
#[utoipa::path(
    delete, path = "/cart", tag = "cart",
    params(("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The empty cart", body = CartBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
    )
)]
pub async fn clear(
    State(state): State<AppState>,
    shopper: Shopper,
) -> Result<Json<CartBody>, ApiError> {
    let Some(id) = existing(&state, &shopper).await? else {
        return answer(&state, &shopper, None).await;
    };
    let ctx = &state.ctx;
    ctx.checkout
        .cart_changing(&id)
        .await
        .map_err(ApiError::from)?;
    cart::clear(&ctx.db, &ctx.clock, &id)
        .await
        .map_err(|e| cart_error(e, "cart"))?;
    answer(&state, &shopper, Some(id)).await
}
