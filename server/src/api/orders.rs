//! Checkout and orders through the API: the shipping methods for an address, placing an
//! order from the cart (→ the payment page's URL), the customer's orders, one order, and
//! cancelling an order that has not shipped.
//!
//! Every amount comes from the server: the request names a cart (by who is asking), the
//! addresses and a shipping method, never a price.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::Money;
use super::auth::Caller;
use super::cart::Shopper;
use super::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;

/// The header a guest's order token travels in.
pub const ORDER_TOKEN: &str = "x-order-token";

/// A postal address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub full_name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    #[serde(default)]
    pub phone: String,
}

impl From<&checkout::orders::PostalAddress> for Address {
    fn from(a: &checkout::orders::PostalAddress) -> Address {
        Address {
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
}

/// `a` checked as the address book checks it; an error names `prefix.field`.
fn postal(a: Address, prefix: &str) -> Result<checkout::orders::PostalAddress, ApiError> {
    let input = auth::addresses::AddressInput {
        full_name: a.full_name,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
        phone: a.phone,
    };
    match input.validate() {
        Ok(c) => Ok(checkout::orders::PostalAddress {
            full_name: c.full_name,
            line1: c.line1,
            line2: c.line2,
            city: c.city,
            region: c.region,
            postal_code: c.postal_code,
            country: c.country,
            phone: c.phone,
        }),
        Err(auth::AuthError::InvalidField { field, message }) => {
            Err(ApiError::invalid(&format!("{prefix}.{field}"), message))
        }
        Err(e) => Err(super::auth::auth_error(e)),
    }
}

/// A way to ship.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShippingMethodBody {
    pub id: String,
    pub name: String,
    pub price: Money,
    /// Free for orders of at least this much.
    pub free_over: Option<Money>,
    pub min_days: i64,
    pub max_days: i64,
}

/// The methods offered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShippingMethodList {
    pub data: Vec<ShippingMethodBody>,
}

/// Where to ship.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ShippingParams {
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// The shipping methods offered for a country.
#[utoipa::path(
    get, path = "/checkout/shipping-methods", tag = "orders",
    params(ShippingParams),
    responses(
        (status = 200, description = "The methods, cheapest first as the shop orders them", body = ShippingMethodList),
        (status = 422, description = "No country given", body = ErrorBody),
    )
)]
pub async fn shipping_methods(
    State(state): State<AppState>,
    params: Result<Query<ShippingParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ShippingMethodList>, ApiError> {
    let Query(p) = params.map_err(super::catalog::query_error)?;
    let country = p.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::invalid(
            "country",
            "Use a two-letter country code.",
        ));
    }
    let ctx = &state.ctx;
    let methods = checkout::shipping::offered(&ctx.db, &country, ctx.shop.currency).await?;
    Ok(Json(ShippingMethodList {
        data: methods
            .into_iter()
            .map(|m| ShippingMethodBody {
                id: m.id.as_str().to_owned(),
                name: m.name,
                price: Money::from(m.price),
                free_over: m.free_over.map(Money::from),
                min_days: m.min_days,
                max_days: m.max_days,
            })
            .collect(),
    }))
}

/// What placing an order takes. No amounts: the shop computes them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    /// A guest's address for the order's mails; a customer's account address is used
    /// when this is left out.
    pub email: Option<String>,
    pub shipping_address: Address,
    /// Left out: the same as the shipping address.
    pub billing_address: Option<Address>,
    pub shipping_method_id: String,
}

/// An order line.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineBody {
    /// The line's id (to ship or refund it through the admin API).
    pub id: String,
    pub variant_id: String,
    pub product_name: String,
    pub product_slug: String,
    pub sku: String,
    pub options: std::collections::BTreeMap<String, String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub shipped: i64,
    pub refunded: i64,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderBody {
    pub id: String,
    /// As the shop shows it, e.g. `1042`.
    pub number: i64,
    /// `pending_payment`, `paid`, `expired`, `cancelled`, `fulfilled`, `delivered`,
    /// `partially_refunded`, `refunded`.
    pub status: String,
    /// `unshipped`, `partial` (some units sent), `shipped`, `delivered`.
    pub fulfilment: String,
    pub email: String,
    pub lines: Vec<OrderLineBody>,
    pub subtotal: Money,
    pub shipping: Money,
    /// VAT included in the total.
    pub vat: Money,
    pub total: Money,
    pub refunded: Money,
    pub shipping_method: String,
    pub shipping_address: Address,
    pub billing_address: Address,
    pub placed_at: String,
    pub paid_at: Option<String>,
    /// Where to pay, while the order awaits payment.
    pub payment_url: Option<String>,
}

