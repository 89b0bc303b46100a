//! Input characters → encoding units.
//!
//! A *unit* is what the segmenter places: a byte (0–255) or a GB 2312 double-byte character
//! (its EUC-CN code `c1 << 8 | c2`, always ≥ 0xA1A1). Units are stored as `u16`.

use crate::gb2312_table::{GB, UNICODE};

/// First scalar of the dense hanzi table (all GB 2312 hanzi lie in U+4E00–U+9FA0).
const HANZI_FIRST: usize = 0x4E00;
/// Scalars covered by the dense hanzi table.
const HANZI_LEN: usize = 0x9FA6 - 0x4E00;

/// GB 2312 code of each scalar from U+4E00 (0: not GB 2312), built at compile time from the
/// sorted table, so that the 6,763 hanzi need no search.
static HANZI: [u16; HANZI_LEN] = {
    let mut t = [0u16; HANZI_LEN];
    let mut i = 0;
    while i < UNICODE.len() {
        let u = UNICODE[i] as usize;
        if u >= HANZI_FIRST && u < HANZI_FIRST + HANZI_LEN {
            t[u - HANZI_FIRST] = GB[i];
        }
        i += 1;
    }
    t
};

/// Units ≥ this are GB 2312 double-byte codes; below are single bytes.
pub(crate) const GB_UNIT_MIN: u16 = 0xA1A1;

/// GB 2312 cells that the common tables map to different characters, with (the GB 18030 /
/// GBK / WHATWG / `encoding_rs` character, the Unicode GB2312.TXT / Python `gb2312` / zint /
/// zxing-cpp character). Checked over all 94 × 94 cells: these two are the only assigned
/// cells on which Python's `gb2312` and `encoding_rs`'s GB18030 decoder disagree
/// (`tests/ambiguous.rs` runs that comparison). A reader shows either character for the cell.
pub(crate) const AMBIGUOUS_CELLS: [(u16, char, char); 2] = [
    (0xA1A4, '\u{00B7}', '\u{30FB}'), // MIDDLE DOT · / KATAKANA MIDDLE DOT ・
    (0xA1AA, '\u{2014}', '\u{2015}'), // EM DASH — / HORIZONTAL BAR ―
];

/// Whether a GB 2312 code is one of [`AMBIGUOUS_CELLS`].
pub(crate) fn is_ambiguous_cell(code: u16) -> bool {
    AMBIGUOUS_CELLS.iter().any(|&(cell, _, _)| cell == code)
}

/// The GB 2312 code of `c`: the GB 18030 mapping of the GB 2312 cells (U+00B7 → A1A4,
/// U+2014 → A1AA), plus the Unicode GB2312.TXT mapping of those two cells (U+30FB → A1A4,
/// U+2015 → A1AA) as aliases. Whether an ambiguous cell may be used is decided by the caller
/// ([`text_to_gb_units`]). ASCII is not a GB 2312 double-byte character (returns `None`).
pub(crate) fn gb2312_code(c: char) -> Option<u16> {
    let cp = u32::from(c);
    match cp {
        0x30FB => return Some(0xA1A4),
        0x2015 => return Some(0xA1AA),
        _ => {}
    }
    let cp = u16::try_from(cp).ok()?;
    if cp < 0x80 {
        return None;
    }
    if let Some(&code) = usize::from(cp)
        .checked_sub(HANZI_FIRST)
        .and_then(|i| HANZI.get(i))
    {
        return (code != 0).then_some(code);
    }
    UNICODE
        .binary_search(&cp)
        .ok()
        .and_then(|i| GB.get(i).copied())
}

/// Whether a (c1, c2) pair lies in the GB 2312 rows Chinese mode can carry (rows A1–A9 and
/// B0–F7, cells A1–FE). Assignment of the cell is not checked: a reader returns the same bytes.
pub(crate) fn is_chinese_mode_pair(c1: u8, c2: u8) -> bool {
    ((0xA1..=0xA9).contains(&c1) || (0xB0..=0xF7).contains(&c1)) && (0xA1..=0xFE).contains(&c2)
}

/// Why text cannot be written in the GB 2312 character set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotGb {
    /// The character at this index (in chars) is neither ASCII nor GB 2312.
    Outside(usize, char),
    /// The character at this index would be this ambiguous cell, which is not allowed.
    Ambiguous(usize, char, u16),
}

