//! The server side of the dashboard's front page: the account counts and the latest audit
//! entries, for admins only.

use super::AdminOverview;
use crate::admin::audit_row;
use crate::error::AppError;
use crate::ssr::{internal, require_role, server_context};

pub(super) async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let counts = auth::admin::counts(&ctx.db).await?;
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
