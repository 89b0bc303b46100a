//! What a supplementary file holds (R-6.4.2): content added to an issued certificate without
//! replacing it — a reason, items of text and optionally result tables, signatories.

use serde::{Deserialize, Serialize};

use super::content::{
    ContentErrors, ResultTable, Rule, Signatory, Validator, from_value, parse_date, parse_typed,
};

/// The content of a supplementary file. Which certificate it supplements is given separately
/// (by the original's number); the service adds the original's identifier, number and details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupplementContent {
    /// The supplement's own number; default `{original number}-BC{n}` (n-th supplement).
    pub supplement_no: Option<String>,
    /// Issue date `YYYY-MM-DD`; default today.
    pub issue_date: Option<String>,
    /// Why the supplement is issued.
    pub reason: Option<String>,
    /// Items of supplementary content.
    pub items: Option<Vec<SupplementItem>>,
    /// Supplementary result tables.
    pub results: Option<Vec<ResultTable>>,
    /// Remarks.
    pub remarks: Option<Vec<String>>,
    /// Who signs the supplement.
    pub signatories: Option<Vec<Signatory>>,
}

/// One item of supplementary content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupplementItem {
    /// A short heading.
    pub title: Option<String>,
    /// The text.
    pub text: Option<String>,
}

impl SupplementContent {
    /// Parses and validates; every problem is listed with its JSON pointer (see
    /// [`super::content::Content::from_json`]).
    pub fn parse_valid(text: &str) -> Result<SupplementContent, ContentErrors> {
        let value = parse_typed(text, super::rules::SUPPLEMENT)?;
        let c: SupplementContent = from_value(value)?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the content on today's date in Beijing; lists every problem.
    pub fn validate(&self) -> Result<(), ContentErrors> {
        self.validate_on(super::dates::today_beijing())
    }

    /// [`SupplementContent::validate`] on the date `today` (Beijing time).
    pub fn validate_on(&self, today: super::dates::Date) -> Result<(), ContentErrors> {
        let mut v = Validator::default();
        v.table(self, super::rules::SUPPLEMENT, None);
        if let Some(d) = self.issue_date.as_deref().and_then(parse_date) {
            v.not_in_future("/issueDate", d, today);
        }
        let items = self.items.as_deref().unwrap_or_default();
        let tables = self.results.as_deref().unwrap_or_default();
        if items.is_empty() && tables.is_empty() {
            v.problem(
                "/items",
                Rule::Required,
                "缺少补充内容 (at least one item or results table is required)",
            );
        }
        v.row_widths(tables);
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_example_is_valid() {
        let path = format!(
            "{}/../../examples/supplement.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("examples/supplement.json");
        SupplementContent::parse_valid(&text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn problems_are_listed_with_pointers() {
        let e = SupplementContent::parse_valid(
            r#"{"issueDate":"2024-02-30","items":[{"title":"x"}],"supplementNo":"a/b"}"#,
        )
        .expect_err("invalid");
        let pointers: Vec<&str> = e.0.iter().map(|p| p.pointer.as_str()).collect();
        for p in ["/supplementNo", "/issueDate", "/reason", "/items/0/text"] {
            assert!(pointers.contains(&p), "{p} in {pointers:?}");
        }
        let e = SupplementContent::parse_valid(r#"{"reason":"x","extra":1}"#).expect_err("unknown");
        assert!(e.has("/extra", Rule::UnknownField), "{e}");
        // Supplements name no issuer: it comes from the configuration.
        let e = SupplementContent::parse_valid(
            r#"{"reason":"x","items":[{"text":"y"}],"issuer":{"name":"别的计量院"}}"#,
        )
        .expect_err("no issuer in a supplement");
        assert!(e.has("/issuer", Rule::UnknownField), "{e}");
    }

    /// Bidirectional controls anywhere (table cells too), a future date and a number outside
    /// the character set are refused at their pointers.
    #[test]
    fn bidi_future_dates_and_numbers() {
        let json = serde_json::json!({
            "supplementNo": "JZ/2024-BC1",
            "issueDate": "2024-03-12",
            "reason": "更正",
            "results": [{"columns": ["a"], "rows": [["1\u{202E}gpj.exe"]]}],
            "signatories": [{"role": "批准人", "name": "李\u{2066}四"}],
        });
        let c: SupplementContent = serde_json::from_value(json).expect("shape");
        let e = c.validate_on((2024, 3, 10)).expect_err("invalid");
        assert!(e.has("/supplementNo", Rule::Number), "{e}");
        assert!(e.has("/issueDate", Rule::FutureDate), "{e}");
        assert!(e.has("/results/0/rows/0/0", Rule::Bidi), "{e}");
        assert!(e.has("/signatories/0/name", Rule::Bidi), "{e}");
        assert_eq!(e.0.len(), 4, "{e}");
        let mut ok = c.clone();
        ok.supplement_no = Some("JZ2024-BC1".into());
        ok.results = None;
        ok.items = Some(vec![SupplementItem {
            title: None,
            text: Some("内容".into()),
        }]);
        ok.signatories = None;
        ok.validate_on((2024, 3, 11)).expect("tomorrow is fine");
    }
}
