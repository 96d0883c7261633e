//! The HTML part of a logged mail, and of a template's sample, as documents of their own for
//! the admin pages to show in a sandboxed frame.
//!
//! A mail's HTML needs inline styles, which the pages' policy forbids, so it is not embedded
//! in the page: it is served here with a policy of its own that allows those styles and
//! nothing else (no scripts, no requests, a sandbox without same-origin), framed only by
//! this site's pages. Staff only, like the pages that frame it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use tower_sessions::Session;

use app::AppError;

use crate::state::AppState;

/// The paths served here.
pub const PATHS: [&str; 2] = [
    "/admin/notifications/{id}/html",
    "/admin/mail-templates/{name}/html",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATHS[0], get(logged))
        .route(PATHS[1], get(sample))
}

/// Staff only: the sign-in page for nobody, 403 for anyone else.
async fn staff(state: &AppState, session: &Session, back: &str) -> Result<(), Response> {
    let account = app::signed_in::current(session, &state.ctx.db, &state.ctx.clock)
        .await
        .map_err(|e| refused(AppError::from(e)))?
        .map(|(account, _)| account);
    match account {
        None => {
            Err(Redirect::to(&format!("/login?next={}", app::url::urlencode(back))).into_response())
        }
        Some(a) if a.may_act_as(auth::Role::Admin) => Ok(()),
        Some(_) => Err(refused(AppError::Forbidden)),
    }
}

fn refused(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, format!("{error}\n")).into_response()
}

fn document(html: String) -> Response {
    let mut response = html.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
             frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox",
        ),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// `GET /admin/notifications/{id}/html`: the message's HTML part as it was sent.
async fn logged(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = staff(&state, &session, "/admin/notifications").await {
        return response;
    }
    let Ok(id) = id.parse::<notifications::NotificationId>() else {
        return refused(AppError::NotFound);
    };
    match notifications::log::find(&state.ctx.db, &id).await {
        Ok(Some(n)) => document(n.html_body),
        Ok(None) => refused(AppError::NotFound),
        Err(e) => {
            tracing::error!(error = %e, "could not read a logged mail");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The log could not be read. Please try again.\n",
            )
                .into_response()
        }
    }
}

/// `GET /admin/mail-templates/{name}/html`: the template rendered with sample data.
async fn sample(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
) -> Response {
    if let Err(response) = staff(&state, &session, "/admin/mail-templates").await {
        return response;
    }
    let Some(template) = notifications::Template::parse(&name) else {
        return refused(AppError::NotFound);
    };
    match notifications::samples::sample(&state.ctx.shop.mail, template, None) {
        Ok(mail) => document(mail.html.unwrap_or_default()),
        Err(e) => {
            tracing::error!(error = %e, "a mail template does not render");
            refused(AppError::Internal {
                request_id: String::new(),
            })
        }
    }
}
