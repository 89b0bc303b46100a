//! The web's one error type: every refusal and failure of the pages and the API, answered to a
//! machine as JSON `{"error": {"code", "message", …}}` and to a person as an HTML page in the
//! site's layout (Chinese first, `?lang=en`).
//!
//! A handler returns [`Error`]; its response is JSON (what the API always answers). The pages'
//! router renders it again for the request ([`answer_errors`]): HTML unless the request wants
//! JSON (`Accept: application/json`), in the request's language. Built from a
//! [`service::Error`](crate::service::Error) it takes the service's status, machine code,
//! message and content problems; an internal failure (5xx: our bug or the environment) is
//! logged with a random id and its full cause chain, and the client is told only
//! "服务器内部错误 (internal error, id …)". docs/serve.md lists the codes.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::App;
use super::view::{Chrome, Lang, Want, html};
use crate::domain::Problem;

/// A refusal or failure, answered as JSON or as a page.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    status: StatusCode,
    code: &'static str,
    /// The message in Chinese (or the bilingual message of the service and the API).
    zh: String,
    /// The message in English (the same bilingual text when there is only one).
    en: String,
    /// Content problems by JSON pointer.
    problems: Option<Vec<Problem>>,
    /// The id an internal failure was logged with.
    id: Option<String>,
}

