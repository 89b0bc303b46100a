//! Certificate file names.
//!
//! The default rule is `{类别}电子证书-{证书编号}-{仪器名称}-{出厂编号}.ofd`: the category joined
//! directly to "电子证书", the other parts joined by "-". Characters that Windows, macOS or
//! Linux refuse are replaced by their full-width forms (`/` → `／`, `:` → `：`, …) so the name stays
//! readable; control characters are dropped. A name stays within 255 bytes of UTF-8 (stricter than
//! the 255 characters of, because Linux and macOS count bytes) and within 50 Chinese
//! characters; to fit, the instrument name is shortened first and the certificate number never.

use serde::{Deserialize, Serialize};

use super::kind::CertificateKind;

/// The default naming rule.
pub const DEFAULT_RULE: &str = "{类别}电子证书-{证书编号}-{仪器名称}-{出厂编号}.ofd";
/// Longest file name, in bytes of UTF-8.
pub const MAX_BYTES: usize = 255;
/// Most Chinese characters in a file name.
pub const MAX_CHINESE: usize = 50;

/// The fields a naming rule may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileNameParts<'a> {
    /// Certificate kind (gives `{类别}`).
    pub kind: CertificateKind,
    /// `{证书编号}`
    pub number: &'a str,
    /// `{仪器名称}`
    pub instrument: &'a str,
    /// `{出厂编号}`
    pub serial: &'a str,
    /// `{单位}`: the customer, if the rule uses it.
    pub customer: Option<&'a str>,
    /// `{发证单位}`: the issuer, if the rule uses it.
    pub issuer: Option<&'a str>,
}

/// Why no file name could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileNameError {
    /// The rule lacks a part requires.
    #[error("文件命名规则缺少“{0}” (the naming rule lacks {0}, which R-4.4.3 requires)")]
    RuleMissing(&'static str),
    /// The rule has an unknown placeholder.
    #[error("文件命名规则含未知字段“{{{0}}}” (unknown placeholder {{{0}}} in the naming rule)")]
    UnknownPlaceholder(String),
    /// The rule does not end in `.ofd`.
    #[error("文件命名规则应以 .ofd 结尾 (the naming rule must end in .ofd)")]
    NotOfd,
    /// A required field is empty after cleaning.
    #[error("“{0}”为空，无法生成文件名 ({0} is empty)")]
    EmptyField(&'static str),
    /// The rule uses `{单位}` or `{发证单位}` but the value was not given.
    #[error(
        "文件命名规则使用了“{{{0}}}”，但未提供该值 (the rule uses {{{0}}} but no value was given)"
    )]
    MissingValue(&'static str),
    /// Even with the instrument name cut to one character the name is too long.
    #[error(
        "文件名过长：缩短仪器名称后仍有 {bytes} 字节、{chinese} 个中文字符 (file name too long even with the instrument name shortened: {bytes} bytes, {chinese} Chinese characters; limits {MAX_BYTES} bytes, {MAX_CHINESE} Chinese characters)"
    )]
    TooLong {
        /// Bytes of the shortest name.
        bytes: usize,
        /// Chinese characters of the shortest name.
        chinese: usize,
    },
}

