//! The business-system API `/api/v1` (R-5.2.1, R-7.2.2c, R-7.2.2d): issue, revise, status,
//! download, list. Every request is signed ([`super::auth`]); stale, replayed or unsigned
//! requests get 401; every exchange — refused ones included — and its response are written to
//! the audit log before the response leaves. `Idempotency-Key` makes a retried issue or
//! revision answer with the first response instead of issuing twice.
//!
//! The contract is `openapi.json` (served at `/api/v1/openapi.json`), kept in sync with
//! [`ROUTES`] by a test.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use ecert_store::{
    Access, AuditEvent, CertificateQuery, CertificateRecord, CertificateStatus, IdempotencyState,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth;
use super::{App, Error};
use crate::service::{Issued, StoredFile, status_messages};

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `GET` the OpenAPI document (not signed).
pub const OPENAPI: &str = "/api/v1/openapi.json";
/// `GET` list, `POST` issue.
pub const CERTIFICATES: &str = "/api/v1/certificates";
/// `GET` a certificate's status.
pub const CERTIFICATE: &str = "/api/v1/certificates/{number}";
/// `GET` a certificate's file.
pub const CERTIFICATE_FILE: &str = "/api/v1/certificates/{number}/file";
/// `POST` a revision (R-6.4.1).
pub const REVISIONS: &str = "/api/v1/certificates/{number}/revisions";
/// `POST` a supplement (R-6.4.2).
pub const SUPPLEMENTS: &str = "/api/v1/certificates/{number}/supplements";
/// `POST` an OFD the business system made, to be sealed (R-5.2.1).
pub const HANDED_OVER: &str = "/api/v1/handed-over";

/// Every signed route: (method, path pattern). The OpenAPI document lists exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", CERTIFICATES),
    ("post", CERTIFICATES),
    ("get", CERTIFICATE),
    ("get", CERTIFICATE_FILE),
    ("post", REVISIONS),
    ("post", SUPPLEMENTS),
    ("post", HANDED_OVER),
];

pub(crate) fn router(app: App) -> Router {
    let signed = Router::new()
        .route(CERTIFICATES, get(list).post(issue))
        .route(CERTIFICATE, get(status))
        .route(CERTIFICATE_FILE, get(file))
        .route(REVISIONS, post(revise))
        .route(SUPPLEMENTS, post(supplement))
        .route(HANDED_OVER, post(handed_over))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(to_the_end));
    Router::new()
        .route(OPENAPI, get(openapi))
        .merge(signed)
        .with_state(app)
}

async fn openapi() -> Response {
    let mut r = (StatusCode::OK, OPENAPI_JSON).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The authenticated client of a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    id: String,
    name: String,
    remote: Option<String>,
}

impl Caller {
    /// The client as the service sees it: `api:NAME`, 签发员 only (R-5.2.2).
    fn actor(&self) -> crate::service::Actor {
        crate::service::Actor::api_client(&self.name)
    }
}

