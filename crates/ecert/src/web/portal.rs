//! The customer portal's pages: `/portal…`. Chinese first,
//! `?lang=en` for English, phone first, no JavaScript, the same look as the public pages.
//!
//! - Sessions: the cookie `ecert_session` (`HttpOnly; SameSite=Lax; Path=/portal`, `Secure`
//!   unless served over plain HTTP on loopback) carries a random id; the database keeps its SM3
//!   ([`crate::service::portal`]). A login always sets a new id.
//! - CSRF: every form carries a token. Before login it is bound to the cookie `ecert_pre` (a
//!   random value; the token is a keyed tag of it: nothing is stored for a visitor); after
//!   login, to the session's own secret. A POST without the right token changes nothing (403).
//! - Forms are small (16 KiB at most) and each field is bounded; a malformed one is named in
//!   the page, and nothing is stored.
//! - Refused logins are audited compactly and at a bounded rate (the refusal log of the API).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ecert_store::{CertificateStatus, PortalQuery};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::extract::ClientIp;
use super::security::RateLimiter;
use super::view::{Chrome, Lang, html, render};
use super::{App, Error, error};
use crate::domain::CertificateKind;
use crate::service::delivery::{KeyPolicy, generate_shown_password};
use crate::service::notify::{Channel, Notifier, ProviderKind};
use crate::service::portal::{
    DownloadPlan, IdentityCheck, LiveSession, NewSession, PortalError, PortalItem, bad_field,
    parse_address,
};

/// The portal's start: the logged-in customer's certificates.
pub const PORTAL: &str = "/portal";
const SESSION_COOKIE: &str = "ecert_session";
const PRE_COOKIE: &str = "ecert_pre";
/// Largest form body.
pub const MAX_FORM: usize = 16 * 1024;
/// Most fields in one form.
const MAX_FIELDS: usize = 120;

/// What the portal keeps per process.
pub(crate) struct PortalState {
    pub(crate) notifier: Arc<Notifier>,
    pub(crate) logins: RateLimiter,
}

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(PORTAL, get(list_page))
        .route("/portal/login", get(login_page).post(login_post))
        .route(
            "/portal/login/code",
            get(code_login_page).post(code_login_post),
        )
        .route("/portal/register", get(register_page).post(register_post))
        .route("/portal/register/confirm", post(register_confirm))
        .route("/portal/recover", get(recover_page).post(recover_post))
        .route("/portal/recover/confirm", post(recover_confirm))
        .route("/portal/logout", post(logout))
        .route("/portal/account", get(account_page))
        .route("/portal/account/logout-all", post(logout_all))
        .route("/portal/account/address", post(address_post))
        .route("/portal/account/address/confirm", post(address_confirm))
        .route("/portal/org", get(org_page))
        .route("/portal/org/register", post(org_register))
        .route("/portal/org/activate", post(org_activate))
        .route("/portal/org/invite", post(org_invite))
        .route("/portal/org/accept", post(org_accept))
        .route("/portal/download", post(download_check))
        .route("/portal/download/code", post(download_code))
        .route("/portal/download/confirm", post(download_confirm))
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            error::answer_errors,
        ))
        .with_state(app)
}

// ----- page model (templates/portal.html) -----

pub(crate) struct Nav {
    links: Vec<(String, &'static str)>,
    logout_action: String,
    logout_label: &'static str,
    csrf: String,
}

pub(crate) struct Input {
    kind: &'static str,
    id: &'static str,
    multiple: bool,
    name: &'static str,
    label: String,
    value: String,
    required: bool,
    maxlength: usize,
    autocomplete: &'static str,
    inputmode: &'static str,
    hint: String,
}

pub(crate) struct CertRow {
    id: String,
    number: String,
    kind: String,
    instrument: String,
    issued: String,
    status: &'static str,
    status_text: &'static str,
    messages: Vec<String>,
    supplements: Vec<String>,
    selectable: bool,
    checked: bool,
    verify_url: String,
    verify_label: &'static str,
}

pub(crate) enum Field {
    Input(Input),
    Certificates(Vec<CertRow>),
    Text(String),
}

pub(crate) struct Form {
    id: &'static str,
    method: &'static str,
    enctype: &'static str,
    action: String,
    title: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
    submit: String,
    note: String,
    empty: String,
}

impl Form {
    pub(super) fn post(
        id: &'static str,
        action: String,
        title: impl Into<String>,
        csrf: &str,
    ) -> Form {
        Form {
            id,
            method: "post",
            enctype: "application/x-www-form-urlencoded",
            action,
            title: title.into(),
            hidden: vec![("csrf".into(), csrf.to_owned())],
            fields: Vec::new(),
            submit: String::new(),
            note: String::new(),
            empty: String::new(),
        }
    }
    /// A search form (GET, no token), keeping the page's language.
    pub(super) fn get(
        id: &'static str,
        action: String,
        title: impl Into<String>,
        lang: Lang,
    ) -> Form {
        let mut f = Form::post(id, action, title, "");
        f.method = "get";
        f.hidden.clear();
        if lang == Lang::En {
            f.hidden.push(("lang".into(), "en".into()));
        }
        f
    }
    /// A form that uploads a file.
    pub(super) fn multipart(mut self) -> Form {
        self.enctype = "multipart/form-data";
        self
    }
    pub(super) fn hidden(mut self, name: &str, value: impl Into<String>) -> Form {
        self.hidden.push((name.to_owned(), value.into()));
        self
    }
    pub(super) fn field(mut self, f: Field) -> Form {
        self.fields.push(f);
        self
    }
    pub(super) fn submit(mut self, s: impl Into<String>) -> Form {
        self.submit = s.into();
        self
    }
    pub(super) fn note(mut self, s: impl Into<String>) -> Form {
        self.note = s.into();
        self
    }
}

pub(crate) struct Table {
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    empty: &'static str,
}

impl Table {
    pub(super) fn new(
        head: Vec<&'static str>,
        rows: Vec<Vec<String>>,
        empty: &'static str,
    ) -> Table {
        Table { head, rows, empty }
    }
}

impl Nav {
    pub(super) fn new(
        links: Vec<(String, &'static str)>,
        logout_action: String,
        logout_label: &'static str,
        csrf: String,
    ) -> Nav {
        Nav {
            links,
            logout_action,
            logout_label,
            csrf,
        }
    }
}

pub(crate) enum Block {
    Small(String),
    Strong(&'static str, String),
    Link(String, String),
    Heading(String),
    Rows(Vec<(String, String)>),
    Form(Form),
    Table(Table),
    /// A list of links (href, text).
    Links(Vec<(String, String)>),
    /// A picture (src, alt).
    Image(String, String),
}

#[derive(Template)]
#[template(path = "portal.html")]
pub(super) struct PortalPage {
    chrome: Chrome,
    pub(super) nav: Option<Nav>,
    pub(super) error: Option<String>,
    pub(super) notice: Option<String>,
    pub(super) blocks: Vec<Block>,
}

pub(super) fn input(
    kind: &'static str,
    name: &'static str,
    label: impl Into<String>,
    maxlength: usize,
    autocomplete: &'static str,
) -> Input {
    Input {
        kind,
        id: name,
        name,
        label: label.into(),
        value: String::new(),
        required: true,
        maxlength,
        autocomplete,
        inputmode: "",
        hint: String::new(),
        multiple: false,
    }
}

impl Input {
    pub(super) fn value(mut self, v: impl Into<String>) -> Input {
        self.value = v.into();
        self
    }
    pub(super) fn optional(mut self) -> Input {
        self.required = false;
        self
    }
    pub(super) fn numeric(mut self) -> Input {
        self.inputmode = "numeric";
        self
    }
    /// Another element id than the name (two fields of one name on a page).
    pub(super) fn id(mut self, id: &'static str) -> Input {
        self.id = id;
        self
    }
    /// A text area of several lines instead of a one-line input.
    pub(super) fn textarea(mut self) -> Input {
        self.kind = "textarea";
        self
    }
    /// A file input that takes several files.
    pub(super) fn multiple(mut self) -> Input {
        self.multiple = true;
        self
    }
    pub(super) fn hint(mut self, h: impl Into<String>) -> Input {
        self.hint = h.into();
        self
    }
    pub(super) fn f(self) -> Field {
        Field::Input(self)
    }
}

// ----- the request -----

/// What every portal handler needs of the request: language, trial, address, cookies, where.
pub(crate) struct Visit {
    lang: Lang,
    ip: Option<std::net::IpAddr>,
    remote: Option<String>,
    /// The request's `Cookie` headers, joined.
    cookies: String,
    self_url: String,
    trial: bool,
    secure: bool,
}

/// The cookie `name` of a request's `Cookie` headers (joined with `;`), at most 128 bytes.
fn cookie(cookies: &str, name: &str) -> Option<String> {
    cookies
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| v.len() <= 128)
}

impl FromRequestParts<App> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, app).await?;
        let want = super::view::Want::of(&parts.headers, &parts.uri);
        Ok(Visit {
            lang: want.lang,
            ip,
            remote: ip.map(|i| i.to_string()),
            cookies: parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(";"),
            self_url: super::pages::self_url(&parts.uri),
            trial: app.trial(),
            secure: app.inner.portal_secure,
        })
    }
}

