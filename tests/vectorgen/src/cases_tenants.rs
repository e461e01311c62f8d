//! Roles only from the partner's own tenant (issue 8, item 5): `wids`
//! template IDs are the same in every tenant, and another tenant's groups
//! may reuse a configured object ID.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const SRC: &str =
    "issue 8 item 5; brief §9: roles in wids are template IDs, the same in every tenant";
const CUSTOMERS: &str = "/commerce/customers";
const BILLING: &str = "/dashboard/billing";
const OVERVIEW: &str = "/dashboard/overview";
/// The Microsoft account tenant, named by a guest's idp.
const MSA: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

pub fn cases(keys: &Keys) -> Vec<Case> {
    let mfa: &[&str] = &["pwd", "mfa"];
    let t = |c: C| rs256(keys, &c);
    let none_configured = json!({"builtin": "partner-center-2020", "overrides": {
        "token": {"audiences": [PC_AUD, CLIENT_ID]},
        "roles": {"groups": {"admin_agent": [G_ADMIN]}}}});
    let delegated_route = pc_with(
        "2020",
        json!({"routes": {"partner_admin": {
        "paths": ["/partner-admin/**"], "mfa": true, "kinds": ["app_user", "delegated_admin"], "roles": ["global_admin"]}}}),
    );
    vec![
        Case::new("tenant-foreign-global-admin-billing", SRC, "A Global Administrator of another tenant does not open Billing")
            .page(BILLING, &t(id_token(FABRIKAM, Some(mfa), &[], &[WID_GLOBAL])))
            .expect(and(forbidden("role_not_permitted", "id_token", "billing"), json!({"roles": []}))),
        Case::new("tenant-partner-global-admin-billing", SRC, "The partner tenant's own Global Administrator does")
            .page(BILLING, &t(id_token(CONTOSO, Some(mfa), &[], &[WID_GLOBAL])))
            .expect(and(allow("mfa_satisfied", "id_token", "billing"), json!({"roles": ["global_admin"]}))),
        Case::new("tenant-foreign-group-id", SRC, "Another tenant's token whose groups contain the configured AdminAgents object ID gets no agent role")
            .page(CUSTOMERS, &t(id_token(FABRIKAM, Some(mfa), &[G_ADMIN], &[])))
            .expect(and(forbidden("role_not_permitted", "id_token", "customers"), json!({"roles": []}))),
        Case::new("tenant-foreign-app-role", SRC, "Nor does another tenant's app role")
            .policy(pc_with("2020", json!({"roles": {"app_roles": {"admin_agent": ["AdminAgent"]}}})))
            .page(CUSTOMERS, &t(id_token(FABRIKAM, Some(mfa), &[], &[]).with("roles", vec!["AdminAgent"])))
            .expect(forbidden("role_not_permitted", "id_token", "customers")),
        Case::new("tenant-foreign-token-unprotected-page", SRC, "Pages that need no role stay open to signed-in users of any accepted tenant")
            .page(OVERVIEW, &t(id_token(FABRIKAM, Some(mfa), &[G_ADMIN], &[WID_GLOBAL])))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"roles": []}))),
        Case::new("tenant-delegated-admin-roles-never-count", "issue 8 item 5: delegated-admin tokens carry the customer's roles", "A partner user's token from a customer tenant where they are Global Administrator opens no partner page")
            .policy(delegated_route.clone())
            .api("GET", "/partner-admin/settings", &t(delegated(CUSTOMER, CONTOSO, Some(mfa)).with("wids", vec![WID_GLOBAL])))
            .expect(json!({"outcome": "deny", "reason": "role_not_permitted", "token_kind": "delegated_admin", "roles": [], "http": {"status": 403}})),
        Case::new("tenant-delegated-admin-even-if-listed", "issue 8 item 5", "Even when the customer tenant is also listed as a partner tenant")
            .policy(pc_with("2020", json!({"token": {"partner_tenants": [CONTOSO, CUSTOMER]}, "routes": {"partner_admin": {
                "paths": ["/partner-admin/**"], "mfa": true, "kinds": ["app_user", "delegated_admin"], "roles": ["global_admin"]}}})))
            .api("GET", "/partner-admin/settings", &t(delegated(CUSTOMER, CONTOSO, Some(mfa)).with("wids", vec![WID_GLOBAL])))
            .expect(json!({"outcome": "deny", "reason": "role_not_permitted", "token_kind": "delegated_admin", "roles": []})),
        Case::new("tenant-partner-admin-route-control", "issue 8 item 5", "The same route opens for the partner tenant's own Global Administrator")
            .policy(delegated_route)
            .api("GET", "/partner-admin/settings", &t(app_user(CONTOSO, Some(mfa)).with("wids", vec![WID_GLOBAL])))
            .expect(and(allow("mfa_satisfied", "app_user", "partner_admin"), json!({"roles": ["global_admin"]}))),
        Case::new("tenant-guest-in-partner-tenant", "brief §1: MFA applies to all user accounts of the partner tenant, guests included", "A guest of the partner tenant (idp: a personal account) gets the partner tenant's roles")
            .page(CUSTOMERS, &t(id_token(CONTOSO, Some(mfa), &[G_ADMIN], &[]).with("idp", format!("https://sts.windows.net/{MSA}/"))))
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"roles": ["admin_agent"]}))),
        Case::new("tenant-partner-not-configured", "issue 8 item 5: the partner tenant is required configuration", "A role-gated page with no partner tenant configured refuses, saying what to configure")
            .policy(none_configured.clone())
            .page(CUSTOMERS, &t(id_token(CONTOSO, Some(mfa), &[G_ADMIN], &[])))
            .expect(json!({"outcome": "deny", "reason": "partner_tenant_not_configured", "rule": "customers", "token_kind": "id_token", "roles": [],
                "http": {"status": 500, "status_text": "Internal Server Error", "headers": []},
                "detail": "customers needs roles, but token.partner_tenants is empty: roles are read only from your partner tenant's tokens; set token.partner_tenants to your partner tenant ID"})),
        Case::new("tenant-partner-not-configured-api", "issue 8 item 5", "Routes without roles work without a partner tenant")
            .policy(none_configured.clone())
            .api("GET", "/v1/customers", &t(app_user(CONTOSO, Some(mfa))))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("tenant-partner-not-configured-overview", "issue 8 item 5", "Pages without roles work without a partner tenant")
            .policy(none_configured)
            .page(OVERVIEW, &t(id_token(CONTOSO, Some(mfa), &[G_ADMIN], &[])))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"roles": []}))),
    ]
}
