//! Laying out a three-page calibration certificate (the shipped example with 60 result rows):
//! typst compile + frame flattening, and the whole path to OFD bytes (font subsets, ZIP).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use ecert_layout::{Builtin, Extras, Fonts, Template};

fn three_pages() -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/calibration.json"
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let rows: Vec<serde_json::Value> = (0..60)
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

fn bench(c: &mut Criterion) {
    let fonts = Fonts::builtin();
    let t = Template::builtin(Builtin::Calibration);
    let json = three_pages();
    let extras = Extras {
        identifier: "1.2.156.112563.1·7·123456788·L12345·JZ2024-000123·0".into(),
        check_code: "7K3M-Q9XF".into(),
        issue_date: None,
        doc_info: ofd::DocInfo {
            doc_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            ..Default::default()
        },
    };
    let pages = ecert_layout::lay_out(&t, &json, &extras, &fonts)
        .unwrap()
        .pages
        .len();
    assert_eq!(pages, 3, "the bench certificate should have three pages");
    let mut g = c.benchmark_group("three-page certificate");
    g.sample_size(30);
    g.bench_function("lay_out (typst compile + flatten)", |b| {
        b.iter(|| ecert_layout::lay_out(&t, &json, &extras, &fonts).unwrap())
    });
    g.bench_function("render_certificate + finish (OFD bytes)", |b| {
        b.iter(|| {
            let out = ecert_layout::render_certificate(&t, &json, &extras, &fonts).unwrap();
            out.document.finish().unwrap().to_zip().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
