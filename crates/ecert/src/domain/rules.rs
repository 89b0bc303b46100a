//! The content's rules as one table: each field's JSON type, when it is required (always, or
//! for some certificate kinds), its length and character rules. The same table
//!
//! 1. checks the JSON types of a document before it is deserialised, so that every wrong type,
//!    `null` and unknown field is reported at once, each at its JSON pointer ([`check_types`]);
//! 2. checks the values: required fields, empty texts, lengths, refused characters, dates,
//!    numbers, phone and e-mail shapes ([`check_values`]);
//! 3. renders the JSON Schema `docs/content.schema.json` ([`content_schema`]), with the
//!    cross-field rules a schema can state (an approver, a calibration's uncertainty column)
//!    added beside the validator's own code for them ([`super::content`]).
//!
//! What a schema cannot state (calendar dates, date order, a date in the future, row widths,
//! the total of rows, the passed/failed conclusion rules, the issuer being this institute) the
//! validator checks on its own; the schema's description lists it.

use serde_json::{Map, Value, json};

use super::charset::{self, MAX_NUMBER_CHARS, MAX_SUPPLEMENT_NUMBER_CHARS};
use super::content::{MAX_FIELD_CHARS, MAX_ROWS, Problem, Rule, parse_date};

/// What a string must look like beyond the text rules every string keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Any text.
    Text,
    /// `YYYY-MM-DD`, a real calendar date in 1900–2999.
    Date,
    /// A certificate or supplement number ([`charset::check_number`]).
    Number,
    /// A phone number: 7–15 digits, with `+`, `-` and spaces.
    Mobile,
    /// An e-mail address.
    Email,
}

/// A field's JSON type and its rules.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// A string of at most `max` characters; `non_empty`: holding something other than white
    /// space.
    Str {
        /// Most characters.
        max: usize,
        /// Must hold something other than white space.
        non_empty: bool,
        /// Its shape.
        format: Format,
    },
    /// The type code: an integer 1–8.
    TypeCode,
    /// An array; when the field is required it needs at least `min` items.
    List {
        /// The items' type.
        of: &'static Ty,
        /// Fewest items of a required list.
        min: usize,
        /// Most items.
        max: Option<usize>,
    },
    /// An object with these fields and no others.
    Obj(&'static [Field]),
}

/// When a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Never required.
    Optional,
    /// Always required.
    Always,
    /// Required for these type codes.
    Kinds(&'static [u8]),
}

/// One member of an object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON member name.
    pub name: &'static str,
    /// What it is, in Chinese (used in messages).
    pub zh: &'static str,
    /// What it is, in English.
    pub en: &'static str,
    /// Its type.
    pub ty: Ty,
    /// When it is required.
    pub need: Need,
}

const fn f(name: &'static str, zh: &'static str, en: &'static str, ty: Ty, need: Need) -> Field {
    Field {
        name,
        zh,
        en,
        ty,
        need,
    }
}

const TEXT: Ty = Ty::Str {
    max: MAX_FIELD_CHARS,
    non_empty: false,
    format: Format::Text,
};
const REQUIRED_TEXT: Ty = Ty::Str {
    max: MAX_FIELD_CHARS,
    non_empty: true,
    format: Format::Text,
};
const DATE: Ty = Ty::Str {
    max: 10,
    non_empty: true,
    format: Format::Date,
};
const NUMBER: Ty = Ty::Str {
    max: MAX_NUMBER_CHARS,
    non_empty: true,
    format: Format::Number,
};
const SUPPLEMENT_NUMBER: Ty = Ty::Str {
    max: MAX_SUPPLEMENT_NUMBER_CHARS,
    non_empty: true,
    format: Format::Number,
};
const MOBILE: Ty = Ty::Str {
    max: 32,
    non_empty: true,
    format: Format::Mobile,
};
const EMAIL: Ty = Ty::Str {
    max: 254,
    non_empty: true,
    format: Format::Email,
};
/// A preset download password (R-6.2f): at least 8 characters (checked by the content's
/// rules), at most 128.
const DOWNLOAD_PASSWORD: Ty = Ty::Str {
    max: 128,
    non_empty: true,
    format: Format::Text,
};
const TEXTS: Ty = Ty::List {
    of: &TEXT,
    min: 0,
    max: None,
};
const REQUIRED_TEXTS: Ty = Ty::List {
    of: &REQUIRED_TEXT,
    min: 0,
    max: None,
};

