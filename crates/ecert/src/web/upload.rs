//! `POST /verify` (R-6.3b): an uploaded file's full signature report plus the comparison with
//! our records — the identifier in the custom tag, the file's SM3, the number and key fields —
//! ending in one verdict:
//!
//! | verdict | meaning |
//! |---|---|
//! | `genuine_current` | byte-identical to a certificate we issued, which is current |
//! | `genuine_supplemented` | identical to a current certificate that has supplements (R-6.4.2) |
//! | `genuine_void` | identical to a certificate we issued that was revised: void (R-6.4.1) |
//! | `genuine_supplement` | identical to a supplementary file we issued (R-6.4.2) |
//! | `disposed` | ours, past retention: no verification offered (R-6.5h) |
//! | `altered` | claims to be one of ours (identifier or number) but differs from our file |
//! | `not_issued_by_us` | no certificate of ours matches |
//!
//! The body is a multipart form (field `file`, what the start page posts) or the raw file
//! (`Content-Type: application/ofd` or `application/octet-stream`); it is read up to
//! `max_upload_bytes` and never stored. Files that are not OFD, or that break the reader's
//! limits (ZIP bombs), get a 4xx naming the problem. Each upload leaves an audit entry.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ecert_store::{AuditEvent, CertificateRecord, CertificateStatus};
use serde::Serialize;
use serde_json::json;

use super::App;
use super::pages::PageQuery;
use super::view::{Lang, PageError, Want, html, layout, status_text};
use crate::service::{MSG_DISPOSED, TAG_NAMESPACE, status_messages, supplement_message};

/// The verdicts, as serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    GenuineCurrent,
    GenuineSupplemented,
    GenuineVoid,
    GenuineSupplement,
    Disposed,
    Altered,
    NotIssuedByUs,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::GenuineCurrent => "genuine_current",
            Verdict::GenuineSupplemented => "genuine_supplemented",
            Verdict::GenuineVoid => "genuine_void",
            Verdict::GenuineSupplement => "genuine_supplement",
            Verdict::Disposed => "disposed",
            Verdict::Altered => "altered",
            Verdict::NotIssuedByUs => "not_issued_by_us",
        }
    }
    fn text(self, lang: Lang) -> &'static str {
        match self {
            Verdict::GenuineCurrent => lang.t(
                "真实：与本机构签发的证书完全一致，证书现行有效",
                "Genuine: identical to the certificate we issued, which is current",
            ),
            Verdict::GenuineSupplemented => lang.t(
                "真实：与本机构签发的证书完全一致，证书现行有效，有补充文件",
                "Genuine and current; supplementary files exist",
            ),
            Verdict::GenuineVoid => lang.t(
                "真实，但已作废：该证书已被修改后的证书替代",
                "Genuine but void: replaced by a revised certificate",
            ),
            Verdict::GenuineSupplement => lang.t(
                "真实：与本机构签发的补充文件完全一致",
                "Genuine: identical to a supplementary file we issued",
            ),
            Verdict::Disposed => MSG_DISPOSED,
            Verdict::Altered => lang.t(
                "已被篡改：文件声称是本机构的证书，但与本机构的记录不一致",
                "Altered: the file claims to be our certificate but differs from our record",
            ),
            Verdict::NotIssuedByUs => lang.t(
                "非本机构签发：本机构没有与此文件对应的证书",
                "Not issued by us: we hold no certificate matching this file",
            ),
        }
    }
    fn css(self) -> &'static str {
        match self {
            Verdict::GenuineCurrent | Verdict::GenuineSupplemented | Verdict::GenuineSupplement => {
                "ok"
            }
            Verdict::GenuineVoid => "void",
            _ => "bad",
        }
    }
}

/// What the file says about itself (custom tag, DocInfo).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Claimed {
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
}

/// Our record the file was compared with.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RecordSummary {
    number: String,
    identifier: String,
    status: &'static str,
    status_text: String,
    issue_date: String,
    file_sm3: String,
    file_size: i64,
}

