//! `/admin/analytics`: how the shop is doing over a period, against the period before. Five
//! views share a period picker, tabs that keep the period, and one report shape (headline
//! figures, a chart, tables), so each works with JavaScript off and each table downloads as
//! CSV (`/admin/analytics/export`):
//! - overview: revenue net of refunds, orders, average order value, conversion and visitors,
//!   and revenue by day as a chart drawn on the server;
//! - products: top products by views, adds to cart, units and revenue, and products viewed
//!   often but rarely bought;
//! - searches: top, trending and zero-result searches, each linking to the shop's search;
//! - funnel: visitors → product view → add to cart → checkout → paid, with the drop-off;
//! - abandoned carts: carts left with items for over an hour, and whether they came back.
//!
//! Staff see the whole shop; a vendor sees the same views for their own products.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::FormError;
use crate::error::AppError;
use crate::error_pages::Denied;
use crate::url::urlencode;

mod chart;
#[cfg(feature = "ssr")]
pub mod server;

pub use chart::{Bar, BarChart, Tick};

/// The views: key, path and tab label.
pub const VIEWS: [(&str, &str, &str); 5] = [
    ("overview", "/admin/analytics", "Overview"),
    ("products", "/admin/analytics/products", "Products"),
    ("searches", "/admin/analytics/searches", "Searches"),
    ("funnel", "/admin/analytics/funnel", "Funnel"),
    ("carts", "/admin/analytics/carts", "Abandoned carts"),
];

/// Where each table of a view downloads as CSV.
pub const EXPORT_PATH: &str = "/admin/analytics/export";

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

impl RangeView {
    /// The query string that asks for this period again (`range=7d`, or a custom period's
    /// days).
    pub fn query(&self) -> String {
        if self.key == "custom" {
            format!(
                "range=custom&from={}&to={}",
                urlencode(&self.from),
                urlencode(&self.to)
            )
        } else {
            format!("range={}", urlencode(&self.key))
        }
    }
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

/// A bar chart of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// A sentence under the title: what is counted.
    pub note: String,
    /// The table's headings for the bars' labels and values ("Day", "Revenue").
    pub key_label: String,
    pub value_label: String,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
}

/// A table cell: what it shows, where it links, and its value in the CSV export (a plain
/// number for money and counts, so a spreadsheet can add them up).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub csv: String,
    /// Right-aligned (a number).
    pub numeric: bool,
    /// A button that asks for a reminder about this abandoned cart (`text` is its label).
    pub remind: Option<Remind>,
}

/// The abandoned cart a "Send reminder" button is for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remind {
    pub cart_id: String,
    /// When it was left (milliseconds), as the report lists it.
    pub left_at: i64,
}

impl Cell {
    /// Text, exported as shown.
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            csv: text.clone(),
            text,
            ..Cell::default()
        }
    }

    /// A number shown as `text` (an amount, a percentage), exported as `csv`.
    pub fn number(text: impl Into<String>, csv: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            csv: csv.into(),
            href: None,
            numeric: true,
            remind: None,
        }
    }

    /// The cell, linking to `href`.
    pub fn link(self, href: impl Into<String>) -> Cell {
        Cell {
            href: Some(href.into()),
            ..self
        }
    }
}

/// A table of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Its name in the export's URL and file name (`top-views`).
    pub key: String,
    pub title: String,
    /// A sentence under the title: what is counted and how it is ranked.
    pub note: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// What an empty table says.
    pub empty: String,
}

/// One view's data for a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The asker is the shop's staff (else a vendor, seeing their products' figures).
    pub staff: bool,
    /// Which view (see [`VIEWS`]).
    pub view: String,
    pub range: RangeView,
    pub figures: Vec<Figure>,
    pub chart: Option<Chart>,
    pub tables: Vec<Table>,
}

/// The analytics view `view` for the range `range` (`today`, `7d`, `30d`, `month`, or
/// `custom` with `from` and `to`).
#[server(endpoint = "admin/analytics/report")]
pub async fn get_analytics_report(
    view: String,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<Report, AppError> {
    let ctx = crate::ssr::server_context()?;
    let account = crate::ssr::require_user().await?;
    let (staff, who) = server::audience(&account)?;
    let request = server::Request::new(&view, range, from, to)?;
    server::report(&ctx, staff, who, &request, server::PAGE_ROWS).await
}

/// Mails the customer of an abandoned cart a reminder of what is in it (staff only; once per
/// cart, never to a guest, for a cart bought since, or to a customer who opted out).
#[server(endpoint = "admin/analytics/remind")]
pub async fn send_cart_reminder(cart_id: String, left_at: String) -> Result<(), AppError> {
    server::remind(cart_id, left_at).await
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
        <form method="get" action=action class="flex flex-wrap items-end gap-3" aria-label="Choose a period">
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
        <p class="text-sm text-stone-600" data-testid="period">
            {range.label.clone()} " · compared with " {range.previous_label.clone()}
        </p>
    }
}

