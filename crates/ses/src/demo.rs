//! A trial certification authority (R-7.1d: "may create its own only for trials").
//!
//! Every name it puts into a certificate carries the mark "试用 TEST", and its root is named
//! "试用 TEST 根CA — NOT A REAL CA", so that nobody mistakes its certificates for a licensed
//! CA's. Production keys and certificates must come from a licensed CA (import them with
//! [`crate::pkcs12`] or [`crate::sm::Sm2KeyPair::from_pem`]).

use crate::error::{Error, Result};
use crate::pki::{Cert, UnixTime};
use crate::sm::{CertifiedKey, Sm2KeyPair};
use der::Encode;
use der::asn1::OctetString;
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// The mark every demo name carries (R-7.1d).
pub const TEST_MARK: &str = "试用 TEST";

/// What a demo certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The demo root CA itself.
    RootCa,
    /// The seal maker (制章者), who signs SES_Seal structures.
    SealMaker,
    /// A signer (签章者), who seals documents.
    Signer,
}

struct Profile {
    subject: Name,
    issuer: Option<Name>,
    role: Role,
}

fn ext<T: Encode + der::oid::AssociatedOid>(
    v: &T,
    critical: bool,
) -> x509_cert::builder::Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(v.to_der()?)?,
    })
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: spki::SubjectPublicKeyInfoRef<'_>,
        issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let ca = self.role == Role::RootCa;
        let mut v = vec![ext(
            &BasicConstraints {
                ca,
                path_len_constraint: if ca { Some(0) } else { None },
            },
            true,
        )?];
        let ku = if ca {
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
        } else {
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)
        };
        v.push(ext(&ku, true)?);
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        v.push(ext(&ski, false)?);
        let aki_src = SubjectKeyIdentifier::try_from(issuer_spk)?;
        v.push(ext(
            &AuthorityKeyIdentifier {
                key_identifier: Some(aki_src.0),
                ..Default::default()
            },
            false,
        )?);
        Ok(v)
    }
}

/// Adds the test mark to a common name unless it already carries it.
pub fn mark(name: &str) -> String {
    if name.contains(TEST_MARK) || (name.contains("试用") && name.contains("TEST")) {
        name.to_string()
    } else {
        format!("{TEST_MARK} {name}")
    }
}

fn time(t: UnixTime) -> Result<Time> {
    let st = UNIX_EPOCH
        + Duration::from_secs(
            u64::try_from(t).map_err(|_| Error::Invalid("time before 1970".into()))?,
        );
    Time::try_from(st).map_err(|e| Error::encode("certificate validity", e))
}

fn escape_dn(v: &str) -> String {
    let mut s = String::new();
    for c in v.chars() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

fn name(cn: &str, org: &str) -> Result<Name> {
    Name::from_str(&format!(
        "CN={},O={},C=CN",
        escape_dn(&mark(cn)),
        escape_dn(&mark(org))
    ))
    .map_err(|e| Error::encode("X.509 name", e))
}

fn serial() -> Result<SerialNumber> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Key(format!("random serial: {e}")))?;
    b[0] &= 0x7f;
    b[0] |= 0x01;
    SerialNumber::new(&b).map_err(|e| Error::encode("serial number", e))
}

/// The demo root CA.
#[derive(Clone, Debug)]
pub struct DemoCa {
    /// Root key and self-signed certificate.
    pub root: CertifiedKey,
    org: String,
}

impl DemoCa {
    /// Creates a new root, valid for ten years from now, for organisation `org`
    /// (the name is marked "试用 TEST").
    pub fn new(org: &str) -> Result<Self> {
        let now = crate::pki::now();
        Self::new_with_validity(org, now - 3600, now + 10 * 366 * 86400)
    }

    /// Creates a new root valid in `[not_before, not_after]`.
    pub fn new_with_validity(org: &str, not_before: UnixTime, not_after: UnixTime) -> Result<Self> {
        let key = Sm2KeyPair::generate()?;
        let subject = name("根CA — NOT A REAL CA", org)?;
        let profile = Profile {
            subject,
            issuer: None,
            role: Role::RootCa,
        };
        let cert = build(profile, &key, &key, not_before, not_after)?;
        Ok(Self {
            root: CertifiedKey::new(key, cert)?,
            org: org.to_string(),
        })
    }

