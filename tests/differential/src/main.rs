//! The cross-runtime differential test's generator (issue 11): thousands of
//! random and mutated requests made from the conformance vectors, each
//! decided by the native core, written as vector files whose `expect` is the
//! core's whole decision. tests/differential/run.sh replays them through the
//! CLI, the Python wheel, the Node addon and the WebAssembly build; any
//! difference in any field fails there.
//!
//!   mfagate-differential --count 12000 --seed 1 --out DIR

#[path = "../../vectorgen/src/mint.rs"]
#[allow(dead_code)]
mod mint;
mod mutate;
mod rng;

use mfagate::conformance::{self, VectorFile};
use mfagate::{Gate, KeySet, Policy, RequestSpec};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    count: usize,
    seed: u64,
    out: PathBuf,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        count: 10_000,
        seed: 1,
        out: PathBuf::from("target/differential"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--count" => a.count = v()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => a.out = PathBuf::from(v()?),
            "-h" | "--help" => {
                return Err(
                    "usage: mfagate-differential [--count N] [--seed S] [--out DIR]".into(),
                );
            }
            _ => return Err(format!("unknown argument {k:?}; try --help")),
        }
    }
    Ok(a)
}

/// The core's whole decision for one case, or `None` when its policy or
/// request does not load (such a mutation is dropped: every runtime's
/// loading errors are tested by the vectors).
fn decide(keys: &str, policy: &Value, request: &Value) -> Option<Value> {
    let policy = Policy::from_spec(policy).ok()?;
    let spec: RequestSpec = serde_json::from_value(request.clone()).ok()?;
    let keys = KeySet::from_json(keys).ok()?;
    let mut d = Gate::new(policy, keys)
        .evaluate(&spec.as_request())
        .to_value();
    // `detail` is diagnostic text that may name the crypto backend (the
    // WebAssembly build verifies through the host's WebCrypto); every other
    // field must be identical.
    if let Some(o) = d.as_object_mut() {
        o.remove("detail");
    }
    Some(d)
}

fn run(a: &Args) -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let keys = mint::Keys::load(&root.join("tests/keys"))?;
    let mut files: Vec<(String, VectorFile)> = Vec::new();
    for path in conformance::files(&root.join("tests/vectors")).map_err(|e| e.to_string())? {
        let f = conformance::load(&path).map_err(|e| e.to_string())?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("vectors")
            .to_owned();
        files.push((stem, f));
    }
    // Base cases: every case that decides (not those that must fail to build).
    let mut bases: Vec<(usize, Value, Value)> = Vec::new();
    let mut pools: BTreeMap<usize, mutate::Pools> = BTreeMap::new();
    for (i, (_, f)) in files.iter().enumerate() {
        for c in f.cases.iter().filter(|c| c.expect.is_some()) {
            let request = serde_json::to_value(&c.request).map_err(|e| e.to_string())?;
            pools.entry(i).or_default().add(&c.policy, &request);
            bases.push((i, c.policy.clone(), request));
        }
    }
    let key_sets: Vec<String> = files.iter().map(|(_, f)| f.keys.to_string()).collect();
    let mut rng = rng::Rng::new(a.seed);
    let mut out: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let (mut made, mut dropped) = (0usize, 0usize);
    while made < a.count {
        let Some((file, policy, request)) = rng.pick(&bases) else {
            return Err("no base cases".into());
        };
        let (Some(pool), Some(keyset)) = (pools.get(file), key_sets.get(*file)) else {
            continue;
        };
        let (mut policy, mut request) = (policy.clone(), request.clone());
        let mut steps = Vec::new();
        loop {
            steps.push(mutate::mutate(
                &mut rng,
                &keys,
                pool,
                &mut policy,
                &mut request,
            ));
            if steps.len() >= 4 || rng.chance(1, 2) {
                break;
            }
        }
        mutate::tidy(&mut request);
        let Some(decision) = decide(keyset, &policy, &request) else {
            dropped += 1;
            continue;
        };
        let id = format!("diff-{made:05}");
        out.entry(*file).or_default().push(json!({
            "id": id,
            "source": format!("differential, seed {}", a.seed),
            "description": steps.join("; "),
            "policy": policy,
            "request": request,
            "expect": decision,
        }));
        made += 1;
    }
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (i, cases) in &out {
        for c in cases {
            let o = c["expect"]["reason"].as_str().unwrap_or("?").to_owned();
            *outcomes.entry(o).or_default() += 1;
        }
        let (stem, f) = &files[*i];
        let doc = json!({
            "format": conformance::VECTOR_FORMAT,
            "description": format!("Differential cases mutated from {stem}.json (seed {})", a.seed),
            "keys": f.keys,
            "cases": cases,
        });
        write(&a.out.join(format!("diff-{stem}.json")), &doc)?;
    }
    eprintln!(
        "{made} cases (seed {}), {dropped} mutations that did not load dropped; reasons:",
        a.seed
    );
    for (r, n) in outcomes {
        eprintln!("  {r}: {n}");
    }
    Ok(())
}

fn write(path: &Path, v: &Value) -> Result<(), String> {
    std::fs::write(path, v.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    match args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mfagate-differential: {e}");
            ExitCode::FAILURE
        }
    }
}
