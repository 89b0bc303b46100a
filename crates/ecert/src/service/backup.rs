//! Offline backups and restore (R-6.5, R-6.5b: the offline copy of 3-2-1).
//!
//! A backup folder holds content-addressed files and signed manifests:
//! ```text
//! DIR/objects/ab/ab12…ef      every file once, named by its SM3 (so a second backup into the
//!                             same folder copies only what is new)
//! DIR/manifests/<ms>.json     one per backup: every file of the instance (logical path, SM3,
//!                             size), the previous manifest (name and SM3), signed with the
//!                             instance's SM2 checkpoint key
//! ```
//! The files: the database (SQLite: an online `VACUUM INTO` copy; PostgreSQL: `pg_dump
//! --format=custom`), every certificate and supplement file (`blobs/<key>`), `ecert.toml`, the
//! trust roots and a demo's trial CA, and the audit checkpoints. The master key is not in it:
//! it is kept apart (docs/setup.md, key custody) and given to `ecert restore`.
//!
//! Objects are written to a temporary name and renamed, the manifest last (also by rename): a
//! backup killed half-way leaves only unreferenced objects, and the previous manifest stays the
//! newest and valid.

use std::path::{Path, PathBuf};

use ecert_store::{hex, parse_hex, sm3};
use serde::{Deserialize, Serialize};

use super::error::{bug, io};
use super::{Actor, Error, Instance, Result, StaffRole, TRIAL_CA_DIR};
use crate::config::Config;

/// `format` of a manifest.
pub const MANIFEST_FORMAT: &str = "ecert-backup/1";
/// Logical path of the database copy in a manifest.
const DB_SQLITE: &str = "database/ecert.sqlite";
/// Logical path of a PostgreSQL dump in a manifest.
const DB_PG_DUMP: &str = "database/ecert.pgdump";

/// One file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFile {
    /// Where it belongs: `database/…`, `blobs/<key>`, `config/ecert.toml`, `files/<path in the
    /// instance folder>`, `checkpoints/<name>`.
    pub path: String,
    /// SM3, hex (also its object's name).
    pub sm3: String,
    /// Size in bytes.
    pub size: u64,
}

/// The manifest before which this one was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousManifest {
    /// Its file name.
    pub name: String,
    /// SM3 of its bytes, hex.
    pub sm3: String,
}

/// A backup's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The instance's base URL.
    pub instance: String,
    /// When it was made (unix ms).
    pub created_ms: i64,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The audit chain's head when the database was copied.
    pub audit_seq: i64,
    /// The manifest before, if any.
    pub previous: Option<PreviousManifest>,
    /// Every file.
    pub files: Vec<BackupFile>,
    /// The signing key (SEC 1, hex): the instance's checkpoint key.
    pub public_key: String,
    /// SM2 signature (DER, hex) over the manifest with this field empty, as compact JSON.
    pub signature: String,
}

impl Manifest {
    /// The bytes the signature covers: the manifest as compact JSON with `signature` empty.
    fn signed_bytes(&self) -> Result<Vec<u8>> {
        let mut unsigned = self.clone();
        unsigned.signature = String::new();
        serde_json::to_vec(&unsigned).map_err(super::internal("备份清单 (backup manifest)"))
    }
}

/// What [`Instance::backup`] did.
#[derive(Debug, Clone)]
pub struct BackupDone {
    /// The manifest's file name.
    pub name: String,
    /// Files in it.
    pub files: usize,
    /// Objects written this time (the others were there already).
    pub new_objects: usize,
    /// Bytes written this time.
    pub new_bytes: u64,
    /// Bytes of all files.
    pub total_bytes: u64,
}

/// What is wrong with a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupProblem {
    /// No manifest in the folder.
    NoManifest,
    /// The manifest cannot be read.
    Unreadable(String),
    /// The manifest's signature fails.
    BadSignature(String),
    /// The manifest is signed with a key that is not this instance's.
    ForeignKey,
    /// A file is absent.
    Missing(String),
    /// A file's SM3 differs from the manifest's.
    Altered(String),
    /// The manifest before is absent or altered.
    BrokenChain(String),
}

