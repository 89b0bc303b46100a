//! The issuing service: content → identifier, token and check code → Typst layout →
//! OFD with the Grid Matrix code and the identifier → sealed → checked by our own verifier →
//! stored on every replica with an audit entry. Every interface (CLI now, API later) calls this.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};
use ecert_store::{CertificateRecord, MasterKey, NewCertificate, NewSeal, Replica, Store};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::domain::filename::{self, FileNameParts};
use crate::domain::{CertificateKind, CheckCode, Content, Identifier, VerifyToken};
use crate::seal_image::{SealDesign, SealKind};

/// The default seal-picture font (bold sans of the shipped fonts).
pub const SEAL_FONT: &[u8] = include_bytes!("../../../assets/fonts/ECertSansSC-Bold.ttf");

/// Where the trial CA of a demo instance keeps its public files.
pub const TRIAL_CA_DIR: &str = "trial-ca";

/// The namespace of ecert's custom tag.
pub const TAG_NAMESPACE: &str = "urn:ecert:certificate:1";

/// An opened instance: configuration, store, master key, fonts.
pub struct Instance {
    /// The instance folder (holds `ecert.toml`).
    pub dir: PathBuf,
    /// The configuration.
    pub config: Config,
    /// Records, blobs, audit log.
    pub store: Store,
    master_key: MasterKey,
    fonts: ecert_layout::Fonts,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A certificate just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The stored record.
    pub record: CertificateRecord,
    /// The sealed OFD file.
    pub file: Vec<u8>,
    /// The identifier.
    pub identifier: Identifier,
    /// The verification URL in the 2D code.
    pub verify_url: String,
    /// The check code printed on page 1.
    pub check_code: CheckCode,
    /// Page count.
    pub pages: usize,
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

fn seal_kind_code(kind: SealKind) -> &'static str {
    match kind {
        SealKind::Verification => "检定",
        SealKind::Calibration => "校准",
        SealKind::Inspection => "检验",
        SealKind::Testing => "检测",
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| anyhow!("系统随机数不可用 (random source failed): {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today_utc() -> String {
    ses::pki::format_time(ses::pki::now())
        .chars()
        .take(10)
        .collect()
}

fn add_years(date: &str, years: u32) -> String {
    match crate::domain::content::parse_date(date) {
        Some((y, m, d)) => {
            let y = y + years as i32;
            let d = if m == 2 && d == 29 { 28 } else { d };
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => date.to_owned(),
    }
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The custom tag file that carries the identifier.
pub fn identifier_tag_xml(identifier: &Identifier, number: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ecert:Certificate xmlns:ecert=\"{TAG_NAMESPACE}\">\
         <ecert:Identifier>{}</ecert:Identifier><ecert:CertificateNo>{}</ecert:CertificateNo>\
         <ecert:TypeCode>{}</ecert:TypeCode><ecert:Revision>{}</ecert:Revision></ecert:Certificate>\n",
        xml_text(&identifier.to_string()),
        xml_text(number),
        identifier.kind().code(),
        identifier.revision()
    )
}

impl Instance {
    /// Creates a new instance in `dir` with `config` (folders, master key, database).
    pub async fn init(dir: &Path, config: Config) -> anyhow::Result<Instance> {
        config.check()?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("无法创建目录 {} (cannot create)", dir.display()))?;
        if dir.join(crate::config::CONFIG_FILE).exists() {
            bail!(
                "{} 中已有实例 (an instance already exists there)",
                dir.display()
            );
        }
        let key_path = Config::resolve(dir, &config.storage.master_key_file);
        if let Some(parent) = key_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let key = MasterKey::generate()?;
        write_secret(&key_path, &key.to_hex())?;
        config.save(dir)?;
        Self::open(dir).await
    }

    /// Opens the instance in `dir`.
    pub async fn open(dir: &Path) -> anyhow::Result<Instance> {
        let config = Config::load(dir)?;
        let key_path = Config::resolve(dir, &config.storage.master_key_file);
        let key_hex = std::fs::read_to_string(&key_path).with_context(|| {
            format!(
                "无法读取主密钥 {} (cannot read the master key)",
                key_path.display()
            )
        })?;
        let master_key = MasterKey::from_hex(key_hex.trim())?;
        let mut replicas = Vec::new();
        for (i, path) in config.storage.replicas.iter().enumerate() {
            let full = Config::resolve(dir, path);
            std::fs::create_dir_all(&full)?;
            replicas.push(Replica::local(format!("replica-{}", i + 1), &full)?);
        }
        if let Some(path) = config.database_url(dir).strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(file).parent() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let store = Store::open(&config.database_url(dir), replicas).await?;
        store.check_master_key(&master_key).await?;
        Ok(Instance {
            dir: dir.to_owned(),
            config,
            store,
            master_key,
            fonts: ecert_layout::Fonts::builtin(),
        })
    }

    /// Demo only (R-7.1d): a trial CA, a seal maker, a signer, and one seal of each kind with a
    /// generated picture, stored in the seal library. Returns the trial root's PEM path.
    pub async fn create_trial_seals(&self) -> anyhow::Result<PathBuf> {
        if !self.config.instance.demo {
            bail!("试用 CA 仅限演示模式 (the trial CA is for demo instances only, R-7.1d)");
        }
        let institute = &self.config.institute.name;
        let ca = ses::demo::DemoCa::new(institute)?;
        let maker = ca.issue("制章者 seal maker", ses::demo::Role::SealMaker, 3 * 366)?;
        let signer = ca.issue("签章人 signer", ses::demo::Role::Signer, 3 * 366)?;
        let ca_dir = self.dir.join(TRIAL_CA_DIR);
        std::fs::create_dir_all(&ca_dir)?;
        let root_pem = ca_dir.join("root.pem");
        std::fs::write(&root_pem, ca.root_cert()?.to_pem())?;
        std::fs::write(
            ca_dir.join("README.txt"),
            "试用 TEST — 本目录的根证书仅供演示，不具法律效力（R-7.1d）。验证演示证书：ecert verify --trust root.pem FILE.ofd\n\
             TRIAL ONLY — this root proves nothing. Verify demo certificates with: ecert verify --trust root.pem FILE.ofd\n",
        )?;
        let now = ses::pki::now();
        for kind in SealKind::ALL {
            let design = SealDesign::new(institute, kind);
            let png = design.png(SEAL_FONT, 12.0)?;
            let name = ses::demo::mark(&format!("{institute}{}", kind.title()));
            let picture = ses::seal::Picture {
                format: ses::seal::PictureFormat::Png,
                data: png.clone(),
                width_mm: 42,
                height_mm: 42,
            };
            let seal_der = ses::seal::make_seal(
                &ses::seal::SealParams {
                    vid: "ecert".into(),
                    es_id: format!("TEST-{kind:?}-{}", random_hex(6)?),
                    seal_type: 1,
                    name: name.clone(),
                    signer_certs: vec![signer.cert_der.clone()],
                    created: now,
                    valid_start: now - 3600,
                    valid_end: now + 3 * 366 * 86_400,
                    picture,
                },
                &maker,
            )?;
            self.store
                .add_seal(
                    &NewSeal {
                        name,
                        kind: seal_kind_code(kind).into(),
                        image: png,
                        image_format: "png".into(),
                        seal_der: Some(seal_der),
                        maker_cert_der: maker.cert_der.clone(),
                        signer_cert_der: signer.cert_der.clone(),
                        signer_key: Zeroizing::new(signer.key.to_pkcs8_der()?),
                    },
                    &self.master_key,
                    "ecert init --demo",
                )
                .await?;
        }
        Ok(root_pem)
    }

    /// Issues a certificate from its content JSON: nothing is stored unless every step
    /// succeeded, including our own verifier's check of the sealed file.
    pub async fn issue(&self, content_json: &str, actor: &str) -> anyhow::Result<Issued> {
        self.issue_revision(content_json, actor, None).await
    }

    /// Issues a revision of the certificate numbered `old_number`: a new certificate
    /// whose identifier's revision count is one higher; the original becomes void.
    pub async fn revise(
        &self,
        old_number: &str,
        content_json: &str,
        actor: &str,
    ) -> anyhow::Result<Issued> {
        let old = self
            .store
            .certificate_by_number(old_number)
            .await?
            .ok_or_else(|| anyhow!("找不到证书 {old_number} (no such certificate)"))?;
        self.issue_revision(content_json, actor, Some(old)).await
    }

    async fn issue_revision(
        &self,
        content_json: &str,
        actor: &str,
        revises: Option<CertificateRecord>,
    ) -> anyhow::Result<Issued> {
        let cfg = &self.config;
        let mut content = Content::parse_valid(content_json)?;
        let kind = content
            .kind()
            .ok_or_else(|| anyhow!("证书类型代码无效 (invalid type code)"))?;
        let number = content.certificate_no.clone().unwrap_or_default();
        // The institute's own settings fill in what the content leaves out.
        let issuer = content.issuer.get_or_insert_with(Default::default);
        issuer
            .name
            .get_or_insert_with(|| cfg.institute.name.clone());
        if issuer.address.is_none() && !cfg.institute.address.is_empty() {
            issuer.address = Some(cfg.institute.address.clone());
        }
        issuer
            .org_code
            .get_or_insert_with(|| cfg.institute.org_code.clone());
        issuer
            .accreditation
            .get_or_insert_with(|| cfg.institute.accreditation.clone());
        issuer
            .website
            .get_or_insert_with(|| cfg.instance.base_url.clone());
        let org_code = issuer.org_code.clone().unwrap_or_default();
        let accreditation = issuer.accreditation.clone().unwrap_or_default();

        let identifier = match &revises {
            None => Identifier::new(
                &cfg.instance.root_oid,
                kind,
                &org_code,
                &accreditation,
                &number,
                0,
            )?,
            Some(old) => {
                let old_id: Identifier = old.identifier.parse()?;
                if old_id.kind() != kind {
                    bail!(
                        "修改后的证书类型须与原证书相同 (a revision keeps the kind: {} ≠ {})",
                        kind,
                        old_id.kind()
                    );
                }
                old_id.revised(&number)?
            }
        };
        identifier.check_root_allowed(cfg.instance.demo)?;
        let token = VerifyToken::generate()?;
        let check_code = CheckCode::generate()?;
        let verify_url = token.url(&cfg.instance.base_url);
        let issue_date = content.issue_date.clone().unwrap_or_else(today_utc);
        let instrument = content.instrument.clone().unwrap_or_default();
        let file_name = filename::file_name(
            &cfg.naming.rule,
            &FileNameParts {
                kind,
                number: &number,
                instrument: instrument.name.as_deref().unwrap_or_default(),
                serial: instrument.serial_no.as_deref().unwrap_or_default(),
                customer: content.customer.as_ref().and_then(|c| c.name.as_deref()),
                issuer: Some(&cfg.institute.name),
            },
        )?;

        // Refuse early what the store would refuse after the expensive work.
        if self.store.certificate_by_number(&number).await?.is_some() {
            bail!("证书编号 {number} 已存在 (certificate number already issued)");
        }

        // Layout with the identifier and check code; DocInfo carries both.
        // Templates read absent fields with defaults: leave out what is None, not `null`.
        let mut value = serde_json::to_value(&content)?;
        strip_nulls(&mut value);
        let merged = serde_json::to_vec(&value)?;
        let template = ecert_layout::Template::builtin(
            ecert_layout::Builtin::for_type_code(kind.code())
                .ok_or_else(|| anyhow!("无此类型的模板"))?,
        );
        let doc_info = ofd::DocInfo {
            doc_id: random_hex(16)?,
            title: Some(format!("{}电子证书 {number}", kind.file_category())),
            author: Some(cfg.institute.name.clone()),
            creation_date: Some(issue_date.clone()),
            creator: Some("ecert".into()),
            creator_version: Some(env!("CARGO_PKG_VERSION").into()),
            custom_data: vec![
                ("电子证书标识".into(), identifier.to_string()),
                ("证书编号".into(), number.clone()),
                ("证书类型".into(), kind.name_zh().into()),
            ],
            ..Default::default()
        };
        let extras = ecert_layout::Extras {
            identifier: identifier.to_string(),
            check_code: check_code.to_string(),
            issue_date: crate::domain::content::parse_date(&issue_date)
                .map(|(y, m, d)| (y, m as u8, d as u8)),
            doc_info,
        };
        let mut laid = ecert_layout::render_certificate(&template, &merged, &extras, &self.fonts)?;

        // The Grid Matrix code, 25 × 25 mm, in the slot page 1 reserves.
        let symbol = gridmatrix::encode(&verify_url, &gridmatrix::Options::default())?;
        let slot = laid.code_slot;
        let mut path = ofd::write::Path::new();
        for r in symbol.dark_rects_mm(
            ecert_layout::CODE_SLOT_MM.min(slot.w.min(slot.h)),
            gridmatrix::QUIET_ZONE_MODULES,
        ) {
            path.rect(ofd::Rect::new(
                slot.x + r.x,
                slot.y + r.y,
                r.width,
                r.height,
            ));
        }
        {
            let mut page = laid
                .document
                .page(0)
                .ok_or_else(|| anyhow!("证书没有页面 (no page)"))?;
            page.body().path(
                &path,
                &ofd::write::PathStyle::filled(ofd::Color::rgb(0, 0, 0)),
            )?;
        }
        // The identifier in a custom tag that Document.xml points to.
        laid.document.add_custom_tag(ofd::write::CustomTagSpec {
            type_id: TAG_NAMESPACE.into(),
            file_name: "Certificate.xml".into(),
            xml: identifier_tag_xml(&identifier, &number).into_bytes(),
            schema: None,
        })?;
        let mut package = laid.document.finish()?;

        // Seal with the kind's special seal, riding-seam over all pages.
        let seal_kind = seal_kind_for(kind);
        let seals = self.store.list_seals().await?;
        let seal = seals
            .iter()
            .rfind(|s| s.kind == seal_kind_code(seal_kind) && s.seal_der.is_some())
            .ok_or_else(|| {
                anyhow!(
                    "印章库中没有{}（无法签章）(no {} seal in the seal library)",
                    seal_kind.title(),
                    seal_kind.title()
                )
            })?;
        let key_der = self
            .store
            .seal_signer_key(&seal.id, &self.master_key)
            .await?;
        let signer = ses::sm::CertifiedKey::new(
            ses::sm::Sm2KeyPair::from_pkcs8_der(&key_der)?,
            seal.signer_cert_der.clone(),
        )?;
        let seal_der = seal.seal_der.clone().unwrap_or_default();
        let s = laid.seal_slot;
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
            riding_seam: (laid.page_count > 1).then_some(ses::sign::RidingSeam { y: None }),
            ..Default::default()
        };
        let events = EventLog::default();
        ses::sign::seal_package(
            &mut package,
            &seal_der,
            &signer,
            &options,
            &ses::sign::Hooks {
                audit: Some(&events),
                ..Default::default()
            },
        )?;
        let file = package.to_zip()?;

        // Our own strict verifier must accept what we are about to store.
        let report = ses::verify::verify_bytes(&file, &ses::verify::VerifyOptions::default())
            .map_err(|e| anyhow!("签章后的文件无法读取 (sealed file unreadable): {}", e.0))?;
        let failed = report.failed_checks();
        if !failed.is_empty() {
            bail!("签章后的文件未通过自检 (the sealed file fails our verifier): {failed:?}");
        }

        let new = NewCertificate {
            number: number.clone(),
            identifier: identifier.to_string(),
            kind: i64::from(kind.code()),
            customer_name: content
                .customer
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_default(),
            instrument_name: instrument.name.clone().unwrap_or_default(),
            serial_number: instrument.serial_no.clone().unwrap_or_default(),
            issue_date: issue_date.clone(),
            revision: i64::from(identifier.revision()),
            verify_token: token.as_str().to_owned(),
            check_code: check_code.as_str().to_owned(),
            file_name,
            retention_until: Some(add_years(&issue_date, cfg.instance.retention_years)),
        };
        let context = serde_json::json!({
            "seal": seal.name,
            "sealing": events.take(),
            "template": template.name(),
            "pages": laid.page_count,
        });
        let record = match &revises {
            None => {
                self.store
                    .issue_certificate(&new, file.clone().into(), actor, &context)
                    .await?
            }
            Some(old) => {
                self.store
                    .revise_certificate(&old.id, &new, file.clone().into(), actor, &context)
                    .await?
            }
        };
        Ok(Issued {
            record,
            file,
            identifier,
            verify_url,
            check_code,
            pages: laid.page_count,
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

/// Removes `null` members of objects, recursively.
fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// What every look at a certificate must say besides "genuine": the exact statements of
/// R-6.4.1 (revised), R-6.4.2 (supplemented) and R-6.5h (disposed).
pub fn status_messages(view: &ecert_store::StatusView) -> Vec<String> {
    use ecert_store::CertificateStatus;
    let mut out = Vec::new();
    match view.certificate.status {
        CertificateStatus::Disposed => out.push(MSG_DISPOSED.to_owned()),
        CertificateStatus::Revised => {
            if let Some(new) = &view.replaced_by {
                out.push(revised_message(&new.number));
            }
        }
        CertificateStatus::Valid | CertificateStatus::Supplemented => {}
    }
    if view.certificate.status != CertificateStatus::Disposed && !view.supplements.is_empty() {
        out.push(supplement_message(&view.certificate.number));
    }
    out
}

/// R-6.5h: shown for a disposed certificate.
pub const MSG_DISPOSED: &str = "超过存储期限，不提供真伪验证";

/// "该证书作废，按照证书修改处置要求，修改后的证书号为{new number}".
pub fn revised_message(new_number: &str) -> String {
    format!("该证书作废，按照证书修改处置要求，修改后的证书号为{new_number}")
}

/// "对序号为{number}的证书/报告的补充文件".
pub fn supplement_message(number: &str) -> String {
    format!("对序号为{number}的证书/报告的补充文件")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(add_years("2024-02-29", 6), "2030-02-28");
        assert_eq!(add_years("2024-03-08", 6), "2030-03-08");
        assert_eq!(today_utc().len(), 10);
    }

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

    #[test]
    fn r_4_5_2_identifier_tag_is_well_formed() {
        let id: Identifier = "1.3.6.1.4.1.32473.1·7·123456788·L<1>&·JZ-1·0"
            .parse()
            .expect("valid");
        let xml = identifier_tag_xml(&id, "JZ-1");
        assert!(xml.contains("L&lt;1&gt;&amp;"));
        assert!(xml.contains(TAG_NAMESPACE));
    }
}
