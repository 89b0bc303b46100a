//! Shared by the customer-portal tests (R-5.2.3, R-6.1, R-6.2, R-7.2.3): a real SMTP server on
//! loopback (Debian's `python3-aiosmtpd`) whose handler writes each message, decoded by Python's
//! own `email` package, into a folder as JSON; and extraction with Debian's `7zip`.
//!
//! A missing program fails the test with the Debian package to install (see
//! `.ci/packages/ecert-portal.apt`); nothing is skipped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Debian's Python, where `python3-aiosmtpd` installs (another `python3` first on PATH may lack
/// it).
pub fn debian_python() -> PathBuf {
    let p = PathBuf::from("/usr/bin/python3");
    if p.exists() {
        p
    } else {
        PathBuf::from("python3")
    }
}

/// The aiosmtpd handler: every message becomes `NNNNNN.json` in the folder given on the
/// command line, with the envelope and the decoded text part.
const HANDLER: &str = r#"
import email, email.policy, json, os, itertools

class Saver:
    counter = itertools.count(1)

    def __init__(self, folder):
        self.folder = folder

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Saver needs the output folder")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "content_type": msg.get_content_type(),
            "charset": part.get_content_charset() if part is not None else None,
            "body": part.get_content() if part is not None else "",
        }
        n = next(Saver.counter)
        tmp = os.path.join(self.folder, "%06d.tmp" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.folder, "%06d.json" % n))
        return "250 OK"
"#;

/// A message the SMTP server received, as Python decoded it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// `From:` header, decoded.
    pub from: String,
    /// `To:` header, decoded.
    pub to: String,
    /// `Subject:` header, decoded.
    pub subject: String,
    /// The text part, decoded from its transfer encoding and charset.
    pub body: String,
    /// Its charset.
    pub charset: Option<String>,
}

/// `python3 -m aiosmtpd` on a free loopback port, writing messages to a temporary folder;
/// killed on drop.
pub struct SmtpServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
    seen: std::cell::RefCell<Vec<PathBuf>>,
}

/// A port nobody listens on now (bound once and released).
/// `[notify.email]` for a relay on loopback at `port`.
pub fn smtp_config(port: u16, security: ecert::config::SmtpSecurity) -> ecert::config::SmtpConfig {
    ecert::config::SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        security,
        from: "noreply@metrology.example".into(),
        from_name: None,
        username: None,
        password_file: None,
        password_env: None,
        timeout_secs: 10,
        ca_file: None,
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl SmtpServer {
    /// Starts the server (plain SMTP) and waits for its greeting.
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(&[])
    }

    /// Starts the server with further `aiosmtpd` options (`--smtpscert C --smtpskey K` for
    /// implicit TLS, `--tlscert C --tlskey K` for STARTTLS) and waits until it listens.
    pub fn start_with(options: &[String]) -> SmtpServer {
        let tls = options.iter().any(|o| o == "--smtpscert");
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("messages");
        std::fs::create_dir(&out).expect("messages dir");
        std::fs::write(dir.path().join("ecert_smtp_saver.py"), HANDLER).expect("handler");
        let port = free_port();
        let child = Command::new(debian_python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(options)
            .args(["-c", "ecert_smtp_saver.Saver"])
            .arg(&out)
            .env("PYTHONPATH", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (Debian package python3-aiosmtpd)");
        let mut server = SmtpServer {
            port,
            dir,
            child,
            seen: Default::default(),
        };
        server.wait_ready(tls);
        server
    }

    /// Waits for the greeting (plain) or for the port to accept connections (implicit TLS).
    fn wait_ready(&mut self, tls: bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(e) = self.child.stderr.as_mut() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "the SMTP server stopped ({status}); install the Debian package python3-aiosmtpd: {err}"
                );
            }
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.port)) {
                if tls {
                    return;
                }
                s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut line = String::new();
                if BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("220") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server (python3-aiosmtpd) did not greet on port {} within 15 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The folder the messages go to.
    pub fn messages_dir(&self) -> PathBuf {
        self.dir.path().join("messages")
    }

    /// The next message not returned before whose envelope recipients include `to`; panics
    /// after `timeout`.
    pub fn wait_for_message(&self, to: &str, timeout: Duration) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.messages_dir())
                .expect("messages dir")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for f in files {
                if self.seen.borrow().contains(&f) {
                    continue;
                }
                let m = read_message(&f);
                if m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(to)) {
                    self.seen.borrow_mut().push(f);
                    return m;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no message to {to} within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many messages arrived so far.
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.messages_dir())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(path: &Path) -> Received {
    let text = std::fs::read_to_string(path).expect("message file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("message JSON");
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Received {
        mail_from: s("mail_from"),
        rcpt_tos: v["rcpt_tos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        from: s("from"),
        to: s("to"),
        subject: s("subject"),
        body: s("body"),
        charset: v["charset"].as_str().map(str::to_owned),
    }
}

/// The first run of 6 or more ASCII digits in the message's text (the one-time code).
pub fn code_in(msg: &Received) -> Option<String> {
    digits_in(&msg.body)
}

/// The first run of 6 or more ASCII digits in `text`.
pub fn digits_in(text: &str) -> Option<String> {
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else if run.len() >= 6 {
            return Some(run);
        } else {
            run.clear();
        }
    }
    None
}

/// Debian's 7-Zip command: `7z` (older packages, p7zip-full) or `7zz` (package `7zip`).
pub fn seven_zip() -> &'static str {
    for name in ["7zz", "7z"] {
        if Command::new(name)
            .arg("i")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return name;
        }
    }
    panic!("7-Zip is missing: install the Debian package 7zip");
}

