//! The reader: an OFD package into the [model](crate::model), strict where security needs it,
//! lenient where real files are sloppy (see the crate documentation for the table).

use crate::loc::{self, LocError};
use crate::model::*;
use crate::package::{Limits, Package, PackageError};
use crate::xml_out::OFD_NS;
use roxmltree::Node;
use std::collections::{BTreeSet, HashSet};

/// Limits for [`OfdFile::read_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// ZIP container limits.
    pub limits: Limits,
    /// Largest XML part in bytes (default 16 MiB).
    pub max_xml_size: usize,
    /// Largest number of XML nodes in one part (default 2 000 000).
    pub max_xml_nodes: u32,
    /// Deepest element nesting in one part (default 64; `PageBlock`s nest).
    pub max_xml_depth: usize,
    /// Most pages per document (default 100 000).
    pub max_pages: usize,
    /// Build the graphic objects of page layers, page blocks and annotation appearances
    /// (default `true`). Without them the model has empty layers, but every part is still
    /// resolved, loaded and parsed as XML, with the same errors and the same
    /// [`OfdFile::loaded_parts`]: graphic objects name resources by ID and load no part. The
    /// signature verifier's coverage check reads this way.
    pub graphics: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            limits: Limits::default(),
            max_xml_size: 16 << 20,
            max_xml_nodes: 2_000_000,
            max_xml_depth: 64,
            max_pages: 100_000,
            graphics: true,
        }
    }
}

/// Why a package could not be read. Every variant names the package part concerned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The ZIP container was refused.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// A required part (OFD.xml, Document.xml, a page) is missing.
    #[error("{path}: missing (referenced from {from})")]
    Missing {
        /// The path looked for.
        path: String,
        /// Who referenced it.
        from: String,
    },
    /// A part is not well-formed XML, not UTF-8, or has a DTD with declarations.
    #[error("{path}: {why}")]
    Xml {
        /// The part.
        path: String,
        /// The parser's message (with line and column).
        why: String,
    },
    /// A limit was exceeded in a part.
    #[error("{path}: {what}")]
    Limit {
        /// The part.
        path: String,
        /// Which limit.
        what: String,
    },
    /// A required element or attribute is missing or malformed.
    #[error("{path}: {what}")]
    Structure {
        /// The part.
        path: String,
        /// What is wrong.
        what: String,
    },
    /// An `ST_Loc` that cannot be resolved (escapes the root, not a package path).
    #[error(transparent)]
    Loc(#[from] LocError),
}

/// A read OFD package: the entries, the model, the leniencies applied and the parts loaded.
#[derive(Debug, Clone)]
pub struct OfdFile {
    /// The container, unchanged (signature verification hashes these bytes).
    pub package: Package,
    /// The model.
    pub ofd: Ofd,
    /// Leniencies applied while reading (empty for files we write).
    pub warnings: Vec<Warning>,
    loaded: BTreeSet<String>,
}

/// The model read out of a package the caller keeps ([`OfdFile::read_model`]).
#[derive(Debug, Clone)]
pub struct ReadModel {
    /// The model.
    pub ofd: Ofd,
    /// Leniencies applied while reading (empty for files we write).
    pub warnings: Vec<Warning>,
    /// Every package path the reader resolved and loaded ([`OfdFile::loaded_parts`]).
    pub loaded: BTreeSet<String>,
}

impl OfdFile {
    /// Reads a package with the default limits.
    pub fn read(bytes: &[u8]) -> Result<Self, ReadError> {
        Self::read_with(bytes, &ReadOptions::default())
    }

    /// Reads a package with the given limits.
    pub fn read_with(bytes: &[u8], opts: &ReadOptions) -> Result<Self, ReadError> {
        let pkg = Package::from_zip(bytes, &opts.limits)?;
        Self::from_package(pkg, opts)
    }

    /// Reads the model out of an already opened package.
    pub fn from_package(package: Package, opts: &ReadOptions) -> Result<Self, ReadError> {
        let ReadModel {
            ofd,
            warnings,
            loaded,
        } = Self::read_model(&package, opts)?;
        Ok(OfdFile {
            package,
            ofd,
            warnings,
            loaded,
        })
    }

    /// Reads the model of a package that stays the caller's (the signature verifier's
    /// coverage check): the same reading as [`OfdFile::from_package`], without taking or
    /// copying the package.
    pub fn read_model(package: &Package, opts: &ReadOptions) -> Result<ReadModel, ReadError> {
        let mut r = Reader {
            pkg: package,
            opts,
            warnings: Vec::new(),
            loaded: BTreeSet::new(),
            ids: HashSet::new(),
        };
        let ofd = r.ofd()?;
        Ok(ReadModel {
            ofd,
            warnings: r.warnings,
            loaded: r.loaded,
        })
    }

    /// Every package path the reader resolved and loaded (OFD.xml, Document.xml, resource
    /// files, fonts, images, pages, templates, annotations, custom tags and their tag files,
    /// attachments). The verifier checks that signatures cover all of them.
    pub fn loaded_parts(&self) -> BTreeSet<String> {
        self.loaded.clone()
    }

    /// The text of a page, one line per `TextCode`, in drawing order (templates first).
    pub fn page_text(&self, doc: usize, page: usize) -> Option<String> {
        let d = &self.ofd.docs.get(doc)?.document;
        let p = d.pages.get(page)?;
        let mut out = String::new();
        let mut add_layers = |layers: &[Layer]| {
            for l in layers {
                collect_text(&l.objects, &mut out);
            }
        };
        for t in &p.templates {
            if let Some(tp) = d.template(t.template_id) {
                add_layers(&tp.layers);
            }
        }
        add_layers(&p.layers);
        for a in &p.annotations {
            if let Some(ap) = &a.appearance {
                collect_text(&ap.objects, &mut out);
            }
        }
        Some(out)
    }
}

