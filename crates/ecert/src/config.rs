//! Instance configuration: one TOML file (`ecert.toml`), every path relative to the file's folder.
//!
//! ```toml
//! [instance]
//! demo = true                                # allows the documentation root OID and the trial CA
//! base_url = "http://127.0.0.1:8080"         # the 2D code leads to {base_url}/v/{token}
//! root_oid = "1.3.6.1.4.1.32473.1"           # R-4.5.5 root code; register your own for production
//!
//! [institute]
//! name = "示例市计量测试研究院"
//! org_code = "123456788"                     # 组织机构代码 (9) or 统一社会信用代码 (18)
//! accreditations = ["CNAS L12345", "（苏）法计（2023）00001"]   # 认可/授权标识, the first is the default
//!
//! [storage]
//! database = "sqlite://data/ecert.db"        # or postgres://user@host/db
//! replicas = ["data/replica-a", "data/replica-b"]
//! master_key_file = "data/master.key"        # SM4 key that encrypts signer keys at rest (R-7.2.3d)
//!
//! [naming]
//! rule = "{类别}电子证书-{证书编号}-{仪器名称}-{出厂编号}.ofd"
//!
//! [server]                                   # `ecert serve` (docs/serve.md); every key optional
//! listen = "127.0.0.1:8080"
//! ```
//!
//! `[institute]` is what every certificate says about its issuer (name, address, org_code,
//! phone; `base_url` is its website): content may leave those out or repeat them, never name
//! others (`domain::issuer`). An institute may hold several accreditations or authorisations
//! (`accreditations`, a list; a certificate's content picks one by value for part 4 of its
//! identifier, R-4.5.5, and gets the first by default). Files written before the list existed
//! have the single key `accreditation = "…"`, which still reads as a list of one. Both keys
//! together are accepted only when `accreditation` is the first of `accreditations` (the
//! default either way); otherwise the configuration is refused, naming both.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::filename::{self, FileNameError};
use crate::domain::identifier::{DEMO_ROOT_OID, IdentifierError};

/// Why a configuration cannot be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ecert.toml` cannot be read.
    #[error("无法读取配置文件 {} (cannot read the configuration; run `ecert init` first)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `ecert.toml` is not valid TOML or has unknown or missing keys.
    #[error("配置文件有误 {} (configuration is invalid)", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: toml::de::Error,
    },
    /// `ecert.toml` cannot be written.
    #[error("无法写入配置文件 {} (cannot write the configuration)", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The configuration cannot be written as TOML.
    #[error("无法生成配置文件 (cannot serialise the configuration)")]
    Serialize(#[source] toml::ser::Error),
    /// An environment variable has a value of the wrong type.
    #[error("环境变量 {name} 的值无效 (invalid value {value:?})")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// A trust root file (`[server] trust_roots`, the trial root) cannot be read or used.
    #[error("信任根无效 {} (invalid trust root): {problem}", path.display())]
    TrustRoot {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A value the standard or the service does not allow; the message names the key.
    #[error("{0}")]
    Refused(&'static str),
    /// `[institute]` is inconsistent (the message names the keys and values).
    #[error("{0}")]
    Institute(String),
    /// The naming rule breaks R-4.4.3.
    #[error(transparent)]
    Naming(#[from] FileNameError),
    /// The root OID, organisation code or accreditation cannot make identifiers (R-4.5.5).
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
}

/// One problem of a configuration, with the key it concerns (`section.key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, e.g. `instance.root_oid` (or `ecert.toml` for the file itself).
    pub key: String,
    /// What is wrong, Chinese first with English beside it.
    pub message: String,
}

impl Problem {
    fn new(key: &str, e: &ConfigError) -> Problem {
        let mut message = e.to_string();
        let mut next = std::error::Error::source(e);
        while let Some(cause) = next {
            let part = cause.to_string();
            if !message.ends_with(&part) {
                message.push_str(": ");
                message.push_str(&part);
            }
            next = cause.source();
        }
        Problem::text(key, message)
    }

    fn text(key: &str, message: String) -> Problem {
        Problem {
            key: key.to_owned(),
            message,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Removes the value at `path` (keys from the top) from `table`; false when there is none.
fn remove_at(table: &mut toml::Table, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => table.remove(last).is_some(),
        [first, rest @ ..] => match table.get_mut(first) {
            Some(toml::Value::Table(inner)) => remove_at(inner, rest),
            _ => false,
        },
    }
}

/// Sets the value at `path` in `table` to the one at the same path in `reference` (making
/// tables on the way); false when `reference` has none there.
fn copy_at(table: &mut toml::Table, reference: &toml::Table, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => match reference.get(last) {
            Some(v) => {
                table.insert(last.clone(), v.clone());
                true
            }
            None => false,
        },
        [first, rest @ ..] => {
            let Some(toml::Value::Table(reference)) = reference.get(first) else {
                return false;
            };
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            match entry {
                toml::Value::Table(inner) => copy_at(inner, reference, rest),
                _ => false,
            }
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Instance-wide settings.
    pub instance: InstanceConfig,
    /// The issuing institute.
    pub institute: InstituteConfig,
    /// Database and file replicas.
    pub storage: StorageConfig,
    /// File naming (R-4.4).
    #[serde(default)]
    pub naming: NamingConfig,
    /// `ecert serve`; absent in older files.
    #[serde(default)]
    pub server: ServerConfig,
    /// The audit chain's signed checkpoints (R-7.2.2b).
    #[serde(default)]
    pub audit: AuditConfig,
    /// Time traceable to NTSC (R-7.2.2a).
    #[serde(default)]
    pub time: TimeConfig,
    /// What the public pages show and offer; absent in older files.
    #[serde(default)]
    pub public: PublicConfig,
    /// How one-time codes reach customers (R-6.2a/b): mail and SMS gateways; absent in older
    /// files.
    #[serde(default, skip_serializing_if = "NotifyConfig::is_empty")]
    pub notify: NotifyConfig,
    /// The customer portal (R-5.2.3): password hashing; absent in older files.
    #[serde(default)]
    pub portal: PortalConfig,
}

/// `[portal]`: the customer self-service portal (R-5.2.3, R-6.1, R-6.2; docs/setup.md,
/// "[portal]"). Every key optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// argon2id parameters of customer passwords and preset download passwords (R-6.2f).
    pub password: crate::service::password::PasswordParams,
    /// Which password opens a downloaded package (R-6.1): `code` (the identity code just
    /// entered, a), `shown` (shown on the page, b), `mobile` (the customer's mobile number, c)
    /// or `chosen` (typed by the customer, e). Default `code`.
    pub download_key: crate::service::delivery::KeyPolicy,
    /// A session ends after this many minutes without a request (default 30).
    pub idle_minutes: u32,
    /// A session ends this many hours after its login, whatever its use (default 12).
    pub absolute_hours: u32,
    /// Login attempts per minute from one address (default 10); the rest are refused.
    pub logins_per_minute: u32,
    /// Failed logins after which an account is locked (default 5).
    pub lockout_after: u32,
    /// How long a locked account stays locked, in minutes (default 15).
    pub lockout_minutes: u32,
    /// One-time codes per hour to one address (e-mail or mobile; default 5).
    pub codes_per_hour: u32,
    /// One-time codes per hour asked for from one network address (default 20).
    pub codes_per_address_hour: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            password: crate::service::password::PasswordParams::default(),
            download_key: crate::service::delivery::KeyPolicy::IdentityCode,
            idle_minutes: 30,
            absolute_hours: 12,
            logins_per_minute: 10,
            lockout_after: 5,
            lockout_minutes: 15,
            codes_per_hour: 5,
            codes_per_address_hour: 20,
        }
    }
}

impl PortalConfig {
    /// Checks the values: time-outs and limits of at least 1, the password parameters in their
    /// bounds.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.password.check().map_err(|_| {
            ConfigError::Refused(
                "[portal] password 参数超出范围 (argon2id parameters out of bounds)",
            )
        })?;
        let positive = [
            self.idle_minutes,
            self.absolute_hours,
            self.logins_per_minute,
            self.lockout_after,
            self.lockout_minutes,
            self.codes_per_hour,
            self.codes_per_address_hour,
        ];
        if positive.contains(&0) {
            return Err(ConfigError::Refused(
                "[portal] 的时限与次数限制必须至少为 1 ([portal] time-outs and limits must be at least 1)",
            ));
        }
        if u64::from(self.idle_minutes) > u64::from(self.absolute_hours) * 60 {
            return Err(ConfigError::Refused(
                "[portal] idle_minutes 不得长于 absolute_hours (the idle time-out must not exceed the absolute one)",
            ));
        }
        Ok(())
    }
}

