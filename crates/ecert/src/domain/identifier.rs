//! The electronic certificate identifier (电子证书标识, R-4.5.5).
//!
//! `根代码·类型代码·发布机构代码·认可/授权标识·流水号·修改次数`, joined by U+00B7 MIDDLE DOT.
//! Every part is checked on its own, and the text is normalised to Unicode NFC so that the same
//! identifier always has the same bytes (R-4.5.4: it never changes in exchange and archiving).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::kind::CertificateKind;

/// The separator of: "·", U+00B7 MIDDLE DOT.
pub const SEPARATOR: char = '\u{00B7}';

/// Characters that look like the separator but are not it; refused inside parts, and named in
/// the error, because a reader cannot tell them apart from U+00B7.
const LOOKALIKES: [char; 6] = [
    '\u{2022}', '\u{2219}', '\u{22C5}', '\u{30FB}', '\u{FF65}', '\u{0387}',
];

/// The documentation arc (IANA PEN 32473, RFC 5612) used as root code in demo mode only.
pub const DEMO_ROOT_OID: &str = "1.3.6.1.4.1.32473.1";

/// Which part of an identifier an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// 电子证书根代码
    RootCode,
    /// 证书类型代码
    TypeCode,
    /// 证书发布机构代码
    IssuerCode,
    /// 发布机构认可/授权标识
    Accreditation,
    /// 流水号
    Serial,
    /// 证书修改次数
    Revision,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::RootCode => "电子证书根代码 (root code)",
            Part::TypeCode => "证书类型代码 (type code)",
            Part::IssuerCode => "证书发布机构代码 (issuer organisation code)",
            Part::Accreditation => "发布机构认可/授权标识 (accreditation/authorisation id)",
            Part::Serial => "流水号 (serial number)",
            Part::Revision => "证书修改次数 (revision count)",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an identifier or one of its parts is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// Not six parts.
    #[error(
        "电子证书标识应由 6 部分以“·”(U+00B7) 分隔，实际为 {found} 部分 (identifier must have 6 parts separated by U+00B7, found {found})"
    )]
    PartCount {
        /// How many parts were found.
        found: usize,
    },
    /// A part is empty.
    #[error("{0}为空 ({0} is empty)")]
    Empty(Part),
    /// A part has leading or trailing white space.
    #[error("{0}首尾含空白字符 ({0} has leading or trailing white space)")]
    Whitespace(Part),
    /// A part holds the separator or a character that looks like it.
    #[error(
        "{part}中含有分隔符或形似分隔符的字符 U+{code:04X} ({part} contains the separator or a look-alike, U+{code:04X})"
    )]
    SeparatorInside {
        /// The part.
        part: Part,
        /// The offending code point.
        code: u32,
    },
    /// A part holds a control character.
    #[error("{part}中含有控制字符 U+{code:04X} ({part} contains control character U+{code:04X})")]
    Control {
        /// The part.
        part: Part,
        /// The offending code point.
        code: u32,
    },
    /// The root code is not a dotted OID.
    #[error(
        "电子证书根代码“{0}”不是合法的 OID (root code {0:?} is not a valid OID: arcs of digits without leading zeros, first arc 0–2, at least two arcs)"
    )]
    BadOid(String),
    /// The type code is not 1–8.
    #[error(transparent)]
    UnknownKind(#[from] super::kind::UnknownKind),
    /// The organisation code's check character is wrong.
    #[error(
        "证书发布机构代码“{code}”校验位错误，应为“{expected}” (issuer code {code:?} fails its {standard} check character, expected {expected:?})"
    )]
    BadCheckCharacter {
        /// The code as given.
        code: String,
        /// The check character it should end in.
        expected: char,
        /// GB 11714 or GB 32100.
        standard: &'static str,
    },
    /// The organisation code has the wrong shape.
    #[error(
        "证书发布机构代码“{0}”应为 9 位组织机构代码 (GB 11714) 或 18 位统一社会信用代码 (GB 32100) (issuer code {0:?} must be a 9-character organisation code or an 18-character unified social credit code)"
    )]
    BadIssuerCode(String),
    /// The revision count is not a single digit.
    #[error("证书修改次数“{0}”应为 1 位数字 0–9 (revision count {0:?} must be one digit 0–9)")]
    BadRevision(String),
    /// A revision past 9 was asked for.
    #[error(
        "证书修改次数已达 9，不能再修改 (revision count is already 9: the identifier has one digit for it)"
    )]
    RevisionExhausted,
    /// The documentation root code outside demo mode.
    #[error(
        "根代码 {DEMO_ROOT_OID} 仅供演示使用，请配置本机构注册的 OID (root code {DEMO_ROOT_OID} is for demos only; configure the institute's registered OID)"
    )]
    DemoRootInProduction,
}