impl Visit {
    pub(super) fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.lang.t(zh, en)
    }
    pub(super) fn lang(&self) -> Lang {
        self.lang
    }
    pub(super) fn ip(&self) -> Option<std::net::IpAddr> {
        self.ip
    }
    /// The cookie `name` of the request.
    pub(super) fn cookie(&self, name: &str) -> Option<String> {
        cookie(&self.cookies, name)
    }
    /// A path in the page's language.
    pub(super) fn at(&self, path: &str) -> String {
        match self.lang {
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
            Lang::Zh => path.to_owned(),
        }
    }
    pub(super) fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }
    fn cookie_attrs(&self) -> String {
        self.cookie_attrs_for(PORTAL)
    }
    /// The attributes of a cookie for the pages under `path`.
    pub(super) fn cookie_attrs_for(&self, path: &str) -> String {
        if self.secure {
            format!("; Path={path}; HttpOnly; SameSite=Lax; Secure")
        } else {
            format!("; Path={path}; HttpOnly; SameSite=Lax")
        }
    }
    pub(super) fn page(&self, title: impl Into<String>) -> PortalPage {
        PortalPage {
            chrome: Chrome::new(self.lang, title, &self.self_url, self.trial),
            nav: None,
            error: None,
            notice: None,
            blocks: Vec::new(),
        }
    }
    pub(super) fn message(&self, e: &PortalError) -> String {
        match e {
            PortalError::Refused { zh, en, .. } => match self.lang {
                Lang::Zh => zh.clone(),
                Lang::En => en.clone(),
            },
            PortalError::Service(e) => e.chain(),
        }
    }
}

pub(super) fn status_of(e: &PortalError) -> StatusCode {
    match e {
        PortalError::Refused { status, .. } => *status,
        PortalError::Service(e) => e.status(),
    }
}

/// A service failure becomes the web's error (an internal one logged with an id); a refusal is
/// shown in the page.
fn service_failure(e: PortalError) -> Result<(StatusCode, String), Error> {
    match e {
        PortalError::Service(s) => Err(Error::from(s)),
        refused => Ok((status_of(&refused), String::new())),
    }
}

pub(super) fn respond(
    status: StatusCode,
    page: &PortalPage,
    set_cookie: Option<String>,
) -> Response {
    let mut r = html(status, render(page));
    if let Some(c) = set_cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A form body, parsed: at most [`MAX_FIELDS`] fields (repeated names kept, e.g. `id`).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(super) fn parse(body: &Bytes) -> Result<Fields, PortalError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
            bad_field(
                "表单内容无法读取（应为 application/x-www-form-urlencoded）",
                "The form cannot be read (expected application/x-www-form-urlencoded)",
            )
        })?;
        if pairs.len() > MAX_FIELDS {
            return Err(bad_field("表单字段过多", "Too many form fields"));
        }
        Ok(Fields(pairs))
    }
    pub(super) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    /// A field of at most `max` characters (else a refusal naming it).
    fn bounded(
        &self,
        name: &str,
        label_zh: &str,
        label_en: &str,
        max: usize,
    ) -> Result<&str, PortalError> {
        let v = self.get(name);
        if v.chars().count() > max {
            return Err(bad_field(
                format!("“{label_zh}”过长（最多 {max} 个字符）"),
                format!("\"{label_en}\" is too long (at most {max} characters)"),
            ));
        }
        Ok(v)
    }
    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn pre_token(app: &App, pre: &str) -> String {
    ecert_store::hex(
        &app.instance()
            .portal_keys()
            .tag("pre-login form", pre.as_bytes()),
    )
}

fn session_token(app: &App, s: &LiveSession) -> String {
    ecert_store::hex(
        &app.instance()
            .portal_keys()
            .tag("session form", &s.csrf_secret),
    )
}

pub(super) fn forbidden_form() -> Error {
    Error::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "表单已失效或来源无效，请返回上一页刷新后重试",
        "The form has expired or did not come from this site; go back, reload and try again",
    )
}

/// The visitor's pre-login form token, and the cookie to set when the visitor had none.
pub(super) fn pre_login(
    app: &App,
    v: &Visit,
    path: &str,
) -> Result<(String, Option<String>), Error> {
    match &v.cookie(PRE_COOKIE) {
        Some(c) if c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok((pre_token(app, c), None))
        }
        _ => {
            let mut b = [0u8; 16];
            getrandom::fill(&mut b).map_err(|e| Error::internal_from("random", &e))?;
            let c = ecert_store::hex(&b);
            let set = format!("{PRE_COOKIE}={c}{}", v.cookie_attrs_for(path));
            Ok((pre_token(app, &c), Some(set)))
        }
    }
}

/// Checks a pre-login form's token against the visitor's cookie.
pub(super) fn check_pre(app: &App, v: &Visit, f: &Fields) -> Result<String, Error> {
    let Some(c) = &v.cookie(PRE_COOKIE) else {
        return Err(forbidden_form());
    };
    let token = pre_token(app, c);
    let given = ecert_store::parse_hex(f.get("csrf"));
    match given {
        Some(g)
            if app
                .instance()
                .portal_keys()
                .check_tag("pre-login form", c.as_bytes(), &g) =>
        {
            Ok(token)
        }
        _ => Err(forbidden_form()),
    }
}

