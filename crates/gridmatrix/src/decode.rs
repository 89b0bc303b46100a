//! A Grid Matrix reader for module matrices: a **test instrument**.
//!
//! It exists so that symbols with mixed content can be tested by round trip, and so that
//! zint's output can be read independently of our encoder. It is written from the structure
//! of the standard (GB/T 27766-2011: structure, error correction, data), not from the encoder: its own
//! block table, its own GF(2⁷) arithmetic (bitwise, no tables), the spiral order walked ring by
//! ring (the encoder uses a closed form), and a bit-stream parser. It checks:
//!
//! * the size (12v + 6) and every macromodule border (dark when x + y is even);
//! * the layer IDs: the ECC level from the (centre, ring 1) pair, then every macromodule's ID;
//! * every Reed–Solomon block: all syndromes at α¹ … α^E are zero (no correction);
//! * the bit stream: every indicator, latch and code is assigned; Numeral pad counts and
//!   non-digit positions are valid; the stream ends with an end-of-data code (or runs out
//!   exactly at the end of the data codewords).
//!
//! It does not locate symbols in images, correct errors, or read FNC1/GS1 data.

use crate::{Mode, Symbol};

/// Options of the reader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Read the unassigned start-state indicator `0110` as Byte, as released zint
    /// (≤ 2.16.0) writes it (`tests/zint_bugs.rs`). Off by default: such symbols are wrong.
    pub accept_zint_byte_indicator_bug: bool,
}

impl DecodeOptions {
    /// Sets [`DecodeOptions::accept_zint_byte_indicator_bug`].
    #[must_use]
    pub fn accept_zint_byte_indicator_bug(mut self, accept: bool) -> Self {
        self.accept_zint_byte_indicator_bug = accept;
        self
    }
}

/// Why a matrix was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a square matrix of 12v + 6 modules a side, v in 1–13.
    #[error(
        "matrix of {rows} rows and {modules} modules is not a Grid Matrix symbol (12v+6 square, v 1-13)"
    )]
    BadSize {
        /// Rows given.
        rows: usize,
        /// Modules given.
        modules: usize,
    },
    /// A row contains something other than `0` and `1`.
    #[error("row {row} has a character other than 0 or 1 at column {column}")]
    BadRow {
        /// Row.
        row: usize,
        /// Column.
        column: usize,
    },
    /// A macromodule border module has the wrong colour.
    #[error("frame module ({x}, {y}) has the wrong colour")]
    Frame {
        /// Column of the module.
        x: usize,
        /// Row of the module.
        y: usize,
    },
    /// The (centre, ring 1) layer IDs name no ECC level.
    #[error("layer IDs (centre {centre}, ring 1 {ring1}) name no ECC level")]
    UnknownLayerPair {
        /// Centre ID.
        centre: u8,
        /// Ring 1 ID.
        ring1: u8,
    },
    /// A macromodule carries the wrong layer ID for the ECC level.
    #[error("macromodule ({mx}, {my}) has layer ID {found}, expected {expected}")]
    LayerId {
        /// Macromodule column.
        mx: usize,
        /// Macromodule row.
        my: usize,
        /// ID read.
        found: u8,
        /// ID expected.
        expected: u8,
    },
    /// The ECC level is not allowed for the version.
    #[error("ECC level {ecc} does not exist for version {version}")]
    EccNotInVersion {
        /// Version.
        version: u8,
        /// ECC level.
        ecc: u8,
    },
    /// A Reed–Solomon block has a non-zero syndrome.
    #[error("Reed-Solomon block {block} has a non-zero syndrome")]
    ReedSolomon {
        /// Block index.
        block: usize,
    },
    /// The bit stream is malformed.
    #[error("bit stream: {what} at bit {bit}")]
    Bitstream {
        /// Bit offset in the data stream.
        bit: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The bytes are not valid in the segment's character set.
    #[error("bytes are not valid in the character set of ECI {eci:?}")]
    Charset {
        /// ECI in effect (None: GB 2312 default).
        eci: Option<u32>,
    },
}

