//! Link settings of the `ecert` binary.
//!
//! Process start: the binary is position-independent and carries about 120,000
//! relative relocations (pointers in static tables: fonts, Unicode data, vtables). As RELA
//! entries they are a 2.9 MB table the dynamic loader reads and applies at every start, most of
//! the instructions `ecert --version` runs. `-z pack-relative-relocs` (DT_RELR, GNU ld ≥ 2.38,
//! glibc ≥ 2.36; Debian 12 has both) packs them into 35 KB: same addresses, same ASLR, fewer
//! pages read; applying them costs the same (measured: docs/benchmarks.md). Only the binary is
//! linked so, not the tests.
//!
//! `ECERT_NO_PIE=1` at build time links a position-dependent binary instead: no relocations to
//! apply at all, but no address-space randomisation of the executable either (a hardening
//! loss for a network service: an opt-in for measurements and trusted deployments; start-up
//! 2.45 M → 0.91 M instructions, docs/benchmarks.md).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        if std::env::var_os("ECERT_NO_PIE").is_some() {
            println!("cargo:rustc-link-arg-bins=-no-pie");
        } else if std::env::var_os("ECERT_NO_RELR").is_none() {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        }
    }
    println!("cargo:rerun-if-env-changed=ECERT_NO_PIE");
    println!("cargo:rerun-if-env-changed=ECERT_NO_RELR");
    println!("cargo:rerun-if-changed=build.rs");
}
