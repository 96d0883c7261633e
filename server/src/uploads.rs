//! Admin endpoints that move files rather than form fields: product image upload, catalog
//! import (multipart posts from plain HTML forms) and catalog export (downloads).
//!
//! They sit outside the Leptos server functions because they stream large bodies. The same
//! rules apply: the cross-origin guard covers them, the sender's role is checked before the
//! body is read, and the outcome goes back to the page through the session (never through
//! text in the URL) after a 303 redirect, so reloading the page does not post again.

use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use tower_sessions::Session;

use app::AppError;
use app::admin::catalog_io::{ImportOutcome, OUTCOME_KEY, UploadOutcome};
use app::ssr::catalog_editor;
use catalog::{Access, Editor};

use crate::state::AppState;

/// Most row errors kept for the import report page (the count says how many there were).
const MAX_REPORTED_ROWS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/uploads/products/{id}/images", post(upload_image))
        .route("/admin/uploads/catalog", post(import_catalog))
        .route("/admin/export/catalog.jsonl", get(export_jsonl))
        .route("/admin/export/catalog.csv", get(export_csv))
        .route("/admin/export/orders.csv", get(export_orders))
        .route(app::admin::analytics::EXPORT_PATH, get(export_analytics))
}

/// Who is sending, as a catalog editor; or the response for everyone else.
/// The same guard as the catalog's server functions ([`app::ssr::catalog_editor`]); the
/// sender gets what a page would: the sign-in page when nobody is signed in, else the error's
/// status and message.
async fn editor(state: &AppState, session: &Session, back: &str) -> Result<Editor, Response> {
    let account = app::signed_in::current(session, &state.ctx.db, &state.ctx.clock)
        .await
        .map_err(|e| refused(AppError::from(e), back))?
        .map(|(account, _)| account);
    catalog_editor(account.as_ref()).map_err(|e| refused(e, back))
}

/// An editor who is shop staff (imports and exports are the shop's, not a vendor's).
async fn staff(state: &AppState, session: &Session, back: &str) -> Result<Editor, Response> {
    let editor = editor(state, session, back).await?;
    if editor.access == Access::Shop {
        Ok(editor)
    } else {
        Err(refused(AppError::Forbidden, back))
    }
}

/// What a refused or failed upload request answers: sign in first, or the error's status
/// with its message (an internal error only with its reference).
fn refused(error: AppError, back: &str) -> Response {
    if error == AppError::Unauthorized {
        let next = app::url::urlencode(back);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, format!("{error}\n")).into_response()
}

/// Leaves the outcome for the page and sends the browser there.
async fn back_to(session: &Session, page: &str, outcome: UploadOutcome) -> Response {
    if let Err(e) = session.insert(OUTCOME_KEY, outcome).await {
        tracing::error!(error = %e, "could not store an upload outcome in the session");
    }
    Redirect::to(page).into_response()
}

fn failure(page: &str, message: impl Into<String>) -> UploadOutcome {
    UploadOutcome {
        page: page.to_owned(),
        error: Some(message.into()),
        ..Default::default()
    }
}

/// One uploaded file and the text fields around it.
#[derive(Default)]
struct Upload {
    file: Option<Vec<u8>>,
    fields: Vec<(String, String)>,
}

impl Upload {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Reads every part. A body over the limit or a broken multipart body is a clear error.
async fn read_upload(mut multipart: Multipart, file_field: &str) -> Result<Upload, String> {
    let mut upload = Upload::default();
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "The file is larger than this shop accepts (MAX_UPLOAD_BYTES).".to_owned()
        } else {
            format!("The upload could not be read ({}).", e.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let bytes = field.bytes().await.map_err(too_large)?;
            if !bytes.is_empty() {
                upload.file = Some(bytes.to_vec());
            }
        } else if upload.fields.len() < 20 {
            let text = field.text().await.map_err(too_large)?;
            upload
                .fields
                .push((name, text.chars().take(2_000).collect()));
        }
    }
    Ok(upload)
}

