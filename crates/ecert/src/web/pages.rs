//! The public pages (no login): the start page, `/v/{token}` (where the 2D code leads), the
//! lookup by number + check code, page previews and downloads. Handlers take what they need as
//! extractors ([`super::extract`]); the lookup routes carry their rate limit as a
//! `route_layer`; every [`Error`] is rendered for the request by [`error::answer_errors`].

use std::sync::atomic::Ordering;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use ecert_store::{Access, CertificateStatus, StatusView, SupplementRecord};
use serde::Deserialize;

use super::App;
use super::cache::CachedPage;
use super::extract::{ClientIp, Resolved};
use super::view::{
    self, CertificateView, Chrome, Lang, Locator, Shown, Want, bytes_response, html,
};
use super::{Error, error, security};
use crate::service::StoredFile;

/// The start page.
pub const HOME: &str = "/";
/// The stylesheet.
pub const STYLESHEET: &str = "/static/app.css";
/// A certificate's page, where its 2D code leads.
pub const TOKEN_PAGE: &str = "/v/{token}";
/// A page preview of the certificate (or supplement) of a token.
pub const TOKEN_PREVIEW: &str = "/v/{token}/page/{page}";
/// The file of a token.
pub const TOKEN_FILE: &str = "/v/{token}/file";
/// A supplement of the certificate of a token.
pub const TOKEN_SUPPLEMENT: &str = "/v/{token}/supplement/{seq}";
/// The page found by number + check code (`?number=&code=`).
pub const LOOKUP_PAGE: &str = "/lookup";
/// A page preview, by number + check code.
pub const LOOKUP_PREVIEW: &str = "/lookup/page/{page}";
/// The file, by number + check code.
pub const LOOKUP_FILE: &str = "/lookup/file";
/// A supplement, by number + check code.
pub const LOOKUP_SUPPLEMENT: &str = "/lookup/supplement/{seq}";
/// Upload a file to verify it.
pub const VERIFY: &str = "/verify";

pub(crate) fn router(app: App) -> Router {
    let open = Router::new()
        .route(HOME, get(home))
        .route(STYLESHEET, get(css))
        .route(TOKEN_PAGE, get(token_page))
        .route(TOKEN_PREVIEW, get(preview))
        .route(TOKEN_FILE, get(file))
        .route(TOKEN_SUPPLEMENT, get(supplement))
        .route(VERIFY, get(home));
    let lookup = Router::new()
        .route(LOOKUP_PAGE, get(lookup_page))
        .route(LOOKUP_PREVIEW, get(preview))
        .route(LOOKUP_FILE, get(file))
        .route(LOOKUP_SUPPLEMENT, get(supplement))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::limit_lookups,
        ));
    let upload = Router::new()
        .route(VERIFY, post(super::upload::verify_upload))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::limit_uploads,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable());
    open.merge(lookup)
        .merge(upload)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            error::answer_errors,
        ))
        .with_state(app)
}

pub(crate) fn self_url(uri: &Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned())
}

async fn fallback() -> Error {
    Error::not_found()
}

