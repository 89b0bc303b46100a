//! Opening a store: URL forms, SQLite pragmas (WAL, busy timeout, foreign keys), migrations
//! applied once and kept across reopenings, on both backends.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::borrow::Cow;

use common::{Backend, Env, cert, file};
use ecert_store::{MasterKey, NewSeal, Replica, Store, StoreError};
use serde_json::json;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row, SqlSafeStr};
use zeroize::Zeroizing;

both_backends!(
    reopening_keeps_data_and_applies_migrations_once,
    sqlite_runs_in_wal_with_foreign_keys,
    migration_0004_keeps_every_seal_and_frees_retired_titles,
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

/// Every column of every seal, as text, in id order.
async fn seal_rows(pool: &AnyPool) -> Vec<String> {
    sqlx::query(
        "SELECT id, name, kind, image, image_format, seal_der, maker_cert_der, signer_cert_der, \
         key_alg, key_nonce, key_ciphertext, status, created_at, updated_at FROM seals ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        let text = |c: &str| r.get::<String, _>(c);
        let bytes = |c: &str| r.get::<Vec<u8>, _>(c);
        format!(
            "{:?}",
            (
                (text("id"), text("name"), text("kind"), bytes("image")),
                (
                    text("image_format"),
                    r.get::<Option<Vec<u8>>, _>("seal_der")
                ),
                (
                    bytes("maker_cert_der"),
                    bytes("signer_cert_der"),
                    text("key_alg")
                ),
                (bytes("key_nonce"), bytes("key_ciphertext"), text("status")),
                (r.get::<i64, _>("created_at"), r.get::<i64, _>("updated_at")),
            )
        )
    })
    .collect()
}

/// Migration 0004 on a database that version 3 made: the seals table is rebuilt
/// without its UNIQUE name, every row comes back unchanged (on SQLite the byte columns still
/// hold BLOBs), a retired seal's name is free again and an active seal's name is not.
async fn migration_0004_keeps_every_seal_and_frees_retired_titles(env: Env) {
    let url = env.empty_database("v3").await;
    let pool = AnyPool::connect(&url).await.unwrap();
    let v3 = [
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
    ];
    Migrator::with_migrations(
        v3.into_iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    v,
                    Cow::Borrowed(d),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
    .run(&pool)
    .await
    .unwrap();
    let insert = |id: &'static str, name: &'static str, status: &'static str| {
        sqlx::query(
            "INSERT INTO seals (id, name, kind, image, image_format, seal_der, maker_cert_der, \
             signer_cert_der, key_alg, key_nonce, key_ciphertext, status, created_at, updated_at) \
             VALUES ($1, $2, '校准', $3, 'png', $4, $5, $6, 'SM4-GCM', $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(name)
        .bind(format!("image {id} \0\u{ff}").into_bytes())
        .bind((status == "active").then(|| b"seal der \x00\x80".to_vec()))
        .bind(b"maker\x00".to_vec())
        .bind(b"signer\x00".to_vec())
        .bind(vec![0x80u8; 12])
        .bind(vec![0u8, 1, 2, 0xfe, 0xff])
        .bind(status)
        .bind(1_700_000_000_000i64)
        .bind(1_700_000_000_001i64)
        .execute(&pool)
    };
    insert("a", "甲电子证书专用章", "active").await.unwrap();
    insert("b", "乙电子证书专用章", "retired").await.unwrap();
    // Version 3: the retired seal's name is taken.
    insert("c", "乙电子证书专用章", "active").await.unwrap_err();
    let before = seal_rows(&pool).await;
    assert_eq!(before.len(), 2);
    pool.close().await;

    let store = Store::open(
        &url,
        vec![Replica::local("r", env.dir.path().join("v3-files")).unwrap()],
    )
    .await
    .unwrap();
    assert_eq!(seal_rows(store.pool()).await, before);
    if env.backend == Backend::Sqlite {
        let kinds: String = sqlx::query(
            "SELECT group_concat(typeof(image) || typeof(maker_cert_der) || \
             typeof(signer_cert_der) || typeof(key_nonce) || typeof(key_ciphertext)) AS t \
             FROM seals",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("t");
        assert_eq!(kinds, ["blob".repeat(5), "blob".repeat(5)].join(","));
    }
    let a = store.seal("a").await.unwrap().unwrap();
    assert!(a.active);
    assert_eq!(a.seal_der.as_deref(), Some(&b"seal der \x00\x80"[..]));
    assert!(!store.seal("b").await.unwrap().unwrap().active);

    let mk = MasterKey::generate().unwrap();
    let new = |name: &str| NewSeal {
        name: name.into(),
        kind: "校准".into(),
        image: b"png".to_vec(),
        image_format: "png".into(),
        seal_der: None,
        maker_cert_der: b"maker".to_vec(),
        signer_cert_der: b"signer".to_vec(),
        signer_key: Zeroizing::new(b"key".to_vec()),
    };
    let reused = store
        .add_seal(&new("乙电子证书专用章"), &mk, "admin")
        .await
        .unwrap();
    assert_eq!(
        store
            .seal_by_name("乙电子证书专用章")
            .await
            .unwrap()
            .unwrap(),
        reused
    );
    let e = store
        .add_seal(&new("甲电子证书专用章"), &mk, "admin")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::AlreadyExists { what: "active seal", name } if name == "甲电子证书专用章"),
        "{e}"
    );
    store.close().await;
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
