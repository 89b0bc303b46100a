//! The operators' routes, apart from the public pages: `/healthz` (for the load balancer) and
//! `/metrics` (Prometheus). `/metrics` is closed unless `[server] metrics_token` is set (the
//! scraper sends `Authorization: Bearer <token>`) or `metrics_public = true`: its counters tell
//! strangers how the service is used.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{App, Error};

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

/// The time source as `/healthz` reports it (R-7.2.2a): sealing allowed or why not, and the
/// newest measurement. A refusal does not make the service unhealthy: verification goes on.
async fn time_json(app: &App) -> serde_json::Value {
    let t = app.inner.instance.time_status(false).await;
    serde_json::json!({
        "source": if t.servers.is_empty() { "local_clock" } else { "ntp" },
        "sealing_allowed": t.sealing.is_ok(),
        "problem": t.sealing.as_ref().err(),
        "last": t.last,
    })
}

async fn healthz(State(app): State<App>) -> Response {
    match app.inner.instance.check_database().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({
                "status": "ok",
                "database": "ok",
                "time": time_json(&app).await,
            })),
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

/// Whether a request may read `/metrics`.
fn metrics_allowed(app: &App, headers: &HeaderMap) -> Result<(), Error> {
    let server = &app.inner.server;
    if server.metrics_public {
        return Ok(());
    }
    let Some(token) = server.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "metrics_not_public",
            "指标未公开：请在 [server] 中设置 metrics_token（或 metrics_public = true）",
            "Metrics are not public: set [server] metrics_token (or metrics_public = true)",
        ));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Compared by SM3 digest: equal length, no early exit on the secret's bytes.
    let same =
        sent.is_some_and(|s| ecert_store::sm3(s.as_bytes()) == ecert_store::sm3(token.as_bytes()));
    if same {
        Ok(())
    } else {
        Err(Error::new(
            StatusCode::UNAUTHORIZED,
            "metrics_token",
            "需要指标访问令牌（Authorization: Bearer …）",
            "A metrics token is required (Authorization: Bearer …)",
        ))
    }
}

async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(e) = metrics_allowed(&app, &headers) {
        let mut r = e.into_response();
        if r.status() == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return r;
    }
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
    // R-7.2.2a: the time source.
    let t = app.inner.instance.time_status(false).await;
    let mut gauge = |name: &str, help: &str, v: String| {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
        ));
    };
    gauge(
        "ecert_time_sealing_allowed",
        "1 when the time source allows sealing now (R-7.2.2a).",
        u8::from(t.sealing.is_ok()).to_string(),
    );
    if let Some(m) = &t.last {
        gauge(
            "ecert_time_offset_ms",
            "NTP server time minus local time, newest measurement (ms).",
            format!("{:.3}", m.offset_ms),
        );
        gauge(
            "ecert_time_delay_ms",
            "Round trip of the newest NTP measurement (ms).",
            format!("{:.3}", m.delay_ms),
        );
        gauge(
            "ecert_time_stratum",
            "Stratum of the server of the newest NTP measurement.",
            m.stratum.to_string(),
        );
        gauge(
            "ecert_time_measured_at_seconds",
            "When the newest NTP measurement was made (unix seconds).",
            (m.at_ms / 1000).to_string(),
        );
    }
    // R-6.5g: the last scrub.
    if let Ok(Some((at_ms, problems))) = app.inner.instance.last_scrub().await {
        text.push_str(&format!(
            "# HELP ecert_scrub_last_seconds When the last scrub ran (unix seconds).\n\
             # TYPE ecert_scrub_last_seconds gauge\necert_scrub_last_seconds {}\n\
             # HELP ecert_scrub_last_problems Missing or damaged copies the last scrub found.\n\
             # TYPE ecert_scrub_last_problems gauge\necert_scrub_last_problems {problems}\n",
            at_ms / 1000
        ));
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
