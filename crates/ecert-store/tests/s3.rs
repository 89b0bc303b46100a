//! Replicas in S3-compatible buckets (R-6.5b) against a real S3 server on loopback (moto in
//! server mode): SQLite with a local folder and a bucket, PostgreSQL with two buckets. The same
//! guarantees as local folders: every file reaches every replica before the record commits and
//! is never overwritten; SM3 is checked at every read, an altered copy in the bucket is reported
//! and the other replica used; scrub repairs it; an unreachable bucket stores nothing; disposal
//! deletes the object.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use std::sync::Arc;

use common::moto::{ACCESS_KEY, Moto, SECRET_KEY};
use common::{Backend, Env, cert, file};
use ecert_store::{ProblemKind, Replica, S3Location, StoreError, hex, sm3};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde_json::json;

both_backends!(
    r_6_5b_a_file_reaches_the_bucket_and_reads_back_checked,
    r_6_5a_an_altered_copy_in_the_bucket_is_reported_and_scrub_repairs_it,
    r_6_5b_a_bucket_object_is_never_overwritten,
    an_unreachable_bucket_stores_nothing,
    r_6_5i_disposal_deletes_the_object_from_the_bucket,
);

fn bucket(moto: &Moto, name: &str, bucket: &str) -> Replica {
    Replica::s3(&S3Location {
        name: name.into(),
        endpoint: Some(moto.endpoint()),
        bucket: bucket.into(),
        region: "us-east-1".into(),
        prefix: Some("certificates".into()),
        path_style: true,
        allow_http: true,
        credentials: Some((ACCESS_KEY.into(), SECRET_KEY.to_owned().into())),
    })
    .unwrap()
}

/// The replicas of this backend's set-up: SQLite — a local folder and a bucket; PostgreSQL —
/// two buckets. Returns them with the bucket replicas' raw stores.
fn replicas(env: &Env, moto: &Moto) -> (Vec<Replica>, Vec<Arc<dyn ObjectStore>>) {
    match env.backend {
        Backend::Sqlite => {
            moto.create_bucket("ecert-a");
            let local = Replica::local("local", env.dir.path().join("s3-local")).unwrap();
            let s3 = bucket(moto, "s3-a", "ecert-a");
            let raw = s3.object_store();
            (vec![local, s3], vec![raw])
        }
        Backend::Postgres => {
            moto.create_bucket("ecert-a");
            moto.create_bucket("ecert-b");
            let a = bucket(moto, "s3-a", "ecert-a");
            let b = bucket(moto, "s3-b", "ecert-b");
            let raw = vec![a.object_store(), b.object_store()];
            (vec![a, b], raw)
        }
    }
}

async fn r_6_5b_a_file_reaches_the_bucket_and_reads_back_checked(env: Env) {
    let moto = Moto::start();
    let (replicas, raw) = replicas(&env, &moto);
    let s = env.open_with(replicas).await;
    let body = file(11, 200_000);
    let rec = s
        .issue_certificate(&cert(11), body.clone(), "u", &json!(null))
        .await
        .unwrap();
    for store in &raw {
        let got = store
            .get(&ObjectPath::from(rec.blob_key.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(got, body, "the bucket holds the file under its key");
    }
    let read = s.certificate_file(&rec.id).await.unwrap();
    assert_eq!(read.bytes, body);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    assert_eq!(rec.file_sm3.to_vec(), sm3(&body).to_vec());
}

async fn r_6_5a_an_altered_copy_in_the_bucket_is_reported_and_scrub_repairs_it(env: Env) {
    let moto = Moto::start();
    let (replicas, raw) = replicas(&env, &moto);
    let first = replicas[0].name().to_owned();
    let s = env.open_with(replicas).await;
    let body = file(12, 50_000);
    let rec = s
        .issue_certificate(&cert(12), body.clone(), "u", &json!(null))
        .await
        .unwrap();
    // Someone with write access to the bucket alters its copy (first replica on PostgreSQL,
    // the second on SQLite: the bucket is what is altered either way).
    let mut altered = body.to_vec();
    altered[1234] ^= 0x40;
    let key = ObjectPath::from(rec.blob_key.as_str());
    raw[0]
        .put(&key, PutPayload::from(altered.clone()))
        .await
        .unwrap();
    let read = s.certificate_file(&rec.id).await.unwrap();
    assert_eq!(read.bytes, body, "the intact copy is served");
    if env.backend == Backend::Postgres {
        // The altered bucket is read first: its copy is reported, the other bucket's served.
        assert_eq!(read.problems.len(), 1, "{:?}", read.problems);
        assert_eq!(read.problems[0].replica, "s3-a");
        assert!(
            matches!(&read.problems[0].kind, ProblemKind::HashMismatch { found } if *found == hex(&sm3(&altered))),
            "{:?}",
            read.problems
        );
        assert_ne!(read.replica, first, "served from the other bucket");
    } else {
        // The local folder is read first and is intact; the scrub below finds the bucket's.
        assert_eq!(read.replica, first);
    }
    let report = s.scrub(false).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].to_string().contains("s3-a"),
        "{:?}",
        report.problems
    );
    let report = s.scrub(true).await.unwrap();
    assert_eq!(report.repaired, 1);
    let repaired = raw[0].get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(repaired, body, "scrub rewrote the bucket's copy");
    assert!(s.scrub(false).await.unwrap().problems.is_empty());
}

