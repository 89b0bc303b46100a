//! Request signatures of the business-system API (R-7.2.2c).
//!
//! Each client has its own credential: a secret (created with `ecert api-client add NAME`,
//! stored only encrypted, R-7.2.3d), or an SM2 public key whose private key only the client
//! holds (`ecert api-client add NAME --sm2-public-key pub.pem`: the signatures then also prove
//! to a third party which client sent a request). A request carries four headers:
//!
//! | header | value |
//! |---|---|
//! | `X-Ecert-Client` | the client's name |
//! | `X-Ecert-Timestamp` | Unix time in seconds; refused when more than 5 minutes off |
//! | `X-Ecert-Nonce` | 16–128 characters `[A-Za-z0-9_-]`, never reused by this client |
//! | `X-Ecert-Signature` | secret: lower-case hex HMAC-SM3 (key: the secret's bytes) of the string below; SM2 key: base64 of the DER SM2 signature (SM3, user ID `1234567812345678`, GB/T 35276) of the string below |
//!
//! The signed string is five lines joined by `\n`, the first naming the scheme
//! (`ECERT-HMAC-SM3` or `ECERT-SM2-SM3`):
//!
//! ```text
//! ECERT-HMAC-SM3
//! {METHOD}
//! {path and query, exactly as sent}
//! {timestamp}
//! {nonce}
//! {lower-case hex SM3 of the body (of the empty string when there is none)}
//! ```

use hmac::{KeyInit, Mac};

/// Header naming the client.
pub const HEADER_CLIENT: &str = "x-ecert-client";
/// Header with the Unix time (seconds).
pub const HEADER_TIMESTAMP: &str = "x-ecert-timestamp";
/// Header with the request nonce.
pub const HEADER_NONCE: &str = "x-ecert-nonce";
/// Header with the signature.
pub const HEADER_SIGNATURE: &str = "x-ecert-signature";
/// Header with the idempotency key of an issuing request.
pub const HEADER_IDEMPOTENCY: &str = "idempotency-key";

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// First line of the string signed with a shared secret.
pub const SCHEME_HMAC: &str = "ECERT-HMAC-SM3";
/// First line of the string signed with a client's SM2 key.
pub const SCHEME_SM2: &str = "ECERT-SM2-SM3";

/// The string a client with a shared secret signs.
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    string_for(SCHEME_HMAC, method, path_and_query, timestamp, nonce, body)
}

/// The string a client with an SM2 key signs.
pub fn string_to_sign_sm2(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    string_for(SCHEME_SM2, method, path_and_query, timestamp, nonce, body)
}

fn string_for(
    scheme: &str,
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{scheme}\n{}\n{path_and_query}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        ecert_store::hex(&ecert_store::sm3(body))
    )
}

/// The signature header's value for a request signed with an SM2 key (what such a client
/// computes): base64 of the DER signature of [`string_to_sign_sm2`].
pub fn sign_sm2(
    key: &ses::sm::Sm2KeyPair,
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Result<String, ses::Error> {
    use base64::Engine as _;
    let text = string_to_sign_sm2(method, path_and_query, timestamp, nonce, body);
    let sig = key.sign_der(text.as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig))
}

/// Checks an SM2 signature header (base64 DER) against the client's public key
/// (SubjectPublicKeyInfo DER).
pub fn verify_sm2(
    spki_der: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature_b64: &str,
) -> bool {
    use base64::Engine as _;
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
        return false;
    };
    let text = string_to_sign_sm2(method, path_and_query, timestamp, nonce, body);
    ses::sm::verify_spki_der(spki_der, text.as_bytes(), &sig).is_ok()
}

fn mac(secret: &[u8], text: &str) -> HmacSm3 {
    // HMAC takes keys of any length.
    let mut m = <HmacSm3 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(text.as_bytes());
    m
}

/// The signature header's value for a request (what a client computes).
pub fn sign(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    let text = string_to_sign(method, path_and_query, timestamp, nonce, body);
    ecert_store::hex(&mac(secret, &text).finalize().into_bytes())
}

/// Checks a signature in constant time.
pub fn verify(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature_hex: &str,
) -> bool {
    let Some(sig) = ecert_store_parse_hex(signature_hex) else {
        return false;
    };
    let text = string_to_sign(method, path_and_query, timestamp, nonce, body);
    mac(secret, &text).verify_slice(&sig).is_ok()
}

fn ecert_store_parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// True for an acceptable nonce.
pub fn nonce_ok(nonce: &str) -> bool {
    (16..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature is HMAC (RFC 2104) over SM3, checked against an independent computation:
    /// H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)) with SM3's 64-byte block.
    #[test]
    fn hmac_sm3_matches_the_rfc_2104_construction() {
        let key = b"ecs_0123456789abcdef0123456789abcdef";
        let text = string_to_sign(
            "post",
            "/api/v1/certificates",
            "1700000000",
            "n0nce-n0nce-n0nce",
            b"{}",
        );
        assert!(text.starts_with("ECERT-HMAC-SM3\nPOST\n/api/v1/certificates\n1700000000\n"));
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(text.bytes()).collect();
        let inner_hash = ecert_store::sm3(&inner);
        let outer: Vec<u8> = k
            .iter()
            .map(|b| b ^ 0x5c)
            .chain(inner_hash.iter().copied())
            .collect();
        let expected = ecert_store::hex(&ecert_store::sm3(&outer));
        let got = sign(
            key,
            "POST",
            "/api/v1/certificates",
            "1700000000",
            "n0nce-n0nce-n0nce",
            b"{}",
        );
        assert_eq!(got, expected);
        assert!(verify(
            key,
            "POST",
            "/api/v1/certificates",
            "1700000000",
            "n0nce-n0nce-n0nce",
            b"{}",
            &got
        ));
        assert!(!verify(
            key,
            "POST",
            "/api/v1/certificates",
            "1700000000",
            "n0nce-n0nce-n0nce",
            b"{ }",
            &got
        ));
        assert!(!verify(
            key,
            "POST",
            "/api/v1/certificates",
            "1700000000",
            "n0nce-n0nce-n0nce",
            b"{}",
            "zz"
        ));
    }

    #[test]
    fn nonces_are_bounded() {
        assert!(nonce_ok("abcdefghijklmnop"));
        assert!(!nonce_ok("short"));
        assert!(!nonce_ok("abcdefghijklmnop\n"));
    }
}
