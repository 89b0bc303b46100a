//! ecert layout: certificate templates (Typst) laid out into pages and written as OFD objects.
//!
//! # Brief overview
//!
//! A [`Template`] is a set of Typst files (the shipped ones: [`Builtin`]) that reads the
//! certificate content from a virtual `/data.json` and the application's [`Extras`]
//! (identifier, check code, font families) from `/ecert.json`. [`lay_out`] compiles it with
//! typst in a closed world ([`Fonts`] only, no network, no filesystem, `today()` = the issue
//! date) and flattens typst's frames into a [`Layout`]: pages of glyph runs, paths and images
//! in millimetres, plus the [`Slot`]s the template reserved (the 25 mm Grid Matrix code area
//! and the seal area on page 1). [`render_certificate`] then writes those pages through the
//! `ofd` crate with the fonts embedded as subsets.
//!
//! # What is defended against
//!
//! - **Silent wrong output.** typst draws glyph 0 for a character no font has and only warns
//!   for an unknown font family: here both are errors ([`LayoutError::MissingGlyph`],
//!   [`LayoutError::Typst`]).
//! - **Leaving the sandbox.** A template sees only its own files and the two JSON inputs; no
//!   package is downloaded; the clock is the issue date (the same input gives the same bytes).
//! - **Breaking the certificate rules.** Every page must be A4 and show
//!   "本证书为电子证书，请到发证机构官网验证"; page 1 must reserve a 25 × 25 mm code
//!   slot and a seal slot. Links are dropped and gradients or SVG/PDF
//!   images refused.
//! - **Memory growth.** typst's memo cache is process-global; each compile trims it when it
//!   ends — all of it when no other compile runs, otherwise what no running compile can still
//!   use (see `Compiling::finish`).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod fonts;
mod frames;
pub mod geom;
mod ofd_out;
mod template;
mod world;

use std::sync::atomic::{AtomicUsize, Ordering};

use typst::foundations::{Bytes, Datetime};
use typst_layout::PagedDocument;

pub use error::LayoutError;
pub use fonts::{DEFAULT_SANS, DEFAULT_SERIF, Fonts};
pub use frames::{
    Cap, GlyphRun, ImageFormat, ImageItem, Item, Join, LaidPage, Layout, PathItem, PlacedGlyph,
    Rgba, SLOT_LABEL, Seg, Slot, Stroke,
};
pub use template::{Builtin, Template};

/// The sentence every page of an electronic certificate carries.
pub const ELECTRONIC_NOTICE: &str = "本证书为电子证书，请到发证机构官网验证";
/// A4 in mm.
pub const A4_MM: (f64, f64) = (210.0, 297.0);
/// The Grid Matrix code's size in mm.
pub const CODE_SLOT_MM: f64 = 25.0;

pub(crate) const DATA_PATH: &str = "/data.json";
pub(crate) const EXTRAS_PATH: &str = "/ecert.json";

/// What the application adds to the content for the template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// The certificate identifier, printed small on page 1.
    pub identifier: String,
    /// The check code (`XXXX-XXXX`) for lookup by number, printed on page 1.
    pub check_code: String,
    /// The issue date (year, month, day): typst's `today()`. `None`: the content's
    /// `/issueDate`.
    pub issue_date: Option<(i32, u8, u8)>,
    /// The OFD document's `DocInfo` (`DocID` is required; `CustomDatas` may carry the
    /// identifier, R-4.5.2).
    pub doc_info: ofd::DocInfo,
}

/// A laid-out certificate, written as OFD pages but not finished: the application adds the
/// Grid Matrix code into [`LaidOut::code_slot`], the custom tags and the
/// seal into [`LaidOut::seal_slot`], then calls `document.finish()`.
pub struct LaidOut {
    /// The OFD document with every page written.
    pub document: ofd::DocumentWriter,
    /// Page count.
    pub page_count: usize,
    /// Where the Grid Matrix code goes: page 1, 25 × 25 mm, in page mm (origin top left).
    pub code_slot: geom::Rect,
    /// Where the seal stamp goes on page 1, in page mm.
    pub seal_slot: geom::Rect,
    /// Every slot the template reserved (including the two above).
    pub slots: Vec<Slot>,
}

