//! One-time codes and messages to customers: e-mail through SMTP (R-6.2b, [`mail`]),
//! SMS through a gateway (R-6.2a, [`sms`]: Alibaba Cloud SMS, or a console printer on demo
//! instances), and the place for WeChat, QQ and face recognition (R-6.2c–e,
//! [`IdentityProvider`]), none of which is built in: asking for one answers 未配置 (not
//! configured), nothing is faked.
//!
//! Sending blocks (SMTP conversation, HTTPS request): callers on the async runtime use
//! `tokio::task::spawn_blocking`. Every code message names the institute, what the code is for,
//! the code, its 10-minute life and "do not share", Chinese first, then English.

pub mod mail;
pub mod sms;

use std::path::{Path, PathBuf};

use crate::config::{NotifyConfig, SmsProvider};

pub use mail::{ConsoleMailer, SmtpMailer};
pub use sms::{AliyunSms, ConsoleSms};

/// Minutes a one-time code stays valid (R-6.2; the "10-minute life").
pub const CODE_LIFETIME_MINUTES: u32 = 10;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    /// An e-mail address.
    Email(String),
    /// A mainland mobile number, 11 digits.
    Mobile(String),
}

/// The kind of a [`Channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// E-mail (R-6.2b).
    Email,
    /// SMS (R-6.2a).
    Mobile,
}

impl Channel {
    /// An e-mail address, checked (one `@`, a dot in the domain, no spaces, at most 254
    /// bytes) and trimmed; the domain is lower-cased.
    pub fn email(s: &str) -> Result<Channel, NotifyError> {
        let s = s.trim();
        let bad = || NotifyError::BadAddress(s.to_owned());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Channel::Email(format!("{local}@{}", domain.to_lowercase())))
    }

    /// A mainland China mobile number: 11 digits starting with 1; `+86`, `0086`, spaces and
    /// hyphens are removed first.
    pub fn mobile(s: &str) -> Result<Channel, NotifyError> {
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        if digits.len() == 11
            && digits.starts_with('1')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Channel::Mobile(digits.to_owned()))
        } else {
            Err(NotifyError::BadMobile(s.trim().to_owned()))
        }
    }

    /// The address or number.
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Email(s) | Channel::Mobile(s) => s,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Channel::Email(_) => ChannelKind::Email,
            Channel::Mobile(_) => ChannelKind::Mobile,
        }
    }

    /// What a page may show of it: `138****5678`, `a***@example.com`.
    pub fn masked(&self) -> String {
        match self {
            Channel::Mobile(m) => {
                let chars: Vec<char> = m.chars().collect();
                if chars.len() >= 8 {
                    let head: String = chars[..3].iter().collect();
                    let tail: String = chars[chars.len() - 4..].iter().collect();
                    format!("{head}****{tail}")
                } else {
                    "****".into()
                }
            }
            Channel::Email(e) => match e.rsplit_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}***@{domain}")
                }
                None => "***".into(),
            },
        }
    }
}

/// What a one-time code is for; the message says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Activating a new account.
    Register,
    /// Logging in by code.
    Login,
    /// Recovering an account.
    Recover,
    /// The identity check before a download.
    Download,
    /// Activating an organisation through the contact the business system gave.
    OrgActivate,
    /// Joining an organisation one was invited to.
    Invite,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 6] = [
        Purpose::Register,
        Purpose::Login,
        Purpose::Recover,
        Purpose::Download,
        Purpose::OrgActivate,
        Purpose::Invite,
    ];

    /// What the code is for, in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Purpose::Register => "注册账户",
            Purpose::Login => "登录",
            Purpose::Recover => "找回账户",
            Purpose::Download => "下载电子证书",
            Purpose::OrgActivate => "激活单位账户",
            Purpose::Invite => "加入单位账户",
        }
    }

    /// What the code is for, in English.
    pub fn en(self) -> &'static str {
        match self {
            Purpose::Register => "registering your account",
            Purpose::Login => "logging in",
            Purpose::Recover => "recovering your account",
            Purpose::Download => "downloading electronic certificates",
            Purpose::OrgActivate => "activating your organisation's account",
            Purpose::Invite => "joining your organisation's account",
        }
    }

    /// The key of `[notify.sms.templates]` for this purpose.
    pub fn key(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::Recover => "recover",
            Purpose::Download => "download",
            Purpose::OrgActivate => "org_activate",
            Purpose::Invite => "invite",
        }
    }
}

