//! The staff console (`/console…`, R-5.2.2): the institute's staff log in with a password and,
//! for the roles that approve, manage seals or administer, a TOTP code; what each may do is
//! decided by the service ([`crate::service::staff`]), the pages only show it. Same look, same
//! form protection and cookie rules as the customer portal (the cookie `ecert_console`,
//! `Path=/console`); Chinese first, `?lang=en`, no JavaScript.
//!
//! Built so far: login and log-out, the dashboard (who, roles, instance health, pending
//! disposals), the audit chain check for auditors and administrators.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use zeroize::Zeroizing;

use super::portal::{Block, Fields, Form, MAX_FORM, Nav, PortalPage, Table, Visit, input, respond};
use super::view::Lang;
use super::{App, Error, error};
use crate::service::portal::PortalError;
use crate::service::staff::{Actor, StaffRole};

mod drafts;

/// The console's start.
pub const CONSOLE: &str = "/console";
const COOKIE: &str = "ecert_console";
const PATH: &str = "/console";
/// Largest content JSON uploaded to issue or revise.
const MAX_UPLOAD: usize = 2 << 20;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(CONSOLE, get(dashboard))
        .route("/console/login", get(login_page).post(login_post))
        .route("/console/logout", post(logout))
        .route("/console/audit", get(audit_page))
        .route("/console/certificates", get(certificates_page))
        .route("/console/certificates/{number}", get(certificate_page))
        .route(
            "/console/certificates/{number}/page/{page}",
            get(page_preview),
        )
        .route(
            "/console/supplement",
            post(supplement_post).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route(
            "/console/issue",
            get(issue_page)
                .post(issue_post)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route(
            "/console/revise",
            post(revise_post).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route(
            "/console/confirm",
            post(drafts::confirm_post).layer(DefaultBodyLimit::max(drafts::MAX_CONFIRM)),
        )
        .route("/console/disposals", get(disposals_page))
        .route("/console/disposals/propose", post(propose_post))
        .route("/console/disposals/approve", post(approve_post))
        .route("/console/disposals/execute", post(execute_post))
        .route("/console/staff", get(staff_page).post(staff_post))
        .route("/console/api-clients", get(clients_page).post(clients_post))
        .route("/console/seals", get(seals_page).post(seals_post))
        .route(
            "/console/seals/propose",
            post(seal_propose_post).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route(
            "/console/seals/proposals/{id}/picture.png",
            get(proposal_picture),
        )
        .route(
            "/console/customers",
            get(customers_page).post(customers_post),
        )
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            error::answer_errors,
        ))
        .with_state(app)
}

fn token(app: &App, secret: &[u8]) -> String {
    ecert_store::hex(&app.instance().portal_keys().tag("console form", secret))
}

async fn session(app: &App, v: &Visit) -> Result<Option<(String, Actor, Vec<u8>)>, Error> {
    let Some(id) = v.cookie(COOKIE) else {
        return Ok(None);
    };
    match app.instance().staff_session(&id).await {
        Ok(Some((actor, secret))) => Ok(Some((id, actor, secret))),
        Ok(None) | Err(PortalError::Refused { .. }) => Ok(None),
        Err(PortalError::Service(e)) => Err(Error::from(e)),
    }
}

fn to_login(v: &Visit) -> Response {
    Redirect::to(&v.at("/console/login")).into_response()
}

fn nav(app: &App, v: &Visit, actor: &Actor, secret: &[u8]) -> Nav {
    let mut links = vec![
        (v.at(CONSOLE), v.t("概览", "Dashboard")),
        (v.at("/console/certificates"), v.t("证书", "Certificates")),
    ];
    if actor.has(StaffRole::Operator) {
        links.push((v.at("/console/issue"), v.t("签发", "Issue")));
    }
    links.push((v.at("/console/disposals"), v.t("销毁", "Disposal")));
    links.push((v.at("/console/audit"), v.t("审计", "Audit")));
    links.push((v.at("/console/seals"), v.t("印章", "Seals")));
    if actor.has(StaffRole::Admin) {
        links.push((v.at("/console/staff"), v.t("员工", "Staff")));
        links.push((v.at("/console/api-clients"), v.t("接口", "API clients")));
        links.push((v.at("/console/customers"), v.t("客户", "Customers")));
    }
    Nav::new(
        links,
        v.at("/console/logout"),
        v.t("退出", "Log out"),
        token(app, secret),
    )
}

fn login_view(v: &Visit, csrf: &str, name: &str) -> PortalPage {
    let mut p = v.page(v.t("员工登录", "Staff login"));
    p.blocks.push(Block::Form(
        Form::post("login", v.at("/console/login"), "", csrf)
            .field(
                input("text", "name", v.t("用户名", "Name"), 64, "username")
                    .value(name)
                    .f(),
            )
            .field(
                input(
                    "password",
                    "password",
                    v.t("口令", "Password"),
                    256,
                    "current-password",
                )
                .f(),
            )
            .field(
                input(
                    "text",
                    "totp",
                    v.t(
                        "动态口令（6 位，身份验证器应用）",
                        "One-time code (6 digits, authenticator app)",
                    ),
                    8,
                    "one-time-code",
                )
                .numeric()
                .optional()
                .hint(v.t(
                    "批准人、印章管理员和系统管理员必须填写。",
                    "Required for approvers, seal administrators and administrators.",
                ))
                .f(),
            )
            .submit(v.t("登录", "Log in")),
    ));
    p
}

async fn login_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    if session(&app, &v).await?.is_some() {
        return Ok(Redirect::to(&v.at(CONSOLE)).into_response());
    }
    let (csrf, set) = super::portal::pre_login(&app, &v, PATH)?;
    Ok(respond(StatusCode::OK, &login_view(&v, &csrf, ""), set))
}

async fn login_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let csrf = super::portal::check_pre(&app, &v, &f)?;
    let name = f.get("name").trim();
    let mut page = login_view(&v, &csrf, &name.chars().take(64).collect::<String>());
    if !app.inner.portal.logins.allow(v.ip()) {
        page.error = Some(
            v.t(
                "登录尝试过于频繁，请一分钟后再试",
                "Too many login attempts; wait a minute",
            )
            .into(),
        );
        return Ok(respond(StatusCode::TOO_MANY_REQUESTS, &page, None));
    }
    if f.get("password").len() > 256 || f.get("totp").len() > 8 {
        page.error = Some(v.t("表单字段过长", "A form field is too long").into());
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &page, None));
    }
    match app
        .instance()
        .staff_login(
            name,
            Zeroizing::new(f.get("password").to_owned()),
            f.get("totp"),
            v.remote(),
        )
        .await
    {
        Ok(s) => {
            let mut r = Redirect::to(&v.at(CONSOLE)).into_response();
            let c = format!("{COOKIE}={}{}", s.id, v.cookie_attrs_for(PATH));
            if let Ok(h) = HeaderValue::from_str(&c) {
                r.headers_mut().append(header::SET_COOKIE, h);
            }
            Ok(r)
        }
        Err(PortalError::Service(e)) => Err(Error::from(e)),
        Err(e) => {
            page.error = Some(v.message(&e));
            Ok(respond(super::portal::status_of(&e), &page, None))
        }
    }
}

