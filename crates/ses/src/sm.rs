//! SM2 keys and signatures, SM3 hashes (R-7.1c).
//!
//! * Signatures use the default distinguishing ID `1234567812345678` (GM/T 0009, the value
//!   BouncyCastle, ofdrw and OpenSSL's `distid:` option use) and are DER-encoded
//!   `SEQUENCE { r INTEGER, s INTEGER }` wherever X.509 or GB/T 38540 carry them; the raw r‖s
//!   form makes OpenSSL reject the structure.
//! * Keys are read and written as PKCS#8 (plain, or PBES2-encrypted with AES-256 or SM4) in the
//!   form OpenSSL uses (`id-ecPublicKey` with the SM2 curve OID 1.2.156.10197.1.301).
//! * Signing goes through [`signature::Signer<DerSignature>`] so that a UKey or HSM can stand in
//!   for the software key ([`SealSigner`]).

use crate::error::{Error, Result};
use der::oid::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
pub use sm2::dsa::DerSignature;
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate;
use sm3::Digest;
use spki::{EncodePublicKey, SubjectPublicKeyInfoRef};

/// The default SM2 distinguishing identifier (GM/T 0009-2012 §10 / GB/T 35276).
pub const DEFAULT_DIST_ID: &str = "1234567812345678";
/// SM2 curve / public key algorithm, 1.2.156.10197.1.301.
pub const OID_SM2: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
/// SM2 signature algorithm (sm2-1), 1.2.156.10197.1.301.1.
pub const OID_SM2_SIGN: Oid = Oid::new_unwrap("1.2.156.10197.1.301.1");
/// SM3 hash algorithm, 1.2.156.10197.1.401.
pub const OID_SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.401");
/// SM3withSM2 signature algorithm, 1.2.156.10197.1.501.
pub const OID_SM3_WITH_SM2: Oid = Oid::new_unwrap("1.2.156.10197.1.501");
/// id-ecPublicKey, 1.2.840.10045.2.1.
pub const OID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(data).into()
}

/// True when `oid` names an SM2-with-SM3 signature (the OIDs that occur in seals and certificates).
pub fn is_sm2_signature_oid(oid: &Oid) -> bool {
    *oid == OID_SM3_WITH_SM2 || *oid == OID_SM2_SIGN
}

/// An SM2 key pair held in software.
#[derive(Clone)]
pub struct Sm2KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for Sm2KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2KeyPair")
            .field("public", &self.public_key_sec1())
            .finish_non_exhaustive()
    }
}

impl Sm2KeyPair {
    /// A fresh random key from the operating system's RNG.
    pub fn generate() -> Result<Self> {
        let sk =
            sm2::SecretKey::try_generate().map_err(|e| Error::Key(format!("random key: {e}")))?;
        Self::from_secret(&sk)
    }

    fn from_secret(sk: &sm2::SecretKey) -> Result<Self> {
        let signing =
            SigningKey::new(DEFAULT_DIST_ID, sk).map_err(|e| Error::Key(e.to_string()))?;
        Ok(Self { signing })
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (DER) holding an SM2 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let sk =
            sm2::SecretKey::from_pkcs8_der(der).map_err(|e| Error::Key(format!("PKCS#8: {e}")))?;
        Self::from_secret(&sk)
    }