/// The live session of the request, or the answer that sends the visitor to the login page.
async fn session_of(app: &App, v: &Visit) -> Result<Option<LiveSession>, Error> {
    let Some(id) = &v.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    match app.instance().portal_session(id).await {
        Ok(s) => Ok(s),
        Err(PortalError::Service(e)) => Err(Error::from(e)),
        Err(_) => Ok(None),
    }
}

fn to_login(v: &Visit) -> Response {
    Redirect::to(&v.at("/portal/login")).into_response()
}

/// The session of a POST with its form token checked.
async fn posted_session(app: &App, v: &Visit, f: &Fields) -> Result<Option<LiveSession>, Error> {
    let Some(s) = session_of(app, v).await? else {
        return Ok(None);
    };
    let ok = ecert_store::parse_hex(f.get("csrf")).is_some_and(|g| {
        app.instance()
            .portal_keys()
            .check_tag("session form", &s.csrf_secret, &g)
    });
    if !ok {
        return Err(forbidden_form());
    }
    Ok(Some(s))
}

fn nav(app: &App, v: &Visit, s: &LiveSession) -> Nav {
    Nav {
        links: vec![
            (v.at(PORTAL), v.t("我的证书", "My certificates")),
            (v.at("/portal/org"), v.t("单位", "Organisation")),
            (v.at("/portal/account"), v.t("账户", "Account")),
        ],
        logout_action: v.at("/portal/logout"),
        logout_label: v.t("退出", "Log out"),
        csrf: session_token(app, s),
    }
}

/// Logs a session in: the cookie with the new id, and the redirect to the list.
fn logged_in(v: &Visit, s: &NewSession) -> Response {
    let mut r = Redirect::to(&v.at(PORTAL)).into_response();
    let c = format!("{SESSION_COOKIE}={}{}", s.id, v.cookie_attrs());
    if let Ok(h) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("ecert_pre=; Path=/portal; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    r
}

/// Audits a refused login (the answer `login_failed` or `code_failed`; other refusals, such as
/// a malformed field or a rate limit, are not login attempts) compactly, at the bounded rate
/// of the refusal log.
async fn audit_refused_login(
    app: &App,
    v: &Visit,
    method: &str,
    e: &PortalError,
    account: Option<&str>,
) {
    if !matches!(
        e,
        PortalError::Refused {
            code: "login_failed" | "code_failed",
            ..
        }
    ) {
        return;
    }
    let now = super::api::unix_now().saturating_mul(1000);
    let addr = v.remote.clone().unwrap_or_default();
    let admit = app.inner.refusals.admit(now, &addr, "portal login refused");
    if let Some(summary) = admit.summary {
        super::api::log_refusal_summary(app, &summary).await;
    }
    if admit.write {
        let _ = app
            .instance()
            .audit(
                "portal:unauthenticated",
                "portal.login_failed",
                account.unwrap_or("-"),
                &serde_json::json!({ "method": method, "remote": v.remote, "account": account }),
            )
            .await;
    }
}

fn too_many_logins(v: &Visit) -> PortalError {
    let _ = v;
    PortalError::Refused {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "rate_limited",
        zh: "登录尝试过于频繁，请一分钟后再试".into(),
        en: "Too many login attempts; wait a minute".into(),
    }
}

// ----- login, registration, recovery -----

fn address_input(v: &Visit, value: &str) -> Field {
    input(
        "text",
        "address",
        v.t("邮箱或手机号", "E-mail or mobile number"),
        254,
        "username",
    )
    .value(value)
    .f()
}

fn password_input(v: &Visit, name: &'static str, new: bool) -> Field {
    let label = if new {
        v.t(
            "设置口令（至少 10 个字符）",
            "Choose a password (10 characters or more)",
        )
    } else {
        v.t("口令", "Password")
    };
    input(
        "password",
        name,
        label,
        256,
        if new {
            "new-password"
        } else {
            "current-password"
        },
    )
    .f()
}

fn code_input(v: &Visit) -> Field {
    input(
        "text",
        "code",
        v.t("验证码（6 位数字）", "Code (6 digits)"),
        12,
        "one-time-code",
    )
    .numeric()
    .f()
}

fn login_view(v: &Visit, csrf: &str, address: &str) -> PortalPage {
    let mut p = v.page(v.t("客户登录", "Customer login"));
    p.blocks.push(Block::Form(
        Form::post("login", v.at("/portal/login"), "", csrf)
            .field(address_input(v, address))
            .field(password_input(v, "password", false))
            .submit(v.t("登录", "Log in")),
    ));
    p.blocks.push(Block::Link(
        v.at("/portal/login/code"),
        v.t("用验证码登录", "Log in with a one-time code").into(),
    ));
    p.blocks.push(Block::Link(
        v.at("/portal/register"),
        v.t("注册新账户", "Register").into(),
    ));
    p.blocks.push(Block::Link(
        v.at("/portal/recover"),
        v.t(
            "忘记口令？找回账户",
            "Forgot the password? Recover the account",
        )
        .into(),
    ));
    p.blocks.push(Block::Small(
        v.t(
            "登录后可查看并下载本机构为您签发的电子证书。下载前需再次核验身份。",
            "After logging in you can see and download the certificates issued to you; each download checks your identity again.",
        )
        .into(),
    ));
    p
}

async fn login_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    if session_of(&app, &v).await?.is_some() {
        return Ok(Redirect::to(&v.at(PORTAL)).into_response());
    }
    let (csrf, set) = pre_login(&app, &v, PORTAL)?;
    Ok(respond(StatusCode::OK, &login_view(&v, &csrf, ""), set))
}

async fn login_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let address_text = f
        .bounded("address", "邮箱或手机号", "address", 254)
        .unwrap_or("");
    let mut page = login_view(&v, &csrf, address_text);
    let outcome = async {
        if !app.inner.portal.logins.allow(v.ip) {
            return Err((too_many_logins(&v), None));
        }
        let address = parse_address(address_text).map_err(|e| (e, None))?;
        let pw = f
            .bounded("password", "口令", "password", 256)
            .map_err(|e| (e, None))?;
        app.instance()
            .portal_login_password(&address, Zeroizing::new(pw.to_owned()), v.remote())
            .await
    }
    .await;
    match outcome {
        Ok(s) => Ok(logged_in(&v, &s)),
        Err((e, account)) => {
            audit_refused_login(&app, &v, "password", &e, account.as_deref()).await;
            let msg = v.message(&e);
            let (status, _) = service_failure(e)?;
            page.error = Some(msg);
            Ok(respond(status, &page, None))
        }
    }
}

fn code_login_view(v: &Visit, csrf: &str, address: Option<&str>) -> PortalPage {
    let mut p = v.page(v.t("验证码登录", "Log in with a code"));
    let form = Form::post("code-login", v.at("/portal/login/code"), "", csrf);
    let form = match address {
        None => form
            .field(address_input(v, ""))
            .submit(v.t("获取验证码", "Send me a code")),
        Some(a) => form
            .hidden("address", a)
            .field(Field::Text(format!("{}{}", v.t("账户：", "Account: "), a)))
            .field(code_input(v))
            .submit(v.t("登录", "Log in")),
    };
    p.blocks.push(Block::Form(form));
    p.blocks.push(Block::Link(
        v.at("/portal/login"),
        v.t("用口令登录", "Log in with the password").into(),
    ));
    p
}

