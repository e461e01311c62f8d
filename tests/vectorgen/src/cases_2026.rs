//! The 2026 edition (issue 9 item 1): MFA on every portal page and every
//! App+User API call; Partner Center's error schema with code 900421;
//! `ValidateMfa: true` answered with `isMfaCompliant`.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const PORTAL: &str = "Microsoft partner blog, Critical API changes for Microsoft partners (2025): MFA on all Partner Center portal pages from 30 August 2025";
const API_SRC: &str = "partner-center/developer/partner-center-authentication: from April 1, 2026 all App+User usage needs MFA; error code 900421 (partner blog, CSP technical changes FY26 Q4)";
const VALIDATE: &str = "2025-2026 guidance: ValidateMfa: true, answered with isMfaCompliant";
const API: &str = "/v1/customers";

fn pc_body(reason: &str) -> String {
    json!({"code": 900421, "description": "Multi-factor authentication is required. Sign in again and complete MFA verification.",
           "data": [], "source": "mfagate", "reason": reason})
    .to_string()
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let mfa: &[&str] = &["pwd", "mfa"];
    let pwd: &[&str] = &["pwd"];
    let t = |c: C| rs256(keys, &c);
    let page = |amr: &[&str], groups: &[&str], wids: &[&str]| {
        t(id_token(CONTOSO, Some(amr), groups, wids))
    };
    let validate = |token: &str| json!({"method": "GET", "path": API, "authorization": format!("Bearer {token}"), "now": NOW, "validate_mfa": true});
    let delegated_body = json!({"code": 900421, "description": "Delegated administration always requires MFA. Sign in to the customer tenant interactively and complete MFA; non-interactive flows such as the password flow cannot satisfy MFA.",
        "data": [], "source": "mfagate", "reason": "delegated_admin_mfa_required"}).to_string();
    vec![
        Case::new("2026-overview-needs-mfa", PORTAL, "Overview, free of MFA until 2025, now sends a password-only user to MFA")
            .policy(pc("2026"))
            .page("/dashboard/overview", &page(pwd, &[], &[]))
            .expect(redirect("mfa_required", "dashboard", "/dashboard/overview", false)),
        Case::new("2026-overview-with-mfa", PORTAL, "With MFA, Overview opens, no role needed")
            .policy(pc("2026"))
            .page("/dashboard/overview", &page(mfa, &[], &[]))
            .expect(and(allow("mfa_satisfied", "id_token", "dashboard"), json!({"roles": []}))),
        Case::new("2026-any-page-needs-mfa", PORTAL, "Any other page (service health) needs MFA")
            .policy(pc("2026"))
            .page("/dashboard/servicehealth", &page(pwd, &[G_SALES], &[]))
            .expect(redirect("mfa_required", "dashboard", "/dashboard/servicehealth", false)),
        Case::new("2026-billing-security-admin", "partner-security-requirements-mandating-mfa (2024-2025 text): the role table with Security administrator", "Billing keeps its roles: a Security administrator with MFA opens it")
            .policy(pc("2026"))
            .page("/dashboard/billing", &page(mfa, &[], &[WID_SECURITY]))
            .expect(allow("mfa_satisfied", "id_token", "billing")),
        Case::new("2026-billing-global-admin", "partner-security-requirements-mandating-mfa (2024-2025 text)", "A Global administrator may not open Billing")
            .policy(pc("2026"))
            .page("/dashboard/billing", &page(mfa, &[], &[WID_GLOBAL]))
            .expect(forbidden("role_not_permitted", "id_token", "billing")),
        Case::new("2026-customers-role-first", "seed 004 via the 2025 table: roles before MFA", "A Sales agent without MFA on Support > Customer requests: 403, not an MFA prompt")
            .policy(pc("2026"))
            .page("/dashboard/support/csp/customers/1", &page(pwd, &[G_SALES], &[]))
            .expect(forbidden("role_not_permitted", "id_token", "customer_requests")),
        Case::new("2026-api-refusal", API_SRC, "App+User without MFA: Partner Center's exact 401, body in its error schema with code 900421")
            .policy(pc("2026"))
            .api("GET", API, &t(app_user(CONTOSO, Some(pwd))))
            .expect(and(pc401("mfa_required", "app_user", "api"), json!({"http": {"body": pc_body("mfa_required")}}))),
        Case::new("2026-api-refusal-v2", API_SRC, "A v2 App+User token (no amr): the same 401")
            .policy(pc("2026"))
            .api("GET", API, &t(v2(app_user(CONTOSO, None))))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"http": {"body": json!({"code": 900421, "description": "Multi-factor authentication cannot be verified: the token has no amr claim (is the API configured for v2 tokens?).", "data": [], "source": "mfagate", "reason": "mfa_amr_absent"}).to_string()}}))),
        Case::new("2026-api-other-path", API_SRC, "Every other path needs MFA too (the default rule)")
            .policy(pc("2026"))
            .api("POST", "/v2/anything", &t(app_user(CONTOSO, Some(pwd))))
            .expect(pc401("mfa_required", "app_user", "default")),
        Case::new("2026-app-only-exempt", API_SRC, "App-only tokens stay exempt")
            .policy(pc("2026"))
            .api("GET", API, &t(app_only(CONTOSO)))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"http": {"headers": []}}))),
        Case::new("2026-delegated-admin", "brief §4; 2026 rules", "Delegated admin without MFA: refused, with code 900421")
            .policy(pc("2026"))
            .api("GET", API, &t(delegated(CUSTOMER, CONTOSO, Some(pwd))))
            .expect(and(pc401("delegated_admin_mfa_required", "delegated_admin", "api"), json!({"http": {"body": delegated_body}}))),
        Case::new("2026-validate-mfa-true", VALIDATE, "ValidateMfa: true on an allowed MFA call: isMfaCompliant true")
            .policy(pc("2026"))
            .request(validate(&t(app_user(CONTOSO, Some(mfa)))))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"http": {"headers": [["isMfaCompliant", "true"]]}}))),
        Case::new("2026-validate-mfa-app-only", VALIDATE, "ValidateMfa: true on an App-only call: isMfaCompliant false (no user, no MFA)")
            .policy(pc("2026"))
            .request(validate(&t(app_only(CONTOSO))))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"http": {"headers": [["isMfaCompliant", "false"]]}}))),
        Case::new("2026-validate-mfa-exception", VALIDATE, "A technical exception lets the call through, but it is not MFA: isMfaCompliant false")
            .policy(pc_with("2026", json!({"exceptions": [{"tenant": CONTOSO, "reason": "third_party_mfa_not_recognized", "expires": "2030-01-01"}]})))
            .request(validate(&t(app_user(CONTOSO, Some(pwd)))))
            .expect(and(allow("exception_applied", "app_user", "api"), json!({"http": {"headers": [["isMfaCompliant", "false"]]}}))),
        Case::new("2026-validate-mfa-refused", VALIDATE, "A refused call carries no isMfaCompliant: the 401 says it")
            .policy(pc("2026"))
            .request(validate(&t(app_user(CONTOSO, Some(pwd)))))
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("2026-validate-mfa-not-asked", VALIDATE, "Without ValidateMfa, no header")
            .policy(pc("2026"))
            .api("GET", API, &t(app_user(CONTOSO, Some(mfa))))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"http": {"headers": []}}))),
        Case::new("2026-validate-mfa-not-a-page", VALIDATE, "Pages answer no isMfaCompliant")
            .policy(pc("2026"))
            .request(json!({"method": "GET", "path": "/dashboard/overview", "token": page(mfa, &[], &[]), "now": NOW, "validate_mfa": true}))
            .expect(and(allow("mfa_satisfied", "id_token", "dashboard"), json!({"http": {"headers": []}}))),
        Case::new("2020-unchanged-by-validate-mfa", "issue 9: 2019, 2020 and 2025 stay as they are", "The 2020 rules do not answer ValidateMfa, and keep mfagate's body")
            .request(validate(&t(app_user(CONTOSO, Some(mfa)))))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"http": {"headers": []}}))),
        Case::new("2020-overview-unchanged", "issue 9: 2020 stays as it is", "Under the 2020 rules Overview still needs no MFA")
            .page("/dashboard/overview", &page(pwd, &[], &[]))
            .expect(allow("mfa_not_required", "id_token", "default")),
    ]
}
