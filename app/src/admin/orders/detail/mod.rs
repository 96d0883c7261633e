//! `/admin/orders/:id`: one order for the staff (lines, addresses, payment, parcels,
//! refunds, the full history and internal notes) with what can be done to it: ship all or
//! some units, mark delivered, cancel with a full refund, refund lines and/or an amount,
//! add a note. A vendor sees the same page with only their own lines and can ship those.
//! Every action asks to be confirmed, is refused on the server when it does not fit the
//! order's state, and works with JavaScript off (a plain form post, then a flash).

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::admin::AdminFrame;
use crate::components::{Badge, Column, DataTable, FormError, Tone};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
pub(crate) mod server;

/// A line as the staff page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminLine {
    pub id: String,
    pub name: String,
    /// "Size: M"
    pub options: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: String,
    pub line_total: String,
    pub shipped: i64,
    pub refunded: i64,
    pub to_ship: i64,
    pub refundable: i64,
    /// Shipped units not refunded yet (returns).
    pub refundable_sent: i64,
    /// Units a refund may still put back on the shelf.
    pub restockable: i64,
}

/// A parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentView {
    pub when: String,
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    /// "2 × Fernhill Tee (TEE-S)"
    pub contents: Vec<String>,
    pub delivered: Option<String>,
}

/// A refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub when: String,
    pub amount: String,
    pub status: String,
    pub tone: Tone,
    /// "1 × Fernhill Tee (restocked)"
    pub contents: Vec<String>,
    pub extra: Option<String>,
    pub reason: String,
    pub failure: Option<String>,
    pub actor: String,
    pub provider_refund_id: Option<String>,
    pub cancels: bool,
}

/// A history entry, with who made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminHistoryRow {
    pub when: String,
    pub what: String,
    pub note: String,
    pub actor: String,
}

/// An internal note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub when: String,
    pub author: String,
    pub body: String,
}

/// The payment side (staff only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub provider: String,
    pub session_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub paid: Option<String>,
    pub paid_at: Option<String>,
    pub refunded: String,
    /// Some money went back.
    pub has_refunds: bool,
    pub refundable: String,
    /// ISO code of the order's currency, for the refund form's amount.
    pub currency: String,
}

/// One order as the staff (or a vendor) sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOrderView {
    pub id: String,
    pub number: String,
    pub status: String,
    pub tone: Tone,
    pub fulfilment: String,
    pub placed: String,
    pub email: String,
    pub review_reason: Option<String>,
    pub lines: Vec<AdminLine>,
    pub subtotal: String,
    pub shipping: String,
    pub vat_label: String,
    pub vat: String,
    pub total: String,
    pub method: String,
    pub days: String,
    pub ship_to: Vec<String>,
    pub bill_to: Vec<String>,
    /// `None` for a vendor.
    pub payment: Option<PaymentView>,
    pub shipments: Vec<ShipmentView>,
    pub refunds: Vec<RefundView>,
    pub history: Vec<AdminHistoryRow>,
    pub notes: Vec<NoteView>,
    /// The asker is shop staff (not a vendor).
    pub staff: bool,
    pub can_ship: bool,
    pub can_deliver: bool,
    pub can_cancel: bool,
    pub can_refund: bool,
}

/// Loads an order for the staff page (staff: every line; a vendor: their own).
#[server(endpoint = "admin/order")]
pub async fn admin_order(id: String) -> Result<AdminOrderView, AppError> {
    server::admin_order(id).await
}

/// Ships the units given as `qty_<line id>` fields, by `carrier` with `tracking_number`.
#[server(endpoint = "admin/order-ship")]
pub async fn ship_order(
    order_id: String,
    carrier: String,
    tracking_number: String,
    confirm: Option<String>,
    #[server(flatten)] fields: HashMap<String, String>,
) -> Result<(), AppError> {
    server::ship_order(order_id, carrier, tracking_number, confirm, fields).await
}

/// Marks a shipped order delivered.
#[server(endpoint = "admin/order-deliver")]
pub async fn deliver_order(order_id: String, confirm: Option<String>) -> Result<(), AppError> {
    server::deliver_order(order_id, confirm).await
}

