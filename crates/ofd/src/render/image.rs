//! Image decoding for `ImageObject`s: PNG (`png` crate) and JPEG (`zune-jpeg`), with a cap on
//! the decoded size checked from the header before any pixel buffer is allocated.

use crate::model::ImageFormat;
use tiny_skia::{IntSize, Pixmap};

/// Decodes `data` into a premultiplied RGBA pixmap, or says why not.
pub(crate) fn decode(
    format: Option<&ImageFormat>,
    data: &[u8],
    max_pixels: u64,
) -> Result<Pixmap, String> {
    // Trust the bytes over the Format attribute (files in the wild mislabel JPEG as PNG).
    let fmt = ImageFormat::sniff(data).or_else(|| format.cloned());
    match fmt {
        Some(ImageFormat::Png) => decode_png(data, max_pixels),
        Some(ImageFormat::Jpeg) => decode_jpeg(data, max_pixels),
        Some(other) => Err(format!("{} images are not supported", other.as_attr())),
        None => Err("unknown image format".into()),
    }
}

fn check(w: u64, h: u64, max: u64) -> Result<(), String> {
    if w == 0 || h == 0 {
        return Err("empty image".into());
    }
    if w.saturating_mul(h) > max {
        return Err(format!("{w} × {h} pixels exceeds the limit of {max}"));
    }
    Ok(())
}

fn to_pixmap(w: u32, h: u32, mut rgba: Vec<u8>) -> Result<Pixmap, String> {
    for px in rgba.chunks_exact_mut(4) {
        if let [r, g, b, a] = px
            && *a != 255
        {
            let m = |c: &mut u8| *c = ((u16::from(*c) * u16::from(*a) + 127) / 255) as u8;
            m(r);
            m(g);
            m(b);
        }
    }
    let size = IntSize::from_wh(w, h).ok_or("bad image size")?;
    Pixmap::from_vec(rgba, size).ok_or_else(|| "bad image buffer".into())
}

fn decode_png(data: &[u8], max: u64) -> Result<Pixmap, String> {
    let mut dec = png::Decoder::new_with_limits(
        std::io::Cursor::new(data),
        png::Limits {
            bytes: usize::try_from(max.saturating_mul(8)).unwrap_or(usize::MAX),
        },
    );
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| format!("PNG: {e}"))?;
    let (w, h) = {
        let i = reader.info();
        (i.width, i.height)
    };
    check(u64::from(w), u64::from(h), max)?;
    let size = reader
        .output_buffer_size()
        .ok_or("PNG: output buffer size overflows")?;
    let mut buf = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("PNG: {e}"))?;
    let bytes = buf.get(..frame.buffer_size()).ok_or("PNG: short frame")?;
    let n = (w as usize) * (h as usize);
    let mut rgba = Vec::with_capacity(n * 4);
    match frame.color_type {
        png::ColorType::Rgba => rgba.extend_from_slice(bytes),
        png::ColorType::Rgb => {
            for p in bytes.chunks_exact(3) {
                rgba.extend_from_slice(p);
                rgba.push(255);
            }
        }
        png::ColorType::GrayscaleAlpha => {
            for p in bytes.chunks_exact(2) {
                if let [g, a] = p {
                    rgba.extend_from_slice(&[*g, *g, *g, *a]);
                }
            }
        }
        png::ColorType::Grayscale => {
            for g in bytes {
                rgba.extend_from_slice(&[*g, *g, *g, 255]);
            }
        }
        png::ColorType::Indexed => return Err("PNG: palette not expanded".into()),
    }
    if rgba.len() != n * 4 {
        return Err("PNG: truncated pixel data".into());
    }
    to_pixmap(w, h, rgba)
}

fn decode_jpeg(data: &[u8], max: u64) -> Result<Pixmap, String> {
    use zune_jpeg::JpegDecoder;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let side = usize::try_from(max.min(65_535)).unwrap_or(65_535);
    let opts = DecoderOptions::default()
        .set_max_width(side)
        .set_max_height(side)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut dec = JpegDecoder::new_with_options(std::io::Cursor::new(data), opts);
    dec.decode_headers().map_err(|e| format!("JPEG: {e:?}"))?;
    let (w, h) = dec.dimensions().ok_or("JPEG: no dimensions")?;
    check(w as u64, h as u64, max)?;
    let px = dec.decode().map_err(|e| format!("JPEG: {e:?}"))?;
    if px.len() != w * h * 4 {
        return Err(format!("JPEG: {} bytes for {w} × {h} RGBA", px.len()));
    }
    to_pixmap(
        u32::try_from(w).map_err(|_| "JPEG: too wide")?,
        u32::try_from(h).map_err(|_| "JPEG: too high")?,
        px,
    )
}
