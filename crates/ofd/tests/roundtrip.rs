//! The three-page sample document round-trips: write → read → compare, byte for byte and
//! field by field; and the clauses the writer implements are checked on the output.
#![allow(clippy::unwrap_used)]
use ofd::sample::{SampleData, SampleFonts, build};
use ofd::write::write_model;
use ofd::{FontSource, GraphicObject, OfdFile};
use std::collections::BTreeSet;

fn fonts() -> SampleFonts {
    SampleFonts::system().unwrap_or_else(|e| panic!("{e} (see crates/ofd .ci/packages/ofd.apt)"))
}

fn sample() -> (Vec<u8>, OfdFile) {
    let bytes = build(&fonts(), &SampleData::default())
        .unwrap()
        .to_zip()
        .unwrap();
    let f = OfdFile::read(&bytes).unwrap();
    (bytes, f)
}

/// Writing is deterministic and the reader loses nothing the writer wrote: re-serialising the
/// read model reproduces the package byte for byte.
#[test]
fn sample_round_trips_byte_for_byte() {
    let (bytes, f) = sample();
    let again = build(&fonts(), &SampleData::default())
        .unwrap()
        .to_zip()
        .unwrap();
    assert_eq!(
        bytes, again,
        "same input, same DocID/time -> identical bytes"
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let rewritten = write_model(&f.ofd).unwrap().to_zip().unwrap();
    assert_eq!(rewritten, bytes, "write(read(x)) == x");
    assert!(bytes.len() < 150 * 1024, "{} bytes", bytes.len());
}

/// R-4.1.1, R-4.3.3: an OFD 1.0 package of three A4 pages with the expected text.
#[test]
fn r_4_1_1_r_4_3_3_sample_is_ofd_1_0_with_three_a4_pages() {
    let (_, f) = sample();
    assert_eq!(f.ofd.version, "1.0");
    assert_eq!(f.ofd.doc_type, "OFD");
    let d = &f.ofd.docs[0].document;
    assert_eq!(d.pages.len(), 3);
    for i in 0..3 {
        assert_eq!(d.page_box(i), Some(ofd::Rect::A4));
        let t = f.page_text(0, i).unwrap();
        assert!(t.contains(&format!("第 {} 页 共 3 页", i + 1)), "{t}");
        assert!(t.contains("本证书为电子证书，请到发证机构官网验证"), "{t}");
    }
    assert!(f.page_text(0, 0).unwrap().contains("JL2026-000123"));
    assert!(f.page_text(0, 1).unwrap().contains("0.999 98 kΩ"));
    let info = &f.ofd.docs[0].info;
    assert_eq!(info.doc_id, "5f3a9c1e2b7d4e8fa0c1d2e3f4a5b6c7");
    assert_eq!(
        info.custom_data,
        vec![("证书编号".to_string(), "JL2026-000123".to_string())]
    );
}

/// IDs are unique, non-zero, and MaxUnitID is the largest.
#[test]
fn ids_are_unique_and_max_unit_id_is_largest() {
    let (_, f) = sample();
    let d = &f.ofd.docs[0].document;
    let mut ids = Vec::new();
    ids.extend(d.fonts.iter().map(|x| x.id.0));
    ids.extend(d.media.iter().map(|x| x.id.0));
    for p in &d.pages {
        ids.push(p.id.unwrap().0);
        for l in &p.layers {
            ids.push(l.id.unwrap().0);
            for o in &l.objects {
                ids.push(o.common().unwrap().id.unwrap().0);
            }
        }
    }
    let set: BTreeSet<u32> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "unique");
    assert!(!set.contains(&0));
    assert_eq!(d.max_unit_id, set.last().copied());
}

