//! Core errors to the Python exception classes of `mfagate._errors`, picked
//! by `ErrorCode::family()`.

use mfagate::Error;
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn class_name(family: &str) -> &'static str {
    match family {
        "policy" => "PolicyError",
        "key" => "JwksError",
        "usage" => "UsageError",
        _ => "MfagateError",
    }
}

/// The Python exception for a core error.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    match build(py, e) {
        Ok(err) => err,
        Err(import_failed) => import_failed,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("mfagate._errors")?;
    let cls = module.getattr(class_name(e.code.family()))?;
    let kw = PyDict::new(py);
    kw.set_item("code", e.code.as_str())?;
    kw.set_item("hint", e.hint.as_str())?;
    kw.set_item("line", e.line)?;
    kw.set_item("doc_url", e.code.doc_url())?;
    let inst = cls.call((e.message.as_str(),), Some(&kw))?;
    Ok(PyErr::from_value(inst))
}
