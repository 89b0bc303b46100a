//! The tampered-variant corpus: our own sealed sample, altered in every way a forger could try, each
//! variant rejected with the right check named (R-7.1a, R-7.1b). The generator is this file:
//! every variant is derived from a freshly sealed file at test time.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use ses::sign::SignMode;
use ses::verify::{CheckId, Indication, Report, VerifyOptions, verify_bytes};

fn verify(zip: &[u8], m: &Material) -> Report {
    verify_bytes(
        zip,
        &VerifyOptions {
            trust: m.trust.clone(),
            validation_time: None,
        },
    )
    .unwrap()
}

fn open(zip: &[u8]) -> ofd::Package {
    ofd::Package::from_zip(zip, &ofd::Limits::default()).unwrap()
}

fn close(p: &ofd::Package) -> Vec<u8> {
    p.to_zip().unwrap()
}

/// Asserts FAILED and that `(signature id or "package", check)` is among the failed checks.
fn rejected(name: &str, rep: &Report, sig: &str, check: CheckId) {
    assert_eq!(
        rep.indication(),
        Indication::Failed,
        "{name}: not rejected:\n{}",
        rep.to_text()
    );
    let failed = rep.failed_checks();
    assert!(
        failed.contains(&(sig.to_string(), check)),
        "{name}: expected {sig}/{} among {failed:?}\n{}",
        check.name(),
        rep.to_text()
    );
}

fn edit(zip: &[u8], f: impl FnOnce(&mut ofd::Package)) -> Vec<u8> {
    let mut p = open(zip);
    f(&mut p);
    close(&p)
}

fn replace_text(p: &mut ofd::Package, path: &str, from: &str, to: &str) {
    let s = String::from_utf8(p.get(path).unwrap().to_vec()).unwrap();
    assert!(s.contains(from), "{path} lacks {from:?}");
    p.insert(path, s.replacen(from, to, 1).into_bytes())
        .unwrap();
}

const SIG: &str = "Doc_0/Signs/Sign_0/Signature.xml";
const SV: &str = "Doc_0/Signs/Sign_0/SignedValue.dat";
const SEAL: &str = "Doc_0/Signs/Sign_0/Seal.esl";
const SIGS: &str = "Doc_0/Signs/Signatures.xml";

#[test]
fn the_untampered_file_passes() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    assert_eq!(verify(&good, &m).indication(), Indication::Passed);
}

/// One byte changed in every file of the package, one variant per file.
#[test]
fn a_byte_changed_in_each_kind_of_file() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let paths: Vec<String> = open(&good).paths().map(str::to_string).collect();
    assert!(
        paths.len() >= 12,
        "the sample has fonts, images, pages, tags, attachments: {paths:?}"
    );
    for path in paths {
        let bad = edit(&good, |p| {
            let mut d = p.get(&path).unwrap().to_vec();
            // SignedValue.dat: the last byte is inside the signature's s value; elsewhere the middle.
            let i = if path == SV { d.len() - 1 } else { d.len() / 2 };
            d[i] ^= 0x01;
            p.insert(&path, d).unwrap();
        });
        let expected = match path.as_str() {
            SIG => CheckId::DataHash,
            SV => CheckId::SignerSignature,
            _ => CheckId::ReferenceHashes,
        };
        let rep = verify(&bad, &m);
        if path == SIGS
            && rep.signatures_count() == 1
            && rep.signatures()[0].id().starts_with("(unlisted")
        {
            // The list itself became unreadable: the signature beside it is still checked.
            let id = rep.signatures()[0].id().to_owned();
            rejected("byte changed in Signatures.xml", &rep, &id, expected);
            rejected(
                "byte changed in Signatures.xml",
                &rep,
                "package",
                CheckId::Coverage,
            );
            continue;
        }
        rejected(&format!("byte changed in {path}"), &rep, "1", expected);
        if path == SEAL {
            rejected(
                "byte changed in Seal.esl",
                &verify(&bad, &m),
                "1",
                CheckId::SealFileMatch,
            );
        }
    }
}