/// `POST /admin/uploads/products/{id}/images`: fields `alt` and `image`.
async fn upload_image(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
    session: Session,
    multipart: Multipart,
) -> Response {
    let page = format!("/admin/products/{}", app::url::urlencode(&product_id));
    let editor = match editor(&state, &session, &page).await {
        Ok(e) => e,
        Err(response) => return response,
    };
    let upload = match read_upload(multipart, "image").await {
        Ok(u) => u,
        Err(message) => return back_to(&session, &page, failure(&page, message)).await,
    };
    let alt = upload.field("alt").to_owned();
    let Some(bytes) = upload.file else {
        return back_to(
            &session,
            &page,
            failure(&page, "Choose an image to upload."),
        )
        .await;
    };
    let ctx = &state.ctx;
    let result = match catalog::ProductId::parse(&product_id) {
        Ok(product) => {
            ctx.catalog
                .add_image(&editor, &ctx.images, &product, bytes, &alt)
                .await
        }
        // Not an id: no such product.
        Err(_) => Err(catalog::CatalogError::NotFound),
    };
    // The same mapping as the server functions': a form error goes back to the page; an
    // internal one is logged (the conversion logs the cause, this line the product).
    match result.map_err(AppError::from) {
        Ok(_) => {
            let outcome = UploadOutcome {
                page: page.clone(),
                notice: Some("Image added.".to_owned()),
                ..Default::default()
            };
            back_to(&session, &page, outcome).await
        }
        Err(AppError::NotFound) => {
            (StatusCode::NOT_FOUND, "We could not find that product.\n").into_response()
        }
        Err(error @ AppError::Invalid { .. }) => {
            back_to(&session, &page, failure(&page, error.to_string())).await
        }
        Err(_) => {
            tracing::error!(product.id = %product_id, "image upload failed");
            back_to(
                &session,
                &page,
                failure(&page, "The image could not be saved. Please try again."),
            )
            .await
        }
    }
}

