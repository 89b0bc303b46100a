//! What a certificate holds: the content JSON a business system hands over (R-5.2.1).
//!
//! The shape follows ISO/IEC 17025:2017 7.8 and JJF 1071 / JJF 1069 / 国质检量函\[2005\]861号: issuer,
//! customer, instrument, dates, location and environment, method, measurement standards and their
//! traceability, results (tables, with uncertainty for calibrations), conclusion and valid-until
//! for verifications, signatories and remarks. The standard itself leaves content to the issuer;
//! this schema is ecert's. Field names are camelCase; the JSON Schema is `docs/content.schema.json`.
//!
//! Reading is in two steps so that **every** problem is listed at once, each at its JSON pointer:
//! [`Content::from_json`] reports malformed JSON (line and column), a member named twice, and
//! every wrong type, `null` and unknown field of the document; [`Content::validate`] then checks
//! the values (every field optional in the struct, required ones checked by the rule table
//! [`super::rules::CONTENT`], which also renders the schema) and the rules across fields.

use serde::{Deserialize, Serialize};

use super::kind::CertificateKind;

/// A certificate's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// 下载密码: a password the business system presets for downloading this certificate from
    /// the customer portal (R-6.2f). Stored only as an argon2id hash; taken out of the content
    /// before layout, storage, logs and answers ([`Content::take_download_password`]).
    pub download_password: Option<String>,
}

/// The instrument (计量器具).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Method {
    /// 编号, e.g. "JJF 1587-2016"
    pub code: Option<String>,
    /// 名称, e.g. "数字多用表校准规范"
    pub title: Option<String>,
}

/// A measurement standard used, with its traceability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Where, e.g. `/instrument/serialNo` or `/results/0/rows/3`; empty for the whole document
    /// (malformed JSON).
    pub pointer: String,
    /// What is wrong, Chinese first.
    pub message: String,
    /// Which rule it breaks (`rule` in the API's `problems`).
    pub rule: Rule,
}

/// The rule a [`Problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// Malformed JSON (the message names line and column).
    Syntax,
    /// A member named twice in one object.
    DuplicateKey,
    /// A member the schema does not have.
    UnknownField,
    /// A wrong JSON type, or `null`.
    Type,
    /// A required field is missing or empty, or a required list has too few items.
    Required,
    /// A text longer than allowed.
    TooLong,
    /// Too many items or rows.
    TooMany,
    /// A control character.
    Control,
    /// A bidirectional control character.
    Bidi,
    /// Another invisible format character.
    Invisible,
    /// Not a calendar date `YYYY-MM-DD`.
    Date,
    /// Dates in the wrong order.
    DateOrder,
    /// An issue date more than a day after today (Beijing time).
    FutureDate,
    /// A certificate or supplement number outside the character set.
    Number,
    /// A type code outside 1–8.
    TypeCode,
    /// A malformed phone number or e-mail address.
    Format,
    /// Issuer data other than the institute's configured ones.
    Issuer,
    /// A table row whose cell count differs from the columns.
    RowWidth,
    /// What a certificate of its kind must state (uncertainty, approver, conclusion, …).
    Content,
}

/// Content that could not be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("证书内容有 {} 处问题 (content has {} problem(s)): {}", .0.len(), .0.len(), summary(.0))]
pub struct ContentErrors(pub Vec<Problem>);

impl ContentErrors {
    /// Whether a problem of `rule` is reported at `pointer`.
    pub fn has(&self, pointer: &str, rule: Rule) -> bool {
        self.0
            .iter()
            .any(|p| p.pointer == pointer && p.rule == rule)
    }
}

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
/// Fewest characters of a preset download password (R-6.2f).
pub const MIN_DOWNLOAD_PASSWORD_CHARS: usize = 8;

/// What is wrong with a preset download password (R-6.2f), if anything: the content's rule,
/// also applied to one given to `ecert customer bind`.
pub fn download_password_problem(password: &str) -> Option<String> {
    (password.chars().count() < MIN_DOWNLOAD_PASSWORD_CHARS).then(|| {
        format!(
            "下载密码至少 {MIN_DOWNLOAD_PASSWORD_CHARS} 个字符 (the download password needs at least {MIN_DOWNLOAD_PASSWORD_CHARS} characters)"
        )
    })
}

