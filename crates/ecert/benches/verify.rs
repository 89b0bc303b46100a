//! Verification of one issued certificate: the whole strict verifier (all 12 checks,
//! `ses::verify::verify_bytes`) in process, and the same work split into its parts — parsing
//! (ZIP walk + inflate + CRC, the XML of the signature files, the SES structures and the X.509
//! certificates), hashing (SM3 of every referenced part and of Signature.xml), SM2 (the
//! signer's signature, the seal maker's signature, the two certificate chains) and the rest
//! (report, checks, strings) — plus the service's whole judgement (`Instance::verify_file`:
//! verifier + the file's SM3 + the record lookups), as `POST /verify` runs it minus HTTP and the
//! audit entry.
//!
//! `cargo bench -p ecert --bench verify` (release profile). `ECERT_BENCH_N` sets the number of
//! timed verifications (default 400). With `ECERT_VERIFY_FILES=A.ofd:B.ofd` (and
//! `ECERT_VERIFY_TRUST=ROOTS.pem`) it times only `verify_bytes` on each of those files, one line
//! per file in the format of the ofdrw driver of scripts/load/verify-compare.sh, which runs both
//! on the same files. Results go to docs/benchmarks.md by hand.

use std::hint::black_box;
use std::time::Instant;

use ecert::config::Config;
use ecert::service::Instance;

