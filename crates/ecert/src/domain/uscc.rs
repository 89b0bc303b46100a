//! 统一社会信用代码 (unified social credit identifier, GB 32100-2015): how an organisation
//! registers with the customer self-service system.
//!
//! Eighteen characters from a 31-character set (the digits and the capital letters without
//! I, O, S, V, Z). The eighteenth is a check character: with the characters' values `Cᵢ`
//! (their index in [`ALPHABET`]) and the weights `Wᵢ = 3^(i-1) mod 31` of positions 1–17,
//! `C₁₈ = 31 − (Σ Cᵢ·Wᵢ mod 31)`, where 31 stands for 0 (GB 32100-2015, clause 4 and annex).
//! Only the check character is judged: the registration authority and organisation-type
//! codes of positions 1–2 get new values from time to time, and the embedded organisation code
//! (positions 9–17) of older registrations does not always carry a valid GB 11714 check digit.

use std::fmt;

/// The 31 characters of a USCC, in the order of their values 0–30.
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17: `3^(i-1) mod 31`.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Length of a USCC in characters.
pub const LEN: usize = 18;

/// A checked 统一社会信用代码: 18 characters, upper case, valid check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a text is not a USCC; the message says it in Chinese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsccError {
    /// Nothing given.
    #[error("统一社会信用代码为空 (the unified social credit code is empty)")]
    Empty,
    /// Not 18 characters.
    #[error(
        "统一社会信用代码应为 18 位，实际为 {found} 位 (the unified social credit code has 18 characters, not {found})"
    )]
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character outside the 31-character set.
    #[error(
        "统一社会信用代码第 {position} 位“{character}”不是允许的字符（数字及除 I、O、S、V、Z 外的大写字母）(character {position}, {character:?}, is not allowed: digits and capital letters except I, O, S, V, Z)"
    )]
    Character {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// The check character does not match.
    #[error(
        "统一社会信用代码校验位错误：第 18 位应为“{expected}”，实际为“{found}” (check character wrong: expected {expected}, got {found})"
    )]
    Check {
        /// What positions 1–17 require.
        expected: char,
        /// What was given.
        found: char,
    },
}

/// The check character of the first 17 characters (each must be in [`ALPHABET`]).
fn check_char(values: &[u32; 17]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(c, w)| c * w).sum();
    let c = (31 - sum % 31) % 31;
    char::from(ALPHABET[c as usize])
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|i| u32::try_from(i).ok())
}

impl Uscc {
    /// Reads a USCC: surrounding white space is ignored and lower case letters count as upper
    /// case; anything else that is not exactly the code is refused, naming the problem.
    pub fn parse(s: &str) -> Result<Uscc, UsccError> {
        let text = s.trim().to_uppercase();
        if text.is_empty() {
            return Err(UsccError::Empty);
        }
        let chars: Vec<char> = text.chars().collect();
        if chars.len() != LEN {
            return Err(UsccError::Length { found: chars.len() });
        }
        let mut values = [0u32; 17];
        for (i, &c) in chars.iter().enumerate() {
            let Some(v) = value_of(c) else {
                return Err(UsccError::Character {
                    position: i + 1,
                    character: c,
                });
            };
            if let Some(slot) = values.get_mut(i) {
                *slot = v;
            }
        }
        let expected = check_char(&values);
        let found = chars[LEN - 1];
        if expected != found {
            return Err(UsccError::Check { expected, found });
        }
        Ok(Uscc(text))
    }

    /// The code, 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Uscc, UsccError> {
        Uscc::parse(s)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes published in the national enterprise credit information system (and on the
    /// companies' own sites): 深圳市腾讯计算机系统有限公司, 华为技术有限公司,
    /// 阿里巴巴（中国）有限公司, 小米科技有限责任公司.
    const PUBLISHED: [&str; 4] = [
        "91440300708461136T",
        "914403001922038216",
        "91330100799655058B",
        "91110108551385082Q",
    ];

    #[test]
    fn r_5_2_3_published_codes_are_accepted() {
        for code in PUBLISHED {
            let u = Uscc::parse(code).expect(code);
            assert_eq!(u.as_str(), code);
            assert_eq!(u.to_string(), code);
        }
        // White space around and lower case are tolerated, and normalised.
        let u = Uscc::parse("  91440300708461136t\n").expect("lower case");
        assert_eq!(u.as_str(), "91440300708461136T");
    }

    #[test]
    fn r_5_2_3_weights_are_powers_of_three_mod_31() {
        let mut w = 1u32;
        for weight in WEIGHTS {
            assert_eq!(weight, w);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn r_5_2_3_any_single_change_is_caught() {
        // Every substitution of one character among positions 1–17 by another allowed one
        // changes the check character (31 is prime and every weight is non-zero mod 31).
        for code in PUBLISHED {
            let chars: Vec<char> = code.chars().collect();
            for pos in 0..17 {
                for &a in ALPHABET {
                    let a = char::from(a);
                    if a == chars[pos] {
                        continue;
                    }
                    let mut altered = chars.clone();
                    altered[pos] = a;
                    let s: String = altered.into_iter().collect();
                    match Uscc::parse(&s) {
                        Err(UsccError::Check { expected, found }) => {
                            assert_eq!(found, chars[17]);
                            assert_ne!(expected, found);
                        }
                        other => panic!("{s}: {other:?}"),
                    }
                }
            }
        }
        // Two neighbours swapped.
        let e = Uscc::parse("94140300708461136T").expect_err("swapped");
        assert!(matches!(e, UsccError::Check { .. }), "{e:?}");
    }

    #[test]
    fn r_5_2_3_errors_name_the_problem_in_chinese_and_english() {
        let e = Uscc::parse("91440300708461136X").expect_err("check");
        assert_eq!(
            e,
            UsccError::Check {
                expected: 'T',
                found: 'X'
            }
        );
        let m = e.to_string();
        assert!(
            m.contains("校验位") && m.contains("expected T, got X"),
            "{m}"
        );

        let e = Uscc::parse("9144030070846113").expect_err("short");
        assert_eq!(e, UsccError::Length { found: 16 });
        assert!(e.to_string().contains("18 位") && e.to_string().contains("not 16"));

        let e = Uscc::parse("914403007084611I6T").expect_err("letter I");
        assert_eq!(
            e,
            UsccError::Character {
                position: 16,
                character: 'I'
            }
        );
        assert!(e.to_string().contains("第 16 位"), "{e}");

        let e = Uscc::parse("91440300708461136Ｔ").expect_err("full width");
        assert!(
            matches!(e, UsccError::Character { position: 18, .. }),
            "{e:?}"
        );

        assert_eq!(Uscc::parse("  ").expect_err("empty"), UsccError::Empty);
        // Characters, not bytes, are counted.
        let e = Uscc::parse("统一社会信用代码统一社会信用代码统一").expect_err("hanzi");
        assert!(
            matches!(e, UsccError::Character { position: 1, .. }),
            "{e:?}"
        );
    }
}
