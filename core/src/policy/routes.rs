//! Route matching, compiled once into a segment trie so that a policy of
//! 10,000 routes costs about what one of 10 does.

use crate::error::{Error, ErrorCode, Result};
use std::borrow::Cow;
use std::collections::HashMap;

/// Paths with more segments than this are refused (`request_invalid`).
pub const MAX_SEGMENTS: usize = 64;

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<Box<str>, usize>,
    star: Option<usize>,
    /// Routes whose pattern ends exactly here.
    exact: Vec<Entry>,
    /// Routes whose pattern ends here with `**`.
    rest: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    route: usize,
    methods: Vec<Box<str>>,
    hosts: Vec<Box<str>>,
    pattern: Box<str>,
}

impl Entry {
    fn score(&self) -> u8 {
        (u8::from(!self.hosts.is_empty()) << 1) | u8::from(!self.methods.is_empty())
    }
    fn accepts_host(&self, host: Option<&str>) -> bool {
        self.hosts.is_empty()
            || host.is_some_and(|h| self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h)))
    }
    /// RFC 9110 §9.3.2: HEAD is GET without a body, so a GET route governs it.
    fn lists(&self, method: &str) -> bool {
        self.methods.iter().any(|m| {
            m.eq_ignore_ascii_case(method) || (method.eq_ignore_ascii_case("HEAD") && &**m == "GET")
        })
    }
    fn accepts(&self, method: &str, host: Option<&str>) -> bool {
        (self.methods.is_empty() || self.lists(method)) && self.accepts_host(host)
    }
    fn overlaps(&self, o: &Entry) -> bool {
        fn meet(a: &[Box<str>], b: &[Box<str>]) -> bool {
            a.is_empty()
                || b.is_empty()
                || a.iter()
                    .any(|x| b.iter().any(|y| x.eq_ignore_ascii_case(y)))
        }
        self.score() == o.score() && meet(&self.methods, &o.methods) && meet(&self.hosts, &o.hosts)
    }
}

