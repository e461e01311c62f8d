//! The whole HTTP answer (issue 10): `http.response_headers` is every header
//! middleware sends, so no binding adds one of its own. A body is JSON;
//! every refusal and redirect is `Cache-Control: no-store` (RFC 9111
//! §5.2.2.5), so no shared cache replays an answer made for one token.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::{json, Value};

const API: &str = "/v1/customers";
const SOURCE: &str =
    "issue 10: the core's answer carries every header a refusal needs; RFC 9111 §5.2.2.5";
const JSON_TYPE: [&str; 2] = ["Content-Type", "application/json; charset=utf-8"];
const NO_STORE: [&str; 2] = ["Cache-Control", "no-store"];

fn sent(status: u16, headers: Value) -> Value {
    json!({"http": {"status": status, "response_headers": headers}})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let mfa = rs256(keys, &app_user(CONTOSO, Some(&["pwd", "mfa"])));
    let pwd = rs256(keys, &app_user(CONTOSO, Some(&["pwd"])));
    let page = |amr: &[&str], groups: &[&str], wids: &[&str]| {
        rs256(keys, &id_token(CONTOSO, Some(amr), groups, wids))
    };
    let loc = "/.auth/login/aad?prompt=login&amr_values=mfa&return_to=/commerce/customers";
    vec![
        Case::new("http-allow-adds-nothing", SOURCE, "An allow sends no header of the gate's: the application answers")
            .api("GET", API, &mfa)
            .expect(and(allow("mfa_satisfied", "app_user", "api"), sent(200, json!([])))),
        Case::new("http-allow-is-mfa-compliant", SOURCE, "An allowed 2026 call with ValidateMfa carries isMfaCompliant only")
            .policy(pc("2026"))
            .api("GET", API, &mfa)
            .set("validate_mfa", true)
            .expect(sent(200, json!([["isMfaCompliant", "true"]]))),
        Case::new("http-mfa-refusal", SOURCE, "Partner Center's MFA 401: the challenge, a JSON body, no-store")
            .api("GET", API, &pwd)
            .expect(and(pc401("mfa_required", "app_user", "api"), sent(401, json!([["WWW-Authenticate", PC_HEADER], JSON_TYPE, NO_STORE])))),
        Case::new("http-no-credential", SOURCE, "No credential: a bare Bearer challenge, a JSON body, no-store")
            .request(json!({"method": "GET", "path": API, "now": NOW}))
            .expect(sent(401, json!([["WWW-Authenticate", "Bearer"], JSON_TYPE, NO_STORE]))),
        Case::new("http-ambiguous-credential", SOURCE, "Two credentials: 400 invalid_request, a JSON body, no-store")
            .request(json!({"method": "GET", "path": API, "authorization": format!("Bearer {mfa}, Bearer {mfa}"), "now": NOW}))
            .expect(sent(400, json!([["WWW-Authenticate", "Bearer error=\"invalid_request\""], JSON_TYPE, NO_STORE]))),
        Case::new("http-page-forbidden", SOURCE, "A page the role may not open: 403 with a JSON body and no-store, no challenge")
            .policy(pc("2026"))
            .page("/dashboard/billing", &page(&["pwd", "mfa"], &[], &[WID_GLOBAL]))
            .expect(and(forbidden("role_not_permitted", "id_token", "billing"), sent(403, json!([JSON_TYPE, NO_STORE])))),
        Case::new("http-redirect", SOURCE, "A redirect to MFA: Location and no-store; no body, so no Content-Type")
            .page("/commerce/customers", &page(&["pwd"], &[G_ADMIN], &[]))
            .expect(and(redirect("mfa_required", "customers", "/commerce/customers", false), sent(302, json!([["Location", loc], NO_STORE])))),
    ]
}
