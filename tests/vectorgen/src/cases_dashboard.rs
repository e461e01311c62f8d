//! Dashboard pages: the seed's examples and the role tables (brief §8.1-5).

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const S19: &str = "seed 000 (2019), Tableau de bord espace partenaires";
const OVERVIEW: &str = "/dashboard/overview";
const CUSTOMERS: &str = "/commerce/customers/list";
const SUPPORT: &str = "/dashboard/support/csp/customers/requests";
const BILLING: &str = "/dashboard/billing/invoices";

/// (role name, groups, wids) for one role held alone.
const ROLES: [(&str, &str, &str); 6] = [
    ("admin_agent", G_ADMIN, ""),
    ("sales_agent", G_SALES, ""),
    ("helpdesk_agent", G_HELPDESK, ""),
    ("global_admin", "", WID_GLOBAL),
    ("billing_admin", "", WID_BILLING),
    ("security_admin", "", WID_SECURITY),
];

fn user(keys: &Keys, tid: &str, amr: Option<&[&str]>, role: &(&str, &str, &str)) -> String {
    let groups: Vec<&str> = [role.1].into_iter().filter(|s| !s.is_empty()).collect();
    let wids: Vec<&str> = [role.2].into_iter().filter(|s| !s.is_empty()).collect();
    rs256(keys, &id_token(tid, amr, &groups, &wids))
}

fn table(
    keys: &Keys,
    year: &str,
    pages: &[(&str, &str, &[&str])],
    roles: &[(&str, &str, &str)],
    source: &str,
) -> Vec<Case> {
    let mut out = Vec::new();
    for (rule, path, allowed) in pages {
        for role in roles {
            let t = user(keys, CONTOSO, Some(&["pwd", "mfa"]), role);
            let ok = allowed.contains(&role.0);
            let id = format!("dashboard-{year}-{rule}-{}", role.0);
            let desc = format!(
                "{year} role table: an MFA'd {} on {rule}: {}",
                role.0,
                if ok { "x, allowed" } else { "blank, 403" }
            );
            let expect = if ok {
                and(
                    allow("mfa_satisfied", "id_token", rule),
                    json!({"roles": [role.0], "mfa": {"required": true, "satisfied": true, "evidence": "amr"}}),
                )
            } else {
                and(
                    forbidden("role_not_permitted", "id_token", rule),
                    json!({"roles": [role.0]}),
                )
            };
            out.push(
                Case::new(&id, source, &desc)
                    .policy(pc(year))
                    .page(path, &t)
                    .expect(expect),
            );
        }
    }
    out
}

