//! Page previews with the seals drawn on them (for the verification pages, R-6.3c, and for
//! looking at certificates): the page from `ofd::render`, then every seal impression of every
//! signature (`StampAnnot`, with its riding-seam `Clip`) painted from the seal's own picture.
//! A preview may carry a [`Mark`] drawn over the picture — never into the file.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// Why a page preview cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The file is not a readable OFD file.
    #[error("无法读取 OFD 文件 (cannot read the OFD file)")]
    Read(#[source] ofd::read::ReadError),
    /// No such page.
    #[error("没有第 {number} 页，共 {pages} 页 (no such page)")]
    NoPage {
        /// The page asked for (1-based).
        number: usize,
        /// The pages the document has.
        pages: usize,
    },
    /// The renderer failed.
    #[error("无法绘制页面 (cannot render the page)")]
    Render(#[from] ofd::render::RenderError),
}

/// A seal impression found in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Impression {
    /// Page ID the stamp is on.
    pub page_id: String,
    /// Boundary in page mm.
    pub boundary: [f64; 4],
    /// Clip in boundary space (mm), for riding-seam slices.
    pub clip: Option<[f64; 4]>,
    /// Seal name.
    pub seal_name: String,
    /// The seal's picture (PNG), shared by its impressions.
    pub picture: std::sync::Arc<Vec<u8>>,
}

fn four(text: &str) -> Option<[f64; 4]> {
    let v: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match v[..] {
        [a, b, c, d] if v.iter().all(|x| x.is_finite()) && c > 0.0 && d > 0.0 => Some([a, b, c, d]),
        _ => None,
    }
}

/// Every seal impression of document 0 whose seal picture is a PNG (others are skipped).
pub fn impressions(file: &ofd::OfdFile) -> Vec<Impression> {
    let pkg = &file.package;
    let mut out = Vec::new();
    let Some(sigs_path) = file.ofd.docs.first().and_then(|d| d.signatures.clone()) else {
        return out;
    };
    let Some(list) = pkg
        .get(&sigs_path)
        .and_then(|b| ses::xmlsig::parse_signatures(&sigs_path, b).ok())
    else {
        return out;
    };
    for rec in list.records {
        let Some(xml) = pkg
            .get(&rec.path)
            .and_then(|b| ses::xmlsig::parse_signature_xml(&rec.path, b).ok())
        else {
            continue;
        };
        let Some(view) = xml
            .signed_value_path
            .as_deref()
            .and_then(|p| pkg.get(p))
            .and_then(|der| ses::seal::parse_signature(der).ok())
        else {
            continue;
        };
        if !view.seal.picture_type.eq_ignore_ascii_case("png") {
            continue;
        }
        let picture = std::sync::Arc::new(view.seal.picture.clone());
        for s in xml.stamps {
            if let Some(boundary) = four(&s.boundary) {
                out.push(Impression {
                    page_id: s.page_ref.clone(),
                    boundary,
                    clip: s.clip.as_deref().and_then(four),
                    seal_name: view.seal.name.clone(),
                    picture: picture.clone(),
                });
            }
        }
    }
    out
}

/// A mark drawn over a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mark {
    /// The certificate is void (revised, R-6.4.1): a red frame and "作废 VOID" across the page,
    /// so that a saved or forwarded picture cannot pass for a current certificate.
    Void,
    /// A draft before sealing: a blue frame and "预览 未盖章 DRAFT" across the page, so that a
    /// picture of it cannot pass for an issued certificate.
    Draft,
}

impl Mark {
    /// A short name (used in cache keys).
    pub fn name(self) -> &'static str {
        match self {
            Mark::Void => "void",
            Mark::Draft => "draft",
        }
    }
}

/// The fonts the marks are written with: the system's CJK fallback fonts (the ones the
/// previews already use for files that embed none), read once.
fn mark_fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for (path, _, _) in ofd::render::SYSTEM_FALLBACKS {
            if let Ok(bytes) = std::fs::read(path) {
                db.load_font_data(bytes);
            }
        }
        Arc::new(db)
    })
    .clone()
}

