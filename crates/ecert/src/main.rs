//! `ecert`: issue, seal, store and verify electronic certificates in metrology.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 计量电子证书系统 — electronic certificates in metrology (T/CMA).
#[derive(Debug, Parser)]
#[command(name = "ecert", version, about, long_about = None)]
struct Cli {
    /// Instance folder (holds ecert.toml).
    #[arg(long, global = true, env = "ECERT_DIR", default_value = ".")]
    dir: std::path::PathBuf,
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
    /// 初始化实例 (create an instance; --demo for a trial one).
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
    /// 验证网站与业务系统接口 (verification pages and the business-system API; docs/serve.md).
    Serve(cli::serve::ServeArgs),
    /// 业务系统接口客户端 (API clients of the business system).
    #[command(subcommand)]
    ApiClient(ApiClientCommand),
}

#[derive(Debug, Subcommand)]
enum ApiClientCommand {
    /// Register a client; prints its secret once.
    Add(cli::serve::ApiClientAddArgs),
    /// 列出接口客户端 (list API clients and whether they are enabled).
    List,
    /// 停用接口客户端 (disable a client: its requests are refused at once, e.g. a leaked secret).
    Disable(cli::serve::ApiClientSwitchArgs),
    /// 重新启用接口客户端 (enable a disabled client again).
    Enable(cli::serve::ApiClientSwitchArgs),
}

#[derive(Debug, Subcommand)]
enum SealCommand {
    /// List the seals.
    List,
    /// 创建印章 (create a seal from the institute's key, certificate and picture, R-4.2).
    Create(Box<cli::seal::CreateArgs>),
    /// 停用印章 (retire a seal: it seals nothing more; certificates it sealed stay valid, R-5.2.2).
    Retire(cli::seal::RetireArgs),
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
    /// Encode text as a Grid Matrix symbol.
    Encode(cli::gm::EncodeArgs),
}

#[derive(Debug, Subcommand)]
enum OfdCommand {
    /// Print the structure of an OFD package.
    Inspect(cli::ofd::InspectArgs),
    /// Render a page to PNG (seals included).
    Render(cli::ofd::RenderArgs),
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// Parse and validate an identifier.
    Check(cli::id::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Verify(args) => return cli::verify::run(args, &cli.dir),
        Command::Gm(GmCommand::Encode(args)) => cli::gm::encode(args),
        Command::Id(IdCommand::Check(args)) => cli::id::check(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Ofd(OfdCommand::Inspect(args)) => cli::ofd::inspect(args),
        Command::Ofd(OfdCommand::Render(args)) => cli::ofd::render(args),
        Command::Init(args) => cli::instance::init(&cli.dir, args),
        Command::Issue(args) => cli::instance::issue(&cli.dir, args),
        Command::Revise(args) => cli::instance::revise(&cli.dir, args),
        Command::Supplement(args) => cli::supplement::run(&cli.dir, args),
        Command::Show(args) => cli::instance::show(&cli.dir, args),
        Command::Seal(SealCommand::List) => cli::instance::seal_list(&cli.dir),
        Command::Seal(SealCommand::Create(args)) => cli::seal::create(&cli.dir, args),
        Command::Seal(SealCommand::Retire(args)) => cli::seal::retire(&cli.dir, args),
        Command::Dispose(cmd) => cli::dispose::run(&cli.dir, cmd),
        Command::Audit(AuditCommand::Verify) => cli::audit::verify(&cli.dir),
        Command::Audit(AuditCommand::Checkpoint) => cli::audit::checkpoint(&cli.dir),
        Command::Backup(args) => cli::backup::backup(&cli.dir, args),
        Command::Restore(args) => cli::backup::restore(args),
        Command::Time(TimeCommand::Status(args)) => cli::time::status(&cli.dir, args),
        Command::Status { json } => cli::maintenance::status(&cli.dir, *json),
        Command::Scrub(args) => cli::maintenance::scrub(&cli.dir, args),
        Command::Orphans(args) => cli::maintenance::orphans(&cli.dir, args),
        Command::Serve(args) => cli::serve::serve(&cli.dir, args),
        Command::ApiClient(ApiClientCommand::List) => cli::serve::api_client_list(&cli.dir),
        Command::ApiClient(ApiClientCommand::Disable(args)) => {
            cli::serve::api_client_switch(&cli.dir, args, false)
        }
        Command::ApiClient(ApiClientCommand::Enable(args)) => {
            cli::serve::api_client_switch(&cli.dir, args, true)
        }
        Command::ApiClient(ApiClientCommand::Add(args)) => {
            cli::serve::api_client_add(&cli.dir, args)
        }
    };
    // R-7.2.2b: what a command appended to the audit log is covered by a signed checkpoint
    // before the command returns.
    let changed = matches!(
        &cli.command,
        Command::Init(_)
            | Command::Issue(_)
            | Command::Revise(_)
            | Command::Supplement(_)
            | Command::Seal(SealCommand::Create(_) | SealCommand::Retire(_))
            | Command::Dispose(_)
            | Command::ApiClient(_)
            | Command::Scrub(_)
            | Command::Orphans(_)
    );
    let result = match (result, changed) {
        (Ok(()), true) => cli::audit::after_change(&cli.dir),
        (Err(e), true) => {
            // (a command that failed part-way may have written entries too)
            let _ = cli::audit::after_change(&cli.dir);
            Err(e)
        }
        (result, false) => result,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            ExitCode::FAILURE
        }
    }
}
