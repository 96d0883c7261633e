//! The state every HTTP handler shares: the app's server context, Leptos options and
//! metrics. Its own module so handlers (routes, uploads) and the router that mounts them
//! (startup) do not import each other.

use std::sync::Arc;

use app::ssr::ServerContext;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::metrics::Metrics;

/// Shared state of the HTTP layer.
#[derive(Clone, Debug)]
pub struct AppState {
    pub ctx: ServerContext,
    /// Signs and checks the JSON API's access tokens.
    pub api_tokens: auth::api_sessions::ApiTokens,
    pub leptos_options: LeptosOptions,
    pub metrics: Arc<Metrics>,
    /// `METRICS_TOKEN`: who may read `/metrics` (loopback only when unset).
    pub metrics_token: Option<crate::config::Secret>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
