//! Test harness: every test body runs against SQLite and against PostgreSQL, each time in a
//! fresh database (PostgreSQL: `ecert_test_<random>`, dropped afterwards together with any
//! database the test made beside it, `Env::empty_database`) with two fresh local replica
//! folders. PostgreSQL is expected at 127.0.0.1:5432 (user `postgres`, trust auth;
//! `scripts/setup` starts it) or at `$ECERT_TEST_PG` (a server URL without database).
#![allow(dead_code)]

pub mod moto;

use std::future::Future;
use std::path::PathBuf;

use bytes::Bytes;
use ecert_store::{NewCertificate, Replica, Store, hex};
use sqlx::{AnyConnection, Connection, Executor};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test body gets.
pub struct Env {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// The default store's replicas `r0`, `r1` (folders or buckets).
    pub replicas: Vec<Replica>,
    /// The S3 server of the bucket backends (stopped with the test).
    pub moto: Option<std::sync::Arc<moto::Moto>>,
}

impl Env {
    /// Replica folder `i` (0 or 1) of the default store.
    pub fn replica_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("replica-{i}"))
    }

    /// The copy of `key` on replica `i` (a folder or a bucket), `None` when it has none.
    pub async fn copy(&self, i: usize, key: &str) -> Option<Bytes> {
        use object_store::ObjectStoreExt as _;
        let store = self.replicas[i].object_store();
        match store.get(&object_store::path::Path::from(key)).await {
            Ok(r) => Some(r.bytes().await.expect("reading a copy")),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("reading {key} on r{i}: {e}"),
        }
    }

    /// Replaces the copy of `key` on replica `i` with `bytes` (someone who can write there).
    pub async fn alter_copy(&self, i: usize, key: &str, bytes: Vec<u8>) {
        use object_store::ObjectStoreExt as _;
        self.replicas[i]
            .object_store()
            .put(
                &object_store::path::Path::from(key),
                object_store::PutPayload::from(bytes),
            )
            .await
            .expect("altering a copy");
    }

    /// Removes the copy of `key` from replica `i`.
    pub async fn remove_copy(&self, i: usize, key: &str) {
        use object_store::ObjectStoreExt as _;
        self.replicas[i]
            .object_store()
            .delete(&object_store::path::Path::from(key))
            .await
            .expect("removing a copy");
    }

    /// Every file on both default replicas (`r0/…`, `r1/…`).
    pub fn blob_files(&self) -> Vec<String> {
        let mut v = Vec::new();
        for i in 0..2 {
            v.extend(
                files_under(&self.replica_dir(i))
                    .into_iter()
                    .map(|f| format!("r{i}/{f}")),
            );
        }
        v
    }

    /// The URL of a second, empty database for this test: SQLite, a file in the test's folder;
    /// PostgreSQL, `<the test's database>_<suffix>`, dropped with the test's own.
    pub async fn empty_database(&self, suffix: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                self.dir.path().join(format!("{suffix}.db")).display()
            ),
            Backend::Postgres => {
                let own = self.url.rsplit('/').next().expect("database name");
                let name = format!("{own}_{suffix}");
                let mut admin = pg_admin().await;
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("CREATE DATABASE");
                admin.close().await.ok();
                format!("{}/{name}", pg_server())
            }
        }
    }

    /// Opens another handle on the same database with other replicas.
    pub async fn open_with(&self, replicas: Vec<Replica>) -> Store {
        Store::open(&self.url, replicas)
            .await
            .expect("opening a second store handle")
    }
}

fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("random");
    hex(&b)
}

async fn pg_admin() -> AnyConnection {
    sqlx::any::install_default_drivers();
    let url = format!("{}/postgres", pg_server());
    match AnyConnection::connect(&url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is unreachable at {url}: {e}. These tests need a running PostgreSQL \
             (trust auth for user postgres): run `bash scripts/setup`, or set ECERT_TEST_PG"
        ),
    }
}

/// Sets up a fresh database and replicas, runs `body`, drops the database (even when the body
/// panicked), then re-raises the body's panic.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_on(backend, false, body).await;
}

