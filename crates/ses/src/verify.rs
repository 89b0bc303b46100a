//! Verifying a sealed OFD file into a report (R-7.1b, R-6.3a), shaped after EU DSS (ETSI EN 319
//! 102-1): an overall indication `PASSED` / `FAILED` / `INDETERMINATE`, a sub-indication, and
//! every check with its result and reason.
//!
//! Checks, per signature record (numbers and names are stable; see [`CheckId`]):
//! 1. `REFERENCE_HASHES` — every Reference's CheckValue equals SM3 of the file's bytes;
//! 2. `DATA_HASH` — TBS_Sign.dataHash = SM3(Signature.xml bytes);
//! 3. `SIGNER_SIGNATURE` — the signer's SM2 signature over TBS_Sign;
//! 4. `SEAL_MAKER_SIGNATURE` — the seal maker's SM2 signature over the seal;
//! 5. `SEAL_FILE_MATCH` — Seal.esl equals the seal inside the signature;
//! 6. `SIGNER_IN_SEAL` — the signer's certificate is in the seal's certificate list;
//! 7. `SEAL_VALIDITY` — the seal was within its validity period at signing time;
//! 8. `CERTIFICATES` — signer and maker certificates valid at signing time and chained to a
//!    configured root, not revoked by a configured CRL (INDETERMINATE without roots);
//! 9. `SIGNATURE_METHOD` — SignatureMethod agrees with the algorithm in the SES structure;
//! 10. `PROPERTY_INFO` — propertyInfo names this record's Signature.xml;
//!
//! and for the whole package:
//! 11. `COVERAGE` — every file a reader loads is covered by a signature, and in whole-protected
//!     mode nothing else is in the package;
//! 12. `ZIP_AMBIGUITY` — no duplicate names, case variants, `..`, absolute paths or
//!     local/central header disagreement, and no reference that resolves only up to case.
//!
//! Defends against (each with a test in `tests/tampering.rs`): any byte changed in any file,
//! unsigned files added and referenced, signature records removed or added, seals or
//! SignedValue swapped in from another file, hashes recomputed without re-signing, Signature.xml
//! edited, ZIP tricks; expired or foreign seals and certificates.

use crate::error::Error;
use crate::pki::{self, Cert, ChainStatus, TrustStore, UnixTime};
use crate::seal::{self, SignatureView};
use crate::sm;
use crate::xmlsig::{self, SignatureXml};
use ofd::package::Package;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Overall or per-signature verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    /// Every check passed.
    Passed,
    /// A check failed.
    Failed,
    /// Nothing failed, but something could not be decided (e.g. no trust root configured).
    Indeterminate,
}

/// Why (ETSI EN 319 102-1 sub-indications, plus `NO_SIGNATURE_FOUND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    /// Structure cannot be read.
    FormatFailure,
    /// A hash does not match.
    HashFailure,
    /// A signature does not verify.
    SigCryptoFailure,
    /// A certificate is revoked.
    Revoked,
    /// Outside a validity period.
    OutOfBounds,
    /// No path to a trust root.
    NoCertificateChainFound,
    /// A path exists but violates constraints.
    ChainConstraintsFailure,
    /// Signature constraints (binding, method, scope) violated.
    SigConstraintsFailure,
    /// An algorithm is not acceptable.
    CryptoConstraintsFailure,
    /// A signed file is missing.
    SignedDataNotFound,
    /// Files outside any signature.
    NotCovered,
    /// The ZIP container is ambiguous.
    ContainerAmbiguity,
    /// No signature in the document.
    NoSignatureFound,
    /// A signature kind this verifier does not implement.
    Unsupported,
}

impl SubIndication {
    /// The name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::OutOfBounds => "OUT_OF_BOUNDS",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::NotCovered => "NOT_COVERED",
            SubIndication::ContainerAmbiguity => "CONTAINER_AMBIGUITY",
            SubIndication::NoSignatureFound => "NO_SIGNATURE_FOUND",
            SubIndication::Unsupported => "UNSUPPORTED",
        }
    }
}

/// Result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Passed.
    Passed,
    /// Failed.
    Failed,
    /// Undecided.
    Indeterminate,
    /// Does not apply (the reason says why).
    NotApplicable,
}

/// The checks, numbered as in issue 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckId {
    /// 1
    ReferenceHashes,
    /// 2
    DataHash,
    /// 3
    SignerSignature,
    /// 4
    SealMakerSignature,
    /// 5
    SealFileMatch,
    /// 6
    SignerInSeal,
    /// 7
    SealValidity,
    /// 8
    Certificates,
    /// 9
    SignatureMethod,
    /// 10
    PropertyInfo,
    /// 11
    Coverage,
    /// 12
    ZipAmbiguity,
}

