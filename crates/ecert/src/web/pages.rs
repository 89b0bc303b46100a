//! The public pages (no login): start page, `/v/{token}`, lookup by number + check code,
//! previews, downloads, `/healthz`, `/metrics`.

use std::sync::atomic::Ordering;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use ecert_store::{Access, CertificateStatus, StatusView, SupplementRecord};
use serde::Deserialize;

use super::App;
use super::cache::CachedPage;
use super::view::{self, CertificateView, Lang, Locator, Want, bytes_response, html, layout};
use super::{Error, error};
use crate::domain::{CheckCode, VerifyToken};
use crate::service::StoredFile;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(css))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v/{token}", get(token_page))
        .route("/v/{token}/page/{page}", get(token_preview))
        .route("/v/{token}/file", get(token_file))
        .route("/v/{token}/supplement/{seq}", get(token_supplement))
        .route("/lookup", get(lookup_page))
        .route("/lookup/page/{page}", get(lookup_preview))
        .route("/lookup/file", get(lookup_file))
        .route("/lookup/supplement/{seq}", get(lookup_supplement))
        .route(
            "/verify",
            get(home)
                .post(super::upload::verify_upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .fallback(fallback)
        .layer(axum::middleware::from_fn(error::answer_errors))
        .with_state(app)
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct PageQuery {
    pub(crate) lang: Option<String>,
    number: Option<String>,
    code: Option<String>,
}

fn self_url(uri: &Uri) -> String {
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

async fn healthz(State(app): State<App>) -> Response {
    match app.inner.instance.check_database().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "database": "ok"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e.chain(), "health check: database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "error", "database": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let mut text = app.inner.metrics.render();
    let (running, waiting, workers) = app.inner.issuing.gauges();
    for (name, help, v) in [
        (
            "ecert_api_issuing_running",
            "API issuing calls running now.",
            running,
        ),
        (
            "ecert_api_issuing_waiting",
            "API issuing calls waiting for a turn.",
            waiting,
        ),
        (
            "ecert_api_issuing_workers",
            "API issuing calls that may run at once.",
            workers,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
        ));
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<h1>{{ l_title }}</h1>
<form method="get" action="/lookup">
<h2>{{ l_lookup }}</h2>
<label for="number">{{ l_number }}</label><input type="text" id="number" name="number" required maxlength="100" autocomplete="off">
<label for="code">{{ l_code }}</label><input type="text" id="code" name="code" required maxlength="20" autocomplete="off" placeholder="XXXX-XXXX">
{% if en %}<input type="hidden" name="lang" value="en">{% endif %}
<button type="submit">{{ l_query }}</button>
</form>
<form method="post" action="{{ verify_action }}" enctype="multipart/form-data">
<h2>{{ l_upload }}</h2>
<label for="file">{{ l_file }}</label><input type="file" id="file" name="file" accept=".ofd,application/ofd" required>
<button type="submit">{{ l_verify }}</button>
<p class="small">{{ l_upload_note }}</p>
</form>
<p class="small">{{ l_scan }}</p>"#
)]
struct HomeBody<'a> {
    en: bool,
    verify_action: &'a str,
    l_title: &'a str,
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

async fn home(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    let lang = want.lang;
    let issuer = &app.inner.instance.config.institute.name;
    if want.json {
        return axum::Json(serde_json::json!({
            "service": "ecert",
            "issuer": issuer,
            "lookup": "/lookup?number={number}&code={check code}",
            "scan": "/v/{token}",
            "verify_upload": "POST /verify",
            "api": "/api/v1/openapi.json",
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
    let body = HomeBody {
        en: lang == Lang::En,
        verify_action: if lang == Lang::En {
            "/verify?lang=en"
        } else {
            "/verify"
        },
        l_title: &title,
        l_lookup: lang.t("按证书编号和核验码查询", "Look up by number and check code"),
        l_number: lang.t("证书编号", "Certificate No."),
        l_code: lang.t(
            "核验码（证书第 1 页）",
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
    }
    .render()
    .unwrap_or_default();
    html(StatusCode::OK, layout(lang, &title, &self_url(&uri), &body))
}

/// What a token leads to: a certificate, or one of its supplements (R-6.4.2: a supplement
/// carries a 2D code of its own), with the certificate's status either way.
struct Found {
    token: String,
    view: StatusView,
    supplement: Option<SupplementRecord>,
}

/// Looks a token up; `None` for malformed and unknown tokens alike.
async fn by_token(app: &App, token: &str) -> Result<Option<Found>, Error> {
    let Some(t) = VerifyToken::parse(token) else {
        return Ok(None);
    };
    Ok(app.inner.instance.scan(&t).await?.map(|s| Found {
        token: t.as_str().to_owned(),
        view: s.view,
        supplement: s.supplement,
    }))
}

struct Looked {
    number: String,
    code: String,
    view: StatusView,
}

async fn by_lookup(app: &App, q: &PageQuery) -> Result<Option<Looked>, Error> {
    let (Some(number), Some(code)) = (q.number.as_deref(), q.code.as_deref()) else {
        return Ok(None);
    };
    let number = number.trim();
    let Some(code) = CheckCode::parse(code) else {
        return Ok(None);
    };
    if number.is_empty() || number.len() > 200 {
        return Ok(None);
    }
    let view = app.inner.instance.look_up(number, &code).await?;
    Ok(view.map(|view| Looked {
        number: number.to_owned(),
        code: code.as_str().to_owned(),
        view,
    }))
}

fn render_view(
    app: &App,
    view: &StatusView,
    scanned: Option<&SupplementRecord>,
    at: &Locator<'_>,
    want: Want,
    self_url: &str,
) -> CachedPage {
    let v = CertificateView::build(
        view,
        scanned,
        &app.inner.instance.config.institute.name,
        at,
        want.lang,
    );
    if want.json {
        CachedPage {
            body: Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
            content_type: "application/json",
        }
    } else {
        CachedPage {
            body: Bytes::from(view::certificate_html(&v, want.lang, self_url)),
            content_type: "text/html; charset=utf-8",
        }
    }
}

async fn token_page(
    State(app): State<App>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    let key = want.cache_key(&format!("t:{}", token.to_ascii_lowercase()));
    if let Some(p) = app.inner.pages.get(&key) {
        app.inner
            .metrics
            .page_cache_hits
            .fetch_add(1, Ordering::Relaxed);
        return bytes_response(p.content_type, p.body);
    }
    app.inner
        .metrics
        .page_cache_misses
        .fetch_add(1, Ordering::Relaxed);
    match by_token(&app, &token).await {
        Ok(Some(f)) => {
            let page = render_view(
                &app,
                &f.view,
                f.supplement.as_ref(),
                &Locator::Token(&f.token),
                want,
                &self_url(&uri),
            );
            app.inner.pages.put(key, page.clone());
            bytes_response(page.content_type, page.body)
        }
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

fn too_many(want: Want) -> Response {
    Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "查询过于频繁，请一分钟后再试",
        "Too many requests; please wait a minute",
    )
    .respond(want)
}

async fn lookup_page(
    State(app): State<App>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: Uri,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    if q.number.as_deref().is_none_or(|n| n.trim().is_empty())
        || q.code.as_deref().is_none_or(|c| c.trim().is_empty())
    {
        return Error::new(
            StatusCode::BAD_REQUEST,
            "missing_fields",
            "请输入证书编号和核验码",
            "Enter the certificate number and the check code",
        )
        .respond(want);
    }
    if !app.inner.lookup_limit.allow(super::security::remote(&req)) {
        return too_many(want);
    }
    match by_lookup(&app, &q).await {
        Ok(Some(l)) => {
            let at = Locator::Lookup {
                number: &l.number,
                code: &l.code,
            };
            let page = render_view(&app, &l.view, None, &at, want, &self_url(&uri));
            bytes_response(page.content_type, page.body)
        }
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

fn page_number(page: &str) -> Option<usize> {
    let n: usize = page.strip_suffix(".png")?.parse().ok()?;
    (1..=100).contains(&n).then_some(n)
}

/// Which file of a certificate a preview shows.
#[derive(Clone, Copy)]
enum FileRef<'a> {
    Certificate,
    Supplement(&'a SupplementRecord),
}

async fn preview(
    app: &App,
    view: &StatusView,
    which: FileRef<'_>,
    page: &str,
    want: Want,
) -> Response {
    let c = &view.certificate;
    let file_sm3 = match which {
        FileRef::Certificate => c.file_sm3,
        FileRef::Supplement(s) => s.file_sm3,
    };
    let Some(n) = page_number(page) else {
        return Error::not_found().respond(want);
    };
    if c.status == CertificateStatus::Disposed {
        return Error::not_found().respond(want);
    }
    let dpi = app.inner.server.preview_dpi;
    let png = match app.inner.previews.get(&file_sm3, n, dpi) {
        Some(png) => png,
        None => {
            let Ok(_permit) = app.inner.heavy.acquire().await else {
                return Error::internal("preview", "semaphore closed").respond(want);
            };
            // Another request may have rendered it while this one waited.
            if let Some(png) = app.inner.previews.get(&file_sm3, n, dpi) {
                png
            } else {
                let stored = match which {
                    FileRef::Certificate => StoredFile::Certificate(c),
                    FileRef::Supplement(s) => StoredFile::Supplement(s),
                };
                let file = match app.inner.instance.file(stored).await {
                    Ok(f) => f,
                    Err(e) => return Error::from(e).respond(want),
                };
                let rendered = tokio::task::spawn_blocking(move || {
                    crate::preview::render_page_png(&file, n, dpi)
                })
                .await;
                match rendered {
                    Ok(Ok(png)) => {
                        app.inner
                            .metrics
                            .previews_rendered
                            .fetch_add(1, Ordering::Relaxed);
                        let png = Bytes::from(png);
                        app.inner.previews.put(&file_sm3, n, dpi, png.clone());
                        png
                    }
                    // No such page.
                    Ok(Err(_)) => return Error::not_found().respond(want),
                    Err(e) => return Error::internal_from("preview", &e).respond(want),
                }
            }
        }
    };
    let mut r = bytes_response("image/png", png);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    r
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

fn access(req: &Request, channel: &str) -> Access {
    Access {
        who: "public".into(),
        channel: channel.into(),
        remote: super::security::remote(req).map(|r| r.to_string()),
    }
}

async fn download(app: &App, view: &StatusView, access: &Access, want: Want) -> Response {
    let c = &view.certificate;
    if c.status == CertificateStatus::Disposed {
        return Error::not_found().respond(want);
    }
    match app
        .inner
        .instance
        .download(c, StoredFile::Certificate(c), access)
        .await
    {
        Ok(bytes) => ofd_response(&c.file_name, bytes),
        Err(e) => Error::from(e).respond(want),
    }
}

async fn supplement(
    app: &App,
    view: &StatusView,
    seq: &str,
    access: &Access,
    want: Want,
) -> Response {
    let Some(s) = seq
        .parse::<i64>()
        .ok()
        .and_then(|n| view.supplements.iter().find(|s| s.seq == n))
    else {
        return Error::not_found().respond(want);
    };
    download_supplement(app, view, s, access, want).await
}

async fn download_supplement(
    app: &App,
    view: &StatusView,
    s: &SupplementRecord,
    access: &Access,
    want: Want,
) -> Response {
    if view.certificate.status == CertificateStatus::Disposed {
        return Error::not_found().respond(want);
    }
    match app
        .inner
        .instance
        .download(&view.certificate, StoredFile::Supplement(s), access)
        .await
    {
        Ok(bytes) => ofd_response(&s.file_name, bytes),
        Err(e) => Error::from(e).respond(want),
    }
}

async fn token_preview(
    State(app): State<App>,
    Path((token, page)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    match by_token(&app, &token).await {
        Ok(Some(f)) => match &f.supplement {
            Some(s) => preview(&app, &f.view, FileRef::Supplement(s), &page, want).await,
            None => preview(&app, &f.view, FileRef::Certificate, &page, want).await,
        },
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

async fn token_file(
    State(app): State<App>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    match by_token(&app, &token).await {
        Ok(Some(f)) => match &f.supplement {
            Some(s) => {
                download_supplement(&app, &f.view, s, &access(&req, "verify-page"), want).await
            }
            None => download(&app, &f.view, &access(&req, "verify-page"), want).await,
        },
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

async fn token_supplement(
    State(app): State<App>,
    Path((token, seq)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    match by_token(&app, &token).await {
        Ok(Some(f)) => supplement(&app, &f.view, &seq, &access(&req, "verify-page"), want).await,
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

async fn lookup_preview(
    State(app): State<App>,
    Path(page): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    if !app.inner.lookup_limit.allow(super::security::remote(&req)) {
        return too_many(want);
    }
    match by_lookup(&app, &q).await {
        Ok(Some(l)) => preview(&app, &l.view, FileRef::Certificate, &page, want).await,
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

async fn lookup_file(
    State(app): State<App>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    if !app.inner.lookup_limit.allow(super::security::remote(&req)) {
        return too_many(want);
    }
    match by_lookup(&app, &q).await {
        Ok(Some(l)) => download(&app, &l.view, &access(&req, "lookup"), want).await,
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}

async fn lookup_supplement(
    State(app): State<App>,
    Path(seq): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let want = Want::new(&headers, q.lang.as_deref());
    if !app.inner.lookup_limit.allow(super::security::remote(&req)) {
        return too_many(want);
    }
    match by_lookup(&app, &q).await {
        Ok(Some(l)) => supplement(&app, &l.view, &seq, &access(&req, "lookup"), want).await,
        Ok(None) => Error::not_found().respond(want),
        Err(e) => e.respond(want),
    }
}
