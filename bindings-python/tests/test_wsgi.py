"""The WSGI middleware with Flask and Django, served by waitress and wsgiref
on 127.0.0.1 and called with httpx."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import httpx
import pytest
from flask import Flask, jsonify, request

import mfagate
from conftest import ADMIN_AGENTS, JWKS, TENANT, app_only_claims, claims, id_token_claims, mint, wsgi_server
from mfagate.wsgi import MfagateMiddleware, decision_of

POLICY = {
    "builtin": "partner-center",
    "overrides": {"token": {"partner_tenants": [TENANT]}, "roles": {"groups": {"admin_agent": [ADMIN_AGENTS]}}},
}


def session_cookie(environ: Dict[str, Any]) -> Optional[str]:
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k == "id_token":
            return v
    return None


def flask_app(gate: mfagate.Gate) -> Any:
    app = Flask(__name__)

    @app.route("/", defaults={"rest": ""}, methods=["GET", "POST"])
    @app.route("/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        d = decision_of(request.environ)
        resp = jsonify(reason=d.reason if d else None, user=d.subject.user if d and d.subject else None)
        if rest.endswith("self-declared"):  # an app that answers isMfaCompliant itself
            resp.headers["isMfaCompliant"] = "app-says-so"
        return resp

    app.wsgi_app = MfagateMiddleware(app.wsgi_app, gate, session_token=session_cookie)  # type: ignore[method-assign]
    return app


def django_app(gate: mfagate.Gate) -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="test",
                           MIDDLEWARE=[], INSTALLED_APPS=[])
        django.setup()
    from django.core.wsgi import get_wsgi_application

    return MfagateMiddleware(get_wsgi_application(), gate, session_token=session_cookie)


DJANGO_SEEN: list = []  # request.path_info of every request the view served


def _django_view(req: Any) -> Any:
    from django.http import JsonResponse

    DJANGO_SEEN.append(req.path_info)
    d = req.META.get("mfagate.decision")
    resp = JsonResponse({"reason": d.reason if d else None, "user": d.subject.user if d and d.subject else None})
    if req.path_info.endswith("self-declared"):  # an app that answers isMfaCompliant itself
        resp["isMfaCompliant"] = "app-says-so"
    return resp


def _urls() -> Any:
    from django.urls import re_path

    return [re_path(r"^.*$", _django_view)]


def __getattr__(name: str) -> Any:  # Django reads urlpatterns from ROOT_URLCONF lazily
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


@pytest.fixture(scope="module", params=["flask+waitress", "flask+wsgiref", "django+waitress"])
def served(request: Any) -> Iterator[tuple]:
    gate = mfagate.Gate(POLICY, JWKS)
    framework, server = request.param.split("+")
    app = flask_app(gate) if framework == "flask" else django_app(gate)
    with wsgi_server(app, server) as url:
        with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as client:
            yield gate, client, server


def assert_answer(resp: httpx.Response, d: mfagate.Decision) -> None:
    assert resp.status_code == d.http.status
    for name, _ in d.http.headers:
        assert resp.headers.get_list(name) == [v for n, v in d.http.headers if n == name]
    assert resp.text == d.http.body


def test_no_credential(served: tuple) -> None:
    gate, client, _ = served
    r = client.get("/v1/customers")
    assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
    assert_answer(r, gate.evaluate("/v1/customers"))


def test_mfa_required_with_partner_center_reason_phrase(served: tuple) -> None:
    gate, client, _ = served
    hdr = "Bearer " + mint(claims(amr=["pwd"]))
    r = client.get("/v1/customers", headers={"Authorization": hdr})
    d = gate.evaluate("/v1/customers", authorization=hdr)
    assert r.status_code == 401 and r.reason_phrase == "Unauthorized - MFA required" == d.http.status_text
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert r.json()["reason"] == "mfa_required"
    assert_answer(r, d)


def test_head_gets_the_status_and_headers_without_a_body(served: tuple) -> None:
    _, client, _ = served
    r = client.head("/v1/customers")
    assert (r.status_code, r.headers["www-authenticate"], r.content) == (401, "Bearer", b"")


def test_allowed_request_sees_the_decision(served: tuple) -> None:
    _, client, _ = served
    r = client.post("/v1/customers", headers={"Authorization": "Bearer " + mint(claims())}, content=b"{}")
    assert r.status_code == 200
    assert r.json() == {"reason": "mfa_satisfied", "user": "alice@contoso.example"}


def test_pages(served: tuple) -> None:
    gate, client, _ = served
    r = client.get("/commerce/customers")
    d = gate.evaluate("/commerce/customers")
    assert r.status_code == 302 and d.redirect is not None and r.headers["location"] == d.redirect.location
    tok = mint(id_token_claims())
    r = client.get("/commerce/customers", headers={"Cookie": f"id_token={tok}"})
    assert r.status_code == 200 and r.json()["reason"] == "mfa_satisfied"
    other = mint(id_token_claims(groups=[]))
    r = client.get("/commerce/customers", headers={"Cookie": f"id_token={other}"})
    assert r.status_code == 403 and r.json()["reason"] == "role_not_permitted"


def test_path_spelling_does_not_bypass(served: tuple) -> None:
    _, client, _ = served
    for path in ("/V1/customers", "/v1//customers", "/v1/%63ustomers", "/v1/caf%C3%A9"):
        assert client.get(path).status_code == 401, path


def test_literal_percent_is_not_decoded_twice() -> None:
    # The app routes on /public/%2e%2e/v1 (one decoding); the gate must see
    # the same path, not /v1 after a second decoding.
    seen: list = []
    gate = mfagate.Gate({"builtin": "partner-center",
                         "overrides": {"routes": {"api": {"paths": ["/public/**"]}}}}, JWKS)

    def app(environ: Dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    mw = MfagateMiddleware(app, gate)
    status: list = []
    # MFA not done: refused under /public/** (MFA required), allowed elsewhere.
    pwd = "Bearer " + mint(claims(amr=["pwd"]))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/public/%2e%2e/x", "SCRIPT_NAME": "", "HTTP_AUTHORIZATION": pwd}
    mw(environ, lambda s, h: status.append(s))
    assert status == ["401 Unauthorized - MFA required"]
    assert seen == []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "SCRIPT_NAME": "", "HTTP_AUTHORIZATION": pwd}
    assert mw(environ, lambda s, h: status.append(s)) == [b"ok"] and seen == ["/x"]


def test_host_header_is_passed() -> None:
    gate = mfagate.Gate({"builtin": "partner-center", "overrides": {"routes": {"api": {"hosts": ["api.example.com"]}}}})
    mw = MfagateMiddleware(lambda e, s: [], gate)
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/x", "HTTP_HOST": "api.example.com"}
    assert mw.decide(env).rule == "api"
    env["HTTP_HOST"] = "other.example.com"
    assert mw.decide(env).rule == "default"


# --- ValidateMfa: isMfaCompliant on allowed API calls (2026 rules) ----------------

POLICY_2026 = {"builtin": "partner-center-2026", "overrides": POLICY["overrides"]}


@pytest.fixture(scope="module", params=["flask+waitress", "flask+wsgiref", "django+waitress"])
def served_2026(request: Any) -> Iterator[httpx.Client]:
    gate = mfagate.Gate(POLICY_2026, JWKS)
    framework, server = request.param.split("+")
    app = flask_app(gate) if framework == "flask" else django_app(gate)
    with wsgi_server(app, server) as url:
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
    seen: list = []

    def app(environ: Dict[str, Any], start_response: Any) -> Any:
        seen.append(decision_of(environ))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    for clock, status in ((None, 401), (lambda: issued + 60, 200)):
        with wsgi_server(MfagateMiddleware(app, gate, now=clock), "wsgiref") as url:
            r = httpx.get(url + "/v1/customers", headers={"Authorization": hdr}, timeout=10)
        assert r.status_code == status, r.text
    assert r.text == "ok" and seen[-1].reason == "mfa_satisfied"
