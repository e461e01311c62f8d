"""WSGI middleware (Flask, Django, any WSGI app).

On allow, the app runs with the decision in ``environ["mfagate.decision"]``
(``request.environ`` in Flask, ``request.META`` in Django), and its response
carries the decision's headers (``isMfaCompliant`` when the request asked
with ``ValidateMfa: true``, under the 2026 rules). Otherwise the
middleware answers with the decision's HTTP answer: status and reason phrase
(``401 Unauthorized - MFA required`` where the rules say so), its headers in
order, its JSON body (a 302 to the sign-in URL for pages).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ._mfagate import Decision, Gate
from ._paths import raw_path, raw_path_bytes, response_headers, validate_mfa

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ENVIRON_KEY = "mfagate.decision"


def _path(environ: Environ) -> str:
    """PATH_INFO, the path Flask, Django and any WSGI router dispatch on.
    SCRIPT_NAME is where the app is mounted (or what a proxy's
    X-Forwarded-Prefix says); the app never routes on it."""
    # WSGI gives the decoded path as latin-1 characters standing for bytes.
    path = environ.get("PATH_INFO") or "/"
    if path.isascii():
        return raw_path(path)
    return raw_path_bytes(path.encode("latin-1", "replace"))


def _adding_headers(start_response: StartResponse, extra: List[Tuple[str, str]]) -> StartResponse:
    """``start_response`` that puts the decision's headers on the app's
    response (replacing the app's own of the same names)."""
    names = {n.lower() for n, _ in extra}

    def start_response_with_headers(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(k, v) for k, v in headers if k.lower() not in names]
        if exc_info is None:
            return start_response(status, kept + extra)
        return start_response(status, kept + extra, exc_info)

    return start_response_with_headers


class MfagateMiddleware:
    """Enforces a :class:`mfagate.Gate` in front of a WSGI app.

    The gate decides for ``PATH_INFO``, the path the app routes on, so
    inside a mount the policy's paths are relative to the mount.

    ``session_token(environ)`` may return the raw session token (an ID token
    from a cookie, for pages); ``mfa_registered(environ)`` whether the user has
    an MFA method (False turns a redirect into "register first"). ``now()``,
    when given, is the clock decisions are made at (Unix seconds; the system
    clock otherwise), for tests with fixed tokens.
    """

    def __init__(
        self,
        app: WSGIApp,
        gate: Gate,
        *,
        session_token: Optional[Callable[[Environ], Optional[str]]] = None,
        mfa_registered: Optional[Callable[[Environ], Optional[bool]]] = None,
        now: Optional[Callable[[], int]] = None,
    ) -> None:
        self.app = app
        self.gate = gate
        self.session_token = session_token
        self.mfa_registered = mfa_registered
        self.now = now

    def decide(self, environ: Environ) -> Decision:
        return self.gate.evaluate(
            _path(environ),
            method=environ.get("REQUEST_METHOD") or "GET",
            host=environ.get("HTTP_HOST"),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            token=self.session_token(environ) if self.session_token else None,
            mfa_registered=self.mfa_registered(environ) if self.mfa_registered else None,
            validate_mfa=validate_mfa(environ.get("HTTP_VALIDATEMFA")),
            now=self.now() if self.now is not None else None,
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        decision = self.decide(environ)
        if decision.allowed:
            environ[ENVIRON_KEY] = decision
            extra = list(decision.http.headers)
            return self.app(environ, _adding_headers(start_response, extra) if extra else start_response)
        http = decision.http
        body = http.body.encode("utf-8")
        headers: List[Tuple[str, str]] = response_headers(http.response_headers, body)
        start_response(f"{http.status} {http.status_text}", headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [body]


def decision_of(environ: Environ) -> Optional[Decision]:
    """The decision the middleware stored for this request (None if none)."""
    d = environ.get(ENVIRON_KEY)
    return d if isinstance(d, Decision) else None
