//! What the public pages show, as data (JSON) and as HTML (askama; every value escaped).

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ecert_store::{CertificateStatus, StatusView, SupplementRecord};
use serde::Serialize;

use crate::config::{CustomerName, PublicConfig};
use crate::domain::CertificateKind;
use crate::service::status_messages;

/// Page language: Chinese first, `?lang=en` for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub(crate) fn from_query(lang: Option<&str>) -> Lang {
        match lang {
            Some(l) if l.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub(crate) fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// How to answer: HTML for people, JSON for machines (`Accept: application/json`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    pub(crate) json: bool,
    pub(crate) lang: Lang,
}

impl Want {
    /// What a request with these headers and this URI wants.
    pub(crate) fn of(headers: &HeaderMap, uri: &axum::http::Uri) -> Want {
        Want::new(headers, lang_param(uri).as_deref())
    }
    pub(crate) fn new(headers: &HeaderMap, lang: Option<&str>) -> Want {
        let json = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
        Want {
            json,
            lang: Lang::from_query(lang),
        }
    }
    pub(crate) fn cache_key(self, what: &str) -> String {
        format!(
            "{}|{}|{what}",
            if self.json { "j" } else { "h" },
            self.lang.code()
        )
    }
}

/// The `lang` parameter of a URI's query.
fn lang_param(uri: &axum::http::Uri) -> Option<String> {
    uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("lang="))
            .map(str::to_owned)
    })
}

/// Masks a customer name for the public page: first and last characters kept (two and two
/// for longer names), the rest replaced by `*`.
pub(crate) fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let n = chars.len();
    let keep = |head: usize, tail: usize| -> String {
        let mut s: String = chars[..head].iter().collect();
        s.extend(std::iter::repeat_n('*', n - head - tail));
        s.extend(chars[n - tail..].iter());
        s
    };
    match n {
        0 => String::new(),
        1 => "*".into(),
        2 => keep(1, 0),
        3..=5 => keep(1, 1),
        _ => keep(2, 2),
    }
}

/// A supplement as listed on a page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SupplementLink {
    pub(crate) seq: i64,
    pub(crate) number: String,
    /// Its file, when public downloads are on (`[public] download`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
}

/// The certificate's facts shown to anyone who holds its token (or number + check code).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Details {
    pub(crate) kind_code: i64,
    pub(crate) kind: String,
    pub(crate) instrument: String,
    pub(crate) serial_number: String,
    /// The certificate's issue date; on a supplement's own page, the supplement's.
    pub(crate) issue_date: String,
    pub(crate) issuer: String,
    /// The customer as `[public] customer_name` says (absent when `hidden`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer: Option<String>,
    pub(crate) identifier: String,
    pub(crate) revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replaced_by: Option<String>,
    /// The page of the certificate that replaced this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replaced_by_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) revises: Option<String>,
    pub(crate) supplements: Vec<SupplementLink>,
    /// Page 1's preview, when previews are public (`[public] customer_name = "full"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) preview_url: Option<String>,
    /// The file, when public downloads are on (`[public] download`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) download_url: Option<String>,
}

/// What the configuration lets the public pages show, and the facts the record lacks.
pub(crate) struct Shown<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) public: &'a PublicConfig,
    /// The scanned supplement's own issue date (from its file).
    pub(crate) supplement_date: Option<String>,
}

/// Whether page previews may be public: they show the customer's name as printed, so only
/// when the pages show it in full too.
pub(crate) fn previews_public(public: &PublicConfig) -> bool {
    public.customer_name == CustomerName::Full
}

/// The customer's name as `[public] customer_name` says.
fn customer_shown(name: &str, public: &PublicConfig) -> Option<String> {
    match public.customer_name {
        CustomerName::Masked => Some(mask_name(name)),
        CustomerName::Full => Some(name.trim().to_owned()),
        CustomerName::Hidden => None,
    }
}

/// The page of another certificate of ours (the one that replaced a void one), reached by
/// its number and check code.
fn page_of(c: &ecert_store::CertificateRecord, lang: Lang) -> String {
    Locator::Lookup {
        number: c.number.clone(),
        code: c.check_code.clone(),
    }
    .url("", lang)
}

