//! Commands on an instance: init, issue, revise, show, seal list, audit verify.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ecert::config::Config;
use ecert::service::{self, Instance, Issued};

/// `ecert init [--demo]`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// A demo instance: documentation root OID, trial CA and trial seals (R-7.1d: trials only).
    #[arg(long)]
    pub demo: bool,
}

/// `ecert issue CONTENT.json… [--template T] [-o DIR]`, or
/// `ecert issue --ofd FILE.ofd --content META.json [--code-at X,Y] [--seal-at X,Y] [-o DIR]`
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Certificate content (JSON; schema in docs/content.schema.json): one or more files, or
    /// folders whose `*.json` files are issued in name order.
    #[arg(required_unless_present = "ofd", num_args = 1..)]
    pub content: Vec<PathBuf>,
    /// Template: calibration | verification | verification-notice | report, a `.typ` file or a
    /// template folder (default: the kind's shipped template).
    #[arg(long)]
    pub template: Option<String>,
    /// 业务系统已生成的 OFD 证书：原样签章，加上电子证书声明、网格矩阵码和电子证书标识
    /// (seal an OFD the business system made as it is, adding the notice, the code and the
    /// identifier; ). Needs --content META.json.
    #[arg(long, value_name = "FILE.ofd", requires = "meta", conflicts_with_all = ["content", "template"])]
    pub ofd: Option<PathBuf>,
    /// With --ofd: the certificate's metadata as content JSON (type, number, customer,
    /// instrument, dates; results and signatories may be left out).
    #[arg(
        long = "content",
        id = "meta",
        value_name = "META.json",
        requires = "ofd"
    )]
    pub meta: Option<PathBuf>,
    /// With --ofd: top-left corner of the 25 mm Grid Matrix code on page 1, "X,Y" in mm
    /// (default: a free area found automatically; checked either way).
    #[arg(long, value_name = "X,Y", requires = "ofd")]
    pub code_at: Option<String>,
    /// With --ofd: top-left corner of the seal (at its printed size) on page 1, "X,Y" in mm
    /// (default: lower right, away from the code).
    #[arg(long, value_name = "X,Y", requires = "ofd")]
    pub seal_at: Option<String>,
    /// Write the sealed certificate into this folder.
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
    /// 同时签发的份数 (certificates issued at the same time; default: two per CPU core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

/// `ecert revise OLD_NUMBER CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct ReviseArgs {
    /// Number of the certificate being revised.
    pub old_number: String,
    /// Content of the revised certificate (with its new number).
    pub content: PathBuf,
    /// Write the sealed certificate into this folder.
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// `ecert show NUMBER|IDENTIFIER`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Certificate number or identifier.
    pub what: String,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio")
}

/// Runs `ecert init`.
pub fn init(dir: &Path, args: &InitArgs) -> anyhow::Result<()> {
    if !args.demo {
        bail!(
            "正式实例需要本机构注册的根 OID 和 CA 签发的印章：请先编写 {dir}/ecert.toml（见 README），当前仅支持 `ecert init --demo` \
             (a production instance needs your registered root OID and CA-issued seals; write ecert.toml, or use --demo)",
            dir = dir.display()
        );
    }
    runtime()?.block_on(async {
        let instance = Instance::init(dir, Config::demo()).await?;
        let root = instance.create_trial_seals().await?;
        println!("已创建演示实例 (demo instance created): {}", dir.display());
        println!("试用根证书 (trial root): {}", root.display());
        Ok(())
    })
}

fn write_issued(out: &Path, issued: &Issued) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let path = out.join(&issued.record.file_name);
    std::fs::write(&path, &issued.file)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
    Ok(path)
}

fn print_issued(path: &Path, issued: &Issued) {
    println!("文件 (file):            {}", path.display());
    println!("证书编号 (number):      {}", issued.record.number);
    println!("电子证书标识 (identifier): {}", issued.identifier);
    println!("核验码 (check code):    {}", issued.check_code);
    println!("验证网址 (verify URL):  {}", issued.verify_url);
    println!("页数 (pages):           {}", issued.pages);
}

