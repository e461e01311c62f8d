//! The conformance-vector format (`tests/vectors/*.json`) and a runner for
//! it. Every runtime runs the same files; this is the Rust one.

use crate::error::{Error, ErrorCode, Result};
use crate::{Gate, KeySet, Policy, RequestSpec};
use serde::Deserialize;
use serde_json::Value;

/// The format tag every vector file carries.
pub const VECTOR_FORMAT: &str = "mfagate-vectors/1";

/// One vector file: cases that share a JWK Set (see tests/vectors/README.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VectorFile {
    /// Always [`VECTOR_FORMAT`]; [`load`] refuses any other, so a runner
    /// never misreads a file of a later format.
    pub format: String,
    /// What the file's cases cover, for people.
    pub description: String,
    /// The JWK Set every case of the file verifies with.
    pub keys: Value,
    /// The cases, run in order.
    pub cases: Vec<Case>,
}

/// One conformance case: a policy and a request, with the decision (or the
/// build error) every runtime must produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Case {
    /// The case's name: failures are reported by it.
    pub id: String,
    /// Where the expected outcome comes from (a Microsoft page, an RFC section, an issue).
    pub source: String,
    /// What the case checks, for people.
    pub description: String,
    /// A policy spec: see [`Policy::from_spec`].
    pub policy: Value,
    /// The request to decide, in the form every binding accepts.
    pub request: RequestSpec,
    /// Fields the decision's JSON must contain (a subset match).
    #[serde(default)]
    pub expect: Option<Value>,
    /// Instead of a decision: the gate must fail to build with this error.
    #[serde(default)]
    pub expect_error: Option<Value>,
}

/// Where `actual` differs from the subset `expected`, if anywhere. Objects
/// match when every expected key matches; arrays element by element and in
/// length; numbers by value (`1` equals `1.0`, as in JavaScript and
/// Python); a boolean only equals a boolean (never `0` or `1`, which
/// Python's `==` would allow); anything else by equality. A missing key
/// counts as null. Every runtime's runner follows these rules.
pub fn subset_mismatch(expected: &Value, actual: &Value, at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => None,
        (Value::Object(e), Value::Object(a)) => e.iter().find_map(|(k, ev)| {
            subset_mismatch(ev, a.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}"))
        }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| subset_mismatch(ev, av, &format!("{at}[{i}]"))),
        _ if expected == actual => None,
        _ => Some(format!("{at}: expected {expected}, got {actual}")),
    }
}

/// Runs one case; `Err` holds why it failed.
pub fn run_case(keys_json: &str, case: &Case) -> Result<(), String> {
    let built = Policy::from_spec(&case.policy)
        .and_then(|p| KeySet::from_json(keys_json).map(|k| Gate::new(p, k)));
    match (&case.expect_error, built) {
        (Some(want), Err(e)) => {
            let got = serde_json::json!({"code": e.code.as_str(), "message": e.message});
            subset_mismatch(want, &got, "error").map_or(Ok(()), Err)
        }
        (Some(_), Ok(_)) => Err("the gate built, but an error was expected".into()),
        (None, Err(e)) => Err(format!("the gate did not build: {e}")),
        (None, Ok(gate)) => {
            let d = gate.evaluate(&case.request.as_request()).to_value();
            let want = case
                .expect
                .as_ref()
                .ok_or("the case has neither expect nor expect_error")?;
            subset_mismatch(want, &d, "decision").map_or(Ok(()), Err)
        }
    }
}

/// Reads a vector file.
pub fn load(path: &std::path::Path) -> Result<VectorFile> {
    let bad = |m: String| {
        Error::new(
            ErrorCode::VectorInvalid,
            m,
            "see tests/vectors/README.md for the format",
        )
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let f: VectorFile =
        serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    if f.format != VECTOR_FORMAT {
        return Err(bad(format!(
            "{}: format {:?} is not {VECTOR_FORMAT}",
            path.display(),
            f.format
        )));
    }
    Ok(f)
}

/// The vector files of a directory, sorted by name.
pub fn files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorCode::VectorInvalid,
            format!("cannot read {}: {e}", dir.display()),
            "pass the tests/vectors folder",
        )
    })?;
    let mut out: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("index.json"))
        .collect();
    out.sort();
    Ok(out)
}

/// Result of running every vector of a directory.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// How many cases gave the expected result.
    pub passed: usize,
    /// The cases that did not, as `(case id, why)`.
    pub failed: Vec<(String, String)>,
}

/// Runs every vector file of `dir` (as [`files`] lists them); a file that
/// cannot be read or parsed is an error, a failing case is not.
pub fn run_dir(dir: &std::path::Path) -> Result<Summary> {
    let mut s = Summary::default();
    for path in files(dir)? {
        run_file(&load(&path)?, &mut s);
    }
    Ok(s)
}

/// Runs vector files given as `(name, JSON text)` (for example embedded in
/// a binary).
pub fn run_texts(files: &[(&str, &str)]) -> Result<Summary> {
    let mut s = Summary::default();
    for (name, text) in files {
        let f: VectorFile = serde_json::from_str(text).map_err(|e| {
            Error::new(
                ErrorCode::VectorInvalid,
                format!("{name}: {e}"),
                "see tests/vectors/README.md for the format",
            )
        })?;
        run_file(&f, &mut s);
    }
    Ok(s)
}

fn run_file(f: &VectorFile, s: &mut Summary) {
    let keys = f.keys.to_string();
    for case in &f.cases {
        match run_case(&keys, case) {
            Ok(()) => s.passed += 1,
            Err(why) => s.failed.push((case.id.clone(), why)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::subset_mismatch;
    use serde_json::Value;

    /// tests/matcher/cases.json: the pairs every runtime's matcher must
    /// reject and accept.
    #[test]
    fn the_matcher_can_fail() {
        let f: Value =
            serde_json::from_str(include_str!("../../tests/matcher/cases.json")).unwrap();
        assert_eq!(f["format"], "mfagate-matcher/1");
        for pair in f["differs"].as_array().unwrap() {
            assert!(
                subset_mismatch(&pair[0], &pair[1], "d").is_some(),
                "accepted {pair}"
            );
        }
        for pair in f["same"].as_array().unwrap() {
            assert!(
                subset_mismatch(&pair[0], &pair[1], "d").is_none(),
                "rejected {pair}"
            );
        }
        assert!(f["differs"].as_array().unwrap().len() >= 10);
    }
}
