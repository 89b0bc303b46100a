//! The ZIP container of an OFD package (GB/T 33190-2016 clause 7.1), without any XML knowledge.
//!
//! [`Package::from_zip`] does not trust a ZIP library: it walks the end-of-central-directory
//! record, every central-directory entry **and** every local file header itself, and refuses
//! anything two readers could see differently:
//!
//! | rejected | why |
//! |---|---|
//! | absolute names (`/x`, `C:x`), `..`, `.` or empty segments, backslashes, control characters | zip-slip; `a//b` vs `a/b` |
//! | the same name twice, or two names equal up to case | "last one wins" readers vs "first one wins"; merged on case-insensitive file systems |
//! | local header disagreeing with its central-directory entry (name, method, flags, CRC, sizes) | streaming readers (ofdrw) read local headers, others the central directory |
//! | bytes between entries, overlapping entries, local headers the central directory does not list | hidden entries a streaming reader would see |
//! | encrypted entries, methods other than stored/deflate, ZIP64, multi-disk | not used by OFD; not verifiable |
//! | more than [`Limits::max_entries`] entries, entries over [`Limits::max_entry_size`], totals over [`Limits::max_total_size`], compression ratio over [`Limits::max_ratio`] | resource exhaustion (zip bombs) |
//! | a CRC-32 or size that does not match the data | corruption |
//!
//! Leniency: bytes *before* the first entry (a self-extractor stub, seen on real OFD files) are
//! tolerated when all offsets agree on the same shift; names without the UTF-8 flag are accepted
//! when they are valid UTF-8. Directory entries (`Doc_0/`) are validated and then dropped.
//!
//! [`Package::to_zip`] is deterministic: entries in stored order, fixed timestamp
//! (1980-01-01 00:00), deflate (level 1) for XML and fonts, stored for PNG/JPEG, embedded
//! OFD/ZIP, seals (`.esl`) and signed values (`.dat`).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

/// Deflate level of [`Package::to_zip`]: fast; OFD parts are small and the size budget is met
/// with room to spare (see `benches/write.rs`).
const DEFLATE_LEVEL: i64 = 1;

/// Resource limits for [`Package::from_zip`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest number of entries (directory entries included).
    pub max_entries: usize,
    /// Largest uncompressed size of one entry, in bytes.
    pub max_entry_size: u64,
    /// Largest sum of uncompressed sizes, in bytes.
    pub max_total_size: u64,
    /// Largest ratio uncompressed / compressed for an entry larger than `ratio_threshold`.
    pub max_ratio: u64,
    /// Entries up to this uncompressed size are exempt from the ratio check (small XML files
    /// legitimately compress very well).
    pub ratio_threshold: u64,
}

impl Default for Limits {
    /// 10 000 entries, 64 MiB per entry, 256 MiB in total, ratio 200 above 1 MiB.
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_entry_size: 64 << 20,
            max_total_size: 256 << 20,
            max_ratio: 200,
            ratio_threshold: 1 << 20,
        }
    }
}

