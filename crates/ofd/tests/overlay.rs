//! `ofd::overlay`: objects, a font, a custom tag and `CustomDatas` added to files someone else
//! wrote (our own sample, ofdrw's helloworld.ofd), read back with the strict reader: the
//! original objects unchanged, untouched entries byte-identical, new IDs above `MaxUnitID`,
//! the font embedded (R-4.1.6), the tag referenced from Document.xml (R-4.5.2).
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use ofd::overlay::{Overlay, OverlayError};
use ofd::write::{CustomTagSpec, Path, PathStyle, TextStyle};
use ofd::{Color, GraphicObject, OfdFile, Rect, sample};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw/");

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{FIXTURES}{name}");
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!("缺少测试文件 {p}（{e}），它来自 ofdrw，应在本仓库的 fixtures/ofdrw/ 中 (fixture {p} is missing ({e}): it comes from ofdrw and belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)")
    })
}

fn fonts() -> sample::SampleFonts {
    sample::SampleFonts::system().unwrap_or_else(|e| panic!("{e} (bash scripts/setup)"))
}

fn ids(objs: &[GraphicObject], out: &mut Vec<u32>) {
    for o in objs {
        match o {
            GraphicObject::Block(b) => ids(&b.objects, out),
            other => out.extend(other.common().and_then(|c| c.id).map(|i| i.0)),
        }
    }
}

/// A free `w`×`h` rectangle on `page`, scanning from the bottom.
fn free_spot(ov: &Overlay, page: usize, w: f64, h: f64) -> Rect {
    let pb = ov.page_box(page).unwrap();
    let mut y = pb.h - h - 5.0;
    while y > 5.0 {
        let mut x = 5.0;
        while x + w < pb.w - 5.0 {
            let r = Rect::new(x, y, w, h);
            if ov.is_free(page, r) {
                return r;
            }
            x += 2.0;
        }
        y -= 2.0;
    }
    panic!("no free {w}×{h} area on page {page}");
}

fn tag(xml: &str) -> CustomTagSpec {
    CustomTagSpec {
        type_id: "urn:example:overlay:1".into(),
        file_name: "Extra.xml".into(),
        xml: xml.as_bytes().to_vec(),
        schema: None,
    }
}

