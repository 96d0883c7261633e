//! Reading the shop's people and figures through the admin API: the customer list (admins)
//! and the analytics summary (admins: the whole shop; vendors: their own products).

use auth::api_keys::Scope;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, kept_query, page_of, pagination, per_page_of};
use crate::api::catalog::query_error;
use crate::api::error::{ApiError, ErrorBody, Json};
use crate::api::{Money, Pagination, page_links, rfc3339};
use crate::state::AppState;

/// Which accounts to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    /// Part of the email address or name.
    pub q: Option<String>,
    /// `customer`, `vendor` or `admin`.
    pub role: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// 1-based.
    pub page: Option<u32>,
    /// 1 to 100; 25 when left out.
    pub per_page: Option<u32>,
}

/// An account as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerBody {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// `active` or `disabled`.
    pub status: String,
    /// Whether the email address is confirmed.
    pub verified: bool,
    pub roles: Vec<String>,
    pub created_at: String,
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub data: Vec<CustomerBody>,
    pub pagination: Pagination,
}

/// The shop's accounts, newest first (admins).
#[utoipa::path(
    get, path = "/admin/customers", tag = "admin",
    params(CustomerParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = CustomerPage),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not an admin, or without customers:read", body = ErrorBody),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn customers(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<CustomerParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    staff.require(Scope::CustomersRead)?;
    let Query(p) = params.map_err(query_error)?;
    let page = page_of(p.page)?;
    let per_page = per_page_of(p.per_page, 25, 100)?;
    let role = p
        .role
        .as_deref()
        .map(|r| {
            auth::Role::parse(r)
                .ok_or_else(|| ApiError::invalid("role", "Use customer, vendor or admin."))
        })
        .transpose()?;
    let status = p
        .status
        .as_deref()
        .map(|s| {
            auth::Status::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "Use active or disabled."))
        })
        .transpose()?;
    let query = auth::admin::UserQuery {
        text: p.q.clone().filter(|q| !q.trim().is_empty()),
        role,
        status,
        page,
        per_page,
    };
    let (rows, total) = auth::admin::search(&state.ctx.db, &query)
        .await
        .map_err(crate::api::auth::auth_error)?;
    let pagination = pagination(page, per_page, total);
    let pages = pagination.pages;
    let body = CustomerPage {
        data: rows
            .into_iter()
            .map(|u| CustomerBody {
                id: u.id.as_str().to_owned(),
                email: u.email,
                display_name: u.display_name,
                status: u.status.as_str().to_owned(),
                verified: u.verified,
                roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                created_at: rfc3339(u.created_at),
            })
            .collect(),
        pagination,
    };
    let kept = kept_query(
        &[("q", p.q), ("role", p.role), ("status", p.status)],
        per_page,
    );
    Ok(page_links(
        Json(body).into_response(),
        "/api/v1/admin/customers",
        &kept,
        i64::from(page),
        pages,
        total,
    ))
}

/// The period of the summary.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// `today`, `7d`, `30d` (the default) or `month` (this month so far), in the shop's
    /// time zone.
    pub range: Option<String>,
}

/// A product's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopProduct {
    pub product_id: String,
    /// Empty when the product has since been deleted.
    pub name: String,
    pub units: i64,
    pub revenue: Money,
    pub views: i64,
}

/// A search term's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchTerm {
    pub term: String,
    pub searches: i64,
    /// Searches that found nothing.
    pub zero_results: i64,
    /// Searches in the period of the same length before.
    pub previous_period: i64,
}

/// Revenue, orders, the top products and the searches of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsSummary {
    /// First and last day, `YYYY-MM-DD`, both included.
    pub from: String,
    pub to: String,
    /// Paid orders.
    pub orders: i64,
    pub units: i64,
    /// What paid orders took, before refunds.
    pub revenue: Money,
    pub refunds: Money,
    /// Revenue less refunds.
    pub net: Money,
    pub average_order: Money,
    /// By revenue, at most 10.
    pub top_products: Vec<TopProduct>,
    /// Rising most against the period before, at most 10 (admins only; empty for vendors).
    pub trending_searches: Vec<SearchTerm>,
    /// Most searches that found nothing, at most 10 (admins only).
    pub zero_result_searches: Vec<SearchTerm>,
}

/// The shop's figures for a period (admins), or a vendor's own products' (vendors). Orders
/// count once paid; figures of days already rolled up come from the roll-ups.
#[utoipa::path(
    get, path = "/admin/analytics/summary", tag = "admin",
    params(SummaryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The figures", body = AnalyticsSummary),
        (status = 401, description = "No valid access token or API key", body = ErrorBody),
        (status = 403, description = "Not staff, or without analytics:read", body = ErrorBody),
        (status = 422, description = "An unknown range", body = ErrorBody),
    )
)]
pub async fn analytics_summary(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<SummaryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AnalyticsSummary>, ApiError> {
    use analytics::report::{self, Audience, ProductMetric, Range, TermRanking};
    staff.require(Scope::AnalyticsRead)?;
    let Query(p) = params.map_err(query_error)?;
    let range = match p.range.as_deref() {
        Some("today") => Range::Today,
        Some("7d") => Range::Last7,
        None | Some("30d") => Range::Last30,
        Some("month") => Range::ThisMonth,
        Some(_) => {
            return Err(ApiError::invalid("range", "Use today, 7d, 30d or month."));
        }
    };
    let ctx = &state.ctx;
    let db = &ctx.db;
    let currency = ctx.shop.currency;
    let today = ctx.analytics.zone().date_of(ctx.clock.now().millis());
    let period = range.period(today);
    let admin = staff.is_admin();
    let who = if admin {
        Audience::Shop
    } else {
        Audience::Vendor(staff.account.id.as_str().to_owned())
    };
    let sales = report::sales(db, period, &who)
        .await?
        .into_iter()
        .find(|s| s.currency == currency.code())
        .unwrap_or_default();
    let top = report::top_products(db, period, &who, ProductMetric::Revenue, 10).await?;
    let ids: Vec<String> = top.iter().map(|t| t.product_id.clone()).collect();
    let labels = ::catalog::products::labels(db, &ids).await?;
    let terms = |ranking| async move {
        if admin {
            report::terms(db, period, ranking, 10).await.map(|rows| {
                rows.into_iter()
                    .map(|t| SearchTerm {
                        term: t.term,
                        searches: t.searches,
                        zero_results: t.zero_results,
                        previous_period: t.before,
                    })
                    .collect::<Vec<SearchTerm>>()
            })
        } else {
            Ok::<Vec<SearchTerm>, sqlx::Error>(Vec::new())
        }
    };
    let money = |minor: i64| Money::from(shop_core::Money::new(minor, currency));
    Ok(Json(AnalyticsSummary {
        from: period.from.to_string(),
        to: period.to.to_string(),
        orders: sales.order_count,
        units: sales.units,
        revenue: money(sales.revenue_minor),
        refunds: money(sales.refunds_minor),
        net: money(sales.net_minor()),
        average_order: money(sales.average_order_minor()),
        top_products: top
            .into_iter()
            .map(|t| TopProduct {
                name: labels
                    .get(&t.product_id)
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
                product_id: t.product_id,
                units: t.units,
                revenue: money(t.revenue_minor),
                views: t.views,
            })
            .collect(),
        trending_searches: terms(TermRanking::Trending).await?,
        zero_result_searches: terms(TermRanking::ZeroResults).await?,
    }))
}
