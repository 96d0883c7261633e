//! A customer's orders: the history (number, date, status, total) and each order's page
//! (lines, addresses, shipping, totals, history). A guest opens their order's page by the
//! signed link in their confirmation mail. Nobody sees another person's order: it is "not
//! found", like an order that does not exist.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::AccountFrame;
use crate::checkout::LineView;
use crate::components::{Badge, Column, DataTable, PageTitle, Tone};
use crate::error::AppError;
use crate::error_pages::{Denied, PageError};

#[cfg(feature = "ssr")]
pub(crate) mod server;

/// An order in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub number: String,
    pub placed: String,
    pub status: String,
    pub tone: Tone,
    pub total: String,
    pub items: i64,
}

/// A page of the history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderHistory {
    pub orders: Vec<OrderRow>,
    pub page: u32,
    pub more: bool,
}

/// An entry of an order's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub when: String,
    pub what: String,
    pub note: String,
}

/// A parcel, as the shopper sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelRow {
    pub when: String,
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub units: i64,
    pub delivered: Option<String>,
}

/// Money given back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRow {
    pub when: String,
    pub amount: String,
    /// Asked of the payment provider, not confirmed yet.
    pub pending: bool,
}

/// An order's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    /// The signed link's token the page was opened with (empty when signed in).
    pub token: String,
    pub number: String,
    pub placed: String,
    pub status: String,
    pub tone: Tone,
    pub email: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub shipping: String,
    pub method: String,
    pub days: String,
    pub vat_label: String,
    pub vat: String,
    pub total: String,
    pub ship_to: Vec<String>,
    pub bill_to: Vec<String>,
    pub history: Vec<HistoryRow>,
    /// While the order awaits payment: where to pay.
    pub pay_href: Option<String>,
    pub shipments: Vec<ParcelRow>,
    pub refunds: Vec<RefundRow>,
    /// Paid and nothing shipped yet: the shopper may still cancel.
    pub can_cancel: bool,
}

/// The signed-in customer's orders, newest first.
#[server(endpoint = "account/orders")]
pub async fn my_orders(page: Option<u32>) -> Result<OrderHistory, AppError> {
    server::my_orders(page).await
}

/// One order, for its customer (signed in) or whoever holds its signed link (`t`).
#[server(endpoint = "account/order")]
pub async fn order_detail(id: String, t: Option<String>) -> Result<OrderView, AppError> {
    server::order_detail(id, t).await
}

/// Cancels the shopper's paid, unshipped order with a full refund.
#[server(endpoint = "account/order-cancel")]
pub async fn cancel_my_order(
    id: String,
    t: Option<String>,
    confirm: Option<String>,
) -> Result<(), AppError> {
    server::cancel_my_order(id, t, confirm).await
}

