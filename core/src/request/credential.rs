//! Which credential a request carries, and reading a session cookie.

use super::Request;

/// Whether `s` holds a `,`: a branch-free scan of 32-byte blocks, which
/// the compiler turns into vector instructions (a token is about 1 KB, and
/// `str::contains` scans it a word at a time).
fn has_comma(s: &str) -> bool {
    let b = s.as_bytes();
    let mut blocks = b.chunks_exact(32);
    let found = blocks
        .by_ref()
        .any(|c| c.iter().fold(0u8, |a, &x| a | u8::from(x == b',')) != 0);
    found || blocks.remainder().contains(&b',')
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
            } else if has_comma(t) {
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
            } else if has_comma(t) {
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
