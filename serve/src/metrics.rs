//! Prometheus counters, kept in atomics so that recording a decision takes
//! no lock and allocates nothing; `/metrics` renders them as text
//! (exposition format 0.0.4).

use crate::protocol::Protocol;
use mfagate::{Outcome, Reason};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::Deny, Outcome::StepUp];

/// Upper bounds of the latency histogram, in seconds: an RS256 decision
/// takes about 25 µs, so the buckets are fine below a millisecond.
const BUCKETS: [f64; 14] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.1, 1.0, 5.0,
];

/// Answers that are not decisions: the proxy sent something unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// A header the protocol needs was missing (a proxy misconfiguration).
    HeaderMissing,
    /// A header was repeated or unreadable.
    HeaderInvalid,
    /// The forwarded path is not an origin-form path.
    PathInvalid,
    /// A body over `limits.max_body_bytes`.
    BodyTooLarge,
    /// nginx's refusal location came without the answer to render.
    AnswerMissing,
}

impl Rejected {
    const ALL: [Rejected; 5] = [
        Rejected::HeaderMissing,
        Rejected::HeaderInvalid,
        Rejected::PathInvalid,
        Rejected::BodyTooLarge,
        Rejected::AnswerMissing,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Rejected::HeaderMissing => "forwarded_header_missing",
            Rejected::HeaderInvalid => "forwarded_header_invalid",
            Rejected::PathInvalid => "forwarded_path_invalid",
            Rejected::BodyTooLarge => "body_too_large",
            Rejected::AnswerMissing => "nginx_answer_missing",
        }
    }
}

fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::Allow => 0,
        Outcome::Deny => 1,
        Outcome::StepUp => 2,
    }
}

/// `Reason` is a plain enum whose `ALL` lists the variants in declaration
/// order, so its discriminant indexes `ALL` (checked by a test).
fn reason_index(r: Reason) -> usize {
    r as usize
}

pub struct Metrics {
    decisions: Vec<AtomicU64>,
    rejected: Vec<AtomicU64>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    pub jwks_fetches: AtomicU64,
    pub jwks_failures: AtomicU64,
    /// Unix milliseconds when the key set in use was loaded; 0: none yet.
    pub keys_loaded_at_ms: AtomicU64,
    pub policy_reloads: AtomicU64,
    pub policy_reload_failures: AtomicU64,
    pub jwks_file_reloads: AtomicU64,
    pub jwks_file_reload_failures: AtomicU64,
    pub jwks_url_reloads: AtomicU64,
    pub jwks_url_reload_failures: AtomicU64,
    pub audit_dropped: AtomicU64,
}

fn counters(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            decisions: counters(Protocol::ALL.len() * OUTCOMES.len() * Reason::ALL.len()),
            rejected: counters(Protocol::ALL.len() * Rejected::ALL.len()),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_sum_ns: AtomicU64::new(0),
            jwks_fetches: AtomicU64::new(0),
            jwks_failures: AtomicU64::new(0),
            keys_loaded_at_ms: AtomicU64::new(0),
            policy_reloads: AtomicU64::new(0),
            policy_reload_failures: AtomicU64::new(0),
            jwks_file_reloads: AtomicU64::new(0),
            jwks_file_reload_failures: AtomicU64::new(0),
            jwks_url_reloads: AtomicU64::new(0),
            jwks_url_reload_failures: AtomicU64::new(0),
            audit_dropped: AtomicU64::new(0),
        }
    }
}

