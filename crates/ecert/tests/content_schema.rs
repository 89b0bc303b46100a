//! `docs/content.schema.json` says what the validator enforces: checked with an
//! outside JSON Schema validator (boon, draft 2020-12) against every shipped example and against
//! one bad input per rule, which both must refuse at the same JSON pointers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use ecert::domain::Content;
use serde_json::{Value, json};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/content.schema.json"
);

struct Checker {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Checker {
    fn new() -> Checker {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(SCHEMA).expect("schema")).expect("json");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("urn:ecert:content:1", schema)
            .expect("add");
        let index = compiler
            .compile("urn:ecert:content:1", &mut schemas)
            .unwrap_or_else(|e| panic!("the schema compiles: {e:#}"));
        Checker { schemas, index }
    }

    /// The JSON pointers the schema refuses `doc` at: each failing keyword's instance location,
    /// a missing (`required`) or unknown (`additionalProperties`) member's own pointer.
    fn refusals(&self, doc: &Value) -> BTreeSet<String> {
        fn leaves(e: &boon::ValidationError, out: &mut BTreeSet<String>) {
            // `contains` carries why each item did not match; it fails at the array.
            let contains = matches!(
                e.kind,
                boon::ErrorKind::Contains | boon::ErrorKind::MinContains { .. }
            );
            if !e.causes.is_empty() && !contains {
                for c in &e.causes {
                    leaves(c, out);
                }
                return;
            }
            let at = e.instance_location.to_string();
            match &e.kind {
                boon::ErrorKind::Required { want } => {
                    out.extend(want.iter().map(|w| format!("{at}/{w}")));
                }
                boon::ErrorKind::AdditionalProperties { got } => {
                    out.extend(got.iter().map(|g| format!("{at}/{g}")));
                }
                _ => {
                    out.insert(at);
                }
            }
        }
        let mut out = BTreeSet::new();
        if let Err(e) = self.schemas.validate(doc, self.index) {
            leaves(&e, &mut out);
        }
        out
    }
}

/// The pointers the validator refuses `doc` at.
fn validator_refusals(doc: &Value) -> BTreeSet<String> {
    match Content::parse_valid(&doc.to_string()) {
        Ok(_) => BTreeSet::new(),
        Err(e) => e.0.into_iter().map(|p| p.pointer).collect(),
    }
}

fn example(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{EXAMPLES}/{name}")).expect("example"))
        .expect("json")
}

/// Every example (one per kind) is valid for the schema and for the validator.
#[test]
fn every_example_is_valid_for_both() {
    let checker = Checker::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(EXAMPLES).expect("examples/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with("supplement") {
            continue;
        }
        let doc = example(&name);
        assert_eq!(checker.refusals(&doc), BTreeSet::new(), "schema on {name}");
        assert_eq!(
            validator_refusals(&doc),
            BTreeSet::new(),
            "validator on {name}"
        );
        seen += 1;
    }
    assert_eq!(seen, 8, "an example of every kind");
}

/// Changes `doc` at `pointer`: sets the value, or removes the member when `None`.
fn edit(mut doc: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = doc.pointer_mut(parent).expect("parent exists");
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => {
            items[key.parse::<usize>().expect("index")] = v;
        }
        (other, _) => panic!("cannot edit {pointer} in {other}"),
    }
    doc
}

