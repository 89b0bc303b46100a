//! `ecert demo`: on a fresh machine, a demo instance that issues a sample of every kind,
//! verifies each file, revises one, supplements the revision, and checks the audit chain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ecert::config::{CONFIG_FILE, Config};
use ecert::service::{self, Instance};

/// The shipped examples: one of every kind (R-4.5.5 type codes 1–8).
pub const EXAMPLES: [(&str, &str); 8] = [
    (
        "检定证书",
        include_str!("../../../../examples/verification.json"),
    ),
    (
        "检定结果通知书",
        include_str!("../../../../examples/verification-notice.json"),
    ),
    (
        "仲裁检定证书",
        include_str!("../../../../examples/arbitration-verification.json"),
    ),
    (
        "型式评价报告",
        include_str!("../../../../examples/type-evaluation.json"),
    ),
    (
        "商品量及商品包装检验报告",
        include_str!("../../../../examples/prepackaged-goods.json"),
    ),
    (
        "能源效率标识检验报告",
        include_str!("../../../../examples/energy-label.json"),
    ),
    (
        "校准证书",
        include_str!("../../../../examples/calibration.json"),
    ),
    (
        "其他（测试报告）",
        include_str!("../../../../examples/other-report.json"),
    ),
];

/// `ecert demo [--dir DIR]`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo instance and its certificates (replaced if it holds an earlier demo).
    #[arg(long, default_value = "ecert-demo")]
    pub dir: PathBuf,
}

fn prepare(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let earlier_demo = Config::load(dir).map(|c| c.instance.demo).unwrap_or(false);
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if earlier_demo {
            std::fs::remove_dir_all(dir).with_context(|| {
                format!("无法清除旧的演示目录 {} (cannot remove)", dir.display())
            })?;
        } else if !empty {
            bail!(
                "{} 已存在且不是演示实例，未做任何改动 (exists and is not a demo instance ({CONFIG_FILE} with demo = true); nothing was changed)",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Runs `ecert demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    prepare(&args.dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = &args.dir;
        let instance = Instance::init(dir, Config::demo()).await?;
        let root_pem = instance.create_trial_seals().await?;
        let mut trust = ses::pki::TrustStore::new();
        trust.add_roots_pem(&std::fs::read_to_string(&root_pem)?)?;
        let verify_options = ses::verify::VerifyOptions {
            trust,
            validation_time: None,
        };
        let out = dir.join("certificates");
        std::fs::create_dir_all(&out)?;
        println!("演示实例 (demo instance): {}", dir.display());
        println!(
            "试用根证书 (trial root, 仅供试用 TEST ONLY): {}\n",
            root_pem.display()
        );

        let mut files = Vec::new();
        let bar = super::instance::progress(EXAMPLES.len(), "签发示例 (issuing samples)");
        for (label, json) in EXAMPLES {
            let issued = instance
                .issue(json, "ecert demo")
                .await
                .with_context(|| format!("签发{label}失败 (issuing failed)"))?;
            let path = out.join(&issued.record.file_name);
            std::fs::write(&path, &issued.file)?;
            let report = ses::verify::verify_bytes(&issued.file, &verify_options)
                .map_err(|e| anyhow::anyhow!(e.0))?;
            bar.suspend(|| {
                println!("{label} {}", issued.record.number);
                println!("  文件 (file):        {}", path.display());
                println!("  标识 (identifier):  {}", issued.identifier);
                println!("  验证网址 (URL):     {}", issued.verify_url);
                println!("  核验码 (check code): {}", issued.check_code);
                println!(
                    "  页数 (pages): {}  验证 (verification): {:?}",
                    issued.pages,
                    report.indication()
                );
            });
            bar.inc(1);
            if report.exit_code() != 0 {
                bail!(
                    "演示证书未通过验证 (a demo certificate failed verification):\n{}",
                    report.to_text()
                );
            }
            files.push(path);
        }
        bar.finish_and_clear();

        // revise the verification certificate; the original becomes void.
        let mut revised: serde_json::Value = serde_json::from_str(EXAMPLES[0].1)?;
        revised["certificateNo"] = "JD2024-000789".into();
        revised["remarks"] =
            serde_json::json!(["本证书替代证书 JD2024-000456（更正委托方地址）。"]);
        let issued = instance
            .revise("JD2024-000456", &revised.to_string(), "ecert demo")
            .await?;
        let path = out.join(&issued.record.file_name);
        std::fs::write(&path, &issued.file)?;
        let view = instance.status_of("JD2024-000456").await?;
        println!(
            "\n修改 (revision): JD2024-000456 → {} ({})",
            issued.record.number, issued.identifier
        );
        for m in service::status_messages(&view) {
            println!("  查看原证书时显示 (the original now shows): {m}");
        }

        // a supplementary file to the revised (current) certificate.
        let supp = instance
            .supplement(
                &issued.record.number,
                include_str!("../../../../examples/supplement.json"),
                "ecert demo",
            )
            .await
            .context("签发补充文件失败 (issuing the supplement failed)")?;
        let supp_dir = dir.join("supplements");
        std::fs::create_dir_all(&supp_dir)?;
        let supp_path = supp_dir.join(&supp.record.file_name);
        std::fs::write(&supp_path, &supp.file)?;
        let report = ses::verify::verify_bytes(&supp.file, &verify_options)
            .map_err(|e| anyhow::anyhow!(e.0))?;
        if report.exit_code() != 0 {
            bail!(
                "补充文件未通过验证 (the supplement failed verification):\n{}",
                report.to_text()
            );
        }
        println!(
            "\n补充文件 (supplement): {} → {}",
            supp.record.number, supp.original.number
        );
        println!("  文件 (file):        {}", supp_path.display());
        println!("  补充文件验证网址 (supplement URL): {}", supp.verify_url);
        println!(
            "  页数 (pages): {}  验证 (verification): {:?}",
            supp.pages,
            report.indication()
        );
        let view = instance.status_of(&supp.original.number).await?;
        for m in service::status_messages(&view) {
            println!("  查看原证书时显示 (the original now shows): {m}");
        }

        let audit = instance.verify_audit().await?;
        println!(
            "\n审计日志 (audit log): {} 条，{}",
            audit.entries,
            if audit.is_ok() {
                "链完整 (chain intact)"
            } else {
                "链被破坏 (BROKEN)"
            }
        );
        println!(
            "\n下一步 (next): ecert verify --trust {} {}",
            root_pem.display(),
            files
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        println!("             ecert ofd render FILE --page 1 -o page1.png");
        Ok(())
    })
}
