//! The gate: a policy and a key set, built once, deciding requests.

use crate::answer::{self, Answer, ChallengeInput};
use crate::claims::Claims;
use crate::decision::{Decision, MfaReport, Subject};
use crate::jws::{self, Algorithm, Refusal};
use crate::keys::KeySet;
use crate::kind::{self, TokenKind};
use crate::messages::message;
use crate::policy::doc::ChallengeStyle;
use crate::policy::exceptions::{Exception, ExceptionMatch};
use crate::policy::{Compiled, Policy, Rule};
use crate::reason::{Outcome, Reason};
use crate::request::{credential, Credential, Request};
use crate::roles::{ResolvedRoles, RoleSet};
use crate::{mfa, validate};
use std::sync::Arc;

/// A policy and the keys that verify tokens for it. Build it once; share it
/// between threads (it is `Send + Sync`); call [`Gate::evaluate`] per request.
#[derive(Debug, Clone)]
pub struct Gate {
    policy: Policy,
    keys: Arc<KeySet>,
}

/// A token whose signature the host must verify (two-phase API, used where
/// the host's crypto is the fast path, like WebCrypto in a browser).
#[derive(Debug)]
pub struct Pending {
    route: Route,
    alg: Algorithm,
    key_index: usize,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

impl Pending {
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    /// Index into [`KeySet::keys`] of the key to verify with.
    pub fn key_index(&self) -> usize {
        self.key_index
    }
    /// The bytes the signature covers (`header.payload`).
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }
    /// The signature bytes (for ES256, the 64-byte r‖s form WebCrypto expects).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// The first phase of a two-phase evaluation.
#[derive(Debug)]
pub enum Step {
    /// Decided already (no token, a malformed one, or verified in-process).
    Done(Box<Decision>),
    /// Verify the signature with the host, then call [`Gate::complete`].
    Verify(Pending),
}

/// The rules a request falls under: the canonical reading's first, then any
/// that a router reading the raw path differently could select (see
/// `RouteTable::candidates`). `more` is empty for plain paths.
#[derive(Debug, Clone)]
struct Route {
    first: usize,
    more: Vec<usize>,
}

impl Route {
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// Everything up to the signature check, for one request.
struct Front<'r> {
    route: Route,
    jws: jws::Jws<'r>,
    key: usize,
}

/// The parts of a decision gathered before its end.
#[derive(Default)]
struct Facts {
    kind: Option<TokenKind>,
    kind_evidence: Option<&'static str>,
    roles: RoleSet,
    mfa: MfaReport,
    subject: Option<Subject>,
    exception: Option<Arc<Exception>>,
    register_first: bool,
}

fn subject(cl: &Claims<'_>, kind: TokenKind) -> Subject {
    let delegated = kind == TokenKind::DelegatedAdmin;
    // GDAP: the partner user is named in aai; the token's oid is empty (or
    // absent), and a customer-tenant object would not be the user anyway.
    let partner_user = if delegated { cl.aai_user() } else { None };
    let oid = cl.oid.as_deref().filter(|o| !o.is_empty());
    Subject {
        tenant: cl.tid.as_deref().map(str::to_owned),
        object_id: partner_user
            .map(|(_, o)| o)
            .or(oid)
            .or(cl.oid.as_deref())
            .map(str::to_owned),
        user: cl.user_name().map(str::to_owned),
        app_id: cl.app_id().map(str::to_owned),
        home_tenant: if delegated {
            partner_user
                .map(|(t, _)| t)
                .or_else(|| cl.idp.as_deref().and_then(kind::idp_tenant))
                .map(str::to_owned)
        } else {
            None
        },
    }
}

impl Gate {
    pub fn new(policy: Policy, keys: KeySet) -> Gate {
        Gate {
            policy,
            keys: Arc::new(keys),
        }
    }

