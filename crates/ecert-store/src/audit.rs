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
//!
//! # Tamper evidence beyond the database (R-7.2.2b)
//! An unkeyed chain that the database holds alone cannot show a rewrite by someone who can
//! write to the database: they recompute the hashes. Two keyed defences close that:
//! * **MAC per entry.** A store given the instance's [`AuditMacKey`] ([`Store::enable_audit_mac`])
//!   writes `mac = HMAC-SM3(key, hash)` with every entry. The key is random, kept in `settings`
//!   only encrypted under the master key ([`Store::instance_secret`]); without the master key
//!   nobody can append a forged entry or rewrite one, even with the hashes recomputed.
//!   Verification with the key requires a valid MAC on every entry from `keyed_from` on (the
//!   first entry written with a key: recorded in `settings` and in every checkpoint).
//! * **Anchors outside the database.** A MAC cannot show that entries were removed from the end
//!   with the head rolled back. Signed checkpoints of the head (the application writes them
//!   beside every replica, [`Store::put_checkpoint`]) can: verifying against the newest one
//!   reports [`AuditProblem::Truncated`] when the chain ends before it. Entries appended after
//!   the newest checkpoint can still be removed unnoticed: that window is the checkpoint
//!   interval.

use futures_util::TryStreamExt;
use hmac::{Hmac, KeyInit, Mac};
use sqlx::Row;
use zeroize::Zeroizing;

use crate::crypto::sm3;
use crate::error::{Result, StoreError, db};
use crate::store::{Store, WriteTx, now_ms};

type HmacSm3 = Hmac<sm3::Sm3>;

/// Setting that records the first entry written with an audit key (see the module docs).
const KEYED_FROM_SETTING: &str = "audit_keyed_from";

/// Folder (key prefix) on every replica that holds the audit chain's checkpoints. The orphan
/// scan and scrub leave it alone.
pub const CHECKPOINT_PREFIX: &str = "audit-checkpoints/";

/// Largest checkpoint file read back (they are a few hundred bytes).
const MAX_CHECKPOINT_BYTES: usize = 16 * 1024;

/// The instance's audit key: each entry's MAC is HMAC-SM3 under it over the entry's hash.
#[derive(Clone)]
pub struct AuditMacKey(Zeroizing<[u8; 32]>);

impl AuditMacKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    fn hmac(&self) -> HmacSm3 {
        // (HMAC takes keys of any length: this cannot fail)
        <HmacSm3 as KeyInit>::new_from_slice(&self.0[..]).unwrap_or_else(|_| unreachable!())
    }

    /// The MAC of an entry with hash `hash`.
    pub fn mac(&self, hash: &[u8]) -> [u8; 32] {
        let mut m = self.hmac();
        m.update(hash);
        m.finalize().into_bytes().into()
    }

    /// True when `mac` is the MAC of `hash` (constant time).
    pub fn check(&self, hash: &[u8], mac: &[u8]) -> bool {
        let mut m = self.hmac();
        m.update(hash);
        m.verify_slice(mac).is_ok()
    }
}

impl std::fmt::Debug for AuditMacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditMacKey(…)")
    }
}

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

/// A filter of [`Store::audit_search`]; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Exactly this actor (`staff:NAME`, `cli`, `api:CLIENT`, `customer:ID`).
    pub actor: Option<String>,
    /// Exactly this action (`certificate.issue`, `staff.login`, …).
    pub action: Option<String>,
    /// Exactly this subject (a certificate number, a name).
    pub subject: Option<String>,
    /// At or after (unix ms).
    pub from_ms: Option<i64>,
    /// Before (unix ms).
    pub to_ms: Option<i64>,
    /// At most this many (1–500).
    pub limit: u32,
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
    /// HMAC-SM3 of the hash under the instance's audit key (none on entries written without
    /// the key).
    pub mac: Option<Vec<u8>>,
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
    /// The entry's MAC is missing or wrong: it was written, or rewritten with its hash
    /// recomputed, by someone without the instance's audit key.
    BadMac,
    /// The chain ends before the anchor's entry: entries were removed from the end and the head
    /// rolled back. `seq` is the first missing one.
    Truncated,
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
            AuditProblem::BadMac => {
                "MAC missing or wrong (entry forged or rewritten without the instance's key)"
            }
            AuditProblem::Truncated => {
                "the chain ends before the checkpoint (entries removed from the end)"
            }
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
    /// Entries whose MAC was checked and found good.
    pub authenticated: u64,
    /// From which sequence number a MAC was required (`None`: checked without a key).
    pub keyed_from: Option<i64>,
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
    append_many_in(tx, std::slice::from_ref(event))
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt {
            table: "audit_log",
            key: "-".into(),
            problem: "an appended entry was not returned".into(),
        })
}

