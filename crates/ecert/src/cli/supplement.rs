//! `ecert supplement NUMBER CONTENT.json [-o DIR]`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ecert::service::Instance;

/// `ecert supplement NUMBER CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct SupplementArgs {
    /// 被补充证书的编号或标识 (number or identifier of the certificate being supplemented).
    pub number: String,
    /// 补充内容 JSON（示例 examples/supplement.json）(the supplementary content, JSON).
    pub content: PathBuf,
    /// 把签章后的补充文件副本写入此目录（已存储，可用 ecert export 取回）(write a copy of the
    /// sealed supplementary file into this folder; it is stored either way).
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// Runs `ecert supplement`.
pub fn run(dir: &Path, args: &SupplementArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let done = instance
            .supplement(&args.number, &content, &super::local_actor())
            .await?;
        let copy = super::instance::write_copy(&args.out, &done.record.file_name, &done.file);
        match &copy {
            Ok(path) => println!("文件 (file):             {}", path.display()),
            Err(e) => println!("文件 (file):             未写出副本 (no copy written): {e:#}"),
        }
        println!("补充文件编号 (number):   {}", done.record.number);
        println!(
            "原证书 (original):       {} {}",
            done.original.number, done.original.identifier
        );
        println!("验证网址 (verify URL):   {}", done.verify_url);
        println!("页数 (pages):            {}", done.pages);
        println!("原证书 {}: {}", done.original.number, done.message);
        if let Err(e) = copy {
            anyhow::bail!(
                "{}",
                super::instance::copy_not_written(&done.record.number, &e)
            );
        }
        Ok(())
    })
}
