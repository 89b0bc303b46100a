//! Drawing the model's graphic objects onto a tiny-skia pixmap.

use super::fonts::{FaceKey, GlyphCache};
use super::{RenderOptions, RenderReport, image};
use crate::arc;
use crate::model::*;
use std::collections::HashMap;
use tiny_skia::{
    FillRule as SkRule, Mask, Paint, PathBuilder, Pixmap, PixmapPaint, Shader, Stroke, StrokeDash,
    Transform,
};

/// Default `LineWidth` (clause 8.5, table 33): 0.353 mm.
const DEFAULT_LINE_WIDTH: f64 = 0.353;
/// Default `MiterLimit`: 3.528.
const DEFAULT_MITER: f64 = 3.528;
/// Deepest `PageBlock` nesting drawn.
const MAX_DEPTH: usize = 64;
/// Most objects per page clipped by `Clips` paths (each needs a page-sized mask).
const MAX_PATH_MASKS: usize = 2000;
/// Clipping work per page, in page areas (mask pixels written and cleared).
const MASK_BUDGET: f64 = 100.0;
/// Painted area per page, in page areas (sum of the objects' visible bounding boxes).
const PAINT_BUDGET: f64 = 1000.0;

/// How one object is clipped.
enum Clipping {
    /// Not at all (it lies inside its clip rectangle).
    None,
    /// By the page's shared rectangle mask, filled with this rectangle.
    Shared(PxRect),
    /// By a mask of its own.
    Own(Mask),
}

fn to_sk(m: &Matrix) -> Transform {
    Transform::from_row(
        m.a as f32, m.b as f32, m.c as f32, m.d as f32, m.e as f32, m.f as f32,
    )
}

fn translate(x: f64, y: f64) -> Matrix {
    Matrix::new(1.0, 0.0, 0.0, 1.0, x, y)
}

fn usable(m: &Matrix) -> bool {
    let det = m.a * m.d - m.b * m.c;
    [m.a, m.b, m.c, m.d, m.e, m.f]
        .iter()
        .all(|v| v.is_finite() && v.abs() < 1e9)
        && det.is_finite()
        && det.abs() > 1e-12
}

/// Pixel-space axis-aligned rectangle (left, top, right, bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
struct PxRect {
    l: f64,
    t: f64,
    r: f64,
    b: f64,
}

impl PxRect {
    fn of(m: &Matrix, r: &Rect) -> PxRect {
        let pts = [
            m.apply(r.x, r.y),
            m.apply(r.x + r.w, r.y),
            m.apply(r.x, r.y + r.h),
            m.apply(r.x + r.w, r.y + r.h),
        ];
        let mut out = PxRect {
            l: f64::MAX,
            t: f64::MAX,
            r: f64::MIN,
            b: f64::MIN,
        };
        for (x, y) in pts {
            out.l = out.l.min(x);
            out.t = out.t.min(y);
            out.r = out.r.max(x);
            out.b = out.b.max(y);
        }
        out
    }
    fn intersect(&self, o: &PxRect) -> PxRect {
        PxRect {
            l: self.l.max(o.l),
            t: self.t.max(o.t),
            r: self.r.min(o.r),
            b: self.b.min(o.b),
        }
    }
    fn union(&self, o: &PxRect) -> PxRect {
        PxRect {
            l: self.l.min(o.l),
            t: self.t.min(o.t),
            r: self.r.max(o.r),
            b: self.b.max(o.b),
        }
    }
    fn empty(&self) -> bool {
        !(self.r > self.l && self.b > self.t)
    }
    fn contains(&self, o: &PxRect) -> bool {
        o.l >= self.l - 0.01 && o.t >= self.t - 0.01 && o.r <= self.r + 0.01 && o.b <= self.b + 0.01
    }
    fn outset(&self, d: f64) -> PxRect {
        PxRect {
            l: self.l - d,
            t: self.t - d,
            r: self.r + d,
            b: self.b + d,
        }
    }
    /// Finite and within ±10⁸ pixels: safe to hand to the rasteriser (whose f32 arithmetic
    /// overflows, and asserts, on larger coordinates).
    fn sane(&self) -> bool {
        [self.l, self.t, self.r, self.b]
            .iter()
            .all(|v| v.is_finite() && v.abs() < 1e8)
    }
    fn path(&self) -> Option<tiny_skia::Path> {
        let r =
            tiny_skia::Rect::from_ltrb(self.l as f32, self.t as f32, self.r as f32, self.b as f32)?;
        Some(PathBuilder::from_rect(r))
    }
}

