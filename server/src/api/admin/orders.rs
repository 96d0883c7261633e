//! Orders through the admin API: the staff's list and one order (a vendor: the paid orders
//! holding their products, and only their own lines), shipping, cancelling and refunding.
//! Each goes through the checkout service, so the state machine, the order's history, the
//! audit log, the customer's mails and the outbox events are the admin pages' own.

use auth::api_keys::Scope;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, kept_query, page_of, per_page_of};
use crate::api::Money;
use crate::api::catalog::query_error;
use crate::api::error::{ApiError, ErrorBody, Json};
use crate::api::orders::{OrderBody, idempotency_uuid, order_body};
use crate::api::{more_links, rfc3339};
use crate::state::AppState;

/// Which orders to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderListParams {
    /// `pending_payment`, `paid`, `expired`, `cancelled`, `fulfilled`, `delivered`,
    /// `partially_refunded` or `refunded`.
    pub status: Option<String>,
    /// An order number or part of an email address.
    pub q: Option<String>,
    /// `unpaid`, `paid`, `partially_refunded`, `refunded` or `flagged` (needs review).
    pub payment: Option<String>,
    /// `newest` (the default), `oldest`, `total_desc` or `total_asc`.
    pub sort: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
    /// 1 to 100; 25 when left out.
    pub per_page: Option<u32>,
}

/// An order as the staff's list shows it. A vendor gets no customer address, money or
/// review note (`null`), and `units` counts their own units only.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderSummary {
    pub id: String,
    pub number: i64,
    pub status: String,
    pub fulfilment: String,
    pub email: Option<String>,
    pub total: Option<Money>,
    pub refunded: Option<Money>,
    pub units: i64,
    pub placed_at: String,
    /// Why staff should look at it, if they should.
    pub review_reason: Option<String>,
}

/// A page of the staff's order list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderPage {
    pub data: Vec<AdminOrderSummary>,
    pub page: u32,
    pub per_page: u32,
    /// Whether the next page has more.
    pub has_more: bool,
}

fn parsed<T>(
    value: Option<&str>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| parse(v).ok_or_else(|| ApiError::invalid(field, format!("Use {allowed}."))))
        .transpose()
}

/// Orders, newest first by default; a vendor sees the paid orders holding their products.
/// `Link` names the neighbouring pages.
#[utoipa::path(
    get, path = "/admin/orders", tag = "admin",
    params(OrderListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of orders", body = AdminOrderPage),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without orders:read", body = ErrorBody),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<OrderListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    staff.require(Scope::OrdersRead)?;
    let Query(p) = params.map_err(query_error)?;
    let page = page_of(p.page)?;
    let per_page = per_page_of(p.per_page, 25, 100)?;
    let admin = staff.is_admin();
    // A vendor finds and sorts orders only by what their own lines tell (as on the admin
    // page): not by the customer's address, the payment or the whole order's total.
    if !admin {
        let by_total = p
            .sort
            .as_deref()
            .and_then(checkout::orders::Sort::parse)
            .is_some_and(|s| {
                !matches!(
                    s,
                    checkout::orders::Sort::Newest | checkout::orders::Sort::Oldest
                )
            });
        for (field, given) in [
            ("q", p.q.is_some()),
            ("payment", p.payment.is_some()),
            ("sort", by_total),
        ] {
            if given {
                return Err(ApiError::invalid(
                    field,
                    "Vendors list orders by status and date only.",
                ));
            }
        }
    }
    let filter = checkout::orders::Filter {
        status: parsed(
            p.status.as_deref(),
            "status",
            checkout::OrderStatus::parse,
            "an order status such as paid or fulfilled",
        )?,
        query: p.q.clone().filter(|q| !q.trim().is_empty()),
        payment: parsed(
            p.payment.as_deref(),
            "payment",
            checkout::orders::PaymentState::parse,
            "unpaid, paid, partially_refunded, refunded or flagged",
        )?,
        from: None,
        to: None,
        sort: parsed(
            p.sort.as_deref(),
            "sort",
            checkout::orders::Sort::parse,
            "newest, oldest, total_desc or total_asc",
        )?
        .unwrap_or_default(),
        vendor: (!admin).then(|| staff.account.id.clone()),
    };
    let (orders, has_more) = checkout::orders::list(&state.ctx.db, &filter, page, per_page).await?;
    let body = AdminOrderPage {
        data: orders
            .into_iter()
            .map(|o| AdminOrderSummary {
                id: o.id.as_str().to_owned(),
                number: o.number,
                status: o.status.as_str().to_owned(),
                fulfilment: o.fulfilment.as_str().to_owned(),
                email: admin.then_some(o.email),
                total: admin.then(|| Money::from(o.total)),
                refunded: admin.then(|| Money::from(o.refunded)),
                units: o.units,
                placed_at: rfc3339(o.placed_at),
                review_reason: o.review_reason.filter(|_| admin),
            })
            .collect(),
        page,
        per_page,
        has_more,
    };
    let kept = kept_query(
        &[
            ("status", p.status),
            ("q", p.q),
            ("payment", p.payment),
            ("sort", p.sort),
        ],
        per_page,
    );
    Ok(more_links(
        Json(body).into_response(),
        "/api/v1/admin/orders",
        &kept,
        page,
        has_more,
    ))
}

