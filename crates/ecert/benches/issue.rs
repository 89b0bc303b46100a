//! Issuing throughput end to end (validate, Typst layout, OFD, Grid Matrix, seal, self-check,
//! store on SQLite + two replicas) with 1, 2 and 4 concurrent workers, and the process's peak RSS.
//!
//! `cargo bench -p ecert --bench issue` (release profile). `ECERT_BENCH_N` sets the number of
//! certificates per run (default 120) and `ECERT_BENCH_WORKERS` runs only that many workers.
//! Each worker is a task on the runtime, as `ecert serve` and `ecert issue` run them: the service
//! awaits the store there and runs the CPU part of each certificate on a blocking thread.
//! Results go to docs/benchmarks.md by hand.

use std::sync::Arc;
use std::time::Instant;

use ecert::config::Config;
use ecert::service::Instance;

/// Peak resident set size of this process (kB), from /proc.
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used so far, in seconds, from /proc (clock ticks
/// of 10 ms: read over a whole run of certificates, not one).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start after the last ')'.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
            let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// Certificate `i`: its own number, serial number, customer and measured values, so that no
/// two certificates lay out the same tables (typst's memo cache must not make the figure).
fn content(base: &serde_json::Value, tag: &str, i: usize) -> String {
    let mut v = base.clone();
    v["certificateNo"] = format!("BENCH-{tag}-{i:06}").into();
    v["instrument"]["serialNo"] = format!("SN{:08}", i * 7919 % 100_000_000).into();
    v["customer"]["name"] = format!("第{}计量测试用户有限公司", i % 97 + 1).into();
    if let Some(tables) = v["results"].as_array_mut() {
        for (t, table) in tables.iter_mut().enumerate() {
            let Some(rows) = table["rows"].as_array_mut() else {
                continue;
            };
            for (r, row) in rows.iter_mut().enumerate() {
                // Columns 3 and 4 (示值, 示值误差): values that change with i.
                let d = (i * 31 + t * 7 + r * 3) % 19;
                if let Some(cells) = row.as_array_mut()
                    && cells.len() > 4
                {
                    cells[3] = format!("{}.{:03}", 100 + d, (i * 37 + r) % 1000).into();
                    cells[4] = format!("+0.{:03}", (i * 13 + t + r) % 1000).into();
                }
            }
        }
    }
    v.to_string()
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful here.
    let n: usize = std::env::var("ECERT_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        let instance = Arc::new(Instance::init(dir.path(), Config::demo()).await?);
        instance.create_trial_seals().await?;
        let mut base: serde_json::Value =
            serde_json::from_str(include_str!("../../../examples/calibration.json"))?;
        // Three pages: the calibration example with its results table repeated.
        let table = base["results"][0].clone();
        let mut tables = Vec::new();
        for k in 0..6 {
            let mut t = table.clone();
            t["title"] = format!("测量结果 {}", k + 1).into();
            tables.push(t);
        }
        base["results"] = tables.into();

        // Warm-up (fonts, Typst caches, SQLite pages) and the page count.
        let first = instance
            .issue(
                &content(&base, "warm", 0),
                &ecert::service::Actor::local("bench"),
            )
            .await?;
        println!(
            "certificate: {} pages, {} bytes",
            first.pages,
            first.file.len()
        );
        for i in 1..3 {
            instance
                .issue(
                    &content(&base, "warm", i),
                    &ecert::service::Actor::local("bench"),
                )
                .await?;
        }
        let rss_idle = vm_hwm_kb();
        println!("peak RSS after warm-up: {} MiB", rss_idle / 1024);

        // `ECERT_BENCH_WORKERS=2` runs only that many (for profiling one phase).
        let phases: Vec<usize> = match std::env::var("ECERT_BENCH_WORKERS") {
            Ok(v) => vec![v.parse()?],
            Err(_) => vec![1, 2, 4],
        };
        for workers in phases {
            let start = Instant::now();
            let cpu_start = cpu_secs();
            let mut tasks = Vec::new();
            for w in 0..workers {
                let inst = Arc::clone(&instance);
                let base = base.clone();
                let run = async move {
                    let mut i = w;
                    while i < n {
                        inst.issue(
                            &content(&base, &format!("w{workers}"), i),
                            &ecert::service::Actor::local("bench"),
                        )
                        .await?;
                        i += workers;
                    }
                    anyhow::Ok(())
                };
                tasks.push(tokio::spawn(run));
            }
            for t in tasks {
                t.await??;
            }
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_secs() - cpu_start;
            println!(
                "{workers} worker(s): {n} certificates in {secs:.2} s = {:.1} certificates/s, \
                 {:.1} ms each; CPU {:.1} ms per certificate; peak RSS {} MiB",
                n as f64 / secs,
                secs * 1000.0 * workers as f64 / n as f64,
                cpu * 1000.0 / n as f64,
                vm_hwm_kb() / 1024
            );
        }
        Ok(())
    })
}