/// `POST /admin/uploads/catalog`: field `file`, a JSONL catalog.
async fn import_catalog(
    State(state): State<AppState>,
    session: Session,
    multipart: Multipart,
) -> Response {
    let page = "/admin/catalog";
    let editor = match staff(&state, &session, page).await {
        Ok(e) => e,
        Err(response) => return response,
    };
    let upload = match read_upload(multipart, "file").await {
        Ok(u) => u,
        Err(message) => return back_to(&session, page, failure(page, message)).await,
    };
    let Some(bytes) = upload.file else {
        return back_to(
            &session,
            page,
            failure(page, "Choose a .jsonl file to import."),
        )
        .await;
    };
    let ctx = &state.ctx;
    let result = ctx
        .catalog
        .import_jsonl(&editor.actor, std::io::Cursor::new(bytes))
        .await;
    let outcome = match result {
        Ok(report) => UploadOutcome {
            page: page.to_owned(),
            notice: Some("The catalog was imported.".to_owned()),
            import: Some(ImportOutcome {
                created: report.created,
                updated: report.updated,
                categories_created: report.categories_created,
                ..Default::default()
            }),
            ..Default::default()
        },
        Err(catalog::import::ImportError::InvalidRows(rows)) => UploadOutcome {
            page: page.to_owned(),
            error: Some(format!(
                "{} line{} cannot be imported, so nothing was changed. Fix them and import the file again.",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )),
            import: Some(ImportOutcome {
                error_count: rows.len(),
                errors: rows
                    .into_iter()
                    .take(MAX_REPORTED_ROWS)
                    .map(|r| (r.line, r.sku.unwrap_or_default(), r.message))
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        },
        Err(catalog::import::ImportError::Empty) => failure(page, "The file has no products."),
        Err(catalog::import::ImportError::Io(e)) => failure(
            page,
            format!("The file could not be read: {e}. Is it UTF-8 text?"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "catalog import failed");
            failure(
                page,
                "The import failed and nothing was changed. Please try again.",
            )
        }
    };
    back_to(&session, page, outcome).await
}

fn download(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

fn export_name(state: &AppState, ext: &str) -> String {
    let date: String = state
        .ctx
        .clock
        .now()
        .to_rfc3339()
        .chars()
        .take(10)
        .collect();
    format!("catalog-{date}.{ext}")
}

async fn export(
    state: AppState,
    session: Session,
    ext: &str,
    content_type: &'static str,
) -> Response {
    if let Err(response) = staff(&state, &session, "/admin/catalog").await {
        return response;
    }
    let result = if ext == "csv" {
        catalog::export::csv(&state.ctx.db).await
    } else {
        catalog::export::jsonl(&state.ctx.db).await
    };
    match result {
        Ok(body) => download(body, content_type, &export_name(&state, ext)),
        Err(e) => {
            tracing::error!(error = %e, "catalog export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export failed. Please try again.\n",
            )
                .into_response()
        }
    }
}

/// `GET /admin/export/catalog.jsonl`: the whole catalog in the import format.
async fn export_jsonl(State(state): State<AppState>, session: Session) -> Response {
    export(
        state,
        session,
        "jsonl",
        "application/x-ndjson; charset=utf-8",
    )
    .await
}

/// `GET /admin/export/catalog.csv`: the whole catalog for spreadsheets.
async fn export_csv(State(state): State<AppState>, session: Session) -> Response {
    export(state, session, "csv", "text/csv; charset=utf-8").await
}

/// The orders list's filters, as its page sends them.
#[derive(Debug, serde::Deserialize)]
struct OrderQuery {
    status: Option<String>,
    q: Option<String>,
    payment: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
}

/// `GET /admin/export/orders.csv`: the orders the list's filters match, for spreadsheets.
/// Shop staff only.
async fn export_orders(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<OrderQuery>,
) -> Response {
    if let Err(response) = staff(&state, &session, "/admin/orders").await {
        return response;
    }
    let filter = app::admin::orders::server::filter(
        q.status.as_deref(),
        q.q,
        q.payment.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        q.sort.as_deref(),
        None,
    );
    match checkout::orders::csv(&state.ctx.db, &filter).await {
        Ok(body) => {
            let name = export_name(&state, "csv").replacen("catalog", "orders", 1);
            download(body, "text/csv; charset=utf-8", &name)
        }
        Err(e) => {
            tracing::error!(error = %e, "orders export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export failed. Please try again.\n",
            )
                .into_response()
        }
    }
}

/// An analytics table to download, as its page links to it.
#[derive(Debug, serde::Deserialize)]
struct AnalyticsQuery {
    view: Option<String>,
    table: Option<String>,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /admin/analytics/export`: one table of an analytics view as CSV, for the same
/// period and person as the page (a vendor gets their products' figures), with up to
/// [`EXPORT_ROWS`](app::admin::analytics::server::EXPORT_ROWS) rows.
async fn export_analytics(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AnalyticsQuery>,
) -> Response {
    use app::admin::analytics::server::{EXPORT_ROWS, Request, audience, csv, report};
    const BACK: &str = "/admin/analytics";
    let account = match app::signed_in::current(&session, &state.ctx.db, &state.ctx.clock).await {
        Ok(Some((account, _))) => account,
        Ok(None) => return refused(AppError::Unauthorized, BACK),
        Err(e) => return refused(AppError::from(e), BACK),
    };
    let view = q.view.as_deref().unwrap_or("overview");
    let table = q.table.unwrap_or_default();
    let result = async {
        let (staff, who) = audience(&account)?;
        let request = Request::new(view, q.range, q.from, q.to)?;
        let report = report(&state.ctx, staff, who, &request, EXPORT_ROWS).await?;
        let found = report
            .tables
            .iter()
            .find(|t| t.key == table)
            .ok_or_else(|| AppError::field("table", "This view has no such table."))?;
        Ok::<_, AppError>((csv(found)?, report.range))
    }
    .await;
    match result {
        Ok((body, range)) => {
            let name = format!(
                "analytics-{view}-{table}-{}-to-{}.csv",
                range.from, range.to
            );
            download(body, "text/csv; charset=utf-8", &name)
        }
        Err(e) => refused(e, BACK),
    }
}