async fn code_login_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let (csrf, set) = pre_login(&app, &v, PORTAL)?;
    Ok(respond(
        StatusCode::OK,
        &code_login_view(&v, &csrf, None),
        set,
    ))
}

fn sent_notice(v: &Visit, masked: &str) -> String {
    match v.lang {
        Lang::Zh => format!("如该地址已注册，验证码已发送至 {masked}，10 分钟内有效。"),
        Lang::En => format!(
            "If this address has an account, a code was sent to {masked}; it is valid for 10 minutes."
        ),
    }
}

async fn code_login_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let address_text = f
        .bounded("address", "邮箱或手机号", "address", 254)
        .unwrap_or("");
    let address = match parse_address(address_text) {
        Ok(a) => a,
        Err(e) => {
            let mut p = code_login_view(&v, &csrf, None);
            p.error = Some(v.message(&e));
            return Ok(respond(status_of(&e), &p, None));
        }
    };
    let code = f.get("code").trim();
    if code.is_empty() {
        // Step 1: send a code (if the address is known; the same answer if not).
        let mut p = code_login_view(&v, &csrf, Some(address.as_str()));
        match app
            .instance()
            .portal_request_code(&app.inner.portal.notifier, &address, false, v.remote())
            .await
        {
            Ok(masked) => p.notice = Some(sent_notice(&v, &masked)),
            Err(e) => {
                p.error = Some(v.message(&e));
                let (status, _) = service_failure(e)?;
                return Ok(respond(status, &p, None));
            }
        }
        return Ok(respond(StatusCode::OK, &p, None));
    }
    let mut p = code_login_view(&v, &csrf, Some(address.as_str()));
    let outcome = async {
        if !app.inner.portal.logins.allow(v.ip) {
            return Err((too_many_logins(&v), None));
        }
        if code.len() > 12 {
            return Err((bad_field("验证码过长", "The code is too long"), None));
        }
        app.instance()
            .portal_login_code(&address, code, v.remote())
            .await
    }
    .await;
    match outcome {
        Ok(s) => Ok(logged_in(&v, &s)),
        Err((e, account)) => {
            audit_refused_login(&app, &v, "code", &e, account.as_deref()).await;
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

fn register_view(v: &Visit, csrf: &str, name: &str, address: &str) -> PortalPage {
    let mut p = v.page(v.t("注册客户账户", "Register a customer account"));
    p.blocks.push(Block::Form(
        Form::post("register", v.at("/portal/register"), "", csrf)
            .field(
                input("text", "name", v.t("姓名（可选）", "Name (optional)"), 100, "name")
                    .value(name)
                    .optional()
                    .f(),
            )
            .field(
                input(
                    "text",
                    "address",
                    v.t("邮箱或手机号", "E-mail or mobile number"),
                    254,
                    "username",
                )
                .value(address)
                .hint(v.t(
                    "请使用您委托检定/校准时留给本机构的邮箱或手机号，才能看到您的证书。",
                    "Use the e-mail or mobile you gave the institute with your order, so that your certificates appear.",
                ))
                .f(),
            )
            .field(password_input(v, "password", true))
            .submit(v.t("注册并获取验证码", "Register and send me a code"))
            .note(v.t(
                "单位用户：先以个人身份注册，登录后在“单位”页面用统一社会信用代码开通单位账户。",
                "Organisations: register as a person first, then open the organisation's account with its credit code on the organisation page.",
            )),
    ));
    p.blocks.push(Block::Link(
        v.at("/portal/login"),
        v.t("已有账户？登录", "Have an account? Log in").into(),
    ));
    p
}

async fn register_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let (csrf, set) = pre_login(&app, &v, PORTAL)?;
    Ok(respond(
        StatusCode::OK,
        &register_view(&v, &csrf, "", ""),
        set,
    ))
}

fn confirm_view(v: &Visit, csrf: &str, account: &str) -> PortalPage {
    let mut p = v.page(v.t("输入验证码完成注册", "Enter the code to finish"));
    p.blocks.push(Block::Form(
        Form::post("confirm", v.at("/portal/register/confirm"), "", csrf)
            .hidden("account", account)
            .field(code_input(v))
            .submit(v.t("完成注册", "Finish")),
    ));
    p
}

async fn register_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let name = f.get("name");
    let address_text = f.get("address");
    let outcome = async {
        let name = f.bounded(
            "name",
            "姓名",
            "name",
            crate::service::portal::MAX_NAME_CHARS,
        )?;
        let address = parse_address(f.bounded("address", "邮箱或手机号", "address", 254)?)?;
        let pw = f.bounded("password", "口令", "password", 256)?;
        app.instance()
            .portal_register(
                &app.inner.portal.notifier,
                Some(name),
                &address,
                Zeroizing::new(pw.to_owned()),
                v.remote(),
            )
            .await
    }
    .await;
    match outcome {
        Ok(pending) => {
            let mut p = confirm_view(&v, &csrf, &pending.account_id);
            p.notice = Some(match v.lang {
                Lang::Zh => format!("验证码已发送至 {}，10 分钟内有效。", pending.sent_to),
                Lang::En => format!(
                    "A code was sent to {}; it is valid for 10 minutes.",
                    pending.sent_to
                ),
            });
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let short: String = name.chars().take(100).collect();
            let addr: String = address_text.chars().take(254).collect();
            let mut p = register_view(&v, &csrf, &short, &addr);
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn register_confirm(
    State(app): State<App>,
    v: Visit,
    body: Bytes,
) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let account = f.get("account");
    let outcome = async {
        if !app.inner.portal.logins.allow(v.ip) {
            return Err(too_many_logins(&v));
        }
        if account.len() > 64 || f.get("code").len() > 12 {
            return Err(bad_field("表单字段过长", "A form field is too long"));
        }
        app.instance()
            .portal_confirm_registration(account, f.get("code"), v.remote())
            .await
    }
    .await;
    match outcome {
        Ok(s) => Ok(logged_in(&v, &s)),
        Err(e) => {
            let acc: String = account.chars().take(64).collect();
            let mut p = confirm_view(&v, &csrf, &acc);
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

fn recover_view(v: &Visit, csrf: &str, address: Option<&str>) -> PortalPage {
    let mut p = v.page(v.t("找回账户", "Recover the account"));
    let form = match address {
        None => Form::post("recover", v.at("/portal/recover"), "", csrf)
            .field(address_input(v, ""))
            .submit(v.t("获取验证码", "Send me a code"))
            .note(v.t(
                "验证码只发送到账户已验证的邮箱或手机号。",
                "The code goes only to an address the account has verified.",
            )),
        Some(a) => Form::post("recover-confirm", v.at("/portal/recover/confirm"), "", csrf)
            .hidden("address", a)
            .field(code_input(v))
            .field(password_input(v, "password", true))
            .submit(v.t("设置新口令并登录", "Set the new password and log in"))
            .note(v.t(
                "设置新口令后，该账户在所有设备上的登录都将退出。",
                "Setting a new password logs the account out everywhere.",
            )),
    };
    p.blocks.push(Block::Form(form));
    p
}

async fn recover_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let (csrf, set) = pre_login(&app, &v, PORTAL)?;
    Ok(respond(StatusCode::OK, &recover_view(&v, &csrf, None), set))
}

async fn recover_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let address = match f
        .bounded("address", "邮箱或手机号", "address", 254)
        .and_then(parse_address)
    {
        Ok(a) => a,
        Err(e) => {
            let mut p = recover_view(&v, &csrf, None);
            p.error = Some(v.message(&e));
            return Ok(respond(status_of(&e), &p, None));
        }
    };
    let mut p = recover_view(&v, &csrf, Some(address.as_str()));
    match app
        .instance()
        .portal_request_code(&app.inner.portal.notifier, &address, true, v.remote())
        .await
    {
        Ok(masked) => {
            p.notice = Some(sent_notice(&v, &masked));
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn recover_confirm(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let csrf = check_pre(&app, &v, &f)?;
    let outcome = async {
        if !app.inner.portal.logins.allow(v.ip) {
            return Err(too_many_logins(&v));
        }
        let address = parse_address(f.bounded("address", "邮箱或手机号", "address", 254)?)?;
        let code = f.bounded("code", "验证码", "code", 12)?;
        let pw = f.bounded("password", "口令", "password", 256)?;
        app.instance()
            .portal_recover(&address, code, Zeroizing::new(pw.to_owned()), v.remote())
            .await
    }
    .await;
    match outcome {
        Ok(s) => Ok(logged_in(&v, &s)),
        Err(e) => {
            let addr: String = f.get("address").chars().take(254).collect();
            let mut p = recover_view(&v, &csrf, Some(&addr));
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn logout(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    end_sessions(&app, &v, &body, false).await
}

async fn logout_all(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    end_sessions(&app, &v, &body, true).await
}

/// Ends this session (`everywhere`: every session of the account) and clears the cookie.
async fn end_sessions(
    app: &App,
    v: &Visit,
    body: &Bytes,
    everywhere: bool,
) -> Result<Response, Error> {
    let f = Fields::parse(body).map_err(portal_error)?;
    let Some(s) = posted_session(app, v, &f).await? else {
        return Ok(to_login(v));
    };
    app.instance()
        .portal_logout(&s, everywhere, v.remote())
        .await
        .map_err(portal_error)?;
    let mut r = to_login(v);
    let c = format!("{SESSION_COOKIE}=; Max-Age=0{}", v.cookie_attrs());
    if let Ok(h) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    Ok(r)
}

/// A refusal outside a form page (malformed body, …) as the site's error page.
pub(super) fn portal_error(e: PortalError) -> Error {
    match e {
        PortalError::Refused {
            status,
            code,
            zh,
            en,
        } => Error::new(status, code, zh, en),
        PortalError::Service(s) => Error::from(s),
    }
}

// ----- the list -----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    number: Option<String>,
    instrument: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn kind_name(code: i64, lang: Lang) -> String {
    match u8::try_from(code)
        .ok()
        .and_then(|c| CertificateKind::from_code(c).ok())
    {
        Some(k) => match lang {
            Lang::Zh => k.name_zh().to_owned(),
            Lang::En => k.name_en().to_owned(),
        },
        None => code.to_string(),
    }
}

fn cert_row(v: &Visit, it: &PortalItem, selectable: bool) -> CertRow {
    let c = &it.certificate;
    let status = c.status;
    CertRow {
        id: c.id.clone(),
        number: c.number.clone(),
        kind: kind_name(c.kind, v.lang),
        instrument: c.instrument_name.clone(),
        issued: c.issue_date.clone(),
        status: status.as_str(),
        status_text: crate::service::status_text(status, v.lang == Lang::En),
        messages: it.messages.clone(),
        supplements: it
            .supplements
            .iter()
            .map(|s| format!("{} {}", v.t("补充文件", "Supplement"), s.number))
            .collect(),
        selectable: selectable && status != CertificateStatus::Disposed,
        checked: false,
        verify_url: if status == CertificateStatus::Disposed {
            String::new()
        } else {
            v.at(&format!(
                "/lookup?number={}&code={}",
                enc(&c.number),
                enc(&c.check_code)
            ))
        },
        verify_label: v.t("验证页面", "Verification page"),
    }
}

fn enc(s: &str) -> String {
    super::view::enc(s)
}

async fn list_page(
    State(app): State<App>,
    v: Visit,
    Query(q): Query<ListQuery>,
) -> Result<Response, Error> {
    let Some(s) = session_of(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let clip = |o: &Option<String>, n: usize| {
        o.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| x.chars().take(n).collect::<String>())
    };
    let query = PortalQuery {
        number: clip(&q.number, 64),
        instrument: clip(&q.instrument, 64),
        issued_from: clip(&q.from, 10),
        issued_to: clip(&q.to, 10),
        limit: 200,
    };
    let mut p = v.page(v.t("我的电子证书", "My certificates"));
    p.nav = Some(nav(&app, &v, &s));
    let csrf = session_token(&app, &s);
    let search = Form::get("search", v.at(PORTAL), v.t("查询", "Search"), v.lang)
        .field(
            input(
                "text",
                "number",
                v.t("证书编号", "Certificate No."),
                64,
                "off",
            )
            .value(query.number.clone().unwrap_or_default())
            .optional()
            .f(),
        )
        .field(
            input(
                "text",
                "instrument",
                v.t("器具名称", "Instrument"),
                64,
                "off",
            )
            .value(query.instrument.clone().unwrap_or_default())
            .optional()
            .f(),
        )
        .field(
            input("date", "from", v.t("签发日期自", "Issued from"), 10, "off")
                .value(query.issued_from.clone().unwrap_or_default())
                .optional()
                .f(),
        )
        .field(
            input("date", "to", v.t("签发日期至", "Issued to"), 10, "off")
                .value(query.issued_to.clone().unwrap_or_default())
                .optional()
                .f(),
        )
        .submit(v.t("查询", "Search"));
    let status;
    match app.instance().portal_list(&s.account.id, &query).await {
        Ok(items) => {
            status = StatusCode::OK;
            let rows: Vec<CertRow> = items.iter().map(|it| cert_row(&v, it, true)).collect();
            let mut form = Form::post("download", v.at("/portal/download"), "", &csrf)
                .field(Field::Certificates(rows))
                .submit(v.t("下载所选证书", "Download the selected"))
                .note(v.t(
                    "下载前需核验身份（验证码或下载密码），文件以加密压缩包（AES-256）提供，补充文件随原证书一并提供。",
                    "A download first checks your identity (a code or the download password); files come as an encrypted ZIP (AES-256), supplements with their certificate.",
                ));
            form.empty = v
                .t(
                    "没有找到证书。证书按您委托时留下的邮箱、手机号或单位统一社会信用代码显示。",
                    "No certificates found. Certificates appear by the e-mail, mobile or credit code given with the order.",
                )
                .into();
            p.blocks.push(Block::Form(form));
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (st, _) = service_failure(e)?;
            status = st;
        }
    }
    p.blocks.push(Block::Form(search));
    Ok(respond(status, &p, None))
}

// ----- downloads (R-6.1, R-6.2, R-7.2.3) -----

fn ids_hidden(mut form: Form, plan: &DownloadPlan) -> Form {
    for it in &plan.items {
        form = form.hidden("id", it.certificate.id.clone());
    }
    form
}

/// The fields the key policy asks for on the last step: a shown password (with its
/// tag, so it comes back unchanged) or one the customer types.
fn key_fields(
    app: &App,
    v: &Visit,
    mut form: Form,
    plan: &DownloadPlan,
    by_password: bool,
) -> Form {
    let policy = app.instance().config.portal.download_key;
    let sentence = if by_password && policy == KeyPolicy::IdentityCode {
        v.t(
            "压缩包已加密（AES-256），解压密码为您输入的下载密码。",
            "The ZIP is encrypted (AES-256); its password is the download password you enter.",
        )
    } else {
        policy.describe(v.lang)
    };
    form = form.field(Field::Text(sentence.to_owned()));
    match policy {
        KeyPolicy::Shown => {
            let pw = generate_shown_password();
            let tag = shown_tag(app, plan, &pw);
            form = form
                .hidden("shown", pw.clone())
                .hidden("shown_tag", tag)
                .field(Field::Text(format!(
                    "{}{pw}",
                    v.t("解压密码：", "Package password: ")
                )));
        }
        KeyPolicy::Chosen => {
            form = form.field(
                input(
                    "password",
                    "key",
                    v.t(
                        "设定解压密码（8 到 64 个字符）",
                        "Package password (8 to 64 characters)",
                    ),
                    64,
                    "new-password",
                )
                .f(),
            );
        }
        KeyPolicy::IdentityCode | KeyPolicy::Mobile => {}
    }
    form
}

fn shown_tag(app: &App, plan: &DownloadPlan, pw: &str) -> String {
    let data = format!("{}\0{pw}", plan.subject);
    ecert_store::hex(
        &app.instance()
            .portal_keys()
            .tag("shown package password", data.as_bytes()),
    )
}

fn others_unconfigured(v: &Visit) -> String {
    let names: Vec<&str> = [ProviderKind::WeChat, ProviderKind::Qq, ProviderKind::Face]
        .iter()
        .map(|k| if v.lang == Lang::En { k.en() } else { k.zh() })
        .collect();
    match v.lang {
        Lang::Zh => format!("{}：未配置", names.join("、")),
        Lang::En => format!("{}: not configured", names.join(", ")),
    }
}

fn check_view(app: &App, v: &Visit, s: &LiveSession, plan: &DownloadPlan) -> PortalPage {
    let csrf = session_token(app, s);
    let mut p = v.page(v.t("下载前核验身份", "Check your identity to download"));
    p.nav = Some(nav(app, v, s));
    let rows: Vec<CertRow> = plan.items.iter().map(|it| cert_row(v, it, false)).collect();
    let mut list = Form::post(
        "items",
        String::new(),
        v.t("下载内容", "In the package"),
        "",
    );
    list.hidden.clear();
    list.fields.push(Field::Certificates(rows));
    p.blocks.push(Block::Form(list));
    if plan.channels.is_empty() && !plan.password {
        p.blocks.push(Block::Strong(
            "no-channel",
            v.t(
                "所选证书没有共同的联系方式可接收验证码：请分别下载，或联系发证机构。",
                "The selected certificates share no contact a code can go to: download them one by one, or contact the issuer.",
            )
            .into(),
        ));
    }
    for (i, ch) in plan.channels.iter().enumerate() {
        if !app.inner.portal.notifier.can_send(ch.kind()) {
            p.blocks.push(Block::Small(match (ch, v.lang) {
                (Channel::Mobile(_), Lang::Zh) => {
                    format!("短信验证码（{}）：未配置短信发送", ch.masked())
                }
                (Channel::Mobile(_), Lang::En) => {
                    format!("Code by SMS ({}): SMS is not configured", ch.masked())
                }
                (Channel::Email(_), Lang::Zh) => {
                    format!("邮件验证码（{}）：未配置邮件发送", ch.masked())
                }
                (Channel::Email(_), Lang::En) => {
                    format!("Code by e-mail ({}): e-mail is not configured", ch.masked())
                }
            }));
            continue;
        }
        let label = match (ch, v.lang) {
            (Channel::Mobile(_), Lang::Zh) => format!("发送短信验证码到 {}", ch.masked()),
            (Channel::Mobile(_), Lang::En) => format!("Send a code by SMS to {}", ch.masked()),
            (Channel::Email(_), Lang::Zh) => format!("发送邮件验证码到 {}", ch.masked()),
            (Channel::Email(_), Lang::En) => format!("Send a code by e-mail to {}", ch.masked()),
        };
        let form = Form::post(
            if i == 0 { "send-0" } else { "send-n" },
            v.at("/portal/download/code"),
            "",
            &csrf,
        )
        .hidden("ch", i.to_string())
        .submit(label);
        p.blocks.push(Block::Form(ids_hidden(form, plan)));
    }
    if plan.password {
        let form = Form::post(
            "by-password",
            v.at("/portal/download/confirm"),
            v.t("或使用下载密码（R-6.2f）", "Or use the download password"),
            &csrf,
        )
        .hidden("method", "password")
        .field(
            input(
                "password",
                "download_password",
                v.t("下载密码", "Download password"),
                128,
                "off",
            )
            .f(),
        );
        let form = key_fields(app, v, ids_hidden(form, plan), plan, true)
            .submit(v.t("核验并下载", "Check and download"));
        p.blocks.push(Block::Form(form));
    }
    p.blocks.push(Block::Small(others_unconfigured(v)));
    p
}

fn code_view(app: &App, v: &Visit, s: &LiveSession, plan: &DownloadPlan, ch: usize) -> PortalPage {
    let csrf = session_token(app, s);
    let mut p = v.page(v.t("输入验证码并下载", "Enter the code and download"));
    p.nav = Some(nav(app, v, s));
    let form = Form::post(
        "download-confirm",
        v.at("/portal/download/confirm"),
        "",
        &csrf,
    )
    .hidden("method", "code")
    .hidden("ch", ch.to_string())
    .field(code_input(v));
    let form = key_fields(app, v, ids_hidden(form, plan), plan, false)
        .submit(v.t("核验并下载", "Check and download"));
    p.blocks.push(Block::Form(form));
    p
}

async fn plan_of(app: &App, s: &LiveSession, f: &Fields) -> Result<DownloadPlan, PortalError> {
    let ids = f.all("id");
    if ids.iter().any(|i| i.len() > 64) {
        return Err(bad_field("证书标识无效", "A certificate id is invalid"));
    }
    app.instance()
        .portal_download_plan(&s.account.id, &ids)
        .await
}

fn channel_of(plan: &DownloadPlan, f: &Fields) -> Result<(usize, Channel), PortalError> {
    let i: usize = f
        .get("ch")
        .parse()
        .map_err(|_| bad_field("请选择接收验证码的方式", "Choose where the code goes"))?;
    plan.channels
        .get(i)
        .cloned()
        .map(|c| (i, c))
        .ok_or_else(|| bad_field("请选择接收验证码的方式", "Choose where the code goes"))
}

async fn download_check(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let plan = plan_of(&app, &s, &f).await.map_err(portal_error)?;
    Ok(respond(
        StatusCode::OK,
        &check_view(&app, &v, &s, &plan),
        None,
    ))
}

async fn download_code(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let plan = plan_of(&app, &s, &f).await.map_err(portal_error)?;
    let (i, ch) = match channel_of(&plan, &f) {
        Ok(x) => x,
        Err(e) => {
            let mut p = check_view(&app, &v, &s, &plan);
            p.error = Some(v.message(&e));
            return Ok(respond(status_of(&e), &p, None));
        }
    };
    match app
        .instance()
        .portal_send_download_code(
            &app.inner.portal.notifier,
            &s.account.id,
            &plan,
            &ch,
            v.remote(),
        )
        .await
    {
        Ok(()) => {
            let mut p = code_view(&app, &v, &s, &plan, i);
            p.notice = Some(match v.lang {
                Lang::Zh => format!("验证码已发送至 {}，10 分钟内有效。", ch.masked()),
                Lang::En => format!(
                    "A code was sent to {}; it is valid for 10 minutes.",
                    ch.masked()
                ),
            });
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let mut p = check_view(&app, &v, &s, &plan);
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn download_confirm(
    State(app): State<App>,
    v: Visit,
    body: Bytes,
) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let plan = plan_of(&app, &s, &f).await.map_err(portal_error)?;
    let by_password = f.get("method") == "password";
    let again = |e: &PortalError| -> PortalPage {
        let mut p = if by_password {
            check_view(&app, &v, &s, &plan)
        } else {
            let i = f.get("ch").parse().unwrap_or(0);
            code_view(&app, &v, &s, &plan, i)
        };
        p.error = Some(v.message(e));
        p
    };
    let prepared = (|| {
        let check = if by_password {
            IdentityCheck::Password(Zeroizing::new(
                f.bounded("download_password", "下载密码", "download password", 128)?
                    .to_owned(),
            ))
        } else {
            let (_, channel) = channel_of(&plan, &f)?;
            IdentityCheck::Code {
                channel,
                code: Zeroizing::new(f.bounded("code", "验证码", "code", 12)?.trim().to_owned()),
            }
        };
        let key = match app.instance().config.portal.download_key {
            KeyPolicy::Shown => {
                let pw = f.get("shown");
                let ok = ecert_store::parse_hex(f.get("shown_tag")).is_some_and(|t| {
                    let data = format!("{}\0{pw}", plan.subject);
                    app.instance().portal_keys().check_tag(
                        "shown package password",
                        data.as_bytes(),
                        &t,
                    )
                });
                if !ok {
                    return Err(bad_field(
                        "解压密码与本页显示的不一致，请重新下载",
                        "The package password is not the one this page showed; start again",
                    ));
                }
                Some(Zeroizing::new(pw.to_owned()))
            }
            KeyPolicy::Chosen => Some(Zeroizing::new(
                f.bounded("key", "解压密码", "package password", 64)?
                    .to_owned(),
            )),
            _ => None,
        };
        Ok((check, key))
    })();
    let (check, key) = match prepared {
        Ok(x) => x,
        Err(e) => return Ok(respond(status_of(&e), &again(&e), None)),
    };
    match app
        .instance()
        .portal_download(&s.account, &plan, check, key, v.remote())
        .await
    {
        Ok(d) => {
            let mut r = (StatusCode::OK, d.bytes).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            let ascii: String = d
                .file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disp = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                enc(&d.file_name)
            );
            if let Ok(v) = HeaderValue::from_str(&disp) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            if let Ok(v) = HeaderValue::from_str(&ecert_store::hex(&d.sm3)) {
                h.insert("x-package-sm3", v);
            }
            Ok(r)
        }
        Err(e) => {
            let page = again(&e);
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &page, None))
        }
    }
}

// ----- account and organisation -----

pub(super) fn date_time(ms: i64) -> String {
    let secs = ms / 1000 + 8 * 3600;
    let (y, m, d) = crate::domain::dates::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        t / 3600,
        (t % 3600) / 60
    )
}

async fn account_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some(s) = session_of(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let p = account_view(&app, &v, &s).await?;
    Ok(respond(StatusCode::OK, &p, None))
}

async fn account_view(app: &App, v: &Visit, s: &LiveSession) -> Result<PortalPage, Error> {
    let inst = app.instance();
    let channels = inst
        .portal_channels(&s.account.id)
        .await
        .map_err(portal_error)?;
    let history = inst
        .portal_history(&s.account.id)
        .await
        .map_err(portal_error)?;
    let mut p = v.page(v.t("我的账户", "My account"));
    p.nav = Some(nav(app, v, s));
    let mut rows = Vec::new();
    if let Some(n) = &s.account.name {
        rows.push((v.t("姓名", "Name").to_owned(), n.clone()));
    }
    for (c, verified) in &channels {
        rows.push((
            match c {
                Channel::Email(_) => v.t("邮箱", "E-mail").to_owned(),
                Channel::Mobile(_) => v.t("手机", "Mobile").to_owned(),
            },
            format!(
                "{} {}",
                c.as_str(),
                if *verified {
                    v.t("（已验证）", "(verified)")
                } else {
                    v.t("（未验证）", "(not verified)")
                }
            ),
        ));
    }
    p.blocks.push(Block::Rows(rows));
    p.blocks
        .push(Block::Heading(v.t("下载记录", "Download history").into()));
    p.blocks.push(Block::Table(Table {
        head: vec![
            v.t("时间", "Time"),
            v.t("编号", "Number"),
            v.t("文件包 SM3", "Package SM3"),
        ],
        rows: history
            .iter()
            .map(|(d, number)| {
                vec![
                    date_time(d.at_ms),
                    number.clone(),
                    d.sent_sm3.map(|h| ecert_store::hex(&h)).unwrap_or_default(),
                ]
            })
            .collect(),
        empty: v.t("尚无下载记录。", "No downloads yet."),
    }));
    let csrf = session_token(app, s);
    p.blocks.push(Block::Form(
        Form::post(
            "address-add",
            v.at("/portal/account/address"),
            v.t("添加邮箱或手机号", "Add an e-mail or mobile"),
            &csrf,
        )
        .field(address_input(v, ""))
        .submit(v.t("发送验证码", "Send a code"))
        .note(v.t(
            "验证后，发到该地址的证书也会显示在“我的证书”中。",
            "Once verified, the certificates issued to that address appear in your list too.",
        )),
    ));
    p.blocks.push(Block::Form(
        Form::post(
            "logout-all",
            v.at("/portal/account/logout-all"),
            v.t("安全", "Security"),
            &csrf,
        )
        .submit(v.t("退出所有设备上的登录", "Log out everywhere")),
    ));
    Ok(p)
}

async fn org_view(app: &App, v: &Visit, s: &LiveSession) -> Result<PortalPage, Error> {
    let inst = app.instance();
    let orgs = inst
        .portal_orgs(&s.account.id)
        .await
        .map_err(portal_error)?;
    let invitations = inst
        .portal_invitations(&s.account.id)
        .await
        .map_err(portal_error)?;
    let csrf = session_token(app, s);
    let mut p = v.page(v.t("单位账户", "Organisation"));
    p.nav = Some(nav(app, v, s));
    for (org, role) in &orgs {
        p.blocks.push(Block::Rows(vec![
            (v.t("单位", "Organisation").into(), org.name.clone()),
            (
                v.t("统一社会信用代码", "Credit code").into(),
                org.uscc.clone(),
            ),
            (
                v.t("角色", "Role").into(),
                match role {
                    ecert_store::Role::Admin => v.t("管理员", "Administrator").into(),
                    ecert_store::Role::Member => v.t("成员", "Member").into(),
                },
            ),
        ]));
        if *role == ecert_store::Role::Admin {
            p.blocks.push(Block::Form(
                Form::post(
                    "invite",
                    v.at("/portal/org/invite"),
                    v.t("邀请成员", "Invite a member"),
                    &csrf,
                )
                .hidden("org", org.id.clone())
                .field(address_input(v, ""))
                .submit(v.t("邀请", "Invite"))
                .note(v.t(
                    "被邀请人用该邮箱或手机号注册并登录后，在本页接受邀请。",
                    "The invitee registers or logs in with that address and accepts on this page.",
                )),
            ));
        }
    }
    for (inv, name) in &invitations {
        p.blocks.push(Block::Form(
            Form::post(
                "accept",
                v.at("/portal/org/accept"),
                format!("{}{name}", v.t("邀请：", "Invitation: ")),
                &csrf,
            )
            .hidden("invitation", inv.id.clone())
            .submit(v.t("接受邀请", "Accept")),
        ));
    }
    p.blocks.push(Block::Form(
        Form::post(
            "org-register",
            v.at("/portal/org/register"),
            v.t("开通单位账户", "Open an organisation account"),
            &csrf,
        )
        .field(input("text", "org_name", v.t("单位名称", "Name"), 100, "organization").f())
        .field(
            input("text", "uscc", v.t("统一社会信用代码（18 位）", "Unified social credit code (18 characters)"), 18, "off")
                .f(),
        )
        .submit(v.t("获取激活码", "Send the activation code"))
        .note(v.t(
            "激活码发送到本机构登记的该单位联系方式；激活后您成为单位管理员。",
            "The activation code goes to the contact the institute has for the organisation; after activation you administer it.",
        )),
    ));
    Ok(p)
}

fn activate_form(v: &Visit, csrf: &str, org: &str) -> Block {
    Block::Form(
        Form::post(
            "org-activate",
            v.at("/portal/org/activate"),
            v.t("输入激活码", "Enter the activation code"),
            csrf,
        )
        .hidden("org", org)
        .field(code_input(v))
        .submit(v.t("激活", "Activate")),
    )
}

async fn org_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some(s) = session_of(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let p = org_view(&app, &v, &s).await?;
    Ok(respond(StatusCode::OK, &p, None))
}

async fn org_register(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let outcome = async {
        let name = f.bounded("org_name", "单位名称", "name", 100)?;
        let uscc = f.bounded("uscc", "统一社会信用代码", "credit code", 18)?;
        app.instance()
            .portal_register_org(
                &app.inner.portal.notifier,
                &s.account.id,
                uscc,
                name,
                v.remote(),
            )
            .await
    }
    .await;
    let mut p = org_view(&app, &v, &s).await?;
    match outcome {
        Ok((org, masked)) => {
            p.notice = Some(match v.lang {
                Lang::Zh => format!("激活码已发送至 {masked}，10 分钟内有效。"),
                Lang::En => {
                    format!("The activation code was sent to {masked}; it is valid for 10 minutes.")
                }
            });
            let csrf = session_token(&app, &s);
            p.blocks.insert(0, activate_form(&v, &csrf, &org.id));
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn org_activate(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let org = f.get("org");
    let outcome = async {
        let code = f.bounded("code", "激活码", "code", 12)?;
        if org.len() > 64 {
            return Err(bad_field("单位标识无效", "Invalid organisation"));
        }
        app.instance()
            .portal_activate_org(&s.account.id, org, code)
            .await
    }
    .await;
    let mut p = org_view(&app, &v, &s).await?;
    match outcome {
        Ok(()) => {
            p.notice = Some(
                v.t("单位账户已激活。", "The organisation's account is active.")
                    .into(),
            );
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let csrf = session_token(&app, &s);
            let org: String = org.chars().take(64).collect();
            p.blocks.insert(0, activate_form(&v, &csrf, &org));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn org_invite(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let outcome = async {
        let to = parse_address(f.bounded("address", "邮箱或手机号", "address", 254)?)?;
        app.instance()
            .portal_invite(&app.inner.portal.notifier, &s.account.id, f.get("org"), &to)
            .await
    }
    .await;
    let mut p = org_view(&app, &v, &s).await?;
    match outcome {
        Ok(()) => {
            p.notice = Some(v.t("邀请已发出。", "The invitation is sent.").into());
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn org_accept(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let outcome = app
        .instance()
        .portal_accept(&s.account.id, f.get("invitation"))
        .await;
    let mut p = org_view(&app, &v, &s).await?;
    match outcome {
        Ok(()) => {
            p.notice = Some(
                v.t("您已加入该单位。", "You joined the organisation.")
                    .into(),
            );
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn address_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let outcome = async {
        let address = parse_address(f.bounded("address", "邮箱或手机号", "address", 254)?)?;
        let id = app
            .instance()
            .portal_add_address(
                &app.inner.portal.notifier,
                &s.account.id,
                &address,
                v.remote(),
            )
            .await?;
        Ok::<_, PortalError>((id, address))
    }
    .await;
    match outcome {
        Ok((id, address)) => {
            let mut p = v.page(v.t("验证新地址", "Verify the new address"));
            p.nav = Some(nav(&app, &v, &s));
            p.notice = Some(match v.lang {
                Lang::Zh => format!("验证码已发送至 {}，10 分钟内有效。", address.masked()),
                Lang::En => format!(
                    "A code was sent to {}; it is valid for 10 minutes.",
                    address.masked()
                ),
            });
            p.blocks.push(Block::Form(
                Form::post(
                    "address-confirm",
                    v.at("/portal/account/address/confirm"),
                    "",
                    &session_token(&app, &s),
                )
                .hidden("channel", id)
                .field(code_input(&v))
                .submit(v.t("验证", "Verify")),
            ));
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let mut p = account_view(&app, &v, &s).await?;
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

async fn address_confirm(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(portal_error)?;
    let Some(s) = posted_session(&app, &v, &f).await? else {
        return Ok(to_login(&v));
    };
    let outcome = async {
        let channel = f.bounded("channel", "地址", "address", 64)?;
        let code = f.bounded("code", "验证码", "code", 12)?;
        app.instance()
            .portal_confirm_address(&s.account.id, channel, code)
            .await
    }
    .await;
    let mut p = account_view(&app, &v, &s).await?;
    match outcome {
        Ok(()) => {
            p.notice = Some(v.t("地址已验证。", "The address is verified.").into());
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            p.error = Some(v.message(&e));
            let (status, _) = service_failure(e)?;
            Ok(respond(status, &p, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_and_bounded() {
        let h = "a=1; ecert_session=abc ; ecert_pre=xyz";
        assert_eq!(cookie(h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(h, PRE_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(h, "missing"), None);
        let long = format!("ecert_session={}", "a".repeat(200));
        assert_eq!(cookie(&long, SESSION_COOKIE), None);
    }

    #[test]
    fn forms_keep_repeated_fields_and_refuse_floods() {
        let f =
            Fields::parse(&Bytes::from_static(b"id=a&id=b&csrf=x&name=%E5%BC%A0")).expect("form");
        assert_eq!(f.all("id"), vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(f.get("name"), "张");
        assert_eq!(f.get("missing"), "");
        let many = (0..=MAX_FIELDS)
            .map(|i| format!("f{i}=1"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(Fields::parse(&Bytes::from(many)).is_err());
        let f = Fields::parse(&Bytes::from_static(b"name=abcdef")).expect("form");
        assert!(f.bounded("name", "姓名", "name", 5).is_err());
        assert_eq!(
            f.bounded("name", "姓名", "name", 6).expect("fits"),
            "abcdef"
        );
    }
}
