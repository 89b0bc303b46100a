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
//!
//! # Reading a report
//! A [`Report`] is made only by the verifier: its fields are private and read through methods,
//! and checks are looked up by [`CheckId`] ([`SignatureReport::check`], [`Report::package_check`]),
//! never by position. Its JSON form (`Serialize`: `ecert verify --json`, the verification page's
//! answer) is a public contract and does not change with the Rust API.
//!
//! **`NOT_APPLICABLE` is not a pass.** Only two checks may be N/A, where GB/T 33190 makes their
//! subject optional ([`CheckId::may_be_not_applicable`]): `SEAL_FILE_MATCH` (Signature.xml need
//! not name a Seal file) and `SIGNATURE_METHOD` (the element is optional). There N/A neither
//! passes nor fails: the verdict rests on the other checks. Any other check that was not decided
//! (N/A where it must apply) makes the verdict INDETERMINATE, never PASSED, and a signature
//! counts as valid ([`Report::valid_signatures_count`]) only when its own verdict is PASSED.
//!
//! # Proof, not the absence of an error
//! Code that acts on a verification (storing an issued certificate, telling a user a file is
//! genuine) should not test fields or look for failures: an empty list of failed checks is also
//! what an INDETERMINATE report has. It asks the report for a [`Verified`], which only this
//! module can make (in the spirit of rustls's `HandshakeSignatureValid`), and requires one:
//! - [`Report::passed`] gives a `Verified` only when the overall indication is PASSED;
//! - [`Report::passed_allowing`] also accepts INDETERMINATE outcomes the caller names, one by
//!   one, in an [`Acceptance`] (check and sub-indication). It is meant for a verifier that
//!   knowingly runs without some anchor — e.g. without trust roots, so that `CERTIFICATES` is
//!   INDETERMINATE with `NO_CERTIFICATE_CHAIN_FOUND` — and must say so in its code. A FAILED
//!   check is never acceptable, nor an INDETERMINATE outcome that is not named (another check,
//!   or the same check with another sub-indication), nor a report without a signature. When it
//!   refuses, [`Unverified`] lists every check that stopped it with its number, name, status,
//!   sub-indication and reason (`Display`: Chinese first, English beside it).
//!
//! An issuer checking a file it has just sealed should verify with its own trust roots (the
//! trial root of a demonstration instance, the CA roots of a real one) and require
//! [`Report::passed`].
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ses::verify::{Acceptance, CheckId, SubIndication, VerifyOptions, verify_bytes};
//! let file = std::fs::read("sealed.ofd")?;
//! // No trust roots at hand: the certificates' issuers cannot be checked, and we say so.
//! let report = verify_bytes(&file, &VerifyOptions::default())?;
//! let without_roots = Acceptance::strict()
//!     .allow_indeterminate(CheckId::Certificates, SubIndication::NoCertificateChainFound);
//! let verified = report.passed_allowing(&without_roots)?;
//! assert!(verified.tolerated() || report.passed().is_some());
//! # Ok(()) }
//! ```

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
    /// Does not apply (the reason says why). Not a pass: see the [module](self) documentation.
    NotApplicable,
}

