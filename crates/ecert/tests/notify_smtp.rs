//! R-6.2b: one-time codes by e-mail through a real SMTP server (Debian `python3-aiosmtpd` on
//! loopback); the received message is decoded by Python's `email` package, not by our code.

mod portal_support;

use std::path::Path;
use std::time::Duration;

use ecert::config::{NotifyConfig, SmtpConfig, SmtpSecurity};
use ecert::service::notify::{
    CODE_LIFETIME_MINUTES, Channel, ChannelKind, Notifier, NotifyError, Purpose,
};
use portal_support::{SmtpServer, TestCa, code_in};

const INSTITUTE: &str = "示例市计量测试研究院";

fn smtp(port: u16, security: SmtpSecurity) -> SmtpConfig {
    portal_support::smtp_config(port, security)
}

fn notifier(cfg: SmtpConfig) -> Notifier {
    let cfg = NotifyConfig {
        email: Some(cfg),
        ..NotifyConfig::default()
    };
    Notifier::from_config(&cfg, false, Path::new("."), INSTITUTE).expect("notifier")
}

#[test]
fn r_6_2b_code_arrives_by_smtp_with_chinese_text() {
    let server = SmtpServer::start();
    let n = notifier(smtp(server.port, SmtpSecurity::None));
    assert!(n.can_send(ChannelKind::Email) && !n.can_send(ChannelKind::Mobile));
    assert!(!n.is_demo());

    let to = Channel::email("Zhang.Wei@Customer.example").expect("address");
    let sent = n
        .send_code(&to, "482913", Purpose::Download, INSTITUTE)
        .expect("sent");
    assert_eq!(sent.gateway, format!("smtp:127.0.0.1:{}", server.port));
    assert!(!sent.demo);

    let msg = server.wait_for_message("Zhang.Wei@customer.example", Duration::from_secs(10));
    assert_eq!(msg.rcpt_tos, ["Zhang.Wei@customer.example"]);
    assert_eq!(msg.mail_from, "noreply@metrology.example");
    // The display name is the institute's (encoded-word in the header, decoded by Python).
    assert!(msg.from.contains(INSTITUTE), "From: {}", msg.from);
    assert!(msg.subject.contains(INSTITUTE) && msg.subject.contains("验证码"));
    assert_eq!(msg.charset.as_deref(), Some("utf-8"));
    assert_eq!(code_in(&msg).as_deref(), Some("482913"));
    let body = &msg.body;
    for text in [
        INSTITUTE,
        "下载电子证书",
        &format!("{CODE_LIFETIME_MINUTES} 分钟内有效"),
        "请勿将验证码告诉任何人",
        "Do not share",
        "downloading electronic certificates",
    ] {
        assert!(body.contains(text), "{text:?} missing from:\n{body}");
    }
    assert!(body.find("验证码").expect("zh") < body.find("verification code").expect("en"));

    // A second message (an invitation) by free text; each purpose names itself.
    n.send_text(
        &to,
        "邀请 / invitation",
        "请打开 https://example.invalid/join/abc",
    )
    .expect("text");
    let msg = server.wait_for_message("zhang.wei@customer.example", Duration::from_secs(10));
    assert_eq!(msg.subject, "邀请 / invitation");
    assert!(msg.body.contains("https://example.invalid/join/abc"));
    assert_eq!(code_in(&msg), None);

    n.send_code(&to, "90817263", Purpose::Register, INSTITUTE)
        .expect("sent");
    let msg = server.wait_for_message("zhang.wei@customer.example", Duration::from_secs(10));
    assert_eq!(code_in(&msg).as_deref(), Some("90817263"));
    assert!(msg.body.contains("注册账户"));
    assert_eq!(server.count(), 3);
}

