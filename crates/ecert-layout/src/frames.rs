//! Typst's laid-out frames turned into a flat list of page objects in millimetres.
//!
//! Groups are flattened: every object carries the full map from its own coordinates to the
//! page (`parent · translate(pos) · group.transform`, the order typst-render uses) and the
//! clip paths of every enclosing group, already in page coordinates. Links are dropped (no
//! dynamic elements in a certificate, R-4.1.4); introspection tags are read only for the
//! reserved slots.

use std::collections::HashMap;
use std::ops::Range;

use typst::foundations::Smart;
use typst::foundations::Value;
use typst::introspection::Tag;
use typst::layout::{Abs, Frame, FrameItem, Point as TPoint, Transform};
use typst::text::{Font, TextItem};
use typst::visualize::{
    CurveItem, ExchangeFormat, FillRule, FixedStroke, Geometry, ImageKind, LineCap, LineJoin,
    Paint, RasterFormat, Shape,
};

use typst_layout::PagedDocument;

use crate::error::LayoutError;
use crate::geom::{Affine, MM_PER_PT, Point, Rect};

/// The label a template puts on a `metadata((name: …, width: …, height: …))` element to
/// reserve an empty area (see `templates/ecert.typ`, `slot`).
pub const SLOT_LABEL: &str = "ecert-slot";

/// An sRGB colour with alpha, 0–255 each.
pub type Rgba = [u8; 4];

/// One laid-out page.
#[derive(Debug, Clone)]
pub struct LaidPage {
    /// Page width in mm.
    pub width: f64,
    /// Page height in mm.
    pub height: f64,
    /// Objects in painting order.
    pub items: Vec<Item>,
}

/// A page object.
#[derive(Debug, Clone)]
pub enum Item {
    /// A run of glyphs in one font, size and colour.
    Text(GlyphRun),
    /// A filled and/or stroked path.
    Path(PathItem),
    /// A raster image.
    Image(ImageItem),
}

impl Item {
    /// The map from the object's coordinates to the page.
    pub fn transform(&self) -> &Affine {
        match self {
            Item::Text(t) => &t.transform,
            Item::Path(p) => &p.transform,
            Item::Image(i) => &i.transform,
        }
    }

    /// The clip paths of the enclosing groups, in page coordinates (all apply).
    pub fn clips(&self) -> &[Vec<Seg>] {
        match self {
            Item::Text(t) => &t.clips,
            Item::Path(p) => &p.clips,
            Item::Image(i) => &i.clips,
        }
    }
}

/// A glyph run: typst's shaped text with final positions.
#[derive(Debug, Clone)]
pub struct GlyphRun {
    /// Index into [`Layout::fonts`].
    pub font: usize,
    /// Font size in mm.
    pub size: f64,
    /// Fill colour.
    pub fill: Rgba,
    /// Object → page.
    pub transform: Affine,
    /// Clip paths (page coordinates).
    pub clips: Vec<Vec<Seg>>,
    /// The Unicode text the glyphs show.
    pub text: String,
    /// The glyphs, in order.
    pub glyphs: Vec<PlacedGlyph>,
}

/// One glyph with its origin (baseline) in the run's coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedGlyph {
    /// Glyph ID in the font as loaded (before any subsetting).
    pub id: u16,
    /// Origin x (mm), offsets folded in.
    pub x: f64,
    /// Origin y (mm, baseline), offsets folded in.
    pub y: f64,
    /// The glyph's own advance (mm), from which the next glyph's origin was computed.
    pub advance: f64,
    /// The characters (indices into [`GlyphRun::text`] counted in `char`s) this glyph shows.
    pub chars: Range<usize>,
}

/// A path segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seg {
    /// Start a subpath.
    Move(Point),
    /// Straight line.
    Line(Point),
    /// Cubic Bézier (two control points, end point).
    Cubic(Point, Point, Point),
    /// Close the subpath.
    Close,
}

impl Seg {
    /// The points of the segment.
    pub fn points(&self) -> impl Iterator<Item = Point> {
        let v: [Option<Point>; 3] = match *self {
            Seg::Move(p) | Seg::Line(p) => [Some(p), None, None],
            Seg::Cubic(a, b, c) => [Some(a), Some(b), Some(c)],
            Seg::Close => [None, None, None],
        };
        v.into_iter().flatten()
    }

