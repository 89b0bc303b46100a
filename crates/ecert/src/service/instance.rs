//! Creating and opening an instance; the trial seals of a demo instance (R-7.1d); lookups.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};
use ecert_store::{CertificateRecord, MasterKey, NewSeal, Replica, Store};
use zeroize::Zeroizing;

use super::{Instance, SEAL_FONT, TRIAL_CA_DIR, random_hex, seal_kind_code};
use crate::config::Config;
use crate::seal_image::{SealDesign, SealKind};

impl Instance {
    /// Creates a new instance in `dir` with `config` (folders, master key, database).
    pub async fn init(dir: &Path, config: Config) -> anyhow::Result<Instance> {
        config.check()?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("无法创建目录 {} (cannot create)", dir.display()))?;
        if dir.join(crate::config::CONFIG_FILE).exists() {
            bail!(
                "{} 中已有实例 (an instance already exists there)",
                dir.display()
            );
        }
        let key_path = Config::resolve(dir, &config.storage.master_key_file);
        if let Some(parent) = key_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let key = MasterKey::generate()?;
        write_secret(&key_path, &key.to_hex())?;
        config.save(dir)?;
        Self::open(dir).await
    }

    /// Opens the instance in `dir`.
    pub async fn open(dir: &Path) -> anyhow::Result<Instance> {
        let config = Config::load(dir)?;
        let key_path = Config::resolve(dir, &config.storage.master_key_file);
        let key_hex = std::fs::read_to_string(&key_path).with_context(|| {
            format!(
                "无法读取主密钥 {} (cannot read the master key)",
                key_path.display()
            )
        })?;
        let master_key = MasterKey::from_hex(key_hex.trim())?;
        let mut replicas = Vec::new();
        for (i, path) in config.storage.replicas.iter().enumerate() {
            let full = Config::resolve(dir, path);
            std::fs::create_dir_all(&full)?;
            replicas.push(Replica::local(format!("replica-{}", i + 1), &full)?);
        }
        if let Some(path) = config.database_url(dir).strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(file).parent() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let store = Store::open(&config.database_url(dir), replicas).await?;
        store.check_master_key(&master_key).await?;
        Ok(Instance {
            dir: dir.to_owned(),
            config,
            store,
            master_key,
            fonts: std::sync::Arc::new(ecert_layout::Fonts::builtin()),
            sealers: Mutex::default(),
        })
    }

    /// Demo only (R-7.1d): a trial CA, a seal maker, a signer, and one seal of each kind with a
    /// generated picture, stored in the seal library. Returns the trial root's PEM path.
    pub async fn create_trial_seals(&self) -> anyhow::Result<PathBuf> {
        if !self.config.instance.demo {
            bail!("试用 CA 仅限演示模式 (the trial CA is for demo instances only, R-7.1d)");
        }
        let institute = &self.config.institute.name;
        let ca = ses::demo::DemoCa::new(institute)?;
        let maker = ca.issue("制章者 seal maker", ses::demo::Role::SealMaker, 3 * 366)?;
        let signer = ca.issue("签章人 signer", ses::demo::Role::Signer, 3 * 366)?;
        let ca_dir = self.dir.join(TRIAL_CA_DIR);
        std::fs::create_dir_all(&ca_dir)?;
        let root_pem = ca_dir.join("root.pem");
        std::fs::write(&root_pem, ca.root_cert()?.to_pem())?;
        std::fs::write(
            ca_dir.join("README.txt"),
            "试用 TEST — 本目录的根证书仅供演示，不具法律效力（R-7.1d）。验证演示证书：ecert verify --trust root.pem FILE.ofd\n\
             TRIAL ONLY — this root proves nothing. Verify demo certificates with: ecert verify --trust root.pem FILE.ofd\n",
        )?;
        let now = ses::pki::now();
        for kind in SealKind::ALL {
            let design = SealDesign::new(institute, kind);
            let png = design.png(SEAL_FONT, 12.0)?;
            let name = ses::demo::mark(&format!("{institute}{}", kind.title()));
            let picture = ses::seal::Picture {
                format: ses::seal::PictureFormat::Png,
                data: png.clone(),
                width_mm: 42,
                height_mm: 42,
            };
            let seal_der = ses::seal::make_seal(
                &ses::seal::SealParams {
                    vid: "ecert".into(),
                    es_id: format!("TEST-{kind:?}-{}", random_hex(6)?),
                    seal_type: 1,
                    name: name.clone(),
                    signer_certs: vec![signer.cert_der.clone()],
                    created: now,
                    valid_start: now - 3600,
                    valid_end: now + 3 * 366 * 86_400,
                    picture,
                },
                &maker,
            )?;
            self.store
                .add_seal(
                    &NewSeal {
                        name,
                        kind: seal_kind_code(kind).into(),
                        image: png,
                        image_format: "png".into(),
                        seal_der: Some(seal_der),
                        maker_cert_der: maker.cert_der.clone(),
                        signer_cert_der: signer.cert_der.clone(),
                        signer_key: Zeroizing::new(signer.key.to_pkcs8_der()?),
                    },
                    &self.master_key,
                    "ecert init --demo",
                )
                .await?;
        }
        Ok(root_pem)
    }

    /// The certificate with this number or identifier.
    pub async fn find_certificate(&self, what: &str) -> anyhow::Result<CertificateRecord> {
        if let Some(r) = self.store.certificate_by_number(what).await? {
            return Ok(r);
        }
        self.store
            .certificate_by_identifier(what)
            .await?
            .ok_or_else(|| anyhow!("找不到证书 {what} (no such certificate)"))
    }
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("无法写入 {} (cannot write)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
