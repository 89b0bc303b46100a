//! The writer: a typed API from document to package bytes (GB/T 33190-2016).
//!
//! ```no_run
//! use ofd::write::{DocumentWriter, TextStyle};
//! use ofd::{DocInfo, FontSource};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let info = DocInfo { doc_id: "8f0c3a2b9d1e4f5a6b7c8d9e0f1a2b3c".into(), ..Default::default() };
//! let mut doc = DocumentWriter::new(info)?;
//! let font = doc.add_font(FontSource::from_path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0)?)?;
//! let mut page = doc.add_page();                      // A4 (R-4.3.3)
//! page.body().text(&TextStyle::new(font, 5.0), 20.0, 30.0, "校准证书 Calibration")?;
//! let bytes = doc.finish()?.to_zip()?;
//! # Ok(()) }
//! ```
//!
//! What it guarantees:
//! - IDs are allocated in creation order from 1, `MaxUnitID` is the largest one;
//! - XSD element order; `Version="1.0"`; xs:ID values (attachments) start with a letter;
//! - fonts are embedded as subsets of the glyphs used, with their cmap and advances
//!   (R-4.1.6), every `TextCode` carries explicit `DeltaX`, and a glyph the cmap does not
//!   reach gets a `CGTransform`;
//! - images are `MultiMedia` resources drawn with `CTM="w 0 0 h 0 0"`;
//! - custom tags (clause 16) carry both `TypeID` and `NameSpace`; `Document.xml` points to the
//!   custom tag list and the attachment list (R-4.5.2);
//! - nothing dynamic (R-4.1.4): the API has no way to write actions, scripts, audio or video;
//! - the same calls with the same `DocID` and dates give byte-identical packages.

use crate::font::{FontError, FontSource};
use crate::model::*;
use crate::package::{Package, PackageError};
use crate::xml_out::{self, Attrs, Xml, num};
use std::collections::BTreeSet;

/// Why writing failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A font problem (unparsable, missing glyph, subsetting).
    #[error(transparent)]
    Font(#[from] FontError),
    /// A package (ZIP) problem.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// An image that is neither PNG nor JPEG, or whose header is malformed.
    #[error("image #{index}: {why}")]
    Image {
        /// Position of the image among those added.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// A value that OFD cannot carry.
    #[error("{what}: invalid value {value:?} ({why})")]
    Invalid {
        /// Which field.
        what: &'static str,
        /// The value.
        value: String,
        /// Why.
        why: &'static str,
    },
    /// A handle from another writer.
    #[error("{0} handle does not belong to this document")]
    ForeignHandle(&'static str),
}

/// A font added to a [`DocumentWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FontRef {
    id: Id,
    slot: usize,
}

impl FontRef {
    /// The font's resource ID.
    pub fn id(&self) -> Id {
        self.id
    }
}

/// An image added to a [`DocumentWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef {
    id: Id,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
}

impl ImageRef {
    /// The image's resource ID.
    pub fn id(&self) -> Id {
        self.id
    }
}

/// How to draw text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextStyle {
    /// The font.
    pub font: FontRef,
    /// Em size in mm (10.5 pt = 3.704 mm).
    pub size: f64,
    /// Fill colour (`None` = not filled).
    pub fill: Option<Color>,
    /// Stroke colour (`None` = not stroked).
    pub stroke: Option<Color>,
    /// Extra space after every character, in mm.
    pub letter_spacing: f64,
    /// Object alpha 0–255.
    pub alpha: Option<u8>,
    /// `Weight` attribute (400 normal, 700 bold) — a hint; the glyphs come from the font.
    pub weight: u32,
    /// `Italic` attribute — a hint.
    pub italic: bool,
    /// Rotation in degrees, clockwise on the page, about the run's baseline origin (written
    /// as the object's `CTM`; 0 = none).
    pub rotation: f64,
}

impl TextStyle {
    /// Black filled text in `font` at `size` mm.
    pub fn new(font: FontRef, size: f64) -> Self {
        TextStyle {
            font,
            size,
            fill: Some(Color::black()),
            stroke: None,
            letter_spacing: 0.0,
            alpha: None,
            weight: 400,
            italic: false,
            rotation: 0.0,
        }
    }
    /// Size in points (1 pt = 25.4/72 mm).
    pub fn pt(font: FontRef, points: f64) -> Self {
        Self::new(font, points * 25.4 / 72.0)
    }
    /// With a fill colour.
    pub fn fill(mut self, c: Color) -> Self {
        self.fill = Some(c);
        self
    }
    /// Turned by `degrees` clockwise about the baseline origin.
    pub fn rotated(mut self, degrees: f64) -> Self {
        self.rotation = degrees;
        self
    }
}

/// One shaped glyph for [`LayerWriter::glyph_run`] (e.g. from Typst's layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// Glyph index in the *original* font (remapped to the subset by the writer).
    pub id: u16,
    /// The characters this glyph represents (its cluster); empty for a glyph with no text
    /// (written as U+FFFD so that every glyph has a character).
    pub text: String,
    /// Distance from this glyph's origin to the next one's, in mm.
    pub advance: f64,
}

/// A path in page coordinates (mm), built with the `*_to` methods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Path {
    ops: Vec<PathOp>,
}

impl Path {
    /// An empty path.
    pub fn new() -> Self {
        Self::default()
    }
    /// `M`: begin a subpath at (x, y).
    pub fn move_to(&mut self, x: f64, y: f64) -> &mut Self {
        self.ops.push(PathOp::Move(x, y));
        self
    }
    /// `L`: a line to (x, y).
    pub fn line_to(&mut self, x: f64, y: f64) -> &mut Self {
        self.ops.push(PathOp::Line(x, y));
        self
    }
    /// `Q`: a quadratic Bézier.
    pub fn quad_to(&mut self, x1: f64, y1: f64, x: f64, y: f64) -> &mut Self {
        self.ops.push(PathOp::Quad(x1, y1, x, y));
        self
    }
    /// `B`: a cubic Bézier.
    pub fn cubic_to(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, x: f64, y: f64) -> &mut Self {
        self.ops.push(PathOp::Cubic(x1, y1, x2, y2, x, y));
        self
    }
    /// An elliptical arc to (x, y) with the parameters of the `A` operator (SVG's endpoint
    /// form: radii, rotation in degrees, large-arc and sweep flags). It is written as cubic
    /// Béziers (`B`, at most a quarter turn each), not as `A`: ofdrw-converter 2.4.0's
    /// renderer ignores `A` and would leave the shape out (`docs/interop.md`).
    #[allow(clippy::too_many_arguments)]
    pub fn arc_to(
        &mut self,
        rx: f64,
        ry: f64,
        angle: f64,
        large: bool,
        sweep: bool,
        x: f64,
        y: f64,
    ) -> &mut Self {
        let from = self.current_point();
        let segs = crate::arc::arc_to_cubics(from, rx, ry, angle, large, sweep, (x, y));
        for [c1, c2, p] in segs {
            self.ops
                .push(PathOp::Cubic(c1.0, c1.1, c2.0, c2.1, p.0, p.1));
        }
        self
    }