    /// The segment mapped by `m`.
    pub fn transformed(&self, m: &Affine) -> Self {
        match *self {
            Seg::Move(p) => Seg::Move(m.apply(p)),
            Seg::Line(p) => Seg::Line(m.apply(p)),
            Seg::Cubic(a, b, c) => Seg::Cubic(m.apply(a), m.apply(b), m.apply(c)),
            Seg::Close => Seg::Close,
        }
    }
}

/// Line cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Butt.
    Butt,
    /// Round.
    Round,
    /// Square.
    Square,
}

/// Line join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Miter.
    Miter,
    /// Round.
    Round,
    /// Bevel.
    Bevel,
}

/// A stroke.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: Rgba,
    /// Width in mm (object coordinates).
    pub width: f64,
    /// Cap.
    pub cap: Cap,
    /// Join.
    pub join: Join,
    /// Miter limit (ratio).
    pub miter_limit: f64,
    /// Dash pattern (lengths in mm) and phase, if dashed.
    pub dash: Option<(Vec<f64>, f64)>,
}

/// A path.
#[derive(Debug, Clone)]
pub struct PathItem {
    /// Object → page.
    pub transform: Affine,
    /// Clip paths (page coordinates).
    pub clips: Vec<Vec<Seg>>,
    /// Segments in object coordinates (mm).
    pub segs: Vec<Seg>,
    /// Fill colour.
    pub fill: Option<Rgba>,
    /// Even–odd fill rule (otherwise non-zero).
    pub even_odd: bool,
    /// Stroke.
    pub stroke: Option<Stroke>,
}

/// Raster formats OFD takes as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

/// An image drawn into the rectangle (0, 0)–(width, height) of its coordinates.
#[derive(Debug, Clone)]
pub struct ImageItem {
    /// Object → page.
    pub transform: Affine,
    /// Clip paths (page coordinates).
    pub clips: Vec<Vec<Seg>>,
    /// Encoded image bytes.
    pub data: Vec<u8>,
    /// Format of `data`.
    pub format: ImageFormat,
    /// Drawn width in mm.
    pub width: f64,
    /// Drawn height in mm.
    pub height: f64,
}

/// An area the template left empty for the application, in page mm.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Its name (`code`, `seal`, …).
    pub name: String,
    /// Zero-based page index.
    pub page: usize,
    /// The area in page coordinates (mm, origin top left).
    pub rect: Rect,
}

/// The whole document as page objects.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Pages in order.
    pub pages: Vec<LaidPage>,
    /// Fonts the glyph runs use.
    pub fonts: Vec<Font>,
    /// Reserved areas found in the pages.
    pub slots: Vec<Slot>,
}

fn mm(a: Abs) -> f64 {
    a.to_pt() * MM_PER_PT
}

fn pt(p: TPoint) -> Point {
    Point::new(mm(p.x), mm(p.y))
}

fn affine(t: &Transform) -> Affine {
    Affine {
        a: t.sx.get(),
        b: t.ky.get(),
        c: t.kx.get(),
        d: t.sy.get(),
        e: mm(t.tx),
        f: mm(t.ty),
    }
}

fn color(paint: &Paint, what: &str) -> Result<Rgba, LayoutError> {
    match paint {
        Paint::Solid(c) => Ok(c.to_vec4_u8()),
        Paint::Gradient(_) => Err(LayoutError::Unsupported(format!("a gradient ({what})"))),
        Paint::Tiling(_) => Err(LayoutError::Unsupported(format!("a tiling ({what})"))),
    }
}

struct Walker {
    fonts: Vec<Font>,
    font_index: HashMap<Font, usize>,
    slots: Vec<Slot>,
    page: usize,
}

/// Flatten a laid-out document (R-4.1.4: links are dropped).
pub fn flatten(doc: &PagedDocument) -> Result<Layout, LayoutError> {
    let mut w = Walker {
        fonts: Vec::new(),
        font_index: HashMap::new(),
        slots: Vec::new(),
        page: 0,
    };
    let mut pages = Vec::new();
    for (i, page) in doc.pages().iter().enumerate() {
        w.page = i;
        let size = page.frame.size();
        let mut items = Vec::new();
        if let Smart::Custom(Some(fill)) = &page.fill {
            let c = color(fill, "page fill")?;
            if c[3] != 0 && c != [255, 255, 255, 255] {
                items.push(Item::Path(PathItem {
                    transform: Affine::IDENTITY,
                    clips: Vec::new(),
                    segs: rect_segs(mm(size.x), mm(size.y)),
                    fill: Some(c),
                    even_odd: false,
                    stroke: None,
                }));
            }
        }
        w.walk(&page.frame, &Affine::IDENTITY, &[], &mut items)?;
        pages.push(LaidPage {
            width: mm(size.x),
            height: mm(size.y),
            items,
        });
    }
    Ok(Layout {
        pages,
        fonts: w.fonts,
        slots: w.slots,
    })
}

