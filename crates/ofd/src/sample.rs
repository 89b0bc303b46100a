//! The three-page demonstration document (the target of the OFD crate): CJK and Latin text, a table
//! drawn with paths, an image, custom tags and an OFD attachment. Used by the round-trip tests,
//! the benchmark, `examples/sample.rs` and the renderer's visual tests.
//!
//! The fonts come from Debian packages (`fonts-wqy-microhei`, `fonts-dejavu-core`; see
//! `.ci/packages/ofd.apt`).

use crate::font::{FontError, FontSource};
use crate::model::*;
use crate::package::Package;
use crate::write::*;
use std::io::Write as _;

/// Where the sample's CJK font (WenQuanYi Micro Hei, TrueType outlines) is expected.
pub const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
/// Where the sample's Latin font (DejaVu Serif) is expected.
pub const LATIN_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf";

/// The two fonts of the sample.
#[derive(Debug, Clone)]
pub struct SampleFonts {
    /// CJK font (also has Latin letters).
    pub cjk: FontSource,
    /// Latin font.
    pub latin: FontSource,
}

impl SampleFonts {
    /// Loads the fonts from the Debian locations; the error names the package to install.
    pub fn system() -> Result<Self, FontError> {
        let hint = |e: FontError, pkg: &str| match e {
            FontError::Io { path, why } => FontError::Io {
                path,
                why: format!("{why} — install the Debian package {pkg}"),
            },
            other => other,
        };
        Ok(SampleFonts {
            cjk: FontSource::from_path(CJK_FONT, 0).map_err(|e| hint(e, "fonts-wqy-microhei"))?,
            latin: FontSource::from_path(LATIN_FONT, 0)
                .map_err(|e| hint(e, "fonts-dejavu-core"))?,
        })
    }
}

/// Input of the sample that varies between documents (for the benchmark).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleData {
    /// `DocID`.
    pub doc_id: String,
    /// Certificate number, drawn on page 1 and stored in the custom tag.
    pub cert_no: String,
    /// Customer name.
    pub customer: String,
    /// Date `YYYY-MM-DD`.
    pub date: String,
}

impl Default for SampleData {
    fn default() -> Self {
        SampleData {
            doc_id: "5f3a9c1e2b7d4e8fa0c1d2e3f4a5b6c7".into(),
            cert_no: "JL2026-000123".into(),
            customer: "上海精密仪器有限公司 Shanghai Precision Instruments Co., Ltd.".into(),
            date: "2026-11-26".into(),
        }
    }
}

