//! Credentials as bindings receive them (issue 8, items 9 and 11): two
//! credentials are refused, never one picked; a page whose session cannot be
//! used sends the browser to sign in.

use crate::fixtures::*;
use crate::mint::{sign, Keys, Sig};
use serde_json::{json, Value};

const API: &str = "/v1/customers";
const CUSTOMERS: &str = "/commerce/customers";
const S9: &str = "issue 8 item 9; RFC 9110 §5.3: repeated fields combine with \", \"";
const S11: &str = "issue 8 item 11: a browser user needs the redirect to sign in";

fn ambiguous() -> Value {
    json!({"outcome": "deny", "reason": "credential_ambiguous", "token_kind": null,
           "http": {"status": 400, "headers": [["WWW-Authenticate", "Bearer error=\"invalid_request\""]]}})
}

fn sign_in(reason: &str) -> Value {
    json!({"outcome": "deny", "reason": reason, "rule": "customers",
           "http": {"status": 302, "status_text": "Found", "headers": [["Location", format!("/.auth/login/aad?return_to={CUSTOMERS}")]], "body": ""},
           "redirect": {"params": [["return_to", CUSTOMERS]], "register_first": false}})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let mfa = rs256(keys, &app_user(CONTOSO, Some(&["pwd", "mfa"])));
    let agent = id_token(CONTOSO, Some(&["pwd", "mfa"]), &[G_ADMIN], &[]);
    let session = rs256(keys, &agent);
    let expired = rs256(keys, &agent.clone().with("exp", NOW - 3600));
    let forged = sign(
        &header("RS256", Some("rsa-1")),
        &agent.value(),
        Sig::Rs256(&keys.rotated),
    );
    vec![
        Case::new("credential-two-authorization-values", S9, "Two Authorization header lines, combined: refused, never one picked")
            .request(json!({"method": "GET", "path": API, "authorization": format!("Bearer {mfa}, Bearer {mfa}"), "now": NOW}))
            .expect(ambiguous()),
        Case::new("credential-two-session-cookies", S9, "Two session cookies of the same name, joined by the binding: refused (frameworks disagree on which one wins)")
            .request(json!({"method": "GET", "path": CUSTOMERS, "token": format!("{session}, {session}"), "now": NOW}))
            .expect(ambiguous()),
        Case::new("credential-header-and-session", S9, "An Authorization header and a session cookie: refused")
            .request(json!({"method": "GET", "path": CUSTOMERS, "authorization": format!("Bearer {session}"), "token": session, "now": NOW}))
            .expect(ambiguous()),
        Case::new("credential-session-whitespace", "issue 10: a session token is trimmed like the Authorization header", "A session token with surrounding whitespace is trimmed")
            .request(json!({"method": "GET", "path": CUSTOMERS, "token": format!("  {session}\t"), "now": NOW}))
            .expect(allow("mfa_satisfied", "id_token", "customers")),
        Case::new("credential-basic-scheme", "RFC 6750 §3", "Another scheme is no bearer credential at all")
            .request(json!({"method": "GET", "path": API, "authorization": "Basic dXNlcjpwYXNz", "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "no_credential", "http": {"status": 401, "headers": [["WWW-Authenticate", "Bearer"]]}})),
        Case::new("session-expired-page", S11, "An expired session on a page: sent to sign in, reason kept")
            .page(CUSTOMERS, &expired)
            .expect(sign_in("token_expired")),
        Case::new("session-forged-page", S11, "A session whose signature does not verify: sent to sign in")
            .page(CUSTOMERS, &forged)
            .expect(sign_in("signature_invalid")),
        Case::new("session-garbage-page", S11, "A session cookie that is not a token: sent to sign in")
            .page(CUSTOMERS, "garbage")
            .expect(sign_in("token_malformed")),
        Case::new("session-expired-header-page", S11, "The same expired token in an Authorization header (an API client): 401")
            .request(json!({"method": "GET", "path": CUSTOMERS, "authorization": format!("Bearer {expired}"), "now": NOW}))
            .expect(invalid("token_expired")),
        Case::new("session-expired-api", S11, "An expired session on an API route: 401, not a redirect")
            .page(API, &rs256(keys, &app_user(CONTOSO, Some(&["mfa"])).with("exp", NOW - 3600)))
            .expect(invalid("token_expired")),
    ]
}
