//! Visual tests of the page renderer: pixels are asserted, and every rendered page is also
//! written to `$CARGO_TARGET_TMPDIR/render/` for a human to look at.
//!
//! Fixtures from ofdrw are read from the repository's `fixtures/ofdrw/`; the
//! sample and the synthetic pages use the Debian fonts `fonts-wqy-microhei` and
//! `fonts-dejavu-core` (`.ci/packages/ofd.apt`, `.ci/packages/ofd-render.apt`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use ofd::render::{
    FallbackFonts, RenderError, RenderOptions, RenderReport, inspect, pixel_rgba, pixel_size,
    render_file_page_png, render_page, render_page_report,
};
use ofd::write::{DocumentWriter, Path, PathStyle, Stroke, TextStyle};
use ofd::*;
use std::sync::{Arc, OnceLock};
use tiny_skia::Pixmap;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw");

fn fixture(name: &str) -> OfdFile {
    let p = format!("{FIXTURES}/{name}");
    let bytes = std::fs::read(&p).unwrap_or_else(|e| {
        panic!("缺少测试文件 {p}（{e}），它来自 ofdrw，应在本仓库的 fixtures/ofdrw/ 中 (fixture {p} is missing ({e}): it comes from ofdrw and belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)")
    });
    OfdFile::read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fallback() -> Arc<FallbackFonts> {
    let f = FallbackFonts::shared_system().unwrap_or_else(|e| {
        panic!("{e}: install fonts-wqy-microhei and fonts-dejavu-core (bash scripts/setup)")
    });
    assert_eq!(
        f.names().len(),
        2,
        "both fallback fonts load: {:?}",
        f.names()
    );
    f
}

fn sample_fonts() -> &'static sample::SampleFonts {
    static F: OnceLock<sample::SampleFonts> = OnceLock::new();
    F.get_or_init(|| {
        sample::SampleFonts::system()
            .unwrap_or_else(|e| panic!("{e} (bash scripts/setup installs the fonts)"))
    })
}

fn sample_file() -> OfdFile {
    let pkg = sample::build(sample_fonts(), &sample::SampleData::default()).unwrap();
    OfdFile::read(&pkg.to_zip().unwrap()).unwrap()
}

fn save(name: &str, p: &Pixmap) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("render");
    std::fs::create_dir_all(&dir).unwrap();
    p.save_png(dir.join(format!("{name}.png"))).unwrap();
}

/// Pixel rectangle of a mm rectangle at `dpi` (page origin 0,0).
fn px_rect(r: Rect, dpi: f64) -> (u32, u32, u32, u32) {
    let s = dpi / 25.4;
    (
        (r.x * s).floor().max(0.0) as u32,
        (r.y * s).floor().max(0.0) as u32,
        ((r.x + r.w) * s).ceil().max(0.0) as u32,
        ((r.y + r.h) * s).ceil().max(0.0) as u32,
    )
}

/// Pixels in a mm rectangle that are visibly not white.
fn ink(p: &Pixmap, r: Rect, dpi: f64) -> usize {
    let (x0, y0, x1, y1) = px_rect(r, dpi);
    let mut n = 0;
    for y in y0..y1.min(p.height()) {
        for x in x0..x1.min(p.width()) {
            let [r, g, b, _] = pixel_rgba(p, x, y).unwrap();
            if u32::from(r) + u32::from(g) + u32::from(b) < 3 * 200 {
                n += 1;
            }
        }
    }
    n
}

fn at(p: &Pixmap, x_mm: f64, y_mm: f64, dpi: f64) -> [u8; 4] {
    let s = dpi / 25.4;
    pixel_rgba(p, (x_mm * s) as u32, (y_mm * s) as u32).unwrap()
}

