//! Optimal segmentation: the shortest bit stream over all mode sequences.
//!
//! A shortest-path dynamic program over (position, state). Every edge costs exactly the bits
//! it writes (`stream.rs`), so the result is the minimum over all streams this encoder
//! can write, not an estimate:
//!
//! * states: Chinese `H`, Numeral after a full 3-digit group (`NO`, may take more groups),
//!   Numeral after a shorter last group (`NC`, must leave), Lower `L`, Upper `U`, Mixed `M`,
//!   and the start state `S` (at the beginning and after a Byte block);
//! * mode switches at one position (latches, or a start-state indicator); a path may pass
//!   through a mode without writing a character in it, e.g. Numeral → Lower → Numeral to
//!   start a new Numeral segment after a short last group (10 + 7 bits); the stream then has
//!   an empty run, which is a plain sequence of two latch codes for a reader;
//! * character edges: a Chinese code (one unit, or a digit pair or CR LF), a letter, space
//!   or shifted character; a whole Numeral group (entering Numeral pays the latch and the
//!   2-bit pad count with its first group); a whole Byte block of 1–512 bytes ending in `S`,
//!   found with a sliding-window minimum so that the pass stays linear.
//!
//! Ties are broken towards the earlier state in the order H, N, L, U, M, B (as zint does).
//!
//! **Where this differs from zint.** zint's dynamic program charges averaged costs (a
//! Numeral group's bits spread over its characters, Chinese digit pairs at 6.5 bits a digit)
//! and limits the Numeral look-ahead, so it can pick a longer split. For inputs of one
//! character class both are forced to the same stream. Examples (data bits, ours vs zint
//! 2.11.1; `tests/zint_live.rs` checks them against the zint CLI):
//!
//! | input | ours | zint |
//! |---|---|---|
//! | `ABC 123 DEF` | 76 (U4 N3 U4) | 80 (M11) |
//! | `校准电子证书-1022CN0200036` | 191 (H11 U2 N7) | 194 (H6 N5 U2 N7) |
//! | `GB/T 27766-2011` | 94 (U5 N10) | 99 (U4 N11) |
//!
//! zint is shorter only where its stream is wrong: "1.2.156.112" is 76 bits as N12 in
//! zint, but reads back as "1.20.156.112" (`tests/zint_bugs.rs`); the shortest correct stream is
//! 91 bits (B4 N7). Random mixed inputs are compared in `tests/zint_live.rs`.
//! What is not searched: ending a mode with its end-of-data code and re-entering from the
//! start state (never shorter than a latch, and readers may stop at the first end code), and
//! Byte blocks that break inside a double-byte character.

use crate::Mode;
use crate::charset::GB_UNIT_MIN;

const H: usize = 0;
const NO: usize = 1;
const NC: usize = 2;
const L: usize = 3;
const U: usize = 4;
const M: usize = 5;
const S: usize = 6;
const NS: usize = 7;
const INF: u32 = u32::MAX / 4;
const X: u32 = INF;

/// Switch costs in bits, `[from][to]`, for `to` in H, L, U, M.
#[rustfmt::skip]
const SW: [[u32; NS]; NS] = [
    //  H   NO  NC  L   U   M   S
    [   X,  X,  X,  13, 13, 13, X ], // from H: 13-bit latch
    [   10, X,  X,  10, 10, 10, X ], // from N (open): 10-bit latch
    [   10, X,  X,  10, 10, 10, X ], // from N (closed)
    [   5,  X,  X,  X,  5,  7,  X ], // from L: 5-bit (H, U), 7-bit (M)
    [   5,  X,  X,  5,  X,  7,  X ], // from U
    [   10, X,  X,  10, 10, X,  X ], // from M: 10-bit latch
    [   4,  X,  X,  4,  4,  4,  X ], // from start state: 4-bit indicator
];
/// Latch into Numeral including the 2-bit pad count.
const LAT_N: [u32; NS] = [13 + 2, X, X, 5 + 2, 5 + 2, 10 + 2, 4 + 2];
/// Latch into Byte including the 9-bit count.
const LAT_B: [u32; NS] = [13 + 9, 10 + 9, 10 + 9, 7 + 9, 7 + 9, 10 + 9, 4 + 9];
/// End-of-data code of each state.
const END: [u32; NS] = [13, 10, 10, 5, 5, 10, 4];

/// Bytes a Byte block may hold (9-bit count).
pub(crate) const MAX_BLOCK: usize = 512;