impl Status {
    /// The name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "PASSED",
            Status::Failed => "FAILED",
            Status::Indeterminate => "INDETERMINATE",
            Status::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl Indication {
    /// The name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Indication::Passed => "PASSED",
            Indication::Failed => "FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// The checks, in the order they run.
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

    /// Whether NOT_APPLICABLE is a legitimate outcome of this check: only where GB/T 33190-2016
    /// makes its subject optional — `SEAL_FILE_MATCH` (a Signature.xml need not name a Seal
    /// file) and `SIGNATURE_METHOD` (the element is optional). Every other check must be
    /// decided; N/A there counts as INDETERMINATE.
    pub fn may_be_not_applicable(self) -> bool {
        matches!(self, CheckId::SealFileMatch | CheckId::SignatureMethod)
    }

    /// Whether this is a per-signature check (1–10), as opposed to a package check (11, 12).
    pub fn is_per_signature(self) -> bool {
        !matches!(self, CheckId::Coverage | CheckId::ZipAmbiguity)
    }
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    number: u8,
    id: CheckId,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_indication: Option<SubIndication>,
    reason: String,
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

    /// Number 1–12.
    pub fn number(&self) -> u8 {
        self.number
    }
    /// Stable name.
    pub fn id(&self) -> CheckId {
        self.id
    }
    /// Result, as reported.
    pub fn status(&self) -> Status {
        self.status
    }
    /// Sub-indication when not passed.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }
    /// Human-readable reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The status as it counts towards a verdict: NOT_APPLICABLE is neutral (`None`) only for
    /// a check that [may be N/A](CheckId::may_be_not_applicable); elsewhere it counts as
    /// INDETERMINATE. Never PASSED unless the check passed.
    fn counts_as(&self) -> Option<Status> {
        match self.status {
            Status::NotApplicable if self.id.may_be_not_applicable() => None,
            Status::NotApplicable => Some(Status::Indeterminate),
            s => Some(s),
        }
    }
}

/// The report about one signature record.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    doc: usize,
    id: String,
    sig_type: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<seal::SesVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signer: Option<pki::CertSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maker: Option<pki::CertSummary>,
    whole_protected: bool,
    indication: Indication,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_indication: Option<SubIndication>,
    checks: Vec<Check>,
}

impl SignatureReport {
    /// Document index (DocBody).
    pub fn doc(&self) -> usize {
        self.doc
    }
    /// `Signature/@ID`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// `Signature/@Type`.
    pub fn sig_type(&self) -> &str {
        &self.sig_type
    }
    /// Package path of Signature.xml.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// SES version.
    pub fn version(&self) -> Option<seal::SesVersion> {
        self.version
    }
    /// Claimed signing time (TBS_Sign.timeInfo).
    pub fn signing_time(&self) -> Option<&str> {
        self.signing_time.as_deref()
    }
    /// Seal name.
    pub fn seal_name(&self) -> Option<&str> {
        self.seal_name.as_deref()
    }
    /// Seal esID.
    pub fn seal_id(&self) -> Option<&str> {
        self.seal_id.as_deref()
    }
    /// Signer certificate.
    pub fn signer(&self) -> Option<&pki::CertSummary> {
        self.signer.as_ref()
    }
    /// Seal maker certificate.
    pub fn maker(&self) -> Option<&pki::CertSummary> {
        self.maker.as_ref()
    }
    /// Whether this signature covers Signatures.xml.
    pub fn whole_protected(&self) -> bool {
        self.whole_protected
    }
    /// Verdict for this signature.
    pub fn indication(&self) -> Indication {
        self.indication
    }
    /// Sub-indication of the first failed (or undecided) check.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }
    /// All checks 1–10, in number order.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }
    /// Check `id` of this signature (`None` for the package checks 11 and 12).
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
    /// The report with its checks and the verdict over them.
    fn with_checks(mut self, checks: Vec<Check>) -> Self {
        (self.indication, self.sub_indication) = summarise(&checks, &SIGNATURE_CHECKS);
        self.checks = checks;
        self
    }
    /// Whether check `id` of this signature PASSED.
    fn passed(&self, id: CheckId) -> bool {
        self.check(id).is_some_and(|c| c.status == Status::Passed)
    }
}

/// The verification report. Made only by the verifier; see the [module](self) documentation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    policy: &'static str,
    validation_time: String,
    indication: Indication,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_indication: Option<SubIndication>,
    signatures_count: usize,
    valid_signatures_count: usize,
    signatures: Vec<SignatureReport>,
    package_checks: Vec<Check>,
}

/// Proof that a [`Report`] was accepted: its overall indication is PASSED ([`Report::passed`]),
/// or every check that did not pass is an INDETERMINATE outcome named in the caller's
/// [`Acceptance`] ([`Report::passed_allowing`]).
///
/// Only this module makes one: the field is private, and there is no constructor and no
/// `Default`. Code that must not act on an unverified file takes a `Verified` as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Verified {
    tolerated: bool,
}

impl Verified {
    /// Whether an [`Acceptance`] let an INDETERMINATE check through (`false`: the report
    /// PASSED outright).
    pub fn tolerated(self) -> bool {
        self.tolerated
    }
}

