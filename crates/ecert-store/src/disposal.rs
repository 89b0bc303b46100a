//! Disposal of certificates past retention (R-6.5c, R-6.5h, R-6.5i): proposed by one person,
//! approved by another, then executed — the files destroyed on every replica, the record kept
//! as `disposed` so that every later look says "超过存储期限，不提供真伪验证".

use serde_json::json;
use sqlx::Row;

use crate::audit::{AuditEvent, append_in};
use crate::certificates::{CertificateRecord, CertificateStatus};
use crate::crypto::new_id;
use crate::error::{Result, StoreError, db};
use crate::rows::At;
use crate::store::{Store, now_ms};

/// R-6.5c: certificates are kept at least this many years after issue.
pub const MIN_RETENTION_YEARS: u32 = 6;

/// Where a disposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisposalState {
    /// Proposed; waits for a second person's approval.
    Proposed,
    /// Approved; waits for execution.
    Approved,
    /// Executed: files destroyed on every replica, the record `disposed`.
    Executed,
}

impl DisposalState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Executed => "executed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "proposed" => Self::Proposed,
            "approved" => Self::Approved,
            "executed" => Self::Executed,
            _ => return None,
        })
    }
}

/// A disposal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisposalRecord {
    /// Record id.
    pub id: String,
    /// The certificate to dispose of.
    pub certificate_id: String,
    /// Its number (joined in for display).
    pub number: String,
    /// State.
    pub state: DisposalState,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (unix ms).
    pub proposed_at_ms: i64,
    /// Who approved it (a different person).
    pub approved_by: Option<String>,
    /// When approved.
    pub approved_at_ms: Option<i64>,
    /// Who executed it.
    pub executed_by: Option<String>,
    /// When executed.
    pub executed_at_ms: Option<i64>,
}

const DISP_COLUMNS: &str = "d.id, d.certificate_id, c.number, d.state, d.proposed_by, \
    d.proposed_at, d.approved_by, d.approved_at, d.executed_by, d.executed_at";

/// A row of `disposals` joined with its certificate's number, read with [`DISP_COLUMNS`].
#[derive(sqlx::FromRow)]
struct DispRow {
    id: String,
    certificate_id: String,
    number: String,
    state: String,
    proposed_by: String,
    proposed_at: i64,
    approved_by: Option<String>,
    approved_at: Option<i64>,
    executed_by: Option<String>,
    executed_at: Option<i64>,
}

impl TryFrom<DispRow> for DisposalRecord {
    type Error = StoreError;

