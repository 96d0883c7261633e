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
