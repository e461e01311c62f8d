//! The command line, defined once: parsing, `--help`, completions and the
//! man page all come from these definitions.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Partner Center MFA decisions: explain tokens, decide requests, lint
/// policies, run the conformance vectors.
#[derive(Debug, Parser)]
#[command(name = "mfagate", version, propagate_version = true, after_help = POLICY_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

pub const POLICY_HELP: &str = "A POLICY is a built-in name (partner-center = partner-center-2020, partner-center-2019, -2020, -2025, -2026), the JSON text of a spec ({\"builtin\": ..., \"overrides\": {...}}), or a file ending in .toml or .json.";

/// A language of the messages.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    En,
    Fr,
    #[value(name = "pt-BR")]
    PtBr,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::PtBr => "pt-BR",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Partner Center's own scenarios (the MFA mandate's examples and role
    /// table) against the built-in policy, as decisions.
    Demo {
        /// Print the decisions as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Explain a token without verifying it: its kind, MFA evidence, roles,
    /// times, and what every rule of a policy would decide.
    Inspect {
        /// The token (a JWT), or - (the default) to read it from standard input.
        token: Option<String>,
        /// The policy whose rules to show.
        #[arg(long, value_name = "POLICY", default_value = "partner-center")]
        policy: String,
        /// The time to evaluate at, Unix seconds (default: now).
        #[arg(long, value_name = "UNIX")]
        now: Option<i64>,
        /// The language of the messages.
        #[arg(long, value_enum, default_value = "en")]
        lang: Lang,
        /// Print the inspection as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decide one request, as a gate would. Exit status 0: allowed, 1:
    /// refused, 2: the command was wrong.
    Check {
        /// The request path (with its query, if any).
        #[arg(long)]
        path: String,
        /// The policy to decide with.
        #[arg(long, value_name = "POLICY", default_value = "partner-center")]
        policy: String,
        /// The JWK Set (a file) whose keys verify signatures.
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
        /// The HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// The Host header.
        #[arg(long)]
        host: Option<String>,
        /// The Authorization header, `Bearer <token>`.
        #[arg(long, value_name = "HEADER", conflicts_with = "token")]
        authorization: Option<String>,
        /// A page's session token (an ID token).
        #[arg(long)]
        token: Option<String>,
        /// The time to decide at, Unix seconds (default: now).
        #[arg(long, value_name = "UNIX")]
        now: Option<i64>,
        /// Whether the user has an MFA method registered (false: the
        /// redirect asks to register one first).
        #[arg(long, value_name = "BOOL")]
        mfa_registered: Option<bool>,
        /// Send `ValidateMfa: true` (2026 rules: the answer says isMfaCompliant).
        #[arg(long)]
        validate_mfa: bool,
        /// The language of the message.
        #[arg(long, value_enum, default_value = "en")]
        lang: Lang,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Policies: lint a file, show a policy resolved, print the schema.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Run the conformance vectors (the embedded ones, or those of DIR).
    Vectors {
        /// A folder of vector files (default: the vectors built into this
        /// binary, the same as the repository's tests/vectors).
        dir: Option<PathBuf>,
    },
    /// Test tokens for trying a deployment locally (signed with the
    /// repository's public TEST keys only).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print a completion script for a shell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Every problem of a policy file, with its line and a hint. Exit status
    /// 1 when there is an error.
    Lint {
        /// The policy file (.toml, or .json).
        file: PathBuf,
        /// Print the problems as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A policy resolved (extends and overrides applied), as TOML.
    Show {
        /// The policy to show.
        #[arg(value_name = "POLICY", default_value = "partner-center")]
        policy: String,
    },
    /// The JSON Schema of the policy format.
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Sign a token with one of the repository's TEST keys (tests/keys) and
    /// print it. For local testing only: those keys are public, so a
    /// deployment must never trust them. Other keys are refused unless
    /// --allow-non-test-key is given; a warning goes to stderr either way.
    /// iat, nbf and exp are added when the claims lack them (now, now,
    /// now + --lifetime).
    Sign {
        /// The private key: a PKCS#8 PEM (RSA: RS256 or PS256; EC P-256:
        /// ES256) or a base64url HMAC secret (HS256), e.g.
        /// tests/keys/rsa-signing-1.pem.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The claims: a JSON object in a file, or - for standard input.
        #[arg(long, value_name = "FILE")]
        claims: String,
        /// The algorithm (default: RS256, ES256 or HS256 by the key).
        #[arg(long, value_parser = ["RS256", "PS256", "ES256", "HS256"])]
        alg: Option<String>,
        /// The header's kid (default: the test key's kid in tests/keys/jwks.json).
        #[arg(long)]
        kid: Option<String>,
        /// The time of iat and nbf, Unix seconds (default: now).
        #[arg(long, value_name = "UNIX")]
        now: Option<i64>,
        /// exp = now + this many seconds, when the claims have no exp.
        #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
        lifetime: i64,
        /// Sign with a key that is not one of the repository's test keys.
        #[arg(long)]
        allow_non_test_key: bool,
    },
}
