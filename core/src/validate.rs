//! Registered-claim checks: issuer and tenant, audience, time, tenant list.

use crate::claims::{seconds, Claims};
use crate::guid::is_guid;
use crate::policy::Compiled;
use crate::reason::Reason;
use crate::reason::Refusal;

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
    let issuer = crate::cloud::parse_issuer(iss).ok_or_else(|| {
        Refusal::new(
            Reason::IssuerInvalid,
            format!(
                "iss {iss:?} is not an Entra issuer of {} ({} or {})",
                c.cloud.label(),
                c.cloud.v1_issuer("{tid}"),
                c.cloud.v2_issuer("{tid}")
            ),
        )
    })?;
    if !issuer.clouds.contains(&c.cloud) {
        let from: Vec<&str> = issuer.clouds.iter().map(|k| k.label()).collect();
        return Err(Refusal::new(
            Reason::IssuerCloudMismatch,
            format!(
                "iss {iss:?} comes from {}, but the policy accepts tokens of {} (token.cloud = {:?})",
                from.join(" or "),
                c.cloud.label(),
                c.cloud.as_str()
            ),
        ));
    }
    let (iss_tid, shape) = (issuer.tenant, issuer.version);
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

/// The signing key's issuer, and the OpenID configuration's, against the
/// token's (after [`claims`] passed). As Microsoft.Identity.Web's
/// `EnableAadSigningKeyIssuerValidation`: a key with an `issuer` may sign
/// only for it, `{tenantid}` replaced by `tid` (exact match); a v1 token
/// matches through the v2 issuer of its tenant (the keys of the v2 endpoint
/// also sign v1 tokens); keys without an issuer are not restricted.
/// access-tokens.md, "Validate the signing key issuer".
pub fn issuers(
    c: &Compiled,
    keys: &crate::keys::KeySet,
    key: usize,
    cl: &Claims<'_>,
) -> Result<(), Refusal> {
    let (Some(tid), Some(iss)) = (cl.tid.as_deref(), cl.iss.as_deref()) else {
        return Ok(());
    };
    let key_issuer = keys.keys().get(key).and_then(|k| k.issuer.as_deref());
    if key_issuer.is_none() && keys.issuer().is_none() {
        // Nothing names an issuer: the common case costs no allocation.
        return Ok(());
    }
    let cloud = c.cloud;
    // The v2 form of a v1 issuer of this tenant (and the v2 issuer itself).
    let as_v2 = if iss == cloud.v1_issuer(tid) {
        cloud.v2_issuer(tid)
    } else {
        iss.to_owned()
    };
    let template = |t: &str| t.replace("{tenantid}", tid);
    if let Some(k) = keys.keys().get(key) {
        if let Some(ki) = &k.issuer {
            let effective = template(ki);
            if effective != iss && effective != as_v2 {
                return Err(Refusal::new(
                    Reason::KeyIssuerMismatch,
                    format!(
                        "key {:?} may sign only for issuer {effective:?}; the token's iss is {iss:?}",
                        k.kid.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
    }
    if let Some(meta) = keys.issuer() {
        // One configuration stands for its authority's v1 and v2 issuers
        // (Microsoft.Identity.Web reads both documents): what matters is the
        // tenant it names, or `{tenantid}`, any tenant.
        let expected = template(meta);
        let same_tenant = match (
            crate::cloud::parse_issuer(&expected),
            crate::cloud::parse_issuer(iss),
        ) {
            (Some(e), Some(t)) => e.tenant == t.tenant,
            _ => false,
        };
        if expected != iss && !same_tenant {
            return Err(Refusal::new(
                Reason::IssuerInvalid,
                format!(
                    "iss {iss:?} is not the issuer of the OpenID configuration the keys came from ({expected:?})"
                ),
            ));
        }
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