fn unauthorized(code: &'static str, message: &str) -> Error {
    Error::api(StatusCode::UNAUTHORIZED, code, message)
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the signature headers; on success the nonce is spent.
async fn check_signature(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(String, String), Error> {
    let (Some(name), Some(ts), Some(nonce), Some(sig)) = (
        header_str(headers, auth::HEADER_CLIENT),
        header_str(headers, auth::HEADER_TIMESTAMP),
        header_str(headers, auth::HEADER_NONCE),
        header_str(headers, auth::HEADER_SIGNATURE),
    ) else {
        return Err(unauthorized(
            "missing_signature",
            "缺少签名请求头 X-Ecert-Client / X-Ecert-Timestamp / X-Ecert-Nonce / X-Ecert-Signature (request is not signed)",
        ));
    };
    let Ok(t) = ts.trim().parse::<i64>() else {
        return Err(unauthorized(
            "bad_timestamp",
            "X-Ecert-Timestamp 应为 Unix 秒数 (timestamp must be Unix seconds)",
        ));
    };
    let skew = i64::try_from(app.inner.server.api_max_skew_secs).unwrap_or(300);
    if (unix_now() - t).abs() > skew {
        return Err(unauthorized(
            "stale_request",
            "请求时间戳超出允许范围（过期或时钟不同步）(timestamp too far from the server's clock)",
        ));
    }
    if !auth::nonce_ok(nonce) {
        return Err(unauthorized(
            "bad_nonce",
            "X-Ecert-Nonce 应为 16–128 个字符 [A-Za-z0-9_-] (bad nonce)",
        ));
    }
    let failed = || {
        unauthorized(
            "bad_signature",
            "签名无效或客户端未知 (signature invalid or unknown client)",
        )
    };
    let store = &app.inner.instance.store;
    let client = store
        .api_client_by_name(name)
        .await
        .map_err(Error::from)?
        .filter(|c| c.enabled)
        .ok_or_else(failed)?;
    let signed = match &client.public_key {
        // The client's SM2 key: the signature is the client's alone.
        Some(spki) => auth::verify_sm2(spki, method, path, ts.trim(), nonce, body, sig.trim()),
        None => {
            let secret = store
                .api_client_secret(&client.id, app.inner.instance.master_key())
                .await
                .map_err(Error::from)?
                .ok_or_else(failed)?;
            auth::verify(&secret, method, path, ts.trim(), nonce, body, sig.trim())
        }
    };
    if !signed {
        return Err(failed());
    }
    if !store
        .record_nonce(&client.id, nonce)
        .await
        .map_err(Error::from)?
    {
        return Err(unauthorized(
            "replayed_request",
            "该 nonce 已使用过：重放的请求被拒绝 (nonce already used: replayed request)",
        ));
    }
    Ok((client.id, client.name))
}

const AUDIT_INLINE_MAX: usize = 64 * 1024;

/// Members whose values never go into the audit chain: the preset download password
/// (R-6.2f, `customer.downloadPassword` of a content, wherever a request nests it).
const SECRET_MEMBERS: &[&str] = &["downloadPassword"];

/// Replaces the value of every [`SECRET_MEMBERS`] member, at any depth, by `"(redacted)"`.
fn redact_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map.iter_mut() {
                if SECRET_MEMBERS.contains(&k.as_str()) {
                    *inner = Value::String("(redacted)".into());
                } else {
                    redact_secrets(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

/// A body for the audit log: JSON inline when small (secrets redacted), else its SM3 and size.
fn audit_body(bytes: &[u8], content_type: Option<&str>) -> Value {
    let json_type = content_type.is_none_or(|c| c.starts_with("application/json"));
    if json_type && bytes.len() <= AUDIT_INLINE_MAX {
        if bytes.is_empty() {
            return Value::Null;
        }
        if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
            redact_secrets(&mut v);
            return v;
        }
    }
    json!({
        "sm3": ecert_store::hex(&ecert_store::sm3(bytes)),
        "size": bytes.len(),
        "content_type": content_type,
    })
}

/// Authenticates, runs the handler, and writes the exchange to the audit log (R-7.2.2d).
/// Runs the rest of an API request on a task of its own, so that a client hanging up (which
/// drops the connection's future) does not cut it short: an issue that has started is stored,
/// its `Idempotency-Key` completed — a retry with the key gets the answer instead of
/// `in_progress` — and the exchange audited.
async fn to_the_end(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(r) => r,
        Err(e) => Error::internal_from("api: request task", &e).into_response(),
    }
}

async fn authenticate(State(app): State<App>, req: Request, next: Next) -> Response {
    // A method no API route serves (TRACE, PUT, …) is 405 as elsewhere, before any
    // authentication (the route layer also wraps the routes' method-not-allowed answer).
    if !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::POST
    ) {
        return Error::api(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "接口不支持 {} 方法 (method {} not allowed)",
                req.method(),
                req.method()
            ),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let claimed_client = header_str(&parts.headers, auth::HEADER_CLIENT)
        .map(|s| s.chars().take(100).collect::<String>());
    let nonce = header_str(&parts.headers, auth::HEADER_NONCE)
        .map(|s| s.chars().take(130).collect::<String>());
    let idem = header_str(&parts.headers, auth::HEADER_IDEMPOTENCY)
        .map(|s| s.chars().take(260).collect::<String>());
    let request_type = header_str(&parts.headers, header::CONTENT_TYPE.as_str()).map(str::to_owned);
    let limit = app.inner.server.max_api_body_bytes;
    let declared_too_large = header_str(&parts.headers, header::CONTENT_LENGTH.as_str())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64);
    let read = if declared_too_large {
        Err(())
    } else {
        axum::body::to_bytes(body, limit).await.map_err(|_| ())
    };
    let (outcome, response, body_bytes, client) = match read {
        Err(()) => (
            "refused:too_large".to_owned(),
            Error::api(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("请求体超过 {limit} 字节 (request body over {limit} bytes)"),
            )
            .into_response(),
            Bytes::new(),
            None,
        ),
        Ok(bytes) => match check_signature(&app, &parts.headers, &method, &path, &bytes).await {
            Err(e) => (
                format!("refused:{}", e.code()),
                e.into_response(),
                bytes,
                None,
            ),
            Ok((id, name)) => {
                let caller = Caller {
                    id,
                    name: name.clone(),
                    remote: remote.clone(),
                };
                let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
                req.extensions_mut().insert(caller);
                let resp = next.run(req).await;
                let outcome = if resp.status().is_success() {
                    "ok".to_owned()
                } else {
                    format!("status:{}", resp.status().as_u16())
                };
                (outcome, resp, bytes, Some(name))
            }
        },
    };
    app.inner.metrics.api(&outcome);
    // Buffer the response to log it (responses are JSON or one certificate file).
    let (mut rparts, rbody) = response.into_parts();
    let rbytes = match axum::body::to_bytes(rbody, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return Error::internal_from("api: response body", &e).into_response(),
    };
    let response_type = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let subject = format!("{method} {}", parts_path(&path));
    let logged = match &client {
        Some(name) => {
            let details = json!({
                "client": name,
                "remote": remote,
                "method": method,
                "path": path,
                "nonce": nonce,
                "idempotency_key": idem,
                "request": audit_body(&body_bytes, request_type.as_deref()),
                "request_sm3": ecert_store::hex(&ecert_store::sm3(&body_bytes)),
                "status": rparts.status.as_u16(),
                "outcome": outcome,
                "replayed_response": rparts.headers.contains_key("idempotency-replayed"),
                "response": audit_body(&rbytes, response_type.as_deref()),
            });
            append(
                &app,
                &format!("api:{name}"),
                "api.exchange",
                &subject,
                &details,
            )
            .await
        }
        // Refused before anyone was authenticated: compact, and bounded per minute
        // (`refusals`); never the body.
        None => {
            let address = remote.clone().unwrap_or_default();
            let admit =
                app.inner
                    .refusals
                    .admit(unix_now().saturating_mul(1000), &address, &outcome);
            if let Some(summary) = admit.summary {
                log_refusal_summary(&app, &summary).await;
            }
            if admit.write {
                let details = json!({
                    "remote": remote,
                    "claimed_client": claimed_client,
                    "nonce": nonce,
                    "method": method,
                    "path": path.chars().take(200).collect::<String>(),
                    "size": body_bytes.len(),
                    "request_sm3": ecert_store::hex(&ecert_store::sm3(&body_bytes)),
                    "status": rparts.status.as_u16(),
                    "reason": outcome,
                });
                append(
                    &app,
                    "api:unauthenticated",
                    "api.refused",
                    &subject,
                    &details,
                )
                .await
            } else {
                Ok(())
            }
        }
    };
    if let Err(e) = logged {
        // R-7.2.2d: an exchange that cannot be logged is not answered as if it succeeded.
        tracing::error!(error = %e, "api: audit log write failed");
        return Error::api(
            StatusCode::INTERNAL_SERVER_ERROR,
            "audit_unavailable",
            "审计日志写入失败 (the audit log could not be written)",
        )
        .into_response();
    }
    rparts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(rparts, Body::from(rbytes))
}

async fn append(
    app: &App,
    actor: &str,
    action: &str,
    subject: &str,
    details: &Value,
) -> Result<(), ecert_store::StoreError> {
    app.inner
        .instance
        .store
        .append_audit(&AuditEvent {
            actor,
            action,
            subject,
            details,
        })
        .await
        .map(|_| ())
}

/// Writes the summary of a minute's refusals that were left out (`api.refused_flood`).
pub(crate) async fn log_refusal_summary(app: &App, details: &Value) {
    if let Err(e) = append(
        app,
        "api:unauthenticated",
        "api.refused_flood",
        "api",
        details,
    )
    .await
    {
        tracing::error!(error = %e, "api: audit log write failed (refusal summary)");
    }
}

fn parts_path(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or(path_and_query)
}

fn record_json(c: &CertificateRecord) -> Value {
    json!({
        "id": c.id,
        "number": c.number,
        "identifier": c.identifier,
        "kind": c.kind,
        "customer_name": c.customer_name,
        "instrument_name": c.instrument_name,
        "serial_number": c.serial_number,
        "issue_date": c.issue_date,
        "status": c.status.as_str(),
        "revision": c.revision,
        // One written form everywhere: the printed `XXXX-XXXX`.
        "check_code": crate::domain::CheckCode::written(&c.check_code),
        "file_name": c.file_name,
        "file_sm3": ecert_store::hex(&c.file_sm3),
        "file_size": c.file_size,
        "created_at_ms": c.created_at_ms,
        "status_at_ms": c.status_at_ms,
        "retention_until": c.retention_until,
    })
}

fn issued_json(i: &Issued) -> Value {
    let mut v = record_json(&i.record);
    if let Some(o) = v.as_object_mut() {
        o.insert("verify_url".into(), json!(i.verify_url));
        o.insert("check_code".into(), json!(i.check_code.to_string()));
        o.insert("pages".into(), json!(i.pages));
        o.insert(
            "download".into(),
            json!(format!(
                "/api/v1/certificates/{}/file",
                super::view::enc(&i.record.number)
            )),
        );
    }
    v
}

type Answer = Result<(StatusCode, Value), Error>;

/// Runs `work` at most once per idempotency key (R-5.2.1: a retried request never issues twice).
async fn idempotent<F, Fut>(
    app: &App,
    caller: &Caller,
    headers: &HeaderMap,
    scope: &str,
    body: &[u8],
    work: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    let answer = |a: Answer| match a {
        Ok((s, v)) => (s, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    };
    let Some(key) = header_str(headers, auth::HEADER_IDEMPOTENCY) else {
        return answer(work().await);
    };
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Error::api(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            "Idempotency-Key 应为 1–200 个可见 ASCII 字符 (bad Idempotency-Key)",
        )
        .into_response();
    }
    let mut hashed = scope.as_bytes().to_vec();
    hashed.push(b'\n');
    hashed.extend_from_slice(body);
    let digest = ecert_store::sm3(&hashed);
    let store = &app.inner.instance.store;
    match store
        .idempotency_begin_as(&caller.id, key, &digest, Some(&app.inner.owner))
        .await
    {
        Err(e) => Error::from(e).into_response(),
        Ok(IdempotencyState::InProgress) => Error::api(
            StatusCode::CONFLICT,
            "in_progress",
            "同一 Idempotency-Key 的请求正在处理 (a request with this key is in progress)",
        )
        .into_response(),
        Ok(IdempotencyState::Mismatch) => Error::api(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_mismatch",
            "该 Idempotency-Key 已用于另一个请求 (the key was used for a different request)",
        )
        .into_response(),
        Ok(IdempotencyState::Completed { status, body }) => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r.headers_mut()
                .insert("idempotency-replayed", HeaderValue::from_static("true"));
            r
        }
        // The issue audit entry names the request, so that a process started after this one
        // died can still answer it ([`recover_dead_requests`]).
        Ok(IdempotencyState::New) => match crate::service::request::for_request(
            crate::service::request::RequestOrigin {
                client_id: caller.id.clone(),
                idempotency_key: key.to_owned(),
                request_sm3: ecert_store::hex(&digest),
            },
            work(),
        )
        .await
        {
            Ok((s, v)) => {
                let bytes = serde_json::to_vec(&v).unwrap_or_default();
                if let Err(e) = store
                    .idempotency_complete(&caller.id, key, i64::from(s.as_u16()), &bytes)
                    .await
                {
                    tracing::error!(error = %e, "api: idempotency_complete");
                }
                let mut r = (s, bytes).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            Err(e) => {
                if let Err(x) = store.idempotency_abandon(&caller.id, key).await {
                    tracing::error!(error = %x, "api: idempotency_abandon");
                }
                e.into_response()
            }
        },
    }
}

/// What [`recover_dead_requests`] did with the keys dead processes left pending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Keys whose certificate had been committed: completed with the answer a retry gets, and
    /// the missing `api.exchange` entry written.
    pub completed: u64,
    /// Keys whose request stored nothing: released, a retry issues afresh.
    pub released: u64,
}

/// Resolves at once the idempotency keys left pending by processes that died mid-request
/// (R-5.2.1: a retry neither waits for the stale-key timeout nor issues twice; R-7.2.2d: every
/// exchange that issued is in the audit log). A key whose request committed a certificate (its
/// `certificate.issue` / `certificate.revise` audit entry names the request, see
/// [`crate::service::request`]) is completed with the body the API's issue answer gives and a
/// `api.exchange` entry marked `"recovered": true` is written; any other key is released.
///
/// Every pending key not owned by `app`'s process is taken for a dead process's: true while one
/// `ecert serve` node uses the store, as now (a second process started on the same store would
/// have its requests in flight resolved under it). With several nodes, only the keys of processes
/// known dead (e.g. by a heartbeat per owner) may be resolved here.
pub(crate) async fn recover_dead_requests(app: &App) -> crate::service::Result<Recovered> {
    let instance = &app.inner.instance;
    let store = &instance.store;
    // Only the keys of processes that are gone: another node alive may be working on its own
    // (PostgreSQL tells by its liveness lock, docs/architecture.md).
    let mut pending = Vec::new();
    let mut alive = std::collections::HashMap::new();
    for p in store
        .pending_idempotency_not_owned_by(&app.inner.owner)
        .await?
    {
        let live = match &p.owner {
            Some(owner) => match alive.get(owner) {
                Some(&a) => a,
                None => {
                    let a = store.process_alive(owner).await?;
                    alive.insert(owner.clone(), a);
                    a
                }
            },
            None => false,
        };
        if !live {
            pending.push(p);
        }
    }
    let mut done = Recovered::default();
    let Some(oldest) = pending.iter().map(|p| p.created_at_ms).min() else {
        return Ok(done);
    };
    // The certificate is committed after its key was claimed; a minute's margin for clocks.
    let since = oldest.saturating_sub(60_000);
    let mut issued = Vec::new();
    for action in [
        "certificate.issue",
        "certificate.revise",
        "certificate.supplement",
    ] {
        for e in store.audit_entries_since(action, since).await? {
            if let Ok(d) = serde_json::from_str::<Value>(&e.details)
                && d["context"]["request"].is_object()
            {
                issued.push((e.seq, action, e.subject.clone(), d));
            }
        }
    }
    for p in pending {
        let sm3 = ecert_store::hex(&p.request_sm3);
        let found = issued.iter().find(|(_, _, _, d)| {
            let r = &d["context"]["request"];
            r["client_id"] == p.client_id.as_str()
                && r["idempotency_key"] == p.key.as_str()
                && r["request_sm3"] == sm3.as_str()
        });
        let Some((seq, action, subject, d)) = found else {
            store.idempotency_abandon(&p.client_id, &p.key).await?;
            tracing::info!(key = %p.key, owner = ?p.owner, "released the idempotency key of a dead process (释放)");
            done.released += 1;
            continue;
        };
        let client = store.api_client(&p.client_id).await?.map(|c| c.name);
        let actor = format!("api:{}", client.as_deref().unwrap_or(&p.client_id));
        if *action == "certificate.supplement" {
            // A supplement (the entry's subject is its number): the supplement answer.
            let number = subject.as_str();
            let s = store.supplement_by_number(number).await?.ok_or_else(|| {
                crate::service::Error::NotFound {
                    what: crate::service::Record::Supplement,
                    key: number.to_owned(),
                }
            })?;
            let original = store.certificate(&s.certificate_id).await?.ok_or_else(|| {
                crate::service::Error::NotFound {
                    what: crate::service::Record::Certificate,
                    key: s.certificate_id.clone(),
                }
            })?;
            let verify_url = instance
                .file(StoredFile::Supplement(&s))
                .await
                .ok()
                .and_then(|f| crate::service::code_text(&f));
            let answer = json!({
                "number": s.number,
                "seq": s.seq,
                "supplements": original.number,
                "file_name": s.file_name,
                "file_sm3": ecert_store::hex(&s.file_sm3),
                "verify_url": verify_url,
                "pages": d["context"]["pages"],
                "message": crate::service::supplement_message(&original.number),
            });
            let path = format!(
                "/api/v1/certificates/{}/supplements",
                super::view::enc(&original.number)
            );
            let exchange = Recovery {
                actor: &actor,
                client: client.as_deref(),
                sm3: &sm3,
                issue_seq: *seq,
            };
            exchange.complete(store, &p, &path, &answer).await?;
            done.completed += 1;
            continue;
        }
        let id = d["id"].as_str().unwrap_or_default();
        let record =
            store
                .certificate(id)
                .await?
                .ok_or_else(|| crate::service::Error::NotFound {
                    what: crate::service::Record::Certificate,
                    key: id.to_owned(),
                })?;
        // The store keeps only the token's hash: the URL is read back from the file's code.
        let verify_url = instance
            .file(StoredFile::Certificate(&record))
            .await
            .ok()
            .and_then(|f| crate::service::code_text(&f));
        let mut answer = record_json(&record);
        if let Some(o) = answer.as_object_mut() {
            o.insert("verify_url".into(), json!(verify_url));
            o.insert("pages".into(), d["context"]["pages"].clone());
            o.insert(
                "download".into(),
                json!(format!(
                    "/api/v1/certificates/{}/file",
                    super::view::enc(&record.number)
                )),
            );
        }
        // The path the request came by: the issue entry tells a revision and a handed-over OFD.
        let path = match (d["revises"].as_str(), d["context"]["source"].as_str()) {
            (Some(old), _) => format!("/api/v1/certificates/{}/revisions", super::view::enc(old)),
            (None, Some("handed-over OFD")) => HANDED_OVER.to_owned(),
            _ => CERTIFICATES.to_owned(),
        };
        let exchange = Recovery {
            actor: &actor,
            client: client.as_deref(),
            sm3: &sm3,
            issue_seq: *seq,
        };
        exchange.complete(store, &p, &path, &answer).await?;
        tracing::info!(key = %p.key, number = %record.number, "answered the request of a dead process (恢复)");
        done.completed += 1;
    }
    Ok(done)
}

/// The exchange a dead process never answered, as recovery completes it.
struct Recovery<'a> {
    actor: &'a str,
    client: Option<&'a str>,
    sm3: &'a str,
    issue_seq: i64,
}

