//! Our custom tags (R-4.5.1, R-4.5.2), one codec for writing and reading them.
//!
//! A certificate carries `Doc_0/Tags/Certificate.xml`: its identifier (R-4.5.5), number, type
//! code and revision count; a supplementary file carries `Supplement.xml`: its own number and
//! the identifier and number of the certificate it supplements (R-6.4.2). Both are in the
//! namespace [`NAMESPACE`] (the tag list's `TypeID` and `NameSpace`):
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <ecert:Certificate xmlns:ecert="urn:ecert:certificate:1"><ecert:Identifier>…</ecert:Identifier><ecert:CertificateNo>…</ecert:CertificateNo><ecert:TypeCode>7</ecert:TypeCode><ecert:Revision>0</ecert:Revision></ecert:Certificate>
//! ```
//!
//! Written with the workspace's one XML escaper (`ofd::xml_out::escape_text`); read with a real XML parser
//! (roxmltree), strictly, because an uploaded file's tag is untrusted input: at most
//! [`MAX_TAG_BYTES`], no DTD (so no entity of its own), the root and every element in our
//! namespace, no attribute, no element unknown, missing or given twice, no text longer than
//! [`MAX_TEXT_CHARS`], a valid identifier whose type code and revision agree with the tag's.

use roxmltree::{Document, Node, ParsingOptions};

use super::identifier::{Identifier, IdentifierError};

/// The namespace of our custom tags (R-4.5.2).
pub const NAMESPACE: &str = "urn:ecert:certificate:1";
/// The tag file of a certificate.
pub const CERTIFICATE_FILE: &str = "Certificate.xml";
/// The tag file of a supplementary file.
pub const SUPPLEMENT_FILE: &str = "Supplement.xml";
/// The largest tag file read.
pub const MAX_TAG_BYTES: usize = 16 * 1024;
/// The longest text of one element, in characters (identifiers are far shorter).
pub const MAX_TEXT_CHARS: usize = 512;

/// The tag of a certificate: its identifier (which holds the type code and the revision
/// count) and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateTag {
    /// The identifier (R-4.5.5).
    pub identifier: Identifier,
    /// The certificate number.
    pub number: String,
}

/// The tag of a supplementary file (R-6.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplementTag {
    /// The supplement's own number.
    pub number: String,
    /// The identifier of the certificate it supplements.
    pub original: Identifier,
    /// The number of the certificate it supplements.
    pub original_number: String,
}

/// One of our tags, as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `Certificate.xml`.
    Certificate(CertificateTag),
    /// `Supplement.xml`.
    Supplement(SupplementTag),
}

/// Why a tag cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// Larger than [`MAX_TAG_BYTES`].
    #[error("自定义标引过大（{size} 字节）(custom tag too large: {size} bytes)")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// Not UTF-8.
    #[error("自定义标引不是 UTF-8 (custom tag is not UTF-8)")]
    NotUtf8,
    /// Not well-formed XML, or it has a DTD.
    #[error("自定义标引不是有效的 XML (custom tag is not well-formed XML): {0}")]
    Xml(String),
    /// An element outside our namespace.
    #[error(
        "元素 {element} 不在命名空间 {NAMESPACE} 中 (element {element} is not in our namespace; found {found:?})"
    )]
    Namespace {
        /// The element's local name.
        element: String,
        /// Its namespace.
        found: Option<String>,
    },
    /// The root is neither `Certificate` nor `Supplement`.
    #[error("自定义标引的根元素 {0} 未知 (unknown root element {0})")]
    Root(String),
    /// An element this tag does not have.
    #[error("自定义标引含未知元素 {0} (unknown element {0})")]
    Unknown(String),
    /// An element given twice.
    #[error("自定义标引中元素 {0} 出现多次 (element {0} given more than once)")]
    Duplicate(String),
    /// A required element is missing.
    #[error("自定义标引缺少元素 {0} (element {0} is missing)")]
    Missing(&'static str),
    /// An attribute (none is allowed).
    #[error("元素 {element} 含属性 {attribute} (element {element} has attribute {attribute})")]
    Attribute {
        /// The element.
        element: String,
        /// The attribute.
        attribute: String,
    },
    /// Text where elements are expected, or elements where text is expected.
    #[error("元素 {0} 的内容不符合结构 (element {0} has unexpected content)")]
    Content(String),
    /// A text longer than [`MAX_TEXT_CHARS`].
    #[error("元素 {element} 过长（{chars} 个字符）(element {element} has {chars} characters)")]
    TooLong {
        /// The element.
        element: &'static str,
        /// Its length in characters.
        chars: usize,
    },
    /// The identifier is not a valid R-4.5.5 identifier.
    #[error("自定义标引中的电子证书标识无效 (invalid identifier in the custom tag): {0}")]
    Identifier(#[source] IdentifierError),
    /// The type code or revision does not agree with the identifier.
    #[error(
        "自定义标引中的 {element}“{found}”与标识中的“{expected}”不符 ({element} {found:?} contradicts the identifier's {expected:?})"
    )]
    Contradicts {
        /// `TypeCode` or `Revision`.
        element: &'static str,
        /// What the tag says.
        found: String,
        /// What the identifier says.
        expected: String,
    },
}

