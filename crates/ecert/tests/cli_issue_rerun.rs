//! Running a batch again after a crash: numbers already issued from the same content
//! are reported as already issued, not as failures, and their stored files are written to
//! `-o`; a number issued from other content stays a failure that names the number and what
//! differs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const ECERT: &str = env!("CARGO_BIN_EXE_ecert");
const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn content(number: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v
}

fn issue(inst: &Path, folder: &Path, out: &Path) -> Output {
    Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "issue"])
        .arg(folder)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn rerun_batch_reports_already_issued_and_refuses_changed_content() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst");
    let init = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "init", "--demo"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let folder = dir.path().join("batch");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 1..=3 {
        let v = content(&format!("RR-{i:04}"));
        std::fs::write(folder.join(format!("c{i:02}.json")), v.to_string()).unwrap();
    }
    let first_out = dir.path().join("out1");
    let first = issue(&inst, &folder, &first_out);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(files_in(&first_out).len(), 3);

    // The run is repeated with one more file (and one file re-formatted: the same content).
    let pretty = serde_json::to_string_pretty(&content("RR-0001")).unwrap();
    std::fs::write(folder.join("c01.json"), pretty).unwrap();
    std::fs::write(folder.join("c04.json"), content("RR-0004").to_string()).unwrap();
    let second_out = dir.path().join("out2");
    let again = issue(&inst, &folder, &second_out);
    let stdout = String::from_utf8_lossy(&again.stdout);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stdout}{stderr}");
    for n in ["RR-0001", "RR-0002", "RR-0003"] {
        assert!(
            stdout.contains(&format!("已签发过 (already issued): {n}")),
            "{n}: {stdout}"
        );
    }
    assert!(
        stdout.contains("3/4 份此前已签发") && stdout.contains("RR-0001 RR-0002 RR-0003"),
        "{stdout}"
    );
    assert!(
        stdout.contains("证书编号 (number):      RR-0004"),
        "{stdout}"
    );
    assert!(!stderr.contains("错误"), "{stderr}");
    // Four files in -o; the three issued before are the stored files, byte for byte.
    let written = files_in(&second_out);
    assert_eq!(written.len(), 4, "{written:?}");
    for name in files_in(&first_out) {
        assert_eq!(
            std::fs::read(first_out.join(&name)).unwrap(),
            std::fs::read(second_out.join(&name)).unwrap(),
            "{name}"
        );
    }

    // An issued number with changed content: a failure naming the number and the difference.
    let mut changed = content("RR-0002");
    changed["customer"]["name"] = "另一家公司".into();
    std::fs::write(folder.join("c02.json"), changed.to_string()).unwrap();
    let third = issue(&inst, &folder, &dir.path().join("out3"));
    let stdout = String::from_utf8_lossy(&third.stdout);
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(!third.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("c02.json") && stderr.contains("证书编号 RR-0002 已签发"),
        "{stderr}"
    );
    assert!(
        stderr.contains("customer.name") && stderr.contains("另一家公司"),
        "{stderr}"
    );
    assert!(stderr.contains("1/4 份未签发"), "{stderr}");
    // The others are still reported as already issued.
    assert!(
        stdout.contains("已签发过 (already issued): RR-0004"),
        "{stdout}"
    );
}
