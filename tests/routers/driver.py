"""The router differential's driver (issue 18, "The guard: a router
differential"; docs/security.md).

For one running echo application: generates requests from the policy's own
paths and hosts by mutation (seeded), sends each over a raw socket (the bytes
are exact), reads which route the router dispatched, asks the gate (the
Python binding, in process) for the same request with a token that has
neither MFA nor roles, and checks the property:

    the router dispatched a route whose rule needs MFA or roles
    => the gate's decision is not `allow`.

A violation is shrunk (its mutations dropped one by one while it still
fails) and printed. Before the run, fixed requests check that the echo
application registers the policy's routes, and a canary (the gate asked for
a wrong path, then a wrong host, on a request the router dispatched to a
protected route) proves the check fails when the gate reads the request
otherwise than the router.

    python driver.py ROUTER PORT --count N --seed S --token FILE --out DIR
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Optional

import mfagate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ROUTES = json.loads((HERE / "routes.json").read_text())
STRICT: dict = ROUTES["strict"]
ADMIN: str = ROUTES["admin_host"]
HOSTS: list = ROUTES["hosts"]
PATHS: list = ROUTES["paths"]
NOW = 1700000100  # the token is signed at 1700000000 for a day

# --------------------------------------------------------------------------
# Requests and mutations

class Req:
    """One request: method, target (the request-target, str: encoded as UTF-8
    on the wire), host (None: no Host header), extra header lines."""

    __slots__ = ("method", "target", "host", "extra")

    def __init__(self, method: str, target: str, host: Optional[str]):
        self.method, self.target, self.host, self.extra = method, target, host, []

    def wire(self) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/1.1"]
        if self.host is not None:
            lines.append(f"Host: {self.host}")
        lines += self.extra
        lines += ["Connection: close", "", ""]
        return "\r\n".join(lines).encode("utf-8")

    def show(self) -> str:
        s = repr(self.wire().split(b"\r\nConnection: close")[0])[1:]
        return s + " (sent over HTTP/2: Host as :authority)" if HTTP2 else s


def _split(t: str) -> tuple:
    """(absolute-form prefix, path, query) of a target."""
    pre = ""
    if "://" in t[:12]:
        i = t.find("/", t.find("://") + 3)
        pre, t = (t, "") if i < 0 else (t[:i], t[i:])
    q = ""
    for sep in "?#":
        j = t.find(sep)
        if j >= 0:
            t, q = t[:j], t[j:] + q
            break
    return pre, t, q


def on_path(fn: Callable[[str, random.Random], str]) -> Callable[[Req, random.Random], None]:
    def m(r: Req, rnd: random.Random) -> None:
        pre, p, q = _split(r.target)
        r.target = pre + fn(p, rnd) + q
    return m


def _pick_char(p: str, rnd: random.Random, want: Callable[[str], bool]) -> int:
    idx = [i for i, c in enumerate(p) if want(c)]
    return rnd.choice(idx) if idx else -1


def _pct(c: str, rnd: random.Random) -> str:
    f = "%{:02X}" if rnd.random() < 0.7 else "%{:02x}"
    return "".join(f.format(b) for b in c.encode("utf-8"))


def m_case(p: str, rnd: random.Random) -> str:
    k = rnd.random()
    if k < 0.3:
        return p.upper()
    if k < 0.5:
        i = _pick_char(p, rnd, str.isalpha)
        return p if i < 0 else p[:i] + p[i].swapcase() + p[i + 1:]
    return "".join(c.swapcase() if c.isalpha() and rnd.random() < 0.3 else c for c in p)


FOLDS = {"s": ["\u017f"], "i": ["\u0131", "\u0130"], "k": ["\u212a"], "K": ["\u212a"], "S": ["\u017f"],
         "I": ["\u0130", "\u0131"], "a": ["\uff41"], "e": ["\u0435"]}


def m_unicode(p: str, rnd: random.Random) -> str:
    i = _pick_char(p, rnd, lambda c: c in FOLDS)
    if i < 0:
        return p
    u = rnd.choice(FOLDS[p[i]])
    return p[:i] + (u if rnd.random() < 0.4 else _pct(u, rnd)) + p[i + 1:]


def m_pct(p: str, rnd: random.Random) -> str:
    i = _pick_char(p, rnd, lambda c: c not in "%")
    return p if i < 0 else p[:i] + _pct(p[i], rnd) + p[i + 1:]


def m_pct_double(p: str, rnd: random.Random) -> str:
    i = _pick_char(p, rnd, lambda c: c not in "%")
    return p if i < 0 else p[:i] + "%25" + _pct(p[i], rnd)[1:] + p[i + 1:]


def m_overlong(p: str, rnd: random.Random) -> str:
    i = _pick_char(p, rnd, lambda c: ord(c) < 0x80)
    if i < 0:
        return p
    c = ord(p[i])
    if rnd.random() < 0.7:
        enc = "%{:02X}%{:02X}".format(0xC0 | (c >> 6), 0x80 | (c & 0x3F))
    else:
        enc = "%E0%{:02X}%{:02X}".format(0x80 | (c >> 6), 0x80 | (c & 0x3F))
    return p[:i] + enc + p[i + 1:]


DOTS = ["/.", "/..", "/%2e", "/%2E%2E", "/.%2e", "/./", "/x/..", "/x/%2e%2e", "/..%2f", "/x/..;"]


def m_dots(p: str, rnd: random.Random) -> str:
    slashes = [i for i, c in enumerate(p) if c == "/"] or [0]
    i = rnd.choice(slashes + [len(p)])
    return p[:i] + rnd.choice(DOTS) + p[i:]


PARAMS = [";", ";p", ";jsessionid=1", ";a=b", ";/", ";x=/..", ";%2f"]


def m_params(p: str, rnd: random.Random) -> str:
    ends = [i for i, c in enumerate(p) if c == "/" and i > 0] + [len(p)]
    i = rnd.choice(ends)
    return p[:i] + rnd.choice(PARAMS) + p[i:]


def m_dotdot_semicolon(p: str, rnd: random.Random) -> str:
    decoy = rnd.choice(["/healthz", "/about", "/x", ""])
    return decoy + rnd.choice(["/..;", "/..;x", "/%2e%2e;", "/.;"]) + p


def m_slashes(p: str, rnd: random.Random) -> str:
    slashes = [i for i, c in enumerate(p) if c == "/"] or [0]
    i = rnd.choice(slashes)
    return p[:i] + rnd.choice(["//", "///", "/%2f", "/%2F"]) + p[i + 1:]


def m_backslash(p: str, rnd: random.Random) -> str:
    slashes = [i for i, c in enumerate(p) if c == "/"]
    if not slashes:
        return p
    i = rnd.choice(slashes)
    return p[:i] + rnd.choice(["\\", "%5C", "%5c", "/\\"]) + p[i + 1:]


TRAIL = [".", "..", " ", "%20", "%2e", ". ", "%20.", "~", "::$DATA", "%00", "+"]


def m_trailing(p: str, rnd: random.Random) -> str:
    ends = [i for i, c in enumerate(p) if c == "/" and i > 0] + [len(p)]
    i = rnd.choice(ends)
    return p[:i] + rnd.choice(TRAIL) + p[i:]


SUFFIX = ["/", ".json", "/x", "/x/y", ".html", "/index", "/.well-known", "~1", "/%20", "-x", "x"]


def m_suffix(p: str, rnd: random.Random) -> str:
    return p + rnd.choice(SUFFIX)


CONTROLS = ["\t", "\r", "\n", "\x7f", "\x0b", "\x0c", "\x00", "\x01", "\x1f"]


def m_control(p: str, rnd: random.Random) -> str:
    i = rnd.randrange(1, len(p) + 1) if len(p) > 0 else 0
    c = rnd.choice(CONTROLS)
    return p[:i] + (c if rnd.random() < 0.4 else _pct(c, rnd)) + p[i:]


def m_query(r: Req, rnd: random.Random) -> None:
    r.target += rnd.choice(["?x=1", "?", "#frag", "?/commerce/x", "?a=%2F..%2F", "#/commerce", "?;"])


def m_absolute(r: Req, rnd: random.Random) -> None:
    pre, p, q = _split(r.target)
    host = rnd.choice([ADMIN, r.host or "www.contoso.example", "www.contoso.example", "ADMIN.contoso.example"])
    scheme = rnd.choice(["http", "http", "https", "HTTP"])
    r.target = f"{scheme}://{host}{p}{q}"


def m_host_port(r: Req, rnd: random.Random) -> None:
    if r.host is not None:
        r.host += rnd.choice([":80", ":8080", ":443", ":0", ":65535", ":080"])


def m_host_junk_port(r: Req, rnd: random.Random) -> None:
    if r.host is not None:
        r.host += rnd.choice([":x", ":443:", ":443:443", ":", ":-1", ": 80", ":80x", ":99999", ":%34%34%33", ":@"])


def m_host_dot(r: Req, rnd: random.Random) -> None:
    if r.host is not None:
        r.host += rnd.choice([".", "..", ". "]) if rnd.random() < 0.8 else ""


def m_host_case(r: Req, rnd: random.Random) -> None:
    if r.host is not None:
        r.host = r.host.upper() if rnd.random() < 0.4 else "".join(
            c.swapcase() if rnd.random() < 0.3 else c for c in r.host)


def m_host_idn(r: Req, rnd: random.Random) -> None:
    if r.host is None:
        return
    k = rnd.randrange(6)
    if k == 0:
        r.host = r.host.replace("i", "\u0131", 1)              # dotless i
    elif k == 1:
        r.host = r.host.replace("a", "\uff41", 1)              # fullwidth a (UTS 46 maps it to a)
    elif k == 2:
        r.host = r.host.replace("i", "\u0130", 1)              # dotted capital I
    elif k == 3:
        r.host = r.host.replace("k", "\u212a", 1)              # Kelvin sign
    elif k == 4:
        first, _, rest = r.host.partition(".")
        r.host = "xn--" + first.replace("i", "\u0131", 1).encode("punycode").decode() + "." + rest
    else:
        r.host = r.host.replace("admin", "xn--admin", 1)


def m_host_drop(r: Req, rnd: random.Random) -> None:
    if rnd.random() < 0.5:
        r.host = None
    else:
        r.host = rnd.choice(["", " ", ADMIN + " ", " " + ADMIN, ADMIN + "\t"])


def m_host_dup(r: Req, rnd: random.Random) -> None:
    other = ADMIN if r.host != ADMIN else "www.contoso.example"
    r.extra.append(f"Host: {other}")


def m_host_swap(r: Req, rnd: random.Random) -> None:
    r.host = rnd.choice(HOSTS + ["127.0.0.1", "[::1]", "admin.contoso.example.evil", "x.admin.contoso.example"])


def m_method(r: Req, rnd: random.Random) -> None:
    k = rnd.random()
    if k < 0.3:
        r.method = r.method.lower()
    elif k < 0.5:
        r.method = "".join(c.swapcase() if rnd.random() < 0.5 else c for c in r.method)
    else:
        r.method = rnd.choice(["HEAD", "OPTIONS", "head", "options", "Get", "DELETE", "delete", "POST",
                               "PUT", "PATCH", "TRACE", "PROPFIND", "GET "])


def m_xfwd(r: Req, rnd: random.Random) -> None:
    # Headers some frameworks honour for the host or path (never trusted here).
    r.extra.append(rnd.choice([f"X-Forwarded-Host: {ADMIN}", "X-Original-URL: /commerce/x",
                               "X-Rewrite-URL: /commerce/x", "X-HTTP-Method-Override: GET"]))


PATH_MUTATIONS = {
    "case": m_case, "unicode_fold": m_unicode, "pct": m_pct, "pct_double": m_pct_double,
    "overlong": m_overlong, "dot_segment": m_dots, "params": m_params,
    "dotdot_semicolon": m_dotdot_semicolon, "slashes": m_slashes, "backslash": m_backslash,
    "trailing_dot_space": m_trailing, "suffix": m_suffix, "control": m_control,
}
MUTATIONS: dict = {k: on_path(f) for k, f in PATH_MUTATIONS.items()}
MUTATIONS.update({
    "query": m_query, "absolute_form": m_absolute, "host_port": m_host_port,
    "host_junk_port": m_host_junk_port, "host_trailing_dot": m_host_dot, "host_case": m_host_case,
    "host_idn": m_host_idn, "host_missing": m_host_drop, "host_duplicate": m_host_dup,
    "host_other": m_host_swap, "method": m_method, "forwarded_headers": m_xfwd,
})
WEIGHTS = {k: 1.0 for k in MUTATIONS}
WEIGHTS.update({"case": 2, "unicode_fold": 2, "pct": 2, "host_junk_port": 1.5, "trailing_dot_space": 1.5,
                "control": 1.5, "host_duplicate": 0.3, "forwarded_headers": 0.3})
NAMES = list(MUTATIONS)


class Case:
    """A base request and the mutations applied to it, each with its own
    seed, so any subset can be re-applied (shrinking)."""

    def __init__(self, method: str, path: str, host: Optional[str], muts: list):
        self.method, self.path, self.host, self.muts = method, path, host, muts

    def build(self, muts: Optional[list] = None) -> Req:
        r = Req(self.method, self.path, self.host)
        for name, s in (self.muts if muts is None else muts):
            MUTATIONS[name](r, random.Random(s))
        return r


def generate(rnd: random.Random) -> Case:
    method = rnd.choices(["GET", "HEAD", "POST", "DELETE", "OPTIONS", "PUT"], [8, 1, 2, 2, 1, 1])[0]
    path = rnd.choice(PATHS)
    host = rnd.choices(HOSTS, [2, 3, 1])[0]
    k = min(rnd.choices([0, 1, 2, 3, 4, 5], [1, 6, 5, 3, 2, 1])[0], 5)
    muts = [(n, rnd.getrandbits(32)) for n in rnd.choices(NAMES, [WEIGHTS[n] for n in NAMES], k=k)]
    return Case(method, path, host, muts)


# --------------------------------------------------------------------------
# The router, the gate, the property

def send(port: int, wire: bytes, timeout: float = 5.0) -> tuple:
    """(status, echo dict or None) of one request on its own connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(wire)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
            data = b"".join(chunks)
            # Stop once the head is in and, if it has a length, the body.
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].lower()
                if b"content-length:" in head:
                    n = int(head.split(b"content-length:")[1].split(b"\r\n")[0].strip() or 0)
                    if head.startswith(b"http/1.1 1"):
                        continue
                    if len(data) >= head_end + 4 + n or wire.upper().startswith(b"HEAD"):
                        break
    finally:
        s.close()
    data = b"".join(chunks)
    if not data.startswith(b"HTTP/"):
        return (0, None)
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    try:
        status = int(head[0].split(b" ")[1])
    except (IndexError, ValueError):
        return (0, None)
    for line in head[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"x-echo":
            try:
                return (status, json.loads(v.strip().decode("latin-1")))
            except ValueError:
                return (status, None)
    return (status, None)


def send_h2(port: int, r: "Req", timeout: float = 5.0) -> tuple:
    """The same request over cleartext HTTP/2 (prior knowledge): the host is
    `:authority` (no Host header, as HTTP/2 clients send it), an absolute-form
    target gives `:scheme` and `:authority`, a second Host line becomes a
    `host` header. Headers are sent as they are (no validation)."""
    import h2.config
    import h2.connection
    import h2.events

    pre, p, q = _split(r.target)
    scheme, authority = "http", r.host
    if pre:
        scheme, _, authority = pre.partition("://")
    hdrs = [(b":method", r.method.encode()), (b":scheme", scheme.encode()), (b":path", (p + q or "/").encode())]
    if authority is not None:
        hdrs.append((b":authority", authority.encode()))
    for line in r.extra:
        k, _, v = line.partition(":")
        hdrs.append((k.strip().lower().encode(), v.strip().encode()))
    cfg = h2.config.H2Configuration(client_side=True, header_encoding=None, validate_outbound_headers=False,
                                    normalize_outbound_headers=False, validate_inbound_headers=False)
    c = h2.connection.H2Connection(config=cfg)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    status, echo = 0, None
    try:
        c.initiate_connection()
        c.send_headers(1, hdrs, end_stream=True)
        s.sendall(c.data_to_send())
        done = False
        while not done:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            try:
                events = c.receive_data(data)
            except Exception:  # a protocol error from the server's side
                break
            for ev in events:
                if isinstance(ev, h2.events.ResponseReceived):
                    for k, v in ev.headers:
                        if k == b":status":
                            status = int(v)
                        elif k == b"x-echo":
                            try:
                                echo = json.loads(v.decode("latin-1"))
                            except ValueError:
                                pass
                if isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    done = True
            out = c.data_to_send()
            if out:
                s.sendall(out)
    finally:
        s.close()
    return status, echo


HTTP2 = False


def send_req(port: int, r: "Req") -> tuple:
    return send_h2(port, r) if HTTP2 else send(port, r.wire())


class Checker:
    def __init__(self, router: str, port: int, gate, authorization: str):
        self.router, self.port, self.gate, self.authz = router, port, gate, authorization

    def ask_gate(self, r: Req, path: Optional[str] = None, host: Optional[str] = "\0keep",
                 method: Optional[str] = None):
        """The gate's decision for what the application received: the raw
        request-target, the method and the Host header as the application
        reads them (the echo's `target`, `method` and `hh`: what a middleware
        passes), or as sent when not given."""
        try:
            return self.gate.evaluate(
                r.target if path is None else path,
                method=r.method if method is None else method,
                host=r.host if host == "\0keep" else host,
                authorization=self.authz,
                now=NOW,
            )
        except mfagate.MfagateError as e:  # a refusal to decide is not an allow
            return e

    def run(self, r: Req) -> tuple:
        """(status, echo, decision, violation?)."""
        status, echo = send_req(self.port, r)
        if echo is None or status >= 400:
            return status, None, None, False
        route = echo.get("route")
        if route not in STRICT:
            raise SystemExit(f"{self.router}: the echo application answered an unknown route {route!r}")
        d = self.ask_gate(r, path=target_of(echo, r), host=echo.get("hh") or None,
                          method=echo.get("method") or None)
        return status, echo, d, violates(route, d)


def target_of(echo: dict, r: Req) -> str:
    """The request-target as the application received it (parsers split the
    request line on whitespace, so it can differ from what was sent): the
    echo's raw `target`, or for WSGI servers that keep no raw target
    (wsgiref, Django's runserver) PATH_INFO encoded back exactly as the WSGI
    middleware does."""
    if echo.get("target") is not None:
        return echo["target"]
    if echo.get("wsgi_path") is not None:
        from mfagate.wsgi import _path
        q = echo.get("query") or ""
        return _path({"PATH_INFO": echo["wsgi_path"]}) + ("?" + q if q else "")
    return r.target


def outcome(d) -> str:
    return getattr(d, "outcome", "error")


def violates(route: str, d) -> bool:
    return STRICT[route] and outcome(d) == "allow"


def shrink(ck: Checker, case: Case) -> list:
    muts = list(case.muts)
    changed = True
    while changed:
        changed = False
        for i in range(len(muts)):
            trial = muts[:i] + muts[i + 1:]
            if ck.run(case.build(trial))[3]:
                muts, changed = trial, True
                break
    return muts


SANITY = [  # (method, path, host, the route every echo application must dispatch)
    ("GET", "/commerce", "www.contoso.example", "customers"),
    ("GET", "/commerce/customers/42/orders", "www.contoso.example", "customers"),
    ("GET", "/dashboard/support/csp/customers/7", "www.contoso.example", "csp_customers"),
    ("GET", "/dashboard/support/csp/customers/7/x", "www.contoso.example", "default"),
    ("GET", "/dashboard/billing/invoices", "www.contoso.example", "billing"),
    ("GET", "/settings/users", ADMIN, "admin_settings"),
    ("GET", "/settings/users", "www.contoso.example", "default"),
    ("GET", "/reports/q3", "www.contoso.example", "reports"),
    ("DELETE", "/reports/q3", "www.contoso.example", "reports"),
    ("POST", "/reports/q3", "www.contoso.example", "default"),
    ("GET", "/v1/customers", "www.contoso.example", "api"),
    ("GET", "/healthz", "www.contoso.example", "health"),
    ("GET", "/about", "www.contoso.example", "default"),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("router")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-shrinks", type=int, default=40)
    ap.add_argument("--http2", action="store_true", help="cleartext HTTP/2 instead of HTTP/1.1")
    a = ap.parse_args()
    global HTTP2
    HTTP2 = a.http2
    gate = mfagate.Gate.from_policy_file(str(HERE / "policy.toml"), (ROOT / "tests/keys/jwks.json").read_text())
    ck = Checker(a.router, a.port, gate, "Bearer " + Path(a.token).read_text().strip())
    name = a.router
    t0 = time.monotonic()

    # 1. The echo application registers the policy's routes, and the policy
    #    (the gate) protects what routes.json says it does.
    for method, path, host, want in SANITY:
        r = Req(method, path, host)
        status, echo = send_req(a.port, r)
        got = echo and echo.get("route")
        if got != want:
            print(f"{name}: FAIL sanity: {r.show()} dispatched {got!r} (HTTP {status}), expected {want!r}")
            return 2
        d = ck.ask_gate(r)
        if (outcome(d) != "allow") != STRICT[want]:
            print(f"{name}: FAIL sanity: the gate says {outcome(d)} for {r.show()} but routes.json says "
                  f"{want} is {'strict' if STRICT[want] else 'not strict'}: policy.toml and routes.json differ")
            return 2

    # 2. Canary: the check must fail when the gate reads another path / host.
    for r, path, host in [
        (Req("GET", "/commerce/canary", "www.contoso.example"), "/canary-elsewhere", "\0keep"),
        (Req("GET", "/settings/canary", ADMIN), None, "www.contoso.example"),
    ]:
        status, echo, d, bad = ck.run(r)
        if bad or echo is None:
            print(f"{name}: FAIL canary setup: {r.show()} -> {status} {echo} {outcome(d)}")
            return 2
        wrong = ck.ask_gate(r, path=path, host=host)
        if not violates(echo["route"], wrong):
            print(f"{name}: FAIL canary: the gate asked with a wrong path/host was not reported for {r.show()}")
            return 2
    print(f"{name}: sanity ({len(SANITY)} requests) and canary (wrong path, wrong host: both detected) ok")

    # 3. The differential.
    rnd = random.Random(a.seed)
    statuses: Counter = Counter()
    accepted = checked = 0
    violations = []
    classes: dict = {}
    by_route: Counter = Counter()
    reasons: Counter = Counter()    # the gate's reasons on protected routes
    coverage: Counter = Counter()   # mutations among requests dispatched to protected routes
    shrinks = 0
    for i in range(a.count):
        case = generate(rnd)
        r = case.build()
        try:
            status, echo, d, bad = ck.run(r)
        except OSError as e:
            statuses[f"io:{type(e).__name__}"] += 1
            continue
        statuses[status] += 1
        if echo is None:
            continue
        accepted += 1
        by_route[echo["route"]] += 1
        if STRICT[echo["route"]]:
            checked += 1
            reasons[getattr(d, "reason", "error")] += 1
            for n in {n for n, _ in case.muts}:
                coverage[n] += 1
        if not bad:
            continue
        violations.append(i)
        key = tuple(sorted({n for n, _ in case.muts}))
        if shrinks < a.max_shrinks and key not in classes:
            shrinks += 1
            small = shrink(ck, case)
            cls = tuple(sorted({n for n, _ in small}))
            rr = case.build(small)
            _, e2, d2, _ = ck.run(rr)
            prev = classes.get(cls)
            if prev is None or len(rr.wire()) < len(prev["request"]):
                classes[cls] = {"request": rr.show(), "route": e2 and e2["route"], "router_host": e2 and e2["host"],
                                "router_path": e2 and e2["path"], "gate_target": e2 and target_of(e2, rr), "gate": f"{outcome(d2)} {getattr(d2, 'reason', d2)} "
                                f"(rule {getattr(d2, 'rule', None)})", "index": i, "mutations": [n for n, _ in small]}
            classes.setdefault(key, classes[cls])
    dt = time.monotonic() - t0
    refused = sum(v for k, v in statuses.items() if k not in (200,))
    uniq = {}
    for v in classes.values():
        uniq[v["request"]] = v
    summary = {
        "router": name, "seed": a.seed, "requests": a.count, "accepted": accepted, "refused": refused,
        "checked": checked, "violations": len(violations), "seconds": round(dt, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "routes": dict(by_route), "gate_reasons_on_protected": dict(reasons.most_common()),
        "mutations_on_protected": dict(coverage.most_common()), "smallest": sorted(uniq.values(), key=lambda v: len(v["request"])),
    }
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / f"{name}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    print(f"{name}: {a.count} requests, {accepted} accepted ({refused} refused by the router), "
          f"{checked} checked on protected routes, {len(violations)} violations, seed {a.seed}, {dt:.1f} s")
    for v in summary["smallest"]:
        print(f"  VIOLATION [{', '.join(v['mutations'])}] {v['request']}")
        print(f"    router: route {v['route']} (host {v['router_host']!r}, path {v['router_path']!r}); "
              f"gate asked for {v['gate_target']!r}: {v['gate']}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
