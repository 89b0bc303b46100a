//! The converter: a flattened [`Layout`] written as OFD pages through `ofd`'s writer.
//!
//! - Text: one `TextObject` per glyph run (split where the baseline moves), with the font
//!   embedded as a subset by the writer, every glyph's advance as `DeltaX` (typst's
//!   final advances: kerning, tracking, justification and CJK punctuation compression) and a
//!   `CGTransform` wherever the glyph is not the cmap's glyph for its character (e.g. `locl`
//!   forms, ligatures).
//! - Shapes: `PathObject`s in page coordinates (group transforms applied to the points;
//!   stroke widths scaled), with fill, stroke colour, width, cap, join, dash, and the clip of
//!   the enclosing groups.
//! - Images: `ImageObject`s (PNG, JPEG) into their page rectangle.
//! - Links are not written.

use ofd::model::{Color, LineCap, LineJoin, Rect as ORect};
use ofd::write::{DocumentWriter, FontRef, Glyph, Path, PathStyle, Stroke as OStroke, TextStyle};
use ofd::{DocInfo, FillRule};

use crate::LayoutError;
use crate::fonts::Fonts;
use crate::frames::{
    Cap, GlyphRun, ImageItem, Item, Join, LaidPage, Layout, PathItem, Rgba, Seg, Stroke,
};
use crate::geom::{Affine, Point, Rect};

fn ofd_err(e: impl std::fmt::Display) -> LayoutError {
    LayoutError::Ofd(e.to_string())
}

fn color(c: Rgba) -> Color {
    let mut col = Color::rgb(c[0], c[1], c[2]);
    col.alpha = c[3];
    col
}

/// Write every page of `layout` into a new OFD document.
pub(crate) fn write(
    layout: &Layout,
    fonts: &Fonts,
    info: DocInfo,
) -> Result<DocumentWriter, LayoutError> {
    let mut doc = DocumentWriter::new(info).map_err(ofd_err)?;
    let mut refs: Vec<FontRef> = Vec::with_capacity(layout.fonts.len());
    for f in &layout.fonts {
        let src = fonts.source(f)?;
        refs.push(doc.add_font(src).map_err(ofd_err)?);
    }
    for (i, page) in layout.pages.iter().enumerate() {
        write_page(&mut doc, page, &refs)
            .map_err(|e| LayoutError::Ofd(format!("page {}: {e}", i + 1)))?;
    }
    Ok(doc)
}

fn write_page(
    doc: &mut DocumentWriter,
    page: &LaidPage,
    fonts: &[FontRef],
) -> Result<(), LayoutError> {
    // Images first become resources (the page writer borrows the document).
    let mut images = Vec::new();
    for item in &page.items {
        if let Item::Image(img) = item {
            images.push(doc.add_image(img.data.clone()).map_err(ofd_err)?);
        }
    }
    let mut pw = doc.add_page_with_box(ORect::new(0.0, 0.0, page.width, page.height));
    let mut layer = pw.body();
    let mut next_image = images.into_iter();
    for item in &page.items {
        match item {
            Item::Text(run) => text(&mut layer, run, fonts)?,
            Item::Path(p) => path(&mut layer, p)?,
            Item::Image(img) => {
                let r = next_image
                    .next()
                    .ok_or_else(|| LayoutError::Ofd("image resource lost".into()))?;
                image(&mut layer, img, r)?;
            }
        }
    }
    Ok(())
}

fn text(
    layer: &mut ofd::write::LayerWriter<'_>,
    run: &GlyphRun,
    fonts: &[FontRef],
) -> Result<(), LayoutError> {
    let m = &run.transform;
    // Translation, uniform scale and rotation map onto an OFD run (rotation as the text
    // object's CTM about the baseline origin); a mirror or a shear cannot be written so.
    let scale = m.a.hypot(m.b);
    let tol = 1e-9 * scale.max(1.0);
    if scale <= 0.0 || (m.a - m.d).abs() > tol || (m.b + m.c).abs() > tol {
        return Err(LayoutError::Unsupported(format!(
            "mirrored or skewed text (\"{}\")",
            run.text
        )));
    }
    let font = *fonts
        .get(run.font)
        .ok_or_else(|| LayoutError::Ofd("font index out of range".into()))?;
    let mut style = TextStyle::new(font, run.size * scale);
    if m.b.abs() > tol {
        style = style.rotated(m.b.atan2(m.a).to_degrees());
    }
    style.fill = Some(color(run.fill));
    let chars: Vec<char> = run.text.chars().collect();
    // Split where the baseline moves (glyph y offsets), since OFD's DeltaY would also move
    // every following glyph.
    let mut start = 0;
    let glyphs = &run.glyphs;
    while start < glyphs.len() {
        let y = glyphs[start].y;
        let mut end = start + 1;
        while end < glyphs.len() && (glyphs[end].y - y).abs() < 1e-9 {
            end += 1;
        }
        let part = &glyphs[start..end];
        let mut out = Vec::with_capacity(part.len());
        let mut prev_chars = usize::MAX..usize::MAX;
        for (k, g) in part.iter().enumerate() {
            let advance = match part.get(k + 1) {
                Some(next) => next.x - g.x,
                None => g.advance,
            };
            // The first glyph of a cluster carries its text; further glyphs of the same
            // cluster carry none.
            let text: String = if g.chars == prev_chars {
                String::new()
            } else {
                chars
                    .get(g.chars.clone())
                    .map(|c| c.iter().collect())
                    .unwrap_or_default()
            };
            prev_chars = g.chars.clone();
            out.push(Glyph {
                id: g.id,
                text,
                advance: advance * scale,
            });
        }
        let origin = m.apply(Point::new(part[0].x, y));
        layer
            .glyph_run(&style, origin.x, origin.y, &out)
            .map_err(ofd_err)?;
        start = end;
    }
    Ok(())
}