/// A maximal stretch of units in one mode (a Byte run is one block of at most 512 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub mode: Mode,
    pub start: usize,
    pub end: usize,
}

const SHIFT_PUNCT: &[u8; 32] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// No shift-set value.
const NO_SHIFT: u8 = u8::MAX;

/// Shift-set value of each ASCII byte (0x00–0x1F: itself; punctuation: 32 + its index).
const SHIFT_OF: [u8; 128] = {
    let mut t = [NO_SHIFT; 128];
    let mut i = 0;
    while i < 32 {
        t[i] = i as u8;
        i += 1;
    }
    let mut k = 0;
    while k < 32 {
        t[SHIFT_PUNCT[k] as usize] = 32 + k as u8;
        k += 1;
    }
    t
};

/// The 6-bit shift-set value of a unit, if it has one (0x00–0x1F and ASCII punctuation).
pub(crate) fn shift_value(u: u16) -> Option<u8> {
    SHIFT_OF
        .get(usize::from(u))
        .copied()
        .filter(|&v| v != NO_SHIFT)
}

/// Numeral non-digit type t (0 space, 1 '+', 2 '-', 3 '.', 4 ',', 5 CR LF) at `i`, with its
/// length in units.
pub(crate) fn numeral_nondigit(units: &[u16], i: usize) -> Option<(u16, usize)> {
    match units.get(i)? {
        0x20 => Some((0, 1)),
        0x2B => Some((1, 1)),
        0x2D => Some((2, 1)),
        0x2E => Some((3, 1)),
        0x2C => Some((4, 1)),
        0x0D if units.get(i + 1) == Some(&0x0A) => Some((5, 2)),
        _ => None,
    }
}

pub(crate) fn is_digit(units: &[u16], i: usize) -> bool {
    units.get(i).is_some_and(|&u| (0x30..=0x39).contains(&u))
}

/// Calls `f(len, bits, full)` for every Numeral group that starts at `i`: 1–3 digits with at
/// most one non-digit, which is never last (a reader places it before the digit `p`).
fn numeral_groups(units: &[u16], i: usize, mut f: impl FnMut(usize, u32, bool)) {
    let mut a = 0;
    while a < 3 && is_digit(units, i + a) {
        a += 1;
        f(a, 10, a == 3);
    }
    for p in 0..=a.min(2) {
        let Some((_, xlen)) = numeral_nondigit(units, i + p) else {
            continue;
        };
        let mut b = 0;
        while p + b < 3 && is_digit(units, i + p + xlen + b) {
            b += 1;
            f(p + xlen + b, 20, p + b == 3);
        }
    }
}

fn byte_len(u: u16) -> usize {
    if u >= GB_UNIT_MIN { 2 } else { 1 }
}

/// Cost of one character edge in U, L or M (None: the unit has no code in that mode).
fn text_cost(state: usize, u: u16) -> Option<u32> {
    let b = u8::try_from(u).ok().filter(u8::is_ascii)?;
    let space = b == b' ';
    let shift = SHIFT_OF[usize::from(b)] != NO_SHIFT;
    match state {
        U if b.is_ascii_uppercase() || space => Some(5),
        L if b.is_ascii_lowercase() || space => Some(5),
        U | L if shift => Some(7 + 6),
        M if b.is_ascii_alphanumeric() || space => Some(6),
        M if shift => Some(10 + 6),
        _ => None,
    }
}

fn mode_of(state: usize) -> Mode {
    match state {
        H => Mode::Chinese,
        NO | NC => Mode::Numeral,
        L => Mode::Lower,
        U => Mode::Upper,
        M => Mode::Mixed,
        _ => Mode::Byte,
    }
}

#[derive(Clone, Copy)]
struct Back {
    pos: u32,
    state: u8,
}

const NO_BACK: Back = Back {
    pos: u32::MAX,
    state: u8::MAX,
};

