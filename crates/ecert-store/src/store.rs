//! Opening a store: URL → pool (SQLite or PostgreSQL through sqlx `Any`), embedded migrations,
//! replicas.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, SqlSafeStr, Transaction};

use crate::audit::AuditMacKey;
use crate::blobs::{Replica, Replicas};
use crate::error::{Result, StoreError, db};

/// The embedded migrations, in order. One folder serves both backends.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "file_hash_index",
        include_str!("../migrations/0002_file_hash_index.sql"),
    ),
    (
        3,
        "disposal_and_supplement_tokens",
        include_str!("../migrations/0003_disposal_and_supplement_tokens.sql"),
    ),
    (
        4,
        "seal_title_reuse",
        include_str!("../migrations/0004_seal_title_reuse.sql"),
    ),
    (
        5,
        "download_audit_seq",
        include_str!("../migrations/0005_download_audit_seq.sql"),
    ),
    (
        6,
        "audit_mac",
        include_str!("../migrations/0006_audit_mac.sql"),
    ),
    (
        7,
        "idempotency_owner",
        include_str!("../migrations/0007_idempotency_owner.sql"),
    ),
    (
        8,
        "customer_portal",
        include_str!("../migrations/0008_customer_portal.sql"),
    ),
    (9, "staff", include_str!("../migrations/0009_staff.sql")),
    (
        10,
        "seal_retirements",
        include_str!("../migrations/0010_seal_retirements.sql"),
    ),
    (
        11,
        "seal_proposals",
        include_str!("../migrations/0011_seal_proposals.sql"),
    ),
];

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (the embedded default), in WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Tuning knobs for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size (connections).
    pub max_connections: u32,
    /// How long a SQLite writer waits for the write lock before failing.
    pub busy_timeout: Duration,
    /// SQLite `synchronous = FULL` (default: every commit is on disk when it returns). `false`
    /// gives `NORMAL`: still consistent after a crash, but a power loss may undo the last
    /// commits (their files then show up as orphan blobs). For measurements and scratch stores.
    pub sqlite_synchronous_full: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            sqlite_synchronous_full: true,
        }
    }
}

/// A point at which [`Store::simulate_crash_at`] makes a write panic, to prove that a crash
/// there leaves no record without its file. For tests only.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// After the files reached every replica, before the transaction begins.
    AfterBlobs,
    /// Inside the transaction, after the rows were written, before COMMIT.
    BeforeCommit,
}

/// A write transaction (and, on SQLite, this process's writer slot until it ends).
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// The key that authenticates the audit entries appended in this transaction.
    pub(crate) audit_mac: Option<Arc<AuditMacKey>>,
    /// On PostgreSQL: changes are announced to the other processes (`NOTIFY`, `nodes`).
    pub(crate) postgres: bool,
}

impl WriteTx {
    /// Commits.
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// The storage handle: a connection pool, the replicas, and the operations on them.
/// Cheap to clone (the pool and replicas are shared).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) replicas: Replicas,
    pub(crate) crash_at: Option<CrashPoint>,
    write_lock: Arc<tokio::sync::Mutex<()>>,
    url: String,
    /// Set by [`Store::enable_audit_mac`]: every entry appended through this handle gets a MAC.
    pub(crate) audit_mac: Option<Arc<AuditMacKey>>,
}

