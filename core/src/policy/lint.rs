//! `policy lint`: every problem with file, line and a hint.

use super::doc::PolicyDoc;
use super::Policy;
use crate::jws::Algorithm;
use crate::kind::TokenKind;
use crate::roles::Role;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The policy does not load: fix it before deploying.
    Error,
    /// The policy loads, but likely does not do what was meant (a `lint_*`
    /// code).
    Warning,
}

crate::catalogue::catalogue! {
    /// The codes of lint findings that are not load errors, documented with
    /// the error codes in docs/errors.md.
    pub enum LintCode {
        /// A route needs a role nothing grants.
        RoleUnsourced = "lint_role_unsourced",
        /// Routes need roles but no partner tenant is named.
        PartnerTenantMissing = "lint_partner_tenant_missing",
        /// ID tokens are accepted without a client ID audience.
        IdTokenAudience = "lint_id_token_audience",
        /// HS256 (a shared secret) is pinned.
        SharedSecret = "lint_shared_secret",
        /// A technical exception has expired.
        ExceptionExpired = "lint_exception_expired",
    }
}

impl LintCode {
    /// Where the code is documented.
    pub fn doc_url(self) -> String {
        format!("{}#{}", crate::error::ERRORS_DOC, self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// Whether the policy loads despite it.
    pub severity: Severity,
    /// An error code (see docs/errors.md) or a `lint_*` warning code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line in the source the problem points at, when one is found.
    pub line: Option<usize>,
    /// What to do about it.
    pub hint: String,
}

/// The line of the first quoted name in `message` that appears in `src`.
pub fn locate(src: &str, message: &str) -> Option<usize> {
    let mut names = Vec::new();
    let mut rest = message;
    while let Some((i, q)) = rest.char_indices().find(|&(_, c)| c == '"' || c == '`') {
        let after = &rest[i + 1..];
        let Some(j) = after.find(q) else { break };
        names.push(&after[..j]);
        rest = &after[j + 1..];
    }
    for name in names.into_iter().filter(|n| !n.is_empty()) {
        for (i, line) in src.lines().enumerate() {
            let trimmed = line.trim_start();
            let is_key = trimmed.starts_with(name)
                || trimmed.starts_with(&format!("[routes.{name}]"))
                || line.contains(&format!("\"{name}\""));
            if is_key {
                return Some(i + 1);
            }
        }
    }
    None
}

fn warn(src: &str, code: LintCode, message: String, hint: &str) -> Problem {
    Problem {
        severity: Severity::Warning,
        code: code.as_str().to_owned(),
        line: locate(src, &message),
        message,
        hint: hint.to_owned(),
    }
}

fn warnings(doc: &PolicyDoc, src: &str, now: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    let r = &doc.roles;
    for role in Role::ALL {
        let sourced = [&r.directory, &r.groups, &r.app_roles]
            .iter()
            .any(|m| m.get(&role).is_some_and(|v| !v.is_empty()));
        let used_by: Vec<&str> = doc
            .routes
            .iter()
            .filter(|(_, rt)| rt.enabled && rt.roles.contains(&role))
            .map(|(id, _)| id.as_str())
            .collect();
        if !sourced && !used_by.is_empty() {
            out.push(warn(
                src,
                LintCode::RoleUnsourced,
                format!(
                    "role \"{}\" is required by route(s) {} but no group ID, directory role or app role grants it: nobody will get in",
                    role.as_str(),
                    used_by.join(", ")
                ),
                "set [roles.groups] with the object ID of the partner tenant's agent group (AdminAgents, SalesAgents, HelpdeskAgents)",
            ));
        }
    }
    let gated: Vec<&str> = doc
        .routes
        .iter()
        .filter(|(_, rt)| rt.enabled && !rt.roles.is_empty())
        .map(|(id, _)| id.as_str())
        .collect();
    if doc.token.partner_tenants.is_empty() && !gated.is_empty() {
        let message = format!(
            "route(s) {} need roles, but token.partner_tenants is empty: roles are read only from your partner tenant's tokens, so these routes refuse everyone (partner_tenant_not_configured)",
            gated.join(", ")
        );
        out.push(Problem {
            severity: Severity::Error,
            code: LintCode::PartnerTenantMissing.as_str().to_owned(),
            line: locate(src, "\"partner_tenants\"").or_else(|| locate(src, &message)),
            message,
            hint: "set [token] partner_tenants = [\"<your partner tenant ID>\"] (the tid of your own users' tokens)".to_owned(),
        });
    }
    let accepts_id = doc
        .routes
        .values()
        .chain([&doc.default])
        .any(|rt| rt.kinds.contains(&TokenKind::IdToken));
    if accepts_id && !doc.token.audiences.iter().any(|a| crate::guid::is_guid(a)) {
        out.push(warn(
            src,
            LintCode::IdTokenAudience,
            "ID tokens are accepted but no audience is a client ID (ID tokens carry your app's client ID in \"aud\")".into(),
            "add your app registration's client ID to token.audiences",
        ));
    }
    if doc.token.algorithms.contains(&Algorithm::HS256) {
        out.push(warn(
            src,
            LintCode::SharedSecret,
            "\"HS256\" is pinned: tokens signed with a shared secret are accepted".into(),
            "Entra signs with RS256; keep HS256 only for tokens you mint yourself",
        ));
    }
    for (i, e) in doc.exceptions.iter().enumerate() {
        if crate::time::parse_rfc3339(&e.expires).is_some_and(|t| t <= now) {
            out.push(warn(
                src,
                LintCode::ExceptionExpired,
                format!(
                    "exception #{} for tenant \"{}\" expired on {}",
                    i + 1,
                    e.tenant,
                    e.expires
                ),
                "remove it, or renew it with Microsoft and update expires",
            ));
        }
    }
    out
}

/// Lints a policy file's text: every problem that keeps it from loading
/// (not only the first), else the warnings. `json` selects the syntax;
/// `now` is Unix seconds (for expired exceptions).
pub fn lint(src: &str, json: bool, now: i64) -> Vec<Problem> {
    let error = |e: crate::error::Error| Problem {
        severity: Severity::Error,
        code: e.code.as_str().to_owned(),
        line: e.line.or_else(|| locate(src, &e.message)),
        message: e.message,
        hint: e.hint,
    };
    #[cfg(feature = "toml")]
    let parsed = if json {
        super::parse_json(src)
    } else {
        super::parse_toml(src)
    };
    #[cfg(not(feature = "toml"))]
    let parsed = if json {
        super::parse_json(src)
    } else {
        Err(super::toml_unsupported())
    };
    let doc = parsed
        .and_then(|v| super::resolve_extends(v, 0))
        .and_then(|v| {
            serde_json::from_value::<PolicyDoc>(v).map_err(|e| {
                crate::error::Error::new(
                    crate::error::ErrorCode::PolicyInvalid,
                    format!("the policy does not fit format {}: {e}", super::doc::FORMAT_VERSION),
                    "compare it with `mfagate policy schema` or `mfagate policy show partner-center`",
                )
            })
        });
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return vec![error(e)],
    };
    let errors = Policy::problems(&doc);
    if !errors.is_empty() {
        return errors.into_iter().map(error).collect();
    }
    warnings(&doc, src, now)
}

#[cfg(all(test, feature = "toml"))]
mod tests {
    use super::*;

