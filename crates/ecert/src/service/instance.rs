//! Creating and opening an instance; the trial seals of a demo instance (R-7.1d); lookups.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ecert_store::{
    CertificateRecord, CertificateStatus, MasterKey, NewSeal, Store, SupplementRecord,
};
use zeroize::Zeroizing;

use super::error::io;
use super::{
    Error, Instance, Record, Result, SEAL_FONT, TRIAL_CA_DIR, internal, random_hex, seal_kind_code,
};
use crate::config::{Config, ConfigError};
use crate::seal_image::{SealDesign, SealKind};

/// A trust root file as last read: path, modification time, size.
pub(crate) type RootStamp = (PathBuf, Option<std::time::SystemTime>, u64);

impl Instance {
    /// Creates a new instance in `dir` with `config` (folders, a new master key, database).
    pub async fn init(dir: &Path, config: Config) -> Result<Instance> {
        config.check()?;
        std::fs::create_dir_all(dir).map_err(io("无法创建目录", "cannot create", dir))?;
        if dir.join(crate::config::CONFIG_FILE).exists() {
            return Err(Error::InstanceExists {
                dir: dir.to_owned(),
            });
        }
        place_master_key(dir, &config, NewMasterKey::Generate)?;
        config.save(dir)?;
        Self::open(dir).await
    }

    /// Creates a new instance in `dir` from `config` (written to `ecert.toml` when `write`,
    /// else the file already there, written by hand) with its master key from `key`.
    pub async fn create(
        dir: &Path,
        config: Config,
        write: bool,
        key: NewMasterKey,
    ) -> Result<Instance> {
        config.check()?;
        std::fs::create_dir_all(dir).map_err(io("无法创建目录", "cannot create", dir))?;
        if write && dir.join(crate::config::CONFIG_FILE).exists() {
            return Err(Error::InstanceExists {
                dir: dir.to_owned(),
            });
        }
        place_master_key(dir, &config, key)?;
        if write {
            config.save(dir)?;
        }
        Self::open(dir).await
    }

