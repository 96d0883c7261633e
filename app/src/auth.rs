//! Who is signed in, as the pages see it, and the helpers every guarded page uses.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in user, as the header and pages need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub is_admin: bool,
    pub is_vendor: bool,
}

#[cfg(feature = "ssr")]
impl From<&auth::Account> for Viewer {
    fn from(a: &auth::Account) -> Self {
        Viewer {
            name: a.display_name.clone(),
            email: a.email.as_str().to_owned(),
            verified: a.is_verified(),
            is_admin: a.may_act_as(auth::Role::Admin),
            is_vendor: a.may_act_as(auth::Role::Vendor),
        }
    }
}

/// A path on this site to go back to (after signing in, after a form post): must start
/// with a single `/`, and hold only printable ASCII without backslashes (browsers
/// percent-encode the rest), so a crafted `next=` can never send anyone to another site or
/// break the `Location` header. The fragment is dropped.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let path = next?.split('#').next()?.trim();
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.chars().all(|c| c.is_ascii_graphic())
        && path.len() <= 2000;
    ok.then(|| path.to_owned())
}

/// The sign-in page, returning to `next` afterwards.
pub fn login_href(next: &str) -> String {
    match safe_next(Some(next)) {
        Some(n) if n != "/" && !n.starts_with("/login") => {
            format!("/login?next={}", urlencode(&n))
        }
        _ => "/login".to_owned(),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A counter the frame's data (header: who is signed in, cart count) reloads on. Actions
/// that change what the header shows bump it, so the header updates without a reload.
#[derive(Clone, Copy)]
pub struct ShellRefresh(pub RwSignal<u64>);

/// Reloads the frame's data.
pub fn refresh_shell() {
    if let Some(ShellRefresh(n)) = use_context::<ShellRefresh>() {
        n.update(|n| *n += 1);
    }
}

/// Reloads the frame's data whenever `action` succeeds.
pub fn refresh_shell_on_success<S>(action: ServerAction<S>)
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    Effect::new(move || {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            refresh_shell();
        }
    });
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
        AppError::NotFound => view! { <crate::layout::NotFound /> }.into_any(),
        other => view! { <crate::layout::PageError error=other /> }.into_any(),
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
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <crate::components::PageTitle text="No access" />
        <section class="mx-auto max-w-lg py-16 text-center" aria-labelledby="forbidden-title">
            <p class="text-sm font-semibold uppercase tracking-wide text-amber-700">"403"</p>
            <h1 id="forbidden-title" class="mt-2 text-3xl font-bold tracking-tight">
                "This page is not for your account"
            </h1>
            <p class="mt-4 text-stone-600">
                "You are signed in, but your account does not have access here. If you think it should, ask the shop's admin."
            </p>
            <div class="mt-8 flex justify-center gap-3">
                <a href="/account" class="btn btn-secondary">"Your account"</a>
                <a href="/" class="btn btn-primary">"Go to the shop"</a>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account")).as_deref(), Some("/account"));
        assert_eq!(
            safe_next(Some("/c/pans?page=2#top")).as_deref(),
            Some("/c/pans?page=2")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "javascript:alert(1)",
            "",
            "account",
            "/x\r\nSet-Cookie: a=b",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn the_login_link_carries_the_page_to_return_to() {
        assert_eq!(login_href("/account"), "/login?next=/account");
        assert_eq!(
            login_href("/c/x?a=1&b=2"),
            "/login?next=/c/x%3Fa%3D1%26b%3D2"
        );
        assert_eq!(login_href("/"), "/login");
        assert_eq!(login_href("//evil"), "/login");
    }
}
