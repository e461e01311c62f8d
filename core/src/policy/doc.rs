//! The policy file format (version 1): one model for TOML and JSON, from
//! which the JSON Schema is generated. See docs/policy.md.

use crate::jws::Algorithm;
use crate::kind::TokenKind;
use crate::roles::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current version of the policy format.
pub const FORMAT_VERSION: u32 = 1;

/// Which edition of the Partner Center rules the policy follows. It decides
/// which technical-exception reasons are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum RulesVersion {
    /// The 2019 rules: MFA on Customers and Support > Customer requests;
    /// Exchange Online PowerShell is still a valid exception.
    #[serde(rename = "2019")]
    V2019,
    /// The 2020 rules, those of the default built-in (`partner-center`): adds
    /// Billing, with its own roles; only unrecognised third-party MFA remains a
    /// valid exception.
    #[serde(rename = "2020")]
    V2020,
    /// The 2025 text: as 2020, with Security admin in place of Global admin on
    /// Billing.
    #[serde(rename = "2025")]
    V2025,
    /// MFA on every portal page and every App+User API call; API refusals in
    /// Partner Center's error schema (code 900421); `ValidateMfa`.
    #[serde(rename = "2026")]
    V2026,
}

impl RulesVersion {
    /// The edition as a policy's `rules` writes it ("2019"...).
    pub fn as_str(self) -> &'static str {
        match self {
            RulesVersion::V2019 => "2019",
            RulesVersion::V2020 => "2020",
            RulesVersion::V2025 => "2025",
            RulesVersion::V2026 => "2026",
        }
    }
}

/// How a refused MFA check is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChallengeStyle {
    /// Partner Center's exact answer: `401 Unauthorized - MFA required` with
    /// `WWW-Authenticate: Bearer error="invalid_token"`.
    PartnerCenter,
    /// RFC 9470 step-up: `insufficient_user_authentication` with `acr_values`
    /// and, for freshness, `max_age`.
    Rfc9470,
    /// Microsoft's claims challenge (`insufficient_claims`), for clients whose
    /// token says `xms_cc` contains `cp1`; other clients get 403.
    Claims,
    /// An interactive redirect to the sign-in URL with the parameters that
    /// force MFA (for pages).
    Redirect,
}

impl ChallengeStyle {
    /// The snake_case name a route's `challenge` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeStyle::PartnerCenter => "partner_center",
            ChallengeStyle::Rfc9470 => "rfc9470",
            ChallengeStyle::Claims => "claims",
            ChallengeStyle::Redirect => "redirect",
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_kinds() -> Vec<TokenKind> {
    vec![
        TokenKind::AppUser,
        TokenKind::DelegatedAdmin,
        TokenKind::IdToken,
    ]
}
fn default_challenge() -> ChallengeStyle {
    ChallengeStyle::PartnerCenter
}
fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256]
}
fn default_skew() -> u64 {
    300
}
fn default_max_bytes() -> usize {
    16 * 1024
}
fn default_amr() -> Vec<String> {
    vec!["mfa".to_owned()]
}
fn default_sign_in() -> String {
    "/.auth/login/aad".to_owned()
}
fn default_acr() -> String {
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor".to_owned()
}

/// A policy: which routes need MFA, which roles may open them, which tokens
/// are accepted, and how refusals are answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicyDoc {
    /// Version of this file format. Must be 1.
    pub format: u32,
    /// A name for logs and `policy show`.
    pub name: String,
    /// A built-in policy this file patches (RFC 7396 merge: tables merge,
    /// arrays and values replace). Resolved at load; absent afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// What the policy is for, for people (`policy show`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Edition of the Partner Center rules: "2019", "2020", "2025" or "2026".
    pub rules: RulesVersion,
    /// Which tokens are valid at all (`[token]`).
    #[serde(default)]
    pub token: TokenDoc,
    /// What counts as MFA, and where users are sent to do it (`[mfa]`).
    #[serde(default)]
    pub mfa: MfaDoc,
    /// Where each role comes from in a token (`[roles]`).
    #[serde(default)]
    pub roles: RolesDoc,
    /// Routes by id. At each path segment a literal beats `*`, which beats
    /// `**`; at equal patterns a route naming hosts and methods beats one that
    /// does not.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteDoc>,
    /// The rule for requests no route matches (`paths`, `methods` and
    /// `hosts` must be empty here).
    pub default: RouteDoc,
    /// Technical exceptions granted by Microsoft to a partner tenant.
    #[serde(default)]
    pub exceptions: Vec<ExceptionDoc>,
}

