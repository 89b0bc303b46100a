//! `ecert backup DIR`, `ecert backup verify DIR`, `ecert restore DIR --into NEWDIR` (R-6.5,
//! R-6.5b).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ecert::service::Instance;
use ecert::service::backup::{check_backup, restore as restore_into};

use super::instance::runtime;

/// `ecert backup`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    /// 备份目录（离线介质）；重复备份到同一目录只复制新增文件 (backup folder, e.g. on offline
    /// media; a repeated backup into it copies only what is new).
    #[arg(value_name = "DIR")]
    pub target: Option<PathBuf>,
    /// 操作人，记入审计日志 (who runs it, recorded in the audit log).
    #[arg(long, default_value = "cli")]
    pub by: String,
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
}

/// `ecert backup verify`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// 核查备份：清单签名与每个文件的 SM3 (check the newest manifest's signature and every
    /// file's SM3, naming what is wrong).
    Verify {
        /// 备份目录 (backup folder).
        #[arg(value_name = "DIR")]
        target: PathBuf,
    },
}

/// `ecert restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// 备份目录 (backup folder).
    pub backup: PathBuf,
    /// 新实例目录（不存在或为空） (new instance folder: absent or empty).
    #[arg(long)]
    pub into: PathBuf,
    /// 主密钥文件（32 个十六进制字符；与备份分开保管） (master key file, 32 hex characters, kept
    /// apart from backups); or the environment variable ECERT_MASTER_KEY.
    #[arg(long, env = "ECERT_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// PostgreSQL 备份恢复到的空数据库 (an empty PostgreSQL database for a PostgreSQL backup).
    #[arg(long)]
    pub database: Option<String>,
    /// 操作人，记入审计日志 (who runs it, recorded in the audit log).
    #[arg(long, default_value = "cli")]
    pub by: String,
}

/// Runs `ecert backup …`.
pub fn backup(dir: &Path, args: &BackupArgs) -> anyhow::Result<()> {
    match (&args.command, &args.target) {
        (Some(BackupCommand::Verify { target }), _) => verify(dir, target),
        (None, Some(target)) => runtime()?.block_on(async {
            let instance = Instance::open(dir).await?;
            let done = instance.backup(target, &super::named_actor(&args.by)).await?;
            println!(
                "备份完成 (backup written): {} — {} 个文件 (files)，新写入 {} 个 ({} new, {} bytes)，共 {} 字节 (bytes in all)",
                target.join("manifests").join(&done.name).display(),
                done.files,
                done.new_objects,
                done.new_objects,
                done.new_bytes,
                done.total_bytes
            );
            Ok(())
        }),
        (None, None) => bail!("请给出备份目录 (give the backup folder): ecert backup DIR"),
    }
}

/// `ecert backup verify DIR`: inside an instance, the manifest must be signed with its key.
fn verify(instance_dir: &Path, target: &Path) -> anyhow::Result<()> {
    let key = if instance_dir.join(ecert::config::CONFIG_FILE).is_file() {
        runtime()?.block_on(async {
            let instance = Instance::open(instance_dir).await?;
            anyhow::Ok(Some(instance.signing_public_key().await?))
        })?
    } else {
        None
    };
    let check = check_backup(target, key.as_deref());
    if let Some(m) = &check.manifest {
        println!(
            "清单 (manifest) {}: {} 个文件 (files)，签名公钥 (signing key) {}…",
            check.name.as_deref().unwrap_or("?"),
            m.files.len(),
            m.public_key.get(..18).unwrap_or(&m.public_key)
        );
    }
    for p in &check.problems {
        println!("  {p}");
    }
    if check.problems.is_empty() {
        println!("备份完好 (backup intact)");
        Ok(())
    } else {
        bail!(
            "备份有 {} 处问题 (the backup has {} problems)",
            check.problems.len(),
            check.problems.len()
        )
    }
}

/// Runs `ecert restore`.
pub fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let key = match (&args.master_key_file, std::env::var("ECERT_MASTER_KEY")) {
        (Some(f), _) => std::fs::read_to_string(f).with_context(|| {
            format!(
                "无法读取主密钥 (cannot read the master key) {}",
                f.display()
            )
        })?,
        (None, Ok(k)) => k,
        (None, Err(_)) => bail!(
            "需要主密钥：--master-key-file FILE 或环境变量 ECERT_MASTER_KEY (the master key is needed: --master-key-file FILE or ECERT_MASTER_KEY)"
        ),
    };
    runtime()?.block_on(async {
        let instance = restore_into(
            &args.backup,
            &args.into,
            key.trim(),
            args.database.as_deref(),
            &args.by,
        )
        .await?;
        let check = instance.check_audit().await?;
        println!(
            "已恢复到 (restored into) {}；{}",
            args.into.display(),
            check.verdict.text()
        );
        Ok(())
    })
}