/// Bounding box of `path` (its own coordinates) under `t`.
fn bounds_under(path: &tiny_skia::Path, t: &Matrix) -> PxRect {
    let b = path.bounds();
    PxRect::of(
        t,
        &Rect::new(
            f64::from(b.x()),
            f64::from(b.y()),
            f64::from(b.width()),
            f64::from(b.height()),
        ),
    )
}

/// Where objects are drawn: container space → pixels, the inherited clip, the layer's
/// drawing parameter.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    m: Matrix,
    clip: PxRect,
    layer_dp: Option<Id>,
}

/// Resolved stroke and fill parameters of an object.
struct Style {
    line_width: f64,
    cap: LineCap,
    join: LineJoin,
    miter: f64,
    dash: Vec<f64>,
    dash_offset: f64,
    fill: Option<Color>,
    stroke: Option<Color>,
}

/// One page being rendered.
pub(crate) struct PageRenderer<'a> {
    doc: &'a Document,
    pix: Pixmap,
    page_m: Matrix,
    opts: &'a RenderOptions,
    report: RenderReport,
    embedded: HashMap<u32, Option<ttf_parser::Face<'a>>>,
    fallback: Vec<ttf_parser::Face<'a>>,
    glyphs: GlyphCache,
    images: HashMap<u32, Option<Pixmap>>,
    rect_mask: Option<Mask>,
    path_masks: usize,
    mask_work: f64,
    paint_work: f64,
    path_ops: usize,
    glyph_count: usize,
    objects: usize,
    stopped: bool,
}

impl<'a> PageRenderer<'a> {
    pub(crate) fn new(doc: &'a Document, pix: Pixmap, bx: Rect, opts: &'a RenderOptions) -> Self {
        let s = opts.dpi / 25.4;
        let page_m = translate(-bx.x, -bx.y).then(&Matrix::new(s, 0.0, 0.0, s, 0.0, 0.0));
        let fallback = opts
            .fallback
            .as_deref()
            .map(|f| {
                f.faces
                    .iter()
                    .filter_map(|ff| ttf_parser::Face::parse(&ff.data, ff.index).ok())
                    .collect()
            })
            .unwrap_or_default();
        PageRenderer {
            doc,
            pix,
            page_m,
            opts,
            report: RenderReport::default(),
            embedded: HashMap::new(),
            fallback,
            glyphs: GlyphCache::default(),
            images: HashMap::new(),
            rect_mask: None,
            path_masks: 0,
            mask_work: 0.0,
            paint_work: 0.0,
            path_ops: 0,
            glyph_count: 0,
            objects: 0,
            stopped: false,
        }
    }

    pub(crate) fn finish(self) -> (Pixmap, RenderReport) {
        (self.pix, self.report)
    }

    fn full_clip(&self) -> PxRect {
        PxRect {
            l: 0.0,
            t: 0.0,
            r: f64::from(self.pix.width()),
            b: f64::from(self.pix.height()),
        }
    }

    fn stop(&mut self, what: &str) {
        if !self.stopped {
            self.report.skip(format!(
                "limit reached: {what}; the rest of the page is not drawn"
            ));
        }
        self.report.truncated = true;
        self.stopped = true;
    }

    pub(crate) fn page(&mut self, page: &'a Page) {
        let doc = self.doc;
        let base = Ctx {
            m: self.page_m,
            clip: self.full_clip(),
            layer_dp: None,
        };
        let mut bg = Vec::new();
        let mut fg = Vec::new();
        for t in &page.templates {
            match doc.template(t.template_id) {
                Some(tp) => {
                    let z = t.z_order.as_deref().or(tp.z_order.as_deref());
                    if z == Some("Foreground") {
                        fg.push(tp);
                    } else {
                        bg.push(tp);
                    }
                }
                None => self
                    .report
                    .skip(format!("template {} not found", t.template_id)),
            }
        }
        for tp in bg {
            self.layers(&tp.layers, base);
        }
        self.layers(&page.layers, base);
        for tp in fg {
            self.layers(&tp.layers, base);
        }
        if self.opts.annotations {
            for a in &page.annotations {
                if !a.visible {
                    continue;
                }
                let Some(ap) = &a.appearance else { continue };
                let m = translate(ap.boundary.x, ap.boundary.y).then(&self.page_m);
                let mut clip = base.clip;
                if ap.boundary.w > 0.0 && ap.boundary.h > 0.0 {
                    clip = clip.intersect(&PxRect::of(&self.page_m, &ap.boundary));
                }
                let ctx = Ctx {
                    m,
                    clip,
                    layer_dp: None,
                };
                self.objects(&ap.objects, ctx, 0);
            }
        }
    }