    /// Opens the instance in `dir`.
    pub async fn open(dir: &Path) -> Result<Instance> {
        let config = Config::load(dir)?;
        let key_path = Config::resolve(dir, &config.storage.master_key_file);
        let key_hex = std::fs::read_to_string(&key_path).map_err(io(
            "无法读取主密钥",
            "cannot read the master key",
            &key_path,
        ))?;
        let master_key = MasterKey::from_hex(key_hex.trim())?;
        let replicas = config.storage.open_replicas(dir)?;
        if let Some(path) = config.database_url(dir).strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(file).parent() {
                std::fs::create_dir_all(parent).map_err(io(
                    "无法创建目录",
                    "cannot create",
                    parent,
                ))?;
            }
        }
        let mut store = Store::open(&config.database_url(dir), replicas).await?;
        store.check_master_key(&master_key).await?;
        super::audit::enable_audit_key(&mut store, &master_key).await?;
        let customer_keys = store.customer_keys(&master_key).await?;
        Ok(Instance {
            dir: dir.to_owned(),
            config,
            store,
            master_key,
            customer_keys,
            fonts: std::sync::Arc::new(ecert_layout::Fonts::builtin()),
            verify_options: Mutex::default(),
            sealers: Mutex::default(),
            clock: super::time::Clock::default(),
            audit_group: Default::default(),
        })
    }

    /// Demo only (R-7.1d): a trial CA, a seal maker, a signer, and one seal of each kind with a
    /// generated picture, stored in the seal library. Returns the trial root's PEM path.
    pub async fn create_trial_seals(&self) -> Result<PathBuf> {
        if !self.config.instance.demo {
            return Err(Error::DemoOnly { what: "试用 CA" });
        }
        let institute = &self.config.institute.name;
        let ca = ses::demo::DemoCa::new(institute).map_err(internal("试用 CA (trial CA)"))?;
        let maker = ca
            .issue("制章者 seal maker", ses::demo::Role::SealMaker, 3 * 366)
            .map_err(internal("试用 CA (trial CA)"))?;
        let signer = ca
            .issue("签章人 signer", ses::demo::Role::Signer, 3 * 366)
            .map_err(internal("试用 CA (trial CA)"))?;
        let ca_dir = self.dir.join(TRIAL_CA_DIR);
        std::fs::create_dir_all(&ca_dir).map_err(io("无法创建目录", "cannot create", &ca_dir))?;
        let root_pem = ca_dir.join("root.pem");
        let root = ca
            .root_cert()
            .map_err(internal("试用 CA (trial CA)"))?
            .to_pem();
        std::fs::write(&root_pem, root).map_err(io("无法写入", "cannot write", &root_pem))?;
        let readme = ca_dir.join("README.txt");
        std::fs::write(
            &readme,
            "试用 TEST — 本目录的根证书仅供演示，不具法律效力（R-7.1d）。验证演示证书：ecert verify --trust root.pem FILE.ofd\n\
             TRIAL ONLY — this root proves nothing. Verify demo certificates with: ecert verify --trust root.pem FILE.ofd\n",
        )
        .map_err(io("无法写入", "cannot write", &readme))?;
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
            )
            .map_err(internal("试用印章 (trial seal)"))?;
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
                        signer_key: Zeroizing::new(
                            signer
                                .key
                                .to_pkcs8_der()
                                .map_err(internal("试用签章人 (trial signer)"))?,
                        ),
                    },
                    &self.master_key,
                    "ecert init --demo",
                )
                .await?;
        }
        Ok(root_pem)
    }

    /// The trust root files of this instance: the configured ones (`[server] trust_roots` in
    /// `ecert.toml`) plus, on a demo instance, its trial root (`trial-ca/root.pem`, R-7.1d).
    fn trust_root_paths(&self) -> Vec<PathBuf> {
        Self::trust_root_files(&self.dir, &self.config)
    }

    /// The trust root files of the instance in `dir` with `config`, without opening it (for
    /// `ecert verify` inside an instance): `[server] trust_roots`, plus a demo's trial root.
    pub fn trust_root_files(dir: &Path, config: &Config) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = config
            .server
            .trust_roots
            .iter()
            .map(|p| Config::resolve(dir, p))
            .collect();
        let trial = dir.join(TRIAL_CA_DIR).join("root.pem");
        if config.instance.demo && trial.exists() && !paths.contains(&trial) {
            paths.push(trial);
        }
        paths
    }

    /// The verifier's settings for this instance: its trust roots — the configured ones
    /// (`[server] trust_roots` in `ecert.toml`) plus, on a demo instance, its trial root
    /// (`trial-ca/root.pem`, R-7.1d). Read again only when a root file or the list changed
    /// (a demo's trial root grows when a seal gets a trial maker).
    pub fn verify_options(&self) -> Result<Arc<ses::verify::VerifyOptions>> {
        let paths = self.trust_root_paths();
        let stamps: Vec<RootStamp> = paths
            .iter()
            .map(|p| {
                let meta = std::fs::metadata(p).ok();
                (
                    p.clone(),
                    meta.as_ref().and_then(|m| m.modified().ok()),
                    meta.map_or(0, |m| m.len()),
                )
            })
            .collect();
        if let Ok(cached) = self.verify_options.lock()
            && let Some((s, o)) = cached.as_ref()
            && *s == stamps
        {
            return Ok(o.clone());
        }
        let mut pems = Vec::new();
        for path in paths {
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                Error::Config(ConfigError::TrustRoot {
                    path: path.clone(),
                    problem: e.to_string(),
                })
            })?;
            // Each file on its own first, so that an error names it.
            ses::verify::VerifyOptions::with_roots_pem(std::slice::from_ref(&pem)).map_err(
                |e| {
                    Error::Config(ConfigError::TrustRoot {
                        path: path.clone(),
                        problem: e.to_string(),
                    })
                },
            )?;
            pems.push(pem);
        }
        let options = ses::verify::VerifyOptions::with_roots_pem(&pems)
            .map_err(internal("信任根 (trust roots)"))?;
        let options = Arc::new(options);
        if let Ok(mut cached) = self.verify_options.lock() {
            *cached = Some((stamps, options.clone()));
        }
        Ok(options)
    }

    /// The verifier's settings for the self-check after sealing: a certificate is
    /// stored only when our verifier PASSES it against the instance's own trust roots. An
    /// instance without any root (a real one whose `[server] trust_roots` is empty) cannot
    /// issue: [`Error::NoTrustRoots`], before any work.
    pub(crate) fn issuing_options(&self) -> Result<Arc<ses::verify::VerifyOptions>> {
        if self.trust_root_paths().is_empty() {
            return Err(Error::NoTrustRoots);
        }
        self.verify_options()
    }

    /// Refuses seal material whose certificate does not lead to one of the instance's trust
    /// roots (`[server] trust_roots`, and a demo's trial root): nothing such a seal sealed
    /// could pass the self-check after sealing. An instance without any root:
    /// [`Error::NoTrustRoots`].
    pub(crate) fn check_seal_chain(&self, cert: &ses::pki::Cert, role: &'static str) -> Result<()> {
        let options = self.issuing_options()?;
        let reason = match options.trust.validate(cert, &[], ses::pki::now()) {
            ses::pki::ChainStatus::Valid { .. } => return Ok(()),
            ses::pki::ChainStatus::NoRootConfigured => return Err(Error::NoTrustRoots),
            ses::pki::ChainStatus::NoPath { reason } => reason,
            ses::pki::ChainStatus::OutOfValidity {
                subject, not_after, ..
            } => format!("{subject} 不在有效期内 (not valid now; notAfter {not_after})"),
            ses::pki::ChainStatus::Revoked { subject, .. } => {
                format!("{subject} 已被吊销 (revoked)")
            }
        };
        Err(Error::SealMaterialUntrusted {
            role,
            subject: cert.subject(),
            reason,
        })
    }

    /// Refuses a certificate that is no longer current: revised (void, R-6.4.1) or disposed
    /// (R-6.5h); neither takes a revision or a supplement.
    pub(crate) async fn require_current(&self, c: &CertificateRecord) -> Result<()> {
        match c.status {
            CertificateStatus::Valid | CertificateStatus::Supplemented => Ok(()),
            CertificateStatus::Disposed => Err(Error::Disposed {
                number: c.number.clone(),
            }),
            CertificateStatus::Revised => {
                let view = self.store.status_view(c.clone()).await?;
                Err(Error::Revised {
                    number: c.number.clone(),
                    replaced_by: view.replaced_by.map(|r| r.number).unwrap_or_default(),
                })
            }
        }
    }

    /// The certificate with this number or identifier.
    pub async fn find_certificate(&self, what: &str) -> Result<CertificateRecord> {
        if let Some(r) = self.store.certificate_by_number(what).await? {
            return Ok(r);
        }
        self.store
            .certificate_by_identifier(what)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: Record::Certificate,
                key: what.to_owned(),
            })
    }

    /// The supplementary file with this number and the certificate it supplements.
    pub async fn find_supplement(
        &self,
        number: &str,
    ) -> Result<(SupplementRecord, CertificateRecord)> {
        let not_found = || Error::NotFound {
            what: Record::Supplement,
            key: number.to_owned(),
        };
        let supplement = self
            .store
            .supplement_by_number(number)
            .await?
            .ok_or_else(not_found)?;
        let certificate = self
            .store
            .certificate(&supplement.certificate_id)
            .await?
            .ok_or_else(not_found)?;
        Ok((supplement, certificate))
    }
}