/// A compiled set of route patterns.
#[derive(Debug)]
pub struct RouteTable {
    nodes: Vec<Node>,
    /// Route ids by index, for conflict messages.
    ids: Vec<String>,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `;params` a router drops hold nothing a decoding proxy would
/// turn into structure: an escaped `/`, `\`, `?`, `#`, `;` or NUL there
/// becomes a separator before the router drops the parameters, so
/// `/;x%2F..%2Fcommerce` would be read as a path (found by fuzzing).
fn params_are_inert(params: &str) -> bool {
    if !params.contains('%') {
        return true;
    }
    let b = params.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let byte = match (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => (h << 4) | l,
                _ => return false,
            };
            if separator_or_control(byte) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// A byte that, once a proxy or router decodes it, changes the path's
/// structure (`/`, `\\`, `?`, `#`, `;`) or that no server reads alike: NUL,
/// the other C0 controls and DEL (tab, CR and LF among them).
fn separator_or_control(b: u8) -> bool {
    matches!(b, b'/' | b'\\' | b'?' | b'#' | b';') || b < 0x20 || b == 0x7f
}

/// Whether a segment needs more than a borrow to be canonical: an escape,
/// upper case, any non-ASCII character (a Unicode case fold may apply), or a
/// trailing dot or space (IIS strips them).
fn needs_canonical_form(seg: &str) -> bool {
    seg.bytes()
        .any(|b| b == b'%' || b.is_ascii_uppercase() || !b.is_ascii())
        || seg.ends_with(['.', ' '])
}

/// How routers that ignore case see one character, when that is ASCII:
/// ASP.NET Core compares routes with invariant upper-casing
/// (`StringComparison.OrdinalIgnoreCase`), under which `ſ` (U+017F) is `S`
/// and `ı` (U+0131) is `I`; Java's `equalsIgnoreCase` (servlet containers,
/// Spring) also lower-cases the Kelvin sign `K` (U+212A) to `k` and `İ`
/// (U+0130) to `i`. Every other character folds only to itself in ASCII.
fn fold_char(c: char) -> char {
    match c {
        '\u{017F}' => 's',
        '\u{0131}' | '\u{0130}' => 'i',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// Percent-decodes and case-folds one segment, borrowing when it can.
/// Path parameters (`;jsessionid=…`) are dropped, as servers that honour them
/// do; an escaped separator (`%2F`, `%5C`), `?` (`%3F`), `#` (`%23`), `;`
/// (`%3B`), NUL or other control character is refused, since servers
/// disagree on what it means. Trailing dots and spaces are dropped, as IIS
/// drops them (`/commerce./x` is `/commerce/x` there); a segment of nothing
/// else reads as `..` (refused as a dot segment).
fn canonical_segment(seg: &str) -> Option<Cow<'_, str>> {
    let (seg, params) = seg.split_once(';').unwrap_or((seg, ""));
    if !params_are_inert(params) {
        return None;
    }
    if !needs_canonical_form(seg) {
        return Some(Cow::Borrowed(seg));
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (h, l) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
            out.push((h << 4) | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // An escaped `/` or `\\` moves segment boundaries, an escaped `?` or
    // `#` ends the path and an escaped `;` starts parameters, for any proxy
    // or router that decodes before it splits: refused, like NUL.
    if out.iter().any(|&b| separator_or_control(b)) {
        return None;
    }
    let decoded = String::from_utf8(out).ok()?;
    let folded: String = decoded.chars().map(fold_char).collect();
    let kept = folded.trim_end_matches(['.', ' ']);
    if kept.is_empty() && !folded.is_empty() {
        return Some(Cow::Borrowed(".."));
    }
    Some(Cow::Owned(kept.to_owned()))
}

/// How a request segment can compare with a policy's literal segment under
/// the routers an application may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Already canonical: every router compares it the same way.
    Certain,
    /// Not canonical (upper case, a percent-escape, `;params`): a router that
    /// folds, decodes or strips the way mfagate does sees the literal; one
    /// that does not (Starlette, Fastify, Express with `caseSensitive`) sees
    /// another string, which matches no literal of the policy.
    Uncertain,
    /// A segment that only some routers see at all (holding `\`, or empty):
    /// it can match `*` or `**` only.
    Opaque,
}

/// A request path, split for route matching.
#[derive(Debug)]
pub struct RequestPath<'p> {
    /// Canonical segments: query cut, `\` taken as `/` (as some servers do),
    /// percent-escapes decoded, case folded, `;params` dropped, empty
    /// segments dropped.
    pub segs: Vec<Cow<'p, str>>,
    /// How each segment may be read; `None` when every one is certain (the
    /// usual case, which then allocates nothing more).
    fits: Option<Vec<Fit>>,
    /// The path split on `/` only (as routers that keep `\` and empty
    /// segments see it), when that differs from the canonical split.
    literal: Option<(Vec<Cow<'p, str>>, Vec<Fit>)>,
    /// The path without query, as given.
    pub raw: &'p str,
    /// The query string, without `?` (for the sign-in redirect's `return_to`).
    pub query: Option<&'p str>,
}

impl<'p> RequestPath<'p> {
    /// True when every router sees this path the same way as mfagate.
    pub fn is_plain(&self) -> bool {
        self.literal.is_none() && self.fits.is_none()
    }

    /// The segments with case kept: percent-escapes decoded, `;params`
    /// dropped, empty segments dropped, `\` as `/` (for `return_to`).
    pub fn display(&self) -> Vec<Cow<'p, str>> {
        self.raw
            .split(['/', '\\'])
            .filter_map(|raw| {
                let seg = decoded_segment(raw)?;
                (!seg.is_empty()).then_some(seg)
            })
            .collect()
    }
}

/// Percent-decodes one segment (case kept, `;params` dropped).
fn decoded_segment(seg: &str) -> Option<Cow<'_, str>> {
    let (seg, params) = seg.split_once(';').unwrap_or((seg, ""));
    if !params_are_inert(params) {
        return None;
    }
    if !seg.contains('%') {
        return Some(Cow::Borrowed(seg));
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (h, l) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
            out.push((h << 4) | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // An escaped `/` or `\` moves segment boundaries, an escaped `?` or
    // `#` ends the path and an escaped `;` starts parameters, for any proxy
    // or router that decodes before it splits: refused, like NUL.
    if out.iter().any(|&b| separator_or_control(b)) {
        return None;
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Splits a request path for matching. Refused (the `Err` says why): a raw
/// `#`, a path not starting with `/`, a bad percent-escape, an escaped `/`, `\`, `?`, `#`, `;` or NUL,
/// a raw `#` or control character, a `.` or `..` segment (even escaped, or
/// a segment of only dots and spaces, which IIS reads as empty: clients send normalised paths and
/// servers disagree on resolving them, so the gate could decide for another
/// page than the app serves), more than [`MAX_SEGMENTS`] segments.
pub fn parse_path(target: &str) -> Result<RequestPath<'_>, String> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    // Messages quote the path only, never the query: it can carry secrets
    // (`?access_token=…`), and refusals reach logs.
    //
    // RFC 9112 §3.2: a request-target has no fragment; clients strip it.
    // A raw `#` is refused rather than cut: routers disagree on it (some
    // read it as part of the path), so the gate could route elsewhere.
    if target.contains('#') {
        return Err(format!(
            "the request-target (path {path:?}) contains a raw '#'; a request-target never carries a \
             fragment (RFC 9112 §3.2), pass the path and query as the server received them"
        ));
    }
    // RFC 9112 §3.2 and RFC 3986 §3.3 admit no control character in a
    // request-target; servers that accept one anyway disagree on it (a tab
    // or CR/LF may end the target, or be kept), so it has no single reading.
    if let Some(b) = target.bytes().find(|&b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "the request-target (path {:?}) contains the control character 0x{b:02X}; a request-target \
             has none (RFC 9112 §3.2), so servers disagree on where the path ends",
            path.split(|c: char| c.is_ascii_control()).next().unwrap_or("")
        ));
    }
    if !path.starts_with('/') {
        return Err(format!("path {path:?} does not start with '/'"));
    }
    let mut segs: Vec<Cow<'_, str>> = Vec::with_capacity(8);
    // The usual path (lower case, no escape, `;`, `\` or `//`) is already
    // canonical: one scan, and every router reads it alike.
    let b = path.as_bytes();
    let plain = b.iter().enumerate().all(|(i, &c)| {
        let double_slash = c == b'/' && b.get(i + 1) == Some(&b'/');
        let trailing = matches!(c, b'.' | b' ') && matches!(b.get(i + 1), None | Some(b'/'));
        !(c == b'%'
            || c == b';'
            || c == b'\\'
            || c.is_ascii_uppercase()
            || !c.is_ascii()
            || double_slash
            || trailing)
    });
    if plain {
        let mut rest = path;
        while let Some(after) = rest.strip_prefix('/') {
            let end = after.bytes().position(|c| c == b'/').unwrap_or(after.len());
            let (seg, tail) = after.split_at(end);
            rest = tail;
            if seg.is_empty() {
                continue;
            }
            if seg == "." || seg == ".." {
                return Err(format!(
                    "path {path:?} has a dot segment; clients send normalised paths, and servers \
                     disagree on resolving them (the gate could decide for another page than the app serves)"
                ));
            }
            segs.push(Cow::Borrowed(seg));
            if segs.len() > MAX_SEGMENTS {
                return Err(format!("path has more than {MAX_SEGMENTS} segments"));
            }
        }
        return Ok(RequestPath {
            segs,
            fits: None,
            literal: None,
            raw: path,
            query,
        });
    }
    // `;params` end at the next `/` for routers that keep `\` and at the
    // next `\` for those that split on it: `/;\x/commerce` is `/commerce`
    // to one and `/x/commerce` to the other. Found by fuzzing.
    if let Some(part) = path.split('/').find(|p| {
        p.split_once(';')
            .is_some_and(|(_, params)| params.contains('\\'))
    }) {
        return Err(format!(
            "path segment {part:?} has a '\\' inside its ;parameters; routers disagree on where the \
             parameters end, so the path has no single reading"
        ));
    }
    let mut fits: Option<Vec<Fit>> = None;
    for raw in path.split(['/', '\\']) {
        let seg = canonical_segment(raw).ok_or_else(|| {
            format!(
                "path segment {raw:?} has a bad percent-escape or an escaped /, \\, ?, #, ; or NUL"
            )
        })?;
        match &*seg {
            "" => {}
            "." | ".." => {
                return Err(format!(
                    "path {path:?} has a dot segment; clients send normalised paths, and servers \
                     disagree on resolving them (the gate could decide for another page than the app serves)"
                ))
            }
            _ => {
                if *seg != *raw && fits.is_none() {
                    fits = Some(vec![Fit::Certain; segs.len()]);
                }
                if let Some(f) = &mut fits {
                    f.push(if *seg == *raw { Fit::Certain } else { Fit::Uncertain });
                }
                segs.push(seg);
            }
        }
        if segs.len() > MAX_SEGMENTS {
            return Err(format!("path has more than {MAX_SEGMENTS} segments"));
        }
    }
    // Routers that keep `\` and empty segments see another split: only
    // then is it worth making (one trailing slash aside).
    let inner = path.strip_suffix('/').unwrap_or(path);
    let literal = if inner
        .split('/')
        .skip(1)
        .any(|p| p.is_empty() || p.contains('\\'))
    {
        let mut segs = Vec::with_capacity(8);
        let mut fits = Vec::with_capacity(8);
        for p in inner.split('/').skip(1) {
            if p.is_empty() || p.contains('\\') {
                segs.push(Cow::Borrowed(""));
                fits.push(Fit::Opaque);
            } else {
                // Every segment here was checked by the canonical split above.
                let c = canonical_segment(p).unwrap_or(Cow::Borrowed(""));
                fits.push(if *c == *p {
                    Fit::Certain
                } else {
                    Fit::Uncertain
                });
                segs.push(c);
            }
        }
        Some((segs, fits))
    } else {
        None
    };
    Ok(RequestPath {
        segs,
        fits,
        literal,
        raw: path,
        query,
    })
}

/// The canonical segments of a request path (see [`parse_path`]), so that
/// `/x/Commerce//a` is `/x/commerce/a`.
#[cfg(test)]
pub fn normalize_path(path: &str) -> Result<Vec<Cow<'_, str>>, String> {
    parse_path(path).map(|p| p.segs)
}

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

fn pattern_err(id: &str, pattern: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::PolicyInvalid,
        format!("route {id:?}: path pattern {pattern:?} {why}"),
        "patterns start with '/', use '*' for exactly one segment and a final '**' for any rest, like /commerce/**",
    )
}

impl RouteTable {
    pub fn new() -> RouteTable {
        RouteTable {
            nodes: vec![Node::default()],
            ids: Vec::new(),
        }
    }

