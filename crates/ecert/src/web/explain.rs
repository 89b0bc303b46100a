//! What the public report says to a person, in Chinese (English behind `?lang=en`): the name
//! and meaning of each signature check, the result words, the differences between an uploaded
//! file and our record, and why a file could not be read. The stable machine names
//! (`SIGNER_SIGNATURE`, `not_ofd`, …) stay in the JSON answer; a page never shows a Rust debug
//! form or a reader's English message alone.

use ses::verify::{CheckId, Status};

use super::view::Lang;
use crate::service::Mismatch;

/// A check's name and what it establishes when it passes (R-6.3b: the report a person reads).
pub(crate) fn check(id: CheckId, lang: Lang) -> (&'static str, &'static str) {
    let (zh, zh_what, en, en_what) = match id {
        CheckId::ReferenceHashes => (
            "签名内容完整",
            "签名所保护的每一部分文件内容都与签章时一致，未被改动。",
            "Signed content intact",
            "Every part of the file the signature protects is as it was when sealed.",
        ),
        CheckId::DataHash => (
            "签名数据摘要",
            "签章数据中记录的摘要与签名描述文件一致。",
            "Signed-data digest",
            "The digest recorded in the signature matches the signature description.",
        ),
        CheckId::SignerSignature => (
            "签章人签名",
            "签章人的 SM2 数字签名有效。",
            "Signer's signature",
            "The signer's SM2 signature is valid.",
        ),
        CheckId::SealMakerSignature => (
            "制章者签名",
            "电子印章由制章者签名，印章本身未被改动。",
            "Seal maker's signature",
            "The electronic seal is signed by its maker and unchanged.",
        ),
        CheckId::SealFileMatch => (
            "印章文件一致",
            "文件中的印章与签章数据中的印章相同。",
            "Seal file matches",
            "The seal stored in the file is the one inside the signature.",
        ),
        CheckId::SignerInSeal => (
            "签章人已获印章授权",
            "签章人的证书在电子印章授权的证书列表中。",
            "Signer authorised by the seal",
            "The signer's certificate is one the seal lists.",
        ),
        CheckId::SealValidity => (
            "印章有效期",
            "签章时电子印章在有效期内。",
            "Seal validity",
            "The seal was within its validity period when the file was sealed.",
        ),
        CheckId::Certificates => (
            "数字证书",
            "签章人和制章者的证书在签章时有效，并可追溯到受信任的根证书。",
            "Certificates",
            "The signer's and maker's certificates were valid and chain to a trusted root.",
        ),
        CheckId::SignatureMethod => (
            "签名算法",
            "文件声明的签名算法与签章数据一致。",
            "Signature method",
            "The signature method the file names agrees with the signature data.",
        ),
        CheckId::PropertyInfo => (
            "签章属性",
            "签章数据指向本条签名记录。",
            "Signature property",
            "The signature data names this signature record.",
        ),
        CheckId::Coverage => (
            "签名覆盖全部内容",
            "阅读器会读取的每个文件都受签名保护，没有未签名的附加内容。",
            "Whole file covered",
            "Every part a reader loads is covered by a signature; nothing unsigned was added.",
        ),
        CheckId::ZipAmbiguity => (
            "文件包无歧义",
            "文件包中没有重名、大小写变体或路径伪装等可使不同阅读器读出不同内容的情况。",
            "Unambiguous package",
            "No duplicate, case-variant or disguised names that readers could read differently.",
        ),
    };
    match lang {
        Lang::Zh => (zh, zh_what),
        Lang::En => (en, en_what),
    }
}

/// A check's result in words, and its CSS class.
pub(crate) fn status(s: Status, lang: Lang) -> (&'static str, &'static str) {
    match s {
        Status::Passed => (lang.t("通过", "Passed"), "pass"),
        Status::Failed => (lang.t("未通过", "Failed"), "fail"),
        Status::Indeterminate => (lang.t("无法确定", "Indeterminate"), "undecided"),
        Status::NotApplicable => (lang.t("不适用", "Not applicable"), "na"),
    }
}