    #[test]
    fn builtin_warns_about_unsourced_agent_roles() {
        let src = "extends = \"partner-center\"\n[token]\npartner_tenants = [\"df845f1a-7b35-40a2-ba78-6481de91f8ae\"]\n";
        let problems = lint(src, false, 0);
        assert!(problems
            .iter()
            .any(|p| p.code == "lint_role_unsourced" && p.message.contains("admin_agent")));
        assert!(problems.iter().all(|p| p.severity == Severity::Warning));
    }

    #[test]
    fn role_gated_routes_need_a_partner_tenant() {
        let problems = lint("extends = \"partner-center\"\n", false, 0);
        let p = problems
            .iter()
            .find(|p| p.code == "lint_partner_tenant_missing")
            .unwrap();
        assert_eq!(p.severity, Severity::Error);
        assert!(
            p.message.contains("billing, customer_requests, customers"),
            "{}",
            p.message
        );
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let src = "extends = \"partner-center\"\n[token]\naudiences = []\npartner_tenants = [\"x\"]\n[routes.a]\npaths = [\"/a/**/b\"]\n[[exceptions]]\ntenant = \"df845f1a-7b35-40a2-ba78-6481de91f8ae\"\nreason = \"needs_more_time\"\nexpires = \"2030-01-01\"\n";
        let problems = lint(src, false, 0);
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes.len(), 4, "{problems:?}");
        assert!(codes.contains(&"exception_reason_invalid"));
        assert_eq!(codes.iter().filter(|c| **c == "policy_invalid").count(), 3);
        assert!(problems.iter().all(|p| p.severity == Severity::Error));
    }

    #[test]
    fn errors_point_at_their_line() {
        let src = "extends = \"partner-center\"\n\n[routes.bad]\npaths = [\"/a/**/b\"]\n";
        let p = &lint(src, false, 0)[0];
        assert_eq!(p.severity, Severity::Error);
        assert_eq!(p.code, "policy_invalid");
        assert_eq!(p.line, Some(3));
    }
}
