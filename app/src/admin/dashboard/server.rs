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
    let today = ctx.analytics.zone().date_of(ctx.clock.now().millis());
    let period = analytics::report::Range::Today.period(today);
    let shop = analytics::report::Audience::Shop;
    let sales = analytics::report::sales(&ctx.db, period, &shop)
        .await
        .map_err(internal)?
        .into_iter()
        .find(|s| s.currency == ctx.shop.currency.code())
        .unwrap_or_default();
    let (latest, _) =
        checkout::orders::list(&ctx.db, &checkout::orders::Filter::default(), 1, 5).await?;
    let (recent, _) = shop_core::audit::list(&ctx.db, &shop_core::audit::Filter::default(), 1, 10)
        .await
        .map_err(internal)?;
    Ok(AdminOverview {
        today_revenue: shop_core::Money::new(sales.net_minor(), ctx.shop.currency).to_string(),
        today_orders: sales.order_count,
        latest: latest
            .into_iter()
            .map(|o| crate::admin::orders::server::order_row(o, true))
            .collect(),
        users: counts.users,
        admins: counts.admins,
        vendors: counts.vendors,
        disabled: counts.disabled,
        recent: recent.into_iter().map(audit_row).collect(),
    })
}
