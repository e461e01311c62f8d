//! Group overage (§8.10), freshness (§8.11) and policies that must not load.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const CUSTOMERS: &str = "/commerce/customers";
const API: &str = "/v1/customers";

pub fn overage_cases(keys: &Keys) -> Vec<Case> {
    let src = "brief §6 groups overage; §8.10";
    let mfa: &[&str] = &["pwd", "mfa"];
    let claim_names = id_token(CONTOSO, Some(mfa), &[], &[])
        .with("_claim_names", json!({"groups": "src1"}))
        .with("_claim_sources", json!({"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}));
    vec![
        Case::new("overage-claim-names-customers", src, "Groups replaced by _claim_names on a page gated by agent groups: roles unavailable")
            .page(CUSTOMERS, &rs256(keys, &claim_names))
            .expect(json!({"outcome": "deny", "reason": "roles_unavailable", "token_kind": "id_token", "roles": [], "http": {"status": 403}})),
        Case::new("overage-hasgroups-customers", src, "hasgroups=true (implicit flow) is an overage marker too")
            .page(CUSTOMERS, &rs256(keys, &id_token(CONTOSO, Some(mfa), &[], &[]).with("hasgroups", true)))
            .expect(json!({"outcome": "deny", "reason": "roles_unavailable", "http": {"status": 403}})),
        Case::new("overage-directory-role-still-counts", src, "Overage hides groups, not wids: a Billing admin still opens Billing")
            .page("/dashboard/billing", &rs256(keys, &claim_names.clone().with("wids", vec![WID_BILLING])))
            .expect(and(allow("mfa_satisfied", "id_token", "billing"), json!({"roles": ["billing_admin"]}))),
        Case::new("overage-overview", src, "Overage does not matter where no role is needed")
            .page("/dashboard/overview", &rs256(keys, &claim_names))
            .expect(allow("mfa_not_required", "id_token", "default")),
        Case::new("overage-no-mfa-still-roles-first", "brief §2: refused without being asked for MFA", "Unknown roles and no MFA: 403 roles_unavailable, not a prompt")
            .page(CUSTOMERS, &rs256(keys, &id_token(CONTOSO, Some(&["pwd"]), &[], &[]).with("hasgroups", true)))
            .expect(json!({"outcome": "deny", "reason": "roles_unavailable", "redirect": null})),
    ]
}

pub fn freshness_cases(keys: &Keys) -> Vec<Case> {
    let src = "brief §8.11; RFC 9470 §3";
    let mfa: &[&str] = &["pwd", "mfa"];
    let fresh_policy = pc_with("2020", json!({"routes": {"customers": {"max_age": 3600}}}));
    let agent = |auth_time: Option<i64>| {
        let c = id_token(CONTOSO, Some(mfa), &[G_ADMIN], &[]);
        rs256(
            keys,
            &match auth_time {
                Some(t) => c.with("auth_time", t),
                None => c,
            },
        )
    };
    let stale_loc =
        format!("/.auth/login/aad?prompt=login&amr_values=mfa&max_age=3600&return_to={CUSTOMERS}");
    vec![
        Case::new("fresh-mfa-within-max-age", src, "MFA 30 minutes ago, max_age one hour: allowed")
            .policy(fresh_policy.clone())
            .page(CUSTOMERS, &agent(Some(NOW - 1800)))
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"mfa": {"auth_time": NOW - 1800, "max_age": 3600}}))),
        Case::new("fresh-mfa-too-old", src, "MFA two hours ago: step-up carrying max_age")
            .policy(fresh_policy.clone())
            .page(CUSTOMERS, &agent(Some(NOW - 7200)))
            .expect(json!({"outcome": "step_up", "reason": "mfa_stale", "rule": "customers", "mfa": {"satisfied": false, "max_age": 3600},
                "http": {"status": 302, "headers": [["Location", stale_loc]]}, "redirect": {"params": [["prompt", "login"], ["amr_values", "mfa"], ["max_age", "3600"], ["return_to", CUSTOMERS]]}})),
        Case::new("fresh-auth-time-absent", src, "max_age asked but no auth_time: step-up (fail closed)")
            .policy(fresh_policy.clone())
            .page(CUSTOMERS, &agent(None))
            .expect(json!({"outcome": "step_up", "reason": "mfa_auth_time_absent"})),
        Case::new("fresh-rfc9470-max-age", src, "RFC 9470 style carries max_age in the challenge")
            .policy(pc_with("2020", json!({"routes": {"api": {"challenge": "rfc9470", "max_age": 600}}})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(mfa)).with("auth_time", NOW - 1200)))
            .expect(json!({"outcome": "step_up", "reason": "mfa_stale", "http": {"status": 401, "headers": [["WWW-Authenticate",
                "Bearer error=\"insufficient_user_authentication\", error_description=\"Your multi-factor authentication is too old for this page. Sign in again with MFA.\", acr_values=\"http://schemas.openid.net/pape/policies/2007/06/multi-factor\", max_age=\"600\""]]}})),
        Case::new("fresh-policy-wide-max-age", src, "mfa.max_age applies to every MFA-protected route")
            .policy(pc_with("2020", json!({"mfa": {"max_age": 900}})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(mfa)).with("auth_time", NOW - 1000)))
            .expect(pc401("mfa_stale", "app_user", "api")),
        Case::new("fresh-not-applied-without-mfa-requirement", src, "Freshness only matters where MFA is required")
            .policy(pc_with("2020", json!({"mfa": {"max_age": 900}})))
            .page("/dashboard/overview", &agent(Some(NOW - 100_000)))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"mfa": {"max_age": null}}))),
        Case::new("fresh-app-only-unaffected", src, "App-only tokens have no MFA to be fresh")
            .policy(pc_with("2020", json!({"mfa": {"max_age": 900}})))
            .api("GET", API, &rs256(keys, &app_only(CONTOSO)))
            .expect(allow("app_only_exempt", "app_only", "api")),
    ]
}

