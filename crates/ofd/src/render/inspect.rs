//! A serialisable structural summary of a read package, for `ecert ofd inspect FILE [--json]`.
//!
//! Everything comes from the reader's model and container; nothing here re-parses the page
//! XML. The signatures file is only located and counted (`crates/ses` verifies it).

use crate::model::*;
use crate::read::OfdFile;
use serde::Serialize;

/// The summary of a package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// `OFD.xml` `Version`.
    pub version: String,
    /// `DocType`.
    pub doc_type: String,
    /// Number of ZIP entries.
    pub entries: usize,
    /// Total uncompressed size of the entries in bytes.
    pub total_bytes: u64,
    /// One entry per `DocBody`.
    pub documents: Vec<DocSummary>,
    /// Every part the reader resolved and loaded (what signatures must cover).
    pub loaded_parts: Vec<String>,
    /// Entries present in the package that the reader did not load (signature files,
    /// unused resources…).
    pub unreferenced_parts: Vec<String>,
    /// Leniencies the reader applied, as text.
    pub warnings: Vec<String>,
}

/// One document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocSummary {
    /// `DocInfo`.
    pub info: InfoSummary,
    /// Path of `Document.xml`.
    pub doc_root: String,
    /// `CommonData/MaxUnitID`.
    pub max_unit_id: Option<u32>,
    /// Default page box (`CommonData/PageArea/PhysicalBox`), mm.
    pub default_page_box: Option<BoxMm>,
    /// Pages in document order.
    pub pages: Vec<PageSummary>,
    /// Template pages.
    pub templates: Vec<TemplateSummary>,
    /// Fonts.
    pub fonts: Vec<FontSummary>,
    /// Images (multimedia resources).
    pub images: Vec<ImageSummary>,
    /// Custom tags (clause 16).
    pub custom_tags: Vec<TagSummary>,
    /// Attachments (clause 20).
    pub attachments: Vec<AttachmentSummary>,
    /// Where the signatures are.
    pub signatures: Option<SignaturesSummary>,
}

/// `DocInfo` fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfoSummary {
    /// `DocID`.
    pub doc_id: String,
    /// `Title`.
    pub title: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `CreationDate`.
    pub creation_date: Option<String>,
    /// `ModDate`.
    pub mod_date: Option<String>,
    /// `Creator`.
    pub creator: Option<String>,
    /// `CreatorVersion`.
    pub creator_version: Option<String>,
    /// `Keywords`.
    pub keywords: Vec<String>,
    /// `CustomDatas`: name, value.
    pub custom_data: Vec<(String, String)>,
}

/// A box in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoxMm {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl From<Rect> for BoxMm {
    fn from(r: Rect) -> Self {
        BoxMm {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
        }
    }
}

/// Object counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ObjectCounts {
    /// Text objects.
    pub text: usize,
    /// Characters in all text codes.
    pub chars: usize,
    /// Path objects.
    pub path: usize,
    /// Image objects.
    pub image: usize,
    /// Composite objects.
    pub composite: usize,
    /// Page blocks.
    pub block: usize,
}

impl ObjectCounts {
    fn add(&mut self, objs: &[GraphicObject]) {
        for o in objs {
            match o {
                GraphicObject::Text(t) => {
                    self.text += 1;
                    self.chars += t
                        .codes
                        .iter()
                        .map(|c| c.text.chars().count())
                        .sum::<usize>();
                }
                GraphicObject::Path(_) => self.path += 1,
                GraphicObject::Image(_) => self.image += 1,
                GraphicObject::Composite(_) => self.composite += 1,
                GraphicObject::Block(b) => {
                    self.block += 1;
                    self.add(&b.objects);
                }
            }
        }
    }
}

/// A page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageSummary {
    /// 1-based page number.
    pub number: usize,
    /// Page ID.
    pub id: Option<u32>,
    /// Content file.
    pub content_path: String,
    /// Effective physical box, mm.
    pub physical_box: BoxMm,
    /// `ApplicationBox`, if any.
    pub application_box: Option<BoxMm>,
    /// Templates used: ID and effective z-order.
    pub templates: Vec<(u32, String)>,
    /// Number of layers.
    pub layers: usize,
    /// Objects in the page's own layers.
    pub objects: ObjectCounts,
    /// Annotations: type and subtype.
    pub annotations: Vec<(String, Option<String>)>,
}

/// A template page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateSummary {
    /// ID.
    pub id: u32,
    /// `Name`.
    pub name: Option<String>,
    /// `ZOrder`.
    pub z_order: Option<String>,
    /// Content file.
    pub content_path: String,
    /// Objects.
    pub objects: ObjectCounts,
}

