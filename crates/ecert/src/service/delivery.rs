//! Encrypted delivery (R-6.1, R-7.2.3c): certificates leave as a ZIP encrypted with AES-256
//! (WinZip AE-2, what 7-Zip, WinZip, Windows 11 and macOS Archive Utility open), one or several
//! files in one package, under a password the institute's key policy decides.
//!
//! The entries are stored, not deflated (an OFD is a ZIP of compressed parts already); each has
//! its own random salt (the `zip` crate's AES writer), so no two entries share a key stream.
//! AE-2 leaves the CRC out and relies on the entry's HMAC-SHA1 instead, as the WinZip
//! specification prescribes for small files. File names are written in UTF-8 with the
//! language-encoding flag (bit 11), so Chinese names extract as they are.

use std::io::{Cursor, Write};

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::web::Lang;

/// Which password opens the package: the institute chooses one in its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyPolicy {
    /// a) the identity-check code the customer just entered (`"code"`).
    #[serde(rename = "code")]
    IdentityCode,
    /// b) a password shown on the download page ([`generate_shown_password`]) (`"shown"`).
    #[serde(rename = "shown")]
    Shown,
    /// c) the customer's mobile number, 11 digits (`"mobile"`).
    #[serde(rename = "mobile")]
    Mobile,
    /// e) a password the customer types on the download page (`"chosen"`).
    #[serde(rename = "chosen")]
    Chosen,
}

impl KeyPolicy {
    /// The sentence the download page shows: which password opens the ZIP.
    pub(crate) fn describe(&self, lang: Lang) -> &'static str {
        match self {
            KeyPolicy::IdentityCode => lang.t(
                "压缩包已加密（AES-256），解压密码为您刚才输入的验证码。",
                "The ZIP is encrypted (AES-256); its password is the verification code you just entered.",
            ),
            KeyPolicy::Shown => lang.t(
                "压缩包已加密（AES-256），解压密码显示在本页，请记下后再下载。",
                "The ZIP is encrypted (AES-256); its password is shown on this page: note it before downloading.",
            ),
            KeyPolicy::Mobile => lang.t(
                "压缩包已加密（AES-256），解压密码为您的手机号码（11 位数字）。",
                "The ZIP is encrypted (AES-256); its password is your mobile number (11 digits).",
            ),
            KeyPolicy::Chosen => lang.t(
                "压缩包已加密（AES-256），解压密码为您在本页设定的密码。",
                "The ZIP is encrypted (AES-256); its password is the one you set on this page.",
            ),
        }
    }

    /// The name used in the configuration (`code`, `shown`, `mobile`, `chosen`).
    pub fn name(&self) -> &'static str {
        match self {
            KeyPolicy::IdentityCode => "code",
            KeyPolicy::Shown => "shown",
            KeyPolicy::Mobile => "mobile",
            KeyPolicy::Chosen => "chosen",
        }
    }

    /// The clause item of the policy implements.
    pub fn clause(&self) -> &'static str {
        match self {
            KeyPolicy::IdentityCode => "R-6.1a",
            KeyPolicy::Shown => "R-6.1b",
            KeyPolicy::Mobile => "R-6.1c",
            KeyPolicy::Chosen => "R-6.1e",
        }
    }
}

/// Characters of a shown password: no `0 O o 1 l I i` to misread.
pub const SHOWN_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
/// Length of a shown password (12 characters of 54: about 69 bits).
pub const SHOWN_LEN: usize = 12;

/// A fresh password for [`KeyPolicy::Shown`]: [`SHOWN_LEN`] characters drawn uniformly from
/// [`SHOWN_ALPHABET`] with the operating system's random numbers.
///
/// # Panics
/// Only when the operating system has no random numbers to give, which makes every other
/// secret of the service impossible too.
pub fn generate_shown_password() -> String {
    let n = SHOWN_ALPHABET.len();
    // Largest multiple of n below 256: bytes above it are drawn again (no modulo bias).
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(SHOWN_LEN);
    while out.len() < SHOWN_LEN {
        let mut buf = [0u8; 32];
        getrandom::fill(&mut buf).expect("operating system random numbers");
        for b in buf {
            let b = usize::from(b);
            if b < limit && out.len() < SHOWN_LEN {
                out.push(char::from(SHOWN_ALPHABET[b % n]));
            }
        }
    }
    out
}

