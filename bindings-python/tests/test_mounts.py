"""Mounts and prefixes: the gate decides for the path the framework routes on.

Starlette and FastAPI route on scope["path"] without scope["root_path"];
Flask and Django route on PATH_INFO (SCRIPT_NAME is the mount point). A gate
handed the full path would decide for /api/v1/customers (the default rule, no
MFA) while the app serves /v1/customers (the API, MFA required). Every case
runs a real server on 127.0.0.1: uvicorn, waitress or wsgiref."""

from __future__ import annotations

import warnings
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.exceptions import FastAPIDeprecationWarning
from flask import Flask, jsonify, request
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

import mfagate
import test_wsgi
from conftest import JWKS, claims, mint, uvicorn_server, wsgi_server
from mfagate import asgi, wsgi

PWD = "Bearer " + mint(claims(amr=["pwd"]))  # App+User, amr = ["pwd"]: no MFA
MFA = "Bearer " + mint(claims())  # App+User, MFA done


@pytest.fixture
def hits() -> List[str]:
    return []


def assert_partner_center_401(r: httpx.Response, hits: List[str]) -> None:
    """Partner Center's MFA refusal, from the gate: the handler never ran."""
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert r.json()["reason"] == "mfa_required"
    assert hits == []


def assert_reached(r: httpx.Response, hits: List[str], path: str = "/v1/customers") -> None:
    assert r.status_code == 200, r.text
    assert r.json() == {"reason": "mfa_satisfied", "path": path}
    assert hits == [path]


# --- ASGI ---------------------------------------------------------------------


def starlette_inner(hits: List[str]) -> Starlette:
    async def customers(req: Any) -> JSONResponse:
        d = asgi.decision_of(req.scope)
        hits.append("/v1/customers")  # the only route: reaching it is what counts
        return JSONResponse({"reason": d.reason if d else None, "path": "/v1/customers"})

    return Starlette(routes=[Route("/v1/customers", customers)])