/// A font.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FontSummary {
    /// Resource ID.
    pub id: u32,
    /// `FontName`.
    pub name: String,
    /// `FamilyName`.
    pub family: Option<String>,
    /// Embedded (a `FontFile` whose bytes are present).
    pub embedded: bool,
    /// Font file path.
    pub file: Option<String>,
    /// Size of the embedded file in bytes.
    pub bytes: Option<usize>,
    /// Outline format of the embedded file: `TrueType`, `CFF`, `none`, or `unreadable`.
    pub outlines: Option<String>,
    /// Glyphs in the embedded file (a subset holds only the glyphs used).
    pub glyph_count: Option<u16>,
    /// Characters the embedded file's cmap maps.
    pub cmap_chars: Option<usize>,
}

/// An image resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageSummary {
    /// Resource ID.
    pub id: u32,
    /// `Type`.
    pub media_type: String,
    /// Format (attribute or sniffed).
    pub format: Option<String>,
    /// File path.
    pub file: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Pixel size from the file header, when PNG or JPEG.
    pub pixels: Option<(u32, u32)>,
}

/// A custom tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagSummary {
    /// `TypeID`.
    pub type_id: Option<String>,
    /// `NameSpace`.
    pub namespace: Option<String>,
    /// Tag file.
    pub file: String,
    /// Its size.
    pub bytes: usize,
    /// Root element of the tag file (`{namespace}name`), if it is XML.
    pub root: Option<String>,
}

/// An attachment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentSummary {
    /// `ID`.
    pub id: Option<String>,
    /// `Name`.
    pub name: String,
    /// `Format`.
    pub format: Option<String>,
    /// File path.
    pub file: String,
    /// Size in bytes.
    pub bytes: usize,
    /// `CreationDate`.
    pub creation_date: Option<String>,
}

/// The signatures file of a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignaturesSummary {
    /// Path of `Signatures.xml`.
    pub path: String,
    /// The file is in the package.
    pub present: bool,
    /// `Signature` entries listed in it (0 if absent or unreadable).
    pub count: usize,
    /// Their `BaseLoc`s, resolved where possible.
    pub signature_files: Vec<String>,
}

fn font_summary(f: &Font) -> FontSummary {
    let face = f.data.as_deref().map(|d| ttf_parser::Face::parse(d, 0));
    let outlines = face.as_ref().map(|r| match r {
        Ok(face) => {
            let t = face.tables();
            if t.glyf.is_some() {
                "TrueType"
            } else if t.cff.is_some() {
                "CFF"
            } else {
                "none"
            }
            .to_string()
        }
        Err(_) => "unreadable".to_string(),
    });
    let ok = face.as_ref().and_then(|r| r.as_ref().ok());
    FontSummary {
        id: f.id.0,
        name: f.font_name.clone(),
        family: f.family_name.clone(),
        embedded: f.data.is_some(),
        file: f.file.clone(),
        bytes: f.data.as_ref().map(Vec::len),
        outlines,
        glyph_count: ok.map(ttf_parser::Face::number_of_glyphs),
        cmap_chars: ok.map(|face| {
            let mut n = 0usize;
            if let Some(cmap) = face.tables().cmap {
                for sub in cmap.subtables {
                    if sub.is_unicode() {
                        let mut k = 0usize;
                        sub.codepoints(|c| {
                            if sub.glyph_index(c).is_some_and(|g| g.0 != 0) {
                                k += 1;
                            }
                        });
                        n = n.max(k);
                    }
                }
            }
            n
        }),
    }
}

fn image_pixels(data: &[u8]) -> Option<(u32, u32)> {
    match ImageFormat::sniff(data)? {
        ImageFormat::Png => {
            let d = png::Decoder::new(std::io::Cursor::new(data))
                .read_info()
                .ok()?;
            let i = d.info();
            Some((i.width, i.height))
        }
        ImageFormat::Jpeg => {
            let mut dec = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(data));
            dec.decode_headers().ok()?;
            let (w, h) = dec.dimensions()?;
            Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
        }
        _ => None,
    }
}

fn xml_root(data: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)).ok()?;
    let doc = roxmltree::Document::parse_with_options(
        s,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 100_000,
            ..Default::default()
        },
    )
    .ok()?;
    let r = doc.root_element().tag_name();
    Some(match r.namespace() {
        Some(ns) => format!("{{{ns}}}{}", r.name()),
        None => r.name().to_string(),
    })
}

