//! The seal library and sealing: the newest active seal of a kind, checked
//! once and kept with its decrypted signer; a stamp at the seal's own size in the template's
//! slot, a riding seam over several pages; then our own verifier's check of the sealed file.

use std::sync::{Arc, Mutex};

use ecert_store::NewSeal;
use zeroize::Zeroizing;

use super::error::{bug, io};
use super::{
    Actor, CertTime, Error, Instance, Result, SEAL_FONT, StaffRole, TRIAL_CA_DIR, internal,
    random_hex,
};
use crate::domain::CertificateKind;
use crate::seal_image::{SealDesign, SealKind};

/// Where a stamp of a seal `size` (mm) goes in `slot`: at the seal's own size (a seal is never
/// printed larger or smaller than it is), centred in the slot; a seal larger than the slot the
/// template reserves for it is refused, naming both sizes.
pub(crate) fn stamp_in_slot(
    size: (f64, f64),
    slot: ecert_layout::geom::Rect,
    seal_name: &str,
) -> Result<ecert_layout::geom::Rect> {
    let (w, h) = size;
    const SLACK_MM: f64 = 0.01;
    if w > slot.w + SLACK_MM || h > slot.h + SLACK_MM {
        return Err(Error::SealTooLarge {
            seal: seal_name.to_owned(),
            seal_mm: (w, h),
            slot_mm: (slot.w, slot.h),
        });
    }
    Ok(ecert_layout::geom::Rect::new(
        slot.x + (slot.w - w) / 2.0,
        slot.y + (slot.h - h) / 2.0,
        w,
        h,
    ))
}

/// A seal checked for its signer (maker signature, certificate list) and the signer's key,
/// kept for the life of the instance so that each certificate pays only for its own signature.
pub(crate) struct Sealer {
    checked: ses::sign::CheckedSeal,
    signer: ses::sm::CertifiedKey,
}

/// Which electronic-certificate seal a kind is sealed with.
pub fn seal_kind_for(kind: CertificateKind) -> SealKind {
    match kind {
        CertificateKind::Verification
        | CertificateKind::VerificationResultNotice
        | CertificateKind::ArbitrationVerification => SealKind::Verification,
        CertificateKind::Calibration => SealKind::Calibration,
        CertificateKind::PrepackagedGoods | CertificateKind::EnergyEfficiencyLabel => {
            SealKind::Inspection
        }
        CertificateKind::TypeEvaluation | CertificateKind::Other => SealKind::Testing,
    }
}

/// The stored kind text of a seal kind (检定/校准/检验/检测).
pub fn seal_kind_code(kind: SealKind) -> &'static str {
    match kind {
        SealKind::Verification => "检定",
        SealKind::Calibration => "校准",
        SealKind::Inspection => "检验",
        SealKind::Testing => "检测",
    }
}

/// The seal a certificate of one kind is sealed with: the newest active seal of the
/// kind, checked for its signer, with the signer's key. Fetched on the runtime (the store), then
/// handed to the CPU part of issuing.
#[derive(Clone)]
pub(crate) struct ActiveSeal {
    /// The seal's name in the library (for the audit entry and errors).
    pub(crate) name: String,
    sealer: Arc<Sealer>,
    /// The time the sealing relies on, checked when the seal was fetched (R-7.2.2a).
    time: super::time::TimeProof,
}

impl ActiveSeal {
    /// The seal picture's printed size (mm).
    pub(crate) fn size_mm(&self) -> (f64, f64) {
        self.sealer.checked.size_mm()
    }
}

