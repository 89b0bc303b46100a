//! The issuing service used as a library, the way a long-running issuer (`ecert serve`, a
//! batch) uses it: the seal checked once is reused for every certificate, a retired seal is
//! never used (R-5.2.2 seal maintenance, R-4.1.3), and nothing is stored when no seal is left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ntp_support;

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
            let issued = instance
                .issue(&content(n), &ecert::service::Actor::local("test"))
                .await
                .unwrap();
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
        let seals = instance.seals().await.unwrap();
        let calibration = seals.iter().find(|s| s.kind == "校准").unwrap();
        instance
            .retire_seal(&calibration.id, &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        // Retired once only.
        assert!(matches!(
            instance
                .retire_seal(&calibration.id, &ecert::service::Actor::local("test"))
                .await,
            Err(ecert::service::Error::SealRetired { .. })
        ));
        let err = instance
            .issue(&content("SVC-0003"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ecert::service::Error::NoActiveSeal {
                    kind: ecert::seal_image::SealKind::Calibration
                }
            ),
            "{err:?}"
        );
        assert!(
            instance
                .certificate_by_number("SVC-0003")
                .await
                .unwrap()
                .is_none()
        );
        assert!(instance.verify_audit().await.unwrap().is_ok());
    });
}

/// A seal is printed at its own size (its picture's display size), centred in the template's
/// seal slot; a seal larger than the slot is refused, naming both sizes, and nothing
/// is stored. The seal used is the newest active one of the kind (these sort before the trial
/// seal by name, which used to decide).
#[test]
fn a_seal_is_printed_at_its_own_size_centred_in_its_slot() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        // The institute's own CA signs the signers of the seals made below: its root is one of
        // the instance's trust roots, or the self-check could not pass what they seal.
        let ca = ses::demo::DemoCa::new("本院 CA").unwrap();
        let root = dir.path().join("own-ca.pem");
        std::fs::write(&root, ca.root_cert().unwrap().to_pem()).unwrap();
        instance.config.server.trust_roots.push(root);
        // The stamp on page 1 (not a riding-seam slice), read back from the file.
        let stamp = |file: &[u8]| -> [f64; 4] {
            let f = ofd::OfdFile::read(file).unwrap();
            let page = f.ofd.docs[0].document.pages[0]
                .id
                .map(|i| i.to_string())
                .unwrap_or_default();
            let stamps: Vec<[f64; 4]> = ecert::preview::impressions(&f)
                .into_iter()
                .filter(|s| s.page_id == page && s.clip.is_none())
                .map(|s| s.boundary)
                .collect();
            assert_eq!(stamps.len(), 1, "{stamps:?}");
            stamps[0]
        };
        let centre = |b: [f64; 4]| (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
        let trial = stamp(
            &instance
                .issue(&content("SIZE-42"), &ecert::service::Actor::local("test"))
                .await
                .unwrap()
                .file,
        );
        assert!(
            (trial[2] - 42.0).abs() < 1e-6 && (trial[3] - 42.0).abs() < 1e-6,
            "{trial:?}"
        );

        let test_actor = ecert::service::Actor::local("test");
        let create = |size_mm: u32| {
            let signer = ca
                .issue("校准签章人", ses::demo::Role::Signer, 365)
                .unwrap();
            instance.create_seal(
                ecert::service::SealRequest {
                    kind: ecert::seal_image::SealKind::Calibration,
                    // Seal names are unique in the library.
                    title: format!("示例市计量测试研究院{size_mm}毫米校准电子证书专用章"),
                    signer,
                    maker: None,
                    image: None,
                    size_mm,
                    valid_days: 365,
                },
                &test_actor,
            )
        };
        // A 38 mm seal: 38 mm wide, where the 42 mm one was centred.
        create(38).await.unwrap();
        let small = stamp(
            &instance
                .issue(&content("SIZE-38"), &ecert::service::Actor::local("test"))
                .await
                .unwrap()
                .file,
        );
        assert!(
            (small[2] - 38.0).abs() < 1e-6 && (small[3] - 38.0).abs() < 1e-6,
            "{small:?}"
        );
        let (a, b) = (centre(trial), centre(small));
        assert!(
            (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6,
            "{trial:?} {small:?}"
        );

        // A 50 mm seal does not fit the 42 mm slot.
        create(50).await.unwrap();
        let err = instance
            .issue(&content("SIZE-50"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        match &err {
            ecert::service::Error::SealTooLarge {
                seal_mm, slot_mm, ..
            } => {
                assert_eq!(*seal_mm, (50.0, 50.0));
                assert!(
                    (slot_mm.0 - 42.0).abs() < 1e-6 && (slot_mm.1 - 42.0).abs() < 1e-6,
                    "{slot_mm:?}"
                );
            }
            other => panic!("expected SealTooLarge, got {other:?}"),
        }
        // The message names both sizes.
        let msg = err.to_string();
        assert!(
            msg.contains("50 × 50 mm") && msg.contains("42.0 × 42.0 mm"),
            "{msg}"
        );
        assert!(
            instance
                .certificate_by_number("SIZE-50")
                .await
                .unwrap()
                .is_none()
        );
    });
}

/// Every refusal of the service is a variant with its context and its HTTP status: a taken
/// number, an unknown certificate, a void original (with its revision's number), content
/// problems by JSON pointer, an unknown template, a supplement that predates its original.
#[test]
fn refusals_are_typed_with_their_context_and_status() {
    use ecert::service::{Error, Record};
    use http_status::*;
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        instance.issue(&content("TYP-0001"), &ecert::service::Actor::local("test")).await.unwrap();

        let err = instance
            .issue(&content("TYP-0001"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::NumberTaken { number } if number == "TYP-0001"),
            "{err:?}"
        );
        assert_eq!((err.status().as_u16(), err.code()), (CONFLICT, "duplicate"));

        let err = instance
            .revise("NOPE-1", &content("TYP-0002"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { what: Record::Certificate, key } if key == "NOPE-1"),
            "{err:?}"
        );
        assert_eq!(err.status().as_u16(), NOT_FOUND);

        instance
            .revise("TYP-0001", &content("TYP-0002"), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        // The void original takes neither a second revision nor a supplement.
        let err = instance
            .revise("TYP-0001", &content("TYP-0003"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Revised { number, replaced_by } if number == "TYP-0001" && replaced_by == "TYP-0002"),
            "{err:?}"
        );
        assert_eq!((err.status().as_u16(), err.code()), (CONFLICT, "already_revised"));
        let supplement = include_str!("../../../examples/supplement.json");
        let err = instance
            .supplement("TYP-0001", supplement, &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::Revised { .. }), "{err:?}");

        // Content problems carry their JSON pointers.
        let mut bad: serde_json::Value = serde_json::from_str(&content("TYP-0004")).unwrap();
        bad["instrument"]["serialNo"] = "".into();
        let err = instance.issue(&bad.to_string(), &ecert::service::Actor::local("test")).await.unwrap_err();
        assert!(matches!(&err, Error::ContentInvalid(_)), "{err:?}");
        assert_eq!(
            (err.status().as_u16(), err.code()),
            (UNPROCESSABLE, "invalid_content")
        );
        let problems = err.problems().unwrap();
        assert!(
            problems.iter().any(|p| p.pointer == "/instrument/serialNo"),
            "{problems:?}"
        );

        // A supplement cannot predate its original: a content problem at /issueDate.
        let mut early: serde_json::Value = serde_json::from_str(supplement).unwrap();
        early["issueDate"] = "2000-01-01".into();
        let err = instance
            .supplement("TYP-0002", &early.to_string(), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            err.problems()
                .is_some_and(|p| p.iter().any(|p| p.pointer == "/issueDate")),
            "{err:?}"
        );

        // A handed-over file that is not an OFD: refused naming the clause it breaks.
        let err = instance
            .issue_ofd(b"not an OFD file", &content("TYP-0005"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::HandedOver { clause: "R-4.1.1", .. }),
            "{err:?}"
        );
        assert_eq!(
            (err.status().as_u16(), err.code()),
            (UNPROCESSABLE, "file_refused")
        );

        let err = ecert::service::resolve_template("no-such-template").unwrap_err();
        assert!(
            matches!(&err, Error::TemplateUnknown { name } if name == "no-such-template"),
            "{err:?}"
        );
        assert!(matches!(
            ecert::service::resolve_template("supplement").unwrap_err(),
            Error::TemplateNotForCertificates { .. }
        ));
        // Nothing of the refused calls was stored.
        for n in ["TYP-0003", "TYP-0004", "TYP-0005"] {
            assert!(
                instance.certificate_by_number(n)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    });
}

/// HTTP statuses as numbers (the test does not depend on the http crate).
mod http_status {
    pub const CONFLICT: u16 = 409;
    pub const NOT_FOUND: u16 = 404;
    pub const UNPROCESSABLE: u16 = 422;
}

/// Replaces one entry of an OFD package.
fn with_entry(file: &[u8], ends_with: &str, edit: impl FnOnce(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut pkg = ofd::package::Package::from_zip(file, &ofd::Limits::default()).unwrap();
    let path = pkg
        .paths()
        .find(|p| p.ends_with(ends_with))
        .unwrap()
        .to_owned();
    let data = edit(pkg.get(&path).unwrap().to_vec());
    pkg.insert(&path, data).unwrap();
    pkg.to_zip().unwrap()
}

/// `POST /verify`'s judgement with its CPU turns: each CPU-heavy stage of the verification waits
/// for a turn of the gate and gives it back before the next step (the record lookups hold none),
/// and the verdicts are those of `verify_file` — for a file of ours (one stage) and for an
/// altered one (three stages: the report, what the file claims, the parts compared with ours).
#[test]
fn verify_file_gated_computes_only_with_a_turn_and_gives_it_back() {
    use ecert::service::Outcome;
    use std::time::Duration;
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let first = instance
            .issue(&content("VG-0001"), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let gate = tokio::sync::Semaphore::new(1);

        // While the only turn is taken elsewhere, the verification does not get on.
        let held = gate.acquire().await.unwrap();
        let mut judging =
            std::pin::pin!(instance.verify_file_gated(first.file.clone().into(), Some(&gate)));
        assert!(
            tokio::time::timeout(Duration::from_millis(300), &mut judging)
                .await
                .is_err(),
            "the verification computed without a turn"
        );
        drop(held);
        let v = tokio::time::timeout(Duration::from_secs(60), judging)
            .await
            .expect("the verification waits for a turn that is free")
            .unwrap();
        assert_eq!(v.outcome, Outcome::GenuineCurrent);
        assert_eq!(gate.available_permits(), 1, "the turn is given back");

        // An altered file: each of its stages takes the one turn and gives it back (a turn kept
        // would leave the next stage waiting for ever).
        let altered = with_entry(&first.file, "Content.xml", |mut c| {
            let at = c.iter().position(|b| b.is_ascii_digit()).unwrap();
            c[at] = if c[at] == b'9' { b'8' } else { c[at] + 1 };
            c
        });
        let gated = tokio::time::timeout(
            Duration::from_secs(60),
            instance.verify_file_gated(altered.clone().into(), Some(&gate)),
        )
        .await
        .expect("no stage keeps its turn")
        .unwrap();
        let plain = instance.verify_file(altered.into()).await.unwrap();
        assert_eq!(gated.outcome, Outcome::Altered);
        assert_eq!(gated.outcome, plain.outcome);
        assert_eq!(gated.mismatches, plain.mismatches);
        assert_eq!(gate.available_permits(), 1);
    });
}

/// R-6.3b in the service: a file judged against the records, the same judgement `POST /verify`
/// and `ecert verify --records` show — genuine and current, genuine but void (with the
/// statement), a genuine supplement, altered (with the differences), a custom tag that
/// cannot be read, not issued by us, not an OFD file at all.
#[test]
fn verify_file_judges_a_file_against_the_records() {
    use ecert::service::{Error, Mismatch, Outcome};
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let first = instance.issue(&content("VF-0001"), &ecert::service::Actor::local("test")).await.unwrap();

        let v = instance.verify_file(first.file.clone().into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::GenuineCurrent);
        assert_eq!(v.outcome.exit_code(), 0);
        assert_eq!(v.record.as_ref().unwrap().number, "VF-0001");
        assert!(v.mismatches.is_empty() && v.messages.is_empty());
        // The demo instance trusts its own trial root: the signatures pass in full.
        assert_eq!(v.report.indication(), ses::verify::Indication::Passed);

        // Altered: a digit changed on page 1; the record is found by the identifier.
        let altered = with_entry(&first.file, "Content.xml", |mut c| {
            let at = c.iter().position(|b| b.is_ascii_digit()).unwrap();
            c[at] = if c[at] == b'9' { b'8' } else { c[at] + 1 };
            c
        });
        let v = instance.verify_file(altered.into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::Altered);
        assert_eq!(v.outcome.exit_code(), 1);
        assert!(
            matches!(&v.mismatches[0], Mismatch::Parts { parts } if parts == &["Doc_0/Pages/Page_0/Content.xml"]),
            "the part that differs is named: {:?}",
            v.mismatches
        );
        assert!(
            v.mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::FileDigest { .. })),
            "{:?}",
            v.mismatches
        );
        assert!(
            v.mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::SignatureFailed { .. })),
            "{:?}",
            v.mismatches
        );

        // A tag with two identifiers is not read; the file is judged by its DocInfo.
        let two = with_entry(&first.file, "Certificate.xml", |t| {
            String::from_utf8(t)
                .unwrap()
                .replacen(
                    "<ecert:CertificateNo>",
                    "<ecert:Identifier>1.3.6.1.4.1.32473.1·7·123456788·L1·X·0</ecert:Identifier><ecert:CertificateNo>",
                    1,
                )
                .into_bytes()
        });
        let v = instance.verify_file(two.into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::Altered);
        assert!(v.claimed.tag_error.is_some());
        assert!(
            v.mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::TagUnreadable { .. })),
            "{:?}",
            v.mismatches
        );
        assert_eq!(v.claimed.number.as_deref(), Some("VF-0001"), "from DocInfo");

        // Revised: the original is genuine but void and says so.
        let revision = instance
            .revise("VF-0001", &content("VF-0002"), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let v = instance.verify_file(first.file.clone().into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::GenuineVoid);
        assert_eq!(v.outcome.exit_code(), 4);
        assert_eq!(
            v.messages,
            vec![ecert::service::revised_message(&revision.record.number)]
        );

        // A supplement's own file.
        let supplement = instance
            .supplement(
                "VF-0002",
                include_str!("../../../examples/supplement.json"),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        let v = instance.verify_file(supplement.file.into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::GenuineSupplement);
        assert_eq!(v.record.as_ref().unwrap().number, "VF-0002");
        assert_eq!(v.supplement.as_ref().unwrap().number, "VF-0002-BC1");

        // Another instance's certificate: not ours.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Instance::init(other_dir.path(), Config::demo()).await.unwrap();
        other.create_trial_seals().await.unwrap();
        let foreign = other.issue(&content("VF-9999"), &ecert::service::Actor::local("test")).await.unwrap();
        let v = instance.verify_file(foreign.file.into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::NotIssuedByUs);
        assert_eq!(v.outcome.exit_code(), 2);
        // It names our institute (both demo instances are the example institute).
        assert!(v.mismatches.contains(&Mismatch::ClaimsOurInstitute));

        // Not an OFD file.
        let err = instance
            .verify_file(b"not a zip".to_vec().into())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotOfd { .. }), "{err:?}");
        assert_eq!(err.status().as_u16(), 422);
    });
}

