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
        let i = self
            .book
            .select(
                &self.sans.to_lowercase(),
                typst::text::FontVariant::default(),
            )
            .ok_or_else(|| LayoutError::Font {
                what: self.sans.clone(),
                reason: "no face of this family".into(),
            })?;
        let font = self.fonts.get(i).ok_or_else(|| LayoutError::Font {
            what: self.sans.clone(),
            reason: "font table out of step".into(),
        })?;
        self.source(font)
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
