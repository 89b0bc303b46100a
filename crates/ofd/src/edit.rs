//! Small edits of existing packages that keep every other byte intact.

use crate::package::{Package, PackageError};

/// Why an edit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The package has no `OFD.xml`.
    #[error("OFD.xml is missing")]
    NoEntryFile,
    /// `OFD.xml` is not well-formed UTF-8 XML.
    #[error("OFD.xml: {0}")]
    Xml(String),
    /// There is no `DocBody` with this index.
    #[error("OFD.xml has no DocBody #{0}")]
    NoDocBody(usize),
    /// The location cannot be written as an `ST_Loc`.
    #[error("invalid Signatures location {0:?}")]
    BadLoc(String),
    /// The package refused the new entry.
    #[error(transparent)]
    Package(#[from] PackageError),
}

/// Inserts or replaces `<ofd:Signatures>loc</ofd:Signatures>` in DocBody `doc_index` of
/// `OFD.xml`, in schema position (after `DocInfo`, `DocRoot`, `Versions`). Only that element
/// changes; the rest of `OFD.xml` is kept byte for byte. `loc` is written as given (e.g.
/// `Doc_0/Signs/Signatures.xml`; relative to the package root, where OFD.xml lives).
pub fn set_signatures_loc(pkg: &mut Package, doc_index: usize, loc: &str) -> Result<(), EditError> {
    if loc.trim().is_empty()
        || loc.contains(['<', '>', '&', '\\'])
        || crate::loc::resolve("OFD.xml", loc).is_err()
    {
        return Err(EditError::BadLoc(loc.to_string()));
    }
    let bytes = pkg.get("OFD.xml").ok_or(EditError::NoEntryFile)?;
    let s = std::str::from_utf8(bytes).map_err(|e| EditError::Xml(e.to_string()))?;
    let doc = roxmltree::Document::parse(s).map_err(|e| EditError::Xml(e.to_string()))?;
    let body = doc
        .root_element()
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "DocBody")
        .nth(doc_index)
        .ok_or(EditError::NoDocBody(doc_index))?;
    // The prefix used by DocBody, so the new element matches (`ofd:` normally).
    let prefix = element_prefix(s, body);
    let elem = format!("<{prefix}Signatures>{loc}</{prefix}Signatures>");
    let find = |name: &str| {
        body.children()
            .rfind(|n| n.is_element() && n.tag_name().name() == name)
    };
    let (start, end) = if let Some(sig) = find("Signatures") {
        (sig.range().start, sig.range().end)
    } else if let Some(prev) = find("Versions")
        .or_else(|| find("DocRoot"))
        .or_else(|| find("DocInfo"))
    {
        (prev.range().end, prev.range().end)
    } else {
        // Empty DocBody: right after its start tag.
        let r = body.range();
        let open_end = s[r.clone()].find('>').map_or(r.end, |i| r.start + i + 1);
        (open_end, open_end)
    };
    let mut out = String::with_capacity(s.len() + elem.len());
    out.push_str(&s[..start]);
    out.push_str(&elem);
    out.push_str(&s[end..]);
    pkg.insert("OFD.xml", out.into_bytes())?;
    Ok(())
}

/// The element's name as written in `s` (`ofd:DocBody`), from its start tag.
pub(crate) fn qname<'s>(s: &'s str, node: roxmltree::Node<'_, '_>) -> &'s str {
    s.get(node.range())
        .and_then(|q| q.strip_prefix('<'))
        .and_then(|q| q.split([' ', '>', '/', '\t', '\n', '\r']).next())
        .unwrap_or_default()
}

/// The prefix the element is written with, with its colon (`ofd:`), or `""`.
pub(crate) fn element_prefix(s: &str, node: roxmltree::Node<'_, '_>) -> String {
    qname(s, node)
        .split_once(':')
        .map(|(p, _)| format!("{p}:"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(xml: &str) -> Package {
        let mut p = Package::new();
        p.insert("OFD.xml", xml.as_bytes().to_vec()).unwrap();
        p
    }

    #[test]
    fn inserts_after_doc_root_and_replaces() {
        let mut p = pkg(
            r#"<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#,
        );
        set_signatures_loc(&mut p, 0, "Doc_0/Signs/Signatures.xml").unwrap();
        let s = String::from_utf8(p.get("OFD.xml").unwrap().to_vec()).unwrap();
        assert!(s.contains("<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>"), "{s}");
        set_signatures_loc(&mut p, 0, "/Doc_0/S.xml").unwrap();
        let s = String::from_utf8(p.get("OFD.xml").unwrap().to_vec()).unwrap();
        assert_eq!(s.matches("Signatures>").count(), 2, "{s}");
        assert!(s.contains("<ofd:Signatures>/Doc_0/S.xml</ofd:Signatures>"));
        assert_eq!(
            set_signatures_loc(&mut p, 1, "a.xml"),
            Err(EditError::NoDocBody(1))
        );
        assert!(matches!(
            set_signatures_loc(&mut p, 0, "../x"),
            Err(EditError::BadLoc(_))
        ));
    }

    #[test]
    fn keeps_versions_order_and_default_namespace() {
        let mut p = pkg(
            r#"<OFD xmlns="http://www.ofdspec.org/2016"><DocBody><DocInfo/><DocRoot>D.xml</DocRoot><Versions/></DocBody></OFD>"#,
        );
        set_signatures_loc(&mut p, 0, "S.xml").unwrap();
        let s = String::from_utf8(p.get("OFD.xml").unwrap().to_vec()).unwrap();
        assert!(
            s.contains("<Versions/><Signatures>S.xml</Signatures></DocBody>"),
            "{s}"
        );
    }
}
