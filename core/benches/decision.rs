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

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(60)
}

criterion_group! { name = benches; config = config(); targets = rs256, hs256, verified_claims, route_scaling }
criterion_main!(benches);