/// Seals a finished package with `seal`: a stamp at the seal's own size
/// centred in `seal_slot` on page 1 and a riding seam over all pages when there are several
/// then our own strict verifier, with the instance's trust roots (`verify`), must
/// PASS the file: the [`Sealed`] it returns carries that proof (`ses::verify::Verified`), and
/// no record is made without one. No INDETERMINATE outcome is accepted — an issuer verifies
/// against its own roots (a demo's trial root, a real institute's CA roots), so its chains can
/// be decided. CPU only: no store, no runtime.
pub(crate) fn seal_checked(
    package: &mut ofd::Package,
    seal: &ActiveSeal,
    seal_slot: ecert_layout::geom::Rect,
    page_count: usize,
    verify: &ses::verify::VerifyOptions,
) -> Result<Sealed> {
    let sealer = &seal.sealer;
    let s = stamp_in_slot(sealer.checked.size_mm(), seal_slot, &seal.name)?;
    let options = ses::sign::SealOptions {
        stamps: vec![ses::sign::Stamp {
            page: 0,
            boundary: ses::sign::BoxMm {
                x: s.x,
                y: s.y,
                w: s.w,
                h: s.h,
            },
        }],
        riding_seam: (page_count > 1).then_some(ses::sign::RidingSeam { y: None }),
        ..Default::default()
    };
    let events = EventLog::default();
    let sealed = ses::sign::seal_package_checked(
        package,
        &sealer.checked,
        &sealer.signer,
        &options,
        &ses::sign::Hooks {
            audit: Some(&events),
            ..Default::default()
        },
    )
    .map_err(internal("签章 (sealing)"))?;
    let file = package.to_zip().map_err(internal("签章 (sealing)"))?;
    // The whole verification over the bytes as stored; what sealing computed is reused
    // only for parts that come back byte for byte the same (`ses::verify::Known`).
    let report = ses::verify::verify_bytes_known(&file, verify, &sealed.known).map_err(|e| {
        bug(
            "自检 (self-check)",
            format!("签章后的文件无法读取 (sealed file unreadable): {}", e.0),
        )
    })?;
    // `passed_allowing(strict)` accepts exactly what `passed()` does, and says why not.
    let verified = report
        .passed_allowing(&ses::verify::Acceptance::strict())
        .map_err(|unverified| {
            // Only the chains undecided: the seal's CA is not among the instance's roots.
            let untrusted = !unverified.stopped().is_empty()
                && unverified.stopped().iter().all(|s| {
                    s.check.id() == ses::verify::CheckId::Certificates
                        && s.check.sub_indication()
                            == Some(ses::verify::SubIndication::NoCertificateChainFound)
                });
            if untrusted {
                Error::SealUntrusted {
                    seal: seal.name.clone(),
                    unverified,
                }
            } else {
                Error::SelfCheckFailed(unverified)
            }
        })?;
    Ok(Sealed {
        file,
        seal_name: seal.name.clone(),
        events: events.take(),
        pages: page_count,
        verified,
        time: seal.time.clone(),
    })
}

impl Instance {
    /// The newest active seal of `seal_kind` with its checked seal and signer.
    pub(crate) async fn active_seal(&self, seal_kind: SealKind) -> Result<ActiveSeal> {
        let seals = self.store.list_seals().await?;
        // The newest by creation (the list is in name order).
        let seal = seals
            .into_iter()
            .filter(|s| s.active && s.kind == seal_kind_code(seal_kind) && s.seal_der.is_some())
            .max_by_key(|s| s.created_at_ms)
            .ok_or(Error::NoActiveSeal { kind: seal_kind })?;
        let sealer = self.sealer(&seal).await?;
        // R-7.2.2a: no sealing on a time that cannot be traced.
        let time = self.trusted_time().await?;
        Ok(ActiveSeal {
            name: seal.name,
            sealer,
            time,
        })
    }

    /// The checked seal and decrypted signer of `seal`, from the cache or made now (the
    /// checks on a blocking thread).
    async fn sealer(&self, seal: &ecert_store::SealRecord) -> Result<Arc<Sealer>> {
        let key = format!("{}@{}", seal.id, seal.updated_at_ms);
        if let Some(s) = self.sealers.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(s);
        }
        let key_der = self
            .store
            .seal_signer_key(&seal.id, &self.master_key)
            .await?;
        let seal_der = seal.seal_der.clone().unwrap_or_default();
        let cert_der = seal.signer_cert_der.clone();
        let sealer = super::cpu(move || {
            let what = "印章库中的印章 (a seal of the library)";
            let signer = ses::sm::CertifiedKey::new(
                ses::sm::Sm2KeyPair::from_pkcs8_der(&key_der).map_err(internal(what))?,
                cert_der.clone(),
            )
            .map_err(internal(what))?;
            let checked =
                ses::sign::CheckedSeal::new(&seal_der, &cert_der).map_err(internal(what))?;
            Ok(Arc::new(Sealer { checked, signer }))
        })
        .await?;
        if let Ok(mut m) = self.sealers.lock() {
            m.insert(key, sealer.clone());
        }
        Ok(sealer)
    }
}

