//! Storage for the customer self-service portal: accounts of
//! natural persons and organisation members, their verified channels (e-mail, mobile),
//! organisations by unified social credit code, members and invitations, sessions, one-time
//! codes, the binding of certificates to their customers, and the portal's download log.
//!
//! Customer data are protected at rest (R-5.2.3, R-7.2.3d): names, addresses and credit codes
//! are stored only as SM4-GCM ciphertexts under the master key (each bound to its table, row
//! and purpose), and found through a keyed index, HMAC-SM3 under a random index key that is
//! itself kept only encrypted under the master key (`secret:customer-index-key`, see
//! [`Store::instance_secret`]), over the kind and the normalised value. A copy of the database
//! without the master key reveals neither who the customers are nor, by hashing guesses, which
//! address is in it. Session ids are stored as SM3, one-time codes as HMAC-SM3 under the index
//! key, passwords only as the argon2id hashes the application hands in.
//!
//! The store keeps the records and their invariants (one account per verified address, one
//! active organisation per code, a code used once and tried at most `max_tries` times); the
//! policy (time-outs, rate limits, who may see what on which page) is the application's.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, append_in};
use crate::certificates::{CERT_COLUMNS, CertRow, CertificateRecord};
use crate::crypto::{MasterKey, aad, ct_eq, hex, new_id, random_bytes};
use crate::error::{Result, StoreError, db, is_unique_violation};
use crate::rows::At;
use crate::sessions::Sessions;
use crate::store::{Store, WriteTx, now_ms};

type HmacSm3 = Hmac<sm3::Sm3>;

/// Name of the index key among the instance's secrets.
pub(crate) const INDEX_SECRET: &str = "customer-index-key";

/// The encrypted columns of the portal's tables, for master key rotation:
/// (table, AAD purpose, nonce column, ciphertext column).
pub(crate) const ENCRYPTED_COLUMNS: &[(&str, &str, &str, &str)] = &[
    (
        "customer_accounts",
        "customer-name",
        "name_nonce",
        "name_cipher",
    ),
    (
        "customer_channels",
        "customer-channel",
        "value_nonce",
        "value_cipher",
    ),
    (
        "customer_orgs",
        "customer-org-uscc",
        "uscc_nonce",
        "uscc_cipher",
    ),
    (
        "customer_orgs",
        "customer-org-name",
        "name_nonce",
        "name_cipher",
    ),
    (
        "customer_invitations",
        "customer-invitation",
        "target_nonce",
        "target_cipher",
    ),
    (
        "customer_bindings",
        "customer-binding-contact",
        "contact_nonce",
        "contact_cipher",
    ),
];

/// What a keyed index is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// An e-mail address.
    Email,
    /// A mobile number.
    Mobile,
    /// A unified social credit code (GB 32100).
    Uscc,
}

impl IndexKind {
    /// The name used in the index and in stored rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Mobile => "mobile",
            Self::Uscc => "uscc",
        }
    }

    /// The form a value is indexed in, so that what the business system sent and what the
    /// customer typed meet: e-mail trimmed and lower-cased; a mobile number with spaces,
    /// hyphens and brackets removed and a leading `+86`/`0086`/`86` of a Chinese 11-digit
    /// number dropped; a credit code trimmed and upper-cased. `None` for an empty value. This is
    /// no validation (the application validates before storing).
    pub fn normalise(self, value: &str) -> Option<String> {
        let v = value.trim();
        let out = match self {
            Self::Email => v.to_lowercase(),
            Self::Uscc => v.to_ascii_uppercase(),
            Self::Mobile => {
                let compact: String = v
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{3000}'))
                    .collect();
                let digits = compact.strip_prefix('+').unwrap_or(&compact);
                let national = digits
                    .strip_prefix("0086")
                    .or_else(|| digits.strip_prefix("86"))
                    .filter(|rest| rest.len() == 11 && rest.starts_with('1'));
                match national {
                    Some(n) => n.to_owned(),
                    None => compact,
                }
            }
        };
        (!out.is_empty()).then_some(out)
    }
}

/// The keys the portal's records need: the master key (SM4-GCM of names and addresses) and the
/// index key (HMAC-SM3 lookups, code hashes). Made by [`Store::customer_keys`].
#[derive(Clone)]
pub struct CustomerKeys {
    master: MasterKey,
    index: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for CustomerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKeys(…)")
    }
}

impl CustomerKeys {
    fn mac(&self) -> HmacSm3 {
        // HMAC accepts keys of any length.
        <HmacSm3 as KeyInit>::new_from_slice(&self.index).unwrap_or_else(|_| unreachable!())
    }

    /// The keyed index of a value: HMAC-SM3(index key, kind ‖ 0 ‖ normalised value).
    /// [`StoreError::Invalid`] for an empty value.
    pub fn index(&self, kind: IndexKind, value: &str) -> Result<[u8; 32]> {
        let norm = kind.normalise(value).ok_or_else(|| StoreError::Invalid {
            field: kind.as_str(),
            problem: "empty".into(),
        })?;
        let mut m = self.mac();
        m.update(kind.as_str().as_bytes());
        m.update(&[0]);
        m.update(norm.as_bytes());
        Ok(m.finalize().into_bytes().into())
    }

    /// A keyed tag of `data` for `label` (HMAC-SM3 under the index key, with the label and a
    /// zero byte first, so that tags of different uses never collide with each other or with
    /// the indexes): the portal's form tokens and the values it hands out and must get back
    /// unchanged. Every node of one instance computes the same tag.
    pub fn tag(&self, label: &str, data: &[u8]) -> [u8; 32] {
        let mut m = self.mac();
        m.update(b"tag\0");
        m.update(label.as_bytes());
        m.update(&[0]);
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// Whether `tag` is [`CustomerKeys::tag`] of `label` and `data` (in constant time).
    pub fn check_tag(&self, label: &str, data: &[u8], tag: &[u8]) -> bool {
        ct_eq(&self.tag(label, data), tag)
    }

    /// The stored form of a one-time code: HMAC-SM3(index key, "code" ‖ 0 ‖ code id ‖ 0 ‖ code),
    /// so that a copy of the database does not give the codes by trying all 10^6 of them.
    fn code_hash(&self, id: &str, code: &str) -> [u8; 32] {
        let mut m = self.mac();
        m.update(b"code\0");
        m.update(id.as_bytes());
        m.update(&[0]);
        m.update(code.as_bytes());
        m.finalize().into_bytes().into()
    }

    fn seal(&self, purpose: &str, id: &str, plain: &str) -> Result<(Vec<u8>, Vec<u8>)> {
        let (nonce, ct) = self.master.encrypt(&aad(purpose, id), plain.as_bytes())?;
        Ok((nonce.to_vec(), ct))
    }

    fn open(
        &self,
        table: &'static str,
        purpose: &str,
        id: &str,
        nonce: &[u8],
        ct: &[u8],
    ) -> Result<String> {
        let plain = self
            .master
            .decrypt(&aad(purpose, id), nonce, ct)
            .ok_or_else(|| StoreError::Decrypt {
                what: table,
                key: id.to_owned(),
            })?;
        String::from_utf8(plain.to_vec()).map_err(|_| StoreError::Corrupt {
            table,
            key: id.to_owned(),
            problem: format!("decrypted {purpose} is not UTF-8"),
        })
    }
}

/// What kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A natural person.
    Person,
    /// A member of an organisation (legal person).
    Member,
}

impl AccountKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Member => "member",
        }
    }
}

/// An account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    /// Registered; no code entered yet (cannot log in).
    Pending,
    /// Active.
    Active,
    /// Closed.
    Closed,
}

