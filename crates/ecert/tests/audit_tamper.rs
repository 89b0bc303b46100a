//! R-7.2.2b: the audit log cannot be quietly rewritten by someone with database access. Three
//! attacks, each done with Python's sqlite3 and hashlib SM3 (an outside implementation of the
//! chain rule) on a demo instance that issued a certificate, each found by `ecert audit verify`
//! and named as what it is: a forged entry appended with a correct hash and the head moved; the
//! last entry removed with the head rolled back; an entry edited and the rest of the chain
//! recomputed.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn ecert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run ecert")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    assert!(
        out.status.success(),
        "ecert {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ecert audit verify` must fail; returns stdout + stderr.
fn verify_fails(dir: &Path) -> String {
    let out = ecert(dir, &["audit", "verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "tampering not detected:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// A demo instance that issued one certificate (and so wrote a checkpoint after it).
fn instance() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(dir.path(), &["init", "--demo"]);
    let out = dir.path().join("out");
    ok(
        dir.path(),
        &[
            "issue",
            &format!("{EXAMPLES}/calibration.json"),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let text = ok(dir.path(), &["audit", "verify"]);
    assert!(text.contains("审计日志完整"), "{text}");
    assert!(text.contains("签名检查点"), "{text}");
    dir
}

/// Runs `script` with Python on the instance's database (triggers dropped first, as the owner
/// of the database can). The script gets `db` (sqlite3 connection), `entry_hash(prev, seq, at,
/// actor, action, subject, details)` (the documented rule, with hashlib's SM3) and `head()`.
fn tamper(dir: &Path, script: &str) {
    let prelude = r#"
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
db.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
def entry_hash(prev, seq, at, actor, action, subject, details):
    m = hashlib.new("sm3")
    m.update(prev + b"ecert-audit-v1\0" + struct.pack(">qq", seq, at))
    for f in (actor, action, subject, details):
        b = f.encode("utf-8")
        m.update(struct.pack(">Q", len(b)) + b)
    return m.digest()
def head():
    return db.execute("SELECT seq, hash FROM audit_head").fetchone()
"#;
    let db = dir.join("data/ecert.db");
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("{prelude}\n{script}\ndb.commit()\n"))
        .arg(&db)
        .output()
        .expect("this test needs python3 with hashlib SM3 (OpenSSL)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn r_7_2_2b_forged_entry_appended_with_correct_hash_is_found() {
    let dir = instance();
    tamper(
        dir.path(),
        r#"
seq, prev = head()
h = entry_hash(prev, seq + 1, 1, "mallory", "certificate.issue", "FAKE-1", "{}")
db.execute("INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) "
           "VALUES (?, 1, 'mallory', 'certificate.issue', 'FAKE-1', '{}', ?, ?)", (seq + 1, prev, h))
db.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq + 1, h))
"#,
    );
    let text = verify_fails(dir.path());
    assert!(text.contains("伪造追加"), "{text}");
    assert!(text.contains("forged entry appended"), "{text}");
}

#[test]
fn r_7_2_2b_last_entry_removed_with_head_rolled_back_is_found() {
    let dir = instance();
    tamper(
        dir.path(),
        r#"
seq, _ = head()
prev = db.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()[0]
db.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
db.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq - 1, prev))
"#,
    );
    let text = verify_fails(dir.path());
    assert!(text.contains("被截断"), "{text}");
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn r_7_2_2b_entry_edited_and_chain_recomputed_is_found() {
    let dir = instance();
    tamper(
        dir.path(),
        r#"
rows = db.execute("SELECT seq, at, actor, action, subject, details FROM audit_log ORDER BY seq").fetchall()
first = 2
prev = db.execute("SELECT hash FROM audit_log WHERE seq = ?", (first - 1,)).fetchone()[0]
for seq, at, actor, action, subject, details in rows[first - 1:]:
    if seq == first:
        details = '{"rewritten": true}'
    h = entry_hash(prev, seq, at, actor, action, subject, details)
    db.execute("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?", (details, prev, h, seq))
    prev = h
db.execute("UPDATE audit_head SET hash = ?", (prev,))
"#,
    );
    let text = verify_fails(dir.path());
    assert!(text.contains("被改写"), "{text}");
    assert!(text.contains("rewritten"), "{text}");
    assert!(text.contains("第 2 条"), "{text}");
}

#[test]
fn r_7_2_2b_a_forged_checkpoint_file_is_named() {
    let dir = instance();
    let cps = dir.path().join("data/replica-a/audit-checkpoints");
    let newest = std::fs::read_dir(&cps)
        .expect("checkpoints beside the replica")
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    // A later checkpoint claiming a shorter chain, signed by a key that is not the instance's.
    let mut cp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&newest).unwrap()).unwrap();
    cp["seq"] = serde_json::json!(999_999);
    cp["signature"] = serde_json::json!("3006020101020101");
    let name = format!("{:012}-{}.json", 999_999, cp["at_ms"]);
    std::fs::write(cps.join(&name), serde_json::to_vec(&cp).unwrap()).unwrap();
    let text = verify_fails(dir.path());
    assert!(text.contains(&name), "{text}");
    assert!(text.contains("签名无效"), "{text}");
    // The genuine checkpoint still anchors the chain.
    assert!(text.contains("审计日志完整"), "{text}");
}

#[test]
fn r_7_2_2b_checkpoint_on_demand_and_after_each_change() {
    let dir = instance();
    let count = |r: &str| {
        std::fs::read_dir(dir.path().join("data").join(r).join("audit-checkpoints"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = count("replica-a");
    assert!(before >= 1);
    assert_eq!(count("replica-b"), before);
    let text = ok(dir.path(), &["audit", "checkpoint"]);
    assert!(text.contains("已写入签名检查点"), "{text}");
    // Nothing appended since the last: the on-demand one is still written (a new file).
    assert_eq!(count("replica-a"), before + 1);
    // A command that reads only writes none.
    ok(dir.path(), &["seal", "list"]);
    assert_eq!(count("replica-a"), before + 1);
}