    fn layers(&mut self, layers: &'a [Layer], base: Ctx) {
        let rank = |t: LayerType| match t {
            LayerType::Background => 0,
            LayerType::Body | LayerType::Custom => 1,
            LayerType::Foreground => 2,
        };
        let mut order: Vec<&Layer> = layers.iter().collect();
        order.sort_by_key(|l| rank(l.layer_type));
        for l in order {
            let ctx = Ctx {
                layer_dp: l.draw_param,
                ..base
            };
            self.objects(&l.objects, ctx, 0);
        }
    }

    fn objects(&mut self, objs: &'a [GraphicObject], ctx: Ctx, depth: usize) {
        for o in objs {
            if self.stopped {
                return;
            }
            self.objects += 1;
            if self.objects > self.opts.limits.max_objects {
                self.stop("graphic objects");
                return;
            }
            match o {
                GraphicObject::Block(b) => {
                    if depth < MAX_DEPTH {
                        self.objects(&b.objects, ctx, depth + 1);
                    }
                }
                GraphicObject::Composite(_) => self
                    .report
                    .skip("CompositeObject (composite graphic units are not expanded)"),
                GraphicObject::Text(t) => self.text(t, ctx),
                GraphicObject::Path(p) => self.path(p, ctx),
                GraphicObject::Image(i) => self.image(i, ctx),
            }
        }
    }

    /// Object space → pixels, and the object's clip rectangle; `None` if nothing can show.
    fn placement(&mut self, c: &GraphicCommon, ctx: &Ctx) -> Option<(Matrix, PxRect)> {
        if !c.visible {
            return None;
        }
        let b = c.boundary;
        let m = c
            .ctm
            .unwrap_or(Matrix::IDENTITY)
            .then(&translate(b.x, b.y))
            .then(&ctx.m);
        if !usable(&m) {
            self.report
                .skip("object with a degenerate or non-finite CTM");
            return None;
        }
        let mut clip = ctx.clip;
        // A missing or empty Boundary (sloppy files) does not hide the object.
        if let Some(b) = crate::extent::clip_box(c) {
            clip = clip.intersect(&PxRect::of(&ctx.m, &b));
        }
        (!clip.empty()).then_some((m, clip))
    }

    /// How an object whose drawing covers `bounds` is clipped; `Err` when nothing is visible.
    ///
    /// A clip that is only the (axis-aligned) boundary rectangle uses one mask shared by the
    /// whole page, cleared again over just that rectangle after use, so clipping costs the
    /// rectangle's area, not the page's. `Clips` paths need a mask of their own: at most
    /// [`MAX_PATH_MASKS`] per page.
    fn mask(
        &mut self,
        c: &GraphicCommon,
        ctx: &Ctx,
        clip: PxRect,
        bounds: PxRect,
    ) -> Result<Clipping, ()> {
        if bounds.intersect(&clip).empty() {
            return Err(());
        }
        // The pixmap clips to itself: only the part of the drawing on the page matters.
        let visible = bounds.intersect(&self.full_clip());
        // Budget: painted area per page at most PAINT_BUDGET page areas (a page of many
        // page-sized objects cannot take hours).
        let (w, h) = (self.pix.width(), self.pix.height());
        let page_area = f64::from(w) * f64::from(h);
        self.paint_work += (visible.r - visible.l).max(0.0) * (visible.b - visible.t).max(0.0);
        if self.paint_work > PAINT_BUDGET * page_area {
            self.stop("painted area");
            return Err(());
        }
        if c.clips.is_empty() && clip.contains(&visible) {
            return Ok(Clipping::None);
        }
        // Budget: masking work per page at most MASK_BUDGET page areas, so that a page of
        // many clipped objects cannot take quadratic time.
        let area = if c.clips.is_empty() {
            (clip.r - clip.l).max(0.0) * (clip.b - clip.t).max(0.0) * 2.0
        } else {
            f64::from(w) * f64::from(h) * (2.0 + c.clips.len() as f64)
        };
        self.mask_work += area;
        if self.mask_work > MASK_BUDGET * page_area {
            self.stop("clipping work");
            return Err(());
        }
        let rect = clip.path().ok_or(())?;
        if c.clips.is_empty() {
            let shared = match self.rect_mask.as_mut() {
                Some(m) => m,
                None => self.rect_mask.insert(Mask::new(w, h).ok_or(())?),
            };
            shared.fill_path(&rect, SkRule::Winding, true, Transform::identity());
            return Ok(Clipping::Shared(clip));
        }
        self.path_masks += 1;
        if self.path_masks > MAX_PATH_MASKS {
            self.report.skip(format!(
                "more than {MAX_PATH_MASKS} clip paths on the page: objects skipped"
            ));
            self.report.truncated = true;
            return Err(());
        }
        let mut mask = Mask::new(w, h).ok_or(())?;
        mask.fill_path(&rect, SkRule::Winding, true, Transform::identity());
        // Clip coordinates are relative to the object's Boundary (clause 8.4).
        let bm = translate(c.boundary.x, c.boundary.y).then(&ctx.m);
        for clip in &c.clips {
            let mut union: Option<Mask> = None;
            for area in &clip.areas {
                let p = &area.path;
                let am = p
                    .common
                    .ctm
                    .unwrap_or(Matrix::IDENTITY)
                    .then(&translate(p.common.boundary.x, p.common.boundary.y))
                    .then(&area.ctm.unwrap_or(Matrix::IDENTITY))
                    .then(&bm);
                if !usable(&am) {
                    continue;
                }
                let Some(path) = self.build_path(&p.data) else {
                    continue;
                };
                if !bounds_under(&path, &am).sane() {
                    continue;
                }
                let rule = match p.rule {
                    FillRule::NonZero => SkRule::Winding,
                    FillRule::EvenOdd => SkRule::EvenOdd,
                };
                let u = match union.as_mut() {
                    Some(u) => u,
                    None => union.insert(Mask::new(w, h).ok_or(())?),
                };
                u.fill_path(&path, rule, true, to_sk(&am));
            }
            match union {
                Some(u) => {
                    for (d, s) in mask.data_mut().iter_mut().zip(u.data()) {
                        *d = ((u16::from(*d) * u16::from(*s) + 127) / 255) as u8;
                    }
                }
                // A clip with no usable area clips everything away.
                None => return Err(()),
            }
        }
        Ok(Clipping::Own(mask))
    }

