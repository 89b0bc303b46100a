//! Commands on an instance: init, issue, revise, show, seal list, audit verify.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ecert::config::Config;
use ecert::service::{self, Instance, Issued};

/// `ecert init [--demo]`, or `ecert init --name … --org-code … --accreditation … --root-oid …
/// --base-url … [--trust-root CA.pem]…` for a production instance, or `ecert init` beside an
/// ecert.toml written by hand (docs/setup.md).
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 演示实例：文档用根 OID、试用 CA 和试用印章（仅供试用，R-7.1d）(a demo instance:
    /// documentation root OID, trial CA and trial seals).
    #[arg(long, conflicts_with_all = ["name", "address", "phone", "org_code", "accreditations",
        "root_oid", "base_url", "database", "replicas", "trust_roots", "master_key_file", "master_key_env"])]
    pub demo: bool,
    /// 机构名称 (the institute's name, as every certificate states it).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// 机构地址 (the institute's address).
    #[arg(long, value_name = "ADDRESS")]
    pub address: Option<String>,
    /// 机构电话 (the institute's telephone).
    #[arg(long, value_name = "PHONE")]
    pub phone: Option<String>,
    /// 组织机构代码（9 位）或统一社会信用代码（18 位）(organisation code or USCC; identifier
    /// part 3, R-4.5.5).
    #[arg(long, value_name = "CODE")]
    pub org_code: Option<String>,
    /// 认可/授权标识，可重复，第一个为默认 (accreditation or authorisation id, identifier part 4;
    /// repeat for several, the first is the default).
    #[arg(long = "accreditation", value_name = "ID")]
    pub accreditations: Vec<String>,
    /// 本机构注册的根 OID（标识第 1 部分）(the root OID registered for the institute, identifier
    /// part 1, R-4.5.5).
    #[arg(long, value_name = "OID")]
    pub root_oid: Option<String>,
    /// 验证网站的公开地址，二维码指向 {base_url}/v/… (public address of the verification pages).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// 数据库 (database URL) [默认 default: sqlite://data/ecert.db].
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// 副本目录，至少 2 个，可重复 (replica folder, at least two, R-6.5b) [默认 default:
    /// data/replica-a, data/replica-b].
    #[arg(long = "replica", value_name = "DIR")]
    pub replicas: Vec<PathBuf>,
    /// 印章证书的 CA 根证书（PEM），可重复 (CA root certificate of the seals' certificates,
    /// PEM; repeat for several) → [server] trust_roots.
    #[arg(long = "trust-root", value_name = "CA.pem")]
    pub trust_roots: Vec<PathBuf>,
    /// 使用管理员已保管的主密钥文件（不复制）(use the master key file the administrator keeps
    /// there; it is not copied) → [storage] master_key_file.
    #[arg(long, value_name = "FILE", conflicts_with = "master_key_env")]
    pub master_key_file: Option<PathBuf>,
    /// 从此环境变量读取主密钥（32 位十六进制，如从备份恢复）并写入 data/master.key (read the
    /// master key, 32 hex digits, e.g. from a backup, from this environment variable).
    #[arg(long, value_name = "VAR")]
    pub master_key_env: Option<String>,
}

impl InitArgs {
    /// True when any flag that describes a production instance is given.
    fn describes_an_instance(&self) -> bool {
        self.name.is_some()
            || self.address.is_some()
            || self.phone.is_some()
            || self.org_code.is_some()
            || !self.accreditations.is_empty()
            || self.root_oid.is_some()
            || self.base_url.is_some()
            || self.database.is_some()
            || !self.replicas.is_empty()
            || !self.trust_roots.is_empty()
    }