impl CheckId {
    /// The stable name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::ReferenceHashes => "REFERENCE_HASHES",
            CheckId::DataHash => "DATA_HASH",
            CheckId::SignerSignature => "SIGNER_SIGNATURE",
            CheckId::SealMakerSignature => "SEAL_MAKER_SIGNATURE",
            CheckId::SealFileMatch => "SEAL_FILE_MATCH",
            CheckId::SignerInSeal => "SIGNER_IN_SEAL",
            CheckId::SealValidity => "SEAL_VALIDITY",
            CheckId::Certificates => "CERTIFICATES",
            CheckId::SignatureMethod => "SIGNATURE_METHOD",
            CheckId::PropertyInfo => "PROPERTY_INFO",
            CheckId::Coverage => "COVERAGE",
            CheckId::ZipAmbiguity => "ZIP_AMBIGUITY",
        }
    }

    /// The check's number (1–12).
    pub fn number(self) -> u8 {
        self as u8 + 1
    }
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Number 1–12.
    pub number: u8,
    /// Stable name.
    pub id: CheckId,
    /// Result.
    pub status: Status,
    /// Sub-indication when not passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// Human-readable reason.
    pub reason: String,
}

impl Check {
    fn new(
        id: CheckId,
        status: Status,
        sub: Option<SubIndication>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            number: id.number(),
            id,
            status,
            sub_indication: sub,
            reason: reason.into(),
        }
    }
    fn pass(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Passed, None, reason)
    }
    fn fail(id: CheckId, sub: SubIndication, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Failed, Some(sub), reason)
    }
    fn undecided(id: CheckId, sub: SubIndication, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Indeterminate, Some(sub), reason)
    }
    fn na(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Status::NotApplicable, None, reason)
    }
}

/// The report about one signature record.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// Document index (DocBody).
    pub doc: usize,
    /// `Signature/@ID`.
    pub id: String,
    /// `Signature/@Type`.
    pub sig_type: String,
    /// Package path of Signature.xml.
    pub path: String,
    /// SES version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<seal::SesVersion>,
    /// Claimed signing time (TBS_Sign.timeInfo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<String>,
    /// Seal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_name: Option<String>,
    /// Seal esID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_id: Option<String>,
    /// Signer certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<pki::CertSummary>,
    /// Seal maker certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maker: Option<pki::CertSummary>,
    /// Whether this signature covers Signatures.xml.
    pub whole_protected: bool,
    /// Verdict for this signature.
    pub indication: Indication,
    /// Sub-indication of the first failed (or undecided) check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// All checks 1–10.
    pub checks: Vec<Check>,
}

/// The verification report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Validation policy name and version.
    pub policy: &'static str,
    /// When the validation ran (UTC).
    pub validation_time: String,
    /// Overall verdict.
    pub indication: Indication,
    /// Sub-indication of the overall verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// Number of signatures.
    pub signatures_count: usize,
    /// Number of signatures that PASSED.
    pub valid_signatures_count: usize,
    /// One report per signature record.
    pub signatures: Vec<SignatureReport>,
    /// Checks 11 and 12.
    pub package_checks: Vec<Check>,
}

/// The file could not be read at all (CLI exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("the file could not be read: {0}")]
pub struct Unreadable(pub String);

/// Policy name written into reports.
pub const POLICY: &str = "ecert-ses-strict/1";

/// Verification settings.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Roots, intermediates, CRLs.
    pub trust: TrustStore,
    /// Validation time (now when `None`).
    pub validation_time: Option<UnixTime>,
}

/// What a sealer computed itself, handed to the verification of the file it has just written
/// ([`crate::sign::SealOutcome::known`], [`verify_bytes_known`]) so that this self-check does not
/// compute it a second time: the SM3 of every part the new signature references (kept with the
/// part's bytes as they were hashed) and the seals whose maker signature was verified when the
/// seal was loaded ([`crate::sign::CheckedSeal`]).
///
/// A value is used only for bytes equal, byte for byte, to those it was computed from, so the
/// report is the one a full verification gives: a part changed, swapped or damaged after sealing
/// (or by the ZIP round trip) is hashed again and fails as it would without this. Only the sealer
/// fills it in; callers cannot add claims of their own.
#[derive(Clone, Default)]
pub struct Known {
    digests: BTreeMap<String, (Vec<u8>, [u8; 32])>,
    seals: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Known")
            .field("digests", &self.digests.len())
            .field("seals", &self.seals.len())
            .finish()
    }
}

impl Known {
    /// SM3 of `bytes` (the part at `path`), computed now; remembered with the bytes.
    pub(crate) fn hash(&mut self, path: &str, bytes: &[u8]) -> [u8; 32] {
        let d = sm::sm3(bytes);
        self.digests.insert(path.to_owned(), (bytes.to_vec(), d));
        d
    }

    /// Records that the maker signature of the seal `der` verified.
    pub(crate) fn seal_verified(&mut self, der: &[u8]) {
        self.seals.push(der.to_vec());
    }

    /// SM3 of `data` read at `path`: the remembered value when the bytes are the same.
    fn sm3(&self, path: &str, data: &[u8]) -> [u8; 32] {
        match self.digests.get(path) {
            Some((bytes, d)) if bytes.as_slice() == data => *d,
            _ => sm::sm3(data),
        }
    }

    fn has_verified_seal(&self, der: &[u8]) -> bool {
        self.seals.iter().any(|s| s.as_slice() == der)
    }

