"""Shared helpers of the middlewares (no rules: the core decides)."""

from __future__ import annotations

import re
from urllib.parse import quote

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


def response_headers(headers: "tuple[tuple[str, str], ...]", body: bytes) -> "list[tuple[str, str]]":
    """The decision's headers, plus the entity headers of its JSON body."""
    out = list(headers)
    if body:
        out.append(("Content-Type", "application/json; charset=utf-8"))
    out.append(("Content-Length", str(len(body))))
    return out
