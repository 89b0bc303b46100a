//! `ecert verify`: the strict signature verification of an OFD certificate (R-6.3a, R-7.1b);
//! with `--records`, the judgement of a file against this instance's records, as
//! `POST /verify` gives it (R-6.3b).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ecert::cli_common::{print_out, verify_failed};

/// `ecert verify FILE [--json] [--trust ROOTS.pem]... [--crl CRL]...`, or
/// `ecert verify FILE --records [--json]` inside an instance (`--dir`, `ECERT_DIR`).
///
/// Exit codes: 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 unreadable. With `--records`: 0 genuine
/// and current (a certificate or supplement byte-identical to one this instance issued), 1
/// altered (claims to be ours, differs from our file), 2 not issued by us, 3 unreadable (or
/// the instance cannot be opened), 4 genuine but void (revised, R-6.4.1), 5 disposed (R-6.5h).
#[derive(Debug, Args)]
#[command(
    after_help = "退出码 (exit codes): 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 无法读取 (unreadable).\n\
    --records: 0 真实有效 (genuine and current, or a genuine supplement), 1 已被篡改 (altered), \
    2 非本机构签发 (not issued by us), 3 无法读取 (unreadable), 4 真实但已作废 (genuine but void, \
    R-6.4.1), 5 超过存储期限 (disposed, R-6.5h)."
)]
pub struct VerifyArgs {
    /// 以 JSON 输出报告（错误也是 JSON）(print the report as JSON, errors included).
    #[arg(long)]
    pub json: bool,
    /// 信任的根证书（PEM 或 DER），可重复；不给时，在实例目录中（--dir、ECERT_DIR 或当前目录有
    /// ecert.toml）使用该实例的信任根，否则证书链为 INDETERMINATE (trusted root certificates, PEM
    /// bundle or DER, may be repeated; without any, the roots of the instance in --dir, ECERT_DIR
    /// or the current folder, else chains are INDETERMINATE).
    #[arg(long = "trust", value_name = "ROOTS.pem")]
    pub trust: Vec<PathBuf>,
    /// 证书吊销列表（PEM 或 DER），可重复 (certificate revocation lists, PEM or DER; may be
    /// repeated).
    #[arg(long = "crl", value_name = "CRL")]
    pub crl: Vec<PathBuf>,
    /// 与本实例的记录比对：与 POST /verify 相同的判定 (judge the file against this instance's
    /// records, with the verdicts of POST /verify and the instance's trust roots; needs --dir or
    /// ECERT_DIR).
    #[arg(long, conflicts_with_all = ["trust", "crl"])]
    pub records: bool,
    /// OFD 文件 (the OFD file).
    pub file: PathBuf,
}

/// The trust root files of the instance in `dir` (given, or the current folder) when it holds
/// an ecert.toml; none elsewhere (a folder named that is no instance is said on stderr unless
/// `quiet`, and the chains stay undecided as without any root).
fn instance_roots(dir: Option<&Path>, quiet: bool) -> anyhow::Result<Vec<PathBuf>> {
    let at = dir.unwrap_or(Path::new("."));
    if !at.join(ecert::config::CONFIG_FILE).exists() {
        if let Some(dir) = dir
            && !quiet
        {
            eprintln!(
                "注意 (note): {} 中没有 {}，不是实例目录，未使用任何信任根；可用 --trust 指定 \
                 (not an instance folder: no trust root used; name roots with --trust)",
                dir.display(),
                ecert::config::CONFIG_FILE
            );
        }
        return Ok(Vec::new());
    }
    let config = ecert::config::Config::load(at)?;
    Ok(ecert::service::Instance::trust_root_files(at, &config))
}

/// Runs `ecert verify`; exit 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 unreadable (with
/// `--records`: the codes of [`ecert::service::Outcome::exit_code`]). With `--json` every
/// answer is JSON, errors included. Without `--trust`, inside an instance (`dir`, or the
/// current folder holding an ecert.toml), the instance's own trust roots are used.
pub fn run(args: &VerifyArgs, dir: Option<&Path>) -> ExitCode {
    if args.records {
        return run_records(args, dir.unwrap_or(Path::new(".")));
    }
    let json = args.json;
    let roots = if args.trust.is_empty() {
        match instance_roots(dir, json) {
            Ok(roots) => {
                if !roots.is_empty() && !json {
                    eprintln!(
                        "信任根取自实例 (trust roots of the instance): {}",
                        roots
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                roots
            }
            Err(e) => return verify_failed(json, "config", &format!("{e:#}")),
        }
    } else {
        args.trust.clone()
    };
    ecert::cli_common::verify_file(&args.file, &roots, &args.crl, json)
}

/// `ecert verify FILE --records`: the service's judgement of the file against this instance's
/// records, printed (or its JSON, as `POST /verify` answers), with the outcome's exit code.
fn run_records(args: &VerifyArgs, dir: &Path) -> ExitCode {
    let json = args.json;
    let failed = |msg: String| verify_failed(json, "unreadable", &msg);
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            return failed(format!(
                "无法读取文件 (the file could not be read): {}: {e}",
                args.file.display()
            ));
        }
    };
    let judged = super::instance::runtime().and_then(|rt| {
        rt.block_on(async {
            let instance = ecert::service::Instance::open(dir).await?;
            anyhow::Ok(instance.verify_file(bytes.into()).await?)
        })
    });
    let verdict = match judged {
        Ok(v) => v,
        Err(e) => {
            if let Some(ecert::service::Error::NotOfd { reason }) = e.downcast_ref() {
                return failed(format!(
                    "无法读取文件 (the file could not be read): {reason}"
                ));
            }
            return verify_failed(json, super::error_code(&e), &format!("{e:#}"));
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&verdict.to_json(false)) {
            Ok(s) => print_out(&format!("{s}\n")),
            Err(e) => return failed(e.to_string()),
        }
    } else {
        print_out(&verdict_text(&verdict));
    }
    ExitCode::from(verdict.outcome.exit_code())
}

/// The judgement for a person: the verdict, the file, what it claims, our record, the
/// statements, the differences, then the signature report.
fn verdict_text(v: &ecert::service::Verdict) -> String {
    let mut out = format!(
        "判定 (verdict): {} ({})\n{}\n",
        v.outcome.text(false),
        v.outcome.name(),
        v.outcome.text(true)
    );
    out.push_str(&format!(
        "文件 SM3 (file SM3):    {}\n大小 (size):            {} bytes\n",
        ecert_store::hex(&v.file_sm3),
        v.file_size
    ));
    if let Some(id) = &v.claimed.identifier {
        out.push_str(&format!("文件中的标识 (identifier in the file): {id}\n"));
    }
    if let Some(n) = &v.claimed.number {
        out.push_str(&format!("文件中的编号 (number in the file):     {n}\n"));
    }
    if let Some(r) = &v.record {
        out.push_str(&format!(
            "本机构记录 (our record): {} · {} · {}\n",
            r.number,
            ecert::service::status_text(r.status, false),
            r.issue_date
        ));
    }
    for m in &v.messages {
        out.push_str(&format!("提示 (notice): {m}\n"));
    }
    for m in &v.mismatches {
        out.push_str(&format!("不一致 (mismatch): {m}\n"));
    }
    out.push('\n');
    out.push_str(&v.report.to_text());
    out
}