    /// How many part digests are remembered (for tests and diagnostics).
    pub fn digest_count(&self) -> usize {
        self.digests.len()
    }
}

/// Exit code of `ecert verify` when the file cannot be read at all ([`Unreadable`]).
pub const EXIT_UNREADABLE: i32 = 3;

impl VerifyOptions {
    /// Options trusting every certificate in the given PEM texts (`--trust ROOTS.pem`, repeatable).
    pub fn with_roots_pem<S: AsRef<str>>(pems: &[S]) -> crate::Result<Self> {
        let mut trust = TrustStore::new();
        for p in pems {
            trust.add_roots_pem(p.as_ref())?;
        }
        Ok(Self {
            trust,
            validation_time: None,
        })
    }
}

impl Report {
    /// Exit code for `ecert verify`: 0 PASSED, 1 FAILED, 2 INDETERMINATE
    /// (3, [`EXIT_UNREADABLE`], is for [`Unreadable`]).
    pub fn exit_code(&self) -> i32 {
        match self.indication {
            Indication::Passed => 0,
            Indication::Failed => 1,
            Indication::Indeterminate => 2,
        }
    }

    /// The failed checks (signature id or "package", check).
    pub fn failed_checks(&self) -> Vec<(String, CheckId)> {
        let mut v = Vec::new();
        for s in &self.signatures {
            for c in &s.checks {
                if c.status == Status::Failed {
                    v.push((s.id.clone(), c.id));
                }
            }
        }
        for c in &self.package_checks {
            if c.status == Status::Failed {
                v.push(("package".into(), c.id));
            }
        }
        v
    }

    /// A plain-text rendering (Chinese first, English names).
    pub fn to_text(&self) -> String {
        let word = |i: Indication| match i {
            Indication::Passed => "通过 PASSED",
            Indication::Failed => "失败 FAILED",
            Indication::Indeterminate => "无法确定 INDETERMINATE",
        };
        let st = |s: Status| match s {
            Status::Passed => "PASSED",
            Status::Failed => "FAILED",
            Status::Indeterminate => "INDETERMINATE",
            Status::NotApplicable => "N/A",
        };
        let mut o = format!("验证结果 Result: {}", word(self.indication));
        if let Some(s) = self.sub_indication {
            o.push_str(&format!(" ({})", s.name()));
        }
        o.push_str(&format!(
            "\n策略 Policy: {}  时间 Time: {}\n签章 Signatures: {} ({} valid)\n",
            self.policy, self.validation_time, self.signatures_count, self.valid_signatures_count
        ));
        for s in &self.signatures {
            o.push_str(&format!(
                "\n签章 Signature {} ({}) — {}\n",
                s.id,
                s.path,
                word(s.indication)
            ));
            if let Some(n) = &s.seal_name {
                o.push_str(&format!("  印章 Seal: {n}\n"));
            }
            if let Some(c) = &s.signer {
                o.push_str(&format!("  签章人 Signer: {}\n", c.subject));
            }
            if let Some(t) = &s.signing_time {
                o.push_str(&format!("  签章时间 Signing time: {t}\n"));
            }
            for c in &s.checks {
                o.push_str(&format!(
                    "  [{:>2}] {:<22} {:<13} {}\n",
                    c.number,
                    c.id.name(),
                    st(c.status),
                    c.reason
                ));
            }
        }
        o.push_str("\n文件 Package:\n");
        for c in &self.package_checks {
            o.push_str(&format!(
                "  [{:>2}] {:<22} {:<13} {}\n",
                c.number,
                c.id.name(),
                st(c.status),
                c.reason
            ));
        }
        o
    }
}

fn is_sm3_name(m: &str) -> bool {
    let m = m.trim();
    m.eq_ignore_ascii_case("SM3") || m == "1.2.156.10197.1.401"
}

fn is_sm3_with_sm2_name(m: &str) -> bool {
    let m = m.trim();
    m == "1.2.156.10197.1.501"
        || m.eq_ignore_ascii_case("SM3withSM2")
        || m.eq_ignore_ascii_case("SM2-with-SM3")
        || m == "1.2.156.10197.1.301.1"
}

/// Signature files of one record (what the signature itself protects).
struct Record {
    rec: xmlsig::SignatureRecord,
    xml: Option<SignatureXml>,
    report: SignatureReport,
}

/// Verifies the OFD file `bytes`.
pub fn verify_bytes(bytes: &[u8], opts: &VerifyOptions) -> Result<Report, Unreadable> {
    verify_bytes_known(bytes, opts, &Known::default())
}

