//! Explains a token without verifying it: kind, MFA evidence, roles, and
//! what each rule of a policy would decide if the signature were good.
//! Used by `mfagate inspect` and the WebAssembly inspector page.

use crate::claims::{Claims, FEDERATED_MFA_VALUE};
use crate::decision::Decision;
use crate::jws::decode_unverified;
use crate::kind::{self, TokenKind};
use crate::policy::Policy;
use crate::reason::Refusal;
use crate::request::Request;
use crate::roles::RoleSet;
use crate::{Gate, KeySet};
use serde::Serialize;
use serde_json::Value;

/// A path no route matches, to show the default rule.
pub const UNMATCHED_PATH: &str = "/mfagate-inspect/any-other-page";

/// What the token says about MFA, before any policy.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MfaClaims {
    /// The token's `amr` values; `None` when the claim is absent (often a
    /// v2 token, which then cannot prove MFA).
    pub amr: Option<Vec<String>>,
    /// Whether `amr` contains exactly "mfa" (Partner Center's check).
    pub amr_has_mfa: bool,
    /// Whether the federated claim says `multipleauthn`.
    pub federated_mfa: bool,
    /// The token's `auth_time`, which freshness (`max_age`) is measured from.
    pub auth_time: Option<f64>,
}

/// One rule of the policy, decided on the token's claims.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RuleVerdict {
    /// The route id, or "default".
    pub rule: String,
    /// The route's description from the policy.
    pub description: String,
    /// The sample request path used (from the rule's first pattern).
    pub path: String,
    /// What the gate would decide there, were the signature good.
    pub decision: Decision,
}

/// What [`inspect`] found in a token: what it is, what it proves, and what
/// each rule of the policy would make of it. Serializes to the JSON that
/// `mfagate inspect --json` and the inspector page show.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Inspection {
    /// Always false: nothing here checked the signature.
    pub verified: bool,
    /// The JOSE header, as sent.
    pub header: Value,
    /// Every claim of the payload, as sent (also those the engine ignores).
    pub claims: Value,
    /// The token's `ver`, if any.
    pub version: Option<String>,
    /// The kind the claims make it.
    pub kind: TokenKind,
    /// What decided the kind, for people.
    pub kind_evidence: &'static str,
    /// The roles its `wids`, `groups` and `roles` grant under the policy.
    pub roles: RoleSet,
    /// `groups` was replaced by an overage marker: group-based roles are
    /// unknown, and routes that need them refuse.
    pub groups_overage: bool,
    /// What the token says about MFA, before any policy.
    pub mfa: MfaClaims,
    /// The name of the policy the rules come from.
    pub policy: String,
    /// The token's own tenant, taken as the partner tenant because the
    /// policy names none (`token.partner_tenants`).
    pub assumed_partner_tenant: Option<String>,
    /// The time the rules were evaluated at (Unix seconds).
    pub evaluated_at: i64,
    /// One verdict per enabled route (by id), then the default rule's.
    pub rules: Vec<RuleVerdict>,
}

fn sample_path(pattern: &str) -> String {
    let segs: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != "**")
        .map(|s| if s == "*" { "x" } else { s })
        .collect();
    format!("/{}", segs.join("/"))
}

