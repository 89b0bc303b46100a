//! The fonts typst may use: the shipped default subsets or any configured font files.

use std::path::Path;
use std::sync::OnceLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

use crate::error::LayoutError;

/// Family name of the default serif (Song style) font, a GB 2312 subset of Noto Serif CJK SC
/// with TrueType outlines (`assets/fonts/`, SIL OFL 1.1).
pub const DEFAULT_SERIF: &str = "ECert Serif SC";
/// Family name of the default sans (Hei style) font, a GB 2312 subset of Noto Sans CJK SC.
pub const DEFAULT_SANS: &str = "ECert Sans SC";

macro_rules! asset {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/fonts/",
            $name
        ))
    };
}

/// The shipped default fonts (R-4.1.6: they are embedded as subsets in every certificate).
static DEFAULTS: [&[u8]; 4] = [
    asset!("ECertSerifSC-Regular.ttf"),
    asset!("ECertSerifSC-Bold.ttf"),
    asset!("ECertSansSC-Regular.ttf"),
    asset!("ECertSansSC-Bold.ttf"),
];

/// A set of font faces and the two family names templates use for body text and headings.
///
/// Loading parses every face once; keep one `Fonts` for the life of the process.
#[derive(Debug)]
pub struct Fonts {
    pub(crate) fonts: Vec<Font>,
    pub(crate) book: LazyHash<FontBook>,
    /// The same faces parsed for the OFD writer, made on first use.
    sources: Vec<OnceLock<ofd::FontSource>>,
    serif: String,
    sans: String,
}

impl Fonts {
    /// The shipped defaults: "ECert Serif SC" and "ECert Sans SC", Regular and Bold.
    pub fn builtin() -> Self {
        let fonts: Vec<Font> = DEFAULTS
            .iter()
            .flat_map(|d| Font::iter(Bytes::new(*d)))
            .collect();
        Self::with(fonts, DEFAULT_SERIF.into(), DEFAULT_SANS.into())
    }

    /// Fonts given as file contents (TrueType/OpenType, collections too: every face is
    /// loaded). `serif` and `sans` name the families the templates use for body text and for
    /// headings; each must be among the faces.
    pub fn from_data(
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        serif: &str,
        sans: &str,
    ) -> Result<Self, LayoutError> {
        let mut fonts = Vec::new();
        for (what, data) in files {
            let before = fonts.len();
            fonts.extend(Font::iter(Bytes::new(data)));
            if fonts.len() == before {
                return Err(LayoutError::Font {
                    what,
                    reason: "no font face could be read (not TrueType/OpenType?)".into(),
                });
            }
        }
        let me = Self::with(fonts, serif.into(), sans.into());
        for fam in [serif, sans] {
            if me.book.select_family(&fam.to_lowercase()).next().is_none() {
                return Err(LayoutError::Font {
                    what: fam.into(),
                    reason: format!(
                        "no face of this family among the configured fonts (families: {})",
                        me.families().join(", ")
                    ),
                });
            }
        }
        Ok(me)
    }

    /// Fonts read from files (see [`Fonts::from_data`]).
    pub fn from_files(
        paths: &[impl AsRef<Path>],
        serif: &str,
        sans: &str,
    ) -> Result<Self, LayoutError> {
        let mut files = Vec::new();
        for p in paths {
            let p = p.as_ref();
            let data = std::fs::read(p).map_err(|e| LayoutError::Font {
                what: p.display().to_string(),
                reason: e.to_string(),
            })?;
            files.push((p.display().to_string(), data));
        }
        Self::from_data(files, serif, sans)
    }

    fn with(fonts: Vec<Font>, serif: String, sans: String) -> Self {
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        let sources = fonts.iter().map(|_| OnceLock::new()).collect();
        Self {
            fonts,
            book,
            sources,
            serif,
            sans,
        }
    }

