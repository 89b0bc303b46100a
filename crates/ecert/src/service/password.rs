//! Customer passwords (R-5.2.3, R-7.2.3d): argon2id hashes in PHC strings, the same cost for an
//! account that does not exist, and the rules a new password must meet.
//!
//! Parameters ([`PasswordParams::default`]): 19 MiB of memory, 2 passes, 1 lane — the first of
//! the equivalent argon2id settings in OWASP's Password Storage Cheat Sheet (m = 19456 KiB,
//! t = 2, p = 1). One lane because the server hashes for many customers at once: more lanes
//! would make one login take more cores, not make the hash harder to attack. 19 MiB keeps 64
//! logins in flight under 1.3 GB. The figure on our machine is in docs/benchmarks.md
//! (`cargo bench -p ecert --bench password`). The parameters travel inside each PHC string, so
//! raising them later leaves existing hashes verifiable ([`needs_rehash`] says which to renew
//! at the next login).
//!
//! A new password ([`check_new_password`]): at least 10 characters and at most 128 bytes, not
//! one of the 3,545 common passwords of [`COMMON_PASSWORDS`] (nor one of them followed or
//! preceded by digits or punctuation only), not made of fewer than 5 different characters or a
//! run such as `abcdefghij`, and not containing what identifies the customer (the e-mail's local
//! part, the mobile number, the organisation's code), compared case-insensitively.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// The longest password accepted, in bytes (UTF-8).
pub const MAX_BYTES: usize = 128;
/// Fewest different characters in a password.
pub const MIN_DISTINCT: usize = 5;

/// The common-password list: John the Ripper's `password.lst` (public domain; origin in the
/// file's header).
pub const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordParams {
    /// Memory in KiB (default 19456, 19 MiB).
    pub memory_kib: u32,
    /// Passes over the memory (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams::OWASP
    }
}

impl PasswordParams {
    /// OWASP's first argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: PasswordParams = PasswordParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Parameters of one's own, checked: at least 8 MiB and 1 pass (weaker settings are
    /// refused), at most 4 GiB, 16 lanes and 100 passes (a typo must not hang every login).
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<PasswordParams, PasswordError> {
        let p = PasswordParams {
            memory_kib,
            iterations,
            parallelism,
        };
        p.check()?;
        Ok(p)
    }

    /// The bounds of [`PasswordParams::new`], for values read from a configuration.
    pub fn check(&self) -> Result<(), PasswordError> {
        if !(8 * 1024..=4 * 1024 * 1024).contains(&self.memory_kib) {
            return Err(PasswordError::Params(format!(
                "memory_kib 应在 8192 到 4194304 之间，实际为 {} (memory_kib must be 8192..=4194304)",
                self.memory_kib
            )));
        }
        if !(1..=100).contains(&self.iterations) {
            return Err(PasswordError::Params(format!(
                "iterations 应在 1 到 100 之间，实际为 {} (iterations must be 1..=100)",
                self.iterations
            )));
        }
        if !(1..=16).contains(&self.parallelism) {
            return Err(PasswordError::Params(format!(
                "parallelism 应在 1 到 16 之间，实际为 {} (parallelism must be 1..=16)",
                self.parallelism
            )));
        }
        Ok(())
    }

    fn hasher(&self) -> Result<Argon2<'static>, PasswordError> {
        self.check()?;
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The parameters are out of bounds.
    #[error("口令哈希参数无效 (invalid password hashing parameters): {0}")]
    Params(String),
    /// No random salt could be had from the operating system.
    #[error("无法获得随机数 (no randomness from the operating system): {0}")]
    Random(String),
    /// The hash function failed.
    #[error("口令哈希失败 (password hashing failed): {0}")]
    Hash(String),
}

