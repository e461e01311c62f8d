//! Generates the conformance vectors in tests/vectors (and the public JWK
//! Sets in tests/keys) from the test keys in tests/keys.
//!
//! `cargo run -p mfagate-vectorgen` writes them; `-- --check` regenerates in
//! memory and fails if any committed file differs.

mod cases_2026;
mod cases_api;
mod cases_attacks;
mod cases_claims;
mod cases_clouds;
mod cases_credentials;
mod cases_dashboard;
mod cases_delegated;
mod cases_edges;
mod cases_http;
mod cases_keys;
mod cases_kinds;
mod cases_misc;
mod cases_paths;
mod cases_shapes;
mod cases_tenants;
mod cases_tokens;
mod fixtures;
mod mint;

use fixtures::Case;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const FORMAT: &str = "mfagate-vectors/1";

fn file(keys: &Value, description: &str, cases: Vec<Case>) -> Value {
    json!({
        "format": FORMAT,
        "description": description,
        "keys": keys,
        "cases": cases.iter().map(Case::to_json).collect::<Vec<_>>(),
    })
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn outputs(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let keys = mint::Keys::load(&root.join("tests/keys"))?;
    let jwks = keys.jwks();
    let v = root.join("tests/vectors");
    let files = [
        ("dashboard-2020.json", "Dashboard pages under the 2020 rules: the seed's examples 1-3 and the 15 cells of the role table", cases_dashboard::cases_2020(&keys)),
        ("dashboard-2019.json", "Dashboard pages under the 2019 rules: agents only, Billing unprotected", cases_dashboard::cases_2019(&keys)),
        ("dashboard-2025.json", "Dashboard pages under the 2025 rules: Security administrator in place of Global administrator", cases_dashboard::cases_2025(&keys)),
        ("api.json", "The Partner Center API rule (amr must contain mfa; App-only passes) and the challenge styles", cases_api::cases(&keys)),
        ("tokens.json", "Invalid and hostile tokens: always 401 invalid_token (or 400), never an MFA answer", cases_tokens::cases(&keys)),
        ("delegated-admin.json", "Partner delegated administration (DAP and GDAP): MFA always, exceptions never", cases_delegated::delegated_cases(&keys)),
        ("exceptions.json", "Technical exceptions: valid, expired, per user, and reasons the rules refuse", cases_delegated::exception_cases(&keys)),
        ("overage.json", "Group overage: roles unavailable, never guessed", cases_misc::overage_cases(&keys)),
        ("freshness.json", "Opt-in MFA freshness (max_age against auth_time)", cases_misc::freshness_cases(&keys)),
        ("policies.json", "Policies that must not load, and route overrides", cases_misc::policy_error_cases(&keys)),
        ("kinds.json", "Token kinds: every row of the decision table (docs/policy.md), and app-only tokens as Entra issues them", cases_kinds::cases(&keys)),
        ("claims.json", "Claims as Entra really issues them: types of claims mfagate does not read, hasgroups, audiences with a trailing slash", cases_claims::cases(&keys)),
        ("tenants.json", "Roles only from the partner's own tenant", cases_tenants::cases(&keys)),
        ("paths.json", "Paths and methods as real routers read them: no less-protective rule by normalisation, HEAD, OPTIONS, public routes, safe redirects", cases_paths::cases(&keys)),
        ("credentials.json", "Credentials as bindings receive them, and pages whose session cannot be used", cases_credentials::cases(&keys)),
        ("dashboard-2026.json", "The 2026 rules: MFA on every portal page and every App+User API call, Partner Center's error schema, ValidateMfa", cases_2026::cases(&keys)),
        ("entra-shapes.json", "Claim sets of the shapes Microsoft and others publish, re-signed with the test keys, with their sources", cases_shapes::cases(&keys)),
        ("attacks.json", "The attack corpus: tokens built to slip past a JWT check, each with its reference", cases_attacks::cases(&keys)),
        ("http.json", "The whole HTTP answer: every header a refusal sends, in the decision", cases_http::cases(&keys)),
        ("edges.json", "The request as the application's router reads it: the host it routes on, Unicode case folds, trailing dots, control characters, no query in a detail (issue 18)", cases_edges::cases(&keys)),
        ("clouds.json", "National clouds: issuers, audiences and authorities of public, US Government and China", cases_clouds::cloud_cases(&keys)),
    ];
    let mut ids = BTreeSet::new();
    let mut out = vec![
        (root.join("tests/keys/jwks.json"), pretty(&jwks)),
        (
            root.join("tests/keys/jwks-with-rotated.json"),
            pretty(&keys.jwks_rotated()),
        ),
    ];
    for (name, desc, cases) in files {
        for c in &cases {
            if !ids.insert(c.id.clone()) {
                return Err(format!("duplicate case id {}", c.id));
            }
        }
        out.push((v.join(name), pretty(&file(&jwks, desc, cases))));
    }
    // Files with a key set of their own.
    let own = [
        (
            "keys.json",
            "Key sets with keys mfagate cannot use: the others keep working",
            cases_keys::jwks(&keys),
            cases_keys::cases(&keys),
        ),
        (
            "issuers.json",
            "Signing keys with an issuer: a key may sign only for its issuer",
            cases_clouds::issuer_jwks(&keys),
            cases_clouds::issuer_cases(&keys),
        ),
    ];
    for (name, desc, jwks, cases) in own {
        for c in &cases {
            if !ids.insert(c.id.clone()) {
                return Err(format!("duplicate case id {}", c.id));
            }
        }
        out.push((v.join(name), pretty(&file(&jwks, desc, cases))));
    }
    eprintln!("{} cases", ids.len());
    Ok(out)
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let outs = match outputs(&root) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vectorgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = Vec::new();
    for (path, text) in &outs {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current == *text {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else if let Err(e) = std::fs::write(path, text) {
            eprintln!("vectorgen: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if !stale.is_empty() {
        eprintln!("vectorgen: these files differ from what the generator produces (run `cargo run -p mfagate-vectorgen` and commit):");
        for s in stale {
            eprintln!("  {s}");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
