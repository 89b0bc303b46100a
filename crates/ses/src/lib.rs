//! Electronic seals and signatures (GB/T 38540-2020, GM/T 0031-2014) on OFD packages
//! (GB/T 33190-2016), with SM2/SM3 (R-7.1c), X.509 and a verifier stricter than the reference
//! implementations (R-4.1.3, R-7.1a, R-7.1b).
//!
//! # Brief overview
//! * [`sm`]: SM2 keys (PKCS#8 plain/encrypted), DER SM2 signatures with the default ID
//!   `1234567812345678`, SM3; the [`sm::SealSigner`] trait (a `Signer<DerSignature>` that knows
//!   its certificate) through which a UKey or HSM can plug in.
//! * [`pkcs12`]: importing CA-issued `.p12`/`.pfx` files (BER, 3DES/RC2/PBES2) (R-7.1d).
//! * [`pki`]: X.509 certificates, trust roots, chains, validity periods, CRLs from files.
//! * [`asn1`]: GB/T 38540 v4 and GM/T 0031 v1 structures; [`seal`]: making v4 seals and
//!   signatures, reading v1/v4/v5.
//! * [`sign`]: sealing an OFD package (normal and riding-seam stamps, R-4.2.2; whole-protected
//!   or continue mode; clock, RFC 3161 and audit hooks, R-7.2.2b); [`xmlsig`]: Signatures.xml
//!   and Signature.xml.
//! * [`verify`]: the 12-check verifier and its EU DSS-shaped [`verify::Report`].
//! * [`demo`]: a trial CA whose every name says "试用 TEST" (R-7.1d).
//!
//! ```no_run
//! # fn main() -> ses::Result<()> {
//! let dir = std::path::Path::new("demo");
//! let files = ses::demo::create_demo_dir(dir, "某计量院", "校准电子证书专用章", None)?;
//! let (seal, signer) = ses::demo::load_demo_dir(dir)?;
//! let ofd = std::fs::read("certificate.ofd").unwrap();
//! let opts = ses::sign::SealOptions::default();
//! let sealed = ses::sign::seal_bytes(&ofd, &seal, &signer, &opts, &Default::default())?;
//! let mut trust = ses::pki::TrustStore::new();
//! trust.add_roots_pem(&std::fs::read_to_string(files.root_pem).unwrap())?;
//! let report = ses::verify::verify_bytes(&sealed, &ses::verify::VerifyOptions { trust, validation_time: None })?;
//! println!("{}", report.to_text());
//! std::process::exit(report.exit_code());
//! # }
//! ```
//!
//! # What is defended against
//! * Altered, added or removed files, signature records, seals and signature values; hashes
//!   recomputed without re-signing (checks 1–5, 11; `tests/tampering.rs`).
//! * Seals used by someone not listed in them, outside their validity, or made by an untrusted,
//!   expired or revoked maker (checks 4, 6–8).
//! * Files a reader loads that no signature covers, and in whole-protected mode any file no
//!   signature covers (check 11).
//! * ZIP ambiguities: duplicate names, case variants, `..`, absolute names, local/central header
//!   disagreement, references that resolve only up to case (check 12).
//! * Verifying a re-encoding instead of the signed bytes: signatures are checked over the
//!   original byte ranges. Decoders are strict DER (except PKCS#12, which is bounded BER),
//!   depth- and size-capped, and fuzzed (`fuzz/`).
//!
//! Not defended against (by design of GB/T 33190 continue mode): a later signature added in
//! continue mode and then removed together with all its files leaves no trace; the report says
//! so for every continue-mode file.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod asn1;
mod ber;
pub mod demo;
pub mod error;
#[doc(hidden)]
pub mod fuzz_entry;
pub mod pbe;
pub mod pkcs12;
pub mod pki;
pub mod seal;
pub mod sign;
pub mod sm;
pub mod verify;
pub mod xmlsig;

pub use error::{Error, Result};