/// The INDETERMINATE outcomes a caller accepts, each named by check and sub-indication, for
/// [`Report::passed_allowing`]. [`Acceptance::strict`] (also `Default`) accepts none.
///
/// ```
/// use ses::verify::{Acceptance, CheckId, SubIndication};
/// // A verifier without trust roots: the certificates' chains cannot be checked.
/// let a = Acceptance::strict()
///     .allow_indeterminate(CheckId::Certificates, SubIndication::NoCertificateChainFound);
/// assert_eq!(a.allowed(), [(CheckId::Certificates, SubIndication::NoCertificateChainFound)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceptance {
    indeterminate: Vec<(CheckId, SubIndication)>,
}

impl Acceptance {
    /// Nothing but PASSED: `report.passed_allowing(&Acceptance::strict())` accepts exactly what
    /// [`Report::passed`] accepts.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Also accepts check `id` when it is INDETERMINATE with sub-indication `sub` (never when
    /// it FAILED, and never another sub-indication of it).
    pub fn allow_indeterminate(mut self, id: CheckId, sub: SubIndication) -> Self {
        if !self.indeterminate.contains(&(id, sub)) {
            self.indeterminate.push((id, sub));
        }
        self
    }

    /// The accepted (check, sub-indication) pairs, in the order given.
    pub fn allowed(&self) -> &[(CheckId, SubIndication)] {
        &self.indeterminate
    }

    /// Whether `check` is an outcome this acceptance names: INDETERMINATE, with a listed
    /// (check, sub-indication) pair.
    pub fn accepts(&self, check: &Check) -> bool {
        check.status == Status::Indeterminate
            && check
                .sub_indication
                .is_some_and(|sub| self.indeterminate.contains(&(check.id, sub)))
    }
}

/// A check that stopped [`Report::passed_allowing`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// `Signature/@ID` of the signature the check belongs to; `None` for a package check.
    pub signature: Option<String>,
    /// The check (number, id, status, sub-indication, reason).
    pub check: Check,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.check;
        match &self.signature {
            Some(id) => write!(f, "签章 signature {id}: ")?,
            None => write!(f, "文件 package: ")?,
        }
        write!(f, "[{}] {} {}", c.number, c.id.name(), c.status.name())?;
        if let Some(sub) = c.sub_indication {
            write!(f, " ({})", sub.name())?;
        }
        write!(f, " — {}", c.reason)
    }
}

/// Why [`Report::passed_allowing`] refused: the report's indication and every check that
/// stopped it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unverified {
    indication: Indication,
    sub_indication: Option<SubIndication>,
    stopped: Vec<Stopped>,
}

impl Unverified {
    /// The report's overall indication.
    pub fn indication(&self) -> Indication {
        self.indication
    }
    /// The report's overall sub-indication.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }
    /// Every check that was neither PASSED, nor N/A where N/A is legitimate, nor accepted.
    pub fn stopped(&self) -> &[Stopped] {
        &self.stopped
    }
    /// The ids of [`Unverified::stopped`], in report order.
    pub fn check_ids(&self) -> Vec<CheckId> {
        self.stopped.iter().map(|s| s.check.id).collect()
    }
}

