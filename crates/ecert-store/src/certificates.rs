//! Certificate records and their lifecycle: issue, revise, supplement,
//! status lookups for the verification pages, downloads (R-7.2.3b), scrub and orphan scan.

use std::collections::HashSet;

use bytes::Bytes;
use serde_json::json;
use sqlx::Row;

use crate::audit::{AuditEvent, append_in};
use crate::blobs::{ProblemKind, ReplicaProblem, VerifiedFile, certificate_key, supplement_key};
use crate::crypto::{ct_eq, hex, new_id, random_bytes, sm3, token_hash};
use crate::customers::{NewBinding, bind_in};
use crate::error::{Result, StoreError, db, is_unique_violation};
use crate::rows::At;
use crate::store::{CrashPoint, Store, WriteTx, now_ms};

/// Life state of a certificate record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateStatus {
    /// Issued and current.
    Valid,
    /// Void: replaced by a revision.
    Revised,
    /// Current, with one or more supplementary files.
    Supplemented,
    /// Past retention and disposed (R-6.5h): no verification is offered.
    Disposed,
}

impl CertificateStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revised => "revised",
            Self::Supplemented => "supplemented",
            Self::Disposed => "disposed",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "valid" => Self::Valid,
            "revised" => Self::Revised,
            "supplemented" => Self::Supplemented,
            "disposed" => Self::Disposed,
            _ => return None,
        })
    }
}

/// A certificate to store: what the application computed (the identifier, kind code and check
/// code come from the domain layer; the verification token is stored only as its SM3).
#[derive(Debug, Clone)]
pub struct NewCertificate {
    /// Certificate number (unique).
    pub number: String,
    /// Identifier text (R-4.5.5; unique).
    pub identifier: String,
    /// Kind code (R-4.5.5 type code, 1–8; any positive integer is accepted here).
    pub kind: i64,
    /// Customer name.
    pub customer_name: String,
    /// Instrument name.
    pub instrument_name: String,
    /// Instrument serial (factory) number.
    pub serial_number: String,
    /// Issue date, `YYYY-MM-DD`.
    pub issue_date: String,
    /// Revision count carried in the identifier (0 for a first issue).
    pub revision: i64,
    /// The verification token of the 2D code URL (≥ 128 bits; at least 22 characters).
    pub verify_token: String,
    /// Check code printed on the certificate, for lookup by number.
    pub check_code: String,
    /// File name for downloads.
    pub file_name: String,
    /// End of retention, `YYYY-MM-DD` (R-6.5c), if known.
    pub retention_until: Option<String>,
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Record id (random, 32 hex characters).
    pub id: String,
    /// Certificate number.
    pub number: String,
    /// Identifier text.
    pub identifier: String,
    /// Kind code.
    pub kind: i64,
    /// Customer name.
    pub customer_name: String,
    /// Instrument name.
    pub instrument_name: String,
    /// Instrument serial number.
    pub serial_number: String,
    /// Issue date, `YYYY-MM-DD`.
    pub issue_date: String,
    /// Status.
    pub status: CertificateStatus,
    /// Revision count.
    pub revision: i64,
    /// Id of the certificate this one revises.
    pub revises: Option<String>,
    /// Id of the certificate that replaced this one (status `revised`).
    pub superseded_by: Option<String>,
    /// SM3 of the verification token.
    pub token_hash: [u8; 32],
    /// Check code.
    pub check_code: String,
    /// File name.
    pub file_name: String,
    /// SM3 of the file (R-6.5a).
    pub file_sm3: [u8; 32],
    /// File size in bytes.
    pub file_size: i64,
    /// Blob key on every replica.
    pub blob_key: String,
    /// When stored (unix ms).
    pub created_at_ms: i64,
    /// When the status last changed (unix ms).
    pub status_at_ms: i64,
    /// End of retention, `YYYY-MM-DD`.
    pub retention_until: Option<String>,
}

/// A supplementary file to bind to an original.
#[derive(Debug, Clone)]
pub struct NewSupplement {
    /// The supplement's own number (unique among supplements).
    pub number: String,
    /// File name for downloads.
    pub file_name: String,
    /// The supplement's own verification token (its 2D code URL), stored only as its SM3;
    /// `None` for a supplement without a code.
    pub verify_token: Option<String>,
}

/// A stored supplement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplementRecord {
    /// Record id.
    pub id: String,
    /// Id of the original certificate.
    pub certificate_id: String,
    /// 1 for the first supplement of the original, then 2, …
    pub seq: i64,
    /// Supplement number.
    pub number: String,
    /// File name.
    pub file_name: String,
    /// SM3 of the file.
    pub file_sm3: [u8; 32],
    /// File size.
    pub file_size: i64,
    /// Blob key.
    pub blob_key: String,
    /// When stored (unix ms).
    pub created_at_ms: i64,
    /// SM3 of the supplement's verification token, if it has one.
    pub token_hash: Option<[u8; 32]>,
}

/// What the verification pages, downloads and the API need to say about one certificate:
/// the application formats the exact statements of R-6.4.1 / R-6.4.2 / R-6.5h from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// The certificate looked at.
    pub certificate: CertificateRecord,
    /// the certificate that directly replaced this one ("修改后的证书号为{number}").
    pub replaced_by: Option<CertificateRecord>,
    /// The current end of the revision chain when it is further than `replaced_by`.
    pub current: Option<CertificateRecord>,
    /// The certificate this one revises.
    pub revises: Option<CertificateRecord>,
    /// supplements bound to this certificate, in order ("对序号为{number}的证书/报告的补充文件").
    pub supplements: Vec<SupplementRecord>,
}

/// Who is reading a file (R-7.2.3b: download time and identity are logged).
#[derive(Debug, Clone)]
pub struct Access {
    /// Identity (customer account, API client id, staff user).
    pub who: String,
    /// Channel (`portal`, `api`, `cli`, …).
    pub channel: String,
    /// Remote address, if any.
    pub remote: Option<String>,
}

