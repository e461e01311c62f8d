//! Host names: a policy's (checked and normalised once, when it compiles)
//! and a request's (every reading a router may route it on).

use std::borrow::Cow;

/// Lower-cases a policy's host and drops a numeric port and trailing dots.
pub fn normalize_host(host: &str) -> Cow<'_, str> {
    let h = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    let h = h.trim_end_matches('.');
    if h.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(h.to_ascii_lowercase())
    } else {
        Cow::Borrowed(h)
    }
}

/// Why a policy host is refused, if it is: hosts are compared in the form
/// clients send (RFC 9110 §7.2: ASCII, an IDN as its `xn--` A-label).
pub fn policy_host_problem(host: &str) -> Option<&'static str> {
    if host.is_empty() {
        Some("is empty")
    } else if !host.is_ascii() {
        Some("is not ASCII; write an internationalised name as its A-label (xn--…), the form clients send in Host")
    } else if !host.bytes().all(host_byte) || host.contains(',') {
        Some("has a character no host name has; write the bare name, like admin.contoso.example")
    } else {
        None
    }
}

/// Bytes a Host value may hold (RFC 3986 §3.2.2 reg-name and IP-literal,
/// RFC 9110 §7.2 port), without `%`: no client escapes a host name, and
/// routers disagree on decoding one.
fn host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
        )
}

/// Every host a router may route `raw` on (a `Host`, `:authority` or
/// trusted `X-Forwarded-Host` value, as received); `None` stands for a
/// reading under which no host-scoped route matches. The first reading is
/// the usual one (lower case, numeric port and trailing dots dropped). More
/// come only when routers can disagree:
/// - a port that is not a number, or several colons (`a.example:x`,
///   `a.example:443:443`): Express's `req.hostname` and Caddy cut at the
///   first colon, Go's `net.SplitHostPort` (Traefik) at the last, and a
///   router that fails to split sees no known host;
/// - a trailing dot, or upper case: routers that keep them match no host;
/// - a list (`a.example, b.example`, from `X-Forwarded-Host`): Express
///   reads the first value, ProxyFix-style readers the last, so each is read.
///
/// Refused (the `Err` says why): a value with a character no host has
/// (controls, spaces inside a name, `/`, `\\`, `@`, `%`, any non-ASCII byte:
/// clients send an IDN as its A-label, and a router applying IDNA mapping
/// to a Unicode host could reach a host the gate does not see).
pub fn host_readings(raw: &str) -> Result<Vec<Option<Cow<'_, str>>>, String> {
    fn push<'h>(r: Option<Cow<'h, str>>, out: &mut Vec<Option<Cow<'h, str>>>) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    let mut out: Vec<Option<Cow<'_, str>>> = Vec::with_capacity(1);
    let values: Vec<&str> = raw
        .split(',')
        .map(|v| v.trim_matches([' ', '\t']))
        .collect();
    for v in &values {
        if let Some(b) = v.bytes().find(|&b| !host_byte(b)) {
            return Err(format!(
                "host {raw:?} has the byte 0x{b:02X}, which no host name holds; pass the Host (or \
                 :authority) value as received, with an internationalised name as its A-label (xn--…)"
            ));
        }
    }
    for v in values {
        if v.is_empty() {
            push(None, &mut out);
            continue;
        }
        let (cut_first, cut_last, clean) = if v.starts_with('[') {
            // An IP-literal: the host ends at `]`; a port may follow.
            let end = v.find(']').map_or(v.len(), |i| i + 1);
            let (h, rest) = v.split_at(end);
            let port_ok = rest.is_empty()
                || rest
                    .strip_prefix(':')
                    .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            (h, h, port_ok && h.ends_with(']'))
        } else {
            let first = v.split(':').next().unwrap_or(v);
            let last = v.rsplit_once(':').map_or(v, |(h, _)| h);
            let clean = match v.split_once(':') {
                None => true,
                Some((_, p)) => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
            };
            (first, last, clean)
        };
        for h in [cut_first, cut_last] {
            let lower = if h.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(h.to_ascii_lowercase())
            } else {
                Cow::Borrowed(h)
            };
            let bare = match lower {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim_end_matches('.')),
                Cow::Owned(o) => Cow::Owned(o.trim_end_matches('.').to_owned()),
            };
            push((!bare.is_empty()).then_some(bare), &mut out);
        }
        let exact = clean
            && !cut_first.ends_with('.')
            && !cut_first.bytes().any(|b| b.is_ascii_uppercase());
        if !exact {
            push(None, &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_drop_ports_and_case() {
        assert_eq!(
            normalize_host("Partner.Microsoft.com:443"),
            "partner.microsoft.com"
        );
        assert_eq!(normalize_host("[::1]:8080"), "[::1]");
    }
}
