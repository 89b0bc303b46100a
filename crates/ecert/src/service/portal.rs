//! The customer portal's service: accounts of natural persons
//! and organisations, logins by password or one-time code, sessions, recovery, the list of a
//! customer's own certificates and the identity-checked, encrypted download. The pages
//! (`web::portal`) call only this; nothing here knows HTTP.
//!
//! Rules kept here, whatever page calls:
//! - No enumeration: a login, a code request or a recovery for an address nobody verified gets
//!   the same answer as one for a known address, and a password is checked at the same cost
//!   ([`super::password::dummy_verify`]); messages for known addresses go out on a background
//!   task, so the answer's timing does not tell either.
//! - Codes: 6 digits, single use, 10 minutes, 5 tries, only the newest counts; per
//!   destination, per network address and in all per hour limited (`[portal] codes_*`).
//! - Sessions live in the database as SM3 of their id (they survive a restart and serve several
//!   nodes); a login always makes a new id (no fixation); idle and absolute time-outs; "log out
//!   everywhere" ends them all.
//! - A customer reaches only certificates bound to one of their verified channels or to the
//!   credit code of an active organisation they belong to (`Store::may_see`), by any id.
//! - Every login, code sent and download is in the audit chain; a download's entry (with the
//!   SM3 of the bytes sent) is written before the bytes go out (R-7.2.3b).

use std::fmt::Write as _;

use axum::http::StatusCode;
use ecert_store::{
    Account, AccountKind, AccountState, CertificateRecord, CertificateStatus, CodeCheck,
    CodePurpose, CustomerKeys, IndexKind, NewCode, Org, OrgState, PackageItem, PortalDownload,
    PortalQuery, Role, StoreError, SupplementRecord,
};
use serde_json::json;
use zeroize::Zeroizing;

use super::delivery::{KeyPolicy, Package};
use super::notify::{Channel, ChannelKind, Notifier, Purpose};
use super::password::{check_new_password, dummy_verify, hash_password, verify_password};
use super::{Error, Instance, StoredFile, cpu, internal};
use crate::domain::uscc::Uscc;

/// Tries of a one-time code before it is locked.
pub const CODE_TRIES: i64 = 5;
/// Life of a one-time code in milliseconds (R-6.2: 10 minutes).
pub const CODE_TTL_MS: i64 = super::notify::CODE_LIFETIME_MINUTES as i64 * 60_000;
/// Codes asked for by anyone, per hour, before every further request is refused: the bound of
/// what unauthenticated callers can make the service send and record.
pub const CODES_TOTAL_PER_HOUR: i64 = 1000;
/// Pending registrations (no code entered) are forgotten after this long.
pub const PENDING_ACCOUNT_MS: i64 = 24 * 3600 * 1000;
/// Invitations stay open this long.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// Longest name (characters) a form may give.
pub const MAX_NAME_CHARS: usize = 100;
/// Certificates in one download package at most.
pub const MAX_PACKAGE: usize = 50;

/// A refusal of the portal, with its HTTP status, a machine code and a message in Chinese and
/// English; or a failure of the service underneath.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// The customer's request is refused.
    #[error("{zh} ({en})")]
    Refused {
        /// HTTP status.
        status: StatusCode,
        /// Machine code.
        code: &'static str,
        /// Chinese.
        zh: String,
        /// English.
        en: String,
    },
    /// The service failed.
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        PortalError::Service(Error::from(e))
    }
}

fn refused(
    status: StatusCode,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> PortalError {
    PortalError::Refused {
        status,
        code,
        zh: zh.into(),
        en: en.into(),
    }
}

/// A form field that is malformed: 422 naming the field.
pub fn bad_field(zh: impl Into<String>, en: impl Into<String>) -> PortalError {
    refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", zh, en)
}

fn too_many(zh: &str, en: &str) -> PortalError {
    refused(StatusCode::TOO_MANY_REQUESTS, "rate_limited", zh, en)
}

/// The one answer of every failed login (unknown address, wrong password, locked account,
/// account not active): nothing tells which.
pub fn login_failed() -> PortalError {
    refused(
        StatusCode::UNAUTHORIZED,
        "login_failed",
        "登录失败：账号或密码错误，或账户因多次失败已暂时锁定",
        "Login failed: wrong account or password, or the account is locked for a while after repeated failures",
    )
}

/// The one answer of a code that did not open a login or a recovery.
fn code_failed() -> PortalError {
    refused(
        StatusCode::UNAUTHORIZED,
        "code_failed",
        "验证码错误或已失效，请重新获取",
        "The code is wrong or no longer valid; ask for a new one",
    )
}

/// The answer of a code check for a subject the customer knows (registration, download).
fn code_refusal(check: &CodeCheck) -> PortalError {
    let (zh, en) = match check {
        CodeCheck::Wrong { tries_left } => (
            format!("验证码错误，还可尝试 {tries_left} 次"),
            format!("Wrong code; {tries_left} tries left"),
        ),
        CodeCheck::Locked => (
            "验证码错误次数过多，已锁定，请重新获取".to_owned(),
            "Too many wrong codes: locked; ask for a new one".to_owned(),
        ),
        CodeCheck::Expired => (
            "验证码已过期（10 分钟内有效），请重新获取".to_owned(),
            "The code has expired (valid for 10 minutes); ask for a new one".to_owned(),
        ),
        CodeCheck::Used => (
            "验证码已使用，请重新获取".to_owned(),
            "The code was used already; ask for a new one".to_owned(),
        ),
        CodeCheck::Unknown | CodeCheck::Accepted { .. } => (
            "验证码错误或已失效，请重新获取".to_owned(),
            "The code is wrong or no longer valid; ask for a new one".to_owned(),
        ),
    };
    refused(StatusCode::UNAUTHORIZED, "code_failed", zh, en)
}

/// The address a customer typed: an e-mail when it has an `@`, else a mobile number.
pub fn parse_address(s: &str) -> Result<Channel, PortalError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(bad_field(
            "请填写邮箱或手机号",
            "Enter an e-mail address or a mobile number",
        ));
    }
    let parsed = if s.contains('@') {
        Channel::email(s)
    } else {
        Channel::mobile(s)
    };
    parsed.map_err(|e| bad_field(format!("{e}"), format!("{e}")))
}

