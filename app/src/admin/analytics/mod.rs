//! `/admin/analytics`: how the shop is doing over a period, against the period before:
//! revenue net of refunds, orders, average order value, conversion and visitors, and revenue
//! by day as a chart drawn on the server (readable with JavaScript off, the numbers also in a
//! table). Staff see the whole shop; a vendor sees the same figures for their own products.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::error::AppError;
use crate::error_pages::Denied;

mod chart;
#[cfg(feature = "ssr")]
mod server;

pub use chart::{Bar, BarChart, Tick};

/// The period shown, as the range picker offers it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeView {
    /// `today`, `7d`, `30d`, `month` or `custom`.
    pub key: String,
    /// First and last day, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// "3 Mar 2026 – 9 Mar 2026".
    pub label: String,
    /// The period compared with.
    pub previous_label: String,
}

/// One headline figure with the previous period's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub label: String,
    pub value: String,
    pub previous: String,
    /// "+12.5%", "−3.0%", or `None` when the previous period had none.
    pub change: Option<String>,
    /// 1 up, -1 down, 0 level.
    pub direction: i8,
}

/// The overview's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The asker is the shop's staff (else a vendor, seeing their products' figures).
    pub staff: bool,
    pub range: RangeView,
    pub figures: Vec<Figure>,
    /// Net revenue per day of the period, in the shop's currency.
    pub revenue_by_day: Vec<Bar>,
    /// The revenue chart's axis marks.
    pub revenue_ticks: Vec<Tick>,
}

/// The overview for the range `range` (`today`, `7d`, `30d`, `month`, or `custom` with
/// `from` and `to`).
#[server(endpoint = "admin/analytics/overview")]
pub async fn get_analytics_overview(
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<Overview, AppError> {
    server::overview(range, from, to).await
}

/// The range picker: a plain GET form, so the period is in the URL and works with
/// JavaScript off.
#[component]
fn RangePicker(action: &'static str, range: RangeView) -> impl IntoView {
    let options = [
        ("today", "Today"),
        ("7d", "Last 7 days"),
        ("30d", "Last 30 days"),
        ("month", "This month"),
        ("custom", "Custom"),
    ];
    view! {
        <form method="get" action=action class="flex flex-wrap items-end gap-3" aria-label="Period">
            <div>
                <label for="range" class="block text-sm font-medium">"Period"</label>
                <select id="range" name="range" class="input mt-1">
                    {options
                        .into_iter()
                        .map(|(value, text)| {
                            let selected = range.key == value;
                            view! { <option value=value selected=selected>{text}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="from" class="block text-sm font-medium">"From (custom)"</label>
                <input id="from" name="from" type="date" value=range.from.clone() class="input mt-1" />
            </div>
            <div>
                <label for="to" class="block text-sm font-medium">"To (custom)"</label>
                <input id="to" name="to" type="date" value=range.to.clone() class="input mt-1" />
            </div>
            <button type="submit" class="btn btn-secondary">"Show"</button>
        </form>
        <p class="text-sm text-stone-600">
            {range.label.clone()} " · compared with " {range.previous_label.clone()}
        </p>
    }
}

/// The headline figures as cards.
#[component]
fn Figures(figures: Vec<Figure>) -> impl IntoView {
    view! {
        <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-5" aria-label="Headline figures" data-testid="figures">
            {figures
                .into_iter()
                .map(|f| {
                    let tone = match f.direction {
                        1 => "text-emerald-700",
                        -1 => "text-rose-700",
                        _ => "text-stone-600",
                    };
                    let change = f.change.clone().unwrap_or_else(|| "new".to_owned());
                    view! {
                        <li class="card p-4">
                            <span class="block text-sm text-stone-600">{f.label.clone()}</span>
                            <span class="mt-1 block text-2xl font-semibold">{f.value.clone()}</span>
                            <span class="mt-1 block text-sm">
                                <span class=tone>{change}</span>
                                <span class="text-stone-500">" vs " {f.previous.clone()}</span>
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `/admin/analytics`
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("range"), q.get("from"), q.get("to"))
    };
    let data = Resource::new(params, |(range, from, to)| {
        get_analytics_overview(range, from, to)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(o) => view! {
                        <AdminFrame title="Analytics" staff=o.staff>
                            <RangePicker action="/admin/analytics" range=o.range.clone() />
                            <Figures figures=o.figures />
                            <section class="card p-4" aria-labelledby="revenue-by-day">
                                <h2 id="revenue-by-day" class="text-lg font-semibold">"Revenue by day"</h2>
                                <p class="text-sm text-stone-600">"Paid orders less refunds, by the day paid or refunded."</p>
                                <BarChart id="revenue-chart" title="Revenue by day" value_label="Revenue" bars=o.revenue_by_day ticks=o.revenue_ticks />
                            </section>
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