/// A customer account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Random id.
    pub id: String,
    /// Person or organisation member.
    pub kind: AccountKind,
    /// State.
    pub state: AccountState,
    /// Display name, decrypted (if given).
    pub name: Option<String>,
    /// argon2id hash (PHC string), once a password is set.
    pub password_hash: Option<String>,
    /// Failed logins since the last success.
    pub failed_logins: i64,
    /// Locked until (unix ms).
    pub locked_until_ms: Option<i64>,
    /// Created (unix ms).
    pub created_at_ms: i64,
}

/// A channel of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// Random id.
    pub id: String,
    /// The account.
    pub account_id: String,
    /// E-mail or mobile.
    pub kind: IndexKind,
    /// The address, decrypted, as stored (normalised).
    pub value: String,
    /// When it was verified (unix ms); `None` while pending.
    pub verified_at_ms: Option<i64>,
}

/// An organisation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgState {
    /// Registered; the activation code was not entered yet.
    Pending,
    /// Active.
    Active,
}

/// An organisation (legal person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Random id.
    pub id: String,
    /// Unified social credit code, decrypted.
    pub uscc: String,
    /// Name, decrypted.
    pub name: String,
    /// State.
    pub state: OrgState,
    /// The account that registered it.
    pub created_by: String,
    /// Created (unix ms).
    pub created_at_ms: i64,
}

/// A member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Administers the organisation (invites members).
    Admin,
    /// Sees the organisation's certificates.
    Member,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// An invitation into an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Role on acceptance.
    pub role: Role,
    /// E-mail or mobile.
    pub target_kind: IndexKind,
    /// The address, decrypted.
    pub target: String,
    /// Who invited.
    pub invited_by: String,
    /// Expires (unix ms).
    pub expires_at_ms: i64,
    /// Accepted by (account id).
    pub accepted_by: Option<String>,
}

/// A stored session (the id itself is never stored, only its SM3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The logged-in account; `None` for a visitor's session (CSRF secret only).
    pub account_id: Option<String>,
    /// The secret the CSRF tokens of this session are derived from.
    pub csrf_secret: Vec<u8>,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Last request (unix ms).
    pub last_seen_ms: i64,
    /// Absolute expiry (unix ms).
    pub expires_at_ms: i64,
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Activating a new account.
    Register,
    /// Logging in by code.
    Login,
    /// Account recovery (new password).
    Recover,
    /// Activating an organisation.
    OrgActivate,
    /// Accepting an invitation.
    Invite,
    /// The identity check before a download (R-6.2a/b).
    Download,
    /// Verifying an added channel.
    Channel,
}

impl CodePurpose {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Recover => "recover",
            Self::OrgActivate => "org_activate",
            Self::Invite => "invite",
            Self::Download => "download",
            Self::Channel => "channel",
        }
    }
}

/// A new one-time code to store.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    /// What for.
    pub purpose: CodePurpose,
    /// The index of the address it is sent to ([`CustomerKeys::index`]).
    pub target_index: [u8; 32],
    /// What it unlocks (an account id, an organisation id, a download request id, …); a check
    /// names the same subject.
    pub subject: &'a str,
    /// The code (digits); only its keyed hash is stored.
    pub code: &'a str,
    /// Life (ms): 10 minutes.
    pub ttl_ms: i64,
    /// The requester's address (rate limits per address).
    pub remote: Option<&'a str>,
}

/// The outcome of [`Store::check_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the code is now used. Carries the index of the address it was sent to.
    Accepted {
        /// Index of the address the code went to.
        target_index: [u8; 32],
    },
    /// Wrong; this many tries remain.
    Wrong {
        /// Tries left before the code is locked.
        tries_left: i64,
    },
    /// Tried `max_tries` times: locked (a new code is needed).
    Locked,
    /// Past its life.
    Expired,
    /// Already used.
    Used,
    /// No code for this purpose and subject.
    Unknown,
}

/// The customer a certificate was issued for, as the business system gave it (plain values;
/// stored as indexes plus one encrypted contact).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerContact {
    /// Unified social credit code.
    pub uscc: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

impl CustomerContact {
    /// True when nothing is given.
    pub fn is_empty(&self) -> bool {
        self.uscc.is_none() && self.mobile.is_none() && self.email.is_none()
    }
}

/// A certificate's binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The certificate.
    pub certificate_id: String,
    /// The contact, decrypted.
    pub contact: CustomerContact,
    /// The preset download password's argon2id hash (R-6.2f), if any.
    pub download_password_hash: Option<String>,
    /// Last changed (unix ms).
    pub updated_at_ms: i64,
}

/// A filter for [`Store::visible_certificates`].
#[derive(Debug, Clone, Default)]
pub struct PortalQuery {
    /// Number contains this (ASCII letters in either case).
    pub number: Option<String>,
    /// Instrument name contains this (ASCII letters in either case).
    pub instrument: Option<String>,
    /// Issued on or after (`YYYY-MM-DD`).
    pub issued_from: Option<String>,
    /// Issued on or before (`YYYY-MM-DD`).
    pub issued_to: Option<String>,
    /// At most this many (0 means 100; capped at 500).
    pub limit: u32,
}

/// One item of a portal download package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageItem {
    /// The certificate (the original, for a supplement).
    pub certificate_id: String,
    /// The supplement, when the item is one.
    pub supplement_id: Option<String>,
    /// The number shown for it (certificate or supplement number).
    pub number: String,
}

/// A portal download as recorded (R-7.2.3b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalDownload {
    /// When (unix ms).
    pub at_ms: i64,
    /// Package id (one encrypted ZIP).
    pub package_id: String,
    /// Certificate id.
    pub certificate_id: String,
    /// Supplement id.
    pub supplement_id: Option<String>,
    /// SM3 of the bytes sent (the whole package).
    pub sent_sm3: Option<[u8; 32]>,
    /// The audit entry written with it.
    pub audit_seq: Option<i64>,
}

const ACCOUNT_COLUMNS: &str = "id, kind, state, name_nonce, name_cipher, password_hash, \
    failed_logins, locked_until, created_at";

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    kind: String,
    state: String,
    name_nonce: Option<Vec<u8>>,
    name_cipher: Option<Vec<u8>>,
    password_hash: Option<String>,
    failed_logins: i64,
    locked_until: Option<i64>,
    created_at: i64,
}

impl AccountRow {
    fn into_record(self, keys: &CustomerKeys) -> Result<Account> {
        let at = At {
            table: "customer_accounts",
            key: &self.id,
        };
        let kind = match self.kind.as_str() {
            "person" => AccountKind::Person,
            "member" => AccountKind::Member,
            other => return Err(at.unknown("kind", other, "person or member")),
        };
        let state = match self.state.as_str() {
            "pending" => AccountState::Pending,
            "active" => AccountState::Active,
            "closed" => AccountState::Closed,
            other => return Err(at.unknown("state", other, "pending, active or closed")),
        };
        let name = match (&self.name_nonce, &self.name_cipher) {
            (Some(n), Some(c)) => {
                Some(keys.open("customer_accounts", "customer-name", &self.id, n, c)?)
            }
            _ => None,
        };
        Ok(Account {
            kind,
            state,
            name,
            password_hash: self.password_hash,
            failed_logins: self.failed_logins,
            locked_until_ms: self.locked_until,
            created_at_ms: self.created_at,
            id: self.id,
        })
    }
}

const CHANNEL_COLUMNS: &str = "id, account_id, kind, value_nonce, value_cipher, verified_at";

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: String,
    account_id: String,
    kind: String,
    value_nonce: Vec<u8>,
    value_cipher: Vec<u8>,
    verified_at: Option<i64>,
}

