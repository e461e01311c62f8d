//! The `mfagate` command line as a library: the `mfagate` binary and the
//! Python wheel's `mfagate` command both call [`run`], so the two are one
//! implementation (same commands, output and exit statuses).
#![forbid(unsafe_code)]

mod cli;
mod demo;
mod print;
mod token;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, PolicyCommand, TokenCommand};
use mfagate::{Gate, KeySet, Policy};
use std::ffi::OsString;
use std::io::{self, Read, Write};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}

/// The exit status when standard output is closed before everything is
/// written (`mfagate demo | head -1`): the status a shell reports for a
/// process killed by SIGPIPE, which GNU tools would get. Neither 0 nor 1,
/// so `check`'s reader never takes an unfinished run for a decision.
pub const CLOSED_OUTPUT: u8 = 141;

/// Why a command stopped early.
pub(crate) enum Fail {
    /// A message for `mfagate: ...` on stderr, exit status 2.
    Msg(String),
    /// Standard output's reader has gone: nothing more to say to anyone.
    Closed,
}

impl From<String> for Fail {
    fn from(m: String) -> Self {
        Fail::Msg(m)
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Fail::Closed
        } else {
            Fail::Msg(e.to_string())
        }
    }
}

/// `mfagate: <msg>` on stderr. A failed write is ignored: there is no
/// one left to tell, and `eprintln!` would panic (in the Python process, too).
pub(crate) fn warn(msg: &str) {
    let _ = writeln!(io::stderr(), "mfagate: {msg}");
}

fn policy(spec: &str) -> Result<Policy, String> {
    Policy::from_spec_str(spec).map_err(|e| e.to_string())
}

fn json<T: serde::Serialize>(out: &mut dyn Write, v: &T) -> Result<(), Fail> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| e.to_string())?
    )?;
    Ok(())
}

/// Runs the command line on `args` (the first names the program, as in
/// `std::env::args_os`; help and usage show its file name) and returns the
/// exit status: 0, 1 as each command documents, 2 when the command was
/// wrong, [`CLOSED_OUTPUT`] when stdout was closed early. It writes to the
/// process's stdout and stderr, flushed before it returns, and never exits
/// the process itself (the Python interpreter calls it).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help and --version come here too, with status 0.
        Err(e) => {
            return match e.print() {
                Err(io) if io.kind() == io::ErrorKind::BrokenPipe => CLOSED_OUTPUT,
                _ => u8::try_from(e.exit_code()).unwrap_or(2),
            }
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let done = command(cli, &mut out).and_then(|status| {
        out.flush()?;
        Ok(status)
    });
    match done {
        Ok(status) => status,
        Err(Fail::Closed) => CLOSED_OUTPUT,
        Err(Fail::Msg(msg)) => {
            // What was printed before the failure comes before its message.
            if let Err(e) = out.flush() {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return CLOSED_OUTPUT;
                }
            }
            warn(&msg);
            2
        }
    }
}

fn command(cli: Cli, out: &mut dyn Write) -> Result<u8, Fail> {
    match cli.command {
        Command::Demo { json } => demo::run(out, json).map(|_| 0),
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
                json(out, &i)?;
            } else {
                print::inspection(out, &i, lang.tag())?;
            }
            Ok(0)
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
                    warn("no --jwks given: no key verifies signatures, so a signed token is refused (key_not_found); pass the JWK Set of your tenant's jwks_uri");
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
                json(out, &d)?;
            } else {
                print::decision(out, &d, lang.tag())?;
            }
            Ok(if d.is_allowed() { 0 } else { 1 })
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
                    json(out, &problems)?;
                } else {
                    print::problems(out, &file.display().to_string(), &problems)?;
                }
                let errors = problems
                    .iter()
                    .any(|p| p.severity == mfagate::policy::lint::Severity::Error);
                Ok(if errors { 1 } else { 0 })
            }
            PolicyCommand::Show { policy: p } => {
                write!(out, "{}", policy(&p)?.to_toml().map_err(|e| e.to_string())?)?;
                Ok(0)
            }
            PolicyCommand::Schema => json(out, &Policy::json_schema()).map(|_| 0),
        },
        Command::Vectors { dir } => {
            let s = match &dir {
                Some(d) => mfagate::conformance::run_dir(d),
                // A build from the Python sdist: maturin packs only the crates,
                // not the repository's tests/vectors that build.rs embeds.
                None if embedded::VECTORS.is_empty() => {
                    return Err(Fail::Msg("this build has no vectors built in (it was built without the repository's tests/vectors, as from the Python sdist): pass a folder of vector files, mfagate vectors DIR".into()));
                }
                None => mfagate::conformance::run_texts(embedded::VECTORS),
            }
            .map_err(|e| e.to_string())?;
            for (id, why) in &s.failed {
                writeln!(out, "FAIL {id}: {why}")?;
            }
            writeln!(out, "{} passed, {} failed", s.passed, s.failed.len())?;
            Ok(if s.failed.is_empty() && s.passed > 0 {
                0
            } else {
                1
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
            writeln!(out, "{jwt}")?;
            Ok(0)
        }
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics when a write fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mfagate", &mut script);
            out.write_all(&script)?;
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(0)
        }
    }
}