/// A seal to create in the library from an institute's own material.
#[derive(Debug)]
pub struct SealRequest {
    /// Which electronic-certificate special seal.
    pub kind: SealKind,
    /// The seal's name/title, e.g. "示例市计量测试研究院校准电子证书专用章"; must say which
    /// electronic-certificate seal it is.
    pub title: String,
    /// The signer's key and certificate (whoever seals certificates with this seal).
    pub signer: ses::sm::CertifiedKey,
    /// The seal maker's key and certificate (signs the seal, GB/T 38540). `None`: a trial maker
    /// (demo instances only, R-7.1d).
    pub maker: Option<ses::sm::CertifiedKey>,
    /// The institute's own picture (PNG bytes); `None`: the round red seal is drawn.
    pub image: Option<Vec<u8>>,
    /// Printed size of the seal in mm (square).
    pub size_mm: u32,
    /// Validity of the seal in days (bounded by the certificates' validity).
    pub valid_days: u32,
}

/// Checks that a certificate is valid now; `role` names it in the error.
pub fn check_cert_current(cert_der: &[u8], role: &'static str) -> Result<ses::pki::Cert> {
    let cert = ses::pki::Cert::from_der(cert_der)
        .map_err(|source| Error::CertificateUnreadable { role, source })?;
    let now = ses::pki::now();
    let problem = if now > cert.not_after() {
        Some((CertTime::Expired, cert.not_after()))
    } else if now < cert.not_before() {
        Some((CertTime::NotYetValid, cert.not_before()))
    } else {
        None
    };
    if let Some((problem, when)) = problem {
        return Err(Error::CertificateNotCurrent {
            role,
            subject: cert.subject().to_string(),
            problem,
            when: ses::pki::format_time(when),
        });
    }
    Ok(cert)
}

fn image_format(bytes: &[u8]) -> Result<(ses::seal::PictureFormat, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok((ses::seal::PictureFormat::Png, "png"))
    } else {
        Err(Error::SealPictureFormat)
    }
}

impl Instance {
    /// Creates a seal in the seal library: checks the title (R-4.2.1: it must
    /// name one of the four electronic-certificate special seals and match `kind`), the
    /// certificates (current, each belonging to its key), draws or takes the picture, has the
    /// maker sign the seal (GB/T 38540) and stores it with the signer key encrypted at rest
    /// (R-7.2.3d). A title an active seal has is refused; a retired seal's title may be given
    /// to the new seal (key roll-over).
    ///
    /// Making a seal needs both 印章管理员 (who prepares it) and 批准人 (who approves it): the
    /// command line has both; the console has two persons, one for each
    /// ([`Instance::console_propose_seal`], [`Instance::console_approve_seal`]).
    pub async fn create_seal(
        &self,
        req: SealRequest,
        actor: &Actor,
    ) -> Result<ecert_store::SealRecord> {
        self.authorize(actor, &[StaffRole::SealAdmin], "制作印章 (make a seal)")
            .await?;
        self.authorize(
            actor,
            &[StaffRole::Approver],
            "批准制作印章 (approve a seal)",
        )
        .await?;
        self.make_seal(req, &actor.name).await
    }

