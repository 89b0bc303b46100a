//! What the two programs of this package share on the command line: `ecert` and
//! `ecert-verify`, the standalone verifier (a small executable for anyone who must check
//! certificates: it links the verifier and nothing of issuing, storage or the server, so it
//! starts several times faster, docs/benchmarks.md). Nothing here may reach into the rest of
//! the library: whatever this module uses is linked into `ecert-verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// The text clap prints around the commands, options and arguments, in Chinese with English
/// beside it (the items' own help is bilingual in their doc comments).
pub const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
用法 (Usage): {usage}

{all-args}{after-help}";

/// Exit code of a verification when the file could not be read at all (or the trust roots,
/// CRLs or the instance could not be).
pub const EXIT_UNREADABLE: u8 = 3;

/// Applies the bilingual headings and help/version flags to `cmd` and to its subcommands:
/// every one (`words` is `None`: the tests), or only those named by one of `words` (the
/// command line's words), which are all clap can print help, usage or errors for — the others
/// are left as they are, which is most of the start-up work saved.
pub fn localize(cmd: clap::Command, root: bool, words: Option<&[String]>) -> clap::Command {
    use clap::{Arg, ArgAction};
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|name| words.is_none_or(|w| w.iter().any(|word| word == name)))
        .collect();
    let mut cmd = cmd
        .help_template(HELP_TEMPLATE)
        .subcommand_help_heading("命令 (Commands)")
        .subcommand_value_name("COMMAND")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .mut_args(|a| {
            if a.get_help_heading().is_some() {
                a
            } else if a.is_positional() {
                a.help_heading("参数 (Arguments)")
            } else {
                a.help_heading("选项 (Options)")
            }
        })
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("显示帮助 (print help)")
                .help_heading("选项 (Options)"),
        );
    if root {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("显示版本 (print version)")
                .help_heading("选项 (Options)"),
        );
    }
    for name in names {
        cmd = cmd.mut_subcommand(name, |c| localize(c, false, words));
    }
    cmd
}

/// Parses the command line of program `P` with the bilingual help ([`localize`]): help and
/// version are printed (exit 0; help for a missing argument, exit 2); an argument error is
/// printed in Chinese with clap's English beside it (or as a JSON error when `--json` is on the
/// line), exit 2.
pub fn parse<P: clap::Parser>() -> Result<P, ExitCode> {
    // Subcommands are named by words that are not options (an option's value may be taken
    // for one too: harmless, it is only localized).
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cmd = localize(P::command(), true, Some(&words));
    let name = cmd.get_name().to_owned();
    let matches = cmd.try_get_matches().and_then(|m| P::from_arg_matches(&m));
    match matches {
        Ok(parsed) => Ok(parsed),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            let _ = e.print();
            Err(ExitCode::from(
                if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                },
            ))
        }
        Err(e) => {
            let english = e.render().to_string();
            if std::env::args().any(|a| a == "--json") {
                print_json_error(
                    "usage",
                    &format!("命令行参数有误 (invalid arguments): {}", english.trim()),
                );
            } else {
                eprintln!(
                    "错误 (error): 命令行参数有误，见 {name} --help (invalid command-line arguments; see {name} --help)\n{english}"
                );
            }
            Err(ExitCode::from(2))
        }
    }
}

/// Prints an error as JSON on stdout, in the shape the web API answers errors:
/// `{"error": {"code": "…", "message": "…"}}`.
pub fn print_json_error(code: &str, message: &str) {
    let value = serde_json::json!({ "error": { "code": code, "message": message } });
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    print_out(&format!("{text}\n"));
}

/// Writes `text` to stdout. A reader that went away (`ecert-verify FILE | head -3`: a broken
/// pipe) or a full disk is not a reason to panic: what could not be written is dropped, the
/// exit code still says the verdict.
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Builds the trust store from trust-root files (PEM bundles or DER certificates) and CRLs
/// (PEM or DER).
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

/// An error of a verification on the command line, as text on stderr or (`json`) as a JSON
/// error on stdout; exit [`EXIT_UNREADABLE`].
pub fn verify_failed(json: bool, code: &str, msg: &str) -> ExitCode {
    if json {
        print_json_error(code, msg);
    } else {
        eprintln!("错误 (error): {msg}");
    }
    ExitCode::from(EXIT_UNREADABLE)
}

/// The strict signature verification of `file` (R-6.3a, R-7.1b) with the trust roots and CRLs
/// named, its report printed as text or (`json`) JSON: exit 0 PASSED, 1 FAILED,
/// 2 INDETERMINATE, 3 when the file, a root or a CRL could not be read. What `ecert verify`
/// (without `--records`) and `ecert-verify` run.
pub fn verify_file(file: &Path, roots: &[PathBuf], crls: &[PathBuf], json: bool) -> ExitCode {
    let unreadable = |msg: String| {
        verify_failed(
            json,
            "unreadable",
            &format!("无法读取文件 (the file could not be read): {msg}"),
        )
    };
    let trust = match trust_store(roots, crls) {
        Ok(t) => t,
        Err(e) => return verify_failed(json, "trust_roots", &format!("{e:#}")),
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return unreadable(format!("{}: {e}", file.display())),
    };
    let options = ses::verify::VerifyOptions {
        trust,
        validation_time: None,
    };
    let report = match ses::verify::verify_bytes(&bytes, &options) {
        Ok(r) => r,
        Err(e) => return unreadable(e.0),
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => print_out(&format!("{s}\n")),
            Err(e) => return unreadable(e.to_string()),
        }
    } else {
        print_out(&report.to_text());
    }
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(1))
}
