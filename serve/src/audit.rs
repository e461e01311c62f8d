//! One JSON line per decision on standard output: the decision's JSON form
//! (docs/bindings.md) minus what could carry a secret or what only the
//! client needs, with where it came from and how long it took.
//!
//! Left out: the credential (never part of a decision), the request's query
//! string and everything derived from it (`http.headers`, whose `Location`
//! carries `return_to`, and `redirect`), the body and the messages (fixed
//! text, found from `reason`). Lines are written by one thread from a
//! bounded queue, so a slow reader of standard output never delays a
//! decision; what does not fit is dropped and counted.

use crate::config::AuditSettings;
use crate::metrics::Metrics;
use crate::protocol::Protocol;
use mfagate::{Decision, MfaReport, Outcome, RoleSet, Subject, TokenKind};
use serde::Serialize;
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

#[derive(Serialize)]
struct Line<'a> {
    ts: &'a str,
    protocol: &'static str,
    method: &'a str,
    /// The path without its query.
    path: &'a str,
    host: Option<&'a str>,
    latency_us: u64,
    outcome: Outcome,
    reason: mfagate::Reason,
    status: u16,
    token_kind: Option<TokenKind>,
    kind_evidence: Option<&'static str>,
    rule: Option<&'a str>,
    roles: RoleSet,
    mfa: &'a MfaReport,
    exception: Option<&'a mfagate::policy::exceptions::Exception>,
    detail: Option<&'a str>,
    subject: Option<&'a Subject>,
}

/// What the audit line says about the request (never its credentials).
pub struct Context<'a> {
    pub protocol: Protocol,
    pub method: &'a str,
    pub path: &'a str,
    pub host: Option<&'a str>,
    pub latency_us: u64,
}

pub struct Audit {
    tx: Option<SyncSender<String>>,
    sample_allow: f64,
    sample_refusal: f64,
    metrics: Arc<Metrics>,
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::metrics::unix_ms());
    h.finish() | 1
}

/// A uniform draw in [0, 1) from a per-thread xorshift: sampling needs no
/// lock and no cryptographic quality.
fn draw() -> f64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn writer(rx: Receiver<String>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    while let Ok(line) = rx.recv() {
        let mut ok = writeln!(out, "{line}").is_ok();
        // Write whatever else is queued, then flush once.
        while let Ok(more) = rx.try_recv() {
            ok &= writeln!(out, "{more}").is_ok();
        }
        ok &= out.flush().is_ok();
        if !ok {
            crate::log::error("cannot write audit lines to standard output");
        }
    }
    let _ = out.flush();
}

impl Audit {
    pub fn new(s: &AuditSettings, metrics: Arc<Metrics>) -> Audit {
        let tx = s.enabled.then(|| {
            let (tx, rx) = sync_channel::<String>(s.buffer);
            let spawned = std::thread::Builder::new()
                .name("mfagate-audit".into())
                .spawn(move || writer(rx));
            if let Err(e) = spawned {
                crate::log::error(format!(
                    "audit lines are off: cannot start their writer thread: {e}"
                ));
            }
            tx
        });
        Audit {
            tx,
            sample_allow: s.sample_allow,
            sample_refusal: s.sample_refusal,
            metrics,
        }
    }

    /// Queues the audit line of `d`, if sampled.
    pub fn record(&self, cx: &Context<'_>, d: &Decision) {
        let Some(tx) = &self.tx else { return };
        let rate = if d.is_allowed() {
            self.sample_allow
        } else {
            self.sample_refusal
        };
        if rate < 1.0 && draw() >= rate {
            return;
        }
        let ts = mfagate::format_rfc3339(mfagate::system_now());
        let line = Line {
            ts: &ts,
            protocol: cx.protocol.as_str(),
            method: cx.method,
            path: cx.path.split(['?', '#']).next().unwrap_or(""),
            host: cx.host,
            latency_us: cx.latency_us,
            outcome: d.outcome,
            reason: d.reason,
            status: d.http.status,
            token_kind: d.token_kind,
            kind_evidence: d.kind_evidence,
            rule: d.rule.as_deref(),
            roles: d.roles,
            mfa: &d.mfa,
            exception: d.exception.as_deref(),
            detail: d.detail.as_deref(),
            subject: d.subject.as_ref(),
        };
        let Ok(text) = serde_json::to_string(&line) else {
            return;
        };
        match tx.try_send(text) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.metrics.audit_dropped.fetch_add(1, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_are_in_range() {
        for _ in 0..1000 {
            let x = super::draw();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
