//! Making and reading electronic seals (SES_Seal) and signatures (SES_Signature).
//!
//! * [`make_seal`] builds a GB/T 38540-2020 v4 seal signed by the seal maker over
//!   DER(`SES_SealInfo`) — exactly the bytes ofdrw and the tax-system seals sign.
//! * [`parse_seal`] reads v4, v1 (GM/T 0031-2014, maker signs
//!   DER `SEQUENCE{SES_SealInfo, cert, signatureAlgorithm}`) and v5 (GM/T 0031-2025, same layout
//!   as v4 plus an optional `[0]` time stamp) into one version-neutral [`SealView`] that keeps
//!   the exact signed bytes.
//! * [`make_signature_v4`] / [`parse_signature`] do the same for SES_Signature.
//!
//! Defends against: verifying a re-encoding instead of what was signed (the original byte ranges
//! are kept), unknown versions (a typed [`Error::UnsupportedVersion`]), and non-DER input.

use crate::asn1::*;
use crate::error::{Asn1Error, Error, Result};
use crate::pki::UnixTime;
use crate::sm::{self, SealSigner, VerifyError};
use der::asn1::{BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use std::time::Duration;

/// Seal/signature structure version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SesVersion {
    /// GM/T 0031-2014.
    V1,
    /// GB/T 38540-2020.
    V4,
    /// GM/T 0031-2025.
    V5,
}

/// How the seal binds its signers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerBinding {
    /// certListType 1 (and v1): signer certificates, DER.
    Certs(Vec<Vec<u8>>),
    /// certListType 2: (digest algorithm name, digest of certificate DER).
    Digests(Vec<(String, Vec<u8>)>),
}

/// A version-neutral view of a seal.
#[derive(Clone, Debug)]
pub struct SealView {
    /// Version.
    pub version: SesVersion,
    /// Header vid (vendor).
    pub vid: String,
    /// esID.
    pub es_id: String,
    /// Seal type.
    pub seal_type: i64,
    /// Seal name.
    pub name: String,
    /// Signers bound to the seal.
    pub signers: SignerBinding,
    /// createDate.
    pub create_date: UnixTime,
    /// validStart.
    pub valid_start: UnixTime,
    /// validEnd.
    pub valid_end: UnixTime,
    /// Picture format ("PNG", "SVG", "ofd", …).
    pub picture_type: String,
    /// Picture bytes.
    pub picture: Vec<u8>,
    /// Display width, mm.
    pub width_mm: u32,
    /// Display height, mm.
    pub height_mm: u32,
    /// Maker certificate, DER.
    pub maker_cert: Vec<u8>,
    /// Maker signature algorithm.
    pub sign_alg: ObjectIdentifier,
    /// Maker signature, DER.
    pub signed_value: Vec<u8>,
    /// Exactly the bytes the maker signed.
    pub signed_bytes: Vec<u8>,
    /// The whole seal encoding.
    pub der: Vec<u8>,
}

fn asn(context: &'static str) -> impl Fn(der::Error) -> Error {
    move |e| Error::asn1(context, e)
}

fn gt(t: &GeneralizedTime) -> UnixTime {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn ut(t: &der::asn1::UtcTime) -> UnixTime {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn to_gt(t: UnixTime) -> Result<GeneralizedTime> {
    let secs = u64::try_from(t).map_err(|_| Error::Invalid(format!("time {t} before 1970")))?;
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|e| Error::encode("GeneralizedTime", e))
}

fn bits(b: &BitString, what: &'static str) -> Result<Vec<u8>> {
    b.as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::asn1(what, Asn1Error::at(0, "BIT STRING with unused bits")))
}

/// Children of the outermost SEQUENCE of `der`, as raw encodings.
fn top_children<'a>(der: &'a [u8], context: &'static str) -> Result<Vec<&'a [u8]>> {
    let t = crate::ber::parse(der).map_err(|e| Error::asn1(context, e))?;
    if t.tag != 0x30 {
        return Err(Error::asn1(
            context,
            Asn1Error::at(0, "expected a SEQUENCE"),
        ));
    }
    Ok(t.children()
        .map_err(|e| Error::asn1(context, e))?
        .into_iter()
        .map(|c| c.raw)
        .collect())
}

