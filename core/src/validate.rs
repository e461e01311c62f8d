//! Registered-claim checks: issuer and tenant, audience, time, tenant list.

use crate::claims::{seconds, Claims};
use crate::guid::is_guid;
use crate::jws::Refusal;
use crate::policy::Compiled;
use crate::reason::Reason;

const V1_PREFIX: &str = "https://sts.windows.net/";
const V2_PREFIX: &str = "https://login.microsoftonline.com/";

/// The tenant in an Entra issuer, and the token version its shape implies.
fn issuer_tenant(iss: &str) -> Option<(&str, &'static str)> {
    if let Some(t) = iss
        .strip_prefix(V1_PREFIX)
        .and_then(|r| r.strip_suffix('/'))
    {
        return is_guid(t).then_some((t, "1.0"));
    }
    let t = iss.strip_prefix(V2_PREFIX)?.strip_suffix("/v2.0")?;
    is_guid(t).then_some((t, "2.0"))
}

/// `aud` against one configured audience: equal, or (for URI audiences when
/// the policy allows it) equal but for one trailing slash on either side.
/// Entra's optional-claims reference: a v1 `aud` is the App ID URI "with or
/// without a trailing slash", as the client asked for it.
fn audience_matches(configured: &str, aud: &str, trailing_slash: bool) -> bool {
    if configured == aud {
        return true;
    }
    if !trailing_slash || is_guid(configured) || is_guid(aud) {
        return false;
    }
    aud.strip_suffix('/') == Some(configured) || configured.strip_suffix('/') == Some(aud)
}

fn missing(name: &str) -> Refusal {
    Refusal::new(
        Reason::ClaimMissing,
        format!("the token has no {name} claim"),
    )
}

/// Checks a verified token's claims against the policy at `now`.
pub fn claims(c: &Compiled, cl: &Claims<'_>, now: i64) -> Result<(), Refusal> {
    let tid = cl.tid.as_deref().ok_or_else(|| missing("tid"))?;
    if !is_guid(tid) {
        return Err(Refusal::new(
            Reason::ClaimInvalid,
            format!("tid {tid:?} is not a GUID"),
        ));
    }
    let iss = cl.iss.as_deref().ok_or_else(|| missing("iss"))?;
    let (iss_tid, shape) = issuer_tenant(iss).ok_or_else(|| {
        Refusal::new(
            Reason::IssuerInvalid,
            format!("iss {iss:?} is neither https://sts.windows.net/{{tid}}/ nor https://login.microsoftonline.com/{{tid}}/v2.0"),
        )
    })?;
    if !iss_tid.eq_ignore_ascii_case(tid) {
        return Err(Refusal::new(
            Reason::IssuerTenantMismatch,
            format!("iss names tenant {iss_tid} but tid is {tid}"),
        ));
    }
    if let Some(ver) = cl.ver.as_deref() {
        if ver != shape {
            return Err(Refusal::new(
                Reason::IssuerInvalid,
                format!("ver is {ver:?} but the issuer has the v{shape} shape"),
            ));
        }
    }
    let aud = cl.aud.as_ref().ok_or_else(|| missing("aud"))?;
    if !aud.iter().any(|a| {
        c.audiences
            .iter()
            .any(|x| audience_matches(x, a, c.audience_trailing_slash))
    }) {
        return Err(Refusal::new(
            Reason::AudienceInvalid,
            format!(
                "aud {:?} is not one of the policy's audiences",
                aud.iter().collect::<Vec<_>>()
            ),
        ));
    }
    let exp = seconds("exp", cl.exp.ok_or_else(|| missing("exp"))?)?;
    if now >= exp.saturating_add(c.skew) {
        return Err(Refusal::new(
            Reason::TokenExpired,
            format!("exp {exp} is more than {} s before now ({now})", c.skew),
        ));
    }
    if let Some(nbf) = cl.nbf {
        let nbf = seconds("nbf", nbf)?;
        if nbf > now.saturating_add(c.skew) {
            return Err(Refusal::new(
                Reason::TokenNotYetValid,
                format!("nbf {nbf} is more than {} s after now ({now})", c.skew),
            ));
        }
    }
    if let Some(iat) = cl.iat {
        let iat = seconds("iat", iat)?;
        if iat > now.saturating_add(c.skew) {
            return Err(Refusal::new(
                Reason::TokenIssuedInFuture,
                format!("iat {iat} is more than {} s after now ({now})", c.skew),
            ));
        }
    }
    if !c.tenants.is_empty() && !c.tenants.iter().any(|t| t.eq_ignore_ascii_case(tid)) {
        return Err(Refusal::new(
            Reason::TenantNotAllowed,
            format!("tenant {tid} is not in token.tenants"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::audience_matches;

    #[test]
    fn one_trailing_slash_for_uris_only() {
        let pc = "https://api.partnercenter.microsoft.com";
        assert!(audience_matches(
            pc,
            "https://api.partnercenter.microsoft.com/",
            true
        ));
        assert!(audience_matches(
            "https://api.partnercenter.microsoft.com/",
            pc,
            true
        ));
        assert!(!audience_matches(
            pc,
            "https://api.partnercenter.microsoft.com//",
            true
        ));
        assert!(!audience_matches(
            pc,
            "https://api.partnercenter.microsoft.com/",
            false
        ));
        assert!(!audience_matches(
            pc,
            "https://api.partnercenter.microsoft.com.evil/",
            true
        ));
        let guid = "23ec45a3-5127-4185-9eff-c8887839e6ab";
        assert!(!audience_matches(
            guid,
            "23ec45a3-5127-4185-9eff-c8887839e6ab/",
            true
        ));
        assert!(audience_matches(guid, guid, true));
    }
}
