//! Inputs that released zint (Debian 2.11.1, and every release up to 2.16.0) misencodes
//! run live against the zint CLI. Each test shows zint's symbol is wrong
//! when read by our decoder, and that ours reads back right.
mod common;
use common::*;
use gridmatrix::decode::{DecodeError, DecodeOptions, decode_rows, decode_symbol};
use gridmatrix::{Ecc, Mode, Options};

/// Bug 2: Numeral groups with several non-digits. zint writes "1.2.156.112" so that it reads
/// back as "1.20.156.112"; the identifier of starts with such an OID.
#[test]
fn zint_bug_numeral_with_several_nondigits_reads_back_wrong_ours_right() {
    for input in ["1.2.156.112", "1.2.156.10197.1.301"] {
        let theirs = zint_dump(input.as_bytes(), &[]);
        let z =
            decode_rows(&theirs, &DecodeOptions::default()).expect("zint's symbol is well formed");
        let z_text = z.text().expect("text");
        assert_ne!(
            z_text, input,
            "zint reads back right: the bug is gone from this zint"
        );
        let ours = gridmatrix::encode(input, &Options::default()).expect("encode");
        assert_eq!(
            decode_symbol(&ours)
                .expect("ours reads")
                .text()
                .expect("text"),
            input
        );
        eprintln!(
            "{input:?}: zint reads back {z_text:?} ({}), ours {}",
            z.modes_summary(),
            ours.modes_summary()
        );
    }
    let theirs = zint_dump(b"1.2.156.112", &[]);
    let z = decode_rows(&theirs, &DecodeOptions::default()).expect("zint's symbol");
    assert_eq!(z.text().expect("text"), "1.20.156.112");
}

/// Bug 1: data that start in Byte mode get the unassigned indicator 0110 instead of 0111.
#[test]
fn zint_bug_byte_indicator_at_start_ours_is_0111() {
    let cases: [(&[u8], &[&str]); 3] = [
        (b"\x80\x81\x82\xff", &["--binary"]),
        ("校准证书".as_bytes(), &["--eci=26"]),
        (b"~~~~~~~~", &[]),
    ];
    for (data, flags) in cases {
        let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        let theirs = zint_dump(data, &flags);
        let strict = decode_rows(&theirs, &DecodeOptions::default());
        assert!(
            matches!(strict, Err(DecodeError::Bitstream { .. })),
            "{data:02x?}: zint's symbol reads strictly ({strict:?}): the bug is gone from this zint"
        );
        let lenient = decode_rows(
            &theirs,
            &DecodeOptions::default().accept_zint_byte_indicator_bug(true),
        )
        .expect("zint's symbol with 0110 read as Byte");
        assert_eq!(lenient.segments.first().map(|s| s.mode), Some(Mode::Byte));

        let (opts, binary) = zint_flags_to_options(&flags);
        let ours = if binary {
            gridmatrix::encode_bytes(data, &opts)
        } else {
            gridmatrix::encode(std::str::from_utf8(data).expect("utf-8"), &opts)
        }
        .expect("encode");
        let back = decode_symbol(&ours).expect("ours reads strictly");
        assert_eq!(
            back.bytes(),
            lenient.bytes(),
            "{data:02x?}: same content as zint meant"
        );
        assert_eq!(
            back.segments.first().map(|s| s.mode),
            Some(Mode::Byte),
            "{data:02x?}: starts in Byte"
        );
    }
}

/// Bug 3: zint 2.11.1 limits version 3 to 79 data codewords instead of 89 (ECC level 1).
#[test]
fn zint_bug_version3_capacity_ours_uses_all_89_codewords() {
    // 180 digits in Numeral: 4 + 2 + 60 groups × 10 + end 10 = 616 bits = 88 codewords
    // (more than zint's 79, within the real 89).
    let input = "7".repeat(180);
    let ours = gridmatrix::encode(&input, &Options::default().version(3).ecc(Ecc::Fixed(1)))
        .expect("fits v3");
    assert_eq!(ours.data_codewords(), 88);
    assert_eq!(ours.capacity_codewords(), 89);
    assert_eq!(
        decode_symbol(&ours).expect("reads").text().expect("text"),
        input
    );
    let out = std::process::Command::new("zint")
        .args(["-b", "GRIDMATRIX", "--dump", "--vers=3", "-d", &input])
        .output()
        .expect("zint (Debian package zint) must be installed: run scripts/setup");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // zint either refuses or grows the symbol beyond version 3.
    let rows = stdout.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        !out.status.success() || rows != 42,
        "zint put 88 codewords in version 3: the bug is gone ({stderr})"
    );
    eprintln!(
        "zint --vers=3 on 88 codewords: status {:?}, {rows} rows, {stderr}",
        out.status.code()
    );
}
