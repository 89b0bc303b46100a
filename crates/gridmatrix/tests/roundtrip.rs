//! Property tests: mixed content round-trips through our decoder at every version and ECC
//! level that holds it, including the identifier format of with U+00B7.
use gridmatrix::decode::decode_symbol;
use gridmatrix::{Ecc, Error, Options};
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
    let mut fitted = 0;
    for v in 1..=13u8 {
        let min = match v {
            1 => 4,
            2 => 2,
            _ => 1,
        };
        for e in 1..=5u8 {
            let r = gridmatrix::encode(text, &Options::default().version(v).ecc(Ecc::Fixed(e)));
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
                        text,
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
    fn r_4_5_5_identifier_round_trips_without_eci(s in identifier()) {
        prop_assert!(every_size(&s) > 0);
        // "·" is GB 2312 A1A4 (GB 18030 mapping): no ECI, no UTF-8 bytes.
        let sym = gridmatrix::encode(&s, &Options::default()).expect("fits");
        prop_assert_eq!(sym.eci(), None);
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

#[test]
fn r_4_5_5_sample_identifier_uses_chinese_mode_for_the_middle_dot() {
    let id = "1.2.156.112233·7·12100000400012345X·CNAS L0001·2025JZ000123·0";
    let sym = gridmatrix::encode(id, &Options::default()).expect("fits");
    assert_eq!(sym.eci(), None);
    assert!(
        sym.segments()
            .iter()
            .any(|s| s.mode == gridmatrix::Mode::Chinese),
        "{}",
        sym.modes_summary()
    );
    assert_eq!(
        decode_symbol(&sym).expect("reads").text().expect("text"),
        id
    );
    assert!(every_size(id) > 10);
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