/// One row of the download log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadEntry {
    /// When (unix ms).
    pub at_ms: i64,
    /// Certificate id.
    pub certificate_id: String,
    /// Supplement id, when a supplement was downloaded.
    pub supplement_id: Option<String>,
    /// Identity.
    pub who: String,
    /// Channel.
    pub channel: String,
    /// Remote address.
    pub remote: Option<String>,
    /// The sequence number of the audit entry written with it (R-6.5d); `None` for downloads
    /// logged before the store recorded it.
    pub audit_seq: Option<i64>,
}

/// A filter for listing certificates (API list/search). Dates are `YYYY-MM-DD`, inclusive.
#[derive(Debug, Clone, Default)]
pub struct CertificateQuery {
    /// Exact customer name.
    pub customer: Option<String>,
    /// Certificate numbers starting with this.
    pub number_prefix: Option<String>,
    /// Issued on or after.
    pub issued_from: Option<String>,
    /// Issued on or before.
    pub issued_to: Option<String>,
    /// Status.
    pub status: Option<CertificateStatus>,
    /// Instrument name contains this (ASCII letters in either case).
    pub instrument: Option<String>,
    /// Kind code (R-4.5.5, 1–8).
    pub kind: Option<i64>,
    /// Retention ends before this date (candidates for a disposal proposal, R-6.5h).
    pub retention_before: Option<String>,
    /// Keyset pagination: only certificates after this (issue date, number).
    pub after: Option<(String, String)>,
    /// At most this many (0 means 100; capped at 1000).
    pub limit: u32,
}

/// A blob with no record (left by a failed or crashed write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanBlob {
    /// Replica name.
    pub replica: String,
    /// Blob key.
    pub key: String,
    /// Last modified (unix ms).
    pub modified_ms: i64,
    /// A staging file (`<key>#<n>`) left by a write killed between writing and renaming: a
    /// complete or partial copy that no record references.
    pub staging: bool,
}

/// Result of [`Store::scrub`] (R-6.5g periodic scanning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubReport {
    /// Files checked (records × replicas).
    pub checked: u64,
    /// Problems found.
    pub problems: Vec<ReplicaProblem>,
    /// Copies rewritten from an intact replica (when repairing).
    pub repaired: u64,
    /// Files with no intact copy anywhere.
    pub lost: Vec<String>,
    /// Bytes read and hashed in intact copies.
    pub bytes: u64,
}

pub(crate) const CERT_COLUMNS: &str = "id, number, identifier, kind, customer_name, instrument_name, \
    serial_number, issue_date, status, revision, revises, superseded_by, token_hash, check_code, \
    file_name, file_sm3, file_size, blob_key, created_at, status_at, retention_until";

const SUPP_COLUMNS: &str = "id, certificate_id, seq, number, file_name, file_sm3, file_size, \
    blob_key, created_at, token_hash";

/// A row of `certificates`, read with [`CERT_COLUMNS`].
#[derive(sqlx::FromRow)]
pub(crate) struct CertRow {
    id: String,
    number: String,
    identifier: String,
    kind: i64,
    customer_name: String,
    instrument_name: String,
    serial_number: String,
    issue_date: String,
    status: String,
    revision: i64,
    revises: Option<String>,
    superseded_by: Option<String>,
    token_hash: Vec<u8>,
    check_code: String,
    file_name: String,
    file_sm3: Vec<u8>,
    file_size: i64,
    blob_key: String,
    created_at: i64,
    status_at: i64,
    retention_until: Option<String>,
}

impl TryFrom<CertRow> for CertificateRecord {
    type Error = StoreError;

    fn try_from(row: CertRow) -> Result<Self> {
        let at = At {
            table: "certificates",
            key: &row.id,
        };
        let status = CertificateStatus::parse(&row.status).ok_or_else(|| {
            at.unknown(
                "status",
                &row.status,
                "valid, revised, supplemented or disposed",
            )
        })?;
        let token_hash = at.hash("token_hash", row.token_hash)?;
        let file_sm3 = at.hash("file_sm3", row.file_sm3)?;
        Ok(CertificateRecord {
            id: row.id,
            number: row.number,
            identifier: row.identifier,
            kind: row.kind,
            customer_name: row.customer_name,
            instrument_name: row.instrument_name,
            serial_number: row.serial_number,
            issue_date: row.issue_date,
            status,
            revision: row.revision,
            revises: row.revises,
            superseded_by: row.superseded_by,
            token_hash,
            check_code: row.check_code,
            file_name: row.file_name,
            file_sm3,
            file_size: row.file_size,
            blob_key: row.blob_key,
            created_at_ms: row.created_at,
            status_at_ms: row.status_at,
            retention_until: row.retention_until,
        })
    }
}

/// A row of `supplements`, read with [`SUPP_COLUMNS`].
#[derive(sqlx::FromRow)]
struct SuppRow {
    id: String,
    certificate_id: String,
    seq: i64,
    number: String,
    file_name: String,
    file_sm3: Vec<u8>,
    file_size: i64,
    blob_key: String,
    created_at: i64,
    token_hash: Option<Vec<u8>>,
}

impl TryFrom<SuppRow> for SupplementRecord {
    type Error = StoreError;

    fn try_from(row: SuppRow) -> Result<Self> {
        let at = At {
            table: "supplements",
            key: &row.id,
        };
        let file_sm3 = at.hash("file_sm3", row.file_sm3)?;
        let token_hash = row
            .token_hash
            .map(|h| at.hash("token_hash", h))
            .transpose()?;
        Ok(SupplementRecord {
            id: row.id,
            certificate_id: row.certificate_id,
            seq: row.seq,
            number: row.number,
            file_name: row.file_name,
            file_sm3,
            file_size: row.file_size,
            blob_key: row.blob_key,
            created_at_ms: row.created_at,
            token_hash,
        })
    }
}

const DOWNLOAD_COLUMNS: &str = "at, certificate_id, supplement_id, who, channel, remote, audit_seq";

