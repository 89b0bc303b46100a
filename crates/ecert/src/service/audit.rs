//! Tamper evidence of the audit chain beyond the database (R-7.2.2b, R-6.5d).
//!
//! The SM3 chain in the database shows edits, removals and swaps in the middle, but someone who
//! can write to the database can recompute it. Two keys of the instance, both random and kept in
//! the database only encrypted under the master key, close that:
//! * the **audit key**: every entry carries HMAC-SM3 of its hash under it, so an entry appended
//!   or rewritten without the master key is found ([`AuditVerdict::Forged`],
//!   [`AuditVerdict::Rewritten`]);
//! * the **checkpoint key** (SM2): the chain head is signed every
//!   `[audit] checkpoint_every_entries` entries and every `checkpoint_every_secs` seconds (and on
//!   `ecert audit checkpoint`) into a small JSON file written beside every replica, so that
//!   removing entries from the end with the head rolled back is found
//!   ([`AuditVerdict::Truncated`]).
//!
//! What remains: entries appended after the newest checkpoint can be removed from the end
//! unnoticed; the interval bounds that window (docs/architecture.md, "Audit checkpoints").

use ecert_store::{
    AuditAnchor, AuditFault, AuditMacKey, AuditProblem, AuditReport, Store, hex, parse_hex,
};
use serde::{Deserialize, Serialize};
use ses::sm::Sm2KeyPair;
use zeroize::Zeroizing;

use super::error::bug;
use super::time::now_ms;
use super::{Instance, Result, internal};

/// Name of the audit key among the instance's secrets.
const MAC_SECRET: &str = "audit-mac-key";
/// Name of the checkpoint signing key among the instance's secrets.
const CHECKPOINT_SECRET: &str = "audit-checkpoint-key";
/// `format` of a checkpoint file.
pub const CHECKPOINT_FORMAT: &str = "ecert-audit-checkpoint/1";
/// Setting that remembers the newest checkpoint's sequence number (for scheduling only: the
/// verification reads the files).
const LAST_CHECKPOINT_SETTING: &str = "audit_last_checkpoint";

/// A signed statement of the audit chain's head, as written beside every replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// The instance's base URL.
    pub instance: String,
    /// Sequence number of the newest entry.
    pub seq: i64,
    /// Its hash (hex).
    pub hash: String,
    /// From which entry on every entry carries a MAC.
    pub keyed_from: i64,
    /// When it was made (unix ms).
    pub at_ms: i64,
    /// The checkpoint key's public key (SEC 1, hex).
    pub public_key: String,
    /// SM2 signature (DER, hex) over [`Checkpoint::signed_bytes`].
    pub signature: String,
}

impl Checkpoint {
    /// The bytes the signature covers: `"ecert-audit-checkpoint-v1" 0x00`, then the instance
    /// (length-prefixed UTF-8), seq (8 bytes big-endian), the hash as its 64 hex characters, then
    /// keyed_from and at_ms (8 bytes big-endian each).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = b"ecert-audit-checkpoint-v1\0".to_vec();
        b.extend_from_slice(&(self.instance.len() as u64).to_be_bytes());
        b.extend_from_slice(self.instance.as_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(self.hash.as_bytes());
        b.extend_from_slice(&self.keyed_from.to_be_bytes());
        b.extend_from_slice(&self.at_ms.to_be_bytes());
        b
    }

    /// The file name: sequence number first, so names sort by age.
    pub fn file_name(&self) -> String {
        format!("{:012}-{}.json", self.seq, self.at_ms)
    }

    /// The anchor it states.
    fn anchor(&self) -> Option<AuditAnchor> {
        let bytes = parse_hex(&self.hash)?;
        Some(AuditAnchor {
            seq: self.seq,
            hash: bytes.try_into().ok()?,
        })
    }
}

/// What `ecert audit verify` concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry is in place, authenticated where required, and the chain reaches the newest
    /// checkpoint with its hash.
    Intact,
    /// The chain ends before the newest checkpoint: entries were removed from the end and the
    /// head rolled back.
    Truncated {
        /// The newest checkpoint's sequence number.
        checkpoint_seq: i64,
        /// Where the chain ends now.
        head_seq: i64,
    },
    /// An entry the newest checkpoint covers was changed (hashes recomputed, or its MAC or
    /// the checkpoint's hash no longer match).
    Rewritten {
        /// The first changed entry.
        seq: i64,
    },
    /// An entry after the newest checkpoint was not written with the instance's audit key:
    /// appended (or rewritten) by someone without the master key.
    Forged {
        /// The first such entry.
        seq: i64,
    },
    /// Any other break of the chain (an edited entry whose hash no longer matches, a removed or
    /// inserted entry, a head that does not match).
    Broken(AuditFault),
}

