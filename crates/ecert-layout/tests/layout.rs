//! Laying out the shipped examples with the shipped templates, checked on the flattened
//! pages (the OFD read-back checks are in `tests/ofd.rs`).
#![allow(clippy::unwrap_used)]

use std::sync::LazyLock;

use ecert_layout::geom::Rect;
use ecert_layout::{Builtin, Extras, Fonts, Item, LaidPage, LayoutError, Template, page_text};

static FONTS: LazyLock<Fonts> = LazyLock::new(Fonts::builtin);

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn example(name: &str) -> Vec<u8> {
    let p = format!("{EXAMPLES}/{name}");
    std::fs::read(&p).unwrap_or_else(|e| panic!("example {p} missing: {e}"))
}

fn extras() -> Extras {
    Extras {
        identifier: "1.2.156.112563.1·7·123456788·L12345·JZ2024-000123·0".into(),
        check_code: "7K3M-Q9XF".into(),
        ..Default::default()
    }
}

fn template_for(json: &[u8]) -> Template {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let code = v["typeCode"].as_u64().unwrap() as u8;
    Template::builtin(Builtin::for_type_code(code).unwrap())
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every shipped example with its template: A4, the notice on every page
/// the number and "第 x 页 共 y 页" on every page.
#[test]
fn examples_lay_out_r_4_3_3_r_4_3_6() {
    let mut names: Vec<String> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // supplement.json is a supplement's content (template `supplement`, tested in
        // crates/ecert tests/cli_demo.rs), not a certificate's.
        .filter(|n| n.ends_with(".json") && n != "supplement.json")
        .collect();
    names.sort();
    assert!(names.len() >= 8, "examples: {names:?}");
    for name in names {
        let json = example(&name);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let no = v["certificateNo"].as_str().unwrap();
        let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let n = layout.pages.len();
        assert!(n >= 2, "{name}: {n} pages");
        for (i, p) in layout.pages.iter().enumerate() {
            assert!((p.width - 210.0).abs() < 0.01 && (p.height - 297.0).abs() < 0.01);
            let text = squash(&page_text(p));
            assert!(
                text.contains(ecert_layout::ELECTRONIC_NOTICE),
                "{name} p{}",
                i + 1
            );
            assert!(text.contains(no), "{name} p{}: no number", i + 1);
            assert!(
                text.contains(&format!("第{}页共{n}页", i + 1)),
                "{name} p{}: {text}",
                i + 1
            );
        }
        let p1 = squash(&page_text(&layout.pages[0]));
        assert!(p1.contains("7K3M-Q9XF"), "{name}: check code");
        assert!(p1.contains("JZ2024-000123·0"), "{name}: identifier");
    }
}

/// Where an item paints, roughly (text: its advances and the em box).
fn bbox(item: &Item) -> Option<Rect> {
    match item {
        Item::Text(t) => {
            let m = &t.transform;
            Rect::bounding(t.glyphs.iter().flat_map(|g| {
                [
                    m.apply(ecert_layout::geom::Point::new(g.x, g.y - 0.88 * t.size)),
                    m.apply(ecert_layout::geom::Point::new(
                        g.x + g.advance,
                        g.y + 0.12 * t.size,
                    )),
                ]
            }))
        }
        Item::Path(p) => {
            let w = p.stroke.as_ref().map_or(0.0, |s| s.width / 2.0);
            Rect::bounding(
                p.segs
                    .iter()
                    .flat_map(|s| s.points())
                    .map(|q| p.transform.apply(q)),
            )
            .map(|r| r.inflate(w))
        }
        Item::Image(i) => Some(Rect::new(0.0, 0.0, i.width, i.height).transformed(&i.transform)),
    }
}

fn overlapping(page: &LaidPage, slot: &Rect) -> Vec<String> {
    page.items
        .iter()
        .filter_map(|it| {
            bbox(it)
                .filter(|b| b.overlaps(slot))
                .map(|b| format!("{b:?} {it:?}"))
        })
        .collect()
}

/// the 25 × 25 mm code slot on page 1 overlaps nothing: so does the seal
/// slot, and both are inside the page.
#[test]
fn code_and_seal_slots_cover_nothing_r_4_3_4_r_4_3_5() {
    for name in [
        "calibration.json",
        "verification.json",
        "verification-notice.json",
    ] {
        let json = example(name);
        let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
        let code = layout.slot("code").unwrap();
        assert_eq!(code.page, 0);
        assert!((code.rect.w - 25.0).abs() < 0.01 && (code.rect.h - 25.0).abs() < 0.01);
        let seal = layout.slot("seal").unwrap();
        for s in [code, seal] {
            let r = s.rect;
            assert!(
                r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= 210.0 && r.y + r.h <= 297.0,
                "{r:?}"
            );
            let hits = overlapping(&layout.pages[0], &r);
            assert!(hits.is_empty(), "{name}: slot {} covers {hits:#?}", s.name);
        }
    }
}

fn with_rows(n: usize) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&example("calibration.json")).unwrap();
    let rows: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!([
                "直流电压",
                "6 V",
                format!("{}.0000 V", i % 7),
                "5.002 V",
                "+0.002 V",
                "0.0007 V"
            ])
        })
        .collect();
    v["results"][0]["rows"] = serde_json::Value::Array(rows);
    serde_json::to_vec(&v).unwrap()
}

