//! Token kinds: every row of the decision table in docs/policy.md ("Token
//! kinds"), and app-only tokens in the shapes Entra really issues them
//! (issue 8, items 1 and 2).

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::json;

const API: &str = "/v1/customers";
/// Entra's access-token claims reference (`oid`: "the verified identity of
/// the user or service principal"; `idtyp`; `scp`: "only included for user
/// tokens"; `roles`), and its older text: "The sub and oid claims will be
/// the same" for app-only tokens.
const REF: &str =
    "https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference";
const SP_OID: &str = "0b0b0b0b-4444-4e5f-8a9b-000000000a99";

/// A client-credentials token for the Partner Center API from an app that
/// was granted no app roles, as Entra issues it (v1): `appid`, `appidacr`,
/// `idp` = `iss`, `oid` = `sub` (the service principal), opaque `aio`, `rh`,
/// `uti`; no `scp`, no `roles`, no `amr`, no `upn`, no `idtyp`.
fn pc_app_only_v1(tid: &str, appidacr: &str) -> C {
    C(Default::default())
        .with("aud", PC_AUD)
        .with("iss", format!("https://sts.windows.net/{tid}/"))
        .with("iat", NOW - 600)
        .with("nbf", NOW - 600)
        .with("exp", NOW + 3000)
        .with("aio", "E2ZgYGjQ7Ts/ov8lcvlPX3ZmxubFAA==")
        .with("appid", CLIENT_ID)
        .with("appidacr", appidacr)
        .with("idp", format!("https://sts.windows.net/{tid}/"))
        .with("oid", SP_OID)
        .with(
            "rh",
            "0.AQcAGl-E-DV7okC6eGSB3pH4rkZIf3kAutdPukPawfj2MBMHAAA.",
        )
        .with("sub", SP_OID)
        .with("tid", tid)
        .with("uti", "fqiBqXLPj0eQa82S-IYFAA")
        .with("ver", "1.0")
}

