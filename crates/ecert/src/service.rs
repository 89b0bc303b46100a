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
use crate::domain::{
    CertificateKind, CheckCode, Content, Identifier, SupplementContent, VerifyToken,
};
use crate::seal_image::{SealDesign, SealKind};

/// The default seal-picture font (bold sans of the shipped fonts).
pub const SEAL_FONT: &[u8] = include_bytes!("../../../assets/fonts/ECertSansSC-Bold.ttf");

/// Where the trial CA of a demo instance keeps its public files.
pub const TRIAL_CA_DIR: &str = "trial-ca";

/// The namespace of ecert's custom tag.
pub const TAG_NAMESPACE: &str = "urn:ecert:certificate:1";

/// How many certificates to issue at the same time by default: two per CPU core. Each spends
/// part of its time waiting for the database, the replicas' fsyncs and typst's page threads;
/// with two per core the cores stay busy (on 2 cores: 2 at once ≈ 51/s, 4 ≈ 59/s, 6 or 8 no
/// more and more memory; docs/benchmarks.md).
pub fn default_issue_workers() -> usize {
    2 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Where a stamp of a seal `size` (mm) goes in `slot`: at the seal's own size (a seal is never
/// printed larger or smaller than it is), centred in the slot; a seal larger than the slot the
/// template reserves for it is refused, naming both sizes.
pub(crate) fn stamp_in_slot(
    size: (f64, f64),
    slot: ecert_layout::geom::Rect,
    seal_name: &str,
) -> anyhow::Result<ecert_layout::geom::Rect> {
    let (w, h) = size;
    const SLACK_MM: f64 = 0.01;
    if w > slot.w + SLACK_MM || h > slot.h + SLACK_MM {
        bail!(
            "印章“{seal_name}”（{w} × {h} mm）大于模板为印章保留的位置（{:.1} × {:.1} mm）\
             (the seal is larger than the template's seal slot; use a template with a larger \
             \"seal\" slot or a smaller seal)",
            slot.w,
            slot.h
        );
    }
    Ok(ecert_layout::geom::Rect::new(
        slot.x + (slot.w - w) / 2.0,
        slot.y + (slot.h - h) / 2.0,
        w,
        h,
    ))
}

/// An opened instance: configuration, store, master key, fonts.
pub struct Instance {
    /// The instance folder (holds `ecert.toml`).
    pub dir: PathBuf,
    /// The configuration.
    pub config: Config,
    /// Records, blobs, audit log.
    pub store: Store,
    master_key: MasterKey,
    pub(crate) fonts: ecert_layout::Fonts,
    /// Seals checked once with their decrypted signers, by seal id and last change.
    sealers: Mutex<std::collections::HashMap<String, std::sync::Arc<Sealer>>>,
}

/// A seal checked for its signer (maker signature, certificate list) and the signer's key,
/// kept for the life of the instance so that each certificate pays only for its own signature.
struct Sealer {
    checked: ses::sign::CheckedSeal,
    signer: ses::sm::CertifiedKey,
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

/// The stored kind text of a seal kind (检定/校准/检验/检测).
pub fn seal_kind_code(kind: SealKind) -> &'static str {
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

/// Today's date in Beijing (UTC+8, how Chinese institutes date certificates), `YYYY-MM-DD`.
pub(crate) fn today_beijing() -> String {
    crate::domain::dates::format_date(crate::domain::dates::today_beijing())
}

pub(crate) fn add_years(date: &str, years: u32) -> String {
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

/// A template by name or path: a shipped one (`calibration`, `verification`,
/// `verification-notice`, `report`), a `.typ` file (it may `#import "/ecert.typ"`, the shipped
/// helpers), or a folder with `main.typ` and its files.
pub fn resolve_template(spec: &str) -> anyhow::Result<ecert_layout::Template> {
    if let Some(b) = ecert_layout::Builtin::by_name(spec) {
        if b == ecert_layout::Builtin::Supplement {
            bail!(
                "supplement 模板仅用于补充文件 (the supplement template is for `ecert supplement`)"
            );
        }
        return Ok(ecert_layout::Template::builtin(b));
    }
    let path = Path::new(spec);
    if path.is_dir() {
        return Ok(ecert_layout::Template::from_dir(path)?);
    }
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| {
            format!("无法读取模板 {} (cannot read the template)", path.display())
        })?;
        return Ok(ecert_layout::Template::from_files(
            &path.display().to_string(),
            "/main.typ",
            [("/main.typ".to_string(), bytes)],
        )?);
    }
    bail!(
        "模板“{spec}”不存在：应为 calibration|verification|verification-notice|report，或 .typ 文件/模板目录的路径 (no such template)"
    )
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
            sealers: Mutex::default(),
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
        self.issue_revision(content_json, actor, None, None).await
    }

    /// [`Instance::issue`] with another template than the kind's shipped one (see
    /// [`resolve_template`]); the template must keep the rules of R-4.3 (checked).
    pub async fn issue_with_template(
        &self,
        content_json: &str,
        actor: &str,
        template: &ecert_layout::Template,
    ) -> anyhow::Result<Issued> {
        self.issue_revision(content_json, actor, None, Some(template))
            .await
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
        self.issue_revision(content_json, actor, Some(old), None)
            .await
    }

    async fn issue_revision(
        &self,
        content_json: &str,
        actor: &str,
        revises: Option<CertificateRecord>,
        template: Option<&ecert_layout::Template>,
    ) -> anyhow::Result<Issued> {
        let cfg = &self.config;
        let mut content = Content::parse_valid(content_json)?;
        let kind = content
            .kind()
            .ok_or_else(|| anyhow!("证书类型代码无效 (invalid type code)"))?;
        let number = content.certificate_no.clone().unwrap_or_default();
        if let Some(t) = template {
            crate::domain::kind::check_template_serves(t.name(), t.kinds(), kind)?;
        }
        // The issuer is the configured institute: content may only repeat it (issue 19); a
        // revision keeps its original's accreditation.
        let kept = revises
            .as_ref()
            .map(|o| o.identifier.parse::<Identifier>())
            .transpose()?;
        let issuer = crate::domain::issuer::Institute::from_config(cfg).resolve(
            content.issuer.as_ref(),
            kept.as_ref().map(Identifier::accreditation),
        )?;
        let org_code = issuer.org_code.clone().unwrap_or_default();
        let accreditation = issuer.accreditation.clone().unwrap_or_default();
        content.issuer = Some(issuer);

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
        let issue_date = content.issue_date.clone().unwrap_or_else(today_beijing);
        let file_name = self.file_name_for(kind, &number, &content)?;

        // Refuse early what the store would refuse after the expensive work.
        self.refuse_taken_number(&number).await?;

        // Layout with the identifier and check code; DocInfo carries both.
        // Templates read absent fields with defaults: leave out what is None, not `null`.
        let mut value = serde_json::to_value(&content)?;
        strip_nulls(&mut value);
        let merged = serde_json::to_vec(&value)?;
        let template = match template {
            Some(t) => t.clone(),
            None => ecert_layout::Template::builtin(
                ecert_layout::Builtin::for_type_code(kind.code())
                    .ok_or_else(|| anyhow!("无此类型的模板"))?,
            ),
        };
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
        // The identifier in a custom tag that Document.xml points to.
        let tag = ofd::write::CustomTagSpec {
            type_id: TAG_NAMESPACE.into(),
            file_name: "Certificate.xml".into(),
            xml: identifier_tag_xml(&identifier, &number).into_bytes(),
            schema: None,
        };
        let (sealed, page_count) = self
            .render_and_seal(&template, &merged, &extras, &verify_url, tag, kind)
            .await?;
        let file = sealed.file;

        let new = self.new_record(
            &content,
            &identifier,
            &number,
            &issue_date,
            &token,
            &check_code,
            file_name,
        );
        let context = serde_json::json!({
            "seal": sealed.seal_name,
            "sealing": sealed.events,
            "template": template.name(),
            "pages": page_count,
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
            pages: page_count,
        })
    }
}