#[test]
fn an_unsigned_file_added_and_referenced() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let p = open(&good);
    let file = ofd::OfdFile::from_package(p.clone(), &ofd::ReadOptions::default()).unwrap();
    let res = file.ofd.docs[0]
        .document
        .document_res
        .first()
        .or(file.ofd.docs[0].document.public_res.first())
        .unwrap()
        .clone();
    let bad = edit(&good, |p| {
        p.insert("Doc_0/Res/added.png", ofd::sample::sample_png(20))
            .unwrap();
        let s = String::from_utf8(p.get(&res).unwrap().to_vec()).unwrap();
        let close_tag = s.rfind("</ofd:Res>").unwrap();
        let mut s2 = s[..close_tag].to_string();
        s2.push_str("<ofd:MultiMedias><ofd:MultiMedia ID=\"9999\" Type=\"Image\" Format=\"PNG\"><ofd:MediaFile>/Doc_0/Res/added.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias></ofd:Res>");
        p.insert(&res, s2.into_bytes()).unwrap();
    });
    let rep = verify(&bad, &m);
    rejected("added and referenced", &rep, "package", CheckId::Coverage);
    rejected("added and referenced", &rep, "1", CheckId::ReferenceHashes);
    // Added but referenced by nothing: whole-protected mode admits nothing else.
    let bad = edit(&good, |p| {
        p.insert("Doc_0/Res/stowaway.bin", b"x".to_vec()).unwrap()
    });
    rejected(
        "added, unreferenced",
        &verify(&bad, &m),
        "package",
        CheckId::Coverage,
    );
}

#[test]
fn a_signature_record_removed() {
    let m = material();
    // Whole-protected, one signature: the record goes, its files stay behind.
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let bad = edit(&good, |p| {
        let s = String::from_utf8(p.get(SIGS).unwrap().to_vec()).unwrap();
        let start = s.find("<ofd:Signature ").unwrap();
        let end = s[start..].find("/>").unwrap() + start + 2;
        p.insert(SIGS, format!("{}{}", &s[..start], &s[end..]).into_bytes())
            .unwrap();
    });
    rejected(
        "record removed (single)",
        &verify(&bad, &m),
        "package",
        CheckId::Coverage,
    );
    // Two signatures (continue, then whole-protected); the second record is removed.
    let two = seal_zip(
        &seal_zip(&sample_zip(), &m, SignMode::Continue),
        &m,
        SignMode::WholeProtected,
    );
    let bad = edit(&two, |p| {
        let s = String::from_utf8(p.get(SIGS).unwrap().to_vec()).unwrap();
        let start = s.rfind("<ofd:Signature ").unwrap();
        let end = s[start..].find("/>").unwrap() + start + 2;
        p.insert(SIGS, format!("{}{}", &s[..start], &s[end..]).into_bytes())
            .unwrap();
    });
    rejected(
        "second record removed",
        &verify(&bad, &m),
        "package",
        CheckId::Coverage,
    );
}

#[test]
fn a_signature_record_added() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    // A copy of Sign_0 as Sign_1 with a second record.
    let bad = edit(&good, |p| {
        for f in ["Signature.xml", "SignedValue.dat", "Seal.esl"] {
            let d = p.get(&format!("Doc_0/Signs/Sign_0/{f}")).unwrap().to_vec();
            p.insert(&format!("Doc_0/Signs/Sign_1/{f}"), d).unwrap();
        }
        replace_text(
            p,
            SIGS,
            "</ofd:Signatures>",
            "<ofd:Signature ID=\"9\" Type=\"Seal\" BaseLoc=\"/Doc_0/Signs/Sign_1/Signature.xml\"/></ofd:Signatures>",
        );
    });
    let rep = verify(&bad, &m);
    rejected("record added", &rep, "1", CheckId::ReferenceHashes);
    rejected("record added", &rep, "9", CheckId::PropertyInfo);
    // Continue mode: Signatures.xml is unprotected, so the forgery is a duplicate record.
    let cont = seal_zip(&sample_zip(), &m, SignMode::Continue);
    let bad = edit(&cont, |p| {
        replace_text(
            p,
            SIGS,
            "</ofd:Signatures>",
            "<ofd:Signature ID=\"9\" Type=\"Seal\" BaseLoc=\"/Doc_0/Signs/Sign_0/Signature.xml\"/></ofd:Signatures>",
        );
    });
    rejected(
        "duplicate record",
        &verify(&bad, &m),
        "package",
        CheckId::Coverage,
    );
}