fn header_version(seal_info_raw: &[u8]) -> Result<u64> {
    let t = crate::ber::parse(seal_info_raw).map_err(|e| Error::asn1("SES_SealInfo", e))?;
    let kids = t.children().map_err(|e| Error::asn1("SES_SealInfo", e))?;
    let header = kids
        .first()
        .ok_or_else(|| Error::asn1("SES_SealInfo", Asn1Error::at(0, "empty")))?;
    let h = header
        .children()
        .map_err(|e| Error::asn1("SES_Header", e))?;
    h.get(1)
        .ok_or_else(|| Error::asn1("SES_Header", Asn1Error::at(header.offset, "no version")))?
        .uint()
        .map_err(|e| Error::asn1("SES_Header", e))
}

/// Reads a seal of any supported version (`Seal.esl` or the seal inside a signature).
pub fn parse_seal(der: &[u8]) -> Result<SealView> {
    let kids = top_children(der, "SES_Seal")?;
    match kids.len() {
        2 => parse_seal_v1(der, &kids),
        4 | 5 => {
            let seal_info = kids.first().copied().unwrap_or_default();
            match header_version(seal_info)? {
                4 | 5 => parse_seal_v4(der, seal_info),
                v => Err(Error::UnsupportedVersion {
                    what: "seal",
                    version: v,
                }),
            }
        }
        n => Err(Error::asn1(
            "SES_Seal",
            Asn1Error::at(
                0,
                format!("SEQUENCE of {n} elements is no known seal layout"),
            ),
        )),
    }
}

fn parse_seal_v4(der: &[u8], seal_info_raw: &[u8]) -> Result<SealView> {
    let s = SesSealV4::from_der(der).map_err(asn("SES_Seal (v4)"))?;
    seal_view_v4(&s, der, seal_info_raw)
}

/// The view of a decoded v4/v5 seal `s`, whose encoding is `der` (its first element, the signed
/// `SES_SealInfo`, is `seal_info_raw`): also for the seal a decoded v4 signature carries, which
/// is therefore not decoded a second time.
fn seal_view_v4(s: &SesSealV4, der: &[u8], seal_info_raw: &[u8]) -> Result<SealView> {
    let info = &s.e_seal_info;
    let p = &info.property;
    let version = match info.header.version {
        4 => SesVersion::V4,
        5 => SesVersion::V5,
        v => {
            return Err(Error::UnsupportedVersion {
                what: "seal",
                version: u64::from(v),
            });
        }
    };
    let signers = match p.cert_list_type {
        1 => SignerBinding::Certs(
            p.certs()
                .map_err(asn("SES_CertList certs"))?
                .into_iter()
                .map(|c| c.into_bytes().into_vec())
                .collect(),
        ),
        2 => SignerBinding::Digests(
            p.cert_digests()
                .map_err(asn("SES_CertList certDigestList"))?
                .into_iter()
                .map(|d| (d.digest_type.to_string(), d.value.into_bytes().into_vec()))
                .collect(),
        ),
        t => {
            return Err(Error::asn1(
                "SES_ESPropertyInfo",
                Asn1Error::at(0, format!("certListType {t} is neither 1 nor 2")),
            ));
        }
    };
    Ok(SealView {
        version,
        vid: info.header.vid.to_string(),
        es_id: info.es_id.to_string(),
        seal_type: p.seal_type,
        name: p.name.clone(),
        signers,
        create_date: gt(&p.create_date),
        valid_start: gt(&p.valid_start),
        valid_end: gt(&p.valid_end),
        picture_type: info.picture.pic_type.to_string(),
        picture: info.picture.data.as_bytes().to_vec(),
        width_mm: info.picture.width,
        height_mm: info.picture.height,
        maker_cert: s.cert.as_bytes().to_vec(),
        sign_alg: s.sign_alg_id,
        signed_value: bits(&s.signed_value, "SES_Seal signedValue")?,
        signed_bytes: seal_info_raw.to_vec(),
        der: der.to_vec(),
    })
}

