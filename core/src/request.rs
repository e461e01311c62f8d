//! The request a gate decides on.

use serde::Deserialize;

/// One request, borrowed from the caller's own request type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// The request path (a query string is ignored).
    pub path: &'a str,
    /// The Host header, if routes name hosts.
    pub host: Option<&'a str>,
    /// The Authorization header value (`Bearer <token>`), for APIs.
    pub authorization: Option<&'a str>,
    /// A raw token from a session (the ID token a page was signed in with).
    pub token: Option<&'a str>,
    /// The current time, Unix seconds. Injected so every decision can be
    /// reproduced.
    pub now: i64,
    /// Whether the user has an MFA method registered, when the app knows:
    /// `Some(false)` makes a redirect ask for registration first.
    pub mfa_registered: Option<bool>,
    /// The request's `ValidateMfa` header said `true`: under the 2026 rules
    /// an allowed API call then answers `isMfaCompliant: true|false`.
    pub validate_mfa: Option<bool>,
}

impl<'a> Request<'a> {
    /// A GET of `path` at `now`, with no credential.
    pub fn new(path: &'a str, now: i64) -> Request<'a> {
        Request {
            method: "GET",
            path,
            host: None,
            authorization: None,
            token: None,
            now,
            mfa_registered: None,
            validate_mfa: None,
        }
    }

    pub fn method(mut self, m: &'a str) -> Self {
        self.method = m;
        self
    }
    pub fn host(mut self, h: &'a str) -> Self {
        self.host = Some(h);
        self
    }
    pub fn authorization(mut self, a: &'a str) -> Self {
        self.authorization = Some(a);
        self
    }
    pub fn token(mut self, t: &'a str) -> Self {
        self.token = Some(t);
        self
    }
    pub fn mfa_registered(mut self, r: bool) -> Self {
        self.mfa_registered = Some(r);
        self
    }
    pub fn validate_mfa(mut self, v: bool) -> Self {
        self.validate_mfa = Some(v);
        self
    }
}

/// The seconds since the Unix epoch, from the system clock.
#[cfg(not(target_arch = "wasm32"))]
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An owned request, as conformance vectors and bindings spell it in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub now: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_registered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_mfa: Option<bool>,
}

fn get() -> String {
    "GET".to_owned()
}

impl RequestSpec {
    pub fn as_request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            host: self.host.as_deref(),
            authorization: self.authorization.as_deref(),
            token: self.token.as_deref(),
            now: self.now,
            mfa_registered: self.mfa_registered,
            validate_mfa: self.validate_mfa,
        }
    }
}

/// The credential a request carries.
pub(crate) enum Credential<'a> {
    /// One token (from the Authorization header, or the session's).
    Token(&'a str),
    /// None usable, with why.
    Missing(&'static str),
    /// Several: refused (400), never one picked.
    Ambiguous(&'static str),
}

/// The request's credential. Several header lines or cookies of the same
/// name arrive joined with `", "` (RFC 9110 §5.3; bindings join repeated
/// session cookies the same way); a JWT never holds a `,`, so one means
/// several credentials.
pub(crate) fn credential<'a>(r: &Request<'a>) -> Credential<'a> {
    match (r.authorization, r.token) {
        (Some(_), Some(_)) => {
            Credential::Ambiguous("both an Authorization header and a session token were given")
        }
        (None, None) => Credential::Missing("no Authorization header and no session token"),
        (None, Some(t)) => {
            let t = t.trim();
            if t.is_empty() {
                Credential::Missing("the session token is empty")
            } else if t.contains(',') {
                Credential::Ambiguous(
                    "the session token holds several values (two session cookies of the same name?)",
                )
            } else {
                Credential::Token(t)
            }
        }
        (Some(h), None) => {
            let h = h.trim();
            let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Credential::Missing(
                    "the Authorization header does not use the Bearer scheme",
                );
            }
            let t = rest.trim();
            if t.is_empty() {
                Credential::Missing("the Authorization header has no token")
            } else if t.contains(',') {
                Credential::Ambiguous(
                    "the Authorization header holds several values (two Authorization headers?)",
                )
            } else {
                Credential::Token(t)
            }
        }
    }
}

/// The value of the session cookie `name` in a `Cookie` header (RFC 6265
/// §5.4: `name=value` pairs separated by `;`), for bindings to pass as the
/// request's `token`. When the cookie appears more than once, every value
/// comes back joined with `", "`, which the gate refuses as
/// `credential_ambiguous`: frameworks disagree on which one wins
/// (Starlette, Django and Python's `SimpleCookie` take the last, many JS
/// parsers the first), so none is picked.
pub fn session_cookie(cookie_header: &str, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for pair in cookie_header.split(';') {
        let Some((n, v)) = pair.split_once('=') else {
            continue;
        };
        if n.trim() != name {
            continue;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v);
        match &mut out {
            None => out = Some(v.to_owned()),
            Some(o) => {
                o.push_str(", ");
                o.push_str(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::session_cookie;

    #[test]
    fn session_cookies() {
        assert_eq!(
            session_cookie("a=1; id_token=xyz; b=2", "id_token").as_deref(),
            Some("xyz")
        );
        assert_eq!(
            session_cookie("id_token=\"xyz\"", "id_token").as_deref(),
            Some("xyz")
        );
        assert_eq!(
            session_cookie("x_id_token=1; id_token_x=2", "id_token"),
            None
        );
        assert_eq!(session_cookie("", "id_token"), None);
        assert_eq!(
            session_cookie("id_token=a; other=1;id_token=b", "id_token").as_deref(),
            Some("a, b")
        );
    }
}
