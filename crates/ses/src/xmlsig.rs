//! Reading and writing the OFD signature description files (GB/T 33190-2016 clause 18):
//! `Signatures.xml` (the list) and `Sign_N/Signature.xml` (one signature).
//!
//! Elements are matched by local name in the OFD namespace (any prefix); DTDs are refused
//! (roxmltree's default), files above [`MAX_XML`] bytes are refused, and every location is
//! resolved with `ofd::loc::resolve` (absolute or relative to the file holding it, never escaping
//! the package root).

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ofd::xml_out::{escape_attr, escape_text};
use serde::Serialize;

/// The OFD namespace.
pub const OFD_NS: &str = "http://www.ofdspec.org/2016";
/// Largest signature XML file read.
pub const MAX_XML: usize = 4 * 1024 * 1024;

/// One record of `Signatures.xml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureRecord {
    /// `ID`.
    pub id: String,
    /// `Type` (`Seal` when absent).
    pub sig_type: String,
    /// `BaseLoc` as written.
    pub base_loc: String,
    /// `BaseLoc` resolved to a package path.
    pub path: String,
}

/// `Signatures.xml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignaturesFile {
    /// `MaxSignId` as written.
    pub max_sign_id: Option<String>,
    /// Records in file order.
    pub records: Vec<SignatureRecord>,
}

/// One `Reference`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// `FileRef` as written.
    pub file_ref: String,
    /// Resolved package path (`None` if it does not resolve).
    pub path: Option<String>,
    /// Decoded `CheckValue` (`None` if not base64).
    pub check_value: Option<Vec<u8>>,
}

/// One `StampAnnot`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StampAnnot {
    /// `ID`.
    pub id: String,
    /// `PageRef` (page ID).
    pub page_ref: String,
    /// `Boundary`.
    pub boundary: String,
    /// `Clip`.
    pub clip: Option<String>,
}

/// `Signature.xml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SignatureXml {
    /// `Provider/@ProviderName`.
    pub provider: Option<String>,
    /// `SignatureMethod`.
    pub signature_method: Option<String>,
    /// `SignatureDateTime`.
    pub date_time: Option<String>,
    /// `References/@CheckMethod`.
    pub check_method: Option<String>,
    /// References in order.
    pub references: Vec<Reference>,
    /// Stamp annotations.
    pub stamps: Vec<StampAnnot>,
    /// `Seal/BaseLoc` resolved.
    pub seal_path: Option<String>,
    /// `SignedValue` resolved.
    pub signed_value_path: Option<String>,
}

