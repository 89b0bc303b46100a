//! The checking decoder never panics on any matrix or codeword stream.
#![no_main]
use gridmatrix::decode::{DecodeOptions, decode_data_codewords, decode_modules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let opts = DecodeOptions::default().accept_zint_byte_indicator_bug(mode & 0x80 != 0);
    match mode % 3 {
        // A bit stream after Reed–Solomon: reaches the parser directly.
        0 => {
            let cw: Vec<u8> = rest.iter().map(|b| b & 0x7F).collect();
            let _ = decode_data_codewords(&cw, &opts);
        }
        // A matrix of any size from raw bits.
        1 => {
            let size = usize::from(rest.first().copied().unwrap_or(0)) % 170;
            let bits = |i: usize| rest.get(1 + i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
            let modules: Vec<bool> = (0..size * size).map(bits).collect();
            let _ = decode_modules(size, &modules, &opts);
        }
        // A well-framed matrix of a real size with fuzzed macromodule interiors.
        _ => {
            let v = usize::from(rest.first().copied().unwrap_or(0)) % 13 + 1;
            let size = 12 * v + 6;
            let mut modules = vec![false; size * size];
            let mut k = 0usize;
            for y in 0..size {
                for x in 0..size {
                    let (mx, my, dx, dy) = (x / 6, y / 6, x % 6, y % 6);
                    modules[y * size + x] = if dx == 0 || dy == 0 || dx == 5 || dy == 5 {
                        (mx + my) % 2 == 0
                    } else {
                        k += 1;
                        rest.get(1 + k / 8).is_some_and(|b| b >> (k % 8) & 1 == 1)
                    };
                }
            }
            let _ = decode_modules(size, &modules, &opts);
        }
    }
});
