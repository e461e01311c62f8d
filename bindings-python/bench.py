"""Benchmark: mfagate vs PyJWT vs joserfc, same token, same checks.

Every library checks the signature, exp/nbf, aud, iss and that amr contains
"mfa"; mfagate also routes the request, classifies the token and builds the
full decision. Keys are parsed once, outside the timed loops. The same token
again through a gate with a TokenCache ("mfagate (TokenCache)"). Then 8
threads vs 1 thread evaluating with one shared mfagate.Gate (the GIL is
released for RSA), with and without the cache; and the memory of a cache
filled to its bound with distinct tokens.

    bindings-python/.venv/bin/python bindings-python/bench.py [--quick] [--out FILE]

Prints a Markdown report (and writes it to FILE with --out).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey, RSAKey

import mfagate

REPO = Path(__file__).resolve().parents[1]
KEYS = REPO / "tests" / "keys"
TENANT = "6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"
ISS = f"https://sts.windows.net/{TENANT}/"
AUD = "https://api.partnercenter.microsoft.com"


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def setup() -> Dict[str, Any]:
    priv = serialization.load_pem_private_key((KEYS / "rsa-signing-1.pem").read_bytes(), password=None)
    pub = priv.public_key()  # type: ignore[union-attr]
    nums = pub.public_numbers()  # type: ignore[union-attr]
    rsa_jwk = {"kty": "RSA", "kid": "rsa-signing-1", "use": "sig", "alg": "RS256",
               "n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
               "e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}
    k_b64 = (KEYS / "hs256-secret.b64url").read_text().strip()
    secret = base64.urlsafe_b64decode(k_b64 + "=" * (-len(k_b64) % 4))
    oct_jwk = {"kty": "oct", "kid": "hs-1", "k": k_b64}
    now = int(time.time())
    claims = {"aud": AUD, "iss": ISS, "iat": now - 60, "nbf": now - 60, "exp": now + 7200, "ver": "1.0",
              "tid": TENANT, "oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "upn": "alice@contoso.example",
              "appid": "1950a258-227b-4e31-a9cf-717495945fc2", "scp": "user_impersonation", "amr": ["pwd", "mfa"]}
    return {
        "RS256": {
            "token": pyjwt.encode(claims, priv, algorithm="RS256", headers={"kid": "rsa-signing-1"}),
            "gate": mfagate.Gate("partner-center", {"keys": [rsa_jwk]}),
            "cached": mfagate.Gate("partner-center", {"keys": [rsa_jwk]}, cache=mfagate.TokenCache()),
            "priv": priv,
            "claims": claims,
            "jwk": rsa_jwk,
            "pyjwt_key": pyjwt.PyJWK(rsa_jwk).key,
            "jose_key": RSAKey.import_key(rsa_jwk),
            "public_key": pub,
        },
        "HS256": {
            "token": pyjwt.encode(claims, secret, algorithm="HS256", headers={"kid": "hs-1"}),
            "gate": mfagate.Gate("partner-center", {"keys": [oct_jwk]},
                                 overrides={"token": {"algorithms": ["HS256"]}}),
            "cached": mfagate.Gate("partner-center", {"keys": [oct_jwk]},
                                   overrides={"token": {"algorithms": ["HS256"]}}, cache=mfagate.TokenCache()),
            "pyjwt_key": secret,
            "jose_key": OctKey.import_key(oct_jwk),
            "secret": secret,
        },
    }


def checkers(alg: str, s: Dict[str, Any]) -> Dict[str, Callable[[], bool]]:
    token = s["token"]
    header = "Bearer " + token
    gate: mfagate.Gate = s["gate"]
    cached: mfagate.Gate = s["cached"]
    pyjwt_key = s["pyjwt_key"]
    jose_key = s["jose_key"]
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISS}, aud={"essential": True, "value": AUD},
        exp={"essential": True}, nbf={"essential": True})

    def mfa() -> bool:
        return gate.evaluate("/v1/customers", authorization=header).allowed

    def mfa_cached() -> bool:
        return cached.evaluate("/v1/customers", authorization=header).allowed

    def pj() -> bool:
        c = pyjwt.decode(token, pyjwt_key, algorithms=[alg], audience=AUD, issuer=ISS,
                         options={"require": ["exp", "nbf", "iss", "aud"]})
        return "mfa" in c.get("amr", ())

    def jose() -> bool:
        t = jose_jwt.decode(token, jose_key, algorithms=[alg])
        registry.validate(t.claims)
        return "mfa" in t.claims.get("amr", ())

    return {"mfagate": mfa, "mfagate (TokenCache)": mfa_cached, "PyJWT": pj, "joserfc": jose}


def crypto_only(alg: str, s: Dict[str, Any]) -> Callable[[], bool]:
    """The bare signature check with `cryptography` (OpenSSL), no parsing and
    no claim checks: the floor under PyJWT's and joserfc's times."""
    signing_input, _, sig_b64 = s["token"].rpartition(".")
    data = signing_input.encode()
    sig = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
    if alg == "RS256":
        pub = s["public_key"]

        def rsa_verify() -> bool:
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            return True

        return rsa_verify
    secret = s["secret"]

    def hmac_verify() -> bool:
        h = hmac.HMAC(secret, hashes.SHA256())
        h.update(data)
        h.verify(sig)
        return True

    return hmac_verify


def down(x: float) -> str:
    """A ratio to 2 decimals, rounded down (never in our favour)."""
    return f"{int(x * 100) / 100:.2f}"


def interleaved(fns: Dict[str, Callable[[], bool]], n: int, repeats: int) -> Dict[str, List[float]]:
    """Seconds per call of each function: `repeats` rounds, each timing `n`
    calls of every function in turn, so that load from other processes falls
    on all of them alike."""
    for fn in fns.values():
        for _ in range(max(50, n // 10)):
            fn()
    samples: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    return samples


def threaded(fn: Callable[[], bool], threads: int, n_each: int) -> float:
    """Calls per second with `threads` threads each making `n_each` calls."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(n_each):
            fn()

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return threads * n_each / (time.perf_counter() - t0)


