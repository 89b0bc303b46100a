//! Encoding arbitrary text or bytes with arbitrary options never panics, and whatever encodes
//! reads back to the input through the checking decoder.
#![no_main]
use gridmatrix::{Ambiguous, Ecc, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, v, e, eci], payload)) = data.split_first_chunk::<4>() else {
        return;
    };
    let mut o = Options::default();
    if flags & 1 != 0 {
        o.version = Some(v % 15);
    }
    if flags & 2 != 0 {
        o.min_version = Some(v / 16);
    }
    o.ecc = match (flags >> 2) & 3 {
        0 => Ecc::Recommended,
        1 => Ecc::Fixed(e % 7),
        _ => Ecc::Prefer(e % 7),
    };
    if flags & 16 != 0 {
        o.eci = Some(match eci % 6 {
            0 => 3,
            1 => 26,
            2 => 29,
            3 => 4,
            4 => u32::from(eci) * 4000,
            _ => u32::from(eci) * 40,
        });
    }
    if flags & 128 != 0 {
        o.gb2312_ambiguous = Ambiguous::Gb2312;
    }
    let text_mode = flags & 32 != 0;
    let result = if text_mode {
        gridmatrix::encode(&String::from_utf8_lossy(payload), &o)
    } else {
        gridmatrix::encode_bytes(payload, &o)
    };
    let Ok(sym) = result else { return };
    let back = gridmatrix::decode::decode_symbol(&sym).expect("our symbol must read back");
    if text_mode {
        let mut text = String::from_utf8_lossy(payload).into_owned();
        if matches!(sym.eci(), None | Some(29)) {
            // Only with Ambiguous::Gb2312 are cells A1A4 and A1AA written; they read back in
            // the GB 18030 mapping.
            assert!(
                o.gb2312_ambiguous == Ambiguous::Gb2312
                    || !text.contains(['\u{B7}', '\u{30FB}', '\u{2014}', '\u{2015}'])
            );
            text = text
                .replace('\u{30FB}', "\u{B7}")
                .replace('\u{2015}', "\u{2014}");
        }
        assert_eq!(back.text().expect("text"), text);
    } else {
        assert_eq!(back.bytes(), payload);
    }
    assert_eq!(back.data_bits, sym.data_bits());
    if flags & 64 != 0 {
        let _ = sym.to_svg(1, 6);
        let _ = sym.dark_rects_mm(25.0, 6);
        let _ = sym.to_png(1, 6).expect("png");
    }
});