/// Shortest stream for `units`, starting in the start state. Returns its length in bits
/// (including the final end-of-data code) and its runs.
pub(crate) fn segment(units: &[u16]) -> (u32, Vec<Run>) {
    let n = units.len();
    let mut arr = vec![[INF; NS]; n + 1];
    let mut back = vec![[NO_BACK; NS]; n + 1];
    let mut cur = vec![[INF; NS]; n + 1];
    let mut sw_from = vec![[u8::MAX; NS]; n + 1];
    let mut window: std::collections::VecDeque<(usize, i64, u8)> =
        std::collections::VecDeque::with_capacity(n.min(MAX_BLOCK) + 1);
    // Byte offsets of unit boundaries.
    let mut off = Vec::with_capacity(n + 1);
    off.push(0usize);
    for &u in units {
        off.push(off.last().copied().unwrap_or(0) + byte_len(u));
    }
    // `window`: sliding-window minimum of key[i] = min_X(cur[i][X] + LAT_B[X]) - 8·off[i].
    arr[0][S] = 0;

    for i in 0..=n {
        // Byte blocks ending at i.
        let off_i = off[i];
        while window
            .front()
            .is_some_and(|&(p, _, _)| off_i - off[p] > MAX_BLOCK)
        {
            window.pop_front();
        }
        if let Some(&(p, key, from)) = window.front() {
            let c = key + 8 * off_i as i64;
            if let Ok(c) = u32::try_from(c)
                && c < arr[i][S]
            {
                arr[i][S] = c;
                back[i][S] = Back {
                    pos: p as u32,
                    state: from,
                };
            }
        }
        // Switches at i.
        cur[i] = arr[i];
        let a = arr[i];
        for (from, &af) in a.iter().enumerate() {
            if af >= INF {
                continue;
            }
            for to in [H, L, U, M] {
                let c = af + SW[from][to];
                if c < cur[i][to] {
                    cur[i][to] = c;
                    sw_from[i][to] = from as u8;
                }
            }
        }
        if i == n {
            break;
        }
        let c = cur[i];
        // Chinese.
        if c[H] < INF {
            relax(&mut arr, &mut back, i + 1, H, c[H] + 13, i, H);
            let pair = (is_digit(units, i) && is_digit(units, i + 1))
                || (units.get(i) == Some(&0x0D) && units.get(i + 1) == Some(&0x0A));
            if pair {
                relax(&mut arr, &mut back, i + 2, H, c[H] + 13, i, H);
            }
        }
        // Upper, Lower, Mixed.
        for st in [L, U, M] {
            if c[st] < INF
                && let Some(k) = text_cost(st, units[i])
            {
                relax(&mut arr, &mut back, i + 1, st, c[st] + k, i, st);
            }
        }
        // Numeral groups.
        let mut nsrc = (c[NO], NO);
        for from in 0..NS {
            let v = c[from].saturating_add(LAT_N[from]);
            if v < nsrc.0 {
                nsrc = (v, from);
            }
        }
        if nsrc.0 < INF {
            numeral_groups(units, i, |len, bits, full| {
                let to = if full { NO } else { NC };
                relax(&mut arr, &mut back, i + len, to, nsrc.0 + bits, i, nsrc.1);
            });
        }
        // Byte block entry at i.
        let mut bsrc = (INF, S);
        for from in 0..NS {
            let v = c[from].saturating_add(LAT_B[from]);
            if v < bsrc.0 {
                bsrc = (v, from);
            }
        }
        if bsrc.0 < INF {
            let key = i64::from(bsrc.0) - 8 * off_i as i64;
            while window.back().is_some_and(|&(_, k, _)| k > key) {
                window.pop_back();
            }
            window.push_back((i, key, bsrc.1 as u8));
        }
    }

    // Final state.
    let mut best = (INF, S);
    for st in 0..NS {
        let v = cur[n][st].saturating_add(END[st]);
        if v < best.0 {
            best = (v, st);
        }
    }
    // Trace back: consuming pieces, each with the state it was entered from.
    struct Piece {
        mode: Mode,
        start: usize,
        end: usize,
        /// State (cur layer at `start`) the piece was entered from.
        source: usize,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let (mut i, mut st) = (n, best.1);
    // A final state entered by a switch (never optimal, kept exact) is a zero-length run.
    let final_state = st;
    let mut guard = 0usize;
    loop {
        guard += 1;
        if guard > 4 * (n + 2) {
            break; // unreachable for a consistent table; never loop forever
        }
        let from = sw_from[i][st];
        if usize::from(from) < NS {
            st = usize::from(from);
        }
        if i == 0 && st == S {
            break;
        }
        let b = back[i][st];
        if b.pos == u32::MAX {
            break;
        }
        let p = b.pos as usize;
        pieces.push(Piece {
            mode: mode_of(st),
            start: p,
            end: i,
            source: usize::from(b.state),
        });
        i = p;
        st = usize::from(b.state);
    }
    pieces.reverse();
    if final_state != S {
        // The end-of-data code is written in the final state's mode.
        pieces.push(Piece {
            mode: mode_of(final_state),
            start: n,
            end: n,
            source: final_state,
        });
    }
    let mut runs: Vec<Run> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let continues = match piece.mode {
            Mode::Byte => false,
            Mode::Numeral => piece.source == NO,
            m => mode_of(piece.source) == m,
        };
        let last_mode = runs.last().map(|r| r.mode);
        if continues && last_mode == Some(piece.mode) {
            if let Some(last) = runs.last_mut() {
                last.end = piece.end;
            }
            continue;
        }
        // Entered through a switch into a mode that wrote no character (e.g. N → U → N to
        // start Numeral afresh after a short group): keep that mode as an empty run.
        let via = piece.source;
        if !continues && matches!(via, H | L | U | M) && last_mode != Some(mode_of(via)) {
            runs.push(Run {
                mode: mode_of(via),
                start: piece.start,
                end: piece.start,
            });
        }
        if piece.start == piece.end && last_mode == Some(piece.mode) {
            continue; // the final pseudo-piece in the mode already current
        }
        runs.push(Run {
            mode: piece.mode,
            start: piece.start,
            end: piece.end,
        });
    }
    (best.0, runs)
}