/// Verifies the OFD file `bytes` that the caller has just sealed, reusing what sealing computed
/// ([`Known`]); the report is the one [`verify_bytes`] gives.
pub fn verify_bytes_known(
    bytes: &[u8],
    opts: &VerifyOptions,
    known: &Known,
) -> Result<Report, Unreadable> {
    let now = opts.validation_time.unwrap_or_else(pki::now);
    let pkg = match Package::from_zip(bytes, &ofd::Limits::default()) {
        Ok(p) => p,
        Err(e) if e.is_ambiguity() => {
            let c = Check::fail(
                CheckId::ZipAmbiguity,
                SubIndication::ContainerAmbiguity,
                format!("ZIP container is ambiguous: {e}"),
            );
            return Ok(Report {
                policy: POLICY,
                validation_time: pki::format_time(now),
                indication: Indication::Failed,
                sub_indication: Some(SubIndication::ContainerAmbiguity),
                signatures_count: 0,
                valid_signatures_count: 0,
                signatures: Vec::new(),
                package_checks: vec![
                    Check::na(
                        CheckId::Coverage,
                        "not evaluated: the container is ambiguous",
                    ),
                    c,
                ],
            });
        }
        Err(e) => return Err(Unreadable(e.to_string())),
    };
    Ok(verify_package_known(&pkg, opts, now, known))
}

/// Reads `Signatures` locations of every DocBody of OFD.xml, without the full reader.
fn signature_lists(pkg: &Package) -> Result<Vec<Option<String>>, String> {
    let b = pkg.get("OFD.xml").ok_or("OFD.xml is missing")?;
    let text = std::str::from_utf8(b).map_err(|e| format!("OFD.xml: {e}"))?;
    let doc = roxmltree::Document::parse(text.strip_prefix('\u{feff}').unwrap_or(text))
        .map_err(|e| format!("OFD.xml: {e}"))?;
    let mut out = Vec::new();
    for body in doc
        .root_element()
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "DocBody")
    {
        let s = body
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "Signatures");
        match s {
            Some(n) => {
                let loc = n.text().unwrap_or_default().trim();
                out.push(Some(
                    ofd::loc::resolve("OFD.xml", loc)
                        .map_err(|e| format!("OFD.xml Signatures {loc:?}: {e}"))?,
                ));
            }
            None => out.push(None),
        }
    }
    Ok(out)
}

/// Verifies an opened package (validation time `now`).
pub fn verify_package(pkg: &Package, opts: &VerifyOptions, now: UnixTime) -> Report {
    verify_package_known(pkg, opts, now, &Known::default())
}

fn verify_package_known(
    pkg: &Package,
    opts: &VerifyOptions,
    now: UnixTime,
    known: &Known,
) -> Report {
    let mut records: Vec<Record> = Vec::new();
    let mut format_problem: Option<String> = None;
    let mut sig_files: Vec<String> = Vec::new();
    let lists = match signature_lists(pkg) {
        Ok(l) => Ok(l),
        Err(e) => {
            // OFD.xml is unreadable: still verify every Signatures.xml in the package, so that
            // the report names the signature that covered the damaged OFD.xml.
            format_problem = Some(e);
            let found: Vec<Option<String>> = pkg
                .paths()
                .filter(|p| p.rsplit('/').next() == Some("Signatures.xml"))
                .map(|p| Some(p.to_string()))
                .collect();
            if found.is_empty() { Err(()) } else { Ok(found) }
        }
    };
    match lists {
        Err(()) => {}
        Ok(lists) => {
            for (doc, list) in lists.iter().enumerate() {
                let Some(path) = list else { continue };
                sig_files.push(path.clone());
                let Some(b) = pkg.get(path) else {
                    format_problem = Some(format!("{path} (listed in OFD.xml) is missing"));
                    continue;
                };
                match xmlsig::parse_signatures(path, b) {
                    Err(e) => {
                        // Unreadable list: verify the Signature.xml files beside it anyway, so the
                        // report names the signature that covered the damaged list.
                        format_problem = Some(e.to_string());
                        let dir = ofd::loc::dir_of(path);
                        for p in pkg
                            .paths()
                            .filter(|p| p.starts_with(dir) && p.ends_with("/Signature.xml"))
                        {
                            let rec = xmlsig::SignatureRecord {
                                id: format!("(unlisted {p})"),
                                sig_type: "Seal".into(),
                                base_loc: format!("/{p}"),
                                path: p.to_string(),
                            };
                            records.push(verify_record(pkg, doc, path, rec, opts, known));
                        }
                    }
                    Ok(f) => {
                        for rec in f.records {
                            records.push(verify_record(pkg, doc, path, rec, opts, known));
                        }
                    }
                }
            }
        }
    }
    let package_checks = package_checks(pkg, &records, &sig_files, format_problem.as_deref());
    let signatures: Vec<SignatureReport> = records.into_iter().map(|r| r.report).collect();
    let valid = signatures
        .iter()
        .filter(|s| s.indication == Indication::Passed)
        .count();
    let (mut indication, mut sub) = (Indication::Passed, None);
    let all: Vec<(Indication, Option<SubIndication>)> = signatures
        .iter()
        .map(|s| (s.indication, s.sub_indication))
        .chain(
            package_checks
                .iter()
                .map(|c| (status_to_ind(c.status), c.sub_indication)),
        )
        .collect();
    if let Some(f) = all.iter().find(|(i, _)| *i == Indication::Failed) {
        (indication, sub) = (Indication::Failed, f.1);
    } else if let Some(f) = all.iter().find(|(i, _)| *i == Indication::Indeterminate) {
        (indication, sub) = (Indication::Indeterminate, f.1);
    }
    if signatures.is_empty() && indication == Indication::Passed {
        indication = Indication::Failed;
        sub = Some(SubIndication::NoSignatureFound);
    }
    Report {
        policy: POLICY,
        validation_time: pki::format_time(now),
        indication,
        sub_indication: sub,
        signatures_count: signatures.len(),
        valid_signatures_count: valid,
        signatures,
        package_checks,
    }
}