/// Which tokens are valid at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenDoc {
    /// Accepted `aud` values (at least one). For ID tokens, your app's client ID.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Accept a URI audience (one that is not a GUID) with or without one
    /// trailing slash: a v1 `aud` is the App ID URI exactly as the client
    /// asked for it, "with or without a trailing slash". Never for GUIDs.
    #[serde(default = "default_true")]
    pub audience_trailing_slash: bool,
    /// Pinned signature algorithms; the token's `alg` must be one of them.
    /// HS256 also needs an `oct` key in the key set.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Tolerated clock difference for exp, nbf and iat, in seconds.
    #[serde(default = "default_skew")]
    pub clock_skew: u64,
    /// Tokens longer than this (bytes) are refused before decoding.
    #[serde(default = "default_max_bytes")]
    pub max_token_bytes: usize,
    /// When not empty, only these tenant IDs (`tid`) are accepted.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// The Entra cloud tokens come from: its issuers, sign-in authority and
    /// Partner Center audience. Tokens of another cloud are refused.
    #[serde(default)]
    pub cloud: crate::cloud::Cloud,
    /// Your partner tenant IDs: required wherever a route needs roles, since
    /// roles (`wids`, `groups`, `roles`) are read only from tokens whose `tid`
    /// is one of them. Also, when not empty, only a foreign `idp` naming one
    /// of them makes a token "delegated admin"; when empty, any foreign `idp`
    /// does (stricter: those tokens always need MFA).
    #[serde(default)]
    pub partner_tenants: Vec<String>,
}

impl Default for TokenDoc {
    fn default() -> Self {
        TokenDoc {
            audiences: Vec::new(),
            audience_trailing_slash: true,
            algorithms: default_algorithms(),
            clock_skew: default_skew(),
            max_token_bytes: default_max_bytes(),
            tenants: Vec::new(),
            cloud: crate::cloud::Cloud::Public,
            partner_tenants: Vec::new(),
        }
    }
}

/// What counts as MFA, and how a user is sent to do it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MfaDoc {
    /// `amr` values that prove MFA (case-sensitive). Partner Center accepts
    /// exactly "mfa".
    #[serde(default = "default_amr")]
    pub accepted_amr: Vec<String>,
    /// Accept the federated claim `authnmethodsreferences` =
    /// `multipleauthn` (AD FS-style identity providers) as MFA.
    #[serde(default)]
    pub accept_federated: bool,
    /// Seconds after `auth_time` that an MFA stays fresh, for every route
    /// (a route's own `max_age` wins). Absent: no freshness check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// Where the redirect challenge sends users (your app's sign-in URL).
    #[serde(default = "default_sign_in")]
    pub sign_in_url: String,
    /// `acr_values` of RFC 9470 challenges.
    #[serde(default = "default_acr")]
    pub acr_values: String,
    /// A Conditional Access authentication context ID (like "c1"). When set,
    /// claims challenges ask for it (`acrs`) instead of `amr` = mfa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_context: Option<String>,
}

impl Default for MfaDoc {
    fn default() -> Self {
        MfaDoc {
            accepted_amr: default_amr(),
            accept_federated: false,
            max_age: None,
            sign_in_url: default_sign_in(),
            acr_values: default_acr(),
            auth_context: None,
        }
    }
}

/// Where each role comes from in a token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RolesDoc {
    /// Directory-role template IDs (`wids`) per role.
    #[serde(default)]
    pub directory: BTreeMap<Role, Vec<String>>,
    /// Security-group object IDs (`groups`) per role: your partner tenant's
    /// AdminAgents, SalesAgents and HelpdeskAgents groups.
    #[serde(default)]
    pub groups: BTreeMap<Role, Vec<String>>,
    /// App-role values (`roles`) per role.
    #[serde(default)]
    pub app_roles: BTreeMap<Role, Vec<String>>,
}

/// A route (or the default rule): what it matches and what it requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteDoc {
    /// What the route protects, for people (`inspect`, `policy show`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Path patterns: segments separated by `/`; `*` is one segment, a final
    /// `**` is any number (including none). Matching ignores case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// HTTP methods (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Host names (empty: any). Ports are ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Set to false to switch off a route inherited from a built-in policy.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// No credential is needed here (health checks, `/docs`): the request is
    /// allowed without reading any token. Cannot be combined with `mfa` or
    /// `roles`, nor set on the default rule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    /// Whether user tokens need MFA here. App-only tokens never do; delegated
    /// admin tokens always do.
    #[serde(default)]
    pub mfa: bool,
    /// Token kinds accepted here; any other kind is refused (401).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<TokenKind>,
    /// Roles that may open the route (any one suffices). Empty: no role check.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// How a missing MFA is answered.
    #[serde(default = "default_challenge")]
    pub challenge: ChallengeStyle,
    /// Freshness for this route, in seconds after `auth_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// A technical exception: suppresses only the MFA check, for one partner
/// tenant (optionally one user), until it expires. Never applies to
/// delegated administration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExceptionDoc {
    /// The partner tenant ID.
    pub tenant: String,
    /// One user (object ID or UPN); absent: every user of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Why it was granted; see docs/policy.md for the valid reasons.
    pub reason: String,
    /// Expiry, RFC 3339 (`2026-12-31` or `2026-12-31T00:00:00Z`).
    pub expires: String,
    /// Microsoft's service request number, for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}
