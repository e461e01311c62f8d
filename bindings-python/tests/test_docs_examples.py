"""The FastAPI and Flask examples of docs/python.md, run as written against a
local OpenID configuration and JWKS endpoint, served by uvicorn and
waitress, called with httpx."""

from __future__ import annotations

import re
from typing import Any, Dict

import httpx
import pytest

from conftest import (APP_ID, JWKS, REPO, DocServer, JwksServer, app_only_claims, claims, id_token_claims, mint,
                      uvicorn_server, wsgi_server)

DOC = REPO / "docs" / "python.md"


def example(name: str, env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"no {name} example in {DOC}"
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ns: Dict[str, Any] = {"__name__": f"docs_example_{name}"}
    exec(compile(m.group(1), f"{DOC}:{name}", "exec"), ns)
    return ns


def test_fastapi_example(doc_server: DocServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The authority of the example, with Entra's multi-tenant issuer, on 127.0.0.1.
    doc_server.docs["/common/v2.0/.well-known/openid-configuration"] = {
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        "jwks_uri": doc_server.base + "/common/discovery/v2.0/keys",
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    doc_server.docs["/common/discovery/v2.0/keys"] = JWKS
    app = example("fastapi", {"ENTRA_AUTHORITY": doc_server.base + "/common/v2.0"}, monkeypatch)["app"]
    aud = "api://my-partner-app"
    with uvicorn_server(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.get("/v1/customers")
        assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
        r = c.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims(aud=aud, amr=["pwd"]))})
        assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer error="invalid_token"')
        assert (r.json()["code"], r.json()["reason"]) == (900421, "mfa_required")
        r = c.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims(aud=aud))})
        assert r.status_code == 200 and "ismfacompliant" not in r.headers
        assert r.json() == {"user": "alice@contoso.example", "mfa": "amr", "reason": "mfa_satisfied"}
        r = c.get("/v1/customers", headers={"Authorization": "Bearer " + mint(claims(aud=aud)), "ValidateMfa": "true"})
        assert r.status_code == 200 and r.headers["isMfaCompliant"] == "true"
        app_only = "Bearer " + mint(app_only_claims(aud=aud))
        r = c.get("/v1/customers", headers={"Authorization": app_only, "ValidateMfa": "true"})
        assert r.status_code == 200 and r.headers["isMfaCompliant"] == "false"
    assert sorted(doc_server.hits.values()) == [1, 1]


def test_flask_example(jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app = example("flask", {"JWKS_URL": jwks_server.url}, monkeypatch)["app"]
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
