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
use crate::service::staff::Actor;

/// The console's start.
pub const CONSOLE: &str = "/console";
const COOKIE: &str = "ecert_console";
const PATH: &str = "/console";

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(CONSOLE, get(dashboard))
        .route("/console/login", get(login_page).post(login_post))
        .route("/console/logout", post(logout))
        .route("/console/audit", get(audit_page))
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
    let mut links = vec![(v.at(CONSOLE), v.t("概览", "Dashboard"))];
    links.push((v.at("/console/audit"), v.t("审计", "Audit")));
    let _ = actor;
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
    let status = inst.status().await.map_err(Error::from)?;
    for f in &status.findings {
        let mark = if f.ok { "✓" } else { "✗" };
        rows.push((format!("{mark} {}", f.what), f.text.clone()));
    }
    p.blocks.push(Block::Rows(rows));
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

async fn audit_page(State(app): State<App>, v: Visit) -> Result<Response, Error> {
    let Some((_, actor, secret)) = session(&app, &v).await? else {
        return Ok(to_login(&v));
    };
    let mut p = v.page(v.t("审计链校验", "Audit chain check"));
    p.nav = Some(nav(&app, &v, &actor, &secret));
    match app.instance().staff_check_audit(&actor).await {
        Ok(report) => {
            let ok = report.is_ok();
            p.blocks.push(Block::Strong(
                "audit-result",
                match (ok, v.lang()) {
                    (true, Lang::Zh) => format!("审计链完整：{} 条记录", report.entries),
                    (true, Lang::En) => {
                        format!("The audit chain is intact: {} entries", report.entries)
                    }
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
            Ok(respond(StatusCode::OK, &p, None))
        }
        Err(PortalError::Service(e)) => Err(Error::from(e)),
        Err(e) => {
            p.error = Some(v.message(&e));
            Ok(respond(super::portal::status_of(&e), &p, None))
        }
    }
}
