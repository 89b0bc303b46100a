//! `ecert-verify`: the strict signature verification of OFD electronic certificates
//! (R-6.3a, R-7.1b) for anyone who must trust one — the report and exit codes of
//! `ecert verify`, in an executable that holds the verifier alone. It needs no instance: the
//! trust roots and CRLs are named on the command line.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// 验证计量电子证书的签章（独立验证程序）(verify the seals and signatures of an OFD electronic
/// certificate: the standalone verifier).
#[derive(Debug, Parser)]
#[command(
    name = "ecert-verify",
    version,
    long_about = None,
    after_help = "退出码 (exit codes): 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 无法读取 (unreadable).\n\
    与 ecert verify 的报告相同；与发证机构记录的比对见 ecert verify --records 与验证网页 \
    (the report of ecert verify; the judgement against the issuer's records is ecert verify \
    --records and the issuer's verification page)."
)]
struct Args {
    /// 以 JSON 输出报告（错误也是 JSON）(print the report as JSON, errors included).
    #[arg(long)]
    json: bool,
    /// 信任的根证书（PEM 或 DER），可重复；不给时证书链为 INDETERMINATE (trusted root
    /// certificates, PEM bundle or DER, may be repeated; without any, chains are INDETERMINATE).
    #[arg(long = "trust", value_name = "ROOTS.pem")]
    trust: Vec<PathBuf>,
    /// 证书吊销列表（PEM 或 DER），可重复 (certificate revocation lists, PEM or DER; may be
    /// repeated).
    #[arg(long = "crl", value_name = "CRL")]
    crl: Vec<PathBuf>,
    /// OFD 文件 (the OFD file).
    file: PathBuf,
}

fn main() -> ExitCode {
    match ecert::cli_common::parse::<Args>() {
        Ok(args) => ecert::cli_common::verify_file(&args.file, &args.trust, &args.crl, args.json),
        Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// The description and every option's help, and the headings around them, are Chinese
    /// with English beside them.
    #[test]
    fn every_help_text_is_chinese_and_english() {
        let cmd = ecert::cli_common::localize(super::Args::command(), true, None);
        cmd.clone().debug_assert();
        let bilingual = |t: &str| {
            t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                && t.chars().any(|c| c.is_ascii_alphabetic())
        };
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        assert!(bilingual(&about), "{about}");
        for arg in cmd.get_arguments() {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(bilingual(&help), "{}: {help}", arg.get_id());
            assert!(
                arg.get_help_heading().is_some_and(bilingual),
                "{}: heading",
                arg.get_id()
            );
        }
    }
}