fn close(a: [u8; 4], b: [u8; 4], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

/// Every text object of a layer list, with its boundary.
fn text_boundaries(objs: &[GraphicObject], out: &mut Vec<(Rect, String)>) {
    for o in objs {
        match o {
            GraphicObject::Text(t) => out.push((
                t.common.boundary,
                t.codes.iter().map(|c| c.text.as_str()).collect(),
            )),
            GraphicObject::Block(b) => text_boundaries(&b.objects, out),
            _ => {}
        }
    }
}

fn page_texts(doc: &Document, page: usize) -> Vec<(Rect, String)> {
    let mut out = Vec::new();
    for l in &doc.pages[page].layers {
        text_boundaries(&l.objects, &mut out);
    }
    out
}

/// Asserts ink inside every text object's boundary that has visible characters.
fn assert_text_ink(p: &Pixmap, doc: &Document, page: usize, dpi: f64, what: &str) {
    let texts = page_texts(doc, page);
    assert!(!texts.is_empty(), "{what}: no text objects");
    let page_box = doc.page_box(page).unwrap();
    for (b, text) in texts {
        // Skip blank text and text placed off the page (the Suwell invoice has some).
        if text.trim().is_empty()
            || b.y >= page_box.y + page_box.h
            || b.x >= page_box.x + page_box.w
        {
            continue;
        }
        let n = ink(p, b, dpi);
        assert!(
            n > 3,
            "{what}: no ink in the boundary {b:?} of text {text:?}"
        );
    }
}

fn render(doc: &Document, page: usize, opts: &RenderOptions) -> (Pixmap, RenderReport) {
    render_page_report(doc, page, opts).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Page size.

#[test]
fn a4_page_size_at_96_and_150_dpi() {
    assert_eq!(pixel_size(210.0, 297.0, 96.0), (794, 1123));
    let f = sample_file();
    let doc = &f.ofd.docs[0].document;
    let p = render_page(doc, 0, &RenderOptions::with_dpi(96.0)).unwrap();
    assert_eq!((p.width(), p.height()), (794, 1123));
    let p = render_page(doc, 0, &RenderOptions::with_dpi(150.0)).unwrap();
    assert_eq!((p.width(), p.height()), (1240, 1754));
    // The background is opaque white where nothing is drawn.
    assert_eq!(pixel_rgba(&p, 3, 3), Some([255, 255, 255, 255]));
}

// ---------------------------------------------------------------------------------------------
// The three-page sample (R-4.1.6, R-6.3c).

/// the sample embeds its fonts, so it renders completely with the fallback fonts
/// disabled: every glyph comes from the embedded subsets, none is missing.
#[test]
fn r_4_1_6_sample_renders_from_embedded_fonts_alone() {
    let f = sample_file();
    let doc = &f.ofd.docs[0].document;
    let dpi = 96.0;
    for page in 0..3 {
        let opts = RenderOptions::with_dpi(dpi); // fallback: None
        assert!(opts.fallback.is_none());
        let (p, rep) = render(doc, page, &opts);
        save(&format!("sample-p{}", page + 1), &p);
        assert_eq!(rep.glyphs_fallback, 0, "page {}: {rep:?}", page + 1);
        assert_eq!(rep.glyphs_missing, 0, "page {}: {rep:?}", page + 1);
        assert!(rep.glyphs_embedded > 30, "page {}: {rep:?}", page + 1);
        assert!(!rep.truncated);
        assert_text_ink(&p, doc, page, dpi, &format!("sample page {}", page + 1));
        // The same page with the fallback fonts available is pixel-identical: nothing is
        // substituted when fonts are embedded.
        let (q, rep2) = render(
            doc,
            page,
            &RenderOptions::with_dpi(dpi).fallback(fallback()),
        );
        assert_eq!(rep2.glyphs_fallback, 0);
        assert!(
            p.data() == q.data(),
            "page {} differs with fallback fonts",
            page + 1
        );
    }
}

#[test]
fn sample_page1_image_border_and_title() {
    let f = sample_file();
    let doc = &f.ofd.docs[0].document;
    let dpi = 150.0;
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi));
    save("sample-p1-150dpi", &p);
    assert_eq!(rep.images, 1);
    assert_eq!(rep.images_failed, 0);
    // The image (sample_png(64): dark square in the middle, red ring) at 150,220 30×30 mm.
    assert!(
        close(at(&p, 165.0, 235.0, dpi), [30, 30, 60, 255], 2),
        "{:?}",
        at(&p, 165.0, 235.0, dpi)
    );
    let ring = at(&p, 165.0 + 15.0 * 0.875, 235.0, dpi);
    assert!(close(ring, [200, 16, 46, 255], 6), "ring {ring:?}");
    assert!(
        close(at(&p, 151.5, 221.5, dpi), [255, 255, 255, 255], 2),
        "image corner"
    );
    // Just outside the image: white.
    assert!(close(at(&p, 148.5, 235.0, dpi), [255, 255, 255, 255], 0));
    // The frame: 0.5 mm stroke in rgb(0, 51, 102) centred on x = 15 mm.
    let frame = at(&p, 15.0, 150.0, dpi);
    assert!(close(frame, [0, 51, 102, 255], 8), "frame {frame:?}");
    assert!(close(at(&p, 16.5, 150.0, dpi), [255, 255, 255, 255], 0));
    // The title 校 准 证 书 at y = 45 mm baseline, 8 mm: a lot of ink above the baseline.
    assert!(ink(&p, Rect::new(60.0, 37.0, 60.0, 9.0), dpi) > 500);
}

#[test]
fn sample_page2_table_background_and_clipped_circle() {
    let f = sample_file();
    let doc = &f.ofd.docs[0].document;
    let dpi = 150.0;
    let (p, _) = render(doc, 1, &RenderOptions::with_dpi(dpi));
    save("sample-p2-150dpi", &p);
    // Background layer: rgb(210,225,240) at alpha 200 over white, between grid lines and text.
    let bg = at(&p, 55.0, 41.0, dpi);
    let blend = |c: u32| ((c * 200 + 255 * 55 + 127) / 255) as u8;
    assert!(
        close(bg, [blend(210), blend(225), blend(240), 255], 1),
        "background {bg:?}"
    );
    // Grid lines: black 0.3 mm at x = 60 mm between rows.
    let line = at(&p, 60.0, 65.0, dpi);
    assert!(line[0] < 80, "grid line {line:?}");
    // The red circle (centre 115,150, r 15) is clipped to x in [95, 115]: left half red,
    // right half white.
    assert!(close(at(&p, 105.0, 150.0, dpi), [200, 16, 46, 255], 1));
    assert!(close(at(&p, 108.0, 140.0, dpi), [200, 16, 46, 255], 1));
    assert!(close(at(&p, 120.0, 150.0, dpi), [255, 255, 255, 255], 0));
    assert_eq!(
        ink(&p, Rect::new(115.6, 130.0, 20.0, 40.0), dpi),
        0,
        "ink right of the clip"
    );
    // The arc's stroke reaches the left edge of the circle (x = 100).
    assert!(at(&p, 100.0, 150.0, dpi)[0] < 100);
    // Dashed rule at y = 110: alternating ink and gaps along the line.
    let s = dpi / 25.4;
    let y = (110.0 * s) as u32;
    let row: Vec<bool> = ((25.0 * s) as u32..(60.0 * s) as u32)
        .map(|x| pixel_rgba(&p, x, y).unwrap()[0] < 200)
        .collect();
    let flips = row.windows(2).filter(|w| w[0] != w[1]).count();
    // 35 mm of a 1.5 mm on / 1 mm off pattern: 14 periods, 2 transitions each.
    assert!((26..=30).contains(&flips), "dash transitions {flips}");
}

#[test]
fn sample_page3_curve_and_text() {
    let f = sample_file();
    let doc = &f.ofd.docs[0].document;
    let dpi = 96.0;
    let (p, _) = render(doc, 2, &RenderOptions::with_dpi(dpi));
    // The green curve passes through its end points.
    let g = at(&p, 140.0, 120.0, dpi);
    assert!(g[1] > g[0] + 30 && g[1] > g[2], "curve {g:?}");
}

