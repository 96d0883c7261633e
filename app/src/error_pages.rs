//! The pages shown instead of the one asked for: not found, an error, sign-in needed, and no
//! access. Each sets its status code. Every feature uses them, so they sit below them all.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::components::{ErrorPanel, PageTitle};
use crate::error::AppError;
use crate::url::login_href;

/// A page that stands for a status code: the code, a heading, what happened, and links on.
#[component]
fn StatusPage(
    status: u16,
    title: &'static str,
    heading: &'static str,
    text: &'static str,
    children: Children,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = http::StatusCode::from_u16(status)
    {
        res.set_status(code);
    }
    view! {
        <PageTitle text=title />
        <section class="mx-auto max-w-lg py-16 text-center" aria-labelledby="status-title">
            <p class="text-sm font-semibold uppercase tracking-wide text-amber-700">{status}</p>
            <h1 id="status-title" class="mt-2 text-3xl font-bold tracking-tight">{heading}</h1>
            <p class="mt-4 text-stone-600">{text}</p>
            <div class="mt-8 flex justify-center gap-3">{children()}</div>
        </section>
    }
}

/// The page for an address that matches nothing; answers with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <StatusPage
            status=404
            title="Page not found"
            heading="We couldn't find that page"
            text="The link may be old, or the page may have moved. Try searching, or start from the home page."
        >
            <a href="/" class="btn btn-primary">"Go to the home page"</a>
        </StatusPage>
    }
}

/// Shown where a page could not load its data: the 404 page for something that does not
/// exist, the sign-in redirect or 403 page for access, otherwise the error with its status.
#[component]
pub fn PageError(error: AppError) -> impl IntoView {
    match error {
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        AppError::Unauthorized | AppError::Forbidden => view! { <Denied error /> }.into_any(),
        other => {
            #[cfg(feature = "ssr")]
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
                && let Ok(status) = http::StatusCode::from_u16(other.status())
            {
                res.set_status(status);
            }
            view! { <ErrorPanel error=other /> }.into_any()
        }
    }
}

/// What a guarded page shows when its data did not load: the sign-in page for a visitor
/// who is not signed in (returning here afterwards), a 403 page for the wrong role, and the
/// error panel otherwise.
#[component]
pub fn Denied(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthorized => {
            let location = use_location();
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked().as_str().pipe_query()
            );
            view! { <Redirect path=login_href(&here) /> }.into_any()
        }
        AppError::Forbidden => view! { <Forbidden /> }.into_any(),
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        other => view! { <PageError error=other /> }.into_any(),
    }
}

trait PipeQuery {
    fn pipe_query(&self) -> String;
}

impl PipeQuery for str {
    fn pipe_query(&self) -> String {
        if self.is_empty() || self.starts_with('?') {
            self.to_owned()
        } else {
            format!("?{self}")
        }
    }
}

/// The page for a signed-in user without the role a page needs; answers 403.
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <StatusPage
            status=403
            title="No access"
            heading="This page is not for your account"
            text="You are signed in, but your account does not have access here. If you think it should, ask the shop's admin."
        >
            <a href="/account" class="btn btn-secondary">"Your account"</a>
            <a href="/" class="btn btn-primary">"Go to the shop"</a>
        </StatusPage>
    }
}
