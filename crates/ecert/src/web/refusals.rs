//! How refused, unauthenticated API requests reach the audit log (R-7.2.2d, R-6.5d) without
//! letting anyone who can reach the port grow it without bound.
//!
//! A refusal is recorded compactly — time, address, route, size and SM3 of the body, reason;
//! never the body — and only so many per minute: `[server] refusals_logged_per_address` from one
//! address and `refusals_logged_per_minute` in all (defaults 10 and 60). Beyond those, refusals
//! are counted, and when the minute is over one `api.refused_flood` entry says how many there
//! were, why, and from where (the 20 busiest addresses by name, the rest as a count). So a flood
//! adds at most 60 compact entries (≤ 1 KiB each) and one summary (≤ 4 KiB) a minute: ≤ 64 KiB a
//! minute whatever its size or rate. Authenticated exchanges are recorded in full, always.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::{Value, json};

/// One minute.
const WINDOW_MS: i64 = 60_000;
/// Addresses named in a flood summary; the others are counted together.
const SUMMARY_ADDRESSES: usize = 20;
/// Addresses tracked within a window (memory bound); beyond, all count as "other".
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Default)]
struct Window {
    start_ms: i64,
    written: u32,
    per_address: HashMap<String, u32>,
    collapsed: u64,
    first_ms: i64,
    last_ms: i64,
    reasons: BTreeMap<String, u64>,
    addresses: HashMap<String, u64>,
    other_addresses: u64,
}

/// The per-process state (with several nodes, each bounds its own share).
#[derive(Debug)]
pub(crate) struct RefusalLog {
    per_address: u32,
    total: u32,
    window: Mutex<Window>,
}

/// What to do with one refusal.
#[derive(Debug, PartialEq)]
pub(crate) struct Admit {
    /// Write this refusal's own compact entry.
    pub(crate) write: bool,
    /// First write this summary of the minute that ended (an `api.refused_flood` entry).
    pub(crate) summary: Option<Value>,
}

impl RefusalLog {
    pub(crate) fn new(per_address: u32, total: u32) -> Self {
        RefusalLog {
            per_address,
            total,
            window: Mutex::new(Window::default()),
        }
    }

    /// Decides for a refusal from `address` at `now_ms` for `reason`.
    pub(crate) fn admit(&self, now_ms: i64, address: &str, reason: &str) -> Admit {
        let Ok(mut w) = self.window.lock() else {
            return Admit {
                write: false,
                summary: None,
            };
        };
        let summary = roll(&mut w, now_ms);
        let from_here = w.per_address.get(address).copied().unwrap_or(0);
        if from_here < self.per_address && w.written < self.total {
            w.written += 1;
            if w.per_address.len() < MAX_TRACKED || w.per_address.contains_key(address) {
                *w.per_address.entry(address.to_owned()).or_default() += 1;
            }
            return Admit {
                write: true,
                summary,
            };
        }
        if w.collapsed == 0 {
            w.first_ms = now_ms;
        }
        w.collapsed += 1;
        w.last_ms = now_ms;
        *w.reasons
            .entry(reason.chars().take(60).collect())
            .or_default() += 1;
        if w.addresses.len() < MAX_TRACKED || w.addresses.contains_key(address) {
            *w.addresses.entry(address.to_owned()).or_default() += 1;
        } else {
            w.other_addresses += 1;
        }
        Admit {
            write: false,
            summary,
        }
    }

    /// The summary of a minute that ended by `now_ms` with refusals left out, if any (called
    /// every minute and at shutdown, so a flood's last minute is written too).
    pub(crate) fn flush(&self, now_ms: i64, force: bool) -> Option<Value> {
        let mut w = self.window.lock().ok()?;
        if force {
            let s = summary(&w);
            let start = w.start_ms;
            *w = Window {
                start_ms: start,
                ..Window::default()
            };
            return s;
        }
        roll(&mut w, now_ms)
    }
}

/// Starts a new window when the current one is over; returns the old one's summary.
fn roll(w: &mut Window, now_ms: i64) -> Option<Value> {
    if now_ms < w.start_ms + WINDOW_MS {
        return None;
    }
    let s = summary(w);
    *w = Window {
        start_ms: now_ms - now_ms.rem_euclid(WINDOW_MS),
        ..Window::default()
    };
    s
}

fn summary(w: &Window) -> Option<Value> {
    if w.collapsed == 0 {
        return None;
    }
    let mut by_address: Vec<(&String, &u64)> = w.addresses.iter().collect();
    by_address.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let named: serde_json::Map<String, Value> = by_address
        .iter()
        .take(SUMMARY_ADDRESSES)
        .map(|(a, n)| ((*a).clone(), json!(n)))
        .collect();
    let other: u64 = by_address
        .iter()
        .skip(SUMMARY_ADDRESSES)
        .map(|(_, n)| **n)
        .sum::<u64>()
        + w.other_addresses;
    Some(json!({
        "count": w.collapsed,
        "from_ms": w.first_ms,
        "to_ms": w.last_ms,
        "reasons": w.reasons,
        "addresses": named,
        "other_addresses": other,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_bounded_per_address_and_in_all_then_summarised() {
        let log = RefusalLog::new(3, 5);
        let t0 = 1_000 * WINDOW_MS;
        let mut written = 0;
        for i in 0..100 {
            let a = log.admit(t0 + i, "10.0.0.1", "refused:unauthorized");
            assert!(a.summary.is_none());
            written += usize::from(a.write);
        }
        assert_eq!(written, 3, "per address");
        for i in 0..10 {
            written += usize::from(log.admit(t0 + 200 + i, &format!("10.0.1.{i}"), "r").write);
        }
        assert_eq!(written, 5, "in all");
        // The next minute: the summary of this one comes with the first refusal.
        let a = log.admit(t0 + WINDOW_MS, "10.0.0.1", "refused:unauthorized");
        assert!(a.write, "a new minute writes again");
        let s = a.summary.expect("summary");
        assert_eq!(s["count"], 105);
        assert_eq!(s["reasons"]["refused:unauthorized"], 97);
        assert_eq!(s["addresses"]["10.0.0.1"], 97);
        assert!(log.flush(t0 + WINDOW_MS + 1, false).is_none());
    }

    #[test]
    fn a_quiet_minute_writes_no_summary() {
        let log = RefusalLog::new(10, 60);
        assert!(log.admit(0, "a", "r").write);
        assert!(log.flush(WINDOW_MS * 2, false).is_none());
        assert!(log.flush(WINDOW_MS * 3, true).is_none());
    }
}