impl AuditVerdict {
    /// One line, Chinese then English.
    pub fn text(&self) -> String {
        match self {
            AuditVerdict::Intact => "审计日志完整 (audit chain intact)".to_owned(),
            AuditVerdict::Truncated {
                checkpoint_seq,
                head_seq,
            } => format!(
                "审计日志被截断：签名检查点记到第 {checkpoint_seq} 条，日志只到第 {head_seq} 条 \
                 (audit chain truncated: the signed checkpoint covers entry {checkpoint_seq}, the \
                 chain ends at {head_seq})"
            ),
            AuditVerdict::Rewritten { seq } => format!(
                "审计日志被改写：第 {seq} 条与签名检查点或审计密钥不符 (audit chain rewritten: \
                 entry {seq} does not match the signed checkpoint or the audit key)"
            ),
            AuditVerdict::Forged { seq } => format!(
                "审计日志被伪造追加：第 {seq} 条不是本实例用审计密钥写入的 (forged entry \
                 appended: entry {seq} was not written with this instance's audit key)"
            ),
            AuditVerdict::Broken(fault) => {
                format!(
                    "审计日志被篡改 (audit chain broken) at seq {}: {fault}",
                    fault.seq
                )
            }
        }
    }
}

/// The result of [`Instance::check_audit`].
#[derive(Debug, Clone)]
pub struct AuditCheck {
    /// The chain walk.
    pub report: AuditReport,
    /// The newest checkpoint with a good signature, if any.
    pub checkpoint: Option<Checkpoint>,
    /// Checkpoint files found on the replicas.
    pub checkpoint_files: usize,
    /// Checkpoint files newer than the one used that are unreadable or not signed by this
    /// instance ("replica/name: why").
    pub bad_checkpoints: Vec<String>,
    /// The conclusion.
    pub verdict: AuditVerdict,
}

impl AuditCheck {
    /// True when the chain is intact and no forged checkpoint was found.
    pub fn is_ok(&self) -> bool {
        self.verdict == AuditVerdict::Intact && self.bad_checkpoints.is_empty()
    }
}

/// Loads (creating on first use) the instance's audit key and makes `store` MAC every entry it
/// appends from now on ([`Instance::open`] does this; a tool that opens an instance's store
/// itself must too, or its entries are reported as forged).
pub async fn enable_audit_key(store: &mut Store, master: &ecert_store::MasterKey) -> Result<()> {
    let secret = store
        .instance_secret(master, MAC_SECRET, || {
            let mut key = Zeroizing::new(vec![0u8; 32]);
            getrandom::fill(&mut key)
                .map_err(|e| ecert_store::StoreError::Random(e.to_string()))?;
            Ok(key)
        })
        .await?;
    let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| {
        bug(
            "审计密钥 (audit key)",
            format!("{} bytes, expected 32", secret.len()),
        )
    })?;
    store
        .enable_audit_mac(AuditMacKey::from_bytes(bytes))
        .await?;
    Ok(())
}

impl Instance {
    /// The checkpoint signing key (created on first use).
    pub(crate) async fn checkpoint_key(&self) -> Result<Sm2KeyPair> {
        let der = self
            .store
            .instance_secret(&self.master_key, CHECKPOINT_SECRET, || {
                let key = Sm2KeyPair::generate()
                    .map_err(|e| ecert_store::StoreError::Random(e.to_string()))?;
                key.to_pkcs8_der()
                    .map(Zeroizing::new)
                    .map_err(|e| ecert_store::StoreError::Random(e.to_string()))
            })
            .await?;
        Sm2KeyPair::from_pkcs8_der(&der).map_err(internal("审计检查点密钥 (checkpoint key)"))
    }

    /// Signs the chain's head now and writes the checkpoint beside every replica
    /// (`ecert audit checkpoint`, R-7.2.2b).
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint> {
        let key = self.checkpoint_key().await?;
        let head = self.store.audit_head().await?;
        let keyed_from = self.store.audit_keyed_from().await?.unwrap_or(1);
        let mut cp = Checkpoint {
            format: CHECKPOINT_FORMAT.to_owned(),
            instance: self.config.instance.base_url.clone(),
            seq: head.seq,
            hash: hex(&head.hash),
            keyed_from,
            at_ms: now_ms(),
            public_key: hex(&key.public_key_sec1()),
            signature: String::new(),
        };
        let sig = key
            .sign_der(&cp.signed_bytes())
            .map_err(internal("审计检查点签名 (signing the checkpoint)"))?;
        cp.signature = hex(&sig);
        let json = serde_json::to_vec_pretty(&cp).map_err(internal("审计检查点 (checkpoint)"))?;
        self.store
            .put_checkpoint(&cp.file_name(), json.into())
            .await?;
        self.store
            .set_setting(LAST_CHECKPOINT_SETTING, &format!("{}:{}", cp.seq, cp.at_ms))
            .await?;
        Ok(cp)
    }

