//! GB/T 38540-2020 (v4) and GM/T 0031-2014 (v1) data structures, DER via `der` derive.
//!
//! Field names follow the standards; each type's doc quotes its ASN.1. Unknown or
//! vendor-specific parts are kept as [`Any`] so that re-encoding reproduces the input
//! (ofdrw and other verifiers check signatures over re-encodings).
//!
//! The decoder is strict DER (X.690 §10): non-minimal lengths, BER constructed strings and
//! trailing data are rejected, which shuts out encodings that two parsers could read differently.
//! One tolerance is needed for real seals: `ExtData.critical` explicitly encoded as FALSE (the
//! tax-system seal in `v4signed.ofd` does this), hence `Option<bool>`.

use der::Sequence;
use der::asn1::{
    Any, BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, UtcTime,
};

/// Seal header (GB/T 38540-2020 §6.2.2, shared with GM/T 0031-2014).
/// ```text
/// SES_Header ::= SEQUENCE {
///     id      IA5String,  -- "ES"
///     version INTEGER,    -- 4 (v1: 1)
///     vid     IA5String   -- vendor identifier
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesHeader {
    /// Always "ES".
    pub id: Ia5String,
    /// Structure version.
    pub version: u32,
    /// Vendor identifier.
    pub vid: Ia5String,
}

/// Extension (GB/T 38540-2020 §6.2.6).
/// ```text
/// ExtData ::= SEQUENCE {
///     extnID    OBJECT IDENTIFIER,
///     critical  BOOLEAN DEFAULT FALSE,
///     extnValue OCTET STRING
/// }
/// ExtensionDatas ::= SEQUENCE OF ExtData
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ExtData {
    /// Extension OID.
    pub extn_id: ObjectIdentifier,
    /// Criticality; `Some(false)` when a producer encoded the default explicitly.
    #[asn1(optional = "true")]
    pub critical: Option<bool>,
    /// Value.
    pub extn_value: OctetString,
}

/// Seal picture (GB/T 38540-2020 §6.2.5; "Pictrue" is the standard's spelling).
/// ```text
/// SES_ESPictrueInfo ::= SEQUENCE {
///     type   IA5String,     -- "PNG", "SVG", "JPG", "GIF", "BMP", "ofd" …
///     data   OCTET STRING,
///     width  INTEGER,       -- display width in mm
///     height INTEGER        -- display height in mm
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesPictureInfo {
    /// Picture format.
    pub pic_type: Ia5String,
    /// Picture bytes.
    pub data: OctetString,
    /// Display width, mm.
    pub width: u32,
    /// Display height, mm.
    pub height: u32,
}

/// Seal properties, v4 (GB/T 38540-2020 §6.2.4).
/// ```text
/// SES_ESPropertyInfo ::= SEQUENCE {
///     type         INTEGER,
///     name         UTF8String,
///     certListType INTEGER,          -- 1: certs, 2: certDigestList
///     certList     SES_CertList,
///     createDate   GeneralizedTime,
///     validStart   GeneralizedTime,
///     validEnd     GeneralizedTime
/// }
/// SES_CertList ::= CHOICE {
///     certs          SEQUENCE OF OCTET STRING,          -- signer certificates, DER
///     certDigestList SEQUENCE OF CertDigestObj
/// }
/// CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }
/// ```
/// The CHOICE is untagged (both alternatives are SEQUENCEs), so `certList` is kept as [`Any`]
/// and decoded by `certListType` ([`SesPropertyInfoV4::certs`], [`SesPropertyInfoV4::cert_digests`]).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesPropertyInfoV4 {
    /// Seal type (no registry; ofdrw and the tax seals use 3).
    pub seal_type: i64,
    /// Seal name.
    pub name: String,
    /// 1 = certificates, 2 = certificate digests.
    pub cert_list_type: u32,
    /// The certificate list (see above).
    pub cert_list: Any,
    /// Creation time.
    pub create_date: GeneralizedTime,
    /// Start of validity.
    pub valid_start: GeneralizedTime,
    /// End of validity.
    pub valid_end: GeneralizedTime,
}

/// `CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }`
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertDigestObj {
    /// Digest algorithm name (e.g. "SM3").
    pub digest_type: der::asn1::PrintableString,
    /// Digest of the certificate DER.
    pub value: OctetString,
}

impl SesPropertyInfoV4 {
    /// The certificates (certListType 1).
    pub fn certs(&self) -> der::Result<Vec<OctetString>> {
        self.cert_list.decode_as()
    }

    /// The certificate digests (certListType 2).
    pub fn cert_digests(&self) -> der::Result<Vec<CertDigestObj>> {
        self.cert_list.decode_as()
    }
}

/// Seal information, v4 (GB/T 38540-2020 §6.2.1).
/// ```text
/// SES_SealInfo ::= SEQUENCE {
///     header   SES_Header,
///     esID     IA5String,
///     property SES_ESPropertyInfo,
///     picture  SES_ESPictrueInfo,
///     extDatas ExtensionDatas OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSealInfoV4 {
    /// Header.
    pub header: SesHeader,
    /// Seal identifier.
    pub es_id: Ia5String,
    /// Properties.
    pub property: SesPropertyInfoV4,
    /// Picture.
    pub picture: SesPictureInfo,
    /// Extensions.
    #[asn1(optional = "true")]
    pub ext_datas: Option<Vec<ExtData>>,
}

