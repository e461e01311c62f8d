"""The ASGI middleware with Starlette and FastAPI, served by uvicorn on
127.0.0.1 and called with httpx."""

from __future__ import annotations

import asyncio
import http.client
import json
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

import mfagate
from conftest import (ADMIN_AGENTS, JWKS, TENANT, ROTATED, ROTATED_JWKS, ROTATED_KID, JwksServer, app_only_claims, claims,
                      id_token_claims, mint, uvicorn_server)
from mfagate.asgi import MfagateMiddleware, decision_of

POLICY = {
    "builtin": "partner-center",
    "overrides": {"token": {"partner_tenants": [TENANT]}, "roles": {"groups": {"admin_agent": [ADMIN_AGENTS]}}},
}


def session_cookie(scope: Dict[str, Any]) -> Optional[str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == "id_token":
                    return v
    return None


async def echo(request: Any) -> JSONResponse:
    d = decision_of(request.scope)
    # An app that answers isMfaCompliant itself (the gate's answer wins).
    own = {"isMfaCompliant": "app-says-so"} if request.url.path.endswith("/self-declared") else None
    return JSONResponse({"path": request.url.path, "reason": d.reason if d else None,
                         "roles": list(d.roles) if d else None}, headers=own)


def starlette_app(gate: mfagate.Gate) -> Any:
    app = Starlette(routes=[Route("/{rest:path}", echo, methods=["GET", "POST", "HEAD"])])
    app.add_middleware(MfagateMiddleware, gate=gate, session_token=session_cookie)
    return app


def fastapi_app(gate: mfagate.Gate) -> Any:
    app = FastAPI()
    app.add_middleware(MfagateMiddleware, gate=gate, session_token=session_cookie)

    @app.get("/v1/customers")
    def customers(request: Request) -> Dict[str, Any]:
        d = request.scope["mfagate.decision"]
        return {"reason": d.reason, "user": d.subject.user, "kind": d.token_kind}

    @app.get("/commerce/{rest:path}")
    def commerce(rest: str, request: Request) -> Dict[str, Any]:
        return {"reason": request.scope["mfagate.decision"].reason}

    @app.get("/v1/self-declared")
    def self_declared(request: Request) -> JSONResponse:
        return JSONResponse({"reason": request.scope["mfagate.decision"].reason},
                            headers={"isMfaCompliant": "app-says-so"})

    return app


@pytest.fixture(scope="module", params=["starlette", "fastapi"])
def served(request: Any) -> Iterator[tuple]:
    gate = mfagate.Gate(POLICY, JWKS)
    app = starlette_app(gate) if request.param == "starlette" else fastapi_app(gate)
    with uvicorn_server(app) as url:
        with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as client:
            yield gate, client


def assert_answer(resp: httpx.Response, d: mfagate.Decision) -> None:
    """The response is exactly the decision's HTTP answer."""
    assert resp.status_code == d.http.status
    for name, _ in d.http.headers:
        assert resp.headers.get_list(name) == [v for n, v in d.http.headers if n == name]
    assert resp.text == d.http.body
    if d.http.body:
        assert resp.headers["content-type"].startswith("application/json")


def test_no_credential_gets_a_bare_bearer_challenge(served: tuple) -> None:
    gate, client = served
    r = client.get("/v1/customers")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["reason"] == "no_credential"
    assert_answer(r, gate.evaluate("/v1/customers"))


def test_password_only_gets_the_partner_center_401(served: tuple) -> None:
    gate, client = served
    hdr = "Bearer " + mint(claims(amr=["pwd"]))
    r = client.get("/v1/customers", headers={"Authorization": hdr})
    d = gate.evaluate("/v1/customers", authorization=hdr)
    assert (d.reason, r.status_code) == ("mfa_required", 401)
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert_answer(r, d)


def test_mfa_token_reaches_the_app_with_the_decision(served: tuple) -> None:
    _, client = served
    r = client.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims())})
    assert r.status_code == 200
    body = r.json()
    assert body["reason"] == "mfa_satisfied"