    /// Adds a route's patterns. `route` is the caller's index for it.
    pub fn add(
        &mut self,
        route: usize,
        id: &str,
        patterns: &[String],
        methods: &[String],
        hosts: &[String],
    ) -> Result<()> {
        if self.ids.len() <= route {
            self.ids.resize(route + 1, String::new());
        }
        self.ids[route] = id.to_owned();
        for pattern in patterns {
            if !pattern.starts_with('/') {
                return Err(pattern_err(id, pattern, "does not start with '/'"));
            }
            let raw: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
            let mut node = 0;
            let mut globstar = false;
            for (i, seg) in raw.iter().enumerate() {
                match *seg {
                    "**" if i + 1 == raw.len() => globstar = true,
                    "**" => {
                        return Err(pattern_err(id, pattern, "has '**' before its last segment"))
                    }
                    "*" => {
                        node = match self.nodes[node].star {
                            Some(n) => n,
                            None => {
                                self.nodes.push(Node::default());
                                let n = self.nodes.len() - 1;
                                self.nodes[node].star = Some(n);
                                n
                            }
                        }
                    }
                    s if s.contains('*') => {
                        return Err(pattern_err(id, pattern, "has '*' inside a segment"))
                    }
                    "." | ".." => {
                        return Err(pattern_err(id, pattern, "has a '.' or '..' segment"))
                    }
                    s => {
                        let key: Box<str> = canonical_segment(s)
                            .ok_or_else(|| pattern_err(id, pattern, "has a bad percent-escape"))?
                            .into();
                        node = match self.nodes[node].literal.get(&key) {
                            Some(&n) => n,
                            None => {
                                self.nodes.push(Node::default());
                                let n = self.nodes.len() - 1;
                                self.nodes[node].literal.insert(key, n);
                                n
                            }
                        }
                    }
                }
            }
            if let Some((h, why)) = hosts
                .iter()
                .find_map(|h| policy_host_problem(h).map(|why| (h, why)))
            {
                return Err(Error::new(
                    ErrorCode::PolicyInvalid,
                    format!("route {id:?}: host {h:?} {why}"),
                    "hosts are bare host names (admin.contoso.example), an optional port, in ASCII",
                ));
            }
            let entry = Entry {
                route,
                methods: methods
                    .iter()
                    .map(|m| m.to_ascii_uppercase().into())
                    .collect(),
                hosts: hosts
                    .iter()
                    .map(|h| normalize_host(h).into_owned().into())
                    .collect(),
                pattern: pattern.as_str().into(),
            };
            let list = if globstar {
                &mut self.nodes[node].rest
            } else {
                &mut self.nodes[node].exact
            };
            if let Some(other) = list.iter().find(|e| e.route != route && e.overlaps(&entry)) {
                return Err(Error::new(
                    ErrorCode::PolicyRouteConflict,
                    format!(
                        "routes {:?} ({}) and {id:?} ({pattern}) match the same requests",
                        self.ids[other.route], other.pattern
                    ),
                    "give one of them distinct methods or hosts, change a pattern, or set enabled = false on one",
                ));
            }
            list.push(entry);
        }
        Ok(())
    }

