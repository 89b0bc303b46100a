//! Adding objects to an OFD file that someone else wrote, keeping everything it holds.
//!
//! An [`Overlay`] opens a package with the strict [reader](crate::read), tells where the
//! existing objects of a page may paint ([`Overlay::object_boxes`], the renderer's own rule:
//! [`crate::extent::page_object_boxes`]) and where a rectangle is still free
//! ([`Overlay::is_free`]), and collects new content written with the ordinary
//! [`LayerWriter`] (text with embedded font subsets, paths, R-4.1.6). [`Overlay::finish`]
//! then changes the package as little as it can:
//!
//! - each page that received objects gets one new `Layer` (type `Body`, drawn after the
//!   existing layers) appended inside its `Content` element; nothing else of the page changes;
//! - the fonts go into a **new** resource file (`OverlayRes.xml` beside `Document.xml`) that
//!   one new `PublicRes` element of `Document.xml` references; their subsets are new files
//!   under `Res/`;
//! - `CommonData/MaxUnitID` is raised to the largest ID now in use (new IDs are allocated
//!   after the largest one found anywhere in the document, even when the file's own
//!   `MaxUnitID` is too small);
//! - custom tags (clause 16, R-4.5.2) are appended to the existing custom tag list, or a new
//!   list is written and `Document.xml` points to it;
//! - `DocInfo/CustomDatas` entries are set in `OFD.xml` (an entry of the same name is
//!   replaced, others are kept).
//!
//! Every other entry keeps its bytes; in the edited XML parts only the spliced elements are
//! new (inserted with the prefix the part uses, or declaring `ofd:` themselves when the part
//! uses another one). Signed files must not be edited (the signatures would break): the
//! overlay refuses a document with `Signatures`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ofd::overlay::Overlay;
//! use ofd::write::TextStyle;
//! let mut ov = Overlay::open(&std::fs::read("business.ofd")?)?;
//! let font = ov.add_font(ofd::FontSource::from_path("font.ttf", 0)?)?;
//! let spot = ofd::Rect::new(20.0, 280.0, 80.0, 6.0);
//! if ov.is_free(0, spot) {
//!     ov.layer(0)?.text(&TextStyle::new(font, 3.0), 22.0, 285.0, "added text")?;
//! }
//! let bytes = ov.finish()?.to_zip()?;
//! # Ok(()) }
//! ```

use roxmltree::Node;

use crate::edit::{element_prefix, qname};
use crate::font::FontSource;
use crate::loc::dir_of;
use crate::model::*;
use crate::package::{Package, PackageError};
use crate::read::{OfdFile, ReadError, ReadOptions};
use crate::write::{
    CustomTagSpec, DocumentWriter, FontRef, LayerWriter, WriteError, custom_tag_entry, loc_from,
    res_file,
};
use crate::xml_out::{self, OFD_NS, Xml};

/// Why an overlay could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OverlayError {
    /// The file could not be read (not an OFD package, or refused by the strict reader).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Writing the new objects failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The package refused a new entry.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// The package does not hold exactly one document.
    #[error("the package holds {0} documents; an overlay needs exactly one")]
    Documents(usize),
    /// The document is signed: any change would break its signatures.
    #[error("the document is signed ({0}); a signed file cannot be changed")]
    Signed(String),
    /// There is no page with this index.
    #[error("there is no page {0} (0-based)")]
    NoPage(usize),
    /// An XML part the overlay must edit is missing or not well-formed.
    #[error("{path}: {why}")]
    Xml {
        /// The part.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The IDs would pass the largest `ST_ID`.
    #[error("no object IDs left after {0}")]
    Ids(u32),
}

/// An existing single-document OFD package being added to. See the [module](self) docs.
pub struct Overlay {
    file: OfdFile,
    writer: DocumentWriter,
    custom_data: Vec<(String, String)>,
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overlay")
            .field("doc_root", &self.doc_body().doc_root)
            .field("pages", &self.page_count())
            .finish_non_exhaustive()
    }
}

