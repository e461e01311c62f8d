//! The TypeScript types of a decision and a request, generated from the Rust
//! definitions and committed twice, identical, for the two npm packages:
//! bindings-node/lib/types.d.ts and bindings-wasm/js/types.d.ts. This test
//! fails when either differs from what the Rust types produce; run it with
//! `MFAGATE_WRITE_TYPES=1` to rewrite them.
//!
//! The field tables below are checked against the JSON of real decisions, so
//! a field added to (or removed from) `Decision` fails here until the types
//! follow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfagate::{ErrorCode, Gate, KeySet, Policy, Reason, Request, Role, TokenKind, BUILTIN_NAMES};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

fn union(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `(field, TypeScript type, doc)` of one interface.
type Fields = &'static [(&'static str, &'static str, &'static str)];

const DECISION: Fields = &[
    (
        "outcome",
        "Outcome",
        "What to do: allow, deny, or step_up (ask for MFA).",
    ),
    (
        "reason",
        "Reason",
        "The stable reason code (docs/reasons.md).",
    ),
    (
        "token_kind",
        "TokenKind | null",
        "The token's kind, once known.",
    ),
    (
        "kind_evidence",
        "string | null",
        "What decided the kind, for people.",
    ),
    (
        "rule",
        "string | null",
        "The route id that decided, or \"default\".",
    ),
    (
        "roles",
        "Role[]",
        "The caller's roles (only from the partner tenant's own tokens).",
    ),
    ("mfa", "MfaReport", "What MFA was asked and proved."),
    (
        "exception",
        "TechnicalException | null",
        "The technical exception that stood in for MFA, if any.",
    ),
    (
        "message",
        "Message",
        "What to tell the user, in en, fr and pt-BR.",
    ),
    ("http", "HttpAnswer", "The exact HTTP answer."),
    (
        "redirect",
        "Redirect | null",
        "For pages: where to send the browser for MFA.",
    ),
    (
        "detail",
        "string | null",
        "A technical detail for logs, never for end users.",
    ),
    ("subject", "Subject | null", "Who the token is about."),
];

const MFA: Fields = &[
    (
        "required",
        "boolean",
        "Whether this route required MFA of this token.",
    ),
    (
        "satisfied",
        "boolean",
        "Whether the token proves MFA (fresh enough, where asked).",
    ),
    (
        "evidence",
        "'amr' | 'federated' | 'acrs' | 'exception' | null",
        "What proved it.",
    ),
    (
        "amr",
        "string[] | null",
        "The token's amr values; null when the claim is absent.",
    ),
    (
        "auth_time",
        "number | null",
        "The token's auth_time, Unix seconds.",
    ),
    (
        "max_age",
        "number | null",
        "The freshness limit that applied, in seconds.",
    ),
];

const HTTP: Fields = &[
    ("status", "number", "The status code."),
    ("status_text", "string", "The reason phrase (Partner Center's MFA refusal: \"Unauthorized - MFA required\")."),
    ("headers", "Array<[string, string]>", "The answer's own headers, in order; on an allow, to add to the application's answer (isMfaCompliant)."),
    ("body", "string", "A JSON body; empty for an allow and a redirect."),
    ("response_headers", "Array<[string, string]>", "Every header to send with a refusal: headers, then Content-Type for a body and Cache-Control: no-store. Copy them; add none."),
];

const REDIRECT: Fields = &[
    (
        "location",
        "string",
        "The sign-in URL with params appended.",
    ),
    (
        "params",
        "Array<[string, string]>",
        "The parameters that force MFA at the identity provider.",
    ),
    (
        "register_first",
        "boolean",
        "The user has no MFA method yet: they register one first.",
    ),
];

const SUBJECT: Fields = &[
    (
        "tenant",
        "string | null",
        "tid: the tenant the token was issued in.",
    ),
    (
        "object_id",
        "string | null",
        "oid (for GDAP, the partner user named in aai).",
    ),
    (
        "user",
        "string | null",
        "upn, unique_name or preferred_username.",
    ),
    ("app_id", "string | null", "appid or azp."),
    (
        "home_tenant",
        "string | null",
        "For a delegated admin: the partner tenant.",
    ),
];