async fn logout(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((id, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let given = ecert_store::parse_hex(f.get("csrf"));
    if !given.is_some_and(|g| {
        app.instance()
            .portal_keys()
            .check_tag("console form", &secret, &g)
    }) {
        return Err(super::portal::forbidden_form());
    }
    app.instance()
        .staff_logout(&id, &actor)
        .await
        .map_err(super::portal::portal_error)?;
    let mut r = to_login(&v);
    let c = format!("{COOKIE}=; Max-Age=0{}", v.cookie_attrs_for(PATH));
    if let Ok(h) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    Ok(r)
}

async fn dashboard(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let inst = app.instance();
    let mut p = v.page(v.t("控制台", "Console"));
    p.nav = Some(nav(&app, &v, &actor, &secret));
    let roles: Vec<String> = actor
        .roles
        .iter()
        .map(|r| match v.lang() {
            Lang::Zh => r.zh().to_owned(),
            Lang::En => r.name().to_owned(),
        })
        .collect();
    let mut rows = vec![
        (
            v.t("员工", "Staff").to_owned(),
            actor.name.trim_start_matches("staff:").to_owned(),
        ),
        (v.t("角色", "Roles").to_owned(), roles.join("、")),
    ];
    let status = inst.status_with(false).await.map_err(Error::from)?;
    for f in &status.findings {
        let mark = if f.ok { "✓" } else { "✗" };
        rows.push((format!("{mark} {}", f.what), f.text.clone()));
    }
    p.blocks.push(Block::Rows(rows));
    // Today's issuing (Beijing time), from the audit chain.
    let today = crate::service::today_beijing();
    let issued_today = inst
        .store
        .audit_search(&ecert_store::AuditQuery {
            action: Some("certificate.issue".into()),
            from_ms: day_ms(&today),
            limit: 500,
            ..Default::default()
        })
        .await
        .map_err(Error::from)?
        .len();
    let mut rows2 = vec![(
        v.t("今日签发", "Issued today").to_owned(),
        if issued_today >= 500 {
            "500+".to_owned()
        } else {
            issued_today.to_string()
        },
    )];
    // Seals whose signer or maker certificate ends within 30 days.
    let soon = ses::pki::now() + 30 * 86_400;
    for seal in inst
        .seals()
        .await
        .map_err(Error::from)?
        .iter()
        .filter(|s| s.active)
    {
        for (role, der) in [
            (
                v.t("签章人证书", "signer certificate"),
                &seal.signer_cert_der,
            ),
            (v.t("制章者证书", "maker certificate"), &seal.maker_cert_der),
        ] {
            if let Ok(cert) = ses::pki::Cert::from_der(der)
                && cert.not_after() < soon
            {
                let days = (cert.not_after() - ses::pki::now()) / 86_400;
                rows2.push((
                    v.t("即将到期", "Expiring").to_owned(),
                    format!("{} {role}: {days} {}", seal.name, v.t("天", "days")),
                ));
            }
        }
    }
    let retirements = inst
        .pending_seal_retirements()
        .await
        .map_err(super::portal::portal_error)?;
    rows2.push((
        v.t("待批准的印章停用", "Seal retirements awaiting approval")
            .to_owned(),
        retirements.len().to_string(),
    ));
    p.blocks.push(Block::Rows(rows2));
    let pending = inst
        .disposals(Some(ecert_store::DisposalState::Proposed))
        .await
        .map_err(Error::from)?;
    p.blocks.push(Block::Heading(
        v.t("待批准的销毁", "Disposals awaiting approval").into(),
    ));
    p.blocks.push(Block::Table(Table::new(
        vec![v.t("编号", "Number"), v.t("提出人", "Proposed by")],
        pending
            .iter()
            .map(|d| vec![d.number.clone(), d.proposed_by.clone()])
            .collect(),
        v.t("没有待批准的销毁。", "None."),
    )));
    Ok(respond(StatusCode::OK, &p, None))
}

#[derive(Debug, serde::Deserialize, Default)]
struct AuditFilter {
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn day_ms(date: &str) -> Option<i64> {
    let (y, m, d) = crate::domain::content::parse_date(date)?;
    // Beijing midnight (UTC+8).
    Some((crate::domain::dates::days_from_civil((y, m, d)) * 86_400 - 8 * 3600) * 1000)
}

async fn audit_page(
    State(app): State<App>,
    v: Visit,
    axum::extract::Query(q): axum::extract::Query<AuditFilter>,
) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let mut p = v.page(v.t("审计", "Audit"));
    p.nav = Some(nav(&app, &v, &actor, &secret));
    let report = match app.instance().staff_check_audit(&actor).await {
        Ok(report) => report,
        Err(PortalError::Service(e)) => return Err(Error::from(e)),
        Err(e) => {
            p.error = Some(v.message(&e));
            return Ok(respond(super::portal::status_of(&e), &p, None));
        }
    };
    let ok = report.is_ok();
    p.blocks.push(Block::Strong(
        "audit-result",
        match (ok, v.lang()) {
            (true, Lang::Zh) => format!("审计链完整：{} 条记录", report.entries),
            (true, Lang::En) => format!("The audit chain is intact: {} entries", report.entries),
            (false, Lang::Zh) => format!(
                "审计链被破坏：{} 条记录，详见 ecert audit verify",
                report.entries
            ),
            (false, Lang::En) => format!(
                "The audit chain is BROKEN: {} entries; see ecert audit verify",
                report.entries
            ),
        },
    ));
    let clip = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| x.chars().take(100).collect::<String>())
    };
    let query = ecert_store::AuditQuery {
        actor: clip(&q.actor),
        action: clip(&q.action),
        subject: clip(&q.subject),
        from_ms: clip(&q.from).as_deref().and_then(day_ms),
        to_ms: clip(&q.to)
            .as_deref()
            .and_then(day_ms)
            .map(|t| t + 86_400_000),
        limit: 100,
    };
    p.blocks.push(Block::Form(
        Form::get(
            "audit-search",
            v.at("/console/audit"),
            v.t("查询审计记录", "Search the audit log"),
            v.lang(),
        )
        .field(
            input(
                "text",
                "actor",
                v.t(
                    "操作人（如 staff:li.admin、cli）",
                    "Actor (e.g. staff:li.admin, cli)",
                ),
                100,
                "off",
            )
            .value(query.actor.clone().unwrap_or_default())
            .optional()
            .f(),
        )
        .field(
            input(
                "text",
                "action",
                v.t(
                    "操作（如 certificate.issue）",
                    "Action (e.g. certificate.issue)",
                ),
                100,
                "off",
            )
            .value(query.action.clone().unwrap_or_default())
            .optional()
            .f(),
        )
        .field(
            input(
                "text",
                "subject",
                v.t("对象（如证书编号）", "Subject (e.g. a certificate number)"),
                100,
                "off",
            )
            .value(query.subject.clone().unwrap_or_default())
            .optional()
            .f(),
        )
        .field(
            input("date", "from", v.t("日期自", "From"), 10, "off")
                .value(clip(&q.from).unwrap_or_default())
                .optional()
                .f(),
        )
        .field(
            input("date", "to", v.t("日期至", "To"), 10, "off")
                .value(clip(&q.to).unwrap_or_default())
                .optional()
                .f(),
        )
        .submit(v.t("查询", "Search")),
    ));
    let entries = app
        .instance()
        .console_audit_search(&actor, &query)
        .await
        .map_err(super::portal::portal_error)?;
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("序号", "Seq"),
            v.t("时间", "Time"),
            v.t("操作人", "Actor"),
            v.t("操作", "Action"),
            v.t("对象", "Subject"),
        ],
        entries
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    super::portal::date_time(e.at_ms),
                    e.actor.clone(),
                    e.action.clone(),
                    e.subject.clone(),
                ]
            })
            .collect(),
        v.t("没有符合条件的记录。", "No entries match."),
    )));
    Ok(respond(StatusCode::OK, &p, None))
}

// ----- forms of a logged-in staff member -----

/// The session of a POST whose form token is right; `Ok(None)`: not logged in.
async fn posted(
    app: &App,
    v: &Visit,
    csrf: &str,
) -> Result<Option<(String, Actor, Vec<u8>)>, Error> {
    let Some((id, actor, secret)) = session(app, v).await? else {
        return Ok(None);
    };
    let ok = ecert_store::parse_hex(csrf).is_some_and(|g| {
        app.instance()
            .portal_keys()
            .check_tag("console form", &secret, &g)
    });
    if !ok {
        return Err(super::portal::forbidden_form());
    }
    Ok(Some((id, actor, secret)))
}

/// A page of the console for a logged-in actor.
fn staff_page_of(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
    title: &'static str,
    title_en: &'static str,
) -> PortalPage {
    let mut p = v.page(v.t(title, title_en));
    p.nav = Some(nav(app, v, actor, secret));
    p
}

/// A refusal shown in a page, or the web's error for a failure.
fn outcome_page(v: &Visit, mut p: PortalPage, e: PortalError) -> Result<Response, Error> {
    match e {
        PortalError::Service(s) if s.is_internal() => Err(Error::from(s)),
        PortalError::Service(s) => {
            p.error = Some(s.chain());
            Ok(respond(s.status(), &p, None))
        }
        other => {
            p.error = Some(v.message(&other));
            Ok(respond(super::portal::status_of(&other), &p, None))
        }
    }
}