impl Recovery<'_> {
    /// Completes the key with the 201 answer and writes the missing `api.exchange` entry,
    /// marked as recovered.
    async fn complete(
        &self,
        store: &ecert_store::Store,
        p: &ecert_store::PendingIdempotency,
        path: &str,
        answer: &Value,
    ) -> crate::service::Result<()> {
        let body = serde_json::to_vec(answer).unwrap_or_default();
        let status = StatusCode::CREATED.as_u16();
        store
            .idempotency_complete(&p.client_id, &p.key, i64::from(status), &body)
            .await?;
        store
            .append_audit(&AuditEvent {
                actor: self.actor,
                action: "api.exchange",
                subject: &format!("POST {path}"),
                details: &json!({
                    "client": self.client,
                    "method": "POST",
                    "path": path,
                    "idempotency_key": p.key,
                    "idempotency_request_sm3": self.sm3,
                    "status": status,
                    "outcome": "ok",
                    "recovered": true,
                    "dead_owner": p.owner,
                    "issue_audit_seq": self.issue_seq,
                    "response": answer,
                }),
            })
            .await?;
        Ok(())
    }
}

fn content_text(body: &[u8]) -> Result<String, Error> {
    if let Err(e) = serde_json::from_slice::<Value>(body) {
        return Err(Error::api(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("请求体不是有效的 JSON (malformed JSON): {e}"),
        ));
    }
    String::from_utf8(body.to_vec()).map_err(|_| {
        Error::api(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "请求体不是 UTF-8 (body is not UTF-8)",
        )
    })
}