    /// The configuration the flags describe; every missing flag is named at once.
    fn config(&self, dir: &Path) -> anyhow::Result<Config> {
        let mut missing = Vec::new();
        let mut need = |v: &Option<String>, flag: &'static str| {
            if v.as_deref().is_none_or(|v| v.trim().is_empty()) {
                missing.push(flag);
            }
        };
        need(&self.name, "--name");
        need(&self.org_code, "--org-code");
        need(&self.root_oid, "--root-oid");
        need(&self.base_url, "--base-url");
        if self.accreditations.is_empty() {
            missing.push("--accreditation");
        }
        if !missing.is_empty() {
            bail!(
                "正式实例缺少参数 (a production instance needs): {}；或在 {} 中写好配置后运行 ecert init \
                 (or write that ecert.toml and run ecert init; docs/setup.md); 试用 (a trial): ecert init --demo",
                missing.join(" "),
                dir.join(ecert::config::CONFIG_FILE).display()
            );
        }
        let mut config = Config::demo();
        config.instance.demo = false;
        config.instance.root_oid = self.root_oid.clone().unwrap_or_default();
        config.instance.base_url = self.base_url.clone().unwrap_or_default();
        config.institute.name = self.name.clone().unwrap_or_default();
        config.institute.address = self.address.clone().unwrap_or_default();
        config.institute.phone = self.phone.clone().unwrap_or_default();
        config.institute.org_code = self.org_code.clone().unwrap_or_default();
        config.institute.accreditations = self.accreditations.clone();
        if let Some(db) = &self.database {
            config.storage.database = db.clone();
        }
        if !self.replicas.is_empty() {
            config.storage.replicas = self.replicas.iter().map(|p| absolute(p)).collect();
        }
        if let Some(key) = &self.master_key_file {
            config.storage.master_key_file = absolute(key);
        }
        config.server.trust_roots = self.trust_roots.iter().map(|p| absolute(p)).collect();
        Ok(config)
    }

    /// Where the master key comes from.
    fn key(&self) -> anyhow::Result<service::NewMasterKey> {
        if self.master_key_file.is_some() {
            return Ok(service::NewMasterKey::Existing);
        }
        let Some(var) = &self.master_key_env else {
            return Ok(service::NewMasterKey::Generate);
        };
        let hex = zeroize::Zeroizing::new(std::env::var(var).map_err(|_| {
            anyhow::anyhow!("环境变量 {var} 未设置 (the environment variable {var} is not set)")
        })?);
        let key = ecert_store::MasterKey::from_hex(hex.trim()).map_err(|e| {
            anyhow::anyhow!(
                "环境变量 {var} 不是主密钥（32 位十六进制）(not a master key: 32 hex digits): {e}"
            )
        })?;
        Ok(service::NewMasterKey::Given(key))
    }
}

/// A path given on the command line, made absolute (the configuration resolves relative
/// paths against the instance folder, not the current one).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// `ecert issue CONTENT.json… [--template T] [-o DIR]`, or
/// `ecert issue --ofd FILE.ofd --content META.json [--code-at X,Y] [--seal-at X,Y] [-o DIR]`
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// 证书内容 JSON 文件（格式见 docs/content.schema.json），可多个；目录则按文件名顺序签发其中的
    /// *.json (certificate content, JSON: one or more files, or folders whose *.json files are
    /// issued in name order).
    #[arg(required_unless_present = "ofd", num_args = 1..)]
    pub content: Vec<PathBuf>,
    /// 模板：calibration | verification | verification-notice | report、.typ 文件或模板目录；
    /// 默认为该类别自带的模板 (template: a shipped one, a .typ file or a template folder;
    /// default: the kind's shipped template).
    #[arg(long)]
    pub template: Option<String>,
    /// 业务系统已生成的 OFD 证书：原样签章，加上电子证书声明、网格矩阵码和电子证书标识
    /// (seal an OFD the business system made as it is, adding the notice, the code and the
    /// identifier; ). Needs --content META.json.
    #[arg(long, value_name = "FILE.ofd", requires = "meta", conflicts_with_all = ["content", "template"])]
    pub ofd: Option<PathBuf>,
    /// 与 --ofd 同用：证书元数据（类别、编号、委托方、器具、日期；结果和签字人可省略）
    /// (with --ofd: the certificate's metadata as content JSON; results and signatories may be
    /// left out).
    #[arg(
        long = "content",
        id = "meta",
        value_name = "META.json",
        requires = "ofd"
    )]
    pub meta: Option<PathBuf>,
    /// 与 --ofd 同用：第 1 页 25 mm 网格矩阵码左上角 "X,Y"（毫米），默认自动寻找空白处
    /// (with --ofd: top-left corner of the code on page 1, in mm; default: a free area).
    #[arg(long, value_name = "X,Y", requires = "ofd")]
    pub code_at: Option<String>,
    /// 与 --ofd 同用：第 1 页印章左上角 "X,Y"（毫米），默认右下方 (with --ofd: top-left
    /// corner of the seal on page 1, in mm; default: lower right, away from the code).
    #[arg(long, value_name = "X,Y", requires = "ofd")]
    pub seal_at: Option<String>,
    /// 把签章后的证书副本写入此目录（证书已存储，写入失败可用 ecert export 取回）(write a copy of
    /// the sealed certificate into this folder; it is stored either way: ecert export).
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
    /// 同时签发的份数 (certificates issued at the same time; default: two per CPU core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