    /// The face for the OFD writer (parsed once; the font data is shared, not copied per
    /// certificate).
    pub(crate) fn source(&self, font: &Font) -> Result<ofd::FontSource, LayoutError> {
        let what = || font.info().family.clone();
        let i = self
            .fonts
            .iter()
            .position(|f| f == font)
            .ok_or_else(|| LayoutError::Font {
                what: what(),
                reason: "typst used a font that is not among the configured ones".into(),
            })?;
        let cell = self.sources.get(i).ok_or_else(|| LayoutError::Font {
            what: what(),
            reason: "font table out of step".into(),
        })?;
        if let Some(s) = cell.get() {
            return Ok(s.clone());
        }
        let data: std::sync::Arc<[u8]> = std::sync::Arc::from(&font.data()[..]);
        let src = ofd::FontSource::new(data, font.index()).map_err(|e| LayoutError::Font {
            what: what(),
            reason: e.to_string(),
        })?;
        Ok(cell.get_or_init(|| src).clone())
    }

    /// The regular face of the heading (sans) family for the OFD writer, e.g. for text the
    /// application adds to a page it did not lay out (R-4.3.6 on a handed-over file).
    pub fn sans_source(&self) -> Result<ofd::FontSource, LayoutError> {
        let font = self.regular(&self.sans).ok_or_else(|| LayoutError::Font {
            what: self.sans.clone(),
            reason: "no face of this family".into(),
        })?;
        self.source(font)
    }

    /// The regular face of the body (serif) family.
    pub(crate) fn serif_regular(&self) -> Option<&Font> {
        self.regular(&self.serif)
    }

    /// The regular face of `family`.
    fn regular(&self, family: &str) -> Option<&Font> {
        let i = self
            .book
            .select(&family.to_lowercase(), typst::text::FontVariant::default())?;
        self.fonts.get(i)
    }

    /// The family used for body text.
    pub fn serif(&self) -> &str {
        &self.serif
    }

    /// The family used for headings.
    pub fn sans(&self) -> &str {
        &self.sans
    }

    /// All family names, sorted and deduplicated.
    pub fn families(&self) -> Vec<String> {
        let mut v: Vec<String> = self.fonts.iter().map(|f| f.info().family.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Longest string (in chars) whose width [`text_widths`] reports.
const MAX_MEASURED_CHARS: usize = 120;

/// Every string of the content whose characters all have a glyph in `font`, with the sum of
/// their advances in em: an upper bound of the set width in that face, for templates that
/// choose a cheaper layout for text known to fit (the shipped result tables give such rows a
/// fixed height instead of measuring each cell). Kerning is ignored (it almost always
/// narrows); typst's quarter-em gap between Chinese and Latin characters
/// (`cjk-latin-spacing`) is counted. Strings longer than 120 characters, or with a character
/// the face lacks, are left out.
pub(crate) fn text_widths(
    font: &Font,
    content: &serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let Ok(face) = ttf_parser::Face::parse(font.data(), font.index()) else {
        return out;
    };
    let mut stack = vec![content];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => {
                if !out.contains_key(s)
                    && let Some(w) = width_em(&face, s)
                {
                    out.insert(s.clone(), w.into());
                }
            }
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    out
}

/// The advance of `s` in `font`, in em (see [`text_widths`]).
fn width_em(face: &ttf_parser::Face<'_>, s: &str) -> Option<f64> {
    let upem = f64::from(face.units_per_em().max(1));
    let mut em = 0.0;
    let mut prev: Option<bool> = None;
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_MEASURED_CHARS || c.is_control() {
            return None;
        }
        em += f64::from(face.glyph_hor_advance(face.glyph_index(c)?)?) / upem;
        let han = is_han(c);
        let latin = c.is_ascii_alphanumeric();
        if (han || latin) && prev.is_some_and(|p| p != han) {
            em += 0.25;
        }
        if han || latin {
            prev = Some(han);
        } else if !c.is_whitespace() {
            prev = None;
        }
    }
    Some(em)
}

/// Whether `c` is a CJK ideograph (typst's Han script test for `cjk-latin-spacing`).
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Extras, Item, Template};

