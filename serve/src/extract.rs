//! Reading the original request out of each protocol's auth request. Only
//! the headers a protocol defines are read (a client's X-Forwarded-Uri means
//! nothing to the nginx endpoint); a missing one is refused, never replaced
//! by the auth request's own path or method. Paths are passed on as the
//! client sent them: the core refuses what is not an origin-form path
//! (`request_invalid`, 400) and decides a path by every route a router could
//! read it as.

use crate::rejection::Rejection;
use http::header::{HeaderMap, HeaderName, AUTHORIZATION, COOKIE};
use std::borrow::Cow;

/// The original request, borrowed from the auth request where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked<'a> {
    pub method: Cow<'a, str>,
    /// Path and query, as the client sent them.
    pub path: Cow<'a, str>,
    pub host: Option<Cow<'a, str>>,
    pub authorization: Option<Cow<'a, str>>,
    pub token: Option<String>,
    pub validate_mfa: Option<bool>,
}

pub const X_ORIGINAL_URI: &str = "x-original-uri";
pub const X_ORIGINAL_METHOD: &str = "x-original-method";
pub const X_ORIGINAL_HOST: &str = "x-original-host";
pub const X_FORWARDED_URI: &str = "x-forwarded-uri";
pub const X_FORWARDED_METHOD: &str = "x-forwarded-method";
pub const X_FORWARDED_HOST: &str = "x-forwarded-host";
pub const VALIDATE_MFA: &str = "validatemfa";

const NGINX_FIX: &str = "add proxy_set_header X-Original-URI $request_uri; and X-Original-Method $request_method; to the auth location (docs/serve.md)";
const FORWARD_FIX: &str = "Caddy's forward_auth and Traefik's ForwardAuth send X-Forwarded-Method and X-Forwarded-Uri; another proxy must set both (docs/serve.md)";

fn text<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Rejection> {
    std::str::from_utf8(bytes).map_err(|_| Rejection::unreadable(what))
}

/// The one value of a header the proxy sets, if present.
fn single<'a>(h: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, Rejection> {
    let mut values = h.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::repeated(name));
    }
    text(first.as_bytes(), name).map(Some)
}

fn required<'a>(h: &'a HeaderMap, name: &'static str, fix: &str) -> Result<&'a str, Rejection> {
    single(h, name)?.ok_or_else(|| Rejection::missing(name, fix))
}

/// Every line of a header joined with `sep` (RFC 9110 §5.3), borrowed when
/// there is one. Credentials that are not UTF-8 are passed on lossily: the
/// core refuses them as malformed tokens, as it would any garbage.
pub fn joined<'a>(h: &'a HeaderMap, name: &HeaderName, sep: &str) -> Option<Cow<'a, str>> {
    let mut values = h.get_all(name).iter();
    let first = values.next()?;
    let mut out = String::from_utf8_lossy(first.as_bytes());
    for v in values {
        let o = out.to_mut();
        o.push_str(sep);
        o.push_str(&String::from_utf8_lossy(v.as_bytes()));
    }
    Some(out)
}

/// The credentials and `ValidateMfa` of the original request, which every
/// proxy passes on as the client's own headers: all Authorization lines,
/// and the session cookie out of all Cookie lines (HTTP/2 splits them).
pub fn credentials<'a>(
    h: &'a HeaderMap,
    cookie: Option<&str>,
) -> (Option<Cow<'a, str>>, Option<String>, Option<bool>) {
    let authorization = joined(h, &AUTHORIZATION, ", ");
    let token = cookie.and_then(|name| {
        let cookies = joined(h, &COOKIE, "; ")?;
        mfagate::session_cookie(&cookies, name)
    });
    let validate = HeaderName::from_static(VALIDATE_MFA);
    let validate_mfa = mfagate::validate_mfa_header(joined(h, &validate, ", ").as_deref());
    (authorization, token, validate_mfa)
}

fn asked<'a>(
    h: &'a HeaderMap,
    cookie: Option<&str>,
    method: &'a str,
    path: &'a str,
    host: Option<&'a str>,
) -> Asked<'a> {
    let (authorization, token, validate_mfa) = credentials(h, cookie);
    Asked {
        method: Cow::Borrowed(method),
        path: Cow::Borrowed(path),
        host: host.map(Cow::Borrowed),
        authorization,
        token,
        validate_mfa,
    }
}

/// nginx `auth_request`: the subrequest has its own URI and method, so the
/// original ones come from the headers the auth location sets.
pub fn nginx<'a>(h: &'a HeaderMap, cookie: Option<&str>) -> Result<Asked<'a>, Rejection> {
    let path = required(h, X_ORIGINAL_URI, NGINX_FIX)?;
    let method = required(h, X_ORIGINAL_METHOD, NGINX_FIX)?;
    let host = single(h, X_ORIGINAL_HOST)?;
    Ok(asked(h, cookie, method, path, host))
}

