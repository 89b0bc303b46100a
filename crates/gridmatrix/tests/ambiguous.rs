//! Issue 19: GB 2312 cells that the common tables read back as different characters.
//!
//! * Python's `gb2312` codec (the Unicode GB2312.TXT table, as zint and zxing-cpp use it) and
//!   `encoding_rs`'s GB18030 decoder (GB 18030 / GBK / WHATWG) are compared over all 94 × 94
//!   cells: exactly A1A4 (U+30FB "・" / U+00B7 "·") and A1AA (U+2015 "―" / U+2014 "—")
//!   differ. Every other GB 2312 character still needs no ECI; the four characters of those
//!   two cells get one, and never appear as a GB 2312 double-byte code.
//! * Symbols are read by our decoder, and their bytes then turned into text by Python's
//!   codecs (`gb2312` for the default character set, as a GB2312.TXT reader does): the text
//!   of a default symbol comes back unchanged, that of an `Ambiguous::Gb2312` symbol with
//!   "・" for "·".
//!
//! Python is the oracle venv's (`$ECERT_ORACLE_VENV`, default /opt/ecert-oracles; made by
//! scripts/setup); only its standard library is used.
use gridmatrix::decode::{Decoded, decode_symbol};
use gridmatrix::{Ambiguous, Error, Mode, Options};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `script` with the oracle Python, `input` on stdin; returns stdout.
fn python(script: &str, input: &str) -> String {
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let python = format!("{venv}/bin/python");
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} ({e}): run scripts/setup to create the oracle venv")
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python");
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "python failed");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Python's `gb2312` decoding of every two-byte cell A1A1–FEFE: `[[code, scalar], …]` for the
/// cells it assigns.
const CELLS_SCRIPT: &str = r#"
import json
out = []
for c1 in range(0xA1, 0xFF):
    for c2 in range(0xA1, 0xFF):
        try:
            s = bytes([c1, c2]).decode("gb2312")
        except UnicodeDecodeError:
            continue
        assert len(s) == 1
        out.append([(c1 << 8) | c2, ord(s)])
print(json.dumps(out))
"#;

/// Cells Python's `gb2312` assigns, with its character and `encoding_rs`'s GB18030 one.
fn cells() -> Vec<(u16, char, char)> {
    let v: serde_json::Value =
        serde_json::from_str(&python(CELLS_SCRIPT, "")).expect("JSON from python");
    v.as_array()
        .expect("array")
        .iter()
        .map(|pair| {
            let code = pair[0].as_u64().expect("code") as u16;
            let py = char::from_u32(pair[1].as_u64().expect("scalar") as u32).expect("char");
            let bytes = [(code >> 8) as u8, code as u8];
            let (s, bad) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            assert!(!bad, "{code:04X}: GB 2312 cell unknown to encoding_rs");
            let mut chars = s.chars();
            let rs = chars.next().expect("one char");
            assert_eq!(chars.next(), None, "{code:04X}");
            (code, py, rs)
        })
        .collect()
}

#[test]
fn ambiguous_cells_only_a1a4_and_a1aa_differ_between_gb2312_txt_and_gb18030() {
    let cells = cells();
    assert_eq!(cells.len(), 7445, "assigned GB 2312 cells");
    let differ: Vec<(u16, char, char)> = cells.into_iter().filter(|c| c.1 != c.2).collect();
    assert_eq!(
        differ,
        vec![
            (0xA1A4, '\u{30FB}', '\u{00B7}'),
            (0xA1AA, '\u{2015}', '\u{2014}')
        ]
    );
}

/// Double-byte (GB 2312) codes written in Chinese mode, under any ECI: each gives two bytes
/// for one character, while every other Chinese-mode code (a single byte, a digit pair, CR LF)
/// gives as many bytes as characters.
fn double_byte_count(d: &Decoded) -> usize {
    d.segments
        .iter()
        .filter(|s| s.mode == Mode::Chinese)
        .map(|s| s.bytes.len() - s.chars)
        .sum()
}

