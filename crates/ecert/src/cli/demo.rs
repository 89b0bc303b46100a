//! `ecert demo`: on a fresh machine, a demo instance that issues a sample of every kind,
//! verifies each file, revises one, supplements the revision, and checks the audit chain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ecert::config::Config;
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

/// `ecert demo [--dir DIR] [--yes]`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 清除上次演示留下的文件（仅限其清单 ecert-demo.manifest 所列文件，其余文件保留）(remove
    /// the files an earlier demo in the folder wrote, as listed in its ecert-demo.manifest;
    /// nothing else in the folder is touched).
    #[arg(long)]
    pub yes: bool,
}

/// The demo's own list of the files it wrote, in the demo folder: only these are ever removed
/// by a later `ecert demo --yes`.
pub const MANIFEST: &str = "ecert-demo.manifest";

/// The demo customer: the e-mail the calibration sample gives for its customer, so that the
/// portal shows that customer's certificates.
pub const DEMO_CUSTOMER: &str = "zhangsan@example.com";
/// The demo customer's password (a demo instance only; printed by `ecert demo`).
pub const DEMO_CUSTOMER_PASSWORD: &str = "Demo-Kunde-2026";

/// The folder of the demo when neither `--dir` nor `ECERT_DIR` names one.
pub const DEFAULT_DIR: &str = "ecert-demo";

/// Every file under `dir` (relative paths, `/`-separated, sorted), not following links.
fn files_under(dir: &Path) -> anyhow::Result<std::collections::BTreeSet<String>> {
    fn walk(
        root: &Path,
        at: &Path,
        out: &mut std::collections::BTreeSet<String>,
    ) -> anyhow::Result<()> {
        let entries = match std::fs::read_dir(at) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("无法读取目录 {} (cannot read)", at.display()));
            }
        };
        for entry in entries {
            let entry =
                entry.with_context(|| format!("无法读取目录 {} (cannot read)", at.display()))?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.insert(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
        Ok(())
    }
    let mut out = std::collections::BTreeSet::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// The files an earlier demo listed in its manifest; a line that is not a plain relative path
/// inside the folder is refused (the manifest is a text file anyone can edit).
fn read_manifest(dir: &Path) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("无法读取 {} (cannot read)", path.display()));
        }
    };
    let mut files = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rel = Path::new(line);
        let plain = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain || line == MANIFEST {
            bail!(
                "{}：“{line}”不是本目录内的文件，未做任何改动 (not a file inside the folder; nothing was changed)",
                path.display()
            );
        }
        files.push(rel.to_owned());
    }
    Ok(Some(files))
}

/// Makes `dir` ready for a demo without ever removing what the demo did not write: a missing
/// or empty folder is used as it is; a folder with the manifest of an earlier demo loses the
/// files listed there (and the folders they leave empty) with `--yes`, and is refused without
/// it; any other non-empty folder is refused. Returns the files that were there before (they
/// stay, and stay out of the new manifest).
fn prepare(dir: &Path, yes: bool) -> anyhow::Result<std::collections::BTreeSet<String>> {
    if !dir.exists() {
        return Ok(Default::default());
    }
    if !dir.is_dir() {
        bail!("{} 不是目录 (not a folder)", dir.display());
    }
    let present = files_under(dir)?;
    if present.is_empty() {
        return Ok(present);
    }
    let Some(listed) = read_manifest(dir)? else {
        bail!(
            "{} 不是空目录，也没有演示清单 {MANIFEST}，未做任何改动：请换一个目录 (--dir) 或自行清理              (the folder is not empty and holds no demo manifest {MANIFEST}; nothing was changed:              choose another folder with --dir, or empty it yourself)",
            dir.display()
        );
    };
    if !yes {
        bail!(
            "{} 中有上次演示的 {} 个文件（见 {MANIFEST}）；加 --yes 仅删除这些文件后重新演示，其他文件保留，未做任何改动              (the folder holds {} files of an earlier demo, listed in {MANIFEST}; run `ecert demo --yes` to remove              only those and run the demo again; nothing was changed)",
            dir.display(),
            listed.len(),
            listed.len()
        );
    }
    // A listed SQLite database goes with its journal files, listed or not: a stale `-wal`
    // beside the next demo's new database would be replayed into it.
    let sidecars: Vec<PathBuf> = listed
        .iter()
        .filter(|r| r.extension().is_some_and(|e| e == "db"))
        .flat_map(|r| {
            ["-wal", "-shm", "-journal"].map(|tail| {
                let mut name = r.as_os_str().to_owned();
                name.push(tail);
                PathBuf::from(name)
            })
        })
        .collect();
    let mut folders = std::collections::BTreeSet::new();
    for rel in listed
        .iter()
        .chain(&sidecars)
        .map(|r| r.as_path())
        .chain([Path::new(MANIFEST)])
    {
        let path = dir.join(rel);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => std::fs::remove_file(&path)
                .with_context(|| format!("无法删除 {} (cannot remove)", path.display()))?,
            Err(_) => continue,
        }
        let mut parent = rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(p.to_owned());
            parent = p.parent();
        }
    }
    // Deepest first; a folder that still holds anything stays.
    for folder in folders.iter().rev() {
        let _ = std::fs::remove_dir(dir.join(folder));
    }
    files_under(dir)
}