/// What the validator checks beyond the schema (listed in the schema's description).
const STRICTER_THAN_THE_SCHEMA: &[&str] = &[
    "dates are real calendar dates (2023-02-29 is refused)",
    "receiptDate ≤ performedDate ≤ issueDate < validUntil, and a standard's validUntil not before performedDate",
    "issueDate at most one day after today in Beijing time (UTC+8)",
    "each row of a table has as many cells as the table has columns; at most 5000 rows in all tables together",
    "a passed verification (type code 1, conclusion with 合格 and without 不合格) has validUntil; a notice of verification result (type code 2) is for a failed item",
    "the issuer (name, address, orgCode, accreditation, phone, website) is the institute's configured one: leave it out, or repeat the configured values",
    "format characters and separators outside the basic multilingual plane are refused in every text (U+110BD, U+E0001, U+E0020–U+E007F, …)",
];

/// An approver's role contains this (批准人).
const APPROVER: &str = "批准";

fn is_uncertainty_column(col: &str) -> bool {
    col.contains('U') || col.contains("不确定度")
}

/// The cross-field rules the schema states besides the rule table, each checked in
/// [`Content::validate_on`] too.
fn schema_rules() -> Vec<super::rules::SchemaRule> {
    use serde_json::json;
    vec![
        super::rules::SchemaRule {
            comment: "签字人员中须有批准人：角色含“批准” (an approver, role containing 批准, signs)",
            kinds: None,
            schema: json!({"properties": {"signatories": {"contains": {
                "type": "object",
                "required": ["role"],
                "properties": {"role": {"type": "string", "pattern": APPROVER}},
            }}}}),
        },
        super::rules::SchemaRule {
            comment: "校准结果应给出测量不确定度：至少一列标题含“不确定度”或“U” (calibration results state the measurement uncertainty, ISO/IEC 17025 7.8.4.1)",
            kinds: Some(&[7]),
            schema: json!({"properties": {"results": {"contains": {
                "type": "object",
                "required": ["columns"],
                "properties": {"columns": {"contains": {"type": "string", "pattern": "U|不确定度"}}},
            }}}}),
        },
    ]
}

impl Content {
    /// The JSON Schema of the content (draft 2020-12), as committed in
    /// `docs/content.schema.json`: rendered from the validator's rule table
    /// ([`super::rules::CONTENT`]) and its cross-field rules.
    pub fn json_schema() -> String {
        let schema = super::rules::content_schema(schema_rules(), STRICTER_THAN_THE_SCHEMA);
        serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
    }

