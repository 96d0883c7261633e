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
    /// Signs and checks the JSON API's tokens.
    pub api: Arc<ApiKeys>,
    pub leptos_options: LeptosOptions,
    pub metrics: Arc<Metrics>,
    /// `METRICS_TOKEN`: who may read `/metrics` (loopback only when unset).
    pub metrics_token: Option<crate::config::Secret>,
    /// Set when shutdown has begun: `/ready` answers 503 so a load balancer sends the
    /// next requests elsewhere while this instance finishes what it has.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// The JSON API's keys: the access tokens' and the guest cart tokens'.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    pub tokens: auth::api_sessions::ApiTokens,
    pub carts: cart::tokens::CartTokens,
}

impl ApiKeys {
    /// Reads the keys, creating them on the very first start.
    pub async fn load(
        db: &shop_core::Db,
        clock: &shop_core::Clock,
    ) -> Result<ApiKeys, sqlx::Error> {
        Ok(ApiKeys {
            tokens: auth::api_sessions::ApiTokens::load(db, clock).await?,
            carts: cart::tokens::CartTokens::load(db, clock).await?,
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