/// The views as tabs, each keeping the period.
#[component]
fn Tabs(current: String, query: String) -> impl IntoView {
    view! {
        <nav aria-label="Analytics views" class="flex flex-wrap gap-1 border-b border-stone-200 text-sm">
            {VIEWS
                .into_iter()
                .map(|(key, path, label)| {
                    let here = key == current;
                    view! {
                        <a
                            href=format!("{path}?{query}")
                            aria-current=here.then_some("page")
                            class="-mb-px border-b-2 border-transparent px-3 py-2 text-stone-700 hover:text-stone-950 focus-ring aria-[current=page]:border-stone-900 aria-[current=page]:font-semibold aria-[current=page]:text-stone-950"
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
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

/// A report's table with its CSV link.
#[component]
fn ReportTable(
    table: Table,
    export: String,
    remind: ServerAction<SendCartReminder>,
) -> impl IntoView {
    let heading = format!("table-{}", table.key);
    let (labelled_by, testid) = (heading.clone(), heading.clone());
    let columns = table.columns.clone();
    let numeric: Vec<bool> = table
        .rows
        .first()
        .map(|r| r.iter().map(|c| c.numeric).collect())
        .unwrap_or_default();
    let body = if table.rows.is_empty() {
        view! { <p class="text-sm text-stone-600">{table.empty.clone()}</p> }.into_any()
    } else {
        view! {
            <div class="overflow-x-auto rounded-lg border border-stone-200 bg-white">
                <table class="min-w-full text-left text-sm" data-testid=testid>
                    <thead class="bg-stone-50 text-xs uppercase tracking-wide text-stone-600">
                        <tr>
                            {columns
                                .into_iter()
                                .enumerate()
                                .map(|(i, c)| {
                                    let align = if numeric.get(i).copied().unwrap_or(false) { "px-3 py-2 text-right" } else { "px-3 py-2" };
                                    view! { <th scope="col" class=align>{c}</th> }
                                })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-stone-100">
                        {table
                            .rows
                            .into_iter()
                            .map(|row| view! {
                                <tr>
                                    {row
                                        .into_iter()
                                        .map(|c| {
                                            let class = if c.numeric { "px-3 py-2 text-right tabular-nums" } else { "px-3 py-2" };
                                            match (c.href, c.remind) {
                                                (_, Some(r)) => view! {
                                                    <td class=class>
                                                        <ActionForm action=remind>
                                                            <input type="hidden" name="cart_id" value=r.cart_id />
                                                            <input type="hidden" name="left_at" value=r.left_at.to_string() />
                                                            <button type="submit" class="btn btn-secondary px-2 py-1 text-xs" data-testid="send-reminder">{c.text}</button>
                                                        </ActionForm>
                                                    </td>
                                                }.into_any(),
                                                (Some(href), None) => view! { <td class=class><a class="link" href=href>{c.text}</a></td> }.into_any(),
                                                (None, None) => view! { <td class=class>{c.text}</td> }.into_any(),
                                            }
                                        })
                                        .collect_view()}
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card space-y-3 p-4" aria-labelledby=labelled_by>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 id=heading class="text-lg font-semibold">{table.title.clone()}</h2>
                <a class="link text-sm" href=export download="" rel="external nofollow" data-testid=format!("csv-{}", table.key)>
                    "Download CSV"
                </a>
            </div>
            <p class="text-sm text-stone-600">{table.note.clone()}</p>
            {body}
        </section>
    }
}

/// A view of the analytics dashboard, for the period in the URL.
#[component]
fn AnalyticsReport(view: &'static str) -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("range"), q.get("from"), q.get("to"))
    };
    let data = Resource::new(params, move |(range, from, to)| {
        get_analytics_report(view.to_owned(), range, from, to)
    });
    // The report is no island: a reminder's button is a plain form post, which comes back
    // to the report with the outcome as a flash, or a refusal (kept in the session) here.
    let remind = ServerAction::<SendCartReminder>::new();
    let error = Signal::derive(move || remind.value().get().and_then(Result::err));
    let (path, title) = VIEWS
        .iter()
        .find(|(key, ..)| *key == view)
        .map(|(_, path, label)| (*path, *label))
        .unwrap_or(("/admin/analytics", "Overview"));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(r) => {
                        let query = r.range.query();
                        let heading = if r.view == "overview" { "Analytics".to_owned() } else { format!("Analytics: {title}") };
                        view! {
                            <AdminFrame title=heading staff=r.staff>
                                <Tabs current=r.view.clone() query=query.clone() />
                                <FormError error />
                                <RangePicker action=path range=r.range.clone() />
                                {(!r.figures.is_empty()).then(|| view! { <Figures figures=r.figures.clone() /> })}
                                {r.chart.clone().map(|c| {
                                    let heading = format!("{}-heading", c.id);
                                    let labelled_by = heading.clone();
                                    view! {
                                    <section class="card p-4" aria-labelledby=labelled_by>
                                        <h2 id=heading class="text-lg font-semibold">{c.title.clone()}</h2>
                                        <p class="text-sm text-stone-600">{c.note.clone()}</p>
                                        <BarChart id=c.id title=c.title key_label=c.key_label value_label=c.value_label bars=c.bars ticks=c.ticks />
                                    </section>
                                    }
                                })}
                                <div class="space-y-6">
                                    {r.tables
                                        .into_iter()
                                        .map(|t| {
                                            let export = format!("{EXPORT_PATH}?view={}&table={}&{query}", r.view, t.key);
                                            view! { <ReportTable table=t export remind /> }
                                        })
                                        .collect_view()}
                                </div>
                            </AdminFrame>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/analytics`
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! { <AnalyticsReport view="overview" /> }
}

/// `/admin/analytics/products`
#[component]
pub fn AnalyticsProductsPage() -> impl IntoView {
    view! { <AnalyticsReport view="products" /> }
}

/// `/admin/analytics/searches`
#[component]
pub fn AnalyticsSearchesPage() -> impl IntoView {
    view! { <AnalyticsReport view="searches" /> }
}

/// `/admin/analytics/funnel`
#[component]
pub fn AnalyticsFunnelPage() -> impl IntoView {
    view! { <AnalyticsReport view="funnel" /> }
}

/// `/admin/analytics/carts`
#[component]
pub fn AnalyticsCartsPage() -> impl IntoView {
    view! { <AnalyticsReport view="carts" /> }
}
