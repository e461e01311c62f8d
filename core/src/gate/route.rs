//! Which rules a request falls under, and deciding under all of them.

use super::{Facts, Gate};
use crate::claims::Claims;
use crate::decision::Decision;
use crate::reason::{Reason, Refusal};
use crate::request::Request;

/// The rules a request falls under: the canonical reading's first, then any
/// that a router reading the raw path differently could select (see
/// `RouteTable::candidates`). `more` is empty for plain paths.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub(super) first: usize,
    pub(super) more: Vec<usize>,
}

impl Route {
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// RFC 9110 §5.6.2: the characters of a token.
fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

impl Gate {
    /// Route lookup: every rule the request may fall under (a refusal with
    /// 400 when the path cannot be read safely).
    pub(super) fn route(&self, req: &Request<'_>) -> Result<Route, Box<Decision>> {
        let path = crate::policy::routes::parse_path(req.path).map_err(|d| {
            self.refuse(
                None,
                Refusal::new(Reason::RequestInvalid, d),
                Facts::default(),
                None,
            )
        })?;
        // RFC 9110 §9.1: a method is a token. Servers never pass another
        // (`"GET "`, an empty one), and routes listing methods could not
        // read it alike, so it is refused rather than decided.
        if req.method.is_empty() || !req.method.bytes().all(tchar) {
            return Err(Box::new(self.refuse(
                None,
                Refusal::new(
                    Reason::RequestInvalid,
                    format!(
                        "method {:?} is not an HTTP method (RFC 9110 §9.1: a token, like GET); \
                         pass the method as the server received it",
                        req.method
                    ),
                ),
                Facts::default(),
                None,
            )));
        }
        let hosts = match req.host {
            None => vec![None],
            Some(h) => crate::policy::routes::host_readings(h).map_err(|d| {
                self.refuse(
                    None,
                    Refusal::new(Reason::RequestInvalid, d),
                    Facts::default(),
                    None,
                )
            })?,
        };
        let c = self.compiled();
        let resolve = |r: Option<usize>| r.unwrap_or(c.default_rule);
        let mut first = None;
        let mut more = Vec::new();
        // Every host reading selects its rules; the first reading's first
        // rule is the canonical one, the rest are decided too (any refusal
        // wins), as for paths.
        for host in &hosts {
            let found = c.table.candidates(&path, req.method, host.as_deref());
            for r in std::iter::once(found.first).chain(found.more).map(resolve) {
                match first {
                    None => first = Some(r),
                    Some(f) if f != r && !more.contains(&r) => more.push(r),
                    Some(_) => {}
                }
            }
        }
        Ok(Route {
            first: first.unwrap_or(c.default_rule),
            more,
        })
    }

    /// The rule that answers for a refusal before the claims are known: the
    /// first candidate that is not public (None when all are public).
    pub(super) fn guard(&self, route: &Route) -> Option<usize> {
        route.iter().find(|&i| !self.rule(i).public)
    }

    pub(super) fn public(&self, rule: usize) -> Decision {
        self.allow(rule, Reason::PublicRoute, Facts::default())
    }

    /// Decides under every rule the request may fall under: normalisation
    /// never moves a request into a less-protective rule, because any
    /// refusal wins (the first, in candidate order).
    pub(super) fn decide_candidates(
        &self,
        route: &Route,
        cl: &Claims<'_>,
        req: &Request<'_>,
        key: Option<usize>,
    ) -> Decision {
        if route.more.is_empty() && !self.rule(route.first).public {
            return self.decide(route.first, cl, req, key);
        }
        let mut allowed: Option<(usize, Decision)> = None;
        for idx in route.iter() {
            if self.rule(idx).public {
                continue;
            }
            let d = self.decide(idx, cl, req, key);
            if !d.is_allowed() {
                return self.note_ambiguity(d, route, idx);
            }
            // Of several allows, report the one of the rule that asks for MFA.
            if allowed
                .as_ref()
                .is_none_or(|(a, _)| !self.rule(*a).mfa && self.rule(idx).mfa)
            {
                allowed = Some((idx, d));
            }
        }
        allowed.map_or_else(|| self.public(route.first), |(_, d)| d)
    }

    /// Says in a refusal's detail that the path was read several ways.
    fn note_ambiguity(&self, mut d: Decision, route: &Route, decided: usize) -> Decision {
        if route.more.is_empty() {
            return d;
        }
        let others: Vec<&str> = route
            .iter()
            .filter(|&i| i != decided)
            .map(|i| &*self.rule(i).id)
            .collect();
        let note = format!(
            "the request can be routed differently by routers that read its path or host another way (case, escapes, ;params, dots, ports); refused under rule {} (also: {})",
            self.rule(decided).id,
            others.join(", ")
        );
        d.detail = Some(match d.detail.take() {
            Some(x) => format!("{x}; {note}"),
            None => note,
        });
        d
    }
}
