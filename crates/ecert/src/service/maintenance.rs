//! Keeping the stored files whole (R-6.5g): scrub (check every copy on every replica against
//! its SM3, repair from an intact one) and the orphan scan (files no record references, such as
//! the staging files of a write killed half-way).

use ecert_store::{OrphanBlob, ScrubReport};
use serde_json::json;

use super::{Actor, Instance, Result, StaffRole};

impl Instance {
    /// Checks every stored file on every replica against its recorded SM3; with `repair`,
    /// rewrites missing or damaged copies from an intact one (R-6.5g). The run is audited with
    /// what it found.
    pub async fn scrub(&self, repair: bool, actor: &Actor) -> Result<ScrubReport> {
        self.scrub_with_progress(repair, actor, &|_, _| {}).await
    }

    /// [`Instance::scrub`], telling `progress(files done, files in all)` as it goes.
    pub async fn scrub_with_progress(
        &self,
        repair: bool,
        actor: &Actor,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<ScrubReport> {
        self.authorize(actor, &[StaffRole::Admin], "校验副本 (scrub)")
            .await?;
        let report = self.store.scrub_with_progress(repair, progress).await?;
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        let unrepaired = problems.len() as u64 > report.repaired || !report.lost.is_empty();
        self.store
            .set_setting(
                super::status::LAST_SCRUB_SETTING,
                &json!({
                    "at_ms": super::time::now_ms(),
                    "problems": problems.len(),
                    "repaired_all": !unrepaired,
                })
                .to_string(),
            )
            .await?;
        self.audit(
            &actor.name,
            "storage.scrub",
            "replicas",
            &json!({
                "repair": repair,
                "checked": report.checked,
                "bytes": report.bytes,
                "problems": problems,
                "repaired": report.repaired,
                "lost": report.lost,
            }),
        )
        .await?;
        Ok(report)
    }

    /// Files on the replicas that no record references (left by failed or killed writes, or by
    /// a write in progress right now), staging files included.
    pub async fn orphans(&self) -> Result<Vec<OrphanBlob>> {
        Ok(self.store.orphan_blobs().await?)
    }

    /// Removes the orphans last modified before `older_than_ms` (unix ms; pick a time before
    /// any write still running). Audited; returns what was removed.
    pub async fn remove_orphans(
        &self,
        older_than_ms: i64,
        actor: &Actor,
    ) -> Result<Vec<OrphanBlob>> {
        self.authorize(actor, &[StaffRole::Admin], "清除孤立文件 (remove orphans)")
            .await?;
        Ok(self
            .store
            .remove_orphan_blobs(older_than_ms, &actor.name)
            .await?)
    }
}