fn status_to_ind(s: Status) -> Indication {
    match s {
        Status::Failed => Indication::Failed,
        Status::Indeterminate => Indication::Indeterminate,
        Status::Passed | Status::NotApplicable => Indication::Passed,
    }
}

fn summarise(checks: &[Check]) -> (Indication, Option<SubIndication>) {
    if let Some(c) = checks.iter().find(|c| c.status == Status::Failed) {
        return (Indication::Failed, c.sub_indication);
    }
    if let Some(c) = checks.iter().find(|c| c.status == Status::Indeterminate) {
        return (Indication::Indeterminate, c.sub_indication);
    }
    (Indication::Passed, None)
}

fn verify_record(
    pkg: &Package,
    doc: usize,
    sigs_path: &str,
    rec: xmlsig::SignatureRecord,
    opts: &VerifyOptions,
    known: &Known,
) -> Record {
    use CheckId::*;
    let mut report = SignatureReport {
        doc,
        id: rec.id.clone(),
        sig_type: rec.sig_type.clone(),
        path: rec.path.clone(),
        version: None,
        signing_time: None,
        seal_name: None,
        seal_id: None,
        signer: None,
        maker: None,
        whole_protected: false,
        indication: Indication::Failed,
        sub_indication: None,
        checks: Vec::new(),
    };
    let all_ids = [
        ReferenceHashes,
        DataHash,
        SignerSignature,
        SealMakerSignature,
        SealFileMatch,
        SignerInSeal,
        SealValidity,
        Certificates,
        SignatureMethod,
        PropertyInfo,
    ];
    let finish = |mut report: SignatureReport, checks: Vec<Check>, xml: Option<SignatureXml>| {
        let (i, s) = summarise(&checks);
        report.indication = i;
        report.sub_indication = s;
        report.checks = checks;
        Record {
            rec: rec.clone(),
            xml,
            report,
        }
    };
    let fail_all = |report: SignatureReport, sub: SubIndication, why: &str| {
        let checks = all_ids
            .iter()
            .map(|&id| Check::fail(id, sub, why))
            .collect();
        finish(report, checks, None)
    };
    if rec.sig_type != "Seal" {
        let checks = all_ids
            .iter()
            .map(|&id| {
                Check::undecided(
                    id,
                    SubIndication::Unsupported,
                    format!(
                        "Type=\"{}\" signatures (GB/T 35275) are not verified by this version",
                        rec.sig_type
                    ),
                )
            })
            .collect();
        return finish(report, checks, None);
    }
    let Some(xml_bytes) = pkg.get(&rec.path) else {
        return fail_all(
            report,
            SubIndication::SignedDataNotFound,
            &format!("{} is missing", rec.path),
        );
    };
    let xml = match xmlsig::parse_signature_xml(&rec.path, xml_bytes) {
        Ok(x) => x,
        Err(e) => return fail_all(report, SubIndication::FormatFailure, &e.to_string()),
    };
    report.whole_protected = xml
        .references
        .iter()
        .any(|r| r.path.as_deref() == Some(sigs_path));
    let mut checks = Vec::new();

    // 1. References.
    checks.push(check_references(pkg, &xml, known));

    // Parse SignedValue.dat.
    let sv: Result<SignatureView, String> = match xml.signed_value_path.as_deref() {
        None => Err("Signature.xml has no SignedValue".into()),
        Some(p) => match pkg.get(p) {
            None => Err(format!("{p} is missing")),
            Some(b) => seal::parse_signature(b).map_err(|e| format!("{p}: {e}")),
        },
    };
    let sv = match sv {
        Ok(v) => v,
        Err(why) => {
            for id in &all_ids[1..] {
                checks.push(Check::fail(*id, SubIndication::FormatFailure, why.clone()));
            }
            return finish(report, checks, Some(xml));
        }
    };
    report.version = Some(sv.version);
    report.signing_time = sv.time_info.map(pki::format_time);
    report.seal_name = Some(sv.seal.name.clone());
    report.seal_id = Some(sv.seal.es_id.clone());
    let signer_cert = Cert::from_der(&sv.signer_cert).ok();
    let maker_cert = Cert::from_der(&sv.seal.maker_cert).ok();
    report.signer = signer_cert.as_ref().map(Cert::summary);
    report.maker = maker_cert.as_ref().map(Cert::summary);

    // 2. dataHash.
    let h = known.sm3(&rec.path, xml_bytes);
    checks.push(if sv.data_hash == h {
        Check::pass(DataHash, "dataHash = SM3(Signature.xml)")
    } else {
        Check::fail(
            DataHash,
            SubIndication::HashFailure,
            format!(
                "dataHash {} ≠ SM3(Signature.xml) {}",
                pki::hex(&sv.data_hash),
                pki::hex(&h)
            ),
        )
    });
    // 3. signer signature.
    checks.push(match sv.verify_signer() {
        Ok(()) => Check::pass(
            SignerSignature,
            "SM2 signature over TBS_Sign verifies with the signer certificate",
        ),
        Err(e) => Check::fail(
            SignerSignature,
            SubIndication::SigCryptoFailure,
            format!("signer signature: {e}"),
        ),
    });
    // 4. maker signature.
    // (A seal the sealer verified when it loaded it, byte for byte the same, verifies again.)
    let maker = if known.has_verified_seal(&sv.seal.der) {
        Ok(())
    } else {
        sv.seal.verify_maker()
    };
    checks.push(match maker {
        Ok(()) => Check::pass(
            SealMakerSignature,
            "seal maker's SM2 signature over the seal verifies",
        ),
        Err(e) => Check::fail(
            SealMakerSignature,
            SubIndication::SigCryptoFailure,
            format!("seal maker signature: {e}"),
        ),
    });
    // 5. Seal.esl.
    checks.push(match xml.seal_path.as_deref() {
        None => Check::na(SealFileMatch, "Signature.xml names no Seal file"),
        Some(p) => match pkg.get(p) {
            None => Check::fail(
                SealFileMatch,
                SubIndication::SignedDataNotFound,
                format!("{p} is missing"),
            ),
            Some(b) if b == sv.seal.der.as_slice() => Check::pass(
                SealFileMatch,
                format!("{p} equals the seal in the signature"),
            ),
            Some(_) => Check::fail(
                SealFileMatch,
                SubIndication::SigConstraintsFailure,
                format!("{p} differs from the seal in the signature"),
            ),
        },
    });
    // 6. binding.
    checks.push(if sv.seal.binds_signer(&sv.signer_cert) {
        Check::pass(
            SignerInSeal,
            "the signer certificate is in the seal's certificate list",
        )
    } else {
        Check::fail(
            SignerInSeal,
            SubIndication::SigConstraintsFailure,
            "the signer certificate is not in the seal's certificate list",
        )
    });
    // 7. seal validity.
    checks.push(match sv.time_info {
        None => Check::undecided(
            SealValidity,
            SubIndication::OutOfBounds,
            "the signing time (v1 timeInfo) cannot be interpreted",
        ),
        Some(t) if sv.seal.valid_start <= t && t <= sv.seal.valid_end => Check::pass(
            SealValidity,
            format!(
                "signed {} within the seal validity {} .. {}",
                pki::format_time(t),
                pki::format_time(sv.seal.valid_start),
                pki::format_time(sv.seal.valid_end)
            ),
        ),
        Some(t) => Check::fail(
            SealValidity,
            SubIndication::OutOfBounds,
            format!(
                "signed {} outside the seal validity {} .. {}",
                pki::format_time(t),
                pki::format_time(sv.seal.valid_start),
                pki::format_time(sv.seal.valid_end)
            ),
        ),
    });
    // 8. certificates.
    checks.push(check_certificates(
        signer_cert.as_ref(),
        maker_cert.as_ref(),
        sv.time_info,
        &opts.trust,
    ));
    // 9. SignatureMethod.
    let ses_alg_ok = sm::is_sm2_signature_oid(&sv.sig_alg);
    checks.push(match xml.signature_method.as_deref() {
        _ if !ses_alg_ok => Check::fail(
            SignatureMethod,
            SubIndication::CryptoConstraintsFailure,
            format!("SES signature algorithm {} is not SM3withSM2", sv.sig_alg),
        ),
        None => Check::na(
            SignatureMethod,
            "no SignatureMethod element; the SES structure says SM3withSM2",
        ),
        Some(m) if is_sm3_with_sm2_name(m) => Check::pass(
            SignatureMethod,
            format!("SignatureMethod {m} agrees with {}", sv.sig_alg),
        ),
        Some(m) => Check::fail(
            SignatureMethod,
            SubIndication::SigConstraintsFailure,
            format!(
                "SignatureMethod {m:?} disagrees with the SES algorithm {}",
                sv.sig_alg
            ),
        ),
    });
    // 10. propertyInfo.
    let pi = sv.property_info.trim();
    let resolved = ofd::loc::resolve("OFD.xml", pi).ok();
    checks.push(if resolved.as_deref() == Some(rec.path.as_str()) {
        Check::pass(
            PropertyInfo,
            format!("propertyInfo {pi:?} names this Signature.xml"),
        )
    } else {
        Check::fail(
            PropertyInfo,
            SubIndication::SigConstraintsFailure,
            format!("propertyInfo {pi:?} does not name {}", rec.path),
        )
    });
    finish(report, checks, Some(xml))
}

