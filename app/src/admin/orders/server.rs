//! The server side of the orders list: a page of orders from the checkout service, for shop
//! staff (every order) and vendors (paid orders holding their products, their units only).

use checkout::OrderStatus;
use checkout::orders::{self, Filter, OrderSummary, PaymentState, Sort};
use shop_core::UserId;

use super::{OrderRow, OrdersPage};
use crate::admin::server::PER_PAGE;
use crate::components::Tone;
use crate::error::AppError;
use crate::ssr::{require_user, server_context};

pub(crate) fn order_row(o: OrderSummary, staff: bool) -> OrderRow {
    OrderRow {
        id: o.id.to_string(),
        number: orders::number_label(o.number),
        placed: o.placed_at.to_human(),
        placed_at: o.placed_at.to_rfc3339(),
        email: if staff { o.email } else { String::new() },
        units: o.units,
        status: o.status.label().to_owned(),
        tone: Tone::of_order(o.status.as_str()),
        fulfilment: o.fulfilment.label().to_owned(),
        review_reason: if staff { o.review_reason } else { None },
        total: if staff {
            o.total.to_string()
        } else {
            String::new()
        },
        refunded: (staff && o.refunded.minor() > 0).then(|| o.refunded.to_string()),
    }
}

/// A date typed in the filter (`2026-12-04`) as the start of that day, UTC, in
/// milliseconds; anything else is no bound.
fn day_start(s: Option<&str>) -> Option<i64> {
    let s = s?.trim();
    // Only a calendar date: an instant typed by hand is not what the date field sends.
    (s.len() == 10)
        .then(|| shop_core::Timestamp::parse(s))
        .flatten()
        .map(|t| t.millis())
}

/// What the list shows and to whom: staff see every order, a vendor only theirs; 401 for
/// nobody, 403 for anyone else.
pub(crate) async fn scope() -> Result<Option<UserId>, AppError> {
    let account = require_user().await?;
    if account.may_act_as(auth::Role::Admin) {
        Ok(None)
    } else if account.may_act_as(auth::Role::Vendor) {
        Ok(Some(account.id))
    } else {
        tracing::warn!(user.id = %account.id, "refused: orders are for staff and vendors");
        Err(AppError::Forbidden)
    }
}

/// The filter the list's query parameters describe. A value nobody uses (a hand-edited or
/// stale link) filters nothing.
pub fn filter(
    status: Option<&str>,
    q: Option<String>,
    payment: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    sort: Option<&str>,
    vendor: Option<UserId>,
) -> Filter {
    Filter {
        status: status.and_then(OrderStatus::parse),
        query: q.filter(|s| !s.trim().is_empty()),
        payment: payment.and_then(PaymentState::parse),
        from: day_start(from),
        // "To" includes that whole day.
        to: day_start(to).map(|t| t + 86_400_000),
        sort: sort.and_then(Sort::parse).unwrap_or_default(),
        vendor,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn list_orders(
    status: Option<String>,
    q: Option<String>,
    payment: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    page: Option<String>,
) -> Result<OrdersPage, AppError> {
    let ctx = server_context()?;
    let vendor = scope().await?;
    let staff = vendor.is_none();
    let page = crate::admin::page_number(page.as_deref());
    // A vendor searches and sorts only by what their own lines tell: not the customer's
    // email, the payment's state or the whole order's total.
    let (q, payment, sort) = if staff {
        (q, payment, sort)
    } else {
        (
            None,
            None,
            sort.filter(|s| matches!(Sort::parse(s), Some(Sort::Newest | Sort::Oldest))),
        )
    };
    let filter = filter(
        status.as_deref(),
        q,
        payment.as_deref(),
        from.as_deref(),
        to.as_deref(),
        sort.as_deref(),
        vendor,
    );
    let (rows, more) = orders::list(&ctx.db, &filter, page, PER_PAGE).await?;
    Ok(OrdersPage {
        rows: rows.into_iter().map(|o| order_row(o, staff)).collect(),
        page,
        more,
        staff,
        statuses: OrderStatus::ALL
            .into_iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
            .collect(),
        payments: if staff {
            PaymentState::ALL
                .into_iter()
                .map(|p| (p.as_str().to_owned(), p.label().to_owned()))
                .collect()
        } else {
            Vec::new()
        },
        sorts: Sort::ALL
            .into_iter()
            .filter(|s| staff || matches!(s, Sort::Newest | Sort::Oldest))
            .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
            .collect(),
    })
}