/// Runs a call of the issuing service when its turn comes (`issue_workers` at once,
/// `issue_queue` waiting; beyond that 503 `busy`). The service awaits the store on the runtime
/// and runs its CPU part on a blocking thread itself. The turn is held until the call is done:
/// the request runs on a task of its own ([`to_the_end`]), so a client that hangs up does not
/// free it early. Any change of a certificate may change status pages, so the page cache is
/// dropped afterwards.
async fn run_service<T, F, Fut>(app: &App, call: F) -> Result<T, Error>
where
    F: FnOnce(App) -> Fut,
    Fut: std::future::Future<Output = crate::service::Result<T>>,
{
    let turn = app.inner.issuing.turn().await.map_err(|b| {
        Error::api(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "签发任务已满，请稍后重试 (issuing is at capacity: {} running, {} waiting; retry later)",
                b.workers, b.queue
            ),
        )
    })?;
    let result = call(app.clone()).await;
    drop(turn);
    app.invalidate();
    result.map_err(Error::from)
}

/// Issues a certificate, or the revision of `old_number`.
async fn run_issue(
    app: &App,
    caller: &Caller,
    old_number: Option<String>,
    content: String,
) -> Answer {
    let actor = caller.actor();
    let issued = run_service(app, move |app| async move {
        let instance = &app.inner.instance;
        match &old_number {
            None => instance.issue(&content, &actor).await,
            Some(old) => instance.revise(old, &content, &actor).await,
        }
    })
    .await?;
    Ok((StatusCode::CREATED, issued_json(&issued)))
}

