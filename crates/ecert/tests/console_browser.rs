//! The staff console in a real browser (R-5.2.2, R-6.5h, R-7.2.2b): headless Debian `chromium`
//! driven by `chromedriver` (Selenium) clicks through the flow: the administrator (made
//! by `ecert staff add`, logging in with a TOTP code computed by Python's own hmac) adds an
//! operator, an approver and an auditor; the operator uploads a content JSON and issues,
//! revises, proposes the disposal of the revision; the approver (TOTP secret read from the page
//! that created the account) approves it; the auditor checks the chain. The records afterwards
//! name each person.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ecert::config::Config;
use ecert::service::Instance;

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");
const PASSWORD: &str = "Pruefstempel-Konsole-2026";

fn venv_python() -> PathBuf {
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let p = PathBuf::from(venv).join("bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (Selenium: .ci/packages/ecert-portal.pip)",
        p.display()
    );
    p
}

#[test]
fn r_5_2_2_staff_flow_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let instance = Instance::init(&dir, Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
    });
    let pw = tmp.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .arg("--dir")
        .arg(&dir)
        .args([
            "staff",
            "add",
            "li.admin",
            "--role",
            "admin",
            "--password-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let secret = stdout
        .lines()
        .skip_while(|l| !l.contains("TOTP secret"))
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    let addr = rt.block_on(async {
        let instance = Instance::open(&dir).await.unwrap();
        let app = ecert::web::App::new(instance).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(ecert::web::serve(app, listener, std::future::pending()));
        addr
    });
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = "JZ2024-CONSOLE-1".into();
    let content = tmp.path().join("content.json");
    std::fs::write(&content, v.to_string()).unwrap();
    v["certificateNo"] = "JZ2024-CONSOLE-2".into();
    let revised = tmp.path().join("revised.json");
    std::fs::write(&revised, v.to_string()).unwrap();
    let shots = std::env::temp_dir().join("ecert-console-shots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console_flow.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .arg(format!("http://{addr}"))
        .arg("li.admin")
        .arg(&secret)
        .arg(PASSWORD)
        .arg(&content)
        .arg(&revised)
        .arg(&shots)
        .env("SE_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser flow failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = out
        .stdout
        .split(|b| *b == b'\n')
        .rfind(|l| l.starts_with(b"{"))
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(line).unwrap();
    assert_eq!(result["issued"], "JZ2024-CONSOLE-1");
    assert_eq!(result["revised"], "JZ2024-CONSOLE-2");
    assert!(
        result["audit"].as_str().unwrap().contains("审计链完整"),
        "{result}"
    );
    rt.block_on(async {
        let instance = Instance::open(&dir).await.unwrap();
        let old = instance.status_by_number("JZ2024-CONSOLE-1").await.unwrap();
        assert_eq!(
            old.certificate.status,
            ecert_store::CertificateStatus::Revised
        );
        let d = instance.disposals(None).await.unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].number, "JZ2024-CONSOLE-2");
        assert_eq!(d[0].proposed_by, "staff:op1");
        assert_eq!(d[0].approved_by.as_deref(), Some("staff:ap1"));
        let trail = instance.audit_trail("JZ2024-CONSOLE-1").await.unwrap();
        assert!(
            trail.iter().any(|e| e.actor == "staff:op1"),
            "issued by the operator"
        );
        let audit = instance.verify_audit().await.unwrap();
        assert!(audit.is_ok());
    });
    for name in [
        "dashboard.png",
        "staff.png",
        "preview.png",
        "certificate.png",
        "disposals.png",
    ] {
        let png = std::fs::read(shots.join(name)).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        assert_eq!(reader.info().width, 390, "{name}");
    }
    drop(rt);
}
