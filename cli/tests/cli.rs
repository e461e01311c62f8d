//! The `mfagate` binary, run as a person would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(&root(), args)
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mfagate"))
        .args(args)
        .current_dir(dir)
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
fn demo_prints_the_mfa_page_scenarios() {
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
    let (token, now) = vector_token("dashboard-2020.json", "example3-customers-verify-only");
    let now = now.to_string();
    let (code, out, _) = run(&["inspect", &token, "--now", &now]);
    assert_eq!(code, 0);
    assert!(out.starts_with("UNVERIFIED"));
    assert!(out.contains("kind      id_token"));
    assert!(out.contains("contains \"mfa\": no"));
    assert!(
        out.contains("time      2026-01-01T00:00:00Z (1767225600)"),
        "{out}"
    );
    assert!(
        out.contains("expires   2026-01-01T00:50:00Z (1767228600)\n"),
        "{out}"
    );
    // By default it is evaluated now: the vector's token expired long ago.
    let (_, out, _) = run(&["inspect", &token]);
    assert!(out.contains("(1767228600)   EXPIRED"), "{out}");
    assert!(out.contains("token_expired"), "{out}");
    let (_, json, _) = run(&["inspect", &token, "--json", "--now=1767225600"]);
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
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
    let (code, _, err) = run(&["chekc"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("a similar subcommand exists: 'check'"),
        "{err}"
    );
    let (code, _, err) = run(&["check", "--pth", "/"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unexpected argument '--pth'") && err.contains("--path"),
        "{err}"
    );
    let (code, _, err) = run(&["check", "--path", "/", "--lang", "de"]);
    assert_eq!(code, 2);
    assert!(err.contains("[possible values: en, fr, pt-BR]"), "{err}");
}

#[test]
fn help_version_completions_and_man_page() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["help", "check"],
        &["check", "--help"],
        &["policy", "lint", "-h"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage: mfagate"), "{args:?}: {out}");
    }
    let (_, out, _) = run(&["help", "check"]);
    assert!(
        out.contains("--validate-mfa") && out.contains("Exit status 0: allowed"),
        "{out}"
    );
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("mfagate {}", env!("CARGO_PKG_VERSION")));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, _) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains("inspect") && out.contains("validate-mfa"),
            "{shell}"
        );
    }
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH mfagate"),
        "{}",
        &out[..80.min(out.len())]
    );
    assert!(out.contains("inspect"));
}

#[test]
fn vectors_run_from_any_directory() {
    let elsewhere = std::env::temp_dir();
    let (code, out, _) = run_in(&elsewhere, &["vectors"]);
    assert_eq!(code, 0, "{out}");
    let (_, from_dir, _) = run(&["vectors", "tests/vectors"]);
    assert_eq!(
        out.lines().last(),
        from_dir.lines().last(),
        "the embedded vectors are the repository's"
    );
}

