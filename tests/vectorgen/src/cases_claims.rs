//! Claims as Entra really issues them: unexpected types of claims mfagate
//! does not need, `hasgroups` as a string, audiences with a trailing slash
//! (issue 8, items 3 and 4).

use crate::fixtures::*;
use crate::mint::{compact, Keys, Sig, RSA_KID};
use serde_json::json;

const API: &str = "/v1/customers";
const CUSTOMERS: &str = "/commerce/customers";
const REF: &str =
    "https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference";
const OPT: &str = "https://learn.microsoft.com/entra/identity-platform/optional-claims-reference (aud: \"with or without a trailing slash\")";

pub fn cases(keys: &Keys) -> Vec<Case> {
    let t = |c: C| rs256(keys, &c);
    let mfa = || app_user(CONTOSO, Some(&["pwd", "mfa"]));
    let agent = || id_token(CONTOSO, Some(&["pwd", "mfa"]), &[], &[]);
    let h = header("RS256", Some(RSA_KID)).to_string();
    vec![
        Case::new("claims-hasgroups-string", "issue 8 item 3: hasgroups seen as the string \"true\" in tokens from public repositories", "hasgroups \"true\" is an overage marker, not an invalid token")
            .page(CUSTOMERS, &t(agent().with("hasgroups", "true")))
            .expect(json!({"outcome": "deny", "reason": "roles_unavailable", "token_kind": "id_token", "http": {"status": 403}})),
        Case::new("claims-hasgroups-string-api", "issue 8 item 3", "hasgroups \"true\" does not matter where no role is needed")
            .api("GET", API, &t(mfa().with("hasgroups", "true")))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("claims-hasgroups-false", "issue 8 item 3: any value of hasgroups means overage", "hasgroups false still means the groups are not listed")
            .page(CUSTOMERS, &t(agent().with("hasgroups", false)))
            .expect(json!({"outcome": "deny", "reason": "roles_unavailable"})),
        Case::new("claims-unread-of-any-type", "issue 8 item 3: claims mfagate does not read are ignored whatever their type", "acr, appidacr, aio, rh, uti, ipaddr of unexpected types do not invalidate the token")
            .api("GET", API, &t(mfa().with("acr", 1).with("appidacr", json!(["0"])).with("aio", json!(null)).with("rh", json!({"x": [1]})).with("uti", false).with("ipaddr", 12)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("claims-read-of-wrong-type", REF, "upn as a number: claim_invalid")
            .api("GET", API, &t(mfa().with("upn", 5)))
            .expect(invalid("claim_invalid")),
        Case::new("claims-oid-wrong-type", "issue 8 item 3", "oid as an object: claim_invalid")
            .api("GET", API, &t(mfa().with("oid", json!({"id": 1}))))
            .expect(invalid("claim_invalid")),
        Case::new("claims-duplicate-escaped-name", "RFC 8259 §4; RFC 7519 §4: duplicate claim names", "amr twice, once spelt with an escape (am\\u0072): claim_invalid")
            .api("GET", API, &compact(&h, &mfa().value().to_string().replacen('{', "{\"am\\u0072\":[\"mfa\"],", 1).replace("\"amr\":[\"pwd\",\"mfa\"]", "\"amr\":[\"pwd\"]"), Sig::Rs256(&keys.rsa)))
            .expect(invalid("claim_invalid")),
        Case::new("claims-exponent-notation", "RFC 8259 §6: a number may have an exponent", "exp written as 1.7672286e9 is a NumericDate like any other")
            .api("GET", API, &compact(&h, &mfa().value().to_string().replace(&format!("\"exp\":{}", NOW + 3000), "\"exp\":1.7672286e9"), Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("claims-audience-trailing-slash", OPT, "A client that asked for https://api.partnercenter.microsoft.com/ gets that aud: accepted")
            .api("GET", API, &t(mfa().with("aud", format!("{PC_AUD}/"))))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("claims-audience-configured-with-slash", OPT, "A policy audience written with the slash accepts the token without it")
            .policy(pc_with("2020", json!({"token": {"audiences": [format!("{PC_AUD}/"), CLIENT_ID]}})))
            .api("GET", API, &t(mfa()))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("claims-audience-two-slashes", OPT, "One trailing slash only: // is another audience")
            .api("GET", API, &t(mfa().with("aud", format!("{PC_AUD}//"))))
            .expect(invalid("audience_invalid")),
        Case::new("claims-audience-slash-switched-off", "policy token.audience_trailing_slash", "With audience_trailing_slash = false the exact string is required")
            .policy(pc_with("2020", json!({"token": {"audience_trailing_slash": false}})))
            .api("GET", API, &t(mfa().with("aud", format!("{PC_AUD}/"))))
            .expect(invalid("audience_invalid")),
        Case::new("claims-audience-guid-no-slash", OPT, "Never for GUIDs: a client ID with a slash is another audience")
            .page(CUSTOMERS, &t(agent().with("aud", format!("{CLIENT_ID}/"))))
            .expect(json!({"outcome": "deny", "reason": "audience_invalid"})),
        Case::new("claims-audience-prefix-is-not-enough", OPT, "A longer URI is another audience")
            .api("GET", API, &t(mfa().with("aud", format!("{PC_AUD}.attacker.example/"))))
            .expect(invalid("audience_invalid")),
    ]
}
