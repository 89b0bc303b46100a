//! Encoding speed: a ~60-character verification URL and a 200-character Chinese text
//! (the inputs of benches/zint_bench.py, which times zint on the same work).
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// The verification URL (60 characters).
pub const URL: &str = "https://cert.example.cn/v/Ab3dEf7Gh9Jk2Lm4Np6Qr8St0Uv1Wx5Yz3A";

/// 200 Chinese characters (GB 2312).
pub fn chinese_200() -> String {
    let base =
        "本证书为电子证书请到发证机构官网验证检定校准证书计量器具型式评价报告能源效率标识检验";
    base.chars().cycle().take(200).collect()
}

fn bench(c: &mut Criterion) {
    let opts = gridmatrix::Options::default();
    let cn = chinese_200();
    c.bench_function("encode url60", |b| {
        b.iter(|| gridmatrix::encode(black_box(URL), &opts))
    });
    c.bench_function("encode chinese200", |b| {
        b.iter(|| gridmatrix::encode(black_box(&cn), &opts))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
