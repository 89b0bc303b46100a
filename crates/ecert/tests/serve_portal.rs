//! The customer portal over real HTTP: registration with a
//! code from a real SMTP server (Debian's `python3-aiosmtpd`), login, the list, the identity
//! check and the encrypted download opened by Debian's `7zip`; and the security properties:
//! no other customer's certificate by any id (IDOR), no state change without the form token
//! (CSRF), codes locked after 5 tries, a new session id at every login (fixation), the same
//! answer for unknown and known addresses (enumeration), lock-out after failed logins, reused
//! codes refused, malformed and oversized fields named with nothing stored.
#![allow(clippy::unwrap_used)]

mod portal_support;
mod serve_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ecert::config::SmtpSecurity;
use portal_support::{SmtpServer, code_in, seven_zip_extract};
use serve_support::*;

const PASSWORD: &str = "Kalibrier-Stempel-2026";

struct Portal {
    addr: SocketAddr,
    smtp: Mutex<SmtpServer>,
}

/// One portal server per test binary: the shared fixture's instance with mail to a real SMTP
/// server on loopback, and limits high enough for the tests that do not test them.
fn portal() -> &'static Portal {
    static P: OnceLock<Portal> = OnceLock::new();
    P.get_or_init(|| {
        let smtp = SmtpServer::start();
        let port = smtp.port;
        let (addr, handle) = own_server(|c| {
            c.notify.email = Some(portal_support::smtp_config(port, SmtpSecurity::None));
            c.portal.logins_per_minute = 10_000;
            c.portal.codes_per_hour = 1_000;
            c.portal.codes_per_address_hour = 1_000;
            // Fast hashes for the tests (the defaults are benchmarked).
            c.portal.password.memory_kib = 8 * 1024;
            c.portal.password.iterations = 1;
        });
        std::mem::forget(handle);
        Portal {
            addr,
            smtp: Mutex::new(smtp),
        }
    })
}