/// The double-byte codes of the Chinese-mode segments without ECI or under ECI 29 (there,
/// bytes from A1 up start a double-byte code).
fn gb_codes(d: &Decoded) -> Vec<u16> {
    d.segments
        .iter()
        .filter(|s| s.mode == Mode::Chinese && s.eci.is_none_or(|e| e == 29))
        .flat_map(|s| {
            let mut codes = Vec::new();
            let mut i = 0;
            while let Some(&b) = s.bytes.get(i) {
                if b >= 0xA1
                    && let Some(&b2) = s.bytes.get(i + 1)
                {
                    codes.push(u16::from(b) << 8 | u16::from(b2));
                    i += 2;
                } else {
                    i += 1;
                }
            }
            codes
        })
        .collect()
}

#[test]
fn ambiguous_cells_every_gb2312_character_by_the_rule() {
    let gb = Options::default().gb2312_ambiguous(Ambiguous::Gb2312);
    for (code, py, rs) in cells() {
        let chars: &[char] = if py == rs { &[py] } else { &[py, rs] };
        for &c in chars {
            let text = c.to_string();
            let sym = gridmatrix::encode(&text, &Options::default()).expect("one char fits");
            let back = decode_symbol(&sym).expect("reads");
            assert_eq!(back.text().expect("text"), text, "{code:04X}");
            if py == rs {
                assert_eq!(sym.eci(), None, "{code:04X} {c}");
                assert_eq!(sym.modes_summary(), "H1", "{code:04X} {c}");
                assert_eq!(back.bytes(), [(code >> 8) as u8, code as u8]);
            } else {
                // "·" fits ISO 8859-1; the other three need UTF-8.
                let eci = if u32::from(c) <= 0xFF { 3 } else { 26 };
                assert_eq!(sym.eci(), Some(eci), "{code:04X} {c:?}");
                assert_eq!(double_byte_count(&back), 0, "{code:04X} {c:?}");
                // The old behaviour writes the cell.
                let old = gridmatrix::encode(&text, &gb).expect("fits");
                assert_eq!(
                    (old.eci(), old.modes_summary().as_str()),
                    (None, "H1"),
                    "{c:?}"
                );
                let old_back = decode_symbol(&old).expect("reads");
                assert_eq!(gb_codes(&old_back), vec![code]);
            }
        }
    }
}

/// Cells GB 18030 assigns in rows A1–A9 that GB 2312 leaves empty (ⅰ–ⅹ, ń, ň, ɑ, ɡ, vertical
/// forms): not GB 2312, so never written as a double-byte code either.
#[test]
fn gbk_only_cells_of_the_symbol_rows_go_under_an_eci() {
    let gb2312: std::collections::HashSet<u16> = cells().into_iter().map(|c| c.0).collect();
    let mut seen = 0;
    for c1 in 0xA1u8..=0xA9 {
        for c2 in 0xA1u8..=0xFE {
            let code = u16::from(c1) << 8 | u16::from(c2);
            if gb2312.contains(&code) {
                continue;
            }
            let bytes = [c1, c2];
            let (s, bad) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            if bad || s.chars().any(|c| ('\u{E000}'..='\u{F8FF}').contains(&c)) {
                continue; // unassigned, or a private-use cell
            }
            seen += 1;
            let sym = gridmatrix::encode(&s, &Options::default()).expect("fits");
            assert_eq!(sym.eci(), Some(26), "{code:04X} {s:?}");
            let back = decode_symbol(&sym).expect("reads");
            assert_eq!(back.text().expect("text"), s.as_ref());
            assert_eq!(double_byte_count(&back), 0);
        }
    }
    assert!(seen >= 30, "{seen} GBK-only cells");
}

