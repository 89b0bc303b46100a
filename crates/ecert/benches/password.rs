//! argon2id cost with the default parameters (R-5.2.3, `ecert::service::password`): hashes per
//! second on one thread and on every core, which bounds the logins per second a node can
//! answer (a login verifies one hash; an unknown account costs the same, `dummy_verify`).
//!
//! `cargo bench -p ecert --bench password` (release profile). `ECERT_BENCH_N` sets the hashes
//! per thread (default 40); `ECERT_BENCH_MEMORY_KIB`, `ECERT_BENCH_ITERATIONS` and
//! `ECERT_BENCH_PARALLELISM` try other parameters. Results go to docs/benchmarks.md by hand.

use std::time::Instant;

use ecert::service::password::{PasswordParams, dummy_verify, hash_password, verify_password};

fn env_u32(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn main() {
    let mut p = PasswordParams::default();
    if let Some(m) = env_u32("ECERT_BENCH_MEMORY_KIB") {
        p.memory_kib = m;
    }
    if let Some(t) = env_u32("ECERT_BENCH_ITERATIONS") {
        p.iterations = t;
    }
    if let Some(l) = env_u32("ECERT_BENCH_PARALLELISM") {
        p.parallelism = l;
    }
    if let Err(e) = p.check() {
        eprintln!("{e}");
        std::process::exit(2);
    }
    let n = env_u32("ECERT_BENCH_N").unwrap_or(40).max(1) as usize;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    println!(
        "argon2id m={} KiB, t={}, p={}; {n} operations per thread; {cores} cores",
        p.memory_kib, p.iterations, p.parallelism
    );

    let phc = match hash_password(&p, "correct horse battery staple") {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };

    // One thread: hashing (registration, password change), verifying (login), the dummy.
    let t = Instant::now();
    for _ in 0..n {
        let _ = hash_password(&p, "correct horse battery staple");
    }
    let hash_rate = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut ok = 0usize;
    for i in 0..n {
        let guess = if i % 2 == 0 {
            "correct horse battery staple"
        } else {
            "wrong horse battery staple"
        };
        ok += usize::from(verify_password(&phc, guess));
    }
    let verify_rate = n as f64 / t.elapsed().as_secs_f64();
    assert_eq!(ok, n.div_ceil(2), "verification results");
    let t = Instant::now();
    for _ in 0..n {
        dummy_verify(&p, "no such account's guess");
    }
    let dummy_rate = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "1 thread:  hash {hash_rate:.1}/s, verify {verify_rate:.1}/s, dummy {dummy_rate:.1}/s"
    );

    // Every core: the most logins per second this machine can answer.
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                for _ in 0..n {
                    verify_password(&phc, "wrong horse battery staple");
                }
            });
        }
    });
    let all = (n * cores) as f64 / t.elapsed().as_secs_f64();
    println!(
        "{cores} threads: verify {all:.1}/s ({:.1} ms each)",
        1000.0 * cores as f64 / all
    );
}
