//! Property: whatever the writer accepts, the reader reads back to the same text, positions
//! and paths, and never panics.
#![allow(clippy::unwrap_used)]
use ofd::write::{DocumentWriter, Path, PathStyle, Stroke, TextStyle};
use ofd::{Color, DocInfo, FontSource, GraphicObject, OfdFile, PathOp};
use proptest::prelude::*;
use std::sync::OnceLock;

fn font() -> &'static FontSource {
    static F: OnceLock<FontSource> = OnceLock::new();
    F.get_or_init(|| {
        FontSource::from_path(ofd::sample::CJK_FONT, 0)
            .unwrap_or_else(|e| panic!("{e}: install fonts-wqy-microhei (.ci/packages/ofd.apt)"))
    })
}

const POOL: &[char] = &[
    'a', 'Z', '0', '9', ' ', '.', '<', '>', '&', '"', '\'', '中', '文', '校', '准', '证', '书',
    '±', 'µ', 'Ω', '°', '，', '。',
];
// ℃ is not in the pool: WenQuanYi Micro Hei's glyph for it is empty and the writer refuses
// it (tests/writer.rs::r_4_1_6_blank_glyphs_are_refused).

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(POOL), 1..20).prop_map(|v| v.into_iter().collect())
}

fn coord() -> impl Strategy<Value = f64> {
    (0i32..2_000_000).prop_map(|v| f64::from(v) / 10_000.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn write_read_round_trip(
        runs in prop::collection::vec((text(), coord(), coord(), 1u32..200), 1..6),
        lines in prop::collection::vec((coord(), coord(), coord(), coord()), 0..5),
        pages in 1usize..3,
    ) {
        let mut doc = DocumentWriter::new(DocInfo { doc_id: "00112233445566778899aabbccddeeff".into(), ..Default::default() }).unwrap();
        let f = doc.add_font(font().clone()).unwrap();
        for _ in 0..pages {
            let mut p = doc.add_page();
            let mut l = p.body();
            for (t, x, y, size) in &runs {
                l.text(&TextStyle::new(f, f64::from(*size) / 10.0), *x, *y, t).unwrap();
            }
            for (x0, y0, x1, y1) in &lines {
                let mut path = Path::new();
                path.move_to(*x0, *y0).line_to(*x1, *y1);
                l.path(&path, &PathStyle::stroked(Stroke::solid(Color::rgb(1, 2, 3), 0.2))).unwrap();
            }
        }
        let bytes = doc.finish().unwrap().to_zip().unwrap();
        let read = OfdFile::read(&bytes).unwrap();
        prop_assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let d = &read.ofd.docs[0].document;
        prop_assert_eq!(d.pages.len(), pages);
        for p in &d.pages {
            let objs = &p.layers[0].objects;
            prop_assert_eq!(objs.len(), runs.len() + lines.len());
            for (o, (t, x, y, size)) in objs.iter().zip(&runs) {
                let GraphicObject::Text(obj) = o else { panic!("text expected") };
                // Leading and trailing whitespace is not written; the rest stays in place.
                let (want, x) = if t.trim().is_empty() {
                    (t.as_str(), *x)
                } else {
                    let lead = &t[..t.len() - t.trim_start().len()];
                    (t.trim(), x + font().measure(lead, f64::from(*size) / 10.0).unwrap())
                };
                prop_assert_eq!(obj.codes[0].text.as_str(), want);
                let b = obj.common.boundary;
                let (ox, oy) = (b.x + obj.codes[0].x, b.y + obj.codes[0].y);
                prop_assert!((ox - x).abs() < 2e-4 && (oy - y).abs() < 2e-4, "{ox},{oy} vs {x},{y}");
                prop_assert_eq!(obj.codes[0].delta_x.len(), want.chars().count() - 1);
            }
            for (o, (x0, y0, x1, y1)) in objs.iter().skip(runs.len()).zip(&lines) {
                let GraphicObject::Path(p) = o else { panic!("path expected") };
                let b = p.common.boundary;
                let [PathOp::Move(a, c), PathOp::Line(e, g)] = p.data[..] else { panic!("{:?}", p.data) };
                for (got, want) in [(b.x + a, x0), (b.y + c, y0), (b.x + e, x1), (b.y + g, y1)] {
                    prop_assert!((got - want).abs() < 2e-4, "{got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn reader_never_panics_on_mutated_packages(flips in prop::collection::vec((0usize..60_000, any::<u8>()), 1..8)) {
        static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
        let base = BYTES.get_or_init(|| {
            let mut doc = DocumentWriter::new(DocInfo { doc_id: "x".into(), ..Default::default() }).unwrap();
            let f = doc.add_font(font().clone()).unwrap();
            doc.add_page().body().text(&TextStyle::new(f, 4.0), 10.0, 10.0, "校准 test").unwrap();
            doc.finish().unwrap().to_zip().unwrap()
        });
        let mut m = base.clone();
        for (i, b) in flips {
            let n = m.len();
            m[i % n] = b;
        }
        let _ = OfdFile::read(&m);
    }
}
