"""Issue 18, item 1 (binding side): the ASGI and WSGI middleware pass the host
the framework routes on, raw, so a host-scoped MFA route cannot be bypassed by
a spelling the framework still routes to the admin host, by the server-name
fallback when there is no Host header, or by a trusted X-Forwarded-Host.
Real Starlette (uvicorn), Flask (waitress) and Django (waitress)."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import socket
import threading
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from flask import Flask, jsonify, request
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Host, Route, Router

import mfagate
from conftest import JWKS, TENANT, claims, free_port, mint, uvicorn_server, wsgi_server
from mfagate import asgi, wsgi

ADMIN = "admin.contoso.example"
POLICY = {
    "builtin": "partner-center",
    "overrides": {
        "token": {"partner_tenants": [TENANT]},
        "routes": {"admin": {"paths": ["/**"], "hosts": [ADMIN], "mfa": True}},
    },
}
NOW = int(time.time())
MFA = "Bearer " + mint(claims(NOW))
PWD = "Bearer " + mint(claims(NOW, amr=["pwd"]))


def mfagate_now() -> int:
    return NOW


def get(base: str, path: str, headers: Dict[str, str]) -> Tuple[int, Dict[str, Any]]:
    """One HTTP/1.1 request with the Host header exactly as given."""
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def refused_on_admin(base: str, headers: Dict[str, str], label: str) -> None:
    """With MFA the framework routes to the admin app (so it read the admin
    host); without MFA the gate refuses."""
    status, body = get(base, "/settings", dict(headers, authorization=MFA))
    assert status == 200, (label, body)
    assert body["route"] == "admin", (label, body)
    assert body["rule"] == "admin", (label, body)
    status, body = get(base, "/settings", dict(headers, authorization=PWD))
    assert status == 401, (label, "a token without MFA was let through", body)
    assert body["reason"] == "mfa_required", (label, body)


def allowed_elsewhere(base: str, headers: Dict[str, str], label: str) -> None:
    status, body = get(base, "/settings", dict(headers, authorization=PWD))
    assert status == 200, (label, body)
    assert body["route"] == "other" and body["rule"] == "default", (label, body)


# --- ASGI: Starlette's Host route -----------------------------------------


def _starlette(route: str) -> Any:
    async def echo(req: Any) -> JSONResponse:
        d = asgi.decision_of(req.scope)
        return JSONResponse({"route": route, "rule": d.rule if d else None})

    return echo


@pytest.fixture(scope="module")
def starlette_base() -> Iterator[str]:
    gate = mfagate.Gate(POLICY, JWKS)
    app = Starlette(routes=[
        Host(ADMIN, app=Router(routes=[Route("/{rest:path}", _starlette("admin"))])),
        Route("/{rest:path}", _starlette("other")),
    ])
    app.add_middleware(asgi.MfagateMiddleware, gate=gate, now=mfagate_now)
    with uvicorn_server(app) as url:
        yield url


@pytest.mark.parametrize("host", [ADMIN, "ADMIN.Contoso.Example", f"{ADMIN}:8443"])
def test_starlette_host_spellings_of_the_admin_host(starlette_base: str, host: str) -> None:
    refused_on_admin(starlette_base, {"host": host}, host)


def test_starlette_other_host_is_the_default_rule(starlette_base: str) -> None:
    allowed_elsewhere(starlette_base, {"host": "www.contoso.example"}, "www")


@contextlib.contextmanager
def hypercorn_server(app: Any) -> Iterator[str]:
    """Serves an ASGI app with hypercorn (HTTP/1.1 and h2c) in a thread."""
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait, mode="asgi"))  # type: ignore[arg-type]

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and t.is_alive(), "hypercorn did not start"
            time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(10)


def test_starlette_on_hypercorn_http2_reads_authority() -> None:
    """Over HTTP/2 there is no Host header: hypercorn hands ``:authority`` to
    the app as its first ``host`` header, Starlette's ``Host`` route matches
    on it, and so does the gate."""
    import httpx

    gate = mfagate.Gate(POLICY, JWKS)
    app = Starlette(routes=[
        Host(ADMIN, app=Router(routes=[Route("/{rest:path}", _starlette("admin"))])),
        Route("/{rest:path}", _starlette("other")),
    ])
    app.add_middleware(asgi.MfagateMiddleware, gate=gate, now=mfagate_now)
    with hypercorn_server(app) as url, httpx.Client(base_url=url, http1=False, http2=True, timeout=10) as client:
        for authority in (ADMIN, f"{ADMIN}:8443", "ADMIN.Contoso.Example"):
            # httpx sends the Host header's value as :authority over HTTP/2.
            r = client.get("/settings", headers={"host": authority, "authorization": MFA})
            assert r.http_version == "HTTP/2", r.http_version
            assert r.status_code == 200 and r.json() == {"route": "admin", "rule": "admin"}, (authority, r.text)
            r = client.get("/settings", headers={"host": authority, "authorization": PWD})
            assert r.status_code == 401 and r.json()["reason"] == "mfa_required", (authority, r.text)
        r = client.get("/settings", headers={"host": "www.contoso.example", "authorization": PWD})
        assert r.status_code == 200 and r.json() == {"route": "other", "rule": "default"}, r.text


async def _call(app: Any, scope: Dict[str, Any]) -> List[Dict[str, Any]]:
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(m: Any) -> None:
        sent.append(dict(m))

    await app(scope, receive, send)
    return sent


def test_asgi_without_a_host_header_reads_the_server_like_starlette() -> None:
    """An HTTP/2 server that leaves ``:authority`` out of the headers (or an
    HTTP/1.0 request): Starlette's URL is built from ``scope["server"]``."""
    import asyncio

    seen: List[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request

        seen.append(Request(scope).url.hostname or "")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mw = asgi.MfagateMiddleware(app, mfagate.Gate(POLICY, JWKS), now=mfagate_now)
    for server, scheme in (((ADMIN, 443), "https"), ((ADMIN, 8443), "https"), ((ADMIN, 80), "http")):
        scope = {"type": "http", "method": "GET", "path": "/settings", "scheme": scheme, "server": server,
                 "headers": [(b"authorization", MFA.encode())]}
        asyncio.run(_call(mw, scope))
        assert seen[-1] == ADMIN
        scope["headers"] = [(b"authorization", PWD.encode())]
        sent = asyncio.run(_call(mw, scope))
        assert sent[0]["status"] == 401, (server, sent)


# --- WSGI: Flask host matching, Django get_host ---------------------------


@pytest.fixture(scope="module")
def flask_base() -> Iterator[str]:
    gate = mfagate.Gate(POLICY, JWKS)
    app = Flask(__name__, host_matching=True, static_host=ADMIN)

    def echo(route: str) -> Any:
        d = wsgi.decision_of(request.environ)
        return jsonify(route=route, rule=d.rule if d else None, host=request.host)

    app.add_url_rule("/<path:rest>", "admin", lambda **_: echo("admin"), host=ADMIN)
    app.add_url_rule("/<path:rest>", "other", lambda **_: echo("other"), host="<anyhost>")
    app.wsgi_app = wsgi.MfagateMiddleware(app.wsgi_app, gate, now=mfagate_now)  # type: ignore[method-assign]
    with wsgi_server(app, "waitress") as url:
        yield url


@pytest.mark.parametrize("host", [ADMIN, "ADMIN.Contoso.Example"])
def test_flask_host_spellings_of_the_admin_host(flask_base: str, host: str) -> None:
    refused_on_admin(flask_base, {"host": host}, host)


def test_flask_other_host_is_the_default_rule(flask_base: str) -> None:
    allowed_elsewhere(flask_base, {"host": "www.contoso.example"}, "www")


def test_flask_behind_proxyfix_decides_the_forwarded_host() -> None:
    """``ProxyFix(x_host=1)`` wrapping the middleware: Flask routes on the
    forwarded host, and so does the gate."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    gate = mfagate.Gate(POLICY, JWKS)
    app = Flask(__name__, host_matching=True, static_host=ADMIN)

    def echo(route: str) -> Any:
        d = wsgi.decision_of(request.environ)
        return jsonify(route=route, rule=d.rule if d else None)

    app.add_url_rule("/<path:rest>", "admin", lambda **_: echo("admin"), host=ADMIN)
    app.add_url_rule("/<path:rest>", "other", lambda **_: echo("other"), host="<anyhost>")
    app.wsgi_app = ProxyFix(wsgi.MfagateMiddleware(app.wsgi_app, gate, now=mfagate_now), x_host=1)  # type: ignore[method-assign]
    # wsgiref: waitress removes an untrusted X-Forwarded-Host itself.
    with wsgi_server(app, "wsgiref") as url:
        refused_on_admin(url, {"host": "127.0.0.1", "x-forwarded-host": ADMIN}, "ProxyFix")
        allowed_elsewhere(url, {"host": "127.0.0.1", "x-forwarded-host": "www.contoso.example"}, "ProxyFix www")


def test_wsgi_without_http_host_reads_server_name_like_pep_3333() -> None:
    gate = mfagate.Gate(POLICY, JWKS)
    mw = wsgi.MfagateMiddleware(lambda e, s: [b""], gate, now=mfagate_now)
    for name, port, scheme in ((ADMIN, "443", "https"), (ADMIN, "8080", "http"), ("ADMIN.contoso.example", "80", "http")):
        env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/settings", "SERVER_NAME": name, "SERVER_PORT": port,
               "wsgi.url_scheme": scheme, "HTTP_AUTHORIZATION": PWD}
        d = mw.decide(env)
        assert (d.outcome, d.reason, d.rule) == ("step_up", "mfa_required", "admin"), (name, port, d)


def _django_host_app(gate: mfagate.Gate) -> Any:
    import test_wsgi  # configures Django settings once for the whole session

    test_wsgi.django_app(gate)
    from django.core.wsgi import get_wsgi_application

    return wsgi.MfagateMiddleware(get_wsgi_application(), gate, now=mfagate_now, forwarded_host=True)


def test_django_use_x_forwarded_host() -> None:
    """With ``USE_X_FORWARDED_HOST = True`` Django's ``get_host()`` is the
    X-Forwarded-Host; ``forwarded_host=True`` makes the gate decide under it
    (and under Host: any refusal wins)."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.test import override_settings

    gate = mfagate.Gate(POLICY, JWKS)
    app = _django_host_app(gate)
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/settings", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
           "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_HOST": ADMIN, "wsgi.input": io.BytesIO()}
    with override_settings(USE_X_FORWARDED_HOST=True):
        assert WSGIRequest(env).get_host() == ADMIN
        # wsgiref: waitress removes an untrusted X-Forwarded-Host itself.
        with wsgi_server(app, "wsgiref") as url:
            status, body = get(url, "/settings", {"host": "127.0.0.1", "x-forwarded-host": ADMIN, "authorization": PWD})
            assert status == 401 and body["reason"] == "mfa_required", body
            status, body = get(url, "/settings", {"host": "127.0.0.1", "x-forwarded-host": ADMIN, "authorization": MFA})
            assert status == 200, body
            # the Host header still counts (any refusal wins)
            status, body = get(url, "/settings", {"host": ADMIN, "x-forwarded-host": "www.contoso.example",
                                                  "authorization": PWD})
            assert status == 401, body
            status, body = get(url, "/settings", {"host": "127.0.0.1", "x-forwarded-host": "www.contoso.example",
                                                  "authorization": PWD})
            assert status == 200, body


def test_wsgi_forwarded_host_is_off_by_default() -> None:
    gate = mfagate.Gate(POLICY, JWKS)
    mw = wsgi.MfagateMiddleware(lambda e, s: [b""], gate, now=mfagate_now)
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/settings", "HTTP_HOST": "www.contoso.example",
           "HTTP_X_FORWARDED_HOST": ADMIN, "HTTP_AUTHORIZATION": PWD}
    assert mw.decide(env).outcome == "allow"
    assert wsgi.MfagateMiddleware(lambda e, s: [b""], gate, now=mfagate_now, forwarded_host=True).decide(env).outcome != "allow"
