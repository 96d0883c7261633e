//! The address book: list, add, edit, delete, choose the default shipping address.

// The save server function takes one argument per form field (that is what a plain HTML
// form posts); the macro's generated client code, and the body in server.rs, inherit the
// count.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::AccountFrame;
use crate::components::{Field, FormError, Submit};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

// The account overview prints addresses too: the helper keeps its path here.
#[cfg(feature = "ssr")]
pub use server::address_lines;

/// An address as the pages show and edit it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressView {
    pub id: String,
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub is_default: bool,
    pub lines: Vec<String>,
}

/// The signed-in user's addresses.
#[server(endpoint = "account/addresses")]
pub async fn list_addresses() -> Result<Vec<AddressView>, AppError> {
    server::list_addresses().await
}

/// One of the signed-in user's addresses, for the edit form.
#[server(endpoint = "account/address")]
pub async fn get_address(id: String) -> Result<AddressView, AppError> {
    server::get_address(id).await
}

/// Adds (no `id`) or changes an address.
#[server(endpoint = "account/save-address")]
pub async fn save_address(
    id: Option<String>,
    full_name: String,
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    phone: String,
    make_default: Option<String>,
) -> Result<(), AppError> {
    server::save_address(
        id,
        full_name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
        make_default,
    )
    .await
}

/// Deletes an address.
#[server(endpoint = "account/delete-address")]
pub async fn delete_address(id: String) -> Result<(), AppError> {
    server::delete_address(id).await
}

/// Makes an address the default for shipping.
#[server(endpoint = "account/default-address")]
pub async fn make_default_address(id: String) -> Result<(), AppError> {
    server::make_default_address(id).await
}

/// The countries the form offers (code, name).
#[server(endpoint = "account/countries")]
pub async fn countries() -> Result<Vec<(String, String)>, AppError> {
    server::countries().await
}

/// `/account/addresses`
#[component]
pub fn AddressesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_addresses());
    let delete = ServerAction::<DeleteAddress>::new();
    let make_default = ServerAction::<MakeDefaultAddress>::new();
    let error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| make_default.value().get().and_then(Result::err))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(list) => view! {
                        <AccountFrame title="Addresses">
                            <FormError error />
                            <p><a class="btn btn-primary" href="/account/addresses/new">"Add an address"</a></p>
                            {list.is_empty().then(|| view! {
                                <p class="text-stone-600">"You have no saved addresses. Add one to check out faster."</p>
                            })}
                            <ul class="grid gap-4 sm:grid-cols-2" data-testid="addresses">
                                {list.into_iter().map(|a| {
                                    let edit_href = format!("/account/addresses/{}", a.id);
                                    let default_id = a.id.clone();
                                    let delete_id = a.id.clone();
                                    view! {
                                    <li class="card p-5">
                                        {a.is_default.then(|| view! { <p class="mb-2 text-xs font-semibold uppercase tracking-wide text-emerald-800">"Default shipping address"</p> })}
                                        <address class="not-italic text-sm text-stone-800">
                                            {a.lines.iter().map(|l| view! { <span class="block">{l.clone()}</span> }).collect_view()}
                                        </address>
                                        <div class="mt-4 flex flex-wrap gap-2">
                                            <a class="btn btn-secondary" href=edit_href>"Edit"</a>
                                            {(!a.is_default).then(move || view! {
                                                <ActionForm action=make_default>
                                                    <input type="hidden" name="id" value=default_id />
                                                    <button type="submit" class="btn btn-secondary">"Make default"</button>
                                                </ActionForm>
                                            })}
                                            <ActionForm action=delete>
                                                <input type="hidden" name="id" value=delete_id />
                                                <button type="submit" class="btn btn-danger">"Delete"</button>
                                            </ActionForm>
                                        </div>
                                    </li>
                                }}).collect_view()}
                            </ul>
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/account/addresses/new` and `/account/addresses/:id`
#[component]
pub fn AddressFormPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id"));
    let existing = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_address(id).await.map(Some),
                None => list_addresses().await.map(|_| None),
            }
        },
    );
    let country_list = Resource::new(|| (), |_| countries());
    let action = ServerAction::<SaveAddress>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let countries = country_list.await.unwrap_or_default();
                match existing.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(found) => {
                        let title = if found.is_some() { "Edit address" } else { "Add an address" };
                        let a = found.clone().unwrap_or_default();
                        let chosen = error
                            .get_untracked()
                            .and_then(|e| e.kept("country"))
                            .unwrap_or_else(|| if a.country.is_empty() { "GB".to_owned() } else { a.country.clone() });
                        let country_error = move || error.get().and_then(|e| e.message_for("country"));
                        view! {
                            <AccountFrame title=title>
                                <ActionForm action attr:class="card max-w-xl space-y-4 p-6" attr:novalidate="true">
                                    <input type="hidden" name="id" value=a.id.clone() />
                                    <FormError error />
                                    <Field label="Full name" name="full_name" autocomplete="name" value=a.full_name.clone() error />
                                    <Field label="Address line 1" name="line1" autocomplete="address-line1" value=a.line1.clone() error />
                                    <Field label="Address line 2 (optional)" name="line2" autocomplete="address-line2" value=a.line2.clone() required=false error />
                                    <div class="grid gap-4 sm:grid-cols-2">
                                        <Field label="Town or city" name="city" autocomplete="address-level2" value=a.city.clone() error />
                                        <Field label="Postcode" name="postal_code" autocomplete="postal-code" value=a.postal_code.clone() error />
                                    </div>
                                    <Field label="County, state or region (optional)" name="region" autocomplete="address-level1" value=a.region.clone() required=false error />
                                    <div>
                                        <label for="country" class="block text-sm font-medium text-stone-800">"Country"</label>
                                        <select id="country" name="country" autocomplete="country" class="input mt-1 w-full" aria-describedby="country-error">
                                            {countries.into_iter().map(|(code, name)| {
                                                let selected = code == chosen;
                                                view! { <option value=code selected=selected>{name}</option> }
                                            }).collect_view()}
                                        </select>
                                        {move || view! { <crate::components::FieldError id="country-error" message=country_error() /> }}
                                    </div>
                                    <Field label="Phone (optional, for the courier)" name="phone" kind="tel" autocomplete="tel" value=a.phone.clone() required=false error />
                                    {(!a.is_default).then(|| view! {
                                        <label class="flex items-center gap-2 text-sm">
                                            <input type="checkbox" name="make_default" value="on" class="focus-ring" />
                                            "Use as my default shipping address"
                                        </label>
                                    })}
                                    <div class="flex gap-3">
                                        <Submit label="Save address" busy_label="Saving…" pending=action.pending() />
                                        <a class="btn btn-secondary" href="/account/addresses">"Cancel"</a>
                                    </div>
                                </ActionForm>
                            </AccountFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
