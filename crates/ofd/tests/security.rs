//! Hostile input: DTDs and entity expansion, depth, and limits are refused with clear errors.
#![allow(clippy::unwrap_used)]
use ofd::read::ReadOptions;
use ofd::{OfdFile, Package, ReadError};

fn pkg_with_ofd_xml(xml: &str) -> Package {
    let mut p = Package::new();
    p.insert("OFD.xml", xml.as_bytes().to_vec()).unwrap();
    p
}

#[test]
fn dtd_with_entities_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE ofd:OFD [<!ENTITY a "aaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo><ofd:DocID>&b;</ofd:DocID></ofd:DocInfo><ofd:DocRoot>D.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;
    let e = OfdFile::from_package(pkg_with_ofd_xml(xml), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, ReadError::Xml { path, why } if path == "OFD.xml" && why.contains("DTD")),
        "{e}"
    );
}

#[test]
fn external_entity_is_refused() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><OFD>&e;</OFD>"#;
    let e = OfdFile::from_package(pkg_with_ofd_xml(xml), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Xml { .. }), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let mut xml = String::from(r#"<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016">"#);
    for _ in 0..100_000 {
        xml.push_str("<a>");
    }
    for _ in 0..100_000 {
        xml.push_str("</a>");
    }
    xml.push_str("</ofd:OFD>");
    let e = OfdFile::from_package(pkg_with_ofd_xml(&xml), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, ReadError::Limit { what, .. } if what.contains("deeper")),
        "{e}"
    );
}

#[test]
fn non_utf8_and_missing_parts_are_clear_errors() {
    let mut p = Package::new();
    p.insert("OFD.xml", b"<OFD>\xff</OFD>".to_vec()).unwrap();
    let e = OfdFile::from_package(p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");

    let xml = r#"<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo/><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;
    let e = OfdFile::from_package(pkg_with_ofd_xml(xml), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Doc_0/Document.xml: missing (referenced from OFD.xml)"
    );

    let xml = r#"<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>../../etc/passwd</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;
    let e = OfdFile::from_package(pkg_with_ofd_xml(xml), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Loc(_)), "{e}");

    let e = OfdFile::from_package(Package::new(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Missing { .. }), "{e}");
}

#[test]
fn old_namespace_and_unprefixed_elements_are_read_with_a_warning() {
    let mut p = Package::new();
    p.insert("OFD.xml", br#"<OFD xmlns="http://www.ofdspec.org"><DocBody><DocInfo><DocID>x</DocID></DocInfo><DocRoot>/Doc_0/Document.xml</DocRoot></DocBody></OFD>"#.to_vec()).unwrap();
    p.insert("Doc_0/Document.xml", br#"<Document><CommonData><PageArea><PhysicalBox>0 0 100 50</PhysicalBox></PageArea><MaxUnitID>9</MaxUnitID></CommonData><Pages><Page ID="1" BaseLoc="P.xml"/></Pages></Document>"#.to_vec()).unwrap();
    p.insert("Doc_0/P.xml", br#"<Page><Content><Layer ID="2"><TextObject ID="3" Boundary="0 0 50 10" Font="4" Size="3"><TextCode X="1" Y="2" DeltaX="1">ab c</TextCode></TextObject></Layer></Content></Page>"#.to_vec()).unwrap();
    let f = OfdFile::from_package(p, &ReadOptions::default()).unwrap();
    let d = &f.ofd.docs[0].document;
    assert_eq!(d.max_unit_id, Some(9));
    assert_eq!(d.page_box(0), Some(ofd::Rect::new(0.0, 0.0, 100.0, 50.0)));
    // Short DeltaX is kept as written; positions() pads with the last value (ofdrw's rule).
    let ofd::GraphicObject::Text(t) = &d.pages[0].layers[0].objects[0] else {
        panic!()
    };
    assert_eq!(t.codes[0].text, "ab c");
    let xs: Vec<f64> = t.codes[0].positions().iter().map(|p| p.1).collect();
    assert_eq!(xs, vec![1.0, 2.0, 3.0, 4.0]);
    assert!(
        f.warnings
            .iter()
            .any(|w| matches!(w, ofd::Warning::ForeignNamespace { .. }))
    );
}

#[test]
fn actions_are_reported_as_dynamic_content() {
    let mut p = Package::new();
    p.insert(
        "OFD.xml",
        br#"<OFD><DocBody><DocInfo/><DocRoot>D.xml</DocRoot></DocBody></OFD>"#.to_vec(),
    )
    .unwrap();
    p.insert("D.xml", br#"<Document><CommonData><MaxUnitID>1</MaxUnitID></CommonData><Pages/><Actions><Action Event="DO"><URI URI="http://x"/></Action></Actions></Document>"#.to_vec()).unwrap();
    let f = OfdFile::from_package(p, &ReadOptions::default()).unwrap();
    assert!(
        f.warnings
            .iter()
            .any(|w| matches!(w, ofd::Warning::Dynamic { file } if file == "D.xml"))
    );
}
