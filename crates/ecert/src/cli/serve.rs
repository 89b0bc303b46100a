//! `ecert serve` and `ecert api-client`.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use ecert::service::Instance;
use ecert_store::ClientCredential;

/// `ecert serve [--listen ADDR]`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址，优先于 [server] listen 和 ECERT_LISTEN (address to listen on; overrides
    /// [server] listen and ECERT_LISTEN).
    #[arg(long)]
    pub listen: Option<String>,
}

/// `ecert api-client add NAME [--sm2-public-key FILE]`
#[derive(Debug, Args)]
pub struct ApiClientAddArgs {
    /// 客户端名称（其 X-Ecert-Client 请求头）(the client's name, its X-Ecert-Client header).
    pub name: String,
    /// 客户端的 SM2 公钥（PEM “PUBLIC KEY” 或 DER）：请求用客户端自己的私钥签名，而不用共享密钥
    /// (the client's SM2 public key, PEM or DER SubjectPublicKeyInfo: requests are signed with
    /// the client's own private key instead of a shared secret; docs/serve.md)
    #[arg(long, value_name = "FILE")]
    pub sm2_public_key: Option<std::path::PathBuf>,
}

/// The SubjectPublicKeyInfo DER in `bytes` (PEM "PUBLIC KEY" or DER), checked to be an SM2 key.
fn sm2_public_key(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            let body = text
                .split("-----BEGIN PUBLIC KEY-----")
                .nth(1)
                .and_then(|rest| rest.split("-----END PUBLIC KEY-----").next())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "PEM 文件中没有 PUBLIC KEY (no \"PUBLIC KEY\" block; export it with \
                         openssl pkey -in key.pem -pubout)"
                    )
                })?;
            let b64: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| anyhow::anyhow!("PEM 内容无效 (invalid PEM body): {e}"))?
        }
        _ => bytes.to_vec(),
    };
    ses::sm::check_spki_der(&der)
        .map_err(|e| anyhow::anyhow!("不是 SM2 公钥 (not an SM2 public key): {e}"))?;
    Ok(der)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio")
}

/// Runs `ecert serve`.
pub fn serve(dir: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    Ok(runtime()?.block_on(ecert::web::run(dir, args.listen.as_deref()))?)
}

/// Runs `ecert api-client add`: a new client with a random secret, printed once, or with the
/// client's SM2 public key.
pub fn api_client_add(dir: &Path, args: &ApiClientAddArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.sm2_public_key {
        let bytes = std::fs::read(path)
            .with_context(|| format!("无法读取 {} (cannot read)", path.display()))?;
        let spki = sm2_public_key(&bytes)?;
        return runtime()?.block_on(async {
            let instance = Instance::open(dir).await?;
            let client = instance
                .add_api_client(&args.name, ClientCredential::PublicKey(&spki), &super::local_actor())
                .await?;
            println!(
                "已创建接口客户端 (API client created): {}，用 SM2 私钥签名请求 (signs requests with its SM2 key, {})",
                client.name,
                ecert::web::auth::SCHEME_SM2
            );
            Ok(())
        });
    }
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let (client, secret) = instance
            .add_api_client_with_new_secret(&args.name, &super::local_actor())
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
    /// 客户端名称 (the client's name).
    pub name: String,
    /// 操作人（记入审计日志）(who does it; recorded in the audit log).
    #[arg(long)]
    pub by: String,
}

/// Runs `ecert api-client list`.
pub fn api_client_list(dir: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        for c in instance.api_clients().await? {
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
            .set_api_client_enabled(&args.name, enabled, &super::named_actor(&args.by))
            .await?;
        if enabled {
            println!("已启用接口客户端 (API client enabled): {}", client.name);
        } else {
            println!("已停用接口客户端 (API client disabled): {}", client.name);
        }
        Ok(())
    })
}
