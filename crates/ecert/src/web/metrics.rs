//! Prometheus text exposition of a few counters (no registry crate: the set is small and fixed).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
struct Series {
    count: u64,
    seconds: f64,
}

/// Counters of the running server.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    verdicts: Mutex<BTreeMap<String, u64>>,
    api: Mutex<BTreeMap<String, u64>>,
    pub(crate) page_cache_hits: AtomicU64,
    pub(crate) page_cache_misses: AtomicU64,
    pub(crate) previews_rendered: AtomicU64,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key.to_owned()).or_default() += 1;
    }
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            let s = m
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default();
            s.count += 1;
            s.seconds += took.as_secs_f64();
        }
    }

    /// One `POST /verify` outcome.
    pub(crate) fn verdict(&self, verdict: &str) {
        bump(&self.verdicts, verdict);
    }

    /// One API exchange outcome (`ok`, `refused:<code>`, `error`).
    pub(crate) fn api(&self, outcome: &str) {
        bump(&self.api, outcome);
    }

    /// The Prometheus text format (version 0.0.4).
    pub(crate) fn render(&self) -> String {
        let mut o = String::new();
        o.push_str("# HELP ecert_http_requests_total HTTP responses by route and status.\n");
        o.push_str("# TYPE ecert_http_requests_total counter\n");
        let mut secs = String::new();
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), s) in m.iter() {
                let l = format!(
                    "method=\"{}\",route=\"{}\",status=\"{status}\"",
                    label(method),
                    label(route)
                );
                let _ = writeln!(o, "ecert_http_requests_total{{{l}}} {}", s.count);
                let _ = writeln!(
                    secs,
                    "ecert_http_request_seconds_total{{{l}}} {:.6}",
                    s.seconds
                );
            }
        }
        o.push_str(
            "# HELP ecert_http_request_seconds_total Time spent answering, by route and status.\n",
        );
        o.push_str("# TYPE ecert_http_request_seconds_total counter\n");
        o.push_str(&secs);
        o.push_str("# HELP ecert_verify_uploads_total Uploaded files checked, by verdict.\n");
        o.push_str("# TYPE ecert_verify_uploads_total counter\n");
        if let Ok(m) = self.verdicts.lock() {
            for (k, v) in m.iter() {
                let _ = writeln!(
                    o,
                    "ecert_verify_uploads_total{{verdict=\"{}\"}} {v}",
                    label(k)
                );
            }
        }
        o.push_str("# HELP ecert_api_requests_total Business-system API exchanges, by outcome.\n");
        o.push_str("# TYPE ecert_api_requests_total counter\n");
        if let Ok(m) = self.api.lock() {
            for (k, v) in m.iter() {
                let _ = writeln!(
                    o,
                    "ecert_api_requests_total{{outcome=\"{}\"}} {v}",
                    label(k)
                );
            }
        }
        for (name, help, v) in [
            (
                "ecert_page_cache_hits_total",
                "Status pages answered from the cache.",
                &self.page_cache_hits,
            ),
            (
                "ecert_page_cache_misses_total",
                "Status pages built from the database.",
                &self.page_cache_misses,
            ),
            (
                "ecert_previews_rendered_total",
                "Page previews rendered (not from the cache).",
                &self.previews_rendered,
            ),
        ] {
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        o
    }
}
