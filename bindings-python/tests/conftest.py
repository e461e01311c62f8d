"""Shared fixtures: test keys from tests/keys, token minting, local servers."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
KEYS_DIR = REPO / "tests" / "keys"

TENANT = "6c6c0c8e-2f3e-4b8a-9d55-0a1b2c3d4e5f"
OTHER_TENANT = "0d5b3c2a-1111-4222-8333-444455556666"  # a customer's, or anyone's
APP_ID = "1950a258-227b-4e31-a9cf-717495945fc2"
OID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
AUD = "https://api.partnercenter.microsoft.com"
ADMIN_AGENTS = "a1b2c3d4-0000-4000-8000-000000000001"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _load_private(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((KEYS_DIR / name).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> Dict[str, str]:
    n = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
        "e": b64url(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")),
    }


SIGNING = _load_private("rsa-signing-1.pem")
ROTATED = _load_private("rsa-rotated-2.pem")
SIGNING_KID = "rsa-signing-1"
ROTATED_KID = "rsa-rotated-2"
JWKS = {"keys": [public_jwk(SIGNING, SIGNING_KID)]}
ROTATED_JWKS = {"keys": [public_jwk(ROTATED, ROTATED_KID)]}
HS_SECRET_B64 = (KEYS_DIR / "hs256-secret.b64url").read_text().strip()
HS_SECRET = base64.urlsafe_b64decode(HS_SECRET_B64 + "=" * (-len(HS_SECRET_B64) % 4))
HS_JWKS = {"keys": [{"kty": "oct", "kid": "hs-1", "k": HS_SECRET_B64}]}


def claims(now: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    """An App+User Partner Center API token (v1), MFA done, valid for an hour."""
    now = int(time.time()) if now is None else now
    c: Dict[str, Any] = {
        "aud": AUD,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "ver": "1.0",
        "tid": TENANT,
        "oid": OID,
        "upn": "alice@contoso.example",
        "appid": APP_ID,
        "scp": "user_impersonation",
        "amr": ["pwd", "mfa"],
    }
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def app_only_claims(now: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    """An App-only Partner Center API token (client credentials): oid = sub,
    no user claims, an application role."""
    c = claims(now, upn=None, scp=None, amr=None, sub=OID, roles=["Partner.ReadWrite.All"], appidacr="1")
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def tenant_claims(tenant: str, now: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    """An App+User token (v1, MFA done) of `tenant`."""
    return claims(now, **{"tid": tenant, "iss": f"https://sts.windows.net/{tenant}/", **extra})


def id_token_claims(now: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    """An ID token of a partner user in the AdminAgents group."""
    c = claims(now, **{"groups": [ADMIN_AGENTS], **extra})
    for k in ("appid", "scp"):
        c.pop(k, None)
    return c


def mint(c: Dict[str, Any], key: Any = None, kid: str = SIGNING_KID, alg: str = "RS256") -> str:
    return jwt.encode(c, SIGNING if key is None else key, algorithm=alg, headers={"kid": kid})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JwksServer:
    """A local JWKS endpoint whose behaviour the test sets: ok, slow,
    garbage, error, huge, raw (answers `body` as it is), redirect (302 to
    `location`), drip (the key set, one byte per `delay` seconds),
    drip-headers (the status line, then header bytes one per `delay`
    seconds); `stop()` takes it down (connection refused)."""

    def __init__(self) -> None:
        self.doc: Any = JWKS
        self.mode = "ok"
        self.delay = 0.0
        self.hits = 0
        self.body = b""
        self.location = ""
        self.stopped = threading.Event()
        owner = self

        def drip(out: Any, data: bytes) -> None:
            for i in range(len(data)):
                if owner.stopped.wait(owner.delay):
                    return
                out.write(data[i : i + 1])
                out.flush()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.hits += 1
                if owner.mode in ("drip", "drip-headers"):
                    body = json.dumps(owner.doc).encode()
                    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                    head += b"Content-Length: %d\r\n\r\n" % len(body)
                    try:
                        if owner.mode == "drip":
                            self.wfile.write(head)
                            self.wfile.flush()
                            drip(self.wfile, body)
                        else:
                            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
                            drip(self.wfile, b"X-Padding: " + b"x" * 60000 + b"\r\n" + head[17:] + body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if owner.mode == "slow":
                    time.sleep(owner.delay)
                if owner.mode == "error":
                    body, status = b'{"error":"boom"}', 500
                elif owner.mode == "garbage":
                    body, status = b"<html>not a key set</html>", 200
                elif owner.mode == "huge":
                    body, status = b'{"keys":[' + b" " * (2 << 20) + b"]}", 200
                elif owner.mode == "raw":
                    body, status = owner.body, 200
                elif owner.mode == "redirect":
                    body, status = b"", 302
                else:
                    body, status = json.dumps(owner.doc).encode(), 200
                try:
                    self.send_response(status)
                    if status == 302:
                        self.send_header("Location", owner.location)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/discovery/keys"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


class DocServer:
    """A local HTTP server of documents by path, like Entra's OpenID
    configurations and key sets: `docs[path]` is JSON-able (or bytes), any
    other path answers 404; `hits[path]` counts the GETs; each answer waits
    `delay` seconds first."""

    def __init__(self) -> None:
        self.docs: Dict[str, Any] = {}
        self.hits: Dict[str, int] = {}
        self.delay = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                time.sleep(owner.delay)
                doc = owner.docs.get(self.path)
                if doc is None:
                    body, status = b'{"error":"not found"}', 404
                else:
                    body, status = (doc if isinstance(doc, bytes) else json.dumps(doc).encode()), 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def doc_server() -> Iterator[DocServer]:
    s = DocServer()
    yield s
    s.stop()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    s = JwksServer()
    yield s
    try:
        s.stop()
    except OSError:
        pass


# --- the conformance-vector summary line --------------------------------------

VECTOR_RESULTS: List[bool] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if VECTOR_RESULTS:
        passed = sum(VECTOR_RESULTS)
        failed = len(VECTOR_RESULTS) - passed
        terminalreporter.write_line(f"{passed} passed, {failed} failed")


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


Minter = Callable[..., str]


# --- real servers on 127.0.0.1 -------------------------------------------------

import contextlib  # noqa: E402


@contextlib.contextmanager
def uvicorn_server(app: Any, **options: Any) -> Iterator[str]:
    """Serves an ASGI app with uvicorn in a thread; yields its base URL.
    `options` go to uvicorn.Config (e.g. root_path="/api")."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert t.is_alive(), "uvicorn died"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(5)


@contextlib.contextmanager
def wsgi_server(app: Any, kind: str = "waitress", **options: Any) -> Iterator[str]:
    """Serves a WSGI app with waitress or wsgiref in a thread; yields its base
    URL. `options` go to waitress (e.g. url_prefix="/api")."""
    if kind == "waitress":
        import waitress

        srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, **options)
        port = srv.effective_port  # type: ignore[union-attr]
        t = threading.Thread(target=srv.run, daemon=True)
        t.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            # Close every channel on the server's own thread; its loop then ends.
            def close_all() -> None:
                for ch in list(srv._map.values()):  # type: ignore[union-attr]
                    ch.close()

            srv.trigger.pull_trigger(close_all)  # type: ignore[union-attr]
            t.join(5)
            srv.task_dispatcher.shutdown()  # type: ignore[union-attr]
        return
    assert not options, f"wsgiref takes no options, got {options}"
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    ref = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    t = threading.Thread(target=ref.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{ref.server_port}"
    finally:
        ref.shutdown()
        ref.server_close()
