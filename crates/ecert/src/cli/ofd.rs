//! `ecert ofd inspect` and `ecert ofd render`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// `ecert ofd inspect FILE [--json]`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// 以 JSON 输出（错误也是 JSON）(print JSON, errors included).
    #[arg(long)]
    pub json: bool,
    /// OFD 文件 (the OFD file).
    pub file: PathBuf,
}

/// `ecert ofd render FILE --page N --dpi D -o OUT.png`
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// 页码，从 1 起 (page number, from 1).
    #[arg(long, default_value_t = 1)]
    pub page: usize,
    /// 分辨率 (resolution, dpi).
    #[arg(long, default_value_t = 150.0)]
    pub dpi: f64,
    /// 输出的 PNG 文件 (output PNG).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// OFD 文件 (the OFD file).
    pub file: PathBuf,
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("无法读取 {} (cannot read)", path.display()))
}

/// Runs `ecert ofd inspect`.
pub fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let bytes = read(&args.file)?;
    let file =
        ofd::OfdFile::read(&bytes).context("无法读取 OFD 文件 (cannot read the OFD file)")?;
    let inspection = ofd::render::inspect(&file);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print!("{}", inspection.to_text());
    }
    Ok(())
}

/// Runs `ecert ofd render` (seals drawn from the file's signatures).
pub fn render(args: &RenderArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (10.0..=1200.0).contains(&args.dpi),
        "dpi 应在 10–1200 之间 (dpi must be 10–1200)"
    );
    let png = ecert::preview::render_page_png(&read(&args.file)?, args.page, args.dpi)?;
    std::fs::write(&args.output, png)
        .with_context(|| format!("无法写入 {} (cannot write)", args.output.display()))?;
    Ok(())
}
