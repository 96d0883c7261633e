//! `/admin/shipping`, `/admin/shipping/new` and `/admin/shipping/:id`: the shipping methods
//! shoppers choose from at checkout (price, a free-shipping threshold, the countries served,
//! estimated days), adding one, and changing or disabling one. Shop staff only.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{AdminFrame, AuditRow, AuditTable};
use crate::components::{Badge, Column, DataTable, Field, FieldError, FormError, Submit, Tone};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// A shipping method as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingRow {
    pub id: String,
    pub name: String,
    /// "€4.90"
    pub price: String,
    /// "€50.00", or none when the method never ships free.
    pub free_over: Option<String>,
    /// "All 38 countries", or "3 countries: AT, CH, DE".
    pub countries: String,
    /// "3–5 business days"
    pub delivery: String,
    pub active: bool,
}

/// The shipping methods page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingPage {
    pub methods: Vec<ShippingRow>,
}

/// Every shipping method, enabled or not, in the order shoppers see them.
#[server(endpoint = "admin/shipping")]
pub async fn list_shipping_methods() -> Result<ShippingPage, AppError> {
    server::list_shipping_methods().await
}

/// A method's form values as text (blank for a new method, which serves every country).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodFields {
    /// Empty for a new method.
    pub id: String,
    pub name: String,
    /// "4.90"
    pub price: String,
    /// "50.00", or empty for no threshold.
    pub free_over: String,
    /// Country codes served.
    pub countries: Vec<String>,
    pub min_days: String,
    pub max_days: String,
    pub active: bool,
}

/// The method form's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingMethodPage {
    pub fields: MethodFields,
    /// Every country the shop ships to, as (code, name).
    pub countries: Vec<(String, String)>,
    /// The code of the currency prices are typed in, e.g. "EUR".
    pub currency: String,
    /// The method's audit entries (none for a new method).
    pub history: Vec<AuditRow>,
}

/// One method for its form, or (no `id`) a blank form for a new one.
#[server(endpoint = "admin/shipping-method")]
pub async fn get_shipping_method(id: Option<String>) -> Result<ShippingMethodPage, AppError> {
    server::get_shipping_method(id).await
}

/// Adds a method (empty `id`) or changes one. Besides its fields (`id`, `name`, `price`,
/// `free_over`, `min_days`, `max_days`, `active`) the form has one checkbox per country,
/// `country_XX`: repeated field names do not arrive as a list, so each country has its own.
/// Any other field is refused.
#[server(endpoint = "admin/shipping-method-save")]
pub async fn save_shipping_method(
    #[server(flatten)] form: HashMap<String, String>,
) -> Result<(), AppError> {
    server::save_shipping_method(form).await
}

