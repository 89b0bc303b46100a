//! A second zint as oracle: libzint 2.15 bundled in PyPI `zint-bindings` (Debian's CLI is
//! 2.11.1), driven through `tests/zint_bindings_oracle.py` in the oracle venv
//! (`$ECERT_ORACLE_VENV`, default /opt/ecert-oracles; `.ci/packages/gridmatrix.pip`).
//! * every single-class vector (shared fixture and ours) is encoded the same by this zint;
//! * on mixed inputs our stream is never longer than this zint's where its symbol is right;
//! * its release still has both bugs shown in `tests/zint_bugs.rs`;
//! * for text with "·" or "—" it picks the same ECI as we do.
mod common;
use common::*;
use gridmatrix::decode::{DecodeOptions, decode_rows};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl Oracle {
    fn start() -> Oracle {
        let venv =
            std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
        let python = format!("{venv}/bin/python");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zint_bindings_oracle.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} ({e}): run scripts/setup to create the oracle venv with zint-bindings"));
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("oracle greeting");
        let v: serde_json::Value = serde_json::from_str(&first).unwrap_or_else(|_| {
            panic!("oracle failed to start (zint-bindings missing? run scripts/setup): {first:?}")
        });
        let version = v["zint"].as_str().expect("zint version").to_string();
        Oracle {
            child,
            stdin,
            stdout,
            version,
        }
    }

    /// Rows of zint's symbol, or zint's error text.
    fn encode(
        &mut self,
        data: &[u8],
        vers: Option<u8>,
        secure: Option<u8>,
        eci: Option<u32>,
        binary: bool,
    ) -> Result<Vec<String>, String> {
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        let req = serde_json::json!({"hex": hex, "vers": vers, "secure": secure, "eci": eci, "binary": binary});
        writeln!(self.stdin, "{req}").expect("write to oracle");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("oracle answer");
        let v: serde_json::Value = serde_json::from_str(&line).expect("oracle JSON");
        match v["rows"].as_array() {
            Some(rows) => Ok(rows
                .iter()
                .map(|r| r.as_str().expect("row").to_string())
                .collect()),
            None => Err(v["error"].as_str().unwrap_or("?").to_string()),
        }
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn flag<T: std::str::FromStr>(v: &Vector, name: &str) -> Option<T> {
    v.options
        .iter()
        .find_map(|o| o.strip_prefix(name))
        .and_then(|s| s.parse().ok())
}

#[test]
fn r_4_3_4_single_class_vectors_equal_libzint_2_15() {
    let mut z = Oracle::start();
    let mut vectors = load_vectors(ZINT_CANONICAL);
    vectors.extend(load_vectors(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/zint-single-class.jsonl"
    )));
    let mut compared = 0;
    for v in &vectors {
        let binary = v.options.iter().any(|o| o == "--binary");
        if binary {
            continue; // zint-bindings has no --fullmultibyte switch in DATA mode
        }
        let theirs = z
            .encode(
                &hex_to_bytes(&v.input_hex),
                flag(v, "--vers="),
                flag(v, "--secure="),
                flag(v, "--eci="),
                false,
            )
            .unwrap_or_else(|e| panic!("{}: zint {} failed: {e}", v.id, z.version));
        if let Some(d) = diff_rows(&v.rows, &theirs) {
            panic!(
                "{}: zint {} differs from the stored vector: {d}",
                v.id, z.version
            );
        }
        compared += 1;
    }
    assert!(compared > 200, "{compared} compared");
}

/// A small deterministic generator of mixed inputs (xorshift).
fn mixed_inputs(n: usize) -> Vec<String> {
    let pieces: [&[&str]; 6] = [
        &["0", "1", "2", "5", "7", "9", "12", "345", "2025", "0001"],
        &["A", "B", "CN", "CNAS", "JZ", "X", "L"],
        &["a", "v", "cert", "example", "https", "b"],
        &[" ", ".", "-", ",", "+", "/", ":", "://", "?", "="],
        &["检定", "校准", "证书", "电子", "质字", "号"],
        &["(", ")", "~", "@", "#", "\r\n"],
    ];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 1 + (next() % 14) as usize;
            (0..len)
                .map(|_| {
                    let class = pieces[(next() % 6) as usize];
                    class[(next() % class.len() as u64) as usize]
                })
                .collect()
        })
        .collect()
}

