//! `POST /verify` (R-6.3b): an uploaded file judged against our records by the service
//! ([`Instance::verify_file`](crate::service::Instance::verify_file): the full signature report
//! plus the comparison with our records — the identifier in the custom tag, the file's SM3, the
//! number — ending in one verdict, `crate::service::Outcome`); this handler only reads the
//! upload and renders the verdict, as JSON or as a page.
//!
//! The body is a multipart form (field `file`, what the start page posts) or the raw file
//! (`Content-Type: application/ofd` or `application/octet-stream`); it is read up to
//! `max_upload_bytes` and never stored. Files that are not OFD, or that break the reader's
//! limits (ZIP bombs), get a 4xx naming the problem. Each upload leaves an audit entry.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use super::App;
use super::extract::ClientIp;
use super::view::{self, Chrome, Lang, Want, html, status_text};
use super::{Error, explain};
use crate::service::{Outcome, Verdict};

fn css(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::GenuineCurrent | Outcome::GenuineSupplemented | Outcome::GenuineSupplement => "ok",
        Outcome::GenuineVoid => "void",
        _ => "bad",
    }
}

fn upload_error(status: StatusCode, code: &'static str, zh: String, en: String) -> Error {
    Error::new(status, code, zh, en)
}

/// Reads the upload: raw body or the `file` field of a multipart form, at most `limit` bytes.
async fn read_upload(req: Request, limit: usize) -> Result<Bytes, Error> {
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
        .audit("public", "verify.upload", subject, &details)
        .await
    {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e.chain(), "audit log: verify.upload");
            false
        }
    }
}

/// `POST /verify` (rate limited by its `route_layer`, [`super::security::limit_uploads`]).
pub(crate) async fn verify_upload(
    State(app): State<App>,
    want: Want,
    ClientIp(ip): ClientIp,
    uri: Uri,
    req: Request,
) -> Response {
    let remote = ip.map(|r| r.to_string());
    match check(&app, req).await {
        Ok(verdict) => {
            let name = verdict.outcome.name();
            app.inner.metrics.verdict(name);
            let file_sm3 = ecert_store::hex(&verdict.file_sm3);
            let ok = audit(
                &app,
                &file_sm3,
                json!({
                    "remote": remote,
                    "size": verdict.file_size,
                    "verdict": name,
                    "indication": verdict.report.indication(),
                    "record": verdict.record.as_ref().map(|r| &r.number),
                    "claimed": verdict.claimed,
                }),
            )
            .await;
            if !ok {
                return Error::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "audit_unavailable",
                    "审计日志不可用，暂不提供验证",
                    "The audit log is unavailable; verification is suspended",
                )
                .into_response();
            }
            if want.json {
                axum::Json(verdict.to_json(want.lang == Lang::En)).into_response()
            } else {
                html(
                    StatusCode::OK,
                    result_html(
                        &verdict,
                        want.lang,
                        &super::pages::self_url(&uri),
                        app.trial(),
                    ),
                )
            }
        }
        Err(e) => {
            app.inner.metrics.verdict(&format!("refused:{}", e.code()));
            audit(
                &app,
                "-",
                json!({"remote": remote, "refused": e.code(), "status": e.status().as_u16(), "reason": e.message_en()}),
            )
            .await;
            // Rendered for the request (page or JSON, language) by `error::answer_errors`.
            e.into_response()
        }
    }
}

/// Reads the upload and has the service judge it, its CPU-heavy stages each taking a turn of
/// the heavy-work semaphore while they compute (not while the records are looked up).
async fn check(app: &App, req: Request) -> Result<Verdict, Error> {
    let bytes = read_upload(req, app.inner.server.max_upload_bytes).await?;
    match app
        .inner
        .instance
        .verify_file_gated(bytes.clone(), Some(&app.inner.heavy))
        .await
    {
        Ok(v) => Ok(v),
        Err(crate::service::Error::NotOfd { reason }) => Err(not_ofd(&bytes, reason)),
        Err(e) => Err(e.into()),
    }
}

