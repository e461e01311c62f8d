//! Answers as hyper responses, per protocol: the exact refusal (Caddy,
//! Traefik, Envoy), nginx's two-step refusal, the allow with its subject
//! headers, and the server's own plain answers.

use crate::answer::{subject_values, Answer, SUBJECT_HEADERS};
use crate::rejection::Rejection;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use mfagate::Decision;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// nginx reads the refusal to relay from this header of the auth answer.
pub const X_MFAGATE_ANSWER: &str = "x-mfagate-answer";

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn append(h: &mut HeaderMap, name: &str, value: &str) -> bool {
    match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(n), Ok(v)) => {
            h.append(n, v);
            true
        }
        _ => false,
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A response that could not be built (a header the core would never
/// produce): still a refusal, never an allow.
fn broken() -> Response<Body> {
    plain(500, "mfagate-serve could not encode an answer\n")
}

pub fn plain(status: u16, text: &'static str) -> Response<Body> {
    let mut r = Response::new(full(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status_of(status);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub fn text(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status_of(status);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The refusal exactly: status, reason phrase (HTTP/1.1; Partner Center's
/// "Unauthorized - MFA required"), every header, the body.
pub fn exact(a: &Answer<'_>) -> Response<Body> {
    let mut r = Response::new(full(a.body.clone().into_owned()));
    *r.status_mut() = status_of(a.status);
    for (k, v) in &a.headers {
        if !append(r.headers_mut(), k, v) {
            return broken();
        }
    }
    if r.status().canonical_reason() != Some(a.status_text.as_ref()) {
        if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(a.status_text.as_bytes().to_vec()) {
            r.extensions_mut().insert(phrase);
        }
    }
    r
}

/// An allow: 200, the subject headers, and the decision's own headers
/// (`isMfaCompliant` under the 2026 rules), which the proxy may add to the
/// application's answer. No body.
pub fn allow(d: &Decision) -> Response<Body> {
    let mut r = Response::new(full(Bytes::new()));
    let h = r.headers_mut();
    for (name, value) in SUBJECT_HEADERS.iter().zip(subject_values(d)) {
        if !append(h, name, &value) {
            return broken();
        }
    }
    for (k, v) in &d.http.headers {
        if !append(h, k, v) {
            return broken();
        }
    }
    r
}

/// nginx relays only 401 and 403 from `auth_request` (anything else
/// becomes 500), with its own body. So every refusal is answered 403, with
/// the exact answer encoded in `X-Mfagate-Answer`; the gated location's
/// `error_page 403` (docs/serve.md) hands it back to [`nginx_render`],
/// which answers it exactly. Not 401: nginx would copy `WWW-Authenticate`
/// onto the client's answer by itself, and the rendered one would repeat it.
/// Without the `error_page`, the client gets nginx's plain 403: still a
/// refusal.
pub fn nginx_refused(a: &Answer<'_>) -> Response<Body> {
    let Ok(json) = serde_json::to_vec(a) else {
        return broken();
    };
    let blob = URL_SAFE_NO_PAD.encode(json);
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = StatusCode::FORBIDDEN;
    let h = r.headers_mut();
    if !append(h, X_MFAGATE_ANSWER, &blob) {
        return broken();
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The refusal nginx's `error_page` location asks for: the answer of
/// `X-Mfagate-Answer`, exactly. Never a 2xx, whatever the header says.
pub fn nginx_render(h: &HeaderMap) -> Result<Response<Body>, Rejection> {
    let blob = h
        .get(X_MFAGATE_ANSWER)
        .map(|v| v.as_bytes())
        .filter(|b| !b.is_empty())
        .ok_or_else(Rejection::answer_missing)?;
    let json = URL_SAFE_NO_PAD
        .decode(blob)
        .map_err(|_| Rejection::answer_missing())?;
    let a: Answer<'_> = serde_json::from_slice(&json).map_err(|_| Rejection::answer_missing())?;
    if !(300..600).contains(&a.status) {
        return Err(Rejection::answer_missing());
    }
    Ok(exact(&a))
}

pub fn rejection(r: &Rejection) -> Response<Body> {
    exact(&Answer::of_rejection(r))
}