/// Why a ZIP container or an entry name was refused. Every variant names the entry concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The bytes are not a ZIP file (no end-of-central-directory record, or it is malformed).
    #[error("not a ZIP file: {0}")]
    NotZip(String),
    /// More entries than [`Limits::max_entries`].
    #[error("ZIP has {count} entries, limit is {limit}")]
    TooManyEntries {
        /// Entries declared.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An entry is larger than [`Limits::max_entry_size`].
    #[error("entry {name:?}: uncompressed size {size} exceeds the limit of {limit} bytes")]
    EntryTooLarge {
        /// The entry.
        name: String,
        /// Its declared uncompressed size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The entries together are larger than [`Limits::max_total_size`].
    #[error("entry {name:?}: total uncompressed size reaches {total}, limit is {limit} bytes")]
    TotalTooLarge {
        /// The entry at which the total passed the limit.
        name: String,
        /// The running total.
        total: u64,
        /// The limit.
        limit: u64,
    },
    /// Compression ratio above [`Limits::max_ratio`] (a ZIP bomb).
    #[error("entry {name:?}: compression ratio {ratio} exceeds the limit of {limit}")]
    RatioTooHigh {
        /// The entry.
        name: String,
        /// Uncompressed / compressed size.
        ratio: u64,
        /// The limit.
        limit: u64,
    },
    /// An absolute name (`/x`, `C:x`).
    #[error("entry {name:?}: absolute path")]
    AbsolutePath {
        /// The entry name.
        name: String,
    },
    /// A name with a `..` segment.
    #[error("entry {name:?}: contains a '..' segment")]
    ParentTraversal {
        /// The entry name.
        name: String,
    },
    /// A name with a backslash.
    #[error("entry {name:?}: contains a backslash")]
    Backslash {
        /// The entry name.
        name: String,
    },
    /// A name that is empty, has empty or `.` segments, or control characters.
    #[error("entry {name:?}: invalid name ({why})")]
    InvalidName {
        /// The entry name (lossy UTF-8).
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The same name twice.
    #[error("entry {name:?}: appears more than once")]
    DuplicateName {
        /// The entry name.
        name: String,
    },
    /// Two names equal up to case (they collide on case-insensitive file systems).
    #[error("entries {a:?} and {b:?} differ only in case")]
    CaseVariant {
        /// The first name.
        a: String,
        /// The second name.
        b: String,
    },
    /// The local file header disagrees with the central directory, or the local headers do not
    /// follow each other exactly as the central directory lists them.
    #[error("entry {name:?}: local header and central directory disagree: {what}")]
    HeaderMismatch {
        /// The entry name.
        name: String,
        /// What differs.
        what: String,
    },
    /// An encrypted entry.
    #[error("entry {name:?}: encrypted entries are not allowed")]
    Encrypted {
        /// The entry name.
        name: String,
    },
    /// A compression method other than stored (0) or deflate (8), or a ZIP feature (ZIP64,
    /// multi-disk) not used by OFD.
    #[error("entry {name:?}: unsupported {what}")]
    UnsupportedMethod {
        /// The entry name (or `""` for archive-level features).
        name: String,
        /// The method or feature.
        what: String,
    },
    /// Structurally broken entry: truncated, bad CRC, size mismatch, inflate error.
    #[error("entry {name:?}: corrupt: {what}")]
    Corrupt {
        /// The entry name.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// Writing the ZIP failed (only from [`Package::to_zip`]).
    #[error("writing ZIP entry {name:?}: {what}")]
    Write {
        /// The entry being written.
        name: String,
        /// The library's message.
        what: String,
    },
}

impl PackageError {
    /// True for errors that mean two readers could see different contents (duplicate or
    /// case-variant names, `..`, absolute names, backslashes, local/central disagreement).
    /// A verifier reports these as tampering, not as corruption.
    pub fn is_ambiguity(&self) -> bool {
        matches!(
            self,
            PackageError::AbsolutePath { .. }
                | PackageError::ParentTraversal { .. }
                | PackageError::Backslash { .. }
                | PackageError::DuplicateName { .. }
                | PackageError::CaseVariant { .. }
                | PackageError::HeaderMismatch { .. }
        )
    }
}

/// An OFD package: file entries (path → bytes) in stored order.
///
/// Paths are package paths without a leading `/`, validated by [`validate_name`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    entries: Vec<(String, Vec<u8>)>,
    /// exact path → index into `entries`
    index: BTreeMap<String, usize>,
    /// lower-cased path → exact path
    folded: BTreeMap<String, String>,
}

/// Checks that `name` is a safe package path: not empty, relative, `/`-separated, no empty,
/// `.` or `..` segments, no backslash, no control characters. A trailing `/` (directory entry)
/// is allowed only when `allow_dir` is true.
pub fn validate_name(name: &str) -> Result<(), PackageError> {
    validate_name_inner(name, false)
}

fn validate_name_inner(name: &str, allow_dir: bool) -> Result<(), PackageError> {
    let err = |why| PackageError::InvalidName {
        name: name.to_string(),
        why,
    };
    if name.is_empty() {
        return Err(err("empty"));
    }
    if name.contains('\\') {
        return Err(PackageError::Backslash {
            name: name.to_string(),
        });
    }
    let b = name.as_bytes();
    if name.starts_with('/') || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()) {
        return Err(PackageError::AbsolutePath {
            name: name.to_string(),
        });
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(err("control character"));
    }
    let body = match name.strip_suffix('/') {
        Some(d) if allow_dir => d,
        Some(_) => return Err(err("ends with '/'")),
        None => name,
    };
    for seg in body.split('/') {
        match seg {
            ".." => {
                return Err(PackageError::ParentTraversal {
                    name: name.to_string(),
                });
            }
            "" => return Err(err("empty path segment")),
            "." => return Err(err("'.' path segment")),
            _ => {}
        }
    }
    Ok(())
}

fn fold(name: &str) -> String {
    name.to_lowercase()
}

impl Package {
    /// An empty package.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of the entry at `path` (exact, case-sensitive match; no leading `/`).
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.index
            .get(path)
            .and_then(|&i| self.entries.get(i))
            .map(|(_, d)| d.as_slice())
    }

    /// True if the package has an entry at exactly `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.index.contains_key(path)
    }

    /// If another entry's path equals `path` up to case, that path.
    pub fn case_variant_of(&self, path: &str) -> Option<&str> {
        self.folded
            .get(&fold(path))
            .map(String::as_str)
            .filter(|p| *p != path)
    }

    /// Inserts an entry, or replaces the bytes of an existing entry with exactly this path
    /// (keeping its position). Fails on an invalid name or when another entry has the same name
    /// up to case.
    pub fn insert(&mut self, path: &str, data: Vec<u8>) -> Result<(), PackageError> {
        validate_name(path)?;
        if let Some(&i) = self.index.get(path) {
            if let Some(slot) = self.entries.get_mut(i) {
                slot.1 = data;
            }
            return Ok(());
        }
        if let Some(other) = self.folded.get(&fold(path)) {
            return Err(PackageError::CaseVariant {
                a: other.clone(),
                b: path.to_string(),
            });
        }
        self.index.insert(path.to_string(), self.entries.len());
        self.folded.insert(fold(path), path.to_string());
        self.entries.push((path.to_string(), data));
        Ok(())
    }

    /// Removes an entry and returns its bytes.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        let i = self.index.remove(path)?;
        self.folded.remove(&fold(path));
        let (_, data) = self.entries.remove(i);
        for v in self.index.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
        Some(data)
    }

    /// Entry paths in stored order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(p, _)| p.as_str())
    }

    /// Entries (path, bytes) in stored order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(p, d)| (p.as_str(), d.as_slice()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the package has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the package as a ZIP file. Deterministic: the same entries in the same order give
    /// the same bytes (fixed 1980-01-01 timestamps, no extra fields, deflate for everything but
    /// PNG/JPEG images, which are stored).
    pub fn to_zip(&self) -> Result<Vec<u8>, PackageError> {
        use zip::write::SimpleFileOptions;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(
            self.entries.iter().map(|(_, d)| d.len() / 2 + 64).sum(),
        )));
        for (name, data) in &self.entries {
            let lower = name.to_ascii_lowercase();
            // Already-compressed formats are stored; deflating them again costs time for nothing
            // (a seal and a signed value are DER around a PNG picture: deflate made them larger).
            let stored = [
                ".png", ".jpg", ".jpeg", ".ofd", ".zip", ".gz", ".esl", ".dat",
            ]
            .iter()
            .any(|e| lower.ends_with(e));
            let opts = SimpleFileOptions::default()
                .compression_method(if stored {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                })
                .compression_level((!stored).then_some(DEFLATE_LEVEL))
                .last_modified_time(zip::DateTime::default())
                .large_file(false);
            let werr = |e: &dyn std::fmt::Display| PackageError::Write {
                name: name.clone(),
                what: e.to_string(),
            };
            w.start_file(name.as_str(), opts).map_err(|e| werr(&e))?;
            w.write_all(data).map_err(|e| werr(&e))?;
        }
        let out = w.finish().map_err(|e| PackageError::Write {
            name: String::new(),
            what: e.to_string(),
        })?;
        Ok(out.into_inner())
    }

    /// Reads a ZIP file strictly (see the module documentation for what is refused).
    pub fn from_zip(bytes: &[u8], limits: &Limits) -> Result<Self, PackageError> {
        let eocd = find_eocd(bytes)?;
        if eocd.entries > limits.max_entries {
            return Err(PackageError::TooManyEntries {
                count: eocd.entries,
                limit: limits.max_entries,
            });
        }
        // Bytes before the ZIP proper (self-extractor stubs): the central directory must end
        // exactly where the EOCD starts, which fixes the shift.
        let cd_end = eocd
            .cd_offset
            .checked_add(eocd.cd_size)
            .ok_or_else(|| PackageError::NotZip("central directory offset overflows".into()))?;
        let shift = eocd.pos.checked_sub(cd_end).ok_or_else(|| {
            PackageError::NotZip("central directory extends past the end record".into())
        })?;
        let cd_start = eocd.cd_offset + shift;
        let cd = bytes
            .get(cd_start..eocd.pos)
            .ok_or_else(|| PackageError::NotZip("central directory out of range".into()))?;
        let mut centrals = Vec::with_capacity(eocd.entries.min(4096));
        let mut r = Reader::new(cd, 0);
        for _ in 0..eocd.entries {
            centrals.push(read_central(&mut r, shift)?);
        }
        if r.pos != cd.len() {
            return Err(PackageError::NotZip(format!(
                "{} unexplained bytes after {} central directory entries",
                cd.len() - r.pos,
                eocd.entries
            )));
        }

        // Names: validity, duplicates, case variants (before reading any data).
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut exact: BTreeMap<&str, ()> = BTreeMap::new();
        for c in &centrals {
            validate_name_inner(&c.name, true)?;
            if exact.insert(c.name.as_str(), ()).is_some() {
                return Err(PackageError::DuplicateName {
                    name: c.name.clone(),
                });
            }
            let key = fold(c.name.trim_end_matches('/'));
            if let Some(prev) = seen.insert(key, c.name.clone()) {
                return Err(PackageError::CaseVariant {
                    a: prev,
                    b: c.name.clone(),
                });
            }
        }

        // Sizes and flags from the central directory, before inflating anything.
        let mut total: u64 = 0;
        for c in &centrals {
            if c.flags & 0x0001 != 0 || c.flags & 0x0040 != 0 {
                return Err(PackageError::Encrypted {
                    name: c.name.clone(),
                });
            }
            if c.method != 0 && c.method != 8 {
                return Err(PackageError::UnsupportedMethod {
                    name: c.name.clone(),
                    what: format!("compression method {}", c.method),
                });
            }
            if c.usize > limits.max_entry_size {
                return Err(PackageError::EntryTooLarge {
                    name: c.name.clone(),
                    size: c.usize,
                    limit: limits.max_entry_size,
                });
            }
            total = total.saturating_add(c.usize);
            if total > limits.max_total_size {
                return Err(PackageError::TotalTooLarge {
                    name: c.name.clone(),
                    total,
                    limit: limits.max_total_size,
                });
            }
            if c.usize > limits.ratio_threshold {
                let ratio = c.usize / c.csize.max(1);
                if ratio > limits.max_ratio {
                    return Err(PackageError::RatioTooHigh {
                        name: c.name.clone(),
                        ratio,
                        limit: limits.max_ratio,
                    });
                }
            }
            if c.method == 0 && c.csize != c.usize {
                return Err(PackageError::Corrupt {
                    name: c.name.clone(),
                    what: format!(
                        "stored entry with compressed size {} != size {}",
                        c.csize, c.usize
                    ),
                });
            }
        }

        // Local headers: they must follow each other back to back, from the first byte of the
        // ZIP to the central directory, exactly as the central directory lists them.
        let mut order: Vec<usize> = (0..centrals.len()).collect();
        order.sort_by_key(|&i| centrals.get(i).map_or(0, |c| c.offset));
        let mut expected = shift;
        let mut data_of: Vec<(usize, usize)> = vec![(0, 0); centrals.len()];
        for &i in &order {
            let Some(c) = centrals.get(i) else { continue };
            if c.offset != expected {
                return Err(PackageError::HeaderMismatch {
                    name: c.name.clone(),
                    what: if c.offset < expected {
                        format!(
                            "local header at offset {} overlaps the previous entry (ends at {})",
                            c.offset, expected
                        )
                    } else {
                        format!(
                            "{} bytes before its local header at offset {} are not listed in the central directory",
                            c.offset - expected,
                            c.offset
                        )
                    },
                });
            }
            let (start, end) = check_local(bytes, c)?;
            if let Some(slot) = data_of.get_mut(i) {
                *slot = (start, end);
            }
            expected = end;
            if c.flags & 0x0008 != 0 {
                expected = skip_descriptor(bytes, end, c)?;
            }
        }
        if expected != cd_start {
            let name = order
                .last()
                .and_then(|&i| centrals.get(i))
                .map(|c| c.name.clone())
                .unwrap_or_default();
            return Err(PackageError::HeaderMismatch {
                name,
                what: format!(
                    "{} bytes between the last entry and the central directory are not listed",
                    cd_start.abs_diff(expected)
                ),
            });
        }

        // Data, in central-directory order.
        let mut pkg = Package::new();
        for (c, &(start, end)) in centrals.iter().zip(&data_of) {
            if c.name.ends_with('/') {
                if c.usize != 0 {
                    return Err(PackageError::Corrupt {
                        name: c.name.clone(),
                        what: "directory entry with data".into(),
                    });
                }
                continue;
            }
            let raw = bytes.get(start..end).ok_or_else(|| PackageError::Corrupt {
                name: c.name.clone(),
                what: "data out of range".into(),
            })?;
            let data = inflate(raw, c)?;
            let mut h = crc32fast::Hasher::new();
            h.update(&data);
            if h.finalize() != c.crc {
                return Err(PackageError::Corrupt {
                    name: c.name.clone(),
                    what: "CRC-32 mismatch".into(),
                });
            }
            pkg.index.insert(c.name.clone(), pkg.entries.len());
            pkg.folded.insert(fold(&c.name), c.name.clone());
            pkg.entries.push((c.name.clone(), data));
        }
        Ok(pkg)
    }
}