async fn issue(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(
        &app,
        &caller,
        &headers,
        "POST /api/v1/certificates",
        &body,
        || async {
            let content = content_text(&body)?;
            run_issue(&app, &caller, None, content).await
        },
    )
    .await
}

async fn revise(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scope = format!("POST /api/v1/certificates/{number}/revisions");
    idempotent(&app, &caller, &headers, &scope, &body, || async {
        let content = content_text(&body)?;
        run_issue(&app, &caller, Some(number.clone()), content).await
    })
    .await
}

/// The body of `POST /api/v1/handed-over` (schema `HandedOver`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandedOverBody {
    content: Value,
    ofd: String,
    code_at: Option<(f64, f64)>,
    seal_at: Option<(f64, f64)>,
}

/// R-5.2.1: an OFD the business system made, sealed as it is (notice, code and identifier
/// added; see `crate::handed_over`).
async fn handed_over(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(
        &app,
        &caller,
        &headers,
        "POST /api/v1/handed-over",
        &body,
        || async {
            let req: HandedOverBody = serde_json::from_slice(&body).map_err(|e| {
                Error::api(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("请求体不符合 HandedOver 结构 (body is not a HandedOver object): {e}"),
                )
            })?;
            use base64::Engine as _;
            let ofd = base64::engine::general_purpose::STANDARD
                .decode(req.ofd.as_bytes())
                .map_err(|e| {
                    Error::api(
                        StatusCode::BAD_REQUEST,
                        "malformed_ofd",
                        format!("ofd 不是有效的 base64 (ofd is not valid base64): {e}"),
                    )
                })?;
            let content = req.content.to_string();
            let placement = crate::service::handed_over::Placement {
                code_at: req.code_at,
                seal_at: req.seal_at,
            };
            let actor = caller.actor();
            let issued = run_service(&app, move |app| async move {
                app.inner
                    .instance
                    .issue_ofd_at(&ofd, &content, &actor, placement)
                    .await
            })
            .await?;
            Ok((StatusCode::CREATED, issued_json(&issued)))
        },
    )
    .await
}