/// A results table of 200 rows flows across pages with its header repeated.
#[test]
fn long_table_flows_with_repeated_header() {
    let json = with_rows(200);
    let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    let n = layout.pages.len();
    assert!(n >= 6, "200 rows on {n} pages");
    // Every page holding rows of the table also holds its header.
    let mut with_rows = 0;
    for (i, p) in layout.pages.iter().enumerate().skip(1) {
        let t = squash(&page_text(p));
        assert!(t.contains(&format!("第{}页共{n}页", i + 1)));
        if t.contains("直流电压") {
            with_rows += 1;
            assert!(
                t.contains("扩展不确定度"),
                "page {}: header not repeated",
                i + 1
            );
        }
    }
    assert!(with_rows >= 5, "rows on {with_rows} pages");
}

/// Same input, same layout (typst's clock is the issue date).
#[test]
fn deterministic_layout() {
    let json = example("verification.json");
    let a = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    let b = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    assert_eq!(format!("{:?}", a.pages), format!("{:?}", b.pages));
}

/// A character no font has is an error naming it (typst would draw glyph 0 silently).
#[test]
fn missing_glyph_is_an_error() {
    let mut v: serde_json::Value = serde_json::from_slice(&example("calibration.json")).unwrap();
    v["customer"]["name"] = "示例𠀀科技".into(); // U+20000, CJK Extension B
    let json = serde_json::to_vec(&v).unwrap();
    let err = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap_err();
    match &err {
        LayoutError::MissingGlyph { chars, page, .. } => {
            assert_eq!(chars, "𠀀");
            assert_eq!(*page, 1);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("U+20000"), "{err}");
}

fn custom(main: &str) -> Template {
    Template::from_files(
        "test",
        "/main.typ",
        [("/main.typ".to_string(), main.as_bytes().to_vec())],
    )
    .unwrap()
}

/// Typst warnings are errors: an unknown font family would silently fall back.
#[test]
fn warnings_are_errors() {
    let t = custom("#set text(font: \"SimSun\")\n本证书为电子证书，请到发证机构官网验证");
    let err = ecert_layout::lay_out(&t, b"{\"issueDate\":\"2024-03-08\"}", &extras(), &FONTS)
        .unwrap_err();
    assert!(matches!(err, LayoutError::Typst(_)), "{err}");
    assert!(
        err.to_string().contains("simsun") || err.to_string().contains("SimSun"),
        "{err}"
    );
}

/// No network (packages are not found) and no filesystem (paths outside the template).
#[test]
fn sandbox_no_packages_no_files() {
    let data = b"{\"issueDate\":\"2024-03-08\"}";
    for src in [
        "#import \"@preview/tablex:0.0.8\": *",
        "#read(\"/etc/passwd\")",
        "#read(\"../../../../etc/passwd\")",
        "#image(\"/etc/hostname\")",
    ] {
        let err = ecert_layout::lay_out(&custom(src), data, &extras(), &FONTS).unwrap_err();
        assert!(matches!(err, LayoutError::Typst(_)), "{src}: {err}");
    }
}

/// `today()` is the issue date, not the machine's clock.
#[test]
fn today_is_the_issue_date() {
    let t = custom(
        "#set page(paper: \"a4\")\n本证书为电子证书，请到发证机构官网验证 #datetime.today().display()",
    );
    let doc =
        ecert_layout::compile(&t, b"{\"issueDate\":\"2024-03-08\"}", &extras(), &FONTS).unwrap();
    let layout_text: String = format!("{:?}", doc.pages()[0].frame);
    assert!(layout_text.contains("2024-03-08"), "{layout_text}");
}

/// A template without the notice or the code slot is refused.
#[test]
fn template_rules_enforced() {
    let data = b"{\"issueDate\":\"2024-03-08\"}";
    let err = ecert_layout::lay_out(
        &custom("#set page(paper: \"a4\")\nhello"),
        data,
        &extras(),
        &FONTS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("R-4.3.6"), "{err}");
    let err = ecert_layout::lay_out(
        &custom("#set page(paper: \"a4\")\n本证书为电子证书，请到发证机构官网验证"),
        data,
        &extras(),
        &FONTS,
    )
    .unwrap_err();
    assert!(
        matches!(err, LayoutError::MissingSlot(ref s) if s == "code"),
        "{err}"
    );
    let err = ecert_layout::lay_out(
        &custom("#set page(paper: \"a5\")\n本证书为电子证书，请到发证机构官网验证"),
        data,
        &extras(),
        &FONTS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("R-4.3.3"), "{err}");
}

/// Every shipped template (R-4.3.1: one style per kind) lays out every type code it serves,
/// including the generic report (type codes 4, 5, 6, 8).
#[test]
fn every_builtin_template_lays_out_r_4_3_1() {
    for code in 1u8..=8 {
        let mut v: serde_json::Value =
            serde_json::from_slice(&example("verification.json")).unwrap();
        v["typeCode"] = code.into();
        let json = serde_json::to_vec(&v).unwrap();
        let which = Builtin::for_type_code(code).unwrap();
        let layout = ecert_layout::lay_out(&Template::builtin(which), &json, &extras(), &FONTS)
            .unwrap_or_else(|e| panic!("type {code} with {}: {e}", which.name()));
        assert!(layout.pages.len() >= 2, "type {code}");
    }
    assert!(Builtin::for_type_code(9).is_none());
}

/// Superscript digits ("2×10⁻⁵") are set as real superscripts and "U_rel" with a subscript
/// (the template's `fix-text`), in table cells too: the characters the fonts lack never reach
/// them, and the underscore is gone.
#[test]
fn superscripts_and_subscripts_are_typeset() {
    let json = example("calibration.json");
    let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    let text: String = layout.pages.iter().map(|p| squash(&page_text(p))).collect();
    assert!(text.contains("2×10−5"), "{text}");
    assert!(text.contains("Urel=2×10"), "{text}");
    assert!(!text.contains('⁻') && !text.contains("U_rel"), "{text}");
    // The superscript is a run of its own, smaller than the digits it follows.
    let runs: Vec<(&str, f64)> = layout
        .pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|it| match it {
            Item::Text(t) => Some((t.text.as_str(), t.size)),
            _ => None,
        })
        .collect();
    let at = runs
        .iter()
        .position(|(t, _)| *t == "−5")
        .unwrap_or_else(|| panic!("{runs:?}"));
    assert!(
        at > 0 && runs[at - 1].0.ends_with("10"),
        "{:?}",
        &runs[at.saturating_sub(2)..=at]
    );
    assert!(
        runs[at].1 < runs[at - 1].1 * 0.9,
        "{:?}",
        &runs[at - 1..=at]
    );
}