    /// [`Instance::create_seal`] once the roles are checked; `actor` names who prepared and who
    /// approved it.
    pub(crate) async fn make_seal(
        &self,
        req: SealRequest,
        actor: &str,
    ) -> Result<ecert_store::SealRecord> {
        let named = crate::seal_image::check_title(&req.title)?;
        if named != req.kind {
            return Err(Error::SealKindMismatch {
                title: req.title,
                named,
                kind: req.kind,
            });
        }
        if !(20..=60).contains(&req.size_mm) {
            return Err(Error::SealSize {
                size_mm: req.size_mm,
            });
        }
        let signer_cert = check_cert_current(&req.signer.cert_der, "签章人")?;
        let maker = match req.maker {
            Some(m) => m,
            None => {
                if !self.config.instance.demo {
                    return Err(Error::MakerRequired);
                }
                // R-7.1d: a trial maker, its root added to the instance's trial roots.
                let trial = "试用制章者 (trial seal maker)";
                let ca =
                    ses::demo::DemoCa::new(&self.config.institute.name).map_err(internal(trial))?;
                let maker = ca
                    .issue("制章者 seal maker", ses::demo::Role::SealMaker, 3 * 366)
                    .map_err(internal(trial))?;
                let ca_dir = self.dir.join(TRIAL_CA_DIR);
                let root_pem = ca_dir.join("root.pem");
                std::fs::create_dir_all(&ca_dir).map_err(io(
                    "无法创建目录",
                    "cannot create",
                    &ca_dir,
                ))?;
                let mut bundle = std::fs::read_to_string(&root_pem).unwrap_or_default();
                bundle.push_str(&ca.root_cert().map_err(internal(trial))?.to_pem());
                std::fs::write(&root_pem, bundle).map_err(io(
                    "无法写入",
                    "cannot write",
                    &root_pem,
                ))?;
                maker
            }
        };
        let maker_cert = check_cert_current(&maker.cert_der, "制章者")?;
        let (picture_format, format_name, image) = match req.image {
            Some(bytes) => {
                let (f, n) = image_format(&bytes)?;
                (f, n, bytes)
            }
            None => {
                let institute = &self.config.institute.name;
                let title = req
                    .title
                    .strip_prefix(institute.as_str())
                    .filter(|t| !t.is_empty())
                    .unwrap_or(&req.title);
                let mut design = SealDesign::new(institute, req.kind);
                design.title = title.to_owned();
                design.diameter_mm = req.size_mm as f32;
                design.check()?;
                (
                    ses::seal::PictureFormat::Png,
                    "png",
                    design.png(SEAL_FONT, 12.0)?,
                )
            }
        };
        // Material that does not lead to the instance's roots is refused now, not at the
        // first certificate it fails to seal.
        self.check_seal_chain(&signer_cert, "签章人")?;
        self.check_seal_chain(&maker_cert, "制章者")?;
        let now = ses::pki::now();
        let valid_end = (now + i64::from(req.valid_days) * 86_400)
            .min(signer_cert.not_after())
            .min(maker_cert.not_after());
        let name = if self.config.instance.demo {
            ses::demo::mark(&req.title)
        } else {
            req.title.clone()
        };
        // A retired seal's title may be used again (key roll-over); an active one's may not.
        // Checked before the seal is made (the store refuses it again when saving).
        if let Some(active) = self.store.seal_by_name(&name).await?.filter(|s| s.active) {
            return Err(Error::SealNameTaken {
                name: req.title,
                active: Some(active.id),
            });
        }
        let seal_der = ses::seal::make_seal(
            &ses::seal::SealParams {
                vid: "ecert".into(),
                es_id: format!("{:?}-{}", req.kind, random_hex(8)?),
                seal_type: 1,
                name: name.clone(),
                signer_certs: vec![req.signer.cert_der.clone()],
                created: now,
                valid_start: now - 60,
                valid_end,
                picture: ses::seal::Picture {
                    format: picture_format,
                    data: image.clone(),
                    width_mm: req.size_mm,
                    height_mm: req.size_mm,
                },
            },
            &maker,
        )
        .map_err(internal("印章 (the seal)"))?;
        let signer_key = req
            .signer
            .key
            .to_pkcs8_der()
            .map_err(internal("签章人私钥 (the signer key)"))?;
        self.store
            .add_seal(
                &NewSeal {
                    name,
                    kind: seal_kind_code(req.kind).into(),
                    image,
                    image_format: format_name.into(),
                    seal_der: Some(seal_der),
                    maker_cert_der: maker.cert_der.clone(),
                    signer_cert_der: req.signer.cert_der.clone(),
                    signer_key: Zeroizing::new(signer_key),
                },
                &self.master_key,
                actor,
            )
            .await
            .map_err(|e| match e {
                ecert_store::StoreError::AlreadyExists { name, .. } => {
                    Error::SealNameTaken { name, active: None }
                }
                other => other.into(),
            })
    }
}

/// A sealed file that our verifier PASSED: only [`seal_checked`] makes one, and it carries the
/// verifier's proof ([`ses::verify::Verified`]), which the records are built from
/// ([`Instance::new_record`], supplements).
pub(crate) struct Sealed {
    /// The sealed OFD file.
    file: Vec<u8>,
    /// The seal's name.
    seal_name: String,
    /// The sealing events (R-7.2.2b) for the audit entry.
    events: Vec<ses::sign::SealEvent>,
    /// Page count.
    pages: usize,
    /// Our verifier passed the file.
    verified: ses::verify::Verified,
    /// The time source the sealing relied on (R-7.2.2a).
    time: super::time::TimeProof,
}

