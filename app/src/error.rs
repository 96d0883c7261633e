//! The error type every server function returns.
//!
//! Business outcomes carry a message fit for the shopper (and, for form errors, the field it
//! belongs to). Infrastructure failures are logged on the server with the request id and
//! reach the browser only as [`AppError::Internal`] with that id, never with their text.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
use serde::{Deserialize, Serialize};

/// What a server function can fail with, as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input the shopper can fix; `field` names the form field it concerns.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
        /// Values to put back into the form after a plain form post (JavaScript off) came
        /// back with this error. Never a password.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keep: Vec<(String, String)>,
    },
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("We could not find that.")]
    NotFound,
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// Something broke on our side; the id finds the log line.
    #[error(
        "Something went wrong on our side. If it keeps happening, quote reference {request_id}."
    )]
    Internal { request_id: String },
    /// The request never reached the function, or its answer never reached the browser.
    #[error("The request could not be completed ({0}). Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// A form error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
            keep: Vec::new(),
        }
    }

    /// A form error about the form as a whole.
    pub fn form(message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: None,
            message: message.into(),
            keep: Vec::new(),
        }
    }

    /// This error beside `field` (a form error about the form as a whole moves there; other
    /// errors are returned unchanged).
    pub fn on_field(mut self, name: &str) -> Self {
        if let AppError::Invalid { field, .. } = &mut self {
            *field = Some(name.to_owned());
        }
        self
    }

    /// Adds the values the form should show again if this error reaches a page without
    /// JavaScript. Only for `Invalid`; other errors are returned unchanged.
    pub fn keeping(mut self, values: &[(&str, &str)]) -> Self {
        if let AppError::Invalid { keep, .. } = &mut self {
            keep.extend(
                values
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
        }
        self.bounded()
    }

    /// This error cut to a size that fits a session or a header whatever was typed: kept
    /// values longer than any valid input are cut, and only the first few are kept.
    pub fn bounded(mut self) -> Self {
        const MAX_MESSAGE: usize = 1_000;
        const MAX_KEPT_VALUES: usize = 20;
        const MAX_KEPT_CHARS: usize = 500;
        fn cut(s: &mut String, max: usize) {
            if let Some((i, _)) = s.char_indices().nth(max) {
                s.truncate(i);
            }
        }
        match &mut self {
            AppError::Invalid {
                field,
                message,
                keep,
            } => {
                cut(message, MAX_MESSAGE);
                if let Some(f) = field {
                    cut(f, 100);
                }
                keep.truncate(MAX_KEPT_VALUES);
                for (name, value) in keep.iter_mut() {
                    cut(name, 100);
                    cut(value, MAX_KEPT_CHARS);
                }
            }
            AppError::TooManyRequests { message, .. } | AppError::Transport(message) => {
                cut(message, MAX_MESSAGE)
            }
            AppError::Internal { request_id } => cut(request_id, 64),
            AppError::Unauthorized | AppError::Forbidden | AppError::NotFound => {}
        }
        self
    }

    /// A value kept by [`AppError::keeping`].
    pub fn kept(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { keep, .. } => {
                keep.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            }
            _ => None,
        }
    }

    /// The form field this error concerns, if any.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The message for `field`, if this error concerns it.
    pub fn message_for(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid {
                field: Some(f),
                message,
                ..
            } if f == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } => 422,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal { .. } | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// The error as its response body. On the server this is where a server function's
    /// error becomes its response, so the response gets the error's status here.
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        answer_with(self);
        <JsonEncoding as Encodes<AppError>>::encode(self).unwrap_or_else(|_| {
            Bytes::from_static(br#"{"Transport":"the error could not be encoded"}"#)
        })
    }

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => unreadable_form(&m),
            // On the server this is a request body that could not be read at all; in the
            // browser it is an answer that could not be, which is a transport problem.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => {
                AppError::form("The form could not be read. Reload the page and try again.")
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
/// Gives a server function's response the status its error stands for (and `Retry-After`
/// for 429). Called once, where the error becomes the response ([`AppError`]'s encoding on
/// the server). A plain form post with a Referer is left alone: Leptos answers it with a
/// redirect back to the form's page, carrying the error.
fn answer_with(error: &AppError) {
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return;
    };
    let accepts_html = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if accepts_html && parts.headers.contains_key(http::header::REFERER) {
        return;
    }
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(status) = http::StatusCode::from_u16(error.status()) {
        response.set_status(status);
    }
    if let AppError::TooManyRequests {
        retry_after_secs, ..
    } = error
    {
        response.insert_header(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(*retry_after_secs),
        );
    }
}

/// The error for form data that does not fit a server function's arguments. The parser's
/// own text names Rust types and internal structures, so only the name of a missing field is
/// taken from it (quoted in backticks there); the rest is said in words.
fn unreadable_form(parser_message: &str) -> AppError {
    let missing = parser_message
        .split_once("missing field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 40
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    match missing {
        Some(name) => AppError::Invalid {
            field: Some(name.to_owned()),
            message: format!(
                "The form is missing its \"{}\" field.",
                name.replace('_', " ")
            ),
            keep: Vec::new(),
        },
        None => AppError::form(
            "The form could not be read: one of its fields is not in the expected format. \
             Reload the page and try again.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_errors_name_a_missing_field_and_nothing_internal() {
        let e = unreadable_form("failed with reason: missing field `display_name`");
        assert_eq!(e.field_name(), Some("display_name"));
        assert_eq!(
            e.to_string(),
            "The form is missing its \"display name\" field."
        );
        let e = unreadable_form("failed with reason: invalid digit found in string");
        assert_eq!(e.field_name(), None);
        assert!(!e.to_string().contains("digit"), "{e}");
        let e = unreadable_form("missing field `<b>x</b>`");
        assert_eq!(e.field_name(), None, "only plain field names are repeated");
    }
}