#[test]
fn a_seal_or_signed_value_swapped_from_another_file() {
    let m = material();
    let other = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let foreign = open(&seal_zip(&sample_zip(), &other, SignMode::WholeProtected));
    let bad = edit(&good, |p| {
        p.insert(SEAL, foreign.get(SEAL).unwrap().to_vec()).unwrap()
    });
    let rep = verify(&bad, &m);
    rejected("seal swapped", &rep, "1", CheckId::SealFileMatch);
    rejected("seal swapped", &rep, "1", CheckId::ReferenceHashes);
    let bad = edit(&good, |p| {
        p.insert(SV, foreign.get(SV).unwrap().to_vec()).unwrap()
    });
    let rep = verify(&bad, &m);
    rejected(
        "SignedValue from a file sealed with another seal",
        &rep,
        "1",
        CheckId::DataHash,
    );
    rejected(
        "SignedValue from a file sealed with another seal",
        &rep,
        "1",
        CheckId::SealFileMatch,
    );
    // Same seal and signer, another sealing of the same content: Signature.xml differs (time).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let later2 = open(&seal_zip(&sample_zip(), &m, SignMode::WholeProtected));
    let bad = edit(&good, |p| {
        p.insert(SV, later2.get(SV).unwrap().to_vec()).unwrap()
    });
    rejected(
        "SignedValue from another sealing",
        &verify(&bad, &m),
        "1",
        CheckId::DataHash,
    );
}

#[test]
fn hashes_recomputed_without_re_signing() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let page = "Doc_0/Pages/Page_0/Content.xml";
    let step1 = edit(&good, |p| {
        let mut d = p.get(page).unwrap().to_vec();
        let old = ses::xmlsig::b64(&ses::sm::sm3(&d));
        d.extend_from_slice(b"\n<!-- forged -->");
        let new = ses::xmlsig::b64(&ses::sm::sm3(&d));
        p.insert(page, d).unwrap();
        replace_text(p, SIG, &old, &new);
    });
    let rep = verify(&step1, &m);
    rejected("CheckValue recomputed", &rep, "1", CheckId::DataHash);
    assert!(
        !rep.failed_checks()
            .contains(&("1".into(), CheckId::ReferenceHashes)),
        "the references themselves are consistent"
    );
    // And dataHash recomputed inside SignedValue.dat, keeping the old signature.
    let step2 = edit(&step1, |p| {
        use der::{Decode, Encode};
        let mut s = ses::asn1::SesSignatureV4::from_der(p.get(SV).unwrap()).unwrap();
        s.to_sign.data_hash =
            der::asn1::BitString::from_bytes(&ses::sm::sm3(p.get(SIG).unwrap())).unwrap();
        p.insert(SV, s.to_der().unwrap()).unwrap();
    });
    let rep = verify(&step2, &m);
    rejected("dataHash recomputed", &rep, "1", CheckId::SignerSignature);
    assert!(
        !rep.failed_checks()
            .contains(&("1".into(), CheckId::DataHash))
    );
}