fn parse_seal_v1(der: &[u8], kids: &[&[u8]]) -> Result<SealView> {
    let s = SesSealV1::from_der(der).map_err(asn("SESeal (v1)"))?;
    let info = &s.eseal_info;
    if info.header.version != 1 {
        return Err(Error::UnsupportedVersion {
            what: "seal (v1 layout)",
            version: u64::from(info.header.version),
        });
    }
    let p = &info.property;
    // The maker signs DER SEQUENCE { esealInfo, cert, signatureAlgorithm } (GM/T 0031-2014 §5.3).
    let sign_info_kids = top_children(kids.get(1).copied().unwrap_or_default(), "SES_SignInfo")?;
    let mut body = kids.first().copied().unwrap_or_default().to_vec();
    for k in sign_info_kids.iter().take(2) {
        body.extend_from_slice(k);
    }
    let mut signed_bytes = Vec::new();
    der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(body.len()).map_err(|e| Error::encode("v1 signed data", e))?,
    )
    .encode_to_vec(&mut signed_bytes)
    .map_err(|e| Error::encode("v1 signed data", e))?;
    signed_bytes.extend_from_slice(&body);
    Ok(SealView {
        version: SesVersion::V1,
        vid: info.header.vid.to_string(),
        es_id: info.es_id.to_string(),
        seal_type: p.seal_type,
        name: p.name.clone(),
        signers: SignerBinding::Certs(p.cert_list.iter().map(|c| c.as_bytes().to_vec()).collect()),
        create_date: ut(&p.create_date),
        valid_start: ut(&p.valid_start),
        valid_end: ut(&p.valid_end),
        picture_type: info.picture.pic_type.to_string(),
        picture: info.picture.data.as_bytes().to_vec(),
        width_mm: info.picture.width,
        height_mm: info.picture.height,
        maker_cert: s.sign_info.cert.as_bytes().to_vec(),
        sign_alg: s.sign_info.signature_algorithm,
        signed_value: bits(&s.sign_info.sign_data, "SES_SignInfo signData")?,
        signed_bytes,
        der: der.to_vec(),
    })
}

impl SealView {
    /// Verifies the maker's SM2 signature with the public key of the maker certificate.
    pub fn verify_maker(&self) -> Result<(), VerifyError> {
        if !sm::is_sm2_signature_oid(&self.sign_alg) {
            return Err(VerifyError::BadKey(format!(
                "seal signature algorithm {} is not SM3withSM2",
                self.sign_alg
            )));
        }
        let cert = crate::pki::Cert::from_der(&self.maker_cert)
            .map_err(|e| VerifyError::BadKey(e.to_string()))?;
        self.verify_maker_with(&cert)
    }

    /// [`SealView::verify_maker`] with the maker certificate already parsed (it must be
    /// [`SealView::maker_cert`]; the verifier parses it once for all its checks).
    pub fn verify_maker_with(&self, cert: &crate::pki::Cert) -> Result<(), VerifyError> {
        if !sm::is_sm2_signature_oid(&self.sign_alg) {
            return Err(VerifyError::BadKey(format!(
                "seal signature algorithm {} is not SM3withSM2",
                self.sign_alg
            )));
        }
        if cert.der() != self.maker_cert.as_slice() {
            return Err(VerifyError::BadKey(
                "not the maker certificate of this seal".into(),
            ));
        }
        cert.verify(&self.signed_bytes, &self.signed_value)
    }

    /// True when `cert_der` is one of the seal's signers (by certificate or SM3/SHA digest).
    pub fn binds_signer(&self, cert_der: &[u8]) -> bool {
        match &self.signers {
            SignerBinding::Certs(v) => v.iter().any(|c| c == cert_der),
            SignerBinding::Digests(v) => v.iter().any(|(alg, d)| {
                let a = alg.to_ascii_uppercase();
                if a.contains("SM3") || a == ObjectIdentifier::to_string(&sm::OID_SM3) {
                    sm::sm3(cert_der).as_slice() == d.as_slice()
                } else if a.contains("SHA256") || a.contains("SHA-256") {
                    use sha2::Digest;
                    sha2::Sha256::digest(cert_der).as_slice() == d.as_slice()
                } else {
                    false
                }
            }),
        }
    }
}

/// Picture formats accepted for new seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureFormat {
    /// PNG (checked by signature and IHDR).
    Png,
    /// SVG (checked for an `<svg` root).
    Svg,
}

/// The seal picture and its display size (GB/T 38540 `SES_ESPictrueInfo`).
#[derive(Clone, Debug)]
pub struct Picture {
    /// Format.
    pub format: PictureFormat,
    /// File bytes.
    pub data: Vec<u8>,
    /// Display width, mm (e.g. 40).
    pub width_mm: u32,
    /// Display height, mm.
    pub height_mm: u32,
}

