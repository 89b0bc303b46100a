//! The staff console over real HTTP (R-5.2.2, R-7.2.2b): staff accounts made by `ecert staff
//! add`, login with a password and, for the roles that need one, a TOTP code (RFC 6238) that
//! is never accepted twice; roles enforced by the service (an operator is refused the audit
//! check: 403, audited); lock-out after failed logins; CSRF and session fixation.
#![allow(clippy::unwrap_used)]

mod serve_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::OnceLock;

use ecert::service::totp;
use serve_support::*;

const PASSWORD: &str = "Pruefstempel-Konsole-2026";

/// One console server per test binary over the shared fixture's instance, with an
/// administrator, an auditor and an operator made by the command line.
struct Console {
    addr: SocketAddr,
    admin_secret: Vec<u8>,
    /// TOTP secrets of the other accounts that need one, by name.
    secrets: HashMap<String, Vec<u8>>,
}

fn console() -> &'static Console {
    static C: OnceLock<Console> = OnceLock::new();
    C.get_or_init(|| {
        let f = fixture();
        let pw = f.dir.join("staff-password.txt");
        std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
        let add = |name: &str, roles: &[&str]| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_ecert"));
            c.arg("--dir").arg(&f.dir).args(["staff", "add", name]);
            for r in roles {
                c.args(["--role", r]);
            }
            let out = c.arg("--password-file").arg(&pw).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let secret_of = |out: &str| {
            let s = out
                .lines()
                .skip_while(|l| !l.contains("TOTP secret"))
                .nth(1)
                .map(str::trim)
                .expect("the TOTP secret is printed once");
            totp::from_base32(s).unwrap()
        };
        let admin = add("li.admin", &["admin", "auditor"]);
        let admin_secret = secret_of(&admin);
        let mut secrets = HashMap::new();
        for (name, role) in [
            ("zhou.sealadmin", "seal_admin"),
            ("sun.approver", "approver"),
        ] {
            secrets.insert(name.to_owned(), secret_of(&add(name, &[role])));
        }
        assert!(admin.contains("otpauth://totp/"), "{admin}");
        let operator = add("wang.operator", &["operator"]);
        assert!(
            !operator.contains("otpauth"),
            "an operator needs no TOTP: {operator}"
        );
        add("zhao.locked", &["operator"]);
        add("qian.auditor", &["auditor"]);
        // The institute's own CA for the seal made in the console: its signer's key and
        // certificate as PEM files, its root trusted by the server.
        let ca = ses::demo::DemoCa::new("本院 CA").unwrap();
        let signer = ca
            .issue("检测签章人", ses::demo::Role::Signer, 365)
            .unwrap();
        std::fs::write(
            f.dir.join("own-signer.key.pem"),
            signer.key.to_pkcs8_pem().unwrap(),
        )
        .unwrap();
        std::fs::write(
            f.dir.join("own-signer.cert.pem"),
            ses::pki::Cert::from_der(&signer.cert_der).unwrap().to_pem(),
        )
        .unwrap();
        let root = f.dir.join("own-root.pem");
        std::fs::write(&root, ca.root_cert().unwrap().to_pem()).unwrap();
        let (addr, handle) = own_server(|c| {
            c.server.trust_roots.push(root.clone());
            c.portal.logins_per_minute = 10_000;
            c.portal.password.memory_kib = 8 * 1024;
            c.portal.password.iterations = 1;
        });
        std::mem::forget(handle);
        Console {
            addr,
            admin_secret,
            secrets,
        }
    })
}

struct Client {
    addr: SocketAddr,
    cookies: HashMap<String, String>,
}

