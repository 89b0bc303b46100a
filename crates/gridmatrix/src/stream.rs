//! The data bit stream (GB/T 27766-2011): mode indicators, latches, character codes,
//! end-of-data, then 7-bit codewords.

use crate::Mode;
use crate::charset::GB_UNIT_MIN;
use crate::segment::{Run, is_digit, numeral_nondigit, shift_value};

/// Bits packed MSB first into 7-bit codewords.
#[derive(Default)]
pub(crate) struct BitWriter {
    acc: u64,
    nbits: u32,
    total: usize,
    pub codewords: Vec<u8>,
}

impl BitWriter {
    pub(crate) fn with_capacity(cw: usize) -> Self {
        BitWriter {
            codewords: Vec::with_capacity(cw),
            ..Default::default()
        }
    }

    /// Appends the low `n` bits of `value` (n ≤ 32).
    pub(crate) fn put(&mut self, value: u32, n: u32) {
        let mask = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.acc = (self.acc << n) | u64::from(value & mask);
        self.nbits += n;
        self.total += n as usize;
        while self.nbits >= 7 {
            self.nbits -= 7;
            self.codewords.push(((self.acc >> self.nbits) & 0x7F) as u8);
        }
        self.acc &= (1u64 << self.nbits) - 1;
    }

    /// Bits written so far.
    pub(crate) fn bits(&self) -> usize {
        self.total
    }

    /// Pads with zero bits to a codeword boundary and returns the codewords.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.nbits > 0 {
            let fill = 7 - self.nbits;
            self.put(0, fill);
            self.total -= fill as usize;
        }
        self.codewords
    }
}

/// The start-state indicator of a mode (4 bits).
fn start_indicator(mode: Mode) -> u32 {
    match mode {
        Mode::Chinese => 0b0001,
        Mode::Numeral => 0b0010,
        Mode::Lower => 0b0011,
        Mode::Upper => 0b0100,
        Mode::Mixed => 0b0101,
        Mode::Byte => 0b0111,
    }
}

/// Writes the latch from `from` (None = start state) to `to`, as (value, bits).
fn latch(from: Option<Mode>, to: Mode) -> (u32, u32) {
    use Mode::*;
    match (from, to) {
        (None, t) => (start_indicator(t), 4),
        (Some(Chinese), t) => (
            match t {
                Numeral => 8161,
                Lower => 8162,
                Upper => 8163,
                Mixed => 8164,
                _ => 8165,
            },
            13,
        ),
        (Some(Numeral), t) => (
            match t {
                Chinese => 1019,
                Lower => 1020,
                Upper => 1021,
                Mixed => 1022,
                _ => 1023,
            },
            10,
        ),
        (Some(Upper | Lower), Chinese) => (28, 5),
        (Some(Upper | Lower), Numeral) => (29, 5),
        (Some(Upper), Lower) | (Some(Lower), Upper) => (30, 5),
        (Some(Upper | Lower), Mixed) => (124, 7),
        (Some(Upper | Lower), _) => (126, 7),
        (Some(Mixed), t) => (
            match t {
                Chinese => 1009,
                Numeral => 1010,
                Lower => 1011,
                Upper => 1012,
                _ => 1015,
            },
            10,
        ),
        (Some(Byte), t) => (start_indicator(t), 4),
    }
}

fn end_code(mode: Option<Mode>) -> (u32, u32) {
    match mode {
        None | Some(Mode::Byte) => (0, 4),
        Some(Mode::Chinese) => (8160, 13),
        Some(Mode::Numeral) => (1018, 10),
        Some(Mode::Upper | Mode::Lower) => (27, 5),
        Some(Mode::Mixed) => (1008, 10),
    }
}

/// Chinese-mode value of a GB 2312 code (GB/T 27766-2011, Chinese mode).
pub(crate) fn chinese_value(code: u16) -> u32 {
    let c1 = u32::from(code >> 8);
    let c2 = u32::from(code & 0xFF);
    if c1 <= 0xA9 {
        96 * (c1 - 0xA1) + (c2 - 0xA0)
    } else {
        96 * (c1 - 0xB0 + 9) + (c2 - 0xA0)
    }
}

/// Writes the ECI header (start state `1100` + 11, 17 or 22 bits).
pub(crate) fn write_eci(w: &mut BitWriter, eci: u32) {
    w.put(0b1100, 4);
    if eci <= 1023 {
        w.put(eci, 11);
    } else if eci <= 32767 {
        w.put(0b10, 2);
        w.put(eci, 15);
    } else {
        w.put(0b11, 2);
        w.put(eci, 20);
    }
}

