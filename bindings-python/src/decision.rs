//! The decision as immutable Python objects. Each object keeps the core's
//! value and converts a field only when it is read; `to_dict()` builds the
//! JSON form (what `Decision::to_value()` gives) directly, without JSON text.

use mfagate::policy::exceptions::Exception;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::Arc;

type Pairs = Vec<(&'static str, String)>;

fn pairs_tuple<'py>(py: Python<'py>, v: &Pairs) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, v.iter().map(|(n, val)| (*n, val.as_str())))
}

fn pairs_list<'py>(py: Python<'py>, v: &Pairs) -> PyResult<Bound<'py, PyList>> {
    let items = v
        .iter()
        .map(|(n, val)| PyList::new(py, [*n, val.as_str()]))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// The MFA part of a decision.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct MfaReport {
    inner: mfagate::MfaReport,
}

#[pymethods]
impl MfaReport {
    #[getter]
    fn required(&self) -> bool {
        self.inner.required
    }
    #[getter]
    fn satisfied(&self) -> bool {
        self.inner.satisfied
    }
    #[getter]
    fn evidence(&self) -> Option<&'static str> {
        self.inner.evidence
    }
    #[getter]
    fn amr<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.inner
            .amr
            .as_ref()
            .map(|a| PyTuple::new(py, a))
            .transpose()
    }
    #[getter]
    fn auth_time(&self) -> Option<i64> {
        self.inner.auth_time
    }
    #[getter]
    fn max_age(&self) -> Option<u64> {
        self.inner.max_age
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = &self.inner;
        let d = PyDict::new(py);
        d.set_item("required", m.required)?;
        d.set_item("satisfied", m.satisfied)?;
        d.set_item("evidence", m.evidence)?;
        d.set_item(
            "amr",
            m.amr.as_ref().map(|a| PyList::new(py, a)).transpose()?,
        )?;
        d.set_item("auth_time", m.auth_time)?;
        d.set_item("max_age", m.max_age)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "MfaReport(required={}, satisfied={}, evidence={:?})",
            py_bool(self.inner.required),
            py_bool(self.inner.satisfied),
            self.inner.evidence
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The HTTP answer to send.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct HttpAnswer {
    inner: mfagate::HttpAnswer,
}

#[pymethods]
impl HttpAnswer {
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    #[getter]
    fn status_text(&self) -> &'static str {
        self.inner.status_text
    }
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        pairs_tuple(py, &self.inner.headers)
    }
    #[getter]
    fn body(&self) -> &str {
        &self.inner.body
    }
    /// Every header to send with a refusal (the core's list: `headers`, then
    /// Content-Type for a body and Cache-Control: no-store).
    #[getter]
    fn response_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        pairs_tuple(py, &self.inner.response_headers())
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let h = &self.inner;
        let d = PyDict::new(py);
        d.set_item("status", h.status)?;
        d.set_item("status_text", h.status_text)?;
        d.set_item("headers", pairs_list(py, &h.headers)?)?;
        d.set_item("body", h.body.as_str())?;
        d.set_item("response_headers", pairs_list(py, &h.response_headers())?)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "HttpAnswer(status={}, status_text={:?})",
            self.inner.status, self.inner.status_text
        )
    }
}

/// Where to send a user (pages) to do MFA.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct Redirect {
    inner: mfagate::Redirect,
}

#[pymethods]
impl Redirect {
    #[getter]
    fn location(&self) -> &str {
        &self.inner.location
    }
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        pairs_tuple(py, &self.inner.params)
    }
    #[getter]
    fn register_first(&self) -> bool {
        self.inner.register_first
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let d = PyDict::new(py);
        d.set_item("location", r.location.as_str())?;
        d.set_item("params", pairs_list(py, &r.params)?)?;
        d.set_item("register_first", r.register_first)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!("Redirect(location={:?})", self.inner.location)
    }
}

/// Who the token is about.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct Subject {
    inner: mfagate::Subject,
}

#[pymethods]
impl Subject {
    #[getter]
    fn tenant(&self) -> Option<&str> {
        self.inner.tenant.as_deref()
    }
    #[getter]
    fn object_id(&self) -> Option<&str> {
        self.inner.object_id.as_deref()
    }
    #[getter]
    fn user(&self) -> Option<&str> {
        self.inner.user.as_deref()
    }
    #[getter]
    fn app_id(&self) -> Option<&str> {
        self.inner.app_id.as_deref()
    }
    #[getter]
    fn home_tenant(&self) -> Option<&str> {
        self.inner.home_tenant.as_deref()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner;
        let d = PyDict::new(py);
        d.set_item("tenant", s.tenant.as_deref())?;
        d.set_item("object_id", s.object_id.as_deref())?;
        d.set_item("user", s.user.as_deref())?;
        d.set_item("app_id", s.app_id.as_deref())?;
        d.set_item("home_tenant", s.home_tenant.as_deref())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "Subject(tenant={:?}, user={:?})",
            self.inner.tenant, self.inner.user
        )
    }
}

/// A technical exception that suppressed the MFA check.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct TechnicalException {
    inner: Arc<Exception>,
}

