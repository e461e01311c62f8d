//! One rule's decision as named steps, in the order the rules apply them:
//! validate → classify → roles → MFA requirement → MFA evidence →
//! exception → answer. Each step is a function of the compiled policy and
//! the claims, tested on its own below; [`Gate::decide`] only runs them in
//! order and turns the first refusal into a decision.

use super::{Facts, Gate};
use crate::answer::{self, ChallengeInput};
use crate::claims::Claims;
use crate::decision::{Decision, MfaReport, Subject};
use crate::keys::KeySet;
use crate::kind::{self, Classification, TokenKind};
use crate::messages::message;
use crate::policy::doc::{ChallengeStyle, RulesVersion};
use crate::policy::exceptions::ExceptionMatch;
use crate::policy::{Compiled, Rule};
use crate::reason::{Reason, Refusal};
use crate::request::Request;
use crate::roles::{ResolvedRoles, RoleSet};
use crate::{mfa, validate};

/// Step 1: the claims (lifetime, audience, issuer, tenant) and, when a key
/// of the gate's set verified the token, that key's own issuer.
pub(super) fn validate(
    c: &Compiled,
    keys: &KeySet,
    key: Option<usize>,
    cl: &Claims<'_>,
    now: i64,
) -> Result<(), Refusal> {
    validate::claims(c, cl, now)?;
    match key {
        Some(k) => validate::issuers(c, keys, k, cl),
        None => Ok(()),
    }
}

/// Step 2: the token's kind (docs/policy.md, the decision table), and
/// whether this rule accepts it.
pub(super) fn classify(
    c: &Compiled,
    rule: &Rule,
    cl: &Claims<'_>,
) -> (Classification, Result<(), Refusal>) {
    let class = kind::classify(cl, &c.partner_tenants);
    let accepted = if class.kind == TokenKind::Unrecognized {
        Err(Refusal::new(Reason::TokenKindUnrecognized, class.evidence))
    } else if !rule.kinds.contains(class.kind) {
        let accepted: Vec<&str> = rule.kinds.iter().map(TokenKind::as_str).collect();
        Err(Refusal::new(
            Reason::TokenKindNotAccepted,
            format!(
                "{} tokens are not accepted on {}; it accepts {}",
                class.kind.as_str(),
                rule.id,
                accepted.join(", ")
            ),
        ))
    } else {
        Ok(())
    };
    (class, accepted)
}

/// Step 3a: the caller's roles, only from a token of a partner tenant,
/// never from a delegated-admin token (whose roles are the customer's).
/// `wids` template IDs are the same in every tenant, and another tenant's
/// groups may reuse a configured object ID: nothing else can be trusted.
/// The flag says whether the token is the partner's own.
pub(crate) fn roles_of(c: &Compiled, cl: &Claims<'_>, kind: TokenKind) -> (ResolvedRoles, bool) {
    let partner = kind != TokenKind::DelegatedAdmin
        && cl
            .tid
            .as_deref()
            .is_some_and(|t| c.partner_tenants.iter().any(|p| p.eq_ignore_ascii_case(t)));
    if partner {
        (c.role_map.resolve(cl), true)
    } else {
        let none = ResolvedRoles {
            roles: RoleSet::EMPTY,
            groups_unavailable: false,
        };
        (none, false)
    }
}

/// Step 3b: whether the roles meet the rule's (roles come before MFA: a
/// role that may not open a page gets 403, not an MFA prompt).
pub(super) fn check_roles(
    c: &Compiled,
    rule: &Rule,
    cl: &Claims<'_>,
    kind: TokenKind,
    resolved: &ResolvedRoles,
    partner: bool,
) -> Result<(), Refusal> {
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

/// What step 4 found: whether this token must prove MFA here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Requirement {
    pub(super) required: bool,
    /// The freshness limit, when MFA is required and one applies.
    pub(super) max_age: Option<u64>,
    /// The reason of an allow when MFA is not required.
    pub(super) exempt: Reason,
}

