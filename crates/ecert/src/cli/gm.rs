//! `ecert gm encode`: a Grid Matrix symbol (GB/T 27766) from the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Output formats of `ecert gm encode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// 0/1 行，1 为深色，无静区 (rows of 0/1, 1 = dark, top to bottom, no quiet zone).
    Matrix,
    /// 含静区的 SVG 图像 (an SVG image with the quiet zone).
    Svg,
    /// 含静区的 PNG 图像，需 -o (a PNG image with the quiet zone; needs -o).
    Png,
}

/// `--gb2312-ambiguous`: characters whose GB 2312 code readers map to different characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ambiguous {
    /// 含这些字符的文本用 ECI 编码：全部在 ISO 8859-1 内用 ECI 3，否则 UTF-8 (ECI 26)
    /// (text containing one is encoded under an ECI: 3 if all of it is ISO 8859-1, else 26).
    Eci,
    /// 照旧写作 GB 2312 码 A1A4、A1AA，不加 ECI；读码器可能读成另一个字符
    /// (written as GB 2312 A1A4, A1AA without ECI, as before; a reader may show the other character).
    Gb2312,
}

/// `ecert gm encode [--ecc N] [--version V] [--eci E] [--gb2312-ambiguous eci|gb2312]
/// [--format matrix|svg|png] [-o OUT] TEXT`
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// 纠错等级 1–5，默认为版本的推荐等级 (ECC level 1–5; default: the version's recommended level).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub ecc: Option<u8>,
    /// 固定版本 1–13，默认取能容纳的最小版本 (fixed version 1–13; default: the smallest that fits).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=13))]
    pub version: Option<u8>,
    /// 自动选择时的最小版本 (smallest version the automatic choice may take).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=13))]
    pub min_version: Option<u8>,
    /// 先写此 ECI：29 GB 2312、26 UTF-8、3 ISO 8859-1，默认按字符自动选择
    /// (write this ECI first: 29 GB 2312, 26 UTF-8, 3 ISO 8859-1; default: chosen by the characters).
    #[arg(long)]
    pub eci: Option<u32>,
    /// GB 2312 中各码表映射不一的字符（· U+00B7、・ U+30FB、— U+2014、― U+2015）如何编码
    /// (how to encode characters whose GB 2312 code readers map differently: · ・ — ―).
    #[arg(long, value_enum, default_value_t = Ambiguous::Eci)]
    pub gb2312_ambiguous: Ambiguous,
    /// 输出格式 (output format).
    #[arg(long, value_enum, default_value_t = Format::Matrix)]
    pub format: Format,
    /// svg/png 每模块像素数 (pixels per module for svg/png).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub module_px: u32,
    /// 写入此文件而非标准输出 (write here instead of standard output).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// 要编码的文本：ASCII 与 GB 2312 字符不加 ECI（汉字用汉字模式），其余见 --gb2312-ambiguous、--eci
    /// (the text: ASCII and GB 2312 characters need no ECI, hanzi in Chinese mode; otherwise an
    /// ECI is chosen, see --gb2312-ambiguous and --eci).
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
    options = options.gb2312_ambiguous(match args.gb2312_ambiguous {
        Ambiguous::Eci => gridmatrix::Ambiguous::Eci,
        Ambiguous::Gb2312 => gridmatrix::Ambiguous::Gb2312,
    });
    let symbol = match gridmatrix::encode(&args.text, &options) {
        Ok(symbol) => symbol,
        Err(gridmatrix::Error::AmbiguousInGb2312 {
            index, ch, cell, ..
        }) => bail!(
            "第 {} 个字符“{ch}”(U+{:04X}) 在 GB 2312 中为 {cell:04X}，各读码器读出的字符不同；请去掉 --eci 29，或用 --gb2312-ambiguous gb2312 (character {} {ch:?} would be GB 2312 {cell:04X}, which readers map to different characters: drop --eci 29, or pass --gb2312-ambiguous gb2312)",
            index + 1,
            u32::from(ch),
            index + 1
        ),
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context("网格矩阵码编码失败 (Grid Matrix encoding failed)")
            );
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        text: &str,
        ambiguous: Ambiguous,
        eci: Option<u32>,
        out: &std::path::Path,
    ) -> EncodeArgs {
        EncodeArgs {
            ecc: None,
            version: None,
            min_version: None,
            eci,
            gb2312_ambiguous: ambiguous,
            format: Format::Matrix,
            module_px: 4,
            output: Some(out.to_path_buf()),
            text: text.to_string(),
        }
    }

    fn read_back(path: &std::path::Path) -> gridmatrix::decode::Decoded {
        let text = std::fs::read_to_string(path).expect("matrix written");
        let rows: Vec<&str> = text.lines().collect();
        gridmatrix::decode::decode_rows(&rows, &Default::default()).expect("symbol reads")
    }

    /// Issue 19: `ecert gm encode` puts "·" under an ECI by default, and writes GB 2312 A1A4
    /// only with `--gb2312-ambiguous gb2312`.
    #[test]
    fn gm_encode_middle_dot_gets_an_eci_unless_asked_otherwise() {
        let dir = std::env::temp_dir().join(format!("ecert-gm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("m.txt");
        let text = "检定电子证书·质字";

        encode(&args(text, Ambiguous::Eci, None, &out)).expect("encodes");
        let back = read_back(&out);
        assert_eq!(back.ecis, vec![26]);
        assert_eq!(back.text().expect("text"), text);
        assert!(!back.bytes().windows(2).any(|w| w == [0xA1, 0xA4]));

        encode(&args(text, Ambiguous::Gb2312, None, &out)).expect("encodes");
        let back = read_back(&out);
        assert_eq!(back.ecis, Vec::<u32>::new());
        assert!(back.bytes().windows(2).any(|w| w == [0xA1, 0xA4]));

        let err = encode(&args(text, Ambiguous::Eci, Some(29), &out))
            .expect_err("ECI 29 cannot hold an ambiguous cell");
        assert!(
            err.to_string().contains("--gb2312-ambiguous gb2312"),
            "{err}"
        );
        encode(&args(text, Ambiguous::Gb2312, Some(29), &out)).expect("allowed explicitly");
        assert_eq!(read_back(&out).ecis, vec![29]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
