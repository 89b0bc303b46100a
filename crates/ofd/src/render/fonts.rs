//! Fonts for the renderer: the document's embedded fonts (parsed with ttf-parser: TrueType
//! `glyf` and CFF outlines, font collections) and the fallback fonts used for fonts that are
//! not embedded.

use std::collections::HashMap;
use std::sync::Arc;
use tiny_skia::{Path, PathBuilder};

/// Debian locations tried by [`FallbackFonts::system`], in order, with their packages.
pub const SYSTEM_FALLBACKS: &[(&str, u32, &str)] = &[
    (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        0,
        "fonts-wqy-microhei",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        0,
        "fonts-dejavu-core",
    ),
];

/// A fallback font file could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FontLoadError {
    /// The file could not be read.
    #[error("{path}: {why}")]
    Io {
        /// The path.
        path: String,
        /// The OS error, and which package to install when known.
        why: String,
    },
    /// The file is not a font ttf-parser can read (or the face index is out of range).
    #[error("{name}: not a TrueType/OpenType font (face {index}): {why}")]
    Parse {
        /// Path or name.
        name: String,
        /// Face index.
        index: u32,
        /// The parser's message.
        why: String,
    },
}

/// One fallback face.
#[derive(Debug, Clone)]
pub(crate) struct FallbackFace {
    pub(crate) name: String,
    pub(crate) data: Arc<[u8]>,
    pub(crate) index: u32,
}

/// Fonts used for text whose font the document does not embed (ofdrw's helloworld and the
/// invoices name `宋体`, `楷体`, `Courier New`… without a file), tried in order per character.
/// Load once and share (`Arc`) between renders: a CJK font is megabytes.
#[derive(Debug, Clone, Default)]
pub struct FallbackFonts {
    pub(crate) faces: Vec<FallbackFace>,
}

impl FallbackFonts {
    /// No fallback fonts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a font file (TrueType/OpenType, or face `index` of a collection).
    pub fn add_file(
        &mut self,
        path: impl AsRef<std::path::Path>,
        index: u32,
    ) -> Result<(), FontLoadError> {
        let p = path.as_ref();
        let data = std::fs::read(p).map_err(|e| FontLoadError::Io {
            path: p.display().to_string(),
            why: e.to_string(),
        })?;
        self.add_bytes(p.display().to_string(), data, index)
    }

    /// Adds a font from memory; `name` is used in messages.
    pub fn add_bytes(
        &mut self,
        name: impl Into<String>,
        data: Vec<u8>,
        index: u32,
    ) -> Result<(), FontLoadError> {
        let name = name.into();
        ttf_parser::Face::parse(&data, index).map_err(|e| FontLoadError::Parse {
            name: name.clone(),
            index,
            why: e.to_string(),
        })?;
        self.faces.push(FallbackFace {
            name,
            data: data.into(),
            index,
        });
        Ok(())
    }

    /// The Debian fonts of [`SYSTEM_FALLBACKS`] that are installed (WenQuanYi Micro Hei for
    /// CJK, DejaVu Sans for Latin). Fails, naming the packages, when none is.
    pub fn system() -> Result<Self, FontLoadError> {
        let mut f = Self::new();
        let mut why = Vec::new();
        for (path, index, pkg) in SYSTEM_FALLBACKS {
            if let Err(e) = f.add_file(path, *index) {
                why.push(format!("{e} (Debian package {pkg})"));
            }
        }
        if f.faces.is_empty() {
            return Err(FontLoadError::Io {
                path: SYSTEM_FALLBACKS
                    .iter()
                    .map(|s| s.0)
                    .collect::<Vec<_>>()
                    .join(", "),
                why: format!("no fallback font installed: {}", why.join("; ")),
            });
        }
        Ok(f)
    }

    /// [`FallbackFonts::system`] loaded once per process and shared (for servers rendering
    /// previews, R-6.3c, and the CLI).
    pub fn shared_system() -> Result<Arc<FallbackFonts>, FontLoadError> {
        static SYSTEM: std::sync::OnceLock<Result<Arc<FallbackFonts>, FontLoadError>> =
            std::sync::OnceLock::new();
        SYSTEM
            .get_or_init(|| FallbackFonts::system().map(Arc::new))
            .clone()
    }

    /// Names of the loaded faces, in order.
    pub fn names(&self) -> Vec<&str> {
        self.faces.iter().map(|f| f.name.as_str()).collect()
    }

    /// True when no face is loaded.
    pub fn is_empty(&self) -> bool {
        self.faces.is_empty()
    }
}

/// Which face a glyph comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FaceKey {
    /// The document font with this resource ID.
    Embedded(u32),
    /// Fallback face number.
    Fallback(usize),
}

/// A glyph outline in font units (y up), and the face's units per em.
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    pub(crate) path: Option<Path>,
    pub(crate) ops: usize,
}

/// Outlines of glyphs, parsed once per render.
#[derive(Default)]
pub(crate) struct GlyphCache {
    map: HashMap<(FaceKey, u16), Outline>,
}

struct Builder {
    pb: PathBuilder,
    ops: usize,
}

impl ttf_parser::OutlineBuilder for Builder {
    fn move_to(&mut self, x: f32, y: f32) {
        self.ops += 1;
        self.pb.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.ops += 1;
        self.pb.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.ops += 1;
        self.pb.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.ops += 1;
        self.pb.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.ops += 1;
        self.pb.close();
    }
}

impl GlyphCache {
    /// The outline of `glyph` in `face` (cached; `path` is `None` for an empty glyph).
    pub(crate) fn outline(
        &mut self,
        key: FaceKey,
        face: &ttf_parser::Face<'_>,
        glyph: u16,
    ) -> &Outline {
        self.map.entry((key, glyph)).or_insert_with(|| {
            let mut b = Builder {
                pb: PathBuilder::new(),
                ops: 0,
            };
            let ok = face
                .outline_glyph(ttf_parser::GlyphId(glyph), &mut b)
                .is_some();
            Outline {
                ops: b.ops,
                path: if ok { b.pb.finish() } else { None },
            }
        })
    }
}
