//! The server side of the audit log page: a page of entries, for admins only.

use super::AuditPage;
use crate::admin::audit_row;
use crate::admin::server::PER_PAGE;
use crate::error::AppError;
use crate::ssr::{internal, require_role, server_context};

pub(super) async fn list_audit(
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
