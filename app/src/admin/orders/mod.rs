//! `/admin/orders`: every order, newest first, by status or found by its number or the
//! customer's email, with the orders that need a person's attention marked. Shop staff
//! only. Read only for now: the order's own page, where staff act on it, comes next.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::{
    Badge, Column, DataTable, FilterBar, FilterSelect, FilterText, Pager, Tone,
};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// An order as the staff's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    /// "HS-10042"
    pub number: String,
    /// "22 Nov 2026, 10:15 UTC"
    pub placed: String,
    /// The same instant in RFC 3339, for `<time datetime>`.
    pub placed_at: String,
    pub email: String,
    /// Units ordered, all lines together.
    pub units: i64,
    /// "Awaiting payment", "Paid", ...
    pub status: String,
    pub tone: Tone,
    /// Why the order needs a person's attention, if it does.
    pub review_reason: Option<String>,
    /// "€54.90"
    pub total: String,
}

/// A page of orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub rows: Vec<OrderRow>,
    pub page: u32,
    pub more: bool,
    /// Every status the filter offers, as (value, label).
    pub statuses: Vec<(String, String)>,
}

/// Lists orders, newest first: only those with `status` (an unknown one is ignored), and
/// only those whose number or email matches `q`.
#[server(endpoint = "admin/orders")]
pub async fn list_orders(
    status: Option<String>,
    q: Option<String>,
    page: Option<String>,
) -> Result<OrdersPage, AppError> {
    server::list_orders(status, q, page).await
}

#[component]
fn OrdersTable(rows: Vec<OrderRow>, filtered: bool, page: u32) -> impl IntoView {
    if rows.is_empty() {
        let text = if filtered {
            "No orders match these filters."
        } else if page > 1 {
            "No more orders."
        } else {
            "No orders yet."
        };
        return view! { <p class="text-stone-600" data-testid="orders-empty">{text}</p> }
            .into_any();
    }
    let columns = ["Order", "Placed", "Customer", "Items", "Status", "Total"]
        .map(Column::new)
        .to_vec();
    view! {
        <DataTable columns testid="admin-orders">
            {rows.into_iter().map(|o| view! {
                <tr>
                    <td class="whitespace-nowrap px-3 py-2 font-medium tabular-nums">{o.number}</td>
                    <td class="whitespace-nowrap px-3 py-2"><time datetime=o.placed_at>{o.placed}</time></td>
                    <td class="break-all px-3 py-2">{o.email}</td>
                    <td class="px-3 py-2 tabular-nums">{o.units}</td>
                    <td class="px-3 py-2">
                        <Badge tone=o.tone>{o.status}</Badge>
                        {o.review_reason.map(|reason| view! {
                            <div class="mt-1 max-w-xs" data-testid="needs-review">
                                <Badge tone=Tone::Warning>"Needs review"</Badge>
                                <p class="mt-1 text-xs text-stone-700">{reason}</p>
                            </div>
                        })}
                    </td>
                    <td class="whitespace-nowrap px-3 py-2 tabular-nums">{o.total}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// `/admin/orders`
#[component]
pub fn AdminOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("status"), q.get("q"), q.get("page"))
    };
    let data = Resource::new(params, |(status, q, page)| list_orders(status, q, page));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (status, q, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filtered = [&status, &q].into_iter().flatten().any(|v| !v.trim().is_empty());
                        let filters = vec![("status", status.clone()), ("q", q.clone())];
                        view! {
                            <AdminFrame title="Orders">
                                <FilterBar action="/admin/orders">
                                    <FilterSelect id="orders-status" name="status" label="Status" current=status.clone() options=p.statuses />
                                    <FilterText id="orders-q" name="q" label="Order number or email" value=q.clone() class="input mt-1 w-64" />
                                </FilterBar>
                                <OrdersTable rows=p.rows filtered page=p.page />
                                <Pager base="/admin/orders" filters page=p.page more=p.more />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