/// Writes `<?xml …?>\n<ecert:{root} xmlns:ecert="…">{body}</ecert:{root}>\n`.
fn document(root: &str, body: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ecert:{root} xmlns:ecert=\"{NAMESPACE}\">{body}</ecert:{root}>\n"
    )
    .into_bytes()
}

fn leaf(out: &mut String, name: &str, text: &str) {
    out.push_str(&format!(
        "<ecert:{name}>{}</ecert:{name}>",
        ofd::xml_out::escape_text(text)
    ));
}

fn spec(file_name: &str, xml: Vec<u8>) -> ofd::write::CustomTagSpec {
    ofd::write::CustomTagSpec {
        type_id: NAMESPACE.into(),
        file_name: file_name.into(),
        xml,
        schema: None,
    }
}

impl CertificateTag {
    /// The tag file's bytes.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut body = String::new();
        leaf(&mut body, "Identifier", &self.identifier.to_string());
        leaf(&mut body, "CertificateNo", &self.number);
        leaf(
            &mut body,
            "TypeCode",
            &self.identifier.kind().code().to_string(),
        );
        leaf(
            &mut body,
            "Revision",
            &self.identifier.revision().to_string(),
        );
        document("Certificate", &body)
    }

    /// The tag for the OFD writer (`Doc_0/Tags/Certificate.xml`).
    pub fn spec(&self) -> ofd::write::CustomTagSpec {
        spec(CERTIFICATE_FILE, self.to_xml())
    }
}

impl SupplementTag {
    /// The tag file's bytes.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut body = String::new();
        leaf(&mut body, "SupplementNo", &self.number);
        body.push_str("<ecert:Supplements>");
        leaf(&mut body, "Identifier", &self.original.to_string());
        leaf(&mut body, "CertificateNo", &self.original_number);
        body.push_str("</ecert:Supplements>");
        document("Supplement", &body)
    }

    /// The tag for the OFD writer (`Doc_0/Tags/Supplement.xml`).
    pub fn spec(&self) -> ofd::write::CustomTagSpec {
        spec(SUPPLEMENT_FILE, self.to_xml())
    }
}