struct Eocd {
    pos: usize,
    entries: usize,
    cd_size: usize,
    cd_offset: usize,
}

struct Central {
    name: String,
    flags: u16,
    method: u16,
    time: u16,
    date: u16,
    crc: u32,
    csize: u64,
    usize: u64,
    /// absolute offset of the local header in the input (shift applied)
    offset: usize,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Reader { data, pos }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

fn find_eocd(bytes: &[u8]) -> Result<Eocd, PackageError> {
    const SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    if bytes.len() < 22 {
        return Err(PackageError::NotZip("shorter than an end record".into()));
    }
    let lowest = bytes.len().saturating_sub(22 + 0xFFFF);
    let mut pos = bytes.len() - 22;
    loop {
        if bytes.get(pos..pos + 4) == Some(&SIG[..]) {
            let mut r = Reader::new(bytes, pos + 4);
            let bad = || PackageError::NotZip("truncated end record".into());
            let disk = r.u16().ok_or_else(bad)?;
            let cd_disk = r.u16().ok_or_else(bad)?;
            let disk_entries = r.u16().ok_or_else(bad)?;
            let entries = r.u16().ok_or_else(bad)?;
            let cd_size = r.u32().ok_or_else(bad)?;
            let cd_offset = r.u32().ok_or_else(bad)?;
            let comment_len = r.u16().ok_or_else(bad)?;
            if pos + 22 + usize::from(comment_len) == bytes.len() {
                if disk != 0 || cd_disk != 0 || disk_entries != entries {
                    return Err(PackageError::UnsupportedMethod {
                        name: String::new(),
                        what: "multi-disk ZIP".into(),
                    });
                }
                if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
                    return Err(PackageError::UnsupportedMethod {
                        name: String::new(),
                        what: "ZIP64 archive".into(),
                    });
                }
                return Ok(Eocd {
                    pos,
                    entries: usize::from(entries),
                    cd_size: cd_size as usize,
                    cd_offset: cd_offset as usize,
                });
            }
        }
        if pos == lowest {
            return Err(PackageError::NotZip(
                "no end-of-central-directory record".into(),
            ));
        }
        pos -= 1;
    }
}

