//! Issuing and revising certificates: content → identifier, token and check
//! code → Typst layout → OFD with the Grid Matrix code and the custom tag → sealed and checked →
//! stored.

use std::path::Path;
use std::sync::Arc;

use ecert_layout::LayoutError;
use ecert_store::{CertificateRecord, NewCertificate};

use super::error::{bug, io};
use super::seal::{ActiveSeal, Sealed, seal_checked};
use super::{
    Actor, Error, Instance, Issued, Record, Result, StaffRole, add_years, internal, random_hex,
    seal_kind_for, strip_nulls, today_beijing,
};
use crate::domain::filename::{self, FileNameParts};
use crate::domain::{CertificateKind, CertificateTag, CheckCode, Content, Identifier, VerifyToken};

/// A template by name or path: a shipped one (`calibration`, `verification`,
/// `verification-notice`, `report`), a `.typ` file (it may `#import "/ecert.typ"`, the shipped
/// helpers), or a folder with `main.typ` and its files.
pub fn resolve_template(spec: &str) -> Result<ecert_layout::Template> {
    if let Some(b) = ecert_layout::Builtin::by_name(spec) {
        if b == ecert_layout::Builtin::Supplement {
            return Err(Error::TemplateNotForCertificates {
                name: spec.to_owned(),
            });
        }
        return Ok(ecert_layout::Template::builtin(b));
    }
    let path = Path::new(spec);
    let invalid = |source| Error::TemplateInvalid {
        name: spec.to_owned(),
        source,
    };
    if path.is_dir() {
        return ecert_layout::Template::from_dir(path).map_err(invalid);
    }
    if path.is_file() {
        let bytes =
            std::fs::read(path).map_err(io("无法读取模板", "cannot read the template", path))?;
        return ecert_layout::Template::from_files(
            &path.display().to_string(),
            "/main.typ",
            [("/main.typ".to_string(), bytes)],
        )
        .map_err(invalid);
    }
    Err(Error::TemplateUnknown {
        name: spec.to_owned(),
    })
}

/// A layout engine's error as the service's: the template's fault, the content's (it cannot
/// be laid out), or ours.
pub(crate) fn layout_error(template: &str, source: LayoutError) -> Error {
    match source {
        LayoutError::Template(_) | LayoutError::MissingSlot(_) | LayoutError::Unsupported(_) => {
            Error::TemplateInvalid {
                name: template.to_owned(),
                source,
            }
        }
        LayoutError::Font { .. } | LayoutError::Ofd(_) => internal("排版 (layout)")(source),
        _ => Error::Layout {
            template: template.to_owned(),
            source,
        },
    }
}

impl Instance {
    /// Issues a certificate from its content JSON: nothing is stored unless every step
    /// succeeded, including our own verifier's check of the sealed file.
    pub async fn issue(&self, content_json: &str, actor: &Actor) -> Result<Issued> {
        self.authorize(actor, &[StaffRole::Operator], "签发 (issue)")
            .await?;
        self.issue_revision(content_json, &actor.name, None, None)
            .await
    }

    /// [`Instance::issue`] with another template than the kind's shipped one (see
    /// [`resolve_template`]); the template must keep the rules of R-4.3 (checked).
    pub async fn issue_with_template(
        &self,
        content_json: &str,
        actor: &Actor,
        template: &ecert_layout::Template,
    ) -> Result<Issued> {
        self.authorize(actor, &[StaffRole::Operator], "签发 (issue)")
            .await?;
        self.issue_revision(content_json, &actor.name, None, Some(template))
            .await
    }

