//! What a certificate holds: the content JSON a business system hands over (R-5.2.1).
//!
//! The shape follows ISO/IEC 17025:2017 7.8 and JJF 1071 / JJF 1069 / 国质检量函[2005]861号: issuer,
//! customer, instrument, dates, location and environment, method, measurement standards and their
//! traceability, results (tables, with uncertainty for calibrations), conclusion and valid-until
//! for verifications, signatories and remarks. The standard itself leaves content to the issuer;
//! this schema is ecert's. Field names are camelCase; the JSON Schema is `docs/content.schema.json`.
//!
//! Deserialisation is lenient (every field optional, unknown fields refused) so that
//! [`Content::validate`] can list **every** problem at once, each with its JSON pointer.

use serde::{Deserialize, Serialize};

use super::kind::CertificateKind;

/// A certificate's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Content {
    /// Type code 1–8 (R-4.5.5).
    pub type_code: Option<u8>,
    /// 证书编号: the issuer's certificate number (the identifier's serial).
    pub certificate_no: Option<String>,
    /// 原始记录号
    pub original_record_no: Option<String>,
    /// The issuing institute (may be filled from the institute's settings).
    pub issuer: Option<Issuer>,
    /// 委托方 / 客户
    pub customer: Option<Customer>,
    /// 被测/被检/被校计量器具
    pub instrument: Option<Instrument>,
    /// 接收日期 (YYYY-MM-DD)
    pub receipt_date: Option<String>,
    /// 检定/校准/检测日期 (YYYY-MM-DD)
    pub performed_date: Option<String>,
    /// 签发日期 (YYYY-MM-DD)
    pub issue_date: Option<String>,
    /// 有效期至 (YYYY-MM-DD): required for a passed verification, otherwise only on request.
    pub valid_until: Option<String>,
    /// 地点
    pub location: Option<String>,
    /// 环境条件
    pub environment: Option<Environment>,
    /// 依据的技术文件 (规程/规范/标准)
    pub methods: Option<Vec<Method>>,
    /// 使用的计量标准器 and their traceability.
    pub standards: Option<Vec<Standard>>,
    /// Results as tables that may flow across pages.
    pub results: Option<Vec<ResultTable>>,
    /// 检定结论 (e.g. "合格", "1.6级合格", "不合格").
    pub conclusion: Option<String>,
    /// Statements printed with the results (e.g. "本证书的校准结果仅对所校准的计量器具有效。").
    pub statements: Option<Vec<String>>,
    /// 备注
    pub remarks: Option<Vec<String>>,
    /// 校准员/检定员, 核验员, 批准人.
    pub signatories: Option<Vec<Signatory>>,
}

/// The issuing institute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Issuer {
    /// 发证机构名称
    pub name: Option<String>,
    /// 地址
    pub address: Option<String>,
    /// 组织机构代码 or 统一社会信用代码 (the identifier's issuer code)
    pub org_code: Option<String>,
    /// 计量授权证书编号 / CNAS 认可标识 / CMA 证书编号 (the identifier's accreditation id)
    pub accreditation: Option<String>,
    /// 电话
    pub phone: Option<String>,
    /// 网址 (official website, where certificates are verified)
    pub website: Option<String>,
}

/// The customer (委托方).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Customer {
    /// 名称
    pub name: Option<String>,
    /// 地址
    pub address: Option<String>,
    /// 统一社会信用代码
    pub uscc: Option<String>,
    /// 联系人
    pub contact: Option<String>,
    /// 手机 (used for download identity checks, R-6.2; never printed in full)
    pub mobile: Option<String>,
    /// 电子邮箱
    pub email: Option<String>,
}

/// The instrument (计量器具).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Instrument {
    /// 器具名称
    pub name: Option<String>,
    /// 型号/规格
    pub model: Option<String>,
    /// 出厂编号
    pub serial_no: Option<String>,
    /// 制造单位
    pub manufacturer: Option<String>,
    /// 测量范围
    pub range: Option<String>,
    /// 准确度等级 / 最大允许误差
    pub accuracy: Option<String>,
}

