//! The verifier on signatures made elsewhere: ofdrw's SESV4SignDoc.ofd and the tax-system invoice
//! v4signed.ofd must pass checks 1–3 and 5 (where Seal.esl exists); their seal/certificate
//! validity problems show up as failures of checks 7/8 (R-7.1b).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use ses::verify::{CheckId, Indication, Status, VerifyOptions, verify_bytes};

fn status(r: &ses::verify::SignatureReport, id: CheckId) -> Status {
    r.check(id).unwrap().status()
}

#[test]
fn ofdrw_sesv4_signature_passes_crypto_checks_and_fails_validity() {
    let rep = verify_bytes(
        &fixture_bytes("SESV4SignDoc.ofd"),
        &VerifyOptions::default(),
    )
    .unwrap();
    println!("{}", rep.to_text());
    assert_eq!(rep.signatures_count(), 1);
    let s = &rep.signatures()[0];
    for id in [
        CheckId::ReferenceHashes,
        CheckId::DataHash,
        CheckId::SignerSignature,
        CheckId::SealMakerSignature,
        CheckId::SealFileMatch,
        CheckId::SignerInSeal,
        CheckId::SignatureMethod,
        CheckId::PropertyInfo,
    ] {
        assert_eq!(status(s, id), Status::Passed, "{id:?}: {}", rep.to_text());
    }
    // Signed 2026-08-04, seal and certificates expired 2022-04: checks 7 and 8 fail.
    assert_eq!(status(s, CheckId::SealValidity), Status::Failed);
    assert_eq!(status(s, CheckId::Certificates), Status::Failed);
    assert_eq!(rep.indication(), Indication::Failed);
    assert_eq!(rep.exit_code(), 1);
}

#[test]
fn tax_invoice_signature_passes_crypto_checks() {
    let rep = verify_bytes(&fixture_bytes("v4signed.ofd"), &VerifyOptions::default()).unwrap();
    println!("{}", rep.to_text());
    let s = &rep.signatures()[0];
    for id in [
        CheckId::ReferenceHashes,
        CheckId::DataHash,
        CheckId::SignerSignature,
        CheckId::SealMakerSignature,
    ] {
        assert_eq!(status(s, id), Status::Passed, "{id:?}: {}", rep.to_text());
    }
    assert_eq!(
        status(s, CheckId::SealFileMatch),
        Status::NotApplicable,
        "no Seal element in this file"
    );
    // The invoice's Document.xml says TPLS/… for the entry Tpls/… (ambiguous on case-insensitive
    // file systems): check 12 names it.
    let zip = rep.package_check(CheckId::ZipAmbiguity).unwrap();
    assert_eq!(zip.status(), Status::Failed, "{}", zip.reason());
    assert!(zip.reason().contains("TPLS"), "{}", zip.reason());
    // JSON for `ecert verify --json`.
    let json = serde_json::to_value(&rep).unwrap();
    assert_eq!(json["signatures"][0]["checks"][0]["id"], "REFERENCE_HASHES");
    assert_eq!(json["signatures"][0]["checks"][0]["status"], "PASSED");
}

#[test]
fn unsigned_fixture_fails_with_no_signature_found() {
    let rep = verify_bytes(&fixture_bytes("helloworld.ofd"), &VerifyOptions::default()).unwrap();
    assert_eq!(rep.indication(), Indication::Failed);
    assert_eq!(
        rep.sub_indication(),
        Some(ses::verify::SubIndication::NoSignatureFound)
    );
}

#[test]
fn garbage_is_unreadable() {
    assert!(verify_bytes(b"not a zip at all", &VerifyOptions::default()).is_err());
}

#[test]
fn cli_helpers() {
    let m = material();
    let sealed = ses::sign::seal_bytes(
        &tiny_ofd(),
        &m.seal,
        &m.signer,
        &ses::sign::SealOptions::default(),
        &ses::sign::Hooks::default(),
    )
    .unwrap();
    let pem = m.ca.root_cert().unwrap().to_pem();
    let opts = VerifyOptions::with_roots_pem(&[pem]).unwrap();
    let rep = verify_bytes(&sealed, &opts).unwrap();
    assert_eq!(rep.exit_code(), 0, "{}", rep.to_text());
    assert_eq!(ses::verify::EXIT_UNREADABLE, 3);
    assert!(VerifyOptions::with_roots_pem(&["not pem"]).is_err());
}
