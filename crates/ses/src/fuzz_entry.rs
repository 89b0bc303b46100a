//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the corpus replay test, so that
//! the committed corpus is exercised by `cargo test` without the fuzzer.

/// DER readers: seals (v1/v4/v5), signatures, typed v4 structures.
pub fn der(data: &[u8]) {
    if let Ok(s) = crate::seal::parse_seal(data) {
        let _ = s.verify_maker();
        let _ = s.binds_signer(data);
    }
    if let Ok(s) = crate::seal::parse_signature(data) {
        let _ = s.verify_signer();
    }
    let _ = <crate::asn1::SesSignatureV4 as der::Decode>::from_der(data);
    let _ = crate::pki::Cert::from_der(data);
    let _ = crate::pki::Crl::from_der(data);
}

/// BER, PKCS#12 and encrypted PKCS#8 readers (iteration counts are capped, so a hostile file
/// cannot stall them for long).
pub fn pkcs12(data: &[u8]) {
    let _ = crate::pkcs12::parse(data, "777777");
    let _ = crate::sm::Sm2KeyPair::from_encrypted_pkcs8_der(data, "pw");
}

/// The verifier.
pub fn verify(data: &[u8]) {
    if let Ok(r) = crate::verify::verify_bytes(data, &crate::verify::VerifyOptions::default()) {
        let _ = r.to_text();
        let _ = r.exit_code();
    }
}
