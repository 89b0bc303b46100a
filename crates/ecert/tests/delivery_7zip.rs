//! R-7.2.3c: the encrypted package opens with Debian's 7-Zip (an outside
//! implementation of WinZip AES), with the right password only; each entry is AES-256; Chinese
//! file names come out as they went in; the extracted bytes have the SM3 of the originals.

mod portal_support;

use ecert::service::delivery::{KeyPolicy, Package, encrypted_zip, generate_shown_password};
use portal_support::{seven_zip_extract, seven_zip_list};

/// Two real sealed OFD files from the fixtures (ofdrw's samples; provenance in
/// fixtures/README.md), under the names certificates get.
fn certificates() -> Vec<(String, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw/");
    vec![
        (
            "检定证书-JD2024-000123-数字压力计-SN001.ofd".to_owned(),
            std::fs::read(format!("{root}v4signed.ofd")).expect("fixture"),
        ),
        (
            "校准证书-JZ2024-000456-电子天平-SN002.ofd".to_owned(),
            std::fs::read(format!("{root}SESV4SignDoc.ofd")).expect("fixture"),
        ),
    ]
}

#[test]
fn r_7_2_3_seven_zip_extracts_both_certificates_with_the_password() {
    let certs = certificates();
    let files: Vec<(&str, &[u8])> = certs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    // R-6.1b: a shown password; R-6.1c: the mobile number; both are plain passwords to 7-Zip.
    for password in [generate_shown_password(), "13812345678".to_owned()] {
        let package = Package::new(&files, &password).expect("package");
        assert_eq!(package.sm3, ecert_store::sm3(&package.bytes));
        let dir = tempfile::tempdir().expect("tmp");
        let out = seven_zip_extract(&package.bytes, &password, dir.path());
        assert!(
            out.status.success(),
            "7z x failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .expect("out")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = certs.iter().map(|(n, _)| n.clone()).collect();
        expected.sort();
        assert_eq!(names, expected, "UTF-8 names extract as they are");
        for (name, bytes) in &certs {
            let got = std::fs::read(dir.path().join("out").join(name)).expect("extracted");
            assert_eq!(ecert_store::sm3(&got), ecert_store::sm3(bytes), "{name}");
            assert_eq!(&got, bytes);
        }
    }
}

#[test]
fn r_7_2_3_a_wrong_password_does_not_open_it() {
    let certs = certificates();
    let files: Vec<(&str, &[u8])> = certs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let zip = encrypted_zip(&files, "482913").expect("zip");
    for wrong in ["482914", "", "4829130"] {
        let dir = tempfile::tempdir().expect("tmp");
        let out = seven_zip_extract(&zip, wrong, dir.path());
        assert!(!out.status.success(), "7z opened it with {wrong:?}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("Wrong password"), "{text}");
        // Nothing readable came out: any file left is not the certificate.
        for (name, bytes) in &certs {
            let got = std::fs::read(dir.path().join("out").join(name)).unwrap_or_default();
            assert_ne!(&got, bytes);
        }
    }
}

#[test]
fn r_7_2_3_every_entry_is_aes_256() {
    let certs = certificates();
    let files: Vec<(&str, &[u8])> = certs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let zip = encrypted_zip(&files, "p@ss 词").expect("zip");
    let dir = tempfile::tempdir().expect("tmp");
    let entries = seven_zip_list(&zip, "p@ss 词", dir.path());
    assert_eq!(entries.len(), 2, "{entries:?}");
    for (entry, (name, bytes)) in entries.iter().zip(&certs) {
        assert_eq!(entry.get("Path"), Some(name), "{entry:?}");
        assert_eq!(entry.get("Encrypted").map(String::as_str), Some("+"));
        let method = entry.get("Method").map(String::as_str).unwrap_or_default();
        assert!(method.contains("AES-256"), "{entry:?}");
        assert!(method.contains("Store"), "stored, not deflated: {entry:?}");
        assert_eq!(entry.get("Size"), Some(&bytes.len().to_string()));
    }
    // A non-ASCII password works too, as UTF-8 (what 7-Zip uses for AES).
    let out = seven_zip_extract(&zip, "p@ss 词", dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn r_6_1_policy_names_round_trip_through_configuration() {
    for p in [
        KeyPolicy::IdentityCode,
        KeyPolicy::Shown,
        KeyPolicy::Mobile,
        KeyPolicy::Chosen,
    ] {
        let v = serde_json::to_value(p).expect("json");
        assert_eq!(v, p.name());
        assert_eq!(serde_json::from_value::<KeyPolicy>(v).expect("back"), p);
        assert!(p.clause().starts_with("R-6.1"));
    }
}
