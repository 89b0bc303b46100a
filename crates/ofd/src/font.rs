//! Font files for the writer: metrics for measuring text, and subsetting for embedding
//! everything needed to display the file is inside it).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many distinct subsets a [`FontSource`] remembers (documents from one template mostly
/// use the same glyphs).
const SUBSET_CACHE: usize = 8;

/// Cache key: the kept glyphs and, for [`FontSource::subset_mapped`], the cmap mappings.
type CacheKey = (Vec<u16>, Option<Vec<(char, u16)>>);
type SubsetCache = Arc<Mutex<Vec<(CacheKey, Arc<Subset>)>>>;

/// A font table provider that replaces `cmap` with a small one, so that the subsetter does
/// not walk the whole cmap of a large CJK font.
struct ReducedCmap<'a, P> {
    inner: &'a P,
    cmap: Vec<u8>,
}

impl<P: allsorts::tables::FontTableProvider> allsorts::tables::FontTableProvider
    for ReducedCmap<'_, P>
{
    fn table_data(
        &self,
        tag: u32,
    ) -> Result<Option<std::borrow::Cow<'_, [u8]>>, allsorts::error::ParseError> {
        if tag == allsorts::tag::CMAP {
            Ok(Some(std::borrow::Cow::Borrowed(&self.cmap)))
        } else {
            self.inner.table_data(tag)
        }
    }
    fn has_table(&self, tag: u32) -> bool {
        tag == allsorts::tag::CMAP || self.inner.has_table(tag)
    }
    fn table_tags(&self) -> Option<Vec<u32>> {
        self.inner.table_tags()
    }
}

/// A `cmap` table with one Windows Unicode full-repertoire (3, 10) format 12 subtable.
fn cmap_format12(m: &BTreeMap<char, u16>) -> Vec<u8> {
    let n = m.len() as u32;
    let mut out = Vec::with_capacity(28 + 12 * m.len());
    out.extend_from_slice(&0u16.to_be_bytes()); // version
    out.extend_from_slice(&1u16.to_be_bytes()); // numTables
    out.extend_from_slice(&3u16.to_be_bytes()); // platform: Windows
    out.extend_from_slice(&10u16.to_be_bytes()); // encoding: Unicode full repertoire
    out.extend_from_slice(&12u32.to_be_bytes()); // offset
    out.extend_from_slice(&12u16.to_be_bytes()); // format
    out.extend_from_slice(&0u16.to_be_bytes()); // reserved
    out.extend_from_slice(&(16 + 12 * n).to_be_bytes()); // length
    out.extend_from_slice(&0u32.to_be_bytes()); // language
    out.extend_from_slice(&n.to_be_bytes()); // numGroups
    for (c, g) in m {
        let c = u32::from(*c);
        out.extend_from_slice(&c.to_be_bytes());
        out.extend_from_slice(&c.to_be_bytes());
        out.extend_from_slice(&u32::from(*g).to_be_bytes());
    }
    out
}

/// Why a font could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// The bytes are not a TrueType/OpenType font or collection, or the face index is wrong.
    #[error("font {name:?}: cannot parse face {index}: {why}")]
    Parse {
        /// File name or description.
        name: String,
        /// Face index within a collection.
        index: u32,
        /// The parser's message.
        why: String,
    },
    /// Reading the font file failed.
    #[error("font file {path:?}: {why}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        why: String,
    },
    /// A character has no glyph in the font (it would display differently elsewhere).
    #[error("font {font:?} has no glyph for {ch:?} (U+{code:04X})")]
    MissingGlyph {
        /// Font family.
        font: String,
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
    },
    /// A visible character whose glyph has no outline: it would display as a gap (R-4.1.6;
    /// WenQuanYi Micro Hei maps ℃ to such a glyph). Pick another font for it.
    #[error(
        "字体 {font:?} 中 {ch:?} (U+{code:04X}) 的字形为空，会显示为空白，请换用其他字体 (font {font:?} has an empty glyph for {ch:?}; it would display as a gap)"
    )]
    BlankGlyph {
        /// Font family.
        font: String,
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
    },
    /// A glyph index beyond the font's glyph count.
    #[error("font {font:?} has no glyph index {glyph}")]
    BadGlyph {
        /// Font family.
        font: String,
        /// The glyph index.
        glyph: u16,
    },
    /// Subsetting failed.
    #[error("subsetting font {font:?}: {why}")]
    Subset {
        /// Font family.
        font: String,
        /// The subsetter's message.
        why: String,
    },
}

