//! `/admin/webhooks` and `/admin/webhooks/:id`: endpoints that receive the shop's events
//! (`order.paid`, `stock.low`, ...) as signed JSON POSTs. The list, adding one, and one
//! endpoint's page: its URL, events and on/off switch, the secret that signs its deliveries,
//! a button that sends it a test event now, its delivery log, and deleting it. Admins only.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::{Badge, Column, DataTable, Field, FieldError, FormError, Submit, Tone};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// An endpoint as the list and its page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub active: bool,
    /// Delivered / failed / pending counts of its latest deliveries, "12 delivered · 1 failed".
    pub recent: String,
}

/// One delivery in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub event_type: String,
    pub event_id: String,
    /// "Delivered", "Failed", "Pending".
    pub status: String,
    pub attempts: i64,
    /// "200", or "—" without an answer.
    pub response: String,
    pub error: String,
    pub duration: String,
    pub when: String,
}

/// The list page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub endpoints: Vec<EndpointView>,
    /// Every event an endpoint may subscribe to.
    pub events: Vec<String>,
}

/// One endpoint's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPage {
    pub endpoint: EndpointView,
    pub secret: String,
    pub events: Vec<String>,
    pub deliveries: Vec<DeliveryView>,
}

#[server(endpoint = "admin/webhooks")]
pub async fn list_webhooks() -> Result<WebhooksPage, AppError> {
    server::list_webhooks().await
}

#[server(endpoint = "admin/webhook")]
pub async fn get_webhook(id: String) -> Result<WebhookPage, AppError> {
    server::get_webhook(id).await
}

/// Adds an endpoint (empty `id`) or changes one: `url`, `description`, `active`, and one
/// `event_<type>` checkbox per event (`event_order.paid`). Any other field is refused.
#[server(endpoint = "admin/webhook-save")]
pub async fn save_webhook(
    #[server(flatten)] form: HashMap<String, String>,
) -> Result<(), AppError> {
    server::save_webhook(form).await
}

/// Sends the endpoint a `ping` event now; the outcome is in its delivery log.
#[server(endpoint = "admin/webhook-test")]
pub async fn test_webhook(id: String) -> Result<(), AppError> {
    server::test_webhook(id).await
}

/// Deletes an endpoint and its log (`confirm=yes`).
#[server(endpoint = "admin/webhook-delete")]
pub async fn delete_webhook(id: String, confirm: Option<String>) -> Result<(), AppError> {
    server::delete_webhook(id, confirm).await
}

/// The endpoint form's inputs.
#[component]
fn EndpointInputs(
    #[prop(optional)] endpoint: Option<EndpointView>,
    events: Vec<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = endpoint.as_ref().map(|e| e.id.clone()).unwrap_or_default();
    let chosen = endpoint
        .as_ref()
        .map(|e| e.events.clone())
        .unwrap_or_default();
    let active = endpoint.as_ref().is_none_or(|e| e.active);
    let events_error = move || error.get().and_then(|e| e.message_for("events"));
    view! {
        <input type="hidden" name="id" value=id />
        <Field label="URL" name="url" kind="url" value=endpoint.as_ref().map(|e| e.url.clone()).unwrap_or_default() error id_prefix="hook-" hint="Where the shop POSTs each event, such as https://erp.example.com/shop-events. http or https, outside the shop's own network." />
        <Field label="Description (optional)" name="description" value=endpoint.as_ref().map(|e| e.description.clone()).unwrap_or_default() error required=false id_prefix="hook-" />
        <fieldset aria-describedby="hook-events-error">
            <legend class="text-sm font-medium text-stone-800">"Events"</legend>
            <div class="mt-2 grid gap-1 sm:grid-cols-2">
                {events.into_iter().map(|e| {
                    let checked = chosen.contains(&e);
                    view! {
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" name=format!("event_{e}") value="on" checked=checked class="focus-ring" data-testid=format!("event-{e}") />
                            <code>{e}</code>
                        </label>
                    }
                }).collect_view()}
            </div>
            {move || view! { <FieldError id="hook-events-error" message=events_error() /> }}
        </fieldset>
        <label class="flex items-center gap-2 text-sm">
            <input type="checkbox" name="active" value="on" checked=active class="focus-ring" />
            "Active: send events to this endpoint"
        </label>
    }
}