fn decode_name(raw: &[u8]) -> Result<String, PackageError> {
    String::from_utf8(raw.to_vec()).map_err(|_| PackageError::InvalidName {
        name: String::from_utf8_lossy(raw).into_owned(),
        why: "not UTF-8",
    })
}

fn read_central(r: &mut Reader<'_>, shift: usize) -> Result<Central, PackageError> {
    let at = r.pos;
    let bad = || PackageError::NotZip(format!("truncated central directory entry at {at}"));
    if r.u32().ok_or_else(bad)? != 0x0201_4b50 {
        return Err(PackageError::NotZip(format!(
            "bad central directory signature at offset {at}"
        )));
    }
    let _made = r.u16().ok_or_else(bad)?;
    let _needed = r.u16().ok_or_else(bad)?;
    let flags = r.u16().ok_or_else(bad)?;
    let method = r.u16().ok_or_else(bad)?;
    let time = r.u16().ok_or_else(bad)?;
    let date = r.u16().ok_or_else(bad)?;
    let crc = r.u32().ok_or_else(bad)?;
    let csize = r.u32().ok_or_else(bad)?;
    let usize_ = r.u32().ok_or_else(bad)?;
    let nlen = r.u16().ok_or_else(bad)?;
    let elen = r.u16().ok_or_else(bad)?;
    let clen = r.u16().ok_or_else(bad)?;
    let disk = r.u16().ok_or_else(bad)?;
    let _int = r.u16().ok_or_else(bad)?;
    let _ext = r.u32().ok_or_else(bad)?;
    let offset = r.u32().ok_or_else(bad)?;
    let name = decode_name(r.take(usize::from(nlen)).ok_or_else(bad)?)?;
    r.take(usize::from(elen)).ok_or_else(bad)?;
    r.take(usize::from(clen)).ok_or_else(bad)?;
    if csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF || offset == 0xFFFF_FFFF || disk == 0xFFFF {
        return Err(PackageError::UnsupportedMethod {
            name,
            what: "ZIP64 entry".into(),
        });
    }
    Ok(Central {
        name,
        flags,
        method,
        time,
        date,
        crc,
        csize: u64::from(csize),
        usize: u64::from(usize_),
        offset: (offset as usize)
            .checked_add(shift)
            .ok_or_else(|| PackageError::NotZip("offset overflow".into()))?,
    })
}