fn rect_segs(w: f64, h: f64) -> Vec<Seg> {
    vec![
        Seg::Move(Point::new(0.0, 0.0)),
        Seg::Line(Point::new(w, 0.0)),
        Seg::Line(Point::new(w, h)),
        Seg::Line(Point::new(0.0, h)),
        Seg::Close,
    ]
}

fn curve_segs(items: &[CurveItem]) -> Vec<Seg> {
    items
        .iter()
        .map(|it| match it {
            CurveItem::Move(p) => Seg::Move(pt(*p)),
            CurveItem::Line(p) => Seg::Line(pt(*p)),
            CurveItem::Cubic(a, b, c) => Seg::Cubic(pt(*a), pt(*b), pt(*c)),
            CurveItem::Close => Seg::Close,
        })
        .collect()
}

impl Walker {
    fn walk(
        &mut self,
        frame: &Frame,
        ts: &Affine,
        clips: &[Vec<Seg>],
        out: &mut Vec<Item>,
    ) -> Result<(), LayoutError> {
        for (pos, item) in frame.items() {
            let here = ts.then_after(&Affine::translate(mm(pos.x), mm(pos.y)));
            match item {
                FrameItem::Group(g) => {
                    let inner = here.then_after(&affine(&g.transform));
                    let mut cl = clips.to_vec();
                    if let Some(c) = &g.clip {
                        cl.push(
                            curve_segs(&c.0)
                                .iter()
                                .map(|s| s.transformed(&inner))
                                .collect(),
                        );
                    }
                    self.walk(&g.frame, &inner, &cl, out)?;
                }
                FrameItem::Text(t) => out.push(Item::Text(self.text(t, ts, *pos, clips)?)),
                FrameItem::Shape(s, _) => out.push(Item::Path(shape(s, here, clips)?)),
                FrameItem::Image(img, size, _) => {
                    let (format, data) = match img.kind() {
                        ImageKind::Raster(r) => match r.format() {
                            RasterFormat::Exchange(ExchangeFormat::Png) => {
                                (ImageFormat::Png, r.data().to_vec())
                            }
                            RasterFormat::Exchange(ExchangeFormat::Jpg) => {
                                (ImageFormat::Jpeg, r.data().to_vec())
                            }
                            other => {
                                return Err(LayoutError::Unsupported(format!(
                                    "a raster image in format {other:?} (use PNG or JPEG)"
                                )));
                            }
                        },
                        ImageKind::Svg(_) => {
                            return Err(LayoutError::Unsupported(
                                "an SVG image (use PNG or JPEG)".into(),
                            ));
                        }
                        ImageKind::Pdf(_) => {
                            return Err(LayoutError::Unsupported(
                                "a PDF image (use PNG or JPEG)".into(),
                            ));
                        }
                    };
                    out.push(Item::Image(ImageItem {
                        transform: here,
                        clips: clips.to_vec(),
                        data,
                        format,
                        width: mm(size.x),
                        height: mm(size.y),
                    }));
                }
                // no dynamic elements; a link's text stays, the link goes.
                FrameItem::Link(..) => {}
                FrameItem::Tag(Tag::Start(content, _)) => {
                    if content
                        .label()
                        .is_some_and(|l| l.resolve().as_str() == SLOT_LABEL)
                    {
                        self.slot(content.get_by_name("value").ok(), &here)?;
                    }
                }
                FrameItem::Tag(_) => {}
            }
        }
        Ok(())
    }

