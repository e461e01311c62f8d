"""Flask/Werkzeug echo application: the policy's routes as Werkzeug rules,
host matching for the host-scoped route, a catch-all. Answers {route, host,
hh, method, path} in the body and the x-echo header (HEAD has no body); hh
is the Host header as the application reads it (what a middleware passes)."""

import json
import sys

from flask import Flask, request, Response

ADMIN = "admin.contoso.example"
ALL = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

app = Flask(__name__, host_matching=True, static_host="static.invalid", static_folder=None)


def echo(route):
    def view(**_kw):
        body = json.dumps({"route": route, "host": request.host, "hh": request.environ.get("HTTP_HOST"), "method": request.environ.get("REQUEST_METHOD"),
                           "path": request.environ.get("PATH_INFO", ""),
                           "target": "".join(c if ord(c) < 0x80 else "%%%02X" % ord(c)
                                             for c in request.environ.get("REQUEST_URI", ""))}, ensure_ascii=True)
        return Response(body, content_type="application/json", headers={"x-echo": body})
    view.__name__ = "v_" + route
    return view


n = 0


def add(rule, route, host="<anyhost>", methods=None):
    global n
    n += 1
    app.add_url_rule(rule, endpoint=f"e{n}", view_func=echo(route), host=host, methods=methods)


def prefix(path, route, host="<anyhost>", methods=None):
    add(path, route, host, methods)
    add(path + "/<path:rest>", route, host, methods)


for h in ("<anyhost>", ADMIN):
    prefix("/commerce", "customers", h)
    add("/dashboard/support/csp/customers/<id>", "csp_customers", h)
    prefix("/dashboard/billing", "billing", h)
    prefix("/reports", "reports", h, methods=["GET", "DELETE"])
    prefix("/v1", "api", h)
    add("/healthz", "health", h)
    add("/", "default", h, methods=ALL)
    add("/<path:rest>", "default", h, methods=ALL)
prefix("/settings", "admin_settings", ADMIN)

if __name__ == "__main__":
    from werkzeug.serving import run_simple
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