#[derive(Debug, serde::Deserialize, Default)]
struct CertQuery {
    number: Option<String>,
    customer: Option<String>,
    instrument: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
}

const PAGE: u32 = 50;

async fn certificates_page(
    State(app): State<App>,
    v: Visit,
    axum::extract::Query(q): axum::extract::Query<CertQuery>,
) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let mut p = staff_page_of(&app, &v, &actor, &secret, "证书", "Certificates");
    let clip = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| x.chars().take(64).collect::<String>())
    };
    let query = ecert_store::CertificateQuery {
        customer: clip(&q.customer),
        number_prefix: clip(&q.number),
        issued_from: clip(&q.from),
        issued_to: clip(&q.to),
        instrument: clip(&q.instrument),
        kind: clip(&q.kind).and_then(|k| k.parse().ok()),
        status: clip(&q.status).and_then(|s| ecert_store::CertificateStatus::parse(&s)),
        after: clip(&q.after)
            .and_then(|a| a.split_once('|').map(|(d, n)| (d.to_owned(), n.to_owned()))),
        limit: PAGE,
        ..Default::default()
    };
    let list = app
        .instance()
        .list_certificates(&query)
        .await
        .map_err(Error::from)?;
    let search = Form::get(
        "search",
        v.at("/console/certificates"),
        v.t("查询", "Search"),
        v.lang(),
    )
    .field(
        input(
            "text",
            "number",
            v.t("编号前缀", "Number prefix"),
            64,
            "off",
        )
        .value(clip(&q.number).unwrap_or_default())
        .optional()
        .f(),
    )
    .field(
        input("text", "customer", v.t("客户", "Customer"), 64, "off")
            .value(clip(&q.customer).unwrap_or_default())
            .optional()
            .f(),
    )
    .field(
        input(
            "text",
            "instrument",
            v.t("器具名称（包含）", "Instrument (contains)"),
            64,
            "off",
        )
        .value(clip(&q.instrument).unwrap_or_default())
        .optional()
        .f(),
    )
    .field(
        input(
            "text",
            "kind",
            v.t("类别代码（1–8）", "Kind code (1–8)"),
            1,
            "off",
        )
        .value(clip(&q.kind).unwrap_or_default())
        .optional()
        .numeric()
        .f(),
    )
    .field(
        input(
            "text",
            "status",
            v.t(
                "状态（valid、revised、supplemented、disposed）",
                "Status (valid, revised, supplemented, disposed)",
            ),
            16,
            "off",
        )
        .value(clip(&q.status).unwrap_or_default())
        .optional()
        .f(),
    )
    .field(
        input("date", "from", v.t("签发日期自", "Issued from"), 10, "off")
            .value(clip(&q.from).unwrap_or_default())
            .optional()
            .f(),
    )
    .field(
        input("date", "to", v.t("签发日期至", "Issued to"), 10, "off")
            .value(clip(&q.to).unwrap_or_default())
            .optional()
            .f(),
    )
    .submit(v.t("查询", "Search"));
    p.blocks.push(Block::Form(search));
    let links: Vec<(String, String)> = list
        .iter()
        .map(|c| {
            (
                v.at(&format!(
                    "/console/certificates/{}",
                    super::view::enc(&c.number)
                )),
                format!(
                    "{} · {} · {} · {} · {}",
                    c.number,
                    c.customer_name,
                    c.instrument_name,
                    c.issue_date,
                    crate::service::status_text(c.status, v.lang() == Lang::En)
                ),
            )
        })
        .collect();
    if links.is_empty() {
        p.blocks.push(Block::Small(
            v.t("没有找到证书。", "No certificates found.").into(),
        ));
    }
    p.blocks.push(Block::Links(links));
    if list.len() == PAGE as usize
        && let Some(last) = list.last()
    {
        let mut next = format!(
            "/console/certificates?after={}",
            super::view::enc(&format!("{}|{}", last.issue_date, last.number))
        );
        for (k, val) in [
            ("number", &q.number),
            ("customer", &q.customer),
            ("instrument", &q.instrument),
            ("kind", &q.kind),
            ("status", &q.status),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if let Some(x) = clip(val) {
                next.push_str(&format!("&{k}={}", super::view::enc(&x)));
            }
        }
        p.blocks
            .push(Block::Link(v.at(&next), v.t("下一页", "Next page").into()));
    }
    Ok(respond(StatusCode::OK, &p, None))
}

async fn certificate_page(
    State(app): State<App>,
    v: Visit,
    axum::extract::Path(number): axum::extract::Path<String>,
) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let inst = app.instance();
    let view = match inst.status_by_number(&number).await {
        Ok(view) => view,
        Err(crate::service::Error::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(Error::from(e)),
    };
    let c = &view.certificate;
    let mut p = staff_page_of(&app, &v, &actor, &secret, "证书", "Certificate");
    p.blocks.push(Block::Rows(vec![
        (v.t("编号", "Number").into(), c.number.clone()),
        (v.t("标识", "Identifier").into(), c.identifier.clone()),
        (v.t("客户", "Customer").into(), c.customer_name.clone()),
        (
            v.t("器具", "Instrument").into(),
            format!("{} {}", c.instrument_name, c.serial_number),
        ),
        (v.t("签发日期", "Issued").into(), c.issue_date.clone()),
        (
            v.t("状态", "Status").into(),
            crate::service::status_text(c.status, v.lang() == Lang::En).into(),
        ),
        (
            v.t("保存至", "Kept until").into(),
            c.retention_until.clone().unwrap_or_default(),
        ),
        (
            v.t("文件 SM3", "File SM3").into(),
            ecert_store::hex(&c.file_sm3),
        ),
    ]));
    for m in crate::service::status_messages(&view) {
        p.blocks.push(Block::Strong("statement", m));
    }
    if !view.supplements.is_empty() {
        p.blocks
            .push(Block::Heading(v.t("补充文件", "Supplements").into()));
        p.blocks.push(Block::Links(
            view.supplements
                .iter()
                .map(|s| (String::new(), s.number.clone()))
                .collect(),
        ));
    }
    if c.status != ecert_store::CertificateStatus::Disposed {
        // Every page (the count read from the stored file; page 1 alone when it cannot be).
        let pages = match inst.file(crate::service::StoredFile::Certificate(c)).await {
            Ok(file) => ofd::OfdFile::read(&file)
                .ok()
                .and_then(|f| f.ofd.docs.first().map(|d| d.document.pages.len()))
                .unwrap_or(1),
            Err(_) => 1,
        };
        for n in 1..=pages.clamp(1, 50) {
            p.blocks.push(Block::Image(
                format!(
                    "/console/certificates/{}/page/{n}.png",
                    super::view::enc(&c.number)
                ),
                match v.lang() {
                    Lang::Zh => format!("证书第 {n} 页，共 {pages} 页"),
                    Lang::En => format!("Page {n} of {pages}"),
                },
            ));
        }
    }
    let csrf = token(&app, &secret);
    let current = matches!(
        c.status,
        ecert_store::CertificateStatus::Valid | ecert_store::CertificateStatus::Supplemented
    );
    if actor.has(StaffRole::Operator) && current {
        p.blocks.push(supplement_form(&v, &csrf, &c.number));
        p.blocks.push(revise_form(&v, &csrf, &c.number));
    }
    if actor.has(StaffRole::Operator) || actor.has(StaffRole::Approver) {
        p.blocks.push(Block::Form(
            Form::post(
                "propose",
                v.at("/console/disposals/propose"),
                v.t("提出销毁", "Propose disposal"),
                &csrf,
            )
            .hidden("number", c.number.clone())
            .field(
                input(
                    "date",
                    "as_of",
                    v.t(
                        "截至日期（超过保存期限）",
                        "As of (past the retention period)",
                    ),
                    10,
                    "off",
                )
                .value(crate::service::today_beijing())
                .f(),
            )
            .submit(v.t("提出", "Propose"))
            .note(v.t(
                "须由另一位批准人批准后才能执行。",
                "Another person, an approver, must approve it before it is executed.",
            )),
        ));
    }
    let trail = inst.audit_trail(&c.number).await.map_err(Error::from)?;
    p.blocks
        .push(Block::Heading(v.t("审计记录", "Audit trail").into()));
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("序号", "Seq"),
            v.t("操作人", "Actor"),
            v.t("操作", "Action"),
        ],
        trail
            .iter()
            .map(|e| vec![e.seq.to_string(), e.actor.clone(), e.action.clone()])
            .collect(),
        v.t("没有记录。", "None."),
    )));
    Ok(respond(StatusCode::OK, &p, None))
}