pub fn cases_2020(keys: &Keys) -> Vec<Case> {
    let mfa: &[&str] = &["pwd", "mfa"];
    let admin = &ROLES[0];
    let jane = user(keys, CONTOSO, Some(mfa), admin);
    let mut v = vec![
        Case::new("example1-overview", "seed 004, Example 1 step 2", "Jane (Contoso, Azure AD MFA, Admin agent) opens Overview: not protected")
            .page(OVERVIEW, &jane)
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"mfa": {"required": false, "satisfied": true}}))),
        Case::new("example1-customers", "seed 004, Example 1 step 4", "Jane already did MFA at sign-in: Customers opens without a new prompt")
            .page(CUSTOMERS, &jane)
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"roles": ["admin_agent"], "subject": {"tenant": CONTOSO, "object_id": USER_OID}}))),
        Case::new("example2-federated-relayed", "seed 004, Example 2", "Trent (Wingtip) did third-party MFA through federation; Entra relayed it, so amr has mfa")
            .policy(pc_of("2020", WINGTIP))
            .page(CUSTOMERS, &user(keys, WINGTIP, Some(&["fed", "mfa"]), admin))
            .expect(allow("mfa_satisfied", "id_token", "customers")),
        Case::new("example2-adfs-multipleauthn-accepted", "seed 000, Issue 7; brief §8.2", "A token carrying authnmethodsreferences=multipleauthn counts as MFA where the policy accepts federated MFA")
            .policy(pc_with("2020", json!({"mfa": {"accept_federated": true}, "token": {"partner_tenants": [WINGTIP]}})))
            .page(CUSTOMERS, &rs256(keys, &id_token(WINGTIP, Some(&["fed"]), &[G_ADMIN], &[]).with(FED_CLAIM, FED_MFA)))
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"mfa": {"evidence": "federated"}}))),
        Case::new("example2-adfs-multipleauthn-as-array", "brief §6, federated MFA", "The federated claim may be an array")
            .policy(pc_with("2020", json!({"mfa": {"accept_federated": true}, "token": {"partner_tenants": [WINGTIP]}})))
            .page(CUSTOMERS, &rs256(keys, &id_token(WINGTIP, None, &[G_ADMIN], &[]).with(FED_CLAIM, vec!["http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password", FED_MFA])))
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"mfa": {"evidence": "federated", "amr": null}}))),
        Case::new("example2-adfs-multipleauthn-not-accepted", "seed 004, Partner Center API (checks amr only)", "Partner Center itself only reads amr: without accept_federated the federated claim is not MFA")
            .policy(pc_of("2020", WINGTIP))
            .page(CUSTOMERS, &rs256(keys, &id_token(WINGTIP, Some(&["fed"]), &[G_ADMIN], &[]).with(FED_CLAIM, FED_MFA)))
            .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
        Case::new("example3-overview", "seed 004, Example 3 step 3", "John (Fabrikam, no MFA) opens Overview: allowed")
            .policy(pc_of("2020", FABRIKAM))
            .page(OVERVIEW, &user(keys, FABRIKAM, Some(&["pwd"]), admin))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"mfa": {"required": false, "satisfied": false, "amr": ["pwd"]}}))),
        Case::new("example3-customers-register-first", "seed 004, Example 3 step 4", "First time: John is sent to Azure AD to register an MFA method, then verify")
            .policy(pc_of("2020", FABRIKAM))
            .page(CUSTOMERS, &user(keys, FABRIKAM, Some(&["pwd"]), admin))
            .set("mfa_registered", false)
            .expect(and(redirect("mfa_required", "customers", CUSTOMERS, true), json!({"token_kind": "id_token", "mfa": {"required": true, "satisfied": false}}))),
        Case::new("example3-customers-verify-only", "seed 004, Example 3 step 6", "Another day, John has registered: only verification is asked")
            .policy(pc_of("2020", FABRIKAM))
            .page(CUSTOMERS, &user(keys, FABRIKAM, Some(&["pwd"]), admin))
            .set("mfa_registered", true)
            .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
        Case::new("example3-customers-unknown-registration", "seed 004, Example 3", "The caller does not know: verification is asked, registration is left to Entra")
            .policy(pc_of("2020", FABRIKAM))
            .page(CUSTOMERS, &user(keys, FABRIKAM, Some(&["pwd"]), admin))
            .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
        Case::new("example3-messages", "brief §8.13", "The step-up message exists in English, French and Brazilian Portuguese")
            .policy(pc_of("2020", FABRIKAM))
            .page(CUSTOMERS, &user(keys, FABRIKAM, Some(&["pwd"]), admin))
            .set("mfa_registered", false)
            .expect(json!({"message": {
                "en": "Multi-factor authentication is required. Register an MFA method first, then complete MFA verification.",
                "fr": "L’authentification multifacteur est requise. Inscrivez d’abord une méthode MFA, puis effectuez la vérification MFA.",
                "pt-BR": "A autenticação multifator é obrigatória. Registre primeiro um método de MFA e depois conclua a verificação de MFA."}})),
        Case::new("dashboard-no-partner-role-overview", "brief §8.4", "A user with no partner role may open Overview")
            .page(OVERVIEW, &user(keys, CONTOSO, Some(mfa), &("none", "", "")))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"roles": []}))),
    ];
    for (rule, path) in [
        ("customers", CUSTOMERS),
        ("customer_requests", SUPPORT),
        ("billing", BILLING),
    ] {
        v.push(
            Case::new(
                &format!("dashboard-no-partner-role-{rule}"),
                "brief §8.4",
                "No partner role: refused (403) without being asked for MFA",
            )
            .page(
                path,
                &user(keys, CONTOSO, Some(&["pwd"]), &("none", "", "")),
            )
            .expect(and(
                forbidden("role_not_permitted", "id_token", rule),
                json!({"roles": [], "redirect": null}),
            )),
        );
    }
    let both = rs256(
        keys,
        &id_token(CONTOSO, Some(mfa), &[G_SALES], &[WID_BILLING]),
    );
    v.extend([
        Case::new("dashboard-union-customers", "brief §8.4", "Sales agent + Billing admin: the union of rights opens Customers")
            .page(CUSTOMERS, &both)
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"roles": ["sales_agent", "billing_admin"]}))),
        Case::new("dashboard-union-billing", "brief §8.4", "Sales agent + Billing admin opens Billing")
            .page(BILLING, &both)
            .expect(allow("mfa_satisfied", "id_token", "billing")),
        Case::new("dashboard-union-support", "brief §8.4", "Neither Sales agent nor Billing admin may open Support > Customer requests in 2020")
            .page(SUPPORT, &both)
            .expect(forbidden("role_not_permitted", "id_token", "customer_requests")),
        Case::new("dashboard-role-before-mfa", "brief §2", "A non-MFA'd user without a permitted role gets 403, not an MFA prompt")
            .page(BILLING, &user(keys, CONTOSO, Some(&["pwd"]), &ROLES[1]))
            .expect(forbidden("role_not_permitted", "id_token", "billing")),
        Case::new("dashboard-support-2023-url", "brief §2 [later] URL shapes", "The 2023 URL shape of Support > Customer requests is protected too")
            .page("/dashboard/v2/support/customers/123", &user(keys, CONTOSO, Some(&["pwd"]), &ROLES[2]))
            .expect(redirect("mfa_required", "customer_requests", "/dashboard/v2/support/customers/123", false)),
        Case::new("dashboard-customers-root", "brief §2 [later] URL shapes", "/commerce itself is under Customers")
            .page("/commerce", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(redirect("mfa_required", "customers", "/commerce", false)),
        Case::new("dashboard-case-evasion", "RFC 3986 §6.2.2; fail closed", "Upper case does not escape the Customers rule")
            .page("/Commerce/Customers", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(redirect("mfa_required", "customers", "/Commerce/Customers", false)),
        Case::new("dashboard-dot-segment-refused", "fail closed: frameworks route on the literal path, RFC 3986 §5.2.4 would resolve it", "A path with .. is refused (400): resolving it could decide for another page than the app serves")
            .page("/commerce/../dashboard/overview", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("dashboard-escaped-dot-segment-refused", "fail closed", "An escaped .. (%2e%2e) is refused too")
            .page("/commerce/%2e%2e/dashboard", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("dashboard-percent-evasion", "RFC 3986 §2.1; fail closed", "Percent-escaped letters are decoded before matching")
            .page("/%63ommerce/x", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "rule": "customers"})),
        Case::new("dashboard-path-parameter-evasion", "fail closed: servers that honour ;params would serve Customers", "A ;jsessionid path parameter does not escape the Customers rule")
            .page("/commerce;jsessionid=abc/customers", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "rule": "customers"})),
        Case::new("dashboard-backslash-evasion", "fail closed: some servers take \\ as /", "Backslashes are separators too")
            .page("/commerce\\customers", &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"outcome": "step_up", "reason": "mfa_required", "rule": "customers"})),
        Case::new("dashboard-encoded-slash-refused", "RFC 3986 §2.2; fail closed", "An escaped slash is refused (400) rather than guessed")
            .page("/commerce%2Fcustomers", &user(keys, CONTOSO, Some(&["pwd", "mfa"]), admin))
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "rule": null, "http": {"status": 400}})),
        Case::new("dashboard-no-session", "RFC 6750 §3; brief §8.12", "A page without a session: sent to sign in")
            .request(json!({"method": "GET", "path": CUSTOMERS, "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "no_credential", "rule": "customers", "token_kind": null,
                "http": {"status": 302, "headers": [["Location", format!("/.auth/login/aad?return_to={CUSTOMERS}")]]},
                "redirect": {"register_first": false}})),
        Case::new("dashboard-app-only-refused", "RFC 8725 §3.12; issue 8 item 11", "An app-only token is not a user session: refused on a page, and the browser is sent to sign in")
            .page(CUSTOMERS, &rs256(keys, &app_only(CONTOSO)))
            .expect(json!({"outcome": "deny", "reason": "token_kind_not_accepted", "token_kind": "app_only",
                "http": {"status": 302, "headers": [["Location", format!("/.auth/login/aad?return_to={CUSTOMERS}")]]}})),
        Case::new("dashboard-app-role-mapping", "brief §8.4; roles from app roles", "A deployment may map an app role to Admin agent")
            .policy(pc_with("2020", json!({"roles": {"app_roles": {"admin_agent": ["AdminAgent"]}}})))
            .page(CUSTOMERS, &rs256(keys, &id_token(CONTOSO, Some(mfa), &[], &[]).with("roles", vec!["AdminAgent"])))
            .expect(and(allow("mfa_satisfied", "id_token", "customers"), json!({"roles": ["admin_agent"]}))),
        Case::new("dashboard-group-ids-ignore-case", "brief §6, groups", "Group object IDs compare without case")
            .page(CUSTOMERS, &rs256(keys, &id_token(CONTOSO, Some(mfa), &[&G_ADMIN.to_uppercase()], &[])))
            .expect(allow("mfa_satisfied", "id_token", "customers")),
        Case::new("dashboard-billing-remapped", "brief §2: built-in policies let users re-map paths", "A deployment moves Billing to /billing/**")
            .policy(pc_with("2020", json!({"routes": {"billing": {"paths": ["/billing/**"]}}})))
            .page("/billing/x", &user(keys, CONTOSO, Some(&["pwd"]), &ROLES[4]))
            .expect(redirect("mfa_required", "billing", "/billing/x", false)),
        Case::new("dashboard-redirect-sign-in-url", "brief §8.12", "A sign-in URL with a query gets the MFA parameters appended with &")
            .policy(pc_with("2020", json!({"mfa": {"sign_in_url": "https://app.example/login?tenant=contoso"}})))
            .page(CUSTOMERS, &user(keys, CONTOSO, Some(&["pwd"]), admin))
            .expect(json!({"http": {"status": 302, "headers": [["Location", "https://app.example/login?tenant=contoso&prompt=login&amr_values=mfa&return_to=/commerce/customers/list"]]},
                "redirect": {"params": [["prompt", "login"], ["amr_values", "mfa"], ["return_to", CUSTOMERS]]}})),
    ]);
    let pages: &[(&str, &str, &[&str])] = &[
        (
            "customers",
            CUSTOMERS,
            &["admin_agent", "sales_agent", "helpdesk_agent"],
        ),
        (
            "customer_requests",
            SUPPORT,
            &["admin_agent", "helpdesk_agent"],
        ),
        (
            "billing",
            BILLING,
            &["admin_agent", "global_admin", "billing_admin"],
        ),
    ];
    v.extend(table(
        keys,
        "2020",
        pages,
        &ROLES[..5],
        "seed 004, table of MFA-protected pages",
    ));
    v
}

