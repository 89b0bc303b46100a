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
use super::Error;
use super::extract::ClientIp;
use super::view::{self, Chrome, Lang, Want, html, status_text};
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
                .respond(want);
            }
            if want.json {
                axum::Json(verdict.to_json(want.lang == Lang::En)).into_response()
            } else {
                html(
                    StatusCode::OK,
                    result_html(&verdict, want.lang, &super::pages::self_url(&uri)),
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
            e.respond(want)
        }
    }
}

/// Reads the upload and has the service judge it (a turn of the heavy-work semaphore).
async fn check(app: &App, req: Request) -> Result<Verdict, Error> {
    let bytes = read_upload(req, app.inner.server.max_upload_bytes).await?;
    let Ok(_permit) = app.inner.heavy.acquire().await else {
        return Err(Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "服务繁忙",
            "Busy",
        ));
    };
    Ok(app.inner.instance.verify_file(bytes).await?)
}

struct CheckRow {
    signature: String,
    number: u8,
    name: &'static str,
    status: &'static str,
    reason: String,
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

fn result_html(r: &Verdict, lang: Lang, self_url: &str) -> String {
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
    view::render(&ResultPage {
        chrome: Chrome::new(lang, lang.t("验证结果", "Verification result"), self_url),
        r,
        verdict_text: r.outcome.text(lang == Lang::En),
        file_sm3: ecert_store::hex(&r.file_sm3),
        mismatches: r.mismatches.iter().map(ToString::to_string).collect(),
        record_status: r
            .record
            .as_ref()
            .map(|rec| status_text(rec.status, lang))
            .unwrap_or_default(),
        css: css(r.outcome),
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
    })
}
