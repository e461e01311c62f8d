//! Policies: loading (built-in, TOML, JSON, with overrides), validation and
//! compilation into the lookup structures a decision uses.

mod compile;
pub mod doc;
pub mod exceptions;
pub(crate) mod host;
pub mod lint;
mod load;
pub(crate) mod path;
pub(crate) mod routes;

#[cfg(feature = "toml")]
pub use load::parse_toml;
pub(crate) use load::resolve_extends;
#[cfg(not(feature = "toml"))]
pub(crate) use load::toml_unsupported;
pub use load::{merge_patch, parse_json, BUILTIN_NAMES, DEFAULT_BUILTIN};

use crate::jws::Algorithm;
use crate::kind::KindSet;
use crate::roles::{RoleMap, RoleSet};
use doc::{ChallengeStyle, PolicyDoc, RulesVersion};
use exceptions::ExceptionTable;
use routes::RouteTable;
use std::sync::Arc;

/// One compiled rule: a route, or the default.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The route's id, or "default": what a decision's `rule` names.
    pub id: Arc<str>,
    /// No credential needed (`public = true`).
    pub public: bool,
    /// User tokens need MFA here (delegated admin always does).
    pub mfa: bool,
    pub(crate) kinds: KindSet,
    /// Roles that may open it (any one suffices); empty: no role check.
    pub roles: RoleSet,
    /// How a missing MFA is answered.
    pub challenge: ChallengeStyle,
    /// The route's own MFA freshness limit, in seconds after `auth_time`;
    /// when `None`, the policy's `mfa.max_age` applies.
    pub max_age: Option<u64>,
}

/// Everything a decision needs, built once.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rules: Vec<Rule>,
    pub default_rule: usize,
    pub table: RouteTable,
    pub audiences: Vec<String>,
    pub audience_trailing_slash: bool,
    pub cloud: crate::cloud::Cloud,
    pub edition: RulesVersion,
    pub algorithms: Vec<Algorithm>,
    pub skew: i64,
    pub max_bytes: usize,
    pub tenants: Vec<String>,
    pub partner_tenants: Vec<String>,
    pub accepted_amr: Vec<String>,
    pub accept_federated: bool,
    pub max_age: Option<u64>,
    pub sign_in_url: String,
    pub acr_values: String,
    /// `mfa.auth_context`: a token whose `acrs` holds it proves MFA, since
    /// that is what the claims challenge asks Entra for.
    pub auth_context: Option<String>,
    /// The base64 `claims` of a claims challenge, computed once.
    pub claims_b64: String,
    pub role_map: RoleMap,
    pub exceptions: ExceptionTable,
}

/// A validated, compiled policy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Policy {
    doc: Arc<PolicyDoc>,
    pub(crate) compiled: Arc<Compiled>,
}

impl Policy {
    /// The resolved document it was compiled from (`extends` already
    /// merged), for showing or patching a policy.
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    /// The policy's `name`, for logs.
    pub fn name(&self) -> &str {
        &self.doc.name
    }

    /// The compiled rules, routes first (by id), the default last.
    pub fn rules(&self) -> &[Rule] {
        &self.compiled.rules
    }

    /// The resolved document as TOML (for `policy show`).
    #[cfg(feature = "toml")]
    pub fn to_toml(&self) -> crate::error::Result<String> {
        use crate::error::{Error, ErrorCode};
        toml::to_string(&*self.doc).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("cannot encode as TOML: {e}"),
                "",
            )
        })
    }

    /// The JSON Schema of the policy format.
    #[cfg(feature = "schema")]
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(PolicyDoc)).unwrap_or(serde_json::Value::Null)
    }
}

impl RulesVersion {
    /// The built-in policy that encodes this edition.
    pub fn builtin_name(self) -> &'static str {
        match self {
            RulesVersion::V2019 => "partner-center-2019",
            RulesVersion::V2020 => "partner-center-2020",
            RulesVersion::V2025 => "partner-center-2025",
            RulesVersion::V2026 => "partner-center-2026",
        }
    }
}

#[cfg(all(test, feature = "toml", feature = "schema"))]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn builtins_load() {
        for n in BUILTIN_NAMES {
            let p = Policy::builtin(n).unwrap();
            assert!(p.rules().len() >= 3, "{n}");
        }
        assert_eq!(
            Policy::builtin("partner-center").unwrap().name(),
            "partner-center-2020"
        );
        assert_eq!(
            Policy::builtin("nope").unwrap_err().code,
            ErrorCode::PolicyUnknownBuiltin
        );
    }

    #[test]
    fn overrides_patch_without_copying() {
        let p = Policy::builtin("partner-center")
            .unwrap()
            .with_overrides(&serde_json::json!({"routes": {"billing": {"paths": ["/pay/**"]}}}))
            .unwrap();
        assert_eq!(p.doc().routes["billing"].paths, vec!["/pay/**"]);
        assert!(p.doc().routes["billing"].mfa);
    }

    #[test]
    fn invalid_exception_reason_refuses_to_load_with_the_seed_answer() {
        let e = Policy::from_toml(
            r#"
extends = "partner-center-2020"
[[exceptions]]
tenant = "df845f1a-7b35-40a2-ba78-6481de91f8ae"
reason = "needs_more_time"
expires = "2030-01-01"
"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ExceptionReasonInvalid);
        assert!(
            e.message
                .contains("Partner needs to make plans to implement MFA"),
            "{e}"
        );
    }

    #[test]
    fn unknown_fields_and_roles_are_refused() {
        let e = Policy::from_toml("extends = \"partner-center\"\n[token]\naudience = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyInvalid);
        let e = Policy::from_toml(
            "extends = \"partner-center\"\n[routes.x]\npaths=[\"/x\"]\nroles=[\"janitor\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyInvalid);
        assert!(e.message.contains("janitor"));
    }

    #[test]
    fn toml_syntax_errors_carry_a_line() {
        let e = Policy::from_toml("format = 1\nname = \"x\nrules = \"2020\"\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicySyntax);
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn one_rule_for_a_policy_given_as_a_string() {
        assert_eq!(
            Policy::from_spec_str("partner-center-2026").unwrap().name(),
            "partner-center-2026"
        );
        assert_eq!(
            Policy::from_spec_str(" partner-center ").unwrap().name(),
            "partner-center-2020"
        );
        let json = r#"{"builtin": "partner-center-2019", "overrides": {"name": "mine"}}"#;
        assert_eq!(Policy::from_spec_str(json).unwrap().name(), "mine");
        // A mistyped file name says so; it is never "no built-in policy".
        let e = Policy::from_spec_str("no-such-policy.toml").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyFileUnreadable);
        assert!(e.message.contains("no such file"), "{e}");
        let e = Policy::from_spec_str("./policies/mine").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyFileUnreadable);
        let e = Policy::from_spec_str("partner-centre").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyUnknownBuiltin);
        assert!(e.hint.contains(".toml or .json"));
        assert!(Policy::from_spec(&serde_json::json!("partner-center-2025")).is_ok());
    }

    #[test]
    fn schema_is_an_object() {
        let s = Policy::json_schema();
        assert!(s["properties"]["routes"].is_object());
    }
}