/// Turns a decoded symbol's bytes into text with Python's codecs, per ECI: none or 29 with
/// `gb2312` (the GB2312.TXT table of zint and zxing-cpp), 26 `utf-8`, 3 `latin-1`.
const READ_SCRIPT: &str = r#"
import json, sys
names = {None: "gb2312", 29: "gb2312", 26: "utf-8", 3: "latin-1"}
for line in sys.stdin:
    segs = json.loads(line)
    print(json.dumps("".join(bytes.fromhex(h).decode(names[e]) for e, h in segs)))
"#;

fn python_reads(symbols: &[&gridmatrix::Symbol]) -> Vec<String> {
    let mut input = String::new();
    for sym in symbols {
        let back = decode_symbol(sym).expect("reads");
        let segs: Vec<serde_json::Value> = back
            .segments
            .iter()
            .map(|s| {
                let hex: String = s.bytes.iter().map(|b| format!("{b:02x}")).collect();
                serde_json::json!([s.eci, hex])
            })
            .collect();
        input.push_str(&serde_json::Value::from(segs).to_string());
        input.push('\n');
    }
    python(READ_SCRIPT, &input)
        .lines()
        .map(|l| serde_json::from_str::<String>(l).expect("JSON string"))
        .collect()
}

const SAMPLES: [&str; 8] = [
    "检定电子证书·质字20211203-2377",
    "1.2.156.112·1·123456788·（苏）法计（2023）00001·JZ-2026-0001·0",
    "1.2.156.112233·7·12100000400012345X·CNAS L0001·2025JZ000123·0",
    "https://cert.example.cn/v/ab3·def",
    "第一章—总则",
    "x・y―z",
    "CNAS L0001·2025",
    "校准电子证书-1022CN0200036",
];

#[test]
fn ambiguous_cells_a_gb2312_txt_reader_gets_the_text_back() {
    let default: Vec<gridmatrix::Symbol> = SAMPLES
        .iter()
        .map(|s| gridmatrix::encode(s, &Options::default()).expect("fits"))
        .collect();
    let read = python_reads(&default.iter().collect::<Vec<_>>());
    assert_eq!(
        read, SAMPLES,
        "default symbols as a GB2312.TXT reader sees them"
    );
    // And our decoder (GB 18030 mapping) agrees.
    for (sym, s) in default.iter().zip(SAMPLES) {
        assert_eq!(decode_symbol(sym).expect("reads").text().expect("text"), s);
    }

    // The old behaviour: the GB2312.TXT reader sees "・" and "―" where the text had "·", "—".
    let gb = Options::default().gb2312_ambiguous(Ambiguous::Gb2312);
    let old: Vec<gridmatrix::Symbol> = SAMPLES
        .iter()
        .map(|s| gridmatrix::encode(s, &gb).expect("fits"))
        .collect();
    let read = python_reads(&old.iter().collect::<Vec<_>>());
    for ((got, s), sym) in read.iter().zip(SAMPLES).zip(&old) {
        let seen_by_txt = s
            .replace('\u{00B7}', "\u{30FB}")
            .replace('\u{2014}', "\u{2015}");
        assert_eq!(got, &seen_by_txt, "{}", sym.modes_summary());
    }
    assert_ne!(
        read[0], SAMPLES[0],
        "the issue's example changes without an ECI"
    );
}

/// The example that showed the problem.
#[test]
fn ambiguous_cells_middle_dot_is_not_written_as_a1a4() {
    let text = "检定电子证书·质字";
    let sym = gridmatrix::encode(text, &Options::default()).expect("fits");
    assert_eq!(sym.eci(), Some(26));
    let back = decode_symbol(&sym).expect("reads");
    assert_eq!(double_byte_count(&back), 0, "{}", back.modes_summary());
    assert!(
        !back.bytes().windows(2).any(|w| w == [0xA1, 0xA4]),
        "{:02x?}",
        back.bytes()
    );
    assert_eq!(back.text().expect("text"), text);
    assert!(back.text().expect("text").contains('\u{00B7}'));
    // The earlier behaviour (and on request): GB 2312 A1A4 in Chinese mode, no ECI.
    let old = gridmatrix::encode(
        text,
        &Options::default().gb2312_ambiguous(Ambiguous::Gb2312),
    )
    .expect("fits");
    assert_eq!((old.eci(), old.modes_summary().as_str()), (None, "H9"));
    // The price: three UTF-8 bytes a hanzi instead of a 13-bit code (README).
    assert_eq!((sym.version(), old.version()), (3, 2));
    assert!(gb_codes(&decode_symbol(&old).expect("reads")).contains(&0xA1A4));
}

