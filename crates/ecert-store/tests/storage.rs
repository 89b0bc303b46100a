//! Blobs on every replica (R-6.5b), SM3 integrity (R-6.5a), layout by kind and year (R-6.5f),
//! failure atomicity (a full disk, an unwritable replica, a crash at any point), scrub and
//! orphan scan, SQLite hot backup — on both backends; the first four also with buckets of a real
//! S3 server (SQLite with a folder and a bucket, PostgreSQL with two buckets).

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use std::path::Path;
use std::process::Command;

use common::{Backend, Env, cert, count, file};
use ecert_store::{CrashPoint, ProblemKind, Replica, StoreError, hex, sm3};
use serde_json::json;

// The same guarantees with buckets of a real S3 server (moto on loopback): SQLite with a folder
// and a bucket, PostgreSQL with two buckets.
on_buckets!(
    r_6_5b_r_6_5f_file_reaches_every_replica_under_kind_and_year,
    r_6_5a_recorded_sm3_equals_openssl_sm3,
    r_6_5a_altered_or_missing_copy_is_reported_and_the_next_replica_used,
    r_6_5g_scrub_finds_and_repairs_bad_copies,
);

both_backends!(
    r_6_5b_r_6_5f_file_reaches_every_replica_under_kind_and_year,
    r_6_5a_recorded_sm3_equals_openssl_sm3,
    r_6_5a_altered_or_missing_copy_is_reported_and_the_next_replica_used,
    r_6_5g_scrub_finds_and_repairs_bad_copies,
    unwritable_replica_stores_nothing,
    full_disk_stores_nothing,
    crash_after_blobs_leaves_an_orphan_and_no_record,
    crash_before_commit_leaves_an_orphan_and_no_record,
    r_6_5_sqlite_hot_backup,
);

async fn r_6_5b_r_6_5f_file_reaches_every_replica_under_kind_and_year(env: Env) {
    let s = &env.store;
    let mut c = cert(7);
    c.kind = 1;
    c.number = "检字第2026/007号".into();
    c.issue_date = "2025-12-31".into();
    let body = file(7, 10_000);
    let rec = s
        .issue_certificate(&c, body.clone(), "u", &json!(null))
        .await
        .unwrap();
    assert!(rec.blob_key.starts_with("1/2025/"), "{}", rec.blob_key);
    assert!(
        rec.blob_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b)),
        "R-6.5f safe characters only: {}",
        rec.blob_key
    );
    for i in 0..2 {
        let copy = env.copy(i, &rec.blob_key).await.unwrap();
        assert_eq!(copy, body, "replica {i}");
    }
    if env.moto.is_none() {
        assert_eq!(env.blob_files().len(), 2);
    }
}

async fn r_6_5a_recorded_sm3_equals_openssl_sm3(env: Env) {
    let s = &env.store;
    let body = file(3, 100_000);
    let rec = s
        .issue_certificate(&cert(3), body, "u", &json!(null))
        .await
        .unwrap();
    // The second replica's copy (a folder's file or a bucket's object), as OpenSSL reads it.
    let path = env.dir.path().join("copy-r1");
    std::fs::write(&path, env.copy(1, &rec.blob_key).await.unwrap()).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sm3", "-r"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs OpenSSL ≥ 1.1.1 (`openssl dgst -sm3`): {e}; apt-get install openssl")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let oracle = stdout.split_whitespace().next().unwrap();
    assert_eq!(oracle, hex(&rec.file_sm3));
}

async fn r_6_5a_altered_or_missing_copy_is_reported_and_the_next_replica_used(env: Env) {
    let s = &env.store;
    let body = file(1, 5000);
    let rec = s
        .issue_certificate(&cert(1), body.clone(), "u", &json!(null))
        .await
        .unwrap();
    let mut altered = body.to_vec();
    altered[100] ^= 1;
    env.alter_copy(0, &rec.blob_key, altered.clone()).await;
    let got = s.certificate_file(&rec.id).await.unwrap();
    assert_eq!(got.bytes, body);
    assert_eq!(got.replica, "r1");
    assert_eq!(got.problems.len(), 1);
    assert_eq!(got.problems[0].replica, "r0");
    assert!(
        matches!(&got.problems[0].kind, ProblemKind::HashMismatch { found } if *found == hex(&sm3(&altered)))
    );
    // Both bad: a clear error naming each replica's problem.
    env.remove_copy(1, &rec.blob_key).await;
    let e = s.certificate_file(&rec.id).await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StoreError::NoIntactCopy { .. }), "{msg}");
    assert!(
        msg.contains("\"r0\"") && msg.contains("does not match"),
        "{msg}"
    );
    assert!(msg.contains("\"r1\" has no"), "{msg}");
}