/// Hashes `password` with argon2id and a fresh 16-byte random salt; the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) carries the parameters.
pub fn hash_password(p: &PasswordParams, password: &str) -> Result<String, PasswordError> {
    let hasher = p.hasher()?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` is the one hashed in `phc` (the comparison is the crate's, in constant
/// time). False for a malformed PHC string, another algorithm than argon2id, or parameters out
/// of [`PasswordParams::check`]'s bounds (a stored hash cannot make a login cost more).
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Some(params) = stored_params(&hash) else {
        return false;
    };
    let Ok(hasher) = params.hasher() else {
        return false;
    };
    hasher.verify_password(password.as_bytes(), &hash).is_ok()
}

/// Does the work of one [`verify_password`] with `p` and throws it away: called when the account
/// does not exist, so that its answer takes as long as a wrong password's (no account
/// enumeration by timing).
pub fn dummy_verify(p: &PasswordParams, password: &str) {
    std::hint::black_box(dummy_hash(p, password));
}

/// A fixed salt: nothing is stored, only the work matters.
const DUMMY_SALT: &[u8] = b"ecert-dummy-salt";

/// The argon2id computation a verification with `p` makes (same parameters, same output
/// length as [`hash_password`]'s), over a fixed salt.
fn dummy_hash(p: &PasswordParams, password: &str) -> Option<[u8; 32]> {
    let hasher = p.hasher().ok()?;
    let mut out = [0u8; 32];
    hasher
        .hash_password_into(password.as_bytes(), DUMMY_SALT, &mut out)
        .ok()?;
    Some(out)
}

/// Whether `phc` was made with other parameters than `p` (or is not ours): hash the password
/// again after a successful login.
pub fn needs_rehash(phc: &str, p: &PasswordParams) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    hash.algorithm != Algorithm::Argon2id.ident() || stored_params(&hash) != Some(*p)
}

fn stored_params(hash: &PasswordHash<'_>) -> Option<PasswordParams> {
    let params = Params::try_from(hash).ok()?;
    Some(PasswordParams {
        memory_kib: params.m_cost(),
        iterations: params.t_cost(),
        parallelism: params.p_cost(),
    })
}

/// What is wrong with a new password; the message says it in Chinese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordProblem {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error(
        "口令至少需要 {min} 个字符，当前为 {found} 个 (the password needs at least {min} characters, it has {found})"
    )]
    TooShort {
        /// The minimum.
        min: usize,
        /// Characters given.
        found: usize,
    },
    /// More than [`MAX_BYTES`] bytes.
    #[error(
        "口令不得超过 {max} 字节，当前为 {found} 字节 (the password may have at most {max} bytes, it has {found})"
    )]
    TooLong {
        /// The maximum.
        max: usize,
        /// Bytes given.
        found: usize,
    },
    /// A control character (line breaks, tabs, …).
    #[error(
        "口令不得包含控制字符（如换行、制表符） (the password must not contain control characters such as line breaks or tabs)"
    )]
    Control,
    /// On the common-password list, or one of its entries with digits or punctuation around it.
    #[error(
        "该口令过于常见，容易被猜中，请换一个 (this password is too common and easily guessed; choose another)"
    )]
    Common,
    /// Too few different characters, or a run like `abcdefghij` / `9876543210`.
    #[error(
        "口令过于简单（重复或连续的字符），请换一个 (the password is too simple: repeated or consecutive characters; choose another)"
    )]
    Simple,
    /// Contains the customer's e-mail name, mobile number or another identifying string.
    #[error(
        "口令不得包含您的邮箱名、手机号或单位代码 (the password must not contain your e-mail name, mobile number or organisation code)"
    )]
    Personal,
}

fn common_set() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_lowercase)
            .collect()
    })
}

/// Whether `lower` (lower case) is a common password, or one with only digits and punctuation
/// before or after it (`password2024!`, `123qwerty`).
fn is_common(lower: &str) -> bool {
    let set = common_set();
    if set.contains(lower) {
        return true;
    }
    let filler = |c: char| c.is_ascii_digit() || c.is_ascii_punctuation();
    let core = lower.trim_matches(filler);
    core.chars().count() >= 4 && set.contains(core)
}

/// Whether every character is the one before it plus (or minus) one: `abcdefghij`, `0987654321`.
fn is_run(chars: &[char]) -> bool {
    let step = |a: char, b: char| i64::from(u32::from(b)) - i64::from(u32::from(a));
    let Some(first) = chars.windows(2).next().map(|w| step(w[0], w[1])) else {
        return false;
    };
    (first == 1 || first == -1) && chars.windows(2).all(|w| step(w[0], w[1]) == first)
}

/// Checks a new password against the rules of this module's documentation; `context` holds what
/// identifies the customer (e-mail local part, mobile number, organisation code, name), each of
/// at least 4 characters counted (shorter ones are ignored).
pub fn check_new_password(password: &str, context: &[&str]) -> Result<(), PasswordProblem> {
    if password.len() > MAX_BYTES {
        return Err(PasswordProblem::TooLong {
            max: MAX_BYTES,
            found: password.len(),
        });
    }
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_CHARS {
        return Err(PasswordProblem::TooShort {
            min: MIN_CHARS,
            found: chars.len(),
        });
    }
    if chars.iter().any(|c| c.is_control()) {
        return Err(PasswordProblem::Control);
    }
    let lower = password.to_lowercase();
    if is_common(&lower) {
        return Err(PasswordProblem::Common);
    }
    let distinct: HashSet<char> = lower.chars().collect();
    if distinct.len() < MIN_DISTINCT || is_run(&chars) {
        return Err(PasswordProblem::Simple);
    }
    for item in context {
        let item = item.trim().to_lowercase();
        if item.chars().count() >= 4 && lower.contains(&item) {
            return Err(PasswordProblem::Personal);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest parameters the bounds allow: the tests check behaviour, not cost.
    fn quick() -> PasswordParams {
        PasswordParams::new(8 * 1024, 1, 1).expect("params")
    }

    #[test]
    fn r_5_2_3_hash_and_verify_argon2id() {
        let p = quick();
        let phc = hash_password(&p, "correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse batterY"));
        assert!(!verify_password(&phc, ""));
        // Fresh salt each time.
        let again = hash_password(&p, "correct horse battery").expect("hash");
        assert_ne!(phc, again);
        assert!(verify_password(&again, "correct horse battery"));
        assert!(!needs_rehash(&phc, &p));
        assert!(needs_rehash(&phc, &PasswordParams::default()));
    }

    #[test]
    fn r_5_2_3_malformed_or_foreign_hashes_never_verify() {
        assert!(!verify_password("", "x"));
        assert!(!verify_password("plain text", "plain text"));
        // argon2i is not what we store.
        let p = quick();
        let phc = hash_password(&p, "abc").expect("hash");
        let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
        assert!(!verify_password(&argon2i, "abc"));
        // Parameters beyond the bounds (a planted hash asking for 8 GiB) are refused unrun.
        let huge = phc.replacen("m=8192", "m=8388608", 1);
        assert!(!verify_password(&huge, "abc"));
    }

    #[test]
    fn r_5_2_3_parameters_are_bounded_and_default_to_owasp() {
        let d = PasswordParams::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19456, 2, 1));
        assert!(PasswordParams::new(1024, 2, 1).is_err());
        assert!(PasswordParams::new(19456, 0, 1).is_err());
        assert!(PasswordParams::new(19456, 2, 0).is_err());
        let e = PasswordParams::new(19456, 2, 64).expect_err("lanes");
        assert!(e.to_string().contains("parallelism"), "{e}");
        let toml: PasswordParams = toml::from_str("memory_kib = 65536").expect("toml");
        assert_eq!(toml.memory_kib, 65536);
        assert_eq!(toml.iterations, 2);
    }

    /// No enumeration by timing: the dummy does exactly the work of verifying a real hash made
    /// with the same parameters (a verification recomputes the hash): here, a real hash over
    /// the dummy's salt has the very bytes the dummy computes. (Its cost is measured in the
    /// `password` bench, not timed in a test.)
    #[test]
    fn r_5_2_3_dummy_verify_does_the_work_of_a_real_one() {
        let p = quick();
        let salt = SaltString::encode_b64(DUMMY_SALT).expect("salt");
        let real = p
            .hasher()
            .expect("hasher")
            .hash_password(b"wrong one", &salt)
            .expect("hash");
        let dummy = dummy_hash(&p, "wrong one").expect("dummy");
        assert_eq!(real.hash.expect("output").as_bytes(), &dummy[..]);
        // Another password gives other bytes: the password is hashed, not skipped.
        assert_ne!(dummy_hash(&p, "another one").expect("dummy"), dummy);
    }

    #[test]
    fn r_5_2_3_new_password_rules() {
        assert_eq!(
            check_new_password("short1!", &[]),
            Err(PasswordProblem::TooShort { min: 10, found: 7 })
        );
        // Characters, not bytes: ten hanzi pass the length rule.
        assert_eq!(check_new_password("计量电子证书下载口令好", &[]), Ok(()));
        let long = "长".repeat(43);
        assert_eq!(
            check_new_password(&long, &[]),
            Err(PasswordProblem::TooLong {
                max: 128,
                found: 129
            })
        );
        assert_eq!(
            check_new_password("good pass\nword", &[]),
            Err(PasswordProblem::Control)
        );
        // On the list (any case), and list entries padded with digits or punctuation.
        for common in [
            "basketball",
            "BasketBall",
            "qwertyuiop",
            "password2024!",
            "123456qwerty",
            "1234567890",
        ] {
            assert_eq!(
                check_new_password(common, &[]),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
        for simple in [
            "aaaaaaaaaaaa",
            "abababababab",
            "abcdefghijkl",
            "zyxwvutsrqpo",
        ] {
            let r = check_new_password(simple, &[]);
            assert!(
                matches!(r, Err(PasswordProblem::Simple | PasswordProblem::Common)),
                "{simple}: {r:?}"
            );
        }
        assert_eq!(
            check_new_password("zhang.wei-Lab42", &["Zhang.Wei", "13812345678"]),
            Err(PasswordProblem::Personal)
        );
        assert_eq!(
            check_new_password("x13812345678y", &["zhang.wei", "13812345678"]),
            Err(PasswordProblem::Personal)
        );
        // Short context strings are ignored (a local part "li" would forbid too much).
        assert_eq!(check_new_password("Olive tree limp 7", &["li"]), Ok(()));
        assert_eq!(
            check_new_password("Tr0ub4dor&3-horse", &["zhang.wei"]),
            Ok(())
        );
    }

    #[test]
    fn r_5_2_3_problems_speak_chinese_then_english() {
        for p in [
            PasswordProblem::TooShort { min: 10, found: 3 },
            PasswordProblem::TooLong {
                max: 128,
                found: 200,
            },
            PasswordProblem::Control,
            PasswordProblem::Common,
            PasswordProblem::Simple,
            PasswordProblem::Personal,
        ] {
            let m = p.to_string();
            let first = m.chars().next().expect("text");
            assert!(('\u{4e00}'..='\u{9fff}').contains(&first), "{m}");
            assert!(m.contains(" (") && m.ends_with(')'), "{m}");
        }
    }

    #[test]
    fn common_list_is_read_whole() {
        let entries = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        // The header says 3546 entries; one of them is the empty password (an empty line).
        assert_eq!(entries, 3545);
        let set = common_set();
        assert!(set.contains("123456") && set.contains("password") && set.contains("basketball"));
    }
}
