//! Shared by the `serve_*` tests: a demo instance with issued, revised and supplemented
//! certificates, served over real HTTP on 127.0.0.1 by the library's own server, and a small
//! HTTP/1.1 client on std's TcpStream (no client library between the test and the wire).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use ecert::config::Config;
use ecert::service::Instance;
use ecert_store::ClientCredential;
use serde_json::Value;

pub const CALIBRATION: &str = include_str!("../../../../examples/calibration.json");
pub const VERIFICATION: &str = include_str!("../../../../examples/verification.json");
pub const NOTICE: &str = include_str!("../../../../examples/verification-notice.json");
pub const SUPPLEMENT: &str = include_str!("../../../../examples/supplement.json");

/// A certificate issued only to be supplemented (R-6.4.2), so that the others keep their status.
pub const SUPPLEMENTED_NUMBER: &str = "JZ2024-000900";

/// The revision's new number (as in `ecert demo`).
pub const REVISED_NUMBER: &str = "JD2024-000789";
/// The original that it voids.
pub const ORIGINAL_NUMBER: &str = "JD2024-000456";

pub const CLIENT: &str = "lims-test";
pub const SECRET: &str = "ecs_test_secret_0123456789abcdef0123456789abcdef";

pub struct Cert {
    pub number: String,
    pub token: String,
    pub check_code: String,
    pub file: Vec<u8>,
}

/// A supplement with its own 2D code (R-6.4.2).
pub struct Supp {
    pub number: String,
    pub token: String,
    pub original: String,
    pub file: Vec<u8>,
}

pub struct Fixture {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub certs: HashMap<String, Cert>,
    pub supplement: Supp,
    pub runtime: tokio::runtime::Runtime,
    pub app: ecert::web::App,
}

