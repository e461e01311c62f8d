//! Paths and methods as real routers read them (issue 8, items 7, 8 and 10,
//! and public routes): normalisation never moves a request into a
//! less-protective rule, HEAD is governed by GET routes, OPTIONS never falls
//! through, and a sign-in redirect never points off-site.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::{json, Value};

const S7: &str =
    "issue 8 item 7: Starlette, Express (caseSensitive) and Fastify route on the raw path";
const S8: &str = "issue 8 item 8; RFC 9110 §9.3.2 (HEAD), §9.3.7 (OPTIONS)";
const S10: &str = "issue 8 item 10: return_to must never be protocol-relative";
const SP: &str = "issue 8: public paths";
const SF: &str = "issue 11, fuzzing: RFC 3986 §3.3-§3.5 (? and # end the path, ; starts parameters); nginx proxy_pass with a URI part sends the decoded path";

fn public_orders() -> Value {
    pc_with(
        "2020",
        json!({"routes": {"public_orders": {
        "paths": ["/v1/public/**"], "mfa": false, "kinds": ["app_user", "app_only", "delegated_admin"]}}}),
    )
}

fn reports(extra: Value) -> Value {
    let mut routes = json!({"reports": {"paths": ["/reports/**"], "methods": ["GET"], "mfa": true, "kinds": ["app_user", "id_token"], "challenge": "partner_center"}});
    if let (Some(r), Value::Object(e)) = (routes.as_object_mut(), extra) {
        r.extend(e);
    }
    pc_with("2020", json!({"routes": routes}))
}

fn health() -> Value {
    pc_with(
        "2020",
        json!({"routes": {"health": {"paths": ["/healthz", "/openapi.json"], "public": true}}}),
    )
}