#[test]
fn overlay_on_our_sample_keeps_every_original_object() {
    let f = fonts();
    let original = sample::build(&f, &sample::SampleData::default())
        .unwrap()
        .to_zip()
        .unwrap();
    let before = OfdFile::read(&original).unwrap();
    let doc0 = &before.ofd.docs[0].document;
    let old_max = doc0.max_unit_id.unwrap();

    let mut ov = Overlay::open(&original).unwrap();
    // The existing objects' boxes are known and not free.
    let boxes = ov.object_boxes(0);
    assert!(!boxes.is_empty());
    assert!(!ov.is_free(0, boxes[0]));
    assert!(
        !ov.is_free(0, Rect::new(200.0, 290.0, 20.0, 20.0)),
        "off the page"
    );

    let font = ov.add_font(f.cjk.clone()).unwrap();
    let style = TextStyle::new(font, 3.0);
    let text = "叠加文字 overlay";
    let probe = ofd::write::text_box(&f.cjk, 3.0, 0.0, 0.0, text).unwrap();
    let spot = free_spot(&ov, 0, probe.w + 1.0, probe.h + 1.0);
    let (x, y) = (spot.x + 0.5 - probe.x, spot.y + 0.5 - probe.y);
    let text_id = ov.layer(0).unwrap().text(&style, x, y, text).unwrap();
    let after_text = ov.object_boxes(0);
    assert_eq!(after_text.len(), boxes.len() + 1, "the new object counts");
    let sq = free_spot(&ov, 2, 10.0, 10.0);
    let mut path = Path::new();
    path.rect(Rect::new(sq.x + 1.0, sq.y + 1.0, 8.0, 8.0));
    ov.layer(2)
        .unwrap()
        .path(&path, &PathStyle::filled(Color::rgb(0, 0, 0)))
        .unwrap();
    assert!(matches!(ov.layer(3), Err(OverlayError::NoPage(3))));
    ov.add_custom_tag(tag(
        "<x:Extra xmlns:x=\"urn:example:overlay:1\">1</x:Extra>",
    ))
    .unwrap();
    ov.set_custom_data("证书编号", "JL-NEW-1");
    ov.set_custom_data("电子证书标识", "1.2.3·7·X·Y·JL-NEW-1·0");
    let out = ov.finish().unwrap().to_zip().unwrap();

    let after = OfdFile::read(&out).unwrap();
    assert_eq!(after.warnings, before.warnings, "no new leniency needed");
    let doc = &after.ofd.docs[0].document;
    assert_eq!(doc.pages.len(), doc0.pages.len());
    for (i, (old, new)) in doc0.pages.iter().zip(&doc.pages).enumerate() {
        assert_eq!(
            &new.layers[..old.layers.len()],
            &old.layers[..],
            "page {i}: original layers unchanged"
        );
        let added = new.layers.len() - old.layers.len();
        assert_eq!(added, usize::from(i == 0 || i == 2), "page {i}");
    }
    let page0 = after.page_text(0, 0).unwrap();
    assert!(page0.contains(text), "{page0}");
    // IDs: unique, new ones above the old MaxUnitID, MaxUnitID raised to cover them.
    let mut all = Vec::new();
    for p in &doc.pages {
        all.extend(p.id.map(|i| i.0));
        for l in &p.layers {
            all.extend(l.id.map(|i| i.0));
            ids(&l.objects, &mut all);
        }
    }
    all.extend(doc.fonts.iter().map(|f| f.id.0));
    let unique: HashSet<u32> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no duplicate IDs");
    assert!(text_id.0 > old_max);
    assert!(doc.max_unit_id.unwrap() >= *all.iter().max().unwrap());
    // The new font is embedded (R-4.1.6) and the text uses it.
    let new_font = doc.font(font.id()).expect("font resource");
    assert!(new_font.data.as_ref().is_some_and(|d| !d.is_empty()));
    assert_eq!(doc.public_res.len(), doc0.public_res.len() + 1);
    // Custom tags: the old ones and the new one (R-4.5.2); CustomDatas set.
    assert_eq!(doc.custom_tags.len(), doc0.custom_tags.len() + 1);
    assert_eq!(
        &doc.custom_tags[..doc0.custom_tags.len()],
        &doc0.custom_tags[..]
    );
    let new_tag = doc.custom_tags.last().unwrap();
    assert_eq!(new_tag.namespace.as_deref(), Some("urn:example:overlay:1"));
    assert!(String::from_utf8_lossy(&new_tag.data).contains("<x:Extra"));
    let info = &after.ofd.docs[0].info;
    let old_info = &before.ofd.docs[0].info;
    assert!(
        info.custom_data
            .contains(&("证书编号".into(), "JL-NEW-1".into()))
    );
    assert!(
        info.custom_data
            .contains(&("电子证书标识".into(), "1.2.3·7·X·Y·JL-NEW-1·0".into()))
    );
    assert_eq!(info.title, old_info.title);
    assert_eq!(info.doc_id, old_info.doc_id);
    // Entries not edited keep their bytes.
    let edited: HashSet<&str> = [
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/Pages/Page_0/Content.xml",
        "Doc_0/Pages/Page_2/Content.xml",
        "Doc_0/Tags/CustomTags.xml",
    ]
    .into();
    for (path, bytes) in before.package.entries() {
        if !edited.contains(path) {
            assert_eq!(after.package.get(path), Some(bytes), "{path} changed");
        }
    }
    // The edited page keeps its original bytes around the inserted layer.
    let old_c = before
        .package
        .get("Doc_0/Pages/Page_0/Content.xml")
        .unwrap();
    let new_c = after.package.get("Doc_0/Pages/Page_0/Content.xml").unwrap();
    let old_s = String::from_utf8(old_c.to_vec()).unwrap();
    let new_s = String::from_utf8(new_c.to_vec()).unwrap();
    let k = old_s.rfind("</ofd:Content>").unwrap();
    assert!(new_s.starts_with(&old_s[..k]) && new_s.ends_with(&old_s[k..]));
    let inserted = &new_s[k..new_s.len() - (old_s.len() - k)];
    assert!(inserted.starts_with("<ofd:Layer ID="), "{inserted}");
    assert!(
        !inserted.contains("xmlns"),
        "the page's own ofd: prefix is used"
    );
}

