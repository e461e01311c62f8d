// TEMPORARY profiling harness (not committed).
use mfagate::conformance::load;
use mfagate::{CacheOptions, Claims, Gate, KeySet, Policy, Request, TokenCache};
use std::sync::Arc;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or("cached".into());
    let n: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(100000);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let f = load(&root.join("tests/vectors/api.json")).unwrap();
    let case = f
        .cases
        .into_iter()
        .find(|c| c.id == "api-seed-sample-mfa")
        .unwrap();
    let gate = Gate::new(
        Policy::from_spec(&case.policy).unwrap(),
        KeySet::from_json(&f.keys.to_string()).unwrap(),
    );
    let auth = case.request.authorization.clone().unwrap();
    let token = auth.trim_start_matches("Bearer ").to_owned();
    let now = case.request.now;
    let cache = Arc::new(TokenCache::new(CacheOptions::default()));
    let cached = gate.clone().with_cache(cache);
    let req = Request::new("/v1/customers", now).authorization(&auth);
    let p = token.split('.').nth(1).unwrap();
    let json = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).unwrap(),
    )
    .unwrap();
    let claims = Claims::from_json(&json).unwrap();
    let creq = Request::new("/v1/customers", now);
    assert!(cached.evaluate(&req).is_allowed());
    let t = std::time::Instant::now();
    let mut k = 0usize;
    for _ in 0..n {
        let d = match mode.as_str() {
            "cached" => cached.evaluate(std::hint::black_box(&req)),
            "claims" => gate.evaluate_claims(std::hint::black_box(&claims), &creq),
            "claimsjson" => gate.evaluate_claims_json(std::hint::black_box(&json), &creq),
            _ => panic!(),
        };
        k += d.is_allowed() as usize;
        std::hint::black_box(d);
    }
    eprintln!(
        "{mode}: {:.1} ns/op ({k})",
        t.elapsed().as_nanos() as f64 / n as f64
    );
}