fn no_credential(rule: &str) -> Value {
    json!({"outcome": "deny", "reason": "no_credential", "rule": rule, "http": {"status": 401, "headers": [["WWW-Authenticate", "Bearer"]]}})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let pwd = rs256(keys, &app_user(CONTOSO, Some(&["pwd"])));
    let mfa = rs256(keys, &app_user(CONTOSO, Some(&["pwd", "mfa"])));
    let agent_pwd = rs256(keys, &id_token(CONTOSO, Some(&["pwd"]), &[G_ADMIN], &[]));
    let mut v = vec![Case::new(
        "path-public-literal",
        S7,
        "The public route itself: no MFA needed",
    )
    .policy(public_orders())
    .api("GET", "/v1/public/orders", &pwd)
    .expect(allow("mfa_not_required", "app_user", "public_orders"))];
    for (id, path) in [
        ("case", "/v1/PUBLIC/orders"),
        ("param", "/v1/public;x/orders"),
        ("backslash", "/v1/public\\x/orders"),
        ("escape", "/v1/%70ublic/orders"),
        ("double-slash", "/v1//public/orders"),
    ] {
        v.push(
            Case::new(&format!("path-public-evasion-{id}"), S7, &format!("{path} reaches /v1/{{id}}/orders on a router that does not normalise: the stricter API rule applies"))
                .policy(public_orders())
                .api("GET", path, &pwd)
                .expect(pc401("mfa_required", "app_user", "api")),
        );
    }
    v.extend([
        Case::new("path-public-evasion-with-mfa", S7, "With MFA, every reading of the path is allowed")
            .policy(public_orders())
            .api("GET", "/v1/PUBLIC/orders", &mfa)
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("path-uppercase-id-is-plain", S7, "An upper-case segment under one rule selects that rule either way")
            .api("GET", "/v1/customers/ABC-123/orders", &pwd)
            .expect(pc401("mfa_required", "app_user", "api")),
        // Methods.
        Case::new("method-head-governed-by-get", S8, "A route limited to GET also governs HEAD")
            .policy(reports(json!({})))
            .api("HEAD", "/reports/monthly", &pwd)
            .expect(pc401("mfa_required", "app_user", "reports")),
        Case::new("method-get", S8, "GET itself")
            .policy(reports(json!({})))
            .api("GET", "/reports/monthly", &pwd)
            .expect(pc401("mfa_required", "app_user", "reports")),
        Case::new("method-not-listed-falls-through", S8, "A method the route does not list (POST) falls to the next rule: documented")
            .policy(reports(json!({})))
            .api("POST", "/reports/monthly", &pwd)
            .expect(allow("mfa_not_required", "app_user", "default")),
        Case::new("method-options-governed", S8, "OPTIONS is governed by every route on its path: never a silent fall-through")
            .policy(reports(json!({})))
            .api("OPTIONS", "/reports/monthly", &pwd)
            .expect(pc401("mfa_required", "app_user", "reports")),
        Case::new("method-options-preflight-refused", S8, "A CORS preflight carries no credential: refused unless a public route lists OPTIONS")
            .policy(reports(json!({})))
            .request(json!({"method": "OPTIONS", "path": "/reports/monthly", "now": NOW}))
            .expect(no_credential("reports")),
        Case::new("method-options-preflight-public", S8, "A route listing OPTIONS with public = true answers preflights")
            .policy(reports(json!({"reports_preflight": {"paths": ["/reports/**"], "methods": ["OPTIONS"], "public": true}})))
            .request(json!({"method": "OPTIONS", "path": "/reports/monthly", "now": NOW}))
            .expect(json!({"outcome": "allow", "reason": "public_route", "rule": "reports_preflight", "token_kind": null, "http": {"status": 200}})),
        Case::new("method-options-preflight-public-get-still-protected", S8, "That route does not open GET")
            .policy(reports(json!({"reports_preflight": {"paths": ["/reports/**"], "methods": ["OPTIONS"], "public": true}})))
            .api("GET", "/reports/monthly", &pwd)
            .expect(pc401("mfa_required", "app_user", "reports")),
        // Public routes.
        Case::new("public-health-check", SP, "A public route needs no credential")
            .policy(health())
            .request(json!({"method": "GET", "path": "/healthz", "now": NOW}))
            .expect(json!({"outcome": "allow", "reason": "public_route", "rule": "health", "token_kind": null, "subject": null, "http": {"status": 200, "headers": []}})),
        Case::new("public-ignores-credentials", SP, "A public route does not read the credential (even a broken one)")
            .policy(health())
            .api("GET", "/openapi.json", "not-a-token")
            .expect(json!({"outcome": "allow", "reason": "public_route", "rule": "health"})),
        Case::new("public-not-widened-by-case", "issue 8 items 7 and public paths", "/HEALTHZ may be another page on a case-sensitive router: a credential is needed")
            .policy(health())
            .request(json!({"method": "GET", "path": "/HEALTHZ", "now": NOW}))
            .expect(no_credential("default")),
        Case::new("public-not-widened-by-params", "issue 8 items 7 and public paths", "/healthz;x: a credential is needed")
            .policy(health())
            .request(json!({"method": "GET", "path": "/healthz;x", "now": NOW}))
            .expect(no_credential("default")),
        Case::new("public-with-mfa-refused", SP, "A public route cannot also ask for MFA")
            .policy(pc_with("2020", json!({"routes": {"health": {"paths": ["/healthz"], "public": true, "mfa": true}}})))
            .request(json!({"method": "GET", "path": "/healthz", "now": NOW}))
            .error("policy_invalid"),
        Case::new("public-default-refused", SP, "The default rule cannot be public")
            .policy(pc_with("2020", json!({"default": {"public": true}})))
            .request(json!({"method": "GET", "path": "/healthz", "now": NOW}))
            .error("policy_invalid"),
        // Found by fuzzing (fuzz/ target `path`): a proxy that decodes the
        // path before splitting it reads an escaped `?` or `#` as its end.
        Case::new("path-escaped-question-mark", SF, "/commerce%3Fcustomers reaches the app as /commerce (?customers) behind a decoding proxy: refused (400), never the default rule")
            .page("/commerce%3Fcustomers", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("path-escaped-hash", SF, "/commerce%23x: an escaped # ends the path for a decoding proxy: refused (400)")
            .page("/commerce%23x", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("path-escaped-question-mark-lower", SF, "The same in lower-case hex (%3f)")
            .page("/dashboard/billing%3f/x", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("path-escaped-semicolon", SF, "/dashboard/billing%3b/x: a proxy that decodes before it drops ;params reads /dashboard/billing/x (Billing): refused (400), never the default rule")
            .page("/dashboard/billing%3b/x", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new("path-escaped-separator-in-params", SF, "/;U%2F%5ccommerce/customers: the ;params hide an escaped / and \\ that a decoding proxy turns into /;U/\\commerce/customers (Customers): refused (400)")
            .page("/;U%2F%5ccommerce/customers", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        // Found by fuzzing: a raw `#` never reaches a server from a client
        // (RFC 9112 §3.2: no fragment in a request-target), but a router
        // that keeps it and drops `;params` reads this as /commerce/customers.
        Case::new("path-raw-hash", SF, "/;p#/commerce/customers: a raw # in a request-target is refused (400), never read as a fragment")
            .page("/;p#/commerce/customers", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        // Found by fuzzing: `;params` end at the next `/` for a router that
        // keeps `\` (and collapses `//`), at the next `\` for one that splits on it.
        Case::new("path-params-span-backslash", SF, "/;\\x/commerce/customers is /commerce/customers to a router that keeps \\ and drops ;params, /x/commerce/customers to one that splits on \\: refused (400)")
            .page("/;\\x/commerce/customers", &agent_pwd)
            .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        // Redirects.
        Case::new("redirect-never-protocol-relative", S10, "//commerce;.evil.example/x matches Customers; return_to is /commerce/x, never //…")
            .page("//commerce;.evil.example/x", &agent_pwd)
            .expect(redirect("mfa_required", "customers", "/commerce/x", false)),
        Case::new("redirect-backslash", S10, "/commerce\\evil.example: return_to is /commerce/evil.example, never /\\…")
            .page("/commerce\\evil.example", &agent_pwd)
            .expect(redirect("mfa_required", "customers", "/commerce/evil.example", false)),
        Case::new("redirect-no-credential-normalised", S10, "Sign-in redirect without a session: return_to normalised too")
            .request(json!({"method": "GET", "path": "//commerce//customers", "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "no_credential", "rule": "customers",
                "http": {"status": 302, "headers": [["Location", "/.auth/login/aad?return_to=/commerce/customers"]]}})),
        Case::new("redirect-keeps-query", S10, "The query string comes back too, encoded")
            .request(json!({"method": "GET", "path": "/commerce/customers?tab=1&q=//x", "now": NOW}))
            .expect(json!({"http": {"status": 302, "headers": [["Location", "/.auth/login/aad?return_to=/commerce/customers%3Ftab%3D1%26q%3D//x"]]}})),
    ]);
    v
}
