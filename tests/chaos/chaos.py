"""JWKS chaos under load (issue 11; run by tests/chaos/run.sh).

A local JWKS endpoint (jwks_server.py, its own process) flaps on a schedule
while 16 keep-alive clients send Partner Center API calls (GET /v1/customers,
App+User tokens with MFA done, so a token whose key the gate holds is an
allow) to one target at a time, each its own process:

  python  a Starlette app behind mfagate.asgi.MfagateMiddleware over a
          mfagate.JwksCache, under uvicorn (py_app.py)
  node    Express with mfagate.express over a JwksGate (node_app.js)
  serve   mfagate-serve, asked directly with the nginx auth_request protocol
          (X-Original-URI, X-Original-Method) and the forward protocol
          (X-Forwarded-Uri, X-Forwarded-Method), half the clients each
  wasm    the WebAssembly build's JwksCache and JwksGate in node:http
          (wasm_app.mjs)

Tokens: A (tests/keys/rsa-signing-1.pem, kid rsa-1), B
(tests/keys/rsa-rotated-2.pem, kid rsa-2), two keys never served (the EC
key tests/keys/ec-p256-1.pem as kid ec-1, and an RSA key made for the run
as kid rsa-3), and two forgeries (kid rsa-1 signed by B, kid rsa-2 signed by
A).

Every served set reaches exactly one client, the target's gate, so the
endpoint's log of its answers is the gate's history of key sets: after an
answer it completed within FAST seconds (the client's timeout is 0.5 s), the
gate holds that set, at the latest TOL seconds later; an answer that is not
a good set (slow, garbage, 500, oversize, no usable key, down) must leave
the last good keys in place. The failed answers carry a *poisoned* set (B
only) where they carry one at all, so a gate that took a failed fetch would
deny A and show it. A request that ran from t0 to t1 was decided with one of
the sets the log says the gate could hold in [t0 - TOL, t1]:

  (a) a never-served key or a forgery is never allowed;
  (b) a token is never allowed when none of those sets holds its key (A
      after the endpoint served a set without it; B before it was served);
  (c) every request is answered, the target is alive at the end and wrote no
      panic, and no status is 5xx except the documented keys_unavailable 503
      while the gate may not have had a good set yet, which carries a
      Retry-After of 1 to min_refresh seconds;
  (d) a token is allowed whenever all of those sets hold its key: the last
      good keys keep working through down, slow, garbage, 500, oversize and
      emptied (false denies must be 0; the documented behaviour explains
      none: a failed fetch keeps the last good keys, and a fetch the
      refresher starts for an unknown kid or an expired TTL lets requests
      with known kids go on with the current keys); the gate never holds
      more good sets than were served (its version counter, where it has
      one), and what it says it holds (kids, polled every 0.2 s) is always
      one of those sets;
  (e) the fetch rate stays within the limit: on the endpoint, fetches are at
      least min_refresh - RATE_TOL apart and at most duration/min_refresh +
      1; the gate's own attempt counter (connection refused included) is at
      most its lifetime/min_refresh + 1.

    chaos.py selfcheck
    chaos.py run TARGET WORKDIR SUMMARY.jsonl
    chaos.py table SUMMARY.jsonl
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

TTL, MIN_REFRESH, TIMEOUT, MAX_BYTES = 2.0, 1.0, 0.5, 8192
FAST = 0.25  # a good answer completed this fast after arrival: the gate took it
TOL = 0.5  # the gate holds a set it was answered at most this much later
RATE_TOL = 0.25  # arrival jitter allowed on the interval between two fetches
CLIENTS = int(os.environ.get("MFAGATE_CHAOS_CLIENTS", "16"))
REQUEST_TIMEOUT = 5.0

# [mode, seconds, set] (jwks_server.py); sets: A, AB, B (the poison is B).
SCHEDULE: List[List[Any]] = [
    ["down", 2.0, None],  # before the first good set: keys_unavailable
    ["good", 3.0, "A"],
    ["slow", 2.0, "B"],
    ["garbage", 2.0, None],
    ["http500", 2.0, "B"],
    ["oversize", 2.0, "B"],
    ["down", 2.0, None],
    ["good", 3.0, "AB"],  # rotated: A and B
    ["good", 3.0, "B"],  # A removed
    ["empty", 2.0, None],  # emptied: a failed fetch, B stays
    ["good", 3.0, "A"],  # good again (and B removed)
]
PHASE_NAMES = ["down", "good A", "slow", "garbage", "500", "oversize", "down", "rotated A+B", "A removed",
               "emptied", "good again A"]

# name -> (kid, signer); "A"/"B" are served keys, the rest never are.
TOKENS: Dict[str, Tuple[str, str]] = {
    "A": ("rsa-1", "A"),
    "B": ("rsa-2", "B"),
    "never_ec": ("ec-1", "EC"),
    "never_rsa": ("rsa-3", "N"),
    "forge_A_kid": ("rsa-1", "B"),
    "forge_B_kid": ("rsa-2", "A"),
}
SERVED_KEYS = {"A", "B"}
SETS = {"A": [["rsa-1", "A"]], "B": [["rsa-2", "B"]], "AB": [["rsa-1", "A"], ["rsa-2", "B"]]}


# -- tokens and documents -------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_material() -> Tuple[Dict[str, str], Dict[str, Any]]:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys_dir = REPO / "tests" / "keys"

    def load(name: str) -> Any:
        return serialization.load_pem_private_key((keys_dir / name).read_bytes(), password=None)

    priv = {"A": load("rsa-signing-1.pem"), "B": load("rsa-rotated-2.pem"), "EC": load("ec-p256-1.pem"),
            "N": rsa.generate_private_key(public_exponent=65537, key_size=2048)}

    def jwk(owner: str, kid: str) -> Dict[str, str]:
        n = priv[owner].public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                "e": b64url(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big"))}

    tenant = "6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"
    now = int(time.time())
    claims = {"aud": "https://api.partnercenter.microsoft.com", "iss": f"https://sts.windows.net/{tenant}/",
              "iat": now - 60, "nbf": now - 60, "exp": now + 3600, "ver": "1.0", "tid": tenant,
              "oid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "upn": "alice@contoso.example",
              "appid": "1950a258-227b-4e31-a9cf-717495945fc2", "scp": "user_impersonation", "amr": ["pwd", "mfa"]}
    tokens = {}
    for name, (kid, signer) in TOKENS.items():
        alg = "ES256" if signer == "EC" else "RS256"
        tokens[name] = jwt.encode(claims, priv[signer], algorithm=alg, headers={"kid": kid})
    docs: Dict[str, Any] = {name: {"doc": {"keys": [jwk(o, k) for k, o in ks]}, "keys": ks} for name, ks in SETS.items()}
    docs["_max_bytes"] = MAX_BYTES
    return tokens, docs


# -- the analysis ---------------------------------------------------------------

def keyset(keys: Optional[List[List[str]]]) -> Optional[frozenset]:
    return None if keys is None else frozenset((k, o) for k, o in keys)


class History:
    """The key sets the gate may hold at any time, from the endpoint's log."""

    def __init__(self, gets: List[Dict[str, Any]]) -> None:
        good = [g for g in gets if g["mode"] == "good" and g["status"] == 200 and g["sent"]]
        self.good = sorted(good, key=lambda g: g["t_done"])
        self.definite = [g for g in self.good if g["t_done"] - g["t_arr"] <= FAST]
        self.times = [g["t_done"] for g in self.good]
        self.def_times = [g["t_done"] for g in self.definite]

    def possible(self, a: float, b: float) -> List[Optional[frozenset]]:
        """Every set the gate may have decided with between a and b."""
        lo = a - TOL
        i = bisect.bisect_right(self.def_times, lo)
        out: List[Optional[frozenset]] = []
        if i == 0:
            out.append(None)
            since = float("-inf")
        else:
            d = self.definite[i - 1]
            out.append(keyset(d["keys"]))
            since = d["t_done"]
        # later answers the gate may or may not have taken yet, and any in
        # the window: an answer counts from when the endpoint began sending
        # it (t_send), since the gate can use it before t_done is logged
        j = bisect.bisect_right(self.times, since)
        for g in self.good[j:]:
            if g.get("t_send", g["t_done"]) <= b:
                out.append(keyset(g["keys"]))
        return out