impl std::fmt::Debug for LaidOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaidOut")
            .field("page_count", &self.page_count)
            .field("code_slot", &self.code_slot)
            .field("seal_slot", &self.seal_slot)
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
}

/// Lay out a certificate and write its pages as OFD (fonts embedded as subsets when the
/// document is finished, R-4.1.6). See [`lay_out`] for the checks.
pub fn render_certificate(
    template: &Template,
    content_json: &[u8],
    extras: &Extras,
    fonts: &Fonts,
) -> Result<LaidOut, LayoutError> {
    let layout = lay_out(template, content_json, extras, fonts)?;
    let document = ofd_out::write(&layout, fonts, extras.doc_info.clone())?;
    let slot = |name: &str| {
        layout
            .slot(name)
            .map(|s| s.rect)
            .ok_or_else(|| LayoutError::MissingSlot(name.into()))
    };
    Ok(LaidOut {
        page_count: layout.pages.len(),
        code_slot: slot("code")?,
        seal_slot: slot("seal")?,
        slots: layout.slots.clone(),
        document,
    })
}

fn parse_date(s: &str) -> Option<(i32, u8, u8)> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

/// Compile a template with the content into typst's paged document (no checks beyond typst's
/// own; warnings are errors). Useful for a PDF/PNG preview; certificates go through
/// [`lay_out`].
pub fn compile(
    template: &Template,
    content_json: &[u8],
    extras: &Extras,
    fonts: &Fonts,
) -> Result<PagedDocument, LayoutError> {
    let content: serde_json::Value = serde_json::from_slice(content_json)
        .map_err(|e| LayoutError::Content(format!("not valid JSON: {e}")))?;
    if !content.is_object() {
        return Err(LayoutError::Content(
            "the content must be a JSON object".into(),
        ));
    }
    let (y, m, d) = match extras.issue_date {
        Some(date) => date,
        None => {
            let s = content
                .get("issueDate")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            parse_date(s).ok_or_else(|| LayoutError::IssueDate(s.to_string()))?
        }
    };
    let today = Datetime::from_ymd(y, m, d)
        .ok_or_else(|| LayoutError::IssueDate(format!("{y:04}-{m:02}-{d:02}")))?;
    let widths = fonts
        .serif_regular()
        .map(|f| fonts::text_widths(f, &content))
        .unwrap_or_default();
    let ext = serde_json::json!({
        "identifier": extras.identifier,
        "checkCode": extras.check_code,
        "serif": fonts.serif(),
        "sans": fonts.sans(),
        "widths": widths,
    });
    let ext = serde_json::to_vec(&ext).map_err(|e| LayoutError::Content(e.to_string()))?;
    let world = world::CertWorld::new(
        template,
        Bytes::new(content_json.to_vec()),
        Bytes::new(ext),
        fonts,
        today,
    )?;
    let compiling = Compiling::start(&COMPILING);
    let warned = typst::compile::<PagedDocument>(&world);
    // The memo cache is process-global: without trimming it (`Compiling::finish`), memory
    // grows with every certificate. (Keeping results for the next compiles was measured: no
    // CPU saved — each certificate's data differs — and 45 MB more memory; docs/benchmarks.md.)
    let result = match warned.output {
        Err(errors) => Err(LayoutError::Typst(world.describe(&errors))),
        Ok(_) if !warned.warnings.is_empty() => {
            Err(LayoutError::Typst(world.describe(&warned.warnings)))
        }
        Ok(doc) => Ok(doc),
    };
    compiling.finish();
    result
}

/// Compiles running now in this process.
static COMPILING: AtomicUsize = AtomicUsize::new(0);

