//! Caches that make the scanned page fast (docs/benchmarks.md, "serve"):
//!
//! - [`PageCache`]: the rendered status page (HTML or JSON, per language) of a token for a
//!   short time (`status_cache_secs`, default 5 s). Every change this server makes (issue,
//!   revise) clears it at once, so its own changes show immediately; a change made by another
//!   process (the CLI) shows after at most the TTL. Only found certificates are cached.
//! - [`PreviewCache`]: page previews (PNG). A preview depends only on the file, which never
//!   changes (its SM3 is recorded), so previews are kept on disk under `cache/previews/` by
//!   file SM3 and page, and the most recent ones in memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::preview::Mark;

/// A cached response body with its content type.
#[derive(Clone)]
pub(crate) struct CachedPage {
    pub(crate) body: Bytes,
    pub(crate) content_type: &'static str,
}

pub(crate) struct PageCache {
    ttl: Duration,
    map: RwLock<HashMap<String, (Instant, CachedPage)>>,
}

const MAX_PAGES: usize = 20_000;

impl PageCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        PageCache {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<CachedPage> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.map.read().ok()?;
        let (at, page) = map.get(key)?;
        (at.elapsed() < self.ttl).then(|| page.clone())
    }

    pub(crate) fn put(&self, key: String, page: CachedPage) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut map) = self.map.write() {
            if map.len() >= MAX_PAGES {
                let ttl = self.ttl;
                map.retain(|_, (at, _)| at.elapsed() < ttl);
                if map.len() >= MAX_PAGES {
                    map.clear();
                }
            }
            map.insert(key, (Instant::now(), page));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            map.clear();
        }
    }
}

pub(crate) struct PreviewCache {
    dir: PathBuf,
    memory: RwLock<HashMap<String, Bytes>>,
}

const MAX_PREVIEWS_IN_MEMORY: usize = 64;

impl PreviewCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        PreviewCache {
            dir,
            memory: RwLock::new(HashMap::new()),
        }
    }

    /// A marked preview is kept apart from the plain one: a certificate revised after its
    /// preview was made must not be shown unmarked from the cache.
    fn key(file_sm3: &[u8; 32], page: usize, dpi: f64, mark: Option<Mark>) -> String {
        format!(
            "{}-p{page}-{}dpi{}.png",
            ecert_store::hex(file_sm3),
            dpi.round(),
            mark.map(|m| format!("-{}", m.name())).unwrap_or_default()
        )
    }

    /// A preview from memory or disk.
    pub(crate) fn get(
        &self,
        file_sm3: &[u8; 32],
        page: usize,
        dpi: f64,
        mark: Option<Mark>,
    ) -> Option<Bytes> {
        let key = Self::key(file_sm3, page, dpi, mark);
        if let Some(b) = self.memory.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Some(b);
        }
        let bytes = Bytes::from(std::fs::read(self.dir.join(&key)).ok()?);
        // A truncated file (crash while writing) is not a PNG: render again.
        if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return None;
        }
        self.remember(key, bytes.clone());
        Some(bytes)
    }

    fn remember(&self, key: String, bytes: Bytes) {
        if let Ok(mut m) = self.memory.write() {
            if m.len() >= MAX_PREVIEWS_IN_MEMORY {
                m.clear();
            }
            m.insert(key, bytes);
        }
    }

    /// Keeps a rendered preview (disk errors only cost a later re-render).
    pub(crate) fn put(
        &self,
        file_sm3: &[u8; 32],
        page: usize,
        dpi: f64,
        mark: Option<Mark>,
        png: Bytes,
    ) {
        let key = Self::key(file_sm3, page, dpi, mark);
        if std::fs::create_dir_all(&self.dir).is_ok() {
            let tmp = self.dir.join(format!("{key}.tmp-{}", std::process::id()));
            if std::fs::write(&tmp, &png).is_ok() {
                let _ = std::fs::rename(&tmp, self.dir.join(&key));
            }
        }
        self.remember(key, png);
    }
}
