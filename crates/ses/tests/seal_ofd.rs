//! Sealing OFD packages and verifying our own files (R-4.1.3, R-4.2.2, R-7.1a, R-7.1b, R-7.2.2b).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use ses::sign::{self, Hooks, SignMode};
use ses::verify::{CheckId, Indication, Status, VerifyOptions, verify_bytes};
use std::sync::Mutex;

#[test]
fn sealed_sample_passes_every_check_with_the_demo_root_r_4_1_3() {
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let rep = verify_bytes(
        &out,
        &VerifyOptions {
            trust: m.trust.clone(),
            validation_time: None,
        },
    )
    .unwrap();
    assert_eq!(rep.indication(), Indication::Passed, "{}", rep.to_text());
    assert_eq!(rep.exit_code(), 0);
    let s = &rep.signatures()[0];
    assert!(s.whole_protected());
    assert_eq!(s.checks().len(), 10);
    assert!(
        s.checks().iter().all(|c| c.status() == Status::Passed),
        "{}",
        rep.to_text()
    );
    assert!(
        rep.package_checks()
            .iter()
            .all(|c| c.status() == Status::Passed),
        "{}",
        rep.to_text()
    );
    // Without a configured root: INDETERMINATE (check 8), exit code 2.
    let rep = verify_bytes(&out, &VerifyOptions::default()).unwrap();
    assert_eq!(
        rep.indication(),
        Indication::Indeterminate,
        "{}",
        rep.to_text()
    );
    assert_eq!(rep.exit_code(), 2);
    // With another root: FAILED, no chain.
    let other = ses::demo::DemoCa::new("别家").unwrap();
    let mut ts = ses::pki::TrustStore::new();
    ts.add_root(other.root_cert().unwrap());
    let rep = verify_bytes(
        &out,
        &VerifyOptions {
            trust: ts,
            validation_time: None,
        },
    )
    .unwrap();
    assert_eq!(rep.indication(), Indication::Failed);
    assert_eq!(
        rep.failed_checks(),
        vec![(String::from("1"), CheckId::Certificates)]
    );
}

#[test]
fn revoked_signer_fails_check_8() {
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let mut trust = m.trust.clone();
    let signer = ses::pki::Cert::from_der(&m.signer.cert_der).unwrap();
    trust.add_crl(
        ses::pki::Crl::from_der(&m.ca.crl(&[&signer], ses::pki::now() - 3600).unwrap()).unwrap(),
    );
    let rep = verify_bytes(
        &out,
        &VerifyOptions {
            trust,
            validation_time: None,
        },
    )
    .unwrap();
    assert_eq!(
        rep.failed_checks(),
        vec![(String::from("1"), CheckId::Certificates)],
        "{}",
        rep.to_text()
    );
    assert_eq!(
        rep.sub_indication(),
        Some(ses::verify::SubIndication::Revoked)
    );
}