#[test]
fn signature_xml_edited() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let bad = edit(&good, |p| {
        replace_text(
            p,
            SIG,
            "Boundary=\"140 230 40 40\"",
            "Boundary=\"10 10 40 40\"",
        )
    });
    rejected("stamp moved", &verify(&bad, &m), "1", CheckId::DataHash);
    // A Reference dropped (its file then is no longer covered either).
    let bad = edit(&good, |p| {
        let s = String::from_utf8(p.get(SIG).unwrap().to_vec()).unwrap();
        let start = s
            .find("<ofd:Reference FileRef=\"/Doc_0/Pages/Page_0/Content.xml\"")
            .unwrap();
        let end = s[start..].find("</ofd:Reference>").unwrap() + start + "</ofd:Reference>".len();
        p.insert(SIG, format!("{}{}", &s[..start], &s[end..]).into_bytes())
            .unwrap();
    });
    let rep = verify(&bad, &m);
    rejected("reference dropped", &rep, "1", CheckId::DataHash);
    rejected("reference dropped", &rep, "package", CheckId::Coverage);
}

// ---- ZIP tricks: a minimal stored-entry ZIP writer that can lie. ----

fn crc32(d: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in d {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Stored ZIP; `local_names` overrides the local-header name of an entry (header mismatch).
fn raw_zip(entries: &[(String, Vec<u8>)], local_names: &[(usize, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (i, (name, data)) in entries.iter().enumerate() {
        let off = out.len() as u32;
        let crc = crc32(data);
        let lname = local_names
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, n)| *n)
            .unwrap_or(name);
        for (buf, nm, is_central) in [
            (&mut out, lname, false),
            (&mut central, name.as_str(), true),
        ] {
            buf.extend_from_slice(if is_central {
                &[0x50, 0x4b, 0x01, 0x02, 20, 0]
            } else {
                &[0x50, 0x4b, 0x03, 0x04]
            });
            buf.extend_from_slice(&[20, 0, 0, 0x08, 0, 0, 0, 0, 0x21, 0]);
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(nm.len() as u16).to_le_bytes());
            buf.extend_from_slice(&[0, 0]);
            if is_central {
                buf.extend_from_slice(&[0; 10]);
                buf.extend_from_slice(&off.to_le_bytes());
            }
            buf.extend_from_slice(nm.as_bytes());
        }
        out.extend_from_slice(data);
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn zip_tricks() {
    let m = material();
    let good = seal_zip(&sample_zip(), &m, SignMode::WholeProtected);
    let entries: Vec<(String, Vec<u8>)> = open(&good)
        .entries()
        .map(|(p, d)| (p.to_string(), d.to_vec()))
        .collect();
    // The writer itself is faithful: the same entries verify.
    assert_eq!(
        verify(&raw_zip(&entries, &[]), &m).indication(),
        Indication::Passed
    );
    let page = "Doc_0/Pages/Page_0/Content.xml";
    let page_idx = entries.iter().position(|(p, _)| p == page).unwrap();
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut dup = entries.clone();
    dup.push((
        page.into(),
        b"<ofd:Page xmlns:ofd=\"http://www.ofdspec.org/2016\"/>".to_vec(),
    ));
    variants.push(("duplicate entry name", raw_zip(&dup, &[])));
    let mut case = entries.clone();
    case.push(("Doc_0/Pages/PAGE_0/Content.xml".into(), b"x".to_vec()));
    variants.push(("case variant", raw_zip(&case, &[])));
    let mut dotdot = entries.clone();
    dotdot.push(("Doc_0/../../evil.xml".into(), b"x".to_vec()));
    variants.push(("parent traversal", raw_zip(&dotdot, &[])));
    let mut abs = entries.clone();
    abs.push(("/etc/evil.xml".into(), b"x".to_vec()));
    variants.push(("absolute path", raw_zip(&abs, &[])));
    variants.push((
        "local/central header disagree",
        raw_zip(&entries, &[(page_idx, "Doc_0/Pages/Page_9/Content.xml")]),
    ));
    for (name, z) in variants {
        let rep = verify(&z, &m);
        rejected(name, &rep, "package", CheckId::ZipAmbiguity);
    }
}
