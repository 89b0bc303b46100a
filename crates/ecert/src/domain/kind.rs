//! Certificate kinds and their type codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of an electronic certificate, with the type code the identifier carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum CertificateKind {
    /// 1 检定证书
    Verification,
    /// 2 检定结果通知书
    VerificationResultNotice,
    /// 3 仲裁检定证书
    ArbitrationVerification,
    /// 4 型式评价报告
    TypeEvaluation,
    /// 5 商品量及商品包装检验报告
    PrepackagedGoods,
    /// 6 能源效率标识检验报告
    EnergyEfficiencyLabel,
    /// 7 校准证书
    Calibration,
    /// 8 其他
    Other,
}

/// A type code outside 1–8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的证书类型代码“{0}”：应为 1–8 (unknown certificate type code {0:?}: expected 1–8)")]
pub struct UnknownKind(pub String);

impl CertificateKind {
    /// Every kind, in type-code order.
    pub const ALL: [CertificateKind; 8] = [
        Self::Verification,
        Self::VerificationResultNotice,
        Self::ArbitrationVerification,
        Self::TypeEvaluation,
        Self::PrepackagedGoods,
        Self::EnergyEfficiencyLabel,
        Self::Calibration,
        Self::Other,
    ];

    /// The one-digit type code of.
    pub fn code(self) -> u8 {
        match self {
            Self::Verification => 1,
            Self::VerificationResultNotice => 2,
            Self::ArbitrationVerification => 3,
            Self::TypeEvaluation => 4,
            Self::PrepackagedGoods => 5,
            Self::EnergyEfficiencyLabel => 6,
            Self::Calibration => 7,
            Self::Other => 8,
        }
    }

    /// The kind for a type code.
    pub fn from_code(code: u8) -> Result<Self, UnknownKind> {
        Self::ALL
            .get(usize::from(code).wrapping_sub(1))
            .copied()
            .ok_or_else(|| UnknownKind(code.to_string()))
    }

    /// The name the standard gives the kind, exactly as in.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Verification => "检定证书",
            Self::VerificationResultNotice => "检定结果通知书",
            Self::ArbitrationVerification => "仲裁检定证书",
            Self::TypeEvaluation => "型式评价报告",
            Self::PrepackagedGoods => "商品量及商品包装检验报告",
            Self::EnergyEfficiencyLabel => "能源效率标识检验报告",
            Self::Calibration => "校准证书",
            Self::Other => "其他",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::Verification => "verification certificate",
            Self::VerificationResultNotice => "notice of verification result",
            Self::ArbitrationVerification => "arbitration verification certificate",
            Self::TypeEvaluation => "type evaluation report",
            Self::PrepackagedGoods => "pre-packaged goods inspection report",
            Self::EnergyEfficiencyLabel => "energy-efficiency label inspection report",
            Self::Calibration => "calibration certificate",
            Self::Other => "other",
        }
    }

    /// The category word that stands directly before "电子证书" in file names:
    /// `检定电子证书-…`, `校准电子证书-…`.
    pub fn file_category(self) -> &'static str {
        match self {
            Self::Verification => "检定",
            Self::VerificationResultNotice => "检定结果通知书",
            Self::ArbitrationVerification => "仲裁检定",
            Self::TypeEvaluation => "型式评价报告",
            Self::PrepackagedGoods => "商品量及商品包装检验报告",
            Self::EnergyEfficiencyLabel => "能源效率标识检验报告",
            Self::Calibration => "校准",
            Self::Other => "其他",
        }
    }
}

/// A template used for a certificate of a kind it does not declare to serve (R-4.3.1: one
/// uniform style per kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "模板“{template}”不用于{kind}（类型代码 {code}）：{serves_zh} (template {template:?} does not serve the {kind_en}, type code {code}: {serves_en}; a template declares the kinds it serves with a line `// ecert: kinds = 1, 3` at the top of its main.typ)",
    code = .kind.code(),
    kind_en = .kind.name_en(),
    serves_zh = serves_zh(.serves),
    serves_en = serves_en(.serves)
)]
pub struct TemplateKindError {
    /// The template's name or path.
    pub template: String,
    /// The certificate's kind.
    pub kind: CertificateKind,
    /// The type codes the template declares (empty: none declared).
    pub serves: Vec<u8>,
}