/// Environmental conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// 温度, e.g. "20.5 ℃"
    pub temperature: Option<String>,
    /// 相对湿度, e.g. "45 %RH"
    pub humidity: Option<String>,
    /// 其他 (气压、电源 …)
    pub other: Option<String>,
}

/// A method document (规程/规范).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Method {
    /// 编号, e.g. "JJF 1587-2016"
    pub code: Option<String>,
    /// 名称, e.g. "数字多用表校准规范"
    pub title: Option<String>,
}

/// A measurement standard used, with its traceability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Standard {
    /// 名称
    pub name: Option<String>,
    /// 型号
    pub model: Option<String>,
    /// 编号
    pub serial_no: Option<String>,
    /// 测量范围
    pub range: Option<String>,
    /// 不确定度/准确度等级/最大允许误差
    pub uncertainty: Option<String>,
    /// 证书编号 (traceability)
    pub cert_no: Option<String>,
    /// 证书有效期至 (YYYY-MM-DD)
    pub valid_until: Option<String>,
}

/// A results table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultTable {
    /// Caption, e.g. "直流电压"
    pub title: Option<String>,
    /// Column headers, with units, e.g. "扩展不确定度 U (k=2)"
    pub columns: Option<Vec<String>>,
    /// Rows, each as many cells as columns.
    pub rows: Option<Vec<Vec<String>>>,
    /// Notes under the table.
    pub notes: Option<Vec<String>>,
}

/// A person who signs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Signatory {
    /// 角色: 检定员/校准员/检测员, 核验员, 批准人
    pub role: Option<String>,
    /// 姓名
    pub name: Option<String>,
    /// 职务, e.g. "技术负责人", "授权签字人"
    pub title: Option<String>,
}

/// One problem found in the content, located by its JSON pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where, e.g. `/instrument/serialNo` or `/results/0/rows/3`.
    pub pointer: String,
    /// What is wrong, Chinese first.
    pub message: String,
}

/// Content that could not be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("证书内容有 {} 处问题 (content has {} problem(s)): {}", .0.len(), .0.len(), summary(.0))]
pub struct ContentErrors(pub Vec<Problem>);

