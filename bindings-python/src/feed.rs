//! `_KeyFeed`: the core's key feed (`mfagate::KeyFeed`: a JWKS source kept
//! fresh by the sans-IO refresher), for `mfagate.JwksCache`
//! (python/mfagate/jwks.py), which only performs the GETs it is asked for
//! and the thread idiom. Every rule (timing, rate limits, URL rules, limits,
//! parsing, discovery, defaults) is the core's.

use crate::errors;
use crate::gate::{KeySet, Owned};
use mfagate::{Poll, RefreshOptions, Spelling};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;

/// A GET the feed asks for; report it with `fetched` or `failed`.
#[pyclass(frozen, module = "mfagate._mfagate", name = "_Fetch")]
pub struct Fetch {
    #[pyo3(get)]
    id: u64,
    #[pyo3(get)]
    url: String,
    /// The whole fetch may take this long (seconds).
    #[pyo3(get)]
    timeout: f64,
    /// Stop reading beyond this many bytes (and report a failure).
    #[pyo3(get)]
    max_bytes: usize,
}

#[pymethods]
impl Fetch {
    fn __repr__(&self) -> String {
        format!("_Fetch(id={}, url={:?})", self.id, self.url)
    }
}

pub(crate) fn fetch_of(py: Python<'_>, f: mfagate::Fetch) -> PyResult<Py<PyAny>> {
    let fetch = Fetch {
        id: f.id,
        url: f.url,
        timeout: f.timeout_ms as f64 / 1000.0,
        max_bytes: f.max_bytes,
    };
    Ok(Py::new(py, fetch)?.into_any())
}

/// The core's answer to "what now": a `_Fetch` to perform, "wait" for the
/// fetch in flight, or None (decide now).
fn poll_value(py: Python<'_>, p: Option<Poll>) -> PyResult<Py<PyAny>> {
    match p {
        Some(Poll::Fetch { fetch, .. }) => fetch_of(py, fetch),
        Some(Poll::Wait) => Ok("wait".into_pyobject(py)?.into_any().unbind()),
        Some(Poll::Ready) | None => Ok(py.None()),
    }
}

fn error_value(py: Python<'_>, e: &mfagate::Error) -> Py<PyAny> {
    errors::to_py(py, e).into_value(py).into_any()
}

/// The core key feed, shared by the gates built on its JwksCache.
#[pyclass(frozen, module = "mfagate._mfagate", name = "_KeyFeed")]
pub struct KeyFeed {
    pub(crate) inner: Arc<mfagate::KeyFeed>,
}

impl KeyFeed {
    fn read<R: Default>(&self, f: impl FnOnce(&mfagate::Refresher) -> R) -> R {
        self.inner.with_refresher(f).unwrap_or_default()
    }
}

#[pymethods]
impl KeyFeed {
    /// Raises UsageError: `jwks_url_invalid` for a source mfagate will not
    /// fetch from, `request_invalid` for an option out of range or unknown.
    #[new]
    #[pyo3(signature = (url, **options))]
    fn py_new(py: Python<'_>, url: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<KeyFeed> {
        let mut owned = Vec::new();
        if let Some(options) = options {
            for (k, v) in options.iter() {
                owned.push((k.extract::<String>()?, Owned::of(&v)?));
            }
        }
        let opts = RefreshOptions::from_fields(
            owned.iter().map(|(k, v)| (k.as_str(), v.field())),
            Spelling::Snake,
            &[],
        )
        .map_err(|e| errors::to_py(py, &e))?;
        let inner = mfagate::KeyFeed::refreshing(url, opts).map_err(|e| errors::to_py(py, &e))?;
        Ok(KeyFeed {
            inner: Arc::new(inner),
        })
    }

    /// Before deciding at `now_ms` (a monotonic clock, milliseconds): a
    /// `_Fetch` to perform now, "wait" (no keys yet and a fetch in flight),
    /// or None.
    fn poll(&self, py: Python<'_>, now_ms: u64) -> PyResult<Py<PyAny>> {
        poll_value(py, Some(self.inner.poll(now_ms)))
    }

    /// Fetch now unless one was tried less than the minimum refresh
    /// interval ago: a `_Fetch`, "wait", or None.
    fn refresh(&self, py: Python<'_>, now_ms: u64) -> PyResult<Py<PyAny>> {
        poll_value(py, self.inner.refresh(now_ms))
    }

    /// Fetch `id` answered `status` with `body`: the next `_Fetch` of the
    /// same attempt (a configuration came: its key set), or None. Raises
    /// JwksError (`jwks_fetch_failed`) for a failed fetch.
    fn fetched(
        &self,
        py: Python<'_>,
        id: u64,
        now_ms: u64,
        status: u16,
        body: &[u8],
    ) -> PyResult<Option<Py<PyAny>>> {
        match self.inner.fetched(id, now_ms, status, body) {
            Ok(Some(f)) => Ok(Some(fetch_of(py, f)?)),
            Ok(None) => Ok(None),
            Err(e) => Err(errors::to_py(py, &e)),
        }
    }

    /// Fetch `id` got no answer: the JwksError (`jwks_fetch_failed`) to log.
    fn failed(&self, py: Python<'_>, id: u64, now_ms: u64, why: &str) -> Py<PyAny> {
        error_value(py, &self.inner.failed(id, now_ms, why))
    }

    /// True while a fetch handed out is not reported yet.
    #[getter]
    fn fetching(&self) -> bool {
        self.inner.fetching()
    }
    /// How long to wait for a fetch in flight at most (seconds).
    #[getter]
    fn wait_bound(&self) -> f64 {
        self.inner.wait_bound_ms() as f64 / 1000.0
    }
    /// The keys in use, or None before the first good set.
    fn keys(&self, now_ms: u64) -> Option<KeySet> {
        let (_, keys) = self.inner.keys_at(now_ms);
        keys.unavailability()
            .is_none()
            .then(|| KeySet::shared(keys))
    }
    /// Whole seconds until the next fetch may be tried (at least 1).
    fn retry_after(&self, now_ms: u64) -> u32 {
        self.read(|r| r.retry_after(now_ms))
    }
    #[getter]
    fn has_keys(&self) -> bool {
        self.read(|r| r.has_keys())
    }
    #[getter]
    fn version(&self) -> u64 {
        self.read(|r| r.version())
    }
    #[getter]
    fn last_error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.read(|r| r.last_error().cloned())
            .map(|e| error_value(py, &e))
    }
    #[getter]
    fn fetches(&self) -> u64 {
        self.read(|r| r.fetches())
    }
    #[getter]
    fn url(&self) -> String {
        self.read(|r| r.url().to_owned())
    }
    #[getter]
    fn jwks_url(&self) -> Option<String> {
        self.read(|r| r.jwks_url().map(str::to_owned))
    }
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.read(|r| r.issuer().map(str::to_owned))
    }
    /// The options in force (the core's defaults for those not given).
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let o = self.read(|r| r.options().clone());
        let d = PyDict::new(py);
        d.set_item("ttl", o.ttl)?;
        d.set_item("min_refresh_interval", o.min_refresh_interval)?;
        d.set_item("timeout", o.timeout)?;
        d.set_item("max_bytes", o.max_bytes)?;
        d.set_item("max_keys", o.max_keys)?;
        Ok(d)
    }
}