/// One stretch of decoded data in one mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedSegment {
    /// Mode.
    pub mode: Mode,
    /// ECI in effect (None: none given, GB 2312).
    pub eci: Option<u32>,
    /// Bytes (GB 2312 characters as their two EUC-CN bytes).
    pub bytes: Vec<u8>,
    /// Characters: a GB 2312 character, byte, digit or non-digit counts 1, CR LF counts 2.
    pub chars: usize,
}

/// The content of a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Version.
    pub version: u8,
    /// ECC level from the layer IDs.
    pub ecc: u8,
    /// ECIs in the order they appear.
    pub ecis: Vec<u32>,
    /// Segments in order.
    pub segments: Vec<DecodedSegment>,
    /// Bits up to the end of the data (the last end-of-data code, not padding).
    pub data_bits: usize,
    /// Data codewords of the symbol (used and padding).
    pub data_codewords: usize,
    /// Reader Initialisation (FNC3) was present.
    pub reader_init: bool,
    /// Structured Append (file ID, count, index), if present.
    pub structured_append: Option<(u8, u8, u8)>,
}

impl Decoded {
    /// All bytes, concatenated.
    pub fn bytes(&self) -> Vec<u8> {
        self.segments
            .iter()
            .flat_map(|s| s.bytes.iter().copied())
            .collect()
    }

    /// The text: bytes decoded per ECI. None or 29: GB 2312, read with the GB 18030 mapping
    /// (A1A4 is "·" U+00B7, A1AA is "—" U+2014; a reader using the Unicode GB2312.TXT table
    /// shows "・" and "―"); 26: UTF-8; 3: ISO 8859-1; 32: GB 18030; and the other single-byte
    /// sets zint picks by itself for text outside its GB 2312 table: ECIs 4–10, 12, 15–18
    /// (ISO 8859-2 … -8, -10, -13 … -16) and 21–24 (Windows-1250, -1251, -1252, -1256).
    pub fn text(&self) -> Result<String, DecodeError> {
        let mut out = String::new();
        let mut i = 0;
        while let Some(first) = self.segments.get(i) {
            let eci = first.eci;
            let mut bytes = Vec::new();
            while let Some(s) = self.segments.get(i).filter(|s| s.eci == eci) {
                bytes.extend_from_slice(&s.bytes);
                i += 1;
            }
            let strict = |enc: &'static encoding_rs::Encoding| {
                let (s, bad) = enc.decode_without_bom_handling(&bytes);
                if bad {
                    Err(DecodeError::Charset { eci })
                } else {
                    Ok(s)
                }
            };
            match eci {
                None | Some(29) => out.push_str(&strict(encoding_rs::GBK)?),
                Some(32) => out.push_str(&strict(encoding_rs::GB18030)?),
                Some(26) => out.push_str(
                    std::str::from_utf8(&bytes).map_err(|_| DecodeError::Charset { eci })?,
                ),
                Some(3) => out.extend(bytes.iter().map(|&b| char::from(b))),
                Some(e) => match single_byte_charset(e) {
                    Some(enc) => out.push_str(&strict(enc)?),
                    None => return Err(DecodeError::Charset { eci }),
                },
            }
        }
        Ok(out)
    }

    /// The segmentation in zint's notation, e.g. `ECI26 B12 N3`.
    pub fn modes_summary(&self) -> String {
        let mut parts = Vec::new();
        let mut eci = None;
        for s in &self.segments {
            if s.eci != eci {
                if let Some(e) = s.eci {
                    parts.push(format!("ECI{e}"));
                }
                eci = s.eci;
            }
            parts.push(format!("{}{}", s.mode.letter(), s.chars));
        }
        parts.join(" ")
    }
}