/// The subject and text of a code message: institute, purpose, code, 10-minute life, "do not
/// share"; Chinese first, then English.
pub fn code_message(code: &str, purpose: Purpose, institute: &str) -> (String, String) {
    let subject = format!("【{institute}】{}验证码 / verification code", purpose.zh());
    let body = format!(
        "【{institute}】您正在{zh}，验证码：{code}\n\
         验证码 {min} 分钟内有效，仅可使用一次。请勿将验证码告诉任何人，本机构工作人员不会向您索要。\
         如非本人操作，请忽略本邮件。\n\
         \n\
         [{institute}] Your verification code for {en} is: {code}\n\
         It is valid for {min} minutes and can be used once. Do not share it with anyone: our staff \
         will never ask for it. If you did not ask for it, ignore this message.\n",
        zh = purpose.zh(),
        en = purpose.en(),
        min = CODE_LIFETIME_MINUTES,
    );
    (subject, body)
}

/// Why a message could not be sent (or a channel not used); Chinese first, English beside it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Nothing is configured for this channel or provider.
    #[error("未配置{what} ({what_en} is not configured)")]
    NotConfigured {
        /// What, in Chinese.
        what: &'static str,
        /// What, in English.
        what_en: &'static str,
    },
    /// A configuration value cannot be used (the message names the key).
    #[error("通知配置有误 (invalid [notify] configuration): {0}")]
    Config(String),
    /// A secret (password, access key secret) cannot be read.
    #[error("无法读取 {key} 指定的密钥 (cannot read the secret named by {key}): {problem}")]
    Secret {
        /// The configuration key.
        key: &'static str,
        /// What went wrong.
        problem: String,
    },
    /// The console gateway was asked for on an instance that is not a demo.
    #[error("控制台（演示）发送只能用于演示实例 (the console gateway is for demo instances only)")]
    DemoOnly,
    /// Not an e-mail address.
    #[error("邮箱地址无效“{0}” (not an e-mail address)")]
    BadAddress(String),
    /// Not a mainland mobile number.
    #[error("手机号码无效“{0}”（应为 11 位数字）(not a mobile number: 11 digits)")]
    BadMobile(String),
    /// The mail relay refused or failed.
    #[error("邮件发送失败 (sending the e-mail failed): {0}")]
    Mail(String),
    /// The SMS gateway refused or failed.
    #[error("短信发送失败 (sending the SMS failed): {0}")]
    Sms(String),
}

/// Sends e-mail.
pub trait Mailer: Send + Sync {
    /// Sends one plain-text message.
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), NotifyError>;
    /// The gateway's name for the audit entry (`smtp:host:port`, `console`).
    fn name(&self) -> &str {
        "mail"
    }
    /// Whether this is the demo console.
    fn is_demo(&self) -> bool {
        false
    }
}

/// Sends a code by SMS through a provider's template.
pub trait SmsGateway: Send + Sync {
    /// Sends `code` for `purpose` to `mobile` (11 digits).
    fn send_code(&self, mobile: &str, code: &str, purpose: Purpose) -> Result<(), NotifyError>;
    /// The gateway's name for the audit entry (`aliyun`, `console`).
    fn name(&self) -> &str;
    /// Whether this is the demo console.
    fn is_demo(&self) -> bool;
}

/// What went out, for the audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The gateway (`smtp:host:port`, `aliyun`, `console`).
    pub gateway: String,
    /// The demo console printed it: nothing left the machine.
    pub demo: bool,
}

