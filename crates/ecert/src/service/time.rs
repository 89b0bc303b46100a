//! Time traceable to NTSC (R-7.2.2a): the local clock is measured against the configured NTP
//! servers (`[time]`, NTSC's public service by default) and sealing is refused while the newest
//! good measurement is too old or its offset too large. Every sealing's audit entry records the
//! measurement it relied on ([`TimeProof`]).
//!
//! The client is SNTP (RFC 5905 client mode, the `rsntp` crate): all servers are asked together
//! and the answer with the shortest round trip counts (its offset is the least uncertain: the
//! error of an SNTP offset is at most half the round trip). `ecert serve` measures every
//! `poll_secs`; the CLI measures once when it first seals.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Error, Instance, Result};

/// One good answer of an NTP server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// The server that gave it (as configured).
    pub server: String,
    /// Server time minus local time (ms).
    pub offset_ms: f64,
    /// Round trip (ms).
    pub delay_ms: f64,
    /// The server's stratum (1 = a reference clock).
    pub stratum: u8,
    /// When it was measured (unix ms, local clock).
    pub at_ms: i64,
}

/// What a sealing relied on for its time (recorded in the audit entry, R-7.2.2a).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum TimeProof {
    /// The local clock, unchecked: demo instances only.
    LocalClock,
    /// Checked against an NTP server.
    Ntp(Measurement),
}

/// Why a server gave no usable answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeProblem {
    /// The server.
    pub server: String,
    /// What went wrong.
    pub problem: String,
}

/// What `ecert time status` shows and `/healthz` and `/metrics` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeStatus {
    /// The servers asked (empty: local clock).
    pub servers: Vec<String>,
    /// The newest good measurement.
    pub last: Option<Measurement>,
    /// The problems of the last round.
    pub problems: Vec<TimeProblem>,
    /// The bounds: largest |offset| (ms) and oldest measurement (s) sealing accepts.
    pub max_offset_ms: u64,
    /// See `max_offset_ms`.
    pub max_age_secs: u64,
    /// Whether sealing would be allowed now, and if not why.
    pub sealing: std::result::Result<(), String>,
}

/// The measurements an instance keeps.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    state: Mutex<(Option<Measurement>, Vec<TimeProblem>)>,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Asks one server.
async fn ask(server: &str, timeout: Duration) -> std::result::Result<Measurement, String> {
    let config = rsntp::Config::default().timeout(timeout);
    let client = rsntp::AsyncSntpClient::with_config(config);
    let addr = if server.parse::<std::net::SocketAddr>().is_ok() || server.matches(':').count() == 1
    {
        server.to_owned()
    } else if server.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{server}]:123")
    } else {
        format!("{server}:123")
    };
    let r = client
        .synchronize(addr.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let stratum = r.stratum();
    if stratum == 0 || stratum > 15 {
        return Err(format!("未同步 (unsynchronised, stratum {stratum})"));
    }
    if r.leap_indicator() == rsntp::LeapIndicator::AlarmCondition {
        return Err("未同步 (unsynchronised: leap indicator 3)".into());
    }
    Ok(Measurement {
        server: server.to_owned(),
        offset_ms: r.clock_offset().as_secs_f64() * 1000.0,
        delay_ms: r.round_trip_delay().as_secs_f64() * 1000.0,
        stratum,
        at_ms: now_ms(),
    })
}