/// `[notify]`: how one-time codes and invitations reach customers (R-6.2a e-mail, R-6.2b SMS;
/// docs/setup.md, "[notify]"). Secrets (the SMTP password, the SMS access key secret) are never
/// written here: each is read from a file (`*_file`, relative to the configuration's folder,
/// like `[storage] master_key_file`) or an environment variable whose name is given (`*_env`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Demo instances only: a channel without a gateway prints its codes to the log, labelled
    /// 演示 (demo); refused on a production instance.
    pub console: bool,
    /// E-mail through an SMTP relay.
    pub email: Option<SmtpConfig>,
    /// SMS through a gateway.
    pub sms: Option<SmsConfig>,
}

impl NotifyConfig {
    /// Nothing configured (the table is left out when written).
    pub fn is_empty(&self) -> bool {
        *self == NotifyConfig::default()
    }
}

/// `[notify.email]`: an SMTP relay (the `lettre` crate; TLS by rustls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The relay's host name.
    pub host: String,
    /// Its port (default: 465 for `tls`, 587 for `starttls`, 25 for `none`).
    #[serde(default)]
    pub port: Option<u16>,
    /// `tls` (implicit TLS, default), `starttls` (required, never falls back to plain) or
    /// `none` (plain text: loopback or a trusted network only).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Sender address, e.g. `noreply@example.com`.
    pub from: String,
    /// Sender display name (default: the institute's name).
    #[serde(default)]
    pub from_name: Option<String>,
    /// Login name, when the relay wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the login password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the login password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Seconds to wait for the relay (default 20).
    #[serde(default = "default_notify_timeout")]
    pub timeout_secs: u64,
    /// A root certificate (PEM) trusted for the relay besides the system's, for a relay with
    /// the institute's own CA (`tls` and `starttls` only).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// `[notify.email] security`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text.
    None,
    /// STARTTLS, required.
    Starttls,
    /// TLS from the first byte.
    #[default]
    Tls,
}

/// `[notify.sms]`: an SMS gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `aliyun` (Alibaba Cloud SMS, dysmsapi `SendSms`) or `console` (demo instances only).
    pub provider: SmsProvider,
    /// The API's address (default `https://dysmsapi.aliyuncs.com/`).
    #[serde(default = "default_aliyun_endpoint")]
    pub endpoint: String,
    /// Region (default `cn-hangzhou`).
    #[serde(default = "default_aliyun_region")]
    pub region_id: String,
    /// AccessKey ID.
    #[serde(default)]
    pub access_key_id: String,
    /// File holding the AccessKey secret (first line).
    #[serde(default)]
    pub access_key_secret_file: Option<PathBuf>,
    /// Environment variable holding the AccessKey secret.
    #[serde(default)]
    pub access_key_secret_env: Option<String>,
    /// Approved signature (签名), e.g. `示例计量`.
    #[serde(default)]
    pub sign_name: String,
    /// Template codes per purpose: `register`, `login`, `recover`, `download`,
    /// `org_activate`, `invite`; `default` serves the purposes not listed.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, String>,
    /// The template's variable that receives the code (default `code`: `${code}`).
    #[serde(default = "default_code_param")]
    pub code_param: String,
    /// Seconds to wait for the gateway (default 20).
    #[serde(default = "default_notify_timeout")]
    pub timeout_secs: u64,
}

