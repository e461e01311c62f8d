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
#[non_exhaustive]
pub struct MfaReport {
    /// Whether this route required MFA of this token.
    pub required: bool,
    /// Whether the token proves MFA (fresh enough, where freshness is asked).
    pub satisfied: bool,
    /// What proved it: "amr", "federated", "acrs" (the policy's
    /// authentication context), or "exception" when a technical
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
#[non_exhaustive]
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

/// The HTTP answer for the caller to send (for an allow: 200 and nothing to
/// add but any `headers`, such as `isMfaCompliant`).
///
/// Its JSON form also carries `response_headers`: every header to send, so
/// middleware copies one list and adds nothing of its own.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The reason phrase; Partner Center's MFA refusal uses
    /// "Unauthorized - MFA required".
    pub status_text: &'static str,
    /// Headers to set, in order, as `[name, value]` pairs.
    pub headers: Vec<(&'static str, String)>,
    /// A JSON body (`{"reason": ..., "message": ...}`), empty for allow and 302.
    pub body: String,
}

/// The media type of every body the gate writes.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl HttpAnswer {
    /// Every header to send with this answer, in order: [`HttpAnswer::headers`]
    /// (the challenge, `Location`, `Retry-After`, `isMfaCompliant`), then
    /// `Content-Type` when there is a body, then `Cache-Control: no-store`
    /// on every refusal and redirect, so no shared cache keeps an answer
    /// made for one user's token (RFC 9111 §5.2.2.5). An allow adds
    /// nothing: the application writes that response.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        let mut out = self.headers.clone();
        if !self.body.is_empty() {
            out.push(("Content-Type", JSON_CONTENT_TYPE.to_owned()));
        }
        if self.status != 200 {
            out.push(("Cache-Control", "no-store".to_owned()));
        }
        out
    }
}

impl Serialize for HttpAnswer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HttpAnswer", 5)?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("status_text", self.status_text)?;
        st.serialize_field("headers", &self.headers)?;
        st.serialize_field("body", &self.body)?;
        st.serialize_field("response_headers", &self.response_headers())?;
        st.end()
    }
}

/// For pages: where to send the user to do MFA.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Redirect {
    /// The sign-in URL with the parameters below appended.
    pub location: String,
    /// The parameters that force MFA at the identity provider.
    pub params: Vec<(&'static str, String)>,
    /// True when the caller said the user has no MFA method yet: they must
    /// register one before verifying (example 3 of Microsoft's MFA page).
    pub register_first: bool,
}

/// What to do with a request, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Decision {
    /// What to do: allow, deny or step up.
    pub outcome: Outcome,
    /// Why, as a stable code for logs, metrics and tests.
    pub reason: Reason,
    /// The token's kind, once it is known (after signature and claims checks).
    pub token_kind: Option<TokenKind>,
    /// What decided the kind, for people.
    pub kind_evidence: Option<&'static str>,
    /// The route id that matched, or "default".
    pub rule: Option<Arc<str>>,
    /// The caller's roles, as resolved from `wids`, `groups` and `roles`.
    pub roles: RoleSet,
    /// Whether MFA was required and proven, and by what.
    pub mfa: MfaReport,
    /// The technical exception that was applied, if any.
    pub exception: Option<Arc<Exception>>,
    /// What to tell the user, in every supported language.
    pub message: Message,
    /// The answer to send when the request is refused (for an allow, only
    /// headers to add).
    pub http: HttpAnswer,
    /// For a step-up on a page: where to send the user to do MFA.
    pub redirect: Option<Redirect>,
    /// A technical detail for logs (never shown to end users).
    pub detail: Option<String>,
    /// Who the token is about, once its claims are verified.
    pub subject: Option<Subject>,
}

impl Decision {
    /// True only for [`Outcome::Allow`]: the one test a gate's caller needs.
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
