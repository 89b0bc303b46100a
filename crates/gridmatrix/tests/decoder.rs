//! The decoder is a real check, not a mirror of the encoder: damaged symbols are rejected
//! with the fault named.
use gridmatrix::Options;
use gridmatrix::decode::{DecodeError, DecodeOptions, decode_rows};

fn rows() -> Vec<String> {
    gridmatrix::encode("校准证书 1022CN0200036", &Options::default())
        .expect("fits")
        .rows()
}

fn flip(rows: &mut [String], x: usize, y: usize) {
    let mut r: Vec<u8> = rows[y].clone().into_bytes();
    r[x] = if r[x] == b'1' { b'0' } else { b'1' };
    rows[y] = String::from_utf8(r).expect("ascii");
}

#[test]
fn every_data_module_flip_is_caught_by_reed_solomon() {
    let good = rows();
    let n = good.len();
    let mut checked = 0;
    for my in 0..n / 6 {
        for mx in 0..n / 6 {
            // Interior rows 2–4 carry codeword bits only (row 1 starts with the layer ID).
            for (dx, dy) in [(1, 2), (4, 2), (2, 3), (3, 4), (4, 4)] {
                let mut bad = good.clone();
                flip(&mut bad, 6 * mx + dx, 6 * my + dy);
                let r = decode_rows(&bad, &DecodeOptions::default());
                assert!(
                    matches!(r, Err(DecodeError::ReedSolomon { .. })),
                    "({mx},{my}) +({dx},{dy}): {r:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
}

#[test]
fn layer_id_and_frame_damage_are_named() {
    let good = rows();
    let mut bad = good.clone();
    flip(&mut bad, 6 + 1, 1); // layer ID bit of macromodule (1, 0)
    assert!(matches!(
        decode_rows(&bad, &DecodeOptions::default()),
        Err(DecodeError::LayerId { mx: 1, my: 0, .. })
    ));
    let mut bad = good.clone();
    flip(&mut bad, 0, 3);
    assert_eq!(
        decode_rows(&bad, &DecodeOptions::default()),
        Err(DecodeError::Frame { x: 0, y: 3 })
    );
    let short: Vec<String> = good.iter().take(good.len() - 1).cloned().collect();
    assert!(matches!(
        decode_rows(&short, &DecodeOptions::default()),
        Err(DecodeError::BadSize { .. })
    ));
    let mut letters = good.clone();
    letters[2] = letters[2].replace('1', "x");
    assert!(matches!(
        decode_rows(&letters, &DecodeOptions::default()),
        Err(DecodeError::BadRow { row: 2, .. })
    ));
}

#[test]
fn intact_symbol_reads() {
    let back = decode_rows(&rows(), &DecodeOptions::default()).expect("reads");
    assert_eq!(back.text().expect("text"), "校准证书 1022CN0200036");
}

/// ECIs are read into text with their own character sets: the single-byte sets zint picks by
/// itself (here ISO 8859-2, -7, Windows-1250, -1251), GB 18030, and none for the others.
#[test]
fn eci_character_sets_are_read() {
    let cases: [(u32, &[u8], Option<&str>); 8] = [
        (4, &[0xF1], Some("ń")),
        (9, &[0xE1, 0xB7, 0xE2], Some("α·β")),
        (21, &[0x41, 0x97, 0x42], Some("A—B")),
        (22, &[0xC0], Some("А")),
        (32, &[0xA1, 0xA4, 0xA1, 0xAA], Some("·—")),
        (3, &[0xB7, 0xDF], Some("·ß")),
        (11, &[0xE1], None), // ISO 8859-9: not read (WHATWG has Windows-1254 instead)
        (899, &[0x00], None),
    ];
    for (eci, bytes, text) in cases {
        let sym = gridmatrix::encode_bytes(bytes, &Options::default().eci(eci)).expect("fits");
        let back = gridmatrix::decode::decode_symbol(&sym).expect("reads");
        assert_eq!(back.ecis, vec![eci]);
        match text {
            Some(t) => assert_eq!(back.text().expect("text"), t, "ECI {eci}"),
            None => assert_eq!(
                back.text(),
                Err(DecodeError::Charset { eci: Some(eci) }),
                "ECI {eci}"
            ),
        }
    }
}
