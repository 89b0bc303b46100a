//! Symbol capacity tables of GB/T 27766 (as cited by zint: "Table 11" for the ECC levels a
//! version allows, "Table A.1" for the Reed–Solomon block structure).

/// Smallest and largest version (number of layers around the centre macromodule).
pub(crate) const MIN_VERSION: u8 = 1;
/// Largest version.
pub(crate) const MAX_VERSION: u8 = 13;

/// Modules per side of version `v` (12v + 6).
pub(crate) const fn symbol_size(v: u8) -> usize {
    12 * v as usize + 6
}

/// Macromodules per side of version `v` (2v + 1).
pub(crate) const fn macro_side(v: u8) -> usize {
    2 * v as usize + 1
}

/// Total codewords of version `v`: two per macromodule.
pub(crate) const fn total_codewords(v: u8) -> usize {
    let m = macro_side(v);
    2 * m * m
}

/// Recommended ECC level of a version (Table 11): 5 for v1, 4 for v2–3, 3 for v4–13.
pub(crate) const fn recommended_ecc(v: u8) -> u8 {
    match v {
        1 => 5,
        2 | 3 => 4,
        _ => 3,
    }
}

/// Lowest ECC level a version allows (Table 11): 4 for v1, 2 for v2, 1 from v3 on.
pub(crate) const fn min_ecc(v: u8) -> u8 {
    match v {
        1 => 4,
        2 => 2,
        _ => 1,
    }
}

/// One row of Table A.1: `n1` codewords in each of the first `b1` blocks, `n1 - 1` in each of
/// the following `b2` blocks; per ECC level 1–5, `(e1, b3, e2)`: the first `b3` blocks carry
/// `e1` check codewords, the rest `e2`. Level 1 of version 1 does not exist (all zero).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockRow {
    pub n1: u16,
    pub b1: u8,
    pub b2: u8,
    pub ecc: [(u8, u8, u8); 5],
}

#[rustfmt::skip]
pub(crate) static BLOCKS: [BlockRow; 13] = [
    BlockRow { n1: 18,  b1: 1,  b2: 0, ecc: [(0, 0, 0),   (3, 1, 0),   (5, 1, 0),   (7, 1, 0),   (9, 1, 0)] },
    BlockRow { n1: 50,  b1: 1,  b2: 0, ecc: [(5, 1, 0),   (10, 1, 0),  (15, 1, 0),  (20, 1, 0),  (25, 1, 0)] },
    BlockRow { n1: 98,  b1: 1,  b2: 0, ecc: [(9, 1, 0),   (19, 1, 0),  (29, 1, 0),  (39, 1, 0),  (49, 1, 0)] },
    BlockRow { n1: 81,  b1: 2,  b2: 0, ecc: [(8, 2, 0),   (16, 2, 0),  (24, 2, 0),  (32, 2, 0),  (41, 1, 40)] },
    BlockRow { n1: 121, b1: 2,  b2: 0, ecc: [(12, 2, 0),  (24, 2, 0),  (36, 2, 0),  (48, 2, 0),  (61, 1, 60)] },
    BlockRow { n1: 113, b1: 2,  b2: 1, ecc: [(11, 3, 0),  (23, 1, 22), (34, 2, 33), (45, 3, 0),  (57, 1, 56)] },
    BlockRow { n1: 113, b1: 2,  b2: 2, ecc: [(12, 1, 11), (23, 2, 22), (34, 3, 33), (45, 4, 0),  (57, 1, 56)] },
    BlockRow { n1: 116, b1: 3,  b2: 2, ecc: [(12, 2, 11), (23, 5, 0),  (35, 3, 34), (47, 1, 46), (58, 4, 57)] },
    BlockRow { n1: 121, b1: 2,  b2: 4, ecc: [(12, 6, 0),  (24, 6, 0),  (36, 6, 0),  (48, 6, 0),  (61, 1, 60)] },
    BlockRow { n1: 126, b1: 7,  b2: 0, ecc: [(13, 4, 12), (26, 1, 25), (38, 5, 37), (51, 2, 50), (63, 7, 0)] },
    BlockRow { n1: 118, b1: 5,  b2: 4, ecc: [(12, 6, 11), (24, 4, 23), (36, 2, 35), (47, 9, 0),  (59, 7, 58)] },
    BlockRow { n1: 125, b1: 10, b2: 0, ecc: [(13, 5, 12), (25, 10, 0), (38, 5, 37), (50, 10, 0), (63, 5, 62)] },
    BlockRow { n1: 122, b1: 6,  b2: 6, ecc: [(13, 1, 12), (25, 3, 24), (37, 5, 36), (49, 7, 48), (61, 9, 60)] },
];

/// One Reed–Solomon block: `data` data codewords followed by `check` check codewords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub data: usize,
    pub check: usize,
}

/// The blocks of version `v` at ECC level `e`, in order (callers validated `v` and `e`).
pub(crate) fn blocks(v: u8, e: u8) -> impl Iterator<Item = Block> {
    let row = BLOCKS[usize::from(v.clamp(MIN_VERSION, MAX_VERSION) - 1)];
    let (e1, b3, e2) = row.ecc[usize::from(e.clamp(1, 5) - 1)];
    let nb = usize::from(row.b1) + usize::from(row.b2);
    (0..nb).map(move |i| {
        let len = if i < usize::from(row.b1) {
            usize::from(row.n1)
        } else {
            usize::from(row.n1) - 1
        };
        let check = usize::from(if i < usize::from(b3) { e1 } else { e2 });
        Block {
            data: len - check,
            check,
        }
    })
}

/// Data codewords of version `v` at ECC level `e` (0 if the pair is not allowed).
pub(crate) fn data_codewords(v: u8, e: u8) -> usize {
    if !(MIN_VERSION..=MAX_VERSION).contains(&v) || !(min_ecc(v)..=5).contains(&e) {
        return 0;
    }
    blocks(v, e).map(|b| b.data).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Data codewords per version and ECC level, typed separately from Table A.1.
    #[rustfmt::skip]
    const DATA: [[usize; 5]; 13] = [
        [0, 15, 13, 11, 9], [45, 40, 35, 30, 25], [89, 79, 69, 59, 49], [146, 130, 114, 98, 81],
        [218, 194, 170, 146, 121], [305, 271, 237, 203, 169], [405, 360, 315, 270, 225],
        [521, 463, 405, 347, 289], [650, 578, 506, 434, 361], [794, 706, 618, 530, 441],
        [953, 847, 741, 635, 529], [1125, 1000, 875, 750, 625], [1313, 1167, 1021, 875, 729],
    ];

    #[test]
    fn block_table_totals_match_symbol_size_and_data_table() {
        for v in MIN_VERSION..=MAX_VERSION {
            let row = BLOCKS[usize::from(v - 1)];
            let total = (usize::from(row.b1) + usize::from(row.b2)) * (usize::from(row.n1) - 1)
                + usize::from(row.b1);
            assert_eq!(total, total_codewords(v), "v{v}");
            for e in 1..=5u8 {
                let expect = DATA[usize::from(v - 1)][usize::from(e - 1)];
                if v == 1 && e == 1 {
                    continue;
                }
                let sum: usize = blocks(v, e).map(|b| b.data + b.check).sum();
                assert_eq!(sum, total, "v{v} e{e}");
                let d: usize = blocks(v, e).map(|b| b.data).sum();
                assert_eq!(d, expect, "v{v} e{e}");
                if e >= min_ecc(v) {
                    assert_eq!(data_codewords(v, e), expect);
                } else {
                    assert_eq!(data_codewords(v, e), 0);
                }
            }
        }
    }
}