/// `GET /v/{token}` and the lookup, as data.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CertificateView {
    /// True: issued by us (even if void); absent for a disposed certificate (R-6.5h: no
    /// verification offered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) genuine: Option<bool>,
    pub(crate) status: &'static str,
    pub(crate) status_text: String,
    pub(crate) number: String,
    /// The exact statements of and R-6.5h (Chinese, as the standard words them).
    pub(crate) messages: Vec<String>,
    /// English renderings of `messages` (`?lang=en` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) messages_en: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) details: Option<Details>,
    /// Set when the token was a supplement's own: `number` is then the supplement's
    /// number and this the number of the certificate it supplements; `details` describe that
    /// certificate, the preview and download are the supplement's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) supplement_of: Option<String>,
}

/// Where a certificate's files are reached from a page: `/v/{token}` or the lookup.
#[derive(Debug, Clone)]
pub(crate) enum Locator {
    Token(String),
    Lookup { number: String, code: String },
}

pub(crate) fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

impl Locator {
    fn url(&self, tail: &str, lang: Lang) -> String {
        let lang_q = if lang == Lang::En { "lang=en" } else { "" };
        match self {
            Locator::Token(t) => {
                let q = if lang_q.is_empty() {
                    String::new()
                } else {
                    format!("?{lang_q}")
                };
                format!("/v/{t}{tail}{q}")
            }
            Locator::Lookup { number, code } => {
                let mut q = format!("number={}&code={}", enc(number), enc(code));
                if !lang_q.is_empty() {
                    q.push('&');
                    q.push_str(lang_q);
                }
                format!("/lookup{tail}?{q}")
            }
        }
    }
}

/// English renderings of [`status_messages`] (the Chinese statements stay the normative ones).
fn messages_en(view: &StatusView) -> Vec<String> {
    let c = &view.certificate;
    let mut out = Vec::new();
    match c.status {
        CertificateStatus::Disposed => {
            out.push("Past the retention period: no verification is offered.".to_owned())
        }
        CertificateStatus::Revised => {
            if let Some(new) = &view.replaced_by {
                out.push(format!(
                    "This certificate is void; following the revision rules, the number of the revised certificate is {}.",
                    new.number
                ));
            }
        }
        _ => {}
    }
    if c.status != CertificateStatus::Disposed && !view.supplements.is_empty() {
        out.push(format!(
            "Supplementary file(s) to the certificate/report numbered {}.",
            c.number
        ));
    }
    out
}

pub(crate) fn status_text(status: CertificateStatus, lang: Lang) -> &'static str {
    crate::service::status_text(status, lang == Lang::En)
}

impl CertificateView {
    pub(crate) fn build(
        view: &StatusView,
        scanned: Option<&SupplementRecord>,
        shown: &Shown<'_>,
        at: &Locator,
        lang: Lang,
    ) -> Self {
        let public = shown.public;
        let c = &view.certificate;
        let messages = status_messages(view);
        let messages_en = if lang == Lang::En {
            messages_en(view)
        } else {
            Vec::new()
        };
        if c.status == CertificateStatus::Disposed {
            return CertificateView {
                genuine: None,
                status: c.status.as_str(),
                status_text: status_text(c.status, lang).to_owned(),
                number: c.number.clone(),
                messages,
                messages_en,
                details: None,
                supplement_of: None,
            };
        }
        let kind = u8::try_from(c.kind)
            .ok()
            .and_then(|k| CertificateKind::from_code(k).ok())
            .map(|k| match lang {
                Lang::Zh => k.name_zh().to_owned(),
                Lang::En => k.name_en().to_owned(),
            })
            .unwrap_or_default();
        let (status, status_txt, number) = match scanned {
            Some(s) => (
                "supplement",
                lang.t("真实的补充文件", "Genuine supplementary file"),
                s.number.clone(),
            ),
            None => (
                c.status.as_str(),
                status_text(c.status, lang),
                c.number.clone(),
            ),
        };
        CertificateView {
            genuine: Some(true),
            status,
            status_text: status_txt.to_owned(),
            number,
            messages,
            messages_en,
            details: Some(Details {
                kind_code: c.kind,
                kind,
                instrument: c.instrument_name.clone(),
                serial_number: c.serial_number.clone(),
                issue_date: match scanned {
                    Some(_) => shown
                        .supplement_date
                        .clone()
                        .unwrap_or_else(|| c.issue_date.clone()),
                    None => c.issue_date.clone(),
                },
                issuer: shown.issuer.to_owned(),
                customer: customer_shown(&c.customer_name, public),
                identifier: c.identifier.clone(),
                revision: c.revision,
                replaced_by: view.replaced_by.as_ref().map(|r| r.number.clone()),
                replaced_by_url: view.replaced_by.as_ref().map(|r| page_of(r, lang)),
                current: view.current.as_ref().map(|r| r.number.clone()),
                current_url: view.current.as_ref().map(|r| page_of(r, lang)),
                // A supplement's page is about the supplement: what its certificate revised
                // would only confuse.
                revises: match scanned {
                    Some(_) => None,
                    None => view.revises.as_ref().map(|r| r.number.clone()),
                },
                supplements: view
                    .supplements
                    .iter()
                    .map(|s| SupplementLink {
                        seq: s.seq,
                        number: s.number.clone(),
                        url: public
                            .download
                            .then(|| at.url(&format!("/supplement/{}", s.seq), lang)),
                    })
                    .collect(),
                preview_url: previews_public(public).then(|| at.url("/page/1.png", lang)),
                download_url: public.download.then(|| at.url("/file", lang)),
            }),
            supplement_of: scanned.map(|_| c.number.clone()),
        }
    }
}