/// `ecert revise OLD_NUMBER CONTENT.json [-o DIR]`
#[derive(Debug, Args)]
pub struct ReviseArgs {
    /// 被修改证书的编号 (number of the certificate being revised).
    pub old_number: String,
    /// 修改后证书的内容（含新编号）(content of the revised certificate, with its new number).
    pub content: PathBuf,
    /// 把签章后的证书副本写入此目录（证书已存储，写入失败可用 ecert export 取回）(write a copy of
    /// the sealed certificate into this folder; it is stored either way: ecert export).
    #[arg(short = 'o', long, default_value = ".")]
    pub out: PathBuf,
}

/// `ecert show NUMBER|IDENTIFIER|SUPPLEMENT_NUMBER [--json]`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// 以 JSON 输出（错误也是 JSON）(print JSON, errors included).
    #[arg(long)]
    pub json: bool,
    /// 证书编号、电子证书标识或补充文件编号 (certificate number or identifier, or a
    /// supplement's number).
    #[arg(value_name = "NUMBER")]
    pub what: String,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio")
}

/// Runs `ecert init`: a demo instance (`--demo`), a production one from the flags, or one
/// from the ecert.toml already in the folder (written by hand). Every problem of the
/// configuration is named at once, before anything is written.
pub fn init(dir: &Path, args: &InitArgs) -> anyhow::Result<()> {
    if args.demo {
        return runtime()?.block_on(async {
            let instance = Instance::init(dir, Config::demo()).await?;
            let root = instance.create_trial_seals().await?;
            println!("已创建演示实例 (demo instance created): {}", dir.display());
            println!("试用根证书 (trial root): {}", root.display());
            Ok(())
        });
    }
    let key = args.key()?;
    let hand_written = dir.join(ecert::config::CONFIG_FILE).exists();
    let config = if hand_written {
        if args.describes_an_instance() {
            bail!(
                "{} 已存在：请直接修改该文件，或不带机构参数运行 ecert init 以使用它 \
                 (the folder has an ecert.toml: edit it, or run ecert init without the instance flags to use it)",
                dir.join(ecert::config::CONFIG_FILE).display()
            );
        }
        let (config, problems) = Config::check_file(dir, args.master_key_file.is_some());
        refuse_problems(dir, &problems, true)?;
        config.ok_or_else(|| anyhow::anyhow!("ecert.toml"))?
    } else {
        let config = args.config(dir)?;
        let mut problems = config.problems();
        problems.extend(config.resource_problems(dir, args.master_key_file.is_some()));
        refuse_problems(dir, &problems, true)?;
        config
    };
    let instance =
        runtime()?.block_on(Instance::create(dir, config.clone(), !hand_written, key))?;
    drop(instance);
    let key_path = Config::resolve(dir, &config.storage.master_key_file);
    println!("已创建实例 (instance created): {}", dir.display());
    println!(
        "配置 (configuration):  {}",
        dir.join(ecert::config::CONFIG_FILE).display()
    );
    println!("数据库 (database):     {}", config.database_url(dir));
    println!(
        "主密钥 (master key):   {}（仅所有者可读 owner-only, 0600）",
        key_path.display()
    );
    println!(
        "  请立即备份主密钥，与数据库备份分开保管：丢失则印章私钥和接口密钥无法解密，泄露则须更换全部印章 \
         (back the master key up now and keep it apart from the database backups: without it the seal keys \
         and API secrets cannot be decrypted; if it leaks, replace every seal; docs/setup.md)"
    );
    println!(
        "下一步 (next): ecert seal create --kind 校准 --title …电子证书专用章 --key KEY.pem --cert CERT.pem \
         --maker-key … --maker-cert …；ecert config check"
    );
    Ok(())
}

