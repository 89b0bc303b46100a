//! `ecert status`: does the instance meet 3-2-1 now (R-6.5b), is its storage checked
//! (R-6.5g), is its time traceable (R-7.2.2a)? Each finding says what is wrong and what to do.

use serde::Serialize;

use super::time::now_ms;
use super::{Instance, Result};

/// Setting that remembers the last backup (written by [`Instance::backup`]).
pub(crate) const LAST_BACKUP_SETTING: &str = "last_backup";
/// Setting that remembers the last scrub (written by [`Instance::scrub`]).
pub(crate) const LAST_SCRUB_SETTING: &str = "last_scrub";
/// The lease a node holds while it runs the scheduled scrub (one node at a time).
const SCRUB_LEASE: &str = "scrub";
/// How long a scrub lease lasts unless given up: longer than any scrub runs (10,000
/// certificates take seconds), short enough that another node takes over from one that died.
const SCRUB_LEASE_MS: i64 = 6 * 3_600_000;
/// An offline backup older than this is reported (days).
pub const BACKUP_MAX_AGE_DAYS: i64 = 7;
/// A scrub older than this is reported (days).
pub const SCRUB_MAX_AGE_DAYS: i64 = 31;

/// One line of the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What is looked at (`replicas`, `offline_backup`, `scrub`, `time`).
    pub what: &'static str,
    /// All right?
    pub ok: bool,
    /// What was found, Chinese then English.
    pub text: String,
}

/// The whole status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Every finding.
    pub findings: Vec<Finding>,
}

impl Status {
    /// True when every finding is all right.
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
}

fn age_days(at_ms: i64) -> i64 {
    now_ms().saturating_sub(at_ms) / 86_400_000
}

impl Instance {
    /// When the last scrub ran (unix ms) and how many problems it found, if one ran.
    pub async fn last_scrub(&self) -> Result<Option<(i64, u64)>> {
        Ok(self
            .store
            .setting(LAST_SCRUB_SETTING)
            .await?
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
            .map(|s| {
                (
                    s["at_ms"].as_i64().unwrap_or(0),
                    s["problems"].as_u64().unwrap_or(0),
                )
            }))
    }

    /// Scrubs (with repair) when the last scrub is older than `[storage] scrub_every_hours`
    /// (`ecert serve` asks every hour; R-6.5g). Returns the report when it ran. With several
    /// nodes over one database, one node at a time: `owner` (this process) must hold the
    /// `scrub` lease, and the due check is made again once it does (another node may just
    /// have finished one).
    pub async fn scrub_if_due(&self, owner: &str) -> Result<Option<ecert_store::ScrubReport>> {
        if !self.scrub_due().await? {
            return Ok(None);
        }
        if !self
            .store
            .take_lease(SCRUB_LEASE, owner, SCRUB_LEASE_MS)
            .await?
        {
            return Ok(None);
        }
        let report = if self.scrub_due().await? {
            self.scrub(true, &super::Actor::system("serve"))
                .await
                .map(Some)
        } else {
            Ok(None)
        };
        self.store.release_lease(SCRUB_LEASE, owner).await?;
        report
    }

    async fn scrub_due(&self) -> Result<bool> {
        let hours = self.config.storage.scrub_every_hours;
        if hours == 0 {
            return Ok(false);
        }
        let due_ms = i64::try_from(hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
        let last = self.last_scrub().await?.map_or(0, |(at, _)| at);
        Ok(now_ms().saturating_sub(last) >= due_ms)
    }

    /// Looks at replicas, the last offline backup, the last scrub and the time source, the
    /// latter measured now (`ecert status`).
    pub async fn status(&self) -> Result<Status> {
        self.status_with(true).await
    }

    /// [`Instance::status`]; `measure_time: false` reports the newest time measurement instead
    /// of asking the NTP servers again (a page that `ecert serve`, which measures every
    /// `[time] poll_secs`, shows on every request).
    pub async fn status_with(&self, measure_time: bool) -> Result<Status> {
        let mut findings = Vec::new();
        let (folders, buckets) = (
            self.config.storage.replicas.len(),
            self.config.storage.s3.len(),
        );
        let replicas = folders + buckets;
        findings.push(Finding {
            what: "replicas",
            ok: replicas >= 2,
            text: format!(
                "在线副本 {replicas} 份（本地目录 {folders}，S3 存储桶 {buckets}） ({replicas} online copies: {folders} local folders, {buckets} S3 buckets){}",
                if replicas >= 2 {
                    ""
                } else {
                    "；3-2-1 至少需要两份 (3-2-1 needs at least two)"
                }
            ),
        });
        let backup = self
            .store
            .setting(LAST_BACKUP_SETTING)
            .await?
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok());
        findings.push(match backup {
            Some(b) => {
                let days = age_days(b["at_ms"].as_i64().unwrap_or(0));
                let ok = days <= BACKUP_MAX_AGE_DAYS;
                Finding {
                    what: "offline_backup",
                    ok,
                    text: format!(
                        "最近离线备份 {days} 天前：{} (last offline backup {days} days ago: {}){}",
                        b["dir"].as_str().unwrap_or("?"),
                        b["dir"].as_str().unwrap_or("?"),
                        if ok {
                            String::new()
                        } else {
                            format!("；超过 {BACKUP_MAX_AGE_DAYS} 天，请运行 ecert backup (older than {BACKUP_MAX_AGE_DAYS} days: run ecert backup)")
                        }
                    ),
                }
            }
            None => Finding {
                what: "offline_backup",
                ok: false,
                text: "从未离线备份：3-2-1 缺少离线副本，请运行 ecert backup DIR (never backed up offline: 3-2-1 lacks its offline copy; run ecert backup DIR)".into(),
            },
        });
        let scrub = self
            .store
            .setting(LAST_SCRUB_SETTING)
            .await?
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok());
        findings.push(match scrub {
            Some(s) => {
                let days = age_days(s["at_ms"].as_i64().unwrap_or(0));
                let clean = s["problems"].as_u64() == Some(0) || s["repaired_all"] == true;
                let ok = clean && days <= SCRUB_MAX_AGE_DAYS;
                Finding {
                    what: "scrub",
                    ok,
                    text: format!(
                        "最近一次校验 {days} 天前，问题 {} (last scrub {days} days ago, {} problems){}",
                        s["problems"].as_u64().unwrap_or(0),
                        s["problems"].as_u64().unwrap_or(0),
                        if ok {
                            ""
                        } else if !clean {
                            "；有未修复的副本，请运行 ecert scrub --repair (unrepaired copies: run ecert scrub --repair)"
                        } else {
                            "；请运行 ecert scrub (run ecert scrub)"
                        }
                    ),
                }
            }
            None => Finding {
                what: "scrub",
                ok: false,
                text: "从未校验存储：请运行 ecert scrub (storage never scrubbed: run ecert scrub)".into(),
            },
        });
        let time = self.time_status(measure_time).await;
        findings.push(Finding {
            what: "time",
            ok: time.sealing.is_ok(),
            text: match (&time.sealing, &time.last) {
                (Ok(()), Some(m)) => format!(
                    "时间偏差 {:+.1} ms（{}） (time offset {:+.1} ms against {})",
                    m.offset_ms, m.server, m.offset_ms, m.server
                ),
                (Ok(()), None) => {
                    "本机时钟，未经核对（演示实例） (local clock, unchecked: demo instance)".into()
                }
                (Err(why), _) => why.clone(),
            },
        });
        Ok(Status { findings })
    }
}
