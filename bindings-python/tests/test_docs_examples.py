"""The FastAPI and Flask examples of docs/python.md, run as written against a
local JWKS endpoint, served by uvicorn and waitress, called with httpx."""

from __future__ import annotations

import re
from typing import Any, Dict

import httpx
import pytest

from conftest import APP_ID, REPO, JwksServer, claims, id_token_claims, mint, uvicorn_server, wsgi_server

DOC = REPO / "docs" / "python.md"


def example(name: str, jwks_url: str, monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"no {name} example in {DOC}"
    monkeypatch.setenv("JWKS_URL", jwks_url)
    ns: Dict[str, Any] = {"__name__": f"docs_example_{name}"}
    exec(compile(m.group(1), f"{DOC}:{name}", "exec"), ns)
    return ns


def test_fastapi_example(jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app = example("fastapi", jwks_server.url, monkeypatch)["app"]
    aud = "api://my-partner-app"
    with uvicorn_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/v1/customers")
        assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
        r = c.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims(aud=aud, amr=["pwd"]))})
        assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer error="invalid_token"')
        assert r.json()["reason"] == "mfa_required"
        r = c.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims(aud=aud))})
        assert r.status_code == 200
        assert r.json() == {"user": "alice@contoso.example", "mfa": "amr", "reason": "mfa_satisfied"}
    assert jwks_server.hits == 1


def test_flask_example(jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app = example("flask", jwks_server.url, monkeypatch)["app"]
    with wsgi_server(app) as url, httpx.Client(base_url=url, timeout=10, follow_redirects=False) as c:
        r = c.get("/commerce/customers")
        assert r.status_code == 302
        assert r.headers["location"] == "/.auth/login/aad?return_to=/commerce/customers"
        pwd = mint(id_token_claims(amr=["pwd"], aud=APP_ID))
        r = c.get("/commerce/customers", headers={"Cookie": f"id_token={pwd}"})
        assert r.status_code == 302
        assert r.headers["location"].startswith("/.auth/login/aad?prompt=login&amr_values=mfa&return_to=")
        ok = mint(id_token_claims(aud=APP_ID))
        r = c.get("/commerce/customers", headers={"Cookie": f"id_token={ok}"})
        assert r.status_code == 200
        twice = c.get("/commerce/customers", headers={"Cookie": f"id_token={ok}; id_token={pwd}"})
        assert (twice.status_code, twice.json()["reason"]) == (400, "credential_ambiguous")
        r = c.get("/commerce/customers", headers={"Cookie": f"id_token={ok}"})
        assert r.status_code == 200
        assert r.json() == {"user": "alice@contoso.example", "roles": ["admin_agent"]}