def fastapi_inner(hits: List[str], **kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.get("/v1/customers")
    def customers(req: Request) -> Dict[str, Any]:
        d = req.scope["mfagate.decision"]
        hits.append("/v1/customers")
        return {"reason": d.reason, "path": "/v1/customers"}

    return app


@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
def test_uvicorn_root_path(framework: str, hits: List[str]) -> None:
    # uvicorn --root-path /api behind a proxy that strips /api: the request
    # for /v1/customers gets scope["path"] = /api/v1/customers and
    # root_path = /api; the app routes on /v1/customers.
    gate = mfagate.Gate("partner-center", JWKS)
    app: Any = starlette_inner(hits) if framework == "starlette" else fastapi_inner(hits)
    app.add_middleware(asgi.MfagateMiddleware, gate=gate)
    with uvicorn_server(app, root_path="/api") as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/v1/customers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/v1/customers", headers={"Authorization": MFA}), hits)


def test_starlette_mount(hits: List[str]) -> None:
    gate = mfagate.Gate("partner-center", JWKS)
    outer = Starlette(routes=[Mount("/api", app=asgi.MfagateMiddleware(starlette_inner(hits), gate))])
    with uvicorn_server(outer) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/api/v1/customers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/api/v1/customers", headers={"Authorization": MFA}), hits)


def test_starlette_mount_wire_spelling(hits: List[str]) -> None:
    # The mount point spelled with escapes on the wire: Starlette decodes it
    # (/api) and routes /v1/customers inside; so does the gate.
    gate = mfagate.Gate("partner-center", JWKS)
    outer = Starlette(routes=[Mount("/api", app=asgi.MfagateMiddleware(starlette_inner(hits), gate))])
    with uvicorn_server(outer) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/%61pi/v1/%63ustomers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/%61pi/v1/customers", headers={"Authorization": MFA}), hits)


def test_fastapi_root_path(hits: List[str]) -> None:
    # FastAPI(root_path=...) (deprecated in favour of the server's root path,
    # still honoured): it sets scope["root_path"] and routes without it.
    gate = mfagate.Gate("partner-center", JWKS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastAPIDeprecationWarning)
        app = fastapi_inner(hits, root_path="/api")
    app.add_middleware(asgi.MfagateMiddleware, gate=gate)
    with uvicorn_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/api/v1/customers", headers={"Authorization": PWD}), hits)
        assert_partner_center_401(c.get("/v1/customers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/api/v1/customers", headers={"Authorization": MFA}), hits)


def test_asgi_middleware_outside_a_mount_sees_the_full_path(hits: List[str]) -> None:
    # Outside the mount the gate sees /api/v1/customers: the policy's paths
    # must carry the prefix (docs/python.md, "Paths and mounts").
    policy = {"builtin": "partner-center", "overrides": {"routes": {"api": {"paths": ["/api/v1/**"]}}}}
    gate = mfagate.Gate(policy, JWKS)
    outer = asgi.MfagateMiddleware(Starlette(routes=[Mount("/api", app=starlette_inner(hits))]), gate)
    with uvicorn_server(outer) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/api/v1/customers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/api/v1/customers", headers={"Authorization": MFA}), hits)


def test_asgi_mount_point_itself_is_decided_as_slash(hits: List[str]) -> None:
    # FastAPI(root_path="/api") and GET /api: the route path is "" (Starlette
    # redirects it to /api/); the gate decides for "/", not for a path it
    # cannot parse (400).
    gate = mfagate.Gate("partner-center", JWKS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastAPIDeprecationWarning)
        app = FastAPI(root_path="/api")

    @app.get("/")
    def root() -> Dict[str, str]:
        hits.append("/")
        return {"root": "yes"}

    app.add_middleware(asgi.MfagateMiddleware, gate=gate)
    with uvicorn_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/api", headers={"Authorization": PWD})
        assert r.status_code == 307, r.text
        assert r.headers["location"].endswith("/api/") and hits == []
        r = c.get("/api/", headers={"Authorization": PWD})
        assert (r.status_code, r.json(), hits) == (200, {"root": "yes"}, ["/"])


# --- WSGI ---------------------------------------------------------------------


def flask_gated(hits: List[str], gate: mfagate.Gate) -> Flask:
    app = Flask(__name__)

    @app.get("/v1/customers")
    def customers() -> Any:
        d = wsgi.decision_of(request.environ)
        hits.append(request.path)
        return jsonify(reason=d.reason if d else None, path=request.path)

    app.wsgi_app = wsgi.MfagateMiddleware(app.wsgi_app, gate)  # type: ignore[method-assign]
    return app


def not_found(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not mounted"]


@pytest.mark.parametrize("server", ["waitress", "wsgiref"])
def test_flask_under_dispatcher_middleware(server: str, hits: List[str]) -> None:
    gate = mfagate.Gate("partner-center", JWKS)
    app = DispatcherMiddleware(not_found, {"/api": flask_gated(hits, gate)})
    with wsgi_server(app, server) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/api/v1/customers", headers={"Authorization": PWD})
        assert r.reason_phrase == "Unauthorized - MFA required"
        assert_partner_center_401(r, hits)
        assert_reached(c.get("/api/v1/customers", headers={"Authorization": MFA}), hits)


def test_proxy_fix_prefix_chosen_by_the_client(hits: List[str]) -> None:
    # ProxyFix(x_prefix=1) copies X-Forwarded-Prefix into SCRIPT_NAME; the
    # client picks it, and it must not move the request out of /v1/**.
    gate = mfagate.Gate("partner-center", JWKS)
    app = ProxyFix(flask_gated(hits, gate), x_prefix=1)
    with wsgi_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        for prefix in ("/anything", "/commerce", "/"):
            hdrs = {"Authorization": PWD, "X-Forwarded-Prefix": prefix}
            assert_partner_center_401(c.get("/v1/customers", headers=hdrs), hits)
        r = c.get("/v1/customers", headers={"Authorization": MFA, "X-Forwarded-Prefix": "/anything"})
        assert_reached(r, hits)


@pytest.fixture
def django_hits() -> Iterator[List[str]]:
    test_wsgi.DJANGO_SEEN.clear()
    yield test_wsgi.DJANGO_SEEN
    test_wsgi.DJANGO_SEEN.clear()


@pytest.mark.parametrize("mount", ["dispatcher", "waitress-url-prefix"])
def test_django_with_a_script_name(mount: str, django_hits: List[str]) -> None:
    gate = mfagate.Gate("partner-center", JWKS)
    django = test_wsgi.django_app(gate)
    if mount == "dispatcher":
        server = wsgi_server(DispatcherMiddleware(not_found, {"/api": django}))
    else:
        server = wsgi_server(django, url_prefix="/api")
    with server as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/api/v1/customers", headers={"Authorization": PWD})
        assert r.reason_phrase == "Unauthorized - MFA required"
        assert_partner_center_401(r, django_hits)
        r = c.get("/api/v1/customers", headers={"Authorization": MFA})
        assert r.status_code == 200 and r.json()["reason"] == "mfa_satisfied"
        assert django_hits == ["/v1/customers"]  # Django's request.path_info


def test_wsgi_middleware_outside_a_mount_sees_the_full_path(hits: List[str]) -> None:
    policy = {"builtin": "partner-center", "overrides": {"routes": {"api": {"paths": ["/api/v1/**"]}}}}
    gate = mfagate.Gate(policy, JWKS)
    inner = Flask(__name__)

    @inner.get("/v1/customers")
    def customers() -> Any:
        d = wsgi.decision_of(request.environ)
        hits.append(request.path)
        return jsonify(reason=d.reason if d else None, path=request.path)

    app = wsgi.MfagateMiddleware(DispatcherMiddleware(not_found, {"/api": inner}), gate)
    with wsgi_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert_partner_center_401(c.get("/api/v1/customers", headers={"Authorization": PWD}), hits)
        assert_reached(c.get("/api/v1/customers", headers={"Authorization": MFA}), hits)
