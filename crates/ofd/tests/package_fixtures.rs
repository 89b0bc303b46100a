//! Every ofdrw fixture opens as a package under the strict ZIP checks (issue 2 "Done when").
#![allow(clippy::unwrap_used)]
use ofd::{Limits, Package};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/ofdrw/"
);

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{FIXTURES}{name}");
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!("fixture {p} is missing ({e}); it comes from ofdrw, see /work/shared/fixtures/ofdrw/README.md")
    })
}

#[test]
fn ofdrw_fixtures_open_as_packages() {
    for name in [
        "helloworld.ofd",
        "SESV4SignDoc.ofd",
        "v4signed.ofd",
        "invoice-suwell.ofd",
    ] {
        let pkg = Package::from_zip(&fixture(name), &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(pkg.get("OFD.xml").is_some(), "{name} has OFD.xml");
        // Re-zipping and re-reading gives the same entries (our writer is readable by our reader).
        let again = Package::from_zip(&pkg.to_zip().unwrap(), &Limits::default()).unwrap();
        assert_eq!(again, pkg, "{name}");
    }
}