/// A parcel sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentBody {
    pub id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub lines: Vec<LineUnits>,
    pub shipped_at: String,
    pub delivered_at: Option<String>,
}

/// Units of one order line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineUnits {
    pub line_id: String,
    pub quantity: i64,
}

/// Units of one line a refund gave back.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundedLineBody {
    pub line_id: String,
    pub quantity: i64,
    /// Of those, units that had been shipped.
    pub sent: i64,
    pub restocked: i64,
    pub amount: Money,
}

/// Money given back on an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundBody {
    pub id: String,
    pub amount: Money,
    /// `pending` (the provider has not confirmed it yet), `succeeded` or `failed`.
    pub status: String,
    /// The refund of a cancellation.
    pub cancels: bool,
    pub lines: Vec<RefundedLineBody>,
    pub extra: Money,
    pub reason: String,
    pub failure: Option<String>,
    pub created_at: String,
}

fn refund_body(r: &checkout::orders::Refund) -> RefundBody {
    RefundBody {
        id: r.id.clone(),
        amount: Money::from(r.amount),
        status: r.status.as_str().to_owned(),
        cancels: r.cancels,
        lines: r
            .lines
            .iter()
            .map(|l| RefundedLineBody {
                line_id: l.line_id.clone(),
                quantity: l.quantity,
                sent: l.sent,
                restocked: l.restocked,
                amount: Money::from(l.amount),
            })
            .collect(),
        extra: Money::from(r.extra),
        reason: r.reason.clone(),
        failure: r.failure.clone(),
        created_at: rfc3339(r.at),
    }
}

/// An order as staff see it: the order, who placed it, its parcels and refunds. A vendor
/// sees only their own lines, and no totals, payment or refunds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderBody {
    pub order: OrderBody,
    /// The customer's account, for an order placed signed in.
    pub customer_id: Option<String>,
    pub review_reason: Option<String>,
    pub shipments: Vec<ShipmentBody>,
    pub refunds: Vec<RefundBody>,
}

/// The order as the admin API shows it; `admin`: to the shop's staff (a vendor's view
/// comes already cut to their lines by the checkout service, and gets no customer id).
fn admin_order_body(o: &checkout::Order, admin: bool) -> AdminOrderBody {
    AdminOrderBody {
        order: order_body(o),
        customer_id: o
            .user_id
            .as_ref()
            .filter(|_| admin)
            .map(|u| u.as_str().to_owned()),
        review_reason: o.review_reason.clone().filter(|_| admin),
        shipments: o
            .shipments
            .iter()
            .map(|s| ShipmentBody {
                id: s.id.clone(),
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
                tracking_url: s.tracking_url.clone(),
                lines: s
                    .lines
                    .iter()
                    .map(|(line_id, quantity)| LineUnits {
                        line_id: line_id.clone(),
                        quantity: *quantity,
                    })
                    .collect(),
                shipped_at: rfc3339(s.at),
                delivered_at: s.delivered_at.map(rfc3339),
            })
            .collect(),
        refunds: o.refunds.iter().map(refund_body).collect(),
    }
}

fn order_id(raw: &str) -> Result<checkout::OrderId, ApiError> {
    checkout::OrderId::parse(raw).map_err(|_| ApiError::not_found("We could not find that order."))
}

/// The order as `staff` may see it now; `scope` is the one the call was checked for (a
/// change answers with the order it changed, whatever the key's read scope).
async fn order_now(
    state: &AppState,
    staff: &Staff,
    id: &checkout::OrderId,
    scope: Scope,
) -> Result<AdminOrderBody, ApiError> {
    let who = staff.operator(scope)?;
    let order = state.ctx.checkout.order_for(&who, id).await?;
    Ok(admin_order_body(&order, staff.is_admin()))
}

/// One order: everything for staff, a vendor's own lines for a vendor.
#[utoipa::path(
    get, path = "/admin/orders/{id}", tag = "admin",
    params(("id" = String, Path, description = "The order's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The order", body = AdminOrderBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without orders:read", body = ErrorBody),
        (status = 404, description = "No such order, or none of the vendor's", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<AdminOrderBody>, ApiError> {
    Ok(Json(
        order_now(&state, &staff, &order_id(&id)?, Scope::OrdersRead).await?,
    ))
}

/// A parcel to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// e.g. DHL, UPS.
    pub carrier: String,
    #[serde(default)]
    pub tracking_number: String,
    /// Left out: every unit still to send (a vendor: of their own lines).
    pub lines: Option<Vec<LineUnits>>,
}

/// A parcel sent, and the order after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShippedBody {
    pub shipment_id: String,
    pub order: AdminOrderBody,
}

/// Ships some or all of a paid order's units still to send; the customer gets a mail with
/// the tracking link. Once every unit has gone the order is fulfilled.
#[utoipa::path(
    post, path = "/admin/orders/{id}/shipments", tag = "admin",
    params(("id" = String, Path, description = "The order's id")),
    request_body = ShipRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Shipped", body = ShippedBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without orders:write", body = ErrorBody),
        (status = 404, description = "No such order, or none of the vendor's", body = ErrorBody),
        (status = 409, description = "The order is not paid, or has nothing left to send", body = ErrorBody),
        (status = 422, description = "A field is invalid (the field is named)", body = ErrorBody),
    )
)]
pub async fn ship(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<ShipRequest>,
) -> Result<Response, ApiError> {
    let who = staff.operator(Scope::OrdersWrite)?;
    let id = order_id(&id)?;
    let items = checkout::fulfil::ShipItems {
        lines: body
            .lines
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.line_id, l.quantity))
            .collect(),
        carrier: body.carrier,
        tracking_number: body.tracking_number,
    };
    let shipment_id = state.ctx.checkout.ship(&who, &id, &items).await?;
    let order = order_now(&state, &staff, &id, Scope::OrdersWrite).await?;
    Ok((
        StatusCode::CREATED,
        Json(ShippedBody { shipment_id, order }),
    )
        .into_response())
}

