//! R-7.2.2a, time traceable to NTSC, against real NTP servers on loopback: Debian's chrony
//! serving on an unprivileged port with `-x` (it never touches the machine's clock), a second
//! one under libfaketime an hour behind, and a port where nothing answers. Sealing goes ahead
//! against the good server and records it in the audit entry; it is refused, naming the offset
//! and the bound, against the wrong one, and naming the silent server when nothing answers.
#![allow(clippy::unwrap_used)]

mod ntp_support;

use std::path::Path;
use std::process::{Command, Output};

use ntp_support::{chrony, free_udp_port};

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

/// Sets `[time]` of the instance's ecert.toml.
fn set_time(dir: &Path, servers: &[String]) {
    let path = dir.join("ecert.toml");
    let mut config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let mut time = toml::Table::new();
    time.insert(
        "servers".into(),
        toml::Value::Array(servers.iter().map(|s| s.clone().into()).collect()),
    );
    time.insert("timeout_ms".into(), toml::Value::Integer(500));
    config.insert("time".into(), toml::Value::Table(time));
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
}

fn issue(dir: &Path, number: &str) -> Output {
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{EXAMPLES}/calibration.json")).unwrap(),
    )
    .unwrap();
    v["certificateNo"] = number.into();
    let content = dir.join(format!("{number}.json"));
    std::fs::write(&content, v.to_string()).unwrap();
    let out = dir.join("out");
    ecert(
        dir,
        &[
            "issue",
            content.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

/// The `time` recorded in the audit entry of the issue of `number`.
fn sealing_time(dir: &Path, number: &str) -> serde_json::Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             row = db.execute(\"SELECT details FROM audit_log WHERE action = 'certificate.issue' AND subject = ?\", (sys.argv[2],)).fetchone()\n\
             print(row[0])",
        )
        .arg(dir.join("data/ecert.db"))
        .arg(number)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", text(&out));
    let details: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    details
        .pointer("/context/time")
        .cloned()
        .unwrap_or_else(|| panic!("no time in the audit entry: {details}"))
}

#[test]
fn r_7_2_2a_sealing_needs_a_traceable_time() {
    let good = chrony(None);
    let wrong = chrony(Some("-1h"));
    let silent = free_udp_port();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert!(ecert(dir, &["init", "--demo"]).status.success());

    // A demo instance without servers seals on the local clock, and says so.
    let t = text(&ecert(dir, &["time", "status"]));
    assert!(t.contains("本机时钟"), "{t}");
    let out = issue(dir, "T-0001");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sealing_time(dir, "T-0001")["source"], "local_clock");

    // Against the good server: measured, allowed, recorded with the sealing.
    set_time(dir, &[format!("127.0.0.1:{}", good.port)]);
    let out = ecert(dir, &["time", "status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["sealing_allowed"], true);
    assert_eq!(status["last"]["stratum"], 3);
    assert!(
        status["last"]["offset_ms"].as_f64().unwrap().abs() < 100.0,
        "{status}"
    );
    let out = issue(dir, "T-0002");
    assert!(out.status.success(), "{}", text(&out));
    let time = sealing_time(dir, "T-0002");
    assert_eq!(time["source"], "ntp", "{time}");
    assert_eq!(time["server"], format!("127.0.0.1:{}", good.port));
    assert_eq!(time["stratum"], 3);

    // Against a server an hour off: refused, naming the offset and the bound; nothing stored.
    set_time(dir, &[format!("127.0.0.1:{}", wrong.port)]);
    let out = issue(dir, "T-0003");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("拒绝签章"), "{t}");
    assert!(t.contains("1000 ms"), "the bound is named: {t}");
    assert!(
        t.contains("-3599") || t.contains("-3600"),
        "the offset is named: {t}"
    );
    assert!(
        !ecert(dir, &["show", "T-0003"]).status.success(),
        "nothing was stored"
    );
    let out = ecert(dir, &["time", "status"]);
    assert!(!out.status.success());

    // Nothing answers: refused, naming the server.
    set_time(dir, &[format!("127.0.0.1:{silent}")]);
    let out = issue(dir, "T-0004");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("没有可用的 NTP 服务器应答"), "{t}");
    assert!(t.contains(&format!("127.0.0.1:{silent}")), "{t}");

    // One good answer among several suffices; the wrong one is not picked when the good one
    // answers faster, and a silent one does not block.
    set_time(
        dir,
        &[
            format!("127.0.0.1:{silent}"),
            format!("127.0.0.1:{}", good.port),
        ],
    );
    let out = issue(dir, "T-0005");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sealing_time(dir, "T-0005")["source"], "ntp");
}
