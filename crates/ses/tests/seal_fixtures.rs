//! Reading seals and signatures made elsewhere (ofdrw fixtures v1/v4/v5, the tax-system invoice)
//! and making our own v4 seals and signatures, checked with `openssl asn1parse` and `openssl dgst`.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use der::Decode;
use ses::demo::{DemoCa, Role};
use ses::pki::Cert;
use ses::seal::{self, Picture, PictureFormat, SealParams, SesVersion, SignerBinding};

fn user_cert() -> Vec<u8> {
    ses::pkcs12::parse(&fixture_bytes("USER.p12"), "777777")
        .unwrap()
        .key_certificate()
        .unwrap()
        .to_vec()
}

#[test]
fn reads_ofdrw_v4_seal_and_maker_signature_verifies() {
    let der = fixture_bytes("UserV4.esl");
    let s = seal::parse_seal(&der).unwrap();
    assert_eq!(s.version, SesVersion::V4);
    assert_eq!(s.vid, "OFDR&WTest");
    assert_eq!(s.seal_type, 3);
    assert_eq!(
        (s.picture_type.as_str(), s.width_mm, s.height_mm),
        ("PNG", 40, 40)
    );
    assert_eq!(seal::png_size(&s.picture), Some((400, 400)));
    assert_eq!(ses::pki::format_time(s.valid_end), "2022-04-22T02:09:00Z");
    s.verify_maker().unwrap();
    assert!(s.binds_signer(&user_cert()));
    assert!(matches!(s.signers, SignerBinding::Certs(ref v) if v.len() == 1));
    // Round trip: our DER types re-encode the fixture byte for byte.
    let typed = ses::asn1::SesSealV4::from_der(&der).unwrap();
    assert_eq!(der::Encode::to_der(&typed).unwrap(), der);
}

#[test]
fn reads_ofdrw_v1_seal_and_maker_signature_verifies() {
    let s = seal::parse_seal(&fixture_bytes("UserV1.esl")).unwrap();
    assert_eq!(s.version, SesVersion::V1);
    assert_eq!(s.name, "OFDRW测试用印章");
    s.verify_maker().unwrap();
    assert!(s.binds_signer(&user_cert()));
}

#[test]
fn reads_ofdrw_v5_seal() {
    let s = seal::parse_seal(&fixture_bytes("UserV5.esl")).unwrap();
    assert_eq!(s.version, SesVersion::V5);
    assert_eq!(s.vid, "OFDR&WTestV5");
    s.verify_maker().unwrap();
}

#[test]
fn tampered_seal_fails_maker_check() {
    let mut der = fixture_bytes("UserV4.esl");
    // The seal name is at offset 70 (UTF8String header) — change one byte of "OFD R&W".
    der[73] ^= 0x01;
    let s = seal::parse_seal(&der).unwrap();
    assert!(s.verify_maker().is_err());
}

fn picture() -> Picture {
    Picture {
        format: PictureFormat::Svg,
        data: r#"<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="40mm" viewBox="0 0 40 40"><circle cx="20" cy="20" r="19" fill="none" stroke="red" stroke-width="1.5"/><text x="20" y="22" font-size="4" text-anchor="middle" fill="red">试用 TEST</text></svg>"#.as_bytes().to_vec(),
        width_mm: 40,
        height_mm: 40,
    }
}