    /// Reads a PEM file: `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (needs `password`) or
    /// `EC PRIVATE KEY` (SEC 1).
    pub fn from_pem(pem: &str, password: Option<&str>) -> Result<Self> {
        let (label, der) =
            der::pem::decode_vec(pem.as_bytes()).map_err(|e| Error::Key(format!("PEM: {e}")))?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "ENCRYPTED PRIVATE KEY" => {
                let pw = password.ok_or_else(|| {
                    Error::Key("the key is encrypted: a password is needed".into())
                })?;
                Self::from_encrypted_pkcs8_der(&der, pw)
            }
            "EC PRIVATE KEY" => {
                let sk = sm2::SecretKey::from_sec1_der(&der)
                    .map_err(|e| Error::Key(format!("SEC1: {e}")))?;
                Self::from_secret(&sk)
            }
            other => Err(Error::Key(format!("unexpected PEM label {other:?}"))),
        }
    }

    /// Reads a PKCS#8 `EncryptedPrivateKeyInfo` (PBES2 or PKCS#12 PBE) and decrypts it.
    pub fn from_encrypted_pkcs8_der(der: &[u8], password: &str) -> Result<Self> {
        let plain = decrypt_pkcs8(der, password)?;
        Self::from_pkcs8_der(&plain)
    }

    /// PKCS#8 `PrivateKeyInfo` DER.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        let sk = sm2::SecretKey::from(self.signing.as_nonzero_scalar());
        Ok(sk
            .to_pkcs8_der()
            .map_err(|e| Error::Key(e.to_string()))?
            .as_bytes()
            .to_vec())
    }

    /// PKCS#8 PEM (`PRIVATE KEY`).
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        pem("PRIVATE KEY", &self.to_pkcs8_der()?)
    }

    /// Password-protected PKCS#8 (`EncryptedPrivateKeyInfo`, PBES2) DER.
    pub fn to_encrypted_pkcs8_der(
        &self,
        password: &str,
        cipher: crate::pbe::Pbes2Cipher,
    ) -> Result<Vec<u8>> {
        let plain = zeroize::Zeroizing::new(self.to_pkcs8_der()?);
        let (alg, ct) = crate::pbe::pbes2_encrypt(&plain, password, cipher, 100_000)?;
        let mut body = alg;
        der::asn1::OctetStringRef::new(&ct)
            .and_then(|o| o.encode_to_vec(&mut body))
            .map_err(|e| Error::encode("EncryptedPrivateKeyInfo", e))?;
        let mut out = Vec::new();
        der::Header::new(
            der::Tag::Sequence,
            der::Length::try_from(body.len())
                .map_err(|e| Error::encode("EncryptedPrivateKeyInfo", e))?,
        )
        .encode_to_vec(&mut out)
        .map_err(|e| Error::encode("EncryptedPrivateKeyInfo", e))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Password-protected PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`).
    pub fn to_encrypted_pkcs8_pem(
        &self,
        password: &str,
        cipher: crate::pbe::Pbes2Cipher,
    ) -> Result<String> {
        pem(
            "ENCRYPTED PRIVATE KEY",
            &self.to_encrypted_pkcs8_der(password, cipher)?,
        )
    }

    /// The public key as `SubjectPublicKeyInfo` DER.
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        Ok(self
            .signing
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| Error::Key(e.to_string()))?
            .as_bytes()
            .to_vec())
    }

    /// The public key as an uncompressed SEC 1 point (65 bytes).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.signing.verifying_key().to_sec1_bytes().to_vec()
    }

    /// The RustCrypto verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.signing.verifying_key()
    }

    /// Signs `msg` (SM3 with Z_A over the default ID) and returns the DER signature.
    pub fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let sig: DerSignature =
            signature::Signer::try_sign(self, msg).map_err(|e| Error::Sign(e.to_string()))?;
        Ok(sig.to_vec())
    }
}

fn pem(label: &str, der: &[u8]) -> Result<String> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map_err(|e| Error::Key(format!("PEM: {e}")))
}

pub(crate) fn decrypt_pkcs8(der: &[u8], password: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let t = crate::ber::parse(der).map_err(|e| Error::asn1("EncryptedPrivateKeyInfo", e))?;
    let kids = t
        .children()
        .map_err(|e| Error::asn1("EncryptedPrivateKeyInfo", e))?;
    let [alg, data] = kids.as_slice() else {
        return Err(Error::asn1(
            "EncryptedPrivateKeyInfo",
            crate::error::Asn1Error::at(
                t.offset,
                "expected SEQUENCE { encryptionAlgorithm, encryptedData }",
            ),
        ));
    };
    let ct = data
        .octets()
        .map_err(|e| Error::asn1("EncryptedPrivateKeyInfo", e))?;
    Ok(zeroize::Zeroizing::new(crate::pbe::decrypt(
        alg,
        &ct,
        password,
        "encrypted private key",
    )?))
}

impl signature::Signer<DerSignature> for Sm2KeyPair {
    fn try_sign(&self, msg: &[u8]) -> signature::Result<DerSignature> {
        let s: Signature = signature::Signer::try_sign(&self.signing, msg)?;
        Ok(s.to_der())
    }
}

impl signature::Keypair for Sm2KeyPair {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key().clone()
    }
}

impl spki::SignatureAlgorithmIdentifier for Sm2KeyPair {
    type Params = der::AnyRef<'static>;
    const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifier<Self::Params> =
        spki::AlgorithmIdentifier {
            oid: OID_SM3_WITH_SM2,
            parameters: None,
        };
}

/// Why an SM2 signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The public key is not an SM2 key or not a valid point.
    #[error("not an SM2 public key: {0}")]
    BadKey(String),
    /// The signature is not DER `SEQUENCE { r, s }` with r, s in range.
    #[error("signature is not a DER-encoded SM2 signature")]
    BadEncoding,
    /// The signature does not match the data and key.
    #[error("SM2 signature does not verify")]
    Mismatch,
}

/// Verifies a DER SM2 signature with the key in `spki` (must be id-ecPublicKey/SM2 or the SM2 OID).
pub fn verify_spki(
    spki: &SubjectPublicKeyInfoRef<'_>,
    msg: &[u8],
    sig_der: &[u8],
) -> Result<(), VerifyError> {
    verify_sec1(spki_sm2_point(spki)?, msg, sig_der)
}

/// Checks that `spki_der` (SubjectPublicKeyInfo, DER) holds an SM2 public key on the curve.
pub fn check_spki_der(spki_der: &[u8]) -> Result<(), VerifyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| VerifyError::BadKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
    VerifyingKey::from_sec1_bytes(DEFAULT_DIST_ID, spki_sm2_point(&spki)?)
        .map_err(|e| VerifyError::BadKey(e.to_string()))?;
    Ok(())
}

/// [`verify_spki`] with the key as SubjectPublicKeyInfo DER.
pub fn verify_spki_der(spki_der: &[u8], msg: &[u8], sig_der: &[u8]) -> Result<(), VerifyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| VerifyError::BadKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
    verify_spki(&spki, msg, sig_der)
}

/// The SEC 1 point of an SM2 key (id-ecPublicKey with the SM2 curve, or the SM2 OID).
fn spki_sm2_point<'a>(spki: &SubjectPublicKeyInfoRef<'a>) -> Result<&'a [u8], VerifyError> {
    let alg = spki.algorithm.oid;
    let curve_ok = if alg == OID_EC_PUBLIC_KEY {
        spki.algorithm
            .parameters
            .and_then(|p| p.decode_as::<Oid>().ok())
            .is_some_and(|c| c == OID_SM2)
    } else {
        alg == OID_SM2
    };
    if !curve_ok {
        return Err(VerifyError::BadKey(format!("algorithm {alg} is not SM2")));
    }
    spki.subject_public_key
        .as_bytes()
        .ok_or_else(|| VerifyError::BadKey("public key bit string has unused bits".into()))
}

/// Verifies a DER SM2 signature with an uncompressed SEC 1 public key point.
pub fn verify_sec1(point: &[u8], msg: &[u8], sig_der: &[u8]) -> Result<(), VerifyError> {
    let vk = VerifyingKey::from_sec1_bytes(DEFAULT_DIST_ID, point)
        .map_err(|e| VerifyError::BadKey(e.to_string()))?;
    let sig = Signature::from_der(sig_der).map_err(|_| VerifyError::BadEncoding)?;
    signature::Verifier::verify(&vk, msg, &sig).map_err(|_| VerifyError::Mismatch)
}

/// Something that makes DER SM2 signatures on behalf of a certificate holder: a software key
/// ([`CertifiedKey`]), a UKey or an HSM. Sealing (`crate::sign`) and seal making
/// (`crate::seal`) only ever call this trait.
pub trait SealSigner: signature::Signer<DerSignature> {
    /// The holder's X.509 certificate, DER.
    fn certificate_der(&self) -> &[u8];
}

/// A software key with its certificate.
#[derive(Clone, Debug)]
pub struct CertifiedKey {
    /// The key.
    pub key: Sm2KeyPair,
    /// DER of the certificate whose public key is `key`'s.
    pub cert_der: Vec<u8>,
}

impl CertifiedKey {
    /// Pairs a key with its certificate, checking that the certificate's key is the key's.
    pub fn new(key: Sm2KeyPair, cert_der: Vec<u8>) -> Result<Self> {
        let cert = x509_cert::Certificate::from_der(&cert_der)
            .map_err(|e| Error::Certificate(format!("X.509: {e}")))?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        let point = spki.subject_public_key.as_bytes().unwrap_or_default();
        if point != key.public_key_sec1().as_slice() {
            return Err(Error::Key(
                "the certificate does not belong to this key".into(),
            ));
        }
        Ok(Self { key, cert_der })
    }
}

impl signature::Signer<DerSignature> for CertifiedKey {
    fn try_sign(&self, msg: &[u8]) -> signature::Result<DerSignature> {
        self.key.try_sign(msg)
    }
}

impl SealSigner for CertifiedKey {
    fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let k = Sm2KeyPair::generate().unwrap();
        let sig = k.sign_der(b"abc").unwrap();
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        verify_sec1(&k.public_key_sec1(), b"abc", &sig).unwrap();
        assert_eq!(
            verify_sec1(&k.public_key_sec1(), b"abd", &sig),
            Err(VerifyError::Mismatch)
        );
        let spki_der = k.public_key_der().unwrap();
        let spki = SubjectPublicKeyInfoRef::from_der(&spki_der).unwrap();
        verify_spki(&spki, b"abc", &sig).unwrap();
    }

    #[test]
    fn pkcs8_round_trips() {
        let k = Sm2KeyPair::generate().unwrap();
        let again = Sm2KeyPair::from_pkcs8_der(&k.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.public_key_sec1(), k.public_key_sec1());
        for c in [
            crate::pbe::Pbes2Cipher::Aes256Sha256,
            crate::pbe::Pbes2Cipher::Sm4Sm3,
        ] {
            let pem = k.to_encrypted_pkcs8_pem("s3cret", c).unwrap();
            let back = Sm2KeyPair::from_pem(&pem, Some("s3cret")).unwrap();
            assert_eq!(back.public_key_sec1(), k.public_key_sec1());
            assert!(Sm2KeyPair::from_pem(&pem, Some("wrong")).is_err());
        }
    }

    #[test]
    fn sm3_abc_vector() {
        // GB/T 32905-2016 appendix A.1
        assert_eq!(
            crate::pki::hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