/// Makes the file name of a certificate by `rule` (see [`DEFAULT_RULE`]).
pub fn file_name(rule: &str, parts: &FileNameParts<'_>) -> Result<String, FileNameError> {
    check_rule(rule)?;
    let number = clean_required("证书编号", parts.number)?;
    let instrument: Vec<char> = clean_required("仪器名称", parts.instrument)?
        .chars()
        .collect();
    let serial = clean_required("出厂编号", parts.serial)?;
    let optional = |name: &'static str, value: Option<&str>| -> Result<String, FileNameError> {
        if !rule.contains(&format!("{{{name}}}")) {
            return Ok(String::new());
        }
        value
            .map(clean)
            .filter(|v| !v.is_empty())
            .ok_or(FileNameError::MissingValue(name))
    };
    let customer = optional("单位", parts.customer)?;
    let issuer = optional("发证单位", parts.issuer)?;
    let render = |instrument: &str| {
        rule.replace("{类别}", parts.kind.file_category())
            .replace("{证书编号}", &number)
            .replace("{仪器名称}", instrument)
            .replace("{出厂编号}", &serial)
            .replace("{单位}", &customer)
            .replace("{发证单位}", &issuer)
    };
    // shorten the instrument name, one character at a time, never the number.
    for keep in (1..=instrument.len()).rev() {
        let name = render(&instrument[..keep].iter().collect::<String>());
        if fits(&name) {
            return Ok(name);
        }
    }
    let shortest = render(&instrument[..1].iter().collect::<String>());
    Err(FileNameError::TooLong {
        bytes: shortest.len(),
        chinese: chinese_count(&shortest),
    })
}

/// Checks a naming rule against.
pub fn check_rule(rule: &str) -> Result<(), FileNameError> {
    if !rule.contains("{类别}电子证书") {
        return Err(FileNameError::RuleMissing("{类别}电子证书"));
    }
    for required in ["{证书编号}", "{仪器名称}", "{出厂编号}"] {
        if !rule.contains(required) {
            return Err(FileNameError::RuleMissing(required));
        }
    }
    let mut rest = rule;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}').unwrap_or(after.len());
        let name = &after[..end];
        if ![
            "类别",
            "证书编号",
            "仪器名称",
            "出厂编号",
            "单位",
            "发证单位",
        ]
        .contains(&name)
        {
            return Err(FileNameError::UnknownPlaceholder(name.to_owned()));
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    if !rule.ends_with(".ofd") {
        return Err(FileNameError::NotOfd);
    }
    Ok(())
}

fn fits(name: &str) -> bool {
    name.len() <= MAX_BYTES && chinese_count(name) <= MAX_CHINESE
}