/// The configured gateways.
pub struct Notifier {
    mailer: Option<Box<dyn Mailer>>,
    sms: Option<Box<dyn SmsGateway>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("mailer", &self.mailer.as_ref().map(|m| m.name().to_owned()))
            .field("sms", &self.sms.as_ref().map(|s| s.name().to_owned()))
            .finish()
    }
}

/// Reads a secret from the file (relative to `dir`) or the environment variable a
/// configuration names; its first line, trimmed.
pub(crate) fn read_secret(
    dir: &Path,
    file: Option<&PathBuf>,
    env: Option<&String>,
    key: &'static str,
) -> Result<Option<String>, NotifyError> {
    let problem = |p: String| NotifyError::Secret { key, problem: p };
    let text = match (file, env) {
        (Some(_), Some(_)) => {
            return Err(problem(
                "文件与环境变量只能二选一 (give a file or an environment variable, not both)"
                    .into(),
            ));
        }
        (Some(f), None) => {
            let path = crate::config::Config::resolve(dir, f);
            std::fs::read_to_string(&path)
                .map_err(|e| problem(format!("{}: {e}", path.display())))?
        }
        (None, Some(name)) => std::env::var(name).map_err(|_| {
            problem(format!(
                "环境变量 {name} 未设置 (the environment variable {name} is not set)"
            ))
        })?,
        (None, None) => return Ok(None),
    };
    let first = text.lines().next().unwrap_or("").trim().to_owned();
    if first.is_empty() {
        return Err(problem("内容为空 (empty)".into()));
    }
    Ok(Some(first))
}

impl Notifier {
    /// The gateways of `[notify]`: `demo` says whether the instance is a demo (the console
    /// gateway is refused otherwise), `dir` is the configuration's folder (secret files are
    /// relative to it), `institute` the sender name when `from_name` is not set.
    pub fn from_config(
        cfg: &NotifyConfig,
        demo: bool,
        dir: &Path,
        institute: &str,
    ) -> Result<Notifier, NotifyError> {
        let console_sms = cfg
            .sms
            .as_ref()
            .is_some_and(|s| s.provider == SmsProvider::Console);
        if (cfg.console || console_sms) && !demo {
            return Err(NotifyError::DemoOnly);
        }
        let mailer: Option<Box<dyn Mailer>> = match &cfg.email {
            Some(smtp) => Some(Box::new(SmtpMailer::from_config(smtp, dir, institute)?)),
            None if cfg.console => Some(Box::new(ConsoleMailer::new(demo)?)),
            None => None,
        };
        let sms: Option<Box<dyn SmsGateway>> = match &cfg.sms {
            Some(s) if s.provider == SmsProvider::Aliyun => {
                Some(Box::new(AliyunSms::from_config(s, dir)?))
            }
            Some(_) => Some(Box::new(ConsoleSms::new(demo)?)),
            None if cfg.console => Some(Box::new(ConsoleSms::new(demo)?)),
            None => None,
        };
        Ok(Notifier { mailer, sms })
    }

    /// A notifier with the given gateways (tests, other front ends).
    pub fn new(mailer: Option<Box<dyn Mailer>>, sms: Option<Box<dyn SmsGateway>>) -> Notifier {
        Notifier { mailer, sms }
    }

    /// Sends a one-time code (blocking).
    pub fn send_code(
        &self,
        to: &Channel,
        code: &str,
        purpose: Purpose,
        institute: &str,
    ) -> Result<Sent, NotifyError> {
        match to {
            Channel::Email(addr) => {
                let mailer = self.mailer()?;
                let (subject, body) = code_message(code, purpose, institute);
                mailer.send(addr, &subject, &body)?;
                Ok(Sent {
                    gateway: mailer.name().to_owned(),
                    demo: mailer.is_demo(),
                })
            }
            Channel::Mobile(m) => {
                let sms = self.sms()?;
                sms.send_code(m, code, purpose)?;
                Ok(Sent {
                    gateway: sms.name().to_owned(),
                    demo: sms.is_demo(),
                })
            }
        }
    }