// ---------------------------------------------------------------------------------------------
// Synthetic pages: exact colours, clips, alpha, images.

fn synthetic() -> OfdFile {
    let fonts = sample_fonts();
    let mut d = DocumentWriter::new(DocInfo {
        doc_id: "00112233445566778899aabbccddeeff".into(),
        ..Default::default()
    })
    .unwrap();
    let f = d.add_font(fonts.cjk.clone()).unwrap();
    let img = d.add_image(sample::sample_png(32)).unwrap();
    {
        let mut p = d.add_page();
        let mut l = p.body();
        l.path(
            Path::new().rect(Rect::new(10.0, 10.0, 40.0, 20.0)),
            &PathStyle::filled(Color::rgb(12, 200, 99)),
        )
        .unwrap();
        l.path(
            Path::new().rect(Rect::new(60.0, 10.0, 40.0, 20.0)),
            &PathStyle {
                fill: Some(Color::black()),
                alpha: Some(128),
                ..Default::default()
            },
        )
        .unwrap();
        l.text(&TextStyle::new(f, 10.0), 20.0, 60.0, "校准 Test")
            .unwrap();
        l.image(img, Rect::new(120.0, 40.0, 40.0, 40.0)).unwrap();
        let mut thick = Stroke::solid(Color::rgb(0, 0, 255), 4.0);
        thick.cap = Some(LineCap::Round);
        l.path(
            Path::new().move_to(20.0, 100.0).line_to(80.0, 100.0),
            &PathStyle::stroked(thick),
        )
        .unwrap();
    }
    OfdFile::read(&d.finish().unwrap().to_zip().unwrap()).unwrap()
}

#[test]
fn filled_rectangle_has_its_exact_colour_and_alpha_blends() {
    let f = synthetic();
    let doc = &f.ofd.docs[0].document;
    let dpi = 96.0;
    let (p, _) = render(doc, 0, &RenderOptions::with_dpi(dpi));
    save("synthetic", &p);
    assert_eq!(at(&p, 30.0, 20.0, dpi), [12, 200, 99, 255]);
    assert_eq!(at(&p, 10.5, 10.5, dpi), [12, 200, 99, 255]);
    assert_eq!(at(&p, 9.0, 20.0, dpi), [255, 255, 255, 255]);
    assert_eq!(at(&p, 51.0, 20.0, dpi), [255, 255, 255, 255]);
    // Black at alpha 128 over white.
    let g = at(&p, 80.0, 20.0, dpi);
    assert!(close(g, [127, 127, 127, 255], 1), "{g:?}");
    // The round-capped 4 mm blue line reaches ~2 mm beyond its end points.
    assert_eq!(at(&p, 50.0, 100.0, dpi), [0, 0, 255, 255]);
    assert_eq!(at(&p, 81.5, 100.0, dpi), [0, 0, 255, 255]);
    assert_eq!(at(&p, 50.0, 102.6, dpi), [255, 255, 255, 255]);
}

#[test]
fn image_pixels_land_in_their_boundary() {
    let f = synthetic();
    let doc = &f.ofd.docs[0].document;
    let dpi = 200.0;
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi));
    assert_eq!(rep.images, 1);
    // 32 px image over 40 mm: each source pixel 1.25 mm. Centre dark, ring red, corner white.
    assert!(close(at(&p, 140.0, 60.0, dpi), [30, 30, 60, 255], 1));
    assert!(close(
        at(&p, 140.0 + 20.0 * 0.875, 60.0, dpi),
        [200, 16, 46, 255],
        8
    ));
    assert!(close(at(&p, 121.0, 41.0, dpi), [255, 255, 255, 255], 1));
    // Nothing leaks out of the image's 40 × 40 mm box.
    assert_eq!(ink(&p, Rect::new(115.0, 35.0, 4.8, 50.0), dpi), 0);
    assert_eq!(ink(&p, Rect::new(160.2, 35.0, 5.0, 50.0), dpi), 0);
}

/// Content outside an object's Boundary is clipped (clause 8.5): shrink the boundaries of the
/// text and of the image and check that nothing is drawn outside them.
#[test]
fn nothing_is_drawn_outside_boundary_clips() {
    let mut f = synthetic();
    let dpi = 96.0;
    let doc = &mut f.ofd.docs[0].document;
    let full = render_page(doc, 0, &RenderOptions::with_dpi(dpi)).unwrap();
    let mut text_box = None;
    for o in &mut doc.pages[0].layers[0].objects {
        match o {
            GraphicObject::Text(t) => {
                // Keep the text where it is (compensate in X) but cut the boundary in half.
                let b = &mut t.common.boundary;
                b.w /= 2.0;
                text_box = Some(*b);
            }
            GraphicObject::Image(i) => {
                // Same CTM (the image keeps its size) but the boundary moves its origin: the
                // image shifts and its right half falls outside a boundary that is 20 mm wide.
                i.common.boundary.w = 20.0;
            }
            _ => {}
        }
    }
    let tb = text_box.unwrap();
    let p = render_page(doc, 0, &RenderOptions::with_dpi(dpi)).unwrap();
    save("synthetic-clipped", &p);
    let right = Rect::new(tb.x + tb.w + 0.3, tb.y, tb.w, tb.h);
    assert!(
        ink(&full, right, dpi) > 50,
        "the unclipped text has ink on the right"
    );
    assert_eq!(ink(&p, right, dpi), 0, "ink outside the text's boundary");
    let left = Rect::new(tb.x, tb.y, tb.w - 0.3, tb.h);
    assert_eq!(
        ink(&p, left, dpi),
        ink(&full, left, dpi),
        "inside the boundary nothing changes"
    );
    // The image: left 20 mm drawn, right 20 mm clipped.
    assert!(ink(&p, Rect::new(125.0, 55.0, 10.0, 10.0), dpi) > 0);
    assert_eq!(ink(&p, Rect::new(140.3, 40.0, 20.0, 40.0), dpi), 0);
}

