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

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ecert::config::{Config, S3Config};
use ecert::service::{Actor, Instance};
use ecert_store::ClientCredential;
use serde_json::Value;
use serve_support::{CALIBRATION, CLIENT, SECRET, nonce, request, signed_headers};

fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn psql(db: &str, sql: &str) {
    let out = Command::new("psql")
        .args([db, "-tA", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn content(number: &str) -> String {
    let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v.to_string()
}

fn issue(addr: SocketAddr, number: &str) -> Value {
    let body = content(number);
    let path = "/api/v1/certificates";
    let h = signed_headers(SECRET, "POST", path, body.as_bytes(), unix_now(), &nonce());
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("Content-Type", "application/json"));
    let r = request(addr, "POST", path, &all, body.as_bytes());
    assert_eq!(r.status, 201, "{number}: {}", r.text());
    r.json()
}

struct Node {
    addr: SocketAddr,
    child: Child,
}

impl Node {
    fn start(dir: &Path) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ecert"))
            .arg("--dir")
            .arg(dir)
            .args(["serve", "--listen", &addr.to_string()])
            .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY)
            .env("ECERT_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let node = Node { addr, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(addr).is_ok() {
                return node;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("node on {addr} did not start");
    }

    /// User + system CPU time of the process so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let moto = moto::Moto::start();
    moto.create_bucket("bench-a");
    moto.create_bucket("bench-b");
    let name = format!("ecert_bench_cluster_{}", nonce());
    psql(
        &format!("{}/postgres", pg_server()),
        &format!("CREATE DATABASE {name}"),
    );
    let db = format!("{}/{name}", pg_server());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("instance");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = Config::demo();
        config.storage.database = db.clone();
        let instance = Instance::init(&dir, config).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        instance
            .add_api_client(
                CLIENT,
                ClientCredential::SharedSecret(SECRET.as_bytes()),
                &Actor::local("bench"),
            )
            .await
            .unwrap();
    });
    drop(rt);
    let mut config = Config::load(&dir).unwrap();
    config.storage.replicas.clear();
    let bucket = |b: &str| S3Config {
        name: Some(b.into()),
        endpoint: Some(moto.endpoint()),
        bucket: b.into(),
        region: "us-east-1".into(),
        prefix: None,
        path_style: true,
        allow_http: true,
    };
    config.storage.s3 = vec![bucket("bench-a"), bucket("bench-b")];
    config.server.lookup_per_minute = 0;
    config.server.verify_per_minute = 0;
    config.save(&dir).unwrap();
    run(&dir, 1, certs, "one");
    run(&dir, 3, certs, "three");
    psql(
        &format!("{}/postgres", pg_server()),
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
}
