//! `Gate` and `KeySet`: built once from a policy spec and a JWK Set (or a
//! JWKS cache), then `evaluate(...)` with the GIL released.

use crate::cache::TokenCache;
use crate::convert::{to_value, type_name};
use crate::decision::Decision;
use crate::errors;
use crate::feed::KeyFeed;
use mfagate::{Error, ErrorCode, Field, Policy, RequestSpec};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyMapping, PyString, PyTuple};
use std::sync::Arc;

/// Duck-typed protocol of `mfagate.JwksCache` (see python/mfagate/jwks.py):
/// `_feed` is its `_KeyFeed`; `_mfagate_poll() -> now_ms` performs or waits
/// for the fetch the feed asks for before a decision; `_mfagate_more(step)
/// -> now_ms` performs a `_Fetch` or waits ("wait") after one.
const FEED: &str = "_feed";
const POLL: &str = "_mfagate_poll";
const MORE: &str = "_mfagate_more";

fn policy_err(py: Python<'_>, message: String) -> PyErr {
    errors::to_py(
        py,
        &Error::new(
            ErrorCode::PolicyInvalid,
            message,
            "pass a built-in name, a dict such as {\"builtin\": \"partner-center\", \"overrides\": {...}}, or the path of a policy file",
        ),
    )
}

fn jwks_err(py: Python<'_>, message: String) -> PyErr {
    errors::to_py(
        py,
        &Error::new(
            ErrorCode::JwksInvalid,
            message,
            "pass the JWK Set as JSON text, a dict {\"keys\": [...]}, a KeySet or a JwksCache",
        ),
    )
}

fn policy_from_file(py: Python<'_>, path: &str) -> PyResult<Policy> {
    let path = std::path::PathBuf::from(path);
    py.detach(|| Policy::from_file(&path))
        .map_err(|e| errors::to_py(py, &e))
}

/// A policy from what Python passed: a str (a built-in name, JSON text or a
/// policy file's path, by the core's `Policy::from_spec_str`), an
/// `os.PathLike` policy file, or a spec mapping.
fn policy_from(
    py: Python<'_>,
    spec: &Bound<'_, PyAny>,
    overrides: Option<&Bound<'_, PyAny>>,
) -> PyResult<Policy> {
    let base = if let Ok(s) = spec.cast::<PyString>() {
        // The core's one rule for a spec string: a built-in name, JSON text
        // or a policy file's path (read without the GIL).
        let s = s.to_cow()?.into_owned();
        py.detach(|| Policy::from_spec_str(&s))
            .map_err(|e| errors::to_py(py, &e))?
    } else if spec.hasattr("__fspath__")? {
        let p = py.import("os")?.getattr("fspath")?.call1((spec,))?;
        let p: String = p
            .extract()
            .map_err(|_| policy_err(py, "the policy path must be a str path, not bytes".into()))?;
        policy_from_file(py, &p)?
    } else if spec.cast::<PyMapping>().is_ok() {
        let v = to_value(spec)
            .map_err(|m| policy_err(py, format!("the policy spec is not JSON-like: {m}")))?;
        Policy::from_spec(&v).map_err(|e| errors::to_py(py, &e))?
    } else {
        return Err(policy_err(
            py,
            format!("a policy spec cannot be a {}", type_name(spec)),
        ));
    };
    match overrides {
        None => Ok(base),
        Some(o) if o.is_none() => Ok(base),
        Some(o) => {
            let patch = to_value(o)
                .map_err(|m| policy_err(py, format!("overrides are not JSON-like: {m}")))?;
            base.with_overrides(&patch)
                .map_err(|e| errors::to_py(py, &e))
        }
    }
}

/// JWK Set JSON text from a str, bytes or mapping.
fn jwks_text(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map_err(|e| jwks_err(py, format!("the JWK Set is not UTF-8: {e}")));
    }
    if obj.cast::<PyMapping>().is_ok() {
        let v = to_value(obj)
            .map_err(|m| jwks_err(py, format!("the JWK Set is not JSON-like: {m}")))?;
        return Ok(v.to_string());
    }
    Err(jwks_err(
        py,
        format!("a JWK Set cannot be a {}", type_name(obj)),
    ))
}

fn parse_keys(py: Python<'_>, text: &str) -> PyResult<mfagate::KeySet> {
    mfagate::KeySet::from_json(text).map_err(|e| errors::to_py(py, &e))
}