/// Where a new instance's master key (the SM4 key that encrypts signer keys and API secrets
/// at rest, R-7.2.3d) comes from.
pub enum NewMasterKey {
    /// Generated now and written to `[storage] master_key_file`, readable by its owner only.
    Generate,
    /// Given by the administrator (e.g. from an environment variable, or a backup being
    /// restored), written to `[storage] master_key_file`, readable by its owner only.
    Given(MasterKey),
    /// Already at `[storage] master_key_file` (kept there by the administrator): only read.
    Existing,
}

/// Puts the master key where the configuration says; a key file already there is never
/// overwritten ([`Error::InstanceExists`]).
fn place_master_key(dir: &Path, config: &Config, key: NewMasterKey) -> Result<()> {
    let key_path = Config::resolve(dir, &config.storage.master_key_file);
    let key = match key {
        NewMasterKey::Existing => {
            let hex = std::fs::read_to_string(&key_path).map_err(io(
                "无法读取主密钥",
                "cannot read the master key",
                &key_path,
            ))?;
            MasterKey::from_hex(hex.trim())?;
            return Ok(());
        }
        NewMasterKey::Generate => MasterKey::generate()?,
        NewMasterKey::Given(key) => key,
    };
    if key_path.exists() {
        return Err(Error::InstanceExists {
            dir: dir.to_owned(),
        });
    }
    if let Some(parent) = key_path.parent() {
        std::fs::create_dir_all(parent).map_err(io("无法创建目录", "cannot create", parent))?;
    }
    write_secret(&key_path, &key.to_hex())
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
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
        .map_err(io("无法写入", "cannot write", path))?;
    f.write_all(text.as_bytes())
        .map_err(io("无法写入", "cannot write", path))
}
