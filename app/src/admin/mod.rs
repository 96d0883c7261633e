//! The admin dashboard: people (users, roles, disable/enable) and the audit log. Every
//! server function here checks the admin role itself; the pages only display.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

pub mod catalog_io;
pub mod categories;
pub mod products;

use crate::components::{
    Column, DataTable, FilterBar, FilterSelect, FilterText, FormError, Pager, choices,
};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
use crate::ssr::{auth_error, internal, redirect_with_flash, require_role, server_context};

#[cfg(feature = "ssr")]
const PER_PAGE: u32 = 25;

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

/// An audit entry for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub target_href: Option<String>,
    /// What changed, one readable line per field ("status: draft → active").
    pub changes: Vec<String>,
}

/// The overview's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub users: i64,
    pub admins: i64,
    pub vendors: i64,
    pub disabled: i64,
    pub recent: Vec<AuditRow>,
}

#[cfg(feature = "ssr")]
pub(crate) fn audit_row(e: shop_core::audit::Entry) -> AuditRow {
    let target_href = match e.target_type.as_str() {
        "user" => Some(format!("/admin/users/{}", e.target_id)),
        "product" => Some(format!("/admin/products/{}", e.target_id)),
        "category" => Some(format!("/admin/categories/{}", e.target_id)),
        _ => None,
    };
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
    };
    let (before, after) = (parse(&e.before), parse(&e.after));
    // Name the target by what people call it; the id only when the entry has no name.
    let name = [&after, &before].into_iter().flatten().find_map(|v| {
        ["name", "email", "sku", "slug"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|n| n.as_str()).map(str::to_owned))
    });
    let short_id: String = e.target_id.chars().take(8).collect();
    AuditRow {
        when: e.created_at.to_human(),
        actor: e.actor_label,
        target_href,
        target: match name {
            Some(name) => format!("{} {name}", e.target_type),
            None => format!("{} {short_id}…", e.target_type),
        },
        action: e.action,
        changes: describe_changes(before.as_ref(), after.as_ref()),
    }
}

/// One line per field that differs between two audit snapshots, values cut short.
#[cfg(feature = "ssr")]
fn describe_changes(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<String> {
    fn show(v: Option<&serde_json::Value>) -> String {
        let text = match v {
            None | Some(serde_json::Value::Null) => "—".to_owned(),
            Some(serde_json::Value::String(s)) if s.is_empty() => "(empty)".to_owned(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let mut cut: String = text.chars().take(60).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        cut
    }
    let empty = serde_json::Map::new();
    match (
        before.and_then(serde_json::Value::as_object),
        after.and_then(serde_json::Value::as_object),
    ) {
        (None, None) => Vec::new(),
        (b, a) => {
            let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| {
                    let label = k.replace('_', " ");
                    match (b.get(k), a.get(k)) {
                        (None, new) => format!("{label}: {}", show(new)),
                        (old, None) => format!("{label}: {} (removed)", show(old)),
                        (old, new) => format!("{label}: {} → {}", show(old), show(new)),
                    }
                })
                .collect()
        }
    }
}

#[cfg(feature = "ssr")]
fn user_row(u: auth::admin::UserSummary) -> UserRow {
    UserRow {
        id: u.id.as_str().to_owned(),
        email: u.email,
        name: u.display_name,
        roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        active: u.status == auth::Status::Active,
        verified: u.verified,
        joined: u.created_at.to_human(),
    }
}

/// Figures and recent changes for the dashboard's front page.
#[server(endpoint = "admin/overview")]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let counts = auth::admin::counts(&ctx.db).await.map_err(auth_error)?;
    let (recent, _) = shop_core::audit::list(&ctx.db, &shop_core::audit::Filter::default(), 1, 10)
        .await
        .map_err(internal)?;
    Ok(AdminOverview {
        users: counts.users,
        admins: counts.admins,
        vendors: counts.vendors,
        disabled: counts.disabled,
        recent: recent.into_iter().map(audit_row).collect(),
    })
}

/// Searches users.
#[server(endpoint = "admin/users")]
pub async fn list_users(
    q: Option<String>,
    role: Option<String>,
    status: Option<String>,
    page: Option<String>,
) -> Result<UsersPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let page = crate::admin::page_number(page.as_deref());
    let query = auth::admin::UserQuery {
        text: q.filter(|s| !s.trim().is_empty()),
        role: role.as_deref().and_then(auth::Role::parse),
        status: status.as_deref().and_then(auth::Status::parse),
        page,
        per_page: PER_PAGE,
    };
    let (rows, total) = auth::admin::search(&ctx.db, &query)
        .await
        .map_err(auth_error)?;
    let pages =
        u32::try_from((total.max(1) + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).unwrap_or(1);
    Ok(UsersPage {
        rows: rows.into_iter().map(user_row).collect(),
        total,
        page,
        pages,
    })
}

/// One user with their sessions count and history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserRow,
    pub sessions: usize,
    pub history: Vec<AuditRow>,
    pub is_self: bool,
}

