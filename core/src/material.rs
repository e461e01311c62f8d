//! Public key material, apart from the key set that holds it and the
//! crypto that prepares it, so neither depends on the other's internals.

/// Public key material, as the JWK gave it (big-endian bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    EcP256 {
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// A shared secret for HS256; only usable when the policy pins HS256.
    Oct {
        k: Vec<u8>,
    },
}
