//! Offline backups and restore (R-6.5, R-6.5b) through the binary: a backup, an incremental
//! one, its check, a restore drill into a new folder (numbers, tokens and check codes unchanged,
//! every file verifies, the audit chain verifies and records the restore), and the refusals: a
//! flipped byte, a removed file, a forged manifest, a backup killed half-way.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn ecert_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecert"));
    cmd.arg("--dir").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ecert")
}

fn ecert(dir: &Path, args: &[&str]) -> Output {
    ecert_env(dir, args, &[])
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    assert!(
        out.status.success(),
        "ecert {args:?} failed:\n{}",
        text(&out)
    );
    text(&out)
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    let t = text(&out);
    assert!(!out.status.success(), "ecert {args:?} should fail:\n{t}");
    assert!(!t.contains("panicked"), "{t}");
    t
}

fn issue(dir: &Path, example: &str, number: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{EXAMPLES}/{example}")).unwrap())
            .unwrap();
    v["certificateNo"] = number.into();
    let content = dir.join(format!("{number}.json"));
    std::fs::write(&content, v.to_string()).unwrap();
    let out = dir.join("out");
    let t = ok(
        dir,
        &[
            "issue",
            content.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    t.lines()
        .find_map(|l| l.strip_prefix("文件 (file):"))
        .unwrap()
        .trim()
        .to_owned()
}

/// An instance with three certificates and a supplement.
fn instance(root: &Path) -> (PathBuf, Vec<String>) {
    let dir = root.join("inst");
    ok(&dir, &["init", "--demo"]);
    let files = vec![
        issue(&dir, "calibration.json", "BK-0001"),
        issue(&dir, "verification.json", "BK-0002"),
        issue(&dir, "calibration.json", "BK-0003"),
    ];
    let out = dir.join("out");
    ok(
        &dir,
        &[
            "supplement",
            "BK-0001",
            &format!("{EXAMPLES}/supplement.json"),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    (dir, files)
}

fn objects(backup: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(backup.join("objects")).unwrap().flatten() {
        out.extend(
            std::fs::read_dir(d.path())
                .unwrap()
                .flatten()
                .map(|e| e.path()),
        );
    }
    out.sort();
    out
}

fn manifest(backup: &Path) -> (PathBuf, serde_json::Value) {
    let mut names: Vec<PathBuf> = std::fs::read_dir(backup.join("manifests"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    let p = names.pop().unwrap();
    let v = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    (p, v)
}

/// Number, identifier, token hash, check code and file SM3 of every certificate and
/// supplement, read from the instance's database with Python's sqlite3.
fn records(dir: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             for r in db.execute('SELECT number, identifier, hex(token_hash), check_code, hex(file_sm3) FROM certificates ORDER BY number'): print(r)\n\
             for r in db.execute('SELECT number, hex(token_hash), hex(file_sm3) FROM supplements ORDER BY number'): print(r)",
        )
        .arg(dir.join("data/ecert.db"))
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn r_6_5b_backup_incremental_backup_and_restore_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, files) = instance(tmp.path());
    let backup = tmp.path().join("offline");
    let b = backup.to_str().unwrap();

    let t = ok(&dir, &["backup", b]);
    assert!(t.contains("备份完成"), "{t}");
    let (_, m1) = manifest(&backup);
    let paths: Vec<&str> = m1["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"database/ecert.sqlite"), "{paths:?}");
    assert!(paths.contains(&"config/ecert.toml"), "{paths:?}");
    assert!(paths.contains(&"files/trial-ca/root.pem"), "{paths:?}");
    assert_eq!(
        paths.iter().filter(|p| p.starts_with("blobs/")).count(),
        4,
        "three certificates and a supplement: {paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("checkpoints/")),
        "{paths:?}"
    );
    assert!(m1["previous"].is_null());
    let t = ok(&dir, &["backup", "verify", b]);
    assert!(t.contains("备份完好"), "{t}");

    // Incremental: one more certificate; its file, the database and what changed are new,
    // the other certificate files are not copied again.
    let before = objects(&backup).len();
    issue(&dir, "verification.json", "BK-0004");
    let t = ok(&dir, &["backup", b]);
    let (_, m2) = manifest(&backup);
    assert!(m2["previous"]["name"].is_string(), "{m2}");
    let after = objects(&backup).len();
    assert!(
        after > before && after - before <= 6,
        "{before} → {after}: {t}"
    );
    ok(&dir, &["backup", "verify", b]);

    // The restore drill.
    let restored = tmp.path().join("restored");
    let key = dir.join("data/master.key");
    let t = ok(
        &dir,
        &[
            "restore",
            b,
            "--into",
            restored.to_str().unwrap(),
            "--master-key-file",
            key.to_str().unwrap(),
        ],
    );
    assert!(t.contains("审计日志完整"), "{t}");
    let original = records(&dir);
    assert_eq!(original.lines().count(), 5, "{original}");
    assert_eq!(records(&restored), original);
    for f in &files {
        let out = ecert(&restored, &["verify", f, "--records"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("genuine"), "{}", text(&out));
    }
    assert!(ok(&restored, &["scrub"]).contains("问题 0"));
    let t = ok(&restored, &["audit", "verify"]);
    assert!(t.contains("审计日志完整"), "{t}");
    let audit = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM audit_log WHERE action='instance.restore'\").fetchone()[0])")
        .arg(restored.join("data/ecert.db"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&audit.stdout).trim(), "1");
    // The restored instance issues on.
    issue(&restored, "calibration.json", "BK-0005");

    // Into a folder that is not empty: refused.
    let t = fails(
        &dir,
        &[
            "restore",
            b,
            "--into",
            restored.to_str().unwrap(),
            "--master-key-file",
            key.to_str().unwrap(),
        ],
    );
    assert!(t.contains("已有实例"), "{t}");
}

#[test]
fn r_6_5b_a_damaged_or_forged_backup_is_named_and_never_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = instance(tmp.path());
    let key = dir.join("data/master.key");
    let restore_into = |backup: &Path, name: &str| {
        let into = tmp.path().join(name);
        let out = ecert(
            &dir,
            &[
                "restore",
                backup.to_str().unwrap(),
                "--into",
                into.to_str().unwrap(),
                "--master-key-file",
                key.to_str().unwrap(),
            ],
        );
        (out, into)
    };

    // A flipped byte in a certificate file.
    let b1 = tmp.path().join("b1");
    ok(&dir, &["backup", b1.to_str().unwrap()]);
    let (_, m) = manifest(&b1);
    let blob = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().starts_with("blobs/"))
        .unwrap()
        .clone();
    let sm3 = blob["sm3"].as_str().unwrap();
    let obj = b1.join("objects").join(&sm3[..2]).join(sm3);
    let mut bytes = std::fs::read(&obj).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&obj, &bytes).unwrap();
    let t = fails(&dir, &["backup", "verify", b1.to_str().unwrap()]);
    assert!(t.contains("SM3"), "{t}");
    assert!(
        t.contains(blob["path"].as_str().unwrap()),
        "the file is named: {t}"
    );
    let (out, into) = restore_into(&b1, "r1");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!into.exists(), "nothing written");

    // A removed file.
    let b2 = tmp.path().join("b2");
    ok(&dir, &["backup", b2.to_str().unwrap()]);
    let (_, m) = manifest(&b2);
    let db = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "database/ecert.sqlite")
        .unwrap()
        .clone();
    let sm3 = db["sm3"].as_str().unwrap();
    std::fs::remove_file(b2.join("objects").join(&sm3[..2]).join(sm3)).unwrap();
    let t = fails(&dir, &["backup", "verify", b2.to_str().unwrap()]);
    assert!(
        t.contains("文件缺失") && t.contains("database/ecert.sqlite"),
        "{t}"
    );
    let (out, into) = restore_into(&b2, "r2");
    assert!(!out.status.success());
    assert!(!into.exists(), "nothing written");

    // A forged manifest: a file's hash swapped for another's (so every object is present and
    // intact), the signature left as it was.
    let b3 = tmp.path().join("b3");
    ok(&dir, &["backup", b3.to_str().unwrap()]);
    let (path, mut m) = manifest(&b3);
    let files = m["files"].as_array_mut().unwrap();
    let other = files[1]["sm3"].clone();
    files[0]["sm3"] = other;
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let t = fails(&dir, &["backup", "verify", b3.to_str().unwrap()]);
    assert!(t.contains("清单签名无效"), "{t}");
    let (out, into) = restore_into(&b3, "r3");
    assert!(!out.status.success());
    assert!(!into.exists(), "nothing written");
}

#[test]
fn r_6_5b_a_backup_killed_half_way_leaves_the_previous_one_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = instance(tmp.path());
    let backup = tmp.path().join("offline");
    let b = backup.to_str().unwrap();
    ok(&dir, &["backup", b]);
    let (first, _) = manifest(&backup);
    issue(&dir, "calibration.json", "BK-0009");
    // SIGKILL after the first new object of the second backup.
    let out = ecert_env(
        &dir,
        &["backup", b],
        &[("ECERT_TEST_KILL_BACKUP_AFTER", "1")],
    );
    assert!(!out.status.success(), "{}", text(&out));
    let (newest, _) = manifest(&backup);
    assert_eq!(newest, first, "no new manifest");
    let t = ok(&dir, &["backup", "verify", b]);
    assert!(t.contains("备份完好"), "{t}");
    // Run again: it completes, and chains to the first.
    ok(&dir, &["backup", b]);
    let (_, m) = manifest(&backup);
    assert_eq!(
        m["previous"]["name"],
        first.file_name().unwrap().to_str().unwrap()
    );
    ok(&dir, &["backup", "verify", b]);
}
