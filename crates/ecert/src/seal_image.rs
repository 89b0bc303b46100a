//! Seal pictures (R-4.2): the round red seal of an electronic-certificate special seal.
//!
//! The institute's name runs clockwise along the upper arc, a five-pointed star stands in the
//! centre, and the title — which must say what kind of electronic-certificate seal it is, e.g.
//! "校准电子证书专用章" (R-4.2.1, R-4.2.2) — runs horizontally below the star. The picture is made
//! as SVG and rasterised to PNG with the configured font (no system fonts are consulted, so the
//! result is the same on every machine). An institute may import its own image instead; titles
//! are checked the same way.

use std::sync::Arc;

use resvg::{tiny_skia, usvg};

/// The four kinds of electronic-certificate special seal (R-4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SealKind {
    /// 检定电子证书专用章
    Verification,
    /// 校准电子证书专用章
    Calibration,
    /// 检验电子证书专用章
    Inspection,
    /// 检测电子证书专用章
    Testing,
}

impl SealKind {
    /// Every kind.
    pub const ALL: [SealKind; 4] = [
        Self::Verification,
        Self::Calibration,
        Self::Inspection,
        Self::Testing,
    ];

    /// The standard title of the kind (R-4.2.2), e.g. "校准电子证书专用章".
    pub fn title(self) -> &'static str {
        match self {
            Self::Verification => "检定电子证书专用章",
            Self::Calibration => "校准电子证书专用章",
            Self::Inspection => "检验电子证书专用章",
            Self::Testing => "检测电子证书专用章",
        }
    }

    /// The kind a seal title names, if any.
    pub fn from_title(title: &str) -> Option<SealKind> {
        Self::ALL.into_iter().find(|k| title.contains(k.title()))
    }
}

/// Why a seal picture cannot be made or accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealImageError {
    /// R-4.2.1: the seal must visibly say it is an electronic-certificate seal.
    #[error(
        "印章名称“{0}”未标明电子证书专用章（应含“检定/校准/检验/检测电子证书专用章”之一，R-4.2.1） (seal title {0:?} does not say which electronic-certificate special seal it is)"
    )]
    NotElectronicCertificateSeal(String),
    /// The institute name is empty or too long for the arc.
    #[error("单位名称应为 1–24 个字符 (institute name must have 1 to 24 characters), got {0}")]
    BadInstituteName(usize),
    /// The font lacks a character.
    #[error("字体缺少字符“{0}” (U+{1:04X}) (the font has no glyph for {0:?})")]
    MissingGlyph(char, u32),
    /// The font could not be read.
    #[error("无法读取字体 (cannot read the font file)")]
    BadFont,
    /// Rendering failed.
    #[error("印章图像渲染失败 (rendering the seal failed): {0}")]
    Render(String),
}

/// A round seal's design.
#[derive(Debug, Clone, PartialEq)]
pub struct SealDesign {
    /// The institute's name, along the upper arc.
    pub institute: String,
    /// The title below the star, e.g. "校准电子证书专用章".
    pub title: String,
    /// Diameter in millimetres (Chinese official seals: 38–45 mm; default 42).
    pub diameter_mm: f32,
}

/// Seal red.
const RED: &str = "#e60012";

impl SealDesign {
    /// A seal of `kind` for `institute`, 42 mm across.
    pub fn new(institute: &str, kind: SealKind) -> Self {
        SealDesign {
            institute: institute.to_owned(),
            title: kind.title().to_owned(),
            diameter_mm: 42.0,
        }
    }

    /// Checks R-4.2.1/R-4.2.2 and the name length.
    pub fn check(&self) -> Result<SealKind, SealImageError> {
        let n = self.institute.chars().count();
        if n == 0 || n > 24 {
            return Err(SealImageError::BadInstituteName(n));
        }
        check_title(&self.title)
    }

    /// The picture as SVG, in millimetres (`viewBox="0 0 D D"`).
    pub fn svg(&self, font_family: &str) -> String {
        let d = f64::from(self.diameter_mm);
        let c = d / 2.0;
        let border = d * 0.032;
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{d}mm" height="{d}mm" viewBox="0 0 {d} {d}">"#
        );
        out.push_str(&format!(
            r#"<circle cx="{c}" cy="{c}" r="{r:.3}" fill="none" stroke="{RED}" stroke-width="{border:.3}"/>"#,
            r = c - border / 2.0
        ));
        // Five-pointed star, one point up.
        let (outer, inner) = (d * 0.15, d * 0.15 * 0.382);
        let points: Vec<String> = (0..10)
            .map(|i| {
                let r = if i % 2 == 0 { outer } else { inner };
                let a = (f64::from(i) * 36.0 - 90.0).to_radians();
                format!("{:.3},{:.3}", c + r * a.cos(), c + r * a.sin())
            })
            .collect();
        out.push_str(&format!(
            r#"<polygon points="{}" fill="{RED}"/>"#,
            points.join(" ")
        ));