/// Bits of an ECI header.
pub(crate) fn eci_bits(eci: u32) -> u32 {
    4 + if eci <= 1023 {
        11
    } else if eci <= 32767 {
        17
    } else {
        22
    }
}

/// Splits a Numeral run into groups: (start, end, digit count). Every group but the last
/// holds three digits; a non-digit after the third digit opens the next group.
fn numeral_group_bounds(units: &[u16], run: &Run) -> Vec<(usize, usize, usize)> {
    let mut groups = Vec::with_capacity((run.end - run.start) / 3 + 1);
    let mut i = run.start;
    while i < run.end {
        let start = i;
        let mut digits = 0;
        let mut nondigit = false;
        while i < run.end && digits < 3 {
            if is_digit(units, i) {
                digits += 1;
                i += 1;
            } else if let (false, Some((_, len))) = (nondigit, numeral_nondigit(units, i)) {
                nondigit = true;
                i += len;
            } else {
                break;
            }
        }
        groups.push((start, i, digits));
        if i == start {
            break; // not a Numeral run: cannot happen for runs made by `segment`
        }
    }
    groups
}

/// Writes the runs and the final end-of-data code.
pub(crate) fn write_runs(w: &mut BitWriter, units: &[u16], runs: &[Run]) {
    let mut mode: Option<Mode> = None;
    for run in runs {
        let (v, n) = latch(mode, run.mode);
        w.put(v, n);
        let slice = units.get(run.start..run.end).unwrap_or(&[]);
        match run.mode {
            Mode::Chinese => {
                let mut i = 0;
                while let Some(&u) = slice.get(i) {
                    let next = slice.get(i + 1).copied();
                    let v = if (0x30..=0x39).contains(&u)
                        && next.is_some_and(|n| (0x30..=0x39).contains(&n))
                    {
                        i += 1;
                        8033 + u32::from(u - 0x30) * 10 + u32::from(next.unwrap_or(0x30) - 0x30)
                    } else if u == 0x0D && next == Some(0x0A) {
                        i += 1;
                        7776
                    } else if u >= GB_UNIT_MIN {
                        chinese_value(u)
                    } else {
                        7777 + u32::from(u)
                    };
                    w.put(v, 13);
                    i += 1;
                }
            }
            Mode::Numeral => {
                let groups = numeral_group_bounds(units, run);
                let last_digits = groups.last().map_or(3, |g| g.2);
                w.put(3 - last_digits.min(3) as u32, 2);
                for (start, end, _) in groups {
                    let mut value = 0u32;
                    let mut count = 0;
                    let mut marker = None;
                    let mut i = start;
                    while i < end {
                        if is_digit(units, i) {
                            value = value * 10 + u32::from(units[i] - 0x30);
                            count += 1;
                            i += 1;
                        } else if let Some((t, len)) = numeral_nondigit(units, i) {
                            marker = Some(1000 + 3 * u32::from(t) + count);
                            i += len;
                        } else {
                            i += 1;
                        }
                    }
                    while count < 3 {
                        value *= 10;
                        count += 1;
                    }
                    if let Some(m) = marker {
                        w.put(m, 10);
                    }
                    w.put(value, 10);
                }
            }
            Mode::Upper | Mode::Lower => {
                for &u in slice {
                    match u {
                        0x41..=0x5A => w.put(u32::from(u - 0x41), 5),
                        0x61..=0x7A => w.put(u32::from(u - 0x61), 5),
                        0x20 => w.put(26, 5),
                        _ => {
                            w.put(125, 7);
                            w.put(u32::from(shift_value(u).unwrap_or(0)), 6);
                        }
                    }
                }
            }
            Mode::Mixed => {
                for &u in slice {
                    match u {
                        0x30..=0x39 => w.put(u32::from(u - 0x30), 6),
                        0x41..=0x5A => w.put(u32::from(u - 0x41) + 10, 6),
                        0x61..=0x7A => w.put(u32::from(u - 0x61) + 36, 6),
                        0x20 => w.put(62, 6),
                        _ => {
                            w.put(1014, 10);
                            w.put(u32::from(shift_value(u).unwrap_or(0)), 6);
                        }
                    }
                }
            }
            Mode::Byte => {
                let count: usize = slice
                    .iter()
                    .map(|&u| if u >= GB_UNIT_MIN { 2 } else { 1 })
                    .sum();
                w.put(count.saturating_sub(1) as u32, 9);
                for &u in slice {
                    if u >= GB_UNIT_MIN {
                        w.put(u32::from(u >> 8), 8);
                    }
                    w.put(u32::from(u & 0xFF), 8);
                }
            }
        }
        mode = if run.mode == Mode::Byte {
            None
        } else {
            Some(run.mode)
        };
    }
    let (v, n) = end_code(mode);
    w.put(v, n);
}