/// One running compile, counted in `count` (normally [`COMPILING`]) until it finishes or
/// unwinds.
struct Compiling<'a> {
    count: &'a AtomicUsize,
    live: bool,
}

impl<'a> Compiling<'a> {
    fn start(count: &'a AtomicUsize) -> Compiling<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Compiling { count, live: true }
    }

    /// Ends this compile and trims typst's process-global memo cache: all of it when no other
    /// compile runs; otherwise only what no compile has used for as many trims as compiles are
    /// running, so that a concurrent compile keeps what its first pass made for its second
    /// (clearing it all there made four concurrent compiles on two cores cost 20 % more CPU
    /// each; docs/benchmarks.md). Returns that age limit (the compiles still running).
    fn finish(mut self) -> usize {
        self.live = false;
        let others = self.count.fetch_sub(1, Ordering::SeqCst) - 1;
        typst::comemo::evict(others);
        others
    }
}

impl Drop for Compiling<'_> {
    fn drop(&mut self) {
        if self.live {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Lay out a certificate and check the rules a template must keep (R-4.3.3 A4, R-4.3.4 the
/// code slot on page 1, R-4.3.5 the seal slot, R-4.3.6 the notice on every page).
pub fn lay_out(
    template: &Template,
    content_json: &[u8],
    extras: &Extras,
    fonts: &Fonts,
) -> Result<Layout, LayoutError> {
    let doc = compile(template, content_json, extras, fonts)?;
    let layout = frames::flatten(&doc)?;
    check_rules(&layout)?;
    Ok(layout)
}

fn check_rules(layout: &Layout) -> Result<(), LayoutError> {
    for (i, p) in layout.pages.iter().enumerate() {
        //
        if (p.width - A4_MM.0).abs() > 0.01 || (p.height - A4_MM.1).abs() > 0.01 {
            return Err(LayoutError::Template(format!(
                "page {} is {:.1} × {:.1} mm, not A4 210 × 297 mm (R-4.3.3)",
                i + 1,
                p.width,
                p.height
            )));
        }
        //
        if !page_text(p).contains(ELECTRONIC_NOTICE) {
            return Err(LayoutError::Template(format!(
                "page {} lacks \"{ELECTRONIC_NOTICE}\" (R-4.3.6)",
                i + 1
            )));
        }
    }
    //
    let code = layout
        .slot("code")
        .ok_or_else(|| LayoutError::MissingSlot("code".into()))?;
    if code.page != 0
        || (code.rect.w - CODE_SLOT_MM).abs() > 0.01
        || (code.rect.h - CODE_SLOT_MM).abs() > 0.01
    {
        return Err(LayoutError::Template(format!(
            "the code slot must be 25 × 25 mm on page 1 (R-4.3.4), found {:.1} × {:.1} mm on page {}",
            code.rect.w,
            code.rect.h,
            code.page + 1
        )));
    }
    if layout.slot("seal").is_none_or(|s| s.page != 0) {
        return Err(LayoutError::MissingSlot("seal".into()));
    }
    Ok(())
}

/// The text of a page's glyph runs, in painting order, without separators.
pub fn page_text(page: &LaidPage) -> String {
    page.items
        .iter()
        .filter_map(|it| match it {
            Item::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

impl Layout {
    /// The first slot of this name.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last compile to finish clears the whole memo cache, the others only what is older
    /// than the compiles still running; a compile that unwinds is no longer counted.
    #[test]
    fn a_compile_trims_the_memo_cache_by_the_compiles_still_running() {
        let count = AtomicUsize::new(0);
        let a = Compiling::start(&count);
        let b = Compiling::start(&count);
        let unwound = std::panic::catch_unwind(|| {
            let _c = Compiling::start(&count);
            panic!("a compile that fails half-way");
        });
        assert!(unwound.is_err());
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(a.finish(), 1, "one other compile still runs");
        assert_eq!(b.finish(), 0, "the last one clears it all");
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
}
