//! Which characters a certificate may carry: the invisible characters refused in every text of
//! the content, and the character set of certificate and supplement numbers.
//!
//! **Invisible characters.** Every string of the content (certificates, supplements, the
//! metadata of a handed-over file, table cells included) is refused when it holds
//!
//! - a control character (Unicode category Cc) other than the line feed `\n`;
//! - a format character (category Cf): the bidirectional embeddings, overrides and isolates
//!   U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C ARABIC LETTER MARK,
//!   the zero-width space, non-joiner and joiner U+200B–U+200D, the word joiner and invisible
//!   operators U+2060–U+2064, U+FEFF, the soft hyphen U+00AD, and the rest of Cf
//!   ([`FORMAT_RANGES`]);
//! - the line and paragraph separators U+2028 and U+2029 (invisible line breaks).
//!
//! Why all of Cf: these characters draw nothing, yet change what a text means or how it is
//! displayed. An RTL override made a name display as `…exe.jpg` on the certificate, on the
//! verification page and in the file name; a zero-width character makes two names or numbers
//! that look identical different (a lookup by number fails, a duplicate number slips past the
//! store's uniqueness). The zero-width joiner and non-joiner are legitimate in Indic and
//! Arabic-script text and in emoji sequences, none of which a Chinese metrology certificate's
//! fields hold; in Chinese text (and in the Latin model names and units beside it) they only
//! hide a difference. Variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF, category Mn) are
//! not refused: ideographic variation sequences are how rare characters in personal and place
//! names are written.
//!
//! **Certificate numbers** ([`check_number`], used for certificate numbers and supplement
//! numbers): 1 to [`MAX_NUMBER_CHARS`] characters (supplements [`MAX_SUPPLEMENT_NUMBER_CHARS`],
//! room for the default `-BC{n}` suffix) of
//!
//! - ASCII letters and digits `A–Z a–z 0–9`;
//! - CJK unified ideographs U+4E00–U+9FFF and extension A U+3400–U+4DBF, and `〇` U+3007;
//! - `-` `_` `.` `(` `)` `[` `]`, the full-width `（` `）` `〔` `〕` `【` `】` `－`, and the dash `—`
//!   U+2014 (the standard's own example, "质字20211203—2377");
//!
//! with no `..` and no `.` at either end. Not allowed, and why: `/` and `\` (paths, the API's
//! URLs, `..` traversal); white space (is it one space or two, or a no-break space?); `·` and
//! its look-alikes (the identifier's separator, R-4.5.5); `#`, `?`, `%`, `+`, `&` (URLs and
//! forms); full-width letters and digits (`ＪＺ２０２４` looks like `JZ2024` and is not);
//! compatibility ideographs U+F900–U+FAFF (Unicode normalisation changes them, and the
//! identifier is normalised, R-4.5.4); ideographs outside the basic multilingual plane (a JSON
//! Schema `pattern` cannot name them portably). Every allowed character is unchanged by NFC,
//! allowed in an identifier part, and left as it is by the file-name cleaning of R-4.4, so the
//! number reads the same in the record, the identifier and the file name (tests below).

use std::fmt;

/// Longest certificate number, in characters.
pub const MAX_NUMBER_CHARS: usize = 32;
/// Longest supplement number, in characters (a default `{original}-BC{n}` fits).
pub const MAX_SUPPLEMENT_NUMBER_CHARS: usize = 40;

/// The format characters (Unicode 15 category Cf), as inclusive ranges.
pub const FORMAT_RANGES: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Why a character is refused in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A control character (Cc) other than `\n`.
    Control(char),
    /// A bidirectional control (embedding, override, isolate, mark).
    Bidi(char),
    /// Another invisible format character or an invisible line break.
    Invisible(char),
}

impl Refused {
    /// The character.
    pub fn char(self) -> char {
        match self {
            Refused::Control(c) | Refused::Bidi(c) | Refused::Invisible(c) => c,
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u32::from(self.char());
        match self {
            Refused::Control(_) => {
                write!(f, "含控制字符 U+{code:04X} (contains a control character)")
            }
            Refused::Bidi(_) => write!(
                f,
                "含双向文字控制符 U+{code:04X}，会改变文字的显示顺序 (contains the bidirectional control U+{code:04X}, which changes how the text is displayed)"
            ),
            Refused::Invisible(_) => write!(
                f,
                "含不可见字符 U+{code:04X} (contains the invisible character U+{code:04X})"
            ),
        }
    }
}

/// Whether `c` is a bidirectional control: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C.
pub fn is_bidi_control(c: char) -> bool {
    matches!(u32::from(c), 0x202A..=0x202E | 0x2066..=0x2069 | 0x200E | 0x200F | 0x061C)
}

/// Whether `c` is a format character (category Cf).
pub fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT_RANGES.iter().any(|(a, b)| (*a..=*b).contains(&c))
}

