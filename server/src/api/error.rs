//! The API's one error shape:
//! `{"error":{"code":"...","message":"...","fields":{...},"request_id":"..."}}`.
//!
//! Handlers return [`ApiError`]; [`finish`] writes the body, adding the request's id, and
//! gives every other failure inside `/api/v1` (an unknown path, a wrong method, a request
//! the JSON extractor refused) the same shape.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid_body`, `validation_failed`, `unauthorized`,
    /// `invalid_token`, `forbidden`, `not_found`, `conflict`, `out_of_stock`,
    /// `rate_limited`, `internal`, ...
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// Field name → what is wrong with it, for a request that failed validation.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The `X-Request-Id` of the request, to quote when asking for help.
    pub request_id: String,
}

/// An error answer, before [`finish`] adds the request id.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after: None,
        }
    }

    /// 400: the request cannot be read.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message.clone(),
        );
        e.fields.insert(field.to_owned(), message);
        e
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 500, logged with its cause; the client sees only the request id.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Try again; if it persists, quote the request id.",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<catalog::CatalogError> for ApiError {
    fn from(e: catalog::CatalogError) -> ApiError {
        match e {
            catalog::CatalogError::Invalid { field, message } => ApiError::invalid(field, message),
            catalog::CatalogError::NotFound => ApiError::not_found("There is no such item."),
            other => ApiError::internal(other),
        }
    }
}

impl From<checkout::CheckoutError> for ApiError {
    fn from(e: checkout::CheckoutError) -> ApiError {
        use checkout::CheckoutError as E;
        if e.is_internal() {
            return ApiError::internal(e);
        }
        let e = match e {
            E::Cart(c) => return cart_error(c, "cart"),
            other => other,
        };
        let message = e.to_string();
        let conflict = |code| ApiError::new(StatusCode::CONFLICT, code, message.clone());
        match &e {
            E::EmptyCart => conflict("empty_cart"),
            E::CartNotReady(_) => conflict("cart_not_ready"),
            E::SoldOut(_) => conflict("out_of_stock"),
            E::Changed => conflict("changed"),
            E::MixedCurrencies => conflict("mixed_currencies"),
            E::IllegalTransition { .. } => conflict("illegal_transition"),
            E::AlreadyPaid => conflict("already_paid"),
            E::RefundFailed(_) => conflict("refund_failed"),
            E::Invalid { field, .. } => ApiError::invalid(field, message),
            E::TotalTooLarge | E::RefundTooLarge { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
            E::NotFound => ApiError::not_found(message),
            E::Provider(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_unavailable",
                message,
            ),
            E::Cart(_) | E::Db(_) | E::Catalog(_) | E::Interrupted(_) => ApiError::internal(&e),
        }
    }
}

/// A cart error as the API answers it; `field` is what an unknown variant is about.
pub fn cart_error(e: cart::CartError, field: &str) -> ApiError {
    let message = e.to_string();
    match e {
        cart::CartError::UnknownVariant => ApiError::invalid(field, message),
        cart::CartError::UnknownLine => ApiError::not_found(message),
        cart::CartError::NotOnSale => ApiError::new(StatusCode::CONFLICT, "not_on_sale", message),
        cart::CartError::OutOfStock => ApiError::new(StatusCode::CONFLICT, "out_of_stock", message),
        cart::CartError::Full => ApiError::new(StatusCode::CONFLICT, "cart_full", message),
        cart::CartError::TotalTooLarge => ApiError::invalid("quantity", message),
        cart::CartError::CheckingOut(_) => {
            ApiError::new(StatusCode::CONFLICT, "checking_out", message)
        }
        cart::CartError::Db(_) | cart::CartError::Catalog(_) => ApiError::internal(e),
    }
}

/// The error, carried on the response until [`finish`] writes it.
#[derive(Debug, Clone)]
struct Pending(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.code == "unauthorized" {
                "Bearer".to_owned()
            } else {
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    self.code
                )
            };
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(Pending(self));
        response
    }
}

/// Writes error answers in the one shape, with the request's id. Wraps the whole API router,
/// inside the request-id layer.
pub async fn finish(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(&crate::middleware::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut response = next.run(req).await;
    let pending = response.extensions_mut().remove::<Pending>();
    let status = response.status();
    let error = match pending {
        Some(Pending(e)) => e,
        None if status.is_client_error() || status.is_server_error() => from_status(status),
        None => return response,
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: error.code.to_owned(),
            message: error.message,
            fields: error.fields,
            request_id,
        },
    };
    let (mut parts, _) = response.into_parts();
    let json = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, axum::body::Body::from(json))
}

/// An error answer nothing in the API wrote (the router's own 404 and 405, a timeout, a
/// body-limit refusal), in the one shape.
fn from_status(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "There is no such endpoint."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This endpoint does not take that method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "The request body is too large."),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests. Slow down."),
        StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "The shop could not answer in time. Try again.",
        ),
        s if s.is_server_error() => ("internal", "Something went wrong on our side."),
        _ => ("bad_request", "The request could not be handled."),
    };
    ApiError::new(status, code, message)
}

/// A JSON request body, refused in the one error shape: malformed JSON, a body that is not
/// JSON or too large → 400; wrong types, missing or unknown fields → 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(refused(&rejection)),
        }
    }
}

fn refused(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
            );
            // serde names the field first ("email: invalid type ..."); anything without one
            // (a missing or unknown field) stays in the message.
            let text = e.body_text();
            if let Some((path, why)) = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .and_then(|rest| rest.split_once(": "))
                && !path.contains(' ')
            {
                error.fields.insert(path.to_owned(), why.to_owned());
            }
            error
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("malformed_json", "The request body is not valid JSON.")
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "invalid_content_type",
            "Send the request body as JSON, with Content-Type: application/json.",
        ),
        JsonRejection::BytesRejection(_) => ApiError::bad_request(
            "body_too_large",
            "The request body is too large or could not be read.",
        ),
        _ => ApiError::bad_request("invalid_body", "The request body could not be read."),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
