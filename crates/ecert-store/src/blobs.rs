//! Certificate files as blobs on every configured replica (R-6.5b), hashed with SM3 (R-6.5a),
//! laid out by kind and year (R-6.5f).
//!
//! A write goes to every replica and succeeds only when every replica holds the file; on any
//! failure the copies already written are removed and the error names the replica. A read
//! checks each copy against the recorded SM3 and falls through to the next replica when one is
//! missing or altered, reporting what it found.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use futures_util::future::join_all;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::crypto::{hex, sm3};
use crate::error::{CleanupNote, Result, StoreError};

/// One place where certificate files are kept (a local folder, an S3 bucket, …).
#[derive(Clone)]
pub struct Replica {
    name: String,
    store: Arc<dyn ObjectStore>,
    /// The same store when it is a local folder: destruction overwrites the file's bytes on
    /// disk before deleting it (R-6.5i).
    local: Option<Arc<LocalFileSystem>>,
    /// The folder of a local replica: the orphan scan looks there for the staging files
    /// (`<key>#<n>`) that a write killed half-way leaves and `object_store` does not list.
    root: Option<PathBuf>,
}

impl fmt::Debug for Replica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Replica({:?}, {})", self.name, self.store)
    }
}

impl Replica {
    /// A replica on any `object_store` backend (S3, Azure, GCS, …), under a name used in
    /// messages and reports.
    pub fn new(name: impl Into<String>, store: Arc<dyn ObjectStore>) -> Self {
        Self {
            name: name.into(),
            store,
            local: None,
            root: None,
        }
    }

    /// A replica in a local folder (created if missing). Files and their folders are fsynced
    /// before a write returns, so that a committed record never points at a file still in the
    /// page cache.
    pub fn local(name: impl Into<String>, root: impl AsRef<Path>) -> Result<Self> {
        Self::local_with_fsync(name, root, true)
    }

    /// [`Replica::local`] choosing whether writes are fsynced. Without fsync a power loss may
    /// lose a file whose record committed: only for scratch stores and measurements.
    pub fn local_with_fsync(
        name: impl Into<String>,
        root: impl AsRef<Path>,
        fsync: bool,
    ) -> Result<Self> {
        let name = name.into();
        let root: PathBuf = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| StoreError::Replica {
            replica: name.clone(),
            source: Box::new(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("cannot create folder {}: {e}", root.display()).into(),
            }),
        })?;
        let fs = LocalFileSystem::new_with_prefix(&root)
            .map_err(|source| StoreError::Replica {
                replica: name.clone(),
                source: Box::new(source),
            })?
            .with_fsync(fsync);
        let fs = Arc::new(fs);
        Ok(Self {
            name,
            store: fs.clone(),
            local: Some(fs),
            root: Some(root),
        })
    }

    /// The replica's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend itself (for tools and tests that look at a copy from outside the store).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }
}

/// True for `name#<digits>`: the staging name `object_store` writes a file under first.
fn is_staging_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    matches!(file.rsplit_once('#'), Some((stem, n)) if !stem.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Collects the staging files under `dir` (paths relative to `root`, with `/`).
fn walk_staging(root: &Path, dir: &Path, out: &mut Vec<(String, i64)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            walk_staging(root, &path, out)?;
        } else if kind.is_file() {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            if is_staging_name(&rel) {
                let modified = entry
                    .metadata()?
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                out.push((rel, modified));
            }
        }
    }
    Ok(())
}

/// What one replica returned for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaProblem {
    /// Replica name.
    pub replica: String,
    /// Blob key.
    pub key: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// Kinds of replica problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The file is absent.
    Missing,
    /// The file's SM3 differs from the recorded one (altered or damaged copy).
    HashMismatch {
        /// SM3 of the copy, hex.
        found: String,
    },
    /// The replica could not be read.
    Unreadable(String),
}

impl fmt::Display for ReplicaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::Missing => write!(f, "replica {:?} has no {}", self.replica, self.key),
            ProblemKind::HashMismatch { found } => write!(
                f,
                "replica {:?}: {} does not match its recorded SM3 (copy has {found})",
                self.replica, self.key
            ),
            ProblemKind::Unreadable(e) => {
                write!(
                    f,
                    "replica {:?}: cannot read {}: {e}",
                    self.replica, self.key
                )
            }
        }
    }
}

/// A file read back with its SM3 checked.
#[derive(Debug, Clone)]
pub struct VerifiedFile {
    /// The file's bytes (their SM3 equals the recorded one).
    pub bytes: Bytes,
    /// Replica the bytes came from.
    pub replica: String,
    /// Problems met on replicas tried before (to be repaired; see [`crate::Store::scrub`]).
    pub problems: Vec<ReplicaProblem>,
}