impl Instance {
    /// Lays out `template` with the content and writes the OFD, draws the Grid Matrix code of
    /// `verify_url` in the code slot, adds `tag`, then seals it for `kind`
    /// in the seal slot and checks it ([`Instance::seal_and_check`]). Returns the sealed file
    /// and the page count.
    async fn render_and_seal(
        &self,
        template: &ecert_layout::Template,
        merged: &[u8],
        extras: &ecert_layout::Extras,
        verify_url: &str,
        tag: ofd::write::CustomTagSpec,
        kind: CertificateKind,
    ) -> anyhow::Result<(Sealed, usize)> {
        let mut laid = ecert_layout::render_certificate(template, merged, extras, &self.fonts)?;
        draw_code(&mut laid.document, laid.code_slot, verify_url)?;
        laid.document.add_custom_tag(tag)?;
        let mut package = laid.document.finish()?;
        let sealed = self
            .seal_and_check(
                &mut package,
                seal_kind_for(kind),
                laid.seal_slot,
                laid.page_count,
            )
            .await?;
        Ok((sealed, laid.page_count))
    }

    /// Seals a finished package with the newest seal of `seal_kind`: a stamp
    /// in `seal_slot` on page 1 and a riding seam over all pages when there are several
    /// then our own strict verifier must accept the file (nothing is stored
    /// otherwise).
    pub(crate) async fn seal_and_check(
        &self,
        package: &mut ofd::Package,
        seal_kind: SealKind,
        seal_slot: ecert_layout::geom::Rect,
        page_count: usize,
    ) -> anyhow::Result<Sealed> {
        let (seal, sealer) = self.active_sealer(seal_kind).await?;
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
        )?;
        let file = package.to_zip()?;
        // The whole verification over the bytes as stored; what sealing computed is reused
        // only for parts that come back byte for byte the same (`ses::verify::Known`).
        let report = ses::verify::verify_bytes_known(
            &file,
            &ses::verify::VerifyOptions::default(),
            &sealed.known,
        )
        .map_err(|e| anyhow!("签章后的文件无法读取 (sealed file unreadable): {}", e.0))?;
        // Without trust roots (as today) check 8 can only be INDETERMINATE with
        // NO_CERTIFICATE_CHAIN_FOUND: that one outcome is accepted by name, anything else that
        // did not pass is refused. The self-check is to get the instance's own roots (the
        // demo's trial root, a real instance's CA roots) and then require `report.passed()`.
        let without_roots = ses::verify::Acceptance::strict().allow_indeterminate(
            ses::verify::CheckId::Certificates,
            ses::verify::SubIndication::NoCertificateChainFound,
        );
        let _verified = report.passed_allowing(&without_roots).map_err(|e| {
            anyhow!("签章后的文件未通过自检 (the sealed file fails our verifier): {e}")
        })?;
        Ok(Sealed {
            file,
            seal_name: seal.name.clone(),
            events: events.take(),
        })
    }

    /// The record of a certificate about to be stored: number, identifier (kind, revision),
    /// customer and instrument from the content, tokens, file name, retention (R-6.5c).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_record(
        &self,
        content: &Content,
        identifier: &Identifier,
        number: &str,
        issue_date: &str,
        token: &VerifyToken,
        check_code: &CheckCode,
        file_name: String,
    ) -> NewCertificate {
        let instrument = content.instrument.clone().unwrap_or_default();
        NewCertificate {
            number: number.to_owned(),
            identifier: identifier.to_string(),
            kind: i64::from(identifier.kind().code()),
            customer_name: content
                .customer
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_default(),
            instrument_name: instrument.name.unwrap_or_default(),
            serial_number: instrument.serial_no.unwrap_or_default(),
            issue_date: issue_date.to_owned(),
            revision: i64::from(identifier.revision()),
            verify_token: token.as_str().to_owned(),
            check_code: check_code.as_str().to_owned(),
            file_name,
            retention_until: Some(add_years(issue_date, self.config.instance.retention_years)),
        }
    }

    /// The certificate's file name by the configured rule.
    pub(crate) fn file_name_for(
        &self,
        kind: CertificateKind,
        number: &str,
        content: &Content,
    ) -> anyhow::Result<String> {
        let instrument = content.instrument.clone().unwrap_or_default();
        Ok(filename::file_name(
            &self.config.naming.rule,
            &FileNameParts {
                kind,
                number,
                instrument: instrument.name.as_deref().unwrap_or_default(),
                serial: instrument.serial_no.as_deref().unwrap_or_default(),
                customer: content.customer.as_ref().and_then(|c| c.name.as_deref()),
                issuer: Some(&self.config.institute.name),
            },
        )?)
    }

    /// An error when `number` is already issued (checked before the expensive work; the store
    /// refuses it again at commit).
    pub(crate) async fn refuse_taken_number(&self, number: &str) -> anyhow::Result<()> {
        if self.store.certificate_by_number(number).await?.is_some() {
            bail!("证书编号 {number} 已存在 (certificate number already issued)");
        }
        Ok(())
    }

    /// The newest active seal of `seal_kind` with its checked seal and signer.
    async fn active_sealer(
        &self,
        seal_kind: SealKind,
    ) -> anyhow::Result<(ecert_store::SealRecord, std::sync::Arc<Sealer>)> {
        let seals = self.store.list_seals().await?;
        // The newest by creation (the list is in name order).
        let seal = seals
            .into_iter()
            .filter(|s| s.active && s.kind == seal_kind_code(seal_kind) && s.seal_der.is_some())
            .max_by_key(|s| s.created_at_ms)
            .ok_or_else(|| {
                anyhow!(
                    "印章库中没有{}（无法签章）(no {} seal in the seal library)",
                    seal_kind.title(),
                    seal_kind.title()
                )
            })?;
        let sealer = self.sealer(&seal).await?;
        Ok((seal, sealer))
    }

    /// The printed size (mm) of the seal [`Instance::seal_and_check`] would use for `seal_kind`.
    pub(crate) async fn seal_size_mm(&self, seal_kind: SealKind) -> anyhow::Result<(f64, f64)> {
        Ok(self.active_sealer(seal_kind).await?.1.checked.size_mm())
    }

    /// The checked seal and decrypted signer of `seal`, from the cache or made now.
    async fn sealer(
        &self,
        seal: &ecert_store::SealRecord,
    ) -> anyhow::Result<std::sync::Arc<Sealer>> {
        let key = format!("{}@{}", seal.id, seal.updated_at_ms);
        if let Some(s) = self.sealers.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(s);
        }
        let key_der = self
            .store
            .seal_signer_key(&seal.id, &self.master_key)
            .await?;
        let signer = ses::sm::CertifiedKey::new(
            ses::sm::Sm2KeyPair::from_pkcs8_der(&key_der)?,
            seal.signer_cert_der.clone(),
        )?;
        let checked = ses::sign::CheckedSeal::new(
            seal.seal_der.as_deref().unwrap_or_default(),
            &seal.signer_cert_der,
        )?;
        let sealer = std::sync::Arc::new(Sealer { checked, signer });
        if let Ok(mut m) = self.sealers.lock() {
            m.insert(key, sealer.clone());
        }
        Ok(sealer)
    }

    /// The certificate with this number or identifier.
    pub async fn find_certificate(&self, what: &str) -> anyhow::Result<CertificateRecord> {
        if let Some(r) = self.store.certificate_by_number(what).await? {
            return Ok(r);
        }
        self.store
            .certificate_by_identifier(what)
            .await?
            .ok_or_else(|| anyhow!("找不到证书 {what} (no such certificate)"))
    }

    /// Issues a supplementary file to the certificate numbered `original_number`: a
    /// sealed OFD of its own (its own Grid Matrix code and notice, R-4.3.4, R-4.3.6) that
    /// states which certificate it supplements and carries the original's identifier and
    /// number in its custom tag; checked by our verifier, then stored bound to the original.
    /// Afterwards every look at the original says
    /// "对序号为{number}的证书/报告的补充文件" ([`supplement_message`]).
    pub async fn supplement(
        &self,
        original_number: &str,
        content_json: &str,
        actor: &str,
    ) -> anyhow::Result<Supplemented> {
        let cfg = &self.config;
        let original = self.find_certificate(original_number).await?;
        match original.status {
            ecert_store::CertificateStatus::Valid
            | ecert_store::CertificateStatus::Supplemented => {}
            ecert_store::CertificateStatus::Disposed => bail!(
                "证书 {}：{MSG_DISPOSED}，不能补充 (disposed: no supplement)",
                original.number
            ),
            ecert_store::CertificateStatus::Revised => {
                let view = self.store.status_view(original.clone()).await?;
                let new = view.replaced_by.map(|r| r.number).unwrap_or_default();
                bail!(
                    "{}；请对修改后的证书补充 (the certificate is void; supplement {new} instead)",
                    revised_message(&new)
                );
            }
        }
        let content = SupplementContent::parse_valid(content_json)?;
        let orig_id: Identifier = original.identifier.parse()?;
        let kind = orig_id.kind();
        let seq = self.store.supplements_of(&original.id).await?.len() + 1;
        let number = content
            .supplement_no
            .clone()
            .unwrap_or_else(|| format!("{}-BC{seq}", original.number));
        if self.store.supplement_by_number(&number).await?.is_some() {
            bail!("补充文件编号 {number} 已存在 (supplement number already used)");
        }
        let issue_date = content.issue_date.clone().unwrap_or_else(today_beijing);
        if issue_date < original.issue_date {
            bail!(
                "补充文件的签发日期 {issue_date} 早于原证书的 {} (a supplement cannot predate the original)",
                original.issue_date
            );
        }
        let token = VerifyToken::generate()?;
        let verify_url = token.url(&cfg.instance.base_url);
        let file_name = supplement_file_name(kind, &number)?;

        let mut value = serde_json::to_value(&content)?;
        strip_nulls(&mut value);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("supplementNo".into(), number.clone().into());
            obj.insert("issueDate".into(), issue_date.clone().into());
            obj.insert("typeCode".into(), kind.code().into());
            // The configured institute, with the original's accreditation (issue 19).
            let issuer = crate::domain::issuer::Institute::from_config(cfg)
                .resolve(None, Some(orig_id.accreditation()))?;
            let mut issuer = serde_json::to_value(issuer)?;
            strip_nulls(&mut issuer);
            obj.insert("issuer".into(), issuer);
            obj.insert(
                "original".into(),
                serde_json::json!({
                    "certificateNo": original.number,
                    "identifier": original.identifier,
                    "kindName": kind.name_zh(),
                    "issueDate": original.issue_date,
                    "customer": original.customer_name,
                    "instrument": original.instrument_name,
                    "serialNo": original.serial_number,
                }),
            );
        }
        let merged = serde_json::to_vec(&value)?;
        let template = ecert_layout::Template::builtin(ecert_layout::Builtin::Supplement);
        let doc_info = ofd::DocInfo {
            doc_id: random_hex(16)?,
            title: Some(format!(
                "补充文件 {number}（对序号为{}的证书/报告）",
                original.number
            )),
            author: Some(cfg.institute.name.clone()),
            creation_date: Some(issue_date.clone()),
            creator: Some("ecert".into()),
            creator_version: Some(env!("CARGO_PKG_VERSION").into()),
            custom_data: vec![
                ("补充文件编号".into(), number.clone()),
                ("原证书编号".into(), original.number.clone()),
                ("原电子证书标识".into(), original.identifier.clone()),
            ],
            ..Default::default()
        };
        let extras = ecert_layout::Extras {
            identifier: original.identifier.clone(),
            check_code: String::new(),
            issue_date: crate::domain::content::parse_date(&issue_date)
                .map(|(y, m, d)| (y, m as u8, d as u8)),
            doc_info,
        };
        let tag = ofd::write::CustomTagSpec {
            type_id: TAG_NAMESPACE.into(),
            file_name: "Supplement.xml".into(),
            xml: supplement_tag_xml(&number, &orig_id, &original.number).into_bytes(),
            schema: None,
        };
        let (sealed, page_count) = self
            .render_and_seal(&template, &merged, &extras, &verify_url, tag, kind)
            .await?;
        let context = serde_json::json!({
            "seal": sealed.seal_name,
            "sealing": sealed.events,
            "template": template.name(),
            "pages": page_count,
        });
        let record = self
            .store
            .add_supplement(
                &original.id,
                &ecert_store::NewSupplement {
                    number: number.clone(),
                    file_name,
                    verify_token: Some(token.as_str().to_owned()),
                },
                sealed.file.clone().into(),
                actor,
                &context,
            )
            .await?;
        Ok(Supplemented {
            message: supplement_message(&original.number),
            record,
            original,
            file: sealed.file,
            verify_url,
            pages: page_count,
        })
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
pub fn check_cert_current(cert_der: &[u8], role: &str) -> anyhow::Result<ses::pki::Cert> {
    let cert = ses::pki::Cert::from_der(cert_der)
        .map_err(|e| anyhow!("{role}证书无法解析 (cannot parse the {role} certificate): {e}"))?;
    let now = ses::pki::now();
    if now > cert.not_after() {
        bail!(
            "{role}证书已过期（有效期至 {}）({role} certificate expired on {}): {}",
            ses::pki::format_time(cert.not_after()),
            ses::pki::format_time(cert.not_after()),
            cert.subject()
        );
    }
    if now < cert.not_before() {
        bail!(
            "{role}证书尚未生效（生效于 {}）({role} certificate not yet valid): {}",
            ses::pki::format_time(cert.not_before()),
            cert.subject()
        );
    }
    Ok(cert)
}

