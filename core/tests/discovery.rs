//! Keys that came from an OpenID configuration carry its issuer: tokens
//! must have it, `{tenantid}` replaced by their `tid`; one configuration
//! stands for its authority's v1 and v2 issuers (Microsoft.Identity.Web
//! reads both documents). And the refresher hands such keys over.
#![cfg(feature = "aws-lc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mfagate::{Gate, KeySet, Next, Policy, Reason, RefreshOptions, Refresher, Request};
use serde_json::json;

const NOW: i64 = 1_767_225_600;
const SECRET: &[u8] = b"discovery-test-secret-of-32-bytes!!";
const CONTOSO: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
const FABRIKAM: &str = "5c2e3d4f-2222-4b3c-9d4e-0000000000a3";

fn jwks() -> String {
    json!({"keys": [{"kty": "oct", "kid": "hs", "k": URL_SAFE_NO_PAD.encode(SECRET)}]}).to_string()
}

fn token(tid: &str, v2: bool) -> String {
    let iss = if v2 {
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    } else {
        format!("https://sts.windows.net/{tid}/")
    };
    let claims = json!({"aud": "https://api.partnercenter.microsoft.com", "iss": iss, "tid": tid,
        "ver": if v2 { "2.0" } else { "1.0" }, "exp": NOW + 600, "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab",
        "scp": "user_impersonation", "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "amr": ["mfa"]});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"hs"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn gate(keys: KeySet) -> Gate {
    let p = Policy::builtin("partner-center")
        .unwrap()
        .with_overrides(&json!({"token": {"algorithms": ["HS256"]}}))
        .unwrap();
    Gate::new(p, keys)
}

fn reason(g: &Gate, tid: &str, v2: bool) -> Reason {
    let auth = format!("Bearer {}", token(tid, v2));
    g.evaluate(&Request::new("/v1/customers", NOW).authorization(&auth))
        .reason
}

#[test]
fn a_tenant_specific_configuration_admits_only_its_tenant() {
    let keys = KeySet::from_json(&jwks())
        .unwrap()
        .with_issuer(format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"));
    let g = gate(keys);
    assert_eq!(reason(&g, CONTOSO, true), Reason::MfaSatisfied);
    assert_eq!(
        reason(&g, CONTOSO, false),
        Reason::MfaSatisfied,
        "its v1 issuer too"
    );
    assert_eq!(reason(&g, FABRIKAM, true), Reason::IssuerInvalid);
    assert_eq!(reason(&g, FABRIKAM, false), Reason::IssuerInvalid);
}

#[test]
fn a_multi_tenant_configuration_admits_every_tenant() {
    for issuer in [
        "https://login.microsoftonline.com/{tenantid}/v2.0",
        "https://sts.windows.net/{tenantid}/",
    ] {
        let g = gate(KeySet::from_json(&jwks()).unwrap().with_issuer(issuer));
        for (tid, v2) in [(CONTOSO, true), (FABRIKAM, false)] {
            assert_eq!(reason(&g, tid, v2), Reason::MfaSatisfied, "{issuer} {tid}");
        }
    }
    // Keys without a configuration are not restricted by one.
    assert_eq!(
        reason(&gate(KeySet::from_json(&jwks()).unwrap()), FABRIKAM, true),
        Reason::MfaSatisfied
    );
}

#[test]
fn the_refresher_hands_over_the_configuration_issuer() {
    let mut r = Refresher::new(
        &format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"),
        RefreshOptions::default(),
    )
    .unwrap();
    let Next::Fetch(f) = r.next(0) else { panic!() };
    let config = json!({"issuer": format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"),
        "jwks_uri": format!("https://login.microsoftonline.com/{CONTOSO}/discovery/v2.0/keys")});
    assert_eq!(
        r.fetched(f.id, 1, 200, config.to_string().as_bytes()),
        Ok(false)
    );
    let Next::Fetch(k) = r.next(2) else { panic!() };
    assert_eq!(r.fetched(k.id, 3, 200, jwks().as_bytes()), Ok(true));
    let g = Gate::with_shared_keys(gate(KeySet::empty()).policy().clone(), r.key_set_at(4));
    assert_eq!(reason(&g, CONTOSO, true), Reason::MfaSatisfied);
    assert_eq!(reason(&g, FABRIKAM, true), Reason::IssuerInvalid);
}
