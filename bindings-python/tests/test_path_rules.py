"""Normalisation must never move a request into a less-protective rule.

A Starlette app served by uvicorn routes /v1/public/orders to a public
handler and /v1/{id}/orders to a protected one; the policy makes
/v1/public/** MFA-free beside the built-in /v1/** (MFA required). Starlette
routes case-sensitively and keeps ;params and backslashes in a segment, so
/v1/PUBLIC/orders reaches the {id} handler: the gate must not decide it under
the public rule. The core decides under every rule the raw and the
normalised path could select (see /work/notes/core-plan.md, "Paths" and
"Methods"); these tests pin that through a real server.

Requests go through http.client, which sends the target exactly as given
(httpx would normalise some of these spellings)."""

from __future__ import annotations

import http.client
import json
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

import mfagate
from conftest import JWKS, claims, mint, uvicorn_server
from mfagate.asgi import MfagateMiddleware

PUBLIC_POLICY = {
    "builtin": "partner-center",
    "overrides": {
        "routes": {
            "public_orders": {
                "paths": ["/v1/public/**"],
                "mfa": False,
                "kinds": ["app_user", "app_only", "delegated_admin"],
            }
        }
    },
}
HEAD_POLICY = {
    "builtin": "partner-center",
    "overrides": {
        "routes": {
            "reports": {
                "paths": ["/reports/**"],
                "methods": ["GET"],
                "mfa": True,
                "kinds": ["app_user", "app_only", "delegated_admin"],
            }
        }
    },
}
PWD = "Bearer " + mint(claims(amr=["pwd"]))
MFA = "Bearer " + mint(claims())

Served = Tuple[str, Dict[str, List[str]]]


def send(base: str, method: str, target: str, authorization: str) -> Tuple[int, Dict[str, str], bytes]:
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Authorization", authorization)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def orders() -> Iterator[Served]:
    hits: Dict[str, List[str]] = {"public": [], "by_id": []}

    async def public(req: Any) -> JSONResponse:
        hits["public"].append(req.scope["path"])
        return JSONResponse({"handler": "public"})

    async def by_id(req: Any) -> JSONResponse:
        hits["by_id"].append(req.path_params["id"])
        return JSONResponse({"handler": "by_id", "id": req.path_params["id"]})

    app = Starlette(routes=[Route("/v1/public/orders", public), Route("/v1/{id}/orders", by_id)])
    app.add_middleware(MfagateMiddleware, gate=mfagate.Gate(PUBLIC_POLICY, JWKS))
    with uvicorn_server(app) as url:
        yield url, hits


@pytest.fixture
def served(orders: Served) -> Served:
    for h in orders[1].values():
        h.clear()
    return orders


def assert_partner_center_401(status: int, headers: Dict[str, str], body: bytes) -> None:
    assert status == 401, body
    assert headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert json.loads(body)["reason"] == "mfa_required"


@pytest.mark.parametrize("target", ["/v1/PUBLIC/orders", "/v1/public;x/orders", "/v1/%70ublic/orders"])
def test_a_spelling_of_public_without_mfa_gets_the_gates_401(served: Served, target: str) -> None:
    url, hits = served
    status, headers, body = send(url, "GET", target, PWD)
    assert hits == {"public": [], "by_id": []}, f"{target} reached a handler without MFA: {body!r}"
    assert_partner_center_401(status, headers, body)


def test_a_backslash_in_public_without_mfa_is_refused_by_the_gate(served: Served) -> None:
    # Sent raw on the wire. Starlette routes it to the {id} handler
    # (id = "public\\x"). The middleware hands the core the backslash
    # percent-encoded (it is not a URI character), which the core refuses as
    # an escaped separator (400); the core may also decide it under both
    # rules (401). Either way: the gate's refusal, no handler.
    url, hits = served
    status, headers, body = send(url, "GET", "/v1/public\\x/orders", PWD)
    assert hits == {"public": [], "by_id": []}, f"reached a handler without MFA: {body!r}"
    reason = json.loads(body)["reason"]
    assert (status, reason) in ((400, "request_invalid"), (401, "mfa_required")), (status, body)


def test_public_without_mfa_reaches_the_public_handler(served: Served) -> None:
    url, hits = served
    status, _, body = send(url, "GET", "/v1/public/orders", PWD)
    assert (status, json.loads(body)) == (200, {"handler": "public"})
    assert hits == {"public": ["/v1/public/orders"], "by_id": []}


def test_with_mfa_another_spelling_is_allowed(served: Served) -> None:
    url, hits = served
    status, _, body = send(url, "GET", "/v1/PUBLIC/orders", MFA)
    assert (status, json.loads(body)) == (200, {"handler": "by_id", "id": "PUBLIC"})
    assert hits == {"public": [], "by_id": ["PUBLIC"]}


def test_other_ids_need_mfa(served: Served) -> None:
    url, hits = served
    assert_partner_center_401(*send(url, "GET", "/v1/42/orders", PWD))
    assert hits == {"public": [], "by_id": []}


# --- HEAD is governed by a GET route -------------------------------------------


@pytest.fixture(scope="module")
def reports() -> Iterator[Served]:
    hits: Dict[str, List[str]] = {"report": []}

    async def report(req: Any) -> JSONResponse:
        hits["report"].append(req.method)
        return JSONResponse({"report": req.path_params["name"]})

    # A GET route: Starlette serves HEAD with it too.
    app = Starlette(routes=[Route("/reports/{name}", report, methods=["GET"])])
    app.add_middleware(MfagateMiddleware, gate=mfagate.Gate(HEAD_POLICY, JWKS))
    with uvicorn_server(app) as url:
        yield url, hits


def test_head_on_a_get_route_needs_mfa(reports: Served) -> None:
    url, hits = reports
    hits["report"].clear()
    status, headers, body = send(url, "HEAD", "/reports/q1", PWD)
    assert hits["report"] == [], "HEAD without MFA reached the GET handler"
    assert status == 401 and headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert body == b""
    assert_partner_center_401(*send(url, "GET", "/reports/q1", PWD))
    status, _, _ = send(url, "HEAD", "/reports/q1", MFA)
    assert status == 200 and hits["report"] == ["HEAD"]