/// `[notify.sms] provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// Alibaba Cloud SMS (短信服务, dysmsapi 2017-05-25).
    Aliyun,
    /// Prints the code to the log, labelled 演示 (demo instances only).
    Console,
}

fn default_notify_timeout() -> u64 {
    20
}

fn default_aliyun_endpoint() -> String {
    "https://dysmsapi.aliyuncs.com/".into()
}

fn default_aliyun_region() -> String {
    "cn-hangzhou".into()
}

fn default_code_param() -> String {
    "code".into()
}

/// `[time]`: the NTP servers sealing times are checked against (R-7.2.2a; docs/setup.md). Sealing
/// is refused while the newest good measurement is older than `max_age_secs` or its offset
/// exceeds `max_offset_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeConfig {
    /// NTP servers (`host` or `host:port`), asked together; the answer with the shortest round
    /// trip counts. Absent: NTSC's public servers ([`NTSC_SERVERS`]), or the local clock on a
    /// demo instance. Empty: the local clock unchecked, which only a demo instance may use.
    pub servers: Option<Vec<String>>,
    /// Largest |offset| between the local clock and the servers for sealing (default 1000 ms:
    /// seals record whole seconds).
    pub max_offset_ms: u64,
    /// Oldest measurement sealing may rely on (default 3600 s).
    pub max_age_secs: u64,
    /// How often `ecert serve` measures (default 300 s).
    pub poll_secs: u64,
    /// How long to wait for a server's answer (default 2000 ms).
    pub timeout_ms: u64,
}

/// NTSC's public NTP service (R-7.2.2a: time traceable to the National Time Service Center).
pub const NTSC_SERVERS: &[&str] = &["ntp.ntsc.ac.cn"];

impl TimeConfig {
    /// The servers to ask: as configured, else NTSC's, else (demo) none: a demo instance seals
    /// with the local clock and says so.
    pub fn servers(&self, demo: bool) -> Vec<String> {
        match &self.servers {
            Some(list) => list.clone(),
            None if demo => Vec::new(),
            None => NTSC_SERVERS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Default for TimeConfig {
    fn default() -> Self {
        TimeConfig {
            servers: None,
            max_offset_ms: 1000,
            max_age_secs: 3600,
            poll_secs: 300,
            timeout_ms: 2000,
        }
    }
}

/// `[audit]`: how often the audit chain's head is signed and written beside every replica
/// (docs/architecture.md, "Audit checkpoints"). An entry appended after the newest checkpoint
/// can be removed from the end unnoticed until the next one: these bound that window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// A checkpoint once this many entries were appended since the last (default 100).
    pub checkpoint_every_entries: u64,
    /// A checkpoint once this many seconds passed since the last, when anything was appended
    /// (default 600).
    pub checkpoint_every_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            checkpoint_every_entries: 100,
            checkpoint_every_secs: 600,
        }
    }
}

/// `[server]`: the verification pages and the business-system API (`ecert serve`, docs/serve.md).
/// Environment variables override single keys (see [`ServerConfig::apply_env`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Plain HTTP on an address other than loopback (behind a TLS-terminating proxy only).
    pub allow_plain_http: bool,
    /// TLS certificate chain (PEM); with `tls_key`, the server speaks HTTPS only (rustls).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM, PKCS#8 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// Trusted roots (PEM files) for `POST /verify`; a demo instance trusts its trial root when
    /// this is empty.
    pub trust_roots: Vec<PathBuf>,
    /// Largest upload accepted by `POST /verify`, in bytes.
    pub max_upload_bytes: usize,
    /// Largest request body of the API, in bytes.
    pub max_api_body_bytes: usize,
    /// Seconds a status page stays cached (0: no cache). Changes made by this server clear
    /// the cache at once; changes made by another process show after at most this long.
    pub status_cache_secs: u64,
    /// Allowed clock difference of signed API requests, in seconds.
    pub api_max_skew_secs: u64,
    /// Requests per minute and client address for the number + check-code lookup (0: no limit).
    pub lookup_per_minute: u32,
    /// Uploads per minute and client address for `POST /verify` (0: no limit).
    pub verify_per_minute: u32,
    /// Resolution of the page previews.
    pub preview_dpi: f64,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `ecert=debug`.
    pub log_level: String,
    /// Certificates the API issues, revises, supplements or seals at the same time (0: two per
    /// CPU core, [`crate::service::default_issue_workers`]); further requests wait their turn.
    pub issue_workers: usize,
    /// API issuing requests that may wait for a turn; one more is answered 503 `busy` with
    /// `Retry-After`, so that a burst cannot pile up threads and memory.
    pub issue_queue: usize,
    /// Bearer token that opens `GET /metrics` (`Authorization: Bearer …`); also
    /// `ECERT_METRICS_TOKEN`. Without it (and without `metrics_public`) `/metrics` is closed.
    pub metrics_token: Option<String>,
    /// `GET /metrics` open to anyone (only where the network in front keeps strangers out).
    pub metrics_public: bool,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (rate limits,
    /// logs); the header of any other peer is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Refused unauthenticated API requests recorded one by one per address and minute; the
    /// rest are counted into one summary entry a minute (R-7.2.2d; default 10).
    pub refusals_logged_per_address: u32,
    /// The same bound for all addresses together (default 60).
    pub refusals_logged_per_minute: u32,
}

/// `[public]`: what the public pages (no login) show and offer (docs/serve.md, "What the
/// public sees"). Every key optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicConfig {
    /// Offer the certificate file for download to anyone holding the token or the number and
    /// check code. Off by default: R-7.2.3a gives files to identified users only.
    pub download: bool,
    /// How the pages show the customer's name; also decides whether page previews are public
    /// (they show the name as printed).
    pub customer_name: CustomerName,
}

impl Default for PublicConfig {
    fn default() -> Self {
        PublicConfig {
            download: false,
            customer_name: CustomerName::Masked,
        }
    }
}