fn check_references(pkg: &Package, xml: &SignatureXml, known: &Known) -> Check {
    use CheckId::ReferenceHashes as R;
    match xml.check_method.as_deref() {
        None => {
            return Check::fail(
                R,
                SubIndication::FormatFailure,
                "References has no CheckMethod",
            );
        }
        Some(m) if !is_sm3_name(m) => {
            return Check::fail(
                R,
                SubIndication::CryptoConstraintsFailure,
                format!("CheckMethod {m:?} is not SM3"),
            );
        }
        _ => {}
    }
    if xml.references.is_empty() {
        return Check::fail(R, SubIndication::SignedDataNotFound, "no Reference");
    }
    let mut seen = BTreeSet::new();
    for r in &xml.references {
        let Some(p) = &r.path else {
            return Check::fail(
                R,
                SubIndication::FormatFailure,
                format!("FileRef {:?} does not resolve", r.file_ref),
            );
        };
        if !seen.insert(p.clone()) {
            return Check::fail(
                R,
                SubIndication::FormatFailure,
                format!("{p} is referenced twice"),
            );
        }
        let Some(data) = pkg.get(p) else {
            return Check::fail(
                R,
                SubIndication::SignedDataNotFound,
                format!("{p} is referenced but missing"),
            );
        };
        let Some(cv) = &r.check_value else {
            return Check::fail(
                R,
                SubIndication::FormatFailure,
                format!("CheckValue of {p} is not base64"),
            );
        };
        if known.sm3(p, data).as_slice() != cv.as_slice() {
            return Check::fail(
                R,
                SubIndication::HashFailure,
                format!("SM3 of {p} does not match its CheckValue"),
            );
        }
    }
    Check::pass(
        R,
        format!("{} references, all SM3 values match", xml.references.len()),
    )
}

