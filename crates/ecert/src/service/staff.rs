//! Staff accounts and roles: who may do what in the console, enforced here, in the
//! service, so that a page only hides what the service would refuse anyway.
//!
//! | role | name | may |
//! |---|---|---|
//! | [`StaffRole::Operator`] | 签发员 | issue, revise, supplement |
//! | [`StaffRole::Approver`] | 批准人 | approve disposal, seal creation and retirement |
//! | [`StaffRole::SealAdmin`] | 印章管理员 | prepare seals, import keys |
//! | [`StaffRole::Auditor`] | 审计员 | read everything, change nothing, run the chain check |
//! | [`StaffRole::Admin`] | 系统管理员 | staff accounts, API clients, customer accounts, configuration view |
//!
//! Roles that approve or manage seals, and administrators, need a TOTP second factor (RFC 6238,
//! [`super::totp`]); its secret is made when the account is, shown once, and kept encrypted under
//! the master key. Logins: argon2id password, the TOTP code where required, lock-out after
//! failures, the same answer for unknown names (at the same hashing cost), every login and
//! refusal audited. Sessions are stored as SM3 of their id, a new id at every login.

use axum::http::StatusCode;
use ecert_store::StaffAccount;
use serde_json::json;
use zeroize::Zeroizing;

use super::password::{check_new_password, dummy_verify, hash_password, verify_password};
use super::portal::PortalError;
use super::{Instance, cpu, internal};

pub use super::actor::{Actor, StaffRole};

fn refused(status: StatusCode, code: &'static str, zh: &str, en: &str) -> PortalError {
    PortalError::Refused {
        status,
        code,
        zh: zh.to_owned(),
        en: en.to_owned(),
    }
}

/// The one answer of every failed staff login.
pub fn staff_login_failed() -> PortalError {
    refused(
        StatusCode::UNAUTHORIZED,
        "login_failed",
        "登录失败：用户名、口令或动态口令错误，或账户因多次失败已暂时锁定",
        "Login failed: wrong name, password or one-time code, or the account is locked for a while",
    )
}

/// A new staff account as made: the TOTP secret (base32) and its `otpauth://` URI, shown once.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// The account.
    pub account: StaffAccount,
    /// The TOTP secret in base32, when the roles need one.
    pub totp_secret: Option<String>,
    /// Its provisioning URI for an authenticator app.
    pub totp_uri: Option<String>,
}

/// A staff session just made.
#[derive(Debug, Clone)]
pub struct NewStaffSession {
    /// The id for the cookie.
    pub id: String,
    /// The actor.
    pub actor: Actor,
}

/// What a new seal looks like and how long it is valid, as proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSettings {
    /// The institute's own picture (PNG); `None`: the round red seal is drawn.
    pub picture: Option<Vec<u8>>,
    /// Printed size in mm (20–60).
    pub size_mm: u32,
    /// Validity in days from its making (bounded by the certificates' validity).
    pub valid_days: u32,
}

/// The size of a seal when none is given (mm).
pub const DEFAULT_SEAL_MM: u32 = 42;
/// The validity of a seal when none is given (days: three years).
pub const DEFAULT_SEAL_DAYS: u32 = 1096;
/// Largest seal picture (bytes).
pub const MAX_SEAL_PICTURE: usize = 1 << 20;

impl Default for SealSettings {
    fn default() -> Self {
        SealSettings {
            picture: None,
            size_mm: DEFAULT_SEAL_MM,
            valid_days: DEFAULT_SEAL_DAYS,
        }
    }
}

impl SealSettings {
    /// Refuses, naming the field, a picture that is not PNG or too large, a size outside
    /// 20–60 mm or a validity outside 1–3,660 days.
    pub fn check(&self) -> Result<(), PortalError> {
        if let Some(p) = &self.picture {
            if p.len() > MAX_SEAL_PICTURE {
                return Err(super::portal::bad_field(
                    "印章图片过大（最大 1 MiB）",
                    "The seal picture is too large (at most 1 MiB)",
                ));
            }
            if !p.starts_with(b"\x89PNG\r\n\x1a\n") {
                return Err(super::portal::bad_field(
                    "印章图片须为 PNG",
                    "The seal picture must be a PNG",
                ));
            }
        }
        if !(20..=60).contains(&self.size_mm) {
            return Err(super::portal::bad_field(
                "印章尺寸须在 20 至 60 毫米之间",
                "The seal size must be 20 to 60 mm",
            ));
        }
        if !(1..=3660).contains(&self.valid_days) {
            return Err(super::portal::bad_field(
                "印章有效期须在 1 至 3660 天之间",
                "The seal's validity must be 1 to 3,660 days",
            ));
        }
        Ok(())
    }

