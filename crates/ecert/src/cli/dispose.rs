//! `ecert dispose propose|list|approve|execute` (R-6.5c, R-6.5h, R-6.5i): certificates past
//! retention are proposed by one person, approved by another, then their files destroyed on
//! every replica; the record stays and says "超过存储期限，不提供真伪验证".

use std::path::Path;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ecert::service::{self, Instance};
use ecert_store::DisposalState;

/// `ecert dispose …`
#[derive(Debug, Subcommand)]
pub enum DisposeCommand {
    /// 提出销毁：列出并提议超过存储期限的证书 (propose every certificate past retention).
    Propose(ProposeArgs),
    /// 列出销毁记录 (list disposals).
    List,
    /// 批准销毁（须为提议人以外的人）(approve; a person other than the proposer).
    Approve(ApproveArgs),
    /// 执行已批准的销毁：删除各副本中的文件，保留记录 (execute approved disposals).
    Execute(ExecuteArgs),
}

/// `ecert dispose propose --by NAME [--as-of DATE] [--dry-run]`
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// 提议人（记入审计日志）(who proposes; recorded in the audit log).
    #[arg(long)]
    pub by: String,
    /// 判断保存期限所依据的日期 YYYY-MM-DD，默认今天 UTC (the date retention is judged on;
    /// default today, UTC).
    #[arg(long)]
    pub as_of: Option<String>,
    /// 只列出候选证书，不提议 (only list the candidates).
    #[arg(long)]
    pub dry_run: bool,
}

/// `ecert dispose approve NUMBER --by NAME`
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// 批准销毁的证书编号或标识 (certificate number or identifier whose disposal is approved).
    pub number: String,
    /// 批准人，须非提议人 (who approves; not the proposer).
    #[arg(long)]
    pub by: String,
}

/// `ecert dispose execute --by NAME`
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// 执行人 (who executes).
    #[arg(long)]
    pub by: String,
}

fn today() -> String {
    ses::pki::format_time(ses::pki::now())
        .chars()
        .take(10)
        .collect()
}

/// Runs an `ecert dispose` command.
pub fn run(dir: &Path, cmd: &DisposeCommand) -> anyhow::Result<()> {
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let years = instance.config.instance.retention_years;
        match cmd {
            DisposeCommand::Propose(a) => {
                let as_of = a.as_of.clone().unwrap_or_else(today);
                if ecert::domain::content::parse_date(&as_of).is_none() {
                    bail!("日期“{as_of}”不是有效的 YYYY-MM-DD (not a valid date)");
                }
                let candidates = instance.disposal_candidates(&as_of).await?;
                println!(
                    "存储期限 (retention): {} 年；截至 (as of) {as_of}：{} 份证书超过存储期限 (past retention)",
                    years.max(ecert_store::MIN_RETENTION_YEARS),
                    candidates.len()
                );
                for c in &candidates {
                    if a.dry_run {
                        println!("  {}  签发 (issued) {}  {}", c.number, c.issue_date, c.status.as_str());
                    } else {
                        instance.propose_disposal(c, &super::named_actor(&a.by), &as_of).await?;
                        println!(
                            "  已提议销毁 (proposed): {}  签发 (issued) {}  提议人 (by) {}",
                            c.number, c.issue_date, a.by
                        );
                    }
                }
            }
            DisposeCommand::List => {
                for d in instance.disposals(None).await? {
                    println!(
                        "{}  {}  提议 (proposed by) {}  批准 (approved by) {}  执行 (executed by) {}",
                        d.number,
                        d.state.as_str(),
                        d.proposed_by,
                        d.approved_by.as_deref().unwrap_or("-"),
                        d.executed_by.as_deref().unwrap_or("-")
                    );
                }
            }
            DisposeCommand::Approve(a) => {
                let d = instance
                    .approve_disposal(&a.number, &super::named_actor(&a.by))
                    .await
                    .with_context(|| format!("无法批准销毁 {} (cannot approve)", a.number))?;
                println!(
                    "已批准销毁 (approved): {}  提议人 (proposed by) {}  批准人 (approved by) {}",
                    d.number,
                    d.proposed_by,
                    d.approved_by.unwrap_or_default()
                );
            }
            DisposeCommand::Execute(a) => {
                let approved = instance.disposals(Some(DisposalState::Approved)).await?;
                if approved.is_empty() {
                    println!("没有已批准的销毁 (no approved disposal to execute)");
                }
                for d in approved {
                    let done = instance.execute_disposal(&d, &super::named_actor(&a.by)).await?;
                    println!(
                        "已销毁 (disposed): {}  — 之后查验显示 (verification now says): {}",
                        done.number,
                        service::MSG_DISPOSED
                    );
                }
            }
        }
        Ok(())
    })
}
