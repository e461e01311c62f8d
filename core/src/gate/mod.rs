//! The gate: a policy and a key set, built once, deciding requests.

mod context;
mod route;
pub(crate) mod steps;

use crate::answer::{self, Answer};
use crate::cache::{TokenCache, Verified};
use crate::claims::Claims;
use crate::decision::{Decision, MfaReport, Subject};
use crate::jws::{self, Algorithm};
use crate::keys::{Key, KeySet};
use crate::kind::TokenKind;
use crate::messages::message;
use crate::policy::doc::ChallengeStyle;
use crate::policy::exceptions::Exception;
use crate::policy::{Compiled, Policy, Rule};
use crate::reason::{Outcome, Reason, Refusal};
use crate::request::{credential, Credential, Request, RequestSpec};
use crate::roles::RoleSet;
use context::Cx;
use route::{Route, RouteIds};
use std::sync::Arc;

/// A policy and the keys that verify tokens for it. Build it once; share it
/// between threads (it is `Send + Sync`); call [`Gate::evaluate`] per request.
#[derive(Debug, Clone)]
pub struct Gate {
    policy: Policy,
    keys: Arc<KeySet>,
    cache: Option<Arc<TokenCache>>,
}

/// A token whose signature the host must verify (two-phase API, used where
/// the host's crypto is the fast path, like WebCrypto in a browser).
#[derive(Debug)]
pub struct Pending {
    route: RouteIds,
    alg: Algorithm,
    key_index: usize,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    payload: Vec<u8>,
    /// The token, kept only when a cache will remember it once verified.
    token: Option<Box<str>>,
    /// The request it decides: the second phase needs nothing else.
    request: RequestSpec,
    /// The policy and the key set it was prepared with: completed by a gate
    /// over others (a reload in between), its rule and key numbers would
    /// name other rules and keys.
    compiled: Arc<Compiled>,
    keys_generation: u64,
}

impl Pending {
    /// The algorithm to verify with: the token's, already checked against
    /// the policy's pinned list and the key.
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
    /// The request it decides (kept whole, so the second phase needs only
    /// the host's answer).
    pub fn request(&self) -> Request<'_> {
        self.request.as_request()
    }
}

/// The first phase of a two-phase evaluation.
#[derive(Debug)]
pub enum Step {
    /// Decided already (no token, a malformed one, or verified in-process).
    Done(Box<Decision>),
    /// Verify the signature with the host, then call [`Gate::complete`].
    Verify(Box<Pending>),
}