/// The answer to an upload.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UploadResult {
    verdict: Verdict,
    verdict_text: String,
    file_sm3: String,
    file_size: usize,
    claimed: Claimed,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<RecordSummary>,
    /// Where the file and our record disagree.
    mismatches: Vec<String>,
    /// The exact statements of R-6.4.1 / R-6.4.2 / R-6.5h.
    messages: Vec<String>,
    /// The full signature report (`ses::verify`).
    report: ses::verify::Report,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<ecert:{name}>");
    let close = format!("</ecert:{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(unescape(&xml[start..end]))
}

/// The identifier and number the file carries: our custom tag first (R-4.5.2), else DocInfo.
/// An error when the file is not a readable OFD document.
fn claimed_ids(bytes: &[u8]) -> Result<Claimed, String> {
    let file = ofd::OfdFile::read(bytes).map_err(|e| e.to_string())?;
    let mut c = Claimed::default();
    for body in &file.ofd.docs {
        for tag in &body.document.custom_tags {
            let ours = tag.type_id.as_deref() == Some(TAG_NAMESPACE)
                || tag.namespace.as_deref() == Some(TAG_NAMESPACE);
            if !ours {
                continue;
            }
            if let Ok(xml) = std::str::from_utf8(&tag.data) {
                c.identifier = c.identifier.or_else(|| element(xml, "Identifier"));
                c.number = c.number.or_else(|| element(xml, "CertificateNo"));
            }
        }
        for (k, v) in &body.info.custom_data {
            if k == "电子证书标识" && c.identifier.is_none() {
                c.identifier = Some(v.clone());
            }
            if k == "证书编号" && c.number.is_none() {
                c.number = Some(v.clone());
            }
        }
    }
    Ok(c)
}

fn summary(r: &CertificateRecord, lang: Lang) -> RecordSummary {
    RecordSummary {
        number: r.number.clone(),
        identifier: r.identifier.clone(),
        status: r.status.as_str(),
        status_text: status_text(r.status, lang).to_owned(),
        issue_date: r.issue_date.clone(),
        file_sm3: ecert_store::hex(&r.file_sm3),
        file_size: r.file_size,
    }
}

fn upload_error(status: StatusCode, code: &'static str, zh: String, en: String) -> PageError {
    PageError::new(status, code, zh, en)
}

/// Reads the upload: raw body or the `file` field of a multipart form, at most `limit` bytes.
async fn read_upload(req: Request, limit: usize) -> Result<Bytes, PageError> {
    let too_large = || {
        upload_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("文件过大：上限 {limit} 字节"),
            format!("File too large: the limit is {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Multipart framing adds a little; the file itself is checked against `limit` below.
    let framing = 16 * 1024;
    if declared.is_some_and(|n| n > (limit + framing) as u64) {
        return Err(too_large());
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit + framing)
        .await
        .map_err(|_| too_large())?;
    let file = if multipart {
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
            upload_error(
                StatusCode::BAD_REQUEST,
                "bad_form",
                format!("表单无效：{e}"),
                format!("Malformed form: {e}"),
            )
        })?;
        let mut found = None;
        while let Some(field) = form.next_field().await.map_err(|e| {
            upload_error(
                StatusCode::BAD_REQUEST,
                "bad_form",
                format!("表单无效：{e}"),
                format!("Malformed form: {e}"),
            )
        })? {
            if field.name() == Some("file") {
                found = Some(field.bytes().await.map_err(|e| {
                    upload_error(
                        StatusCode::BAD_REQUEST,
                        "bad_form",
                        format!("表单无效：{e}"),
                        format!("Malformed form: {e}"),
                    )
                })?);
                break;
            }
        }
        found.ok_or_else(|| {
            upload_error(
                StatusCode::BAD_REQUEST,
                "no_file",
                "请选择要上传的文件（表单字段 file）".into(),
                "Choose a file to upload (form field `file`)".into(),
            )
        })?
    } else {
        bytes
    };
    if file.len() > limit {
        return Err(too_large());
    }
    if file.is_empty() {
        return Err(upload_error(
            StatusCode::BAD_REQUEST,
            "empty",
            "上传的文件为空".into(),
            "The uploaded file is empty".into(),
        ));
    }
    Ok(file)
}