fn image_format(bytes: &[u8]) -> anyhow::Result<(ses::seal::PictureFormat, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok((ses::seal::PictureFormat::Png, "png"))
    } else {
        bail!("印章图像须为 PNG 文件 (the seal picture must be a PNG file)")
    }
}

impl Instance {
    /// Creates a seal in the seal library: checks the title (R-4.2.1: it must
    /// name one of the four electronic-certificate special seals and match `kind`), the
    /// certificates (current, each belonging to its key), draws or takes the picture, has the
    /// maker sign the seal (GB/T 38540) and stores it with the signer key encrypted at rest
    /// (R-7.2.3d). A title an active seal has is refused; a retired seal's title may be given
    /// to the new seal (key roll-over).
    pub async fn create_seal(
        &self,
        req: SealRequest,
        actor: &str,
    ) -> anyhow::Result<ecert_store::SealRecord> {
        let named = crate::seal_image::check_title(&req.title)?;
        if named != req.kind {
            bail!(
                "印章名称“{}”与印章类别“{}”不符 (the title names a {} seal, not {})",
                req.title,
                req.kind.title(),
                named.title(),
                req.kind.title()
            );
        }
        if !(20..=60).contains(&req.size_mm) {
            bail!("印章尺寸应为 20–60 mm (seal size must be 20 to 60 mm)");
        }
        let signer_cert = check_cert_current(&req.signer.cert_der, "签章人")?;
        let maker = match req.maker {
            Some(m) => m,
            None => {
                if !self.config.instance.demo {
                    bail!(
                        "需要制章者证书和私钥（--maker-p12 或 --maker-key/--maker-cert）(a seal maker's key and certificate are required outside demo mode)"
                    );
                }
                // R-7.1d: a trial maker, its root added to the instance's trial roots.
                let ca = ses::demo::DemoCa::new(&self.config.institute.name)?;
                let maker = ca.issue("制章者 seal maker", ses::demo::Role::SealMaker, 3 * 366)?;
                let root_pem = self.dir.join(TRIAL_CA_DIR).join("root.pem");
                std::fs::create_dir_all(self.dir.join(TRIAL_CA_DIR))?;
                let mut bundle = std::fs::read_to_string(&root_pem).unwrap_or_default();
                bundle.push_str(&ca.root_cert()?.to_pem());
                std::fs::write(&root_pem, bundle)?;
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
            bail!(
                "无法保存印章“{title}”：同名印章 {id} 仍在使用，请先停用（ecert seal retire {id}）\
                 (cannot store the seal “{title}”: the seal {id} with this title is still active; \
                 retire it first)",
                title = req.title,
                id = active.id
            );
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
        )?;
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
                    signer_key: Zeroizing::new(req.signer.key.to_pkcs8_der()?),
                },
                &self.master_key,
                actor,
            )
            .await
            .with_context(|| format!("无法保存印章“{}” (cannot store the seal)", req.title))
    }
}