/// Explains `token` against `policy`. The audience and tenant checks are
/// relaxed to the token's own values (it is not verified anyway); `now`
/// defaults to just after the token's `iat`, so that time checks pass.
pub fn inspect(token: &str, policy: &Policy, now: Option<i64>) -> Result<Inspection, Refusal> {
    let (header, payload) = decode_unverified(token.trim())?;
    let claims_json: Value = serde_json::from_slice(&payload).map_err(|e| {
        Refusal::new(
            crate::reason::Reason::TokenMalformed,
            format!("payload is not JSON: {e}"),
        )
    })?;
    let claims = Claims::parse(&payload)?;
    let doc = policy.doc();
    let auds: Vec<String> = claims
        .aud
        .as_ref()
        .map(|a| a.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    // Explain the token as if it were meant for this deployment: its own
    // audience, any tenant, and (when the policy names none) its own tenant
    // as the partner's, so that role checks show what its roles would open.
    let assumed_partner_tenant = claims
        .tid
        .as_deref()
        .filter(|t| doc.token.partner_tenants.is_empty() && crate::guid::is_guid(t))
        .map(str::to_owned);
    let mut token_patch = serde_json::Map::new();
    token_patch.insert("tenants".into(), serde_json::json!([]));
    if !auds.is_empty() {
        token_patch.insert("audiences".into(), serde_json::json!(auds));
    }
    if let Some(t) = &assumed_partner_tenant {
        // The idp's tenant too, if foreign: with no partner tenant listed,
        // any foreign idp makes a token delegated admin, and so it still does.
        let mut list = vec![t.clone()];
        if let Some(p) = claims.idp.as_deref().and_then(kind::idp_tenant) {
            if !p.eq_ignore_ascii_case(t) {
                list.push(p.to_ascii_lowercase());
            }
        }
        token_patch.insert("partner_tenants".into(), serde_json::json!(list));
    }
    let patch = serde_json::json!({ "token": token_patch });
    let relaxed = policy
        .with_overrides(&patch)
        .map_err(|e| Refusal::new(crate::reason::Reason::RequestInvalid, e.message))?;
    let now = now.unwrap_or_else(|| claims.iat.map_or(0, |t| (t as i64).saturating_add(1)));
    let gate = Gate::new(relaxed, KeySet::empty());
    let class = kind::classify(&claims, &gate.policy().compiled.partner_tenants);
    let (resolved, _) = crate::gate::steps::roles_of(gate.compiled(), &claims, class.kind);
    let mut rules = Vec::new();
    let mut routes: Vec<(&String, &crate::policy::doc::RouteDoc)> =
        doc.routes.iter().filter(|(_, r)| r.enabled).collect();
    routes.sort_by_key(|(id, _)| id.as_str());
    for (id, r) in routes {
        let path = r.paths.first().map(|p| sample_path(p)).unwrap_or_default();
        let mut req = Request::new(&path, now);
        req.method = r.methods.first().map_or("GET", String::as_str);
        req.host = r.hosts.first().map(String::as_str);
        rules.push(RuleVerdict {
            rule: id.clone(),
            description: r.description.clone(),
            decision: gate.evaluate_claims(&claims, &req),
            path,
        });
    }
    rules.push(RuleVerdict {
        rule: "default".into(),
        description: doc.default.description.clone(),
        decision: gate.evaluate_claims(&claims, &Request::new(UNMATCHED_PATH, now)),
        path: UNMATCHED_PATH.into(),
    });
    Ok(Inspection {
        verified: false,
        version: claims.ver.as_deref().map(str::to_owned),
        kind: class.kind,
        kind_evidence: class.evidence,
        roles: resolved.roles,
        groups_overage: claims.groups_overage(),
        mfa: MfaClaims {
            amr: claims
                .amr
                .as_ref()
                .map(|a| a.iter().map(|s| s.to_string()).collect()),
            amr_has_mfa: claims
                .amr
                .as_ref()
                .is_some_and(|a| a.iter().any(|v| v == "mfa")),
            federated_mfa: claims
                .federated_amr
                .as_ref()
                .is_some_and(|f| f.contains(FEDERATED_MFA_VALUE)),
            auth_time: claims.auth_time,
        },
        policy: doc.name.clone(),
        assumed_partner_tenant,
        evaluated_at: now,
        header,
        claims: claims_json,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn explains_the_seed_sample_token() {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = r#"{"aud":"https://api.partnercenter.microsoft.com","iss":"https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/","iat":1549088552,"nbf":1549088552,"exp":1549092452,"amr":["pwd","mfa"],"appid":"23ec45a3-5127-4185-9eff-c8887839e6ab","appidacr":"0","oid":"4988e250-5aee-482a-9136-6d269cb755c0","scp":"user_impersonation","tid":"df845f1a-7b35-40a2-ba78-6481de91f8ae","ver":"1.0"}"#;
        let token = format!(
            "{}.{}.sig",
            b(r#"{"typ":"JWT","alg":"RS256","kid":"k"}"#),
            b(payload)
        );
        let i = inspect(&token, &Policy::builtin("partner-center").unwrap(), None).unwrap();
        assert_eq!(i.kind, TokenKind::AppUser);
        assert!(i.mfa.amr_has_mfa);
        let api = i.rules.iter().find(|r| r.rule == "api").unwrap();
        assert_eq!(api.decision.reason, crate::Reason::MfaSatisfied);
        let customers = i.rules.iter().find(|r| r.rule == "customers").unwrap();
        // The token's tenant is taken as the partner's (the built-in names
        // none): an App+User token without agent groups may not open it.
        assert_eq!(customers.decision.reason, crate::Reason::RoleNotPermitted);
        assert_eq!(
            i.assumed_partner_tenant.as_deref(),
            Some("df845f1a-7b35-40a2-ba78-6481de91f8ae")
        );
    }

    #[test]
    fn a_delegated_token_stays_delegated_when_the_partner_tenant_is_assumed() {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = r#"{"aud":"https://api.partnercenter.microsoft.com","iss":"https://sts.windows.net/7e4f5a6b-3333-4c5d-ae6f-0000000000c1/","iat":1549088552,"exp":1549092452,"amr":["pwd"],"appid":"23ec45a3-5127-4185-9eff-c8887839e6ab","oid":"4988e250-5aee-482a-9136-6d269cb755c0","scp":"user_impersonation","tid":"7e4f5a6b-3333-4c5d-ae6f-0000000000c1","idp":"https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/","wids":["62e90394-69f5-4237-9190-012177145e10"],"ver":"1.0"}"#;
        let token = format!("{}.{}.sig", b(r#"{"alg":"RS256","kid":"k"}"#), b(payload));
        let i = inspect(&token, &Policy::builtin("partner-center").unwrap(), None).unwrap();
        assert_eq!(i.kind, TokenKind::DelegatedAdmin);
        assert!(
            i.roles.is_empty(),
            "a customer's Global Administrator is no partner role"
        );
        let api = i.rules.iter().find(|r| r.rule == "api").unwrap();
        assert_eq!(
            api.decision.reason,
            crate::Reason::DelegatedAdminMfaRequired
        );
    }
}