    /// Where the next segment starts: the last end point, the subpath's start after a close,
    /// (0, 0) on an empty path.
    fn current_point(&self) -> (f64, f64) {
        let mut closed = false;
        for op in self.ops.iter().rev() {
            match *op {
                PathOp::Start(x, y) | PathOp::Move(x, y) => return (x, y),
                PathOp::Line(x, y)
                | PathOp::Quad(_, _, x, y)
                | PathOp::Cubic(_, _, _, _, x, y)
                | PathOp::Arc { x, y, .. }
                    if !closed =>
                {
                    return (x, y);
                }
                PathOp::Close => closed = true,
                _ => {}
            }
        }
        (0.0, 0.0)
    }
    /// `C`: close the subpath.
    pub fn close(&mut self) -> &mut Self {
        self.ops.push(PathOp::Close);
        self
    }
    /// A closed rectangle.
    pub fn rect(&mut self, r: Rect) -> &mut Self {
        self.move_to(r.x, r.y)
            .line_to(r.x + r.w, r.y)
            .line_to(r.x + r.w, r.y + r.h)
            .line_to(r.x, r.y + r.h)
            .close()
    }
    /// The operators.
    pub fn ops(&self) -> &[PathOp] {
        &self.ops
    }
    /// Bounding box of all points, control points and arc extents (conservative).
    fn bbox(&self) -> Option<Rect> {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut add = |x: f64, y: f64| {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        };
        let mut last = (0.0, 0.0);
        for op in &self.ops {
            match *op {
                PathOp::Start(x, y) | PathOp::Move(x, y) | PathOp::Line(x, y) => {
                    add(x, y);
                    last = (x, y);
                }
                PathOp::Quad(a, b, x, y) => {
                    add(a, b);
                    add(x, y);
                    last = (x, y);
                }
                PathOp::Cubic(a, b, c, d, x, y) => {
                    add(a, b);
                    add(c, d);
                    add(x, y);
                    last = (x, y);
                }
                PathOp::Arc { rx, ry, x, y, .. } => {
                    let r = rx.abs().max(ry.abs());
                    for (px, py) in [last, (x, y)] {
                        add(px - r, py - r);
                        add(px + r, py + r);
                    }
                    last = (x, y);
                }
                PathOp::Close => {}
            }
        }
        (x0 <= x1 && y0 <= y1 && x0.is_finite() && y1.is_finite())
            .then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }
    fn translated(&self, dx: f64, dy: f64) -> Vec<PathOp> {
        self.ops
            .iter()
            .map(|op| match *op {
                PathOp::Start(x, y) => PathOp::Start(x - dx, y - dy),
                PathOp::Move(x, y) => PathOp::Move(x - dx, y - dy),
                PathOp::Line(x, y) => PathOp::Line(x - dx, y - dy),
                PathOp::Quad(a, b, x, y) => PathOp::Quad(a - dx, b - dy, x - dx, y - dy),
                PathOp::Cubic(a, b, c, d, x, y) => {
                    PathOp::Cubic(a - dx, b - dy, c - dx, d - dy, x - dx, y - dy)
                }
                PathOp::Arc {
                    rx,
                    ry,
                    angle,
                    large,
                    sweep,
                    x,
                    y,
                } => PathOp::Arc {
                    rx,
                    ry,
                    angle,
                    large,
                    sweep,
                    x: x - dx,
                    y: y - dy,
                },
                PathOp::Close => PathOp::Close,
            })
            .collect()
    }
}

/// A stroke.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: Color,
    /// Line width in mm.
    pub width: f64,
    /// Dash pattern (mm) and offset; empty = solid.
    pub dash: Vec<f64>,
    /// Dash offset.
    pub dash_offset: f64,
    /// Cap.
    pub cap: Option<LineCap>,
    /// Join.
    pub join: Option<LineJoin>,
}

impl Stroke {
    /// A solid stroke.
    pub fn solid(color: Color, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: Vec::new(),
            dash_offset: 0.0,
            cap: None,
            join: None,
        }
    }
}

/// How to draw a path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathStyle {
    /// Stroke, if stroked.
    pub stroke: Option<Stroke>,
    /// Fill colour, if filled.
    pub fill: Option<Color>,
    /// Fill rule.
    pub rule: FillRule,
    /// Object alpha 0–255.
    pub alpha: Option<u8>,
    /// Clip path in page coordinates: the object is drawn only inside it.
    pub clip: Option<Path>,
}

impl PathStyle {
    /// Stroked only.
    pub fn stroked(s: Stroke) -> Self {
        PathStyle {
            stroke: Some(s),
            ..Default::default()
        }
    }
    /// Filled only.
    pub fn filled(c: Color) -> Self {
        PathStyle {
            fill: Some(c),
            ..Default::default()
        }
    }
}

/// A custom tag to write (clause 16, R-4.5.2).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTagSpec {
    /// Written both as `TypeID` (standard table 63) and `NameSpace` (Annex A XSD).
    pub type_id: String,
    /// File name under `Doc_0/Tags/` (e.g. `Cert.xml`).
    pub file_name: String,
    /// The tag file: well-formed XML in its own namespace (checked).
    pub xml: Vec<u8>,
    /// Optional schema: file name under `Doc_0/Tags/` and bytes (`SchemaLoc`).
    pub schema: Option<(String, Vec<u8>)>,
}

/// An attachment to write (clause 20).
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentSpec {
    /// `Name`.
    pub name: String,
    /// `Format` (e.g. `ofd`, `xml`, `pdf`).
    pub format: String,
    /// File name under `Doc_0/Attachs/`.
    pub file_name: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// `CreationDate`, xs:dateTime `YYYY-MM-DDThh:mm:ss` (checked), for determinism given by
    /// the caller.
    pub creation_date: Option<String>,
    /// `Visible`.
    pub visible: bool,
    /// `Usage`.
    pub usage: Option<String>,
}

/// What a factory writer hands to [`crate::overlay`].
pub(crate) struct OverlayParts {
    /// Font resources with their subset data (files under `Doc_0/Res/`).
    pub(crate) fonts: Vec<Font>,
    /// The new layers of every page, in page order.
    pub(crate) layers: Vec<Vec<Layer>>,
    /// Custom tags added.
    pub(crate) tags: Vec<CustomTagSpec>,
    /// The largest ID allocated.
    pub(crate) last_id: u32,
}

struct FontSlot {
    id: Id,
    src: FontSource,
    used: BTreeSet<u16>,
    /// Characters reached through the cmap: the subset's cmap.
    mapped: std::collections::BTreeMap<char, u16>,
}

/// Builds one OFD document (one `DocBody`, `Doc_0/…`).
pub struct DocumentWriter {
    info: DocInfo,
    page_area: PageArea,
    next_id: u32,
    fonts: Vec<FontSlot>,
    media: Vec<MultiMedia>,
    pages: Vec<Page>,
    tags: Vec<CustomTagSpec>,
    attachments: Vec<AttachmentSpec>,
}

fn check_date(what: &'static str, s: &str, with_time: bool) -> Result<(), WriteError> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date_ok = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10);
    let ok = if with_time {
        date_ok
            && b.len() == 19
            && b.get(10) == Some(&b'T')
            && digits(11..13)
            && b.get(13) == Some(&b':')
            && digits(14..16)
            && b.get(16) == Some(&b':')
            && digits(17..19)
    } else {
        date_ok && b.len() == 10
    };
    if ok {
        Ok(())
    } else {
        Err(WriteError::Invalid {
            what,
            value: s.to_string(),
            why: if with_time {
                "expected YYYY-MM-DDThh:mm:ss"
            } else {
                "expected YYYY-MM-DD"
            },
        })
    }
}

fn check_text(what: &'static str, s: &str) -> Result<(), WriteError> {
    if s.chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(WriteError::Invalid {
            what,
            value: s.to_string(),
            why: "control characters cannot be written in XML text",
        });
    }
    Ok(())
}

fn check_file_name(what: &'static str, s: &str) -> Result<(), WriteError> {
    if s.is_empty() || s.contains('/') || s.contains('\\') || s == "." || s == ".." {
        return Err(WriteError::Invalid {
            what,
            value: s.to_string(),
            why: "a plain file name without '/' is required",
        });
    }
    crate::package::validate_name(s).map_err(WriteError::from)
}

