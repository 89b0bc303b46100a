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
