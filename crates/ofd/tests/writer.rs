//! Writer API behaviour: CGTransform for glyphs off the cmap, errors for what OFD
//! cannot carry, page boxes, determinism.
#![allow(clippy::unwrap_used)]
use ofd::write::{DocumentWriter, Glyph, TextStyle, WriteError};
use ofd::{DocInfo, FontError, FontSource, GraphicObject, OfdFile, Rect};

fn latin() -> FontSource {
    FontSource::from_path(ofd::sample::LATIN_FONT, 0)
        .unwrap_or_else(|e| panic!("{e}: install fonts-dejavu-core (.ci/packages/ofd.apt)"))
}

fn info() -> DocInfo {
    DocInfo {
        doc_id: "abcdefabcdefabcdefabcdefabcdefab".into(),
        ..Default::default()
    }
}

/// a glyph the cmap does not give for its text gets a CGTransform pointing at the
/// right glyph of the embedded subset; a ligature glyph covers two characters.
#[test]
fn r_4_1_6_glyphs_off_the_cmap_get_cg_transform() {
    let src = latin();
    let (a, b, f) = (
        src.glyph_for('A').unwrap(),
        src.glyph_for('B').unwrap(),
        src.glyph_for('f').unwrap(),
    );
    let mut doc = DocumentWriter::new(info()).unwrap();
    let font = doc.add_font(src.clone()).unwrap();
    let glyphs = [
        Glyph {
            id: a,
            text: "A".into(),
            advance: 2.0,
        },
        Glyph {
            id: b,
            text: "8".into(),
            advance: 2.5,
        },
        Glyph {
            id: f,
            text: "fi".into(),
            advance: 1.5,
        },
        Glyph {
            id: a,
            text: String::new(),
            advance: 2.0,
        },
    ];
    doc.add_page()
        .body()
        .glyph_run(&TextStyle::new(font, 4.0), 10.0, 20.0, &glyphs)
        .unwrap();
    let bytes = doc.finish().unwrap().to_zip().unwrap();
    let r = OfdFile::read(&bytes).unwrap();
    let d = &r.ofd.docs[0].document;
    let GraphicObject::Text(t) = &d.pages[0].layers[0].objects[0] else {
        panic!()
    };
    let code = &t.codes[0];
    assert_eq!(code.text, "A8fi\u{FFFD}");
    assert_eq!(code.delta_x, vec![2.0, 2.5, 0.0, 1.5]);
    let sub = FontSource::new(d.fonts[0].data.clone().unwrap(), 0).unwrap();
    // Subset glyph order: .notdef, then the original glyphs in ascending order.
    let mut order = [a, b, f];
    order.sort_unstable();
    let new = |g: u16| order.iter().position(|&x| x == g).unwrap() as u16 + 1;
    let (na, nb, nf) = (new(a), new(b), new(f));
    let cg: Vec<(u32, u32, Vec<u16>)> = code
        .cg_transforms
        .iter()
        .map(|c| (c.code_position, c.code_count, c.glyphs.clone()))
        .collect();
    assert_eq!(
        cg,
        vec![(1, 1, vec![nb]), (2, 2, vec![nf]), (4, 1, vec![na])]
    );
    assert_eq!(sub.advance(nb), src.advance(b));
    assert_eq!(sub.advance(nf), src.advance(f));
    // The embedded cmap holds exactly the characters drawn through it.
    assert_eq!(sub.glyph_for('A'), Some(na));
    assert_eq!(sub.glyph_for('B'), None);
    assert_eq!(sub.glyph_count(), 4, ".notdef, A, B, f");
}