/// R-4.1.6: fonts are embedded subsets with TrueType outlines; every character maps through
/// the embedded cmap or a CGTransform, and DeltaX equals the embedded advances.
#[test]
fn r_4_1_6_fonts_are_embedded_subsets_with_exact_advances() {
    let (_, f) = sample();
    let d = &f.ofd.docs[0].document;
    let full = fonts();
    assert_eq!(d.fonts.len(), 2);
    for font in &d.fonts {
        let data = font.data.as_ref().expect("embedded");
        let src = FontSource::new(data.clone(), 0).unwrap();
        assert!(src.has_truetype_outlines());
        assert!(
            src.glyph_count() < 400,
            "subset has {} glyphs",
            src.glyph_count()
        );
    }
    assert!(d.fonts[0].data.as_ref().unwrap().len() < full.cjk.glyph_count() as usize * 10);
    let mut checked = 0;
    for p in &d.pages {
        for l in &p.layers {
            for o in &l.objects {
                let GraphicObject::Text(t) = o else { continue };
                let font = d.font(t.font).unwrap();
                let src = FontSource::new(font.data.clone().unwrap(), 0).unwrap();
                let upem = f64::from(src.units_per_em());
                for c in &t.codes {
                    assert!(c.cg_transforms.is_empty());
                    let chars: Vec<char> = c.text.chars().collect();
                    assert_eq!(c.delta_x.len(), chars.len() - 1, "{}", c.text);
                    for (i, ch) in chars.iter().enumerate() {
                        let g = src.glyph_for(*ch).unwrap_or(0);
                        assert_ne!(g, 0, "{ch:?} not in the embedded font");
                        if let Some(dx) = c.delta_x.get(i) {
                            let want = f64::from(src.advance(g).unwrap()) * t.size / upem;
                            assert!((dx - want).abs() < 1e-4, "{ch:?}: {dx} vs {want}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked} advances checked");
}

/// R-4.5.1, R-4.5.2, R-4.5.4: the identifier is in a custom tag that Document.xml points to,
/// with both TypeID and NameSpace, and it reads back byte for byte.
#[test]
fn r_4_5_2_custom_tag_with_identifier_round_trips() {
    let (bytes, f) = sample();
    let d = &f.ofd.docs[0].document;
    assert_eq!(
        d.custom_tags_file.as_deref(),
        Some("Doc_0/Tags/CustomTags.xml")
    );
    let doc_xml = String::from_utf8(f.package.get("Doc_0/Document.xml").unwrap().to_vec()).unwrap();
    assert!(doc_xml.contains("<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags><ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>"));
    let list =
        String::from_utf8(f.package.get("Doc_0/Tags/CustomTags.xml").unwrap().to_vec()).unwrap();
    assert!(
        list.contains(r#"TypeID="urn:ecert:certificate:1" NameSpace="urn:ecert:certificate:1""#),
        "{list}"
    );
    let tag = &d.custom_tags[0];
    assert_eq!(tag.type_id, tag.namespace);
    let text = String::from_utf8(tag.data.clone()).unwrap();
    assert!(text.contains("<cert:Identifier>JL2026-000123</cert:Identifier>"));
    // The ObjectRef points at the text object holding the number on page 1.
    let page1 = &d.pages[0];
    assert!(text.contains(&format!("PageRef=\"{}\"", page1.id.unwrap())));
    let referenced = page1.layers[0].objects.iter().find_map(|o| match o {
        GraphicObject::Text(t)
            if text.contains(&format!(">{}</cert:ObjectRef>", t.common.id.unwrap())) =>
        {
            Some(t)
        }
        _ => None,
    });
    assert_eq!(referenced.unwrap().codes[0].text, "JL2026-000123");
    // Exchange (unzip → zip) keeps the tag file bytes (R-4.5.4).
    let again = OfdFile::read(
        &ofd::Package::from_zip(&bytes, &Default::default())
            .unwrap()
            .to_zip()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again.ofd.docs[0].document.custom_tags[0].data, tag.data);
}

/// R-4.1.5: the attachment is an OFD file that reads; its ID is an xs:ID.
#[test]
fn r_4_1_5_attachment_is_ofd() {
    let (_, f) = sample();
    let a = &f.ofd.docs[0].document.attachments[0];
    assert_eq!(a.id.as_deref(), Some("a1"));
    assert_eq!(a.format.as_deref(), Some("ofd"));
    assert_eq!(a.creation_date.as_deref(), Some("2026-11-26T09:30:00"));
    let inner = OfdFile::read(&a.data).unwrap();
    assert!(inner.page_text(0, 0).unwrap().contains("原始记录"));
}

/// R-4.1.4: nothing dynamic is written.
#[test]
fn r_4_1_4_no_dynamic_elements() {
    let (_, f) = sample();
    for (path, data) in f.package.entries() {
        if path.ends_with(".xml") {
            let s = String::from_utf8_lossy(data);
            for bad in [
                "Actions",
                "Action ",
                "Sound",
                "Movie",
                "script",
                "Type=\"Video\"",
                "Type=\"Audio\"",
            ] {
                assert!(!s.contains(bad), "{path} contains {bad}");
            }
        }
    }
    assert!(
        !f.warnings
            .iter()
            .any(|w| matches!(w, ofd::Warning::Dynamic { .. }))
    );
}

/// Images are MultiMedia drawn with CTM = w 0 0 h 0 0; paths keep their operators; the table
/// has 7 + 5 lines.
#[test]
fn image_ctm_and_table_paths() {
    let (_, f) = sample();
    let d = &f.ofd.docs[0].document;
    assert_eq!(d.media[0].format, Some(ofd::ImageFormat::Png));
    let img = d.pages[0].layers[0]
        .objects
        .iter()
        .find_map(|o| match o {
            GraphicObject::Image(i) => Some(i),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        img.common.boundary,
        ofd::Rect::new(150.0, 220.0, 30.0, 30.0)
    );
    assert_eq!(
        img.common.ctm,
        Some(ofd::Matrix::new(30.0, 0.0, 0.0, 30.0, 0.0, 0.0))
    );
    assert_eq!(
        d.media(img.resource_id).unwrap().data,
        ofd::sample::sample_png(64)
    );
    let grid = d.pages[1].layers[1]
        .objects
        .iter()
        .find_map(|o| match o {
            GraphicObject::Path(p) if p.data.len() == 24 => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        grid.data
            .iter()
            .filter(|op| matches!(op, ofd::PathOp::Move(..)))
            .count(),
        12
    );
    assert_eq!(grid.common.line_width, Some(0.3));
    let clipped = d.pages[1].layers[1]
        .objects
        .iter()
        .find_map(|o| match o {
            GraphicObject::Path(p) if !p.common.clips.is_empty() => Some(p),
            _ => None,
        })
        .unwrap();
    assert!(clipped.fill && clipped.stroke);
    assert_eq!(d.pages[1].layers[0].layer_type, ofd::LayerType::Background);
}

/// An outside reader (PyPI `ofdkit`, pinned in .ci/packages/ofd.pip) opens the sample and
/// extracts its text with the positions we wrote.
#[test]
fn outside_reader_ofdkit_extracts_the_sample_text() {
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let py = format!("{venv}/bin/python");
    let (bytes, _) = sample();
    let dir = std::env::temp_dir().join(format!("ofd-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sample.ofd");
    std::fs::write(&file, &bytes).unwrap();
    let script = r#"
import sys, json, ofdkit
d = ofdkit.open(sys.argv[1])
out = {"warnings": [str(w) for w in d.warnings], "pages": []}
for p in d.pages:
    out["pages"].append({"text": p.text(), "box": [float(p.width), float(p.height)],
        "runs": [[r.text, float(r.x), float(r.y), float(r.size)] for r in p.runs]})
print(json.dumps(out, ensure_ascii=False))
"#;
    let out = std::process::Command::new(&py)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py} ({e}): run scripts/setup to install the PyPI package ofdkit (.ci/packages/ofd.pip)"));
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ofdkit failed (install it with scripts/setup): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"warnings\": []"), "{stdout}");
    for want in [
        "校 准 证 书",
        "JL2026-000123",
        "0.999 98 kΩ",
        "第 3 页 共 3 页",
        "Calibrated by: Zhang San",
    ] {
        assert!(
            stdout.contains(want),
            "ofdkit output lacks {want}: {stdout}"
        );
    }
    assert!(
        stdout.contains("[\"JL2026-000123\", 85.0, 80.0,"),
        "positions: {stdout}"
    );
    assert_eq!(
        stdout.matches("\"box\": [210.0, 297.0]").count(),
        3,
        "{stdout}"
    );
}

/// The sealing helper adds the Signatures pointer to OFD.xml and nothing else changes.
#[test]
fn set_signatures_loc_on_the_sample() {
    let (bytes, before) = sample();
    let mut pkg = ofd::Package::from_zip(&bytes, &Default::default()).unwrap();
    ofd::set_signatures_loc(&mut pkg, 0, "Doc_0/Signs/Signatures.xml").unwrap();
    let ofd_xml = String::from_utf8(pkg.get("OFD.xml").unwrap().to_vec()).unwrap();
    assert!(ofd_xml.contains(
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>"
    ));
    for (path, data) in before.package.entries() {
        if path != "OFD.xml" {
            assert_eq!(pkg.get(path), Some(data), "{path} unchanged");
        }
    }
    let after = OfdFile::from_package(pkg, &Default::default()).unwrap();
    assert_eq!(
        after.ofd.docs[0].signatures.as_deref(),
        Some("Doc_0/Signs/Signatures.xml")
    );
    assert_eq!(after.loaded_parts(), before.loaded_parts());
}