fn channel_kind(at: At<'_>, column: &'static str, s: &str) -> Result<IndexKind> {
    match s {
        "email" => Ok(IndexKind::Email),
        "mobile" => Ok(IndexKind::Mobile),
        other => Err(at.unknown(column, other, "email or mobile")),
    }
}

impl ChannelRow {
    fn into_record(self, keys: &CustomerKeys) -> Result<ChannelRecord> {
        let at = At {
            table: "customer_channels",
            key: &self.id,
        };
        let kind = channel_kind(at, "kind", &self.kind)?;
        let value = keys.open(
            "customer_channels",
            "customer-channel",
            &self.id,
            &self.value_nonce,
            &self.value_cipher,
        )?;
        Ok(ChannelRecord {
            kind,
            value,
            account_id: self.account_id,
            verified_at_ms: self.verified_at,
            id: self.id,
        })
    }
}

const ORG_COLUMNS: &str =
    "id, uscc_nonce, uscc_cipher, name_nonce, name_cipher, state, created_by, created_at";

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: String,
    uscc_nonce: Vec<u8>,
    uscc_cipher: Vec<u8>,
    name_nonce: Vec<u8>,
    name_cipher: Vec<u8>,
    state: String,
    created_by: String,
    created_at: i64,
}

impl OrgRow {
    fn into_record(self, keys: &CustomerKeys) -> Result<Org> {
        let at = At {
            table: "customer_orgs",
            key: &self.id,
        };
        let state = match self.state.as_str() {
            "pending" => OrgState::Pending,
            "active" => OrgState::Active,
            other => return Err(at.unknown("state", other, "pending or active")),
        };
        let uscc = keys.open(
            "customer_orgs",
            "customer-org-uscc",
            &self.id,
            &self.uscc_nonce,
            &self.uscc_cipher,
        )?;
        let name = keys.open(
            "customer_orgs",
            "customer-org-name",
            &self.id,
            &self.name_nonce,
            &self.name_cipher,
        )?;
        Ok(Org {
            uscc,
            name,
            state,
            created_by: self.created_by,
            created_at_ms: self.created_at,
            id: self.id,
        })
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        problem: problem.into(),
    }
}

fn check_date(field: &'static str, d: &str) -> Result<()> {
    let b = d.as_bytes();
    let ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(field, format!("{d:?} is not a YYYY-MM-DD date")))
    }
}

/// `%value%` for LIKE, with the user's own `%`, `_` and `!` taken literally (escape `!`).
pub(crate) fn like_pattern(value: &str) -> String {
    let mut p = String::with_capacity(value.len() + 2);
    p.push('%');
    for c in value.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The SQL condition "certificate `{col}` is visible to account `$1`": its binding's mobile or
/// e-mail index is one of the account's verified channels of that kind, or its credit code is
/// that of an active organisation the account is a member of.
fn visible_condition(col: &str) -> String {
    format!(
        "{col} IN (SELECT b.certificate_id FROM customer_bindings b WHERE \
         b.mobile_index IN (SELECT ch.value_index FROM customer_channels ch \
            WHERE ch.account_id = $1 AND ch.kind = 'mobile' AND ch.verified_at IS NOT NULL) \
         OR b.email_index IN (SELECT ch.value_index FROM customer_channels ch \
            WHERE ch.account_id = $1 AND ch.kind = 'email' AND ch.verified_at IS NOT NULL) \
         OR b.uscc_index IN (SELECT o.uscc_index FROM customer_orgs o \
            JOIN customer_members m ON m.org_id = o.id \
            WHERE m.account_id = $1 AND o.state = 'active'))"
    )
}

/// A binding to store with a certificate (at issue, [`Store::issue_certificate_bound`]) or on
/// its own ([`Store::bind_certificate`]).
#[derive(Debug, Clone)]
pub struct NewBinding {
    /// The keys that index and encrypt it.
    pub keys: CustomerKeys,
    /// What the business system gave.
    pub contact: CustomerContact,
    /// argon2id hash (PHC string) of the preset download password (R-6.2f).
    pub download_password_hash: Option<String>,
}

impl NewBinding {
    /// The contact in its indexed form.
    fn normalised(&self) -> CustomerContact {
        let norm = |k: IndexKind, v: &Option<String>| v.as_deref().and_then(|s| k.normalise(s));
        CustomerContact {
            uscc: norm(IndexKind::Uscc, &self.contact.uscc),
            mobile: norm(IndexKind::Mobile, &self.contact.mobile),
            email: norm(IndexKind::Email, &self.contact.email),
        }
    }
}

/// Writes (or replaces) a certificate's binding inside `tx`; returns the audit summary (which
/// fields were given, never their values).
pub(crate) async fn bind_in(
    tx: &mut WriteTx,
    binding: &NewBinding,
    certificate_id: &str,
    now: i64,
) -> Result<serde_json::Value> {
    let keys = &binding.keys;
    let contact = binding.normalised();
    let idx = |k: IndexKind, v: &Option<String>| -> Result<Option<Vec<u8>>> {
        v.as_deref()
            .map(|s| keys.index(k, s).map(|i| i.to_vec()))
            .transpose()
    };
    let existing = sqlx::query("SELECT id FROM customer_bindings WHERE certificate_id = $1")
        .bind(certificate_id.to_owned())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("reading a binding"))?;
    let id = match existing {
        Some(r) => r
            .try_get::<String, _>("id")
            .map_err(db("reading a binding"))?,
        None => new_id()?,
    };
    let plain = json!({
        "uscc": contact.uscc, "mobile": contact.mobile, "email": contact.email,
    })
    .to_string();
    let (n, c) = keys.seal("customer-binding-contact", &id, &plain)?;
    let r = sqlx::query(
        "INSERT INTO customer_bindings (id, certificate_id, uscc_index, mobile_index, \
         email_index, contact_nonce, contact_cipher, download_password, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (certificate_id) DO UPDATE SET uscc_index = excluded.uscc_index, \
         mobile_index = excluded.mobile_index, email_index = excluded.email_index, \
         contact_nonce = excluded.contact_nonce, contact_cipher = excluded.contact_cipher, \
         download_password = excluded.download_password, updated_at = excluded.updated_at",
    )
    .bind(id.clone())
    .bind(certificate_id.to_owned())
    .bind(idx(IndexKind::Uscc, &contact.uscc)?)
    .bind(idx(IndexKind::Mobile, &contact.mobile)?)
    .bind(idx(IndexKind::Email, &contact.email)?)
    .bind(n)
    .bind(c)
    .bind(binding.download_password_hash.clone())
    .bind(now)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            return Err(StoreError::NotFound {
                what: "certificate",
                key: certificate_id.to_owned(),
            });
        }
        Err(e) => return Err(db("storing a binding")(e)),
    }
    Ok(json!({
        "uscc": contact.uscc.is_some(),
        "mobile": contact.mobile.is_some(),
        "email": contact.email.is_some(),
        "download_password": binding.download_password_hash.is_some(),
    }))
}

impl Store {
    /// The portal's keys: the master key, checked, and the index key (created on first use,
    /// kept encrypted under the master key).
    pub async fn customer_keys(&self, master: &MasterKey) -> Result<CustomerKeys> {
        let index = self
            .instance_secret(master, INDEX_SECRET, || {
                Ok(Zeroizing::new(random_bytes::<32>()?.to_vec()))
            })
            .await?;
        Ok(CustomerKeys {
            master: master.clone(),
            index,
        })
    }

