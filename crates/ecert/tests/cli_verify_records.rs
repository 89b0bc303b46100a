//! `ecert verify FILE --records` (R-6.3b on the command line): a file judged against this
//! instance's records with the verdicts of `POST /verify` and one exit code per verdict;
//! `ecert verify FILE` without `--records` still needs no instance.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

const ECERT: &str = env!("CARGO_BIN_EXE_ecert");
const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(ECERT)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "ecert {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn content(dir: &Path, number: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    let path = dir.join(format!("{number}.json"));
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

/// The file `ecert issue` wrote (its path is the first line of its output).
fn issued_file(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("文件 (file):"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn verify_records_gives_the_verdict_and_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = tmp.path().join("inst");
    let out = tmp.path().join("out");
    let o = out.to_string_lossy().into_owned();
    ok(&inst, &["init", "--demo"]);
    let file = issued_file(&ok(
        &inst,
        &["issue", &content(tmp.path(), "VR-0001"), "-o", &o],
    ));

    // Genuine and current: exit 0, the verdict, our record and the signature report.
    let text = ok(&inst, &["verify", &file, "--records"]);
    assert!(text.contains("genuine_current"), "{text}");
    assert!(text.contains("真实：与本机构签发的证书完全一致"), "{text}");
    assert!(text.contains("本机构记录 (our record): VR-0001"), "{text}");
    assert!(text.contains("PASSED"), "{text}");
    // The same JSON as POST /verify.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&inst, &["verify", &file, "--records", "--json"])).unwrap();
    assert_eq!(json["verdict"], "genuine_current");
    assert_eq!(json["record"]["number"], "VR-0001");
    assert_eq!(json["report"]["indication"], "PASSED");

    // Re-packaged: the same parts in another ZIP container (another order) has another SM3, but
    // what the seal covers is ours: genuine, saying why the SM3 differs.
    let mut pkg =
        ofd::package::Package::from_zip(&std::fs::read(&file).unwrap(), &ofd::Limits::default())
            .unwrap();
    let first = pkg.paths().next().unwrap().to_owned();
    let data = pkg.remove(&first).unwrap();
    pkg.insert(&first, data).unwrap();
    let repacked = tmp.path().join("repacked.ofd");
    let repacked_bytes = pkg.to_zip().unwrap();
    assert_ne!(repacked_bytes, std::fs::read(&file).unwrap());
    std::fs::write(&repacked, repacked_bytes).unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(
        &inst,
        &["verify", repacked.to_str().unwrap(), "--records", "--json"],
    ))
    .unwrap();
    assert_eq!(json["verdict"], "genuine_current", "{json}");
    assert_eq!(json["repackaged"], true);
    assert_eq!(json["messages"][0], ecert::service::MSG_REPACKAGED);
    assert!(json["mismatches"].as_array().unwrap().is_empty(), "{json}");

    // Revised: the original is genuine but void, exit 4, with the statement of.
    ok(
        &inst,
        &[
            "revise",
            "VR-0001",
            &content(tmp.path(), "VR-0002"),
            "-o",
            &o,
        ],
    );
    let void = run(&inst, &["verify", &file, "--records"]);
    assert_eq!(void.status.code(), Some(4));
    let text = String::from_utf8_lossy(&void.stdout);
    assert!(text.contains("genuine_void"), "{text}");
    assert!(
        text.contains(&ecert::service::revised_message("VR-0002")),
        "{text}"
    );

    // Altered: one byte of page 1 changed, exit 1.
    let mut pkg =
        ofd::package::Package::from_zip(&std::fs::read(&file).unwrap(), &ofd::Limits::default())
            .unwrap();
    let page = pkg
        .paths()
        .find(|p| p.ends_with("Content.xml"))
        .unwrap()
        .to_owned();
    let mut c = pkg.get(&page).unwrap().to_vec();
    let at = c.iter().position(|b| b.is_ascii_digit()).unwrap();
    c[at] = if c[at] == b'9' { b'8' } else { c[at] + 1 };
    pkg.insert(&page, c).unwrap();
    let altered = tmp.path().join("altered.ofd");
    std::fs::write(&altered, pkg.to_zip().unwrap()).unwrap();
    let a = run(&inst, &["verify", altered.to_str().unwrap(), "--records"]);
    assert_eq!(a.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&a.stdout).contains("altered"));
    // … naming the part that differs.
    let json: serde_json::Value = serde_json::from_slice(
        &run(
            &inst,
            &["verify", altered.to_str().unwrap(), "--records", "--json"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(json["repackaged"], false);
    assert!(
        json["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains(&page)),
        "{json}"
    );

    // Another instance's certificate: not issued by us, exit 2.
    let other = tmp.path().join("other");
    ok(&other, &["init", "--demo"]);
    let foreign = issued_file(&ok(
        &other,
        &["issue", &content(tmp.path(), "VR-9999"), "-o", &o],
    ));
    let f = run(&inst, &["verify", &foreign, "--records"]);
    assert_eq!(f.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&f.stdout).contains("not_issued_by_us"));

    // Not an OFD file: exit 3, as for `ecert verify`.
    let junk = tmp.path().join("junk.ofd");
    std::fs::write(&junk, b"not a zip").unwrap();
    let j = run(&inst, &["verify", junk.to_str().unwrap(), "--records"]);
    assert_eq!(j.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&j.stderr).contains("无法读取"));

    // --records needs an instance; without it `ecert verify` needs none.
    let nowhere = tmp.path().join("no-instance");
    let n = run(&nowhere, &["verify", &file, "--records"]);
    assert_eq!(n.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&n.stderr).contains("ecert init"),
        "{}",
        String::from_utf8_lossy(&n.stderr)
    );
    let plain = run(&nowhere, &["verify", &file]);
    assert_eq!(
        plain.status.code(),
        Some(2),
        "no trust root given: INDETERMINATE, {}",
        String::from_utf8_lossy(&plain.stdout)
    );
    // --records takes the instance's trust roots, not --trust.
    let both = run(&inst, &["verify", &file, "--records", "--trust", &file]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("--trust"));
}