/// The supplement form of a certificate's page: typed (reason, items, signatories) or a
/// supplement JSON; either leads to a preview first.
fn supplement_form(v: &Visit, csrf: &str, number: &str) -> Block {
    Block::Form(
        Form::post(
            "supplement",
            v.at("/console/supplement"),
            v.t("补充文件", "Supplement"),
            csrf,
        )
        .multipart()
        .hidden("number", number)
        .field(
            input("text", "reason", v.t("补充原因", "Reason"), 500, "off")
                .optional()
                .f(),
        )
        .field(
            input(
                "textarea",
                "items",
                v.t("补充内容（每行一条）", "Items (one per line)"),
                20_000,
                "off",
            )
            .textarea()
            .optional()
            .f(),
        )
        .field(
            input(
                "textarea",
                "signatories",
                v.t(
                    "签字人员（每行“角色 姓名”，如“检定员 孙八”）",
                    "Signatories (one per line: role and name)",
                ),
                2_000,
                "off",
            )
            .textarea()
            .optional()
            .f(),
        )
        .field(
            input(
                "file",
                "content",
                v.t(
                    "或上传补充内容 JSON（含结果表格时用）",
                    "Or upload a supplement JSON (for result tables)",
                ),
                0,
                "off",
            )
            .id("supplement-content")
            .optional()
            .f(),
        )
        .submit(v.t("预览补充文件", "Preview the supplement"))
        .note(v.t(
            "先预览，确认后才盖章签发。",
            "A preview comes first; it is sealed only once confirmed.",
        )),
    )
}

/// The revision form of a certificate's page: the new content JSON typed or uploaded; a
/// preview comes first.
fn revise_form(v: &Visit, csrf: &str, number: &str) -> Block {
    Block::Form(
        Form::post(
            "revise",
            v.at("/console/revise"),
            v.t("修改", "Revise"),
            csrf,
        )
        .multipart()
        .hidden("number", number)
        .field(
            input(
                "textarea",
                "content_text",
                v.t(
                    "新内容 JSON（粘贴或编辑）",
                    "New content JSON (paste or edit)",
                ),
                2_000_000,
                "off",
            )
            .textarea()
            .optional()
            .f(),
        )
        .field(
            input(
                "file",
                "content",
                v.t("或上传内容 JSON 文件", "Or upload a content JSON file"),
                0,
                "off",
            )
            .id("revise-content")
            .optional()
            .f(),
        )
        .submit(v.t("预览修改后的证书", "Preview the revision"))
        .note(v.t(
            "原证书在修改后的证书签发时作废 (R-6.4.1)。先预览，确认后才盖章签发。",
            "The original becomes void when the revision is issued (R-6.4.1). A preview comes \
             first; it is sealed only once confirmed.",
        )),
    )
}

/// The fields and the uploaded file of a multipart form (the file at most [`MAX_UPLOAD`]).
async fn multipart_form(
    m: axum::extract::Multipart,
) -> Result<(std::collections::HashMap<String, String>, Option<Vec<u8>>), PortalError> {
    let (fields, files) = multipart_files(m).await?;
    Ok((fields, files.into_iter().next().map(|(_, b)| b)))
}

/// The fields and every uploaded file (`content`, with its file name) of a multipart form;
/// at most [`MAX_BATCH`] files, [`MAX_UPLOAD`] in all.
async fn multipart_files(
    mut m: axum::extract::Multipart,
) -> Result<
    (
        std::collections::HashMap<String, String>,
        Vec<(String, Vec<u8>)>,
    ),
    PortalError,
> {
    let bad = || {
        crate::service::portal::bad_field(
            "上传的表单无法读取（过大或格式错误，内容 JSON 最大 2 MiB）",
            "The upload cannot be read (too large or malformed; a content JSON is at most 2 MiB)",
        )
    };
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    while let Some(field) = m.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "content" {
            if files.len() >= MAX_BATCH {
                return Err(crate::service::portal::bad_field(
                    format!("一次最多上传 {MAX_BATCH} 个文件"),
                    format!("At most {MAX_BATCH} files at a time"),
                ));
            }
            let file_name: String = field
                .file_name()
                .unwrap_or("content.json")
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
            let bytes = field.bytes().await.map_err(|_| bad())?.to_vec();
            if !bytes.is_empty() {
                files.push((file_name, bytes));
            }
        } else if fields.len() < 10 {
            // (the body limit bounds a text as it bounds the files)
            let text = field.text().await.map_err(|_| bad())?;
            fields.insert(name, text);
        }
    }
    Ok((fields, files))
}

/// Most files in one batch upload.
const MAX_BATCH: usize = 100;

fn issue_form(v: &Visit, csrf: &str) -> Block {
    Block::Form(
        Form::post(
            "issue",
            v.at("/console/issue"),
            v.t("上传内容 JSON 签发", "Issue from a content JSON"),
            csrf,
        )
        .multipart()
        .field(
            input(
                "file",
                "content",
                v.t(
                    "内容 JSON（docs/content.md；选择多个文件即批量签发）",
                    "Content JSON (docs/content.md; several files issue a batch)",
                ),
                0,
                "off",
            )
            .multiple()
            .f(),
        )
        .submit(v.t("预览并签发", "Preview and issue"))
        .note(v.t(
            "一个文件：先预览，确认后才盖章签发。多个文件：逐个签发，列出每个的结果。",
            "One file: a preview first, sealed once confirmed. Several files: each issued in \
             turn, with its outcome listed.",
        )),
    )
}

async fn issue_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let mut p = staff_page_of(&app, &v, &actor, &secret, "签发", "Issue");
    p.blocks.push(issue_form(&v, &token(&app, &secret)));
    Ok(respond(StatusCode::OK, &p, None))
}

fn issued_page(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
    i: &crate::service::Issued,
) -> PortalPage {
    let mut p = staff_page_of(app, v, actor, secret, "已签发", "Issued");
    p.notice = Some(match v.lang() {
        Lang::Zh => format!(
            "已签发 {}（{} 页），已盖章并自检通过。",
            i.record.number, i.pages
        ),
        Lang::En => format!(
            "Issued {} ({} pages), sealed and self-checked.",
            i.record.number, i.pages
        ),
    });
    p.blocks.push(Block::Rows(vec![
        (v.t("编号", "Number").into(), i.record.number.clone()),
        (v.t("标识", "Identifier").into(), i.identifier.to_string()),
        (v.t("校验码", "Check code").into(), i.check_code.to_string()),
        (
            v.t("验证网址", "Verification URL").into(),
            i.verify_url.clone(),
        ),
    ]));
    p.blocks.push(Block::Link(
        v.at(&format!(
            "/console/certificates/{}",
            super::view::enc(&i.record.number)
        )),
        v.t("查看证书", "Open the certificate").into(),
    ));
    p
}

