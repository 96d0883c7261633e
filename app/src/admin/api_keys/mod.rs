//! `/admin/api-keys`: keys for programs calling the JSON API's admin routes (an ERP, a
//! marketplace feed). Admins and vendors make keys with a name, scopes and an expiry; the
//! key is shown once, right after it is made, and only its first characters afterwards.
//! Admins see and may revoke every key, vendors their own. Making, revoking and every call
//! made with a key are in the audit log.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::{Badge, Column, DataTable, Field, FormError, Submit, Tone};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// A scope the form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoice {
    /// `products:write`
    pub name: String,
    /// The checkbox's field name: `scope_products_write`.
    pub field: String,
    pub description: String,
}

/// A key as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    /// `shk_0192abcd…`
    pub prefix: String,
    /// The owner's email (shown to admins, who see every key).
    pub owner: String,
    pub scopes: Vec<String>,
    pub created: String,
    /// "never", or a date.
    pub expires: String,
    /// "never", or when.
    pub last_used: String,
    /// "Active", "Expired" or "Revoked".
    pub state: String,
}

/// A key just made, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshKey {
    pub name: String,
    pub secret: String,
}

/// The page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    /// Admins see every key and its owner.
    pub staff: bool,
    pub scopes: Vec<ScopeChoice>,
    pub keys: Vec<KeyRow>,
    /// The key made a moment ago by this account, once.
    pub fresh: Option<FreshKey>,
}

/// The keys the signed-in admin (all) or vendor (their own) may see, and a key they have
/// just made (taken from their session: it is shown once).
#[server(endpoint = "admin/api-keys")]
pub async fn get_api_keys() -> Result<ApiKeysPage, AppError> {
    server::get_api_keys().await
}

/// Makes a key from the form: `name`, `expires` (`30`, `90`, `365` days or `never`), and one
/// `scope_<scope>` checkbox per scope. Any other field is refused.
#[server(endpoint = "admin/api-key-create")]
pub async fn create_api_key(
    #[server(flatten)] form: HashMap<String, String>,
) -> Result<(), AppError> {
    server::create_api_key(form).await
}

/// Revokes a key: it stops working at once.
#[server(endpoint = "admin/api-key-revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    server::revoke_api_key(id).await
}

/// `/admin/api-keys`
#[component]
pub fn AdminApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| get_api_keys(),
    );
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => view! {
                        <AdminFrame title="API keys" staff=p.staff>
                            <p class="max-w-3xl text-sm text-stone-700">
                                "A key lets a program (an ERP, a marketplace feed, a stock sync) call the shop's "
                                <a class="link" href="/api/v1/docs">"JSON API"</a>
                                " as you, within the scopes you choose. Send it as "
                                <code>"Authorization: Bearer <key>"</code>
                                ". Every call made with a key is in the audit log."
                            </p>
                            {p.fresh.map(|f| view! {
                                <div role="status" class="card max-w-3xl space-y-2 border-emerald-300 bg-emerald-50 p-4" data-testid="fresh-key">
                                    <p class="font-medium">{format!("Your new key “{}”. Copy it now: it is not shown again.", f.name)}</p>
                                    <input readonly class="input w-full font-mono text-sm" aria-label="The new API key" value=f.secret data-testid="fresh-key-value" />
                                </div>
                            })}
                            <NewKeyForm scopes=p.scopes action=create error />
                            <h2 class="text-lg font-semibold">"Keys"</h2>
                            <KeysTable keys=p.keys staff=p.staff revoke />
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewKeyForm(
    scopes: Vec<ScopeChoice>,
    action: ServerAction<CreateApiKey>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let scopes_error = move || error.get().and_then(|e| e.message_for("scopes"));
    let expires_error = move || error.get().and_then(|e| e.message_for("expires_at"));
    view! {
        <ActionForm action attr:class="card max-w-3xl space-y-4 p-6" attr:data-testid="new-key-form">
            <h2 class="text-lg font-semibold">"Make a key"</h2>
            <FormError error />
            <Field label="Name" name="name" error id_prefix="key-" hint="What will use it, such as “ERP stock sync”." />
            <fieldset aria-describedby="key-scopes-error">
                <legend class="text-sm font-medium text-stone-800">"Scopes"</legend>
                <div class="mt-2 grid gap-1 sm:grid-cols-2">
                    {scopes.into_iter().map(|s| view! {
                        <label class="flex items-start gap-2 text-sm">
                            <input type="checkbox" name=s.field.clone() value="on" class="focus-ring mt-1" data-testid=format!("scope-{}", s.name) />
                            <span><code>{s.name}</code><span class="block text-xs text-stone-600">{s.description}</span></span>
                        </label>
                    }).collect_view()}
                </div>
                {move || view! { <crate::components::FieldError id="key-scopes-error" message=scopes_error() /> }}
            </fieldset>
            <div>
                <label for="key-expires" class="block text-sm font-medium text-stone-800">"Expires"</label>
                <select id="key-expires" name="expires" class="input mt-1" aria-describedby="key-expires-error">
                    <option value="30">"In 30 days"</option>
                    <option value="90" selected>"In 90 days"</option>
                    <option value="365">"In a year"</option>
                    <option value="never">"Never (until revoked)"</option>
                </select>
                {move || view! { <crate::components::FieldError id="key-expires-error" message=expires_error() /> }}
            </div>
            <Submit label="Make key" busy_label="Making…" pending=action.pending() />
        </ActionForm>
    }
}

#[component]
fn KeysTable(keys: Vec<KeyRow>, staff: bool, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="text-stone-600" data-testid="keys-empty">"No keys yet."</p> }
            .into_any();
    }
    let mut columns = vec![Column::new("Name"), Column::new("Key")];
    if staff {
        columns.push(Column::new("Owner"));
    }
    columns.extend([
        Column::new("Scopes"),
        Column::new("Made"),
        Column::new("Expires"),
        Column::new("Last used"),
        Column::new("Status"),
        Column::hidden("Revoke"),
    ]);
    view! {
        <DataTable columns testid="api-keys">
            {keys.into_iter().map(|k| {
                let active = k.state == "Active";
                let tone = if active { Tone::Good } else { Tone::Neutral };
                let hidden_name = format!(" {}", k.name);
                view! {
                    <tr data-testid="api-key-row">
                        <td class="px-3 py-2 font-medium">{k.name}</td>
                        <td class="whitespace-nowrap px-3 py-2 font-mono text-xs">{format!("{}…", k.prefix)}</td>
                        {staff.then(|| view! { <td class="px-3 py-2">{k.owner.clone()}</td> })}
                        <td class="px-3 py-2 text-xs">{k.scopes.join(" ")}</td>
                        <td class="whitespace-nowrap px-3 py-2">{k.created}</td>
                        <td class="whitespace-nowrap px-3 py-2">{k.expires}</td>
                        <td class="whitespace-nowrap px-3 py-2">{k.last_used}</td>
                        <td class="px-3 py-2"><Badge tone>{k.state}</Badge></td>
                        <td class="px-3 py-2">
                            {active.then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=k.id.clone() />
                                    <button type="submit" class="btn btn-danger" data-testid="revoke-key">"Revoke"<span class="sr-only">{hidden_name.clone()}</span></button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}