/// The element children of `node`, by local name, each at most once, each in our namespace,
/// none unknown (`allowed`), no attribute, no text between them.
fn children<'a, 'i>(
    node: Node<'a, 'i>,
    allowed: &[&'static str],
) -> Result<Vec<(&'static str, Node<'a, 'i>)>, TagError> {
    let mut out: Vec<(&'static str, Node<'a, 'i>)> = Vec::new();
    for child in node.children() {
        if child.is_text() {
            if child.text().is_some_and(|t| !t.trim().is_empty()) {
                return Err(TagError::Content(node.tag_name().name().to_owned()));
            }
            continue;
        }
        if !child.is_element() {
            // Comments and processing instructions carry nothing.
            continue;
        }
        let name = child.tag_name().name();
        check_element(child)?;
        let Some(known) = allowed.iter().find(|a| **a == name) else {
            return Err(TagError::Unknown(name.to_owned()));
        };
        if out.iter().any(|(n, _)| n == known) {
            return Err(TagError::Duplicate(name.to_owned()));
        }
        out.push((known, child));
    }
    Ok(out)
}

/// An element in our namespace without attributes.
fn check_element(node: Node<'_, '_>) -> Result<(), TagError> {
    let name = node.tag_name();
    if name.namespace() != Some(NAMESPACE) {
        return Err(TagError::Namespace {
            element: name.name().to_owned(),
            found: name.namespace().map(str::to_owned),
        });
    }
    if let Some(a) = node.attributes().next() {
        return Err(TagError::Attribute {
            element: name.name().to_owned(),
            attribute: a.name().to_owned(),
        });
    }
    Ok(())
}

/// The text of a leaf element `name` among `found`.
fn leaf_text(
    found: &[(&'static str, Node<'_, '_>)],
    name: &'static str,
) -> Result<String, TagError> {
    let (_, node) = found
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or(TagError::Missing(name))?;
    if node.children().any(|c| c.is_element()) {
        return Err(TagError::Content(name.to_owned()));
    }
    let text: String = node
        .children()
        .filter_map(|c| c.text())
        .collect::<Vec<_>>()
        .concat();
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(TagError::TooLong {
            element: name,
            chars,
        });
    }
    Ok(text)
}

fn node<'a, 'i>(
    found: &[(&'static str, Node<'a, 'i>)],
    name: &'static str,
) -> Result<Node<'a, 'i>, TagError> {
    found
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, n)| *n)
        .ok_or(TagError::Missing(name))
}

impl Tag {
    /// Reads a tag file strictly (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Tag, TagError> {
        if bytes.len() > MAX_TAG_BYTES {
            return Err(TagError::TooLarge { size: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| TagError::NotUtf8)?;
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: 256,
            ..ParsingOptions::default()
        };
        let doc = Document::parse_with_options(text, options)
            .map_err(|e| TagError::Xml(e.to_string()))?;
        let root = doc.root_element();
        check_element(root)?;
        match root.tag_name().name() {
            "Certificate" => {
                let found = children(
                    root,
                    &["Identifier", "CertificateNo", "TypeCode", "Revision"],
                )?;
                let identifier: Identifier = leaf_text(&found, "Identifier")?
                    .parse()
                    .map_err(TagError::Identifier)?;
                let number = leaf_text(&found, "CertificateNo")?;
                for (element, expected) in [
                    ("TypeCode", identifier.kind().code().to_string()),
                    ("Revision", identifier.revision().to_string()),
                ] {
                    let found = leaf_text(&found, element)?;
                    if found.trim() != expected {
                        return Err(TagError::Contradicts {
                            element,
                            found,
                            expected,
                        });
                    }
                }
                Ok(Tag::Certificate(CertificateTag { identifier, number }))
            }
            "Supplement" => {
                let found = children(root, &["SupplementNo", "Supplements"])?;
                let number = leaf_text(&found, "SupplementNo")?;
                let original = children(
                    node(&found, "Supplements")?,
                    &["Identifier", "CertificateNo"],
                )?;
                Ok(Tag::Supplement(SupplementTag {
                    number,
                    original: leaf_text(&original, "Identifier")?
                        .parse()
                        .map_err(TagError::Identifier)?,
                    original_number: leaf_text(&original, "CertificateNo")?,
                }))
            }
            other => Err(TagError::Root(other.to_owned())),
        }
    }

    /// The identifier the tag names: the certificate's own, or the one a supplement
    /// supplements.
    pub fn identifier(&self) -> &Identifier {
        match self {
            Tag::Certificate(c) => &c.identifier,
            Tag::Supplement(s) => &s.original,
        }
    }

    /// The certificate number the tag names (a supplement's: the original's).
    pub fn certificate_number(&self) -> &str {
        match self {
            Tag::Certificate(c) => &c.number,
            Tag::Supplement(s) => &s.original_number,
        }
    }
}

/// True for a tag-list entry of ours (by `TypeID` or `NameSpace`).
pub fn is_ours(tag: &ofd::model::CustomTag) -> bool {
    tag.type_id.as_deref() == Some(NAMESPACE) || tag.namespace.as_deref() == Some(NAMESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Identifier {
        text.parse().expect("valid identifier")
    }

    fn certificate() -> CertificateTag {
        CertificateTag {
            identifier: id("1.3.6.1.4.1.32473.1·7·123456788·L<1>&·JZ-1·0"),
            number: "JZ-1".into(),
        }
    }

    #[test]
    fn r_4_5_2_certificate_tag_round_trips_escaped() {
        let tag = certificate();
        let xml = String::from_utf8(tag.to_xml()).expect("utf-8");
        assert!(xml.contains("L&lt;1&gt;&amp;"), "{xml}");
        assert!(
            xml.contains(&format!("xmlns:ecert=\"{NAMESPACE}\"")),
            "{xml}"
        );
        assert!(
            xml.contains("<ecert:TypeCode>7</ecert:TypeCode><ecert:Revision>0</ecert:Revision>")
        );
        assert_eq!(
            Tag::parse(xml.as_bytes()),
            Ok(Tag::Certificate(tag.clone()))
        );
        // Whatever a number holds comes back as it was (CR included, which XML would turn
        // into LF unescaped).
        let odd = CertificateTag {
            number: "A<&>'\"\r\n\t·B".into(),
            ..tag.clone()
        };
        assert_eq!(Tag::parse(&odd.to_xml()), Ok(Tag::Certificate(odd)));
        let spec = tag.spec();
        assert_eq!(spec.type_id, NAMESPACE);
        assert_eq!(spec.file_name, CERTIFICATE_FILE);
    }

    #[test]
    fn r_6_4_2_supplement_tag_round_trips() {
        let tag = SupplementTag {
            number: "JZ-1-BC1".into(),
            original: id("1.3.6.1.4.1.32473.1·7·123456788·L1·JZ-1·1"),
            original_number: "JZ-1".into(),
        };
        let parsed = Tag::parse(&tag.to_xml()).expect("parse");
        assert_eq!(parsed, Tag::Supplement(tag.clone()));
        assert_eq!(parsed.certificate_number(), "JZ-1");
        assert_eq!(parsed.identifier().revision(), 1);
    }

    /// What an altered or hostile file may carry is refused with a reason, never trusted.
    #[test]
    fn hostile_tags_are_refused() {
        let good = String::from_utf8(certificate().to_xml()).expect("utf-8");
        let bad = |xml: &str| Tag::parse(xml.as_bytes()).expect_err(xml);
        // Entities of its own (a DTD) — the billion-laughs shape included.
        let e = bad(&good.replacen(
            "<ecert:Certificate",
            "<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><ecert:Certificate",
            1,
        ));
        assert!(matches!(e, TagError::Xml(_)), "{e:?}");
        // Another namespace, or none.
        let e = bad(&good.replace(NAMESPACE, "urn:other:1"));
        assert!(matches!(e, TagError::Namespace { .. }), "{e:?}");
        let e = bad("<Certificate><Identifier>x</Identifier></Certificate>");
        assert!(
            matches!(e, TagError::Namespace { found: None, .. }),
            "{e:?}"
        );
        // Two identifiers.
        let twice = good.replacen(
            "<ecert:CertificateNo>",
            "<ecert:Identifier>1.3.6.1.4.1.32473.1·7·123456788·L1·OTHER·0</ecert:Identifier><ecert:CertificateNo>",
            1,
        );
        assert_eq!(bad(&twice), TagError::Duplicate("Identifier".into()));
        // Unknown and missing elements, attributes, nested content, long text.
        let e = bad(&good.replace(
            "</ecert:Certificate>",
            "<ecert:Extra>x</ecert:Extra></ecert:Certificate>",
        ));
        assert_eq!(e, TagError::Unknown("Extra".into()));
        let e = bad(&good.replace("<ecert:CertificateNo>JZ-1</ecert:CertificateNo>", ""));
        assert_eq!(e, TagError::Missing("CertificateNo"));
        let e = bad(&good.replace("<ecert:CertificateNo>", "<ecert:CertificateNo x=\"1\">"));
        assert!(matches!(e, TagError::Attribute { .. }), "{e:?}");
        let e = bad(&good.replace(
            "<ecert:CertificateNo>JZ-1</ecert:CertificateNo>",
            "<ecert:CertificateNo><ecert:Identifier>x</ecert:Identifier></ecert:CertificateNo>",
        ));
        assert_eq!(e, TagError::Content("CertificateNo".into()));
        let long = good.replace(
            "<ecert:CertificateNo>JZ-1<",
            &format!("<ecert:CertificateNo>{}<", "长".repeat(MAX_TEXT_CHARS + 1)),
        );
        assert!(matches!(
            bad(&long),
            TagError::TooLong {
                element: "CertificateNo",
                ..
            }
        ));
        let e = bad(&good.replace("</ecert:Identifier>", "</ecert:Identifier>text"));
        assert_eq!(e, TagError::Content("Certificate".into()));
        // A type code or revision that contradicts the identifier; an invalid identifier.
        let e = bad(&good.replace("<ecert:TypeCode>7<", "<ecert:TypeCode>1<"));
        assert!(
            matches!(
                e,
                TagError::Contradicts {
                    element: "TypeCode",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = bad(&good.replace("·JZ-1·0<", "·JZ-1<"));
        assert!(matches!(e, TagError::Identifier(_)), "{e:?}");
        // Not ours at all, not UTF-8, too large.
        assert_eq!(
            bad(&good.replace("ecert:Certificate", "ecert:Other")),
            TagError::Root("Other".into())
        );
        assert_eq!(Tag::parse(b"\xff\xfe<x/>"), Err(TagError::NotUtf8));
        let huge = vec![b' '; MAX_TAG_BYTES + 1];
        assert!(matches!(Tag::parse(&huge), Err(TagError::TooLarge { .. })));
    }
}
