//! What a person sees when scanning the 2D code with a phone (R-6.3c, R-6.4.1): headless Debian
//! `chromium` at phone size (390 × 844) opens `/v/{token}` of a current certificate and of a
//! revised (void) one; the rendered DOM carries the facts and the exact statement, and the
//! screenshot is a real, non-blank picture.
#![allow(clippy::unwrap_used)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use ecert::service::revised_message;
use serve_support::*;

fn chromium() -> &'static str {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!(
        "headless Chromium is needed for this test: apt-get install -y chromium (listed in .ci/packages/serve.apt)"
    )
}

fn run_chromium(url: &str, extra: &[&str], profile: &Path) -> std::process::Output {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
            "--window-size=390,844",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn profile(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ecert-chromium-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The DOM chromium rendered, as text without tags.
fn visible_text(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in dom.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes a PNG screenshot; returns (width, height, distinct colours in a sample grid).
fn inspect_png(bytes: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for y in (0..info.height).step_by(7) {
        for x in (0..info.width).step_by(5) {
            let i = (y as usize * info.width as usize + x as usize) * channels;
            colours.insert(buf[i..i + channels.min(3)].to_vec());
        }
    }
    (info.width, info.height, colours.len())
}

#[test]
fn phone_sees_a_current_and_a_revised_certificate() {
    let f = fixture();
    let base = format!("http://{}", f.addr);

    // A current certificate.
    let c = f.cert("JZ2024-000123");
    let url = format!("{base}/v/{}", c.token);
    let dom = String::from_utf8_lossy(&run_chromium(&url, &["--dump-dom"], &profile("a")).stdout)
        .into_owned();
    let text = visible_text(&dom);
    for expected in [
        "真实有效",
        "JZ2024-000123",
        "校准证书",
        "数字多用表",
        "示例市计量测试研究院",
        "示例******公司",
        "下载电子证书文件",
    ] {
        assert!(text.contains(expected), "the page shows {expected}: {text}");
    }
    assert!(!text.contains("示例电子科技有限公司"), "customer masked");
    let shot = std::env::temp_dir().join(format!("ecert-phone-{}-current.png", std::process::id()));
    run_chromium(
        &url,
        &[&format!("--screenshot={}", shot.display())],
        &profile("b"),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    let (w, h, colours) = inspect_png(&png);
    assert_eq!((w, h), (390, 844), "phone-sized screenshot");
    assert!(
        colours > 8,
        "the screenshot is not blank ({colours} colours)"
    );

    // The revised original: the exact R-6.4.1 sentence is what the person reads.
    let old = f.cert(ORIGINAL_NUMBER);
    let url = format!("{base}/v/{}", old.token);
    let dom = String::from_utf8_lossy(&run_chromium(&url, &["--dump-dom"], &profile("c")).stdout)
        .into_owned();
    let text = visible_text(&dom);
    assert!(
        text.contains(&revised_message(REVISED_NUMBER)),
        "R-6.4.1 sentence visible: {text}"
    );
    assert!(text.contains("真实，但已作废"));
    let shot2 =
        std::env::temp_dir().join(format!("ecert-phone-{}-revised.png", std::process::id()));
    run_chromium(
        &url,
        &[&format!("--screenshot={}", shot2.display())],
        &profile("d"),
    );
    let (w, h, colours) = inspect_png(&std::fs::read(&shot2).expect("screenshot"));
    assert_eq!((w, h), (390, 844));
    assert!(colours > 8);
    // Kept for a human look: ECERT_KEEP_SCREENSHOTS=DIR copies them there.
    if let Ok(dir) = std::env::var("ECERT_KEEP_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&shot, Path::new(&dir).join("current.png")).unwrap();
        std::fs::copy(&shot2, Path::new(&dir).join("revised.png")).unwrap();
    }
}

/// Measures a page as a 390 px phone shows it: the served HTML with its stylesheet inlined
/// (the file has no server to fetch it from) and a probe appended that notes the document's
/// scroll width and every English word that the layout broke across two lines (text in
/// `.hash` — SM3 values, identifiers — may break anywhere). Headless chromium lays out
/// `--dump-dom` at least 500 px wide whatever `--window-size` says, so the page is opened in a
/// 390 px frame of a second file, which copies the probe's findings into the DOM it dumps.
fn measure(name: &str, page: &str, css: &str, keep: Option<&Path>) -> (u32, String) {
    const PROBE: &str = r#"<script>
var broken = [];
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  var n = walker.currentNode;
  if (n.parentElement.closest('.hash')) continue;
  var re = /[A-Za-z]{2,}/g, m;
  while ((m = re.exec(n.data))) {
    var r = document.createRange();
    r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
    if (r.getClientRects().length > 1) broken.push(m[0]);
  }
}
document.body.setAttribute('data-scroll-width', document.documentElement.scrollWidth);
document.body.setAttribute('data-broken', broken.join(' '));
</script>"#;
    let html = page
        .replace(
            r#"<link rel="stylesheet" href="/static/app.css">"#,
            &format!("<style>{css}</style>"),
        )
        .replace("</body>", &format!("{PROBE}</body>"));
    let file = std::env::temp_dir().join(format!("ecert-phone-{}-{name}.html", std::process::id()));
    std::fs::write(&file, &html).unwrap();
    let frame = std::env::temp_dir().join(format!(
        "ecert-phone-{}-{name}-frame.html",
        std::process::id()
    ));
    std::fs::write(
        &frame,
        format!(
            r#"<!doctype html><html><body style="margin:0"><iframe id="f" src="{}" style="border:0;width:390px;height:844px"></iframe><script>
document.getElementById('f').addEventListener('load', function () {{
  var b = document.getElementById('f').contentDocument.body;
  document.body.setAttribute('data-scroll-width', b.getAttribute('data-scroll-width'));
  document.body.setAttribute('data-broken', b.getAttribute('data-broken'));
}});
</script></body></html>"#,
            file.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let url = format!("file://{}", file.display());
    let dom = String::from_utf8_lossy(
        &run_chromium(
            &format!("file://{}", frame.display()),
            &["--dump-dom", "--allow-file-access-from-files"],
            &profile(&format!("m-{name}")),
        )
        .stdout,
    )
    .into_owned();
    let attr = |key: &str| -> String {
        dom.split(&format!("{key}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("{name}: the probe ran ({key}): {dom}"))
            .to_owned()
    };
    if let Some(dir) = keep {
        let shot = dir.join(format!("{name}.png"));
        run_chromium(
            &url,
            &[&format!("--screenshot={}", shot.display())],
            &profile(&format!("s-{name}")),
        );
    }
    (
        attr("data-scroll-width").parse().unwrap(),
        attr("data-broken"),
    )
}

fn altered(file: &[u8]) -> Vec<u8> {
    let mut pkg = ofd::package::Package::from_zip(file, &ofd::Limits::default()).unwrap();
    let path = pkg
        .paths()
        .find(|p| p.contains("Content.xml"))
        .unwrap()
        .to_owned();
    let mut content = pkg.get(&path).unwrap().to_vec();
    let at = content.iter().position(|b| b.is_ascii_digit()).unwrap();
    content[at] = if content[at] == b'9' {
        b'8'
    } else {
        content[at] + 1
    };
    pkg.insert(&path, content).unwrap();
    pkg.to_zip().unwrap()
}

/// Every public page reads on a 390 px phone, in Chinese and in English: nothing wider than
/// the screen (long hashes wrap), no English word broken mid-word, the upload report's checks
/// by their names in the page's language and never a Rust debug form, and a file that is not
/// OFD explained in words.
#[test]
fn every_public_page_reads_on_a_phone() {
    let f = fixture();
    let css = get("/static/app.css").text();
    let upload = |bytes: &[u8], lang: &str| {
        request(
            f.addr,
            "POST",
            &format!("/verify{lang}"),
            &[("Content-Type", "application/ofd")],
            bytes,
        )
    };
    let c = f.cert("JZ2024-000123");
    let old = f.cert(ORIGINAL_NUMBER);
    let report_zh = upload(&c.file, "");
    let report_en = upload(&c.file, "?lang=en");
    let changed = upload(&altered(&f.cert("JT2024-000077").file), "");
    let not_zip_zh = upload(b"this is not an OFD file at all", "");
    let not_zip_en = upload(b"this is not an OFD file at all", "?lang=en");

    // What the reports say.
    let zh = report_zh.text();
    for expected in ["签章人签名", "数字证书", "签名覆盖全部内容", "通过"] {
        assert!(zh.contains(expected), "{expected}: {zh}");
    }
    let en = report_en.text();
    assert!(
        en.contains("Seal validity") && en.contains("Passed"),
        "{en}"
    );
    let altered_zh = changed.text();
    assert!(altered_zh.contains("未通过"), "{altered_zh}");
    assert!(
        altered_zh.contains("签章验证未通过：签名内容完整"),
        "{altered_zh}"
    );
    for page in [&zh, &en, &altered_zh] {
        for debug in ["ReferenceHashes", "[(\"", "SignatureFailed", "Some("] {
            assert!(!page.contains(debug), "debug text {debug:?} shown: {page}");
        }
    }
    assert_eq!(not_zip_zh.status, 422);
    let t = not_zip_zh.text();
    assert!(t.contains("这不是 OFD 文件") && t.contains("ZIP"), "{t}");
    assert!(not_zip_en.text().contains("This is not an OFD file"));

    let keep = std::env::var("ECERT_KEEP_SCREENSHOTS")
        .ok()
        .map(PathBuf::from);
    if let Some(dir) = &keep {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut pages: Vec<(String, String)> = Vec::new();
    for (lang, q) in [("zh", ""), ("en", "?lang=en")] {
        pages.push((format!("home-{lang}"), get(&format!("/{q}")).text()));
        pages.push((
            format!("current-{lang}"),
            get(&format!("/v/{}{q}", c.token)).text(),
        ));
        pages.push((
            format!("void-{lang}"),
            get(&format!("/v/{}{q}", old.token)).text(),
        ));
        pages.push((
            format!("supplement-{lang}"),
            get(&format!("/v/{}{q}", f.supplement.token)).text(),
        ));
        pages.push((
            format!("not-found-{lang}"),
            get(&format!("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa{q}")).text(),
        ));
    }
    pages.push(("report-zh".into(), zh.clone()));
    pages.push(("report-en".into(), en.clone()));
    pages.push(("altered-zh".into(), altered_zh.clone()));
    pages.push(("not-ofd-zh".into(), t.clone()));
    pages.push(("not-ofd-en".into(), not_zip_en.text()));
    for (name, page) in &pages {
        let (width, broken) = measure(name, page, &css, keep.as_deref());
        assert!(width <= 390, "{name}: {width} px wide at 390 px");
        assert!(broken.is_empty(), "{name}: words broken mid-word: {broken}");
    }
}