/// The set of replicas a store writes to.
#[derive(Debug, Clone)]
pub(crate) struct Replicas(pub(crate) Vec<Replica>);

impl Replicas {
    /// Writes `data` under `key` to every replica (never overwriting). Either every replica
    /// holds the file afterwards, or none does (as far as removal succeeds; leftovers are
    /// named in the error and found by the orphan scan).
    pub(crate) async fn put_all(&self, key: &str, data: Bytes) -> Result<()> {
        let path = ObjectPath::from(key);
        let opts = || PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let results = join_all(self.0.iter().map(|r| {
            let path = path.clone();
            let payload = PutPayload::from(data.clone());
            async move { r.store.put_opts(&path, payload, opts()).await }
        }))
        .await;
        let mut failure = None;
        let mut written = Vec::new();
        for (r, res) in self.0.iter().zip(results) {
            match res {
                Ok(_) => written.push(r),
                Err(e) => {
                    if failure.is_none() {
                        failure = Some((r.name.clone(), e));
                    }
                }
            }
        }
        let Some((replica, source)) = failure else {
            return Ok(());
        };
        let cleanup = self.remove_from(&written, key).await;
        Err(StoreError::BlobWrite {
            replica,
            key: key.to_owned(),
            source: Box::new(source),
            cleanup,
        })
    }