async fn r_6_5g_scrub_finds_and_repairs_bad_copies(env: Env) {
    let s = &env.store;
    let a = s
        .issue_certificate(&cert(1), file(1, 3000), "u", &json!(null))
        .await
        .unwrap();
    let b = s
        .issue_certificate(&cert(2), file(2, 3000), "u", &json!(null))
        .await
        .unwrap();
    assert!(s.scrub(false).await.unwrap().problems.is_empty());
    env.alter_copy(0, &a.blob_key, b"garbage".to_vec()).await;
    env.remove_copy(1, &b.blob_key).await;
    let r = s.scrub(false).await.unwrap();
    assert_eq!(r.checked, 4);
    assert_eq!(r.problems.len(), 2);
    assert_eq!(r.repaired, 0);
    let r = s.scrub(true).await.unwrap();
    assert_eq!(r.repaired, 2);
    let r = s.scrub(false).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(env.copy(0, &a.blob_key).await.unwrap(), file(1, 3000));
    // Both copies gone: reported as lost.
    env.remove_copy(0, &b.blob_key).await;
    env.remove_copy(1, &b.blob_key).await;
    let r = s.scrub(true).await.unwrap();
    assert_eq!(r.lost, vec![b.blob_key.clone()]);
}

/// A replica whose folder has become a plain file (a broken mount, a wrong path): the write
/// fails naming the replica, the other replica's copy is removed, no record, no audit entry.
async fn unwritable_replica_stores_nothing(env: Env) {
    let s = &env.store;
    s.issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let head = s.audit_head().await.unwrap();
    let r1 = env.replica_dir(1);
    let moved = env.dir.path().join("replica-1-moved");
    std::fs::rename(&r1, &moved).unwrap();
    std::fs::write(&r1, b"not a folder").unwrap();
    let e = s
        .issue_certificate(&cert(2), file(2, 1000), "u", &json!(null))
        .await
        .unwrap_err();
    match &e {
        StoreError::BlobWrite {
            replica, cleanup, ..
        } => {
            assert_eq!(replica, "r1");
            assert!(cleanup.0.is_empty(), "{e}");
        }
        other => panic!("expected BlobWrite, got {other}"),
    }
    assert!(e.to_string().contains("replica \"r1\""), "{e}");
    assert_eq!(count(s, "certificates").await, 1);
    assert_eq!(s.audit_head().await.unwrap(), head);
    assert_eq!(common::files_under(&env.replica_dir(0)).len(), 1);
    std::fs::remove_file(&r1).unwrap();
    std::fs::rename(&moved, &r1).unwrap();
    assert!(s.orphan_blobs().await.unwrap().is_empty());
}

struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("this test needs `mount` (util-linux): {e}"));
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill a disk and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(path.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk on the second replica: clear error, nothing stored anywhere, no partial file
/// left on the full disk.
async fn full_disk_stores_nothing(env: Env) {
    let small = env.dir.path().join("small");
    let _mounted = Tmpfs::mount(&small, "64k");
    let store = env
        .open_with(vec![
            Replica::local("disk", env.replica_dir(0)).unwrap(),
            Replica::local("small", &small).unwrap(),
        ])
        .await;
    store
        .issue_certificate(&cert(1), file(1, 8_000), "u", &json!(null))
        .await
        .unwrap();
    let head = store.audit_head().await.unwrap();
    let e = store
        .issue_certificate(&cert(2), file(2, 200_000), "u", &json!(null))
        .await
        .unwrap_err();
    match &e {
        StoreError::BlobWrite { replica, .. } => assert_eq!(replica, "small"),
        other => panic!("expected BlobWrite, got {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.to_lowercase().contains("space"),
        "the error should say the disk is full: {msg}"
    );
    assert_eq!(count(&store, "certificates").await, 1);
    assert_eq!(store.audit_head().await.unwrap(), head);
    assert_eq!(common::files_under(&env.replica_dir(0)).len(), 1);
    assert_eq!(
        common::files_under(&small).len(),
        1,
        "{:?}",
        common::files_under(&small)
    );
    assert!(store.orphan_blobs().await.unwrap().is_empty());
    store.close().await;
}

async fn crash_at(env: Env, point: CrashPoint) {
    let mut crashing = env.store.clone();
    crashing.simulate_crash_at(Some(point));
    let head = env.store.audit_head().await.unwrap();
    let c = cert(1);
    let c2 = c.clone();
    let r = tokio::spawn(async move {
        crashing
            .issue_certificate(&c2, file(1, 1000), "u", &json!(null))
            .await
    })
    .await;
    assert!(r.unwrap_err().is_panic());
    let s = &env.store;
    assert!(s.certificate_by_number(&c.number).await.unwrap().is_none());
    assert_eq!(count(s, "certificates").await, 0);
    assert_eq!(s.audit_head().await.unwrap(), head);
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    let orphans = s.orphan_blobs().await.unwrap();
    assert_eq!(orphans.len(), 2, "{orphans:?}");
    assert!(
        orphans
            .iter()
            .all(|o| o.key.starts_with("2/2026/JZ2026-00001."))
    );
    // The number is not burnt: the retry succeeds, beside the orphan.
    let rec = s
        .issue_certificate(&c, file(1, 1000), "u", &json!(null))
        .await
        .unwrap();
    assert!(orphans.iter().all(|o| o.key != rec.blob_key));
    assert_eq!(s.orphan_blobs().await.unwrap().len(), 2);
    // Cleaning up: nothing younger than the cut-off is touched; then the orphans go, the
    // certificate's own file stays, and the removal is audited.
    assert!(s.remove_orphan_blobs(0, "ops").await.unwrap().is_empty());
    let removed = s.remove_orphan_blobs(i64::MAX, "ops").await.unwrap();
    assert_eq!(removed.len(), 2);
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    assert!(s.scrub(false).await.unwrap().problems.is_empty());
    assert_eq!(env.blob_files().len(), 2);
    let last = s.audit_entries(1, 100).await.unwrap().pop().unwrap();
    assert_eq!(last.action, "blob.remove_orphans");
}

async fn crash_after_blobs_leaves_an_orphan_and_no_record(env: Env) {
    crash_at(env, CrashPoint::AfterBlobs).await;
}

async fn crash_before_commit_leaves_an_orphan_and_no_record(env: Env) {
    crash_at(env, CrashPoint::BeforeCommit).await;
}

async fn r_6_5_sqlite_hot_backup(env: Env) {
    let s = &env.store;
    for i in 1..=3 {
        s.issue_certificate(&cert(i), file(i, 100), "u", &json!(null))
            .await
            .unwrap();
    }
    let dest = env.dir.path().join("backup.db");
    match env.backend {
        Backend::Postgres => {
            let e = s.backup_sqlite(&dest).await.unwrap_err();
            assert!(e.to_string().contains("pg_dump"), "{e}");
        }
        Backend::Sqlite => {
            s.backup_sqlite(&dest).await.unwrap();
            let e = s.backup_sqlite(&dest).await.unwrap_err();
            assert!(e.to_string().contains("exists"), "{e}");
            let copy = ecert_store::Store::open(
                &format!("sqlite://{}?mode=rw", dest.display()),
                vec![Replica::local("r0", env.replica_dir(0)).unwrap()],
            )
            .await
            .unwrap();
            assert_eq!(count(&copy, "certificates").await, 3);
            assert!(copy.verify_audit_chain().await.unwrap().is_ok());
            assert!(copy.scrub(false).await.unwrap().problems.is_empty());
            copy.close().await;
        }
    }
}