/// `[public] customer_name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerName {
    /// Partly masked (`示例******公司`); no page previews.
    Masked,
    /// As printed; page previews are public.
    Full,
    /// Not shown; no page previews.
    Hidden,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            allow_plain_http: false,
            tls_cert: None,
            tls_key: None,
            trust_roots: Vec::new(),
            max_upload_bytes: 20 << 20,
            max_api_body_bytes: 8 << 20,
            status_cache_secs: 5,
            api_max_skew_secs: 300,
            lookup_per_minute: 30,
            verify_per_minute: 120,
            preview_dpi: 110.0,
            log_format: "text".into(),
            log_level: "info".into(),
            issue_workers: 0,
            issue_queue: 32,
            metrics_token: None,
            metrics_public: false,
            trusted_proxies: Vec::new(),
            refusals_logged_per_address: 10,
            refusals_logged_per_minute: 60,
        }
    }
}

impl ServerConfig {
    /// Applies `ECERT_LISTEN`, `ECERT_ALLOW_PLAIN_HTTP`, `ECERT_TLS_CERT`, `ECERT_TLS_KEY`,
    /// `ECERT_STATUS_CACHE_SECS`, `ECERT_LOOKUP_PER_MINUTE`, `ECERT_VERIFY_PER_MINUTE`,
    /// `ECERT_ISSUE_WORKERS`, `ECERT_ISSUE_QUEUE`, `ECERT_LOG_FORMAT` and `ECERT_LOG` from `vars`
    /// (normally `std::env::vars()`).
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(k: &str, v: &str) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Env {
                name: k.to_owned(),
                value: v.to_owned(),
            })
        }
        for (k, v) in vars {
            match k.as_str() {
                "ECERT_LISTEN" => self.listen = v,
                "ECERT_ALLOW_PLAIN_HTTP" => {
                    self.allow_plain_http = matches!(v.trim(), "1" | "true" | "yes")
                }
                "ECERT_TLS_CERT" => self.tls_cert = Some(v.into()),
                "ECERT_TLS_KEY" => self.tls_key = Some(v.into()),
                "ECERT_STATUS_CACHE_SECS" => self.status_cache_secs = num(&k, &v)?,
                "ECERT_LOOKUP_PER_MINUTE" => self.lookup_per_minute = num(&k, &v)?,
                "ECERT_VERIFY_PER_MINUTE" => self.verify_per_minute = num(&k, &v)?,
                "ECERT_LOG_FORMAT" => self.log_format = v,
                "ECERT_LOG" => self.log_level = v,
                "ECERT_ISSUE_WORKERS" => self.issue_workers = num(&k, &v)?,
                "ECERT_ISSUE_QUEUE" => self.issue_queue = num(&k, &v)?,
                "ECERT_METRICS_TOKEN" => self.metrics_token = Some(v),
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks the values that would otherwise fail late.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Refused(
                "tls_cert 与 tls_key 须同时配置 (set both tls_cert and tls_key, or neither)",
            ));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Refused(
                "log_format 应为 text 或 json (log_format must be text or json)",
            ));
        }
        if self.max_upload_bytes < 1024 || self.max_api_body_bytes < 1024 {
            return Err(ConfigError::Refused(
                "请求大小上限过小 (max_upload_bytes / max_api_body_bytes below 1024)",
            ));
        }
        if !(self.preview_dpi >= 30.0 && self.preview_dpi <= 300.0) {
            return Err(ConfigError::Refused(
                "preview_dpi 应在 30 到 300 之间 (preview_dpi must be 30..=300)",
            ));
        }
        Ok(())
    }
}

/// `[instance]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// Demo mode: the documentation root OID and the trial CA are allowed.
    #[serde(default)]
    pub demo: bool,
    /// Public base URL of the verification pages.
    pub base_url: String,
    /// Root code of identifiers (R-4.5.5).
    pub root_oid: String,
    /// Retention in years (R-6.5c: at least 6).
    #[serde(default = "default_retention")]
    pub retention_years: u32,
}

fn default_retention() -> u32 {
    6
}

/// `[institute]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstituteConfig {
    /// Name.
    pub name: String,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Organisation code / USCC (identifier part 3).
    pub org_code: String,
    /// Accreditation / authorisation id (identifier part 4): the key of files written before
    /// `accreditations`; see [`InstituteConfig::accreditations`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accreditation: Option<String>,
    /// Accreditations / authorisations the institute holds (identifier part 4); the first is
    /// the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accreditations: Vec<String>,
    /// Telephone.
    #[serde(default)]
    pub phone: String,
}

impl InstituteConfig {
    /// The configured accreditations, the default first: `accreditations`, or the old single
    /// `accreditation` when the list is absent ([`InstituteConfig::check_accreditations`]
    /// refuses the two when they disagree).
    pub fn accreditations(&self) -> Vec<String> {
        if self.accreditations.is_empty() {
            self.accreditation.iter().cloned().collect()
        } else {
            self.accreditations.clone()
        }
    }

    /// At least one accreditation, none twice, and the old key, when set beside the list,
    /// the list's first.
    pub fn check_accreditations(&self) -> Result<(), ConfigError> {
        let list = self.accreditations();
        if list.is_empty() {
            return Err(ConfigError::Refused(
                "[institute] 缺少认可/授权标识：请配置 accreditations = [\"…\"] (configure at least one accreditation, identifier part 4, R-4.5.5)",
            ));
        }
        if let (Some(one), Some(first)) = (&self.accreditation, self.accreditations.first())
            && one.trim() != first.trim()
        {
            return Err(ConfigError::Institute(format!(
                "[institute] accreditation = {one:?} 与 accreditations 的第一项 {first:?} 不一致：请只保留 accreditations (accreditation must equal the first of accreditations, the default; keep only the list)"
            )));
        }
        for (i, a) in list.iter().enumerate() {
            if list[..i].iter().any(|b| b.trim() == a.trim()) {
                return Err(ConfigError::Institute(format!(
                    "[institute] accreditations 中“{a}”出现两次 (listed twice)"
                )));
            }
        }
        Ok(())
    }
}