use Need::{Always, Optional};

/// The issuing institute (`/issuer`): filled from the configuration; content may only repeat
/// the configured values ([`super::issuer`]).
pub const ISSUER: &[Field] = &[
    f("name", "发证机构名称", "issuer name", TEXT, Optional),
    f("address", "发证机构地址", "issuer address", TEXT, Optional),
    f(
        "orgCode",
        "组织机构代码/统一社会信用代码",
        "organisation code",
        TEXT,
        Optional,
    ),
    f(
        "accreditation",
        "认可/授权标识",
        "accreditation/authorisation id",
        TEXT,
        Optional,
    ),
    f("phone", "电话", "telephone", TEXT, Optional),
    f("website", "网址", "website", TEXT, Optional),
];

const CUSTOMER: &[Field] = &[
    f("name", "委托方名称", "customer name", REQUIRED_TEXT, Always),
    f("address", "委托方地址", "customer address", TEXT, Optional),
    f(
        "uscc",
        "统一社会信用代码",
        "unified social credit code",
        TEXT,
        Optional,
    ),
    f("contact", "联系人", "contact", TEXT, Optional),
    f("mobile", "手机号码", "mobile number", MOBILE, Optional),
    f("email", "电子邮箱", "e-mail address", EMAIL, Optional),
    f(
        "downloadPassword",
        "下载密码 (仅存其哈希，R-6.2f)",
        "download password (stored only as a hash, R-6.2f)",
        DOWNLOAD_PASSWORD,
        Optional,
    ),
];

const INSTRUMENT: &[Field] = &[
    f("name", "器具名称", "instrument name", REQUIRED_TEXT, Always),
    f("model", "型号/规格", "model", TEXT, Optional),
    f(
        "serialNo",
        "出厂编号",
        "serial number",
        REQUIRED_TEXT,
        Always,
    ),
    f("manufacturer", "制造单位", "manufacturer", TEXT, Optional),
    f("range", "测量范围", "measuring range", TEXT, Optional),
    f("accuracy", "准确度等级", "accuracy", TEXT, Optional),
];

const ENVIRONMENT: &[Field] = &[
    f("temperature", "温度", "temperature", TEXT, Optional),
    f("humidity", "相对湿度", "humidity", TEXT, Optional),
    f("other", "其他环境条件", "other conditions", TEXT, Optional),
];

const METHOD: &[Field] = &[
    f(
        "code",
        "技术文件编号",
        "method document code",
        REQUIRED_TEXT,
        Always,
    ),
    f(
        "title",
        "技术文件名称",
        "method document title",
        TEXT,
        Optional,
    ),
];

const STANDARD: &[Field] = &[
    f("name", "标准器名称", "standard name", REQUIRED_TEXT, Always),
    f("model", "标准器型号", "standard model", TEXT, Optional),
    f(
        "serialNo",
        "标准器编号",
        "standard serial number",
        TEXT,
        Optional,
    ),
    f("range", "标准器测量范围", "standard range", TEXT, Optional),
    f(
        "uncertainty",
        "不确定度/准确度等级",
        "uncertainty",
        TEXT,
        Optional,
    ),
    f(
        "certNo",
        "溯源证书编号",
        "traceability certificate number",
        TEXT,
        Optional,
    ),
    f(
        "validUntil",
        "溯源证书有效期至",
        "traceability valid until",
        DATE,
        Optional,
    ),
];

const ROW: Ty = Ty::List {
    of: &TEXT,
    min: 0,
    max: None,
};

const TABLE: &[Field] = &[
    f("title", "表格标题", "table title", TEXT, Optional),
    f(
        "columns",
        "列标题",
        "column header",
        Ty::List {
            of: &REQUIRED_TEXT,
            min: 1,
            max: None,
        },
        Always,
    ),
    f(
        "rows",
        "数据行",
        "row",
        Ty::List {
            of: &ROW,
            min: 1,
            max: Some(MAX_ROWS),
        },
        Always,
    ),
    f("notes", "表注", "table note", TEXTS, Optional),
];

