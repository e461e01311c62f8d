"""Dot segments sent raw (curl --path-as-is, hand-made requests): Starlette,
FastAPI and Flask route on the literal path (/commerce/../public reaches the
/commerce/{rest} handler), so the gate must not decide for a resolved path
(/public, no MFA). The core refuses such paths (request_invalid, 400)."""

from __future__ import annotations

import socket

import mfagate
from conftest import JWKS, id_token_claims, mint, uvicorn_server, wsgi_server
from test_asgi import POLICY, fastapi_app
from test_wsgi import flask_app


def raw_get(base: str, path: str, cookie: str) -> str:
    host, port = base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: id_token={cookie}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode("latin-1").split("\r\n", 1)[0]


def test_fastapi_page_behind_dot_segments_needs_mfa() -> None:
    gate = mfagate.Gate(POLICY, JWKS)
    pwd = mint(id_token_claims(amr=["pwd"]))
    with uvicorn_server(fastapi_app(gate)) as url:
        status = raw_get(url, "/commerce/../public", pwd)
    assert status.startswith("HTTP/1.1 400"), status


def test_flask_page_behind_dot_segments_needs_mfa() -> None:
    gate = mfagate.Gate(POLICY, JWKS)
    pwd = mint(id_token_claims(amr=["pwd"]))
    with wsgi_server(flask_app(gate), "waitress") as url:
        status = raw_get(url, "/commerce/x/../../public", pwd)
    assert status.startswith("HTTP/1.1 400"), status