#[test]
fn errors_name_the_problem() {
    let mut doc = DocumentWriter::new(info()).unwrap();
    let font = doc.add_font(latin()).unwrap();
    let e = doc
        .add_page()
        .body()
        .text(&TextStyle::new(font, 4.0), 0.0, 0.0, "中")
        .unwrap_err();
    assert!(
        matches!(
            e,
            WriteError::Font(FontError::MissingGlyph { ch: '中', .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("U+4E2D"), "{e}");
    let e = doc
        .add_page()
        .body()
        .text(&TextStyle::new(font, 4.0), 0.0, 0.0, "a\u{1}b")
        .unwrap_err();
    assert!(matches!(e, WriteError::Invalid { what: "text", .. }), "{e}");
    let e = doc
        .add_page()
        .body()
        .text(&TextStyle::new(font, 0.0), 0.0, 0.0, "a")
        .unwrap_err();
    assert!(
        matches!(
            e,
            WriteError::Invalid {
                what: "font size",
                ..
            }
        ),
        "{e}"
    );
    assert!(doc.add_image(b"GIF89a".to_vec()).is_err());
    let mut other = DocumentWriter::new(info()).unwrap();
    let e = other
        .add_page()
        .body()
        .text(&TextStyle::new(font, 4.0), 0.0, 0.0, "a")
        .unwrap_err();
    assert!(matches!(e, WriteError::ForeignHandle("font")), "{e}");
    let e = doc
        .add_attachment(ofd::write::AttachmentSpec {
            name: "x".into(),
            format: "xml".into(),
            file_name: "../x".into(),
            data: vec![],
            creation_date: None,
            visible: true,
            usage: None,
        })
        .unwrap_err();
    assert!(matches!(e, WriteError::Invalid { .. }), "{e}");
    let e = doc
        .add_ofd_attachment("x", "x.ofd", b"not an ofd".to_vec(), None)
        .unwrap_err();
    assert!(e.to_string().contains("R-4.1.5"), "{e}");
    let e = doc
        .add_custom_tag(ofd::write::CustomTagSpec {
            type_id: "t".into(),
            file_name: "t.xml".into(),
            xml: b"<a><b></a>".to_vec(),
            schema: None,
        })
        .unwrap_err();
    assert!(e.to_string().contains("well-formed"), "{e}");
}

/// A4 by default; any PhysicalBox per page is written as the page's Area.
#[test]
fn r_4_3_3_a4_default_and_custom_boxes() {
    let mut doc = DocumentWriter::new(info()).unwrap();
    doc.add_page();
    doc.add_page_with_box(Rect::new(0.0, 0.0, 297.0, 210.0));
    let r = OfdFile::read(&doc.finish().unwrap().to_zip().unwrap()).unwrap();
    let d = &r.ofd.docs[0].document;
    assert_eq!(d.page_box(0), Some(Rect::A4));
    assert_eq!(d.page_box(1), Some(Rect::new(0.0, 0.0, 297.0, 210.0)));
}

/// Deterministic: same input → same bytes; another DocID → other bytes.
#[test]
fn deterministic_output() {
    let make = |id: &str| {
        let mut doc = DocumentWriter::new(DocInfo {
            doc_id: id.into(),
            ..Default::default()
        })
        .unwrap();
        let f = doc.add_font(latin()).unwrap();
        doc.add_page()
            .body()
            .text(&TextStyle::new(f, 4.0), 10.0, 10.0, "Hello")
            .unwrap();
        doc.finish().unwrap().to_zip().unwrap()
    };
    assert_eq!(make("a1"), make("a1"));
    assert_ne!(make("a1"), make("a2"));
}

/// aid: characters whose glyph is empty are reported (WenQuanYi Micro Hei's ℃), so a
/// layout engine can choose another font before writing.
#[test]
fn r_4_1_6_blank_glyphs_are_found() {
    let cjk = FontSource::from_path(ofd::sample::CJK_FONT, 0)
        .unwrap_or_else(|e| panic!("{e}: install fonts-wqy-microhei (.ci/packages/ofd.apt)"));
    assert_eq!(cjk.blank_glyphs("温度 (20 ± 2) ℃ Ω"), vec!['℃']);
    assert!(latin().blank_glyphs("°C").is_empty());
}

/// a visible character written with an empty glyph (WenQuanYi Micro Hei's ℃) is
/// refused with an error naming it, by `text` and by `glyph_run`; spaces, zero-width
/// characters and glyphs without text (all legitimately blank) still go through.
#[test]
fn r_4_1_6_blank_glyphs_are_refused() {
    let cjk = FontSource::from_path(ofd::sample::CJK_FONT, 0)
        .unwrap_or_else(|e| panic!("{e}: install fonts-wqy-microhei (.ci/packages/ofd.apt)"));
    let celsius = cjk.glyph_for('℃').unwrap();
    let space = cjk.glyph_for(' ').unwrap();
    assert!(!cjk.glyph_has_outline(celsius) && !cjk.glyph_has_outline(space));
    assert!(cjk.glyph_has_outline(cjk.glyph_for('温').unwrap()));
    // Blank by design, hence allowed on an empty glyph: spaces, zero-width and format
    // characters, Hangul fillers (the shipped ECert fonts map U+FFA0 to an empty glyph).
    for c in [
        ' ', '\u{3000}', '\u{200B}', '\u{FEFF}', '\u{FFA0}', '\u{3164}',
    ] {
        assert!(!ofd::font::is_visible_char(c), "{c:?}");
    }
    assert!(ofd::font::is_visible_char('℃') && ofd::font::is_visible_char('A'));
    let mut doc = DocumentWriter::new(info()).unwrap();
    let font = doc.add_font(cjk.clone()).unwrap();
    let style = TextStyle::new(font, 4.0);
    let mut page = doc.add_page();
    let mut body = page.body();
    let e = body.text(&style, 10.0, 10.0, "温度 20 ℃").unwrap_err();
    assert!(
        matches!(
            &e,
            WriteError::Font(FontError::BlankGlyph {
                ch: '℃',
                code: 0x2103,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("字形为空"), "{e}");
    let e = body
        .glyph_run(
            &style,
            10.0,
            20.0,
            &[Glyph {
                id: celsius,
                text: "℃".into(),
                advance: 4.0,
            }],
        )
        .unwrap_err();
    assert!(
        matches!(e, WriteError::Font(FontError::BlankGlyph { ch: '℃', .. })),
        "{e:?}"
    );
    // Legitimately blank: a space, a zero-width space on the space glyph, no text at all.
    body.text(&style, 10.0, 30.0, "温度 20\u{200B}度").unwrap();
    body.glyph_run(
        &style,
        10.0,
        40.0,
        &[
            Glyph {
                id: space,
                text: "\u{200B}".into(),
                advance: 0.0,
            },
            Glyph {
                id: space,
                text: String::new(),
                advance: 1.0,
            },
        ],
    )
    .unwrap();
    // Nothing of the refused runs was written.
    let r = OfdFile::read(&doc.finish().unwrap().to_zip().unwrap()).unwrap();
    let page = &r.ofd.docs[0].document.pages[0];
    let texts: Vec<String> = page.layers[0]
        .objects
        .iter()
        .filter_map(|o| match o {
            GraphicObject::Text(t) => Some(t.codes.iter().map(|c| c.text.as_str()).collect()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().all(|t| !t.contains('℃')), "{texts:?}");
}

/// A two-pixel PNG: left half red, right half blue (to see rotations).
fn red_blue_png() -> Vec<u8> {
    let mut p = tiny_skia::Pixmap::new(2, 1).unwrap();
    p.pixels_mut()[0] = tiny_skia::ColorU8::from_rgba(255, 0, 0, 255).premultiply();
    p.pixels_mut()[1] = tiny_skia::ColorU8::from_rgba(0, 0, 255, 255).premultiply();
    p.encode_png().unwrap()
}

/// `image_placed`: a rotated image gets its bounding box as `Boundary` and the placement
/// relative to it as `CTM`, and displays rotated; a flattening placement is refused.
#[test]
fn image_placed_rotates() {
    use ofd::render::{RenderOptions, pixel_rgba, render_page};
    let mut doc = DocumentWriter::new(info()).unwrap();
    let img = doc.add_image(red_blue_png()).unwrap();
    let mut page = doc.add_page();
    let mut body = page.body();
    // 20 × 10 mm, turned 90° clockwise: the image's top edge runs down from (60, 50), its
    // left edge runs left, so red covers y 50–60 and blue y 60–70, both at x 50–60.
    body.image_placed(img, ofd::Matrix::new(0.0, 20.0, -10.0, 0.0, 60.0, 50.0))
        .unwrap();
    let e = body
        .image_placed(img, ofd::Matrix::new(1.0, 2.0, 2.0, 4.0, 0.0, 0.0))
        .unwrap_err();
    assert!(e.to_string().contains("determinant"), "{e}");
    let r = OfdFile::read(&doc.finish().unwrap().to_zip().unwrap()).unwrap();
    let d = &r.ofd.docs[0].document;
    let [GraphicObject::Image(im)] = d.pages[0].layers[0].objects.as_slice() else {
        panic!("one image expected: {:?}", d.pages[0].layers[0].objects);
    };
    assert_eq!(im.common.boundary, Rect::new(50.0, 50.0, 10.0, 20.0));
    assert_eq!(
        im.common.ctm,
        Some(ofd::Matrix::new(0.0, 20.0, -10.0, 0.0, 10.0, 0.0))
    );
    let dpi = 50.8; // 2 px per mm
    let p = render_page(d, 0, &RenderOptions::with_dpi(dpi)).unwrap();
    let at = |x: f64, y: f64| pixel_rgba(&p, (x * 2.0) as u32, (y * 2.0) as u32).unwrap();
    let near = |a: [u8; 4], b: [u8; 4]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 40);
    assert!(
        near(at(55.0, 54.0), [255, 0, 0, 255]),
        "{:?}",
        at(55.0, 54.0)
    );
    assert!(
        near(at(55.0, 66.0), [0, 0, 255, 255]),
        "{:?}",
        at(55.0, 66.0)
    );
    assert_eq!(at(65.0, 55.0), [255, 255, 255, 255]);
    assert_eq!(at(45.0, 55.0), [255, 255, 255, 255]);
}

/// Arcs are written as cubic Béziers (no `A` in the file: ofdrw-converter's renderer ignores
/// it), at most a quarter turn each, with every end point on the circle.
#[test]
fn arcs_are_written_as_cubics() {
    let mut doc = DocumentWriter::new(info()).unwrap();
    let mut circle = ofd::write::Path::new();
    circle
        .move_to(130.0, 150.0)
        .arc_to(15.0, 15.0, 0.0, true, true, 100.0, 150.0)
        .arc_to(15.0, 15.0, 0.0, true, true, 130.0, 150.0)
        .close();
    doc.add_page()
        .body()
        .path(
            &circle,
            &ofd::write::PathStyle::filled(ofd::Color::rgb(200, 16, 46)),
        )
        .unwrap();
    let zip = doc.finish().unwrap().to_zip().unwrap();
    let r = OfdFile::read(&zip).unwrap();
    let [GraphicObject::Path(p)] = r.ofd.docs[0].document.pages[0].layers[0].objects.as_slice()
    else {
        panic!("one path expected");
    };
    let b = p.common.boundary;
    let mut cubics = 0;
    for op in &p.data {
        match *op {
            ofd::PathOp::Cubic(_, _, _, _, x, y) => {
                cubics += 1;
                let d = ((b.x + x - 115.0).powi(2) + (b.y + y - 150.0).powi(2)).sqrt();
                assert!((d - 15.0).abs() < 1e-3, "end point off the circle: {d}");
            }
            ofd::PathOp::Move(..) | ofd::PathOp::Start(..) | ofd::PathOp::Close => {}
            ref other => panic!("unexpected operator {other:?}"),
        }
    }
    assert!(cubics >= 4, "{cubics} cubics");
    // The bounding box is the circle's (plus the writer's small margin).
    assert!(
        (b.x - 100.0).abs() < 0.5 && (b.w - 30.0).abs() < 1.0,
        "{b:?}"
    );
}
