//! What kind of token this is: app-only, app+user, delegated admin, ID token.

use crate::claims::Claims;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An access token for an application acting as itself (client credentials).
    AppOnly,
    /// An access token for a user, obtained by an application (delegated permissions).
    AppUser,
    /// An app+user token that a partner user obtained in a customer's tenant
    /// (DAP or GDAP): always needs MFA.
    DelegatedAdmin,
    /// An OpenID Connect ID token: proves a sign-in, grants no API access.
    IdToken,
    /// None of the above: always refused.
    Unrecognized,
}

impl TokenKind {
    pub const ALL: [TokenKind; 5] = [
        TokenKind::AppOnly,
        TokenKind::AppUser,
        TokenKind::DelegatedAdmin,
        TokenKind::IdToken,
        TokenKind::Unrecognized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::AppOnly => "app_only",
            TokenKind::AppUser => "app_user",
            TokenKind::DelegatedAdmin => "delegated_admin",
            TokenKind::IdToken => "id_token",
            TokenKind::Unrecognized => "unrecognized",
        }
    }

    /// Tokens that stand for a person, to whom the MFA mandate applies.
    pub fn is_user(self) -> bool {
        matches!(
            self,
            TokenKind::AppUser | TokenKind::DelegatedAdmin | TokenKind::IdToken
        )
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of token kinds a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindSet(u8);

impl KindSet {
    pub fn contains(self, k: TokenKind) -> bool {
        self.0 & k.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = TokenKind> {
        TokenKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<TokenKind> for KindSet {
    fn from_iter<I: IntoIterator<Item = TokenKind>>(iter: I) -> Self {
        KindSet(iter.into_iter().fold(0, |a, k| a | k.bit()))
    }
}

/// The kind, with the evidence that decided it (for people reading a decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub kind: TokenKind,
    pub evidence: &'static str,
}

/// The tenant GUID in an `https://sts.windows.net/{tid}/` idp, lower-case.
pub fn idp_tenant(idp: &str) -> Option<&str> {
    let t = idp
        .strip_prefix("https://sts.windows.net/")?
        .strip_suffix('/')?;
    crate::guid::is_guid(t).then_some(t)
}

fn c(kind: TokenKind, evidence: &'static str) -> Classification {
    Classification { kind, evidence }
}

/// Classifies verified claims. `partner_tenants` (lower-case GUIDs), when not
/// empty, limits which foreign `idp` tenants make a token delegated admin.
pub fn classify(claims: &Claims<'_>, partner_tenants: &[String]) -> Classification {
    let app = claims.app_id().is_some();
    let idtyp = claims.idtyp.as_deref();
    let user = match (idtyp, claims.scp.is_some()) {
        (Some("app"), true) => {
            return c(
                TokenKind::Unrecognized,
                "idtyp is \"app\" but scp is present",
            )
        }
        (Some("app"), false) if app => return c(TokenKind::AppOnly, "idtyp is \"app\""),
        (Some("app"), false) => {
            return c(TokenKind::Unrecognized, "idtyp is \"app\" but no appid/azp")
        }
        (Some("user"), _) if app => "idtyp is \"user\"",
        (Some(other), _) if other != "user" => {
            return c(TokenKind::Unrecognized, "idtyp has an unknown value")
        }
        (_, true) if app => "scp is present",
        (_, true) => return c(TokenKind::Unrecognized, "scp is present but no appid/azp"),
        (_, false) if app && claims.roles.is_some() => {
            return c(TokenKind::AppOnly, "roles without scp");
        }
        (_, false) if app => return c(TokenKind::Unrecognized, "appid/azp without scp or roles"),
        (_, false) => {
            return if claims.sub.is_some() || claims.oid.is_some() {
                c(TokenKind::IdToken, "no scp and no appid/azp: an ID token")
            } else {
                c(
                    TokenKind::Unrecognized,
                    "no scp, no appid/azp and no subject",
                )
            };
        }
    };
    // A user token: is it a partner user in another (customer) tenant?
    let foreign = claims.idp.as_deref().and_then(idp_tenant).filter(|p| {
        claims
            .tid
            .as_deref()
            .is_none_or(|t| !t.eq_ignore_ascii_case(p))
            && (partner_tenants.is_empty()
                || partner_tenants.iter().any(|x| x.eq_ignore_ascii_case(p)))
    });
    if foreign.is_some() {
        let evidence = if claims.has_aai() {
            "idp names another tenant and aai names the partner user (GDAP)"
        } else {
            "idp names another tenant than tid (partner user in a customer tenant)"
        };
        return c(TokenKind::DelegatedAdmin, evidence);
    }
    c(TokenKind::AppUser, user)
}
