//! A real S3-compatible server on loopback for the bucket replica tests: `moto` in server mode
//! (PyPI `moto[server]`, installed by `scripts/setup` into `$ECERT_ORACLE_VENV`, default
//! `/opt/ecert-oracles`), one per test, killed on drop. Shared by the tests of `ecert-store`
//! and `ecert`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the tests sign with (moto accepts any).
pub const ACCESS_KEY: &str = "ecert-test-key";
/// Its secret.
pub const SECRET_KEY: &str = "ecert-test-secret";

/// A running `moto_server`.
pub struct Moto {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        let venv =
            std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
        let bin = format!("{venv}/bin/moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {bin}: {e}. The bucket tests need moto in server mode: run \
                     `bash scripts/setup` (it installs .ci/packages/*.pip)"
                )
            });
        let moto = Moto { port, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if moto.http("GET", "/moto-api/data.json").is_some() {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not answer on port {port} within 30 s");
    }

    /// Its endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes a bucket (path-style `PUT /bucket`).
    pub fn create_bucket(&self, bucket: &str) {
        let status = self
            .http("PUT", &format!("/{bucket}"))
            .expect("moto answers");
        assert_eq!(status, 200, "creating bucket {bucket}");
    }

    /// One plain HTTP request; the status, or `None` when nothing answered.
    fn http(&self, method: &str, path: &str) -> Option<u16> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).ok()?;
        let line = String::from_utf8_lossy(&answer);
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
