//! Keeping a JWK Set fresh, as a sans-IO state machine (the way rustls
//! keeps protocol logic free of I/O): [`Refresher`] says when to fetch which
//! document and what a fetched document means; a binding only performs the
//! HTTP GET it is asked for (with the timeout and size limit given, never
//! following redirects) and its idiom (a thread in Python, a promise in
//! JavaScript). The rules, identical in every runtime, are in
//! docs/bindings.md ("JWKS caches").
//!
//! A source is a JWK Set URL, an OpenID Connect configuration URL
//! (`…/.well-known/openid-configuration`), or an authority
//! (`https://login.microsoftonline.com/{tenant}` or `…/{tenant}/v2.0`),
//! whose configuration gives the key set's URL (`jwks_uri`) and the issuer
//! tokens must carry (OpenID Connect Discovery 1.0 §3; Entra's
//! access-tokens.md, "Validate the issuer").

use crate::error::{Error, ErrorCode, Result};
use crate::keys::KeySet;
use std::sync::Arc;

/// How the key set is kept fresh. Durations in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshOptions {
    /// Keys are kept this long before they are fetched again.
    pub ttl: f64,
    /// At most one fetch per this interval: after a failure, for an unknown
    /// `kid`, and before the first good set.
    pub min_refresh_interval: f64,
    /// A whole fetch (connection, headers and body) may take this long.
    pub timeout: f64,
    /// A document may be at most this many bytes.
    pub max_bytes: usize,
    /// A key set may have at most this many usable keys.
    pub max_keys: usize,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            ttl: 3600.0,
            min_refresh_interval: 60.0,
            timeout: 5.0,
            max_bytes: 256 * 1024,
            max_keys: 64,
        }
    }
}

impl RefreshOptions {
    pub(crate) fn check(&self) -> Result<()> {
        let ok = |v: f64, zero_ok: bool| v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0));
        if !ok(self.ttl, false)
            || !ok(self.min_refresh_interval, true)
            || !ok(self.timeout, false)
            || self.max_bytes == 0
            || self.max_keys == 0
        {
            return Err(Error::new(
                ErrorCode::RequestInvalid,
                "ttl, timeout, max_bytes and max_keys must be positive, and the minimum refresh interval not negative",
                "the defaults are ttl 3600 s, minimum refresh interval 60 s, timeout 5 s, 262144 bytes, 64 keys",
            ));
        }
        Ok(())
    }
}

fn ms(secs: f64) -> u64 {
    (secs * 1000.0).round().clamp(0.0, u64::MAX as f64) as u64
}

/// Which document a fetch is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// An OpenID Connect configuration (its `jwks_uri` and `issuer`).
    Configuration,
    /// A JWK Set.
    KeySet,
}

/// A GET the binding must perform, then report with [`Refresher::fetched`]
/// or [`Refresher::failed`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetch {
    /// Pass it back with the result.
    pub id: u64,
    /// What to GET; already checked (https, or http to a loopback host).
    pub url: String,
    /// Which document the answer should be (a configuration comes first,
    /// then the key set it names).
    pub document: Document,
    /// The whole fetch may take this long (milliseconds).
    pub timeout_ms: u64,
    /// Stop reading beyond this many bytes (and report a failure).
    pub max_bytes: usize,
}

/// What the binding should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Fetch this document.
    Fetch(Fetch),
    /// A fetch is in flight: wait for it (while there are no keys yet), or
    /// go on with the current keys.
    InFlight,
    /// Nothing to do: the keys are fresh, or the next fetch is not due yet.
    Idle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    KeySet(String),
    Configuration(String),
}

fn url_error(url: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::JwksUrlInvalid,
        format!("the JWKS source {url:?} {why}"),
        "use your tenant's https jwks_uri, its .well-known/openid-configuration, or its authority (https://login.microsoftonline.com/{tenant}/v2.0); plain http only for 127.0.0.1, ::1 and localhost",
    )
}

/// Checks a URL mfagate will fetch: https, or http to a loopback host; no
/// credentials in it. Returns its host and its path (without query or
/// fragment).
fn check_url(url: &str) -> Result<&str> {
    check_url_parts(url).map(|(_, path)| path)
}

