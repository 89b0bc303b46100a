//! Property tests: mixed content round-trips through our decoder at every version and ECC
//! level that holds it, including the identifier format of with U+00B7 and
//! every character of GB 2312's ambiguous cells, with either `Ambiguous` choice.
use gridmatrix::decode::decode_symbol;
use gridmatrix::{Ambiguous, Ecc, Error, Mode, Options};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Encodes at every allowed (version, ECC) and checks the round trip; returns how many fit.
fn every_size(text: &str) -> usize {
    every_size_with(text, &Options::default(), text)
}

/// [`every_size`] with base options and the text our decoder is to read back.
fn every_size_with(text: &str, base: &Options, expect: &str) -> usize {
    let mut fitted = 0;
    for v in 1..=13u8 {
        let min = match v {
            1 => 4,
            2 => 2,
            _ => 1,
        };
        for e in 1..=5u8 {
            let r = gridmatrix::encode(text, &base.clone().version(v).ecc(Ecc::Fixed(e)));
            match r {
                Ok(sym) => {
                    assert!(e >= min);
                    assert_eq!((sym.version(), sym.ecc()), (v, e));
                    assert!(sym.data_codewords() <= sym.capacity_codewords());
                    let back = decode_symbol(&sym)
                        .unwrap_or_else(|err| panic!("{text:?} v{v} e{e}: {err}"));
                    assert_eq!((back.version, back.ecc), (v, e));
                    assert_eq!(
                        back.text().expect("text"),
                        expect,
                        "v{v} e{e} {}",
                        sym.modes_summary()
                    );
                    assert_eq!(
                        back.data_bits,
                        sym.data_bits(),
                        "{text:?}: bit length as read"
                    );
                    fitted += 1;
                }
                Err(Error::EccNotAllowed { .. }) => assert!(e < min),
                Err(Error::DataTooLong {
                    capacity_bits,
                    needed_bits,
                    ..
                }) => assert!(needed_bits > capacity_bits),
                Err(other) => panic!("{text:?} v{v} e{e}: {other}"),
            }
        }
    }
    fitted
}

fn hanzi() -> impl Strategy<Value = char> {
    (0xB0u8..=0xD7, 0xA1u8..=0xF9).prop_map(|(c1, c2)| {
        let bytes = [c1, c2];
        let (s, _) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
        s.chars().next().unwrap_or('中')
    })
}

/// Double-byte (GB 2312) codes the symbol carries in Chinese mode (2 bytes for 1 character;
/// every other Chinese-mode code gives as many bytes as characters).
fn double_byte_count(sym: &gridmatrix::Symbol) -> usize {
    decode_symbol(sym)
        .expect("reads")
        .segments
        .iter()
        .filter(|s| s.mode == Mode::Chinese)
        .map(|s| s.bytes.len() - s.chars)
        .sum()
}

/// Text with at least one character of GB 2312's ambiguous cells (· ・ — ―), among hanzi,
/// digits, Latin letters, punctuation, identifier parts and URLs.
fn with_ambiguous() -> impl Strategy<Value = String> {
    let ambiguous = prop::sample::select(vec!["·", "・", "—", "―"]);
    let piece = prop_oneof![
        prop::collection::vec(hanzi(), 1..6).prop_map(|v| v.into_iter().collect::<String>()),
        "[0-9]{1,10}",
        "[A-Za-z]{1,8}",
        "[ .,:/+（）-]{1,2}",
        Just("1.2.156.112".to_string()),
        Just("（苏）法计（2023）00001".to_string()),
        Just("https://cert.example.cn/v/".to_string()),
        "[àéßü]{1,2}",
        ambiguous.clone().prop_map(str::to_string),
    ];
    (
        prop::collection::vec(piece, 0..10),
        ambiguous,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut pieces, a, at)| {
            let i = at.index(pieces.len() + 1);
            pieces.insert(i, a.to_string());
            pieces.concat()
        })
}