const SIGNATORY: &[Field] = &[
    f("role", "签字角色", "signatory role", REQUIRED_TEXT, Always),
    f(
        "name",
        "签字人姓名",
        "signatory name",
        REQUIRED_TEXT,
        Always,
    ),
    f("title", "职务", "signatory title", TEXT, Optional),
];

const TABLES: Ty = Ty::List {
    of: &Ty::Obj(TABLE),
    min: 1,
    max: None,
};

const SIGNATORIES: Ty = Ty::List {
    of: &Ty::Obj(SIGNATORY),
    min: 1,
    max: None,
};

/// Type codes whose certificates state their measurement standards and traceability
/// (检定证书, 仲裁检定证书, 校准证书; ISO/IEC 17025 7.8.4).
pub const TRACEABILITY_KINDS: &[u8] = &[1, 3, 7];
/// Type codes that state a verification conclusion (检定证书, 检定结果通知书, 仲裁检定证书).
pub const CONCLUSION_KINDS: &[u8] = &[1, 2, 3];

/// A certificate's content.
pub const CONTENT: &[Field] = &[
    f(
        "typeCode",
        "证书类型代码",
        "type code",
        Ty::TypeCode,
        Always,
    ),
    f(
        "certificateNo",
        "证书编号",
        "certificate number",
        NUMBER,
        Always,
    ),
    f(
        "originalRecordNo",
        "原始记录号",
        "original record number",
        TEXT,
        Optional,
    ),
    f("issuer", "发证机构", "issuer", Ty::Obj(ISSUER), Optional),
    f("customer", "委托方", "customer", Ty::Obj(CUSTOMER), Always),
    f(
        "instrument",
        "计量器具信息",
        "instrument",
        Ty::Obj(INSTRUMENT),
        Always,
    ),
    f("receiptDate", "接收日期", "receipt date", DATE, Optional),
    f(
        "performedDate",
        "检定/校准日期",
        "date performed",
        DATE,
        Always,
    ),
    f("issueDate", "签发日期", "issue date", DATE, Always),
    f("validUntil", "有效期至", "valid until", DATE, Optional),
    f("location", "地点", "location", TEXT, Optional),
    f(
        "environment",
        "环境条件",
        "environment",
        Ty::Obj(ENVIRONMENT),
        Optional,
    ),
    f(
        "methods",
        "依据的技术文件",
        "method document",
        Ty::List {
            of: &Ty::Obj(METHOD),
            min: 1,
            max: None,
        },
        Always,
    ),
    f(
        "standards",
        "计量标准器及其溯源信息",
        "measurement standard with its traceability, ISO/IEC 17025 7.8.4",
        Ty::List {
            of: &Ty::Obj(STANDARD),
            min: 1,
            max: None,
        },
        Need::Kinds(TRACEABILITY_KINDS),
    ),
    f("results", "结果表格", "results table", TABLES, Always),
    f(
        "conclusion",
        "检定结论",
        "verification conclusion",
        REQUIRED_TEXT,
        Need::Kinds(CONCLUSION_KINDS),
    ),
    f("statements", "声明", "statement", REQUIRED_TEXTS, Optional),
    f("remarks", "备注", "remark", REQUIRED_TEXTS, Optional),
    f(
        "signatories",
        "签字人员",
        "signatory (performer, checker, approver)",
        SIGNATORIES,
        Always,
    ),
];

const SUPPLEMENT_ITEM: &[Field] = &[
    f("title", "补充内容标题", "item title", TEXT, Optional),
    f("text", "补充内容", "item text", REQUIRED_TEXT, Always),
];