#[inline]
fn relax(
    arr: &mut [[u32; NS]],
    back: &mut [[Back; NS]],
    j: usize,
    to: usize,
    cost: u32,
    from_pos: usize,
    from_state: usize,
) {
    if let (Some(a), Some(b)) = (arr.get_mut(j), back.get_mut(j))
        && cost < a[to]
    {
        a[to] = cost;
        b[to] = Back {
            pos: from_pos as u32,
            state: from_state as u8,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{BitWriter, write_runs};

    fn units(s: &str) -> Vec<u16> {
        let mut u = Vec::new();
        crate::charset::text_to_gb_units(s, true, &mut u).expect("GB 2312 text");
        u
    }

    /// Whether a Numeral run is valid: full 3-digit groups, a last group of 1–3 digits, a
    /// non-digit never last in its group.
    fn numeral_run_ok(units: &[u16], start: usize, end: usize) -> bool {
        let mut i = start;
        while i < end {
            let (mut digits, mut nd, mut last_was_nd) = (0, false, false);
            while i < end && digits < 3 {
                if is_digit(units, i) {
                    digits += 1;
                    i += 1;
                    last_was_nd = false;
                } else if let (false, Some((_, len))) = (nd, numeral_nondigit(units, i)) {
                    if i + len > end {
                        return false;
                    }
                    nd = true;
                    last_was_nd = true;
                    i += len;
                } else {
                    return false;
                }
            }
            if digits == 0 || last_was_nd || (digits < 3 && i < end) {
                return false;
            }
        }
        true
    }

    fn encodable(mode: Mode, u: u16) -> bool {
        match mode {
            Mode::Chinese | Mode::Byte => true,
            Mode::Numeral => {
                (0x30..=0x39).contains(&u) || u == 0x0A || numeral_nondigit(&[u, 0x0A], 0).is_some()
            }
            Mode::Upper => text_cost(U, u).is_some(),
            Mode::Lower => text_cost(L, u).is_some(),
            Mode::Mixed => text_cost(M, u).is_some(),
        }
    }

    /// Bits of the stream for one mode label per unit, if valid.
    fn labelled_bits(units: &[u16], labels: &[Mode]) -> Option<usize> {
        let mut runs: Vec<Run> = Vec::new();
        for (i, &m) in labels.iter().enumerate() {
            let bytes_in_last = |r: &Run| {
                units[r.start..r.end]
                    .iter()
                    .map(|&u| byte_len(u))
                    .sum::<usize>()
            };
            match runs.last_mut() {
                Some(r)
                    if r.mode == m
                        && (m != Mode::Byte
                            || bytes_in_last(r) + byte_len(units[i]) <= MAX_BLOCK) =>
                {
                    r.end = i + 1
                }
                _ => runs.push(Run {
                    mode: m,
                    start: i,
                    end: i + 1,
                }),
            }
        }
        for w in runs.windows(2) {
            if w[0].mode == Mode::Numeral && w[1].mode == Mode::Numeral {
                return None;
            }
        }
        for r in &runs {
            if r.mode == Mode::Numeral && !numeral_run_ok(units, r.start, r.end) {
                return None;
            }
        }
        let mut w = BitWriter::default();
        write_runs(&mut w, units, &runs);
        Some(w.bits())
    }

    fn written_bits(units: &[u16], runs: &[Run]) -> usize {
        let mut w = BitWriter::default();
        write_runs(&mut w, units, runs);
        w.bits()
    }

    const ALL: [Mode; 6] = [
        Mode::Chinese,
        Mode::Numeral,
        Mode::Upper,
        Mode::Lower,
        Mode::Mixed,
        Mode::Byte,
    ];

    /// The DP is optimal: no labelling of the units with modes gives a shorter stream
    /// (exhaustive for short inputs), and its cost equals the bits written.
    #[test]
    fn dp_is_optimal_against_exhaustive_search() {
        let samples = [
            "12", "123", "1.2", "1.2.3", "a1b2", "A1", "Ab", "aB c", "12ab", "1 2 3", "1,23",
            "\r\n12", "检1", "检12", "a.b", "ab12cd", "A-1+2", "1.20", "~!", "\u{7f}a1", "9a9",
            "ABC1", "x1.2", "·12",
        ];
        for s in samples {
            let u = units(s);
            let (bits, runs) = segment(&u);
            assert_eq!(
                written_bits(&u, &runs),
                bits as usize,
                "{s:?}: cost vs written"
            );
            let n = u.len();
            let mut best = usize::MAX;
            let mut labels = vec![Mode::Chinese; n];
            let total = 6usize.pow(n as u32);
            for code in 0..total {
                let mut c = code;
                let mut ok = true;
                for (i, l) in labels.iter_mut().enumerate() {
                    *l = ALL[c % 6];
                    c /= 6;
                    if !encodable(*l, u[i]) {
                        ok = false;
                    }
                }
                if ok && let Some(b) = labelled_bits(&u, &labels) {
                    best = best.min(b);
                }
            }
            assert_eq!(
                bits as usize, best,
                "{s:?}: DP {bits} vs exhaustive {best} ({runs:?})"
            );
        }
    }

    /// Never longer than any single-mode encoding (a naive encoder's choice).
    #[test]
    fn dp_never_longer_than_single_mode() {
        let samples = [
            "https://cert.example.cn/v/Ab3dEf7Gh9Jk2Lm4Np6Qr8St0Uv1Wx5Yz3A",
            "1.2.156.112233·7·12100000400012345X·CNAS L0001·2025JZ000123·0",
            "检定电子证书-质字20211203-2377",
            "校准电子证书-1022CN0200036",
            "HELLO WORLD",
            "hello world",
            "0123456789012345678901234567890",
            "12.34 56-78",
            "Mixed Case 123 with, punctuation!",
        ];
        for s in samples {
            let u = units(s);
            let (bits, runs) = segment(&u);
            assert_eq!(written_bits(&u, &runs), bits as usize, "{s:?}");
            for m in ALL {
                if u.iter().all(|&x| encodable(m, x))
                    && let Some(b) = labelled_bits(&u, &vec![m; u.len()])
                {
                    assert!(bits as usize <= b, "{s:?}: DP {bits} > single {m:?} {b}");
                }
            }
        }
    }

    /// Found by the fuzzer: after a short Numeral group ("1.2") the shortest stream restarts
    /// Numeral through a latch to Upper and back (10 + 7 bits), an empty Upper run.
    #[test]
    fn numeral_restart_through_an_empty_run() {
        for s in [
            "CDEF1.2.152112233121121000040121012344",
            "1.2.152112233121121000040121012344",
        ] {
            let u = units(s);
            let (bits, runs) = segment(&u);
            assert_eq!(written_bits(&u, &runs), bits as usize, "{s:?}: {runs:?}");
            if s.starts_with('C') {
                assert!(runs.iter().any(|r| r.start == r.end), "{s:?}: {runs:?}");
            }
        }
    }

    #[test]
    fn long_byte_runs_split_into_512_byte_blocks() {
        let u: Vec<u16> = (0..1100u32).map(|i| 0x80 + (i % 0x21) as u16).collect();
        let (bits, runs) = segment(&u);
        assert!(
            runs.iter()
                .all(|r| r.mode == Mode::Byte && r.end - r.start <= MAX_BLOCK)
        );
        assert_eq!(written_bits(&u, &runs), bits as usize);
        // Three blocks: 3 × (4 + 9) + 8 × 1100 + end 4.
        assert_eq!(bits as usize, 3 * 13 + 8 * 1100 + 4);
    }
}