/// Fails with every problem listed, one a line, each naming its key (`init`: and says that
/// nothing was written).
fn refuse_problems(
    dir: &Path,
    problems: &[ecert::config::Problem],
    init: bool,
) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    let (zh, en) = if init {
        ("，未做任何改动", "; nothing was written")
    } else {
        ("", "")
    };
    bail!(
        "{} 的配置有 {} 个问题{zh} (the configuration has {} problems{en}):\n{}",
        dir.display(),
        problems.len(),
        problems.len(),
        list.join("\n")
    )
}

/// Runs `ecert config check`: every problem of ecert.toml and of what it points to, each
/// naming its key; fails when there is any.
pub fn config_check(dir: &Path) -> anyhow::Result<()> {
    let (config, problems) = Config::check_file(dir, true);
    refuse_problems(dir, &problems, false)?;
    let config = config.ok_or_else(|| anyhow::anyhow!("ecert.toml"))?;
    println!(
        "配置无误 (the configuration is fine): {}",
        dir.join(ecert::config::CONFIG_FILE).display()
    );
    println!(
        "  {}实例 (instance), 根 OID (root OID) {}, {} 个信任根 (trust roots), {} 个副本 (replicas)",
        if config.instance.demo {
            "演示 (demo) "
        } else {
            "正式 (production) "
        },
        config.instance.root_oid,
        config.server.trust_roots.len(),
        config.storage.replicas.len()
    );
    Ok(())
}

/// Writes a copy of a stored file into `out`. The certificate (or supplement) is issued and
/// stored before this runs: a failure here loses nothing, and `ecert export NUMBER` writes the
/// copy again from the store.
pub(crate) fn write_copy(out: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("无法创建目录 {} (cannot create the folder)", out.display()))?;
    let path = out.join(name);
    std::fs::write(&path, bytes)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
    Ok(path)
}

/// What is said of a copy that could not be written: the record is issued and stored, and
/// how to get the file.
pub(crate) fn copy_not_written(number: &str, e: &anyhow::Error) -> String {
    format!(
        "{number} 已签发并存储，但副本未能写出：{e:#}；取回副本：ecert export {number} -o DIR \
         (issued and stored, but the copy could not be written; get it with `ecert export {number} -o DIR`)"
    )
}

fn print_issued(copy: &anyhow::Result<PathBuf>, issued: &Issued) {
    match copy {
        Ok(path) => println!("文件 (file):            {}", path.display()),
        Err(e) => println!("文件 (file):            未写出副本 (no copy written): {e:#}"),
    }
    println!("证书编号 (number):      {}", issued.record.number);
    println!("电子证书标识 (identifier): {}", issued.identifier);
    println!("校验码 (check code):    {}", issued.check_code);
    println!("验证网址 (verify URL):  {}", issued.verify_url);
    println!("页数 (pages):           {}", issued.pages);
}

