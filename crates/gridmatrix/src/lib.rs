//! Grid Matrix (GB/T 27766-2011, 网格矩阵码) two-dimensional code encoder.
//!
//! The certificate's 2D code (R-4.3.4) is a Grid Matrix symbol, placed about 25 × 25 mm on the
//! first page. This crate turns text or bytes into the module matrix and renders it as SVG,
//! PNG, or rectangles in millimetres for a vector (OFD `PathObject`) drawing.
//!
//! # Brief overview
//!
//! * [`encode`] (text) and [`encode_bytes`] (bytes) take [`Options`] and return a [`Symbol`]:
//!   version 1–13, ECC level 1–5, the modules ([`Symbol::is_dark`], [`Symbol::rows`]) and how the
//!   data were segmented ([`Symbol::segments`]).
//! * [`Symbol::to_svg`], [`Symbol::to_png`] and [`Symbol::dark_rects_mm`] /
//!   [`Symbol::path_data_mm`] render it, with a quiet zone of [`QUIET_ZONE_MODULES`] (6) modules.
//! * [`decode`] reads a module matrix back, checking the frame, the layer IDs and every
//!   Reed–Solomon block, and parses the bit stream. It is a test instrument, written from the
//!   structure of the standard, not from the encoder.
//!
//! # Characters: the rule
//!
//! [`encode`] takes a `&str`:
//! * If every character is ASCII or an unambiguous GB 2312 character, the symbol carries no
//!   ECI (GB 2312 is Grid Matrix's default character set) and hanzi use Chinese mode.
//! * Two GB 2312 cells read back as different characters in the common tables: A1A4 is
//!   U+00B7 MIDDLE DOT "·" in GB 18030, GBK and WHATWG (`encoding_rs`), but U+30FB KATAKANA
//!   MIDDLE DOT "・" in the Unicode consortium's GB2312.TXT (Python's `gb2312`, zint,
//!   zxing-cpp); A1AA is U+2014 EM DASH "—" or U+2015 HORIZONTAL BAR "―". No other assigned
//!   cell differs (checked over all cells in `tests/ambiguous.rs`). Written as A1A4, the
//!   separator "·" of ecert identifiers (R-4.5.5) would come out of a GB2312.TXT reader as
//!   "・". So by default ([`Ambiguous::Eci`]) these four characters are never written as
//!   GB 2312: text containing one is encoded under an ECI, like text outside GB 2312.
//! * Text that needs an ECI is encoded as ISO 8859-1 under ECI 3 when every character is at
//!   most U+00FF (zint's first choice; never longer than UTF-8, the bytes being the same or
//!   fewer), otherwise as UTF-8 under ECI 26. The whole text is then bytes of that character
//!   set: hanzi are UTF-8 bytes (in Byte mode, or Chinese mode's single-byte codes where
//!   shorter), never GB 2312 double-byte codes, whose two bytes a reader would take as
//!   Latin-1 or UTF-8. ASCII keeps its compact modes (Numeral, Upper, Lower, Mixed).
//! * [`Ambiguous::Gb2312`] writes the four characters as their cells without ECI (the
//!   earlier behaviour; what zint does for "・" and "―"): a reader then shows whichever
//!   character its table has.
//! * [`Options::eci`] forces a character set: 29 (GB 2312, with an explicit ECI header; an
//!   ambiguous character is [`Error::AmbiguousInGb2312`] unless [`Ambiguous::Gb2312`]), 26
//!   (UTF-8) or 3 (ISO 8859-1). Other ECIs: convert yourself and use [`encode_bytes`].
//!
//! [`encode_bytes`] takes bytes as they are, with the ECI header of [`Options::eci`] if set.
//! Under GB 2312 (no ECI, or ECI 29), two bytes that form a GB 2312 double-byte code may be
//! sent as one Chinese-mode character: a reader gives back the same two bytes.
//!
//! # Segmentation
//!
//! The bit stream is the shortest over all mode sequences (a dynamic program whose edges cost
//! exactly the bits they write; see the `segment` module), so no symbol is larger than
//! necessary. zint's segmentation is a heuristic on averaged costs: it charges Numeral groups
//! and Chinese digit pairs an average per character, so its split can be longer than ours by a
//! few bits, never shorter (tested against the zint CLI). For inputs of one character class
//! the two agree bit for bit.
//!
//! # Defended against
//!
//! Any `&str`, any bytes and any option values are accepted without panicking: bad options
//! and data that do not fit return an [`Error`]; input longer than the largest symbol can hold
//! is rejected before any large allocation. [`decode`] accepts any matrix without panicking.
//! There is no `unsafe` code. Known bugs of released zint (a wrong Byte indicator at the start
//! of the stream; Numeral groups with several non-digits that read back wrong) do not occur
//! here; tests show both.
//!
//! # Example
//!
//! ```
//! let symbol = gridmatrix::encode("https://cert.example.cn/v/Ab3", &gridmatrix::Options::default())?;
//! assert_eq!(symbol.size(), 12 * usize::from(symbol.version()) + 6);
//! let svg = symbol.to_svg(4, gridmatrix::QUIET_ZONE_MODULES);
//! assert!(svg.starts_with("<svg"));
//! let back = gridmatrix::decode::decode_symbol(&symbol)?;
//! assert_eq!(back.text()?, "https://cert.example.cn/v/Ab3");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod charset;
pub mod decode;
#[allow(clippy::unreadable_literal)]
mod gb2312_table;
mod render;
mod rs;
mod segment;
mod stream;
mod symbol;
mod tables;