#[test]
fn segmentation_never_longer_than_libzint_2_15() {
    let mut z = Oracle::start();
    let lenient = DecodeOptions::default().accept_zint_byte_indicator_bug(true);
    let (mut compared, mut zint_wrong, mut shorter) = (0, 0, 0);
    for s in mixed_inputs(300) {
        let ours = gridmatrix::encode(&s, &Default::default()).expect("fits");
        let rows = z
            .encode(s.as_bytes(), None, None, None, false)
            .expect("zint encodes");
        let theirs = decode_rows(&rows, &lenient)
            .unwrap_or_else(|e| panic!("{s:?}: zint's symbol does not read: {e}"));
        if theirs.text().ok().as_deref() != Some(s.as_str()) {
            zint_wrong += 1; // its Numeral bug: not a valid encoding of the input
            continue;
        }
        assert!(
            ours.data_bits() <= theirs.data_bits,
            "{s:?}: ours {} ({}) > zint {} ({})",
            ours.data_bits(),
            ours.modes_summary(),
            theirs.data_bits,
            theirs.modes_summary()
        );
        assert!(ours.version() <= theirs.version);
        compared += 1;
        if ours.data_bits() < theirs.data_bits {
            shorter += 1;
        }
    }
    assert!(
        compared >= 200,
        "only {compared} compared ({zint_wrong} misencoded by zint)"
    );
    eprintln!(
        "zint {}: {compared} compared, ours shorter in {shorter}, {zint_wrong} misencoded by zint",
        z.version
    );
}

#[test]
fn libzint_2_15_still_has_both_bugs() {
    let mut z = Oracle::start();
    let rows = z
        .encode(b"1.2.156.112", None, None, None, false)
        .expect("encodes");
    let read = decode_rows(&rows, &DecodeOptions::default()).expect("well formed");
    assert_eq!(
        read.text().expect("text"),
        "1.20.156.112",
        "zint {}",
        z.version
    );
    let rows = z
        .encode(b"\x80\x81\x82", None, None, None, true)
        .expect("encodes");
    assert!(
        decode_rows(&rows, &DecodeOptions::default()).is_err(),
        "zint {}: Byte start reads strictly",
        z.version
    );
    let read = decode_rows(
        &rows,
        &DecodeOptions::default().accept_zint_byte_indicator_bug(true),
    )
    .expect("lenient");
    assert_eq!(read.bytes(), b"\x80\x81\x82");
}

/// Issue 19 with the newer zint: for text with "·" or "—" libzint 2.15 picks the same ECI as
/// we do (3 or 26), its symbol reads (leniently: its Byte-start bug) as the input, and where
/// it starts in a text mode the symbol is ours bit for bit.
#[test]
fn ambiguous_cells_libzint_2_15_picks_our_eci_for_the_middle_dot() {
    let mut z = Oracle::start();
    let lenient = DecodeOptions::default().accept_zint_byte_indicator_bug(true);
    for (input, eci, same_symbol) in [
        ("https://a.cn/v/x·y", 3, true),
        ("ABC·DEF", 3, true),
        ("检定电子证书·质字", 26, false),
        ("第一章—总则", 26, false),
        ("Straße·1", 3, false),
    ] {
        let rows = z
            .encode(input.as_bytes(), None, None, None, false)
            .unwrap_or_else(|e| panic!("{input:?}: zint {} failed: {e}", z.version));
        let theirs = decode_rows(&rows, &lenient).expect("zint's symbol reads");
        let ours = gridmatrix::encode(input, &Default::default()).expect("fits");
        assert_eq!(ours.eci(), Some(eci), "{input:?}");
        assert_eq!(theirs.ecis, vec![eci], "{input:?}: zint {}", z.version);
        assert_eq!(theirs.text().expect("text"), input);
        assert_eq!(theirs.data_bits, ours.data_bits(), "{input:?}");
        assert_eq!(
            diff_rows(&ours.rows(), &rows).is_none(),
            same_symbol,
            "{input:?}: ours {}, zint {}",
            ours.modes_summary(),
            theirs.modes_summary()
        );
    }
}