async fn issue_post(
    State(app): State<App>,
    v: Visit,
    m: axum::extract::Multipart,
) -> Result<Response, Error> {
    let (fields, files) = multipart_files(m)
        .await
        .map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) =
        posted(&app, &v, fields.get("csrf").map_or("", String::as_str)).await?
    else {
        return Ok(to_login(&v));
    };
    let mut p = staff_page_of(&app, &v, &actor, &secret, "签发", "Issue");
    p.blocks.push(issue_form(&v, &token(&app, &secret)));
    if files.is_empty() {
        p.error = Some(
            v.t("请选择内容 JSON 文件", "Choose a content JSON file")
                .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    }
    if files.len() == 1 {
        let Some(json) = files
            .into_iter()
            .next()
            .and_then(|(_, f)| String::from_utf8(f).ok())
        else {
            p.error = Some(
                v.t(
                    "请选择一个 UTF-8 编码的内容 JSON 文件",
                    "Choose a content JSON file (UTF-8)",
                )
                .into(),
            );
            return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
        };
        return drafts::draft_answer(&app, &v, &actor, &secret, drafts::Purpose::Issue, "", json)
            .await;
    }
    // A batch: each file issued in turn; the page lists each one's outcome.
    let total = files.len();
    let mut rows = Vec::with_capacity(total);
    let mut ok = 0usize;
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        let outcome = match String::from_utf8(bytes) {
            Err(_) => Err(v.t("不是 UTF-8 文本", "not UTF-8 text").to_owned()),
            Ok(json) => match app.instance().issue(&json, &actor).await {
                Ok(issued) => Ok(issued.record.number),
                Err(e) if e.is_internal() => return Err(Error::from(e)),
                Err(e) => Err(e.chain()),
            },
        };
        let (number, result) = match outcome {
            Ok(n) => {
                ok += 1;
                (n, v.t("已签发", "issued").to_owned())
            }
            Err(why) => (String::new(), why),
        };
        rows.push(vec![format!("{}/{total}", i + 1), name, number, result]);
    }
    app.invalidate();
    p.notice = Some(match v.lang() {
        Lang::Zh => format!("批量签发完成：{ok}/{total} 份成功。"),
        Lang::En => format!("Batch done: {ok} of {total} issued."),
    });
    p.blocks.insert(
        0,
        Block::Table(Table::new(
            vec![
                v.t("进度", "Progress"),
                v.t("文件", "File"),
                v.t("编号", "Number"),
                v.t("结果", "Result"),
            ],
            rows,
            "",
        )),
    );
    let status = if ok == total {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok(respond(status, &p, None))
}

async fn revise_post(
    State(app): State<App>,
    v: Visit,
    m: axum::extract::Multipart,
) -> Result<Response, Error> {
    let (fields, file) = multipart_form(m)
        .await
        .map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) =
        posted(&app, &v, fields.get("csrf").map_or("", String::as_str)).await?
    else {
        return Ok(to_login(&v));
    };
    let number = fields.get("number").cloned().unwrap_or_default();
    let typed = fields
        .get("content_text")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let Some(json) = file.and_then(|f| String::from_utf8(f).ok()).or(typed) else {
        let mut p = staff_page_of(&app, &v, &actor, &secret, "修改", "Revise");
        p.error = Some(
            v.t(
                "请选择一个 UTF-8 编码的内容 JSON 文件，或在文本框中填写内容 JSON",
                "Choose a content JSON file (UTF-8), or type the content JSON in the box",
            )
            .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    };
    drafts::draft_answer(
        &app,
        &v,
        &actor,
        &secret,
        drafts::Purpose::Revise,
        &number,
        json,
    )
    .await
}

async fn disposals_view(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
) -> Result<PortalPage, Error> {
    let mut p = staff_page_of(app, v, actor, secret, "销毁", "Disposal");
    let all = app.instance().disposals(None).await.map_err(Error::from)?;
    let csrf = token(app, secret);
    if all.is_empty() {
        p.blocks.push(Block::Small(
            v.t("没有销毁提议。", "No disposal proposals.").into(),
        ));
    }
    for d in &all {
        p.blocks.push(Block::Rows(vec![
            (v.t("编号", "Number").into(), d.number.clone()),
            (v.t("状态", "State").into(), format!("{:?}", d.state)),
            (v.t("提出人", "Proposed by").into(), d.proposed_by.clone()),
            (
                v.t("批准人", "Approved by").into(),
                d.approved_by.clone().unwrap_or_default(),
            ),
        ]));
        if actor.has(StaffRole::Approver) {
            let (action, label, id) = match d.state {
                ecert_store::DisposalState::Proposed => (
                    "/console/disposals/approve",
                    v.t("批准", "Approve"),
                    "approve",
                ),
                ecert_store::DisposalState::Approved => (
                    "/console/disposals/execute",
                    v.t("执行销毁", "Execute"),
                    "execute",
                ),
                _ => continue,
            };
            p.blocks.push(Block::Form(
                Form::post(id, v.at(action), "", &csrf)
                    .hidden("number", d.number.clone())
                    .submit(format!("{label} {}", d.number)),
            ));
        }
    }
    Ok(p)
}

async fn disposals_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let p = disposals_view(&app, &v, &actor, &secret).await?;
    Ok(respond(StatusCode::OK, &p, None))
}

async fn disposal_action(
    app: App,
    v: Visit,
    body: Bytes,
    which: &'static str,
) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let number = f.get("number").chars().take(100).collect::<String>();
    let inst = app.instance();
    let done = match which {
        "propose" => {
            inst.console_propose_disposal(&actor, &number, f.get("as_of"))
                .await
        }
        "approve" => inst
            .approve_disposal(&number, &actor)
            .await
            .map_err(PortalError::from),
        _ => inst.console_execute_disposal(&actor, &number).await,
    };
    let mut p = disposals_view(&app, &v, &actor, &secret).await?;
    match done {
        Ok(d) => {
            app.invalidate();
            p.notice = Some(format!("{} {:?}", d.number, d.state));
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => outcome_page(&v, p, e),
    }
}

async fn propose_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    disposal_action(app, v, body, "propose").await
}

async fn approve_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    disposal_action(app, v, body, "approve").await
}

async fn execute_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    disposal_action(app, v, body, "execute").await
}

fn role_box(role: StaffRole) -> super::portal::Field {
    let id = match role {
        StaffRole::Operator => "role-operator",
        StaffRole::Approver => "role-approver",
        StaffRole::SealAdmin => "role-seal_admin",
        StaffRole::Auditor => "role-auditor",
        StaffRole::Admin => "role-admin",
    };
    input(
        "checkbox",
        "role",
        format!("{} {}", role.zh(), role.name()),
        0,
        "off",
    )
    .value(role.name())
    .optional()
    .id(id)
    .f()
}

async fn staff_view(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
) -> Result<PortalPage, Error> {
    let mut p = staff_page_of(app, v, actor, secret, "员工", "Staff");
    let staff = app
        .instance()
        .staff_accounts(actor)
        .await
        .map_err(super::portal::portal_error)?;
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("用户名", "Name"),
            v.t("角色", "Roles"),
            v.t("动态口令", "TOTP"),
        ],
        staff
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.roles.join(", "),
                    if s.has_totp {
                        "✓".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect(),
        v.t("没有员工账户。", "No staff accounts."),
    )));
    let mut form = Form::post(
        "staff-add",
        v.at("/console/staff"),
        v.t("添加员工", "Add a staff member"),
        &token(app, secret),
    )
    .field(input("text", "name", v.t("用户名", "Name"), 64, "off").f())
    .field(
        input(
            "password",
            "password",
            v.t(
                "初始口令（至少 10 个字符）",
                "Initial password (10 characters or more)",
            ),
            256,
            "new-password",
        )
        .f(),
    );
    for r in StaffRole::ALL {
        form = form.field(role_box(r));
    }
    if actor.has(StaffRole::Admin) {
        p.blocks.push(Block::Form(form.submit(v.t("添加", "Add"))));
    }
    Ok(p)
}

async fn staff_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let page = staff_view(&app, &v, &actor, &secret).await;
    admin_or_auditor_page(&app, &v, &actor, &secret, ("员工", "Staff"), page)
}

async fn staff_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let roles: Vec<StaffRole> = f
        .all("role")
        .iter()
        .filter_map(|r| StaffRole::parse(r))
        .collect();
    let done = app
        .instance()
        .add_staff(
            f.get("name").trim(),
            &roles,
            Zeroizing::new(f.get("password").chars().take(256).collect()),
            &actor,
        )
        .await;
    match done {
        Ok(made) => {
            let mut p = staff_view(&app, &v, &actor, &secret).await?;
            p.notice = Some(format!("{} {}", v.t("已添加", "Added"), made.account.name));
            if let (Some(secret), Some(uri)) = (made.totp_secret, made.totp_uri) {
                p.blocks.insert(
                    0,
                    Block::Strong(
                        "totp-secret",
                        format!(
                            "{}{secret}",
                            v.t(
                                "动态口令密钥（仅显示这一次）：",
                                "TOTP secret (shown only now): "
                            )
                        ),
                    ),
                );
                p.blocks.insert(1, Block::Small(uri));
            }
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let p = if actor.has(StaffRole::Admin) {
                staff_view(&app, &v, &actor, &secret).await?
            } else {
                staff_page_of(&app, &v, &actor, &secret, "员工", "Staff")
            };
            outcome_page(&v, p, e)
        }
    }
}

