//! The service: what the institute does, the one place every interface (CLI, API,
//! pages) calls. Issuing: content → identifier, token and check code → Typst layout → OFD with
//! the Grid Matrix code and the identifier → sealed → checked by our own verifier with the
//! instance's trust roots → stored on every replica with an audit entry.
//!
//! Each service call awaits the store on the async runtime and runs its CPU part (layout,
//! sealing, verification) as a plain function on a blocking thread (`cpu`), so callers simply
//! await it: the futures are `Send`, nothing blocks a runtime thread, nothing calls
//! `Handle::block_on`.
//!
//! | module | what |
//! |---|---|
//! | `instance` | [`Instance::init`], [`Instance::open`], the trial seals of a demo instance, the trust roots ([`Instance::verify_options`]) |
//! | `issue` | issue and revise, templates, the Grid Matrix code; the CPU part of issuing (`LayoutJob`) |
//! | `status` | `ecert status`: 3-2-1 now, the last scrub, the time source (R-6.5b, R-6.5g, R-7.2.2a) |
//! | `supplement` | supplementary files (R-6.4.2) |
//! | `seal` | the seal library, sealing and the self-check (a `Sealed` file carries the verifier's proof) |
//! | [`handed_over`] | sealing an OFD the business system made (R-5.2.1) |
//! | `time` | time traceable to NTSC: NTP measurements, the refusal to seal on an untraced clock (R-7.2.2a) |
//! | `verdict` | [`Instance::verify_file`]: judging a file against our records (R-6.3b) |
//! | [`backup`] | offline backups into a folder (content-addressed, signed manifests), their check, restore (R-6.5, R-6.5b) |
//! | `audit` | the audit key (a MAC on every entry), signed checkpoints beside every replica, [`Instance::check_audit`] (R-7.2.2b) |
//! | `records` | reading records (status, scans, lookups, files, lists), the seal library, API clients, disposal, the audit chain |
//! | `maintenance` | scrub and the orphan scan (R-6.5g) |
//! | `messages` | the statements of and R-6.5h |
//! | `error` | [`Error`]: every refusal and failure, with its HTTP status and code |
//! | [`password`] | customer passwords: argon2id PHC strings, equal-cost answers for unknown accounts, new-password rules (R-5.2.3) |
//! | [`notify`] | one-time codes by e-mail (SMTP) and SMS (Alibaba Cloud, console on demo instances); WeChat, QQ, face recognition answer 未配置 (R-6.2) |
//! | [`portal`] | the customer portal: registration, logins, sessions, recovery, organisations, the list and the identity-checked encrypted download (R-5.2.3, R-6.1, R-6.2, R-7.2.3) |
//! | `actor` | [`Actor`] and [`StaffRole`]: who acts with which roles, [`Instance::authorize`] (R-5.2.2) |
//! | [`staff`] | staff accounts and roles of the console, TOTP logins, the role checks (R-5.2.2) |
//! | [`totp`] | RFC 6238 one-time passwords (the staff's second factor) |
//! | [`delivery`] | encrypted delivery: AES-256 (WinZip AE-2) ZIP packages, the key policies of R-6.1 (R-7.2.3c) |

mod actor;
mod audit;
pub mod backup;
mod customer;
pub mod delivery;
mod error;
pub mod handed_over;
mod instance;
mod issue;
mod maintenance;
mod messages;
pub mod notify;
pub mod password;
pub mod portal;
mod records;
pub mod request;
mod seal;
pub mod staff;
mod status;
mod supplement;
mod time;
pub mod totp;
mod verdict;

use std::path::PathBuf;
use std::sync::Mutex;

use ecert_store::{CertificateRecord, MasterKey, Store};

use crate::config::Config;
use crate::domain::{CheckCode, Identifier};

pub use actor::{Actor, StaffRole};
pub use audit::{AuditCheck, AuditVerdict, CHECKPOINT_FORMAT, Checkpoint, enable_audit_key};
pub use customer::BindRequest;
pub(crate) use error::internal;
pub use error::{CertTime, Error, Record, Result, error_chain};
pub use instance::NewMasterKey;
pub(crate) use issue::code_path;
pub use issue::{AlreadyIssued, Draft, content_sm3, resolve_template};
pub use messages::{
    MSG_DISPOSED, revised_message, status_messages, status_text, supplement_message,
};
pub use records::{Scanned, StoredFile, code_text};