    /// Sends a free text (an invitation link), by e-mail only: SMS gateways send approved
    /// templates, not free text (blocking).
    pub fn send_text(&self, to: &Channel, subject: &str, body: &str) -> Result<Sent, NotifyError> {
        match to {
            Channel::Email(addr) => {
                let mailer = self.mailer()?;
                mailer.send(addr, subject, body)?;
                Ok(Sent {
                    gateway: mailer.name().to_owned(),
                    demo: mailer.is_demo(),
                })
            }
            Channel::Mobile(_) => Err(NotifyError::NotConfigured {
                what: "短信自由文本（短信只能按模板发送验证码）",
                what_en: "free-text SMS (SMS sends codes by template only)",
            }),
        }
    }

    /// Whether a gateway for `kind` is configured.
    pub fn can_send(&self, kind: ChannelKind) -> bool {
        match kind {
            ChannelKind::Email => self.mailer.is_some(),
            ChannelKind::Mobile => self.sms.is_some(),
        }
    }

    /// Whether a console (demo) gateway is in use.
    pub fn is_demo(&self) -> bool {
        self.mailer.as_ref().is_some_and(|m| m.is_demo())
            || self.sms.as_ref().is_some_and(|s| s.is_demo())
    }

    fn mailer(&self) -> Result<&dyn Mailer, NotifyError> {
        self.mailer.as_deref().ok_or(NotifyError::NotConfigured {
            what: "邮件发送（[notify.email]）",
            what_en: "e-mail, [notify.email],",
        })
    }

    fn sms(&self) -> Result<&dyn SmsGateway, NotifyError> {
        self.sms.as_deref().ok_or(NotifyError::NotConfigured {
            what: "短信发送（[notify.sms]）",
            what_en: "SMS, [notify.sms],",
        })
    }
}

/// The identity checks of R-6.2c–e.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// R-6.2c: a code in a WeChat message (微信).
    WeChat,
    /// R-6.2d: a code in a QQ message.
    Qq,
    /// R-6.2e: face recognition (人脸识别).
    Face,
}

impl ProviderKind {
    /// Its name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            ProviderKind::WeChat => "微信身份验证",
            ProviderKind::Qq => "QQ 身份验证",
            ProviderKind::Face => "人脸识别",
        }
    }

    /// Its name in English.
    pub fn en(self) -> &'static str {
        match self {
            ProviderKind::WeChat => "WeChat identity check",
            ProviderKind::Qq => "QQ identity check",
            ProviderKind::Face => "face recognition",
        }
    }
}

/// The first step of an outside identity check: where the customer goes, and what the server
/// keeps to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// A page of the provider to send the customer to (or empty when a message was sent).
    pub redirect_url: String,
    /// The provider's reference for this check (state, ticket).
    pub reference: String,
}

/// An identity an outside provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable id for the person (OpenID, face record id).
    pub subject: String,
    /// The mobile number the provider confirmed, when it gives one.
    pub mobile: Option<String>,
}

/// An outside identity check (R-6.2c–e): WeChat, QQ, face recognition. None is built in; an
/// implementation for a provider the institute has a contract with goes here.
pub trait IdentityProvider: Send + Sync {
    /// Which check this is.
    fn kind(&self) -> ProviderKind;
    /// Starts a check for the customer holding `account` (the account's id), returning to
    /// `return_url` afterwards.
    fn begin(&self, account: &str, return_url: &str) -> Result<Challenge, NotifyError>;
    /// Finishes it with what the provider sent back to `return_url`.
    fn complete(
        &self,
        challenge: &Challenge,
        callback_query: &str,
    ) -> Result<VerifiedIdentity, NotifyError>;
}

