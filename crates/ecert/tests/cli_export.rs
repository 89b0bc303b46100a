//! A copy that cannot be written (`-o`) does not make an issued certificate "not issued": the
//! CLI says it is issued and stored, with the copy's error; `ecert export` writes the stored
//! files (certificates and supplements, by their numbers) again, checked against their SM3.

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn ecert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
        .env_remove("ECERT_DIR")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run ecert")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    assert!(out.status.success(), "ecert {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.split(label).nth(1))
        .unwrap_or_else(|| panic!("{label} not in:\n{out}"))
        .trim()
        .to_owned()
}

fn sm3_hex(bytes: &[u8]) -> String {
    ses::sm::sm3(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_copy_not_written_is_reported_as_issued_and_export_gets_it_back() {
    let inst = tempfile::tempdir().expect("tmp");
    let dir = inst.path();
    ok(dir, &["init", "--demo"]);
    let work = tempfile::tempdir().expect("tmp");
    // `-o` names a plain file: no folder can be made there.
    let blocked = work.path().join("not-a-folder");
    std::fs::write(&blocked, "x").expect("write");
    let blocked = blocked.to_string_lossy().into_owned();

    let out = ecert(
        dir,
        &[
            "issue",
            &format!("{EXAMPLES}/calibration.json"),
            "-o",
            &blocked,
        ],
    );
    let said = text(&out);
    assert!(!out.status.success(), "the copy is missing: {said}");
    assert!(said.contains("已签发并存储"), "{said}");
    assert!(said.contains("ecert export JZ2024-000123"), "{said}");
    assert!(!said.contains("未签发"), "it was issued: {said}");
    assert!(
        said.contains("not-a-folder"),
        "the copy's error names the path: {said}"
    );

    // Stored and audited: show finds it; issuing the same number again from other content is
    // refused as existing (the same content is "already issued": cli_issue_rerun).
    let shown = ok(dir, &["show", "JZ2024-000123"]);
    let sm3 = shown
        .split("SM3 ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("SM3 in show")
        .to_owned();
    let mut other: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{EXAMPLES}/calibration.json")).expect("example"),
    )
    .expect("json");
    other["customer"]["name"] = "另一家公司".into();
    let other_file = work.path().join("other.json");
    std::fs::write(&other_file, other.to_string()).expect("write");
    let again_out = work.path().join("again").to_string_lossy().into_owned();
    let again = ecert(
        dir,
        &["issue", &other_file.to_string_lossy(), "-o", &again_out],
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("证书编号 JZ2024-000123 已签发"),
        "{}",
        text(&again)
    );

    // export writes the stored file, byte for byte the one recorded.
    let out_dir = work.path().join("export");
    let out_dir_s = out_dir.to_string_lossy().into_owned();
    let printed = ok(dir, &["export", "JZ2024-000123", "-o", &out_dir_s]);
    let file = field(&printed, "JZ2024-000123:");
    let bytes = std::fs::read(&file).expect("exported file");
    assert_eq!(sm3_hex(&bytes), sm3);
    // Exporting again into the same folder is fine (same bytes); a different file of that
    // name is kept and the export refused.
    ok(dir, &["export", "JZ2024-000123", "-o", &out_dir_s]);
    std::fs::write(&file, b"mine").expect("write");
    let out = ecert(dir, &["export", "JZ2024-000123", "-o", &out_dir_s]);
    assert!(!out.status.success());
    assert!(text(&out).contains("未覆盖"), "{}", text(&out));
    assert_eq!(std::fs::read(&file).expect("kept"), b"mine");

    // A supplement whose copy cannot be written: issued and stored too, exported by its number.
    let out = ecert(
        dir,
        &[
            "supplement",
            "JZ2024-000123",
            &format!("{EXAMPLES}/supplement.json"),
            "-o",
            &blocked,
        ],
    );
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("已签发并存储"), "{said}");
    let number = field(
        &String::from_utf8_lossy(&out.stdout),
        "补充文件编号 (number):",
    );
    let printed = ok(dir, &["export", &number, "-o", &out_dir_s]);
    let supp = field(&printed, &format!("{number}:"));
    assert!(supp.contains("补充文件"), "{supp}");
    let bytes = std::fs::read(&supp).expect("exported supplement");
    assert!(bytes.starts_with(b"PK"), "an OFD (zip) file");
    let v = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .args(["verify", "--records", "--dir"])
        .arg(dir)
        .arg(&supp)
        .output()
        .expect("verify");
    assert_eq!(v.status.code(), Some(0), "genuine: {}", text(&v));

    // Unknown numbers are named; nothing is written for them.
    let out = ecert(dir, &["export", "NO-SUCH-1", "-o", &out_dir_s]);
    assert!(!out.status.success());
    assert!(text(&out).contains("NO-SUCH-1"), "{}", text(&out));
}