/// A difference between an uploaded file and our record, in `lang`.
pub(crate) fn mismatch(m: &Mismatch, lang: Lang) -> String {
    match (m, lang) {
        (Mismatch::FileDigest { .. }, Lang::Zh) => {
            "文件内容与本机构存档的证书文件不一致（SM3 摘要不同）。".to_owned()
        }
        (Mismatch::FileDigest { .. }, Lang::En) => {
            "The file differs from the certificate file we keep (its SM3 differs).".to_owned()
        }
        (Mismatch::Identifier { file, record }, Lang::Zh) => {
            format!("文件中的电子证书标识 {file} 与本机构记录 {record} 不一致。")
        }
        (Mismatch::Identifier { file, record }, Lang::En) => {
            format!("The identifier in the file, {file}, differs from our record, {record}.")
        }
        (Mismatch::Number { file, record }, Lang::Zh) => {
            format!("文件中的证书编号 {file} 与本机构记录 {record} 不一致。")
        }
        (Mismatch::Number { file, record }, Lang::En) => {
            format!("The number in the file, {file}, differs from our record, {record}.")
        }
        (Mismatch::SignatureFailed { checks }, _) => {
            let names: Vec<&str> = checks
                .iter()
                .map(|(_, id)| check(*id, lang).0)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            match lang {
                Lang::Zh => format!("签章验证未通过：{}。", names.join("、")),
                Lang::En => format!("The seals fail these checks: {}.", names.join(", ")),
            }
        }
        (Mismatch::ClaimsOurInstitute, Lang::Zh) => {
            "文件的电子证书标识声称由本机构签发，但本机构没有这份证书。".to_owned()
        }
        (Mismatch::ClaimsOurInstitute, Lang::En) => {
            "The file's identifier names our institute, but we issued no such certificate."
                .to_owned()
        }
        (Mismatch::TagUnreadable { .. }, Lang::Zh) => {
            "文件中的电子证书标引信息无法读取，已按文档信息判断。".to_owned()
        }
        (Mismatch::TagUnreadable { .. }, Lang::En) => {
            "The file's certificate tag cannot be read; it was judged by its document info."
                .to_owned()
        }
        (Mismatch::Parts { parts }, Lang::Zh) => {
            format!("与本机构存档文件不同的部件：{}。", parts.join("、"))
        }
        (Mismatch::Parts { parts }, Lang::En) => {
            format!(
                "Parts that differ from the file we keep: {}.",
                parts.join(", ")
            )
        }
    }
}

/// Why an upload is not a readable OFD file, for a person: what it means and what to do
/// (the reader's own message goes along as the technical detail).
pub(crate) fn unreadable(e: &ofd::read::ReadError, lang: Lang) -> &'static str {
    use ofd::package::PackageError as P;
    use ofd::read::ReadError as R;
    match e {
        R::Package(P::NotZip(_)) => lang.t(
            "这不是 OFD 文件：OFD 电子证书是 ZIP 格式的文件包，而此文件不是（可能选错了文件，或文件已损坏）。",
            "This is not an OFD file: an OFD certificate is a ZIP package and this file is not one (perhaps the wrong file, or a damaged one).",
        ),
        R::Package(
            P::TooManyEntries { .. }
            | P::EntryTooLarge { .. }
            | P::TotalTooLarge { .. }
            | P::RatioTooHigh { .. },
        )
        | R::Limit { .. } => lang.t(
            "文件解压后过大或过于复杂，超出了验证服务的安全限制，未予读取。",
            "Unpacked, the file is too large or too complex for the service's safety limits; it was not read.",
        ),
        R::Package(_) => lang.t(
            "文件包结构异常（重名、路径异常、加密或已损坏），不能作为 OFD 文件读取。",
            "The package is malformed (duplicate or unsafe names, encryption, or damage) and cannot be read as OFD.",
        ),
        R::Missing { .. } => lang.t(
            "文件是 ZIP 文件包，但缺少 OFD 文件必需的部分，不是 OFD 电子证书。",
            "The file is a ZIP package but lacks parts every OFD file has: it is not an OFD certificate.",
        ),
        R::Xml { .. } | R::Structure { .. } | R::Loc(_) => lang.t(
            "文件中的 OFD 内容格式有误，无法读取（文件可能已损坏或不是规范的 OFD 文件）。",
            "The OFD content of the file is malformed and cannot be read (damaged, or not standard OFD).",
        ),
        _ => lang.t(
            "无法读取此 OFD 文件。",
            "This OFD file cannot be read.",
        ),
    }
}