#[test]
fn signature_files_are_laid_out_as_ofdrw_expects() {
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let pkg = ofd::Package::from_zip(&out, &ofd::Limits::default()).unwrap();
    let ofd_xml = String::from_utf8(pkg.get("OFD.xml").unwrap().to_vec()).unwrap();
    assert!(
        ofd_xml.contains("<ofd:Signatures>/Doc_0/Signs/Signatures.xml</ofd:Signatures>"),
        "{ofd_xml}"
    );
    let sigs = String::from_utf8(pkg.get("Doc_0/Signs/Signatures.xml").unwrap().to_vec()).unwrap();
    assert!(
        sigs.contains(
            r#"<ofd:Signature ID="1" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/>"#
        ),
        "{sigs}"
    );
    let xml = String::from_utf8(
        pkg.get("Doc_0/Signs/Sign_0/Signature.xml")
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(xml.contains(r#"<ofd:References CheckMethod="1.2.156.10197.1.401">"#));
    assert!(xml.contains("<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"));
    assert!(
        xml.contains(
            "<ofd:Seal><ofd:BaseLoc>/Doc_0/Signs/Sign_0/Seal.esl</ofd:BaseLoc></ofd:Seal>"
        )
    );
    assert!(
        xml.contains(r#"FileRef="/Doc_0/Signs/Signatures.xml""#),
        "whole-protected covers Signatures.xml"
    );
    // Every other file is referenced.
    for p in pkg.paths() {
        if p.ends_with("Sign_0/Signature.xml") || p.ends_with("Sign_0/SignedValue.dat") {
            continue;
        }
        assert!(
            xml.contains(&format!("FileRef=\"/{p}\"")),
            "{p} not referenced"
        );
    }
    assert_eq!(
        pkg.get("Doc_0/Signs/Sign_0/Seal.esl").unwrap(),
        m.seal.as_slice()
    );
    let sv =
        ses::seal::parse_signature(pkg.get("Doc_0/Signs/Sign_0/SignedValue.dat").unwrap()).unwrap();
    assert_eq!(sv.property_info, "/Doc_0/Signs/Sign_0/Signature.xml");
    assert_eq!(sv.data_hash, ses::sm::sm3(xml.as_bytes()));
    assert_eq!(sv.signer_cert, m.signer.cert_der);
}

/// R-4.2.2: one seal picture split over the right edges of all three pages.
#[test]
fn riding_seam_stamps_split_the_picture_across_pages_r_4_2_2() {
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let pkg = ofd::Package::from_zip(&out, &ofd::Limits::default()).unwrap();
    let x = ses::xmlsig::parse_signature_xml(
        "Doc_0/Signs/Sign_0/Signature.xml",
        pkg.get("Doc_0/Signs/Sign_0/Signature.xml").unwrap(),
    )
    .unwrap();
    let file = ofd::OfdFile::from_package(pkg, &ofd::ReadOptions::default()).unwrap();
    let pages = &file.ofd.docs[0].document.pages;
    assert_eq!(pages.len(), 3);
    let riding: Vec<_> = x.stamps.iter().filter(|s| s.clip.is_some()).collect();
    assert_eq!(riding.len(), 3);
    let nums = |s: &str| {
        s.split(' ')
            .map(|v| v.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    let mut covered = 0.0;
    for (i, s) in riding.iter().enumerate() {
        assert_eq!(s.page_ref, pages[i].id.unwrap().0.to_string());
        let b = nums(&s.boundary);
        let c = nums(s.clip.as_ref().unwrap());
        assert_eq!((b[2], b[3]), (40.0, 40.0), "boundary is the whole picture");
        // The visible slice (Boundary.x + Clip.x .. + Clip.w) ends exactly at the right page edge.
        let right = b[0] + c[0] + c[2];
        assert!(
            (right - 210.0).abs() < 0.01,
            "page {i}: slice ends at {right}"
        );
        assert!((c[0] - covered).abs() < 0.01, "slices are consecutive");
        covered += c[2];
    }
    assert!(
        (covered - 40.0).abs() < 0.01,
        "the slices make up the whole picture"
    );
    // IDs come from one counter with the signature ID (1), unique.
    let mut ids: Vec<_> = x.stamps.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
}

#[test]
fn continue_mode_allows_a_second_signature_and_whole_protected_refuses_one() {
    let m = material();
    let once = seal_zip(&sample_zip(), &m, SignMode::Continue);
    let twice = seal_zip(&once, &m, SignMode::WholeProtected);
    let rep = verify_bytes(
        &twice,
        &VerifyOptions {
            trust: m.trust.clone(),
            validation_time: None,
        },
    )
    .unwrap();
    assert_eq!(rep.signatures_count(), 2);
    assert_eq!(rep.indication(), Indication::Passed, "{}", rep.to_text());
    // The second signature protects the first one's files.
    let pkg = ofd::Package::from_zip(&twice, &ofd::Limits::default()).unwrap();
    let x2 = String::from_utf8(
        pkg.get("Doc_0/Signs/Sign_1/Signature.xml")
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(x2.contains("FileRef=\"/Doc_0/Signs/Sign_0/SignedValue.dat\""));
    // A third one is refused: the second protects Signatures.xml.
    let err = sign::seal_bytes(
        &twice,
        &m.seal,
        &m.signer,
        &stamp_options(SignMode::Continue),
        &Hooks::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("whole-protected"), "{err}");
}

#[test]
fn sealing_refuses_a_signer_outside_the_seal_and_an_expired_seal() {
    let m = material();
    let stranger = m.ca.issue("外人", ses::demo::Role::Signer, 30).unwrap();
    let err = sign::seal_bytes(
        &sample_zip(),
        &m.seal,
        &stranger,
        &stamp_options(SignMode::WholeProtected),
        &Hooks::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("certificate list"), "{err}");
    let late = sign::FixedClock(ses::pki::now() + 400 * 86400);
    let err = sign::seal_bytes(
        &sample_zip(),
        &m.seal,
        &m.signer,
        &stamp_options(SignMode::WholeProtected),
        &Hooks {
            clock: Some(&late),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("valid"), "{err}");
}

/// A seal checked once ([`sign::CheckedSeal`], kept by a long-running issuer) seals many
/// documents that verify, but only with the signer it was checked for; its validity window is
/// still checked at each sealing.
#[test]
fn a_checked_seal_is_reused_only_with_its_own_signer() {
    let m = material();
    let checked = sign::CheckedSeal::new(&m.seal, &m.signer.cert_der).unwrap();
    assert_eq!(checked.seal_der(), m.seal.as_slice());
    assert_eq!(checked.seal_name(), "试用 TEST 校准电子证书专用章");
    let opts = stamp_options(SignMode::WholeProtected);
    let vopts = VerifyOptions {
        trust: m.trust.clone(),
        validation_time: None,
    };
    for _ in 0..2 {
        let mut pkg = ofd::Package::from_zip(&sample_zip(), &ofd::Limits::default()).unwrap();
        sign::seal_package_checked(&mut pkg, &checked, &m.signer, &opts, &Hooks::default())
            .unwrap();
        let report = ses::verify::verify_bytes(&pkg.to_zip().unwrap(), &vopts).unwrap();
        assert!(
            report.failed_checks().is_empty(),
            "{:?}",
            report.failed_checks()
        );
    }
    let other = m.ca.issue("签章人", ses::demo::Role::Signer, 365).unwrap();
    let mut pkg = ofd::Package::from_zip(&sample_zip(), &ofd::Limits::default()).unwrap();
    let err = sign::seal_package_checked(&mut pkg, &checked, &other, &opts, &Hooks::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("not the one the seal was checked"),
        "{err}"
    );
    let late = sign::FixedClock(ses::pki::now() + 400 * 86400);
    let err = sign::seal_package_checked(
        &mut pkg,
        &checked,
        &m.signer,
        &opts,
        &Hooks {
            clock: Some(&late),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("valid"), "{err}");
    // Checking refuses a signer outside the seal's certificate list up front.
    let err = sign::CheckedSeal::new(&m.seal, &other.cert_der).unwrap_err();
    assert!(err.to_string().contains("certificate list"), "{err}");
}

struct Log(Mutex<Vec<sign::SealEvent>>);
impl sign::AuditSink for Log {
    fn sealed(&self, e: &sign::SealEvent) {
        self.0.lock().unwrap().push(e.clone());
    }
}

struct FakeTsa;
impl ses::seal::TimeStampHook for FakeTsa {
    fn time_stamp(&self, signature: &[u8]) -> ses::Result<Vec<u8>> {
        Ok(ses::sm::sm3(signature).to_vec())
    }
}

/// R-7.2.2b: every sealing reaches the audit hook; the RFC 3161 hook's token lands in timeStamp.
#[test]
fn audit_and_time_stamp_hooks_r_7_2_2b() {
    let m = material();
    let log = Log(Mutex::new(Vec::new()));
    let t = ses::pki::now();
    let out = sign::seal_bytes(
        &sample_zip(),
        &m.seal,
        &m.signer,
        &stamp_options(SignMode::WholeProtected),
        &Hooks {
            clock: Some(&sign::FixedClock(t)),
            tsa: Some(&FakeTsa),
            audit: Some(&log),
        },
    )
    .unwrap();
    let ev = log.0.lock().unwrap().clone();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].seal_es_id, "TEST-SEAL-0001");
    assert_eq!(ev[0].time, ses::pki::format_time(t));
    assert!(ev[0].signer_subject.contains("签章人"));
    assert_eq!(ev[0].pages, vec![0, 0, 1, 2]);
    let pkg = ofd::Package::from_zip(&out, &ofd::Limits::default()).unwrap();
    let sv =
        ses::seal::parse_signature(pkg.get("Doc_0/Signs/Sign_0/SignedValue.dat").unwrap()).unwrap();
    assert_eq!(sv.time_stamp.unwrap(), ses::sm::sm3(&sv.signature).to_vec());
    assert_eq!(sv.time_info, Some(t));
}

/// OpenSSL checks the signer's SM2 signature in SignedValue.dat and the certificates (R-7.1b).
#[test]
fn openssl_verifies_the_signed_value_and_certificates() {
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let pkg = ofd::Package::from_zip(&out, &ofd::Limits::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sv.dat"),
        pkg.get("Doc_0/Signs/Sign_0/SignedValue.dat").unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("root.pem"),
        m.ca.root_cert().unwrap().to_pem(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("signer.pem"),
        ses::pki::Cert::from_der(&m.signer.cert_der)
            .unwrap()
            .to_pem(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("maker.pem"),
        ses::pki::Cert::from_der(&m.maker.cert_der)
            .unwrap()
            .to_pem(),
    )
    .unwrap();
    for c in ["signer.pem", "maker.pem"] {
        let out = openssl_ok(
            dir.path(),
            &["verify", "-vfyopt", DISTID_SIG, "-CAfile", "root.pem", c],
        );
        assert!(out.contains(": OK"), "{out}");
    }
    openssl_ok(
        dir.path(),
        &[
            "asn1parse",
            "-inform",
            "DER",
            "-in",
            "sv.dat",
            "-strparse",
            "4",
            "-noout",
            "-out",
            "tbs.der",
        ],
    );
    let sv =
        ses::seal::parse_signature(pkg.get("Doc_0/Signs/Sign_0/SignedValue.dat").unwrap()).unwrap();
    std::fs::write(dir.path().join("sig.bin"), &sv.signature).unwrap();
    openssl_ok(
        dir.path(),
        &[
            "x509",
            "-in",
            "signer.pem",
            "-pubkey",
            "-noout",
            "-out",
            "pub.pem",
        ],
    );
    let o = openssl_ok(
        dir.path(),
        &[
            "dgst",
            "-sm3",
            "-verify",
            "pub.pem",
            "-sigopt",
            DISTID_SIG,
            "-signature",
            "sig.bin",
            "tbs.der",
        ],
    );
    assert!(o.contains("Verified OK"), "{o}");
    // And OpenSSL's SM3 of Signature.xml equals dataHash.
    std::fs::write(
        dir.path().join("Signature.xml"),
        pkg.get("Doc_0/Signs/Sign_0/Signature.xml").unwrap(),
    )
    .unwrap();
    let o = openssl_ok(dir.path(), &["dgst", "-sm3", "-r", "Signature.xml"]);
    assert!(
        o.starts_with(
            &ses::pki::Cert::from_der(&m.signer.cert_der)
                .map(|_| String::new())
                .unwrap()
        )
    );
    assert!(
        o.contains(
            &sv.data_hash
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        "{o}"
    );
}

/// The demo flow the CLI offers: create a trial directory, seal, verify with its root (R-7.1d).
#[test]
fn demo_directory_seal_and_verify_r_7_1d() {
    let dir = tempfile::tempdir().unwrap();
    let files =
        ses::demo::create_demo_dir(dir.path(), "某计量院", "校准电子证书专用章", None).unwrap();
    let readme = std::fs::read_to_string(dir.path().join("README.txt")).unwrap();
    assert!(readme.contains("试用 TEST"));
    let (seal, signer) = ses::demo::load_demo_dir(dir.path()).unwrap();
    let s = ses::seal::parse_seal(&seal).unwrap();
    assert!(s.name.contains("试用 TEST"), "{}", s.name);
    let out = sign::seal_bytes(
        &sample_zip(),
        &seal,
        &signer,
        &stamp_options(SignMode::WholeProtected),
        &Hooks::default(),
    )
    .unwrap();
    let mut trust = ses::pki::TrustStore::new();
    trust
        .add_roots_pem(&std::fs::read_to_string(&files.root_pem).unwrap())
        .unwrap();
    let rep = verify_bytes(
        &out,
        &VerifyOptions {
            trust,
            validation_time: None,
        },
    )
    .unwrap();
    assert_eq!(rep.indication(), Indication::Passed, "{}", rep.to_text());
    assert!(
        rep.signatures()[0]
            .signer()
            .unwrap()
            .subject
            .contains("试用 TEST")
    );
}

/// The self-check after sealing reuses what sealing computed (`verify_bytes_known`): its report
/// is the full verification's, and a part that differs from what was sealed — changed in the
/// package after sealing — is hashed again and fails as without it.
#[test]
fn verifying_with_what_sealing_computed_reports_the_same_and_still_sees_changes() {
    let m = material();
    let checked = sign::CheckedSeal::new(&m.seal, &m.signer.cert_der).unwrap();
    let opts = stamp_options(SignMode::WholeProtected);
    let vopts = VerifyOptions {
        trust: m.trust.clone(),
        validation_time: None,
    };
    let mut pkg = ofd::Package::from_zip(&sample_zip(), &ofd::Limits::default()).unwrap();
    let parts_before = pkg.paths().count();
    let outcome =
        sign::seal_package_checked(&mut pkg, &checked, &m.signer, &opts, &Hooks::default())
            .unwrap();
    // Every part referenced (those before, Signatures.xml, Seal.esl) and Signature.xml itself.
    assert_eq!(outcome.known.digest_count(), parts_before + 3);
    let zip = pkg.to_zip().unwrap();
    let full = verify_bytes(&zip, &vopts).unwrap();
    let reused = ses::verify::verify_bytes_known(&zip, &vopts, &outcome.known).unwrap();
    assert_eq!(full.indication(), Indication::Passed, "{}", full.to_text());
    assert_eq!(
        serde_json::to_value(full.signatures()).unwrap(),
        serde_json::to_value(reused.signatures()).unwrap()
    );
    assert_eq!(
        serde_json::to_value(full.package_checks()).unwrap(),
        serde_json::to_value(reused.package_checks()).unwrap()
    );

    // A page changed after sealing: the remembered digest is for other bytes, so it is not used.
    let page = pkg
        .paths()
        .find(|p| p.ends_with("Content.xml"))
        .unwrap()
        .to_string();
    let mut changed = pkg.get(&page).unwrap().to_vec();
    let at = changed.len() / 2;
    changed[at] = if changed[at] == b' ' { b'\t' } else { b' ' };
    pkg.insert(&page, changed).unwrap();
    let report =
        ses::verify::verify_bytes_known(&pkg.to_zip().unwrap(), &vopts, &outcome.known).unwrap();
    assert_eq!(
        report.indication(),
        Indication::Failed,
        "{}",
        report.to_text()
    );
    assert!(
        report
            .failed_checks()
            .contains(&(String::from("1"), CheckId::ReferenceHashes)),
        "{:?}",
        report.failed_checks()
    );

    // What one sealing computed says nothing about another file: a second sealing of the same
    // document verifies with the first one's digests exactly as without them.
    let mut other = ofd::Package::from_zip(&sample_zip(), &ofd::Limits::default()).unwrap();
    sign::seal_package_checked(&mut other, &checked, &m.signer, &opts, &Hooks::default()).unwrap();
    let zip = other.to_zip().unwrap();
    let full = verify_bytes(&zip, &vopts).unwrap();
    let reused = ses::verify::verify_bytes_known(&zip, &vopts, &outcome.known).unwrap();
    assert_eq!(
        serde_json::to_value(full.signatures()).unwrap(),
        serde_json::to_value(reused.signatures()).unwrap()
    );
}

/// A `Verified` comes from a PASSED report, or from an INDETERMINATE one only through an
/// acceptance that names the outcome: here our own sealed file, verified with, without and with
/// the wrong trust roots.
#[test]
fn only_a_passed_report_or_a_named_outcome_is_verified() {
    use ses::verify::{Acceptance, SubIndication};
    let m = material();
    let out = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let without_roots = Acceptance::strict().allow_indeterminate(
        CheckId::Certificates,
        SubIndication::NoCertificateChainFound,
    );

    let trusted = verify_bytes(
        &out,
        &VerifyOptions {
            trust: m.trust.clone(),
            validation_time: None,
        },
    )
    .unwrap();
    let v = trusted.passed().expect("PASSED with the demo root");
    assert!(!v.tolerated());
    assert_eq!(trusted.passed_allowing(&without_roots), Ok(v));

    // No roots: nothing failed, yet nothing proves the certificates.
    let bare = verify_bytes(&out, &VerifyOptions::default()).unwrap();
    assert_eq!(bare.indication(), Indication::Indeterminate);
    assert!(bare.failed_checks().is_empty());
    assert!(bare.passed().is_none());
    let e = bare.passed_allowing(&Acceptance::strict()).unwrap_err();
    assert_eq!(e.check_ids(), [CheckId::Certificates], "{e}");
    assert_eq!(
        e.stopped()[0].check.sub_indication(),
        Some(SubIndication::NoCertificateChainFound)
    );
    assert_eq!(e.stopped()[0].signature.as_deref(), Some("1"));
    let v = bare
        .passed_allowing(&without_roots)
        .expect("the named outcome");
    assert!(v.tolerated());
    // An acceptance that names another check does not let CERTIFICATES through.
    let other = Acceptance::strict()
        .allow_indeterminate(CheckId::SealValidity, SubIndication::OutOfBounds)
        .allow_indeterminate(CheckId::Certificates, SubIndication::OutOfBounds);
    assert_eq!(
        bare.passed_allowing(&other).unwrap_err().check_ids(),
        [CheckId::Certificates]
    );

    // Another institute's root: FAILED (same sub-indication), which no acceptance lets through.
    let mut ts = ses::pki::TrustStore::new();
    ts.add_root(ses::demo::DemoCa::new("别家").unwrap().root_cert().unwrap());
    let foreign = verify_bytes(
        &out,
        &VerifyOptions {
            trust: ts,
            validation_time: None,
        },
    )
    .unwrap();
    let cert = foreign.signatures()[0]
        .check(CheckId::Certificates)
        .unwrap();
    assert_eq!(cert.status(), Status::Failed);
    assert_eq!(
        cert.sub_indication(),
        Some(SubIndication::NoCertificateChainFound)
    );
    assert!(foreign.passed().is_none());
    let e = foreign.passed_allowing(&without_roots).unwrap_err();
    assert_eq!(e.indication(), Indication::Failed);
    assert_eq!(e.check_ids(), [CheckId::Certificates]);
}

/// Values the sealer writes into the signature files are escaped by `ofd::xml_out`: a provider
/// name with CR, quotes and `&`, and a signatures directory with `&` in its name (from the
/// document's own OFD.xml) read back exactly, and the file verifies.
#[test]
fn signature_files_escape_what_they_write() {
    let m = material();
    let mut pkg = ofd::Package::from_zip(&tiny_ofd(), &ofd::Limits::default()).unwrap();
    let ofd_xml = String::from_utf8(pkg.get("OFD.xml").unwrap().to_vec()).unwrap();
    let ofd_xml = ofd_xml.replace(
        "</ofd:DocRoot>",
        "</ofd:DocRoot><ofd:Signatures>/Doc_0/R&amp;D/Signatures.xml</ofd:Signatures>",
    );
    pkg.insert("OFD.xml", ofd_xml.into_bytes()).unwrap();
    let name = "ecert \"试用\" <R&D>\r\n'v1'\t";
    let opts = ses::sign::SealOptions {
        provider: ses::sign::Provider {
            name: name.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let sealed = ses::sign::seal_bytes(
        &pkg.to_zip().unwrap(),
        &m.seal,
        &m.signer,
        &opts,
        &Hooks::default(),
    )
    .unwrap();
    let rep = verify_bytes(
        &sealed,
        &VerifyOptions {
            trust: m.trust.clone(),
            validation_time: None,
        },
    )
    .unwrap();
    assert!(rep.passed().is_some(), "{}", rep.to_text());
    let sig_path = "Doc_0/R&D/Sign_0/Signature.xml";
    assert_eq!(rep.signatures()[0].path(), sig_path);
    let pkg = ofd::Package::from_zip(&sealed, &ofd::Limits::default()).unwrap();
    let xml = ses::xmlsig::parse_signature_xml(sig_path, pkg.get(sig_path).unwrap()).unwrap();
    assert_eq!(xml.provider.as_deref(), Some(name));
    assert_eq!(xml.seal_path.as_deref(), Some("Doc_0/R&D/Sign_0/Seal.esl"));
    assert_eq!(
        xml.signed_value_path.as_deref(),
        Some("Doc_0/R&D/Sign_0/SignedValue.dat")
    );
}