async fn audit(app: &App, subject: &str, details: serde_json::Value) -> bool {
    match app
        .inner
        .instance
        .store
        .append_audit(&AuditEvent {
            actor: "public",
            action: "verify.upload",
            subject,
            details: &details,
        })
        .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "audit log: verify.upload");
            false
        }
    }
}

/// `POST /verify`.
pub(crate) async fn verify_upload(
    State(app): State<App>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: Uri,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    let remote = super::security::remote(&req).map(|r| r.to_string());
    if !app.inner.verify_limit.allow(super::security::remote(&req)) {
        return PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "上传过于频繁，请一分钟后再试",
            "Too many uploads; please wait a minute",
        )
        .respond(want);
    }
    match check(&app, req, want.lang).await {
        Ok(result) => {
            app.inner.metrics.verdict(result.verdict.name());
            let ok = audit(
                &app,
                &result.file_sm3,
                json!({
                    "remote": remote,
                    "size": result.file_size,
                    "verdict": result.verdict.name(),
                    "indication": result.report.indication(),
                    "record": result.record.as_ref().map(|r| &r.number),
                    "claimed": result.claimed,
                }),
            )
            .await;
            if !ok {
                return PageError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "audit_unavailable",
                    "审计日志不可用，暂不提供验证",
                    "The audit log is unavailable; verification is suspended",
                )
                .respond(want);
            }
            if want.json {
                axum::Json(&result).into_response()
            } else {
                html(
                    StatusCode::OK,
                    layout(
                        want.lang,
                        want.lang.t("验证结果", "Verification result"),
                        &uri.path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default(),
                        &result_html(&result, want.lang),
                    ),
                )
            }
        }
        Err(e) => {
            app.inner.metrics.verdict(&format!("refused:{}", e.code));
            audit(
                &app,
                "-",
                json!({"remote": remote, "refused": e.code, "status": e.status.as_u16(), "reason": e.en}),
            )
            .await;
            e.respond(want)
        }
    }
}