/// An electronic certificate identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identifier {
    root_oid: String,
    kind: CertificateKind,
    issuer_code: String,
    accreditation: String,
    serial: String,
    revision: u8,
}

impl Identifier {
    /// Builds an identifier from its parts, normalising each to NFC and validating it.
    pub fn new(
        root_oid: &str,
        kind: CertificateKind,
        issuer_code: &str,
        accreditation: &str,
        serial: &str,
        revision: u8,
    ) -> Result<Self, IdentifierError> {
        if revision > 9 {
            return Err(IdentifierError::BadRevision(revision.to_string()));
        }
        let root_oid = text_part(Part::RootCode, root_oid)?;
        check_oid(&root_oid)?;
        let issuer_code = text_part(Part::IssuerCode, issuer_code)?;
        check_issuer_code(&issuer_code)?;
        Ok(Identifier {
            root_oid,
            kind,
            issuer_code,
            accreditation: text_part(Part::Accreditation, accreditation)?,
            serial: text_part(Part::Serial, serial)?,
            revision,
        })
    }

    /// The root code (an OID).
    pub fn root_oid(&self) -> &str {
        &self.root_oid
    }
    /// The certificate kind (type code).
    pub fn kind(&self) -> CertificateKind {
        self.kind
    }
    /// The issuer's organisation code.
    pub fn issuer_code(&self) -> &str {
        &self.issuer_code
    }
    /// The accreditation or authorisation id.
    pub fn accreditation(&self) -> &str {
        &self.accreditation
    }
    /// The serial number (the issuer's certificate number).
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The revision count, 0 for an original.
    pub fn revision(&self) -> u8 {
        self.revision
    }

    /// The identifier of the next revision with a new serial number.
    pub fn revised(&self, new_serial: &str) -> Result<Self, IdentifierError> {
        if self.revision >= 9 {
            return Err(IdentifierError::RevisionExhausted);
        }
        Identifier::new(
            &self.root_oid,
            self.kind,
            &self.issuer_code,
            &self.accreditation,
            new_serial,
            self.revision + 1,
        )
    }

    /// Whether the root code is the documentation arc that only demos may use.
    pub fn uses_demo_root(&self) -> bool {
        self.root_oid == DEMO_ROOT_OID || self.root_oid.starts_with("1.3.6.1.4.1.32473.")
    }

    /// Refuses the demo root code unless `demo` is set.
    pub fn check_root_allowed(&self, demo: bool) -> Result<(), IdentifierError> {
        if self.uses_demo_root() && !demo {
            return Err(IdentifierError::DemoRootInProduction);
        }
        Ok(())
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = SEPARATOR;
        write!(
            f,
            "{}{s}{}{s}{}{s}{}{s}{}{s}{}",
            self.root_oid,
            self.kind.code(),
            self.issuer_code,
            self.accreditation,
            self.serial,
            self.revision
        )
    }
}

impl FromStr for Identifier {
    type Err = IdentifierError;
    fn from_str(text: &str) -> Result<Self, IdentifierError> {
        let text: String = text.nfc().collect();
        let parts: Vec<&str> = text.split(SEPARATOR).collect();
        let [root, kind, issuer, accreditation, serial, revision] = parts[..] else {
            return Err(IdentifierError::PartCount { found: parts.len() });
        };
        let kind = text_part(Part::TypeCode, kind)?.parse::<CertificateKind>()?;
        let revision = match revision.as_bytes() {
            [d @ b'0'..=b'9'] => d - b'0',
            [] => return Err(IdentifierError::Empty(Part::Revision)),
            _ => return Err(IdentifierError::BadRevision(revision.to_owned())),
        };
        Identifier::new(root, kind, issuer, accreditation, serial, revision)
    }
}

impl TryFrom<String> for Identifier {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, IdentifierError> {
        s.parse()
    }
}

impl From<Identifier> for String {
    fn from(id: Identifier) -> String {
        id.to_string()
    }
}

/// NFC-normalises one part and checks what every part must satisfy.
fn text_part(part: Part, raw: &str) -> Result<String, IdentifierError> {
    let value: String = raw.nfc().collect();
    if value.is_empty() {
        return Err(IdentifierError::Empty(part));
    }
    if value.trim() != value {
        return Err(IdentifierError::Whitespace(part));
    }
    for c in value.chars() {
        if c == SEPARATOR || LOOKALIKES.contains(&c) {
            return Err(IdentifierError::SeparatorInside {
                part,
                code: c.into(),
            });
        }
        if c.is_control() {
            return Err(IdentifierError::Control {
                part,
                code: c.into(),
            });
        }
    }
    Ok(value)
}

