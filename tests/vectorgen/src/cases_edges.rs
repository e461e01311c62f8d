//! The request as the application's router reads it (issue 18): the host it
//! routes on, Unicode case folds, trailing dots and spaces, `..;`, control
//! characters, and queries that never reach a refusal's detail. Each case
//! names the router whose reading it pins.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::{json, Value};

const SH: &str = "issue 18.1: Express req.hostname and Caddy cut at the first ':', Go net.SplitHostPort (Traefik) at the last; RFC 9110 §7.2";
const SU: &str = "issue 18.10: ASP.NET Core routes with OrdinalIgnoreCase (invariant upper case: ſ is S, ı is I); Java equalsIgnoreCase also folds K (U+212A) and İ";
const SI: &str = "issue 18.10: IIS strips trailing dots and spaces from path segments";
const ST: &str = "issue 18.10: Tomcat drops ;params before resolving dot segments (..;/)";
const SC: &str =
    "issue 18.9: RFC 9112 §3.2 and RFC 3986 §3.3 admit no control character in a request-target";
const SQ: &str = "issue 18.8: docs/serve.md, logs never carry the query string";

/// The 2020 rules plus a whole admin site that needs MFA, by host.
fn admin_site() -> Value {
    pc_with(
        "2020",
        json!({"routes": {"admin_site": {"paths": ["/**"], "hosts": ["admin.contoso.example"],
            "mfa": true, "kinds": ["app_user", "id_token"]}}}),
    )
}

fn refused_400() -> Value {
    json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})
}