/// The largest ID used anywhere in the document (resources, templates, pages, layers,
/// objects, annotations).
fn largest_id(d: &Document) -> u32 {
    fn objs(list: &[GraphicObject], m: &mut u32) {
        for o in list {
            match o {
                GraphicObject::Block(b) => {
                    *m = (*m).max(b.id.map_or(0, |i| i.0));
                    objs(&b.objects, m);
                }
                other => {
                    if let Some(c) = other.common() {
                        *m = (*m).max(c.id.map_or(0, |i| i.0));
                    }
                }
            }
        }
    }
    fn layers(list: &[Layer], m: &mut u32) {
        for l in list {
            *m = (*m).max(l.id.map_or(0, |i| i.0));
            objs(&l.objects, m);
        }
    }
    let mut m = d.max_unit_id.unwrap_or(0);
    let ids = d
        .fonts
        .iter()
        .map(|f| f.id)
        .chain(d.media.iter().map(|x| x.id))
        .chain(d.draw_params.iter().map(|x| x.id))
        .chain(d.color_spaces.iter().map(|x| x.id))
        .chain(d.templates.iter().map(|x| x.id));
    for id in ids {
        m = m.max(id.0);
    }
    for t in &d.templates {
        layers(&t.layers, &mut m);
    }
    for p in &d.pages {
        m = m.max(p.id.map_or(0, |i| i.0));
        layers(&p.layers, &mut m);
        for a in &p.annotations {
            m = m.max(a.id.map_or(0, |i| i.0));
            if let Some(ap) = &a.appearance {
                objs(&ap.objects, &mut m);
            }
        }
    }
    m
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

impl Overlay {
    /// Opens package bytes with the strict reader and its default limits.
    pub fn open(bytes: &[u8]) -> Result<Self, OverlayError> {
        Self::from_file(OfdFile::read_with(bytes, &ReadOptions::default())?)
    }

    /// Starts from an already read file. It must hold exactly one document, unsigned.
    pub fn from_file(file: OfdFile) -> Result<Self, OverlayError> {
        if file.ofd.docs.len() != 1 {
            return Err(OverlayError::Documents(file.ofd.docs.len()));
        }
        let body = &file.ofd.docs[0];
        if let Some(s) = &body.signatures {
            return Err(OverlayError::Signed(s.clone()));
        }
        let d = &body.document;
        let areas: Vec<Option<PageArea>> = (0..d.pages.len())
            .map(|i| d.page_box(i).map(PageArea::new))
            .collect();
        let writer = DocumentWriter::for_overlay(largest_id(d), &areas);
        Ok(Overlay {
            file,
            writer,
            custom_data: Vec::new(),
        })
    }

    fn doc_body(&self) -> &DocBody {
        &self.file.ofd.docs[0]
    }

    /// The file as read (the model of the existing content, its warnings).
    pub fn file(&self) -> &OfdFile {
        &self.file
    }

    /// The existing document.
    pub fn document(&self) -> &Document {
        &self.doc_body().document
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.document().pages.len()
    }

    /// The physical box of page `page` (0-based), mm.
    pub fn page_box(&self, page: usize) -> Option<Rect> {
        self.document().page_box(page)
    }

    /// Where existing objects may paint on page `page` (see
    /// [`crate::extent::page_object_boxes`]) plus the boundaries of the objects added so far.
    pub fn object_boxes(&self, page: usize) -> Vec<Rect> {
        let mut out = crate::extent::page_object_boxes(self.document(), page);
        if let Some(p) = self.writer.pages_so_far().get(page) {
            for l in &p.layers {
                for o in &l.objects {
                    if let Some(c) = o.common() {
                        out.push(c.boundary);
                    }
                }
            }
        }
        out
    }

    /// True when `rect` lies inside page `page` and overlaps none of its
    /// [`Overlay::object_boxes`].
    pub fn is_free(&self, page: usize, rect: Rect) -> bool {
        let Some(pb) = self.page_box(page) else {
            return false;
        };
        let inside = rect.w > 0.0
            && rect.h > 0.0
            && rect.x >= pb.x
            && rect.y >= pb.y
            && rect.x + rect.w <= pb.x + pb.w
            && rect.y + rect.h <= pb.y + pb.h;
        inside && !self.object_boxes(page).iter().any(|b| overlaps(b, &rect))
    }

    /// Adds a font; it is embedded as a subset of the glyphs used (R-4.1.6).
    pub fn add_font(&mut self, src: FontSource) -> Result<FontRef, OverlayError> {
        Ok(self.writer.add_font(src)?)
    }

    /// The source of a font added earlier (for measuring).
    pub fn font(&self, f: FontRef) -> Option<&FontSource> {
        self.writer.font(f)
    }

    /// The new layer of page `page` (created on first use, drawn after the page's existing
    /// layers): write text and paths into it in page millimetres.
    pub fn layer(&mut self, page: usize) -> Result<LayerWriter<'_>, OverlayError> {
        Ok(self
            .writer
            .page(page)
            .ok_or(OverlayError::NoPage(page))?
            .into_body())
    }

    /// Adds a custom tag (clause 16, R-4.5.2): `spec.file_name` is written beside the custom
    /// tag list (a free name is chosen if it is taken).
    pub fn add_custom_tag(&mut self, spec: CustomTagSpec) -> Result<(), OverlayError> {
        Ok(self.writer.add_custom_tag(spec)?)
    }

    /// Sets `DocInfo/CustomDatas/CustomData[@Name=name]` (replaced if present, else added).
    pub fn set_custom_data(&mut self, name: &str, value: &str) {
        self.custom_data.retain(|(n, _)| n != name);
        self.custom_data.push((name.to_owned(), value.to_owned()));
    }

    /// Writes the additions into the package (see the [module](self) docs) and returns it.
    pub fn finish(self) -> Result<Package, OverlayError> {
        let Overlay {
            file,
            writer,
            custom_data,
        } = self;
        let mut pkg = file.package;
        let body = file
            .ofd
            .docs
            .into_iter()
            .next()
            .ok_or(OverlayError::Documents(0))?;
        let doc = body.document;
        let root = body.doc_root;
        let doc_dir = dir_of(&root).to_string();
        let under_doc = |name: &str| {
            if doc_dir.is_empty() {
                name.to_string()
            } else {
                format!("{doc_dir}/{name}")
            }
        };
        let crate::write::OverlayParts {
            mut fonts,
            layers,
            tags,
            last_id,
        } = writer.finish_overlay()?;
        if last_id == u32::MAX {
            return Err(OverlayError::Ids(last_id));
        }

        // Document.xml edits, applied together at the end.
        let doc_xml = xml_text(&pkg, &root)?;
        let parsed = parse(&root, &doc_xml)?;
        let droot = parsed.root_element();
        let dp = element_prefix(&doc_xml, droot);
        let d_ns = uses_ofd_prefix(droot);
        let mut doc_edits: Vec<(usize, usize, String)> = Vec::new();
        let common = kid(droot, "CommonData").ok_or_else(|| OverlayError::Xml {
            path: root.clone(),
            why: "no CommonData".into(),
        })?;
        let max_unit_id = last_id.max(doc.max_unit_id.unwrap_or(0));
        let max_elem = common
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "MaxUnitID");
        let max_text = max_unit_id.to_string();
        match max_elem {
            Some(m) => match m.first_child().filter(|t| t.is_text()) {
                // Only the number changes.
                Some(t) => doc_edits.push((t.range().start, t.range().end, max_text)),
                None => doc_edits.push((
                    m.range().start,
                    m.range().end,
                    element(&dp, d_ns, "MaxUnitID", &max_text),
                )),
            },
            None => {
                let at = after_start_tag(&doc_xml, common);
                doc_edits.push((at, at, element(&dp, d_ns, "MaxUnitID", &max_text)));
            }
        }

        // Fonts: a new resource file, referenced by a new PublicRes.
        if !fonts.is_empty() {
            let res_path = free_name(&pkg, &under_doc("OverlayRes"), ".xml");
            let res_dir = format!("{}/Res", dir_of(&res_path))
                .trim_start_matches('/')
                .to_string();
            for f in &mut fonts {
                let ext = f
                    .file
                    .as_deref()
                    .and_then(|p| p.rsplit_once('.'))
                    .map_or("ttf", |(_, e)| e)
                    .to_string();
                f.file = Some(free_name(
                    &pkg,
                    &format!("{res_dir}/font_{}", f.id),
                    &format!(".{ext}"),
                ));
            }
            res_file(&mut pkg, &res_path, &fonts, &[], &[], &[])?;
            let loc = loc_from(&root, &res_path);
            let at = match kids(common, "PublicRes").last() {
                Some(last) => last.range().end,
                None => match kid(common, "PageArea").or_else(|| kid(common, "MaxUnitID")) {
                    Some(n) => n.range().end,
                    None => after_start_tag(&doc_xml, common),
                },
            };
            doc_edits.push((at, at, element(&dp, d_ns, "PublicRes", &loc)));
        }

        // Custom tags: appended to the existing list, or a new list.
        if !tags.is_empty() {
            let existing = doc.custom_tags_file.clone().filter(|f| pkg.contains(f));
            let list = existing
                .clone()
                .unwrap_or_else(|| free_name(&pkg, &under_doc("Tags/CustomTags"), ".xml"));
            let tag_dir = dir_of(&list).to_string();
            let mut models = Vec::new();
            for t in &tags {
                let (stem, ext) = t
                    .file_name
                    .rsplit_once('.')
                    .map_or((t.file_name.as_str(), ""), |(a, b)| (a, b));
                let ext = if ext.is_empty() {
                    String::new()
                } else {
                    format!(".{ext}")
                };
                let file = free_name(&pkg, &join(&tag_dir, stem), &ext);
                pkg.insert(&file, t.xml.clone())?;
                let schema_loc = match &t.schema {
                    Some((n, bytes)) => {
                        let (s, e) = n.rsplit_once('.').map_or((n.as_str(), ""), |(a, b)| (a, b));
                        let e = if e.is_empty() {
                            String::new()
                        } else {
                            format!(".{e}")
                        };
                        let path = free_name(&pkg, &join(&tag_dir, s), &e);
                        pkg.insert(&path, bytes.clone())?;
                        Some(path)
                    }
                    None => None,
                };
                models.push(CustomTag {
                    type_id: Some(t.type_id.clone()),
                    namespace: Some(t.type_id.clone()),
                    schema_loc,
                    file,
                    data: t.xml.clone(),
                });
            }
            match existing {
                Some(list) => {
                    let s = xml_text(&pkg, &list)?;
                    let parsed_list = parse(&list, &s)?;
                    let lroot = parsed_list.root_element();
                    let declare = !uses_ofd_prefix(lroot);
                    let mut x = Xml::fragment();
                    for m in &models {
                        custom_tag_entry(&mut x, &list, m, declare);
                    }
                    let frag = String::from_utf8(x.finish()).map_err(|e| OverlayError::Xml {
                        path: list.clone(),
                        why: e.to_string(),
                    })?;
                    let edit = insert_at_end(&s, lroot, &frag)?;
                    let out = splice(&s, vec![edit]);
                    pkg.insert(&list, out.into_bytes())?;
                }
                None => {
                    let mut x = Xml::new();
                    x.root("CustomTags", &[]);
                    for m in &models {
                        custom_tag_entry(&mut x, &list, m, false);
                    }
                    x.close("CustomTags");
                    pkg.insert(&list, x.finish())?;
                    let at = match kid(droot, "Attachments").or_else(|| kid(droot, "Extensions")) {
                        Some(n) => n.range().start,
                        None => insert_at_end(&doc_xml, droot, "")?.0,
                    };
                    doc_edits.push((
                        at,
                        at,
                        element(&dp, d_ns, "CustomTags", &loc_from(&root, &list)),
                    ));
                }
            }
        }
        let new_doc = splice(&doc_xml, doc_edits);
        pkg.insert(&root, new_doc.into_bytes())?;

        // Pages: one new layer each, appended inside Content.
        for (page, new_layers) in doc.pages.iter().zip(layers) {
            let new_layers: Vec<Layer> = new_layers
                .into_iter()
                .filter(|l| !l.objects.is_empty())
                .collect();
            if new_layers.is_empty() {
                continue;
            }
            let path = &page.content_path;
            let s = xml_text(&pkg, path)?;
            let parsed = parse(path, &s)?;
            let proot = parsed.root_element();
            let p = element_prefix(&s, proot);
            let edit = match kid(proot, "Content") {
                Some(content) => {
                    let declare = !uses_ofd_prefix(content);
                    let mut x = Xml::fragment();
                    for l in &new_layers {
                        xml_out::layer(&mut x, l, declare);
                    }
                    insert_at_end(&s, content, &utf8(path, x.finish())?)?
                }
                None => {
                    let declare = !uses_ofd_prefix(proot);
                    let mut x = Xml::fragment();
                    for l in &new_layers {
                        xml_out::layer(&mut x, l, declare);
                    }
                    let frag = utf8(path, x.finish())?;
                    // `Content` in the page's own namespace and prefix.
                    let wrapped = format!("<{p}Content>{frag}</{p}Content>");
                    match kid(proot, "Actions") {
                        Some(a) => (a.range().start, a.range().start, wrapped),
                        None => insert_at_end(&s, proot, &wrapped)?,
                    }
                }
            };
            let out = splice(&s, vec![edit]);
            pkg.insert(path, out.into_bytes())?;
        }

        // OFD.xml: DocInfo/CustomDatas.
        if !custom_data.is_empty() {
            set_custom_datas(&mut pkg, &custom_data)?;
        }
        Ok(pkg)
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `stem + ext`, or `stem_2 + ext`, … : the first name no entry of `pkg` has (up to case).
fn free_name(pkg: &Package, stem: &str, ext: &str) -> String {
    let taken = |p: &str| pkg.contains(p) || pkg.case_variant_of(p).is_some();
    let first = format!("{stem}{ext}");
    if !taken(&first) {
        return first;
    }
    (2..)
        .map(|n| format!("{stem}_{n}{ext}"))
        .find(|p| !taken(p))
        .unwrap_or(first)
}

fn utf8(path: &str, bytes: Vec<u8>) -> Result<String, OverlayError> {
    String::from_utf8(bytes).map_err(|e| OverlayError::Xml {
        path: path.to_string(),
        why: e.to_string(),
    })
}

fn xml_text(pkg: &Package, path: &str) -> Result<String, OverlayError> {
    let bytes = pkg.get(path).ok_or_else(|| OverlayError::Xml {
        path: path.to_string(),
        why: "missing".into(),
    })?;
    utf8(path, bytes.to_vec())
}

fn parse<'s>(path: &str, s: &'s str) -> Result<roxmltree::Document<'s>, OverlayError> {
    roxmltree::Document::parse(s).map_err(|e| OverlayError::Xml {
        path: path.to_string(),
        why: e.to_string(),
    })
}