fn check_certificates(
    signer: Option<&Cert>,
    maker: Option<&Cert>,
    time: Option<UnixTime>,
    trust: &TrustStore,
) -> Check {
    use CheckId::Certificates as C;
    let (Some(signer), Some(maker)) = (signer, maker) else {
        return Check::fail(
            C,
            SubIndication::FormatFailure,
            "signer or maker certificate cannot be parsed",
        );
    };
    let Some(t) = time else {
        return Check::undecided(
            C,
            SubIndication::OutOfBounds,
            "the signing time cannot be interpreted",
        );
    };
    for (role, c) in [("signer", signer), ("seal maker", maker)] {
        if !c.valid_at(t) {
            return Check::fail(
                C,
                SubIndication::OutOfBounds,
                format!(
                    "{role} certificate \"{}\" valid {} .. {}, not at signing time {}",
                    c.subject(),
                    pki::format_time(c.not_before()),
                    pki::format_time(c.not_after()),
                    pki::format_time(t)
                ),
            );
        }
    }
    let mut notes = Vec::new();
    let mut undecided = None;
    for (role, c) in [("signer", signer), ("seal maker", maker)] {
        match trust.validate(c, &[], t) {
            ChainStatus::Valid { path, notes: n } => {
                notes.push(format!("{role}: {}", path.join(" → ")));
                notes.extend(n);
            }
            ChainStatus::NoRootConfigured => undecided = Some(
                "no trust root configured (--trust): the certificates' issuers cannot be checked"
                    .to_string(),
            ),
            ChainStatus::NoPath { reason } => {
                return Check::fail(
                    C,
                    SubIndication::NoCertificateChainFound,
                    format!("{role} certificate: {reason}"),
                );
            }
            ChainStatus::OutOfValidity {
                subject,
                not_before,
                not_after,
                at,
            } => {
                return Check::fail(
                    C,
                    SubIndication::OutOfBounds,
                    format!(
                        "{role} chain: \"{subject}\" valid {not_before} .. {not_after}, not at {at}"
                    ),
                );
            }
            ChainStatus::Revoked {
                subject,
                serial,
                revoked_at,
            } => {
                return Check::fail(
                    C,
                    SubIndication::Revoked,
                    format!(
                        "{role} chain: \"{subject}\" (serial {serial}) revoked at {revoked_at}"
                    ),
                );
            }
        }
    }
    match undecided {
        Some(why) => Check::undecided(
            C,
            SubIndication::NoCertificateChainFound,
            format!("certificates valid at signing time; {why}"),
        ),
        None => Check::pass(
            C,
            format!(
                "valid at signing time and chained to a configured root; {}",
                notes.join("; ")
            ),
        ),
    }
}

