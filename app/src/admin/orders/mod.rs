//! `/admin/orders`: every order, filtered by status, payment, dates or found by its number
//! or the customer's email, sorted, paged and exported as CSV, with the orders that need a
//! person's attention marked; each opens its own page (`detail`), where staff act on it.
//! A vendor sees the paid orders that hold their products, with only their own units.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::{
    Badge, Column, DataTable, FilterBar, FilterSelect, FilterText, Pager, Tone,
};
use crate::error::AppError;
use crate::error_pages::Denied;

pub mod detail;
#[cfg(feature = "ssr")]
pub mod server;

/// An order as the staff's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: String,
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
    /// "Partially shipped"
    pub fulfilment: String,
    /// Why the order needs a person's attention, if it does.
    pub review_reason: Option<String>,
    /// "€54.90" (empty for a vendor)
    pub total: String,
    pub refunded: Option<String>,
}

/// A page of orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub rows: Vec<OrderRow>,
    pub page: u32,
    pub more: bool,
    /// The asker is shop staff (a vendor sees no totals or customers).
    pub staff: bool,
    /// Every status the filter offers, as (value, label).
    pub statuses: Vec<(String, String)>,
    pub payments: Vec<(String, String)>,
    pub sorts: Vec<(String, String)>,
}

/// Lists orders: only those with `status` and `payment` state (unknown values are
/// ignored), placed between `from` and `to` (dates, both included), whose number or email
/// matches `q`, in `sort` order.
#[server(endpoint = "admin/orders")]
#[allow(clippy::too_many_arguments)]
pub async fn list_orders(
    status: Option<String>,
    q: Option<String>,
    payment: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    page: Option<String>,
) -> Result<OrdersPage, AppError> {
    server::list_orders(status, q, payment, from, to, sort, page).await
}

#[component]
pub(crate) fn OrdersTable(
    rows: Vec<OrderRow>,
    filtered: bool,
    page: u32,
    staff: bool,
) -> impl IntoView {
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
    let columns = if staff {
        ["Order", "Placed", "Customer", "Items", "Status", "Total"]
            .map(Column::new)
            .to_vec()
    } else {
        ["Order", "Placed", "Your items", "Status"]
            .map(Column::new)
            .to_vec()
    };
    view! {
        <DataTable columns testid="admin-orders">
            {rows.into_iter().map(|o| view! {
                <tr>
                    <td class="whitespace-nowrap px-3 py-2 font-medium tabular-nums">
                        <a class="link" href=format!("/admin/orders/{}", o.id)>{o.number}</a>
                    </td>
                    <td class="whitespace-nowrap px-3 py-2"><time datetime=o.placed_at>{o.placed}</time></td>
                    {staff.then(|| view! { <td class="break-all px-3 py-2">{o.email.clone()}</td> })}
                    <td class="px-3 py-2 tabular-nums">{o.units}</td>
                    <td class="px-3 py-2">
                        <Badge tone=o.tone>{o.status}</Badge>
                        <span class="block text-xs text-stone-600">{o.fulfilment}</span>
                        {o.review_reason.map(|reason| view! {
                            <div class="mt-1 max-w-xs" data-testid="needs-review">
                                <Badge tone=Tone::Warning>"Needs review"</Badge>
                                <p class="mt-1 text-xs text-stone-700">{reason}</p>
                            </div>
                        })}
                    </td>
                    {staff.then(|| view! {
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">
                            {o.total.clone()}
                            {o.refunded.clone().map(|r| view! { <span class="block text-xs text-stone-600">{format!("{r} refunded")}</span> })}
                        </td>
                    })}
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
        (
            q.get("status"),
            q.get("q"),
            q.get("payment"),
            q.get("from"),
            q.get("to"),
            q.get("sort"),
            q.get("page"),
        )
    };
    let data = Resource::new(params, |(status, q, payment, from, to, sort, page)| {
        list_orders(status, q, payment, from, to, sort, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (status, q, payment, from, to, sort, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filtered = [&status, &q, &payment, &from, &to].into_iter().flatten().any(|v| !v.trim().is_empty());
                        let filters = vec![
                            ("status", status.clone()), ("q", q.clone()), ("payment", payment.clone()),
                            ("from", from.clone()), ("to", to.clone()), ("sort", sort.clone()),
                        ];
                        let csv = crate::url::page_href("/admin/export/orders.csv", &filters, 1);
                        let staff = p.staff;
                        view! {
                            <AdminFrame title="Orders" staff>
                                <FilterBar action="/admin/orders">
                                    <FilterSelect id="orders-status" name="status" label="Status" current=status.clone() options=p.statuses />
                                    {staff.then(|| view! { <FilterSelect id="orders-payment" name="payment" label="Payment" current=payment.clone() options=p.payments.clone() /> })}
                                    <label class="text-sm" for="orders-from">"From"
                                        <input id="orders-from" type="date" name="from" value=from.clone() class="input mt-1 block" />
                                    </label>
                                    <label class="text-sm" for="orders-to">"To"
                                        <input id="orders-to" type="date" name="to" value=to.clone() class="input mt-1 block" />
                                    </label>
                                    {staff.then(|| view! { <FilterText id="orders-q" name="q" label="Order number or email" value=q.clone() class="input mt-1 w-64" /> })}
                                    <FilterSelect id="orders-sort" name="sort" label="Sort" current=sort.clone() options=p.sorts />
                                </FilterBar>
                                {staff.then(|| view! { <p class="text-sm"><a class="link" href=csv data-testid="orders-csv" rel="nofollow">"Export these orders (CSV)"</a></p> })}
                                <OrdersTable rows=p.rows filtered page=p.page staff />
                                <Pager base="/admin/orders" filters page=p.page more=p.more />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