    /// A gate over a key set shared with other gates (one parsed JWK Set
    /// for several policies, or kept by a binding's key-set object).
    pub fn with_shared_keys(policy: Policy, keys: Arc<KeySet>) -> Gate {
        Gate { policy, keys }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    fn compiled(&self) -> &Compiled {
        &self.policy.compiled
    }

    fn rule(&self, idx: usize) -> &Rule {
        &self.compiled().rules[idx]
    }

    fn finish(
        &self,
        rule: Option<usize>,
        reason: Reason,
        answer: Answer,
        facts: Facts,
        detail: Option<String>,
    ) -> Decision {
        Decision {
            outcome: answer.outcome,
            reason,
            token_kind: facts.kind,
            kind_evidence: facts.kind_evidence,
            rule: rule.map(|r| self.rule(r).id.clone()),
            roles: facts.roles,
            mfa: facts.mfa,
            exception: facts.exception,
            message: message(reason, facts.register_first),
            http: answer.http,
            redirect: answer.redirect,
            detail,
            subject: facts.subject,
        }
    }

    /// A refusal. `req` is given where the credential is known: a page's
    /// session (no Authorization header) whose token cannot be used is sent
    /// to sign in again rather than answered with a Bearer 401.
    fn refuse(
        &self,
        rule: Option<usize>,
        r: Refusal,
        facts: Facts,
        req: Option<&Request<'_>>,
    ) -> Decision {
        let msg = message(r.reason, false);
        let style = rule.map(|i| self.rule(i).challenge);
        let page_session = style == Some(ChallengeStyle::Redirect)
            && r.reason.is_token_problem()
            && req.is_some_and(|q| q.authorization.is_none());
        let ans = if r.reason == Reason::KeysUnavailable {
            answer::unavailable(&msg, self.keys.unavailability().map_or(60, |(_, s)| s))
        } else if let (true, Some(req)) = (page_session, req) {
            answer::sign_in(self.compiled(), r.reason, &msg, return_to(req))
        } else {
            answer::refusal(r.reason, &msg, style)
        };
        self.finish(rule, r.reason, ans, facts, Some(r.detail))
    }

    fn allow(&self, rule: usize, reason: Reason, facts: Facts) -> Decision {
        let ans = Answer {
            outcome: Outcome::Allow,
            http: answer::allow(),
            redirect: None,
        };
        self.finish(Some(rule), reason, ans, facts, None)
    }

    /// Route lookup: every rule the request may fall under (a refusal with
    /// 400 when the path cannot be read safely).
    fn route(&self, req: &Request<'_>) -> Result<Route, Box<Decision>> {
        let path = crate::policy::routes::parse_path(req.path).map_err(|d| {
            self.refuse(
                None,
                Refusal::new(Reason::RequestInvalid, d),
                Facts::default(),
                None,
            )
        })?;
        let host = req.host.map(crate::policy::routes::normalize_host);
        let c = self.compiled();
        let found = c.table.candidates(&path, req.method, host.as_deref());
        let resolve = |r: Option<usize>| r.unwrap_or(c.default_rule);
        let first = resolve(found.first);
        let mut more = Vec::new();
        for r in found.more.into_iter().map(resolve) {
            if r != first && !more.contains(&r) {
                more.push(r);
            }
        }
        Ok(Route { first, more })
    }

    /// The rule that answers for a refusal before the claims are known: the
    /// first candidate that is not public (None when all are public).
    fn guard(&self, route: &Route) -> Option<usize> {
        route.iter().find(|&i| !self.rule(i).public)
    }

    fn public(&self, rule: usize) -> Decision {
        self.allow(rule, Reason::PublicRoute, Facts::default())
    }

    /// Everything up to the signature check: route, credential, JWS shape,
    /// algorithm and key.
    fn front<'r>(&self, req: &Request<'r>) -> Result<Front<'r>, Box<Decision>> {
        let route = self.route(req)?;
        let Some(guard) = self.guard(&route) else {
            return Err(Box::new(self.public(route.first)));
        };
        let token = match credential(req) {
            Credential::Ambiguous(why) => {
                return Err(Box::new(self.refuse(
                    Some(guard),
                    Refusal::new(Reason::CredentialAmbiguous, why),
                    Facts::default(),
                    None,
                )))
            }
            Credential::Missing(why) => {
                let msg = message(Reason::NoCredential, false);
                let ans = answer::no_credential(
                    self.compiled(),
                    self.rule(guard).challenge,
                    return_to(req),
                    &msg,
                );
                return Err(Box::new(self.finish(
                    Some(guard),
                    Reason::NoCredential,
                    ans,
                    Facts::default(),
                    Some(why.into()),
                )));
            }
            Credential::Token(token) => token,
        };
        let c = self.compiled();
        let (jws, key) = jws::parse(token, c.max_bytes, &c.algorithms, |kid, alg| {
            self.keys.select(kid, alg)
        })
        .map_err(|r| Box::new(self.refuse(Some(guard), r, Facts::default(), Some(req))))?;
        Ok(Front { route, jws, key })
    }