pub use render::RectMm;

/// Quiet zone on every side, in modules (AIMD014 §7.1 as cited by zint).
pub const QUIET_ZONE_MODULES: u32 = 6;

/// Inputs longer than this many units (characters) cannot fit any symbol: even Numeral,
/// the densest mode, needs 10/3 bits a digit, and version 13 holds 1313 × 7 bits.
const MAX_UNITS: usize = 2760;

/// An encoding mode of the data bit stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Chinese (H): GB 2312 characters, any single byte, digit pairs, CR LF; 13 bits each.
    Chinese,
    /// Numeral (N): three digits in 10 bits, with one of space + - . , CR LF in a group.
    Numeral,
    /// Upper (U): A–Z and space, 5 bits.
    Upper,
    /// Lower (L): a–z and space, 5 bits.
    Lower,
    /// Mixed (M): digits, letters and space, 6 bits.
    Mixed,
    /// Byte (B): 8 bits a byte, blocks of up to 512 bytes.
    Byte,
}

impl Mode {
    /// zint's one-letter name (H, N, U, L, M, B).
    pub fn letter(self) -> char {
        match self {
            Mode::Chinese => 'H',
            Mode::Numeral => 'N',
            Mode::Upper => 'U',
            Mode::Lower => 'L',
            Mode::Mixed => 'M',
            Mode::Byte => 'B',
        }
    }
}

/// How the ECC level is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ecc {
    /// The recommended level of the version (5 for v1, 4 for v2–3, 3 from v4). With a fixed
    /// version, or when even version 13 needs it, lowered to the highest level that fits.
    #[default]
    Recommended,
    /// Exactly this level (1–5); an error if the version does not allow it (v1 allows 4–5, v2
    /// allows 2–5) or the data do not fit. With an automatic version, the smallest version
    /// that allows it and fits is chosen.
    Fixed(u8),
    /// zint's `--secure=e`: this level raised to the version's minimum, lowered if the data do
    /// not fit (never below the minimum). The version is chosen as for `Recommended`.
    Prefer(u8),
}

