//! Tenants, claim builders, policy specs and expectation helpers shared by
//! the case files.

use crate::mint::{sign, Keys, Sig, RSA_KID};
use serde_json::{json, Map, Value};

/// 2026-01-01T00:00:00Z: the clock of every vector.
pub const NOW: i64 = 1_767_225_600;
/// Contoso: the seed's sample partner tenant.
pub const CONTOSO: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
pub const WINGTIP: &str = "4b1f2c3d-1111-4a2b-8c3d-0000000000a2";
pub const FABRIKAM: &str = "5c2e3d4f-2222-4b3c-9d4e-0000000000a3";
/// A customer tenant managed by Contoso through DAP/GDAP.
pub const CUSTOMER: &str = "7e4f5a6b-3333-4c5d-ae6f-0000000000c1";
/// The seed's sample appid, used as the partner app's client ID.
pub const CLIENT_ID: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
pub const PC_AUD: &str = "https://api.partnercenter.microsoft.com";
pub const USER_OID: &str = "4988e250-5aee-482a-9136-6d269cb755c0";
pub const G_ADMIN: &str = "a1a1a1a1-0000-4000-8000-000000000001";
pub const G_SALES: &str = "a1a1a1a1-0000-4000-8000-000000000002";
pub const G_HELPDESK: &str = "a1a1a1a1-0000-4000-8000-000000000003";
pub const WID_GLOBAL: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const WID_BILLING: &str = "b0f54661-2d74-4c50-afa3-1ec803f12efe";
pub const WID_SECURITY: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";
/// The GDAP relationship indicator in wids.
pub const GDAP_WID: &str = "08372b87-7d02-482a-9e02-fb03ea5fe193";
pub const FED_CLAIM: &str = "http://schemas.microsoft.com/claims/authnmethodsreferences";
pub const FED_MFA: &str = "http://schemas.microsoft.com/claims/multipleauthn";

pub const PC_HEADER: &str = "Bearer error=\"invalid_token\"";
pub const PC_STATUS_TEXT: &str = "Unauthorized - MFA required";

/// A claim set under construction.
#[derive(Clone)]
pub struct C(pub Map<String, Value>);

