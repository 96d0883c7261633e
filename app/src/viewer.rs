//! Who is signed in, as the pages see it, and the signal that reloads the page frame's data
//! (header and cart count) after an action changes it.

use leptos::prelude::*;
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

/// A counter the frame's data (header: who is signed in, cart count) reloads on, in the
/// browser. Islands that change what the header shows bump it, so the header updates
/// without a reload. It is one for the whole page (islands share no context with each other
/// nor with the frame), and lives as long as the page.
#[cfg(feature = "hydrate")]
pub fn shell_refresh() -> ArcRwSignal<u64> {
    thread_local! {
        static REFRESH: ArcRwSignal<u64> = ArcRwSignal::new(0);
    }
    REFRESH.with(Clone::clone)
}

/// Loads `load` into `into` again whenever the frame's refresh counter moves, in the browser
/// (not at first: what the server rendered is current).
pub fn reload_on_refresh<T, Fut>(into: RwSignal<T>, load: impl Fn() -> Fut + 'static)
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let refresh = shell_refresh();
        Effect::new(move |seen: Option<u64>| {
            let n = refresh.get();
            if seen.is_some() {
                let loading = load();
                leptos::task::spawn_local(async move {
                    if let Ok(now) = loading.await {
                        into.set(now);
                    }
                });
            }
            n
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (into, load);
}

/// Reloads the frame's data (in the browser; on the server there is nothing to reload).
pub fn refresh_shell() {
    #[cfg(feature = "hydrate")]
    shell_refresh().update(|n| *n += 1);
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