fn signatures(file: &OfdFile, path: &str) -> SignaturesSummary {
    let data = file.package.get(path);
    let mut count = 0;
    let mut signature_files = Vec::new();
    if let Some(s) =
        data.and_then(|d| std::str::from_utf8(d.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(d)).ok())
        && let Ok(doc) = roxmltree::Document::parse_with_options(
            s,
            roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: 100_000,
                ..Default::default()
            },
        )
    {
        for n in doc
            .root_element()
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "Signature")
        {
            count += 1;
            if let Some(b) = n.attribute("BaseLoc") {
                signature_files
                    .push(crate::loc::resolve(path, b).unwrap_or_else(|_| b.to_string()));
            }
        }
    }
    SignaturesSummary {
        path: path.to_string(),
        present: data.is_some(),
        count,
        signature_files,
    }
}

/// Summarises a read package.
pub fn inspect(file: &OfdFile) -> Inspection {
    let loaded = file.loaded_parts();
    let documents = file
        .ofd
        .docs
        .iter()
        .map(|body| {
            let d = &body.document;
            let i = &body.info;
            let pages = d
                .pages
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let mut objects = ObjectCounts::default();
                    for l in &p.layers {
                        objects.add(&l.objects);
                    }
                    PageSummary {
                        number: k + 1,
                        id: p.id.map(|i| i.0),
                        content_path: p.content_path.clone(),
                        physical_box: d.page_box(k).unwrap_or(Rect::A4).into(),
                        application_box: p
                            .area
                            .or(d.page_area)
                            .and_then(|a| a.application)
                            .map(Into::into),
                        templates: p
                            .templates
                            .iter()
                            .map(|t| {
                                let z = t
                                    .z_order
                                    .clone()
                                    .or_else(|| {
                                        d.template(t.template_id).and_then(|tp| tp.z_order.clone())
                                    })
                                    .unwrap_or_else(|| "Background".into());
                                (t.template_id.0, z)
                            })
                            .collect(),
                        layers: p.layers.len(),
                        objects,
                        annotations: p
                            .annotations
                            .iter()
                            .map(|a| (a.annot_type.clone(), a.subtype.clone()))
                            .collect(),
                    }
                })
                .collect();
            DocSummary {
                info: InfoSummary {
                    doc_id: i.doc_id.clone(),
                    title: i.title.clone(),
                    author: i.author.clone(),
                    subject: i.subject.clone(),
                    creation_date: i.creation_date.clone(),
                    mod_date: i.mod_date.clone(),
                    creator: i.creator.clone(),
                    creator_version: i.creator_version.clone(),
                    keywords: i.keywords.clone(),
                    custom_data: i.custom_data.clone(),
                },
                doc_root: body.doc_root.clone(),
                max_unit_id: d.max_unit_id,
                default_page_box: d.page_area.map(|a| a.physical.into()),
                pages,
                templates: d
                    .templates
                    .iter()
                    .map(|t| {
                        let mut objects = ObjectCounts::default();
                        for l in &t.layers {
                            objects.add(&l.objects);
                        }
                        TemplateSummary {
                            id: t.id.0,
                            name: t.name.clone(),
                            z_order: t.z_order.clone(),
                            content_path: t.content_path.clone(),
                            objects,
                        }
                    })
                    .collect(),
                fonts: d.fonts.iter().map(font_summary).collect(),
                images: d
                    .media
                    .iter()
                    .map(|m| ImageSummary {
                        id: m.id.0,
                        media_type: m.media_type.clone(),
                        format: m.format.as_ref().map(|f| f.as_attr().to_string()),
                        file: m.file.clone(),
                        bytes: m.data.len(),
                        pixels: image_pixels(&m.data),
                    })
                    .collect(),
                custom_tags: d
                    .custom_tags
                    .iter()
                    .map(|t| TagSummary {
                        type_id: t.type_id.clone(),
                        namespace: t.namespace.clone(),
                        file: t.file.clone(),
                        bytes: t.data.len(),
                        root: xml_root(&t.data),
                    })
                    .collect(),
                attachments: d
                    .attachments
                    .iter()
                    .map(|a| AttachmentSummary {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        format: a.format.clone(),
                        file: a.file.clone(),
                        bytes: a.data.len(),
                        creation_date: a.creation_date.clone(),
                    })
                    .collect(),
                signatures: body.signatures.as_deref().map(|p| signatures(file, p)),
            }
        })
        .collect();
    Inspection {
        version: file.ofd.version.clone(),
        doc_type: file.ofd.doc_type.clone(),
        entries: file.package.len(),
        total_bytes: file.package.entries().map(|(_, d)| d.len() as u64).sum(),
        documents,
        unreferenced_parts: file
            .package
            .paths()
            .filter(|p| !loaded.contains(*p))
            .map(str::to_string)
            .collect(),
        loaded_parts: loaded.into_iter().collect(),
        warnings: file.warnings.iter().map(|w| format!("{w:?}")).collect(),
    }
}