/// Prints an issued certificate and its copy; a copy that could not be written is an error
/// that says the certificate is issued and stored.
fn report_issued(out: &Path, issued: &Issued) -> anyhow::Result<()> {
    let copy = write_copy(out, &issued.record.file_name, &issued.file);
    print_issued(&copy, issued);
    match copy {
        Ok(_) => Ok(()),
        Err(e) => bail!("{}", copy_not_written(&issued.record.number, &e)),
    }
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
        let mut uncopied = Vec::new();
        let mut already = Vec::new();
        while let Some((n, result)) = rx.recv().await {
            done.insert(n, result);
            bar.inc(1);
            while let Some(result) = done.remove(&printed) {
                bar.suspend(|| {
                    if printed > 0 {
                        println!();
                    }
                    match &result {
                        Ok((copy, Done::Issued(issued))) => {
                            print_issued(copy, issued);
                            if let Err(e) = copy {
                                eprintln!(
                                    "错误 (error): {}: {}",
                                    files[printed].display(),
                                    copy_not_written(&issued.record.number, e)
                                );
                            }
                        }
                        Ok((copy, Done::Already(record))) => {
                            println!(
                                "已签发过 (already issued): {} ({})，内容相同，未重复签发 \
                                 (same content; not issued again)",
                                record.number,
                                files[printed].display()
                            );
                            match copy {
                                Ok(path) => {
                                    println!("文件 (file):            {}", path.display())
                                }
                                Err(e) => eprintln!(
                                    "错误 (error): {}: {}",
                                    files[printed].display(),
                                    copy_not_written(&record.number, e)
                                ),
                            }
                        }
                        Err(e) => {
                            eprintln!("错误 (error): {}: {e:#}", files[printed].display());
                        }
                    }
                });
                match &result {
                    Err(_) => failed += 1,
                    Ok((copy, done)) => {
                        if let Done::Already(r) = done {
                            already.push(r.number.clone());
                        }
                        if copy.is_err() {
                            uncopied.push(done.number().to_owned());
                        }
                    }
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
        if !already.is_empty() {
            println!(
                "\n{}/{} 份此前已签发，内容相同，未重复签发 (already issued with the same content; \
                 not issued again): {}",
                already.len(),
                files.len(),
                already.join(" ")
            );
        }
        let stored = files.len() - failed;
        let uncopied_text = if uncopied.is_empty() {
            String::new()
        } else {
            format!(
                "；{} 份已签发并存储但副本未能写出，取回：ecert export {} -o DIR \
                 ({} issued and stored whose copies could not be written; get them with `ecert export`)",
                uncopied.len(),
                uncopied.join(" "),
                uncopied.len()
            )
        };
        if failed > 0 {
            bail!(
                "{failed}/{} 份未签发 (not issued)；{stored}/{} 份已签发并存储 (issued and stored){uncopied_text}",
                files.len(),
                files.len()
            );
        }
        if !uncopied.is_empty() {
            bail!(
                "{stored}/{} 份已签发并存储 (issued and stored){uncopied_text}",
                files.len()
            );
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

/// What became of one content file of a batch that was issued or stored.
enum Done {
    /// Issued now.
    Issued(Issued),
    /// Its number was issued before from the same content (a batch run again after a crash):
    /// nothing issued, the stored file copied.
    Already(ecert_store::CertificateRecord),
}

impl Done {
    fn number(&self) -> &str {
        match self {
            Done::Issued(i) => &i.record.number,
            Done::Already(r) => &r.number,
        }
    }
}

/// Issues the certificate whose content is in `file` and writes a copy into `out`: the outer
/// error is a certificate not issued, the inner one a copy not written of one issued and stored.
/// A number issued before from the same content (the SM3 recorded at issue) is not a failure:
/// its stored file is written to `out` as `ecert export` would; from other content it is one,
/// naming what differs.
async fn issue_one(
    instance: &Instance,
    file: &Path,
    template: &Option<ecert_layout::Template>,
    out: &Path,
) -> anyhow::Result<(anyhow::Result<PathBuf>, Done)> {
    let content = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取 {} (cannot read)", file.display()))?;
    let result = match template {
        Some(t) => {
            instance
                .issue_with_template(&content, &super::local_actor(), t)
                .await
        }
        None => instance.issue(&content, &super::local_actor()).await,
    };
    let taken = match result {
        Ok(issued) => {
            let copy = write_copy(out, &issued.record.file_name, &issued.file);
            return Ok((copy, Done::Issued(issued)));
        }
        Err(e @ service::Error::NumberTaken { .. }) => e,
        Err(e) => return Err(e.into()),
    };
    match instance.already_issued(&content).await? {
        Some(service::AlreadyIssued::Same(record)) => {
            let copy =
                super::export::export_one(instance, &record.number, out, "ecert issue").await;
            Ok((copy, Done::Already(record)))
        }
        Some(service::AlreadyIssued::Different { record, difference }) => bail!(
            "证书编号 {} 已签发，{difference} (number {} already issued with other content)",
            record.number,
            record.number
        ),
        None => Err(taken.into()),
    }
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
            .issue_ofd_at(&bytes, &content, &super::local_actor(), placement)
            .await
            .with_context(|| format!("{} 未签发 (not issued)", ofd.display()))?;
        report_issued(&args.out, &issued)
    })
}

/// Runs `ecert revise`.
pub fn revise(dir: &Path, args: &ReviseArgs) -> anyhow::Result<()> {
    let content = std::fs::read_to_string(&args.content)
        .with_context(|| format!("无法读取 {} (cannot read)", args.content.display()))?;
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let issued = instance
            .revise(&args.old_number, &content, &super::local_actor())
            .await?;
        let copy = write_copy(&args.out, &issued.record.file_name, &issued.file);
        print_issued(&copy, &issued);
        println!(
            "原证书 {}: {}",
            args.old_number,
            service::revised_message(&issued.record.number)
        );
        if let Err(e) = copy {
            bail!("{}", copy_not_written(&issued.record.number, &e));
        }
        Ok(())
    })
}

/// Runs `ecert show`: a certificate by number or identifier, else a supplement by its number;
/// with the verification URL its code holds and its check code.
pub fn show(dir: &Path, args: &ShowArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let view = match instance.status_of(&args.what).await {
            Ok(view) => view,
            Err(service::Error::NotFound { .. }) => {
                return show_supplement(&instance, &args.what, args.json).await;
            }
            Err(e) => return Err(e.into()),
        };
        let c = &view.certificate;
        // The check code as printed on page 1 (`XXXX-XXXX`).
        let check_code = ecert::domain::CheckCode::parse(&c.check_code)
            .map_or_else(|| c.check_code.clone(), |code| code.to_string());
        let url = if c.status == ecert_store::CertificateStatus::Disposed {
            None
        } else {
            instance
                .file(service::StoredFile::Certificate(c))
                .await
                .ok()
                .and_then(|f| ecert::service::code_text(&f))
        };
        if args.json {
            let supplements: Vec<serde_json::Value> =
                if c.status == ecert_store::CertificateStatus::Disposed {
                    Vec::new()
                } else {
                    view.supplements
                        .iter()
                        .map(|s| {
                            serde_json::json!({
                                "number": s.number,
                                "fileName": s.file_name,
                                "fileSize": s.file_size,
                                "fileSm3": ecert_store::hex(&s.file_sm3),
                            })
                        })
                        .collect()
                };
            let value = serde_json::json!({
                "kind": "certificate",
                "number": c.number,
                "identifier": c.identifier,
                "status": c.status.as_str(),
                "customer": c.customer_name,
                "instrument": c.instrument_name,
                "serialNumber": c.serial_number,
                "issueDate": c.issue_date,
                "checkCode": check_code,
                "verifyUrl": url,
                "fileName": c.file_name,
                "fileSize": c.file_size,
                "fileSm3": ecert_store::hex(&c.file_sm3),
                "notices": service::status_messages(&view),
                "replacedBy": view.replaced_by.as_ref().map(|r| r.number.clone()),
                "supplements": supplements,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
            return Ok(());
        }
        println!("证书编号 (number):      {}", c.number);
        println!("电子证书标识 (identifier): {}", c.identifier);
        println!("状态 (status):          {}", c.status.as_str());
        println!("委托方 (customer):      {}", c.customer_name);
        println!(
            "器具 (instrument):      {} {}",
            c.instrument_name, c.serial_number
        );
        println!("签发日期 (issued):      {}", c.issue_date);
        println!("校验码 (check code):    {check_code}");
        if let Some(url) = &url {
            println!("验证网址 (verify URL):  {url}");
        }
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

/// `ecert show SUPPLEMENT_NUMBER`: the supplement, its own verification URL, and the
/// certificate it belongs to.
async fn show_supplement(instance: &Instance, number: &str, json: bool) -> anyhow::Result<()> {
    let (s, c) = instance
        .find_supplement(number)
        .await
        .map_err(|e| match e {
            // Neither a certificate nor a supplement: said as before, of the certificate.
            service::Error::NotFound { .. } => anyhow::Error::new(service::Error::NotFound {
                what: service::Record::Certificate,
                key: number.to_owned(),
            }),
            e => e.into(),
        })?;
    let url = if c.status == ecert_store::CertificateStatus::Disposed {
        None
    } else {
        instance
            .file(service::StoredFile::Supplement(&s))
            .await
            .ok()
            .and_then(|f| ecert::service::code_text(&f))
    };
    if json {
        let value = serde_json::json!({
            "kind": "supplement",
            "number": s.number,
            "certificate": c.number,
            "certificateIdentifier": c.identifier,
            "certificateStatus": c.status.as_str(),
            "verifyUrl": url,
            "fileName": s.file_name,
            "fileSize": s.file_size,
            "fileSm3": ecert_store::hex(&s.file_sm3),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("补充文件编号 (supplement number): {}", s.number);
    println!(
        "原证书 (certificate):   {} {} ({})",
        c.number,
        c.identifier,
        c.status.as_str()
    );
    if let Some(url) = &url {
        println!("验证网址 (verify URL):  {url}");
    }
    println!(
        "文件 (file):            {} ({} bytes, SM3 {})",
        s.file_name,
        s.file_size,
        ecert_store::hex(&s.file_sm3)
    );
    Ok(())
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