    /// The mask to draw with.
    fn mask_ref<'m>(rect_mask: &'m Option<Mask>, c: &'m Clipping) -> Option<&'m Mask> {
        match c {
            Clipping::None => None,
            Clipping::Shared(_) => rect_mask.as_ref(),
            Clipping::Own(m) => Some(m),
        }
    }

    /// Clears the shared mask after use.
    fn release(&mut self, c: Clipping) {
        if let (Clipping::Shared(r), Some(m)) = (c, self.rect_mask.as_mut()) {
            let w = m.width() as usize;
            let h = m.height() as usize;
            let x0 = (r.l.floor().max(0.0) as usize).min(w);
            let x1 = ((r.r.ceil() + 1.0).max(0.0) as usize).min(w);
            let y0 = (r.t.floor().max(0.0) as usize).min(h);
            let y1 = ((r.b.ceil() + 1.0).max(0.0) as usize).min(h);
            let data = m.data_mut();
            for y in y0..y1 {
                if let Some(row) = data.get_mut(y * w + x0..y * w + x1) {
                    row.fill(0);
                }
            }
        }
    }

    fn draw_params(&self, start: Option<Id>) -> Vec<&'a DrawParam> {
        let doc = self.doc;
        let mut out: Vec<&'a DrawParam> = Vec::new();
        let mut cur = start;
        while let Some(id) = cur {
            if out.len() >= 16 || out.iter().any(|d| d.id == id) {
                break;
            }
            match doc.draw_param(id) {
                Some(dp) => {
                    out.push(dp);
                    cur = dp.relative;
                }
                None => break,
            }
        }
        out
    }

    fn style(
        &self,
        c: &GraphicCommon,
        ctx: &Ctx,
        fill: Option<&Color>,
        stroke: Option<&Color>,
    ) -> Style {
        let mut dps = self.draw_params(c.draw_param);
        dps.extend(self.draw_params(ctx.layer_dp));
        let pick = |own: Option<f64>, f: &dyn Fn(&DrawParam) -> Option<f64>| {
            own.or_else(|| dps.iter().find_map(|d| f(d)))
        };
        Style {
            line_width: pick(c.line_width, &|d| d.line_width).unwrap_or(DEFAULT_LINE_WIDTH),
            miter: pick(c.miter_limit, &|d| d.miter_limit).unwrap_or(DEFAULT_MITER),
            dash_offset: pick(c.dash_offset, &|d| d.dash_offset).unwrap_or(0.0),
            cap: c
                .cap
                .or_else(|| dps.iter().find_map(|d| d.cap))
                .unwrap_or(LineCap::Butt),
            join: c
                .join
                .or_else(|| dps.iter().find_map(|d| d.join))
                .unwrap_or(LineJoin::Miter),
            dash: if c.dash_pattern.is_empty() {
                dps.iter()
                    .find(|d| !d.dash_pattern.is_empty())
                    .map(|d| d.dash_pattern.clone())
                    .unwrap_or_default()
            } else {
                c.dash_pattern.clone()
            },
            fill: fill
                .cloned()
                .or_else(|| dps.iter().find_map(|d| d.fill_color.clone())),
            stroke: stroke
                .cloned()
                .or_else(|| dps.iter().find_map(|d| d.stroke_color.clone())),
        }
    }

    /// A paint for `color` with the object's alpha; `None` for colours we cannot draw.
    fn paint(&mut self, color: &Color, obj_alpha: Option<u8>) -> Option<Paint<'static>> {
        let mut color = color.clone();
        if let Some(cs) = color
            .color_space
            .and_then(|id| self.doc.color_spaces.iter().find(|c| c.id == id))
        {
            let bpc = cs.bits_per_component;
            if bpc != 8 && (1..=16).contains(&bpc) {
                let max = f64::from((1u32 << bpc) - 1);
                for v in &mut color.value {
                    *v = *v * 255.0 / max;
                }
            }
        }
        let Some([r, g, b]) = color.to_rgb8() else {
            self.report
                .skip("indexed or pattern colour (drawn as no colour)");
            return None;
        };
        let a = (u16::from(color.alpha) * u16::from(obj_alpha.unwrap_or(255)) + 127) / 255;
        let mut p = Paint {
            anti_alias: self.opts.anti_alias,
            ..Default::default()
        };
        p.shader = Shader::SolidColor(tiny_skia::Color::from_rgba8(r, g, b, a as u8));
        Some(p)
    }

    fn sk_stroke(&self, s: &Style) -> Stroke {
        let fin = |v: f64, default: f64| if v.is_finite() { v } else { default };
        let mut st = Stroke {
            width: fin(s.line_width, DEFAULT_LINE_WIDTH).clamp(0.0, 1e6) as f32,
            miter_limit: fin(s.miter, DEFAULT_MITER).clamp(1.0, 1e3) as f32,
            line_cap: match s.cap {
                LineCap::Butt => tiny_skia::LineCap::Butt,
                LineCap::Round => tiny_skia::LineCap::Round,
                LineCap::Square => tiny_skia::LineCap::Square,
            },
            line_join: match s.join {
                LineJoin::Miter => tiny_skia::LineJoin::Miter,
                LineJoin::Round => tiny_skia::LineJoin::Round,
                LineJoin::Bevel => tiny_skia::LineJoin::Bevel,
            },
            dash: None,
        };
        if !s.dash.is_empty() && s.dash.iter().all(|v| v.is_finite() && *v >= 0.0) {
            let mut pat: Vec<f32> = s.dash.iter().map(|v| *v as f32).collect();
            if pat.len() % 2 == 1 {
                pat.extend_from_within(..);
            }
            st.dash = StrokeDash::new(pat, fin(s.dash_offset, 0.0) as f32);
        }
        st
    }

    /// `AbbreviatedData` as a tiny-skia path (counted against the per-page operator limit).
    fn build_path(&mut self, ops: &[PathOp]) -> Option<tiny_skia::Path> {
        self.path_ops += ops.len();
        if self.path_ops > self.opts.limits.max_path_ops {
            self.stop("path operators");
            return None;
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        let all_finite = ops.iter().all(|op| match *op {
            PathOp::Start(x, y) | PathOp::Move(x, y) | PathOp::Line(x, y) => finite(&[x, y]),
            PathOp::Quad(a, b, x, y) => finite(&[a, b, x, y]),
            PathOp::Cubic(a, b, c, d, x, y) => finite(&[a, b, c, d, x, y]),
            PathOp::Arc {
                rx,
                ry,
                angle,
                x,
                y,
                ..
            } => finite(&[rx, ry, angle, x, y]),
            PathOp::Close => true,
        });
        if !all_finite {
            self.report.skip("path data with non-finite numbers");
            return None;
        }
        let mut pb = PathBuilder::with_capacity(ops.len(), ops.len() * 3);
        let mut cur = (0.0f64, 0.0f64);
        let mut start = cur;
        let f = |v: f64| v as f32;
        for op in ops {
            match *op {
                PathOp::Start(x, y) | PathOp::Move(x, y) => {
                    pb.move_to(f(x), f(y));
                    cur = (x, y);
                    start = cur;
                }
                PathOp::Line(x, y) => {
                    pb.line_to(f(x), f(y));
                    cur = (x, y);
                }
                PathOp::Quad(x1, y1, x, y) => {
                    pb.quad_to(f(x1), f(y1), f(x), f(y));
                    cur = (x, y);
                }
                PathOp::Cubic(x1, y1, x2, y2, x, y) => {
                    pb.cubic_to(f(x1), f(y1), f(x2), f(y2), f(x), f(y));
                    cur = (x, y);
                }
                PathOp::Arc {
                    rx,
                    ry,
                    angle,
                    large,
                    sweep,
                    x,
                    y,
                } => {
                    if pb.is_empty() {
                        pb.move_to(f(cur.0), f(cur.1));
                    }
                    for [c1, c2, p] in arc::arc_to_cubics(cur, rx, ry, angle, large, sweep, (x, y))
                    {
                        pb.cubic_to(f(c1.0), f(c1.1), f(c2.0), f(c2.1), f(p.0), f(p.1));
                    }
                    cur = (x, y);
                }
                PathOp::Close => {
                    pb.close();
                    cur = start;
                }
            }
        }
        pb.finish()
    }

    fn path(&mut self, p: &'a PathObject, ctx: Ctx) {
        let Some((m, clip)) = self.placement(&p.common, &ctx) else {
            return;
        };
        let Some(path) = self.build_path(&p.data) else {
            return;
        };
        let style = self.style(
            &p.common,
            &ctx,
            p.fill_color.as_ref(),
            p.stroke_color.as_ref(),
        );
        // FillColor defaults to transparent, StrokeColor to black (clause 9.1, table 35).
        let fill = if p.fill {
            style
                .fill
                .as_ref()
                .and_then(|c| self.paint(c, p.common.alpha))
        } else {
            None
        };
        let stroke = if p.stroke {
            let c = style.stroke.clone().unwrap_or_else(Color::black);
            self.paint(&c, p.common.alpha)
        } else {
            None
        };
        if fill.is_none() && stroke.is_none() {
            return;
        }
        let sk_stroke = self.sk_stroke(&style);
        let scale = (m.a * m.d - m.b * m.c).abs().sqrt();
        let reach = if stroke.is_some() {
            f64::from(sk_stroke.width) * scale * f64::from(sk_stroke.miter_limit.max(1.0))
        } else {
            0.0
        };
        let bounds = bounds_under(&path, &m).outset(reach + 1.0);
        if !bounds.sane() {
            self.report.skip("path with coordinates out of range");
            return;
        }
        let Ok(clipping) = self.mask(&p.common, &ctx, clip, bounds) else {
            return;
        };
        let t = to_sk(&m);
        if let Some(paint) = &fill {
            let rule = match p.rule {
                FillRule::NonZero => SkRule::Winding,
                FillRule::EvenOdd => SkRule::EvenOdd,
            };
            self.pix.fill_path(
                &path,
                paint,
                rule,
                t,
                Self::mask_ref(&self.rect_mask, &clipping),
            );
        }
        if let Some(paint) = &stroke {
            self.pix.stroke_path(
                &path,
                paint,
                &sk_stroke,
                t,
                Self::mask_ref(&self.rect_mask, &clipping),
            );
        }
        self.release(clipping);
        self.report.paths += 1;
    }

    fn image(&mut self, i: &'a ImageObject, ctx: Ctx) {
        let Some((m, clip)) = self.placement(&i.common, &ctx) else {
            return;
        };
        if i.image_mask.is_some() {
            self.report.skip("ImageObject/@ImageMask (not applied)");
        }
        let rid = i.resource_id.0;
        if !self.images.contains_key(&rid) {
            let decoded = match self.doc.media(i.resource_id) {
                Some(mm) => match image::decode(
                    mm.format.as_ref(),
                    &mm.data,
                    self.opts.limits.max_image_pixels,
                ) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.report
                            .skip(format!("image {} ({}): {e}", rid, mm.file));
                        None
                    }
                },
                None => {
                    self.report.skip(format!("image resource {rid} not found"));
                    None
                }
            };
            self.images.insert(rid, decoded);
        }
        let Some(Some(img)) = self.images.get(&rid) else {
            self.report.images_failed += 1;
            return;
        };
        let (w, h) = (f64::from(img.width()), f64::from(img.height()));
        // The image fills the unit square of object space (clause 10).
        let im = Matrix::new(1.0 / w, 0.0, 0.0, 1.0 / h, 0.0, 0.0).then(&m);
        let bounds = PxRect::of(&m, &Rect::new(0.0, 0.0, 1.0, 1.0)).outset(1.0);
        if !bounds.sane() {
            self.report.skip("image placed out of range");
            return;
        }
        let Ok(clipping) = self.mask(&i.common, &ctx, clip, bounds) else {
            return;
        };
        let paint = PixmapPaint {
            opacity: f32::from(i.common.alpha.unwrap_or(255)) / 255.0,
            quality: tiny_skia::FilterQuality::Bilinear,
            ..Default::default()
        };
        if let Some(img) = self.images.get(&rid).and_then(Option::as_ref) {
            self.pix.draw_pixmap(
                0,
                0,
                img.as_ref(),
                &paint,
                to_sk(&im),
                Self::mask_ref(&self.rect_mask, &clipping),
            );
            self.report.images += 1;
        }
        self.release(clipping);
    }

    fn embedded_face(&mut self, font: Option<&'a Font>) -> Option<u32> {
        let f = font?;
        let id = f.id.0;
        let entry = self.embedded.entry(id).or_insert_with(|| {
            f.data
                .as_deref()
                .and_then(|d| ttf_parser::Face::parse(d, 0).ok())
        });
        entry.is_some().then_some(id)
    }

    fn text(&mut self, t: &'a TextObject, ctx: Ctx) {
        let Some((m, clip)) = self.placement(&t.common, &ctx) else {
            return;
        };
        if !(t.size.is_finite() && t.size > 0.0 && t.size < 1e5) {
            self.report.skip("TextObject with a bad Size");
            return;
        }
        if t.read_direction != 0 || t.char_direction != 0 {
            self.report
                .skip("ReadDirection/CharDirection other than 0 (laid out horizontally)");
        }
        let font = self.doc.font(t.font);
        let emb = self.embedded_face(font);
        if font.is_some_and(|f| f.data.is_some()) && emb.is_none() {
            self.report
                .skip(format!("font {}: embedded file does not parse", t.font));
        }
        let hscale = if t.hscale.is_finite() && t.hscale > 0.0 {
            t.hscale
        } else {
            1.0
        };
        // Glyph draws: face, glyph, origin in object space, and for fallback glyphs the room
        // the file leaves to the next character.
        let mut draws: Vec<(FaceKey, u16, f64, f64, Option<f64>, bool)> = Vec::new();
        for code in &t.codes {
            let pos = code.positions();
            let mut covered: Vec<Option<(usize, usize)>> = vec![None; pos.len()];
            for (k, cg) in code.cg_transforms.iter().enumerate() {
                let p = cg.code_position as usize;
                let n = (cg.code_count.max(1) as usize).min(pos.len().saturating_sub(p));
                for slot in covered.iter_mut().skip(p).take(n) {
                    if slot.is_none() {
                        *slot = Some((k, p));
                    }
                }
            }
            for (i, &(ch, x, y)) in pos.iter().enumerate() {
                let inked = !(ch.is_whitespace() || ch.is_control());
                if draws.len() + self.glyph_count >= self.opts.limits.max_glyphs {
                    self.stop("glyphs");
                    break;
                }
                match covered.get(i).copied().flatten() {
                    Some((k, p)) => {
                        let Some(cg) = code.cg_transforms.get(k) else {
                            continue;
                        };
                        let Some(key) = emb else {
                            // Glyph IDs are meaningless without the embedded font.
                            self.report.glyphs_missing += 1;
                            continue;
                        };
                        let n = cg.code_count.max(1) as usize;
                        if cg.glyphs.len() == n {
                            if let Some(g) = cg.glyphs.get(i - p) {
                                draws.push((FaceKey::Embedded(key), *g, x, y, None, inked));
                            }
                        } else if i == p {
                            // Glyphs for a cluster: all at the cluster's origin, advancing
                            // by the font's own widths.
                            let face = self.embedded.get(&key).and_then(Option::as_ref);
                            let upem = face.map_or(1000.0, |f| f64::from(f.units_per_em().max(1)));
                            let mut gx = x;
                            for g in &cg.glyphs {
                                draws.push((FaceKey::Embedded(key), *g, gx, y, None, inked));
                                let adv = face
                                    .and_then(|f| f.glyph_hor_advance(ttf_parser::GlyphId(*g)))
                                    .map_or(0.0, f64::from);
                                gx += adv / upem * t.size * hscale;
                            }
                        }
                    }
                    None => {
                        let by_cmap = emb.and_then(|key| {
                            let face = self.embedded.get(&key).and_then(Option::as_ref)?;
                            face.glyph_index(ch).map(|g| (FaceKey::Embedded(key), g.0))
                        });
                        let found = by_cmap.or_else(|| {
                            self.fallback.iter().enumerate().find_map(|(k, f)| {
                                f.glyph_index(ch).map(|g| (FaceKey::Fallback(k), g.0))
                            })
                        });
                        match found {
                            Some((key, g)) => {
                                let room = pos
                                    .get(i + 1)
                                    .filter(|n| (n.2 - y).abs() < 1e-9)
                                    .map(|n| n.1 - x);
                                draws.push((key, g, x, y, room, inked));
                            }
                            None if ch.is_whitespace() || ch.is_control() => {}
                            None => self.report.glyphs_missing += 1,
                        }
                    }
                }
            }
        }
        self.glyph_count += draws.len();
        if draws.is_empty() {
            return;
        }
        let style = self.style(
            &t.common,
            &ctx,
            t.fill_color.as_ref(),
            t.stroke_color.as_ref(),
        );
        let fill = if t.fill {
            let c = style.fill.clone().unwrap_or_else(Color::black);
            self.paint(&c, t.common.alpha)
        } else {
            None
        };
        let stroke = if t.stroke {
            let c = style.stroke.clone().unwrap_or_else(Color::black);
            self.paint(&c, t.common.alpha)
        } else {
            None
        };
        if fill.is_none() && stroke.is_none() {
            return;
        }
        let sk_stroke = self.sk_stroke(&style);
        // Each glyph's matrix: font units (y up) → object space → pixels.
        let mut placed: Vec<(FaceKey, u16, Matrix)> = Vec::with_capacity(draws.len());
        let mut bounds: Option<PxRect> = None;
        for (key, g, x, y, room, inked) in draws {
            let face = match key {
                FaceKey::Embedded(id) => self.embedded.get(&id).and_then(Option::as_ref),
                FaceKey::Fallback(k) => self.fallback.get(k),
            };
            let Some(face) = face else { continue };
            let s = t.size / f64::from(face.units_per_em().max(1));
            // A substitute glyph wider than the room the file gives it (the author's font was
            // narrower, e.g. half-width Latin in 宋体) is narrowed to fit, so that substituted
            // text does not overlap; embedded glyphs are never changed.
            let mut sx = s * hscale;
            if let (FaceKey::Fallback(_), Some(room)) = (key, room)
                && room > 0.0
                && let Some(adv) = face.glyph_hor_advance(ttf_parser::GlyphId(g))
            {
                let natural = f64::from(adv) * sx;
                if natural > room * 1.05 {
                    sx *= room / natural;
                }
            }
            let gm = Matrix::new(sx, 0.0, 0.0, -s, x, y).then(&m);
            if !usable(&gm) {
                continue;
            }
            let outline = self.glyphs.outline(key, face, g);
            match key {
                FaceKey::Embedded(_) => self.report.glyphs_embedded += 1,
                FaceKey::Fallback(_) => self.report.glyphs_fallback += 1,
            }
            let ops = outline.ops;
            let Some(path) = &outline.path else {
                if inked {
                    self.report.glyphs_blank += 1;
                }
                continue;
            };
            let b = bounds_under(path, &gm);
            if !b.sane() {
                continue;
            }
            bounds = Some(bounds.map_or(b, |u| u.union(&b)));
            self.path_ops += ops;
            placed.push((key, g, gm));
        }
        if self.path_ops > self.opts.limits.max_path_ops {
            self.stop("path operators (glyph outlines)");
            return;
        }
        let Some(bounds) = bounds else { return };
        let scale = (m.a * m.d - m.b * m.c).abs().sqrt();
        let bounds = bounds.outset(f64::from(sk_stroke.width) * scale + 1.0);
        let Ok(clipping) = self.mask(&t.common, &ctx, clip, bounds) else {
            return;
        };
        for (key, g, gm) in placed {
            let face = match key {
                FaceKey::Embedded(id) => self.embedded.get(&id).and_then(Option::as_ref),
                FaceKey::Fallback(k) => self.fallback.get(k),
            };
            let Some(face) = face else { continue };
            let Some(path) = &self.glyphs.outline(key, face, g).path else {
                continue;
            };
            let tr = to_sk(&gm);
            if let Some(paint) = &fill {
                self.pix.fill_path(
                    path,
                    paint,
                    SkRule::Winding,
                    tr,
                    Self::mask_ref(&self.rect_mask, &clipping),
                );
            }
            if let Some(paint) = &stroke {
                // The stroke width is in object space; the glyph matrix scales font units.
                let gs = (gm.a * gm.d - gm.b * gm.c).abs().sqrt();
                let mut st = sk_stroke.clone();
                if gs > 0.0 {
                    st.width = (f64::from(st.width) * scale / gs) as f32;
                }
                if !(st.width.is_finite() && st.width >= 0.0) {
                    continue;
                }
                self.pix.stroke_path(
                    path,
                    paint,
                    &st,
                    tr,
                    Self::mask_ref(&self.rect_mask, &clipping),
                );
            }
        }
        self.release(clipping);
    }
}