def pct(xs: List[float], q: float) -> Optional[float]:
    if not xs:
        return None
    s = sorted(xs)
    return round(1000 * s[min(len(s) - 1, int(q * len(s)))], 1)


def analyze(target: str, data: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """The summary and the violations (empty when every assertion holds)."""
    gets = [e for e in data["server"] if e["ev"] == "get"]
    phases = [e for e in data["server"] if e["ev"] == "phase"]
    hist = History(gets)
    v: List[str] = []
    per: Dict[str, Dict[str, int]] = {n: {"allow": 0, "deny": 0, "503": 0, "5xx": 0, "error": 0} for n in TOKENS}
    false_deny_by_phase: Dict[str, int] = {}
    allows_by_phase: Dict[str, Dict[str, int]] = {}
    checks = {"must_allow": 0, "must_refuse": 0, "either": 0, "views": 0}
    lat: List[float] = []
    reasons: Dict[str, int] = {}
    first = {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0}

    def phase_at(t: float) -> str:
        i = bisect.bisect_right([p["t"] for p in phases], t) - 1
        return "before" if i < 0 else f"{phases[i]['phase']}:{PHASE_NAMES[phases[i]['phase']]}"

    def flag(kind: str, msg: str) -> None:
        first[kind] += 1
        if first[kind] <= 5:
            v.append(f"({kind}) {msg}")

    for r in data["requests"]:
        name, t0, t1, status, reason, allowed = r["tok"], r["t0"], r["t1"], r["status"], r["reason"], r["allowed"]
        kid, signer = TOKENS[name]
        c = per[name]
        reasons[reason or str(status)] = reasons.get(reason or str(status), 0) + 1
        possible = hist.possible(t0, t1)
        if status is None:
            c["error"] += 1
            flag("c", f"{name} at {phase_at(t0)}: no answer ({reason})")
            continue
        if allowed:
            c["allow"] += 1
            if name in ("A", "B"):
                key = f"{phase_at(t0)}"
                allows_by_phase.setdefault(key, {"A": 0, "B": 0})[name] += 1
        elif status == 503:
            c["503"] += 1
        elif status >= 500:
            c["5xx"] += 1
        else:
            c["deny"] += 1
        if status >= 500 and not (status == 503 and reason == "keys_unavailable" and None in possible):
            flag("c", f"{name} at {phase_at(t0)}: {status} {reason} (a good key set had been served)")
        if status == 503 and reason == "keys_unavailable":
            ra = (r.get("info") or {}).get("retry_after")
            if not (ra and ra.isdigit() and 1 <= int(ra) <= max(1, int(-(-MIN_REFRESH // 1)))):
                flag("c", f"{name} at {phase_at(t0)}: keys_unavailable with Retry-After {ra!r} "
                     f"(the seconds until the next fetch may be tried: 1..{MIN_REFRESH:g})")
        valid = [s is not None and (kid, signer) in s for s in possible]
        lat.append(t1 - t0)
        if name in ("A", "B"):
            checks["must_allow" if all(valid) else "must_refuse" if not any(valid) else "either"] += 1
        if allowed:
            if signer not in SERVED_KEYS or (name.startswith("forge")):
                flag("a", f"{name} (kid {kid}, signed by {signer}, never served) ALLOWED at {phase_at(t0)} "
                     f"t={t0:.3f}; gate said {r.get('info')}")
            elif not any(valid):
                flag("b", f"{name} ALLOWED at {phase_at(t0)} t={t0:.3f}..{t1:.3f} although every set the gate "
                     f"could hold lacked its key ({sorted(map(sorted, filter(None, possible)))}); "
                     f"gate said {r.get('info')}")
        elif all(valid) and signer in SERVED_KEYS and not name.startswith("forge"):
            p = phase_at(t0)
            false_deny_by_phase[p] = false_deny_by_phase.get(p, 0) + 1
            flag("d", f"{name} refused ({status} {reason}) at {p} t={t0:.3f}..{t1:.3f} although the gate held "
                 f"its key throughout")

    # what the gate says it holds, polled
    polled_versions = []
    for p in data["polls"]:
        st = p["state"]
        if st is None:
            continue
        if "kids" in st:
            checks["views"] += 1
            kids = None if st["kids"] is None else frozenset(st["kids"])
            options = [None if s is None else frozenset(k for k, _ in s)
                       for s in hist.possible(p["t"], p.get("t1", p["t"]))]
            if kids not in options:
                flag("b" if kids and any(k for k in kids if all(o is None or k not in o for o in options)) else "d",
                     f"the gate said it held {sorted(kids) if kids else kids} at {phase_at(p['t'])} t={p['t']:.3f}; "
                     f"the endpoint's log allows {[sorted(o) if o else o for o in options]}")
        if "version" in st:
            polled_versions.append((p["t"], st["version"]))
    final = data.get("final") or {}
    good_served = len(hist.good)
    if "version" in final and final["version"] > good_served:
        flag("d", f"the gate counts {final['version']} good key sets; the endpoint served only {good_served} "
             f"(it took a failed fetch)")

    # (c) the process
    if not data["alive"]:
        flag("c", f"the {target} process was not alive at the end (exit {data.get('exit')})")
    for line in data.get("stderr", "").splitlines():
        if re.search(r"panicked|Traceback|unhandledRejection|middleware error|handler error|FATAL|Segmentation", line):
            flag("c", f"the {target} process wrote: {line[:300]}")
            break

    # (e) the fetch rate
    arrivals = sorted(g["t_arr"] for g in data["server"] if g["ev"] in ("get", "late"))
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    min_gap = min(gaps) if gaps else None
    for a, b in zip(arrivals, arrivals[1:]):
        if b - a < MIN_REFRESH - RATE_TOL:
            flag("e", f"two fetches {b - a:.3f} s apart at {phase_at(a)} (limit {MIN_REFRESH} s, tolerance {RATE_TOL} s)")
    span = data["t_end"] - data["t_start"]
    bound = int(span / MIN_REFRESH) + 1
    if len(arrivals) > bound:
        flag("e", f"{len(arrivals)} fetches reached the endpoint in {span:.1f} s (at most {bound})")
    gate_fetches = final.get("fetches")
    life = data["t_end"] - data["t_launch"]
    gate_bound = int(life / MIN_REFRESH) + 1
    if gate_fetches is not None and gate_fetches > gate_bound:
        flag("e", f"the gate counts {gate_fetches} fetch attempts in its {life:.1f} s (at most {gate_bound})")
    window = 5.0
    max_in_window = 0
    for i, a in enumerate(arrivals):
        max_in_window = max(max_in_window, bisect.bisect_left(arrivals, a + window) - i)
    if max_in_window > int(window / MIN_REFRESH) + 1:
        flag("e", f"{max_in_window} fetches within {window:g} s (at most {int(window / MIN_REFRESH) + 1})")

    for kind, n in first.items():
        if n > 5:
            v.append(f"({kind}) ... and {n - 5} more")
    reqs = len(data["requests"])
    summary = {
        "target": target,
        "requests": reqs,
        "seconds": round(span, 1),
        "rps": round(reqs / span) if span else 0,
        "tokens": per,
        "errors": sum(c["error"] for c in per.values()),
        "latency_ms": {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": pct(lat, 1.0)},
        "checks_A_B": checks,
        "false_denies": sum(false_deny_by_phase.values()),
        "false_denies_by_phase": false_deny_by_phase,
        "allows_by_phase": dict(sorted(allows_by_phase.items(), key=lambda kv: int(kv[0].split(":")[0]) if kv[0][0].isdigit() else -1)),
        "endpoint_fetches": len(arrivals),
        "endpoint_fetches_by_mode": {m: sum(1 for g in gets if g["mode"] == m) for m in sorted({g["mode"] for g in gets})},
        "good_sets_served": good_served,
        "gate_fetch_attempts": gate_fetches,
        "gate_good_sets": final.get("version"),
        "gate_failed_fetches_reported": final.get("warnings"),
        "fetch_bound": bound,
        "min_fetch_interval_s": None if min_gap is None else round(min_gap, 3),
        "max_fetches_in_5s": max_in_window,
        "limit_per_s": round(1 / MIN_REFRESH, 2),
        "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "alive": data["alive"],
        "violations": len(v),
    }
    return summary, v


# -- the load -------------------------------------------------------------------

async def read_response(reader: asyncio.StreamReader) -> Tuple[int, Dict[str, str], bytes]:
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed before an answer")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers: Dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, val = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = val.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    else:
        body = await reader.read()
    return status, headers, body


def judge(target: str, endpoint: str, status: int, headers: Dict[str, str], body: bytes) -> Tuple[int, Optional[str], bool, Any]:
    """(status of the answer the client would get, reason, allowed, what the gate said)."""
    if target == "serve":
        if status == 200:
            return 200, headers.get("x-mfagate-reason"), True, None
        if endpoint == "nginx" and status == 403 and "x-mfagate-answer" in headers:
            blob = headers["x-mfagate-answer"]
            answer = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
            status, body = answer["status"], answer["body"].encode()
            headers = {k.lower(): v for k, v in answer["headers"]}
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {}
    reason = doc.get("reason") if isinstance(doc, dict) else None
    if not isinstance(reason, str):
        reason = None
    if target != "serve" and status == 200 and isinstance(doc, dict) and doc.get("handler") is True:
        return 200, reason, True, {k: doc.get(k) for k in ("version", "kids", "fetches")}
    if status == 503:
        return status, reason, False, {"retry_after": headers.get("retry-after")}
    return status, reason, False, None


async def load(target: str, port: int, tokens: Dict[str, str], t_start: float, t_end: float,
               state_path: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    names = list(TOKENS)
    records: List[Dict[str, Any]] = []
    polls: List[Dict[str, Any]] = []

    def request_bytes(name: str, endpoint: str) -> bytes:
        auth = f"Authorization: Bearer {tokens[name]}\r\n"
        if target != "serve":
            return (f"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n").encode()
        if endpoint == "nginx":
            return (f"GET /auth/nginx HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Original-URI: /v1/customers\r\n"
                    f"X-Original-Method: GET\r\nX-Original-Host: 127.0.0.1\r\n{auth}\r\n").encode()
        return (f"GET /auth/forward HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Uri: /v1/customers\r\n"
                f"X-Forwarded-Method: GET\r\nX-Forwarded-Host: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n{auth}\r\n").encode()

    async def client(i: int) -> None:
        endpoint = "nginx" if i % 2 == 0 else "forward"
        reader = writer = None
        n = i
        while time.monotonic() < t_end:
            name = names[n % len(names)]
            n += 1
            t0 = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), REQUEST_TIMEOUT)
                writer.write(request_bytes(name, endpoint))
                status, headers, body = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
                t1 = time.monotonic()
                st, reason, allowed, info = judge(target, endpoint, status, headers, body)
                records.append({"tok": name, "t0": t0, "t1": t1, "status": st, "reason": reason,
                                "allowed": allowed, "info": info, "c": i})
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
            except Exception as e:  # no answer: a violation of (c)
                t1 = time.monotonic()
                records.append({"tok": name, "t0": t0, "t1": t1, "status": None, "reason": f"{type(e).__name__}: {e}",
                                "allowed": False, "info": None, "c": i})
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    async def poller() -> None:
        while time.monotonic() < t_end + 0.5:
            t = time.monotonic()
            st = await get_state(target, port, state_path)
            polls.append({"t": t, "t1": time.monotonic(), "state": st})
            await asyncio.sleep(0.2)

    while time.monotonic() < t_start:
        await asyncio.sleep(0.002)
    await asyncio.gather(poller(), *(client(i) for i in range(CLIENTS)))
    return records, polls


async def get_state(target: str, port: int, state_path: str) -> Optional[Dict[str, Any]]:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
        writer.write(f"GET {state_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        status, _, body = await asyncio.wait_for(read_response(reader), 2)
        writer.close()
    except Exception:
        return None
    if status != 200:
        return None
    if target != "serve":
        return json.loads(body)
    text = body.decode()

    def metric(name: str) -> Optional[float]:
        m = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.eE+-]+|NaN)$", text, re.M)
        return None if m is None else float(m.group(1))

    fetches, failures = metric("mfagate_jwks_fetches_total"), metric("mfagate_jwks_fetch_failures_total")
    if fetches is None or failures is None:
        return None
    return {"fetches": int(fetches), "failures": int(failures), "ready": metric("mfagate_ready")}


# -- a run ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chaos: {what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"chaos: {what} did not listen on 127.0.0.1:{port} within {seconds} s")


def serve_binary() -> str:
    # scripts/test.sh names the release binary of dist/serve/ (built once).
    given = os.environ.get("MFAGATE_SERVE_BIN")
    if given:
        if not os.access(given, os.X_OK):
            raise SystemExit(f"chaos: MFAGATE_SERVE_BIN={given} is not an executable file")
        return given
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for p in (target / "debug" / "mfagate-serve", target / "release" / "mfagate-serve"):
        if p.exists():
            return str(p)
    raise SystemExit("chaos: mfagate-serve is not built (cargo build -p mfagate-serve)")


def run(target: str, work: Path, summary_path: Path) -> int:
    work.mkdir(parents=True, exist_ok=True)
    tokens, docs = make_material()
    jwks_port, app_port = free_port(), free_port()
    url = f"http://127.0.0.1:{jwks_port}/keys"
    (work / "schedule.json").write_text(json.dumps(SCHEDULE))
    (work / "docs.json").write_text(json.dumps(docs))
    server_log = work / f"{target}-jwks.jsonl"
    server_log.write_text("")
    opts = [str(TTL), str(MIN_REFRESH), str(TIMEOUT), str(MAX_BYTES)]
    # A live demonstration that the run can fail: the gate gets other options
    # than those asserted (e.g. MFAGATE_CHAOS_GATE_OPTS=2,0,0.5,8192: no rate
    # limit, or 2,1,0.5,100000: oversize accepted).
    if os.environ.get("MFAGATE_CHAOS_GATE_OPTS"):
        opts = os.environ["MFAGATE_CHAOS_GATE_OPTS"].split(",")
    state_path = "/_chaos/state"
    if target == "python":
        cmd = [sys.executable, str(HERE / "py_app.py"), str(app_port), url, *opts]
    elif target == "node":
        cmd = ["node", str(HERE / "node_app.js"), str(app_port), url, *opts]
    elif target == "wasm":
        cmd = ["node", str(HERE / "wasm_app.mjs"), str(app_port), url, *opts]
    elif target == "serve":
        conf = work / "serve.toml"
        ttl, min_refresh, timeout, max_bytes = opts
        conf.write_text(
            f'listen = "127.0.0.1:{app_port}"\npolicy = "partner-center"\njwks = "{url}"\nworker_threads = 2\n'
            f"[jwks_refresh]\nttl = {ttl}\nmin_refresh_interval = {min_refresh}\ntimeout = {timeout}\n"
            f"max_bytes = {max_bytes}\n[audit]\nenabled = false\n[reload]\nwatch_interval = 0\n")
        cmd = [serve_binary(), "--config", str(conf)]
        state_path = "/metrics"
    else:
        raise SystemExit(f"chaos: unknown target {target}")
    err_path = work / f"{target}-stderr.log"
    t_launch = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(err_path, "w"), cwd=str(REPO))
    jwks = None
    try:
        wait_listening(app_port, proc, target)
        duration = sum(s[1] for s in SCHEDULE)
        t_start = time.monotonic() + 0.5
        jwks = subprocess.Popen([sys.executable, str(HERE / "jwks_server.py"), str(jwks_port), repr(t_start),
                                 str(work / "schedule.json"), str(work / "docs.json"), str(server_log)])
        records, polls = asyncio.run(load(target, app_port, tokens, t_start, t_start + duration, state_path))
        final = asyncio.run(get_state(target, app_port, state_path)) or {}
        t_end = time.monotonic()
        alive = proc.poll() is None
        exit_code = proc.returncode
        jwks.wait(timeout=15)
    finally:
        if jwks is not None and jwks.poll() is None:
            jwks.kill()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    server = [json.loads(x) for x in server_log.read_text().splitlines() if x.strip()]
    if target == "serve" and final:
        final = {"fetches": final["fetches"], "version": final["fetches"] - final["failures"]}
    data = {"server": server, "requests": records, "polls": polls, "final": final, "alive": alive,
            "exit": exit_code, "stderr": err_path.read_text(errors="replace"), "t_start": t_start, "t_end": t_end,
            "t_launch": t_launch}
    (work / f"{target}-data.json").write_text(json.dumps(data))
    summary, violations = analyze(target, data)
    # The harness detects what it must on this run's own records: one bad
    # allow of each kind injected into them is reported.
    canary = real_canary(target, data)
    summary["canary"] = canary
    if canary != "ok":
        violations.append(f"harness: {canary}")
    summary["violations"] = len(violations)
    with open(summary_path, "a") as f:
        f.write(json.dumps(summary) + "\n")
    print(json.dumps(summary))
    for x in violations:
        print(f"VIOLATION {target}: {x}")
    return 1 if violations else 0


def real_canary(target: str, data: Dict[str, Any]) -> str:
    """Injects into a copy of the run's records an allowed forgery, an allow
    of A after its removal, a 500, a false deny of A in the slow phase and a
    fetch 0.3 s after another; each must be reported under its own letter."""
    phases = {p["phase"]: p for p in data["server"] if p["ev"] == "phase"}
    def mid(i: int) -> float:
        return phases[i]["t"] + SCHEDULE[i][1] * 0.6
    t_removed, t_slow = mid(8), mid(2)
    cases = {
        "a": {"tok": "forge_A_kid", "t0": t_removed, "t1": t_removed + 0.01, "status": 200, "reason": "mfa_satisfied", "allowed": True},
        "b": {"tok": "A", "t0": t_removed, "t1": t_removed + 0.01, "status": 200, "reason": "mfa_satisfied", "allowed": True},
        "c": {"tok": "B", "t0": t_removed, "t1": t_removed + 0.01, "status": 500, "reason": None, "allowed": False},
        "d": {"tok": "A", "t0": t_slow, "t1": t_slow + 0.01, "status": 401, "reason": "signature_invalid", "allowed": False},
    }
    missed = []
    base = {x[1:2] for x in analyze(target, data)[1]}
    for kind, rec in cases.items():
        d = dict(data, requests=data["requests"] + [dict(rec, info=None, c=-1)])
        if kind not in base and kind not in {x[1:2] for x in analyze(target, d)[1]}:
            missed.append(kind)
    # (e): one more fetch 0.3 s after a real one
    gets = [e for e in data["server"] if e["ev"] == "get"]
    if gets and "e" not in base:
        g = gets[len(gets) // 2]
        d = dict(data, server=data["server"] + [dict(g, t_arr=g["t_arr"] + 0.3, t_done=g["t_done"] + 0.3, mode="garbage")])
        if "e" not in {x[1:2] for x in analyze(target, d)[1]}:
            missed.append("e")
    return "ok" if not missed else f"an injected violation of ({', '.join(missed)}) went unreported"


# -- the self-check -------------------------------------------------------------

def synthetic() -> Dict[str, Any]:
    """A run that keeps every rule, made up: the endpoint's log follows the
    schedule (one fetch per 1.05 s), requests every 0.1 s per token, and the
    outcome each gets from a correct gate."""
    t = 1000.0
    server, gets = [], []
    for i, (mode, secs, name) in enumerate(SCHEDULE):
        server.append({"ev": "phase", "phase": i, "mode": mode, "set": name, "keys": SETS.get(name), "t": t})
        t += secs
    end = t
    held: Optional[frozenset] = None
    timeline: List[Tuple[float, Optional[frozenset]]] = [(0.0, None)]
    f = 1000.3
    while f < end:
        i = max(j for j, p in enumerate(server) if p["t"] <= f)
        mode, _, name = SCHEDULE[i]
        if mode != "down":
            keys = SETS[name] if name else ([] if mode == "empty" else None)
            g = {"ev": "get", "n": len(gets) + 1, "phase": i, "mode": mode, "set": name, "keys": keys,
                 "status": 500 if mode == "http500" else 200, "bytes": 100, "t_arr": f, "t_done": f + 0.01, "sent": True}
            gets.append(g)
            if mode == "good":
                held = keyset(keys)
                timeline.append((f + 0.01, held))
        f += 1.05
    server += gets
    requests = []
    t = 1000.0
    while t < end:
        sets = [s for ts, s in timeline if ts <= t - TOL][-1:] + [s for ts, s in timeline if t - TOL < ts <= t + 0.02]
        for name, (kid, signer) in TOKENS.items():
            ok = [s is not None and (kid, signer) in s for s in sets]
            if all(s is None for s in sets):
                rec = (503, "keys_unavailable", False)
            elif all(ok):
                rec = (200, "mfa_satisfied", True)
            elif any(ok):
                continue  # ambiguous: the harness accepts either
            else:
                rec = (401, "key_not_found", False)
            requests.append({"tok": name, "t0": t, "t1": t + 0.02, "status": rec[0], "reason": rec[1],
                             "allowed": rec[2], "info": {"retry_after": "1"} if rec[0] == 503 else None, "c": 0})
        t += 0.1
    polls = []
    for ts, s in timeline[1:]:
        polls.append({"t": ts + TOL + 0.05, "state": {"kids": sorted(k for k, _ in s), "version": 1, "fetches": 1}})
    return {"server": server, "requests": requests, "polls": polls,
            "final": {"fetches": len(gets) + 2, "version": sum(1 for g in gets if g["mode"] == "good")},
            "alive": True, "exit": None, "stderr": "", "t_start": 1000.0, "t_end": end, "t_launch": 999.0}


def selfcheck() -> int:
    base = synthetic()
    _, v = analyze("synthetic", base)
    if v:
        print("chaos self-check: a clean made-up run is reported as violating:", *v, sep="\n  ")
        return 1
    phases = {p["phase"]: p["t"] for p in base["server"] if p["ev"] == "phase"}
    # No false report either: a gate can use a set as soon as the endpoint
    # has sent it, before the endpoint logs that it is done.
    early = copy.deepcopy(base)
    rotated = next(g for g in early["server"] if g["ev"] == "get" and g["phase"] == 7 and g["mode"] == "good")
    rotated["t_send"] = rotated["t_arr"]
    early["requests"].append({"info": None, "c": 0, "tok": "B", "t0": rotated["t_send"] + 0.001,
                              "t1": rotated["t_send"] + 0.002, "status": 200, "reason": "mfa_satisfied", "allowed": True})
    _, v = analyze("synthetic", early)
    if v:
        print("chaos self-check: a set used between its sending and the endpoint's log line is reported:", *v, sep="\n  ")
        return 1
    t_rm = phases[8] + 2.0  # well after the set without A was served
    t_slow = phases[2] + 1.0

    def add(rec: Dict[str, Any]) -> Any:
        def f(d: Dict[str, Any]) -> None:
            d["requests"].append(dict({"info": None, "c": 0, "t1": rec["t0"] + 0.02}, **rec))
        return f

    def fetch_burst(d: Dict[str, Any]) -> None:
        g = [e for e in d["server"] if e["ev"] == "get"][5]
        d["server"].append(dict(g, t_arr=g["t_arr"] + 0.3, t_done=g["t_done"] + 0.3, mode="garbage"))

    def too_many(d: Dict[str, Any]) -> None:
        d["final"]["fetches"] = 100

    def dead(d: Dict[str, Any]) -> None:
        d["alive"] = False

    def panic(d: Dict[str, Any]) -> None:
        d["stderr"] = "thread 'tokio-runtime-worker' panicked at serve/src/keys.rs:1:1"

    def took_failed(d: Dict[str, Any]) -> None:
        d["final"]["version"] += 1

    def view_keeps_a(d: Dict[str, Any]) -> None:
        d["polls"].append({"t": t_rm, "state": {"kids": ["rsa-1", "rsa-2"], "version": 1, "fetches": 1}})

    mutations = [
        ("a", "an allowed never-served EC key", add({"tok": "never_ec", "t0": phases[1] + 2, "status": 200, "reason": "mfa_satisfied", "allowed": True})),
        ("a", "an allowed never-served RSA key", add({"tok": "never_rsa", "t0": phases[7] + 2, "status": 200, "reason": "mfa_satisfied", "allowed": True})),
        ("a", "an allowed forgery (kid of A, signed by B)", add({"tok": "forge_A_kid", "t0": phases[7] + 2, "status": 200, "reason": "mfa_satisfied", "allowed": True})),
        ("b", "A allowed after a set without it was served", add({"tok": "A", "t0": t_rm, "status": 200, "reason": "mfa_satisfied", "allowed": True})),
        ("b", "B allowed before it was ever served", add({"tok": "B", "t0": phases[1] + 2, "status": 200, "reason": "mfa_satisfied", "allowed": True})),
        ("b", "the gate says it still holds A after its removal", view_keeps_a),
        ("c", "a request without an answer", add({"tok": "A", "t0": t_slow, "status": None, "reason": "TimeoutError", "allowed": False})),
        ("c", "a 500", add({"tok": "B", "t0": t_slow, "status": 500, "reason": None, "allowed": False})),
        ("c", "keys_unavailable after a good set", add({"tok": "A", "t0": t_slow, "status": 503, "reason": "keys_unavailable", "allowed": False})),
        ("c", "the process died", dead),
        ("c", "keys_unavailable without Retry-After", add({"tok": "A", "t0": phases[0] + 0.5, "status": 503, "reason": "keys_unavailable", "allowed": False})),
        ("c", "a panic on stderr", panic),
        ("d", "A refused in the slow phase", add({"tok": "A", "t0": t_slow, "status": 401, "reason": "signature_invalid", "allowed": False})),
        ("d", "B refused while emptied", add({"tok": "B", "t0": phases[9] + 1, "status": 401, "reason": "key_not_found", "allowed": False})),
        ("d", "the gate took a failed fetch (version)", took_failed),
        ("e", "two fetches 0.3 s apart", fetch_burst),
        ("e", "the gate counts too many attempts", too_many),
    ]
    missed = []
    for kind, what, mutate in mutations:
        d = copy.deepcopy(base)
        mutate(d)
        _, v = analyze("synthetic", d)
        kinds = {x[1] for x in v}
        if kind not in kinds:
            missed.append(f"({kind}) {what}: reported {v}")
    if missed:
        print("chaos self-check: the harness missed:", *missed, sep="\n  ")
        return 1
    print(f"chaos self-check: a clean made-up run passes, and one whose gate uses a set as it is sent; "
          f"each of {len(mutations)} injected violations is reported "
          f"under its letter ({', '.join(sorted({k for k, _, _ in mutations}))})")
    return 0


def table(path: Path) -> None:
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    head = ("target", "requests", "rps", "A allow/deny/503", "B allow/deny/503", "never+forged allowed",
            "errors", "false denies", "A/B must allow/refuse", "p99/max ms", "fetches (endpoint/gate)", "min gap s", "max in 5 s", "violations")
    out = [head]
    for r in rows:
        t = r["tokens"]
        bad = sum(t[n]["allow"] for n in TOKENS if n not in ("A", "B"))
        out.append((r["target"], str(r["requests"]), str(r["rps"]),
                    "/".join(str(t["A"][k]) for k in ("allow", "deny", "503")),
                    "/".join(str(t["B"][k]) for k in ("allow", "deny", "503")), str(bad),
                    str(r["errors"]), str(r["false_denies"]),
                    f"{r['checks_A_B']['must_allow']}/{r['checks_A_B']['must_refuse']}",
                    f"{r['latency_ms']['p99']}/{r['latency_ms']['max']}", f"{r['endpoint_fetches']}/{r['gate_fetch_attempts']}",
                    str(r["min_fetch_interval_s"]), str(r["max_fetches_in_5s"]), str(r["violations"])))
    w = [max(len(row[i]) for row in out) for i in range(len(head))]
    for row in out:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(row)))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "selfcheck":
        sys.exit(selfcheck())
    if cmd == "run":
        sys.exit(run(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])))
    if cmd == "table":
        table(Path(sys.argv[2]))
        sys.exit(0)
    print(__doc__)
    sys.exit(2)