    fn of_material(v: &serde_json::Value) -> Result<SealSettings, PortalError> {
        use base64::Engine as _;
        let picture = match v.get("picture").and_then(|p| p.as_str()) {
            None => None,
            Some(t) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(|e| {
                        PortalError::Service(internal("印章材料 (seal material)")(e))
                    })?,
            ),
        };
        let num = |k: &str, default: u32| {
            v.get(k)
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(default)
        };
        Ok(SealSettings {
            picture,
            size_mm: num("size_mm", DEFAULT_SEAL_MM),
            valid_days: num("valid_days", DEFAULT_SEAL_DAYS),
        })
    }
}

/// Failed logins before a staff account is locked.
pub const STAFF_LOCKOUT_AFTER: i64 = 5;
/// How long it stays locked.
pub const STAFF_LOCKOUT_MS: i64 = 15 * 60_000;
/// A staff session's absolute life (8 hours: a working day).
pub const STAFF_SESSION_MS: i64 = 8 * 3_600_000;
/// A staff session's idle time-out.
pub const STAFF_IDLE_MS: i64 = 15 * 60_000;

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Instance {
    /// Refuses (403, audited as `staff.refused`) an actor without `role`
    /// ([`Instance::authorize`]).
    pub async fn require(
        &self,
        actor: &Actor,
        role: StaffRole,
        what: &str,
    ) -> Result<(), PortalError> {
        Ok(self.authorize(actor, &[role], what).await?)
    }

    /// Creates a staff account (`ecert staff add`, or an administrator in the console): the
    /// password is checked (length, common passwords, the name in it) and hashed; roles that
    /// approve or manage seals, and administrators, get a TOTP secret, returned once.
    pub async fn add_staff(
        &self,
        name: &str,
        roles: &[StaffRole],
        password: Zeroizing<String>,
        by: &Actor,
    ) -> Result<NewStaff, PortalError> {
        self.require(by, StaffRole::Admin, "添加员工 (add staff)")
            .await?;
        let by = by.name.as_str();
        check_new_password(&password, &[name])
            .map_err(|p| super::portal::bad_field(p.to_string(), p.to_string()))?;
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(super::portal::bad_field(
                "至少需要一个角色",
                "At least one role is needed",
            ));
        }
        let params = self.config.portal.password;
        let hash = cpu(move || {
            hash_password(&params, &password).map_err(internal("口令哈希 (password hash)"))
        })
        .await?;
        let totp = if roles.iter().any(|r| r.needs_totp()) {
            let mut s = [0u8; super::totp::SECRET_LEN];
            getrandom::fill(&mut s).map_err(internal("系统随机数 (random source)"))?;
            Some(Zeroizing::new(s.to_vec()))
        } else {
            None
        };
        let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
        let account = self
            .store
            .create_staff(
                self.master_key(),
                name,
                &names,
                &hash,
                totp.as_deref().map(Vec::as_slice),
                by,
            )
            .await
            .map_err(|e| match e {
                ecert_store::StoreError::AlreadyExists { .. } => refused(
                    StatusCode::CONFLICT,
                    "exists",
                    "该用户名已存在",
                    "This name is taken",
                ),
                ecert_store::StoreError::Invalid { problem, .. } => super::portal::bad_field(
                    format!("用户名无效：{problem}"),
                    format!("Invalid name: {problem}"),
                ),
                other => other.into(),
            })?;
        let issuer = self.config.institute.name.clone();
        Ok(NewStaff {
            totp_secret: totp.as_deref().map(|s| super::totp::base32(s)),
            totp_uri: totp
                .as_deref()
                .map(|s| super::totp::provisioning_uri(&issuer, &account.name, s)),
            account,
        })
    }

    /// Staff accounts, by name (系统管理员, 审计员).
    pub async fn staff_accounts(&self, actor: &Actor) -> Result<Vec<StaffAccount>, PortalError> {
        self.authorize(
            actor,
            &[StaffRole::Admin, StaffRole::Auditor],
            "员工账户 (staff accounts)",
        )
        .await?;
        Ok(self.store.staff_accounts().await?)
    }

    /// A staff login: name, password and — where the roles need it — a TOTP code never used
    /// before. Every failure is [`staff_login_failed`], at the cost of a password check; it
    /// counts towards the lock-out and is audited. Success makes a new session.
    pub async fn staff_login(
        &self,
        name: &str,
        password: Zeroizing<String>,
        totp_code: &str,
        remote: Option<&str>,
    ) -> Result<NewStaffSession, PortalError> {
        let found = if name.len() <= 64 {
            self.store.staff_by_name(name).await?
        } else {
            None
        };
        let now_ms = i64::try_from(unix_secs().saturating_mul(1000)).unwrap_or(i64::MAX);
        let usable = found.as_ref().and_then(|a| {
            let locked = a.locked_until_ms.is_some_and(|t| t > now_ms);
            (a.active && !locked)
                .then(|| a.password_hash.clone())
                .flatten()
        });
        let params = self.config.portal.password;
        let right = cpu(move || {
            Ok(match usable {
                Some(h) => verify_password(&h, &password),
                None => {
                    dummy_verify(&params, &password);
                    false
                }
            })
        })
        .await?;
        let fail = |account: Option<&StaffAccount>, why: &'static str| {
            let id = account.map(|a| a.id.clone());
            let name = name.chars().take(64).collect::<String>();
            async move {
                if let Some(id) = &id {
                    let _ = self
                        .store
                        .record_staff_failure(id, STAFF_LOCKOUT_AFTER, STAFF_LOCKOUT_MS)
                        .await;
                }
                let _ = self
                    .audit(
                        "console:unauthenticated",
                        "staff.login_failed",
                        &name,
                        &json!({ "remote": remote, "why": why }),
                    )
                    .await;
                staff_login_failed()
            }
        };
        let Some(account) = found.as_ref().filter(|_| right).cloned() else {
            return Err(fail(found.as_ref(), "password").await);
        };
        let actor = Actor::staff(&account);
        if actor.roles.iter().any(|r| r.needs_totp()) || account.has_totp {
            let secret = self
                .store
                .staff_totp_secret(self.master_key(), &account.id)
                .await?;
            let step = secret.and_then(|s| {
                super::totp::verify(
                    &s,
                    totp_code,
                    unix_secs(),
                    account.totp_last_step.and_then(|l| u64::try_from(l).ok()),
                )
            });
            let accepted = match step.and_then(|s| i64::try_from(s).ok()) {
                Some(s) => self.store.accept_totp_step(&account.id, s).await?,
                None => false,
            };
            if !accepted {
                return Err(fail(Some(&account), "totp").await);
            }
        }
        self.store.record_staff_success(&account.id).await?;
        let id = super::random_hex(32)?;
        let mut csrf = [0u8; 32];
        getrandom::fill(&mut csrf).map_err(internal("系统随机数 (random source)"))?;
        self.store
            .create_staff_session(&id, &account.id, &csrf, now_ms + STAFF_SESSION_MS, remote)
            .await?;
        let _ = self
            .audit(
                &actor.name,
                "staff.login",
                &account.name,
                &json!({ "remote": remote }),
            )
            .await;
        Ok(NewStaffSession { id, actor })
    }

    /// The actor of a live staff session (idle 15 minutes or 8 hours after login: ended), with
    /// the session's form secret.
    pub async fn staff_session(&self, id: &str) -> Result<Option<(Actor, Vec<u8>)>, PortalError> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(s) = self.store.staff_session(id).await? else {
            return Ok(None);
        };
        let now = i64::try_from(unix_secs().saturating_mul(1000)).unwrap_or(i64::MAX);
        if now >= s.expires_at_ms || now - s.last_seen_ms >= STAFF_IDLE_MS {
            self.store.delete_staff_session(id).await?;
            return Ok(None);
        }
        let Some(account) = self.store.staff(&s.account_id).await? else {
            return Ok(None);
        };
        if !account.active {
            return Ok(None);
        }
        if now - s.last_seen_ms >= 60_000 {
            self.store.touch_staff_session(id).await?;
        }
        Ok(Some((Actor::staff(&account), s.csrf_secret)))
    }

    /// Ends a staff session.
    pub async fn staff_logout(&self, id: &str, actor: &Actor) -> Result<(), PortalError> {
        self.store.delete_staff_session(id).await?;
        let _ = self
            .audit(&actor.name, "staff.logout", &actor.name, &json!({}))
            .await;
        Ok(())
    }

    /// The audit chain check (R-7.2.2b), for auditors and administrators.
    pub async fn staff_check_audit(
        &self,
        actor: &Actor,
    ) -> Result<ecert_store::AuditReport, PortalError> {
        if !actor.has(StaffRole::Admin) {
            self.require(actor, StaffRole::Auditor, "审计链校验 (audit chain check)")
                .await?;
        }
        let report = self.verify_audit().await?;
        let _ = self
            .audit(
                &actor.name,
                "staff.audit_check",
                "audit",
                &json!({ "entries": report.entries, "ok": report.is_ok() }),
            )
            .await;
        Ok(report)
    }
}