impl DocumentWriter {
    /// A new document. `info.doc_id` is required (32 hex digits recommended);
    /// `creation_date`/`mod_date` must be `YYYY-MM-DD` when given.
    pub fn new(info: DocInfo) -> Result<Self, WriteError> {
        let id = info.doc_id.trim();
        if id.is_empty() || id.chars().any(char::is_whitespace) {
            return Err(WriteError::Invalid {
                what: "DocID",
                value: info.doc_id.clone(),
                why: "required, without whitespace",
            });
        }
        for d in [&info.creation_date, &info.mod_date].into_iter().flatten() {
            check_date("DocInfo date", d, false)?;
        }
        for s in [
            &info.title,
            &info.author,
            &info.subject,
            &info.abstract_,
            &info.creator,
            &info.creator_version,
            &info.doc_usage,
        ]
        .into_iter()
        .flatten()
        {
            check_text("DocInfo", s)?;
        }
        for (k, v) in &info.custom_data {
            check_text("CustomData", k)?;
            check_text("CustomData", v)?;
        }
        Ok(DocumentWriter {
            info,
            page_area: PageArea::default(),
            next_id: 0,
            fonts: Vec::new(),
            media: Vec::new(),
            pages: Vec::new(),
            tags: Vec::new(),
            attachments: Vec::new(),
        })
    }

    fn alloc(&mut self) -> Id {
        self.next_id = self.next_id.saturating_add(1);
        Id(self.next_id)
    }

    /// Sets the document's default page area (`CommonData/PageArea`); A4 unless set.
    pub fn set_page_area(&mut self, area: PageArea) {
        self.page_area = area;
    }

    /// Adds a font; it is embedded as a subset of the glyphs used when the document is
    /// finished.
    pub fn add_font(&mut self, src: FontSource) -> Result<FontRef, WriteError> {
        let id = self.alloc();
        self.fonts.push(FontSlot {
            id,
            src,
            used: BTreeSet::new(),
            mapped: std::collections::BTreeMap::new(),
        });
        Ok(FontRef {
            id,
            slot: self.fonts.len() - 1,
        })
    }

    /// The source of a font added earlier (for measuring).
    pub fn font(&self, f: FontRef) -> Option<&FontSource> {
        self.fonts
            .get(f.slot)
            .filter(|s| s.id == f.id)
            .map(|s| &s.src)
    }

    /// Adds a PNG or JPEG image as a `MultiMedia` resource (in `DocumentRes`).
    pub fn add_image(&mut self, data: Vec<u8>) -> Result<ImageRef, WriteError> {
        let index = self.media.len();
        let (format, (w, h)) = match ImageFormat::sniff(&data) {
            Some(ImageFormat::Png) => (ImageFormat::Png, png_size(&data)),
            Some(ImageFormat::Jpeg) => (ImageFormat::Jpeg, jpeg_size(&data)),
            _ => {
                return Err(WriteError::Image {
                    index,
                    why: "only PNG and JPEG are written".into(),
                });
            }
        };
        if w == 0 || h == 0 {
            return Err(WriteError::Image {
                index,
                why: "cannot read the pixel size from the header".into(),
            });
        }
        let id = self.alloc();
        let ext = if format == ImageFormat::Png {
            "png"
        } else {
            "jpg"
        };
        self.media.push(MultiMedia {
            id,
            media_type: "Image".into(),
            format: Some(format),
            file: format!("Doc_0/Res/image_{id}.{ext}"),
            data,
        });
        Ok(ImageRef {
            id,
            width_px: w,
            height_px: h,
        })
    }