/// Checks the local header of `c`; returns the range of its compressed data.
fn check_local(bytes: &[u8], c: &Central) -> Result<(usize, usize), PackageError> {
    let mismatch = |what: String| PackageError::HeaderMismatch {
        name: c.name.clone(),
        what,
    };
    let corrupt = |what: &str| PackageError::Corrupt {
        name: c.name.clone(),
        what: what.to_string(),
    };
    let mut r = Reader::new(bytes, c.offset);
    let trunc = || corrupt("truncated local header");
    if r.u32().ok_or_else(trunc)? != 0x0403_4b50 {
        return Err(mismatch(format!("no local header at offset {}", c.offset)));
    }
    let _needed = r.u16().ok_or_else(trunc)?;
    let flags = r.u16().ok_or_else(trunc)?;
    let method = r.u16().ok_or_else(trunc)?;
    let time = r.u16().ok_or_else(trunc)?;
    let date = r.u16().ok_or_else(trunc)?;
    let crc = r.u32().ok_or_else(trunc)?;
    let csize = r.u32().ok_or_else(trunc)?;
    let usize_ = r.u32().ok_or_else(trunc)?;
    let nlen = r.u16().ok_or_else(trunc)?;
    let elen = r.u16().ok_or_else(trunc)?;
    let name = r.take(usize::from(nlen)).ok_or_else(trunc)?;
    r.take(usize::from(elen)).ok_or_else(trunc)?;
    if name != c.name.as_bytes() {
        return Err(mismatch(format!(
            "local header names {:?}",
            String::from_utf8_lossy(name)
        )));
    }
    if method != c.method {
        return Err(mismatch(format!(
            "compression method {} vs {}",
            method, c.method
        )));
    }
    // Bit 0 (encrypted), 3 (descriptor), 6 (strong encryption), 11 (UTF-8) must agree.
    if flags & 0x0849 != c.flags & 0x0849 {
        return Err(mismatch(format!("flags {flags:#06x} vs {:#06x}", c.flags)));
    }
    let _ = (time, date, c.time, c.date); // timestamps may legitimately differ (extra fields)
    if flags & 0x0008 == 0 {
        if crc != c.crc {
            return Err(mismatch(format!("CRC {crc:#010x} vs {:#010x}", c.crc)));
        }
        if u64::from(csize) != c.csize || u64::from(usize_) != c.usize {
            return Err(mismatch(format!(
                "sizes {}/{} vs {}/{}",
                csize, usize_, c.csize, c.usize
            )));
        }
    } else if (crc != 0 && crc != c.crc)
        || (csize != 0 && u64::from(csize) != c.csize)
        || (usize_ != 0 && u64::from(usize_) != c.usize)
    {
        return Err(mismatch(
            "CRC or sizes differ (data descriptor entry)".into(),
        ));
    }
    let start = r.pos;
    let end = usize::try_from(c.csize)
        .ok()
        .and_then(|n| start.checked_add(n))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| corrupt("compressed data runs past the end of the file"))?;
    Ok((start, end))
}

