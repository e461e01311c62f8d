//! `mfagate demo`: the MFA page's scenarios against the built-in Partner Center
//! policy, printed as decisions. Claims are taken as verified (this shows the
//! rules; signature checks are covered by the conformance vectors).

use mfagate::{Claims, Gate, KeySet, Policy, Request};
use serde_json::{json, Value};
use std::io::Write;

use crate::Fail;

const NOW: i64 = 1_549_090_000;
const CONTOSO: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
const CUSTOMER: &str = "7e4f5a6b-3333-4c5d-ae6f-0000000000c1";
const CLIENT_ID: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
const ADMIN_AGENTS: &str = "a1a1a1a1-0000-4000-8000-000000000001";
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

/// The MFA page's sample App+User token, with `amr` replaced.
fn page_token(amr: Option<&[&str]>) -> Value {
    let mut v = json!({
        "aud": "https://api.partnercenter.microsoft.com",
        "iss": format!("https://sts.windows.net/{CONTOSO}/"),
        "iat": 1_549_088_552, "nbf": 1_549_088_552, "exp": 1_549_092_452,
        "acr": "1", "appid": CLIENT_ID, "appidacr": "0",
        "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "scp": "user_impersonation",
        "tid": CONTOSO, "upn": "Adminagent.csp@testtestpartner.onmicrosoft.com", "ver": "1.0"
    });
    if let (Some(a), Some(o)) = (amr, v.as_object_mut()) {
        o.insert("amr".into(), json!(a));
    }
    v
}

/// A dashboard session (ID token) for a user with the given groups/wids.
fn session(amr: &[&str], groups: &[&str], wids: &[&str]) -> Value {
    json!({
        "aud": CLIENT_ID, "iss": format!("https://sts.windows.net/{CONTOSO}/"),
        "iat": 1_549_088_552, "nbf": 1_549_088_552, "exp": 1_549_092_452,
        "sub": "jane", "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "tid": CONTOSO, "ver": "1.0",
        "upn": "jane@contoso.onmicrosoft.com", "amr": amr, "groups": groups, "wids": wids
    })
}

struct Scenario {
    title: &'static str,
    path: &'static str,
    claims: Value,
    mfa_registered: Option<bool>,
}

fn scenarios() -> Vec<Scenario> {
    let s = |title, path, claims, mfa_registered| Scenario {
        title,
        path,
        claims,
        mfa_registered,
    };
    let mut delegated = page_token(Some(&["pwd"]));
    if let Some(o) = delegated.as_object_mut() {
        o.insert(
            "iss".into(),
            json!(format!("https://sts.windows.net/{CUSTOMER}/")),
        );
        o.insert("tid".into(), json!(CUSTOMER));
        o.insert(
            "idp".into(),
            json!(format!("https://sts.windows.net/{CONTOSO}/")),
        );
    }
    // A client-credentials token as Entra issues it: no scp, no user claims,
    // oid = sub (the app's service principal), no roles (none granted).
    let mut app_only = page_token(None);
    if let Some(o) = app_only.as_object_mut() {
        o.remove("scp");
        o.remove("upn");
        o.insert("appidacr".into(), json!("1"));
        o.insert("oid".into(), json!("0b0b0b0b-4444-4e5f-8a9b-000000000a99"));
        o.insert("sub".into(), json!("0b0b0b0b-4444-4e5f-8a9b-000000000a99"));
    }
    vec![
        s(
            "Example 1: Jane, MFA'd admin agent, opens Overview",
            "/dashboard/overview",
            session(&["pwd", "mfa"], &[ADMIN_AGENTS], &[]),
            None,
        ),
        s(
            "Example 1: Jane opens Customers (no new prompt)",
            "/commerce/customers",
            session(&["pwd", "mfa"], &[ADMIN_AGENTS], &[]),
            None,
        ),
        s(
            "Example 2: Trent, federated MFA relayed as amr=mfa",
            "/commerce/customers",
            session(&["fed", "mfa"], &[ADMIN_AGENTS], &[]),
            None,
        ),
        s(
            "Example 3: John, no MFA, opens Overview",
            "/dashboard/overview",
            session(&["pwd"], &[ADMIN_AGENTS], &[]),
            None,
        ),
        s(
            "Example 3: John opens Customers, first time",
            "/commerce/customers",
            session(&["pwd"], &[ADMIN_AGENTS], &[]),
            Some(false),
        ),
        s(
            "Example 3: John opens Customers, MFA registered",
            "/commerce/customers",
            session(&["pwd"], &[ADMIN_AGENTS], &[]),
            Some(true),
        ),
        s(
            "Role table: Global admin opens Customers",
            "/commerce/customers",
            session(&["pwd", "mfa"], &[], &[GLOBAL_ADMIN]),
            None,
        ),
        s(
            "Role table: Global admin opens Billing",
            "/dashboard/billing",
            session(&["pwd", "mfa"], &[], &[GLOBAL_ADMIN]),
            None,
        ),
        s(
            "API: the page's sample token (amr pwd, mfa)",
            "/v1/customers",
            page_token(Some(&["pwd", "mfa"])),
            None,
        ),
        s(
            "API: App+User token with amr [pwd]",
            "/v1/customers",
            page_token(Some(&["pwd"])),
            None,
        ),
        s(
            "API: App+User token without amr (v2-style)",
            "/v1/customers",
            page_token(None),
            None,
        ),
        s("API: App-only token", "/v1/customers", app_only, None),
        s(
            "Delegated admin in a customer tenant, no MFA",
            "/dashboard/overview",
            delegated,
            None,
        ),
    ]
}

pub fn run(out: &mut dyn Write, json_out: bool) -> Result<(), Fail> {
    let policy = Policy::builtin("partner-center")
        .and_then(|p| {
            p.with_overrides(&json!({
                "token": {"audiences": ["https://api.partnercenter.microsoft.com", CLIENT_ID], "partner_tenants": [CONTOSO]},
                "roles": {"groups": {"admin_agent": [ADMIN_AGENTS]}}
            }))
        })
        .map_err(|e| e.to_string())?;
    let gate = Gate::new(policy, KeySet::empty());
    if !json_out {
        writeln!(out,
            "The scenarios of Microsoft's MFA page (Mandating MFA for your partner tenant) against the built-in policy \"{}\"",
            gate.policy().name()
        )?;
        writeln!(out, "(deployment overrides: the app's client ID as an audience, the partner tenant, the AdminAgents group ID)\n")?;
    }
    let mut all = Vec::new();
    for sc in scenarios() {
        let text = sc.claims.to_string();
        let claims = Claims::from_json(&text).map_err(|r| format!("{}: {}", sc.title, r.detail))?;
        let mut req = Request::new(sc.path, NOW);
        req.mfa_registered = sc.mfa_registered;
        let d = gate.evaluate_claims(&claims, &req);
        if json_out {
            all.push(json!({"scenario": sc.title, "path": sc.path, "decision": d}));
        } else {
            writeln!(out, "{}\n  GET {}", sc.title, sc.path)?;
            let headers: Vec<String> = d
                .http
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            writeln!(
                out,
                "  → {} {} · {} {} {}",
                d.outcome.as_str(),
                d.reason,
                d.http.status,
                d.http.status_text,
                if headers.is_empty() {
                    String::new()
                } else {
                    format!("· {}", headers.join(" · "))
                }
            )?;
            if d.redirect.as_ref().is_some_and(|r| r.register_first) {
                writeln!(out, "  (register an MFA method first)")?;
            }
            writeln!(out, "  {}\n", d.message.en)?;
        }
    }
    if json_out {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?
        )?;
    }
    Ok(())
}
