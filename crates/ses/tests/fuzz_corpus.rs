//! Replays the committed fuzz corpus (`fuzz/corpus/{der,pkcs12,verify}`) through the same entry
//! points the cargo-fuzz targets use: no input may panic. `make_fuzz_corpus` (ignored) regenerates
//! the seeds.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::Path;

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "empty corpus {name}");
    v
}

#[test]
fn replay_der_corpus() {
    for (_, d) in corpus("der") {
        ses::fuzz_entry::der(&d);
    }
}

#[test]
fn replay_pkcs12_corpus() {
    for (_, d) in corpus("pkcs12") {
        ses::fuzz_entry::pkcs12(&d);
    }
}

#[test]
fn replay_verify_corpus() {
    for (_, d) in corpus("verify") {
        ses::fuzz_entry::verify(&d);
    }
}

/// The sealed seed verifies (so the corpus exercises the whole verifier, not just the ZIP reader).
#[test]
fn sealed_seed_is_a_real_signed_file() {
    let seeds = corpus("verify");
    let (_, d) = seeds
        .iter()
        .find(|(n, _)| n.ends_with("sealed-tiny.ofd"))
        .unwrap();
    let rep = ses::verify::verify_bytes(d, &ses::verify::VerifyOptions::default()).unwrap();
    // No trust root is configured here, and the seed's certificates may have expired since.
    use ses::verify::CheckId::{DataHash, ReferenceHashes, SignerSignature};
    let s = &rep.signatures()[0];
    assert!(
        [ReferenceHashes, DataHash, SignerSignature]
            .into_iter()
            .all(|id| s
                .check(id)
                .is_some_and(|c| c.status() == ses::verify::Status::Passed)),
        "{}",
        rep.to_text()
    );
}

#[test]
#[ignore = "regenerates fuzz/corpus; run by hand"]
fn make_fuzz_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for d in ["der", "pkcs12", "verify"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    use ses::demo::{DemoCa, Role};
    let ca = DemoCa::new("fuzz").unwrap();
    let maker = ca.issue("maker", Role::SealMaker, 3650).unwrap();
    let signer = ca.issue("signer", Role::Signer, 3650).unwrap();
    let now = ses::pki::now();
    let seal = ses::seal::make_seal(
        &ses::seal::SealParams {
            vid: "fuzz".into(),
            es_id: "TEST-FUZZ".into(),
            seal_type: 3,
            name: "试用 TEST fuzz".into(),
            signer_certs: vec![signer.cert_der.clone()],
            created: now,
            valid_start: now - 60,
            valid_end: now + 3650 * 86400,
            picture: ses::seal::Picture {
                format: ses::seal::PictureFormat::Png,
                data: ofd::sample::sample_png(8),
                width_mm: 40,
                height_mm: 40,
            },
        },
        &maker,
    )
    .unwrap();
    let sealed = ses::sign::seal_bytes(
        &tiny_ofd(),
        &seal,
        &signer,
        &ses::sign::SealOptions {
            stamps: vec![ses::sign::Stamp {
                page: 0,
                boundary: ses::sign::BoxMm {
                    x: 10.0,
                    y: 10.0,
                    w: 40.0,
                    h: 40.0,
                },
            }],
            ..Default::default()
        },
        &ses::sign::Hooks::default(),
    )
    .unwrap();
    std::fs::write(root.join("verify/sealed-tiny.ofd"), &sealed).unwrap();
    std::fs::write(root.join("verify/unsigned-tiny.ofd"), tiny_ofd()).unwrap();
    std::fs::write(root.join("verify/empty"), b"").unwrap();
    let pkg = ofd::Package::from_zip(&sealed, &ofd::Limits::default()).unwrap();
    std::fs::write(root.join("der/seal.esl"), &seal).unwrap();
    std::fs::write(
        root.join("der/signed-value.dat"),
        pkg.get("Doc_0/Signs/Sign_0/SignedValue.dat").unwrap(),
    )
    .unwrap();
    std::fs::write(root.join("der/cert.der"), &signer.cert_der).unwrap();
    std::fs::write(root.join("der/crl.der"), ca.crl(&[], now).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), signer.key.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("c.pem"),
        ses::pki::Cert::from_der(&signer.cert_der).unwrap().to_pem(),
    )
    .unwrap();
    openssl_ok(
        dir.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:777777",
            "-iter",
            "1",
            "-maciter",
            "-out",
            "modern.p12",
        ],
    );
    openssl_ok(
        dir.path(),
        &[
            "pkcs12",
            "-export",
            "-legacy",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:777777",
            "-iter",
            "1",
            "-out",
            "legacy.p12",
        ],
    );
    for f in ["modern.p12", "legacy.p12"] {
        std::fs::copy(dir.path().join(f), root.join("pkcs12").join(f)).unwrap();
    }
    std::fs::write(
        root.join("pkcs12/enc-key.der"),
        signer
            .key
            .to_encrypted_pkcs8_der("pw", ses::pbe::Pbes2Cipher::Sm4Sm3)
            .unwrap(),
    )
    .unwrap();
}
