//! Delegated administration (brief §4, §8.8) and technical exceptions
//! (brief §5, §8.9).

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const S_DAP: &str = "seed 004, Partner Delegated Administration; brief §4";
const S_EXC: &str = "seed 004, Request for technical exception; brief §5";
const API: &str = "/v1/customers";
const OVERVIEW: &str = "/dashboard/overview";
const CUSTOMERS: &str = "/commerce/customers";

fn exception(tenant: &str, reason: &str, expires: &str) -> serde_json::Value {
    json!({"tenant": tenant, "reason": reason, "expires": expires, "reference": "SR-1234"})
}

fn with_exceptions(year: &str, list: serde_json::Value) -> serde_json::Value {
    pc_with(year, json!({"exceptions": list}))
}

pub fn delegated_cases(keys: &Keys) -> Vec<Case> {
    let mfa: &[&str] = &["pwd", "mfa"];
    let pwd: &[&str] = &["pwd"];
    let dap_mfa = rs256(keys, &delegated(CUSTOMER, CONTOSO, Some(mfa)));
    let dap_pwd = rs256(keys, &delegated(CUSTOMER, CONTOSO, Some(pwd)));
    let refused = |rule: &str| {
        and(
            pc401("delegated_admin_mfa_required", "delegated_admin", rule),
            json!({"mfa": {"required": true, "satisfied": false}, "exception": null}),
        )
    };
    vec![
        Case::new("dap-mfa-api", S_DAP, "A partner user in a customer tenant, MFA'd: allowed")
            .api("GET", API, &dap_mfa)
            .expect(and(allow("mfa_satisfied", "delegated_admin", "api"), json!({"subject": {"tenant": CUSTOMER, "home_tenant": CONTOSO}}))),
        Case::new("dap-mfa-unprotected", S_DAP, "MFA'd delegated admin on a path no rule protects")
            .api("GET", OVERVIEW, &dap_mfa)
            .expect(and(allow("mfa_satisfied", "delegated_admin", "default"), json!({"mfa": {"required": true}}))),
        Case::new("dap-no-mfa-api", S_DAP, "Without MFA: refused, with the non-interactive-flow explanation")
            .api("GET", API, &dap_pwd)
            .expect(and(refused("api"), json!({"message": {"en": "Delegated administration always requires MFA. Sign in to the customer tenant interactively and complete MFA; non-interactive flows such as the password flow cannot satisfy MFA."}}))),
        Case::new("dap-no-mfa-unprotected", "brief §8.8", "Refused even on a route that is not protected for partner users")
            .api("GET", OVERVIEW, &dap_pwd)
            .expect(refused("default")),
        Case::new("dap-no-mfa-page", "brief §8.8; RFC 8725 §3.12; issue 8 item 11", "Refused on a dashboard page (not a token for the partner's own session): the browser is sent to sign in")
            .page(CUSTOMERS, &dap_pwd)
            .expect(json!({"outcome": "deny", "reason": "token_kind_not_accepted", "token_kind": "delegated_admin", "http": {"status": 302}})),
        Case::new("dap-amr-absent", S_DAP, "Delegated admin with no amr at all")
            .api("GET", API, &rs256(keys, &delegated(CUSTOMER, CONTOSO, None)))
            .expect(and(refused("api"), json!({"detail": "MFA check: mfa_amr_absent"}))),
        Case::new("dap-exception-for-partner-ignored", "brief §5, §8.8 [later]: never exempted", "A valid exception for the partner tenant does not help")
            .policy(with_exceptions("2020", json!([exception(CONTOSO, "third_party_mfa_not_recognized", "2030-01-01")])))
            .api("GET", API, &dap_pwd)
            .expect(refused("api")),
        Case::new("dap-exception-for-customer-ignored", "brief §5 [later]", "Nor one naming the customer tenant")
            .policy(with_exceptions("2020", json!([exception(CUSTOMER, "third_party_mfa_not_recognized", "2030-01-01")])))
            .api("GET", API, &dap_pwd)
            .expect(refused("api")),
        Case::new("gdap-mfa", "brief §4 [Entra, GDAP]: empty oid, aai", "The GDAP shape is still recognised; MFA'd: allowed")
            .api("GET", API, &rs256(keys, &gdap(CUSTOMER, CONTOSO, Some(mfa))))
            .expect(and(allow("mfa_satisfied", "delegated_admin", "api"), json!({
                "kind_evidence": "idp names another tenant, aai names the partner user, wids holds the GDAP relationship indicator (GDAP)",
                "roles": [],
                "subject": {"tenant": CUSTOMER, "object_id": USER_OID, "home_tenant": CONTOSO}}))),
        Case::new("gdap-identity-from-aai", "issue 9 item 5; AzureAD/microsoft-identity-web#2609", "The subject is the partner user named in aai (tenant and object), not the empty oid")
            .api("GET", API, &rs256(keys, &gdap(CUSTOMER, CONTOSO, Some(pwd))))
            .expect(and(refused("api"), json!({"subject": {"object_id": USER_OID, "home_tenant": CONTOSO}}))),
        Case::new("gdap-aai-other-tenant", "issue 9 item 5: fail closed", "aai names another partner tenant than idp: unrecognised, not delegated admin of either")
            .api("GET", API, &rs256(keys, &gdap(CUSTOMER, CONTOSO, Some(mfa)).with("aai", format!("tenant: {WINGTIP}, object: {USER_OID}"))))
            .expect(and(invalid("token_kind_unrecognized"), json!({"token_kind": "unrecognized", "kind_evidence": "aai names another tenant than idp: no partner user can be told"}))),
        Case::new("gdap-aai-other-shape", "issue 9 item 5", "An aai of another shape still marks GDAP; the subject falls back to oid and idp")
            .api("GET", API, &rs256(keys, &gdap(CUSTOMER, CONTOSO, Some(mfa)).with("aai", json!({"tid": CONTOSO, "oid": USER_OID})).with("wids", vec![GDAP_WID])))
            .expect(and(allow("mfa_satisfied", "delegated_admin", "api"), json!({"subject": {"object_id": "", "home_tenant": CONTOSO}}))),
        Case::new("gdap-no-mfa", "brief §4 [Entra, GDAP]", "GDAP without MFA: refused")
            .api("GET", API, &rs256(keys, &gdap(CUSTOMER, CONTOSO, Some(pwd))))
            .expect(refused("api")),
        Case::new("dap-partner-tenants-listed", "policy token.partner_tenants", "With partner tenants configured, an idp naming one is delegated admin")
            .policy(pc_with("2020", json!({"token": {"partner_tenants": [CONTOSO]}})))
            .api("GET", API, &dap_pwd)
            .expect(refused("api")),
        Case::new("dap-partner-tenants-other-idp", "policy token.partner_tenants", "A foreign idp that is not a listed partner is an ordinary App+User token")
            .policy(pc_with("2020", json!({"token": {"partner_tenants": [WINGTIP]}})))
            .api("GET", API, &dap_pwd)
            .expect(pc401("mfa_required", "app_user", "api")),
        Case::new("dap-idp-same-tenant", "brief §4", "An idp naming the token's own tenant is not delegation")
            .api("GET", OVERVIEW, &rs256(keys, &app_user(CONTOSO, Some(pwd)).with("idp", format!("https://sts.windows.net/{CONTOSO}/"))))
            .expect(allow("mfa_not_required", "app_user", "default")),
    ]
}

