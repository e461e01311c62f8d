"""Starlette echo application (run by uvicorn): the policy's routes in
Starlette's syntax, a Host router for the host-scoped route, a catch-all.
Answers {route, host, hh, method, path} (hh: the Host header as the
application reads it) in the body and the x-echo header (HEAD
has no body)."""

import json

from starlette.routing import Host, Route, Router

ADMIN = "admin.contoso.example"


class Echo:
    """An ASGI endpoint (not a function, so Starlette sets no default methods)."""

    def __init__(self, route):
        self.route = route

    async def __call__(self, scope, receive, send):
        host = None
        for k, v in scope.get("headers", []):
            if k == b"host":
                host = v.decode("latin-1")
                break
        # Bytes beyond ASCII percent-encoded (the core decodes escapes once).
        target = "".join(chr(b) if b < 0x80 else "%%%02X" % b for b in scope.get("raw_path", b""))
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        body = json.dumps(
            {"route": self.route, "host": host, "hh": host, "method": scope["method"], "path": scope["path"],
             "target": target},
            ensure_ascii=True,
        ).encode()
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"x-echo", body),
                        (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})


def prefix(path, route, methods=None):
    """A policy `path/**`: the path itself and everything under it."""
    return [Route(path, Echo(route), methods=methods),
            Route(path + "/{rest:path}", Echo(route), methods=methods)]


COMMON = (
    prefix("/commerce", "customers")
    + [Route("/dashboard/support/csp/customers/{id}", Echo("csp_customers"))]
    + prefix("/dashboard/billing", "billing")
    + prefix("/reports", "reports", methods=["GET", "DELETE"])
    + prefix("/v1", "api")
    + [Route("/healthz", Echo("health"))]
)
CATCH_ALL = [Route("/{rest:path}", Echo("default"))]

admin = Router(routes=prefix("/settings", "admin_settings") + COMMON + CATCH_ALL)
app = Router(routes=[Host(ADMIN, app=admin)] + COMMON + CATCH_ALL)