fn check_oid(oid: &str) -> Result<(), IdentifierError> {
    let bad = || IdentifierError::BadOid(oid.to_owned());
    let arcs: Vec<&str> = oid.split('.').collect();
    if arcs.len() < 2 {
        return Err(bad());
    }
    for (i, arc) in arcs.iter().enumerate() {
        let digits_only = !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit());
        if !digits_only || (arc.len() > 1 && arc.starts_with('0')) {
            return Err(bad());
        }
        if i == 0 && !matches!(*arc, "0" | "1" | "2") {
            return Err(bad());
        }
        // X.660: under roots 0 and 1 the second arc is at most 39.
        if i == 1 && arcs[0] != "2" && arc.parse::<u32>().map_or(true, |v| v > 39) {
            return Err(bad());
        }
    }
    Ok(())
}

/// The issuer code: a 9-character organisation code (GB 11714, 8 + check character) or an
/// 18-character unified social credit code (GB 32100), check character verified.
fn check_issuer_code(code: &str) -> Result<(), IdentifierError> {
    match code.chars().count() {
        9 => check_gb11714(code),
        18 => check_gb32100(code),
        _ => Err(IdentifierError::BadIssuerCode(code.to_owned())),
    }
}

fn gb11714_check(body: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        let v = match c {
            '0'..='9' => u32::from(c) - u32::from('0'),
            'A'..='Z' => u32::from(c) - u32::from('A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        d => char::from_digit(d, 10),
    }
}

fn check_gb11714(code: &str) -> Result<(), IdentifierError> {
    let (body, check) = code.split_at(code.len().saturating_sub(1));
    let expected =
        gb11714_check(body).ok_or_else(|| IdentifierError::BadIssuerCode(code.to_owned()))?;
    if check.chars().eq([expected]) {
        Ok(())
    } else {
        Err(IdentifierError::BadCheckCharacter {
            code: code.to_owned(),
            expected,
            standard: "GB 11714",
        })
    }
}

/// GB 32100 alphabet: digits and upper-case letters without I, O, Z, S, V.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

fn check_gb32100(code: &str) -> Result<(), IdentifierError> {
    let bad = || IdentifierError::BadIssuerCode(code.to_owned());
    let values: Vec<u32> = code
        .chars()
        .map(|c| USCC_ALPHABET.find(c).map(|i| i as u32))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let (body, check) = values.split_at(17);
    let mut weight = 1u32;
    let mut sum = 0u32;
    for v in body {
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    let expected_value = (31 - sum % 31) % 31;
    let expected = USCC_ALPHABET
        .chars()
        .nth(expected_value as usize)
        .ok_or_else(bad)?;
    if check == [expected_value] {
        // The embedded organisation code (characters 9–17) carries its own GB 11714 check.
        let org: String = code.chars().skip(8).take(9).collect();
        check_gb11714(&org)
    } else {
        Err(IdentifierError::BadCheckCharacter {
            code: code.to_owned(),
            expected,
            standard: "GB 32100",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALIBRATION: &str = "1.3.6.1.4.1.32473.1·7·123456788·L12345·JZ2024-000123·0";

    /// the identifier of the domain example parses into its six parts and formats back.
    #[test]
    fn r_4_5_5_parse_and_format() {
        let id: Identifier = CALIBRATION.parse().expect("valid identifier");
        assert_eq!(id.root_oid(), "1.3.6.1.4.1.32473.1");
        assert_eq!(id.kind(), CertificateKind::Calibration);
        assert_eq!(id.issuer_code(), "123456788");
        assert_eq!(id.accreditation(), "L12345");
        assert_eq!(id.serial(), "JZ2024-000123");
        assert_eq!(id.revision(), 0);
        assert_eq!(id.to_string(), CALIBRATION);
        assert!(id.to_string().contains('\u{00B7}'));
    }

    /// Full-width characters in the authorisation id survive unchanged (NFC, not NFKC).
    #[test]
    fn r_4_5_5_full_width_authorisation_id() {
        let text = "1.3.6.1.4.1.32473.1·1·123456788·（苏）法计（2023）00001·JD2024-000456·0";
        let id: Identifier = text.parse().expect("valid");
        assert_eq!(id.accreditation(), "（苏）法计（2023）00001");
        assert_eq!(id.to_string(), text);
    }

    /// decomposed input is normalised to NFC, so the same identifier has the same bytes.
    #[test]
    fn r_4_5_4_nfc_normalisation() {
        let decomposed = "1.2.156.1·8·123456788·CNAS L0001·Cafe\u{0301}-1·0";
        let id: Identifier = decomposed.parse().expect("valid");
        assert_eq!(id.serial(), "Caf\u{e9}-1");
        assert_ne!(id.to_string(), decomposed);
        assert_eq!(id.to_string().parse::<Identifier>(), Ok(id));
    }

    #[test]
    fn r_4_5_5_each_bad_part_is_named() {
        type Check = fn(&IdentifierError) -> bool;
        let cases: [(&str, Check); 12] = [
            ("1.2.156·7·123456788·L1·S1", |e| {
                matches!(e, IdentifierError::PartCount { found: 5 })
            }),
            ("1.2.156·9·123456788·L1·S1·0", |e| {
                matches!(e, IdentifierError::UnknownKind(_))
            }),
            ("3.2.156·7·123456788·L1·S1·0", |e| {
                matches!(e, IdentifierError::BadOid(_))
            }),
            ("1.02.156·7·123456788·L1·S1·0", |e| {
                matches!(e, IdentifierError::BadOid(_))
            }),
            ("1·7·123456788·L1·S1·0", |e| {
                matches!(e, IdentifierError::BadOid(_))
            }),
            ("1.2.156·7·123456789·L1·S1·0", |e| {
                matches!(e, IdentifierError::BadCheckCharacter { expected: '8', .. })
            }),
            ("1.2.156·7·1234·L1·S1·0", |e| {
                matches!(e, IdentifierError::BadIssuerCode(_))
            }),
            ("1.2.156·7·123456788··S1·0", |e| {
                matches!(e, IdentifierError::Empty(Part::Accreditation))
            }),
            ("1.2.156·7·123456788·L1·S1·10", |e| {
                matches!(e, IdentifierError::BadRevision(_))
            }),
            ("1.2.156·7·123456788·L1·S\u{30FB}1·0", |e| {
                matches!(
                    e,
                    IdentifierError::SeparatorInside {
                        part: Part::Serial,
                        code: 0x30FB
                    }
                )
            }),
            ("1.2.156·7·123456788· L1·S1·0", |e| {
                matches!(e, IdentifierError::Whitespace(Part::Accreditation))
            }),
            ("1.2.156·7·123456788·L1·S\n1·0", |e| {
                matches!(
                    e,
                    IdentifierError::Control {
                        part: Part::Serial,
                        ..
                    }
                )
            }),
        ];
        for (text, expected) in cases {
            let err = text.parse::<Identifier>().expect_err(text);
            assert!(expected(&err), "{text:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn separator_inside_a_part_is_refused_when_building() {
        let err = Identifier::new(
            "1.2.156",
            CertificateKind::Other,
            "123456788",
            "A·B",
            "S",
            0,
        )
        .expect_err("separator inside");
        assert!(matches!(
            err,
            IdentifierError::SeparatorInside {
                part: Part::Accreditation,
                ..
            }
        ));
    }

    /// a revision raises the count by one; past 9 it is refused.
    #[test]
    fn r_6_4_1_revision_count() {
        let mut id: Identifier = CALIBRATION.parse().expect("valid");
        for n in 1..=9 {
            id = id
                .revised(&format!("JZ2024-9{n}"))
                .expect("room for a revision");
            assert_eq!(id.revision(), n);
            assert!(id.to_string().ends_with(&format!("·{n}")));
        }
        assert_eq!(
            id.revised("JZ2024-X"),
            Err(IdentifierError::RevisionExhausted)
        );
    }

    /// GB 32100 and GB 11714 check characters of the domain examples.
    #[test]
    fn issuer_code_check_characters() {
        check_issuer_code("123205001234567886").expect("USCC of the example institute");
        check_issuer_code("91320505876543210E").expect("USCC of the example customer");
        check_issuer_code("123456788").expect("organisation code");
        assert!(matches!(
            check_issuer_code("123205001234567887"),
            Err(IdentifierError::BadCheckCharacter {
                standard: "GB 32100",
                ..
            })
        ));
        assert!(check_issuer_code("12345678I").is_err());
    }

    #[test]
    fn demo_root_is_refused_outside_demo_mode() {
        let id: Identifier = CALIBRATION.parse().expect("valid");
        assert!(id.uses_demo_root());
        assert_eq!(
            id.check_root_allowed(false),
            Err(IdentifierError::DemoRootInProduction)
        );
        id.check_root_allowed(true).expect("demo mode");
        let real: Identifier = "1.2.156.100001.1·7·123456788·L1·S1·0"
            .parse()
            .expect("valid");
        real.check_root_allowed(false).expect("registered arc");
    }

    #[test]
    fn serde_as_string() {
        let id: Identifier = CALIBRATION.parse().expect("valid");
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, format!("\"{CALIBRATION}\""));
        assert_eq!(
            serde_json::from_str::<Identifier>(&json).expect("deserialise"),
            id
        );
        assert!(serde_json::from_str::<Identifier>("\"1.2·x\"").is_err());
    }
}