pub fn cases_2019(keys: &Keys) -> Vec<Case> {
    let pages: &[(&str, &str, &[&str])] = &[
        (
            "customers",
            CUSTOMERS,
            &["admin_agent", "sales_agent", "helpdesk_agent"],
        ),
        (
            "customer_requests",
            SUPPORT,
            &["admin_agent", "sales_agent", "helpdesk_agent"],
        ),
    ];
    let mut v = table(keys, "2019", pages, &ROLES[..5], S19);
    for role in [&ROLES[3], &ROLES[4]] {
        for amr in [&["pwd", "mfa"][..], &["pwd"][..]] {
            let mfa = amr.contains(&"mfa");
            v.push(
                Case::new(
                    &format!(
                        "dashboard-2019-billing-unprotected-{}-{}",
                        role.0,
                        if mfa { "mfa" } else { "nomfa" }
                    ),
                    S19,
                    "2019 rules: Billing is not an MFA-protected page",
                )
                .policy(pc("2019"))
                .page(BILLING, &user(keys, CONTOSO, Some(amr), role))
                .expect(allow("mfa_not_required", "id_token", "default")),
            );
        }
    }
    v.push(
        Case::new(
            "dashboard-2019-admin-agent-no-mfa",
            S19,
            "2019 Example 3: no MFA on Customers: step-up",
        )
        .policy(pc_of("2019", FABRIKAM))
        .page(CUSTOMERS, &user(keys, FABRIKAM, Some(&["pwd"]), &ROLES[0]))
        .expect(redirect("mfa_required", "customers", CUSTOMERS, false)),
    );
    v
}