impl Fixture {
    pub fn cert(&self, number: &str) -> &Cert {
        self.certs
            .get(number)
            .unwrap_or_else(|| panic!("fixture has no certificate {number}"))
    }
    pub fn instance(&self) -> &Instance {
        self.app.instance()
    }
    /// Runs a future on the fixture's runtime.
    pub fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
    pub fn audit_len(&self) -> u64 {
        self.block(self.instance().verify_audit())
            .expect("audit chain")
            .entries
    }
    /// Number of certificate records.
    pub fn certificate_count(&self) -> usize {
        self.block(
            self.instance()
                .list_certificates(&ecert_store::CertificateQuery {
                    limit: 1000,
                    ..Default::default()
                }),
        )
        .expect("list")
        .len()
    }
    /// Files in the replica folders (certificate files; not the audit checkpoints beside them).
    pub fn blob_count(&self) -> usize {
        fn walk(p: &std::path::Path) -> usize {
            std::fs::read_dir(p)
                .map(|d| {
                    d.flatten()
                        .map(|e| {
                            let p = e.path();
                            if p.ends_with("audit-checkpoints") {
                                0
                            } else if p.is_dir() {
                                walk(&p)
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.dir.join("data/replica-a")) + walk(&self.dir.join("data/replica-b"))
    }
}

/// The fixture's store opened a second time, for what a test looks at beneath the service
/// (the audit chain's entries, the download log, idempotency keys, a certificate marked
/// disposed without waiting six years): the service keeps its own store to itself.
pub fn store() -> &'static ecert_store::Store {
    static S: OnceLock<ecert_store::Store> = OnceLock::new();
    S.get_or_init(|| {
        let f = fixture();
        f.block(open_store(&f.dir))
    })
}

/// The store of the instance in `dir`, as `Instance::open` opens it.
pub async fn open_store(dir: &std::path::Path) -> ecert_store::Store {
    let config = Config::load(dir).expect("configuration");
    let replicas = config.storage.open_replicas(dir).expect("replicas");
    let mut store = ecert_store::Store::open(&config.database_url(dir), replicas)
        .await
        .expect("store");
    let key = std::fs::read_to_string(Config::resolve(dir, &config.storage.master_key_file))
        .expect("master key");
    let key = ecert_store::MasterKey::from_hex(key.trim()).expect("master key");
    ecert::service::enable_audit_key(&mut store, &key)
        .await
        .expect("audit key");
    store
}

fn token_of(url: &str) -> String {
    url.rsplit("/v/").next().expect("token in URL").to_owned()
}

/// One shared server per test binary.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ecert-serve-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (app, certs, supplement, addr) = runtime.block_on(async {
            // On disk no scheduled scrub, so that an `ecert serve` a test starts on this folder
            // does not scrub beside the test of the schedule (which sets its own below).
            let mut config = Config::demo();
            config.storage.scrub_every_hours = 0;
            let mut instance = Instance::init(&dir, config).await.expect("init");
            instance.config.storage.scrub_every_hours = 168;
            instance.create_trial_seals().await.expect("trial seals");
            let mut certs = HashMap::new();
            for json in [CALIBRATION, VERIFICATION, NOTICE] {
                let i = instance
                    .issue(json, &ecert::service::Actor::local("test"))
                    .await
                    .expect("issue");
                certs.insert(
                    i.record.number.clone(),
                    Cert {
                        number: i.record.number.clone(),
                        token: token_of(&i.verify_url),
                        check_code: i.check_code.to_string(),
                        file: i.file.clone(),
                    },
                );
            }
            let mut revised: Value = serde_json::from_str(VERIFICATION).expect("json");
            revised["certificateNo"] = REVISED_NUMBER.into();
            let i = instance
                .revise(
                    ORIGINAL_NUMBER,
                    &revised.to_string(),
                    &ecert::service::Actor::local("test"),
                )
                .await
                .expect("revise");
            certs.insert(
                i.record.number.clone(),
                Cert {
                    number: i.record.number.clone(),
                    token: token_of(&i.verify_url),
                    check_code: i.check_code.to_string(),
                    file: i.file.clone(),
                },
            );
            let mut extra: Value = serde_json::from_str(CALIBRATION).expect("json");
            extra["certificateNo"] = SUPPLEMENTED_NUMBER.into();
            let i = instance
                .issue(&extra.to_string(), &ecert::service::Actor::local("test"))
                .await
                .expect("issue the certificate to supplement");
            certs.insert(
                i.record.number.clone(),
                Cert {
                    number: i.record.number.clone(),
                    token: token_of(&i.verify_url),
                    check_code: i.check_code.to_string(),
                    file: i.file.clone(),
                },
            );
            let s = instance
                .supplement(
                    SUPPLEMENTED_NUMBER,
                    SUPPLEMENT,
                    &ecert::service::Actor::local("test"),
                )
                .await
                .expect("supplement");
            let supplement = Supp {
                number: s.record.number.clone(),
                token: token_of(&s.verify_url),
                original: SUPPLEMENTED_NUMBER.to_owned(),
                file: s.file.clone(),
            };
            instance
                .add_api_client(
                    CLIENT,
                    ClientCredential::SharedSecret(SECRET.as_bytes()),
                    &ecert::service::Actor::local("test"),
                )
                .await
                .expect("api client");
            // The shared server is not the place to test rate limits (serve_http has its own).
            instance.config.server.lookup_per_minute = 0;
            instance.config.server.verify_per_minute = 0;
            // Every refusal of the shared server's tests recorded one by one (the bound of a
            // flood is tested on a server of its own).
            instance.config.server.refusals_logged_per_address = u32::MAX;
            instance.config.server.refusals_logged_per_minute = u32::MAX;
            // Nor the defaults of what is public (serve_public tests those on servers of
            // their own): here the files can be downloaded and the counters read.
            instance.config.public.download = true;
            instance.config.server.metrics_public = true;
            let app = ecert::web::App::new(instance).expect("app");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let served = app.clone();
            tokio::spawn(async move {
                ecert::web::serve(served, listener, std::future::pending())
                    .await
                    .expect("serve");
            });
            (app, certs, supplement, addr)
        });
        Fixture {
            addr,
            dir,
            certs,
            supplement,
            runtime,
            app,
        }
    })
}