pub fn policy_error_cases(keys: &Keys) -> Vec<Case> {
    let src = "issue 2: policies; fail closed";
    let token = rs256(keys, &app_user(CONTOSO, Some(&["mfa"])));
    let bad = |id: &str, desc: &str, policy: serde_json::Value, code: &str| {
        Case::new(id, src, desc)
            .policy(policy)
            .api("GET", API, &token)
            .error(code)
    };
    vec![
        bad("policy-unknown-builtin", "A built-in that does not exist", json!({"builtin": "partner-center-2018"}), "policy_unknown_builtin"),
        bad("policy-unknown-role", "A route naming a role that does not exist", pc_with("2020", json!({"routes": {"x": {"paths": ["/x/**"], "roles": ["janitor"]}}})), "policy_invalid"),
        bad("policy-unknown-field", "A misspelt setting is an error, not ignored", pc_with("2020", json!({"token": {"audience": ["x"]}})), "policy_invalid"),
        bad("policy-route-conflict", "Two routes for the same requests", pc_with("2020", json!({"routes": {"dup": {"paths": ["/commerce/**"]}}})), "policy_route_conflict"),
        bad("policy-bad-pattern", "** must end a pattern", pc_with("2020", json!({"routes": {"x": {"paths": ["/a/**/b"]}}})), "policy_invalid"),
        bad("policy-no-audience", "No audience: nothing could ever be valid", json!({"builtin": "partner-center", "overrides": {"token": {"audiences": []}}}), "policy_invalid"),
        bad("policy-accepts-unrecognized", "A route cannot accept unrecognized tokens", pc_with("2020", json!({"routes": {"api": {"kinds": ["unrecognized"]}}})), "policy_invalid"),
        bad("policy-format-2", "An unknown format version", pc_with("2020", json!({"format": 2})), "policy_invalid"),
        bad("policy-group-not-guid", "Group IDs are GUIDs", pc_with("2020", json!({"roles": {"groups": {"admin_agent": ["AdminAgents"]}}})), "policy_invalid"),
        Case::new("policy-route-disabled", "issue 2: overrides", "A deployment may switch off an inherited route")
            .policy(pc_with("2020", json!({"routes": {"api": {"enabled": false}}})))
            .api("GET", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd"]))))
            .expect(allow("mfa_not_required", "app_user", "default")),
        Case::new("policy-method-specific-route", "issue 2: routes with methods", "A route limited to POST is more specific than the API route")
            .policy(pc_with("2020", json!({"routes": {"orders": {"paths": ["/v1/**"], "methods": ["POST"], "mfa": false, "kinds": ["app_user"]}}})))
            .api("POST", API, &rs256(keys, &app_user(CONTOSO, Some(&["pwd"]))))
            .expect(allow("mfa_not_required", "app_user", "orders")),
        Case::new("policy-api-route-with-roles", "RFC 6750 §3.1 insufficient_scope", "A role refusal on an API-style route carries insufficient_scope")
            .policy(pc_with("2020", json!({"routes": {"admin_api": {"paths": ["/v1/admin/**"], "mfa": true, "kinds": ["app_user"], "roles": ["global_admin"]}}})))
            .api("GET", "/v1/admin/settings", &rs256(keys, &app_user(CONTOSO, Some(&["pwd", "mfa"]))))
            .expect(json!({"outcome": "deny", "reason": "role_not_permitted", "rule": "admin_api", "http": {"status": 403, "headers": [["WWW-Authenticate",
                "Bearer error=\"insufficient_scope\", error_description=\"Your roles do not allow access to this page or API.\""]]}})),
        Case::new("policy-host-specific-route", "issue 2: routes with hosts", "A route naming the host wins over one that does not")
            .policy(pc_with("2020", json!({"routes": {"partner_api": {"paths": ["/v1/**"], "hosts": ["api.partnercenter.microsoft.com"], "mfa": true, "kinds": ["app_user"], "challenge": "rfc9470"}}})))
            .request(json!({"method": "GET", "path": API, "host": "API.PartnerCenter.Microsoft.com:443", "authorization": format!("Bearer {}", rs256(keys, &app_user(CONTOSO, Some(&["pwd"])))), "now": NOW}))
            .expect(json!({"outcome": "step_up", "rule": "partner_api", "http": {"status": 401, "status_text": "Unauthorized"}})),
    ]
}