/// A supplementary file just issued.
#[derive(Debug, Clone)]
pub struct Supplemented {
    /// The stored supplement.
    pub record: ecert_store::SupplementRecord,
    /// The certificate it supplements (as it was before).
    pub original: CertificateRecord,
    /// The sealed OFD file.
    pub file: Vec<u8>,
    /// The verification URL in the supplement's own 2D code.
    pub verify_url: String,
    /// Page count.
    pub pages: usize,
    /// What every look at the original now says.
    pub message: String,
}

pub(crate) struct Sealed {
    pub(crate) file: Vec<u8>,
    pub(crate) seal_name: String,
    pub(crate) events: Vec<ses::sign::SealEvent>,
}

/// Draws the Grid Matrix code of `url`, 25 × 25 mm with its quiet zone, into `slot` on page 1
///
fn draw_code(
    document: &mut ofd::DocumentWriter,
    slot: ecert_layout::geom::Rect,
    url: &str,
) -> anyhow::Result<()> {
    let path = code_path(slot, url)?;
    let mut page = document
        .page(0)
        .ok_or_else(|| anyhow!("证书没有页面 (no page)"))?;
    page.body().path(
        &path,
        &ofd::write::PathStyle::filled(ofd::Color::rgb(0, 0, 0)),
    )?;
    Ok(())
}

