//! `ecert verify` on files made by other implementations (R-6.3a, R-7.1b).

use std::process::Command;

fn fixture(name: &str) -> String {
    let path = format!("{}/../../fixtures/ofdrw/{name}", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&path).exists(),
        "缺少测试文件 {path}，它应在本仓库的 fixtures/ofdrw/ 中 (fixture {path} is missing: it belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)"
    );
    path
}

fn verify_json(path: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .args(["verify", "--json", path])
        .output()
        .expect("run ecert");
    let code = out.status.code().expect("exit code");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (code, report)
}

fn check_status(report: &serde_json::Value, number: u64) -> String {
    report["signatures"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["number"] == number)
        .map(|c| c["status"].as_str().expect("status").to_owned())
        .unwrap_or_else(|| panic!("check {number} missing"))
}

/// ofdrw's sealed file: hashes, dataHash, the signer's signature and Seal.esl pass; the seal and
/// certificates had expired before the signing time, so the verdict is FAILED (exit 1).
#[test]
fn r_6_3a_ofdrw_sealed_fixture() {
    let (code, report) = verify_json(&fixture("SESV4SignDoc.ofd"));
    assert_eq!(code, 1);
    assert_eq!(report["indication"], "FAILED");
    for n in [1, 2, 3, 4, 5, 6] {
        assert_eq!(check_status(&report, n), "PASSED", "check {n}");
    }
    assert_eq!(check_status(&report, 7), "FAILED");
}

/// The vendor-sealed invoice: checks 1–3 pass; its Document.xml refers to a template only up
/// to letter case, which our ZIP-ambiguity check refuses.
#[test]
fn r_6_3a_vendor_invoice() {
    let (code, report) = verify_json(&fixture("v4signed.ofd"));
    assert_eq!(code, 1);
    for n in [1, 2, 3] {
        assert_eq!(check_status(&report, n), "PASSED", "check {n}");
    }
}

/// An unsigned file is not PASSED, and garbage is "could not be read" (exit 3).
#[test]
fn verify_exit_codes_for_unsigned_and_unreadable() {
    let (code, _) = verify_json(&fixture("helloworld.ofd"));
    assert_ne!(code, 0);
    let junk = std::env::temp_dir().join(format!("ecert-junk-{}.ofd", std::process::id()));
    std::fs::write(&junk, b"not a zip at all").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .arg("verify")
        .arg(&junk)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("无法读取"));
    std::fs::remove_file(&junk).ok();
}

/// R-6.3a: the standalone verifier `ecert-verify` reports on other implementations' files as
/// `ecert verify` does (the validation time aside), with the same exit codes and JSON errors;
/// its argument errors are bilingual, and a reader that goes away does not make it panic.
#[test]
fn r_6_3a_the_standalone_verifier_on_other_implementations_files() {
    let lean = env!("CARGO_BIN_EXE_ecert-verify");
    let run = |exe: &str, args: &[&str]| {
        let out = Command::new(exe).args(args).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let json = |text: &str| {
        let mut v: serde_json::Value = serde_json::from_str(text).expect("JSON");
        if let Some(o) = v.as_object_mut() {
            o.remove("validation_time");
        }
        v
    };
    for (name, expected) in [
        ("SESV4SignDoc.ofd", 1),
        ("v4signed.ofd", 1),
        ("helloworld.ofd", 1),
    ] {
        let path = fixture(name);
        let (code, out, err) = run(lean, &["--json", &path]);
        assert_eq!(code, Some(expected), "{name}: {err}");
        let (full_code, full_out, _) =
            run(env!("CARGO_BIN_EXE_ecert"), &["verify", "--json", &path]);
        assert_eq!((code, json(&out)), (full_code, json(&full_out)), "{name}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.ofd");
    std::fs::write(&junk, b"not a zip at all").expect("write");
    let junk = junk.display().to_string();
    let (code, _, err) = run(lean, &[&junk]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("无法读取文件 (the file could not be read)"),
        "{err}"
    );
    let (code, out, _) = run(lean, &["--json", &junk]);
    assert_eq!(code, Some(3));
    assert_eq!(json(&out)["error"]["code"], "unreadable");
    let missing = dir.path().join("no-root.pem").display().to_string();
    let (code, out, _) = run(lean, &["--json", "--trust", &missing, &junk]);
    assert_eq!(code, Some(3));
    assert_eq!(json(&out)["error"]["code"], "trust_roots", "{out}");

    let (code, _, err) = run(lean, &["--bogus", &junk]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("错误 (error): 命令行参数有误，见 ecert-verify --help"),
        "{err}"
    );
    let (code, out, _) = run(lean, &["--json", "--bogus", &junk]);
    assert_eq!(code, Some(2));
    assert_eq!(json(&out)["error"]["code"], "usage");
    let (code, out, _) = run(lean, &["--help"]);
    assert_eq!(code, Some(0));
    for heading in [
        "用法 (Usage): ecert-verify",
        "选项 (Options)",
        "参数 (Arguments)",
    ] {
        assert!(out.contains(heading), "{heading}: {out}");
    }

    // `ecert-verify FILE | head -1` with head gone before the report is written.
    let mut child = Command::new(lean)
        .arg(fixture("SESV4SignDoc.ofd"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(1), "the verdict's exit code: {err}");
}