fn kind_list(serves: &[u8], name: fn(CertificateKind) -> &'static str) -> String {
    serves
        .iter()
        .map(|c| match CertificateKind::from_code(*c) {
            Ok(k) => format!("{c} {}", name(k)),
            Err(_) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn serves_zh(serves: &[u8]) -> String {
    if serves.is_empty() {
        "模板未声明所用的证书类型".into()
    } else {
        format!("它声明用于 {}", kind_list(serves, CertificateKind::name_zh))
    }
}

fn serves_en(serves: &[u8]) -> String {
    if serves.is_empty() {
        "it declares no kind".into()
    } else {
        format!(
            "it declares {}",
            kind_list(serves, CertificateKind::name_en)
        )
    }
}

/// Refuses a template for a certificate of a kind outside the type codes it declares
/// (`serves`, from `ecert_layout::Template::kinds`).
pub fn check_template_serves(
    template: &str,
    serves: &[u8],
    kind: CertificateKind,
) -> Result<(), TemplateKindError> {
    if serves.contains(&kind.code()) {
        Ok(())
    } else {
        Err(TemplateKindError {
            template: template.to_owned(),
            kind,
            serves: serves.to_vec(),
        })
    }
}

impl fmt::Display for CertificateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

impl TryFrom<u8> for CertificateKind {
    type Error = UnknownKind;
    fn try_from(code: u8) -> Result<Self, UnknownKind> {
        Self::from_code(code)
    }
}

impl From<CertificateKind> for u8 {
    fn from(kind: CertificateKind) -> u8 {
        kind.code()
    }
}

impl FromStr for CertificateKind {
    type Err = UnknownKind;
    /// Accepts the type code ("7") or the standard's name ("校准证书").
    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        let s = s.trim();
        if let Some(kind) = Self::ALL.iter().find(|k| k.name_zh() == s) {
            return Ok(*kind);
        }
        match s.as_bytes() {
            [d @ b'1'..=b'8'] => Self::from_code(d - b'0'),
            _ => Err(UnknownKind(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// the eight type codes and their names, exactly as the standard lists them.
    #[test]
    fn r_4_5_5_type_codes() {
        let listed = [
            (1, "检定证书"),
            (2, "检定结果通知书"),
            (3, "仲裁检定证书"),
            (4, "型式评价报告"),
            (5, "商品量及商品包装检验报告"),
            (6, "能源效率标识检验报告"),
            (7, "校准证书"),
            (8, "其他"),
        ];
        for (code, name) in listed {
            let kind = CertificateKind::from_code(code).expect("listed code");
            assert_eq!(kind.code(), code);
            assert_eq!(kind.name_zh(), name);
            assert_eq!(name.parse::<CertificateKind>(), Ok(kind));
            assert_eq!(code.to_string().parse::<CertificateKind>(), Ok(kind));
        }
        for bad in ["0", "9", "10", "", "校准", "７"] {
            assert!(bad.parse::<CertificateKind>().is_err(), "{bad:?}");
        }
        assert!(CertificateKind::from_code(0).is_err());
        assert!(CertificateKind::from_code(9).is_err());
    }

    #[test]
    fn a_template_serves_the_kinds_it_declares() {
        check_template_serves("verification", &[1, 3], CertificateKind::Verification)
            .expect("declared");
        let err = check_template_serves("report", &[4, 5, 6, 8], CertificateKind::Calibration)
            .expect_err("not declared");
        assert_eq!(err.kind, CertificateKind::Calibration);
        let text = err.to_string();
        assert!(
            text.contains("“report”")
                && text.contains("校准证书")
                && text.contains("4 型式评价报告"),
            "{text}"
        );
        let err = check_template_serves("own.typ", &[], CertificateKind::Other)
            .expect_err("nothing declared");
        assert!(err.to_string().contains("未声明"), "{err}");
    }
}
