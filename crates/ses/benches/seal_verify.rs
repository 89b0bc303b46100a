//! Sealing and verifying the three-page sample of crates/ofd (about 100 KB), against the floor
//! set by the primitives themselves: one SM2 signature plus SM3 over the package bytes (ours),
//! and `openssl speed` for SM2 and SM3 printed from the same run.
#![allow(clippy::unwrap_used)]

use criterion::Criterion;
use ses::sign::{self, BoxMm, Hooks, RidingSeam, SealOptions, SignMode, Stamp};
use ses::verify::{VerifyOptions, verify_bytes};
use std::hint::black_box;

fn openssl_speed() {
    for args in [
        &["speed", "-seconds", "1", "sm2"][..],
        &["speed", "-seconds", "1", "-evp", "sm3"][..],
    ] {
        match std::process::Command::new("openssl").args(args).output() {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let tail: Vec<&str> = text.lines().rev().take(2).collect();
                eprintln!("openssl {}:", args.join(" "));
                for l in tail.iter().rev() {
                    eprintln!("  {l}");
                }
            }
            Err(e) => eprintln!("openssl speed not run ({e}); install the Debian package openssl"),
        }
    }
}

fn benches(c: &mut Criterion) {
    let ca = ses::demo::DemoCa::new("bench").unwrap();
    let maker = ca.issue("maker", ses::demo::Role::SealMaker, 365).unwrap();
    let signer = ca.issue("signer", ses::demo::Role::Signer, 365).unwrap();
    let now = ses::pki::now();
    let seal = ses::seal::make_seal(
        &ses::seal::SealParams {
            vid: "bench".into(),
            es_id: "TEST-BENCH".into(),
            seal_type: 3,
            name: "试用 TEST bench".into(),
            signer_certs: vec![signer.cert_der.clone()],
            created: now,
            valid_start: now - 60,
            valid_end: now + 86400,
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
    let fonts = ofd::sample::SampleFonts::system().unwrap();
    let pkg = ofd::sample::build(&fonts, &ofd::sample::SampleData::default()).unwrap();
    let zip = pkg.to_zip().unwrap();
    let stored: usize = pkg.entries().map(|(_, d)| d.len()).sum();
    eprintln!(
        "package: {} pages, {} entries, {} bytes zipped, {} bytes uncompressed",
        3,
        pkg.len(),
        zip.len(),
        stored
    );
    let opts = SealOptions {
        stamps: vec![Stamp {
            page: 0,
            boundary: BoxMm {
                x: 140.0,
                y: 230.0,
                w: 40.0,
                h: 40.0,
            },
        }],
        riding_seam: Some(RidingSeam { y: None }),
        mode: SignMode::WholeProtected,
        ..Default::default()
    };
    let mut trust = ses::pki::TrustStore::new();
    trust.add_root(ca.root_cert().unwrap());
    let sealed = sign::seal_bytes(&zip, &seal, &signer, &opts, &Hooks::default()).unwrap();
    let vopts = VerifyOptions {
        trust,
        validation_time: None,
    };
    assert_eq!(
        verify_bytes(&sealed, &vopts).unwrap().indication(),
        ses::verify::Indication::Passed
    );

    let mut g = c.benchmark_group("floor");
    g.bench_function("sm2_sign_once", |b| {
        b.iter(|| signer.key.sign_der(black_box(b"x")).unwrap())
    });
    g.bench_function("sm3_package_entries", |b| {
        b.iter(|| {
            pkg.entries()
                .map(|(_, d)| ses::sm::sm3(black_box(d))[0])
                .fold(0u8, |a, x| a ^ x)
        })
    });
    g.bench_function("sm2_sign_plus_sm3_package", |b| {
        b.iter(|| {
            let h = pkg
                .entries()
                .map(|(_, d)| ses::sm::sm3(black_box(d))[0])
                .fold(0u8, |a, x| a ^ x);
            signer.key.sign_der(&[h]).unwrap()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("ses");
    g.bench_function("seal_package_3_pages", |b| {
        b.iter(|| {
            let mut p = pkg.clone();
            sign::seal_package(&mut p, &seal, &signer, &opts, &Hooks::default()).unwrap()
        })
    });
    let prepared = sign::PreparedSeal::new(&seal, &signer).unwrap();
    g.bench_function("seal_package_prepared_3_pages", |b| {
        b.iter(|| {
            let mut p = pkg.clone();
            sign::seal_package_prepared(&mut p, &prepared, &opts, &Hooks::default()).unwrap()
        })
    });
    g.bench_function("seal_zip_bytes_3_pages", |b| {
        b.iter(|| {
            sign::seal_bytes(black_box(&zip), &seal, &signer, &opts, &Hooks::default()).unwrap()
        })
    });
    g.bench_function("verify_3_pages", |b| {
        b.iter(|| verify_bytes(black_box(&sealed), &vopts).unwrap())
    });
    g.finish();
}

fn main() {
    openssl_speed();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
