//! Writing a three-page certificate-like document with a CJK font subset (target:
//! at least 300 documents per second on one core, file under 150 KB).
//! `cargo bench -p ofd --bench write`
#![allow(clippy::unwrap_used)]
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ofd::sample::{SampleData, SampleFonts, attachment_ofd, build_with_attachment};
use std::hint::black_box;

fn write_certificate(c: &mut Criterion) {
    let fonts = SampleFonts::system().unwrap_or_else(|e| panic!("{e}"));
    let attachment = attachment_ofd(&fonts).unwrap().to_zip().unwrap();
    let mut n = 0u64;
    let size = build_with_attachment(&fonts, &SampleData::default(), attachment.clone())
        .unwrap()
        .to_zip()
        .unwrap()
        .len();
    eprintln!(
        "three-page sample: {size} bytes ({:.1} KB)",
        size as f64 / 1024.0
    );
    assert!(size < 150 * 1024);
    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(1));
    g.bench_function("three_page_certificate_cjk_subset", |b| {
        b.iter(|| {
            n += 1;
            let data = SampleData {
                cert_no: format!("JL2026-{n:06}"),
                ..SampleData::default()
            };
            let pkg = build_with_attachment(&fonts, &data, attachment.clone()).unwrap();
            black_box(pkg.to_zip().unwrap())
        })
    });
    // Every document with a different customer name (one new CJK character each time), so the
    // font subset cache never hits: the cost of subsetting the CJK font on every document.
    let pool: Vec<char> = (0x4E00u32..0x4E00 + 4000)
        .filter_map(char::from_u32)
        .collect();
    let pool: Vec<char> = pool
        .into_iter()
        .filter(|c| fonts.cjk.glyph_for(*c).is_some())
        .collect();
    let mut k = 0usize;
    g.bench_function("three_page_certificate_cjk_subset_uncached", |b| {
        b.iter(|| {
            k += 1;
            let c = pool[k % pool.len()];
            let data = SampleData {
                cert_no: format!("JL2026-{k:06}"),
                customer: format!("{c}{c}精密仪器有限公司"),
                ..SampleData::default()
            };
            let pkg = build_with_attachment(&fonts, &data, attachment.clone()).unwrap();
            black_box(pkg.to_zip().unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, write_certificate);
criterion_main!(benches);
