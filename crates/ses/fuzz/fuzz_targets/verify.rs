//! The whole verifier on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ses::fuzz_entry::verify(data));
