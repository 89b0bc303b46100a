//! Encoding speed for the two inputs of `benches/inputs.txt` (also read by
//! `benches/zint_bench.py`, which times libzint on the same work; `benches/compare.sh` runs
//! both): a 60-character verification URL and a 200-character Chinese text. Each iteration
//! is the whole job: text → segmentation → codewords → Reed–Solomon → module matrix.
//!
//! Two measurements: wall time (criterion's default) and the thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), which stays comparable when other jobs share the machine;
//! zint_bench.py reports the same two.
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const INPUTS: &str = include_str!("inputs.txt");

fn inputs() -> (&'static str, &'static str) {
    let mut lines = INPUTS.lines();
    let url = lines.next().expect("URL line");
    let cn = lines.next().expect("Chinese line");
    assert_eq!((url.chars().count(), cn.chars().count()), (60, 200));
    for (name, s) in [("url60", url), ("chinese200", cn)] {
        if let Ok(sym) = gridmatrix::encode(s, &gridmatrix::Options::default()) {
            eprintln!(
                "gridmatrix {name}: {0}x{0} modules, {1}",
                sym.size(),
                sym.modes_summary()
            );
        }
    }
    (url, cn)
}

fn bench_wall(c: &mut Criterion) {
    let (url, cn) = inputs();
    let opts = gridmatrix::Options::default();
    c.bench_function("encode url60", |b| {
        b.iter(|| gridmatrix::encode(black_box(url), &opts))
    });
    c.bench_function("encode chinese200", |b| {
        b.iter(|| gridmatrix::encode(black_box(cn), &opts))
    });
}

/// The calling thread's CPU time.
struct CpuTime;

struct Micros;

impl ValueFormatter for Micros {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        for v in values {
            *v /= 1e3;
        }
        "µs (cpu)"
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        for v in values {
            *v /= 1e3;
        }
        "µs (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for CpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;
    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }
    fn end(&self, i: Self::Intermediate) -> Self::Value {
        i.elapsed()
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Micros
    }
}

fn bench_cpu(c: &mut Criterion<CpuTime>) {
    let (url, cn) = inputs();
    let opts = gridmatrix::Options::default();
    c.bench_function("cpu encode url60", |b| {
        b.iter(|| gridmatrix::encode(black_box(url), &opts))
    });
    c.bench_function("cpu encode chinese200", |b| {
        b.iter(|| gridmatrix::encode(black_box(cn), &opts))
    });
}

criterion_group!(wall, bench_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench_cpu
}
criterion_main!(wall, cpu);