#[cfg(feature = "ssr")]
fn user_id(id: &str) -> Result<auth::UserId, AppError> {
    auth::UserId::parse(id).map_err(|_| AppError::NotFound)
}

/// Loads a user for the detail page.
#[server(endpoint = "admin/user")]
pub async fn get_user(id: String) -> Result<UserDetail, AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = user_id(&id)?;
    let account = auth::find(&ctx.db, &id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let sessions = auth::sessions::list(&ctx.db, &ctx.clock, &id)
        .await
        .map_err(auth_error)?;
    let (history, _) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            target: Some(("user".to_owned(), id.as_str().to_owned())),
            ..Default::default()
        },
        1,
        50,
    )
    .await
    .map_err(internal)?;
    Ok(UserDetail {
        user: UserRow {
            id: account.id.as_str().to_owned(),
            email: account.email.as_str().to_owned(),
            name: account.display_name.clone(),
            roles: account
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            active: account.status == auth::Status::Active,
            verified: account.is_verified(),
            joined: account.created_at.to_human(),
        },
        sessions: sessions.len(),
        history: history.into_iter().map(audit_row).collect(),
        is_self: admin.id == account.id,
    })
}

/// Grants (`grant = "1"`) or revokes a role.
#[server(endpoint = "admin/user-role")]
pub async fn set_user_role(user_id: String, role: String, grant: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = self::user_id(&user_id)?;
    let role = auth::Role::parse(&role).ok_or_else(|| AppError::form("Unknown role."))?;
    if grant == "1" {
        auth::admin::grant_role(&ctx.db, &ctx.clock, &admin, &id, role).await
    } else {
        auth::admin::revoke_role(&ctx.db, &ctx.clock, &admin, &id, role).await
    }
    .map_err(auth_error)?;
    redirect_with_flash(&format!("/admin/users/{}", id.as_str()), "user_updated");
    Ok(())
}

/// Disables or re-enables an account.
#[server(endpoint = "admin/user-status")]
pub async fn set_user_status(user_id: String, status: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = self::user_id(&user_id)?;
    let status = auth::Status::parse(&status).ok_or_else(|| AppError::form("Unknown status."))?;
    auth::admin::set_status(&ctx.db, &ctx.clock, &admin, &id, status)
        .await
        .map_err(auth_error)?;
    redirect_with_flash(&format!("/admin/users/{}", id.as_str()), "user_updated");
    Ok(())
}

/// A page of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub page: u32,
    pub more: bool,
}

/// Reads the audit log, newest first, optionally only actions starting with `action`.
#[server(endpoint = "admin/audit")]
pub async fn list_audit(
    action: Option<String>,
    page: Option<String>,
) -> Result<AuditPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let page = crate::admin::page_number(page.as_deref());
    let (rows, more) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            action_prefix: action.filter(|a| !a.trim().is_empty()),
            ..Default::default()
        },
        page,
        PER_PAGE,
    )
    .await
    .map_err(internal)?;
    Ok(AuditPage {
        rows: rows.into_iter().map(audit_row).collect(),
        page,
        more,
    })
}