impl Error {
    /// A refusal with a Chinese and an English message (pages).
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Error {
            status,
            code,
            zh: zh.into(),
            en: en.into(),
            problems: None,
            id: None,
        }
    }

    /// A refusal with one bilingual message, "中文 (English)" (the API).
    pub(crate) fn api(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(status, code, message.clone(), message)
    }

    /// The one answer for every unknown or malformed token, number or check code: nothing
    /// tells which part was wrong or which tokens exist.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "未找到", "Not found")
    }

    /// An internal failure: logged now with a new id and `detail` (the full cause chain); the
    /// client sees only the id.
    pub(crate) fn internal(context: &str, detail: &str) -> Self {
        let id = incident_id();
        tracing::error!(id = %id, context, error = %detail, "internal error (服务器内部错误)");
        let message = format!("服务器内部错误 (internal error, id {id})");
        Error {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            zh: message.clone(),
            en: message,
            problems: None,
            id: Some(id),
        }
    }

    /// [`Error::internal`] of any error value, with its causes.
    pub(crate) fn internal_from(context: &str, e: &(dyn std::error::Error + 'static)) -> Self {
        Self::internal(context, &crate::service::error_chain(e))
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine code.
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// The English message (for the audit log).
    pub(crate) fn message_en(&self) -> &str {
        &self.en
    }

    /// The JSON body, with the message in `lang` (`None`: the Chinese or bilingual one).
    fn json(&self, lang: Option<Lang>) -> Value {
        let message = match lang {
            Some(Lang::En) => &self.en,
            _ => &self.zh,
        };
        let mut e = json!({"code": self.code, "message": message});
        if let Some(obj) = e.as_object_mut() {
            if self.zh != self.en {
                obj.insert("message_zh".into(), json!(self.zh));
                obj.insert("message_en".into(), json!(self.en));
            }
            if let Some(p) = &self.problems {
                obj.insert("problems".into(), json!(p));
            }
            if let Some(id) = &self.id {
                obj.insert("id".into(), json!(id));
            }
        }
        json!({ "error": e })
    }

    /// The answer as JSON in `lang`, with the headers of its status.
    fn json_response(&self, lang: Option<Lang>) -> Response {
        let mut r = (self.status, axum::Json(self.json(lang))).into_response();
        self.headers(&mut r);
        r
    }

    /// The answer as a page of the site in `lang`.
    fn html_response(&self, lang: Lang, trial: bool) -> Response {
        let (title, message) = match lang {
            Lang::Zh => (self.zh.as_str(), self.en.as_str()),
            Lang::En => (self.en.as_str(), ""),
        };
        // One bilingual message is said once.
        let message = if message == title { "" } else { message };
        let home = if lang == Lang::En { "/?lang=en" } else { "/" };
        let page = MessagePage {
            chrome: Chrome::new(lang, title, home, trial),
            message,
            back: lang.t("返回首页", "Back to the start page"),
        };
        let mut r = html(self.status, super::view::render(&page));
        self.headers(&mut r);
        r
    }

    fn headers(&self, r: &mut Response) {
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("ECERT-HMAC-SM3"),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
    }

    /// The answer for a request that wants `want` (`trial`: a trial instance's page).
    pub(crate) fn respond(&self, want: Want, trial: bool) -> Response {
        if want.json {
            self.json_response(Some(want.lang))
        } else {
            self.html_response(want.lang, trial)
        }
    }
}

impl IntoResponse for Error {
    /// JSON (the API's answer); the pages' router renders it again for the request
    /// ([`answer_errors`]).
    fn into_response(self) -> Response {
        let mut r = self.json_response(None);
        r.extensions_mut().insert(self);
        r
    }
}

impl From<crate::service::Error> for Error {
    fn from(e: crate::service::Error) -> Self {
        if e.is_internal() {
            return Error::internal("service", &e.chain());
        }
        let message = e.chain();
        let mut err = Error::api(e.status(), e.code(), message);
        err.problems = e.problems();
        err
    }
}

impl From<ecert_store::StoreError> for Error {
    fn from(e: ecert_store::StoreError) -> Self {
        crate::service::Error::from(e).into()
    }
}

/// Answers an [`Error`] of a page handler the way the request wants it: an HTML page in the
/// request's language, or JSON (`Accept: application/json`) with the message in that language.
pub(crate) async fn answer_errors(State(app): State<App>, req: Request, next: Next) -> Response {
    let want = Want::of(req.headers(), req.uri());
    let resp = next.run(req).await;
    match resp.extensions().get::<Error>() {
        Some(e) => e.respond(want, app.trial()),
        None => resp,
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    message: &'a str,
    back: &'a str,
}

/// A random id for an internal failure (16 hex digits), quoted to the client and in the log.
fn incident_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No random source: the time still tells the log lines apart.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (t as u64).to_be_bytes();
    }
    ecert_store::hex(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_show_only_their_id() {
        let e = Error::internal("test", "disk full at /secret/path");
        let id = e.id.clone().expect("id");
        assert_eq!(id.len(), 16);
        let body = e.json(None).to_string();
        assert!(
            body.contains(&id) && body.contains("服务器内部错误"),
            "{body}"
        );
        assert!(
            !body.contains("disk full") && !body.contains("/secret"),
            "{body}"
        );
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_ne!(id, Error::internal("test", "x").id.expect("id"));
    }

    #[test]
    fn service_errors_keep_their_status_code_and_problems() {
        let e: Error = crate::service::Error::NumberTaken {
            number: "A-1".into(),
        }
        .into();
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "duplicate"));
        assert!(
            e.json(None)["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("A-1"))
        );
        let e: Error =
            crate::service::Error::ContentInvalid(crate::domain::ContentErrors(vec![Problem {
                pointer: "/reason".into(),
                message: "必填 (required)".into(),
                rule: crate::domain::Rule::Required,
            }]))
            .into();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.json(None)["error"]["problems"][0]["pointer"], "/reason");
        let e: Error =
            crate::service::Error::Storage(ecert_store::StoreError::WrongMasterKey).into();
        assert_eq!(e.code(), "internal");
        assert!(!e.json(None).to_string().contains("master key"));
    }

    #[test]
    fn pages_get_their_language_and_json_keeps_both() {
        let e = Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "太频繁",
            "Too many",
        );
        let j = e.json(Some(Lang::En));
        assert_eq!(j["error"]["message"], "Too many");
        assert_eq!(j["error"]["message_zh"], "太频繁");
        let api = Error::api(StatusCode::BAD_REQUEST, "bad_query", "有误 (bad)");
        assert!(api.json(None)["error"].get("message_zh").is_none());
    }
}