pub fn cases_2025(keys: &Keys) -> Vec<Case> {
    let src = "brief §1 [later] 2025 text";
    let mfa: &[&str] = &["pwd", "mfa"];
    vec![
        Case::new(
            "dashboard-2025-billing-security-admin",
            src,
            "2025: Security administrator replaces Global administrator on Billing",
        )
        .policy(pc("2025"))
        .page(BILLING, &user(keys, CONTOSO, Some(mfa), &ROLES[5]))
        .expect(allow("mfa_satisfied", "id_token", "billing")),
        Case::new(
            "dashboard-2025-billing-global-admin",
            src,
            "2025: Global administrator is no longer listed for Billing",
        )
        .policy(pc("2025"))
        .page(BILLING, &user(keys, CONTOSO, Some(mfa), &ROLES[3]))
        .expect(forbidden("role_not_permitted", "id_token", "billing")),
        Case::new(
            "dashboard-2025-billing-admin-agent",
            src,
            "2025: Admin agent still opens Billing",
        )
        .policy(pc("2025"))
        .page(BILLING, &user(keys, CONTOSO, Some(mfa), &ROLES[0]))
        .expect(allow("mfa_satisfied", "id_token", "billing")),
        Case::new(
            "dashboard-2020-billing-security-admin",
            "seed 004 table",
            "2020: Security administrator is not listed for Billing",
        )
        .page(BILLING, &user(keys, CONTOSO, Some(mfa), &ROLES[5]))
        .expect(forbidden("role_not_permitted", "id_token", "billing")),
    ]
}
