//! SM2/SM3, PKCS#8, PKCS#12, X.509 chains and CRLs cross-checked with the `openssl` CLI both ways
//! (R-7.1b, R-7.1c, R-7.1d).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use ses::demo::{DemoCa, Role};
use ses::pbe::Pbes2Cipher;
use ses::pki::{Cert, ChainStatus, Crl, TrustStore};
use ses::sm::{self, Sm2KeyPair};

#[test]
fn our_sm2_signature_verifies_in_openssl_r_7_1c() {
    let dir = tempfile::tempdir().unwrap();
    let k = Sm2KeyPair::generate().unwrap();
    std::fs::write(
        dir.path().join("pub.pem"),
        der::pem::encode_string(
            "PUBLIC KEY",
            der::pem::LineEnding::LF,
            &k.public_key_der().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("msg"), b"hello ses").unwrap();
    std::fs::write(dir.path().join("sig"), k.sign_der(b"hello ses").unwrap()).unwrap();
    let out = openssl_ok(
        dir.path(),
        &[
            "dgst",
            "-sm3",
            "-verify",
            "pub.pem",
            "-sigopt",
            DISTID_SIG,
            "-signature",
            "sig",
            "msg",
        ],
    );
    assert!(out.contains("Verified OK"), "{out}");
    // A different message must fail in OpenSSL too.
    std::fs::write(dir.path().join("msg"), b"hello sez").unwrap();
    let (ok, _) = openssl(
        dir.path(),
        &[
            "dgst",
            "-sm3",
            "-verify",
            "pub.pem",
            "-sigopt",
            DISTID_SIG,
            "-signature",
            "sig",
            "msg",
        ],
    );
    assert!(!ok);
}

#[test]
fn openssl_sm2_signature_and_keys_verify_here() {
    let dir = tempfile::tempdir().unwrap();
    openssl_ok(
        dir.path(),
        &["genpkey", "-algorithm", "SM2", "-out", "key.pem"],
    );
    openssl_ok(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    std::fs::write(dir.path().join("msg"), b"from openssl").unwrap();
    openssl_ok(
        dir.path(),
        &[
            "dgst", "-sm3", "-sign", "key.pem", "-sigopt", DISTID_SIG, "-out", "sig", "msg",
        ],
    );
    let key = Sm2KeyPair::from_pem(
        &std::fs::read_to_string(dir.path().join("key.pem")).unwrap(),
        None,
    )
    .unwrap();
    let sig = std::fs::read(dir.path().join("sig")).unwrap();
    sm::verify_sec1(&key.public_key_sec1(), b"from openssl", &sig).unwrap();
    assert!(sm::verify_sec1(&key.public_key_sec1(), b"from opensst", &sig).is_err());
    // Encrypted PKCS#8 written by OpenSSL (PBES2 AES-256 and SM4) is read here.
    for cipher in ["aes-256-cbc", "sm4-cbc"] {
        openssl_ok(
            dir.path(),
            &[
                "pkcs8", "-topk8", "-in", "key.pem", "-v2", cipher, "-passout", "pass:pw1", "-out",
                "enc.pem",
            ],
        );
        let back = Sm2KeyPair::from_pem(
            &std::fs::read_to_string(dir.path().join("enc.pem")).unwrap(),
            Some("pw1"),
        )
        .unwrap();
        assert_eq!(back.public_key_sec1(), key.public_key_sec1(), "{cipher}");
    }
}

#[test]
fn openssl_reads_our_encrypted_pkcs8() {
    let dir = tempfile::tempdir().unwrap();
    let k = Sm2KeyPair::generate().unwrap();
    // OpenSSL 3.0 has no PBKDF2-HMAC-SM3 PRF, so only the AES variant is read back there; the
    // SM4/SM3 variant is covered by the round-trip unit test.
    for (i, c) in [Pbes2Cipher::Aes256Sha256].into_iter().enumerate() {
        let name = format!("k{i}.pem");
        std::fs::write(
            dir.path().join(&name),
            k.to_encrypted_pkcs8_pem("geheim", c).unwrap(),
        )
        .unwrap();
        openssl_ok(
            dir.path(),
            &[
                "pkey",
                "-in",
                &name,
                "-passin",
                "pass:geheim",
                "-pubout",
                "-out",
                "p.pem",
            ],
        );
        let pub_pem = std::fs::read_to_string(dir.path().join("p.pem")).unwrap();
        let (_, der) = der::pem::decode_vec(pub_pem.as_bytes()).unwrap();
        assert_eq!(der, k.public_key_der().unwrap(), "{c:?}");
    }
}

#[test]
fn ofdrw_pkcs12_fixture_imports_r_7_1d() {
    let p12 = fixture_bytes("USER.p12");
    let got = ses::pkcs12::parse(&p12, "777777").unwrap();
    assert_eq!(got.alias.as_deref(), Some("private"));
    let cert = Cert::from_der(got.key_certificate().expect("cert for key")).unwrap();
    assert!(
        cert.subject().contains("Test Certificate"),
        "{}",
        cert.subject()
    );
    assert_eq!(cert.serial_hex(), "01719d2dab60");
    assert!(matches!(
        ses::pkcs12::parse(&p12, "777778"),
        Err(ses::Error::Decrypt { .. })
    ));
    // The key signs, and OpenSSL verifies with the certificate.
    let ck = got.into_certified_key().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), cert.to_pem()).unwrap();
    std::fs::write(dir.path().join("m"), b"p12").unwrap();
    std::fs::write(dir.path().join("s"), ck.key.sign_der(b"p12").unwrap()).unwrap();
    openssl_ok(
        dir.path(),
        &["x509", "-in", "c.pem", "-pubkey", "-noout", "-out", "p.pem"],
    );
    let out = openssl_ok(
        dir.path(),
        &[
            "dgst",
            "-sm3",
            "-verify",
            "p.pem",
            "-sigopt",
            DISTID_SIG,
            "-signature",
            "s",
            "m",
        ],
    );
    assert!(out.contains("Verified OK"));
}

