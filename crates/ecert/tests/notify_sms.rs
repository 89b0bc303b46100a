//! R-6.2a: codes by SMS through Alibaba Cloud SMS (`SendSms`, RPC signature v1.0, HMAC-SHA1),
//! sent to a receiver on loopback that recomputes the signature from the received form with an
//! independent implementation (Python's `hmac`, `hashlib`, `urllib.parse`), answers as the
//! gateway does, and records what it saw.

mod portal_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecert::config::{NotifyConfig, SmsConfig, SmsProvider};
use ecert::service::notify::{Channel, ChannelKind, Notifier, NotifyError, Purpose};

/// The receiver: the secret comes from a file, each request becomes a JSON record.
const RECEIVER: &str = r#"
import base64, hashlib, hmac, json, os, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

secret = open(sys.argv[1], encoding="utf-8").read().splitlines()[0].strip()
out = sys.argv[2]
count = [0]

def enc(s):
    # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are (quote keeps "_.-" and alphanumerics).
    return urllib.parse.quote(s, safe="~")

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("ascii")
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
        params = dict(pairs)
        got = params.pop("Signature", "")
        canonical = "&".join(enc(k) + "=" + enc(v) for k, v in sorted(params.items()))
        to_sign = "POST&" + enc("/") + "&" + enc(canonical)
        key = (secret + "&").encode("utf-8")
        want = base64.b64encode(hmac.new(key, to_sign.encode("utf-8"), hashlib.sha1).digest()).decode()
        ok = hmac.compare_digest(want, got)
        count[0] += 1
        record = {"path": self.path, "content_type": self.headers.get("Content-Type", ""),
                  "params": params, "signature": got, "expected": want, "match": ok,
                  "received_at": int(time.time()), "pairs": len(pairs)}
        with open(os.path.join(out, "%04d.json" % count[0]), "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        if ok:
            status, body = 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                                 "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}
        else:
            status, body = 400, {"Code": "SignatureDoesNotMatch",
                                 "Message": "Specified signature is not matched with our calculation.",
                                 "RequestId": "1A0B2C3D-0000-4000-8000-000000000000"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

struct Receiver {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Receiver {
    /// Starts the receiver knowing `secret`.
    fn start(secret: &str) -> Receiver {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("receiver.py"), RECEIVER).expect("script");
        std::fs::write(dir.path().join("secret"), format!("{secret}\n")).expect("secret");
        std::fs::create_dir(dir.path().join("requests")).expect("requests");
        let mut child = Command::new(portal_support::debian_python())
            .arg(dir.path().join("receiver.py"))
            .arg(dir.path().join("secret"))
            .arg(dir.path().join("requests"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (Debian package python3)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port line");
        let port = line.trim().parse().expect("the receiver prints its port");
        Receiver { port, dir, child }
    }

    fn records(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path().join("requests"))
            .expect("requests")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json")
            })
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ACCESS_KEY_ID: &str = "LTAI5tTestKeyId0123";
const SECRET: &str = "testSecret+/=*~ 9Zk";

fn sms_config(port: u16, templates: &[(&str, &str)]) -> SmsConfig {
    SmsConfig {
        provider: SmsProvider::Aliyun,
        endpoint: format!("http://127.0.0.1:{port}/"),
        region_id: "cn-hangzhou".into(),
        access_key_id: ACCESS_KEY_ID.into(),
        access_key_secret_file: Some("aliyun.secret".into()),
        access_key_secret_env: None,
        sign_name: "示例计量".into(),
        templates: templates
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        code_param: "code".into(),
        timeout_secs: 10,
    }
}

/// A notifier whose secret file holds `secret`.
fn notifier(port: u16, secret: &str, templates: &[(&str, &str)]) -> (Notifier, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("aliyun.secret"), format!("{secret}\n")).expect("secret");
    let cfg = NotifyConfig {
        sms: Some(sms_config(port, templates)),
        ..NotifyConfig::default()
    };
    let n =
        Notifier::from_config(&cfg, false, dir.path(), "示例市计量测试研究院").expect("notifier");
    (n, dir)
}

#[test]
fn r_6_2a_aliyun_request_signature_matches_an_independent_implementation() {
    let receiver = Receiver::start(SECRET);
    let (n, _dir) = notifier(
        receiver.port,
        SECRET,
        &[("download", "SMS_100000001"), ("default", "SMS_100000009")],
    );
    assert!(n.can_send(ChannelKind::Mobile) && !n.can_send(ChannelKind::Email));
    let to = Channel::mobile("138 1234 5678").expect("mobile");
    let sent = n
        .send_code(&to, "482913", Purpose::Download, "示例市计量测试研究院")
        .expect("the gateway accepted the signature");
    assert_eq!(sent.gateway, "aliyun");
    assert!(!sent.demo);
    n.send_code(&to, "777111", Purpose::Login, "示例市计量测试研究院")
        .expect("second request");

    let records = receiver.records();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["match"], true, "{r}");
        assert_eq!(r["signature"], r["expected"]);
        assert!(
            r["content_type"]
                .as_str()
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")),
            "{r}"
        );
        let p = &r["params"];
        assert_eq!(p["Action"], "SendSms");
        assert_eq!(p["Version"], "2017-05-25");
        assert_eq!(p["Format"], "JSON");
        assert_eq!(p["SignatureMethod"], "HMAC-SHA1");
        assert_eq!(p["SignatureVersion"], "1.0");
        assert_eq!(p["AccessKeyId"], ACCESS_KEY_ID);
        assert_eq!(p["RegionId"], "cn-hangzhou");
        assert_eq!(p["PhoneNumbers"], "13812345678");
        assert_eq!(p["SignName"], "示例计量");
        // No parameter twice, nothing else than the documented ones.
        assert_eq!(r["pairs"].as_u64(), Some(14));
        // Timestamp: ISO 8601 UTC, within a minute of the receiver's clock.
        let ts = p["Timestamp"].as_str().expect("Timestamp");
        assert_eq!(ts.len(), 20, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    }
    let p0 = &records[0]["params"];
    let p1 = &records[1]["params"];
    assert_eq!(p0["TemplateCode"], "SMS_100000001");
    assert_eq!(
        p1["TemplateCode"], "SMS_100000009",
        "default template for login"
    );
    let param: serde_json::Value =
        serde_json::from_str(p0["TemplateParam"].as_str().expect("TemplateParam")).expect("JSON");
    assert_eq!(param, serde_json::json!({ "code": "482913" }));
    assert_ne!(p0["SignatureNonce"], p1["SignatureNonce"], "nonce unique");
    assert!(p0["SignatureNonce"].as_str().is_some_and(|s| s.len() == 32));
}

#[test]
fn r_6_2a_a_wrong_secret_is_detected_by_the_receiver_and_reported() {
    let receiver = Receiver::start(SECRET);
    let (n, _dir) = notifier(receiver.port, "not-the-secret", &[("default", "SMS_1")]);
    let to = Channel::mobile("13812345678").expect("mobile");
    let e = n
        .send_code(&to, "482913", Purpose::Login, "示例市计量测试研究院")
        .expect_err("signature refused");
    assert!(matches!(e, NotifyError::Sms(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.starts_with("短信发送失败") && m.contains("SignatureDoesNotMatch") && m.contains("400"),
        "{m}"
    );
    let records = receiver.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["match"], false);
    assert_ne!(records[0]["signature"], records[0]["expected"]);
}

#[test]
fn r_6_2a_configuration_problems_are_named_and_console_is_demo_only() {
    // A purpose without its template and without a default: refused before anything is sent.
    let receiver = Receiver::start(SECRET);
    let (n, _dir) = notifier(receiver.port, SECRET, &[("register", "SMS_1")]);
    let to = Channel::mobile("13812345678").expect("mobile");
    let e = n
        .send_code(&to, "482913", Purpose::Download, "X")
        .expect_err("no template");
    assert!(e.to_string().contains("download"), "{e}");
    assert!(receiver.records().is_empty());

    let dir = tempfile::tempdir().expect("tmp");
    let mut cfg = sms_config(receiver.port, &[("bogus", "SMS_1")]);
    let e = Notifier::from_config(
        &NotifyConfig {
            sms: Some(cfg.clone()),
            ..NotifyConfig::default()
        },
        false,
        dir.path(),
        "X",
    )
    .expect_err("unknown purpose");
    assert!(e.to_string().contains("bogus"), "{e}");

    // No secret file: named.
    cfg.templates = [("default".to_owned(), "SMS_1".to_owned())].into();
    let e = Notifier::from_config(
        &NotifyConfig {
            sms: Some(cfg.clone()),
            ..NotifyConfig::default()
        },
        false,
        dir.path(),
        "X",
    )
    .expect_err("no secret");
    assert!(e.to_string().contains("aliyun.secret"), "{e}");

    // The console gateway: demo instances only, and it says so.
    cfg.provider = SmsProvider::Console;
    let console = NotifyConfig {
        sms: Some(cfg),
        ..NotifyConfig::default()
    };
    let e = Notifier::from_config(&console, false, Path::new("."), "X").expect_err("production");
    assert!(matches!(e, NotifyError::DemoOnly), "{e:?}");
    assert!(e.to_string().contains("演示"));
    let demo = Notifier::from_config(&console, true, Path::new("."), "X").expect("demo");
    assert!(demo.is_demo());
    let sent = demo
        .send_code(&to, "123456", Purpose::Login, "X")
        .expect("printed");
    assert!(sent.demo && sent.gateway == "console");
    std::thread::sleep(Duration::from_millis(10));
}