def test_pages_redirect_to_sign_in_and_allow_after_mfa(served: tuple) -> None:
    gate, client = served
    r = client.get("/commerce/customers/list")
    d = gate.evaluate("/commerce/customers/list")
    assert r.status_code == 302 and d.redirect is not None
    assert r.headers["location"] == d.redirect.location
    assert "return_to=/commerce/customers/list" in r.headers["location"]
    assert r.content == b""
    pwd = mint(id_token_claims(amr=["pwd"]))
    r = client.get("/commerce/customers/list", headers={"Cookie": f"id_token={pwd}"})
    assert r.status_code == 302 and "amr_values=mfa" in r.headers["location"]
    ok = mint(id_token_claims())
    r = client.get("/commerce/customers/list", headers={"Cookie": f"id_token={ok}"})
    assert r.status_code == 200 and r.json()["reason"] == "mfa_satisfied"


def test_head_gets_the_status_and_headers_without_a_body(served: tuple) -> None:
    gate, client = served
    r = client.head("/v1/customers")
    assert (r.status_code, r.headers["www-authenticate"], r.content) == (401, "Bearer", b"")


def test_role_not_permitted_is_403(served: tuple) -> None:
    gate, client = served
    tok = mint(id_token_claims(groups=["00000000-0000-4000-8000-000000000000"]))
    r = client.get("/commerce/x", headers={"Cookie": f"id_token={tok}"})
    d = gate.evaluate("/commerce/x", token=tok)
    assert (r.status_code, d.reason) == (403, "role_not_permitted")
    assert_answer(r, d)


def test_two_credentials_are_refused(served: tuple) -> None:
    _, client = served
    tok = mint(id_token_claims())
    r = client.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims()), "Cookie": f"id_token={tok}"})
    assert r.status_code == 400 and r.json()["reason"] == "credential_ambiguous"


def test_path_spelling_does_not_bypass(served: tuple) -> None:
    _, client = served
    for path in ("/V1/Customers", "/x/../v1/customers", "/v1//customers", "/v1/%63ustomers"):
        r = client.get(path)
        assert r.status_code == 401, path


