//! Replays the committed fuzz corpus (crates/ofd/fuzz/corpus/read) through the reader, so CI
//! re-checks every input the fuzzer kept: the reader returns, it never panics.
#![allow(clippy::unwrap_used)]

fn run(data: &[u8]) {
    let _ = ofd::OfdFile::read(data);
    let names = [
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/Pages/Page_0/Content.xml",
        "Doc_0/PublicRes.xml",
    ];
    let mut pkg = ofd::Package::new();
    for (name, part) in names
        .iter()
        .zip(data.split(|&b| b == 0).filter(|p| !p.is_empty()))
    {
        let _ = pkg.insert(name, part.to_vec());
    }
    if let Ok(f) = ofd::OfdFile::from_package(pkg, &ofd::ReadOptions::default()) {
        let _ = ofd::write::write_model(&f.ofd).map(|p| p.to_zip());
    }
}

#[test]
fn fuzz_corpus_replays_without_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/read");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let p = e.unwrap().path();
        run(&std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n >= 2, "corpus has {n} files");
}

/// The one-page seed made of XML parts reads as a package (so the fuzzer starts deep); the
/// font file is absent, which is a warning, not an error.
#[test]
fn xml_seed_reaches_the_page_model() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/corpus/read/one-page-xml-parts"
    ))
    .unwrap();
    let names = [
        "OFD.xml",
        "Doc_0/Document.xml",
        "Doc_0/Pages/Page_0/Content.xml",
        "Doc_0/PublicRes.xml",
    ];
    let mut pkg = ofd::Package::new();
    for (name, part) in names
        .iter()
        .zip(data.split(|&b| b == 0).filter(|p| !p.is_empty()))
    {
        pkg.insert(name, part.to_vec()).unwrap();
    }
    let f = ofd::OfdFile::from_package(pkg, &ofd::ReadOptions::default()).unwrap();
    assert!(f.page_text(0, 0).unwrap().contains("原始记录"));
    assert!(
        f.warnings
            .iter()
            .any(|w| matches!(w, ofd::Warning::MissingFile { .. }))
    );
}
