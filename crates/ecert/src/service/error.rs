//! The service's one error type. Each variant names what was refused or failed, with the
//! context a caller needs to answer it (the number that is taken, the pointer into the
//! content, both sizes of a seal that does not fit) without reading the message: the web maps
//! [`Error::status`] and [`Error::code`] to its answer, tests match variants. The messages are
//! Chinese first with English beside them; the CLI prints them as they are.

use std::path::PathBuf;

use axum::http::StatusCode;
use ecert_store::StoreError;

use super::messages::{MSG_DISPOSED, revised_message};
use crate::config::ConfigError;
use crate::domain::filename::FileNameError;
use crate::domain::identifier::IdentifierError;
use crate::domain::{ContentErrors, Problem, Rule};
use crate::seal_image::{SealImageError, SealKind};

/// What kind of record was looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// A certificate (by number or identifier).
    Certificate,
    /// A supplementary file.
    Supplement,
    /// A seal of the library.
    Seal,
    /// An API client.
    ApiClient,
    /// Anything else the store looked up (its own name for it).
    Other(&'static str),
}

impl Record {
    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Record::Certificate => "证书",
            Record::Supplement => "补充文件",
            Record::Seal => "印章",
            Record::ApiClient => "接口客户端",
            Record::Other(_) => "记录",
        }
    }
    /// The English name.
    pub fn en(self) -> &'static str {
        match self {
            Record::Certificate => "certificate",
            Record::Supplement => "supplement",
            Record::Seal => "seal",
            Record::ApiClient => "API client",
            Record::Other(what) => what,
        }
    }
    fn from_store(what: &'static str) -> Record {
        match what {
            "certificate" => Record::Certificate,
            "supplement" => Record::Supplement,
            "seal" => Record::Seal,
            "api client" | "API client" => Record::ApiClient,
            other => Record::Other(other),
        }
    }
}

/// Why a certificate (signer's, seal maker's) cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertTime {
    /// Past its `notAfter`.
    Expired,
    /// Before its `notBefore`.
    NotYetValid,
}

