//! Reed–Solomon over GF(2⁷), primitive polynomial x⁷ + x³ + 1, generator roots α¹ … α^E
//! (GB/T 27766-2011, error correction).

/// Field size minus one.
const ORDER: usize = 127;

/// Length of the exponent table: α^0 … α^253 (twice the order, so that the sum of two logs
/// needs no reduction), then zeros for sums that involve the `ZERO` log of 0.
const EXP_LEN: usize = 384;

/// Exponent and logarithm tables of GF(128).
struct Field {
    exp: [u8; EXP_LEN],
    log: [u8; 128],
}

const fn build_field() -> Field {
    let mut exp = [0u8; EXP_LEN];
    let mut log = [0u8; 128];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < ORDER {
        exp[i] = x as u8;
        exp[i + ORDER] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x80 != 0 {
            x ^= 0x89;
        }
        i += 1;
    }
    Field { exp, log }
}

static FIELD: Field = build_field();

fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    let l = usize::from(FIELD.log[usize::from(a & 0x7F)])
        + usize::from(FIELD.log[usize::from(b & 0x7F)]);
    FIELD.exp[l % ORDER]
}

/// Generator polynomial ∏(x − α^i), i = 1..=e, highest degree first, leading 1 omitted.
pub(crate) fn generator(e: usize) -> Vec<u8> {
    // g holds coefficients highest degree first, including the leading 1; multiplying by
    // (x − α^i) in place: g'[j] = g[j] + α^i·g[j−1].
    let mut g = Vec::with_capacity(e + 1);
    g.push(1u8);
    for i in 1..=e {
        let root = FIELD.exp[i % ORDER];
        g.push(0);
        for j in (1..g.len()).rev() {
            g[j] ^= mul(g[j - 1], root);
        }
    }
    g.remove(0);
    g
}

/// Logarithms of the generator coefficients (`ZERO` for a zero coefficient) for every
/// check-codeword count, built once.
fn generator_logs(e: usize) -> &'static [u8] {
    static CACHE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| {
        (0..=MAX_CHECK)
            .map(|e| {
                generator(e)
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            ZERO
                        } else {
                            FIELD.log[usize::from(c & 0x7F)]
                        }
                    })
                    .collect()
            })
            .collect()
    });
    all.get(e).map_or(&[], Vec::as_slice)
}

/// Marks a zero coefficient in `generator_logs`.
const ZERO: u8 = u8::MAX;

/// Largest check-codeword count of a block (Table A.1).
const MAX_CHECK: usize = 63;

/// Appends the `check` check codewords of `data` (systematic encoding, remainder of
/// D(x)·x^E mod g(x), highest degree first).
pub(crate) fn encode_block(data: &[u8], check: usize, out: &mut Vec<u8>) {
    let glog = generator_logs(check);
    // Long division in place: `work` = data followed by the remainder being built.
    let mut work = Vec::with_capacity(data.len() + glog.len());
    work.extend(data.iter().map(|&d| d & 0x7F));
    work.resize(data.len() + glog.len(), 0);
    for i in 0..data.len() {
        let coef = work[i];
        if coef == 0 {
            continue;
        }
        // fl ≤ 126; a zero coefficient has log ZERO (255) and lands in the zero tail of `exp`.
        let fl = usize::from(FIELD.log[usize::from(coef)] & 0x7F);
        if let Some(tail) = work.get_mut(i + 1..i + 1 + glog.len()) {
            for (w, &gl) in tail.iter_mut().zip(glog) {
                *w ^= FIELD.exp[fl + usize::from(gl)];
            }
        }
    }
    out.extend_from_slice(work.get(data.len()..).unwrap_or(&[]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(poly: &[u8], x: u8) -> u8 {
        poly.iter().fold(0u8, |acc, &c| mul(acc, x) ^ c)
    }

    #[test]
    fn field_is_gf128_with_0x89() {
        assert_eq!(FIELD.exp[7], 0x09);
        let mut seen = [false; 128];
        for i in 0..ORDER {
            seen[usize::from(FIELD.exp[i])] = true;
        }
        assert!(seen[1..].iter().all(|&s| s));
    }

    #[test]
    fn zero_log_lands_in_zero_tail() {
        for fl in 0..127usize {
            assert_eq!(FIELD.exp[fl + usize::from(ZERO)], 0);
            assert_eq!(FIELD.exp[fl + 126], FIELD.exp[(fl + 126) % ORDER]);
        }
    }

    #[test]
    fn codeword_has_zero_syndromes() {
        let data: Vec<u8> = (0..40u32).map(|i| ((i * 37 + 5) & 0x7F) as u8).collect();
        for e in [3usize, 9, 25, 49, 63] {
            let mut cw = data.clone();
            encode_block(&data, e, &mut cw);
            for j in 1..=e {
                assert_eq!(eval(&cw, FIELD.exp[j]), 0, "e={e} j={j}");
            }
        }
    }
}
