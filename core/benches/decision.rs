//! `cargo bench -p mfagate`: the full decision against the libraries and
//! primitives it competes with, on the same token, in one run. Results and
//! ratios go to docs/benchmarks.md.
// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mfagate::conformance::{load, Case};
use mfagate::{Claims, Gate, KeySet, Outcome, Policy, Request};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A vector case's gate, token and clock.
fn vector(file: &str, id: &str) -> (Gate, String, i64, Case) {
    let f = load(&root().join("tests/vectors").join(file)).expect("vector file");
    let case = f.cases.into_iter().find(|c| c.id == id).expect("case");
    let gate = Gate::new(
        Policy::from_spec(&case.policy).expect("policy"),
        KeySet::from_json(&f.keys.to_string()).expect("keys"),
    );
    let auth = case.request.authorization.clone().expect("authorization");
    let token = auth.trim_start_matches("Bearer ").to_owned();
    (gate, token, case.request.now, case)
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct JwtClaims {
    aud: String,
    iss: String,
    exp: u64,
    tid: String,
    scp: Option<String>,
    amr: Option<Vec<String>>,
}

fn rs256(c: &mut Criterion) {
    let (gate, token, now, _) = vector("api.json", "api-seed-sample-mfa");
    let req_auth = format!("Bearer {token}");
    let der = std::fs::read(root().join("tests/keys/rsa-signing-1.pub.der")).expect("der");
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der).expect("key");
    let (input, sig) = token.rsplit_once('.').expect("jws");
    let sig = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig)
        .expect("sig");
    assert!(key.verify_sig(input.as_bytes(), &sig).is_ok());
    let req = Request::new("/v1/customers", now).authorization(&req_auth);
    assert_eq!(gate.evaluate(&req).outcome, Outcome::Allow);

    let mut g = c.benchmark_group("rs256");
    g.bench_function("mfagate_full_decision", |b| {
        b.iter(|| black_box(gate.evaluate(black_box(&req))))
    });
    g.bench_function("aws_lc_bare_rsa2048_verify", |b| {
        b.iter(|| {
            black_box(
                key.verify_sig(black_box(input.as_bytes()), black_box(&sig))
                    .is_ok(),
            )
        })
    });
    g.finish();
}

fn hs256(c: &mut Criterion) {
    let (gate, token, now, _) = vector("api.json", "api-hs256-configured");
    // The same token, MFA'd, so both sides take the allow path.
    let claims = {
        let p = token.split('.').nth(1).expect("payload");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p)
            .expect("b64");
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        v["amr"] = serde_json::json!(["pwd", "mfa"]);
        v
    };
    let secret_b64 =
        std::fs::read_to_string(root().join("tests/keys/hs256-secret.b64url")).expect("secret");
    let secret = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        secret_b64.trim(),
    )
    .expect("b64");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("hs-1".into());
    // jsonwebtoken reads the system clock, so both sides get one token that
    // is valid today and are evaluated at the system time.
    let mut claims = claims;
    claims["exp"] = serde_json::json!(4_102_444_800u64);
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .expect("encode");
    let auth = format!("Bearer {token}");
    let _ = now;
    let req = Request::new("/v1/customers", mfagate::system_now()).authorization(&auth);
    assert_eq!(gate.evaluate(&req).outcome, Outcome::Allow);

    let key = jsonwebtoken::DecodingKey::from_secret(&secret);
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_audience(&["https://api.partnercenter.microsoft.com"]);
    v.set_issuer(&["https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/"]);
    v.validate_nbf = true;
    v.leeway = 300;
    let jwt_check = |t: &str| {
        jsonwebtoken::decode::<JwtClaims>(t, &key, &v)
            .map(|d| d.claims.amr.is_some_and(|a| a.iter().any(|x| x == "mfa")))
            .unwrap_or(false)
    };
    assert!(jwt_check(&token));

    let mut g = c.benchmark_group("hs256");
    g.bench_function("mfagate_full_decision", |b| {
        b.iter(|| black_box(gate.evaluate(black_box(&req))))
    });
    g.bench_function("jsonwebtoken_decode_plus_amr_check", |b| {
        b.iter(|| black_box(jwt_check(black_box(&token))))
    });
    g.finish();
}

fn verified_claims(c: &mut Criterion) {
    let (gate, token, now, _) = vector("api.json", "api-seed-sample-mfa");
    let p = token.split('.').nth(1).expect("payload");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).expect("b64");
    let json = String::from_utf8(bytes).expect("utf8");
    let claims = Claims::from_json(&json).expect("claims");
    let req = Request::new("/v1/customers", now);
    assert_eq!(gate.evaluate_claims(&claims, &req).outcome, Outcome::Allow);
    c.bench_function("verified_claims/decision", |b| {
        b.iter(|| black_box(gate.evaluate_claims(black_box(&claims), black_box(&req))))
    });
}