/// 422 `not_ofd` that says what the reader found in words a person understands (the
/// reader's own message follows in the English text, as the detail): the file is read again
/// to learn the typed reason, which the service's error carries only as text.
fn not_ofd(bytes: &[u8], reason: String) -> Error {
    let (zh, en) = match ofd::OfdFile::read(bytes) {
        Err(e) => (
            explain::unreadable(&e, Lang::Zh),
            explain::unreadable(&e, Lang::En),
        ),
        // The package reads, but the signature verifier could not (its signatures part).
        Ok(_) => (
            "文件中的签章信息无法读取，不能验证。",
            "The file's signature information cannot be read; it cannot be verified.",
        ),
    };
    Error::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_ofd",
        format!("不是可读取的 OFD 文件。{zh}"),
        format!("Not a readable OFD file. {en} (Detail: {reason})"),
    )
}

struct CheckRow {
    number: u8,
    id: &'static str,
    name: &'static str,
    what: &'static str,
    status: &'static str,
    class: &'static str,
    reason: String,
}

/// The checks of one signature, or of the whole package.
struct CheckGroup {
    title: String,
    checks: Vec<CheckRow>,
}

fn row(c: &ses::verify::Check, lang: Lang) -> CheckRow {
    let (name, what) = explain::check(c.id(), lang);
    let (status, class) = explain::status(c.status(), lang);
    CheckRow {
        number: c.number(),
        id: c.id().name(),
        name,
        what,
        status,
        class,
        reason: c.reason().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct ResultPage<'a> {
    chrome: Chrome,
    r: &'a Verdict,
    verdict_text: &'a str,
    file_sm3: String,
    mismatches: Vec<String>,
    record_status: &'a str,
    css: &'a str,
    indication: &'a str,
    groups: Vec<CheckGroup>,
    l_sm3: &'a str,
    l_size: &'a str,
    l_identifier: &'a str,
    l_number: &'a str,
    l_record: &'a str,
    l_signatures: &'a str,
    l_report: &'a str,
    l_detail: &'a str,
}

fn result_html(r: &Verdict, lang: Lang, self_url: &str, trial: bool) -> String {
    let mut groups = Vec::new();
    for (i, s) in r.report.signatures().iter().enumerate() {
        let seal = s.seal_name().map(|n| format!(" · {n}")).unwrap_or_default();
        groups.push(CheckGroup {
            title: match lang {
                Lang::Zh => format!("第 {} 个签章{seal}", i + 1),
                Lang::En => format!("Signature {}{seal}", i + 1),
            },
            checks: s.checks().iter().map(|c| row(c, lang)).collect(),
        });
    }
    groups.push(CheckGroup {
        title: lang.t("整个文件", "The whole file").to_owned(),
        checks: r
            .report
            .package_checks()
            .iter()
            .map(|c| row(c, lang))
            .collect(),
    });
    let indication = match r.report.indication() {
        ses::verify::Indication::Passed => lang.t("签章验证通过", "Seals verified"),
        ses::verify::Indication::Failed => lang.t("签章验证未通过", "Seals fail"),
        ses::verify::Indication::Indeterminate => lang.t("签章无法确定", "Seals undecided"),
    };
    view::render(&ResultPage {
        chrome: Chrome::new(
            lang,
            lang.t("验证结果", "Verification result"),
            self_url,
            trial,
        ),
        r,
        verdict_text: r.outcome.text(lang == Lang::En),
        file_sm3: ecert_store::hex(&r.file_sm3),
        mismatches: r
            .mismatches
            .iter()
            .map(|m| explain::mismatch(m, lang))
            .collect(),
        record_status: r
            .record
            .as_ref()
            .map(|rec| status_text(rec.status, lang))
            .unwrap_or_default(),
        css: css(r.outcome),
        indication,
        groups,
        l_sm3: lang.t("文件 SM3", "File SM3"),
        l_size: lang.t("大小（字节）", "Size (bytes)"),
        l_identifier: lang.t("文件中的电子证书标识", "Identifier in the file"),
        l_number: lang.t("文件中的证书编号", "Number in the file"),
        l_record: lang.t("本机构记录", "Our record"),
        l_signatures: lang.t("签章", "Signatures"),
        l_report: lang.t("签章验证报告", "Signature report"),
        l_detail: lang.t("技术细节", "Technical detail"),
    })
}
