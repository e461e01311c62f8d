//! The gate: a policy and a key set, built once, deciding requests.

use crate::answer::{self, Answer, ChallengeInput};
use crate::claims::Claims;
use crate::decision::{Decision, MfaReport, Subject};
use crate::jws::{self, Algorithm, Refusal};
use crate::keys::KeySet;
use crate::kind::{self, TokenKind};
use crate::messages::message;
use crate::policy::exceptions::{Exception, ExceptionMatch};
use crate::policy::{Compiled, Policy, Rule};
use crate::reason::{Outcome, Reason};
use crate::request::{credential, Request};
use crate::roles::RoleSet;
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
    rule: usize,
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
    Subject {
        tenant: cl.tid.as_deref().map(str::to_owned),
        object_id: cl.oid.as_deref().map(str::to_owned),
        user: cl.user_name().map(str::to_owned),
        app_id: cl.app_id().map(str::to_owned),
        home_tenant: if kind == TokenKind::DelegatedAdmin {
            cl.idp
                .as_deref()
                .and_then(kind::idp_tenant)
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

    fn c(&self) -> &Compiled {
        &self.policy.compiled
    }

    fn rule(&self, idx: usize) -> &Rule {
        &self.c().rules[idx]
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

    fn refuse(&self, rule: Option<usize>, r: Refusal, facts: Facts) -> Decision {
        let msg = message(r.reason, false);
        self.finish(
            rule,
            r.reason,
            answer::refusal(r.reason, &msg, rule.map(|i| self.rule(i).challenge)),
            facts,
            Some(r.detail),
        )
    }

    fn allow(&self, rule: usize, reason: Reason, facts: Facts) -> Decision {
        let ans = Answer {
            outcome: Outcome::Allow,
            http: answer::allow(),
            redirect: None,
        };
        self.finish(Some(rule), reason, ans, facts, None)
    }

    /// Route lookup: the matching rule's index, or the default's.
    fn route(&self, req: &Request<'_>) -> Result<usize, Box<Decision>> {
        let segs = crate::policy::routes::normalize_path(req.path).map_err(|d| {
            self.refuse(
                None,
                Refusal::new(Reason::RequestInvalid, d),
                Facts::default(),
            )
        })?;
        let host = req.host.map(crate::policy::routes::normalize_host);
        Ok(self
            .c()
            .table
            .lookup(&segs, req.method, host.as_deref())
            .unwrap_or(self.c().default_rule))
    }

    /// Everything up to the signature check: route, credential, JWS shape,
    /// algorithm and key.
    fn front<'r>(&self, req: &Request<'r>) -> Result<(usize, jws::Jws<'r>, usize), Box<Decision>> {
        let rule = self.route(req)?;
        let token = match credential(req) {
            Err(()) => {
                return Err(Box::new(self.refuse(
                    Some(rule),
                    Refusal::new(
                        Reason::CredentialAmbiguous,
                        "both an Authorization header and a session token were given",
                    ),
                    Facts::default(),
                )))
            }
            Ok(Err(why)) => {
                let msg = message(Reason::NoCredential, false);
                let ans =
                    answer::no_credential(self.c(), self.rule(rule).challenge, req.path, &msg);
                return Err(Box::new(self.finish(
                    Some(rule),
                    Reason::NoCredential,
                    ans,
                    Facts::default(),
                    Some(why.into()),
                )));
            }
            Ok(Ok(t)) => t,
        };
        let c = self.c();
        let (jws, key) = jws::parse(token, c.max_bytes, &c.algorithms, |kid, alg| {
            self.keys.select(kid, alg)
        })
        .map_err(|r| Box::new(self.refuse(Some(rule), r, Facts::default())))?;
        Ok((rule, jws, key))
    }

    /// Decides a request: verifies the token's signature in-process (native
    /// builds), then checks claims, kind, roles and MFA.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        match self.front(req) {
            Ok((rule, jws, key)) => self.verify_in_process(rule, &jws, key, req),
            Err(d) => *d,
        }
    }

    fn verify_in_process(
        &self,
        rule: usize,
        jws: &jws::Jws<'_>,
        key: usize,
        req: &Request<'_>,
    ) -> Decision {
        let k = &self.keys.keys()[key];
        match k
            .prepared
            .verify(jws.alg, jws.signing_input.as_bytes(), &jws.signature)
        {
            Err(r) => self.refuse(Some(rule), r, Facts::default()),
            Ok(false) => self.refuse(
                Some(rule),
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the signature does not verify with the selected key",
                ),
                Facts::default(),
            ),
            Ok(true) => self.after_signature(rule, &jws.payload, req),
        }
    }

    /// First phase of a two-phase evaluation: decides at once when it can
    /// (including HS256 in builds that verify HMAC in-process), else asks the
    /// host to verify the signature.
    pub fn prepare(&self, req: &Request<'_>) -> Step {
        let (rule, jws, key) = match self.front(req) {
            Ok(x) => x,
            Err(d) => return Step::Done(d),
        };
        if crate::crypto::verifies_in_process(jws.alg) {
            return Step::Done(Box::new(self.verify_in_process(rule, &jws, key, req)));
        }
        Step::Verify(Pending {
            rule,
            alg: jws.alg,
            key_index: key,
            signing_input: jws.signing_input.as_bytes().to_vec(),
            signature: jws.signature,
            payload: jws.payload,
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
                Some(pending.rule),
                Refusal::new(
                    Reason::SignatureInvalid,
                    "the host reported that the signature does not verify",
                ),
                Facts::default(),
            );
        }
        self.after_signature(pending.rule, &pending.payload, req)
    }

    fn after_signature(&self, rule: usize, payload: &[u8], req: &Request<'_>) -> Decision {
        match Claims::parse(payload) {
            Err(r) => self.refuse(Some(rule), r, Facts::default()),
            Ok(cl) => self.decide(rule, &cl, req),
        }
    }

    /// The second phase when the host cannot verify at all (for example no
    /// WebCrypto): a `verification_unavailable` decision, never an allow.
    pub fn complete_unavailable(&self, pending: &Pending, why: &str) -> Decision {
        self.refuse(
            Some(pending.rule),
            Refusal::new(Reason::VerificationUnavailable, why),
            Facts::default(),
        )
    }

    /// As [`Gate::evaluate_claims`], from the claims' JSON: claims that cannot
    /// be read are a `claim_invalid` or `token_malformed` decision, not an error.
    pub fn evaluate_claims_json(&self, json: &str, req: &Request<'_>) -> Decision {
        let rule = match self.route(req) {
            Ok(rule) => rule,
            Err(d) => return *d,
        };
        match Claims::parse(json.as_bytes()) {
            Ok(cl) => self.decide(rule, &cl, req),
            Err(r) => self.refuse(Some(rule), r, Facts::default()),
        }
    }

    /// Decides on claims the caller has already verified (for example those
    /// an app validated at sign-in). Everything but the signature is checked.
    pub fn evaluate_claims(&self, claims: &Claims<'_>, req: &Request<'_>) -> Decision {
        match self.route(req) {
            Ok(rule) => self.decide(rule, claims, req),
            Err(d) => *d,
        }
    }

    fn decide(&self, rule_idx: usize, cl: &Claims<'_>, req: &Request<'_>) -> Decision {
        let c = self.c();
        let rule = self.rule(rule_idx);
        let mut facts = Facts::default();
        if let Err(r) = validate::claims(c, cl, req.now) {
            return self.refuse(Some(rule_idx), r, facts);
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
            );
        }
        let resolved = c.role_map.resolve(cl);
        facts.roles = resolved.roles;
        if !rule.roles.is_empty() && !resolved.roles.intersects(rule.roles) {
            let hidden =
                resolved.groups_unavailable && c.role_map.group_roles().intersects(rule.roles);
            let r = if hidden {
                Refusal::new(
                    Reason::RolesUnavailable,
                    "the token carries a group overage marker instead of its groups",
                )
            } else {
                let need: Vec<&str> = rule.roles.iter().map(|r| r.as_str()).collect();
                Refusal::new(
                    Reason::RoleNotPermitted,
                    format!("{} needs one of: {}", rule.id, need.join(", ")),
                )
            };
            return self.refuse(Some(rule_idx), r, facts);
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
            path: req.path,
        };
        let ans = answer::challenge(c, &c.claims_b64, &input, &msg);
        self.finish(Some(rule_idx), reason, ans, facts, Some(detail))
    }
}