async fn css() -> Response {
    let mut r = bytes_response(
        "text/css; charset=utf-8",
        Bytes::from_static(view::CSS.as_bytes()),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: Chrome,
    en: bool,
    verify_action: &'a str,
    l_lookup: &'a str,
    l_number: &'a str,
    l_code: &'a str,
    l_query: &'a str,
    l_upload: &'a str,
    l_file: &'a str,
    l_verify: &'a str,
    l_upload_note: &'a str,
    l_scan: &'a str,
}

async fn home(State(app): State<App>, want: Want, uri: Uri) -> Response {
    let lang = want.lang;
    let issuer = &app.inner.instance.config.institute.name;
    if want.json {
        return axum::Json(serde_json::json!({
            "service": "ecert",
            "issuer": issuer,
            "lookup": "/lookup?number={number}&code={check code}",
            "scan": "/v/{token}",
            "verify_upload": "POST /verify",
            "api": super::api::OPENAPI,
        }))
        .into_response();
    }
    let max_mb = app.inner.server.max_upload_bytes / (1 << 20);
    let note = match lang {
        Lang::Zh => format!("文件仅用于本次核验，不会保存；大小上限 {max_mb} MB。"),
        Lang::En => format!("The file is only checked, never kept; at most {max_mb} MB."),
    };
    let title = match lang {
        Lang::Zh => format!("{issuer} 电子证书验证"),
        Lang::En => format!("{issuer}: electronic certificate verification"),
    };
    let page = HomePage {
        chrome: Chrome::new(lang, title, &self_url(&uri), app.trial()),
        en: lang == Lang::En,
        verify_action: if lang == Lang::En {
            "/verify?lang=en"
        } else {
            "/verify"
        },
        // The certificate prints 校验码 (R-4.3.5's check code): the pages use the same word.
        l_lookup: lang.t("按证书编号和校验码查询", "Look up by number and check code"),
        l_number: lang.t("证书编号", "Certificate No."),
        l_code: lang.t(
            "校验码（证书第 1 页）",
            "Check code (page 1 of the certificate)",
        ),
        l_query: lang.t("查询", "Look up"),
        l_upload: lang.t(
            "上传电子证书文件验证",
            "Upload a certificate file to verify it",
        ),
        l_file: lang.t("OFD 文件", "OFD file"),
        l_verify: lang.t("验证", "Verify"),
        l_upload_note: &note,
        l_scan: lang.t(
            "也可以用手机扫描证书上的二维码直接打开验证页面。",
            "You can also scan the 2D code on the certificate with a phone.",
        ),
    };
    html(StatusCode::OK, view::render(&page))
}

/// The issue date a supplement's file carries (`DocInfo/CreationDate`, written from its
/// content's `issueDate`); the record keeps only when it was stored.
async fn supplement_date(app: &App, s: &SupplementRecord) -> String {
    let stored = || {
        let (y, m, d) = crate::domain::dates::beijing_date(s.created_at_ms / 1000);
        crate::domain::dates::format_date((y, m, d))
    };
    let Ok(bytes) = app.inner.instance.file(StoredFile::Supplement(s)).await else {
        return stored();
    };
    tokio::task::spawn_blocking(move || {
        ofd::OfdFile::read(&bytes).ok().and_then(|f| {
            f.ofd
                .docs
                .first()
                .and_then(|d| d.info.creation_date.clone())
        })
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(stored)
}

async fn render_view(app: &App, found: &Resolved, want: Want, self_url: &str) -> CachedPage {
    let supplement_date = match &found.supplement {
        Some(s) => Some(supplement_date(app, s).await),
        None => None,
    };
    let shown = Shown {
        issuer: &app.inner.instance.config.institute.name,
        public: &app.inner.instance.config.public,
        supplement_date,
    };
    let v = CertificateView::build(
        &found.view,
        found.supplement.as_ref(),
        &shown,
        &found.at,
        want.lang,
    );
    if want.json {
        CachedPage {
            body: Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
            content_type: "application/json",
        }
    } else {
        CachedPage {
            body: Bytes::from(view::certificate_html(&v, want.lang, self_url, app.trial())),
            content_type: "text/html; charset=utf-8",
        }
    }
}

/// `GET /v/{token}`: answered from the page cache when it can (the one handler that resolves
/// its certificate itself, after the cache missed).
async fn token_page(
    State(app): State<App>,
    Path(token): Path<String>,
    want: Want,
    uri: Uri,
) -> Result<Response, Error> {
    let key = want.cache_key(&format!("t:{}", token.to_ascii_lowercase()));
    if let Some(p) = app.inner.pages.get(&key) {
        app.inner
            .metrics
            .page_cache_hits
            .fetch_add(1, Ordering::Relaxed);
        return Ok(bytes_response(p.content_type, p.body));
    }
    app.inner
        .metrics
        .page_cache_misses
        .fetch_add(1, Ordering::Relaxed);
    let found = Resolved::by_token(&app, &token)
        .await?
        .ok_or_else(Error::not_found)?;
    let page = render_view(&app, &found, want, &self_url(&uri)).await;
    app.inner.pages.put(key, page.clone());
    Ok(bytes_response(page.content_type, page.body))
}

/// `GET /lookup?number=&code=`.
async fn lookup_page(State(app): State<App>, found: Resolved, want: Want, uri: Uri) -> Response {
    let page = render_view(&app, &found, want, &self_url(&uri)).await;
    bytes_response(page.content_type, page.body)
}

pub(super) fn page_number(page: &str) -> Option<usize> {
    let n: usize = page.strip_suffix(".png")?.parse().ok()?;
    (1..=100).contains(&n).then_some(n)
}

#[derive(Deserialize)]
struct PageParam {
    page: String,
}

#[derive(Deserialize)]
struct SeqParam {
    seq: String,
}

/// `…/page/{n}.png`: a preview of the certificate's (or the scanned supplement's) page.
async fn preview(
    State(app): State<App>,
    found: Resolved,
    Path(PageParam { page }): Path<PageParam>,
) -> Result<Response, Error> {
    let view = &found.view;
    let c = &view.certificate;
    let file_sm3 = match &found.supplement {
        None => c.file_sm3,
        Some(s) => s.file_sm3,
    };
    let n = page_number(&page).ok_or_else(Error::not_found)?;
    if c.status == CertificateStatus::Disposed {
        return Err(Error::not_found());
    }
    // The preview shows the customer's name as printed: public only when the pages show it
    // in full too (`[public] customer_name`).
    if !view::previews_public(&app.inner.instance.config.public) {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "preview_not_public",
            "为保护委托方信息，不公开证书页面图像",
            "To protect the customer's details, pictures of the certificate are not public",
        ));
    }
    // a void certificate's picture says so on its face (the file is not touched).
    let mark = (found.supplement.is_none() && c.status == CertificateStatus::Revised)
        .then_some(crate::preview::Mark::Void);
    let stored = match &found.supplement {
        None => StoredFile::Certificate(c),
        Some(s) => StoredFile::Supplement(s),
    };
    let png = render_preview(&app, stored, file_sm3, n, mark).await?;
    let mut r = bytes_response("image/png", png);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(r)
}

/// Page `n` of a stored file as PNG, from the preview cache or rendered now (at most two at a
/// time, `heavy`); `mark` stamps a void certificate's picture. `Error::not_found` for a page the
/// file does not have.
pub(super) async fn render_preview(
    app: &App,
    stored: StoredFile<'_>,
    file_sm3: [u8; 32],
    n: usize,
    mark: Option<crate::preview::Mark>,
) -> Result<Bytes, Error> {
    let dpi = app.inner.server.preview_dpi;
    let png = match app.inner.previews.get(&file_sm3, n, dpi, mark) {
        Some(png) => png,
        None => {
            let Ok(_permit) = app.inner.heavy.acquire().await else {
                return Err(Error::internal("preview", "semaphore closed"));
            };
            // Another request may have rendered it while this one waited.
            if let Some(png) = app.inner.previews.get(&file_sm3, n, dpi, mark) {
                png
            } else {
                let file = app.inner.instance.file(stored).await?;
                let rendered = tokio::task::spawn_blocking(move || {
                    crate::preview::render_page_png_marked(&file, n, dpi, mark)
                })
                .await;
                match rendered {
                    Ok(Ok(png)) => {
                        app.inner
                            .metrics
                            .previews_rendered
                            .fetch_add(1, Ordering::Relaxed);
                        let png = Bytes::from(png);
                        app.inner.previews.put(&file_sm3, n, dpi, mark, png.clone());
                        png
                    }
                    // No such page.
                    Ok(Err(_)) => return Err(Error::not_found()),
                    Err(e) => return Err(Error::internal_from("preview", &e)),
                }
            }
        }
    };
    Ok(png)
}

fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// An OFD file answer.
pub(crate) fn ofd_response(name: &str, bytes: Bytes) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ofd"),
    );
    h.insert(header::CONTENT_DISPOSITION, content_disposition(name));
    r
}

