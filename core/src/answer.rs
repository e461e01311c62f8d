//! The exact HTTP answer for each kind of refusal and challenge style.

use crate::decision::{HttpAnswer, Redirect};
use crate::messages::Message;
use crate::policy::doc::{ChallengeStyle, RulesVersion};
use crate::policy::path::RequestPath;
use crate::policy::Compiled;
use crate::reason::{Outcome, Reason};

pub const WWW_AUTHENTICATE: &str = "WWW-Authenticate";
pub const LOCATION: &str = "Location";
pub const RETRY_AFTER: &str = "Retry-After";
/// Partner Center's response header for `ValidateMfa: true` (2025-2026
/// guidance; the spelling every client library uses).
pub const IS_MFA_COMPLIANT: &str = "isMfaCompliant";
/// Partner Center's reason phrase for its MFA refusal (Microsoft's MFA page, "Partner Center API").
pub const PARTNER_CENTER_STATUS_TEXT: &str = "Unauthorized - MFA required";
/// `authorization_uri` of a claims challenge in the public cloud, where
/// clients get the token with the claims asked for; other clouds use
/// [`Cloud::claims_authorization_uri`](crate::Cloud::claims_authorization_uri).
pub const CLAIMS_AUTHORIZATION_URI: &str =
    "https://login.microsoftonline.com/common/oauth2/authorize";

/// Outcome, answer and redirect of a refusal.
pub struct Answer {
    pub outcome: Outcome,
    pub http: HttpAnswer,
    pub redirect: Option<Redirect>,
}

fn body(reason: Reason, msg: &Message) -> String {
    let mut out = String::with_capacity(64 + msg.en.len());
    out.push_str("{\"reason\":\"");
    out.push_str(reason.as_str());
    out.push_str("\",\"message\":");
    // Messages are static text, but encode them properly all the same.
    out.push_str(&serde_json::to_string(msg.en).unwrap_or_else(|_| "\"\"".into()));
    out.push('}');
    out
}

/// Partner Center's code for an App+User call without MFA (Microsoft
/// partner blog, CSP technical changes FY26 Q4: "a 401 response with error
/// code 900421").
pub const PARTNER_CENTER_MFA_ERROR: u32 = 900_421;

/// Partner Center's REST error schema (partner-center/developer/error-codes:
/// `code`, `description`, `data`, `source`), with mfagate's reason beside
/// it. `code` is a number, as Partner Center's own bodies have it.
fn partner_center_error(reason: Reason, msg: &Message) -> String {
    serde_json::json!({
        "code": PARTNER_CENTER_MFA_ERROR,
        "description": msg.en,
        "data": [],
        "source": "mfagate",
        "reason": reason.as_str(),
    })
    .to_string()
}

/// A quoted-string for an auth-param: no `"` or `\` can break out of it.
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

