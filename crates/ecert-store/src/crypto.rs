//! SM3 hashing, random identifiers and SM4-GCM encryption of key data at rest (R-7.2.3d).
//!
//! Encryption: SM4 in GCM mode (`AesGcm<Sm4, U12>`, RFC 8998), a 128-bit master key, a fresh
//! random 96-bit nonce per record, and associated data that binds each ciphertext to its table,
//! record and purpose, so that a ciphertext copied into another row fails authentication.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use sm3::{Digest, Sm3};
use sm4::Sm4;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Result, StoreError};

type Sm4Gcm = AesGcm<Sm4, U12>;

/// Name of the algorithm recorded beside each ciphertext.
pub(crate) const KEY_ALG: &str = "SM4-GCM";

/// SM3 of `data` (GB/T 32905).
pub fn sm3(data: &[u8]) -> [u8; 32] {
    Sm3::digest(data).into()
}

/// SM3 of a verification token as stored: the token itself is never stored, only this hash.
pub fn token_hash(token: &str) -> [u8; 32] {
    sm3(token.as_bytes())
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Parses hexadecimal (either case); `None` on odd length or a non-hex character.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [h, l] => Some(nibble(*h)? << 4 | nibble(*l)?),
            _ => None,
        })
        .collect()
}

/// Fills a buffer from the operating system's generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(b)
}

/// A random 128-bit record id, as 32 hex characters.
pub(crate) fn new_id() -> Result<String> {
    Ok(hex(&random_bytes::<16>()?))
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 128-bit SM4 master key that protects key data at rest (R-7.2.3d).
///
/// It never lives in the database: the application reads it from a key file or the environment
/// and hands it to the calls that need it. Its bytes are wiped when dropped.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 16]>);

impl MasterKey {
    /// A key from 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from 32 hex characters (surrounding white space ignored).
    pub fn from_hex(s: &str) -> Result<Self> {
        let mut v = parse_hex(s).ok_or_else(|| StoreError::Invalid {
            field: "master key",
            problem: "not hexadecimal".into(),
        })?;
        let arr: Result<[u8; 16]> = v.as_slice().try_into().map_err(|_| StoreError::Invalid {
            field: "master key",
            problem: format!("{} bytes, expected 16 (32 hex characters)", v.len()),
        });
        v.zeroize();
        Ok(Self::from_bytes(arr?))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_bytes(random_bytes::<16>()?))
    }

    /// The key as 32 hex characters (for writing a key file).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(&self.0[..]))
    }

    fn cipher(&self) -> Sm4Gcm {
        Sm4Gcm::new(&(*self.0).into())
    }

    /// Encrypts `plaintext` with a fresh nonce; returns (nonce, ciphertext ‖ tag).
    pub(crate) fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<([u8; 12], Vec<u8>)> {
        let nonce = random_bytes::<12>()?;
        let ct = self
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| StoreError::Random("SM4-GCM encryption failed".into()))?;
        Ok((nonce, ct))
    }

    /// Decrypts; `None` when authentication fails (wrong key or altered data).
    pub(crate) fn decrypt(
        &self,
        aad: &[u8],
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.cipher()
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

/// Associated data binding a ciphertext to its place: `purpose ‖ 0 ‖ record id`.
pub(crate) fn aad(purpose: &str, id: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(purpose.len() + 1 + id.len());
    v.extend_from_slice(purpose.as_bytes());
    v.push(0);
    v.extend_from_slice(id.as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_abc_matches_the_standard_example() {
        // GB/T 32905-2016 Appendix A.1: SM3("abc").
        assert_eq!(
            hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn sm4_gcm_matches_rfc8998_a1() {
        // RFC 8998 Appendix A.1 (SM4-GCM test vector).
        let key = parse_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let nonce: [u8; 12] = parse_hex("00001234567800000000ABCD")
            .unwrap()
            .try_into()
            .unwrap();
        let aad = parse_hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let pt = parse_hex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let k = MasterKey::from_bytes(key.try_into().unwrap());
        let ct = k
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &pt,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(
            hex(&ct),
            "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735\
             d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d\
             83de3541e4c2b58177e065a9bf7b62ec"
        );
        let back = k.decrypt(&aad, &nonce, &ct).unwrap();
        assert_eq!(&back[..], &pt[..]);
    }

    #[test]
    fn r_7_2_3d_wrong_key_or_other_aad_fails() {
        let k1 = MasterKey::generate().unwrap();
        let k2 = MasterKey::generate().unwrap();
        let (n, ct) = k1.encrypt(b"seal\0a", b"secret key").unwrap();
        assert!(k1.decrypt(b"seal\0a", &n, &ct).is_some());
        assert!(k2.decrypt(b"seal\0a", &n, &ct).is_none());
        assert!(k1.decrypt(b"seal\0b", &n, &ct).is_none());
        // A fresh nonce each time.
        let (n2, ct2) = k1.encrypt(b"seal\0a", b"secret key").unwrap();
        assert_ne!(n, n2);
        assert_ne!(ct, ct2);
    }

    #[test]
    fn hex_round_trip_and_master_key_parsing() {
        assert_eq!(
            parse_hex(&hex(&[0, 1, 0xab, 0xff])).unwrap(),
            vec![0, 1, 0xab, 0xff]
        );
        assert!(parse_hex("abc").is_none());
        assert!(parse_hex("zz").is_none());
        let k = MasterKey::generate().unwrap();
        let k2 = MasterKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(k.0[..], k2.0[..]);
        assert!(matches!(
            MasterKey::from_hex("0011"),
            Err(StoreError::Invalid {
                field: "master key",
                ..
            })
        ));
    }

    #[test]
    fn ct_eq_compares() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