/// What [`encode`] does with a character whose GB 2312 code the common tables read back as
/// different characters: U+00B7 "·" and U+30FB "・" (cell A1A4), U+2014 "—" and U+2015 "―"
/// (cell A1AA). See "Characters: the rule" in the crate docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ambiguous {
    /// Never write such a character as GB 2312: text that contains one is encoded under an
    /// ECI that represents it unambiguously (3, ISO 8859-1, when every character fits it,
    /// else 26, UTF-8). With [`Options::eci`] 29 it is an error
    /// ([`Error::AmbiguousInGb2312`]).
    #[default]
    Eci,
    /// Write it as its GB 2312 cell (A1A4, A1AA) like any GB 2312 character, without ECI:
    /// the earlier behaviour, and what zint does for U+30FB and U+2015. A reader
    /// using the Unicode GB2312.TXT table (zint, zxing-cpp, Python `gb2312`) shows U+00B7 as
    /// "・", one using GB 18030 (WHATWG, `encoding_rs`, this crate's decoder) shows U+30FB
    /// as "·".
    Gb2312,
}

/// Encoding options. `Options::default()` chooses the smallest version at its recommended
/// ECC level and the character set by the rule in the crate docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// A fixed version 1–13 (`None`: automatic).
    pub version: Option<u8>,
    /// The smallest version the automatic choice may take (1–13).
    pub min_version: Option<u8>,
    /// ECC level choice.
    pub ecc: Ecc,
    /// An ECI to write at the start (0–811799). For text: 29, 26 or 3 only.
    pub eci: Option<u32>,
    /// Characters whose GB 2312 cell reads back differently in the common tables
    /// ([`Ambiguous::Eci`]: never as GB 2312).
    pub gb2312_ambiguous: Ambiguous,
}

impl Options {
    /// Fixes the version (1–13).
    #[must_use]
    pub fn version(mut self, v: u8) -> Self {
        self.version = Some(v);
        self
    }
    /// Sets the smallest version the automatic choice may take.
    #[must_use]
    pub fn min_version(mut self, v: u8) -> Self {
        self.min_version = Some(v);
        self
    }
    /// Sets how the ECC level is chosen.
    #[must_use]
    pub fn ecc(mut self, ecc: Ecc) -> Self {
        self.ecc = ecc;
        self
    }
    /// Writes this ECI at the start.
    #[must_use]
    pub fn eci(mut self, eci: u32) -> Self {
        self.eci = Some(eci);
        self
    }
    /// Sets what happens to characters of an ambiguous GB 2312 cell.
    #[must_use]
    pub fn gb2312_ambiguous(mut self, a: Ambiguous) -> Self {
        self.gb2312_ambiguous = a;
        self
    }
}

