//! Electronic seals and signatures (GB/T 38540-2020, GM/T 0031-2014) on OFD packages.
//!
//! # Brief overview
//! * [`sm`]: SM2 keys (PKCS#8 plain/encrypted), DER SM2 signatures with the default ID
//!   `1234567812345678`, SM3; the [`sm::SealSigner`] trait that a UKey/HSM can implement.
//! * [`pkcs12`]: importing CA-issued `.p12`/`.pfx` files (BER, 3DES/RC2/PBES2).
//! * [`pki`]: X.509 certificates, trust roots, chains, validity, CRLs.
//! * [`asn1`]: GB/T 38540 v4 and GM/T 0031 v1 structures; [`seal`]: making and reading seals
//!   and signatures.
//! * [`sign`]: sealing an OFD package (normal and riding-seam stamps, whole-protected or
//!   continue mode); [`xmlsig`]: Signatures.xml / Signature.xml.
//! * [`verify`]: the strict verifier and its EU DSS-shaped report.
//! * [`demo`]: a trial CA whose every name says "试用 TEST" (R-7.1d).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod asn1;
mod ber;
pub mod demo;
pub mod error;
pub mod pbe;
pub mod pkcs12;
pub mod pki;
pub mod seal;
pub mod sign;
pub mod sm;
pub mod verify;
pub mod xmlsig;

pub use error::{Error, Result};