    /// Writes a checkpoint when `[audit]` says one is due: `checkpoint_every_entries` entries
    /// since the last, or `checkpoint_every_secs` seconds with anything appended (or `force`
    /// with anything appended: the CLI calls this after every command that writes). Returns it
    /// when one was written.
    pub async fn checkpoint_if_due(&self, force: bool) -> Result<Option<Checkpoint>> {
        let head = self.store.audit_head().await?;
        let (last_seq, last_at) = self
            .store
            .setting(LAST_CHECKPOINT_SETTING)
            .await?
            .and_then(|v| {
                let (s, a) = v.split_once(':')?;
                Some((s.parse::<i64>().ok()?, a.parse::<i64>().ok()?))
            })
            .unwrap_or((0, 0));
        if head.seq <= last_seq {
            return Ok(None);
        }
        let cfg = &self.config.audit;
        let moved = u64::try_from(head.seq - last_seq).unwrap_or(u64::MAX);
        let age_ms = now_ms().saturating_sub(last_at);
        let due = force
            || moved >= cfg.checkpoint_every_entries.max(1)
            || age_ms
                >= i64::try_from(cfg.checkpoint_every_secs.saturating_mul(1000))
                    .unwrap_or(i64::MAX);
        if !due {
            return Ok(None);
        }
        self.audit_checkpoint().await.map(Some)
    }

    /// Checks the audit chain against the newest signed checkpoint found beside the replicas and
    /// with the audit key (`ecert audit verify`), and names what kind of tampering it finds.
    pub async fn check_audit(&self) -> Result<AuditCheck> {
        let key = self.checkpoint_key().await?;
        let ours = key.public_key_sec1();
        let mut files = self.store.list_checkpoints().await?;
        let checkpoint_files = files.len();
        // newest first (names start with the zero-padded sequence number)
        files.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut bad = Vec::new();
        let mut newest: Option<Checkpoint> = None;
        for (replica, name, _) in files {
            if let Some(n) = &newest
                && name < n.file_name()
            {
                break;
            }
            let why = match self.store.read_checkpoint(&replica, &name).await {
                Err(e) => Some(e.to_string()),
                Ok(bytes) => match serde_json::from_slice::<Checkpoint>(&bytes) {
                    Err(e) => Some(format!("不是检查点 (not a checkpoint): {e}")),
                    Ok(cp) => match check_signature(&cp, &ours) {
                        Err(why) => Some(why),
                        Ok(()) if cp.file_name() != name => Some(format!(
                            "文件名与内容不符 (file name does not match its content: {})",
                            cp.file_name()
                        )),
                        Ok(()) => {
                            if newest.as_ref().is_none_or(|n| cp.seq > n.seq) {
                                newest = Some(cp);
                            }
                            None
                        }
                    },
                },
            };
            if let Some(why) = why {
                bad.push(format!("{replica}/{name}: {why}"));
            }
        }
        let anchor = newest.as_ref().and_then(Checkpoint::anchor);
        let report = self
            .store
            .verify_audit_chain_with(anchor.as_ref(), newest.as_ref().map(|c| c.keyed_from))
            .await?;
        let verdict = match (&report.fault, &newest) {
            (None, _) => AuditVerdict::Intact,
            (Some(f), Some(cp)) if f.problem == AuditProblem::Truncated => {
                AuditVerdict::Truncated {
                    checkpoint_seq: cp.seq,
                    head_seq: report.head.seq,
                }
            }
            (Some(f), Some(cp))
                if f.problem == AuditProblem::AnchorMismatch
                    || (f.problem == AuditProblem::BadMac && f.seq <= cp.seq) =>
            {
                AuditVerdict::Rewritten { seq: f.seq }
            }
            (Some(f), _) if f.problem == AuditProblem::BadMac => {
                AuditVerdict::Forged { seq: f.seq }
            }
            (Some(f), _) => AuditVerdict::Broken(f.clone()),
        };
        Ok(AuditCheck {
            report,
            checkpoint: newest,
            checkpoint_files,
            bad_checkpoints: bad,
            verdict,
        })
    }
}

/// Checks a checkpoint's format, key and signature.
fn check_signature(cp: &Checkpoint, ours: &[u8]) -> std::result::Result<(), String> {
    if cp.format != CHECKPOINT_FORMAT {
        return Err(format!("未知格式 (unknown format {:?})", cp.format));
    }
    if parse_hex(&cp.public_key).as_deref() != Some(ours) {
        return Err("不是本实例的检查点密钥签的 (not signed with this instance's key)".into());
    }
    if cp.anchor().is_none() {
        return Err("哈希不是 32 字节十六进制 (hash is not 32 bytes of hex)".into());
    }
    let sig = parse_hex(&cp.signature).ok_or("签名不是十六进制 (signature is not hex)")?;
    ses::sm::verify_sec1(ours, &cp.signed_bytes(), &sig)
        .map_err(|e| format!("签名无效 (bad signature): {e}"))
}