/// Why a package cannot be made; Chinese first, English beside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The password is empty (or white space only).
    #[error("加密密码不能为空 (the package password must not be empty)")]
    EmptyPassword,
    /// No file to put in.
    #[error("没有要打包的文件 (no file to package)")]
    NoFiles,
    /// A file name is empty, a path, or has control characters.
    #[error(
        "文件名无效“{0}”（不得为空、含路径或控制字符）(invalid file name: empty, a path, or control characters)"
    )]
    BadName(String),
    /// Two files with one name.
    #[error("文件名重复“{0}” (file name given twice)")]
    DuplicateName(String),
    /// The ZIP writer failed.
    #[error("无法生成加密压缩包 (cannot write the encrypted ZIP): {0}")]
    Zip(String),
}

/// An encrypted package and what the audit entry records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The ZIP file.
    pub bytes: Vec<u8>,
    /// SM3 of [`Package::bytes`], the bytes sent (R-7.2.3b).
    pub sm3: [u8; 32],
    /// The entries' names, in order.
    pub names: Vec<String>,
}

impl Package {
    /// Makes the package of `files` (name, content) under `password` (see
    /// [`encrypted_zip`]).
    pub fn new(files: &[(&str, &[u8])], password: &str) -> Result<Package, DeliveryError> {
        let bytes = encrypted_zip(files, password)?;
        let sm3 = ecert_store::sm3(&bytes);
        Ok(Package {
            bytes,
            sm3,
            names: files.iter().map(|(n, _)| (*n).to_owned()).collect(),
        })
    }

    /// The file name to offer for a package of several certificates:
    /// `电子证书-{count}份.zip`, or the single file's name with `.zip` added.
    pub fn download_name(&self) -> String {
        match self.names.as_slice() {
            [one] => format!("{one}.zip"),
            names => format!("电子证书-{}份.zip", names.len()),
        }
    }
}

fn check_name(name: &str) -> Result<(), DeliveryError> {
    let bad = name.trim().is_empty()
        || name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.chars().any(char::is_control)
        || name.len() > 255 * 3;
    if bad {
        Err(DeliveryError::BadName(name.to_owned()))
    } else {
        Ok(())
    }
}