/// `Clips` intersect with the boundary; several areas of one clip unite.
#[test]
fn clip_areas_unite_and_clips_intersect() {
    let mut f = synthetic();
    let dpi = 96.0;
    let doc = &mut f.ofd.docs[0].document;
    let rect_path = |x: f64, y: f64, w: f64, h: f64| PathObject {
        common: GraphicCommon {
            visible: true,
            boundary: Rect::new(x, y, w, h),
            ..Default::default()
        },
        stroke: false,
        fill: true,
        rule: FillRule::NonZero,
        stroke_color: None,
        fill_color: None,
        data: vec![
            PathOp::Move(0.0, 0.0),
            PathOp::Line(w, 0.0),
            PathOp::Line(w, h),
            PathOp::Line(0.0, h),
            PathOp::Close,
        ],
    };
    let GraphicObject::Path(green) = &mut doc.pages[0].layers[0].objects[0] else {
        panic!("first object is the green rectangle")
    };
    let b = green.common.boundary; // ≈ 10,10 40×20 plus padding
    // Clip 1: left quarter ∪ right quarter (relative to the boundary); clip 2: top half.
    green.common.clips = vec![
        Clip {
            areas: vec![
                ClipArea {
                    ctm: None,
                    path: rect_path(0.0, 0.0, b.w / 4.0, b.h),
                },
                ClipArea {
                    ctm: None,
                    path: rect_path(b.w * 0.75, 0.0, b.w / 4.0, b.h),
                },
            ],
        },
        Clip {
            areas: vec![ClipArea {
                ctm: None,
                path: rect_path(0.0, 0.0, b.w, b.h / 2.0),
            }],
        },
    ];
    let p = render_page(doc, 0, &RenderOptions::with_dpi(dpi)).unwrap();
    save("synthetic-clips", &p);
    let green_px = [12, 200, 99, 255];
    let white = [255, 255, 255, 255];
    let x = |f: f64| b.x + b.w * f;
    let y = |f: f64| b.y + b.h * f;
    assert_eq!(
        at(&p, x(0.15), y(0.3), dpi),
        green_px,
        "left quarter, top half"
    );
    assert_eq!(
        at(&p, x(0.85), y(0.3), dpi),
        green_px,
        "right quarter, top half"
    );
    assert_eq!(
        at(&p, x(0.5), y(0.3), dpi),
        white,
        "middle: in no area of clip 1"
    );
    assert_eq!(
        at(&p, x(0.15), y(0.75), dpi),
        white,
        "bottom: outside clip 2"
    );
}

/// Two objects larger than their boundaries, clipped one after the other: the second one's
/// clip must not inherit the first one's (the renderer reuses one rectangle mask per page).
#[test]
fn consecutive_boundary_clips_are_independent() {
    let mut f = synthetic();
    let dpi = 96.0;
    let doc = &mut f.ofd.docs[0].document;
    let objs = &mut doc.pages[0].layers[0].objects;
    let GraphicObject::Path(green) = objs[0].clone() else {
        panic!("first object is the green rectangle")
    };
    let b = green.common.boundary;
    let mut left = green.clone();
    left.common.boundary.w = b.w / 2.0;
    let mut right = green;
    right.fill_color = Some(Color::rgb(200, 0, 0));
    right.common.boundary.x = b.x + b.w / 2.0;
    right.common.boundary.w = b.w / 2.0;
    // Same place on the page: shift the drawing back by what the boundary moved.
    right.common.ctm = Some(Matrix::new(1.0, 0.0, 0.0, 1.0, -b.w / 2.0, 0.0));
    objs[0] = GraphicObject::Path(left);
    objs.insert(1, GraphicObject::Path(right));
    let p = render_page(doc, 0, &RenderOptions::with_dpi(dpi)).unwrap();
    save("synthetic-two-clips", &p);
    let y = b.y + b.h / 2.0;
    assert_eq!(at(&p, b.x + b.w * 0.25, y, dpi), [12, 200, 99, 255]);
    assert_eq!(at(&p, b.x + b.w * 0.75, y, dpi), [200, 0, 0, 255]);
    // The rest of the page is unaffected: the grey rectangle and the blue line are drawn.
    assert!(close(at(&p, 80.0, 20.0, dpi), [127, 127, 127, 255], 1));
    assert_eq!(at(&p, 50.0, 100.0, dpi), [0, 0, 255, 255]);
}

/// CFF outlines: a Noto Serif CJK SC subset (OpenType/CFF, Debian `fonts-noto-cjk`) embedded
/// by the writer is drawn from its embedded glyphs, with no fallback.
#[test]
fn cff_embedded_font_renders() {
    const NOTO: &str = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc";
    let src = FontSource::from_path(NOTO, 2)
        .unwrap_or_else(|e| panic!("{e}: install fonts-noto-cjk (bash scripts/setup)"));
    assert!(!src.has_truetype_outlines(), "Noto CJK has CFF outlines");
    let mut d = DocumentWriter::new(DocInfo {
        doc_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        ..Default::default()
    })
    .unwrap();
    let f = d.add_font(src).unwrap();
    d.add_page()
        .body()
        .text(&TextStyle::new(f, 12.0), 20.0, 40.0, "计量 Test")
        .unwrap();
    let file = OfdFile::read(&d.finish().unwrap().to_zip().unwrap()).unwrap();
    let doc = &file.ofd.docs[0].document;
    let i = inspect(&file);
    assert_eq!(i.documents[0].fonts[0].outlines.as_deref(), Some("CFF"));
    let dpi = 96.0;
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi));
    save("cff", &p);
    assert_eq!(rep.glyphs_missing, 0, "{rep:?}");
    assert_eq!(rep.glyphs_fallback, 0);
    assert_eq!(rep.glyphs_embedded, 7, "{rep:?}"); // the space too
    assert_text_ink(&p, doc, 0, dpi, "CFF");
    // 计 is the first 12 mm: plenty of ink above the baseline.
    assert!(ink(&p, Rect::new(20.0, 30.0, 12.0, 11.0), dpi) > 300);
}

