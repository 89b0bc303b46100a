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

mod cluster_support;

use std::process::Command;
use std::time::{Duration, Instant};

use cluster_support::{Cluster, Node, api, content, psql};
use serve_support::request;

#[test]
fn r_6_5b_three_nodes_over_postgresql_and_s3_lose_nothing_and_issue_nothing_twice() {
    let cluster = Cluster::new("ecert_cluster");
    let (db, dir) = (&cluster.db, &cluster.dir);
    {
        let mut nodes: Vec<Node> = (0..3).map(|_| Node::start(dir)).collect();

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
                db,
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

        // Scheduled work is leased to one node at a time: one holder of each lease.
        let holder = psql(
            db,
            "SELECT substr(value, 18) FROM settings WHERE name = 'lease:checkpoint'",
        );
        assert!(!holder.is_empty(), "a node holds the checkpoint lease");
        assert_eq!(holder.lines().count(), 1);

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
                db,
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
            .arg(dir)
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
    }
}
