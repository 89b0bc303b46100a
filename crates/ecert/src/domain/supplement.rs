//! What a supplementary file holds (R-6.4.2): content added to an issued certificate without
//! replacing it — a reason, items of text and optionally result tables, signatories.

use serde::{Deserialize, Serialize};

use super::content::{
    ContentErrors, Problem, ResultTable, Signatory, Validator, parse_date, path_to_pointer,
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
    /// Parses and validates; every problem is listed with its JSON pointer.
    pub fn parse_valid(text: &str) -> Result<SupplementContent, ContentErrors> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let c: SupplementContent = serde_path_to_error::deserialize(de).map_err(|e| {
            ContentErrors(vec![Problem {
                pointer: path_to_pointer(e.path()),
                message: format!("无法解析 (cannot parse): {}", e.inner()),
            }])
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the content; lists every problem.
    pub fn validate(&self) -> Result<(), ContentErrors> {
        let mut v = Validator::default();
        if let Some(n) = &self.supplement_no {
            v.required_text("/supplementNo", Some(n), "补充文件编号");
            if n.chars().any(|c| c == '/' || c == '\\' || c == '·') {
                v.problem(
                    "/supplementNo",
                    "补充文件编号不得含 / \\ · (must not contain / \\ or ·)",
                );
            }
        }
        if let Some(d) = &self.issue_date
            && parse_date(d).is_none()
        {
            v.date("/issueDate", Some(d), false);
        }
        v.required_text("/reason", self.reason.as_deref(), "补充原因");
        let items = self.items.as_deref().unwrap_or_default();
        let tables = self.results.as_deref().unwrap_or_default();
        if items.is_empty() && tables.is_empty() {
            v.problem(
                "/items",
                "缺少补充内容 (at least one item or results table is required)",
            );
        }
        for (i, item) in items.iter().enumerate() {
            v.optional_text(&format!("/items/{i}/title"), item.title.as_deref());
            v.required_text(
                &format!("/items/{i}/text"),
                item.text.as_deref(),
                "补充内容",
            );
        }
        for (t, table) in tables.iter().enumerate() {
            v.optional_text(&format!("/results/{t}/title"), table.title.as_deref());
            let cols = table.columns.as_deref().unwrap_or_default();
            if cols.is_empty() {
                v.problem(
                    &format!("/results/{t}/columns"),
                    "表格缺少列标题 (table has no columns)",
                );
            }
            let rows = table.rows.as_deref().unwrap_or_default();
            if rows.is_empty() {
                v.problem(
                    &format!("/results/{t}/rows"),
                    "表格没有数据行 (table has no rows)",
                );
            }
            for (r, row) in rows.iter().enumerate() {
                if !cols.is_empty() && row.len() != cols.len() {
                    v.problem(
                        &format!("/results/{t}/rows/{r}"),
                        &format!(
                            "该行有 {} 个单元格，列数为 {} (row has {} cells, the table {} columns)",
                            row.len(),
                            cols.len(),
                            row.len(),
                            cols.len()
                        ),
                    );
                }
                for (c, cell) in row.iter().enumerate() {
                    v.optional_text(&format!("/results/{t}/rows/{r}/{c}"), Some(cell));
                }
            }
        }
        for (i, r) in self.remarks.iter().flatten().enumerate() {
            v.optional_text(&format!("/remarks/{i}"), Some(r));
        }
        for (i, s) in self.signatories.iter().flatten().enumerate() {
            v.required_text(
                &format!("/signatories/{i}/role"),
                s.role.as_deref(),
                "签字角色",
            );
            v.required_text(
                &format!("/signatories/{i}/name"),
                s.name.as_deref(),
                "签字人",
            );
        }
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
        assert!(e.to_string().contains("extra"), "{e}");
    }
}
