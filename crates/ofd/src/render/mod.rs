//! Page rendering: one page of the [model](crate::model) to an RGBA raster (tiny-skia), and a
//! serialisable structural summary ([`inspect()`]).
//!
//! What is drawn, in this order (GB/T 33190-2016):
//! - background templates (`ZOrder="Background"`, the default), then the page's layers
//!   (`Background`, then `Body`/`Custom`, then `Foreground` layers, each group in document
//!   order), then foreground templates, then the appearance of every visible annotation;
//! - `TextObject`s with the glyph outlines of the **embedded** font (TrueType `glyf` or CFF),
//!   glyphs by `CGTransform` or by the font's cmap, positions from `X`/`Y`/`DeltaX`/`DeltaY`,
//!   `Size` in mm, `HScale`, fill and stroke colours; a font that is not embedded (or a
//!   character its embedded subset lacks) is drawn with the configurable fallback fonts, and
//!   with the fallback disabled nothing is substituted (R-4.1.6: a file that embeds its fonts
//!   displays from those fonts alone — see [`RenderReport`]);
//! - `PathObject`s (`AbbreviatedData` `S M L Q B A C`, the elliptical arc converted to cubic
//!   Béziers; fill rule, line width, cap, join, miter limit, dash, colours, alpha), with
//!   `DrawParam` inheritance (object → its `DrawParam` → `Relative` chain → layer `DrawParam`);
//! - `ImageObject`s (PNG, JPEG) into the unit square of their object space;
//! - every object is clipped to its `Boundary` and to its `Clips` (each `Clip` the union of its
//!   areas, several clips intersected; clip coordinates relative to the object's `Boundary`).
//!
//! Not drawn (counted in [`RenderReport::skipped`]): `CompositeObject`s (the model does not
//! expand composite graphic units), image masks, shadings/patterns, indexed colours, text clip
//! areas, vertical `ReadDirection`/`CharDirection` (laid out horizontally), BMP/TIFF/GIF/JBIG2
//! images.
//!
//! Substitution (fallback fonts only, never for embedded glyphs): a substitute glyph wider than
//! the room the file's `DeltaX` leaves it is narrowed to fit, so that text written for a
//! half-width Latin font (宋体, Courier New) does not overlap.
//!
//! Defended against (hostile input never panics and never allocates or computes without
//! bound; a proptest feeds random geometry): the pixel count (`dpi` × page size) is capped
//! ([`RenderLimits::max_pixels`]), as are graphic objects, path operators and glyphs per page,
//! the decoded size of each image (checked from the header before decoding), the painted area
//! and the clipping work per page (in page areas), the number of clip-path masks, dash counts
//! (tiny-skia), `DrawParam` inheritance chains (cycles, depth 16) and `PageBlock` nesting;
//! non-finite or degenerate matrices and sizes make the object be skipped, not the page. When
//! a limit is reached the rest of the page is left undrawn and [`RenderReport::truncated`]
//! says so.

mod fonts;
mod image;
pub mod inspect;
mod paint;

use crate::model::{Document, Ofd, Rect};
use crate::read::OfdFile;
use std::sync::Arc;

pub use fonts::{FallbackFonts, FontLoadError, SYSTEM_FALLBACKS};
pub use inspect::{Inspection, inspect};
pub use tiny_skia::Pixmap;

/// Limits for one page render.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderLimits {
    /// Largest raster in pixels, width × height (default 60 000 000, e.g. A4 at 600 dpi).
    pub max_pixels: u64,
    /// Most path operators drawn per page, paths and clips together (default 2 000 000).
    pub max_path_ops: usize,
    /// Most glyphs drawn per page (default 200 000).
    pub max_glyphs: usize,
    /// Largest decoded image in pixels (default 40 000 000).
    pub max_image_pixels: u64,
    /// Most graphic objects visited per page, blocks included (default 500 000).
    pub max_objects: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_pixels: 60_000_000,
            max_path_ops: 2_000_000,
            max_glyphs: 200_000,
            max_image_pixels: 40_000_000,
            max_objects: 500_000,
        }
    }
}

