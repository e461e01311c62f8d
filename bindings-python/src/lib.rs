//! Python binding of mfagate: conversion and idiom only. Every rule, reason
//! code and message comes from the core crate.

mod cache;
mod cli;
mod convert;
mod decision;
mod errors;
mod feed;
mod gate;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// The value of the session cookie `name` in a Cookie header, or None.
/// Several cookies of that name come back joined with ", ", which the gate
/// refuses as `credential_ambiguous` (frameworks disagree on which wins).
#[pyfunction]
#[pyo3(signature = (cookie_header, name))]
fn session_cookie(cookie_header: Option<&str>, name: &str) -> Option<String> {
    mfagate::session_cookie(cookie_header.unwrap_or(""), name)
}

/// Partner Center's `ValidateMfa` request header as the request's
/// `validate_mfa`: "true" in any case is True, another value False, no
/// header None (the core's reading).
#[pyfunction]
#[pyo3(signature = (value))]
fn validate_mfa_header(value: Option<&str>) -> Option<bool> {
    mfagate::validate_mfa_header(value)
}

#[pymodule]
fn _mfagate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BUILTIN_NAMES", PyTuple::new(py, mfagate::BUILTIN_NAMES)?)?;
    m.add("ERRORS_DOC", mfagate::error::ERRORS_DOC)?;
    m.add_function(wrap_pyfunction!(session_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(validate_mfa_header, m)?)?;
    m.add_function(wrap_pyfunction!(cli::_cli, m)?)?;
    m.add_class::<gate::Gate>()?;
    m.add_class::<gate::KeySet>()?;
    m.add_class::<cache::TokenCache>()?;
    m.add_class::<feed::KeyFeed>()?;
    m.add_class::<feed::Fetch>()?;
    m.add_class::<decision::Decision>()?;
    m.add_class::<decision::MfaReport>()?;
    m.add_class::<decision::HttpAnswer>()?;
    m.add_class::<decision::Redirect>()?;
    m.add_class::<decision::Subject>()?;
    m.add_class::<decision::TechnicalException>()?;
    m.add_class::<decision::Message>()?;
    Ok(())
}
