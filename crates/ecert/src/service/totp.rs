//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 30-second steps,
//! 6 digits): the second factor of the staff accounts that approve or manage seals. Any
//! authenticator app reads the `otpauth://` URI ([`provisioning_uri`]); the secret is 20 random
//! bytes, written in base32 (RFC 4648, no padding) as the apps expect.
//!
//! A code is accepted for the current step or the one before or after (clock skew of a phone),
//! and never for a step at or before the last one accepted ([`verify`]'s `last_step`): a code
//! seen once cannot be replayed.

use hmac::{KeyInit, Mac};

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Length of a new secret in bytes (160 bits, RFC 4226's recommendation).
pub const SECRET_LEN: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648) without padding.
pub fn base32(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Reads base32 (upper or lower case, spaces and `=` ignored); `None` for another character.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !matches!(c, b' ' | b'=' | b'-')) {
        let v = BASE32.iter().position(|x| *x == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// RFC 4226 HOTP of `counter` with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length.
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The step of a Unix time.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The code of the step that holds `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    format!("{:06}", hotp(secret, step_of(unix_secs), DIGITS))
}

/// Checks `code` at `unix_secs` against the step before, the current and the next one, never
/// at or before `last_step` (the last step accepted for this secret). Returns the step matched,
/// to be stored as the new `last_step`.
pub fn verify(secret: &[u8], code: &str, unix_secs: u64, last_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        let right = format!("{:06}", hotp(secret, step, DIGITS));
        let same = right
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && last_step.is_none_or(|l| step > l) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app reads (as text or a QR code).
pub fn provisioning_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = crate::web::enc;
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA1 rows (8 digits, the RFC's 20-byte ASCII seed).
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (t, want) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(hotp(seed, step_of(t), 8), want, "T = {t}");
        }
    }

    /// RFC 4226 appendix D: HOTP values for counters 0..9.
    #[test]
    fn rfc_4226_test_vectors() {
        let seed = b"12345678901234567890";
        let want = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (c, w) in want.iter().enumerate() {
            assert_eq!(hotp(seed, c as u64, 6), *w, "counter {c}");
        }
    }

    #[test]
    fn base32_round_trips_rfc_4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), enc);
            assert_eq!(from_base32(enc).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(from_base32("mzxw 6==").as_deref(), Some(b"foo".as_slice()));
        assert_eq!(from_base32("MZ1"), None);
    }

    #[test]
    fn a_code_is_accepted_once_within_one_step_of_skew() {
        let secret = b"12345678901234567890";
        let t = 1_234_567_890;
        let code = code_at(secret, t);
        let step = verify(secret, &code, t, None).expect("current step");
        // The phone a step behind or ahead still works.
        assert!(verify(secret, &code, t + STEP_SECS, None).is_some());
        assert!(verify(secret, &code, t - STEP_SECS, None).is_some());
        assert!(verify(secret, &code, t + 3 * STEP_SECS, None).is_none());
        // Replay: the same code (or an older one) after it was accepted.
        assert_eq!(verify(secret, &code, t, Some(step)), None);
        assert_eq!(verify(secret, "12345", t, None), None);
        assert_eq!(verify(secret, "abcdef", t, None), None);
    }

    #[test]
    fn provisioning_uri_names_issuer_account_and_secret() {
        let uri = provisioning_uri("示例计量院", "li.approver", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/%E7%A4%BA"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("digits=6&period=30"), "{uri}");
    }
}
