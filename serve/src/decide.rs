//! One decision, the same for every protocol: the gate in use decides the
//! original request; a token naming an unknown `kid` waits once for fresher
//! keys when the core's engine says they may come (its rate limit
//! applies); the decision is counted and audited.

use crate::audit::Context;
use crate::clock::mono_ms;
use crate::extract::Asked;
use crate::keys;
use crate::protocol::Protocol;
use crate::rejection::Rejection;
use crate::state::Shared;
use mfagate::{After, Decision, Request};
use std::time::Instant;

fn host_header(p: Protocol) -> &'static str {
    match p {
        Protocol::Nginx => "X-Original-Host",
        Protocol::Forward => "X-Forwarded-Host",
        Protocol::EnvoyHttp => "Host",
        Protocol::EnvoyGrpc => ":authority (attributes.request.http.host)",
    }
}

/// Decides `asked`. A rejection is counted here too.
pub async fn decide(
    shared: &Shared,
    protocol: Protocol,
    asked: &Asked<'_>,
    started: Instant,
) -> Result<Decision, Rejection> {
    let req = Request {
        method: &asked.method,
        path: &asked.path,
        host: asked.host.as_deref(),
        authorization: asked.authorization.as_deref(),
        token: asked.token.as_deref(),
        now: shared.checked.clock.now(),
        // Only the application knows whether the user registered an MFA
        // method; a proxy never does.
        mfa_registered: None,
        validate_mfa: asked.validate_mfa,
    };
    let (snap, hosts) = shared.snapshot();
    if hosts && asked.host.is_none() {
        let r = Rejection::host_missing(host_header(protocol));
        reject(shared, protocol, &r);
        return Err(r);
    }
    let first = snap.gate().evaluate(&req);
    let again = match shared.engine.after(&snap, &first, mono_ms()) {
        After::Final => false,
        After::Again => true,
        After::Fetch(f) => keys::fresher(shared, Some(f)).await,
        After::Wait => keys::fresher(shared, None).await,
    };
    let d = if again {
        shared.snapshot().0.gate().evaluate(&req)
    } else {
        first
    };
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    shared
        .metrics
        .decision(protocol, d.outcome, d.reason, nanos);
    shared.audit.record(
        &Context {
            protocol,
            method: &asked.method,
            path: &asked.path,
            host: asked.host.as_deref(),
            latency_us: nanos / 1000,
        },
        &d,
    );
    Ok(d)
}

/// Counts a rejection; the first of each kind per protocol is logged (the
/// rest are in `mfagate_rejected_total`), since one misconfigured proxy
/// would otherwise write a line per request.
pub fn reject(shared: &Shared, protocol: Protocol, r: &Rejection) {
    if shared.metrics.rejected(protocol, r.why) {
        crate::log::warn(format!(
            "{} request refused with {}: {} (further ones are counted in mfagate_rejected_total)",
            protocol.as_str(),
            r.status,
            r.message
        ));
    }
}
