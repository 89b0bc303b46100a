//! `ecert verify`: the strict signature verification of an OFD certificate (R-6.3a, R-7.1b).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

/// `ecert verify FILE [--json] [--trust ROOTS.pem]... [--crl CRL]...`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Trusted root certificates (PEM bundle or DER); may be repeated. Without any, chains are
    /// INDETERMINATE.
    #[arg(long = "trust", value_name = "ROOTS.pem")]
    pub trust: Vec<PathBuf>,
    /// Certificate revocation lists (PEM or DER); may be repeated.
    #[arg(long = "crl", value_name = "CRL")]
    pub crl: Vec<PathBuf>,
    /// The OFD file.
    pub file: PathBuf,
}

/// Exit code when the file could not be read at all.
pub const EXIT_UNREADABLE: u8 = 3;

/// Builds the trust store from `--trust` and `--crl`.
pub fn trust_store(trust: &[PathBuf], crls: &[PathBuf]) -> anyhow::Result<ses::pki::TrustStore> {
    let mut store = ses::pki::TrustStore::new();
    for path in trust {
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "无法读取信任根 {} (cannot read trust roots)",
                path.display()
            )
        })?;
        match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                let n = store
                    .add_roots_pem(text)
                    .with_context(|| format!("信任根文件无效 {} (invalid PEM)", path.display()))?;
                anyhow::ensure!(
                    n > 0,
                    "{} 中没有证书 (no certificate in the file)",
                    path.display()
                );
            }
            _ => store.add_root(ses::pki::Cert::from_der(&bytes).with_context(|| {
                format!(
                    "信任根证书无效 {} (invalid DER certificate)",
                    path.display()
                )
            })?),
        }
    }
    for path in crls {
        let bytes = std::fs::read(path)
            .with_context(|| format!("无法读取 CRL {} (cannot read)", path.display()))?;
        store.add_crl(
            ses::pki::Crl::from_pem_or_der(&bytes)
                .with_context(|| format!("CRL 无效 {} (invalid CRL)", path.display()))?,
        );
    }
    Ok(store)
}

/// Runs `ecert verify`; exit 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 unreadable.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let unreadable = |msg: String| {
        eprintln!("错误 (error): 无法读取文件 (the file could not be read): {msg}");
        ExitCode::from(EXIT_UNREADABLE)
    };
    let trust = match trust_store(&args.trust, &args.crl) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => return unreadable(format!("{}: {e}", args.file.display())),
    };
    let options = ses::verify::VerifyOptions {
        trust,
        validation_time: None,
    };
    let report = match ses::verify::verify_bytes(&bytes, &options) {
        Ok(r) => r,
        Err(e) => return unreadable(e.0),
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return unreadable(e.to_string()),
        }
    } else {
        print!("{}", report.to_text());
    }
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(1))
}