fn on_host(host: &str, token: &str) -> Value {
    json!({"method": "GET", "path": "/dashboard/servicehealth", "host": host,
           "authorization": format!("Bearer {token}"), "now": NOW})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let pwd = rs256(keys, &app_user(CONTOSO, Some(&["pwd"])));
    let agent_pwd = rs256(keys, &id_token(CONTOSO, Some(&["pwd"]), &[G_ADMIN], &[]));
    let step_up = json!({"outcome": "step_up", "reason": "mfa_required", "rule": "admin_site"});
    let mut v = Vec::new();
    for (id, host, why) in [
        ("plain", "admin.contoso.example", "the admin host itself"),
        ("port", "admin.contoso.example:8443", "a numeric port"),
        (
            "junk-port",
            "admin.contoso.example:x",
            "a port that is not a number: Express and Caddy route on admin.contoso.example",
        ),
        (
            "empty-port-after-port",
            "admin.contoso.example:443:",
            "two colons: Express routes on the name before the first",
        ),
        (
            "two-ports",
            "admin.contoso.example:443:443",
            "two ports: the name before the first colon is the admin host",
        ),
        (
            "trailing-dot",
            "admin.contoso.example.",
            "a fully qualified name: routers that drop the dot see the admin host",
        ),
        (
            "upper-case-dot-port",
            "ADMIN.Contoso.Example.:443",
            "case, trailing dot and port at once",
        ),
        (
            "forwarded-list-last",
            "www.contoso.example, admin.contoso.example",
            "an X-Forwarded-Host list: ProxyFix-style readers take the last value",
        ),
        (
            "forwarded-list-first",
            "admin.contoso.example, www.contoso.example",
            "an X-Forwarded-Host list: Express takes the first value",
        ),
        (
            "ipv6-junk",
            "[::1]x, admin.contoso.example",
            "an IP-literal with junk after it, in a list",
        ),
    ] {
        v.push(
            Case::new(
                &format!("host-{id}"),
                SH,
                &format!(
                    "Host {host:?} ({why}): decided under the admin site's rule, MFA required"
                ),
            )
            .policy(admin_site())
            .request(on_host(host, &pwd))
            .expect(step_up.clone()),
        );
    }
    for (id, host) in [
        ("other-host-port", "www.contoso.example:8080"),
        ("ipv6-port", "[::1]:8080"),
        ("prefix-host", "admin.contoso.example.evil.example"),
    ] {
        v.push(
            Case::new(&format!("host-{id}"), SH, &format!("Host {host:?} is not the admin host under any reading: the default rule, no false refusal"))
                .policy(admin_site())
                .request(on_host(host, &pwd))
                .expect(allow("mfa_not_required", "app_user", "default")),
        );
    }
    for (id, host, why) in [
        ("userinfo", "x@admin.contoso.example", "'@' belongs to no host"),
        ("slash", "admin.contoso.example/x", "'/' belongs to no host"),
        ("escape", "%61dmin.contoso.example", "no client escapes a host, and routers disagree on decoding one"),
        ("unicode", "\u{0430}dmin.contoso.example", "a Unicode name (Cyrillic а): clients send the A-label, and IDNA mapping could reach another host"),
        ("fullwidth", "\u{FF41}dmin.contoso.example", "a fullwidth letter, which IDNA (UTS 46) maps to 'a'"),
        ("control", "admin.contoso.example\r\nx: y", "CR LF in a host"),
        ("space-inside", "admin contoso.example", "a space inside a name"),
    ] {
        v.push(
            Case::new(&format!("host-refused-{id}"), SH, &format!("Host {host:?}: {why}; refused (400)"))
                .policy(admin_site())
                .request(on_host(host, &pwd))
                .expect(refused_400()),
        );
    }
    v.push(
        Case::new("host-policy-not-ascii", SH, "A policy host in Unicode is refused with the A-label as the fix (clients send xn--…)")
            .policy(pc_with("2020", json!({"routes": {"admin_site": {"paths": ["/**"], "hosts": ["bücher.example"], "mfa": true}}})))
            .request(on_host("xn--bcher-kva.example", &pwd))
            .error("policy_invalid"),
    );
    v.push(
        Case::new("host-policy-a-label", SH, "A policy host written as its A-label matches what clients send, in any case")
            .policy(pc_with("2020", json!({"routes": {"admin_site": {"paths": ["/**"], "hosts": ["xn--bcher-kva.example"], "mfa": true, "kinds": ["app_user"]}}})))
            .request(on_host("XN--BCHER-KVA.example", &pwd))
            .expect(json!({"outcome": "step_up", "rule": "admin_site"})),
    );

    // Paths: Unicode case folds, trailing dots and spaces, `..;`.
    for (id, path, rule, src) in [
        (
            "long-s",
            "/dashboard/%C5%BFupport/csp/customers/1",
            "customer_requests",
            SU,
        ),
        (
            "long-s-raw",
            "/dashboard/\u{017F}upport/csp/customers/1",
            "customer_requests",
            SU,
        ),
        ("dotless-i", "/dashboard/b%C4%B1lling/x", "billing", SU),
        (
            "dotted-capital-i",
            "/dashboard/b%C4%B0lling/x",
            "billing",
            SU,
        ),
        ("kelvin", "/%E2%84%AA/../commerce", "", SU),
        ("trailing-dot", "/commerce./x", "customers", SI),
        ("trailing-dots", "/commerce.../x", "customers", SI),
        ("trailing-space", "/commerce%20/x", "customers", SI),
        ("trailing-dot-escaped", "/commerce%2E/x", "customers", SI),
        ("trailing-dot-last", "/dashboard/billing.", "billing", SI),
    ] {
        let case = Case::new(
            &format!("path-{id}"),
            src,
            &format!("{path} reaches a protected page on some router: decided under its rule"),
        )
        .page(path, &agent_pwd);
        v.push(if rule.is_empty() {
            case.expect(refused_400())
        } else {
            case.expect(json!({"outcome": "step_up", "reason": "mfa_required", "rule": rule}))
        });
    }
    for (id, path, why) in [
        (
            "dot-dot-params",
            "/x/..;/commerce/customers",
            "Tomcat reads /x/../commerce/customers",
        ),
        (
            "dot-dot-params-value",
            "/x/..;jsessionid=1/commerce",
            "the same with a parameter value",
        ),
        (
            "only-dots",
            "/x/.../commerce",
            "a segment of only dots: IIS reads it as empty",
        ),
        (
            "only-space",
            "/x/%20/commerce",
            "a segment of only a space: IIS reads it as empty",
        ),
    ] {
        v.push(
            Case::new(
                &format!("path-refused-{id}"),
                ST,
                &format!("{path}: {why}; refused (400) as a dot segment"),
            )
            .page(path, &agent_pwd)
            .expect(refused_400()),
        );
    }
    v.push(
        Case::new("path-unicode-elsewhere", SU, "Other Unicode letters fold to no ASCII letter: /dashboard/%C3%9Fupport is not Support (no false refusal)")
            .policy(pc_with("2020", json!({"routes": {"customers": {"kinds": ["id_token"]}}})))
            .page("/dashboard/%C3%9Fupport/csp/customers/1", &agent_pwd)
            .expect(json!({"outcome": "allow", "rule": "default"})),
    );

    // Control characters, raw and escaped.
    for (id, path) in [
        ("tab", "/commerce\t/customers"),
        ("tab-escaped", "/commerce%09/customers"),
        ("cr", "/commerce\r/customers"),
        ("lf-escaped", "/commerce%0a/customers"),
        ("del", "/commerce\u{7f}/customers"),
        ("del-escaped", "/dashboard/billing%7F"),
        ("unit-separator", "/dashboard/\u{1f}billing"),
        ("in-query", "/commerce/customers?q=\t"),
    ] {
        v.push(
            Case::new(
                &format!("path-control-{id}"),
                SC,
                &format!(
                    "{path:?}: a control character in the request-target is refused (400) like NUL"
                ),
            )
            .page(path, &agent_pwd)
            .expect(refused_400()),
        );
    }

    // Methods: RFC 9110 §9.1 tokens only (found by the router differential:
    // "GET " was decided under the default rule).
    for (id, method) in [
        ("trailing-space", "GET "),
        ("empty", ""),
        ("tab", "GET\t"),
        ("slash", "GET/x"),
    ] {
        v.push(
            Case::new(&format!("method-refused-{id}"), "issue 18, router differential; RFC 9110 §9.1 (method = token)", &format!("method {method:?} is no HTTP method: refused (400), never decided under another rule"))
                .policy(admin_site())
                .request(json!({"method": method, "path": "/dashboard/servicehealth", "host": "admin.contoso.example",
                    "authorization": format!("Bearer {pwd}"), "now": NOW}))
                .expect(refused_400()),
        );
    }
    v.push(
        Case::new("method-extension-token", "RFC 9110 §9.1, §16.1 (registered and extension methods)", "An extension method (PROPFIND) is a token: decided, not refused")
            .policy(admin_site())
            .request(json!({"method": "PROPFIND", "path": "/dashboard/servicehealth", "host": "admin.contoso.example",
                "authorization": format!("Bearer {pwd}"), "now": NOW}))
            .expect(step_up.clone()),
    );

    // The query never reaches a refusal's detail (which audit lines carry).
    for (id, path, detail) in [
        ("hash", "/v1/customers?access_token=SECRET#x",
         "the request-target (path \"/v1/customers\") contains a raw '#'; a request-target never carries a fragment (RFC 9112 §3.2), pass the path and query as the server received them"),
        ("control", "/v1/customers?access_token=SECRET\t",
         "the request-target (path \"/v1/customers\") contains the control character 0x09; a request-target has none (RFC 9112 §3.2), so servers disagree on where the path ends"),
        ("dot-segment", "/v1/../customers?access_token=SECRET",
         "path \"/v1/../customers\" has a dot segment; clients send normalised paths, and servers disagree on resolving them (the gate could decide for another page than the app serves)"),
    ] {
        v.push(
            Case::new(&format!("detail-no-query-{id}"), SQ, &format!("{path:?}: the refusal's detail names the path, never the query"))
                .api("GET", path, &pwd)
                .expect(json!({"outcome": "deny", "reason": "request_invalid", "detail": detail})),
        );
    }
    v
}
