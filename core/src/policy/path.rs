//! Request paths, read the way routers may read them: the canonical reading
//! route matching uses, and the others (no case folding, no decoding, `\`
//! and empty segments kept) a router behind the gate could apply.

use std::borrow::Cow;

/// Paths with more segments than this are refused (`request_invalid`).
pub const MAX_SEGMENTS: usize = 64;

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
    // Only escapes count: a raw `;` among the parameters is already
    // dropped with them.
    let mut bytes = params.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            match (bytes.next().and_then(hex), bytes.next().and_then(hex)) {
                (Some(h), Some(l)) if !separator_or_control((h << 4) | l) => {}
                _ => return false,
            }
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

/// How a segment's case is read: kept (for `return_to`, which sends the
/// user back to the page as the application names it) or folded (for
/// matching routes, the way routers that ignore case compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Case kept: only percent-escapes decoded and `;params` dropped.
    Kept,
    /// Case folded (as `fold_char` folds) and trailing dots and spaces dropped.
    Folded,
}

/// `seg` with its percent-escapes decoded; `None` for a bad escape.
fn percent_decode(seg: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(seg.len());
    let mut bytes = seg.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let h = hex(bytes.next()?)?;
            let l = hex(bytes.next()?)?;
            out.push((h << 4) | l);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Percent-decodes one segment, borrowing when it can, and with
/// [`Case::Folded`] case-folds it (see `fold_char`). Path parameters
/// (`;jsessionid=…`) are dropped, as servers that honour them do; an escaped
/// separator (`%2F`, `%5C`), `?` (`%3F`), `#` (`%23`), `;` (`%3B`), NUL or
/// other control character is refused, since servers disagree on what it
/// means. Folded, trailing dots and spaces are dropped, as IIS drops them
/// (`/commerce./x` is `/commerce/x` there); a segment of nothing else reads
/// as `..` (refused as a dot segment).
pub fn segment(seg: &str, case: Case) -> Option<Cow<'_, str>> {
    let (seg, params) = seg.split_once(';').unwrap_or((seg, ""));
    if !params_are_inert(params) {
        return None;
    }
    // What may be borrowed differs: a folded reading must also fold case
    // and trim, and a segment that needs either is checked byte by byte
    // below even without an escape (policy patterns reach here unscreened).
    let already = match case {
        Case::Kept => !seg.contains('%'),
        Case::Folded => !needs_canonical_form(seg),
    };
    if already {
        return Some(Cow::Borrowed(seg));
    }
    let out = percent_decode(seg)?;
    // An escaped `/` or `\\` moves segment boundaries, an escaped `?` or
    // `#` ends the path and an escaped `;` starts parameters, for any proxy
    // or router that decodes before it splits: refused, like NUL.
    if out.iter().any(|&b| separator_or_control(b)) {
        return None;
    }
    let decoded = String::from_utf8(out).ok()?;
    if case == Case::Kept {
        return Some(Cow::Owned(decoded));
    }
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
    pub(super) fits: Option<Vec<Fit>>,
    /// The path split on `/` only (as routers that keep `\` and empty
    /// segments see it), when that differs from the canonical split.
    pub(super) literal: Option<(Vec<Cow<'p, str>>, Vec<Fit>)>,
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
                let seg = segment(raw, Case::Kept)?;
                (!seg.is_empty()).then_some(seg)
            })
            .collect()
    }
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
        let seg = segment(raw, Case::Folded).ok_or_else(|| {
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
                // The canonical split above read every segment without `\`
                // already; were one unreadable here, the path is refused.
                let c = segment(p, Case::Folded)
                    .ok_or_else(|| format!("path segment {p:?} cannot be read"))?;
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
