//! Version and ECC choice, option validation and the character rule.
use gridmatrix::{Ambiguous, Ecc, Error, Mode, Options};

fn enc(s: &str, o: Options) -> Result<gridmatrix::Symbol, Error> {
    gridmatrix::encode(s, &o)
}

#[test]
fn automatic_choice_uses_recommended_levels() {
    let s = enc("1234567890", Options::default()).expect("fits");
    assert_eq!((s.version(), s.ecc()), (1, 5));
    let s = enc("校准电子证书", Options::default()).expect("fits");
    assert_eq!((s.version(), s.ecc()), (2, 4));
    let s = enc(&"中".repeat(200), Options::default()).expect("fits");
    assert!(s.version() >= 4);
    assert_eq!(s.ecc(), 3);
}

#[test]
fn fixed_ecc_chooses_smallest_version_allowing_it() {
    let s = enc("123", Options::default().ecc(Ecc::Fixed(1))).expect("fits");
    assert_eq!((s.version(), s.ecc()), (3, 1));
    let s = enc("123", Options::default().ecc(Ecc::Fixed(2))).expect("fits");
    assert_eq!((s.version(), s.ecc()), (2, 2));
    assert_eq!(
        enc("123", Options::default().version(1).ecc(Ecc::Fixed(3))),
        Err(Error::EccNotAllowed {
            version: 1,
            ecc: 3,
            min: 4
        })
    );
}

#[test]
fn prefer_behaves_like_zint_secure() {
    // Raised to the version's minimum, as zint does silently.
    let s = enc("1234567890", Options::default().ecc(Ecc::Prefer(1))).expect("fits");
    assert_eq!((s.version(), s.ecc()), (1, 4));
    // Lowered when the data do not fit the preferred level at the fixed version.
    let s = enc(
        &"7".repeat(13),
        Options::default().version(1).ecc(Ecc::Prefer(5)),
    )
    .expect("fits");
    assert_eq!((s.version(), s.ecc()), (1, 4));
}

#[test]
fn min_version_and_fixed_version() {
    let s = enc("1", Options::default().min_version(5)).expect("fits");
    assert_eq!((s.version(), s.ecc()), (5, 3));
    let s = enc("1", Options::default().version(13)).expect("fits");
    assert_eq!((s.version(), s.size()), (13, 162));
    assert_eq!(
        enc("1", Options::default().version(3).min_version(4)),
        Err(Error::VersionBelowMinimum {
            version: 3,
            min_version: 4
        })
    );
}

#[test]
fn invalid_option_values_are_errors() {
    assert_eq!(
        enc("1", Options::default().version(0)),
        Err(Error::InvalidVersion(0))
    );
    assert_eq!(
        enc("1", Options::default().version(14)),
        Err(Error::InvalidVersion(14))
    );
    assert_eq!(
        enc("1", Options::default().min_version(14)),
        Err(Error::InvalidVersion(14))
    );
    assert_eq!(
        enc("1", Options::default().ecc(Ecc::Fixed(0))),
        Err(Error::InvalidEcc(0))
    );
    assert_eq!(
        enc("1", Options::default().ecc(Ecc::Prefer(6))),
        Err(Error::InvalidEcc(6))
    );
    assert_eq!(
        enc("1", Options::default().eci(811_800)),
        Err(Error::InvalidEci(811_800))
    );
    assert_eq!(
        enc("1", Options::default().eci(4)),
        Err(Error::UnsupportedTextEci(4))
    );
    assert!(matches!(
        enc("a中", Options::default().eci(3)),
        Err(Error::NotInCharset {
            index: 1,
            ch: '中',
            eci: 3,
            ..
        })
    ));
    assert!(matches!(
        enc("ab😀", Options::default().eci(29)),
        Err(Error::NotInCharset {
            index: 2,
            eci: 29,
            ..
        })
    ));
}

#[test]
fn data_too_long_reports_bits() {
    // 2751 digits fill version 13 at ECC level 1 (the fixture's largest symbol).
    let s = enc(&"7".repeat(2751), Options::default()).expect("fits v13");
    assert_eq!((s.version(), s.ecc()), (13, 1));
    match enc(&"7".repeat(2752), Options::default()) {
        Err(Error::DataTooLong {
            capacity_bits,
            needed_bits,
            version,
            ecc,
        }) => {
            assert_eq!((version, ecc, capacity_bits), (13, 1, 1313 * 7));
            assert_eq!(needed_bits, 4 + 2 + 918 * 10 + 10);
        }
        other => panic!("{other:?}"),
    }
    match enc(&"中".repeat(20), Options::default().version(1)) {
        Err(Error::DataTooLong {
            capacity_bits,
            needed_bits,
            version,
            ecc,
        }) => {
            assert_eq!((version, ecc, capacity_bits), (1, 4, 77));
            assert_eq!(needed_bits, 4 + 20 * 13 + 13);
        }
        other => panic!("{other:?}"),
    }
    // Far too long input is rejected early with a lower bound.
    let huge = "9".repeat(1_000_000);
    assert!(matches!(
        enc(&huge, Options::default()),
        Err(Error::DataTooLong { .. })
    ));
    assert!(matches!(
        gridmatrix::encode_bytes(huge.as_bytes(), &Options::default()),
        Err(Error::DataTooLong { .. })
    ));
}

