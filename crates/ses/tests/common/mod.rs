//! Helpers shared by the integration tests: the `openssl` CLI oracle and fixture paths.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of a file in `shared/fixtures/ofdrw`, failing clearly when the fixtures are absent.
pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/ofdrw"
    ))
    .join(name);
    assert!(
        p.exists(),
        "fixture {} is missing: the ofdrw fixtures must be in shared/fixtures/ofdrw (see its README)",
        p.display()
    );
    p
}

/// Reads a fixture.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("read fixture")
}

/// Runs `openssl` with `args` in `dir`, returning (success, stdout+stderr).
pub fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("the `openssl` program is needed as a test oracle but could not be run ({e}); install it with `apt-get install openssl` (listed in .ci/packages/ses.apt)")
    });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Like [`openssl`] but panics with the output on failure.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed:\n{text}");
    text
}

/// The option OpenSSL 3 needs to verify SM2 with the default ID.
pub const DISTID_SIG: &str = "distid:1234567812345678";