impl Sealed {
    /// The file, taken.
    pub(crate) fn into_file(self) -> Vec<u8> {
        self.file
    }
    /// Page count.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }
    /// The proof that our verifier passed the file.
    pub(crate) fn verified(&self) -> ses::verify::Verified {
        self.verified
    }
    /// What the audit entry says about sealing: the seal and the sealing events (R-7.2.2b).
    pub(crate) fn audit_context(&self) -> serde_json::Value {
        serde_json::json!({
            "seal": self.seal_name,
            "sealing": self.events,
            "pages": self.pages,
            "time": self.time,
        })
    }
}

/// Collects the sealing events (R-7.2.2b) for the audit entry.
#[derive(Default)]
struct EventLog(Mutex<Vec<ses::sign::SealEvent>>);

impl EventLog {
    fn take(&self) -> Vec<ses::sign::SealEvent> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl ses::sign::AuditSink for EventLog {
    fn sealed(&self, event: &ses::sign::SealEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_4_2_2_each_kind_has_a_seal_kind() {
        assert_eq!(
            seal_kind_for(CertificateKind::Calibration),
            SealKind::Calibration
        );
        assert_eq!(
            seal_kind_for(CertificateKind::VerificationResultNotice),
            SealKind::Verification
        );
        for kind in CertificateKind::ALL {
            assert!(seal_kind_for(kind).title().contains("电子证书专用章"));
        }
    }
}

/// The material of one party of a seal (the signer or the maker), as uploaded or read from
/// files: a PKCS#12 file, or a PEM private key with its certificate (PEM or DER).
#[derive(Default)]
pub struct KeyMaterial<'a> {
    /// PKCS#12 bytes.
    pub p12: Option<&'a [u8]>,
    /// A PEM private key (PKCS#8, encrypted or not).
    pub key_pem: Option<&'a [u8]>,
    /// Its certificate (PEM or DER).
    pub cert: Option<&'a [u8]>,
    /// The PKCS#12 or key password.
    pub password: Option<&'a str>,
}

/// The certificate DER of PEM or DER bytes.
pub fn cert_der(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        let certs = ses::pki::Cert::from_pem_bundle(text)
            .map_err(|e| format!("证书无法解析 (cannot parse the certificate): {e}"))?;
        return certs
            .first()
            .map(|c| c.der().to_vec())
            .ok_or_else(|| "没有证书 (no certificate)".to_owned());
    }
    Ok(bytes.to_vec())
}

/// A key with its certificate from a PKCS#12 file or a PEM pair, with clear errors (Chinese,
/// then English) for a wrong password and a key that does not belong to the certificate;
/// `Ok(None)` when nothing is given. `who` names the party (签章人, 制章者).
pub fn load_certified_key(
    who: &str,
    m: &KeyMaterial<'_>,
) -> std::result::Result<Option<ses::sm::CertifiedKey>, String> {
    if let Some(p12) = m.p12 {
        let pw = m
            .password
            .ok_or_else(|| format!("{who}的 PKCS#12 需要密码 (a PKCS#12 password is required)"))?;
        let parsed = ses::pkcs12::parse(p12, pw).map_err(|e| {
            format!(
                "{who}的 PKCS#12 文件密码错误或文件损坏 (wrong password or damaged PKCS#12 file): {e}"
            )
        })?;
        return parsed.into_certified_key().map(Some).map_err(|e| {
            format!("{who}的 PKCS#12 文件中没有与私钥匹配的证书 (no certificate for the key): {e}")
        });
    }
    let (Some(key), Some(cert)) = (m.key_pem, m.cert) else {
        return Ok(None);
    };
    let key_text =
        std::str::from_utf8(key).map_err(|_| format!("{who}私钥须为 PEM (the key must be PEM)"))?;
    let pair = ses::sm::Sm2KeyPair::from_pem(key_text, m.password).map_err(|e| {
        format!(
            "{who}私钥无法读取（密码错误或不是 SM2 私钥）(cannot read the key: wrong password or not an SM2 key): {e}"
        )
    })?;
    let der = cert_der(cert)?;
    ses::sm::CertifiedKey::new(pair, der)
        .map(Some)
        .map_err(|e| {
            format!("{who}私钥与证书不匹配 (the key does not belong to the certificate): {e}")
        })
}
