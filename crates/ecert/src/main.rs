//! `ecert`: issue, seal, store and verify electronic certificates in metrology.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 计量电子证书系统 — electronic certificates in metrology (T/CMA).
#[derive(Debug, Parser)]
#[command(name = "ecert", version, about, long_about = None)]
struct Cli {
    /// 实例目录（含 ecert.toml）；默认当前目录，demo 默认 ecert-demo (instance folder, holding
    /// ecert.toml; default: the current folder, for `demo`: ecert-demo).
    #[arg(long, global = true, env = "ECERT_DIR", value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 网格矩阵码 (Grid Matrix, GB/T 27766).
    #[command(subcommand)]
    Gm(GmCommand),
    /// OFD 文件 (look at an OFD file).
    #[command(subcommand)]
    Ofd(OfdCommand),
    /// 电子证书标识 (certificate identifiers, R-4.5.5).
    #[command(subcommand)]
    Id(IdCommand),
    /// 验证电子证书的签章；--records：与本实例的记录比对 (verify the seals and signatures of an
    /// OFD file; with --records, judge it against this instance's records).
    Verify(cli::verify::VerifyArgs),
    /// 演示：建立演示实例并签发、验证、修改示例证书 (demo instance, samples of every template).
    Demo(cli::demo::DemoArgs),
    /// 初始化实例：正式实例用机构参数或手写的 ecert.toml，--demo 为试用 (create an instance from
    /// the institute's flags or a hand-written ecert.toml; --demo for a trial one; docs/setup.md).
    Init(cli::instance::InitArgs),
    /// 签发证书 (issue a certificate from content JSON; or seal a business system's own OFD:
    /// issue --ofd FILE.ofd --content META.json).
    Issue(cli::instance::IssueArgs),
    /// 修改证书：签发修改后的证书，原证书作废 (revise: issue a replacement, the original becomes void).
    Revise(cli::instance::ReviseArgs),
    /// 补充文件：签发与原证书绑定的补充文件 (supplement: a sealed supplementary file bound to a certificate, R-6.4.2).
    Supplement(cli::supplement::SupplementArgs),
    /// 查看证书及其状态 (show a certificate and its status).
    Show(cli::instance::ShowArgs),
    /// 导出已存储的证书或补充文件（经 SM3 校验）(write stored certificates or supplements into a
    /// folder, SM3-checked).
    Export(cli::export::ExportArgs),
    /// 控制台员工账户与角色 (the console's staff accounts and roles, R-5.2.2).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// 客户门户：证书与客户的绑定 (customer portal: bind certificates to their customers, R-5.2.3).
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// 印章库 (seal library).
    #[command(subcommand)]
    Seal(SealCommand),
    /// 超期证书的销毁：提议、批准、执行 (disposal past retention, R-6.5h).
    #[command(subcommand)]
    Dispose(cli::dispose::DisposeCommand),
    /// 审计日志 (audit log).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 离线备份；verify 核查备份 (offline backup into DIR; `backup verify DIR` checks one, R-6.5b).
    Backup(cli::backup::BackupArgs),
    /// 从备份恢复为新实例 (restore a backup into a new instance folder).
    Restore(cli::backup::RestoreArgs),
    /// 时间来源：NTP 测量与签章许可 (time source: NTP offset and whether sealing is allowed, R-7.2.2a).
    #[command(subcommand)]
    Time(TimeCommand),
    /// 实例状况：3-2-1、最近的离线备份与校验、时间 (is the instance sound now: 3-2-1 copies, last
    /// offline backup, last scrub, time offset; non-zero exit when not).
    Status {
        /// 以 JSON 输出 (print JSON).
        #[arg(long)]
        json: bool,
    },
    /// 校验所有副本的 SM3，可修复 (check every stored copy against its SM3; --repair, R-6.5g).
    Scrub(cli::maintenance::ScrubArgs),
    /// 孤立文件：无记录引用的文件与中断写入的暂存文件 (orphan files, incl. staging files of
    /// killed writes; --remove).
    Orphans(cli::maintenance::OrphansArgs),
    /// 配置 (configuration): ecert config check.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// 验证网站与业务系统接口 (verification pages and the business-system API; docs/serve.md).
    Serve(cli::serve::ServeArgs),
    /// 业务系统接口客户端 (API clients of the business system).
    #[command(subcommand)]
    ApiClient(ApiClientCommand),
}

