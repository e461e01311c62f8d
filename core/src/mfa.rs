//! MFA evidence: `amr`, federated MFA, and freshness.

use crate::claims::{seconds, Claims, FEDERATED_MFA_VALUE};
use crate::policy::Compiled;
use crate::reason::Reason;

/// What the token proves about MFA.
pub struct Evidence {
    /// `Ok(source)` when MFA is proven and fresh enough; else the reason.
    pub result: Result<&'static str, Reason>,
    pub auth_time: Option<i64>,
}

pub fn check(c: &Compiled, cl: &Claims<'_>, max_age: Option<u64>, now: i64) -> Evidence {
    let auth_time = cl.auth_time.and_then(|t| seconds("auth_time", t).ok());
    let by_amr = cl
        .amr
        .as_ref()
        .is_some_and(|amr| amr.iter().any(|v| c.accepted_amr.iter().any(|a| a == v)));
    let source = if by_amr {
        Ok("amr")
    } else if c.accept_federated
        && cl
            .federated_amr
            .as_ref()
            .is_some_and(|f| f.contains(FEDERATED_MFA_VALUE))
    {
        Ok("federated")
    } else if c.auth_context.as_deref().is_some_and(|ctx| {
        cl.acrs
            .as_ref()
            .is_some_and(|a| a.contains_ignore_ascii_case(ctx))
    }) {
        // The claims challenge asked Entra for this authentication context
        // (`acrs`), not for `amr`: its answer must satisfy the gate, or the
        // client is challenged again forever (a v2 token has no `amr`).
        Ok("acrs")
    } else if cl.amr.is_none() && cl.federated_amr.is_none() {
        Err(Reason::MfaAmrAbsent)
    } else {
        Err(Reason::MfaRequired)
    };
    let result = match (source, max_age) {
        (Ok(s), Some(limit)) => match auth_time {
            None => Err(Reason::MfaAuthTimeAbsent),
            Some(t) if now.saturating_sub(t) > i64::try_from(limit).unwrap_or(i64::MAX) => {
                Err(Reason::MfaStale)
            }
            Some(_) => Ok(s),
        },
        (r, _) => r,
    };
    Evidence { result, auth_time }
}
