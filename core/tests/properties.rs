//! Property tests: whatever the token, a protected route is never allowed
//! without MFA evidence, a valid technical exception, or an app-only token on
//! a route that accepts app-only tokens. And no input panics.
// Test helpers panic on broken fixtures, as tests should.
#![cfg(feature = "aws-lc")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mfagate::{Gate, KeySet, Outcome, Policy, Reason, Request, TokenKind};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_767_225_600;
const P: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
const C: &str = "7e4f5a6b-3333-4c5d-ae6f-0000000000c1";
const CLIENT: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
const SECRET: &[u8] = b"property-test-secret-of-32-bytes!!";
const G_ADMIN: &str = "a1a1a1a1-0000-4000-8000-000000000001";

fn gate(exception: bool) -> Gate {
    let mut o = json!({
        "token": {"audiences": ["https://api.partnercenter.microsoft.com", CLIENT], "algorithms": ["HS256"], "partner_tenants": [P]},
        "roles": {"groups": {"admin_agent": [G_ADMIN]}},
        "mfa": {"accept_federated": true},
        "routes": {"public_orders": {"paths": ["/v1/public/**"], "mfa": false, "kinds": ["app_only", "app_user", "delegated_admin"]}}
    });
    if exception {
        o["exceptions"] = json!([{"tenant": P, "reason": "third_party_mfa_not_recognized", "expires": "2026-06-30"}]);
    }
    let policy = Policy::builtin("partner-center")
        .unwrap()
        .with_overrides(&o)
        .unwrap();
    let jwks = json!({"keys": [{"kty": "oct", "kid": "hs", "k": URL_SAFE_NO_PAD.encode(SECRET)}]});
    Gate::new(policy, KeySet::from_json(&jwks.to_string()).unwrap())
}

fn sign(claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"hs"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Claims drawn from the values that matter to the decision.
fn claims() -> impl Strategy<Value = Value> {
    let amr = proptest::option::of(proptest::sample::subsequence(
        vec!["pwd", "mfa", "MFA", "rsa", "ngcmfa", "fed", "wia"],
        0..4,
    ));
    (
        (
            amr,
            any::<bool>(), // scp
            any::<bool>(), // roles claim
            prop_oneof![
                Just(None),
                Just(Some("app")),
                Just(Some("user")),
                Just(Some("bogus"))
            ],
            any::<bool>(),                                         // appid
            prop_oneof![Just(None), Just(Some(P)), Just(Some(C))], // idp
            prop_oneof![Just(P), Just(C)],                         // tid
            any::<bool>(),                                         // groups has admin agent
            any::<bool>(),                                         // overage
            any::<bool>(),                                         // federated claim
            prop_oneof![
                Just("https://api.partnercenter.microsoft.com"),
                Just(CLIENT),
                Just("other")
            ],
            -4000i64..4000, // exp offset
        ),
        (
            any::<bool>(), // sub equals oid
            any::<bool>(), // upn
        ),
    )
        .prop_map(
            |(
                (amr, scp, roles, idtyp, appid, idp, tid, admin, overage, fed, aud, exp),
                (same_sub, upn),
            )| {
                let mut m = Map::new();
                m.insert(
                    "iss".into(),
                    json!(format!("https://sts.windows.net/{tid}/")),
                );
                m.insert("tid".into(), json!(tid));
                m.insert("aud".into(), json!(aud));
                m.insert("exp".into(), json!(NOW + exp));
                m.insert("iat".into(), json!(NOW - 5000));
                m.insert("oid".into(), json!("4988e250-5aee-482a-9136-6d269cb755c0"));
                m.insert(
                    "sub".into(),
                    json!(if same_sub {
                        "4988e250-5aee-482a-9136-6d269cb755c0"
                    } else {
                        "s"
                    }),
                );
                if upn {
                    m.insert("upn".into(), json!("eve@contoso.example"));
                }
                if let Some(a) = amr {
                    m.insert("amr".into(), json!(a));
                }
                if scp {
                    m.insert("scp".into(), json!("user_impersonation"));
                }
                if roles {
                    m.insert("roles".into(), json!(["Partner.ReadWrite.All"]));
                }
                if let Some(t) = idtyp {
                    m.insert("idtyp".into(), json!(t));
                }
                if appid {
                    m.insert("appid".into(), json!(CLIENT));
                }
                if let Some(i) = idp {
                    m.insert("idp".into(), json!(format!("https://sts.windows.net/{i}/")));
                }
                if admin {
                    m.insert("groups".into(), json!([G_ADMIN]));
                }
                if overage {
                    m.insert("hasgroups".into(), json!(true));
                }
                if fed {
                    m.insert(
                        "http://schemas.microsoft.com/claims/authnmethodsreferences".into(),
                        json!("http://schemas.microsoft.com/claims/multipleauthn"),
                    );
                }
                Value::Object(m)
            },
        )
}

fn path() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("/commerce/customers"),
        Just("/Commerce/x"),
        Just("/dashboard/support/csp/customers/1"),
        Just("/dashboard/billing"),
        Just("/v1/customers"),
        Just("/x/../v1/orders"),
        Just("/dashboard/overview"),
        Just("/v1/public/orders"),
        Just("/v1/PUBLIC/orders"),
        Just("/v1/public;x/orders"),
        Just("/v1/public\\x/orders"),
        Just("/v1/%70ublic/orders"),
    ]
}

