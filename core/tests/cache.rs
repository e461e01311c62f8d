//! The verified-token cache decides exactly as the gate without it: on every
//! conformance vector, at the second a cached token expires, after a key is
//! removed, and never turning a refusal into an allow.
#![cfg(feature = "aws-lc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mfagate::conformance::{files, load};
use mfagate::{CacheOptions, Gate, KeySet, Outcome, Policy, Reason, Request, TokenCache};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

const NOW: i64 = 1_767_225_600;
const SECRET: &[u8] = b"cache-test-secret-of-at-least-32-bytes";
const CONTOSO: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";

fn cache() -> Arc<TokenCache> {
    Arc::new(TokenCache::new(CacheOptions::default()))
}

#[test]
fn every_vector_decides_the_same_with_the_cache_cold_and_warm() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let (mut compared, mut hits) = (0, 0);
    for path in files(&dir).unwrap() {
        let f = load(&path).unwrap();
        let keys = f.keys.to_string();
        for case in &f.cases {
            if case.expect_error.is_some() {
                continue;
            }
            let policy = Policy::from_spec(&case.policy).unwrap();
            let plain = Gate::new(policy.clone(), KeySet::from_json(&keys).unwrap());
            let c = cache();
            let cached =
                Gate::new(policy, KeySet::from_json(&keys).unwrap()).with_cache(Arc::clone(&c));
            let req = case.request.as_request();
            let want = plain.evaluate(&req).to_value();
            let cold = cached.evaluate(&req).to_value();
            let warm = cached.evaluate(&req).to_value();
            assert_eq!(want, cold, "{}: cold cache", case.id);
            assert_eq!(want, warm, "{}: warm cache", case.id);
            hits += c.stats().hits;
            compared += 1;
        }
    }
    assert!(compared > 300, "{compared}");
    // Most vectors carry a verifiable token: the warm run must have used the cache.
    assert!(hits > 150, "only {hits} cache hits");
}

