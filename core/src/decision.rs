//! The decision: a value that says what to do, why, and the exact HTTP
//! answer. Serializes to JSON for audit logs; its field names are the same in
//! every runtime.

use crate::kind::TokenKind;
use crate::messages::Message;
use crate::policy::exceptions::Exception;
use crate::reason::{Outcome, Reason};
use crate::roles::RoleSet;
use serde::Serialize;
use std::sync::Arc;

/// The MFA part of a decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MfaReport {
    /// Whether this route required MFA of this token.
    pub required: bool,
    /// Whether the token proves MFA (fresh enough, where freshness is asked).
    pub satisfied: bool,
    /// What proved it: "amr", "federated", or "exception" when a technical
    /// exception stood in for it.
    pub evidence: Option<&'static str>,
    /// The token's `amr` values; null when the claim is absent.
    pub amr: Option<Vec<String>>,
    /// The token's `auth_time` (Unix seconds), if any.
    pub auth_time: Option<i64>,
    /// The freshness limit that applied, in seconds.
    pub max_age: Option<u64>,
}

/// Who the token is about (from verified claims).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Subject {
    /// `tid`: the tenant the token was issued in.
    pub tenant: Option<String>,
    /// `oid` (empty in some GDAP tokens).
    pub object_id: Option<String>,
    /// upn, unique_name or preferred_username.
    pub user: Option<String>,
    /// `appid` or `azp`.
    pub app_id: Option<String>,
    /// For delegated admin: the partner tenant named by `idp`.
    pub home_tenant: Option<String>,
}

/// The HTTP answer for the caller to send (for an allow: 200 and nothing to add).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpAnswer {
    pub status: u16,
    /// The reason phrase; Partner Center's MFA refusal uses
    /// "Unauthorized - MFA required".
    pub status_text: &'static str,
    /// Headers to set, in order, as `[name, value]` pairs.
    pub headers: Vec<(&'static str, String)>,
    /// A JSON body (`{"reason": ..., "message": ...}`), empty for allow and 302.
    pub body: String,
}

/// For pages: where to send the user to do MFA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redirect {
    /// The sign-in URL with the parameters below appended.
    pub location: String,
    /// The parameters that force MFA at the identity provider.
    pub params: Vec<(&'static str, String)>,
    /// True when the caller said the user has no MFA method yet: they must
    /// register one before verifying (seed example 3).
    pub register_first: bool,
}

/// What to do with a request, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reason: Reason,
    /// The token's kind, once it is known (after signature and claims checks).
    pub token_kind: Option<TokenKind>,
    /// What decided the kind, for people.
    pub kind_evidence: Option<&'static str>,
    /// The route id that matched, or "default".
    pub rule: Option<Arc<str>>,
    /// The caller's roles, as resolved from `wids`, `groups` and `roles`.
    pub roles: RoleSet,
    pub mfa: MfaReport,
    /// The technical exception that was applied, if any.
    pub exception: Option<Arc<Exception>>,
    pub message: Message,
    pub http: HttpAnswer,
    pub redirect: Option<Redirect>,
    /// A technical detail for logs (never shown to end users).
    pub detail: Option<String>,
    pub subject: Option<Subject>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The decision as JSON, for audit logs.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                "{{\"outcome\":\"deny\",\"reason\":\"{}\",\"detail\":\"unserializable: {e}\"}}",
                self.reason
            )
        })
    }

    /// The decision as a JSON value (what conformance vectors compare).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