/// The report names characters that display as nothing: WenQuanYi Micro Hei maps ℃ (U+2103)
/// to an empty glyph. Our writer refuses to write such a character, so the file is
/// made by hand from a written one: "20 A Ω" becomes "20 ℃ Ω" with a CGTransform that maps
/// ℃ to the (empty) space glyph of the embedded subset.
#[test]
fn blank_glyphs_are_reported() {
    let fonts = sample_fonts();
    let mut d = DocumentWriter::new(DocInfo {
        doc_id: "11112222333344445555666677778888".into(),
        ..Default::default()
    })
    .unwrap();
    let f = d.add_font(fonts.cjk.clone()).unwrap();
    assert!(
        d.add_page()
            .body()
            .text(&TextStyle::new(f, 10.0), 20.0, 40.0, "20 ℃ Ω")
            .is_err(),
        "the writer refuses ℃ in this font"
    );
    d.add_page()
        .body()
        .text(&TextStyle::new(f, 10.0), 20.0, 40.0, "20 A Ω")
        .unwrap();
    let pkg = d.finish().unwrap();
    let written = OfdFile::read(&pkg.to_zip().unwrap()).unwrap();
    let font = written.ofd.docs[0].document.fonts[0].data.clone().unwrap();
    let space = FontSource::new(font, 0).unwrap().glyph_for(' ').unwrap();
    let mut pkg = pkg;
    let content: Vec<String> = pkg
        .paths()
        .filter(|p| p.ends_with("Content.xml"))
        .map(str::to_owned)
        .collect();
    let mut edited = 0;
    for p in content {
        let xml = String::from_utf8(pkg.get(&p).unwrap().to_vec()).unwrap();
        if !xml.contains(">20 A Ω<") {
            continue;
        }
        let xml = xml.replace(">20 A Ω<", ">20 ℃ Ω<").replacen(
            "<ofd:TextCode",
            &format!(
                "<ofd:CGTransform CodePosition=\"3\" CodeCount=\"1\" GlyphCount=\"1\"><ofd:Glyphs>{space}</ofd:Glyphs></ofd:CGTransform><ofd:TextCode"
            ),
            1,
        );
        pkg.insert(&p, xml.into_bytes()).unwrap();
        edited += 1;
    }
    assert_eq!(edited, 1);
    let file = OfdFile::read(&pkg.to_zip().unwrap()).unwrap();
    let doc = &file.ofd.docs[0].document;
    let page = doc.pages.len() - 1;
    let (_, rep) = render(doc, page, &RenderOptions::with_dpi(48.0));
    assert_eq!(rep.glyphs_blank, 1, "℃ only, not the spaces: {rep:?}");
    assert_eq!(rep.glyphs_embedded, 6);
    // The sample draws its ℃ from the Latin font: nothing blank.
    let s = sample_file();
    let (_, rep) = render(&s.ofd.docs[0].document, 0, &RenderOptions::with_dpi(48.0));
    assert_eq!(rep.glyphs_blank, 0, "{rep:?}");
}

// ---------------------------------------------------------------------------------------------
// ofdrw fixtures.

#[test]
fn helloworld_uses_the_fallback_font_and_only_with_it() {
    let f = fixture("helloworld.ofd");
    let doc = &f.ofd.docs[0].document;
    assert!(
        doc.fonts.iter().all(|f| f.data.is_none()),
        "helloworld embeds no font"
    );
    let dpi = 150.0;
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi).fallback(fallback()));
    save("helloworld", &p);
    assert_eq!((p.width(), p.height()), (1240, 1754));
    assert_eq!(rep.glyphs_missing, 0, "{rep:?}");
    assert_eq!(rep.glyphs_embedded, 0);
    assert!(rep.glyphs_fallback >= 20, "{rep:?}");
    // Text object at 31.7 25.4 40.5 5: ink there, none elsewhere on the page.
    let b = Rect::new(31.7, 25.4, 40.5, 5.0);
    assert!(ink(&p, b, dpi) > 200);
    let total = ink(&p, Rect::new(0.0, 0.0, 210.0, 297.0), dpi);
    assert_eq!(
        total,
        ink(&p, b, dpi),
        "ink outside the only text object's boundary"
    );
    // The first glyph 你 sits in the first 3 mm; the Latin letters later at 1.5 mm pitch.
    assert!(ink(&p, Rect::new(31.7, 25.4, 3.0, 4.0), dpi) > 30);
    // Without fallback fonts nothing can be drawn, and the report says so.
    let (q, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi));
    assert_eq!(rep.glyphs_fallback, 0);
    assert!(rep.glyphs_missing >= 20);
    assert_eq!(ink(&q, Rect::new(0.0, 0.0, 210.0, 297.0), dpi), 0);
}

