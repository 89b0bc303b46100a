//! Reed–Solomon over GF(2⁷), primitive polynomial x⁷ + x³ + 1, generator roots α¹ … α^E
//! (brief, section 3).

/// Field size minus one.
const ORDER: usize = 127;

/// Exponent and logarithm tables of GF(128).
struct Field {
    exp: [u8; 2 * ORDER],
    log: [u8; 128],
}

const fn build_field() -> Field {
    let mut exp = [0u8; 2 * ORDER];
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
    // g holds coefficients highest degree first, including the leading 1.
    let mut g = vec![1u8];
    for i in 1..=e {
        let root = FIELD.exp[i % ORDER];
        let mut next = vec![0u8; g.len() + 1];
        for (j, &c) in g.iter().enumerate() {
            next[j] ^= c;
            next[j + 1] ^= mul(c, root);
        }
        g = next;
    }
    g.split_off(1)
}

/// Appends the `check` check codewords of `data` (systematic encoding, remainder of
/// D(x)·x^E mod g(x), highest degree first).
/// `g` is `generator(check)`.
pub(crate) fn encode_block(data: &[u8], g: &[u8], out: &mut Vec<u8>) {
    let mut rem = vec![0u8; g.len()];
    for &d in data {
        let feedback = (d ^ rem.first().copied().unwrap_or(0)) & 0x7F;
        rem.rotate_left(1);
        if let Some(last) = rem.last_mut() {
            *last = 0;
        }
        for (r, &gc) in rem.iter_mut().zip(g) {
            *r ^= mul(feedback, gc);
        }
    }
    out.extend_from_slice(&rem);
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
    fn codeword_has_zero_syndromes() {
        let data: Vec<u8> = (0..40u32).map(|i| ((i * 37 + 5) & 0x7F) as u8).collect();
        for e in [3usize, 9, 25, 49, 63] {
            let mut cw = data.clone();
            encode_block(&data, &generator(e), &mut cw);
            for j in 1..=e {
                assert_eq!(eval(&cw, FIELD.exp[j]), 0, "e={e} j={j}");
            }
        }
    }
}
