//! The admin dashboard. Each page lives in its own module with its server functions: the
//! overview (`dashboard`), the shop's analytics (`analytics`), people (`users`: roles, disable/enable), the audit log (`audit`),
//! the catalog (`products`, `categories`, `catalog_io`), orders (`orders`, read-only) and
//! shipping methods (`shipping`). This module holds what they share: the frame with the
//! section menu, audit entries and their table. Every server function checks who is asking
//! itself (the admin role; for products, an admin or a vendor); the pages only display.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub mod analytics;
pub mod api_keys;
pub mod audit;
pub mod catalog_io;
pub mod categories;
pub mod dashboard;
pub mod notifications;
pub mod orders;
pub mod products;
pub mod shipping;
pub mod users;
pub mod webhooks;

#[cfg(feature = "ssr")]
mod server;

pub use audit::AdminAuditPage;
pub use dashboard::AdminHomePage;
#[cfg(feature = "ssr")]
pub(crate) use server::{audit_row, page_number};
pub use users::{AdminUserPage, AdminUsersPage};

use crate::components::{Column, DataTable};

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
            ("/admin/analytics", "Analytics"),
            ("/admin/orders", "Orders"),
            ("/admin/products", "Products"),
            ("/admin/categories", "Categories"),
            ("/admin/catalog", "Import and export"),
            ("/admin/shipping", "Shipping"),
            ("/admin/users", "Users"),
            ("/admin/notifications", "Notifications"),
            ("/admin/api-keys", "API keys"),
            ("/admin/webhooks", "Webhooks"),
            ("/admin/audit", "Audit log"),
        ]
    } else {
        &[
            ("/admin/products", "Your products"),
            ("/admin/orders", "Your orders"),
            ("/admin/analytics", "Your analytics"),
            ("/admin/api-keys", "API keys"),
        ]
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
