//! Public key material, apart from the key set that holds it and the
//! crypto that prepares it, so neither depends on the other's internals.

/// Public key material, as the JWK gave it (big-endian bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// An RSA public key (`kty` "RSA"), for RS256 and PS256.
    Rsa {
        /// The modulus (`n`), 2048 to 8192 bits.
        n: Vec<u8>,
        /// The public exponent (`e`).
        e: Vec<u8>,
    },
    /// An EC public key on P-256 (`kty` "EC", `crv` "P-256"), for ES256;
    /// the point is checked to be on the curve when the set is loaded.
    EcP256 {
        /// The x coordinate (`x`), 32 bytes.
        x: Vec<u8>,
        /// The y coordinate (`y`), 32 bytes.
        y: Vec<u8>,
    },
    /// A shared secret for HS256; only usable when the policy pins HS256.
    Oct {
        /// The secret (`k`), at least 32 bytes (RFC 7518 §3.2).
        k: Vec<u8>,
    },
}