/// Draws `mark` over `pixmap`. The frame and the band are plain shapes, visible even where no
/// font is installed; the words need one of the fallback fonts.
fn draw_mark(pixmap: &mut tiny_skia::Pixmap, mark: Mark) {
    let (w, h) = (pixmap.width() as f32, pixmap.height() as f32);
    let unit = w / 100.0;
    let (colour, words) = match mark {
        Mark::Void => ("#c8102e", "作废 VOID"),
        Mark::Draft => ("#1f4e9c", "预览 未盖章 DRAFT"),
    };
    let svg = {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
<rect x="{b}" y="{b}" width="{iw}" height="{ih}" fill="none" stroke="{colour}" stroke-width="{sw}"/>
<g transform="rotate(-35 {cx} {cy})">
<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="{colour}" fill-opacity="0.14"/>
<text x="{cx}" y="{ty}" text-anchor="middle" font-size="{fs}" font-weight="bold" fill="{colour}" fill-opacity="0.7">{words}</text>
</g></svg>"##,
            b = unit * 1.5,
            iw = w - unit * 3.0,
            ih = h - unit * 3.0,
            sw = unit * 1.2,
            cx = w / 2.0,
            cy = h / 2.0,
            bx = -w,
            by = h / 2.0 - unit * 11.0,
            bw = w * 3.0,
            bh = unit * 22.0,
            ty = h / 2.0 + unit * 5.5,
            fs = unit * if words.chars().count() > 8 { 9.0 } else { 15.0 },
        )
    };
    let options = usvg::Options {
        fontdb: mark_fonts(),
        font_family: "WenQuanYi Micro Hei".into(),
        ..Default::default()
    };
    if let Ok(tree) = usvg::Tree::from_str(&svg, &options) {
        resvg::render(
            &tree,
            tiny_skia::Transform::identity(),
            &mut pixmap.as_mut(),
        );
    }
}

/// Renders page `number` (1-based) of an OFD file to PNG at `dpi`, seals included.
pub fn render_page_png(bytes: &[u8], number: usize, dpi: f64) -> Result<Vec<u8>, PreviewError> {
    render_page_png_marked(bytes, number, dpi, None)
}

/// [`render_page_png`] with `mark` drawn over the page.
pub fn render_page_png_marked(
    bytes: &[u8],
    number: usize,
    dpi: f64,
    mark: Option<Mark>,
) -> Result<Vec<u8>, PreviewError> {
    let file = ofd::OfdFile::read(bytes).map_err(PreviewError::Read)?;
    let doc = ofd::render::first_document(&file.ofd)?;
    if number == 0 || number > doc.pages.len() {
        return Err(PreviewError::NoPage {
            number,
            pages: doc.pages.len(),
        });
    }
    let mut options = ofd::render::RenderOptions::with_dpi(dpi);
    if let Ok(fallback) = ofd::render::FallbackFonts::shared_system() {
        options = options.fallback(fallback);
    }
    let mut pixmap = ofd::render::render_page(doc, number - 1, &options)?;
    let page = &doc.pages[number - 1];
    let page_id = page.id.map(|i| i.to_string()).unwrap_or_default();
    let origin = doc.page_box(number - 1).unwrap_or(ofd::Rect::A4);
    let scale = (dpi / 25.4) as f32;
    for imp in impressions(&file).iter().filter(|i| i.page_id == page_id) {
        let Some(picture) = tiny_skia::Pixmap::decode_png(&imp.picture).ok() else {
            continue;
        };
        let [bx, by, bw, bh] = imp.boundary;
        let (px, py) = (
            (bx - origin.x) as f32 * scale,
            (by - origin.y) as f32 * scale,
        );
        let sx = bw as f32 * scale / picture.width() as f32;
        let sy = bh as f32 * scale / picture.height() as f32;
        let transform = tiny_skia::Transform::from_row(sx, 0.0, 0.0, sy, px, py);
        let mask = imp.clip.and_then(|[cx, cy, cw, ch]| {
            let rect = tiny_skia::Rect::from_xywh(
                px + cx as f32 * scale,
                py + cy as f32 * scale,
                cw as f32 * scale,
                ch as f32 * scale,
            )?;
            let mut mask = tiny_skia::Mask::new(pixmap.width(), pixmap.height())?;
            mask.fill_path(
                &tiny_skia::PathBuilder::from_rect(rect),
                tiny_skia::FillRule::Winding,
                true,
                tiny_skia::Transform::identity(),
            );
            Some(mask)
        });
        if imp.clip.is_some() && mask.is_none() {
            continue;
        }
        pixmap.draw_pixmap(
            0,
            0,
            picture.as_ref(),
            &tiny_skia::PixmapPaint {
                quality: tiny_skia::FilterQuality::Bicubic,
                ..Default::default()
            },
            transform,
            mask.as_ref(),
        );
    }
    if let Some(mark) = mark {
        draw_mark(&mut pixmap, mark);
    }
    Ok(ofd::render::encode_png(&pixmap)?)
}
