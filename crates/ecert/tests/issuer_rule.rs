//! Issue 19, "another issuer sealed as ours": the issuer a certificate names comes from the
//! instance's configuration. Content, handed-over metadata or a supplement naming another
//! institute, organisation code or accreditation is refused at the field's pointer and nothing
//! is stored; an institute with several accreditations lets content pick one; the public page
//! and the file of a normal certificate show the configured issuer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use ecert::config::Config;
use ecert::domain::{ContentErrors, Rule};
use ecert::service::Instance;
use serde_json::Value;

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");
const VERIFICATION: &str = include_str!("../../../examples/verification.json");
const ECERT: &str = env!("CARGO_BIN_EXE_ecert");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `json` with `number` and the issuer member `field` set to `value`.
fn naming(json: &str, number: &str, field: &str, value: &str) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v["certificateNo"] = number.into();
    v["issuer"][field] = value.into();
    v.to_string()
}

fn content_errors(e: &ecert::service::Error) -> &ContentErrors {
    match e {
        ecert::service::Error::ContentInvalid(c) => c,
        other => panic!("a content error, not {other:?}"),
    }
}

fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(ECERT)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn another_issuer_is_refused_and_nothing_is_stored() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();

        let cases = [
            (
                "OTHER-NAME-1",
                "name",
                "别的市计量测试研究院",
                "/issuer/name",
            ),
            (
                "OTHER-CODE-1",
                "orgCode",
                "91320505876543210E",
                "/issuer/orgCode",
            ),
            (
                "OTHER-ACC-1",
                "accreditation",
                "CNAS L99999",
                "/issuer/accreditation",
            ),
            (
                "OTHER-WEB-1",
                "website",
                "https://other.example",
                "/issuer/website",
            ),
        ];
        for (number, field, value, pointer) in cases {
            let err = instance
                .issue(
                    &naming(CALIBRATION, number, field, value),
                    &ecert::service::Actor::local("test"),
                )
                .await
                .expect_err(number);
            let errors = content_errors(&err);
            assert!(errors.has(pointer, Rule::Issuer), "{number}: {errors}");
            assert_eq!(errors.0.len(), 1, "{errors}");
            assert!(
                instance
                    .certificate_by_number(number)
                    .await
                    .unwrap()
                    .is_none(),
                "{number} stored"
            );
        }
        // The configured value is named in the refusal.
        let err = instance
            .issue(
                &naming(CALIBRATION, "OTHER-NAME-2", "name", "别的计量院"),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("another name");
        assert!(
            content_errors(&err).0[0]
                .message
                .contains("示例市计量测试研究院"),
            "{err:?}"
        );

        // Through the CLI: refused with the pointer, `ecert show` finds nothing.
        let file = dir.path().join("other.json");
        std::fs::write(
            &file,
            naming(CALIBRATION, "OTHER-CLI-1", "orgCode", "91320505876543210E"),
        )
        .unwrap();
        let out = cli(
            dir.path(),
            &[
                "issue",
                file.to_str().unwrap(),
                "-o",
                dir.path().join("out").to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("/issuer/orgCode") && stderr.contains("123456788"),
            "{stderr}"
        );
        let show = cli(dir.path(), &["show", "OTHER-CLI-1"]);
        assert!(!show.status.success());
        assert!(String::from_utf8_lossy(&show.stderr).contains("找不到证书"));

        // Handed-over metadata follows the same rule (refused before the file is looked at).
        let err = instance
            .issue_ofd(
                b"not read",
                &naming(CALIBRATION, "OTHER-HO-1", "name", "别的计量院"),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("handed-over file naming another issuer");
        assert!(
            content_errors(&err).has("/issuer/name", Rule::Issuer),
            "{err:?}"
        );
        assert!(
            instance
                .certificate_by_number("OTHER-HO-1")
                .await
                .unwrap()
                .is_none()
        );

        // A supplement names no issuer at all.
        let ok = instance
            .issue(
                &naming(CALIBRATION, "OWN-1", "accreditation", "CNAS L12345"),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        let err = instance
            .supplement(
                "OWN-1",
                r#"{"reason":"更正","items":[{"text":"x"}],"issuer":{"name":"别的计量院"}}"#,
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("a supplement naming an issuer");
        assert!(
            content_errors(&err).has("/issuer", Rule::UnknownField),
            "{err:?}"
        );
        assert!(
            instance
                .status_of(&ok.record.number)
                .await
                .unwrap()
                .supplements
                .is_empty()
        );
        assert!(instance.verify_audit().await.unwrap().is_ok());
    });
}

/// An institute with several accreditations: content picks one by value (it goes into the
/// identifier, R-4.5.5), or gets the first; a revision keeps its original's.
#[test]
fn content_picks_one_of_the_configured_accreditations() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();

        let picked = instance
            .issue(VERIFICATION, &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        assert_eq!(picked.identifier.accreditation(), "（苏）法计（2023）00001");
        let mut none: Value = serde_json::from_str(CALIBRATION).unwrap();
        none.as_object_mut().unwrap().remove("issuer");
        let default = instance
            .issue(&none.to_string(), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        assert_eq!(default.identifier.accreditation(), "CNAS L12345");

        // A revision of the verification certificate naming the other configured
        // accreditation is refused: the revised identifier keeps the original's.
        let err = instance
            .revise(
                "JD2024-000456",
                &naming(
                    VERIFICATION,
                    "JD2024-000457",
                    "accreditation",
                    "CNAS L12345",
                ),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("another accreditation in a revision");
        assert!(
            content_errors(&err).has("/issuer/accreditation", Rule::Issuer),
            "{err:?}"
        );
        let mut revised: Value = serde_json::from_str(VERIFICATION).unwrap();
        revised["certificateNo"] = "JD2024-000458".into();
        revised.as_object_mut().unwrap().remove("issuer");
        let r = instance
            .revise(
                "JD2024-000456",
                &revised.to_string(),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        assert_eq!(r.identifier.accreditation(), "（苏）法计（2023）00001");
        assert_eq!(r.identifier.revision(), 1);
    });
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// An instance of another institute than the examples': the examples' issuer is refused;
/// content without one is issued, and both the certificate's page 1 and its public page name
/// the configured institute.
#[test]
fn a_normal_certificate_shows_the_configured_issuer() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo();
    config.institute.name = "测试市质量技术监督检测院".into();
    config.institute.address = "江苏省测试市检测路9号".into();
    let (addr, file, _server) = rt.block_on(async {
        let mut instance = Instance::init(dir.path(), config).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let err = instance
            .issue(CALIBRATION, &ecert::service::Actor::local("test"))
            .await
            .expect_err("the examples name another institute");
        let errors = content_errors(&err);
        assert!(errors.has("/issuer/name", Rule::Issuer), "{errors}");
        assert!(errors.has("/issuer/address", Rule::Issuer), "{errors}");

        let mut own: Value = serde_json::from_str(CALIBRATION).unwrap();
        own.as_object_mut().unwrap().remove("issuer");
        let issued = instance
            .issue(&own.to_string(), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        instance.config.server.lookup_per_minute = 0;
        let app = ecert::web::App::new(instance).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(ecert::web::serve(app, listener, std::future::pending()));
        let token = issued.verify_url.rsplit("/v/").next().unwrap().to_owned();
        ((addr, token), issued.file, server)
    });
    let (addr, token) = addr;
    let (status, page) = http_get(addr, &format!("/v/{token}"));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("测试市质量技术监督检测院"), "{page}");
    assert!(page.contains("真实有效"), "{page}");
    assert!(!page.contains("示例市计量测试研究院"), "{page}");

    let ofd = ofd::OfdFile::read(&file).unwrap();
    let text = ofd
        .page_text(0, 0)
        .unwrap()
        .replace(char::is_whitespace, "");
    assert!(text.contains("测试市质量技术监督检测院"), "{text}");
    assert!(text.contains("江苏省测试市检测路9号"), "{text}");
    assert!(!text.contains("示例市计量测试研究院"), "{text}");
}
