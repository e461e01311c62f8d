//! The engine keeps policy, keys and cache consistent: a new key set or a
//! new policy takes effect at the next snapshot, a cached verification
//! never outlives the keys that made it, and an unknown `kid` refetches at
//! most once per minimum refresh interval.
#![cfg(feature = "aws-lc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mfagate::{
    After, CacheOptions, Decision, Engine, KeyFeed, KeySet, Outcome, Policy, Poll, Reason,
    RefreshOptions, Request, Snapshot, TokenCache,
};
use serde_json::json;
use std::sync::Arc;

const NOW: i64 = 1_767_225_600;
const SECRET: &[u8] = b"engine-test-secret-of-at-least-32-bytes";
const CONTOSO: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";

fn jwks(kid: &str) -> String {
    json!({"keys": [{"kty": "oct", "kid": kid, "k": URL_SAFE_NO_PAD.encode(SECRET)}]}).to_string()
}

fn token(kid: &str, amr: &[&str]) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string();
    let claims = json!({"aud": "https://api.partnercenter.microsoft.com",
        "iss": format!("https://sts.windows.net/{CONTOSO}/"), "tid": CONTOSO,
        "exp": NOW + 3600, "nbf": NOW - 60, "iat": NOW - 60,
        "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab", "scp": "user_impersonation",
        "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "sub": "s", "amr": amr});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("Bearer {input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn policy(extra: serde_json::Value) -> Policy {
    let mut token = json!({"algorithms": ["HS256"], "partner_tenants": [CONTOSO]});
    if let (Some(t), Some(e)) = (token.as_object_mut(), extra.as_object()) {
        t.extend(e.clone());
    }
    Policy::builtin("partner-center-2026")
        .unwrap()
        .with_overrides(&json!({ "token": token }))
        .unwrap()
}

fn decide(e: &Engine, auth: &str, now_ms: u64) -> (Arc<Snapshot>, Decision) {
    let s = e.snapshot(now_ms);
    let d = s
        .gate()
        .evaluate(&Request::new("/v1/customers", NOW).authorization(auth));
    (s, d)
}

fn cache() -> Option<Arc<TokenCache>> {
    Some(Arc::new(TokenCache::new(CacheOptions::default())))
}

#[test]
fn new_keys_make_a_fresh_snapshot_and_a_cached_token_does_not_outlive_them() {
    let feed = Arc::new(KeyFeed::fixed(KeySet::from_json(&jwks("a")).unwrap()));
    let e = Engine::new(policy(json!({})), Arc::clone(&feed), cache());
    let auth = token("a", &["pwd", "mfa"]);
    let (s1, d) = decide(&e, &auth, 0);
    assert_eq!(d.outcome, Outcome::Allow, "{:?}", d.detail);
    assert!(
        Arc::ptr_eq(&s1, &e.snapshot(0)),
        "nothing changed: the same snapshot"
    );
    assert_eq!(decide(&e, &auth, 0).1.outcome, Outcome::Allow);
    assert_eq!(e.cache().unwrap().stats().hits, 1);
    // Key "a" is withdrawn: its cached verification must not admit the token.
    feed.set_keys(KeySet::from_json(&jwks("b")).unwrap());
    let (s2, d) = decide(&e, &auth, 0);
    assert!(s2.keys_version() > s1.keys_version());
    assert_eq!(d.reason, Reason::KeyNotFound);
    assert_eq!(e.after(&s2, &d, 0), After::Final, "fixed keys: no refetch");
    // A request that decided with the old snapshot is told to decide again.
    assert_eq!(e.after(&s1, &d, 0), After::Again);
}

#[test]
fn a_new_policy_applies_at_once_to_a_cached_token() {
    let feed = Arc::new(KeyFeed::fixed(KeySet::from_json(&jwks("a")).unwrap()));
    let e = Engine::new(policy(json!({})), feed, cache());
    let auth = token("a", &["pwd", "mfa"]);
    let (s1, d) = decide(&e, &auth, 0);
    assert_eq!(d.outcome, Outcome::Allow, "{:?}", d.detail);
    e.set_policy(policy(json!({"max_token_bytes": 64})));
    let (s2, d) = decide(&e, &auth, 0);
    assert!(s2.policy_generation() > s1.policy_generation());
    assert_eq!(d.reason, Reason::TokenTooLarge);
    e.set_policy(policy(
        json!({"tenants": ["00000000-0000-0000-0000-000000000001"]}),
    ));
    assert_ne!(decide(&e, &auth, 0).1.outcome, Outcome::Allow);
}

#[test]
fn an_unknown_kid_refetches_once_per_interval_and_decides_again() {
    let feed = Arc::new(
        KeyFeed::refreshing("http://127.0.0.1:9/keys", RefreshOptions::default()).unwrap(),
    );
    let e = Engine::new(policy(json!({})), Arc::clone(&feed), cache());
    let auth = token("b", &["pwd", "mfa"]);
    let Poll::Fetch { fetch, wait: true } = e.poll(0) else {
        panic!("no keys yet: the first fetch is waited for")
    };
    let (_, d) = decide(&e, &auth, 1);
    assert_eq!(d.reason, Reason::KeysUnavailable);
    assert_eq!(
        feed.fetched(fetch.id, 2, 200, jwks("a").as_bytes())
            .unwrap(),
        None
    );
    assert_eq!(e.poll(3), Poll::Ready);
    let (s, d) = decide(&e, &auth, 3);
    assert_eq!(d.reason, Reason::KeyNotFound);
    assert_eq!(e.after(&s, &d, 1000), After::Final, "within the interval");
    let After::Fetch(f) = e.after(&s, &d, 61_000) else {
        panic!("a refetch for the unknown kid")
    };
    assert_eq!(e.after(&s, &d, 61_000), After::Wait, "one fetch at a time");
    feed.fetched(f.id, 61_001, 200, jwks("b").as_bytes())
        .unwrap();
    let (s2, d) = decide(&e, &auth, 61_002);
    assert!(s2.keys_version() > s.keys_version());
    assert_eq!(d.outcome, Outcome::Allow, "{:?}", d.detail);
}

#[test]
fn one_feed_serves_several_engines() {
    let feed = Arc::new(KeyFeed::fixed(KeySet::from_json(&jwks("a")).unwrap()));
    let a = Engine::new(policy(json!({})), Arc::clone(&feed), None);
    let b = Engine::new(
        policy(json!({"max_token_bytes": 64})),
        Arc::clone(&feed),
        None,
    );
    let auth = token("b", &["mfa"]);
    assert_eq!(decide(&a, &auth, 0).1.reason, Reason::KeyNotFound);
    feed.set_keys(KeySet::from_json(&jwks("b")).unwrap());
    assert_eq!(decide(&a, &auth, 0).1.outcome, Outcome::Allow);
    assert_eq!(decide(&b, &auth, 0).1.reason, Reason::TokenTooLarge);
}
