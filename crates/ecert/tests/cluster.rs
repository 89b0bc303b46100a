//! Several nodes (R-6.5b, R-5.2.1): three `ecert serve` processes on loopback over one
//! PostgreSQL (127.0.0.1:5432) and two buckets of a real S3 server (moto, on loopback), with no
//! local replica. Issuing through all three at once gives unique numbers and loses nothing; an
//! `Idempotency-Key` retried on another node gives the same certificate; a revision through
//! one node shows as void on another within a second (its page cache dropped by `NOTIFY`); a
//! node killed with SIGKILL under load loses nothing it acknowledged; the audit chain written
//! by all of them is one intact chain.
#![allow(clippy::unwrap_used)]

mod serve_support;

#[path = "../../ecert-store/tests/common/moto.rs"]
mod moto;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecert::config::{Config, S3Config};
use ecert::service::{Actor, Instance};
use ecert_store::ClientCredential;
use serde_json::Value;
use serve_support::{CALIBRATION, CLIENT, Resp, SECRET, nonce, request, signed_headers};

fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([db, "-tA", "-c", sql])
        .output()
        .expect("this test needs psql and a PostgreSQL server (scripts/setup)");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A node: `ecert serve` on a loopback port, with the buckets' credentials in its environment.
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
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let node = Node { addr, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(addr).is_ok()
                && request(addr, "GET", "/healthz", &[], b"").status == 200
            {
                return node;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("node on {addr} did not start");
    }

    fn api(&self, method: &str, path: &str, body: &[u8], key: Option<&str>) -> Resp {
        api(self.addr, method, path, body, key)
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A signed API request to the node at `addr` (an `Idempotency-Key` when given).
fn api(addr: SocketAddr, method: &str, path: &str, body: &[u8], key: Option<&str>) -> Resp {
    let h = signed_headers(SECRET, method, path, body, unix_now(), &nonce());
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("Content-Type", "application/json"));
    if let Some(k) = key {
        all.push(("Idempotency-Key", k));
    }
    request(addr, method, path, &all, body)
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

fn bucket(moto: &moto::Moto, name: &str) -> S3Config {
    S3Config {
        name: Some(name.into()),
        endpoint: Some(moto.endpoint()),
        bucket: name.into(),
        region: "us-east-1".into(),
        prefix: None,
        path_style: true,
        allow_http: true,
    }
}

/// A demo instance on a new PostgreSQL database whose files go to two buckets only.
fn instance(dir: &Path, db: &str, moto: &moto::Moto) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = Config::demo();
        config.storage.database = db.to_owned();
        let instance = Instance::init(dir, config).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        instance
            .add_api_client(
                CLIENT,
                ClientCredential::SharedSecret(SECRET.as_bytes()),
                &Actor::local("test"),
            )
            .await
            .unwrap();
    });
    // From now on: the buckets, no local folder (the nodes share nothing else).
    let mut config = Config::load(dir).unwrap();
    config.storage.replicas.clear();
    config.storage.s3 = vec![bucket(moto, "ecert-a"), bucket(moto, "ecert-b")];
    config.server.lookup_per_minute = 0;
    config.server.verify_per_minute = 0;
    config.save(dir).unwrap();
}