/// The provider of `kind`. None is implemented in this version, so every kind answers
/// [`NotifyError::NotConfigured`] ("未配置…"): the page offers the channels that work
/// instead. Nothing is faked.
pub fn identity_provider(
    kind: ProviderKind,
    cfg: &NotifyConfig,
) -> Result<Box<dyn IdentityProvider>, NotifyError> {
    let _ = cfg;
    Err(NotifyError::NotConfigured {
        what: kind.zh(),
        what_en: kind.en(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_6_2_channels_are_checked_and_masked() {
        let m = Channel::mobile("+86 138-1234-5678").expect("mobile");
        assert_eq!(m, Channel::Mobile("13812345678".into()));
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(m.kind(), ChannelKind::Mobile);
        for bad in [
            "1381234567",
            "23812345678",
            "1381234567x",
            "",
            "138123456789",
        ] {
            assert!(
                matches!(Channel::mobile(bad), Err(NotifyError::BadMobile(_))),
                "{bad}"
            );
        }
        let e = Channel::email(" Alice@Example.COM ").expect("email");
        assert_eq!(e.as_str(), "Alice@example.com");
        assert_eq!(e.masked(), "A***@example.com");
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "a b@example.com",
            "a@b",
            "a@.b.c",
        ] {
            assert!(
                matches!(Channel::email(bad), Err(NotifyError::BadAddress(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn r_6_2_code_message_says_everything_chinese_first() {
        let (subject, body) = code_message("482913", Purpose::Download, "示例市计量测试研究院");
        assert!(subject.starts_with("【示例市计量测试研究院】"), "{subject}");
        assert!(body.contains("482913"));
        assert!(
            body.contains("下载电子证书") && body.contains("downloading electronic certificates")
        );
        assert!(body.contains("10 分钟") && body.contains("10 minutes"));
        assert!(body.contains("请勿将验证码告诉任何人") && body.contains("Do not share"));
        assert!(body.find("验证码").expect("zh") < body.find("verification code").expect("en"));
        for p in Purpose::ALL {
            let (_, b) = code_message("1", p, "X");
            assert!(b.contains(p.zh()) && b.contains(p.en()));
        }
    }

    #[test]
    fn r_6_2c_to_e_providers_are_not_configured_and_say_so() {
        for kind in [ProviderKind::WeChat, ProviderKind::Qq, ProviderKind::Face] {
            let e = identity_provider(kind, &NotifyConfig::default())
                .err()
                .expect("no provider is built in");
            let m = e.to_string();
            assert!(
                m.starts_with("未配置") && m.contains("not configured"),
                "{m}"
            );
            assert!(m.contains(kind.zh()), "{m}");
        }
    }

    #[test]
    fn r_6_2_console_is_refused_outside_demo_and_missing_gateways_named() {
        let cfg = NotifyConfig {
            console: true,
            ..NotifyConfig::default()
        };
        let dir = Path::new(".");
        assert!(matches!(
            Notifier::from_config(&cfg, false, dir, "X"),
            Err(NotifyError::DemoOnly)
        ));
        let n = Notifier::from_config(&cfg, true, dir, "X").expect("demo");
        assert!(n.is_demo() && n.can_send(ChannelKind::Email) && n.can_send(ChannelKind::Mobile));
        let sent = n
            .send_code(
                &Channel::Mobile("13812345678".into()),
                "123456",
                Purpose::Login,
                "X",
            )
            .expect("console");
        assert_eq!(
            sent,
            Sent {
                gateway: "console".into(),
                demo: true
            }
        );

        let none = Notifier::from_config(&NotifyConfig::default(), false, dir, "X").expect("empty");
        assert!(!none.can_send(ChannelKind::Email) && !none.is_demo());
        let e = none
            .send_code(
                &Channel::Email("a@example.com".into()),
                "123456",
                Purpose::Login,
                "X",
            )
            .expect_err("no mailer");
        assert!(e.to_string().starts_with("未配置邮件发送"), "{e}");
    }
}