impl std::fmt::Display for BackupProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupProblem::NoManifest => f.write_str("没有备份清单 (no manifest)"),
            BackupProblem::Unreadable(w) => write!(f, "清单无法读取 (manifest unreadable): {w}"),
            BackupProblem::BadSignature(w) => {
                write!(f, "清单签名无效 (manifest signature fails): {w}")
            }
            BackupProblem::ForeignKey => f.write_str(
                "清单不是用本实例的密钥签的 (manifest not signed with this instance's key)",
            ),
            BackupProblem::Missing(p) => write!(f, "文件缺失 (file missing): {p}"),
            BackupProblem::Altered(p) => {
                write!(f, "文件与清单的 SM3 不符 (file differs from its SM3): {p}")
            }
            BackupProblem::BrokenChain(w) => {
                write!(
                    f,
                    "上一份清单缺失或被改动 (previous manifest missing or altered): {w}"
                )
            }
        }
    }
}

/// The result of [`check_backup`].
#[derive(Debug, Clone)]
pub struct BackupCheck {
    /// The newest manifest's name.
    pub name: Option<String>,
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Everything wrong.
    pub problems: Vec<BackupProblem>,
}

fn object_path(dir: &Path, sm3_hex: &str) -> PathBuf {
    dir.join("objects")
        .join(sm3_hex.get(..2).unwrap_or("00"))
        .join(sm3_hex)
}

