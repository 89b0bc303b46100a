//! `ecert scrub` and `ecert orphans` (R-6.5g).

use std::path::Path;

use anyhow::bail;
use clap::Args;
use ecert::service::Instance;

use super::instance::{progress, runtime};

/// `ecert scrub`.
#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// 修复：用完好的副本重写缺失或损坏的副本 (repair: rewrite missing or damaged copies from an
    /// intact one).
    #[arg(long)]
    pub repair: bool,
    /// 操作人，记入审计日志 (who runs it, recorded in the audit log).
    #[arg(long, default_value = "cli")]
    pub by: String,
}

/// `ecert orphans`.
#[derive(Debug, Args)]
pub struct OrphansArgs {
    /// 删除找到的孤立文件 (remove the orphans found).
    #[arg(long)]
    pub remove: bool,
    /// 只删除早于此分钟数的文件，避开正在进行的写入 (only remove files older than this many
    /// minutes, so that no write in progress is touched).
    #[arg(long, default_value_t = 60)]
    pub older_than_minutes: u64,
    /// 操作人，记入审计日志 (who runs it, recorded in the audit log).
    #[arg(long, default_value = "cli")]
    pub by: String,
}

/// Runs `ecert scrub`: fails when a copy is missing or damaged and was not repaired, or a file
/// has no intact copy left.
pub fn scrub(dir: &Path, args: &ScrubArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let bar: std::sync::OnceLock<indicatif::ProgressBar> = std::sync::OnceLock::new();
        let started = std::time::Instant::now();
        let report = instance
            .scrub_with_progress(args.repair, &super::named_actor(&args.by), &|done, total| {
                let bar = bar.get_or_init(|| {
                    progress(
                        usize::try_from(total).unwrap_or(usize::MAX),
                        "存储校验 (scrubbing)",
                    )
                });
                bar.set_position(done);
            })
            .await?;
        if let Some(bar) = bar.get() {
            bar.finish_and_clear();
        }
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        for p in &report.problems {
            println!("副本有问题 (copy damaged or missing): {p}");
        }
        for key in &report.lost {
            println!("没有完好的副本 (no intact copy left): {key}");
        }
        println!(
            "已检查 {} 份副本，问题 {}，已修复 {}，无法恢复 {} (checked {} copies, {} problems, {} repaired, {} lost)",
            report.checked,
            report.problems.len(),
            report.repaired,
            report.lost.len(),
            report.checked,
            report.problems.len(),
            report.repaired,
            report.lost.len()
        );
        let (files_s, mb_s) = (
            report.checked as f64 / secs,
            report.bytes as f64 / 1e6 / secs,
        );
        println!(
            "用时 {secs:.1} 秒，{files_s:.0} 份/秒，{mb_s:.1} MB/秒 (took {secs:.1} s, {files_s:.0} copies/s, {mb_s:.1} MB/s)"
        );
        let unrepaired = report.problems.len() as u64 > report.repaired;
        if !report.lost.is_empty() || unrepaired {
            bail!(
                "存储不完整 (storage is not intact){}",
                if args.repair {
                    ""
                } else {
                    "；用 --repair 修复 (run with --repair to rewrite from intact copies)"
                }
            );
        }
        Ok(())
    })
}

/// Runs `ecert orphans [--remove]`.
pub fn orphans(dir: &Path, args: &OrphansArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        if args.remove {
            let cutoff = now_ms().saturating_sub(
                i64::try_from(args.older_than_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX),
            );
            let removed = instance
                .remove_orphans(cutoff, &super::named_actor(&args.by))
                .await?;
            for o in &removed {
                println!("已删除 (removed): {}:{}", o.replica, o.key);
            }
            println!(
                "已删除 {} 个孤立文件 ({} orphans removed)",
                removed.len(),
                removed.len()
            );
            return Ok(());
        }
        let found = instance.orphans().await?;
        for o in &found {
            let what = if o.staging {
                "中断写入的暂存文件 (staging file of a killed write)"
            } else {
                "无记录引用 (no record references it)"
            };
            println!("{}:{}  {what}", o.replica, o.key);
        }
        println!("孤立文件 {} 个 ({} orphans)", found.len(), found.len());
        Ok(())
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Runs `ecert status`: fails when the instance does not meet 3-2-1 now, its storage was not
/// checked lately, or its time is not traceable.
pub fn status(dir: &Path, json: bool) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let status = instance.status().await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&status)?);
        } else {
            for f in &status.findings {
                println!("{} {}", if f.ok { "✓" } else { "✗" }, f.text);
            }
        }
        if status.ok() {
            Ok(())
        } else {
            bail!("实例未达到要求，见上 (the instance does not meet the requirements above)")
        }
    })
}
