//! `mfagate`: inspect tokens, check requests, lint policies, run the
//! conformance vectors and the seed's scenarios.
#![forbid(unsafe_code)]

mod args;
mod demo;
mod print;

use args::Args;
use mfagate::{Gate, KeySet, Policy};
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "mfagate — Partner Center MFA decisions

USAGE:
  mfagate demo [--json]                       the seed's scenarios against the built-in policy
  mfagate inspect [TOKEN|-] [--policy P] [--now UNIX] [--lang L] [--json]
                                              explain a token (unverified) and what each rule decides
  mfagate check --path PATH [--policy P] [--jwks FILE] [--method M] [--host H]
                [--authorization 'Bearer …' | --token T] [--now UNIX]
                [--mfa-registered true|false] [--lang L] [--json]
                                              decide one request
  mfagate policy lint FILE [--json]          problems with file, line and a hint
  mfagate policy show [NAME|FILE]            the resolved policy as TOML
  mfagate policy schema                      the JSON Schema of the policy format
  mfagate vectors [DIR]                      run conformance vectors (default tests/vectors)

P is a built-in name (partner-center, partner-center-2019, -2020, -2025) or a
.toml/.json file. L is en, fr or pt-BR.";

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("mfagate: {msg}");
    ExitCode::from(2)
}

/// A built-in name or a policy file.
fn load_policy(spec: &str) -> Result<Policy, mfagate::Error> {
    if mfagate::BUILTIN_NAMES.contains(&spec) || !std::path::Path::new(spec).exists() {
        Policy::builtin(spec)
    } else {
        Policy::from_file(std::path::Path::new(spec))
    }
}

fn now_arg(a: &Args) -> Result<Option<i64>, String> {
    a.value("--now")
        .map(|n| {
            n.parse::<i64>()
                .map_err(|_| format!("--now {n:?} is not Unix seconds"))
        })
        .transpose()
}

fn run() -> Result<ExitCode, String> {
    let a = Args::parse(std::env::args().skip(1).collect())?;
    let json = a.flag("--json");
    let lang = a.value("--lang").unwrap_or("en").to_owned();
    match a.positional(0) {
        None | Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("demo") => demo::run(json).map(|_| ExitCode::SUCCESS),
        Some("inspect") => {
            let token = match a.positional(1) {
                Some("-") | None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| e.to_string())?;
                    s
                }
                Some(t) => t.to_owned(),
            };
            let policy = load_policy(a.value("--policy").unwrap_or("partner-center"))
                .map_err(|e| e.to_string())?;
            let i = mfagate::inspect::inspect(&token, &policy, now_arg(&a)?)
                .map_err(|r| format!("{}: {}", r.reason, r.detail))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&i).map_err(|e| e.to_string())?
                );
            } else {
                print::inspection(&i, &lang);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("check") => {
            let policy = load_policy(a.value("--policy").unwrap_or("partner-center"))
                .map_err(|e| e.to_string())?;
            let keys = match a.value("--jwks") {
                Some(f) => {
                    KeySet::from_json(&std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?)
                        .map_err(|e| e.to_string())?
                }
                None => KeySet::empty(),
            };
            let gate = Gate::new(policy, keys);
            let path = a.value("--path").ok_or("check needs --path")?;
            let mfa_registered = match a.value("--mfa-registered") {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(o) => return Err(format!("--mfa-registered takes true or false, not {o:?}")),
            };
            let req = mfagate::Request {
                method: a.value("--method").unwrap_or("GET"),
                path,
                host: a.value("--host"),
                authorization: a.value("--authorization"),
                token: a.value("--token"),
                now: now_arg(&a)?.unwrap_or_else(mfagate::system_now),
                mfa_registered,
                validate_mfa: None,
            };
            let d = gate.evaluate(&req);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
                );
            } else {
                print::decision(&d, &lang);
            }
            Ok(if d.is_allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some("policy") => match a.positional(1) {
            Some("lint") => {
                let file = a.positional(2).ok_or("policy lint needs a FILE")?;
                let src = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
                let problems = mfagate::policy::lint::lint(
                    &src,
                    file.ends_with(".json"),
                    mfagate::system_now(),
                );
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&problems).map_err(|e| e.to_string())?
                    );
                } else {
                    print::problems(file, &problems);
                }
                let errors = problems
                    .iter()
                    .any(|p| p.severity == mfagate::policy::lint::Severity::Error);
                Ok(if errors {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                })
            }
            Some("show") => {
                let p = load_policy(a.positional(2).unwrap_or("partner-center"))
                    .map_err(|e| e.to_string())?;
                print!("{}", p.to_toml().map_err(|e| e.to_string())?);
                Ok(ExitCode::SUCCESS)
            }
            Some("schema") => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&Policy::json_schema())
                        .map_err(|e| e.to_string())?
                );
                Ok(ExitCode::SUCCESS)
            }
            _ => Err("policy takes lint, show or schema".into()),
        },
        Some("vectors") => {
            let dir = a.positional(1).unwrap_or("tests/vectors");
            let s = mfagate::conformance::run_dir(std::path::Path::new(dir))
                .map_err(|e| e.to_string())?;
            for (id, why) in &s.failed {
                println!("FAIL {id}: {why}");
            }
            println!("{} passed, {} failed", s.passed, s.failed.len());
            Ok(if s.failed.is_empty() && s.passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some(other) => Err(format!("unknown command {other:?}; try `mfagate help`")),
    }
}

fn main() -> ExitCode {
    run().unwrap_or_else(fail)
}
