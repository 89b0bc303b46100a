//! `ecert scrub` and `ecert orphans` (R-6.5g) through the binary on a demo instance: a damaged
//! copy is found and repaired from the intact one; the staging file a killed write leaves is
//! found and removed; both runs are in the audit chain.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
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

fn ofd_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ofd") {
                out.push(p);
            }
        }
    }
    out
}

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
    dir
}

#[test]
fn r_6_5g_scrub_finds_a_damaged_copy_and_repairs_it_from_the_intact_one() {
    let dir = instance();
    let text0 = ok(dir.path(), &["scrub"]);
    assert!(text0.contains("问题 0"), "{text0}");
    let files = ofd_files(&dir.path().join("data/replica-a"));
    assert_eq!(files.len(), 1, "{files:?}");
    let good = std::fs::read(&files[0]).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    std::fs::write(&files[0], &bad).unwrap();

    let out = ecert(dir.path(), &["scrub"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("replica-1"), "the damaged replica is named: {t}");
    assert!(t.contains("--repair"), "{t}");
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        bad,
        "scrub alone changes nothing"
    );

    let t = ok(dir.path(), &["scrub", "--repair"]);
    assert!(t.contains("已修复 1"), "{t}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), good);
    ok(dir.path(), &["scrub"]);
    assert!(ok(dir.path(), &["audit", "verify"]).contains("审计日志完整"));
}

#[test]
fn staging_files_of_a_killed_write_are_listed_and_removed() {
    let dir = instance();
    let files = ofd_files(&dir.path().join("data/replica-b"));
    let staged = PathBuf::from(format!("{}#12", files[0].display()));
    std::fs::copy(&files[0], &staged).unwrap();
    let t = ok(dir.path(), &["orphans"]);
    assert!(t.contains("#12"), "{t}");
    assert!(t.contains("暂存文件"), "{t}");
    // Too recent for the default age: kept.
    ok(dir.path(), &["orphans", "--remove"]);
    assert!(staged.exists());
    let t = ok(
        dir.path(),
        &["orphans", "--remove", "--older-than-minutes", "0"],
    );
    assert!(t.contains("已删除 1"), "{t}");
    assert!(!staged.exists());
    assert!(files[0].exists(), "the stored file stays");
    assert!(ok(dir.path(), &["orphans"]).contains("孤立文件 0"));
    assert!(ok(dir.path(), &["audit", "verify"]).contains("审计日志完整"));
}

#[test]
fn r_6_5b_status_tells_whether_the_instance_meets_3_2_1_now() {
    let dir = instance();
    let out = ecert(dir.path(), &["status", "--json"]);
    assert!(!out.status.success(), "never backed up nor scrubbed");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = |s: &serde_json::Value, what: &str| {
        s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["what"] == what)
            .cloned()
            .unwrap()
    };
    assert_eq!(finding(&status, "replicas")["ok"], true);
    assert_eq!(finding(&status, "offline_backup")["ok"], false);
    assert!(
        finding(&status, "offline_backup")["text"]
            .as_str()
            .unwrap()
            .contains("ecert backup")
    );
    assert_eq!(finding(&status, "scrub")["ok"], false);
    assert_eq!(
        finding(&status, "time")["ok"],
        true,
        "a demo seals on its local clock"
    );

    ok(dir.path(), &["scrub"]);
    let backup = dir.path().join("offline");
    ok(dir.path(), &["backup", backup.to_str().unwrap()]);
    let t = ok(dir.path(), &["status"]);
    assert!(t.contains("✓") && !t.contains("✗"), "{t}");
}