/// Whether `c` must leave ink when drawn: not whitespace, not a zero-width, format or filler
/// character (the Hangul fillers are blank by design; the shipped ECert fonts map U+FFA0 to
/// an empty glyph).
pub fn is_visible_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '\u{00AD}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// A subset font: its bytes and `(original glyph, new glyph)` pairs sorted by original glyph.
pub type Subset = (Vec<u8>, Vec<(u16, u16)>);

/// A font face to embed: the whole font file (shared, not copied per document) and a face
/// index for collections (`.ttc`).
#[derive(Debug, Clone)]
pub struct FontSource {
    data: Arc<[u8]>,
    index: u32,
    family: String,
    full_name: String,
    upem: u16,
    ascender: i16,
    descender: i16,
    glyph_count: u16,
    truetype_outlines: bool,
    bold: bool,
    italic: bool,
    /// Recent subsets, shared by clones (keyed by the sorted glyph list).
    cache: SubsetCache,
    /// Per glyph: 0 not yet known, 1 has an outline, 2 is empty; shared by clones.
    outlines: OutlineCache,
}

/// Whether each glyph has an outline, learnt on first use (see [`FontSource::glyph_has_outline`]).
#[derive(Clone)]
struct OutlineCache(Arc<[std::sync::atomic::AtomicU8]>);

impl std::fmt::Debug for OutlineCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OutlineCache({} glyphs)", self.0.len())
    }
}

fn face(data: &[u8], index: u32) -> Result<ttf_parser::Face<'_>, ttf_parser::FaceParsingError> {
    ttf_parser::Face::parse(data, index)
}

fn name_of(f: &ttf_parser::Face<'_>, id: u16) -> Option<String> {
    let names: Vec<_> = f
        .names()
        .into_iter()
        .filter(|n| n.name_id == id && n.is_unicode())
        .collect();
    names
        .iter()
        .find(|n| n.language_id == 0x0409)
        .or(names.first())
        .and_then(|n| n.to_string())
}

impl FontSource {
    /// Parses face `index` of a font file (TrueType, OpenType/CFF, or a collection).
    pub fn new(data: impl Into<Arc<[u8]>>, index: u32) -> Result<Self, FontError> {
        let data: Arc<[u8]> = data.into();
        let f = face(&data, index).map_err(|e| FontError::Parse {
            name: "<bytes>".into(),
            index,
            why: e.to_string(),
        })?;
        let family = name_of(&f, ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
            .or_else(|| name_of(&f, ttf_parser::name_id::FAMILY))
            .unwrap_or_else(|| "Embedded".to_string());
        let full_name =
            name_of(&f, ttf_parser::name_id::FULL_NAME).unwrap_or_else(|| family.clone());
        let truetype_outlines = f.tables().glyf.is_some();
        let s = FontSource {
            family,
            full_name,
            upem: f.units_per_em(),
            ascender: f.ascender(),
            descender: f.descender(),
            glyph_count: f.number_of_glyphs(),
            truetype_outlines,
            bold: f.is_bold(),
            italic: f.is_italic(),
            index,
            data: Arc::clone(&data),
            cache: Arc::default(),
            outlines: OutlineCache(
                (0..f.number_of_glyphs())
                    .map(|_| std::sync::atomic::AtomicU8::new(0))
                    .collect(),
            ),
        };
        Ok(s)
    }

    /// Reads and parses a font file.
    pub fn from_path(path: impl AsRef<std::path::Path>, index: u32) -> Result<Self, FontError> {
        let p = path.as_ref();
        let data = std::fs::read(p).map_err(|e| FontError::Io {
            path: p.display().to_string(),
            why: e.to_string(),
        })?;
        Self::new(data, index).map_err(|e| match e {
            FontError::Parse { index, why, .. } => FontError::Parse {
                name: p.display().to_string(),
                index,
                why,
            },
            other => other,
        })
    }

    /// Family name from the `name` table (English preferred).
    pub fn family_name(&self) -> &str {
        &self.family
    }
    /// Full font name from the `name` table.
    pub fn full_name(&self) -> &str {
        &self.full_name
    }
    /// Units per em.
    pub fn units_per_em(&self) -> u16 {
        self.upem
    }
    /// Ascender in font units (positive, above the baseline).
    pub fn ascender(&self) -> i16 {
        self.ascender
    }
    /// Descender in font units (negative, below the baseline).
    pub fn descender(&self) -> i16 {
        self.descender
    }
    /// True for TrueType (`glyf`) outlines, false for CFF.
    pub fn has_truetype_outlines(&self) -> bool {
        self.truetype_outlines
    }
    /// Bold per OS/2.
    pub fn is_bold(&self) -> bool {
        self.bold
    }
    /// Italic per OS/2.
    pub fn is_italic(&self) -> bool {
        self.italic
    }
    /// Number of glyphs.
    pub fn glyph_count(&self) -> u16 {
        self.glyph_count
    }

    pub(crate) fn face(&self) -> Option<ttf_parser::Face<'_>> {
        face(&self.data, self.index).ok()
    }

