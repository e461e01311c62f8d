//! Whether (x, y) is a point of the P-256 curve (SEC 2 §2.4.2):
//! y² = x³ − 3x + b (mod p), with x, y < p. Builds without aws-lc (the
//! WebAssembly one) hand EC keys to the host's crypto, which would refuse a
//! bad point only when a token arrives; checking it when the key set loads
//! keeps "usable key" the same in every build. Runs a few times per key
//! set, so it is written for clarity, not speed.

/// A 256-bit number, little-endian 64-bit limbs.
type U256 = [u64; 4];

/// p = 2^256 − 2^224 + 2^192 + 2^96 − 1.
const P: U256 = [
    0xffff_ffff_ffff_ffff,
    0x0000_0000_ffff_ffff,
    0x0000_0000_0000_0000,
    0xffff_ffff_0000_0001,
];

/// b = 5ac635d8 aa3a93e7 b3ebbd55 769886bc 651d06b0 cc53b0f6 3bce3c3e 27d2604b.
const B: U256 = [
    0x3bce_3c3e_27d2_604b,
    0x651d_06b0_cc53_b0f6,
    0xb3eb_bd55_7698_86bc,
    0x5ac6_35d8_aa3a_93e7,
];

fn from_be(b: &[u8]) -> Option<U256> {
    if b.len() != 32 {
        return None;
    }
    let mut out = [0u64; 4];
    for (i, chunk) in b.chunks(8).enumerate() {
        out[3 - i] = chunk.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    }
    Some(out)
}

fn less(a: &U256, b: &U256) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// a − b, wrapping; and whether it borrowed.
fn sub(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// a + b, wrapping; and whether it carried.
fn add(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

fn add_mod(a: &U256, b: &U256) -> U256 {
    let (s, carry) = add(a, b);
    if carry || !less(&s, &P) {
        sub(&s, &P).0
    } else {
        s
    }
}

fn sub_mod(a: &U256, b: &U256) -> U256 {
    let (d, borrow) = sub(a, b);
    if borrow {
        add(&d, &P).0
    } else {
        d
    }
}

/// a · b mod p: the 512-bit product, reduced one bit at a time.
fn mul_mod(a: &U256, b: &U256) -> U256 {
    let mut wide = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = u128::from(a[i]) * u128::from(b[j]) + u128::from(wide[i + j]) + carry;
            wide[i + j] = t as u64;
            carry = t >> 64;
        }
        wide[i + 4] = carry as u64;
    }
    let mut r = [0u64; 4];
    for bit in (0..512).rev() {
        let top = r[3] >> 63;
        for i in (1..4).rev() {
            r[i] = (r[i] << 1) | (r[i - 1] >> 63);
        }
        r[0] = (r[0] << 1) | ((wide[bit / 64] >> (bit % 64)) & 1);
        if top == 1 || !less(&r, &P) {
            r = sub(&r, &P).0;
        }
    }
    r
}

/// True when the 32-byte big-endian coordinates are a point of P-256.
pub fn on_curve(x: &[u8], y: &[u8]) -> bool {
    let (Some(x), Some(y)) = (from_be(x), from_be(y)) else {
        return false;
    };
    if !less(&x, &P) || !less(&y, &P) {
        return false;
    }
    let lhs = mul_mod(&y, &y);
    let x3 = mul_mod(&mul_mod(&x, &x), &x);
    let three_x = add_mod(&add_mod(&x, &x), &x);
    let rhs = add_mod(&sub_mod(&x3, &three_x), &B);
    lhs == rhs
}

#[cfg(test)]
mod tests {
    use super::on_curve;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_generator_is_on_the_curve_and_neighbours_are_not() {
        let gx = hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
        let gy = hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
        assert!(on_curve(&gx, &gy));
        let mut y2 = gy.clone();
        y2[31] ^= 1;
        assert!(!on_curve(&gx, &y2));
        assert!(!on_curve(&[1; 32], &[2; 32]));
        assert!(!on_curve(&[0xff; 32], &gy));
        assert!(!on_curve(&gx[..31], &gy));
        // -G = (x, p - y) is on the curve too.
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        let mut neg = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(p[i]) - i16::from(gy[i]) - borrow;
            borrow = i16::from(d < 0);
            neg[i] = (d + 256 * borrow) as u8;
        }
        assert!(on_curve(&gx, &neg));
    }
}
