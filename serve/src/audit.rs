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
use std::borrow::Cow;
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

/// The path without its query or fragment, and the query (from `?`) or
/// fragment alone, if any.
fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.find(['?', '#']) {
        Some(i) => (&target[..i], Some(&target[i..])),
        None => (target, None),
    }
}

/// `detail` without the request's query: a detail that quotes the target
/// (or any part of the query after its `?`) gets `?…` in its place. The
/// query can carry credentials (`?access_token=…`), and docs/serve.md
/// promises that audit lines never hold it.
fn without_query<'a>(detail: &'a str, query: Option<&str>) -> Cow<'a, str> {
    let Some(q) = query else {
        return Cow::Borrowed(detail);
    };
    let mut out = Cow::Borrowed(detail);
    // The whole query first, then what follows its `?` or `#` (a detail may
    // quote it escaped or cut), longest first.
    let bare = &q[1..];
    for needle in [q, bare] {
        if needle.is_empty() {
            continue;
        }
        if out.contains(needle) {
            out = Cow::Owned(out.replace(needle, "?…"));
        }
    }
    for part in bare.split(['&', ';', '=']).filter(|p| p.len() >= 4) {
        if out.contains(part) {
            out = Cow::Owned(out.replace(part, "…"));
        }
    }
    out
}

/// The audit line of `d` as JSON.
fn line(ts: &str, cx: &Context<'_>, d: &Decision) -> Option<String> {
    let (path, query) = split_target(cx.path);
    let detail = d.detail.as_deref().map(|t| without_query(t, query));
    let line = Line {
        ts,
        protocol: cx.protocol.as_str(),
        method: cx.method,
        path,
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
        detail: detail.as_deref(),
        subject: d.subject.as_ref(),
    };
    serde_json::to_string(&line).ok()
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
        let Some(text) = line(&ts, cx, d) else {
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
    use super::*;

    /// Issue 18, item 8: whatever the core's detail quotes, the audit line
    /// never carries the query.
    #[test]
    fn audit_lines_never_carry_the_query() {
        let gate = mfagate::Gate::new(
            mfagate::Policy::from_spec_str("partner-center").unwrap(),
            mfagate::KeySet::from_json(include_str!("../../tests/keys/jwks.json")).unwrap(),
        );
        let target = "/v1/customers?access_token=eyJsecretsecret.part2&x=1";
        let req = mfagate::Request {
            method: "GET",
            path: target,
            host: None,
            authorization: None,
            token: None,
            now: 1_767_225_600,
            mfa_registered: None,
            validate_mfa: None,
        };
        let mut d = gate.evaluate(&req);
        for detail in [
            format!("the request-target {target:?} is not allowed"),
            "a query of access_token=eyJsecretsecret.part2".to_owned(),
            "?access_token=eyJsecretsecret.part2&x=1".to_owned(),
        ] {
            d.detail = Some(detail);
            let cx = Context {
                protocol: Protocol::Forward,
                method: "GET",
                path: target,
                host: None,
                latency_us: 1,
            };
            let text = line("2026-01-01T00:00:00Z", &cx, &d).unwrap();
            assert!(
                !text.contains("secretsecret") && !text.contains("access_token"),
                "{text}"
            );
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["path"], "/v1/customers");
        }
    }

    #[test]
    fn draws_are_in_range() {
        for _ in 0..1000 {
            let x = super::draw();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