/// A parsed JWK Set (keys mfagate cannot use are skipped, see `skipped`).
#[pyclass(frozen, module = "mfagate")]
pub struct KeySet {
    inner: Arc<mfagate::KeySet>,
}

impl KeySet {
    /// A key set shared with its owner (a refresher), not copied.
    pub(crate) fn shared(inner: Arc<mfagate::KeySet>) -> KeySet {
        KeySet { inner }
    }
}

#[pymethods]
impl KeySet {
    #[new]
    fn py_new(py: Python<'_>, jwks: &Bound<'_, PyAny>) -> PyResult<KeySet> {
        let json = jwks_text(py, jwks)?;
        let inner = Arc::new(parse_keys(py, &json)?);
        Ok(KeySet { inner })
    }
    /// The `kid` of each usable key, in order (None for a key without one).
    #[getter]
    fn kids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.keys().iter().map(|k| k.kid.as_deref()))
    }
    /// Keys that were left out, with why.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.skipped())
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    fn __contains__(&self, kid: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(kid) = kid.cast::<PyString>() else {
            return Ok(false);
        };
        let kid = kid.to_cow()?;
        Ok(self
            .inner
            .keys()
            .iter()
            .any(|k| k.kid.as_deref() == Some(&*kid)))
    }
    fn __repr__(&self) -> String {
        let kids: Vec<&str> = self
            .inner
            .keys()
            .iter()
            .map(|k| k.kid.as_deref().unwrap_or("?"))
            .collect();
        format!("KeySet(kids={kids:?})")
    }
}

/// A policy and the keys that verify tokens for it. Build it once and share
/// it between threads; `evaluate` releases the GIL. The core's `Engine`
/// keeps policy, keys and token cache consistent.
#[pyclass(frozen, module = "mfagate")]
pub struct Gate {
    engine: mfagate::Engine,
    /// With fixed keys (and a policy a Python Gate never changes) the one
    /// snapshot there will ever be: no engine step per decision.
    fixed: Option<Arc<mfagate::Snapshot>>,
    /// The JwksCache the keys come from, if any (it performs the fetches).
    jwks: Option<Py<PyAny>>,
    /// The verified-token cache given as `cache=`, if any.
    cache: Option<Py<TokenCache>>,
}

/// A request field as Python gave it, owned so that the core's [`Field`]
/// can borrow it: every check is the core's (`RequestSpec::from_fields`).
pub(crate) enum Owned {
    Absent,
    Text(String),
    Bool(bool),
    Integer(i64),
    Number(f64),
    Other(String),
}

impl Owned {
    pub(crate) fn of(v: &Bound<'_, PyAny>) -> PyResult<Owned> {
        if v.is_none() {
            return Ok(Owned::Absent);
        }
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(Owned::Text(s.to_cow()?.into_owned()));
        }
        // bool before int: True is an int in Python.
        if let Ok(b) = v.cast::<PyBool>() {
            return Ok(Owned::Bool(b.is_true()));
        }
        if v.cast::<PyInt>().is_ok() {
            return Ok(match v.extract::<i64>() {
                Ok(i) => Owned::Integer(i),
                Err(_) => Owned::Number(v.extract::<f64>().unwrap_or(f64::INFINITY)),
            });
        }
        if let Ok(f) = v.cast::<PyFloat>() {
            return Ok(Owned::Number(f.value()));
        }
        Ok(Owned::Other(type_phrase(v)))
    }

    pub(crate) fn field(&self) -> Field<'_> {
        match self {
            Owned::Absent => Field::Absent,
            Owned::Text(s) => Field::Text(s),
            Owned::Bool(b) => Field::Bool(*b),
            Owned::Integer(i) => Field::Integer(*i),
            Owned::Number(n) => Field::Number(*n),
            Owned::Other(t) => Field::Other(t),
        }
    }
}