    /// Adds a page with the document's page area (A4 by default).
    pub fn add_page(&mut self) -> PageWriter<'_> {
        self.add_page_inner(None)
    }

    /// Adds a page with its own physical box (written as the page's `Area`).
    pub fn add_page_with_box(&mut self, physical: Rect) -> PageWriter<'_> {
        self.add_page_inner(Some(PageArea::new(physical)))
    }

    fn add_page_inner(&mut self, area: Option<PageArea>) -> PageWriter<'_> {
        let id = self.alloc();
        let n = self.pages.len();
        self.pages.push(Page {
            id: Some(id),
            content_path: format!("Doc_0/Pages/Page_{n}/Content.xml"),
            area,
            templates: Vec::new(),
            page_res: Vec::new(),
            layers: Vec::new(),
            annotations: Vec::new(),
        });
        PageWriter { doc: self, page: n }
    }

    /// Returns to page `index` (0-based) to add more content.
    pub fn page(&mut self, index: usize) -> Option<PageWriter<'_>> {
        (index < self.pages.len()).then_some(PageWriter {
            doc: self,
            page: index,
        })
    }

    /// Number of pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Adds a custom tag (clause 16; R-4.5.1/R-4.5.2: where a certificate identifier lives).
    pub fn add_custom_tag(&mut self, spec: CustomTagSpec) -> Result<(), WriteError> {
        check_file_name("custom tag file name", &spec.file_name)?;
        check_text("custom tag TypeID", &spec.type_id)?;
        if spec.type_id.trim().is_empty() {
            return Err(WriteError::Invalid {
                what: "custom tag TypeID",
                value: spec.type_id,
                why: "required",
            });
        }
        let text = std::str::from_utf8(&spec.xml).map_err(|_| WriteError::Invalid {
            what: "custom tag file",
            value: spec.file_name.clone(),
            why: "not UTF-8",
        })?;
        if roxmltree::Document::parse(text).is_err() {
            return Err(WriteError::Invalid {
                what: "custom tag file",
                value: spec.file_name,
                why: "not well-formed XML",
            });
        }
        if let Some((n, _)) = &spec.schema {
            check_file_name("custom tag schema name", n)?;
        }
        self.tags.push(spec);
        Ok(())
    }

    /// Adds an attachment (clause 20). Returns its ID (`a1`, `a2`, …: xs:ID values must not
    /// start with a digit).
    pub fn add_attachment(&mut self, spec: AttachmentSpec) -> Result<String, WriteError> {
        check_file_name("attachment file name", &spec.file_name)?;
        check_text("attachment name", &spec.name)?;
        check_text("attachment format", &spec.format)?;
        if let Some(d) = &spec.creation_date {
            check_date("attachment CreationDate", d, true)?;
        }
        self.attachments.push(spec);
        Ok(format!("a{}", self.attachments.len()))
    }

    /// Adds an attachment that must itself be an OFD file (R-4.1.5: attachments of a
    /// certificate are OFD too); the bytes are checked with the strict reader.
    pub fn add_ofd_attachment(
        &mut self,
        name: &str,
        file_name: &str,
        data: Vec<u8>,
        creation_date: Option<String>,
    ) -> Result<String, WriteError> {
        if let Err(e) = crate::read::OfdFile::read(&data) {
            return Err(WriteError::Invalid {
                what: "OFD attachment",
                value: format!("{file_name}: {e}"),
                why: "R-4.1.5 requires attachments to be OFD files",
            });
        }
        self.add_attachment(AttachmentSpec {
            name: name.to_string(),
            format: "ofd".into(),
            file_name: file_name.to_string(),
            data,
            creation_date,
            visible: true,
            usage: None,
        })
    }

    /// A writer used only as a factory of new objects for [`crate::overlay`]: IDs are
    /// allocated after `last_id` (the existing document's largest), and `pages` placeholder
    /// pages (without IDs of their own) stand for the existing pages.
    pub(crate) fn for_overlay(last_id: u32, pages: &[Option<PageArea>]) -> Self {
        DocumentWriter {
            info: DocInfo {
                doc_id: "overlay".into(),
                ..Default::default()
            },
            page_area: PageArea::default(),
            next_id: last_id,
            fonts: Vec::new(),
            media: Vec::new(),
            pages: pages
                .iter()
                .map(|area| Page {
                    id: None,
                    content_path: String::new(),
                    area: *area,
                    templates: Vec::new(),
                    page_res: Vec::new(),
                    layers: Vec::new(),
                    annotations: Vec::new(),
                })
                .collect(),
            tags: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// The pages so far with their layers (for [`crate::overlay`]'s free-space checks).
    pub(crate) fn pages_so_far(&self) -> &[Page] {
        &self.pages
    }

    /// What [`crate::overlay`] takes from a factory writer: the fonts (subset, with their
    /// data; files under `Doc_0/Res/`), the new layers of every page, the custom tags added,
    /// and the largest ID allocated.
    pub(crate) fn finish_overlay(mut self) -> Result<OverlayParts, WriteError> {
        let fonts = self.embed_fonts()?;
        let layers = self.pages.into_iter().map(|p| p.layers).collect();
        Ok(OverlayParts {
            fonts,
            layers,
            tags: self.tags,
            last_id: self.next_id,
        })
    }

    /// Subsets every font to the glyphs used, remaps the text objects' `CGTransform` glyphs to
    /// the subsets and returns the font resources with their data (R-4.1.6).
    fn embed_fonts(&mut self) -> Result<Vec<Font>, WriteError> {
        let mut fonts = Vec::with_capacity(self.fonts.len());
        for slot in &self.fonts {
            let used: Vec<u16> = slot.used.iter().copied().collect();
            let sub = slot.src.subset_mapped(&slot.mapped, &used)?;
            let (bytes, map) = (&sub.0, &sub.1);
            let remap = |g: u16| {
                map.binary_search_by_key(&g, |m| m.0)
                    .ok()
                    .and_then(|i| map.get(i))
                    .map_or(0, |m| m.1)
            };
            for page in &mut self.pages {
                for layer in &mut page.layers {
                    for o in &mut layer.objects {
                        if let GraphicObject::Text(t) = o
                            && t.font == slot.id
                        {
                            for c in &mut t.codes {
                                for cg in &mut c.cg_transforms {
                                    for g in &mut cg.glyphs {
                                        *g = remap(*g);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let ext = if slot.src.has_truetype_outlines() {
                "ttf"
            } else {
                "otf"
            };
            fonts.push(Font {
                id: slot.id,
                font_name: slot.src.full_name().to_string(),
                family_name: Some(slot.src.family_name().to_string()),
                charset: None,
                bold: slot.src.is_bold(),
                italic: slot.src.is_italic(),
                serif: false,
                fixed_width: false,
                file: Some(format!("Doc_0/Res/font_{}.{ext}", slot.id)),
                data: Some(bytes.clone()),
            });
        }
        Ok(fonts)
    }

    /// Finishes the document: subsets fonts and builds the package.
    pub fn finish(mut self) -> Result<Package, WriteError> {
        // 1. Font subsets and glyph remapping.
        let fonts = self.embed_fonts()?;

        // 2. Custom tags and attachments in the model.
        let custom_tags: Vec<CustomTag> = self
            .tags
            .iter()
            .map(|t| CustomTag {
                type_id: Some(t.type_id.clone()),
                namespace: Some(t.type_id.clone()),
                schema_loc: t.schema.as_ref().map(|(n, _)| format!("Doc_0/Tags/{n}")),
                file: format!("Doc_0/Tags/{}", t.file_name),
                data: t.xml.clone(),
            })
            .collect();
        let attachments: Vec<Attachment> = self
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| Attachment {
                id: Some(format!("a{}", i + 1)),
                name: a.name.clone(),
                format: Some(a.format.clone()),
                creation_date: a.creation_date.clone(),
                mod_date: None,
                size_kb: Some(a.data.len() as f64 / 1024.0),
                visible: a.visible,
                usage: a.usage.clone(),
                file: format!("Doc_0/Attachs/{}", a.file_name),
                data: a.data.clone(),
            })
            .collect();

        let doc = Document {
            max_unit_id: Some(self.next_id),
            page_area: Some(self.page_area),
            public_res: if fonts.is_empty() {
                vec![]
            } else {
                vec!["Doc_0/PublicRes.xml".into()]
            },
            document_res: if self.media.is_empty() {
                vec![]
            } else {
                vec!["Doc_0/DocumentRes.xml".into()]
            },
            fonts,
            media: std::mem::take(&mut self.media),
            draw_params: Vec::new(),
            color_spaces: Vec::new(),
            templates: Vec::new(),
            pages: std::mem::take(&mut self.pages),
            annotations_file: None,
            custom_tags_file: (!custom_tags.is_empty()).then(|| "Doc_0/Tags/CustomTags.xml".into()),
            custom_tags,
            attachments_file: (!attachments.is_empty())
                .then(|| "Doc_0/Attachs/Attachments.xml".into()),
            attachments,
        };
        let body = DocBody {
            info: self.info.clone(),
            doc_root: "Doc_0/Document.xml".into(),
            signatures: None,
            document: doc,
        };
        let mut pkg = write_model(&Ofd {
            version: "1.0".into(),
            doc_type: "OFD".into(),
            docs: vec![body],
        })?;
        for t in &self.tags {
            if let Some((n, bytes)) = &t.schema {
                pkg.insert(&format!("Doc_0/Tags/{n}"), bytes.clone())?;
            }
        }
        Ok(pkg)
    }
}

/// Adds content to one page.
pub struct PageWriter<'a> {
    doc: &'a mut DocumentWriter,
    page: usize,
}

impl PageWriter<'_> {
    /// The page's ID.
    pub fn id(&self) -> Id {
        self.doc
            .pages
            .get(self.page)
            .and_then(|p| p.id)
            .unwrap_or(Id(0))
    }

    /// The page's physical box.
    pub fn physical_box(&self) -> Rect {
        self.doc
            .pages
            .get(self.page)
            .and_then(|p| p.area)
            .unwrap_or(self.doc.page_area)
            .physical
    }

    /// A new layer of the given type (drawn after the existing ones).
    pub fn layer(&mut self, layer_type: LayerType) -> LayerWriter<'_> {
        let id = self.doc.alloc();
        let page = self.page;
        let mut layer_index = 0;
        if let Some(p) = self.doc.pages.get_mut(page) {
            p.layers.push(Layer {
                id: Some(id),
                layer_type,
                draw_param: None,
                objects: Vec::new(),
            });
            layer_index = p.layers.len() - 1;
        }
        LayerWriter {
            doc: self.doc,
            page,
            layer: layer_index,
        }
    }

    /// The first `Body` layer, created on first use.
    pub fn body(&mut self) -> LayerWriter<'_> {
        let existing = self.doc.pages.get(self.page).and_then(|p| {
            p.layers
                .iter()
                .position(|l| l.layer_type == LayerType::Body)
        });
        match existing {
            Some(layer) => LayerWriter {
                doc: self.doc,
                page: self.page,
                layer,
            },
            None => self.layer(LayerType::Body),
        }
    }
}

impl<'a> PageWriter<'a> {
    /// [`PageWriter::body`] that keeps the page's borrow (for [`crate::overlay`]).
    pub(crate) fn into_body(self) -> LayerWriter<'a> {
        let existing = self.doc.pages.get(self.page).and_then(|p| {
            p.layers
                .iter()
                .position(|l| l.layer_type == LayerType::Body)
        });
        let page = self.page;
        let doc = self.doc;
        let layer = match existing {
            Some(layer) => layer,
            None => {
                let id = doc.alloc();
                match doc.pages.get_mut(page) {
                    Some(p) => {
                        p.layers.push(Layer {
                            id: Some(id),
                            layer_type: LayerType::Body,
                            draw_param: None,
                            objects: Vec::new(),
                        });
                        p.layers.len() - 1
                    }
                    None => 0,
                }
            }
        };
        LayerWriter { doc, page, layer }
    }
}

/// Adds graphic objects to one layer. Coordinates are page millimetres.
pub struct LayerWriter<'a> {
    doc: &'a mut DocumentWriter,
    page: usize,
    layer: usize,
}

impl LayerWriter<'_> {
    fn push_obj(&mut self, o: GraphicObject) -> Result<(), WriteError> {
        let l = self
            .doc
            .pages
            .get_mut(self.page)
            .and_then(|p| p.layers.get_mut(self.layer))
            .ok_or(WriteError::ForeignHandle("layer"))?;
        l.objects.push(o);
        Ok(())
    }

    fn slot(&mut self, f: FontRef) -> Result<&mut FontSlot, WriteError> {
        self.doc
            .fonts
            .get_mut(f.slot)
            .filter(|s| s.id == f.id)
            .ok_or(WriteError::ForeignHandle("font"))
    }

    /// Text on one line with its baseline starting at (`x`, `y`): glyphs from the font's cmap,
    /// `DeltaX` from the font's advances (plus `letter_spacing`). Returns the object's ID.
    pub fn text(
        &mut self,
        style: &TextStyle,
        x: f64,
        y: f64,
        text: &str,
    ) -> Result<Id, WriteError> {
        check_text("text", text)?;
        let slot = self.slot(style.font)?;
        let laid = slot.src.layout(text, style.size)?;
        let glyphs: Vec<Glyph> = laid
            .iter()
            .map(|(ch, g, adv)| Glyph {
                id: *g,
                text: ch.to_string(),
                advance: adv + style.letter_spacing,
            })
            .collect();
        self.glyph_run(style, x, y, &glyphs)
    }

    /// A shaped glyph run with its baseline starting at (`x`, `y`), e.g. from a layout
    /// engine. Glyphs whose characters the cmap maps to them are written as plain text;
    /// others get a `CGTransform` (R-4.1.6).
    ///
    /// Leading and trailing whitespace is not written (the run starts at its first visible
    /// glyph, at the same place): many readers trim the text content of `TextCode` as XML
    /// parsers commonly do, and would then apply `DeltaX` to the wrong characters (ofd-cli
    /// 0.3.0 does; `docs/interop.md`). A run of whitespace only is written as it is.
    pub fn glyph_run(
        &mut self,
        style: &TextStyle,
        x: f64,
        y: f64,
        glyphs: &[Glyph],
    ) -> Result<Id, WriteError> {
        let blank = |g: &Glyph| !g.text.is_empty() && g.text.chars().all(char::is_whitespace);
        let (glyphs, x) = match (
            glyphs.iter().position(|g| !blank(g)),
            glyphs.iter().rposition(|g| !blank(g)),
        ) {
            (Some(i), Some(j)) => (
                glyphs.get(i..=j).unwrap_or(glyphs),
                x + glyphs.iter().take(i).map(|g| g.advance).sum::<f64>(),
            ),
            _ => (glyphs, x),
        };
        if !(style.size.is_finite() && style.size > 0.0) {
            return Err(WriteError::Invalid {
                what: "font size",
                value: style.size.to_string(),
                why: "must be positive",
            });
        }
        let slot = self.slot(style.font)?;
        let (upem, asc, desc) = (
            f64::from(slot.src.units_per_em().max(1)),
            f64::from(slot.src.ascender()),
            f64::from(slot.src.descender()),
        );
        let font_name = slot.src.family_name().to_string();
        let count = slot.src.glyph_count();
        let face = slot.src.face();
        let mut text = String::new();
        let mut deltas: Vec<f64> = Vec::new();
        let mut cgs: Vec<CgTransform> = Vec::new();
        let mut width = 0.0;
        let mut pos: u32 = 0;
        // R-4.1.6: a visible character must not be written with an empty glyph (it would
        // display as a gap in every reader); glyphs without text carry no character. Checked
        // before anything is recorded, so a refused run leaves no trace.
        for g in glyphs {
            if let Some(ch) = g.text.chars().find(|c| crate::font::is_visible_char(*c))
                && g.id < count
                && !slot.src.glyph_has_outline(g.id)
            {
                return Err(FontError::BlankGlyph {
                    font: font_name,
                    ch,
                    code: u32::from(ch),
                }
                .into());
            }
        }
        for g in glyphs {
            if g.id >= count {
                return Err(FontError::BadGlyph {
                    font: font_name,
                    glyph: g.id,
                }
                .into());
            }
            check_text("glyph text", &g.text)?;
            // The glyph's characters: its text, or U+FFFD for a glyph without text.
            let chars = if g.text.is_empty() {
                "\u{FFFD}"
            } else {
                g.text.as_str()
            };
            let mut it = chars.chars();
            let single = it.next().filter(|_| it.next().is_none());
            // (`mapped` holds only pairs the cmap gave: a pair seen before needs no lookup.)
            let follows_cmap = match (&face, single) {
                (Some(f), Some(c)) => {
                    slot.mapped.get(&c) == Some(&g.id)
                        || f.glyph_index(c).map(|x| x.0) == Some(g.id)
                }
                _ => false,
            };
            let n = chars.chars().count() as u32;
            if follows_cmap {
                if let Some(c) = single {
                    slot.mapped.insert(c, g.id);
                }
            } else {
                cgs.push(CgTransform {
                    code_position: pos,
                    code_count: n,
                    glyph_count: 1,
                    glyphs: vec![g.id],
                });
            }
            slot.used.insert(g.id);
            text.push_str(chars);
            for i in 1..=n {
                deltas.push(if i == n { g.advance } else { 0.0 });
            }
            width += g.advance;
            pos += n;
        }
        let last_adv = deltas.pop().unwrap_or(0.0);
        let _ = last_adv;
        let (mut boundary, ascent, pad) =
            unrotated_text_box((upem, asc, desc), style.size, x, y, width);
        let mut ctm = None;
        if !style.rotation.is_finite() {
            return Err(WriteError::Invalid {
                what: "text rotation",
                value: style.rotation.to_string(),
                why: "must be finite",
            });
        }
        if style.rotation.rem_euclid(360.0) != 0.0 {
            // Object space is the unrotated box; turn it about the baseline origin (x, y)
            // and make the turned box's bounding box the Boundary.
            let (sin, cos) = style.rotation.to_radians().sin_cos();
            let m = Matrix::new(1.0, 0.0, 0.0, 1.0, -pad, -(ascent + pad))
                .then(&Matrix::new(cos, sin, -sin, cos, x, y));
            let (w, h) = (boundary.w, boundary.h);
            let pts = [
                m.apply(0.0, 0.0),
                m.apply(w, 0.0),
                m.apply(0.0, h),
                m.apply(w, h),
            ];
            let (x0, y0, x1, y1) = pts.iter().fold(
                (
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ),
                |(a, b, c, d), (px, py)| (a.min(*px), b.min(*py), c.max(*px), d.max(*py)),
            );
            boundary = Rect::new(x0, y0, x1 - x0, y1 - y0);
            ctm = Some(m.then(&Matrix::new(1.0, 0.0, 0.0, 1.0, -x0, -y0)));
        }
        let id = self.doc.alloc();
        let obj = TextObject {
            common: GraphicCommon {
                id: Some(id),
                visible: true,
                boundary,
                ctm,
                alpha: style.alpha,
                ..Default::default()
            },
            font: style.font.id,
            size: style.size,
            stroke: style.stroke.is_some(),
            fill: style.fill.is_some(),
            hscale: 1.0,
            read_direction: 0,
            char_direction: 0,
            weight: style.weight,
            italic: style.italic,
            fill_color: style.fill.clone(),
            stroke_color: style.stroke.clone(),
            codes: vec![TextCode {
                x: pad,
                y: ascent + pad,
                delta_x: deltas,
                delta_y: Vec::new(),
                text,
                cg_transforms: cgs,
            }],
        };
        self.push_obj(GraphicObject::Text(obj))?;
        Ok(id)
    }

    /// A path (page coordinates). Returns the object's ID.
    pub fn path(&mut self, path: &Path, style: &PathStyle) -> Result<Id, WriteError> {
        let Some(bbox) = path.bbox() else {
            return Err(WriteError::Invalid {
                what: "path",
                value: format!("{} operators", path.ops.len()),
                why: "empty or non-finite path",
            });
        };
        let lw = style.stroke.as_ref().map_or(0.0, |s| s.width.max(0.0));
        let pad = lw.max(0.01);
        let boundary = Rect::new(
            bbox.x - pad,
            bbox.y - pad,
            bbox.w + 2.0 * pad,
            bbox.h + 2.0 * pad,
        );
        let data = path.translated(boundary.x, boundary.y);
        let mut common = GraphicCommon {
            visible: true,
            boundary,
            alpha: style.alpha,
            ..Default::default()
        };
        if let Some(s) = &style.stroke {
            common.line_width = Some(s.width);
            common.cap = s.cap;
            common.join = s.join;
            if !s.dash.is_empty() {
                common.dash_pattern = s.dash.clone();
                common.dash_offset = (s.dash_offset != 0.0).then_some(s.dash_offset);
            }
        }
        if let Some(clip) = &style.clip {
            let cb = clip.bbox().unwrap_or(boundary);
            common.clips.push(Clip {
                areas: vec![ClipArea {
                    ctm: None,
                    path: PathObject {
                        common: GraphicCommon {
                            visible: true,
                            boundary: Rect::new(cb.x - boundary.x, cb.y - boundary.y, cb.w, cb.h),
                            ..Default::default()
                        },
                        stroke: false,
                        fill: true,
                        rule: FillRule::NonZero,
                        stroke_color: None,
                        fill_color: None,
                        data: clip.translated(cb.x, cb.y),
                    },
                }],
            });
        }
        let id = self.doc.alloc();
        common.id = Some(id);
        self.push_obj(GraphicObject::Path(PathObject {
            common,
            stroke: style.stroke.is_some(),
            fill: style.fill.is_some(),
            rule: style.rule,
            stroke_color: style.stroke.as_ref().map(|s| s.color.clone()),
            fill_color: style.fill.clone(),
            data,
        }))?;
        Ok(id)
    }

    /// An image drawn into `rect` (page mm): `Boundary=rect`, `CTM="w 0 0 h 0 0"`.
    pub fn image(&mut self, img: ImageRef, rect: Rect) -> Result<Id, WriteError> {
        if !self.doc.media.iter().any(|m| m.id == img.id) {
            return Err(WriteError::ForeignHandle("image"));
        }
        let id = self.doc.alloc();
        self.push_obj(GraphicObject::Image(ImageObject {
            common: GraphicCommon {
                id: Some(id),
                visible: true,
                boundary: rect,
                ctm: Some(Matrix::new(rect.w, 0.0, 0.0, rect.h, 0.0, 0.0)),
                ..Default::default()
            },
            resource_id: img.id,
            substitution: None,
            image_mask: None,
        }))?;
        Ok(id)
    }
}

