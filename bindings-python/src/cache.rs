//! `TokenCache`: the core's verified-token cache (`mfagate::TokenCache`),
//! handed to `Gate(..., cache=...)`. Bounds are checked by the core.

use crate::errors;
use mfagate::{CacheOptions, Field};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt};
use std::sync::Arc;

/// A bound as Python passed it, for the core's `CacheOptions::from_fields`.
fn field<'a>(v: Option<&Bound<'_, PyAny>>, name: &'a mut String) -> Field<'a> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Field::Absent;
    };
    // bool before int: True is an int in Python.
    if v.cast::<PyBool>().is_ok() {
        return Field::Bool(v.is_truthy().unwrap_or(false));
    }
    if v.cast::<PyInt>().is_ok() {
        return match v.extract::<i64>() {
            Ok(i) => Field::Integer(i),
            Err(_) => Field::Number(f64::INFINITY),
        };
    }
    *name = match v.get_type().name() {
        Ok(t) => format!("a {t}"),
        Err(_) => "another type".to_owned(),
    };
    Field::Other(name)
}

/// A bounded cache of verified tokens, shared by the gates given it.
#[pyclass(frozen, module = "mfagate")]
pub struct TokenCache {
    pub(crate) inner: Arc<mfagate::TokenCache>,
}

#[pymethods]
impl TokenCache {
    /// Raises UsageError `request_invalid` for a bound that is not a whole
    /// number or too small to keep anything.
    #[new]
    #[pyo3(signature = (*, max_entries=None, max_bytes=None))]
    fn py_new(
        py: Python<'_>,
        max_entries: Option<&Bound<'_, PyAny>>,
        max_bytes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TokenCache> {
        let (mut a, mut b) = (String::new(), String::new());
        let fields = [
            ("max_entries", field(max_entries, &mut a)),
            ("max_bytes", field(max_bytes, &mut b)),
        ];
        let opts = CacheOptions::from_fields(fields).map_err(|e| errors::to_py(py, &e))?;
        let inner = mfagate::TokenCache::try_new(opts).map_err(|e| errors::to_py(py, &e))?;
        Ok(TokenCache {
            inner: Arc::new(inner),
        })
    }

    /// The most tokens it keeps.
    #[getter]
    fn max_entries(&self) -> usize {
        self.inner.options().max_entries
    }

    /// About the most bytes of tokens and claims it keeps.
    #[getter]
    fn max_bytes(&self) -> usize {
        self.inner.options().max_bytes
    }

    /// `{"hits", "misses", "entries", "bytes"}`, for metrics.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("entries", s.entries)?;
        d.set_item("bytes", s.bytes)?;
        Ok(d)
    }

    /// Forgets every token.
    fn clear(&self) {
        self.inner.clear();
    }

    fn __len__(&self) -> usize {
        self.inner.stats().entries
    }

    fn __repr__(&self) -> String {
        let o = self.inner.options();
        format!(
            "TokenCache(max_entries={}, max_bytes={})",
            o.max_entries, o.max_bytes
        )
    }
}