/// What a value is, for the core's messages: the contract's words for the
/// JSON types ("a string", "a number", "a boolean"), else the Python type
/// with an article ("a list", "an object").
fn type_phrase(v: &Bound<'_, PyAny>) -> String {
    if v.is_none() {
        return "None".into();
    }
    if v.cast::<PyString>().is_ok() {
        return "a string".into();
    }
    if v.cast::<PyBool>().is_ok() {
        return "a boolean".into();
    }
    if v.cast::<PyInt>().is_ok() || v.cast::<PyFloat>().is_ok() {
        return "a number".into();
    }
    let t = type_name(v);
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// The request from `(key, value)` pairs as Python passed them, through
/// the core's one constructor, with the system clock for a missing `now`.
fn request_of<'a>(
    py: Python<'_>,
    fields: impl IntoIterator<Item = (&'a str, Option<&'a Bound<'a, PyAny>>)>,
) -> PyResult<RequestSpec> {
    let mut owned = Vec::with_capacity(8);
    for (k, v) in fields {
        if let Some(v) = v {
            owned.push((k, Owned::of(v)?));
        }
    }
    RequestSpec::from_fields(
        owned.iter().map(|(k, v)| (*k, v.field())),
        Some(&mfagate::system_now),
    )
    .map_err(|e| errors::to_py(py, &e))
}

/// Decides with the GIL held when no public-key signature must be checked
/// (a refusal before the signature, a cached token, HS256: about 0.5 to 2.5
/// µs, less than handing the GIL to another thread and back costs under
/// contention), else with it released (an RSA verification takes about 20 µs).
fn decide(py: Python<'_>, core: &mfagate::Gate, req: &RequestSpec) -> mfagate::Decision {
    match core.evaluate_cheap(&req.as_request()) {
        mfagate::Step::Done(d) => *d,
        mfagate::Step::Verify(p) => py.detach(|| core.verify_and_complete(&p)),
    }
}

impl Gate {
    fn build(
        py: Python<'_>,
        policy: Policy,
        jwks: Option<&Bound<'_, PyAny>>,
        cache: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Gate> {
        let cache = match cache.filter(|c| !c.is_none()) {
            None => None,
            Some(c) => Some(c.cast::<TokenCache>().map_err(|_| {
                errors::to_py(
                    py,
                    &Error::new(
                        ErrorCode::RequestInvalid,
                        format!("cache must be a mfagate.TokenCache, not a {}", type_name(c)),
                        "pass cache=mfagate.TokenCache(max_entries=..., max_bytes=...), or None",
                    ),
                )
            })?),
        };
        let shared = cache.map(|c| c.get().inner.clone());
        let cache = cache.map(|c| c.clone().unbind());
        let (feed, jwks) = match jwks.filter(|j| !j.is_none()) {
            None => (
                mfagate::KeyFeed::fixed(mfagate::KeySet::empty()).into(),
                None,
            ),
            // Shared, not re-parsed: the KeySet was parsed when it was made.
            Some(j) if j.cast::<KeySet>().is_ok() => {
                let ks = j.cast::<KeySet>()?;
                (
                    mfagate::KeyFeed::fixed_shared(ks.get().inner.clone()).into(),
                    None,
                )
            }
            Some(j) if j.hasattr(FEED)? => {
                let feed = j.getattr(FEED)?;
                let feed = feed.cast::<KeyFeed>()?;
                (feed.get().inner.clone(), Some(j.clone().unbind()))
            }
            Some(j) => {
                let text = jwks_text(py, j)?;
                (mfagate::KeyFeed::fixed(parse_keys(py, &text)?).into(), None)
            }
        };
        let engine = mfagate::Engine::new(policy, feed, shared);
        let fixed = jwks.is_none().then(|| engine.snapshot(0));
        Ok(Gate {
            engine,
            fixed,
            jwks,
            cache,
        })
    }
}

#[pymethods]
impl Gate {
    #[new]
    #[pyo3(signature = (policy, jwks=None, *, overrides=None, cache=None))]
    fn py_new(
        py: Python<'_>,
        policy: &Bound<'_, PyAny>,
        jwks: Option<&Bound<'_, PyAny>>,
        overrides: Option<&Bound<'_, PyAny>>,
        cache: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Gate> {
        let policy = policy_from(py, policy, overrides)?;
        Gate::build(py, policy, jwks, cache)
    }

    /// A gate from a policy file (TOML, or JSON when the name ends in .json).
    #[staticmethod]
    #[pyo3(signature = (path, jwks=None, *, overrides=None, cache=None))]
    fn from_policy_file(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        jwks: Option<&Bound<'_, PyAny>>,
        overrides: Option<&Bound<'_, PyAny>>,
        cache: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Gate> {
        let p: String = py
            .import("os")?
            .getattr("fspath")?
            .call1((path,))?
            .extract()
            .map_err(|_| {
                policy_err(
                    py,
                    "the policy path must be a str or os.PathLike of str".into(),
                )
            })?;
        let policy = policy_from_file(py, &p)?;
        let policy = match overrides {
            Some(o) if !o.is_none() => {
                let patch = to_value(o)
                    .map_err(|m| policy_err(py, format!("overrides are not JSON-like: {m}")))?;
                policy
                    .with_overrides(&patch)
                    .map_err(|e| errors::to_py(py, &e))?
            }
            _ => policy,
        };
        Gate::build(py, policy, jwks, cache)
    }

    /// The policy's name.
    #[getter]
    fn policy_name(&self) -> String {
        self.engine.policy().name().to_owned()
    }

    /// The rule ids, routes first, "default" last.
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let policy = self.engine.policy();
        PyTuple::new(py, policy.rules().iter().map(|r| &*r.id))
    }

    /// The JwksCache this gate reads its keys from, if any.
    #[getter]
    fn jwks_cache(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.jwks.as_ref().map(|j| j.clone_ref(py))
    }

    /// The TokenCache given as `cache=`, if any.
    #[getter]
    fn cache(&self, py: Python<'_>) -> Option<Py<TokenCache>> {
        self.cache.as_ref().map(|c| c.clone_ref(py))
    }

    /// Decides a request. `now` is Unix seconds (the system clock when None).
    #[pyo3(signature = (path, *, method=None, host=None, authorization=None, token=None, now=None, mfa_registered=None, validate_mfa=None))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        method: Option<&Bound<'_, PyAny>>,
        host: Option<&Bound<'_, PyAny>>,
        authorization: Option<&Bound<'_, PyAny>>,
        token: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        mfa_registered: Option<&Bound<'_, PyAny>>,
        validate_mfa: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let req = request_of(
            py,
            [
                ("path", Some(path)),
                ("method", method),
                ("host", host),
                ("authorization", authorization),
                ("token", token),
                ("now", now),
                ("mfa_registered", mfa_registered),
                ("validate_mfa", validate_mfa),
            ],
        )?;
        self.decide_request(py, &req)
    }

    /// Decides a request given as a mapping with the request keys of every
    /// runtime (`{"path": ..., "authorization": ...}`): an unknown key, a
    /// value of the wrong type or a millisecond `now` raise `UsageError`
    /// `request_invalid` with the core's message.
    fn evaluate_request(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let Ok(map) = request.cast::<PyMapping>() else {
            return Err(errors::to_py(
                py,
                &RequestSpec::not_an_object(&type_phrase(request)),
            ));
        };
        let items = map.items()?;
        let mut pairs: Vec<(String, Bound<'_, PyAny>)> = Vec::with_capacity(items.len());
        for item in items.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) => format!("{k}"),
            };
            pairs.push((key, v));
        }
        let req = request_of(py, pairs.iter().map(|(k, v)| (k.as_str(), Some(v))))?;
        self.decide_request(py, &req)
    }

    fn __repr__(&self) -> String {
        let keys = match &self.jwks {
            None => format!("{} keys", self.engine.snapshot(0).gate().keys().len()),
            Some(_) => "a JwksCache".to_owned(),
        };
        let cache = if self.cache.is_some() {
            ", a TokenCache"
        } else {
            ""
        };
        format!(
            "Gate(policy={:?}, {keys}{cache})",
            self.engine.policy().name()
        )
    }
}