impl Picture {
    /// Checks the bytes against the format and the size against sane bounds (1–300 mm).
    pub fn validate(&self) -> Result<()> {
        match self.format {
            PictureFormat::Png => {
                if png_size(&self.data).is_none() {
                    return Err(Error::Invalid("seal picture is not a PNG file".into()));
                }
            }
            PictureFormat::Svg => {
                let head = String::from_utf8_lossy(
                    self.data
                        .get(..self.data.len().min(4096))
                        .unwrap_or_default(),
                )
                .to_string();
                if !head.contains("<svg") {
                    return Err(Error::Invalid(
                        "seal picture is not an SVG file (no <svg element)".into(),
                    ));
                }
            }
        }
        if !(1..=300).contains(&self.width_mm) || !(1..=300).contains(&self.height_mm) {
            return Err(Error::Invalid(format!(
                "seal picture size {}×{} mm is outside 1–300 mm",
                self.width_mm, self.height_mm
            )));
        }
        Ok(())
    }

    fn type_name(&self) -> &'static str {
        match self.format {
            PictureFormat::Png => "PNG",
            PictureFormat::Svg => "SVG",
        }
    }
}

/// Width and height in pixels of a PNG, from its IHDR chunk.
pub fn png_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(..8)? != b"\x89PNG\r\n\x1a\n" || data.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(data.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(data.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

/// What goes into a new seal.
#[derive(Clone, Debug)]
pub struct SealParams {
    /// Vendor identifier for the header (`vid`).
    pub vid: String,
    /// Seal identifier (`esID`), e.g. the institute's seal code.
    pub es_id: String,
    /// Seal type (GB/T 38540 leaves the values to the application; ofdrw uses 3).
    pub seal_type: i64,
    /// Seal name, e.g. "校准电子证书专用章".
    pub name: String,
    /// Certificates (DER) of the signers allowed to use the seal.
    pub signer_certs: Vec<Vec<u8>>,
    /// createDate.
    pub created: UnixTime,
    /// validStart.
    pub valid_start: UnixTime,
    /// validEnd.
    pub valid_end: UnixTime,
    /// Picture.
    pub picture: Picture,
}

/// Makes a v4 SES_Seal (DER) signed by `maker` over DER(SES_SealInfo) (GB/T 38540-2020 §6).
pub fn make_seal(p: &SealParams, maker: &(impl SealSigner + ?Sized)) -> Result<Vec<u8>> {
    p.picture.validate()?;
    if p.signer_certs.is_empty() {
        return Err(Error::Invalid(
            "a seal needs at least one signer certificate".into(),
        ));
    }
    if p.valid_end <= p.valid_start {
        return Err(Error::Invalid("seal validity ends before it starts".into()));
    }
    for c in &p.signer_certs {
        crate::pki::Cert::from_der(c)?;
    }
    let ia5 = |s: &str, what: &'static str| {
        Ia5String::new(s)
            .map_err(|_| Error::Invalid(format!("{what} must be ASCII (IA5String): {s:?}")))
    };
    let certs: Vec<OctetString> = p
        .signer_certs
        .iter()
        .map(|c| OctetString::new(c.clone()))
        .collect::<der::Result<_>>()
        .map_err(|e| Error::encode("certList", e))?;
    let info = SesSealInfoV4 {
        header: SesHeader {
            id: ia5("ES", "id")?,
            version: 4,
            vid: ia5(&p.vid, "vid")?,
        },
        es_id: ia5(&p.es_id, "esID")?,
        property: SesPropertyInfoV4 {
            seal_type: p.seal_type,
            name: p.name.clone(),
            cert_list_type: 1,
            cert_list: der::asn1::Any::encode_from(&certs)
                .map_err(|e| Error::encode("certList", e))?,
            create_date: to_gt(p.created)?,
            valid_start: to_gt(p.valid_start)?,
            valid_end: to_gt(p.valid_end)?,
        },
        picture: SesPictureInfo {
            pic_type: ia5(p.picture.type_name(), "picture type")?,
            data: OctetString::new(p.picture.data.clone())
                .map_err(|e| Error::encode("picture", e))?,
            width: p.picture.width_mm,
            height: p.picture.height_mm,
        },
        ext_datas: None,
    };
    let info_der = info
        .to_der()
        .map_err(|e| Error::encode("SES_SealInfo", e))?;
    let sig = maker
        .try_sign(&info_der)
        .map_err(|e| Error::Sign(e.to_string()))?;
    let seal = SesSealV4 {
        e_seal_info: info,
        cert: OctetString::new(maker.certificate_der().to_vec())
            .map_err(|e| Error::encode("cert", e))?,
        sign_alg_id: sm::OID_SM3_WITH_SM2,
        signed_value: BitString::from_bytes(&sig.to_vec())
            .map_err(|e| Error::encode("signedValue", e))?,
        time_stamp: None,
    };
    seal.to_der().map_err(|e| Error::encode("SES_Seal", e))
}

/// A version-neutral view of an SES_Signature.
#[derive(Clone, Debug)]
pub struct SignatureView {
    /// Version.
    pub version: SesVersion,
    /// The embedded seal.
    pub seal: SealView,
    /// Signing time (v4/v5); v1 keeps `time_info_raw` only.
    pub time_info: Option<UnixTime>,
    /// The raw timeInfo bytes (v1: text; v4: GeneralizedTime content).
    pub time_info_raw: Vec<u8>,
    /// dataHash.
    pub data_hash: Vec<u8>,
    /// propertyInfo.
    pub property_info: String,
    /// Signer certificate DER.
    pub signer_cert: Vec<u8>,
    /// Signature algorithm.
    pub sig_alg: ObjectIdentifier,
    /// Signature (DER).
    pub signature: Vec<u8>,
    /// Exactly the bytes the signer signed (DER TBS_Sign as found).
    pub tbs_bytes: Vec<u8>,
    /// Time-stamp token, if any.
    pub time_stamp: Option<Vec<u8>>,
}

impl SignatureView {
    /// Verifies the signer's SM2 signature over TBS_Sign with the embedded signer certificate.
    pub fn verify_signer(&self) -> Result<(), VerifyError> {
        if !sm::is_sm2_signature_oid(&self.sig_alg) {
            return Err(VerifyError::BadKey(format!(
                "signature algorithm {} is not SM3withSM2",
                self.sig_alg
            )));
        }
        let cert = crate::pki::Cert::from_der(&self.signer_cert)
            .map_err(|e| VerifyError::BadKey(e.to_string()))?;
        self.verify_signer_with(&cert)
    }

    /// [`SignatureView::verify_signer`] with the signer certificate already parsed (it must be
    /// [`SignatureView::signer_cert`]; the verifier parses it once for all its checks).
    pub fn verify_signer_with(&self, cert: &crate::pki::Cert) -> Result<(), VerifyError> {
        if !sm::is_sm2_signature_oid(&self.sig_alg) {
            return Err(VerifyError::BadKey(format!(
                "signature algorithm {} is not SM3withSM2",
                self.sig_alg
            )));
        }
        if cert.der() != self.signer_cert.as_slice() {
            return Err(VerifyError::BadKey(
                "not the signer certificate of this signature".into(),
            ));
        }
        cert.verify(&self.tbs_bytes, &self.signature)
    }
}

/// Reads an SES_Signature (SignedValue.dat) of version 1, 4 or 5.
pub fn parse_signature(der: &[u8]) -> Result<SignatureView> {
    let kids = top_children(der, "SES_Signature")?;
    let tbs_raw = kids.first().copied().unwrap_or_default();
    match kids.len() {
        2 => {
            let s = SesSignatureV1::from_der(der).map_err(asn("SES_Signature (v1)"))?;
            let tbs_kids = top_children(tbs_raw, "TBS_Sign")?;
            let seal_raw = tbs_kids.get(1).copied().unwrap_or_default();
            let seal = parse_seal(seal_raw)?;
            let t = &s.to_sign;
            Ok(SignatureView {
                version: SesVersion::V1,
                seal,
                time_info: None,
                time_info_raw: t.time_info.raw_bytes().to_vec(),
                data_hash: bits(&t.data_hash, "TBS_Sign dataHash")?,
                property_info: t.property_info.to_string(),
                signer_cert: t.cert.as_bytes().to_vec(),
                sig_alg: t.signature_algorithm,
                signature: bits(&s.signature, "SES_Signature signature")?,
                tbs_bytes: tbs_raw.to_vec(),
                time_stamp: None,
            })
        }
        4 | 5 => {
            let s = SesSignatureV4::from_der(der).map_err(asn("SES_Signature (v4)"))?;
            let tbs_kids = top_children(tbs_raw, "TBS_Sign")?;
            let seal_raw = tbs_kids.get(1).copied().unwrap_or_default();
            // The embedded seal was decoded with the signature: only its view is made here.
            let seal_info_raw = top_children(seal_raw, "SES_Seal")?
                .first()
                .copied()
                .unwrap_or_default();
            let seal = seal_view_v4(&s.to_sign.eseal, seal_raw, seal_info_raw)?;
            let t = &s.to_sign;
            if t.version != 4 && t.version != 5 {
                return Err(Error::UnsupportedVersion {
                    what: "signature",
                    version: u64::from(t.version),
                });
            }
            Ok(SignatureView {
                version: if seal.version == SesVersion::V5 {
                    SesVersion::V5
                } else {
                    SesVersion::V4
                },
                seal,
                time_info: Some(gt(&t.time_info)),
                time_info_raw: t.time_info.to_der().unwrap_or_default(),
                data_hash: bits(&t.data_hash, "TBS_Sign dataHash")?,
                property_info: t.property_info.to_string(),
                signer_cert: s.cert.as_bytes().to_vec(),
                sig_alg: s.signature_alg_id,
                signature: bits(&s.signature, "SES_Signature signature")?,
                tbs_bytes: tbs_raw.to_vec(),
                time_stamp: s
                    .time_stamp
                    .as_ref()
                    .and_then(|b| b.as_bytes())
                    .map(<[u8]>::to_vec),
            })
        }
        n => Err(Error::asn1(
            "SES_Signature",
            Asn1Error::at(
                0,
                format!("SEQUENCE of {n} elements is no known signature layout"),
            ),
        )),
    }
}

/// A time-stamp authority hook (RFC 3161): given the signature value, return a
/// time-stamp token (DER) to store in `SES_Signature.timeStamp`.
pub trait TimeStampHook {
    /// Requests a token over `signature` (the SM2 signature DER).
    fn time_stamp(&self, signature: &[u8]) -> Result<Vec<u8>>;
}

/// Makes a v4 SES_Signature over `data_hash` (SM3 of Signature.xml) with `seal_der` embedded.
pub fn make_signature_v4(
    seal_der: &[u8],
    data_hash: &[u8; 32],
    property_info: &str,
    time: UnixTime,
    signer: &(impl SealSigner + ?Sized),
    tsa: Option<&dyn TimeStampHook>,
) -> Result<Vec<u8>> {
    let seal = SesSealV4::from_der(seal_der).map_err(asn("SES_Seal to embed (must be v4)"))?;
    if seal.e_seal_info.header.version != 4 {
        return Err(Error::UnsupportedVersion {
            what: "seal to embed in a v4 signature",
            version: u64::from(seal.e_seal_info.header.version),
        });
    }
    let tbs = TbsSignV4 {
        version: 4,
        eseal: seal,
        time_info: to_gt(time)?,
        data_hash: BitString::from_bytes(data_hash).map_err(|e| Error::encode("dataHash", e))?,
        property_info: Ia5String::new(property_info).map_err(|_| {
            Error::Invalid(format!("propertyInfo must be ASCII: {property_info:?}"))
        })?,
        ext_datas: None,
    };
    let tbs_der = tbs.to_der().map_err(|e| Error::encode("TBS_Sign", e))?;
    if tbs_der
        .get(tbs_der.len().saturating_sub(seal_der.len())..)
        .is_none()
    {
        return Err(Error::Invalid("TBS_Sign encoding".into()));
    }
    let sig = signer
        .try_sign(&tbs_der)
        .map_err(|e| Error::Sign(e.to_string()))?
        .to_vec();
    let time_stamp = match tsa {
        Some(h) => Some(
            BitString::from_bytes(&h.time_stamp(&sig)?)
                .map_err(|e| Error::encode("timeStamp", e))?,
        ),
        None => None,
    };
    let s = SesSignatureV4 {
        to_sign: tbs,
        cert: OctetString::new(signer.certificate_der().to_vec())
            .map_err(|e| Error::encode("cert", e))?,
        signature_alg_id: sm::OID_SM3_WITH_SM2,
        signature: BitString::from_bytes(&sig).map_err(|e| Error::encode("signature", e))?,
        time_stamp,
    };
    s.to_der().map_err(|e| Error::encode("SES_Signature", e))
}