fn token(claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"hs"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn app_user(amr: &[&str], exp: i64) -> Value {
    json!({"aud": "https://api.partnercenter.microsoft.com", "iss": format!("https://sts.windows.net/{CONTOSO}/"),
           "tid": CONTOSO, "exp": exp, "nbf": NOW - 60, "iat": NOW - 60,
           "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab", "scp": "user_impersonation",
           "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "sub": "s", "amr": amr})
}

fn jwks(kids: &[&str]) -> KeySet {
    let keys: Vec<Value> = kids
        .iter()
        .map(|k| json!({"kty": "oct", "kid": k, "k": URL_SAFE_NO_PAD.encode(SECRET)}))
        .collect();
    KeySet::from_json(&json!({ "keys": keys }).to_string()).unwrap()
}

fn policy() -> Policy {
    Policy::builtin("partner-center")
        .unwrap()
        .with_overrides(&json!({"token": {"algorithms": ["HS256"], "partner_tenants": [CONTOSO]}}))
        .unwrap()
}

#[test]
fn a_token_expiring_while_cached_is_refused_at_the_exact_second() {
    let exp = NOW + 600;
    let auth = format!("Bearer {}", token(&app_user(&["mfa"], exp)));
    let c = cache();
    let cached = Gate::new(policy(), jwks(&["hs"])).with_cache(Arc::clone(&c));
    let plain = Gate::new(policy(), jwks(&["hs"]));
    let at =
        |g: &Gate, now: i64| g.evaluate(&Request::new("/v1/customers", now).authorization(&auth));
    assert_eq!(at(&cached, NOW).outcome, Outcome::Allow);
    assert_eq!(c.stats().entries, 1);
    let mut first_refused = None;
    for now in exp - 5..exp + 600 {
        let (a, b) = (at(&cached, now), at(&plain, now));
        assert_eq!(a.to_value(), b.to_value(), "at {now}");
        if a.outcome != Outcome::Allow && first_refused.is_none() {
            first_refused = Some((now, a.reason));
        }
    }
    let (second, reason) = first_refused.expect("the token expires");
    assert_eq!(reason, Reason::TokenExpired);
    // The uncached gate draws the line at the same second (the policy's skew after exp).
    assert_eq!(at(&plain, second - 1).outcome, Outcome::Allow);
    assert_eq!(at(&plain, second).reason, Reason::TokenExpired);
}

#[test]
fn a_removed_key_invalidates_its_entries() {
    let auth = format!("Bearer {}", token(&app_user(&["mfa"], NOW + 600)));
    let req = Request::new("/v1/customers", NOW).authorization(&auth);
    let c = cache();
    let before = Gate::new(policy(), jwks(&["hs"])).with_cache(Arc::clone(&c));
    assert_eq!(before.evaluate(&req).outcome, Outcome::Allow);
    assert_eq!(before.evaluate(&req).outcome, Outcome::Allow);
    assert!(c.stats().hits >= 1);
    // The rotated set no longer has the key: the same cache must not vouch for it.
    let after = Gate::new(policy(), jwks(&["other"])).with_cache(Arc::clone(&c));
    let d = after.evaluate(&req);
    assert_eq!(d.reason, Reason::KeyNotFound, "{:?}", d.detail);
    // Even a set with the same kid is another set: verified again, not assumed.
    let same_kid = Gate::new(policy(), jwks(&["hs"])).with_cache(Arc::clone(&c));
    let misses = c.stats().misses;
    assert_eq!(same_kid.evaluate(&req).outcome, Outcome::Allow);
    assert_eq!(c.stats().misses, misses + 1);
}

#[test]
fn the_cache_never_turns_a_refusal_into_an_allow() {
    let c = cache();
    let keys = Arc::new(jwks(&["hs"]));
    let gate = Gate::with_shared_keys(policy(), Arc::clone(&keys)).with_cache(Arc::clone(&c));
    let pwd = format!("Bearer {}", token(&app_user(&["pwd"], NOW + 600)));
    // A verified token refused for MFA: cached as verified, refused every time.
    for _ in 0..3 {
        let d = gate.evaluate(&Request::new("/v1/customers", NOW).authorization(&pwd));
        assert_eq!(d.reason, Reason::MfaRequired);
    }
    // A forged token (same claims, another secret) is never cached as verified.
    let mut forged = token(&app_user(&["mfa"], NOW + 600));
    forged.truncate(forged.rfind('.').unwrap() + 1);
    forged.push_str(&URL_SAFE_NO_PAD.encode([0u8; 32]));
    let forged = format!("Bearer {forged}");
    for _ in 0..3 {
        let d = gate.evaluate(&Request::new("/v1/customers", NOW).authorization(&forged));
        assert_eq!(d.reason, Reason::SignatureInvalid);
    }
    // A policy change takes effect at once: only claims are cached, not decisions.
    let mfa = format!("Bearer {}", token(&app_user(&["mfa"], NOW + 600)));
    assert_eq!(
        gate.evaluate(&Request::new("/v1/customers", NOW).authorization(&mfa))
            .outcome,
        Outcome::Allow
    );
    let stricter = Gate::with_shared_keys(
        policy()
            .with_overrides(&json!({"token": {"audiences": ["api://someone-else"]}}))
            .unwrap(),
        keys,
    )
    .with_cache(Arc::clone(&c));
    let hits = c.stats().hits;
    let d = stricter.evaluate(&Request::new("/v1/customers", NOW).authorization(&mfa));
    assert_eq!(d.reason, Reason::AudienceInvalid);
    assert_eq!(c.stats().hits, hits + 1, "decided from the cached claims");
}

#[test]
fn evaluate_cheap_then_verify_and_complete_decides_as_evaluate() {
    use mfagate::Step;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut verified = 0;
    for path in files(&dir).unwrap() {
        let f = load(&path).unwrap();
        let keys = f.keys.to_string();
        for case in &f.cases {
            if case.expect_error.is_some() {
                continue;
            }
            let policy = Policy::from_spec(&case.policy).unwrap();
            let c = cache();
            for gate in [
                Gate::new(policy.clone(), KeySet::from_json(&keys).unwrap()),
                Gate::new(policy.clone(), KeySet::from_json(&keys).unwrap())
                    .with_cache(Arc::clone(&c)),
            ] {
                let req = case.request.as_request();
                let want = gate.evaluate(&req).to_value();
                for _ in 0..2 {
                    let got = match gate.evaluate_cheap(&req) {
                        Step::Done(d) => d.to_value(),
                        Step::Verify(p) => {
                            verified += 1;
                            gate.verify_and_complete(&p).to_value()
                        }
                    };
                    assert_eq!(got, want, "{}", case.id);
                }
            }
        }
    }
    assert!(verified > 100, "{verified}");
}

/// Issue 18.2: two gates share one cache (and one key set); the one whose
/// policy is stricter about the token itself must decide a hit as it decides
/// a miss, whatever the other gate put there.
#[test]
fn a_hit_is_as_strict_as_a_miss_under_the_gate_asking() {
    let c = cache();
    let keys = Arc::new(jwks(&["hs"]));
    let lenient = policy()
        .with_overrides(&json!({"token": {"algorithms": ["RS256", "HS256"]}}))
        .unwrap();
    let mfa = format!("Bearer {}", token(&app_user(&["mfa"], NOW + 600)));
    let req = Request::new("/v1/customers", NOW).authorization(&mfa);
    let warm = Gate::with_shared_keys(lenient, Arc::clone(&keys)).with_cache(Arc::clone(&c));
    assert_eq!(warm.evaluate(&req).outcome, Outcome::Allow);
    assert_eq!(c.stats().entries, 1);

    let stricter = |overrides: Value| {
        let p = policy().with_overrides(&overrides).unwrap();
        let cached =
            Gate::with_shared_keys(p.clone(), Arc::clone(&keys)).with_cache(Arc::clone(&c));
        let plain = Gate::with_shared_keys(p, Arc::clone(&keys));
        let (hit, miss) = (cached.evaluate(&req), plain.evaluate(&req));
        assert_eq!(hit.to_value(), miss.to_value(), "{overrides}");
        hit.reason
    };
    assert_eq!(
        stricter(json!({"token": {"algorithms": ["RS256"]}})),
        Reason::AlgorithmNotAllowed
    );
    let small = mfa.len() - "Bearer ".len() - 1;
    assert_eq!(
        stricter(json!({"token": {"max_token_bytes": small}})),
        Reason::TokenTooLarge
    );
    // The lenient gate's entry is still there and still serves it.
    let hits = c.stats().hits;
    assert_eq!(warm.evaluate(&req).outcome, Outcome::Allow);
    assert_eq!(c.stats().hits, hits + 1);
}