/// The download log's entry for a public download (R-7.2.3b).
fn access(found: &Resolved, ip: ClientIp) -> Access {
    Access {
        who: "public".into(),
        channel: match found.at {
            Locator::Token(_) => "verify-page",
            Locator::Lookup { .. } => "lookup",
        }
        .into(),
        remote: ip.0.map(|r| r.to_string()),
    }
}

/// Downloads a file of `view`'s certificate (none once disposed, R-6.5h).
async fn download(
    app: &App,
    view: &StatusView,
    which: StoredFile<'_>,
    name: &str,
    access: &Access,
) -> Result<Response, Error> {
    let c = &view.certificate;
    if c.status == CertificateStatus::Disposed {
        return Err(Error::not_found());
    }
    // R-7.2.3a: files are for identified users; the public pages offer them only where the
    // institute decided so (`[public] download`).
    if !app.inner.instance.config.public.download {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "download_not_public",
            "电子证书文件仅向已识别身份的用户提供，请向发证机构或委托方索取",
            "The certificate file is given to identified users only: ask the issuer or the customer",
        ));
    }
    let bytes = app.inner.instance.download(c, which, access).await?;
    Ok(ofd_response(name, bytes))
}

/// `…/file`: the certificate's file, or the scanned supplement's.
async fn file(State(app): State<App>, found: Resolved, ip: ClientIp) -> Result<Response, Error> {
    let access = access(&found, ip);
    let c = &found.view.certificate;
    match &found.supplement {
        Some(s) => {
            download(
                &app,
                &found.view,
                StoredFile::Supplement(s),
                &s.file_name,
                &access,
            )
            .await
        }
        None => {
            download(
                &app,
                &found.view,
                StoredFile::Certificate(c),
                &c.file_name,
                &access,
            )
            .await
        }
    }
}

/// `…/supplement/{seq}`: a supplement of the certificate.
async fn supplement(
    State(app): State<App>,
    found: Resolved,
    Path(SeqParam { seq }): Path<SeqParam>,
    ip: ClientIp,
) -> Result<Response, Error> {
    let s: &SupplementRecord = seq
        .parse::<i64>()
        .ok()
        .and_then(|n| found.view.supplements.iter().find(|s| s.seq == n))
        .ok_or_else(Error::not_found)?;
    download(
        &app,
        &found.view,
        StoredFile::Supplement(s),
        &s.file_name,
        &access(&found, ip),
    )
    .await
}
