//! Rendering an A4 certificate-like page (the three-page sample's first page: CJK and Latin
//! text from embedded subset fonts, a table of paths, an image) at 96 and 150 dpi.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
use criterion::{Criterion, criterion_group, criterion_main};
use ofd::render::{RenderOptions, render_page};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let fonts = ofd::sample::SampleFonts::system()
        .expect("sample fonts (fonts-wqy-microhei, fonts-dejavu-core)");
    let pkg = ofd::sample::build(&fonts, &ofd::sample::SampleData::default()).expect("sample");
    let bytes = pkg.to_zip().expect("zip");
    let file = ofd::OfdFile::read(&bytes).expect("read");
    let doc = &file.ofd.docs[0].document;
    let mut g = c.benchmark_group("render_a4_certificate_page");
    for dpi in [96.0, 150.0] {
        let opts = RenderOptions::with_dpi(dpi);
        g.bench_function(format!("{dpi} dpi"), |b| {
            b.iter(|| render_page(black_box(doc), 0, &opts).expect("render"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
