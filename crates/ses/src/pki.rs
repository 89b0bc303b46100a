//! X.509 certificates with SM2 keys, trust roots, chains, validity periods and CRLs (R-7.1b,
//! R-7.1d).
//!
//! Chain validation is deliberately small and strict: the path is built from the configured
//! intermediates and roots by issuer name, every link's SM2 signature is checked over the
//! *original* TBS bytes, every certificate must be within its validity period at the time asked
//! about, every issuer except a configured root must be a CA (basicConstraints), and a CRL from a
//! file is applied when its issuer signed it. Nothing is fetched from the network.
//!
//! Defends against: certificates chaining to a root by name only (signatures are checked),
//! expired or not-yet-valid links, revoked certificates listed in a configured CRL, forged CRLs
//! (their signature is checked), loops (depth cap [`MAX_CHAIN`]).

use crate::ber;
use crate::error::{Error, Result};
use crate::sm::{self, VerifyError};
use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::BasicConstraints;

/// Longest chain followed.
pub const MAX_CHAIN: usize = 8;

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixTime = i64;

/// A parsed certificate together with its DER bytes.
#[derive(Clone, Debug)]
pub struct Cert {
    der: Vec<u8>,
    cert: Certificate,
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

/// The attribute types certificates carry, with the names x509-cert's `Display` gives them (its
/// shortest name in the OID database, in capitals).
const ATTRIBUTE_NAMES: [(der::asn1::ObjectIdentifier, &str); 11] = [
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.4"), "SN"),
    (
        der::asn1::ObjectIdentifier::new_unwrap("2.5.4.5"),
        "SERIALNUMBER",
    ),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (der::asn1::ObjectIdentifier::new_unwrap("2.5.4.12"), "TITLE"),
    (
        der::asn1::ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
];

/// `name` as an RFC 4514 string, exactly as x509-cert's `Display` writes it, without its scan of
/// the whole OID database for every attribute (a dozen names per verification report): the
/// attribute types of [`ATTRIBUTE_NAMES`] with a UTF8String or PrintableString value are written
/// here, anything else by x509-cert.
fn name_text(name: &x509_cert::name::Name) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    // RFC 4514 §2.1: the last RDN first.
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let key = ATTRIBUTE_NAMES
                .iter()
                .find(|(oid, _)| *oid == atv.oid)
                .map(|(_, k)| *k);
            let value = match der::Tagged::tag(&atv.value) {
                der::Tag::Utf8String => der::asn1::Utf8StringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str()),
                der::Tag::PrintableString => der::asn1::PrintableStringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str()),
                _ => None,
            };
            match (key, value) {
                (Some(key), Some(value)) => {
                    out.push_str(key);
                    out.push('=');
                    escape_rfc4514(&mut out, value);
                }
                _ => {
                    let _ = write!(out, "{atv}");
                }
            }
        }
    }
    out
}

/// RFC 4514 §2.4 escaping of an attribute value, as x509-cert writes it.
fn escape_rfc4514(out: &mut String, value: &str) {
    use std::fmt::Write;
    let mut chars = value.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\{:02x}", c as u8);
            }
            _ => out.push(c),
        }
    }
}

