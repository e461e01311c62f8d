//! What to send back, independent of the protocol: a refusal as the exact
//! HTTP answer of the decision (or of a rejection), and an allow as the
//! subject headers a proxy copies to the application.

use crate::rejection::Rejection;
use mfagate::{Decision, JSON_CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A refusal, exactly as the client must get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer<'a> {
    pub status: u16,
    #[serde(borrow)]
    pub status_text: Cow<'a, str>,
    /// Every header to send (the decision's `response_headers`).
    pub headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub body: Cow<'a, str>,
}

impl Answer<'static> {
    pub fn of_decision(d: &Decision) -> Answer<'static> {
        Answer {
            status: d.http.status,
            status_text: Cow::Borrowed(d.http.status_text),
            headers: d
                .http
                .response_headers()
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(k), Cow::Owned(v)))
                .collect(),
            body: Cow::Owned(d.http.body.clone()),
        }
    }

    pub fn of_rejection(r: &Rejection) -> Answer<'static> {
        Answer {
            status: r.status,
            status_text: Cow::Borrowed(match r.status {
                400 => "Bad Request",
                413 => "Content Too Large",
                _ => "Internal Server Error",
            }),
            headers: vec![
                (
                    Cow::Borrowed("Content-Type"),
                    Cow::Borrowed(JSON_CONTENT_TYPE),
                ),
                (Cow::Borrowed("Cache-Control"), Cow::Borrowed("no-store")),
            ],
            body: Cow::Owned(r.body()),
        }
    }
}

/// The headers an allow answers with, for the proxy to copy onto the
/// request it sends the application. Every one is always sent, empty when
/// the decision has no value, so that a proxy which copies only what it
/// gets (nginx, Envoy, Traefik) replaces a client's own `X-Mfagate-User`
/// rather than letting it through, and so that Caddy before 2.10, whose
/// `copy_headers` sends a header missing from the auth answer as the
/// literal placeholder `{http.reverse_proxy.header.…}`, always has a value
/// to copy. `X-Mfagate-Compliant` is the decision's own `isMfaCompliant`
/// (2026 rules, `ValidateMfa: true`), for a proxy to put on the client's
/// answer when it is not empty.
pub const SUBJECT_HEADERS: [&str; 10] = [
    "X-Mfagate-User",
    "X-Mfagate-Object-Id",
    "X-Mfagate-Tenant",
    "X-Mfagate-Home-Tenant",
    "X-Mfagate-App-Id",
    "X-Mfagate-Token-Kind",
    "X-Mfagate-Roles",
    "X-Mfagate-Rule",
    "X-Mfagate-Reason",
    "X-Mfagate-Compliant",
];

/// A header value from claims: visible ASCII is kept, anything else (and
/// `%`) is percent-encoded as UTF-8, so no claim can break a header.
pub fn header_safe(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_graphic() && b != b'%') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// The values of [`SUBJECT_HEADERS`], in order.
pub fn subject_values(d: &Decision) -> [Cow<'_, str>; 10] {
    let s = d.subject.as_ref();
    fn field(f: Option<&String>) -> Cow<'_, str> {
        f.map_or(Cow::Borrowed(""), |v| header_safe(v))
    }
    let roles = if d.roles.is_empty() {
        Cow::Borrowed("")
    } else {
        Cow::Owned(
            d.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
    };
    [
        field(s.and_then(|s| s.user.as_ref())),
        field(s.and_then(|s| s.object_id.as_ref())),
        field(s.and_then(|s| s.tenant.as_ref())),
        field(s.and_then(|s| s.home_tenant.as_ref())),
        field(s.and_then(|s| s.app_id.as_ref())),
        Cow::Borrowed(d.token_kind.map_or("", |k| k.as_str())),
        roles,
        d.rule.as_deref().map_or(Cow::Borrowed(""), header_safe),
        Cow::Borrowed(d.reason.as_str()),
        d.http
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("ismfacompliant"))
            .map_or(Cow::Borrowed(""), |(_, v)| header_safe(v)),
    ]
}

#[cfg(test)]
mod tests {
    use super::header_safe;

    #[test]
    fn claims_cannot_break_headers() {
        assert_eq!(header_safe("ann@contoso.com"), "ann@contoso.com");
        assert_eq!(header_safe("a b\r\nX: y"), "a%20b%0D%0AX:%20y");
        assert_eq!(header_safe("zoë%"), "zo%C3%AB%25");
    }
}