/// Median of `f` over `n` runs, in microseconds.
fn median_us(n: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// `ECERT_VERIFY_FILES`: the median of `verify_bytes` on each file (after a warm-up), and its
/// verdict; the certificate must verify (PASSED) with the roots of `ECERT_VERIFY_TRUST`.
fn files(list: &str, n: usize) -> anyhow::Result<()> {
    let mut opts = ses::verify::VerifyOptions::default();
    if let Ok(trust) = std::env::var("ECERT_VERIFY_TRUST") {
        opts = ses::verify::VerifyOptions::with_roots_pem(&[std::fs::read_to_string(trust)?])?;
    }
    for path in list.split(':').filter(|p| !p.is_empty()) {
        let file = std::fs::read(path)?;
        let report = ses::verify::verify_bytes(&file, &opts)?;
        for _ in 0..20 {
            black_box(ses::verify::verify_bytes(&file, &opts)?);
        }
        let mut t: Vec<f64> = (0..n)
            .map(|_| {
                let s = Instant::now();
                black_box(ses::verify::verify_bytes(black_box(&file), &opts).ok());
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        let name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "ecert {name} median_ms={:.3} mean_ms={:.3} min_ms={:.3} n={n} verdict={:?}",
            t[n / 2],
            t.iter().sum::<f64>() / n as f64,
            t[0],
            report.indication()
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("ECERT_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    if let Ok(list) = std::env::var("ECERT_VERIFY_FILES") {
        return files(&list, n);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        let instance = Instance::init(dir.path(), Config::demo()).await?;
        instance.create_trial_seals().await?;
        let content = include_str!("../../../examples/calibration.json");
        let issued = instance.issue(content, &ecert::service::Actor::local("bench")).await?;
        let file = issued.file.clone();
        if let Ok(out) = std::env::var("ECERT_BENCH_OUT") {
            std::fs::write(&out, &file)?;
        }
        let opts = instance.verify_options()?;

        // The whole verifier, as `ecert verify` and `POST /verify` run it.
        let report = ses::verify::verify_bytes(&file, &opts)?;
        anyhow::ensure!(
            report.indication() == ses::verify::Indication::Passed,
            "the certificate must verify: {}",
            report.to_text()
        );
        let checks = report
            .signatures()
            .iter()
            .map(|s| s.checks().len())
            .sum::<usize>()
            + report.package_checks().len();
        for _ in 0..20 {
            black_box(ses::verify::verify_bytes(&file, &opts)?);
        }
        let total = median_us(n, || {
            black_box(ses::verify::verify_bytes(black_box(&file), &opts).ok());
        });

        // The parts, each measured on its own over the same file.
        let limits = ofd::Limits::default();
        let parse_zip = median_us(n, || {
            black_box(ofd::Package::from_zip(black_box(&file), &limits).ok());
        });
        let pkg = ofd::Package::from_zip(&file, &limits)?;
        let unpacked: usize = pkg.entries().map(|(_, d)| d.len()).sum();
        let sigs_path = pkg
            .paths()
            .find(|p| p.ends_with("Signatures.xml"))
            .ok_or_else(|| anyhow::anyhow!("no Signatures.xml"))?
            .to_owned();
        let sigs = ses::xmlsig::parse_signatures(&sigs_path, pkg.get(&sigs_path).unwrap_or_default())?;
        let mut sig_xmls = Vec::new();
        for rec in &sigs.records {
            let bytes = pkg.get(&rec.path).unwrap_or_default();
            sig_xmls.push((rec.path.clone(), ses::xmlsig::parse_signature_xml(&rec.path, bytes)?));
        }
        let parse_xml = median_us(n, || {
            let s = ses::xmlsig::parse_signatures(&sigs_path, pkg.get(&sigs_path).unwrap_or_default());
            black_box(&s);
            for rec in &sigs.records {
                let bytes = pkg.get(&rec.path).unwrap_or_default();
                black_box(ses::xmlsig::parse_signature_xml(&rec.path, bytes).ok());
            }
        });
        // The OFD model the coverage check (11) reads, as the verifier reads it.
        let mut lean = ofd::ReadOptions::default();
        lean.graphics = false;
        let parse_model = median_us(n, || {
            black_box(ofd::OfdFile::read_model(&pkg, &lean).ok());
        });
        let mut views = Vec::new();
        for (_, x) in &sig_xmls {
            let p = x.signed_value_path.as_deref().unwrap_or_default();
            views.push(ses::seal::parse_signature(pkg.get(p).unwrap_or_default())?);
        }
        let parse_der = median_us(n, || {
            for (_, x) in &sig_xmls {
                let p = x.signed_value_path.as_deref().unwrap_or_default();
                let v = ses::seal::parse_signature(pkg.get(p).unwrap_or_default());
                if let Ok(v) = &v {
                    black_box(ses::pki::Cert::from_der(&v.signer_cert).ok());
                    black_box(ses::pki::Cert::from_der(&v.seal.maker_cert).ok());
                }
                black_box(v.ok());
            }
        });
        let mut hashed = 0usize;
        for (path, x) in &sig_xmls {
            hashed += pkg.get(path).map_or(0, <[u8]>::len);
            for r in &x.references {
                hashed += r.path.as_deref().and_then(|p| pkg.get(p)).map_or(0, <[u8]>::len);
            }
        }
        let hashing = median_us(n, || {
            for (path, x) in &sig_xmls {
                black_box(ses::sm::sm3(pkg.get(path).unwrap_or_default()));
                for r in &x.references {
                    if let Some(d) = r.path.as_deref().and_then(|p| pkg.get(p)) {
                        black_box(ses::sm::sm3(d));
                    }
                }
            }
        });
        let certs: Vec<(ses::pki::Cert, ses::pki::Cert)> = views
            .iter()
            .map(|v| {
                Ok((
                    ses::pki::Cert::from_der(&v.signer_cert)?,
                    ses::pki::Cert::from_der(&v.seal.maker_cert)?,
                ))
            })
            .collect::<ses::Result<_>>()?;
        let at = views.first().and_then(|v| v.time_info).unwrap_or_else(ses::pki::now);
        let sm2_signer = median_us(n, || {
            for (v, (signer, _)) in views.iter().zip(&certs) {
                black_box(v.verify_signer_with(signer).is_ok());
            }
        });
        let sm2_maker = median_us(n, || {
            for (v, (_, maker)) in views.iter().zip(&certs) {
                black_box(v.seal.verify_maker_with(maker).is_ok());
            }
        });
        let sm2_chains = median_us(n, || {
            for (signer, maker) in &certs {
                black_box(opts.trust.validate(signer, &[], at));
                black_box(opts.trust.validate(maker, &[], at));
            }
        });
        let parsing = parse_zip + parse_xml + parse_der + parse_model;
        let sm2 = sm2_signer + sm2_maker + sm2_chains;
        let rest = total - parsing - hashing - sm2;

        // The service's judgement of the upload (verifier + file SM3 + lookups), as POST /verify.
        let bytes = bytes::Bytes::from(file.clone());
        for _ in 0..10 {
            instance.verify_file(bytes.clone()).await?;
        }
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            let s = Instant::now();
            let v = instance.verify_file(bytes.clone()).await?;
            t.push(s.elapsed().as_secs_f64() * 1e6);
            black_box(v);
        }
        t.sort_by(f64::total_cmp);
        let service = t[t.len() / 2];

        println!(
            "certificate: {} bytes, {} parts, {} bytes unpacked, {} bytes hashed; {} signature(s), {} checks",
            file.len(),
            pkg.len(),
            unpacked,
            hashed,
            report.signatures_count(),
            checks
        );
        println!("median of {n} runs, µs:");
        println!("  verify_bytes (all checks)        {total:>8.0}");
        println!("  parsing                          {parsing:>8.0}");
        println!("    ZIP (walk, inflate, CRC)       {parse_zip:>8.0}");
        println!("    XML (Signatures, Signature)    {parse_xml:>8.0}");
        println!("    DER (SES_Signature, 2 X.509)   {parse_der:>8.0}");
        println!("    OFD model (coverage, check 11) {parse_model:>8.0}");
        println!("  hashing (SM3 of the references)  {hashing:>8.0}");
        println!("  SM2                              {sm2:>8.0}");
        println!("    signer signature               {sm2_signer:>8.0}");
        println!("    seal maker signature           {sm2_maker:>8.0}");
        println!("    both certificate chains        {sm2_chains:>8.0}");
        println!("  rest (checks, report)            {rest:>8.0}");
        println!("  Instance::verify_file (service)  {service:>8.0}");
        Ok(())
    })
}