impl std::fmt::Display for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "签章验证未通过 (the verification did not pass): {}",
            self.indication.name()
        )?;
        if let Some(sub) = self.sub_indication {
            write!(f, " ({})", sub.name())?;
        }
        if self.stopped.is_empty() {
            return Ok(());
        }
        write!(f, "; 未通过的检查 (checks that stopped it): ")?;
        for (i, s) in self.stopped.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unverified {}

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
    /// Validation policy name and version.
    pub fn policy(&self) -> &'static str {
        self.policy
    }
    /// When the validation ran (UTC).
    pub fn validation_time(&self) -> &str {
        &self.validation_time
    }
    /// Overall verdict.
    pub fn indication(&self) -> Indication {
        self.indication
    }
    /// Sub-indication of the overall verdict.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }
    /// Number of signatures.
    pub fn signatures_count(&self) -> usize {
        self.signatures_count
    }
    /// Number of signatures whose own verdict is PASSED (N/A is not a pass: module docs).
    pub fn valid_signatures_count(&self) -> usize {
        self.valid_signatures_count
    }
    /// One report per signature record, in the order of Signatures.xml.
    pub fn signatures(&self) -> &[SignatureReport] {
        &self.signatures
    }
    /// Checks 11 and 12.
    pub fn package_checks(&self) -> &[Check] {
        &self.package_checks
    }
    /// Package check `id` (11 `COVERAGE` or 12 `ZIP_AMBIGUITY`; `None` for the per-signature
    /// checks, which are in [`SignatureReport::check`]).
    pub fn package_check(&self, id: CheckId) -> Option<&Check> {
        self.package_checks.iter().find(|c| c.id == id)
    }

    /// Every check with the signature it belongs to (`None`: a package check).
    fn all_checks(&self) -> impl Iterator<Item = (Option<&str>, &Check)> {
        self.signatures
            .iter()
            .flat_map(|s| s.checks.iter().map(move |c| (Some(s.id.as_str()), c)))
            .chain(self.package_checks.iter().map(|c| (None, c)))
    }

    /// A [`Verified`] when, and only when, the overall indication is PASSED.
    pub fn passed(&self) -> Option<Verified> {
        if self.indication != Indication::Passed {
            return None;
        }
        self.passed_allowing(&Acceptance::strict()).ok()
    }

    /// A [`Verified`] when every check PASSED (or is N/A where it [may
    /// be](CheckId::may_be_not_applicable)) except INDETERMINATE outcomes `acceptance` names,
    /// and the report has a signature and did not fail. Otherwise [`Unverified`] lists every
    /// check that stopped it. See the [module](self) documentation for when to use this instead
    /// of [`Report::passed`].
    pub fn passed_allowing(&self, acceptance: &Acceptance) -> Result<Verified, Unverified> {
        let mut tolerated = false;
        let mut stopped = Vec::new();
        for (signature, c) in self.all_checks() {
            match c.counts_as() {
                None | Some(Status::Passed) => {}
                Some(_) if acceptance.accepts(c) => tolerated = true,
                Some(_) => stopped.push(Stopped {
                    signature: signature.map(str::to_owned),
                    check: c.clone(),
                }),
            }
        }
        if stopped.is_empty()
            && !self.signatures.is_empty()
            && self.indication != Indication::Failed
        {
            Ok(Verified { tolerated })
        } else {
            Err(Unverified {
                indication: self.indication,
                sub_indication: self.sub_indication,
                stopped,
            })
        }
    }

    /// Exit code for `ecert verify`: 0 PASSED, 1 FAILED, 2 INDETERMINATE
    /// (3, [`EXIT_UNREADABLE`], is for [`Unreadable`]).
    pub fn exit_code(&self) -> i32 {
        match self.indication {
            Indication::Passed => 0,
            Indication::Failed => 1,
            Indication::Indeterminate => 2,
        }
    }

    /// The failed checks (signature id or "package", check). Not a verdict: an INDETERMINATE
    /// report has none; use [`Report::passed`] to act on a verification.
    pub fn failed_checks(&self) -> Vec<(String, CheckId)> {
        self.all_checks()
            .filter(|(_, c)| c.status == Status::Failed)
            .map(|(s, c)| (s.unwrap_or("package").to_owned(), c.id))
            .collect()
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
    Report::assemble(pki::format_time(now), signatures, package_checks)
}

impl Report {
    /// The report over these signatures and package checks, with the verdict and counts.
    fn assemble(
        validation_time: String,
        signatures: Vec<SignatureReport>,
        package_checks: Vec<Check>,
    ) -> Self {
        let valid = signatures
            .iter()
            .filter(|s| s.indication == Indication::Passed)
            .count();
        let (indication, sub) = overall(&signatures, &package_checks);
        Report {
            policy: POLICY,
            validation_time,
            indication,
            sub_indication: sub,
            signatures_count: signatures.len(),
            valid_signatures_count: valid,
            signatures,
            package_checks,
        }
    }
}

/// The checks of every signature record, in number order.
const SIGNATURE_CHECKS: [CheckId; 10] = [
    CheckId::ReferenceHashes,
    CheckId::DataHash,
    CheckId::SignerSignature,
    CheckId::SealMakerSignature,
    CheckId::SealFileMatch,
    CheckId::SignerInSeal,
    CheckId::SealValidity,
    CheckId::Certificates,
    CheckId::SignatureMethod,
    CheckId::PropertyInfo,
];