/// The single-byte character set of an ECI among those zint picks by itself for text outside
/// its GB 2312 table (ECIs 3–24 in order, then 26), where `encoding_rs` (WHATWG) has the same
/// table: ISO 8859-2 … 8859-8, 8859-10, 8859-13 … 8859-16 (ECIs 4–10, 12, 15–18) and
/// Windows-1250, -1251, -1252, -1256 (ECIs 21–24). ECI 3 (ISO 8859-1) is read byte by byte;
/// ISO 8859-9 and 8859-11 (ECIs 11, 13) are not read: WHATWG replaces them by Windows code
/// pages whose 0x80–0x9F differ.
fn single_byte_charset(eci: u32) -> Option<&'static encoding_rs::Encoding> {
    use encoding_rs as e;
    Some(match eci {
        4 => e::ISO_8859_2,
        5 => e::ISO_8859_3,
        6 => e::ISO_8859_4,
        7 => e::ISO_8859_5,
        8 => e::ISO_8859_6,
        9 => e::ISO_8859_7,
        10 => e::ISO_8859_8,
        12 => e::ISO_8859_10,
        15 => e::ISO_8859_13,
        16 => e::ISO_8859_14,
        17 => e::ISO_8859_15,
        18 => e::ISO_8859_16,
        21 => e::WINDOWS_1250,
        22 => e::WINDOWS_1251,
        23 => e::WINDOWS_1252,
        24 => e::WINDOWS_1256,
        _ => return None,
    })
}

/// Reads a [`Symbol`] (strict).
pub fn decode_symbol(symbol: &Symbol) -> Result<Decoded, DecodeError> {
    let n = symbol.size();
    let modules: Vec<bool> = (0..n * n).map(|i| symbol.is_dark(i % n, i / n)).collect();
    decode_modules(n, &modules, &DecodeOptions::default())
}

/// Reads rows of `0`/`1` (1 = dark), top to bottom, without quiet zone.
pub fn decode_rows<S: AsRef<str>>(
    rows: &[S],
    options: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    let n = rows.len();
    let mut modules = Vec::with_capacity(n * n);
    for (row, r) in rows.iter().enumerate() {
        let r = r.as_ref();
        if r.len() != n {
            return Err(DecodeError::BadSize {
                rows: n,
                modules: r.len(),
            });
        }
        for (column, c) in r.bytes().enumerate() {
            modules.push(match c {
                b'0' => false,
                b'1' => true,
                _ => return Err(DecodeError::BadRow { row, column }),
            });
        }
    }
    decode_modules(n, &modules, options)
}

/// Check codewords per ECC level: (e1, b3, e2).
type Levels = [(usize, usize, usize); 5];

/// Table A.1 for the reader: (n1, b1, b2) and per ECC level (e1, b3, e2).
#[rustfmt::skip]
const BLOCK_TABLE: [(usize, usize, usize, Levels); 13] = [
    (18, 1, 0, [(0, 0, 0), (3, 1, 0), (5, 1, 0), (7, 1, 0), (9, 1, 0)]),
    (50, 1, 0, [(5, 1, 0), (10, 1, 0), (15, 1, 0), (20, 1, 0), (25, 1, 0)]),
    (98, 1, 0, [(9, 1, 0), (19, 1, 0), (29, 1, 0), (39, 1, 0), (49, 1, 0)]),
    (81, 2, 0, [(8, 2, 0), (16, 2, 0), (24, 2, 0), (32, 2, 0), (41, 1, 40)]),
    (121, 2, 0, [(12, 2, 0), (24, 2, 0), (36, 2, 0), (48, 2, 0), (61, 1, 60)]),
    (113, 2, 1, [(11, 3, 0), (23, 1, 22), (34, 2, 33), (45, 3, 0), (57, 1, 56)]),
    (113, 2, 2, [(12, 1, 11), (23, 2, 22), (34, 3, 33), (45, 4, 0), (57, 1, 56)]),
    (116, 3, 2, [(12, 2, 11), (23, 5, 0), (35, 3, 34), (47, 1, 46), (58, 4, 57)]),
    (121, 2, 4, [(12, 6, 0), (24, 6, 0), (36, 6, 0), (48, 6, 0), (61, 1, 60)]),
    (126, 7, 0, [(13, 4, 12), (26, 1, 25), (38, 5, 37), (51, 2, 50), (63, 7, 0)]),
    (118, 5, 4, [(12, 6, 11), (24, 4, 23), (36, 2, 35), (47, 9, 0), (59, 7, 58)]),
    (125, 10, 0, [(13, 5, 12), (25, 10, 0), (38, 5, 37), (50, 10, 0), (63, 5, 62)]),
    (122, 6, 6, [(13, 1, 12), (25, 3, 24), (37, 5, 36), (49, 7, 48), (61, 9, 60)]),
];