pub(super) fn order_body(o: &checkout::Order) -> OrderBody {
    OrderBody {
        id: o.id.as_str().to_owned(),
        number: o.number,
        status: o.status.as_str().to_owned(),
        fulfilment: o.fulfilment.as_str().to_owned(),
        email: o.email.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLineBody {
                id: l.id.clone(),
                variant_id: l.variant_id.as_str().to_owned(),
                product_name: l.product_name.clone(),
                product_slug: l.slug.clone(),
                sku: l.sku.clone(),
                options: l.options.iter().cloned().collect(),
                quantity: l.quantity,
                unit_price: Money::from(l.unit_price),
                line_total: Money::from(l.line_total),
                shipped: l.shipped,
                refunded: l.refunded,
            })
            .collect(),
        subtotal: Money::from(o.subtotal),
        shipping: Money::from(o.shipping),
        vat: Money::from(o.vat),
        total: Money::from(o.total),
        refunded: Money::from(o.refunded),
        shipping_method: o.shipping_method.clone(),
        shipping_address: Address::from(&o.shipping_address),
        billing_address: Address::from(&o.billing_address),
        placed_at: super::rfc3339(o.placed_at),
        paid_at: o.paid_at.map(super::rfc3339),
        payment_url: (o.status == checkout::OrderStatus::PendingPayment)
            .then(|| o.payment_url.clone())
            .flatten(),
    }
}

/// A placed order and where to pay for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedBody {
    pub order: OrderBody,
    /// Send the shopper here to pay (the provider's hosted page); absent when a retry finds
    /// the order paid or closed already.
    pub payment_url: Option<String>,
    /// For a guest: send as `X-Order-Token` to read or cancel the order.
    pub order_token: Option<String>,
}

/// The idempotency key the checkout takes (a UUID) for a client's `Idempotency-Key`, scoped
/// to `whose` (the customer or the cart): the same key from the same shopper is the same
/// attempt, and one shopper's key never finds another's order.
fn attempt_key(headers: &HeaderMap, whose: &str) -> Result<String, ApiError> {
    Ok(idempotency_uuid(headers, "api-order", whose)?.unwrap_or_else(shop_core::id::new_uuid_v7))
}