/// The package checks.
const PACKAGE_CHECKS: [CheckId; 2] = [CheckId::Coverage, CheckId::ZipAmbiguity];

/// The verdict over `checks`, which must decide every check in `expected`: FAILED when one
/// failed; else INDETERMINATE when one is undecided (INDETERMINATE, N/A where the check must
/// apply — [`Check::counts_as`] —, or missing); else PASSED. N/A is never counted as a pass. The
/// sub-indication is that of the first check that decided the verdict.
fn summarise(checks: &[Check], expected: &[CheckId]) -> (Indication, Option<SubIndication>) {
    let counted = || {
        checks
            .iter()
            .filter_map(|c| c.counts_as().map(|s| (s, c.sub_indication)))
    };
    if let Some((_, sub)) = counted().find(|(s, _)| *s == Status::Failed) {
        return (Indication::Failed, sub);
    }
    if let Some((_, sub)) = counted().find(|(s, _)| *s == Status::Indeterminate) {
        return (Indication::Indeterminate, sub);
    }
    if expected
        .iter()
        .any(|id| !checks.iter().any(|c| c.id == *id))
    {
        return (Indication::Indeterminate, None);
    }
    (Indication::Passed, None)
}

/// The overall verdict: the first FAILED of the signatures' verdicts and the package checks,
/// else the first INDETERMINATE, else PASSED — and FAILED (`NO_SIGNATURE_FOUND`) without a
/// signature.
fn overall(
    signatures: &[SignatureReport],
    package_checks: &[Check],
) -> (Indication, Option<SubIndication>) {
    let all: Vec<(Indication, Option<SubIndication>)> = signatures
        .iter()
        .map(|s| (s.indication, s.sub_indication))
        .chain([summarise(package_checks, &PACKAGE_CHECKS)])
        .collect();
    let first = |i: Indication| all.iter().find(|(x, _)| *x == i).copied();
    let (indication, sub) = first(Indication::Failed)
        .or_else(|| first(Indication::Indeterminate))
        .unwrap_or((Indication::Passed, None));
    if signatures.is_empty() && indication == Indication::Passed {
        return (Indication::Failed, Some(SubIndication::NoSignatureFound));
    }
    (indication, sub)
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
    let finish = |report: SignatureReport, checks: Vec<Check>, xml: Option<SignatureXml>| Record {
        rec: rec.clone(),
        xml,
        report: report.with_checks(checks),
    };
    let fail_all = |report: SignatureReport, sub: SubIndication, why: &str| {
        let checks = SIGNATURE_CHECKS
            .iter()
            .map(|&id| Check::fail(id, sub, why))
            .collect();
        finish(report, checks, None)
    };
    if rec.sig_type != "Seal" {
        let checks = SIGNATURE_CHECKS
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
            // Check 1 is decided; every other check needs the signature value.
            for id in SIGNATURE_CHECKS
                .into_iter()
                .filter(|id| *id != ReferenceHashes)
            {
                checks.push(Check::fail(id, SubIndication::FormatFailure, why.clone()));
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
    // (The certificates parsed above serve every check: none is parsed twice.)
    let signer_check = match &signer_cert {
        Some(c) => sv.verify_signer_with(c),
        None => sv.verify_signer(),
    };
    checks.push(match signer_check {
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
        match &maker_cert {
            Some(c) => sv.seal.verify_maker_with(c),
            None => sv.seal.verify_maker(),
        }
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
        let ok = |id: CheckId| r.report.passed(id);
        if ok(ReferenceHashes) && ok(DataHash) && ok(SignerSignature) {
            covered.extend(x.references.iter().filter_map(|rf| rf.path.clone()));
            whole |= r.report.whole_protected;
            covered.insert(r.rec.path.clone());
            covered.extend(x.signed_value_path.clone());
            if ok(SealFileMatch) {
                covered.extend(x.seal_path.clone());
            }
        }
    }
    // The model is read over the package as it is (borrowed, not copied), without building
    // the graphic objects: they load no part, so the loaded parts and the reader's errors are
    // those of a full read.
    let mut lean = ofd::ReadOptions::default();
    lean.graphics = false;
    let read = ofd::OfdFile::read_model(pkg, &lean);
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
            let loaded = &f.loaded;
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

#[cfg(test)]
mod tests {
    use super::*;
    use CheckId::*;

    /// A signature record with these checks (the verdict computed as the verifier does).
    fn sig(id: &str, checks: Vec<Check>) -> SignatureReport {
        SignatureReport {
            doc: 0,
            id: id.into(),
            sig_type: "Seal".into(),
            path: format!("Doc_0/Signs/Sign_{id}/Signature.xml"),
            version: None,
            signing_time: None,
            seal_name: None,
            seal_id: None,
            signer: None,
            maker: None,
            whole_protected: true,
            indication: Indication::Failed,
            sub_indication: None,
            checks: Vec::new(),
        }
        .with_checks(checks)
    }

    /// All ten signature checks passed, then `replace` swapped in.
    fn checks_with(replace: &[Check]) -> Vec<Check> {
        SIGNATURE_CHECKS
            .iter()
            .map(|&id| {
                replace
                    .iter()
                    .find(|c| c.id == id)
                    .cloned()
                    .unwrap_or_else(|| Check::pass(id, "ok"))
            })
            .collect()
    }

    fn package_ok() -> Vec<Check> {
        vec![Check::pass(Coverage, "ok"), Check::pass(ZipAmbiguity, "ok")]
    }

    fn report(signatures: Vec<SignatureReport>, package: Vec<Check>) -> Report {
        Report::assemble("2026-01-01T00:00:00Z".into(), signatures, package)
    }

    fn no_chain() -> Check {
        Check::undecided(
            Certificates,
            SubIndication::NoCertificateChainFound,
            "no trust root configured",
        )
    }

    fn without_roots() -> Acceptance {
        Acceptance::strict()
            .allow_indeterminate(Certificates, SubIndication::NoCertificateChainFound)
    }

    #[test]
    fn all_passed_gives_a_verified() {
        let r = report(vec![sig("1", checks_with(&[]))], package_ok());
        assert_eq!(r.indication(), Indication::Passed);
        assert_eq!(r.valid_signatures_count(), 1);
        let v = r.passed().expect("PASSED");
        assert!(!v.tolerated());
        assert_eq!(r.passed_allowing(&without_roots()), Ok(v));
    }

    /// N/A where the check must apply is not a pass: the signature is INDETERMINATE, is not
    /// counted as valid, and gives no `Verified` — for every check but the two whose subject is
    /// optional.
    #[test]
    fn not_applicable_is_not_counted_as_passed() {
        for id in SIGNATURE_CHECKS {
            let r = report(
                vec![sig("1", checks_with(&[Check::na(id, "not evaluated")]))],
                package_ok(),
            );
            if id.may_be_not_applicable() {
                // Neutral: the verdict rests on the other nine checks, all passed.
                assert_eq!(r.indication(), Indication::Passed, "{id:?}");
                assert_eq!(r.valid_signatures_count(), 1, "{id:?}");
                assert!(r.passed().is_some(), "{id:?}");
                continue;
            }
            assert_eq!(
                r.signatures()[0].indication(),
                Indication::Indeterminate,
                "{id:?}"
            );
            assert_eq!(r.indication(), Indication::Indeterminate, "{id:?}");
            assert_eq!(r.valid_signatures_count(), 0, "{id:?}");
            assert_eq!(r.exit_code(), 2, "{id:?}");
            assert!(r.passed().is_none(), "{id:?}");
            let e = r.passed_allowing(&Acceptance::strict()).unwrap_err();
            assert_eq!(e.check_ids(), [id]);
            assert_eq!(e.stopped()[0].check.status(), Status::NotApplicable);
        }
        assert_eq!(
            SIGNATURE_CHECKS
                .iter()
                .filter(|id| id.may_be_not_applicable())
                .count(),
            2
        );
        // A package check that was not evaluated (COVERAGE) does not pass either.
        let r = report(
            vec![sig("1", checks_with(&[]))],
            vec![
                Check::na(Coverage, "not evaluated"),
                Check::pass(ZipAmbiguity, "ok"),
            ],
        );
        assert_eq!(r.indication(), Indication::Indeterminate);
        assert!(r.passed().is_none());
        assert_eq!(
            r.passed_allowing(&without_roots()).unwrap_err().check_ids(),
            [Coverage]
        );
        // Nor do checks that are missing altogether.
        let r = report(vec![sig("1", Vec::new())], package_ok());
        assert_eq!(r.signatures()[0].indication(), Indication::Indeterminate);
        assert_eq!(r.valid_signatures_count(), 0);
        assert!(r.passed().is_none());
        let r = report(
            vec![sig("1", checks_with(&[]))],
            vec![Check::pass(Coverage, "ok")],
        );
        assert_eq!(r.indication(), Indication::Indeterminate);
        assert!(r.passed().is_none());
    }

    #[test]
    fn indeterminate_gives_no_verified_unless_named() {
        let r = report(vec![sig("1", checks_with(&[no_chain()]))], package_ok());
        assert_eq!(r.indication(), Indication::Indeterminate);
        assert!(
            r.failed_checks().is_empty(),
            "nothing failed, yet it did not pass"
        );
        assert!(r.passed().is_none());
        let e = r.passed_allowing(&Acceptance::strict()).unwrap_err();
        assert_eq!(e.indication(), Indication::Indeterminate);
        assert_eq!(
            e.stopped(),
            [Stopped {
                signature: Some("1".into()),
                check: no_chain()
            }]
        );
        let v = r
            .passed_allowing(&without_roots())
            .expect("named outcome accepted");
        assert!(v.tolerated());
        // The same check with another sub-indication is not the named outcome.
        let other_sub = Check::undecided(Certificates, SubIndication::OutOfBounds, "time?");
        let r = report(vec![sig("1", checks_with(&[other_sub]))], package_ok());
        assert_eq!(
            r.passed_allowing(&without_roots()).unwrap_err().check_ids(),
            [Certificates]
        );
        // FAILED is never acceptable, whatever its sub-indication.
        let failed = Check::fail(
            Certificates,
            SubIndication::NoCertificateChainFound,
            "no path",
        );
        let r = report(vec![sig("1", checks_with(&[failed]))], package_ok());
        assert_eq!(r.indication(), Indication::Failed);
        let e = r.passed_allowing(&without_roots()).unwrap_err();
        assert_eq!(e.check_ids(), [Certificates]);
        assert_eq!(e.stopped()[0].check.status(), Status::Failed);
    }

    /// The acceptance names CERTIFICATES only: an INDETERMINATE outcome of any other check
    /// stops it, and is the one listed.
    #[test]
    fn acceptance_refuses_indeterminate_outcomes_of_other_checks() {
        let cases = [
            Check::undecided(
                SealValidity,
                SubIndication::OutOfBounds,
                "timeInfo unreadable",
            ),
            Check::undecided(SignerSignature, SubIndication::NoCertificateChainFound, "x"),
            Check::undecided(DataHash, SubIndication::Unsupported, "Type=\"Sign\""),
        ];
        for other in cases {
            let id = other.id;
            let r = report(
                vec![sig("1", checks_with(&[no_chain(), other]))],
                package_ok(),
            );
            assert_eq!(r.indication(), Indication::Indeterminate);
            let e = r.passed_allowing(&without_roots()).unwrap_err();
            assert_eq!(e.check_ids(), [id], "{e}");
        }
        // And a package check likewise, in a second signature's report too.
        let r = report(
            vec![
                sig("1", checks_with(&[no_chain()])),
                sig("2", checks_with(&[no_chain()])),
            ],
            vec![
                Check::pass(Coverage, "ok"),
                Check::undecided(ZipAmbiguity, SubIndication::ContainerAmbiguity, "?"),
            ],
        );
        let e = r.passed_allowing(&without_roots()).unwrap_err();
        assert_eq!(e.stopped().len(), 1);
        assert_eq!(e.stopped()[0].signature, None);
        assert_eq!(e.check_ids(), [ZipAmbiguity]);
        // Named too, it is accepted.
        let both =
            without_roots().allow_indeterminate(ZipAmbiguity, SubIndication::ContainerAmbiguity);
        assert!(r.passed_allowing(&both).is_ok_and(Verified::tolerated));
    }

    #[test]
    fn a_report_without_signatures_is_never_verified() {
        let r = report(Vec::new(), package_ok());
        assert_eq!(r.indication(), Indication::Failed);
        assert_eq!(r.sub_indication(), Some(SubIndication::NoSignatureFound));
        assert!(r.passed().is_none());
        let e = r.passed_allowing(&without_roots()).unwrap_err();
        assert!(e.stopped().is_empty());
        assert_eq!(e.sub_indication(), Some(SubIndication::NoSignatureFound));
        assert!(e.to_string().contains("NO_SIGNATURE_FOUND"), "{e}");
    }

    /// The refusal names every check that stopped it, Chinese first and English beside it.
    #[test]
    fn unverified_lists_the_checks_that_stopped_it() {
        let r = report(
            vec![sig("7", checks_with(&[no_chain()]))],
            vec![
                Check::fail(
                    Coverage,
                    SubIndication::NotCovered,
                    "loaded but not covered: Doc_0/x",
                ),
                Check::pass(ZipAmbiguity, "ok"),
            ],
        );
        let e = r.passed_allowing(&Acceptance::strict()).unwrap_err();
        assert_eq!(e.check_ids(), [Certificates, Coverage]);
        assert_eq!(
            e.to_string(),
            "签章验证未通过 (the verification did not pass): FAILED (NOT_COVERED); \
             未通过的检查 (checks that stopped it): \
             签章 signature 7: [8] CERTIFICATES INDETERMINATE (NO_CERTIFICATE_CHAIN_FOUND) — no trust root configured; \
             文件 package: [11] COVERAGE FAILED (NOT_COVERED) — loaded but not covered: Doc_0/x"
        );
    }

    #[test]
    fn checks_are_found_by_id() {
        let r = report(vec![sig("1", checks_with(&[no_chain()]))], package_ok());
        let s = &r.signatures()[0];
        for id in SIGNATURE_CHECKS {
            assert_eq!(s.check(id).map(Check::id), Some(id));
            assert_eq!(s.check(id).map(Check::number), Some(id.number()));
            assert!(r.package_check(id).is_none());
            assert!(id.is_per_signature());
        }
        for id in PACKAGE_CHECKS {
            assert_eq!(r.package_check(id).map(Check::id), Some(id));
            assert!(s.check(id).is_none());
            assert!(!id.is_per_signature());
        }
        assert_eq!(
            s.check(Certificates).map(Check::status),
            Some(Status::Indeterminate)
        );
    }

    /// The JSON form is a public contract (`ecert verify --json`, `POST /verify`): private fields
    /// keep their names and order.
    #[test]
    fn json_keeps_its_field_names_and_order() {
        let mut s = sig("1", checks_with(&[no_chain()]));
        s.seal_name = Some("章".into());
        let r = report(vec![s], package_ok());
        let json = serde_json::to_string(&r).unwrap();
        let keys = [
            "\"policy\":\"ecert-ses-strict/1\"",
            "\"validation_time\":",
            "\"indication\":\"INDETERMINATE\"",
            "\"sub_indication\":\"NO_CERTIFICATE_CHAIN_FOUND\"",
            "\"signatures_count\":1",
            "\"valid_signatures_count\":0",
            "\"signatures\":[{\"doc\":0,\"id\":\"1\",\"sig_type\":\"Seal\",\"path\":",
            "\"seal_name\":\"章\",\"whole_protected\":true,\"indication\":\"INDETERMINATE\"",
            "\"checks\":[{\"number\":1,\"id\":\"REFERENCE_HASHES\",\"status\":\"PASSED\",\"reason\":\"ok\"}",
            "{\"number\":8,\"id\":\"CERTIFICATES\",\"status\":\"INDETERMINATE\",\"sub_indication\":\"NO_CERTIFICATE_CHAIN_FOUND\",\"reason\":",
            "\"package_checks\":[{\"number\":11,\"id\":\"COVERAGE\"",
        ];
        let mut at = 0;
        for k in keys {
            let i = json[at..]
                .find(k)
                .unwrap_or_else(|| panic!("{k} after {at} in {json}"));
            at += i + k.len();
        }
    }
}