fn check_url_parts(url: &str) -> Result<(&str, &str)> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| url_error(url, "is not an absolute URL"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() {
        return Err(url_error(url, "has no host"));
    }
    if authority.contains('@') {
        return Err(url_error(url, "carries credentials"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let loopback = matches!(host, "127.0.0.1" | "::1") || host.eq_ignore_ascii_case("localhost");
    match scheme {
        s if s.eq_ignore_ascii_case("https") => {}
        s if s.eq_ignore_ascii_case("http") && loopback => {}
        s if s.eq_ignore_ascii_case("http") => {
            return Err(url_error(
                url,
                "is plain http to a host that is not loopback",
            ))
        }
        _ => return Err(url_error(url, "is not an https URL")),
    }
    Ok((host, tail.split(['?', '#']).next().unwrap_or("")))
}

/// Entra's sign-in hosts, in every cloud (authentication-national-cloud.md,
/// and MSAL's aliases).
const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "login.microsoftonline.us",
    "login.usgovcloudapi.net",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
];

const CONFIGURATION: &str = "/.well-known/openid-configuration";

/// Reads a JWKS source: an OpenID configuration URL, an authority (a path
/// `/{tenant}/v2.0`, or `/{tenant}` on an Entra sign-in host), or else a
/// JWK Set URL.
fn source(url: &str) -> Result<Source> {
    let (host, path) = check_url_parts(url)?;
    if path.ends_with(CONFIGURATION) {
        return Ok(Source::Configuration(url.to_owned()));
    }
    let entra = ENTRA_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host));
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let authority = !url.contains(['?', '#'])
        && match segs.as_slice() {
            [_tenant, "v2.0"] => true,
            [_tenant] => entra,
            _ => false,
        };
    if authority {
        let base = url.trim_end_matches('/');
        return Ok(Source::Configuration(format!("{base}{CONFIGURATION}")));
    }
    Ok(Source::KeySet(url.to_owned()))
}

#[derive(Debug)]
struct InFlight {
    id: u64,
    started: u64,
    url: String,
    document: Document,
}

/// A key set kept fresh from a JWKS source (see the module's docs).
#[derive(Debug)]
pub struct Refresher {
    source: Source,
    opts: RefreshOptions,
    jwks_url: Option<String>,
    issuer: Option<String>,
    keys: Option<Arc<KeySet>>,
    version: u64,
    fetched_at: Option<u64>,
    last_attempt: Option<u64>,
    in_flight: Option<InFlight>,
    next_id: u64,
    /// A refresh was asked for (a token named an unknown kid).
    forced: bool,
    /// The configuration arrived: fetch its key set now, in the same attempt.
    chained: bool,
    last_error: Option<Error>,
    fetches: u64,
    failures: u64,
}

impl Refresher {
    /// A refresher for `url` (see the module's docs). Errors:
    /// `jwks_url_invalid` for a URL mfagate will not fetch from,
    /// `request_invalid` for options out of range.
    pub fn new(url: &str, opts: RefreshOptions) -> Result<Refresher> {
        opts.check()?;
        Ok(Refresher {
            source: source(url)?,
            opts,
            jwks_url: None,
            issuer: None,
            keys: None,
            version: 0,
            fetched_at: None,
            last_attempt: None,
            in_flight: None,
            next_id: 1,
            forced: false,
            chained: false,
            last_error: None,
            fetches: 0,
            failures: 0,
        })
    }

    /// The options it was made with (the limits each [`Fetch`] carries).
    pub fn options(&self) -> &RefreshOptions {
        &self.opts
    }

    /// The URL the refresher was made with.
    pub fn url(&self) -> &str {
        match &self.source {
            Source::KeySet(u) | Source::Configuration(u) => u,
        }
    }

    /// True when the source is an OpenID configuration (or an authority).
    pub fn discovers(&self) -> bool {
        matches!(self.source, Source::Configuration(_))
    }

    /// The key set's URL: the source itself, or the configuration's `jwks_uri`.
    pub fn jwks_url(&self) -> Option<&str> {
        match &self.source {
            Source::KeySet(u) => Some(u),
            Source::Configuration(_) => self.jwks_url.as_deref(),
        }
    }

    /// The configuration's `issuer`, once fetched.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Increases with every good key set.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// True once a good key set arrived; until then [`Refresher::key_set_at`]
    /// refuses every token with `keys_unavailable`.
    pub fn has_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// Why the last fetch failed (None after a good one).
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// Attempts started (a configuration and its key set are one attempt).
    pub fn fetches(&self) -> u64 {
        self.fetches
    }

