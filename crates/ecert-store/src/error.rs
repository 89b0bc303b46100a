//! The store's error type: each variant names what failed and where.

use std::fmt;

/// Everything the store can refuse or fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error(
        "unsupported database URL {url:?}: use sqlite://PATH?mode=rwc or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl {
        /// The URL with any password removed.
        url: String,
    },
    /// The database could not be opened.
    #[error("cannot open database {url}: {source}")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The embedded migrations could not be applied.
    #[error("cannot apply schema migrations to {url}: {source}")]
    Migrate {
        /// The URL with any password removed.
        url: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database error while {op}: {source}")]
    Database {
        /// What the store was doing.
        op: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value has an impossible shape (edited by hand, or a bug).
    #[error("corrupt record in {table} ({key}): {problem}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// Key of the row.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A column holds a value the store never writes (edited by hand, or a bug). Raised while
    /// turning a row into a record, instead of guessing or panicking.
    #[error(
        "corrupt record in {table} ({key}): column {column} holds {value}, expected {expected}"
    )]
    CorruptColumn {
        /// Table name.
        table: &'static str,
        /// Key of the row.
        key: String,
        /// The column.
        column: &'static str,
        /// The value found: text quoted, integers as they are, byte strings by their length.
        value: String,
        /// What the column must hold.
        expected: &'static str,
    },
    /// Input refused before anything was written.
    #[error("invalid {field}: {problem}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Another certificate already has this number.
    #[error("certificate number {0:?} is already in use")]
    DuplicateNumber(String),
    /// Another certificate already has this identifier.
    #[error("certificate identifier {0:?} is already in use")]
    DuplicateIdentifier(String),
    /// Another certificate already has this verification token (a token must be unique and random).
    #[error("the verification token is already in use by another certificate")]
    DuplicateToken,
    /// Another supplement already has this number.
    #[error("supplement number {0:?} is already in use")]
    DuplicateSupplementNumber(String),
    /// A name that must be unique (seal, template version, API client) is taken.
    #[error("{what} {name:?} already exists")]
    AlreadyExists {
        /// Kind of object.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// No such record.
    #[error("{what} {key:?} not found")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// an original can be revised once; a void certificate cannot be revised again.
    #[error(
        "certificate {number:?} was already revised (its replacement is {replaced_by:?}); revise the current certificate instead"
    )]
    AlreadyRevised {
        /// Number of the original.
        number: String,
        /// Number of the certificate that replaced it.
        replaced_by: String,
    },
    /// The certificate is disposed (R-6.5h) and accepts no change.
    #[error("certificate {number:?} is disposed (past retention) and cannot be changed")]
    Disposed {
        /// Its number.
        number: String,
    },
    /// A revision must carry the original's revision count plus one.
    #[error("revision count {got} for the revision of {number:?} is wrong: expected {expected}")]
    RevisionCount {
        /// Number of the original.
        number: String,
        /// Expected revision count.
        expected: i64,
        /// Given revision count.
        got: i64,
    },
    /// Writing a file to one replica failed; nothing was stored.
    #[error("cannot write {key} to replica {replica:?}: {source}{cleanup}")]
    BlobWrite {
        /// Replica name.
        replica: String,
        /// Blob key.
        key: String,
        /// The object store's error (a full disk, a read-only folder, …).
        #[source]
        source: Box<object_store::Error>,
        /// Problems while removing the copies already written, if any.
        cleanup: CleanupNote,
    },
    /// No replica holds an intact copy of a file.
    #[error("no intact copy of {key}: {}", list_problems(problems))]
    NoIntactCopy {
        /// Blob key.
        key: String,
        /// What each replica returned.
        problems: Vec<crate::blobs::ReplicaProblem>,
    },
    /// A replica could not be listed or configured.
    #[error("replica {replica:?}: {source}")]
    Replica {
        /// Replica name.
        replica: String,
        /// The object store's error.
        #[source]
        source: Box<object_store::Error>,
    },
    /// The master key does not match the one this database was set up with (R-7.2.3d).
    #[error(
        "wrong master key: it does not decrypt this database's key check value (check ECERT_MASTER_KEY / the key file)"
    )]
    WrongMasterKey,
    /// An encrypted record does not decrypt although the master key is right: altered or corrupt.
    #[error(
        "encrypted {what} of {key:?} fails authentication: the record was altered or is corrupt"
    )]
    Decrypt {
        /// What was encrypted.
        what: &'static str,
        /// Record key.
        key: String,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
    /// A backup could not be written.
    #[error("backup to {path}: {problem}")]
    Backup {
        /// Destination.
        path: String,
        /// What went wrong.
        problem: String,
    },
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Problems met while undoing a partial write (empty when the undo was clean).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanupNote(pub Vec<String>);

impl fmt::Display for CleanupNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        write!(
            f,
            " (and removing the copies already written failed: {}; the orphan scan lists them)",
            self.0.join("; ")
        )
    }
}

fn list_problems(problems: &[crate::blobs::ReplicaProblem]) -> String {
    if problems.is_empty() {
        return "no replica configured".to_owned();
    }
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Wraps a driver error with what the store was doing.
pub(crate) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { op, source }
}

/// True when the error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.is_unique_violation(),
        _ => false,
    }
}
