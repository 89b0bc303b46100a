//! Every new certificate is bound to the customer the business system named, and a
//! preset download password (R-6.2f) is kept only as an argon2id hash: it reaches neither the
//! sealed file nor the audit chain; a revision keeps its original's binding; `ecert customer
//! bind` (the service call behind it) binds an older certificate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecert::config::Config;
use ecert::service::{BindRequest, Instance};

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");
const PASSWORD: &str = "Geheim-Pass-2026";

fn content(number: &str, customer: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    // (a null value leaves the example's field out)
    for (k, val) in customer.as_object().unwrap() {
        if val.is_null() {
            v["customer"].as_object_mut().unwrap().remove(k);
        } else {
            v["customer"][k] = val.clone();
        }
    }
    v.to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn r_5_2_3_r_6_2f_issue_binds_and_the_download_password_stays_a_hash() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let json = content(
            "BIND-0001",
            serde_json::json!({
                "mobile": "138 0013 8000",
                "email": "Lab@Example.cn",
                "downloadPassword": PASSWORD,
            }),
        );
        let issued = instance
            .issue(&json, &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let b = instance
            .binding_of_number("BIND-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.contact.mobile.as_deref(), Some("13800138000"));
        assert_eq!(b.contact.email.as_deref(), Some("lab@example.cn"));
        let hash = b.download_password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(ecert::service::password::verify_password(&hash, PASSWORD));
        // Not in the sealed file (any entry, uncompressed), not in the audit chain.
        let pkg = ofd::Package::from_zip(&issued.file, &ofd::Limits::default()).unwrap();
        for (path, bytes) in pkg.entries() {
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "{path} holds the download password"
            );
        }
        for e in instance.audit_trail("BIND-0001").await.unwrap() {
            assert!(!e.details.contains(PASSWORD), "{}", e.action);
            assert!(!e.details.contains("13800138000"), "{}", e.action);
        }
        // A too short password is refused, naming the field; nothing is issued.
        let short = content(
            "BIND-0002",
            serde_json::json!({ "downloadPassword": "short" }),
        );
        let err = instance
            .issue(&short, &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("downloadPassword")
                || format!("{err:?}").contains("downloadPassword"),
            "{err}"
        );
        assert!(instance.binding_of_number("BIND-0002").await.is_err());

        // A revision without a download password keeps its original's.
        let revised = content("BIND-0001-R1", serde_json::json!({}));
        instance
            .revise("BIND-0001", &revised, &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let rb = instance
            .binding_of_number("BIND-0001-R1")
            .await
            .unwrap()
            .unwrap();
        // (The example content names its own customer contact: the revision is rebound to it.)
        assert_eq!(rb.contact.mobile.as_deref(), Some("13800000000"));
        assert_eq!(rb.download_password_hash, b.download_password_hash);

        // A certificate without contact has no binding; `customer bind` gives it one.
        let no_contact = serde_json::json!({"mobile": null, "email": null, "uscc": null});
        instance
            .issue(
                &content("BIND-0003", no_contact),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        assert!(
            instance
                .binding_of_number("BIND-0003")
                .await
                .unwrap()
                .is_none()
        );
        let bound = instance
            .bind_customer(
                "BIND-0003",
                BindRequest {
                    uscc: Some("91330106MA2B3C4D5E".into()),
                    ..BindRequest::default()
                },
                &ecert::service::Actor::local("admin"),
            )
            .await
            .unwrap();
        assert_eq!(bound.contact.uscc.as_deref(), Some("91330106MA2B3C4D5E"));
        // Nothing given, or a malformed mobile: refused with the problem named.
        assert!(
            instance
                .bind_customer(
                    "BIND-0003",
                    BindRequest::default(),
                    &ecert::service::Actor::local("admin")
                )
                .await
                .is_err()
        );
        let bad = instance
            .bind_customer(
                "BIND-0003",
                BindRequest {
                    mobile: Some("not-a-phone".into()),
                    ..BindRequest::default()
                },
                &ecert::service::Actor::local("admin"),
            )
            .await
            .unwrap_err();
        assert!(format!("{bad}").contains("mobile"), "{bad}");
        // Unknown number.
        assert!(
            instance
                .bind_customer(
                    "NO-SUCH",
                    BindRequest {
                        mobile: Some("13800138000".into()),
                        ..BindRequest::default()
                    },
                    &ecert::service::Actor::local("admin")
                )
                .await
                .is_err()
        );
    });
}

/// `ecert customer bind` from the command line: binds an older certificate (here: one issued
/// without contact), is audited, and names what is wrong with its input.
#[test]
fn r_5_2_3_customer_bind_from_the_command_line() {
    let ecert = env!("CARGO_BIN_EXE_ecert");
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst");
    let run = |args: &[&str]| {
        std::process::Command::new(ecert)
            .arg("--dir")
            .arg(&inst)
            .args(args)
            .output()
            .unwrap()
    };
    let init = run(&["init", "--demo"]);
    assert!(init.status.success(), "{init:?}");
    let json = dir.path().join("c.json");
    let no_contact = serde_json::json!({"mobile": null, "email": null, "uscc": null});
    std::fs::write(&json, content("CLI-BIND-1", no_contact)).unwrap();
    let out = dir.path().join("out");
    let issue = run(&["issue", json.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(issue.status.success(), "{issue:?}");

    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let bound = run(&[
        "customer",
        "bind",
        "CLI-BIND-1",
        "--mobile",
        "139 0013 9000",
        "--download-password-file",
        pw.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&bound.stdout);
    assert!(bound.status.success(), "{bound:?}");
    assert!(
        text.contains("已绑定 (bound):") && text.contains("CLI-BIND-1"),
        "{text}"
    );
    assert!(
        !text.contains(PASSWORD) && !text.contains("13900139000"),
        "{text}"
    );

    runtime().block_on(async {
        let instance = Instance::open(&inst).await.unwrap();
        let b = instance
            .binding_of_number("CLI-BIND-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.contact.mobile.as_deref(), Some("13900139000"));
        let hash = b.download_password_hash.unwrap();
        assert!(ecert::service::password::verify_password(&hash, PASSWORD));
        let trail = instance.audit_trail(&b.certificate_id).await.unwrap();
        assert!(
            trail
                .iter()
                .any(|e| e.actor.starts_with("cli:") && e.action.contains("bind")),
            "{:?}",
            trail.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    });

    // A malformed mobile, an unknown number: refused, each named.
    let bad = run(&["customer", "bind", "CLI-BIND-1", "--mobile", "12"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("mobile") || err.contains("手机"), "{err}");
    let unknown = run(&["customer", "bind", "NO-SUCH-1", "--mobile", "13900139000"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("NO-SUCH-1"),
        "{unknown:?}"
    );
}