impl Instance {
    /// Asks every configured server now and keeps the best answer (shortest round trip). An
    /// error when none answered usably, naming each server's problem.
    pub async fn measure_time(&self) -> Result<Measurement> {
        let cfg = &self.config.time;
        let servers = cfg.servers(self.config.instance.demo);
        let timeout = Duration::from_millis(cfg.timeout_ms.max(1));
        let answers = futures_util::future::join_all(servers.iter().map(|s| ask(s, timeout))).await;
        let mut best: Option<Measurement> = None;
        let mut problems = Vec::new();
        for (server, answer) in servers.iter().zip(answers) {
            match answer {
                Ok(m) => {
                    if best.as_ref().is_none_or(|b| m.delay_ms < b.delay_ms) {
                        best = Some(m);
                    }
                }
                Err(problem) => problems.push(TimeProblem {
                    server: server.clone(),
                    problem,
                }),
            }
        }
        let mut state = self
            .clock
            .state
            .lock()
            .map_err(|_| super::error::bug("时钟 (clock)", "lock poisoned"))?;
        state.1 = problems.clone();
        if let Some(m) = &best {
            state.0 = Some(m.clone());
        }
        drop(state);
        best.ok_or_else(|| Error::TimeUnavailable {
            problems: problems
                .iter()
                .map(|p| format!("{}: {}", p.server, p.problem))
                .collect(),
        })
    }

    /// The time sealing may rely on now (R-7.2.2a): the local clock on a demo instance without
    /// servers; else the newest measurement (measured now when there is none or it is older
    /// than `max_age_secs`), refused when its offset exceeds `max_offset_ms`.
    pub async fn trusted_time(&self) -> Result<TimeProof> {
        let cfg = &self.config.time;
        let demo = self.config.instance.demo;
        if cfg.servers(demo).is_empty() {
            return if demo {
                Ok(TimeProof::LocalClock)
            } else {
                Err(Error::TimeNotConfigured)
            };
        }
        let max_age_ms = i64::try_from(cfg.max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let last = self.last_measurement();
        let fresh = last.filter(|m| now_ms().saturating_sub(m.at_ms) <= max_age_ms);
        let m = match fresh {
            Some(m) => m,
            None => self.measure_time().await?,
        };
        if m.offset_ms.abs() > cfg.max_offset_ms as f64 {
            return Err(Error::TimeNotTrusted {
                server: m.server,
                offset_ms: m.offset_ms.round() as i64,
                bound_ms: cfg.max_offset_ms,
            });
        }
        Ok(TimeProof::Ntp(m))
    }

    fn last_measurement(&self) -> Option<Measurement> {
        self.clock.state.lock().ok().and_then(|s| s.0.clone())
    }

    /// The time source's state (`ecert time status`, `/healthz`, `/metrics`): measures first
    /// when `measure`.
    pub async fn time_status(&self, measure: bool) -> TimeStatus {
        let cfg = &self.config.time;
        let servers = cfg.servers(self.config.instance.demo);
        if measure && !servers.is_empty() {
            // (a failure is in the problems and the verdict below)
            let _ = self.measure_time().await;
        }
        let sealing = if servers.is_empty() {
            self.trusted_time().await.map(|_| ())
        } else {
            self.check_last().map(|_| ())
        }
        .map_err(|e| e.to_string());
        let (last, problems) = self
            .clock
            .state
            .lock()
            .map(|s| (s.0.clone(), s.1.clone()))
            .unwrap_or_default();
        TimeStatus {
            servers,
            last,
            problems,
            max_offset_ms: cfg.max_offset_ms,
            max_age_secs: cfg.max_age_secs,
            sealing,
        }
    }

    /// [`Instance::trusted_time`] on the measurement kept, without measuring.
    fn check_last(&self) -> Result<Measurement> {
        let cfg = &self.config.time;
        let m = self
            .last_measurement()
            .ok_or_else(|| Error::TimeUnavailable {
                problems: vec!["尚未测量 (not measured yet)".into()],
            })?;
        let age_secs = now_ms().saturating_sub(m.at_ms) / 1000;
        if u64::try_from(age_secs).unwrap_or(0) > cfg.max_age_secs {
            return Err(Error::TimeStale {
                age_secs: u64::try_from(age_secs).unwrap_or(0),
                bound_secs: cfg.max_age_secs,
            });
        }
        if m.offset_ms.abs() > cfg.max_offset_ms as f64 {
            return Err(Error::TimeNotTrusted {
                server: m.server,
                offset_ms: m.offset_ms.round() as i64,
                bound_ms: cfg.max_offset_ms,
            });
        }
        Ok(m)
    }
}
