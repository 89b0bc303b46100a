//! Opening a store: URL forms, SQLite pragmas (WAL, busy timeout, foreign keys), migrations
//! applied once and kept across reopenings, on both backends.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::{Backend, Env, cert, file};
use ecert_store::{Replica, Store, StoreError};
use serde_json::json;
use sqlx::Row;

both_backends!(
    reopening_keeps_data_and_applies_migrations_once,
    sqlite_runs_in_wal_with_foreign_keys
);

async fn reopening_keeps_data_and_applies_migrations_once(env: Env) {
    let rec = env
        .store
        .issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let again = env
        .open_with(vec![
            Replica::local("r0", env.replica_dir(0)).unwrap(),
            Replica::local("r1", env.replica_dir(1)).unwrap(),
        ])
        .await;
    assert_eq!(again.certificate(&rec.id).await.unwrap().unwrap(), rec);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap()
        .get("n");
    // Each migration applied once (one row per file in migrations/).
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    assert_eq!(n, i64::try_from(files).unwrap());
    assert!(again.verify_audit_chain().await.unwrap().is_ok());
    assert_eq!(again.audit_head().await.unwrap().seq, 1);
    again.close().await;
}

async fn sqlite_runs_in_wal_with_foreign_keys(env: Env) {
    let s = &env.store;
    if env.backend == Backend::Postgres {
        assert_eq!(s.backend(), ecert_store::Backend::Postgres);
        return;
    }
    let mut conn = s.pool().acquire().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert!(busy >= 1000, "{busy}");
    // Foreign keys are enforced: a supplement of no certificate is refused by the database.
    let e = sqlx::query(
        "INSERT INTO supplements (id, certificate_id, seq, number, file_name, file_sm3, file_size, \
         blob_key, created_at) VALUES ('x', 'nope', 1, 'n', 'f', $1, 0, 'k', 0)",
    )
    .bind(vec![0u8; 32])
    .execute(&mut *conn)
    .await
    .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("foreign key"), "{e}");
}

#[tokio::test]
async fn bad_urls_and_replica_sets_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let r = || vec![Replica::local("r0", dir.path().join("r0")).unwrap()];
    let e = Store::open("mysql://u:pw@h/db", r()).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::UnsupportedUrl { url } if url == "mysql://u:***@h/db"),
        "{e}"
    );
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let e = Store::open(&url, vec![]).await.unwrap_err();
    assert!(e.to_string().contains("at least one replica"), "{e}");
    let e = Store::open(
        &url,
        vec![
            Replica::local("same", dir.path().join("a")).unwrap(),
            Replica::local("same", dir.path().join("b")).unwrap(),
        ],
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("share a name"), "{e}");
    // A database that cannot be opened names the URL.
    let e = Store::open(
        &format!(
            "sqlite://{}/no/such/dir/x.db?mode=rwc",
            dir.path().display()
        ),
        r(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Connect { .. }), "{e}");
    assert!(e.to_string().contains("no/such/dir"), "{e}");
    let e = Store::open("postgres://postgres:secret@127.0.0.1:1/none", r())
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("postgres://postgres:***@127.0.0.1:1/none"),
        "{e}"
    );
    assert!(!e.to_string().contains("secret"), "{e}");
}
