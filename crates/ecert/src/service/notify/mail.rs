//! E-mail (R-6.2b): SMTP with the `lettre` crate (its blocking `SmtpTransport`, TLS by rustls
//! with the system's root certificates), and a console printer for demo instances.

use std::path::Path;
use std::time::Duration;

use lettre::Transport;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;

use super::{Mailer, NotifyError, read_secret};
use crate::config::{SmtpConfig, SmtpSecurity};

/// Sends through an SMTP relay.
pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
    name: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("name", &self.name)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// The relay of `[notify.email]`; `dir` is the configuration's folder (for
    /// `password_file`), `institute` the display name when `from_name` is absent.
    pub fn from_config(
        cfg: &SmtpConfig,
        dir: &Path,
        institute: &str,
    ) -> Result<SmtpMailer, NotifyError> {
        let host = cfg.host.trim();
        if host.is_empty() {
            return Err(NotifyError::Config(
                "[notify.email] host 为空 (host is empty)".into(),
            ));
        }
        let address = cfg.from.trim().parse().map_err(|e| {
            NotifyError::Config(format!(
                "[notify.email] from = {:?} 不是邮箱地址 (not an e-mail address): {e}",
                cfg.from
            ))
        })?;
        let display = cfg
            .from_name
            .clone()
            .unwrap_or_else(|| institute.to_owned());
        let from = Mailbox::new(Some(display), address);
        let bad = |e: lettre::transport::smtp::Error| {
            NotifyError::Config(format!("[notify.email] host = {host:?}: {e}"))
        };
        let (builder, default_port) = match cfg.security {
            SmtpSecurity::Tls => (SmtpTransport::relay(host).map_err(bad)?, 465),
            SmtpSecurity::Starttls => (SmtpTransport::starttls_relay(host).map_err(bad)?, 587),
            SmtpSecurity::None => (SmtpTransport::builder_dangerous(host), 25),
        };
        let port = cfg.port.unwrap_or(default_port);
        let mut builder = builder
            .port(port)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs.max(1))));
        let password = read_secret(
            dir,
            cfg.password_file.as_ref(),
            cfg.password_env.as_ref(),
            "notify.email.password_file / password_env",
        )?;
        match (&cfg.username, password) {
            (Some(user), Some(pw)) => {
                builder = builder.credentials(Credentials::new(user.clone(), pw));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(NotifyError::Config(
                    "[notify.email] 有 username 但没有 password_file 或 password_env (username without a password)".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(NotifyError::Config(
                    "[notify.email] 有口令但没有 username (a password without username)".into(),
                ));
            }
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
            name: format!("smtp:{host}:{port}"),
        })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), NotifyError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| NotifyError::BadAddress(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| NotifyError::Mail(e.to_string()))?;
        self.transport
            .send(&message)
            .map(drop)
            .map_err(|e| NotifyError::Mail(format!("{}: {e}", self.name)))
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Demo instances only: "sends" by writing the message to the log, labelled 演示 (demo).
#[derive(Debug)]
pub struct ConsoleMailer(());

impl ConsoleMailer {
    /// Refused unless `demo`.
    pub fn new(demo: bool) -> Result<ConsoleMailer, NotifyError> {
        if demo {
            Ok(ConsoleMailer(()))
        } else {
            Err(NotifyError::DemoOnly)
        }
    }
}

impl Mailer for ConsoleMailer {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), NotifyError> {
        tracing::warn!(
            target: "ecert::demo",
            to,
            subject,
            "演示：邮件未发出，内容如下 (demo: no e-mail sent; the message is)\n{body}"
        );
        Ok(())
    }

    fn name(&self) -> &str {
        "console"
    }

    fn is_demo(&self) -> bool {
        true
    }
}