/// A row of `download_log`, read with [`DOWNLOAD_COLUMNS`].
#[derive(sqlx::FromRow)]
struct DownloadRow {
    at: i64,
    certificate_id: String,
    supplement_id: Option<String>,
    who: String,
    channel: String,
    remote: Option<String>,
    audit_seq: Option<i64>,
}

impl From<DownloadRow> for DownloadEntry {
    fn from(row: DownloadRow) -> Self {
        DownloadEntry {
            at_ms: row.at,
            certificate_id: row.certificate_id,
            supplement_id: row.supplement_id,
            who: row.who,
            channel: row.channel,
            remote: row.remote,
            audit_seq: row.audit_seq,
        }
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// `YYYY-MM-DD` with a plausible month and day; returns the year.
fn check_date(field: &'static str, s: &str) -> Result<String> {
    let b = s.as_bytes();
    let ok = b.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let month: u32 = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = s.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(0);
    match s.get(0..4) {
        Some(year) if ok && (1..=12).contains(&month) && (1..=31).contains(&day) => {
            Ok(year.to_owned())
        }
        _ => Err(invalid(field, format!("{s:?} is not a YYYY-MM-DD date"))),
    }
}

fn check_text(field: &'static str, s: &str, max_chars: usize, may_be_empty: bool) -> Result<()> {
    if !may_be_empty && s.trim().is_empty() {
        return Err(invalid(field, "empty"));
    }
    if s.chars().count() > max_chars {
        return Err(invalid(
            field,
            format!("longer than {max_chars} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

fn validate(new: &NewCertificate) -> Result<String> {
    check_text("certificate number", &new.number, 128, false)?;
    check_text("identifier", &new.identifier, 512, false)?;
    check_text("customer name", &new.customer_name, 512, false)?;
    check_text("instrument name", &new.instrument_name, 512, false)?;
    check_text("serial number", &new.serial_number, 256, true)?;
    check_text("check code", &new.check_code, 64, false)?;
    check_text("file name", &new.file_name, 255, false)?;
    if !(1..=9999).contains(&new.kind) {
        return Err(invalid("kind", format!("{} is not a kind code", new.kind)));
    }
    if !(0..=9999).contains(&new.revision) {
        return Err(invalid(
            "revision",
            format!("{} is not a revision count", new.revision),
        ));
    }
    // ≥ 128 bits: 22 base64url characters or 32 hex digits carry at least that much.
    if new.verify_token.len() < 22 || new.verify_token.len() > 256 {
        return Err(invalid(
            "verification token",
            "must be 22 to 256 characters (at least 128 random bits)",
        ));
    }
    if let Some(r) = &new.retention_until {
        check_date("retention date", r)?;
    }
    check_date("issue date", &new.issue_date)
}

/// Per-attempt nonce in blob keys.
fn attempt_nonce() -> Result<String> {
    Ok(hex(&random_bytes::<6>()?))
}

impl Store {
    async fn cert_where(
        &self,
        clause: &'static str,
        arg: BindArg,
    ) -> Result<Option<CertificateRecord>> {
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE {clause}");
        let q = sqlx::query_as::<_, CertRow>(sqlx::AssertSqlSafe(sql));
        let q = match arg {
            BindArg::Text(s) => q.bind(s),
            BindArg::Bytes(b) => q.bind(b),
        };
        q.fetch_optional(&self.pool)
            .await
            .map_err(db("looking up a certificate"))?
            .map(CertificateRecord::try_from)
            .transpose()
    }

    /// The certificate with this record id.
    pub async fn certificate(&self, id: &str) -> Result<Option<CertificateRecord>> {
        self.cert_where("id = $1", BindArg::Text(id.to_owned()))
            .await
    }

    /// The certificate with this number.
    pub async fn certificate_by_number(&self, number: &str) -> Result<Option<CertificateRecord>> {
        self.cert_where("number = $1", BindArg::Text(number.to_owned()))
            .await
    }

    /// The certificate with this identifier.
    pub async fn certificate_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<CertificateRecord>> {
        self.cert_where("identifier = $1", BindArg::Text(identifier.to_owned()))
            .await
    }

    /// The certificate whose verification token is `token` (looked up by its SM3; the token
    /// itself is not stored).
    pub async fn certificate_by_token(&self, token: &str) -> Result<Option<CertificateRecord>> {
        self.cert_where(
            "token_hash = $1",
            BindArg::Bytes(token_hash(token).to_vec()),
        )
        .await
    }

    /// The certificate whose file has this SM3 (an uploaded file checked against our records,
    /// R-6.3b).
    pub async fn certificate_by_file_sm3(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<CertificateRecord>> {
        self.cert_where("file_sm3 = $1", BindArg::Bytes(digest.to_vec()))
            .await
    }

    /// The supplement whose file has this SM3.
    pub async fn supplement_by_file_sm3(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<SupplementRecord>> {
        sqlx::query_as::<_, SuppRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPP_COLUMNS} FROM supplements WHERE file_sm3 = $1"
        )))
        .bind(digest.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a supplement by file hash"))?
        .map(SupplementRecord::try_from)
        .transpose()
    }

    /// The certificate with this number, only if `check_code` matches (compared in constant
    /// time); `None` otherwise, without saying which part was wrong.
    pub async fn certificate_by_number_and_check_code(
        &self,
        number: &str,
        check_code: &str,
    ) -> Result<Option<CertificateRecord>> {
        Ok(self
            .certificate_by_number(number)
            .await?
            .filter(|c| ct_eq(c.check_code.as_bytes(), check_code.as_bytes())))
    }

    fn need(c: Option<CertificateRecord>, key: &str) -> Result<CertificateRecord> {
        c.ok_or_else(|| StoreError::NotFound {
            what: "certificate",
            key: key.to_owned(),
        })
    }

    /// Everything the pages must say about a certificate.
    pub async fn status_view(&self, certificate: CertificateRecord) -> Result<StatusView> {
        let replaced_by = match &certificate.superseded_by {
            Some(id) => Some(Self::need(self.certificate(id).await?, id)?),
            None => None,
        };
        let mut current = None;
        if let Some(next) = &replaced_by {
            let mut cur = next.clone();
            // A chain is at most as long as revision counts go; bound the walk anyway.
            for _ in 0..10_000 {
                let Some(id) = cur.superseded_by.clone() else {
                    break;
                };
                cur = Self::need(self.certificate(&id).await?, &id)?;
            }
            if cur.id != next.id {
                current = Some(cur);
            }
        }
        let revises = match &certificate.revises {
            Some(id) => self.certificate(id).await?,
            None => None,
        };
        let supplements = self.supplements_of(&certificate.id).await?;
        Ok(StatusView {
            certificate,
            replaced_by,
            current,
            revises,
            supplements,
        })
    }

    /// [`Store::status_view`] of the certificate with this verification token (`/v/{token}`).
    pub async fn status_by_token(&self, token: &str) -> Result<Option<StatusView>> {
        match self.certificate_by_token(token).await? {
            Some(c) => Ok(Some(self.status_view(c).await?)),
            None => Ok(None),
        }
    }

    /// [`Store::status_view`] by number + check code (lookup form).
    pub async fn status_by_number_and_check_code(
        &self,
        number: &str,
        check_code: &str,
    ) -> Result<Option<StatusView>> {
        match self
            .certificate_by_number_and_check_code(number, check_code)
            .await?
        {
            Some(c) => Ok(Some(self.status_view(c).await?)),
            None => Ok(None),
        }
    }

    /// Supplements of a certificate, in order.
    pub async fn supplements_of(&self, certificate_id: &str) -> Result<Vec<SupplementRecord>> {
        let rows = sqlx::query_as::<_, SuppRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPP_COLUMNS} FROM supplements WHERE certificate_id = $1 ORDER BY seq"
        )))
        .bind(certificate_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing supplements"))?;
        rows.into_iter().map(SupplementRecord::try_from).collect()
    }

    /// A supplement by record id.
    pub async fn supplement(&self, id: &str) -> Result<Option<SupplementRecord>> {
        sqlx::query_as::<_, SuppRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPP_COLUMNS} FROM supplements WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a supplement"))?
        .map(SupplementRecord::try_from)
        .transpose()
    }

    /// The supplement whose own verification token is `token` (looked up by its SM3), with the
    /// status view of the certificate it supplements.
    pub async fn supplement_by_token(
        &self,
        token: &str,
    ) -> Result<Option<(SupplementRecord, StatusView)>> {
        let supp = sqlx::query_as::<_, SuppRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPP_COLUMNS} FROM supplements WHERE token_hash = $1"
        )))
        .bind(token_hash(token).to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a supplement by token"))?
        .map(SupplementRecord::try_from)
        .transpose()?;
        match supp {
            None => Ok(None),
            Some(s) => {
                let c = Self::need(
                    self.certificate(&s.certificate_id).await?,
                    &s.certificate_id,
                )?;
                Ok(Some((s, self.status_view(c).await?)))
            }
        }
    }

    /// A supplement by its number.
    pub async fn supplement_by_number(&self, number: &str) -> Result<Option<SupplementRecord>> {
        sqlx::query_as::<_, SuppRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPP_COLUMNS} FROM supplements WHERE number = $1"
        )))
        .bind(number.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a supplement"))?
        .map(SupplementRecord::try_from)
        .transpose()
    }

    /// Certificates matching `q`, ordered by issue date then number.
    pub async fn list_certificates(&self, q: &CertificateQuery) -> Result<Vec<CertificateRecord>> {
        let mut sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, cond: &str, v: String| {
            args.push(v);
            sql.push_str(&cond.replace("$?", &format!("${}", args.len())));
        };
        if let Some(c) = &q.customer {
            push(&mut sql, " AND customer_name = $?", c.clone());
        }
        if let Some(p) = &q.number_prefix {
            let n = p.chars().count();
            push(
                &mut sql,
                &format!(" AND substr(number, 1, {n}) = $?"),
                p.clone(),
            );
        }
        if let Some(d) = &q.issued_from {
            check_date("issued_from", d)?;
            push(&mut sql, " AND issue_date >= $?", d.clone());
        }
        if let Some(d) = &q.issued_to {
            check_date("issued_to", d)?;
            push(&mut sql, " AND issue_date <= $?", d.clone());
        }
        if let Some(d) = &q.retention_before {
            check_date("retention_before", d)?;
            push(
                &mut sql,
                " AND retention_until IS NOT NULL AND retention_until < $?",
                d.clone(),
            );
        }
        if let Some(s) = q.status {
            push(&mut sql, " AND status = $?", s.as_str().to_owned());
        }
        if let Some(i) = q.instrument.as_deref().filter(|s| !s.is_empty()) {
            push(
                &mut sql,
                " AND lower(instrument_name) LIKE lower($?) ESCAPE '!'",
                crate::customers::like_pattern(i),
            );
        }
        if let Some(k) = q.kind {
            push(&mut sql, " AND CAST(kind AS TEXT) = $?", k.to_string());
        }
        if let Some((d, n)) = &q.after {
            push(&mut sql, " AND (issue_date > $?", d.clone());
            push(&mut sql, " OR (issue_date = $?", d.clone());
            push(&mut sql, " AND number > $?))", n.clone());
        }
        let limit = match q.limit {
            0 => 100,
            n => n.min(1000),
        };
        sql.push_str(&format!(" ORDER BY issue_date, number LIMIT {limit}"));
        let mut query = sqlx::query_as::<_, CertRow>(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing certificates"))?;
        rows.into_iter().map(CertificateRecord::try_from).collect()
    }

    /// Refuses a new certificate whose number, identifier or token is taken.
    async fn check_free(&self, new: &NewCertificate) -> Result<()> {
        if self.certificate_by_number(&new.number).await?.is_some() {
            return Err(StoreError::DuplicateNumber(new.number.clone()));
        }
        if self
            .certificate_by_identifier(&new.identifier)
            .await?
            .is_some()
        {
            return Err(StoreError::DuplicateIdentifier(new.identifier.clone()));
        }
        if self
            .certificate_by_token(&new.verify_token)
            .await?
            .is_some()
        {
            return Err(StoreError::DuplicateToken);
        }
        Ok(())
    }

    /// After a failed transaction, removes the blobs — unless the record exists after all (a
    /// commit whose acknowledgement was lost) or existence cannot be checked: then the blobs
    /// stay (never a record without its file) and the orphan scan finds any leftovers.
    async fn undo_blobs(&self, table: &'static str, id: &str, key: &str) {
        let sql = if table == "certificates" {
            "SELECT id FROM certificates WHERE id = $1"
        } else {
            "SELECT id FROM supplements WHERE id = $1"
        };
        if let Ok(None) = sqlx::query(sql)
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
        {
            let _ = self.replicas.delete_all(key).await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_cert(
        &self,
        tx: &mut WriteTx,
        id: &str,
        new: &NewCertificate,
        revises: Option<&str>,
        file_sm3: &[u8; 32],
        size: i64,
        key: &str,
        now: i64,
    ) -> std::result::Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO certificates (id, number, identifier, kind, customer_name, \
             instrument_name, serial_number, issue_date, status, revision, revises, superseded_by, \
             token_hash, check_code, file_name, file_sm3, file_size, blob_key, created_at, \
             status_at, retention_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'valid', $9, \
             $10, NULL, $11, $12, $13, $14, $15, $16, $17, $17, $18)",
        )
        .bind(id.to_owned())
        .bind(new.number.clone())
        .bind(new.identifier.clone())
        .bind(new.kind)
        .bind(new.customer_name.clone())
        .bind(new.instrument_name.clone())
        .bind(new.serial_number.clone())
        .bind(new.issue_date.clone())
        .bind(new.revision)
        .bind(revises.map(str::to_owned))
        .bind(token_hash(&new.verify_token).to_vec())
        .bind(new.check_code.clone())
        .bind(new.file_name.clone())
        .bind(file_sm3.to_vec())
        .bind(size)
        .bind(key.to_owned())
        .bind(now)
        .bind(new.retention_until.clone())
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    /// Stores a newly issued certificate: the file on every replica first, then the record and
    /// its audit entry in one transaction (R-6.5a SM3 recorded; R-6.5b replicas; R-6.5f key by
    /// kind and year; R-7.2.2b the issuing/sealing is logged). Put the seal and signer used,
    /// the request id, … into `context`: it becomes part of the audit entry.
    pub async fn issue_certificate(
        &self,
        new: &NewCertificate,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
    ) -> Result<CertificateRecord> {
        self.issue_certificate_bound(new, file, actor, context, None)
            .await
    }

    /// [`Store::issue_certificate`], binding the certificate to its customer in the same
    /// transaction (R-5.2.3: every new certificate reaches its customer's portal list; the
    /// issue's audit entry says which contact fields were bound, never their values).
    pub async fn issue_certificate_bound(
        &self,
        new: &NewCertificate,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
        binding: Option<&NewBinding>,
    ) -> Result<CertificateRecord> {
        validate(new)?;
        if new.revision != 0 {
            return Err(invalid(
                "revision",
                format!(
                    "a first issue has revision count 0, not {}; use revise_certificate",
                    new.revision
                ),
            ));
        }
        self.check_free(new).await?;
        self.store_certificate(new, None, file, actor, context, binding)
            .await
    }

    /// Stores a certificate that its caller has validated (`new`) and checked against the
    /// records (free number; the original's state when revising).
    async fn store_certificate(
        &self,
        new: &NewCertificate,
        original: Option<&CertificateRecord>,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
        binding: Option<&NewBinding>,
    ) -> Result<CertificateRecord> {
        // (the year of the issue date, as the caller's validation found it)
        let year = validate(new)?;
        let year = year.as_str();
        let id = new_id()?;
        let key = certificate_key(new.kind, year, &new.number, &attempt_nonce()?);
        let digest = sm3(&file);
        let size = i64::try_from(file.len()).unwrap_or(i64::MAX);
        self.replicas.put_all(&key, file).await?;
        self.crash_point(CrashPoint::AfterBlobs);
        let res = self
            .commit_certificate(
                &id, new, original, &digest, size, &key, actor, context, binding,
            )
            .await;
        match res {
            Ok(()) => Self::need(self.certificate(&id).await?, &id),
            Err(e) => {
                self.undo_blobs("certificates", &id, &key).await;
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit_certificate(
        &self,
        id: &str,
        new: &NewCertificate,
        original: Option<&CertificateRecord>,
        digest: &[u8; 32],
        size: i64,
        key: &str,
        actor: &str,
        context: &serde_json::Value,
        binding: Option<&NewBinding>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if let Err(e) = self
            .insert_cert(
                &mut tx,
                id,
                new,
                original.map(|o| o.id.as_str()),
                digest,
                size,
                key,
                now,
            )
            .await
        {
            drop(tx);
            if is_unique_violation(&e) {
                // Someone took the number, identifier or token (or revised the same original)
                // between the checks and this transaction.
                self.check_free(new).await?;
                if let Some(o) = original {
                    return Err(self.revise_refusal(&o.id).await);
                }
            }
            return Err(StoreError::Database {
                op: "inserting a certificate record",
                source: e,
            });
        }
        let mut details = json!({
            "id": id,
            "identifier": new.identifier,
            "kind": new.kind,
            "file_sm3": hex(digest),
            "file_size": size,
            "blob_key": key,
            "replicas": self.replica_names(),
            "context": context,
        });
        let action = if let Some(orig) = original {
            let n = sqlx::query(
                "UPDATE certificates SET status = 'revised', superseded_by = $1, status_at = $2 \
                 WHERE id = $3 AND status IN ('valid', 'supplemented')",
            )
            .bind(id.to_owned())
            .bind(now)
            .bind(orig.id.clone())
            .execute(&mut *tx)
            .await
            .map_err(db("marking the original certificate revised"))?
            .rows_affected();
            if n != 1 {
                drop(tx);
                return Err(self.revise_refusal(&orig.id).await);
            }
            if let Some(obj) = details.as_object_mut() {
                obj.insert("revises".into(), json!(orig.number));
                obj.insert("revises_id".into(), json!(orig.id));
            }
            "certificate.revise"
        } else {
            "certificate.issue"
        };
        if let Some(b) = binding {
            let summary = bind_in(&mut tx, b, id, now).await?;
            if let Some(obj) = details.as_object_mut() {
                obj.insert("customer".into(), summary);
            }
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action,
                subject: &new.number,
                details: &details,
            },
        )
        .await?;
        self.crash_point(CrashPoint::BeforeCommit);
        tx.commit()
            .await
            .map_err(db("committing the certificate record"))
    }

    /// Why an original cannot be revised (now).
    async fn revise_refusal(&self, original_id: &str) -> StoreError {
        let orig = match self.certificate(original_id).await {
            Ok(Some(o)) => o,
            Ok(None) => {
                return StoreError::NotFound {
                    what: "certificate",
                    key: original_id.to_owned(),
                };
            }
            Err(e) => return e,
        };
        match orig.status {
            CertificateStatus::Disposed => StoreError::Disposed {
                number: orig.number,
            },
            _ => {
                let replaced_by = match &orig.superseded_by {
                    Some(id) => match self.certificate(id).await {
                        Ok(Some(n)) => n.number,
                        _ => id.clone(),
                    },
                    None => "(unknown)".to_owned(),
                };
                StoreError::AlreadyRevised {
                    number: orig.number,
                    replaced_by,
                }
            }
        }
    }

    /// stores `new` as the revision of `original_id` — atomically, the original
    /// becomes `revised` with `superseded_by` = the new record. Refuses a second revision of an
    /// original that is already void, a revision count that is not the original's plus one,
    /// and duplicate numbers or identifiers — all before any file is written.
    pub async fn revise_certificate(
        &self,
        original_id: &str,
        new: &NewCertificate,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
    ) -> Result<CertificateRecord> {
        self.revise_certificate_bound(original_id, new, file, actor, context, None)
            .await
    }

    /// [`Store::revise_certificate`], binding the revision to its customer in the same
    /// transaction (the application passes the original's binding when the revision's content
    /// names no customer contact).
    pub async fn revise_certificate_bound(
        &self,
        original_id: &str,
        new: &NewCertificate,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
        binding: Option<&NewBinding>,
    ) -> Result<CertificateRecord> {
        validate(new)?;
        let orig = Self::need(self.certificate(original_id).await?, original_id)?;
        match orig.status {
            CertificateStatus::Valid | CertificateStatus::Supplemented => {}
            _ => return Err(self.revise_refusal(&orig.id).await),
        }
        if new.revision != orig.revision + 1 {
            return Err(StoreError::RevisionCount {
                number: orig.number,
                expected: orig.revision + 1,
                got: new.revision,
            });
        }
        self.check_free(new).await?;
        self.store_certificate(new, Some(&orig), file, actor, context, binding)
            .await
    }

    /// binds a supplementary file to `original_id` (which becomes `supplemented`).
    /// A void (revised) or disposed certificate takes no supplement.
    pub async fn add_supplement(
        &self,
        original_id: &str,
        new: &NewSupplement,
        file: Bytes,
        actor: &str,
        context: &serde_json::Value,
    ) -> Result<SupplementRecord> {
        check_text("supplement number", &new.number, 128, false)?;
        check_text("file name", &new.file_name, 255, false)?;
        if let Some(t) = &new.verify_token {
            if t.len() < 22 || t.len() > 256 {
                return Err(invalid(
                    "verification token",
                    "must be 22 to 256 characters (at least 128 random bits)",
                ));
            }
            if self.certificate_by_token(t).await?.is_some()
                || self.supplement_by_token(t).await?.is_some()
            {
                return Err(StoreError::DuplicateToken);
            }
        }
        let orig = Self::need(self.certificate(original_id).await?, original_id)?;
        match orig.status {
            CertificateStatus::Valid | CertificateStatus::Supplemented => {}
            _ => return Err(self.supplement_refusal(&orig).await),
        }
        if self.supplement_by_number(&new.number).await?.is_some() {
            return Err(StoreError::DuplicateSupplementNumber(new.number.clone()));
        }
        let seq = 1 + self
            .supplements_of(&orig.id)
            .await?
            .iter()
            .map(|s| s.seq)
            .max()
            .unwrap_or(0);
        let year = check_date("issue date", &orig.issue_date)?;
        let id = new_id()?;
        let key = supplement_key(orig.kind, &year, &orig.number, seq, &attempt_nonce()?);
        let digest = sm3(&file);
        let size = i64::try_from(file.len()).unwrap_or(i64::MAX);
        self.replicas.put_all(&key, file).await?;
        self.crash_point(CrashPoint::AfterBlobs);
        let res = self
            .commit_supplement(&id, &orig, new, seq, &digest, size, &key, actor, context)
            .await;
        match res {
            Ok(()) => self.supplement(&id).await?.ok_or(StoreError::NotFound {
                what: "supplement",
                key: id,
            }),
            Err(e) => {
                self.undo_blobs("supplements", &id, &key).await;
                Err(e)
            }
        }
    }

    async fn supplement_refusal(&self, orig: &CertificateRecord) -> StoreError {
        match self.revise_refusal(&orig.id).await {
            StoreError::AlreadyRevised {
                number,
                replaced_by,
            } => invalid(
                "original",
                format!(
                    "certificate {number:?} is void (revised; its replacement is \
                     {replaced_by:?}): supplement the current certificate instead"
                ),
            ),
            other => other,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit_supplement(
        &self,
        id: &str,
        orig: &CertificateRecord,
        new: &NewSupplement,
        seq: i64,
        digest: &[u8; 32],
        size: i64,
        key: &str,
        actor: &str,
        context: &serde_json::Value,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE certificates SET status = 'supplemented', status_at = $1 \
             WHERE id = $2 AND status IN ('valid', 'supplemented')",
        )
        .bind(now)
        .bind(orig.id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db("marking the original certificate supplemented"))?
        .rows_affected();
        if n != 1 {
            drop(tx);
            return Err(self.supplement_refusal(orig).await);
        }
        let r = sqlx::query(
            "INSERT INTO supplements (id, certificate_id, seq, number, file_name, file_sm3, \
             file_size, blob_key, created_at, token_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_owned())
        .bind(orig.id.clone())
        .bind(seq)
        .bind(new.number.clone())
        .bind(new.file_name.clone())
        .bind(digest.to_vec())
        .bind(size)
        .bind(key.to_owned())
        .bind(now)
        .bind(new.verify_token.as_deref().map(|t| token_hash(t).to_vec()))
        .execute(&mut *tx)
        .await;
        if let Err(e) = r {
            drop(tx);
            if is_unique_violation(&e) {
                if self.supplement_by_number(&new.number).await?.is_some() {
                    return Err(StoreError::DuplicateSupplementNumber(new.number.clone()));
                }
                return Err(invalid(
                    "supplement",
                    "another supplement of the same certificate was stored at the same moment; retry",
                ));
            }
            return Err(StoreError::Database {
                op: "inserting a supplement",
                source: e,
            });
        }
        let details = json!({
            "id": id,
            "original": orig.number,
            "original_id": orig.id,
            "seq": seq,
            "file_sm3": hex(digest),
            "file_size": size,
            "blob_key": key,
            "replicas": self.replica_names(),
            "context": context,
        });
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "certificate.supplement",
                subject: &new.number,
                details: &details,
            },
        )
        .await?;
        self.crash_point(CrashPoint::BeforeCommit);
        tx.commit()
            .await
            .map_err(db("committing the supplement record"))
    }

    /// Marks a certificate disposed (R-6.5h tombstone: the record stays so that verification
    /// can say "超过存储期限，不提供真伪验证"). The approval workflow and the destruction of the
    /// files (R-6.5i) are the caller's / future work.
    pub async fn mark_disposed(
        &self,
        id: &str,
        actor: &str,
        context: &serde_json::Value,
    ) -> Result<CertificateRecord> {
        let c = Self::need(self.certificate(id).await?, id)?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE certificates SET status = 'disposed', status_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db("marking a certificate disposed"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "certificate.dispose",
                subject: &c.number,
                details: &json!({"id": id, "previous_status": c.status.as_str(), "context": context}),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a disposal"))?;
        Self::need(self.certificate(id).await?, id)
    }

    /// The certificate's file, SM3-checked (R-6.5a), from the first replica with an intact
    /// copy. Not logged: for internal use (e.g. comparing an uploaded file); user downloads go
    /// through [`Store::download_certificate`].
    pub async fn certificate_file(&self, id: &str) -> Result<VerifiedFile> {
        let c = Self::need(self.certificate(id).await?, id)?;
        self.replicas.get_verified(&c.blob_key, &c.file_sm3).await
    }

    /// A supplement's file, SM3-checked.
    pub async fn supplement_file(&self, id: &str) -> Result<VerifiedFile> {
        let s = self.supplement(id).await?.ok_or(StoreError::NotFound {
            what: "supplement",
            key: id.to_owned(),
        })?;
        self.replicas.get_verified(&s.blob_key, &s.file_sm3).await
    }

    /// A download: the file (SM3-checked), with its time and the reader's identity written to
    /// the download log and the audit chain first (R-7.2.3b, R-6.5d). If logging fails the file
    /// is not returned.
    pub async fn download_certificate(&self, id: &str, access: &Access) -> Result<VerifiedFile> {
        let c = Self::need(self.certificate(id).await?, id)?;
        let file = self.replicas.get_verified(&c.blob_key, &c.file_sm3).await?;
        self.log_download(&c, None, access, &file).await?;
        Ok(file)
    }

    /// A supplement download, logged like [`Store::download_certificate`].
    pub async fn download_supplement(&self, id: &str, access: &Access) -> Result<VerifiedFile> {
        let s = self.supplement(id).await?.ok_or(StoreError::NotFound {
            what: "supplement",
            key: id.to_owned(),
        })?;
        let c = Self::need(
            self.certificate(&s.certificate_id).await?,
            &s.certificate_id,
        )?;
        let file = self.replicas.get_verified(&s.blob_key, &s.file_sm3).await?;
        self.log_download(&c, Some(&s), access, &file).await?;
        Ok(file)
    }

    async fn log_download(
        &self,
        c: &CertificateRecord,
        s: Option<&SupplementRecord>,
        access: &Access,
        file: &VerifiedFile,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let problems: Vec<String> = file.problems.iter().map(|p| p.to_string()).collect();
        // The audit entry first: its sequence number orders downloads of the same millisecond.
        let entry = append_in(
            &mut tx,
            &AuditEvent {
                actor: &access.who,
                action: "certificate.download",
                subject: s.map_or(&c.number, |s| &s.number),
                details: &json!({
                    "certificate_id": c.id,
                    "supplement_id": s.map(|s| &s.id),
                    "channel": access.channel,
                    "remote": access.remote,
                    "replica": file.replica,
                    "replica_problems": problems,
                }),
            },
        )
        .await?;
        sqlx::query(
            "INSERT INTO download_log (id, at, certificate_id, supplement_id, who, channel, remote, \
             audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id()?)
        .bind(now)
        .bind(c.id.clone())
        .bind(s.map(|s| s.id.clone()))
        .bind(access.who.clone())
        .bind(access.channel.clone())
        .bind(access.remote.clone())
        .bind(entry.seq)
        .execute(&mut *tx)
        .await
        .map_err(db("writing the download log"))?;
        tx.commit().await.map_err(db("committing the download log"))
    }

    /// The download log of a certificate (its supplements included), oldest first.
    pub async fn downloads_of(&self, certificate_id: &str) -> Result<Vec<DownloadEntry>> {
        let rows = sqlx::query_as::<_, DownloadRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {DOWNLOAD_COLUMNS} FROM download_log WHERE certificate_id = $1 \
             ORDER BY at, audit_seq, id"
        )))
        .bind(certificate_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the download log"))?;
        Ok(rows.into_iter().map(DownloadEntry::from).collect())
    }

    /// Every stored certificate and supplement file the records reference (blob key, SM3),
    /// disposed ones left out: what a backup copies.
    pub async fn stored_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.referenced_blobs().await
    }

    /// The file stored under `key`, checked against `sm3` on each replica in turn.
    pub async fn read_stored(&self, key: &str, sm3: &[u8]) -> Result<VerifiedFile> {
        self.replicas.get_verified(key, sm3).await
    }

    /// Writes `bytes` under `key` on every replica where it is missing (a restore, or a replica
    /// added later); a copy already there is left as it is (scrub judges it).
    pub async fn put_stored(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.replicas.put_missing(key, bytes).await
    }

    /// Every (blob key, SM3) the database references.
    async fn referenced_blobs(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let op = "listing blob keys";
        let rows = sqlx::query(
            "SELECT blob_key, file_sm3 FROM certificates WHERE status <> 'disposed' UNION ALL \
             SELECT s.blob_key, s.file_sm3 FROM supplements s \
             JOIN certificates c ON c.id = s.certificate_id WHERE c.status <> 'disposed'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db(op))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("blob_key").map_err(db(op))?,
                    r.try_get("file_sm3").map_err(db(op))?,
                ))
            })
            .collect()
    }

    /// Blobs on any replica that no record references: left by failed or crashed writes (or
    /// by a write in progress right now). Safe to delete once older than any running write.
    pub async fn orphan_blobs(&self) -> Result<Vec<OrphanBlob>> {
        let listed = self.replicas.list_all().await?;
        let known: HashSet<String> = self
            .referenced_blobs()
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let staging = self.replicas.staging_files().await?;
        Ok(listed
            .into_iter()
            .filter(|(_, k, _)| !known.contains(k))
            .map(|(replica, key, modified_ms)| OrphanBlob {
                replica,
                key,
                modified_ms,
                staging: false,
            })
            .chain(
                staging
                    .into_iter()
                    .map(|(replica, key, modified_ms)| OrphanBlob {
                        replica,
                        key,
                        modified_ms,
                        staging: true,
                    }),
            )
            .collect())
    }

    /// Deletes orphan blobs last modified before `older_than_ms` (pick a time well before any
    /// write still running: a write's blobs are orphans until its record commits). Each is
    /// re-checked against the records just before deletion; the removal is audited. Returns
    /// what was removed.
    pub async fn remove_orphan_blobs(
        &self,
        older_than_ms: i64,
        actor: &str,
    ) -> Result<Vec<OrphanBlob>> {
        let candidates: Vec<OrphanBlob> = self
            .orphan_blobs()
            .await?
            .into_iter()
            .filter(|o| o.modified_ms < older_than_ms)
            .collect();
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let known: HashSet<String> = self
            .referenced_blobs()
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut removed = Vec::new();
        for o in candidates {
            if o.staging {
                self.replicas.delete_staging(&o.replica, &o.key).await?;
                removed.push(o);
                continue;
            }
            if known.contains(&o.key) {
                continue;
            }
            self.replicas.delete_one(&o.replica, &o.key).await?;
            removed.push(o);
        }
        let list: Vec<String> = removed
            .iter()
            .map(|o| format!("{}:{}", o.replica, o.key))
            .collect();
        self.append_audit(&AuditEvent {
            actor,
            action: "blob.remove_orphans",
            subject: "replicas",
            details: &json!({ "removed": list }),
        })
        .await?;
        Ok(removed)
    }

    /// Checks every referenced file on every replica against its SM3 (R-6.5g periodic
    /// scanning); with `repair`, rewrites missing or damaged copies from an intact one.
    pub async fn scrub(&self, repair: bool) -> Result<ScrubReport> {
        self.scrub_with_progress(repair, &|_, _| {}).await
    }

    /// [`Store::scrub`], telling `progress(files done, files in all)` after each file (for a
    /// progress bar).
    pub async fn scrub_with_progress(
        &self,
        repair: bool,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<ScrubReport> {
        let mut report = ScrubReport::default();
        let files = self.referenced_blobs().await?;
        let total = files.len() as u64;
        progress(0, total);
        for (done, (key, digest)) in (1u64..).zip(files) {
            let mut good: Option<Bytes> = None;
            let mut bad: Vec<ReplicaProblem> = Vec::new();
            for r in &self.replicas.0 {
                report.checked += 1;
                match r.check(&key, &digest).await {
                    Ok(b) => {
                        report.bytes += b.len() as u64;
                        good.get_or_insert(b);
                    }
                    Err(p) => bad.push(p),
                }
            }
            match (&good, repair) {
                (None, _) if !bad.is_empty() => report.lost.push(key.clone()),
                (Some(bytes), true) => {
                    for p in &bad {
                        if matches!(
                            p.kind,
                            ProblemKind::Missing | ProblemKind::HashMismatch { .. }
                        ) {
                            self.replicas
                                .repair(&p.replica, &key, bytes.clone())
                                .await?;
                            report.repaired += 1;
                        }
                    }
                }
                _ => {}
            }
            report.problems.extend(bad);
            progress(done, total);
        }
        Ok(report)
    }
}

enum BindArg {
    Text(String),
    Bytes(Vec<u8>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert_eq!(check_date("d", "2026-11-26").unwrap(), "2026");
        for bad in [
            "2026-13-01",
            "2026-1-01",
            "26-11-26",
            "2026/11/26",
            "2026-11-00",
            "２０２６-11-26",
        ] {
            assert!(check_date("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn status_text_round_trips() {
        for s in [
            CertificateStatus::Valid,
            CertificateStatus::Revised,
            CertificateStatus::Supplemented,
            CertificateStatus::Disposed,
        ] {
            assert_eq!(CertificateStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CertificateStatus::parse("void"), None);
    }
}