/// The first character of `text` that no text of the content may hold.
pub fn refused_char(text: &str) -> Option<Refused> {
    text.chars().find_map(|c| {
        if c.is_control() && c != '\n' {
            Some(Refused::Control(c))
        } else if is_bidi_control(c) {
            Some(Refused::Bidi(c))
        } else if is_format(c) || matches!(c, '\u{2028}' | '\u{2029}') {
            Some(Refused::Invisible(c))
        } else {
            None
        }
    })
}

/// The characters refused in every text, as the inside of a JSON Schema (ECMA-262) character
/// class: the controls but `\n`, the separators U+2028/U+2029 and the format characters of the
/// basic multilingual plane (those above it cannot be named portably; the validator refuses
/// them too).
pub fn refused_class() -> String {
    let mut out = String::from(r"\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029");
    for (a, b) in FORMAT_RANGES {
        if b > 0xFFFF {
            continue;
        }
        if a == b {
            out.push_str(&format!(r"\u{a:04X}"));
        } else {
            out.push_str(&format!(r"\u{a:04X}-\u{b:04X}"));
        }
    }
    out
}

/// Whether `c` may stand in a certificate or supplement number (see the module docs).
pub fn is_number_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(u32::from(c), 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3007)
        || "-_.()[]（）〔〕【】－—".contains(c)
}

/// The number characters but `.`, as the inside of a JSON Schema character class.
const NUMBER_CLASS: &str = r"A-Za-z0-9\u3007\u3400-\u4DBF\u4E00-\u9FFF_()\[\]\uFF08\uFF09\u3014\u3015\u3010\u3011\uFF0D\u2014\-";

/// The JSON Schema `pattern` of a number: runs of number characters joined by single dots.
pub fn number_pattern() -> String {
    format!("^[{NUMBER_CLASS}]+(\\.[{NUMBER_CLASS}]+)*$")
}

/// Why a number is not a valid certificate or supplement number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// Empty.
    #[error("编号为空 (the number is empty)")]
    Empty,
    /// Longer than allowed.
    #[error("编号超过 {max} 个字符 (the number is longer than {max} characters)")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A character outside the set.
    #[error(
        "编号含不允许的字符“{shown}”(U+{code:04X})：只可使用字母、数字、汉字和 - _ . ( ) [ ] （ ） 〔 〕 【 】 － — (the number contains U+{code:04X}; allowed are letters, digits, CJK ideographs and - _ . ( ) [ ] （ ） 〔 〕 【 】 － —)"
    )]
    Character {
        /// The character, or its code when invisible.
        shown: String,
        /// Its code point.
        code: u32,
    },
    /// `..`, or `.` at either end.
    #[error(
        "编号不得含“..”，也不得以“.”开头或结尾 (the number must not contain “..” nor start or end with “.”)"
    )]
    Dots,
}

