//! Route matching, compiled once into a segment trie so that a policy of
//! 10,000 routes costs about what one of 10 does. Request paths and hosts
//! are read in [`super::path`] and [`super::host`].

use super::host::{normalize_host, policy_host_problem};
use super::path::{segment, Case, Fit, RequestPath};
use crate::error::{Error, ErrorCode, Result};
use std::borrow::Cow;
use std::collections::HashMap;

/// One trie node: its children own their subtrees, so a walk never looks a
/// node up by number.
#[derive(Debug, Default)]
struct Node {
    literal: HashMap<Box<str>, Node>,
    star: Option<Box<Node>>,
    /// Routes whose pattern ends exactly here.
    exact: Vec<Entry>,
    /// Routes whose pattern ends here with `**`.
    rest: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    route: usize,
    /// The route's id, for conflict messages.
    id: Box<str>,
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
#[derive(Debug, Default)]
pub struct RouteTable {
    root: Node,
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
        RouteTable::default()
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
        for pattern in patterns {
            if !pattern.starts_with('/') {
                return Err(pattern_err(id, pattern, "does not start with '/'"));
            }
            let raw: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
            let mut node = &mut self.root;
            let mut globstar = false;
            for (i, seg) in raw.iter().enumerate() {
                match *seg {
                    "**" if i + 1 == raw.len() => globstar = true,
                    "**" => {
                        return Err(pattern_err(id, pattern, "has '**' before its last segment"))
                    }
                    "*" => node = node.star.get_or_insert_with(Box::default),
                    s if s.contains('*') => {
                        return Err(pattern_err(id, pattern, "has '*' inside a segment"))
                    }
                    "." | ".." => {
                        return Err(pattern_err(id, pattern, "has a '.' or '..' segment"))
                    }
                    s => {
                        let key: Box<str> = segment(s, Case::Folded)
                            .ok_or_else(|| pattern_err(id, pattern, "has a bad percent-escape"))?
                            .into();
                        node = node.literal.entry(key).or_default();
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
                id: id.into(),
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
                &mut node.rest
            } else {
                &mut node.exact
            };
            if let Some(other) = list.iter().find(|e| e.route != route && e.overlaps(&entry)) {
                return Err(Error::new(
                    ErrorCode::PolicyRouteConflict,
                    format!(
                        "routes {:?} ({}) and {id:?} ({pattern}) match the same requests",
                        other.id, other.pattern
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
        n: &Node,
        segs: &[Cow<'_, str>],
        fits: Option<&[Fit]>,
        q: &Query<'_>,
        acc: &mut Vec<usize>,
    ) -> bool {
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
                Some(child) => Self::walk(child, rest, rest_fits, q, acc),
                None => true,
            };
            // A certain segment that matched a literal stops here; an
            // uncertain one may also be read as no literal at all.
            if !literal_none && fit == Fit::Certain {
                return false;
            }
        }
        let star_none = match &n.star {
            Some(child) => Self::walk(child, rest, rest_fits, q, acc),
            None => true,
        };
        star_none && !Self::govern(&n.rest, q.method, q.host, acc)
    }

    /// The most specific route for canonical segments (`None`: the default
    /// rule), without allocating: the common case of every request.
    fn find(n: &Node, segs: &[Cow<'_, str>], q: &Query<'_>) -> Option<usize> {
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
                if let Some(child) = n.literal.get(&**first) {
                    if let Some(r) = Self::find(child, rest, q) {
                        return Some(r);
                    }
                }
                if let Some(child) = &n.star {
                    if let Some(r) = Self::find(child, rest, q) {
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
            Self::walk(&self.root, segs, None, &q, &mut acc);
            return acc.first().copied();
        }
        Self::find(&self.root, segs, &q)
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
                first: Self::find(&self.root, &path.segs, &q),
                more: Vec::new(),
            };
        }
        let mut acc = Vec::new();
        let mut none = Self::walk(&self.root, &path.segs, None, &q, &mut acc);
        let first = if acc.is_empty() {
            None
        } else {
            Some(acc.remove(0))
        };
        let mut more: Vec<Option<usize>> = acc.drain(..).map(Some).collect();
        if !path.is_plain() {
            none |= Self::walk(&self.root, &path.segs, path.fits.as_deref(), &q, &mut acc);
            if let Some((segs, fits)) = &path.literal {
                none |= Self::walk(&self.root, segs, Some(fits), &q, &mut acc);
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

#[cfg(test)]
mod tests {
    use super::super::path::normalize_path;
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
}