    /// The glyph the font's cmap gives for `ch`.
    pub fn glyph_for(&self, ch: char) -> Option<u16> {
        self.face()?.glyph_index(ch).map(|g| g.0)
    }

    /// Advance width of a glyph in font units.
    pub fn advance(&self, glyph: u16) -> Option<u16> {
        self.face()?.glyph_hor_advance(ttf_parser::GlyphId(glyph))
    }

    /// Maps `text` to glyphs with the cmap, returning `(char, glyph, advance in mm)` for a
    /// font size of `size` mm. Fails on a character without a glyph.
    pub fn layout(&self, text: &str, size: f64) -> Result<Vec<(char, u16, f64)>, FontError> {
        let f = self.face().ok_or_else(|| FontError::Parse {
            name: self.family.clone(),
            index: self.index,
            why: "face no longer parses".into(),
        })?;
        let scale = size / f64::from(self.upem.max(1));
        text.chars()
            .map(|ch| {
                let g = f
                    .glyph_index(ch)
                    .filter(|g| g.0 != 0)
                    .ok_or(FontError::MissingGlyph {
                        font: self.family.clone(),
                        ch,
                        code: u32::from(ch),
                    })?;
                let adv = f.glyph_hor_advance(g).unwrap_or(0);
                Ok((ch, g.0, f64::from(adv) * scale))
            })
            .collect()
    }

    /// The characters of `text` that are not whitespace but whose glyph has no outline: they
    /// would display as a gap (WenQuanYi Micro Hei maps ℃ to an empty glyph). Characters
    /// without any glyph are not listed here; [`layout`](Self::layout) refuses those.
    /// A layout engine can use this to pick a fallback font before writing.
    pub fn blank_glyphs(&self, text: &str) -> Vec<char> {
        let Some(f) = self.face() else {
            return Vec::new();
        };
        let mut out: Vec<char> = text
            .chars()
            .filter(|c| is_visible_char(*c))
            .filter(|c| {
                f.glyph_index(*c)
                    .is_some_and(|g| g.0 != 0 && f.glyph_bounding_box(g).is_none())
            })
            .collect();
        out.dedup();
        out
    }

