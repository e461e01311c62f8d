"""The Python API: gate construction, evaluate, the decision object, errors."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

import mfagate
from conftest import (
    ADMIN_AGENTS,
    TENANT,
    AUD,
    HS_JWKS,
    HS_SECRET,
    JWKS,
    ROTATED,
    app_only_claims,
    claims,
    id_token_claims,
    mint,
)
from test_vectors import _cases

NOW = 1_700_000_000


@pytest.fixture(scope="module")
def gate() -> mfagate.Gate:
    return mfagate.Gate("partner-center", JWKS)


def test_no_credential_on_the_api(gate: mfagate.Gate) -> None:
    d = gate.evaluate("/v1/customers", now=NOW)
    assert (d.outcome, d.reason, d.rule, d.allowed) == ("deny", "no_credential", "api", False)
    assert d.http.status == 401
    assert d.http.headers == (("WWW-Authenticate", "Bearer"),)
    assert json.loads(d.http.body)["reason"] == "no_credential"
    assert d.token_kind is None and d.subject is None and d.redirect is None


def test_mfa_done_is_allowed_with_subject(gate: mfagate.Gate) -> None:
    tok = mint(claims(NOW))
    d = gate.evaluate("/v1/customers", method="POST", authorization=f"Bearer {tok}", now=NOW)
    assert (d.outcome, d.reason, d.allowed) == ("allow", "mfa_satisfied", True)
    assert d.token_kind == "app_user"
    assert d.mfa.required and d.mfa.satisfied and d.mfa.evidence == "amr"
    assert d.mfa.amr == ("pwd", "mfa")
    assert d.subject is not None and d.subject.user == "alice@contoso.example"
    assert d.http.status == 200 and d.http.headers == () and d.http.body == ""


def test_password_only_steps_up_partner_center_style(gate: mfagate.Gate) -> None:
    tok = mint(claims(NOW, amr=["pwd"]))
    d = gate.evaluate("/v1/customers", authorization=f"Bearer {tok}", now=NOW)
    assert (d.outcome, d.reason) == ("step_up", "mfa_required")
    assert (d.http.status, d.http.status_text) == (401, "Unauthorized - MFA required")
    assert d.mfa.required and not d.mfa.satisfied


def test_default_now_is_the_system_clock(gate: mfagate.Gate) -> None:
    tok = mint(claims())  # valid around the real time, expired at NOW + 2 years
    assert gate.evaluate("/v1/x", authorization=f"Bearer {tok}").reason == "mfa_satisfied"
    assert gate.evaluate("/v1/x", authorization=f"Bearer {tok}", now=NOW + 10**8).reason == "token_expired"


def test_wrong_signature_and_wrong_audience(gate: mfagate.Gate) -> None:
    forged = mint(claims(NOW), key=ROTATED)  # right kid, wrong key
    assert gate.evaluate("/v1/x", authorization=f"Bearer {forged}", now=NOW).reason == "signature_invalid"
    other = mint(claims(NOW, aud="api://someone-else"))
    assert gate.evaluate("/v1/x", authorization=f"Bearer {other}", now=NOW).reason == "audience_invalid"


def test_hs256_needs_a_policy_that_pins_it() -> None:
    tok = mint(claims(NOW), key=HS_SECRET, kid="hs-1", alg="HS256")
    rs_only = mfagate.Gate("partner-center", HS_JWKS)
    assert rs_only.evaluate("/v1/x", authorization=f"Bearer {tok}", now=NOW).reason == "algorithm_not_allowed"
    hs = mfagate.Gate("partner-center", HS_JWKS, overrides={"token": {"algorithms": ["HS256"]}})
    assert hs.evaluate("/v1/x", authorization=f"Bearer {tok}", now=NOW).reason == "mfa_satisfied"


def test_spec_forms_are_equivalent() -> None:
    patch = {"token": {"audiences": ["api://mine", AUD]}}
    a = mfagate.Gate({"builtin": "partner-center", "overrides": patch}, JWKS)
    b = mfagate.Gate("partner-center", json.dumps(JWKS), overrides=patch)
    c = mfagate.Gate("partner-center-2020", mfagate.KeySet(JWKS), overrides=patch)
    tok = mint(claims(NOW, aud="api://mine"))
    ds = [g.evaluate("/v1/x", authorization=f"Bearer {tok}", now=NOW) for g in (a, b, c)]
    assert ds[0].reason == "mfa_satisfied"
    assert ds[0] == ds[1] == ds[2]
    assert a.policy_name == "partner-center-2020"
    assert a.rules[-1] == "default" and "api" in a.rules


def test_policy_file_toml_and_pathlike(tmp_path: Path) -> None:
    p = tmp_path / "policy.toml"
    p.write_text('extends = "partner-center"\nname = "mine"\n[token]\naudiences = ["api://mine"]\n')
    for g in (mfagate.Gate(p, JWKS), mfagate.Gate(str(p), JWKS), mfagate.Gate.from_policy_file(p, JWKS)):
        assert g.policy_name == "mine"
        tok = mint(claims(NOW, aud="api://mine"))
        assert g.evaluate("/v1/x", authorization=f"Bearer {tok}", now=NOW).allowed


def test_policy_errors_carry_code_hint_line_and_doc_url(tmp_path: Path) -> None:
    with pytest.raises(mfagate.PolicyError) as e:
        mfagate.Gate("partner-center-1999")
    err = e.value
    assert isinstance(err, mfagate.MfagateError)
    assert err.code == "policy_unknown_builtin"
    assert "partner-center-2020" in err.hint
    assert err.line is None
    assert err.doc_url.endswith("/docs/errors.md#policy_unknown_builtin")
    assert str(err).startswith("[policy_unknown_builtin] ")

    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "partner-center"\n\n[token\naudiences = ["x"]\n')
    with pytest.raises(mfagate.PolicyError) as e:
        mfagate.Gate(bad)
    assert e.value.code == "policy_syntax" and e.value.line == 3

    with pytest.raises(mfagate.PolicyError) as e:
        mfagate.Gate({"builtin": "partner-center", "overrides": {"token": {"audiences": []}}})
    assert e.value.code == "policy_invalid"

    with pytest.raises(mfagate.PolicyError) as e:
        mfagate.Gate(42)  # type: ignore[arg-type]
    assert e.value.code == "policy_invalid"


def test_key_errors() -> None:
    with pytest.raises(mfagate.JwksError) as e:
        mfagate.Gate("partner-center", "not json")
    assert e.value.code == "jwks_invalid"
    assert not isinstance(e.value, mfagate.PolicyError)
    with pytest.raises(mfagate.JwksError) as e:
        mfagate.KeySet({"keys": {}})
    assert e.value.code == "jwks_invalid"


def test_an_unusable_key_is_skipped_not_fatal() -> None:
    # RFC 7517 §5: one bad key never rejects the set (issue 8 item 12).
    ks = mfagate.KeySet({"keys": [{"kty": "oct", "kid": "s", "k": "c2hvcnQ"}, HS_JWKS["keys"][0]]})
    assert ks.kids == ("hs-1",)
    assert len(ks.skipped) == 1 and ks.skipped[0].startswith("s: ")


def test_usage_errors() -> None:
    g = mfagate.Gate("partner-center")
    for kwargs in ({"now": "yesterday"}, {"now": True}, {"now": 2**70}, {"authorization": b"Bearer x"},
                   {"mfa_registered": "no"}, {"method": 1}, {"validate_mfa": "true"}, {"validate_mfa": 1}):
        with pytest.raises(mfagate.UsageError) as e:
            g.evaluate("/v1/x", **kwargs)  # type: ignore[arg-type]
        assert e.value.code == "request_invalid"
    with pytest.raises(mfagate.UsageError):
        g.evaluate(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        g.evaluate("/v1/x", cookie="x")  # type: ignore[call-arg]
    # A bad request is a decision, not an error.
    d = g.evaluate("v1/no-leading-slash", now=NOW)
    assert (d.reason, d.http.status) == ("request_invalid", 400)


def test_validate_mfa_answers_is_mfa_compliant_under_the_2026_rules() -> None:
    g = mfagate.Gate("partner-center-2026", JWKS)

    def headers(c: dict, **kw: object) -> tuple:
        d = g.evaluate("/v1/customers", authorization="Bearer " + mint(c), now=NOW, **kw)  # type: ignore[arg-type]
        assert d.allowed, d
        return d.http.headers

    assert headers(claims(NOW), validate_mfa=True) == (("isMfaCompliant", "true"),)
    assert headers(app_only_claims(NOW), validate_mfa=True) == (("isMfaCompliant", "false"),)
    assert headers(claims(NOW)) == headers(claims(NOW), validate_mfa=False) == ()
    assert headers(claims(NOW), validate_mfa=None) == ()
    # A refusal carries no isMfaCompliant; the 2020 rules do not answer it.
    d = g.evaluate("/v1/customers", authorization="Bearer " + mint(claims(NOW, amr=["pwd"])), now=NOW,
                   validate_mfa=True)
    assert not d.allowed and "isMfaCompliant" not in dict(d.http.headers)
    d2020 = mfagate.Gate("partner-center", JWKS).evaluate(
        "/v1/customers", authorization="Bearer " + mint(claims(NOW)), now=NOW, validate_mfa=True)
    assert d2020.allowed and d2020.http.headers == ()


def test_decision_is_immutable(gate: mfagate.Gate) -> None:
    d = gate.evaluate("/v1/customers", now=NOW)
    with pytest.raises(AttributeError):
        d.outcome = "allow"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.http.status = 200  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        d.foo = 1  # type: ignore[attr-defined]
    assert isinstance(d.roles, tuple) and isinstance(d.http.headers, tuple)


def test_redirect_for_pages_and_register_first() -> None:
    g = mfagate.Gate(
        {
            "builtin": "partner-center",
            "overrides": {"token": {"partner_tenants": [TENANT]}, "roles": {"groups": {"admin_agent": [ADMIN_AGENTS]}}},
        },
        JWKS,
    )
    d = g.evaluate("/commerce/customers", now=NOW)
    assert (d.http.status, d.reason) == (302, "no_credential")
    assert d.redirect is not None
    assert ("Location", d.redirect.location) in d.http.headers
    tok = mint(id_token_claims(NOW, amr=["pwd"]))
    d = g.evaluate("/commerce/customers", token=tok, now=NOW, mfa_registered=False)
    assert d.outcome == "step_up" and d.redirect is not None and d.redirect.register_first
    assert ("amr_values", "mfa") in d.redirect.params
    assert d.message.get("fr") == d.message.fr and d.message.to_dict()["pt-BR"] == d.message.pt_br
    ok = g.evaluate("/commerce/customers", token=mint(id_token_claims(NOW)), now=NOW)
    assert ok.allowed and ok.token_kind == "id_token" and ok.roles == ("admin_agent",)


def test_to_dict_equals_the_core_json_for_every_vector() -> None:
    seen = 0
    for p in _cases():
        _, keys, case, err = p.values
        if err is not None or "expect" not in case:
            continue
        d = mfagate.Gate(case["policy"], keys).evaluate(**case["request"])
        assert d.to_dict() == json.loads(d.to_json()), case["id"]
        for name in ("mfa", "http", "message"):
            assert getattr(d, name).to_dict() == d.to_dict()[name]
        for name in ("redirect", "subject", "exception"):
            part = getattr(d, name)
            assert (part.to_dict() if part is not None else None) == d.to_dict()[name]
        assert list(d.roles) == d.to_dict()["roles"]
        seen += 1
    assert seen > 0


def _other_thread_ran_during(fn: Callable[[], object], calls: int) -> bool:
    """With a 5 s switch interval the interpreter does not preempt a thread:
    another thread can start while A loops only if fn() lets go of the GIL."""
    a_done = threading.Event()
    started_during_a = []

    def a() -> None:
        for _ in range(calls):
            fn()
        a_done.set()

    def b() -> None:
        started_during_a.append(not a_done.is_set())

    old = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    try:
        ta = threading.Thread(target=a)
        ta.start()
        time.sleep(0.005)
        tb = threading.Thread(target=b)
        tb.start()
        tb.join()
        ta.join()
    finally:
        sys.setswitchinterval(old)
    return started_during_a == [True]


def test_gil_is_released_while_verifying_rs256(gate: mfagate.Gate) -> None:
    hdr = "Bearer " + mint(claims(NOW))
    assert _other_thread_ran_during(lambda: gate.evaluate("/v1/x", authorization=hdr, now=NOW), 3000)


def test_gil_is_kept_for_hmac_only_key_sets() -> None:
    # A whole HS256 decision takes ~2 µs: handing the GIL over would cost more.
    hs = mfagate.Gate("partner-center", HS_JWKS, overrides={"token": {"algorithms": ["HS256"]}})
    hdr = "Bearer " + mint(claims(NOW), key=HS_SECRET, kid="hs-1", alg="HS256")
    assert hs.evaluate("/v1/x", authorization=hdr, now=NOW).allowed
    assert not _other_thread_ran_during(lambda: hs.evaluate("/v1/x", authorization=hdr, now=NOW), 100_000)


def test_threads_share_one_gate(gate: mfagate.Gate) -> None:
    hdrs = ["Bearer " + mint(claims(NOW, amr=amr)) for amr in (["mfa"], ["pwd"])]
    results: dict = {}

    def work(i: int) -> None:
        results[i] = {gate.evaluate("/v1/x", authorization=hdrs[i % 2], now=NOW).reason for _ in range(200)}

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == {i: {"mfa_satisfied" if i % 2 == 0 else "mfa_required"} for i in range(8)}


def test_keyset_inspection() -> None:
    ks = mfagate.KeySet({"keys": JWKS["keys"] + [{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"}]})
    assert len(ks) == 1 and ks.kids == ("rsa-signing-1",) and "rsa-signing-1" in ks and "ed" not in ks
    assert len(ks.skipped) == 1 and "ed" in ks.skipped[0]
    assert mfagate.BUILTIN_NAMES[0] == "partner-center"


def test_host_reaches_the_route_table() -> None:
    g = mfagate.Gate({"builtin": "partner-center", "overrides": {"routes": {"api": {"hosts": ["api.example.com"]}}}})
    assert g.evaluate("/v1/x", host="API.example.com:443", now=NOW).rule == "api"
    assert g.evaluate("/v1/x", host="www.example.com", now=NOW).rule == "default"
    assert g.evaluate("/v1/x", now=NOW).rule == "default"
