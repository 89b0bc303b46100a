//! Judging a file against this instance's records (R-6.3b): the full signature report with the
//! instance's trust roots, the identifier and number the file claims (our custom tag, else
//! `DocInfo`), its SM3 compared with every certificate and supplement we stored, the record
//! found, and the statements of and R-6.5h — ending in one [`Outcome`].
//! `POST /verify` shows it; `ecert verify FILE --records` prints it with the exit code of
//! [`Outcome::exit_code`].
//!
//! | outcome | meaning | exit |
//! |---|---|---|
//! | `genuine_current` | byte-identical to a certificate we issued, which is current | 0 |
//! | `genuine_supplemented` | identical to a current certificate that has supplements (R-6.4.2) | 0 |
//! | `genuine_supplement` | identical to a supplementary file we issued (R-6.4.2) | 0 |
//! | `altered` | claims to be one of ours (identifier or number) but differs from our file | 1 |
//! | `not_issued_by_us` | no certificate of ours matches | 2 |
//! | (unreadable) | not a readable OFD file ([`Error::NotOfd`]) | 3 |
//! | `genuine_void` | identical to a certificate we issued that was revised: void (R-6.4.1) | 4 |
//! | `disposed` | ours, past retention: no verification offered (R-6.5h) | 5 |
//!
//! A file whose parts are all byte-identical to one of ours but whose ZIP container differs
//! (re-packaged) gets the verdict of our file, with [`Verdict::repackaged`] set and
//! [`MSG_REPACKAGED`] saying why its SM3 differs; one whose parts differ names them
//! ([`Mismatch::Parts`]).

use bytes::Bytes;
use ecert_store::{CertificateRecord, CertificateStatus, SupplementRecord};
use serde::Serialize;

use super::messages::{MSG_DISPOSED, status_messages, status_text, supplement_message};
use super::{Error, Instance, Result};
use crate::domain::Identifier;
use crate::domain::tag::{Tag, is_ours};

/// The verdict on an uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Byte-identical to a certificate we issued, which is current.
    GenuineCurrent,
    /// Identical to a current certificate that has supplements.
    GenuineSupplemented,
    /// Identical to a certificate we issued that was revised: void.
    GenuineVoid,
    /// Identical to a supplementary file we issued.
    GenuineSupplement,
    /// Ours, past retention: no verification offered (R-6.5h).
    Disposed,
    /// Claims to be one of ours (identifier or number) but differs from our file.
    Altered,
    /// No certificate of ours matches.
    NotIssuedByUs,
}

impl Outcome {
    /// The name as serialised (`genuine_current`, …).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::GenuineCurrent => "genuine_current",
            Outcome::GenuineSupplemented => "genuine_supplemented",
            Outcome::GenuineVoid => "genuine_void",
            Outcome::GenuineSupplement => "genuine_supplement",
            Outcome::Disposed => "disposed",
            Outcome::Altered => "altered",
            Outcome::NotIssuedByUs => "not_issued_by_us",
        }
    }

    /// What it says, in Chinese (`english`: in English; R-6.5h's statement stays Chinese).
    pub fn text(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Outcome::GenuineCurrent => (
                "真实：与本机构签发的证书完全一致，证书现行有效",
                "Genuine: identical to the certificate we issued, which is current",
            ),
            Outcome::GenuineSupplemented => (
                "真实：与本机构签发的证书完全一致，证书现行有效，有补充文件",
                "Genuine and current; supplementary files exist",
            ),
            Outcome::GenuineVoid => (
                "真实，但已作废：该证书已被修改后的证书替代",
                "Genuine but void: replaced by a revised certificate",
            ),
            Outcome::GenuineSupplement => (
                "真实：与本机构签发的补充文件完全一致",
                "Genuine: identical to a supplementary file we issued",
            ),
            Outcome::Disposed => (MSG_DISPOSED, MSG_DISPOSED),
            Outcome::Altered => (
                "已被篡改：文件声称是本机构的证书，但与本机构的记录不一致",
                "Altered: the file claims to be our certificate but differs from our record",
            ),
            Outcome::NotIssuedByUs => (
                "非本机构签发：本机构没有与此文件对应的证书",
                "Not issued by us: we hold no certificate matching this file",
            ),
        };
        if english { en } else { zh }
    }

    /// True for the outcomes that say the file is ours and current.
    pub fn is_genuine_and_current(self) -> bool {
        matches!(
            self,
            Outcome::GenuineCurrent | Outcome::GenuineSupplemented | Outcome::GenuineSupplement
        )
    }

    /// The exit code of `ecert verify FILE --records`: 0 genuine and current (or a genuine
    /// supplement), 1 altered, 2 not issued by us, 4 genuine but void, 5 disposed (3 is an
    /// unreadable file, as for `ecert verify`).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::GenuineCurrent | Outcome::GenuineSupplemented | Outcome::GenuineSupplement => {
                0
            }
            Outcome::Altered => 1,
            Outcome::NotIssuedByUs => 2,
            Outcome::GenuineVoid => 4,
            Outcome::Disposed => 5,
        }
    }
}

