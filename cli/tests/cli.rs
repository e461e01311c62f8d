//! The `mfagate` binary, run as a person would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mfagate"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A token from the committed vectors.
fn vector_token(file: &str, id: &str) -> (String, i64) {
    let f = mfagate::conformance::load(&root().join("tests/vectors").join(file)).unwrap();
    let c = f.cases.into_iter().find(|c| c.id == id).unwrap();
    let t = c.request.authorization.or(c.request.token).unwrap();
    (t.trim_start_matches("Bearer ").to_owned(), c.request.now)
}

#[test]
fn demo_prints_the_seed_scenarios() {
    let (code, out, _) = run(&["demo"]);
    assert_eq!(code, 0);
    assert!(out.contains("Example 3: John opens Customers, first time"));
    assert!(out.contains("step_up mfa_required · 302 Found"));
    assert!(out.contains(
        "401 Unauthorized - MFA required · WWW-Authenticate: Bearer error=\"invalid_token\""
    ));
    assert!(out.contains("allow app_only_exempt"));
}

#[test]
fn vectors_command_counts() {
    let (code, out, _) = run(&["vectors", "tests/vectors"]);
    assert_eq!(code, 0, "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn check_decides_a_request_with_real_keys() {
    let (token, now) = vector_token("api.json", "api-app-user-pwd-only");
    let auth = format!("Bearer {token}");
    let now = now.to_string();
    let policy = root().join("target/cli-test-policy.toml");
    std::fs::write(&policy, "extends = \"partner-center\"\n").unwrap();
    let (code, out, err) = run(&[
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--jwks",
        "tests/keys/jwks.json",
        "--path",
        "/v1/customers",
        "--authorization",
        &auth,
        "--now",
        &now,
        "--lang",
        "fr",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("outcome   step_up (mfa_required)"), "{out}");
    assert!(out.contains("401 Unauthorized - MFA required"));
    assert!(out.contains("L’authentification multifacteur est requise"));
    let (code, json, _) = run(&[
        "check",
        "--jwks",
        "tests/keys/jwks.json",
        "--path",
        "/v1/customers",
        "--authorization",
        &auth,
        "--now",
        &now,
        "--json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["reason"], "mfa_required");
}

#[test]
fn inspect_explains_without_verifying() {
    let (token, _) = vector_token("dashboard-2020.json", "example3-customers-verify-only");
    let (code, out, _) = run(&["inspect", &token]);
    assert_eq!(code, 0);
    assert!(out.starts_with("UNVERIFIED"));
    assert!(out.contains("kind      id_token"));
    assert!(out.contains("contains \"mfa\": no"));
    let (_, json, _) = run(&["inspect", &token, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["verified"], false);
    let customers = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "customers")
        .unwrap();
    assert_eq!(
        customers["decision"]["outcome"], "deny",
        "roles are not configured in the bare built-in"
    );
    assert_eq!(customers["decision"]["reason"], "role_not_permitted");
    assert_eq!(v["assumed_partner_tenant"], v["claims"]["tid"]);
}

#[test]
fn lint_reports_file_line_and_hint() {
    let file = root().join("target/cli-test-bad-policy.toml");
    std::fs::write(
        &file,
        "extends = \"partner-center-2020\"\n\n[[exceptions]]\ntenant = \"df845f1a-7b35-40a2-ba78-6481de91f8ae\"\nreason = \"needs_more_time\"\nexpires = \"2030-01-01\"\n",
    )
    .unwrap();
    let (code, out, _) = run(&["policy", "lint", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains(":5: error[exception_reason_invalid]"), "{out}");
    assert!(out.contains("Partner needs to make plans to implement MFA"));
    assert!(out.contains("hint: "));
}

#[test]
fn policy_show_and_schema() {
    let (code, out, _) = run(&["policy", "show", "partner-center-2025"]);
    assert_eq!(code, 0);
    assert!(out.contains("name = \"partner-center-2025\""));
    assert!(out.contains("security_admin"));
    let (code, out, _) = run(&["policy", "schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["title"], "PolicyDoc");
}

#[test]
fn unknown_commands_and_options_say_what_to_do() {
    let (code, _, err) = run(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("mfagate help"));
    let (code, _, err) = run(&["check", "--pth", "/"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown option --pth"));
}
