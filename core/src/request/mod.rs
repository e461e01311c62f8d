//! The request a gate decides on.

mod credential;
pub(crate) mod spec;

pub use credential::session_cookie;
pub(crate) use credential::{credential, Credential};
pub use spec::{validate_mfa_header, Field, RequestSpec, NOW_MAX, REQUEST_KEYS};

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

    /// With this HTTP method (routes may name methods; HEAD counts as GET).
    pub fn method(mut self, m: &'a str) -> Self {
        self.method = m;
        self
    }
    /// With this Host header, for routes that name hosts.
    pub fn host(mut self, h: &'a str) -> Self {
        self.host = Some(h);
        self
    }
    /// With this Authorization header value (`Bearer <token>`): how APIs
    /// are called.
    pub fn authorization(mut self, a: &'a str) -> Self {
        self.authorization = Some(a);
        self
    }
    /// With a raw token from the page's session (see [`session_cookie`]);
    /// giving it as well as an Authorization header is
    /// `credential_ambiguous`.
    pub fn token(mut self, t: &'a str) -> Self {
        self.token = Some(t);
        self
    }
    /// Says whether the user has an MFA method registered, so a redirect
    /// can ask for registration first.
    pub fn mfa_registered(mut self, r: bool) -> Self {
        self.mfa_registered = Some(r);
        self
    }
    /// With the `ValidateMfa` header's value (see [`validate_mfa_header`]).
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