#[derive(Debug, Subcommand)]
enum ApiClientCommand {
    /// 登记接口客户端，仅显示一次其密钥 (register a client; prints its secret once).
    Add(cli::serve::ApiClientAddArgs),
    /// 列出接口客户端 (list API clients and whether they are enabled).
    List,
    /// 停用接口客户端 (disable a client: its requests are refused at once, e.g. a leaked secret).
    Disable(cli::serve::ApiClientSwitchArgs),
    /// 重新启用接口客户端 (enable a disabled client again).
    Enable(cli::serve::ApiClientSwitchArgs),
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// 添加员工账户（需要动态口令的角色会得到密钥，仅显示一次）(add a staff account; roles that need
    /// a one-time code get its secret, shown once).
    Add(cli::staff::StaffAddArgs),
    /// 列出员工账户 (list the staff accounts).
    List,
}

#[derive(Debug, Subcommand)]
enum CustomerCommand {
    /// 把证书绑定到客户（手机、邮箱、统一社会信用代码）及预设下载密码 (bind a certificate to its
    /// customer's mobile, e-mail, credit code and a preset download password, R-6.2f).
    Bind(cli::customer::BindArgs),
}

#[derive(Debug, Subcommand)]
enum SealCommand {
    /// 列出印章及其状态 (list the seals and whether they are in use).
    List,
    /// 创建印章 (create a seal from the institute's key, certificate and picture, R-4.2).
    Create(Box<cli::seal::CreateArgs>),
    /// 停用印章 (retire a seal: it seals nothing more; certificates it sealed stay valid, R-5.2.2).
    Retire(cli::seal::RetireArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// 检查 ecert.toml：一次列出全部问题，各注明配置项 (check ecert.toml and what it points to;
    /// every problem at once, each naming its key).
    Check,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// 核查审计日志：SM3 链、审计密钥、签名检查点 (verify the SM3 chain, the audit key's MACs and
    /// the newest signed checkpoint: edited, removed, forged, rewritten or truncated entries).
    Verify,
    /// 立即写入签名检查点 (sign the chain head now and write it beside every replica).
    Checkpoint,
}

#[derive(Debug, Subcommand)]
enum TimeCommand {
    /// 现在测量时间偏差 (measure the offset now; fails when sealing would be refused).
    Status(cli::time::TimeStatusArgs),
}

#[derive(Debug, Subcommand)]
enum GmCommand {
    /// 把文本编码为网格矩阵码 (encode text as a Grid Matrix symbol).
    Encode(cli::gm::EncodeArgs),
}

#[derive(Debug, Subcommand)]
enum OfdCommand {
    /// 显示 OFD 文件的结构 (print the structure of an OFD package).
    Inspect(cli::ofd::InspectArgs),
    /// 把一页渲染为 PNG（含印章）(render a page to PNG, seals included).
    Render(cli::ofd::RenderArgs),
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// 解析并校验电子证书标识 (parse and validate an identifier).
    Check(cli::id::CheckArgs),
}

fn main() -> ExitCode {
    let cli = match ecert::cli_common::parse::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let dir = cli.dir.as_deref().unwrap_or(std::path::Path::new("."));
    // Commands with `--json` answer their errors as JSON too.
    let json = match &cli.command {
        Command::Id(IdCommand::Check(a)) => a.json,
        Command::Ofd(OfdCommand::Inspect(a)) => a.json,
        Command::Show(a) => a.json,
        Command::Time(TimeCommand::Status(a)) => a.json,
        _ => false,
    };
    let result = match &cli.command {
        Command::Verify(args) => return cli::verify::run(args, cli.dir.as_deref()),
        Command::Gm(GmCommand::Encode(args)) => cli::gm::encode(args),
        Command::Id(IdCommand::Check(args)) => cli::id::check(args),
        Command::Demo(args) => cli::demo::run(args, cli.dir.as_deref()),
        Command::Ofd(OfdCommand::Inspect(args)) => cli::ofd::inspect(args),
        Command::Ofd(OfdCommand::Render(args)) => cli::ofd::render(args),
        Command::Init(args) => cli::instance::init(dir, args),
        Command::Issue(args) => cli::instance::issue(dir, args),
        Command::Revise(args) => cli::instance::revise(dir, args),
        Command::Supplement(args) => cli::supplement::run(dir, args),
        Command::Show(args) => cli::instance::show(dir, args),
        Command::Export(args) => cli::export::run(dir, args),
        Command::Customer(CustomerCommand::Bind(args)) => cli::customer::bind(dir, args),
        Command::Staff(StaffCommand::Add(args)) => cli::staff::add(dir, args),
        Command::Staff(StaffCommand::List) => cli::staff::list(dir),
        Command::Seal(SealCommand::List) => cli::instance::seal_list(dir),
        Command::Seal(SealCommand::Create(args)) => cli::seal::create(dir, args),
        Command::Seal(SealCommand::Retire(args)) => cli::seal::retire(dir, args),
        Command::Dispose(cmd) => cli::dispose::run(dir, cmd),
        Command::Audit(AuditCommand::Verify) => cli::audit::verify(dir),
        Command::Audit(AuditCommand::Checkpoint) => cli::audit::checkpoint(dir),
        Command::Backup(args) => cli::backup::backup(dir, args),
        Command::Restore(args) => cli::backup::restore(args),
        Command::Time(TimeCommand::Status(args)) => cli::time::status(dir, args),
        Command::Status { json } => cli::maintenance::status(dir, *json),
        Command::Scrub(args) => cli::maintenance::scrub(dir, args),
        Command::Orphans(args) => cli::maintenance::orphans(dir, args),
        Command::Config(ConfigCommand::Check) => cli::instance::config_check(dir),
        Command::Serve(args) => cli::serve::serve(dir, args),
        Command::ApiClient(ApiClientCommand::List) => cli::serve::api_client_list(dir),
        Command::ApiClient(ApiClientCommand::Disable(args)) => {
            cli::serve::api_client_switch(dir, args, false)
        }
        Command::ApiClient(ApiClientCommand::Enable(args)) => {
            cli::serve::api_client_switch(dir, args, true)
        }
        Command::ApiClient(ApiClientCommand::Add(args)) => cli::serve::api_client_add(dir, args),
    };
    // R-7.2.2b: what a command appended to the audit log is covered by a signed checkpoint
    // before the command returns.
    let changed = matches!(
        &cli.command,
        Command::Init(_)
            | Command::Issue(_)
            | Command::Revise(_)
            | Command::Supplement(_)
            | Command::Export(_)
            | Command::Seal(SealCommand::Create(_) | SealCommand::Retire(_))
            | Command::Dispose(_)
            | Command::ApiClient(_)
            | Command::Scrub(_)
            | Command::Orphans(_)
    );
    let result = match (result, changed) {
        (Ok(()), true) => cli::audit::after_change(dir),
        (Err(e), true) => {
            // (a command that failed part-way may have written entries too)
            let _ = cli::audit::after_change(dir);
            Err(e)
        }
        (result, false) => result,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if json => {
            cli::print_json_error(cli::error_code(&e), &format!("{e:#}"));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    fn bilingual(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            && text.chars().any(|c| c.is_ascii_alphabetic())
    }

    fn walk(cmd: &clap::Command, path: &str, bad: &mut Vec<String>) {
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        if !bilingual(&about) {
            bad.push(format!("{path}: about {about:?}"));
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if !bilingual(&help) {
                bad.push(format!("{path} {}: help {help:?}", arg.get_id()));
            }
            if arg.get_help_heading().is_none_or(|h| !bilingual(h)) {
                bad.push(format!("{path} {}: heading", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), bad);
        }
    }

    /// The command line's path (`ecert seal create`) gets the help the full localization gives,
    /// though only that path is localized at start-up.
    #[test]
    fn localizing_the_path_gives_the_full_help() {
        let path = ["seal".to_owned(), "create".to_owned()];
        let mut partial = ecert::cli_common::localize(super::Cli::command(), true, Some(&path));
        let mut full = ecert::cli_common::localize(super::Cli::command(), true, None);
        partial.build();
        full.build();
        let help = |c: &clap::Command| {
            c.find_subcommand("seal")
                .and_then(|s| s.find_subcommand("create"))
                .map(|c| c.clone().render_long_help().to_string())
        };
        assert!(help(&full).is_some_and(|h| h.contains("用法 (Usage)")));
        assert_eq!(help(&partial), help(&full));
        assert_eq!(
            partial.render_long_help().to_string(),
            full.render_long_help().to_string()
        );
    }

    /// Every command's description and every option's help, and the headings around them,
    /// are Chinese with English beside them.
    #[test]
    fn every_help_text_is_chinese_and_english() {
        let cmd = ecert::cli_common::localize(super::Cli::command(), true, None);
        cmd.clone().debug_assert();
        let mut bad = Vec::new();
        walk(&cmd, "ecert", &mut bad);
        assert!(bad.is_empty(), "not bilingual:\n{}", bad.join("\n"));
    }
}
