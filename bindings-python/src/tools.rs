//! What `python -m mfagate` needs beyond the Gate: the core's token
//! inspection and policy linter, as the JSON text the Rust CLI prints with
//! `--json`. Private (`mfagate.__main__` formats them).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn pretty(v: Result<String, serde_json::Error>) -> PyResult<String> {
    v.map_err(|e| PyValueError::new_err(e.to_string()))
}

/// `mfagate inspect`: the inspection of `token` against the policy spec
/// string (a built-in name, JSON text or a policy file), as pretty JSON.
/// Raises ValueError with the Rust CLI's message when it cannot.
#[pyfunction]
#[pyo3(signature = (token, policy, now))]
pub fn _inspect_json(token: &str, policy: &str, now: i64) -> PyResult<String> {
    let policy =
        mfagate::Policy::from_spec_str(policy).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let i = mfagate::inspect::inspect(token, &policy, Some(now))
        .map_err(|r| PyValueError::new_err(format!("{}: {}", r.reason, r.detail)))?;
    pretty(serde_json::to_string_pretty(&i))
}

/// `mfagate policy lint`: every problem of a policy file's text, as pretty JSON.
#[pyfunction]
#[pyo3(signature = (source, is_json, now))]
pub fn _lint_json(source: &str, is_json: bool, now: i64) -> PyResult<String> {
    pretty(serde_json::to_string_pretty(&mfagate::policy::lint::lint(
        source, is_json, now,
    )))
}

/// The core's clock (Unix seconds) and its RFC 3339 formatting.
#[pyfunction]
pub fn _system_now() -> i64 {
    mfagate::system_now()
}

#[pyfunction]
#[pyo3(signature = (secs))]
pub fn _format_rfc3339(secs: i64) -> String {
    mfagate::format_rfc3339(secs)
}
