//! `/admin/catalog`: import a JSONL catalog (with a per-line error report) and export the
//! catalog as JSONL or CSV. The file transfers themselves are plain endpoints of the server
//! (`server/src/uploads.rs`); this page holds the forms and shows the outcome.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod server;

#[cfg(feature = "ssr")]
pub use server::take_outcome;

/// Session key under which an upload leaves its outcome for the page it returns to.
pub const OUTCOME_KEY: &str = "admin.upload_outcome";

/// What an upload did, shown once on the page it returns to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadOutcome {
    /// The page (path) the outcome is for.
    pub page: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub import: Option<ImportOutcome>,
}

/// A catalog import's report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    pub categories_created: usize,
    /// Lines that could not be imported (line, SKU, reason), the first ones only.
    pub errors: Vec<(usize, String, String)>,
    /// How many lines could not be imported in all.
    pub error_count: usize,
}

/// The notice or error an upload left, as a banner.
#[component]
pub fn OutcomeBanner(outcome: Option<UploadOutcome>) -> impl IntoView {
    let outcome = outcome?;
    Some(view! {
        {outcome.notice.map(|text| view! {
            <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm font-medium text-emerald-900" data-testid="upload-notice">{text}</div>
        })}
        {outcome.error.map(|text| view! {
            <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="upload-error">{text}</div>
        })}
    })
}

/// The page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogIoPage {
    pub products: i64,
    pub variants: i64,
    pub outcome: Option<UploadOutcome>,
}

/// Counts and the last import's outcome, for `/admin/catalog`.
#[server(endpoint = "admin/catalog-io")]
pub async fn get_catalog_io() -> Result<CatalogIoPage, AppError> {
    server::get_catalog_io().await
}

/// `/admin/catalog`
#[component]
pub fn AdminCatalogIoPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_catalog_io());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => {
                        let report = d.outcome.as_ref().and_then(|o| o.import.clone());
                        view! {
                            <AdminFrame title="Import and export">
                                <OutcomeBanner outcome=d.outcome.clone() />
                                {report.map(|r| view! { <ImportReport report=r /> })}
                                <section class="card space-y-3 p-6" aria-labelledby="import-heading">
                                    <h2 id="import-heading" class="text-lg font-semibold">"Import"</h2>
                                    <p class="text-sm text-stone-600">
                                        "A JSONL file with one product variant per line, in the format of the export below. Products are matched by SKU: existing ones are updated, new ones created, and categories are created from their paths (\"Kitchen > Cookware > Pans\"). Every line is checked first: if any line is wrong, nothing is imported and each wrong line is listed here."
                                    </p>
                                    <form method="post" action="/admin/uploads/catalog" enctype="multipart/form-data" class="flex flex-wrap items-end gap-3">
                                        <div>
                                            <label for="import-file" class="block text-sm font-medium">"Catalog file (.jsonl)"</label>
                                            <input id="import-file" type="file" name="file" accept=".jsonl,.ndjson,application/x-ndjson,application/json,text/plain" required class="mt-1 block text-sm" />
                                        </div>
                                        <button type="submit" class="btn btn-primary" data-testid="import-submit">"Import"</button>
                                    </form>
                                </section>
                                <section class="card space-y-3 p-6" aria-labelledby="export-heading">
                                    <h2 id="export-heading" class="text-lg font-semibold">"Export"</h2>
                                    <p class="text-sm text-stone-600" data-testid="catalog-counts">
                                        {format!("{} products with {} variants, drafts and archived products included.", d.products, d.variants)}
                                    </p>
                                    <div class="flex flex-wrap gap-3">
                                        <a class="btn btn-secondary" href="/admin/export/catalog.jsonl" download rel="external">"Download JSONL (re-importable)"</a>
                                        <a class="btn btn-secondary" href="/admin/export/catalog.csv" download rel="external">"Download CSV (for spreadsheets)"</a>
                                    </div>
                                </section>
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportReport(report: ImportOutcome) -> impl IntoView {
    if report.error_count == 0 {
        return view! {
            <p class="text-sm" data-testid="import-report">
                {format!(
                    "{} products created, {} updated, {} new categories.",
                    report.created, report.updated, report.categories_created
                )}
            </p>
        }
        .into_any();
    }
    let shown = report.errors.len();
    view! {
        <div class="overflow-x-auto rounded-lg border border-red-200 bg-white">
            <table class="min-w-full text-left text-sm" data-testid="import-errors">
                <caption class="px-3 py-2 text-left text-sm font-semibold text-red-900">
                    {if shown < report.error_count {
                        format!("The first {shown} of {} lines that cannot be imported", report.error_count)
                    } else {
                        "Lines that cannot be imported".to_owned()
                    }}
                </caption>
                <thead class="bg-stone-50 text-xs uppercase tracking-wide text-stone-600">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Line"</th>
                        <th scope="col" class="px-3 py-2">"SKU"</th>
                        <th scope="col" class="px-3 py-2">"Problem"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-stone-100">
                    {report.errors.into_iter().map(|(line, sku, message)| view! {
                        <tr>
                            <td class="px-3 py-2 tabular-nums">{line}</td>
                            <td class="px-3 py-2 font-mono text-xs">{sku}</td>
                            <td class="px-3 py-2">{message}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