#[test]
fn our_v4_seal_and_signature_read_back_and_openssl_agrees() {
    let ca = DemoCa::new("测试院").unwrap();
    let maker = ca.issue("制章者", Role::SealMaker, 365).unwrap();
    let signer = ca.issue("签章人", Role::Signer, 365).unwrap();
    let now = ses::pki::now();
    let params = SealParams {
        vid: "ecert".into(),
        es_id: "TEST-0001".into(),
        seal_type: 3,
        name: "试用 TEST 校准电子证书专用章".into(),
        signer_certs: vec![signer.cert_der.clone()],
        created: now,
        valid_start: now - 60,
        valid_end: now + 86400 * 365,
        picture: picture(),
    };
    let seal_der = seal::make_seal(&params, &maker).unwrap();
    let s = seal::parse_seal(&seal_der).unwrap();
    assert_eq!(s.version, SesVersion::V4);
    s.verify_maker().unwrap();
    assert!(s.binds_signer(&signer.cert_der));
    assert!(!s.binds_signer(&maker.cert_der));

    let hash = ses::sm::sm3(b"<Signature/>");
    let sig_der = seal::make_signature_v4(
        &seal_der,
        &hash,
        "/Doc_0/Signs/Sign_0/Signature.xml",
        now,
        &signer,
        None,
    )
    .unwrap();
    let v = seal::parse_signature(&sig_der).unwrap();
    assert_eq!(v.version, SesVersion::V4);
    assert_eq!(v.data_hash, hash);
    assert_eq!(v.seal.der, seal_der);
    v.verify_signer().unwrap();

    // OpenSSL parses both structures …
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seal.esl"), &seal_der).unwrap();
    std::fs::write(dir.path().join("sv.dat"), &sig_der).unwrap();
    let text = openssl_ok(
        dir.path(),
        &["asn1parse", "-inform", "DER", "-in", "seal.esl", "-i"],
    );
    assert!(
        text.contains(":ES") && text.contains("SM2-with-SM3") && text.contains("GENERALIZEDTIME"),
        "{text}"
    );
    let text = openssl_ok(
        dir.path(),
        &["asn1parse", "-inform", "DER", "-in", "sv.dat", "-i"],
    );
    assert!(text.contains("/Doc_0/Signs/Sign_0/Signature.xml"), "{text}");
    // … and verifies the maker's signature over DER(SES_SealInfo) (strparse offset 4: the first
    // element) and the signer's over DER(TBS_Sign).
    for (file, signed, key_cert, sig) in [
        (
            "seal.esl",
            "info.der",
            &maker.cert_der,
            s.signed_value.clone(),
        ),
        ("sv.dat", "tbs.der", &signer.cert_der, v.signature.clone()),
    ] {
        openssl_ok(
            dir.path(),
            &[
                "asn1parse",
                "-inform",
                "DER",
                "-in",
                file,
                "-strparse",
                "4",
                "-noout",
                "-out",
                signed,
            ],
        );
        std::fs::write(
            dir.path().join("c.pem"),
            Cert::from_der(key_cert).unwrap().to_pem(),
        )
        .unwrap();
        openssl_ok(
            dir.path(),
            &["x509", "-in", "c.pem", "-pubkey", "-noout", "-out", "p.pem"],
        );
        std::fs::write(dir.path().join("s.bin"), &sig).unwrap();
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
                "s.bin",
                signed,
            ],
        );
        assert!(out.contains("Verified OK"), "{file}: {out}");
    }
}

#[test]
fn seal_params_are_validated() {
    let ca = DemoCa::new("测试院").unwrap();
    let maker = ca.issue("制章者", Role::SealMaker, 365).unwrap();
    let now = ses::pki::now();
    let mut p = SealParams {
        vid: "ecert".into(),
        es_id: "X".into(),
        seal_type: 3,
        name: "n".into(),
        signer_certs: vec![maker.cert_der.clone()],
        created: now,
        valid_start: now,
        valid_end: now + 10,
        picture: picture(),
    };
    p.picture.format = PictureFormat::Png;
    assert!(
        seal::make_seal(&p, &maker).is_err(),
        "SVG bytes declared as PNG"
    );
    p.picture = picture();
    p.picture.width_mm = 0;
    assert!(seal::make_seal(&p, &maker).is_err());
    p.picture = picture();
    p.es_id = "印章".into();
    assert!(seal::make_seal(&p, &maker).is_err(), "esID must be IA5");
}