/// Caddy `forward_auth` and Traefik `ForwardAuth`.
pub fn forward<'a>(h: &'a HeaderMap, cookie: Option<&str>) -> Result<Asked<'a>, Rejection> {
    let path = required(h, X_FORWARDED_URI, FORWARD_FIX)?;
    let method = required(h, X_FORWARDED_METHOD, FORWARD_FIX)?;
    let host = single(h, X_FORWARDED_HOST)?;
    if host.is_some_and(|v| v.contains(',')) {
        // `a, b`: the proxy appended its value to a client's.
        return Err(Rejection::repeated(X_FORWARDED_HOST));
    }
    Ok(asked(h, cookie, method, path, host))
}

/// Envoy's HTTP ext_authz service: the check request carries the original
/// method, `:authority` and headers, and the original path and query after
/// the configured `path_prefix`.
pub fn envoy<'a>(
    parts: &'a http::request::Parts,
    prefix: &str,
    cookie: Option<&str>,
) -> Result<Asked<'a>, Rejection> {
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |pq| pq.as_str());
    let prefix = prefix.trim_end_matches('/');
    // Envoy appends the client's path, which starts with `/`.
    let path = target
        .strip_prefix(prefix)
        .filter(|rest| rest.starts_with('/'))
        .ok_or_else(|| Rejection::path("the check request's path"))?;
    let host = match parts.uri.authority() {
        Some(a) => Some(a.as_str()),
        None => single(&parts.headers, "host")?,
    };
    Ok(asked(
        &parts.headers,
        cookie,
        parts.method.as_str(),
        path,
        host,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn nginx_reads_only_its_own_headers() {
        let h = headers(&[
            ("x-original-uri", "/v1/customers?x=1"),
            ("x-original-method", "POST"),
            ("x-forwarded-uri", "/public"),
            ("authorization", "Bearer a"),
        ]);
        let a = nginx(&h, None).unwrap();
        assert_eq!(
            (a.method.as_ref(), a.path.as_ref()),
            ("POST", "/v1/customers?x=1")
        );
        assert_eq!(a.authorization.as_deref(), Some("Bearer a"));
        let h = headers(&[("x-forwarded-uri", "/public"), ("x-original-method", "GET")]);
        let e = nginx(&h, None).unwrap_err();
        assert_eq!(e.status, 500);
        assert!(e.message.contains("x-original-uri"), "{}", e.message);
    }

    #[test]
    fn forward_refuses_appended_and_absolute_forms() {
        let h = headers(&[
            ("x-forwarded-uri", "/a"),
            ("x-forwarded-uri", "/b"),
            ("x-forwarded-method", "GET"),
        ]);
        assert_eq!(forward(&h, None).unwrap_err().status, 500);
        let h = headers(&[
            ("x-forwarded-uri", "/a"),
            ("x-forwarded-method", "GET"),
            ("x-forwarded-host", "evil.example, good.example"),
        ]);
        assert_eq!(forward(&h, None).unwrap_err().status, 500);
        let h = headers(&[("x-forwarded-method", "GET")]);
        assert_eq!(forward(&h, None).unwrap_err().status, 500);
    }

    #[test]
    fn credentials_keep_every_line() {
        let h = headers(&[
            ("authorization", "Bearer a"),
            ("authorization", "Bearer b"),
            ("cookie", "x=1; id_token=t1"),
            ("cookie", "id_token=t2"),
            ("validatemfa", "true"),
        ]);
        let (a, t, v) = credentials(&h, Some("id_token"));
        assert_eq!(a.as_deref(), Some("Bearer a, Bearer b"));
        assert_eq!(t.as_deref(), Some("t1, t2"));
        assert_eq!(v, Some(true));
        let (_, t, v) = credentials(&h, None);
        assert_eq!(
            (t, v.is_some()),
            (None, true),
            "cookies are read only when named"
        );
    }

    #[test]
    fn envoy_strips_its_prefix() {
        let req = http::Request::builder()
            .method("DELETE")
            .uri("/envoy/v1/customers?a=b")
            .header("host", "api.example")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let a = envoy(&parts, "/envoy", None).unwrap();
        assert_eq!(
            (a.method.as_ref(), a.path.as_ref(), a.host.as_deref()),
            ("DELETE", "/v1/customers?a=b", Some("api.example"))
        );
        let req = http::Request::builder().uri("/envoyx").body(()).unwrap();
        let (parts, ()) = req.into_parts();
        assert!(envoy(&parts, "/envoy", None).is_err());
    }
}