/// Writes the manifest: every file now in `dir` that was not there before the demo.
fn write_manifest(dir: &Path, before: &std::collections::BTreeSet<String>) -> anyhow::Result<()> {
    let now = files_under(dir)?;
    let mut text = String::from(
        "# ecert demo：本次演示写入的文件；`ecert demo --yes` 只删除这些文件\n\
         # files written by `ecert demo`; `ecert demo --yes` removes only these\n",
    );
    for f in now.difference(before).filter(|f| *f != MANIFEST) {
        text.push_str(f);
        text.push('\n');
    }
    let path = dir.join(MANIFEST);
    std::fs::write(&path, text)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))
}

/// Runs `ecert demo`.
pub fn run(args: &DemoArgs, dir: Option<&Path>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or(Path::new(DEFAULT_DIR));
    let before = prepare(dir, args.yes)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(demo(dir));
    // The store closes with the runtime; then every file the demo wrote is listed, whether it
    // finished or not, so that a later `ecert demo --yes` can remove exactly those.
    drop(rt);
    let listed = write_manifest(dir, &before);
    result.and(listed)
}

async fn demo(dir: &Path) -> anyhow::Result<()> {
    {
        let mut config = Config::demo();
        // Codes of the customer portal go to `ecert serve`'s log, labelled 演示 (demo only).
        config.notify.console = true;
        let instance = Instance::init(dir, config).await?;
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
                .issue(json, &ecert::service::Actor::local("ecert demo"))
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
                println!("  校验码 (check code): {}", issued.check_code);
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
            .revise(
                "JD2024-000456",
                &revised.to_string(),
                &ecert::service::Actor::local("ecert demo"),
            )
            .await?;
        let path = out.join(&issued.record.file_name);
        std::fs::write(&path, &issued.file)?;
        let view = instance.status_of("JD2024-000456").await?;
        println!(
            "\n修改 (revision): JD2024-000456 → {} ({})",
            issued.record.number, issued.identifier
        );
        println!("  文件 (file):        {}", path.display());
        println!("  验证网址 (URL):     {}", issued.verify_url);
        println!("  校验码 (check code): {}", issued.check_code);
        for m in service::status_messages(&view) {
            println!("  查看原证书时显示 (the original now shows): {m}");
        }

        // a supplementary file to the revised (current) certificate.
        let supp = instance
            .supplement(
                &issued.record.number,
                include_str!("../../../../examples/supplement.json"),
                &ecert::service::Actor::local("ecert demo"),
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
        instance
            .portal_demo_customer(DEMO_CUSTOMER, DEMO_CUSTOMER_PASSWORD)
            .await
            .context("演示客户 (the demo customer)")?;
        println!(
            "\n演示客户 (demo customer, R-5.2.3): {DEMO_CUSTOMER}  口令 (password): {DEMO_CUSTOMER_PASSWORD}\n  \
             ecert serve --dir {}，打开 (open) http://127.0.0.1:8080/portal 登录，勾选证书下载；\n  \
             下载前的验证码（演示）写在 ecert serve 的日志中 (the identity code of a download is printed in its log, demo only)；\n  \
             压缩包用该验证码解压 (the ZIP opens with that code): 7zz x FILE.zip",
            dir.display()
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
    }
}
