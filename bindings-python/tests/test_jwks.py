"""JwksCache against a JWKS endpoint served on 127.0.0.1: TTL, rotation,
down, slow, garbage, too large, thread safety."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

import mfagate
from conftest import HS_SECRET_B64, JWKS, ROTATED, ROTATED_JWKS, ROTATED_KID, FakeClock, JwksServer, claims, mint

NOW = 1_700_000_000


def _gate(cache: mfagate.JwksCache) -> mfagate.Gate:
    return mfagate.Gate("partner-center", cache)


def _eval(gate: mfagate.Gate, tok: str) -> mfagate.Decision:
    return gate.evaluate("/v1/customers", authorization=f"Bearer {tok}", now=NOW)


def test_fetches_lazily_once_per_ttl(jwks_server: JwksServer) -> None:
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, ttl=300, min_refresh_interval=30, clock=clock)
    gate = _gate(cache)
    assert gate.jwks_cache is cache and jwks_server.hits == 0 and cache.keys is None
    tok = mint(claims(NOW))
    for _ in range(5):
        assert _eval(gate, tok).reason == "mfa_satisfied"
    assert jwks_server.hits == 1 and cache.version == 1
    clock.advance(299)
    assert _eval(gate, tok).allowed and jwks_server.hits == 1
    clock.advance(2)  # TTL passed
    assert _eval(gate, tok).allowed and jwks_server.hits == 2 and cache.version == 2


def test_rotation_refreshes_on_unknown_kid_at_most_once_per_interval(jwks_server: JwksServer) -> None:
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, ttl=3600, min_refresh_interval=60, clock=clock)
    gate = _gate(cache)
    assert _eval(gate, mint(claims(NOW))).allowed
    clock.advance(61)
    jwks_server.doc = ROTATED_JWKS
    rotated = mint(claims(NOW), key=ROTATED, kid=ROTATED_KID)
    assert _eval(gate, rotated).reason == "mfa_satisfied"  # unknown kid -> refetch -> allowed
    assert jwks_server.hits == 2 and cache.keys is not None and ROTATED_KID in cache.keys
    # A token with a kid nobody has: no refetch storm within the interval.
    stranger = mint(claims(NOW), kid="nobody")
    for _ in range(10):
        assert _eval(gate, stranger).reason == "key_not_found"
    assert jwks_server.hits == 2
    clock.advance(61)
    assert _eval(gate, stranger).reason == "key_not_found"
    assert jwks_server.hits == 3


def test_down_keeps_the_last_good_keys(jwks_server: JwksServer) -> None:
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, ttl=10, min_refresh_interval=5, timeout=1, clock=clock)
    gate = _gate(cache)
    tok = mint(claims(NOW))
    assert _eval(gate, tok).allowed
    jwks_server.stop()
    clock.advance(11)
    assert _eval(gate, tok).allowed  # fetch failed, old keys still verify
    assert cache.last_error is not None and cache.last_error.code == "jwks_fetch_failed"
    assert isinstance(cache.last_error, mfagate.JwksError)
    with pytest.raises(mfagate.JwksError) as e:
        cache.refresh()
    assert e.value.code == "jwks_fetch_failed"
    assert cache.version == 1


def test_down_from_the_start_refuses_tokens_without_raising(jwks_server: JwksServer) -> None:
    jwks_server.stop()
    cache = mfagate.JwksCache(jwks_server.url, timeout=1)
    d = _eval(_gate(cache), mint(claims(NOW)))
    # The server's problem, not the user's: 503 and Retry-After, never "sign in again".
    assert (d.outcome, d.reason, d.http.status) == ("deny", "keys_unavailable", 503)
    assert dict(d.http.headers)["Retry-After"] == "60"
    assert "sign in" not in d.message.en.lower() or "not need to sign in" in d.message.en
    assert d.detail is not None and jwks_server.url in d.detail
    assert cache.keys is None and cache.last_error is not None


@pytest.mark.parametrize("mode,code", [("garbage", "jwks_fetch_failed"), ("error", "jwks_fetch_failed"),
                                       ("huge", "jwks_fetch_failed")])
def test_bad_answers_keep_the_last_good_keys(jwks_server: JwksServer, mode: str, code: str) -> None:
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, ttl=10, min_refresh_interval=0, clock=clock)
    gate = _gate(cache)
    tok = mint(claims(NOW))
    assert _eval(gate, tok).allowed
    jwks_server.mode = mode
    clock.advance(11)
    assert _eval(gate, tok).allowed
    assert jwks_server.hits == 2
    assert cache.last_error is not None and cache.last_error.code == code
    jwks_server.mode = "ok"
    jwks_server.doc = ROTATED_JWKS
    clock.advance(1)
    rotated = mint(claims(NOW), key=ROTATED, kid=ROTATED_KID)
    assert _eval(gate, rotated).allowed and cache.last_error is None


def test_a_key_set_without_usable_keys_is_refused(jwks_server: JwksServer) -> None:
    jwks_server.doc = {"keys": [{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"}]}
    cache = mfagate.JwksCache(jwks_server.url)
    with pytest.raises(mfagate.JwksError):
        cache.refresh()
    jwks_server.doc = {"keys": JWKS["keys"] * 1}
    # refresh() obeys min_refresh_interval like any fetch (the core's rule).
    small = mfagate.JwksCache(jwks_server.url, max_keys=1, min_refresh_interval=0)
    assert len(small.refresh()) == 1
    jwks_server.doc = {"keys": JWKS["keys"] + ROTATED_JWKS["keys"]}
    with pytest.raises(mfagate.JwksError) as e:
        small.refresh()
    assert "2 usable keys, more than the limit of 1" in e.value.message


def test_slow_endpoint_times_out(jwks_server: JwksServer) -> None:
    jwks_server.mode = "slow"
    jwks_server.delay = 3.0
    cache = mfagate.JwksCache(jwks_server.url, timeout=0.5)
    t0 = time.monotonic()
    d = _eval(_gate(cache), mint(claims(NOW)))
    elapsed = time.monotonic() - t0
    assert d.reason == "keys_unavailable"
    assert elapsed < 2.0, elapsed
    assert cache.last_error is not None and cache.last_error.code == "jwks_fetch_failed"


def test_threads_share_a_cache_and_fetch_once(jwks_server: JwksServer) -> None:
    jwks_server.mode = "slow"
    jwks_server.delay = 0.2
    cache = mfagate.JwksCache(jwks_server.url, ttl=3600, min_refresh_interval=60)
    gate = _gate(cache)
    tok = "Bearer " + mint(claims(NOW))
    out: dict = {}

    def work(i: int) -> None:
        out[i] = {gate.evaluate("/v1/x", authorization=tok, now=NOW).reason for _ in range(50)}

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert out == {i: {"mfa_satisfied"} for i in range(8)}
    assert jwks_server.hits == 1


def test_defaults_are_the_rules_shared_by_every_runtime() -> None:
    # /work/notes/core-plan.md, "JWKS cache rules": the same in Python, Node and WASM.
    cache = mfagate.JwksCache("https://login.microsoftonline.com/common/discovery/keys")
    assert (cache.ttl, cache.min_refresh_interval, cache.timeout, cache.max_bytes, cache.max_keys) == (
        3600, 60, 5, 262144, 64)


def test_a_document_over_256_kib_is_a_failed_fetch_by_default(jwks_server: JwksServer) -> None:
    jwks_server.mode = "raw"
    jwks_server.body = json.dumps(JWKS).encode()[:-1] + b" " * 262144 + b"}"
    cache = mfagate.JwksCache(jwks_server.url, min_refresh_interval=0)
    with pytest.raises(mfagate.JwksError) as e:
        cache.refresh()
    assert e.value.code == "jwks_fetch_failed" and "larger than 262144 bytes" in e.value.message
    jwks_server.body = json.dumps(JWKS).encode()[:-1] + b" " * (262144 - 2000) + b"}"
    assert len(cache.refresh()) == 1


def test_url_must_be_https_except_loopback() -> None:
    for url in ("ftp://example.com/keys", "http://example.com/keys", "file:///etc/passwd",
                "http://127.0.0.2/keys", "http://localhost.example.com/keys",
                "http://127.0.0.1@example.com/keys", "//example.com/keys"):
        with pytest.raises(mfagate.UsageError) as e:
            mfagate.JwksCache(url)
        assert e.value.code == "jwks_url_invalid", url
        assert url in e.value.message and "https" in e.value.hint
        assert "allow_http" not in e.value.message + e.value.hint
    mfagate.JwksCache("https://login.microsoftonline.com/common/discovery/keys")
    for url in ("http://127.0.0.1:8080/keys", "http://[::1]:8080/keys", "http://localhost/keys",
                "http://LOCALHOST:1/keys"):
        mfagate.JwksCache(url)


def test_there_is_no_opt_out_of_https() -> None:
    with pytest.raises(TypeError, match="allow_http"):
        mfagate.JwksCache("http://example.com/keys", allow_http=True)  # type: ignore[call-arg]


def test_redirects_are_never_followed(jwks_server: JwksServer) -> None:
    target = JwksServer()  # a good key set, behind the redirect
    try:
        jwks_server.mode = "redirect"
        jwks_server.location = target.url
        cache = mfagate.JwksCache(jwks_server.url)
        with pytest.raises(mfagate.JwksError) as e:
            cache.refresh()
        assert e.value.code == "jwks_fetch_failed" and "302" in e.value.message
        assert _eval(_gate(cache), mint(claims(NOW))).reason == "keys_unavailable"
        assert (jwks_server.hits, target.hits, cache.keys) == (1, 0, None)  # and no retry within 60 s
    finally:
        target.stop()


def _evaluate_concurrently(gate: mfagate.Gate, n: int) -> set:
    tok = mint(claims(NOW))
    barrier = threading.Barrier(n)
    reasons: list = []

    def one() -> None:
        barrier.wait()
        reasons.append(_eval(gate, tok).reason)

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(reasons) == n
    return set(reasons)


def test_before_the_first_good_set_one_fetch_per_interval(jwks_server: JwksServer) -> None:
    jwks_server.mode = "error"
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, clock=clock)
    gate = _gate(cache)
    tok = mint(claims(NOW))
    assert {_eval(gate, tok).reason for _ in range(50)} == {"keys_unavailable"}
    assert _evaluate_concurrently(gate, 50) == {"keys_unavailable"}
    assert (jwks_server.hits, cache.fetches) == (1, 1)
    clock.advance(59.9)
    assert _eval(gate, tok).reason == "keys_unavailable" and jwks_server.hits == 1
    clock.advance(0.1)  # min_refresh_interval (60 s) passed: one more attempt
    assert {_eval(gate, tok).reason for _ in range(50)} == {"keys_unavailable"}
    assert jwks_server.hits == 2
    jwks_server.mode = "ok"
    clock.advance(60)
    assert _eval(gate, tok).allowed and jwks_server.hits == 3


def test_concurrent_evaluations_against_a_down_endpoint_make_one_fetch(jwks_server: JwksServer) -> None:
    jwks_server.stop()
    cache = mfagate.JwksCache(jwks_server.url, timeout=1)
    assert _evaluate_concurrently(_gate(cache), 50) == {"keys_unavailable"}
    assert cache.fetches == 1
    for _ in range(50):
        _eval(_gate(cache), mint(claims(NOW)))
    assert cache.fetches == 1


def _mfagate_warnings(caplog: pytest.LogCaptureFixture) -> list:
    return [r for r in caplog.records if r.name == "mfagate"]


@pytest.mark.parametrize("mode,reason", [("error", "answered 500"), ("garbage", "did not answer a JWK Set"),
                                         ("huge", "larger than 262144 bytes"), ("redirect", "answered 302"),
                                         ("down", "failed")])
def test_a_failed_fetch_is_logged_with_the_url_and_the_reason(
        jwks_server: JwksServer, caplog: pytest.LogCaptureFixture, mode: str, reason: str) -> None:
    caplog.set_level(logging.WARNING, logger="mfagate")
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, ttl=10, min_refresh_interval=10, timeout=2, clock=clock)
    gate = _gate(cache)
    tok = mint(claims(NOW))
    assert _eval(gate, tok).allowed
    assert _mfagate_warnings(caplog) == []  # a good fetch is not a warning
    if mode == "down":
        jwks_server.stop()
    else:
        jwks_server.mode = mode
        jwks_server.location = jwks_server.url
    clock.advance(11)
    assert _eval(gate, tok).allowed  # the last good keys stay in use
    records = _mfagate_warnings(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    msg = records[0].getMessage()
    assert records[0].levelno == logging.WARNING
    assert jwks_server.url in msg and reason in msg, msg
    assert "last good keys" in msg
    # Before any good set, the log says so.
    caplog.clear()
    fresh = mfagate.JwksCache(jwks_server.url, timeout=2)
    assert _eval(_gate(fresh), tok).reason == "keys_unavailable"
    (record,) = _mfagate_warnings(caplog)
    assert jwks_server.url in record.getMessage() and reason in record.getMessage()
    assert "no good JWK Set yet" in record.getMessage()


def test_the_log_never_holds_key_material(jwks_server: JwksServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mfagate")
    secrets = [HS_SECRET_B64] + [k["n"] for k in JWKS["keys"] + ROTATED_JWKS["keys"]]
    jwks_server.mode = "raw"
    for body in (json.dumps({"keys": HS_SECRET_B64}),  # not a list: the parser quotes what it got
                 json.dumps({"keys": [HS_SECRET_B64]}),
                 json.dumps({"keys": [{"kty": "oct", "k": HS_SECRET_B64, "alg": 5}]}),
                 json.dumps({"keys": [{"kty": "RSA", "n": JWKS["keys"][0]["n"], "e": 7}]})):
        jwks_server.body = body.encode()
        with pytest.raises(mfagate.JwksError) as e:
            mfagate.JwksCache(jwks_server.url).refresh()
        for s in secrets:
            assert s not in e.value.message
    jwks_server.mode = "ok"
    jwks_server.doc = {"keys": JWKS["keys"] + ROTATED_JWKS["keys"]}
    with pytest.raises(mfagate.JwksError):
        mfagate.JwksCache(jwks_server.url, max_keys=1).refresh()
    logged = "\n".join(r.getMessage() for r in _mfagate_warnings(caplog))
    assert logged.count(jwks_server.url) == 5
    for s in secrets:
        assert s not in logged


@pytest.mark.parametrize("mode", ["drip", "drip-headers"])
def test_the_timeout_bounds_the_whole_fetch(jwks_server: JwksServer, mode: str) -> None:
    # Every byte comes well within the socket's timeout: only a deadline for
    # the whole fetch (connection, headers and body) stops a server this slow.
    jwks_server.mode = mode
    jwks_server.delay = 0.05
    cache = mfagate.JwksCache(jwks_server.url, timeout=0.5)
    t0 = time.monotonic()
    d = _eval(_gate(cache), mint(claims(NOW)))
    elapsed = time.monotonic() - t0
    assert d.reason == "keys_unavailable"
    assert 0.4 < elapsed < 1.5, elapsed
    err = cache.last_error
    assert err is not None and err.code == "jwks_fetch_failed"
    assert "no answer within 0.5 s" in err.message and jwks_server.url in err.message


def test_refresh_obeys_the_minimum_refresh_interval(jwks_server: JwksServer) -> None:
    # The core's rule: at most one fetch per min_refresh_interval, refresh() included.
    clock = FakeClock()
    cache = mfagate.JwksCache(jwks_server.url, min_refresh_interval=60, clock=clock)
    assert cache.refresh().kids == ("rsa-signing-1",) and jwks_server.hits == 1
    jwks_server.doc = ROTATED_JWKS
    clock.advance(59)
    assert ROTATED_KID not in cache.refresh() and jwks_server.hits == 1
    clock.advance(1)
    assert ROTATED_KID in cache.refresh() and (jwks_server.hits, cache.version) == (2, 2)
    jwks_server.mode = "error"
    clock.advance(60)
    with pytest.raises(mfagate.JwksError) as e:
        cache.refresh()
    assert "answered 500" in e.value.message
    keys = cache.keys
    assert keys is not None and ROTATED_KID in keys  # the last good keys stay in use


def test_gates_on_one_cache_share_its_keys(jwks_server: JwksServer) -> None:
    cache = mfagate.JwksCache(jwks_server.url, min_refresh_interval=0)
    a = mfagate.Gate("partner-center", cache)
    b = mfagate.Gate("partner-center-2026", cache)
    tok = mint(claims(NOW))
    assert _eval(a, tok).allowed and _eval(b, tok).allowed and jwks_server.hits == 1
    jwks_server.doc = ROTATED_JWKS
    rotated = mint(claims(NOW), key=ROTATED, kid=ROTATED_KID)
    assert _eval(a, rotated).allowed and jwks_server.hits == 2  # a's unknown kid refetched
    assert _eval(b, rotated).allowed and jwks_server.hits == 2  # b has the new keys already
    assert cache.version == 2