/// What the file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// The identifier: our custom tag's, else `DocInfo`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// The certificate number: the tag's, else `DocInfo`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Why our custom tag in the file could not be read (the file is then judged by its
    /// `DocInfo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_error: Option<String>,
}

/// Where the file and our records disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The file's SM3 is not the one we stored.
    FileDigest {
        /// The file's SM3, hex.
        file: String,
        /// Our record's, hex.
        record: String,
    },
    /// The identifier in the file is not our record's.
    Identifier {
        /// In the file.
        file: String,
        /// In our record.
        record: String,
    },
    /// The number in the file is not our record's.
    Number {
        /// In the file.
        file: String,
        /// In our record.
        record: String,
    },
    /// The signatures fail.
    SignatureFailed {
        /// The failed checks: (signature, check).
        checks: Vec<(String, ses::verify::CheckId)>,
    },
    /// The identifier names our institute, but we have no such certificate.
    ClaimsOurInstitute,
    /// Our custom tag in the file cannot be read.
    TagUnreadable {
        /// Why.
        reason: String,
    },
    /// These parts of the package differ from our file's (or are only in one of them).
    Parts {
        /// Part names.
        parts: Vec<String>,
    },
}

/// The statement added when a file is [`Verdict::repackaged`].
pub const MSG_REPACKAGED: &str = "文件经过重新打包：其中每个部件都与本机构签发的文件逐字节一致，仅 ZIP 容器不同，因此文件的 SM3 与记录不同 (re-packaged: every part is byte-identical to the file we issued; only the ZIP container differs, which is why the file's SM3 differs from our record)";

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::FileDigest { file, record } => write!(
                f,
                "文件 SM3 与记录不一致 (file SM3 differs from our record): 文件 {file}, 记录 {record}"
            ),
            Mismatch::Identifier { file, record } => write!(
                f,
                "电子证书标识不一致 (identifier differs): 文件 {file}, 记录 {record}"
            ),
            Mismatch::Number { file, record } => write!(
                f,
                "证书编号不一致 (number differs): 文件 {file}, 记录 {record}"
            ),
            Mismatch::SignatureFailed { checks } => write!(
                f,
                "签章验证失败 (signature check failed): {}",
                checks
                    .iter()
                    .map(|(sig, check)| format!("签名 (signature) {sig}: {}", check.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Mismatch::ClaimsOurInstitute => f.write_str(
                "文件的标识声称由本机构签发，但本机构没有此证书 (the identifier names our institute, but we have no such certificate)",
            ),
            Mismatch::TagUnreadable { reason } => {
                write!(f, "自定义标引无效 (invalid custom tag): {reason}")
            }
            Mismatch::Parts { parts } => write!(
                f,
                "与本机构文件不同的部件 (parts that differ from our file): {}",
                parts.join(", ")
            ),
        }
    }
}

