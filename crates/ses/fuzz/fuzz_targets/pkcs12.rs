//! The BER/PKCS#12/PKCS#8 readers on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ses::fuzz_entry::pkcs12(data));