/// Rows per `INSERT` of [`append_many_in`] (9 parameters each: far below either database's
/// limit on the parameters of one statement).
const INSERT_ROWS: usize = 64;

/// Appends `events` in this order inside `tx`, each an entry of its own (its own sequence
/// number, hash over the entry before it and MAC), with three statements for the whole group
/// instead of three per entry: the head is advanced by the number of entries and read, the rows
/// are inserted together, the head takes the last hash. Call it last in the transaction (it
/// holds the head lock until commit).
pub(crate) async fn append_many_in(
    tx: &mut WriteTx,
    events: &[AuditEvent<'_>],
) -> Result<Vec<AuditEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let row = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(count)
        .fetch_one(&mut **tx)
        .await
        .map_err(db("locking the audit chain head"))?;
    let last: i64 = row.try_get("seq").map_err(db("reading the audit head"))?;
    let mut prev: Vec<u8> = row.try_get("hash").map_err(db("reading the audit head"))?;
    let at = now_ms();
    let mut entries = Vec::with_capacity(events.len());
    for (seq, event) in (last - count + 1..).zip(events) {
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
        let mac = tx.audit_mac.as_ref().map(|k| k.mac(&hash).to_vec());
        let hash = hash.to_vec();
        entries.push(AuditEntry {
            seq,
            at_ms: at,
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            subject: event.subject.to_owned(),
            details,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
            mac,
        });
    }
    for chunk in entries.chunks(INSERT_ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=9).map(|k| format!("${}", i * 9 + k)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.seq)
                .bind(e.at_ms)
                .bind(e.actor.clone())
                .bind(e.action.clone())
                .bind(e.subject.clone())
                .bind(e.details.clone())
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone())
                .bind(e.mac.clone());
        }
        q.execute(&mut **tx)
            .await
            .map_err(db("appending an audit entry"))?;
    }
    // What a certificate's page says changed: every node hears of it when this commits.
    if tx.postgres {
        for event in events
            .iter()
            .filter(|e| e.action.starts_with("certificate.") || e.action.starts_with("disposal."))
        {
            let subject: String = event.subject.chars().take(200).collect();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::nodes::CHANGES_CHANNEL)
                .bind(subject)
                .execute(&mut **tx)
                .await
                .map_err(db("announcing a change"))?;
        }
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(prev)
        .execute(&mut **tx)
        .await
        .map_err(db("advancing the audit chain head"))?;
    Ok(entries)
}

