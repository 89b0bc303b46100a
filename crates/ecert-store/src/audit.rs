//! The append-only, SM3 hash-chained audit log (R-7.2.2b sealing/signing, R-7.2.2d exchanges
//! with the business system, R-6.5d access to certificate storage).
//!
//! # Entry hash
//! `hash = SM3(prev_hash ‖ canonical)`, with `prev_hash` the previous entry's hash (32 zero
//! bytes before the first entry) and
//! ```text
//! canonical = "ecert-audit-v1" 0x00
//!           ‖ seq (8 bytes, big-endian, signed)  ‖ at (unix ms, 8 bytes, big-endian, signed)
//!           ‖ for actor, action, subject, details: length (8 bytes, big-endian) ‖ UTF-8 bytes
//! ```
//! `details` is hashed exactly as stored (JSON text). Length prefixes make the encoding
//! unambiguous: no two different entries share canonical bytes.
//!
//! # Serialisation
//! An append updates the single `audit_head` row first (`seq = seq + 1 … RETURNING`), which
//! locks it until the transaction ends: on PostgreSQL other appenders wait on the row lock, on
//! SQLite the write transaction (`BEGIN IMMEDIATE`) already holds the database's write lock.
//! So the chain never forks, and an entry commits atomically with the change it records.

use futures_util::TryStreamExt;
use sqlx::Row;

use crate::crypto::sm3;
use crate::error::{Result, StoreError, db};
use crate::store::{Store, WriteTx, now_ms};

/// Hash of the (absent) entry before the first one.
const GENESIS: [u8; 32] = [0; 32];

/// What to record.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    /// Who did it (user, API client id, `system`).
    pub actor: &'a str,
    /// What was done (`certificate.issue`, `api.request`, `seal.create`, …).
    pub action: &'a str,
    /// What it was done to (a certificate number, a seal name, …).
    pub subject: &'a str,
    /// Anything else, as JSON.
    pub details: &'a serde_json::Value,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence number, from 1, without gaps.
    pub seq: i64,
    /// Time (unix ms).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub subject: String,
    /// Details (JSON text).
    pub details: String,
    /// Hash of the previous entry.
    pub prev_hash: Vec<u8>,
    /// This entry's hash.
    pub hash: Vec<u8>,
}

/// The chain's head, to be kept somewhere else (printed, mailed, timestamped) so that a later
/// verification can prove the chain up to it was not rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    /// Sequence number of the last entry.
    pub seq: i64,
    /// Its hash.
    pub hash: [u8; 32],
}

/// What is wrong with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// The entry's content does not hash to its stored hash (edited).
    HashMismatch,
    /// The entry's `prev_hash` is not the hash of the entry before it (reordered, inserted, or
    /// the previous entry was rewritten together with its hash).
    BrokenLink,
    /// No entry with this sequence number although later ones exist or the head counts it
    /// (removed).
    Missing,
    /// An entry beyond the chain's head (inserted after the last append).
    BeyondHead,
    /// The head row does not match the last entry.
    HeadMismatch,
    /// The entry at the anchor's sequence number does not have the anchor's hash (the chain
    /// was rewritten up to there).
    AnchorMismatch,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFault {
    /// The first bad sequence number.
    pub seq: i64,
    /// What is wrong there.
    pub problem: AuditProblem,
}

impl std::fmt::Display for AuditFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.problem {
            AuditProblem::HashMismatch => "content does not match its hash (entry edited)",
            AuditProblem::BrokenLink => {
                "prev_hash is not the previous entry's hash (entries reordered, inserted or rewritten)"
            }
            AuditProblem::Missing => "entry missing (removed)",
            AuditProblem::BeyondHead => "entry beyond the chain head (inserted)",
            AuditProblem::HeadMismatch => "the chain head does not match the last entry",
            AuditProblem::AnchorMismatch => "hash differs from the anchor (chain rewritten)",
        };
        write!(f, "audit entry {}: {what}", self.seq)
    }
}

/// Result of [`Store::verify_audit_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries read.
    pub entries: u64,
    /// The head as stored.
    pub head: AuditAnchor,
    /// The first problem, if any.
    pub fault: Option<AuditFault>,
}