fn index_kind(c: &Channel) -> IndexKind {
    match c.kind() {
        ChannelKind::Email => IndexKind::Email,
        ChannelKind::Mobile => IndexKind::Mobile,
    }
}

fn purpose_of(p: CodePurpose) -> Purpose {
    match p {
        CodePurpose::Register | CodePurpose::Channel => Purpose::Register,
        CodePurpose::Login => Purpose::Login,
        CodePurpose::Recover => Purpose::Recover,
        CodePurpose::OrgActivate => Purpose::OrgActivate,
        CodePurpose::Invite => Purpose::Invite,
        CodePurpose::Download => Purpose::Download,
    }
}

/// A new one-time code: 6 digits, uniform.
fn new_code() -> Result<Zeroizing<String>, Error> {
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(internal("系统随机数 (random source)"))?;
        let n = u32::from_le_bytes(b);
        // Largest multiple of 10^6 below 2^32: values above it are drawn again.
        if n < 4_294_000_000 {
            return Ok(Zeroizing::new(format!("{:06}", n % 1_000_000)));
        }
    }
}

fn random_token(bytes: usize) -> Result<String, Error> {
    super::random_hex(bytes)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A session just made by a login: the id goes into the cookie (only its SM3 is stored).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id (cookie value).
    pub id: String,
    /// The account.
    pub account: Account,
}

/// A live session, as a request finds it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// The session id (cookie value).
    pub id: String,
    /// The account.
    pub account: Account,
    /// The secret its form tokens are made from.
    pub csrf_secret: Vec<u8>,
}

/// A registration waiting for its code.
#[derive(Debug, Clone)]
pub struct PendingRegistration {
    /// The new account (pending).
    pub account_id: String,
    /// Where the code went, masked.
    pub sent_to: String,
}

/// One row of a customer's list: the certificate, its status statements and its supplements
/// (shown under it, R-6.4.2).
#[derive(Debug, Clone)]
pub struct PortalItem {
    /// The certificate.
    pub certificate: CertificateRecord,
    /// The exact statements of and R-6.5h.
    pub messages: Vec<String>,
    /// Its supplements.
    pub supplements: Vec<SupplementRecord>,
}

/// What a download needs checked first: the certificates, where a code can go (the
/// contacts the business system gave, common to every certificate asked for), and whether a
/// preset download password (R-6.2f) can be used instead.
#[derive(Debug, Clone)]
pub struct DownloadPlan {
    /// The certificates (each visible to the account), in the order asked.
    pub items: Vec<PortalItem>,
    /// Channels a code may be sent to.
    pub channels: Vec<Channel>,
    /// True when the one certificate asked for has a preset download password.
    pub password: bool,
    /// The subject the identity code is bound to (account and certificates).
    pub subject: String,
}

/// How the customer proved their identity for a download.
#[derive(Debug, Clone)]
pub enum IdentityCheck {
    /// A code sent to one of the plan's channels (R-6.2a SMS, R-6.2b e-mail).
    Code {
        /// Where it was sent.
        channel: Channel,
        /// What was entered.
        code: Zeroizing<String>,
    },
    /// The preset download password (R-6.2f).
    Password(Zeroizing<String>),
}

/// A package ready to send.
#[derive(Debug)]
pub struct Delivered {
    /// The encrypted ZIP.
    pub bytes: Vec<u8>,
    /// Its file name.
    pub file_name: String,
    /// SM3 of the bytes.
    pub sm3: [u8; 32],
    /// The package id in the download log.
    pub package_id: String,
}

impl Instance {
    /// The portal's keys.
    pub(crate) fn portal_keys(&self) -> &CustomerKeys {
        &self.customer_keys
    }

    async fn audit_portal(&self, actor: &str, action: &str, subject: &str, d: serde_json::Value) {
        if let Err(e) = self.audit(actor, action, subject, &d).await {
            tracing::error!(error = %e, action, "portal: audit write failed");
        }
    }

    /// Refuses a code request beyond the per-hour limits: to this destination, from this
    /// network address, and in all.
    async fn code_limits(
        &self,
        target: &[u8; 32],
        remote: Option<&str>,
    ) -> Result<(), PortalError> {
        let cfg = &self.config.portal;
        let hour_ago = now_ms() - 3_600_000;
        if self.store.codes_sent_to(target, hour_ago).await? >= i64::from(cfg.codes_per_hour) {
            return Err(too_many(
                "发送到该地址的验证码过多，请一小时后再试",
                "Too many codes sent to this address; try again in an hour",
            ));
        }
        if let Some(r) = remote
            && self.store.codes_requested_from(r, hour_ago).await?
                >= i64::from(cfg.codes_per_address_hour)
        {
            return Err(too_many(
                "获取验证码过于频繁，请一小时后再试",
                "Too many codes asked for from your address; try again in an hour",
            ));
        }
        if self.store.codes_created_since(hour_ago).await? >= CODES_TOTAL_PER_HOUR {
            return Err(too_many(
                "系统繁忙，暂时无法发送验证码，请稍后再试",
                "The service is sending too many codes just now; try again later",
            ));
        }
        Ok(())
    }