/// A supplementary file's content.
pub const SUPPLEMENT: &[Field] = &[
    f(
        "supplementNo",
        "补充文件编号",
        "supplement number",
        SUPPLEMENT_NUMBER,
        Optional,
    ),
    f("issueDate", "签发日期", "issue date", DATE, Optional),
    f("reason", "补充原因", "reason", REQUIRED_TEXT, Always),
    f(
        "items",
        "补充内容",
        "item",
        Ty::List {
            of: &Ty::Obj(SUPPLEMENT_ITEM),
            min: 0,
            max: None,
        },
        Optional,
    ),
    f(
        "results",
        "结果表格",
        "results table",
        Ty::List {
            of: &Ty::Obj(TABLE),
            min: 0,
            max: None,
        },
        Optional,
    ),
    f("remarks", "备注", "remark", TEXTS, Optional),
    f(
        "signatories",
        "签字人员",
        "signatory",
        Ty::List {
            of: &Ty::Obj(SIGNATORY),
            min: 0,
            max: None,
        },
        Optional,
    ),
];

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn problem(out: &mut Vec<Problem>, pointer: &str, rule: Rule, message: String) {
    out.push(Problem {
        pointer: pointer.to_owned(),
        message,
        rule,
    });
}

fn json_type(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Null => ("null", "null"),
        Value::Bool(_) => ("布尔值", "a boolean"),
        Value::Number(_) => ("数字", "a number"),
        Value::String(_) => ("字符串", "a string"),
        Value::Array(_) => ("数组", "an array"),
        Value::Object(_) => ("对象", "an object"),
    }
}

/// Checks the JSON types of `value` against `fields` (an object): wrong types, `null` and
/// unknown members, every one of them, at their pointers.
pub fn check_types(value: &Value, fields: &[Field], out: &mut Vec<Problem>) {
    types_obj(value, fields, "", out);
}

fn types_obj(value: &Value, fields: &[Field], pointer: &str, out: &mut Vec<Problem>) {
    let Value::Object(map) = value else {
        wrong_type(value, ("对象", "an object"), pointer, out);
        return;
    };
    for field in fields {
        if let Some(v) = map.get(field.name) {
            types_ty(v, &field.ty, &child(pointer, field.name), out);
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|f| f.name == key) {
            problem(
                out,
                &child(pointer, key),
                Rule::UnknownField,
                format!(
                    "未知字段“{key}”，可用的字段：{} (unknown field `{key}`; expected one of {})",
                    names(fields),
                    names(fields)
                ),
            );
        }
    }
}

fn names(fields: &[Field]) -> String {
    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

fn wrong_type(v: &Value, want: (&str, &str), pointer: &str, out: &mut Vec<Problem>) {
    if v.is_null() {
        problem(
            out,
            pointer,
            Rule::Type,
            format!(
                "不能为 null，应为{}；没有该项时请省略该字段 (null is not allowed here: expected {}; leave the field out instead)",
                want.0, want.1
            ),
        );
    } else {
        let got = json_type(v);
        problem(
            out,
            pointer,
            Rule::Type,
            format!(
                "类型错误：应为{}，实际为{} (wrong type: expected {}, found {})",
                want.0, got.0, want.1, got.1
            ),
        );
    }
}

fn types_ty(v: &Value, ty: &Ty, pointer: &str, out: &mut Vec<Problem>) {
    match ty {
        Ty::Str { .. } => {
            if !v.is_string() {
                wrong_type(v, ("字符串", "a string"), pointer, out);
            }
        }
        Ty::TypeCode => {
            if v.as_u64().is_none_or(|n| n > u64::from(u8::MAX)) {
                wrong_type(v, ("整数 1–8", "an integer 1–8"), pointer, out);
            }
        }
        Ty::List { of, .. } => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    types_ty(item, of, &format!("{pointer}/{i}"), out);
                }
            }
            _ => wrong_type(v, ("数组", "an array"), pointer, out),
        },
        Ty::Obj(fields) => types_obj(v, fields, pointer, out),
    }
}

/// Checks the values of a well-typed document (see [`check_types`]) against `fields`:
/// required members (`kind`: the type code, for [`Need::Kinds`]), empty texts, lengths,
/// refused characters, formats, list sizes. `null` counts as absent.
pub fn check_values(value: &Value, fields: &[Field], kind: Option<u8>, out: &mut Vec<Problem>) {
    if let Value::Object(map) = value {
        values_obj(map, fields, "", kind, out);
    }
}

