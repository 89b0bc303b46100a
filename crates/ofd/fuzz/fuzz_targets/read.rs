//! Feeds arbitrary bytes to the reader two ways: as a ZIP file, and as XML parts of a package
//! (split on NUL bytes into OFD.xml, Document.xml, a page and a Res file) so that the XML side is
//! reached without forging CRCs. The reader must return, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ofd_fuzz_one(data);
});

fn ofd_fuzz_one(data: &[u8]) {
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
        for d in &f.ofd.docs {
            for p in &d.document.pages {
                for l in &p.layers {
                    for o in &l.objects {
                        if let ofd::GraphicObject::Text(t) = o {
                            for c in &t.codes {
                                let _ = c.positions();
                            }
                        }
                    }
                }
            }
        }
        let _ = ofd::write::write_model(&f.ofd).map(|p| p.to_zip());
    }
}
