//! Encoding speed for the two inputs of `benches/inputs.txt` (also read by
//! `benches/zint_bench.py`, which times libzint on the same work):
//! a 60-character verification URL and a 200-character Chinese text.
//! Each iteration is the whole job: text → segmentation → codewords → RS → module matrix.
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const INPUTS: &str = include_str!("inputs.txt");

fn bench(c: &mut Criterion) {
    let mut lines = INPUTS.lines();
    let url = lines.next().expect("URL line");
    let cn = lines.next().expect("Chinese line");
    assert_eq!((url.chars().count(), cn.chars().count()), (60, 200));
    let opts = gridmatrix::Options::default();
    c.bench_function("encode url60", |b| {
        b.iter(|| gridmatrix::encode(black_box(url), &opts))
    });
    c.bench_function("encode chinese200", |b| {
        b.iter(|| gridmatrix::encode(black_box(cn), &opts))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