/// GF(2⁷) product, x⁷ + x³ + 1, by shift and add.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x80 != 0 {
            a ^= 0x89;
        }
    }
    p & 0x7F
}

/// Reads a square matrix of `size` × `size` modules, row-major, `true` = dark.
pub fn decode_modules(
    size: usize,
    modules: &[bool],
    options: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    let bad = || DecodeError::BadSize {
        rows: size,
        modules: modules.len(),
    };
    if size < 18 || !(size - 6).is_multiple_of(12) || size > 162 || modules.len() != size * size {
        return Err(bad());
    }
    let version = ((size - 6) / 12) as u8;
    let side = size / 6;
    let centre = side / 2;
    let at = |x: usize, y: usize| modules.get(y * size + x).copied().unwrap_or(false);

    // Frame and words.
    let mut words = vec![0u16; side * side];
    for my in 0..side {
        for mx in 0..side {
            let dark = (mx + my) % 2 == 0;
            for d in 0..6 {
                for (x, y) in [
                    (6 * mx + d, 6 * my),
                    (6 * mx + d, 6 * my + 5),
                    (6 * mx, 6 * my + d),
                    (6 * mx + 5, 6 * my + d),
                ] {
                    if at(x, y) != dark {
                        return Err(DecodeError::Frame { x, y });
                    }
                }
            }
            let mut w = 0u16;
            for r in 1..5 {
                for c in 1..5 {
                    w = (w << 1) | u16::from(at(6 * mx + c, 6 * my + r));
                }
            }
            words[my * side + mx] = w;
        }
    }
    let id = |mx: usize, my: usize| (words[my * side + mx] >> 14) as u8;

    // ECC level from the layer IDs.
    let (c, r1) = (id(centre, centre), id(centre, centre - 1));
    let ecc = match (c, r1) {
        (3, 2) => 1,
        (3, 0) => 2,
        (2, 3) => 3,
        (1, 2) => 4,
        (0, 1) => 5,
        _ => {
            return Err(DecodeError::UnknownLayerPair {
                centre: c,
                ring1: r1,
            });
        }
    };
    for my in 0..side {
        for mx in 0..side {
            let k = mx.abs_diff(centre).max(my.abs_diff(centre));
            let expected = if ecc == 1 {
                ((7 - k % 4) % 4) as u8 // 3 - k mod 4
            } else {
                ((k + 9 - ecc) % 4) as u8
            };
            let found = id(mx, my);
            if found != expected {
                return Err(DecodeError::LayerId {
                    mx,
                    my,
                    found,
                    expected,
                });
            }
        }
    }
    let ecc = ecc as u8;
    if (version == 1 && ecc < 4) || (version == 2 && ecc < 2) {
        return Err(DecodeError::EccNotInVersion { version, ecc });
    }

    // Codewords in spiral order: centre, then each ring clockwise from the module right of
    // its top-left corner, ending on that corner.
    let mut order = Vec::with_capacity(side * side);
    order.push((centre, centre));
    for k in 1..=centre {
        let (lo, hi) = (centre - k, centre + k);
        for x in lo + 1..=hi {
            order.push((x, lo));
        }
        for y in lo + 1..=hi {
            order.push((hi, y));
        }
        for x in (lo..hi).rev() {
            order.push((x, hi));
        }
        for y in (lo..hi).rev() {
            order.push((lo, y));
        }
    }
    let mut cw = Vec::with_capacity(2 * side * side);
    for &(mx, my) in &order {
        let w = words[my * side + mx];
        cw.push((w & 0x7F) as u8); // first codeword of the pair: low 7 bits
        cw.push(((w >> 7) & 0x7F) as u8);
    }

    // De-interleave and check the blocks.
    let (n1, b1, b2, levels) = BLOCK_TABLE[usize::from(version) - 1];
    let (e1, b3, e2) = levels[usize::from(ecc) - 1];
    let nb = b1 + b2;
    let mut blocks: Vec<Vec<u8>> = (0..nb)
        .map(|i| Vec::with_capacity(if i < b1 { n1 } else { n1 - 1 }))
        .collect();
    for (p, &c) in cw.iter().enumerate() {
        let (j, i) = (p / nb, p % nb);
        let i = if j == n1 - 1 { p - nb * (n1 - 1) } else { i };
        if let Some(b) = blocks.get_mut(i) {
            b.push(c);
        }
    }
    let mut data = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let e = if i < b3 { e1 } else { e2 };
        let mut alpha_j = 1u8;
        for _ in 1..=e {
            alpha_j = gf_mul(alpha_j, 2);
            // Horner: block[0] is the highest-degree coefficient.
            let s = block.iter().fold(0u8, |acc, &c| gf_mul(acc, alpha_j) ^ c);
            if s != 0 {
                return Err(DecodeError::ReedSolomon { block: i });
            }
        }
        data.extend_from_slice(block.get(..block.len().saturating_sub(e)).unwrap_or(&[]));
    }
    let data_codewords = data.len();
    let mut out = parse(&data, options)?;
    out.version = version;
    out.ecc = ecc;
    out.data_codewords = data_codewords;
    Ok(out)
}

