//! Small shared building blocks.

use leptos::prelude::*;

use crate::error::AppError;

/// A bordered panel explaining that something failed, with the reference id for support.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let reference = match &error {
        AppError::Internal { request_id } => Some(request_id.clone()),
        _ => None,
    };
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-900" data-testid="error-panel">
            <p class="font-semibold">"Sorry, this part of the page could not be loaded."</p>
            <p class="mt-1 text-sm">{error.to_string()}</p>
            {reference
                .map(|id| {
                    view! {
                        <p class="mt-2 text-xs text-red-800">
                            "Request id: " <code data-testid="request-id">{id}</code>
                        </p>
                    }
                })}
        </div>
    }
}

/// An inline message under a form field.
#[component]
pub fn FieldError(#[prop(into)] id: String, message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! {
            <p id=id class="mt-1 text-sm text-red-700">
                {m}
            </p>
        }
    })
}