def cpu_snapshot() -> Tuple[float, float, float]:
    """(wall seconds, CPU seconds used by all processes, CPU seconds used by this one)."""
    busy = 0.0
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        busy = (sum(fields[:8]) - idle) / hz
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return time.monotonic(), busy, t.user + t.system


def others_load(a: Tuple[float, float, float], b: Tuple[float, float, float]) -> str:
    wall = b[0] - a[0]
    others = (b[1] - a[1]) - (b[2] - a[2])
    return f"{max(others, 0.0) / wall:.2f} of {os.cpu_count()} CPUs busy with other processes during the run"


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_at_bound(s: Dict[str, Any], entries: int) -> str:
    """A cache bounded at `entries`, filled with twice as many distinct RS256
    tokens (the claims of the benchmark's token, another oid each): its own
    byte count and the process's resident memory before and after."""
    import gc
    tokens = []
    for i in range(2 * entries):
        c = dict(s["claims"], oid=f"0f1e2d3c-4b5a-6978-8796-{i:012d}")
        tokens.append("Bearer " + pyjwt.encode(c, s["priv"], algorithm="RS256", headers={"kid": "rsa-signing-1"}))
    cache = mfagate.TokenCache(max_entries=entries)
    gate = mfagate.Gate("partner-center", {"keys": [s["jwk"]]}, cache=cache)
    gc.collect()
    before = rss_bytes()
    for t in tokens:
        assert gate.evaluate("/v1/customers", authorization=t).allowed
    gc.collect()
    after = rss_bytes()
    st = cache.stats()
    return (f"| {entries:,} | {len(tokens[0]) - 7:,} B | {st['entries']:,} | {st['bytes']:,} B "
            f"({st['bytes'] // max(st['entries'], 1):,} per token) | {after - before:,} B "
            f"({(after - before) // max(st['entries'], 1):,} per token) |")


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        keep = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "CPU max MHz")
        lines = [ln.strip() for ln in lscpu.splitlines() if ln.split(":")[0].strip() in keep]
    except OSError:
        lines = []
    return "\n".join([f"nproc: {os.cpu_count()}"] + lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    ap.add_argument("--out", help="also write the Markdown report to this file")
    args = ap.parse_args()
    n, repeats, budget = (300, 3, 0.05) if args.quick else (4000, 7, 0.25)
    setups = setup()
    load_before = os.getloadavg()
    cpu_before = cpu_snapshot()
    out: List[str] = []
    rows = []
    for alg, s in setups.items():
        fns = checkers(alg, s)
        for name, fn in fns.items():
            assert fn() is True, f"{name} did not accept the {alg} token"
        fns["signature only (cryptography)"] = crypto_only(alg, s)
        rows.append((alg, interleaved(fns, n, repeats)))
    scaling = []
    single = {(alg, name): statistics.median(samples) for alg, res in rows for name, samples in res.items()}
    for alg, s in setups.items():
        fns = checkers(alg, s)
        for name in ("mfagate", "mfagate (TokenCache)", "joserfc"):
            # About `budget` seconds of single-thread work per measurement.
            each = max(100, int(budget / single[(alg, name)] / 8))
            ones, eights = [], []
            for _ in range(repeats):  # alternate, so that outside load hits both alike
                ones.append(threaded(fns[name], 1, each * 8))
                eights.append(threaded(fns[name], 8, each))
            ratio = statistics.median(e / o for e, o in zip(eights, ones))
            scaling.append((alg, name, each, statistics.median(ones), statistics.median(eights), ratio))
    memory = [memory_at_bound(setups["RS256"], e) for e in ((1000,) if args.quick else (1000, 10_000))]
    load_after = os.getloadavg()
    cpu_after = cpu_snapshot()

    cmd = "bindings-python/.venv/bin/python bindings-python/bench.py" + (" --quick" if args.quick else "")
    out.append("## Single thread: same token, same checks\n")
    out.append(f"{repeats} rounds; each round times {n} calls of every library in turn (after a warm-up). "
               "µs per token: median of the rounds, and the fastest..slowest round. The speed-up is the median "
               "over rounds of (joserfc's or PyJWT's time / mfagate's time in the same round).\n")
    out.append("| alg | library | µs/token (median) | fastest..slowest round | tokens/s (median) | mfagate speed-up |")
    out.append("|---|---|---:|---:|---:|---:|")
    for alg, res in rows:
        for name, samples in res.items():
            med = statistics.median(samples)
            up = ""
            if name == "mfagate":
                vs_jose = statistics.median(j / m for j, m in zip(res["joserfc"], samples))
                vs_pyjwt = statistics.median(p / m for p, m in zip(res["PyJWT"], samples))
                up = f"{down(vs_jose)}× joserfc, {down(vs_pyjwt)}× PyJWT"
            if name == "mfagate (TokenCache)":
                vs_jose = statistics.median(j / m for j, m in zip(res["joserfc"], samples))
                vs_plain = statistics.median(p / m for p, m in zip(res["mfagate"], samples))
                up = f"{down(vs_jose)}× joserfc, {down(vs_plain)}× mfagate uncached"
            out.append(f"| {alg} | {name} | {med * 1e6:.2f} | {min(samples) * 1e6:.2f}..{max(samples) * 1e6:.2f} "
                       f"| {1 / med:,.0f} | {up} |")
    out.append("\n## Threads: 8 threads vs 1, one shared object\n")
    out.append(f"{repeats} rounds, each: 1 thread making 8×N calls, then 8 threads making N calls each "
               f"(N sized for about {budget} s of one-thread work), on one shared object. Throughputs: medians; "
               "8 vs 1: median over rounds of the ratio within a round.\n")
    out.append("| alg | library | N | 1 thread tokens/s | 8 threads tokens/s | 8 vs 1 |")
    out.append("|---|---|---:|---:|---:|---:|")
    for alg, name, each, one, eight, ratio in scaling:
        out.append(f"| {alg} | {name} | {each:,} | {one:,.0f} | {eight:,.0f} | {ratio:.2f}× |")
    out.append("\n## A TokenCache at its bound\n")
    out.append("Twice `max_entries` distinct RS256 tokens through a gate whose cache holds `max_entries`: "
               "the cache's own count, and the growth of the process's resident memory (RSS) over the fill.\n")
    out.append("| max_entries | token | entries held | cache's byte count | RSS growth |")
    out.append("|---:|---:|---:|---:|---:|")
    out.extend(memory)
    out.append("\n## Run\n")
    out.append(f"- command: `{cmd}`")
    out.append(f"- Python {platform.python_version()}, mfagate {mfagate.__version__}, PyJWT {pyjwt.__version__}, "
               f"joserfc {__import__('joserfc').__version__}")
    out.append(f"- load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}; "
               + others_load(cpu_before, cpu_after))
    out.append("- machine:\n\n```\n" + machine() + "\n```")
    report = "\n".join(out) + "\n"
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
