//! `ecert supplement NUMBER CONTENT.json [-o DIR]`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ecert::service::Instance;

/// `ecert supplement NUMBER CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct SupplementArgs {
    /// Number (or identifier) of the certificate being supplemented.
    pub number: String,
    /// The supplementary content (JSON; example: examples/supplement.json).
    pub content: PathBuf,
    /// Write the sealed supplementary file into this folder.
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// Runs `ecert supplement`.
pub fn run(dir: &Path, args: &SupplementArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let done = instance.supplement(&args.number, &content, "cli").await?;
        std::fs::create_dir_all(&args.out)?;
        let path = args.out.join(&done.record.file_name);
        std::fs::write(&path, &done.file)
            .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
        println!("文件 (file):             {}", path.display());
        println!("补充文件编号 (number):   {}", done.record.number);
        println!(
            "原证书 (original):       {} {}",
            done.original.number, done.original.identifier
        );
        println!("验证网址 (verify URL):   {}", done.verify_url);
        println!("页数 (pages):            {}", done.pages);
        println!("原证书 {}: {}", done.original.number, done.message);
        Ok(())
    })
}
