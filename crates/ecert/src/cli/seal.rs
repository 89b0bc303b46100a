//! `ecert seal create`: a seal in the library from the institute's own keys,
//! certificates and picture; `ecert seal retire`: a seal taken out of use.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use ecert::seal_image::SealKind;
use ecert::service::{Instance, SealRequest};

/// `ecert seal create …`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// 印章类别 (kind): 检定 | 校准 | 检验 | 检测.
    #[arg(long)]
    pub kind: String,
    /// 印章名称，须含“电子证书专用章” (title, e.g. 示例计量院校准电子证书专用章; ).
    #[arg(long)]
    pub title: String,
    /// 签章人的 PKCS#12 文件（私钥和证书）(the signer's PKCS#12 file: key and certificate).
    #[arg(long, conflicts_with_all = ["key", "cert"])]
    pub p12: Option<PathBuf>,
    /// 存放 PKCS#12（或 PEM 私钥）密码的环境变量名 (environment variable holding the password).
    #[arg(long)]
    pub password_env: Option<String>,
    /// 签章人私钥（PEM，PKCS#8；给出 --password-env 时为加密私钥）(the signer's private key,
    /// PEM PKCS#8; encrypted when --password-env is given).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// 签章人证书（PEM 或 DER），须能链接到 [server] trust_roots (the signer's certificate, PEM
    /// or DER; must chain to one of [server] trust_roots).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// 制章者的 PKCS#12 文件 (the seal maker's PKCS#12 file).
    #[arg(long, conflicts_with_all = ["maker_key", "maker_cert"])]
    pub maker_p12: Option<PathBuf>,
    /// 存放制章者密码的环境变量名 (environment variable with the maker's password).
    #[arg(long)]
    pub maker_password_env: Option<String>,
    /// 制章者私钥（PEM）(the seal maker's private key, PEM).
    #[arg(long, requires = "maker_cert")]
    pub maker_key: Option<PathBuf>,
    /// 制章者证书（PEM 或 DER）(the seal maker's certificate, PEM or DER).
    #[arg(long, requires = "maker_key")]
    pub maker_cert: Option<PathBuf>,
    /// 本机构的印章图片（PNG）；不给则绘制圆形红章 (the institute's own seal picture, PNG;
    /// without it the round red seal is drawn).
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// 印章打印尺寸（毫米）(printed size in mm).
    #[arg(long, default_value_t = 42)]
    pub size_mm: u32,
    /// 有效天数，不超过证书的有效期 (validity in days, never beyond the certificates').
    #[arg(long, default_value_t = 1096)]
    pub valid_days: u32,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("无法读取 {} (cannot read)", path.display()))
}

fn password(var: Option<&str>) -> anyhow::Result<Option<String>> {
    match var {
        None => Ok(None),
        Some(v) => std::env::var(v)
            .map(Some)
            .map_err(|_| anyhow!("环境变量 {v} 未设置 (the password variable {v} is not set)")),
    }
}

/// Loads a key + certificate from a PKCS#12 file or a PEM pair
/// ([`ecert::service::load_certified_key`]: clear errors for a wrong password and a key that
/// does not belong to the certificate).
fn load(
    who: &str,
    p12: Option<&Path>,
    key: Option<&Path>,
    cert: Option<&Path>,
    password_var: Option<&str>,
) -> anyhow::Result<Option<ses::sm::CertifiedKey>> {
    let pw = password(password_var)?;
    let p12 = p12.map(read).transpose()?;
    let key = key.map(read).transpose()?;
    let cert = cert.map(read).transpose()?;
    ecert::service::load_certified_key(
        who,
        &ecert::service::KeyMaterial {
            p12: p12.as_deref(),
            key_pem: key.as_deref(),
            cert: cert.as_deref(),
            password: pw.as_deref(),
        },
    )
    .map_err(|e| anyhow!(e))
}

fn kind(text: &str) -> anyhow::Result<SealKind> {
    Ok(match text {
        "检定" | "verification" => SealKind::Verification,
        "校准" | "calibration" => SealKind::Calibration,
        "检验" | "inspection" => SealKind::Inspection,
        "检测" | "testing" => SealKind::Testing,
        other => bail!("印章类别“{other}”无效，应为 检定|校准|检验|检测 (unknown seal kind)"),
    })
}

/// Runs `ecert seal create`.
pub fn create(dir: &Path, args: &CreateArgs) -> anyhow::Result<()> {
    let kind = kind(&args.kind)?;
    // before anything else is read.
    ecert::seal_image::check_title(&args.title)?;
    let signer = load(
        "签章人",
        args.p12.as_deref(),
        args.key.as_deref(),
        args.cert.as_deref(),
        args.password_env.as_deref(),
    )?
    .ok_or_else(|| {
        anyhow!("需要签章人的私钥和证书：--p12 FILE --password-env VAR 或 --key KEY.pem --cert CERT.pem (signer key and certificate required)")
    })?;
    let maker = load(
        "制章者",
        args.maker_p12.as_deref(),
        args.maker_key.as_deref(),
        args.maker_cert.as_deref(),
        args.maker_password_env.as_deref(),
    )?;
    let image = args.image.as_deref().map(read).transpose()?;
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let seal = instance
            .create_seal(
                SealRequest {
                    kind,
                    title: args.title.clone(),
                    signer,
                    maker,
                    image,
                    size_mm: args.size_mm,
                    valid_days: args.valid_days,
                },
                &super::local_actor(),
            )
            .await?;
        println!(
            "已创建印章 (seal created): {}  {}  {}",
            seal.id, seal.kind, seal.name
        );
        Ok(())
    })
}

/// `ecert seal retire ID --by NAME`
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// 印章 ID（ecert seal list 的第一列）(the seal's id, first column of ecert seal list).
    pub id: String,
    /// 停用人（记入审计日志，R-7.2.2b）(who retires it; recorded in the audit log).
    #[arg(long)]
    pub by: String,
}

/// Runs `ecert seal retire`: the seal is kept (certificates it sealed still verify) but never
/// used again; the next certificate of its kind takes the newest active seal of that kind or
/// is refused.
pub fn retire(dir: &Path, args: &RetireArgs) -> anyhow::Result<()> {
    if args.by.trim().is_empty() {
        bail!("--by 不能为空 (who retires the seal must be named)");
    }
    crate::cli::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let seal = instance
            .retire_seal(&args.id, &super::named_actor(&args.by))
            .await?;
        println!(
            "已停用印章 (seal retired): {}  {}  {}",
            seal.id, seal.kind, seal.name
        );
        Ok(())
    })
}