    /// The root certificate.
    pub fn root_cert(&self) -> Result<Cert> {
        Cert::from_der(&self.root.cert_der)
    }

    /// Issues a certificate for a new key, valid for `days` from now.
    pub fn issue(&self, common_name: &str, role: Role, days: i64) -> Result<CertifiedKey> {
        let now = crate::pki::now();
        self.issue_with_validity(common_name, role, now - 3600, now + days * 86400)
    }

    /// Issues a certificate for a new key valid in `[not_before, not_after]`.
    pub fn issue_with_validity(
        &self,
        common_name: &str,
        role: Role,
        not_before: UnixTime,
        not_after: UnixTime,
    ) -> Result<CertifiedKey> {
        if role == Role::RootCa {
            return Err(Error::Invalid(
                "the demo CA issues no further CA certificates".into(),
            ));
        }
        let key = Sm2KeyPair::generate()?;
        let root = self.root_cert()?;
        let profile = Profile {
            subject: name(common_name, &self.org)?,
            issuer: Some(root.inner().tbs_certificate().subject().clone()),
            role,
        };
        let cert = build(profile, &key, &self.root.key, not_before, not_after)?;
        CertifiedKey::new(key, cert)
    }

    /// A CRL (DER) revoking the given certificates at `revoked_at`, valid for 30 days.
    pub fn crl(&self, revoked: &[&Cert], revoked_at: UnixTime) -> Result<Vec<u8>> {
        use x509_cert::crl::RevokedCert;
        let root = self.root_cert()?;
        let now = crate::pki::now();
        let e = |e| Error::encode("CRL", e);
        let mut list = Vec::new();
        for c in revoked {
            list.push(RevokedCert {
                serial_number: c.inner().tbs_certificate().serial_number().clone(),
                revocation_date: time(revoked_at)?,
                crl_entry_extensions: None,
            });
        }
        let b = CrlBuilder::new_with_this_update(
            root.inner(),
            x509_cert::ext::pkix::CrlNumber::from(der::asn1::Uint::new(&[1]).map_err(e)?),
            time(now - 60)?,
        )
        .map_err(e)?
        .with_next_update(Some(time(now + 30 * 86400)?))
        .with_certificates(list.into_iter());
        let crl = b
            .build::<_, crate::sm::DerSignature>(&self.root.key)
            .map_err(|x| Error::Certificate(format!("CRL: {x}")))?;
        crl.to_der().map_err(e)
    }
}

fn build(
    profile: Profile,
    subject_key: &Sm2KeyPair,
    issuer_key: &Sm2KeyPair,
    nb: UnixTime,
    na: UnixTime,
) -> Result<Vec<u8>> {
    let spki_der = subject_key.public_key_der()?;
    let spki = <spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(&spki_der)
        .map_err(|e| Error::asn1("SubjectPublicKeyInfo", e))?;
    let validity = Validity::new(time(nb)?, time(na)?);
    let b = CertificateBuilder::new(profile, serial()?, validity, spki)
        .map_err(|e| Error::Certificate(format!("builder: {e}")))?;
    let cert = b
        .build::<_, crate::sm::DerSignature>(issuer_key)
        .map_err(|e| Error::Certificate(format!("signing: {e}")))?;
    cert.to_der().map_err(|e| Error::encode("certificate", e))
}

/// Files written by [`create_demo_dir`].
#[derive(Clone, Debug)]
pub struct DemoFiles {
    /// `root.pem`: the trust root to pass to `ecert verify --trust`.
    pub root_pem: std::path::PathBuf,
    /// `maker.pem` / `maker.key.pem`: the seal maker.
    pub maker_pem: std::path::PathBuf,
    /// `signer.pem`: the signer certificate.
    pub signer_pem: std::path::PathBuf,
    /// `signer.key.pem`: the signer key (PKCS#8 PEM, unencrypted: trial material only).
    pub signer_key_pem: std::path::PathBuf,
    /// `seal.esl`: the v4 seal binding the signer.
    pub seal: std::path::PathBuf,
}