fn kids<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn kid<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    kids(n, name).next()
}

/// Inside `node`, the `ofd:` prefix means the OFD namespace (so our elements can use it).
fn uses_ofd_prefix(node: Node<'_, '_>) -> bool {
    node.lookup_namespace_uri(Some("ofd")) == Some(OFD_NS)
}

/// A leaf element to splice into a part whose elements use `prefix`: with the part's own
/// prefix when it is `ofd:` bound to the OFD namespace, else declaring `ofd:` itself.
fn element(prefix: &str, ofd_ok: bool, name: &str, text: &str) -> String {
    let mut x = Xml::fragment();
    if ofd_ok && prefix == "ofd:" {
        x.leaf(name, &[], text);
    } else {
        x.root(name, &[]);
        x.text(text);
        x.close(name);
    }
    String::from_utf8(x.finish()).unwrap_or_default()
}

/// The offset just after `node`'s start tag (for an empty `<a/>`, see [`insert_at_end`]).
fn after_start_tag(s: &str, node: Node<'_, '_>) -> usize {
    let r = node.range();
    s.get(r.clone())
        .and_then(|t| t.find('>'))
        .map_or(r.end, |i| r.start + i + 1)
}

/// An edit that puts `content` at the end of `node`'s children: before its end tag, or, for
/// an empty element `<a …/>`, by rewriting it as `<a …>content</a>`.
fn insert_at_end(
    s: &str,
    node: Node<'_, '_>,
    content: &str,
) -> Result<(usize, usize, String), OverlayError> {
    let r = node.range();
    let text = s.get(r.clone()).unwrap_or_default();
    if text.ends_with("/>") && !text.contains("</") {
        let open = text.get(..text.len() - 2).unwrap_or_default().trim_end();
        let q = qname(s, node);
        return Ok((r.start, r.end, format!("{open}>{content}</{q}>")));
    }
    let close = text.rfind("</").ok_or_else(|| OverlayError::Xml {
        path: String::new(),
        why: format!("no end tag for {}", node.tag_name().name()),
    })?;
    Ok((r.start + close, r.start + close, content.to_string()))
}