/// The admin pages' frame: title and section menu. Vendors (`staff = false`) see only the
/// products they can manage.
#[component]
pub(crate) fn AdminFrame(
    #[prop(into)] title: String,
    #[prop(default = true)] staff: bool,
    children: Children,
) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let links: &[(&str, &str)] = if staff {
        &[
            ("/admin", "Overview"),
            ("/admin/products", "Products"),
            ("/admin/categories", "Categories"),
            ("/admin/catalog", "Import and export"),
            ("/admin/users", "Users"),
            ("/admin/audit", "Audit log"),
        ]
    } else {
        &[("/admin/products", "Your products")]
    };
    let current = move |href: &str| {
        let path = location.pathname.get();
        path == href || (href != "/admin" && path.starts_with(&format!("{href}/")))
    };
    view! {
        <crate::components::PageTitle text=format!("{title} · Admin") />
        <div class="space-y-6">
            <nav aria-label="Admin" class="flex flex-wrap gap-2 border-b border-stone-200 pb-3 text-sm">
                {links.iter().map(|&(href, label)| view! {
                    <a
                        href=href
                        aria-current=move || current(href).then_some("page")
                        class="rounded px-3 py-1.5 text-stone-700 hover:bg-stone-100 focus-ring aria-[current=page]:bg-stone-900 aria-[current=page]:text-white"
                    >
                        {label}
                    </a>
                }).collect_view()}
            </nav>
            <h1 class="text-2xl font-bold tracking-tight">{title}</h1>
            {children()}
        </div>
    }
}

#[component]
pub(crate) fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="text-stone-600">"No changes recorded yet."</p> }.into_any();
    }
    view! {
        <DataTable columns=["When", "Who", "What", "Target", "Changes"].map(Column::new).to_vec() testid="audit-log">
            {rows.into_iter().map(|r| view! {
                <tr>
                    <td class="whitespace-nowrap px-3 py-2">{r.when}</td>
                    <td class="px-3 py-2">{r.actor}</td>
                    <td class="px-3 py-2 font-mono text-xs">{r.action}</td>
                    <td class="px-3 py-2 text-xs">
                        {match r.target_href {
                            Some(href) => view! { <a class="link" href=href>{r.target}</a> }.into_any(),
                            None => view! { <span>{r.target}</span> }.into_any(),
                        }}
                    </td>
                    <td class="max-w-md px-3 py-2 text-xs">
                        <ul class="space-y-0.5 break-words">
                            {r.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                        </ul>
                    </td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// `/admin`
#[component]
pub fn AdminHomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_admin_overview());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(o) => view! {
                        <AdminFrame title="Dashboard">
                            <ul class="grid gap-4 sm:grid-cols-4" aria-label="Accounts">
                                {[("Customers and staff", o.users, "/admin/users"), ("Admins", o.admins, "/admin/users?role=admin"), ("Vendors", o.vendors, "/admin/users?role=vendor"), ("Disabled", o.disabled, "/admin/users?status=disabled")]
                                    .into_iter()
                                    .map(|(label, n, href)| view! {
                                        <li>
                                            <a href=href class="card block p-4 hover:border-stone-400 focus-ring">
                                                <span class="block text-sm text-stone-600">{label}</span>
                                                <span class="mt-1 block text-2xl font-semibold">{n}</span>
                                            </a>
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                            <h2 class="text-lg font-semibold">"Recent changes"</h2>
                            <AuditTable rows=o.recent />
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page number a list was asked for: anything but a whole number from 1 to 100,000 (a
/// hand-edited or stale link) shows the first page.
#[cfg(feature = "ssr")]
pub(crate) fn page_number(page: Option<&str>) -> u32 {
    page.and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
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

/// `/admin/audit`
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("action"), q.get("page"))
    };
    let data = Resource::new(params, |(action, page)| list_audit(action, page));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (action, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filters = vec![("action", action.clone())];
                        view! {
                            <AdminFrame title="Audit log">
                                <FilterBar action="/admin/audit">
                                    <FilterText id="audit-action" name="action" label="Action starts with" value=action.clone() kind="text" placeholder="user." />
                                </FilterBar>
                                <AuditTable rows=p.rows />
                                <Pager base="/admin/audit" filters page=p.page more=p.more previous_label="Newer" next_label="Older" />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