#[test]
fn r_6_2b_starttls_never_falls_back_to_plain_text() {
    // aiosmtpd without a certificate offers no STARTTLS: a relay configured for it must refuse
    // to send rather than send the code in the clear.
    let server = SmtpServer::start();
    let n = notifier(smtp(server.port, SmtpSecurity::Starttls));
    let to = Channel::email("a@customer.example").expect("address");
    let e = n
        .send_code(&to, "123456", Purpose::Login, INSTITUTE)
        .expect_err("no STARTTLS offered");
    assert!(matches!(e, NotifyError::Mail(_)), "{e:?}");
    assert!(e.to_string().starts_with("邮件发送失败"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.count(), 0, "nothing may arrive");
}

#[test]
fn r_6_2b_unreachable_relay_and_bad_configuration_are_named() {
    let port = portal_support::free_port();
    let n = notifier(smtp(port, SmtpSecurity::None));
    let to = Channel::email("a@customer.example").expect("address");
    let e = n
        .send_code(&to, "123456", Purpose::Login, INSTITUTE)
        .expect_err("nobody listens");
    assert!(
        e.to_string().contains(&format!("smtp:127.0.0.1:{port}")),
        "{e}"
    );

    let mut bad = smtp(port, SmtpSecurity::None);
    bad.from = "not an address".into();
    let cfg = NotifyConfig {
        email: Some(bad),
        ..NotifyConfig::default()
    };
    let e = Notifier::from_config(&cfg, false, Path::new("."), INSTITUTE).expect_err("from");
    assert!(e.to_string().contains("from"), "{e}");

    // A user name needs a password, read from a file (never written in ecert.toml).
    let dir = tempfile::tempdir().expect("tmp");
    let mut with_user = smtp(port, SmtpSecurity::None);
    with_user.username = Some("relay-user".into());
    let cfg = NotifyConfig {
        email: Some(with_user.clone()),
        ..NotifyConfig::default()
    };
    let e = Notifier::from_config(&cfg, false, dir.path(), INSTITUTE).expect_err("no password");
    assert!(e.to_string().contains("username"), "{e}");
    with_user.password_file = Some("smtp.pass".into());
    let cfg = NotifyConfig {
        email: Some(with_user.clone()),
        ..NotifyConfig::default()
    };
    let e = Notifier::from_config(&cfg, false, dir.path(), INSTITUTE).expect_err("missing file");
    assert!(e.to_string().contains("smtp.pass"), "{e}");
    std::fs::write(dir.path().join("smtp.pass"), "s3cret\n").expect("write");
    Notifier::from_config(&cfg, false, dir.path(), INSTITUTE).expect("password from file");
}

/// Implicit TLS (`security = "tls"`) and STARTTLS to relays whose certificate comes from the
/// institute's own CA: delivered when `ca_file` names that CA, refused (nothing sent) when it
/// does not — the certificate is checked, never accepted blindly.
#[test]
fn r_6_2b_tls_relays_are_verified_against_the_trusted_roots() {
    let ca = TestCa::new();
    let to = Channel::email("tls@customer.example").expect("address");
    for (security, flags) in [
        (SmtpSecurity::Tls, ["--smtpscert", "--smtpskey"]),
        (SmtpSecurity::Starttls, ["--tlscert", "--tlskey"]),
    ] {
        let server = SmtpServer::start_with(&[
            flags[0].into(),
            ca.server_cert.display().to_string(),
            flags[1].into(),
            ca.server_key.display().to_string(),
        ]);

        // Without the CA: the system's roots do not know it, so nothing goes out.
        let e = notifier(smtp(server.port, security))
            .send_code(&to, "135790", Purpose::Login, INSTITUTE)
            .expect_err("untrusted relay certificate");
        assert!(matches!(e, NotifyError::Mail(_)), "{security:?}: {e:?}");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(server.count(), 0, "{security:?}: nothing may arrive");

        // With it: delivered over TLS.
        let mut cfg = smtp(server.port, security);
        cfg.ca_file = Some(ca.root.clone());
        notifier(cfg)
            .send_code(&to, "246801", Purpose::Recover, INSTITUTE)
            .unwrap_or_else(|e| panic!("{security:?}: {e}"));
        let msg = server.wait_for_message("tls@customer.example", Duration::from_secs(10));
        assert_eq!(code_in(&msg).as_deref(), Some("246801"));
        assert!(msg.body.contains("找回账户"));
    }

    // A CA file on a plain-text relay makes no sense: refused, naming the key.
    let mut cfg = smtp(25, SmtpSecurity::None);
    cfg.ca_file = Some(ca.root.clone());
    let e = Notifier::from_config(
        &NotifyConfig {
            email: Some(cfg),
            ..NotifyConfig::default()
        },
        false,
        Path::new("."),
        INSTITUTE,
    )
    .expect_err("ca_file without TLS");
    assert!(e.to_string().contains("ca_file"), "{e}");
}
