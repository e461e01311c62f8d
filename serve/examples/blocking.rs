//! Does handing RS256 decisions to tokio's blocking pool pay? Decides the
//! same allowed RS256 token (tests/vectors/api.json, api-seed-sample-mfa)
//! from 64 concurrent tasks on a 2-thread runtime, inline on the async
//! threads and through `spawn_blocking`, and prints decisions per second
//! and the CPU time of one. docs/benchmarks.md has the figures.
//!
//! cargo run --release -p mfagate-serve --example blocking
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfagate::conformance::load;
use mfagate::{Gate, KeySet, Policy};
use std::sync::Arc;
use std::time::Instant;

const TASKS: usize = 64;

/// This process's CPU time (user + system), seconds, from /proc (clock
/// ticks of 1/100 s): the cost of a decision whatever else the machine
/// runs, where wall time depends on the share of the cores it gets.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
const PER_TASK: usize = 2_000;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = load(&root.join("tests/vectors/api.json")).unwrap();
    let case = file
        .cases
        .iter()
        .find(|c| c.id == "api-seed-sample-mfa")
        .unwrap();
    let gate = Arc::new(Gate::new(
        Policy::from_spec(&case.policy).unwrap(),
        KeySet::from_json(&file.keys.to_string()).unwrap(),
    ));
    let spec = Arc::new(case.request.clone());
    assert!(gate.evaluate(&spec.as_request()).is_allowed());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for round in 0..3 {
        for blocking in [false, true] {
            let start = Instant::now();
            let cpu = cpu_seconds();
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let (gate, spec) = (Arc::clone(&gate), Arc::clone(&spec));
                    tasks.push(tokio::spawn(async move {
                        for _ in 0..PER_TASK {
                            let ok = if blocking {
                                let (g, s) = (Arc::clone(&gate), Arc::clone(&spec));
                                tokio::task::spawn_blocking(move || {
                                    g.evaluate(&s.as_request()).is_allowed()
                                })
                                .await
                                .unwrap()
                            } else {
                                let ok = gate.evaluate(&spec.as_request()).is_allowed();
                                tokio::task::yield_now().await;
                                ok
                            };
                            assert!(ok);
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            });
            let n = (TASKS * PER_TASK) as f64;
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu;
            println!(
                "round {round} {:<14} {:>8.0} decisions/s  {:>6.2} µs CPU per decision",
                if blocking { "spawn_blocking" } else { "inline" },
                n / secs,
                cpu * 1e6 / n
            );
        }
    }
}