/// Cancels a paid, unshipped order with a full refund; every unit goes back on the shelf.
#[server(endpoint = "admin/order-cancel")]
pub async fn cancel_order(
    order_id: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    server::cancel_order(order_id, reason, confirm).await
}

/// Refunds the units given as `qty_<line id>` (not shipped) and `sent_<line id>`
/// (shipped), with `restock_<line id>`, and/or `extra`
/// (a decimal amount in the order's currency).
#[server(endpoint = "admin/order-refund")]
pub async fn refund_order(
    order_id: String,
    extra: String,
    reason: String,
    confirm: Option<String>,
    #[server(flatten)] fields: HashMap<String, String>,
) -> Result<(), AppError> {
    server::refund_order(order_id, extra, reason, confirm, fields).await
}

/// Adds an internal note.
#[server(endpoint = "admin/order-note")]
pub async fn note_order(order_id: String, note: String) -> Result<(), AppError> {
    server::note_order(order_id, note).await
}

fn confirm_box(id: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <label class="mt-3 flex items-center gap-2 text-sm" for=id>
            <input id=id type="checkbox" name="confirm" value="yes" required />
            {text}
        </label>
    }
}

#[component]
fn Lines(lines: Vec<AdminLine>) -> impl IntoView {
    let columns = [
        "Item", "SKU", "Qty", "Unit", "Total", "Shipped", "Refunded", "To ship",
    ]
    .map(Column::new)
    .to_vec();
    view! {
        <DataTable columns testid="order-lines">
            {lines.into_iter().map(|l| { let sku = l.sku.clone(); view! {
                <tr data-sku=sku>
                    <td class="px-3 py-2">
                        <span class="font-medium">{l.name}</span>
                        {(!l.options.is_empty()).then(|| view! { <span class="block text-xs text-stone-600">{l.options}</span> })}
                    </td>
                    <td class="px-3 py-2 font-mono text-xs">{l.sku}</td>
                    <td class="px-3 py-2 tabular-nums">{l.quantity}</td>
                    <td class="whitespace-nowrap px-3 py-2 tabular-nums">{l.unit_price}</td>
                    <td class="whitespace-nowrap px-3 py-2 tabular-nums">{l.line_total}</td>
                    <td class="px-3 py-2 tabular-nums" data-testid="line-shipped">{l.shipped}</td>
                    <td class="px-3 py-2 tabular-nums" data-testid="line-refunded">{l.refunded}</td>
                    <td class="px-3 py-2 tabular-nums" data-testid="line-to-ship">{l.to_ship}</td>
                </tr>
            }}).collect_view()}
        </DataTable>
    }
}