/// R-6.4.2: a supplementary file bound to certificate `number`.
async fn supplement(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scope = format!("POST /api/v1/certificates/{number}/supplements");
    idempotent(&app, &caller, &headers, &scope, &body, || async {
        let content = content_text(&body)?;
        let actor = caller.actor();
        let original = number.clone();
        let s = run_service(&app, move |app| async move {
            app.inner
                .instance
                .supplement(&original, &content, &actor)
                .await
        })
        .await?;
        Ok((
            StatusCode::CREATED,
            json!({
                "number": s.record.number,
                "seq": s.record.seq,
                "supplements": s.original.number,
                "file_name": s.record.file_name,
                "file_sm3": ecert_store::hex(&s.record.file_sm3),
                "verify_url": s.verify_url,
                "pages": s.pages,
                "message": s.message,
            }),
        ))
    })
    .await
}

async fn status(State(app): State<App>, Path(number): Path<String>) -> Result<Response, Error> {
    let view = app.inner.instance.status_by_number(&number).await?;
    let mut v = record_json(&view.certificate);
    if let Some(o) = v.as_object_mut() {
        o.insert("messages".into(), json!(status_messages(&view)));
        o.insert(
            "replaced_by".into(),
            json!(view.replaced_by.as_ref().map(|r| &r.number)),
        );
        o.insert(
            "current".into(),
            json!(view.current.as_ref().map(|r| &r.number)),
        );
        o.insert(
            "revises".into(),
            json!(view.revises.as_ref().map(|r| &r.number)),
        );
        o.insert(
            "supplements".into(),
            json!(view
                .supplements
                .iter()
                .map(|s| json!({"seq": s.seq, "number": s.number, "file_name": s.file_name, "file_sm3": ecert_store::hex(&s.file_sm3)}))
                .collect::<Vec<_>>()),
        );
    }
    Ok(axum::Json(v).into_response())
}