/// How to render.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Resolution in dots per inch (default 96: A4 becomes 794 × 1123 pixels).
    pub dpi: f64,
    /// Background RGBA (default opaque white); `[0, 0, 0, 0]` for transparent.
    pub background: [u8; 4],
    /// Fonts for text whose font is not embedded; `None` = draw no such text (R-4.1.6 check).
    pub fallback: Option<Arc<FallbackFonts>>,
    /// Draw annotations' appearances (default true; annotations with `Visible="false"` are
    /// never drawn).
    pub annotations: bool,
    /// Anti-aliasing (default true).
    pub anti_alias: bool,
    /// Limits.
    pub limits: RenderLimits,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            dpi: 96.0,
            background: [255, 255, 255, 255],
            fallback: None,
            annotations: true,
            anti_alias: true,
            limits: RenderLimits::default(),
        }
    }
}

impl RenderOptions {
    /// Default options at `dpi`.
    pub fn with_dpi(dpi: f64) -> Self {
        RenderOptions {
            dpi,
            ..Default::default()
        }
    }
    /// With these fallback fonts.
    pub fn fallback(mut self, f: Arc<FallbackFonts>) -> Self {
        self.fallback = Some(f);
        self
    }
}

/// Why a page could not be rendered. Problems inside the page (a broken image, a font that
/// does not parse) do not fail the render: they are counted in [`RenderReport`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// No such document in the package.
    #[error("document {index} out of range: the package has {count} document(s)")]
    NoSuchDocument {
        /// 0-based index asked for.
        index: usize,
        /// Number of documents.
        count: usize,
    },
    /// No such page.
    #[error("page {number} out of range: the document has {count} page(s)")]
    NoSuchPage {
        /// 1-based page number asked for.
        number: usize,
        /// Number of pages.
        count: usize,
    },
    /// The resolution is not a positive finite number, or at most 2400.
    #[error("dpi {0} is not in (0, 2400]")]
    BadDpi(f64),
    /// The page box is empty or not finite.
    #[error("page {number}: physical box {w} × {h} mm is empty or not finite")]
    BadPageBox {
        /// 1-based page number.
        number: usize,
        /// Width in mm.
        w: f64,
        /// Height in mm.
        h: f64,
    },
    /// The raster would exceed [`RenderLimits::max_pixels`].
    #[error(
        "page {number}: {width} × {height} pixels exceeds the limit of {max} pixels (lower the dpi)"
    )]
    TooLarge {
        /// 1-based page number.
        number: usize,
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The limit.
        max: u64,
    },
    /// The rasteriser failed on this page (a bug: please report the file).
    #[error("page {number}: internal rendering error: {why}")]
    Internal {
        /// 1-based page number.
        number: usize,
        /// The panic message.
        why: String,
    },
    /// PNG encoding failed.
    #[error("PNG encoding: {0}")]
    Png(String),
}

/// What a render did and did not draw.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RenderReport {
    /// Glyphs drawn from the document's embedded fonts.
    pub glyphs_embedded: usize,
    /// Glyphs drawn from a fallback font (the document's font is not embedded, does not
    /// parse, or lacks the glyph).
    pub glyphs_fallback: usize,
    /// Characters not drawn: no glyph anywhere (or the fallback is disabled).
    pub glyphs_missing: usize,
    /// Visible (non-space) characters whose glyph has no outline, so nothing shows where the
    /// file puts a character (e.g. WenQuanYi Micro Hei's ℃, U+2103, is an empty glyph).
    pub glyphs_blank: usize,
    /// Path objects drawn.
    pub paths: usize,
    /// Image objects drawn.
    pub images: usize,
    /// Images that could not be decoded or whose format is not supported.
    pub images_failed: usize,
    /// Objects or features skipped, with the reason (deduplicated, at most 100).
    pub skipped: Vec<String>,
    /// A per-page limit was reached and the rest of the page was not drawn.
    pub truncated: bool,
}

impl RenderReport {
    pub(crate) fn skip(&mut self, why: impl Into<String>) {
        let why = why.into();
        if self.skipped.len() < 100 && !self.skipped.contains(&why) {
            self.skipped.push(why);
        }
    }
}

/// Pixel size of a `w_mm` × `h_mm` page at `dpi` (rounded to nearest, at least 1).
pub fn pixel_size(w_mm: f64, h_mm: f64, dpi: f64) -> (u64, u64) {
    let px = |mm: f64| ((mm / 25.4 * dpi).round()).max(1.0) as u64;
    (px(w_mm), px(h_mm))
}