async fn r_6_5b_a_bucket_object_is_never_overwritten(env: Env) {
    let moto = Moto::start();
    let (_replicas, raw) = replicas(&env, &moto);
    // The store writes with `PutMode::Create` (`If-None-Match: *`): this server honours it,
    // so a second write of a key is refused, not silently replacing the first.
    let key = ObjectPath::from("7/2026/once");
    let create = || PutOptions {
        mode: PutMode::Create,
        ..PutOptions::default()
    };
    raw[0]
        .put_opts(&key, PutPayload::from_static(b"first"), create())
        .await
        .unwrap();
    let again = raw[0]
        .put_opts(&key, PutPayload::from_static(b"second"), create())
        .await;
    assert!(
        matches!(again, Err(object_store::Error::AlreadyExists { .. })),
        "{again:?}"
    );
    let kept = raw[0].get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(&kept[..], b"first");
}

async fn an_unreachable_bucket_stores_nothing(env: Env) {
    let moto = Moto::start();
    // A bucket that does not exist (a wrong name, deleted, no permission): the write fails
    // naming the replica, the other replica's copy is removed, no record is made.
    moto.create_bucket("ecert-a");
    let replicas = vec![
        bucket(&moto, "s3-a", "ecert-a"),
        bucket(&moto, "s3-missing", "no-such-bucket"),
    ];
    let raw = replicas[0].object_store();
    let s = env.open_with(replicas).await;
    let err = s
        .issue_certificate(&cert(13), file(13, 4000), "u", &json!(null))
        .await
        .unwrap_err();
    match &err {
        StoreError::BlobWrite { replica, .. } => assert_eq!(replica, "s3-missing"),
        other => panic!("expected a write error naming the replica: {other}"),
    }
    assert!(
        s.certificate_by_number(&cert(13).number)
            .await
            .unwrap()
            .is_none()
    );
    use futures_util::StreamExt as _;
    let left: Vec<_> = raw.list(None).collect().await;
    assert!(
        left.is_empty(),
        "the other bucket's copy is removed: {left:?}"
    );
}

async fn r_6_5i_disposal_deletes_the_object_from_the_bucket(env: Env) {
    let moto = Moto::start();
    let (replicas, raw) = replicas(&env, &moto);
    let s = env.open_with(replicas).await;
    let rec = s
        .issue_certificate(&cert(14), file(14, 8000), "u", &json!(null))
        .await
        .unwrap();
    let key = ObjectPath::from(rec.blob_key.as_str());
    assert!(raw[0].head(&key).await.is_ok());
    s.propose_disposal(&rec.id, "alice", "2033-01-01", 6)
        .await
        .unwrap();
    s.approve_disposal(&rec.id, "bob").await.unwrap();
    s.execute_disposal(&rec.id, "bob").await.unwrap();
    for store in &raw {
        assert!(
            matches!(
                store.head(&key).await,
                Err(object_store::Error::NotFound { .. })
            ),
            "the object is gone from every bucket"
        );
    }
}