/// The Grid Matrix code of `url` as one path of dark modules, 25 × 25 mm with its quiet zone
/// inside `slot` (page mm, R-4.3.4).
pub(crate) fn code_path(
    slot: ecert_layout::geom::Rect,
    url: &str,
) -> anyhow::Result<ofd::write::Path> {
    let symbol = gridmatrix::encode(url, &gridmatrix::Options::default())?;
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
    Ok(path)
}

/// The file name of a supplement (R-4.4 limits: characters, 255 bytes).
fn supplement_file_name(kind: CertificateKind, number: &str) -> anyhow::Result<String> {
    let name = format!(
        "{}电子证书补充文件-{}.ofd",
        kind.file_category(),
        filename::clean(number)
    );
    if name.len() > 255 {
        bail!("补充文件编号过长 (supplement number too long for a file name)");
    }
    Ok(name)
}

/// The custom tag of a supplement: its number and the original's identifier and number
///
pub fn supplement_tag_xml(number: &str, original: &Identifier, original_number: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ecert:Supplement xmlns:ecert=\"{TAG_NAMESPACE}\">\
         <ecert:SupplementNo>{}</ecert:SupplementNo><ecert:Supplements>\
         <ecert:Identifier>{}</ecert:Identifier><ecert:CertificateNo>{}</ecert:CertificateNo>\
         </ecert:Supplements></ecert:Supplement>\n",
        xml_text(number),
        xml_text(&original.to_string()),
        xml_text(original_number),
    )
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
        assert_eq!(today_beijing().len(), 10);
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