#[test]
fn check_without_keys_says_so() {
    let (token, now) = vector_token("api.json", "api-seed-sample-mfa");
    let auth = format!("Bearer {token}");
    let (code, out, err) = run(&[
        "check",
        "--path=/v1/customers",
        "--authorization",
        &auth,
        "--now",
        &now.to_string(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no --jwks given"), "{err}");
    assert!(out.contains("key_not_found"), "{out}");
}

#[test]
fn a_mistyped_policy_file_says_no_such_file() {
    let (code, _, err) = run(&["policy", "show", "my-polcy.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no such file") && err.contains("policy_file_unreadable"),
        "{err}"
    );
    let (code, _, err) = run(&["policy", "show", "partner-centre"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("policy_unknown_builtin") && err.contains(".toml or .json"),
        "{err}"
    );
    let (code, out, _) = run(&[
        "policy",
        "show",
        r#"{"builtin": "partner-center-2026", "overrides": {"name": "x"}}"#,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("name = \"x\""));
}

#[test]
fn lint_reports_every_problem() {
    let file = root().join("target/cli-test-many-problems.toml");
    std::fs::write(
        &file,
        "extends = \"partner-center\"\n[token]\naudiences = []\n[routes.a]\npaths = [\"/a/**/b\"]\n",
    )
    .unwrap();
    let (code, out, _) = run(&["policy", "lint", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("error[policy_invalid]").count(), 2, "{out}");
}

/// An App+User Partner Center API token's claims, MFA done (no times: `token
/// sign` adds them).
const API_CLAIMS: &str = r#"{"aud": "https://api.partnercenter.microsoft.com",
 "iss": "https://sts.windows.net/6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f/", "ver": "1.0",
 "tid": "6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f", "oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
 "upn": "alice@contoso.example", "appid": "1950a258-227b-4e31-a9cf-717495945fc2",
 "scp": "user_impersonation", "amr": ["pwd", "mfa"]}"#;

#[test]
fn token_sign_makes_fresh_tokens_with_the_test_keys_only() {
    let claims = root().join("target/cli-test-claims.json");
    std::fs::write(&claims, API_CLAIMS).unwrap();
    let claims = claims.to_str().unwrap();
    for (key, alg) in [
        ("tests/keys/rsa-signing-1.pem", "RS256"),
        ("tests/keys/ec-p256-1.pem", "ES256"),
        ("tests/keys/hs256-secret.b64url", "HS256"),
    ] {
        let (code, token, err) = run(&["token", "sign", "--key", key, "--claims", claims]);
        assert_eq!(code, 0, "{key}: {err}");
        assert!(err.contains("WARNING") && err.contains("TEST key"), "{err}");
        let auth = format!("Bearer {}", token.trim());
        // Fresh: decided at the system clock, no --now.
        let policy = format!(
            r#"{{"builtin": "partner-center", "overrides": {{"token": {{"algorithms": ["{alg}"]}}}}}}"#
        );
        let (code, out, err) = run(&[
            "check",
            "--jwks",
            "tests/keys/jwks.json",
            "--path",
            "/v1/customers",
            "--authorization",
            &auth,
            "--policy",
            &policy,
        ]);
        assert_eq!(code, 0, "{key}: {out}{err}");
        assert!(out.contains("outcome   allow (mfa_satisfied)"), "{out}");
        let (_, out, _) = run(&["inspect", "--json", token.trim()]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["header"]["alg"], alg);
        let c = &v["claims"];
        assert_eq!(
            c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
            3600
        );
    }
    // PS256 with the RSA key; an algorithm that does not fit the key.
    let (code, token, _) = run(&[
        "token",
        "sign",
        "--key",
        "tests/keys/rsa-signing-1.pem",
        "--claims",
        claims,
        "--alg",
        "PS256",
        "--now",
        "1767225600",
        "--lifetime",
        "60",
    ]);
    assert_eq!(code, 0);
    let (code, out, _) = run(&[
        "check",
        "--jwks",
        "tests/keys/jwks.json",
        "--path",
        "/v1/customers",
        "--authorization",
        &format!("Bearer {}", token.trim()),
        "--now",
        "1767225630",
        "--policy",
        r#"{"builtin": "partner-center", "overrides": {"token": {"algorithms": ["PS256"]}}}"#,
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(&[
        "token",
        "sign",
        "--key",
        "tests/keys/ec-p256-1.pem",
        "--claims",
        claims,
        "--alg",
        "RS256",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("does not fit this key"), "{err}");
    // Any other key: refused, unless said explicitly; warned about either way.
    let other = root().join("target/cli-test-other-secret.b64url");
    std::fs::write(&other, "bm90LW9uZS1vZi10aGUtcmVwb3NpdG9yeS1zLXRlc3Qta2V5cw").unwrap();
    let other = other.to_str().unwrap();
    let (code, out, err) = run(&["token", "sign", "--key", other, "--claims", claims]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("is not one of the repository's test keys")
            && err.contains("--allow-non-test-key"),
        "{err}"
    );
    let (code, out, err) = run(&[
        "token",
        "sign",
        "--key",
        other,
        "--claims",
        claims,
        "--allow-non-test-key",
        "--kid",
        "k",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim().split('.').count(), 3);
    assert!(
        err.contains("WARNING") && err.contains("not one of the repository's test keys"),
        "{err}"
    );
}

/// Each command with its stdout's reader already gone, as in `| head -0`.
fn closed_stdout(args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_mfagate"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_stops_quietly_with_status_141() {
    // Was a panic (exit 101, a backtrace on stderr): println! panics on EPIPE.
    for args in [
        &["demo"][..],
        &["demo", "--json"],
        &["vectors"],
        &["policy", "schema"],
        &["policy", "show"],
        &["man"],
        &["completions", "bash"],
        &["--help"],
        &["check", "--path", "/v1/customers", "--now", "1700000000"],
    ] {
        let (code, err) = closed_stdout(args);
        assert_eq!(code, 141, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A message for stderr still gets there (stdout had nothing to say).
    let (code, err) = closed_stdout(&["policy", "lint", "no-such.toml"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("mfagate: no-such.toml: "), "{err}");
}
