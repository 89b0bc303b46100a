//! ecert storage: certificate records on SQLite or PostgreSQL, files as replicated blobs, and an
//! SM3 hash-chained audit log.
//!
//! One [`Store`] handle, opened from a URL (`sqlite://PATH?mode=rwc` or `postgres://…`), runs the
//! embedded migrations and offers the operations the application needs: issuing, revising
//! and supplementing certificates as single transactions, status lookups for
//! the verification pages, the seal library with signer keys encrypted at rest (R-5.2.2,
//! R-7.2.3d), templates, institute settings, API clients with nonces and idempotency keys, the
//! download log (R-7.2.3b) and the audit chain (R-7.2.2b, R-7.2.2d, R-6.5d).
//!
//! The same SQL runs on both backends (sqlx's `Any` driver); records hold plain values (text,
//! integers, byte hashes, unix-millisecond timestamps, `YYYY-MM-DD` dates). The application maps
//! its domain types onto them.
//!
//! # What this crate defends against
//! - **A record without its file.** Files are written to every replica *before* the record's
//!   transaction commits; a failed or crashed write leaves at most orphan blobs, which
//!   [`Store::orphan_blobs`] lists. Blob keys carry a per-attempt nonce, so undoing a failed
//!   attempt never removes another attempt's file, and writes never overwrite.
//! - **Half-stored certificates.** A full disk or an unwritable replica fails the whole write
//!   with the replica named; copies already written are removed.
//! - **Silent corruption or tampering of files (R-6.5a).** The SM3 of each file is recorded and
//!   checked on every read; a bad copy is reported and the next replica used; [`Store::scrub`]
//!   checks (and repairs) all copies.
//! - **Lost or forked audit history (R-7.2.2b).** Appends are serialised by locking the chain's
//!   head row in the same transaction as the change they record; [`Store::verify_audit_chain`]
//!   detects an edited, removed, inserted or reordered entry and names the first bad sequence
//!   number. A rewrite of the whole chain from some point on (SM3 is unkeyed) is only detected
//!   against an anchor kept elsewhere: see [`Store::verify_audit_chain_against`].
//! - **Key theft from a database copy (R-7.2.3d).** Signer private keys and API client secrets
//!   are stored only as SM4-GCM ciphertexts under a master key that is never stored; each
//!   record has its own random nonce and is bound to its row; a wrong master key is told apart
//!   from an altered record.
//! - **Token enumeration.** Verification tokens are stored only as SM3 hashes and looked up by
//!   hash; check codes are compared in constant time.
//! - **Double revision and duplicates .** A void certificate cannot be revised again
//!   (checked before any file is written and again, atomically, in the transaction; a unique
//!   index backs it); duplicate numbers, identifiers and tokens are refused with clear errors.
//!
//! - **Disposal by one person (R-6.5h).** A disposal is proposed, approved by a different
//!   person, then executed: the record stays as `disposed`, the files are deleted from every
//!   replica (R-6.5i); nothing within six years of issue can be proposed (R-6.5c).
//!
//! Not covered here (future work): the offline copy of the 3-2-1 rule (R-6.5b) — use
//! [`Store::backup_sqlite`] and a replica on removable media; overwriting freed disk blocks
//! (deletion is through the object store).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod api;
mod audit;
pub mod blobs;
mod certificates;
mod crypto;
mod customers;
mod disposal;
mod error;
mod library;
mod nodes;
mod rows;
mod s3;
mod sessions;
mod staff;
mod store;

pub use api::{ApiClient, ClientCredential, IdempotencyState, PendingIdempotency};
pub use audit::{
    AuditAnchor, AuditEntry, AuditEvent, AuditFault, AuditMacKey, AuditProblem, AuditQuery,
    AuditReport, CHECKPOINT_PREFIX, audit_entry_hash,
};
pub use blobs::{ProblemKind, Replica, ReplicaProblem, VerifiedFile};
pub use certificates::{
    Access, CertificateQuery, CertificateRecord, CertificateStatus, DownloadEntry, NewCertificate,
    NewSupplement, OrphanBlob, ScrubReport, StatusView, SupplementRecord,
};
pub use crypto::{MasterKey, hex, parse_hex, sm3, token_hash};
pub use customers::{
    Account, AccountKind, AccountState, Binding, ChannelRecord, CodeCheck, CodePurpose,
    CustomerContact, CustomerKeys, IndexKind, Invitation, NewBinding, NewCode, Org, OrgState,
    PackageItem, PortalDownload, PortalQuery, Role, SessionRecord,
};
pub use disposal::{DisposalRecord, DisposalState, MIN_RETENTION_YEARS};
pub use error::{CleanupNote, Result, StoreError};
pub use library::{Institute, NewSeal, SealRecord, TemplateRecord};
pub use nodes::{CHANGES_CHANNEL, Change, ChangeListener, ProcessLock};
pub use s3::S3Location;
pub use staff::{SealProposal, SealRetirement, StaffAccount, StaffSession};
pub use store::{Backend, CrashPoint, Store, StoreOptions};