/// The judgement of one file.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The verdict.
    pub outcome: Outcome,
    /// The file is not byte-identical to ours, but every part in it is (same names, same
    /// bytes): only the ZIP container differs (compression, order, times), so the sealed
    /// content is ours and the verdict is that of our file.
    pub repackaged: bool,
    /// The file's SM3.
    pub file_sm3: [u8; 32],
    /// The file's size in bytes.
    pub file_size: usize,
    /// What the file says about itself.
    pub claimed: Claimed,
    /// Our certificate the file was compared with (for a supplement: the one it supplements).
    pub record: Option<CertificateRecord>,
    /// Our supplement the file is identical to.
    pub supplement: Option<SupplementRecord>,
    /// Where the file and our record disagree.
    pub mismatches: Vec<Mismatch>,
    /// The exact statements of R-6.4.1 / R-6.4.2 / R-6.5h.
    pub messages: Vec<String>,
    /// The full signature report (`ses::verify`, with the instance's trust roots).
    pub report: ses::verify::Report,
}

impl Verdict {
    /// The judgement as JSON, as `POST /verify` answers it and `ecert verify --records --json`
    /// prints it: `verdict`, `verdict_text`, `file_sm3`, `file_size`, `claimed`, `record`
    /// (with its `status_text`), `mismatches`, `messages` and the whole signature `report`;
    /// texts in Chinese (`english`: in English).
    pub fn to_json(&self, english: bool) -> serde_json::Value {
        let record = self.record.as_ref().map(|r| {
            serde_json::json!({
                "number": r.number,
                "identifier": r.identifier,
                "status": r.status.as_str(),
                "status_text": status_text(r.status, english),
                "issue_date": r.issue_date,
                "file_sm3": ecert_store::hex(&r.file_sm3),
                "file_size": r.file_size,
            })
        });
        let mut v = serde_json::json!({
            "verdict": self.outcome,
            "verdict_text": self.outcome.text(english),
            "repackaged": self.repackaged,
            "file_sm3": ecert_store::hex(&self.file_sm3),
            "file_size": self.file_size,
            "claimed": self.claimed,
            "mismatches": self.mismatches.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "messages": self.messages,
            "report": self.report,
        });
        if let (Some(r), Some(o)) = (record, v.as_object_mut()) {
            o.insert("record".into(), r);
        }
        v
    }
}

