//! Every ofdrw fixture reads without error; the Suwell invoice's text
//! comes out; v4signed.ofd's defects are reported as warnings, not errors.
#![allow(clippy::unwrap_used)]
use ofd::{Limits, OfdFile, Package, Warning};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw/");

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{FIXTURES}{name}");
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!("缺少测试文件 {p}（{e}），它来自 ofdrw，应在本仓库的 fixtures/ofdrw/ 中 (fixture {p} is missing ({e}): it comes from ofdrw and belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)")
    })
}

#[test]
fn ofdrw_fixtures_open_as_packages_and_rezip_identically() {
    for name in [
        "helloworld.ofd",
        "SESV4SignDoc.ofd",
        "v4signed.ofd",
        "invoice-suwell.ofd",
    ] {
        let pkg = Package::from_zip(&fixture(name), &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(pkg.get("OFD.xml").is_some(), "{name} has OFD.xml");
        let again = Package::from_zip(&pkg.to_zip().unwrap(), &Limits::default()).unwrap();
        assert_eq!(again, pkg, "{name}");
    }
}

#[test]
fn helloworld_reads() {
    let f = OfdFile::read(&fixture("helloworld.ofd")).unwrap();
    let d = &f.ofd.docs[0];
    assert_eq!(d.doc_root, "Doc_0/Document.xml");
    assert_eq!(d.document.pages.len(), 1);
    assert_eq!(d.document.page_box(0), Some(ofd::Rect::A4));
    let text = f.page_text(0, 0).unwrap();
    assert!(!text.trim().is_empty(), "helloworld has text");
    assert!(d.document.fonts.iter().any(|f| f.font_name == "宋体"));
    assert!(f.loaded_parts().contains("Doc_0/Pages/Page_0/Content.xml"));
}

#[test]
fn suwell_invoice_text_comes_out() {
    let f = OfdFile::read(&fixture("invoice-suwell.ofd")).unwrap();
    let d = &f.ofd.docs[0].document;
    assert_eq!(d.pages.len(), 1);
    // The page's own Area (210 x 140) overrides the missing PageArea.
    assert_eq!(d.page_box(0), Some(ofd::Rect::new(0.0, 0.0, 210.0, 140.0)));
    let text = f.page_text(0, 0).unwrap();
    for want in [
        "24112000000048542163",
        "海南麒麟云服科技有限公司",
        "北京互联三六五科技有限公司",
        "4197.17",
    ] {
        assert!(text.contains(want), "invoice text lacks {want}:\n{text}");
    }
    // g-compressed DeltaX is expanded: "g 19 1.5875" for 20 digits.
    let first = d.pages[0].layers[0]
        .objects
        .iter()
        .find_map(|o| match o {
            ofd::GraphicObject::Text(t) if t.codes[0].text == "24112000000048542163" => Some(t),
            _ => None,
        })
        .unwrap();
    assert_eq!(first.codes[0].delta_x, vec![1.5875; 19]);
    // Template, watermark annotations, custom tags, images.
    assert_eq!(d.templates.len(), 1);
    assert!(!d.templates[0].layers.is_empty());
    assert_eq!(d.pages[0].annotations.len(), 2);
    assert_eq!(d.custom_tags.len(), 1);
    assert_eq!(d.custom_tags[0].type_id.as_deref(), Some("root"));
    assert!(String::from_utf8_lossy(&d.custom_tags[0].data).contains("InvoiceNo"));
    assert_eq!(d.media.len(), 2);
    assert!(
        d.media
            .iter()
            .all(|m| m.format == Some(ofd::ImageFormat::Png))
    );
    // Sloppiness is reported: PublicRes without BaseLoc, duplicate IDs.
    assert!(
        f.warnings
            .iter()
            .any(|w| matches!(w, Warning::MissingRequired { what, .. } if what == "Res/@BaseLoc"))
    );
    assert!(
        f.warnings
            .iter()
            .any(|w| matches!(w, Warning::DuplicateId { .. }))
    );
    let parts = f.loaded_parts();
    for p in [
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/Tags/CustomTag.xml",
        "Doc_0/Res/image_6920.png",
        "Doc_0/Annots/Page_0/Annotation.xml",
        "Doc_0/Tpls/Tpl_0/Content.xml",
    ] {
        assert!(parts.contains(p), "{p} not in loaded parts {parts:?}");
    }
}

#[test]
fn v4signed_reads_with_case_mismatch_warning_and_signatures_location() {
    let f = OfdFile::read(&fixture("v4signed.ofd")).unwrap();
    let body = &f.ofd.docs[0];
    assert_eq!(f.ofd.version, "1.1");
    assert_eq!(
        body.signatures.as_deref(),
        Some("Doc_0/Signs/Signatures.xml")
    );
    // Document.xml says TPLS/..., the entry is Tpls/...: read, but reported.
    assert!(
        f.warnings.iter().any(|w| matches!(w,
        Warning::CaseMismatch { wanted, used, .. }
            if wanted == "Doc_0/TPLS/Tpl_0/Content.xml" && used == "Doc_0/Tpls/Tpl_0/Content.xml")),
        "{:?}",
        f.warnings
    );
    assert!(f.loaded_parts().contains("Doc_0/Tpls/Tpl_0/Content.xml"));
    assert!(
        f.warnings.iter().any(
            |w| matches!(w, Warning::MissingRequired { what, .. } if what.contains("MaxUnitID"))
        )
    );
    // The attachment comes out with its bytes; the unprefixed <Parameters> is read.
    let d = &body.document;
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(d.attachments[0].name, "original_invoice");
    assert!(!d.attachments[0].data.is_empty());
    let stamp = &d.pages[0].annotations[0];
    assert_eq!(stamp.annot_type, "Stamp");
    assert_eq!(
        stamp.parameters,
        vec![("fp.NativeSign".to_string(), "original_invoice".to_string())]
    );
    // Signature files are crates/ses's business: not loaded here.
    assert!(
        !f.loaded_parts()
            .iter()
            .any(|p| p.starts_with("Doc_0/Signs/"))
    );
    assert!(!f.page_text(0, 0).unwrap().trim().is_empty());
}

#[test]
fn ofdrw_signed_hello_world_reads() {
    let f = OfdFile::read(&fixture("SESV4SignDoc.ofd")).unwrap();
    let body = &f.ofd.docs[0];
    assert!(body.signatures.is_some());
    assert_eq!(body.document.pages.len(), 1);
    assert!(body.document.pages[0].id.is_some());
    assert_eq!(
        body.document.pages[0].content_path,
        "Doc_0/Pages/Page_0/Content.xml"
    );
}

/// The model of every fixture can be written back (write_model) and read again with the same
/// pages, text, templates, annotations, custom tags and attachments.
#[test]
fn fixtures_rewrite_through_the_model() {
    for name in [
        "helloworld.ofd",
        "SESV4SignDoc.ofd",
        "v4signed.ofd",
        "invoice-suwell.ofd",
    ] {
        let f = OfdFile::read(&fixture(name)).unwrap();
        let bytes = ofd::write::write_model(&f.ofd)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_zip()
            .unwrap();
        let g = OfdFile::read(&bytes).unwrap_or_else(|e| panic!("{name} rewritten: {e}"));
        let (a, b) = (&f.ofd.docs[0].document, &g.ofd.docs[0].document);
        assert_eq!(a.pages.len(), b.pages.len(), "{name}");
        for i in 0..a.pages.len() {
            assert_eq!(f.page_text(0, i), g.page_text(0, i), "{name} page {i}");
            assert_eq!(a.pages[i].layers, b.pages[i].layers, "{name} page {i}");
            assert_eq!(
                a.pages[i].annotations.len(),
                b.pages[i].annotations.len(),
                "{name}"
            );
        }
        assert_eq!(a.templates.len(), b.templates.len(), "{name}");
        assert_eq!(
            a.custom_tags.iter().map(|t| &t.data).collect::<Vec<_>>(),
            b.custom_tags.iter().map(|t| &t.data).collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(a.attachments.len(), b.attachments.len(), "{name}");
        assert_eq!(f.ofd.docs[0].info, g.ofd.docs[0].info, "{name}");
    }
}
