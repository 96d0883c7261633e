//! The server side of the orders list: a page of orders from the checkout service, for shop
//! staff only.

use checkout::OrderStatus;
use checkout::orders::{self, Filter, OrderSummary};

use super::{OrderRow, OrdersPage};
use crate::admin::server::PER_PAGE;
use crate::components::Tone;
use crate::error::AppError;
use crate::ssr::{require_role, server_context};

fn order_row(o: OrderSummary) -> OrderRow {
    OrderRow {
        number: orders::number_label(o.number),
        placed: o.placed_at.to_human(),
        placed_at: o.placed_at.to_rfc3339(),
        email: o.email,
        units: o.units,
        status: o.status.label().to_owned(),
        tone: Tone::of_order(o.status.as_str()),
        review_reason: o.review_reason,
        total: o.total.to_string(),
    }
}

pub(super) async fn list_orders(
    status: Option<String>,
    q: Option<String>,
    page: Option<String>,
) -> Result<OrdersPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let page = crate::admin::page_number(page.as_deref());
    let filter = Filter {
        // A status nobody has (a hand-edited or stale link) lists every order.
        status: status.as_deref().and_then(OrderStatus::parse),
        query: q.filter(|s| !s.trim().is_empty()),
    };
    let (rows, more) = orders::list(&ctx.db, &filter, page, PER_PAGE).await?;
    Ok(OrdersPage {
        rows: rows.into_iter().map(order_row).collect(),
        page,
        more,
        statuses: OrderStatus::ALL
            .into_iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
            .collect(),
    })
}