/// Step 4: a partner user in a customer's tenant (delegated admin) always
/// needs MFA; any other user needs it where the rule asks; an App-only
/// token has no user to ask.
pub(super) fn mfa_requirement(c: &Compiled, rule: &Rule, kind: TokenKind) -> Requirement {
    let required = kind == TokenKind::DelegatedAdmin || (rule.mfa && kind.is_user());
    Requirement {
        required,
        max_age: if required {
            rule.max_age.or(c.max_age)
        } else {
            None
        },
        exempt: if rule.mfa && kind == TokenKind::AppOnly {
            Reason::AppOnlyExempt
        } else {
            Reason::MfaNotRequired
        },
    }
}

/// Step 5: what the token proves about MFA (`amr`, federated MFA,
/// freshness), as reported in the decision, and the proof or why not.
pub(super) fn mfa_evidence(
    c: &Compiled,
    cl: &Claims<'_>,
    need: &Requirement,
    now: i64,
) -> (MfaReport, Result<&'static str, Reason>) {
    let ev = mfa::check(c, cl, need.max_age, now);
    let report = MfaReport {
        required: need.required,
        satisfied: ev.result.is_ok(),
        evidence: ev.result.ok(),
        amr: cl
            .amr
            .as_ref()
            .map(|a| a.iter().map(|s| s.to_string()).collect()),
        auth_time: ev.auth_time,
        max_age: need.max_age,
    };
    (report, ev.result)
}

/// Step 6: a technical exception for the user's tenant, which stands in
/// for MFA on an own-tenant token but never for a delegated admin.
pub(super) fn exception<'c>(
    c: &'c Compiled,
    cl: &Claims<'_>,
    kind: TokenKind,
    now: i64,
) -> ExceptionMatch<'c> {
    if kind == TokenKind::DelegatedAdmin {
        return ExceptionMatch::None;
    }
    let tid = cl.tid.as_deref().unwrap_or("");
    let users: Vec<&str> = [cl.oid.as_deref(), cl.user_name()]
        .into_iter()
        .flatten()
        .collect();
    c.exceptions.find(tid, &users, now)
}

/// After the steps: Partner Center's answer to `ValidateMfa: true` (2026
/// rules). An allowed API call says whether its token proved MFA, in the
/// response header `isMfaCompliant` (`true` only for `amr` or federated
/// MFA; an App-only token or a technical exception is `false`).
pub(super) fn mfa_compliance(c: &Compiled, mut d: Decision, req: &Request<'_>) -> Decision {
    if req.validate_mfa != Some(true) || !d.is_allowed() || c.edition < RulesVersion::V2026 {
        return d;
    }
    let api = d
        .rule
        .as_deref()
        .and_then(|id| c.rules.iter().find(|r| &*r.id == id))
        .is_some_and(|r| r.challenge == ChallengeStyle::PartnerCenter);
    if api {
        let proved = matches!(d.mfa.evidence, Some("amr" | "federated" | "acrs"));
        d.http
            .headers
            .push((answer::IS_MFA_COMPLIANT, proved.to_string()));
    }
    d
}