    /// Parses content JSON. Malformed JSON is one problem naming its line and column; every
    /// wrong type, `null` and unknown field is reported at once, each at its JSON pointer.
    pub fn from_json(text: &str) -> Result<Content, ContentErrors> {
        let value = parse_typed(text, super::rules::CONTENT)?;
        from_value(value)
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

    /// Checks the content for what a certificate of its kind must hold, on today's date in
    /// Beijing; lists every problem.
    pub fn validate(&self) -> Result<(), ContentErrors> {
        self.validate_on(super::dates::today_beijing())
    }

    /// Takes the preset download password (R-6.2f) out of the content, so that it reaches
    /// neither the laid-out file nor anything stored, logged or answered; the caller hashes it.
    pub fn take_download_password(&mut self) -> Option<zeroize::Zeroizing<String>> {
        self.customer
            .as_mut()
            .and_then(|c| c.download_password.take())
            .map(zeroize::Zeroizing::new)
    }

    /// [`Content::validate`] on the date `today` (Beijing time).
    pub fn validate_on(&self, today: Date) -> Result<(), ContentErrors> {
        let mut v = Validator::default();
        let kind = self.kind();
        v.table(self, super::rules::CONTENT, self.type_code);

        let date = |d: &Option<String>| d.as_deref().and_then(parse_date);
        let receipt = date(&self.receipt_date);
        let performed = date(&self.performed_date);
        let issued = date(&self.issue_date);
        let valid_until = date(&self.valid_until);
        if let (Some(r), Some(p)) = (receipt, performed)
            && r > p
        {
            v.problem(
                "/receiptDate",
                Rule::DateOrder,
                "接收日期晚于检定/校准日期 (receipt date is after the date performed)",
            );
        }
        if let (Some(p), Some(i)) = (performed, issued)
            && p > i
        {
            v.problem(
                "/issueDate",
                Rule::DateOrder,
                "签发日期早于检定/校准日期 (issue date is before the date performed)",
            );
        }
        if let Some(i) = issued {
            v.not_in_future("/issueDate", i, today);
        }
        if let (Some(p), Some(u)) = (performed, valid_until)
            && u <= p
        {
            v.problem(
                "/validUntil",
                Rule::DateOrder,
                "有效期至应晚于检定/校准日期 (valid-until must be after the date performed)",
            );
        }
        for (n, s) in self.standards.iter().flatten().enumerate() {
            if let (Some(u), Some(p)) = (date(&s.valid_until), performed)
                && u < p
            {
                v.problem(
                    &format!("/standards/{n}/validUntil"),
                    Rule::DateOrder,
                    "标准器证书在检定/校准日期已过期 (the standard's certificate had expired on the date performed)",
                );
            }
        }

        if let Some(problem) = self
            .customer
            .as_ref()
            .and_then(|c| c.download_password.as_deref())
            .and_then(download_password_problem)
        {
            v.problem("/customer/downloadPassword", Rule::Required, &problem);
        }

        let tables = self.results.as_deref().unwrap_or_default();
        v.row_widths(tables);
        let total_rows: usize = tables
            .iter()
            .map(|t| t.rows.as_ref().map_or(0, Vec::len))
            .sum();
        if total_rows > MAX_ROWS {
            v.problem(
                "/results",
                Rule::TooMany,
                &format!("结果行数 {total_rows} 超过上限 {MAX_ROWS} (too many result rows)"),
            );
        }
        let has_uncertainty = tables
            .iter()
            .flat_map(|t| t.columns.iter().flatten())
            .any(|c| is_uncertainty_column(c));
        if kind == Some(CertificateKind::Calibration) && !tables.is_empty() && !has_uncertainty {
            v.problem(
                "/results",
                Rule::Content,
                "校准结果应给出测量不确定度：至少一列标题含“不确定度”或“U” (calibration results must state the measurement uncertainty, ISO/IEC 17025 7.8.4.1)",
            );
        }

        if let Some(c) = self.conclusion.as_deref().filter(|c| !c.trim().is_empty()) {
            let passed = c.contains("合格") && !c.contains("不合格");
            if kind == Some(CertificateKind::Verification) && passed && self.valid_until.is_none() {
                v.problem(
                    "/validUntil",
                    Rule::Required,
                    "检定合格的证书应给出有效期至 (a passed verification needs valid-until)",
                );
            }
            if kind == Some(CertificateKind::VerificationResultNotice) && passed {
                v.problem(
                    "/conclusion",
                    Rule::Content,
                    "检定结果通知书用于检定不合格的器具 (a notice of verification result is for items that failed)",
                );
            }
        }
        if let Some(list) = self.signatories.as_deref().filter(|l| !l.is_empty())
            && !list
                .iter()
                .any(|s| s.role.as_deref().is_some_and(|r| r.contains(APPROVER)))
        {
            v.problem(
                "/signatories",
                Rule::Content,
                "缺少批准人 (an approver, role containing “批准”, is required)",
            );
        }
        v.finish()
    }
}

/// A calendar date (year, month, day).
pub type Date = super::dates::Date;

/// Collects problems.
#[derive(Default)]
pub(crate) struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    pub(crate) fn problem(&mut self, pointer: &str, rule: Rule, message: &str) {
        self.problems.push(Problem {
            pointer: pointer.to_owned(),
            message: message.to_owned(),
            rule,
        });
    }

    /// The rule table's checks of `fields` over `value` serialised (absent fields as absent).
    pub(crate) fn table(
        &mut self,
        value: &impl Serialize,
        fields: &[super::rules::Field],
        kind: Option<u8>,
    ) {
        match serde_json::to_value(value) {
            Ok(mut json) => {
                strip_nulls(&mut json);
                super::rules::check_values(&json, fields, kind, &mut self.problems);
            }
            Err(e) => self.problem("", Rule::Type, &e.to_string()),
        }
    }