/// Skips the data descriptor after an entry with flag bit 3; checks it agrees.
fn skip_descriptor(bytes: &[u8], end: usize, c: &Central) -> Result<usize, PackageError> {
    let mut r = Reader::new(bytes, end);
    let mut sig = r.u32();
    if sig != Some(0x0807_4b50) {
        r.pos = end;
        sig = None;
    }
    let _ = sig;
    let crc = r.u32();
    let csize = r.u32();
    let usize_ = r.u32();
    if crc != Some(c.crc)
        || csize.map(u64::from) != Some(c.csize)
        || usize_.map(u64::from) != Some(c.usize)
    {
        return Err(PackageError::HeaderMismatch {
            name: c.name.clone(),
            what: "data descriptor disagrees with the central directory".into(),
        });
    }
    Ok(r.pos)
}

fn inflate(raw: &[u8], c: &Central) -> Result<Vec<u8>, PackageError> {
    if c.method == 0 {
        return Ok(raw.to_vec());
    }
    let cap = usize::try_from(c.usize).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(cap.min(16 << 20));
    let mut dec = flate2::read::DeflateDecoder::new(raw).take(c.usize.saturating_add(1));
    dec.read_to_end(&mut out)
        .map_err(|e| PackageError::Corrupt {
            name: c.name.clone(),
            what: format!("inflate: {e}"),
        })?;
    if out.len() as u64 != c.usize {
        return Err(PackageError::Corrupt {
            name: c.name.clone(),
            what: format!(
                "inflates to {}{} bytes, declared {}",
                out.len(),
                if out.len() as u64 > c.usize { "+" } else { "" },
                c.usize
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made ZIP writer for malformed test archives: every field can be chosen.
    pub(crate) struct RawEntry {
        pub name: Vec<u8>,
        pub local_name: Option<Vec<u8>>,
        pub data: Vec<u8>,
        pub method: u16,
        pub flags: u16,
        pub local_flags: Option<u16>,
        pub crc: Option<u32>,
        pub local_crc: Option<u32>,
        pub usize_: Option<u32>,
        pub in_cd: bool,
    }

    impl RawEntry {
        pub fn new(name: &str, data: &[u8]) -> Self {
            RawEntry {
                name: name.as_bytes().to_vec(),
                local_name: None,
                data: data.to_vec(),
                method: 0,
                flags: 0x0800,
                local_flags: None,
                crc: None,
                local_crc: None,
                usize_: None,
                in_cd: true,
            }
        }
    }

    pub(crate) fn raw_zip(entries: &[RawEntry], prefix: &[u8]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        let mut cd = Vec::new();
        let mut n = 0u16;
        for e in entries {
            let off = (out.len() - prefix.len()) as u32;
            let mut h = crc32fast::Hasher::new();
            h.update(&e.data);
            let real_crc = h.finalize();
            let (payload, usize_) = if e.method == 8 {
                let mut enc =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&e.data).unwrap();
                (enc.finish().unwrap(), e.data.len() as u32)
            } else {
                (e.data.clone(), e.data.len() as u32)
            };
            let usize_ = e.usize_.unwrap_or(usize_);
            let crc = e.crc.unwrap_or(real_crc);
            let lname = e.local_name.clone().unwrap_or_else(|| e.name.clone());
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&e.local_flags.unwrap_or(e.flags).to_le_bytes());
            out.extend_from_slice(&e.method.to_le_bytes());
            out.extend_from_slice(&[0, 0, 0x21, 0]);
            out.extend_from_slice(&e.local_crc.unwrap_or(crc).to_le_bytes());
            out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&usize_.to_le_bytes());
            out.extend_from_slice(&(lname.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&lname);
            out.extend_from_slice(&payload);
            if !e.in_cd {
                continue;
            }
            n += 1;
            cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&e.flags.to_le_bytes());
            cd.extend_from_slice(&e.method.to_le_bytes());
            cd.extend_from_slice(&[0, 0, 0x21, 0]);
            cd.extend_from_slice(&crc.to_le_bytes());
            cd.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            cd.extend_from_slice(&usize_.to_le_bytes());
            cd.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 8]);
            cd.extend_from_slice(&0u32.to_le_bytes());
            cd.extend_from_slice(&off.to_le_bytes());
            cd.extend_from_slice(&e.name);
        }
        let cd_off = (out.len() - prefix.len()) as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn read(entries: &[RawEntry]) -> Result<Package, PackageError> {
        Package::from_zip(&raw_zip(entries, b""), &Limits::default())
    }

    #[test]
    fn already_compressed_parts_are_stored_text_is_deflated() {
        let method = |name: &str| {
            let mut p = Package::new();
            p.insert(name, vec![b'a'; 4096]).unwrap();
            let z = p.to_zip().unwrap();
            assert_eq!(&z[..4], b"PK\x03\x04");
            u16::from_le_bytes([z[8], z[9]])
        };
        for name in [
            "Doc_0/Res/img.png",
            "Doc_0/Signs/Sign_0/Seal.esl",
            "Doc_0/Signs/Sign_0/SignedValue.dat",
        ] {
            assert_eq!(method(name), 0, "{name} stored");
        }
        for name in ["OFD.xml", "Doc_0/Res/font_1.ttf"] {
            assert_eq!(method(name), 8, "{name} deflated");
        }
    }

    #[test]
    fn round_trip_is_deterministic_and_keeps_order() {
        let mut p = Package::new();
        p.insert("OFD.xml", b"<a/>".to_vec()).unwrap();
        p.insert("Doc_0/Res/img.png", vec![1, 2, 3]).unwrap();
        p.insert("Doc_0/Document.xml", b"<b>".repeat(100)).unwrap();
        let z1 = p.to_zip().unwrap();
        let z2 = p.clone().to_zip().unwrap();
        assert_eq!(z1, z2);
        let q = Package::from_zip(&z1, &Limits::default()).unwrap();
        assert_eq!(q, p);
        assert_eq!(
            q.paths().collect::<Vec<_>>(),
            ["OFD.xml", "Doc_0/Res/img.png", "Doc_0/Document.xml"]
        );
    }

    #[test]
    fn insert_replaces_in_place_and_remove_reindexes() {
        let mut p = Package::new();
        p.insert("a", vec![1]).unwrap();
        p.insert("b", vec![2]).unwrap();
        p.insert("a", vec![3]).unwrap();
        assert_eq!(p.paths().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(p.get("a"), Some(&[3u8][..]));
        assert_eq!(p.remove("a"), Some(vec![3]));
        assert_eq!(p.get("b"), Some(&[2u8][..]));
        assert!(matches!(
            p.insert("B", vec![]),
            Err(PackageError::CaseVariant { .. })
        ));
        assert_eq!(p.case_variant_of("B"), Some("b"));
    }

    #[test]
    fn names_are_validated() {
        for (n, is_amb) in [
            ("/OFD.xml", true),
            ("C:/x", true),
            ("a/../b", true),
            ("..", true),
            ("a\\b", true),
            ("a//b", false),
            ("./a", false),
            ("", false),
            ("a\u{0}b", false),
            ("a/", false),
        ] {
            let e = validate_name(n).unwrap_err();
            assert_eq!(e.is_ambiguity(), is_amb, "{n:?}: {e}");
        }
        validate_name("Doc_0/Pages/Page_0/Content.xml").unwrap();
        validate_name("附件/说明.txt").unwrap();
    }

    #[test]
    fn reads_hand_made_zip_with_directory_entry_and_deflate() {
        let mut d = RawEntry::new("Doc_0/a.xml", &b"hello ".repeat(50));
        d.method = 8;
        let p = read(&[RawEntry::new("Doc_0/", b""), d]).unwrap();
        assert_eq!(p.paths().collect::<Vec<_>>(), ["Doc_0/a.xml"]);
        assert_eq!(p.get("Doc_0/a.xml").unwrap().len(), 300);
    }

    #[test]
    fn tolerates_a_prefix_before_the_zip() {
        let z = raw_zip(&[RawEntry::new("OFD.xml", b"x")], b"MZ-stub-bytes");
        let p = Package::from_zip(&z, &Limits::default()).unwrap();
        assert_eq!(p.get("OFD.xml"), Some(&b"x"[..]));
    }

    #[test]
    fn rejects_absolute_parent_backslash_names() {
        let e = read(&[RawEntry::new("/OFD.xml", b"x")]).unwrap_err();
        assert!(matches!(e, PackageError::AbsolutePath { ref name } if name == "/OFD.xml"));
        let e = read(&[RawEntry::new("Doc_0/../../evil", b"x")]).unwrap_err();
        assert!(matches!(e, PackageError::ParentTraversal { .. }), "{e}");
        let e = read(&[RawEntry::new("Doc_0\\x", b"x")]).unwrap_err();
        assert!(matches!(e, PackageError::Backslash { .. }), "{e}");
        assert!(e.to_string().contains("Doc_0\\\\x"), "{e}");
    }

    #[test]
    fn rejects_duplicates_and_case_variants() {
        let e = read(&[
            RawEntry::new("OFD.xml", b"1"),
            RawEntry::new("OFD.xml", b"2"),
        ])
        .unwrap_err();
        assert_eq!(
            e,
            PackageError::DuplicateName {
                name: "OFD.xml".into()
            }
        );
        assert!(e.is_ambiguity());
        let e = read(&[
            RawEntry::new("Doc_0/Tpls/a.xml", b"1"),
            RawEntry::new("Doc_0/TPLS/a.xml", b"2"),
        ])
        .unwrap_err();
        assert!(matches!(e, PackageError::CaseVariant { .. }), "{e}");
        assert!(e.to_string().contains("TPLS"));
    }

    #[test]
    fn rejects_local_header_disagreement() {
        let mut a = RawEntry::new("OFD.xml", b"good");
        a.local_name = Some(b"OFD.xmm".to_vec());
        let e = read(&[a]).unwrap_err();
        assert!(matches!(e, PackageError::HeaderMismatch { .. }), "{e}");
        let mut a = RawEntry::new("OFD.xml", b"good");
        a.local_crc = Some(7);
        assert!(matches!(
            read(&[a]).unwrap_err(),
            PackageError::HeaderMismatch { .. }
        ));
        let mut a = RawEntry::new("OFD.xml", b"good");
        a.local_flags = Some(0);
        assert!(matches!(
            read(&[a]).unwrap_err(),
            PackageError::HeaderMismatch { .. }
        ));
    }

    #[test]
    fn rejects_local_entries_hidden_from_the_central_directory() {
        let mut hidden = RawEntry::new("Doc_0/Signs/evil.xml", b"x");
        hidden.in_cd = false;
        let e = read(&[RawEntry::new("OFD.xml", b"a"), hidden]).unwrap_err();
        assert!(matches!(e, PackageError::HeaderMismatch { ref name, .. } if name == "OFD.xml"));
        let mut hidden = RawEntry::new("evil.xml", b"x");
        hidden.in_cd = false;
        let e = read(&[hidden, RawEntry::new("OFD.xml", b"a")]).unwrap_err();
        assert!(e.to_string().contains("not listed"), "{e}");
    }

    #[test]
    fn rejects_encrypted_and_unknown_methods() {
        let mut a = RawEntry::new("OFD.xml", b"x");
        a.flags |= 1;
        assert!(matches!(
            read(&[a]).unwrap_err(),
            PackageError::Encrypted { .. }
        ));
        let mut a = RawEntry::new("OFD.xml", b"x");
        a.method = 12;
        assert!(matches!(
            read(&[a]).unwrap_err(),
            PackageError::UnsupportedMethod { .. }
        ));
    }

    #[test]
    fn rejects_bad_crc_and_lying_sizes() {
        let mut a = RawEntry::new("OFD.xml", b"x");
        a.crc = Some(1);
        assert!(matches!(
            read(&[a]).unwrap_err(),
            PackageError::Corrupt { .. }
        ));
        let mut a = RawEntry::new("OFD.xml", &[b'a'; 1000]);
        a.method = 8;
        a.usize_ = Some(10);
        let e = read(&[a]).unwrap_err();
        assert!(e.to_string().contains("declared 10"), "{e}");
    }

    #[test]
    fn limits_entries_sizes_and_ratio() {
        let mut a = RawEntry::new("big.xml", &vec![0u8; 3 << 20]);
        a.method = 8;
        let z = raw_zip(&[a], b"");
        let e = Package::from_zip(&z, &Limits::default()).unwrap_err();
        assert!(matches!(e, PackageError::RatioTooHigh { ref name, .. } if name == "big.xml"));
        let lim = Limits {
            max_entry_size: 1 << 20,
            ..Limits::default()
        };
        assert!(matches!(
            Package::from_zip(&z, &lim).unwrap_err(),
            PackageError::EntryTooLarge { .. }
        ));
        let lim = Limits {
            max_total_size: 1 << 20,
            max_entry_size: 4 << 20,
            ..Limits::default()
        };
        assert!(matches!(
            Package::from_zip(&z, &lim).unwrap_err(),
            PackageError::TotalTooLarge { .. }
        ));
        let z = raw_zip(&[RawEntry::new("a", b""), RawEntry::new("b", b"")], b"");
        let lim = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(matches!(
            Package::from_zip(&z, &lim).unwrap_err(),
            PackageError::TooManyEntries { count: 2, limit: 1 }
        ));
    }

    #[test]
    fn not_zip_and_truncation_are_errors_not_panics() {
        assert!(matches!(
            Package::from_zip(b"hello", &Limits::default()),
            Err(PackageError::NotZip(_))
        ));
        let z = raw_zip(&[RawEntry::new("OFD.xml", b"abc")], b"");
        for cut in 0..z.len() {
            let _ = Package::from_zip(&z[..cut], &Limits::default());
            let _ = Package::from_zip(&z[cut..], &Limits::default());
        }
    }
}