impl Instance {
    /// Proposes a disposal as of a date (签发员 or 批准人; the approval must come from
    /// another person).
    pub async fn console_propose_disposal(
        &self,
        actor: &Actor,
        number: &str,
        as_of: &str,
    ) -> Result<ecert_store::DisposalRecord, PortalError> {
        let c = self.find_certificate(number).await?;
        Ok(self.propose_disposal(&c, actor, as_of).await?)
    }

    /// Executes an approved disposal (批准人).
    pub async fn console_execute_disposal(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<ecert_store::DisposalRecord, PortalError> {
        self.require(actor, StaffRole::Approver, "执行销毁 (execute a disposal)")
            .await?;
        let c = self.find_certificate(number).await?;
        let d = self
            .disposals(None)
            .await?
            .into_iter()
            .find(|d| d.certificate_id == c.id)
            .ok_or_else(|| {
                refused(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "该证书没有销毁提议",
                    "No disposal proposed for this certificate",
                )
            })?;
        Ok(self.execute_disposal(&d, actor).await?)
    }

    /// API clients (系统管理员, 审计员).
    pub async fn console_api_clients(
        &self,
        actor: &Actor,
    ) -> Result<Vec<ecert_store::ApiClient>, PortalError> {
        if !actor.has(StaffRole::Auditor) {
            self.require(actor, StaffRole::Admin, "接口客户端 (API clients)")
                .await?;
        }
        Ok(self.api_clients().await?)
    }

    /// Searches the audit log (审计员, 系统管理员).
    pub async fn console_audit_search(
        &self,
        actor: &Actor,
        q: &ecert_store::AuditQuery,
    ) -> Result<Vec<ecert_store::AuditEntry>, PortalError> {
        if !actor.has(StaffRole::Admin) {
            self.require(actor, StaffRole::Auditor, "审计查询 (audit search)")
                .await?;
        }
        Ok(self.store.audit_search(q).await?)
    }

    /// Proposes retiring a seal (印章管理员 or 批准人; another 批准人 approves).
    pub async fn console_propose_seal_retirement(
        &self,
        actor: &Actor,
        seal_id: &str,
    ) -> Result<(), PortalError> {
        if !actor.has(StaffRole::Approver) {
            self.require(
                actor,
                StaffRole::SealAdmin,
                "提出停用印章 (propose retiring a seal)",
            )
            .await?;
        }
        Ok(self
            .store
            .propose_seal_retirement(seal_id, &actor.name)
            .await?)
    }

    /// Approves retiring a seal (批准人, not the proposer): the seal is retired.
    pub async fn console_approve_seal_retirement(
        &self,
        actor: &Actor,
        seal_id: &str,
    ) -> Result<(), PortalError> {
        self.require(
            actor,
            StaffRole::Approver,
            "批准停用印章 (approve retiring a seal)",
        )
        .await?;
        // The seal is looked up as active at every sealing: retired, it seals nothing more.
        Ok(self
            .store
            .approve_seal_retirement(seal_id, &actor.name)
            .await?)
    }

    /// Retirement proposals awaiting approval.
    pub async fn pending_seal_retirements(
        &self,
    ) -> Result<Vec<ecert_store::SealRetirement>, PortalError> {
        Ok(self.store.pending_seal_retirements().await?)
    }

    /// Customer accounts with their addresses (系统管理员, 审计员).
    pub async fn console_customers(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(ecert_store::Account, Vec<(super::notify::Channel, bool)>)>, PortalError> {
        if !actor.has(StaffRole::Auditor) {
            self.require(actor, StaffRole::Admin, "客户账户 (customer accounts)")
                .await?;
        }
        let mut out = Vec::new();
        for a in self
            .store
            .customer_accounts(self.portal_keys(), 200)
            .await?
        {
            let channels = self.portal_channels(&a.id).await?;
            out.push((a, channels));
        }
        Ok(out)
    }

    /// Locks (until unlocked; its sessions end) or unlocks a customer account (系统管理员).
    pub async fn console_lock_customer(
        &self,
        actor: &Actor,
        account_id: &str,
        lock: bool,
    ) -> Result<(), PortalError> {
        self.require(
            actor,
            StaffRole::Admin,
            "锁定或解锁客户账户 (lock or unlock a customer)",
        )
        .await?;
        let until = lock.then_some(i64::MAX / 2);
        Ok(self
            .store
            .set_customer_lock(account_id, until, &actor.name)
            .await?)
    }

    /// Proposes a seal with its key material (印章管理员): the material is checked now (keys,
    /// certificates, the title naming its kind) and kept encrypted until another person, an
    /// 批准人, approves; only then is the seal made ([`Instance::console_approve_seal`]). No
    /// maker on a demo instance means a trial maker, as `ecert seal create` does.
    pub async fn console_propose_seal(
        &self,
        actor: &Actor,
        title: &str,
        signer: &super::KeyMaterial<'_>,
        maker: &super::KeyMaterial<'_>,
        settings: &SealSettings,
    ) -> Result<ecert_store::SealProposal, PortalError> {
        use base64::Engine as _;
        self.require(actor, StaffRole::SealAdmin, "制作印章 (make a seal)")
            .await?;
        settings.check()?;
        let title = title.trim();
        let kind = crate::seal_image::check_title(title)
            .map_err(|e| super::portal::bad_field(e.to_string(), e.to_string()))?;
        let bad = |e: String| super::portal::bad_field(e.clone(), e);
        let signer = super::load_certified_key("签章人", signer)
            .map_err(bad)?
            .ok_or_else(|| {
                super::portal::bad_field(
                    "需要签章人的私钥和证书（PKCS#12，或 PEM 私钥与证书）",
                    "The signer's key and certificate are needed (PKCS#12, or a PEM key and certificate)",
                )
            })?;
        let maker = super::load_certified_key("制章者", maker).map_err(bad)?;
        super::check_cert_current(&signer.cert_der, "签章人")?;
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let der = |k: &ses::sm::CertifiedKey| {
            k.key
                .to_pkcs8_der()
                .map(|d| b64(&d))
                .map_err(internal("印章材料 (seal material)"))
        };
        let material = Zeroizing::new(
            json!({
                "signer_key": der(&signer)?,
                "signer_cert": b64(&signer.cert_der),
                "maker_key": maker.as_ref().map(der).transpose()?,
                "maker_cert": maker.as_ref().map(|m| b64(&m.cert_der)),
                "picture": settings.picture.as_deref().map(b64),
                "size_mm": settings.size_mm,
                "valid_days": settings.valid_days,
            })
            .to_string(),
        );
        Ok(self
            .store
            .propose_seal(
                self.master_key(),
                title,
                super::seal_kind_code(kind),
                material.as_bytes(),
                &actor.name,
            )
            .await?)
    }

    /// Approves a proposed seal (批准人, not the proposer): the seal is made now from the
    /// proposal's material, and the proposal closed (its material wiped).
    pub async fn console_approve_seal(
        &self,
        actor: &Actor,
        proposal_id: &str,
    ) -> Result<ecert_store::SealRecord, PortalError> {
        use base64::Engine as _;
        self.require(actor, StaffRole::Approver, "批准制作印章 (approve a seal)")
            .await?;
        let proposal = self
            .store
            .seal_proposal(proposal_id)
            .await?
            .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not_found", "未找到", "Not found"))?;
        let material = self
            .store
            .seal_proposal_material(self.master_key(), proposal_id, &actor.name)
            .await?;
        let v: serde_json::Value =
            serde_json::from_slice(&material).map_err(internal("印章材料 (seal material)"))?;
        let field = |k: &str| -> Result<Option<Vec<u8>>, PortalError> {
            match v.get(k).and_then(|x| x.as_str()) {
                None => Ok(None),
                Some(t) => base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map(Some)
                    .map_err(|e| PortalError::Service(internal("印章材料 (seal material)")(e))),
            }
        };
        let pair = |key: Option<Vec<u8>>,
                    cert: Option<Vec<u8>>|
         -> Result<Option<ses::sm::CertifiedKey>, PortalError> {
            match (key, cert) {
                (Some(k), Some(c)) => {
                    let k = Zeroizing::new(k);
                    let key = ses::sm::Sm2KeyPair::from_pkcs8_der(&k).map_err(|e| {
                        PortalError::Service(internal("印章材料 (seal material)")(e))
                    })?;
                    ses::sm::CertifiedKey::new(key, c).map(Some).map_err(|e| {
                        PortalError::Service(internal("印章材料 (seal material)")(e))
                    })
                }
                _ => Ok(None),
            }
        };
        let signer = pair(field("signer_key")?, field("signer_cert")?)?.ok_or_else(|| {
            PortalError::Service(internal("印章材料 (seal material)")(
                std::io::Error::other("the proposal has no signer key"),
            ))
        })?;
        let maker = pair(field("maker_key")?, field("maker_cert")?)?;
        let settings = SealSettings::of_material(&v)?;
        let kind = crate::seal_image::check_title(&proposal.title)
            .map_err(|e| super::portal::bad_field(e.to_string(), e.to_string()))?;
        let actor_names = format!("{}+{}", proposal.proposed_by, actor.name);
        let seal = self
            .make_seal(
                super::SealRequest {
                    kind,
                    title: proposal.title.clone(),
                    signer,
                    maker,
                    image: settings.picture,
                    size_mm: settings.size_mm,
                    valid_days: settings.valid_days,
                },
                &actor_names,
            )
            .await?;
        self.store
            .decide_seal_proposal(proposal_id, &actor.name, Some(&seal.id))
            .await?;
        Ok(seal)
    }

    /// The picture (the uploaded one; `None`: the drawn seal), size and validity of the seal
    /// proposal `id`, for every member of staff to see before it is approved.
    pub async fn seal_proposal_settings(&self, id: &str) -> Result<SealSettings, PortalError> {
        let material = self
            .store
            .seal_proposal_contents(self.master_key(), id)
            .await?;
        let v: serde_json::Value =
            serde_json::from_slice(&material).map_err(internal("印章材料 (seal material)"))?;
        SealSettings::of_material(&v)
    }

    /// The seal proposal `id` while it awaits approval.
    pub async fn pending_seal_proposal(
        &self,
        id: &str,
    ) -> Result<Option<ecert_store::SealProposal>, PortalError> {
        Ok(self
            .store
            .seal_proposal(id)
            .await?
            .filter(|p| p.state == "proposed"))
    }

    /// Seal proposals awaiting approval.
    pub async fn pending_seal_proposals(
        &self,
    ) -> Result<Vec<ecert_store::SealProposal>, PortalError> {
        Ok(self.store.pending_seal_proposals().await?)
    }
}