/// A server of its own over the shared fixture's instance, with its configuration as
/// `ecert.toml` says (the defaults) and then `configure`d (the handle keeps it running).
pub fn own_server(
    configure: impl FnOnce(&mut Config),
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let f = fixture();
    f.block(async {
        let mut instance = Instance::open(&f.dir).await.expect("open");
        configure(&mut instance.config);
        let app = ecert::web::App::new(instance).expect("app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let h = tokio::spawn(ecert::web::serve(app, listener, std::future::pending()));
        (addr, h)
    })
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): status {} {}", self.status, self.text()))
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..pos])
                    .split(';')
                    .next()
                    .unwrap_or("0")
                    .trim(),
                16,
            )
            .expect("chunk size");
            rest = &rest[pos + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    }) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // The server may answer (and close) before reading a large body: read concurrently.
    let mut reader = s.try_clone().expect("clone");
    let read = std::thread::spawn(move || {
        let mut raw = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        raw
    });
    let _ = s.write_all(head.as_bytes());
    for chunk in body.chunks(256 * 1024) {
        if s.write_all(chunk).is_err() {
            break;
        }
    }
    let raw = read.join().expect("reader");
    parse_response(&raw)
}

/// Percent-encoding of a form value (`application/x-www-form-urlencoded`, all but
/// unreserved characters escaped).
pub fn form_enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub fn get(path: &str) -> Resp {
    request(fixture().addr, "GET", path, &[], b"")
}

pub fn get_json(path: &str) -> Resp {
    request(
        fixture().addr,
        "GET",
        path,
        &[("Accept", "application/json")],
        b"",
    )
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A fresh random nonce.
pub fn nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("random");
    ecert_store::hex(&b)
}

/// Headers of a request signed with `secret` at time `ts` with `nonce`.
pub fn signed_headers(
    secret: &str,
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let ts = ts.to_string();
    let sig = ecert::web::auth::sign(secret.as_bytes(), method, path, &ts, nonce, body);
    vec![
        ("X-Ecert-Client".into(), CLIENT.into()),
        ("X-Ecert-Timestamp".into(), ts),
        ("X-Ecert-Nonce".into(), nonce.into()),
        ("X-Ecert-Signature".into(), sig),
    ]
}

/// A correctly signed API request (plus `extra` headers).
pub fn api(method: &str, path: &str, body: &[u8], extra: &[(&str, &str)]) -> Resp {
    let n = nonce();
    let h = signed_headers(SECRET, method, path, body, unix_now(), &n);
    send_with(method, path, body, &h, extra)
}

pub fn now() -> i64 {
    unix_now()
}

pub fn send_with(
    method: &str,
    path: &str,
    body: &[u8],
    h: &[(String, String)],
    extra: &[(&str, &str)],
) -> Resp {
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    if !body.is_empty()
        && !all
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        all.push(("Content-Type", "application/json"));
    }
    request(fixture().addr, method, path, &all, body)
}

/// The most recent audit entry.
pub fn last_audit() -> ecert_store::AuditEntry {
    let f = fixture();
    let head = f.block(store().audit_head()).expect("head");
    f.block(store().audit_entries(head.seq, head.seq))
        .expect("entries")
        .pop()
        .expect("an audit entry")
}

/// Sequence number of the newest audit entry.
pub fn audit_seq() -> i64 {
    let f = fixture();
    f.block(store().audit_head()).expect("head").seq
}

/// Audit entries written after `seq` whose details contain `needle`.
pub fn audit_after(seq: i64, needle: &str) -> Vec<ecert_store::AuditEntry> {
    let f = fixture();
    f.block(store().audit_entries(seq + 1, i64::MAX))
        .expect("entries")
        .into_iter()
        .filter(|e| e.details.contains(needle) || e.subject.contains(needle))
        .collect()
}

/// A well-formed OFD package without any signature and without our identifier.
pub fn unsigned_ofd() -> Vec<u8> {
    let mut p = ofd::package::Package::new();
    p.insert(
        "OFD.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>0123456789abcdef0123456789abcdef</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#.to_vec(),
    )
    .expect("insert");
    p.insert(
        "Doc_0/Document.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>2</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>"#.to_vec(),
    )
    .expect("insert");
    p.insert(
        "Doc_0/Pages/Page_0/Content.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2"/></ofd:Content></ofd:Page>"#.to_vec(),
    )
    .expect("insert");
    p.to_zip().expect("zip")
}

/// Tests that issue certificates or count records run one at a time.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// One part of a `multipart/form-data` body: name, file name (`None`: a text field), bytes.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body of `parts`, as a browser sends a form that uploads files, and
/// its `Content-Type`.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "ecert-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}
