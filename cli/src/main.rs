//! `mfagate`: explain tokens, decide requests, lint policies, run the
//! conformance vectors and Partner Center's scenarios.
#![forbid(unsafe_code)]

mod cli;
mod demo;
mod print;
mod token;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, PolicyCommand, TokenCommand};
use mfagate::{Gate, KeySet, Policy};
use std::io::Read;
use std::process::ExitCode;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}

fn policy(spec: &str) -> Result<Policy, String> {
    Policy::from_spec_str(spec).map_err(|e| e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Demo { json } => demo::run(json).map(|_| ExitCode::SUCCESS),
        Command::Inspect {
            token,
            policy: p,
            now,
            lang,
            json: as_json,
        } => {
            let token = match token.as_deref() {
                None | Some("-") => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| e.to_string())?;
                    s
                }
                Some(t) => t.to_owned(),
            };
            let now = now.unwrap_or_else(mfagate::system_now);
            let i = mfagate::inspect::inspect(&token, &policy(&p)?, Some(now))
                .map_err(|r| format!("{}: {}", r.reason, r.detail))?;
            if as_json {
                json(&i)?;
            } else {
                print::inspection(&i, lang.tag());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            path,
            policy: p,
            jwks,
            method,
            host,
            authorization,
            token,
            now,
            mfa_registered,
            validate_mfa,
            lang,
            json: as_json,
        } => {
            let keys = match &jwks {
                Some(f) => {
                    let text =
                        std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
                    KeySet::from_json(&text).map_err(|e| e.to_string())?
                }
                None => {
                    eprintln!("mfagate: no --jwks given: no key verifies signatures, so a signed token is refused (key_not_found); pass the JWK Set of your tenant's jwks_uri");
                    KeySet::empty()
                }
            };
            let gate = Gate::new(policy(&p)?, keys);
            let req = mfagate::Request {
                method: &method,
                path: &path,
                host: host.as_deref(),
                authorization: authorization.as_deref(),
                token: token.as_deref(),
                now: now.unwrap_or_else(mfagate::system_now),
                mfa_registered,
                validate_mfa: validate_mfa.then_some(true),
            };
            let d = gate.evaluate(&req);
            if as_json {
                json(&d)?;
            } else {
                print::decision(&d, lang.tag());
            }
            Ok(if d.is_allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Policy { command } => match command {
            PolicyCommand::Lint {
                file,
                json: as_json,
            } => {
                let src = std::fs::read_to_string(&file)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                let is_json = file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"));
                let problems = mfagate::policy::lint::lint(&src, is_json, mfagate::system_now());
                if as_json {
                    json(&problems)?;
                } else {
                    print::problems(&file.display().to_string(), &problems);
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
            PolicyCommand::Show { policy: p } => {
                print!("{}", policy(&p)?.to_toml().map_err(|e| e.to_string())?);
                Ok(ExitCode::SUCCESS)
            }
            PolicyCommand::Schema => json(&Policy::json_schema()).map(|_| ExitCode::SUCCESS),
        },
        Command::Vectors { dir } => {
            let s = match &dir {
                Some(d) => mfagate::conformance::run_dir(d),
                None => mfagate::conformance::run_texts(embedded::VECTORS),
            }
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
        Command::Token {
            command:
                TokenCommand::Sign {
                    key,
                    claims,
                    alg,
                    kid,
                    now,
                    lifetime,
                    allow_non_test_key,
                },
        } => {
            let jwt = token::sign(&token::SignArgs {
                key: &key,
                claims: &claims,
                alg: alg.as_deref(),
                kid: kid.as_deref(),
                now: now.unwrap_or_else(mfagate::system_now),
                lifetime,
                allow_non_test_key,
            })?;
            println!("{jwt}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "mfagate",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    // clap prints --help, --version and usage errors (exit status 2) itself.
    let cli = Cli::parse();
    run(cli).unwrap_or_else(|msg| {
        eprintln!("mfagate: {msg}");
        ExitCode::from(2)
    })
}