/// [`run`] with the replicas `r0`, `r1` in buckets of a real S3 server when `buckets` (SQLite:
/// a folder and a bucket; PostgreSQL: two buckets).
pub async fn run_on<F, Fut>(backend: Backend, buckets: bool, body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg_db) = match backend {
        Backend::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("ecert.db").display()
            ),
            None,
        ),
        Backend::Postgres => {
            let name = format!("ecert_test_{}", random_hex(8));
            let mut admin = pg_admin().await;
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("CREATE DATABASE");
            admin.close().await.ok();
            (format!("{}/{name}", pg_server()), Some(name))
        }
    };
    let local = |i: usize| {
        Replica::local(format!("r{i}"), dir.path().join(format!("replica-{i}"))).expect("replica")
    };
    let (replicas, moto) = match buckets {
        false => (vec![local(0), local(1)], None),
        true => {
            let moto = std::sync::Arc::new(
                tokio::task::spawn_blocking(moto::Moto::start)
                    .await
                    .expect("moto"),
            );
            let bucket = |i: usize| {
                let name = format!("ecert-r{i}");
                moto.create_bucket(&name);
                Replica::s3(&ecert_store::S3Location {
                    name: format!("r{i}"),
                    endpoint: Some(moto.endpoint()),
                    bucket: name,
                    region: "us-east-1".into(),
                    prefix: None,
                    path_style: true,
                    allow_http: true,
                    credentials: Some((
                        moto::ACCESS_KEY.into(),
                        moto::SECRET_KEY.to_owned().into(),
                    )),
                })
                .expect("bucket replica")
            };
            let replicas = if backend == Backend::Sqlite {
                vec![local(0), bucket(1)]
            } else {
                vec![bucket(0), bucket(1)]
            };
            (replicas, Some(moto))
        }
    };
    let store = Store::open(&url, replicas.clone())
        .await
        .expect("opening the store");
    let env = Env {
        backend,
        url,
        dir,
        store: store.clone(),
        replicas,
        moto,
    };
    let outcome = tokio::spawn(body(env)).await;
    store.close().await;
    if let Some(name) = pg_db {
        let mut admin = pg_admin().await;
        // The test's database and the ones `Env::empty_database` made beside it.
        let all: Vec<String> = sqlx::query("SELECT datname::text AS datname FROM pg_database")
            .fetch_all(&mut admin)
            .await
            .expect("listing databases")
            .iter()
            .map(|r| sqlx::Row::get(r, "datname"))
            .collect();
        for db in all
            .into_iter()
            .filter(|d| *d == name || d.starts_with(&format!("{name}_")))
        {
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await
                .expect("DROP DATABASE");
        }
        admin.close().await.ok();
    }
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Generates `sqlite_s3::NAME` (a folder and a bucket of a real S3 server) and
/// `postgres_s3::NAME` (two buckets) tests for each `async fn NAME(env: Env)`, beside the
/// `both_backends!` ones: what holds for every kind of replica.
#[allow(unused_macros)]
macro_rules! on_buckets {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::common::run_on(crate::common::Backend::Sqlite, true, super::$name).await;
                }
            )+
        }
        mod postgres_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::common::run_on(crate::common::Backend::Postgres, true, super::$name).await;
                }
            )+
        }
    };
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests for each `async fn NAME(env: Env)`.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::common::run(crate::common::Backend::Sqlite, super::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::common::run(crate::common::Backend::Postgres, super::$name).await;
                }
            )+
        }
    };
}

/// A realistic certificate record; `n` makes number, identifier and token unique.
pub fn cert(n: u32) -> NewCertificate {
    NewCertificate {
        number: format!("JZ2026-{n:05}"),
        identifier: format!("2.999.1·2·12345678X·CNAS L0001·{n:06}·0"),
        kind: 2,
        customer_name: "杭州某某仪器有限公司".into(),
        instrument_name: "数字压力计".into(),
        serial_number: format!("SN{n}"),
        issue_date: "2026-11-26".into(),
        revision: 0,
        verify_token: format!("tok-{}-{n}", random_hex(16)),
        check_code: format!("{:06}", n * 7 % 1_000_000),
        file_name: format!("校准电子证书-JZ2026-{n:05}-数字压力计-SN{n}.ofd"),
        retention_until: Some("2032-11-26".into()),
    }
}

/// A file body that differs per `n` (not a real OFD: the store treats files as bytes).
pub fn file(n: u32, size: usize) -> Bytes {
    let mut v = Vec::with_capacity(size);
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    while v.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(size);
    Bytes::from(v)
}

/// All files under a folder (relative paths, sorted).
pub fn files_under(root: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Number of rows in a table.
pub async fn count(store: &Store, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(store.pool())
    .await
    .unwrap()
    .try_get::<i64, _>("n")
    .unwrap()
}