fn http(
    status: u16,
    reason: Reason,
    msg: &Message,
    headers: Vec<(&'static str, String)>,
) -> HttpAnswer {
    let status_text = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let body = if status == 200 || status == 302 {
        String::new()
    } else {
        body(reason, msg)
    };
    HttpAnswer {
        status,
        status_text,
        headers,
        body,
    }
}

pub fn allow() -> HttpAnswer {
    HttpAnswer {
        status: 200,
        status_text: "OK",
        headers: Vec::new(),
        body: String::new(),
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect_to(
    c: &Compiled,
    params: Vec<(&'static str, String)>,
    register_first: bool,
) -> Redirect {
    let mut location = c.sign_in_url.clone();
    let mut sep = if location.contains('?') { '&' } else { '?' };
    for (k, v) in &params {
        location.push(sep);
        location.push_str(k);
        location.push('=');
        location.push_str(&percent_encode(v));
        sep = '&';
    }
    Redirect {
        location,
        params,
        register_first,
    }
}

fn found(reason: Reason, msg: &Message, r: Redirect) -> Answer {
    Answer {
        outcome: if reason.is_mfa_problem() {
            Outcome::StepUp
        } else {
            Outcome::Deny
        },
        http: http(302, reason, msg, vec![(LOCATION, r.location.clone())]),
        redirect: Some(r),
    }
}

/// Where the sign-in should send the user back: the request's path as the
/// application routes it (empty segments, `;params` and `\` separators
/// normalised, case kept), with its query. It always starts with one `/`
/// followed by a path segment or nothing, so it can never be read as a
/// protocol-relative (`//host`) or `/\host` URL.
pub fn return_to(p: &RequestPath<'_>) -> String {
    let mut out = String::with_capacity(32);
    for s in &p.display() {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    if let Some(q) = p.query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A page whose session cannot be used (expired, invalid, of the wrong
/// kind): a browser user is sent to sign in again; `reason` stays in the
/// decision.
pub fn sign_in(c: &Compiled, reason: Reason, msg: &Message, return_to: String) -> Answer {
    found(
        reason,
        msg,
        redirect_to(c, vec![("return_to", return_to)], false),
    )
}

/// No key set is available to check tokens: 503, retry later. Nothing the
/// user can fix, so no sign-in challenge.
pub fn unavailable(msg: &Message, retry_after: u32) -> Answer {
    Answer {
        outcome: Outcome::Deny,
        http: http(
            503,
            Reason::KeysUnavailable,
            msg,
            vec![(RETRY_AFTER, retry_after.to_string())],
        ),
        redirect: None,
    }
}

/// No usable credential: a sign-in redirect on pages, else a bare `Bearer`
/// challenge (RFC 6750 §3: no error code when no credential was sent).
pub fn no_credential(
    c: &Compiled,
    style: ChallengeStyle,
    return_to: String,
    msg: &Message,
) -> Answer {
    if style == ChallengeStyle::Redirect {
        let r = redirect_to(c, vec![("return_to", return_to)], false);
        return found(Reason::NoCredential, msg, r);
    }
    Answer {
        outcome: Outcome::Deny,
        http: http(
            401,
            Reason::NoCredential,
            msg,
            vec![(WWW_AUTHENTICATE, "Bearer".to_owned())],
        ),
        redirect: None,
    }
}

/// Refusals that are not about the token's MFA. Role refusals on API-style
/// routes carry RFC 6750's `insufficient_scope`; pages get a plain 403.
pub fn refusal(reason: Reason, msg: &Message, style: Option<ChallengeStyle>) -> Answer {
    let (status, headers) = if reason.is_token_problem() {
        let v = format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            quoted(msg.en)
        );
        (401, vec![(WWW_AUTHENTICATE, v)])
    } else {
        match reason {
            Reason::CredentialAmbiguous => (
                400,
                vec![(
                    WWW_AUTHENTICATE,
                    "Bearer error=\"invalid_request\"".to_owned(),
                )],
            ),
            Reason::RequestInvalid => (400, Vec::new()),
            Reason::RoleNotPermitted | Reason::RolesUnavailable
                if style.is_some_and(|s| s != ChallengeStyle::Redirect) =>
            {
                let v = format!(
                    "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                    quoted(msg.en)
                );
                (403, vec![(WWW_AUTHENTICATE, v)])
            }
            Reason::RoleNotPermitted | Reason::RolesUnavailable => (403, Vec::new()),
            // PartnerTenantNotConfigured, VerificationUnavailable: the
            // service's own configuration or build, not the caller.
            _ => (500, Vec::new()),
        }
    };
    Answer {
        outcome: Outcome::Deny,
        http: http(status, reason, msg, headers),
        redirect: None,
    }
}

/// What the MFA challenge needs to know about the request and token.
pub struct ChallengeInput<'a> {
    pub style: ChallengeStyle,
    pub reason: Reason,
    pub max_age: Option<u64>,
    pub cp1: bool,
    pub register_first: bool,
    pub return_to: &'a str,
}

/// The step-up answer for a missing, absent or stale MFA.
pub fn challenge(c: &Compiled, claims_b64: &str, i: &ChallengeInput<'_>, msg: &Message) -> Answer {
    let step_up = |http| Answer {
        outcome: Outcome::StepUp,
        http,
        redirect: None,
    };
    match i.style {
        ChallengeStyle::PartnerCenter => {
            let mut h = http(
                401,
                i.reason,
                msg,
                vec![(
                    WWW_AUTHENTICATE,
                    "Bearer error=\"invalid_token\"".to_owned(),
                )],
            );
            h.status_text = PARTNER_CENTER_STATUS_TEXT;
            if c.edition >= RulesVersion::V2026 {
                h.body = partner_center_error(i.reason, msg);
            }
            step_up(h)
        }
        ChallengeStyle::Rfc9470 => {
            let mut v = format!(
                "Bearer error=\"insufficient_user_authentication\", error_description=\"{}\"",
                quoted(msg.en)
            );
            if !c.acr_values.is_empty() {
                v.push_str(&format!(", acr_values=\"{}\"", quoted(&c.acr_values)));
            }
            if let Some(m) = i.max_age {
                v.push_str(&format!(", max_age=\"{m}\""));
            }
            step_up(http(401, i.reason, msg, vec![(WWW_AUTHENTICATE, v)]))
        }
        ChallengeStyle::Claims if i.cp1 => {
            let v = format!(
                "Bearer realm=\"\", authorization_uri=\"{}\", error=\"insufficient_claims\", claims=\"{claims_b64}\"",
                c.cloud.claims_authorization_uri()
            );
            step_up(http(401, i.reason, msg, vec![(WWW_AUTHENTICATE, v)]))
        }
        ChallengeStyle::Claims => Answer {
            outcome: Outcome::Deny,
            http: http(403, i.reason, msg, Vec::new()),
            redirect: None,
        },
        ChallengeStyle::Redirect => {
            let mut params = vec![
                ("prompt", "login".to_owned()),
                ("amr_values", "mfa".to_owned()),
            ];
            if let Some(m) = i.max_age {
                params.push(("max_age", m.to_string()));
            }
            params.push(("return_to", i.return_to.to_owned()));
            found(i.reason, msg, redirect_to(c, params, i.register_first))
        }
    }
}