#[test]
fn overlay_on_ofdrw_helloworld() {
    let original = fixture("helloworld.ofd");
    let before = OfdFile::read(&original).unwrap();
    let doc0 = &before.ofd.docs[0].document;
    let old_max = doc0.max_unit_id.unwrap();
    let f = fonts();

    let mut ov = Overlay::open(&original).unwrap();
    // helloworld's only object, "你好呀，OFD Reader&Writer！", at 31.7 25.4 40.5 5.
    assert!(!ov.is_free(0, Rect::new(40.0, 26.0, 5.0, 2.0)));
    assert!(ov.is_free(0, Rect::new(150.0, 20.0, 25.0, 25.0)));
    let font = ov.add_font(f.cjk.clone()).unwrap();
    ov.layer(0)
        .unwrap()
        .text(&TextStyle::new(font, 4.0), 20.0, 280.0, "本证书为电子证书")
        .unwrap();
    let mut path = Path::new();
    path.rect(Rect::new(150.0, 20.0, 25.0, 25.0));
    ov.layer(0)
        .unwrap()
        .path(&path, &PathStyle::filled(Color::black()))
        .unwrap();
    ov.add_custom_tag(tag(
        "<x:Extra xmlns:x=\"urn:example:overlay:1\">hw</x:Extra>",
    ))
    .unwrap();
    ov.set_custom_data("证书编号", "HW-1");
    let out = ov.finish().unwrap().to_zip().unwrap();

    let after = OfdFile::read(&out).unwrap();
    let doc = &after.ofd.docs[0].document;
    let (old_page, new_page) = (&doc0.pages[0], &doc.pages[0]);
    assert_eq!(new_page.layers[0], old_page.layers[0], "the original layer");
    assert_eq!(new_page.layers.len(), 2);
    assert_eq!(new_page.layers[1].objects.len(), 2);
    let text = after.page_text(0, 0).unwrap();
    assert!(text.contains("你好呀，OFD Reader&Writer！") && text.contains("本证书为电子证书"));
    // The old font (not embedded) is still there; the new one is embedded.
    assert_eq!(doc.fonts.len(), 2);
    assert_eq!(doc.fonts[0], doc0.fonts[0]);
    assert!(doc.fonts[1].data.is_some());
    assert!(doc.max_unit_id.unwrap() > old_max);
    let mut all = Vec::new();
    for l in &new_page.layers {
        ids(&l.objects, &mut all);
    }
    assert!(all.iter().all(|i| *i <= doc.max_unit_id.unwrap()));
    assert_eq!(doc.custom_tags.len(), 1);
    assert_eq!(
        doc.custom_tags_file.as_deref(),
        Some("Doc_0/Tags/CustomTags.xml")
    );
    assert!(
        after.ofd.docs[0]
            .info
            .custom_data
            .contains(&("证书编号".into(), "HW-1".into()))
    );
    assert_eq!(
        after.ofd.docs[0].info.creator,
        before.ofd.docs[0].info.creator
    );
    // Document.xml: only MaxUnitID's number, one PublicRes and one CustomTags are new.
    let d = String::from_utf8(after.package.get("Doc_0/Document.xml").unwrap().to_vec()).unwrap();
    assert!(d.contains("<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:PublicRes>OverlayRes.xml</ofd:PublicRes>"), "{d}");
    assert!(
        d.contains("<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags></ofd:Document>"),
        "{d}"
    );
    assert!(d.contains(&format!(
        "<ofd:MaxUnitID>{}</ofd:MaxUnitID>",
        doc.max_unit_id.unwrap()
    )));
    // The untouched entries keep their bytes.
    let edited = [
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/Pages/Page_0/Content.xml",
    ];
    for (path, bytes) in before.package.entries() {
        if !edited.contains(&path) {
            assert_eq!(after.package.get(path), Some(bytes), "{path} changed");
        }
    }
    // Our renderer draws the added square where it was put.
    let png =
        ofd::render::render_page(doc, 0, &ofd::render::RenderOptions::with_dpi(25.4)).unwrap();
    let px = ofd::render::pixel_rgba(&png, 162, 32).unwrap();
    assert!(px[0] < 50 && px[1] < 50 && px[2] < 50, "{px:?}");
}

#[test]
fn overlay_refuses_signed_files() {
    for name in ["v4signed.ofd", "SESV4SignDoc.ofd"] {
        match Overlay::open(&fixture(name)) {
            Err(OverlayError::Signed(_)) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        Overlay::open(b"not a zip"),
        Err(OverlayError::Read(_))
    ));
}