/// A results cell too long for one line of its column.
const LONG_CELL: &str = "交流电压 1 kHz 至 100 kHz，正弦波，有效值";

/// Result rows mixing short, borderline (wide Latin, eight ideographs) and long cells, then
/// `more`.
fn mixed_rows(more: &[serde_json::Value]) -> serde_json::Value {
    let mut rows = vec![
        serde_json::json!([
            "直流电压",
            "600 mV",
            "100.00 mV",
            "100.0 mV",
            "0.0 mV",
            "0.06 mV"
        ]),
        serde_json::json!([
            LONG_CELL, "6 V", "5.0000 V", "4.997 V", "-0.003 V", "0.003 V"
        ]),
        serde_json::json!([
            "WWWWWWW",
            "MMMMMMMM",
            "电阻电阻电阻电阻",
            "1.001 kΩ",
            "+0.001 kΩ",
            "0.0006 kΩ"
        ]),
        serde_json::json!([
            "WWWWWWWWWWW",
            "6 kΩ",
            "1.0000 kΩ",
            "1.001 kΩ",
            "+0.001 kΩ",
            "0.0006 kΩ"
        ]),
        serde_json::json!([
            "直流电流",
            "400 mA",
            "100.00 mA",
            "100.1 mA",
            "+0.1 mA",
            "0.07 mA"
        ]),
    ];
    rows.extend(more.iter().cloned());
    serde_json::Value::Array(rows)
}

