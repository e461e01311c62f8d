"""Target 1 of the chaos run: a Starlette app behind mfagate's ASGI
middleware, with a JwksCache on the flapping endpoint, under real uvicorn.

    python py_app.py PORT JWKS_URL TTL MIN_REFRESH TIMEOUT MAX_BYTES

GET /v1/customers is the gated route (Partner Center API rules). The
allowed answer says what the gate knew (its key set's version and kids).
GET /_chaos/state is answered before the middleware, without touching the
gate's refresh: the cache's counters, for the harness's log.
"""

from __future__ import annotations

import json
import logging
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import mfagate
from mfagate.asgi import MfagateMiddleware

port, url = int(sys.argv[1]), sys.argv[2]
ttl, min_refresh, timeout, max_bytes = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])

warnings = {"n": 0}


class Count(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        warnings["n"] += 1


logging.getLogger("mfagate").addHandler(Count())
logging.basicConfig(level=logging.WARNING)

cache = mfagate.JwksCache(url, ttl=ttl, min_refresh_interval=min_refresh, timeout=timeout, max_bytes=max_bytes)
gate = mfagate.Gate("partner-center", cache)


def known() -> dict:
    keys = cache.keys
    return {"version": cache.version, "fetches": cache.fetches,
            "kids": sorted(k for k in keys.kids if k) if keys is not None else None}


async def customers(request: Request) -> JSONResponse:
    d = mfagate.asgi.decision_of(request.scope)
    return JSONResponse({"handler": True, "reason": d.reason, **known()})


inner = Starlette(routes=[Route("/v1/customers", customers)])
guarded = MfagateMiddleware(inner, gate=gate)


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "http" and scope["path"] == "/_chaos/state":
        body = json.dumps({**known(), "warnings": warnings["n"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    await guarded(scope, receive, send)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
