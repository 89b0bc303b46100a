//! Helpers shared by the integration tests: the `openssl` CLI oracle and fixture paths.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of a file in the repository's `fixtures/ofdrw`, failing clearly when it is absent.
pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/ofdrw")).join(name);
    assert!(
        p.exists(),
        "缺少测试文件 {0}，它应在本仓库的 fixtures/ofdrw/ 中 (fixture {0} is missing: it belongs in this repository's fixtures/ofdrw/, see fixtures/README.md)",
        p.display()
    );
    p
}

/// Reads a fixture.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("read fixture")
}

/// Runs `openssl` with `args` in `dir`, returning (success, stdout+stderr).
pub fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("the `openssl` program is needed as a test oracle but could not be run ({e}); install it with `apt-get install openssl` (listed in .ci/packages/ses.apt)")
    });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Like [`openssl`] but panics with the output on failure.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed:\n{text}");
    text
}

/// The option OpenSSL 3 needs to verify SM2 with the default ID.
pub const DISTID_SIG: &str = "distid:1234567812345678";

/// Demo trust material: a root, a seal maker, a signer, a v4 seal binding the signer.
pub struct Material {
    /// The demo CA.
    pub ca: ses::demo::DemoCa,
    /// Seal maker.
    pub maker: ses::sm::CertifiedKey,
    /// Signer.
    pub signer: ses::sm::CertifiedKey,
    /// The seal (DER).
    pub seal: Vec<u8>,
    /// A trust store with the demo root.
    pub trust: ses::pki::TrustStore,
}

/// Makes fresh demo material with a PNG seal picture 40×40 mm.
pub fn material() -> Material {
    use ses::demo::{DemoCa, Role};
    let ca = DemoCa::new("测试计量院").unwrap();
    let maker = ca.issue("制章者", Role::SealMaker, 365).unwrap();
    let signer = ca.issue("签章人", Role::Signer, 365).unwrap();
    let now = ses::pki::now();
    let seal = ses::seal::make_seal(
        &ses::seal::SealParams {
            vid: "ecert-test".into(),
            es_id: "TEST-SEAL-0001".into(),
            seal_type: 3,
            name: "试用 TEST 校准电子证书专用章".into(),
            signer_certs: vec![signer.cert_der.clone()],
            created: now - 120,
            valid_start: now - 120,
            valid_end: now + 365 * 86400,
            picture: ses::seal::Picture {
                format: ses::seal::PictureFormat::Png,
                data: ofd::sample::sample_png(200),
                width_mm: 40,
                height_mm: 40,
            },
        },
        &maker,
    )
    .unwrap();
    let mut trust = ses::pki::TrustStore::new();
    trust.add_root(ca.root_cert().unwrap());
    Material {
        ca,
        maker,
        signer,
        seal,
        trust,
    }
}

/// The three-page sample of crates/ofd as ZIP bytes.
pub fn sample_zip() -> Vec<u8> {
    let fonts = ofd::sample::SampleFonts::system().unwrap_or_else(|e| panic!("sample fonts: {e}"));
    ofd::sample::build(&fonts, &ofd::sample::SampleData::default())
        .unwrap()
        .to_zip()
        .unwrap()
}

/// Options with one stamp on page 1 and a riding-seam seal.
pub fn stamp_options(mode: ses::sign::SignMode) -> ses::sign::SealOptions {
    ses::sign::SealOptions {
        stamps: vec![ses::sign::Stamp {
            page: 0,
            boundary: ses::sign::BoxMm {
                x: 140.0,
                y: 230.0,
                w: 40.0,
                h: 40.0,
            },
        }],
        riding_seam: Some(ses::sign::RidingSeam { y: None }),
        mode,
        ..Default::default()
    }
}

/// Seals `zip` with `m` in `mode`.
pub fn seal_zip(zip: &[u8], m: &Material, mode: ses::sign::SignMode) -> Vec<u8> {
    ses::sign::seal_bytes(
        zip,
        &m.seal,
        &m.signer,
        &stamp_options(mode),
        &ses::sign::Hooks::default(),
    )
    .unwrap()
}

/// A minimal one-page OFD package (no fonts), as ZIP bytes.
pub fn tiny_ofd() -> Vec<u8> {
    let ns = "http://www.ofdspec.org/2016";
    let mut p = ofd::Package::new();
    p.insert("OFD.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{ns}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>0123456789abcdef0123456789abcdef</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#).into_bytes()).unwrap();
    p.insert("Doc_0/Document.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{ns}"><ofd:CommonData><ofd:MaxUnitID>2</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>"#).into_bytes()).unwrap();
    p.insert("Doc_0/Pages/Page_0/Content.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{ns}"><ofd:Content><ofd:Layer ID="2"/></ofd:Content></ofd:Page>"#).into_bytes()).unwrap();
    p.to_zip().unwrap()
}