/// `[storage]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `sqlite://path` or `postgres://…`; a relative SQLite path is relative to the config file.
    pub database: String,
    /// Local folders that each receive every certificate file (R-6.5b).
    pub replicas: Vec<PathBuf>,
    /// S3-compatible buckets that each receive every certificate file too (`[[storage.s3]]`;
    /// credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` in the environment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s3: Vec<S3Config>,
    /// File with the hex SM4 master key.
    pub master_key_file: PathBuf,
    /// `ecert serve` scrubs every copy against its SM3 (repairing from an intact one) when the
    /// last scrub is older than this many hours (R-6.5g; default 168, a week; 0: never).
    #[serde(default = "default_scrub_every_hours")]
    pub scrub_every_hours: u64,
}

/// `[[storage.s3]]`: a bucket replica (docs/setup.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// Its name in messages and reports (default `s3-BUCKET`).
    #[serde(default)]
    pub name: Option<String>,
    /// The service's address, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or
    /// `http://127.0.0.1:9000`; absent: AWS for `region`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The region (default `us-east-1`).
    #[serde(default = "default_region")]
    pub region: String,
    /// A folder inside the bucket (default: the bucket's top).
    #[serde(default)]
    pub prefix: Option<String>,
    /// `endpoint/bucket/key` addressing (most self-hosted services; default true).
    #[serde(default = "default_true")]
    pub path_style: bool,
    /// Allow `http://` (a loopback test server only; default false).
    #[serde(default)]
    pub allow_http: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_true() -> bool {
    true
}

impl S3Config {
    /// The replica's name.
    pub fn name(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("s3-{}", self.bucket))
    }

    /// Where the store finds it.
    pub fn location(&self) -> ecert_store::S3Location {
        ecert_store::S3Location {
            name: self.name(),
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            prefix: self.prefix.clone(),
            path_style: self.path_style,
            allow_http: self.allow_http,
            credentials: None,
        }
    }
}

impl StorageConfig {
    /// How many replicas receive every file (local folders and buckets).
    pub fn replica_count(&self) -> usize {
        self.replicas.len() + self.s3.len()
    }

    /// Every replica of an instance in `dir`: the local folders (created when missing), then
    /// the buckets.
    pub fn open_replicas(
        &self,
        dir: &Path,
    ) -> Result<Vec<ecert_store::Replica>, ecert_store::StoreError> {
        let mut out = Vec::new();
        for (i, path) in self.replicas.iter().enumerate() {
            let full = Config::resolve(dir, path);
            out.push(ecert_store::Replica::local(
                format!("replica-{}", i + 1),
                &full,
            )?);
        }
        for b in &self.s3 {
            out.push(ecert_store::Replica::s3(&b.location())?);
        }
        Ok(out)
    }
}

fn default_scrub_every_hours() -> u64 {
    168
}

/// `[naming]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamingConfig {
    /// File name rule (R-4.4.3).
    pub rule: String,
}

impl Default for NamingConfig {
    fn default() -> Self {
        NamingConfig {
            rule: filename::DEFAULT_RULE.to_owned(),
        }
    }
}

/// The configuration file's name inside an instance folder.
pub const CONFIG_FILE: &str = "ecert.toml";

impl Config {
    /// A demo configuration for an instance in `dir` (the example institute of `examples/`).
    pub fn demo() -> Config {
        Config {
            instance: InstanceConfig {
                demo: true,
                base_url: "http://127.0.0.1:8080".into(),
                root_oid: DEMO_ROOT_OID.into(),
                retention_years: 6,
            },
            institute: InstituteConfig {
                name: "示例市计量测试研究院".into(),
                address: "江苏省苏州市示例区计量路1号".into(),
                org_code: "123456788".into(),
                accreditation: None,
                accreditations: vec!["CNAS L12345".into(), "（苏）法计（2023）00001".into()],
                phone: "0512-00000000".into(),
            },
            storage: StorageConfig {
                database: "sqlite://data/ecert.db".into(),
                replicas: vec!["data/replica-a".into(), "data/replica-b".into()],
                s3: Vec::new(),
                master_key_file: "data/master.key".into(),
                scrub_every_hours: default_scrub_every_hours(),
            },
            naming: NamingConfig::default(),
            server: ServerConfig::default(),
            audit: AuditConfig::default(),
            time: TimeConfig::default(),
            public: PublicConfig::default(),
            notify: NotifyConfig::default(),
            portal: PortalConfig::default(),
        }
    }