/// `/admin/shipping`
#[component]
pub fn AdminShippingPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_shipping_methods());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => view! {
                        <AdminFrame title="Shipping">
                            <p><a class="btn btn-primary" href="/admin/shipping/new" data-testid="new-shipping-method">"Add a shipping method"</a></p>
                            <MethodsTable methods=p.methods />
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MethodsTable(methods: Vec<ShippingRow>) -> impl IntoView {
    if methods.is_empty() {
        return view! {
            <p class="text-stone-600" data-testid="shipping-empty">"No shipping methods yet. Shoppers can check out only once an active method serves their country."</p>
        }.into_any();
    }
    let columns = vec![
        Column::new("Name"),
        Column::new("Price"),
        Column::new("Free over"),
        Column::new("Countries"),
        Column::new("Delivery"),
        Column::new("Status"),
        Column::hidden("Edit"),
    ];
    view! {
        <DataTable columns testid="shipping-methods">
            {methods.into_iter().map(|m| {
                let tone = if m.active { Tone::Good } else { Tone::Neutral };
                let href = format!("/admin/shipping/{}", m.id);
                let hidden_name = format!(" {}", m.name);
                view! {
                    <tr>
                        <td class="px-3 py-2 font-medium">{m.name}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m.price}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m.free_over.unwrap_or_else(|| "—".to_owned())}</td>
                        <td class="px-3 py-2">{m.countries}</td>
                        <td class="whitespace-nowrap px-3 py-2">{m.delivery}</td>
                        <td class="px-3 py-2"><Badge tone>{if m.active { "Active" } else { "Disabled" }}</Badge></td>
                        <td class="px-3 py-2"><a class="link" href=href>"Edit"<span class="sr-only">{hidden_name}</span></a></td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// The method form's inputs. After a plain form post came back with an error, the values
/// typed before are shown again, ticked boxes included.
#[component]
fn MethodInputs(
    fields: MethodFields,
    countries: Vec<(String, String)>,
    currency: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let kept = error.get_untracked();
    let chosen: Vec<String> = kept
        .as_ref()
        .and_then(|e| e.kept("countries"))
        .map(|codes| {
            codes
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| fields.countries.clone());
    let active = kept
        .as_ref()
        .and_then(|e| e.kept("active"))
        .map_or(fields.active, |v| v == "on");
    let countries_error = move || error.get().and_then(|e| e.message_for("countries"));
    view! {
        <input type="hidden" name="id" value=fields.id.clone() />
        <Field label="Name" name="name" value=fields.name.clone() error id_prefix="ship-" hint="What shoppers see at checkout, such as Standard or Express." />
        <div class="grid gap-4 sm:grid-cols-2">
            <Field label=format!("Price ({currency})") name="price" value=fields.price.clone() error id_prefix="ship-" hint="Like 4.90; 0 ships free." />
            <Field label=format!("Free for orders from ({currency}, optional)") name="free_over" value=fields.free_over.clone() error required=false id_prefix="ship-" hint="Orders whose subtotal reaches this ship free. Leave empty for no threshold." />
            <Field label="Earliest delivery (business days)" name="min_days" kind="number" value=fields.min_days.clone() error id_prefix="ship-" />
            <Field label="Latest delivery (business days)" name="max_days" kind="number" value=fields.max_days.clone() error id_prefix="ship-" />
        </div>
        <fieldset aria-describedby="ship-countries-error">
            <legend class="text-sm font-medium text-stone-800">"Ships to"</legend>
            <div class="mt-2 grid max-h-72 gap-1 overflow-y-auto rounded border border-stone-200 p-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="shipping-countries">
                {countries.into_iter().map(|(code, name)| {
                    let checked = chosen.contains(&code);
                    view! {
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" name=format!("country_{code}") value="on" checked=checked class="focus-ring" />
                            {format!("{name} ({code})")}
                        </label>
                    }
                }).collect_view()}
            </div>
            {move || view! { <FieldError id="ship-countries-error" message=countries_error() /> }}
        </fieldset>
        <label class="flex items-center gap-2 text-sm">
            <input type="checkbox" name="active" value="on" checked=active class="focus-ring" data-testid="shipping-active" />
            "Active: offer this method at checkout"
        </label>
    }
}

/// `/admin/shipping/new` and `/admin/shipping/:id`
#[component]
pub fn AdminShippingMethodPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id"));
    let data = Resource::new(move || id.get(), get_shipping_method);
    let action = ServerAction::<SaveShippingMethod>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let is_new = p.fields.id.is_empty();
                        let title = if is_new {
                            "New shipping method".to_owned()
                        } else {
                            format!("Shipping method: {}", p.fields.name)
                        };
                        let history = p.history;
                        view! {
                            <AdminFrame title=title>
                                <p class="text-sm"><a class="link" href="/admin/shipping">"All shipping methods"</a></p>
                                <ActionForm action attr:class="card max-w-3xl space-y-4 p-6" attr:data-testid="shipping-method-form">
                                    <FormError error />
                                    <MethodInputs fields=p.fields countries=p.countries currency=p.currency error />
                                    <div class="flex gap-3">
                                        <Submit label="Save shipping method" busy_label="Saving…" pending=action.pending() />
                                        <a class="btn btn-secondary" href="/admin/shipping">"Cancel"</a>
                                    </div>
                                </ActionForm>
                                {(!is_new).then(move || view! {
                                    <h2 class="text-lg font-semibold">"History"</h2>
                                    <AuditTable rows=history />
                                })}
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
