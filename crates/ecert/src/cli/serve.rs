//! `ecert serve` (issue 6) and `ecert api-client`.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use ecert::service::Instance;
use ecert_store::ClientCredential;

/// `ecert serve [--listen ADDR]`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `[server] listen` and `ECERT_LISTEN`).
    #[arg(long)]
    pub listen: Option<String>,
}

/// `ecert api-client add NAME`
#[derive(Debug, Args)]
pub struct ApiClientAddArgs {
    /// The client's name (its `X-Ecert-Client` header).
    pub name: String,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio")
}

/// Runs `ecert serve`.
pub fn serve(dir: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    runtime()?.block_on(ecert::web::run(dir, args.listen.as_deref()))
}

/// Runs `ecert api-client add`: a new client with a random secret, printed once.
pub fn api_client_add(dir: &Path, args: &ApiClientAddArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let master = ecert::web::load_master_key(&instance)?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw)
            .map_err(|e| anyhow::anyhow!("系统随机数不可用 (random source failed): {e}"))?;
        let secret = zeroize::Zeroizing::new(format!("ecs_{}", ecert_store::hex(&raw)));
        raw.fill(0);
        let client = instance
            .store
            .add_api_client(
                &args.name,
                ClientCredential::SharedSecret(secret.as_bytes()),
                Some(&master),
                "cli",
            )
            .await?;
        println!("已创建接口客户端 (API client created): {}", client.name);
        println!("密钥只显示这一次，请妥善保存 (the secret is shown only once):");
        println!("{}", secret.as_str());
        Ok(())
    })
}

/// `ecert api-client disable|enable NAME --by WHO`
#[derive(Debug, Args)]
pub struct ApiClientSwitchArgs {
    /// The client's name.
    pub name: String,
    /// Who does it (recorded in the audit log).
    #[arg(long)]
    pub by: String,
}

/// Runs `ecert api-client list`.
pub fn api_client_list(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        for c in instance.store.api_clients().await? {
            let state = if c.enabled {
                "启用 (enabled)"
            } else {
                "停用 (disabled)"
            };
            println!("{}  {state}", c.name);
        }
        Ok(())
    })
}

/// Runs `ecert api-client disable|enable`: takes effect on the next request (the server
/// reads the client on every request).
pub fn api_client_switch(
    dir: &Path,
    args: &ApiClientSwitchArgs,
    enabled: bool,
) -> anyhow::Result<()> {
    if args.by.trim().is_empty() {
        anyhow::bail!("--by 不能为空 (who does it must be named)");
    }
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let client = instance
            .store
            .api_client_by_name(&args.name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("没有接口客户端 {} (no such API client)", args.name))?;
        instance
            .store
            .set_api_client_enabled(&client.id, enabled, args.by.trim())
            .await?;
        if enabled {
            println!("已启用接口客户端 (API client enabled): {}", client.name);
        } else {
            println!("已停用接口客户端 (API client disabled): {}", client.name);
        }
        Ok(())
    })
}