async fn check(app: &App, req: Request, lang: Lang) -> Result<UploadResult, PageError> {
    let bytes = read_upload(req, app.inner.server.max_upload_bytes).await?;
    let Ok(_permit) = app.inner.heavy.acquire().await else {
        return Err(PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "服务繁忙",
            "Busy",
        ));
    };
    let options = app.inner.verify_options.clone();
    let file = bytes.clone();
    let internal_join = |e: tokio::task::JoinError| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("服务器内部错误：{e}"),
            format!("Internal error: {e}"),
        )
    };
    let report = tokio::task::spawn_blocking(move || ses::verify::verify_bytes(&file, &options))
        .await
        .map_err(internal_join)?;
    let not_ofd = |why: &str| {
        upload_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_ofd",
            format!("不是可读取的 OFD 文件：{why}"),
            format!("Not a readable OFD file: {why}"),
        )
    };
    let report = report.map_err(|e| not_ofd(&e.0))?;
    let digest = ecert_store::sm3(&bytes);
    let store = &app.inner.instance.store;
    let internal = |e: ecert_store::StoreError| {
        tracing::error!(error = %e, "verify upload: store");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误",
            "Internal error",
        )
    };
    let same_certificate = store
        .certificate_by_file_sm3(&digest)
        .await
        .map_err(internal)?;
    let same_supplement = match &same_certificate {
        Some(_) => None,
        None => store
            .supplement_by_file_sm3(&digest)
            .await
            .map_err(internal)?,
    };
    // A file byte-identical to one we issued says what our record says (we wrote it); any
    // other file is read to find the identifier and number it claims.
    let claimed = match (&same_certificate, &same_supplement) {
        (Some(c), _) => Claimed {
            identifier: Some(c.identifier.clone()),
            number: Some(c.number.clone()),
        },
        (None, Some(s)) => Claimed {
            identifier: None,
            number: Some(s.number.clone()),
        },
        (None, None) => {
            let file = bytes.clone();
            tokio::task::spawn_blocking(move || claimed_ids(&file))
                .await
                .map_err(internal_join)?
                .map_err(|e| not_ofd(&e))?
        }
    };
    let mut mismatches = Vec::new();
    let mut messages = Vec::new();
    let mut record = None;
    let verdict;
    if let Some(c) = same_certificate {
        let view = store.status_view(c.clone()).await.map_err(internal)?;
        messages = status_messages(&view);
        verdict = match c.status {
            CertificateStatus::Valid => Verdict::GenuineCurrent,
            CertificateStatus::Supplemented => Verdict::GenuineSupplemented,
            CertificateStatus::Revised => Verdict::GenuineVoid,
            CertificateStatus::Disposed => Verdict::Disposed,
        };
        record = Some(summary(&c, lang));
    } else if let Some(s) = same_supplement {
        let parent = store
            .certificate(&s.certificate_id)
            .await
            .map_err(internal)?;
        if let Some(p) = &parent {
            if p.status == CertificateStatus::Disposed {
                messages.push(MSG_DISPOSED.to_owned());
            } else {
                messages.push(supplement_message(&p.number));
            }
            record = Some(summary(p, lang));
        }
        verdict = if parent
            .as_ref()
            .is_some_and(|p| p.status == CertificateStatus::Disposed)
        {
            Verdict::Disposed
        } else {
            Verdict::GenuineSupplement
        };
    } else {
        // Not byte-identical to anything we issued: does it claim to be ours?
        let mut ours = None;
        if let Some(id) = &claimed.identifier {
            ours = store
                .certificate_by_identifier(id)
                .await
                .map_err(internal)?;
        }
        if ours.is_none()
            && let Some(n) = &claimed.number
        {
            ours = store.certificate_by_number(n).await.map_err(internal)?;
        }
        match ours {
            Some(c) => {
                verdict = if c.status == CertificateStatus::Disposed {
                    Verdict::Disposed
                } else {
                    Verdict::Altered
                };
                mismatches.push(format!(
                    "文件 SM3 与记录不一致 (file SM3 differs from our record): 文件 {}, 记录 {}",
                    ecert_store::hex(&digest),
                    ecert_store::hex(&c.file_sm3)
                ));
                if let Some(id) = &claimed.identifier
                    && id != &c.identifier
                {
                    mismatches.push(format!(
                        "电子证书标识不一致 (identifier differs): 文件 {id}, 记录 {}",
                        c.identifier
                    ));
                }
                if let Some(n) = &claimed.number
                    && n != &c.number
                {
                    mismatches.push(format!(
                        "证书编号不一致 (number differs): 文件 {n}, 记录 {}",
                        c.number
                    ));
                }
                if report.indication() == ses::verify::Indication::Failed {
                    mismatches.push(format!(
                        "签章验证失败 (signature check failed): {:?}",
                        report.failed_checks()
                    ));
                }
                if c.status == CertificateStatus::Disposed {
                    messages.push(MSG_DISPOSED.to_owned());
                }
                record = Some(summary(&c, lang));
            }
            None => {
                verdict = Verdict::NotIssuedByUs;
                let cfg = &app.inner.instance.config;
                if let Some(id) = &claimed.identifier
                    && let Ok(parsed) = id.parse::<crate::domain::Identifier>()
                    && parsed.issuer_code() == cfg.institute.org_code
                {
                    mismatches.push(
                        "文件的标识声称由本机构签发，但本机构没有此证书 (the identifier names our institute, but we have no such certificate)"
                            .to_owned(),
                    );
                }
            }
        }
    }
    Ok(UploadResult {
        verdict,
        verdict_text: verdict.text(lang).to_owned(),
        file_sm3: ecert_store::hex(&digest),
        file_size: bytes.len(),
        claimed,
        record,
        mismatches,
        messages,
        report,
    })
}

