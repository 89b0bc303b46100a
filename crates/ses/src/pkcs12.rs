//! PKCS#12 (RFC 7292) import: the `.p12`/`.pfx` files in which CAs hand over SM2 keys and
//! certificates (R-7.1d).
//!
//! Reads BER (Java/BouncyCastle write indefinite lengths) as well as DER, verifies the
//! password-based MAC (HMAC-SHA1 or HMAC-SHA256) before anything else, and decrypts
//! `pkcs8ShroudedKeyBag`s and encrypted `SafeContents` with the PKCS#12 PBE ciphers
//! (3DES, RC2-40/128) or PBES2 (AES, SM4). Nothing is written.
//!
//! Defends against: a wrong password going unnoticed (the MAC is checked first), bags of
//! unknown type (ignored, never executed), several keys (rejected as ambiguous).

use crate::ber::{self, Tlv, tag};
use crate::error::{Asn1Error, Error, Result};
use crate::pbe;
use crate::sm::Sm2KeyPair;
use der::oid::ObjectIdentifier as Oid;

const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERT: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");

/// What a PKCS#12 file held.
#[derive(Debug, Clone)]
pub struct Pkcs12 {
    /// The private key.
    pub key: Sm2KeyPair,
    /// Certificates (DER) in file order.
    pub certs: Vec<Vec<u8>>,
    /// The key bag's friendlyName (alias), if any.
    pub alias: Option<String>,
}

impl Pkcs12 {
    /// The certificate whose public key is the private key's (the holder's certificate).
    pub fn key_certificate(&self) -> Option<&[u8]> {
        use der::Decode;
        let pk = self.key.public_key_sec1();
        self.certs.iter().map(Vec::as_slice).find(|c| {
            x509_cert::Certificate::from_der(c)
                .ok()
                .and_then(|c| {
                    c.tbs_certificate()
                        .subject_public_key_info()
                        .subject_public_key
                        .as_bytes()
                        .map(|b| b == pk.as_slice())
                })
                .unwrap_or(false)
        })
    }

    /// The key with its certificate, ready for signing.
    pub fn into_certified_key(self) -> Result<crate::sm::CertifiedKey> {
        let cert = self
            .key_certificate()
            .ok_or_else(|| {
                Error::Certificate("the PKCS#12 file has no certificate for its key".into())
            })?
            .to_vec();
        crate::sm::CertifiedKey::new(self.key, cert)
    }
}

fn e(x: Asn1Error) -> Error {
    Error::asn1("PKCS#12", x)
}

fn fail(t: &Tlv<'_>, what: &str) -> Error {
    e(Asn1Error::at(t.offset, what))
}

/// Parses a PKCS#12 file and decrypts it with `password`.
pub fn parse(bytes: &[u8], password: &str) -> Result<Pkcs12> {
    let pfx = ber::parse(bytes)
        .map_err(e)?
        .expect(tag::SEQUENCE, "PFX must be a SEQUENCE")
        .map_err(e)?;
    let parts = pfx.children().map_err(e)?;
    let (version, auth_safe) = match parts.as_slice() {
        [v, a, ..] => (v, a),
        _ => return Err(fail(&pfx, "PFX must hold version and authSafe")),
    };
    if version.uint().map_err(e)? != 3 {
        return Err(fail(version, "PFX version must be 3"));
    }
    let (ct, content) = content_info(auth_safe)?;
    if ct != DATA {
        return Err(Error::UnsupportedAlgorithm {
            what: "PKCS#12 authSafe content type (only password integrity is supported)",
            oid: ct.to_string(),
        });
    }
    let auth_bytes = content
        .ok_or_else(|| fail(auth_safe, "authSafe has no content"))?
        .octets()
        .map_err(e)?;
    match parts.get(2) {
        Some(mac) => check_mac(mac, password, &auth_bytes)?,
        None => return Err(fail(&pfx, "no MacData: file integrity cannot be checked")),
    }
    let safes = ber::parse(&auth_bytes).map_err(e)?;
    let mut key = None;
    let mut alias = None;
    let mut certs = Vec::new();
    for ci in safes.children().map_err(e)? {
        let (ct, content) = content_info(&ci)?;
        let content = content.ok_or_else(|| fail(&ci, "ContentInfo without content"))?;
        let safe_contents = if ct == DATA {
            content.octets().map_err(e)?
        } else if ct == ENCRYPTED_DATA {
            decrypt_encrypted_data(&content, password)?
        } else {
            return Err(Error::UnsupportedAlgorithm {
                what: "PKCS#12 SafeContents content type",
                oid: ct.to_string(),
            });
        };
        let sc = ber::parse(&safe_contents).map_err(e)?;
        for bag in sc.children().map_err(e)? {
            let b = bag.children().map_err(e)?;
            let (id, val) = match b.as_slice() {
                [i, v, ..] => (i.oid().map_err(e)?, v),
                _ => return Err(fail(&bag, "SafeBag must hold bagId and bagValue")),
            };
            let inner = explicit0(val)?;
            let name = b.get(2).and_then(friendly_name);
            if id == KEY_BAG || id == SHROUDED_KEY_BAG {
                if key.is_some() {
                    return Err(fail(&bag, "more than one private key: ambiguous"));
                }
                let k = if id == KEY_BAG {
                    Sm2KeyPair::from_pkcs8_der(inner.raw)?
                } else {
                    Sm2KeyPair::from_encrypted_pkcs8_der(inner.raw, password)?
                };
                key = Some(k);
                alias = name;
            } else if id == CERT_BAG {
                let cb = inner.children().map_err(e)?;
                let (cid, cval) = match cb.as_slice() {
                    [i, v] => (i.oid().map_err(e)?, v),
                    _ => return Err(fail(&inner, "CertBag must hold certId and certValue")),
                };
                if cid == X509_CERT {
                    certs.push(explicit0(cval)?.octets().map_err(e)?);
                }
            }
        }
    }
    let key = key.ok_or_else(|| Error::Key("the PKCS#12 file holds no private key".into()))?;
    Ok(Pkcs12 { key, certs, alias })
}