#[component]
fn ShipForm(order: AdminOrderView, action: ServerAction<ShipOrder>) -> impl IntoView {
    let lines: Vec<AdminLine> = order.lines.into_iter().filter(|l| l.to_ship > 0).collect();
    view! {
        <section class="card p-6" aria-labelledby="ship-heading">
            <h2 id="ship-heading" class="text-lg font-semibold">"Ship"</h2>
            <p class="mt-1 text-sm text-stone-600">"Choose how many units of each line go in this parcel; leave the rest for a later one."</p>
            <ActionForm action attr:class="mt-3 space-y-3" attr:data-testid="ship-form">
                <input type="hidden" name="order_id" value=order.id />
                <ul class="space-y-2">
                    {lines.into_iter().map(|l| {
                        let id = format!("ship-qty-{}", l.id);
                        view! {
                            <li class="flex items-center gap-3">
                                <label for=id.clone() class="w-64 text-sm">{format!("{} ({})", l.name, l.sku)}</label>
                                <input id=id type="number" min="0" max=l.to_ship.to_string() value=l.to_ship.to_string()
                                    name=format!("qty_{}", l.id) class="input w-24" data-sku=l.sku.clone() />
                                <span class="text-xs text-stone-600">{format!("of {} to ship", l.to_ship)}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <div class="flex flex-wrap gap-3">
                    <label class="text-sm" for="ship-carrier">"Carrier"
                        <input id="ship-carrier" name="carrier" required maxlength="100" list="carriers" class="input mt-1 block w-48" />
                    </label>
                    <datalist id="carriers">
                        {["DHL", "UPS", "FedEx", "USPS", "Royal Mail", "DPD", "GLS", "PostNL", "La Poste"].into_iter().map(|c| view! { <option value=c></option> }).collect_view()}
                    </datalist>
                    <label class="text-sm" for="ship-tracking">"Tracking number"
                        <input id="ship-tracking" name="tracking_number" maxlength="100" class="input mt-1 block w-64" />
                    </label>
                </div>
                {confirm_box("ship-confirm", "The parcel has left; tell the customer.")}
                <button type="submit" class="btn btn-primary" data-testid="ship-submit">"Mark shipped"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RefundForm(order: AdminOrderView, action: ServerAction<RefundOrder>) -> impl IntoView {
    let payment = order.payment.clone();
    let refundable = payment
        .as_ref()
        .map(|p| p.refundable.clone())
        .unwrap_or_default();
    let currency = payment.map(|p| p.currency).unwrap_or_default();
    let lines: Vec<AdminLine> = order
        .lines
        .into_iter()
        .filter(|l| l.refundable > 0)
        .collect();
    view! {
        <section class="card p-6" aria-labelledby="refund-heading">
            <h2 id="refund-heading" class="text-lg font-semibold">"Refund"</h2>
            <p class="mt-1 text-sm text-stone-600">
                {format!("Up to {refundable} can still be refunded. The amount is the chosen units at the price paid, plus any extra amount; the shop computes it.")}
            </p>
            <ActionForm action attr:class="mt-3 space-y-3" attr:data-testid="refund-form">
                <input type="hidden" name="order_id" value=order.id />
                <ul class="space-y-2">
                    {lines.into_iter().map(|l| {
                        let qty = format!("refund-qty-{}", l.id);
                        let sent = format!("refund-sent-{}", l.id);
                        let restock = format!("refund-restock-{}", l.id);
                        let restock_for = restock.clone();
                        let may_restock = l.restockable > 0;
                        let restock_note = (l.restockable < l.refundable).then(|| {
                            format!("(at most {} can go back on the shelf)", l.restockable)
                        });
                        view! {
                            <li class="flex flex-wrap items-center gap-3">
                                <span class="w-64 text-sm">{format!("{} ({}) at {}", l.name, l.sku, l.unit_price)}</span>
                                {(l.to_ship > 0).then(|| view! {
                                    <label for=qty.clone() class="flex items-center gap-1 text-sm">
                                        <input id=qty.clone() type="number" min="0" max=l.to_ship.to_string() value="0"
                                            name=format!("qty_{}", l.id) class="input w-20" data-sku=l.sku.clone() />
                                        {format!("of {} not shipped", l.to_ship)}
                                    </label>
                                })}
                                {(l.refundable_sent > 0).then(|| view! {
                                    <label for=sent.clone() class="flex items-center gap-1 text-sm">
                                        <input id=sent.clone() type="number" min="0" max=l.refundable_sent.to_string() value="0"
                                            name=format!("sent_{}", l.id) class="input w-20" data-sku=l.sku.clone() data-sent="yes" />
                                        {format!("of {} shipped (returned or kept)", l.refundable_sent)}
                                    </label>
                                })}
                                <label class="flex items-center gap-1 text-sm" for=restock_for>
                                    <input id=restock type="checkbox" name=format!("restock_{}", l.id) value="on" checked=may_restock disabled=!may_restock />
                                    "Restock"
                                    {restock_note.map(|n| view! { <span class="text-xs text-stone-600">{n}</span> })}
                                </label>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <div class="flex flex-wrap gap-3">
                    <label class="text-sm" for="refund-extra">{format!("Extra amount ({currency})")}
                        <input id="refund-extra" name="extra" inputmode="decimal" placeholder="0.00" maxlength="20" class="input mt-1 block w-32" />
                    </label>
                    <label class="text-sm" for="refund-reason">"Reason"
                        <input id="refund-reason" name="reason" maxlength="500" class="input mt-1 block w-80" />
                    </label>
                </div>
                {confirm_box("refund-confirm", "Give this money back to the customer.")}
                <button type="submit" class="btn btn-danger" data-testid="refund-submit">"Refund"</button>
            </ActionForm>
        </section>
    }
}

/// `/admin/orders/:id`
#[component]
pub fn AdminOrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let ship = ServerAction::<ShipOrder>::new();
    let deliver = ServerAction::<DeliverOrder>::new();
    let cancel = ServerAction::<CancelOrder>::new();
    let refund = ServerAction::<RefundOrder>::new();
    let note = ServerAction::<NoteOrder>::new();
    let data = Resource::new(
        move || {
            (
                id.get(),
                ship.version().get()
                    + deliver.version().get()
                    + cancel.version().get()
                    + refund.version().get()
                    + note.version().get(),
            )
        },
        |(id, _)| admin_order(id),
    );
    let error = Signal::derive(move || {
        [
            ship.value().get(),
            deliver.value().get(),
            cancel.value().get(),
            refund.value().get(),
            note.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(o) => {
                        let title = format!("Order {}", o.number);
                        let (status, status_label) = (o.status.clone(), o.status.clone());
                        let fulfilment = o.fulfilment.clone();
                        let ship_form = o.can_ship.then(|| view! { <ShipForm order=o.clone() action=ship /> });
                        let refund_form = o.can_refund.then(|| view! { <RefundForm order=o.clone() action=refund /> });
                        let oid = o.id.clone();
                        let print = o.staff.then(|| {
                            let id = o.id.clone();
                            view! {
                                <p class="flex gap-3 text-sm">
                                    <a class="link" href=format!("/admin/orders/{id}/packing-slip") data-testid="packing-slip">"Packing slip"</a>
                                    <a class="link" href=format!("/admin/orders/{id}/invoice") data-testid="invoice">"Invoice"</a>
                                </p>
                            }
                        });
                        view! {
                            <AdminFrame title=title staff=o.staff>
                                <div class="flex flex-wrap items-center gap-3">
                                    <Badge tone=o.tone>{status}</Badge>
                                    <span class="text-sm text-stone-700" data-testid="order-fulfilment">{fulfilment}</span>
                                    <span class="sr-only" data-testid="order-status">{status_label}</span>
                                </div>
                                <p class="text-sm text-stone-600">{format!("Placed {} by {}", o.placed, o.email)}</p>
                                {print}
                                {o.review_reason.clone().map(|r| view! {
                                    <div role="note" class="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="needs-review">
                                        <strong>"Needs review: "</strong>{r}
                                    </div>
                                })}
                                <FormError error />
                                <Lines lines=o.lines.clone() />
                                {o.staff.then(|| view! {
                                    <dl class="grid max-w-sm grid-cols-2 gap-1 text-sm" data-testid="order-totals">
                                        <dt>"Subtotal"</dt><dd class="text-right tabular-nums">{o.subtotal.clone()}</dd>
                                        <dt>{format!("Shipping ({}, {})", o.method, o.days)}</dt><dd class="text-right tabular-nums">{o.shipping.clone()}</dd>
                                        <dt>{format!("Including VAT ({})", o.vat_label)}</dt><dd class="text-right tabular-nums">{o.vat.clone()}</dd>
                                        <dt class="font-semibold">"Total"</dt><dd class="text-right font-semibold tabular-nums">{o.total.clone()}</dd>
                                    </dl>
                                })}
                                <div class="grid gap-6 md:grid-cols-2">
                                    <section class="card p-6">
                                        <h2 class="text-lg font-semibold">"Ship to"</h2>
                                        <address class="mt-2 not-italic text-sm">{o.ship_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                    </section>
                                    {o.payment.clone().map(|p| view! {
                                        <section class="card p-6" data-testid="payment">
                                            <h2 class="text-lg font-semibold">"Payment"</h2>
                                            <dl class="mt-2 grid grid-cols-2 gap-1 text-sm">
                                                <dt>"Provider"</dt><dd>{p.provider}</dd>
                                                <dt>"Session"</dt><dd class="break-all font-mono text-xs">{p.session_id.unwrap_or_else(|| "—".to_owned())}</dd>
                                                <dt>"Payment"</dt><dd class="break-all font-mono text-xs">{p.payment_intent_id.unwrap_or_else(|| "—".to_owned())}</dd>
                                                <dt>"Paid"</dt><dd>{match (p.paid, p.paid_at) { (Some(a), Some(at)) => format!("{a} on {at}"), _ => "Not paid".to_owned() }}</dd>
                                                <dt>"Refunded"</dt><dd data-testid="refunded">{p.refunded}</dd>
                                                <dt>"Can still refund"</dt><dd data-testid="refundable">{p.refundable}</dd>
                                            </dl>
                                            <h3 class="mt-4 text-sm font-semibold">"Billing address"</h3>
                                            <address class="mt-1 not-italic text-sm">{o.bill_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                        </section>
                                    })}
                                </div>
                                <section class="card p-6">
                                    <h2 class="text-lg font-semibold">"Parcels"</h2>
                                    {if o.shipments.is_empty() {
                                        view! { <p class="mt-2 text-sm text-stone-600">"Nothing shipped yet."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="mt-2 space-y-2 text-sm" data-testid="shipments">
                                                {o.shipments.iter().cloned().map(|s| view! {
                                                    <li>
                                                        <span class="font-medium">{format!("{}: {}", s.when, s.carrier)}</span>
                                                        {match s.tracking_url {
                                                            Some(url) => view! { " " <a class="link" href=url rel="noopener noreferrer" target="_blank">{s.tracking_number}</a> }.into_any(),
                                                            None => view! { " " <span>{s.tracking_number}</span> }.into_any(),
                                                        }}
                                                        {s.delivered.map(|d| view! { <span class="ml-2 text-emerald-800">{format!("delivered {d}")}</span> })}
                                                        <span class="block text-stone-600">{s.contents.join(", ")}</span>
                                                    </li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </section>
                                {ship_form}
                                {o.can_deliver.then(|| { let id = oid.clone(); view! {
                                    <section class="card p-6">
                                        <h2 class="text-lg font-semibold">"Delivery"</h2>
                                        <ActionForm action=deliver attr:data-testid="deliver-form">
                                            <input type="hidden" name="order_id" value=id />
                                            {confirm_box("deliver-confirm", "The carrier confirmed delivery.")}
                                            <button type="submit" class="btn btn-primary mt-3" data-testid="deliver-submit">"Mark delivered"</button>
                                        </ActionForm>
                                    </section>
                                }})}
                                {o.staff.then(|| view! {
                                    <section class="card p-6">
                                        <h2 class="text-lg font-semibold">"Refunds"</h2>
                                        {if o.refunds.is_empty() {
                                            view! { <p class="mt-2 text-sm text-stone-600">"No refunds."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="mt-2 space-y-2 text-sm" data-testid="refunds">
                                                    {o.refunds.iter().cloned().map(|r| view! {
                                                        <li>
                                                            <span class="font-medium tabular-nums">{r.amount}</span>" "
                                                            <Badge tone=r.tone>{r.status}</Badge>
                                                            {r.cancels.then_some(" (cancellation)")}
                                                            <span class="ml-2 text-stone-600">{format!("{} · {}", r.when, r.actor)}</span>
                                                            {(!r.contents.is_empty()).then(|| view! { <span class="block">{r.contents.join(", ")}</span> })}
                                                            {r.extra.map(|e| view! { <span class="block">{format!("Extra: {e}")}</span> })}
                                                            {(!r.reason.is_empty()).then(|| view! { <span class="block text-stone-600">{r.reason.clone()}</span> })}
                                                            {r.failure.map(|f| view! { <span class="block text-red-800">{f}</span> })}
                                                            {r.provider_refund_id.map(|p| view! { <span class="block font-mono text-xs text-stone-500">{p}</span> })}
                                                        </li>
                                                    }).collect_view()}
                                                </ul>
                                            }.into_any()
                                        }}
                                    </section>
                                })}
                                {refund_form}
                                {o.can_cancel.then(|| { let id = oid.clone(); view! {
                                    <section class="card p-6">
                                        <h2 class="text-lg font-semibold">"Cancel order"</h2>
                                        <p class="mt-1 text-sm text-stone-600">"Refunds everything still paid and puts every unit back in stock."</p>
                                        <ActionForm action=cancel attr:class="mt-3" attr:data-testid="cancel-form">
                                            <input type="hidden" name="order_id" value=id />
                                            <label class="text-sm" for="cancel-reason">"Reason"
                                                <input id="cancel-reason" name="reason" maxlength="500" class="input mt-1 block w-80" />
                                            </label>
                                            {confirm_box("cancel-confirm", "Cancel this order and refund it in full.")}
                                            <button type="submit" class="btn btn-danger mt-3" data-testid="cancel-submit">"Cancel and refund"</button>
                                        </ActionForm>
                                    </section>
                                }})}
                                {o.staff.then(|| { let id = oid.clone(); let notes = o.notes.clone(); view! {
                                    <section class="card p-6">
                                        <h2 class="text-lg font-semibold">"Internal notes"</h2>
                                        <ul class="mt-2 space-y-2 text-sm" data-testid="notes">
                                            {notes.into_iter().map(|n| view! {
                                                <li><span class="text-stone-600">{format!("{} · {}", n.when, n.author)}</span><span class="block whitespace-pre-line">{n.body}</span></li>
                                            }).collect_view()}
                                        </ul>
                                        <ActionForm action=note attr:class="mt-3" attr:data-testid="note-form">
                                            <input type="hidden" name="order_id" value=id />
                                            <label class="block text-sm" for="order-note">"Add a note (staff only)"</label>
                                            <textarea id="order-note" name="note" required maxlength="2000" rows="3" class="input mt-1 w-full"></textarea>
                                            <button type="submit" class="btn btn-secondary mt-2" data-testid="note-submit">"Add note"</button>
                                        </ActionForm>
                                    </section>
                                }})}
                                {o.staff.then(|| view! {
                                    <section>
                                        <h2 class="text-lg font-semibold">"History"</h2>
                                        <DataTable columns=["When", "What", "Note", "Who"].map(Column::new).to_vec() testid="order-history">
                                            {o.history.iter().cloned().map(|h| view! {
                                                <tr>
                                                    <td class="whitespace-nowrap px-3 py-2">{h.when}</td>
                                                    <td class="px-3 py-2">{h.what}</td>
                                                    <td class="px-3 py-2">{h.note}</td>
                                                    <td class="px-3 py-2">{h.actor}</td>
                                                </tr>
                                            }).collect_view()}
                                        </DataTable>
                                    </section>
                                })}
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A printable document of an order: the order as staff see it, with the shop's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub order: AdminOrderView,
    pub shop_name: String,
    /// When the document was printed ("4 Dec 2026").
    pub issued: String,
}

/// Loads an order for its packing slip or invoice (shop staff only).
#[server(endpoint = "admin/order-document")]
pub async fn order_document(id: String) -> Result<DocumentView, AppError> {
    server::order_document(id).await
}

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Document {
    PackingSlip,
    Invoice,
}

#[component]
fn DocumentPage(kind: Document) -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(move || id.get(), order_document);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => {
                        let o = d.order;
                        let heading = match kind {
                            Document::PackingSlip => "Packing slip",
                            Document::Invoice => "Invoice",
                        };
                        let title = format!("{heading} {}", o.number);
                        view! {
                            <crate::components::PageTitle text=title.clone() />
                            <article class="mx-auto max-w-3xl space-y-6 bg-white p-8 text-sm print:max-w-none print:p-0" data-testid="order-document">
                                <p class="print:hidden"><a class="link" href=format!("/admin/orders/{}", o.id)>"Back to the order"</a>" · Print with your browser (Ctrl+P or ⌘P)."</p>
                                <header class="flex items-start justify-between border-b border-stone-300 pb-4">
                                    <div>
                                        <p class="text-xl font-bold">{d.shop_name}</p>
                                        <h1 class="mt-1 text-lg font-semibold">{title}</h1>
                                    </div>
                                    <dl class="grid grid-cols-2 gap-x-3 text-right">
                                        <dt>"Order"</dt><dd class="font-medium">{o.number.clone()}</dd>
                                        <dt>"Placed"</dt><dd>{o.placed.clone()}</dd>
                                        <dt>"Issued"</dt><dd>{d.issued}</dd>
                                    </dl>
                                </header>
                                <div class="grid grid-cols-2 gap-6">
                                    <section>
                                        <h2 class="font-semibold">"Ship to"</h2>
                                        <address class="not-italic">{o.ship_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                        <p class="mt-1">{format!("{} ({})", o.method, o.days)}</p>
                                    </section>
                                    {(kind == Document::Invoice).then(|| view! {
                                        <section>
                                            <h2 class="font-semibold">"Bill to"</h2>
                                            <address class="not-italic">{o.bill_to.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}</address>
                                            <p class="mt-1 break-all">{o.email.clone()}</p>
                                        </section>
                                    })}
                                </div>
                                <table class="w-full border-collapse text-left">
                                    <thead>
                                        <tr class="border-b border-stone-400">
                                            <th scope="col" class="py-1">"Item"</th>
                                            <th scope="col" class="py-1">"SKU"</th>
                                            <th scope="col" class="py-1 text-right">"Qty"</th>
                                            {(kind == Document::Invoice).then(|| view! {
                                                <th scope="col" class="py-1 text-right">"Unit price"</th>
                                                <th scope="col" class="py-1 text-right">"Total"</th>
                                            })}
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {o.lines.iter().cloned().map(|l| view! {
                                            <tr class="border-b border-stone-200">
                                                <td class="py-1">{l.name}{(!l.options.is_empty()).then(|| view! { <span class="block text-xs">{l.options}</span> })}</td>
                                                <td class="py-1 font-mono text-xs">{l.sku}</td>
                                                <td class="py-1 text-right tabular-nums">{l.quantity}</td>
                                                {(kind == Document::Invoice).then(|| view! {
                                                    <td class="py-1 text-right tabular-nums">{l.unit_price}</td>
                                                    <td class="py-1 text-right tabular-nums">{l.line_total}</td>
                                                })}
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {(kind == Document::Invoice).then(|| view! {
                                    <dl class="ml-auto grid max-w-xs grid-cols-2 gap-1" data-testid="invoice-totals">
                                        <dt>"Subtotal"</dt><dd class="text-right tabular-nums">{o.subtotal.clone()}</dd>
                                        <dt>"Shipping"</dt><dd class="text-right tabular-nums">{o.shipping.clone()}</dd>
                                        <dt class="font-semibold">"Total"</dt><dd class="text-right font-semibold tabular-nums">{o.total.clone()}</dd>
                                        <dt>{format!("Including VAT ({})", o.vat_label)}</dt><dd class="text-right tabular-nums">{o.vat.clone()}</dd>
                                        {o.payment.clone().filter(|p| p.has_refunds).map(|p| view! {
                                            <dt>"Refunded"</dt><dd class="text-right tabular-nums">{p.refunded}</dd>
                                        })}
                                    </dl>
                                })}
                                {(kind == Document::PackingSlip).then(|| view! {
                                    <p class="border-t border-stone-300 pt-4">"Thank you for your order. Questions or returns: reply to your order confirmation mail."</p>
                                })}
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/orders/:id/packing-slip`: what goes in the parcel, without prices.
#[component]
pub fn PackingSlipPage() -> impl IntoView {
    view! { <DocumentPage kind=Document::PackingSlip /> }
}

/// `/admin/orders/:id/invoice`: the order with prices, shipping and the VAT included.
#[component]
pub fn InvoicePage() -> impl IntoView {
    view! { <DocumentPage kind=Document::Invoice /> }
}