/// The identifier and number the file carries: our custom tag first, else
/// `DocInfo`. An error when the file is not a readable OFD document.
fn claimed_ids(bytes: &[u8]) -> Result<Claimed> {
    let file = ofd::OfdFile::read(bytes).map_err(|e| Error::NotOfd {
        reason: e.to_string(),
    })?;
    let mut c = Claimed::default();
    for body in &file.ofd.docs {
        for tag in body.document.custom_tags.iter().filter(|t| is_ours(t)) {
            match Tag::parse(&tag.data) {
                Ok(t) => {
                    c.identifier
                        .get_or_insert_with(|| t.identifier().to_string());
                    c.number
                        .get_or_insert_with(|| t.certificate_number().to_owned());
                }
                Err(e) => {
                    c.tag_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        for (k, v) in &body.info.custom_data {
            if k == "电子证书标识" && c.identifier.is_none() {
                c.identifier = Some(v.clone());
            }
            if k == "证书编号" && c.number.is_none() {
                c.number = Some(v.clone());
            }
        }
    }
    Ok(c)
}

/// The parts whose bytes differ between two OFD packages, with those only in one of them
/// (sorted); `None` when either is not a readable package.
fn differing_parts(a: &[u8], b: &[u8]) -> Option<Vec<String>> {
    let limits = ofd::Limits::default();
    let a = ofd::Package::from_zip(a, &limits).ok()?;
    let b = ofd::Package::from_zip(b, &limits).ok()?;
    let mut out: Vec<String> = a
        .entries()
        .filter(|(name, bytes)| b.get(name) != Some(*bytes))
        .map(|(name, _)| name.to_owned())
        .chain(
            b.paths()
                .filter(|name| !a.contains(name))
                .map(str::to_owned),
        )
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// `work` holding a turn of `gate` while it runs. With a gate (`POST /verify`) it runs on the
/// calling runtime worker itself: handing a verification (≈ 3 ms) to a blocking thread and its
/// answer back cost more than the handoff saves — on two cores the server kept ≈ 12 % of them
/// idle between the threads and spent ≈ 0.5 ms more CPU per upload (docs/benchmarks.md). The
/// gate has no more turns than the runtime has workers, so at most that many workers compute at
/// once; under a saturating load of uploads, other requests wait for a worker to finish its
/// verification (docs/architecture.md). Without a gate, on a blocking thread ([`super::cpu`]).
async fn gated_cpu<T, F>(gate: Option<&tokio::sync::Semaphore>, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match gate {
        Some(g) => {
            let _turn = g.acquire().await.map_err(super::error::internal(
                "验证的计算名额 (the verification's CPU turn)",
            ))?;
            work()
        }
        None => super::cpu(work).await,
    }
}

impl Instance {
    /// Judges `file` against this instance's records (see the module documentation). The file
    /// is never stored. [`Error::NotOfd`] when it is not a readable OFD file (ZIP bombs and
    /// broken ZIPs included, by the reader's limits).
    pub async fn verify_file(&self, file: Bytes) -> Result<Verdict> {
        self.verify_file_gated(file, None).await
    }

    /// [`Instance::verify_file`] with each of its CPU-heavy stages (the signature report with
    /// the file's SM3; for a file not byte-identical to one of ours, reading what it claims and
    /// comparing its parts with ours) taking a turn of `gate` while it computes, on the calling
    /// runtime worker ([`gated_cpu`]), and only then: the record lookups between them wait for
    /// the database without holding a turn, so that the turns bound the work on the CPUs, not
    /// the time spent waiting for SQLite (whose audit commits `POST /verify` shares).
    pub async fn verify_file_gated(
        &self,
        file: Bytes,
        gate: Option<&tokio::sync::Semaphore>,
    ) -> Result<Verdict> {
        let options = self.verify_options()?;
        let bytes = file.clone();
        // The CPU part: the whole signature report and the file's SM3.
        let (report, digest) = gated_cpu(gate, move || {
            let report = ses::verify::verify_bytes(&bytes, &options)
                .map_err(|e| Error::NotOfd { reason: e.0 })?;
            Ok((report, ecert_store::sm3(&bytes)))
        })
        .await?;
        let same_certificate = self.store.certificate_by_file_sm3(&digest).await?;
        let same_supplement = match &same_certificate {
            Some(_) => None,
            None => self.store.supplement_by_file_sm3(&digest).await?,
        };
        // A file byte-identical to one we issued says what our record says (we wrote it); any
        // other file is read to find the identifier and number it claims.
        let claimed = match (&same_certificate, &same_supplement) {
            (Some(c), _) => Claimed {
                identifier: Some(c.identifier.clone()),
                number: Some(c.number.clone()),
                tag_error: None,
            },
            (None, Some(s)) => Claimed {
                identifier: None,
                number: Some(s.number.clone()),
                tag_error: None,
            },
            (None, None) => {
                let bytes = file.clone();
                gated_cpu(gate, move || claimed_ids(&bytes)).await?
            }
        };
        let mut verdict = Verdict {
            outcome: Outcome::NotIssuedByUs,
            repackaged: false,
            file_sm3: digest,
            file_size: file.len(),
            claimed,
            record: None,
            supplement: None,
            mismatches: Vec::new(),
            messages: Vec::new(),
            report,
        };
        if let Some(c) = same_certificate {
            self.judge_ours(&mut verdict, c).await?;
        } else if let Some(s) = same_supplement {
            let parent = self.store.certificate(&s.certificate_id).await?;
            let disposed = parent
                .as_ref()
                .is_some_and(|p| p.status == CertificateStatus::Disposed);
            if let Some(p) = &parent {
                verdict.messages.push(if disposed {
                    MSG_DISPOSED.to_owned()
                } else {
                    supplement_message(&p.number)
                });
            }
            verdict.outcome = if disposed {
                Outcome::Disposed
            } else {
                Outcome::GenuineSupplement
            };
            verdict.record = parent;
            verdict.supplement = Some(s);
        } else {
            self.judge_claim(&mut verdict, &file, gate).await?;
        }
        Ok(verdict)
    }

    /// The file's content is our certificate `c` (byte-identical, or re-packaged): the verdict
    /// is `c`'s status, with the statements requires.
    async fn judge_ours(&self, v: &mut Verdict, c: CertificateRecord) -> Result<()> {
        let view = self.store.status_view(c.clone()).await?;
        v.messages = status_messages(&view);
        v.outcome = match c.status {
            CertificateStatus::Valid => Outcome::GenuineCurrent,
            CertificateStatus::Supplemented => Outcome::GenuineSupplemented,
            CertificateStatus::Revised => Outcome::GenuineVoid,
            CertificateStatus::Disposed => Outcome::Disposed,
        };
        v.record = Some(c);
        Ok(())
    }

    /// A file not byte-identical to anything we issued: does it claim to be ours?
    async fn judge_claim(
        &self,
        v: &mut Verdict,
        file: &Bytes,
        gate: Option<&tokio::sync::Semaphore>,
    ) -> Result<()> {
        if let Some(reason) = &v.claimed.tag_error {
            v.mismatches.push(Mismatch::TagUnreadable {
                reason: reason.clone(),
            });
        }
        let mut ours = None;
        if let Some(id) = &v.claimed.identifier {
            ours = self.store.certificate_by_identifier(id).await?;
        }
        if ours.is_none()
            && let Some(n) = &v.claimed.number
        {
            ours = self.store.certificate_by_number(n).await?;
        }
        let Some(c) = ours else {
            v.outcome = Outcome::NotIssuedByUs;
            if let Some(id) = &v.claimed.identifier
                && let Ok(parsed) = id.parse::<Identifier>()
                && parsed.issuer_code() == self.config.institute.org_code
            {
                v.mismatches.push(Mismatch::ClaimsOurInstitute);
            }
            return Ok(());
        };
        let disposed = c.status == CertificateStatus::Disposed;
        // The same parts in another ZIP container: the content the seal covers is ours.
        let mut differing = None;
        if !disposed && v.claimed.tag_error.is_none() {
            let ours = self.store.certificate_file(&c.id).await?.bytes;
            let theirs = file.clone();
            let parts = gated_cpu(gate, move || Ok(differing_parts(&theirs, &ours))).await?;
            if parts.as_ref().is_some_and(Vec::is_empty) {
                v.repackaged = true;
                self.judge_ours(v, c).await?;
                v.messages.insert(0, MSG_REPACKAGED.to_owned());
                return Ok(());
            }
            differing = parts;
        }
        v.outcome = if disposed {
            Outcome::Disposed
        } else {
            Outcome::Altered
        };
        if let Some(parts) = differing {
            v.mismatches.push(Mismatch::Parts { parts });
        }
        v.mismatches.push(Mismatch::FileDigest {
            file: ecert_store::hex(&v.file_sm3),
            record: ecert_store::hex(&c.file_sm3),
        });
        if let Some(id) = &v.claimed.identifier
            && id != &c.identifier
        {
            v.mismatches.push(Mismatch::Identifier {
                file: id.clone(),
                record: c.identifier.clone(),
            });
        }
        if let Some(n) = &v.claimed.number
            && n != &c.number
        {
            v.mismatches.push(Mismatch::Number {
                file: n.clone(),
                record: c.number.clone(),
            });
        }
        if v.report.indication() == ses::verify::Indication::Failed {
            v.mismatches.push(Mismatch::SignatureFailed {
                checks: v.report.failed_checks(),
            });
        }
        if disposed {
            v.messages.push(MSG_DISPOSED.to_owned());
        }
        v.record = Some(c);
        Ok(())
    }
}