#[test]
fn text_outside_gb2312_goes_to_utf8_under_eci_26() {
    let s = enc("证书 😀", Options::default()).expect("fits");
    assert_eq!(s.eci(), Some(26));
    let back = gridmatrix::decode::decode_symbol(&s).expect("reads");
    assert_eq!(back.text().expect("text"), "证书 😀");
    // GB 2312 text needs no ECI and uses Chinese mode.
    let s = enc("证书（2023）", Options::default()).expect("fits");
    assert_eq!(s.eci(), None);
    assert_eq!(s.segments()[0].mode, Mode::Chinese);
    // With the middle dot, whose GB 2312 cell readers map differently: UTF-8.
    let s = enc("证书·", Options::default()).expect("fits");
    assert_eq!(s.eci(), Some(26));
    assert_eq!(s.modes_summary(), "ECI26 B8");
}

/// With `Ambiguous::Gb2312` (the earlier behaviour) both mappings of cell A1A4 are
/// written as that cell; by default neither is.
#[test]
fn both_mappings_of_a1a4_give_the_same_symbol_when_asked() {
    let gb = Options::default().gb2312_ambiguous(Ambiguous::Gb2312);
    let a = enc("1·2", gb.clone()).expect("fits");
    let b = enc("1・2", gb).expect("fits");
    assert_eq!(a.rows(), b.rows());
    assert_eq!(a.eci(), None);
    let bytes = gridmatrix::decode::decode_symbol(&a)
        .expect("reads")
        .bytes();
    assert_eq!(bytes, [b'1', 0xA1, 0xA4, b'2']);
    let a = enc("1·2", Options::default()).expect("fits");
    let b = enc("1・2", Options::default()).expect("fits");
    assert_eq!((a.eci(), b.eci()), (Some(3), Some(26)));
    assert_ne!(a.rows(), b.rows());
}

#[test]
fn byte_input_gb2312_pairs_use_chinese_mode() {
    let gb = [0xD0, 0xA3, 0xD7, 0xBC]; // 校准 in EUC-CN
    let s = gridmatrix::encode_bytes(&gb, &Options::default()).expect("fits");
    assert_eq!(s.modes_summary(), "H2");
    let s = gridmatrix::encode_bytes(&gb, &Options::default().eci(26)).expect("fits");
    // Under UTF-8 the pairs are four single bytes, not two GB 2312 characters.
    assert_eq!(
        s.segments().iter().map(|seg| seg.len).sum::<usize>(),
        4,
        "{}",
        s.modes_summary()
    );
    assert_eq!(
        gridmatrix::decode::decode_symbol(&s)
            .expect("reads")
            .bytes(),
        gb
    );
}

#[test]
fn empty_input_encodes_to_the_smallest_symbol() {
    let s = enc("", Options::default()).expect("empty fits");
    assert_eq!((s.version(), s.data_bits()), (1, 4));
    assert_eq!(
        gridmatrix::decode::decode_symbol(&s)
            .expect("reads")
            .text()
            .expect("text"),
        ""
    );
}

/// zint HEAD gives v2/ECC4 for `--secure=5`, by lowering the
/// level instead of growing the version as 2.11.1 did; `Ecc::Prefer` follows HEAD.
#[test]
fn prefer_lowers_the_level_instead_of_growing_the_version() {
    let s = enc(
        "检定电子证书-质字20211203-2377",
        Options::default().ecc(Ecc::Prefer(5)),
    )
    .expect("fits");
    assert_eq!((s.version(), s.ecc()), (2, 4));
    // A fixed level grows the version instead.
    let s = enc(
        "检定电子证书-质字20211203-2377",
        Options::default().ecc(Ecc::Fixed(5)),
    )
    .expect("fits");
    assert_eq!((s.version(), s.ecc()), (3, 5));
}

#[test]
fn katakana_middle_dot_beside_non_gb2312_text_stays_utf8() {
    let s = enc("・😀", Options::default()).expect("fits");
    assert_eq!(s.eci(), Some(26));
    assert_eq!(
        gridmatrix::decode::decode_symbol(&s)
            .expect("reads")
            .text()
            .expect("text"),
        "・😀"
    );
}
