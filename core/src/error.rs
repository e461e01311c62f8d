//! Errors for misuse and bad configuration. Decisions are never errors: a
//! refused request is a [`crate::Decision`] value, not an `Err`.

use std::fmt;

/// Where each error code is documented (one anchor per code).
pub const ERRORS_DOC: &str = "https://github.com/mfagate/mfagate/blob/main/docs/errors.md";

crate::catalogue::catalogue! {
    /// Stable, snake_case error codes. The same strings are `.code` in Python
    /// and JavaScript.
    pub enum ErrorCode {
        /// The policy file is not valid TOML or JSON.
        PolicySyntax = "policy_syntax",
        /// The policy parsed but breaks a rule of the format (unknown field,
        /// unknown role, missing audience, bad pattern...).
        PolicyInvalid = "policy_invalid",
        /// No built-in policy has that name.
        PolicyUnknownBuiltin = "policy_unknown_builtin",
        /// A policy file could not be read (no such file, no permission).
        PolicyFileUnreadable = "policy_file_unreadable",
        /// Two routes match the same requests with the same specificity.
        PolicyRouteConflict = "policy_route_conflict",
        /// A technical exception names a reason the rules do not accept.
        ExceptionReasonInvalid = "exception_reason_invalid",
        /// The document is not a JWK Set (not JSON, or no `keys` array). Keys
        /// in a set that mfagate cannot use are skipped, never an error.
        JwksInvalid = "jwks_invalid",
        /// A JWKS source mfagate will not fetch from: not https (plain http only
        /// for loopback), not absolute, or with credentials in it.
        JwksUrlInvalid = "jwks_url_invalid",
        /// A JWKS fetch failed: no answer, an HTTP error, a redirect (never
        /// followed), too large, not a JWK Set or OpenID configuration, or no
        /// usable key. The last good keys stay in use.
        JwksFetchFailed = "jwks_fetch_failed",
        /// The request given to `evaluate` is not usable (for example no path).
        RequestInvalid = "request_invalid",
        /// The host has no usable signature verification (WebAssembly without
        /// `crypto.subtle`).
        CryptoUnavailable = "crypto_unavailable",
        /// A conformance vector file is malformed.
        VectorInvalid = "vector_invalid",
    }
}

impl ErrorCode {
    /// The error family, used by bindings to pick an exception class.
    pub fn family(self) -> &'static str {
        match self {
            ErrorCode::PolicySyntax
            | ErrorCode::PolicyInvalid
            | ErrorCode::PolicyUnknownBuiltin
            | ErrorCode::PolicyFileUnreadable
            | ErrorCode::PolicyRouteConflict
            | ErrorCode::ExceptionReasonInvalid => "policy",
            ErrorCode::JwksInvalid | ErrorCode::JwksFetchFailed => "key",
            ErrorCode::JwksUrlInvalid
            | ErrorCode::RequestInvalid
            | ErrorCode::CryptoUnavailable
            | ErrorCode::VectorInvalid => "usage",
        }
    }

    /// Where this code is explained, to put in front of the person who must
    /// act on it.
    pub fn doc_url(self) -> String {
        format!("{ERRORS_DOC}#{}", self.as_str())
    }
}

/// An error a person can act on: what was wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    /// The stable code to branch on (messages may change).
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// 1-based line in the source file, when the error comes from one.
    pub line: Option<usize>,
}

impl Error {
    /// An error with no line; `hint` may be empty when there is nothing
    /// better to say than the message.
    pub fn new(code: ErrorCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: hint.into(),
            line: None,
        }
    }

    pub(crate) fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        if !self.hint.is_empty() {
            write!(f, ". Hint: {}", self.hint)?;
        }
        write!(f, " See {}", self.code.doc_url())
    }
}

impl std::error::Error for Error {}

/// The crate's result: fallible calls fail with an [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