async fn file(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(number): Path<String>,
) -> Result<Response, Error> {
    let instance = &app.inner.instance;
    let c = instance
        .certificate_by_number(&number)
        .await?
        .ok_or_else(|| crate::service::Error::NotFound {
            what: crate::service::Record::Certificate,
            key: number.clone(),
        })?;
    let access = Access {
        who: caller.actor().name,
        channel: "api".into(),
        remote: caller.remote.clone(),
    };
    // A disposed certificate's file is destroyed: 410 `disposed` (R-6.5h).
    let bytes = instance
        .download(&c, StoredFile::Certificate(&c), &access)
        .await?;
    Ok(super::pages::ofd_response(&c.file_name, bytes))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    number_prefix: Option<String>,
    customer: Option<String>,
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    after_date: Option<String>,
    after_number: Option<String>,
}

fn date_param(name: &str, v: Option<String>) -> Result<Option<String>, Error> {
    match v {
        None => Ok(None),
        Some(d) if crate::domain::content::parse_date(&d).is_some() => Ok(Some(d)),
        Some(d) => Err(Error::api(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("{name} 应为 YYYY-MM-DD (got {d:?})"),
        )),
    }
}

async fn list(
    State(app): State<App>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(q) =
        q.map_err(|e| Error::api(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(CertificateStatus::parse(s).ok_or_else(|| {
            Error::api(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "status 应为 valid / revised / supplemented / disposed",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let after = match (date_param("after_date", q.after_date)?, q.after_number) {
        (Some(d), Some(n)) => Some((d, n)),
        (None, None) => None,
        _ => {
            return Err(Error::api(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "after_date 与 after_number 须同时给出 (give both or neither)",
            ));
        }
    };
    let query = CertificateQuery {
        customer: q.customer,
        number_prefix: q.number_prefix,
        issued_from: date_param("from", q.from)?,
        issued_to: date_param("to", q.to)?,
        status,
        retention_before: None,
        after,
        limit,
        ..Default::default()
    };
    let items = app.inner.instance.list_certificates(&query).await?;
    let next = (items.len() == limit as usize)
        .then(|| {
            items
                .last()
                .map(|c| json!({"after_date": c.issue_date, "after_number": c.number}))
        })
        .flatten();
    Ok(axum::Json(json!({
        "items": items.iter().map(record_json).collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-6.2f: the preset download password never reaches the exchange log.
    #[test]
    fn r_6_2f_download_passwords_are_redacted_from_audited_bodies() {
        let body = br#"{"content":{"customer":{"name":"x","downloadPassword":"Geheim-123"}},
            "list":[{"downloadPassword":"Other-456"}],"customer":{"downloadPassword":"Third-789"}}"#;
        let v = audit_body(body, Some("application/json"));
        let text = v.to_string();
        for secret in ["Geheim-123", "Other-456", "Third-789"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(v["content"]["customer"]["downloadPassword"], "(redacted)");
        assert_eq!(v["content"]["customer"]["name"], "x");
    }

    /// The OpenAPI document lists exactly the routes the router serves.
    #[test]
    fn openapi_document_matches_the_routes() {
        let doc: Value = serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    documented.push((method.clone(), path.clone()));
                }
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        served.push(("get".into(), OPENAPI.into()));
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }
}
