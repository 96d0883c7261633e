//! `/admin`: the dashboard's front page, with the account figures and the latest changes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::orders::{OrderRow, OrdersTable};
use super::{AdminFrame, AuditRow, AuditTable};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

/// The overview's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    /// Today's revenue net of refunds, in the shop's currency.
    pub today_revenue: String,
    /// Orders paid today.
    pub today_orders: i64,
    /// The five latest orders.
    pub latest: Vec<OrderRow>,
    pub users: i64,
    pub admins: i64,
    pub vendors: i64,
    pub disabled: i64,
    pub recent: Vec<AuditRow>,
}

/// Figures and recent changes for the dashboard's front page.
#[server(endpoint = "admin/overview")]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    server::get_admin_overview().await
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
                            <ul class="grid gap-4 sm:grid-cols-3" aria-label="Today" data-testid="today">
                                <li>
                                    <a href="/admin/analytics?range=today" class="card block p-4 hover:border-stone-400 focus-ring">
                                        <span class="block text-sm text-stone-600">"Revenue today"</span>
                                        <span class="mt-1 block text-2xl font-semibold">{o.today_revenue.clone()}</span>
                                    </a>
                                </li>
                                <li>
                                    <a href="/admin/orders?payment=paid" class="card block p-4 hover:border-stone-400 focus-ring">
                                        <span class="block text-sm text-stone-600">"Orders paid today"</span>
                                        <span class="mt-1 block text-2xl font-semibold">{o.today_orders}</span>
                                    </a>
                                </li>
                            </ul>
                            <h2 class="text-lg font-semibold">"Latest orders"</h2>
                            <OrdersTable rows=o.latest filtered=false page=1 staff=true />
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