/// Why encoding or rendering failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data need more bits than the symbol holds.
    #[error(
        "data too long: {needed_bits} bits needed, version {version} at ECC level {ecc} holds {capacity_bits}"
    )]
    DataTooLong {
        /// Data capacity of the largest symbol allowed by the options, in bits.
        capacity_bits: usize,
        /// Bits the data need (including the end-of-data code); for input far beyond any
        /// symbol (over 2,760 characters) a lower bound.
        needed_bits: usize,
        /// Version whose capacity is given.
        version: u8,
        /// ECC level whose capacity is given.
        ecc: u8,
    },
    /// A version outside 1–13.
    #[error("invalid version {0}: Grid Matrix has versions 1 to 13")]
    InvalidVersion(u8),
    /// The fixed version is below the minimum version.
    #[error("version {version} is below the minimum version {min_version}")]
    VersionBelowMinimum {
        /// Fixed version.
        version: u8,
        /// Minimum version.
        min_version: u8,
    },
    /// An ECC level outside 1–5.
    #[error("invalid ECC level {0}: Grid Matrix has levels 1 to 5")]
    InvalidEcc(u8),
    /// A fixed ECC level the version does not allow.
    #[error("ECC level {ecc} is not allowed in version {version} (lowest: {min})")]
    EccNotAllowed {
        /// Version.
        version: u8,
        /// Requested level.
        ecc: u8,
        /// Lowest level of this version.
        min: u8,
    },
    /// An ECI value above 811799.
    #[error("invalid ECI {0}: at most 811799")]
    InvalidEci(u32),
    /// [`encode`] with an ECI whose character set this crate does not convert to.
    #[error("ECI {0} is not supported for text (use 3, 26 or 29, or encode_bytes)")]
    UnsupportedTextEci(u32),
    /// A character the forced character set cannot represent.
    #[error(
        "character {ch:?} (U+{code:04X}) at index {index} is not in the character set of ECI {eci}"
    )]
    NotInCharset {
        /// Index of the character (in chars).
        index: usize,
        /// The character.
        ch: char,
        /// Its scalar value.
        code: u32,
        /// The ECI whose set it is not in.
        eci: u32,
    },
    /// [`Options::eci`] 29 (GB 2312) and a character whose GB 2312 cell the common tables
    /// read back as different characters, with [`Ambiguous::Eci`] (see [`Ambiguous`]).
    #[error(
        "character {ch:?} (U+{code:04X}) at index {index} would be GB 2312 {cell:04X}, which readers map to different characters (encode under ECI 26 or 3, or allow the cell with Ambiguous::Gb2312)"
    )]
    AmbiguousInGb2312 {
        /// Index of the character (in chars).
        index: usize,
        /// The character.
        ch: char,
        /// Its scalar value.
        code: u32,
        /// The GB 2312 cell (EUC-CN code) it would be written as.
        cell: u16,
    },
    /// A module size of zero pixels, or an image too large to render.
    #[error("cannot render {size} modules at {module_px} px a module (at most {max_px} px a side)")]
    BadImageSize {
        /// Modules per side including the quiet zone.
        size: usize,
        /// Requested pixels per module.
        module_px: u32,
        /// Largest image side allowed.
        max_px: u32,
    },
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// One stretch of the data in one mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The mode.
    pub mode: Mode,
    /// Characters in it (a GB 2312 character counts once; in Byte mode: bytes).
    pub len: usize,
}

/// An encoded Grid Matrix symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    version: u8,
    ecc: u8,
    size: usize,
    modules: Vec<bool>,
    eci: Option<u32>,
    data_bits: usize,
    data_codewords: usize,
    segments: Vec<Segment>,
}

impl Symbol {
    /// Version 1–13 (number of layers around the centre).
    pub fn version(&self) -> u8 {
        self.version
    }
    /// ECC level 1–5.
    pub fn ecc(&self) -> u8 {
        self.ecc
    }
    /// Modules per side (12 × version + 6), without quiet zone.
    pub fn size(&self) -> usize {
        self.size
    }
    /// Whether module (x, y) is dark; (0, 0) is top left. Outside the symbol: `false`.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size
            && self
                .modules
                .get(y * self.size + x)
                .copied()
                .unwrap_or(false)
    }
    /// The rows, top to bottom, as strings of `0`/`1` (1 = dark), without quiet zone.
    pub fn rows(&self) -> Vec<String> {
        self.modules
            .chunks(self.size.max(1))
            .map(|row| row.iter().map(|&d| if d { '1' } else { '0' }).collect())
            .collect()
    }
    /// The rows joined by `\n` (with a final newline): the `--format matrix` output.
    pub fn to_matrix_text(&self) -> String {
        let mut s = String::with_capacity(self.size * (self.size + 1));
        for row in self.modules.chunks(self.size.max(1)) {
            s.extend(row.iter().map(|&d| if d { '1' } else { '0' }));
            s.push('\n');
        }
        s
    }
    /// The ECI written at the start, if any.
    pub fn eci(&self) -> Option<u32> {
        self.eci
    }
    /// Length of the data bit stream up to and including the end-of-data code.
    pub fn data_bits(&self) -> usize {
        self.data_bits
    }
    /// Data codewords used before padding.
    pub fn data_codewords(&self) -> usize {
        self.data_codewords
    }
    /// Data codewords the symbol holds at its version and ECC level.
    pub fn capacity_codewords(&self) -> usize {
        tables::data_codewords(self.version, self.ecc)
    }
    /// The segmentation, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
    /// The segmentation in zint's notation, e.g. `ECI29 H6` or `H9 N13`.
    pub fn modes_summary(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.segments.len() + 1);
        if let Some(e) = self.eci {
            parts.push(format!("ECI{e}"));
        }
        for s in &self.segments {
            parts.push(format!("{}{}", s.mode.letter(), s.len));
        }
        parts.join(" ")
    }
}