/// Text → units in the GB 2312 character set; characters of [`AMBIGUOUS_CELLS`] only with
/// `allow_ambiguous`. Stops at the first character that cannot be written.
pub(crate) fn text_to_gb_units(
    text: &str,
    allow_ambiguous: bool,
    out: &mut Vec<u16>,
) -> Result<(), NotGb> {
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii() {
            out.push(c as u16);
        } else if let Some(code) = gb2312_code(c) {
            if !allow_ambiguous && is_ambiguous_cell(code) {
                return Err(NotGb::Ambiguous(i, c, code));
            }
            out.push(code);
        } else {
            return Err(NotGb::Outside(i, c));
        }
    }
    Ok(())
}

/// Text → units in ISO 8859-1 (ECI 3): one byte a character. Returns the index (in chars)
/// and the character of the first one above U+00FF.
pub(crate) fn text_to_latin1_units(text: &str, out: &mut Vec<u16>) -> Result<(), (usize, char)> {
    for (i, c) in text.chars().enumerate() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(u16::from(b)),
            Err(_) => return Err((i, c)),
        }
    }
    Ok(())
}

/// Bytes → units; with `gb_pairs`, a pair of bytes that Chinese mode can carry becomes one
/// double-byte unit (it reads back as the same two bytes).
pub(crate) fn bytes_to_units(data: &[u8], gb_pairs: bool, out: &mut Vec<u16>) {
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        if gb_pairs
            && let Some(&b2) = data.get(i + 1)
            && is_chinese_mode_pair(b, b2)
        {
            out.push(u16::from(b) << 8 | u16::from(b2));
            i += 2;
            continue;
        }
        out.push(u16::from(b));
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_agrees_with_encoding_rs() {
        assert!(UNICODE.windows(2).all(|w| w[0] < w[1]));
        // encoding_rs's GBK decoder (the WHATWG GB 18030 mapping) is an independent source.
        for (&u, &g) in UNICODE.iter().zip(GB.iter()) {
            let bytes = [(g >> 8) as u8, g as u8];
            let (s, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
            assert!(!had_errors, "{g:04X}");
            assert_eq!(
                s.chars().map(u32::from).collect::<Vec<_>>(),
                vec![u32::from(u)],
                "{g:04X}"
            );
        }
    }

    #[test]
    fn dense_hanzi_table_agrees_with_search() {
        for (&u, &g) in UNICODE.iter().zip(GB.iter()) {
            let c = char::from_u32(u32::from(u)).expect("scalar");
            assert_eq!(gb2312_code(c), Some(g), "U+{u:04X}");
        }
        let hanzi = UNICODE
            .iter()
            .filter(|&&u| (0x4E00..0x9FA6).contains(&u))
            .count();
        assert_eq!(hanzi, 6763);
        assert_eq!(gb2312_code('\u{4E02}'), None); // 丂: GBK, not GB 2312
    }

    #[test]
    fn ambiguous_cells_only_when_allowed() {
        let mut u = Vec::new();
        assert_eq!(
            text_to_gb_units("证书·1", false, &mut u),
            Err(NotGb::Ambiguous(2, '·', 0xA1A4))
        );
        assert_eq!(
            text_to_gb_units("a―", false, &mut u),
            Err(NotGb::Ambiguous(1, '―', 0xA1AA))
        );
        assert_eq!(
            text_to_gb_units("a😀", true, &mut u),
            Err(NotGb::Outside(1, '😀'))
        );
        u.clear();
        assert_eq!(text_to_gb_units("证·", true, &mut u), Ok(()));
        assert_eq!(u, [0xD6A4, 0xA1A4]);
        u.clear();
        assert_eq!(text_to_latin1_units("é·", &mut u), Ok(()));
        assert_eq!(u, [0xE9, 0xB7]);
        assert_eq!(text_to_latin1_units("—", &mut u), Err((0, '—')));
    }

    #[test]
    fn middle_dot_and_dashes() {
        assert_eq!(gb2312_code('\u{00B7}'), Some(0xA1A4));
        assert_eq!(gb2312_code('\u{30FB}'), Some(0xA1A4));
        assert_eq!(gb2312_code('\u{2014}'), Some(0xA1AA));
        assert_eq!(gb2312_code('\u{2015}'), Some(0xA1AA));
        assert_eq!(gb2312_code('校'), Some(0xD0A3));
        assert_eq!(gb2312_code('A'), None);
        // 丂 is GBK (0x8140) but not GB 2312.
        assert_eq!(gb2312_code('丂'), None);
        assert_eq!(gb2312_code('😀'), None);
    }
}
