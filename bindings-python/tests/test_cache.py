"""The verified-token cache (mfagate.TokenCache): a cached gate decides exactly
as an uncached one, on every vector, at the second a cached token expires,
after a key is removed, and never turns a refusal into an allow."""

from __future__ import annotations

import threading
from typing import Any, List

import pytest

import mfagate
from conftest import JWKS, ROTATED, ROTATED_JWKS, claims, mint
from test_vectors import _cases, subset_mismatch

NOW = 1_700_000_000


def test_every_vector_decides_the_same_cold_and_warm() -> None:
    compared = 0
    cache = mfagate.TokenCache()
    for p in _cases():
        _path, keys, case, load_error = p.values
        if load_error is not None or "expect_error" in case:
            continue
        plain = mfagate.Gate(case["policy"], keys)
        # One cache for every vector: entries of another key set never match.
        cached = mfagate.Gate(case["policy"], keys, cache=cache)
        want = plain.evaluate_request(case["request"]).to_dict()
        cold = cached.evaluate_request(case["request"]).to_dict()
        warm = cached.evaluate_request(case["request"]).to_dict()
        assert cold == want, f"{case['id']}: cold cache"
        assert warm == want, f"{case['id']}: warm cache"
        assert subset_mismatch(case["expect"], warm, "decision") is None, case["id"]
        compared += 1
    assert compared > 300, compared
    assert cache.stats()["hits"] > 150, cache.stats()


def test_a_token_expiring_while_cached_is_refused_at_the_exact_second() -> None:
    exp = NOW + 600
    auth = f"Bearer {mint(claims(NOW, exp=exp))}"
    cache = mfagate.TokenCache()
    cached = mfagate.Gate("partner-center", JWKS, cache=cache)
    plain = mfagate.Gate("partner-center", JWKS)
    assert cached.evaluate("/v1/customers", authorization=auth, now=NOW).allowed
    assert len(cache) == 1
    first_refused = None
    for now in range(exp - 5, exp + 600):
        a = cached.evaluate("/v1/customers", authorization=auth, now=now)
        b = plain.evaluate("/v1/customers", authorization=auth, now=now)
        assert a.to_dict() == b.to_dict(), now
        if not a.allowed and first_refused is None:
            first_refused = (now, a.reason)
    assert first_refused is not None
    second, reason = first_refused
    assert reason == "token_expired"
    assert plain.evaluate("/v1/customers", authorization=auth, now=second - 1).allowed
    assert cache.stats()["hits"] > 0


def test_a_removed_key_invalidates_its_entries() -> None:
    auth = f"Bearer {mint(claims(NOW))}"
    cache = mfagate.TokenCache()
    before = mfagate.Gate("partner-center", JWKS, cache=cache)
    assert before.evaluate("/v1/customers", authorization=auth, now=NOW).allowed
    assert before.evaluate("/v1/customers", authorization=auth, now=NOW).allowed
    assert cache.stats()["hits"] == 1
    # The rotated set no longer has the key: the same cache must not vouch for it.
    after = mfagate.Gate("partner-center", ROTATED_JWKS, cache=cache)
    d = after.evaluate("/v1/customers", authorization=auth, now=NOW)
    assert d.reason == "key_not_found", d
    # Even a set with the same key is another set: verified again.
    again = mfagate.Gate("partner-center", JWKS, cache=cache)
    misses = cache.stats()["misses"]
    assert again.evaluate("/v1/customers", authorization=auth, now=NOW).allowed
    assert cache.stats()["misses"] == misses + 1


