//! Commands on an instance: init, issue, revise, show, seal list, audit verify.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use ecert::config::Config;
use ecert::service::{self, Instance, Issued};

/// `ecert init [--demo]`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// A demo instance: documentation root OID, trial CA and trial seals (R-7.1d: trials only).
    #[arg(long)]
    pub demo: bool,
}

/// `ecert issue CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Certificate content (JSON; schema in docs/content.schema.json).
    pub content: PathBuf,
    /// Write the sealed certificate into this folder.
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// `ecert revise OLD_NUMBER CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct ReviseArgs {
    /// Number of the certificate being revised.
    pub old_number: String,
    /// Content of the revised certificate (with its new number).
    pub content: PathBuf,
    /// Write the sealed certificate into this folder.
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// `ecert show NUMBER|IDENTIFIER`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Certificate number or identifier.
    pub what: String,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio")
}

/// Runs `ecert init`.
pub fn init(dir: &Path, args: &InitArgs) -> anyhow::Result<()> {
    if !args.demo {
        bail!(
            "正式实例需要本机构注册的根 OID 和 CA 签发的印章：请先编写 {dir}/ecert.toml（见 README），当前仅支持 `ecert init --demo` \
             (a production instance needs your registered root OID and CA-issued seals; write ecert.toml, or use --demo)",
            dir = dir.display()
        );
    }
    runtime()?.block_on(async {
        let instance = Instance::init(dir, Config::demo()).await?;
        let root = instance.create_trial_seals().await?;
        println!("已创建演示实例 (demo instance created): {}", dir.display());
        println!("试用根证书 (trial root): {}", root.display());
        Ok(())
    })
}

fn write_issued(out: &Path, issued: &Issued) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let path = out.join(&issued.record.file_name);
    std::fs::write(&path, &issued.file)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
    Ok(path)
}

fn print_issued(path: &Path, issued: &Issued) {
    println!("文件 (file):            {}", path.display());
    println!("证书编号 (number):      {}", issued.record.number);
    println!("电子证书标识 (identifier): {}", issued.identifier);
    println!("核验码 (check code):    {}", issued.check_code);
    println!("验证网址 (verify URL):  {}", issued.verify_url);
    println!("页数 (pages):           {}", issued.pages);
}

/// Runs `ecert issue`.
pub fn issue(dir: &Path, args: &IssueArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let issued = instance.issue(&content, "cli").await?;
        print_issued(&write_issued(&args.out, &issued)?, &issued);
        Ok(())
    })
}

/// Runs `ecert revise`.
pub fn revise(dir: &Path, args: &ReviseArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let issued = instance.revise(&args.old_number, &content, "cli").await?;
        print_issued(&write_issued(&args.out, &issued)?, &issued);
        println!(
            "原证书 {}: {}",
            args.old_number,
            service::revised_message(&issued.record.number)
        );
        Ok(())
    })
}

/// Runs `ecert show`.
pub fn show(dir: &Path, args: &ShowArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let record = match instance.store.certificate_by_number(&args.what).await? {
            Some(r) => r,
            None => instance
                .store
                .certificate_by_identifier(&args.what)
                .await?
                .ok_or_else(|| anyhow!("找不到证书 {} (no such certificate)", args.what))?,
        };
        let view = instance.store.status_view(record).await?;
        let c = &view.certificate;
        println!("证书编号 (number):      {}", c.number);
        println!("电子证书标识 (identifier): {}", c.identifier);
        println!("状态 (status):          {}", c.status.as_str());
        println!("委托方 (customer):      {}", c.customer_name);
        println!(
            "器具 (instrument):      {} {}",
            c.instrument_name, c.serial_number
        );
        println!("签发日期 (issued):      {}", c.issue_date);
        println!(
            "文件 (file):            {} ({} bytes, SM3 {})",
            c.file_name,
            c.file_size,
            ecert_store::hex(&c.file_sm3)
        );
        for m in service::status_messages(&view) {
            println!("提示 (notice):          {m}");
        }
        Ok(())
    })
}

/// Runs `ecert seal list`.
pub fn seal_list(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        for s in instance.store.list_seals().await? {
            println!("{}  {}  {}", s.id, s.kind, s.name);
        }
        Ok(())
    })
}

/// Runs `ecert audit verify`; fails when the chain is broken.
pub fn audit_verify(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let report = instance.store.verify_audit_chain().await?;
        match &report.fault {
            None => {
                println!(
                    "审计日志完整 (audit chain intact): {} 条记录 (entries)",
                    report.entries
                );
                Ok(())
            }
            Some(fault) => bail!(
                "审计日志被篡改 (audit chain broken) at seq {}: {fault}",
                fault.seq
            ),
        }
    })
}