    /// The widths handed to templates are upper bounds of what typst sets (the shipped result
    /// tables give a row the height of one line on their word), and not loose ones: checked
    /// against typst's own layout of each string in the same face and size.
    #[test]
    fn text_widths_bound_what_typst_sets() {
        let strings = [
            "直流电压",
            "600 mV",
            "WWWWWWWW",
            "电阻 6 kΩ",
            "0.5级",
            "±(0.05%+2)",
            "交流电压 1 kHz",
            "MPE：±0.5 ℃",
            "型号/规格",
            "AVAVAV To Ty",
            "第3次测量Test",
        ];
        let fonts = Fonts::builtin();
        let data = serde_json::json!({ "issueDate": "2024-03-08", "strings": strings });
        let main = r#"#import "/ecert.typ": slot, electronic-notice
#set page(paper: "a4", footer: text(font: "ECert Sans SC", electronic-notice))
#set text(font: "ECert Serif SC", size: 9pt, lang: "zh", region: "CN", hyphenate: false)
#set par(justify: false)
#slot("code", 25mm, 25mm)
#slot("seal", 40mm, 40mm)
#for s in json("/data.json").strings { block(s) }
"#;
        let t = Template::from_files(
            "widths",
            "/main.typ",
            [("/main.typ".to_string(), main.as_bytes().to_vec())],
        )
        .unwrap();
        let json = serde_json::to_vec(&data).unwrap();
        let layout = crate::lay_out(&t, &json, &Extras::default(), &fonts).unwrap();
        // Each string is one line: its runs share a baseline (mm, rounded). Its width is the sum
        // of its glyphs' advances (a glyph's drawn x may carry an offset).
        let mut lines: std::collections::BTreeMap<i64, Vec<(f64, f64, String)>> =
            Default::default();
        for item in &layout.pages[0].items {
            if let Item::Text(run) = item {
                let m = &run.transform;
                let Some(first) = run.glyphs.first() else {
                    continue;
                };
                let p = m.apply(crate::geom::Point::new(first.x, first.y));
                let advance: f64 = run.glyphs.iter().map(|g| g.advance * m.a).sum();
                lines
                    .entry((p.y * 100.0).round() as i64)
                    .or_default()
                    .push((p.x, advance, run.text.clone()));
            }
        }
        for runs in lines.values_mut() {
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let size_mm = 9.0 * 25.4 / 72.0;
        let widths = text_widths(fonts.serif_regular().unwrap(), &data);
        let mut seen = 0;
        for glyphs in lines.values() {
            let text: String = glyphs.iter().map(|g| g.2.as_str()).collect();
            let Some(s) = strings
                .iter()
                .find(|s| s.replace(' ', "") == text.replace(' ', ""))
            else {
                continue;
            };
            seen += 1;
            let set = glyphs.iter().map(|g| g.1).sum::<f64>() / size_mm;
            let bound = widths[*s].as_f64().unwrap();
            assert!(
                set <= bound + 1e-9,
                "{s:?}: typst sets {set} em, bound {bound} em"
            );
            // (kerning narrows pairs such as "AV": a tenth to spare, not more)
            assert!(
                bound - set < 0.1 * bound + 0.3,
                "{s:?}: bound {bound} em is loose (set {set} em)"
            );
        }
        assert_eq!(seen, strings.len(), "lines found: {lines:?}");
    }

    /// A character the face lacks, a control character or an over-long string: no width (the
    /// template then measures as usual).
    #[test]
    fn no_width_without_a_bound() {
        let fonts = Fonts::builtin();
        let face = fonts.serif_regular().unwrap();
        let long = "长".repeat(MAX_MEASURED_CHARS + 1);
        let data = serde_json::json!(["𠀀", "a\u{7}b", long, "直流电压", { "k": ["5级"] }]);
        let w = text_widths(face, &data);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w["直流电压"].as_f64(), Some(4.0));
        // A digit, an ideograph and the quarter em typst puts between them.
        let digit = text_widths(face, &serde_json::json!("5"))["5"]
            .as_f64()
            .unwrap();
        assert!(
            (w["5级"].as_f64().unwrap() - (digit + 1.25)).abs() < 1e-9,
            "{w:?}"
        );
    }
}