    /// Attempts that failed, for health checks and metrics.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    fn stale(&self, now: u64) -> bool {
        match (&self.keys, self.fetched_at) {
            (Some(_), Some(t)) => now.saturating_sub(t) >= ms(self.opts.ttl),
            _ => true,
        }
    }

    fn may_attempt(&self, now: u64) -> bool {
        self.last_attempt
            .is_none_or(|t| now.saturating_sub(t) >= ms(self.opts.min_refresh_interval))
    }

    /// What to do at `now` (milliseconds of a monotonic clock).
    pub fn next(&mut self, now: u64) -> Next {
        if let Some(f) = &self.in_flight {
            // A binding that never reported back must not stall refreshes.
            if now.saturating_sub(f.started) <= ms(self.opts.timeout) + 1000 {
                return Next::InFlight;
            }
            let (id, url) = (f.id, f.url.clone());
            self.failed(id, now, &format!("GET {url} gave no answer"));
        }
        if !self.chained {
            if !(self.forced || self.stale(now)) || !self.may_attempt(now) {
                return Next::Idle;
            }
            self.last_attempt = Some(now);
            self.fetches += 1;
        }
        let (url, document) = match (&self.source, &self.jwks_url, self.chained) {
            (Source::KeySet(u), _, _) => (u.clone(), Document::KeySet),
            (Source::Configuration(_), Some(j), true) => (j.clone(), Document::KeySet),
            (Source::Configuration(c), _, _) => (c.clone(), Document::Configuration),
        };
        self.chained = false;
        self.forced = false;
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight = Some(InFlight {
            id,
            started: now,
            url: url.clone(),
            document,
        });
        Next::Fetch(Fetch {
            id,
            url,
            document,
            timeout_ms: ms(self.opts.timeout),
            max_bytes: self.opts.max_bytes,
        })
    }

    /// A token named a `kid` the keys lack: true when fresher keys may come
    /// (a fetch is in flight, or one is now due); at most one fetch per
    /// minimum refresh interval.
    pub fn unknown_kid(&mut self, now: u64) -> bool {
        if self.in_flight.is_some() {
            return true;
        }
        if self.may_attempt(now) {
            self.forced = true;
            return true;
        }
        false
    }

    fn take(&mut self, id: u64) -> Option<InFlight> {
        if self.in_flight.as_ref().is_some_and(|f| f.id == id) {
            self.in_flight.take()
        } else {
            None
        }
    }

    fn fail(&mut self, what: String) -> Error {
        self.failures += 1;
        self.chained = false;
        let e = Error::new(
            ErrorCode::JwksFetchFailed,
            what,
            if self.keys.is_some() {
                "the last good keys stay in use; check the JWKS source, the network and the timeout"
            } else {
                "no good key set was fetched yet: tokens are refused (keys_unavailable); check the JWKS source, the network and the timeout"
            },
        );
        self.last_error = Some(e.clone());
        e
    }

    /// The GET of fetch `id` failed without an answer (network, timeout,
    /// body over the limit): returns the error to log. A result for another
    /// id than the one in flight is ignored.
    pub fn failed(&mut self, id: u64, _now: u64, why: &str) -> Error {
        match self.take(id) {
            Some(f) => self.fail(format!("{} ({})", why, f.url)),
            None => Error::new(
                ErrorCode::JwksFetchFailed,
                why,
                "a late answer of an abandoned fetch",
            ),
        }
    }

    /// The GET of fetch `id` answered `status` with `body`. `Ok(true)` when a
    /// new key set is in use, `Ok(false)` when more is to fetch (the
    /// configuration arrived) or the answer was late; `Err` when the fetch
    /// failed (the last good keys stay in use).
    pub fn fetched(&mut self, id: u64, now: u64, status: u16, body: &[u8]) -> Result<bool> {
        let Some(f) = self.take(id) else {
            return Ok(false);
        };
        let url = f.url;
        if status != 200 {
            let redirect = if (300..400).contains(&status) {
                " (redirects are not followed)"
            } else {
                ""
            };
            return Err(self.fail(format!("GET {url} answered {status}{redirect}")));
        }
        if body.len() > self.opts.max_bytes {
            return Err(self.fail(format!(
                "the document at {url} is larger than {} bytes",
                self.opts.max_bytes
            )));
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Err(self.fail(format!("the document at {url} is not UTF-8 text")));
        };
        match f.document {
            Document::Configuration => self.configuration(&url, text).map(|()| false),
            Document::KeySet => self.key_set(&url, text, now).map(|()| true),
        }
    }

    fn configuration(&mut self, url: &str, text: &str) -> Result<()> {
        let doc: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                return Err(self.fail(format!("{url} did not answer JSON")));
            }
        };
        let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(jwks), Some(issuer)) = (field("jwks_uri"), field("issuer")) else {
            return Err(self.fail(format!(
                "{url} is not an OpenID configuration (it lacks jwks_uri or issuer)"
            )));
        };
        if let Err(e) = check_url(&jwks) {
            return Err(self.fail(format!(
                "{url} names a jwks_uri mfagate will not fetch: {}",
                e.message
            )));
        }
        self.jwks_url = Some(jwks);
        self.issuer = Some(issuer);
        self.chained = true;
        Ok(())
    }

    fn key_set(&mut self, url: &str, text: &str, now: u64) -> Result<()> {
        let set = match KeySet::from_json(text) {
            Ok(s) => s,
            Err(e) => {
                return Err(self.fail(format!("{url} did not answer a JWK Set: {}", e.message)))
            }
        };
        if set.is_empty() {
            return Err(self.fail(format!(
                "the JWK Set at {url} has no usable key ({} skipped)",
                set.skipped().len()
            )));
        }
        if set.len() > self.opts.max_keys {
            return Err(self.fail(format!(
                "the JWK Set at {url} has {} usable keys, more than the limit of {}",
                set.len(),
                self.opts.max_keys
            )));
        }
        let set = match (&self.source, &self.issuer) {
            (Source::Configuration(_), Some(i)) => set.with_issuer(i.clone()),
            _ => set,
        };
        self.keys = Some(Arc::new(set));
        self.version += 1;
        self.fetched_at = Some(now);
        self.last_error = None;
        Ok(())
    }

    /// Whole seconds until the next fetch may be tried (at least 1).
    pub fn retry_after(&self, now: u64) -> u32 {
        let left = self.last_attempt.map_or(0, |t| {
            ms(self.opts.min_refresh_interval).saturating_sub(now.saturating_sub(t))
        });
        u32::try_from(left.div_ceil(1000))
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// The keys to decide with: the last good set, or (before the first
    /// one) a set that refuses every token with `keys_unavailable`.
    pub fn key_set_at(&self, now: u64) -> Arc<KeySet> {
        match &self.keys {
            Some(k) => Arc::clone(k),
            None => {
                let why = self.last_error.as_ref().map_or_else(
                    || format!("no key set was fetched from {} yet", self.url()),
                    |e| e.message.clone(),
                );
                Arc::new(KeySet::unavailable(why, self.retry_after(now)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str =
        r#"{"keys":[{"kty":"oct","kid":"a","k":"MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE"}]}"#;

    fn fetch(n: Next) -> Fetch {
        match n {
            Next::Fetch(f) => f,
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    #[test]
    fn urls_and_sources() {
        for bad in [
            "http://example.com/keys",
            "ftp://x/y",
            "keys.json",
            "https://u:p@x/keys",
            "https:///keys",
        ] {
            assert_eq!(
                Refresher::new(bad, RefreshOptions::default())
                    .unwrap_err()
                    .code,
                ErrorCode::JwksUrlInvalid,
                "{bad}"
            );
        }
        for ok in [
            "http://127.0.0.1:8080/keys",
            "http://[::1]/keys",
            "http://localhost/keys",
            "https://login.microsoftonline.com/common/discovery/v2.0/keys",
        ] {
            let r = Refresher::new(ok, RefreshOptions::default()).unwrap();
            assert!(!r.discovers(), "{ok}");
        }
        for (src, config) in [
            ("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0", "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"),
            ("https://login.microsoftonline.com/common/", "https://login.microsoftonline.com/common/.well-known/openid-configuration"),
            ("https://login.microsoftonline.us/x/v2.0/.well-known/openid-configuration", "https://login.microsoftonline.us/x/v2.0/.well-known/openid-configuration"),
        ] {
            let mut r = Refresher::new(src, RefreshOptions::default()).unwrap();
            assert!(r.discovers());
            let f = fetch(r.next(0));
            assert_eq!((f.url.as_str(), f.document), (config, Document::Configuration));
        }
    }

    #[test]
    fn one_fetch_per_interval_before_the_first_good_set() {
        let mut r = Refresher::new("https://x.example/keys", RefreshOptions::default()).unwrap();
        let f = fetch(r.next(1000));
        assert_eq!(r.next(1001), Next::InFlight);
        assert!(r.fetched(f.id, 1100, 500, b"").is_err());
        for t in [1200, 30_000, 60_999] {
            assert_eq!(r.next(t), Next::Idle, "{t}");
        }
        assert_eq!(r.retry_after(31_000), 30);
        let ks = r.key_set_at(31_000);
        assert_eq!(ks.unavailability().map(|(_, s)| s), Some(30));
        let f = fetch(r.next(61_000));
        assert_eq!(r.fetched(f.id, 61_100, 200, JWKS.as_bytes()), Ok(true));
        assert_eq!((r.version(), r.fetches(), r.failures()), (1, 2, 1));
        assert!(r.key_set_at(61_200).unavailability().is_none());
        // Fresh for the TTL, then one refetch; a failure keeps the keys.
        assert_eq!(r.next(61_000 + 3_599_000), Next::Idle);
        let f = fetch(r.next(61_100 + 3_600_000));
        assert!(r
            .fetched(f.id, 0, 302, b"")
            .unwrap_err()
            .message
            .contains("redirects are not followed"));
        assert_eq!(r.key_set_at(0).len(), 1);
    }

    #[test]
    fn unknown_kids_refetch_at_most_once_per_interval() {
        let mut r = Refresher::new("https://x.example/keys", RefreshOptions::default()).unwrap();
        let f = fetch(r.next(0));
        r.fetched(f.id, 0, 200, JWKS.as_bytes()).unwrap();
        assert!(!r.unknown_kid(10_000));
        assert_eq!(r.next(10_000), Next::Idle);
        assert!(r.unknown_kid(60_000));
        let f = fetch(r.next(60_000));
        assert!(r.unknown_kid(60_001), "in flight: worth waiting for");
        r.fetched(f.id, 60_100, 200, JWKS.as_bytes()).unwrap();
        assert!(!r.unknown_kid(60_200));
    }

    #[test]
    fn discovery_takes_jwks_uri_and_issuer() {
        let mut r = Refresher::new(
            "https://login.microsoftonline.com/common/v2.0",
            RefreshOptions::default(),
        )
        .unwrap();
        let f = fetch(r.next(0));
        let config = r#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","jwks_uri":"https://login.microsoftonline.com/common/discovery/v2.0/keys"}"#;
        assert_eq!(r.fetched(f.id, 10, 200, config.as_bytes()), Ok(false));
        let k = fetch(r.next(11));
        assert_eq!(
            (k.url.as_str(), k.document),
            (
                "https://login.microsoftonline.com/common/discovery/v2.0/keys",
                Document::KeySet
            )
        );
        assert_eq!(r.fetched(k.id, 20, 200, JWKS.as_bytes()), Ok(true));
        assert_eq!(
            r.key_set_at(20).issuer(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
        assert_eq!(
            r.fetches(),
            1,
            "a configuration and its keys are one attempt"
        );
        // A configuration naming plain http elsewhere is refused.
        let mut r = Refresher::new(
            "https://login.microsoftonline.com/common/v2.0",
            RefreshOptions::default(),
        )
        .unwrap();
        let f = fetch(r.next(0));
        let bad = r#"{"issuer":"x","jwks_uri":"http://evil.example/keys"}"#;
        assert!(r.fetched(f.id, 1, 200, bad.as_bytes()).is_err());
        assert_eq!(r.next(2), Next::Idle);
    }

    #[test]
    fn limits_and_late_answers() {
        let opts = RefreshOptions {
            max_bytes: 10,
            max_keys: 1,
            min_refresh_interval: 0.0,
            ..Default::default()
        };
        let mut r = Refresher::new("https://x.example/keys", opts).unwrap();
        let f = fetch(r.next(0));
        assert!(r
            .fetched(f.id, 0, 200, JWKS.as_bytes())
            .unwrap_err()
            .message
            .contains("larger than 10 bytes"));
        let f = fetch(r.next(1));
        assert_eq!(
            r.fetched(f.id + 7, 1, 200, b"{}"),
            Ok(false),
            "not the fetch in flight"
        );
        let e = r.failed(f.id, 2, "no answer within 5 s");
        assert_eq!(e.code, ErrorCode::JwksFetchFailed);
        assert!(Refresher::new(
            "https://x.example/keys",
            RefreshOptions {
                ttl: -1.0,
                ..Default::default()
            }
        )
        .is_err());
    }
}