    /// Writes `data` under `key` on every replica that does not hold the key yet.
    pub(crate) async fn put_missing(&self, key: &str, data: Bytes) -> Result<()> {
        let path = ObjectPath::from(key);
        for r in &self.0 {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            match r
                .store
                .put_opts(&path, PutPayload::from(data.clone()), opts)
                .await
            {
                Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(source) => {
                    return Err(StoreError::BlobWrite {
                        replica: r.name.clone(),
                        key: key.to_owned(),
                        source: Box::new(source),
                        cleanup: CleanupNote::default(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Removes `key` from every replica (used to undo a write whose record did not commit).
    pub(crate) async fn delete_all(&self, key: &str) -> CleanupNote {
        let all: Vec<&Replica> = self.0.iter().collect();
        self.remove_from(&all, key).await
    }

    /// Destroys `key` on every replica (R-6.5i, disposal): on a local folder the file's bytes
    /// are first overwritten in place with random data and synced to disk, so the old content
    /// is not left in the freed blocks (as far as the file system writes in place: a
    /// copy-on-write file system or an SSD's wear levelling may keep old blocks, see
    /// docs/architecture.md); then the file is deleted. Other backends delete (an S3 bucket
    /// must not keep object versions). Problems are named per replica.
    pub(crate) async fn destroy_all(&self, key: &str) -> CleanupNote {
        let path = ObjectPath::from(key);
        // Overwrite first; a replica whose copy could not be overwritten keeps it (a rerun
        // retries), the others delete theirs.
        let overwritten = join_all(self.0.iter().map(|r| {
            let path = path.clone();
            async move {
                let Some(fs) = &r.local else {
                    return Ok(());
                };
                let file = fs.path_to_filesystem(&path).map_err(|e| e.to_string())?;
                tokio::task::spawn_blocking(move || overwrite_in_place(&file))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("overwriting {key}: {e}"))
            }
        }))
        .await;
        let mut failures = Vec::new();
        let mut done = Vec::new();
        for (r, res) in self.0.iter().zip(overwritten) {
            match res {
                Ok(()) => done.push(r),
                Err(e) => failures.push(format!("replica {:?}: {e}", r.name)),
            }
        }
        failures.extend(self.remove_from(&done, key).await.0);
        CleanupNote(failures)
    }

    async fn remove_from(&self, replicas: &[&Replica], key: &str) -> CleanupNote {
        let path = ObjectPath::from(key);
        let results = join_all(replicas.iter().map(|r| {
            let path = path.clone();
            async move { (r.name.clone(), r.store.delete(&path).await) }
        }))
        .await;
        CleanupNote(
            results
                .into_iter()
                .filter_map(|(name, res)| match res {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => Some(format!("replica {name:?}: {e}")),
                })
                .collect(),
        )
    }

    /// Reads `key`, checking SM3 against `expected`; tries the replicas in order.
    pub(crate) async fn get_verified(&self, key: &str, expected: &[u8]) -> Result<VerifiedFile> {
        let mut problems = Vec::new();
        for r in &self.0 {
            match r.check(key, expected).await {
                Ok(bytes) => {
                    return Ok(VerifiedFile {
                        bytes,
                        replica: r.name.clone(),
                        problems,
                    });
                }
                Err(p) => problems.push(p),
            }
        }
        Err(StoreError::NoIntactCopy {
            key: key.to_owned(),
            problems,
        })
    }

    /// The files under `prefix` on every replica: (replica name, file name after the prefix,
    /// size in bytes).
    pub(crate) async fn list_prefix(&self, prefix: &str) -> Result<Vec<(String, String, u64)>> {
        let dir = ObjectPath::from(prefix.trim_end_matches('/'));
        let mut out = Vec::new();
        for r in &self.0 {
            let metas: Vec<_> = r
                .store
                .list(Some(&dir))
                .try_collect()
                .await
                .map_err(|source| StoreError::Replica {
                    replica: r.name.clone(),
                    source: Box::new(source),
                })?;
            out.extend(metas.into_iter().map(|m| {
                let key = m.location.as_ref();
                let name = key.strip_prefix(prefix).unwrap_or(key).to_owned();
                (r.name.clone(), name, m.size)
            }));
        }
        Ok(out)
    }

    /// Reads `key` from the replica named `replica`, unchecked (for files that carry their own
    /// proof, like signed checkpoints).
    pub(crate) async fn read_one(&self, replica: &str, key: &str) -> Result<Bytes> {
        let Some(r) = self.0.iter().find(|r| r.name == replica) else {
            return Err(StoreError::Invalid {
                field: "replica",
                problem: format!("no replica named {replica:?}"),
            });
        };
        let error = |source| StoreError::Replica {
            replica: r.name.clone(),
            source: Box::new(source),
        };
        r.store
            .get(&ObjectPath::from(key))
            .await
            .map_err(error)?
            .bytes()
            .await
            .map_err(error)
    }

    /// Lists every certificate file key on every replica (not the audit checkpoints): (replica
    /// name, key, last modified in unix ms).
    pub(crate) async fn list_all(&self) -> Result<Vec<(String, String, i64)>> {
        let mut out = Vec::new();
        for r in &self.0 {
            let metas: Vec<_> =
                r.store
                    .list(None)
                    .try_collect()
                    .await
                    .map_err(|source| StoreError::Replica {
                        replica: r.name.clone(),
                        source: Box::new(source),
                    })?;
            out.extend(
                metas
                    .into_iter()
                    .filter(|m| {
                        !m.location
                            .as_ref()
                            .starts_with(crate::audit::CHECKPOINT_PREFIX)
                    })
                    .map(|m| {
                        (
                            r.name.clone(),
                            m.location.to_string(),
                            m.last_modified.timestamp_millis(),
                        )
                    }),
            );
        }
        Ok(out)
    }

    /// Staging files on the local replicas: `<key>#<digits>`, what a write killed between
    /// writing and renaming leaves (complete or partial copies of a file; `object_store` never
    /// lists them). (replica name, relative path, last modified in unix ms).
    pub(crate) async fn staging_files(&self) -> Result<Vec<(String, String, i64)>> {
        let mut out = Vec::new();
        for r in &self.0 {
            let Some(root) = r.root.clone() else { continue };
            let name = r.name.clone();
            let found = tokio::task::spawn_blocking(move || {
                let mut found = Vec::new();
                walk_staging(&root, &root, &mut found).map(|()| found)
            })
            .await
            .map_err(|e| StoreError::Replica {
                replica: name.clone(),
                source: Box::new(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: e.to_string().into(),
                }),
            })?
            .map_err(|e| StoreError::Replica {
                replica: name.clone(),
                source: Box::new(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: format!("listing staging files: {e}").into(),
                }),
            })?;
            out.extend(found.into_iter().map(|(k, t)| (name.clone(), k, t)));
        }
        Ok(out)
    }

    /// Removes one staging file (a path [`Replicas::staging_files`] returned) from a local
    /// replica.
    pub(crate) async fn delete_staging(&self, replica: &str, rel: &str) -> Result<()> {
        let Some(root) = self
            .0
            .iter()
            .find(|r| r.name == replica)
            .and_then(|r| r.root.clone())
        else {
            return Ok(());
        };
        if !is_staging_name(rel) || rel.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(StoreError::Invalid {
                field: "staging file",
                problem: format!("{rel:?} is not a staging file name"),
            });
        }
        match std::fs::remove_file(root.join(rel)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Replica {
                replica: replica.to_owned(),
                source: Box::new(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: format!("removing {rel}: {e}").into(),
                }),
            }),
        }
    }

    /// Removes one key from one replica.
    pub(crate) async fn delete_one(&self, replica: &str, key: &str) -> Result<()> {
        let Some(r) = self.0.iter().find(|r| r.name == replica) else {
            return Ok(());
        };
        match r.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(StoreError::Replica {
                replica: replica.to_owned(),
                source: Box::new(source),
            }),
        }
    }