fn collect_text(objs: &[GraphicObject], out: &mut String) {
    for o in objs {
        match o {
            GraphicObject::Text(t) => {
                for c in &t.codes {
                    out.push_str(&c.text);
                    out.push('\n');
                }
            }
            GraphicObject::Block(b) => collect_text(&b.objects, out),
            _ => {}
        }
    }
}

struct Reader<'p> {
    pkg: &'p Package,
    opts: &'p ReadOptions,
    warnings: Vec<Warning>,
    loaded: BTreeSet<String>,
    ids: HashSet<u32>,
}

/// Element children with a local name, any namespace (lenient: old namespace, none).
fn kids<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn kid<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    kids(n, name).next()
}

/// All text inside an element, exactly as stored.
fn text(n: Node<'_, '_>) -> String {
    let mut s = String::new();
    for d in n.descendants() {
        if d.is_text()
            && let Some(t) = d.text()
        {
            s.push_str(t);
        }
    }
    s
}

fn kid_text(n: Node<'_, '_>, name: &'static str) -> Option<String> {
    kid(n, name).map(|k| text(k).trim().to_string())
}

fn parse_bool(s: Option<&str>, default: bool) -> bool {
    match s.map(str::trim) {
        Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        _ => default,
    }
}

fn parse_nums(s: &str) -> Option<Vec<f64>> {
    s.split_whitespace()
        .map(|t| t.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect()
}

/// Colour components: decimal, or `#hex` (clause 8.3.2).
fn parse_color_value(s: &str) -> Option<Vec<f64>> {
    s.split_whitespace()
        .map(|t| match t.strip_prefix('#') {
            Some(h) => u32::from_str_radix(h, 16).ok().map(f64::from),
            None => t.parse::<f64>().ok().filter(|v| v.is_finite()),
        })
        .collect()
}

/// `DeltaX`/`DeltaY` with `g N v` runs, producing at most `cap` values.
fn parse_deltas(s: &str, cap: usize) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    let mut it = s.split_whitespace();
    while let Some(t) = it.next() {
        if out.len() >= cap {
            break;
        }
        if t == "g" {
            let n: usize = it.next()?.parse().ok()?;
            let v: f64 = it.next()?.parse().ok().filter(|v: &f64| v.is_finite())?;
            let room = cap - out.len();
            out.extend(std::iter::repeat_n(v, n.min(room)));
        } else {
            out.push(t.parse().ok().filter(|v: &f64| v.is_finite())?);
        }
    }
    Some(out)
}

/// `AbbreviatedData` (clause 9.3.2). Returns the operators parsed and, if the data is
/// malformed, the offending token.
pub fn parse_path_data(s: &str) -> (Vec<PathOp>, Option<String>) {
    let toks: Vec<&str> = s.split_whitespace().collect();
    let mut ops = Vec::new();
    let mut i = 0;
    let num = |i: usize| {
        toks.get(i)
            .and_then(|t| t.parse::<f64>().ok().filter(|v| v.is_finite()))
    };
    while let Some(&t) = toks.get(i) {
        let need = match t {
            "S" | "M" | "L" => 2,
            "Q" => 4,
            "B" => 6,
            "A" => 7,
            "C" => 0,
            other => return (ops, Some(other.to_string())),
        };
        let mut v = [0.0f64; 7];
        for (k, slot) in v.iter_mut().enumerate().take(need) {
            match num(i + 1 + k) {
                Some(x) => *slot = x,
                None => return (ops, Some(t.to_string())),
            }
        }
        ops.push(match t {
            "S" => PathOp::Start(v[0], v[1]),
            "M" => PathOp::Move(v[0], v[1]),
            "L" => PathOp::Line(v[0], v[1]),
            "Q" => PathOp::Quad(v[0], v[1], v[2], v[3]),
            "B" => PathOp::Cubic(v[0], v[1], v[2], v[3], v[4], v[5]),
            "A" => PathOp::Arc {
                rx: v[0],
                ry: v[1],
                angle: v[2],
                large: v[3] != 0.0,
                sweep: v[4] != 0.0,
                x: v[5],
                y: v[6],
            },
            _ => PathOp::Close,
        });
        i += 1 + need;
    }
    (ops, None)
}