/// Renders page `index` (0-based) of `doc`.
pub fn render_page(
    doc: &Document,
    index: usize,
    opts: &RenderOptions,
) -> Result<Pixmap, RenderError> {
    render_page_report(doc, index, opts).map(|(p, _)| p)
}

/// Renders page `index` (0-based) of `doc`, with a report of what was drawn.
pub fn render_page_report(
    doc: &Document,
    index: usize,
    opts: &RenderOptions,
) -> Result<(Pixmap, RenderReport), RenderError> {
    let number = index + 1;
    let page = doc.pages.get(index).ok_or(RenderError::NoSuchPage {
        number,
        count: doc.pages.len(),
    })?;
    let bx = doc.page_box(index).unwrap_or(Rect::A4);
    let pixmap = new_pixmap(bx, number, opts)?;
    // Defence in depth: the rasteriser (tiny-skia) asserts on some inputs that the checks in
    // `paint` are meant to keep from it; should one get through, the caller (a verification
    // server rendering an upload) gets an error, not a dead thread.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut r = paint::PageRenderer::new(doc, pixmap, bx, opts);
        r.page(page);
        r.finish()
    }))
    .map_err(|e| {
        let why = e
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        RenderError::Internal { number, why }
    })
}

/// Renders page `index` (0-based) of `doc` to PNG bytes.
pub fn render_page_png(
    doc: &Document,
    index: usize,
    opts: &RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    encode_png(&render_page(doc, index, opts)?)
}

/// The entry for `ecert ofd render FILE --page N --dpi D -o OUT.png`: page `number` (1-based)
/// of the first document of a read package, as PNG bytes.
pub fn render_file_page_png(
    file: &OfdFile,
    number: usize,
    opts: &RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    let doc = first_document(&file.ofd)?;
    if number == 0 || number > doc.pages.len() {
        return Err(RenderError::NoSuchPage {
            number,
            count: doc.pages.len(),
        });
    }
    render_page_png(doc, number - 1, opts)
}

/// The first document of a package (OFD files with more than one `DocBody` are rare).
pub fn first_document(ofd: &Ofd) -> Result<&Document, RenderError> {
    ofd.docs
        .first()
        .map(|d| &d.document)
        .ok_or(RenderError::NoSuchDocument { index: 0, count: 0 })
}

/// PNG bytes of a rendered page (RGBA, 8 bits, not premultiplied).
pub fn encode_png(p: &Pixmap) -> Result<Vec<u8>, RenderError> {
    p.encode_png().map_err(|e| RenderError::Png(e.to_string()))
}

fn new_pixmap(bx: Rect, number: usize, opts: &RenderOptions) -> Result<Pixmap, RenderError> {
    if !(opts.dpi.is_finite() && opts.dpi > 0.0 && opts.dpi <= 2400.0) {
        return Err(RenderError::BadDpi(opts.dpi));
    }
    if !(bx.w.is_finite()
        && bx.h.is_finite()
        && bx.w > 0.0
        && bx.h > 0.0
        && bx.x.is_finite()
        && bx.y.is_finite())
        || bx.w > 1.0e6
        || bx.h > 1.0e6
    {
        return Err(RenderError::BadPageBox {
            number,
            w: bx.w,
            h: bx.h,
        });
    }
    let (width, height) = pixel_size(bx.w, bx.h, opts.dpi);
    let max = opts.limits.max_pixels;
    let too_large = RenderError::TooLarge {
        number,
        width,
        height,
        max,
    };
    if width.saturating_mul(height) > max
        || width > i32::MAX as u64 / 4
        || height > i32::MAX as u64 / 4
    {
        return Err(too_large);
    }
    let mut p = Pixmap::new(width as u32, height as u32).ok_or(too_large)?;
    let [r, g, b, a] = opts.background;
    p.fill(tiny_skia::Color::from_rgba8(r, g, b, a));
    Ok(p)
}

/// The (premultiplied) RGBA pixel at (x, y) un-premultiplied, for tests and tools.
pub fn pixel_rgba(p: &Pixmap, x: u32, y: u32) -> Option<[u8; 4]> {
    let c = p.pixel(x, y)?.demultiply();
    Some([c.red(), c.green(), c.blue(), c.alpha()])
}
