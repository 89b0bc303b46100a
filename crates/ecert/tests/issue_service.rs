//! The issuing service used as a library, the way a long-running issuer (`ecert serve`, a
//! batch) uses it: the seal checked once is reused for every certificate, a retired seal is
//! never used (R-5.2.2 seal maintenance, R-4.1.3), and nothing is stored when no seal is left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecert::config::Config;
use ecert::service::Instance;

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn content(number: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v.to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_cached_seal_seals_many_and_a_retired_seal_none() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let verify = ses::verify::VerifyOptions::with_roots_pem(&[std::fs::read_to_string(
            dir.path().join("trial-ca/root.pem"),
        )
        .unwrap()])
        .unwrap();

        // Two certificates with the same seal: both verify, with the same seal, each its own
        // signature.
        let mut values = Vec::new();
        for n in ["SVC-0001", "SVC-0002"] {
            let issued = instance.issue(&content(n), "test").await.unwrap();
            let report = ses::verify::verify_bytes(&issued.file, &verify).unwrap();
            assert!(
                report.failed_checks().is_empty(),
                "{n}: {:?}",
                report.failed_checks()
            );
            let pkg = ofd::Package::from_zip(&issued.file, &ofd::Limits::default()).unwrap();
            let seal = pkg
                .entries()
                .find(|(p, _)| p.ends_with("Seal.esl"))
                .map(|(_, b)| b.to_vec())
                .unwrap();
            let signed = pkg
                .entries()
                .find(|(p, _)| p.ends_with("SignedValue.dat"))
                .map(|(_, b)| b.to_vec())
                .unwrap();
            values.push((seal, signed));
        }
        assert_eq!(values[0].0, values[1].0, "the same seal");
        assert_ne!(values[0].1, values[1].1, "a signature per certificate");

        // Retire the calibration seal: the next certificate is refused, nothing is stored.
        let seals = instance.store.list_seals().await.unwrap();
        let calibration = seals.iter().find(|s| s.kind == "校准").unwrap();
        instance
            .store
            .retire_seal(&calibration.id, "test")
            .await
            .unwrap();
        let err = instance
            .issue(&content("SVC-0003"), "test")
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("印章库中没有"), "{err:#}");
        assert!(
            instance
                .store
                .certificate_by_number("SVC-0003")
                .await
                .unwrap()
                .is_none()
        );
        assert!(instance.store.verify_audit_chain().await.unwrap().is_ok());
    });
}