fn parse_doc<'a>(path: &str, bytes: &'a [u8]) -> Result<roxmltree::Document<'a>> {
    if bytes.len() > MAX_XML {
        return Err(Error::Xml {
            path: path.into(),
            message: format!("{} bytes exceed the {MAX_XML}-byte limit", bytes.len()),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Xml {
        path: path.into(),
        message: format!("not UTF-8: {e}"),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    roxmltree::Document::parse(text).map_err(|e| Error::Xml {
        path: path.into(),
        message: e.to_string(),
    })
}

fn is(n: &roxmltree::Node<'_, '_>, name: &str) -> bool {
    n.is_element()
        && n.tag_name().name() == name
        && matches!(n.tag_name().namespace(), Some(OFD_NS) | None)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| is(c, name))
}

fn text(n: roxmltree::Node<'_, '_>) -> String {
    n.text().unwrap_or_default().trim().to_string()
}

fn resolve(path: &str, containing: &str, loc: &str) -> Result<String> {
    ofd::loc::resolve(containing, loc).map_err(|e| Error::Xml {
        path: path.into(),
        message: format!("location {loc:?}: {e}"),
    })
}

/// Parses `Signatures.xml` found at package path `path`.
pub fn parse_signatures(path: &str, bytes: &[u8]) -> Result<SignaturesFile> {
    let doc = parse_doc(path, bytes)?;
    let root = doc.root_element();
    if !is(&root, "Signatures") {
        return Err(Error::Xml {
            path: path.into(),
            message: format!(
                "root element is {:?}, not Signatures",
                root.tag_name().name()
            ),
        });
    }
    let mut out = SignaturesFile::default();
    for c in root.children().filter(roxmltree::Node::is_element) {
        if is(&c, "MaxSignId") {
            out.max_sign_id = Some(text(c));
        } else if is(&c, "Signature") {
            let base_loc = c.attribute("BaseLoc").ok_or_else(|| Error::Xml {
                path: path.into(),
                message: "Signature without BaseLoc".into(),
            })?;
            out.records.push(SignatureRecord {
                id: c.attribute("ID").unwrap_or_default().to_string(),
                sig_type: c.attribute("Type").unwrap_or("Seal").to_string(),
                base_loc: base_loc.to_string(),
                path: resolve(path, path, base_loc)?,
            });
        }
    }
    Ok(out)
}

/// Parses a `Signature.xml` found at package path `path`.
pub fn parse_signature_xml(path: &str, bytes: &[u8]) -> Result<SignatureXml> {
    let doc = parse_doc(path, bytes)?;
    let root = doc.root_element();
    if !is(&root, "Signature") {
        return Err(Error::Xml {
            path: path.into(),
            message: format!(
                "root element is {:?}, not Signature",
                root.tag_name().name()
            ),
        });
    }
    let si = child(root, "SignedInfo").ok_or_else(|| Error::Xml {
        path: path.into(),
        message: "no SignedInfo".into(),
    })?;
    let mut out = SignatureXml {
        provider: child(si, "Provider")
            .and_then(|p| p.attribute("ProviderName"))
            .map(str::to_string),
        signature_method: child(si, "SignatureMethod").map(text),
        date_time: child(si, "SignatureDateTime").map(text),
        ..Default::default()
    };
    if let Some(refs) = child(si, "References") {
        out.check_method = refs.attribute("CheckMethod").map(str::to_string);
        for r in refs.children().filter(|c| is(c, "Reference")) {
            let file_ref = r.attribute("FileRef").unwrap_or_default().to_string();
            let cv = child(r, "CheckValue").map(text).unwrap_or_default();
            out.references.push(Reference {
                path: ofd::loc::resolve(path, &file_ref).ok(),
                file_ref,
                check_value: B64.decode(cv.as_bytes()).ok(),
            });
        }
    }
    for s in si.children().filter(|c| is(c, "StampAnnot")) {
        out.stamps.push(StampAnnot {
            id: s.attribute("ID").unwrap_or_default().into(),
            page_ref: s.attribute("PageRef").unwrap_or_default().into(),
            boundary: s.attribute("Boundary").unwrap_or_default().into(),
            clip: s.attribute("Clip").map(str::to_string),
        });
    }
    if let Some(b) = child(si, "Seal").and_then(|seal| child(seal, "BaseLoc")) {
        out.seal_path = Some(resolve(path, path, &text(b))?);
    }
    if let Some(sv) = child(root, "SignedValue") {
        out.signed_value_path = Some(resolve(path, path, &text(sv))?);
    }
    Ok(out)
}

/// Writes `Signatures.xml` in XSD order (`MaxSignId`, then `Signature*`); text and attribute
/// values escaped by `ofd::xml_out` (the workspace's one escaper), so they read back exactly.
pub fn write_signatures(max_sign_id: &str, records: &[SignatureRecord]) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<ofd:Signatures xmlns:ofd=\"{OFD_NS}\"><ofd:MaxSignId>{}</ofd:MaxSignId>",
        escape_text(max_sign_id)
    ));
    for r in records {
        s.push_str(&format!(
            "<ofd:Signature ID=\"{}\" Type=\"{}\" BaseLoc=\"{}\"/>",
            escape_attr(&r.id),
            escape_attr(&r.sig_type),
            escape_attr(&r.base_loc)
        ));
    }
    s.push_str("</ofd:Signatures>");
    s.into_bytes()
}

/// Base64 of bytes.
pub fn b64(b: &[u8]) -> String {
    B64.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write_signatures` escapes reads back exactly through the parser the verifier uses,
    /// CR (which XML would read as LF) and LF/TAB in attributes (read as spaces) included.
    #[test]
    fn signatures_file_round_trips_tricky_values() {
        let tricky = "a&b<c>d\"e'f\rg\r\nh\ti 签章";
        let records = vec![SignatureRecord {
            id: tricky.into(),
            sig_type: "Seal\r".into(),
            base_loc: "/Doc_0/Signs/A&B'\"/Signature.xml".into(),
            path: "Doc_0/Signs/A&B'\"/Signature.xml".into(),
        }];
        let bytes = write_signatures(tricky, &records);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            !text.contains('\r'),
            "CR is written as a reference: {text:?}"
        );
        let back = parse_signatures("Doc_0/Signs/Signatures.xml", &bytes).unwrap();
        assert_eq!(back.max_sign_id.as_deref(), Some(tricky));
        assert_eq!(back.records, records);
    }
}
