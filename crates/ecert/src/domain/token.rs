//! Verification tokens and check codes.
//!
//! The 2D code leads to `{base_url}/v/{token}`, where the token is 130 random bits (26 base32
//! characters), so nobody can enumerate certificates from the code (DESIGN: the code holds a URL with
//! an unguessable token, not the number). The store keeps only a hash of it. The check code is
//! printed on the certificate and, together with the number, lets a person look a certificate up by
//! hand; its alphabet leaves out characters that are easily confused (0/O, 1/I/L).

use std::fmt;

/// RFC 4648 base32 alphabet, lower case (URL-friendly, case-insensitive on input).
const TOKEN_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Characters in a token: 26 × 5 = 130 bits ≥ 128.
pub const TOKEN_LEN: usize = 26;
/// Check-code alphabet: digits and upper-case letters without 0, 1, I, L, O (31 symbols).
pub(crate) const CHECK_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a check code (8 × log2(31) ≈ 39.6 bits), printed as `XXXX-XXXX`.
pub const CHECK_LEN: usize = 8;

/// The random source failed.
#[derive(Debug, thiserror::Error)]
#[error("无法获取系统随机数 (the system random source failed): {0}")]
pub struct RandomError(String);

fn random_symbols(alphabet: &[u8], count: usize) -> Result<String, RandomError> {
    let n = alphabet.len();
    // Rejection sampling: bytes at or above the largest multiple of n are drawn again (no bias).
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(count);
    let mut buf = [0u8; 64];
    while out.len() < count {
        getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
        for b in buf {
            if usize::from(b) < limit && out.len() < count {
                out.push(char::from(alphabet[usize::from(b) % n]));
            }
        }
    }
    Ok(out)
}

/// An unguessable verification token (≥128 bits).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifyToken(String);

impl VerifyToken {
    /// A new random token.
    pub fn generate() -> Result<Self, RandomError> {
        random_symbols(TOKEN_ALPHABET, TOKEN_LEN).map(VerifyToken)
    }

    /// Accepts a token from a URL: exactly 26 base32 characters, any case.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        (lower.len() == TOKEN_LEN && lower.bytes().all(|b| TOKEN_ALPHABET.contains(&b)))
            .then_some(VerifyToken(lower))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The verification URL the 2D code holds: `{base_url}/v/{token}`.
    pub fn url(&self, base_url: &str) -> String {
        format!("{}/v/{}", base_url.trim_end_matches('/'), self.0)
    }
}

impl fmt::Debug for VerifyToken {
    // Tokens are secrets: debug output shows only a prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyToken({}…)", &self.0[..4.min(self.0.len())])
    }
}

/// A short check code printed on the certificate (`XXXX-XXXX`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckCode(String);

impl CheckCode {
    /// A new random check code.
    pub fn generate() -> Result<Self, RandomError> {
        random_symbols(CHECK_ALPHABET, CHECK_LEN).map(CheckCode)
    }

    /// Accepts what a person types: any case, with or without the dash or spaces.
    pub fn parse(text: &str) -> Option<Self> {
        let cleaned: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '－'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (cleaned.len() == CHECK_LEN && cleaned.bytes().all(|b| CHECK_ALPHABET.contains(&b)))
            .then_some(CheckCode(cleaned))
    }

    /// The eight characters without the dash (as stored).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored check code in its one written form (`XXXX-XXXX`, as printed on the
    /// certificate); a value that is not a check code is returned as it is.
    pub fn written(stored: &str) -> String {
        CheckCode::parse(stored).map_or_else(|| stored.to_owned(), |c| c.to_string())
    }
}

impl fmt::Display for CheckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.0.split_at(CHECK_LEN / 2);
        write!(f, "{a}-{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_carry_at_least_128_bits_and_do_not_repeat() {
        const { assert!(TOKEN_LEN * 5 >= 128) };
        let tokens: HashSet<String> = (0..2000)
            .map(|_| VerifyToken::generate().expect("random").as_str().to_owned())
            .collect();
        assert_eq!(tokens.len(), 2000);
        for t in &tokens {
            assert_eq!(t.len(), TOKEN_LEN);
            assert_eq!(
                VerifyToken::parse(&t.to_ascii_uppercase())
                    .expect("parses")
                    .as_str(),
                t
            );
        }
        // Every symbol of the alphabet shows up: the draw is not stuck on a subset.
        let used: HashSet<char> = tokens.iter().flat_map(|t| t.chars()).collect();
        assert_eq!(used.len(), 32);
    }

    #[test]
    fn token_url_and_rejections() {
        let t = VerifyToken::parse("abcdefghijklmnopqrstuvwxyz").expect("26 letters");
        assert_eq!(
            t.url("https://cert.example.cn/"),
            "https://cert.example.cn/v/abcdefghijklmnopqrstuvwxyz"
        );
        for bad in [
            "",
            "abc",
            "abcdefghijklmnopqrstuvwxy1",
            "abcdefghijklmnopqrstuvwxyz2",
            "../../etc/passwdxxxxxxxxxx",
        ] {
            assert!(VerifyToken::parse(bad).is_none(), "{bad}");
        }
        assert!(
            !format!("{t:?}").contains("efgh"),
            "Debug must not print the secret"
        );
    }

    #[test]
    fn check_codes_are_typeable() {
        let c = CheckCode::generate().expect("random");
        let shown = c.to_string();
        assert_eq!(shown.len(), CHECK_LEN + 1);
        assert_eq!(
            CheckCode::parse(&shown.to_ascii_lowercase()),
            Some(c.clone())
        );
        assert_eq!(CheckCode::parse(&shown.replace('-', " ")), Some(c));
        for confusable in ["0", "1", "I", "L", "O"] {
            assert!(!CHECK_ALPHABET.contains(&confusable.as_bytes()[0]));
        }
        assert!(CheckCode::parse("ABCD-EFG").is_none());
        assert!(CheckCode::parse("ABCD-EFG0").is_none());
    }
}
