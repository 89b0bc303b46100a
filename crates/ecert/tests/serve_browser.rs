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

    // The revised original: the exact sentence is what the person reads.
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