def test_websocket_is_refused_without_credential() -> None:
    gate = mfagate.Gate(POLICY, JWKS)
    called: List[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    mw = MfagateMiddleware(app, gate)

    async def run(ext: Dict[str, Any]) -> List[Dict[str, Any]]:
        sent: List[Dict[str, Any]] = []

        async def receive() -> Dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(m: Dict[str, Any]) -> None:
            sent.append(m)

        scope = {"type": "websocket", "path": "/v1/stream", "headers": [], "extensions": ext}
        await mw(scope, receive, send)
        return sent

    plain = asyncio.run(run({}))
    assert plain == [{"type": "websocket.close", "code": 1008}]
    denial = asyncio.run(run({"websocket.http.response": {}}))
    assert denial[0]["type"] == "websocket.http.response.start" and denial[0]["status"] == 401
    assert json.loads(denial[1]["body"])["reason"] == "no_credential"
    assert called == []


def test_with_a_jwks_cache_and_rotation(jwks_server: JwksServer) -> None:
    cache = mfagate.JwksCache(jwks_server.url, min_refresh_interval=0)
    gate = mfagate.Gate("partner-center", cache)
    with uvicorn_server(starlette_app(gate)) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/v1/x", headers={"Authorization": "Bearer " + mint(claims())}).status_code == 200
        jwks_server.doc = ROTATED_JWKS
        rotated = "Bearer " + mint(claims(), key=ROTATED, kid=ROTATED_KID)
        assert client.get("/v1/x", headers={"Authorization": rotated}).status_code == 200
        jwks_server.stop()
        assert client.get("/v1/x", headers={"Authorization": rotated}).status_code == 200
        unknown = "Bearer " + mint(claims(), kid="nobody")
        r = client.get("/v1/x", headers={"Authorization": unknown})
        assert r.status_code == 401 and r.json()["reason"] == "key_not_found"


def test_literal_percent_is_not_decoded_twice() -> None:
    gate = mfagate.Gate({"builtin": "partner-center",
                         "overrides": {"routes": {"api": {"paths": ["/public/**"]}}}}, JWKS)
    called: List[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    mw = MfagateMiddleware(app, gate)
    pwd = ("Bearer " + mint(claims(amr=["pwd"]))).encode()

    async def run(path: str) -> List[Dict[str, Any]]:
        sent: List[Dict[str, Any]] = []

        async def receive() -> Dict[str, Any]:
            return {"type": "http.request"}

        async def send(m: Dict[str, Any]) -> None:
            sent.append(m)

        await mw({"type": "http", "method": "GET", "path": path, "headers": [(b"authorization", pwd)]}, receive, send)
        return sent

    sent = asyncio.run(run("/public/%2e%2e/x"))  # the app would route on this literal path
    assert sent[0]["status"] == 401 and called == []
    assert asyncio.run(run("/x")) == [] and called == ["/x"]


def test_host_header_is_passed() -> None:
    gate = mfagate.Gate({"builtin": "partner-center", "overrides": {"routes": {"api": {"hosts": ["api.example.com"]}}}})
    mw = MfagateMiddleware(lambda s, r, se: None, gate)  # type: ignore[arg-type, return-value]
    scope = {"type": "http", "method": "GET", "path": "/v1/x", "headers": [(b"host", b"api.example.com")]}
    assert mw.decide(scope).rule == "api"
    scope["headers"] = [(b"host", b"other.example.com")]
    assert mw.decide(scope).rule == "default"


# --- the path as the client spelled it ------------------------------------------


def _orders_app(seen: List[str]) -> Any:
    async def handler(request: Any) -> JSONResponse:
        seen.append(request.scope["path"])
        return JSONResponse({"path": request.scope["path"]})

    return Starlette(routes=[Route("/{rest:path}", handler)])


def test_the_core_sees_the_wire_spelling_so_an_escaped_slash_is_refused() -> None:
    # docs/policy.md: an escaped '/' is refused (400), since servers disagree
    # on it. uvicorn decodes /v1/public%2Forders to /v1/public/orders; the
    # core must see the %2F to apply that rule.
    gate = mfagate.Gate({"builtin": "partner-center",
                         "overrides": {"routes": {"pub": {"paths": ["/v1/public/**"], "mfa": False,
                                                          "kinds": ["app_user"]}}}}, JWKS)
    seen: List[str] = []
    app = _orders_app(seen)
    app.add_middleware(MfagateMiddleware, gate=gate)
    pwd = "Bearer " + mint(claims(amr=["pwd"]))
    with uvicorn_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        r = client.get("/v1/public%2Forders", headers={"Authorization": pwd})
        assert r.status_code == 400, r.text
        assert (r.json()["reason"], seen) == ("request_invalid", [])
        r = client.get("/v1/%70ublic/orders", headers={"Authorization": "Bearer " + mint(claims())})
        assert r.status_code == 200 and seen == ["/v1/public/orders"]
        # A '%' that starts no escape is a literal '%' to uvicorn: to the core too.
        host, port = url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/v1/public/100%", headers={"Authorization": pwd})
        resp = conn.getresponse()
        assert (resp.status, resp.read(), seen[-1]) == (200, b'{"path":"/v1/public/100%"}', "/v1/public/100%")
        conn.close()


def test_a_path_rewritten_by_an_outer_middleware_is_decided_as_rewritten() -> None:
    # An outer ASGI middleware rewrites scope["path"] and leaves raw_path: the
    # app routes on the rewritten path, and so does the gate.
    gate = mfagate.Gate(POLICY, JWKS)
    seen: List[str] = []
    gated = MfagateMiddleware(_orders_app(seen), gate)

    async def rewrite(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/legacy/"):
            scope = dict(scope, path="/v1/" + scope["path"][len("/legacy/"):])
        await gated(scope, receive, send)

    pwd = "Bearer " + mint(claims(amr=["pwd"]))
    with uvicorn_server(rewrite) as url, httpx.Client(base_url=url, timeout=10) as client:
        r = client.get("/legacy/customers", headers={"Authorization": pwd})
        assert (r.status_code, r.json()["reason"], seen) == (401, "mfa_required", [])
        r = client.get("/legacy/customers", headers={"Authorization": "Bearer " + mint(claims())})
        assert r.status_code == 200 and seen == ["/v1/customers"]


# --- ValidateMfa: isMfaCompliant on allowed API calls (2026 rules) ----------------

POLICY_2026 = {"builtin": "partner-center-2026", "overrides": POLICY["overrides"]}


@pytest.fixture(scope="module", params=["starlette", "fastapi"])
def served_2026(request: Any) -> Iterator[httpx.Client]:
    gate = mfagate.Gate(POLICY_2026, JWKS)
    app = starlette_app(gate) if request.param == "starlette" else fastapi_app(gate)
    with uvicorn_server(app) as url:
        with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as client:
            yield client


def _bearer(c: Dict[str, Any]) -> str:
    return "Bearer " + mint(c)


def test_validate_mfa_true_answers_is_mfa_compliant(served_2026: httpx.Client) -> None:
    for value in ("true", "TRUE", "True"):
        r = served_2026.get("/v1/customers", headers={"Authorization": _bearer(claims()), "ValidateMfa": value})
        assert r.status_code == 200 and r.json()["reason"] == "mfa_satisfied"
        assert r.headers.get_list("isMfaCompliant") == ["true"], value
    r = served_2026.get("/v1/customers", headers={"Authorization": _bearer(app_only_claims()), "ValidateMfa": "true"})
    assert r.status_code == 200 and r.headers.get_list("isMfaCompliant") == ["false"]


def test_without_validate_mfa_true_there_is_no_is_mfa_compliant(served_2026: httpx.Client) -> None:
    for headers in ({}, {"ValidateMfa": "false"}, {"ValidateMfa": "yes"}, {"ValidateMfa": "1"}):
        r = served_2026.get("/v1/customers", headers={"Authorization": _bearer(claims()), **headers})
        assert r.status_code == 200 and "ismfacompliant" not in r.headers, headers
    # Two ValidateMfa lines are not one "true".
    r = served_2026.get("/v1/customers", headers=[("Authorization", _bearer(claims())), ("ValidateMfa", "true"),
                                                  ("ValidateMfa", "true")])
    assert r.status_code == 200 and "ismfacompliant" not in r.headers
    # A refusal says it with its 401, without isMfaCompliant.
    r = served_2026.get("/v1/customers", headers={"Authorization": _bearer(claims(amr=["pwd"])), "ValidateMfa": "true"})
    assert r.status_code == 401 and "ismfacompliant" not in r.headers


def test_the_gates_is_mfa_compliant_replaces_the_apps(served_2026: httpx.Client) -> None:
    r = served_2026.get("/v1/self-declared", headers={"Authorization": _bearer(app_only_claims()), "ValidateMfa": "true"})
    assert r.status_code == 200 and r.headers.get_list("isMfaCompliant") == ["false"]
    r = served_2026.get("/v1/self-declared", headers={"Authorization": _bearer(app_only_claims())})
    assert r.status_code == 200 and r.headers.get_list("isMfaCompliant") == ["app-says-so"]


def test_the_clock_hook_decides_at_the_time_it_says() -> None:
    # A token that expired long ago: refused on the system clock, allowed on
    # a clock inside its lifetime (now=, like Node's middleware option).
    issued = 1_700_000_000
    hdr = "Bearer " + mint(claims(now=issued))
    gate = mfagate.Gate(POLICY, JWKS)
    for clock, status in ((None, 401), (lambda: issued + 60, 200)):
        app = Starlette(routes=[Route("/{rest:path}", echo)])
        app.add_middleware(MfagateMiddleware, gate=gate, now=clock)
        with uvicorn_server(app) as url:
            r = httpx.get(url + "/v1/customers", headers={"Authorization": hdr}, timeout=10)
        assert r.status_code == status, r.text
    assert r.json()["reason"] == "mfa_satisfied"
    assert json.loads(gate.evaluate("/v1/customers", authorization=hdr).to_json())["reason"] == "token_expired"