    /// Decides a request: verifies the token's signature in-process (native
    /// builds), then checks claims, kind, roles and MFA.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        match self.front(req) {
            Ok(f) => self.verify_in_process(&f, req),
            Err(d) => *d,
        }
    }

    fn verify_in_process(&self, f: &Front<'_>, req: &Request<'_>) -> Decision {
        let guard = self.guard(&f.route);
        let k = &self.keys.keys()[f.key];
        match k
            .prepared
            .verify(f.jws.alg, f.jws.signing_input.as_bytes(), &f.jws.signature)
        {
            Err(r) => self.refuse(guard, r, Facts::default(), Some(req)),
            Ok(false) => self.refuse(
                guard,
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the signature does not verify with the selected key",
                ),
                Facts::default(),
                Some(req),
            ),
            Ok(true) => self.after_signature(&f.route, &f.jws.payload, req, f.key),
        }
    }

    /// First phase of a two-phase evaluation: decides at once when it can
    /// (including HS256 in builds that verify HMAC in-process), else asks the
    /// host to verify the signature.
    pub fn prepare(&self, req: &Request<'_>) -> Step {
        let f = match self.front(req) {
            Ok(x) => x,
            Err(d) => return Step::Done(d),
        };
        if crate::crypto::verifies_in_process(f.jws.alg) {
            return Step::Done(Box::new(self.verify_in_process(&f, req)));
        }
        Step::Verify(Pending {
            alg: f.jws.alg,
            key_index: f.key,
            signing_input: f.jws.signing_input.as_bytes().to_vec(),
            signature: f.jws.signature,
            payload: f.jws.payload,
            route: f.route,
        })
    }

    /// Second phase: the host says whether the signature verified.
    pub fn complete(
        &self,
        pending: &Pending,
        req: &Request<'_>,
        signature_valid: bool,
    ) -> Decision {
        if !signature_valid {
            return self.refuse(
                self.guard(&pending.route),
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the host reported that the signature does not verify",
                ),
                Facts::default(),
                Some(req),
            );
        }
        self.after_signature(&pending.route, &pending.payload, req, pending.key_index)
    }

    fn after_signature(
        &self,
        route: &Route,
        payload: &[u8],
        req: &Request<'_>,
        key: usize,
    ) -> Decision {
        match Claims::parse(payload) {
            Err(r) => self.refuse(self.guard(route), r, Facts::default(), Some(req)),
            Ok(cl) => self.decide_all(route, &cl, req, Some(key)),
        }
    }

    /// The second phase when the host cannot verify at all (for example no
    /// WebCrypto): a `verification_unavailable` decision, never an allow.
    pub fn complete_unavailable(&self, pending: &Pending, why: &str) -> Decision {
        self.refuse(
            self.guard(&pending.route),
            Refusal::new(Reason::VerificationUnavailable, why),
            Facts::default(),
            None,
        )
    }

    /// As [`Gate::evaluate_claims`], from the claims' JSON: claims that cannot
    /// be read are a `claim_invalid` or `token_malformed` decision, not an error.
    pub fn evaluate_claims_json(&self, json: &str, req: &Request<'_>) -> Decision {
        let route = match self.route(req) {
            Ok(r) => r,
            Err(d) => return *d,
        };
        let Some(guard) = self.guard(&route) else {
            return self.public(route.first);
        };
        match Claims::parse(json.as_bytes()) {
            Ok(cl) => self.decide_all(&route, &cl, req, None),
            Err(r) => self.refuse(Some(guard), r, Facts::default(), Some(req)),
        }
    }

    /// Decides on claims the caller has already verified (for example those
    /// an app validated at sign-in). Everything but the signature is checked.
    pub fn evaluate_claims(&self, claims: &Claims<'_>, req: &Request<'_>) -> Decision {
        match self.route(req) {
            Ok(route) => self.decide_all(&route, claims, req, None),
            Err(d) => *d,
        }
    }

    /// Decides under every rule the request may fall under: normalisation
    /// never moves a request into a less-protective rule, because any
    /// refusal wins (the first, in candidate order).
    fn decide_all(
        &self,
        route: &Route,
        cl: &Claims<'_>,
        req: &Request<'_>,
        key: Option<usize>,
    ) -> Decision {
        let d = self.decide_candidates(route, cl, req, key);
        self.mfa_compliance(d, req)
    }

    /// Partner Center's answer to `ValidateMfa: true` (2026 rules): an
    /// allowed API call says whether its token proved MFA, in the response
    /// header `isMfaCompliant` (`true` only for `amr` or federated MFA; an
    /// App-only token or a technical exception is `false`).
    fn mfa_compliance(&self, mut d: Decision, req: &Request<'_>) -> Decision {
        let api = d
            .rule
            .as_deref()
            .and_then(|id| self.compiled().rules.iter().find(|r| &*r.id == id))
            .is_some_and(|r| r.challenge == ChallengeStyle::PartnerCenter);
        if req.validate_mfa == Some(true)
            && d.is_allowed()
            && api
            && self.compiled().edition >= crate::policy::doc::RulesVersion::V2026
        {
            let proved = matches!(d.mfa.evidence, Some("amr" | "federated"));
            d.http
                .headers
                .push((answer::IS_MFA_COMPLIANT, proved.to_string()));
        }
        d
    }

    fn decide_candidates(
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
            "the path can be routed differently by routers that do not fold case, decode escapes or drop ;params; refused under rule {} (also: {})",
            self.rule(decided).id,
            others.join(", ")
        );
        d.detail = Some(match d.detail.take() {
            Some(x) => format!("{x}; {note}"),
            None => note,
        });
        d
    }

    /// The caller's roles: only from a token of a partner tenant, never from
    /// a delegated-admin token (whose roles are the customer's). `wids`
    /// template IDs are the same in every tenant, and another tenant's groups
    /// may reuse a configured object ID: nothing else can be trusted.
    pub(crate) fn roles_of(&self, cl: &Claims<'_>, kind: TokenKind) -> (ResolvedRoles, bool) {
        let c = self.compiled();
        let partner = kind != TokenKind::DelegatedAdmin
            && cl
                .tid
                .as_deref()
                .is_some_and(|t| c.partner_tenants.iter().any(|p| p.eq_ignore_ascii_case(t)));
        if partner {
            (c.role_map.resolve(cl), true)
        } else {
            (
                ResolvedRoles {
                    roles: RoleSet::EMPTY,
                    groups_unavailable: false,
                },
                false,
            )
        }
    }

    /// The role step: `Err` when the rule's roles are not met.
    fn check_roles(
        &self,
        rule: &Rule,
        cl: &Claims<'_>,
        kind: TokenKind,
        resolved: ResolvedRoles,
        partner: bool,
    ) -> Result<(), Refusal> {
        let c = self.compiled();
        if rule.roles.is_empty() || resolved.roles.intersects(rule.roles) {
            return Ok(());
        }
        if c.partner_tenants.is_empty() {
            return Err(Refusal::new(
                Reason::PartnerTenantNotConfigured,
                format!(
                    "{} needs roles, but token.partner_tenants is empty: roles are read only from your partner tenant's tokens; set token.partner_tenants to your partner tenant ID",
                    rule.id
                ),
            ));
        }
        let need: Vec<&str> = rule.roles.iter().map(|r| r.as_str()).collect();
        if !partner {
            let why = if kind == TokenKind::DelegatedAdmin {
                "a delegated-admin token carries the customer tenant's roles, which never open a partner page".to_owned()
            } else {
                format!(
                    "roles are read only from tokens of token.partner_tenants, and tenant {} is not one of them",
                    cl.tid.as_deref().unwrap_or("?")
                )
            };
            return Err(Refusal::new(
                Reason::RoleNotPermitted,
                format!("{} needs one of: {}; {why}", rule.id, need.join(", ")),
            ));
        }
        if resolved.groups_unavailable && c.role_map.group_roles().intersects(rule.roles) {
            return Err(Refusal::new(
                Reason::RolesUnavailable,
                "the token carries a group overage marker instead of its groups",
            ));
        }
        Err(Refusal::new(
            Reason::RoleNotPermitted,
            format!("{} needs one of: {}", rule.id, need.join(", ")),
        ))
    }

    /// `key`: the index of the key that verified the token (None for claims
    /// verified by the caller).
    fn decide(
        &self,
        rule_idx: usize,
        cl: &Claims<'_>,
        req: &Request<'_>,
        key: Option<usize>,
    ) -> Decision {
        let c = self.compiled();
        let rule = self.rule(rule_idx);
        let mut facts = Facts::default();
        if let Err(r) = validate::claims(c, cl, req.now) {
            return self.refuse(Some(rule_idx), r, facts, Some(req));
        }
        if let Some(k) = key {
            if let Err(r) = validate::issuers(c, &self.keys, k, cl) {
                return self.refuse(Some(rule_idx), r, facts, Some(req));
            }
        }
        let class = kind::classify(cl, &c.partner_tenants);
        facts.kind = Some(class.kind);
        facts.kind_evidence = Some(class.evidence);
        facts.subject = Some(subject(cl, class.kind));
        if class.kind == TokenKind::Unrecognized {
            return self.refuse(
                Some(rule_idx),
                Refusal::new(Reason::TokenKindUnrecognized, class.evidence),
                facts,
                Some(req),
            );
        }
        if !rule.kinds.contains(class.kind) {
            let accepted: Vec<&str> = rule.kinds.iter().map(TokenKind::as_str).collect();
            let detail = format!(
                "{} tokens are not accepted on {}; it accepts {}",
                class.kind.as_str(),
                rule.id,
                accepted.join(", ")
            );
            return self.refuse(
                Some(rule_idx),
                Refusal::new(Reason::TokenKindNotAccepted, detail),
                facts,
                Some(req),
            );
        }
        let (resolved, partner) = self.roles_of(cl, class.kind);
        facts.roles = resolved.roles;
        if let Err(r) = self.check_roles(rule, cl, class.kind, resolved, partner) {
            return self.refuse(Some(rule_idx), r, facts, Some(req));
        }
        let delegated = class.kind == TokenKind::DelegatedAdmin;
        let required = delegated || (rule.mfa && class.kind.is_user());
        let max_age = if required {
            rule.max_age.or(c.max_age)
        } else {
            None
        };
        let ev = mfa::check(c, cl, max_age, req.now);
        facts.mfa = MfaReport {
            required,
            satisfied: ev.result.is_ok(),
            evidence: ev.result.ok(),
            amr: cl
                .amr
                .as_ref()
                .map(|a| a.iter().map(|s| s.to_string()).collect()),
            auth_time: ev.auth_time,
            max_age,
        };
        if !required {
            let reason = if rule.mfa && class.kind == TokenKind::AppOnly {
                Reason::AppOnlyExempt
            } else {
                Reason::MfaNotRequired
            };
            return self.allow(rule_idx, reason, facts);
        }
        let why = match ev.result {
            Ok(_) => return self.allow(rule_idx, Reason::MfaSatisfied, facts),
            Err(why) => why,
        };
        let mut detail = format!("MFA check: {}", why.as_str());
        if !delegated {
            let tid = cl.tid.as_deref().unwrap_or("");
            let users: Vec<&str> = [cl.oid.as_deref(), cl.user_name()]
                .into_iter()
                .flatten()
                .collect();
            match c.exceptions.find(tid, &users, req.now) {
                ExceptionMatch::Valid(e) => {
                    facts.mfa.evidence = Some("exception");
                    facts.exception = Some(e.clone());
                    return self.allow(rule_idx, Reason::ExceptionApplied, facts);
                }
                ExceptionMatch::Expired(e) => {
                    detail.push_str(&format!(
                        "; the technical exception for tenant {} expired at {}",
                        e.tenant, e.expires
                    ));
                }
                ExceptionMatch::None => {}
            }
        }
        let reason = if delegated {
            Reason::DelegatedAdminMfaRequired
        } else {
            why
        };
        let register_first = req.mfa_registered == Some(false);
        facts.register_first = register_first;
        let msg = message(reason, register_first);
        let input = ChallengeInput {
            style: rule.challenge,
            reason,
            max_age,
            cp1: cl.xms_cc.as_ref().is_some_and(|x| x.contains("cp1")),
            register_first,
            return_to: &return_to(req),
        };
        let ans = answer::challenge(c, &c.claims_b64, &input, &msg);
        self.finish(Some(rule_idx), reason, ans, facts, Some(detail))
    }
}

/// `return_to` of a sign-in redirect for this request (see [`answer::return_to`]).
fn return_to(req: &Request<'_>) -> String {
    crate::policy::routes::parse_path(req.path)
        .map(|p| answer::return_to(&p))
        .unwrap_or_else(|_| "/".to_owned())
}
