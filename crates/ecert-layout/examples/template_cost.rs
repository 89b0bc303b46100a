//! What a template costs to lay out, and whether a change to it moved anything: for template
//! authors (the figures in docs/benchmarks.md "layout" were made with it).
//!
//! `cargo run --release -p ecert-layout --example template_cost -- DIR [N]` lays out N (default
//! 100) three-page calibration certificates, each with its own number, customer and measured
//! values, with the template in DIR (`main.typ` and, if changed, `ecert.typ`), and prints the
//! wall and CPU time per certificate. With `POSITIONS=FILE` it also writes where every glyph
//! and path of the first certificate lands (page, absolute mm, sorted): two templates that
//! should look the same must give the same file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Instant;

use ecert_layout::geom::Point;
use ecert_layout::{Extras, Fonts, Item, Layout, Template};

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Certificate `i`: the calibration example with six result tables, varied per certificate
/// so that no two lay out the same (as in crates/ecert/benches/issue.rs).
fn content(base: &serde_json::Value, i: usize) -> Vec<u8> {
    let mut v = base.clone();
    v["certificateNo"] = format!("COST-{i:06}").into();
    v["customer"]["name"] = format!("第{}计量测试用户有限公司", i % 97 + 1).into();
    for (t, table) in v["results"].as_array_mut().unwrap().iter_mut().enumerate() {
        for (r, row) in table["rows"].as_array_mut().unwrap().iter_mut().enumerate() {
            let cells = row.as_array_mut().unwrap();
            if cells.len() > 4 {
                let d = (i * 31 + t * 7 + r * 3) % 19;
                cells[3] = format!("{}.{:03}", 100 + d, (i * 37 + r) % 1000).into();
                cells[4] = format!("+0.{:03}", (i * 13 + t + r) % 1000).into();
            }
        }
    }
    serde_json::to_vec(&v).unwrap()
}

/// Every glyph origin and path point of `layout`, in page mm, one line each, sorted.
fn positions(layout: &Layout) -> String {
    let mut lines = Vec::new();
    for (n, page) in layout.pages.iter().enumerate() {
        for item in &page.items {
            let m = item.transform();
            match item {
                Item::Text(t) => {
                    for g in &t.glyphs {
                        let q = m.apply(Point::new(g.x, g.y));
                        lines.push(format!(
                            "{n} glyph {:.3} {:.3} {} font {} size {:.3}",
                            q.x, q.y, g.id, t.font, t.size
                        ));
                    }
                }
                Item::Path(p) => {
                    let mut line = format!("{n} path");
                    for q in p
                        .segs
                        .iter()
                        .flat_map(|s| s.transformed(m).points().collect::<Vec<_>>())
                    {
                        let _ = write!(line, " {:.3},{:.3}", q.x, q.y);
                    }
                    lines.push(line);
                }
                Item::Image(i) => lines.push(format!("{n} image {:?}", i.transform)),
            }
        }
    }
    lines.sort();
    lines.join("\n") + "\n"
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: template_cost TEMPLATE_DIR [N]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let fonts = Fonts::builtin();
    let template = Template::from_dir(std::path::Path::new(dir)).expect("template directory");
    let mut base: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/calibration.json")).unwrap();
    let table = base["results"][0].clone();
    base["results"] = (1..=6)
        .map(|k| {
            let mut t = table.clone();
            t["title"] = format!("测量结果 {k}").into();
            t
        })
        .collect::<Vec<_>>()
        .into();
    let extras = Extras {
        identifier: "1.2.156.112563.1·7·123456788·L12345·JZ2024-000123·0".into(),
        check_code: "7K3M-Q9XF".into(),
        ..Default::default()
    };
    let first = ecert_layout::lay_out(&template, &content(&base, 0), &extras, &fonts)
        .unwrap_or_else(|e| panic!("{dir}: {e}"));
    if let Ok(path) = std::env::var("POSITIONS") {
        std::fs::write(&path, positions(&first)).expect("POSITIONS file");
    }
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    for i in 1..=n {
        ecert_layout::lay_out(&template, &content(&base, i), &extras, &fonts).unwrap();
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "{dir}: {} pages; per certificate {:.2} ms wall, {:.2} ms CPU ({n} certificates)",
        first.pages.len(),
        wall * 1000.0 / n as f64,
        cpu * 1000.0 / n as f64
    );
}
