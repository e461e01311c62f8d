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
    let b: &[u8; 32] = b.try_into().ok()?;
    let (chunks, _) = b.as_chunks::<8>();
    let mut out = [0u64; 4];
    // The first eight bytes are the most significant limb, the last one.
    for (limb, chunk) in out.iter_mut().rev().zip(chunks) {
        *limb = u64::from_be_bytes(*chunk);
    }
    Some(out)
}

fn less(a: &U256, b: &U256) -> bool {
    a.iter().rev().lt(b.iter().rev())
}

/// a − b, wrapping; and whether it borrowed.
fn sub(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let (d1, b1) = x.overflowing_sub(*y);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        *o = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// a + b, wrapping; and whether it carried.
fn add(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let (s1, c1) = x.overflowing_add(*y);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        *o = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

/// a + b mod p, for a, b < p.
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

/// a · b mod p, for a, b < p: double and add over b's bits, most
/// significant first, reducing at every step (r stays below p).
fn mul_mod(a: &U256, b: &U256) -> U256 {
    let mut r = [0u64; 4];
    for limb in b.iter().rev() {
        for bit in (0..64).rev() {
            r = add_mod(&r, &r);
            if (limb >> bit) & 1 == 1 {
                r = add_mod(&r, a);
            }
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
