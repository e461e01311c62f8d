//! Loading a policy: built-in names, TOML and JSON text, files, `extends`
//! chains, RFC 7396 overrides, and the one rule for what a spec means.

use super::compile::compile;
use super::doc::{PolicyDoc, FORMAT_VERSION};
use super::{lint, Policy};
use crate::error::{Error, ErrorCode, Result};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The built-in policies, by name: core/policies/*.toml (the documented
/// source), compiled to JSON by build.rs.
const BUILTINS: &[(&str, &str)] = &[
    (
        "partner-center-2019",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2019.json")),
    ),
    (
        "partner-center-2020",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2020.json")),
    ),
    (
        "partner-center-2025",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2025.json")),
    ),
    (
        "partner-center-2026",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2026.json")),
    ),
];

/// Names accepted by [`Policy::builtin`]; `partner-center` is the default, 2020.
pub const BUILTIN_NAMES: &[&str] = &[
    "partner-center",
    "partner-center-2019",
    "partner-center-2020",
    "partner-center-2025",
    "partner-center-2026",
];

/// The name `partner-center` stands for.
pub const DEFAULT_BUILTIN: &str = "partner-center-2020";

fn canonical_name(name: &str) -> &str {
    if name == "partner-center" {
        DEFAULT_BUILTIN
    } else {
        name
    }
}

fn builtin_source(name: &str) -> Result<&'static str> {
    let name = canonical_name(name);
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::PolicyUnknownBuiltin,
                format!("there is no built-in policy named {name:?}"),
                format!("use one of: {}", BUILTIN_NAMES.join(", ")),
            )
        })
}

#[cfg(feature = "toml")]
include!("toml_json.rs");

#[cfg(feature = "toml")]
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Parses TOML text into a JSON value.
#[cfg(feature = "toml")]
pub fn parse_toml(src: &str) -> Result<Value> {
    let table: toml::Table = toml::from_str(src).map_err(|e| {
        let line = e.span().map(|s| line_of(src, s.start));
        Error::new(
            ErrorCode::PolicySyntax,
            format!("the policy is not valid TOML: {}", e.message()),
            "check quoting and brackets near that line (dates such as expires must be quoted strings or TOML dates)",
        )
        .at_line(line)
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

/// Parses JSON text into a JSON value.
pub fn parse_json(src: &str) -> Result<Value> {
    serde_json::from_str(src).map_err(|e| {
        Error::new(
            ErrorCode::PolicySyntax,
            format!("the policy is not valid JSON: {e}"),
            "check commas, quotes and brackets near that line",
        )
        .at_line(Some(e.line()))
    })
}

/// RFC 7396 JSON Merge Patch: objects merge, everything else replaces, and
/// `null` removes.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Resolves `extends` chains (at most 8 deep) into one document value.
pub(crate) fn resolve_extends(mut v: Value, depth: usize) -> Result<Value> {
    let base = match v.as_object_mut().and_then(|o| o.remove("extends")) {
        None => return Ok(v),
        Some(Value::String(name)) => name,
        Some(_) => {
            return Err(Error::new(
                ErrorCode::PolicyInvalid,
                "extends must be the name of a built-in policy",
                format!("use one of: {}", BUILTIN_NAMES.join(", ")),
            ))
        }
    };
    if depth >= 8 {
        return Err(Error::new(
            ErrorCode::PolicyInvalid,
            "extends chain is too deep",
            "extend a built-in policy directly",
        ));
    }
    let mut merged = resolve_extends(parse_json(builtin_source(&base)?)?, depth + 1)?;
    merge_patch(&mut merged, &v);
    Ok(merged)
}

impl Policy {
    /// A built-in policy: `partner-center` (= 2020), `partner-center-2019`,
    /// `partner-center-2020`, `partner-center-2025`, `partner-center-2026`
    /// (what Partner Center enforces today).
    pub fn builtin(name: &str) -> Result<Policy> {
        Policy::from_value(parse_json(builtin_source(name)?)?)
    }

    /// A policy from TOML text (may `extends` a built-in).
    #[cfg(feature = "toml")]
    pub fn from_toml(src: &str) -> Result<Policy> {
        Policy::from_value(parse_toml(src)?)
    }

    /// A policy from JSON text (may `extends` a built-in).
    pub fn from_json(src: &str) -> Result<Policy> {
        Policy::from_value(parse_json(src)?)
    }

    /// A policy from a file: `.json` is JSON, anything else TOML. Errors carry
    /// the line they were found on where it can be told.
    pub fn from_file(path: &std::path::Path) -> Result<Policy> {
        let src = std::fs::read_to_string(path).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "no such file".to_owned()
            } else {
                e.to_string()
            };
            Error::new(
                ErrorCode::PolicyFileUnreadable,
                format!("cannot read the policy file {}: {why}", path.display()),
                "check the path (relative paths start from the working directory) and its permissions",
            )
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        #[cfg(feature = "toml")]
        let r = if is_json {
            Policy::from_json(&src)
        } else {
            Policy::from_toml(&src)
        };
        #[cfg(not(feature = "toml"))]
        let r = if is_json {
            Policy::from_json(&src)
        } else {
            Err(toml_unsupported())
        };
        r.map_err(|e| {
            let line = e.line.or_else(|| lint::locate(&src, &e.message));
            e.at_line(line)
        })
    }

    /// A policy from a JSON value (may `extends` a built-in).
    pub fn from_value(v: Value) -> Result<Policy> {
        let v = resolve_extends(v, 0)?;
        let doc: PolicyDoc = serde_json::from_value(v).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("the policy does not fit format {FORMAT_VERSION}: {e}"),
                "compare it with `mfagate policy schema` or `mfagate policy show partner-center`",
            )
        })?;
        Policy::from_doc(doc)
    }

    /// Every problem that keeps a document from loading (empty when it
    /// loads): `policy lint` reports them all, where loading stops at the
    /// first.
    pub fn problems(doc: &PolicyDoc) -> Vec<Error> {
        compile(doc).err().unwrap_or_default()
    }

    /// Validates and compiles a document.
    pub fn from_doc(doc: PolicyDoc) -> Result<Policy> {
        let compiled = compile(&doc).map_err(|mut errs| errs.swap_remove(0))?;
        Ok(Policy {
            doc: Arc::new(doc),
            compiled: Arc::new(compiled),
        })
    }

    /// This policy with an RFC 7396 merge patch applied: change paths,
    /// audiences, group IDs or options without copying the whole policy.
    pub fn with_overrides(&self, patch: &Value) -> Result<Policy> {
        let mut v = serde_json::to_value(&*self.doc).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("cannot re-encode the policy: {e}"),
                "",
            )
        })?;
        merge_patch(&mut v, patch);
        Policy::from_value(v)
    }

    /// A policy given as one string, as every binding and the CLI read it:
    /// a built-in name (`partner-center`, `partner-center-2026`…); the JSON
    /// text of a spec (it starts with `{`: see [`Policy::from_spec`]); or
    /// the path of a policy file (it ends in `.toml` or `.json`, or holds a
    /// `/` or `\`), where a missing file is "no such file". Anything else is
    /// an unknown built-in name.
    pub fn from_spec_str(spec: &str) -> Result<Policy> {
        let s = spec.trim();
        if BUILTIN_NAMES.contains(&s) {
            return Policy::builtin(s);
        }
        if s.starts_with('{') {
            return Policy::from_spec(&parse_json(s)?);
        }
        let lower = s.to_ascii_lowercase();
        if lower.ends_with(".toml") || lower.ends_with(".json") || s.contains(['/', '\\']) {
            return Policy::from_file(std::path::Path::new(s));
        }
        Err(Error::new(
            ErrorCode::PolicyUnknownBuiltin,
            format!("there is no built-in policy named {s:?}"),
            format!(
                "use one of: {}; a policy file's path ends in .toml or .json",
                BUILTIN_NAMES.join(", ")
            ),
        ))
    }

    /// A policy from the spec used by conformance vectors and bindings:
    /// `"name"`, `{"builtin": "name", "overrides": {...}}` or
    /// `{"policy": {...}, "overrides": {...}}`.
    pub fn from_spec(spec: &Value) -> Result<Policy> {
        let bad = || {
            Error::new(
                ErrorCode::PolicyInvalid,
                "a policy spec is a built-in name, {\"builtin\": name} or {\"policy\": {...}}, each with optional \"overrides\"",
                "for example {\"builtin\": \"partner-center-2020\", \"overrides\": {\"token\": {\"audiences\": [\"...\"]}}}",
            )
        };
        let (base, overrides) = match spec {
            Value::String(s) => (Policy::from_spec_str(s)?, None),
            Value::Object(o) => {
                let base = match (o.get("builtin"), o.get("policy")) {
                    (Some(Value::String(name)), None) => Policy::builtin(name)?,
                    (None, Some(p)) => Policy::from_value(p.clone())?,
                    _ => return Err(bad()),
                };
                if o.keys()
                    .any(|k| !matches!(k.as_str(), "builtin" | "policy" | "overrides"))
                {
                    return Err(bad());
                }
                (base, o.get("overrides"))
            }
            _ => return Err(bad()),
        };
        match overrides {
            Some(p) => base.with_overrides(p),
            None => Ok(base),
        }
    }
}

/// The error for a TOML policy in a build without the `toml` feature.
#[cfg(not(feature = "toml"))]
pub(crate) fn toml_unsupported() -> Error {
    Error::new(
        ErrorCode::PolicySyntax,
        "this build reads policies as JSON only (it was built without the toml feature)",
        "pass the policy as JSON, or build mfagate with the toml feature",
    )
}