impl AuditReport {
    /// True when the chain is intact.
    pub fn is_ok(&self) -> bool {
        self.fault.is_none()
    }
}

/// The hash of an entry (see the module documentation for the exact bytes).
pub fn audit_entry_hash(
    prev_hash: &[u8],
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
) -> [u8; 32] {
    let mut buf = Vec::with_capacity(
        prev_hash.len() + 15 + 16 + 32 + actor.len() + action.len() + subject.len() + details.len(),
    );
    buf.extend_from_slice(prev_hash);
    buf.extend_from_slice(b"ecert-audit-v1\0");
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&at_ms.to_be_bytes());
    for field in [actor, action, subject, details] {
        buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
        buf.extend_from_slice(field.as_bytes());
    }
    sm3(&buf)
}

/// Appends an entry inside `tx`; call it last in the transaction (it holds the head lock
/// until commit).
pub(crate) async fn append_in(tx: &mut WriteTx, event: &AuditEvent<'_>) -> Result<AuditEntry> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await
        .map_err(db("locking the audit chain head"))?;
    let seq: i64 = row.try_get("seq").map_err(db("reading the audit head"))?;
    let prev: Vec<u8> = row.try_get("hash").map_err(db("reading the audit head"))?;
    let at = now_ms();
    let details = event.details.to_string();
    let hash = audit_entry_hash(
        &prev,
        seq,
        at,
        event.actor,
        event.action,
        event.subject,
        &details,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(event.actor.to_owned())
    .bind(event.action.to_owned())
    .bind(event.subject.to_owned())
    .bind(details.clone())
    .bind(prev.clone())
    .bind(hash.to_vec())
    .execute(&mut **tx)
    .await
    .map_err(db("appending an audit entry"))?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash.to_vec())
        .execute(&mut **tx)
        .await
        .map_err(db("advancing the audit chain head"))?;
    Ok(AuditEntry {
        seq,
        at_ms: at,
        actor: event.actor.to_owned(),
        action: event.action.to_owned(),
        subject: event.subject.to_owned(),
        details,
        prev_hash: prev,
        hash: hash.to_vec(),
    })
}

/// The columns of `audit_log`, in the order of [`EntryRow`].
const ENTRY_COLUMNS: &str = "seq, at, actor, action, subject, details, prev_hash, hash";

/// A row of `audit_log`, read with [`ENTRY_COLUMNS`].
#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    details: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl From<EntryRow> for AuditEntry {
    fn from(row: EntryRow) -> Self {
        AuditEntry {
            seq: row.seq,
            at_ms: row.at,
            actor: row.actor,
            action: row.action,
            subject: row.subject,
            details: row.details,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

fn to32(v: &[u8], seq: i64) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| StoreError::Corrupt {
        table: "audit_head",
        key: seq.to_string(),
        problem: format!("hash has {} bytes, expected 32", v.len()),
    })
}

impl Store {
    /// Appends one entry on its own (R-7.2.2b, R-7.2.2d: e.g. each API exchange and its
    /// response; R-6.5d: an access to certificate storage).
    pub async fn append_audit(&self, event: &AuditEvent<'_>) -> Result<AuditEntry> {
        let mut tx = self.begin_write().await?;
        let entry = append_in(&mut tx, event).await?;
        tx.commit().await.map_err(db("committing an audit entry"))?;
        Ok(entry)
    }

