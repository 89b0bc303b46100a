//! The CLI as a person and a script meet it: bilingual help and argument errors, `--json`
//! answering JSON even for errors, `ecert verify` trusting the roots of the instance it runs
//! in, `ecert show` with the verification URL and check code, and supplements by number.

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn ecert() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecert"));
    c.env_remove("ECERT_DIR");
    c
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_error(out: &Output) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)));
    (
        v["error"]["code"].as_str().expect("code").to_owned(),
        v["error"]["message"].as_str().expect("message").to_owned(),
    )
}

fn field(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.split(label).nth(1))
        .unwrap_or_else(|| panic!("{label} not in:\n{out}"))
        .trim()
        .to_owned()
}

#[test]
fn help_and_argument_errors_are_chinese_and_english() {
    let out = ecert().arg("--help").output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "用法 (Usage)",
        "命令 (Commands)",
        "选项 (Options)",
        "显示帮助 (print help)",
    ] {
        assert!(help.contains(heading), "{heading} missing:\n{help}");
    }
    let out = ecert().args(["issue", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("参数 (Arguments)"), "{help}");
    assert!(help.contains("证书内容"), "{help}");

    let out = ecert().args(["issue", "--bogus"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("错误 (error): 命令行参数有误"),
        "Chinese first: {err}"
    );
    assert!(err.contains("--bogus"), "{err}");
}

#[test]
fn json_errors_are_json() {
    // An identifier that does not parse.
    let out = ecert()
        .args(["id", "check", "--json", "1.2.156·9·123456788·L1·S1·0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let (code, message) = json_error(&out);
    assert_eq!(code, "identifier");
    assert!(message.contains("证书类型代码"), "{message}");
    // An argument error on a line with --json.
    let out = ecert()
        .args(["id", "check", "--json", "--bogus", "x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_error(&out).0, "usage");
    // A file that cannot be read.
    let out = ecert()
        .args(["verify", "--json", "/nonexistent/x.ofd"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_error(&out).0, "unreadable");
    let out = ecert()
        .args(["ofd", "inspect", "--json", "/nonexistent/x.ofd"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert_eq!(json_error(&out).0, "failed");
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert()
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run");
    assert!(out.status.success(), "ecert {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Inside an instance `ecert verify` trusts the instance's roots; `ecert show` prints the URL
/// the code holds and the check code, for certificates and (by number) supplements; JSON
/// errors carry the service's code.
#[test]
fn verify_in_an_instance_and_show_with_url() {
    let inst = tempfile::tempdir().expect("tmp");
    let dir = inst.path();
    ok(dir, &["init", "--demo"]);
    let work = tempfile::tempdir().expect("tmp");
    let o = work.path().to_string_lossy().into_owned();
    let issued = ok(
        dir,
        &["issue", &format!("{EXAMPLES}/verification.json"), "-o", &o],
    );
    let file = field(&issued, "文件 (file):");
    let url = field(&issued, "验证网址 (verify URL):");
    let check = field(&issued, "校验码 (check code):");
    let number = field(&issued, "证书编号 (number):");

    // Outside any instance, without --trust: INDETERMINATE (2).
    let out = ecert()
        .current_dir(work.path())
        .args(["verify", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // With --dir, with ECERT_DIR, and run inside the instance folder: PASSED (0).
    let out = ecert()
        .arg("--dir")
        .arg(dir)
        .args(["verify", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = ecert()
        .env("ECERT_DIR", dir)
        .args(["verify", "--json", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["indication"], "PASSED");
    let out = ecert()
        .current_dir(dir)
        .args(["verify", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A folder named that is no instance: no root, INDETERMINATE, and said so.
    let out = ecert()
        .arg("--dir")
        .arg(work.path())
        .args(["verify", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不是实例目录"),
        "{}",
        text(&out)
    );
    // An instance whose configuration cannot be read: a JSON error naming it.
    let broken = tempfile::tempdir().expect("tmp");
    std::fs::write(broken.path().join("ecert.toml"), "[instance\n").expect("write");
    let out = ecert()
        .arg("--dir")
        .arg(broken.path())
        .args(["verify", "--json", &file])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_error(&out).0, "config");

    let shown = ok(dir, &["show", &number]);
    assert_eq!(field(&shown, "验证网址 (verify URL):"), url);
    assert_eq!(field(&shown, "校验码 (check code):"), check);
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["show", "--json", &number])).expect("json");
    assert_eq!(v["verifyUrl"], url.as_str());
    assert_eq!(v["checkCode"], check.as_str());

    let supp = ok(
        dir,
        &[
            "supplement",
            &number,
            &format!("{EXAMPLES}/supplement.json"),
            "-o",
            &o,
        ],
    );
    let supp_number = field(&supp, "补充文件编号 (number):");
    let supp_url = field(&supp, "验证网址 (verify URL):");
    let shown = ok(dir, &["show", &supp_number]);
    assert_eq!(field(&shown, "验证网址 (verify URL):"), supp_url);
    assert!(shown.contains(&number), "{shown}");

    let out = ecert()
        .arg("--dir")
        .arg(dir)
        .args(["show", "--json", "NO-SUCH-1"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let (code, message) = json_error(&out);
    assert_eq!(code, "not_found");
    assert!(message.contains("NO-SUCH-1"), "{message}");
}
