//! Internal failures of `ecert serve` (the environment failing under a running server): the
//! client sees only "服务器内部错误 (internal error, id …)" — in the API's JSON, in a page's
//! HTML and JSON — and the server's log has that id with the whole cause.
#![allow(clippy::unwrap_used)]

mod serve_support;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use serve_support::{CALIBRATION, Resp, nonce, now, request, signed_headers};

const ECERT: &str = env!("CARGO_BIN_EXE_ecert");

fn ecert(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(ECERT)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ecert {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stops the server this test started, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the log holds a line with `needle`, and returns that line.
fn log_line(log: &Path, needle: &str) -> String {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "no log line with {needle:?} in:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Nothing of the cause reaches the client: not the path, not the replica, not the OS error.
fn assert_no_internals(r: &Resp, instance: &Path) {
    let text = r.text();
    for leak in [
        "replica",
        "directory",
        "No such file",
        "Not a directory",
        &instance.display().to_string(),
    ] {
        assert!(!text.contains(leak), "{leak:?} shown to the client: {text}");
    }
}

#[test]
fn internal_errors_show_an_id_and_log_the_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = tmp.path().join("inst");
    ecert(&inst, &["init", "--demo"]);
    let added = ecert(&inst, &["api-client", "add", serve_support::CLIENT]);
    let secret = added
        .lines()
        .find(|l| l.starts_with("ecs_"))
        .unwrap()
        .trim()
        .to_owned();
    // The page below downloads the file: public downloads on (`[public] download`).
    let mut config = ecert::config::Config::load(&inst).unwrap();
    config.public.download = true;
    config.save(&inst).unwrap();
    let log = tmp.path().join("serve.log");
    let mut child = Command::new(ECERT)
        .arg("--dir")
        .arg(&inst)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ECERT_LOG", "info")
        .env("ECERT_LOG_FORMAT", "text")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("address printed")
        .parse()
        .unwrap();
    let issue = |number: &str| {
        let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
        v["certificateNo"] = number.into();
        let body = v.to_string();
        let path = "/api/v1/certificates";
        let h = signed_headers(&secret, "POST", path, body.as_bytes(), now(), &nonce());
        let mut headers: Vec<(&str, &str)> =
            h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        headers.push(("Content-Type", "application/json"));
        request(addr, "POST", path, &headers, body.as_bytes())
    };

    let r = issue("ERR-0001");
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["verify_url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();

    // One replica folder becomes a file under the running server: storing fails.
    let replica_b = inst.join("data/replica-b");
    std::fs::remove_dir_all(&replica_b).unwrap();
    std::fs::write(&replica_b, b"not a folder").unwrap();
    let r = issue("ERR-0002");
    assert_eq!(r.status, 500, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(e["code"], "internal");
    let id = e["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {}", r.text()))
        .to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(
        e["message"],
        format!("服务器内部错误 (internal error, id {id})").as_str()
    );
    assert_no_internals(&r, &inst);
    // The log has the id with the cause.
    let logged = log_line(&log, &id);
    assert!(logged.contains("replica"), "{logged}");

    // A page: the certificate's file is gone from every replica.
    for entry in walk(&inst.join("data/replica-a")) {
        std::fs::remove_file(entry).unwrap();
    }
    let page = format!("/v/{token}/file");
    let html = request(addr, "GET", &page, &[], b"");
    assert_eq!(html.status, 500);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let text = html.text();
    let id_html = text
        .split("internal error, id ")
        .nth(1)
        .and_then(|s| s.get(..16))
        .expect("an id on the page")
        .to_owned();
    assert!(text.contains("服务器内部错误"), "{text}");
    assert_no_internals(&html, &inst);
    let logged = log_line(&log, &id_html);
    assert!(logged.contains("no intact copy"), "{logged}");
    let json = request(addr, "GET", &page, &[("Accept", "application/json")], b"");
    assert_eq!(json.status, 500);
    let id_json = json.json()["error"]["id"].as_str().unwrap().to_owned();
    assert_ne!(id_json, id_html, "every failure its own id");
    assert_no_internals(&json, &inst);
    log_line(&log, &id_json);
    drop(server);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