/// The columns of `audit_log`, in the order of [`EntryRow`].
const ENTRY_COLUMNS: &str = "seq, at, actor, action, subject, details, prev_hash, hash, mac";

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
    mac: Option<Vec<u8>>,
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
            mac: row.mac,
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

    /// Appends `events` in this order, in one transaction: each is an entry of its own, with
    /// its own sequence number, hash over the previous entry and MAC, exactly as
    /// [`Store::append_audit`] would write them one after the other; only the commit (one
    /// fsync instead of one per entry) and the statements (three for the group) are shared.
    /// All are written or none. For callers that gather concurrent entries (uploads to
    /// `POST /verify`) and answer each only after the commit.
    pub async fn append_audit_batch(&self, events: &[AuditEvent<'_>]) -> Result<Vec<AuditEntry>> {
        let mut tx = self.begin_write().await?;
        let entries = append_many_in(&mut tx, events).await?;
        tx.commit().await.map_err(db("committing audit entries"))?;
        Ok(entries)
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

    /// Entries with `action` appended at or after `at_ms` (unix ms), in order.
    pub async fn audit_entries_since(&self, action: &str, at_ms: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE action = $1 AND at >= $2 ORDER BY seq"
        )))
        .bind(action.to_owned())
        .bind(at_ms)
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

    /// Entries matching every filter given, newest first (at most `q.limit`, 1–500): the
    /// console's audit search.
    pub async fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, cond: &str, v: String| {
            args.push(v);
            sql.push_str(&cond.replace("$?", &format!("${}", args.len())));
        };
        if let Some(a) = q.actor.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND actor = $?", a.to_owned());
        }
        if let Some(a) = q.action.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND action = $?", a.to_owned());
        }
        if let Some(a) = q.subject.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND subject = $?", a.to_owned());
        }
        let mut ints: Vec<i64> = Vec::new();
        if let Some(t) = q.from_ms {
            ints.push(t);
            sql.push_str(&format!(" AND at >= ${}", args.len() + ints.len()));
        }
        if let Some(t) = q.to_ms {
            ints.push(t);
            sql.push_str(&format!(" AND at < ${}", args.len() + ints.len()));
        }
        let limit = q.limit.clamp(1, 500);
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let mut query = sqlx::query_as::<_, EntryRow>(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        for i in ints {
            query = query.bind(i);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(db("searching the audit log"))?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Walks the whole chain from entry 1 and reports the first edited, removed, inserted or
    /// reordered entry (R-7.2.2b; `ecert audit verify`). Reads one consistent snapshot, so
    /// concurrent appends do not disturb it. With an audit key ([`Store::enable_audit_mac`]),
    /// also every entry's MAC (see [`Store::verify_audit_chain_with`]).
    pub async fn verify_audit_chain(&self) -> Result<AuditReport> {
        self.verify_audit_chain_with(None, None).await
    }

    /// [`Store::verify_audit_chain`], and also checks that the entry at `anchor.seq` still has
    /// the anchored hash: this catches a rewrite of the chain (with recomputed hashes) that an
    /// unkeyed hash chain alone cannot.
    pub async fn verify_audit_chain_against(&self, anchor: &AuditAnchor) -> Result<AuditReport> {
        self.verify_audit_chain_with(Some(anchor), None).await
    }

    /// The full check: the chain; against `anchor` when given (a chain that ends before it is
    /// [`AuditProblem::Truncated`]); and, when this store has the audit key, a valid MAC on
    /// every entry from `keyed_from` on — the earlier of the value given (from a signed
    /// checkpoint) and the one in `settings` (1 when neither says otherwise). Entries before that
    /// which carry a MAC are checked too.
    pub async fn verify_audit_chain_with(
        &self,
        anchor: Option<&AuditAnchor>,
        keyed_from: Option<i64>,
    ) -> Result<AuditReport> {
        let key = self.audit_mac.clone();
        let required_from = match &key {
            None => None,
            Some(_) => {
                let stored = self
                    .setting(KEYED_FROM_SETTING)
                    .await?
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(1);
                Some(keyed_from.map_or(stored, |k| k.min(stored)))
            }
        };
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
        let mut authenticated = 0u64;
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
                let at = |seq, problem| Some(AuditFault { seq, problem });
                let mac_ok = match (&key, &e.mac) {
                    (Some(k), Some(m)) => {
                        let ok = k.check(&e.hash, m);
                        authenticated += u64::from(ok);
                        ok
                    }
                    (Some(_), None) => required_from.is_some_and(|r| e.seq < r),
                    (None, _) => true,
                };
                let found = if e.seq > head_seq {
                    at(e.seq, AuditProblem::BeyondHead)
                } else if e.seq != expected {
                    at(expected, AuditProblem::Missing)
                } else if e.prev_hash != prev {
                    at(e.seq, AuditProblem::BrokenLink)
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
                    at(e.seq, AuditProblem::HashMismatch)
                } else if !mac_ok {
                    at(e.seq, AuditProblem::BadMac)
                } else if let Some(a) = anchor.filter(|a| a.seq == e.seq) {
                    anchor_seen = true;
                    if a.hash[..] != e.hash[..] {
                        at(e.seq, AuditProblem::AnchorMismatch)
                    } else {
                        None
                    }
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
                        seq: if a.seq > last { last + 1 } else { a.seq },
                        problem: if a.seq > last {
                            AuditProblem::Truncated
                        } else {
                            AuditProblem::Missing
                        },
                    })
            };
        }
        tx.commit().await.map_err(db("ending the audit read"))?;
        Ok(AuditReport {
            entries,
            head,
            fault,
            authenticated,
            keyed_from: required_from,
        })
    }

    /// From now on, every entry appended through this handle (and its clones made after this
    /// call) carries a MAC under `key`. Records, once, the first entry so written (the chain's
    /// next sequence number when the key is first used) and returns it: from there on a MAC is
    /// required.
    pub async fn enable_audit_mac(&mut self, key: AuditMacKey) -> Result<i64> {
        let op = "recording where the keyed audit chain starts";
        let mut tx = self.begin_write().await?;
        // (locks the head row, so no entry is appended between reading it and the setting)
        let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *tx)
            .await
            .map_err(db(op))?;
        let head: i64 = row.try_get("seq").map_err(db(op))?;
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(KEYED_FROM_SETTING.to_owned())
        .bind((head + 1).to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db(op))?;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(KEYED_FROM_SETTING.to_owned())
            .fetch_one(&mut *tx)
            .await
            .map_err(db(op))?;
        let value: String = row.try_get("value").map_err(db(op))?;
        tx.commit().await.map_err(db(op))?;
        let from = value.parse::<i64>().map_err(|_| StoreError::Corrupt {
            table: "settings",
            key: KEYED_FROM_SETTING.to_owned(),
            problem: format!("not a sequence number: {value:?}"),
        })?;
        self.audit_mac = Some(std::sync::Arc::new(key));
        Ok(from)
    }

    /// Writes a checkpoint file `name` (plain file name, no folders) into
    /// [`CHECKPOINT_PREFIX`] on every replica. The application signs its content.
    pub async fn put_checkpoint(&self, name: &str, content: bytes::Bytes) -> Result<()> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            || name.starts_with('.')
        {
            return Err(StoreError::Invalid {
                field: "checkpoint name",
                problem: format!("{name:?} is not a plain file name"),
            });
        }
        self.replicas
            .put_all(&format!("{CHECKPOINT_PREFIX}{name}"), content)
            .await
    }

    /// The checkpoint files on every replica: (replica, file name, size in bytes).
    pub async fn list_checkpoints(&self) -> Result<Vec<(String, String, u64)>> {
        self.replicas.list_prefix(CHECKPOINT_PREFIX).await
    }

    /// One checkpoint file's content, refused when larger than 16 KiB (a checkpoint is a few
    /// hundred bytes).
    pub async fn read_checkpoint(&self, replica: &str, name: &str) -> Result<bytes::Bytes> {
        let bytes = self
            .replicas
            .read_one(replica, &format!("{CHECKPOINT_PREFIX}{name}"))
            .await?;
        if bytes.len() > MAX_CHECKPOINT_BYTES {
            return Err(StoreError::Invalid {
                field: "checkpoint",
                problem: format!(
                    "{name} on {replica} has {} bytes, more than a checkpoint can",
                    bytes.len()
                ),
            });
        }
        Ok(bytes)
    }

    /// The first sequence number from which entries must carry a MAC, as recorded when the
    /// audit key was first used (`None` before that).
    pub async fn audit_keyed_from(&self) -> Result<Option<i64>> {
        Ok(self
            .setting(KEYED_FROM_SETTING)
            .await?
            .and_then(|v| v.parse().ok()))
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