/// The stylesheet (served at `/static/app.css`; the CSP forbids inline styles).
pub(crate) const CSS: &str = include_str!("../../templates/app.css");

fn lang_switch(lang: Lang, path_and_query: &str) -> (String, &'static str) {
    // The other language's link for the same page.
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    let mut q = kept.join("&");
    match lang {
        Lang::Zh => {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str("lang=en");
            (format!("{path}?{q}"), "English")
        }
        Lang::En => {
            if q.is_empty() {
                (path.to_owned(), "中文")
            } else {
                (format!("{path}?{q}"), "中文")
            }
        }
    }
}

/// What every page's layout (`templates/base.html`) shows around its content: the title, the
/// link home and the switch to the other language (the same page, its query kept).
pub(crate) struct Chrome {
    pub(crate) html_lang: &'static str,
    pub(crate) title: String,
    pub(crate) site: &'static str,
    pub(crate) home: &'static str,
    pub(crate) switch_url: String,
    pub(crate) switch_label: &'static str,
    pub(crate) switch_lang: &'static str,
    /// A trial (demo) instance: every page says 试用 TEST.
    pub(crate) trial: Option<&'static str>,
}

impl Chrome {
    /// The layout of a page in `lang` at `self_url` (path and query).
    pub(crate) fn new(lang: Lang, title: impl Into<String>, self_url: &str, trial: bool) -> Chrome {
        let (switch_url, switch_label) = lang_switch(lang, self_url);
        Chrome {
            html_lang: if lang == Lang::En { "en" } else { "zh-CN" },
            title: title.into(),
            site: lang.t("电子证书验证", "Certificate verification"),
            home: if lang == Lang::En { "/?lang=en" } else { "/" },
            switch_url,
            switch_label,
            switch_lang: if lang == Lang::En { "zh-CN" } else { "en" },
            trial: trial.then(|| {
                lang.t(
                    "试用 TEST：本站为试用实例，所签发的证书仅供演示，不具证明效力",
                    "试用 TEST: a trial instance; its certificates are for demonstration only and prove nothing",
                )
            }),
        }
    }
}

/// Renders a page template; a template that cannot render is our bug, answered as such.
pub(crate) fn render(t: &impl Template) -> String {
    t.render()
        .unwrap_or_else(|e| format!("template error: {e}"))
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage<'a> {
    chrome: Chrome,
    v: &'a CertificateView,
    l: &'a Labels,
    css: &'a str,
    lang_en: bool,
}

pub(crate) struct Labels {
    number: &'static str,
    kind: &'static str,
    instrument: &'static str,
    serial: &'static str,
    customer: &'static str,
    issued: &'static str,
    issuer: &'static str,
    status: &'static str,
    identifier: &'static str,
    replaced_by: &'static str,
    current: &'static str,
    revises: &'static str,
    supplements: &'static str,
    supplement_number: &'static str,
    supplement_of: &'static str,
    supplement_issued: &'static str,
    supplement_of_identifier: &'static str,
    download: &'static str,
    no_download: &'static str,
    no_preview: &'static str,
    preview: &'static str,
    footer: &'static str,
}