#[test]
fn eci_3_when_every_character_fits_latin_1_else_26() {
    for (s, eci) in [
        ("·", 3),
        ("CNAS L0001·2025", 3),
        ("https://cert.example.cn/v/ab3·def", 3),
        ("Straße·1", 3),
        ("Straße", 3), // outside GB 2312 (ß), inside ISO 8859-1
        ("—", 26),
        ("・", 26),
        ("a―b", 26),
        ("证书·", 26),
        ("α·β", 26),
    ] {
        let sym = gridmatrix::encode(s, &Options::default()).expect("fits");
        assert_eq!(sym.eci(), Some(eci), "{s:?}");
        let back = decode_symbol(&sym).expect("reads");
        assert_eq!(back.ecis, vec![eci]);
        assert_eq!(back.text().expect("text"), s);
    }
}

#[test]
fn forced_ecis_and_the_ambiguous_cells() {
    let text = "证书·2023";
    assert_eq!(
        gridmatrix::encode(text, &Options::default().eci(29)),
        Err(Error::AmbiguousInGb2312 {
            index: 2,
            ch: '·',
            code: 0xB7,
            cell: 0xA1A4
        })
    );
    assert_eq!(
        gridmatrix::encode("——", &Options::default().eci(29)),
        Err(Error::AmbiguousInGb2312 {
            index: 0,
            ch: '—',
            code: 0x2014,
            cell: 0xA1AA
        })
    );
    // Allowed explicitly: GB 2312 under ECI 29.
    let sym = gridmatrix::encode(
        text,
        &Options::default()
            .eci(29)
            .gb2312_ambiguous(Ambiguous::Gb2312),
    )
    .expect("fits");
    let back = decode_symbol(&sym).expect("reads");
    assert_eq!(back.ecis, vec![29]);
    assert!(gb_codes(&back).contains(&0xA1A4));
    // ECI 26 and 3 hold "·" as their own bytes.
    for (eci, bytes) in [(26, &[0xC2, 0xB7][..]), (3, &[0xB7][..])] {
        let sym = gridmatrix::encode("1·2", &Options::default().eci(eci)).expect("fits");
        let back = decode_symbol(&sym).expect("reads");
        assert_eq!(back.text().expect("text"), "1·2");
        assert!(back.bytes().windows(bytes.len()).any(|w| w == bytes));
    }
}

/// The certificate's code holds `{base_url}/v/{token}`: the token is ASCII (base32) and a base
/// URL is whatever the instance is configured with. A URL with "·" (or any character
/// outside ASCII) cannot change on the way through a reader.
#[test]
fn a_verification_url_with_a_middle_dot_reads_back_unchanged() {
    let token = "abcdefghijklmnopqrstuvwxyz";
    for base in [
        "https://cert.example.cn",
        "https://cert.example.cn/计量·证书",
        "https://example.cn/a·b",
    ] {
        let url = format!("{base}/v/{token}");
        let sym = gridmatrix::encode(&url, &Options::default()).expect("fits");
        let back = decode_symbol(&sym).expect("reads");
        assert_eq!(back.text().expect("text"), url);
        assert_eq!(double_byte_count(&back), 0, "{url}");
        let read = python_reads(&[&sym]);
        assert_eq!(read, vec![url.clone()], "as a GB2312.TXT reader sees it");
        if url.is_ascii() {
            assert_eq!(sym.eci(), None, "{url}");
        }
    }
}