/// Encodes text (see the crate docs for the character rule).
pub fn encode(text: &str, options: &Options) -> Result<Symbol, Error> {
    check_options(options)?;
    if text.len() > 4 * MAX_UNITS && text.chars().count() > MAX_UNITS {
        return Err(too_long(text.chars().count(), options));
    }
    let mut units = Vec::with_capacity(text.len());
    let allow_ambiguous = options.gb2312_ambiguous == Ambiguous::Gb2312;
    let eci = match options.eci {
        None => match charset::text_to_gb_units(text, allow_ambiguous, &mut units) {
            Ok(()) => None,
            Err(_) => {
                // ISO 8859-1 when every character fits (never longer than UTF-8: the same
                // bytes for ASCII, one byte instead of two for the rest), else UTF-8.
                units.clear();
                if charset::text_to_latin1_units(text, &mut units).is_ok() {
                    Some(3)
                } else {
                    units.clear();
                    charset::bytes_to_units(text.as_bytes(), false, &mut units);
                    Some(26)
                }
            }
        },
        Some(29) => {
            charset::text_to_gb_units(text, allow_ambiguous, &mut units).map_err(|e| match e {
                charset::NotGb::Outside(index, ch) => Error::NotInCharset {
                    index,
                    ch,
                    code: u32::from(ch),
                    eci: 29,
                },
                charset::NotGb::Ambiguous(index, ch, cell) => Error::AmbiguousInGb2312 {
                    index,
                    ch,
                    code: u32::from(ch),
                    cell,
                },
            })?;
            Some(29)
        }
        Some(26) => {
            charset::bytes_to_units(text.as_bytes(), false, &mut units);
            Some(26)
        }
        Some(3) => {
            charset::text_to_latin1_units(text, &mut units).map_err(|(index, ch)| {
                Error::NotInCharset {
                    index,
                    ch,
                    code: u32::from(ch),
                    eci: 3,
                }
            })?;
            Some(3)
        }
        Some(other) => return Err(Error::UnsupportedTextEci(other)),
    };
    build(&units, eci, options)
}

/// Encodes bytes as they are, with [`Options::eci`] (if any) at the start.
pub fn encode_bytes(data: &[u8], options: &Options) -> Result<Symbol, Error> {
    check_options(options)?;
    if data.len() > MAX_UNITS {
        // Even as GB 2312 pairs (13 bits for 2 bytes) this exceeds every symbol.
        return Err(too_long(data.len(), options));
    }
    let gb_pairs = matches!(options.eci, None | Some(29));
    let mut units = Vec::with_capacity(data.len());
    charset::bytes_to_units(data, gb_pairs, &mut units);
    build(&units, options.eci, options)
}

fn check_options(o: &Options) -> Result<(), Error> {
    for v in [o.version, o.min_version].into_iter().flatten() {
        if !(tables::MIN_VERSION..=tables::MAX_VERSION).contains(&v) {
            return Err(Error::InvalidVersion(v));
        }
    }
    if let (Some(version), Some(min_version)) = (o.version, o.min_version)
        && version < min_version
    {
        return Err(Error::VersionBelowMinimum {
            version,
            min_version,
        });
    }
    if let Ecc::Fixed(e) | Ecc::Prefer(e) = o.ecc
        && !(1..=5).contains(&e)
    {
        return Err(Error::InvalidEcc(e));
    }
    if let Some(eci) = o.eci
        && eci > 811_799
    {
        return Err(Error::InvalidEci(eci));
    }
    Ok(())
}