    /// Stores a new code for `purpose`/`subject` to `to` and sends it. `background`: send on a
    /// task and answer at once (the answer's time must not tell whether anything was sent);
    /// otherwise a failure to send is the caller's error. Audited as `portal.code_sent`.
    #[allow(clippy::too_many_arguments)]
    async fn send_code(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        purpose: CodePurpose,
        subject: &str,
        to: &Channel,
        actor: &str,
        remote: Option<&str>,
        background: bool,
    ) -> Result<(), PortalError> {
        if !notifier.can_send(to.kind()) {
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                match to.kind() {
                    ChannelKind::Email => "未配置邮件发送，无法发送验证码，请联系发证机构",
                    ChannelKind::Mobile => {
                        "未配置短信发送，无法发送验证码，请改用邮箱或联系发证机构"
                    }
                },
                match to.kind() {
                    ChannelKind::Email => {
                        "E-mail is not configured: no code can be sent; contact the issuer"
                    }
                    ChannelKind::Mobile => {
                        "SMS is not configured: no code can be sent; use e-mail or contact the issuer"
                    }
                },
            ));
        }
        let keys = self.portal_keys();
        let target = keys.index(index_kind(to), to.as_str())?;
        self.code_limits(&target, remote).await?;
        let code = new_code()?;
        self.store
            .store_code(
                keys,
                &NewCode {
                    purpose,
                    target_index: target,
                    subject,
                    code: &code,
                    ttl_ms: CODE_TTL_MS,
                    remote,
                },
            )
            .await?;
        let institute = self.config.institute.name.clone();
        let notifier = notifier.clone();
        let channel = to.clone();
        let send = move || notifier.send_code(&channel, &code, purpose_of(purpose), &institute);
        let details = |gateway: &str, demo: bool| {
            json!({
                "purpose": purpose.as_str(),
                "to": match to.kind() { ChannelKind::Email => "email", ChannelKind::Mobile => "mobile" },
                "masked": to.masked(),
                "gateway": gateway,
                "demo": demo,
                "remote": remote,
            })
        };
        if background {
            let audit_details = details("", false);
            let sent = tokio::task::spawn_blocking(send);
            self.audit_portal(actor, "portal.code_sent", subject, audit_details)
                .await;
            tokio::spawn(async move {
                match sent.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "验证码发送失败 (sending a code failed)")
                    }
                    Err(e) => tracing::warn!(error = %e, "验证码发送失败 (sending a code failed)"),
                }
            });
            return Ok(());
        }
        let sent = tokio::task::spawn_blocking(send)
            .await
            .map_err(internal("发送线程 (the sending thread)"))?
            .map_err(|e| {
                refused(
                    StatusCode::BAD_GATEWAY,
                    "send_failed",
                    format!("验证码发送失败：{e}"),
                    format!("The code could not be sent: {e}"),
                )
            })?;
        self.audit_portal(
            actor,
            "portal.code_sent",
            subject,
            details(&sent.gateway, sent.demo),
        )
        .await;
        Ok(())
    }

    /// Registers a natural person with one address and a password; the account is
    /// active once the code sent there is entered ([`Instance::portal_confirm_registration`]).
    /// The answer is the same whether or not the address already belongs to an account.
    pub async fn portal_register(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        name: Option<&str>,
        address: &Channel,
        password: Zeroizing<String>,
        remote: Option<&str>,
    ) -> Result<PendingRegistration, PortalError> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = name
            && (n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
        {
            return Err(bad_field(
                format!("姓名不得超过 {MAX_NAME_CHARS} 个字符，且不得含控制字符"),
                format!(
                    "The name may have at most {MAX_NAME_CHARS} characters and no control characters"
                ),
            ));
        }
        let context: Vec<&str> = match address {
            Channel::Email(e) => vec![e.split('@').next().unwrap_or(e), e.as_str()],
            Channel::Mobile(m) => vec![m.as_str()],
        };
        check_new_password(&password, &context)
            .map_err(|p| bad_field(p.to_string(), p.to_string()))?;
        if !notifier.can_send(address.kind()) {
            // Said before anything is stored.
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                "未配置该类验证码的发送，请改用其他方式注册",
                "Codes cannot be sent to this kind of address here; register with another",
            ));
        }
        let keys = self.portal_keys();
        let target = keys.index(index_kind(address), address.as_str())?;
        self.code_limits(&target, remote).await?;
        let params = self.config.portal.password;
        let hash = cpu(move || {
            hash_password(&params, &password).map_err(internal("口令哈希 (password hash)"))
        })
        .await?;
        let (account, _) = self
            .store
            .create_account(
                keys,
                AccountKind::Person,
                name,
                &[(index_kind(address), address.as_str())],
                Some(&hash),
            )
            .await?;
        let actor = format!("customer:{}", account.id);
        self.send_code(
            notifier,
            CodePurpose::Register,
            &account.id,
            address,
            &actor,
            remote,
            false,
        )
        .await?;
        Ok(PendingRegistration {
            account_id: account.id,
            sent_to: address.masked(),
        })
    }

    /// Enters the registration code: the address is verified, the account active, and a
    /// session made. An address another account verified meanwhile is refused (the owner of
    /// that address, who got the code, learns it; nobody else does).
    pub async fn portal_confirm_registration(
        &self,
        account_id: &str,
        code: &str,
        remote: Option<&str>,
    ) -> Result<NewSession, PortalError> {
        let keys = self.portal_keys();
        let check = self
            .store
            .check_code(keys, CodePurpose::Register, account_id, code, CODE_TRIES)
            .await?;
        let CodeCheck::Accepted { target_index } = check else {
            return Err(code_refusal(&check));
        };
        self.verify_channel_by_index(account_id, &target_index)
            .await?;
        self.portal_login_session(account_id, "register", remote)
            .await
    }

    async fn verify_channel_by_index(
        &self,
        account_id: &str,
        target_index: &[u8; 32],
    ) -> Result<(), PortalError> {
        let keys = self.portal_keys();
        let channels = self.store.customer_channels(keys, account_id).await?;
        let mut found = None;
        for ch in channels {
            if keys.index(ch.kind, &ch.value)? == *target_index {
                found = Some(ch);
                break;
            }
        }
        let Some(ch) = found else {
            return Err(code_failed());
        };
        match self.store.verify_channel(account_id, &ch.id).await {
            Ok(()) => Ok(()),
            Err(StoreError::AlreadyExists { .. }) => Err(refused(
                StatusCode::CONFLICT,
                "address_taken",
                "该地址已属于另一个账户：请直接登录，或通过“找回账户”设置新口令",
                "This address belongs to another account: log in, or set a new password with \"recover account\"",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A new session for an account that just proved who it is (always a new id: no
    /// fixation). Audited as `portal.login`.
    async fn portal_login_session(
        &self,
        account_id: &str,
        method: &str,
        remote: Option<&str>,
    ) -> Result<NewSession, PortalError> {
        let keys = self.portal_keys();
        let account = self
            .store
            .customer_account(keys, account_id)
            .await?
            .ok_or_else(login_failed)?;
        // An account locked (by its failed logins or by the institute's staff) logs in by no
        // route until the lock ends.
        if account.state != AccountState::Active
            || account.locked_until_ms.is_some_and(|t| t > now_ms())
        {
            return Err(login_failed());
        }
        let id = random_token(32)?;
        let mut csrf = [0u8; 32];
        getrandom::fill(&mut csrf).map_err(internal("系统随机数 (random source)"))?;
        let hours = i64::from(self.config.portal.absolute_hours);
        self.store
            .create_session(
                &id,
                Some(account_id),
                &csrf,
                now_ms().saturating_add(hours * 3_600_000),
                remote,
            )
            .await?;
        self.store.record_login_success(account_id).await?;
        self.audit_portal(
            &format!("customer:{account_id}"),
            "portal.login",
            account_id,
            json!({ "method": method, "remote": remote }),
        )
        .await;
        Ok(NewSession { id, account })
    }

    /// Logs in by address and password. Every failure is [`login_failed`], at the cost of a
    /// real verification; the account's failures count towards its lock-out
    /// (`[portal] lockout_after`, `lockout_minutes`). Returns the failure's account, if any,
    /// with the error (for the audit entry).
    pub async fn portal_login_password(
        &self,
        address: &Channel,
        password: Zeroizing<String>,
        remote: Option<&str>,
    ) -> Result<NewSession, (PortalError, Option<String>)> {
        let cfg = self.config.portal.clone();
        let keys = self.portal_keys();
        let found = self
            .store
            .customer_by_address(keys, index_kind(address), address.as_str())
            .await
            .map_err(|e| (e.into(), None))?;
        let now = now_ms();
        let usable = found.as_ref().and_then(|(acc, _)| {
            let locked = acc.locked_until_ms.is_some_and(|t| t > now);
            (acc.state == AccountState::Active && !locked)
                .then(|| acc.password_hash.clone())
                .flatten()
        });
        let params = cfg.password;
        let right = cpu(move || {
            Ok(match usable {
                Some(hash) => verify_password(&hash, &password),
                None => {
                    dummy_verify(&params, &password);
                    false
                }
            })
        })
        .await
        .map_err(|e| (e.into(), None))?;
        let account_id = found.map(|(a, _)| a.id);
        if !right {
            if let Some(id) = &account_id {
                self.store
                    .record_login_failure(
                        id,
                        i64::from(cfg.lockout_after),
                        i64::from(cfg.lockout_minutes) * 60_000,
                    )
                    .await
                    .map_err(|e| (e.into(), account_id.clone()))?;
            }
            return Err((login_failed(), account_id));
        }
        let id = account_id.unwrap_or_default();
        self.portal_login_session(&id, "password", remote)
            .await
            .map_err(|e| (e, Some(id.clone())))
    }

    fn address_subject(&self, address: &Channel) -> Result<String, PortalError> {
        let keys = self.portal_keys();
        Ok(ecert_store::hex(
            &keys.index(index_kind(address), address.as_str())?,
        ))
    }

    /// Sends a login (`recover: false`) or recovery code to an address, if an account verified
    /// it; the same answer, at once, either way.
    pub async fn portal_request_code(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        address: &Channel,
        recover: bool,
        remote: Option<&str>,
    ) -> Result<String, PortalError> {
        let keys = self.portal_keys();
        let found = self
            .store
            .customer_by_address(keys, index_kind(address), address.as_str())
            .await?;
        let purpose = if recover {
            CodePurpose::Recover
        } else {
            CodePurpose::Login
        };
        if let Some((acc, _)) = found
            && acc.state == AccountState::Active
        {
            let subject = self.address_subject(address)?;
            let actor = format!("customer:{}", acc.id);
            match self
                .send_code(notifier, purpose, &subject, address, &actor, remote, true)
                .await
            {
                // A limit reached for a known address is not said either: the customer who
                // owns it sees that no new code came.
                Ok(()) | Err(PortalError::Refused { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(address.masked())
    }

    /// Logs in with a code sent to `address` ([`Instance::portal_request_code`]).
    pub async fn portal_login_code(
        &self,
        address: &Channel,
        code: &str,
        remote: Option<&str>,
    ) -> Result<NewSession, (PortalError, Option<String>)> {
        let account = self
            .account_for_code(address, code, CodePurpose::Login)
            .await
            .map_err(|e| (e, None))?;
        self.portal_login_session(&account, "code", remote)
            .await
            .map_err(|e| (e, Some(account.clone())))
    }

    async fn account_for_code(
        &self,
        address: &Channel,
        code: &str,
        purpose: CodePurpose,
    ) -> Result<String, PortalError> {
        let keys = self.portal_keys();
        let subject = self.address_subject(address)?;
        let check = self
            .store
            .check_code(keys, purpose, &subject, code, CODE_TRIES)
            .await?;
        if !matches!(check, CodeCheck::Accepted { .. }) {
            return Err(code_failed());
        }
        let found = self
            .store
            .customer_by_address(keys, index_kind(address), address.as_str())
            .await?;
        found.map(|(a, _)| a.id).ok_or_else(code_failed)
    }

    /// Account recovery through a verified channel only: the code sent there and a new
    /// password; every session of the account ends, and a new one is made.
    pub async fn portal_recover(
        &self,
        address: &Channel,
        code: &str,
        password: Zeroizing<String>,
        remote: Option<&str>,
    ) -> Result<NewSession, PortalError> {
        // The new password is checked before the code is spent.
        check_new_password(&password, &[address.as_str()])
            .map_err(|p| bad_field(p.to_string(), p.to_string()))?;
        let account = self
            .account_for_code(address, code, CodePurpose::Recover)
            .await?;
        let params = self.config.portal.password;
        let hash = cpu(move || {
            hash_password(&params, &password).map_err(internal("口令哈希 (password hash)"))
        })
        .await?;
        self.store.set_customer_password(&account, &hash).await?;
        self.store.delete_sessions_of(&account).await?;
        self.portal_login_session(&account, "recover", remote).await
    }

    /// The live session of a cookie's id: `None` when unknown, idle past `[portal]
    /// idle_minutes` or past its absolute end (a dead one is deleted). Its last use is written
    /// at most once a minute.
    pub async fn portal_session(&self, id: &str) -> Result<Option<LiveSession>, PortalError> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(s) = self.store.session(id).await? else {
            return Ok(None);
        };
        let now = now_ms();
        let idle = i64::from(self.config.portal.idle_minutes) * 60_000;
        if !session_alive(now, s.last_seen_ms, s.expires_at_ms, idle) {
            self.store.delete_session(id).await?;
            return Ok(None);
        }
        let Some(account_id) = s.account_id else {
            return Ok(None);
        };
        let Some(account) = self
            .store
            .customer_account(self.portal_keys(), &account_id)
            .await?
        else {
            return Ok(None);
        };
        if account.state != AccountState::Active {
            return Ok(None);
        }
        if now - s.last_seen_ms >= 60_000 {
            self.store.touch_session(id).await?;
        }
        Ok(Some(LiveSession {
            id: id.to_owned(),
            account,
            csrf_secret: s.csrf_secret,
        }))
    }

    /// Ends one session (`everywhere`: every session of its account).
    pub async fn portal_logout(
        &self,
        session: &LiveSession,
        everywhere: bool,
        remote: Option<&str>,
    ) -> Result<u64, PortalError> {
        let n = if everywhere {
            self.store.delete_sessions_of(&session.account.id).await?
        } else {
            self.store.delete_session(&session.id).await?;
            1
        };
        self.audit_portal(
            &format!("customer:{}", session.account.id),
            if everywhere {
                "portal.logout_all"
            } else {
                "portal.logout"
            },
            &session.account.id,
            json!({ "sessions": n, "remote": remote }),
        )
        .await;
        Ok(n)
    }

    /// The account's channels: (address, verified).
    pub async fn portal_channels(
        &self,
        account_id: &str,
    ) -> Result<Vec<(Channel, bool)>, PortalError> {
        let chans = self
            .store
            .customer_channels(self.portal_keys(), account_id)
            .await?;
        Ok(chans
            .into_iter()
            .map(|c| {
                let ch = match c.kind {
                    IndexKind::Email => Channel::Email(c.value),
                    _ => Channel::Mobile(c.value),
                };
                (ch, c.verified_at_ms.is_some())
            })
            .collect())
    }

    /// Adds an address (e-mail or mobile) to an account and sends a code there; the address
    /// counts (its certificates appear) once the code is entered
    /// ([`Instance::portal_confirm_address`]). Returns the new channel's id.
    pub async fn portal_add_address(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        account_id: &str,
        address: &Channel,
        remote: Option<&str>,
    ) -> Result<String, PortalError> {
        let keys = self.portal_keys();
        let channel = match self
            .store
            .add_customer_channel(keys, account_id, index_kind(address), address.as_str())
            .await
        {
            Ok(c) => c,
            Err(StoreError::AlreadyExists { .. }) => {
                // The account has it already: send a new code for it if it is not verified.
                self.store
                    .customer_channels(keys, account_id)
                    .await?
                    .into_iter()
                    .find(|c| {
                        c.kind == index_kind(address)
                            && index_kind(address).normalise(address.as_str()).as_deref()
                                == Some(c.value.as_str())
                    })
                    .filter(|c| c.verified_at_ms.is_none())
                    .ok_or_else(|| {
                        refused(
                            StatusCode::CONFLICT,
                            "address_known",
                            "该地址已在您的账户中",
                            "This address is in your account already",
                        )
                    })?
            }
            Err(e) => return Err(e.into()),
        };
        let subject = format!("{account_id}/{}", channel.id);
        self.send_code(
            notifier,
            CodePurpose::Channel,
            &subject,
            address,
            &format!("customer:{account_id}"),
            remote,
            false,
        )
        .await?;
        Ok(channel.id)
    }

    /// Enters the code sent to an added address: it is verified (unless another account
    /// verified it meanwhile).
    pub async fn portal_confirm_address(
        &self,
        account_id: &str,
        channel_id: &str,
        code: &str,
    ) -> Result<(), PortalError> {
        let subject = format!("{account_id}/{channel_id}");
        let check = self
            .store
            .check_code(
                self.portal_keys(),
                CodePurpose::Channel,
                &subject,
                code,
                CODE_TRIES,
            )
            .await?;
        let CodeCheck::Accepted { target_index } = check else {
            return Err(code_refusal(&check));
        };
        self.verify_channel_by_index(account_id, &target_index)
            .await
    }

    // ----- organisations -----

    /// Registers an organisation by name and credit code (GB 32100 check character) for a
    /// logged-in customer; its activation code goes to the contact the business system gave
    /// for that code. Returns the organisation and where the code went (masked).
    pub async fn portal_register_org(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        account_id: &str,
        uscc: &str,
        name: &str,
        remote: Option<&str>,
    ) -> Result<(Org, String), PortalError> {
        let code = Uscc::parse(uscc).map_err(|e| bad_field(e.to_string(), e.to_string()))?;
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(bad_field(
                format!("单位名称不能为空，不得超过 {MAX_NAME_CHARS} 个字符"),
                format!(
                    "The organisation's name must be given, at most {MAX_NAME_CHARS} characters"
                ),
            ));
        }
        let keys = self.portal_keys();
        if self
            .store
            .active_org_by_uscc(keys, code.as_str())
            .await?
            .is_some()
        {
            return Err(refused(
                StatusCode::CONFLICT,
                "org_exists",
                "该单位已开通账户：请请单位管理员邀请您加入",
                "This organisation has an account already: ask its administrator to invite you",
            ));
        }
        let contacts = self.store.contacts_for_uscc(keys, code.as_str()).await?;
        let mut target = None;
        for c in &contacts {
            if let Some(e) = &c.email
                && notifier.can_send(ChannelKind::Email)
                && let Ok(ch) = Channel::email(e)
            {
                target = Some(ch);
                break;
            }
            if let Some(m) = &c.mobile
                && notifier.can_send(ChannelKind::Mobile)
                && let Ok(ch) = Channel::mobile(m)
            {
                target = Some(ch);
                break;
            }
        }
        let Some(target) = target else {
            return Err(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_contact",
                "发证机构没有该统一社会信用代码可用的联系方式，无法发送激活码，请联系发证机构",
                "The issuer has no usable contact for this credit code; no activation code can be sent: contact the issuer",
            ));
        };
        let org = self
            .store
            .create_org(keys, code.as_str(), name, account_id)
            .await?;
        self.send_code(
            notifier,
            CodePurpose::OrgActivate,
            &org.id,
            &target,
            &format!("customer:{account_id}"),
            remote,
            false,
        )
        .await?;
        Ok((org, target.masked()))
    }

    /// Enters an organisation's activation code: it becomes active with this account as its
    /// administrator.
    pub async fn portal_activate_org(
        &self,
        account_id: &str,
        org_id: &str,
        code: &str,
    ) -> Result<(), PortalError> {
        let keys = self.portal_keys();
        let org = self.store.customer_org(keys, org_id).await?;
        let Some(org) = org.filter(|o| o.created_by == account_id && o.state == OrgState::Pending)
        else {
            return Err(refused(
                StatusCode::NOT_FOUND,
                "not_found",
                "未找到",
                "Not found",
            ));
        };
        let check = self
            .store
            .check_code(keys, CodePurpose::OrgActivate, &org.id, code, CODE_TRIES)
            .await?;
        if !matches!(check, CodeCheck::Accepted { .. }) {
            return Err(code_refusal(&check));
        }
        match self.store.activate_org(&org.id, account_id).await {
            Ok(()) => Ok(()),
            Err(StoreError::AlreadyExists { .. }) => Err(refused(
                StatusCode::CONFLICT,
                "org_exists",
                "该单位已开通账户",
                "This organisation has an account already",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The organisations of an account, with its role, and the pending ones it registered.
    pub async fn portal_orgs(&self, account_id: &str) -> Result<Vec<(Org, Role)>, PortalError> {
        Ok(self.store.orgs_of(self.portal_keys(), account_id).await?)
    }

    /// Invites an address into an organisation the account administers; an e-mail gets a
    /// message, a mobile number sees the invitation once its owner logs in (SMS sends approved
    /// code templates only).
    pub async fn portal_invite(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        account_id: &str,
        org_id: &str,
        to: &Channel,
    ) -> Result<(), PortalError> {
        let keys = self.portal_keys();
        let admin = self
            .store
            .orgs_of(keys, account_id)
            .await?
            .into_iter()
            .find(|(o, r)| o.id == org_id && *r == Role::Admin && o.state == OrgState::Active);
        let Some((org, _)) = admin else {
            return Err(refused(
                StatusCode::NOT_FOUND,
                "not_found",
                "未找到",
                "Not found",
            ));
        };
        self.store
            .invite_member(
                keys,
                &org.id,
                Role::Member,
                index_kind(to),
                to.as_str(),
                account_id,
                INVITATION_TTL_MS,
            )
            .await?;
        if to.kind() == ChannelKind::Email && notifier.can_send(ChannelKind::Email) {
            let institute = &self.config.institute.name;
            let base = self.config.instance.base_url.trim_end_matches('/');
            let subject = format!("【{institute}】邀请您加入 {} / invitation", org.name);
            let body = format!(
                "【{institute}】{} 邀请您加入其电子证书账户。请用本邮箱注册或登录 {base}/portal ，在“单位”页面接受邀请（7 天内有效）。\n\n\
                 [{institute}] {} invites you to its electronic certificate account. Register or log in with this address at {base}/portal and accept the invitation on the organisation page (valid 7 days).\n",
                org.name, org.name
            );
            let n = notifier.clone();
            let to = to.clone();
            let sent = tokio::task::spawn_blocking(move || n.send_text(&to, &subject, &body))
                .await
                .map_err(internal("发送线程 (the sending thread)"))?;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "邀请邮件发送失败 (sending an invitation failed)");
            }
        }
        Ok(())
    }

    /// Open invitations to the account's verified addresses, with the organisation's name.
    pub async fn portal_invitations(
        &self,
        account_id: &str,
    ) -> Result<Vec<(ecert_store::Invitation, String)>, PortalError> {
        let keys = self.portal_keys();
        let mut out = Vec::new();
        for inv in self.store.invitations_for(keys, account_id).await? {
            let name = self
                .store
                .customer_org(keys, &inv.org_id)
                .await?
                .map(|o| o.name)
                .unwrap_or_default();
            out.push((inv, name));
        }
        Ok(out)
    }

    /// Accepts an invitation to one of the account's verified addresses.
    pub async fn portal_accept(
        &self,
        account_id: &str,
        invitation: &str,
    ) -> Result<(), PortalError> {
        match self
            .store
            .accept_invitation(self.portal_keys(), invitation, account_id)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound { .. }) => Err(refused(
                StatusCode::NOT_FOUND,
                "not_found",
                "未找到",
                "Not found",
            )),
            Err(StoreError::AlreadyExists { .. }) => Err(refused(
                StatusCode::CONFLICT,
                "already_member",
                "您已是该单位成员",
                "You are a member already",
            )),
            Err(e) => Err(e.into()),
        }
    }

    // ----- certificates -----

    async fn portal_item(&self, c: CertificateRecord) -> Result<PortalItem, PortalError> {
        // Only a certificate that is not plainly current needs more than its own row.
        if c.status == CertificateStatus::Valid {
            return Ok(PortalItem {
                certificate: c,
                messages: Vec::new(),
                supplements: Vec::new(),
            });
        }
        let view = self.store.status_view(c).await?;
        Ok(PortalItem {
            messages: super::status_messages(&view),
            supplements: view.supplements,
            certificate: view.certificate,
        })
    }

    /// The account's certificates (R-5.2.3: only its own), newest first, with their status
    /// statements and supplements; searched by number, instrument, issue dates.
    pub async fn portal_list(
        &self,
        account_id: &str,
        q: &PortalQuery,
    ) -> Result<Vec<PortalItem>, PortalError> {
        let list = self
            .store
            .visible_certificates(account_id, q)
            .await
            .map_err(|e| match e {
                StoreError::Invalid { field, problem } => bad_field(
                    format!("查询条件 {field} 无效：{problem}"),
                    format!("The search field {field} is invalid: {problem}"),
                ),
                other => other.into(),
            })?;
        let mut out = Vec::with_capacity(list.len());
        for c in list {
            out.push(self.portal_item(c).await?);
        }
        Ok(out)
    }

    /// What downloading these certificates (by id) needs: each must be visible to the account
    /// (else the one "not found", whether it exists or not).
    pub async fn portal_download_plan(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> Result<DownloadPlan, PortalError> {
        let mut ids: Vec<String> = ids.iter().map(|s| s.trim().to_owned()).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Err(bad_field(
                "请选择要下载的证书",
                "Select the certificates to download",
            ));
        }
        if ids.len() > MAX_PACKAGE {
            return Err(bad_field(
                format!("一次最多下载 {MAX_PACKAGE} 份证书"),
                format!("At most {MAX_PACKAGE} certificates at a time"),
            ));
        }
        let not_found = || refused(StatusCode::NOT_FOUND, "not_found", "未找到", "Not found");
        let keys = self.portal_keys();
        let mut items = Vec::new();
        let mut common: Option<Vec<Channel>> = None;
        let mut password = false;
        for id in &ids {
            if id.len() > 64 || !self.store.may_see(account_id, id).await? {
                return Err(not_found());
            }
            let c = self.store.certificate(id).await?.ok_or_else(not_found)?;
            if c.status == CertificateStatus::Disposed {
                return Err(refused(
                    StatusCode::GONE,
                    "disposed",
                    format!("{}：{}", c.number, super::MSG_DISPOSED),
                    format!("{}: past its retention period, disposed", c.number),
                ));
            }
            let binding = self.store.binding_of(keys, id).await?;
            let mut chans = Vec::new();
            if let Some(b) = &binding {
                if let Some(m) = b
                    .contact
                    .mobile
                    .as_deref()
                    .and_then(|m| Channel::mobile(m).ok())
                {
                    chans.push(m);
                }
                if let Some(e) = b
                    .contact
                    .email
                    .as_deref()
                    .and_then(|e| Channel::email(e).ok())
                {
                    chans.push(e);
                }
                password = ids.len() == 1 && b.download_password_hash.is_some();
            }
            common = Some(match common {
                None => chans,
                Some(prev) => prev.into_iter().filter(|c| chans.contains(c)).collect(),
            });
            items.push(self.portal_item(c).await?);
        }
        let mut subject = String::from("download\0");
        subject.push_str(account_id);
        for id in &ids {
            subject.push('\0');
            subject.push_str(id);
        }
        let subject = ecert_store::hex(&ecert_store::sm3(subject.as_bytes()));
        Ok(DownloadPlan {
            items,
            channels: common.unwrap_or_default(),
            password,
            subject,
        })
    }

    /// Sends the identity code for a download (R-6.2a/b) to one of the plan's channels.
    pub async fn portal_send_download_code(
        &self,
        notifier: &std::sync::Arc<Notifier>,
        account_id: &str,
        plan: &DownloadPlan,
        to: &Channel,
        remote: Option<&str>,
    ) -> Result<(), PortalError> {
        if !plan.channels.contains(to) {
            return Err(bad_field(
                "只能发送到发证机构登记的联系方式",
                "Codes go only to the contacts the issuer has on record",
            ));
        }
        self.send_code(
            notifier,
            CodePurpose::Download,
            &plan.subject,
            to,
            &format!("customer:{account_id}"),
            remote,
            false,
        )
        .await
    }

    /// The identity check and the encrypted package (R-6.1, R-7.2.3c): the
    /// certificates with their supplements in one AES-256 ZIP under the configured key policy;
    /// recorded (audit entry with the SM3 of the bytes, one download-log row per file) before
    /// it is returned. `key`: the password the customer chose (policy `chosen`) or the shown
    /// one the page displayed (policy `shown`).
    pub async fn portal_download(
        &self,
        account: &Account,
        plan: &DownloadPlan,
        check: IdentityCheck,
        key: Option<Zeroizing<String>>,
        remote: Option<&str>,
    ) -> Result<Delivered, PortalError> {
        let keys = self.portal_keys();
        let (check_name, identity_secret, channel) = match &check {
            IdentityCheck::Code { channel, code } => {
                if !plan.channels.contains(channel) {
                    return Err(code_failed());
                }
                let c = self
                    .store
                    .check_code(keys, CodePurpose::Download, &plan.subject, code, CODE_TRIES)
                    .await?;
                if !matches!(c, CodeCheck::Accepted { .. }) {
                    return Err(code_refusal(&c));
                }
                let name = match channel.kind() {
                    ChannelKind::Mobile => "sms_code",
                    ChannelKind::Email => "email_code",
                };
                (name, code.clone(), Some(channel.clone()))
            }
            IdentityCheck::Password(p) => {
                // Wrong download passwords count towards the account's lock-out, like wrong
                // login passwords: no guessing beyond `[portal] lockout_after`.
                if account.locked_until_ms.is_some_and(|t| t > now_ms()) {
                    return Err(refused(
                        StatusCode::TOO_MANY_REQUESTS,
                        "locked",
                        "错误次数过多，账户已暂时锁定，请稍后再试或改用验证码",
                        "Too many wrong attempts: the account is locked for a while; try later or use a code",
                    ));
                }
                let [item] = plan.items.as_slice() else {
                    return Err(bad_field(
                        "下载密码只能用于单份证书",
                        "A download password opens one certificate at a time",
                    ));
                };
                let hash = self
                    .store
                    .binding_of(keys, &item.certificate.id)
                    .await?
                    .and_then(|b| b.download_password_hash);
                let p2 = p.clone();
                let params = self.config.portal.password;
                let right = cpu(move || {
                    Ok(match hash {
                        Some(h) => verify_password(&h, &p2),
                        None => {
                            dummy_verify(&params, &p2);
                            false
                        }
                    })
                })
                .await?;
                if !right {
                    let cfg = &self.config.portal;
                    self.store
                        .record_login_failure(
                            &account.id,
                            i64::from(cfg.lockout_after),
                            i64::from(cfg.lockout_minutes) * 60_000,
                        )
                        .await?;
                    self.audit_portal(
                        &format!("customer:{}", account.id),
                        "portal.download_refused",
                        &item.certificate.number,
                        json!({ "check": "download_password", "remote": remote }),
                    )
                    .await;
                    return Err(refused(
                        StatusCode::UNAUTHORIZED,
                        "password_failed",
                        "下载密码错误",
                        "Wrong download password",
                    ));
                }
                ("download_password", p.clone(), None)
            }
        };
        let policy = self.config.portal.download_key;
        let password: Zeroizing<String> = match policy {
            KeyPolicy::IdentityCode => identity_secret,
            KeyPolicy::Shown | KeyPolicy::Chosen => {
                key.ok_or_else(|| bad_field("缺少压缩包密码", "The package password is missing"))?
            }
            KeyPolicy::Mobile => {
                let from_check = channel.filter(|c| c.kind() == ChannelKind::Mobile);
                let mobile = match from_check {
                    Some(m) => Some(m),
                    None => self
                        .portal_channels(&account.id)
                        .await?
                        .into_iter()
                        .find(|(c, v)| *v && c.kind() == ChannelKind::Mobile)
                        .map(|(c, _)| c)
                        .or_else(|| {
                            plan.channels
                                .iter()
                                .find(|c| c.kind() == ChannelKind::Mobile)
                                .cloned()
                        }),
                };
                let m = mobile.ok_or_else(|| {
                    refused(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "no_mobile",
                        "压缩包密码为手机号码，但没有可用的手机号码，请联系发证机构",
                        "The package password is a mobile number, but none is on record; contact the issuer",
                    )
                })?;
                Zeroizing::new(m.as_str().to_owned())
            }
        };
        if policy == KeyPolicy::Chosen {
            let n = password.chars().count();
            if !(8..=64).contains(&n) || password.chars().any(char::is_control) {
                return Err(bad_field(
                    "压缩包密码须为 8 到 64 个字符，不含控制字符",
                    "The package password must have 8 to 64 characters, no control characters",
                ));
            }
        }
        // The files, each checked against its recorded SM3 as it is read.
        let mut files: Vec<(String, bytes::Bytes)> = Vec::new();
        let mut items = Vec::new();
        for it in &plan.items {
            let c = &it.certificate;
            files.push((
                c.file_name.clone(),
                self.file(StoredFile::Certificate(c)).await?,
            ));
            items.push(PackageItem {
                certificate_id: c.id.clone(),
                supplement_id: None,
                number: c.number.clone(),
            });
            for s in &it.supplements {
                files.push((
                    s.file_name.clone(),
                    self.file(StoredFile::Supplement(s)).await?,
                ));
                items.push(PackageItem {
                    certificate_id: c.id.clone(),
                    supplement_id: Some(s.id.clone()),
                    number: s.number.clone(),
                });
            }
        }
        let pw = password.clone();
        let package = cpu(move || {
            let refs: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_ref()))
                .collect();
            Package::new(&refs, &pw).map_err(internal("加密压缩包 (the encrypted package)"))
        })
        .await?;
        let sm3 = ecert_store::sm3(&package.bytes);
        let package_id = self
            .store
            .record_portal_download(&account.id, remote, check_name, &items, &sm3)
            .await?;
        let file_name = if plan.items.len() == 1 {
            let n = &plan.items[0].certificate.number;
            format!("{n}.zip")
        } else {
            let mut s = String::from("certificates-");
            let _ = write!(s, "{}", crate::service::today_beijing());
            s.push_str(".zip");
            s
        };
        Ok(Delivered {
            bytes: package.bytes,
            file_name,
            sm3,
            package_id,
        })
    }

    /// The account's own download history, newest first, with the numbers.
    pub async fn portal_history(
        &self,
        account_id: &str,
    ) -> Result<Vec<(PortalDownload, String)>, PortalError> {
        let rows = self.store.downloads_by_account(account_id, 100).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let number = match &r.supplement_id {
                Some(s) => self.store.supplement(s).await?.map(|s| s.number),
                None => self
                    .store
                    .certificate(&r.certificate_id)
                    .await?
                    .map(|c| c.number),
            };
            out.push((r, number.unwrap_or_default()));
        }
        Ok(out)
    }

    /// A demo instance's customer (`ecert demo`): an active person with this verified e-mail
    /// and password. Refused on a production instance.
    pub async fn portal_demo_customer(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Account, PortalError> {
        if !self.config.instance.demo {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "demo_only",
                "演示客户只能在演示实例中创建",
                "A demo customer exists on demo instances only",
            ));
        }
        let keys = self.portal_keys();
        let params = self.config.portal.password;
        let pw = Zeroizing::new(password.to_owned());
        let hash =
            cpu(move || hash_password(&params, &pw).map_err(internal("口令哈希 (password hash)")))
                .await?;
        let (account, channels) = self
            .store
            .create_account(
                keys,
                AccountKind::Person,
                Some("演示客户 (demo)"),
                &[(IndexKind::Email, email)],
                Some(&hash),
            )
            .await?;
        for ch in &channels {
            self.store.verify_channel(&account.id, &ch.id).await?;
        }
        Ok(account)
    }

    /// Housekeeping of the portal: sessions past their time-outs, registrations never
    /// confirmed, old codes. Returns (sessions, accounts, codes) removed.
    pub async fn portal_housekeeping(&self, now: i64) -> Result<(u64, u64, u64), PortalError> {
        let idle = i64::from(self.config.portal.idle_minutes) * 60_000;
        let sessions = self.store.purge_sessions(now - idle).await?;
        let (accounts, codes) = self
            .store
            .purge_customer_leftovers(now - PENDING_ACCOUNT_MS, now - PENDING_ACCOUNT_MS)
            .await?;
        Ok((sessions, accounts, codes))
    }
}

/// Whether a session last used at `last_seen` and ending at `expires_at` is alive at `now`
/// with an idle time-out of `idle_ms` (all in ms).
fn session_alive(now: i64, last_seen: i64, expires_at: i64, idle_ms: i64) -> bool {
    now < expires_at && now - last_seen < idle_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_5_2_3_sessions_end_when_idle_or_past_their_absolute_end() {
        let idle = 30 * 60_000;
        let end = 12 * 3_600_000;
        assert!(session_alive(1_000, 0, end, idle));
        // Idle for the whole time-out: dead, however young.
        assert!(!session_alive(idle, 0, end, idle));
        assert!(session_alive(idle - 1, 0, end, idle));
        // Used a second ago, but past its absolute end: dead.
        assert!(!session_alive(end, end - 1_000, end, idle));
    }

    #[test]
    fn r_6_2_codes_have_six_digits() {
        for _ in 0..200 {
            let c = new_code().expect("code");
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn addresses_are_parsed_by_their_form() {
        assert_eq!(
            parse_address(" 138-0000-0000 ").expect("mobile"),
            Channel::Mobile("13800000000".into())
        );
        assert!(matches!(
            parse_address("a@example.com").expect("email"),
            Channel::Email(_)
        ));
        for bad in ["", "abc", "a@b", "1234"] {
            assert!(matches!(
                parse_address(bad),
                Err(PortalError::Refused {
                    code: "invalid_field",
                    ..
                })
            ));
        }
    }
}