fn write(path: &std::path::Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Creates a trial CA, a seal maker, a signer and a v4 seal named `seal_name` (marked
/// "试用 TEST") with `picture` (or a plain red ring, 40×40 mm) in `dir` (R-7.1d: trials only).
pub fn create_demo_dir(
    dir: &std::path::Path,
    org: &str,
    seal_name: &str,
    picture: Option<crate::seal::Picture>,
) -> Result<DemoFiles> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let ca = DemoCa::new(org)?;
    let maker = ca.issue("制章者 seal maker", Role::SealMaker, 3 * 366)?;
    let signer = ca.issue("签章人 signer", Role::Signer, 3 * 366)?;
    let now = crate::pki::now();
    let picture = picture.unwrap_or_else(|| crate::seal::Picture {
        format: crate::seal::PictureFormat::Png,
        data: ofd::sample::sample_png(400),
        width_mm: 40,
        height_mm: 40,
    });
    let seal = crate::seal::make_seal(
        &crate::seal::SealParams {
            vid: "ecert-demo".into(),
            es_id: format!("TEST-{now}"),
            seal_type: 3,
            name: mark(seal_name),
            signer_certs: vec![signer.cert_der.clone()],
            created: now,
            valid_start: now - 3600,
            valid_end: now + 3 * 366 * 86400,
            picture,
        },
        &maker,
    )?;
    let f = DemoFiles {
        root_pem: dir.join("root.pem"),
        maker_pem: dir.join("maker.pem"),
        signer_pem: dir.join("signer.pem"),
        signer_key_pem: dir.join("signer.key.pem"),
        seal: dir.join("seal.esl"),
    };
    write(&f.root_pem, ca.root_cert()?.to_pem().as_bytes())?;
    write(
        &f.maker_pem,
        Cert::from_der(&maker.cert_der)?.to_pem().as_bytes(),
    )?;
    write(
        &dir.join("maker.key.pem"),
        maker.key.to_pkcs8_pem()?.as_bytes(),
    )?;
    write(
        &dir.join("root.key.pem"),
        ca.root.key.to_pkcs8_pem()?.as_bytes(),
    )?;
    write(
        &f.signer_pem,
        Cert::from_der(&signer.cert_der)?.to_pem().as_bytes(),
    )?;
    write(&f.signer_key_pem, signer.key.to_pkcs8_pem()?.as_bytes())?;
    write(&f.seal, &seal)?;
    write(
        &dir.join("README.txt"),
        "试用 TEST — 本目录中的 CA、证书、密钥和印章仅供试用，不具法律效力，不得用于正式证书（R-7.1d）。\n\
         TRIAL ONLY — this CA, its certificates, keys and seal are for tests and trials; they prove nothing.\n\
         root.pem: trust root for `ecert verify --trust root.pem`; seal.esl: GB/T 38540 v4 seal;\n\
         signer.pem + signer.key.pem: the signer bound to the seal.\n"
            .as_bytes(),
    )?;
    Ok(f)
}

/// Loads a signer from a certificate file (PEM or DER) and a key file (PKCS#8 PEM, encrypted
/// PKCS#8 PEM with `password`, or SEC 1 PEM).
pub fn load_signer(
    cert: &std::path::Path,
    key: &std::path::Path,
    password: Option<&str>,
) -> Result<CertifiedKey> {
    let c = read(cert)?;
    let cert_der = if c.starts_with(b"-----") {
        let text = String::from_utf8_lossy(&c).into_owned();
        Cert::from_pem_bundle(&text)?.remove(0).der().to_vec()
    } else {
        c
    };
    let k = String::from_utf8(read(key)?)
        .map_err(|_| Error::Key(format!("{}: not a PEM text file", key.display())))?;
    CertifiedKey::new(Sm2KeyPair::from_pem(&k, password)?, cert_der)
}

/// Loads `(seal, signer)` from a directory written by [`create_demo_dir`].
pub fn load_demo_dir(dir: &std::path::Path) -> Result<(Vec<u8>, CertifiedKey)> {
    let signer = load_signer(&dir.join("signer.pem"), &dir.join("signer.key.pem"), None)?;
    Ok((read(&dir.join("seal.esl"))?, signer))
}
