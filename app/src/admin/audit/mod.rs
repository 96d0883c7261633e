//! `/admin/audit`: the audit log, newest first, optionally only the actions that start with
//! a given prefix. Admins only.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{AdminFrame, AuditRow, AuditTable};
use crate::components::{FilterBar, FilterText, Pager};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

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
    server::list_audit(action, page).await
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
