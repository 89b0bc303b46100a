//! `ecert time status` (R-7.2.2a): the NTP servers, the offset measured now, and whether sealing
//! would be allowed.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use ecert::service::Instance;

use super::instance::runtime;

/// `ecert time status`.
#[derive(Debug, Args)]
pub struct TimeStatusArgs {
    /// 以 JSON 输出 (print JSON).
    #[arg(long)]
    pub json: bool,
}

/// Runs `ecert time status`: measures now; fails when sealing would be refused.
pub fn status(dir: &Path, args: &TimeStatusArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let status = instance.time_status(true).await;
        if args.json {
            let v = serde_json::json!({
                "servers": status.servers,
                "last": status.last,
                "problems": status.problems,
                "max_offset_ms": status.max_offset_ms,
                "max_age_secs": status.max_age_secs,
                "sealing_allowed": status.sealing.is_ok(),
                "sealing_refused_because": status.sealing.as_ref().err(),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            if status.servers.is_empty() {
                println!(
                    "时间来源：本机时钟，未经核对（仅限演示实例） (time source: the local clock, unchecked — demo instances only)"
                );
            } else {
                println!("NTP 服务器 (servers): {}", status.servers.join(", "));
            }
            for p in &status.problems {
                println!("  {} 无应答或不可用 (no usable answer): {}", p.server, p.problem);
            }
            if let Some(m) = &status.last {
                println!(
                    "偏差 (offset) {:+.1} ms，往返 (delay) {:.1} ms，层级 (stratum) {}，服务器 (server) {}",
                    m.offset_ms, m.delay_ms, m.stratum, m.server
                );
            }
            println!(
                "允许偏差 (bound) ±{} ms，测量有效期 (max age) {} s",
                status.max_offset_ms, status.max_age_secs
            );
        }
        match &status.sealing {
            Ok(()) => {
                if !args.json {
                    println!("可以签章 (sealing allowed)");
                }
                Ok(())
            }
            Err(why) => bail!("{why}"),
        }
    })
}
