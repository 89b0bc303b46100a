//! The GB/T 38540 / GM/T 0031 DER readers on arbitrary bytes: no panic, no hang.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ses::fuzz_entry::der(data));
