//! Helpers shared by the integration tests.
#![allow(dead_code)]

use gridmatrix::{Ecc, Options};
use std::process::Command;

/// A vector from a JSON-lines file made with zint.
#[derive(Debug)]
pub struct Vector {
    pub id: String,
    pub input: String,
    pub input_hex: String,
    pub options: Vec<String>,
    pub version: u8,
    pub ecc: u8,
    pub modes: String,
    pub rows: Vec<String>,
}

pub fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// zint's canonical vectors, in the repository's `fixtures/gridmatrix`.
pub const ZINT_CANONICAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/gridmatrix/zint-canonical.jsonl"
);

pub fn load_vectors(path: &str) -> Vec<Vector> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("无法读取向量文件 {path}（{e}），它应在本仓库中：fixtures/gridmatrix/ 或 crates/gridmatrix/tests/data/ (cannot read the vector file {path}: {e}; it belongs in this repository, in fixtures/gridmatrix/ or crates/gridmatrix/tests/data/)")
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            let s = |k: &str| {
                v[k].as_str()
                    .unwrap_or_else(|| panic!("field {k}"))
                    .to_string()
            };
            Vector {
                id: s("id"),
                input: s("input"),
                input_hex: s("input_hex"),
                options: v["options"]
                    .as_array()
                    .expect("options")
                    .iter()
                    .map(|o| o.as_str().expect("option").to_string())
                    .collect(),
                version: v["version"].as_u64().expect("version") as u8,
                ecc: v["ecc"].as_u64().expect("ecc") as u8,
                modes: s("modes"),
                rows: rows_of(&v),
            }
        })
        .collect()
}

/// `rows` (0/1 strings) or `rows_hex` (4 modules a hex digit, MSB first, zero-padded).
fn rows_of(v: &serde_json::Value) -> Vec<String> {
    let size = v["size"].as_u64().expect("size") as usize;
    if let Some(rows) = v["rows"].as_array() {
        return rows
            .iter()
            .map(|r| r.as_str().expect("row").to_string())
            .collect();
    }
    v["rows_hex"]
        .as_array()
        .expect("rows or rows_hex")
        .iter()
        .map(|r| {
            let bits: String = r
                .as_str()
                .expect("hex row")
                .chars()
                .map(|c| format!("{:04b}", c.to_digit(16).expect("hex digit")))
                .collect();
            bits[..size].to_string()
        })
        .collect()
}

/// zint CLI flags → our options; returns (options, binary input?).
pub fn zint_flags_to_options(flags: &[String]) -> (Options, bool) {
    let mut o = Options::default();
    let mut binary = false;
    for f in flags {
        if let Some(v) = f.strip_prefix("--vers=") {
            o = o.version(v.parse().expect("vers"));
        } else if let Some(v) = f.strip_prefix("--secure=") {
            o = o.ecc(Ecc::Prefer(v.parse().expect("secure")));
        } else if let Some(v) = f.strip_prefix("--eci=") {
            o = o.eci(v.parse().expect("eci"));
        } else if f == "--binary" {
            binary = true;
        } else if f == "--fullmultibyte" {
            // Our byte input always lets GB 2312 pairs use Chinese mode (see crate docs).
        } else {
            panic!("unknown zint flag in vector: {f}");
        }
    }
    (o, binary)
}

/// Runs `zint -b GRIDMATRIX --dump` on exact bytes; returns the rows as 0/1 strings.
pub fn zint_dump(data: &[u8], flags: &[String]) -> Vec<String> {
    zint_dump_with_eci(data, flags).0
}

/// [`zint_dump`], and the ECI zint chose by itself, read from its warning on standard error
/// ("Warning 222: Encoded data includes ECI 3").
pub fn zint_dump_with_eci(data: &[u8], flags: &[String]) -> (Vec<String>, Option<u32>) {
    let dir = std::env::temp_dir().join(format!("gm-zint-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("in.bin");
    std::fs::write(&input, data).expect("write input");
    let out = Command::new("zint")
        .args(["-b", "GRIDMATRIX", "--dump"])
        .args(flags)
        .arg("-i")
        .arg(&input)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `zint` ({e}): install Debian package `zint` (listed in .ci/packages/gridmatrix.apt; run scripts/setup)")
        });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "zint failed on {:02x?} {flags:?}: {}",
        data,
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let eci = stderr.lines().find_map(|l| {
        l.strip_prefix("Warning 222: Encoded data includes ECI ")
            .map(|n| {
                n.trim()
                    .parse::<u32>()
                    .expect("ECI number in zint's warning")
            })
    });
    (parse_dump(&String::from_utf8_lossy(&out.stdout)), eci)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Parses zint's `--dump` (hex, 4 modules a digit, spaces ignored) into rows of 0/1.
pub fn parse_dump(dump: &str) -> Vec<String> {
    let rows: Vec<String> = dump
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| format!("{:04b}", c.to_digit(16).expect("hex digit")))
                .collect::<String>()
        })
        .collect();
    let n = rows.len();
    rows.into_iter().map(|r| r[..n].to_string()).collect()
}

pub fn diff_rows(ours: &[String], theirs: &[String]) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!("size {} vs {}", ours.len(), theirs.len()));
    }
    for (y, (a, b)) in ours.iter().zip(theirs).enumerate() {
        if a != b {
            let x = a
                .chars()
                .zip(b.chars())
                .position(|(p, q)| p != q)
                .unwrap_or(0);
            return Some(format!("first difference at row {y}, column {x}"));
        }
    }
    None
}