/// Result rows whose cells all fit on one line get the height of one line without typst
/// measuring them; a row with a longer cell must still grow. Every table glyph stays between
/// its row's rules, whatever the mix of short, borderline and long cells.
#[test]
fn table_text_stays_between_the_rules() {
    let mut v: serde_json::Value = serde_json::from_slice(&example("calibration.json")).unwrap();
    let long = LONG_CELL;
    v["results"][0]["rows"] = mixed_rows(&[]);
    let json = serde_json::to_vec(&v).unwrap();
    let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    // The bands between horizontal rules in which the long cell's lines and its row
    // neighbour "4.997 V" lie.
    let mut long_bands = std::collections::BTreeSet::new();
    let mut long_lines = std::collections::BTreeSet::new();
    let mut neighbour_band = None;
    let mut checked = 0;
    for (n, page) in layout.pages.iter().enumerate().skip(1) {
        // Horizontal rules: stroked two-point paths with one y.
        let rules: Vec<(f64, f64, f64)> = page
            .items
            .iter()
            .filter_map(|it| match it {
                Item::Path(p) if p.stroke.is_some() => {
                    let pts: Vec<_> = p
                        .segs
                        .iter()
                        .flat_map(|s| s.points())
                        .map(|q| p.transform.apply(q))
                        .collect();
                    (pts.len() == 2 && (pts[0].y - pts[1].y).abs() < 1e-6)
                        .then(|| (pts[0].y, pts[0].x.min(pts[1].x), pts[0].x.max(pts[1].x)))
                }
                _ => None,
            })
            .collect();
        let band = |b: &Rect| (n, rules.iter().filter(|r| r.0 <= b.y + 0.05).count());
        for it in &page.items {
            let Item::Text(t) = it else { continue };
            // Table text is 9 pt; so are the page header and footer, which have no rules
            // through them either.
            if (t.size - 9.0 * 25.4 / 72.0).abs() > 1e-6 {
                continue;
            }
            let Some(b) = bbox(it) else { continue };
            checked += 1;
            let text = t.text.trim();
            if long.contains(text) && text.chars().count() > 2 {
                long_lines.insert((b.y * 100.0).round() as i64);
                long_bands.insert(band(&b));
            }
            if text == "4.997 V" {
                neighbour_band = Some(band(&b));
            }
            for (y, x0, x1) in &rules {
                let crosses =
                    *y > b.y + 0.05 && *y < b.y + b.h - 0.05 && *x0 < b.x + b.w && *x1 > b.x;
                assert!(
                    !crosses,
                    "{:?} crosses the rule at y = {y} mm ({b:?})",
                    t.text
                );
            }
        }
    }
    assert!(checked > 50, "only {checked} runs checked");
    // The long cell wrapped: its text is on two lines or more (its row was measured).
    assert!(
        long_lines.len() >= 2,
        "the long cell is on {} line(s)",
        long_lines.len()
    );
    // ... all inside its own row, beside the rest of the row.
    assert_eq!(
        long_bands.len(),
        1,
        "the long cell spills over rows: {long_bands:?}"
    );
    assert_eq!(long_bands.first().copied(), neighbour_band);
}

/// Every glyph origin and path point of a layout (page, mm to the thousandth), sorted.
fn positions(layout: &ecert_layout::Layout) -> Vec<String> {
    let mut out = Vec::new();
    for (n, page) in layout.pages.iter().enumerate() {
        for item in &page.items {
            match item {
                Item::Text(t) => {
                    for g in &t.glyphs {
                        let q = t.transform.apply(ecert_layout::geom::Point::new(g.x, g.y));
                        out.push(format!("{n} glyph {} {:.3} {:.3}", g.id, q.x, q.y));
                    }
                }
                Item::Path(p) => {
                    for q in p.segs.iter().flat_map(|s| s.points()) {
                        let q = p.transform.apply(q);
                        out.push(format!("{n} path {:.3} {:.3}", q.x, q.y));
                    }
                }
                Item::Image(i) => out.push(format!("{n} image {:?}", i.transform)),
            }
        }
    }
    out.sort();
    out
}

