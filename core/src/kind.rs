//! What kind of token this is: app-only, app+user, delegated admin, ID token.

use crate::claims::Claims;
use serde::{Deserialize, Serialize};

/// What kind of token a request carries, decided from its claims: it decides
/// whether MFA applies and which routes accept the token (a policy's `kinds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// Every kind, in declaration order.
    pub const ALL: [TokenKind; 5] = [
        TokenKind::AppOnly,
        TokenKind::AppUser,
        TokenKind::DelegatedAdmin,
        TokenKind::IdToken,
        TokenKind::Unrecognized,
    ];

    /// The snake_case name policies and decisions use.
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
pub(crate) struct KindSet(u8);

impl KindSet {
    pub(crate) fn contains(self, k: TokenKind) -> bool {
        self.0 & k.bit() != 0
    }
    pub(crate) fn iter(self) -> impl Iterator<Item = TokenKind> {
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
pub(crate) struct Classification {
    pub(crate) kind: TokenKind,
    pub(crate) evidence: &'static str,
}

/// The `wids` value Entra adds to GDAP tokens, the GDAP relationship
/// indicator (AzureAD/microsoft-identity-web#2609): not a role.
pub const GDAP_INDICATOR: &str = "08372b87-7d02-482a-9e02-fb03ea5fe193";

/// The evidence of a user token without `scp`, by the user claim it carries.
fn user_marker_evidence(m: &str) -> &'static str {
    match m {
        "upn" => "no scp, but upn shows a user",
        "unique_name" => "no scp, but unique_name shows a user",
        "preferred_username" => "no scp, but preferred_username shows a user",
        "amr" => "no scp, but amr shows a user",
        "sub differs from oid" => "no scp, but sub differs from oid: a user",
        _ => "no scp, but a user claim (name, given_name, family_name or email) shows a user",
    }
}

/// The tenant GUID of an `idp` that names an Entra issuer (of any cloud:
/// `https://sts.windows.net/{tid}/`, `https://sts.chinacloudapi.cn/{tid}/`,
/// or a v2 issuer).
pub fn idp_tenant(idp: &str) -> Option<&str> {
    crate::cloud::parse_issuer(idp).map(|i| i.tenant)
}

fn classified(kind: TokenKind, evidence: &'static str) -> Classification {
    Classification { kind, evidence }
}

/// Classifies verified claims. `partner_tenants` (lower-case GUIDs), when not
/// empty, limits which foreign `idp` tenants make a token delegated admin.
///
/// The decision table (docs/policy.md, "Token kinds"), in order:
/// 1. `idtyp` = `app`: app-only, unless `scp`, no `appid`/`azp`, or a claim
///    naming a person (`upn`, `amr`, `name`...) contradicts it (then
///    unrecognised).
/// 2. `idtyp` neither absent, `app` nor `user`: unrecognised.
/// 3. `scp` present: a user token with `appid`/`azp`, else unrecognised.
/// 4. No `appid`/`azp` (and no `scp`): an ID token if it has a subject.
/// 5. `idtyp` = `user`, or a user claim (`upn`, `amr`, `sub` ≠ `oid`...):
///    a user token, even with `roles` (user tokens carry the user's app roles).
/// 6. `oid` = `sub`, both present: app-only (Microsoft's documented test; an
///    app granted no app roles has no `roles` claim at all).
/// 7. Anything else: unrecognised.
pub(crate) fn classify(claims: &Claims<'_>, partner_tenants: &[String]) -> Classification {
    let app = claims.app_id().is_some();
    let scp = claims.scp.is_some();
    let marker = claims.user_marker();
    let idtyp = claims.idtyp.as_deref();
    let user = match idtyp {
        // idtyp is Microsoft's own word; only a claim naming a person
        // contradicts it (an agent's app-only token has a sub of its own).
        Some("app") => {
            return match (scp, app, claims.user_claim()) {
                (true, _, _) => classified(
                    TokenKind::Unrecognized,
                    "idtyp is \"app\" but scp is present",
                ),
                (_, false, _) => {
                    classified(TokenKind::Unrecognized, "idtyp is \"app\" but no appid/azp")
                }
                (_, _, Some(_)) => classified(
                    TokenKind::Unrecognized,
                    "idtyp is \"app\" but the token carries user claims",
                ),
                _ => classified(TokenKind::AppOnly, "idtyp is \"app\""),
            }
        }
        Some("user") | None => {
            if scp {
                if !app {
                    return classified(TokenKind::Unrecognized, "scp is present but no appid/azp");
                }
                if idtyp.is_some() {
                    "idtyp is \"user\""
                } else {
                    "scp is present"
                }
            } else if !app {
                return if claims.sub.is_some() || claims.oid.is_some() {
                    classified(TokenKind::IdToken, "no scp and no appid/azp: an ID token")
                } else {
                    classified(
                        TokenKind::Unrecognized,
                        "no scp, no appid/azp and no subject",
                    )
                };
            } else if idtyp.is_some() {
                "idtyp is \"user\""
            } else if let Some(m) = marker {
                user_marker_evidence(m)
            } else if claims.oid_is_sub() {
                return if claims.roles.is_some() {
                    classified(TokenKind::AppOnly, "roles without scp, oid equals sub")
                } else {
                    classified(
                        TokenKind::AppOnly,
                        "no scp, no roles, oid equals sub, no user claims",
                    )
                };
            } else {
                return classified(
                    TokenKind::Unrecognized,
                    "appid/azp without scp, and oid and sub are not both present and equal",
                );
            }
        }
        Some(_) => return classified(TokenKind::Unrecognized, "idtyp has an unknown value"),
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
    if let Some(partner) = foreign {
        let indicator = claims
            .wids
            .iter()
            .flatten()
            .any(|w| w.eq_ignore_ascii_case(GDAP_INDICATOR));
        let evidence = match (claims.has_aai(), claims.aai_user(), indicator) {
            // aai names the partner user; its tenant must be idp's.
            (_, Some((t, _)), _) if !t.eq_ignore_ascii_case(partner) => {
                return classified(
                    TokenKind::Unrecognized,
                    "aai names another tenant than idp: no partner user can be told",
                )
            }
            (_, Some(_), true) => "idp names another tenant, aai names the partner user, wids holds the GDAP relationship indicator (GDAP)",
            (true, _, _) => "idp names another tenant and aai names the partner user (GDAP)",
            (false, _, true) => "idp names another tenant and wids holds the GDAP relationship indicator (GDAP)",
            (false, _, false) => "idp names another tenant than tid (partner user in a customer tenant)",
        };
        return classified(TokenKind::DelegatedAdmin, evidence);
    }
    classified(TokenKind::AppUser, user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    /// Every combination of the inputs of the decision table: a user token
    /// is never app-only, and app-only always has Microsoft's evidence.
    #[test]
    fn no_user_token_is_ever_app_only() {
        let idtyps = [None, Some("app"), Some("user"), Some("device")];
        let markers = [
            None,
            Some(("upn", json!("u@x"))),
            Some(("amr", json!(["pwd"]))),
            Some(("name", json!("N"))),
            Some(("preferred_username", json!("u"))),
        ];
        let mut app_only = 0;
        for idtyp in idtyps {
            for scp in [false, true] {
                for roles in [false, true] {
                    for subject in ["same", "differs", "oid only", "none"] {
                        for marker in &markers {
                            for app in [None, Some("appid"), Some("azp")] {
                                let mut m = Map::new();
                                if let Some(t) = idtyp {
                                    m.insert("idtyp".into(), t.into());
                                }
                                if scp {
                                    m.insert("scp".into(), "user_impersonation".into());
                                }
                                if roles {
                                    m.insert("roles".into(), json!(["Partner.ReadWrite.All"]));
                                }
                                match subject {
                                    "same" => {
                                        m.insert("oid".into(), "o".into());
                                        m.insert("sub".into(), "o".into());
                                    }
                                    "differs" => {
                                        m.insert("oid".into(), "o".into());
                                        m.insert("sub".into(), "s".into());
                                    }
                                    "oid only" => {
                                        m.insert("oid".into(), "o".into());
                                    }
                                    _ => {}
                                }
                                if let Some((k, v)) = marker {
                                    m.insert((*k).into(), v.clone());
                                }
                                if let Some(a) = app {
                                    m.insert(
                                        a.into(),
                                        "23ec45a3-5127-4185-9eff-c8887839e6ab".into(),
                                    );
                                }
                                let text = Value::Object(m).to_string();
                                let cl = Claims::from_json(&text).unwrap();
                                let k = classify(&cl, &[]).kind;
                                let user_evidence = scp
                                    || idtyp == Some("user")
                                    || marker.is_some()
                                    || (subject == "differs" && idtyp != Some("app"));
                                if k == TokenKind::AppOnly {
                                    app_only += 1;
                                    assert!(!user_evidence, "{text}");
                                    assert!(app.is_some(), "{text}");
                                    assert!(idtyp == Some("app") || subject == "same", "{text}");
                                }
                                if idtyp.is_none()
                                    && !user_evidence
                                    && app.is_some()
                                    && subject == "same"
                                {
                                    assert_eq!(k, TokenKind::AppOnly, "{text}");
                                }
                                if user_evidence
                                    && app.is_some()
                                    && idtyp != Some("app")
                                    && idtyp != Some("device")
                                {
                                    assert!(k == TokenKind::AppUser, "{text}: {k:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(app_only > 0);
    }
}
