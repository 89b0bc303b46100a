//! The written OFD read back with `ofd`'s reader (not trusting the writer): the rules of
//! on every page, the reserved slots, deterministic bytes, and the embedded font subsets
//! checked with fontTools as an outside oracle.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::LazyLock;

use ecert_layout::{Builtin, Extras, Fonts, LaidOut, Template};
use ofd::OfdFile;
use ofd::model::{GraphicObject, Rect};

static FONTS: LazyLock<Fonts> = LazyLock::new(Fonts::builtin);

fn example(name: &str) -> Vec<u8> {
    let p = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("example {p} missing: {e}"))
}

fn extras() -> Extras {
    Extras {
        identifier: "1.2.156.112563.1·7·123456788·L12345·JZ2024-000123·0".into(),
        check_code: "7K3M-Q9XF".into(),
        issue_date: None,
        doc_info: ofd::DocInfo {
            doc_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            ..Default::default()
        },
    }
}

fn render(name: &str) -> (LaidOut, Vec<u8>) {
    let json = example(name);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let t =
        Template::builtin(Builtin::for_type_code(v["typeCode"].as_u64().unwrap() as u8).unwrap());
    let mut out = ecert_layout::render_certificate(&t, &json, &extras(), &FONTS)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let doc = std::mem::replace(
        &mut out.document,
        ofd::DocumentWriter::new(extras().doc_info).unwrap(),
    );
    let bytes = doc.finish().unwrap().to_zip().unwrap();
    (out, bytes)
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn objects<'a>(objs: &'a [GraphicObject], out: &mut Vec<&'a GraphicObject>) {
    for o in objs {
        if let GraphicObject::Block(b) = o {
            objects(&b.objects, out);
        } else {
            out.push(o);
        }
    }
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

const NAMES: [&str; 3] = [
    "calibration.json",
    "verification.json",
    "verification-notice.json",
];

/// R-4.3.3 (A4 page boxes), R-4.3.6 (the notice on every page), the number and
/// "第 x 页 共 y 页" on every page, read back from the OFD.
#[test]
fn read_back_every_page_r_4_3_3_r_4_3_6() {
    for name in NAMES {
        let json: serde_json::Value = serde_json::from_slice(&example(name)).unwrap();
        let no = json["certificateNo"].as_str().unwrap();
        let (out, bytes) = render(name);
        let file = OfdFile::read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(file.warnings.is_empty(), "{name}: {:?}", file.warnings);
        let doc = &file.ofd.docs[0].document;
        assert_eq!(doc.pages.len(), out.page_count);
        let n = out.page_count;
        for i in 0..n {
            let area = doc.pages[i]
                .area
                .or(doc.page_area)
                .expect("page area written");
            assert_eq!(area.physical, Rect::A4, "{name} page {}", i + 1);
            let text = squash(&file.page_text(0, i).unwrap());
            assert!(
                text.contains(ecert_layout::ELECTRONIC_NOTICE),
                "{name} page {}",
                i + 1
            );
            assert!(text.contains(no), "{name} page {}", i + 1);
            assert!(
                text.contains(&format!("第{}页共{n}页", i + 1)),
                "{name} page {}: {text}",
                i + 1
            );
        }
    }
}

/// no object on page 1 reaches into the 25 × 25 mm code slot (boundaries as
/// written): nor into the seal slot.
#[test]
fn read_back_slots_cover_nothing_r_4_3_4_r_4_3_5() {
    for name in NAMES {
        let (out, bytes) = render(name);
        let file = OfdFile::read(&bytes).unwrap();
        let page = &file.ofd.docs[0].document.pages[0];
        let mut objs = Vec::new();
        for l in &page.layers {
            objects(&l.objects, &mut objs);
        }
        assert!(objs.len() > 20, "{name}: page 1 has {} objects", objs.len());
        let code = Rect::new(
            out.code_slot.x,
            out.code_slot.y,
            out.code_slot.w,
            out.code_slot.h,
        );
        assert!((code.w - 25.0).abs() < 1e-6 && (code.h - 25.0).abs() < 1e-6);
        let seal = Rect::new(
            out.seal_slot.x,
            out.seal_slot.y,
            out.seal_slot.w,
            out.seal_slot.h,
        );
        for (slot, what) in [(code, "code"), (seal, "seal")] {
            for o in &objs {
                let b = o.common().unwrap().boundary;
                assert!(
                    !overlaps(&b, &slot),
                    "{name}: {what} slot {slot:?} overlaps {o:?}"
                );
            }
        }
    }
}

/// The same input gives the same bytes.
#[test]
fn deterministic_bytes() {
    let (_, a) = render("calibration.json");
    let (_, b) = render("calibration.json");
    assert!(a == b, "two renderings differ");
}

/// every font is embedded, and fontTools (an outside reader) finds in each embedded
/// subset a drawn glyph for every character its text codes show through the cmap, and for
/// every glyph a CGTransform names.
#[test]
fn embedded_subsets_cover_the_text_r_4_1_6_fonttools_oracle() {
    let (_, bytes) = render("verification.json");
    let file = OfdFile::read(&bytes).unwrap();
    let doc = &file.ofd.docs[0].document;
    let dir = std::env::temp_dir().join(format!("ecert-layout-fonts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tables = BTreeMap::new();
    for f in &doc.fonts {
        let data = f
            .data
            .as_ref()
            .unwrap_or_else(|| panic!("font {} not embedded", f.font_name));
        let p = dir.join(format!("f{}.ttf", f.id.0));
        std::fs::write(&p, data).unwrap();
        let py = "import sys, json\nfrom fontTools.ttLib import TTFont\nf = TTFont(sys.argv[1])\n\
                  g = f['glyf']\norder = f.getGlyphOrder()\n\
                  drawn = [i for i, n in enumerate(order) if g[n].numberOfContours != 0]\n\
                  cmap = {str(k): order.index(v) for k, v in f.getBestCmap().items()}\n\
                  print(json.dumps({'cmap': cmap, 'drawn': drawn}))";
        let out = Command::new("/usr/bin/python3").arg("-c").arg(py).arg(&p).output().unwrap_or_else(|e| {
            panic!("fontTools oracle: cannot run /usr/bin/python3 ({e}); apt-get install python3 python3-fonttools")
        });
        assert!(
            out.status.success(),
            "fontTools oracle failed (apt-get install python3-fonttools): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        tables.insert(f.id, v);
    }
    std::fs::remove_dir_all(&dir).ok();
    let mut checked = 0;
    for page in &doc.pages {
        let mut objs = Vec::new();
        for l in &page.layers {
            objects(&l.objects, &mut objs);
        }
        for o in objs {
            let GraphicObject::Text(t) = o else { continue };
            let v = &tables[&t.font];
            let drawn: Vec<u64> = v["drawn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            for code in &t.codes {
                let mut by_cg = vec![false; code.text.chars().count()];
                for cg in &code.cg_transforms {
                    for k in cg.code_position..cg.code_position + cg.code_count {
                        by_cg[k as usize] = true;
                    }
                    for g in &cg.glyphs {
                        assert!(
                            drawn.contains(&u64::from(*g)),
                            "CGTransform glyph {g} not drawn in {:?}",
                            code.text
                        );
                    }
                }
                for (k, ch) in code.text.chars().enumerate() {
                    if by_cg[k] || ch.is_whitespace() {
                        continue;
                    }
                    let gid = v["cmap"][(ch as u32).to_string()]
                        .as_u64()
                        .unwrap_or_else(|| {
                            panic!("{ch:?} not in the embedded cmap ({:?})", code.text)
                        });
                    assert!(drawn.contains(&gid), "{ch:?} maps to an empty glyph");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} characters checked");
}

/// A template may turn text (a "样品" stamp, a vertical label): it is written as a text object
/// whose CTM turns it about its baseline origin, read back with its characters and its angle;
/// mirrored text, which OFD text cannot express, is still refused by name.
#[test]
fn rotated_text_is_written_with_a_ctm() {
    let template = |body: &str| {
        Template::from_files(
            "rotated",
            "/main.typ",
            [(
                "/main.typ".to_string(),
                format!(
                    "#import \"/ecert.typ\": slot, electronic-notice\n\
                     #set page(paper: \"a4\")\n#set text(font: \"ECert Sans SC\")\n\
                     #slot(\"code\", 25mm, 25mm)\n#slot(\"seal\", 42mm, 42mm)\n\
                     #electronic-notice\n{body}\n"
                )
                .into_bytes(),
            )],
        )
        .unwrap()
    };
    let data = b"{\"issueDate\":\"2024-03-08\"}";
    let t = template(
        "#place(top + left, dx: 60mm, dy: 150mm, rotate(30deg, origin: top + left, scale(150%, origin: top + left, reflow: true)[样品 SAMPLE]))",
    );
    let out = ecert_layout::render_certificate(&t, data, &extras(), &FONTS).unwrap();
    let bytes = out.document.finish().unwrap().to_zip().unwrap();
    let file = OfdFile::read(&bytes).unwrap();
    let page = &file.ofd.docs[0].document.pages[0];
    let mut all = Vec::new();
    for l in &page.layers {
        objects(&l.objects, &mut all);
    }
    let turned: Vec<_> = all
        .iter()
        .filter_map(|o| match o {
            GraphicObject::Text(t) => Some(t),
            _ => None,
        })
        .filter(|t| {
            t.codes
                .iter()
                .any(|c| c.text.contains("样品") || c.text.contains("SAMPLE"))
        })
        .collect();
    assert!(!turned.is_empty(), "the turned text is on the page");
    for t in &turned {
        let m = t.common.ctm.expect("a turned run has a CTM");
        let angle = m.b.atan2(m.a).to_degrees();
        assert!((angle - 30.0).abs() < 0.01, "{angle}° in {m:?}");
        assert!(
            (m.a.hypot(m.b) - 1.0).abs() < 1e-3,
            "no scale in the CTM: {m:?}"
        );
        // The 150 % scale is in the font size: typst's default 11 pt (3.88 mm) × 1.5.
        assert!((t.size - 3.881 * 1.5).abs() < 0.01, "size {}", t.size);
    }
    let text = squash(&file.page_text(0, 0).unwrap());
    assert!(text.contains("样品") && text.contains("SAMPLE"), "{text}");

    let mirrored = template("#scale(x: -100%)[镜像]");
    let err = ecert_layout::render_certificate(&mirrored, data, &extras(), &FONTS).unwrap_err();
    assert!(err.to_string().contains("mirrored"), "{err}");
}
