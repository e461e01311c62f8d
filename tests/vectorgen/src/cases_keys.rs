//! Key sets with keys mfagate cannot use (issue 8, item 12; RFC 7517 §5:
//! "ignore JWKs that it does not understand"): the usable keys keep
//! working, tokens naming an unusable one are refused as `key_unusable`.

use crate::fixtures::*;
use crate::mint::{b64, sign, Keys, Sig, EC_KID, RSA_KID};
use serde_json::{json, Value};

const SRC: &str = "issue 8 item 12; RFC 7517 §5";
const API: &str = "/v1/customers";

/// The file's JWK Set: the good test keys among unusable ones.
pub fn jwks(keys: &Keys) -> Value {
    let good = keys.jwks();
    let rsa1 = good["keys"][0].clone();
    let ec1 = good["keys"][1].clone();
    let mut dup = rsa1.clone();
    dup["kid"] = json!("dup");
    let mut even_e = rsa1.clone();
    even_e["kid"] = json!("rsa-even-exponent");
    even_e["e"] = json!(b64(&[1, 0, 0]));
    json!({"keys": [
        rsa1,
        ec1,
        {"kty": "RSA", "use": "sig", "kid": "rsa-small", "n": b64(&[0xC3; 128]), "e": "AQAB"},
        {"kty": "EC", "use": "sig", "kid": "ec-off-curve", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
        {"kty": "oct", "kid": "hs-short", "k": b64(b"sixteen byte key")},
        {"kty": "RSA", "use": "sig", "kid": "rsa-garbled", "n": "not*base64url", "e": "AQAB"},
        even_e,
        42,
        dup.clone(),
        dup,
        {"kty": "OKP", "use": "sig", "kid": "ed-1", "crv": "Ed25519", "x": b64(&[7; 32])},
    ]})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let claims = app_user(CONTOSO, Some(&["pwd", "mfa"])).value();
    let named = |alg: &str, kid: &str| match alg {
        "ES256" => sign(&header(alg, Some(kid)), &claims, Sig::Es256(&keys.ec)),
        "HS256" => sign(
            &header(alg, Some(kid)),
            &claims,
            Sig::Hs256(b"sixteen byte key"),
        ),
        _ => sign(&header(alg, Some(kid)), &claims, Sig::Rs256(&keys.rsa)),
    };
    let all_algs = pc_with(
        "2020",
        json!({"token": {"algorithms": ["RS256", "ES256", "HS256"]}}),
    );
    let unusable = |id: &str, desc: &str, alg: &str, kid: &str| {
        Case::new(id, SRC, desc)
            .policy(all_algs.clone())
            .api("GET", API, &named(alg, kid))
            .expect(invalid("key_unusable"))
    };
    vec![
        Case::new(
            "keys-good-key-among-bad",
            SRC,
            "One unusable key does not reject the set: a token signed by a good key is allowed",
        )
        .policy(all_algs.clone())
        .api("GET", API, &named("RS256", RSA_KID))
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "keys-good-ec-key-among-bad",
            SRC,
            "The set's good EC key works too",
        )
        .policy(all_algs.clone())
        .api("GET", API, &named("ES256", EC_KID))
        .expect(allow("mfa_satisfied", "app_user", "api")),
        unusable(
            "keys-small-rsa",
            "A token naming an RSA key under 2048 bits",
            "RS256",
            "rsa-small",
        ),
        unusable(
            "keys-ec-off-curve",
            "A token naming an EC key whose point is not on P-256",
            "ES256",
            "ec-off-curve",
        ),
        unusable(
            "keys-short-secret",
            "A token naming an HS256 secret under 32 bytes",
            "HS256",
            "hs-short",
        ),
        unusable(
            "keys-garbled-member",
            "A token naming a key whose modulus is not base64url",
            "RS256",
            "rsa-garbled",
        ),
        unusable(
            "keys-even-exponent",
            "A token naming an RSA key with an even exponent",
            "RS256",
            "rsa-even-exponent",
        ),
        unusable(
            "keys-duplicate-kid",
            "A token naming a kid two keys share: neither is used",
            "RS256",
            "dup",
        ),
        unusable(
            "keys-unsupported-type",
            "A token naming a key of a type mfagate does not verify (OKP)",
            "RS256",
            "ed-1",
        ),
        Case::new(
            "keys-unknown-kid",
            SRC,
            "A kid the set does not have at all: key_not_found (a refresh may help)",
        )
        .policy(all_algs)
        .api("GET", API, &named("RS256", "rsa-9"))
        .expect(invalid("key_not_found")),
    ]
}