impl LayerWriter<'_> {
    /// An image drawn into the parallelogram onto which `placement` maps the image's unit
    /// square (page coordinates, mm; y down, the image's top-left corner at (0, 0)), e.g.
    /// rotated or mirrored. The object's `Boundary` is the parallelogram's bounding box and
    /// its `CTM` the placement relative to it. `image(img, rect)` is the special case
    /// `Matrix::new(rect.w, 0, 0, rect.h, rect.x, rect.y)`.
    pub fn image_placed(&mut self, img: ImageRef, placement: Matrix) -> Result<Id, WriteError> {
        if !self.doc.media.iter().any(|m| m.id == img.id) {
            return Err(WriteError::ForeignHandle("image"));
        }
        let m = placement;
        let det = m.a * m.d - m.b * m.c;
        if ![m.a, m.b, m.c, m.d, m.e, m.f].iter().all(|v| v.is_finite()) || det.abs() < 1e-9 {
            return Err(WriteError::Invalid {
                what: "image placement",
                value: format!("{} {} {} {} {} {}", m.a, m.b, m.c, m.d, m.e, m.f),
                why: "must be finite and not flatten the image (non-zero determinant)",
            });
        }
        let corners = [
            m.apply(0.0, 0.0),
            m.apply(1.0, 0.0),
            m.apply(0.0, 1.0),
            m.apply(1.0, 1.0),
        ];
        let (x0, y0, x1, y1) = corners.iter().fold(
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            |(a, b, c, d), (x, y)| (a.min(*x), b.min(*y), c.max(*x), d.max(*y)),
        );
        let boundary = Rect::new(x0, y0, x1 - x0, y1 - y0);
        let id = self.doc.alloc();
        self.push_obj(GraphicObject::Image(ImageObject {
            common: GraphicCommon {
                id: Some(id),
                visible: true,
                boundary,
                ctm: Some(Matrix::new(m.a, m.b, m.c, m.d, m.e - x0, m.f - y0)),
                ..Default::default()
            },
            resource_id: img.id,
            substitution: None,
            image_mask: None,
        }))?;
        Ok(id)
    }
}

