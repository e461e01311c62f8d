//! The two-phase API that hosts with their own crypto use (WebCrypto in the
//! WebAssembly build). Runs in the build without aws-lc:
//! `cargo test -p mfagate --no-default-features --features rust-hmac --test two_phase`.
#![cfg(not(feature = "aws-lc"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfagate::conformance::load;
use mfagate::{Algorithm, Gate, KeySet, Outcome, Policy, Reason, Step};
use std::path::PathBuf;

fn case(file: &str, id: &str) -> (Gate, mfagate::RequestSpec, String) {
    let f = load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors")
            .join(file),
    )
    .unwrap();
    let c = f.cases.into_iter().find(|c| c.id == id).unwrap();
    let gate = Gate::new(
        Policy::from_spec(&c.policy).unwrap(),
        KeySet::from_json(&f.keys.to_string()).unwrap(),
    );
    let token = c
        .request
        .authorization
        .clone()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned();
    (gate, c.request, token)
}

#[test]
fn rs256_goes_to_the_host_and_completes() {
    let (gate, spec, token) = case("api.json", "api-app-user-pwd-only");
    let req = spec.as_request();
    // Without a native backend the synchronous path cannot verify RS256.
    assert_eq!(gate.evaluate(&req).reason, Reason::VerificationUnavailable);
    let Step::Verify(p) = gate.prepare(&req) else {
        panic!("expected a verification step")
    };
    assert_eq!(p.algorithm(), Algorithm::RS256);
    assert_eq!(
        gate.keys().keys()[p.key_index()].kid.as_deref(),
        Some("rsa-1")
    );
    assert_eq!(
        p.signing_input(),
        token.rsplit_once('.').unwrap().0.as_bytes()
    );
    assert_eq!(p.signature().len(), 256);
    let jwk = gate.keys().keys()[p.key_index()].public_jwk().unwrap();
    assert_eq!(jwk["kty"], "RSA");
    let d = gate.complete(&p, true);
    assert_eq!(
        (d.outcome, d.reason),
        (Outcome::StepUp, Reason::MfaRequired)
    );
    let d = gate.complete(&p, false);
    assert_eq!(
        (d.outcome, d.reason),
        (Outcome::Deny, Reason::SignatureInvalid)
    );
}

#[test]
fn hs256_and_early_refusals_are_decided_at_once() {
    let (gate, spec, _) = case("api.json", "api-hs256-configured");
    let Step::Done(d) = gate.prepare(&spec.as_request()) else {
        panic!("HS256 is verified in-process")
    };
    assert_eq!(d.reason, Reason::MfaRequired);
    let (gate, spec, _) = case("tokens.json", "token-alg-none");
    let Step::Done(d) = gate.prepare(&spec.as_request()) else {
        panic!("refused before any crypto")
    };
    assert_eq!(d.reason, Reason::AlgorithmNotAllowed);
    let (gate, spec, _) = case("tokens.json", "token-hs256-wrong-secret");
    let Step::Done(d) = gate.prepare(&spec.as_request()) else {
        panic!("HS256 is verified in-process")
    };
    assert_eq!(d.reason, Reason::SignatureInvalid);
}

#[test]
fn a_host_without_crypto_gets_a_decision_not_an_allow() {
    let (gate, spec, _) = case("api.json", "api-seed-sample-mfa");
    let req = spec.as_request();
    let Step::Verify(p) = gate.prepare(&req) else {
        panic!("expected a verification step")
    };
    let d = gate.complete_unavailable(&p, "no crypto.subtle in this runtime");
    assert_eq!(
        (d.outcome, d.reason, d.http.status),
        (Outcome::Deny, Reason::VerificationUnavailable, 500)
    );
    assert_eq!(
        d.detail.as_deref(),
        Some("no crypto.subtle in this runtime")
    );
}

#[test]
fn unreadable_claims_are_a_decision() {
    let (gate, spec, _) = case("api.json", "api-seed-sample-mfa");
    let d = gate.evaluate_claims_json(r#"{"amr":"mfa"}"#, &spec.as_request());
    assert_eq!((d.outcome, d.reason), (Outcome::Deny, Reason::ClaimInvalid));
    let d = gate.evaluate_claims_json("not json", &spec.as_request());
    assert_eq!(d.reason, Reason::TokenMalformed);
}