/// Who the token is about, for the decision.
pub(super) fn subject(cl: &Claims<'_>, kind: TokenKind) -> Subject {
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
    /// Decides under one rule: the steps above, in order; the first that
    /// refuses decides. `key` is the index of the key that verified the
    /// token (None for claims the caller verified).
    pub(super) fn decide(
        &self,
        rule: &Rule,
        cl: &Claims<'_>,
        cx: &super::context::Cx<'_, '_>,
        key: Option<usize>,
    ) -> Decision {
        let c = self.compiled();
        let req = cx.req;
        let refuse = |r: Refusal, facts: Facts| self.refuse(Some(rule), r, facts, Some(cx));
        let mut facts = Facts::default();

        if let Err(r) = validate(c, self.keys(), key, cl, req.now) {
            return refuse(r, facts);
        }

        let (class, accepted) = classify(c, rule, cl);
        facts.kind = Some(class.kind);
        facts.kind_evidence = Some(class.evidence);
        facts.subject = Some(subject(cl, class.kind));
        if let Err(r) = accepted {
            return refuse(r, facts);
        }

        let (resolved, partner) = roles_of(c, cl, class.kind);
        facts.roles = resolved.roles;
        if let Err(r) = check_roles(c, rule, cl, class.kind, &resolved, partner) {
            return refuse(r, facts);
        }

        let need = mfa_requirement(c, rule, class.kind);
        let (report, proof) = mfa_evidence(c, cl, &need, req.now);
        facts.mfa = report;
        if !need.required {
            return self.allow(rule, need.exempt, facts);
        }
        let why = match proof {
            Ok(_) => return self.allow(rule, Reason::MfaSatisfied, facts),
            Err(why) => why,
        };

        let mut detail = format!("MFA check: {}", why.as_str());
        match exception(c, cl, class.kind, req.now) {
            ExceptionMatch::Valid(e) => {
                facts.mfa.evidence = Some("exception");
                facts.exception = Some(e.clone());
                return self.allow(rule, Reason::ExceptionApplied, facts);
            }
            ExceptionMatch::Expired(e) => detail.push_str(&format!(
                "; the technical exception for tenant {} expired at {}",
                e.tenant, e.expires
            )),
            ExceptionMatch::None => {}
        }

        // Step 7: the answer that asks for MFA, in the rule's style.
        let reason = if class.kind == TokenKind::DelegatedAdmin {
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
            max_age: need.max_age,
            cp1: cl
                .xms_cc
                .as_ref()
                .is_some_and(|x| x.contains_ignore_ascii_case("cp1")),
            register_first,
            return_to: &cx.return_to(),
        };
        let ans = answer::challenge(c, &c.claims_b64, &input, &msg);
        self.decision(Some(rule), reason, ans, facts, Some(detail))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Policy;
    use serde_json::json;

    const PARTNER: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
    const OTHER: &str = "4b1f2c3d-1111-4a2b-8c3d-0000000000a2";
    const ADMINS: &str = "a1a1a1a1-0000-4000-8000-000000000001";
    const NOW: i64 = 1_767_225_600;

    fn policy(year: &str) -> Policy {
        Policy::builtin(&format!("partner-center-{year}"))
            .unwrap()
            .with_overrides(&json!({
                "token": {"partner_tenants": [PARTNER]},
                "roles": {"groups": {"admin_agent": [ADMINS]}},
                "exceptions": [{"tenant": PARTNER, "user": "svc@contoso.com",
                                "reason": "third_party_mfa_not_recognized", "expires": "2027-01-01T00:00:00Z",
                                "reference": "case 1"}]
            }))
            .unwrap()
    }

    fn rule<'p>(p: &'p Policy, id: &str) -> &'p Rule {
        p.compiled.rules.iter().find(|r| &*r.id == id).unwrap()
    }

    fn claims(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    fn user(tid: &str, amr: &[&str]) -> serde_json::Value {
        json!({"iss": format!("https://sts.windows.net/{tid}/"), "aud": "https://api.partnercenter.microsoft.com",
               "tid": tid, "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "sub": "s", "scp": "user_impersonation",
               "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab", "upn": "svc@contoso.com",
               "amr": amr, "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600, "groups": [ADMINS]})
    }

    #[test]
    fn validate_refuses_an_expired_token() {
        let p = policy("2020");
        let mut v = user(PARTNER, &["mfa"]);
        v["exp"] = json!(NOW - 3600);
        let bytes = claims(v);
        let cl = Claims::parse(&bytes).unwrap();
        let r = validate(&p.compiled, &KeySet::empty(), None, &cl, NOW).unwrap_err();
        assert_eq!(r.reason, Reason::TokenExpired);
        let fresh = claims(user(PARTNER, &["mfa"]));
        assert!(validate(
            &p.compiled,
            &KeySet::empty(),
            None,
            &Claims::parse(&fresh).unwrap(),
            NOW
        )
        .is_ok());
    }

    #[test]
    fn classify_names_the_kind_and_what_the_rule_accepts() {
        let p = policy("2020");
        let bytes = claims(user(PARTNER, &["mfa"]));
        let cl = Claims::parse(&bytes).unwrap();
        let (class, ok) = classify(&p.compiled, rule(&p, "api"), &cl);
        assert_eq!(class.kind, TokenKind::AppUser);
        assert!(ok.is_ok());
        let mut no_app = user(PARTNER, &["mfa"]);
        no_app.as_object_mut().unwrap().remove("appid");
        let bytes = claims(no_app);
        let (class, ok) = classify(
            &p.compiled,
            rule(&p, "api"),
            &Claims::parse(&bytes).unwrap(),
        );
        assert_eq!(class.kind, TokenKind::Unrecognized);
        assert_eq!(ok.unwrap_err().reason, Reason::TokenKindUnrecognized);
    }

    #[test]
    fn roles_come_only_from_the_partner_tenant() {
        let p = policy("2020");
        let own = claims(user(PARTNER, &["mfa"]));
        let (r, partner) = roles_of(
            &p.compiled,
            &Claims::parse(&own).unwrap(),
            TokenKind::AppUser,
        );
        assert!(partner && !r.roles.is_empty());
        let foreign = claims(user(OTHER, &["mfa"]));
        let cl = Claims::parse(&foreign).unwrap();
        let (r, partner) = roles_of(&p.compiled, &cl, TokenKind::AppUser);
        assert!(!partner && r.roles.is_empty());
        let refused = check_roles(
            &p.compiled,
            rule(&p, "customers"),
            &cl,
            TokenKind::IdToken,
            &r,
            partner,
        )
        .unwrap_err();
        assert_eq!(refused.reason, Reason::RoleNotPermitted);
        assert!(
            refused.detail.contains("not one of them"),
            "{}",
            refused.detail
        );
    }

    #[test]
    fn mfa_requirement_by_kind() {
        let p = policy("2020");
        let api = rule(&p, "api");
        assert!(mfa_requirement(&p.compiled, api, TokenKind::AppUser).required);
        let app = mfa_requirement(&p.compiled, api, TokenKind::AppOnly);
        assert!(!app.required);
        assert_eq!(app.exempt, Reason::AppOnlyExempt);
        // A delegated admin needs MFA even where the rule does not ask.
        let open = p
            .compiled
            .rules
            .iter()
            .find(|r| !r.mfa && !r.public)
            .unwrap();
        assert!(mfa_requirement(&p.compiled, open, TokenKind::DelegatedAdmin).required);
        assert!(!mfa_requirement(&p.compiled, open, TokenKind::IdToken).required);
    }

    #[test]
    fn mfa_evidence_reports_amr() {
        let p = policy("2020");
        let need = mfa_requirement(&p.compiled, rule(&p, "api"), TokenKind::AppUser);
        let with = claims(user(PARTNER, &["pwd", "mfa"]));
        let (rep, proof) = mfa_evidence(&p.compiled, &Claims::parse(&with).unwrap(), &need, NOW);
        assert_eq!(proof, Ok("amr"));
        assert!(rep.required && rep.satisfied);
        let without = claims(user(PARTNER, &["pwd"]));
        let (rep, proof) = mfa_evidence(&p.compiled, &Claims::parse(&without).unwrap(), &need, NOW);
        assert_eq!(proof, Err(Reason::MfaRequired));
        assert_eq!(rep.amr, Some(vec!["pwd".to_owned()]));
    }

    #[test]
    fn exceptions_never_cover_a_delegated_admin() {
        let p = policy("2020");
        let bytes = claims(user(PARTNER, &["pwd"]));
        let cl = Claims::parse(&bytes).unwrap();
        assert!(matches!(
            exception(&p.compiled, &cl, TokenKind::AppUser, NOW),
            ExceptionMatch::Valid(_)
        ));
        assert!(matches!(
            exception(&p.compiled, &cl, TokenKind::DelegatedAdmin, NOW),
            ExceptionMatch::None
        ));
        let later = NOW + 400 * 86_400;
        assert!(matches!(
            exception(&p.compiled, &cl, TokenKind::AppUser, later),
            ExceptionMatch::Expired(_)
        ));
    }

    #[test]
    fn compliance_header_only_on_allowed_2026_api_calls() {
        let bytes = claims(user(PARTNER, &["mfa"]));
        let cl = Claims::parse(&bytes).unwrap();
        let req = Request::new("/v1/customers", NOW).validate_mfa(true);
        for (year, want) in [("2026", true), ("2025", false)] {
            let gate = Gate::new(policy(year), KeySet::empty());
            let d = gate.evaluate_claims(&cl, &req);
            let has = d
                .http
                .headers
                .iter()
                .any(|(k, _)| *k == answer::IS_MFA_COMPLIANT);
            assert_eq!(has, want, "{year}");
        }
    }
}