/// A ZIP of `files` (name, content), each entry stored and encrypted with AES-256 (WinZip AE-2)
/// under `password`, names in UTF-8. Refuses an empty password, no files, a name twice, and
/// names that are paths.
pub fn encrypted_zip(files: &[(&str, &[u8])], password: &str) -> Result<Vec<u8>, DeliveryError> {
    if password.trim().is_empty() {
        return Err(DeliveryError::EmptyPassword);
    }
    if files.is_empty() {
        return Err(DeliveryError::NoFiles);
    }
    for (i, (name, _)) in files.iter().enumerate() {
        check_name(name)?;
        if files[..i].iter().any(|(other, _)| other == name) {
            return Err(DeliveryError::DuplicateName((*name).to_owned()));
        }
    }
    let total: usize = files.iter().map(|(n, b)| n.len() + b.len() + 128).sum();
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(total + 64)));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .with_aes_encryption(AesMode::Aes256, password);
    let err = |e: &dyn std::fmt::Display| DeliveryError::Zip(e.to_string());
    for (name, bytes) in files {
        zip.start_file(*name, options).map_err(|e| err(&e))?;
        zip.write_all(bytes).map_err(|e| err(&e))?;
    }
    let cursor = zip.finish().map_err(|e| err(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Configured {
        #[allow(dead_code)]
        key: KeyPolicy,
    }

    #[test]
    fn r_6_1_policies_have_config_names_and_words() {
        for (p, name) in [
            (KeyPolicy::IdentityCode, "code"),
            (KeyPolicy::Shown, "shown"),
            (KeyPolicy::Mobile, "mobile"),
            (KeyPolicy::Chosen, "chosen"),
        ] {
            assert_eq!(p.name(), name);
            let c: Configured = toml::from_str(&format!("key = \"{name}\"")).expect("toml");
            assert_eq!(c.key, p);
            assert!(p.describe(Lang::Zh).contains("AES-256"));
            assert!(p.describe(Lang::En).starts_with("The ZIP is encrypted"));
        }
        // R-6.1d (WeChat id) is not offered: no WeChat provider is configured.
        assert!(toml::from_str::<Configured>("key = \"wechat\"").is_err());
        assert!(KeyPolicy::Mobile.describe(Lang::Zh).contains("手机号码"));
    }

    #[test]
    fn r_6_1b_shown_passwords_are_long_unambiguous_and_fresh() {
        let a = generate_shown_password();
        let b = generate_shown_password();
        assert_eq!(a.chars().count(), SHOWN_LEN);
        assert_ne!(a, b);
        for c in a.chars().chain(b.chars()) {
            assert!(SHOWN_ALPHABET.contains(&(c as u8)), "{c}");
            assert!(!"0Oo1lIi".contains(c));
        }
    }

    #[test]
    fn r_7_2_3_refusals_name_the_problem() {
        let f: &[(&str, &[u8])] = &[("a.ofd", b"x")];
        assert_eq!(encrypted_zip(f, ""), Err(DeliveryError::EmptyPassword));
        assert_eq!(encrypted_zip(f, "  "), Err(DeliveryError::EmptyPassword));
        assert_eq!(encrypted_zip(&[], "pw"), Err(DeliveryError::NoFiles));
        for bad in ["", "../a.ofd", "dir/a.ofd", "a\\b.ofd", "a\nb.ofd", ".."] {
            let r = encrypted_zip(&[(bad, b"x")], "pw");
            assert_eq!(r, Err(DeliveryError::BadName(bad.to_owned())), "{bad:?}");
        }
        let twice: &[(&str, &[u8])] = &[("a.ofd", b"x"), ("a.ofd", b"y")];
        assert_eq!(
            encrypted_zip(twice, "pw"),
            Err(DeliveryError::DuplicateName("a.ofd".into()))
        );
        let m = DeliveryError::EmptyPassword.to_string();
        assert!(m.starts_with("加密密码") && m.contains("must not be empty"));
    }

    #[test]
    fn r_7_2_3_package_is_aes_and_utf8_without_plain_content() {
        let secret = b"certificate bytes that must not appear in the clear".repeat(20);
        let files: &[(&str, &[u8])] = &[("检定证书-甲.ofd", &secret), ("b.ofd", b"second")];
        let p = Package::new(files, "pass word").expect("package");
        assert!(
            !p.bytes
                .windows(secret.len())
                .any(|w| w == secret.as_slice()),
            "content in the clear"
        );
        assert!(
            p.bytes
                .windows("检定证书-甲.ofd".len())
                .any(|w| w == "检定证书-甲.ofd".as_bytes()),
            "UTF-8 name"
        );
        // AES marker: compression method 99 in the local header, the AE extra field 0x9901.
        assert_eq!(&p.bytes[8..10], &[99, 0]);
        assert!(p.bytes.windows(2).any(|w| w == [0x01, 0x99]));
        assert_eq!(p.names, ["检定证书-甲.ofd", "b.ofd"]);
        assert_eq!(p.download_name(), "电子证书-2份.zip");
        // Fresh salts: the same input never gives the same bytes.
        let q = Package::new(files, "pass word").expect("package");
        assert_ne!(p.bytes, q.bytes);
        assert_ne!(p.sm3, q.sm3);
    }
}