/// Everything the service refuses or fails with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The actor has none of the roles the action needs.
    #[error("{}", forbidden(what, roles))]
    Forbidden {
        /// The action (Chinese, English in brackets).
        what: String,
        /// Any of these roles would do.
        roles: Vec<super::StaffRole>,
    },
    /// A certificate with this number was issued already.
    #[error("证书编号 {number} 已存在 (certificate number already issued)")]
    NumberTaken {
        /// The number.
        number: String,
    },
    /// A certificate with this identifier was issued already.
    #[error("电子证书标识 {identifier} 已存在 (identifier already issued)")]
    IdentifierTaken {
        /// The identifier.
        identifier: String,
    },
    /// A supplement with this number was issued already.
    #[error("补充文件编号 {number} 已存在 (supplement number already used)")]
    SupplementNumberTaken {
        /// The supplement number.
        number: String,
    },
    /// A name that must be unique (seal, API client) is taken.
    #[error("“{name}”已存在 ({what} {name:?} already exists)")]
    AlreadyExists {
        /// Kind of object (the store's name for it).
        what: &'static str,
        /// The name.
        name: String,
    },
    /// An active seal of the library has this title already (a retired one's may be given to
    /// a new seal: key roll-over).
    #[error("{}", seal_name_taken(name, active.as_deref()))]
    SealNameTaken {
        /// The title.
        name: String,
        /// The id of the active seal with this title, when known.
        active: Option<String>,
    },
    /// The seal is retired already.
    #[error("印章“{name}”已停用 (the seal is already retired)")]
    SealRetired {
        /// The seal's name.
        name: String,
    },
    /// No such record.
    #[error("找不到{} {key} (no such {})", what.zh(), what.en())]
    NotFound {
        /// What was looked for.
        what: Record,
        /// The number, identifier, id or name looked for.
        key: String,
    },
    /// The certificate was revised and is void: it takes no revision or supplement.
    #[error(
        "证书 {number} 已作废：{}；请对修改后的证书操作 (the certificate is void; use its revision {replaced_by} instead)",
        revised_message(replaced_by)
    )]
    Revised {
        /// The void certificate's number.
        number: String,
        /// The number of the certificate that replaced it.
        replaced_by: String,
    },
    /// The certificate is past retention and disposed (R-6.5h): it takes no change.
    #[error("证书 {number}：{MSG_DISPOSED}，不能再修改或补充 (disposed past retention: no change)")]
    Disposed {
        /// Its number.
        number: String,
    },
    /// The certificate's file was destroyed past retention (R-6.5h, R-6.5i).
    #[error(
        "证书 {number}：{MSG_DISPOSED}，文件已销毁 (disposed past retention: the file is destroyed)"
    )]
    FileDestroyed {
        /// Its number.
        number: String,
    },
    /// The instance has no trust root, so our verifier cannot pass what it seals: a real
    /// instance must name the CA root(s) of its seals.
    #[error(
        "本实例未配置印章证书的 CA 根证书，签章后的文件无法通过自检：请在 ecert.toml 的 [server] trust_roots 中配置（PEM 文件路径）\
         (no trust root configured: our verifier cannot pass what this instance seals; list the CA root(s) \
         of the seals' certificates in [server] trust_roots in ecert.toml, as PEM file paths)"
    )]
    NoTrustRoots,
    /// The seal's certificates do not chain to a trust root of the instance.
    #[error(
        "印章“{seal}”的证书不能链接到本实例配置的根证书：请在 ecert.toml 的 [server] trust_roots 中加入其 CA 根证书\
         (the certificates of the seal {seal:?} do not chain to a trust root of this instance; add their CA root to \
         [server] trust_roots in ecert.toml)"
    )]
    SealUntrusted {
        /// The seal's name.
        seal: String,
        /// What the verifier said.
        #[source]
        unverified: ses::verify::Unverified,
    },
    /// A certificate of the seal material (signer's, maker's) does not lead to a trust root
    /// of the instance: what the seal would seal could never pass the self-check.
    #[error(
        "{role}证书“{subject}”不能链接到本实例的信任根（ecert.toml 的 [server] trust_roots）：{reason}；未创建印章 \
         (the {role} certificate {subject:?} does not chain to a trust root of this instance, [server] trust_roots \
         in ecert.toml: {reason}; no seal was created)"
    )]
    SealMaterialUntrusted {
        /// 签章人 or 制章者.
        role: &'static str,
        /// The certificate's subject.
        subject: String,
        /// Why no chain was found.
        reason: String,
    },
    /// The seal library holds no active seal of the kind a certificate needs.
    #[error(
        "印章库中没有{}（无法签章）(no {} seal in the seal library)",
        kind.title(),
        kind.title()
    )]
    NoActiveSeal {
        /// The kind of seal needed.
        kind: SealKind,
    },
    /// The seal is larger than the slot the template keeps for it.
    #[error(
        "印章“{seal}”（{} × {} mm）大于模板为印章保留的位置（{:.1} × {:.1} mm）\
         (the seal is larger than the template's seal slot; use a template with a larger \
         \"seal\" slot or a smaller seal)",
        seal_mm.0, seal_mm.1, slot_mm.0, slot_mm.1
    )]
    SealTooLarge {
        /// The seal's name.
        seal: String,
        /// The seal picture's printed size (mm).
        seal_mm: (f64, f64),
        /// The template's seal slot (mm).
        slot_mm: (f64, f64),
    },
    /// No template of that name or path.
    #[error(
        "模板“{name}”不存在：应为 calibration|verification|verification-notice|report，或 .typ 文件/模板目录的路径 (no such template)"
    )]
    TemplateUnknown {
        /// The name or path given.
        name: String,
    },
    /// The template exists but is not one certificates are issued with.
    #[error("{name} 模板仅用于补充文件 (the {name} template is for `ecert supplement`)")]
    TemplateNotForCertificates {
        /// Its name.
        name: String,
    },
    /// The template does not declare the certificate's kind.
    #[error(transparent)]
    TemplateKind(#[from] crate::domain::kind::TemplateKindError),
    /// The template could not be read or breaks a rule of.
    #[error("模板 {name} 无效 (invalid template)")]
    TemplateInvalid {
        /// The template's name or path.
        name: String,
        /// What the layout engine said.
        source: ecert_layout::LayoutError,
    },
    /// The content could not be laid out with the template (typst failed, a character has
    /// no glyph, …).
    #[error("无法用模板 {template} 排版 (cannot lay out the certificate)")]
    Layout {
        /// The template's name.
        template: String,
        /// What the layout engine said.
        source: ecert_layout::LayoutError,
    },
    /// The content breaks the schema or the rules of its kind: every problem, by JSON pointer.
    #[error(transparent)]
    ContentInvalid(#[from] ContentErrors),
    /// The identifier cannot be made from the content and configuration.
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    /// The file name cannot be made from the content.
    #[error(transparent)]
    FileName(#[from] FileNameError),
    /// A handed-over OFD breaks a rule or leaves no room for what must be added: the
    /// business system has to change the file.
    #[error("{message}")]
    HandedOver {
        /// The clause broken, e.g. `R-4.1.3`.
        clause: &'static str,
        /// What is wrong, naming the clause.
        message: String,
    },
    /// Our own verifier refused the file just sealed; nothing was stored.
    #[error("签章后的文件未通过自检 (the sealed file fails our verifier)")]
    SelfCheckFailed(#[source] ses::verify::Unverified),
    /// An uploaded or given file is not a readable OFD file.
    #[error("不是可读取的 OFD 文件 (not a readable OFD file): {reason}")]
    NotOfd {
        /// The reader's reason.
        reason: String,
    },
    /// A seal's title names another kind than the one asked for.
    #[error(
        "印章名称“{title}”与印章类别“{}”不符 (the title names a {} seal, not {})",
        kind.title(),
        named.title(),
        kind.title()
    )]
    SealKindMismatch {
        /// The title.
        title: String,
        /// The kind its title names.
        named: SealKind,
        /// The kind asked for.
        kind: SealKind,
    },
    /// A seal's printed size is out of range.
    #[error("印章尺寸应为 20–60 mm (seal size must be 20 to 60 mm), got {size_mm} mm")]
    SealSize {
        /// The size asked for.
        size_mm: u32,
    },
    /// The seal's title or picture.
    #[error(transparent)]
    SealImage(#[from] SealImageError),
    /// The seal picture is not a PNG.
    #[error("印章图像须为 PNG 文件 (the seal picture must be a PNG file)")]
    SealPictureFormat,
    /// Outside demo mode a seal needs the maker's own key and certificate (R-7.1d).
    #[error(
        "需要制章者证书和私钥（--maker-p12 或 --maker-key/--maker-cert）(a seal maker's key and certificate are required outside demo mode)"
    )]
    MakerRequired,
    /// A signer's or maker's certificate cannot be parsed.
    #[error("{role}证书无法解析 (cannot parse the {role} certificate)")]
    CertificateUnreadable {
        /// 签章人 or 制章者.
        role: &'static str,
        /// The parser's error.
        source: ses::Error,
    },
    /// A signer's or maker's certificate is not valid now.
    #[error("{}", not_current(role, subject, *problem, when))]
    CertificateNotCurrent {
        /// 签章人 or 制章者.
        role: &'static str,
        /// The certificate's subject.
        subject: String,
        /// Expired or not yet valid.
        problem: CertTime,
        /// The date that decides (notAfter or notBefore).
        when: String,
    },
    /// Something only a demo instance may do (R-7.1d).
    #[error("{what}仅限演示模式 ({what} is for demo instances only, R-7.1d)")]
    DemoOnly {
        /// What was asked.
        what: &'static str,
    },
    /// No NTP answer usable for sealing (R-7.2.2a).
    #[error("无法确认时间：没有可用的 NTP 服务器应答，拒绝签章 (time cannot be confirmed: no usable NTP answer, sealing refused): {}", problems.join("; "))]
    TimeUnavailable {
        /// Each server's problem.
        problems: Vec<String>,
    },
    /// The local clock is too far from the NTP servers' time (R-7.2.2a).
    #[error(
        "本机时钟与 {server} 相差 {offset_ms} ms，超过允许的 {bound_ms} ms，拒绝签章 (the local clock is {offset_ms} ms off {server}'s time, more than the {bound_ms} ms allowed: sealing refused)"
    )]
    TimeNotTrusted {
        /// The server measured against.
        server: String,
        /// Server time minus local time, ms.
        offset_ms: i64,
        /// `[time] max_offset_ms`.
        bound_ms: u64,
    },
    /// The newest time measurement is too old (R-7.2.2a).
    #[error(
        "最近一次时间测量已是 {age_secs} s 前，超过允许的 {bound_secs} s (the newest time measurement is {age_secs} s old, more than the {bound_secs} s allowed)"
    )]
    TimeStale {
        /// Its age.
        age_secs: u64,
        /// `[time] max_age_secs`.
        bound_secs: u64,
    },
    /// A production instance configured without NTP servers (R-7.2.2a).
    #[error(
        "未配置 NTP 服务器：正式实例的签章时间必须可溯源至国家授时中心，请在 ecert.toml 的 [time] servers 中配置 (no NTP servers configured: a production instance's sealing time must be traceable to NTSC; set [time] servers in ecert.toml)"
    )]
    TimeNotConfigured,
    /// `init` into a folder that holds an instance already.
    #[error("{} 中已有实例 (an instance already exists there)", dir.display())]
    InstanceExists {
        /// The folder.
        dir: PathBuf,
    },
    /// The configuration cannot be read or is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store refused input before writing anything.
    #[error("{field} 无效 (invalid {field}): {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The store failed (database, replicas): the environment, not the request.
    #[error("存储失败 (storage failed)")]
    Storage(#[source] StoreError),
    /// A file or folder of the instance cannot be read or written (the environment).
    #[error("{what} {} ({en})", path.display())]
    Io {
        /// What was being done, e.g. "无法写入".
        what: &'static str,
        /// The same in English, e.g. "cannot write".
        en: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Our bug or the environment (a file that cannot be written, the random source, a
    /// thread that died): the source is for the log; a client is told nothing of it.
    #[error("内部错误 (internal error): {what}")]
    Internal {
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// An error's message with every cause after it (`message: cause: cause's cause`); a cause
/// whose message already ends the text is not repeated (`StoreError`'s messages end with
/// their cause).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = cause.source();
    }
    text
}

fn forbidden(what: &str, roles: &[super::StaffRole]) -> String {
    let zh: Vec<String> = roles.iter().map(|r| format!("“{}”", r.zh())).collect();
    let en: Vec<&str> = roles.iter().map(|r| r.name()).collect();
    format!(
        "需要{}角色：{what} (this needs the role {})",
        zh.join("或"),
        en.join(" or ")
    )
}

fn seal_name_taken(title: &str, active: Option<&str>) -> String {
    match active {
        Some(id) => format!(
            "无法保存印章“{title}”：同名印章 {id} 仍在使用，请先停用（ecert seal retire {id}）\
             (cannot store the seal “{title}”: the seal {id} with this title is still active; \
             retire it first)"
        ),
        None => format!(
            "无法保存印章“{title}”：印章库中已有同名印章 (cannot store the seal: the library has an active seal of this name)"
        ),
    }
}

fn not_current(role: &str, subject: &str, problem: CertTime, when: &str) -> String {
    match problem {
        CertTime::Expired => format!(
            "{role}证书已过期（有效期至 {when}）({role} certificate expired on {when}): {subject}"
        ),
        CertTime::NotYetValid => format!(
            "{role}证书尚未生效（生效于 {when}）({role} certificate not yet valid): {subject}"
        ),
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status that answers this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NumberTaken { .. }
            | Error::IdentifierTaken { .. }
            | Error::SupplementNumberTaken { .. }
            | Error::AlreadyExists { .. }
            | Error::SealNameTaken { .. }
            | Error::SealRetired { .. }
            | Error::Revised { .. }
            | Error::Disposed { .. }
            | Error::InstanceExists { .. } => StatusCode::CONFLICT,
            // The seal library or the configuration does not allow issuing now: the request
            // is fine, the issuer has to act (409, not a server fault to retry).
            Error::NoActiveSeal { .. }
            | Error::SealTooLarge { .. }
            | Error::DemoOnly { .. }
            | Error::NoTrustRoots
            | Error::SealUntrusted { .. }
            | Error::SealMaterialUntrusted { .. }
            | Error::TimeNotConfigured => StatusCode::CONFLICT,
            // The time source, not the request: retry later (R-7.2.2a).
            Error::TimeUnavailable { .. }
            | Error::TimeNotTrusted { .. }
            | Error::TimeStale { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::FileDestroyed { .. } => StatusCode::GONE,
            Error::TemplateUnknown { .. }
            | Error::TemplateNotForCertificates { .. }
            | Error::TemplateKind(_)
            | Error::TemplateInvalid { .. }
            | Error::Layout { .. }
            | Error::ContentInvalid(_)
            | Error::Identifier(_)
            | Error::FileName(_)
            | Error::HandedOver { .. }
            | Error::NotOfd { .. }
            | Error::SealKindMismatch { .. }
            | Error::SealSize { .. }
            | Error::SealImage(_)
            | Error::SealPictureFormat
            | Error::MakerRequired
            | Error::CertificateUnreadable { .. }
            | Error::CertificateNotCurrent { .. }
            | Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::SelfCheckFailed(_)
            | Error::Config(_)
            | Error::Storage(_)
            | Error::Io { .. }
            | Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine code for the API's `{"error": {"code"}}` (docs/serve.md).
    pub fn code(&self) -> &'static str {
        match self {
            Error::NumberTaken { .. }
            | Error::IdentifierTaken { .. }
            | Error::SupplementNumberTaken { .. }
            | Error::AlreadyExists { .. }
            | Error::SealNameTaken { .. }
            | Error::InstanceExists { .. } => "duplicate",
            Error::NotFound { .. } => "not_found",
            Error::Forbidden { .. } => "forbidden",
            Error::Revised { .. } => "already_revised",
            Error::SealRetired { .. } => "already_retired",
            Error::Disposed { .. } | Error::FileDestroyed { .. } => "disposed",
            Error::NoActiveSeal { .. } => "no_seal",
            Error::NoTrustRoots
            | Error::SealUntrusted { .. }
            | Error::SealMaterialUntrusted { .. } => "no_trust_root",
            Error::SealTooLarge { .. } => "seal_too_large",
            Error::DemoOnly { .. } => "demo_only",
            Error::TimeUnavailable { .. }
            | Error::TimeNotTrusted { .. }
            | Error::TimeStale { .. }
            | Error::TimeNotConfigured => "time_not_trusted",
            Error::TemplateUnknown { .. } | Error::TemplateNotForCertificates { .. } => {
                "template_unknown"
            }
            Error::TemplateInvalid { .. } | Error::TemplateKind(_) => "template_invalid",
            Error::Layout { .. } => "layout_failed",
            Error::ContentInvalid(_) | Error::Identifier(_) | Error::FileName(_) => {
                "invalid_content"
            }
            Error::HandedOver { .. } => "file_refused",
            Error::NotOfd { .. } => "not_ofd",
            Error::SealKindMismatch { .. }
            | Error::SealSize { .. }
            | Error::SealImage(_)
            | Error::SealPictureFormat
            | Error::MakerRequired
            | Error::CertificateUnreadable { .. }
            | Error::CertificateNotCurrent { .. } => "invalid_seal",
            Error::Invalid { .. } => "invalid",
            Error::SelfCheckFailed(_)
            | Error::Config(_)
            | Error::Storage(_)
            | Error::Io { .. }
            | Error::Internal { .. } => "internal",
        }
    }

    /// The content problems by JSON pointer, when the content was refused.
    pub fn problems(&self) -> Option<Vec<Problem>> {
        match self {
            Error::ContentInvalid(c) => Some(c.0.clone()),
            Error::Identifier(e) => Some(vec![Problem {
                pointer: String::new(),
                message: e.to_string(),
                rule: Rule::Content,
            }]),
            Error::FileName(e) => Some(vec![Problem {
                pointer: String::new(),
                message: e.to_string(),
                rule: Rule::Content,
            }]),
            _ => None,
        }
    }

    /// True for what is our bug or the environment's failure (500): a client is told nothing
    /// of it.
    pub fn is_internal(&self) -> bool {
        self.status() == StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The message with every cause after it (`message: cause: cause's cause`; a cause already
    /// at the end of the text is not repeated), for the CLI,
    /// the log and a client's answer to what is not internal.
    pub fn chain(&self) -> String {
        error_chain(self)
    }

    /// One content problem at `pointer`, breaking `rule`.
    pub(crate) fn content(pointer: &str, rule: Rule, message: String) -> Error {
        Error::ContentInvalid(ContentErrors(vec![Problem {
            pointer: pointer.to_owned(),
            message,
            rule,
        }]))
    }
}

/// Maps any error of the environment to [`Error::Internal`] with what was being done.
pub(crate) fn internal<E>(what: &'static str) -> impl FnOnce(E) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| Error::Internal {
        what,
        source: Box::new(source),
    }
}

/// The cause of an [`Error::Internal`] that is only a message (no error value to carry).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Message(pub(crate) String);

/// An [`Error::Internal`] with a message for its cause.
pub(crate) fn bug(what: &'static str, message: impl Into<String>) -> Error {
    Error::Internal {
        what,
        source: Box::new(Message(message.into())),
    }
}

/// Maps an I/O error on `path` to [`Error::Io`].
pub(crate) fn io(
    what: &'static str,
    en: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io {
        what,
        en,
        path,
        source,
    }
}

impl From<crate::domain::token::RandomError> for Error {
    fn from(e: crate::domain::token::RandomError) -> Error {
        internal("系统随机数 (random source)")(e)
    }
}

impl From<StoreError> for Error {
    /// The store's own refusals become the matching service errors (a taken number is a
    /// conflict, not a server failure); everything else is [`Error::Storage`].
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::DuplicateNumber(number) => Error::NumberTaken { number },
            StoreError::DuplicateIdentifier(identifier) => Error::IdentifierTaken { identifier },
            StoreError::DuplicateSupplementNumber(number) => {
                Error::SupplementNumberTaken { number }
            }
            StoreError::AlreadyExists { what, name } => Error::AlreadyExists { what, name },
            StoreError::NotFound { what, key } => Error::NotFound {
                what: Record::from_store(what),
                key,
            },
            StoreError::AlreadyRevised {
                number,
                replaced_by,
            } => Error::Revised {
                number,
                replaced_by,
            },
            StoreError::Disposed { number } => Error::Disposed { number },
            StoreError::Invalid { field, problem } => Error::Invalid { field, problem },
            StoreError::RevisionCount {
                number,
                expected,
                got,
            } => Error::Invalid {
                field: "revision",
                problem: format!("{number}: expected {expected}, got {got}"),
            },
            other => Error::Storage(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's refusals keep their meaning: conflicts and not-found, not 500s.
    #[test]
    fn store_refusals_map_to_their_own_variants_and_statuses() {
        let e = Error::from(StoreError::DuplicateNumber("A-1".into()));
        assert!(matches!(&e, Error::NumberTaken { number } if number == "A-1"));
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "duplicate"));
        let e = Error::from(StoreError::AlreadyRevised {
            number: "A-1".into(),
            replaced_by: "A-2".into(),
        });
        assert!(matches!(&e, Error::Revised { replaced_by, .. } if replaced_by == "A-2"));
        assert_eq!(e.code(), "already_revised");
        assert!(e.to_string().contains(&revised_message("A-2")));
        let e = Error::from(StoreError::Disposed {
            number: "A-1".into(),
        });
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "disposed"));
        let e = Error::from(StoreError::NotFound {
            what: "certificate",
            key: "A-9".into(),
        });
        assert!(matches!(
            &e,
            Error::NotFound {
                what: Record::Certificate,
                ..
            }
        ));
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert!(e.to_string().starts_with("找不到证书 A-9"), "{e}");
        let e = Error::from(StoreError::WrongMasterKey);
        assert!(matches!(e, Error::Storage(_)));
        assert!(e.is_internal());
        assert_eq!(e.code(), "internal");
    }

    #[test]
    fn content_problems_are_422_with_their_pointers() {
        let e = Error::content(
            "/issueDate",
            Rule::DateOrder,
            "早于原证书 (predates the original)".into(),
        );
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code(), "invalid_content");
        let problems = e.problems().expect("problems");
        assert_eq!(problems[0].pointer, "/issueDate");
        assert!(!e.is_internal());
    }

    #[test]
    fn internal_errors_keep_their_source_for_the_log() {
        let e = internal("writing the key")(std::io::Error::other("disk full"));
        assert!(e.is_internal());
        assert_eq!(e.code(), "internal");
        assert!(!e.to_string().contains("disk full"), "the message alone");
        assert!(
            e.chain().ends_with("writing the key: disk full"),
            "{}",
            e.chain()
        );
    }

    #[test]
    fn seal_too_large_names_both_sizes() {
        let e = Error::SealTooLarge {
            seal: "校准章".into(),
            seal_mm: (50.0, 50.0),
            slot_mm: (42.0, 42.0),
        };
        let text = e.to_string();
        assert!(
            text.contains("50 × 50 mm") && text.contains("42.0 × 42.0 mm"),
            "{text}"
        );
        assert_eq!(e.status(), StatusCode::CONFLICT);
    }
}
