//! What the public pages show and offer, by configuration and by the certificate's state:
//! downloads only where configured (R-7.2.3a), one policy for the customer's name on the page
//! and in the preview, void and trial marks, the supplement's own date, one term for the
//! check code, `/metrics` not public, and rate limits that see clients behind a trusted proxy.
#![allow(clippy::unwrap_used)]

mod serve_support;

use std::net::SocketAddr;

use ecert::config::CustomerName;
use serve_support::*;

fn html(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, &[], b"")
}

fn json(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, &[("Accept", "application/json")], b"")
}

/// R-7.2.3a: by default the public page offers no file and the file routes refuse, saying why
/// in both languages; `[public] download = true` brings the link back.
#[test]
fn r_7_2_3a_public_download_is_off_by_default() {
    let f = fixture();
    let (addr, _guard) = own_server(|_| {});
    let c = f.cert("JZ2024-000123");
    let page = html(addr, &format!("/v/{}", c.token)).text();
    assert!(!page.contains("/file\""), "no download link: {page}");
    assert!(!page.contains("下载电子证书文件"), "{page}");
    for path in [
        format!("/v/{}/file", c.token),
        format!("/lookup/file?number={}&code={}", c.number, c.check_code),
        format!("/v/{}/file", f.supplement.token),
    ] {
        let r = json(addr, &path);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "download_not_public");
        let zh = html(addr, &path);
        assert_eq!(zh.status, 403);
        assert!(zh.text().contains("身份"), "{}", zh.text());
        let en = html(
            addr,
            &format!(
                "{path}{}lang=en",
                if path.contains('?') { '&' } else { '?' }
            ),
        );
        assert!(en.text().contains("identified"), "{}", en.text());
    }
    // The supplements are listed without links to their files.
    let s = f.cert(SUPPLEMENTED_NUMBER);
    let page = html(addr, &format!("/v/{}", s.token)).text();
    assert!(page.contains(&f.supplement.number));
    assert!(!page.contains("/supplement/1"), "{page}");
    assert_eq!(
        html(addr, &format!("/v/{}/supplement/1", s.token)).status,
        403
    );

    let (open, _g) = own_server(|c| c.public.download = true);
    let page = html(open, &format!("/v/{}", c.token)).text();
    assert!(page.contains("下载电子证书文件"));
    assert_eq!(html(open, &format!("/v/{}/file", c.token)).body, c.file);
}

/// The customer's name: masked by default on the page, and then no page preview (it shows the
/// name as printed); `full` shows both; `hidden` neither.
#[test]
fn customer_name_policy_covers_page_and_preview() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    let full_name = "示例电子科技有限公司";

    let (masked, _g1) = own_server(|_| {});
    let page = html(masked, &format!("/v/{}", c.token)).text();
    assert!(
        page.contains("示例******公司") && !page.contains(full_name),
        "{page}"
    );
    assert!(!page.contains("page/1.png"), "no preview offered: {page}");
    let r = json(masked, &format!("/v/{}/page/1.png", c.token));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "preview_not_public");
    let j = json(masked, &format!("/v/{}", c.token)).json();
    assert_eq!(j["details"]["customer"], "示例******公司");
    assert!(j["details"].get("preview_url").is_none(), "{j}");

    let (full, _g2) = own_server(|c| c.public.customer_name = CustomerName::Full);
    let page = html(full, &format!("/v/{}", c.token)).text();
    assert!(page.contains(full_name), "{page}");
    let png = html(full, &format!("/v/{}/page/1.png", c.token));
    assert_eq!(png.status, 200);
    assert!(png.body.starts_with(b"\x89PNG"));

    let (hidden, _g3) = own_server(|c| c.public.customer_name = CustomerName::Hidden);
    let page = html(hidden, &format!("/v/{}", c.token)).text();
    assert!(
        !page.contains("id=\"customer\"") && !page.contains("示例******公司"),
        "{page}"
    );
    assert_eq!(
        html(hidden, &format!("/v/{}/page/1.png", c.token)).status,
        403
    );
    let j = json(hidden, &format!("/v/{}", c.token)).json();
    assert!(j["details"].get("customer").is_none(), "{j}");
}

/// Counts the pixels of the void mark's red (#c8102e, blended) in a PNG.
fn mark_pixels(png_bytes: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf.chunks(channels)
        .filter(|p| p[0] > 150 && p[1] < 120 && p[2] < 130 && p[0] > p[1] + 60)
        .count()
}

/// the page of a void certificate links the certificate that replaced it, and its
/// preview carries a visible 作废 mark — drawn on the picture only, the stored file unchanged.
#[test]
fn r_6_4_1_void_page_links_the_new_certificate_and_marks_its_preview() {
    let f = fixture();
    let old = f.cert(ORIGINAL_NUMBER);
    let new = f.cert(REVISED_NUMBER);
    let (addr, _g) = own_server(|c| c.public.customer_name = CustomerName::Full);
    let page = html(addr, &format!("/v/{}", old.token)).text();
    let link = format!(
        "href=\"/lookup?number={}&#38;code={}\"",
        new.number,
        new.check_code.replace('-', "")
    );
    let link_alt = link.replace("&#38;", "&amp;");
    assert!(
        page.contains(&link) || page.contains(&link_alt),
        "a link to the new certificate's page: {page}"
    );
    let target = html(
        addr,
        &format!("/lookup?number={}&code={}", new.number, new.check_code),
    );
    assert_eq!(target.status, 200);
    assert!(target.text().contains("真实有效"));

    let void_png = html(addr, &format!("/v/{}/page/1.png", old.token));
    assert_eq!(void_png.status, 200);
    let dpi = ecert::config::ServerConfig::default().preview_dpi;
    let plain = ecert::preview::render_page_png(&old.file, 1, dpi).unwrap();
    assert_ne!(void_png.body, plain, "the void preview is marked");
    // Kept for a human look: ECERT_KEEP_SCREENSHOTS=DIR copies it there.
    if let Ok(dir) = std::env::var("ECERT_KEEP_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join("void-preview.png"),
            &void_png.body,
        )
        .unwrap();
    }
    let marked = mark_pixels(&void_png.body);
    let unmarked = mark_pixels(&plain);
    assert!(
        marked > unmarked + 20_000,
        "a large red mark: {marked} vs {unmarked} red pixels"
    );
    // A current certificate's preview is the page as issued.
    let cur = f.cert("JZ2024-000123");
    let png = html(addr, &format!("/v/{}/page/1.png", cur.token));
    assert_eq!(
        png.body,
        ecert::preview::render_page_png(&cur.file, 1, dpi).unwrap()
    );
    // The file itself is untouched.
    let (open, _g2) = own_server(|c| c.public.download = true);
    assert_eq!(html(open, &format!("/v/{}/file", old.token)).body, old.file);
}