/// One bad input per rule the schema can state: both refuse it, at the same pointers.
#[test]
fn bad_inputs_are_refused_by_both_at_the_same_pointers() {
    let checker = Checker::new();
    let calibration = example("calibration.json");
    let verification = example("verification.json");
    let notice = example("verification-notice.json");
    let report = example("other-report.json");
    let cal = |p: &str, v: Option<Value>| edit(calibration.clone(), p, v);
    let long = "长".repeat(2001);
    let cases: Vec<(&str, Value, &str)> = vec![
        // Required fields, for every kind and for some kinds.
        ("type code missing", cal("/typeCode", None), "/typeCode"),
        (
            "number missing",
            cal("/certificateNo", None),
            "/certificateNo",
        ),
        ("customer missing", cal("/customer", None), "/customer"),
        (
            "customer name missing",
            cal("/customer/name", None),
            "/customer/name",
        ),
        (
            "customer name blank",
            cal("/customer/name", Some(json!("  "))),
            "/customer/name",
        ),
        (
            "instrument missing",
            cal("/instrument", None),
            "/instrument",
        ),
        (
            "serial missing",
            cal("/instrument/serialNo", None),
            "/instrument/serialNo",
        ),
        (
            "performed missing",
            cal("/performedDate", None),
            "/performedDate",
        ),
        ("issue date missing", cal("/issueDate", None), "/issueDate"),
        ("methods missing", cal("/methods", None), "/methods"),
        (
            "methods empty",
            cal("/methods", Some(json!([]))),
            "/methods",
        ),
        (
            "method code missing",
            cal("/methods/0/code", None),
            "/methods/0/code",
        ),
        (
            "calibration standards missing",
            cal("/standards", None),
            "/standards",
        ),
        (
            "verification standards empty",
            edit(verification.clone(), "/standards", Some(json!([]))),
            "/standards",
        ),
        ("results missing", cal("/results", None), "/results"),
        (
            "columns missing",
            cal("/results/0/columns", None),
            "/results/0/columns",
        ),
        (
            "column blank",
            cal("/results/0/columns/0", Some(json!(""))),
            "/results/0/columns/0",
        ),
        (
            "rows empty",
            cal("/results/0/rows", Some(json!([]))),
            "/results/0/rows",
        ),
        (
            "signatories missing",
            cal("/signatories", None),
            "/signatories",
        ),
        (
            "verification conclusion missing",
            edit(verification.clone(), "/conclusion", None),
            "/conclusion",
        ),
        (
            "notice conclusion missing",
            edit(notice.clone(), "/conclusion", None),
            "/conclusion",
        ),
        // Rules across fields that the schema states.
        (
            "no approver",
            cal(
                "/signatories",
                Some(json!([{"role": "校准员", "name": "李四"}])),
            ),
            "/signatories",
        ),
        (
            "calibration without uncertainty",
            cal(
                "/results",
                Some(json!([{"columns": ["标准值", "示值"], "rows": [["1", "1"]]}])),
            ),
            "/results",
        ),
        // null, wrong types, unknown fields.
        (
            "null number",
            cal("/certificateNo", Some(Value::Null)),
            "/certificateNo",
        ),
        (
            "null address",
            cal("/customer/address", Some(Value::Null)),
            "/customer/address",
        ),
        (
            "type code as text",
            cal("/typeCode", Some(json!("7"))),
            "/typeCode",
        ),
        ("type code 9", cal("/typeCode", Some(json!(9))), "/typeCode"),
        (
            "name as number",
            cal("/instrument/name", Some(json!(5))),
            "/instrument/name",
        ),
        (
            "cell as number",
            cal("/results/0/rows/0/1", Some(json!(1.5))),
            "/results/0/rows/0/1",
        ),
        (
            "remarks as text",
            cal("/remarks", Some(json!("备注"))),
            "/remarks",
        ),
        (
            "unknown field",
            cal("/colour", Some(json!("red"))),
            "/colour",
        ),
        (
            "unknown nested field",
            cal("/customer/fax", Some(json!("1"))),
            "/customer/fax",
        ),
        // Lengths, dates, numbers, phone and e-mail.
        ("too long", cal("/location", Some(json!(long))), "/location"),
        (
            "bad date",
            cal("/issueDate", Some(json!("2024-13-08"))),
            "/issueDate",
        ),
        (
            "date with slashes",
            cal("/receiptDate", Some(json!("2024/03/04"))),
            "/receiptDate",
        ),
        (
            "number with /",
            cal("/certificateNo", Some(json!("JZ/2024-1"))),
            "/certificateNo",
        ),
        (
            "number with ..",
            cal("/certificateNo", Some(json!("JZ..1"))),
            "/certificateNo",
        ),
        (
            "number ending in .",
            cal("/certificateNo", Some(json!("JZ1."))),
            "/certificateNo",
        ),
        (
            "number with a space",
            cal("/certificateNo", Some(json!("JZ 1"))),
            "/certificateNo",
        ),
        (
            "number too long",
            cal("/certificateNo", Some(json!("N".repeat(33)))),
            "/certificateNo",
        ),
        (
            "short mobile",
            cal("/customer/mobile", Some(json!("123-45"))),
            "/customer/mobile",
        ),
        (
            "bad e-mail",
            cal("/customer/email", Some(json!("a@b"))),
            "/customer/email",
        ),
        // Refused characters.
        (
            "RTL override in a name",
            cal("/customer/name", Some(json!("示例公司\u{202E}gpj.exe"))),
            "/customer/name",
        ),
        (
            "isolate in a cell",
            cal("/results/0/rows/0/0", Some(json!("1\u{2066}0"))),
            "/results/0/rows/0/0",
        ),
        (
            "zero-width space in a signatory",
            cal("/signatories/0/name", Some(json!("李\u{200B}四"))),
            "/signatories/0/name",
        ),
        (
            "Arabic letter mark in a remark",
            edit(report.clone(), "/remarks", Some(json!(["\u{061C}备注"]))),
            "/remarks/0",
        ),
        (
            "tab in a location",
            cal("/location", Some(json!("实验室\t1"))),
            "/location",
        ),
    ];
    for (what, doc, pointer) in cases {
        let schema = checker.refusals(&doc);
        let validator = validator_refusals(&doc);
        assert!(
            validator.contains(pointer),
            "{what}: the validator should refuse {pointer}, refused {validator:?}"
        );
        assert_eq!(
            schema, validator,
            "{what}: the schema and the validator refuse at different pointers"
        );
    }
}

/// What the validator checks and the schema cannot state is listed in the schema.
#[test]
fn the_schema_names_what_only_the_validator_checks() {
    let text = std::fs::read_to_string(SCHEMA).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("json");
    let description = schema["description"].as_str().expect("description");
    for rule in ["calendar", "Beijing", "issuer", "cells"] {
        assert!(description.contains(rule), "{rule} in {description}");
    }
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        text,
        Content::json_schema(),
        "the committed schema is the rendered one"
    );
}