struct CheckRow {
    signature: String,
    number: u8,
    name: &'static str,
    status: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p class="verdict {{ css }}" id="verdict">{{ r.verdict_text }}</p>
{% for m in r.messages %}<p class="notice">{{ m }}</p>{% endfor %}
{% for m in r.mismatches %}<p class="notice">{{ m }}</p>{% endfor %}
<dl>
<dt>{{ l_sm3 }}</dt><dd class="small">{{ r.file_sm3 }}</dd>
<dt>{{ l_size }}</dt><dd>{{ r.file_size }}</dd>
{% if let Some(id) = r.claimed.identifier %}<dt>{{ l_identifier }}</dt><dd class="small">{{ id }}</dd>{% endif %}
{% if let Some(n) = r.claimed.number %}<dt>{{ l_number }}</dt><dd>{{ n }}</dd>{% endif %}
{% if let Some(rec) = r.record %}<dt>{{ l_record }}</dt><dd>{{ rec.number }} · {{ rec.status_text }} · {{ rec.issue_date }}</dd>{% endif %}
<dt>{{ l_signatures }}</dt><dd>{{ indication }} ({{ r.report.valid_signatures_count() }}/{{ r.report.signatures_count() }})</dd>
</dl>
<h2>{{ l_report }}</h2>
<table><tr><th>#</th><th>{{ l_check }}</th><th>{{ l_result }}</th><th>{{ l_reason }}</th></tr>
{% for c in rows %}<tr><td>{{ c.signature }} {{ c.number }}</td><td>{{ c.name }}</td><td>{{ c.status }}</td><td class="small">{{ c.reason }}</td></tr>{% endfor %}
</table>"#
)]
struct ResultBody<'a> {
    r: &'a UploadResult,
    css: &'a str,
    indication: &'a str,
    rows: Vec<CheckRow>,
    l_sm3: &'a str,
    l_size: &'a str,
    l_identifier: &'a str,
    l_number: &'a str,
    l_record: &'a str,
    l_signatures: &'a str,
    l_report: &'a str,
    l_check: &'a str,
    l_result: &'a str,
    l_reason: &'a str,
}

fn status_name(s: ses::verify::Status) -> &'static str {
    match s {
        ses::verify::Status::Passed => "PASSED",
        ses::verify::Status::Failed => "FAILED",
        ses::verify::Status::Indeterminate => "INDETERMINATE",
        ses::verify::Status::NotApplicable => "N/A",
    }
}

fn result_html(r: &UploadResult, lang: Lang) -> String {
    let mut rows = Vec::new();
    for s in r.report.signatures() {
        for c in s.checks() {
            rows.push(CheckRow {
                signature: s.id().to_owned(),
                number: c.number(),
                name: c.id().name(),
                status: status_name(c.status()),
                reason: c.reason().to_owned(),
            });
        }
    }
    for c in r.report.package_checks() {
        rows.push(CheckRow {
            signature: lang.t("文件", "package").to_owned(),
            number: c.number(),
            name: c.id().name(),
            status: status_name(c.status()),
            reason: c.reason().to_owned(),
        });
    }
    let indication = match r.report.indication() {
        ses::verify::Indication::Passed => lang.t("签章验证通过 PASSED", "PASSED"),
        ses::verify::Indication::Failed => lang.t("签章验证失败 FAILED", "FAILED"),
        ses::verify::Indication::Indeterminate => lang.t("无法确定 INDETERMINATE", "INDETERMINATE"),
    };
    ResultBody {
        r,
        css: r.verdict.css(),
        indication,
        rows,
        l_sm3: lang.t("文件 SM3", "File SM3"),
        l_size: lang.t("大小（字节）", "Size (bytes)"),
        l_identifier: lang.t("文件中的电子证书标识", "Identifier in the file"),
        l_number: lang.t("文件中的证书编号", "Number in the file"),
        l_record: lang.t("本机构记录", "Our record"),
        l_signatures: lang.t("签章", "Signatures"),
        l_report: lang.t("签章验证报告", "Signature report"),
        l_check: lang.t("检查项", "Check"),
        l_result: lang.t("结果", "Result"),
        l_reason: lang.t("说明", "Reason"),
    }
    .render()
    .unwrap_or_else(|e| format!("template error: {e}"))
}