impl C {
    pub fn with(mut self, k: &str, v: impl Into<Value>) -> C {
        self.0.insert(k.to_owned(), v.into());
        self
    }
    pub fn without(mut self, k: &str) -> C {
        self.0.remove(k);
        self
    }
    pub fn value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn base(tid: &str, aud: &str) -> C {
    C(Map::new())
        .with("aud", aud)
        .with("iss", format!("https://sts.windows.net/{tid}/"))
        .with("iat", NOW - 600)
        .with("nbf", NOW - 600)
        .with("exp", NOW + 3000)
        .with("tid", tid)
        .with("ver", "1.0")
}

fn amr_value(amr: Option<&[&str]>) -> Option<Value> {
    amr.map(|a| Value::from(a.to_vec()))
}

/// A v1 App+User access token for the Partner Center API, shaped like the seed's sample.
pub fn app_user(tid: &str, amr: Option<&[&str]>) -> C {
    let c = base(tid, PC_AUD)
        .with("acr", "1")
        .with("appid", CLIENT_ID)
        .with("appidacr", "0")
        .with("name", "Adminagent CSP")
        .with("oid", USER_OID)
        .with("scp", "user_impersonation")
        .with(
            "unique_name",
            "Adminagent.csp@testtestpartner.onmicrosoft.com",
        )
        .with("upn", "Adminagent.csp@testtestpartner.onmicrosoft.com");
    match amr_value(amr) {
        Some(a) => c.with("amr", a),
        None => c,
    }
}

/// A v1 ID token for the partner app (dashboard session), with group and
/// directory-role claims.
pub fn id_token(tid: &str, amr: Option<&[&str]>, groups: &[&str], wids: &[&str]) -> C {
    let mut c = base(tid, CLIENT_ID)
        .with("sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ")
        .with("oid", USER_OID)
        .with("name", "Jane")
        .with("upn", "jane@contoso.onmicrosoft.com")
        .with("nonce", "n-0S6_WzA2Mj");
    if let Some(a) = amr_value(amr) {
        c = c.with("amr", a);
    }
    if !groups.is_empty() {
        c = c.with("groups", groups.to_vec());
    }
    if !wids.is_empty() {
        c = c.with("wids", wids.to_vec());
    }
    c
}

/// A v1 App-only access token (client credentials).
pub fn app_only(tid: &str) -> C {
    base(tid, PC_AUD)
        .with("appid", CLIENT_ID)
        .with("appidacr", "1")
        .with("oid", "0b0b0b0b-4444-4e5f-8a9b-000000000a99")
        .with("sub", "0b0b0b0b-4444-4e5f-8a9b-000000000a99")
        .with("roles", vec!["Partner.ReadWrite.All"])
}

/// A partner user's token from the customer's tenant (DAP): iss/tid are
/// the customer's, idp names the partner tenant.
pub fn delegated(customer: &str, partner: &str, amr: Option<&[&str]>) -> C {
    app_user(customer, amr)
        .with("idp", format!("https://sts.windows.net/{partner}/"))
        .with("unique_name", "admin@contoso.onmicrosoft.com")
        .without("upn")
}

/// The GDAP shape (AzureAD/microsoft-identity-web#2609): empty oid, aai
/// naming the partner user as "tenant: …, object: …", and the GDAP
/// relationship indicator in wids.
pub fn gdap(customer: &str, partner: &str, amr: Option<&[&str]>) -> C {
    delegated(customer, partner, amr)
        .with("oid", "")
        .with("aai", format!("tenant: {partner}, object: {USER_OID}"))
        .with(
            "wids",
            vec![GDAP_WID, "fe930be7-5e62-47db-91af-98c3a49a38b1"],
        )
}

/// The same token in Entra's v2 shape: v2 issuer (of its tenant), `ver`
/// 2.0, `azp` for `appid`.
pub fn v2(c: C) -> C {
    let tid =
        c.0.get("tid")
            .and_then(|t| t.as_str())
            .unwrap_or(CONTOSO)
            .to_owned();
    c.with(
        "iss",
        format!("https://login.microsoftonline.com/{tid}/v2.0"),
    )
    .with("ver", "2.0")
    .with("azp", CLIENT_ID)
    .without("appid")
}

pub fn header(alg: &str, kid: Option<&str>) -> Value {
    let mut h = json!({"typ": "JWT", "alg": alg});
    if let (Some(k), Some(o)) = (kid, h.as_object_mut()) {
        o.insert("kid".into(), k.into());
    }
    h
}

/// An RS256 token signed with the test key rsa-1.
pub fn rs256(keys: &Keys, c: &C) -> String {
    sign(
        &header("RS256", Some(RSA_KID)),
        &c.value(),
        Sig::Rs256(&keys.rsa),
    )
}

/// The deployment overrides most vectors use: the app's client ID as an
/// audience, the partner tenant (Contoso) and its agent groups.
pub fn deployment() -> Value {
    json!({
        "token": {"audiences": [PC_AUD, CLIENT_ID], "partner_tenants": [CONTOSO]},
        "roles": {"groups": {"admin_agent": [G_ADMIN], "sales_agent": [G_SALES], "helpdesk_agent": [G_HELPDESK]}}
    })
}

/// As [`pc`], for another partner's own deployment (its tenant is the partner).
pub fn pc_of(year: &str, partner: &str) -> Value {
    pc_with(year, json!({"token": {"partner_tenants": [partner]}}))
}

fn merge(t: &mut Value, p: &Value) {
    match (t, p) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// A built-in Partner Center policy of `year` with the deployment overrides.
pub fn pc(year: &str) -> Value {
    json!({"builtin": format!("partner-center-{year}"), "overrides": deployment()})
}

/// As [`pc`], with more overrides merged in.
pub fn pc_with(year: &str, extra: Value) -> Value {
    let mut o = deployment();
    merge(&mut o, &extra);
    json!({"builtin": format!("partner-center-{year}"), "overrides": o})
}

/// One conformance case.
pub struct Case {
    pub id: String,
    pub source: String,
    pub description: String,
    pub policy: Value,
    pub request: Value,
    pub expect: Option<Value>,
    pub expect_error: Option<Value>,
}

impl Case {
    pub fn new(id: &str, source: &str, description: &str) -> Case {
        Case {
            id: id.into(),
            source: source.into(),
            description: description.into(),
            policy: pc("2020"),
            request: json!({"method": "GET", "path": "/", "now": NOW}),
            expect: None,
            expect_error: None,
        }
    }
    pub fn policy(mut self, p: Value) -> Case {
        self.policy = p;
        self
    }
    /// An API call with `Authorization: Bearer <token>`.
    pub fn api(mut self, method: &str, path: &str, token: &str) -> Case {
        self.request = json!({"method": method, "path": path, "authorization": format!("Bearer {token}"), "now": NOW});
        self
    }
    /// A page request carrying the session's token.
    pub fn page(mut self, path: &str, token: &str) -> Case {
        self.request = json!({"method": "GET", "path": path, "token": token, "now": NOW});
        self
    }
    pub fn request(mut self, r: Value) -> Case {
        self.request = r;
        self
    }
    pub fn set(mut self, k: &str, v: impl Into<Value>) -> Case {
        if let Some(o) = self.request.as_object_mut() {
            o.insert(k.into(), v.into());
        }
        self
    }
    pub fn expect(mut self, e: Value) -> Case {
        self.expect = Some(e);
        self
    }
    pub fn error_with(mut self, e: Value) -> Case {
        self.expect_error = Some(e);
        self
    }
    pub fn error(mut self, code: &str) -> Case {
        self.expect_error = Some(json!({"code": code}));
        self
    }
    pub fn to_json(&self) -> Value {
        let mut o = json!({
            "id": self.id, "source": self.source, "description": self.description,
            "policy": self.policy, "request": self.request,
        });
        if let Some(m) = o.as_object_mut() {
            if let Some(e) = &self.expect {
                m.insert("expect".into(), e.clone());
            }
            if let Some(e) = &self.expect_error {
                m.insert("expect_error".into(), e.clone());
            }
        }
        o
    }
}

pub fn allow(reason: &str, kind: &str, rule: &str) -> Value {
    json!({"outcome": "allow", "reason": reason, "token_kind": kind, "rule": rule,
           "http": {"status": 200, "headers": []}, "redirect": null})
}

/// Partner Center's exact MFA refusal.
pub fn pc401(reason: &str, kind: &str, rule: &str) -> Value {
    json!({"outcome": "step_up", "reason": reason, "token_kind": kind, "rule": rule,
           "http": {"status": 401, "status_text": PC_STATUS_TEXT, "headers": [["WWW-Authenticate", PC_HEADER]]}})
}

/// A refused token: 401 invalid_token, never an MFA answer.
pub fn invalid(reason: &str) -> Value {
    json!({"outcome": "deny", "reason": reason, "token_kind": null, "mfa": {"required": false},
           "http": {"status": 401, "status_text": "Unauthorized"}})
}

pub fn forbidden(reason: &str, kind: &str, rule: &str) -> Value {
    json!({"outcome": "deny", "reason": reason, "token_kind": kind, "rule": rule,
           "http": {"status": 403, "status_text": "Forbidden", "headers": []}})
}

/// The redirect step-up of a page.
pub fn redirect(reason: &str, rule: &str, path: &str, register_first: bool) -> Value {
    let loc = format!("/.auth/login/aad?prompt=login&amr_values=mfa&return_to={path}");
    json!({"outcome": "step_up", "reason": reason, "rule": rule,
           "http": {"status": 302, "status_text": "Found", "headers": [["Location", loc]]},
           "redirect": {"location": loc, "register_first": register_first}})
}

/// Adds or replaces fields of an expectation.
pub fn and(mut e: Value, extra: Value) -> Value {
    merge(&mut e, &extra);
    e
}