/// Paths a router that does not normalise sends to the API's handlers.
const EVASIONS: &[&str] = &[
    "/v1/PUBLIC/orders",
    "/v1/public;x/orders",
    "/v1/public\\x/orders",
    "/v1/%70ublic/orders",
];
const ROLE_GATED: &[&str] = &["customers", "customer_requests", "billing"];

const PROTECTED: &[&str] = &["customers", "customer_requests", "billing", "api"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn protected_routes_need_evidence(c in claims(), p in path(), as_header in any::<bool>(), exception in any::<bool>(), head in any::<bool>()) {
        let g = gate(exception);
        let token = sign(&c);
        let auth = format!("Bearer {token}");
        let mut req = Request::new(p, NOW).method(if head { "HEAD" } else { "GET" });
        if as_header { req.authorization = Some(&auth) } else { req.token = Some(&token) }
        let d = g.evaluate(&req);
        if d.outcome != Outcome::Allow {
            prop_assert!(d.http.status != 200);
            return Ok(());
        }
        let rule = d.rule.as_deref().unwrap_or("");
        let kind = d.token_kind.unwrap();
        let amr_mfa = c.get("amr").and_then(|a| a.as_array()).is_some_and(|a| a.iter().any(|v| v == "mfa"));
        let fed = c.get("http://schemas.microsoft.com/claims/authnmethodsreferences").is_some();
        if kind == TokenKind::DelegatedAdmin {
            prop_assert!(amr_mfa || fed, "delegated admin allowed without MFA: {}", d.to_json());
            prop_assert_eq!(d.reason, Reason::MfaSatisfied);
        }
        if PROTECTED.contains(&rule) || EVASIONS.contains(&p) {
            let ok = (d.reason == Reason::MfaSatisfied && (amr_mfa || fed))
                || (d.reason == Reason::ExceptionApplied && exception && kind != TokenKind::DelegatedAdmin && c["tid"] == P)
                || (d.reason == Reason::AppOnlyExempt && kind == TokenKind::AppOnly && (rule == "api" || EVASIONS.contains(&p)));
            prop_assert!(ok, "allowed on {} ({}) without evidence: {}", rule, p, d.to_json());
        }
        if d.reason == Reason::AppOnlyExempt {
            // Never a user token: no scp, no user claim, and Microsoft's evidence.
            let same_sub = c["sub"] == c["oid"];
            prop_assert!(c.get("scp").is_none() && c.get("upn").is_none() && c.get("amr").is_none(), "{}", d.to_json());
            prop_assert!(c.get("idtyp").is_some_and(|t| t == "app") || same_sub, "{}", d.to_json());
        }
        if ROLE_GATED.contains(&rule) {
            prop_assert!(c["tid"] == P && kind != TokenKind::DelegatedAdmin, "roles from another tenant: {}", d.to_json());
        }
    }

    #[test]
    fn arbitrary_tokens_never_allow_and_never_panic(s in "\\PC{0,300}", p in path()) {
        let g = gate(true);
        let auth = format!("Bearer {s}");
        let d = g.evaluate(&Request::new(p, NOW).authorization(&auth));
        prop_assert_ne!(d.outcome, Outcome::Allow);
    }

    #[test]
    fn arbitrary_jws_shaped_input_never_allows(h in "[A-Za-z0-9_-]{0,60}", b in "[A-Za-z0-9_-]{0,200}", s in "[A-Za-z0-9_-]{0,90}") {
        let g = gate(true);
        let auth = format!("Bearer {h}.{b}.{s}");
        let d = g.evaluate(&Request::new("/v1/x", NOW).authorization(&auth));
        prop_assert_ne!(d.outcome, Outcome::Allow);
    }

    #[test]
    fn arbitrary_paths_never_panic(p in "/\\PC{0,80}", m in "[A-Za-z]{1,8}") {
        let g = gate(false);
        let d = g.evaluate(&Request::new(&p, NOW).method(&m));
        prop_assert_ne!(d.outcome, Outcome::Allow);
    }
}