fn package_checks(
    pkg: &Package,
    records: &[Record],
    sig_lists: &[String],
    format_problem: Option<&str>,
) -> Vec<Check> {
    use CheckId::*;
    let mut out = Vec::new();
    // What the signatures protect: referenced files (of signatures whose references all
    // matched) and each signature's own Signature.xml / SignedValue.dat / Seal.esl.
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut whole = false;
    for r in records {
        let Some(x) = &r.xml else { continue };
        // A signature covers files when its references, dataHash and signer signature hold
        // (checks 1–3); certificate or policy failures do not make the files unprotected.
        let ok = |i: usize| {
            r.report
                .checks
                .get(i)
                .is_some_and(|c| c.status == Status::Passed)
        };
        if ok(0) && ok(1) && ok(2) {
            covered.extend(x.references.iter().filter_map(|rf| rf.path.clone()));
            whole |= r.report.whole_protected;
            covered.insert(r.rec.path.clone());
            covered.extend(x.signed_value_path.clone());
            if r.report
                .checks
                .get(4)
                .is_some_and(|c| c.status == Status::Passed)
            {
                covered.extend(x.seal_path.clone());
            }
        }
    }
    let read = ofd::OfdFile::from_package(pkg.clone(), &ofd::ReadOptions::default());
    let coverage = match (&read, format_problem) {
        (_, Some(p)) => Check::fail(
            Coverage,
            SubIndication::FormatFailure,
            format!("signature structure unreadable: {p}"),
        ),
        (Err(e), None) => Check::fail(
            Coverage,
            SubIndication::FormatFailure,
            format!("the OFD structure could not be read, so what a reader loads is unknown: {e}"),
        ),
        (Ok(_), None) if records.is_empty() => Check::fail(
            Coverage,
            SubIndication::NoSignatureFound,
            "the document carries no signature",
        ),
        (Ok(f), None) => {
            let loaded = f.loaded_parts();
            let mut uncovered: Vec<String> = loaded
                .iter()
                .filter(|p| !covered.contains(*p))
                .cloned()
                .collect();
            let mut notes = Vec::new();
            // Signatures.xml is loaded by signature-aware readers; in continue mode it is by design
            // unprotected.
            for s in sig_lists {
                if !covered.contains(s) {
                    if whole {
                        uncovered.push(s.clone());
                    } else {
                        notes.push(format!("{s} is not protected (continue mode): signature records could be removed unnoticed"));
                    }
                }
            }
            uncovered.retain(|p| whole || !sig_lists.contains(p));
            let extra: Vec<String> = pkg
                .paths()
                .filter(|p| {
                    !covered.contains(*p)
                        && !loaded.contains(*p)
                        && !sig_lists.iter().any(|s| s == p)
                })
                .map(str::to_string)
                .collect();
            // Files of the signature directories that no listed record owns: a record was removed
            // (signature stripping), whatever the mode.
            let mut record_files: BTreeSet<String> = BTreeSet::new();
            let mut dup = Vec::new();
            for r in records {
                if !record_files.insert(r.rec.path.clone()) {
                    dup.push(r.rec.path.clone());
                }
                if let Some(x) = &r.xml {
                    record_files.extend(x.signed_value_path.clone());
                    record_files.extend(x.seal_path.clone());
                }
            }
            let sign_dirs: Vec<String> = sig_lists
                .iter()
                .map(|s| ofd::loc::dir_of(s).to_string())
                .filter(|d| !d.is_empty())
                .collect();
            let orphans: Vec<&String> = extra
                .iter()
                .filter(|p| {
                    !record_files.contains(*p)
                        && sign_dirs.iter().any(|d| p.starts_with(&format!("{d}/")))
                })
                .collect();
            if !dup.is_empty() {
                Check::fail(
                    Coverage,
                    SubIndication::SigConstraintsFailure,
                    format!(
                        "Signatures.xml lists the same signature more than once: {}",
                        dup.join(", ")
                    ),
                )
            } else if !orphans.is_empty() {
                Check::fail(
                    Coverage,
                    SubIndication::NotCovered,
                    format!(
                        "signature files that no record in Signatures.xml owns (a signature record was removed?): {}",
                        orphans
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            } else if !uncovered.is_empty() {
                Check::fail(
                    Coverage,
                    SubIndication::NotCovered,
                    format!(
                        "loaded but not covered by any signature: {}",
                        uncovered.join(", ")
                    ),
                )
            } else if whole && !extra.is_empty() {
                Check::fail(
                    Coverage,
                    SubIndication::NotCovered,
                    format!(
                        "whole-protected, yet the package holds files no signature covers: {}",
                        extra.join(", ")
                    ),
                )
            } else {
                if !extra.is_empty() {
                    notes.push(format!(
                        "files not loaded and not covered (continue mode): {}",
                        extra.join(", ")
                    ));
                }
                let mut reason = format!("all {} loaded parts are covered", loaded.len());
                if whole {
                    reason.push_str("; whole-protected: nothing else is in the package");
                }
                for n in notes {
                    reason.push_str("; ");
                    reason.push_str(&n);
                }
                Check::pass(Coverage, reason)
            }
        }
    };
    out.push(coverage);
    // 12: the strict ZIP reader already refused duplicates, case variants, `..`, absolute names and
    // header disagreements; what remains is a reference that resolves only up to case.
    let case: Vec<String> = match &read {
        Ok(f) => f
            .warnings
            .iter()
            .filter_map(|w| match w {
                ofd::Warning::CaseMismatch { file, wanted, used } => {
                    Some(format!("{file} refers to {wanted} but the entry is {used}"))
                }
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.push(if case.is_empty() {
        Check::pass(ZipAmbiguity, "no duplicate, case-variant, absolute or '..' entry names, local and central headers agree")
    } else {
        Check::fail(ZipAmbiguity, SubIndication::ContainerAmbiguity, format!("references resolve only up to case (ambiguous on case-insensitive systems): {}", case.join("; ")))
    });
    out
}

impl From<Unreadable> for Error {
    fn from(u: Unreadable) -> Self {
        Error::Package(u.0)
    }
}