    /// An issue date more than one day after `today` (Beijing time) is refused.
    pub(crate) fn not_in_future(&mut self, pointer: &str, date: Date, today: Date) {
        let latest = super::dates::latest_issue_date(today);
        if date > latest {
            self.problem(
                pointer,
                Rule::FutureDate,
                &format!(
                    "签发日期 {} 晚于今天（北京时间 {}）超过一天 (the issue date is more than one day after today, {} in Beijing)",
                    super::dates::format_date(date),
                    super::dates::format_date(today),
                    super::dates::format_date(today)
                ),
            );
        }
    }

    /// Each row of each table has as many cells as the table has columns.
    pub(crate) fn row_widths(&mut self, tables: &[ResultTable]) {
        for (t, table) in tables.iter().enumerate() {
            let width = table.columns.as_ref().map_or(0, Vec::len);
            if width == 0 {
                continue;
            }
            for (r, row) in table.rows.iter().flatten().enumerate() {
                if row.len() != width {
                    self.problem(
                        &format!("/results/{t}/rows/{r}"),
                        Rule::RowWidth,
                        &format!(
                            "该行有 {} 个单元格，列数为 {width} (row has {} cells, the table {width} columns)",
                            row.len(),
                            row.len()
                        ),
                    );
                }
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

/// Removes `null` members of objects, recursively (a `None` field is absent).
pub(crate) fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Parses JSON text into a value, refusing duplicate members: malformed JSON is one problem
/// with its line and column and an empty pointer; a member named twice is one problem at its
/// pointer. Then checks the JSON types against `fields`, reporting every wrong type at once.
pub(crate) fn parse_typed(
    text: &str,
    fields: &[super::rules::Field],
) -> Result<serde_json::Value, ContentErrors> {
    use serde::de::DeserializeSeed;
    let duplicate = std::cell::RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict {
        at: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let value = parsed.map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let text = e.to_string();
        let what = text
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&text);
        let (pointer, rule) = match duplicate.borrow_mut().take() {
            Some(p) => (p, Rule::DuplicateKey),
            None => (String::new(), Rule::Syntax),
        };
        ContentErrors(vec![Problem {
            pointer,
            message: format!(
                "JSON 格式错误：第 {line} 行第 {column} 列 (malformed JSON at line {line}, column {column}): {what}"
            ),
            rule,
        }])
    })?;
    let mut problems = Vec::new();
    super::rules::check_types(&value, fields, &mut problems);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(ContentErrors(problems))
    }
}

/// Deserialises a value that [`parse_typed`] accepted.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ContentErrors> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        ContentErrors(vec![Problem {
            pointer: path_to_pointer(e.path()),
            message: format!("无法解析 (cannot parse): {}", e.inner()),
            rule: Rule::Type,
        }])
    })
}

