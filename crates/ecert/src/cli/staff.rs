//! `ecert staff add NAME --role ROLE… --password-file F` and `ecert staff list`: the console's
//! staff accounts. The first administrator is made here; the command line keeps
//! working and its actions are recorded as `cli` in the audit chain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use ecert::service::Instance;
use ecert::service::staff::StaffRole;
use zeroize::Zeroizing;

/// `ecert staff add`
#[derive(Debug, Args)]
pub struct StaffAddArgs {
    /// 用户名（字母、数字、. - _）(login name: letters, digits, '.', '-', '_').
    pub name: String,
    /// 角色，可重复：operator 签发员、approver 批准人、seal_admin 印章管理员、auditor 审计员、admin
    /// 系统管理员 (role, repeatable: operator, approver, seal_admin, auditor, admin).
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// 从此文件第一行读取口令 (read the password from the first line of this file).
    #[arg(long)]
    pub password_file: PathBuf,
}

/// Runs `ecert staff add`.
pub fn add(dir: &Path, args: &StaffAddArgs) -> anyhow::Result<()> {
    let mut roles = Vec::new();
    for r in &args.roles {
        match StaffRole::parse(r) {
            Some(role) => roles.push(role),
            None => bail!(
                "未知角色 {r:?}，可选 operator、approver、seal_admin、auditor、admin (unknown role {r:?}; one of operator, approver, seal_admin, auditor, admin)"
            ),
        }
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(&args.password_file).with_context(|| {
            format!(
                "无法读取口令文件 {} (cannot read the password file)",
                args.password_file.display()
            )
        })?,
    );
    let password = Zeroizing::new(text.lines().next().unwrap_or_default().trim().to_owned());
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let made = instance
            .add_staff(&args.name, &roles, password, &super::local_actor())
            .await
            .map_err(|e| anyhow::anyhow!("{}", ecert::service::error_chain(&e)))?;
        println!("已添加员工账户 (staff account added): {}", made.account.name);
        let names: Vec<String> = roles
            .iter()
            .map(|r| format!("{} {}", r.zh(), r.name()))
            .collect();
        println!("角色 (roles): {}", names.join("、"));
        if let (Some(secret), Some(uri)) = (&made.totp_secret, &made.totp_uri) {
            println!(
                "动态口令密钥（仅显示这一次，请立即录入身份验证器应用）(TOTP secret, shown only now: add it to an authenticator app):"
            );
            println!("  {secret}");
            println!("  {uri}");
        }
        Ok(())
    })
}

/// Runs `ecert staff list`.
pub fn list(dir: &Path) -> anyhow::Result<()> {
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let staff = instance
            .staff_accounts(&super::local_actor())
            .await
            .map_err(|e| anyhow::anyhow!("{}", ecert::service::error_chain(&e)))?;
        if staff.is_empty() {
            println!("尚无员工账户 (no staff accounts): ecert staff add NAME --role admin --password-file F");
        }
        for s in staff {
            let roles: Vec<String> = s
                .roles
                .iter()
                .map(|r| {
                    StaffRole::parse(r)
                        .map_or_else(|| r.clone(), |x| format!("{} {}", x.zh(), x.name()))
                })
                .collect();
            println!(
                "{}\t{}\t{}{}",
                s.name,
                roles.join("、"),
                if s.active { "启用 (active)" } else { "停用 (disabled)" },
                if s.has_totp { "\t动态口令 (TOTP)" } else { "" }
            );
        }
        Ok(())
    })
}