async fn clients_view(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
) -> Result<PortalPage, Error> {
    let mut p = staff_page_of(app, v, actor, secret, "接口客户端", "API clients");
    let clients = app
        .instance()
        .console_api_clients(actor)
        .await
        .map_err(super::portal::portal_error)?;
    let csrf = token(app, secret);
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("名称", "Name"),
            v.t("认证", "Credential"),
            v.t("状态", "State"),
        ],
        clients
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    if c.has_secret {
                        "HMAC-SM3".into()
                    } else {
                        "SM2".into()
                    },
                    if c.enabled {
                        v.t("启用", "enabled").into()
                    } else {
                        v.t("停用", "disabled").into()
                    },
                ]
            })
            .collect(),
        v.t("没有接口客户端。", "No API clients."),
    )));
    if actor.has(StaffRole::Admin) {
        for c in &clients {
            let (label, to) = if c.enabled {
                (v.t("停用", "Disable"), "disable")
            } else {
                (v.t("启用", "Enable"), "enable")
            };
            p.blocks.push(Block::Form(
                Form::post("client-switch", v.at("/console/api-clients"), "", &csrf)
                    .hidden("name", c.name.clone())
                    .hidden("op", to)
                    .submit(format!("{label} {}", c.name)),
            ));
        }
        p.blocks.push(Block::Form(
            Form::post(
                "client-add",
                v.at("/console/api-clients"),
                v.t(
                    "添加接口客户端（HMAC-SM3 密钥只显示一次）",
                    "Add an API client (its HMAC-SM3 secret is shown once)",
                ),
                &csrf,
            )
            .hidden("op", "add")
            .field(input("text", "name", v.t("名称", "Name"), 64, "off").f())
            .submit(v.t("添加", "Add")),
        ));
    }
    Ok(p)
}

async fn clients_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let page = clients_view(&app, &v, &actor, &secret).await;
    admin_or_auditor_page(
        &app,
        &v,
        &actor,
        &secret,
        ("接口客户端", "API clients"),
        page,
    )
}

async fn clients_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let name = f.get("name").trim().chars().take(64).collect::<String>();
    let inst = app.instance();
    let done = match f.get("op") {
        "add" => inst
            .add_api_client_with_new_secret(&name, &actor)
            .await
            .map(|(c, s)| (c, Some(s))),
        op => inst
            .set_api_client_enabled(&name, op != "disable", &actor)
            .await
            .map(|c| (c, None)),
    }
    .map_err(PortalError::from);
    match done {
        Ok((client, new_secret)) => {
            let mut p = clients_view(&app, &v, &actor, &secret).await?;
            p.notice = Some(format!("{} {}", v.t("已更新", "Updated"), client.name));
            if let Some(s) = new_secret {
                p.blocks.insert(
                    0,
                    Block::Strong(
                        "client-secret",
                        format!(
                            "{}{}",
                            v.t("密钥（只显示这一次）：", "Secret (shown only now): "),
                            s.as_str()
                        ),
                    ),
                );
            }
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let p = staff_page_of(&app, &v, &actor, &secret, "接口客户端", "API clients");
            outcome_page(&v, p, e)
        }
    }
}

async fn seals_view(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
) -> Result<PortalPage, Error> {
    let mut p = staff_page_of(app, v, actor, secret, "印章", "Seals");
    let seals = app.instance().seals().await.map_err(Error::from)?;
    let pending = app
        .instance()
        .pending_seal_retirements()
        .await
        .map_err(super::portal::portal_error)?;
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("名称", "Name"),
            v.t("类型", "Kind"),
            v.t("状态", "State"),
            v.t("创建", "Created"),
            v.t("签章人证书有效至", "Signer certificate until"),
        ],
        seals
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.kind.clone(),
                    if s.active {
                        v.t("使用中", "in use").into()
                    } else {
                        v.t("已停用", "retired").into()
                    },
                    super::portal::date_time(s.created_at_ms),
                    ses::pki::Cert::from_der(&s.signer_cert_der)
                        .map(|c| super::portal::date_time(c.not_after().saturating_mul(1000)))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
        v.t("没有印章。", "No seals."),
    )));
    let csrf = token(app, secret);
    for s in seals.iter().filter(|s| s.active) {
        match pending.iter().find(|r| r.seal_id == s.id) {
            Some(r) if actor.has(StaffRole::Approver) => {
                p.blocks.push(Block::Form(
                    Form::post(
                        "seal-approve",
                        v.at("/console/seals"),
                        format!(
                            "{}{}（{}）",
                            v.t("停用提议：", "Retirement proposed: "),
                            s.name,
                            r.proposed_by
                        ),
                        &csrf,
                    )
                    .hidden("op", "approve")
                    .hidden("seal", s.id.clone())
                    .submit(v.t("批准停用", "Approve the retirement")),
                ));
            }
            Some(r) => p.blocks.push(Block::Small(format!(
                "{}{}（{}）",
                v.t("停用提议待批准：", "Retirement awaiting approval: "),
                s.name,
                r.proposed_by
            ))),
            None if actor.has(StaffRole::SealAdmin) || actor.has(StaffRole::Approver) => {
                p.blocks.push(Block::Form(
                    Form::post("seal-propose", v.at("/console/seals"), "", &csrf)
                        .hidden("op", "propose")
                        .hidden("seal", s.id.clone())
                        .submit(format!(
                            "{} {}",
                            v.t("提出停用", "Propose retiring"),
                            s.name
                        )),
                ));
            }
            None => {}
        }
    }
    let proposals = app
        .instance()
        .pending_seal_proposals()
        .await
        .map_err(super::portal::portal_error)?;
    for pr in &proposals {
        p.blocks.push(Block::Heading(format!(
            "{}{}（{}）",
            v.t("待批准的新印章：", "New seal awaiting approval: "),
            pr.title,
            pr.proposed_by
        )));
        p.blocks.push(Block::Image(
            format!("/console/seals/proposals/{}/picture.png", pr.id),
            pr.title.clone(),
        ));
        if let Ok(set) = app.instance().seal_proposal_settings(&pr.id).await {
            p.blocks.push(Block::Rows(vec![
                (
                    v.t("图片", "Picture").into(),
                    if set.picture.is_some() {
                        v.t("上传的图片", "uploaded")
                    } else {
                        v.t("按标准绘制的圆形印章", "the drawn round seal")
                    }
                    .into(),
                ),
                (
                    v.t("尺寸", "Size").into(),
                    format!("{} mm × {} mm", set.size_mm, set.size_mm),
                ),
                (
                    v.t("有效期", "Validity").into(),
                    match v.lang() {
                        Lang::Zh => format!("自制作起 {} 天", set.valid_days),
                        Lang::En => format!("{} days from its making", set.valid_days),
                    },
                ),
            ]));
        }
        if actor.has(StaffRole::Approver) {
            p.blocks.push(Block::Form(
                Form::post("seal-create-approve", v.at("/console/seals"), "", &csrf)
                    .hidden("op", "approve_new")
                    .hidden("seal", pr.id.clone())
                    .submit(format!(
                        "{} {}",
                        v.t("批准制作", "Approve making"),
                        pr.title
                    )),
            ));
        }
    }
    if actor.has(StaffRole::SealAdmin) {
        let file = |name: &'static str, zh: &'static str, en: &'static str| {
            input("file", name, v.t(zh, en), 0, "off").optional().f()
        };
        p.blocks.push(Block::Form(
            Form::post(
                "seal-propose",
                v.at("/console/seals/propose"),
                v.t(
                    "制作新印章（须另一位批准人批准）",
                    "Make a new seal (another approver approves)",
                ),
                &csrf,
            )
            .multipart()
            .field(
                input(
                    "text",
                    "title",
                    v.t(
                        "印章名称（须写明类别，如“校准电子证书专用章”）",
                        "Title (must name its kind, e.g. 校准电子证书专用章)",
                    ),
                    100,
                    "off",
                )
                .f(),
            )
            .field(file("signer_p12", "签章人 PKCS#12", "Signer PKCS#12"))
            .field(file(
                "signer_key",
                "或：签章人私钥（PEM）",
                "or: signer key (PEM)",
            ))
            .field(file("signer_cert", "签章人证书", "Signer certificate"))
            .field(
                input(
                    "password",
                    "signer_password",
                    v.t(
                        "签章人 PKCS#12 或私钥的密码",
                        "Signer PKCS#12 or key password",
                    ),
                    256,
                    "off",
                )
                .optional()
                .f(),
            )
            .field(file(
                "picture",
                "印章图片（PNG，可选；不上传则按标准绘制）",
                "Seal picture (PNG, optional; else the standard round seal is drawn)",
            ))
            .field(
                input(
                    "number",
                    "size_mm",
                    v.t("尺寸（毫米，20–60）", "Size (mm, 20–60)"),
                    2,
                    "off",
                )
                .value(crate::service::staff::DEFAULT_SEAL_MM.to_string())
                .numeric()
                .f(),
            )
            .field(
                input(
                    "number",
                    "valid_days",
                    v.t(
                        "有效期（天，不超过证书有效期）",
                        "Validity (days, within the certificates')",
                    ),
                    4,
                    "off",
                )
                .value(crate::service::staff::DEFAULT_SEAL_DAYS.to_string())
                .numeric()
                .f(),
            )
            .field(file("maker_p12", "制章者 PKCS#12", "Seal maker PKCS#12"))
            .field(file(
                "maker_key",
                "或：制章者私钥（PEM）",
                "or: maker key (PEM)",
            ))
            .field(file("maker_cert", "制章者证书", "Maker certificate"))
            .field(
                input(
                    "password",
                    "maker_password",
                    v.t(
                        "制章者 PKCS#12 或私钥的密码",
                        "Maker PKCS#12 or key password",
                    ),
                    256,
                    "off",
                )
                .optional()
                .f(),
            )
            .submit(v.t("提交待批准", "Submit for approval")),
        ));
    }
    p.blocks.push(Block::Small(
        v.t(
            "制作和停用印章都须两人完成：一人提出，另一位批准人批准；密钥材料在批准前加密保存，批准后清除。",
            "Making and retiring a seal take two persons: one proposes, another approver approves; the key material is kept encrypted until then and wiped afterwards.",
        )
        .into(),
    ));
    Ok(p)
}