/// A client's `Idempotency-Key` as a UUID (version 8, from a hash) within `namespace` and
/// `whose`, so two callers' keys never meet; `None` without the header. A key must be 1 to
/// 255 visible characters.
pub(super) fn idempotency_uuid(
    headers: &HeaderMap,
    namespace: &str,
    whose: &str,
) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible characters.",
            )
        })?;
    let hash = Sha256::digest(format!("{namespace}|{whose}|{key}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    // A version-8 (custom) UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(Some(uuid::Uuid::from_bytes(bytes).hyphenated().to_string()))
}

/// Places an order for the cart (the customer's, or the guest's named by `X-Cart-Token`)
/// and opens its payment: the answer has the URL of the payment page. The units are held
/// until payment or until the payment page expires. `Idempotency-Key`: a request repeated
/// with the same key gets the first one's order.
#[utoipa::path(
    post, path = "/checkout", tag = "orders",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key returns the first result"),
        ("X-Cart-Token" = Option<String>, Header, description = "A guest's cart token"),
    ),
    security((), ("bearer" = [])),
    request_body = PlaceRequest,
    responses(
        (status = 201, description = "The order, awaiting payment", body = PlacedBody),
        (status = 400, description = "The body is not JSON, or a bad Idempotency-Key", body = ErrorBody),
        (status = 401, description = "A bad access token or cart token", body = ErrorBody),
        (status = 409, description = "The cart is empty, not ready, or something sold out", body = ErrorBody),
        (status = 422, description = "An address field, the email or the shipping method is invalid", body = ErrorBody),
    )
)]
pub async fn place(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Json(body): Json<PlaceRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let ctx = &state.ctx;
    let ship = postal(body.shipping_address, "shipping_address")?;
    let bill = body
        .billing_address
        .map(|b| postal(b, "billing_address"))
        .transpose()?;
    let method = checkout::ShippingMethodId::parse(&body.shipping_method_id).map_err(|_| {
        ApiError::invalid("shipping_method_id", "That shipping method is not offered.")
    })?;
    let (cart, customer, email) = match &shopper {
        Shopper::Customer(caller) => {
            let cart = cart::for_user(&ctx.db, &ctx.clock, &caller.account.id)
                .await
                .map_err(|e| super::error::cart_error(e, "cart"))?;
            (
                cart,
                Some(caller.account.clone()),
                caller.account.email.clone(),
            )
        }
        Shopper::Guest(id) => {
            let cart = id.clone().ok_or_else(|| {
                ApiError::new(StatusCode::CONFLICT, "empty_cart", "Your cart is empty.")
            })?;
            let email = body
                .email
                .as_deref()
                .ok_or_else(|| {
                    ApiError::invalid("email", "Enter the address for the order's mails.")
                })
                .and_then(|e| {
                    shop_core::Email::parse(e)
                        .map_err(|e| ApiError::invalid("email", e.to_string()))
                })?;
            (cart, None, email)
        }
    };
    let whose = customer
        .as_ref()
        .map_or_else(|| cart.as_str().to_owned(), |a| a.id.as_str().to_owned());
    let idempotency_key = attempt_key(&headers, &whose)?;
    // A retry gets the first request's order, whatever has changed since.
    let (order_id, payment_url) = match ctx.checkout.attempt_of(&idempotency_key, &cart).await? {
        Some(id) => {
            let url = match ctx.checkout.resume(&id).await {
                Ok(placed) => Some(placed.payment_url),
                // Paid, or closed, since: there is nothing to pay.
                Err(checkout::CheckoutError::AlreadyPaid)
                | Err(checkout::CheckoutError::Invalid { field: "order", .. }) => None,
                Err(e) => return Err(e.into()),
            };
            (id, url)
        }
        None => {
            let placed = place_new(
                &state,
                cart,
                customer.as_ref(),
                email,
                ship,
                bill,
                method,
                idempotency_key,
            )
            .await?;
            (placed.order_id, Some(placed.payment_url))
        }
    };
    let order = checkout::orders::load(&ctx.db, &order_id).await?;
    let order_token = customer
        .is_none()
        .then(|| ctx.checkout.keys().order_token(&order.id));
    Ok((
        StatusCode::CREATED,
        Json(PlacedBody {
            order: order_body(&order),
            payment_url,
            order_token,
        }),
    ))
}

/// Reviews the cart with the request's details and places the order.
#[allow(clippy::too_many_arguments)]
async fn place_new(
    state: &AppState,
    cart: cart::CartId,
    customer: Option<&auth::Account>,
    email: shop_core::Email,
    ship: checkout::orders::PostalAddress,
    bill: Option<checkout::orders::PostalAddress>,
    method: checkout::ShippingMethodId,
    idempotency_key: String,
) -> Result<checkout::Placed, ApiError> {
    let ctx = &state.ctx;
    let review = ctx
        .checkout
        .review(&cart, &email, &ship, bill.as_ref(), &method)
        .await?;
    Ok(ctx
        .checkout
        .place(&checkout::PlaceOrder {
            cart,
            customer: customer.map(|a| a.id.clone()),
            email,
            shipping_address: ship,
            billing_address: bill,
            shipping_method: method,
            reviewed: review.fingerprint,
            idempotency_key,
        })
        .await?)
}

/// A page of the customer's orders.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersParams {
    /// 1-based; 20 a page.
    pub page: Option<u32>,
}

/// An order as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryBody {
    pub id: String,
    pub number: i64,
    pub status: String,
    pub fulfilment: String,
    pub total: Money,
    pub refunded: Money,
    pub units: i64,
    pub placed_at: String,
}

/// A page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub data: Vec<OrderSummaryBody>,
    pub page: u32,
    /// Whether a next page has more.
    pub has_more: bool,
}

const ORDERS_PER_PAGE: u32 = 20;