/// `/account/orders`
#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    });
    let data = Resource::new(move || page.get(), |p| my_orders(Some(p)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(h) => view! {
                        <AccountFrame title="Orders">
                            {if h.orders.is_empty() {
                                view! {
                                    <p class="text-stone-600" data-testid="no-orders">"You haven't ordered anything yet."</p>
                                }.into_any()
                            } else {
                                view! {
                                    <DataTable columns=["Order", "Date", "Status", "Items", "Total"].map(Column::new).to_vec() testid="order-history">
                                        {h.orders.into_iter().map(|o| view! {
                                            <tr>
                                                <td class="px-3 py-2 font-medium"><a class="link" href=format!("/account/orders/{}", o.id)>{o.number}</a></td>
                                                <td class="whitespace-nowrap px-3 py-2">{o.placed}</td>
                                                <td class="px-3 py-2"><Badge tone=o.tone>{o.status}</Badge></td>
                                                <td class="px-3 py-2">{o.items}</td>
                                                <td class="px-3 py-2">{o.total}</td>
                                            </tr>
                                        }).collect_view()}
                                    </DataTable>
                                    <nav aria-label="Pages" class="flex gap-3 text-sm">
                                        {(h.page > 1).then(|| view! { <a class="link" href=format!("/account/orders?page={}", h.page - 1)>"Newer orders"</a> })}
                                        {h.more.then(|| view! { <a class="link" href=format!("/account/orders?page={}", h.page + 1)>"Older orders"</a> })}
                                    </nav>
                                }.into_any()
                            }}
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An order's lines, addresses, totals, parcels, refunds and history, and the way to cancel
/// it while nothing has shipped.
#[component]
fn OrderBody(o: OrderView, cancel: ServerAction<CancelMyOrder>) -> impl IntoView {
    let error = Signal::derive(move || cancel.value().get().and_then(Result::err));
    let parcels = (!o.shipments.is_empty()).then(|| {
        let shipments = o.shipments.clone();
        view! {
            <section class="card p-5" aria-labelledby="parcels-title">
                <h2 id="parcels-title" class="text-lg font-semibold">"Shipping"</h2>
                <ul class="mt-2 space-y-2 text-sm" data-testid="parcels">
                    {shipments.into_iter().map(|p| view! {
                        <li>
                            <span class="font-medium">{format!("Sent {} with {}", p.when, p.carrier)}</span>
                            {format!(" · {} item{}", p.units, if p.units == 1 { "" } else { "s" })}
                            {(!p.tracking_number.is_empty()).then(|| match p.tracking_url.clone() {
                                Some(url) => view! { <span class="block">"Tracking: "<a class="link" href=url rel="noopener noreferrer" data-testid="tracking-link">{p.tracking_number.clone()}</a></span> }.into_any(),
                                None => view! { <span class="block" data-testid="tracking-number">{format!("Tracking: {}", p.tracking_number)}</span> }.into_any(),
                            })}
                            {p.delivered.map(|d| view! { <span class="block text-emerald-800">{format!("Delivered {d}")}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    let refunds = (!o.refunds.is_empty()).then(|| {
        let refunds = o.refunds.clone();
        view! {
            <section class="card p-5" aria-labelledby="refunds-title">
                <h2 id="refunds-title" class="text-lg font-semibold">"Refunds"</h2>
                <ul class="mt-2 space-y-1 text-sm" data-testid="my-refunds">
                    {refunds.into_iter().map(|r| view! {
                        <li>{format!("{} refunded {}{}", r.amount, r.when, if r.pending { " (on its way)" } else { "" })}</li>
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    let cancel_form = o.can_cancel.then(|| {
        let (id, token) = (o.id.clone(), o.token.clone());
        view! {
            <section class="card p-5" aria-labelledby="cancel-title">
                <h2 id="cancel-title" class="text-lg font-semibold">"Cancel this order"</h2>
                <p class="mt-1 text-sm text-stone-600">"Nothing has shipped yet: you can cancel, and the full amount goes back to how you paid."</p>
                <crate::components::FormError error />
                <ActionForm action=cancel attr:class="mt-3" attr:data-testid="my-cancel-form">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="t" value=token />
                    <label class="flex items-center gap-2 text-sm" for="my-cancel-confirm">
                        <input id="my-cancel-confirm" type="checkbox" name="confirm" value="yes" required />
                        "Yes, cancel my order and refund me."
                    </label>
                    <button type="submit" class="btn btn-danger mt-3" data-testid="my-cancel-submit">"Cancel order"</button>
                </ActionForm>
            </section>
        }
    });
    view! {
        <div class="space-y-6" data-testid="order-detail">
            <div class="flex flex-wrap items-center gap-3">
                <p class="text-sm text-stone-600">{format!("Placed {}", o.placed)}</p>
                <Badge tone=o.tone testid="order-status">{o.status.clone()}</Badge>
                {o.pay_href.clone().map(|href| view! { <a class="btn btn-primary" href=href>"Pay now"</a> })}
            </div>
            <section class="card p-5" aria-labelledby="items-title">
                <h2 id="items-title" class="text-lg font-semibold">"Items"</h2>
                <ul class="mt-2 divide-y divide-stone-200">
                    {o.lines.into_iter().map(|l| view! {
                        <li class="flex justify-between gap-3 py-3 text-sm" data-testid="order-line">
                            <div>
                                <p class="font-medium">{l.name}</p>
                                {(!l.options.is_empty()).then(|| view! { <p class="text-stone-600">{l.options}</p> })}
                                <p class="text-stone-600">{format!("{} × {} · SKU {}", l.quantity, l.unit_price, l.sku)}</p>
                            </div>
                            <p class="font-medium">{l.line_total}</p>
                        </li>
                    }).collect_view()}
                </ul>
                <dl class="mt-3 space-y-1 border-t border-stone-200 pt-3 text-sm">
                    <div class="flex justify-between"><dt class="text-stone-600">"Subtotal"</dt><dd>{o.subtotal}</dd></div>
                    <div class="flex justify-between"><dt class="text-stone-600">{format!("Shipping ({})", o.method)}</dt><dd>{o.shipping}</dd></div>
                    <div class="flex justify-between text-base font-semibold"><dt>"Total"</dt><dd data-testid="order-total">{o.total}</dd></div>
                    <div class="flex justify-between text-xs text-stone-500"><dt>{format!("Including VAT ({})", o.vat_label)}</dt><dd>{o.vat}</dd></div>
                </dl>
            </section>
            {parcels}
            {refunds}
            <section class="grid gap-4 sm:grid-cols-3">
                <div class="card p-5 text-sm">
                    <h2 class="font-semibold">"Ship to"</h2>
                    <address class="mt-1 not-italic">{o.ship_to.into_iter().map(|l| view! { <span class="block">{l}</span> }).collect_view()}</address>
                </div>
                <div class="card p-5 text-sm">
                    <h2 class="font-semibold">"Bill to"</h2>
                    <address class="mt-1 not-italic">{o.bill_to.into_iter().map(|l| view! { <span class="block">{l}</span> }).collect_view()}</address>
                </div>
                <div class="card p-5 text-sm">
                    <h2 class="font-semibold">"Shipping"</h2>
                    <p class="mt-1">{o.method.clone()}</p>
                    <p class="text-stone-600">{o.days}</p>
                    <p class="mt-2 break-all text-stone-600">{o.email}</p>
                </div>
            </section>
            <section class="card p-5" aria-labelledby="history-title">
                <h2 id="history-title" class="text-lg font-semibold">"History"</h2>
                <ol class="mt-2 space-y-2 text-sm" data-testid="order-history-events">
                    {o.history.into_iter().map(|h| view! {
                        <li>
                            <span class="text-stone-600">{h.when}</span>" · "<span class="font-medium">{h.what}</span>
                            {(!h.note.is_empty()).then(|| view! { <span class="text-stone-600">{format!(" — {}", h.note)}</span> })}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
            {cancel_form}
        </div>
    }
}

/// `/account/orders/:id`
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let cancel = ServerAction::<CancelMyOrder>::new();
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                cancel.version().get(),
            )
        },
        |(id, _)| order_detail(id, None),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(o) => view! {
                        <AccountFrame title=format!("Order {}", o.number)>
                            <OrderBody o cancel />
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/orders/:id?t=...`: an order by the signed link in its confirmation mail.
#[component]
pub fn LinkedOrderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let cancel = ServerAction::<CancelMyOrder>::new();
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("t"),
                cancel.version().get(),
            )
        },
        |(id, t, _)| order_detail(id, t),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <PageError error /> }.into_any(),
                    Ok(o) => view! {
                        <PageTitle text=format!("Order {}", o.number) />
                        <h1 class="mb-6 text-2xl font-bold tracking-tight">{format!("Order {}", o.number)}</h1>
                        <OrderBody o cancel />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