/// The `Boundary` the writer gives an unrotated text run of `width` mm whose baseline starts
/// at (`x`, `y`), with the font's (units per em, ascender, descender); also the ascent and the
/// padding used. Shared by [`LayerWriter::glyph_run`] and [`text_box`].
fn unrotated_text_box(
    (upem, asc, desc): (f64, f64, f64),
    size: f64,
    x: f64,
    y: f64,
    width: f64,
) -> (Rect, f64, f64) {
    let scale = size / upem;
    let ascent = (asc * scale).max(size * 0.8);
    let descent = (-desc * scale).max(size * 0.2);
    let pad = size * 0.25;
    (
        Rect::new(
            x - pad,
            y - ascent - pad,
            width.max(0.0) + 2.0 * pad,
            ascent + descent + 2.0 * pad,
        ),
        ascent,
        pad,
    )
}

/// The `Boundary` that [`LayerWriter::text`] will give `text` in `font` at `size` mm with its
/// baseline starting at (`x`, `y`) (no letter spacing, no rotation): lets a caller find free
/// room before writing (e.g. [`crate::overlay`]).
pub fn text_box(
    font: &FontSource,
    size: f64,
    x: f64,
    y: f64,
    text: &str,
) -> Result<Rect, WriteError> {
    let laid = font.layout(text, size)?;
    // As `glyph_run`: leading and trailing whitespace is not written.
    let visible = |g: &&(char, u16, f64)| !g.0.is_whitespace();
    let first = laid.iter().position(|g| visible(&g)).unwrap_or(0);
    let last = laid
        .iter()
        .rposition(|g| visible(&g))
        .unwrap_or(laid.len().saturating_sub(1));
    let x = x + laid.iter().take(first).map(|g| g.2).sum::<f64>();
    let width: f64 = laid
        .iter()
        .skip(first)
        .take(last + 1 - first.min(last + 1))
        .map(|g| g.2)
        .sum();
    let metrics = (
        f64::from(font.units_per_em().max(1)),
        f64::from(font.ascender()),
        f64::from(font.descender()),
    );
    Ok(unrotated_text_box(metrics, size, x, y, width).0)
}