pub use seal::{
    KeyMaterial, SealRequest, cert_der, check_cert_current, load_certified_key, seal_kind_code,
    seal_kind_for,
};
pub use status::{BACKUP_MAX_AGE_DAYS, Finding, SCRUB_MAX_AGE_DAYS, Status};
pub use supplement::Supplemented;
pub use time::{Measurement, TimeProblem, TimeProof, TimeStatus};
pub use verdict::{Claimed, MSG_REPACKAGED, Mismatch, Outcome, Verdict};

/// The default seal-picture font (bold sans of the shipped fonts).
pub const SEAL_FONT: &[u8] = include_bytes!("../../../../assets/fonts/ECertSansSC-Bold.ttf");

/// Where the trial CA of a demo instance keeps its public files.
pub const TRIAL_CA_DIR: &str = "trial-ca";

/// How many certificates to issue at the same time by default: two per CPU core. Each spends
/// part of its time waiting for the database, the replicas' fsyncs and typst's page threads;
/// with two per core the cores stay busy (on 2 cores: 2 at once ≈ 51/s, 4 ≈ 59/s, 6 or 8 no
/// more and more memory; docs/benchmarks.md).
pub fn default_issue_workers() -> usize {
    2 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// An opened instance: configuration, store, master key, fonts.
pub struct Instance {
    /// The instance folder (holds `ecert.toml`).
    pub dir: PathBuf,
    /// The configuration.
    pub config: Config,
    /// Records, blobs, audit log. Interfaces go through the service's functions; the web's
    /// own mechanics (request signatures, idempotency keys, the exchange log) use it directly.
    pub(crate) store: Store,
    master_key: MasterKey,
    /// The customer portal's index and master keys.
    customer_keys: ecert_store::CustomerKeys,
    pub(crate) fonts: std::sync::Arc<ecert_layout::Fonts>,
    /// The verifier's settings (trust roots) with the state of the root files they were read
    /// from.
    verify_options: Mutex<
        Option<(
            Vec<instance::RootStamp>,
            std::sync::Arc<ses::verify::VerifyOptions>,
        )>,
    >,
    /// Seals checked once with their decrypted signers, by seal id and last change.
    sealers: Mutex<std::collections::HashMap<String, std::sync::Arc<seal::Sealer>>>,
    /// The NTP measurements (R-7.2.2a).
    clock: time::Clock,
    /// Audit entries waiting to share a commit ([`Instance::audit`]).
    audit_group: std::sync::Arc<records::AuditGroup>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A certificate just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The stored record.
    pub record: CertificateRecord,
    /// The sealed OFD file.
    pub file: Vec<u8>,
    /// The identifier.
    pub identifier: Identifier,
    /// The verification URL in the 2D code.
    pub verify_url: String,
    /// The check code printed on page 1.
    pub check_code: CheckCode,
    /// Page count.
    pub pages: usize,
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(internal("系统随机数 (random source)"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Instance {
    /// The master key (R-7.2.3d): API client secrets are decrypted with it when a request's
    /// signature is checked.
    pub(crate) fn master_key(&self) -> &MasterKey {
        &self.master_key
    }
}

/// Runs the CPU part of a service call on a blocking thread, so that the runtime's own threads
/// stay free for the async parts (the store, other requests). The caller awaits it on the
/// runtime; nothing here blocks on a future.
pub(crate) async fn cpu<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(internal("签发线程 (the issuing thread)"))?
}

/// Today's date in Beijing (UTC+8, how Chinese institutes date certificates), `YYYY-MM-DD`.
pub(crate) fn today_beijing() -> String {
    crate::domain::dates::format_date(crate::domain::dates::today_beijing())
}

pub(crate) fn add_years(date: &str, years: u32) -> String {
    match crate::domain::content::parse_date(date) {
        Some((y, m, d)) => {
            let y = y + years as i32;
            let d = if m == 2 && d == 29 { 28 } else { d };
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => date.to_owned(),
    }
}

/// Removes `null` members of objects, recursively.
fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(add_years("2024-02-29", 6), "2030-02-28");
        assert_eq!(add_years("2024-03-08", 6), "2030-03-08");
        assert_eq!(today_beijing().len(), 10);
    }
}