fn too_long(units: usize, o: &Options) -> Error {
    let version = o.version.unwrap_or(tables::MAX_VERSION);
    let ecc = match o.ecc {
        Ecc::Fixed(e) => e,
        _ => tables::min_ecc(version),
    };
    Error::DataTooLong {
        capacity_bits: 7 * tables::data_codewords(version, ecc),
        needed_bits: units.saturating_mul(10) / 3,
        version,
        ecc,
    }
}

/// Chooses (version, ECC) for `data_cw` data codewords.
fn choose(data_cw: usize, bits: usize, o: &Options) -> Result<(u8, u8), Error> {
    use tables::{data_codewords as cap, min_ecc, recommended_ecc as rec};
    let lo = o.version.or(o.min_version).unwrap_or(tables::MIN_VERSION);
    let hi = o.version.unwrap_or(tables::MAX_VERSION);
    let too_long = |version: u8, ecc: u8| Error::DataTooLong {
        capacity_bits: 7 * cap(version, ecc),
        needed_bits: bits,
        version,
        ecc,
    };
    // Highest level from `start` down to the version's minimum that fits.
    let lower = |v: u8, start: u8| (min_ecc(v)..=start).rev().find(|&e| data_cw <= cap(v, e));
    match o.ecc {
        Ecc::Fixed(e) => {
            for v in lo..=hi {
                if e < min_ecc(v) {
                    if o.version.is_some() {
                        return Err(Error::EccNotAllowed {
                            version: v,
                            ecc: e,
                            min: min_ecc(v),
                        });
                    }
                    continue;
                }
                if data_cw <= cap(v, e) {
                    return Ok((v, e));
                }
            }
            Err(too_long(hi, e))
        }
        Ecc::Recommended | Ecc::Prefer(_) => {
            let v = (lo..=hi).find(|&v| data_cw <= cap(v, rec(v))).unwrap_or(hi);
            let start = match o.ecc {
                Ecc::Prefer(e) => e.max(min_ecc(v)),
                _ => rec(v),
            };
            lower(v, start)
                .map(|e| (v, e))
                .ok_or_else(|| too_long(v, min_ecc(v)))
        }
    }
}

fn build(units: &[u16], eci: Option<u32>, o: &Options) -> Result<Symbol, Error> {
    if units.len() > MAX_UNITS {
        return Err(too_long(units.len(), o));
    }
    let (dp_bits, runs) = segment::segment(units);
    let bits = dp_bits as usize + eci.map_or(0, |e| stream::eci_bits(e) as usize);
    let data_cw = bits.div_ceil(7);
    let (version, ecc) = choose(data_cw, bits, o)?;
    let mut w = stream::BitWriter::with_capacity(tables::total_codewords(version));
    if let Some(e) = eci {
        stream::write_eci(&mut w, e);
    }
    stream::write_runs(&mut w, units, &runs);
    let data_bits = w.bits();
    debug_assert_eq!(data_bits, bits, "segment cost and written stream differ");
    let data = w.finish();
    let data_codewords = data.len();
    let cw = symbol::codewords(data, version, ecc);
    let modules = symbol::place(&cw, version, ecc);
    let segments = runs
        .iter()
        .map(|r| Segment {
            mode: r.mode,
            len: if r.mode == Mode::Byte {
                units
                    .get(r.start..r.end)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&u| if u >= charset::GB_UNIT_MIN { 2 } else { 1 })
                    .sum()
            } else {
                r.end - r.start
            },
        })
        .collect();
    Ok(Symbol {
        version,
        ecc,
        size: tables::symbol_size(version),
        modules,
        eci,
        data_bits,
        data_codewords,
        segments,
    })
}