/// Electronic seal, v4 (GB/T 38540-2020 §6.1). The maker signs DER(`eSealInfo`).
/// ```text
/// SES_Seal ::= SEQUENCE {
///     eSealInfo   SES_SealInfo,
///     cert        OCTET STRING,        -- seal maker's certificate, DER
///     signAlgID   OBJECT IDENTIFIER,   -- 1.2.156.10197.1.501
///     signedValue BIT STRING           -- SM2 signature, DER SEQUENCE { r, s }
/// }
/// ```
/// GM/T 0031-2025 ("v5", header version 5) appends `timeStamp [0] OPTIONAL`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSealV4 {
    /// Seal information.
    pub e_seal_info: SesSealInfoV4,
    /// Maker certificate.
    pub cert: OctetString,
    /// Signature algorithm.
    pub sign_alg_id: ObjectIdentifier,
    /// Maker's signature.
    pub signed_value: BitString,
    /// v5 only: time stamp.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<Any>,
}

/// Data to be signed, v4 (GB/T 38540-2020 §7.2.2).
/// ```text
/// TBS_Sign ::= SEQUENCE {
///     version      INTEGER,            -- 4
///     eseal        SES_Seal,
///     timeInfo     GeneralizedTime,
///     dataHash     BIT STRING,         -- SM3 of the signed data (OFD: Signature.xml bytes)
///     propertyInfo IA5String,          -- OFD: "/Doc_0/Signs/Sign_0/Signature.xml"
///     extDatas     [0] EXPLICIT ExtensionDatas OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsSignV4 {
    /// Version (4).
    pub version: u32,
    /// The seal.
    pub eseal: SesSealV4,
    /// Signing time.
    pub time_info: GeneralizedTime,
    /// Hash of the signed data.
    pub data_hash: BitString,
    /// What was signed.
    pub property_info: Ia5String,
    /// Extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ext_datas: Option<Vec<ExtData>>,
}

/// Electronic signature, v4 (GB/T 38540-2020 §7.1).
/// ```text
/// SES_Signature ::= SEQUENCE {
///     toSign         TBS_Sign,
///     cert           OCTET STRING,       -- signer's certificate, DER
///     signatureAlgID OBJECT IDENTIFIER,
///     signature      BIT STRING,         -- SM2 over DER(toSign)
///     timeStamp      [0] EXPLICIT BIT STRING OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSignatureV4 {
    /// Signed part.
    pub to_sign: TbsSignV4,
    /// Signer certificate.
    pub cert: OctetString,
    /// Signature algorithm.
    pub signature_alg_id: ObjectIdentifier,
    /// Signature.
    pub signature: BitString,
    /// RFC 3161 time-stamp token over `signature`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<BitString>,
}

/// Seal properties, v1 (GM/T 0031-2014 §5.2).
/// ```text
/// SES_ESPropertyInfo ::= SEQUENCE {
///     type       INTEGER,
///     name       UTF8String,
///     certList   SEQUENCE OF OCTET STRING,   -- signer certificates
///     createDate UTCTime,
///     validStart UTCTime,
///     validEnd   UTCTime
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesPropertyInfoV1 {
    /// Seal type.
    pub seal_type: i64,
    /// Seal name.
    pub name: String,
    /// Signer certificates.
    pub cert_list: Vec<OctetString>,
    /// Creation time.
    pub create_date: UtcTime,
    /// Start of validity.
    pub valid_start: UtcTime,
    /// End of validity.
    pub valid_end: UtcTime,
}

/// Seal information, v1 (GM/T 0031-2014 §5.1): header, esID, property, picture, extDatas.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSealInfoV1 {
    /// Header (version 1).
    pub header: SesHeader,
    /// Seal identifier.
    pub es_id: Ia5String,
    /// Properties.
    pub property: SesPropertyInfoV1,
    /// Picture.
    pub picture: SesPictureInfo,
    /// Extensions.
    #[asn1(optional = "true")]
    pub ext_datas: Option<Vec<ExtData>>,
}

/// Maker's signature block, v1.
/// ```text
/// SES_SignInfo ::= SEQUENCE {
///     cert               OCTET STRING,
///     signatureAlgorithm OBJECT IDENTIFIER,
///     signData           BIT STRING    -- over DER SEQUENCE { esealInfo, cert, signatureAlgorithm }
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSignInfoV1 {
    /// Maker certificate.
    pub cert: OctetString,
    /// Signature algorithm.
    pub signature_algorithm: ObjectIdentifier,
    /// Maker's signature.
    pub sign_data: BitString,
}

/// Electronic seal, v1: `SESeal ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSealV1 {
    /// Seal information.
    pub eseal_info: SesSealInfoV1,
    /// Maker's signature.
    pub sign_info: SesSignInfoV1,
}

/// Data to be signed, v1 (GM/T 0031-2014 §6.2).
/// ```text
/// TBS_Sign ::= SEQUENCE {
///     version            INTEGER,
///     eseal              SESeal,
///     timeInfo           BIT STRING,
///     dataHash           BIT STRING,
///     propertyInfo       IA5String,
///     cert               OCTET STRING,
///     signatureAlgorithm OBJECT IDENTIFIER
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsSignV1 {
    /// Version.
    pub version: u32,
    /// The seal.
    pub eseal: SesSealV1,
    /// Signing time (free-form bytes; ofdrw writes "yyyy-MM-dd HH:mm:ss").
    pub time_info: BitString,
    /// Hash of the signed data.
    pub data_hash: BitString,
    /// What was signed.
    pub property_info: Ia5String,
    /// Signer certificate.
    pub cert: OctetString,
    /// Signature algorithm.
    pub signature_algorithm: ObjectIdentifier,
}

/// Electronic signature, v1: `SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SesSignatureV1 {
    /// Signed part.
    pub to_sign: TbsSignV1,
    /// Signature.
    pub signature: BitString,
}
