//! The Partner Center API rule and the challenge styles (brief §8.6, §8.12).

use crate::fixtures::*;
use crate::mint::{sign, Keys, Sig};
use serde_json::json;

const SRC: &str = "seed 004, Partner Center API";
const API: &str = "/v1/customers";

fn claims_policy(extra: serde_json::Value) -> serde_json::Value {
    pc_with(
        "2020",
        json!({"routes": {"api": {"challenge": "claims"}}, "mfa": extra}),
    )
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let v2_user = rs256(keys, &v2(app_user(CONTOSO, None)));
    let v2_app = rs256(keys, &v2(app_only(CONTOSO)));
    let pwd = rs256(keys, &app_user(CONTOSO, Some(&["pwd"])));
    let cp1_pwd = rs256(
        keys,
        &app_user(CONTOSO, Some(&["pwd"])).with("xms_cc", vec!["cp1"]),
    );
    let b64_amr =
        "eyJhY2Nlc3NfdG9rZW4iOnsiYW1yIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWVzIjpbIm1mYSJdfX19";
    let b64_acrs = "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19";
    vec![
        Case::new("api-seed-sample-mfa", SRC, "The seed's sample App+User token (amr pwd, mfa) is processed")
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd", "mfa"]))))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({
                "kind_evidence": "scp is present",
                "mfa": {"required": true, "satisfied": true, "evidence": "amr", "amr": ["pwd", "mfa"]},
                "subject": {"tenant": CONTOSO, "object_id": USER_OID, "user": "Adminagent.csp@testtestpartner.onmicrosoft.com", "app_id": CLIENT_ID}}))),
        Case::new("api-app-user-pwd-only", SRC, "App+User without mfa in amr: exactly Partner Center's 401")
            .api("GET", API, &pwd)
            .expect(and(pc401("mfa_required", "app_user", "api"), json!({"mfa": {"required": true, "satisfied": false, "amr": ["pwd"]}}))),
        Case::new("api-app-user-amr-absent", "brief §6: amr absent ≠ amr without mfa", "App+User with no amr: the same 401, diagnosed as amr absent")
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, None)))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"mfa": {"amr": null}}))),
        Case::new("api-app-only-roles", "seed 004: App-only keeps working without MFA", "App-only (roles, no scp) passes without amr")
            .api("GET", API, &rs256(keys, &app_only(CONTOSO)))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"kind_evidence": "roles without scp, oid equals sub", "mfa": {"required": false}}))),
        Case::new("api-app-only-idtyp", "brief §6: idtyp is the strongest signal", "idtyp=app marks an app-only token even without roles")
            .api("GET", API, &rs256(keys, &app_only(CONTOSO).without("roles").with("idtyp", "app")))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"kind_evidence": "idtyp is \"app\""}))),
        Case::new("api-amr-case-sensitive", "brief §6: amr values are case-sensitive", "\"MFA\" is not \"mfa\"")
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd", "MFA"]))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("api-ngcmfa-not-accepted-by-default", SRC, "Partner Center checks for exactly mfa: ngcmfa alone does not pass")
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["ngcmfa"]))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("api-ngcmfa-accepted-when-configured", "RFC 8176; policy accepted_amr", "A policy may accept ngcmfa as well")
            .policy(pc_with("2020", json!({"mfa": {"accepted_amr": ["mfa", "ngcmfa"]}})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["ngcmfa"]))))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("api-v2-user-token", "brief §6: amr is emitted in v1 tokens only", "A v2 App+User token has no amr: 401, amr absent")
            .api("GET", API, &v2_user)
            .expect(pc401("mfa_amr_absent", "app_user", "api")),
        Case::new("api-v2-app-only", "brief §6, v2 tokens", "A v2 app-only token (azp, roles) passes")
            .api("GET", API, &v2_app)
            .expect(allow("app_only_exempt", "app_only", "api")),
        Case::new("api-post-method", SRC, "Any method is covered")
            .api("POST", "/v1/customers/abc/orders", &pwd)
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("api-unprotected-path", "brief §8.1", "An App+User token without MFA on a path no rule protects")
            .api("GET", "/dashboard/servicehealth", &pwd)
            .expect(allow("mfa_not_required", "app_user", "default")),
        Case::new("api-rfc9470", "RFC 9470 §3", "The RFC 9470 style asks for insufficient_user_authentication with acr_values")
            .policy(pc_with("2020", json!({"routes": {"api": {"challenge": "rfc9470"}}})))
            .api("GET", API, &pwd)
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "http": {"status": 401, "status_text": "Unauthorized", "headers": [["WWW-Authenticate",
                "Bearer error=\"insufficient_user_authentication\", error_description=\"Multi-factor authentication is required. Sign in again and complete MFA verification.\", acr_values=\"http://schemas.openid.net/pape/policies/2007/06/multi-factor\""]]}})),
        Case::new("api-claims-challenge-cp1", "brief §6: claims challenge", "A cp1-capable client gets Microsoft's insufficient_claims 401")
            .policy(claims_policy(json!({})))
            .api("GET", API, &cp1_pwd)
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "http": {"status": 401, "headers": [["WWW-Authenticate",
                format!("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"{b64_amr}\"")]]}})),
        Case::new("api-claims-challenge-auth-context", "brief §6: claims challenge", "With an authentication context, the challenge asks for acrs")
            .policy(claims_policy(json!({"auth_context": "c1"})))
            .api("GET", API, &cp1_pwd)
            .expect(json!({"http": {"status": 401, "headers": [["WWW-Authenticate",
                format!("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"{b64_acrs}\"")]]}})),
        Case::new("api-claims-challenge-cp1-upper-case", "issue 18.5: Graph Explorer's tokens carry xms_cc [\"CP1\"]; Microsoft's CAE samples test includes('CP1')", "xms_cc CP1 as real tokens spell it: the claims challenge, not a 403")
            .policy(claims_policy(json!({})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd"])).with("xms_cc", vec!["CP1"])))
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "http": {"status": 401, "headers": [["WWW-Authenticate",
                format!("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"{b64_amr}\"")]]}})),
        Case::new("api-auth-context-acrs-satisfies", "issue 18.6; Microsoft identity platform, developer guide to Conditional Access authentication context", "The answer to an acrs challenge (a v2 token: acrs c1, no amr) proves MFA")
            .policy(claims_policy(json!({"auth_context": "c1"})))
            .api("GET", API, &rs256(keys, &v2(app_user(CONTOSO, None)).with("acrs", vec!["c1"]).with("xms_cc", vec!["CP1"])))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"mfa": {"required": true, "satisfied": true, "evidence": "acrs", "amr": null}}))),
        Case::new("api-auth-context-other-acrs", "issue 18.6", "acrs holding another context does not prove the configured one: challenged again")
            .policy(claims_policy(json!({"auth_context": "c1"})))
            .api("GET", API, &rs256(keys, &v2(app_user(CONTOSO, None)).with("acrs", vec!["c2"]).with("xms_cc", vec!["cp1"])))
            .expect(json!({"outcome": "step_up", "reason": "mfa_amr_absent", "http": {"status": 401}})),
        Case::new("api-acrs-without-auth-context", "issue 18.6: acrs counts only for the context the policy asks for", "Without mfa.auth_context, acrs proves nothing")
            .api("GET", API, &rs256(keys, &v2(app_user(CONTOSO, None)).with("acrs", vec!["c1"])))
            .expect(pc401("mfa_amr_absent", "app_user", "api")),
        Case::new("api-claims-challenge-no-cp1", "brief §6: other clients get 403", "A client that cannot handle claims challenges gets 403")
            .policy(claims_policy(json!({})))
            .api("GET", API, &pwd)
            .expect(json!({"outcome": "deny", "reason": "mfa_required", "http": {"status": 403, "headers": []}})),
        Case::new("api-claims-challenge-cp1-string", "brief §6: xms_cc", "xms_cc may be a single string")
            .policy(claims_policy(json!({})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd"])).with("xms_cc", "cp1")))
            .expect(json!({"outcome": "step_up", "http": {"status": 401}})),
        Case::new("api-ps256", "RFC 7518 §3.5", "A PS256 token verifies when the policy pins PS256")
            .policy(pc_with("2020", json!({"token": {"algorithms": ["PS256"]}})))
            .api("GET", API, &sign(&header("PS256", Some("rsa-1")), &app_user(CONTOSO, Some(&["mfa"])).value(), Sig::Ps256(&keys.rsa, 7)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("api-es256", "RFC 7518 §3.4", "An ES256 token verifies when the policy pins ES256")
            .policy(pc_with("2020", json!({"token": {"algorithms": ["ES256"]}})))
            .api("GET", API, &sign(&header("ES256", Some("ec-1")), &app_user(CONTOSO, Some(&["mfa"])).value(), Sig::Es256(&keys.ec)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("api-hs256-configured", "issue 2: HS256 where a policy configures a shared secret", "An HS256 token verifies with the oct key when HS256 is pinned")
            .policy(pc_with("2020", json!({"token": {"algorithms": ["HS256"]}})))
            .api("GET", API, &sign(&header("HS256", Some("hs-1")), &app_user(CONTOSO, Some(&["pwd"])).value(), Sig::Hs256(&keys.secret)))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("api-no-kid-single-key", "RFC 7515 §4.1.4", "Without kid, the one key that fits the algorithm is used")
            .policy(pc_with("2020", json!({"token": {"algorithms": ["ES256"]}})))
            .api("GET", API, &sign(&header("ES256", None), &app_user(CONTOSO, Some(&["mfa"])).value(), Sig::Es256(&keys.ec)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
    ]
}