/// Verification that proves itself: the self-check after sealing must PASS
/// against the instance's own trust roots — no INDETERMINATE chain is accepted. A real
/// (non-demo) instance without any root configured cannot issue at all; one whose roots do not
/// include its seal's CA is refused naming the seal; with the CA's root in `[server]
/// trust_roots` it issues, and the file verifies PASSED. Nothing is stored when refused.
#[test]
fn a_real_instance_issues_only_against_its_own_ca_roots() {
    use ecert::service::{Error, Outcome};
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // R-7.2.2a: a real instance seals only on a time traced by NTP.
        let ntp = ntp_support::chrony(None);
        let mut config = Config::demo();
        config.instance.demo = false;
        config.instance.root_oid = "1.2.156.999999.1".into();
        config.time.servers = Some(vec![format!("127.0.0.1:{}", ntp.port)]);
        let mut instance = Instance::init(dir.path(), config).await.unwrap();
        let ca = ses::demo::DemoCa::new("本院 CA").unwrap();
        let signer = ca
            .issue("校准签章人", ses::demo::Role::Signer, 365)
            .unwrap();
        let maker = ca
            .issue("本院制章者", ses::demo::Role::SealMaker, 365)
            .unwrap();
        // The seal is made while the institute's CA root is trusted (seal material that does
        // not lead to a root is refused when the seal is made); the checks below then take
        // the roots away again.
        let root = dir.path().join("own-ca.pem");
        std::fs::write(&root, ca.root_cert().unwrap().to_pem()).unwrap();
        let request = |signer: &ses::sm::CertifiedKey, maker: &ses::sm::CertifiedKey| {
            ecert::service::SealRequest {
                kind: ecert::seal_image::SealKind::Calibration,
                title: "示例市计量测试研究院校准电子证书专用章".into(),
                signer: signer.clone(),
                maker: Some(maker.clone()),
                image: None,
                size_mm: 42,
                valid_days: 365,
            }
        };
        // Without any root, and with another CA's root only, the seal material is refused
        // when the seal is made, naming the certificate; nothing is stored.
        let err = instance
            .create_seal(
                request(&signer, &maker),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NoTrustRoots), "{err:?}");
        let stranger = ses::demo::DemoCa::new("陌生 CA").unwrap();
        let stranger_root = dir.path().join("stranger-ca.pem");
        std::fs::write(&stranger_root, stranger.root_cert().unwrap().to_pem()).unwrap();
        instance.config.server.trust_roots = vec![stranger_root];
        let err = instance
            .create_seal(
                request(&signer, &maker),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap_err();
        match &err {
            Error::SealMaterialUntrusted { role, subject, .. } => {
                assert_eq!(*role, "签章人");
                assert!(subject.contains("校准签章人"), "{subject}");
            }
            other => panic!("expected SealMaterialUntrusted, got {other:?}"),
        }
        assert_eq!((err.status().as_u16(), err.code()), (409, "no_trust_root"));
        assert!(instance.seals().await.unwrap().is_empty());
        instance.config.server.trust_roots = vec![root.clone()];
        instance
            .create_seal(
                ecert::service::SealRequest {
                    kind: ecert::seal_image::SealKind::Calibration,
                    title: "示例市计量测试研究院校准电子证书专用章".into(),
                    signer,
                    maker: Some(maker),
                    image: None,
                    size_mm: 42,
                    valid_days: 365,
                },
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        instance.config.server.trust_roots.clear();

        // No root configured: refused before any work, saying which key to set.
        let err = instance
            .issue(&content("REAL-0001"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NoTrustRoots), "{err:?}");
        assert_eq!((err.status().as_u16(), err.code()), (409, "no_trust_root"));
        assert!(err.to_string().contains("[server] trust_roots"), "{err}");

        // Another CA's root: the seal's chain cannot be decided, so nothing passes.
        let other = ses::demo::DemoCa::new("别的 CA").unwrap();
        let other_root = dir.path().join("other-ca.pem");
        std::fs::write(&other_root, other.root_cert().unwrap().to_pem()).unwrap();
        instance.config.server.trust_roots = vec![other_root];
        let err = instance
            .issue(&content("REAL-0001"), &ecert::service::Actor::local("test"))
            .await
            .unwrap_err();
        match &err {
            Error::SealUntrusted { seal, unverified } => {
                assert_eq!(seal, "示例市计量测试研究院校准电子证书专用章");
                assert!(
                    unverified
                        .check_ids()
                        .contains(&ses::verify::CheckId::Certificates),
                    "{unverified}"
                );
            }
            other => panic!("expected SealUntrusted, got {other:?}"),
        }
        assert!(
            instance
                .certificate_by_number("REAL-0001")
                .await
                .unwrap()
                .is_none()
        );

        // The institute's own CA root: issued, and the file PASSES.
        instance.config.server.trust_roots.push(root);
        let issued = instance
            .issue(&content("REAL-0001"), &ecert::service::Actor::local("test"))
            .await
            .unwrap();
        let v = instance.verify_file(issued.file.into()).await.unwrap();
        assert_eq!(v.outcome, Outcome::GenuineCurrent);
        assert_eq!(v.report.indication(), ses::verify::Indication::Passed);
        assert!(v.report.passed().is_some());
    });
}