#[test]
fn suwell_invoice_renders_template_text_images_and_annotations() {
    let f = fixture("invoice-suwell.ofd");
    let doc = &f.ofd.docs[0].document;
    let dpi = 150.0;
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi).fallback(fallback()));
    save("invoice-suwell", &p);
    // The page's own Area: 210 × 140 mm.
    assert_eq!(
        (p.width(), p.height()),
        pixel_size(210.0, 140.0, dpi).try_into_u32()
    );
    assert_eq!(rep.glyphs_missing, 0, "{rep:?}");
    assert!(rep.glyphs_fallback > 200, "{rep:?}");
    assert!(rep.images >= 1, "{rep:?}");
    assert_eq!(rep.images_failed, 0, "{rep:?}");
    assert_text_ink(&p, doc, 0, dpi, "invoice");
    // Template lines (DrawParam of the layer gives the colour): the 201 mm line at y = 30.
    // Annotations: the watermark image (the red oval seal, Appearance 90 8 30 20) and the
    // rotated text 下载次数 (Appearance 206.46 29.54 3.31 22.23, CTM "0 1 -1 0 …").
    let seal = Rect::new(90.0, 8.0, 30.0, 20.0);
    let side = Rect::new(206.46, 29.54, 3.31, 22.23);
    let red = |p: &Pixmap| {
        let s = dpi / 25.4;
        let mut n = 0;
        for y in (seal.y * s) as u32..((seal.y + seal.h) * s) as u32 {
            for x in (seal.x * s) as u32..((seal.x + seal.w) * s) as u32 {
                let [r, g, b, _] = pixel_rgba(p, x, y).unwrap();
                if r > 150 && g < 100 && b < 100 {
                    n += 1;
                }
            }
        }
        n
    };
    assert!(red(&p) > 500, "watermark seal image");
    assert!(ink(&p, side, dpi) > 50, "rotated watermark text");
    let mut no_annots = RenderOptions::with_dpi(dpi).fallback(fallback());
    no_annots.annotations = false;
    let (q, _) = render(doc, 0, &no_annots);
    assert!(
        red(&q) < red(&p) / 4,
        "the seal oval comes from the annotation"
    );
    assert_eq!(ink(&q, side, dpi), 0);
    // Its colour comes from DrawParam 4 → Relative 3 (StrokeColor 128 0 0, LineWidth 0.25).
    let line = at(&p, 100.0, 30.0, dpi);
    assert!(
        line[0] > line[1] + 60 && line[1] == line[2],
        "template line at y=30: {line:?}"
    );
}

trait TryU32 {
    fn try_into_u32(self) -> (u32, u32);
}
impl TryU32 for (u64, u64) {
    fn try_into_u32(self) -> (u32, u32) {
        (self.0 as u32, self.1 as u32)
    }
}

#[test]
fn sealed_fixtures_render() {
    for name in ["v4signed.ofd", "SESV4SignDoc.ofd"] {
        let f = fixture(name);
        let doc = &f.ofd.docs[0].document;
        let dpi = 96.0;
        let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(dpi).fallback(fallback()));
        save(name.trim_end_matches(".ofd"), &p);
        assert_eq!(rep.glyphs_missing, 0, "{name}: {rep:?}");
        assert!(!rep.truncated);
        assert_text_ink(&p, doc, 0, dpi, name);
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points and hostile input.

#[test]
fn cli_entry_pages_are_one_based_and_out_of_range_is_clear() {
    let f = fixture("helloworld.ofd");
    let png = render_file_page_png(&f, 1, &RenderOptions::with_dpi(30.0)).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let back = Pixmap::decode_png(&png).unwrap();
    assert_eq!(
        (back.width(), back.height()),
        pixel_size(210.0, 297.0, 30.0).try_into_u32()
    );
    for n in [0, 2] {
        let e = render_file_page_png(&f, n, &RenderOptions::default()).unwrap_err();
        assert_eq!(
            e,
            RenderError::NoSuchPage {
                number: n,
                count: 1
            }
        );
        assert!(e.to_string().contains("1 page(s)"), "{e}");
    }
}

#[test]
fn hostile_sizes_are_refused_not_allocated() {
    let f = fixture("helloworld.ofd");
    let doc = &f.ofd.docs[0].document;
    assert!(matches!(
        render_page(doc, 0, &RenderOptions::with_dpi(2400.0)),
        Err(RenderError::TooLarge { .. })
    ));
    for dpi in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
        assert!(matches!(
            render_page(doc, 0, &RenderOptions::with_dpi(dpi)),
            Err(RenderError::BadDpi(_))
        ));
    }
    let mut d = doc.clone();
    d.pages[0].area = Some(PageArea::new(Rect::new(0.0, 0.0, 1e300, 5.0)));
    assert!(matches!(
        render_page(&d, 0, &RenderOptions::default()),
        Err(RenderError::BadPageBox { .. })
    ));
    d.pages[0].area = Some(PageArea::new(Rect::new(0.0, 0.0, 1e5, 1e5)));
    assert!(matches!(
        render_page(&d, 0, &RenderOptions::default()),
        Err(RenderError::TooLarge { .. })
    ));
}

#[test]
fn hostile_content_is_bounded_and_never_panics() {
    let mut f = synthetic();
    let doc = &mut f.ofd.docs[0].document;
    let layer = &mut doc.pages[0].layers[0].objects;
    let GraphicObject::Path(p0) = layer[0].clone() else {
        panic!()
    };
    let GraphicObject::Text(t0) = layer
        .iter()
        .find(|o| matches!(o, GraphicObject::Text(_)))
        .cloned()
        .unwrap()
    else {
        panic!()
    };
    // 3 million path operators.
    let mut big = p0.clone();
    big.data = (0..3_000_000)
        .map(|i| PathOp::Line(f64::from(i % 100), f64::from(i % 77)))
        .collect();
    // Degenerate and non-finite geometry.
    let mut nan = p0.clone();
    nan.common.ctm = Some(Matrix::new(f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0));
    let mut zero = p0.clone();
    zero.common.ctm = Some(Matrix::new(0.0, 0.0, 0.0, 0.0, 0.0, 0.0));
    let mut huge = p0.clone();
    huge.data = vec![
        PathOp::Move(-1e30, -1e30),
        PathOp::Line(1e30, 1e30),
        PathOp::Arc {
            rx: 1e300,
            ry: 1e-300,
            angle: 1e20,
            large: true,
            sweep: false,
            x: 3.0,
            y: f64::MAX,
        },
    ];
    huge.common.dash_pattern = vec![1e-9, 1e-9];
    // A text with 300 000 characters and CGTransforms pointing anywhere.
    let mut long = t0.clone();
    long.codes[0].text = "校".repeat(300_000);
    long.codes[0].cg_transforms = vec![CgTransform {
        code_position: u32::MAX,
        code_count: u32::MAX,
        glyph_count: 9,
        glyphs: vec![65535; 9],
    }];
    let mut garbage_font = t0.clone();
    garbage_font.font = Id(999_999);
    let mut bad_size = t0.clone();
    bad_size.size = f64::INFINITY;
    layer.extend([big, nan, zero, huge].map(GraphicObject::Path));
    layer.extend([long, garbage_font, bad_size].map(GraphicObject::Text));
    doc.fonts.push(Font {
        id: Id(999_999),
        font_name: "garbage".into(),
        family_name: None,
        charset: None,
        bold: false,
        italic: false,
        serif: false,
        fixed_width: false,
        file: Some("x.ttf".into()),
        data: Some(vec![0, 1, 0, 0, 0, 9, 0xff, 0xff]),
    });
    // An image whose header claims 100 000 × 100 000 pixels, and one that is not an image.
    let mut png = sample::sample_png(4);
    png[16..24].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    for m in &mut doc.media {
        m.data = png.clone();
    }
    // DrawParams that inherit from each other in a cycle.
    for (id, rel) in [(777, 778), (778, 777)] {
        doc.draw_params.push(DrawParam {
            id: Id(id),
            relative: Some(Id(rel)),
            ..Default::default()
        });
    }
    doc.pages[0].layers[0].draw_param = Some(Id(777));
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(96.0));
    assert!(rep.truncated, "{rep:?}");
    assert!(rep.images_failed >= 1, "{rep:?}");
    assert!(rep.skipped.iter().any(|s| s.contains("limit")), "{rep:?}");
    assert_eq!((p.width(), p.height()), (794, 1123));
}