#[test]
fn r_6_5b_three_nodes_over_postgresql_and_s3_lose_nothing_and_issue_nothing_twice() {
    let moto = moto::Moto::start();
    moto.create_bucket("ecert-a");
    moto.create_bucket("ecert-b");
    let name = format!("ecert_cluster_{}", nonce());
    psql(
        &format!("{}/postgres", pg_server()),
        &format!("CREATE DATABASE {name}"),
    );
    let db = format!("{}/{name}", pg_server());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("instance");
    let outcome = std::panic::catch_unwind(|| {
        instance(&dir, &db, &moto);
        let mut nodes: Vec<Node> = (0..3).map(|_| Node::start(&dir)).collect();

        // 1. Issuing through all three at once: every one acknowledged, numbers unique.
        let issued: Vec<(String, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = nodes
                .iter()
                .enumerate()
                .map(|(n, node)| {
                    s.spawn(move || {
                        (0..3)
                            .map(|i| {
                                let number = format!("CL-{n}-{i}");
                                let r = node.api(
                                    "POST",
                                    "/api/v1/certificates",
                                    content(&number).as_bytes(),
                                    None,
                                );
                                assert_eq!(r.status, 201, "{number}: {}", r.text());
                                let v = r.json();
                                (
                                    v["identifier"].as_str().unwrap().to_owned(),
                                    v["verify_url"].as_str().unwrap().to_owned(),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut ids: Vec<&String> = issued.iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 9, "nine identifiers, all different");
        assert_eq!(
            psql(
                &db,
                "SELECT count(*) FROM certificates WHERE number LIKE 'CL-%'"
            ),
            "9"
        );
        // Every file is in both buckets: any node reads any certificate, SM3-checked.
        for n in 0..3 {
            let r = nodes[(n + 1) % 3].api(
                "GET",
                &format!("/api/v1/certificates/CL-{n}-0/file"),
                b"",
                None,
            );
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(r.body.starts_with(b"PK"), "an OFD package");
        }

        // 2. An Idempotency-Key retried on another node: the same certificate, not a second.
        let body = content("CL-IDEM-1");
        let first = nodes[0].api(
            "POST",
            "/api/v1/certificates",
            body.as_bytes(),
            Some("cluster-key-1"),
        );
        assert_eq!(first.status, 201, "{}", first.text());
        let again = nodes[1].api(
            "POST",
            "/api/v1/certificates",
            body.as_bytes(),
            Some("cluster-key-1"),
        );
        assert!(again.status < 300, "{}", again.text());
        assert_eq!(again.json()["identifier"], first.json()["identifier"]);
        assert_eq!(
            psql(
                &db,
                "SELECT count(*) FROM certificates WHERE number = 'CL-IDEM-1'"
            ),
            "1"
        );

        // 3. A revision through node 0 shows as void on node 2 within a second, although
        // node 2 has the page cached.
        let url = first.json()["verify_url"].as_str().unwrap().to_owned();
        let page = &url[url.find("/v/").unwrap()..];
        let before = request(nodes[2].addr, "GET", page, &[], b"");
        assert_eq!(before.status, 200);
        assert!(!before.text().contains("作废"), "current before");
        let r = nodes[0].api(
            "POST",
            "/api/v1/certificates/CL-IDEM-1/revisions",
            content("CL-IDEM-1-R1").as_bytes(),
            None,
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let revised_at = Instant::now();
        let seen = loop {
            let now = request(nodes[2].addr, "GET", page, &[], b"");
            if now.text().contains("作废") {
                break revised_at.elapsed();
            }
            assert!(
                revised_at.elapsed() < Duration::from_secs(1),
                "node 2 still shows the revised certificate as current after 1 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(seen < Duration::from_secs(1), "{seen:?}");

        // 4. A node killed with SIGKILL under load: what it acknowledged is all there.
        let acknowledged = std::sync::Mutex::new(Vec::new());
        let victim_addr = nodes[2].addr;
        std::thread::scope(|s| {
            let ack = &acknowledged;
            let load = s.spawn(move || {
                for i in 0..200 {
                    let number = format!("CL-KILL-{i}");
                    // (a request cut off by the kill has no answer: the load ends there)
                    let answered = std::panic::catch_unwind(|| {
                        api(
                            victim_addr,
                            "POST",
                            "/api/v1/certificates",
                            content(&number).as_bytes(),
                            None,
                        )
                    });
                    let Ok(r) = answered else { break };
                    if r.status == 201 {
                        ack.lock().unwrap().push(number);
                    } else {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(60);
            while acknowledged.lock().unwrap().len() < 3 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            nodes[2].kill();
            load.join().unwrap();
        });
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(acknowledged.len() >= 3, "{acknowledged:?}");
        for number in &acknowledged {
            let r = nodes[0].api(
                "GET",
                &format!("/api/v1/certificates/{number}/file"),
                b"",
                None,
            );
            assert_eq!(r.status, 200, "{number} was acknowledged: {}", r.text());
        }

        // 5. One chain, intact, written by every node.
        drop(nodes);
        let out = Command::new(env!("CARGO_BIN_EXE_ecert"))
            .arg("--dir")
            .arg(&dir)
            .args(["audit", "verify"])
            .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
    psql(
        &format!("{}/postgres", pg_server()),
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}
