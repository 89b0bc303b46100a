//! The operators' routes, apart from the public pages: `/healthz` (for the load balancer) and
//! `/metrics` (Prometheus).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::App;

/// `GET /healthz`.
pub const HEALTHZ: &str = "/healthz";
/// `GET /metrics`.
pub const METRICS: &str = "/metrics";

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(HEALTHZ, get(healthz))
        .route(METRICS, get(metrics))
        .with_state(app)
}

async fn healthz(State(app): State<App>) -> Response {
    match app.inner.instance.check_database().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "database": "ok"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e.chain(), "health check: database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "error", "database": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let mut text = app.inner.metrics.render();
    let (running, waiting, workers) = app.inner.issuing.gauges();
    for (name, help, v) in [
        (
            "ecert_api_issuing_running",
            "API issuing calls running now.",
            running,
        ),
        (
            "ecert_api_issuing_waiting",
            "API issuing calls waiting for a turn.",
            waiting,
        ),
        (
            "ecert_api_issuing_workers",
            "API issuing calls that may run at once.",
            workers,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
        ));
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
