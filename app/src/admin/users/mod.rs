//! `/admin/users` and `/admin/users/:id`: finding accounts, and one account's roles, access
//! (disable or enable) and history. Admins only.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::{AdminFrame, AuditRow, AuditTable};
use crate::components::{
    Column, DataTable, FilterBar, FilterSelect, FilterText, FormError, Pager, choices,
};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// A user row as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub verified: bool,
    pub joined: String,
}

/// A page of users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub rows: Vec<UserRow>,
    pub total: i64,
    pub page: u32,
    pub pages: u32,
}

/// Searches users.
#[server(endpoint = "admin/users")]
pub async fn list_users(
    q: Option<String>,
    role: Option<String>,
    status: Option<String>,
    page: Option<String>,
) -> Result<UsersPage, AppError> {
    server::list_users(q, role, status, page).await
}

/// One user with their sessions count and history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserRow,
    pub sessions: usize,
    pub history: Vec<AuditRow>,
    pub is_self: bool,
}

/// Loads a user for the detail page.
#[server(endpoint = "admin/user")]
pub async fn get_user(id: String) -> Result<UserDetail, AppError> {
    server::get_user(id).await
}

/// Grants (`grant = "1"`) or revokes a role.
#[server(endpoint = "admin/user-role")]
pub async fn set_user_role(user_id: String, role: String, grant: String) -> Result<(), AppError> {
    server::set_user_role(user_id, role, grant).await
}

/// Disables or re-enables an account.
#[server(endpoint = "admin/user-status")]
pub async fn set_user_status(user_id: String, status: String) -> Result<(), AppError> {
    server::set_user_status(user_id, status).await
}

/// `/admin/users`
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("q"), q.get("role"), q.get("status"), q.get("page"))
    };
    let data = Resource::new(params, |(q, role, status, page)| {
        list_users(q, role, status, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (q, role, status, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filters = vec![("q", q.clone()), ("role", role.clone()), ("status", status.clone())];
                        let columns = ["Name", "Email", "Roles", "Status", "Joined"].map(Column::new).to_vec();
                        view! {
                            <AdminFrame title="Users">
                                <FilterBar action="/admin/users">
                                    <FilterText id="users-q" name="q" label="Email or name" value=q.clone() class="input mt-1 w-64" />
                                    <FilterSelect id="users-role" name="role" label="Role" current=role.clone()
                                        options=choices(&[("customer", "Customer"), ("vendor", "Vendor"), ("admin", "Admin")]) />
                                    <FilterSelect id="users-status" name="status" label="Status" current=status.clone()
                                        options=choices(&[("active", "Active"), ("disabled", "Disabled")]) />
                                </FilterBar>
                                <p class="text-sm text-stone-600" data-testid="users-total">{format!("{} user{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                                <DataTable columns testid="users">
                                    {p.rows.into_iter().map(|u| view! {
                                        <tr>
                                            <td class="px-3 py-2"><a class="link" href=format!("/admin/users/{}", u.id)>{u.name}</a></td>
                                            <td class="px-3 py-2">{u.email}{(!u.verified).then(|| view! { <span class="ml-2 text-xs text-amber-800">"unverified"</span> })}</td>
                                            <td class="px-3 py-2">{u.roles.join(", ")}</td>
                                            <td class="px-3 py-2">{if u.active { "Active" } else { "Disabled" }}</td>
                                            <td class="whitespace-nowrap px-3 py-2">{u.joined}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                                <Pager base="/admin/users" filters page=p.page pages=p.pages />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/users/:id`
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let role_action = ServerAction::<SetUserRole>::new();
    let status_action = ServerAction::<SetUserStatus>::new();
    // Reloaded after each change: with JavaScript on, the page stays and must show it.
    let data = Resource::new(
        move || {
            (
                id.get(),
                role_action.version().get(),
                status_action.version().get(),
            )
        },
        |(id, _, _)| get_user(id),
    );
    let error = Signal::derive(move || {
        role_action
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| status_action.value().get().and_then(Result::err))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => {
                        let u = d.user.clone();
                        view! {
                            <AdminFrame title=u.name.clone()>
                                <FormError error />
                                <div class="card p-6">
                                    <p data-testid="user-email">{u.email.clone()}
                                        {if u.verified { " (verified)" } else { " (not verified)" }}
                                    </p>
                                    <p class="mt-1 text-sm text-stone-600">{format!("Joined {} · {} active session{}", u.joined, d.sessions, if d.sessions == 1 { "" } else { "s" })}</p>
                                    <p class="mt-1 text-sm" data-testid="user-status">{if u.active { "Active" } else { "Disabled" }}</p>
                                </div>
                                <div class="card p-6">
                                    <h2 class="text-lg font-semibold">"Roles"</h2>
                                    <ul class="mt-3 space-y-2" data-testid="roles">
                                        {["customer", "vendor", "admin"].into_iter().map(|role| {
                                            let has = u.roles.iter().any(|r| r == role);
                                            let locked = d.is_self && role == "admin";
                                            let uid = u.id.clone();
                                            view! {
                                                <li class="flex items-center gap-3">
                                                    <span class="w-24 capitalize">{role}</span>
                                                    <span class="w-20 text-sm" data-testid=format!("role-{role}")>{if has { "Granted" } else { "—" }}</span>
                                                    {(!locked).then(move || view! {
                                                        <ActionForm action=role_action>
                                                            <input type="hidden" name="user_id" value=uid />
                                                            <input type="hidden" name="role" value=role />
                                                            <input type="hidden" name="grant" value=if has { "0" } else { "1" } />
                                                            <button type="submit" class="btn btn-secondary" data-testid=format!("toggle-{role}")>
                                                                {if has { format!("Revoke {role}") } else { format!("Grant {role}") }}
                                                            </button>
                                                        </ActionForm>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </div>
                                {(!d.is_self).then({
                                    let uid = u.id.clone();
                                    let active = u.active;
                                    move || view! {
                                    <div class="card p-6">
                                        <h2 class="text-lg font-semibold">"Access"</h2>
                                        <p class="mt-1 text-sm text-stone-600">"A disabled account cannot sign in, and its sessions end at once."</p>
                                        <ActionForm action=status_action attr:class="mt-3">
                                            <input type="hidden" name="user_id" value=uid />
                                            <input type="hidden" name="status" value=if active { "disabled" } else { "active" } />
                                            <button type="submit" class=if active { "btn btn-danger" } else { "btn btn-primary" } data-testid="toggle-status">
                                                {if active { "Disable account" } else { "Enable account" }}
                                            </button>
                                        </ActionForm>
                                    </div>
                                }})}
                                <h2 class="text-lg font-semibold">"History"</h2>
                                <AuditTable rows=d.history.clone() />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