/// A JSON value that refuses a member named twice in one object, remembering its pointer.
struct Strict<'a> {
    at: String,
    duplicate: &'a std::cell::RefCell<Option<String>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict {
            at: format!("{}/{}", self.at, items.len()),
            duplicate: self.duplicate,
        })? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = format!("{}/{}", self.at, key.replace('~', "~0").replace('/', "~1"));
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(at);
                return Err(serde::de::Error::custom(format!(
                    "“{key}”出现两次 (duplicate member `{key}`)"
                )));
            }
            let v = map.next_value_seed(Strict {
                at,
                duplicate: self.duplicate,
            })?;
            out.insert(key, v);
        }
        Ok(serde_json::Value::Object(out))
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
    fn type_errors_carry_a_pointer_and_come_all_at_once() {
        let err = Content::from_json(r#"{"typeCode": 7, "instrument": {"name": 5}}"#)
            .expect_err("type error");
        assert_eq!(err.0[0].pointer, "/instrument/name");
        assert_eq!(err.0[0].rule, Rule::Type);
        let err =
            Content::from_json(r#"{"typeCode": 7, "colour": "red"}"#).expect_err("unknown field");
        assert!(err.has("/colour", Rule::UnknownField), "{err}");
        // Every wrong type at once, `null` included, not only the first.
        let err = Content::from_json(
            r#"{"typeCode": "7", "certificateNo": null, "customer": {"name": ["甲"]},
                "results": [{"columns": ["U"], "rows": [["1", 2, null]]}], "remarks": "x"}"#,
        )
        .expect_err("type errors");
        let found: Vec<&str> = err.0.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            found,
            [
                "/typeCode",
                "/certificateNo",
                "/customer/name",
                "/results/0/rows/0/1",
                "/results/0/rows/0/2",
                "/remarks"
            ],
            "{err}"
        );
        assert!(err.0.iter().all(|p| p.rule == Rule::Type), "{err}");
    }

    /// Malformed JSON names its line and column, with an empty pointer (not a field it did
    /// not get to); a member named twice is refused at its pointer.
    #[test]
    fn malformed_json_names_line_and_column() {
        let text = "{\n  \"typeCode\": 7,\n  \"certificateNo\": \"JZ-1\" \"customer\": {}\n}";
        let err = Content::from_json(text).expect_err("missing comma");
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].pointer, "");
        assert_eq!(err.0[0].rule, Rule::Syntax);
        assert!(
            err.0[0]
                .message
                .contains("第 3 行第 27 列 (malformed JSON at line 3, column 27)"),
            "{}",
            err.0[0].message
        );
        let err = Content::from_json("{\"typeCode\": 7} x").expect_err("trailing characters");
        assert!(err.0[0].message.contains("第 1 行第 17 列"), "{err}");
        let err =
            Content::from_json(r#"{"typeCode": 7, "customer": {"name": "甲", "name": "乙"}}"#)
                .expect_err("duplicate member");
        assert!(err.has("/customer/name", Rule::DuplicateKey), "{err}");
        assert!(err.0[0].message.contains("第 1 行"), "{err}");
    }

    /// Bidirectional controls and other invisible characters are refused in any string of
    /// the content, table cells and signatories included, each at its pointer.
    #[test]
    fn bidi_and_invisible_characters_anywhere() {
        let mut c = Content::from_json(&example("calibration.json")).expect("parse");
        c.customer.as_mut().expect("customer").name = Some("示例\u{202E}gpj.exe".into());
        c.results.as_mut().expect("results")[0]
            .rows
            .as_mut()
            .expect("rows")[0][1] = "10\u{200B}.0".into();
        c.signatories.as_mut().expect("signatories")[0].name = Some("李\u{2067}四".into());
        c.remarks = Some(vec!["\u{FEFF}备注".into()]);
        let err = c.validate_on((2024, 3, 8)).expect_err("refused");
        assert!(err.has("/customer/name", Rule::Bidi), "{err}");
        assert!(err.has("/results/0/rows/0/1", Rule::Invisible), "{err}");
        assert!(err.has("/signatories/0/name", Rule::Bidi), "{err}");
        assert!(err.has("/remarks/0", Rule::Invisible), "{err}");
        assert_eq!(err.0.len(), 4, "{err}");
    }

    /// An issue date more than one day after today (Beijing time) is refused; tomorrow is not.
    #[test]
    fn issue_dates_in_the_future() {
        let c = Content::from_json(&example("calibration.json")).expect("parse");
        assert_eq!(c.issue_date.as_deref(), Some("2024-03-08"));
        c.validate_on((2024, 3, 7)).expect("tomorrow is accepted");
        let err = c
            .validate_on((2024, 3, 6))
            .expect_err("the day after tomorrow");
        assert!(err.has("/issueDate", Rule::FutureDate), "{err}");
        assert!(err.0[0].message.contains("2024-03-06"), "{err}");
        // The dates performed and received cannot be later than the issue date either.
        let mut late = c.clone();
        late.performed_date = Some("2024-03-09".into());
        late.receipt_date = Some("2024-03-10".into());
        let err = late
            .validate_on((2024, 3, 8))
            .expect_err("performed after issue");
        assert!(err.has("/issueDate", Rule::DateOrder), "{err}");
        assert!(err.has("/receiptDate", Rule::DateOrder), "{err}");
    }

    /// Certificate numbers keep the documented character set.
    #[test]
    fn certificate_numbers_keep_the_character_set() {
        let mut c = Content::from_json(&example("calibration.json")).expect("parse");
        for bad in ["JZ/2024-1", "../JZ1", "JZ 1", "JZ1.", &"N".repeat(33)] {
            c.certificate_no = Some(bad.into());
            let err = c.validate_on((2024, 3, 8)).expect_err(bad);
            assert!(err.has("/certificateNo", Rule::Number), "{bad}: {err}");
        }
        c.certificate_no = Some("（2024）苏量校字第00123号".into());
        c.validate_on((2024, 3, 8)).expect("a Chinese number");
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
