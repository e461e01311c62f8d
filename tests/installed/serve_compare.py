"""An installed mfagate-serve against the Rust CLI, for tests/installed/serve-installed.sh.

    python3 serve_compare.py HOST:PORT RUST_MFAGATE WORK POLICY AUDIT_FILE

Each request (a path, and a token from WORK/tokens.json or none) goes to the
forward-auth endpoint (as Caddy and Traefik send it) and to the nginx
endpoint (as nginx does: the auth answer, then its refusal location), and
`mfagate check --json` decides the same request. A refusal must be the CLI's
exactly (status, reason phrase, headers, body); an allow is a 200 with the
decision's subject in the X-Mfagate-* headers. Then /healthz, /readyz and
/metrics, and one audit line per decision. Prints one line per case; exits
1 on any difference.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

ADDR, RUST, WORK, POLICY, AUDIT = sys.argv[1:6]
HOST, PORT = ADDR.rsplit(":", 1)
TOKENS = json.load(open(f"{WORK}/tokens.json", encoding="utf-8"))
# Headers hyper adds to every answer; the decision has none of them.
TRANSPORT = {"content-length", "date"}

CASES: List[Tuple[str, Optional[str]]] = [
    ("/v1/customers", "api_mfa"),  # allow: App+User with MFA
    ("/v1/customers", "api_pwd"),  # 401, Partner Center's "MFA required"
    ("/v1/customers", None),  # no credential
    ("/v1/customers", "api_old"),  # expired (signed in 2023)
    ("/commerce/customers", "id_mfa"),  # a portal page, the agent group's role
    ("/commerce/customers", "id_pwd"),  # the page's redirect to sign in with MFA
]


def get(path: str, headers: Dict[str, str]) -> Tuple[int, str, List[Tuple[str, str]], bytes]:
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    out = (r.status, r.reason, [(k, v) for k, v in r.getheaders()], r.read())
    c.close()
    return out


def cli(path: str, token: Optional[str]) -> dict:
    args = [RUST, "check", "--jwks", f"{WORK}/data/jwks.json", "--policy", POLICY, "--path", path, "--json"]
    if token:
        args += ["--authorization", f"Bearer {TOKENS[token]}"]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"mfagate check failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout)


def compare(label: str, got: Tuple[int, str, List[Tuple[str, str]], bytes], d: dict) -> List[str]:
    status, reason, headers, body = got
    own = [(k.lower(), v) for k, v in headers if k.lower() not in TRANSPORT]
    problems = []
    if d["outcome"] == "allow":
        want = {"x-mfagate-user": d["subject"]["user"] or "", "x-mfagate-reason": d["reason"],
                "x-mfagate-rule": d["rule"] or "", "x-mfagate-roles": ",".join(d["roles"])}
        h = dict(own)
        if status != 200:
            problems.append(f"status {status}, the CLI allows")
        problems += [f"{k}: {h.get(k)!r}, the CLI's {v!r}" for k, v in want.items() if h.get(k) != v]
    else:
        want_headers = [(k.lower(), v) for k, v in d["http"]["response_headers"]]
        if (status, reason) != (d["http"]["status"], d["http"]["status_text"]):
            problems.append(f"{status} {reason}, the CLI's {d['http']['status']} {d['http']['status_text']}")
        if own != want_headers:
            problems.append(f"headers {own}, the CLI's {want_headers}")
        if body.decode() != d["http"]["body"]:
            problems.append(f"body {body!r}, the CLI's {d['http']['body']!r}")
    print(f"   {label}: {d['outcome']} {d['reason']} {status}" + ("" if not problems else "  DIFFERS: " + "; ".join(problems)))
    return problems


def main() -> int:
    failed = 0
    satisfied = 0
    for path, token in CASES:
        d = cli(path, token)
        satisfied += (d["outcome"], d["reason"]) == ("allow", "mfa_satisfied")
        auth = {"Authorization": f"Bearer {TOKENS[token]}"} if token else {}
        who = token or "no credential"
        fwd = get("/auth/forward", {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": path, **auth})
        failed += bool(compare(f"forward {path} {who}", fwd, d))
        ngx = get("/auth/nginx", {"X-Original-Method": "GET", "X-Original-URI": path, **auth})
        if ngx[0] == 403 and d["outcome"] != "allow":
            answer = dict((k.lower(), v) for k, v in ngx[2]).get("x-mfagate-answer", "")
            ngx = get("/auth/nginx/refusal", {"X-Mfagate-Answer": answer})
        failed += bool(compare(f"nginx   {path} {who}", ngx, d))
    for path, want in (("/healthz", "ok\n"), ("/readyz", "ready\n")):
        s, _, _, b = get(path, {})
        if (s, b.decode()) != (200, want):
            print(f"   {path}: {s} {b!r}, expected 200 {want!r}")
            failed += 1
    s, _, _, b = get("/metrics", {})
    metrics = b.decode()
    want = 'mfagate_decisions_total{protocol="forward",outcome="allow",reason="mfa_satisfied"}'
    line = next((ln for ln in metrics.splitlines() if ln.startswith(want)), None)
    print(f"   /metrics: {line}")
    if s != 200 or line is None or not line.endswith(f" {satisfied}"):
        print(f"   /metrics: {s}, expected a line '{want} {satisfied}'")
        failed += 1
    # The writer thread flushes soon after each decision; allow it a moment.
    decisions = 2 * len(CASES)
    for _ in range(50):
        lines = [json.loads(ln) for ln in open(AUDIT, encoding="utf-8") if ln.strip()]
        if len(lines) >= decisions:
            break
        time.sleep(0.1)
    secret = [t for t in ("api_mfa", "api_pwd", "id_mfa") if TOKENS[t] in open(AUDIT, encoding="utf-8").read()]
    print(f"   audit: {len(lines)} lines for {decisions} decisions; tokens in them: {secret or 'none'}")
    if len(lines) != decisions or secret:
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