pub fn exception_cases(keys: &Keys) -> Vec<Case> {
    let pwd: &[&str] = &["pwd"];
    let agent = rs256(keys, &id_token(CONTOSO, Some(pwd), &[G_ADMIN], &[]));
    let valid = with_exceptions(
        "2020",
        json!([exception(
            CONTOSO,
            "third_party_mfa_not_recognized",
            "2026-06-30"
        )]),
    );
    let mut v = vec![
        Case::new("exception-valid-customers", S_EXC, "A valid, unexpired exception lets a non-MFA'd Admin agent open Customers, and says so")
            .policy(valid.clone())
            .page(CUSTOMERS, &agent)
            .expect(and(allow("exception_applied", "id_token", "customers"), json!({
                "mfa": {"required": true, "satisfied": false, "evidence": "exception"},
                "exception": {"tenant": CONTOSO, "user": null, "reason": "third_party_mfa_not_recognized", "expires": 1_782_777_600, "reference": "SR-1234"}}))),
        Case::new("exception-valid-api", S_EXC, "The exception also covers the API")
            .policy(valid.clone())
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(pwd))))
            .expect(allow("exception_applied", "app_user", "api")),
        Case::new("exception-expired", "brief §8.9", "An expired exception: step-up as usual")
            .policy(with_exceptions("2020", json!([exception(CONTOSO, "third_party_mfa_not_recognized", "2025-12-31T23:59:59Z")])))
            .page(CUSTOMERS, &agent)
            .expect(and(redirect("mfa_required", "customers", CUSTOMERS, false), json!({"exception": null,
                "detail": format!("MFA check: mfa_required; the technical exception for tenant {CONTOSO} expired at 1767225599")}))),
        Case::new("exception-other-tenant", S_EXC, "An exception for another partner tenant does not apply")
            .policy(with_exceptions("2020", json!([exception(WINGTIP, "third_party_mfa_not_recognized", "2030-01-01")])))
            .page(CUSTOMERS, &agent)
            .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
        Case::new("exception-user-oid-match", "brief §5: optionally per user", "A per-user exception naming the user's object ID applies")
            .policy(with_exceptions("2020", json!([{"tenant": CONTOSO, "user": USER_OID, "reason": "third_party_mfa_not_recognized", "expires": "2030-01-01"}])))
            .page(CUSTOMERS, &agent)
            .expect(and(allow("exception_applied", "id_token", "customers"), json!({"exception": {"user": USER_OID}}))),
        Case::new("exception-user-upn-match", "brief §5: optionally per user", "A per-user exception may name the UPN")
            .policy(with_exceptions("2020", json!([{"tenant": CONTOSO, "user": "JANE@contoso.onmicrosoft.com", "reason": "third_party_mfa_not_recognized", "expires": "2030-01-01"}])))
            .page(CUSTOMERS, &agent)
            .expect(allow("exception_applied", "id_token", "customers")),
        Case::new("exception-user-other", "brief §5: optionally per user", "A per-user exception for someone else does not apply")
            .policy(with_exceptions("2020", json!([{"tenant": CONTOSO, "user": "bob@contoso.onmicrosoft.com", "reason": "third_party_mfa_not_recognized", "expires": "2030-01-01"}])))
            .page(CUSTOMERS, &agent)
            .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
        Case::new("exception-does-not-grant-roles", "brief §5: suppresses only the MFA check", "An exception never opens a page the user's roles may not")
            .policy(valid)
            .page("/dashboard/billing", &rs256(keys, &id_token(CONTOSO, Some(pwd), &[G_SALES], &[])))
            .expect(forbidden("role_not_permitted", "id_token", "billing")),
        Case::new("exception-2019-powershell-valid", "seed 000, Problème 6", "2019: Exchange Online PowerShell is a valid reason")
            .policy(with_exceptions("2019", json!([exception(CONTOSO, "exchange_online_powershell", "2030-01-01")])))
            .page(CUSTOMERS, &agent)
            .expect(and(allow("exception_applied", "id_token", "customers"), json!({"exception": {"reason": "exchange_online_powershell"}}))),
        Case::new("exception-2019-third-party-valid", "seed 000, Problème 7", "2019: unrecognised third-party MFA is a valid reason")
            .policy(with_exceptions("2019", json!([exception(CONTOSO, "third_party_mfa_not_recognized", "2030-01-01")])))
            .page(CUSTOMERS, &agent)
            .expect(allow("exception_applied", "id_token", "customers")),
    ];
    let invalid: [(&str, &str, &str); 9] = [
        (
            "2020",
            "exchange_online_powershell",
            "brief §5: the PowerShell case is gone in 2020",
        ),
        (
            "2025",
            "exchange_online_powershell",
            "brief §5: the PowerShell case is gone after 2019",
        ),
        ("2020", "needs_more_time", "seed 004, Issue 1"),
        (
            "2020",
            "users_without_delegated_privileges",
            "seed 004, Issue 2",
        ),
        ("2020", "service_accounts", "seed 004, Issue 3"),
        ("2020", "cannot_use_authenticator_app", "seed 004, Issue 4"),
        (
            "2020",
            "legacy_authentication_protocols",
            "seed 004, Issue 5",
        ),
        ("2019", "needs_more_time", "seed 000, Problème 1"),
        (
            "2020",
            "we_asked_nicely",
            "brief §5: only the seed's reasons exist",
        ),
    ];
    for (year, reason, src) in invalid {
        v.push(
            Case::new(
                &format!("exception-invalid-{year}-{reason}"),
                src,
                "A policy declaring an exception for an invalid reason does not load",
            )
            .policy(with_exceptions(
                year,
                json!([exception(CONTOSO, reason, "2030-01-01")]),
            ))
            .page(CUSTOMERS, &agent)
            .error("exception_reason_invalid"),
        );
    }
    v.push(
        Case::new("exception-invalid-answer-text", "seed 004, Issue 1: Answer", "The error message quotes the seed's answer")
            .policy(with_exceptions("2020", json!([exception(CONTOSO, "needs_more_time", "2030-01-01")])))
            .page(CUSTOMERS, &agent)
            .error_with(json!({"code": "exception_reason_invalid", "message": format!(
                "exception #1 (tenant {CONTOSO}): \"needs_more_time\" is not a valid reason under the 2020 rules. Answer: No. Partner needs to make plans to implement MFA for their users to avoid disruption.")})),
    );
    v.push(
        Case::new(
            "exception-bad-expiry",
            "brief §5: an exception has an expiry",
            "An expiry that is not a date does not load",
        )
        .policy(with_exceptions(
            "2020",
            json!([exception(
                CONTOSO,
                "third_party_mfa_not_recognized",
                "next year"
            )]),
        ))
        .page(CUSTOMERS, &agent)
        .error("policy_invalid"),
    );
    v
}
