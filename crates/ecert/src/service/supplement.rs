//! Supplementary files: a sealed OFD of their own, bound to the certificate they
//! supplement.

use ecert_store::CertificateRecord;

use super::issue::{Draft, LayoutJob};
use super::{
    Actor, Error, Instance, Result, StaffRole, internal, random_hex, seal_kind_for, strip_nulls,
    supplement_message, today_beijing,
};
use crate::domain::filename;
use crate::domain::{CertificateKind, Identifier, SupplementContent, SupplementTag, VerifyToken};

impl Instance {
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
        actor: &Actor,
    ) -> Result<Supplemented> {
        self.authorize(actor, &[StaffRole::Operator], "补充 (supplement)")
            .await?;
        let PreparedSupplement {
            original,
            number,
            token,
            verify_url,
            file_name,
            template_name,
            job,
        } = self
            .prepare_supplement(original_number, content_json)
            .await?;
        let sealed = super::cpu(move || job.run()).await?;
        let page_count = sealed.pages();
        let mut context = sealed.audit_context();
        context["template"] = template_name.into();
        super::request::mark(&mut context);
        let new = new_supplement(number, file_name, &token, sealed.verified());
        let file = sealed.into_file();
        let record = self
            .store
            .add_supplement(
                &original.id,
                &new,
                file.clone().into(),
                &actor.name,
                &context,
            )
            .await?;
        Ok(Supplemented {
            message: supplement_message(&original.number),
            record,
            original,
            file,
            verify_url,
            pages: page_count,
        })
    }

    /// A draft of the supplement `content_json` would make to `original_number`, laid out but
    /// not sealed, nothing stored ([`Instance::draft_issue`]).
    pub async fn draft_supplement(
        &self,
        original_number: &str,
        content_json: &str,
        actor: &Actor,
    ) -> Result<Draft> {
        self.authorize(actor, &[StaffRole::Operator], "补充 (supplement)")
            .await?;
        let p = self
            .prepare_supplement(original_number, content_json)
            .await?;
        Draft::of(p.job, p.number, p.original.identifier.clone()).await
    }

    /// Everything before sealing a supplement: the original current, the content checked,
    /// number, token, the seal fetched and the layout job ready to run.
    async fn prepare_supplement(
        &self,
        original_number: &str,
        content_json: &str,
    ) -> Result<PreparedSupplement> {
        let cfg = &self.config;
        let original = self.find_certificate(original_number).await?;
        self.require_current(&original).await?;
        let content = SupplementContent::parse_valid(content_json)?;
        let orig_id: Identifier = original
            .identifier
            .parse()
            .map_err(internal("已存证书的标识 (a stored identifier)"))?;
        let kind = orig_id.kind();
        let seq = self.store.supplements_of(&original.id).await?.len() + 1;
        let number = content
            .supplement_no
            .clone()
            .unwrap_or_else(|| format!("{}-BC{seq}", original.number));
        if self.store.supplement_by_number(&number).await?.is_some() {
            return Err(Error::SupplementNumberTaken { number });
        }
        let verify = self.issuing_options()?;
        let issue_date = content.issue_date.clone().unwrap_or_else(today_beijing);
        if issue_date < original.issue_date {
            return Err(Error::content(
                "/issueDate",
                crate::domain::Rule::DateOrder,
                format!(
                    "补充文件的签发日期 {issue_date} 早于原证书的 {} (a supplement cannot predate the original)",
                    original.issue_date
                ),
            ));
        }
        let token = VerifyToken::generate()?;
        let verify_url = token.url(&cfg.instance.base_url);
        let file_name = supplement_file_name(kind, &number)?;

        let mut value = serde_json::to_value(&content).map_err(internal("内容 (content)"))?;
        strip_nulls(&mut value);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("supplementNo".into(), number.clone().into());
            obj.insert("issueDate".into(), issue_date.clone().into());
            obj.insert("typeCode".into(), kind.code().into());
            // The configured institute, with the original's accreditation.
            let issuer = crate::domain::issuer::Institute::from_config(cfg)
                .resolve(None, Some(orig_id.accreditation()))?;
            let mut issuer = serde_json::to_value(issuer).map_err(internal("内容 (content)"))?;
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
        let merged = serde_json::to_vec(&value).map_err(internal("内容 (content)"))?;
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
        let tag = SupplementTag {
            number: number.clone(),
            original: orig_id,
            original_number: original.number.clone(),
        }
        .spec();
        let template_name = template.name().to_owned();
        let job = LayoutJob {
            template,
            content: merged,
            extras,
            verify_url: verify_url.clone(),
            tag,
            seal: self.active_seal(seal_kind_for(kind)).await?,
            fonts: self.fonts.clone(),
            verify,
        };
        Ok(PreparedSupplement {
            original,
            number,
            token,
            verify_url,
            file_name,
            template_name,
            job,
        })
    }
}

struct PreparedSupplement {
    original: CertificateRecord,
    number: String,
    token: VerifyToken,
    verify_url: String,
    file_name: String,
    template_name: String,
    job: LayoutJob,
}

/// The record of a supplement about to be stored; like a certificate's, only for a file our
/// verifier passed (`_verified`, see `Sealed::verified`).
fn new_supplement(
    number: String,
    file_name: String,
    token: &VerifyToken,
    _verified: ses::verify::Verified,
) -> ecert_store::NewSupplement {
    ecert_store::NewSupplement {
        number,
        file_name,
        verify_token: Some(token.as_str().to_owned()),
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

/// The file name of a supplement (R-4.4 limits: characters, 255 bytes).
fn supplement_file_name(kind: CertificateKind, number: &str) -> Result<String> {
    let name = format!(
        "{}电子证书补充文件-{}.ofd",
        kind.file_category(),
        filename::clean(number)
    );
    if name.len() > 255 {
        return Err(Error::content(
            "/supplementNo",
            crate::domain::Rule::TooLong,
            "补充文件编号过长 (supplement number too long for a file name)".into(),
        ));
    }
    Ok(name)
}