/// Audit entries after `seq` with this action.
fn actions_after(seq: i64, action: &str) -> Vec<ecert_store::AuditEntry> {
    let f = fixture();
    f.block(store().audit_entries(seq + 1, i64::MAX))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

fn wait_code(to: &str) -> String {
    let p = portal();
    let smtp = p.smtp.lock().unwrap();
    let m = smtp.wait_for_message(to, Duration::from_secs(30));
    code_in(&m).unwrap_or_else(|| panic!("no code in {m:?}"))
}

/// A client that keeps cookies, like a browser.
struct Client {
    addr: SocketAddr,
    cookies: HashMap<String, String>,
}

impl Client {
    fn new() -> Client {
        Client {
            addr: portal().addr,
            cookies: HashMap::new(),
        }
    }
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
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
    fn get(&mut self, path: &str) -> Resp {
        let c = self.cookie_header();
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
        self.post_raw(path, body.as_bytes(), "application/x-www-form-urlencoded")
    }
    fn post_raw(&mut self, path: &str, body: &[u8], content_type: &str) -> Resp {
        let c = self.cookie_header();
        let r = request(
            self.addr,
            "POST",
            path,
            &[("Cookie", &c), ("Content-Type", content_type)],
            body,
        );
        self.keep(&r);
        r
    }
}

/// The value of the hidden field `name` in a page (the first one).
fn hidden(page: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in {page}"));
    let rest = &page[at + needle.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The certificate ids offered in the list, by number.
fn listed(page: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for part in page.split("<li id=\"c-").skip(1) {
        let number = &part[..part.find('"').unwrap()];
        if let Some(at) = part.find("name=\"id\" value=\"") {
            let rest = &part[at + 17..];
            out.insert(
                number.to_owned(),
                rest[..rest.find('"').unwrap()].to_owned(),
            );
        }
    }
    out
}

/// Registers `email` and logs in with the code the SMTP server received.
fn registered(email: &str) -> Client {
    let mut c = Client::new();
    let page = c.get("/portal/register").text();
    let csrf = hidden(&page, "csrf");
    let r = c.post(
        "/portal/register",
        &[
            ("csrf", &csrf),
            ("name", "测试客户"),
            ("address", email),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let account = hidden(&r.text(), "account");
    let code = wait_code(email);
    let r = c.post(
        "/portal/register/confirm",
        &[("csrf", &csrf), ("account", &account), ("code", &code)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(c.cookies.contains_key("ecert_session"));
    c
}

fn session_csrf(c: &mut Client) -> String {
    let page = c.get("/portal/account");
    assert_eq!(page.status, 200, "{}", page.text());
    hidden(&page.text(), "csrf")
}

#[test]
fn r_5_2_3_register_list_identity_check_and_encrypted_download() {
    let _s = serial();
    let f = fixture();
    let mut c = registered("zhangsan@example.com");
    let list = c.get("/portal");
    assert_eq!(list.status, 200);
    let page = list.text();
    let ids = listed(&page);
    // Bound by the e-mail the business system gave: the calibration certificate and the one
    // supplemented, with its supplement under it and R-6.4.2's statement.
    assert!(ids.contains_key("JZ2024-000123"), "{page}");
    assert!(ids.contains_key(SUPPLEMENTED_NUMBER), "{page}");
    assert!(
        !ids.contains_key(ORIGINAL_NUMBER),
        "not this customer's: {page}"
    );
    assert!(page.contains(&f.supplement.number), "{page}");
    assert!(
        page.contains(&ecert::service::supplement_message(SUPPLEMENTED_NUMBER)),
        "{page}"
    );
    // Search by number.
    let found = c.get("/portal?number=000900").text();
    let only = listed(&found);
    assert_eq!(only.len(), 1, "{found}");
    assert!(only.contains_key(SUPPLEMENTED_NUMBER));

    // Identity check (R-6.2b) and the encrypted package (R-6.1a) of two certificates.
    let csrf = hidden(&page, "csrf");
    let a = &ids["JZ2024-000123"];
    let b = &ids[SUPPLEMENTED_NUMBER];
    let check = c.post("/portal/download", &[("csrf", &csrf), ("id", a), ("id", b)]);
    assert_eq!(check.status, 200, "{}", check.text());
    let check = check.text();
    assert!(check.contains("z***@example.com"), "{check}");
    assert!(check.contains("未配置"), "WeChat, QQ, face: {check}");
    let form = check
        .split("<form")
        .find(|f| f.contains("z***@example.com"))
        .expect("a form that sends the code by e-mail");
    let ch = hidden(form, "ch");
    let sent = c.post(
        "/portal/download/code",
        &[("csrf", &csrf), ("id", a), ("id", b), ("ch", &ch)],
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert!(
        sent.text().contains("解压密码为您刚才输入的验证码"),
        "the page says which password opens the package: {}",
        sent.text()
    );
    let code = wait_code("zhangsan@example.com");
    let seq = audit_seq();
    let zip = c.post(
        "/portal/download/confirm",
        &[
            ("csrf", &csrf),
            ("id", a),
            ("id", b),
            ("ch", &ch),
            ("method", "code"),
            ("code", &code),
        ],
    );
    assert_eq!(zip.status, 200, "{}", zip.text());
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert!(zip.body.starts_with(b"PK"));
    // 7-Zip opens it with the code, not without.
    let out = tempfile::tempdir().unwrap();
    let x = seven_zip_extract(&zip.body, &code, out.path());
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stdout));
    let wrong = tempfile::tempdir().unwrap();
    assert!(
        !seven_zip_extract(&zip.body, "000000", wrong.path())
            .status
            .success()
    );
    let mut names: Vec<String> = std::fs::read_dir(out.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        3,
        "two certificates and the supplement: {names:?}"
    );
    for (number, cert) in [
        ("JZ2024-000123", f.cert("JZ2024-000123")),
        (SUPPLEMENTED_NUMBER, f.cert(SUPPLEMENTED_NUMBER)),
    ] {
        let rec = f
            .block(f.instance().certificate_by_number(number))
            .unwrap()
            .unwrap();
        let got = std::fs::read(out.path().join("out").join(&rec.file_name)).unwrap();
        assert_eq!(got, cert.file, "{number}: the stored file, byte for byte");
    }
    // R-7.2.3b: the download is in the audit chain with the SM3 of the bytes sent.
    let entries = actions_after(seq, "portal.download");
    assert_eq!(entries.len(), 1);
    let sm3 = ecert_store::hex(&ecert_store::sm3(&zip.body));
    let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
    assert_eq!(details["sm3"], sm3.as_str());
    assert_eq!(zip.header("x-package-sm3"), Some(sm3.as_str()));
    // The customer's own history shows it.
    let account = c.get("/portal/account").text();
    assert!(account.contains(&sm3), "{account}");
    // A used code does not open a second package.
    let again = c.post(
        "/portal/download/confirm",
        &[
            ("csrf", &csrf),
            ("id", a),
            ("id", b),
            ("ch", &ch),
            ("method", "code"),
            ("code", &code),
        ],
    );
    assert_eq!(again.status, 401, "{}", again.text());
    assert!(again.text().contains("已使用"), "{}", again.text());
}

#[test]
fn idor_no_other_customers_certificate_by_any_id() {
    let _s = serial();
    let f = fixture();
    let mut c = registered("lisi@example.com");
    let page = c.get("/portal").text();
    assert!(listed(&page).is_empty(), "{page}");
    let csrf = hidden(&page, "csrf");
    let theirs = f
        .block(f.instance().certificate_by_number("JZ2024-000123"))
        .unwrap()
        .unwrap();
    for id in [
        theirs.id.as_str(),
        "00000000000000000000000000000000",
        "JZ2024-000123",
        "../1",
    ] {
        let r = c.post("/portal/download", &[("csrf", &csrf), ("id", id)]);
        assert_eq!(r.status, 404, "{id}: {}", r.text());
        let r = c.post(
            "/portal/download/confirm",
            &[
                ("csrf", &csrf),
                ("id", id),
                ("method", "password"),
                ("download_password", "x"),
            ],
        );
        assert_eq!(r.status, 404, "{id}: {}", r.text());
    }
    // Nothing in a search either.
    assert!(listed(&c.get("/portal?number=JZ").text()).is_empty());
}

#[test]
fn csrf_a_form_without_its_token_changes_nothing() {
    let _s = serial();
    let mut c = registered("wangwu@example.com");
    let good = session_csrf(&mut c);
    // Logged in, no token / a wrong one: refused, still logged in.
    for bad in ["", "00", &"ab".repeat(32)] {
        let r = c.post("/portal/logout", &[("csrf", bad)]);
        assert_eq!(r.status, 403, "{}", r.text());
        let r = c.post("/portal/account/logout-all", &[("csrf", bad)]);
        assert_eq!(r.status, 403);
    }
    assert_eq!(c.get("/portal/account").status, 200);
    // Before login: a form without the visitor's cookie, or with another's token.
    let mut v = Client::new();
    let r = v.post(
        "/portal/login",
        &[
            ("csrf", &good),
            ("address", "wangwu@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!v.cookies.contains_key("ecert_session"));
    // With the token the page gave: it works, and logging out ends the session.
    let r = c.post("/portal/logout", &[("csrf", &good)]);
    assert_eq!(r.status, 303);
    assert_eq!(c.get("/portal/account").status, 303);
}

#[test]
fn session_fixation_every_login_gets_a_new_id() {
    let _s = serial();
    let _ = registered("zhaoliu@example.com");
    let mut c = Client::new();
    let page = c.get("/portal/login").text();
    let csrf = hidden(&page, "csrf");
    let planted = "ab".repeat(32);
    c.cookies.insert("ecert_session".into(), planted.clone());
    let r = c.post(
        "/portal/login",
        &[
            ("csrf", &csrf),
            ("address", "zhaoliu@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let new = c.cookies["ecert_session"].clone();
    assert_ne!(new, planted);
    assert_eq!(c.get("/portal/account").status, 200);
    let mut attacker = Client::new();
    attacker.cookies.insert("ecert_session".into(), planted);
    assert_eq!(attacker.get("/portal/account").status, 303);
    // Log out everywhere: every session of the account ends.
    let mut second = Client::new();
    let p = second.get("/portal/login").text();
    let t = hidden(&p, "csrf");
    let r = second.post(
        "/portal/login",
        &[
            ("csrf", &t),
            ("address", "zhaoliu@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 303);
    let token = session_csrf(&mut c);
    assert_eq!(
        c.post("/portal/account/logout-all", &[("csrf", &token)])
            .status,
        303
    );
    assert_eq!(second.get("/portal/account").status, 303);
}

fn error_of(page: &str) -> String {
    let at = page
        .find("id=\"error\"")
        .unwrap_or_else(|| panic!("no error in {page}"));
    let rest = &page[at..];
    rest[rest.find('>').unwrap() + 1..rest.find("</p>").unwrap()].to_owned()
}

#[test]
fn enumeration_unknown_and_known_addresses_get_the_same_answers() {
    let _s = serial();
    let _ = registered("qianqi@example.com");
    let mut c = Client::new();
    let csrf = hidden(&c.get("/portal/login").text(), "csrf");
    let known = c.post(
        "/portal/login",
        &[
            ("csrf", &csrf),
            ("address", "qianqi@example.com"),
            ("password", "wrong-password-1"),
        ],
    );
    let unknown = c.post(
        "/portal/login",
        &[
            ("csrf", &csrf),
            ("address", "nobody@example.com"),
            ("password", "wrong-password-1"),
        ],
    );
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.status, 401);
    assert_eq!(error_of(&known.text()), error_of(&unknown.text()));
    // Login and recovery codes: the same notice either way; only the known address gets mail.
    let before = portal().smtp.lock().unwrap().count();
    for path in ["/portal/login/code", "/portal/recover"] {
        let csrf = hidden(&c.get(path).text(), "csrf");
        let k = c.post(path, &[("csrf", &csrf), ("address", "qianqi@example.com")]);
        let u = c.post(path, &[("csrf", &csrf), ("address", "nobody@example.com")]);
        assert_eq!(k.status, 200);
        assert_eq!(u.status, 200);
        let notice = |r: &Resp| {
            let t = r.text();
            let at = t.find("id=\"notice\"").unwrap();
            t[at..at + t[at..].find("</p>").unwrap()]
                .replace("q***@example.com", "X")
                .replace("n***@example.com", "X")
        };
        assert_eq!(notice(&k), notice(&u));
    }
    let code = wait_code("qianqi@example.com");
    assert_eq!(code.len(), 6);
    let _ = wait_code("qianqi@example.com");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(portal().smtp.lock().unwrap().count(), before + 2);
    // Registering an address that has an account answers as for a new one.
    let csrf = hidden(&c.get("/portal/register").text(), "csrf");
    let r = c.post(
        "/portal/register",
        &[
            ("csrf", &csrf),
            ("address", "qianqi@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("验证码已发送至 q***@example.com"));
    // Its owner, who got the code, learns that the address is taken; nobody else does.
    let account = hidden(&r.text(), "account");
    let code = wait_code("qianqi@example.com");
    let r = c.post(
        "/portal/register/confirm",
        &[("csrf", &csrf), ("account", &account), ("code", &code)],
    );
    assert_eq!(r.status, 409, "{}", r.text());
}

#[test]
fn r_6_2_codes_lock_after_five_wrong_tries_and_are_single_use() {
    let _s = serial();
    let mut c = Client::new();
    let csrf = hidden(&c.get("/portal/register").text(), "csrf");
    let r = c.post(
        "/portal/register",
        &[
            ("csrf", &csrf),
            ("address", "sunba@example.com"),
            ("password", PASSWORD),
        ],
    );
    let account = hidden(&r.text(), "account");
    let code = wait_code("sunba@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let r = c.post(
            "/portal/register/confirm",
            &[("csrf", &csrf), ("account", &account), ("code", wrong)],
        );
        assert_eq!(r.status, 401);
        assert!(
            r.text().contains(&format!("还可尝试 {left} 次")),
            "{}",
            r.text()
        );
    }
    let r = c.post(
        "/portal/register/confirm",
        &[("csrf", &csrf), ("account", &account), ("code", wrong)],
    );
    assert!(r.text().contains("已锁定"), "{}", r.text());
    // The right code no longer opens it.
    let r = c.post(
        "/portal/register/confirm",
        &[("csrf", &csrf), ("account", &account), ("code", &code)],
    );
    assert_eq!(r.status, 401);
    assert!(r.text().contains("已锁定"), "{}", r.text());
    assert!(!c.cookies.contains_key("ecert_session"));
}

#[test]
fn lockout_after_five_failed_logins_and_refusals_audited() {
    let _s = serial();
    let _ = registered("zhoujiu@example.com");
    let mut c = Client::new();
    let csrf = hidden(&c.get("/portal/login").text(), "csrf");
    let seq = audit_seq();
    for _ in 0..5 {
        let r = c.post(
            "/portal/login",
            &[
                ("csrf", &csrf),
                ("address", "zhoujiu@example.com"),
                ("password", "not-the-password"),
            ],
        );
        assert_eq!(r.status, 401);
    }
    let r = c.post(
        "/portal/login",
        &[
            ("csrf", &csrf),
            ("address", "zhoujiu@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 401, "locked: {}", r.text());
    assert!(!c.cookies.contains_key("ecert_session"));
    let refused = actions_after(seq, "portal.login_failed");
    assert_eq!(refused.len(), 6, "each refusal audited (compactly)");
    assert!(refused.iter().all(|e| e.details.len() < 400));
}

#[test]
fn malformed_and_oversized_fields_are_named_and_nothing_is_stored() {
    let _s = serial();
    let mut c = Client::new();
    let csrf = hidden(&c.get("/portal/register").text(), "csrf");
    let seq = audit_seq();
    let long_name = "名".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("csrf", &csrf),
                ("name", &long_name),
                ("address", "a@example.com"),
                ("password", PASSWORD),
            ],
            "姓名",
        ),
        (
            vec![
                ("csrf", &csrf),
                ("address", "not-an-address"),
                ("password", PASSWORD),
            ],
            "not-an-address",
        ),
        (
            vec![
                ("csrf", &csrf),
                ("address", "b@example.com"),
                ("password", "password2024!"),
            ],
            "常见",
        ),
    ];
    for (fields, named) in cases {
        let r = c.post("/portal/register", &fields);
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(error_of(&r.text()).contains(named), "{}", r.text());
    }
    // Not a form at all; a body over the limit.
    let r = c.post_raw(
        "/portal/register",
        b"%zz=%%",
        "application/x-www-form-urlencoded",
    );
    assert!(r.status == 422 || r.status == 403, "{}", r.text());
    let big = vec![b'a'; 20 * 1024];
    let r = c.post_raw(
        "/portal/register",
        &big,
        "application/x-www-form-urlencoded",
    );
    assert_eq!(r.status, 413);
    assert!(
        actions_after(seq, "customer.register").is_empty(),
        "no account was made"
    );
}

#[test]
fn r_6_2f_download_password_and_pages_in_english() {
    let _s = serial();
    let f = fixture();
    f.block(f.instance().bind_customer(
        "JT2024-000077",
        ecert::service::BindRequest {
            email: Some("zhengyi@example.com".into()),
            download_password: Some(zeroize::Zeroizing::new("Gasmeter-2024-Pw".into())),
            ..Default::default()
        },
        &ecert::service::Actor::local("test"),
    ))
    .unwrap();
    let mut c = registered("zhengyi@example.com");
    let page = c.get("/portal?lang=en").text();
    assert!(page.contains("My certificates"), "{page}");
    let ids = listed(&page);
    let id = &ids["JT2024-000077"];
    let csrf = hidden(&page, "csrf");
    let check = c
        .post("/portal/download?lang=en", &[("csrf", &csrf), ("id", id)])
        .text();
    assert!(check.contains("download password"), "{check}");
    let wrong = c.post(
        "/portal/download/confirm",
        &[
            ("csrf", &csrf),
            ("id", id),
            ("method", "password"),
            ("download_password", "nope-nope"),
        ],
    );
    assert_eq!(wrong.status, 401);
    let zip = c.post(
        "/portal/download/confirm",
        &[
            ("csrf", &csrf),
            ("id", id),
            ("method", "password"),
            ("download_password", "Gasmeter-2024-Pw"),
        ],
    );
    assert_eq!(zip.status, 200, "{}", zip.text());
    // Policy a with a download password: the package opens with that password.
    let out = tempfile::tempdir().unwrap();
    assert!(
        seven_zip_extract(&zip.body, "Gasmeter-2024-Pw", out.path())
            .status
            .success()
    );
}

#[test]
fn r_5_2_3_organisation_activation_and_invitation() {
    let _s = serial();
    let mut admin = registered("admin.org@example.com");
    assert!(listed(&admin.get("/portal").text()).is_empty());
    let page = admin.get("/portal/org").text();
    let csrf = hidden(&page, "csrf");
    // A credit code whose check character is wrong is named (GB 32100).
    let r = admin.post(
        "/portal/org/register",
        &[
            ("csrf", &csrf),
            ("org_name", "示例电子科技有限公司"),
            ("uscc", "91320505876543210X"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text());
    // The activation code goes to the contact the business system gave for the code.
    let r = admin.post(
        "/portal/org/register",
        &[
            ("csrf", &csrf),
            ("org_name", "示例电子科技有限公司"),
            ("uscc", "91320505876543210E"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("z***@example.com"), "{}", r.text());
    let org = hidden(&r.text()[r.text().find("org-activate").unwrap()..], "org");
    let code = wait_code("zhangsan@example.com");
    let r = admin.post(
        "/portal/org/activate",
        &[("csrf", &csrf), ("org", &org), ("code", &code)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("管理员"), "{}", r.text());
    // Its members see its certificates.
    assert!(listed(&admin.get("/portal").text()).contains_key("JZ2024-000123"));
    // The administrator invites; the invitee registers with that address and accepts.
    let r = admin.post(
        "/portal/org/invite",
        &[
            ("csrf", &csrf),
            ("org", &org),
            ("address", "member.org@example.com"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mail = portal()
        .smtp
        .lock()
        .unwrap()
        .wait_for_message("member.org@example.com", Duration::from_secs(30));
    assert!(mail.body.contains("/portal"), "{}", mail.body);
    let mut member = registered("member.org@example.com");
    assert!(listed(&member.get("/portal").text()).is_empty());
    let page = member.get("/portal/org").text();
    let mcsrf = hidden(&page, "csrf");
    let invitation = hidden(&page, "invitation");
    let r = member.post(
        "/portal/org/accept",
        &[("csrf", &mcsrf), ("invitation", &invitation)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(listed(&member.get("/portal").text()).contains_key("JZ2024-000123"));
    // A member who does not administer cannot invite; nobody can activate another's.
    let r = member.post(
        "/portal/org/invite",
        &[
            ("csrf", &mcsrf),
            ("org", &org),
            ("address", "x@example.com"),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = member.post(
        "/portal/org/activate",
        &[("csrf", &mcsrf), ("org", &org), ("code", "123456")],
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

/// A person adds a second address to the account (R-5.2.3: mobile and/or e-mail): a code goes
/// there, and once it is entered the certificates issued to that address appear too.
#[test]
fn r_5_2_3_a_second_address_is_added_by_its_code() {
    let _s = serial();
    let f = fixture();
    f.block(f.instance().bind_customer(
        REVISED_NUMBER,
        ecert::service::BindRequest {
            email: Some("second.li@example.com".into()),
            ..Default::default()
        },
        &ecert::service::Actor::local("test"),
    ))
    .unwrap();
    let mut c = registered("first.li@example.com");
    assert!(!listed(&c.get("/portal").text()).contains_key(REVISED_NUMBER));
    let csrf = hidden(&c.get("/portal/account").text(), "csrf");
    let r = c.post(
        "/portal/account/address",
        &[("csrf", &csrf), ("address", "second.li@example.com")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let channel = hidden(&r.text(), "channel");
    let code = wait_code("second.li@example.com");
    // Not counted before the code is entered.
    assert!(!listed(&c.get("/portal").text()).contains_key(REVISED_NUMBER));
    let r = c.post(
        "/portal/account/address/confirm",
        &[("csrf", &csrf), ("channel", &channel), ("code", &code)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("second.li@example.com （已验证）"),
        "{}",
        r.text()
    );
    assert!(listed(&c.get("/portal").text()).contains_key(REVISED_NUMBER));
    // An address verified by another account is refused to this one.
    let _other = registered("third.li@example.com");
    let r = c.post(
        "/portal/account/address",
        &[("csrf", &csrf), ("address", "third.li@example.com")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let channel = hidden(&r.text(), "channel");
    let code = wait_code("third.li@example.com");
    let r = c.post(
        "/portal/account/address/confirm",
        &[("csrf", &csrf), ("channel", &channel), ("code", &code)],
    );
    assert_eq!(r.status, 409, "{}", r.text());
}