/// The customer's orders, newest first: those placed signed in, and those placed as a guest
/// with the account's confirmed address.
#[utoipa::path(
    get, path = "/orders", tag = "orders",
    params(OrdersParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 401, description = "No valid access token", body = ErrorBody),
        (status = 422, description = "A bad page", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<OrdersParams>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(p) = params.map_err(super::catalog::query_error)?;
    let page = p.page.unwrap_or(1);
    if page == 0 || page > 10_000 {
        return Err(ApiError::invalid("page", "Pages run from 1 to 10000."));
    }
    let a = &caller.account;
    let verified = a.is_verified().then(|| a.email.as_str());
    let (orders, has_more) =
        checkout::orders::for_customer(&state.ctx.db, &a.id, verified, page, ORDERS_PER_PAGE)
            .await?;
    let response = Json(OrderPage {
        data: orders
            .into_iter()
            .map(|o| OrderSummaryBody {
                id: o.id.as_str().to_owned(),
                number: o.number,
                status: o.status.as_str().to_owned(),
                fulfilment: o.fulfilment.as_str().to_owned(),
                total: Money::from(o.total),
                refunded: Money::from(o.refunded),
                units: o.units,
                placed_at: super::rfc3339(o.placed_at),
            })
            .collect(),
        page,
        has_more,
    })
    .into_response();
    Ok(super::more_links(
        response,
        "/api/v1/orders",
        &[],
        page,
        has_more,
    ))
}

/// The order `id` if the asker may see it: its customer, a customer whose confirmed address
/// it was placed with as a guest, or whoever holds its order token. Anybody else's order is
/// "not found".
async fn visible(
    state: &AppState,
    shopper: &Shopper,
    headers: &HeaderMap,
    id: &str,
) -> Result<checkout::Order, ApiError> {
    let not_found = || ApiError::not_found("We could not find that order.");
    let id = checkout::OrderId::parse(id).map_err(|_| not_found())?;
    let order = match checkout::orders::load(&state.ctx.db, &id).await {
        Err(checkout::CheckoutError::NotFound) => return Err(not_found()),
        other => other?,
    };
    let by_token = headers
        .get(ORDER_TOKEN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            state
                .ctx
                .checkout
                .keys()
                .check_order_token(&order.id, t.trim())
        });
    let by_account = match shopper {
        Shopper::Customer(c) => {
            let a = &c.account;
            order.is_customers(&a.id, a.is_verified().then(|| a.email.as_str()))
        }
        Shopper::Guest(_) => false,
    };
    if by_token || by_account {
        Ok(order)
    } else {
        Err(not_found())
    }
}

/// One order: the customer's (bearer token) or a guest's (`X-Order-Token`).
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest order's token"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The order", body = OrderBody),
        (status = 401, description = "A bad access token", body = ErrorBody),
        (status = 404, description = "No such order, or not the asker's", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderBody>, ApiError> {
    let order = visible(&state, &shopper, &headers, &id).await?;
    Ok(Json(order_body(&order)))
}

/// Cancels a paid order that has not shipped: a full refund, every unit back in stock. An
/// order awaiting payment is withdrawn instead (nothing was charged).
#[utoipa::path(
    post, path = "/orders/{id}/cancel", tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest order's token"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The order after cancelling", body = OrderBody),
        (status = 401, description = "A bad access token", body = ErrorBody),
        (status = 404, description = "No such order, or not the asker's", body = ErrorBody),
        (status = 409, description = "The order has shipped or is already cancelled", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderBody>, ApiError> {
    let ctx = &state.ctx;
    let order = visible(&state, &shopper, &headers, &id).await?;
    let actor = match &shopper {
        Shopper::Customer(c) if order.user_id.as_ref() == Some(&c.account.id) => {
            shop_core::audit::Actor::user(&c.account.id, c.account.email.as_str())
        }
        _ => shop_core::audit::Actor::system("customer (order token, API)"),
    };
    ctx.checkout
        .cancel_or_withdraw(
            &checkout::fulfil::Operator::Customer(actor),
            &order.id,
            "cancelled by the customer",
        )
        .await?;
    let order = checkout::orders::load(&ctx.db, &order.id).await?;
    Ok(Json(order_body(&order)))
}
