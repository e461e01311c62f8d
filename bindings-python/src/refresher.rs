//! `_Refresher`: the core's sans-IO JWKS refresher (`mfagate::Refresher`),
//! for `mfagate.JwksCache` (python/mfagate/jwks.py), which only performs the
//! GETs it asks for and the thread idiom. Every rule (timing, rate limits,
//! URL rules, limits, parsing, discovery) is the core's.

use crate::errors;
use crate::gate::KeySet;
use mfagate::{Next, RefreshOptions};
use pyo3::prelude::*;
use pyo3::types::PyBool;
use std::sync::{Mutex, MutexGuard};

/// A GET the refresher asks for; report it with `fetched` or `failed`.
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

struct State {
    core: mfagate::Refresher,
    /// The fetch handed out and not reported yet (a configuration and its
    /// key set: the one, then the other), so that threads without keys know
    /// what to wait for.
    fetching: Option<u64>,
}

/// The core refresher, shared between threads: each call holds its lock
/// briefly (no I/O happens here), so that a step and what it hands out are
/// one.
#[pyclass(frozen, module = "mfagate._mfagate", name = "_Refresher")]
pub struct Refresher {
    state: Mutex<State>,
}

impl Refresher {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn fetch_of(py: Python<'_>, f: mfagate::Fetch) -> PyResult<Py<PyAny>> {
    let fetch = Fetch {
        id: f.id,
        url: f.url,
        timeout: f.timeout_ms as f64 / 1000.0,
        max_bytes: f.max_bytes,
    };
    Ok(Py::new(py, fetch)?.into_any())
}

fn py_bool(py: Python<'_>, b: bool) -> Py<PyAny> {
    PyBool::new(py, b).to_owned().into_any().unbind()
}

fn error_value(py: Python<'_>, e: &mfagate::Error) -> Py<PyAny> {
    errors::to_py(py, e).into_value(py).into_any()
}

#[pymethods]
impl Refresher {
    /// Raises UsageError: `jwks_url_invalid` for a source mfagate will not
    /// fetch from, `request_invalid` for options out of range.
    #[new]
    #[pyo3(signature = (url, *, ttl, min_refresh_interval, timeout, max_bytes, max_keys))]
    fn py_new(
        py: Python<'_>,
        url: &str,
        ttl: f64,
        min_refresh_interval: f64,
        timeout: f64,
        max_bytes: i64,
        max_keys: i64,
    ) -> PyResult<Refresher> {
        // A negative count is out of range like 0: the core refuses it.
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        let opts = RefreshOptions {
            ttl,
            min_refresh_interval,
            timeout,
            max_bytes: count(max_bytes),
            max_keys: count(max_keys),
        };
        let core = mfagate::Refresher::new(url, opts).map_err(|e| errors::to_py(py, &e))?;
        Ok(Refresher {
            state: Mutex::new(State {
                core,
                fetching: None,
            }),
        })
    }

    /// What to do at `now_ms` (a monotonic clock, milliseconds): a `_Fetch`
    /// to perform, "in_flight" (a fetch is under way), or None (nothing due).
    fn next(&self, py: Python<'_>, now_ms: u64) -> PyResult<Py<PyAny>> {
        let mut st = self.lock();
        match st.core.next(now_ms) {
            Next::Fetch(f) => {
                st.fetching = Some(f.id);
                fetch_of(py, f)
            }
            Next::InFlight => Ok("in_flight".into_pyobject(py)?.into_any().unbind()),
            Next::Idle => Ok(py.None()),
        }
    }

    /// Fetch `id` answered `status` with `body`: True when new keys are in
    /// use; the next `_Fetch` of the same attempt when there is more to
    /// fetch (a configuration came: its key set); False for a late answer.
    /// Raises JwksError (`jwks_fetch_failed`) for a failed fetch.
    fn fetched(
        &self,
        py: Python<'_>,
        id: u64,
        now_ms: u64,
        status: u16,
        body: &[u8],
    ) -> PyResult<Py<PyAny>> {
        let mut st = self.lock();
        let mine = st.fetching == Some(id);
        let got = st.core.fetched(id, now_ms, status, body);
        if !mine {
            return Ok(py_bool(py, false));
        }
        st.fetching = None;
        match got {
            Err(e) => Err(errors::to_py(py, &e)),
            Ok(true) => Ok(py_bool(py, true)),
            Ok(false) => match st.core.next(now_ms) {
                Next::Fetch(f) => {
                    st.fetching = Some(f.id);
                    fetch_of(py, f)
                }
                Next::InFlight | Next::Idle => Ok(py_bool(py, false)),
            },
        }
    }

    /// Fetch `id` got no answer (network error, timeout, too large): the
    /// JwksError (`jwks_fetch_failed`) to report.
    fn failed(&self, py: Python<'_>, id: u64, now_ms: u64, why: &str) -> Py<PyAny> {
        let mut st = self.lock();
        if st.fetching == Some(id) {
            st.fetching = None;
        }
        let e = st.core.failed(id, now_ms, why);
        error_value(py, &e)
    }

    /// True while a fetch handed out is not reported yet.
    #[getter]
    fn fetching(&self) -> bool {
        self.lock().fetching.is_some()
    }

    /// `(version, key_set(now_ms))`, read together.
    fn snapshot(&self, now_ms: u64) -> (u64, KeySet) {
        let st = self.lock();
        (
            st.core.version(),
            KeySet::shared(st.core.key_set_at(now_ms)),
        )
    }

    /// A token named an unknown kid: True when fresher keys may come (a
    /// fetch is in flight, or one is now due).
    fn unknown_kid(&self, now_ms: u64) -> bool {
        self.lock().core.unknown_kid(now_ms)
    }

    /// The keys to decide with at `now_ms`: the last good set, or before the
    /// first one a set that refuses every token with `keys_unavailable`.
    fn key_set(&self, now_ms: u64) -> KeySet {
        KeySet::shared(self.lock().core.key_set_at(now_ms))
    }

    /// Whole seconds until the next fetch may be tried (at least 1).
    fn retry_after(&self, now_ms: u64) -> u32 {
        self.lock().core.retry_after(now_ms)
    }

    #[getter]
    fn version(&self) -> u64 {
        self.lock().core.version()
    }
    #[getter]
    fn has_keys(&self) -> bool {
        self.lock().core.has_keys()
    }
    #[getter]
    fn last_error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let e = self.lock().core.last_error().cloned();
        e.map(|e| error_value(py, &e))
    }
    #[getter]
    fn fetches(&self) -> u64 {
        self.lock().core.fetches()
    }
    #[getter]
    fn url(&self) -> String {
        self.lock().core.url().to_owned()
    }
    #[getter]
    fn jwks_url(&self) -> Option<String> {
        self.lock().core.jwks_url().map(str::to_owned)
    }
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.lock().core.issuer().map(str::to_owned)
    }
    #[getter]
    fn ttl(&self) -> f64 {
        self.lock().core.options().ttl
    }
    #[getter]
    fn min_refresh_interval(&self) -> f64 {
        self.lock().core.options().min_refresh_interval
    }
    #[getter]
    fn timeout(&self) -> f64 {
        self.lock().core.options().timeout
    }
    #[getter]
    fn max_bytes(&self) -> usize {
        self.lock().core.options().max_bytes
    }
    #[getter]
    fn max_keys(&self) -> usize {
        self.lock().core.options().max_keys
    }
}