#[test]
fn openssl_pkcs12_modern_and_legacy_import() {
    let ca = DemoCa::new("PKCS12 试验").unwrap();
    let signer = ca.issue("p12 signer", Role::Signer, 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), signer.key.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("c.pem"),
        Cert::from_der(&signer.cert_der).unwrap().to_pem(),
    )
    .unwrap();
    for (name, extra) in [("modern.p12", vec![]), ("legacy.p12", vec!["-legacy"])] {
        let mut args = vec![
            "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", "pass:pw", "-name",
            "sealer", "-out", name,
        ];
        args.extend(extra);
        openssl_ok(dir.path(), &args);
        let got = ses::pkcs12::parse(&std::fs::read(dir.path().join(name)).unwrap(), "pw").unwrap();
        assert_eq!(
            got.key.public_key_sec1(),
            signer.key.public_key_sec1(),
            "{name}"
        );
        assert_eq!(
            got.key_certificate(),
            Some(signer.cert_der.as_slice()),
            "{name}"
        );
        assert_eq!(got.alias.as_deref(), Some("sealer"));
    }
}

#[test]
fn demo_ca_chain_verifies_in_openssl_and_here_r_7_1d() {
    let ca = DemoCa::new("某计量院").unwrap();
    let maker = ca.issue("制章者", Role::SealMaker, 365).unwrap();
    let root = ca.root_cert().unwrap();
    let leaf = Cert::from_der(&maker.cert_der).unwrap();
    assert!(
        root.subject().contains("试用 TEST") && leaf.subject().contains("试用 TEST"),
        "R-7.1d mark: {}",
        leaf.subject()
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), root.to_pem()).unwrap();
    std::fs::write(dir.path().join("leaf.pem"), leaf.to_pem()).unwrap();
    let out = openssl_ok(
        dir.path(),
        &[
            "verify", "-vfyopt", DISTID_SIG, "-CAfile", "root.pem", "leaf.pem",
        ],
    );
    assert!(out.contains("leaf.pem: OK"), "{out}");
    let text = openssl_ok(dir.path(), &["x509", "-in", "leaf.pem", "-text", "-noout"]);
    assert!(
        text.contains("SM2-with-SM3") || text.contains("1.2.156.10197.1.501"),
        "{text}"
    );

    let mut ts = TrustStore::new();
    ts.add_root(root.clone());
    assert!(matches!(
        ts.validate(&leaf, &[], ses::pki::now()),
        ChainStatus::Valid { .. }
    ));
    // Outside validity.
    assert!(matches!(
        ts.validate(&leaf, &[], ses::pki::now() + 400 * 86400),
        ChainStatus::OutOfValidity { .. }
    ));
    // A different root: no path.
    let other = DemoCa::new("别的").unwrap();
    let mut ts2 = TrustStore::new();
    ts2.add_root(other.root_cert().unwrap());
    assert!(matches!(
        ts2.validate(&leaf, &[], ses::pki::now()),
        ChainStatus::NoPath { .. }
    ));
    assert_eq!(
        TrustStore::new().validate(&leaf, &[], ses::pki::now()),
        ChainStatus::NoRootConfigured
    );

    // CRL: OpenSSL 3.0 verifies CRL signatures without an SM2 ID option, so it cannot check an
    // SM2 CRL made with the default ID; it is the oracle for the CRL's content and for the
    // signature over its TBS bytes (checked with `dgst`, which takes the ID).
    let crl_der = ca.crl(&[&leaf], ses::pki::now() - 10).unwrap();
    std::fs::write(dir.path().join("crl.der"), &crl_der).unwrap();
    openssl_ok(
        dir.path(),
        &["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"],
    );
    let text = openssl_ok(dir.path(), &["crl", "-in", "crl.pem", "-text", "-noout"]);
    assert!(
        text.to_uppercase()
            .contains(&leaf.serial_hex().to_uppercase()),
        "{text}"
    );
    openssl_ok(
        dir.path(),
        &[
            "asn1parse",
            "-inform",
            "DER",
            "-in",
            "crl.der",
            "-strparse",
            "4",
            "-noout",
            "-out",
            "crl.tbs",
        ],
    );
    let sig_hex = openssl_ok(
        dir.path(),
        &["asn1parse", "-inform", "DER", "-in", "crl.der"],
    );
    let last_bitstring = sig_hex
        .lines()
        .rfind(|l| l.contains("BIT STRING"))
        .unwrap()
        .to_string();
    let off: usize = last_bitstring
        .split(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // BIT STRING header is 2 or 3 bytes + 1 unused-bits byte.
    let hl: usize = last_bitstring
        .split("hl=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    std::fs::write(dir.path().join("crl.sig"), &crl_der[off + hl + 1..]).unwrap();
    openssl_ok(
        dir.path(),
        &[
            "x509",
            "-in",
            "root.pem",
            "-pubkey",
            "-noout",
            "-out",
            "rootpub.pem",
        ],
    );
    let out = openssl_ok(
        dir.path(),
        &[
            "dgst",
            "-sm3",
            "-verify",
            "rootpub.pem",
            "-sigopt",
            DISTID_SIG,
            "-signature",
            "crl.sig",
            "crl.tbs",
        ],
    );
    assert!(out.contains("Verified OK"), "{out}");
    ts.add_crl(Crl::from_pem_or_der(&std::fs::read(dir.path().join("crl.pem")).unwrap()).unwrap());
    assert!(matches!(
        ts.validate(&leaf, &[], ses::pki::now()),
        ChainStatus::Revoked { .. }
    ));
    // A CRL for another certificate leaves this one valid.
    let other_leaf = Cert::from_der(&ca.issue("别人", Role::Signer, 10).unwrap().cert_der).unwrap();
    let mut ts3 = TrustStore::new();
    ts3.add_root(root);
    ts3.add_crl(Crl::from_der(&ca.crl(&[&other_leaf], ses::pki::now()).unwrap()).unwrap());
    assert!(matches!(
        ts3.validate(&leaf, &[], ses::pki::now()),
        ChainStatus::Valid { .. }
    ));
}

#[test]
fn openssl_made_ca_and_leaf_validate_here() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_ok(d, &["genpkey", "-algorithm", "SM2", "-out", "ca.key"]);
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "ca.key",
            "-sm3",
            "-sigopt",
            DISTID_SIG,
            "-subj",
            "/CN=TEST openssl root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-out",
            "ca.pem",
        ],
    );
    openssl_ok(d, &["genpkey", "-algorithm", "SM2", "-out", "leaf.key"]);
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-sm3",
            "-sigopt",
            DISTID_SIG,
            "-subj",
            "/CN=TEST openssl leaf",
            "-out",
            "leaf.csr",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sm3",
            "-sigopt",
            DISTID_SIG,
            "-vfyopt",
            DISTID_SIG,
            "-days",
            "10",
            "-out",
            "leaf.pem",
        ],
    );
    let root = Cert::from_pem_bundle(&std::fs::read_to_string(d.join("ca.pem")).unwrap())
        .unwrap()
        .remove(0);
    let leaf = Cert::from_pem_bundle(&std::fs::read_to_string(d.join("leaf.pem")).unwrap())
        .unwrap()
        .remove(0);
    let mut ts = TrustStore::new();
    ts.add_root(root);
    assert!(
        matches!(
            ts.validate(&leaf, &[], ses::pki::now()),
            ChainStatus::Valid { .. }
        ),
        "{:?}",
        ts.validate(&leaf, &[], ses::pki::now())
    );
}