/// A trial (demo) instance says so on every page.
#[test]
fn trial_instance_pages_say_test() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    for path in [
        "/".to_owned(),
        format!("/v/{}", c.token),
        "/v/aaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
        "/?lang=en".to_owned(),
    ] {
        let t = get(&path).text();
        assert!(t.contains("试用 TEST"), "{path}: {t}");
    }
}

/// the page of a supplement's own code gives the supplement's date, not the
/// certificate's, and no row about what the certificate replaced.
#[test]
fn r_6_4_2_supplement_page_shows_its_own_date() {
    let f = fixture();
    let s = &f.supplement;
    let page = get(&format!("/v/{}", s.token)).text();
    // examples/supplement.json is dated 2024-03-20; the certificate it supplements 2024-03-08.
    assert!(
        page.contains("补充文件签发日期</dt><dd id=\"issued\">2024-03-20</dd>"),
        "{page}"
    );
    assert!(!page.contains("2024-03-08"), "{page}");
    assert!(!page.contains("替代"), "{page}");
    let j = get_json(&format!("/v/{}", s.token)).json();
    assert_eq!(j["details"]["issue_date"], "2024-03-20");
}

/// The certificate prints 校验码: the pages say 校验码 too, never 核验码.
#[test]
fn one_term_for_the_check_code() {
    let f = fixture();
    let home = get("/").text();
    assert!(
        home.contains("校验码") && !home.contains("核验码"),
        "{home}"
    );
    let r = get("/lookup?number=&code=");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("校验码") && !r.text().contains("核验码"));
    let c = f.cert("JZ2024-000123");
    let page = get(&format!("/v/{}", c.token)).text();
    assert!(!page.contains("核验码"));
}

/// `/metrics` is closed by default; a token opens it (Bearer); `metrics_public` opens it to all.
#[test]
fn metrics_are_not_public_by_default() {
    let (closed, _g1) = own_server(|_| {});
    let r = json(closed, "/metrics");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "metrics_not_public");

    let (token, _g2) = own_server(|c| c.server.metrics_token = Some("s3cret-scrape".into()));
    let r = json(token, "/metrics");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "metrics_token");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let wrong = request(
        token,
        "GET",
        "/metrics",
        &[("Authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(wrong.status, 401);
    let ok = request(
        token,
        "GET",
        "/metrics",
        &[("Authorization", "Bearer s3cret-scrape")],
        b"",
    );
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("ecert_http_requests_total"));

    let (open, _g3) = own_server(|c| c.server.metrics_public = true);
    assert_eq!(html(open, "/metrics").status, 200);
    // Health stays open: load balancers need it.
    assert_eq!(html(closed, "/healthz").status, 200);
}

fn lookup_from(addr: SocketAddr, path: &str, forwarded_for: &str) -> u16 {
    request(
        addr,
        "GET",
        path,
        &[("X-Forwarded-For", forwarded_for)],
        b"",
    )
    .status
}

/// Rate limits count clients behind a trusted proxy one by one (`[server] trusted_proxies`),
/// and ignore the header when the peer is not a trusted proxy.
#[test]
fn rate_limits_see_clients_behind_a_trusted_proxy() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    let path = format!("/lookup?number={}&code={}", c.number, c.check_code);

    let (trusting, _g1) = own_server(|c| {
        c.server.lookup_per_minute = 2;
        c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    });
    // Five lookups of client A: at most one minute boundary, so one window holds three.
    let a: Vec<u16> = (0..5)
        .map(|_| lookup_from(trusting, &path, "203.0.113.1"))
        .collect();
    assert!(a.contains(&429), "client A is limited: {a:?}");
    // Client B behind the same proxy has a limit of its own.
    assert_eq!(lookup_from(trusting, &path, "203.0.113.2"), 200);
    // RFC 7239 names a client too.
    let fwd = request(
        trusting,
        "GET",
        &path,
        &[("Forwarded", "for=\"[2001:db8::7]:4711\"")],
        b"",
    );
    assert_eq!(fwd.status, 200);

    let (untrusting, _g2) = own_server(|c| {
        c.server.lookup_per_minute = 2;
        c.server.trusted_proxies = vec!["10.9.9.9".parse().unwrap()];
    });
    // The peer (127.0.0.1) is no trusted proxy: a fresh header per request changes nothing.
    let spoofed: Vec<u16> = (0..5)
        .map(|i| lookup_from(untrusting, &path, &format!("198.51.100.{i}")))
        .collect();
    assert!(spoofed.contains(&429), "one shared limit: {spoofed:?}");
}
