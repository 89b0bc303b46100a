//! A customer's whole path in a real browser (R-5.2.3, R-6.1a, R-6.2b, R-7.2.3), on SQLite and
//! on PostgreSQL (127.0.0.1:5432, user postgres, trust auth): headless Debian `chromium` driven
//! by `chromedriver` (Selenium, from the oracle venv) at phone size registers, reads the code
//! from a real SMTP server (Debian's aiosmtpd), confirms, sees the list, selects a certificate,
//! gets the identity code by e-mail and downloads the encrypted ZIP; Debian's `7zip` opens it
//! with that code, `ecert verify` says PASSED and the file's SM3 is the stored one. Screenshots
//! of each page land in the test's folder (390 px wide).
#![allow(clippy::unwrap_used)]

mod portal_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use ecert::config::{Config, SmtpSecurity};
use ecert::service::Instance;
use portal_support::{SmtpServer, seven_zip_extract};

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn venv_python() -> PathBuf {
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let p = PathBuf::from(venv).join("bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (Selenium is listed in .ci/packages/ecert-portal.pip)",
        p.display()
    );
    p
}

fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([&format!("{}/postgres", pg_server()), "-c", sql])
        .output()
        .expect("this test needs psql and a PostgreSQL server (scripts/setup)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn flow(database: Option<String>, tag: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let smtp = SmtpServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let email = format!("zhangsan.{tag}@example.com");
    let (addr, number, stored_sm3) = rt.block_on(async {
        let mut config = Config::demo();
        if let Some(db) = &database {
            config.storage.database = db.clone();
        }
        let instance = Instance::init(&dir, config).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
        v["customer"]["email"] = email.clone().into();
        let issued = instance
            .issue(&v.to_string(), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let mut instance = Instance::open(&dir).await.unwrap();
        instance.config.notify.email =
            Some(portal_support::smtp_config(smtp.port, SmtpSecurity::None));
        let app = ecert::web::App::new(instance).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(ecert::web::serve(app, listener, std::future::pending()));
        (addr, issued.record.number.clone(), issued.record.file_sm3)
    });
    let downloads = tmp.path().join("downloads");
    let shots = screenshots(tag);
    std::fs::create_dir_all(&downloads).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/portal_flow.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .arg(format!("http://{addr}"))
        .arg(&email)
        .arg("Kalibrier-Stempel-2026")
        .arg(smtp.messages_dir())
        .arg(&downloads)
        .arg(&shots)
        .arg(&number)
        .env("SE_OFFLINE", "true")
        .output()
        .expect("run the browser flow");
    assert!(
        out.status.success(),
        "browser flow failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .unwrap(),
    )
    .unwrap();
    let code = result["code"].as_str().unwrap();
    let zip = std::fs::read(result["zip"].as_str().unwrap()).unwrap();
    // 7-Zip opens it with the identity code (R-6.1a).
    let extracted = tmp.path().join("extracted");
    std::fs::create_dir_all(&extracted).unwrap();
    let x = seven_zip_extract(&zip, code, &extracted);
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stdout));
    let files: Vec<PathBuf> = std::fs::read_dir(extracted.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = std::fs::read(&files[0]).unwrap();
    assert_eq!(
        ecert_store::sm3(&file),
        stored_sm3,
        "the stored file, byte for byte"
    );
    let v = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .arg("--dir")
        .arg(&dir)
        .args(["verify", "--json"])
        .arg(&files[0])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&v.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&v.stderr)));
    assert_eq!(report["indication"], "PASSED", "{report}");
    assert_eq!(v.status.code(), Some(0));
    // The screenshots are real pictures of a phone-wide page.
    for name in ["register.png", "list.png", "check.png", "code.png"] {
        let png = std::fs::read(shots.join(name)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert!(
            info.width <= 390 + 20 && info.width >= 300,
            "{name}: {}",
            info.width
        );
    }
    drop(rt);
}

fn screenshots(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ecert-portal-shots-{tag}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn r_5_2_3_portal_in_a_browser_on_sqlite() {
    flow(None, "sqlite");
}

#[test]
fn r_5_2_3_portal_in_a_browser_on_postgresql() {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    let name = format!(
        "ecert_portal_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    psql(&format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", pg_server());
    let result = std::panic::catch_unwind(|| flow(Some(url.clone()), "postgresql"));
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