    fn try_from(row: DispRow) -> Result<Self> {
        let state = DisposalState::parse(&row.state).ok_or_else(|| {
            At {
                table: "disposals",
                key: &row.id,
            }
            .unknown("state", &row.state, "proposed, approved or executed")
        })?;
        Ok(DisposalRecord {
            id: row.id,
            certificate_id: row.certificate_id,
            number: row.number,
            state,
            proposed_by: row.proposed_by,
            proposed_at_ms: row.proposed_at,
            approved_by: row.approved_by,
            approved_at_ms: row.approved_at,
            executed_by: row.executed_by,
            executed_at_ms: row.executed_at,
        })
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// `today` minus `years` as `YYYY-MM-DD` text (compares correctly with stored dates).
fn years_before(today: &str, years: u32) -> Result<String> {
    let year: i64 = today
        .get(0..4)
        .and_then(|y| y.parse().ok())
        .filter(|_| today.len() == 10 && today.as_bytes()[4] == b'-')
        .ok_or_else(|| invalid("today", format!("{today:?} is not a YYYY-MM-DD date")))?;
    Ok(format!(
        "{:04}{}",
        year - i64::from(years),
        today.get(4..).unwrap_or("")
    ))
}

fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Store {
    /// Certificates whose retention is over on `today` (`YYYY-MM-DD`): issued at least
    /// `max(years, 6)` years before (R-6.5c: never less than six), past their recorded
    /// `retention_until` if any, not disposed, and with no disposal yet.
    pub async fn disposal_candidates(
        &self,
        today: &str,
        years: u32,
    ) -> Result<Vec<CertificateRecord>> {
        let cutoff = years_before(today, years.max(MIN_RETENTION_YEARS))?;
        let rows = sqlx::query(
            "SELECT id FROM certificates WHERE status <> 'disposed' AND issue_date <= $1 \
             AND (retention_until IS NULL OR retention_until <= $2) \
             AND id NOT IN (SELECT certificate_id FROM disposals) ORDER BY issue_date, number",
        )
        .bind(cutoff)
        .bind(today.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing disposal candidates"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id").map_err(db("listing disposal candidates"))?;
            if let Some(c) = self.certificate(&id).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// R-6.5h: proposes the disposal of a certificate whose retention is over on `today`
    /// (checked again here: see [`Store::disposal_candidates`]).
    pub async fn propose_disposal(
        &self,
        certificate_id: &str,
        proposed_by: &str,
        today: &str,
        years: u32,
    ) -> Result<DisposalRecord> {
        if proposed_by.trim().is_empty() {
            return Err(invalid("proposer", "empty"));
        }
        let c = self
            .certificate(certificate_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "certificate",
                key: certificate_id.to_owned(),
            })?;
        if c.status == CertificateStatus::Disposed {
            return Err(StoreError::Disposed { number: c.number });
        }
        if let Some(d) = self.disposal_of(&c.id).await? {
            return Err(invalid(
                "disposal",
                format!(
                    "certificate {:?} already has a disposal ({})",
                    c.number,
                    d.state.as_str()
                ),
            ));
        }
        let years = years.max(MIN_RETENTION_YEARS);
        let cutoff = years_before(today, years)?;
        let retained = c.issue_date.as_str() > cutoff.as_str()
            || c.retention_until.as_deref().is_some_and(|r| r > today);
        if retained {
            return Err(invalid(
                "retention",
                format!(
                    "certificate {:?} (issued {}, retained until {}) is within its retention \
                     period of {years} years (R-6.5c)",
                    c.number,
                    c.issue_date,
                    c.retention_until.as_deref().unwrap_or("-")
                ),
            ));
        }
        let id = new_id()?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO disposals (id, certificate_id, state, proposed_by, proposed_at) \
             VALUES ($1, $2, 'proposed', $3, $4)",
        )
        .bind(id.clone())
        .bind(c.id.clone())
        .bind(proposed_by.trim().to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("inserting a disposal proposal"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: proposed_by,
                action: "disposal.propose",
                subject: &c.number,
                details: &json!({
                    "disposal": id,
                    "certificate_id": c.id,
                    "issue_date": c.issue_date,
                    "retention_until": c.retention_until,
                    "retention_years": years,
                    "today": today,
                }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing a disposal proposal"))?;
        self.need_disposal(&c.id).await
    }

    /// R-6.5h: a second person approves a proposed disposal (the proposer cannot).
    pub async fn approve_disposal(
        &self,
        certificate_id: &str,
        approved_by: &str,
    ) -> Result<DisposalRecord> {
        if approved_by.trim().is_empty() {
            return Err(invalid("approver", "empty"));
        }
        let d = self.need_disposal(certificate_id).await?;
        if d.state != DisposalState::Proposed {
            return Err(invalid(
                "disposal",
                format!(
                    "the disposal of {:?} is {}, not proposed",
                    d.number,
                    d.state.as_str()
                ),
            ));
        }
        if same_person(&d.proposed_by, approved_by) {
            return Err(invalid(
                "approver",
                format!(
                    "{approved_by:?} proposed this disposal; a different person must approve it (R-6.5h)"
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE disposals SET state = 'approved', approved_by = $1, approved_at = $2 \
             WHERE id = $3 AND state = 'proposed'",
        )
        .bind(approved_by.trim().to_owned())
        .bind(now_ms())
        .bind(d.id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db("approving a disposal"))?
        .rows_affected();
        if n != 1 {
            return Err(invalid("disposal", "changed concurrently; retry"));
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: approved_by,
                action: "disposal.approve",
                subject: &d.number,
                details: &json!({"disposal": d.id, "proposed_by": d.proposed_by}),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing an approval"))?;
        self.need_disposal(certificate_id).await
    }

    /// R-6.5h, R-6.5i: executes an approved disposal: the record becomes `disposed` (first, so
    /// a missing file is never an unexplained loss), then the certificate's and its
    /// supplements' files are destroyed on every replica (overwritten, then deleted), then the
    /// disposal is `executed`.
    /// A failed deletion leaves the disposal `approved`; executing again retries it.
    pub async fn execute_disposal(
        &self,
        certificate_id: &str,
        actor: &str,
    ) -> Result<DisposalRecord> {
        let d = self.need_disposal(certificate_id).await?;
        if d.state != DisposalState::Approved {
            return Err(invalid(
                "disposal",
                format!(
                    "the disposal of {:?} is {}; only approved disposals are executed",
                    d.number,
                    d.state.as_str()
                ),
            ));
        }
        let c = self
            .certificate(certificate_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "certificate",
                key: certificate_id.to_owned(),
            })?;
        if c.status != CertificateStatus::Disposed {
            self.mark_disposed(
                &c.id,
                actor,
                &json!({"disposal": d.id, "proposed_by": d.proposed_by, "approved_by": d.approved_by}),
            )
            .await?;
        }
        let mut keys = vec![c.blob_key.clone()];
        keys.extend(
            self.supplements_of(&c.id)
                .await?
                .into_iter()
                .map(|s| s.blob_key),
        );
        let mut failures = Vec::new();
        for k in &keys {
            failures.extend(self.replicas.destroy_all(k).await.0);
        }
        if !failures.is_empty() {
            return Err(invalid(
                "replicas",
                format!(
                    "certificate {:?} is disposed but its files could not be destroyed everywhere \
                     (run the execution again): {}",
                    c.number,
                    failures.join("; ")
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE disposals SET state = 'executed', executed_by = $1, executed_at = $2 \
             WHERE id = $3 AND state = 'approved'",
        )
        .bind(actor.to_owned())
        .bind(now_ms())
        .bind(d.id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db("recording an executed disposal"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "disposal.execute",
                subject: &c.number,
                details: &json!({
                    "disposal": d.id,
                    "destroyed": keys,
                    "replicas": self.replica_names(),
                }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing an executed disposal"))?;
        self.need_disposal(certificate_id).await
    }

    /// The disposal of a certificate, if any.
    pub async fn disposal_of(&self, certificate_id: &str) -> Result<Option<DisposalRecord>> {
        sqlx::query_as::<_, DispRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {DISP_COLUMNS} FROM disposals d JOIN certificates c ON c.id = d.certificate_id \
             WHERE d.certificate_id = $1"
        )))
        .bind(certificate_id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a disposal"))?
        .map(DisposalRecord::try_from)
        .transpose()
    }

    async fn need_disposal(&self, certificate_id: &str) -> Result<DisposalRecord> {
        self.disposal_of(certificate_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "disposal",
                key: certificate_id.to_owned(),
            })
    }

    /// Disposals, optionally only those in `state`, oldest proposal first.
    pub async fn disposals(&self, state: Option<DisposalState>) -> Result<Vec<DisposalRecord>> {
        let mut sql = format!(
            "SELECT {DISP_COLUMNS} FROM disposals d JOIN certificates c ON c.id = d.certificate_id"
        );
        if state.is_some() {
            sql.push_str(" WHERE d.state = $1");
        }
        sql.push_str(" ORDER BY d.proposed_at, c.number");
        let mut q = sqlx::query_as::<_, DispRow>(sqlx::AssertSqlSafe(sql));
        if let Some(s) = state {
            q = q.bind(s.as_str().to_owned());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing disposals"))?;
        rows.into_iter().map(DisposalRecord::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_dates() {
        assert_eq!(years_before("2032-03-08", 6).unwrap(), "2026-03-08");
        assert!(years_before("yesterday", 6).is_err());
        assert!(same_person(" Alice ", "alice"));
    }
}