/// Runs 7-Zip with `args`.
pub fn seven_zip_run(args: &[&str]) -> Output {
    Command::new(seven_zip())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("7-Zip runs (Debian package 7zip)")
}

/// Writes `zip` to `dir` and extracts it there with `7z x -p{password}`; the command's output
/// (check `status`).
pub fn seven_zip_extract(zip: &[u8], password: &str, dir: &Path) -> Output {
    std::fs::create_dir_all(dir).expect("extract dir");
    let file = dir.join("package.zip");
    std::fs::write(&file, zip).expect("write zip");
    let out_dir = format!("-o{}", dir.join("out").display());
    let pass = format!("-p{password}");
    let file = file.display().to_string();
    seven_zip_run(&["x", "-y", "-bd", &pass, &out_dir, &file])
}

/// `7z l -slt` of `zip` (written to `dir`): one map of `Key = Value` lines per entry.
pub fn seven_zip_list(
    zip: &[u8],
    password: &str,
    dir: &Path,
) -> Vec<std::collections::BTreeMap<String, String>> {
    std::fs::create_dir_all(dir).expect("list dir");
    let file = dir.join("listed.zip");
    std::fs::write(&file, zip).expect("write zip");
    let pass = format!("-p{password}");
    let file = file.display().to_string();
    let out = seven_zip_run(&["l", "-slt", &pass, &file]);
    assert!(
        out.status.success(),
        "7z l: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Entries follow the "----------" line, separated by blank lines.
    let Some((_, entries)) = text.split_once("\n----------\n") else {
        panic!("7z l -slt printed no entries:\n{text}");
    };
    entries
        .split("\n\n")
        .filter(|block| block.contains("Path = "))
        .map(|block| {
            block
                .lines()
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect()
        })
        .collect()
}

/// A test CA made with the `openssl` command (Debian package openssl) and a server certificate
/// it issued for 127.0.0.1 / localhost, in a temporary folder.
pub struct TestCa {
    pub dir: tempfile::TempDir,
    /// The CA's certificate (PEM).
    pub root: PathBuf,
    /// The server's certificate (PEM) and key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TestCa {
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().expect("tmp");
        let p = |n: &str| dir.path().join(n);
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl runs (Debian package openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            p("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=ecert test relay CA",
            "-days",
            "2",
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        TestCa {
            root: p("ca.pem"),
            server_cert: p("server.pem"),
            server_key: p("server.key"),
            dir,
        }
    }
}