    fn slot(&mut self, value: Option<Value>, at: &Affine) -> Result<(), LayoutError> {
        let bad = || {
            LayoutError::Template(format!(
                "a <{SLOT_LABEL}> must label metadata((name: str, width: mm number, height: mm number))"
            ))
        };
        let Some(Value::Dict(d)) = value else {
            return Err(bad());
        };
        let name = match d.get("name") {
            Ok(Value::Str(s)) => s.to_string(),
            _ => return Err(bad()),
        };
        let num = |k: &str| match d.get(k) {
            Ok(Value::Int(i)) => Ok(*i as f64),
            Ok(Value::Float(f)) => Ok(*f),
            _ => Err(bad()),
        };
        let (w, h) = (num("width")?, num("height")?);
        let rect = Rect::new(0.0, 0.0, w, h).transformed(at);
        self.slots.push(Slot {
            name,
            page: self.page,
            rect,
        });
        Ok(())
    }

    fn text(
        &mut self,
        t: &TextItem,
        ts: &Affine,
        pos: TPoint,
        clips: &[Vec<Seg>],
    ) -> Result<GlyphRun, LayoutError> {
        let font = t.font.font().clone();
        let size = mm(t.size);
        // Byte offset → char index, for the clusters.
        let text = t.text.as_str();
        let mut char_at: Vec<usize> = Vec::with_capacity(text.len() + 1);
        let mut n = 0usize;
        for (i, _) in text.char_indices() {
            while char_at.len() <= i {
                char_at.push(n);
            }
            n += 1;
        }
        while char_at.len() <= text.len() {
            char_at.push(n);
        }
        let to_char = |b: usize| char_at.get(b).copied().unwrap_or(n);
        let (x0, y0) = (mm(pos.x), mm(pos.y));
        let (mut ax, mut ay) = (0.0f64, 0.0f64);
        let mut glyphs = Vec::with_capacity(t.glyphs.len());
        for g in &t.glyphs {
            let r = g.range();
            if g.id == 0 {
                let shown: String = text.get(r.clone()).unwrap_or("").to_string();
                return Err(LayoutError::MissingGlyph {
                    chars: shown,
                    font: font.info().family.clone(),
                    page: self.page + 1,
                    context: text.to_string(),
                });
            }
            let x = x0 + ax + size * g.x_offset.get();
            let y = y0 - (ay + size * g.y_offset.get());
            glyphs.push(PlacedGlyph {
                id: g.id,
                x,
                y,
                advance: size * g.x_advance.get(),
                chars: to_char(r.start)..to_char(r.end),
            });
            ax += size * g.x_advance.get();
            ay += size * g.y_advance.get();
        }
        let idx = match self.font_index.get(&font) {
            Some(i) => *i,
            None => {
                self.fonts.push(font.clone());
                self.font_index.insert(font, self.fonts.len() - 1);
                self.fonts.len() - 1
            }
        };
        Ok(GlyphRun {
            font: idx,
            size,
            fill: color(&t.fill, "text")?,
            transform: *ts,
            clips: clips.to_vec(),
            text: text.to_string(),
            glyphs,
        })
    }
}

fn stroke(s: &FixedStroke) -> Result<Stroke, LayoutError> {
    Ok(Stroke {
        color: color(&s.paint, "stroke")?,
        width: mm(s.thickness),
        cap: match s.cap {
            LineCap::Butt => Cap::Butt,
            LineCap::Round => Cap::Round,
            LineCap::Square => Cap::Square,
        },
        join: match s.join {
            LineJoin::Miter => Join::Miter,
            LineJoin::Round => Join::Round,
            LineJoin::Bevel => Join::Bevel,
        },
        miter_limit: s.miter_limit.get(),
        dash: s
            .dash
            .as_ref()
            .map(|d| (d.array.iter().map(|a| mm(*a)).collect(), mm(d.phase))),
    })
}

fn shape(s: &Shape, here: Affine, clips: &[Vec<Seg>]) -> Result<PathItem, LayoutError> {
    let segs = match &s.geometry {
        Geometry::Line(p) => vec![Seg::Move(Point::default()), Seg::Line(pt(*p))],
        Geometry::Rect(size) => rect_segs(mm(size.x), mm(size.y)),
        Geometry::Curve(c) => curve_segs(&c.0),
    };
    Ok(PathItem {
        transform: here,
        clips: clips.to_vec(),
        segs,
        fill: s.fill.as_ref().map(|p| color(p, "fill")).transpose()?,
        even_odd: s.fill_rule == FillRule::EvenOdd,
        stroke: s.stroke.as_ref().map(stroke).transpose()?,
    })
}