fn unix(t: &x509_cert::time::Time) -> UnixTime {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Formats a Unix time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(t: UnixTime) -> String {
    match u64::try_from(t)
        .ok()
        .and_then(|s| der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok())
    {
        Some(d) => format!("{d}"),
        None => format!("@{t}"),
    }
}

impl Cert {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = Certificate::from_der(der)
            .map_err(|e| Error::Certificate(format!("X.509 DER: {e}")))?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text (a bundle).
    pub fn from_pem_bundle(pem: &str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        let mut rest = pem;
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let end_marker = "-----END CERTIFICATE-----";
            let Some(end) = rest[start..].find(end_marker) else {
                return Err(Error::Certificate(
                    "PEM: unterminated CERTIFICATE block".into(),
                ));
            };
            let block = &rest[start..start + end + end_marker.len()];
            let (_, der) = der::pem::decode_vec(block.as_bytes())
                .map_err(|e| Error::Certificate(format!("PEM: {e}")))?;
            out.push(Self::from_der(&der)?);
            rest = &rest[start + end + end_marker.len()..];
        }
        if out.is_empty() {
            return Err(Error::Certificate(
                "no CERTIFICATE block in the PEM text".into(),
            ));
        }
        Ok(out)
    }

    /// PEM of this certificate.
    pub fn to_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.der)
            .unwrap_or_default()
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn inner(&self) -> &Certificate {
        &self.cert
    }

    /// Subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        name_text(self.cert.tbs_certificate().subject())
    }

    /// Issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        name_text(self.cert.tbs_certificate().issuer())
    }

    /// Serial number, hex.
    pub fn serial_hex(&self) -> String {
        hex(self.cert.tbs_certificate().serial_number().as_bytes())
    }

    /// notBefore.
    pub fn not_before(&self) -> UnixTime {
        unix(&self.cert.tbs_certificate().validity().not_before)
    }

    /// notAfter.
    pub fn not_after(&self) -> UnixTime {
        unix(&self.cert.tbs_certificate().validity().not_after)
    }

    /// True when `at` lies within [notBefore, notAfter].
    pub fn valid_at(&self, at: UnixTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// The subject public key as an uncompressed SEC 1 point.
    pub fn public_key_point(&self) -> &[u8] {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .as_bytes()
            .unwrap_or_default()
    }

    /// Verifies a DER SM2 signature over `msg` with this certificate's key.
    pub fn verify(&self, msg: &[u8], sig_der: &[u8]) -> Result<(), VerifyError> {
        let spki = der::referenced::OwnedToRef::owned_to_ref(
            self.cert.tbs_certificate().subject_public_key_info(),
        );
        sm::verify_spki(&spki, msg, sig_der)
    }

    /// The original DER bytes of the TBSCertificate (what the issuer signed).
    fn tbs_raw(&self) -> Option<&[u8]> {
        let outer = ber::parse(&self.der).ok()?;
        let kids = outer.children().ok()?;
        kids.first().map(|t| t.raw)
    }

    /// Checks that `issuer`'s key signed this certificate (SM3withSM2 only).
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), VerifyError> {
        if !sm::is_sm2_signature_oid(&self.cert.signature_algorithm().oid) {
            return Err(VerifyError::BadKey(format!(
                "signature algorithm {} is not SM3withSM2",
                self.cert.signature_algorithm().oid
            )));
        }
        let tbs = self.tbs_raw().ok_or(VerifyError::BadEncoding)?;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or(VerifyError::BadEncoding)?;
        issuer.verify(tbs, sig)
    }

    /// basicConstraints cA.
    pub fn is_ca(&self) -> bool {
        matches!(self.cert.tbs_certificate().get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca)
    }

    fn subject_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate()
            .subject()
            .to_der()
            .unwrap_or_default()
    }

    fn issuer_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate()
            .issuer()
            .to_der()
            .unwrap_or_default()
    }

    /// SM3 of the DER, hex (a fingerprint for reports).
    pub fn sm3_fingerprint(&self) -> String {
        hex(&sm::sm3(&self.der))
    }

    /// A short summary for reports.
    pub fn summary(&self) -> CertSummary {
        CertSummary {
            subject: self.subject(),
            issuer: self.issuer(),
            serial: self.serial_hex(),
            not_before: format_time(self.not_before()),
            not_after: format_time(self.not_after()),
            sm3: self.sm3_fingerprint(),
        }
    }
}

/// What a report says about a certificate.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CertSummary {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// notBefore (UTC).
    pub not_before: String,
    /// notAfter (UTC).
    pub not_after: String,
    /// SM3 fingerprint of the DER.
    pub sm3: String,
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A certificate revocation list read from a file.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Vec<u8>,
    crl: CertificateList,
}

impl Crl {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let crl = CertificateList::from_der(der)
            .map_err(|e| Error::Certificate(format!("CRL DER: {e}")))?;
        Ok(Self {
            der: der.to_vec(),
            crl,
        })
    }

    /// Parses PEM (`X509 CRL`) or DER, whichever `bytes` is.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self> {
        if bytes.starts_with(b"-----BEGIN") {
            let (_, der) = der::pem::decode_vec(bytes)
                .map_err(|e| Error::Certificate(format!("CRL PEM: {e}")))?;
            Self::from_der(&der)
        } else {
            Self::from_der(bytes)
        }
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    fn signed_by(&self, issuer: &Cert) -> bool {
        if self.crl.tbs_cert_list.issuer.to_der().ok() != Some(issuer.subject_der()) {
            return false;
        }
        let Some(tbs) = ber::parse(&self.der)
            .ok()
            .and_then(|t| t.children().ok())
            .and_then(|k| k.first().map(|t| t.raw.to_vec()))
        else {
            return false;
        };
        let Some(sig) = self.crl.signature.as_bytes() else {
            return false;
        };
        sm::is_sm2_signature_oid(&self.crl.signature_algorithm.oid)
            && issuer.verify(&tbs, sig).is_ok()
    }

    /// The revocation time of `serial` if listed.
    fn revoked(&self, serial: &[u8]) -> Option<UnixTime> {
        self.crl
            .tbs_cert_list
            .revoked_certificates
            .as_ref()?
            .iter()
            .find(|r| r.serial_number.as_bytes() == serial)
            .map(|r| unix(&r.revocation_date))
    }
}