fn summary(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                if p.pointer.is_empty() {
                    "/"
                } else {
                    &p.pointer
                },
                p.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Longest text accepted in one field, in characters.
pub const MAX_FIELD_CHARS: usize = 2000;
/// Most rows in all result tables together.
pub const MAX_ROWS: usize = 5000;

impl Content {
    /// The JSON Schema of the content (draft 2020-12), as committed in `docs/content.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Content);
        serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
    }

    /// Parses content JSON. A syntax or type error is reported with its JSON pointer.
    pub fn from_json(text: &str) -> Result<Content, ContentErrors> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let pointer = path_to_pointer(e.path());
            ContentErrors(vec![Problem {
                pointer,
                message: format!("无法解析 (cannot parse): {}", e.inner()),
            }])
        })
    }

    /// Parses and validates.
    pub fn parse_valid(text: &str) -> Result<Content, ContentErrors> {
        let content = Content::from_json(text)?;
        content.validate()?;
        Ok(content)
    }

    /// The certificate kind, if the type code is valid.
    pub fn kind(&self) -> Option<CertificateKind> {
        self.type_code
            .and_then(|c| CertificateKind::from_code(c).ok())
    }

    /// Checks the content for what a certificate of its kind must hold; lists every problem.
    pub fn validate(&self) -> Result<(), ContentErrors> {
        let mut v = Validator::default();
        let kind = match self.type_code {
            None => {
                v.problem(
                    "/typeCode",
                    "缺少证书类型代码 1–8 (type code 1–8 is required)",
                );
                None
            }
            Some(code) => match CertificateKind::from_code(code) {
                Ok(kind) => Some(kind),
                Err(e) => {
                    v.problem("/typeCode", &e.to_string());
                    None
                }
            },
        };
        v.required_text("/certificateNo", self.certificate_no.as_deref(), "证书编号");
        v.optional_text("/originalRecordNo", self.original_record_no.as_deref());

        match &self.customer {
            None => v.problem("/customer", "缺少委托方 (customer is required)"),
            Some(c) => {
                v.required_text("/customer/name", c.name.as_deref(), "委托方名称");
                for (p, t) in [
                    ("/customer/address", &c.address),
                    ("/customer/contact", &c.contact),
                    ("/customer/uscc", &c.uscc),
                ] {
                    v.optional_text(p, t.as_deref());
                }
                if let Some(m) = &c.mobile {
                    let digits = m.chars().filter(|c| c.is_ascii_digit()).count();
                    if !(7..=15).contains(&digits)
                        || m.chars()
                            .any(|c| !(c.is_ascii_digit() || "+- ".contains(c)))
                    {
                        v.problem(
                            "/customer/mobile",
                            "手机号码格式不正确 (mobile number is not a phone number)",
                        );
                    }
                }
                if let Some(e) = &c.email {
                    let ok = e.split_once('@').is_some_and(|(l, d)| {
                        !l.is_empty() && d.contains('.') && !d.starts_with('.')
                    });
                    if !ok || e.chars().any(char::is_whitespace) {
                        v.problem(
                            "/customer/email",
                            "电子邮箱格式不正确 (e-mail address is malformed)",
                        );
                    }
                }
            }
        }
        match &self.instrument {
            None => v.problem("/instrument", "缺少计量器具信息 (instrument is required)"),
            Some(i) => {
                v.required_text("/instrument/name", i.name.as_deref(), "器具名称");
                v.required_text("/instrument/serialNo", i.serial_no.as_deref(), "出厂编号");
                for (p, t) in [
                    ("/instrument/model", &i.model),
                    ("/instrument/manufacturer", &i.manufacturer),
                    ("/instrument/range", &i.range),
                    ("/instrument/accuracy", &i.accuracy),
                ] {
                    v.optional_text(p, t.as_deref());
                }
            }
        }
        if let Some(issuer) = &self.issuer {
            for (p, t) in [
                ("/issuer/name", &issuer.name),
                ("/issuer/address", &issuer.address),
                ("/issuer/orgCode", &issuer.org_code),
                ("/issuer/accreditation", &issuer.accreditation),
                ("/issuer/phone", &issuer.phone),
                ("/issuer/website", &issuer.website),
            ] {
                v.optional_text(p, t.as_deref());
            }
        }

        let receipt = v.date("/receiptDate", self.receipt_date.as_deref(), false);
        let performed = v.date("/performedDate", self.performed_date.as_deref(), true);
        let issued = v.date("/issueDate", self.issue_date.as_deref(), true);
        let valid_until = v.date("/validUntil", self.valid_until.as_deref(), false);
        if let (Some(r), Some(p)) = (receipt, performed)
            && r > p
        {
            v.problem(
                "/receiptDate",
                "接收日期晚于检定/校准日期 (receipt date is after the date performed)",
            );
        }
        if let (Some(p), Some(i)) = (performed, issued)
            && p > i
        {
            v.problem(
                "/issueDate",
                "签发日期早于检定/校准日期 (issue date is before the date performed)",
            );
        }
        if let (Some(p), Some(u)) = (performed, valid_until)
            && u <= p
        {
            v.problem(
                "/validUntil",
                "有效期至应晚于检定/校准日期 (valid-until must be after the date performed)",
            );
        }
        v.optional_text("/location", self.location.as_deref());
        if let Some(e) = &self.environment {
            for (p, t) in [
                ("/environment/temperature", &e.temperature),
                ("/environment/humidity", &e.humidity),
                ("/environment/other", &e.other),
            ] {
                v.optional_text(p, t.as_deref());
            }
        }

        match self.methods.as_deref() {
            None | Some([]) => v.problem(
                "/methods",
                "缺少依据的技术文件 (at least one method document is required)",
            ),
            Some(methods) => {
                for (n, m) in methods.iter().enumerate() {
                    v.required_text(
                        &format!("/methods/{n}/code"),
                        m.code.as_deref(),
                        "技术文件编号",
                    );
                    v.optional_text(&format!("/methods/{n}/title"), m.title.as_deref());
                }
            }
        }

        let needs_traceability = matches!(
            kind,
            Some(
                CertificateKind::Verification
                    | CertificateKind::ArbitrationVerification
                    | CertificateKind::Calibration
            )
        );
        match self.standards.as_deref() {
            None | Some([]) if needs_traceability => v.problem(
                "/standards",
                "缺少计量标准器及其溯源信息 (measurement standards and their traceability are required, ISO/IEC 17025 7.8.4)",
            ),
            None | Some([]) => {}
            Some(standards) => {
                for (n, s) in standards.iter().enumerate() {
                    v.required_text(&format!("/standards/{n}/name"), s.name.as_deref(), "标准器名称");
                    for (f, t) in [("model", &s.model), ("serialNo", &s.serial_no), ("range", &s.range), ("uncertainty", &s.uncertainty), ("certNo", &s.cert_no)] {
                        v.optional_text(&format!("/standards/{n}/{f}"), t.as_deref());
                    }
                    let until = v.date(&format!("/standards/{n}/validUntil"), s.valid_until.as_deref(), false);
                    if let (Some(u), Some(p)) = (until, performed)
                        && u < p {
                            v.problem(
                                &format!("/standards/{n}/validUntil"),
                                "标准器证书在检定/校准日期已过期 (the standard's certificate had expired on the date performed)",
                            );
                        }
                }
            }
        }

        let mut total_rows = 0usize;
        let mut has_uncertainty = false;
        match self.results.as_deref() {
            None | Some([]) => v.problem(
                "/results",
                "缺少结果 (at least one results table is required)",
            ),
            Some(tables) => {
                for (t, table) in tables.iter().enumerate() {
                    v.optional_text(&format!("/results/{t}/title"), table.title.as_deref());
                    let width = match table.columns.as_deref() {
                        None | Some([]) => {
                            v.problem(
                                &format!("/results/{t}/columns"),
                                "表格缺少列标题 (table has no columns)",
                            );
                            None
                        }
                        Some(cols) => {
                            for (c, col) in cols.iter().enumerate() {
                                v.required_text(
                                    &format!("/results/{t}/columns/{c}"),
                                    Some(col),
                                    "列标题",
                                );
                                if col.contains('U') || col.contains("不确定度") {
                                    has_uncertainty = true;
                                }
                            }
                            Some(cols.len())
                        }
                    };
                    match table.rows.as_deref() {
                        None | Some([]) => v.problem(
                            &format!("/results/{t}/rows"),
                            "表格没有数据行 (table has no rows)",
                        ),
                        Some(rows) => {
                            total_rows += rows.len();
                            for (r, row) in rows.iter().enumerate() {
                                if let Some(w) = width
                                    && row.len() != w
                                {
                                    v.problem(
                                            &format!("/results/{t}/rows/{r}"),
                                            &format!("该行有 {} 个单元格，列数为 {w} (row has {} cells, the table {w} columns)", row.len(), row.len()),
                                        );
                                }
                                for (c, cell) in row.iter().enumerate() {
                                    v.optional_text(
                                        &format!("/results/{t}/rows/{r}/{c}"),
                                        Some(cell),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        if total_rows > MAX_ROWS {
            v.problem(
                "/results",
                &format!("结果行数 {total_rows} 超过上限 {MAX_ROWS} (too many result rows)"),
            );
        }
        if kind == Some(CertificateKind::Calibration)
            && self.results.as_deref().is_some_and(|r| !r.is_empty())
            && !has_uncertainty
        {
            v.problem(
                "/results",
                "校准结果应给出测量不确定度：至少一列标题含“不确定度”或“U” (calibration results must state the measurement uncertainty, ISO/IEC 17025 7.8.4.1)",
            );
        }

        let verification_like = matches!(
            kind,
            Some(
                CertificateKind::Verification
                    | CertificateKind::ArbitrationVerification
                    | CertificateKind::VerificationResultNotice
            )
        );
        match self.conclusion.as_deref() {
            None if verification_like => v.problem(
                "/conclusion",
                "缺少检定结论 (a verification needs a conclusion)",
            ),
            Some(c) => {
                v.required_text("/conclusion", Some(c), "检定结论");
                let passed = c.contains("合格") && !c.contains("不合格");
                if matches!(kind, Some(CertificateKind::Verification))
                    && passed
                    && self.valid_until.is_none()
                {
                    v.problem(
                        "/validUntil",
                        "检定合格的证书应给出有效期至 (a passed verification needs valid-until)",
                    );
                }
                if matches!(kind, Some(CertificateKind::VerificationResultNotice)) && passed {
                    v.problem("/conclusion", "检定结果通知书用于检定不合格的器具 (a notice of verification result is for items that failed)");
                }
            }
            None => {}
        }
        for (n, s) in self.statements.iter().flatten().enumerate() {
            v.required_text(&format!("/statements/{n}"), Some(s), "声明");
        }
        for (n, s) in self.remarks.iter().flatten().enumerate() {
            v.required_text(&format!("/remarks/{n}"), Some(s), "备注");
        }
        match self.signatories.as_deref() {
            None | Some([]) => v.problem(
                "/signatories",
                "缺少签字人员 (signatories are required: performer, checker, approver)",
            ),
            Some(list) => {
                for (n, s) in list.iter().enumerate() {
                    v.required_text(&format!("/signatories/{n}/role"), s.role.as_deref(), "角色");
                    v.required_text(&format!("/signatories/{n}/name"), s.name.as_deref(), "姓名");
                    v.optional_text(&format!("/signatories/{n}/title"), s.title.as_deref());
                }
                if !list
                    .iter()
                    .any(|s| s.role.as_deref().is_some_and(|r| r.contains("批准")))
                {
                    v.problem(
                        "/signatories",
                        "缺少批准人 (an approver, role containing “批准”, is required)",
                    );
                }
            }
        }
        v.finish()
    }
}

#[derive(Default)]
pub(crate) struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    pub(crate) fn problem(&mut self, pointer: &str, message: &str) {
        self.problems.push(Problem {
            pointer: pointer.to_owned(),
            message: message.to_owned(),
        });
    }

    pub(crate) fn required_text(&mut self, pointer: &str, value: Option<&str>, what: &str) {
        match value {
            Some(v) if !v.trim().is_empty() => self.optional_text(pointer, Some(v)),
            _ => self.problem(
                pointer,
                &format!("缺少{what}或为空 ({pointer} is required and must not be empty)"),
            ),
        }
    }

    pub(crate) fn optional_text(&mut self, pointer: &str, value: Option<&str>) {
        let Some(v) = value else { return };
        if v.chars().count() > MAX_FIELD_CHARS {
            self.problem(
                pointer,
                &format!(
                    "超过 {MAX_FIELD_CHARS} 个字符 (longer than {MAX_FIELD_CHARS} characters)"
                ),
            );
        }
        if let Some(c) = v.chars().find(|c| c.is_control() && *c != '\n') {
            self.problem(
                pointer,
                &format!(
                    "含控制字符 U+{:04X} (contains a control character)",
                    u32::from(c)
                ),
            );
        }
    }

    pub(crate) fn date(
        &mut self,
        pointer: &str,
        value: Option<&str>,
        required: bool,
    ) -> Option<(i32, u32, u32)> {
        match value {
            None if required => {
                self.problem(pointer, "缺少日期 (date is required, YYYY-MM-DD)");
                None
            }
            None => None,
            Some(text) => {
                let parsed = parse_date(text);
                if parsed.is_none() {
                    self.problem(
                        pointer,
                        &format!("日期“{text}”不是有效的 YYYY-MM-DD (not a valid date)"),
                    );
                }
                parsed
            }
        }
    }

    pub(crate) fn finish(self) -> Result<(), ContentErrors> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ContentErrors(self.problems))
        }
    }
}

/// Parses `YYYY-MM-DD` into (year, month, day), checking the calendar.
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (y, m, d) = (num(&text[..4])?, num(&text[5..7])?, num(&text[8..])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1900..=2999).contains(&y) && (1..=days).contains(&d)).then_some((y as i32, m, d))
}

pub(crate) fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> String {
        let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn shipped_examples_are_valid() {
        let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("examples/") {
            let path = entry.expect("entry").path();
            let supplement = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("supplement"));
            if path.extension().is_some_and(|e| e == "json") && !supplement {
                let text = std::fs::read_to_string(&path).expect("read");
                Content::parse_valid(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(
            seen >= 3,
            "expected an example per shipped template, found {seen}"
        );
    }

    #[test]
    fn every_problem_is_listed_with_its_pointer() {
        let mut c = Content::from_json(&example("calibration.json")).expect("parse");
        c.type_code = Some(9);
        c.instrument.as_mut().expect("instrument").serial_no = Some("  ".into());
        c.performed_date = Some("2024-02-30".into());
        c.results.as_mut().expect("results")[0]
            .rows
            .as_mut()
            .expect("rows")[1]
            .pop();
        c.signatories = Some(vec![Signatory {
            role: Some("校准员".into()),
            name: Some("李四".into()),
            title: None,
        }]);
        let errs = c.validate().expect_err("invalid").0;
        let pointers: Vec<&str> = errs.iter().map(|p| p.pointer.as_str()).collect();
        for expected in [
            "/typeCode",
            "/instrument/serialNo",
            "/performedDate",
            "/results/0/rows/1",
            "/signatories",
        ] {
            assert!(
                pointers.contains(&expected),
                "{expected} missing from {pointers:?}"
            );
        }
    }

    #[test]
    fn syntax_and_type_errors_carry_a_pointer() {
        let err = Content::from_json(r#"{"typeCode": 7, "instrument": {"name": 5}}"#)
            .expect_err("type error");
        assert_eq!(err.0[0].pointer, "/instrument/name");
        let err =
            Content::from_json(r#"{"typeCode": 7, "colour": "red"}"#).expect_err("unknown field");
        assert!(err.0[0].message.contains("colour"), "{err}");
    }

    #[test]
    fn calibration_needs_uncertainty_and_verification_needs_conclusion() {
        let mut c = Content::from_json(&example("calibration.json")).expect("parse");
        for table in c.results.iter_mut().flatten() {
            for col in table.columns.iter_mut().flatten() {
                *col = col.replace("不确定度", "X").replace('U', "X");
            }
        }
        let errs = c.validate().expect_err("no uncertainty").0;
        assert!(
            errs.iter()
                .any(|p| p.pointer == "/results" && p.message.contains("不确定度"))
        );

        let mut v = Content::from_json(&example("verification.json")).expect("parse");
        v.conclusion = None;
        let errs = v.validate().expect_err("no conclusion").0;
        assert!(errs.iter().any(|p| p.pointer == "/conclusion"));
        let mut v = Content::from_json(&example("verification.json")).expect("parse");
        v.valid_until = None;
        let errs = v.validate().expect_err("no valid-until").0;
        assert!(errs.iter().any(|p| p.pointer == "/validUntil"));
    }

    /// The committed schema is the one the code accepts; `ECERT_UPDATE_SCHEMA=1` rewrites it.
    #[test]
    fn committed_json_schema_is_current() {
        let path = format!(
            "{}/../../docs/content.schema.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let current = Content::json_schema();
        if std::env::var_os("ECERT_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &current).expect("write schema");
        }
        let committed = std::fs::read_to_string(&path).expect("docs/content.schema.json");
        assert_eq!(
            committed, current,
            "docs/content.schema.json is stale: run with ECERT_UPDATE_SCHEMA=1"
        );
        assert!(current.contains("\"certificateNo\""));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-32",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