fn png_size(d: &[u8]) -> (u32, u32) {
    let be = |o: usize| {
        d.get(o..o + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if d.get(12..16) == Some(b"IHDR") {
        (be(16), be(20))
    } else {
        (0, 0)
    }
}

fn jpeg_size(d: &[u8]) -> (u32, u32) {
    let mut i = 2usize;
    while let (Some(&m0), Some(&m1)) = (d.get(i), d.get(i + 1)) {
        if m0 != 0xFF {
            return (0, 0);
        }
        let len = d
            .get(i + 2..i + 4)
            .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        if matches!(m1, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            let h = d
                .get(i + 5..i + 7)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            let w = d
                .get(i + 7..i + 9)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            return (u32::from(w), u32::from(h));
        }
        if len < 2 {
            return (0, 0);
        }
        i += 2 + len;
    }
    (0, 0)
}

/// `to` as an `ST_Loc` written in the file `from`: relative when `to` is below `from`'s
/// directory, else absolute.
pub(crate) fn loc_from(from: &str, to: &str) -> String {
    let dir = crate::loc::dir_of(from);
    if dir.is_empty() {
        return to.to_string();
    }
    match to.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
        Some(rel) => rel.to_string(),
        None => format!("/{to}"),
    }
}

/// Serialises a whole model into a package. Every path in the model (page content, fonts,
/// images, tags, attachments) becomes an entry; fonts go to the first `PublicRes`, images,
/// draw parameters and colour spaces to the first `DocumentRes` (`BaseLoc="Res"` when the
/// files live there).
pub fn write_model(ofd: &Ofd) -> Result<Package, WriteError> {
    let mut pkg = Package::new();
    // OFD.xml
    let mut x = Xml::new();
    x.root(
        "OFD",
        &[
            ("Version", "1.0".to_string()),
            (
                "DocType",
                if ofd.doc_type.is_empty() {
                    "OFD".into()
                } else {
                    ofd.doc_type.clone()
                },
            ),
        ],
    );
    for body in &ofd.docs {
        x.open("DocBody", &[]);
        doc_info(&mut x, &body.info);
        x.leaf("DocRoot", &[], &body.doc_root);
        if let Some(s) = &body.signatures {
            x.leaf("Signatures", &[], s);
        }
        x.close("DocBody");
    }
    x.close("OFD");
    pkg.insert("OFD.xml", x.finish())?;

    for body in &ofd.docs {
        write_document(&mut pkg, &body.doc_root, &body.document)?;
    }
    Ok(pkg)
}

fn doc_info(x: &mut Xml, i: &DocInfo) {
    x.open("DocInfo", &[]);
    x.leaf("DocID", &[], &i.doc_id);
    x.opt_leaf("Title", i.title.as_deref());
    x.opt_leaf("Author", i.author.as_deref());
    x.opt_leaf("Subject", i.subject.as_deref());
    x.opt_leaf("Abstract", i.abstract_.as_deref());
    x.opt_leaf("CreationDate", i.creation_date.as_deref());
    x.opt_leaf("ModDate", i.mod_date.as_deref());
    x.opt_leaf("DocUsage", i.doc_usage.as_deref());
    if !i.keywords.is_empty() {
        x.open("Keywords", &[]);
        for k in &i.keywords {
            x.leaf("Keyword", &[], k);
        }
        x.close("Keywords");
    }
    x.opt_leaf("Creator", i.creator.as_deref());
    x.opt_leaf("CreatorVersion", i.creator_version.as_deref());
    if !i.custom_data.is_empty() {
        x.open("CustomDatas", &[]);
        for (k, v) in &i.custom_data {
            x.leaf("CustomData", &[("Name", k.clone())], v);
        }
        x.close("CustomDatas");
    }
    x.close("DocInfo");
}

pub(crate) fn res_file(
    pkg: &mut Package,
    path: &str,
    fonts: &[Font],
    media: &[MultiMedia],
    draw_params: &[DrawParam],
    color_spaces: &[ColorSpace],
) -> Result<(), WriteError> {
    let base_dir = format!("{}/Res", crate::loc::dir_of(path).trim_end_matches('/'))
        .trim_start_matches('/')
        .to_string();
    let rel = |file: &str| -> String {
        file.strip_prefix(base_dir.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .map_or_else(|| format!("/{file}"), str::to_string)
    };
    let mut x = Xml::new();
    x.root("Res", &[("BaseLoc", "Res".to_string())]);
    if !color_spaces.is_empty() {
        x.open("ColorSpaces", &[]);
        for c in color_spaces {
            let mut a: Attrs = vec![("ID", c.id.to_string()), ("Type", c.space_type.clone())];
            if c.bits_per_component != 8 {
                a.push(("BitsPerComponent", c.bits_per_component.to_string()));
            }
            x.empty("ColorSpace", &a);
        }
        x.close("ColorSpaces");
    }
    if !draw_params.is_empty() {
        x.open("DrawParams", &[]);
        for d in draw_params {
            xml_out::draw_param(&mut x, d);
        }
        x.close("DrawParams");
    }
    if !fonts.is_empty() {
        x.open("Fonts", &[]);
        for f in fonts {
            let mut a: Attrs = vec![("ID", f.id.to_string()), ("FontName", f.font_name.clone())];
            if let Some(fam) = &f.family_name {
                a.push(("FamilyName", fam.clone()));
            }
            if let Some(c) = &f.charset {
                a.push(("Charset", c.clone()));
            }
            for (flag, name) in [
                (f.italic, "Italic"),
                (f.bold, "Bold"),
                (f.serif, "Serif"),
                (f.fixed_width, "FixedWidth"),
            ] {
                if flag {
                    a.push((name, "true".into()));
                }
            }
            match (&f.file, &f.data) {
                (Some(file), Some(data)) => {
                    x.open("Font", &a);
                    x.leaf("FontFile", &[], &rel(file));
                    x.close("Font");
                    pkg.insert(file, data.clone())?;
                }
                _ => x.empty("Font", &a),
            }
        }
        x.close("Fonts");
    }
    if !media.is_empty() {
        x.open("MultiMedias", &[]);
        for m in media {
            let mut a: Attrs = vec![("ID", m.id.to_string()), ("Type", m.media_type.clone())];
            if let Some(f) = &m.format {
                a.push(("Format", f.as_attr().to_string()));
            }
            x.open("MultiMedia", &a);
            x.leaf("MediaFile", &[], &rel(&m.file));
            x.close("MultiMedia");
            pkg.insert(&m.file, m.data.clone())?;
        }
        x.close("MultiMedias");
    }
    x.close("Res");
    pkg.insert(path, x.finish())?;
    Ok(())
}

fn write_document(pkg: &mut Package, root: &str, d: &Document) -> Result<(), WriteError> {
    let mut x = Xml::new();
    x.root("Document", &[]);
    x.open("CommonData", &[]);
    let max = d.max_unit_id.unwrap_or(0);
    x.leaf("MaxUnitID", &[], &max.to_string());
    xml_out::page_area(&mut x, "PageArea", &d.page_area.unwrap_or_default());
    for p in &d.public_res {
        x.leaf("PublicRes", &[], &loc_from(root, p));
    }
    for p in &d.document_res {
        x.leaf("DocumentRes", &[], &loc_from(root, p));
    }
    for t in &d.templates {
        let mut a: Attrs = vec![("ID", t.id.to_string())];
        if let Some(n) = &t.name {
            a.push(("Name", n.clone()));
        }
        if let Some(z) = &t.z_order {
            a.push(("ZOrder", z.clone()));
        }
        a.push(("BaseLoc", loc_from(root, &t.content_path)));
        x.empty("TemplatePage", &a);
    }
    x.close("CommonData");
    x.open("Pages", &[]);
    for p in &d.pages {
        let mut a: Attrs = Vec::new();
        if let Some(id) = p.id {
            a.push(("ID", id.to_string()));
        }
        a.push(("BaseLoc", loc_from(root, &p.content_path)));
        x.empty("Page", &a);
    }
    x.close("Pages");
    let has_annots = d.pages.iter().any(|p| !p.annotations.is_empty());
    let annots_file = d
        .annotations_file
        .clone()
        .unwrap_or_else(|| format!("{}/Annots/Annotations.xml", crate::loc::dir_of(root)));
    if has_annots {
        x.leaf("Annotations", &[], &loc_from(root, &annots_file));
    }
    if let Some(f) = &d.custom_tags_file {
        x.leaf("CustomTags", &[], &loc_from(root, f));
    }
    if let Some(f) = &d.attachments_file {
        x.leaf("Attachments", &[], &loc_from(root, f));
    }
    x.close("Document");
    pkg.insert(root, x.finish())?;

    // Resource files: fonts in PublicRes, the rest in DocumentRes (or PublicRes if alone).
    let public = d.public_res.first();
    let document = d.document_res.first();
    match (public, document) {
        (Some(p), Some(q)) => {
            res_file(pkg, p, &d.fonts, &[], &[], &d.color_spaces)?;
            res_file(pkg, q, &[], &d.media, &d.draw_params, &[])?;
        }
        (Some(p), None) | (None, Some(p)) => {
            res_file(pkg, p, &d.fonts, &d.media, &d.draw_params, &d.color_spaces)?;
        }
        (None, None) => {
            if !(d.fonts.is_empty() && d.media.is_empty()) {
                return Err(WriteError::Invalid {
                    what: "Document",
                    value: root.to_string(),
                    why: "resources without a PublicRes or DocumentRes file",
                });
            }
        }
    }

    for t in &d.templates {
        pkg.insert(
            &t.content_path,
            xml_out::page_content(t.area.as_ref(), &[], &[], &t.layers),
        )?;
    }
    for p in &d.pages {
        let res: Vec<String> = p
            .page_res
            .iter()
            .map(|r| loc_from(&p.content_path, r))
            .collect();
        pkg.insert(
            &p.content_path,
            xml_out::page_content(p.area.as_ref(), &p.templates, &res, &p.layers),
        )?;
    }

    if has_annots {
        write_annotations(pkg, &annots_file, d)?;
    }
    if let Some(f) = &d.custom_tags_file {
        let mut x = Xml::new();
        x.root("CustomTags", &[]);
        for t in &d.custom_tags {
            custom_tag_entry(&mut x, f, t, false);
        }
        x.close("CustomTags");
        pkg.insert(f, x.finish())?;
        for t in &d.custom_tags {
            pkg.insert(&t.file, t.data.clone())?;
        }
    }
    if let Some(f) = &d.attachments_file {
        let mut x = Xml::new();
        x.root("Attachments", &[]);
        for a in &d.attachments {
            let mut at: Attrs = Vec::new();
            if let Some(id) = &a.id {
                at.push(("ID", id.clone()));
            }
            at.push(("Name", a.name.clone()));
            if let Some(v) = &a.format {
                at.push(("Format", v.clone()));
            }
            if let Some(v) = &a.creation_date {
                at.push(("CreationDate", v.clone()));
            }
            if let Some(v) = &a.mod_date {
                at.push(("ModDate", v.clone()));
            }
            if let Some(v) = a.size_kb {
                at.push(("Size", num(v)));
            }
            if !a.visible {
                at.push(("Visible", "false".into()));
            }
            if let Some(v) = &a.usage {
                at.push(("Usage", v.clone()));
            }
            x.open("Attachment", &at);
            x.leaf("FileLoc", &[], &loc_from(f, &a.file));
            x.close("Attachment");
        }
        x.close("Attachments");
        pkg.insert(f, x.finish())?;
        for a in &d.attachments {
            pkg.insert(&a.file, a.data.clone())?;
        }
    }
    Ok(())
}

/// One `CustomTag` entry of the custom tag list `list_file` (locations relative to it).
/// `declare_ns`: the element declares the `ofd` prefix (spliced into someone else's list).
pub(crate) fn custom_tag_entry(x: &mut Xml, list_file: &str, t: &CustomTag, declare_ns: bool) {
    let mut a: Attrs = Vec::new();
    if let Some(v) = &t.type_id {
        a.push(("TypeID", v.clone()));
    }
    if let Some(v) = &t.namespace {
        a.push(("NameSpace", v.clone()));
    }
    if declare_ns {
        x.root("CustomTag", &a);
    } else {
        x.open("CustomTag", &a);
    }
    if let Some(s) = &t.schema_loc {
        x.leaf("SchemaLoc", &[], &loc_from(list_file, s));
    }
    x.leaf("FileLoc", &[], &loc_from(list_file, &t.file));
    x.close("CustomTag");
}

/// The annotation index and one `PageAnnot` file per page (the file named in the
/// annotations' `file`, else `Page_N/Annotation.xml` beside the index).
fn write_annotations(pkg: &mut Package, index: &str, d: &Document) -> Result<(), WriteError> {
    let mut x = Xml::new();
    x.root("Annotations", &[]);
    for (n, p) in d.pages.iter().enumerate() {
        if p.annotations.is_empty() {
            continue;
        }
        let file = p
            .annotations
            .first()
            .map(|a| a.file.clone())
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| format!("{}/Page_{n}/Annotation.xml", crate::loc::dir_of(index)));
        let mut a: Attrs = Vec::new();
        if let Some(id) = p.id {
            a.push(("PageID", id.to_string()));
        }
        x.open("Page", &a);
        x.leaf("FileLoc", &[], &loc_from(index, &file));
        x.close("Page");
        let mut y = Xml::new();
        y.root("PageAnnot", &[]);
        for an in &p.annotations {
            let mut at: Attrs = Vec::new();
            if let Some(id) = an.id {
                at.push(("ID", id.to_string()));
            }
            at.push(("Type", an.annot_type.clone()));
            if let Some(v) = &an.creator {
                at.push(("Creator", v.clone()));
            }
            if let Some(v) = &an.last_mod_date {
                at.push(("LastModDate", v.clone()));
            }
            if !an.visible {
                at.push(("Visible", "false".into()));
            }
            if let Some(v) = &an.subtype {
                at.push(("Subtype", v.clone()));
            }
            if !an.print {
                at.push(("Print", "false".into()));
            }
            y.open("Annot", &at);
            if let Some(r) = &an.remark {
                y.leaf("Remark", &[], r);
            }
            if !an.parameters.is_empty() {
                y.open("Parameters", &[]);
                for (k, v) in &an.parameters {
                    y.leaf("Parameter", &[("Name", k.clone())], v);
                }
                y.close("Parameters");
            }
            if let Some(ap) = &an.appearance {
                y.open("Appearance", &[("Boundary", xml_out::rect(&ap.boundary))]);
                xml_out::objects(&mut y, &ap.objects);
                y.close("Appearance");
            }
            y.close("Annot");
        }
        y.close("PageAnnot");
        pkg.insert(&file, y.finish())?;
    }
    x.close("Annotations");
    pkg.insert(index, x.finish())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locs_are_relative_when_below() {
        assert_eq!(
            loc_from("Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml"),
            "Pages/Page_0/Content.xml"
        );
        assert_eq!(
            loc_from("Doc_0/Tags/CustomTags.xml", "Doc_0/Res/x"),
            "/Doc_0/Res/x"
        );
        assert_eq!(
            loc_from("OFD.xml", "Doc_0/Document.xml"),
            "Doc_0/Document.xml"
        );
    }

    #[test]
    fn dates_are_checked() {
        assert!(check_date("d", "2026-11-26", false).is_ok());
        assert!(check_date("d", "2026/11/26", false).is_err());
        assert!(check_date("d", "2026-11-26T10:00:00", true).is_ok());
        assert!(check_date("d", "2026-11-26 10:00:00", true).is_err());
        assert!(DocumentWriter::new(DocInfo::default()).is_err());
    }

    #[test]
    fn image_sizes_from_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 200]);
        assert_eq!(png_size(&png), (256, 200));
        let jpg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 50, 0, 70,
        ];
        assert_eq!(jpeg_size(&jpg), (70, 50));
        assert_eq!(jpeg_size(&[0xFF, 0xD8, 0xFF]), (0, 0));
    }
}