/// `url` with any password replaced, for messages.
pub(crate) fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Milliseconds since the Unix epoch (system clock; R-7.2.2a traceability is the caller's).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Database-level defence in depth for the audit log: triggers that refuse UPDATE and DELETE
/// on `audit_log` (R-7.2.2b append-only). Trigger syntax differs between the backends, so this
/// is the one piece of backend-specific SQL; it is idempotent and runs on every open. (Someone
/// with the database owner's rights can drop the triggers; the hash chain still catches what
/// they change.)
async fn harden(pool: &AnyPool, backend: Backend) -> Result<()> {
    let op = "installing the audit log's append-only triggers";
    let mut tx = pool.begin().await.map_err(db(op))?;
    let statements: &[&'static str] = match backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        ],
        Backend::Postgres => &[
            // Serialise concurrent opens (several `ecert serve` nodes starting together).
            "SELECT pg_advisory_xact_lock(7402154301)",
            "CREATE OR REPLACE FUNCTION ecert_audit_log_append_only() RETURNS trigger \
             LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $f$",
            "CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION ecert_audit_log_append_only()",
        ],
    };
    for sql in statements {
        sqlx::query(*sql).execute(&mut *tx).await.map_err(db(op))?;
    }
    tx.commit().await.map_err(db(op))
}

impl Store {
    /// Opens (creating if needed, with `mode=rwc`) the database at `url`, applies the embedded
    /// migrations, and uses `replicas` for certificate files (at least one).
    ///
    /// `sqlite://PATH?mode=rwc` is opened in WAL mode with a busy timeout, foreign keys on and
    /// `synchronous=FULL`; `postgres://USER@HOST:PORT/DB` as given (no TLS: use a loopback or
    /// a socket, or put a TLS proxy in front).
    pub async fn open(url: &str, replicas: Vec<Replica>) -> Result<Self> {
        Self::open_with(url, replicas, StoreOptions::default()).await
    }

    /// [`Store::open`] with explicit options.
    pub async fn open_with(url: &str, replicas: Vec<Replica>, opts: StoreOptions) -> Result<Self> {
        let shown = redact(url);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl { url: shown });
        };
        if replicas.is_empty() {
            return Err(StoreError::Invalid {
                field: "replicas",
                problem: "at least one replica is needed for certificate files".into(),
            });
        }
        let mut names: Vec<&str> = replicas.iter().map(Replica::name).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(StoreError::Invalid {
                field: "replicas",
                problem: "two replicas share a name".into(),
            });
        }
        sqlx::any::install_default_drivers();
        // One direct connection first: a wrong URL, a refused port or a missing folder fails at
        // once with the driver's reason, instead of after the pool's acquire timeout.
        AnyConnection::connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?
            .close()
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        let busy_ms = opts.busy_timeout.as_millis();
        let sync = if opts.sqlite_synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.busy_timeout.max(Duration::from_secs(5)) * 3)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL".to_owned(),
                            format!("PRAGMA busy_timeout = {busy_ms}"),
                            "PRAGMA foreign_keys = ON".to_owned(),
                            format!("PRAGMA synchronous = {sync}"),
                        ] {
                            conn.execute(sqlx::AssertSqlSafe(pragma)).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        let migrator = Migrator::with_migrations(
            MIGRATIONS
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect(),
        );
        migrator
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown.clone(),
                source,
            })?;
        harden(&pool, backend).await?;
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(vec![0u8; 32])
        .execute(&pool)
        .await
        .map_err(db("creating the audit chain head"))?;
        Ok(Self {
            pool,
            backend,
            replicas: Replicas(replicas),
            crash_at: None,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            audit_mac: None,
            url: shown,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL (password removed).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The replicas' names, in read order.
    pub fn replica_names(&self) -> Vec<String> {
        self.replicas
            .0
            .iter()
            .map(|r| r.name().to_owned())
            .collect()
    }

    /// The underlying pool, for tests and tools that must run raw SQL (e.g. tamper tests).
    #[doc(hidden)]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Makes later writes panic at `point` (tests only: proves what a crash there leaves).
    #[doc(hidden)]
    pub fn simulate_crash_at(&mut self, point: Option<CrashPoint>) {
        self.crash_at = point;
    }

    #[allow(clippy::panic)]
    pub(crate) fn crash_point(&self, point: CrashPoint) {
        if self.crash_at == Some(point) {
            panic!("simulated crash at {point:?}");
        }
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction. SQLite: writers of this process first queue on an async
    /// mutex (SQLite admits one writer anyway, and its busy handler would make them sleep and
    /// poll), then `BEGIN IMMEDIATE` takes the write lock at once (waiting up to the busy timeout
    /// for other processes), so a transaction never fails half-way on lock upgrade.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(db("beginning a write transaction"))?;
        Ok(WriteTx {
            tx,
            _guard: guard,
            audit_mac: self.audit_mac.clone(),
            postgres: self.backend == Backend::Postgres,
        })
    }

    /// Begins a read transaction that sees one consistent snapshot.
    pub(crate) async fn begin_snapshot(&self) -> Result<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin().await,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
        .map_err(db("beginning a read transaction"))
    }

    /// Hot backup of a SQLite database into a new file (`VACUUM INTO`), consistent even while
    /// the store is in use. The destination must not exist. For PostgreSQL use
    /// `pg_dump`/base backups.
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<()> {
        let path = dest.display().to_string();
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Backup {
                path,
                problem: "VACUUM INTO is SQLite only; back PostgreSQL up with pg_dump".into(),
            });
        }
        if dest.exists() {
            return Err(StoreError::Backup {
                path,
                problem: "destination exists; choose a new file".into(),
            });
        }
        let Some(p) = dest.to_str() else {
            return Err(StoreError::Backup {
                path,
                problem: "path is not UTF-8".into(),
            });
        };
        sqlx::query("VACUUM INTO $1")
            .bind(p.to_owned())
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Backup {
                path,
                problem: e.to_string(),
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db?mode=rwc"), "sqlite://x.db?mode=rwc");
    }

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (f, (v, d, _)) in files.iter().zip(MIGRATIONS) {
            assert_eq!(f, &format!("{v:04}_{d}.sql"));
        }
    }
}
