#![allow(clippy::unwrap_used, missing_docs)]
//! Several nodes (docs/deploy.md): CPU per issued certificate with one `ecert serve` node and
//! with three over one PostgreSQL and two S3 buckets (moto on loopback), and `GET /v/{token}`
//! through the nodes. On a 2-core machine the nodes share the cores, so the figure that says
//! whether the design scales is the servers' CPU per certificate (user + system time of every
//! node process, from /proc), not the wall-clock rate alone.
//!
//! `cargo bench -p ecert --bench cluster` (needs PostgreSQL at 127.0.0.1:5432 or
//! `$ECERT_TEST_PG`, moto from `scripts/setup`, and Debian's `wrk` for the page figure).
//! `ECERT_BENCH_CERTS=N` certificates per run (default 60).

#[path = "../tests/serve_support/mod.rs"]
mod serve_support;

#[path = "../../ecert-store/tests/common/moto.rs"]
mod moto;

#[path = "../tests/cluster_support/mod.rs"]
mod cluster_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cluster_support::{Node, api};
use serde_json::Value;

fn issue(addr: std::net::SocketAddr, number: &str) -> Value {
    let r = api(
        addr,
        "POST",
        "/api/v1/certificates",
        cluster_support::content(number).as_bytes(),
        None,
    );
    assert_eq!(r.status, 201, "{number}: {}", r.text());
    r.json()
}

fn run(dir: &Path, nodes: usize, certs: usize, tag: &str) {
    let ns: Vec<Node> = (0..nodes).map(|_| Node::start(dir)).collect();
    for (i, n) in ns.iter().enumerate() {
        for w in 0..3 {
            issue(n.addr, &format!("W{tag}-{i}-{w}"));
        }
    }
    let cpu0: Duration = ns.iter().map(Node::cpu).sum();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let mut token = String::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let ns = &ns;
                let next = &next;
                s.spawn(move || {
                    let mut last = String::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= certs {
                            return last;
                        }
                        let v = issue(ns[i % ns.len()].addr, &format!("B{tag}-{i}"));
                        last = v["verify_url"].as_str().unwrap().to_owned();
                    }
                })
            })
            .collect();
        for h in handles {
            let url = h.join().unwrap();
            if !url.is_empty() {
                token = url[url.find("/v/").unwrap()..].to_owned();
            }
        }
    });
    let wall = started.elapsed();
    let cpu = ns.iter().map(Node::cpu).sum::<Duration>() - cpu0;
    println!(
        "{nodes} node(s): {certs} certificates in {:.2} s = {:.1}/s; servers' CPU {:.2} s = {:.1} ms per certificate",
        wall.as_secs_f64(),
        certs as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / certs as f64
    );
    // GET /v/{token}: one wrk per node at once, 64 connections in all, 10 s.
    let per = (64 / nodes).max(1);
    let wrks: Vec<_> = ns
        .iter()
        .map(|n| {
            Command::new("wrk")
                .args([
                    "-t1",
                    &format!("-c{per}"),
                    "-d10s",
                    "--latency",
                    &format!("http://{}{token}", n.addr),
                ])
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect();
    let mut total = 0.0;
    for w in wrks {
        match w.and_then(Child::wait_with_output) {
            Ok(out) => {
                let text = String::from_utf8_lossy(&out.stdout);
                let rate: f64 = text
                    .lines()
                    .find(|l| l.starts_with("Requests/sec:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(0.0);
                total += rate;
                if let Some(l) = text.lines().find(|l| l.contains("Non-2xx")) {
                    println!("  wrk: {}", l.trim());
                }
                if let Some(l) = text.lines().find(|l| l.trim_start().starts_with("99%")) {
                    println!("  wrk p99: {}", l.trim());
                }
            }
            Err(e) => println!("wrk not run ({e}): apt-get install wrk"),
        }
    }
    println!(
        "{nodes} node(s): GET /v/{{token}} {total:.0} req/s in all (one wrk per node, at once)"
    );
}

fn main() {
    let certs: usize = std::env::var("ECERT_BENCH_CERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let cluster = cluster_support::Cluster::new("ecert_bench_cluster");
    let dir = cluster.dir.clone();
    run(&dir, 1, certs, "one");
    run(&dir, 3, certs, "three");
}