impl Client {
    fn new() -> Client {
        Client {
            addr: console().addr,
            cookies: HashMap::new(),
        }
    }
    fn keep(&mut self, r: &Resp) {
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let first = v.split(';').next().unwrap();
                let (name, value) = first.split_once('=').unwrap();
                if v.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }
    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn get(&mut self, path: &str) -> Resp {
        let c = self.cookie();
        let r = request(self.addr, "GET", path, &[("Cookie", &c)], b"");
        self.keep(&r);
        r
    }
    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_enc(k), form_enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let c = self.cookie();
        let r = request(
            self.addr,
            "POST",
            path,
            &[
                ("Cookie", &c),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        self.keep(&r);
        r
    }
    fn post_multipart(&mut self, path: &str, parts: &[Part<'_>]) -> Resp {
        let (content_type, body) = multipart(parts);
        let c = self.cookie();
        let r = request(
            self.addr,
            "POST",
            path,
            &[("Cookie", &c), ("Content-Type", &content_type)],
            &body,
        );
        self.keep(&r);
        r
    }
    fn login(&mut self, name: &str, password: &str, code: &str) -> Resp {
        let page = self.get("/console/login").text();
        let csrf = hidden(&page, "csrf");
        self.post(
            "/console/login",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("password", password),
                ("totp", code),
            ],
        )
    }
}

fn hidden(page: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in {page}"));
    let rest = &page[at + needle.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Presses "确认盖章并签发" on a draft page: posts its confirming form as it is.
fn confirm(c: &mut Client, draft_page: &str) -> Resp {
    let at = draft_page
        .find("id=\"confirm\"")
        .unwrap_or_else(|| panic!("no confirming form in {draft_page}"));
    let form = &draft_page[at..];
    let fields: Vec<(&str, String)> = ["csrf", "purpose", "number", "content", "draft"]
        .into_iter()
        .map(|n| (n, html_unescape(&hidden(form, n))))
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post("/console/confirm", &fields)
}

fn html_unescape(s: &str) -> String {
    s.replace("&#43;", "+")
        .replace("&#x2B;", "+")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#x3D;", "=")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A code for the administrator never used before: the next step not yet used, within the
/// one-step skew the server accepts (waits for the clock when both are used).
fn admin_code() -> String {
    code_for(&console().admin_secret)
}

/// A code for the account with this secret never used before (per secret: the next step not
/// yet used, within the one-step skew the server accepts; waits for the clock when needed).
fn code_for(secret: &[u8]) -> String {
    static LAST: std::sync::Mutex<Vec<(Vec<u8>, u64)>> = std::sync::Mutex::new(Vec::new());
    let mut all = LAST.lock().unwrap();
    loop {
        let last = all.iter().find(|(s, _)| s == secret).map_or(0, |(_, l)| *l);
        let now_step = now() / totp::STEP_SECS;
        let next = now_step.max(last + 1);
        if next <= now_step + 1 {
            all.retain(|(s, _)| s != secret);
            all.push((secret.to_vec(), next));
            return totp::code_at(secret, next * totp::STEP_SECS);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Actions after `seq`.
fn actions_after(seq: i64, action: &str) -> Vec<ecert_store::AuditEntry> {
    let f = fixture();
    f.block(store().audit_entries(seq + 1, i64::MAX))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

#[test]
fn r_5_2_2_totp_login_dashboard_audit_check_and_no_replay() {
    let _s = serial();
    let c = console();
    // Wait for a fresh step, so that no earlier test used this one.
    let _ = c;
    let mut client = Client::new();
    let code = admin_code();
    // Without the code: refused.
    let r = client.login("li.admin", PASSWORD, "");
    assert_eq!(r.status, 401, "{}", r.text());
    let r = client.login("li.admin", PASSWORD, &code);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(client.cookies.contains_key("ecert_console"));
    let dash = client.get("/console");
    assert_eq!(dash.status, 200, "{}", dash.text());
    assert!(dash.text().contains("系统管理员"), "{}", dash.text());
    // Today's issuing is counted from the audit chain: the fixture issued its certificates
    // today.
    let text = dash.text();
    let at = text.find("今日签发").expect("today's issuing");
    let count: String = text[at..]
        .split("<dd>")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(count.parse::<u32>().unwrap() >= 5, "{text}");
    let seq = audit_seq();
    let audit = client.get("/console/audit");
    assert_eq!(audit.status, 200, "{}", audit.text());
    assert!(audit.text().contains("审计链完整"), "{}", audit.text());
    assert_eq!(actions_after(seq, "staff.audit_check").len(), 1);
    // The same code again, in another browser: refused (no replay), though the password is right.
    let mut other = Client::new();
    let r = other.login("li.admin", PASSWORD, &code);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(!other.cookies.contains_key("ecert_console"));
    // Log out needs the form token.
    let token = hidden(&client.get("/console").text(), "csrf");
    assert_eq!(
        client.post("/console/logout", &[("csrf", "00")]).status,
        403
    );
    assert_eq!(client.get("/console").status, 200);
    assert_eq!(
        client.post("/console/logout", &[("csrf", &token)]).status,
        303
    );
    assert_eq!(client.get("/console").status, 303);
}

#[test]
fn r_5_2_2_roles_are_enforced_and_refusals_audited() {
    let _s = serial();
    let _ = console();
    let mut op = Client::new();
    let planted = "cd".repeat(32);
    op.cookies.insert("ecert_console".into(), planted.clone());
    let r = op.login("wang.operator", PASSWORD, "");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_ne!(
        op.cookies["ecert_console"], planted,
        "a new session id at login"
    );
    let seq = audit_seq();
    let r = op.get("/console/audit");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("审计员"), "{}", r.text());
    let refused = actions_after(seq, "staff.refused");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].actor, "staff:wang.operator");
    assert!(actions_after(seq, "staff.audit_check").is_empty());
}

#[test]
fn staff_lockout_after_five_failures_and_the_same_answer_for_unknown_names() {
    let _s = serial();
    let _ = console();
    let mut c = Client::new();
    let unknown = c.login("nobody.here", PASSWORD, "");
    let wrong = c.login("zhao.locked", "not-the-password", "");
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let error = |r: &Resp| {
        let t = r.text();
        let at = t.find("id=\"error\"").unwrap();
        t[at..at + t[at..].find("</p>").unwrap()].to_owned()
    };
    assert_eq!(error(&unknown), error(&wrong));
    for _ in 0..4 {
        assert_eq!(c.login("zhao.locked", "not-the-password", "").status, 401);
    }
    // Locked now: the right password is refused too.
    let r = c.login("zhao.locked", PASSWORD, "");
    assert_eq!(r.status, 401, "{}", r.text());
}

/// Direct POSTs that skip the pages: each role is refused what it may not do (403), nothing
/// changes, and the refusal is audited.
#[test]
fn r_5_2_2_direct_posts_are_refused_to_the_wrong_roles() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let csrf = hidden(&op.get("/console").text(), "csrf");
    let seq = audit_seq();
    let before = f.block(f.instance().disposals(None)).unwrap().len();
    // An operator may propose but not approve or execute, nor add staff.
    for (path, fields) in [
        (
            "/console/disposals/approve",
            vec![("csrf", csrf.as_str()), ("number", "JZ2024-000123")],
        ),
        (
            "/console/disposals/execute",
            vec![("csrf", csrf.as_str()), ("number", "JZ2024-000123")],
        ),
        (
            "/console/staff",
            vec![
                ("csrf", csrf.as_str()),
                ("name", "mallory"),
                ("password", PASSWORD),
                ("role", "admin"),
            ],
        ),
    ] {
        let r = op.post(path, &fields);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    assert_eq!(actions_after(seq, "staff.refused").len(), 3);
    assert!(actions_after(seq, "staff.add").is_empty());
    assert_eq!(f.block(f.instance().disposals(None)).unwrap().len(), before);
    // An auditor reads but does not issue (a multipart upload, as the page sends it).
    let mut au = Client::new();
    assert_eq!(au.login("qian.auditor", PASSWORD, "").status, 303);
    let csrf = hidden(&au.get("/console").text(), "csrf");
    let count = f.certificate_count();
    let r = au.post_multipart(
        "/console/issue",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("content", Some("c.json"), CALIBRATION.as_bytes()),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("签发员"), "{}", r.text());
    assert_eq!(f.certificate_count(), count, "nothing issued");
    // The auditor runs the chain check.
    let r = au.get("/console/audit");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("审计链完整"));
}

/// An administrator adds an API client (the secret shown once, then only its name and state)
/// and disables it; the audit search finds the staff member's actions.
#[test]
fn r_5_2_2_api_clients_and_the_audit_search() {
    let _s = serial();
    let _ = console();
    let mut admin = Client::new();
    let r = admin.login("li.admin", PASSWORD, &admin_code());
    assert_eq!(r.status, 303, "{}", r.text());
    let page = admin.get("/console/api-clients").text();
    let csrf = hidden(&page, "csrf");
    let r = admin.post(
        "/console/api-clients",
        &[("csrf", &csrf), ("op", "add"), ("name", "lims-console")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("ecs_"),
        "the secret is shown once: {}",
        r.text()
    );
    let again = admin.get("/console/api-clients").text();
    assert!(
        again.contains("lims-console") && !again.contains("ecs_"),
        "{again}"
    );
    let r = admin.post(
        "/console/api-clients",
        &[("csrf", &csrf), ("op", "disable"), ("name", "lims-console")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let f = fixture();
    let clients = f.block(f.instance().api_clients()).unwrap();
    let c = clients.iter().find(|c| c.name == "lims-console").unwrap();
    assert!(!c.enabled);
    // The audit search by actor and action.
    let found = admin
        .get("/console/audit?actor=staff%3Ali.admin&action=api_client.add")
        .text();
    assert!(
        found.contains("lims-console") || found.contains("api_client"),
        "{found}"
    );
    let none = admin.get("/console/audit?actor=staff%3Anobody").text();
    assert!(none.contains("没有符合条件的记录"), "{none}");
    // An operator cannot see the clients.
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    assert_eq!(op.get("/console/api-clients").status, 403);
}

/// A seal is retired by two persons: the seal administrator proposes (and cannot approve), an
/// approver approves; until then the seal stays in use.
#[test]
fn r_5_2_2_seal_retirement_takes_two_persons() {
    let _s = serial();
    let f = fixture();
    let c = console();
    let seal = f
        .block(f.instance().seals())
        .unwrap()
        .into_iter()
        // (not the calibration seal: the supplement test of this file seals with it)
        .find(|s| s.active && !s.name.contains("校准"))
        .unwrap();
    let mut sa = Client::new();
    let r = sa.login(
        "zhou.sealadmin",
        PASSWORD,
        &code_for(&c.secrets["zhou.sealadmin"]),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let csrf = hidden(&sa.get("/console/seals").text(), "csrf");
    let r = sa.post(
        "/console/seals",
        &[("csrf", &csrf), ("op", "propose"), ("seal", &seal.id)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = sa.post(
        "/console/seals",
        &[("csrf", &csrf), ("op", "approve"), ("seal", &seal.id)],
    );
    assert_eq!(
        r.status,
        403,
        "the proposer's role may not approve: {}",
        r.text()
    );
    let still = f.block(f.instance().seals()).unwrap();
    assert!(
        still.iter().any(|s| s.id == seal.id && s.active),
        "still in use"
    );
    let mut ap = Client::new();
    let r = ap.login(
        "sun.approver",
        PASSWORD,
        &code_for(&c.secrets["sun.approver"]),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let page = ap.get("/console/seals").text();
    assert!(page.contains("批准停用"), "{page}");
    let csrf = hidden(&page, "csrf");
    let seq = audit_seq();
    let r = ap.post(
        "/console/seals",
        &[("csrf", &csrf), ("op", "approve"), ("seal", &seal.id)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let after = f.block(f.instance().seals()).unwrap();
    assert!(
        after.iter().any(|s| s.id == seal.id && !s.active),
        "retired"
    );
    let retired = actions_after(seq, "seal.retire");
    assert_eq!(retired.len(), 1);
    assert!(retired[0].details.contains("staff:zhou.sealadmin"));
    assert_eq!(retired[0].actor, "staff:sun.approver");
}

/// An administrator sees the customer accounts, locks one (it can no longer log in, by any
/// route) and unlocks it, and binds a certificate to a customer's address.
#[test]
fn r_5_2_3_customer_accounts_from_the_console() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let account = f
        .block(
            f.instance()
                .portal_demo_customer("console.customer@example.com", "Kunde-Konsole-2026"),
        )
        .unwrap();
    let login = || {
        f.block(f.instance().portal_login_password(
            &ecert::service::notify::Channel::email("console.customer@example.com").unwrap(),
            zeroize::Zeroizing::new("Kunde-Konsole-2026".into()),
            None,
        ))
        .is_ok()
    };
    assert!(login());
    let mut admin = Client::new();
    assert_eq!(admin.login("li.admin", PASSWORD, &admin_code()).status, 303);
    let page = admin.get("/console/customers").text();
    assert!(page.contains("console.customer@example.com"), "{page}");
    let csrf = hidden(&page, "csrf");
    let r = admin.post(
        "/console/customers",
        &[("csrf", &csrf), ("op", "lock"), ("account", &account.id)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!login(), "a locked account does not log in");
    let r = admin.post(
        "/console/customers",
        &[("csrf", &csrf), ("op", "unlock"), ("account", &account.id)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(login());
    let r = admin.post(
        "/console/customers",
        &[
            ("csrf", &csrf),
            ("op", "bind"),
            ("number", "JT2024-000077"),
            ("email", "console.customer@example.com"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = f
        .block(f.instance().binding_of_number("JT2024-000077"))
        .unwrap()
        .unwrap();
    assert_eq!(
        b.contact.email.as_deref(),
        Some("console.customer@example.com")
    );
    // An operator may not.
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let ocsrf = hidden(&op.get("/console").text(), "csrf");
    let r = op.post(
        "/console/customers",
        &[("csrf", &ocsrf), ("op", "lock"), ("account", &account.id)],
    );
    assert_eq!(r.status, 403);
    assert!(login());
}

/// An operator adds a supplement from the certificate's page, and the page shows the
/// certificate's first page as a picture to logged-in staff only.
#[test]
fn r_6_4_2_supplement_and_page_preview_from_the_console() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let page = op.get("/console/certificates/JZ2024-000123");
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text()
            .contains("/console/certificates/JZ2024-000123/page/1.png")
    );
    // Every page of the two-page certificate, each a picture.
    assert!(
        page.text()
            .contains("/console/certificates/JZ2024-000123/page/2.png"),
        "{}",
        page.text()
    );
    let png2 = op.get("/console/certificates/JZ2024-000123/page/2.png");
    assert_eq!(png2.status, 200);
    assert!(png2.body.starts_with(b"\x89PNG"));
    let png = op.get("/console/certificates/JZ2024-000123/page/1.png");
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG"));
    let anonymous = request(
        op.addr,
        "GET",
        "/console/certificates/JZ2024-000123/page/1.png",
        &[],
        b"",
    );
    assert_eq!(anonymous.status, 303, "staff only");
    let csrf = hidden(&page.text(), "csrf");
    let seq = audit_seq();
    // A preview first: laid out, marked, nothing sealed or stored.
    let r = op.post_multipart(
        "/console/supplement",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("number", None, b"JZ2024-000123"),
            ("content", Some("s.json"), SUPPLEMENT.as_bytes()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("补充文件预览"), "{}", r.text());
    assert!(r.text().contains("data:image/png;base64,"));
    assert!(
        f.block(f.instance().status_by_number("JZ2024-000123"))
            .unwrap()
            .supplements
            .is_empty(),
        "nothing stored by a preview"
    );
    let r = confirm(&mut op, &r.text());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("已签发补充文件"), "{}", r.text());
    let view = f
        .block(f.instance().status_by_number("JZ2024-000123"))
        .unwrap();
    assert_eq!(view.supplements.len(), 1);
    let after = f.block(store().audit_entries(seq + 1, i64::MAX)).unwrap();
    assert!(
        after
            .iter()
            .any(|e| e.actor == "staff:wang.operator" && e.action == "certificate.supplement"),
        "{after:?}"
    );
}

/// Several content files uploaded at once are issued in turn; the page lists each file's
/// outcome (a bad one named, the others issued).
#[test]
fn r_5_2_1_batch_issue_from_the_console() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let csrf = hidden(&op.get("/console/issue").text(), "csrf");
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    let mut files = Vec::new();
    for n in ["JZ2024-BATCH-1", "JZ2024-BATCH-2"] {
        v["certificateNo"] = n.into();
        files.push(v.to_string());
    }
    let count = f.certificate_count();
    let r = op.post_multipart(
        "/console/issue",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("content", Some("c0.json"), files[0].as_bytes()),
            ("content", Some("c1.json"), files[1].as_bytes()),
            ("content", Some("bad.json"), b"{\"certificateNo\": 1}"),
        ],
    );
    assert_eq!(r.status, 207, "{}", r.text());
    let text = r.text();
    assert!(text.contains("2/3") && text.contains("3/3"), "{text}");
    assert!(
        text.contains("JZ2024-BATCH-1") && text.contains("JZ2024-BATCH-2"),
        "{text}"
    );
    assert!(text.contains("bad.json"), "{text}");
    assert_eq!(f.certificate_count(), count + 2);
}

/// A seal is made by two persons: the seal administrator uploads the key material
/// (kept encrypted, the picture shown), cannot approve it; an approver does, and only then is the
/// seal made, named after both.
#[test]
fn r_5_2_2_a_seal_is_made_by_two_persons() {
    let _s = serial();
    let f = fixture();
    let c = console();
    let title = "示例计量院检测电子证书专用章";
    let mut sa = Client::new();
    let r = sa.login(
        "zhou.sealadmin",
        PASSWORD,
        &code_for(&c.secrets["zhou.sealadmin"]),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let csrf = hidden(&sa.get("/console/seals").text(), "csrf");
    let key = std::fs::read_to_string(f.dir.join("own-signer.key.pem")).unwrap();
    let cert = std::fs::read_to_string(f.dir.join("own-signer.cert.pem")).unwrap();
    // The institute's own picture, 38 mm, valid for a year.
    let picture =
        ecert::seal_image::SealDesign::new("示例计量院", ecert::seal_image::SealKind::Testing)
            .png(ecert::service::SEAL_FONT, 4.0)
            .unwrap();
    let seals_before = f.block(f.instance().seals()).unwrap().len();
    // A picture that is not a PNG is refused, naming it; nothing is proposed.
    let bad = sa.post_multipart(
        "/console/seals/propose",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("title", None, title.as_bytes()),
            ("picture", Some("seal.gif"), b"GIF89a not a png"),
            ("signer_key", Some("k.pem"), key.as_bytes()),
            ("signer_cert", Some("c.pem"), cert.as_bytes()),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.text());
    assert!(bad.text().contains("PNG"), "{}", bad.text());
    let r = sa.post_multipart(
        "/console/seals/propose",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("title", None, title.as_bytes()),
            ("picture", Some("seal.png"), &picture),
            ("size_mm", None, b"38"),
            ("valid_days", None, b"365"),
            ("signer_key", Some("k.pem"), key.as_bytes()),
            ("signer_cert", Some("c.pem"), cert.as_bytes()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("picture.png"), "{}", r.text());
    assert_eq!(
        f.block(f.instance().seals()).unwrap().len(),
        seals_before,
        "not made yet"
    );
    let proposal = f
        .block(f.instance().pending_seal_proposals())
        .unwrap()
        .into_iter()
        .find(|p| p.title == title)
        .unwrap();
    let pic = sa.get(&format!(
        "/console/seals/proposals/{}/picture.png",
        proposal.id
    ));
    assert_eq!(pic.status, 200);
    assert_eq!(pic.body, picture, "the uploaded picture is the one shown");
    let listed = sa.get("/console/seals").text();
    assert!(
        listed.contains("38 mm") && listed.contains("365"),
        "{listed}"
    );
    // The proposer may not approve.
    let r = sa.post(
        "/console/seals",
        &[
            ("csrf", &csrf),
            ("op", "approve_new"),
            ("seal", &proposal.id),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let mut ap = Client::new();
    let r = ap.login(
        "sun.approver",
        PASSWORD,
        &code_for(&c.secrets["sun.approver"]),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let acsrf = hidden(&ap.get("/console/seals").text(), "csrf");
    let seq = audit_seq();
    let r = ap.post(
        "/console/seals",
        &[
            ("csrf", &acsrf),
            ("op", "approve_new"),
            ("seal", &proposal.id),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seals = f.block(f.instance().seals()).unwrap();
    assert!(
        seals.iter().any(|s| s.name.ends_with(title) && s.active),
        "made: {:?}",
        seals.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let made_seal = seals
        .iter()
        .find(|s| s.name.ends_with(title) && s.active)
        .unwrap();
    assert_eq!(
        made_seal.image, picture,
        "the uploaded picture is the seal's"
    );
    let view = ses::seal::parse_seal(made_seal.seal_der.as_ref().unwrap()).unwrap();
    assert_eq!((view.width_mm, view.height_mm), (38, 38));
    let days = (view.valid_end - view.valid_start) / 86_400;
    assert_eq!(days, 365, "valid for the days proposed");
    let made = actions_after(seq, "seal.create");
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].actor, "staff:zhou.sealadmin+staff:sun.approver");
    assert!(
        f.block(f.instance().pending_seal_proposals())
            .unwrap()
            .iter()
            .all(|p| p.id != proposal.id)
    );
}

/// The certificate search by instrument, kind and status, as the console offers it.
#[test]
fn r_5_2_2_certificate_search_by_instrument_kind_and_status() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let listed = |c: &mut Client, q: &str| -> Vec<String> {
        let page = c.get(&format!("/console/certificates?{q}")).text();
        page.split("<a href=\"/console/certificates/")
            .skip(1)
            .map(|p| p[..p.find('"').unwrap()].to_owned())
            .collect()
    };
    let by_instrument = listed(&mut op, "instrument=%E5%8E%8B%E5%8A%9B%E8%A1%A8");
    assert!(
        by_instrument.contains(&ORIGINAL_NUMBER.to_owned()),
        "{by_instrument:?}"
    );
    assert!(
        !by_instrument.contains(&"JZ2024-000123".to_owned()),
        "{by_instrument:?}"
    );
    let calibration = listed(&mut op, "kind=7");
    assert!(
        calibration.contains(&"JZ2024-000123".to_owned()),
        "{calibration:?}"
    );
    assert!(
        !calibration.contains(&ORIGINAL_NUMBER.to_owned()),
        "{calibration:?}"
    );
    // (other tests of this binary revise certificates of their own too)
    let revised = listed(&mut op, "status=revised");
    assert!(revised.contains(&ORIGINAL_NUMBER.to_owned()), "{revised:?}");
    for n in &revised {
        let status = f
            .block(f.instance().status_by_number(n))
            .unwrap()
            .certificate
            .status;
        assert_eq!(status, ecert_store::CertificateStatus::Revised, "{n}");
    }
}

/// Issue and revise show a preview first: the draft page has every page
/// as a picture marked "预览 未盖章", nothing is sealed or stored until it is confirmed, and
/// what is sealed is exactly the content shown — a changed content or another session's
/// draft is refused with nothing issued.
#[test]
fn r_5_2_1_issue_and_revise_show_a_preview_before_sealing() {
    let _s = serial();
    let f = fixture();
    let _ = console();
    let mut op = Client::new();
    assert_eq!(op.login("wang.operator", PASSWORD, "").status, 303);
    let csrf = hidden(&op.get("/console/issue").text(), "csrf");
    let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = "JZ2024-PREVIEW-1".into();
    let content = v.to_string();
    let count = f.certificate_count();
    let draft = op.post_multipart(
        "/console/issue",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("content", Some("c.json"), content.as_bytes()),
        ],
    );
    assert_eq!(draft.status, 200, "{}", draft.text());
    let page = draft.text();
    assert!(
        page.contains("签发预览") && page.contains("JZ2024-PREVIEW-1"),
        "{page}"
    );
    assert!(
        page.contains("data:image/png;base64,iVBOR"),
        "the pages as pictures"
    );
    assert!(
        draft
            .header("content-security-policy")
            .is_some_and(|c| c.contains("img-src 'self' data:")),
        "{:?}",
        draft.header("content-security-policy")
    );
    assert_eq!(f.certificate_count(), count, "nothing issued by a preview");

    // Another session cannot seal this draft, and a changed content is refused.
    let mut other = Client::new();
    assert_eq!(other.login("wang.operator", PASSWORD, "").status, 303);
    let other_csrf = hidden(&other.get("/console/issue").text(), "csrf");
    let r = confirm(
        &mut other,
        &page.replace(&hidden(&page, "csrf"), &other_csrf),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let mut changed = v.clone();
    changed["customer"]["name"] = "别的客户".into();
    use base64::Engine as _;
    let forged = page.replace(
        &hidden(&page, "content"),
        &base64::engine::general_purpose::STANDARD.encode(changed.to_string()),
    );
    let r = confirm(&mut op, &forged);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("预览"), "{}", r.text());
    assert_eq!(f.certificate_count(), count, "nothing sealed");

    let r = confirm(&mut op, &page);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("已签发 JZ2024-PREVIEW-1"), "{}", r.text());
    assert_eq!(f.certificate_count(), count + 1);

    // A revision typed into the form: its preview, then sealed; the original is void.
    let cert_page = op.get("/console/certificates/JZ2024-PREVIEW-1").text();
    assert!(cert_page.contains("id=\"revise\""), "{cert_page}");
    let csrf = hidden(&cert_page, "csrf");
    v["certificateNo"] = "JZ2024-PREVIEW-2".into();
    let revised = serde_json::to_string_pretty(&v).unwrap();
    let draft = op.post_multipart(
        "/console/revise",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("number", None, b"JZ2024-PREVIEW-1"),
            ("content_text", None, revised.as_bytes()),
        ],
    );
    assert_eq!(draft.status, 200, "{}", draft.text());
    assert!(draft.text().contains("修改预览"), "{}", draft.text());
    assert_eq!(
        f.block(f.instance().status_by_number("JZ2024-PREVIEW-1"))
            .unwrap()
            .certificate
            .status,
        ecert_store::CertificateStatus::Valid,
        "still current after the preview"
    );
    let r = confirm(&mut op, &draft.text());
    assert_eq!(r.status, 200, "{}", r.text());
    let old = f
        .block(f.instance().status_by_number("JZ2024-PREVIEW-1"))
        .unwrap();
    assert_eq!(
        old.certificate.status,
        ecert_store::CertificateStatus::Revised
    );
    // A typed supplement (reason and items) of the revision: previewed, then sealed.
    let csrf = hidden(
        &op.get("/console/certificates/JZ2024-PREVIEW-2").text(),
        "csrf",
    );
    let draft = op.post_multipart(
        "/console/supplement",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("number", None, b"JZ2024-PREVIEW-2"),
            ("reason", None, "应委托方申请补充判定依据".as_bytes()),
            (
                "items",
                None,
                "依据 JJG 52-2013 第 6.3.2 条。\n本补充文件与原证书共同使用。".as_bytes(),
            ),
            ("signatories", None, "检定员 孙八".as_bytes()),
        ],
    );
    assert_eq!(draft.status, 200, "{}", draft.text());
    assert!(draft.text().contains("补充文件预览"), "{}", draft.text());
    let r = confirm(&mut op, &draft.text());
    assert_eq!(r.status, 200, "{}", r.text());
    let view = f
        .block(f.instance().status_by_number("JZ2024-PREVIEW-2"))
        .unwrap();
    assert_eq!(view.supplements.len(), 1);
}

/// Every role walks every action it may not take, by page and by direct POST:
/// each is answered 403, audited as `staff.refused` under its name, and changes nothing; the
/// pages do not offer what the service refuses.
#[test]
fn r_5_2_2_every_role_is_refused_what_it_may_not_do() {
    let _s = serial();
    let f = fixture();
    let c = console();
    /// (account, its TOTP secret, its roles)
    type Account<'a> = (&'a str, Option<&'a [u8]>, &'a [&'a str]);
    let accounts: [Account<'_>; 5] = [
        ("wang.operator", None, &["operator"]),
        (
            "sun.approver",
            Some(c.secrets["sun.approver"].as_slice()),
            &["approver"],
        ),
        (
            "zhou.sealadmin",
            Some(c.secrets["zhou.sealadmin"].as_slice()),
            &["seal_admin"],
        ),
        ("qian.auditor", None, &["auditor"]),
        (
            "li.admin",
            Some(c.admin_secret.as_slice()),
            &["admin", "auditor"],
        ),
    ];
    let seal_id = f.block(f.instance().seals()).unwrap()[0].id.clone();
    let snapshot = || {
        let i = f.instance();
        (
            f.certificate_count(),
            f.block(i.disposals(None)).unwrap().len(),
            f.block(store().staff_accounts()).unwrap().len(),
            f.block(i.api_clients()).unwrap().len(),
            f.block(i.seals())
                .unwrap()
                .iter()
                .filter(|s| s.active)
                .count(),
            f.block(i.pending_seal_proposals()).unwrap().len(),
            f.block(i.pending_seal_retirements()).unwrap().len(),
        )
    };
    for (name, secret, roles) in accounts {
        let mut who = Client::new();
        let code = secret.map(code_for).unwrap_or_default();
        let r = who.login(name, PASSWORD, &code);
        assert_eq!(r.status, 303, "{name}: {}", r.text());
        let csrf = hidden(&who.get("/console").text(), "csrf");
        let may = |allowed: &[&str]| roles.iter().any(|r| allowed.contains(r));
        let number = "JZ2024-000123";
        // Pages that only some roles may open.
        for (path, allowed) in [
            ("/console/audit", &["auditor", "admin"][..]),
            ("/console/api-clients", &["auditor", "admin"][..]),
            ("/console/customers", &["auditor", "admin"][..]),
            ("/console/staff", &["auditor", "admin"][..]),
        ] {
            let seq = audit_seq();
            let r = who.get(path);
            if may(allowed) {
                assert_eq!(r.status, 200, "{name} {path}: {}", r.text());
            } else {
                assert_eq!(r.status, 403, "{name} {path}: {}", r.text());
                let refused = actions_after(seq, "staff.refused");
                assert_eq!(refused.len(), 1, "{name} {path}");
                assert_eq!(refused[0].actor, format!("staff:{name}"));
            }
        }
        // The certificate's page offers only what the role may do.
        let page = who.get(&format!("/console/certificates/{number}")).text();
        assert_eq!(
            page.contains("id=\"revise\"") && page.contains("id=\"supplement\""),
            may(&["operator"]),
            "{name}: revise and supplement forms"
        );
        assert_eq!(
            page.contains("id=\"propose\""),
            may(&["operator", "approver"]),
            "{name}: the disposal proposal form"
        );
        // Direct POSTs, url-encoded.
        /// (path, form fields, the roles that may post it)
        type FormPost<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);
        let form_posts: Vec<FormPost<'_>> = vec![
            (
                "/console/disposals/propose",
                vec![("number", number), ("as_of", "2099-01-01")],
                &["operator", "approver"],
            ),
            (
                "/console/disposals/approve",
                vec![("number", number)],
                &["approver"],
            ),
            (
                "/console/disposals/execute",
                vec![("number", number)],
                &["approver"],
            ),
            (
                "/console/staff",
                vec![
                    ("name", "mallory"),
                    ("password", PASSWORD),
                    ("role", "admin"),
                ],
                &["admin"],
            ),
            (
                "/console/api-clients",
                vec![("op", "add"), ("name", "mallory-lims")],
                &["admin"],
            ),
            (
                "/console/customers",
                vec![("op", "lock"), ("account", "no-such-account")],
                &["admin"],
            ),
            (
                "/console/customers",
                vec![
                    ("op", "bind"),
                    ("number", number),
                    ("email", "m@example.com"),
                ],
                &["admin"],
            ),
            (
                "/console/seals",
                vec![("op", "propose"), ("seal", &seal_id)],
                &["seal_admin", "approver"],
            ),
            (
                "/console/seals",
                vec![("op", "approve"), ("seal", &seal_id)],
                &["approver"],
            ),
            (
                "/console/seals",
                vec![("op", "approve_new"), ("seal", "no-such-proposal")],
                &["approver"],
            ),
            (
                "/console/confirm",
                vec![("purpose", "issue"), ("content", "e30="), ("draft", "00")],
                &["operator"],
            ),
        ];
        for (path, mut fields, allowed) in form_posts {
            if may(allowed) {
                continue;
            }
            fields.push(("csrf", &csrf));
            let before = snapshot();
            let seq = audit_seq();
            let r = who.post(path, &fields);
            assert_eq!(r.status, 403, "{name} {path} {fields:?}: {}", r.text());
            let refused = actions_after(seq, "staff.refused");
            assert_eq!(refused.len(), 1, "{name} {path}: {refused:?}");
            assert_eq!(refused[0].actor, format!("staff:{name}"));
            assert_eq!(snapshot(), before, "{name} {path}: nothing changed");
        }
        // Direct POSTs, multipart (as the upload forms send them).
        let content = CALIBRATION.as_bytes();
        type MultipartPost<'a> = (&'a str, Vec<Part<'a>>, &'a [&'a str]);
        let multipart_posts: Vec<MultipartPost<'_>> = vec![
            (
                "/console/issue",
                vec![("content", Some("c.json"), content)],
                &["operator"],
            ),
            (
                "/console/revise",
                vec![
                    ("number", None, number.as_bytes()),
                    ("content_text", None, content),
                ],
                &["operator"],
            ),
            (
                "/console/supplement",
                vec![
                    ("number", None, number.as_bytes()),
                    ("reason", None, "补充".as_bytes()),
                ],
                &["operator"],
            ),
            (
                "/console/seals/propose",
                vec![("title", None, "示例计量院校准电子证书专用章".as_bytes())],
                &["seal_admin"],
            ),
        ];
        for (path, mut parts, allowed) in multipart_posts {
            if may(allowed) {
                continue;
            }
            parts.insert(0, ("csrf", None, csrf.as_bytes()));
            let before = snapshot();
            let seq = audit_seq();
            let r = who.post_multipart(path, &parts);
            assert_eq!(r.status, 403, "{name} {path}: {}", r.text());
            let refused = actions_after(seq, "staff.refused");
            assert_eq!(refused.len(), 1, "{name} {path}: {refused:?}");
            assert_eq!(snapshot(), before, "{name} {path}: nothing changed");
        }
    }
}
