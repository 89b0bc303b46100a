//! The `ecert` binary's small commands, run as a user would.

use std::process::Command;

fn ecert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
}

fn fixture(path: &str) -> String {
    let full = format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| {
        panic!("缺少测试文件 {full}（{e}），它应在本仓库的 fixtures/ 中 (fixture {full} is missing ({e}): it belongs in this repository's fixtures/, see fixtures/README.md)")
    })
}

/// `ecert gm encode --format matrix` prints exactly zint's symbol for canonical vectors.
#[test]
fn gm_encode_matrix_matches_zint_vectors() {
    let mut checked = 0;
    for line in fixture("gridmatrix/zint-canonical.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let input = v["input"].as_str().expect("input");
        let eci: Vec<String> = v["options"]
            .as_array()
            .expect("options")
            .iter()
            .filter_map(|o| {
                o.as_str()?
                    .strip_prefix("--eci=")
                    .map(|n| format!("--eci={n}"))
            })
            .collect();
        // zint writes "・" (U+30FB) as GB 2312 A1A4, which ecert by default puts under an ECI
        // (GB 2312's ambiguous cells): reproducing zint needs the old behaviour.
        let ambiguous = input.contains(['\u{00B7}', '\u{30FB}', '\u{2014}', '\u{2015}']);
        let out = ecert()
            .args(["gm", "encode", "--format", "matrix"])
            .args(&eci)
            .args(if ambiguous {
                &["--gb2312-ambiguous", "gb2312"][..]
            } else {
                &[]
            })
            .args([
                "--version",
                &v["version"].to_string(),
                "--ecc",
                &v["ecc"].to_string(),
            ])
            .arg(input)
            .output()
            .expect("run ecert");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<&str> = v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r.as_str().expect("row"))
            .collect();
        let printed = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(
            printed.lines().collect::<Vec<_>>(),
            rows,
            "vector {}",
            v["id"]
        );
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn gm_encode_svg_png_and_errors() {
    let dir = std::env::temp_dir().join(format!("ecert-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let png = dir.join("code.png");
    let out = ecert()
        .args(["gm", "encode", "--format", "png", "-o"])
        .arg(&png)
        .arg("计量电子证书 2024")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&png)
            .expect("png written")
            .starts_with(b"\x89PNG")
    );
    let out = ecert()
        .args(["gm", "encode", "--format", "svg", "abc"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<svg"));
    // PNG to a terminal is refused; data too long for a fixed version names the problem.
    let out = ecert()
        .args(["gm", "encode", "--format", "png", "abc"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = ecert()
        .args(["gm", "encode", "--version", "1", &"9".repeat(200)])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too long"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `ecert id check` names the part that is wrong.
#[test]
fn r_4_5_5_id_check() {
    let ok = ecert()
        .args([
            "id",
            "check",
            "--json",
            "1.3.6.1.4.1.32473.1·7·123456788·L12345·JZ2024-000123·0",
        ])
        .output()
        .expect("run");
    assert!(ok.status.success());
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("json");
    assert_eq!(v["typeCode"], 7);
    assert_eq!(v["serial"], "JZ2024-000123");
    let bad = ecert()
        .args(["id", "check", "1.2.156·9·123456788·L1·S1·0"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("证书类型代码"));
}