    /// Registers an account, `Pending` until one of its channels is verified
    /// ([`Store::verify_channel`]). Channels are stored unverified; an address another account
    /// has verified can still be given (registration must not tell whether an address is
    /// known), but can never be verified twice.
    pub async fn create_account(
        &self,
        keys: &CustomerKeys,
        kind: AccountKind,
        name: Option<&str>,
        channels: &[(IndexKind, &str)],
        password_hash: Option<&str>,
    ) -> Result<(Account, Vec<ChannelRecord>)> {
        if channels.is_empty() {
            return Err(invalid(
                "channels",
                "an account needs an e-mail or a mobile",
            ));
        }
        let id = new_id()?;
        let now = now_ms();
        let (name_nonce, name_cipher) = match name {
            Some(n) => {
                let (a, b) = keys.seal("customer-name", &id, n)?;
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO customer_accounts (id, kind, state, name_nonce, name_cipher, \
             password_hash, failed_logins, locked_until, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $3, $4, $5, 0, NULL, $6, $6)",
        )
        .bind(id.clone())
        .bind(kind.as_str())
        .bind(name_nonce)
        .bind(name_cipher)
        .bind(password_hash.map(str::to_owned))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("registering a customer account"))?;
        let mut out = Vec::new();
        for (k, value) in channels {
            match insert_channel(&mut *tx, keys, &id, *k, value, now).await? {
                Ok(channel) => out.push(channel),
                Err(e) if is_unique_violation(&e) => {
                    return Err(invalid("channels", "the same address is given twice"));
                }
                Err(e) => return Err(db("registering a customer channel")(e)),
            }
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{id}"),
                action: "customer.register",
                subject: &id,
                details: &json!({ "kind": kind.as_str(), "channels": out.len() }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing a customer account"))?;
        let account =
            self.customer_account(keys, &id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "customer account",
                    key: id.clone(),
                })?;
        Ok((account, out))
    }

    /// An account by id.
    pub async fn customer_account(&self, keys: &CustomerKeys, id: &str) -> Result<Option<Account>> {
        sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM customer_accounts WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a customer account"))?
        .map(|r| r.into_record(keys))
        .transpose()
    }

    /// Customer accounts, newest first (at most `limit`, 1–500): the console's list.
    pub async fn customer_accounts(&self, keys: &CustomerKeys, limit: u32) -> Result<Vec<Account>> {
        let limit = limit.clamp(1, 500);
        sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM customer_accounts ORDER BY created_at DESC, id \
             LIMIT {limit}"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing customer accounts"))?
        .into_iter()
        .map(|r| r.into_record(keys))
        .collect()
    }

    /// Locks an account until `until_ms` (its sessions end at once), or unlocks it (`None`,
    /// failed logins reset), by a member of staff `by`. Audited as `customer.lock` /
    /// `customer.unlock`.
    pub async fn set_customer_lock(
        &self,
        account_id: &str,
        until_ms: Option<i64>,
        by: &str,
    ) -> Result<()> {
        let op = "locking a customer account";
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE customer_accounts SET locked_until = $1, failed_logins = 0, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(until_ms)
        .bind(now_ms())
        .bind(account_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db(op))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "customer account",
                key: account_id.to_owned(),
            });
        }
        if until_ms.is_some() {
            sqlx::query("DELETE FROM customer_sessions WHERE account_id = $1")
                .bind(account_id.to_owned())
                .execute(&mut *tx)
                .await
                .map_err(db(op))?;
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: if until_ms.is_some() {
                    "customer.lock"
                } else {
                    "customer.unlock"
                },
                subject: account_id,
                details: &json!({ "until": until_ms }),
            },
        )
        .await?;
        tx.commit().await.map_err(db(op))
    }

    /// The account that verified this address, with the channel.
    pub async fn customer_by_address(
        &self,
        keys: &CustomerKeys,
        kind: IndexKind,
        value: &str,
    ) -> Result<Option<(Account, ChannelRecord)>> {
        let Some(_) = kind.normalise(value) else {
            return Ok(None);
        };
        let index = keys.index(kind, value)?;
        let row = sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM customer_channels WHERE value_index = $1 \
             AND verified_at IS NOT NULL"
        )))
        .bind(index.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking a customer up by address"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ch = row.into_record(keys)?;
        let acc = self
            .customer_account(keys, &ch.account_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "customer_channels",
                key: ch.id.clone(),
                problem: "its account is missing".into(),
            })?;
        Ok(Some((acc, ch)))
    }

    /// An account's channels (verified or not), oldest first.
    pub async fn customer_channels(
        &self,
        keys: &CustomerKeys,
        account_id: &str,
    ) -> Result<Vec<ChannelRecord>> {
        sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM customer_channels WHERE account_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(account_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading customer channels"))?
        .into_iter()
        .map(|r| r.into_record(keys))
        .collect()
    }

    /// Adds an unverified channel to an account.
    pub async fn add_customer_channel(
        &self,
        keys: &CustomerKeys,
        account_id: &str,
        kind: IndexKind,
        value: &str,
    ) -> Result<ChannelRecord> {
        match insert_channel(&self.pool, keys, account_id, kind, value, now_ms()).await? {
            Ok(channel) => Ok(channel),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists {
                what: "channel",
                name: kind.as_str().to_owned(),
            }),
            Err(e) => Err(db("adding a customer channel")(e)),
        }
    }

    /// Marks a channel verified (a code sent there was entered) and activates a pending
    /// account. [`StoreError::AlreadyExists`] when another account has verified this address.
    pub async fn verify_channel(&self, account_id: &str, channel_id: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE customer_channels SET verified_at = $1 WHERE id = $2 AND account_id = $3 \
             AND verified_at IS NULL",
        )
        .bind(now)
        .bind(channel_id.to_owned())
        .bind(account_id.to_owned())
        .execute(&mut *tx)
        .await;
        let n = match r {
            Ok(r) => r.rows_affected(),
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    what: "verified address",
                    name: channel_id.to_owned(),
                });
            }
            Err(e) => return Err(db("verifying a customer channel")(e)),
        };
        if n == 0 {
            let known = sqlx::query(
                "SELECT verified_at FROM customer_channels WHERE id = $1 AND account_id = $2",
            )
            .bind(channel_id.to_owned())
            .bind(account_id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("verifying a customer channel"))?;
            if known.is_none() {
                return Err(StoreError::NotFound {
                    what: "customer channel",
                    key: channel_id.to_owned(),
                });
            }
            // Verified already: nothing to do.
            return tx
                .commit()
                .await
                .map_err(db("verifying a customer channel"));
        }
        sqlx::query(
            "UPDATE customer_accounts SET state = 'active', updated_at = $1 WHERE id = $2 \
             AND state = 'pending'",
        )
        .bind(now)
        .bind(account_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db("activating a customer account"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{account_id}"),
                action: "customer.channel_verified",
                subject: account_id,
                details: &json!({ "channel": channel_id }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing a channel verification"))
    }

    /// Sets (or replaces) an account's password hash, resets its failed logins and lockout.
    pub async fn set_customer_password(&self, account_id: &str, password_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE customer_accounts SET password_hash = $1, failed_logins = 0, \
             locked_until = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(password_hash.to_owned())
        .bind(now_ms())
        .bind(account_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db("setting a customer password"))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "customer account",
                key: account_id.to_owned(),
            });
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{account_id}"),
                action: "customer.password_set",
                subject: account_id,
                details: &json!({}),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing a customer password"))
    }

    /// Counts a failed login; from the `max`-th on the account is locked for `lock_ms` (each
    /// further failure extends it). Returns (failures, locked until).
    pub async fn record_login_failure(
        &self,
        account_id: &str,
        max: i64,
        lock_ms: i64,
    ) -> Result<(i64, Option<i64>)> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE customer_accounts SET failed_logins = failed_logins + 1, updated_at = $1 \
             WHERE id = $2 RETURNING failed_logins",
        )
        .bind(now)
        .bind(account_id.to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("counting a failed login"))?
        .ok_or_else(|| StoreError::NotFound {
            what: "customer account",
            key: account_id.to_owned(),
        })?;
        let n: i64 = row
            .try_get("failed_logins")
            .map_err(db("counting a failed login"))?;
        let until = if n >= max {
            let until = now.saturating_add(lock_ms);
            sqlx::query("UPDATE customer_accounts SET locked_until = $1 WHERE id = $2")
                .bind(until)
                .bind(account_id.to_owned())
                .execute(&mut *tx)
                .await
                .map_err(db("locking a customer account"))?;
            Some(until)
        } else {
            None
        };
        tx.commit().await.map_err(db("counting a failed login"))?;
        Ok((n, until))
    }

    /// A successful login: failures and lockout reset.
    pub async fn record_login_success(&self, account_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE customer_accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        )
        .bind(account_id.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("resetting failed logins"))?;
        Ok(())
    }

    // ----- organisations -----

    /// Registers an organisation (pending until its activation code is entered, by
    /// [`Store::activate_org`]).
    pub async fn create_org(
        &self,
        keys: &CustomerKeys,
        uscc: &str,
        name: &str,
        created_by: &str,
    ) -> Result<Org> {
        let norm = IndexKind::Uscc
            .normalise(uscc)
            .ok_or_else(|| invalid("uscc", "empty"))?;
        if name.trim().is_empty() {
            return Err(invalid("organisation name", "empty"));
        }
        let id = new_id()?;
        let (un, uc) = keys.seal("customer-org-uscc", &id, &norm)?;
        let (nn, nc) = keys.seal("customer-org-name", &id, name.trim())?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO customer_orgs (id, uscc_index, uscc_nonce, uscc_cipher, name_nonce, \
             name_cipher, state, created_by, created_at, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, NULL)",
        )
        .bind(id.clone())
        .bind(keys.index(IndexKind::Uscc, &norm)?.to_vec())
        .bind(un)
        .bind(uc)
        .bind(nn)
        .bind(nc)
        .bind(created_by.to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("registering an organisation"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{created_by}"),
                action: "customer.org_register",
                subject: &id,
                details: &json!({}),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing an organisation"))?;
        self.customer_org(keys, &id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "organisation",
                key: id,
            })
    }

    /// An organisation by id.
    pub async fn customer_org(&self, keys: &CustomerKeys, id: &str) -> Result<Option<Org>> {
        sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM customer_orgs WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an organisation"))?
        .map(|r| r.into_record(keys))
        .transpose()
    }

    /// The active organisation with this credit code.
    pub async fn active_org_by_uscc(&self, keys: &CustomerKeys, uscc: &str) -> Result<Option<Org>> {
        let index = keys.index(IndexKind::Uscc, uscc)?;
        sqlx::query_as::<_, OrgRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM customer_orgs WHERE uscc_index = $1 AND state = 'active'"
        )))
        .bind(index.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking an organisation up"))?
        .map(|r| r.into_record(keys))
        .transpose()
    }

    /// Activates a pending organisation and makes `admin` its first member, administrator.
    /// [`StoreError::AlreadyExists`] when another organisation with the code is active.
    pub async fn activate_org(&self, org_id: &str, admin: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE customer_orgs SET state = 'active', activated_at = $1 WHERE id = $2 \
             AND state = 'pending'",
        )
        .bind(now)
        .bind(org_id.to_owned())
        .execute(&mut *tx)
        .await;
        match r {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => {
                return Err(StoreError::NotFound {
                    what: "pending organisation",
                    key: org_id.to_owned(),
                });
            }
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    what: "active organisation with this credit code",
                    name: org_id.to_owned(),
                });
            }
            Err(e) => return Err(db("activating an organisation")(e)),
        }
        sqlx::query(
            "INSERT INTO customer_members (org_id, account_id, role, created_at) \
             VALUES ($1, $2, 'admin', $3)",
        )
        .bind(org_id.to_owned())
        .bind(admin.to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("adding an organisation's administrator"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{admin}"),
                action: "customer.org_activate",
                subject: org_id,
                details: &json!({ "admin": admin }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing an organisation's activation"))
    }

    /// The organisations an account belongs to, with its role.
    pub async fn orgs_of(&self, keys: &CustomerKeys, account_id: &str) -> Result<Vec<(Org, Role)>> {
        let rows = sqlx::query(
            "SELECT org_id, role FROM customer_members WHERE account_id = $1 ORDER BY created_at",
        )
        .bind(account_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading memberships"))?;
        let mut out = Vec::new();
        for row in rows {
            let org_id: String = row.try_get("org_id").map_err(db("reading memberships"))?;
            let role: String = row.try_get("role").map_err(db("reading memberships"))?;
            let at = At {
                table: "customer_members",
                key: &org_id,
            };
            let role =
                Role::parse(&role).ok_or_else(|| at.unknown("role", &role, "admin or member"))?;
            if let Some(org) = self.customer_org(keys, &org_id).await? {
                out.push((org, role));
            }
        }
        Ok(out)
    }

    /// The members of an organisation (account id, role), oldest first.
    pub async fn members_of(&self, org_id: &str) -> Result<Vec<(String, Role)>> {
        let rows = sqlx::query(
            "SELECT account_id, role FROM customer_members WHERE org_id = $1 \
             ORDER BY created_at, account_id",
        )
        .bind(org_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading members"))?;
        rows.iter()
            .map(|row| {
                let a: String = row.try_get("account_id").map_err(db("reading members"))?;
                let r: String = row.try_get("role").map_err(db("reading members"))?;
                let at = At {
                    table: "customer_members",
                    key: &a,
                };
                let role =
                    Role::parse(&r).ok_or_else(|| at.unknown("role", &r, "admin or member"))?;
                Ok((a, role))
            })
            .collect()
    }

    /// Invites an address into an organisation (the caller checked that `invited_by` is its
    /// administrator).
    #[allow(clippy::too_many_arguments)]
    pub async fn invite_member(
        &self,
        keys: &CustomerKeys,
        org_id: &str,
        role: Role,
        kind: IndexKind,
        target: &str,
        invited_by: &str,
        ttl_ms: i64,
    ) -> Result<Invitation> {
        if !matches!(kind, IndexKind::Email | IndexKind::Mobile) {
            return Err(invalid(
                "invitation",
                "an invitation goes to an e-mail or a mobile",
            ));
        }
        let norm = kind
            .normalise(target)
            .ok_or_else(|| invalid(kind.as_str(), "empty"))?;
        let id = new_id()?;
        let (n, c) = keys.seal("customer-invitation", &id, &norm)?;
        let now = now_ms();
        let expires = now.saturating_add(ttl_ms);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO customer_invitations (id, org_id, role, target_kind, target_index, \
             target_nonce, target_cipher, invited_by, created_at, expires_at, accepted_by, \
             accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL)",
        )
        .bind(id.clone())
        .bind(org_id.to_owned())
        .bind(role.as_str())
        .bind(kind.as_str())
        .bind(keys.index(kind, &norm)?.to_vec())
        .bind(n)
        .bind(c)
        .bind(invited_by.to_owned())
        .bind(now)
        .bind(expires)
        .execute(&mut *tx)
        .await
        .map_err(db("storing an invitation"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{invited_by}"),
                action: "customer.invite",
                subject: org_id,
                details: &json!({ "invitation": id, "role": role.as_str(), "to": kind.as_str() }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing an invitation"))?;
        Ok(Invitation {
            id,
            org_id: org_id.to_owned(),
            role,
            target_kind: kind,
            target: norm,
            invited_by: invited_by.to_owned(),
            expires_at_ms: expires,
            accepted_by: None,
        })
    }

    /// Open (not accepted, not expired) invitations to any of an account's verified channels.
    pub async fn invitations_for(
        &self,
        keys: &CustomerKeys,
        account_id: &str,
    ) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT id, org_id, role, target_kind, target_nonce, target_cipher, invited_by, \
             expires_at, accepted_by FROM customer_invitations WHERE accepted_by IS NULL \
             AND expires_at > $2 AND target_index IN (SELECT value_index FROM customer_channels \
             WHERE account_id = $1 AND verified_at IS NOT NULL) ORDER BY created_at",
        )
        .bind(account_id.to_owned())
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading invitations"))?;
        let op = "reading invitations";
        let mut out = Vec::new();
        for row in rows {
            let id: String = row.try_get("id").map_err(db(op))?;
            let at = At {
                table: "customer_invitations",
                key: &id,
            };
            let role: String = row.try_get("role").map_err(db(op))?;
            let kind: String = row.try_get("target_kind").map_err(db(op))?;
            let n: Vec<u8> = row.try_get("target_nonce").map_err(db(op))?;
            let c: Vec<u8> = row.try_get("target_cipher").map_err(db(op))?;
            out.push(Invitation {
                role: Role::parse(&role)
                    .ok_or_else(|| at.unknown("role", &role, "admin or member"))?,
                target_kind: channel_kind(at, "target_kind", &kind)?,
                target: keys.open("customer_invitations", "customer-invitation", &id, &n, &c)?,
                org_id: row.try_get("org_id").map_err(db(op))?,
                invited_by: row.try_get("invited_by").map_err(db(op))?,
                expires_at_ms: row.try_get("expires_at").map_err(db(op))?,
                accepted_by: row.try_get("accepted_by").map_err(db(op))?,
                id,
            });
        }
        Ok(out)
    }

    /// Accepts an open invitation addressed to one of the account's verified channels: the
    /// account becomes a member with the invitation's role.
    pub async fn accept_invitation(
        &self,
        keys: &CustomerKeys,
        invitation_id: &str,
        account_id: &str,
    ) -> Result<()> {
        let open = self.invitations_for(keys, account_id).await?;
        let Some(inv) = open.into_iter().find(|i| i.id == invitation_id) else {
            return Err(StoreError::NotFound {
                what: "invitation",
                key: invitation_id.to_owned(),
            });
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE customer_invitations SET accepted_by = $1, accepted_at = $2 WHERE id = $3 \
             AND accepted_by IS NULL",
        )
        .bind(account_id.to_owned())
        .bind(now)
        .bind(inv.id.clone())
        .execute(&mut *tx)
        .await
        .map_err(db("accepting an invitation"))?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound {
                what: "invitation",
                key: invitation_id.to_owned(),
            });
        }
        let r = sqlx::query(
            "INSERT INTO customer_members (org_id, account_id, role, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(inv.org_id.clone())
        .bind(account_id.to_owned())
        .bind(inv.role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    what: "membership",
                    name: inv.org_id,
                });
            }
            Err(e) => return Err(db("adding a member")(e)),
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: &format!("customer:{account_id}"),
                action: "customer.join",
                subject: &inv.org_id,
                details: &json!({ "invitation": inv.id, "role": inv.role.as_str() }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a membership"))
    }

    // ----- sessions -----

    /// Stores a new session under the SM3 of its id.
    pub async fn create_session(
        &self,
        session_id: &str,
        account_id: Option<&str>,
        csrf_secret: &[u8],
        expires_at_ms: i64,
        remote: Option<&str>,
    ) -> Result<()> {
        self.insert_session(
            Sessions::Customer,
            session_id,
            account_id,
            csrf_secret,
            expires_at_ms,
            remote,
        )
        .await
    }

    /// A session by its id (as the cookie carries it), whatever its age: the caller applies
    /// the time-outs.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRecord>> {
        Ok(self
            .read_session(Sessions::Customer, session_id)
            .await?
            .map(|r| SessionRecord {
                account_id: r.account_id,
                csrf_secret: r.csrf_secret,
                created_at_ms: r.created_at_ms,
                last_seen_ms: r.last_seen_ms,
                expires_at_ms: r.expires_at_ms,
            }))
    }

    /// Records activity on a session (idle time-out).
    pub async fn touch_session(&self, session_id: &str) -> Result<()> {
        self.touch_session_in(Sessions::Customer, session_id).await
    }

    /// Ends one session.
    pub async fn delete_session(&self, session_id: &str) -> Result<()> {
        self.delete_session_in(Sessions::Customer, session_id).await
    }

    /// "Log out everywhere": ends every session of an account; returns how many.
    pub async fn delete_sessions_of(&self, account_id: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM customer_sessions WHERE account_id = $1")
                .bind(account_id.to_owned())
                .execute(&self.pool)
                .await
                .map_err(db("ending an account's sessions"))?
                .rows_affected(),
        )
    }

    /// Removes sessions past their absolute expiry, or idle since before `idle_before_ms`.
    pub async fn purge_sessions(&self, idle_before_ms: i64) -> Result<u64> {
        self.purge_sessions_in(Sessions::Customer, idle_before_ms)
            .await
    }

    /// Forgets what callers who never finished left behind (R-5.2.3; run by `ecert serve`'s
    /// housekeeping): accounts still pending (no code entered) created before
    /// `pending_before_ms`, with their channels, and one-time codes created before
    /// `codes_before_ms` (older than any rate-limit window). Without it, registrations nobody
    /// confirms would grow the store without bound. Returns (accounts, codes) removed.
    pub async fn purge_customer_leftovers(
        &self,
        pending_before_ms: i64,
        codes_before_ms: i64,
    ) -> Result<(u64, u64)> {
        let op = "purging unfinished registrations";
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM customer_channels WHERE account_id IN (SELECT id FROM customer_accounts \
             WHERE state = 'pending' AND created_at < $1)",
        )
        .bind(pending_before_ms)
        .execute(&mut *tx)
        .await
        .map_err(db(op))?;
        let accounts = sqlx::query(
            "DELETE FROM customer_accounts WHERE state = 'pending' AND created_at < $1",
        )
        .bind(pending_before_ms)
        .execute(&mut *tx)
        .await
        .map_err(db(op))?
        .rows_affected();
        let codes = sqlx::query("DELETE FROM customer_codes WHERE created_at < $1")
            .bind(codes_before_ms)
            .execute(&mut *tx)
            .await
            .map_err(db(op))?
            .rows_affected();
        tx.commit().await.map_err(db(op))?;
        Ok((accounts, codes))
    }

    // ----- one-time codes -----

    /// Stores a one-time code (only its keyed hash); returns its id. Earlier unused codes for
    /// the same purpose and subject stop counting: only the newest can be checked.
    pub async fn store_code(&self, keys: &CustomerKeys, new: &NewCode<'_>) -> Result<String> {
        if new.code.len() < 6 || !new.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("code", "at least 6 digits (R-6.2)"));
        }
        let id = new_id()?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO customer_codes (id, purpose, target_index, subject, code_hash, \
             created_at, expires_at, tries, used_at, remote) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL, $8)",
        )
        .bind(id.clone())
        .bind(new.purpose.as_str())
        .bind(new.target_index.to_vec())
        .bind(new.subject.to_owned())
        .bind(keys.code_hash(&id, new.code).to_vec())
        .bind(now)
        .bind(now.saturating_add(new.ttl_ms))
        .bind(new.remote.map(str::to_owned))
        .execute(&self.pool)
        .await
        .map_err(db("storing a one-time code"))?;
        Ok(id)
    }

    /// How many codes went to this address since `since_ms` (rate limit per destination).
    pub async fn codes_sent_to(&self, target_index: &[u8; 32], since_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM customer_codes WHERE target_index = $1 AND created_at >= $2",
        )
        .bind(target_index.to_vec())
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting codes"))?;
        row.try_get("n").map_err(db("counting codes"))
    }

    /// How many codes were made since `since_ms`, for anyone (the service's overall bound).
    pub async fn codes_created_since(&self, since_ms: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM customer_codes WHERE created_at >= $1")
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await
            .map_err(db("counting codes"))?;
        row.try_get("n").map_err(db("counting codes"))
    }

    /// How many codes were requested from this network address since `since_ms`.
    pub async fn codes_requested_from(&self, remote: &str, since_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM customer_codes WHERE remote = $1 AND created_at >= $2",
        )
        .bind(remote.to_owned())
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting codes"))?;
        row.try_get("n").map_err(db("counting codes"))
    }

    /// Checks a code against the newest one stored for `purpose` and `subject`: right once
    /// (then used), wrong at most `max_tries` times (then locked), never after its life.
    pub async fn check_code(
        &self,
        keys: &CustomerKeys,
        purpose: CodePurpose,
        subject: &str,
        code: &str,
        max_tries: i64,
    ) -> Result<CodeCheck> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id, target_index, code_hash, expires_at, tries, used_at FROM customer_codes \
             WHERE purpose = $1 AND subject = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(purpose.as_str())
        .bind(subject.to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("reading a one-time code"))?;
        let Some(row) = row else {
            return Ok(CodeCheck::Unknown);
        };
        let op = "reading a one-time code";
        let id: String = row.try_get("id").map_err(db(op))?;
        let at = At {
            table: "customer_codes",
            key: &id,
        };
        let target = at.hash("target_index", row.try_get("target_index").map_err(db(op))?)?;
        let stored: Vec<u8> = row.try_get("code_hash").map_err(db(op))?;
        let expires: i64 = row.try_get("expires_at").map_err(db(op))?;
        let tries: i64 = row.try_get("tries").map_err(db(op))?;
        let used: Option<i64> = row.try_get("used_at").map_err(db(op))?;
        if used.is_some() {
            return Ok(CodeCheck::Used);
        }
        if tries >= max_tries {
            return Ok(CodeCheck::Locked);
        }
        if now >= expires {
            return Ok(CodeCheck::Expired);
        }
        let right = ct_eq(&keys.code_hash(&id, code.trim()), &stored);
        let outcome = if right {
            sqlx::query("UPDATE customer_codes SET used_at = $1, tries = tries + 1 WHERE id = $2")
                .bind(now)
                .bind(id.clone())
                .execute(&mut *tx)
                .await
                .map_err(db("using a one-time code"))?;
            CodeCheck::Accepted {
                target_index: target,
            }
        } else {
            sqlx::query("UPDATE customer_codes SET tries = tries + 1 WHERE id = $1")
                .bind(id.clone())
                .execute(&mut *tx)
                .await
                .map_err(db("counting a wrong code"))?;
            if tries + 1 >= max_tries {
                CodeCheck::Locked
            } else {
                CodeCheck::Wrong {
                    tries_left: max_tries - tries - 1,
                }
            }
        };
        tx.commit().await.map_err(db("checking a one-time code"))?;
        Ok(outcome)
    }

    // ----- bindings -----

    /// Binds a certificate to its customer (replacing an earlier binding), e.g. for a
    /// certificate issued before bindings existed (`ecert customer bind`); audited with which
    /// fields are given, never their values. The download password is only ever an argon2id
    /// hash (R-6.2f); the password itself never reaches the store.
    pub async fn bind_certificate(
        &self,
        binding: &NewBinding,
        certificate_id: &str,
        actor: &str,
    ) -> Result<Binding> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let summary = bind_in(&mut tx, binding, certificate_id, now).await?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "customer.bind",
                subject: certificate_id,
                details: &summary,
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a binding"))?;
        Ok(Binding {
            certificate_id: certificate_id.to_owned(),
            contact: binding.normalised(),
            download_password_hash: binding.download_password_hash.clone(),
            updated_at_ms: now,
        })
    }

    /// A certificate's binding.
    pub async fn binding_of(
        &self,
        keys: &CustomerKeys,
        certificate_id: &str,
    ) -> Result<Option<Binding>> {
        let row = sqlx::query(
            "SELECT id, contact_nonce, contact_cipher, download_password, updated_at \
             FROM customer_bindings WHERE certificate_id = $1",
        )
        .bind(certificate_id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a binding"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let op = "reading a binding";
        let id: String = row.try_get("id").map_err(db(op))?;
        let n: Vec<u8> = row.try_get("contact_nonce").map_err(db(op))?;
        let c: Vec<u8> = row.try_get("contact_cipher").map_err(db(op))?;
        let plain = keys.open("customer_bindings", "customer-binding-contact", &id, &n, &c)?;
        let v: serde_json::Value =
            serde_json::from_str(&plain).map_err(|e| StoreError::Corrupt {
                table: "customer_bindings",
                key: id.clone(),
                problem: format!("contact is not JSON: {e}"),
            })?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        Ok(Some(Binding {
            certificate_id: certificate_id.to_owned(),
            contact: CustomerContact {
                uscc: field("uscc"),
                mobile: field("mobile"),
                email: field("email"),
            },
            download_password_hash: row.try_get("download_password").map_err(db(op))?,
            updated_at_ms: row.try_get("updated_at").map_err(db(op))?,
        }))
    }

    /// The contacts the business system gave on certificates bound to this credit code (where
    /// an organisation's activation code goes), distinct, newest certificate first.
    pub async fn contacts_for_uscc(
        &self,
        keys: &CustomerKeys,
        uscc: &str,
    ) -> Result<Vec<CustomerContact>> {
        let index = keys.index(IndexKind::Uscc, uscc)?;
        let rows = sqlx::query(
            "SELECT certificate_id FROM customer_bindings WHERE uscc_index = $1 \
             ORDER BY created_at DESC, id LIMIT 50",
        )
        .bind(index.to_vec())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading bindings"))?;
        let mut out: Vec<CustomerContact> = Vec::new();
        for r in rows {
            let cid: String = r
                .try_get("certificate_id")
                .map_err(db("reading bindings"))?;
            if let Some(b) = self.binding_of(keys, &cid).await?
                && !out.contains(&b.contact)
            {
                out.push(b.contact);
            }
        }
        Ok(out)
    }

    /// Certificates an account may see (R-5.2.3: only its own): bound to one of its verified
    /// channels, or to the credit code of an active organisation it belongs to. Ordered newest
    /// issue date first, then number.
    pub async fn visible_certificates(
        &self,
        account_id: &str,
        q: &PortalQuery,
    ) -> Result<Vec<CertificateRecord>> {
        let mut sql = format!(
            "SELECT {CERT_COLUMNS} FROM certificates WHERE {}",
            visible_condition("id")
        );
        let mut args: Vec<String> = vec![account_id.to_owned()];
        let mut push = |sql: &mut String, cond: &str, v: String| {
            args.push(v);
            sql.push_str(&cond.replace("$?", &format!("${}", args.len())));
        };
        if let Some(n) = q.number.as_deref().filter(|s| !s.is_empty()) {
            push(
                &mut sql,
                " AND lower(number) LIKE lower($?) ESCAPE '!'",
                like_pattern(n),
            );
        }
        if let Some(n) = q.instrument.as_deref().filter(|s| !s.is_empty()) {
            push(
                &mut sql,
                " AND lower(instrument_name) LIKE lower($?) ESCAPE '!'",
                like_pattern(n),
            );
        }
        if let Some(d) = &q.issued_from {
            check_date("issued_from", d)?;
            push(&mut sql, " AND issue_date >= $?", d.clone());
        }
        if let Some(d) = &q.issued_to {
            check_date("issued_to", d)?;
            push(&mut sql, " AND issue_date <= $?", d.clone());
        }
        let limit = match q.limit {
            0 => 100,
            n => n.min(500),
        };
        sql.push_str(&format!(" ORDER BY issue_date DESC, number LIMIT {limit}"));
        let mut query = sqlx::query_as::<_, CertRow>(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        query
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing a customer's certificates"))?
            .into_iter()
            .map(CertificateRecord::try_from)
            .collect()
    }

    /// True when the account may see this certificate (the check before every detail page and
    /// download: no other customer's certificate by any id, R-5.2.3).
    pub async fn may_see(&self, account_id: &str, certificate_id: &str) -> Result<bool> {
        let sql = format!(
            "SELECT 1 AS one FROM certificates WHERE id = $2 AND {}",
            visible_condition("id")
        );
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id.to_owned())
            .bind(certificate_id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("checking a customer's access"))?
            .is_some())
    }

    // ----- portal downloads -----

    /// Records one portal download package (R-7.2.3b, R-6.5d): one audit entry naming the
    /// account, address, identity check, items and the SM3 of the bytes sent, and one download
    /// log row per item, in one transaction. Returns the package id. Call it before the bytes
    /// go out: if recording fails, nothing is sent.
    pub async fn record_portal_download(
        &self,
        account_id: &str,
        remote: Option<&str>,
        check: &str,
        items: &[PackageItem],
        sent_sm3: &[u8; 32],
    ) -> Result<String> {
        if items.is_empty() {
            return Err(invalid("package", "no certificate in it"));
        }
        let package = new_id()?;
        let now = now_ms();
        let who = format!("customer:{account_id}");
        let mut tx = self.begin_write().await?;
        let numbers: Vec<&str> = items.iter().map(|i| i.number.as_str()).collect();
        let entry = append_in(
            &mut tx,
            &AuditEvent {
                actor: &who,
                action: "portal.download",
                subject: &numbers.join(","),
                details: &json!({
                    "package": package,
                    "remote": remote,
                    "check": check,
                    "sm3": hex(sent_sm3),
                }),
            },
        )
        .await?;
        for item in items {
            sqlx::query(
                "INSERT INTO download_log (id, at, certificate_id, supplement_id, who, channel, \
                 remote, audit_seq, account_id, package_id, sent_sm3) \
                 VALUES ($1, $2, $3, $4, $5, 'portal', $6, $7, $8, $9, $10)",
            )
            .bind(new_id()?)
            .bind(now)
            .bind(item.certificate_id.clone())
            .bind(item.supplement_id.clone())
            .bind(who.clone())
            .bind(remote.map(str::to_owned))
            .bind(entry.seq)
            .bind(account_id.to_owned())
            .bind(package.clone())
            .bind(sent_sm3.to_vec())
            .execute(&mut *tx)
            .await
            .map_err(db("writing the download log"))?;
        }
        tx.commit()
            .await
            .map_err(db("committing the download log"))?;
        Ok(package)
    }

    /// An account's own download history, newest first (at most `limit`, capped at 500).
    pub async fn downloads_by_account(
        &self,
        account_id: &str,
        limit: u32,
    ) -> Result<Vec<PortalDownload>> {
        let limit = limit.clamp(1, 500);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT at, package_id, certificate_id, supplement_id, sent_sm3, audit_seq, id \
             FROM download_log WHERE account_id = $1 ORDER BY at DESC, audit_seq DESC, id \
             LIMIT {limit}"
        )))
        .bind(account_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a customer's downloads"))?;
        let op = "reading a customer's downloads";
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id").map_err(db(op))?;
                let at = At {
                    table: "download_log",
                    key: &id,
                };
                let sent: Option<Vec<u8>> = r.try_get("sent_sm3").map_err(db(op))?;
                Ok(PortalDownload {
                    at_ms: r.try_get("at").map_err(db(op))?,
                    package_id: r
                        .try_get::<Option<String>, _>("package_id")
                        .map_err(db(op))?
                        .unwrap_or_default(),
                    certificate_id: r.try_get("certificate_id").map_err(db(op))?,
                    supplement_id: r.try_get("supplement_id").map_err(db(op))?,
                    sent_sm3: sent.map(|s| at.hash("sent_sm3", s)).transpose()?,
                    audit_seq: r.try_get("audit_seq").map_err(db(op))?,
                })
            })
            .collect()
    }
}