/// `/admin/webhooks`
#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    let save = ServerAction::<SaveWebhook>::new();
    let data = Resource::new(move || save.version().get(), |_| list_webhooks());
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => view! {
                        <AdminFrame title="Webhooks">
                            <p class="max-w-3xl text-sm text-stone-700">
                                "The shop POSTs each chosen event to an endpoint as JSON, signed with the endpoint's secret (the "
                                <code>"Shop-Signature"</code>
                                " header), and retries with growing pauses until it answers 2xx. The "
                                <a class="link" href="/api/v1/docs">"API reference"</a>
                                " and the README explain how to check a signature."
                            </p>
                            <EndpointsTable endpoints=p.endpoints />
                            <ActionForm action=save attr:class="card max-w-3xl space-y-4 p-6" attr:data-testid="new-webhook-form">
                                <h2 class="text-lg font-semibold">"Add an endpoint"</h2>
                                <FormError error />
                                <EndpointInputs events=p.events error />
                                <Submit label="Add endpoint" busy_label="Adding…" pending=save.pending() />
                            </ActionForm>
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointsTable(endpoints: Vec<EndpointView>) -> impl IntoView {
    if endpoints.is_empty() {
        return view! { <p class="text-stone-600" data-testid="webhooks-empty">"No endpoints yet."</p> }.into_any();
    }
    let columns = vec![
        Column::new("URL"),
        Column::new("Events"),
        Column::new("Recent deliveries"),
        Column::new("Status"),
        Column::hidden("Open"),
    ];
    view! {
        <DataTable columns testid="webhooks">
            {endpoints.into_iter().map(|e| {
                let tone = if e.active { Tone::Good } else { Tone::Neutral };
                let href = format!("/admin/webhooks/{}", e.id);
                view! {
                    <tr data-testid="webhook-row">
                        <td class="px-3 py-2 font-mono text-xs break-all">{e.url.clone()}<span class="block font-sans text-stone-600">{e.description}</span></td>
                        <td class="px-3 py-2 text-xs">{e.events.join(" ")}</td>
                        <td class="px-3 py-2 text-xs">{e.recent}</td>
                        <td class="px-3 py-2"><Badge tone>{if e.active { "Active" } else { "Off" }}</Badge></td>
                        <td class="px-3 py-2"><a class="link" href=href>"Open"<span class="sr-only">{format!(" {}", e.url)}</span></a></td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// `/admin/webhooks/:id`
#[component]
pub fn AdminWebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<SaveWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let data = Resource::new(
        move || (id.get(), save.version().get(), test.version().get()),
        |(id, _, _)| get_webhook(id),
    );
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let delete_error = Signal::derive(move || delete.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let endpoint_id = p.endpoint.id.clone();
                        let delete_id = p.endpoint.id.clone();
                        view! {
                            <AdminFrame title=format!("Webhook: {}", p.endpoint.url)>
                                <p class="text-sm"><a class="link" href="/admin/webhooks">"All endpoints"</a></p>
                                <section class="card max-w-3xl space-y-2 p-6" aria-labelledby="secret-heading">
                                    <h2 id="secret-heading" class="text-lg font-semibold">"Signing secret"</h2>
                                    <p class="text-sm text-stone-700">"Keep a copy at the receiver: it checks each request's Shop-Signature with it."</p>
                                    <input readonly class="input w-full font-mono text-sm" aria-label="Signing secret" value=p.secret data-testid="webhook-secret" />
                                    <ActionForm action=test attr:class="pt-2">
                                        <input type="hidden" name="id" value=endpoint_id />
                                        <Submit label="Send a test event" busy_label="Sending…" pending=test.pending() class="btn btn-secondary" />
                                    </ActionForm>
                                </section>
                                <ActionForm action=save attr:class="card max-w-3xl space-y-4 p-6" attr:data-testid="webhook-form">
                                    <FormError error />
                                    <EndpointInputs endpoint=p.endpoint events=p.events error />
                                    <Submit label="Save endpoint" busy_label="Saving…" pending=save.pending() />
                                </ActionForm>
                                <h2 class="text-lg font-semibold">"Deliveries"</h2>
                                <DeliveriesTable deliveries=p.deliveries />
                                <ActionForm action=delete attr:class="card max-w-3xl space-y-3 p-6">
                                    <h2 class="text-lg font-semibold">"Delete this endpoint"</h2>
                                    <FormError error=delete_error />
                                    <input type="hidden" name="id" value=delete_id />
                                    <label class="flex items-center gap-2 text-sm">
                                        <input type="checkbox" name="confirm" value="yes" required />
                                        "Stop sending events here and delete its delivery log."
                                    </label>
                                    <button type="submit" class="btn btn-danger" data-testid="delete-webhook">"Delete endpoint"</button>
                                </ActionForm>
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeliveriesTable(deliveries: Vec<DeliveryView>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="text-stone-600" data-testid="deliveries-empty">"Nothing sent yet."</p> }.into_any();
    }
    let columns = Vec::from(
        [
            "When", "Event", "Status", "Attempts", "Answer", "Time", "Error",
        ]
        .map(Column::new),
    );
    view! {
        <DataTable columns testid="webhook-deliveries">
            {deliveries.into_iter().map(|d| {
                let tone = match d.status.as_str() {
                    "Delivered" => Tone::Good,
                    "Failed" => Tone::Warning,
                    _ => Tone::Neutral,
                };
                view! {
                    <tr data-testid="delivery-row">
                        <td class="whitespace-nowrap px-3 py-2">{d.when}</td>
                        <td class="px-3 py-2"><code>{d.event_type}</code><span class="block text-xs text-stone-500">{d.event_id}</span></td>
                        <td class="px-3 py-2"><Badge tone>{d.status}</Badge></td>
                        <td class="px-3 py-2 tabular-nums">{d.attempts}</td>
                        <td class="px-3 py-2 tabular-nums" data-testid="delivery-response">{d.response}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{d.duration}</td>
                        <td class="px-3 py-2 text-xs break-all">{d.error}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}