fn route_scaling(c: &mut Criterion) {
    let (_, token, now, _) = vector("api.json", "api-seed-sample-mfa");
    let p = token.split('.').nth(1).expect("payload");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).expect("b64");
    let json = String::from_utf8(bytes).expect("utf8");
    let claims = Claims::from_json(&json).expect("claims");
    let policy_with = |n: usize| {
        let mut routes = serde_json::Map::new();
        for i in 0..n {
            routes.insert(
                format!("r{i}"),
                serde_json::json!({"paths": [format!("/tenant{i}/area{}/**", i % 7), format!("/svc/{i}/*/items")], "mfa": true, "kinds": ["app_user"]}),
            );
        }
        let p = Policy::builtin("partner-center").expect("builtin");
        let p = p
            .with_overrides(&serde_json::json!({"routes": routes}))
            .expect("routes");
        Gate::new(p, KeySet::empty())
    };
    let mut g = c.benchmark_group("routes");
    for n in [10usize, 10_000] {
        let gate = policy_with(n);
        let path = format!("/svc/{}/abc/items", n - 1);
        let req = Request::new(&path, now);
        let d = gate.evaluate_claims(&claims, &req);
        assert_eq!(d.rule.as_deref(), Some(format!("r{}", n - 1).as_str()));
        g.bench_function(format!("decision_{n}_routes"), |b| {
            b.iter(|| black_box(gate.evaluate_claims(black_box(&claims), black_box(&req))))
        });
    }
    g.finish();
}

/// The verified-token cache: one token repeated (a client reusing its
/// access token), and a realistic mix of 1,000 distinct RS256 tokens drawn
/// with a Zipf(1) law, with and without the cache.
fn token_cache(c: &mut Criterion) {
    use mfagate::{CacheOptions, TokenCache};
    use std::sync::Arc;
    let (gate, token, now, case) = vector("api.json", "api-seed-sample-mfa");
    let auth = format!("Bearer {token}");
    let req = Request::new("/v1/customers", now).authorization(&auth);
    let cache = Arc::new(TokenCache::new(CacheOptions::default()));
    let cached = gate.clone().with_cache(Arc::clone(&cache));
    assert_eq!(cached.evaluate(&req).outcome, Outcome::Allow);
    assert_eq!(
        cached.evaluate(&req).to_value(),
        gate.evaluate(&req).to_value()
    );

    // 1,000 distinct tokens: the vector's claims with another oid each,
    // signed with the test RSA key.
    use base64::Engine as _;
    let pem = std::fs::read_to_string(root().join("tests/keys/rsa-signing-1.pem")).expect("pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("pem body");
    let key = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).expect("rsa key");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head = token.split('.').next().expect("header").to_owned();
    let sign = |claims: &serde_json::Value| {
        let input = format!("{head}.{}", b64.encode(claims.to_string()));
        let mut sig = vec![0u8; key.public_modulus_len()];
        key.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .expect("sign");
        format!("{input}.{}", b64.encode(sig))
    };
    let p = token.split('.').nth(1).expect("payload");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).expect("b64");
    let base: serde_json::Value = serde_json::from_slice(&bytes).expect("claims");
    let auths: Vec<String> = (0..1000)
        .map(|i| {
            let mut claims = base.clone();
            claims["oid"] = serde_json::json!(format!("4988e250-5aee-482a-9136-{i:012}"));
            format!("Bearer {}", sign(&claims))
        })
        .collect();
    // Zipf(1) over the 1,000 tokens, from a fixed LCG: the same mix every run.
    let weights: Vec<f64> = (1..=auths.len()).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix: Vec<usize> = (0..10_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            cdf.partition_point(|&c| c < u).min(auths.len() - 1)
        })
        .collect();
    let distinct: std::collections::BTreeSet<usize> = mix.iter().copied().collect();
    let reqs: Vec<Request<'_>> = auths
        .iter()
        .map(|a| Request::new("/v1/customers", now).authorization(a))
        .collect();
    let mix_cache = Arc::new(TokenCache::new(CacheOptions::default()));
    let mix_gate = gate.clone().with_cache(Arc::clone(&mix_cache));
    for r in &reqs {
        assert_eq!(mix_gate.evaluate(r).outcome, Outcome::Allow, "{}", case.id);
    }
    let full = mix_cache.stats();
    eprintln!(
        "token cache: the mix draws {} distinct tokens of 1000 in 10000 requests; 1000 tokens take {} bytes ({} per token) in the cache",
        distinct.len(),
        full.bytes,
        full.bytes / full.entries.max(1)
    );
    let bound = Arc::new(TokenCache::new(CacheOptions {
        max_entries: 10_000,
        max_bytes: 16 << 20,
    }));
    let filled = gate.clone().with_cache(Arc::clone(&bound));
    for i in 0..10_000 {
        let r = &reqs[i % reqs.len()];
        let _ = filled.evaluate(r);
    }

    let mut g = c.benchmark_group("cache");
    g.bench_function("rs256_repeated_token_cached", |b| {
        b.iter(|| black_box(cached.evaluate(black_box(&req))))
    });
    g.bench_function("rs256_repeated_token_uncached", |b| {
        b.iter(|| black_box(gate.evaluate(black_box(&req))))
    });
    let mut i = 0;
    g.bench_function("zipf_1000_tokens_cached", |b| {
        b.iter(|| {
            i = (i + 1) % mix.len();
            black_box(mix_gate.evaluate(black_box(&reqs[mix[i]])))
        })
    });
    let mut j = 0;
    g.bench_function("zipf_1000_tokens_uncached", |b| {
        b.iter(|| {
            j = (j + 1) % mix.len();
            black_box(gate.evaluate(black_box(&reqs[mix[j]])))
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(60)
}

criterion_group! { name = benches; config = config(); targets = rs256, hs256, verified_claims, route_scaling, token_cache }
criterion_main!(benches);