impl<'p> Reader<'p> {
    fn warn(&mut self, w: Warning) {
        if self.warnings.len() < 1000 && !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Looks a resolved path up: exact match, else a unique case variant (with a warning).
    fn lookup(&mut self, from: &str, path: &str) -> Option<(String, &'p [u8])> {
        if let Some(d) = self.pkg.get(path) {
            self.loaded.insert(path.to_string());
            return Some((path.to_string(), d));
        }
        let pkg = self.pkg;
        let other = pkg.case_variant_of(path)?;
        let d = pkg.get(other)?;
        self.warn(Warning::CaseMismatch {
            file: from.to_string(),
            wanted: path.to_string(),
            used: other.to_string(),
        });
        self.loaded.insert(other.to_string());
        Some((other.to_string(), d))
    }

    /// Resolves and loads a required part.
    fn required(&mut self, from: &str, loc_: &str) -> Result<(String, &'p [u8]), ReadError> {
        let path = loc::resolve(from, loc_)?;
        self.lookup(from, &path).ok_or(ReadError::Missing {
            path,
            from: from.to_string(),
        })
    }

    /// Resolves and loads an optional part (missing → warning).
    fn optional(&mut self, from: &str, path: &str) -> Option<(String, &'p [u8])> {
        let r = self.lookup(from, path);
        if r.is_none() {
            self.warn(Warning::MissingFile {
                file: from.to_string(),
                wanted: path.to_string(),
            });
        }
        r
    }

    fn resolve_opt(&mut self, from: &str, loc_: &str) -> Option<String> {
        match loc::resolve(from, loc_) {
            Ok(p) => Some(p),
            Err(e) => {
                self.warn(Warning::BadValue {
                    file: from.to_string(),
                    what: "ST_Loc".into(),
                    value: e.to_string(),
                });
                None
            }
        }
    }

    fn xml<'b>(
        &mut self,
        path: &str,
        bytes: &'b [u8],
    ) -> Result<roxmltree::Document<'b>, ReadError> {
        if bytes.len() > self.opts.max_xml_size {
            return Err(ReadError::Limit {
                path: path.to_string(),
                what: format!(
                    "XML part of {} bytes exceeds the limit of {}",
                    bytes.len(),
                    self.opts.max_xml_size
                ),
            });
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let s = std::str::from_utf8(bytes).map_err(|e| ReadError::Xml {
            path: path.to_string(),
            why: format!(
                "not UTF-8 at byte {} (only UTF-8 XML is read)",
                e.valid_up_to()
            ),
        })?;
        let doc = roxmltree::Document::parse_with_options(
            s,
            roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: self.opts.max_xml_nodes,
                ..Default::default()
            },
        )
        .map_err(|e| ReadError::Xml {
            path: path.to_string(),
            why: e.to_string(),
        })?;
        // Depth: one pass with an explicit stack.
        let mut stack = vec![(doc.root(), 0usize)];
        while let Some((n, d)) = stack.pop() {
            if d > self.opts.max_xml_depth {
                return Err(ReadError::Limit {
                    path: path.to_string(),
                    what: format!("elements nested deeper than {}", self.opts.max_xml_depth),
                });
            }
            for c in n.children().filter(Node::is_element) {
                stack.push((c, d + 1));
            }
        }
        let root = doc.root_element();
        let ns = root.tag_name().namespace().unwrap_or("");
        if ns != OFD_NS {
            self.warn(Warning::ForeignNamespace {
                file: path.to_string(),
                namespace: ns.to_string(),
            });
        }
        // report anything dynamic.
        if root
            .descendants()
            .any(|n| n.is_element() && matches!(n.tag_name().name(), "Actions" | "Action"))
        {
            self.warn(Warning::Dynamic {
                file: path.to_string(),
            });
        }
        Ok(doc)
    }

    fn expect_root(
        &self,
        path: &str,
        doc: &roxmltree::Document<'_>,
        name: &str,
    ) -> Result<(), ReadError> {
        let got = doc.root_element().tag_name().name();
        if got == name {
            Ok(())
        } else {
            Err(ReadError::Structure {
                path: path.to_string(),
                what: format!("root element is <{got}>, expected <{name}>"),
            })
        }
    }

    fn ofd(&mut self) -> Result<Ofd, ReadError> {
        let (path, bytes) = self
            .lookup("(package)", "OFD.xml")
            .ok_or(ReadError::Missing {
                path: "OFD.xml".into(),
                from: "(package root)".into(),
            })?;
        let doc = self.xml(&path, bytes)?;
        self.expect_root(&path, &doc, "OFD")?;
        let root = doc.root_element();
        let mut ofd = Ofd {
            version: root.attribute("Version").unwrap_or("").to_string(),
            doc_type: root.attribute("DocType").unwrap_or("").to_string(),
            docs: Vec::new(),
        };
        for body in kids(root, "DocBody") {
            let info = kid(body, "DocInfo").map(doc_info).unwrap_or_default();
            let root_loc = kid_text(body, "DocRoot").ok_or_else(|| ReadError::Structure {
                path: path.clone(),
                what: "DocBody without DocRoot".into(),
            })?;
            let signatures = match kid_text(body, "Signatures") {
                Some(s) if !s.is_empty() => self.resolve_opt(&path, &s),
                _ => None,
            };
            let (doc_root, dbytes) = self.required(&path, &root_loc)?;
            self.ids.clear();
            let document = self.document(&doc_root, dbytes)?;
            ofd.docs.push(DocBody {
                info,
                doc_root,
                signatures,
                document,
            });
        }
        if ofd.docs.is_empty() {
            return Err(ReadError::Structure {
                path,
                what: "no DocBody".into(),
            });
        }
        Ok(ofd)
    }

    fn note_id(&mut self, id: Option<Id>) {
        if let Some(Id(v)) = id
            && !self.ids.insert(v)
        {
            self.warn(Warning::DuplicateId { id: v });
        }
    }

    fn id_attr(&mut self, file: &str, n: Node<'_, '_>, attr: &'static str) -> Option<Id> {
        let v = n.attribute(attr)?;
        match v.trim().parse::<u32>() {
            Ok(i) => Some(Id(i)),
            Err(_) => {
                self.warn(Warning::BadValue {
                    file: file.to_string(),
                    what: format!("{}/@{attr}", n.tag_name().name()),
                    value: v.to_string(),
                });
                None
            }
        }
    }

    fn f64_attr(&mut self, file: &str, n: Node<'_, '_>, attr: &'static str) -> Option<f64> {
        let v = n.attribute(attr)?;
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                self.warn(Warning::BadValue {
                    file: file.to_string(),
                    what: format!("{}/@{attr}", n.tag_name().name()),
                    value: v.to_string(),
                });
                None
            }
        }
    }

    fn rect_of(&mut self, file: &str, what: &str, s: &str) -> Option<Rect> {
        match parse_nums(s).as_deref() {
            Some([x, y, w, h]) => Some(Rect::new(*x, *y, *w, *h)),
            _ => {
                self.warn(Warning::BadValue {
                    file: file.to_string(),
                    what: what.to_string(),
                    value: s.to_string(),
                });
                None
            }
        }
    }

    fn page_area(&mut self, file: &str, n: Node<'_, '_>) -> Option<PageArea> {
        let mut b =
            |name: &'static str| kid_text(n, name).and_then(|s| self.rect_of(file, name, &s));
        Some(PageArea {
            physical: b("PhysicalBox")?,
            application: b("ApplicationBox"),
            content: b("ContentBox"),
            bleed: b("BleedBox"),
        })
    }

    fn document(&mut self, path: &str, bytes: &[u8]) -> Result<Document, ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "Document")?;
        let root = x.root_element();
        let mut d = Document::default();
        let cd = kid(root, "CommonData");
        if let Some(cd) = cd {
            // Lenient: MaxUnitID wherever it is in CommonData.
            d.max_unit_id = kid_text(cd, "MaxUnitID").and_then(|s| s.parse().ok());
            d.page_area = kid(cd, "PageArea").and_then(|n| self.page_area(path, n));
            for (name, is_public) in [("PublicRes", true), ("DocumentRes", false)] {
                for n in kids(cd, name) {
                    let t = text(n);
                    let Some(p) = self.resolve_opt(path, &t) else {
                        continue;
                    };
                    if let Some((p, b)) = self.optional(path, &p) {
                        self.res(&p, b, &mut d)?;
                        if is_public {
                            d.public_res.push(p);
                        } else {
                            d.document_res.push(p);
                        }
                    }
                }
            }
        }
        if d.max_unit_id.is_none() {
            self.warn(Warning::MissingRequired {
                file: path.to_string(),
                what: "CommonData/MaxUnitID".into(),
            });
        }
        if let Some(cd) = cd {
            for t in kids(cd, "TemplatePage") {
                let id = self.id_attr(path, t, "ID");
                let Some(loc_) = t.attribute("BaseLoc") else {
                    continue;
                };
                let Some(p) = self.resolve_opt(path, loc_) else {
                    continue;
                };
                let Some((p, b)) = self.optional(path, &p) else {
                    continue;
                };
                let content = self.page_content(&p, b, &mut d)?;
                self.note_id(id);
                d.templates.push(TemplatePage {
                    id: id.unwrap_or_default(),
                    name: t.attribute("Name").map(str::to_string),
                    z_order: t.attribute("ZOrder").map(str::to_string),
                    content_path: p,
                    area: content.area,
                    layers: content.layers,
                });
            }
        }
        let pages = kid(root, "Pages").ok_or_else(|| ReadError::Structure {
            path: path.to_string(),
            what: "Document without Pages".into(),
        })?;
        for pn in kids(pages, "Page") {
            if d.pages.len() >= self.opts.max_pages {
                return Err(ReadError::Limit {
                    path: path.to_string(),
                    what: format!("more than {} pages", self.opts.max_pages),
                });
            }
            let id = self.id_attr(path, pn, "ID");
            self.note_id(id);
            let loc_ = pn
                .attribute("BaseLoc")
                .ok_or_else(|| ReadError::Structure {
                    path: path.to_string(),
                    what: "Page without BaseLoc".into(),
                })?;
            let (p, b) = self.required(path, loc_)?;
            let c = self.page_content(&p, b, &mut d)?;
            d.pages.push(Page {
                id,
                content_path: p,
                area: c.area,
                templates: c.templates,
                page_res: c.page_res,
                layers: c.layers,
                annotations: Vec::new(),
            });
        }
        if let Some(t) = kid_text(root, "Annotations").filter(|s| !s.is_empty())
            && let Some(p) = self.resolve_opt(path, &t)
            && let Some((p, b)) = self.optional(path, &p)
        {
            d.annotations_file = Some(p.clone());
            self.annotations(&p, b, &mut d)?;
        }
        if let Some(t) = kid_text(root, "CustomTags").filter(|s| !s.is_empty())
            && let Some(p) = self.resolve_opt(path, &t)
            && let Some((p, b)) = self.optional(path, &p)
        {
            d.custom_tags_file = Some(p.clone());
            self.custom_tags(&p, b, &mut d)?;
        }
        if let Some(t) = kid_text(root, "Attachments").filter(|s| !s.is_empty())
            && let Some(p) = self.resolve_opt(path, &t)
            && let Some((p, b)) = self.optional(path, &p)
        {
            d.attachments_file = Some(p.clone());
            self.attachments(&p, b, &mut d)?;
        }
        Ok(d)
    }

    fn color(&mut self, file: &str, n: Node<'_, '_>) -> Color {
        let value = match n.attribute("Value") {
            Some(v) => parse_color_value(v).unwrap_or_else(|| {
                self.warn(Warning::BadValue {
                    file: file.to_string(),
                    what: format!("{}/@Value", n.tag_name().name()),
                    value: v.to_string(),
                });
                Vec::new()
            }),
            None => Vec::new(),
        };
        Color {
            value,
            color_space: self.id_attr(file, n, "ColorSpace"),
            alpha: n
                .attribute("Alpha")
                .and_then(|a| a.trim().parse::<u16>().ok())
                .map_or(255, |a| a.min(255) as u8),
            index: n.attribute("Index").and_then(|a| a.trim().parse().ok()),
        }
    }

    fn res(&mut self, path: &str, bytes: &[u8], d: &mut Document) -> Result<(), ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "Res")?;
        let root = x.root_element();
        // BaseLoc is required by the XSD; without it (Suwell) files are relative to the Res file.
        let base_dir = match root.attribute("BaseLoc") {
            Some(b) => {
                let b = b.trim().trim_end_matches('/');
                match loc::resolve(path, &format!("{b}/_")) {
                    Ok(p) => loc::dir_of(&p).to_string(),
                    Err(e) => return Err(e.into()),
                }
            }
            None => {
                self.warn(Warning::MissingRequired {
                    file: path.to_string(),
                    what: "Res/@BaseLoc".into(),
                });
                loc::dir_of(path).to_string()
            }
        };
        let in_base = |l: &str| {
            if l.trim().starts_with('/') {
                loc::resolve(path, l)
            } else {
                loc::resolve_in_dir(&base_dir, l)
            }
        };
        for group in kids(root, "ColorSpaces") {
            for c in kids(group, "ColorSpace") {
                let id = self.id_attr(path, c, "ID");
                self.note_id(id);
                d.color_spaces.push(ColorSpace {
                    id: id.unwrap_or_default(),
                    space_type: c.attribute("Type").unwrap_or("RGB").to_string(),
                    bits_per_component: c
                        .attribute("BitsPerComponent")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(8),
                });
            }
        }
        for group in kids(root, "DrawParams") {
            for c in kids(group, "DrawParam") {
                let id = self.id_attr(path, c, "ID");
                self.note_id(id);
                let dp = DrawParam {
                    id: id.unwrap_or_default(),
                    relative: self.id_attr(path, c, "Relative"),
                    line_width: self.f64_attr(path, c, "LineWidth"),
                    join: c.attribute("Join").and_then(LineJoin::from_attr),
                    cap: c.attribute("Cap").and_then(LineCap::from_attr),
                    dash_offset: self.f64_attr(path, c, "DashOffset"),
                    dash_pattern: c
                        .attribute("DashPattern")
                        .and_then(parse_nums)
                        .unwrap_or_default(),
                    miter_limit: self.f64_attr(path, c, "MiterLimit"),
                    fill_color: kid(c, "FillColor").map(|n| self.color(path, n)),
                    stroke_color: kid(c, "StrokeColor").map(|n| self.color(path, n)),
                };
                d.draw_params.push(dp);
            }
        }
        for group in kids(root, "Fonts") {
            for f in kids(group, "Font") {
                let id = self.id_attr(path, f, "ID");
                self.note_id(id);
                let (file, data) = match kid_text(f, "FontFile").filter(|s| !s.is_empty()) {
                    Some(l) => match in_base(&l) {
                        Ok(p) => match self.optional(path, &p) {
                            Some((p, b)) => (Some(p), Some(b.to_vec())),
                            None => (Some(p), None),
                        },
                        Err(e) => {
                            self.warn(Warning::BadValue {
                                file: path.to_string(),
                                what: "Font/FontFile".into(),
                                value: e.to_string(),
                            });
                            (None, None)
                        }
                    },
                    None => (None, None),
                };
                d.fonts.push(Font {
                    id: id.unwrap_or_default(),
                    font_name: f.attribute("FontName").unwrap_or("").to_string(),
                    family_name: f.attribute("FamilyName").map(str::to_string),
                    charset: f.attribute("Charset").map(str::to_string),
                    bold: parse_bool(f.attribute("Bold"), false),
                    italic: parse_bool(f.attribute("Italic"), false),
                    serif: parse_bool(f.attribute("Serif"), false),
                    fixed_width: parse_bool(f.attribute("FixedWidth"), false),
                    file,
                    data,
                });
            }
        }
        for group in kids(root, "MultiMedias") {
            for m in kids(group, "MultiMedia") {
                let id = self.id_attr(path, m, "ID");
                self.note_id(id);
                let Some(l) = kid_text(m, "MediaFile").filter(|s| !s.is_empty()) else {
                    self.warn(Warning::MissingRequired {
                        file: path.to_string(),
                        what: "MultiMedia/MediaFile".into(),
                    });
                    continue;
                };
                let p = match in_base(&l) {
                    Ok(p) => p,
                    Err(e) => {
                        self.warn(Warning::BadValue {
                            file: path.to_string(),
                            what: "MultiMedia/MediaFile".into(),
                            value: e.to_string(),
                        });
                        continue;
                    }
                };
                let Some((p, b)) = self.optional(path, &p) else {
                    continue;
                };
                let format = m
                    .attribute("Format")
                    .map(ImageFormat::from_attr)
                    .or_else(|| ImageFormat::sniff(b));
                d.media.push(MultiMedia {
                    id: id.unwrap_or_default(),
                    media_type: m.attribute("Type").unwrap_or("Image").to_string(),
                    format,
                    file: p,
                    data: b.to_vec(),
                });
            }
        }
        Ok(())
    }

    fn page_content(
        &mut self,
        path: &str,
        bytes: &[u8],
        d: &mut Document,
    ) -> Result<PageContent, ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "Page")?;
        let root = x.root_element();
        let mut c = PageContent {
            area: kid(root, "Area").and_then(|n| self.page_area(path, n)),
            ..Default::default()
        };
        for t in kids(root, "Template") {
            if let Some(id) = self.id_attr(path, t, "TemplateID") {
                c.templates.push(TemplateRef {
                    template_id: id,
                    z_order: t.attribute("ZOrder").map(str::to_string),
                });
            }
        }
        for r in kids(root, "PageRes") {
            let t = text(r);
            let Some(p) = self.resolve_opt(path, &t) else {
                continue;
            };
            if let Some((p, b)) = self.optional(path, &p) {
                self.res(&p, b, d)?;
                c.page_res.push(p);
            }
        }
        if let Some(content) = kid(root, "Content") {
            for l in kids(content, "Layer") {
                let id = self.id_attr(path, l, "ID");
                self.note_id(id);
                let layer = Layer {
                    id,
                    layer_type: l
                        .attribute("Type")
                        .map(LayerType::from_attr)
                        .unwrap_or_default(),
                    draw_param: self.id_attr(path, l, "DrawParam"),
                    objects: self.objects(path, l, 0),
                };
                c.layers.push(layer);
            }
        }
        Ok(c)
    }

    fn common(&mut self, file: &str, n: Node<'_, '_>) -> GraphicCommon {
        let id = self.id_attr(file, n, "ID");
        self.note_id(id);
        let boundary = match n.attribute("Boundary") {
            Some(b) => self.rect_of(file, "Boundary", b).unwrap_or_default(),
            None => {
                self.warn(Warning::MissingRequired {
                    file: file.to_string(),
                    what: format!("{}/@Boundary", n.tag_name().name()),
                });
                Rect::default()
            }
        };
        let ctm = n
            .attribute("CTM")
            .and_then(|s| match parse_nums(s).as_deref() {
                Some([a, b, c, d, e, f]) => Some(Matrix::new(*a, *b, *c, *d, *e, *f)),
                _ => None,
            });
        let mut clips = Vec::new();
        if let Some(cs) = kid(n, "Clips") {
            for c in kids(cs, "Clip") {
                let mut clip = Clip::default();
                for a in kids(c, "Area") {
                    let actm = a
                        .attribute("CTM")
                        .and_then(|s| match parse_nums(s).as_deref() {
                            Some([a, b, c, d, e, f]) => Some(Matrix::new(*a, *b, *c, *d, *e, *f)),
                            _ => None,
                        });
                    if let Some(p) = kid(a, "Path") {
                        let path = self.path_obj(file, p);
                        clip.areas.push(ClipArea { ctm: actm, path });
                    }
                }
                if !clip.areas.is_empty() {
                    clips.push(clip);
                }
            }
        }
        GraphicCommon {
            id,
            name: n.attribute("Name").map(str::to_string),
            visible: parse_bool(n.attribute("Visible"), true),
            boundary,
            ctm,
            draw_param: self.id_attr(file, n, "DrawParam"),
            line_width: self.f64_attr(file, n, "LineWidth"),
            cap: n.attribute("Cap").and_then(LineCap::from_attr),
            join: n.attribute("Join").and_then(LineJoin::from_attr),
            miter_limit: self.f64_attr(file, n, "MiterLimit"),
            dash_offset: self.f64_attr(file, n, "DashOffset"),
            dash_pattern: n
                .attribute("DashPattern")
                .and_then(parse_nums)
                .unwrap_or_default(),
            alpha: n
                .attribute("Alpha")
                .and_then(|a| a.trim().parse::<u16>().ok())
                .map(|a| a.min(255) as u8),
            clips,
        }
    }

    fn path_obj(&mut self, file: &str, n: Node<'_, '_>) -> PathObject {
        let common = self.common(file, n);
        let raw = kid(n, "AbbreviatedData").map(text).unwrap_or_default();
        let (data, bad) = parse_path_data(&raw);
        if let Some(tok) = bad {
            self.warn(Warning::BadValue {
                file: file.to_string(),
                what: "AbbreviatedData".into(),
                value: tok,
            });
        }
        PathObject {
            common,
            stroke: parse_bool(n.attribute("Stroke"), true),
            fill: parse_bool(n.attribute("Fill"), false),
            rule: if n.attribute("Rule") == Some("Even-Odd") {
                FillRule::EvenOdd
            } else {
                FillRule::NonZero
            },
            stroke_color: kid(n, "StrokeColor").map(|c| self.color(file, c)),
            fill_color: kid(n, "FillColor").map(|c| self.color(file, c)),
            data,
        }
    }

    fn text_obj(&mut self, file: &str, n: Node<'_, '_>) -> Option<TextObject> {
        let common = self.common(file, n);
        let Some(font) = self.id_attr(file, n, "Font") else {
            self.warn(Warning::MissingRequired {
                file: file.to_string(),
                what: "TextObject/@Font".into(),
            });
            return None;
        };
        let size = self.f64_attr(file, n, "Size").unwrap_or(0.0);
        let mut codes = Vec::new();
        let mut pending_cg = Vec::new();
        let (mut x, mut y) = (0.0, 0.0);
        for c in n.children().filter(Node::is_element) {
            match c.tag_name().name() {
                "CGTransform" => pending_cg.push(CgTransform {
                    code_position: c
                        .attribute("CodePosition")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0),
                    code_count: c
                        .attribute("CodeCount")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(1),
                    glyph_count: c
                        .attribute("GlyphCount")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(1),
                    glyphs: kid(c, "Glyphs")
                        .map(text)
                        .unwrap_or_default()
                        .split_whitespace()
                        .filter_map(|g| g.parse().ok())
                        .collect(),
                }),
                "TextCode" => {
                    let t = text(c);
                    let cap = t.chars().count().saturating_sub(1);
                    if let Some(v) = self.f64_attr(file, c, "X") {
                        x = v;
                    }
                    if let Some(v) = self.f64_attr(file, c, "Y") {
                        y = v;
                    }
                    let mut deltas = |attr: &'static str| match c.attribute(attr) {
                        Some(s) => parse_deltas(s, cap).unwrap_or_else(|| {
                            self.warn(Warning::BadValue {
                                file: file.to_string(),
                                what: format!("TextCode/@{attr}"),
                                value: s.to_string(),
                            });
                            Vec::new()
                        }),
                        None => Vec::new(),
                    };
                    let delta_x = deltas("DeltaX");
                    let delta_y = deltas("DeltaY");
                    codes.push(TextCode {
                        x,
                        y,
                        delta_x,
                        delta_y,
                        text: t,
                        cg_transforms: std::mem::take(&mut pending_cg),
                    });
                }
                _ => {}
            }
        }
        Some(TextObject {
            common,
            font,
            size,
            stroke: parse_bool(n.attribute("Stroke"), false),
            fill: parse_bool(n.attribute("Fill"), true),
            hscale: self.f64_attr(file, n, "HScale").unwrap_or(1.0),
            read_direction: n
                .attribute("ReadDirection")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            char_direction: n
                .attribute("CharDirection")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            weight: n
                .attribute("Weight")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(400),
            italic: parse_bool(n.attribute("Italic"), false),
            fill_color: kid(n, "FillColor").map(|c| self.color(file, c)),
            stroke_color: kid(n, "StrokeColor").map(|c| self.color(file, c)),
            codes,
        })
    }

    fn objects(&mut self, file: &str, parent: Node<'_, '_>, depth: usize) -> Vec<GraphicObject> {
        if !self.opts.graphics {
            return Vec::new();
        }
        let mut out = Vec::new();
        for n in parent.children().filter(Node::is_element) {
            match n.tag_name().name() {
                "TextObject" => {
                    if let Some(t) = self.text_obj(file, n) {
                        out.push(GraphicObject::Text(t));
                    }
                }
                "PathObject" => out.push(GraphicObject::Path(self.path_obj(file, n))),
                "ImageObject" => {
                    let common = self.common(file, n);
                    match self.id_attr(file, n, "ResourceID") {
                        Some(rid) => out.push(GraphicObject::Image(ImageObject {
                            common,
                            resource_id: rid,
                            substitution: self.id_attr(file, n, "Substitution"),
                            image_mask: self.id_attr(file, n, "ImageMask"),
                        })),
                        None => self.warn(Warning::MissingRequired {
                            file: file.to_string(),
                            what: "ImageObject/@ResourceID".into(),
                        }),
                    }
                }
                "CompositeObject" => {
                    let common = self.common(file, n);
                    if let Some(rid) = self.id_attr(file, n, "ResourceID") {
                        out.push(GraphicObject::Composite(CompositeObject {
                            common,
                            resource_id: rid,
                        }));
                    }
                }
                "PageBlock" if depth < self.opts.max_xml_depth => {
                    let id = self.id_attr(file, n, "ID");
                    self.note_id(id);
                    out.push(GraphicObject::Block(PageBlock {
                        id,
                        objects: self.objects(file, n, depth + 1),
                    }));
                }
                _ => {}
            }
        }
        out
    }

    fn annotations(&mut self, path: &str, bytes: &[u8], d: &mut Document) -> Result<(), ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "Annotations")?;
        for pn in kids(x.root_element(), "Page") {
            let page_id = self.id_attr(path, pn, "PageID");
            let Some(l) = kid_text(pn, "FileLoc").filter(|s| !s.is_empty()) else {
                continue;
            };
            let Some(p) = self.resolve_opt(path, &l) else {
                continue;
            };
            let Some((p, b)) = self.optional(path, &p) else {
                continue;
            };
            let ax = self.xml(&p, b)?;
            self.expect_root(&p, &ax, "PageAnnot")?;
            let mut list = Vec::new();
            for a in kids(ax.root_element(), "Annot") {
                let id = self.id_attr(&p, a, "ID");
                self.note_id(id);
                let appearance = kid(a, "Appearance").map(|ap| Appearance {
                    boundary: ap
                        .attribute("Boundary")
                        .and_then(|s| self.rect_of(&p, "Appearance/@Boundary", s))
                        .unwrap_or_default(),
                    objects: self.objects(&p, ap, 0),
                });
                list.push(Annotation {
                    id,
                    annot_type: a.attribute("Type").unwrap_or("").to_string(),
                    subtype: a.attribute("Subtype").map(str::to_string),
                    creator: a.attribute("Creator").map(str::to_string),
                    last_mod_date: a.attribute("LastModDate").map(str::to_string),
                    visible: parse_bool(a.attribute("Visible"), true),
                    print: parse_bool(a.attribute("Print"), true),
                    remark: kid_text(a, "Remark"),
                    parameters: kid(a, "Parameters")
                        .map(|ps| {
                            kids(ps, "Parameter")
                                .map(|q| (q.attribute("Name").unwrap_or("").to_string(), text(q)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    appearance,
                    file: p.clone(),
                });
            }
            match d
                .pages
                .iter_mut()
                .find(|pg| pg.id.is_some() && pg.id == page_id)
            {
                Some(pg) => pg.annotations.extend(list),
                None => self.warn(Warning::BadValue {
                    file: path.to_string(),
                    what: "Annotations/Page/@PageID (no such page)".into(),
                    value: page_id.map(|i| i.to_string()).unwrap_or_default(),
                }),
            }
        }
        Ok(())
    }

    fn custom_tags(&mut self, path: &str, bytes: &[u8], d: &mut Document) -> Result<(), ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "CustomTags")?;
        for t in kids(x.root_element(), "CustomTag") {
            let schema_loc = match kid_text(t, "SchemaLoc").filter(|s| !s.is_empty()) {
                Some(s) => self
                    .resolve_opt(path, &s)
                    .and_then(|p| self.optional(path, &p).map(|(p, _)| p)),
                None => None,
            };
            let Some(l) = kid_text(t, "FileLoc").filter(|s| !s.is_empty()) else {
                self.warn(Warning::MissingRequired {
                    file: path.to_string(),
                    what: "CustomTag/FileLoc".into(),
                });
                continue;
            };
            let Some(p) = self.resolve_opt(path, &l) else {
                continue;
            };
            let Some((p, b)) = self.optional(path, &p) else {
                continue;
            };
            // the tag file is kept byte for byte.
            d.custom_tags.push(CustomTag {
                type_id: t.attribute("TypeID").map(str::to_string),
                namespace: t.attribute("NameSpace").map(str::to_string),
                schema_loc,
                file: p,
                data: b.to_vec(),
            });
        }
        Ok(())
    }

    fn attachments(&mut self, path: &str, bytes: &[u8], d: &mut Document) -> Result<(), ReadError> {
        let x = self.xml(path, bytes)?;
        self.expect_root(path, &x, "Attachments")?;
        for a in kids(x.root_element(), "Attachment") {
            let Some(l) = kid_text(a, "FileLoc").filter(|s| !s.is_empty()) else {
                self.warn(Warning::MissingRequired {
                    file: path.to_string(),
                    what: "Attachment/FileLoc".into(),
                });
                continue;
            };
            let Some(p) = self.resolve_opt(path, &l) else {
                continue;
            };
            let Some((p, b)) = self.optional(path, &p) else {
                continue;
            };
            d.attachments.push(Attachment {
                id: a.attribute("ID").map(str::to_string),
                name: a.attribute("Name").unwrap_or("").to_string(),
                format: a.attribute("Format").map(str::to_string),
                creation_date: a.attribute("CreationDate").map(str::to_string),
                mod_date: a.attribute("ModDate").map(str::to_string),
                size_kb: a.attribute("Size").and_then(|s| s.trim().parse().ok()),
                visible: parse_bool(a.attribute("Visible"), true),
                usage: a.attribute("Usage").map(str::to_string),
                file: p,
                data: b.to_vec(),
            });
        }
        Ok(())
    }
}