const EXCEPTION: Fields = &[
    ("tenant", "string", "The tenant the exception is for."),
    (
        "user",
        "string | null",
        "The one user it covers, or null for the tenant.",
    ),
    ("reason", "string", "The reason Microsoft granted it for."),
    ("expires", "number", "When it ends, Unix seconds."),
    (
        "reference",
        "string | null",
        "The support case or approval reference.",
    ),
];

const REQUEST: Fields = &[
    ("method", "string", "Any case; \"GET\" when left out."),
    ("path", "string", "The request path as the server received it (a query string is kept for return_to, ignored for routing)."),
    ("host", "string | null", "The Host header, when routes name hosts."),
    ("authorization", "string | null", "The Authorization header: \"Bearer <jwt>\"."),
    ("token", "string | null", "A raw session token (for example the ID token a page signed in with)."),
    ("now", "number", "Whole Unix seconds; the system clock when left out. Milliseconds are refused."),
    ("mfa_registered", "boolean | null", "false: the user has no MFA method yet (a redirect asks to register first)."),
    ("validate_mfa", "boolean | null", "Partner Center's ValidateMfa request header said true: an allowed 2026 API call then carries isMfaCompliant."),
];

/// The error classes: one constructor signature in both packages.
const ERRORS: &str = "/** What an error is built from: `new MfagateError(message, options)`. */
export interface MfagateErrorOptions {
  /** The stable code (docs/errors.md). */
  code?: ErrorCode | (string & {});
  /** What to do about it. */
  hint?: string;
  /** 1-based line in a policy file, when known. */
  line?: number | null;
  /** Where the code is documented. */
  docUrl?: string | null;
  /** What led to it (for example a fetch's own error). */
  cause?: unknown;
}

/** Base class of every mfagate error: misuse and bad configuration (decisions are never errors). */
export declare class MfagateError extends Error {
  constructor(message: string, options?: MfagateErrorOptions);
  /** The stable code, for example \"policy_invalid\". */
  readonly code: ErrorCode | (string & {});
  readonly hint: string;
  readonly line: number | null;
  readonly docUrl: string | null;
  /** The same URL under the contract's snake_case name. */
  readonly doc_url: string | null;
}
/** The policy spec or document is wrong (family policy). */
export declare class PolicyError extends MfagateError {}
/** The JWK Set is wrong, or a JWKS cache could not fetch one (family key). */
export declare class JwksError extends MfagateError {}
/** The binding was called wrongly, or the host lacks what it needs (family usage). */
export declare class UsageError extends MfagateError {}
";

fn interface(out: &mut String, name: &str, doc: &str, fields: Fields, optional: &[&str]) {
    writeln!(out, "/** {doc} */").unwrap();
    writeln!(out, "export interface {name} {{").unwrap();
    for (f, t, d) in fields {
        let opt = if optional.contains(f) { "?" } else { "" };
        let name = if f.contains('-') {
            format!("'{f}'")
        } else {
            (*f).to_owned()
        };
        writeln!(out, "  /** {d} */\n  {name}{opt}: {t};").unwrap();
    }
    out.push_str("}\n\n");
}

