//! Which rules a request falls under, and deciding under all of them.

use super::context::Cx;
use super::{Facts, Gate};
use crate::claims::Claims;
use crate::decision::Decision;
use crate::policy::Rule;
use crate::reason::{Reason, Refusal};

/// One rule of the gate's policy, and its index among the policy's rules.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ruled<'g> {
    pub(super) idx: usize,
    pub(super) rule: &'g Rule,
}

/// The rules a request falls under: the canonical reading's first, then any
/// that a router reading the raw path differently could select (see
/// `RouteTable::candidates`). `more` is empty for plain paths.
#[derive(Debug, Clone)]
pub(super) struct Route<'g> {
    pub(super) first: Ruled<'g>,
    pub(super) more: Vec<Ruled<'g>>,
}

impl<'g> Route<'g> {
    pub(super) fn iter(&self) -> impl Iterator<Item = Ruled<'g>> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    /// The rule that answers for a refusal before the claims are known: the
    /// first candidate that is not public (None when all are public).
    pub(super) fn guard(&self) -> Option<&'g Rule> {
        self.iter().find(|r| !r.rule.public).map(|r| r.rule)
    }

    /// The indices alone, for a [`Pending`](super::Pending) to keep.
    pub(super) fn ids(&self) -> RouteIds {
        RouteIds {
            first: self.first.idx,
            more: self.more.iter().map(|r| r.idx).collect(),
        }
    }
}

/// A [`Route`] by rule index: what a [`Pending`](super::Pending) keeps, since
/// it outlives the borrow of its gate and may be completed by another.
#[derive(Debug, Clone)]
pub(super) struct RouteIds {
    first: usize,
    more: Vec<usize>,
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
    fn ruled(&self, idx: usize) -> Option<Ruled<'_>> {
        let rule = self.compiled().rules.get(idx)?;
        Some(Ruled { idx, rule })
    }

    /// `ids` as rules of this gate's policy; `None` when one is not (a
    /// pending step of a gate with another policy).
    pub(super) fn resolve(&self, ids: &RouteIds) -> Option<Route<'_>> {
        Some(Route {
            first: self.ruled(ids.first)?,
            more: ids
                .more
                .iter()
                .map(|&i| self.ruled(i))
                .collect::<Option<_>>()?,
        })
    }

    /// Route lookup: every rule the request may fall under (a refusal with
    /// 400 when the path cannot be read safely).
    pub(super) fn route(&self, cx: &Cx<'_, '_>) -> Result<Route<'_>, Box<Decision>> {
        let req = cx.req;
        let path = cx.path().map_err(|d| {
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
            Some(h) => crate::policy::host::host_readings(h).map_err(|d| {
                self.refuse(
                    None,
                    Refusal::new(Reason::RequestInvalid, d),
                    Facts::default(),
                    None,
                )
            })?,
        };
        let c = self.compiled();
        let or_default = |r: Option<usize>| r.unwrap_or(c.default_rule);
        let mut first = None;
        let mut more = Vec::new();
        // Every host reading selects its rules; the first reading's first
        // rule is the canonical one, the rest are decided too (any refusal
        // wins), as for paths.
        for host in &hosts {
            let found = c.table.candidates(path, req.method, host.as_deref());
            for r in std::iter::once(found.first)
                .chain(found.more)
                .map(or_default)
            {
                match first {
                    None => first = Some(r),
                    Some(f) if f != r && !more.contains(&r) => more.push(r),
                    Some(_) => {}
                }
            }
        }
        let ids = RouteIds {
            first: first.unwrap_or(c.default_rule),
            more,
        };
        // The table and the default name only rules the policy compiled
        // with them; were one missing, the request is refused, not let by.
        self.resolve(&ids).ok_or_else(|| {
            Box::new(self.refuse(
                None,
                Refusal::new(
                    Reason::RequestInvalid,
                    "the policy routes this request to a rule it does not have",
                ),
                Facts::default(),
                None,
            ))
        })
    }

    pub(super) fn public(&self, rule: &Rule) -> Decision {
        self.allow(rule, Reason::PublicRoute, Facts::default())
    }

    /// Decides under every rule the request may fall under: normalisation
    /// never moves a request into a less-protective rule, because any
    /// refusal wins (the first, in candidate order).
    pub(super) fn decide_candidates(
        &self,
        route: &Route<'_>,
        cl: &Claims<'_>,
        cx: &Cx<'_, '_>,
        key: Option<usize>,
    ) -> Decision {
        if route.more.is_empty() && !route.first.rule.public {
            return self.decide(route.first.rule, cl, cx, key);
        }
        let mut allowed: Option<(&Rule, Decision)> = None;
        for r in route.iter() {
            if r.rule.public {
                continue;
            }
            let d = self.decide(r.rule, cl, cx, key);
            if !d.is_allowed() {
                return note_ambiguity(d, route, r);
            }
            // Of several allows, report the one of the rule that asks for MFA.
            if allowed.as_ref().is_none_or(|(a, _)| !a.mfa && r.rule.mfa) {
                allowed = Some((r.rule, d));
            }
        }
        allowed.map_or_else(|| self.public(route.first.rule), |(_, d)| d)
    }
}

/// Says in a refusal's detail that the path was read several ways.
fn note_ambiguity(mut d: Decision, route: &Route<'_>, decided: Ruled<'_>) -> Decision {
    if route.more.is_empty() {
        return d;
    }
    let others: Vec<&str> = route
        .iter()
        .filter(|r| r.idx != decided.idx)
        .map(|r| &*r.rule.id)
        .collect();
    let note = format!(
        "the request can be routed differently by routers that read its path or host another way (case, escapes, ;params, dots, ports); refused under rule {} (also: {})",
        decided.rule.id,
        others.join(", ")
    );
    d.detail = Some(match d.detail.take() {
        Some(x) => format!("{x}; {note}"),
        None => note,
    });
    d
}