/// Trust configuration: roots, optional intermediates, CRLs.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    roots: Vec<Cert>,
    intermediates: Vec<Cert>,
    crls: Vec<Crl>,
}

/// Outcome of chain validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChainStatus {
    /// A valid path to a configured root exists; subjects from leaf to root.
    Valid {
        /// Subjects leaf → root.
        path: Vec<String>,
        /// CRL notes ("no CRL for issuer …").
        notes: Vec<String>,
    },
    /// No trust root is configured: nothing can be said (INDETERMINATE).
    NoRootConfigured,
    /// No path to a configured root was found.
    NoPath {
        /// Why.
        reason: String,
    },
    /// A certificate in the path is outside its validity period at the time asked about.
    OutOfValidity {
        /// Which certificate.
        subject: String,
        /// Its notBefore.
        not_before: String,
        /// Its notAfter.
        not_after: String,
        /// The time asked about.
        at: String,
    },
    /// A certificate in the path is revoked by a configured CRL.
    Revoked {
        /// Which certificate.
        subject: String,
        /// Serial (hex).
        serial: String,
        /// Revocation time.
        revoked_at: String,
    },
}

impl TrustStore {
    /// An empty store (no roots: every chain is [`ChainStatus::NoRootConfigured`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a trust root.
    pub fn add_root(&mut self, c: Cert) {
        self.roots.push(c);
    }

    /// Adds every certificate of a PEM bundle as a trust root.
    pub fn add_roots_pem(&mut self, pem: &str) -> Result<usize> {
        let v = Cert::from_pem_bundle(pem)?;
        let n = v.len();
        self.roots.extend(v);
        Ok(n)
    }

    /// Adds an intermediate CA certificate (not trusted by itself).
    pub fn add_intermediate(&mut self, c: Cert) {
        self.intermediates.push(c);
    }

    /// Adds a CRL (applied only when its issuer's signature on it verifies).
    pub fn add_crl(&mut self, crl: Crl) {
        self.crls.push(crl);
    }

    /// True when no root is configured.
    pub fn has_roots(&self) -> bool {
        !self.roots.is_empty()
    }

    /// The configured roots.
    pub fn roots(&self) -> &[Cert] {
        &self.roots
    }

    /// Validates `leaf` at time `at`, with `extra` certificates from the document as possible
    /// intermediates (never as roots).
    pub fn validate(&self, leaf: &Cert, extra: &[Cert], at: UnixTime) -> ChainStatus {
        if self.roots.is_empty() {
            return ChainStatus::NoRootConfigured;
        }
        let mut path = vec![leaf.clone()];
        loop {
            let Some(cur) = path.last().cloned() else {
                return ChainStatus::NoPath {
                    reason: "empty path".into(),
                };
            };
            if let Some(bad) = out_of_validity(&cur, at) {
                return bad;
            }
            if self.roots.contains(&cur) {
                break;
            }
            if path.len() > MAX_CHAIN {
                return ChainStatus::NoPath {
                    reason: format!("no root within {MAX_CHAIN} links"),
                };
            }
            let issuer_der = cur.issuer_der();
            let mut found = None;
            let mut why = format!(
                "no configured root or intermediate named \"{}\"",
                cur.issuer()
            );
            for (cand, is_root) in self.roots.iter().map(|c| (c, true)).chain(
                self.intermediates
                    .iter()
                    .chain(extra.iter())
                    .map(|c| (c, false)),
            ) {
                if cand.subject_der() != issuer_der || path.contains(cand) {
                    continue;
                }
                if !is_root && !cand.is_ca() {
                    why = format!("\"{}\" is not a CA certificate", cand.subject());
                    continue;
                }
                match cur.verify_signed_by(cand) {
                    Ok(()) => {
                        found = Some(cand.clone());
                        break;
                    }
                    Err(e) => {
                        why = format!(
                            "signature of \"{}\" by \"{}\": {e}",
                            cur.subject(),
                            cand.subject()
                        )
                    }
                }
            }
            match found {
                Some(c) => path.push(c),
                None => return ChainStatus::NoPath { reason: why },
            }
        }
        // Revocation: each non-root certificate against CRLs its issuer signed.
        let mut notes = Vec::new();
        for pair in path.windows(2) {
            let (cert, issuer) = (&pair[0], &pair[1]);
            let crls: Vec<&Crl> = self.crls.iter().filter(|c| c.signed_by(issuer)).collect();
            if crls.is_empty() {
                notes.push(format!(
                    "no CRL configured for issuer \"{}\"",
                    issuer.subject()
                ));
                continue;
            }
            let serial = cert
                .cert
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .to_vec();
            for crl in crls {
                if let Some(t) = crl.revoked(&serial) {
                    if t <= at {
                        return ChainStatus::Revoked {
                            subject: cert.subject(),
                            serial: cert.serial_hex(),
                            revoked_at: format_time(t),
                        };
                    }
                    notes.push(format!(
                        "\"{}\" was revoked at {}, after the time checked",
                        cert.subject(),
                        format_time(t)
                    ));
                }
            }
        }
        ChainStatus::Valid {
            path: path.iter().map(Cert::subject).collect(),
            notes,
        }
    }
}

