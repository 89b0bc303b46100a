//! `ecert customer bind NUMBER [--mobile M] [--email E] [--uscc U] [--download-password-file F]`:
//! binds a certificate (one issued before bindings existed, or one whose customer changed) to
//! its customer for the portal and to a preset download password (R-6.2f).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ecert::service::{BindRequest, Instance};
use zeroize::Zeroizing;

/// `ecert customer bind`
#[derive(Debug, Args)]
pub struct BindArgs {
    /// 证书编号（补充文件编号则绑定其原证书）(certificate number; a supplement's number binds
    /// its original).
    pub number: String,
    /// 客户手机号码 (the customer's mobile number).
    #[arg(long)]
    pub mobile: Option<String>,
    /// 客户电子邮箱 (the customer's e-mail address).
    #[arg(long)]
    pub email: Option<String>,
    /// 客户统一社会信用代码 (the customer's unified social credit code).
    #[arg(long)]
    pub uscc: Option<String>,
    /// 从此文件第一行读取预设下载密码，仅存其哈希 (read a preset download password from the
    /// first line of this file; only its argon2id hash is stored, R-6.2f).
    #[arg(long)]
    pub download_password_file: Option<PathBuf>,
}

/// Runs `ecert customer bind`.
pub fn bind(dir: &Path, args: &BindArgs) -> anyhow::Result<()> {
    let download_password = match &args.download_password_file {
        Some(path) => {
            let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("无法读取下载密码文件 {} (cannot read)", path.display())
            })?);
            let first = text.lines().next().unwrap_or_default().trim().to_owned();
            Some(Zeroizing::new(first))
        }
        None => None,
    };
    let req = BindRequest {
        uscc: args.uscc.clone(),
        mobile: args.mobile.clone(),
        email: args.email.clone(),
        download_password,
    };
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let b = instance
            .bind_customer(&args.number, req, &super::local_actor())
            .await?;
        let yes_no = |v: bool| if v { "是 (yes)" } else { "否 (no)" };
        println!("已绑定 (bound):             {}", args.number);
        println!(
            "统一社会信用代码 (USCC):    {}",
            yes_no(b.contact.uscc.is_some())
        );
        println!(
            "手机 (mobile):              {}",
            yes_no(b.contact.mobile.is_some())
        );
        println!(
            "电子邮箱 (e-mail):          {}",
            yes_no(b.contact.email.is_some())
        );
        println!(
            "下载密码 (download password): {}",
            yes_no(b.download_password_hash.is_some())
        );
        Ok(())
    })
}
