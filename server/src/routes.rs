//! Operational endpoints: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::startup::AppState;

/// `/health`: the process is up and serving.
pub async fn health() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

/// `/ready`: the database answers. 503 when it does not, so a load balancer stops sending
/// traffic here.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.ctx.db.ping()).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ready\n",
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CACHE_CONTROL, "no-store")],
                "database unavailable\n",
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            "database timed out\n",
        ),
    }
}

/// `/metrics`: Prometheus text format. Request series plus the outbox backlog.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = state.metrics.render();
    match shop_core::outbox::counts_by_status(&state.ctx.db).await {
        Ok(counts) => {
            body.push_str("# HELP shop_outbox_events Outbox events by status.\n# TYPE shop_outbox_events gauge\n");
            for (status, n) in counts {
                body.push_str(&format!("shop_outbox_events{{status=\"{status}\"}} {n}\n"));
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count outbox events for /metrics"),
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}