    /// Issues a revision of the certificate numbered `old_number`: a new certificate
    /// whose identifier's revision count is one higher; the original becomes void.
    pub async fn revise(
        &self,
        old_number: &str,
        content_json: &str,
        actor: &Actor,
    ) -> Result<Issued> {
        self.authorize(actor, &[StaffRole::Operator], "修改 (revise)")
            .await?;
        let old = self
            .store
            .certificate_by_number(old_number)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: Record::Certificate,
                key: old_number.to_owned(),
            })?;
        // A void or disposed certificate takes no revision (the store refuses it again).
        self.require_current(&old).await?;
        self.issue_revision(content_json, &actor.name, Some(old), None)
            .await
    }

    /// A draft of the certificate `content_json` would make, laid out but not
    /// sealed, nothing stored: the same checks as [`Instance::issue`] (content, number,
    /// issuer, an active seal), then the pages, so that a person sees what is about to be
    /// sealed. The draft's 2D code holds a token that is never stored.
    pub async fn draft_issue(&self, content_json: &str, actor: &Actor) -> Result<Draft> {
        self.authorize(actor, &[StaffRole::Operator], "签发 (issue)")
            .await?;
        let p = self.prepare_issue(content_json, None, None).await?;
        Draft::of(p.job, p.number, p.identifier.to_string()).await
    }

    /// A draft of the revision of `old_number` ([`Instance::draft_issue`], R-6.4.1).
    pub async fn draft_revision(
        &self,
        old_number: &str,
        content_json: &str,
        actor: &Actor,
    ) -> Result<Draft> {
        self.authorize(actor, &[StaffRole::Operator], "修改 (revise)")
            .await?;
        let old = self.find_certificate(old_number).await?;
        self.require_current(&old).await?;
        let p = self.prepare_issue(content_json, Some(&old), None).await?;
        Draft::of(p.job, p.number, p.identifier.to_string()).await
    }

    async fn issue_revision(
        &self,
        content_json: &str,
        actor: &str,
        revises: Option<CertificateRecord>,
        template: Option<&ecert_layout::Template>,
    ) -> Result<Issued> {
        let Prepared {
            content,
            binding,
            identifier,
            number,
            issue_date,
            token,
            check_code,
            verify_url,
            file_name,
            template_name,
            job,
        } = self
            .prepare_issue(content_json, revises.as_ref(), template)
            .await?;
        let sealed = super::cpu(move || job.run()).await?;
        let page_count = sealed.pages();

        let new = self.new_record(
            &content,
            &identifier,
            &number,
            &issue_date,
            &token,
            &check_code,
            file_name,
            sealed.verified(),
        );
        let mut context = sealed.audit_context();
        context["template"] = template_name.into();
        super::request::mark(&mut context);
        if let Some(h) = content_sm3(content_json) {
            context["content_sm3"] = h.into();
        }
        let file = sealed.into_file();
        let record = match &revises {
            None => {
                self.store
                    .issue_certificate_bound(
                        &new,
                        file.clone().into(),
                        actor,
                        &context,
                        binding.as_ref(),
                    )
                    .await?
            }
            Some(old) => {
                self.store
                    .revise_certificate_bound(
                        &old.id,
                        &new,
                        file.clone().into(),
                        actor,
                        &context,
                        binding.as_ref(),
                    )
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

    /// Everything before sealing: the content checked, number, identifier, token, check code,
    /// file name, the seal fetched and the layout job ready to run.
    async fn prepare_issue(
        &self,
        content_json: &str,
        revises: Option<&CertificateRecord>,
        template: Option<&ecert_layout::Template>,
    ) -> Result<Prepared> {
        let cfg = &self.config;
        let mut content = Content::parse_valid(content_json)?;
        // The customer binding; the download password leaves the content here
        // (R-6.2f: only its hash is kept, nothing else sees it).
        let binding = self.binding_for_issue(&mut content, revises).await?;
        let kind = content.kind().ok_or_else(|| {
            Error::content(
                "/typeCode",
                crate::domain::Rule::TypeCode,
                "证书类型代码无效 (invalid type code)".into(),
            )
        })?;
        let number = content.certificate_no.clone().unwrap_or_default();
        if let Some(t) = template {
            crate::domain::kind::check_template_serves(t.name(), t.kinds(), kind)?;
        }
        // The issuer is the configured institute: content may only repeat it; a
        // revision keeps its original's accreditation.
        let kept = revises
            .map(|o| o.identifier.parse::<Identifier>())
            .transpose()
            .map_err(internal("已存证书的标识 (a stored identifier)"))?;
        let issuer = crate::domain::issuer::Institute::from_config(cfg).resolve(
            content.issuer.as_ref(),
            kept.as_ref().map(Identifier::accreditation),
        )?;
        let org_code = issuer.org_code.clone().unwrap_or_default();
        let accreditation = issuer.accreditation.clone().unwrap_or_default();
        content.issuer = Some(issuer);

        let identifier = match revises {
            None => Identifier::new(
                &cfg.instance.root_oid,
                kind,
                &org_code,
                &accreditation,
                &number,
                0,
            )?,
            Some(old) => {
                let old_id: Identifier = old
                    .identifier
                    .parse()
                    .map_err(internal("已存证书的标识 (a stored identifier)"))?;
                if old_id.kind() != kind {
                    return Err(Error::content(
                        "/typeCode",
                        crate::domain::Rule::TypeCode,
                        format!(
                            "修改后的证书类型须与原证书相同 (a revision keeps the kind: {} ≠ {})",
                            kind,
                            old_id.kind()
                        ),
                    ));
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

        // Refuse early what the store would refuse after the expensive work, and an instance
        // whose verifier could not pass what it seals.
        self.refuse_taken_number(&number).await?;
        let verify = self.issuing_options()?;

        // Layout with the identifier and check code; DocInfo carries both.
        // Templates read absent fields with defaults: leave out what is None, not `null`.
        let mut value = serde_json::to_value(&content).map_err(internal("内容 (content)"))?;
        strip_nulls(&mut value);
        let merged = serde_json::to_vec(&value).map_err(internal("内容 (content)"))?;
        let template = match template {
            Some(t) => t.clone(),
            None => ecert_layout::Template::builtin(
                ecert_layout::Builtin::for_type_code(kind.code()).ok_or_else(|| {
                    bug(
                        "模板 (template)",
                        format!("无此类型的模板 (no shipped template for type {kind})"),
                    )
                })?,
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
        let tag = CertificateTag {
            identifier: identifier.clone(),
            number: number.clone(),
        }
        .spec();
        let seal = self.active_seal(seal_kind_for(kind)).await?;
        let template_name = template.name().to_owned();
        let job = LayoutJob {
            template,
            content: merged,
            extras,
            verify_url: verify_url.clone(),
            tag,
            seal,
            fonts: self.fonts.clone(),
            verify,
        };
        Ok(Prepared {
            content,
            binding,
            identifier,
            number,
            issue_date,
            token,
            check_code,
            verify_url,
            file_name,
            template_name,
            job,
        })
    }

    /// The record of a certificate about to be stored: number, identifier (kind, revision),
    /// customer and instrument from the content, tokens, file name, retention (R-6.5c). Only a
    /// file our verifier passed gets one: `_verified` is the verifier's proof, which nothing
    /// but the verifier can make ([`Sealed::verified`]).
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
        _verified: ses::verify::Verified,
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
    ) -> Result<String> {
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
    pub(crate) async fn refuse_taken_number(&self, number: &str) -> Result<()> {
        if self.store.certificate_by_number(number).await?.is_some() {
            return Err(Error::NumberTaken {
                number: number.to_owned(),
            });
        }
        Ok(())
    }
}

/// SM3 (hex) of a content JSON as [`Instance::issue`] records it in the issue audit entry
/// (`context.content_sm3`): of the JSON re-serialised, so that spacing and line ends do not
/// count, without `customer.downloadPassword`. `None` when it is not JSON.
pub fn content_sm3(content_json: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(content_json).ok()?;
    // Not over the preset download password (R-6.2f): a hash of the content with it would let
    // someone who knows the rest of the content try passwords against the audit chain.
    if let Some(c) = v.get_mut("customer").and_then(|c| c.as_object_mut()) {
        c.remove("downloadPassword");
    }
    let bytes = serde_json::to_vec(&v).ok()?;
    Some(ecert_store::hex(&ecert_store::sm3(&bytes)))
}

/// A certificate number found issued already, compared with the content given for it again
/// (re-running a batch after a crash: [`Instance::already_issued`]).
#[derive(Debug, Clone)]
pub enum AlreadyIssued {
    /// Issued from the same content (the SM3 recorded at issue matches).
    Same(CertificateRecord),
    /// Issued from other content, or before content hashes were recorded: `difference` says how.
    Different {
        /// The stored record.
        record: CertificateRecord,
        /// What differs, Chinese first with English beside it.
        difference: String,
    },
}

impl Instance {
    /// Whether `content_json`'s certificate number is issued already and, if so, whether from
    /// the same content: its SM3 is compared with the one recorded in the issue (or revision)
    /// audit entry. `None` when the number is free (or the content names none).
    pub async fn already_issued(&self, content_json: &str) -> Result<Option<AlreadyIssued>> {
        let content = Content::parse_valid(content_json)?;
        let Some(number) = content.certificate_no.clone() else {
            return Ok(None);
        };
        let Some(record) = self.store.certificate_by_number(&number).await? else {
            return Ok(None);
        };
        let stored = self
            .store
            .audit_entries_for(&number)
            .await?
            .into_iter()
            .filter(|e| e.action == "certificate.issue" || e.action == "certificate.revise")
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.details).ok())
            .find(|d| d["id"] == record.id.as_str())
            .and_then(|d| d["context"]["content_sm3"].as_str().map(str::to_owned));
        let given = content_sm3(content_json);
        if stored.is_some() && stored == given {
            return Ok(Some(AlreadyIssued::Same(record)));
        }
        let difference = match stored {
            None => "签发时未记录内容摘要，无法确认内容相同 (issued before content hashes were \
                     recorded: cannot tell that the content is the same)"
                .to_owned(),
            Some(stored) => {
                let instrument = content.instrument.clone().unwrap_or_default();
                let customer = content.customer.as_ref().and_then(|c| c.name.clone());
                let fields = [
                    ("customer.name", customer, &record.customer_name),
                    ("instrument.name", instrument.name, &record.instrument_name),
                    (
                        "instrument.serialNo",
                        instrument.serial_no,
                        &record.serial_number,
                    ),
                    ("issueDate", content.issue_date.clone(), &record.issue_date),
                ];
                let differing: Vec<String> = fields
                    .iter()
                    .filter(|(_, given, stored)| {
                        given.as_deref().unwrap_or_default() != stored.as_str()
                    })
                    .map(|(name, given, stored)| {
                        format!(
                            "{name}: {:?} ≠ {stored:?}",
                            given.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                let fields = if differing.is_empty() {
                    "其他字段 (other fields)".to_owned()
                } else {
                    differing.join("; ")
                };
                format!(
                    "内容与签发时不同 (content differs from what was issued): {fields}; \
                     内容 SM3 (content SM3) {} ≠ 签发时 (at issue) {stored}",
                    given.unwrap_or_default()
                )
            }
        };
        Ok(Some(AlreadyIssued::Different { record, difference }))
    }
}

/// A certificate or supplement laid out but not sealed, nothing stored: what a person looks at
/// before it is sealed ([`Instance::draft_issue`], [`Instance::draft_revision`],
/// [`Instance::draft_supplement`]).
#[derive(Debug, Clone)]
pub struct Draft {
    /// The number it will have.
    pub number: String,
    /// The identifier it will have (a supplement: its original's).
    pub identifier: String,
    /// The unsealed OFD file (its 2D code holds a token that is never stored).
    pub file: Vec<u8>,
    /// Page count.
    pub pages: usize,
}

impl Draft {
    pub(crate) async fn of(job: LayoutJob, number: String, identifier: String) -> Result<Draft> {
        let (file, pages) = super::cpu(move || job.draft()).await?;
        Ok(Draft {
            number,
            identifier,
            file,
            pages,
        })
    }
}

/// [`Instance::prepare_issue`]'s result.
struct Prepared {
    content: Content,
    binding: Option<ecert_store::NewBinding>,
    identifier: Identifier,
    number: String,
    issue_date: String,
    token: VerifyToken,
    check_code: CheckCode,
    verify_url: String,
    file_name: String,
    template_name: String,
    job: LayoutJob,
}

/// What the CPU part of issuing needs, owned so that it can move to a blocking thread.
pub(crate) struct LayoutJob {
    /// The template.
    pub(crate) template: ecert_layout::Template,
    /// The content JSON the template reads.
    pub(crate) content: Vec<u8>,
    /// Identifier, check code, issue date, DocInfo.
    pub(crate) extras: ecert_layout::Extras,
    /// The URL in the Grid Matrix code.
    pub(crate) verify_url: String,
    /// Our custom tag.
    pub(crate) tag: ofd::write::CustomTagSpec,
    /// The seal, fetched before.
    pub(crate) seal: ActiveSeal,
    /// The instance's fonts.
    pub(crate) fonts: Arc<ecert_layout::Fonts>,
    /// The verifier's settings for the self-check (the instance's trust roots).
    pub(crate) verify: Arc<ses::verify::VerifyOptions>,
}

impl LayoutJob {
    /// The CPU part of issuing, a plain function between the async fetch of the seal and the
    /// async store write: lays out the template with the content and writes the OFD, draws the
    /// Grid Matrix code of the verify URL in the code slot, adds the tag,
    /// seals it in the seal slot and checks it ([`seal_checked`]). No store, no runtime.
    pub(crate) fn run(self) -> Result<Sealed> {
        let (mut package, seal_slot, page_count) = self.lay_out()?;
        seal_checked(
            &mut package,
            &self.seal,
            seal_slot,
            page_count,
            &self.verify,
        )
    }

    /// The unsealed file and its page count (a [`Draft`]).
    pub(crate) fn draft(self) -> Result<(Vec<u8>, usize)> {
        let (package, _, pages) = self.lay_out()?;
        let file = package
            .to_zip()
            .map_err(internal("OFD 文件 (the OFD file)"))?;
        Ok((file, pages))
    }

    fn lay_out(&self) -> Result<(ofd::Package, ecert_layout::geom::Rect, usize)> {
        let mut laid = ecert_layout::render_certificate(
            &self.template,
            &self.content,
            &self.extras,
            &self.fonts,
        )
        .map_err(|e| layout_error(self.template.name(), e))?;
        draw_code(&mut laid.document, laid.code_slot, &self.verify_url)?;
        laid.document
            .add_custom_tag(self.tag.clone())
            .map_err(internal("自定义标引 (custom tag)"))?;
        let package = laid
            .document
            .finish()
            .map_err(internal("OFD 文件 (the OFD file)"))?;
        Ok((package, laid.seal_slot, laid.page_count))
    }
}

/// Draws the Grid Matrix code of `url`, 25 × 25 mm with its quiet zone, into `slot` on page 1
///
fn draw_code(
    document: &mut ofd::DocumentWriter,
    slot: ecert_layout::geom::Rect,
    url: &str,
) -> Result<()> {
    let path = code_path(slot, url)?;
    let mut page = document
        .page(0)
        .ok_or_else(|| bug("网格矩阵码 (the 2D code)", "证书没有页面 (no page)"))?;
    page.body()
        .path(
            &path,
            &ofd::write::PathStyle::filled(ofd::Color::rgb(0, 0, 0)),
        )
        .map_err(internal("网格矩阵码 (the 2D code)"))?;
    Ok(())
}

/// The Grid Matrix code of `url` as one path of dark modules, 25 × 25 mm with its quiet zone
/// inside `slot` (page mm, R-4.3.4).
pub(crate) fn code_path(slot: ecert_layout::geom::Rect, url: &str) -> Result<ofd::write::Path> {
    let symbol = gridmatrix::encode(url, &gridmatrix::Options::default())
        .map_err(internal("网格矩阵码 (the 2D code)"))?;
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