#[derive(Default)]
struct PageContent {
    area: Option<PageArea>,
    templates: Vec<TemplateRef>,
    page_res: Vec<String>,
    layers: Vec<Layer>,
}

fn doc_info(n: Node<'_, '_>) -> DocInfo {
    DocInfo {
        doc_id: kid_text(n, "DocID").unwrap_or_default(),
        title: kid_text(n, "Title"),
        author: kid_text(n, "Author"),
        subject: kid_text(n, "Subject"),
        abstract_: kid_text(n, "Abstract"),
        creation_date: kid_text(n, "CreationDate"),
        mod_date: kid_text(n, "ModDate"),
        doc_usage: kid_text(n, "DocUsage"),
        keywords: kid(n, "Keywords")
            .map(|k| {
                kids(k, "Keyword")
                    .map(|w| text(w).trim().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        creator: kid_text(n, "Creator"),
        creator_version: kid_text(n, "CreatorVersion"),
        custom_data: kid(n, "CustomDatas")
            .map(|c| {
                kids(c, "CustomData")
                    .map(|d| (d.attribute("Name").unwrap_or("").to_string(), text(d)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading without graphic objects (the verifier's coverage check) loads exactly the parts
    /// a full read loads, borrows the package, and leaves the layers empty.
    #[test]
    fn reading_without_graphics_loads_the_same_parts() {
        let fonts = crate::sample::SampleFonts::system().unwrap();
        let pkg = crate::sample::build(&fonts, &crate::sample::SampleData::default()).unwrap();
        let full = OfdFile::from_package(pkg.clone(), &ReadOptions::default()).unwrap();
        let lean = OfdFile::read_model(
            &pkg,
            &ReadOptions {
                graphics: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(lean.loaded, full.loaded_parts());
        assert!(lean.loaded.len() > 5, "{:?}", lean.loaded);
        assert_eq!(lean.warnings, full.warnings);
        let doc = &full.ofd.docs[0].document;
        assert!(
            doc.pages
                .iter()
                .any(|p| p.layers.iter().any(|l| !l.objects.is_empty()))
        );
        let lean_doc = &lean.ofd.docs[0].document;
        assert_eq!(lean_doc.pages.len(), doc.pages.len());
        assert!(
            lean_doc
                .pages
                .iter()
                .all(|p| p.layers.iter().all(|l| l.objects.is_empty()))
        );
    }

    #[test]
    fn deltas_expand_g_runs_and_cap() {
        assert_eq!(
            parse_deltas("g 3 1.5 2 g 2 0.5", 100).unwrap(),
            vec![1.5, 1.5, 1.5, 2.0, 0.5, 0.5]
        );
        assert_eq!(parse_deltas("g 4294967295 1", 3).unwrap(), vec![1.0; 3]);
        assert!(parse_deltas("g x 1", 3).is_none());
        assert!(parse_deltas("1 NaN", 3).is_none());
    }

    #[test]
    fn path_data_parses_all_operators() {
        let (ops, bad) =
            parse_path_data("S 0 0 M 1 2 L 3 4 Q 1 1 2 2 B 1 2 3 4 5 6 A 1 1 0 1 0 5 5 C");
        assert!(bad.is_none());
        assert_eq!(ops.len(), 7);
        assert_eq!(
            ops[5],
            PathOp::Arc {
                rx: 1.0,
                ry: 1.0,
                angle: 0.0,
                large: true,
                sweep: false,
                x: 5.0,
                y: 5.0
            }
        );
        let (ops, bad) = parse_path_data("M 0 0 L 1");
        assert_eq!(ops.len(), 1);
        assert_eq!(bad.as_deref(), Some("L"));
    }

    #[test]
    fn colours_accept_hex() {
        assert_eq!(
            parse_color_value("#FF 0 #10").unwrap(),
            vec![255.0, 0.0, 16.0]
        );
    }
}
