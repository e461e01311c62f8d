"""Shared helpers of the middlewares (no rules: the core decides)."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote, unquote
from ._mfagate import validate_mfa_header

# Characters a request path may carry as they are (RFC 3986 pchar without '%').
_PLAIN = re.compile(r"[A-Za-z0-9/._~!$&'()*+,;=:@-]*")
_SAFE = "/._~!$&'()*+,;=:@-"


def raw_path(decoded: str) -> str:
    """The percent-encoded form of a decoded path.

    The core decodes percent-escapes once; the frameworks route on the decoded
    path. Encoding it back makes the core see exactly the path the app routes
    on (a literal '%' stays a '%', it is not decoded a second time).
    """
    if _PLAIN.fullmatch(decoded):
        return decoded
    return quote(decoded, safe=_SAFE)


def raw_path_bytes(raw: bytes) -> str:
    """The percent-encoded form of a path given as bytes (WSGI)."""
    return quote(raw, safe=_SAFE)


def route_path(path: str, root_path: str) -> str:
    """The path Starlette and FastAPI route on: ``path`` without
    ``root_path``, exactly as ``starlette._utils.get_route_path`` does (a
    ``path`` outside ``root_path`` is kept whole; the mount point itself is
    "")."""
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path


_HEX = frozenset(b"0123456789abcdefABCDEF")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _strip_spelled(raw: bytes, prefix: str) -> Optional[bytes]:
    """``raw`` (a path as sent) without its leading spelling of ``prefix`` (a
    decoded path), escapes included; None when ``raw`` does not start with it."""
    i = 0
    for want in prefix.encode("utf-8"):
        if raw[i : i + 1] == b"%" and i + 2 < len(raw) and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            got, i = int(raw[i + 1 : i + 3], 16), i + 3
        elif i < len(raw):
            got, i = raw[i], i + 1
        else:
            return None
        if got != want:
            return None
    return raw[i:]


def asgi_route_path(path: str, root_path: str, raw: object) -> str:
    """The path an ASGI app routes on, as the core should see it.

    The route path (``path`` without ``root_path``) in the spelling the
    client sent (``raw``, the scope's ``raw_path``), so that the core sees the
    escapes it decodes once, as the server did, and every runtime decides the
    same request the same way; characters that have no place in a URI path
    (a backslash, a stray '%') are percent-encoded. When ``raw`` is missing
    or is not the spelling of ``path`` (something rewrote the path), the
    percent-encoded form of the decoded route path instead.
    """
    route = route_path(path, root_path)
    if isinstance(raw, (bytes, bytearray)):
        tail = _strip_spelled(bytes(raw), path[: len(path) - len(route)])
        if tail is not None and tail.isascii():
            text = tail.decode("ascii")
            if unquote(text) == route:
                return quote(_STRAY_PERCENT.sub("%25", text), safe=_SAFE + "%") or "/"
    return raw_path(route) or "/"


def validate_mfa(value: Optional[str]) -> Optional[bool]:
    """The request's ``ValidateMfa`` header for the gate, read by the core:
    ``true``, in any case, asks for ``isMfaCompliant``."""
    return validate_mfa_header(value)


def response_headers(headers: "tuple[tuple[str, str], ...]", body: bytes) -> "list[tuple[str, str]]":
    """The core's headers of a refusal (``http.response_headers``: the
    challenge, Content-Type, Cache-Control), and the length of the body as
    this server encodes it."""
    out = list(headers)
    out.append(("Content-Length", str(len(body))))
    return out