/// Many objects that each need clipping to a large boundary: the clipping work is budgeted,
/// so the page finishes quickly and says it was truncated.
#[test]
fn clipping_work_is_bounded() {
    // Budgets are in page areas, so a low resolution tests the same logic quickly.
    let mut f = synthetic();
    let doc = &mut f.ofd.docs[0].document;
    let objs = &mut doc.pages[0].layers[0].objects;
    let GraphicObject::Path(green) = objs[0].clone() else {
        panic!("first object is the green rectangle")
    };
    let mut big = green;
    // Boundary: the left half of the page; drawing: the whole page and more.
    big.common.boundary = Rect::new(0.0, 0.0, 105.0, 297.0);
    big.data = vec![
        PathOp::Move(-10.0, -10.0),
        PathOp::Line(300.0, -10.0),
        PathOp::Line(300.0, 400.0),
        PathOp::Line(-10.0, 400.0),
        PathOp::Close,
    ];
    objs.extend(std::iter::repeat_n(GraphicObject::Path(big.clone()), 2_000));
    let (p, rep) = render(doc, 0, &RenderOptions::with_dpi(24.0));
    assert!(rep.truncated, "{rep:?}");
    assert!(
        rep.skipped.iter().any(|s| s.contains("clipping work")),
        "{rep:?}"
    );
    assert!(rep.paths > 40 && rep.paths < 2_000, "{rep:?}");
    // What was drawn is clipped: the left half green, the right half as before.
    assert_eq!(at(&p, 50.0, 200.0, 24.0), [12, 200, 99, 255]);
    assert_eq!(at(&p, 150.0, 200.0, 24.0), [255, 255, 255, 255]);
    // Unclipped page-sized objects: the painted area is budgeted too.
    let objs = &mut doc.pages[0].layers[0].objects;
    objs.truncate(1);
    big.common.boundary = Rect::new(0.0, 0.0, 210.0, 297.0);
    big.data = vec![
        PathOp::Move(5.0, 5.0),
        PathOp::Line(205.0, 5.0),
        PathOp::Line(205.0, 290.0),
        PathOp::Close,
    ];
    objs.extend(std::iter::repeat_n(GraphicObject::Path(big), 5_000));
    let (_, rep) = render(doc, 0, &RenderOptions::with_dpi(24.0));
    assert!(rep.truncated, "{rep:?}");
    assert!(
        rep.skipped.iter().any(|s| s.contains("painted area")),
        "{rep:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// inspect.

#[test]
fn inspect_summarises_the_sample() {
    let f = sample_file();
    let i = inspect(&f);
    assert_eq!(i.version, "1.0");
    let d = &i.documents[0];
    assert_eq!(d.pages.len(), 3);
    assert_eq!(d.pages[0].physical_box.w, 210.0);
    assert_eq!(d.pages[0].objects.image, 1);
    assert!(d.pages[1].objects.path >= 4);
    assert!(d.pages[0].objects.chars > 50);
    assert_eq!(d.fonts.len(), 2);
    for font in &d.fonts {
        assert!(font.embedded);
        assert_eq!(font.outlines.as_deref(), Some("TrueType"));
        let n = font.glyph_count.unwrap();
        assert!(
            n > 10 && n < 400,
            "a subset, not the whole font: {n} glyphs"
        );
    }
    assert_eq!(d.images.len(), 1);
    assert_eq!(d.images[0].pixels, Some((64, 64)));
    assert_eq!(d.custom_tags.len(), 1);
    assert_eq!(
        d.custom_tags[0].root.as_deref(),
        Some("{urn:ecert:certificate:1}Certificate")
    );
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(d.attachments[0].format.as_deref(), Some("ofd"));
    assert!(d.signatures.is_none());
    assert_eq!(d.info.custom_data[0].1, "JL2026-000123");
    assert!(i.loaded_parts.iter().any(|p| p.ends_with("Content.xml")));
    let json = serde_json::to_value(&i).unwrap();
    assert_eq!(json["documents"][0]["pages"].as_array().unwrap().len(), 3);
    assert!(json["loaded_parts"].as_array().unwrap().len() >= 8);
    let text = i.to_text();
    assert!(
        text.contains("JL2026-000123") && text.contains("embedded"),
        "{text}"
    );
}

#[test]
fn inspect_fixtures_fonts_and_signatures() {
    let inv = inspect(&fixture("invoice-suwell.ofd"));
    let d = &inv.documents[0];
    assert!(
        d.fonts
            .iter()
            .all(|f| !f.embedded && f.glyph_count.is_none())
    );
    assert_eq!(d.pages[0].physical_box.h, 140.0);
    assert_eq!(d.pages[0].templates.len(), 1);
    assert!(d.pages[0].annotations.iter().any(|(t, _)| t == "Watermark"));
    assert!(d.images.iter().all(|m| m.pixels.is_some()));
    let signed = inspect(&fixture("v4signed.ofd"));
    let s = signed.documents[0]
        .signatures
        .as_ref()
        .expect("v4signed has signatures");
    assert!(s.present);
    assert_eq!(s.count, 1);
    assert!(s.signature_files[0].ends_with("Signature.xml"), "{s:?}");
    assert!(
        !signed.warnings.is_empty(),
        "v4signed is sloppy and the reader says so"
    );
    // The signature files are not model parts: listed as not loaded.
    assert!(
        signed
            .unreferenced_parts
            .iter()
            .any(|p| p.contains("Signs/"))
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn num() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -300.0..300.0f64,
            1 => Just(f64::NAN),
            1 => Just(1e300),
            1 => Just(-0.0),
        ]
    }

    fn op() -> impl Strategy<Value = PathOp> {
        prop_oneof![
            (num(), num()).prop_map(|(x, y)| PathOp::Move(x, y)),
            (num(), num()).prop_map(|(x, y)| PathOp::Line(x, y)),
            (num(), num(), num(), num()).prop_map(|(a, b, x, y)| PathOp::Quad(a, b, x, y)),
            (num(), num(), num(), num(), num(), num())
                .prop_map(|(a, b, c, d, x, y)| PathOp::Cubic(a, b, c, d, x, y)),
            (
                num(),
                num(),
                num(),
                any::<bool>(),
                any::<bool>(),
                num(),
                num()
            )
                .prop_map(|(rx, ry, angle, large, sweep, x, y)| PathOp::Arc {
                    rx,
                    ry,
                    angle,
                    large,
                    sweep,
                    x,
                    y
                }),
            Just(PathOp::Close),
        ]
    }

    fn clip_area() -> impl Strategy<Value = ClipArea> {
        (
            proptest::option::of((num(), num(), num(), num(), num(), num())),
            (num(), num(), num(), num()),
            proptest::collection::vec(op(), 0..8),
        )
            .prop_map(|(ctm, (x, y, w, h), data)| ClipArea {
                ctm: ctm.map(|(a, b, c, d, e, f)| Matrix::new(a, b, c, d, e, f)),
                path: PathObject {
                    common: GraphicCommon {
                        visible: true,
                        boundary: Rect::new(x, y, w, h),
                        ..Default::default()
                    },
                    stroke: false,
                    fill: true,
                    rule: FillRule::NonZero,
                    stroke_color: None,
                    fill_color: None,
                    data,
                },
            })
    }

    fn common() -> impl Strategy<Value = GraphicCommon> {
        (
            (num(), num(), num(), num()),
            proptest::option::of((num(), num(), num(), num(), num(), num())),
            proptest::option::of(any::<u8>()),
            proptest::collection::vec(num(), 0..4),
            proptest::option::of(num()),
            proptest::collection::vec(proptest::collection::vec(clip_area(), 0..3), 0..2),
        )
            .prop_map(
                |((x, y, w, h), ctm, alpha, dash, lw, clips)| GraphicCommon {
                    visible: true,
                    boundary: Rect::new(x, y, w, h),
                    ctm: ctm.map(|(a, b, c, d, e, f)| Matrix::new(a, b, c, d, e, f)),
                    alpha,
                    dash_pattern: dash,
                    line_width: lw,
                    clips: clips.into_iter().map(|areas| Clip { areas }).collect(),
                    ..Default::default()
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Random geometry, matrices, colours, text codes and glyph mappings: the renderer
        /// returns a page of the right size and never panics.
        #[test]
        fn random_objects_render(
            paths in proptest::collection::vec(
                (common(), proptest::collection::vec(op(), 0..40), any::<bool>(), any::<bool>(),
                 proptest::collection::vec(num(), 0..5)),
                0..6),
            texts in proptest::collection::vec(
                (common(), num(), "[a-zA-Z校准 ]{0,12}", proptest::collection::vec(num(), 0..6),
                 any::<u32>(), any::<u32>(), proptest::collection::vec(any::<u16>(), 0..4)),
                0..4),
            images in proptest::collection::vec(common(), 0..3),
        ) {
            let mut f = synthetic();
            let doc = &mut f.ofd.docs[0].document;
            let font = doc.fonts[0].id;
            let layer = &mut doc.pages[0].layers[0].objects;
            for (common, data, fill, stroke, color) in paths {
                layer.push(GraphicObject::Path(PathObject {
                    common,
                    stroke,
                    fill,
                    rule: FillRule::EvenOdd,
                    stroke_color: None,
                    fill_color: Some(Color { value: color, color_space: None, alpha: 200, index: None }),
                    data,
                }));
            }
            for (common, size, text, dx, pos, count, glyphs) in texts {
                layer.push(GraphicObject::Text(TextObject {
                    common,
                    font,
                    size,
                    stroke: true,
                    fill: true,
                    hscale: 1.0,
                    read_direction: 0,
                    char_direction: 0,
                    weight: 400,
                    italic: false,
                    fill_color: None,
                    stroke_color: None,
                    codes: vec![TextCode {
                        x: 1.0,
                        y: 5.0,
                        delta_x: dx,
                        delta_y: Vec::new(),
                        text,
                        cg_transforms: vec![CgTransform {
                            code_position: pos % 16,
                            code_count: count % 16,
                            glyph_count: glyphs.len() as u32,
                            glyphs,
                        }],
                    }],
                }));
            }
            let image = doc.media[0].id;
            let layer = &mut doc.pages[0].layers[0].objects;
            for common in images {
                layer.push(GraphicObject::Image(ImageObject {
                    common,
                    resource_id: image,
                    substitution: None,
                    image_mask: None,
                }));
            }
            let p = render_page(doc, 0, &RenderOptions::with_dpi(12.0)).unwrap();
            prop_assert_eq!((p.width(), p.height()), (99, 140));
        }
    }
}
