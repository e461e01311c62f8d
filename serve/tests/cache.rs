//! `token_cache.enabled`: the conformance vectors replayed twice each
//! through forward auth get the core's exact (uncached) answer both times,
//! the cache is used, and its counters are on /metrics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn the_vectors_twice_through_a_cached_gate() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir("cache");
    let (groups, _) = groups();
    let mut tally = Tally::default();
    let mut hits = 0u64;
    for (n, g) in groups.iter().enumerate() {
        let keys = dir.join(format!("keys-{n}.json"));
        std::fs::write(&keys, &g.keys).unwrap();
        let mut s = settings(&policy_setting(&g.policy), keys.to_str().unwrap());
        s.token_cache.enabled = true;
        let running = rt.block_on(start(s.check(true).unwrap()));
        let addr = running.addr;
        for c in &g.cases {
            let r = &c.request;
            if !case_header_sendable(c) {
                continue;
            }
            let d = core_decision(g, c, None);
            let mut h = client_headers(c);
            h.push(("X-Forwarded-Uri".into(), r.path.clone()));
            h.push(("X-Forwarded-Method".into(), r.method.clone()));
            h.push(("X-Forwarded-Proto".into(), "https".into()));
            if let Some(v) = &r.host {
                h.push(("X-Forwarded-Host".into(), v.clone()));
            }
            for round in ["cold", "warm"] {
                let got = send(addr, "GET", "/auth/forward", &h);
                let m = if let Some(m) = forward_host_list(&d, r.host.as_deref(), &got) {
                    m
                } else if d.is_allowed() {
                    (got.status != 200 || got.header("x-mfagate-reason") != Some(d.reason.as_str()))
                        .then(|| format!("status {} ({}), the core allows", got.status, got.text()))
                } else {
                    refusal_mismatch(&d, &got, true)
                };
                tally.check(format!("{} forward {round}", c.id), m);
            }
        }
        let metrics = send(addr, "GET", "/metrics", &[]).text();
        hits += metrics
            .lines()
            .find_map(|l| l.strip_prefix("mfagate_token_cache_hits_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .expect("the cache's counters are on /metrics");
        running.stopper.stop();
        rt.block_on(running.task).unwrap();
    }
    assert!(hits > 100, "only {hits} cache hits");
    tally.finish("vectors twice through a cached gate");
}

#[test]
fn bad_cache_bounds_are_refused_settings() {
    for extra in [
        "[token_cache]\nenabled = true\nmax_entries = 0",
        "[token_cache]\nenabled = true\nmax_bytes = 1000",
    ] {
        let s = mfagate_serve::config::Settings::from_toml(&format!("jwks = \"k.json\"\n{extra}"))
            .unwrap();
        let e = s.check(false).unwrap_err();
        assert!(e.message.starts_with("token_cache: "), "{}", e.message);
    }
    let off = mfagate_serve::config::Settings::from_toml(
        "jwks = \"k.json\"\n[token_cache]\nmax_entries = 0",
    )
    .unwrap();
    assert!(
        off.check(false).is_ok(),
        "bounds of a disabled cache are not used"
    );
    assert!(mfagate_serve::config::Settings::from_toml(
        "jwks = \"k.json\"\n[token_cache]\nsize = 1"
    )
    .is_err());
}