    /// Reads and checks `ecert.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let config: Config = match toml::from_str(&text) {
            Ok(c) => c,
            Err(source) => return Err(ConfigError::Parse { path, source }),
        };
        config.check()?;
        Ok(config)
    }

    /// Writes `ecert.toml` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(ConfigError::Serialize)?;
        let path = dir.join(CONFIG_FILE);
        std::fs::write(&path, text).map_err(|source| ConfigError::Write { path, source })
    }

    /// Checks the values that would otherwise fail late; the first problem found
    /// ([`Config::problems`] lists them all).
    pub fn check(&self) -> Result<(), ConfigError> {
        for (_, result) in self.checks() {
            result?;
        }
        Ok(())
    }

    /// Every problem of the values, each with the key it concerns (empty when
    /// [`Config::check`] passes).
    pub fn problems(&self) -> Vec<Problem> {
        self.checks()
            .into_iter()
            .filter_map(|(key, r)| r.err().map(|e| Problem::new(key, &e)))
            .collect()
    }

    /// Each check of the values with the key it concerns, in the order [`Config::check`]
    /// reports them.
    fn checks(&self) -> Vec<(&'static str, Result<(), ConfigError>)> {
        use crate::domain::{CertificateKind, Identifier};
        let mut checks = vec![
            (
                "naming.rule",
                filename::check_rule(&self.naming.rule).map_err(ConfigError::from),
            ),
            ("server", self.server.check()),
            ("portal", self.portal.check()),
            (
                "instance.retention_years",
                if self.instance.retention_years < 6 {
                    Err(ConfigError::Refused(
                        "保存期限不得少于 6 年 (retention_years must be at least 6, R-6.5c)",
                    ))
                } else {
                    Ok(())
                },
            ),
            (
                "storage.replicas",
                if self.storage.replica_count() < 2 {
                    Err(ConfigError::Refused(
                        "至少需要配置 2 个副本（本地目录或 S3 存储桶） (configure at least two replicas: folders or S3 buckets, R-6.5b)",
                    ))
                } else {
                    Ok(())
                },
            ),
        ];
        // R-4.5.5: each part of the identifier on its own (with known-good other parts, so
        // that the problem names its key), then all together.
        let (good_org, good_acc) = ("123456788", "CNAS L12345");
        let probe = |root: &str, org: &str, acc: &str| {
            Identifier::new(root, CertificateKind::Other, org, acc, "X", 0)
        };
        let root = probe(&self.instance.root_oid, good_org, good_acc)
            .and_then(|id| id.check_root_allowed(self.instance.demo))
            .map_err(ConfigError::from);
        let org = probe(DEMO_ROOT_OID, &self.institute.org_code, good_acc)
            .map(drop)
            .map_err(ConfigError::from);
        let accreditations = self.institute.check_accreditations().and_then(|()| {
            for a in self.institute.accreditations() {
                probe(DEMO_ROOT_OID, good_org, &a)?;
            }
            Ok(())
        });
        let parts_ok = root.is_ok() && org.is_ok() && accreditations.is_ok();
        checks.push(("instance.root_oid", root));
        checks.push(("institute.org_code", org));
        checks.push(("institute.accreditations", accreditations));
        if parts_ok {
            let together = self.institute.accreditations().iter().try_for_each(|a| {
                probe(&self.instance.root_oid, &self.institute.org_code, a).map(drop)
            });
            checks.push(("institute", together.map_err(ConfigError::from)));
        }
        checks.push((
            "instance.base_url",
            if self.instance.base_url.starts_with("https://")
                || self.instance.base_url.starts_with("http://")
            {
                Ok(())
            } else {
                Err(ConfigError::Refused(
                    "base_url 应以 http:// 或 https:// 开头 (base_url must be an http(s) URL)",
                ))
            },
        ));
        let console_sms = self
            .notify
            .sms
            .as_ref()
            .is_some_and(|s| s.provider == SmsProvider::Console);
        checks.push((
            "notify",
            if (self.notify.console || console_sms) && !self.instance.demo {
                Err(ConfigError::Refused(
                    "控制台发送验证码（演示）只能用于演示实例：请配置 [notify.email] 或 [notify.sms] (printing codes to the log is for demo instances only; configure a mail or SMS gateway, R-6.2a/b)",
                ))
            } else {
                Ok(())
            },
        ));
        checks.push((
            "storage.database",
            if self.storage.database.starts_with("sqlite://")
                || self.storage.database.starts_with("postgres://")
                || self.storage.database.starts_with("postgresql://")
            {
                Ok(())
            } else {
                Err(ConfigError::Refused(
                    "database 应为 sqlite://… 或 postgres://… (database must be a sqlite:// or postgres:// URL)",
                ))
            },
        ));
        checks
    }

    /// Every problem of what the configuration points to in `dir`: the master key file
    /// (present, a key, readable by its owner only, R-7.2.3d), the trust roots (readable
    /// certificates; a production instance needs at least one to issue, R-5.2.1), the TLS
    /// files. `key_expected`: the master key must already exist (false while `ecert init`
    /// is about to make it).
    pub fn resource_problems(&self, dir: &Path, key_expected: bool) -> Vec<Problem> {
        let mut problems = Vec::new();
        let key_path = Config::resolve(dir, &self.storage.master_key_file);
        match std::fs::read_to_string(&key_path) {
            Ok(text) => {
                if ecert_store::MasterKey::from_hex(text.trim()).is_err() {
                    problems.push(Problem::text(
                        "storage.master_key_file",
                        format!(
                            "{} 不是主密钥（32 位十六进制）(not a master key: 32 hex digits)",
                            key_path.display()
                        ),
                    ));
                }
                #[cfg(unix)]
                if let Ok(meta) = std::fs::metadata(&key_path) {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        problems.push(Problem::text(
                            "storage.master_key_file",
                            format!(
                                "{} 的权限为 {mode:o}，其他用户可读：请执行 chmod 600 (readable by others; run chmod 600)",
                                key_path.display()
                            ),
                        ));
                    }
                }
            }
            Err(e) if key_expected => problems.push(Problem::text(
                "storage.master_key_file",
                format!(
                    "无法读取主密钥 {} (cannot read the master key): {e}；新实例请运行 ecert init (a new instance: run ecert init)",
                    key_path.display()
                ),
            )),
            Err(_) => {}
        }
        if self.server.trust_roots.is_empty() && !self.instance.demo {
            problems.push(Problem::text(
                "server.trust_roots",
                "没有信任根：正式实例须配置 CA 根证书（PEM 文件路径；ecert init --trust-root CA.pem）才能签发和导入印章 \
                 (no trust root: a production instance needs its CA root certificates, as PEM file paths, \
                 to issue and to import seals; ecert init --trust-root CA.pem)"
                    .into(),
            ));
        }
        for root in &self.server.trust_roots {
            let path = Config::resolve(dir, root);
            let problem = match std::fs::read_to_string(&path) {
                Err(e) => Some(e.to_string()),
                Ok(pem) => match ses::pki::Cert::from_pem_bundle(&pem) {
                    Err(e) => Some(e.to_string()),
                    Ok(certs) if certs.is_empty() => Some("没有证书 (no certificate)".into()),
                    Ok(_) => None,
                },
            };
            if let Some(problem) = problem {
                problems.push(Problem::text(
                    "server.trust_roots",
                    format!(
                        "信任根无效 {} (invalid trust root): {problem}",
                        path.display()
                    ),
                ));
            }
        }
        for (key, file) in [
            ("server.tls_cert", &self.server.tls_cert),
            ("server.tls_key", &self.server.tls_key),
        ] {
            if let Some(file) = file {
                let path = Config::resolve(dir, file);
                if let Err(e) = std::fs::metadata(&path) {
                    problems.push(Problem::text(
                        key,
                        format!("无法读取 {} (cannot read): {e}", path.display()),
                    ));
                }
            }
        }
        problems
    }

    /// Reads `ecert.toml` in `dir` and returns every problem at once, each naming its key:
    /// syntax, unknown and missing keys, values of the wrong type, refused values
    /// ([`Config::problems`]) and what the values point to ([`Config::resource_problems`]).
    /// The configuration is returned when its form is right (its values may still have
    /// problems).
    pub fn check_file(dir: &Path, key_expected: bool) -> (Option<Config>, Vec<Problem>) {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(source) => {
                let e = ConfigError::Read { path, source };
                return (None, vec![Problem::new(CONFIG_FILE, &e)]);
            }
        };
        let mut table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => return (None, vec![Problem::text(CONFIG_FILE, e.to_string())]),
        };
        let reference = toml::Table::try_from(Config::demo()).unwrap_or_default();
        let mut problems = Vec::new();
        // Keys given a stand-in value so that the rest can be read; their values are not
        // judged further.
        let mut patched: Vec<String> = Vec::new();
        let mut config = None;
        for _ in 0..200 {
            let de = toml::Value::Table(table.clone());
            match serde_path_to_error::deserialize::<_, Config>(de) {
                Ok(c) => {
                    config = Some(c);
                    break;
                }
                Err(e) => {
                    let mut at: Vec<String> = e
                        .path()
                        .iter()
                        .filter_map(|s| match s {
                            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                            _ => None,
                        })
                        .collect();
                    // The deserializer's own message, without the location it appends (the
                    // key is named here already).
                    let message = e
                        .inner()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let field = |prefix: &str| {
                        message
                            .strip_prefix(prefix)
                            .and_then(|m| m.split('`').next())
                            .map(str::to_owned)
                    };
                    if let Some(name) = field("unknown field `") {
                        if at.last() != Some(&name) {
                            at.push(name);
                        }
                        problems.push(Problem::text(
                            &at.join("."),
                            "未知的配置项 (unknown key)".into(),
                        ));
                        if !remove_at(&mut table, &at) {
                            break;
                        }
                    } else if let Some(name) = field("missing field `") {
                        at.push(name);
                        problems.push(Problem::text(
                            &at.join("."),
                            "缺少必填项 (required key missing)".into(),
                        ));
                        patched.push(at.join("."));
                        if !copy_at(&mut table, &reference, &at) {
                            break;
                        }
                    } else {
                        problems.push(Problem::text(
                            &at.join("."),
                            format!("值无效 (invalid value): {message}"),
                        ));
                        patched.push(at.join("."));
                        if !copy_at(&mut table, &reference, &at) && !remove_at(&mut table, &at) {
                            break;
                        }
                    }
                }
            }
        }
        let Some(config) = config else {
            return (None, problems);
        };
        // A check of a key given a stand-in (or of a key inside or around it) says nothing.
        let judged = |p: &Problem| {
            !patched.iter().any(|k| {
                p.key == *k
                    || p.key.starts_with(&format!("{k}."))
                    || k.starts_with(&format!("{}.", p.key))
            })
        };
        problems.extend(config.problems().into_iter().filter(|p| judged(p)));
        problems.extend(
            config
                .resource_problems(dir, key_expected)
                .into_iter()
                .filter(|p| judged(p)),
        );
        (Some(config), problems)
    }

    /// The database URL with a relative SQLite path resolved against `dir`.
    pub fn database_url(&self, dir: &Path) -> String {
        match self.storage.database.strip_prefix("sqlite://") {
            Some(path) if !path.starts_with('/') => {
                let (file, query) = path.split_once('?').unwrap_or((path, ""));
                let full = dir.join(file);
                let query = if query.is_empty() {
                    "mode=rwc".to_owned()
                } else {
                    query.to_owned()
                };
                format!("sqlite://{}?{query}", full.display())
            }
            _ => self.storage.database.clone(),
        }
    }

    /// A path from the configuration resolved against `dir`.
    pub fn resolve(dir: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            dir.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_round_trips_and_checks() {
        let dir = std::env::temp_dir().join(format!("ecert-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let config = Config::demo();
        config.save(&dir).expect("save");
        assert_eq!(Config::load(&dir).expect("load"), config);
        assert!(config.database_url(&dir).starts_with(&format!(
            "sqlite://{}/data/ecert.db?mode=rwc",
            dir.display()
        )));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Files written before `[server]` existed still load, with the defaults.
    #[test]
    fn server_table_is_optional_and_env_overrides_it() {
        let mut text = toml::to_string_pretty(&Config::demo()).expect("toml");
        let at = text.find("[server]").expect("server table");
        text.truncate(at);
        let mut c: Config = toml::from_str(&text).expect("old file loads");
        assert_eq!(c.server, ServerConfig::default());
        c.server
            .apply_env([
                ("ECERT_LISTEN".to_owned(), "0.0.0.0:9000".to_owned()),
                ("ECERT_STATUS_CACHE_SECS".to_owned(), "0".to_owned()),
            ])
            .expect("env");
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        assert_eq!(c.server.status_cache_secs, 0);
        assert!(matches!(
            c.server
                .apply_env([("ECERT_LOOKUP_PER_MINUTE".to_owned(), "x".to_owned())]),
            Err(ConfigError::Env { name, .. }) if name == "ECERT_LOOKUP_PER_MINUTE"
        ));
    }

    /// R-4.5.5 / R-6.5c / R-6.5b: the configuration refuses what the standard forbids.
    #[test]
    fn r_6_5b_buckets_count_as_replicas_and_read_from_toml() {
        let mut c = Config::demo();
        c.storage.replicas.truncate(1);
        assert!(matches!(c.check(), Err(ConfigError::Refused(m)) if m.contains("R-6.5b")));
        let text = r#"
            bucket = "ecert-certificates"
            endpoint = "https://oss-cn-hangzhou.aliyuncs.com"
            region = "cn-hangzhou"
            path_style = false
        "#;
        let b: S3Config = toml::from_str(text).expect("[[storage.s3]]");
        assert_eq!(b.name(), "s3-ecert-certificates");
        assert!(!b.path_style && !b.allow_http);
        let location = b.location();
        assert!(
            location.credentials.is_none(),
            "credentials only from the environment"
        );
        c.storage.s3.push(b);
        assert_eq!(c.storage.replica_count(), 2);
        c.check().expect("a folder and a bucket are two replicas");
        // A key the table does not have is named.
        let wrong: Result<S3Config, _> = toml::from_str("bucket = \"b\"\nsecret = \"x\"");
        assert!(
            wrong
                .expect_err("unknown key")
                .to_string()
                .contains("secret")
        );
        // Saved and read back with the instance's configuration.
        let dir = tempfile::tempdir().expect("temp dir");
        c.save(dir.path()).expect("saved");
        assert_eq!(
            Config::load(dir.path()).expect("loaded").storage.s3,
            c.storage.s3
        );
    }

    #[test]
    fn configuration_refuses_unsafe_settings() {
        let mut c = Config::demo();
        c.instance.demo = false;
        assert!(matches!(
            c.check().expect_err("demo root outside demo"),
            ConfigError::Identifier(IdentifierError::DemoRootInProduction)
        ));
        let mut c = Config::demo();
        c.instance.retention_years = 5;
        assert!(matches!(c.check(), Err(ConfigError::Refused(m)) if m.contains("R-6.5c")));
        let mut c = Config::demo();
        c.storage.replicas.pop();
        assert!(matches!(c.check(), Err(ConfigError::Refused(m)) if m.contains("R-6.5b")));
        let mut c = Config::demo();
        c.naming.rule = "{证书编号}.ofd".into();
        assert!(matches!(
            c.check(),
            Err(ConfigError::Naming(FileNameError::RuleMissing(_)))
        ));
        let mut c = Config::demo();
        c.server.tls_key = Some("key.pem".into());
        assert!(matches!(c.check(), Err(ConfigError::Refused(m)) if m.contains("tls_cert")));
        let mut c = Config::demo();
        c.institute.org_code = "123456789".into();
        assert!(matches!(c.check(), Err(ConfigError::Identifier(_))));
    }

    /// `[institute]`: the old single `accreditation` still reads (as a list of one); beside
    /// `accreditations` it must be the list's first; an empty, repeated or malformed
    /// accreditation is refused.
    #[test]
    fn accreditations_old_and_new_keys() {
        let demo = toml::to_string_pretty(&Config::demo()).expect("toml");
        assert!(demo.contains("accreditations = ["), "{demo}");
        let old = demo.replace(
            "accreditations = [\n    \"CNAS L12345\",\n    \"（苏）法计（2023）00001\",\n]",
            "accreditation = \"CNAS L12345\"",
        );
        assert!(old.contains("accreditation = \"CNAS L12345\""), "{old}");
        let c: Config = toml::from_str(&old).expect("an old file loads");
        c.check().expect("and checks");
        assert_eq!(c.institute.accreditations(), ["CNAS L12345"]);

        let mut c = Config::demo();
        c.institute.accreditation = Some("CNAS L12345".into());
        c.check().expect("the old key repeating the default");
        c.institute.accreditation = Some("（苏）法计（2023）00001".into());
        let err = c
            .check()
            .expect_err("old key disagrees with the list's default");
        assert!(err.to_string().contains("accreditation"), "{err}");

        let mut c = Config::demo();
        c.institute.accreditations.clear();
        assert!(c.check().is_err(), "no accreditation at all");
        let mut c = Config::demo();
        c.institute.accreditations.push("CNAS L12345".into());
        assert!(c.check().is_err(), "listed twice");
        let mut c = Config::demo();
        c.institute.accreditations.push("A·B".into());
        assert!(c.check().is_err(), "not an identifier part");
    }

    /// `[notify]` (docs/setup.md): the documented example reads; the console gateway is for
    /// demo instances only; an unknown key (a WeChat table, say) is refused, not ignored.
    #[test]
    fn notify_table_reads_and_console_is_demo_only() {
        let demo = toml::to_string_pretty(&Config::demo()).expect("toml");
        assert!(
            !demo.contains("[notify"),
            "empty [notify] is left out: {demo}"
        );
        let text = format!(
            "{demo}\n[notify.email]\nhost = \"smtp.example.com\"\nsecurity = \"tls\"\n\
             from = \"noreply@example.com\"\nusername = \"noreply@example.com\"\n\
             password_file = \"secrets/smtp.pass\"\n\n[notify.sms]\nprovider = \"aliyun\"\n\
             access_key_id = \"LTAI0\"\naccess_key_secret_env = \"ECERT_ALIYUN_SECRET\"\n\
             sign_name = \"示例计量\"\n\
             templates = {{ default = \"SMS_000000001\", download = \"SMS_000000002\" }}\n"
        );
        let c: Config = toml::from_str(&text).expect("documented example");
        c.check().expect("checks");
        let email = c.notify.email.as_ref().expect("email");
        assert_eq!(email.security, SmtpSecurity::Tls);
        assert_eq!(email.port, None);
        assert_eq!(email.timeout_secs, 20);
        let sms = c.notify.sms.as_ref().expect("sms");
        assert_eq!(sms.endpoint, "https://dysmsapi.aliyuncs.com/");
        assert_eq!(
            sms.templates.get("download").map(String::as_str),
            Some("SMS_000000002")
        );
        assert_eq!(sms.code_param, "code");

        let mut c = Config::demo();
        c.notify.console = true;
        c.check().expect("a demo instance may print codes");
        c.instance.demo = false;
        let problems = c.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.key == "notify" && p.message.contains("演示")),
            "{problems:?}"
        );

        let wechat = format!("{demo}\n[notify.wechat]\napp_id = \"wx0\"\n");
        assert!(toml::from_str::<Config>(&wechat).is_err());
    }
}