fn out_of_validity(c: &Cert, at: UnixTime) -> Option<ChainStatus> {
    if c.valid_at(at) {
        return None;
    }
    Some(ChainStatus::OutOfValidity {
        subject: c.subject(),
        not_before: format_time(c.not_before()),
        not_after: format_time(c.not_after()),
        at: format_time(at),
    })
}

/// The current time.
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

    fn atv(oid: &str, tag: der::Tag, value: &str) -> AttributeTypeAndValue {
        AttributeTypeAndValue {
            oid: der::asn1::ObjectIdentifier::new_unwrap(oid),
            value: der::Any::new(tag, value.as_bytes()).expect("any"),
        }
    }

    /// Our text of every name is x509-cert's `Display`, for every attribute type of the table,
    /// both string types, the values RFC 4514 escapes, multi-valued RDNs and types it does not
    /// know (written by x509-cert).
    #[test]
    fn name_text_is_x509_certs_display() {
        let mut names: Vec<Name> = [
            "CN=示例市计量测试研究院 电子印章,O=示例市计量测试研究院,C=CN",
            "CN=a+OU=b,O=c",
            "UID=u1,CN=x",
        ]
        .iter()
        .map(|s| Name::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect();
        let mut rdns = Vec::new();
        for (oid, _) in ATTRIBUTE_NAMES {
            let oid = oid.to_string();
            for tag in [der::Tag::PrintableString, der::Tag::Utf8String] {
                rdns.push(RelativeDistinguishedName::from(
                    der::asn1::SetOfVec::try_from(vec![atv(&oid, tag, "Value 1")]).expect("set"),
                ));
            }
            rdns.push(RelativeDistinguishedName::from(
                der::asn1::SetOfVec::try_from(vec![atv(&oid, der::Tag::Ia5String, "ia5")])
                    .expect("set"),
            ));
            rdns.push(RelativeDistinguishedName::from(
                der::asn1::SetOfVec::try_from(vec![atv(
                    &oid,
                    der::Tag::Utf8String,
                    "ctl\u{1}\u{7f}",
                )])
                .expect("set"),
            ));
        }
        for value in [
            "#lead",
            "trail ",
            " lead",
            "a,b",
            "x+y",
            "q\"u;o<t>e\\s",
            "工程师",
        ] {
            rdns.push(RelativeDistinguishedName::from(
                der::asn1::SetOfVec::try_from(vec![atv("2.5.4.3", der::Tag::Utf8String, value)])
                    .expect("set"),
            ));
        }
        for oid in [
            "1.2.3.4",
            "1.2.840.113549.1.9.1",
            "0.9.2342.19200300.100.1.1",
        ] {
            rdns.push(RelativeDistinguishedName::from(
                der::asn1::SetOfVec::try_from(vec![atv(oid, der::Tag::Utf8String, "other")])
                    .expect("set"),
            ));
        }
        let der = RdnSequence::from(rdns).to_der().expect("der");
        names.push(Name::from_der(&der).expect("name"));
        for name in &names {
            assert_eq!(name_text(name), name.to_string());
        }
        assert_eq!(
            name_text(&names[0]),
            "CN=示例市计量测试研究院 电子印章,O=示例市计量测试研究院,C=CN"
        );
    }
}
