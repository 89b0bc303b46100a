//! SVG, PNG and millimetre-rectangle output.

use crate::{Error, Symbol};
use std::fmt::Write as _;

/// Largest PNG side in pixels.
const MAX_PNG_PX: u32 = 32_768;

/// A dark rectangle in millimetres; origin at the top-left corner of the area including the
/// quiet zone, y downwards (as in OFD page coordinates).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RectMm {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Symbol {
    /// Horizontal runs of dark modules per row: (row, first column, length).
    fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for y in 0..self.size {
            let mut x = 0;
            while x < self.size {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.size && self.is_dark(x, y) {
                        x += 1;
                    }
                    out.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        out
    }

    /// An SVG document: `module_px` pixels a module, `quiet_zone_modules` light modules on
    /// every side (use [`crate::QUIET_ZONE_MODULES`]). One white background rectangle and one
    /// black path whose subpaths are the horizontal runs of dark modules.
    pub fn to_svg(&self, module_px: u32, quiet_zone_modules: u32) -> String {
        let q = quiet_zone_modules as usize;
        let n = self.size + 2 * q;
        let px = u64::from(module_px) * n as u64;
        let runs = self.runs();
        let mut s = String::with_capacity(200 + runs.len() * 16);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{px}\" height=\"{px}\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
        );
        for (y, x, len) in runs {
            let _ = write!(s, "M{} {}h{len}v1h-{len}z", x + q, y + q);
        }
        s.push_str("\"/></svg>\n");
        s
    }

    /// A PNG image (1-bit greyscale): `module_px` pixels a module and `quiet_zone_modules`
    /// light modules on every side. Fails for a module size of 0 or a side over 32,768 px.
    pub fn to_png(&self, module_px: u32, quiet_zone_modules: u32) -> Result<Vec<u8>, Error> {
        let n = self.size + 2 * quiet_zone_modules as usize;
        let side = u32::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(module_px))
            .filter(|&s| s > 0 && s <= MAX_PNG_PX)
            .ok_or(Error::BadImageSize {
                size: n,
                module_px,
                max_px: MAX_PNG_PX,
            })?;
        let px = module_px as usize;
        let q = quiet_zone_modules as usize;
        let stride = (side as usize).div_ceil(8);
        let mut data = vec![0xFFu8; stride * side as usize];
        for (y, x, len) in self.runs() {
            for py in (y + q) * px..(y + q + 1) * px {
                let row = py * stride;
                for pxl in (x + q) * px..(x + q + len) * px {
                    if let Some(b) = data.get_mut(row + pxl / 8) {
                        *b &= !(0x80 >> (pxl % 8));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(data.len() / 4 + 128);
        {
            let mut enc = png::Encoder::new(&mut out, side, side);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            let mut w = enc.write_header().map_err(|e| Error::Png(e.to_string()))?;
            w.write_image_data(&data)
                .map_err(|e| Error::Png(e.to_string()))?;
            w.finish().map_err(|e| Error::Png(e.to_string()))?;
        }
        Ok(out)
    }

    /// The dark modules as rectangles (horizontal runs merged) for a drawing
    /// `area_size_mm` wide and high **including** the quiet zone: a module is
    /// `area_size_mm / (size + 2 × quiet_zone_modules)` mm. For the certificate:
    /// `dark_rects_mm(25.0, QUIET_ZONE_MODULES)`.
    pub fn dark_rects_mm(&self, area_size_mm: f64, quiet_zone_modules: u32) -> Vec<RectMm> {
        let q = quiet_zone_modules as f64;
        let m = area_size_mm / (self.size as f64 + 2.0 * q);
        self.runs()
            .into_iter()
            .map(|(y, x, len)| RectMm {
                x: (x as f64 + q) * m,
                y: (y as f64 + q) * m,
                width: len as f64 * m,
                height: m,
            })
            .collect()
    }

    /// [`Symbol::dark_rects_mm`] as path data in OFD `AbbreviatedData` syntax (GB/T 33190:
    /// `M x y L x y … C` per rectangle), numbers in mm with at most 4 decimals; fill it with
    /// the non-zero rule.
    pub fn path_data_mm(&self, area_size_mm: f64, quiet_zone_modules: u32) -> String {
        let rects = self.dark_rects_mm(area_size_mm, quiet_zone_modules);
        let mut s = String::with_capacity(rects.len() * 48);
        for r in rects {
            let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.width, r.y + r.height);
            for (op, x, y) in [('M', x0, y0), ('L', x1, y0), ('L', x1, y1), ('L', x0, y1)] {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push(op);
                s.push(' ');
                push_num(&mut s, x);
                s.push(' ');
                push_num(&mut s, y);
            }
            s.push_str(" C");
        }
        s
    }
}

/// Writes `v` with at most 4 decimals, trailing zeros removed.
fn push_num(s: &mut String, v: f64) {
    let start = s.len();
    let _ = write!(s, "{:.4}", v);
    if s[start..].contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if &s[start..] == "-0" {
        s.truncate(start);
        s.push('0');
    }
}