/// Writes `bytes` to `path` through a temporary file, synced, then renamed.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io("无法创建目录", "cannot create", parent))?;
    let tmp = parent.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(io("无法写入", "cannot write", &tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io("无法写入", "cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("无法写入", "cannot write", path))?;
    Ok(())
}

/// Stores `bytes` as an object (unless there already); returns (entry, newly written).
fn put_object(dir: &Path, path: String, bytes: &[u8]) -> Result<(BackupFile, bool)> {
    let digest = hex(&sm3(bytes));
    let obj = object_path(dir, &digest);
    // (an object of the right size is taken as there: `ecert backup verify` reads them all)
    let new = std::fs::metadata(&obj).map_or(true, |m| m.len() != bytes.len() as u64);
    if new {
        write_atomic(&obj, bytes)?;
    }
    Ok((
        BackupFile {
            path,
            sm3: digest,
            size: bytes.len() as u64,
        },
        new,
    ))
}

/// The entry of a stored file whose object the backup holds already (named by the recorded
/// SM3), without reading the file.
fn known_object(dir: &Path, key: &str, digest: &[u8]) -> Option<BackupFile> {
    let sm3_hex = hex(digest);
    let size = std::fs::metadata(object_path(dir, &sm3_hex)).ok()?.len();
    Some(BackupFile {
        path: format!("blobs/{key}"),
        sm3: sm3_hex,
        size,
    })
}

/// The manifests in `dir`, oldest first.
fn manifests(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("manifests"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Reads and checks the newest manifest in `dir` and every file it lists; `key` is the
/// instance's public key when known (then a manifest signed with another key is named).
pub fn check_backup(dir: &Path, key: Option<&[u8]>) -> BackupCheck {
    let mut check = BackupCheck {
        name: None,
        manifest: None,
        problems: Vec::new(),
    };
    let names = manifests(dir);
    let Some(name) = names.last().cloned() else {
        check.problems.push(BackupProblem::NoManifest);
        return check;
    };
    check.name = Some(name.clone());
    let bytes = match std::fs::read(dir.join("manifests").join(&name)) {
        Ok(b) => b,
        Err(e) => {
            check
                .problems
                .push(BackupProblem::Unreadable(e.to_string()));
            return check;
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            check
                .problems
                .push(BackupProblem::Unreadable(e.to_string()));
            return check;
        }
    };
    if manifest.format != MANIFEST_FORMAT {
        check.problems.push(BackupProblem::Unreadable(format!(
            "未知格式 (unknown format {:?})",
            manifest.format
        )));
        return check;
    }
    let public = parse_hex(&manifest.public_key).unwrap_or_default();
    if key.is_some_and(|k| k != public.as_slice()) {
        check.problems.push(BackupProblem::ForeignKey);
    }
    match (manifest.signed_bytes(), parse_hex(&manifest.signature)) {
        (Ok(msg), Some(sig)) => {
            if let Err(e) = ses::sm::verify_sec1(&public, &msg, &sig) {
                check
                    .problems
                    .push(BackupProblem::BadSignature(e.to_string()));
            }
        }
        _ => check.problems.push(BackupProblem::BadSignature(
            "签名不是十六进制 (not hex)".into(),
        )),
    }
    if let Some(prev) = &manifest.previous {
        match std::fs::read(dir.join("manifests").join(&prev.name)) {
            Ok(b) if hex(&sm3(&b)) == prev.sm3 => {}
            Ok(_) => check
                .problems
                .push(BackupProblem::BrokenChain(format!("{} (SM3)", prev.name))),
            Err(_) => check
                .problems
                .push(BackupProblem::BrokenChain(prev.name.clone())),
        }
    }
    for f in &manifest.files {
        match std::fs::read(object_path(dir, &f.sm3)) {
            Err(_) => check.problems.push(BackupProblem::Missing(f.path.clone())),
            Ok(b) if hex(&sm3(&b)) != f.sm3 => {
                check.problems.push(BackupProblem::Altered(f.path.clone()));
            }
            Ok(_) => {}
        }
    }
    check.manifest = Some(manifest);
    check
}

/// Reads an object of a checked backup.
fn read_object(dir: &Path, f: &BackupFile) -> Result<Vec<u8>> {
    let path = object_path(dir, &f.sm3);
    let bytes = std::fs::read(&path).map_err(io("无法读取", "cannot read", &path))?;
    if hex(&sm3(&bytes)) != f.sm3 {
        return Err(Error::Invalid {
            field: "backup",
            problem: format!("{} 与清单的 SM3 不符 (differs from its SM3)", f.path),
        });
    }
    Ok(bytes)
}

impl Instance {
    /// Writes an offline backup of the whole instance into `dir` (see the module docs);
    /// repeated into the same folder, only what is new is copied. Audited.
    pub async fn backup(&self, dir: &Path, actor: &Actor) -> Result<BackupDone> {
        self.authorize(actor, &[StaffRole::Admin], "备份 (backup)")
            .await?;
        let actor = actor.name.as_str();
        std::fs::create_dir_all(dir).map_err(io("无法创建目录", "cannot create", dir))?;
        let mut files = Vec::new();
        let mut new_objects = 0usize;
        let mut new_bytes = 0u64;
        // (tests: SIGKILL this process after that many new objects, to show that a backup
        // killed half-way leaves the previous one valid)
        let kill_after: Option<usize> = std::env::var("ECERT_TEST_KILL_BACKUP_AFTER")
            .ok()
            .and_then(|v| v.parse().ok());
        let mut add = |path: String, bytes: &[u8], files: &mut Vec<BackupFile>| -> Result<()> {
            let (entry, new) = put_object(dir, path, bytes)?;
            if new {
                new_objects += 1;
                new_bytes += entry.size;
                if kill_after == Some(new_objects) {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &std::process::id().to_string()])
                        .status();
                }
            }
            files.push(entry);
            Ok(())
        };
        // Files first (they never change once stored), then the database, then the files
        // issued meanwhile: every record in the database copy has its file in the backup.
        let mut copied = std::collections::HashSet::new();
        for (key, digest) in self.store.stored_files().await? {
            // A stored file never changes and its SM3 is recorded: when the backup holds an
            // object of that name already, it is not read again (`backup verify` checks them).
            if let Some(entry) = known_object(dir, &key, &digest) {
                files.push(entry);
            } else {
                let f = self.store.read_stored(&key, &digest).await?;
                add(format!("blobs/{key}"), &f.bytes, &mut files)?;
            }
            copied.insert(key);
        }
        let audit_seq = self.store.audit_head().await?.seq;
        let copy = dir.join(format!(".database-{}.tmp", super::random_hex(8)?));
        let dumped = match self.store.backend() {
            ecert_store::Backend::Sqlite => self
                .store
                .backup_sqlite(&copy)
                .await
                .map_err(Error::from)
                .map(|()| (DB_SQLITE, "sqlite")),
            ecert_store::Backend::Postgres => pg_dump(&self.config.database_url(&self.dir), &copy)
                .map(|()| (DB_PG_DUMP, "postgres")),
        };
        let read = dumped.and_then(|(path, kind)| {
            let bytes = std::fs::read(&copy).map_err(io("无法读取", "cannot read", &copy))?;
            Ok((path, kind, bytes))
        });
        let _ = std::fs::remove_file(&copy);
        let (db_path, database, db_bytes) = read?;
        add(db_path.to_owned(), &db_bytes, &mut files)?;
        drop(db_bytes);
        for (key, digest) in self.store.stored_files().await? {
            if !copied.contains(&key) {
                if let Some(entry) = known_object(dir, &key, &digest) {
                    files.push(entry);
                } else {
                    let f = self.store.read_stored(&key, &digest).await?;
                    add(format!("blobs/{key}"), &f.bytes, &mut files)?;
                }
            }
        }
        let config_path = self.dir.join(crate::config::CONFIG_FILE);
        let config_bytes =
            std::fs::read(&config_path).map_err(io("无法读取", "cannot read", &config_path))?;
        add("config/ecert.toml".to_owned(), &config_bytes, &mut files)?;
        for path in self.instance_files() {
            let rel = path
                .strip_prefix(&self.dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| path.to_string_lossy().into_owned());
            let bytes = std::fs::read(&path).map_err(io("无法读取", "cannot read", &path))?;
            add(format!("files/{rel}"), &bytes, &mut files)?;
        }
        for (replica, name, _) in self.store.list_checkpoints().await? {
            if files
                .iter()
                .any(|f| f.path == format!("checkpoints/{name}"))
            {
                continue;
            }
            let bytes = self.store.read_checkpoint(&replica, &name).await?;
            add(format!("checkpoints/{name}"), &bytes, &mut files)?;
        }
        let previous = manifests(dir).last().map(|name| {
            let bytes = std::fs::read(dir.join("manifests").join(name)).unwrap_or_default();
            PreviousManifest {
                name: name.clone(),
                sm3: hex(&sm3(&bytes)),
            }
        });
        let key = self.checkpoint_key().await?;
        let mut manifest = Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            instance: self.config.instance.base_url.clone(),
            created_ms: super::time::now_ms(),
            database: database.to_owned(),
            audit_seq,
            previous,
            files,
            public_key: hex(&key.public_key_sec1()),
            signature: String::new(),
        };
        let sig = key
            .sign_der(&manifest.signed_bytes()?)
            .map_err(super::internal("备份清单签名 (signing the manifest)"))?;
        manifest.signature = hex(&sig);
        let mut name = format!("{:013}.json", manifest.created_ms);
        if manifests(dir).iter().any(|n| *n >= name) {
            name = format!("{:013}.json", manifest.created_ms + 1);
        }
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(super::internal("备份清单 (backup manifest)"))?;
        write_atomic(&dir.join("manifests").join(&name), &json)?;
        let total_bytes = manifest.files.iter().map(|f| f.size).sum();
        self.store
            .set_setting(
                super::status::LAST_BACKUP_SETTING,
                &serde_json::json!({
                    "at_ms": manifest.created_ms,
                    "dir": dir.display().to_string(),
                    "manifest": name,
                })
                .to_string(),
            )
            .await?;
        self.audit(
            actor,
            "instance.backup",
            &dir.display().to_string(),
            &serde_json::json!({
                "manifest": name,
                "files": manifest.files.len(),
                "new_objects": new_objects,
                "new_bytes": new_bytes,
                "audit_seq": audit_seq,
            }),
        )
        .await?;
        Ok(BackupDone {
            name,
            files: manifest.files.len(),
            new_objects,
            new_bytes,
            total_bytes,
        })
    }

    /// The instance's own files that belong in a backup besides the configuration: the trust
    /// roots inside the instance folder and a demo's trial CA.
    fn instance_files(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .config
            .server
            .trust_roots
            .iter()
            .map(|p| Config::resolve(&self.dir, p))
            .filter(|p| p.starts_with(&self.dir) && p.is_file())
            .collect();
        if let Ok(entries) = std::fs::read_dir(self.dir.join(TRIAL_CA_DIR)) {
            out.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The public key that signs this instance's checkpoints and backup manifests (SEC 1).
    pub async fn signing_public_key(&self) -> Result<Vec<u8>> {
        Ok(self.checkpoint_key().await?.public_key_sec1())
    }
}

/// `pg_dump --format=custom` of `url` into `dest`.
fn pg_dump(url: &str, dest: &Path) -> Result<()> {
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(dest)
        .arg(url)
        .output()
        .map_err(|e| bug("pg_dump", format!("cannot run pg_dump: {e}")))?;
    if !out.status.success() {
        return Err(bug(
            "pg_dump",
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(())
}

/// Restores the newest backup in `backup` into a new instance folder `into` (SQLite backups;
/// a PostgreSQL dump is restored into `database_url`, an empty database). Checks the whole
/// backup first and writes nothing when anything is wrong. The instance's configuration is the
/// backed-up one with its storage in `into` (or `database_url`), and `master_key` (hex) is the
/// instance's master key, kept apart from backups. Returns the opened instance; the restore is
/// audited.
pub async fn restore(
    backup: &Path,
    into: &Path,
    master_key_hex: &str,
    database_url: Option<&str>,
    actor: &str,
) -> Result<Instance> {
    let check = check_backup(backup, None);
    if !check.problems.is_empty() {
        return Err(Error::Invalid {
            field: "backup",
            problem: check
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let (Some(manifest), Some(name)) = (check.manifest, check.name) else {
        return Err(Error::Invalid {
            field: "backup",
            problem: BackupProblem::NoManifest.to_string(),
        });
    };
    if into.exists()
        && std::fs::read_dir(into)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::InstanceExists {
            dir: into.to_owned(),
        });
    }
    if manifest.database == "postgres" && database_url.is_none() {
        return Err(Error::Invalid {
            field: "database",
            problem: "PostgreSQL 备份需要 --database URL（空数据库） (a PostgreSQL backup needs --database URL, an empty database)".into(),
        });
    }
    // Everything is checked: read what the instance needs.
    let find = |path: &str| manifest.files.iter().find(|f| f.path == path);
    let config_file = find("config/ecert.toml").ok_or_else(|| Error::Invalid {
        field: "backup",
        problem: "没有 config/ecert.toml (no configuration in the backup)".into(),
    })?;
    let text =
        String::from_utf8(read_object(backup, config_file)?).map_err(|_| Error::Invalid {
            field: "backup",
            problem: "ecert.toml 不是 UTF-8 (not UTF-8)".into(),
        })?;
    let mut config: Config = toml::from_str(&text).map_err(|e| Error::Invalid {
        field: "backup",
        problem: format!("ecert.toml: {e}"),
    })?;
    let key = ecert_store::MasterKey::from_hex(master_key_hex)?;
    std::fs::create_dir_all(into.join("data")).map_err(io(
        "无法创建目录",
        "cannot create",
        into,
    ))?;
    config.storage.replicas = (0..config.storage.replicas.len().max(1))
        .map(|i| PathBuf::from(format!("data/replica-{}", i + 1)))
        .collect();
    config.storage.master_key_file = PathBuf::from("data/master.key");
    match manifest.database.as_str() {
        "postgres" => {
            let url = database_url.unwrap_or_default();
            let dump = find(DB_PG_DUMP).ok_or_else(|| Error::Invalid {
                field: "backup",
                problem: "没有数据库转储 (no database dump)".into(),
            })?;
            let path = into.join("data/restore.pgdump");
            std::fs::write(&path, read_object(backup, dump)?).map_err(io(
                "无法写入",
                "cannot write",
                &path,
            ))?;
            let out = std::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", url])
                .arg(&path)
                .output()
                .map_err(|e| bug("pg_restore", format!("cannot run pg_restore: {e}")));
            let _ = std::fs::remove_file(&path);
            let out = out?;
            if !out.status.success() {
                return Err(bug(
                    "pg_restore",
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                ));
            }
            config.storage.database = url.to_owned();
        }
        _ => {
            let db = find(DB_SQLITE).ok_or_else(|| Error::Invalid {
                field: "backup",
                problem: "没有数据库副本 (no database copy)".into(),
            })?;
            let path = into.join("data/ecert.db");
            write_atomic(&path, &read_object(backup, db)?)?;
            config.storage.database = "sqlite://data/ecert.db".into();
        }
    }
    let key_path = into.join("data/master.key");
    write_atomic(&key_path, key.to_hex().as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).map_err(io(
            "无法写入",
            "cannot write",
            &key_path,
        ))?;
    }
    for f in &manifest.files {
        if let Some(rel) = f.path.strip_prefix("files/") {
            if rel.split('/').any(|p| p == ".." || p.is_empty()) || rel.starts_with('/') {
                return Err(Error::Invalid {
                    field: "backup",
                    problem: format!("不安全的路径 (unsafe path) {}", f.path),
                });
            }
            write_atomic(&into.join(rel), &read_object(backup, f)?)?;
        }
    }
    config.save(into)?;
    let instance = Instance::open(into).await?;
    for f in &manifest.files {
        if let Some(key) = f.path.strip_prefix("blobs/") {
            instance
                .store
                .put_stored(key, read_object(backup, f)?.into())
                .await?;
        } else if let Some(name) = f.path.strip_prefix("checkpoints/") {
            instance
                .store
                .put_checkpoint(name, read_object(backup, f)?.into())
                .await?;
        }
    }
    instance
        .audit(
            actor,
            "instance.restore",
            &backup.display().to_string(),
            &serde_json::json!({
                "manifest": name,
                "created_ms": manifest.created_ms,
                "files": manifest.files.len(),
                "audit_seq": manifest.audit_seq,
            }),
        )
        .await?;
    instance.audit_checkpoint().await?;
    Ok(instance)
}
