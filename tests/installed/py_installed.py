"""The release wheel, as installed in a fresh venv (tests/installed/test.sh runs
this with that venv's python, in a folder outside the checkout):

  1. it is the installed package (site-packages), with its metadata;
  2. the conformance vectors (copied beside this file as data);
  3. the Flask example of docs/python.md, as written, against a local JWKS
     endpoint, served by wsgiref, called with urllib (the middleware);
  4. the clock hook of the middleware (now=).

Prints "N passed, M failed" and exits 1 on any failure. Tokens come from
`mfagate token sign` (tokens.json, written by test.sh).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, make_server

import mfagate

HERE = Path.cwd()
DATA = HERE / "data"
RESULTS: List[Tuple[str, Optional[str]]] = []


def check(name: str, fn: Callable[[], None]) -> None:
    try:
        fn()
        RESULTS.append((name, None))
    except Exception as e:  # every failure is one failed check, with its reason
        RESULTS.append((name, f"{type(e).__name__}: {e}"))


def installed() -> None:
    f = Path(mfagate.__file__)
    assert "site-packages" in f.parts and not str(f).startswith(str(DATA)), f
    md = metadata.metadata("mfagate")
    assert md["Version"] == mfagate.__version__, md["Version"]
    assert md["Requires-Python"] == ">=3.9"
    assert md["License-Expression"] == "MIT OR Apache-2.0", md["License-Expression"]
    assert md["Description-Content-Type"].startswith("text/markdown"), md["Description-Content-Type"]
    body = md.get_payload()  # type: ignore[attr-defined]
    assert "pip install mfagate" in body and "<!-- quickstart: python -->" in body, "no README long description"
    urls = dict(u.split(", ", 1) for u in md.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls), urls
    classifiers = md.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3" in classifiers and "Typing :: Typed" in classifiers, classifiers
    files = {str(p) for p in metadata.files("mfagate") or []}
    lic = {p for p in files if "/licenses/" in p}
    assert any(p.endswith("LICENSE-MIT") for p in lic) and any(p.endswith("LICENSE-APACHE") for p in lic), lic
    assert any(p.startswith("../../../bin/mfagate") or p.endswith("bin/mfagate") for p in files), "no console script"


def mismatch(expected: Any, actual: Any, at: str) -> Optional[str]:
    """The subset rule of tests/vectors/README.md (and tests/matcher)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{at}: expected an object, got {actual!r}"
        for k, v in expected.items():
            why = mismatch(v, actual.get(k), f"{at}.{k}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{at}: expected {expected!r}, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            why = mismatch(e, a, f"{at}[{i}]")
            if why:
                return why
        return None
    if isinstance(expected, bool) or isinstance(actual, bool):
        same = isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    else:
        same = expected == actual
    return None if same else f"{at}: expected {expected!r}, got {actual!r}"


def vectors() -> None:
    cases = 0
    failed: List[str] = []
    for f in sorted((DATA / "vectors").glob("*.json")):
        if f.name == "index.json":
            continue
        doc = json.loads(f.read_text(encoding="utf-8"))
        assert doc["format"] == "mfagate-vectors/1"
        for c in doc["cases"]:
            cases += 1
            try:
                gate = mfagate.Gate(c["policy"], doc["keys"])
            except mfagate.MfagateError as e:
                why = mismatch(c.get("expect_error"), {"code": e.code, "message": e.message}, "error") \
                    if "expect_error" in c else f"the gate did not build: {e}"
            else:
                why = "an error was expected" if "expect_error" in c else \
                    mismatch(c["expect"], gate.evaluate_request(c["request"]).to_dict(), "decision")
            if why:
                failed.append(f"{f.name} {c['id']}: {why}")
    m = json.loads((DATA / "matcher" / "cases.json").read_text(encoding="utf-8"))
    assert all(mismatch(e, a, "d") for e, a in m["differs"]) and not any(mismatch(e, a, "d") for e, a in m["same"])
    print(f"   vectors from the installed wheel: {cases - len(failed)} of {cases} cases")
    assert cases > 300 and not failed, "\n".join(failed[:10])


class Jwks:
    """A local JWKS endpoint (the test keys' public JWK Set)."""

    def __init__(self) -> None:
        body = (DATA / "jwks.json").read_bytes()

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a: Any) -> None:
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/keys"


class Quiet(WSGIRequestHandler):
    def log_message(self, *a: Any) -> None:
        pass


def serve(app: Any) -> Tuple[str, Callable[[], None]]:
    srv = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}", srv.shutdown


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a: Any) -> None:
        return None


def get(url: str, headers: Dict[str, str]) -> Tuple[int, Dict[str, str], str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def flask_example() -> None:
    doc = (DATA / "python.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- example: flask -->\s*```python\n(.*?)```", doc, re.S)
    assert m, "no Flask example in docs/python.md"
    jwks = Jwks()
    import os

    os.environ["JWKS_URL"] = jwks.url
    ns: Dict[str, Any] = {"__name__": "docs_example_flask"}
    exec(compile(m.group(1), "docs/python.md:flask", "exec"), ns)
    tokens = json.loads((HERE / "tokens.json").read_text())
    base, stop = serve(ns["app"])
    try:
        s, h, _ = get(base + "/commerce/customers", {})
        assert (s, h.get("Location")) == (302, "/.auth/login/aad?return_to=/commerce/customers"), (s, h)
        s, h, _ = get(base + "/commerce/customers", {"Cookie": f"id_token={tokens['id_pwd']}"})
        assert s == 302 and h["Location"].startswith("/.auth/login/aad?prompt=login&amr_values=mfa&return_to="), (s, h)
        s, _, body = get(base + "/commerce/customers", {"Cookie": f"id_token={tokens['id_mfa']}"})
        assert s == 200, (s, body)
        assert json.loads(body) == {"user": "alice@contoso.example", "roles": ["admin_agent"]}, body
    finally:
        stop()
        jwks.srv.shutdown()


def clock_hook() -> None:
    from mfagate.wsgi import MfagateMiddleware

    tokens = json.loads((HERE / "tokens.json").read_text())
    gate = mfagate.Gate("partner-center", (DATA / "jwks.json").read_text())

    def app(environ: Dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    hdr = {"Authorization": "Bearer " + tokens["api_old"]}
    for clock, want in ((None, 401), (lambda: tokens["api_old_now"], 200)):
        base, stop = serve(MfagateMiddleware(app, gate, now=clock))
        try:
            s, _, body = get(base + "/v1/customers", hdr)
        finally:
            stop()
        assert s == want, (clock, s, body)


for name, fn in (("installed wheel and metadata", installed), ("conformance vectors", vectors),
                 ("docs/python.md Flask example", flask_example), ("middleware clock hook", clock_hook)):
    check(name, fn)
for name, why in RESULTS:
    print(f"   {'ok  ' if why is None else 'FAIL'} {name}" + ("" if why is None else f": {why}"))
bad = sum(1 for _, why in RESULTS if why)
print(f"python (installed wheel): {len(RESULTS) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