    /// Writes a known-good copy to one replica (overwriting a damaged one).
    pub(crate) async fn repair(&self, replica: &str, key: &str, data: Bytes) -> Result<()> {
        let Some(r) = self.0.iter().find(|r| r.name == replica) else {
            return Ok(());
        };
        r.store
            .put(&ObjectPath::from(key), PutPayload::from(data))
            .await
            .map(|_| ())
            .map_err(|source| StoreError::BlobWrite {
                replica: replica.to_owned(),
                key: key.to_owned(),
                source: Box::new(source),
                cleanup: CleanupNote::default(),
            })
    }
}

/// Overwrites a file's bytes in place with random data and syncs it (a missing file is fine:
/// nothing to destroy).
fn overwrite_in_place(file: &Path) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = match std::fs::OpenOptions::new().write(true).open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        getrandom::fill(&mut buf[..n]).map_err(|e| std::io::Error::other(e.to_string()))?;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

impl Replica {
    /// Reads `key` and checks its SM3.
    pub(crate) async fn check(
        &self,
        key: &str,
        expected: &[u8],
    ) -> std::result::Result<Bytes, ReplicaProblem> {
        let problem = |kind| ReplicaProblem {
            replica: self.name.clone(),
            key: key.to_owned(),
            kind,
        };
        let got = match self.store.get(&ObjectPath::from(key)).await {
            Ok(g) => g.bytes().await,
            Err(e) => Err(e),
        };
        match got {
            Ok(bytes) => {
                let h = sm3(&bytes);
                if h[..] == *expected {
                    Ok(bytes)
                } else {
                    Err(problem(ProblemKind::HashMismatch { found: hex(&h) }))
                }
            }
            Err(object_store::Error::NotFound { .. }) => Err(problem(ProblemKind::Missing)),
            Err(e) => Err(problem(ProblemKind::Unreadable(e.to_string()))),
        }
    }
}

/// Encodes a certificate number for a blob key: ASCII letters, digits and `-` stay; every
/// other byte (`_` included) becomes `_XX` (hex of its UTF-8 bytes). The mapping is one-to-one,
/// so distinct numbers never share a key, and the result uses only characters that every file
/// system and object store takes as they are (`object_store` would percent-encode `~`, `%`, …).
pub fn key_component(number: &str) -> String {
    let mut out = String::with_capacity(number.len());
    for &b in number.as_bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push('_');
            out.push_str(&hex(&[b]).to_ascii_uppercase());
        }
    }
    out
}

/// The blob key of a certificate file: `<kind>/<year>/<number>.<nonce>.ofd` (R-6.5f: stored by
/// category and year, in number order within a folder). `nonce` is unique per write attempt,
/// so that a failed attempt can remove its own files without touching anyone else's.
pub(crate) fn certificate_key(kind: i64, year: &str, number: &str, nonce: &str) -> String {
    format!("{kind}/{year}/{}.{nonce}.ofd", key_component(number))
}

/// The blob key of a supplement: beside its original, `<kind>/<year>/<number>.s<seq>.<nonce>.ofd`.
pub(crate) fn supplement_key(kind: i64, year: &str, number: &str, seq: i64, nonce: &str) -> String {
    format!("{kind}/{year}/{}.s{seq}.{nonce}.ofd", key_component(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_6_5f_keys_by_kind_and_year_with_safe_characters() {
        assert_eq!(
            certificate_key(2, "2026", "JZ2026-00017", "ab12"),
            "2/2026/JZ2026-00017.ab12.ofd"
        );
        let k = certificate_key(1, "2026", "检字第 2026/01 号", "ab12");
        assert!(k.starts_with("1/2026/"));
        let name = k.trim_start_matches("1/2026/");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{name}"
        );
        // One-to-one: characters that a naive replacement would merge stay distinct.
        assert_ne!(key_component("A/B"), key_component("A_B"));
        assert_ne!(key_component("A_2F"), key_component("A/"));
        assert_ne!(key_component("A.s1"), key_component("A_2Es1"));
        assert_eq!(key_component("检"), "_E6_A3_80");
        assert_eq!(
            supplement_key(3, "2025", "X.1", 2, "n"),
            "3/2025/X_2E1.s2.n.ofd"
        );
    }
}