def test_the_cache_never_turns_a_refusal_into_an_allow() -> None:
    cache = mfagate.TokenCache()
    keys = mfagate.KeySet(JWKS)  # one key set (one generation) for both gates below
    gate = mfagate.Gate("partner-center", keys, cache=cache)
    pwd = f"Bearer {mint(claims(NOW, amr=['pwd']))}"
    for _ in range(3):
        assert gate.evaluate("/v1/customers", authorization=pwd, now=NOW).reason == "mfa_required"
    # Signed by a key the set does not hold (under its kid): never cached as verified.
    forged = f"Bearer {mint(claims(NOW), key=ROTATED)}"
    for _ in range(3):
        assert gate.evaluate("/v1/customers", authorization=forged, now=NOW).reason == "signature_invalid"
    # Only claims are cached: a stricter policy refuses the cached token at once.
    ok = f"Bearer {mint(claims(NOW))}"
    assert gate.evaluate("/v1/customers", authorization=ok, now=NOW).allowed
    stricter = mfagate.Gate(
        "partner-center", keys, overrides={"token": {"audiences": ["api://someone-else"]}}, cache=cache
    )
    hits = cache.stats()["hits"]
    assert stricter.evaluate("/v1/customers", authorization=ok, now=NOW).reason == "audience_invalid"
    assert cache.stats()["hits"] == hits + 1


def test_a_jwks_cache_gate_uses_the_token_cache(jwks_server: Any) -> None:
    cache = mfagate.TokenCache()
    gate = mfagate.Gate(
        "partner-center", mfagate.JwksCache(jwks_server.url, min_refresh_interval=0), cache=cache
    )
    auth = f"Bearer {mint(claims(NOW))}"
    for _ in range(3):
        assert gate.evaluate("/v1/customers", authorization=auth, now=NOW).allowed
    assert cache.stats()["hits"] == 2
    assert gate.cache is cache
    # The key is withdrawn: the next fetch of the set (a refresh) puts an
    # end to the cached verification at once.
    jwks_server.doc = ROTATED_JWKS
    assert gate.jwks_cache is not None
    gate.jwks_cache.refresh()
    assert gate.evaluate("/v1/customers", authorization=auth, now=NOW).reason == "key_not_found"


def test_the_cache_is_shared_safely_between_threads() -> None:
    cache = mfagate.TokenCache(max_entries=64, max_bytes=1 << 20)
    gate = mfagate.Gate("partner-center", JWKS, cache=cache)
    tokens = [f"Bearer {mint(claims(NOW, uti='u' + str(i)))}" for i in range(200)]
    errors: List[str] = []

    def run(offset: int) -> None:
        for i in range(600):
            t = tokens[(i * 7 + offset) % len(tokens)]
            d = gate.evaluate("/v1/customers", authorization=t, now=NOW)
            if not d.allowed:
                errors.append(d.reason)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert 0 < len(cache) <= 64


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"max_entries": 0}, "max_entries"),
        ({"max_entries": -1}, "max_entries"),
        ({"max_entries": 1.5}, "max_entries"),
        ({"max_entries": True}, "max_entries"),
        ({"max_entries": "10"}, "max_entries"),
        ({"max_bytes": 1000}, "max_bytes"),
        ({"max_bytes": 1 << 80}, "max_bytes"),
    ],
)
def test_bad_bounds_are_usage_errors(kwargs: Any, word: str) -> None:
    with pytest.raises(mfagate.UsageError) as e:
        mfagate.TokenCache(**kwargs)
    assert e.value.code == "request_invalid"
    assert word in e.value.message and e.value.hint, e.value


def test_options_and_repr() -> None:
    c = mfagate.TokenCache(max_entries=10, max_bytes=1 << 20)
    assert (c.max_entries, c.max_bytes) == (10, 1 << 20)
    assert repr(c) == "TokenCache(max_entries=10, max_bytes=1048576)"
    d = mfagate.TokenCache()
    assert (d.max_entries, d.max_bytes) == (10_000, 16 << 20)
    assert d.stats() == {"hits": 0, "misses": 0, "entries": 0, "bytes": 0}
    with pytest.raises(mfagate.UsageError) as e:
        mfagate.Gate("partner-center", JWKS, cache={"max_entries": 1})  # type: ignore[arg-type]
    assert e.value.code == "request_invalid"
    gate = mfagate.Gate("partner-center", JWKS, cache=c)
    assert gate.evaluate("/v1/customers", authorization=f"Bearer {mint(claims(NOW))}", now=NOW).allowed
    assert len(c) == 1
    c.clear()
    assert len(c) == 0
