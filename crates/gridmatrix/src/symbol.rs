//! Reed–Solomon blocks, interleaving and module placement (GB/T 27766-2011).

use crate::rs;
use crate::tables::{self, macro_side, symbol_size};

/// Spiral index of macromodule (x, y) in a symbol of `side` macromodules: 0 is the centre;
/// ring k starts just right of its top-left corner, runs clockwise and ends on that corner.
pub(crate) fn spiral_index(x: usize, y: usize, side: usize) -> usize {
    let far = side - 1;
    let r = x.min(y).min(far - x).min(far - y);
    let s = 2 * (far / 2 - r) + 1;
    let last = s * s - 1;
    if x == r {
        last - (y - r)
    } else if y == r {
        last + (x - r) - 4 * (s - 1)
    } else if x == far - r {
        last + (y - r) - 3 * (s - 1)
    } else {
        last - (s - 1) - (x - r)
    }
}

/// Layer ID of ring `k` at ECC level `e`.
pub(crate) fn layer_id(k: usize, e: u8) -> u16 {
    let v = if e == 1 {
        3 + 4 * k - k
    } else {
        k + 5 + 4 - usize::from(e)
    };
    (v % 4) as u16
}

/// Builds the final codeword sequence (data padded, blocks, check codewords, interleaved)
/// for `data` (≤ capacity) at version `v`, ECC level `e`.
pub(crate) fn codewords(mut data: Vec<u8>, v: u8, e: u8) -> Vec<u8> {
    let capacity = tables::data_codewords(v, e);
    let n = data.len();
    for i in n..capacity {
        data.push(if i == n || i % 2 == 0 { 0x00 } else { 0x7E });
    }
    let blocks: Vec<tables::Block> = tables::blocks(v, e).collect();
    let mut coded: Vec<Vec<u8>> = Vec::with_capacity(blocks.len());
    let mut pos = 0;
    for b in &blocks {
        let chunk = data.get(pos..pos + b.data).unwrap_or(&[]);
        pos += b.data;
        let mut cw = Vec::with_capacity(b.data + b.check);
        cw.extend_from_slice(chunk);
        rs::encode_block(chunk, b.check, &mut cw);
        coded.push(cw);
    }
    let longest = coded.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(tables::total_codewords(v));
    for j in 0..longest {
        for block in &coded {
            if let Some(&c) = block.get(j) {
                out.push(c);
            }
        }
    }
    out
}

/// Places the interleaved codewords: returns the modules, row-major, `true` = dark.
pub(crate) fn place(cw: &[u8], v: u8, e: u8) -> Vec<bool> {
    let size = symbol_size(v);
    let side = macro_side(v);
    let centre = side / 2;
    // The 16-bit word of each macromodule: layer ID, second codeword, first codeword.
    let mut words = vec![0u16; side * side];
    for my in 0..side {
        for mx in 0..side {
            let m = spiral_index(mx, my, side);
            let b = u16::from(cw.get(2 * m).copied().unwrap_or(0) & 0x7F);
            let a = u16::from(cw.get(2 * m + 1).copied().unwrap_or(0) & 0x7F);
            let ring = mx.abs_diff(centre).max(my.abs_diff(centre));
            words[my * side + mx] = layer_id(ring, e) << 14 | a << 7 | b;
        }
    }
    let mut modules = vec![false; size * size];
    for (y, row) in modules.chunks_exact_mut(size).enumerate() {
        let (my, dy) = (y / 6, y % 6);
        for (mx, cell) in row.chunks_exact_mut(6).enumerate() {
            // Macromodule borders: dark when x + y is even.
            let frame = (mx + my) % 2 == 0;
            if dy == 0 || dy == 5 {
                cell.fill(frame);
                continue;
            }
            // Interior row dy carries bits 15 − 4(dy − 1) … 12 − 4(dy − 1), MSB left.
            let w = words.get(my * side + mx).copied().unwrap_or(0);
            let nibble = w >> (12 - 4 * (dy - 1));
            if let [c0, c1, c2, c3, c4, c5] = cell {
                *c0 = frame;
                *c1 = nibble & 8 != 0;
                *c2 = nibble & 4 != 0;
                *c3 = nibble & 2 != 0;
                *c4 = nibble & 1 != 0;
                *c5 = frame;
            }
        }
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiral_matches_the_reader_order() {
        // Ring 1, clockwise from top-middle, ending top-left.
        let expect = [
            (1, 0),
            (2, 0),
            (2, 1),
            (2, 2),
            (1, 2),
            (0, 2),
            (0, 1),
            (0, 0),
        ];
        assert_eq!(spiral_index(1, 1, 3), 0);
        for (i, &(x, y)) in expect.iter().enumerate() {
            assert_eq!(spiral_index(x, y, 3), i + 1);
        }
        // Ring 2 starts second from the left on its top row; inner rings are unchanged.
        assert_eq!(spiral_index(1, 0, 5), 9);
        assert_eq!(spiral_index(0, 0, 5), 24);
        assert_eq!(spiral_index(2, 1, 5), 1);
        for side in [3usize, 5, 27] {
            let mut seen = vec![false; side * side];
            for y in 0..side {
                for x in 0..side {
                    seen[spiral_index(x, y, side)] = true;
                }
            }
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn layer_ids_match_reader_pairs() {
        // (centre, ring 1) per ECC level, as a reader pairs them.
        let pairs = [(3, 2), (3, 0), (2, 3), (1, 2), (0, 1)];
        for (e, &(c, r1)) in (1..=5u8).zip(pairs.iter()) {
            assert_eq!((layer_id(0, e), layer_id(1, e)), (c, r1), "e{e}");
        }
    }
}