    /// Whether glyph `glyph` has an outline (`false` also for an index the font lacks).
    pub fn glyph_has_outline(&self, glyph: u16) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let Some(known) = self.outlines.0.get(usize::from(glyph)) else {
            return false;
        };
        match known.load(Relaxed) {
            1 => true,
            2 => false,
            _ => {
                // Outlining a glyph is the only way to know: done once per glyph and font.
                let has = self
                    .face()
                    .is_some_and(|f| f.glyph_bounding_box(ttf_parser::GlyphId(glyph)).is_some());
                known.store(if has { 1 } else { 2 }, Relaxed);
                has
            }
        }
    }

    /// Width of `text` in mm at `size` mm (sum of advances).
    pub fn measure(&self, text: &str, size: f64) -> Result<f64, FontError> {
        Ok(self.layout(text, size)?.iter().map(|g| g.2).sum())
    }

    /// A subset holding `.notdef` and `glyphs` (original indices, any order, duplicates
    /// allowed). Returns the font bytes and, in the same order as the sorted, deduplicated
    /// input, the new glyph index of each kept glyph. The subset keeps `cmap` (for the kept
    /// glyphs), `hmtx` (advances unchanged) and TrueType or CFF outlines.
    ///
    /// Results are cached per font (shared by clones), so documents from one template do
    /// not pay for subsetting again; the output is the same either way.
    pub fn subset(&self, glyphs: &[u16]) -> Result<Arc<Subset>, FontError> {
        self.subset_inner(glyphs, None)
    }

    /// Like [`subset`](Self::subset), but the subset's cmap holds exactly `mappings`
    /// (character → original glyph, e.g. the characters a document uses). Much faster on large
    /// CJK fonts, because the font's full cmap is never walked; the glyphs in `mappings` are
    /// kept in addition to `glyphs`.
    pub fn subset_mapped(
        &self,
        mappings: &BTreeMap<char, u16>,
        glyphs: &[u16],
    ) -> Result<Arc<Subset>, FontError> {
        let mut all: Vec<u16> = glyphs.to_vec();
        all.extend(mappings.values());
        self.subset_inner(&all, Some(mappings))
    }

    fn subset_inner(
        &self,
        glyphs: &[u16],
        mappings: Option<&BTreeMap<char, u16>>,
    ) -> Result<Arc<Subset>, FontError> {
        use allsorts::binary::read::ReadScope;
        use allsorts::font_data::FontData;
        use allsorts::subset::{CmapTarget, SubsetProfile, subset};
        let err = |why: String| FontError::Subset {
            font: self.family.clone(),
            why,
        };
        let mut ids: Vec<u16> = glyphs.iter().copied().filter(|&g| g != 0).collect();
        ids.sort_unstable();
        ids.dedup();
        if let Some(&g) = ids.iter().find(|&&g| g >= self.glyph_count) {
            return Err(FontError::BadGlyph {
                font: self.family.clone(),
                glyph: g,
            });
        }
        let key: CacheKey = (
            ids.clone(),
            mappings.map(|m| m.iter().map(|(c, g)| (*c, *g)).collect()),
        );
        if let Ok(c) = self.cache.lock()
            && let Some((_, hit)) = c.iter().find(|(k, _)| *k == key)
        {
            return Ok(Arc::clone(hit));
        }
        let mut list = Vec::with_capacity(ids.len() + 1);
        list.push(0u16);
        list.extend_from_slice(&ids);
        let fd = ReadScope::new(&self.data)
            .read::<FontData<'_>>()
            .map_err(|e| err(e.to_string()))?;
        let provider = fd
            .table_provider(self.index as usize)
            .map_err(|e| err(e.to_string()))?;
        let bytes = match mappings {
            Some(m) => {
                let reduced = ReducedCmap {
                    inner: &provider,
                    cmap: cmap_format12(m),
                };
                subset(
                    &reduced,
                    &list,
                    &SubsetProfile::Minimal,
                    CmapTarget::Unicode,
                )
            }
            None => subset(
                &provider,
                &list,
                &SubsetProfile::Minimal,
                CmapTarget::Unicode,
            ),
        }
        .map_err(|e| err(e.to_string()))?;
        let map = ids
            .iter()
            .enumerate()
            .map(|(i, &g)| (g, u16::try_from(i + 1).unwrap_or(u16::MAX)))
            .collect();
        let out = Arc::new((bytes, map));
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= SUBSET_CACHE {
                c.remove(0);
            }
            c.push((key, Arc::clone(&out)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn latin() -> FontSource {
        FontSource::from_path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0).unwrap_or_else(
            |e| {
                panic!(
                    "{e}: install the Debian package fonts-dejavu-core (see .ci/packages/ofd.apt)"
                )
            },
        )
    }

    #[test]
    fn measures_and_subsets_keeping_cmap_and_advances() {
        let f = latin();
        assert_eq!(f.family_name(), "DejaVu Sans");
        let lay = f.layout("AVA", 10.0).unwrap();
        assert_eq!(lay.len(), 3);
        let sub = f.subset(&[lay[0].1, lay[1].1]).unwrap();
        let again = f.clone().subset(&[lay[1].1, lay[0].1, lay[0].1]).unwrap();
        assert!(Arc::ptr_eq(&sub, &again), "cache shared by clones");
        let (bytes, map) = (sub.0.clone(), &sub.1);
        let sub = FontSource::new(bytes, 0).unwrap();
        assert_eq!(sub.glyph_count(), 3);
        for (ch, old, _) in &lay {
            let new = map.iter().find(|m| m.0 == *old).unwrap().1;
            assert_eq!(sub.glyph_for(*ch), Some(new), "cmap kept for {ch}");
            assert_eq!(sub.advance(new), f.advance(*old), "advance kept for {ch}");
        }
        assert!(sub.has_truetype_outlines());
        // The reduced-cmap path gives a font whose cmap holds exactly the given mappings.
        let m: BTreeMap<char, u16> = lay.iter().map(|(c, g, _)| (*c, *g)).collect();
        let fast = f.subset_mapped(&m, &[]).unwrap();
        let fast_src = FontSource::new(fast.0.clone(), 0).unwrap();
        for (ch, old, _) in &lay {
            let new = fast.1.iter().find(|x| x.0 == *old).unwrap().1;
            assert_eq!(fast_src.glyph_for(*ch), Some(new));
            assert_eq!(fast_src.advance(new), f.advance(*old));
        }
        assert_eq!(fast_src.glyph_for('B'), None);
        assert!(f.blank_glyphs("A V\u{200B}").is_empty());
        assert!(matches!(
            f.layout("\u{E000}", 1.0),
            Err(FontError::MissingGlyph { .. })
        ));
    }
}