fn decision_slot(p: Protocol, o: Outcome, r: Reason) -> usize {
    (p.index() * OUTCOMES.len() + outcome_index(o)) * Reason::ALL.len() + reason_index(r)
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Metrics {
    pub fn decision(&self, p: Protocol, o: Outcome, r: Reason, nanos: u64) {
        if let Some(c) = self.decisions.get(decision_slot(p, o, r)) {
            c.fetch_add(1, Relaxed);
        }
        let secs = nanos as f64 / 1e9;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
                break;
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ns.fetch_add(nanos, Relaxed);
    }

    /// Counts a rejection; true for the first of its kind.
    pub fn rejected(&self, p: Protocol, why: Rejected) -> bool {
        let i = Rejected::ALL.iter().position(|r| *r == why).unwrap_or(0);
        self.rejected
            .get(p.index() * Rejected::ALL.len() + i)
            .is_some_and(|c| c.fetch_add(1, Relaxed) == 0)
    }

    /// The text of `/metrics`. `ready` is whether a usable key set is in use.
    pub fn render(&self, ready: bool) -> String {
        let mut o = String::with_capacity(4096);
        let _ = self.write(&mut o, ready);
        o
    }

    fn write(&self, o: &mut String, ready: bool) -> std::fmt::Result {
        writeln!(
            o,
            "# HELP mfagate_decisions_total Decisions made, by protocol, outcome and reason code."
        )?;
        writeln!(o, "# TYPE mfagate_decisions_total counter")?;
        for p in Protocol::ALL {
            for out in OUTCOMES {
                for r in Reason::ALL {
                    let n = self.decisions[decision_slot(p, out, *r)].load(Relaxed);
                    if n > 0 {
                        writeln!(
                            o,
                            "mfagate_decisions_total{{protocol=\"{}\",outcome=\"{}\",reason=\"{}\"}} {n}",
                            p.as_str(),
                            out.as_str(),
                            r.as_str()
                        )?;
                    }
                }
            }
        }
        writeln!(o, "# HELP mfagate_rejected_total Requests answered without a decision because the proxy sent something unusable.")?;
        writeln!(o, "# TYPE mfagate_rejected_total counter")?;
        for p in Protocol::ALL {
            for (i, why) in Rejected::ALL.iter().enumerate() {
                let n = self.rejected[p.index() * Rejected::ALL.len() + i].load(Relaxed);
                if n > 0 {
                    writeln!(
                        o,
                        "mfagate_rejected_total{{protocol=\"{}\",error=\"{}\"}} {n}",
                        p.as_str(),
                        why.as_str()
                    )?;
                }
            }
        }
        writeln!(o, "# HELP mfagate_decision_seconds Time from a request's arrival to its answer, decision included.")?;
        writeln!(o, "# TYPE mfagate_decision_seconds histogram")?;
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            writeln!(
                o,
                "mfagate_decision_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            )?;
        }
        let count = self.latency_count.load(Relaxed);
        writeln!(o, "mfagate_decision_seconds_bucket{{le=\"+Inf\"}} {count}")?;
        writeln!(
            o,
            "mfagate_decision_seconds_sum {}",
            self.latency_sum_ns.load(Relaxed) as f64 / 1e9
        )?;
        writeln!(o, "mfagate_decision_seconds_count {count}")?;
        let gauge = |o: &mut String, name: &str, help: &str, kind: &str, v: String| {
            writeln!(o, "# HELP {name} {help}")?;
            writeln!(o, "# TYPE {name} {kind}")?;
            writeln!(o, "{name} {v}")
        };
        gauge(
            o,
            "mfagate_jwks_fetches_total",
            "JWKS fetch attempts (an OpenID configuration and its key set count as one).",
            "counter",
            self.jwks_fetches.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_jwks_fetch_failures_total",
            "JWKS fetches that failed (the last good keys stay in use).",
            "counter",
            self.jwks_failures.load(Relaxed).to_string(),
        )?;
        let loaded = self.keys_loaded_at_ms.load(Relaxed);
        let age = if loaded == 0 {
            "NaN".to_owned()
        } else {
            (unix_ms().saturating_sub(loaded) as f64 / 1000.0).to_string()
        };
        gauge(
            o,
            "mfagate_key_set_age_seconds",
            "Seconds since the key set in use was fetched or read (NaN: none yet).",
            "gauge",
            age,
        )?;
        gauge(
            o,
            "mfagate_ready",
            "1 when a usable key set is in use (what /readyz says).",
            "gauge",
            u8::from(ready).to_string(),
        )?;
        gauge(
            o,
            "mfagate_policy_reloads_total",
            "Policies loaded by SIGHUP or a file change.",
            "counter",
            self.policy_reloads.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_policy_reload_failures_total",
            "New policies refused (the previous one stays in use).",
            "counter",
            self.policy_reload_failures.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_jwks_file_reloads_total",
            "JWK Set files loaded again.",
            "counter",
            self.jwks_file_reloads.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_jwks_file_reload_failures_total",
            "JWK Set files refused on reload (the previous keys stay in use).",
            "counter",
            self.jwks_file_reload_failures.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_jwks_url_reloads_total",
            "JWKS URL sources fetched again on SIGHUP, their key set in use at once.",
            "counter",
            self.jwks_url_reloads.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_jwks_url_reload_failures_total",
            "Those fetches that failed (the previous keys stay in use).",
            "counter",
            self.jwks_url_reload_failures.load(Relaxed).to_string(),
        )?;
        gauge(
            o,
            "mfagate_audit_dropped_total",
            "Audit lines dropped because standard output did not keep up.",
            "counter",
            self.audit_dropped.load(Relaxed).to_string(),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_discriminants_index_all() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(reason_index(*r), i, "{r}");
        }
    }

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.decision(
            Protocol::Nginx,
            Outcome::StepUp,
            Reason::MfaRequired,
            30_000,
        );
        m.decision(
            Protocol::Nginx,
            Outcome::StepUp,
            Reason::MfaRequired,
            2_000_000,
        );
        m.rejected(Protocol::Forward, Rejected::HeaderMissing);
        let t = m.render(true);
        assert!(t.contains("mfagate_decisions_total{protocol=\"nginx\",outcome=\"step_up\",reason=\"mfa_required\"} 2"), "{t}");
        assert!(
            t.contains("mfagate_decision_seconds_bucket{le=\"0.00005\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("mfagate_decision_seconds_bucket{le=\"+Inf\"} 2"),
            "{t}"
        );
        assert!(
            t.contains(
                "mfagate_rejected_total{protocol=\"forward\",error=\"forwarded_header_missing\"} 1"
            ),
            "{t}"
        );
        assert!(t.contains("mfagate_key_set_age_seconds NaN"), "{t}");
        assert!(t.contains("mfagate_ready 1"), "{t}");
    }
}
