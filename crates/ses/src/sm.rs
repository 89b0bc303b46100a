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
///
/// GB/T 32918.2-2016 §7 (B1–B7) with the `sm2` crate's curve arithmetic. Everything a verifier
/// handles is public (key, message, signature), so `[s']G + [t]P_A` is computed in variable
/// time (`lincomb_vartime`: interleaved wNAF), ≈ 35 % less work than the constant-time
/// combination `sm2::dsa::VerifyingKey` uses; the unit tests hold the two to the same answers.
pub fn verify_sec1(point: &[u8], msg: &[u8], sig_der: &[u8]) -> Result<(), VerifyError> {
    use sm2::elliptic_curve::group::Group;
    use sm2::elliptic_curve::ops::Reduce;
    use sm2::elliptic_curve::point::AffineCoordinates;
    use sm2::{FieldBytes, ProjectivePoint, Scalar};

    // The key: a point on the curve, not the identity.
    let key =
        sm2::PublicKey::from_sec1_bytes(point).map_err(|e| VerifyError::BadKey(e.to_string()))?;
    // B1, B2: r', s' in [1, n-1] (the signature type holds non-zero scalars only).
    let sig = Signature::from_der(sig_der).map_err(|_| VerifyError::BadEncoding)?;
    let (r, s) = sig.split_scalars();
    // B3, B4: e' = SM3(Z_A ‖ M').
    let mut h = sm3::Sm3::new();
    h.update(z_a(&key)?);
    h.update(msg);
    let digest: FieldBytes = h.finalize();
    let e = <Scalar as Reduce<FieldBytes>>::reduce(&digest);
    // B5: t = (r' + s') mod n, t ≠ 0.
    let t = *r + *s;
    if bool::from(t.is_zero()) {
        return Err(VerifyError::Mismatch);
    }
    // B6: (x1', y1') = [s']G + [t]P_A, not the point at infinity: one interleaved wNAF pass
    // (Straus), in variable time (everything here is public), with G's window table made once
    // per process instead of once per verification.
    let p_table = WnafBase::new(&ProjectivePoint::from(*key.as_affine()));
    let (ws, wt) = (WnafScalar::new(&*s), WnafScalar::new(&t));
    let q = WnafBase::multiscalar_mul([(&*G_TABLE, &ws), (&p_table, &wt)].into_iter());
    if bool::from(q.is_identity()) {
        return Err(VerifyError::Mismatch);
    }
    // B7: R = (e' + x1') mod n = r'.
    let x = q.to_affine().x();
    if *r == e + <Scalar as Reduce<FieldBytes>>::reduce(&x) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// The wNAF window of [`verify_sec1`]'s scalar multiplications (that of the `sm2` crate's own).
type Window = sm2::elliptic_curve::array::typenum::U5;
type WnafBase = wnaf::WnafBase<sm2::ProjectivePoint, Window>;
type WnafScalar = wnaf::WnafScalar<sm2::Scalar, Window>;

/// The window table of the generator G, made on first use.
static G_TABLE: std::sync::LazyLock<WnafBase> =
    std::sync::LazyLock::new(|| WnafBase::new(&sm2::ProjectivePoint::GENERATOR));

/// Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) for the default distinguishing
/// identifier (GB/T 32918.2-2016 §5.5).
fn z_a(key: &sm2::PublicKey) -> Result<[u8; 32], VerifyError> {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    /// The curve's a and b (GB/T 32918.5-2017).
    const A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
    const B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
    let g = sm2::AffinePoint::GENERATOR.to_sec1_point(false);
    let p = key.as_affine().to_sec1_point(false);
    let (Some(g), Some(p)) = (g.as_bytes().get(1..), p.as_bytes().get(1..)) else {
        return Err(VerifyError::BadKey("point encoding".into()));
    };
    let mut h = sm3::Sm3::new();
    h.update(((DEFAULT_DIST_ID.len() * 8) as u16).to_be_bytes());
    h.update(DEFAULT_DIST_ID.as_bytes());
    h.update(A);
    h.update(B);
    h.update(g);
    h.update(p);
    Ok(h.finalize().into())
}

/// 32 bytes from 64 hex digits, at compile time.
const fn hex32(s: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = digit(b[2 * i]) << 4 | digit(b[2 * i + 1]);
        i += 1;
    }
    out
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

    /// The variable-time verifier (R-7.1c) gives the answers of the `sm2` crate's own
    /// constant-time `VerifyingKey` on good signatures and on every kind of bad one.
    #[test]
    fn vartime_verification_agrees_with_the_sm2_crate() {
        let crate_verify = |point: &[u8], msg: &[u8], sig: &[u8]| -> bool {
            let Ok(vk) = VerifyingKey::from_sec1_bytes(DEFAULT_DIST_ID, point) else {
                return false;
            };
            let Ok(sig) = Signature::from_der(sig) else {
                return false;
            };
            signature::Verifier::verify(&vk, msg, &sig).is_ok()
        };
        let other = Sm2KeyPair::generate().unwrap();
        let (mut good, mut bad) = (0, 0);
        for i in 0..24u32 {
            let k = Sm2KeyPair::generate().unwrap();
            let msg: Vec<u8> = (0..(i * 37) as usize)
                .map(|j| (j as u32 * 7 + i) as u8)
                .collect();
            let sig = k.sign_der(&msg).unwrap();
            let key = k.public_key_sec1();
            let mut flipped = sig.clone();
            let at = flipped.len() - 1 - (i as usize % 8);
            flipped[at] ^= 1 << (i % 8);
            let mut other_msg = msg.clone();
            other_msg.push(1);
            for (point, m, s) in [
                (key.as_slice(), msg.as_slice(), sig.as_slice()),
                (key.as_slice(), other_msg.as_slice(), sig.as_slice()),
                (key.as_slice(), msg.as_slice(), flipped.as_slice()),
                (
                    other.public_key_sec1().as_slice(),
                    msg.as_slice(),
                    sig.as_slice(),
                ),
            ] {
                let ours = verify_sec1(point, m, s).is_ok();
                assert_eq!(ours, crate_verify(point, m, s), "case {i}");
                if ours { good += 1 } else { bad += 1 }
            }
        }
        assert_eq!((good, bad), (24, 72));
        // Not a point of the curve.
        let mut off = other.public_key_sec1();
        off[40] ^= 1;
        let sig = other.sign_der(b"x").unwrap();
        assert!(matches!(
            verify_sec1(&off, b"x", &sig),
            Err(VerifyError::BadKey(_))
        ));
        assert_eq!(
            verify_sec1(&other.public_key_sec1(), b"x", b"\x30\x00"),
            Err(VerifyError::BadEncoding)
        );
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