/// Applies non-overlapping edits (start, end, replacement); edits at the same offset keep
/// their order.
fn splice(s: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(s.len() + edits.iter().map(|e| e.2.len()).sum::<usize>());
    let mut at = 0;
    for (a, b, t) in edits {
        if a < at {
            continue;
        }
        out.push_str(s.get(at..a).unwrap_or_default());
        out.push_str(&t);
        at = b;
    }
    out.push_str(s.get(at..).unwrap_or_default());
    out
}

fn set_custom_datas(pkg: &mut Package, data: &[(String, String)]) -> Result<(), OverlayError> {
    let path = "OFD.xml";
    let s = xml_text(pkg, path)?;
    let parsed = parse(path, &s)?;
    let root = parsed.root_element();
    let missing = |what: &str| OverlayError::Xml {
        path: path.into(),
        why: format!("no {what}"),
    };
    let info = kid(root, "DocBody")
        .and_then(|b| kid(b, "DocInfo"))
        .ok_or_else(|| missing("DocBody/DocInfo"))?;
    let p = element_prefix(&s, info);
    let ofd_ok = uses_ofd_prefix(info) && p == "ofd:";
    let entry = |name: &str, value: &str| {
        let mut x = Xml::fragment();
        if ofd_ok {
            x.leaf("CustomData", &[("Name", name.to_string())], value);
        } else {
            x.root("CustomData", &[("Name", name.to_string())]);
            x.text(value);
            x.close("CustomData");
        }
        String::from_utf8(x.finish()).unwrap_or_default()
    };
    let mut edits = Vec::new();
    match kid(info, "CustomDatas") {
        Some(list) => {
            let mut appended = String::new();
            for (name, value) in data {
                match kids(list, "CustomData").find(|c| c.attribute("Name") == Some(name.as_str()))
                {
                    Some(old) => {
                        edits.push((old.range().start, old.range().end, entry(name, value)))
                    }
                    None => appended.push_str(&entry(name, value)),
                }
            }
            if !appended.is_empty() {
                edits.push(insert_at_end(&s, list, &appended)?);
            }
        }
        None => {
            let inner: String = data.iter().map(|(n, v)| entry(n, v)).collect();
            let list = if ofd_ok {
                format!("<ofd:CustomDatas>{inner}</ofd:CustomDatas>")
            } else {
                let mut x = Xml::fragment();
                x.root("CustomDatas", &[]);
                let mut s = String::from_utf8(x.finish()).unwrap_or_default();
                s.push_str(&inner);
                s.push_str("</ofd:CustomDatas>");
                s
            };
            edits.push(insert_at_end(&s, info, &list)?);
        }
    }
    let out = splice(&s, edits);
    drop(parsed);
    pkg.insert(path, out.into_bytes())?;
    Ok(())
}