/// Everything up to the signature check, for one request.
struct Front<'g, 'r> {
    route: Route<'g>,
    jws: jws::Jws<'r>,
    /// The key's index in the gate's key set, and the key.
    key: (usize, &'g Key),
    token: &'r str,
}

/// Where a request stands before its signature is checked.
enum Ahead<'g, 'r> {
    /// Its signature must be verified.
    Verify(Front<'g, 'r>),
    /// The cache holds what verifying this exact token proved.
    Cached(Route<'g>, Arc<Verified>),
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

impl Gate {
    /// A gate that owns its keys. Build it once at start-up: the policy is
    /// compiled and the keys prepared already, so each decision only reads.
    pub fn new(policy: Policy, keys: KeySet) -> Gate {
        Gate {
            policy,
            keys: Arc::new(keys),
            cache: None,
        }
    }

    /// A gate over a key set shared with other gates (one parsed JWK Set
    /// for several policies, or kept by a binding's key-set object).
    pub fn with_shared_keys(policy: Policy, keys: Arc<KeySet>) -> Gate {
        Gate {
            policy,
            keys,
            cache: None,
        }
    }

    /// This gate, remembering verified tokens in `cache` (opt-in; see
    /// [`TokenCache`]): a token seen before skips its signature check and
    /// claims parsing, and is decided again from its verified claims. One
    /// cache may serve every gate of a service: entries belong to the key
    /// set that verified them.
    pub fn with_cache(mut self, cache: Arc<TokenCache>) -> Gate {
        self.cache = Some(cache);
        self
    }

    /// The cache this gate remembers verified tokens in, if any.
    pub fn cache(&self) -> Option<&Arc<TokenCache>> {
        self.cache.as_ref()
    }

    /// The policy it decides with (cheap to clone, to build a gate over
    /// other keys).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The keys it verifies with (for hosts that verify signatures
    /// themselves, by [`Pending::key_index`]).
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    pub(crate) fn compiled(&self) -> &Compiled {
        &self.policy.compiled
    }

    fn decision(
        &self,
        rule: Option<&Rule>,
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
            rule: rule.map(|r| r.id.clone()),
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

    /// A refusal. `cx` is given where the credential is known: a page's
    /// session (no Authorization header) whose token cannot be used is sent
    /// to sign in again rather than answered with a Bearer 401.
    fn refuse(
        &self,
        rule: Option<&Rule>,
        r: Refusal,
        facts: Facts,
        cx: Option<&Cx<'_, '_>>,
    ) -> Decision {
        let msg = message(r.reason, false);
        let style = rule.map(|r| r.challenge);
        let page_session = style == Some(ChallengeStyle::Redirect)
            && r.reason.is_token_problem()
            && cx.is_some_and(|q| q.req.authorization.is_none());
        let ans = if r.reason == Reason::KeysUnavailable {
            answer::unavailable(&msg, self.keys.unavailability().map_or(60, |(_, s)| s))
        } else if let (true, Some(cx)) = (page_session, cx) {
            answer::sign_in(self.compiled(), r.reason, &msg, cx.return_to())
        } else {
            answer::refusal(r.reason, &msg, style)
        };
        self.decision(rule, r.reason, ans, facts, Some(r.detail))
    }

    fn allow(&self, rule: &Rule, reason: Reason, facts: Facts) -> Decision {
        let ans = Answer {
            outcome: Outcome::Allow,
            http: answer::allow(),
            redirect: None,
        };
        self.decision(Some(rule), reason, ans, facts, None)
    }

    /// Everything up to the signature check: route, credential, JWS shape,
    /// algorithm and key.
    fn up_to_signature<'r>(&self, cx: &Cx<'_, 'r>) -> Result<Ahead<'_, 'r>, Box<Decision>> {
        let req = cx.req;
        let route = self.route(cx)?;
        let Some(guard) = route.guard() else {
            return Err(Box::new(self.public(route.first.rule)));
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
                let ans =
                    answer::no_credential(self.compiled(), guard.challenge, cx.return_to(), &msg);
                return Err(Box::new(self.decision(
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
        if let Some(cache) = &self.cache {
            if let Some(v) = cache.get(token, self.keys.generation(), req.now, c.skew) {
                // The entry proves the signature under this key set; the
                // policy's own token checks (size, pinned algorithms) are
                // this gate's and run on every hit, so a hit is exactly as
                // strict as a miss: a shared cache or a reloaded policy never
                // admits what this policy refuses. Failing them, the token
                // takes the miss path, which refuses with its precise reason.
                if token.len() <= c.max_bytes && c.algorithms.contains(&v.alg) {
                    return Ok(Ahead::Cached(route, v));
                }
            }
        }
        let refuse = |r| Box::new(self.refuse(Some(guard), r, Facts::default(), Some(cx)));
        let (jws, idx) = jws::parse(token, c.max_bytes, &c.algorithms, |kid, alg| {
            self.keys.select(kid, alg)
        })
        .map_err(refuse)?;
        // `select` names a key of this set; were it ever to name none, the
        // token is refused as naming no key.
        let key = self.keys.keys().get(idx).map(|k| (idx, k)).ok_or_else(|| {
            refuse(Refusal::new(
                Reason::KeyNotFound,
                "the selected key is not in the key set",
            ))
        })?;
        Ok(Ahead::Verify(Front {
            route,
            jws,
            key,
            token,
        }))
    }

    /// Decides a request: verifies the token's signature in-process (native
    /// builds), then checks claims, kind, roles and MFA.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let cx = Cx::new(req);
        match self.up_to_signature(&cx) {
            Ok(Ahead::Verify(f)) => self.verify_in_process(&f, &cx),
            Ok(Ahead::Cached(route, v)) => self.decide_all(&route, &v.claims, &cx, Some(v.key)),
            Err(d) => *d,
        }
    }

    /// Decides a request at once when that needs no public-key signature
    /// check (a refusal before the signature, a token the cache holds, an
    /// HMAC token); else [`Step::Verify`], to finish with
    /// [`Gate::verify_and_complete`], for example with Python's GIL released
    /// (releasing it costs more than a cached decision takes).
    pub fn evaluate_cheap(&self, req: &Request<'_>) -> Step {
        let cx = Cx::new(req);
        match self.up_to_signature(&cx) {
            Ok(Ahead::Verify(f)) if f.jws.alg == Algorithm::HS256 => {
                Step::Done(Box::new(self.verify_in_process(&f, &cx)))
            }
            Ok(Ahead::Verify(f)) => Step::Verify(Box::new(self.pending(f, &cx))),
            Ok(Ahead::Cached(route, v)) => Step::Done(Box::new(self.decide_all(
                &route,
                &v.claims,
                &cx,
                Some(v.key),
            ))),
            Err(d) => Step::Done(d),
        }
    }

    /// Finishes a [`Gate::evaluate_cheap`] in-process: verifies the
    /// signature with the key the token named, then decides. In builds
    /// without in-process public-key crypto the decision is
    /// `verification_unavailable`, never an allow.
    pub fn verify_and_complete(&self, pending: &Pending) -> Decision {
        let req = pending.request.as_request();
        let cx = Cx::routed(&req);
        // A pending step of another gate may name a key this one lacks.
        let Some(k) = self.keys.keys().get(pending.key_index) else {
            return self
                .complete_unavailable(pending, "the pending step names no key of this gate");
        };
        let route = match self.pending_route(pending) {
            Ok(r) => r,
            Err(d) => return *d,
        };
        match k
            .prepared
            .verify(pending.alg, &pending.signing_input, &pending.signature)
        {
            Err(r) => self.refuse(route.guard(), r, Facts::default(), Some(&cx)),
            // The words of `evaluate`'s own check, not the host's.
            Ok(false) => self.refuse(
                route.guard(),
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the signature does not verify with the selected key",
                ),
                Facts::default(),
                Some(&cx),
            ),
            Ok(true) => self.after_signature(
                &route,
                &pending.payload,
                &cx,
                (pending.key_index, pending.alg),
                pending.token.as_deref(),
            ),
        }
    }

    /// A pending step's rules under this gate; a `verification_unavailable`
    /// refusal when it names a rule this gate's policy lacks (a step of a
    /// gate with another policy), never a decision under the wrong rules.
    fn pending_route(&self, pending: &Pending) -> Result<Route<'_>, Box<Decision>> {
        if !Arc::ptr_eq(&pending.compiled, &self.policy.compiled)
            || pending.keys_generation != self.keys.generation()
        {
            return Err(Box::new(self.refuse(
                None,
                Refusal::new(
                    Reason::VerificationUnavailable,
                    "the pending step was prepared by a gate over another policy or key set (replaced since): decide the request again",
                ),
                Facts::default(),
                None,
            )));
        }
        self.resolve(&pending.route).ok_or_else(|| {
            Box::new(self.refuse(
                None,
                Refusal::new(
                    Reason::VerificationUnavailable,
                    "the pending step names a rule this gate's policy does not have",
                ),
                Facts::default(),
                None,
            ))
        })
    }

    fn pending(&self, f: Front<'_, '_>, cx: &Cx<'_, '_>) -> Pending {
        Pending {
            request: RequestSpec::from_request(cx.req),
            alg: f.jws.alg,
            key_index: f.key.0,
            signing_input: f.jws.signing_input.as_bytes().to_vec(),
            signature: f.jws.signature,
            payload: f.jws.payload,
            route: f.route.ids(),
            token: self.cache.as_ref().map(|_| f.token.into()),
            compiled: Arc::clone(&self.policy.compiled),
            keys_generation: self.keys.generation(),
        }
    }

    fn verify_in_process(&self, f: &Front<'_, '_>, cx: &Cx<'_, '_>) -> Decision {
        let guard = f.route.guard();
        let (idx, k) = f.key;
        match k
            .prepared
            .verify(f.jws.alg, f.jws.signing_input.as_bytes(), &f.jws.signature)
        {
            Err(r) => self.refuse(guard, r, Facts::default(), Some(cx)),
            Ok(false) => self.refuse(
                guard,
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the signature does not verify with the selected key",
                ),
                Facts::default(),
                Some(cx),
            ),
            Ok(true) => self.after_signature(
                &f.route,
                &f.jws.payload,
                cx,
                (idx, f.jws.alg),
                Some(f.token),
            ),
        }
    }

    /// First phase of a two-phase evaluation: decides at once when it can
    /// (including HS256 in builds that verify HMAC in-process), else asks the
    /// host to verify the signature.
    pub fn prepare(&self, req: &Request<'_>) -> Step {
        let cx = Cx::new(req);
        let f = match self.up_to_signature(&cx) {
            Ok(Ahead::Verify(x)) => x,
            Ok(Ahead::Cached(route, v)) => {
                return Step::Done(Box::new(self.decide_all(
                    &route,
                    &v.claims,
                    &cx,
                    Some(v.key),
                )))
            }
            Err(d) => return Step::Done(d),
        };
        if crate::crypto::verifies_in_process(f.jws.alg) {
            return Step::Done(Box::new(self.verify_in_process(&f, &cx)));
        }
        Step::Verify(Box::new(self.pending(f, &cx)))
    }

    /// Second phase: the host says whether the signature verified.
    pub fn complete(&self, pending: &Pending, signature_valid: bool) -> Decision {
        let req = pending.request.as_request();
        let cx = Cx::routed(&req);
        let route = match self.pending_route(pending) {
            Ok(r) => r,
            Err(d) => return *d,
        };
        if !signature_valid {
            return self.refuse(
                route.guard(),
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the host reported that the signature does not verify",
                ),
                Facts::default(),
                Some(&cx),
            );
        }
        self.after_signature(
            &route,
            &pending.payload,
            &cx,
            (pending.key_index, pending.alg),
            pending.token.as_deref(),
        )
    }

    /// The signature of `token` verified with key `key`: its claims, then
    /// the decision; a cache remembers the verified claims (only those: the
    /// rest is decided again on every request).
    fn after_signature(
        &self,
        route: &Route<'_>,
        payload: &[u8],
        cx: &Cx<'_, '_>,
        (key, alg): (usize, Algorithm),
        token: Option<&str>,
    ) -> Decision {
        match Claims::parse(payload) {
            Err(r) => self.refuse(route.guard(), r, Facts::default(), Some(cx)),
            Ok(cl) => {
                if let (Some(cache), Some(token)) = (&self.cache, token) {
                    cache.put(
                        token,
                        self.keys.generation(),
                        key,
                        alg,
                        cl.clone().into_owned(),
                    );
                }
                self.decide_all(route, &cl, cx, Some(key))
            }
        }
    }

    /// The second phase when the host cannot verify at all (for example no
    /// WebCrypto): a `verification_unavailable` decision, never an allow.
    pub fn complete_unavailable(&self, pending: &Pending, why: &str) -> Decision {
        // A step of another policy has no rule here: refused all the same.
        let guard = self.resolve(&pending.route).and_then(|r| r.guard());
        self.refuse(
            guard,
            Refusal::new(Reason::VerificationUnavailable, why),
            Facts::default(),
            None,
        )
    }

    /// As [`Gate::evaluate_claims`], from the claims' JSON: claims that cannot
    /// be read are a `claim_invalid` or `token_malformed` decision, not an error.
    pub fn evaluate_claims_json(&self, json: &str, req: &Request<'_>) -> Decision {
        let cx = Cx::new(req);
        let route = match self.route(&cx) {
            Ok(r) => r,
            Err(d) => return *d,
        };
        let Some(guard) = route.guard() else {
            return self.public(route.first.rule);
        };
        match Claims::parse(json.as_bytes()) {
            Ok(cl) => self.decide_all(&route, &cl, &cx, None),
            Err(r) => self.refuse(Some(guard), r, Facts::default(), Some(&cx)),
        }
    }

    /// Decides on claims the caller has already verified (for example those
    /// an app validated at sign-in). Everything but the signature is checked.
    pub fn evaluate_claims(&self, claims: &Claims<'_>, req: &Request<'_>) -> Decision {
        let cx = Cx::new(req);
        match self.route(&cx) {
            Ok(route) => self.decide_all(&route, claims, &cx, None),
            Err(d) => *d,
        }
    }

    /// Decides under every rule the request may fall under: normalisation
    /// never moves a request into a less-protective rule, because any
    /// refusal wins (the first, in candidate order).
    fn decide_all(
        &self,
        route: &Route<'_>,
        cl: &Claims<'_>,
        cx: &Cx<'_, '_>,
        key: Option<usize>,
    ) -> Decision {
        let d = self.decide_candidates(route, cl, cx, key);
        steps::mfa_compliance(self.compiled(), d, cx.req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A pending step completed by a gate whose policy has fewer rules (say,
    /// one reloaded in between) is refused: never a panic, never an allow.
    #[test]
    fn a_pending_step_of_another_policy_is_refused() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/api.json");
        let f = crate::conformance::load(&path).unwrap();
        let case = f
            .cases
            .iter()
            .find(|c| c.id == "api-app-user-pwd-only")
            .unwrap();
        let keys = || KeySet::from_json(&f.keys.to_string()).unwrap();
        let policy = Policy::from_spec(&case.policy).unwrap();
        // Routes whose ids sort first move the request's rule past the end
        // of the narrow policy's rules.
        let extra: serde_json::Map<String, serde_json::Value> = (0..40)
            .map(|i| {
                (
                    format!("a{i:02}"),
                    json!({ "paths": [format!("/unused/{i}")] }),
                )
            })
            .collect();
        let wide = policy.with_overrides(&json!({ "routes": extra })).unwrap();
        assert!(wide.rules().len() > policy.rules().len() + 30);
        let (a, b) = (Gate::new(wide, keys()), Gate::new(policy, keys()));
        let req = case.request.as_request();
        let Step::Verify(p) = a.evaluate_cheap(&req) else {
            panic!("RS256 goes to the host")
        };
        for d in [
            b.complete(&p, true),
            b.verify_and_complete(&p),
            b.complete_unavailable(&p, "no crypto"),
        ] {
            assert_eq!(
                (d.outcome, d.reason),
                (Outcome::Deny, Reason::VerificationUnavailable)
            );
        }
        // As many rules, or the same policy over another key set: the rule
        // and key numbers could name others (a public rule, another key).
        let same_shape = Gate::new(a.policy().with_overrides(&json!({})).unwrap(), keys());
        let other_keys = Gate::new(a.policy().clone(), keys());
        for g in [&same_shape, &other_keys] {
            let d = g.complete(&p, true);
            assert_eq!(
                (d.outcome, d.reason),
                (Outcome::Deny, Reason::VerificationUnavailable)
            );
        }
        // The gate that prepared it decides it as usual.
        assert_eq!(a.complete(&p, true).reason, Reason::MfaRequired);
    }
}