#[pymethods]
impl TechnicalException {
    #[getter]
    fn tenant(&self) -> &str {
        &self.inner.tenant
    }
    #[getter]
    fn user(&self) -> Option<&str> {
        self.inner.user.as_deref()
    }
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }
    #[getter]
    fn expires(&self) -> i64 {
        self.inner.expires
    }
    #[getter]
    fn reference(&self) -> Option<&str> {
        self.inner.reference.as_deref()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = &self.inner;
        let d = PyDict::new(py);
        d.set_item("tenant", e.tenant.as_str())?;
        d.set_item("user", e.user.as_deref())?;
        d.set_item("reason", e.reason.as_str())?;
        d.set_item("expires", e.expires)?;
        d.set_item("reference", e.reference.as_deref())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "TechnicalException(tenant={:?}, reason={:?})",
            self.inner.tenant, self.inner.reason
        )
    }
}

/// A message for people, in English, French and Brazilian Portuguese.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct Message {
    inner: mfagate::Message,
}

#[pymethods]
impl Message {
    #[getter]
    fn en(&self) -> &'static str {
        self.inner.en
    }
    #[getter]
    fn fr(&self) -> &'static str {
        self.inner.fr
    }
    #[getter]
    fn pt_br(&self) -> &'static str {
        self.inner.pt_br
    }
    /// The text for a language tag (`en`, `fr`, `pt-BR`; others fall back as the core says).
    fn get(&self, lang: &str) -> &'static str {
        self.inner.get(lang)
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = &self.inner;
        let d = PyDict::new(py);
        d.set_item("en", m.en)?;
        d.set_item("fr", m.fr)?;
        d.set_item("pt-BR", m.pt_br)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!("Message(en={:?})", self.inner.en)
    }
}

/// What to do with a request, and why. Immutable.
#[pyclass(frozen, eq, module = "mfagate")]
#[derive(PartialEq)]
pub struct Decision {
    inner: mfagate::Decision,
}

impl Decision {
    pub fn new(inner: mfagate::Decision) -> Decision {
        Decision { inner }
    }
    pub fn core(&self) -> &mfagate::Decision {
        &self.inner
    }
}

#[pymethods]
impl Decision {
    #[getter]
    fn outcome(&self) -> &'static str {
        self.inner.outcome.as_str()
    }
    #[getter]
    fn reason(&self) -> &'static str {
        self.inner.reason.as_str()
    }
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.is_allowed()
    }
    #[getter]
    fn token_kind(&self) -> Option<&'static str> {
        self.inner.token_kind.map(|k| k.as_str())
    }
    #[getter]
    fn kind_evidence(&self) -> Option<&'static str> {
        self.inner.kind_evidence
    }
    #[getter]
    fn rule(&self) -> Option<&str> {
        self.inner.rule.as_deref()
    }
    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>(),
        )
    }
    #[getter]
    fn mfa(&self) -> MfaReport {
        MfaReport {
            inner: self.inner.mfa.clone(),
        }
    }
    #[getter]
    fn exception(&self) -> Option<TechnicalException> {
        self.inner
            .exception
            .as_ref()
            .map(|e| TechnicalException { inner: e.clone() })
    }
    #[getter]
    fn message(&self) -> Message {
        Message {
            inner: self.inner.message,
        }
    }
    #[getter]
    fn http(&self) -> HttpAnswer {
        HttpAnswer {
            inner: self.inner.http.clone(),
        }
    }
    #[getter]
    fn redirect(&self) -> Option<Redirect> {
        self.inner
            .redirect
            .as_ref()
            .map(|r| Redirect { inner: r.clone() })
    }
    #[getter]
    fn detail(&self) -> Option<&str> {
        self.inner.detail.as_deref()
    }
    #[getter]
    fn subject(&self) -> Option<Subject> {
        self.inner
            .subject
            .as_ref()
            .map(|s| Subject { inner: s.clone() })
    }

    /// The decision's JSON form as a dict (equal to the core's `to_value()`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let x = &self.inner;
        let d = PyDict::new(py);
        d.set_item("outcome", x.outcome.as_str())?;
        d.set_item("reason", x.reason.as_str())?;
        d.set_item("token_kind", x.token_kind.map(|k| k.as_str()))?;
        d.set_item("kind_evidence", x.kind_evidence)?;
        d.set_item("rule", x.rule.as_deref())?;
        d.set_item(
            "roles",
            PyList::new(py, x.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())?,
        )?;
        d.set_item("mfa", self.mfa().to_dict(py)?)?;
        d.set_item(
            "exception",
            self.exception().map(|e| e.to_dict(py)).transpose()?,
        )?;
        d.set_item("message", self.message().to_dict(py)?)?;
        d.set_item("http", self.http().to_dict(py)?)?;
        d.set_item(
            "redirect",
            self.redirect().map(|r| r.to_dict(py)).transpose()?,
        )?;
        d.set_item("detail", x.detail.as_deref())?;
        d.set_item(
            "subject",
            self.subject().map(|s| s.to_dict(py)).transpose()?,
        )?;
        Ok(d)
    }

    /// The decision as JSON text, as the core writes it for audit logs.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(outcome={:?}, reason={:?}, status={})",
            self.inner.outcome.as_str(),
            self.inner.reason.as_str(),
            self.inner.http.status
        )
    }
}