/// Inserts an unverified channel of `account_id` (an e-mail or a mobile, normalised, sealed,
/// indexed). The outer error is ours (bad kind or value); the inner one the database's refusal
/// (a unique index: the address is taken), for the caller to name.
async fn insert_channel<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    exec: E,
    keys: &CustomerKeys,
    account_id: &str,
    kind: IndexKind,
    value: &str,
    now: i64,
) -> Result<std::result::Result<ChannelRecord, sqlx::Error>> {
    if !matches!(kind, IndexKind::Email | IndexKind::Mobile) {
        return Err(invalid("channel", "a channel is an e-mail or a mobile"));
    }
    let norm = kind
        .normalise(value)
        .ok_or_else(|| invalid(kind.as_str(), "empty"))?;
    let cid = new_id()?;
    let (n, c) = keys.seal("customer-channel", &cid, &norm)?;
    let inserted = sqlx::query(
        "INSERT INTO customer_channels (id, account_id, kind, value_index, value_nonce, \
         value_cipher, verified_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
    )
    .bind(cid.clone())
    .bind(account_id.to_owned())
    .bind(kind.as_str())
    .bind(keys.index(kind, &norm)?.to_vec())
    .bind(n)
    .bind(c)
    .bind(now)
    .execute(exec)
    .await;
    Ok(inserted.map(|_| ChannelRecord {
        id: cid,
        account_id: account_id.to_owned(),
        kind,
        value: norm,
        verified_at_ms: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sm3;

    #[test]
    fn normalisation_meets_what_customers_type() {
        let m = IndexKind::Mobile;
        for v in [
            "13800138000",
            "+86 138-0013-8000",
            "0086 13800138000",
            "86(138)00138000",
        ] {
            assert_eq!(m.normalise(v).as_deref(), Some("13800138000"), "{v}");
        }
        // A foreign number keeps its country code.
        assert_eq!(
            m.normalise("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            IndexKind::Email
                .normalise("  Zhang.San@Example.CN ")
                .as_deref(),
            Some("zhang.san@example.cn")
        );
        assert_eq!(
            IndexKind::Uscc.normalise(" 91330106ma2b3c4d5e ").as_deref(),
            Some("91330106MA2B3C4D5E")
        );
        assert_eq!(IndexKind::Email.normalise("   "), None);
    }

    #[test]
    fn r_5_2_3_index_is_keyed_and_kind_separated() {
        let k1 = CustomerKeys {
            master: MasterKey::generate().unwrap(),
            index: Zeroizing::new(vec![1; 32]),
        };
        let k2 = CustomerKeys {
            master: MasterKey::generate().unwrap(),
            index: Zeroizing::new(vec![2; 32]),
        };
        let a = k1.index(IndexKind::Mobile, "13800138000").unwrap();
        assert_eq!(a, k1.index(IndexKind::Mobile, "+86 138 0013 8000").unwrap());
        assert_ne!(a, k2.index(IndexKind::Mobile, "13800138000").unwrap());
        assert_ne!(a, sm3(b"13800138000"));
        // The same text as an e-mail has another index.
        assert_ne!(a, k1.index(IndexKind::Email, "13800138000").unwrap());
        assert!(k1.index(IndexKind::Email, " ").is_err());
        // Code hashes depend on the code's id.
        assert_ne!(k1.code_hash("a", "123456"), k1.code_hash("b", "123456"));
    }
}
