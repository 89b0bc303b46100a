//! Several `ecert serve` nodes on loopback over one PostgreSQL database and two buckets of a
//! real S3 server (moto), for `tests/cluster.rs` and `benches/cluster.rs`: the instance, the
//! nodes (started with the buckets' credentials in their environment, killed on drop) and signed
//! API requests.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecert::config::{Config, S3Config};
use ecert::service::{Actor, Instance};
use ecert_store::ClientCredential;
use serde_json::Value;

use crate::moto;
use crate::serve_support::{CALIBRATION, CLIENT, Resp, SECRET, nonce, request, signed_headers};

pub fn pg_server() -> String {
    std::env::var("ECERT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn psql(db: &str, sql: &str) -> String {
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
pub struct Node {
    /// Its address.
    pub addr: SocketAddr,
    child: Child,
}

impl Node {
    pub fn start(dir: &Path) -> Node {
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

    pub fn api(&self, method: &str, path: &str, body: &[u8], key: Option<&str>) -> Resp {
        api(self.addr, method, path, body, key)
    }

    /// User + system CPU time of the process so far (from `/proc`).
    pub fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            return Duration::ZERO;
        };
        let f: Vec<&str> = after.split_whitespace().collect();
        // utime and stime: fields 14 and 15 of stat, 12th and 13th after the name
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| f.get(i).and_then(|x| x.parse::<u64>().ok()))
            .sum();
        Duration::from_millis(ticks * 10)
    }

    pub fn kill(&mut self) {
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
pub fn api(addr: SocketAddr, method: &str, path: &str, body: &[u8], key: Option<&str>) -> Resp {
    let h = signed_headers(SECRET, method, path, body, unix_now(), &nonce());
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("Content-Type", "application/json"));
    if let Some(k) = key {
        all.push(("Idempotency-Key", k));
    }
    request(addr, method, path, &all, body)
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn content(number: &str) -> String {
    let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v.to_string()
}

pub fn bucket(moto: &moto::Moto, name: &str) -> S3Config {
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

/// A demo instance ([`instance`]) in a temporary folder, on a new PostgreSQL database named
/// `{prefix}_{nonce}` and two buckets (`ecert-a`, `ecert-b`) of a moto server of its own; the
/// database is dropped with it, also when a test fails.
pub struct Cluster {
    pub moto: moto::Moto,
    /// The database's URL.
    pub db: String,
    /// The instance folder.
    pub dir: PathBuf,
    name: String,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    pub fn new(prefix: &str) -> Self {
        let moto = moto::Moto::start();
        moto.create_bucket("ecert-a");
        moto.create_bucket("ecert-b");
        let name = format!("{prefix}_{}", nonce());
        psql(
            &format!("{}/postgres", pg_server()),
            &format!("CREATE DATABASE {name}"),
        );
        let tmp = tempfile::tempdir().unwrap();
        let c = Cluster {
            moto,
            db: format!("{}/{name}", pg_server()),
            dir: tmp.path().join("instance"),
            name,
            _tmp: tmp,
        };
        instance(&c.dir, &c.db, &c.moto);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // (no assertion: this also runs while a failed test unwinds)
        let _ = Command::new("psql")
            .args([
                &format!("{}/postgres", pg_server()),
                "-tA",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// A demo instance on a new PostgreSQL database whose files go to two buckets only.
pub fn instance(dir: &Path, db: &str, moto: &moto::Moto) {
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
