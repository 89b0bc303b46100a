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