/// Checks a certificate number (`max` [`MAX_NUMBER_CHARS`]) or a supplement number (`max`
/// [`MAX_SUPPLEMENT_NUMBER_CHARS`]) against the character set of the module docs.
pub fn check_number(number: &str, max: usize) -> Result<(), NumberError> {
    if number.is_empty() {
        return Err(NumberError::Empty);
    }
    if let Some(c) = number.chars().find(|c| !is_number_char(*c)) {
        let visible = !(c.is_control() || c.is_whitespace() || is_format(c));
        return Err(NumberError::Character {
            shown: if visible {
                c.to_string()
            } else {
                String::new()
            },
            code: c.into(),
        });
    }
    if number.chars().count() > max {
        return Err(NumberError::TooLong { max });
    }
    if number.contains("..") || number.starts_with('.') || number.ends_with('.') {
        return Err(NumberError::Dots);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filename::{self, FileNameParts};
    use crate::domain::{CertificateKind, Identifier};

    #[test]
    fn bidi_and_invisible_characters_are_refused() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let text = format!("张三{c}gpj.exe");
            assert_eq!(refused_char(&text), Some(Refused::Bidi(c)), "{c:?}");
        }
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2028}',
            '\u{2029}',
            '\u{E0041}',
            '\u{1D173}',
        ] {
            assert_eq!(
                refused_char(&format!("a{c}b")),
                Some(Refused::Invisible(c)),
                "{c:?}"
            );
        }
        assert_eq!(refused_char("a\tb"), Some(Refused::Control('\t')));
        assert_eq!(refused_char("a\u{85}b"), Some(Refused::Control('\u{85}')));
        // What certificates do hold: line feeds, CJK with an ideographic variation sequence,
        // full-width punctuation, units and symbols.
        for ok in [
            "第一行\n第二行",
            "葛\u{E0100}洪",
            "（苏）法计（2023）00001",
            "20.5 ℃ ± 0.5 ℃, 45 %RH, 10⁻⁵ Ω·m",
        ] {
            assert_eq!(refused_char(ok), None, "{ok:?}");
        }
        assert!(refused_class().contains(r"\u202A-\u202E"));
        assert!(!refused_class().contains("E0020"));
    }

    #[test]
    fn number_character_set() {
        for ok in [
            "JZ2024-000123",
            "质字20211203—2377",
            "1022CN0200036",
            "（2024）苏量校字第00123号",
            "No.123_A(1)[2]",
            "〔2024〕〇一－【三】",
            &"N".repeat(MAX_NUMBER_CHARS),
        ] {
            check_number(ok, MAX_NUMBER_CHARS).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert_eq!(check_number("", 32), Err(NumberError::Empty));
        assert_eq!(
            check_number(&"N".repeat(33), 32),
            Err(NumberError::TooLong { max: 32 })
        );
        for bad in [
            "JZ/2024",
            "JZ\\2024",
            "JZ 2024",
            "JZ·2024",
            "JZ#1",
            "JZ?1",
            "ＪＺ2024",
            "JZ\u{202E}1",
            "JZ\u{200B}1",
            "JZ\u{F900}",
            "JZ+1",
            "JZ%1",
        ] {
            assert!(
                matches!(check_number(bad, 32), Err(NumberError::Character { .. })),
                "{bad:?}"
            );
        }
        for bad in ["JZ..1", ".JZ1", "JZ1.", "..", "."] {
            assert_eq!(check_number(bad, 32), Err(NumberError::Dots), "{bad:?}");
        }
        let pattern = number_pattern();
        assert!(pattern.starts_with("^[") && pattern.ends_with(")*$"));
    }

    /// Every number character is unchanged by NFC, accepted in an identifier part (R-4.5.4,
    /// R-4.5.5), and kept as it is in a file name (R-4.4); the longest number of the widest
    /// characters still gets a file name for every kind (R-4.4.2).
    #[test]
    fn numbers_agree_with_identifiers_and_file_names() {
        use unicode_normalization::UnicodeNormalization;
        let mut all: Vec<char> = ('\u{0}'..='\u{FFFF}')
            .filter(|c| is_number_char(*c))
            .collect();
        all.extend(('\u{10000}'..='\u{10FFFF}').filter(|c| is_number_char(*c)));
        assert!(all.iter().all(|c| u32::from(*c) <= 0xFFFF));
        for chunk in all.chunks(MAX_NUMBER_CHARS) {
            let mut number: String = chunk.iter().collect();
            number = number.replace('.', "");
            if number.is_empty() {
                continue;
            }
            let nfc: String = number.nfc().collect();
            assert_eq!(nfc, number);
            let id = Identifier::new(
                "1.2.156.1",
                CertificateKind::Calibration,
                "123456788",
                "CNAS L1",
                &number,
                0,
            )
            .unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(id.serial(), number);
            assert_eq!(filename::clean(&number), number);
        }
        let widest = "国".repeat(MAX_NUMBER_CHARS);
        check_number(&widest, MAX_NUMBER_CHARS).expect("valid");
        for kind in CertificateKind::ALL {
            let name = filename::file_name(
                filename::DEFAULT_RULE,
                &FileNameParts {
                    kind,
                    number: &widest,
                    instrument: "数字多用表",
                    serial: "SN1",
                    customer: None,
                    issuer: None,
                },
            )
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert!(name.contains(&widest));
        }
    }
}