fn generate() -> String {
    let mut o = String::from(
        "// Generated from the Rust definitions by core/tests/typescript.rs; do not edit.\n\
         // Identical in bindings-node/lib/types.d.ts and bindings-wasm/js/types.d.ts.\n\
         // Regenerate: MFAGATE_WRITE_TYPES=1 cargo test -p mfagate --test typescript\n\n",
    );
    let w = |o: &mut String, doc: &str, name: &str, ty: String| {
        writeln!(o, "/** {doc} */\nexport type {name} = {ty};\n").unwrap();
    };
    w(
        &mut o,
        "The built-in policies.",
        "BuiltinPolicy",
        union(BUILTIN_NAMES.iter().map(|s| s.to_string())),
    );
    w(
        &mut o,
        "What the caller must do with the request.",
        "Outcome",
        "'allow' | 'deny' | 'step_up'".into(),
    );
    w(
        &mut o,
        "Every reason code a decision can carry (docs/reasons.md).",
        "Reason",
        union(Reason::ALL.iter().map(|r| r.as_str().to_owned())),
    );
    w(
        &mut o,
        "Token kinds (docs/policy.md, the decision table).",
        "TokenKind",
        union(TokenKind::ALL.iter().map(|k| k.as_str().to_owned())),
    );
    w(
        &mut o,
        "Roles a policy can require.",
        "Role",
        union(Role::ALL.iter().map(|r| r.as_str().to_owned())),
    );
    w(
        &mut o,
        "Every error code (docs/errors.md).",
        "ErrorCode",
        union(ErrorCode::ALL.iter().map(|c| c.as_str().to_owned())),
    );
    interface(
        &mut o,
        "GateRequest",
        "A request, spelled the same in every runtime (snake_case). Unknown keys are refused.",
        REQUEST,
        &[
            "method",
            "host",
            "authorization",
            "token",
            "now",
            "mfa_registered",
            "validate_mfa",
        ],
    );
    interface(&mut o, "MfaReport", "The MFA part of a decision.", MFA, &[]);
    interface(
        &mut o,
        "TechnicalException",
        "A technical exception Microsoft granted.",
        EXCEPTION,
        &[],
    );
    o.push_str("/** A message in each language. */\nexport interface Message {\n  en: string;\n  fr: string;\n  'pt-BR': string;\n}\n\n");
    interface(
        &mut o,
        "HttpAnswer",
        "The HTTP answer for the caller to send.",
        HTTP,
        &[],
    );
    interface(
        &mut o,
        "Redirect",
        "For pages: where to send the user for MFA.",
        REDIRECT,
        &[],
    );
    interface(
        &mut o,
        "Subject",
        "Who the token is about (from verified claims).",
        SUBJECT,
        &[],
    );
    interface(
        &mut o,
        "Decision",
        "A decision: a plain object of exactly the core's JSON form.",
        DECISION,
        &[],
    );
    o.push_str(ERRORS);
    o.trim_end().to_owned() + "\n"
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn names(f: Fields) -> BTreeSet<String> {
    f.iter().map(|(n, _, _)| (*n).to_owned()).collect()
}

#[test]
fn the_field_tables_match_real_decisions() {
    let p = Policy::builtin("partner-center-2020")
        .unwrap()
        .with_overrides(&serde_json::json!({"sign_in": {}}))
        .unwrap_or_else(|_| Policy::builtin("partner-center-2020").unwrap());
    let gate = Gate::new(p, KeySet::empty());
    // A page without a session: a redirect to sign in, so `redirect` is set.
    let page = gate
        .evaluate(&Request::new("/commerce/customers", 1_767_225_600))
        .to_value();
    assert_eq!(keys(&page), names(DECISION));
    assert_eq!(keys(&page["mfa"]), names(MFA));
    assert_eq!(keys(&page["http"]), names(HTTP));
    assert!(page["redirect"].is_object(), "{page}");
    assert_eq!(keys(&page["redirect"]), names(REDIRECT));
    let claims = serde_json::json!({"iss": "https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/",
        "aud": "https://api.partnercenter.microsoft.com", "tid": "df845f1a-7b35-40a2-ba78-6481de91f8ae",
        "oid": "4988e250-5aee-482a-9136-6d269cb755c0", "sub": "s", "scp": "x", "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab",
        "amr": ["mfa"], "iat": 1_767_225_000, "nbf": 1_767_225_000, "exp": 1_767_229_000});
    let api = gate
        .evaluate_claims_json(
            &claims.to_string(),
            &Request::new("/v1/customers", 1_767_225_600),
        )
        .to_value();
    assert_eq!(api["outcome"], "allow", "{api}");
    assert_eq!(keys(&api["subject"]), names(SUBJECT));
    let request_keys: BTreeSet<String> = mfagate::REQUEST_KEYS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(request_keys, names(REQUEST));
    let exception_keys: BTreeSet<String> = ["tenant", "user", "reason", "expires", "reference"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(exception_keys, names(EXCEPTION));
}

/// Python's type for a field of the tables above (the Python binding's
/// getters return tuples where JavaScript has arrays).
fn py_type(ts: &str) -> String {
    let (base, optional) = match ts.strip_suffix(" | null") {
        Some(b) => (b, true),
        None => (ts, false),
    };
    let t = match base {
        "string" | "Outcome" | "Reason" | "TokenKind" => "str".to_owned(),
        "boolean" => "bool".to_owned(),
        "number" => "int".to_owned(),
        "Role[]" | "string[]" => "Tuple[str, ...]".to_owned(),
        "Array<[string, string]>" => "Tuple[Tuple[str, str], ...]".to_owned(),
        b if b.starts_with('\'') => "str".to_owned(),
        other => other.to_owned(),
    };
    if optional {
        format!("Optional[{t}]")
    } else {
        t
    }
}

const PY_BEGIN: &str = "# --- generated by core/tests/typescript.rs from the decision's field tables; do not edit ---\n";
const PY_END: &str = "# --- end of generated ---\n";

/// The decision's classes in the Python stub: one property per field of the
/// tables the TypeScript types come from, then the Python-only members.
fn python_stub() -> String {
    let mut o = String::from(PY_BEGIN);
    let classes: [(&str, Fields, &str); 6] = [
        ("MfaReport", MFA, ""),
        ("HttpAnswer", HTTP, ""),
        ("Redirect", REDIRECT, ""),
        ("Subject", SUBJECT, ""),
        ("TechnicalException", EXCEPTION, ""),
        (
            "Decision",
            DECISION,
            "    @property\n    def allowed(self) -> bool: ...\n",
        ),
    ];
    for (name, fields, extra) in classes {
        writeln!(o, "@final\nclass {name}:").unwrap();
        for (f, t, _) in fields {
            writeln!(o, "    @property\n    def {f}(self) -> {}: ...", py_type(t)).unwrap();
        }
        o.push_str(extra);
        o.push_str("    def to_dict(self) -> Dict[str, Any]: ...\n");
        if name == "Decision" {
            o.push_str("    def to_json(self) -> str: ...\n");
        }
        o.push('\n');
    }
    o.push_str(PY_END);
    o
}

#[test]
fn the_python_stub_and_getters_follow_the_field_tables() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("bindings-python/python/mfagate/_mfagate.pyi");
    let text = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (text.find(PY_BEGIN), text.find(PY_END)) else {
        panic!("{} lacks the generated block's markers", path.display())
    };
    let want = python_stub();
    let current = &text[a..b + PY_END.len()];
    if std::env::var_os("MFAGATE_WRITE_TYPES").is_some() {
        std::fs::write(&path, text.replace(current, &want)).unwrap();
    } else {
        assert_eq!(
            current, want,
            "the Python stub differs from the field tables: run MFAGATE_WRITE_TYPES=1 cargo test -p mfagate --test typescript and commit"
        );
    }
    // Each field has its getter in the binding (stubtest then checks the
    // stub against the built module).
    let getters = std::fs::read_to_string(root.join("bindings-python/src/decision.rs")).unwrap();
    for fields in [DECISION, MFA, HTTP, REDIRECT, SUBJECT, EXCEPTION] {
        for (f, _, _) in fields {
            assert!(
                getters.contains(&format!("fn {f}(")) || getters.contains(&format!("fn {f}<")),
                "bindings-python/src/decision.rs has no getter for {f}"
            );
        }
    }
}

#[test]
fn the_committed_types_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let want = generate();
    let mut stale = Vec::new();
    for rel in [
        "bindings-node/lib/types.d.ts",
        "bindings-wasm/js/types.d.ts",
    ] {
        let path = root.join(rel);
        if std::env::var_os("MFAGATE_WRITE_TYPES").is_some() {
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).unwrap_or_default() != want {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from the Rust types: run MFAGATE_WRITE_TYPES=1 cargo test -p mfagate --test typescript and commit"
    );
}
