"""ASGI middleware (Starlette, FastAPI, any ASGI 3 app).

On allow, the app runs with the decision in ``scope["mfagate.decision"]``,
and its response carries the decision's headers (``isMfaCompliant`` when the
request asked with ``ValidateMfa: true``, under the 2026 rules). Otherwise the middleware answers with the decision's HTTP answer: its status,
its headers in order, its JSON body (a 302 to the sign-in URL for pages).
ASGI cannot carry a reason phrase: the server sends the standard one for the
status (the WSGI middleware sends the decision's ``status_text``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple

from ._mfagate import Decision, Gate
from ._paths import asgi_route_path, response_headers, validate_mfa

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCOPE_KEY = "mfagate.decision"


def _headers(scope: Scope) -> Dict[str, str]:
    """Host (first value, as frameworks read it), Authorization and
    ValidateMfa (all values joined, so that two credentials never pass as
    one, and two ValidateMfa lines are not "true")."""
    out: Dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        n = bytes(name).lower()
        if n in (b"authorization", b"validatemfa"):
            key, v = n.decode("ascii"), bytes(value).decode("latin-1")
            out[key] = out[key] + ", " + v if key in out else v
        elif n == b"host" and "host" not in out:
            out["host"] = bytes(value).decode("latin-1")
    return out


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host(scope: Scope, headers: Dict[str, str]) -> Optional[str]:
    """The host the app routes on, raw: the first ``host`` header, as
    Starlette's ``Host`` routes and ``request.url`` read it (HTTP/2 servers
    put ``:authority`` there: hypercorn makes it the first ``host`` header);
    without one, ``scope["server"]`` as Starlette's URL spells it (the port
    left out when it is the scheme's default)."""
    host = headers.get("host")
    if host is not None:
        return host
    server = scope.get("server")
    if not server or len(server) < 2 or server[1] is None:
        return None
    name, port = str(server[0]), server[1]
    scheme = scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http")
    return name if port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"


def _adding_headers(send: Send, extra: "tuple[tuple[str, str], ...]") -> Send:
    """``send`` that puts the decision's headers on the app's response
    (replacing the app's own of the same names)."""
    names = {n.lower().encode("latin-1") for n, _ in extra}
    encoded: List[Tuple[bytes, bytes]] = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in extra]

    async def send_with_headers(message: ASGIMessage) -> None:
        if message.get("type") == "http.response.start":
            kept = [(bytes(k), bytes(v)) for k, v in message.get("headers") or () if bytes(k).lower() not in names]
            message = dict(message, headers=kept + encoded)
        await send(message)

    return send_with_headers


class MfagateMiddleware:
    """Enforces a :class:`mfagate.Gate` in front of an ASGI app.

    The gate decides for the path the app routes on: ``scope["path"]``
    without ``scope["root_path"]`` (as Starlette and FastAPI do), so inside a
    mount the policy's paths are relative to the mount.

    ``session_token(scope)`` may return the raw session token (an ID token
    from a cookie, for pages); ``mfa_registered(scope)`` whether the user has
    an MFA method (False turns a redirect into "register first"). ``now()``,
    when given, is the clock decisions are made at (Unix seconds; the system
    clock otherwise), for tests with fixed tokens. With a JwksCache the
    evaluation runs in a worker thread (a fetch may block).

    The host is the first ``host`` header (hypercorn puts HTTP/2's
    ``:authority`` there), else ``scope["server"]``, as Starlette reads it.
    Starlette and FastAPI never read ``X-Forwarded-Host``; a proxy-fix
    middleware that rewrites the ``host`` header from it (hypercorn's
    ``ProxyFixMiddleware``) must wrap this one, so the gate sees the host
    the app routes on.
    """

    def __init__(
        self,
        app: ASGIApp,
        gate: Gate,
        *,
        session_token: Optional[Callable[[Scope], Optional[str]]] = None,
        mfa_registered: Optional[Callable[[Scope], Optional[bool]]] = None,
        offload: Optional[bool] = None,
        now: Optional[Callable[[], int]] = None,
    ) -> None:
        self.app = app
        self.gate = gate
        self.session_token = session_token
        self.mfa_registered = mfa_registered
        self.now = now
        self.offload = gate.jwks_cache is not None if offload is None else offload

    def decide(self, scope: Scope) -> Decision:
        """The decision for an HTTP or WebSocket scope."""
        headers = _headers(scope)
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        return self.gate.evaluate(
            asgi_route_path(scope.get("path") or "/", scope.get("root_path") or "", scope.get("raw_path")),
            method=method,
            host=_host(scope, headers),
            authorization=headers.get("authorization"),
            token=self.session_token(scope) if self.session_token else None,
            mfa_registered=self.mfa_registered(scope) if self.mfa_registered else None,
            validate_mfa=validate_mfa(headers.get("validatemfa")),
            now=self.now() if self.now is not None else None,
        )

    async def _decide(self, scope: Scope) -> Decision:
        if not self.offload:
            return self.decide(scope)
        try:
            import anyio.to_thread

            return await anyio.to_thread.run_sync(self.decide, scope)
        except ImportError:  # pragma: no cover - anyio comes with Starlette
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, functools.partial(self.decide, scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        decision = await self._decide(scope)
        if decision.allowed:
            scope = dict(scope)
            scope[SCOPE_KEY] = decision
            extra = decision.http.headers
            await self.app(scope, receive, _adding_headers(send, extra) if extra and kind == "http" else send)
            return
        http = decision.http
        body = http.body.encode("utf-8")
        headers = [
            (n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in response_headers(http.response_headers, body)
        ]
        if kind == "http":
            await send({"type": "http.response.start", "status": http.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        # WebSocket: refuse the handshake with the same HTTP answer when the
        # server supports the denial-response extension, else close (1008).
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await send({"type": "websocket.http.response.start", "status": http.status, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})


def decision_of(scope: Scope) -> Optional[Decision]:
    """The decision the middleware stored for this request (None if none)."""
    d = scope.get(SCOPE_KEY)
    return d if isinstance(d, Decision) else None
