//! `ecert gm encode`: a Grid Matrix symbol (GB/T 27766) from the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Output formats of `ecert gm encode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rows of 0/1 (1 = dark), top to bottom, no quiet zone.
    Matrix,
    /// An SVG image with the quiet zone.
    Svg,
    /// A PNG image with the quiet zone (needs -o).
    Png,
}

/// `ecert gm encode [--ecc N] [--version V] [--format matrix|svg|png] [-o OUT] TEXT`
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// ECC level 1–5 (default: the version's recommended level).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub ecc: Option<u8>,
    /// Fixed version 1–13 (default: the smallest that fits).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=13))]
    pub version: Option<u8>,
    /// Smallest version the automatic choice may take.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=13))]
    pub min_version: Option<u8>,
    /// Write this ECI first: 29 GB 2312, 26 UTF-8, 3 ISO 8859-1 (default: by the crate's rule).
    #[arg(long)]
    pub eci: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Matrix)]
    pub format: Format,
    /// Pixels per module for svg/png.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub module_px: u32,
    /// Write here instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// The text to encode (GB 2312 characters in Chinese mode; anything else as UTF-8 under ECI 26).
    pub text: String,
}

/// Runs `ecert gm encode`.
pub fn encode(args: &EncodeArgs) -> anyhow::Result<()> {
    let mut options = gridmatrix::Options::default();
    if let Some(v) = args.version {
        options = options.version(v);
    }
    if let Some(v) = args.min_version {
        options = options.min_version(v);
    }
    if let Some(eci) = args.eci {
        options = options.eci(eci);
    }
    if let Some(e) = args.ecc {
        options = options.ecc(gridmatrix::Ecc::Fixed(e));
    }
    let symbol = gridmatrix::encode(&args.text, &options)
        .context("网格矩阵码编码失败 (Grid Matrix encoding failed)")?;
    let bytes = match args.format {
        Format::Matrix => {
            let mut s = symbol.rows().join("\n");
            s.push('\n');
            s.into_bytes()
        }
        Format::Svg => symbol
            .to_svg(args.module_px, gridmatrix::QUIET_ZONE_MODULES)
            .into_bytes(),
        Format::Png => {
            if args.output.is_none() {
                bail!("PNG 输出需要 -o 文件名 (PNG output needs -o FILE)");
            }
            symbol.to_png(args.module_px, gridmatrix::QUIET_ZONE_MODULES)?
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    eprintln!(
        "版本 {} 纠错等级 {} 尺寸 {}×{} 模式 {} (version, ECC level, size, modes)",
        symbol.version(),
        symbol.ecc(),
        symbol.size(),
        symbol.size(),
        symbol.modes_summary()
    );
    Ok(())
}