async fn seals_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let p = seals_view(&app, &v, &actor, &secret).await?;
    Ok(respond(StatusCode::OK, &p, None))
}

async fn seals_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let seal = f.get("seal").chars().take(64).collect::<String>();
    let done = match f.get("op") {
        "propose" => {
            app.instance()
                .console_propose_seal_retirement(&actor, &seal)
                .await
        }
        "approve_new" => app
            .instance()
            .console_approve_seal(&actor, &seal)
            .await
            .map(|_| ()),
        _ => {
            app.instance()
                .console_approve_seal_retirement(&actor, &seal)
                .await
        }
    };
    let mut p = seals_view(&app, &v, &actor, &secret).await?;
    match done {
        Ok(()) => {
            p.notice = Some(v.t("已记录。", "Recorded.").into());
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => outcome_page(&v, p, e),
    }
}

async fn customers_view(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
) -> Result<PortalPage, Error> {
    let mut p = staff_page_of(app, v, actor, secret, "客户账户", "Customer accounts");
    let list = app
        .instance()
        .console_customers(actor)
        .await
        .map_err(super::portal::portal_error)?;
    let now = super::api::unix_now().saturating_mul(1000);
    let csrf = token(app, secret);
    p.blocks.push(Block::Table(Table::new(
        vec![
            v.t("姓名", "Name"),
            v.t("地址", "Addresses"),
            v.t("状态", "State"),
            v.t("注册", "Registered"),
        ],
        list.iter()
            .map(|(a, chans)| {
                let locked = a.locked_until_ms.is_some_and(|t| t > now);
                vec![
                    a.name.clone().unwrap_or_default(),
                    chans
                        .iter()
                        .map(|(c, verified)| {
                            format!("{}{}", c.as_str(), if *verified { " ✓" } else { "" })
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    match (a.state, locked) {
                        (_, true) => v.t("已锁定", "locked").into(),
                        (ecert_store::AccountState::Active, false) => v.t("正常", "active").into(),
                        (ecert_store::AccountState::Pending, false) => {
                            v.t("待验证", "pending").into()
                        }
                        (ecert_store::AccountState::Closed, false) => {
                            v.t("已关闭", "closed").into()
                        }
                    },
                    super::portal::date_time(a.created_at_ms),
                ]
            })
            .collect(),
        v.t("没有客户账户。", "No customer accounts."),
    )));
    if actor.has(StaffRole::Admin) {
        for (a, chans) in &list {
            let locked = a.locked_until_ms.is_some_and(|t| t > now);
            let who = chans
                .first()
                .map_or_else(|| a.id.clone(), |(c, _)| c.as_str().to_owned());
            let (op, label) = if locked {
                ("unlock", v.t("解锁", "Unlock"))
            } else {
                ("lock", v.t("锁定", "Lock"))
            };
            p.blocks.push(Block::Form(
                Form::post("customer-lock", v.at("/console/customers"), "", &csrf)
                    .hidden("op", op)
                    .hidden("account", a.id.clone())
                    .submit(format!("{label} {who}")),
            ));
        }
        p.blocks.push(Block::Form(
            Form::post(
                "customer-bind",
                v.at("/console/customers"),
                v.t("绑定证书与客户", "Bind a certificate to its customer"),
                &csrf,
            )
            .hidden("op", "bind")
            .field(
                input(
                    "text",
                    "number",
                    v.t("证书编号", "Certificate No."),
                    100,
                    "off",
                )
                .f(),
            )
            .field(
                input(
                    "text",
                    "email",
                    v.t("客户邮箱", "Customer e-mail"),
                    254,
                    "off",
                )
                .optional()
                .f(),
            )
            .field(
                input(
                    "text",
                    "mobile",
                    v.t("客户手机", "Customer mobile"),
                    32,
                    "off",
                )
                .optional()
                .f(),
            )
            .field(
                input(
                    "text",
                    "uscc",
                    v.t("统一社会信用代码", "Credit code"),
                    18,
                    "off",
                )
                .optional()
                .f(),
            )
            .submit(v.t("绑定", "Bind"))
            .note(v.t(
                "填写的字段替换原有的，未填写的保留。",
                "The fields given replace the stored ones; the others are kept.",
            )),
        ));
    }
    Ok(p)
}

async fn customers_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let page = customers_view(&app, &v, &actor, &secret).await;
    admin_or_auditor_page(
        &app,
        &v,
        &actor,
        &secret,
        ("客户账户", "Customer accounts"),
        page,
    )
}

async fn customers_post(State(app): State<App>, v: Visit, body: Bytes) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let inst = app.instance();
    let opt = |k: &str| {
        Some(f.get(k).trim().chars().take(254).collect::<String>()).filter(|s| !s.is_empty())
    };
    let done = match f.get("op") {
        "bind" => inst
            .bind_customer(
                f.get("number").trim(),
                crate::service::BindRequest {
                    uscc: opt("uscc"),
                    mobile: opt("mobile"),
                    email: opt("email"),
                    download_password: None,
                },
                &actor,
            )
            .await
            .map(|_| ())
            .map_err(PortalError::from),
        op => {
            inst.console_lock_customer(&actor, f.get("account").trim(), op == "lock")
                .await
        }
    };
    match done {
        Ok(()) => {
            let mut p = customers_view(&app, &v, &actor, &secret).await?;
            p.notice = Some(v.t("已记录。", "Recorded.").into());
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => {
            let p = staff_page_of(&app, &v, &actor, &secret, "客户账户", "Customer accounts");
            outcome_page(&v, p, e)
        }
    }
}

async fn page_preview(
    State(app): State<App>,
    v: Visit,
    axum::extract::Path((number, page)): axum::extract::Path<(String, String)>,
) -> Result<Response, Error> {
    if session(&app, &v).await?.is_none() {
        return Ok(to_login(&v));
    }
    let n = super::pages::page_number(&page).ok_or_else(Error::not_found)?;
    let view = match app.instance().status_by_number(&number).await {
        Ok(view) => view,
        Err(crate::service::Error::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(Error::from(e)),
    };
    let c = &view.certificate;
    if c.status == ecert_store::CertificateStatus::Disposed {
        return Err(Error::not_found());
    }
    let mark =
        (c.status == ecert_store::CertificateStatus::Revised).then_some(crate::preview::Mark::Void);
    let png = super::pages::render_preview(
        &app,
        crate::service::StoredFile::Certificate(c),
        c.file_sm3,
        n,
        mark,
    )
    .await?;
    let mut r = super::view::bytes_response("image/png", png);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

async fn supplement_post(
    State(app): State<App>,
    v: Visit,
    m: axum::extract::Multipart,
) -> Result<Response, Error> {
    let (fields, file) = multipart_form(m)
        .await
        .map_err(super::portal::portal_error)?;
    let Some((_, actor, secret)) =
        posted(&app, &v, fields.get("csrf").map_or("", String::as_str)).await?
    else {
        return Ok(to_login(&v));
    };
    let number = fields.get("number").cloned().unwrap_or_default();
    let typed = drafts::supplement_from_form(&fields);
    let Some(json) = file.and_then(|f| String::from_utf8(f).ok()).or(typed) else {
        let mut p = staff_page_of(&app, &v, &actor, &secret, "补充文件", "Supplement");
        p.error = Some(
            v.t(
                "请填写补充原因与内容，或选择一个 UTF-8 编码的补充内容 JSON 文件",
                "Type the reason and the items, or choose a supplement JSON file (UTF-8)",
            )
            .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    };
    drafts::draft_answer(
        &app,
        &v,
        &actor,
        &secret,
        drafts::Purpose::Supplement,
        &number,
        json,
    )
    .await
}

/// The page after a supplement was sealed and stored.
fn supplemented_page(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
    s: &crate::service::Supplemented,
) -> PortalPage {
    let number = &s.original.number;
    let mut p = staff_page_of(app, v, actor, secret, "补充文件", "Supplement");
    p.notice = Some(match v.lang() {
        Lang::Zh => format!("已签发补充文件 {}（对 {} 的补充）", s.record.number, number),
        Lang::En => format!("Issued the supplement {} to {}", s.record.number, number),
    });
    p.blocks.push(Block::Rows(vec![
        (v.t("编号", "Number").into(), s.record.number.clone()),
        (
            v.t("验证网址", "Verification URL").into(),
            s.verify_url.clone(),
        ),
    ]));
    p.blocks.push(Block::Link(
        v.at(&format!(
            "/console/certificates/{}",
            super::view::enc(number)
        )),
        v.t("返回原证书", "Back to the certificate").into(),
    ));
    p
}

/// Every field of a multipart form as bytes (files and texts), at most 20 fields.
async fn multipart_all(
    mut m: axum::extract::Multipart,
) -> Result<std::collections::HashMap<String, Vec<u8>>, PortalError> {
    let bad = || {
        crate::service::portal::bad_field(
            "上传的表单无法读取（过大或格式错误）",
            "The upload cannot be read (too large or malformed)",
        )
    };
    let mut out = std::collections::HashMap::new();
    while let Some(field) = m.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| bad())?.to_vec();
        if out.len() >= 20 {
            return Err(bad());
        }
        if !bytes.is_empty() {
            out.insert(name, bytes);
        }
    }
    Ok(out)
}

async fn seal_propose_post(
    State(app): State<App>,
    v: Visit,
    m: axum::extract::Multipart,
) -> Result<Response, Error> {
    let f = multipart_all(m)
        .await
        .map_err(super::portal::portal_error)?;
    let text = |k: &str| {
        f.get(k)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
            .to_owned()
    };
    let Some((_, actor, secret)) = posted(&app, &v, &text("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let number = |k: &str, default: u32| {
        let t = text(k);
        if t.trim().is_empty() {
            Some(default)
        } else {
            t.trim().parse::<u32>().ok()
        }
    };
    use crate::service::staff::{DEFAULT_SEAL_DAYS, DEFAULT_SEAL_MM, SealSettings};
    let (Some(size_mm), Some(valid_days)) = (
        number("size_mm", DEFAULT_SEAL_MM),
        number("valid_days", DEFAULT_SEAL_DAYS),
    ) else {
        let mut p = seals_view(&app, &v, &actor, &secret).await?;
        p.error = Some(
            v.t(
                "尺寸和有效期须为整数",
                "The size and the validity must be whole numbers",
            )
            .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    };
    let settings = SealSettings {
        picture: f.get("picture").cloned(),
        size_mm,
        valid_days,
    };
    let signer_pw = Zeroizing::new(text("signer_password"));
    let maker_pw = Zeroizing::new(text("maker_password"));
    fn material<'a>(
        f: &'a std::collections::HashMap<String, Vec<u8>>,
        which: &str,
        pw: &'a str,
    ) -> crate::service::KeyMaterial<'a> {
        crate::service::KeyMaterial {
            p12: f.get(&format!("{which}_p12")).map(Vec::as_slice),
            key_pem: f.get(&format!("{which}_key")).map(Vec::as_slice),
            cert: f.get(&format!("{which}_cert")).map(Vec::as_slice),
            password: (!pw.is_empty()).then_some(pw),
        }
    }
    let done = app
        .instance()
        .console_propose_seal(
            &actor,
            &text("title"),
            &material(&f, "signer", &signer_pw),
            &material(&f, "maker", &maker_pw),
            &settings,
        )
        .await;
    let mut p = seals_view(&app, &v, &actor, &secret).await?;
    match done {
        Ok(pr) => {
            p.notice = Some(format!(
                "{}{}",
                v.t(
                    "已提交，待另一位批准人批准：",
                    "Submitted; another approver must approve: "
                ),
                pr.title
            ));
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(e) => outcome_page(&v, p, e),
    }
}

/// The picture a proposed seal will have (the round red seal of the institute and kind).
async fn proposal_picture(
    State(app): State<App>,
    v: Visit,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, Error> {
    if session(&app, &v).await?.is_none() {
        return Ok(to_login(&v));
    }
    let pr = app
        .instance()
        .pending_seal_proposal(&id)
        .await
        .map_err(super::portal::portal_error)?
        .ok_or_else(Error::not_found)?;
    let kind = crate::seal_image::check_title(&pr.title).map_err(|_| Error::not_found())?;
    let uploaded = app
        .instance()
        .seal_proposal_settings(&pr.id)
        .await
        .map_err(super::portal::portal_error)?
        .picture;
    let png = match uploaded {
        Some(png) => png,
        None => {
            let design =
                crate::seal_image::SealDesign::new(&app.instance().config.institute.name, kind);
            tokio::task::spawn_blocking(move || design.png(crate::service::SEAL_FONT, 6.0))
                .await
                .map_err(|e| Error::internal_from("seal picture", &e))?
                .map_err(|e| Error::internal_from("seal picture", &e))?
        }
    };
    let mut r = super::view::bytes_response("image/png", Bytes::from(png));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// A page only administrators and auditors read: the page, or the refusal in the console's
/// layout (the service already audited it).
fn admin_or_auditor_page(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
    (zh, en): (&'static str, &'static str),
    page: Result<PortalPage, Error>,
) -> Result<Response, Error> {
    match page {
        Ok(p) => Ok(respond(StatusCode::OK, &p, None)),
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            let mut p = staff_page_of(app, v, actor, secret, zh, en);
            p.error = Some(
                v.t(
                    "需要“系统管理员”或“审计员”角色",
                    "This needs the administrator or auditor role",
                )
                .into(),
            );
            Ok(respond(StatusCode::FORBIDDEN, &p, None))
        }
        Err(e) => Err(e),
    }
}