/// Parses a data-codeword stream (7-bit values, after Reed–Solomon and de-interleaving), as
/// read from a symbol. `version`, `ecc` of the result are 0. For tests and fuzzing.
pub fn decode_data_codewords(data: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let mut out = parse(data, options)?;
    out.data_codewords = data.len();
    Ok(out)
}

struct Bits<'a> {
    cw: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn len(&self) -> usize {
        self.cw.len() * 7
    }
    fn left(&self) -> usize {
        self.len().saturating_sub(self.pos)
    }
    fn read(&mut self, n: usize) -> Result<u32, DecodeError> {
        if self.left() < n {
            return Err(DecodeError::Bitstream {
                bit: self.pos,
                what: "stream ends inside a code",
            });
        }
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.cw.get(self.pos / 7).copied().unwrap_or(0);
            v = (v << 1) | u32::from((c >> (6 - self.pos % 7)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }
}

const SHIFT_SET_PUNCT: &[u8] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn shift_char(v: u32) -> u8 {
    if v < 32 {
        v as u8
    } else {
        SHIFT_SET_PUNCT
            .get(v as usize - 32)
            .copied()
            .unwrap_or(b'?')
    }
}

struct Out {
    segments: Vec<DecodedSegment>,
    eci: Option<u32>,
}

impl Out {
    fn open(&mut self, mode: Mode) {
        self.segments.push(DecodedSegment {
            mode,
            eci: self.eci,
            bytes: Vec::new(),
            chars: 0,
        });
    }
    fn push(&mut self, bytes: &[u8], chars: usize) {
        if let Some(s) = self.segments.last_mut() {
            s.bytes.extend_from_slice(bytes);
            s.chars += chars;
        }
    }
}

fn err(bit: usize, what: &'static str) -> DecodeError {
    DecodeError::Bitstream { bit, what }
}

/// Parses the data codewords.
fn parse(data: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let mut b = Bits { cw: data, pos: 0 };
    let mut out = Out {
        segments: Vec::new(),
        eci: None,
    };
    let mut ecis = Vec::new();
    let mut reader_init = false;
    let mut structured_append = None;
    // Mode to enter next (None: start state); whether we came from an end-of-data code.
    let mut next: Option<Mode> = None;
    let mut after_end_code = false;
    let data_bits;
    loop {
        let mode = match next.take() {
            Some(m) => m,
            None => {
                if b.left() < 4 {
                    data_bits = b.pos;
                    break;
                }
                let at = b.pos;
                match b.read(4)? {
                    0b0000 => {
                        data_bits = if after_end_code { at } else { b.pos };
                        break;
                    }
                    0b0001 => Mode::Chinese,
                    0b0010 => Mode::Numeral,
                    0b0011 => Mode::Lower,
                    0b0100 => Mode::Upper,
                    0b0101 => Mode::Mixed,
                    0b0111 => Mode::Byte,
                    0b0110 if options.accept_zint_byte_indicator_bug => Mode::Byte,
                    0b0110 => {
                        return Err(err(
                            at,
                            "unassigned start-state indicator 0110 (zint's Byte bug)",
                        ));
                    }
                    0b1001 => {
                        let id = b.read(8)? as u8;
                        let count = b.read(4)? as u8 + 1;
                        let index = b.read(4)? as u8 + 1;
                        structured_append = Some((id, count, index));
                        after_end_code = false;
                        continue;
                    }
                    0b1010 => {
                        reader_init = true;
                        after_end_code = false;
                        continue;
                    }
                    0b1100 => {
                        let eci = if b.read(1)? == 0 {
                            b.read(10)?
                        } else if b.read(1)? == 0 {
                            b.read(15)?
                        } else {
                            b.read(20)?
                        };
                        ecis.push(eci);
                        out.eci = Some(eci);
                        after_end_code = false;
                        continue;
                    }
                    0b1000 | 0b1011 => return Err(err(at, "FNC1 is not supported by this reader")),
                    _ => return Err(err(at, "unassigned start-state indicator")),
                }
            }
        };
        after_end_code = false;
        out.open(mode);
        match mode {
            Mode::Byte => {
                let count = b.read(9)? as usize + 1;
                for _ in 0..count {
                    let v = b.read(8)? as u8;
                    out.push(&[v], 1);
                }
                // Back to the start state.
            }
            Mode::Chinese => loop {
                let at = b.pos;
                let v = b.read(13)?;
                match v {
                    0..=7775 => {
                        let (q, r) = (v / 96, v % 96);
                        if !(1..=94).contains(&r) {
                            return Err(err(at, "Chinese value outside a GB 2312 row"));
                        }
                        let c1 = if q < 9 { 0xA1 + q } else { 0xB0 + q - 9 };
                        if c1 > 0xF7 {
                            return Err(err(at, "Chinese value beyond row F7"));
                        }
                        out.push(&[c1 as u8, (0xA0 + r) as u8], 1);
                    }
                    7776 => out.push(b"\r\n", 2),
                    7777..=8032 => out.push(&[(v - 7777) as u8], 1),
                    8033..=8132 => {
                        let n = v - 8033;
                        out.push(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8], 2);
                    }
                    8160 => {
                        after_end_code = true;
                        break;
                    }
                    8161 => {
                        next = Some(Mode::Numeral);
                        break;
                    }
                    8162 => {
                        next = Some(Mode::Lower);
                        break;
                    }
                    8163 => {
                        next = Some(Mode::Upper);
                        break;
                    }
                    8164 => {
                        next = Some(Mode::Mixed);
                        break;
                    }
                    8165 => {
                        next = Some(Mode::Byte);
                        break;
                    }
                    _ => return Err(err(at, "unassigned Chinese-mode value")),
                }
            },
            Mode::Numeral => {
                let at = b.pos;
                let pad = b.read(2)? as usize;
                if pad == 3 {
                    return Err(err(at, "Numeral pad count 3"));
                }
                // The last group is held back until we know it is the last.
                let mut pending: Option<(u32, Option<(u32, u32)>)> = None;
                let flush = |out: &mut Out,
                             g: (u32, Option<(u32, u32)>),
                             keep: usize,
                             at: usize|
                 -> Result<(), DecodeError> {
                    let (value, nd) = g;
                    let digits = [
                        b'0' + (value / 100) as u8,
                        b'0' + (value / 10 % 10) as u8,
                        b'0' + (value % 10) as u8,
                    ];
                    let kept = digits.get(..keep).unwrap_or(&[]);
                    match nd {
                        None => out.push(kept, kept.len()),
                        Some((t, p)) => {
                            let p = p as usize;
                            if p > kept.len() {
                                return Err(err(at, "Numeral non-digit after the last digit"));
                            }
                            let sym: &[u8] = match t {
                                0 => b" ",
                                1 => b"+",
                                2 => b"-",
                                3 => b".",
                                4 => b",",
                                _ => b"\r\n",
                            };
                            out.push(kept.get(..p).unwrap_or(&[]), p);
                            out.push(sym, sym.len());
                            out.push(kept.get(p..).unwrap_or(&[]), kept.len() - p);
                        }
                    }
                    Ok(())
                };
                loop {
                    let at = b.pos;
                    let v = b.read(10)?;
                    let (value, nd) = match v {
                        0..=999 => (v, None),
                        1000..=1017 => {
                            let digits_at = b.pos;
                            let d = b.read(10)?;
                            if d > 999 {
                                return Err(err(
                                    digits_at,
                                    "Numeral non-digit not followed by digits",
                                ));
                            }
                            (d, Some(((v - 1000) / 3, (v - 1000) % 3)))
                        }
                        1018..=1023 => {
                            let Some(g) = pending.take() else {
                                return Err(err(at, "Numeral mode without digits"));
                            };
                            flush(&mut out, g, 3 - pad, at)?;
                            match v {
                                1018 => after_end_code = true,
                                1019 => next = Some(Mode::Chinese),
                                1020 => next = Some(Mode::Lower),
                                1021 => next = Some(Mode::Upper),
                                1022 => next = Some(Mode::Mixed),
                                _ => next = Some(Mode::Byte),
                            }
                            break;
                        }
                        _ => return Err(err(at, "unassigned Numeral value")),
                    };
                    if let Some(g) = pending.replace((value, nd)) {
                        flush(&mut out, g, 3, at)?;
                    }
                }
            }
            Mode::Upper | Mode::Lower => {
                let mut upper = mode == Mode::Upper;
                loop {
                    let at = b.pos;
                    let v = b.read(5)?;
                    match v {
                        0..=25 => {
                            let base = if upper { b'A' } else { b'a' };
                            out.push(&[base + v as u8], 1);
                        }
                        26 => out.push(b" ", 1),
                        27 => {
                            after_end_code = true;
                            break;
                        }
                        28 => {
                            next = Some(Mode::Chinese);
                            break;
                        }
                        29 => {
                            next = Some(Mode::Numeral);
                            break;
                        }
                        30 => {
                            upper = !upper;
                            out.open(if upper { Mode::Upper } else { Mode::Lower });
                        }
                        _ => match b.read(2)? {
                            0 => {
                                next = Some(Mode::Mixed);
                                break;
                            }
                            1 => {
                                let s = b.read(6)?;
                                out.push(&[shift_char(s)], 1);
                            }
                            2 => {
                                next = Some(Mode::Byte);
                                break;
                            }
                            _ => return Err(err(at, "unassigned Upper/Lower value 127")),
                        },
                    }
                }
            }
            Mode::Mixed => loop {
                let at = b.pos;
                let v = b.read(6)?;
                match v {
                    0..=9 => out.push(&[b'0' + v as u8], 1),
                    10..=35 => out.push(&[b'A' + (v - 10) as u8], 1),
                    36..=61 => out.push(&[b'a' + (v - 36) as u8], 1),
                    62 => out.push(b" ", 1),
                    _ => match 1008 + b.read(4)? {
                        1008 => {
                            after_end_code = true;
                            break;
                        }
                        1009 => {
                            next = Some(Mode::Chinese);
                            break;
                        }
                        1010 => {
                            next = Some(Mode::Numeral);
                            break;
                        }
                        1011 => {
                            next = Some(Mode::Lower);
                            break;
                        }
                        1012 => {
                            next = Some(Mode::Upper);
                            break;
                        }
                        1014 => {
                            let s = b.read(6)?;
                            out.push(&[shift_char(s)], 1);
                        }
                        1015 => {
                            next = Some(Mode::Byte);
                            break;
                        }
                        _ => return Err(err(at, "unassigned Mixed value")),
                    },
                }
            },
        }
    }
    // Drop empty segments (e.g. a case latch right before a mode change).
    out.segments.retain(|s| !s.bytes.is_empty());
    Ok(Decoded {
        version: 0,
        ecc: 0,
        ecis,
        segments: out.segments,
        data_bits,
        data_codewords: 0,
        reader_init,
        structured_append,
    })
}