/// The content files named on the command line (folders expanded to their `*.json`).
fn content_files(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in args {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("无法读取目录 {} (cannot read)", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "json"))
                .collect();
            inner.sort();
            if inner.is_empty() {
                bail!(
                    "{} 中没有 .json 文件 (no .json file in the folder)",
                    p.display()
                );
            }
            files.extend(inner);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// A progress bar on stderr for batch work, only when stderr is a terminal.
pub(crate) fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if len < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} {elapsed_precise} (剩余 {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Runs `ecert issue`: every file is issued on its own (one bad file does not stop the
/// others), `--jobs` at a time (default: two per core), reported in the order given; fails if
/// any failed.
pub fn issue(dir: &Path, args: &IssueArgs) -> anyhow::Result<()> {
    if let Some(ofd) = &args.ofd {
        return issue_handed_over(dir, args, ofd);
    }
    let files = content_files(&args.content)?;
    let template = args
        .template
        .as_deref()
        .map(service::resolve_template)
        .transpose()?;
    let jobs = args
        .jobs
        .map_or_else(service::default_issue_workers, usize::from);
    let jobs = jobs.min(files.len()).max(1);
    runtime()?.block_on(async {
        let instance = std::sync::Arc::new(Instance::open(dir).await?);
        let bar = progress(files.len(), "签发 (issuing)");
        // Files issued side by side race for a number they share; the first in order keeps it.
        let first_with_number = std::sync::Arc::new(first_with_same_number(&files));
        let files = std::sync::Arc::new(files);
        let template = std::sync::Arc::new(template);
        let out = std::sync::Arc::new(args.out.clone());
        // Workers take the next file in turn. Each is a task on the runtime: the service
        // awaits the store there and runs the CPU part of each certificate on a blocking
        // thread (as `ecert serve` does).
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..jobs {
            let (instance, files, template, out, next, tx, first) = (
                instance.clone(),
                files.clone(),
                template.clone(),
                out.clone(),
                next.clone(),
                tx.clone(),
                first_with_number.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(n) else { break };
                    let result = match first.get(&n) {
                        Some((earlier, number)) => Err(anyhow::anyhow!(
                            "证书编号 {number} 与同批的 {} 相同，未签发 (the same certificate number \
                             as {} earlier in this batch)",
                            files[*earlier].display(),
                            files[*earlier].display()
                        )),
                        None => issue_one(&instance, file, &template, &out).await,
                    };
                    if tx.send((n, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results are printed in the order of the files, whatever order they finish in.
        let mut done = std::collections::BTreeMap::new();
        let mut printed = 0usize;
        let mut failed = 0usize;
        while let Some((n, result)) = rx.recv().await {
            done.insert(n, result);
            bar.inc(1);
            while let Some(result) = done.remove(&printed) {
                bar.suspend(|| {
                    if printed > 0 {
                        println!();
                    }
                    match &result {
                        Ok((path, issued)) => print_issued(path, issued),
                        Err(e) => {
                            eprintln!("错误 (error): {}: {e:#}", files[printed].display());
                        }
                    }
                });
                if result.is_err() {
                    failed += 1;
                }
                printed += 1;
            }
        }
        bar.finish_and_clear();
        if printed < files.len() {
            bail!(
                "签发中断 (issuing stopped): {}/{} 份未处理 (not processed)",
                files.len() - printed,
                files.len()
            );
        }
        if failed > 0 {
            bail!("{failed}/{} 份未签发 (not issued)", files.len());
        }
        Ok(())
    })
}

/// For each file (by index) whose content names a certificate number an earlier file of the
/// batch already names: that earlier file's index and the number. Files that cannot be read
/// or parsed are left to the issuing step to report.
fn first_with_same_number(files: &[PathBuf]) -> std::collections::HashMap<usize, (usize, String)> {
    let mut seen = std::collections::HashMap::new();
    let mut later = std::collections::HashMap::new();
    for (i, file) in files.iter().enumerate() {
        let number = std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("certificateNo")?.as_str().map(str::to_owned));
        let Some(number) = number else { continue };
        match seen.get(&number) {
            Some(&earlier) => {
                later.insert(i, (earlier, number));
            }
            None => {
                seen.insert(number, i);
            }
        }
    }
    later
}

/// Issues the certificate whose content is in `file` and writes it into `out`.
async fn issue_one(
    instance: &Instance,
    file: &Path,
    template: &Option<ecert_layout::Template>,
    out: &Path,
) -> anyhow::Result<(PathBuf, Issued)> {
    let content = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取 {} (cannot read)", file.display()))?;
    let issued = match template {
        Some(t) => instance.issue_with_template(&content, "cli", t).await?,
        None => instance.issue(&content, "cli").await?,
    };
    let path = write_issued(out, &issued)?;
    Ok((path, issued))
}

/// Runs `ecert issue --ofd FILE --content META.json`.
fn issue_handed_over(dir: &Path, args: &IssueArgs, ofd: &Path) -> anyhow::Result<()> {
    let meta = args
        .meta
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--ofd 需要 --content META.json (--ofd needs --content)"))?;
    let bytes =
        std::fs::read(ofd).with_context(|| format!("无法读取 {} (cannot read)", ofd.display()))?;
    let content = std::fs::read_to_string(meta)
        .with_context(|| format!("无法读取 {} (cannot read)", meta.display()))?;
    let placement = ecert::service::handed_over::Placement {
        code_at: args
            .code_at
            .as_deref()
            .map(ecert::service::handed_over::parse_xy)
            .transpose()?,
        seal_at: args
            .seal_at
            .as_deref()
            .map(ecert::service::handed_over::parse_xy)
            .transpose()?,
    };
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let issued = instance
            .issue_ofd_at(&bytes, &content, "cli", placement)
            .await
            .with_context(|| format!("{} 未签发 (not issued)", ofd.display()))?;
        print_issued(&write_issued(&args.out, &issued)?, &issued);
        Ok(())
    })
}

/// Runs `ecert revise`.
pub fn revise(dir: &Path, args: &ReviseArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let issued = instance.revise(&args.old_number, &content, "cli").await?;
        print_issued(&write_issued(&args.out, &issued)?, &issued);
        println!(
            "原证书 {}: {}",
            args.old_number,
            service::revised_message(&issued.record.number)
        );
        Ok(())
    })
}

/// Runs `ecert show`.
pub fn show(dir: &Path, args: &ShowArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let view = instance.status_of(&args.what).await?;
        let c = &view.certificate;
        println!("证书编号 (number):      {}", c.number);
        println!("电子证书标识 (identifier): {}", c.identifier);
        println!("状态 (status):          {}", c.status.as_str());
        println!("委托方 (customer):      {}", c.customer_name);
        println!(
            "器具 (instrument):      {} {}",
            c.instrument_name, c.serial_number
        );
        println!("签发日期 (issued):      {}", c.issue_date);
        println!(
            "文件 (file):            {} ({} bytes, SM3 {})",
            c.file_name,
            c.file_size,
            ecert_store::hex(&c.file_sm3)
        );
        for m in service::status_messages(&view) {
            println!("提示 (notice):          {m}");
        }
        if c.status != ecert_store::CertificateStatus::Disposed {
            for s in &view.supplements {
                println!(
                    "补充文件 (supplement):  {} {} ({} bytes, SM3 {})",
                    s.number,
                    s.file_name,
                    s.file_size,
                    ecert_store::hex(&s.file_sm3)
                );
            }
        }
        Ok(())
    })
}

/// Runs `ecert seal list`.
pub fn seal_list(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        for s in instance.seals().await? {
            let status = if s.active {
                "在用 (active)"
            } else {
                "已停用 (retired)"
            };
            println!("{}  {}  {status}  {}", s.id, s.kind, s.name);
        }
        Ok(())
    })
}