/// A small RGB PNG (a seal-red ring on white with a dark square, `size`×`size` pixels), made
/// without an image library so the sample has no extra dependencies.
pub fn sample_png(size: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((size * 3 + 1) * size) as usize);
    let c = size as f64 / 2.0;
    for y in 0..size {
        raw.push(0u8);
        for x in 0..size {
            let (dx, dy) = (x as f64 + 0.5 - c, y as f64 + 0.5 - c);
            let r = (dx * dx + dy * dy).sqrt();
            let px: [u8; 3] =
                if (r > c * 0.8 && r < c * 0.95) || (dx.abs() < c * 0.3 && dy.abs() < c * 0.3) {
                    if r > c * 0.5 {
                        [200, 16, 46]
                    } else {
                        [30, 30, 60]
                    }
                } else {
                    [255, 255, 255]
                };
            raw.extend_from_slice(&px);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |ty: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(ty);
        out.extend_from_slice(data);
        let mut h = crc32fast::Hasher::new();
        h.update(ty);
        h.update(data);
        out.extend_from_slice(&h.finalize().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    out
}

/// The one-page OFD attached to the sample (R-4.1.5: attachments are OFD too).
pub fn attachment_ofd(fonts: &SampleFonts) -> Result<Package, WriteError> {
    let mut doc = DocumentWriter::new(DocInfo {
        doc_id: "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
        title: Some("原始记录 Raw data".into()),
        creation_date: Some("2026-11-26".into()),
        ..Default::default()
    })?;
    let f = doc.add_font(fonts.cjk.clone())?;
    let mut p = doc.add_page();
    p.body().text(
        &TextStyle::new(f, 5.0),
        20.0,
        30.0,
        "原始记录 Raw measurement data",
    )?;
    p.body().text(
        &TextStyle::new(f, 3.5),
        20.0,
        40.0,
        "10.000 V → 10.0002 V, U = 0.0005 V (k=2)",
    )?;
    doc.finish()
}

/// Builds the three-page sample document.
pub fn build(fonts: &SampleFonts, data: &SampleData) -> Result<Package, WriteError> {
    let attachment = attachment_ofd(fonts)?.to_zip()?;
    build_with_attachment(fonts, data, attachment)
}

/// Like [`build`] with a prepared attachment (the benchmark reuses one).
pub fn build_with_attachment(
    fonts: &SampleFonts,
    data: &SampleData,
    attachment: Vec<u8>,
) -> Result<Package, WriteError> {
    let mut doc = DocumentWriter::new(DocInfo {
        doc_id: data.doc_id.clone(),
        title: Some(format!("校准证书 {}", data.cert_no)),
        author: Some("示例计量院 Example Metrology Institute".into()),
        creation_date: Some(data.date.clone()),
        creator: Some("ecert".into()),
        creator_version: Some(env!("CARGO_PKG_VERSION").into()),
        custom_data: vec![("证书编号".into(), data.cert_no.clone())],
        ..Default::default()
    })?;
    let cjk = doc.add_font(fonts.cjk.clone())?;
    let latin = doc.add_font(fonts.latin.clone())?;
    let img = doc.add_image(sample_png(64))?;
    let black = Color::black();
    let title = TextStyle::new(cjk, 8.0);
    let body = TextStyle::new(cjk, 3.704);
    let small = TextStyle::new(cjk, 3.0).fill(Color::rgb(80, 80, 80));
    let lat = TextStyle::new(latin, 3.704);
    let footer = "本证书为电子证书，请到发证机构官网验证 This is an electronic certificate.";
    let total = 3;

    // Page 1: cover.
    let cert_obj;
    {
        let mut p = doc.add_page();
        let mut l = p.body();
        l.text(&title, 60.0, 45.0, "校 准 证 书")?;
        l.text(
            &TextStyle::new(latin, 6.0),
            55.0,
            56.0,
            "Calibration Certificate",
        )?;
        l.text(&body, 30.0, 80.0, "证书编号 Certificate No.:")?;
        cert_obj = l.text(&lat, 85.0, 80.0, &data.cert_no)?;
        l.text(&body, 30.0, 92.0, "委托方 Customer:")?;
        l.text(&body, 62.0, 92.0, &data.customer)?;
        l.text(
            &body,
            30.0,
            104.0,
            "器具名称 Instrument: 数字多用表 Digital multimeter",
        )?;
        l.text(&body, 30.0, 116.0, "校准日期 Date of calibration:")?;
        l.text(&lat, 85.0, 116.0, &data.date)?;
        // WenQuanYi Micro Hei's ℃ is an empty glyph (the writer refuses it, R-4.1.6): the
        // sign comes from the Latin font, between two runs of the CJK font.
        let (before, after) = ("测量值 ±0.5 µV, 温度 (20 ± 2) ", ", 电阻 10 kΩ");
        let x1 = 30.0 + fonts.cjk.measure(before, body.size)?;
        let x2 = x1 + fonts.latin.measure("℃", lat.size)?;
        l.text(&body, 30.0, 128.0, before)?;
        l.text(&lat, x1, 128.0, "℃")?;
        l.text(&body, x2, 128.0, after)?;
        l.image(img, Rect::new(150.0, 220.0, 30.0, 30.0))?;
        l.path(
            Path::new().rect(Rect::new(15.0, 15.0, 180.0, 267.0)),
            &PathStyle::stroked(Stroke::solid(Color::rgb(0, 51, 102), 0.5)),
        )?;
        l.text(&small, 20.0, 285.0, footer)?;
        l.text(&small, 170.0, 278.0, &format!("第 1 页 共 {total} 页"))?;
    }

    // Page 2: results table drawn with paths.
    {
        let mut p = doc.add_page();
        let mut bg = p.layer(LayerType::Background);
        bg.path(
            Path::new().rect(Rect::new(20.0, 40.0, 170.0, 10.0)),
            &PathStyle {
                fill: Some(Color::rgb(210, 225, 240)),
                alpha: Some(200),
                ..Default::default()
            },
        )?;
        let mut l = p.body();
        l.text(
            &TextStyle::new(cjk, 5.0),
            20.0,
            30.0,
            "校准结果 Calibration results",
        )?;
        let cols = [20.0, 60.0, 105.0, 150.0, 190.0];
        let rows: Vec<f64> = (0..7).map(|i| 40.0 + 10.0 * f64::from(i)).collect();
        let mut grid = Path::new();
        for &y in &rows {
            grid.move_to(cols[0], y).line_to(cols[4], y);
        }
        for &x in &cols {
            grid.move_to(x, rows[0]).line_to(x, rows[6]);
        }
        l.path(
            &grid,
            &PathStyle::stroked(Stroke::solid(black.clone(), 0.3)),
        )?;
        let cells = [
            ["量程 Range", "标准值 Ref.", "示值 Reading", "U (k=2)"],
            ["10 V", "10.000 0 V", "10.000 2 V", "0.5 mV"],
            ["100 V", "100.000 V", "100.003 V", "5 mV"],
            ["1 kΩ", "1.000 00 kΩ", "0.999 98 kΩ", "0.02 Ω"],
            ["10 kΩ", "10.000 0 kΩ", "10.000 3 kΩ", "0.2 Ω"],
            ["1 A", "1.000 00 A", "1.000 04 A", "0.1 mA"],
        ];
        for (r, row) in cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let x = cols[c] + 2.0;
                let y = rows[r] + 7.0;
                l.text(&body, x, y, cell)?;
            }
        }
        let mut dash = Stroke::solid(Color::rgb(120, 120, 120), 0.25);
        dash.dash = vec![1.5, 1.0];
        l.path(
            Path::new().move_to(20.0, 110.0).line_to(190.0, 110.0),
            &PathStyle::stroked(dash),
        )?;
        // A clipped shape: a filled circle clipped to its left half.
        let mut circle = Path::new();
        circle
            .move_to(130.0, 150.0)
            .arc_to(15.0, 15.0, 0.0, true, true, 100.0, 150.0)
            .arc_to(15.0, 15.0, 0.0, true, true, 130.0, 150.0)
            .close();
        let mut clip = Path::new();
        clip.rect(Rect::new(95.0, 130.0, 20.0, 40.0));
        l.path(
            &circle,
            &PathStyle {
                fill: Some(Color::rgb(200, 16, 46)),
                stroke: Some(Stroke::solid(black.clone(), 0.3)),
                clip: Some(clip),
                ..Default::default()
            },
        )?;
        l.text(&small, 20.0, 285.0, footer)?;
        l.text(&small, 170.0, 278.0, &format!("第 2 页 共 {total} 页"))?;
    }

    // Page 3: notes, a curve, signature block.
    {
        let mut p = doc.add_page();
        let mut l = p.body();
        l.text(&TextStyle::new(cjk, 5.0), 20.0, 30.0, "说明 Notes")?;
        let notes = [
            "1. 本证书的校准结果仅对所校准的器具有效。",
            "   The results relate only to the item calibrated.",
            "2. 测量不确定度按 JJF 1059.1-2012 评定，包含因子 k=2。",
            "3. 未经本院书面批准，不得部分复制本证书。",
        ];
        for (i, n) in notes.iter().enumerate() {
            l.text(&body, 20.0, 45.0 + 9.0 * i as f64, n)?;
        }
        let mut curve = Path::new();
        curve
            .move_to(20.0, 120.0)
            .cubic_to(60.0, 90.0, 100.0, 150.0, 140.0, 120.0)
            .quad_to(160.0, 105.0, 190.0, 120.0);
        l.path(
            &curve,
            &PathStyle::stroked(Stroke::solid(Color::rgb(0, 102, 51), 0.4)),
        )?;
        l.text(
            &lat,
            20.0,
            200.0,
            "Calibrated by: Zhang San    Checked by: Li Si",
        )?;
        l.text(&small, 20.0, 285.0, footer)?;
        l.text(&small, 170.0, 278.0, &format!("第 3 页 共 {total} 页"))?;
    }

    let page1 = doc.page(0).map(|p| p.id()).unwrap_or(Id(0));
    let tag = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cert:Certificate xmlns:cert=\"urn:ecert:certificate:1\"><cert:Identifier>{}</cert:Identifier><cert:ObjectRef PageRef=\"{}\">{}</cert:ObjectRef></cert:Certificate>",
        crate::xml_out::escape_text(&data.cert_no),
        page1,
        cert_obj
    );
    doc.add_custom_tag(CustomTagSpec {
        type_id: "urn:ecert:certificate:1".into(),
        file_name: "Certificate.xml".into(),
        xml: tag.into_bytes(),
        schema: None,
    })?;
    doc.add_ofd_attachment(
        "原始记录",
        "raw-data.ofd",
        attachment,
        Some(format!("{}T09:30:00", data.date)),
    )?;
    doc.finish()
}