fn values_obj(
    map: &Map<String, Value>,
    fields: &[Field],
    pointer: &str,
    kind: Option<u8>,
    out: &mut Vec<Problem>,
) {
    for field in fields {
        let p = child(pointer, field.name);
        let needed = match field.need {
            Need::Always => true,
            Need::Kinds(kinds) => kind.is_some_and(|k| kinds.contains(&k)),
            Need::Optional => false,
        };
        match map.get(field.name).filter(|v| !v.is_null()) {
            None if needed => missing(field, &field.ty, &p, out),
            None => {}
            Some(v) => values_ty(v, field, &field.ty, needed, &p, kind, out),
        }
    }
}

fn missing(field: &Field, ty: &Ty, pointer: &str, out: &mut Vec<Problem>) {
    let message = match ty {
        Ty::List { min, .. } if *min > 0 => format!(
            "缺少{}（至少 {min} 项）(at least {min} {} required)",
            field.zh, field.en
        ),
        _ => format!("缺少{} ({} is required)", field.zh, field.en),
    };
    problem(out, pointer, Rule::Required, message);
}

fn values_ty(
    v: &Value,
    field: &Field,
    ty: &Ty,
    needed: bool,
    pointer: &str,
    kind: Option<u8>,
    out: &mut Vec<Problem>,
) {
    match ty {
        Ty::Str {
            max,
            non_empty,
            format,
        } => {
            if let Some(s) = v.as_str() {
                check_text(s, field, *max, *non_empty, *format, pointer, out);
            }
        }
        Ty::TypeCode => {
            if let Some(n) = v.as_u64()
                && !(1..=8).contains(&n)
            {
                problem(
                    out,
                    pointer,
                    Rule::TypeCode,
                    super::kind::UnknownKind(n.to_string()).to_string(),
                );
            }
        }
        Ty::List { of, min, max } => {
            let Some(items) = v.as_array() else { return };
            if needed && items.len() < *min {
                missing(field, ty, pointer, out);
            }
            if let Some(max) = max
                && items.len() > *max
            {
                problem(
                    out,
                    pointer,
                    Rule::TooMany,
                    format!(
                        "{}多于 {max} 项 (more than {max} {} items)",
                        field.zh, field.en
                    ),
                );
            }
            for (i, item) in items.iter().enumerate() {
                if !item.is_null() {
                    values_ty(item, field, of, true, &format!("{pointer}/{i}"), kind, out);
                }
            }
        }
        Ty::Obj(fields) => {
            if let Some(map) = v.as_object() {
                values_obj(map, fields, pointer, kind, out);
            }
        }
    }
}

