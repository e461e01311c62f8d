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


def _server_host(environ: Environ) -> Optional[str]:
    """``HTTP_HOST``, else ``SERVER_NAME[:SERVER_PORT]`` (the port left out
    when it is the scheme's default), as PEP 3333's URL reconstruction,
    Werkzeug's ``request.host`` and Django's ``get_host()`` read it."""
    host = environ.get("HTTP_HOST")
    if host is not None:
        return str(host)
    name = environ.get("SERVER_NAME")
    if not name:
        return None
    port = str(environ.get("SERVER_PORT") or "")
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return str(name) if port in ("", default) else f"{name}:{port}"


def _hosts(environ: Environ, forwarded_host: bool) -> List[Optional[str]]:
    """The hosts the app may route on, raw: ``X-Forwarded-Host`` when the app
    trusts it (Django's ``USE_X_FORWARDED_HOST``; the whole value, as Django
    reads it) and the server's host; else the server's host alone."""
    host = _server_host(environ)
    forwarded = environ.get("HTTP_X_FORWARDED_HOST")
    if forwarded_host and forwarded is not None:
        return [str(forwarded), host]
    return [host]


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

    The host is ``HTTP_HOST``, else ``SERVER_NAME[:SERVER_PORT]``, as Flask
    (Werkzeug's ``request.host``) and Django (``get_host()``) read it. Behind
    Werkzeug's ``ProxyFix(x_host=1)``, let ``ProxyFix`` wrap this middleware:
    it rewrites ``HTTP_HOST`` from ``X-Forwarded-Host`` first. With Django's
    ``USE_X_FORWARDED_HOST = True``, pass ``forwarded_host=True``: the gate
    then decides under ``X-Forwarded-Host`` and under ``HTTP_HOST``, and any
    refusal wins.
    """

    def __init__(
        self,
        app: WSGIApp,
        gate: Gate,
        *,
        session_token: Optional[Callable[[Environ], Optional[str]]] = None,
        mfa_registered: Optional[Callable[[Environ], Optional[bool]]] = None,
        now: Optional[Callable[[], int]] = None,
        forwarded_host: bool = False,
    ) -> None:
        self.app = app
        self.gate = gate
        self.session_token = session_token
        self.mfa_registered = mfa_registered
        self.now = now
        self.forwarded_host = forwarded_host

    def decide(self, environ: Environ) -> Decision:
        # Several hosts go to the core as one list, which it reads value by
        # value, deciding under every rule any of them selects (any refusal
        # wins): one evaluation, and the rule is the core's, not this file's.
        hosts: List[str] = []
        for h in _hosts(environ, self.forwarded_host):
            if h and h not in hosts:
                hosts.append(h)
        return self.gate.evaluate(
            _path(environ),
            method=environ.get("REQUEST_METHOD") or "GET",
            host=", ".join(hosts) if hosts else None,
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
