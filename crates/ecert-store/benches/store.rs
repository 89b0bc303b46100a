#![allow(clippy::unwrap_used, missing_docs)]
//! Benchmarks: storing an issued certificate (record + 100 KB file on two local replicas, with
//! its audit entry) and verifying an audit chain of 10 000 entries; on SQLite, and on
//! PostgreSQL at 127.0.0.1:5432 (or `$ECERT_TEST_PG`) when it is reachable.
//!
//! `cargo bench -p ecert-store --bench store`

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use ecert_store::{AuditEvent, NewCertificate, Replica, Store, StoreOptions};
use serde_json::json;
use sqlx::{AnyConnection, Connection, Executor};

fn cert(n: u32) -> NewCertificate {
    NewCertificate {
        number: format!("JZ2026-{n:07}"),
        identifier: format!("2.999.1·2·12345678X·CNAS L0001·{n:07}·0"),
        kind: 2,
        customer_name: "杭州某某仪器有限公司".into(),
        instrument_name: "数字压力计".into(),
        serial_number: format!("SN{n}"),
        issue_date: "2026-11-26".into(),
        revision: 0,
        verify_token: format!("bench-token-{n:020}"),
        check_code: format!("{:06}", n % 1_000_000),
        file_name: format!("校准电子证书-JZ2026-{n:07}.ofd"),
        retention_until: None,
    }
}

struct Setup {
    name: &'static str,
    store: Store,
    _dir: tempfile::TempDir,
    pg_db: Option<(String, String)>,
}

async fn teardown(setups: Vec<Setup>) {
    for s in setups {
        s.store.close().await;
        if let Some((server, db)) = s.pg_db {
            let mut admin = AnyConnection::connect(&format!("{server}/postgres"))
                .await
                .unwrap();
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await
                .unwrap();
        }
    }
}

async fn open(dir: &tempfile::TempDir, url: &str) -> Store {
    open_durable(dir, url, true).await
}

async fn open_durable(dir: &tempfile::TempDir, url: &str, durable: bool) -> Store {
    let replicas = (0..2)
        .map(|i| {
            Replica::local_with_fsync(format!("r{i}"), dir.path().join(format!("r{i}")), durable)
                .unwrap()
        })
        .collect();
    let opts = StoreOptions {
        sqlite_synchronous_full: durable,
        ..StoreOptions::default()
    };
    Store::open_with(url, replicas, opts).await.unwrap()
}

async fn make_setups(tag: &str) -> Vec<Setup> {
    let mut v = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    v.push(Setup {
        name: "sqlite",
        store: open(&dir, &url).await,
        _dir: dir,
        pg_db: None,
    });
    if tag == "issue" {
        // The cost of durability: no fsync of files, SQLite synchronous = NORMAL.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
        v.push(Setup {
            name: "sqlite_without_fsync",
            store: open_durable(&dir, &url, false).await,
            _dir: dir,
            pg_db: None,
        });
    }
    sqlx::any::install_default_drivers();
    let server = std::env::var("ECERT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match AnyConnection::connect(&format!("{server}/postgres")).await {
        Ok(mut admin) => {
            let db = format!("ecert_bench_{tag}_{}", std::process::id());
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await
                .unwrap();
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            v.push(Setup {
                name: "postgres",
                store: open(&dir, &format!("{server}/{db}")).await,
                _dir: dir,
                pg_db: Some((server.clone(), db)),
            });
        }
        Err(e) => eprintln!("PostgreSQL unreachable ({e}); benchmarking SQLite only"),
    }
    v
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let setups = rt.block_on(make_setups("issue"));
    let file = Bytes::from(
        (0..100 * 1024)
            .map(|i| (i * 31 % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let counter = AtomicU32::new(0);
    let mut g = c.benchmark_group("issue_certificate_100KB_2_replicas");
    g.sample_size(30);
    for s in &setups {
        g.bench_function(s.name, |b| {
            b.to_async(&rt).iter(|| async {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                s.store
                    .issue_certificate(&cert(n), file.clone(), "bench", &json!(null))
                    .await
                    .unwrap()
            })
        });
    }
    g.finish();

    // Throughput with 8 writers at once (blob writes overlap; commits serialise).
    let mut g = c.benchmark_group("issue_8_concurrent_100KB_2_replicas");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(8));
    for s in &setups {
        g.bench_function(s.name, |b| {
            b.to_async(&rt).iter(|| async {
                let tasks: Vec<_> = (0..8)
                    .map(|_| {
                        let store = s.store.clone();
                        let file = file.clone();
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(async move {
                            store
                                .issue_certificate(&cert(n), file, "bench", &json!(null))
                                .await
                                .unwrap()
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        });
    }
    g.finish();
    rt.block_on(teardown(setups));

    // A fresh store, so that the chain has exactly 10 000 entries.
    let setups = rt.block_on(make_setups("audit"));
    let mut g = c.benchmark_group("verify_audit_chain_10000");
    g.sample_size(10);
    for s in &setups {
        rt.block_on(async {
            let have = s.store.audit_head().await.unwrap().seq;
            for i in have..10_000 {
                s.store
                    .append_audit(&AuditEvent {
                        actor: "api:lims",
                        action: "api.request",
                        subject: &format!("req-{i}"),
                        details: &json!({"path": "/api/v1/certificates", "status": 201}),
                    })
                    .await
                    .unwrap();
            }
        });
        g.bench_function(s.name, |b| {
            b.to_async(&rt).iter(|| async {
                let r = s.store.verify_audit_chain().await.unwrap();
                assert!(r.is_ok());
                r
            })
        });
    }
    g.finish();
    rt.block_on(teardown(setups));
}

criterion_group!(store, benches);
criterion_main!(store);