impl Gate {
    /// One decision: the feed's fetch first when it asks (performed by the
    /// JwksCache), then once more after fresher keys if the core says so.
    fn decide_request(&self, py: Python<'_>, req: &RequestSpec) -> PyResult<Decision> {
        let Some(jwks) = &self.jwks else {
            if let Some(s) = &self.fixed {
                return Ok(Decision::new(decide(py, s.gate(), req)));
            }
            let snap = self.engine.snapshot(0);
            return Ok(Decision::new(decide(py, snap.gate(), req)));
        };
        let jwks = jwks.bind(py);
        let now_ms: u64 = jwks.call_method0(POLL)?.extract()?;
        let snap = self.engine.snapshot(now_ms);
        let d = decide(py, snap.gate(), req);
        let step = match self.engine.after(&snap, &d, now_ms) {
            mfagate::After::Final => return Ok(Decision::new(d)),
            mfagate::After::Again => None,
            mfagate::After::Fetch(f) => Some(crate::feed::fetch_of(py, f)?),
            mfagate::After::Wait => Some("wait".into_pyobject(py)?.into_any().unbind()),
        };
        let now_ms: u64 = match step {
            Some(step) => jwks.call_method1(MORE, (step,))?.extract()?,
            None => now_ms,
        };
        let snap = self.engine.snapshot(now_ms);
        Ok(Decision::new(decide(py, snap.gate(), req)))
    }
}