/// Why an order is cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: String,
}

/// A refund asked for, and the order after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundedBody {
    pub refund: RefundBody,
    pub order: AdminOrderBody,
}

/// Cancels an order (admins): one awaiting payment is withdrawn; a paid one none of whose
/// units has shipped is refunded in full and its units go back on the shelf (the order is
/// cancelled once the provider confirms the refund).
#[utoipa::path(
    post, path = "/admin/orders/{id}/cancel", tag = "admin",
    params(("id" = String, Path, description = "The order's id")),
    request_body = CancelRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The order after cancelling", body = AdminOrderBody),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without orders:write", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "Already cancelled, or the refund failed", body = ErrorBody),
        (status = 422, description = "It has shipped: refund it instead", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<CancelRequest>,
) -> Result<Json<AdminOrderBody>, ApiError> {
    let who = staff.operator(Scope::OrdersWrite)?;
    let id = order_id(&id)?;
    let ctx = &state.ctx;
    if !staff.is_admin() {
        return Err(ApiError::not_found("We could not find that order."));
    }
    ctx.checkout
        .cancel_or_withdraw(&who, &id, &body.reason)
        .await?;
    Ok(Json(
        order_now(&state, &staff, &id, Scope::OrdersWrite).await?,
    ))
}

/// One line of a refund.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundLineRequest {
    pub line_id: String,
    /// Units not shipped yet (they will not be sent).
    #[serde(default)]
    pub quantity: i64,
    /// Units already shipped (returned, or kept by the customer).
    #[serde(default)]
    pub sent: i64,
    /// Put the units back on the shelf when the refund goes through.
    #[serde(default)]
    pub restock: bool,
}

/// What to refund. The amount is computed by the shop: the units at the price paid, plus
/// `extra_minor`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    #[serde(default)]
    pub lines: Vec<RefundLineRequest>,
    /// An amount beyond the lines (shipping, a gesture), in minor units.
    #[serde(default)]
    pub extra_minor: i64,
    #[serde(default)]
    pub reason: String,
}

/// Refunds units and/or an amount of a paid order (admins), through the payment provider;
/// the customer gets a mail. `Idempotency-Key`: a retry with the same key gets the first
/// refund and refunds nothing more.
#[utoipa::path(
    post, path = "/admin/orders/{id}/refunds", tag = "admin",
    params(
        ("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key returns the first refund"),
    ),
    request_body = RefundRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The refund (succeeded, or pending until the provider confirms it)", body = RefundedBody),
        (status = 400, description = "The body is not JSON, or a bad Idempotency-Key", body = ErrorBody),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without orders:write", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order cannot be refunded now, or the provider refused", body = ErrorBody),
        (status = 422, description = "More than is left to refund, or a line is invalid", body = ErrorBody),
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RefundRequest>,
) -> Result<Response, ApiError> {
    let who = staff.operator(Scope::OrdersWrite)?;
    let id = order_id(&id)?;
    if !staff.is_admin() {
        return Err(ApiError::not_found("We could not find that order."));
    }
    let refund_id = idempotency_uuid(&headers, "api-refund", id.as_str())?;
    let items = checkout::refund::RefundItems {
        lines: body
            .lines
            .into_iter()
            .map(|l| checkout::refund::RefundLine {
                line_id: l.line_id,
                quantity: l.quantity,
                sent: l.sent,
                restock: l.restock,
            })
            .collect(),
        extra_minor: body.extra_minor,
        reason: body.reason,
        id: refund_id,
    };
    let refund = state.ctx.checkout.refund(&who, &id, &items).await?;
    if refund.status == checkout::orders::RefundStatus::Failed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "refund_failed",
            refund
                .failure
                .unwrap_or_else(|| "The payment provider refused the refund.".to_owned()),
        ));
    }
    let order = order_now(&state, &staff, &id, Scope::OrdersWrite).await?;
    Ok((
        StatusCode::CREATED,
        Json(RefundedBody {
            refund: refund_body(&refund),
            order,
        }),
    )
        .into_response())
}