/// The same token from the v2 endpoint: `azp`/`azpacr` for `appid`/`appidacr`.
fn pc_app_only_v2(tid: &str, azpacr: &str) -> C {
    pc_app_only_v1(tid, azpacr)
        .without("appid")
        .without("appidacr")
        .without("idp")
        .with("azp", CLIENT_ID)
        .with("azpacr", azpacr)
        .with(
            "iss",
            format!("https://login.microsoftonline.com/{tid}/v2.0"),
        )
        .with("ver", "2.0")
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let t = |c: C| rs256(keys, &c);
    let app_only_ok = |evidence: &str| {
        and(
            allow("app_only_exempt", "app_only", "api"),
            json!({"kind_evidence": evidence, "mfa": {"required": false, "satisfied": false}}),
        )
    };
    let no_roles = "no scp, no roles, oid equals sub, no user claims";
    let unrecognized = |evidence: &str| {
        and(
            invalid("token_kind_unrecognized"),
            json!({"token_kind": "unrecognized", "kind_evidence": evidence}),
        )
    };
    // Row 5: a user token without scp: MFA is required, never exempt.
    let user_no_scp = |evidence: &str| {
        and(
            pc401("mfa_required", "app_user", "api"),
            json!({"kind_evidence": evidence, "mfa": {"required": true}}),
        )
    };
    // App-only in shape, with one user claim added (and the user's amr pwd).
    let with_user = |k: &str, v: serde_json::Value| {
        t(pc_app_only_v1(CONTOSO, "1")
            .with("roles", vec!["Partner.ReadWrite.All"])
            .with("amr", vec!["pwd"])
            .with(k, v))
    };
    let amr_only = t(pc_app_only_v1(CONTOSO, "1")
        .with("roles", vec!["Partner.ReadWrite.All"])
        .with("amr", vec!["pwd"]));
    vec![
        Case::new("kind-pc-app-only-v1-secret", REF, "A real-shape Partner Center app-only token (client secret, appidacr 1, no roles, no idtyp): app-only, no MFA")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1")))
            .expect(app_only_ok(no_roles)),
        Case::new("kind-pc-app-only-v1-certificate", REF, "The same with a client certificate (appidacr 2)")
            .api("POST", "/v1/customers/abc/orders", &t(pc_app_only_v1(CONTOSO, "2")))
            .expect(app_only_ok(no_roles)),
        Case::new("kind-pc-app-only-v2", REF, "The v2 shape (azp, azpacr): app-only")
            .api("GET", API, &t(pc_app_only_v2(CONTOSO, "2")))
            .expect(app_only_ok(no_roles)),
        Case::new("kind-managed-identity", "https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token", "A managed identity's token (appidacr 2, xms_mirid): app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "2").with("xms_mirid", "/subscriptions/x/resourcegroups/y/providers/Microsoft.Compute/virtualMachines/vm1").with("xms_az_rid", "/subscriptions/x")))
            .expect(app_only_ok(no_roles)),
        Case::new("kind-app-only-roles", REF, "App-only with app roles granted: app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("roles", vec!["Partner.ReadWrite.All"])))
            .expect(app_only_ok("roles without scp, oid equals sub")),
        Case::new("kind-app-only-on-a-page", "RFC 8725 §3.12", "An app-only token is never a page session")
            .request(json!({"method": "GET", "path": "/commerce/customers", "authorization": format!("Bearer {}", t(pc_app_only_v1(CONTOSO, "1"))), "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "token_kind_not_accepted", "token_kind": "app_only", "http": {"status": 401}})),
        // Row 1: idtyp = app.
        Case::new("kind-idtyp-app", "https://learn.microsoft.com/entra/identity-platform/optional-claims-reference (idtyp)", "idtyp app with appid: app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("idtyp", "app").without("sub")))
            .expect(app_only_ok("idtyp is \"app\"")),
        Case::new("kind-idtyp-app-agent", "https://learn.microsoft.com/entra/agent-id/identity-platform/agent-token-claims", "An agent's app-only token (idtyp app, appidacr 2, a sub of its own): app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "2").with("idtyp", "app").with("sub", "bbbbbbbb-1111-2222-3333-cccccccccccc").with("xms_act_fct", "3 9 11").with("xms_idrel", "7 10")))
            .expect(app_only_ok("idtyp is \"app\"")),
        Case::new("kind-idtyp-app-with-scp", REF, "idtyp app contradicts scp: unrecognised")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("idtyp", "app").with("scp", "user_impersonation")))
            .expect(unrecognized("idtyp is \"app\" but scp is present")),
        Case::new("kind-idtyp-app-without-app", REF, "idtyp app without appid/azp: unrecognised")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("idtyp", "app").without("appid")))
            .expect(unrecognized("idtyp is \"app\" but no appid/azp")),
        Case::new("kind-idtyp-app-with-upn", "issue 8 item 2", "idtyp app with a user claim (upn): unrecognised, never app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("idtyp", "app").with("upn", "eve@contoso.example")))
            .expect(unrecognized("idtyp is \"app\" but the token carries user claims")),
        // Row 2: another idtyp.
        Case::new("kind-idtyp-unknown", REF, "An idtyp neither app nor user: unrecognised")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("idtyp", "device")))
            .expect(unrecognized("idtyp has an unknown value")),
        // Row 3: scp.
        Case::new("kind-scp-with-idtyp-user", REF, "scp with idtyp user: App+User")
            .api("GET", API, &t(app_user(CONTOSO, Some(&["pwd"])).with("idtyp", "user")))
            .expect(and(pc401("mfa_required", "app_user", "api"), json!({"kind_evidence": "idtyp is \"user\""}))),
        // Row 4: no appid/azp.
        Case::new("kind-no-app-no-subject", REF, "No scp, no appid/azp and no subject: unrecognised")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").without("appid").without("oid").without("sub")))
            .expect(unrecognized("no scp, no appid/azp and no subject")),
        // Row 5: user tokens without scp (issue 8 item 2: the reverse must not pass).
        Case::new("kind-roles-with-upn", "issue 8 item 2", "roles without scp but upn: a user token, MFA required")
            .api("GET", API, &with_user("upn", json!("eve@contoso.example")))
            .expect(user_no_scp("no scp, but upn shows a user")),
        Case::new("kind-roles-with-unique-name", "issue 8 item 2", "roles without scp but unique_name: a user token")
            .api("GET", API, &with_user("unique_name", json!("eve@contoso.example")))
            .expect(user_no_scp("no scp, but unique_name shows a user")),
        Case::new("kind-roles-with-preferred-username", "issue 8 item 2", "roles without scp but preferred_username (v2): a user token")
            .api("GET", API, &t(pc_app_only_v2(CONTOSO, "0").with("roles", vec!["Partner.ReadWrite.All"]).with("preferred_username", "eve@contoso.example")))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"kind_evidence": "no scp, but preferred_username shows a user"}))),
        Case::new("kind-roles-with-amr", "issue 8 item 2", "roles without scp but amr: a user token")
            .api("GET", API, &amr_only)
            .expect(user_no_scp("no scp, but amr shows a user")),
        Case::new("kind-roles-with-name", "access-token claims reference: app-only tokens have no name", "roles without scp but name: a user token")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("roles", vec!["Partner.ReadWrite.All"]).with("name", "Eve")))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"kind_evidence": "no scp, but a user claim (name, given_name, family_name or email) shows a user"}))),
        Case::new("kind-roles-sub-differs", "issue 8 item 2", "roles without scp, sub different from oid: a user token")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("roles", vec!["Partner.ReadWrite.All"]).with("sub", "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA")))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"kind_evidence": "no scp, but sub differs from oid: a user"}))),
        Case::new("kind-roles-idtyp-user", "issue 8 item 2", "roles without scp, idtyp user: a user token")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("roles", vec!["Partner.ReadWrite.All"]).with("idtyp", "user")))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"kind_evidence": "idtyp is \"user\""}))),
        Case::new("kind-user-no-scp-with-mfa", "issue 8 item 2", "A user token without scp that proves MFA is allowed as a user, never as app-only")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("roles", vec!["Partner.ReadWrite.All"]).with("upn", "eve@contoso.example").with("amr", vec!["pwd", "mfa"])))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"kind_evidence": "no scp, but upn shows a user", "mfa": {"required": true, "satisfied": true}}))),
        // Row 7: nothing proves a kind.
        Case::new("kind-app-without-oid-sub", "issue 8 item 1: oid and sub both present and equal", "appid without scp, user claims or oid = sub: unrecognised")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").without("oid")))
            .expect(unrecognized("appid/azp without scp, and oid and sub are not both present and equal")),
        Case::new("kind-app-empty-oid-sub", "issue 8 item 1", "Empty oid and sub prove nothing")
            .api("GET", API, &t(pc_app_only_v1(CONTOSO, "1").with("oid", "").with("sub", "")))
            .expect(unrecognized("appid/azp without scp, and oid and sub are not both present and equal")),
    ]
}