/// R-7.2.2d: an audit entry whose caller goes away while it waits for a commit (`ecert serve`
/// drops the request of a client that disconnects) is committed all the same, though no other
/// entry follows it.
#[test]
fn r_7_2_2d_an_entry_whose_caller_went_away_is_still_committed() {
    use std::future::Future;
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        let details = serde_json::json!({"test": true});
        let first = instance.audit("test", "test.first", "first", &details);
        let second = instance.audit("test", "test.second", "second", &details);
        let mut first = Box::pin(first);
        let mut second = Box::pin(second);
        // The first takes the commit; the second queues behind it; then its caller is gone.
        std::future::poll_fn(|cx| {
            let a = first.as_mut().poll(cx);
            let b = second.as_mut().poll(cx);
            assert!(
                b.is_pending(),
                "the second entry waits for the first commit"
            );
            let _ = a;
            std::task::Poll::Ready(())
        })
        .await;
        drop(second);
        first.await.unwrap();
        let mut trail = Vec::new();
        for _ in 0..100 {
            trail = instance.audit_trail("second").await.unwrap();
            if !trail.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(trail.len(), 1, "the abandoned entry is in the chain");
        assert_eq!(trail[0].action, "test.second");
    });
}

/// R-7.2.2d: `ecert serve` waits at shutdown until the entries of callers that went away are
/// committed (`Instance::audit_settled`): it waits for entries whose tasks have not even run yet,
/// and once it returns every one of them is in the chain.
#[test]
fn r_7_2_2d_shutdown_waits_for_the_entries_of_callers_that_went_away() {
    use std::future::Future;
    use std::task::Poll;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        let details = serde_json::json!({"test": true});
        let subjects = ["gone-1", "gone-2", "gone-3"];
        for subject in subjects {
            // Handed over, then the caller is gone before its task ever ran (one thread).
            let mut call = Box::pin(instance.audit("test", "test.gone", subject, &details));
            std::future::poll_fn(|cx| {
                assert!(call.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        }
        let mut settled = Box::pin(instance.audit_settled());
        std::future::poll_fn(|cx| {
            assert!(
                settled.as_mut().poll(cx).is_pending(),
                "three entries are still on their way"
            );
            Poll::Ready(())
        })
        .await;
        settled.await;
        for subject in subjects {
            let trail = instance.audit_trail(subject).await.unwrap();
            assert_eq!(trail.len(), 1, "{subject} is in the chain");
        }
    });
}
