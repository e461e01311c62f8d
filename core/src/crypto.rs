//! Signature verification behind one small interface. The backend is chosen
//! by cargo feature: `aws-lc` (native) or `rust-hmac` (WebAssembly, where RSA
//! and ECDSA go to the host through the two-phase API instead).

use crate::jws::Algorithm;
use crate::material::KeyMaterial;
use crate::reason::Reason;
use crate::reason::Refusal;

#[cfg(feature = "aws-lc")]
mod backend {
    use super::*;
    use aws_lc_rs::signature::{self, ParsedPublicKey};
    use aws_lc_rs::{constant_time, hmac};

    /// Keys parsed once, at load, so a verify does no parsing. (A key set
    /// holds a handful of these; their size does not matter.)
    #[allow(clippy::large_enum_variant)]
    pub enum Prepared {
        Rsa {
            pkcs1: ParsedPublicKey,
            pss: ParsedPublicKey,
        },
        Ec(ParsedPublicKey),
        Hmac(hmac::Key),
    }

    /// DER of RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
    pub(crate) fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
        fn len(out: &mut Vec<u8>, l: usize) {
            if l < 0x80 {
                out.push(l as u8);
            } else {
                let bytes = l.to_be_bytes();
                let mut sig: &[u8] = &bytes;
                while let [0, rest @ ..] = sig {
                    sig = rest;
                }
                out.push(0x80 | sig.len() as u8);
                out.extend_from_slice(sig);
            }
        }
        fn int(out: &mut Vec<u8>, v: &[u8]) {
            // Leading zeros go, but a zero value keeps one byte.
            let mut v = v;
            while let [0, rest @ ..] = v {
                if rest.is_empty() {
                    break;
                }
                v = rest;
            }
            let pad = v.first().is_none_or(|&b| b & 0x80 != 0);
            out.push(0x02);
            len(out, v.len() + usize::from(pad));
            if pad {
                out.push(0);
            }
            out.extend_from_slice(v);
        }
        let mut body = Vec::with_capacity(n.len() + e.len() + 16);
        int(&mut body, n);
        int(&mut body, e);
        let mut out = Vec::with_capacity(body.len() + 4);
        out.push(0x30);
        len(&mut out, body.len());
        out.extend_from_slice(&body);
        out
    }

    impl Prepared {
        pub fn new(m: &KeyMaterial) -> Result<Prepared, String> {
            match m {
                KeyMaterial::Rsa { n, e } => {
                    let der = rsa_public_key_der(n, e);
                    let parse = |alg| {
                        ParsedPublicKey::new(alg, &der)
                            .map_err(|e| format!("RSA key rejected: {e}"))
                    };
                    Ok(Prepared::Rsa {
                        pkcs1: parse(&signature::RSA_PKCS1_2048_8192_SHA256)?,
                        pss: parse(&signature::RSA_PSS_2048_8192_SHA256)?,
                    })
                }
                KeyMaterial::EcP256 { x, y } => {
                    let mut point = Vec::with_capacity(65);
                    point.push(4);
                    point.extend_from_slice(x);
                    point.extend_from_slice(y);
                    ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
                        .map(Prepared::Ec)
                        .map_err(|e| format!("P-256 key rejected: {e}"))
                }
                KeyMaterial::Oct { k } => Ok(Prepared::Hmac(hmac::Key::new(hmac::HMAC_SHA256, k))),
            }
        }

        pub fn verify(&self, alg: Algorithm, msg: &[u8], sig: &[u8]) -> Result<bool, Refusal> {
            let ok = match (self, alg) {
                (Prepared::Rsa { pkcs1, .. }, Algorithm::RS256) => {
                    pkcs1.verify_sig(msg, sig).is_ok()
                }
                (Prepared::Rsa { pss, .. }, Algorithm::PS256) => pss.verify_sig(msg, sig).is_ok(),
                (Prepared::Ec(k), Algorithm::ES256) => k.verify_sig(msg, sig).is_ok(),
                (Prepared::Hmac(k), Algorithm::HS256) => {
                    let tag = hmac::sign(k, msg);
                    constant_time::verify_slices_are_equal(tag.as_ref(), sig).is_ok()
                }
                _ => {
                    return Err(Refusal::new(
                        Reason::KeyAlgorithmMismatch,
                        "key type does not fit the algorithm",
                    ))
                }
            };
            Ok(ok)
        }
    }
}

#[cfg(not(feature = "aws-lc"))]
mod backend {
    use super::*;

    /// Without a native backend only HMAC is verified in-process; RSA and
    /// ECDSA signatures go to the host through [`crate::Gate::prepare`].
    pub enum Prepared {
        Host,
        #[cfg(feature = "rust-hmac")]
        Hmac(Vec<u8>),
        #[cfg(not(feature = "rust-hmac"))]
        NoHmac,
    }

    impl Prepared {
        pub fn new(m: &KeyMaterial) -> Result<Prepared, String> {
            match m {
                #[cfg(feature = "rust-hmac")]
                KeyMaterial::Oct { k } => Ok(Prepared::Hmac(k.clone())),
                #[cfg(not(feature = "rust-hmac"))]
                KeyMaterial::Oct { .. } => Ok(Prepared::NoHmac),
                _ => Ok(Prepared::Host),
            }
        }

        pub fn verify(&self, alg: Algorithm, msg: &[u8], sig: &[u8]) -> Result<bool, Refusal> {
            // Without rust-hmac nothing here reads the bytes: the host verifies.
            let _ = (msg, sig);
            match (self, alg) {
                #[cfg(feature = "rust-hmac")]
                (Prepared::Hmac(k), Algorithm::HS256) => {
                    use hmac::Mac;
                    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(k).map_err(|_| {
                        Refusal::new(Reason::VerificationUnavailable, "HMAC key rejected")
                    })?;
                    mac.update(msg);
                    Ok(mac.verify_slice(sig).is_ok())
                }
                _ => Err(Refusal::new(
                    Reason::VerificationUnavailable,
                    format!(
                        "this build verifies {} through the host (Gate::prepare / complete)",
                        alg.as_str()
                    ),
                )),
            }
        }
    }
}

pub(crate) use backend::Prepared;

/// Whether this build can verify `alg` in-process (otherwise the host must,
/// through the two-phase API).
pub fn verifies_in_process(alg: Algorithm) -> bool {
    cfg!(feature = "aws-lc") || (alg == Algorithm::HS256 && cfg!(feature = "rust-hmac"))
}

#[cfg(all(test, feature = "aws-lc"))]
mod tests {
    use super::backend::rsa_public_key_der;

    /// The pure-Rust curve check (used in every build) agrees with aws-lc on
    /// real keys: every generated public point is on the curve.
    #[test]
    fn generated_p256_points_are_on_the_curve() {
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        for _ in 0..50 {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let point = pair.public_key().as_ref();
            assert_eq!(point[0], 4);
            assert!(crate::p256_point::on_curve(&point[1..33], &point[33..65]));
            let mut bad = point.to_vec();
            bad[64] ^= 1;
            assert!(!crate::p256_point::on_curve(&bad[1..33], &bad[33..65]));
        }
    }

    #[test]
    fn der_of_small_integers() {
        // SEQUENCE { INTEGER 0x00C1 (high bit padded), INTEGER 0x010001 }
        let der = rsa_public_key_der(&[0xC1], &[0x01, 0x00, 0x01]);
        assert_eq!(
            der,
            vec![0x30, 0x09, 0x02, 0x02, 0x00, 0xC1, 0x02, 0x03, 0x01, 0x00, 0x01]
        );
    }
}