pub(crate) fn labels(lang: Lang) -> Labels {
    Labels {
        number: lang.t("证书编号", "Certificate No."),
        kind: lang.t("证书类型", "Kind"),
        instrument: lang.t("器具名称", "Instrument"),
        serial: lang.t("出厂编号", "Serial No."),
        customer: lang.t("委托方", "Customer"),
        issued: lang.t("签发日期", "Issued"),
        issuer: lang.t("发证机构", "Issuer"),
        status: lang.t("状态", "Status"),
        identifier: lang.t("电子证书标识", "Identifier"),
        replaced_by: lang.t("修改后的证书", "Replaced by"),
        current: lang.t("现行证书", "Current certificate"),
        revises: lang.t("本证书替代的原证书", "Replaces (now void)"),
        supplements: lang.t("补充文件", "Supplements"),
        supplement_number: lang.t("补充文件编号", "Supplement No."),
        supplement_of: lang.t("被补充的证书编号", "Supplements certificate No."),
        supplement_issued: lang.t("补充文件签发日期", "Supplement issued"),
        supplement_of_identifier: lang.t(
            "被补充证书的电子证书标识",
            "Identifier of the supplemented certificate",
        ),
        download: lang.t("下载电子证书文件（OFD）", "Download the certificate (OFD)"),
        // R-7.2.3a: files go to identified users.
        no_download: lang.t(
            "电子证书文件仅向已识别身份的用户提供，请向发证机构或委托方索取。",
            "The certificate file is given to identified users only: ask the issuer or the customer.",
        ),
        no_preview: lang.t(
            "为保护委托方信息，本页不显示证书页面图像；请核对上列信息与您持有的证书一致。",
            "To protect the customer's details this page shows no picture of the certificate: compare the facts above with your copy.",
        ),
        preview: lang.t("证书第 1 页预览", "Preview of page 1"),
        footer: lang.t(
            "本页由发证机构提供。核对纸面或文件上的证书编号与本页一致；上传文件可核验签章：首页“上传验证”。",
            "This page is served by the issuer. Compare the certificate number with your copy; upload the file on the start page to check its seals.",
        ),
    }
}

/// The HTML of a certificate's page.
pub(crate) fn certificate_html(
    v: &CertificateView,
    lang: Lang,
    self_url: &str,
    trial: bool,
) -> String {
    let css = match v.status {
        "valid" | "supplemented" | "supplement" => "ok",
        "revised" => "void",
        _ => "bad",
    };
    render(&CertificatePage {
        chrome: Chrome::new(
            lang,
            format!("{} {}", lang.t("电子证书", "Certificate"), v.number),
            self_url,
            trial,
        ),
        v,
        l: &labels(lang),
        css,
        lang_en: lang == Lang::En,
    })
}

/// An HTML response.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A response from cached bytes.
pub(crate) fn bytes_response(content_type: &'static str, body: Bytes) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::MSG_DISPOSED;

    #[test]
    fn customer_names_are_partly_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("王小明"), "王*明");
        assert_eq!(mask_name("示例市计量测试研究院"), "示例******究院");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("A"), "*");
    }

    #[test]
    fn language_switch_keeps_the_query() {
        assert_eq!(
            lang_switch(Lang::Zh, "/lookup?number=A&code=B"),
            ("/lookup?number=A&code=B&lang=en".to_owned(), "English")
        );
        assert_eq!(lang_switch(Lang::En, "/v/abc?lang=en").0, "/v/abc");
    }

    #[test]
    fn pages_escape_what_they_show() {
        let v = CertificateView {
            genuine: None,
            status: "disposed",
            status_text: "x".into(),
            number: "<script>alert(1)</script>".into(),
            messages: vec![MSG_DISPOSED.into()],
            messages_en: Vec::new(),
            details: None,
            supplement_of: None,
        };
        let html = certificate_html(&v, Lang::Zh, "/v/x", false);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
        assert!(html.contains(MSG_DISPOSED));
    }
}
