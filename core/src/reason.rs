//! Outcomes and the stable reason codes of a decision.

use serde::Serialize;

/// What the caller must do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Let the request through.
    Allow,
    /// Refuse it; doing MFA would not help (or the client cannot be asked).
    Deny,
    /// Refuse it and ask the user to (re-)authenticate with MFA.
    StepUp,
}

impl Outcome {
    /// The snake_case name decisions carry in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::StepUp => "step_up",
        }
    }
}

crate::catalogue::catalogue! {
    /// Why a decision came out as it did. The snake_case code is stable:
    /// runtimes, audit logs and conformance vectors all use it.
    pub enum Reason {
        /// The route does not require MFA for this kind of token.
        MfaNotRequired = "mfa_not_required",
        /// MFA was required and the token proves it.
        MfaSatisfied = "mfa_satisfied",
        /// An app-only token on a route that accepts app-only tokens: no user, no MFA.
        AppOnlyExempt = "app_only_exempt",
        /// A valid technical exception suppressed the MFA check.
        ExceptionApplied = "exception_applied",
        /// A route the policy declares public: no credential is needed or read.
        PublicRoute = "public_route",
        /// No credential was sent (or not a Bearer one).
        NoCredential = "no_credential",
        /// Both an Authorization header and a session token were given.
        CredentialAmbiguous = "credential_ambiguous",
        /// The token is larger than the policy's limit.
        TokenTooLarge = "token_too_large",
        /// Not a compact JWS: segments, base64url or JSON are wrong.
        TokenMalformed = "token_malformed",
        /// The header `typ` is not JWT.
        TokenTypeUnsupported = "token_type_unsupported",
        /// The header `alg` is not one the policy pins (this includes `none`).
        AlgorithmNotAllowed = "algorithm_not_allowed",
        /// No key in the key set has the token's `kid`.
        KeyNotFound = "key_not_found",
        /// The token's `kid` names a key of the set that mfagate skipped as
        /// unusable (too small, malformed, or two keys with that `kid`).
        KeyUnusable = "key_unusable",
        /// The server has no usable key set yet (its JWKS fetches failed): the
        /// token cannot be checked now; the user has nothing to fix.
        KeysUnavailable = "keys_unavailable",
        /// The selected key cannot be used with the token's algorithm.
        KeyAlgorithmMismatch = "key_algorithm_mismatch",
        /// The signing key carries an `issuer` (Entra's multi-tenant keys) that
        /// is not the token's: the key may not sign for this issuer.
        KeyIssuerMismatch = "key_issuer_mismatch",
        /// The signature does not verify.
        SignatureInvalid = "signature_invalid",
        /// No backend in this build can verify this algorithm synchronously.
        VerificationUnavailable = "verification_unavailable",
        /// A required claim is missing.
        ClaimMissing = "claim_missing",
        /// A claim has the wrong type or shape, or appears twice.
        ClaimInvalid = "claim_invalid",
        /// `exp` is in the past (beyond the clock skew).
        TokenExpired = "token_expired",
        /// `nbf` is in the future (beyond the clock skew).
        TokenNotYetValid = "token_not_yet_valid",
        /// `iat` is in the future (beyond the clock skew).
        TokenIssuedInFuture = "token_issued_in_future",
        /// `aud` is not one of the policy's audiences.
        AudienceInvalid = "audience_invalid",
        /// `iss` is not an Entra v1 or v2 issuer, or does not fit `ver`.
        IssuerInvalid = "issuer_invalid",
        /// The tenant in `iss` is not the token's `tid`.
        IssuerTenantMismatch = "issuer_tenant_mismatch",
        /// `iss` is an issuer of another Entra cloud than the policy's
        /// (`token.cloud`: public, US Government, China).
        IssuerCloudMismatch = "issuer_cloud_mismatch",
        /// `tid` is not in the policy's tenant allow-list.
        TenantNotAllowed = "tenant_not_allowed",
        /// The claims fit no known kind of token.
        TokenKindUnrecognized = "token_kind_unrecognized",
        /// The route does not accept this kind of token (RFC 8725 §3.12).
        TokenKindNotAccepted = "token_kind_not_accepted",
        /// None of the caller's roles may open this route.
        RoleNotPermitted = "role_not_permitted",
        /// The route needs roles, but the policy names no partner tenant, so no
        /// token's roles can be trusted (`token.partner_tenants` is required).
        PartnerTenantNotConfigured = "partner_tenant_not_configured",
        /// Group overage: the token does not list the groups, so roles are unknown.
        RolesUnavailable = "roles_unavailable",
        /// `amr` is present but holds no accepted MFA value.
        MfaRequired = "mfa_required",
        /// `amr` is absent, so MFA cannot be proven (often a v2 token).
        MfaAmrAbsent = "mfa_amr_absent",
        /// MFA was done longer ago than the route's `max_age`.
        MfaStale = "mfa_stale",
        /// The route has a `max_age` but the token has no `auth_time`.
        MfaAuthTimeAbsent = "mfa_auth_time_absent",
        /// A partner user in a customer tenant without MFA: always refused.
        DelegatedAdminMfaRequired = "delegated_admin_mfa_required",
        /// The request itself is unusable (for example a path that cannot be normalised).
        RequestInvalid = "request_invalid",
    }
}

impl Reason {
    /// True for reasons that refuse the token itself (401 `invalid_token`).
    pub fn is_token_problem(self) -> bool {
        matches!(
            self,
            Reason::TokenTooLarge
                | Reason::TokenMalformed
                | Reason::TokenTypeUnsupported
                | Reason::AlgorithmNotAllowed
                | Reason::KeyNotFound
                | Reason::KeyUnusable
                | Reason::KeyAlgorithmMismatch
                | Reason::KeyIssuerMismatch
                | Reason::SignatureInvalid
                | Reason::ClaimMissing
                | Reason::ClaimInvalid
                | Reason::TokenExpired
                | Reason::TokenNotYetValid
                | Reason::TokenIssuedInFuture
                | Reason::AudienceInvalid
                | Reason::IssuerInvalid
                | Reason::IssuerTenantMismatch
                | Reason::IssuerCloudMismatch
                | Reason::TenantNotAllowed
                | Reason::TokenKindUnrecognized
                | Reason::TokenKindNotAccepted
        )
    }

    /// True for reasons that a (fresh) MFA sign-in can cure.
    pub fn is_mfa_problem(self) -> bool {
        matches!(
            self,
            Reason::MfaRequired
                | Reason::MfaAmrAbsent
                | Reason::MfaStale
                | Reason::MfaAuthTimeAbsent
                | Reason::DelegatedAdminMfaRequired
        )
    }
}

/// A refusal found while reading or checking a token: the reason code and a
/// technical detail for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The reason code.
    pub reason: Reason,
    /// What exactly was wrong, for logs.
    pub detail: String,
}

impl Refusal {
    /// A refusal for `reason`, with a detail for logs.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Refusal {
            reason,
            detail: detail.into(),
        }
    }
}