/// Counts CJK ideographs and full-width forms: what a user reads as Chinese characters.
pub fn chinese_count(name: &str) -> usize {
    name.chars()
        .filter(|c| {
            matches!(u32::from(*c),
                0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
        })
        .count()
}

fn clean_required(what: &'static str, value: &str) -> Result<String, FileNameError> {
    let cleaned = clean(value);
    if cleaned.is_empty() {
        Err(FileNameError::EmptyField(what))
    } else {
        Ok(cleaned)
    }
}

/// Replaces characters that some file system refuses by full-width forms, drops control
/// characters and trims white space and dots at the ends.
pub fn clean(value: &str) -> String {
    let replaced: String = value
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' => '＜',
            '>' => '＞',
            ':' => '：',
            '"' => '＂',
            '/' => '／',
            '\\' => '＼',
            '|' => '｜',
            '?' => '？',
            '*' => '＊',
            c => c,
        })
        .collect();
    replaced
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        kind: CertificateKind,
        number: &'a str,
        instrument: &'a str,
        serial: &'a str,
    ) -> FileNameParts<'a> {
        FileNameParts {
            kind,
            number,
            instrument,
            serial,
            customer: None,
            issuer: None,
        }
    }

    /// the standard's own examples start the names our rule makes.
    #[test]
    fn r_4_4_3_standard_examples() {
        let a = file_name(
            DEFAULT_RULE,
            &parts(
                CertificateKind::Verification,
                "质字20211203—2377",
                "一般压力表",
                "230815",
            ),
        )
        .expect("name");
        assert!(a.starts_with("检定电子证书-质字20211203—2377-"), "{a}");
        assert_eq!(a, "检定电子证书-质字20211203—2377-一般压力表-230815.ofd");
        let b = file_name(
            DEFAULT_RULE,
            &parts(
                CertificateKind::Calibration,
                "1022CN0200036",
                "数字多用表",
                "12345678",
            ),
        )
        .expect("name");
        assert_eq!(b, "校准电子证书-1022CN0200036-数字多用表-12345678.ofd");
    }

    #[test]
    fn r_4_4_illegal_characters_become_full_width() {
        let name = file_name(
            DEFAULT_RULE,
            &parts(
                CertificateKind::Calibration,
                "JZ/2024:01",
                "表<A>|\"?*\\",
                " SN\u{7}01. ",
            ),
        )
        .expect("name");
        assert_eq!(name, "校准电子证书-JZ／2024：01-表＜A＞｜＂？＊＼-SN01.ofd");
        for bad in ['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\u{7}'] {
            assert!(!name.contains(bad), "{bad:?} in {name}");
        }
    }

    /// at most 50 Chinese characters: the instrument name is cut, the number kept whole.
    #[test]
    fn r_4_4_2_long_instrument_name_is_shortened_first() {
        let instrument =
            "超长名称的多功能高精度数字式智能温度湿度压力流量综合测量仪表系统及其配套软件与附件";
        let number = "国家计量院校准字第二零二四零零零零零一号";
        let name = file_name(
            DEFAULT_RULE,
            &parts(CertificateKind::Calibration, number, instrument, "SN1"),
        )
        .expect("name");
        assert_eq!(chinese_count(&name), MAX_CHINESE, "{name}");
        assert!(name.contains(number));
        assert!(name.ends_with("-SN1.ofd"));
        assert!(name.contains("-超长名称"));
    }

    /// at most 255 bytes, and when even one instrument character does not fit, an error.
    #[test]
    fn r_4_4_2_byte_limit_and_error() {
        let number = "N".repeat(200);
        let name = file_name(
            DEFAULT_RULE,
            &parts(CertificateKind::Other, &number, &"I".repeat(100), "S"),
        )
        .expect("name");
        assert_eq!(name.len(), MAX_BYTES);
        let err = file_name(
            DEFAULT_RULE,
            &parts(CertificateKind::Other, &"N".repeat(300), "I", "S"),
        )
        .expect_err("too long");
        assert!(matches!(err, FileNameError::TooLong { .. }));
    }

    #[test]
    fn r_4_4_3_rules_must_keep_the_required_parts() {
        assert_eq!(
            check_rule("{类别}证书-{证书编号}-{仪器名称}-{出厂编号}.ofd"),
            Err(FileNameError::RuleMissing("{类别}电子证书"))
        );
        assert_eq!(
            check_rule("{类别}电子证书-{证书编号}-{仪器名称}.ofd"),
            Err(FileNameError::RuleMissing("{出厂编号}"))
        );
        assert_eq!(
            check_rule("{类别}电子证书-{证书编号}-{仪器名称}-{出厂编号}-{客户}.ofd"),
            Err(FileNameError::UnknownPlaceholder("客户".into()))
        );
        assert_eq!(
            check_rule("{类别}电子证书-{证书编号}-{仪器名称}-{出厂编号}.pdf"),
            Err(FileNameError::NotOfd)
        );
        let rule = "{类别}电子证书-{证书编号}-{单位}-{仪器名称}-{出厂编号}.ofd";
        check_rule(rule).expect("customer is allowed");
        let mut p = parts(CertificateKind::Calibration, "N1", "表", "S1");
        assert_eq!(
            file_name(rule, &p),
            Err(FileNameError::MissingValue("单位"))
        );
        p.customer = Some("示例公司");
        assert_eq!(
            file_name(rule, &p).expect("name"),
            "校准电子证书-N1-示例公司-表-S1.ofd"
        );
    }

    #[test]
    fn empty_fields_are_refused() {
        let err = file_name(
            DEFAULT_RULE,
            &parts(CertificateKind::Calibration, " . ", "表", "S"),
        )
        .expect_err("empty");
        assert_eq!(err, FileNameError::EmptyField("证书编号"));
    }
}