    /// The routes of `list` that govern the request, pushed to `acc`; false
    /// when none does. One route normally (the most specific); for OPTIONS,
    /// every route on the path unless one lists OPTIONS (a preflight is
    /// decided like the request it precedes, never by falling through).
    fn govern(list: &[Entry], method: &str, host: Option<&str>, acc: &mut Vec<usize>) -> bool {
        if method.eq_ignore_ascii_case("OPTIONS") {
            let explicit = list
                .iter()
                .filter(|e| e.accepts_host(host) && e.lists(method))
                .max_by_key(|e| e.score());
            if let Some(e) = explicit {
                acc.push(e.route);
                return true;
            }
            let before = acc.len();
            acc.extend(
                list.iter()
                    .filter(|e| e.accepts_host(host))
                    .map(|e| e.route),
            );
            return acc.len() > before;
        }
        match list
            .iter()
            .filter(|e| e.accepts(method, host))
            .max_by_key(|e| e.score())
        {
            Some(e) => {
                acc.push(e.route);
                true
            }
            None => false,
        }
    }

    /// Collects into `acc` every route that some reading of `segs` selects
    /// under this node; returns true when some reading selects none (the
    /// default). `fits` says how each segment may be read (absent: every
    /// segment is certain). At each segment a literal beats `*`, which beats
    /// `**`, backtracking when a branch dead-ends.
    fn walk(
        &self,
        node: usize,
        segs: &[Cow<'_, str>],
        fits: Option<&[Fit]>,
        q: &Query<'_>,
        acc: &mut Vec<usize>,
    ) -> bool {
        let n = &self.nodes[node];
        let Some((seg, rest)) = segs.split_first() else {
            return !Self::govern(&n.exact, q.method, q.host, acc)
                && !Self::govern(&n.rest, q.method, q.host, acc);
        };
        let (fit, rest_fits) = match fits {
            Some(f) => (f.first().copied().unwrap_or(Fit::Certain), f.get(1..)),
            None => (Fit::Certain, None),
        };
        if fit != Fit::Opaque {
            let literal_none = match n.literal.get(&**seg) {
                Some(&child) => self.walk(child, rest, rest_fits, q, acc),
                None => true,
            };
            // A certain segment that matched a literal stops here; an
            // uncertain one may also be read as no literal at all.
            if !literal_none && fit == Fit::Certain {
                return false;
            }
        }
        let star_none = match n.star {
            Some(child) => self.walk(child, rest, rest_fits, q, acc),
            None => true,
        };
        star_none && !Self::govern(&n.rest, q.method, q.host, acc)
    }

    /// The most specific route for canonical segments (`None`: the default
    /// rule), without allocating: the common case of every request.
    fn find(&self, node: usize, segs: &[Cow<'_, str>], q: &Query<'_>) -> Option<usize> {
        let n = &self.nodes[node];
        let best = |list: &[Entry]| {
            list.iter()
                .filter(|e| e.accepts(q.method, q.host))
                .max_by_key(|e| e.score())
                .map(|e| e.route)
        };
        match segs.split_first() {
            None => {
                if let Some(r) = best(&n.exact) {
                    return Some(r);
                }
            }
            Some((first, rest)) => {
                if let Some(&child) = n.literal.get(&**first) {
                    if let Some(r) = self.find(child, rest, q) {
                        return Some(r);
                    }
                }
                if let Some(child) = n.star {
                    if let Some(r) = self.find(child, rest, q) {
                        return Some(r);
                    }
                }
            }
        }
        best(&n.rest)
    }

    /// The most specific route for canonical segments, if any (`None`: the
    /// default rule). For OPTIONS, the first of the routes that govern it.
    #[cfg(test)]
    pub fn lookup(&self, segs: &[Cow<'_, str>], method: &str, host: Option<&str>) -> Option<usize> {
        let q = Query { method, host };
        if method.eq_ignore_ascii_case("OPTIONS") {
            let mut acc = Vec::new();
            self.walk(0, segs, None, &q, &mut acc);
            return acc.first().copied();
        }
        self.find(0, segs, &q)
    }

    /// Every rule a router could select for `path`: the canonical reading's
    /// first (`None` stands for the default rule), then, without repeats,
    /// those that other readings (no case folding, no decoding, `;` and `\`
    /// kept, empty segments kept) would select. Plain paths (the usual case)
    /// allocate nothing.
    pub fn candidates(
        &self,
        path: &RequestPath<'_>,
        method: &str,
        host: Option<&str>,
    ) -> Candidates {
        let q = Query { method, host };
        let options = method.eq_ignore_ascii_case("OPTIONS");
        if path.is_plain() && !options {
            return Candidates {
                first: self.find(0, &path.segs, &q),
                more: Vec::new(),
            };
        }
        let mut acc = Vec::new();
        let mut none = self.walk(0, &path.segs, None, &q, &mut acc);
        let first = if acc.is_empty() {
            None
        } else {
            Some(acc.remove(0))
        };
        let mut more: Vec<Option<usize>> = acc.drain(..).map(Some).collect();
        if !path.is_plain() {
            none |= self.walk(0, &path.segs, path.fits.as_deref(), &q, &mut acc);
            if let Some((segs, fits)) = &path.literal {
                none |= self.walk(0, segs, Some(fits), &q, &mut acc);
            }
            more.extend(acc.into_iter().map(Some));
            if none {
                more.push(None);
            }
        }
        let mut out = Candidates {
            first,
            more: Vec::with_capacity(more.len()),
        };
        for c in more {
            if c != out.first && !out.more.contains(&c) {
                out.more.push(c);
            }
        }
        out
    }
}

/// The request's method and host, for route lookups.
struct Query<'q> {
    method: &'q str,
    host: Option<&'q str>,
}

/// The rules a request may fall under (`None`: the default rule). `first` is
/// the canonical reading's; `more` is empty unless routers could disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    pub first: Option<usize>,
    pub more: Vec<Option<usize>>,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &[&str], &[&str])]) -> RouteTable {
        let mut t = RouteTable::new();
        for (i, (id, pats, methods)) in routes.iter().enumerate() {
            let p: Vec<String> = pats.iter().map(|s| s.to_string()).collect();
            let m: Vec<String> = methods.iter().map(|s| s.to_string()).collect();
            t.add(i, id, &p, &m, &[]).unwrap();
        }
        t
    }

    fn find(t: &RouteTable, path: &str, method: &str) -> Option<usize> {
        t.lookup(&normalize_path(path).unwrap(), method, None)
    }

    #[test]
    fn literal_beats_star_beats_globstar() {
        let t = table(&[
            ("all", &["/a/**"], &[]),
            ("star", &["/a/*/c"], &[]),
            ("lit", &["/a/b/c"], &[]),
        ]);
        assert_eq!(find(&t, "/a/b/c", "GET"), Some(2));
        assert_eq!(find(&t, "/a/x/c", "GET"), Some(1));
        assert_eq!(find(&t, "/a/x/d", "GET"), Some(0));
        assert_eq!(find(&t, "/a", "GET"), Some(0));
        assert_eq!(find(&t, "/b", "GET"), None);
    }

    #[test]
    fn backtracks_when_a_literal_branch_dead_ends() {
        let t = table(&[("deep", &["/a/b/c/d"], &[]), ("star", &["/a/*/c"], &[])]);
        assert_eq!(find(&t, "/a/b/c", "GET"), Some(1));
    }

    #[test]
    fn normalisation_defeats_evasion() {
        let t = table(&[("c", &["/commerce/**"], &[])]);
        for p in [
            "/Commerce/x",
            "//commerce//a",
            "/%63ommerce/a",
            "/commerce?q=1",
            "/commerce;jsessionid=1/a",
            "/commerce\\a",
        ] {
            assert_eq!(find(&t, p, "GET"), Some(0), "{p}");
        }
        assert!(normalize_path("/a/%zz").is_err());
        for dots in [
            "/x/../commerce",
            "/./commerce",
            "/x\\..\\commerce",
            "/x/%2e%2e/commerce",
            "/a/.",
        ] {
            assert!(normalize_path(dots).is_err(), "{dots}");
        }
        assert!(normalize_path("/commerce%2Fcustomers").is_err());
        assert!(normalize_path("/a%00").is_err());
        assert!(normalize_path("relative").is_err());
    }

    #[test]
    fn methods_make_a_route_more_specific_and_conflicts_are_refused() {
        let t = table(&[("any", &["/v1/**"], &[]), ("post", &["/v1/**"], &["POST"])]);
        assert_eq!(find(&t, "/v1/x", "post"), Some(1));
        assert_eq!(find(&t, "/v1/x", "GET"), Some(0));
        let mut t = RouteTable::new();
        t.add(0, "a", &["/x".into()], &[], &[]).unwrap();
        let e = t.add(1, "b", &["/X".into()], &[], &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyRouteConflict);
    }

    #[test]
    fn bad_patterns() {
        let mut t = RouteTable::new();
        for p in ["nope", "/a/**/b", "/a*b"] {
            assert_eq!(
                t.add(0, "r", &[p.into()], &[], &[]).unwrap_err().code,
                ErrorCode::PolicyInvalid
            );
        }
    }

    #[test]
    fn hosts_drop_ports_and_case() {
        assert_eq!(
            normalize_host("Partner.Microsoft.com:443"),
            "partner.microsoft.com"
        );
        assert_eq!(normalize_host("[::1]:8080"), "[::1]");
    }
}