fn check_text(
    s: &str,
    field: &Field,
    max: usize,
    non_empty: bool,
    format: Format,
    pointer: &str,
    out: &mut Vec<Problem>,
) {
    if non_empty && s.trim().is_empty() {
        problem(
            out,
            pointer,
            Rule::Required,
            format!(
                "缺少{}或为空 ({} is required and must not be empty)",
                field.zh, field.en
            ),
        );
        return;
    }
    if let Some(refused) = charset::refused_char(s) {
        let rule = match refused {
            charset::Refused::Control(_) => Rule::Control,
            charset::Refused::Bidi(_) => Rule::Bidi,
            charset::Refused::Invisible(_) => Rule::Invisible,
        };
        problem(out, pointer, rule, refused.to_string());
    }
    match format {
        Format::Number => {
            if let Err(e) = charset::check_number(s, max) {
                problem(out, pointer, Rule::Number, format!("{}：{e}", field.zh));
            }
            return;
        }
        Format::Date => {
            if parse_date(s).is_none() {
                problem(
                    out,
                    pointer,
                    Rule::Date,
                    format!("日期“{s}”不是有效的 YYYY-MM-DD (not a valid date)"),
                );
            }
            return;
        }
        Format::Mobile => {
            let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
            if !(7..=15).contains(&digits)
                || s.chars()
                    .any(|c| !(c.is_ascii_digit() || "+- ".contains(c)))
            {
                problem(
                    out,
                    pointer,
                    Rule::Format,
                    "手机号码格式不正确 (mobile number is not a phone number)".into(),
                );
            }
        }
        Format::Email => {
            let ok = s
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
            if !ok || s.chars().any(char::is_whitespace) {
                problem(
                    out,
                    pointer,
                    Rule::Format,
                    "电子邮箱格式不正确 (e-mail address is malformed)".into(),
                );
            }
        }
        Format::Text => {}
    }
    if s.chars().count() > max {
        problem(
            out,
            pointer,
            Rule::TooLong,
            format!("超过 {max} 个字符 (longer than {max} characters)"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema.

/// `^[^R]*$` for the refused class `R`: no refused character anywhere.
fn text_pattern() -> String {
    format!("^[^{}]*$", charset::refused_class())
}

/// The `$defs` every field refers to.
fn defs() -> Value {
    json!({
        "text": {
            "description": "文字：不含控制字符（换行除外）、双向文字控制符和其他不可见格式字符 (text without control characters other than the line feed, bidirectional controls or other invisible format characters; the validator also refuses those outside the basic multilingual plane)",
            "type": "string",
            "maxLength": MAX_FIELD_CHARS,
            "pattern": text_pattern(),
        },
        "requiredText": {
            "description": "不能为空或只含空白的文字 (text that holds more than white space)",
            "$ref": "#/$defs/text",
            "pattern": "\\S",
        },
        "date": {
            "description": "日期 YYYY-MM-DD，1900–2999 (a date; the validator also checks the calendar, e.g. refuses 2023-02-29)",
            "type": "string",
            "pattern": "^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        },
        "certificateNo": {
            "description": "证书编号：字母、数字、汉字和 - _ . ( ) [ ] （ ） 〔 〕 【 】 － —，不含“..”，不以“.”开头或结尾 (certificate number: letters, digits, CJK ideographs and these marks; no “..”, no dot at either end)",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NUMBER_CHARS,
            "pattern": charset::number_pattern(),
        },
        "mobile": {
            "description": "电话号码：7–15 位数字，可含 + - 和空格 (a phone number: 7 to 15 digits with + - and spaces)",
            "type": "string",
            "maxLength": 32,
            "pattern": "^[+\\- ]*([0-9][+\\- ]*){7,15}$",
        },
        "email": {
            "description": "电子邮箱 (an e-mail address)",
            "$ref": "#/$defs/text",
            "maxLength": 254,
            "pattern": "^[^@\\s]+@[^.\\s]\\S*\\.\\S*$",
        },
    })
}

fn describe(field: &Field) -> String {
    format!("{} ({})", field.zh, field.en)
}

fn ty_schema(ty: &Ty, needed_always: bool) -> Value {
    match ty {
        Ty::Str {
            non_empty, format, ..
        } => {
            let def = match format {
                Format::Text if *non_empty => "requiredText",
                Format::Text => "text",
                Format::Date => "date",
                Format::Number => "certificateNo",
                Format::Mobile => "mobile",
                Format::Email => "email",
            };
            json!({"$ref": format!("#/$defs/{def}")})
        }
        Ty::TypeCode => json!({
            "type": "integer",
            "enum": [1, 2, 3, 4, 5, 6, 7, 8],
        }),
        Ty::List { of, min, max } => {
            let mut s = json!({
                "type": "array",
                "items": ty_schema(of, true),
            });
            if needed_always && *min > 0 {
                s["minItems"] = json!(min);
            }
            if let Some(max) = max {
                s["maxItems"] = json!(max);
            }
            s
        }
        Ty::Obj(fields) => obj_schema(fields),
    }
}

fn obj_schema(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    for field in fields {
        let mut s = ty_schema(&field.ty, field.need == Need::Always);
        if let Some(o) = s.as_object_mut() {
            let mut with_doc = Map::new();
            with_doc.insert("description".into(), describe(field).into());
            with_doc.extend(std::mem::take(o));
            *o = with_doc;
        }
        properties.insert(field.name.into(), s);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.need == Need::Always)
        .map(|f| f.name)
        .collect();
    let mut s = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    });
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

/// `if` the type code is one of `kinds` …
fn if_kinds(kinds: &[u8]) -> Value {
    json!({
        "properties": {"typeCode": {"enum": kinds}},
        "required": ["typeCode"],
    })
}

/// A rule the schema states besides the table: a `$comment` and the subschema.
pub struct SchemaRule {
    /// What it says, for a reader of the schema.
    pub comment: &'static str,
    /// Type codes it applies to (`None`: every kind).
    pub kinds: Option<&'static [u8]>,
    /// The subschema (applied to the whole document, under `if` the kinds).
    pub schema: Value,
}

/// The JSON Schema (draft 2020-12) of a certificate's content: the table [`CONTENT`] with
/// the kind-dependent requirements as `if`/`then`, and `extra` rules.
pub fn content_schema(extra: Vec<SchemaRule>, stricter: &[&str]) -> Value {
    let mut schema = obj_schema(CONTENT);
    let mut all_of = Vec::new();
    for field in CONTENT {
        if let Need::Kinds(kinds) = field.need {
            let mut then = json!({"required": [field.name]});
            if let Ty::List { min, .. } = field.ty
                && min > 0
            {
                then["properties"] = json!({field.name: {"minItems": min}});
            }
            all_of.push(json!({
                "$comment": format!("{} ({}) is required for type codes {kinds:?}", field.zh, field.en),
                "if": if_kinds(kinds),
                "then": then,
            }));
        }
    }
    for rule in extra {
        all_of.push(match rule.kinds {
            None => {
                let mut s = rule.schema;
                s["$comment"] = rule.comment.into();
                s
            }
            Some(kinds) => json!({
                "$comment": rule.comment,
                "if": if_kinds(kinds),
                "then": rule.schema,
            }),
        });
    }
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    out.insert("$id".into(), "urn:ecert:content:1".into());
    out.insert(
        "title".into(),
        "ecert 证书内容 (certificate content)".into(),
    );
    out.insert(
        "description".into(),
        format!(
            "计量电子证书的内容（业务系统交给 ecert 签发的 JSON）。本文件由校验器的规则表生成，校验器另外检查：(What a business system hands ecert to issue, generated from the validator's own rule table; the validator also checks:) {}",
            stricter.join("; ")
        )
        .into(),
    );
    if let Some(o) = schema.as_object_mut() {
        out.extend(std::mem::take(o));
    }
    out.insert("allOf".into(), all_of.into());
    out.insert("$defs".into(), defs());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type error, null and unknown member of a document is reported, each at its pointer.
    #[test]
    fn every_type_error_at_once() {
        let doc = json!({
            "typeCode": "7",
            "certificateNo": 12,
            "customer": {"name": null, "mobile": 13800000000u64},
            "instrument": ["x"],
            "methods": [{"code": "JJF 1"}, "JJF 2"],
            "results": [{"columns": ["a"], "rows": [["1", 2]]}],
            "colour": "red",
        });
        let mut out = Vec::new();
        check_types(&doc, CONTENT, &mut out);
        let pointers: Vec<(&str, Rule)> =
            out.iter().map(|p| (p.pointer.as_str(), p.rule)).collect();
        assert_eq!(
            pointers,
            [
                ("/typeCode", Rule::Type),
                ("/certificateNo", Rule::Type),
                ("/customer/name", Rule::Type),
                ("/customer/mobile", Rule::Type),
                ("/instrument", Rule::Type),
                ("/methods/1", Rule::Type),
                ("/results/0/rows/0/1", Rule::Type),
                ("/colour", Rule::UnknownField),
            ]
        );
        assert!(out[2].message.contains("null"), "{}", out[2].message);
        assert!(out[0].message.contains("字符串"), "{}", out[0].message);
    }

    #[test]
    fn kind_dependent_requirements() {
        let mut out = Vec::new();
        check_values(&json!({"typeCode": 7}), CONTENT, Some(7), &mut out);
        let pointers: Vec<&str> = out.iter().map(|p| p.pointer.as_str()).collect();
        assert!(pointers.contains(&"/standards"), "{pointers:?}");
        assert!(!pointers.contains(&"/conclusion"), "{pointers:?}");
        let mut out = Vec::new();
        check_values(
            &json!({"typeCode": 8, "standards": []}),
            CONTENT,
            Some(8),
            &mut out,
        );
        assert!(!out.iter().any(|p| p.pointer == "/standards"), "{out:?}");
        let mut out = Vec::new();
        check_values(&json!({"typeCode": 2}), CONTENT, Some(2), &mut out);
        assert!(out.iter().any(|p| p.pointer == "/conclusion"));
    }
}