    /// The current head of the chain (to keep as an anchor elsewhere).
    pub async fn audit_head(&self) -> Result<AuditAnchor> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db("reading the audit head"))?;
        let seq: i64 = row.try_get("seq").map_err(db("reading the audit head"))?;
        let hash: Vec<u8> = row.try_get("hash").map_err(db("reading the audit head"))?;
        Ok(AuditAnchor {
            seq,
            hash: to32(&hash, seq)?,
        })
    }

    /// Entries with `seq` in `from..=to`, in order.
    pub async fn audit_entries(&self, from: i64, to: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq"
        )))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading audit entries"))?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Entries about one subject (e.g. a certificate number), in order.
    pub async fn audit_entries_for(&self, subject: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE subject = $1 ORDER BY seq"
        )))
        .bind(subject.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading audit entries"))?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Walks the whole chain from entry 1 and reports the first edited, removed, inserted or
    /// reordered entry (R-7.2.2b; `ecert audit verify`). Reads one consistent snapshot, so
    /// concurrent appends do not disturb it.
    pub async fn verify_audit_chain(&self) -> Result<AuditReport> {
        self.verify_chain(None).await
    }

    /// [`Store::verify_audit_chain`], and also checks that the entry at `anchor.seq` still has
    /// the anchored hash: this catches a rewrite of the chain (with recomputed hashes) that an
    /// unkeyed hash chain alone cannot.
    pub async fn verify_audit_chain_against(&self, anchor: &AuditAnchor) -> Result<AuditReport> {
        self.verify_chain(Some(anchor)).await
    }

    async fn verify_chain(&self, anchor: Option<&AuditAnchor>) -> Result<AuditReport> {
        let mut tx = self.begin_snapshot().await?;
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(db("reading the audit head"))?;
        let head_seq: i64 = row.try_get("seq").map_err(db("reading the audit head"))?;
        let head_hash: Vec<u8> = row.try_get("hash").map_err(db("reading the audit head"))?;
        let head = AuditAnchor {
            seq: head_seq,
            hash: to32(&head_hash, head_seq)?,
        };
        let mut fault: Option<AuditFault> = None;
        let mut entries = 0u64;
        let mut expected = 1i64;
        let mut prev: Vec<u8> = GENESIS.to_vec();
        let mut anchor_seen = false;
        {
            let mut rows = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq"
            )))
            .fetch(&mut *tx);
            while let Some(row) = rows.try_next().await.map_err(db("reading the audit log"))? {
                let e = AuditEntry::from(row);
                entries += 1;
                let bad = |problem| AuditFault { seq: 0, problem };
                let found = if e.seq > head_seq {
                    Some(AuditFault {
                        seq: e.seq,
                        ..bad(AuditProblem::BeyondHead)
                    })
                } else if e.seq != expected {
                    Some(AuditFault {
                        seq: expected,
                        ..bad(AuditProblem::Missing)
                    })
                } else if e.prev_hash != prev {
                    Some(AuditFault {
                        seq: e.seq,
                        ..bad(AuditProblem::BrokenLink)
                    })
                } else if audit_entry_hash(
                    &e.prev_hash,
                    e.seq,
                    e.at_ms,
                    &e.actor,
                    &e.action,
                    &e.subject,
                    &e.details,
                )[..]
                    != e.hash[..]
                {
                    Some(AuditFault {
                        seq: e.seq,
                        ..bad(AuditProblem::HashMismatch)
                    })
                } else if let Some(a) = anchor.filter(|a| a.seq == e.seq) {
                    anchor_seen = true;
                    (a.hash[..] != e.hash[..]).then_some(AuditFault {
                        seq: e.seq,
                        ..bad(AuditProblem::AnchorMismatch)
                    })
                } else {
                    None
                };
                if found.is_some() {
                    fault = found;
                    break;
                }
                prev = e.hash;
                expected += 1;
            }
        }
        if fault.is_none() {
            let last = expected - 1;
            fault = if last < head_seq {
                Some(AuditFault {
                    seq: last + 1,
                    problem: AuditProblem::Missing,
                })
            } else if prev[..] != head.hash[..] {
                Some(AuditFault {
                    seq: head_seq,
                    problem: AuditProblem::HeadMismatch,
                })
            } else {
                anchor
                    .filter(|a| !anchor_seen && a.seq != 0)
                    .map(|a| AuditFault {
                        seq: a.seq,
                        problem: AuditProblem::Missing,
                    })
            };
        }
        tx.commit().await.map_err(db("ending the audit read"))?;
        Ok(AuditReport {
            entries,
            head,
            fault,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_hash_is_unambiguous() {
        let a = audit_entry_hash(&GENESIS, 1, 5, "ab", "c", "s", "{}");
        let b = audit_entry_hash(&GENESIS, 1, 5, "a", "bc", "s", "{}");
        assert_ne!(a, b);
        let c = audit_entry_hash(&GENESIS, 2, 5, "ab", "c", "s", "{}");
        assert_ne!(a, c);
        let d = audit_entry_hash(&[1; 32], 1, 5, "ab", "c", "s", "{}");
        assert_ne!(a, d);
    }
}