fn to_path(segs: &[Seg], m: &Affine) -> Path {
    let mut p = Path::new();
    for s in segs {
        match s.transformed(m) {
            Seg::Move(a) => {
                p.move_to(a.x, a.y);
            }
            Seg::Line(a) => {
                p.line_to(a.x, a.y);
            }
            Seg::Cubic(a, b, c) => {
                p.cubic_to(a.x, a.y, b.x, b.y, c.x, c.y);
            }
            Seg::Close => {
                p.close();
            }
        }
    }
    p
}

/// An axis-aligned rectangle path (move, 3 lines, optional 4th line back, close).
fn as_rect(segs: &[Seg]) -> Option<Rect> {
    let pts: Vec<Point> = segs.iter().flat_map(|s| s.points()).collect();
    if !(4..=5).contains(&pts.len()) || !matches!(segs.last(), Some(Seg::Close)) {
        return None;
    }
    if segs.iter().any(|s| matches!(s, Seg::Cubic(..))) {
        return None;
    }
    let r = Rect::bounding(pts.iter().copied())?;
    let on_corner = |p: &Point| {
        ((p.x - r.x).abs() < 1e-9 || (p.x - r.x - r.w).abs() < 1e-9)
            && ((p.y - r.y).abs() < 1e-9 || (p.y - r.y - r.h).abs() < 1e-9)
    };
    pts.iter().all(on_corner).then_some(r)
}

/// One clip path for the writer: the intersection when every clip is an axis-aligned
/// rectangle, otherwise the innermost clip.
fn clip_path(clips: &[Vec<Seg>]) -> Option<Path> {
    let last = clips.last()?;
    let rects: Option<Vec<Rect>> = clips.iter().map(|c| as_rect(c)).collect();
    if let Some(rects) = rects {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MIN, f64::MIN, f64::MAX, f64::MAX);
        for r in rects {
            x0 = x0.max(r.x);
            y0 = y0.max(r.y);
            x1 = x1.min(r.x + r.w);
            y1 = y1.min(r.y + r.h);
        }
        let (w, h) = ((x1 - x0).max(0.0), (y1 - y0).max(0.0));
        let mut p = Path::new();
        p.rect(ORect::new(x0, y0, w, h));
        return Some(p);
    }
    Some(to_path(last, &Affine::IDENTITY))
}

fn stroke(s: &Stroke, scale: f64) -> OStroke {
    let mut o = OStroke::solid(color(s.color), s.width * scale);
    o.cap = Some(match s.cap {
        Cap::Butt => LineCap::Butt,
        Cap::Round => LineCap::Round,
        Cap::Square => LineCap::Square,
    });
    o.join = Some(match s.join {
        Join::Miter => LineJoin::Miter,
        Join::Round => LineJoin::Round,
        Join::Bevel => LineJoin::Bevel,
    });
    if let Some((dash, phase)) = &s.dash {
        o.dash = dash.iter().map(|d| d * scale).collect();
        o.dash_offset = phase * scale;
    }
    o
}

fn path(layer: &mut ofd::write::LayerWriter<'_>, p: &PathItem) -> Result<(), LayoutError> {
    if p.fill.is_none() && p.stroke.is_none() {
        return Ok(());
    }
    let scale = p.transform.length_scale();
    let style = PathStyle {
        stroke: p.stroke.as_ref().map(|s| stroke(s, scale)),
        fill: p.fill.map(color),
        rule: if p.even_odd {
            FillRule::EvenOdd
        } else {
            FillRule::NonZero
        },
        alpha: None,
        clip: clip_path(&p.clips),
    };
    layer
        .path(&to_path(&p.segs, &p.transform), &style)
        .map_err(ofd_err)?;
    Ok(())
}

fn image(
    layer: &mut ofd::write::LayerWriter<'_>,
    img: &ImageItem,
    r: ofd::write::ImageRef,
) -> Result<(), LayoutError> {
    let m = &img.transform;
    if m.b.abs() > 1e-9 || m.c.abs() > 1e-9 || m.a <= 0.0 || m.d <= 0.0 {
        return Err(LayoutError::Unsupported(
            "a rotated or mirrored image".into(),
        ));
    }
    let rect = Rect::new(0.0, 0.0, img.width, img.height).transformed(m);
    layer
        .image(r, ORect::new(rect.x, rect.y, rect.w, rect.h))
        .map_err(ofd_err)?;
    Ok(())
}
