//! `ecert audit verify` and `ecert audit checkpoint` (R-7.2.2b), and the checkpoint the CLI
//! writes after every command that changes the instance.

use std::path::Path;

use anyhow::bail;
use ecert::service::{AuditVerdict, Instance};

use super::instance::runtime;

/// Runs `ecert audit verify`: the chain, the audit key's MACs and the newest signed checkpoint
/// beside the replicas; fails naming the kind of tampering found.
pub fn verify(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let check = instance.check_audit().await?;
        let r = &check.report;
        match &check.checkpoint {
            Some(cp) => println!(
                "签名检查点 (signed checkpoint): 第 {} 条 (entry {}), {} 个文件 (files)",
                cp.seq, cp.seq, check.checkpoint_files
            ),
            None => println!(
                "没有签名检查点：无法发现从末尾删除的记录 (no signed checkpoint: entries removed \
                 from the end cannot be detected); 运行 (run) `ecert audit checkpoint`"
            ),
        }
        for bad in &check.bad_checkpoints {
            println!("伪造或损坏的检查点 (forged or damaged checkpoint): {bad}");
        }
        if check.verdict != AuditVerdict::Intact {
            bail!("{}", check.verdict.text());
        }
        println!(
            "{}: {} 条记录 (entries), {} 条经审计密钥认证 (authenticated with the audit key)",
            check.verdict.text(),
            r.entries,
            r.authenticated
        );
        if !check.bad_checkpoints.is_empty() {
            bail!(
                "发现 {} 个伪造或损坏的检查点文件 ({} forged or damaged checkpoint files found)",
                check.bad_checkpoints.len(),
                check.bad_checkpoints.len()
            );
        }
        Ok(())
    })
}

/// Runs `ecert audit checkpoint`: signs the chain head now and writes it beside every replica.
pub fn checkpoint(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let cp = instance.audit_checkpoint().await?;
        println!(
            "已写入签名检查点 (signed checkpoint written): 第 {} 条 (entry {}) {}… → {}",
            cp.seq,
            cp.seq,
            cp.hash.get(..16).unwrap_or(&cp.hash),
            cp.file_name()
        );
        Ok(())
    })
}

/// After a command that changed the instance: a checkpoint if anything was appended since the
/// last one, so that the entries just written cannot be removed unnoticed.
pub fn after_change(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        instance.checkpoint_if_due(true).await?;
        Ok(())
    })
}