        // The name along the upper arc, clockwise, each character upright towards the centre.
        let chars: Vec<char> = self.institute.chars().collect();
        let n = chars.len() as f64;
        let top = c - border - d * 0.05; // radius of the glyph tops
        let max_span = 250f64;
        let mut size = d * 0.145;
        let per_char = |size: f64| (size * 1.02 / (top - size * 0.5)).to_degrees();
        if per_char(size) * n > max_span {
            // shrink until the name fits the arc
            while size > d * 0.06 && per_char(size) * n > max_span {
                size *= 0.97;
            }
        }
        let step = per_char(size).min(max_span / n);
        let span = step * n;
        let baseline = c - (top - size * 0.88);
        for (i, ch) in chars.iter().enumerate() {
            let angle = -span / 2.0 + step * (i as f64 + 0.5);
            out.push_str(&format!(
                r#"<text x="{c}" y="{baseline:.3}" font-family="{font_family}" font-size="{size:.3}" text-anchor="middle" fill="{RED}" transform="rotate({angle:.3} {c} {c})">{}</text>"#,
                xml_escape(*ch)
            ));
        }
        // The title, horizontal below the star.
        let title_chars = self.title.chars().count().max(1) as f64;
        let title_size = (d * 0.095).min(d * 0.66 / title_chars);
        out.push_str(&format!(
            r#"<text x="{c}" y="{y:.3}" font-family="{font_family}" font-size="{title_size:.3}" text-anchor="middle" fill="{RED}">{}</text>"#,
            self.title.chars().map(xml_escape).collect::<String>(),
            y = c + d * 0.30,
        ));
        out.push_str("</svg>");
        out
    }

    /// The picture as PNG at `px_per_mm` (e.g. 12 ≈ 300 dpi), drawn with `font` (TTF/OTF/TTC
    /// bytes; the first face is used). Every character must be in the font.
    pub fn png(&self, font: &[u8], px_per_mm: f32) -> Result<Vec<u8>, SealImageError> {
        self.check()?;
        let face = ttf_parser::Face::parse(font, 0).map_err(|_| SealImageError::BadFont)?;
        for ch in self.institute.chars().chain(self.title.chars()) {
            if face.glyph_index(ch).is_none() {
                return Err(SealImageError::MissingGlyph(ch, ch.into()));
            }
        }
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(font.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|(name, _)| name.clone()))
            .ok_or(SealImageError::BadFont)?;
        let options = usvg::Options {
            fontdb: Arc::new(db),
            font_family: family.clone(),
            ..Default::default()
        };
        let svg = self.svg(&family);
        let tree = usvg::Tree::from_str(&svg, &options)
            .map_err(|e| SealImageError::Render(e.to_string()))?;
        let px = (self.diameter_mm * px_per_mm).round().max(1.0) as u32;
        let mut pixmap =
            tiny_skia::Pixmap::new(px, px).ok_or_else(|| SealImageError::Render("size".into()))?;
        let scale = px as f32 / tree.size().width();
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| SealImageError::Render(e.to_string()))
    }
}

/// R-4.2.1/R-4.2.2: a seal title must name one of the four electronic-certificate special seals.
pub fn check_title(title: &str) -> Result<SealKind, SealImageError> {
    SealKind::from_title(title)
        .ok_or_else(|| SealImageError::NotElectronicCertificateSeal(title.to_owned()))
}

fn xml_escape(c: char) -> String {
    match c {
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        '&' => "&amp;".into(),
        '"' => "&quot;".into(),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn test_font() -> Vec<u8> {
        crate::test_support::cjk_font()
    }

    /// R-4.2.1: a title without "电子证书" (or not one of the four kinds) is refused.
    #[test]
    fn r_4_2_1_title_must_say_electronic_certificate() {
        for bad in [
            "示例计量院专用章",
            "校准专用章",
            "电子证书专用章",
            "合同专用章",
        ] {
            assert!(
                matches!(
                    check_title(bad),
                    Err(SealImageError::NotElectronicCertificateSeal(_))
                ),
                "{bad}"
            );
        }
        for kind in SealKind::ALL {
            assert_eq!(check_title(kind.title()).expect("standard title"), kind);
            assert_eq!(
                check_title(&format!("示例计量院{}", kind.title())).expect("with name"),
                kind
            );
        }
        let mut d = SealDesign::new("示例市计量测试研究院", SealKind::Calibration);
        d.title = "业务专用章".into();
        assert!(d.png(&test_font(), 4.0).is_err());
    }

    /// R-4.2.2: each of the four kinds renders as a round red seal with a transparent outside.
    #[test]
    fn r_4_2_2_renders_each_kind() {
        let font = test_font();
        for kind in SealKind::ALL {
            let png = SealDesign::new("示例市计量测试研究院", kind)
                .png(&font, 8.0)
                .expect("png");
            if let Some(dir) = std::env::var_os("ECERT_DUMP_DIR") {
                std::fs::write(
                    std::path::Path::new(&dir).join(format!("seal-{kind:?}.png")),
                    &png,
                )
                .expect("dump");
            }
            let img = tiny_skia::Pixmap::decode_png(&png).expect("decodes");
            assert_eq!((img.width(), img.height()), (336, 336));
            let px = |x: u32, y: u32| img.pixel(x, y).expect("in range");
            assert_eq!(px(2, 2).alpha(), 0, "corner is transparent");
            // the ring at the top, the star's centre
            let ring = px(168, 5);
            assert!(
                ring.alpha() > 200 && ring.red() > 180 && ring.green() < 60,
                "{ring:?}"
            );
            let star = px(168, 168);
            assert!(star.alpha() > 200 && star.red() > 180, "{star:?}");
            let red = img.pixels().iter().filter(|p| p.alpha() > 128).count();
            let share = red as f64 / f64::from(336 * 336);
            assert!((0.08..0.45).contains(&share), "ink share {share}");
        }
    }

    #[test]
    fn missing_glyph_is_named() {
        let mut d = SealDesign::new("示例计量院", SealKind::Testing);
        d.institute = "示例\u{10FFFD}院".into();
        match d.png(&test_font(), 4.0) {
            Err(SealImageError::MissingGlyph(_, 0x10FFFD)) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            SealDesign {
                institute: String::new(),
                ..SealDesign::new("x", SealKind::Testing)
            }
            .check(),
            Err(SealImageError::BadInstituteName(0))
        ));
    }
}