impl Inspection {
    /// A human-readable multi-line rendering (what `ecert ofd inspect` prints without `--json`).
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "OFD {} ({}), {} entries, {} bytes",
            self.version, self.doc_type, self.entries, self.total_bytes
        );
        for (k, d) in self.documents.iter().enumerate() {
            let i = &d.info;
            let _ = writeln!(s, "document {} ({})", k + 1, d.doc_root);
            let _ = writeln!(s, "  DocID: {}", i.doc_id);
            for (name, v) in [
                ("Title", &i.title),
                ("Author", &i.author),
                ("Subject", &i.subject),
                ("CreationDate", &i.creation_date),
                ("ModDate", &i.mod_date),
                ("Creator", &i.creator),
                ("CreatorVersion", &i.creator_version),
            ] {
                if let Some(v) = v {
                    let _ = writeln!(s, "  {name}: {v}");
                }
            }
            for (n, v) in &i.custom_data {
                let _ = writeln!(s, "  CustomData {n}: {v}");
            }
            let _ = writeln!(s, "  pages: {}", d.pages.len());
            for p in &d.pages {
                let b = p.physical_box;
                let o = p.objects;
                let _ = writeln!(
                    s,
                    "    {}: {} × {} mm, {} layer(s), {} text ({} chars), {} path, {} image, {} composite, {} block; templates {:?}; annotations {:?}",
                    p.number,
                    b.w,
                    b.h,
                    p.layers,
                    o.text,
                    o.chars,
                    o.path,
                    o.image,
                    o.composite,
                    o.block,
                    p.templates,
                    p.annotations
                );
            }
            let _ = writeln!(s, "  fonts: {}", d.fonts.len());
            for f in &d.fonts {
                let emb = if f.embedded {
                    format!(
                        "embedded {} ({} bytes, {} outlines, {} glyphs, {} chars)",
                        f.file.as_deref().unwrap_or(""),
                        f.bytes.unwrap_or(0),
                        f.outlines.as_deref().unwrap_or("?"),
                        f.glyph_count.unwrap_or(0),
                        f.cmap_chars.unwrap_or(0)
                    )
                } else {
                    "not embedded".to_string()
                };
                let _ = writeln!(s, "    {} {:?}: {emb}", f.id, f.name);
            }
            let _ = writeln!(s, "  images: {}", d.images.len());
            for m in &d.images {
                let _ = writeln!(
                    s,
                    "    {} {} {:?} {} bytes {:?}",
                    m.id, m.file, m.format, m.bytes, m.pixels
                );
            }
            let _ = writeln!(s, "  custom tags: {}", d.custom_tags.len());
            for t in &d.custom_tags {
                let _ = writeln!(
                    s,
                    "    {:?} {} ({} bytes, root {:?})",
                    t.type_id, t.file, t.bytes, t.root
                );
            }
            let _ = writeln!(s, "  attachments: {}", d.attachments.len());
            for a in &d.attachments {
                let _ = writeln!(
                    s,
                    "    {:?} {} ({:?}, {} bytes)",
                    a.name, a.file, a.format, a.bytes
                );
            }
            match &d.signatures {
                Some(g) => {
                    let _ = writeln!(
                        s,
                        "  signatures: {} ({} signature(s){})",
                        g.path,
                        g.count,
                        if g.present { "" } else { ", file missing" }
                    );
                }
                None => {
                    let _ = writeln!(s, "  signatures: none");
                }
            }
        }
        let _ = writeln!(s, "loaded parts: {}", self.loaded_parts.len());
        for p in &self.loaded_parts {
            let _ = writeln!(s, "  {p}");
        }
        if !self.unreferenced_parts.is_empty() {
            let _ = writeln!(
                s,
                "parts not loaded by the reader: {}",
                self.unreferenced_parts.len()
            );
            for p in &self.unreferenced_parts {
                let _ = writeln!(s, "  {p}");
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "reader warnings: {}", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(s, "  {w}");
            }
        }
        s
    }
}