fn explicit0<'a>(t: &Tlv<'a>) -> Result<Tlv<'a>> {
    if t.tag != 0xa0 {
        return Err(fail(t, "expected [0] EXPLICIT"));
    }
    let k = t.children().map_err(e)?;
    match k.as_slice() {
        [one] => Ok(*one),
        _ => Err(fail(t, "[0] EXPLICIT must hold exactly one value")),
    }
}

fn content_info<'a>(t: &Tlv<'a>) -> Result<(Oid, Option<Tlv<'a>>)> {
    let k = t.children().map_err(e)?;
    match k.as_slice() {
        [o] => Ok((o.oid().map_err(e)?, None)),
        [o, c] => Ok((o.oid().map_err(e)?, Some(explicit0(c)?))),
        _ => Err(fail(
            t,
            "ContentInfo must be SEQUENCE { contentType, [0] content }",
        )),
    }
}

fn friendly_name(attrs: &Tlv<'_>) -> Option<String> {
    for a in attrs.children().ok()? {
        let k = a.children().ok()?;
        if k.first()?.oid().ok()? == FRIENDLY_NAME {
            let v = k.get(1)?.children().ok()?;
            let bmp = v.first()?.body;
            let units: Vec<u16> = bmp
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            return String::from_utf16(&units).ok();
        }
    }
    None
}

fn check_mac(mac: &Tlv<'_>, password: &str, content: &[u8]) -> Result<()> {
    let m = mac.children().map_err(e)?;
    let (digest_info, salt) = match m.as_slice() {
        [d, s, ..] => (d, s.octets().map_err(e)?),
        _ => return Err(fail(mac, "MacData must hold mac and macSalt")),
    };
    let iter = match m.get(2) {
        Some(i) => i.uint().map_err(e)?,
        None => 1,
    };
    if iter == 0 || iter > pbe::MAX_ITERATIONS {
        return Err(fail(mac, "MAC iteration count out of range"));
    }
    let di = digest_info.children().map_err(e)?;
    let (alg, value) = match di.as_slice() {
        [a, v] => (a, v.octets().map_err(e)?),
        _ => {
            return Err(fail(
                digest_info,
                "DigestInfo must hold algorithm and digest",
            ));
        }
    };
    let alg_oid = alg
        .children()
        .map_err(e)?
        .first()
        .ok_or_else(|| fail(alg, "empty AlgorithmIdentifier"))?
        .oid()
        .map_err(e)?;
    let h = if alg_oid == SHA1 {
        pbe::P12Hash::Sha1
    } else if alg_oid == SHA256 {
        pbe::P12Hash::Sha256
    } else {
        return Err(Error::UnsupportedAlgorithm {
            what: "PKCS#12 MAC digest",
            oid: alg_oid.to_string(),
        });
    };
    if pbe::p12_mac_ok(h, password, &salt, iter, content, &value) {
        Ok(())
    } else {
        Err(Error::Decrypt {
            what: "PKCS#12 integrity MAC",
        })
    }
}

fn decrypt_encrypted_data(t: &Tlv<'_>, password: &str) -> Result<Vec<u8>> {
    let k = t.children().map_err(e)?;
    let eci = k.get(1).ok_or_else(|| {
        fail(
            t,
            "EncryptedData must hold version and encryptedContentInfo",
        )
    })?;
    let ek = eci.children().map_err(e)?;
    let (alg, data) = match ek.as_slice() {
        [_, a, d] => (a, d),
        _ => {
            return Err(fail(
                eci,
                "EncryptedContentInfo must hold type, algorithm and [0] content",
            ));
        }
    };
    if data.tag & 0x1f != 0 || data.tag & 0xc0 != 0x80 {
        return Err(fail(
            data,
            "encryptedContent must be [0] IMPLICIT OCTET STRING",
        ));
    }
    let ct = data.octets().map_err(e)?;
    pbe::decrypt(alg, &ct, password, "PKCS#12 encrypted SafeContents")
}