/// A hand-written file in the default namespace (no `ofd:` prefix), without `MaxUnitID`,
/// `CustomDatas` or a `Content` element on its page: the overlay's spliced elements declare
/// their own prefix, and everything reads back.
#[test]
fn overlay_on_a_default_namespace_file_without_optional_parts() {
    let ns = "http://www.ofdspec.org/2016";
    let mut pkg = ofd::Package::new();
    let put = |pkg: &mut ofd::Package, p: &str, s: String| pkg.insert(p, s.into_bytes()).unwrap();
    put(
        &mut pkg,
        "OFD.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><OFD xmlns="{ns}" Version="1.0" DocType="OFD"><DocBody><DocInfo><DocID>abc</DocID><Title>T</Title></DocInfo><DocRoot>Doc_0/Document.xml</DocRoot></DocBody></OFD>"#
        ),
    );
    put(
        &mut pkg,
        "Doc_0/Document.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><CommonData><PageArea><PhysicalBox>0 0 210 297</PhysicalBox></PageArea></CommonData><Pages><Page ID="7" BaseLoc="Pages/Page_0/Content.xml"/><Page ID="8" BaseLoc="Pages/Page_1/Content.xml"/></Pages></Document>"#
        ),
    );
    put(
        &mut pkg,
        "Doc_0/Pages/Page_0/Content.xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Page xmlns="{ns}"><Content><Layer ID="9"><PathObject ID="12" Boundary="10 10 50 50" Fill="true"><AbbreviatedData>M 0 0 L 50 0 L 50 50 C</AbbreviatedData></PathObject></Layer></Content></Page>"#
        ),
    );
    put(
        &mut pkg,
        "Doc_0/Pages/Page_1/Content.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><Page xmlns="{ns}"/>"#),
    );
    let original = pkg.to_zip().unwrap();
    let before = OfdFile::read(&original).unwrap();

    let mut ov = Overlay::open(&original).unwrap();
    assert!(!ov.is_free(0, Rect::new(20.0, 20.0, 5.0, 5.0)));
    let mut path = Path::new();
    path.rect(Rect::new(100.0, 100.0, 10.0, 10.0));
    for page in [0, 1] {
        ov.layer(page)
            .unwrap()
            .path(&path, &PathStyle::filled(Color::black()))
            .unwrap();
    }
    ov.add_custom_tag(tag(
        "<x:Extra xmlns:x=\"urn:example:overlay:1\">ns</x:Extra>",
    ))
    .unwrap();
    ov.set_custom_data("证书编号", "NS-1");
    let out = ov.finish().unwrap().to_zip().unwrap();

    let after = OfdFile::read(&out).unwrap();
    assert_eq!(before.warnings.len(), 1, "the missing MaxUnitID");
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    let doc = &after.ofd.docs[0].document;
    assert_eq!(
        doc.pages[0].layers[0],
        before.ofd.docs[0].document.pages[0].layers[0]
    );
    assert_eq!(doc.pages[0].layers.len(), 2);
    assert_eq!(
        doc.pages[1].layers.len(),
        1,
        "Content created on the empty page"
    );
    let mut all: Vec<u32> = doc.pages.iter().filter_map(|p| p.id).map(|i| i.0).collect();
    for p in &doc.pages {
        for l in &p.layers {
            all.extend(l.id.map(|i| i.0));
            ids(&l.objects, &mut all);
        }
    }
    let unique: HashSet<u32> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "new IDs after the largest existing one"
    );
    assert_eq!(
        doc.max_unit_id,
        all.iter().max().copied(),
        "MaxUnitID written"
    );
    assert_eq!(doc.custom_tags.len(), 1);
    let info = &after.ofd.docs[0].info;
    assert_eq!(info.custom_data, vec![("证书编号".into(), "NS-1".into())]);
    assert_eq!(info.title.as_deref(), Some("T"));
    let page1 = String::from_utf8(
        after
            .package
            .get("Doc_0/Pages/Page_1/Content.xml")
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(page1.contains("<Page xmlns=\"http://www.ofdspec.org/2016\"><Content><ofd:Layer xmlns:ofd=\"http://www.ofdspec.org/2016\""), "{page1}");
}