fn url() -> impl Strategy<Value = String> {
    (
        "(https|http)://(cert|verify)\\.example\\.(cn|com\\.cn)/v/",
        "[A-Za-z0-9]{4,44}",
        "(\\?n=[0-9]{6,12})?",
    )
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn chinese_with_digits() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::collection::vec(hanzi(), 1..8).prop_map(|v| v.into_iter().collect::<String>()),
        "[0-9]{1,10}",
        "[-—·（）：，。 ]",
        "[A-Z]{1,3}",
    ];
    prop::collection::vec(piece, 1..10).prop_map(|v| v.concat())
}

/// root · type · organisation · authorisation · serial · revision, joined by U+00B7.
fn identifier() -> impl Strategy<Value = String> {
    (
        "1\\.2\\.156\\.[0-9]{4,6}(\\.[0-9]{1,3}){0,2}",
        1u8..=8,
        "[0-9]{17}[0-9X]|[0-9A-HJ-NP-RTUWXY]{18}",
        "CNAS L[0-9]{4}|\\(国\\)法计[0-9]{8}号|[0-9]{12}",
        "[0-9]{4}[A-Z]{2}[0-9]{6}|[0-9]{10}",
        0u8..=9,
    )
        .prop_map(|(root, t, org, acc, serial, rev)| {
            format!("{root}·{t}·{org}·{acc}·{serial}·{rev}")
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn r_4_3_4_urls_round_trip_at_every_fitting_size(s in url()) {
        prop_assert!(every_size(&s) > 0);
    }

    #[test]
    fn r_4_3_4_chinese_with_digits_round_trips_at_every_fitting_size(s in chinese_with_digits()) {
        prop_assert!(every_size(&s) > 0);
    }

    #[test]
    fn r_4_5_5_identifier_round_trips_under_an_eci(s in identifier()) {
        prop_assert!(every_size(&s) > 0);
        // "·" is never GB 2312 A1A4: ISO 8859-1 (one byte, B7) when the whole
        // identifier fits it, else UTF-8; no GB 2312 double-byte code either way.
        let sym = gridmatrix::encode(&s, &Options::default()).expect("fits");
        let latin1 = s.chars().all(|c| u32::from(c) <= 0xFF);
        prop_assert_eq!(sym.eci(), Some(if latin1 { 3 } else { 26 }));
        prop_assert_eq!(double_byte_count(&sym), 0);
    }

    #[test]
    fn ambiguous_cells_ambiguous_characters_round_trip_mixed(s in with_ambiguous()) {
        prop_assert!(every_size(&s) > 0);
        let sym = gridmatrix::encode(&s, &Options::default()).expect("fits");
        prop_assert!(sym.eci().is_some(), "{:?}: {}", s, sym.modes_summary());
        prop_assert_eq!(double_byte_count(&sym), 0);
        // The old behaviour reads back in the GB 18030 mapping of the two cells.
        let gb = Options::default().gb2312_ambiguous(Ambiguous::Gb2312);
        let as_gb18030 = s.replace('\u{30FB}', "\u{00B7}").replace('\u{2015}', "\u{2014}");
        if gridmatrix::encode(&s, &gb).is_ok_and(|sym| sym.eci().is_none()) {
            prop_assert!(every_size_with(&s, &gb, &as_gb18030) > 0);
        } else {
            // Text outside GB 2312 (ß) goes under an ECI anyway and reads back as it is.
            prop_assert!(every_size_with(&s, &gb, &s) > 0);
        }
    }

    #[test]
    fn eci_3_is_never_longer_than_eci_26(s in "[\\x20-\\x7e\u{a0}-\u{ff}]{0,80}") {
        let latin1 = gridmatrix::encode(&s, &Options::default().eci(3)).expect("fits");
        let utf8 = gridmatrix::encode(&s, &Options::default().eci(26)).expect("fits");
        prop_assert!(latin1.data_bits() <= utf8.data_bits());
        let auto = gridmatrix::encode(&s, &Options::default()).expect("fits");
        if auto.eci().is_some() {
            prop_assert_eq!(auto.eci(), Some(3));
            prop_assert_eq!(auto.rows(), latin1.rows());
        }
    }

    #[test]
    fn any_text_round_trips(s in "\\PC{0,120}") {
        let sym = gridmatrix::encode(&s, &Options::default()).expect("120 chars fit");
        let back = decode_symbol(&sym).expect("reads");
        prop_assert_eq!(back.text().expect("text"), s);
    }

    #[test]
    fn any_ascii_with_controls_round_trips(s in "[\\x00-\\x7f]{0,200}") {
        let sym = gridmatrix::encode(&s, &Options::default()).expect("200 ASCII fit");
        prop_assert_eq!(sym.eci(), None);
        let back = decode_symbol(&sym).expect("reads");
        prop_assert_eq!(back.text().expect("text"), s);
    }

    #[test]
    fn any_bytes_round_trip_under_any_eci(data in prop::collection::vec(any::<u8>(), 0..300),
                                            eci in prop::option::of(prop_oneof![Just(3u32), Just(26), Just(29), 0u32..=811_799])) {
        let mut o = Options::default();
        o.eci = eci;
        let sym = gridmatrix::encode_bytes(&data, &o).expect("300 bytes fit");
        let back = decode_symbol(&sym).expect("reads");
        prop_assert_eq!(back.bytes(), data);
        prop_assert_eq!(back.ecis, eci.into_iter().collect::<Vec<_>>());
    }
}

/// The sample identifier goes under ECI 3, "·" as the single byte B7; the symbol is no larger
/// than with "·" as GB 2312 A1A4 (13 bits either way in Chinese mode, plus the 15-bit ECI).
#[test]
fn r_4_5_5_sample_identifier_under_eci_3() {
    let id = "1.2.156.112233·7·12100000400012345X·CNAS L0001·2025JZ000123·0";
    let sym = gridmatrix::encode(id, &Options::default()).expect("fits");
    assert_eq!(sym.eci(), Some(3));
    assert_eq!(double_byte_count(&sym), 0);
    let back = decode_symbol(&sym).expect("reads");
    assert_eq!(back.text().expect("text"), id);
    assert_eq!(back.bytes().iter().filter(|&&b| b == 0xB7).count(), 5);
    let old = gridmatrix::encode(id, &Options::default().gb2312_ambiguous(Ambiguous::Gb2312))
        .expect("fits");
    assert_eq!(old.eci(), None);
    let old_bytes = decode_symbol(&old).expect("reads").bytes();
    let a1a4 = old_bytes.windows(2).filter(|w| w == &[0xA1, 0xA4]).count();
    assert_eq!(a1a4, 5, "{}", old.modes_summary());
    assert_eq!(sym.version(), old.version());
    assert!(every_size(id) > 10);
}

/// Issue 19's identifier shape (hanzi and full-width brackets beside "·"), and a URL.
#[test]
fn ambiguous_cells_identifier_with_hanzi_and_url_round_trip() {
    for (s, eci) in [
        (
            "1.2.156.112·1·123456788·（苏）法计（2023）00001·JZ-2026-0001·0",
            26,
        ),
        ("https://cert.example.cn/v/ab3·def?n=1·2", 3),
        ("检定电子证书·质字—2023・12―31", 26),
    ] {
        let sym = gridmatrix::encode(s, &Options::default()).expect("fits");
        assert_eq!(sym.eci(), Some(eci), "{s}");
        assert_eq!(double_byte_count(&sym), 0, "{s}");
        assert!(every_size(s) > 5, "{s}");
    }
}

/// Found by the fuzzer: Numeral restarted through an empty Upper run reads back.
#[test]
fn numeral_restart_through_an_empty_run_reads_back() {
    let s = "CDEF1.2.152112233121121000040121012344";
    let sym = gridmatrix::encode(s, &Options::default()).expect("fits");
    assert!(
        sym.segments().iter().any(|seg| seg.len == 0),
        "{}",
        sym.modes_summary()
    );
    let back = decode_symbol(&sym).expect("reads");
    assert_eq!(back.text().expect("text"), s);
    assert_eq!(back.data_bits, sym.data_bits());
    assert!(every_size(s) > 0);
}
