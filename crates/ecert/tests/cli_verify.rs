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