/// The one-line rows are a shortcut, not a look: the same certificate laid out without the
/// widths (every row measured by typst) puts every glyph and every rule at the same place —
/// empty cells, cells of spaces, superscripts, long and borderline cells included.
#[test]
fn one_line_rows_look_the_same_as_measured_rows() {
    let mut v: serde_json::Value = serde_json::from_slice(&example("calibration.json")).unwrap();
    v["results"][0]["rows"] = mixed_rows(&[
        serde_json::json!(["", "", "", "", "", ""]),
        serde_json::json!([" ", "  ", "6 V", "", "x", "y"]),
        serde_json::json!([
            "U_rel",
            "2×10⁻⁵",
            "10 Ω",
            "10.001 Ω",
            "+0.001 Ω",
            "0.0006 Ω"
        ]),
        serde_json::json!([1, 2.5, "3", "4", "5", "6"]),
    ]);
    let json = serde_json::to_vec(&v).unwrap();
    let fast = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    let measured = custom(
        "#import \"/ecert.typ\": certificate\n\
         #certificate(json(\"/data.json\"), json(\"/ecert.json\") + (widths: (:)), kind: \"calibration\")",
    );
    let slow = ecert_layout::lay_out(&measured, &json, &extras(), &FONTS).unwrap();
    assert_eq!(fast.pages.len(), slow.pages.len());
    let (a, b) = (positions(&fast), positions(&slow));
    let differ: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(5).collect();
    assert!(
        a.len() == b.len() && differ.is_empty(),
        "{} vs {}: {differ:?}",
        a.len(),
        b.len()
    );
}

/// A long institute name in the page header wraps in its own column: the certificate number
/// stays whole on one line, flush with the right edge of the text area (188 mm).
#[test]
fn long_institute_name_leaves_the_number_whole_in_the_header() {
    let mut v: serde_json::Value = serde_json::from_slice(&example("calibration.json")).unwrap();
    let name = "中华人民共和国某某省某某市某某区国家级计量测试技术研究院电学与热学计量测试中心第二实验室分部";
    v["issuer"]["name"] = name.into();
    let no = v["certificateNo"].as_str().unwrap().to_string();
    let json = serde_json::to_vec(&v).unwrap();
    let layout = ecert_layout::lay_out(&template_for(&json), &json, &extras(), &FONTS).unwrap();
    // Page 2's header (above 30 mm): its lines, by baseline, as (text, right end).
    let mut lines: std::collections::BTreeMap<i64, Vec<(f64, f64, String)>> = Default::default();
    for it in &layout.pages[1].items {
        let Item::Text(t) = it else { continue };
        let Some(b) = bbox(it) else { continue };
        let Some(g) = t.glyphs.first() else { continue };
        if b.y + b.h < 30.0 {
            let origin = t.transform.apply(ecert_layout::geom::Point::new(g.x, g.y));
            let base = (origin.y * 100.0).round() as i64;
            lines
                .entry(base)
                .or_default()
                .push((b.x, b.x + b.w, t.text.clone()));
        }
    }
    let mut found = false;
    let mut header_text = String::new();
    for runs in lines.values_mut() {
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let text: String = runs.iter().map(|r| r.2.as_str()).collect();
        let right = runs.iter().map(|r| r.1).fold(f64::MIN, f64::max);
        header_text.push_str(&squash(&text));
        if squash(&text).ends_with(&format!("证书编号：{no}")) {
            found = true;
            assert!(
                (right - 188.0).abs() < 0.3,
                "number ends at {right} mm: {text}"
            );
        }
    }
    assert!(
        found,
        "the number is not whole on one header line: {lines:?}"
    );
    // The whole name is there, in order (over one line or more).
    let mut rest = header_text.chars();
    assert!(name.chars().all(|c| rest.any(|h| h == c)), "{header_text}");
}
