//! restore drill on PostgreSQL (127.0.0.1:5432, user postgres, trust auth): an instance
//! whose records live in PostgreSQL is backed up (`pg_dump`), restored into a new folder and an
//! empty database (`pg_restore`), and the restored instance has the same records, verifies its
//! files and its audit chain, and records the restore.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use ecert::config::Config;
use ecert::service::Instance;
use ecert::service::backup::restore;

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A new empty database; its URL.
fn new_database(tag: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    let name = format!(
        "ecert_{tag}_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    let out = Command::new("psql")
        .args([&format!("{}/postgres", pg_server()), "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("this test needs psql and a PostgreSQL server (scripts/setup)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/{name}", pg_server())
}

fn drop_database(url: &str) {
    let name = url.rsplit('/').next().unwrap();
    let _ = Command::new("psql")
        .args([&format!("{}/postgres", pg_server()), "-c"])
        .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .output();
}

#[test]
fn r_6_5_restore_drill_on_postgresql() {
    let source_db = new_database("bk_src");
    let target_db = new_database("bk_dst");
    let tmp = tempfile::tempdir().unwrap();
    let result = std::panic::catch_unwind(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tmp.path().join("inst");
            let mut config = Config::demo();
            config.storage.database = source_db.clone();
            let instance = Instance::init(&dir, config).await.unwrap();
            instance.create_trial_seals().await.unwrap();
            let mut numbers = Vec::new();
            let mut files = Vec::new();
            for n in ["PG-0001", "PG-0002", "PG-0003"] {
                let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
                v["certificateNo"] = n.into();
                let issued = instance
                    .issue(&v.to_string(), &ecert::service::Actor::local("test"))
                    .await
                    .unwrap();
                numbers.push((
                    issued.record.number.clone(),
                    issued.record.identifier.clone(),
                    issued.record.token_hash,
                    issued.record.check_code.clone(),
                    issued.record.file_sm3,
                ));
                files.push(issued.file);
            }
            let backup = tmp.path().join("offline");
            let done = instance
                .backup(&backup, &ecert::service::Actor::local("test"))
                .await
                .unwrap();
            assert!(done.files >= 5, "{done:?}");
            let check = ecert::service::backup::check_backup(&backup, None);
            assert!(check.problems.is_empty(), "{:?}", check.problems);
            assert_eq!(check.manifest.unwrap().database, "postgres");

            let key = std::fs::read_to_string(dir.join("data/master.key")).unwrap();
            let into = tmp.path().join("restored");
            // A PostgreSQL backup needs the database to restore into.
            let err = restore(&backup, &into, key.trim(), None, "test")
                .await
                .unwrap_err();
            assert!(err.to_string().contains("--database"), "{err}");
            assert!(!into.exists(), "nothing written");

            let restored = restore(&backup, &into, key.trim(), Some(&target_db), "test")
                .await
                .unwrap();
            for (n, ident, token, code, sm3) in &numbers {
                let r = restored.find_certificate(n).await.unwrap();
                assert_eq!(
                    (&r.identifier, &r.token_hash, &r.check_code, &r.file_sm3),
                    (ident, token, code, sm3)
                );
            }
            for f in files {
                let v = restored.verify_file(f.into()).await.unwrap();
                assert!(v.outcome.is_genuine_and_current(), "{:?}", v.outcome);
            }
            let audit = restored.check_audit().await.unwrap();
            assert!(audit.is_ok(), "{:?}", audit.verdict);
            assert_eq!(
                restored
                    .audit_trail(&backup.display().to_string())
                    .await
                    .unwrap()
                    .last()
                    .unwrap()
                    .action,
                "instance.restore"
            );
            let scrub = restored
                .scrub(false, &ecert::service::Actor::local("test"))
                .await
                .unwrap();
            assert!(
                scrub.problems.is_empty() && scrub.lost.is_empty(),
                "{scrub:?}"
            );
        });
    });
    drop_database(&source_db);
    drop_database(&target_db);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
